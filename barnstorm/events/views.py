"""The supporter's side of events: find one near you, RSVP, get a ticket, change or cancel.

An attendee is recognised on this device by a signed cookie set when they RSVP (or open
their manage link): it names their RSVP, so a private home's street is shown to them only.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from barnstorm.events import ics, links, selectors, services
from barnstorm.events.forms import EventSearchForm, RsvpChoicesForm, RsvpForm
from barnstorm.events.models import Event, EventStatus, Rsvp, RsvpStatus
from barnstorm.field.selectors_volunteer import phone_banks_for_event
from barnstorm.lib.ratelimit import client_ip, rate_limit_exceeded
from barnstorm.people.forms import add_service_errors
from barnstorm.people.models import LocalGroup

COOKIE_SALT = "barnstorm.events.rsvp-cookie"
COOKIE_MAX_AGE = 366 * 24 * 3600


# --- Search ------------------------------------------------------------------------------------


@require_GET
def event_search(request):
    """The map and list of events near a ZIP code or the browser's location; `format=json` to embed."""
    form = EventSearchForm(request.GET)
    criteria, events = None, []
    if form.is_valid():
        criteria = form.criteria()
        events = selectors.events_search(
            place=criteria.place,
            miles=criteria.miles,
            kinds=criteria.kinds,
            virtual=criteria.virtual,
            date_from=criteria.date_from,
            date_to=criteria.date_to,
        )
    if request.GET.get("format") == "json":
        return _search_json(form, events)
    markers = [
        {
            "id": event.pk,
            "title": event.title,
            "url": reverse("events:detail", args=[event.pk]),
            "when": _local(event, event.starts_at, "D, M j, g:i A T"),
            "lat": event.latitude,
            "lng": event.longitude,
        }
        for event in events
        if event.latitude is not None
    ]
    place = criteria.place if criteria else None
    return render(
        request,
        "events/search.html",
        {
            "form": form,
            "events": events,
            "place": place,
            "miles": criteria.miles if criteria else None,
            "searched": place is not None,
            "markers": markers,
            "map_center": {"lat": place.latitude, "lng": place.longitude} if place else None,
            "tile_url": settings.MAP_TILE_URL,
            "host_url": reverse("events:host"),
        },
    )


def _search_json(form: EventSearchForm, events: list[Event]) -> JsonResponse:
    if form.errors:
        errors = {field: [str(m) for m in messages_] for field, messages_ in form.errors.items()}
        response = JsonResponse({"error": next(iter(errors.values()))[0], "errors": errors}, status=400)
    else:
        response = JsonResponse([_event_json(event) for event in events], safe=False)
    # Other sites embed the search (a map of the campaign's events on a partner's page).
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _event_json(event: Event) -> dict:
    distance = getattr(event, "distance_miles", None)
    return {
        "id": event.pk,
        "title": event.title,
        "type": event.kind,
        "virtual": event.is_virtual,
        "start": event.starts_at.astimezone(ZoneInfo(event.timezone)).isoformat(),
        "latitude": event.latitude,
        "longitude": event.longitude,
        "distance_miles": round(distance, 1) if distance is not None else None,
        "url": settings.SITE_URL + reverse("events:detail", args=[event.pk]),
    }


def _local(event: Event, moment, fmt: str) -> str:
    return date_format(moment.astimezone(ZoneInfo(event.timezone)), fmt)


# --- The event page and the RSVP ---------------------------------------------------------------


def _public_event(event_id: int) -> Event:
    return get_object_or_404(
        Event.objects.select_related("host"), pk=event_id, status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED]
    )


def _cookie_name(event_id: int) -> str:
    return f"rsvp{event_id}"


def _remember(response, rsvp: Rsvp) -> None:
    """This device belongs to someone who RSVPed: they may see the private details."""
    response.set_signed_cookie(
        _cookie_name(rsvp.event_id),
        str(rsvp.pk),
        salt=COOKIE_SALT,
        max_age=COOKIE_MAX_AGE,
        path="/events/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _visitor_rsvp(request, event: Event) -> Rsvp | None:
    """The RSVP this device made for `event`, unless it was cancelled."""
    value = request.get_signed_cookie(_cookie_name(event.pk), default="", salt=COOKIE_SALT)
    if not value.isdigit():
        return None
    return (
        Rsvp.objects.select_related("shift", "person")
        .filter(pk=int(value), event=event)
        .exclude(status=RsvpStatus.CANCELLED)
        .first()
    )


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        add_service_errors(form, error)
    else:
        form.add_error(None, error.messages)


def _taking_rsvps(event: Event) -> bool:
    return event.status == EventStatus.PUBLISHED and event.ends_at > timezone.now()


@require_http_methods(["GET", "POST"])
def event_detail(request, event_id: int):
    event = _public_event(event_id)
    zone = ZoneInfo(event.timezone)
    shifts = selectors.shifts_with_seats_left(event)
    my_rsvp = _visitor_rsvp(request, event)
    form = RsvpForm(request.POST or None, shifts=shifts, zone=zone)
    status = 200
    if request.method == "POST" and _taking_rsvps(event):
        if rate_limit_exceeded(
            scope="rsvp", key=client_ip(request), limit=settings.SIGNUP_RATE_LIMIT, window_seconds=3600
        ):
            form.add_error(None, _("Too many RSVPs from your network. Please try again in an hour."))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            if data["website"]:
                # A bot: it is shown the way out and nothing is stored.
                return redirect("events:thanks", event_id=event.pk)
            try:
                result = services.rsvp_create(
                    event=event,
                    data=form.to_input(source="event RSVP"),
                    guests=data["guests"],
                    shift_id=data.get("shift"),
                    refcode=request.GET.get("refcode", "")[:100],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                response = redirect("events:thanks", event_id=event.pk)
                _remember(response, result.rsvp)
                return response
        if form.errors and status == 200:
            status = 400
    seats_left = selectors.seats_left(event)
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "zone": zone,
            "form": form,
            "shifts": shifts,
            "seats_left": seats_left,
            "is_full": seats_left == 0,
            "taking_rsvps": _taking_rsvps(event),
            "my_rsvp": my_rsvp,
            "show_street": bool(event.street) and (not event.is_private_home or my_rsvp is not None),
            "manage_url": reverse("events:rsvp_manage", args=[links.rsvp_manage_token(my_rsvp.pk)]) if my_rsvp else "",
            # A virtual phone bank party: the phone banks its attendees call from (one query).
            "phonebanks": phone_banks_for_event(event),
        },
        status=status,
    )


def _ticket_svg(rsvp: Rsvp) -> str:
    """The check-in QR code: it holds the ticket itself, which the host's scanner looks up."""
    qr = segno.make(rsvp.ticket, micro=False)
    return qr.svg_inline(border=2, dark="#1d2330", light="#ffffff", omitsize=True, svgclass="qr", title=_("Ticket"))


@require_GET
def rsvp_thanks(request, event_id: int):
    event = _public_event(event_id)
    rsvp = _visitor_rsvp(request, event)
    if rsvp is None:
        return redirect("events:detail", event_id=event.pk)
    return render(
        request,
        "events/rsvp_thanks.html",
        {
            "event": event,
            "rsvp": rsvp,
            "person": rsvp.person,
            "ticket_svg": _ticket_svg(rsvp),
            "manage_url": reverse("events:rsvp_manage", args=[links.rsvp_manage_token(rsvp.pk)]),
            "host_url": reverse("events:host"),
            "show_street": bool(event.street),
        },
    )


@require_GET
def event_ics(request, event_id: int):
    """One event for a calendar: a private home's street only for someone who RSVPed."""
    event = _public_event(event_id)
    full_address = not event.is_private_home or _visitor_rsvp(request, event) is not None
    response = HttpResponse(
        ics.calendar([event], full_address=full_address), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.ics"'
    return response


@require_GET
def group_events_ics(request, slug: str):
    """A local group's upcoming events as a feed people subscribe to in their calendar."""
    group = get_object_or_404(LocalGroup, slug=slug)
    events = selectors.upcoming_public().filter(group=group).order_by("starts_at", "id")
    response = HttpResponse(ics.calendar(events, name=group.name), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{group.slug}-events.ics"'
    return response


# --- The attendee's own link: change or cancel -------------------------------------------------


@require_http_methods(["GET", "POST"])
def rsvp_manage(request, token: str):
    rsvp_id = links.rsvp_manage_id(token)
    if rsvp_id is None:
        raise Http404
    rsvp = get_object_or_404(Rsvp.objects.select_related("event", "event__host", "person", "shift"), pk=rsvp_id)
    event = rsvp.event
    zone = ZoneInfo(event.timezone)
    shifts = selectors.shifts_with_seats_left(event)
    form = RsvpChoicesForm(
        request.POST or None, shifts=shifts, zone=zone, initial={"guests": rsvp.guests, "shift": rsvp.shift_id}
    )
    if request.method == "POST" and _taking_rsvps(event):
        if "cancel" in request.POST:
            services.rsvp_cancel(rsvp=rsvp)
            messages.success(request, _("Your RSVP is cancelled. Thanks for letting the host know."))
            return redirect("events:rsvp_manage", token=token)
        if form.is_valid():
            try:
                changed = services.rsvp_change(
                    rsvp=rsvp, guests=form.cleaned_data["guests"], shift_id=form.cleaned_data.get("shift")
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                if changed.status == RsvpStatus.GOING:
                    messages.success(request, _("Saved. You're going."))
                else:
                    messages.warning(request, _("Saved. The event is still full, so you're on the waitlist."))
                return redirect("events:rsvp_manage", token=token)
    is_active = rsvp.status != RsvpStatus.CANCELLED
    response = render(
        request,
        "events/rsvp_manage.html",
        {
            "event": event,
            "rsvp": rsvp,
            "form": form,
            "shifts": shifts,
            "is_active": is_active,
            "taking_rsvps": _taking_rsvps(event),
            "ticket_svg": _ticket_svg(rsvp) if is_active else "",
            "show_street": bool(event.street) and is_active,
        },
        status=400 if form.errors else 200,
    )
    if is_active:
        _remember(response, rsvp)
    return response
