"""The host's side of events: host one, run it (attendees, message, edit, cancel), check people
in on a phone, and the barnstorm flow where attendees propose events of their own.

Who may do what is decided in permissions.py; writes go through the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from barnstorm.events import links, selectors_host, services, services_host
from barnstorm.events.forms_host import (
    EventEditForm,
    HostEventForm,
    MessageForm,
    SpawnEventForm,
    WalkInForm,
    add_service_errors,
)
from barnstorm.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus
from barnstorm.events.permissions import (
    attendees_visible_to,
    event_manager_required,
    events_manageable_by,
    sign_in_redirect,
    supporter_required,
)
from barnstorm.people.models import Person
from barnstorm.people.normalize import email_key
from barnstorm.people.permissions import groups_visible_to
from barnstorm.people.services import PersonInput, person_upsert

ATTENDEES_PER_PAGE = 50


def _page_number(request) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


def _host_person(request, form) -> Person | None:
    """Who hosts: the signed-in supporter, or (organizers) the person whose email they gave."""
    email = form.cleaned_data.get("host_email", "")
    if email:
        found = Person.objects.filter(emails__address=email_key(email)).first()
        return found or person_upsert(data=PersonInput(email=email, source="event host"), actor=request.user).person
    if request.user.person_id is None:
        form.add_error(
            "host_email" if "host_email" in form.fields else None,
            _("Your account isn't linked to a supporter record: say who hosts."),
        )
        return None
    return request.user.person


@supporter_required
@require_http_methods(["GET", "POST"])
def host_event(request):
    staff = request.user.is_organizer
    form = HostEventForm(request.POST or None, groups=groups_visible_to(request.user), staff=staff)
    if request.method == "POST" and form.is_valid():
        host = _host_person(request, form)
        if host is not None:
            try:
                event = services.event_create(data=form.to_input(), host=host, actor=request.user)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if event.status == EventStatus.PUBLISHED:
                    messages.success(request, _("Your event is published."))
                else:
                    messages.success(request, _("Thank you! An organizer will review your event shortly."))
                return redirect("events:manage", event_id=event.pk)
    status = 400 if form.errors else 200
    return render(request, "events/host/host_event.html", {"form": form}, status=status)


@supporter_required
def my_events(request):
    """The events a supporter hosts or leads (for organizers: the ones they host or created)."""
    events = events_manageable_by(request.user)
    if request.user.is_organizer:
        hosted = Q(host_id=request.user.person_id) if request.user.person_id else Q()
        events = events.filter(Q(created_by=request.user) | hosted)
    number = _page_number(request)
    rows, has_next = selectors_host.page_of(
        events.select_related("group").order_by("-starts_at", "-id"), number, ATTENDEES_PER_PAGE
    )
    return render(request, "events/host/my_events.html", {"events": rows, "has_next": has_next, "page_number": number})


@event_manager_required
def manage(request, event):
    status = request.GET.get("status", "")
    rsvps = attendees_visible_to(request.user, event)
    if status in RsvpStatus.values:
        rsvps = rsvps.filter(status=status)
    number = _page_number(request)
    ordered = selectors_host.attendee_rows(rsvps).order_by("person__family_name", "person__given_name", "id")
    attendees, has_next = selectors_host.page_of(ordered, number, ATTENDEES_PER_PAGE)
    context = {
        "event": event,
        "stats": selectors_host.event_stats(event),
        "attendees": attendees,
        "has_next": has_next,
        "page_number": number,
        "status": status,
        "statuses": RsvpStatus.choices,
        "spawn_url": request.build_absolute_uri(reverse("events:spawn", args=[event.pk]))
        if event.kind == EventKind.BARNSTORM
        else "",
    }
    return render(request, "events/host/manage.html", context)


@event_manager_required
@require_http_methods(["GET", "POST"])
def edit(request, event):
    form = EventEditForm(request.POST or None, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            services_host.event_update(event=event, changes=form.to_changes(), actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("events:manage", event_id=event.pk)
    status = 400 if form.errors else 200
    return render(request, "events/host/edit.html", {"event": event, "form": form}, status=status)


@event_manager_required
@require_POST
def cancel(request, event):
    services.event_cancel(event=event, actor=request.user)
    messages.success(request, _("The event is cancelled. Everyone who RSVPed is being told."))
    return redirect("events:manage", event_id=event.pk)


@event_manager_required
@require_http_methods(["GET", "POST"])
def message(request, event):
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            count = services_host.event_message_send(
                event=event, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"], actor=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your message is on its way to %(n)d attendees.") % {"n": count})
            return redirect("events:manage", event_id=event.pk)
    context = {"event": event, "form": form, "per_day": services_host.MESSAGES_PER_DAY}
    return render(request, "events/host/message.html", context, status=400 if form.errors else 200)


# --- Check-in -------------------------------------------------------------------------------


def _rsvp_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


@event_manager_required
@require_http_methods(["GET", "POST"])
def checkin(request, event):
    """The door: scan or type a ticket, or tap a name. Answers with one result (htmx) or the page."""
    result = None
    if request.method == "POST":
        ticket = request.POST.get("ticket", "").strip()
        rsvp_id = _rsvp_id(request.POST.get("rsvp", ""))
        found = services_host.event_check_in(event=event, ticket=ticket, rsvp_id=rsvp_id, actor=request.user)
        result = {"check_in": found, "ticket": ticket, "outcome": _outcome(found)}
    context = {"event": event, "result": result, "walk_in_form": WalkInForm()}
    if request.headers.get("HX-Request") and result is not None:
        response = render(request, "events/host/_checkin_result.html", context)
    else:
        context["stats"] = selectors_host.event_stats(event)
        response = render(request, "events/host/checkin.html", context)
    if result is not None:
        # Scanners and the benchmark read the outcome without parsing the page.
        response["X-Check-In"] = result["outcome"]
    return response


def _outcome(found) -> str:
    if found is None:
        return "unknown"
    if found.newly:
        return "new"
    if found.rsvp.checked_in_at is not None:
        return "already"
    return "cancelled"


@event_manager_required
def checkin_search(request, event):
    query = request.GET.get("q", "").strip()
    matches = selectors_host.attendee_search(attendees_visible_to(request.user, event), query) if query else []
    return render(request, "events/host/_checkin_search.html", {"event": event, "matches": matches, "query": query})


@event_manager_required
@require_POST
def walk_in(request, event):
    form = WalkInForm(request.POST)
    result = None
    if form.is_valid():
        try:
            found = services.walk_in_add(event=event, data=form.to_input(), actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            result = {"check_in": found, "outcome": "new" if found.newly else "already", "walk_in": True}
            form = WalkInForm()
    context = {"event": event, "result": result, "walk_in_form": form}
    if request.headers.get("HX-Request"):
        # htmx swaps only successful responses: the form comes back with its errors in a 200.
        return render(request, "events/host/_walk_in.html", context)
    context["stats"] = selectors_host.event_stats(event)
    return render(request, "events/host/checkin.html", context, status=200 if result else 400)


# --- The barnstorm flow --------------------------------------------------------------------------


def _spawning_attendee(request, meeting: Event, token: str) -> Person | None:
    """The attendee proposing: identified by their RSVP link's token, or by their sign-in."""
    rsvps = Rsvp.objects.filter(event=meeting).exclude(status=RsvpStatus.CANCELLED).select_related("person")
    if token:
        rsvp_id = links.rsvp_manage_id(token)
        rsvp = rsvps.filter(pk=rsvp_id).first() if rsvp_id else None
        if rsvp is not None:
            return rsvp.person
    if request.user.is_authenticated and request.user.person_id:
        rsvp = rsvps.filter(person_id=request.user.person_id).first()
        if rsvp is not None:
            return rsvp.person
    return None


@require_http_methods(["GET", "POST"])
def spawn(request, event_id):
    meeting = get_object_or_404(Event, pk=event_id, kind=EventKind.BARNSTORM)
    if meeting.status != EventStatus.PUBLISHED:
        raise Http404
    token = request.POST.get("t") or request.GET.get("t", "")
    person = _spawning_attendee(request, meeting, token)
    if person is None:
        if not request.user.is_authenticated:
            return sign_in_redirect(request)
        raise PermissionDenied
    form = SpawnEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = services_host.event_spawn(
                meeting=meeting,
                data=form.to_input(),
                host=person,
                actor=request.user if request.user.is_authenticated else None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(request, "events/host/spawn_done.html", {"meeting": meeting, "event": event})
    context = {"meeting": meeting, "form": form, "token": token, "person": person}
    return render(request, "events/host/spawn.html", context, status=400 if form.errors else 200)
