"""Organizer pages for events: every event on a table and a map, the moderation queue, per-event
and per-campaign stats, and event campaigns."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from barnstorm.events import selectors_host, services, services_host
from barnstorm.events.forms_host import CampaignForm, RejectForm, StaffFilterForm, add_service_errors
from barnstorm.events.models import Event, EventCampaign, EventStatus
from barnstorm.events.permissions import moderator_required

PAGE_SIZE = 50


def _page_number(request) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


def _with_stats(events: list[Event]) -> list[Event]:
    stats = selectors_host.events_stats([e.pk for e in events])
    for event in events:
        event.stats = stats[event.pk]
    return events


@moderator_required
def event_list(request):
    filters = StaffFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    campaign = data.get("campaign")
    events = selectors_host.staff_events(
        status=data.get("status", ""),
        kind=data.get("kind", ""),
        campaign_id=campaign.pk if campaign else None,
        when=data.get("when", ""),
        query=data.get("q", ""),
    )
    number = _page_number(request)
    rows, has_next = selectors_host.page_of(events, number, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    # The map needs Leaflet's static files, from the package the supporter map installs.
    leaflet = apps.is_installed("js_lib_leaflet")
    context = {
        "filters": filters,
        "events": _with_stats(rows),
        "has_next": has_next,
        "page_number": number,
        "query_string": query.urlencode(),
        "leaflet": leaflet,
        "points": selectors_host.map_points(events) if leaflet else [],
    }
    return render(request, "events/staff/event_list.html", context)


@moderator_required
def moderation(request):
    number = _page_number(request)
    rows, has_next = selectors_host.page_of(selectors_host.moderation_queue(), number, PAGE_SIZE)
    context = {"events": rows, "has_next": has_next, "page_number": number, "reject_form": RejectForm()}
    return render(request, "events/staff/moderation.html", context)


@moderator_required
def event_detail(request, event_id):
    event = get_object_or_404(
        Event.objects.select_related("host", "campaign", "group", "spawned_from", "created_by"), pk=event_id
    )
    spawned = list(event.spawned_events.select_related("host").order_by("starts_at", "id")[:200])
    context = {
        "event": event,
        "stats": selectors_host.event_stats(event),
        "shifts": selectors_host.shifts_with_seats(event),
        "spawned": spawned,
        "reject_form": RejectForm(),
    }
    return render(request, "events/staff/event_detail.html", context)


def _back(request, default: str):
    target = request.POST.get("back", "")
    return redirect(target if target.startswith("/events/staff/") else default)


@moderator_required
@require_POST
def approve(request, event_id):
    event = get_object_or_404(Event, pk=event_id)
    event = services.event_approve(event=event, actor=request.user)
    if event.status == EventStatus.PUBLISHED:
        messages.success(request, _("Approved: %(title)s is published.") % {"title": event.title})
    return _back(request, "events:moderation")


@moderator_required
@require_POST
def reject(request, event_id):
    event = get_object_or_404(Event, pk=event_id)
    try:
        # The service says what a reason must be; the form only draws the box.
        services.event_reject(event=event, reason=request.POST.get("reason", ""), actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Rejected: %(title)s. The host sees your reason.") % {"title": event.title})
    return _back(request, "events:moderation")


# --- Event campaigns ----------------------------------------------------------------------------


@moderator_required
def campaign_list(request):
    campaigns = list(EventCampaign.objects.order_by("name"))
    stats = selectors_host.campaigns_stats([c.pk for c in campaigns])
    for campaign in campaigns:
        campaign.stats = stats[campaign.pk]
    return render(request, "events/staff/campaign_list.html", {"campaigns": campaigns})


@moderator_required
def campaign_detail(request, campaign_id):
    campaign = get_object_or_404(EventCampaign, pk=campaign_id)
    stats = selectors_host.campaigns_stats([campaign.pk])[campaign.pk]
    return render(request, "events/staff/campaign_detail.html", {"campaign": campaign, "stats": stats})


@moderator_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, campaign_id=None):
    campaign = get_object_or_404(EventCampaign, pk=campaign_id) if campaign_id else None
    initial = {"name": campaign.name, "slug": campaign.slug, "description": campaign.description} if campaign else {}
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if campaign is None:
                campaign = services_host.campaign_create(data=form.to_input(), actor=request.user)
            else:
                services_host.campaign_update(campaign=campaign, data=form.to_input(), actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("events:campaign_detail", campaign_id=campaign.pk)
    context = {"campaign": campaign, "form": form}
    return render(request, "events/staff/campaign_form.html", context, status=400 if form.errors else 200)


@moderator_required
@require_POST
def campaign_delete(request, campaign_id):
    campaign = get_object_or_404(EventCampaign, pk=campaign_id)
    services_host.campaign_delete(campaign=campaign, actor=request.user)
    messages.success(request, _("Deleted. Its events are still there, without the campaign."))
    return redirect("events:campaigns")
