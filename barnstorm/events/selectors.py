"""Reads for events: search near a place, what a page shows, who may see attendees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from barnstorm.events import geo
from barnstorm.events.models import Event, EventStatus, Rsvp, RsvpStatus, Shift
from barnstorm.people.normalize import zip_info


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    label: str = ""


def place_for_zip(zip_code: str) -> Place | None:
    info = zip_info((zip_code or "").strip())
    if info is None:
        return None
    return Place(info.latitude, info.longitude, f"{info.city}, {info.state} {info.zip_code}")


def upcoming_public(*, now: datetime | None = None) -> QuerySet[Event]:
    return Event.objects.filter(status=EventStatus.PUBLISHED, starts_at__gte=now or timezone.now())


def events_search(
    *,
    place: Place | None,
    miles: float = 25,
    kinds: list[str] | None = None,
    virtual: bool | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    limit: int = 50,
    prefilter: bool = True,
) -> list[Event]:
    """Upcoming public events near `place`, nearest first, then soonest; virtual events after them.

    `virtual=True` asks for virtual events only; `kinds` filters by type. Each event carries
    `distance_miles` (None for virtual events).
    """
    events = upcoming_public(now=date_from)
    if date_to is not None:
        events = events.filter(starts_at__lt=date_to)
    if kinds:
        events = events.filter(kind__in=kinds)
    found: list[Event] = []
    if place is not None and virtual is not True:
        nearby = geo.within(
            events.filter(is_virtual=False),
            latitude=place.latitude,
            longitude=place.longitude,
            miles=miles,
            prefilter=prefilter,
        )
        found = list(nearby.order_by("distance_miles", "starts_at", "id")[:limit])
    if virtual is not False and len(found) < limit:
        online = events.filter(is_virtual=True).order_by("starts_at", "id")[: limit - len(found)]
        for event in online:
            event.distance_miles = None
            found.append(event)
    return found


def seats_taken(event: Event, *, shift_id: int | None = None) -> int:
    """Seats held by people going (each RSVP is the person plus their guests)."""
    rsvps = Rsvp.objects.filter(event=event, status=RsvpStatus.GOING)
    if shift_id is not None:
        rsvps = rsvps.filter(shift_id=shift_id)
    totals = rsvps.aggregate(guests=Sum("guests"), people=Count("id"))
    return (totals["guests"] or 0) + totals["people"]


def seats_left(event: Event) -> int | None:
    if event.capacity is None:
        return None
    return max(0, event.capacity - seats_taken(event))


def events_hosted_by(person_id: int) -> QuerySet[Event]:
    return Event.objects.filter(Q(host_id=person_id)).order_by("-starts_at")


def shifts_with_seats_left(event: Event) -> list[Shift]:
    """The event's shifts, each with `seats_left` (None: no limit), in one query."""
    going = Q(rsvps__status=RsvpStatus.GOING)
    shifts = list(
        Shift.objects.filter(event=event).annotate(
            going=Count("rsvps", filter=going), going_guests=Sum("rsvps__guests", filter=going)
        )
    )
    for shift in shifts:
        taken = shift.going + (shift.going_guests or 0)
        shift.seats_left = None if shift.capacity is None else max(0, shift.capacity - taken)
    return shifts
