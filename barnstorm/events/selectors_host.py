"""Reads for the host and organizer pages: attendee lists, check-in search, event and campaign stats.

Which RSVPs a user may see is decided in permissions.py; these functions take those querysets
and only shape them. Stats for a page of events are a fixed number of grouped queries, however
many events or RSVPs there are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from barnstorm.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus, Shift
from barnstorm.people.models import EmailAddress, PhoneNumber

# The person row is written a moment before the RSVP row, in the same request; a person
# created this shortly before their RSVP to an event came to us through it.
NEW_PERSON_GRACE = datetime.timedelta(minutes=10)


# --- Attendees --------------------------------------------------------------------------------


def attendee_rows(rsvps: QuerySet[Rsvp]) -> QuerySet[Rsvp]:
    """Only what a host needs about each attendee: name, one email, one phone, and the RSVP."""
    email = EmailAddress.objects.filter(person=OuterRef("person_id")).order_by("-is_primary", "id")
    phone = PhoneNumber.objects.filter(person=OuterRef("person_id")).order_by("-is_primary", "id")
    return (
        rsvps.select_related("person")
        .only(
            "id",
            "event_id",
            "person_id",
            "status",
            "guests",
            "walk_in",
            "checked_in_at",
            "created_at",
            "person__given_name",
            "person__family_name",
        )  # fmt: skip
        .annotate(email=Subquery(email.values("address")[:1]), phone=Subquery(phone.values("number")[:1]))
    )


def attendee_search(rsvps: QuerySet[Rsvp], query: str, limit: int = 20) -> list[Rsvp]:
    """Attendees whose name starts with what was typed ("ann", "lee", "ann l"), or by email."""
    words = query.split()
    if not words:
        return []
    if "@" in query:
        matches = rsvps.filter(person__emails__address=query.strip().lower())
    elif len(words) == 1:
        matches = rsvps.filter(
            Q(person__given_name__istartswith=words[0]) | Q(person__family_name__istartswith=words[0])
        )
    else:
        matches = rsvps.filter(
            person__given_name__istartswith=words[0], person__family_name__istartswith=" ".join(words[1:])
        )
    return list(attendee_rows(matches).order_by("person__family_name", "person__given_name", "id")[:limit])


# --- Stats --------------------------------------------------------------------------------------


@dataclass
class EventStats:
    going: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    guests: int = 0  # brought by people going
    checked_in: int = 0
    walk_ins: int = 0
    new_people: int = 0
    shifts: int = 0
    shifts_filled: int = 0
    shift_signups: int = 0
    spawned: int = 0  # events proposed at this barnstorm meeting
    spawned_published: int = 0

    @property
    def attendance_rate(self) -> float | None:
        """Checked in / going (None before anyone is going)."""
        return self.checked_in / self.going if self.going else None


def _rsvp_counts():
    live = ~Q(status=RsvpStatus.CANCELLED)
    return {
        "going": Count("id", filter=Q(status=RsvpStatus.GOING)),
        "waitlisted": Count("id", filter=Q(status=RsvpStatus.WAITLISTED)),
        "cancelled": Count("id", filter=Q(status=RsvpStatus.CANCELLED)),
        "guests": Sum("guests", filter=Q(status=RsvpStatus.GOING)),
        "checked_in": Count("id", filter=live & Q(checked_in_at__isnull=False)),
        "walk_ins": Count("id", filter=Q(walk_in=True)),
        "new_people": Count("id", filter=Q(person__created_at__gte=F("created_at") - NEW_PERSON_GRACE)),
    }


def _fill(stats: EventStats, row: dict) -> None:
    for name in ("going", "waitlisted", "cancelled", "guests", "checked_in", "walk_ins", "new_people"):
        setattr(stats, name, getattr(stats, name) + (row[name] or 0))


def _shift_rows(shifts: QuerySet[Shift]):
    going = Q(rsvps__status=RsvpStatus.GOING)
    return shifts.annotate(people=Count("rsvps", filter=going), guests=Sum("rsvps__guests", filter=going))


def events_stats(event_ids: list[int]) -> dict[int, EventStats]:
    """Stats for each of `event_ids`, in three grouped queries."""
    stats = {pk: EventStats() for pk in event_ids}
    if not event_ids:
        return stats
    rows = Rsvp.objects.filter(event_id__in=event_ids).values("event_id").annotate(**_rsvp_counts()).order_by()
    for row in rows:
        _fill(stats[row["event_id"]], row)
    for shift in _shift_rows(Shift.objects.filter(event_id__in=event_ids)).order_by():
        _count_shift(stats[shift.event_id], shift)
    spawned = (
        Event.objects.filter(spawned_from_id__in=event_ids)
        .values("spawned_from_id")
        .annotate(n=Count("id"), published=Count("id", filter=Q(status=EventStatus.PUBLISHED)))
        .order_by()
    )
    for row in spawned:
        stats[row["spawned_from_id"]].spawned = row["n"]
        stats[row["spawned_from_id"]].spawned_published = row["published"]
    return stats


def _count_shift(stats: EventStats, shift: Shift) -> None:
    taken = shift.people + (shift.guests or 0)
    stats.shifts += 1
    stats.shift_signups += shift.people
    if shift.capacity is not None and taken >= shift.capacity:
        stats.shifts_filled += 1


def event_stats(event: Event) -> EventStats:
    return events_stats([event.pk])[event.pk]


def shifts_with_seats(event: Event) -> list[Shift]:
    """The event's shifts, each with `taken` seats (people going and their guests)."""
    shifts = list(_shift_rows(Shift.objects.filter(event=event)).order_by("starts_at", "id"))
    for shift in shifts:
        shift.taken = shift.people + (shift.guests or 0)
    return shifts


@dataclass
class CampaignStats(EventStats):
    events: int = 0
    published: int = 0
    pending: int = 0
    spawned_events: int = 0


def campaigns_stats(campaign_ids: list[int]) -> dict[int, CampaignStats]:
    """Totals over each campaign's events, in three grouped queries."""
    stats = {pk: CampaignStats() for pk in campaign_ids}
    if not campaign_ids:
        return stats
    events = (
        Event.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(
            events=Count("id"),
            published=Count("id", filter=Q(status=EventStatus.PUBLISHED)),
            pending=Count("id", filter=Q(status=EventStatus.PENDING)),
            spawned_events=Count("id", filter=Q(spawned_from__isnull=False)),
        )
        .order_by()
    )
    for row in events:
        for name in ("events", "published", "pending", "spawned_events"):
            setattr(stats[row["campaign_id"]], name, row[name])
    rows = (
        Rsvp.objects.filter(event__campaign_id__in=campaign_ids)
        .values("event__campaign_id")
        .annotate(**_rsvp_counts())
        .order_by()
    )
    for row in rows:
        _fill(stats[row["event__campaign_id"]], row)
    shifts = _shift_rows(Shift.objects.filter(event__campaign_id__in=campaign_ids)).annotate(
        campaign_id=F("event__campaign_id")
    )
    for shift in shifts.order_by():
        _count_shift(stats[shift.campaign_id], shift)
    return stats


# --- The organizers' table ----------------------------------------------------------------------

WHEN_CHOICES = ("upcoming", "past")


def staff_events(
    *,
    status: str = "",
    kind: str = "",
    campaign_id: int | None = None,
    when: str = "",
    query: str = "",
    now: datetime.datetime | None = None,
) -> QuerySet[Event]:
    """All events, filtered; soonest first when upcoming, latest first otherwise."""
    now = now or timezone.now()
    events = Event.objects.select_related("host", "campaign", "group", "spawned_from")
    if status in EventStatus.values:
        events = events.filter(status=status)
    if kind in EventKind.values:
        events = events.filter(kind=kind)
    if campaign_id is not None:
        events = events.filter(campaign_id=campaign_id)
    if query:
        events = events.filter(title__icontains=query)
    if when == "upcoming":
        return events.filter(starts_at__gte=now).order_by("starts_at", "id")
    if when == "past":
        events = events.filter(starts_at__lt=now)
    return events.order_by("-starts_at", "-id")


def moderation_queue() -> QuerySet[Event]:
    """Events waiting for an organizer, oldest request first."""
    return (
        Event.objects.filter(status=EventStatus.PENDING)
        .select_related("host", "campaign", "group", "spawned_from")
        .order_by("created_at", "id")
    )


def map_points(events: QuerySet[Event], limit: int = 2000) -> list[dict]:
    """Markers for the map: the first `limit` placed events of a filtered table."""
    rows = events.filter(latitude__isnull=False).values("id", "title", "status", "kind", "latitude", "longitude")
    return [
        {"id": r["id"], "title": r["title"], "status": r["status"], "lat": r["latitude"], "lng": r["longitude"]}
        for r in rows[:limit]
    ]


def page_of(queryset, page: int, size: int) -> tuple[list, bool]:
    """One page and whether another follows: fetches size + 1 rows, never counts them all."""
    rows = list(queryset[(page - 1) * size : page * size + 1])
    return rows[:size], len(rows) > size
