"""Writes for events: hosting and moderation, RSVPs with capacity and waitlist, check-in.

Every RSVP matches its person through `people.services.person_upsert`. Capacity is decided
with the event's row locked, so two RSVPs racing for the last seat can't both get it; check-in
is a conditional update, so two phones scanning one ticket check the person in once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from barnstorm.activity.services import activity_record
from barnstorm.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus, Shift
from barnstorm.people.models import GroupMembership, GroupRole, Person
from barnstorm.people.normalize import zip_info
from barnstorm.people.services import PersonInput, person_upsert


@dataclass
class EventInput:
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    timezone: str = ""  # IANA; from the ZIP code when blank
    is_virtual: bool = False
    virtual_url: str = ""
    venue: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    is_private_home: bool = False
    capacity: int | None = None
    group_id: int | None = None
    campaign_id: int | None = None
    spawned_from_id: int | None = None
    shifts: tuple[tuple[datetime, datetime, int | None], ...] = ()


def _clean(data: EventInput) -> dict:
    errors: dict[str, list[str]] = {}
    if data.kind not in EventKind.values:
        errors["kind"] = [_("Choose a type of event.")]
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = [_("The end must be after the start.")]
    if timezone.is_naive(data.starts_at) or timezone.is_naive(data.ends_at):
        raise ValueError("event times must be timezone-aware")
    place = zip_info(data.zip_code) if data.zip_code else None
    if not data.is_virtual and place is None:
        errors["zip_code"] = [_("Enter the ZIP code where the event takes place.")]
    if data.is_virtual and not data.virtual_url:
        errors["virtual_url"] = [_("A virtual event needs the link people join with.")]
    zone = data.timezone or (place.timezone if place else "") or "America/New_York"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [_("Unknown time zone: %(zone)s") % {"zone": zone}]
    if errors:
        raise ValidationError(errors)
    return {
        "timezone": zone,
        "latitude": place.latitude if place and not data.is_virtual else None,
        "longitude": place.longitude if place and not data.is_virtual else None,
        "city": data.city or (place.city if place else ""),
        "state": (data.state or (place.state if place else "")).upper(),
    }


def host_is_trusted(*, person: Person, user=None) -> bool:
    """Organizers, group leaders and hosts with an approved event before publish at once."""
    if user is not None and getattr(user, "is_organizer", False):
        return True
    if GroupMembership.objects.filter(person=person, role=GroupRole.LEADER).exists():
        return True
    return Event.objects.filter(host=person, published_at__isnull=False).exists()


def event_create(*, data: EventInput, host: Person, actor=None) -> Event:
    """A new event; it publishes at once for trusted hosts and waits for moderation otherwise."""
    place = _clean(data)
    trusted = host_is_trusted(person=host, user=actor)
    with transaction.atomic():
        event = Event.objects.create(
            title=data.title,
            description=data.description,
            kind=data.kind,
            is_virtual=data.is_virtual,
            virtual_url=data.virtual_url,
            host=host,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            group_id=data.group_id,
            campaign_id=data.campaign_id,
            spawned_from_id=data.spawned_from_id,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            venue=data.venue,
            street=data.street,
            zip_code=data.zip_code,
            is_private_home=data.is_private_home,
            capacity=data.capacity,
            status=EventStatus.PUBLISHED if trusted else EventStatus.PENDING,
            published_at=timezone.now() if trusted else None,
            **place,
        )
        Shift.objects.bulk_create(Shift(event=event, starts_at=s, ends_at=e, capacity=c) for s, e, c in data.shifts)
        activity_record(
            person_id=host.pk,
            kind="hosted_event" if trusted else "event_proposed",
            data={"event_id": event.pk, "kind": event.kind},
            actor=actor,
        )
    return event


def event_approve(*, event: Event, actor) -> Event:
    updated = Event.objects.filter(pk=event.pk, status=EventStatus.PENDING).update(
        status=EventStatus.PUBLISHED, published_at=timezone.now(), rejection_reason=""
    )
    event.refresh_from_db()
    if updated:
        activity_record(person_id=event.host_id, kind="hosted_event", data={"event_id": event.pk}, actor=actor)
    return event


def event_reject(*, event: Event, reason: str, actor) -> Event:
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why, so the host can fix it.")]})
    Event.objects.filter(pk=event.pk, status=EventStatus.PENDING).update(
        status=EventStatus.REJECTED, rejection_reason=reason[:300]
    )
    event.refresh_from_db()
    return event


def event_cancel(*, event: Event, actor=None) -> Event:
    """Cancel an event; everyone who RSVPed is told (after commit)."""
    with transaction.atomic():
        updated = (
            Event.objects.filter(pk=event.pk).exclude(status=EventStatus.CANCELLED).update(status=EventStatus.CANCELLED)
        )
        if updated:
            from barnstorm.events.tasks import event_cancelled_notify

            transaction.on_commit(lambda: event_cancelled_notify.delay(event.pk))
    event.refresh_from_db()
    return event


# --- RSVPs ---------------------------------------------------------------------------------


@dataclass
class RsvpResult:
    rsvp: Rsvp
    created: bool


def rsvp_create(
    *,
    event: Event,
    data: PersonInput,
    guests: int = 0,
    shift_id: int | None = None,
    refcode: str = "",
    actor=None,
    notify: bool = True,
    ignore_capacity: bool = False,
) -> RsvpResult:
    """RSVP (or change an RSVP): going while seats are left, on the waitlist when full."""
    if event.status != EventStatus.PUBLISHED or (event.ends_at <= timezone.now() and not ignore_capacity):
        raise ValidationError(_("This event is not taking RSVPs."))
    if guests < 0 or guests > 20:
        raise ValidationError({"guests": [_("Bring between 0 and 20 guests.")]})
    if shift_id is not None and not Shift.objects.filter(pk=shift_id, event=event).exists():
        raise ValidationError({"shift": [_("Choose one of this event's shifts.")]})
    with transaction.atomic():
        person = person_upsert(data=data, actor=actor, activity_kind=None).person
        # Seats are counted with the event locked: two RSVPs for the last seat queue here.
        event = Event.objects.select_for_update().get(pk=event.pk)
        rsvp = Rsvp.objects.filter(event=event, person=person).first()
        created = rsvp is None
        if created:
            rsvp = Rsvp(event=event, person=person)
        rsvp.guests, rsvp.shift_id, rsvp.refcode = guests, shift_id, refcode or rsvp.refcode
        if rsvp.status != RsvpStatus.GOING or rsvp.pk is None:
            rsvp.status = RsvpStatus.GOING
        rsvp.cancelled_at = None
        if not ignore_capacity and not _fits(event, rsvp):
            rsvp.status = RsvpStatus.WAITLISTED
        rsvp.save()
        activity_record(
            person_id=person.pk,
            kind="rsvp",
            data={"event_id": event.pk, "status": rsvp.status, "guests": guests, "refcode": refcode},
            actor=actor,
        )
        if notify:
            from barnstorm.events.tasks import rsvp_confirmation_send

            transaction.on_commit(lambda: rsvp_confirmation_send.delay(rsvp.pk))
    return RsvpResult(rsvp=rsvp, created=created)


def _fits(event: Event, rsvp: Rsvp) -> bool:
    others = Rsvp.objects.filter(event=event, status=RsvpStatus.GOING).exclude(pk=rsvp.pk)
    if event.capacity is not None:
        taken = sum(1 + g for g in others.values_list("guests", flat=True))
        if taken + rsvp.seats > event.capacity:
            return False
    if rsvp.shift_id is not None:
        shift = Shift.objects.get(pk=rsvp.shift_id)
        if shift.capacity is not None:
            taken = sum(1 + g for g in others.filter(shift_id=shift.pk).values_list("guests", flat=True))
            if taken + rsvp.seats > shift.capacity:
                return False
    return True


def rsvp_change(*, rsvp: Rsvp, guests: int, shift_id: int | None, actor=None) -> Rsvp:
    """Change guests or shift. Someone going keeps their seat: a change that doesn't fit is refused."""
    if guests < 0 or guests > 20:
        raise ValidationError({"guests": [_("Bring between 0 and 20 guests.")]})
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=rsvp.event_id)
        if event.status != EventStatus.PUBLISHED or event.ends_at <= timezone.now():
            raise ValidationError(_("This event is not taking RSVPs."))
        if shift_id is not None and not Shift.objects.filter(pk=shift_id, event=event).exists():
            raise ValidationError({"shift": [_("Choose one of this event's shifts.")]})
        rsvp = Rsvp.objects.get(pk=rsvp.pk)
        if rsvp.status == RsvpStatus.CANCELLED:
            raise ValidationError(_("This RSVP was cancelled; RSVP again on the event page."))
        rsvp.guests, rsvp.shift_id = guests, shift_id
        if not _fits(event, rsvp):
            if rsvp.status == RsvpStatus.GOING:
                raise ValidationError(_("There isn't room for that change; your place is kept as it was."))
        elif rsvp.status == RsvpStatus.WAITLISTED:
            rsvp.status = RsvpStatus.GOING
        rsvp.save(update_fields=["guests", "shift", "status"])
        activity_record(
            person_id=rsvp.person_id,
            kind="rsvp",
            data={"event_id": event.pk, "status": rsvp.status, "guests": guests, "changed": True},
            actor=actor,
        )
    return rsvp


def waitlist_promote(*, event: Event) -> list[Rsvp]:
    """Move waiting people to going, in the order they came, while they fit.

    Call with the event's row locked (select_for_update), as every change of seats is.
    """
    promoted = []
    for waiting in Rsvp.objects.filter(event=event, status=RsvpStatus.WAITLISTED).order_by("created_at", "id"):
        if _fits(event, waiting):
            Rsvp.objects.filter(pk=waiting.pk).update(status=RsvpStatus.GOING)
            waiting.status = RsvpStatus.GOING
            promoted.append(waiting)
    return promoted


def rsvp_cancel(*, rsvp: Rsvp, actor=None) -> list[Rsvp]:
    """Cancel an RSVP and promote from the waitlist, in order, while the freed seats fit them."""
    promoted: list[Rsvp] = []
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=rsvp.event_id)
        updated = (
            Rsvp.objects.filter(pk=rsvp.pk)
            .exclude(status=RsvpStatus.CANCELLED)
            .update(status=RsvpStatus.CANCELLED, cancelled_at=timezone.now())
        )
        if not updated:
            return promoted
        activity_record(person_id=rsvp.person_id, kind="rsvp_cancelled", data={"event_id": event.pk}, actor=actor)
        promoted = waitlist_promote(event=event)
        if promoted:
            from barnstorm.events.tasks import rsvp_promoted_send

            ids = [r.pk for r in promoted]
            transaction.on_commit(lambda: [rsvp_promoted_send.delay(pk) for pk in ids])
    rsvp.refresh_from_db()
    return promoted


@dataclass
class CheckIn:
    rsvp: Rsvp
    newly: bool  # False: this person was already checked in (a second phone, a second scan)


def rsvp_check_in(*, rsvp_id: int, actor=None) -> CheckIn:
    """Check a person in once: a conditional update, so racing phones can't do it twice."""
    now = timezone.now()
    # One transaction: the check-in and its "attended" activity exist together or not at all.
    with transaction.atomic():
        newly = bool(
            Rsvp.objects.filter(pk=rsvp_id, checked_in_at__isnull=True)
            .exclude(status=RsvpStatus.CANCELLED)
            .update(checked_in_at=now, checked_in_by=actor if getattr(actor, "is_authenticated", False) else None)
        )
        rsvp = Rsvp.objects.select_related("person", "event").get(pk=rsvp_id)
        if newly:
            activity_record(
                person_id=rsvp.person_id,
                kind="attended",
                data={"event_id": rsvp.event_id},
                actor=actor,
                occurred_at=now,
            )
    return CheckIn(rsvp=rsvp, newly=newly)


def walk_in_add(*, event: Event, data: PersonInput, actor=None) -> CheckIn:
    """Someone who came without an RSVP: they are in the room, so capacity doesn't refuse them."""
    result = rsvp_create(event=event, data=data, actor=actor, notify=False, ignore_capacity=True)
    Rsvp.objects.filter(pk=result.rsvp.pk, checked_in_at__isnull=True).update(walk_in=result.created)
    return rsvp_check_in(rsvp_id=result.rsvp.pk, actor=actor)
