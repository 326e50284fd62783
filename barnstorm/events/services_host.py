"""Writes for hosts and organizers: edit an event, message its attendees, check people in by
ticket, the barnstorm flow (attendees propose their own events), event campaigns.

Creating, approving, rejecting and cancelling events, RSVPs, check-in itself and walk-ins are
in services.py; this module builds on them and never repeats their rules.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import urllib.parse
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from barnstorm.events.models import Event, EventCampaign, EventKind, EventStatus, Rsvp, RsvpStatus
from barnstorm.events.services import CheckIn, EventInput, event_create, rsvp_check_in, waitlist_promote
from barnstorm.lib.ratelimit import rate_limit_exceeded
from barnstorm.people.models import Person

logger = logging.getLogger(__name__)

# Attendees hear from a host through the platform at most this often per event.
MESSAGES_PER_DAY = 3
MESSAGE_KIND = "event_message"  # the activity that logs each message each attendee was sent
# What the barnstorm flow turns attendees into: hosts of their own phone bank or canvass.
SPAWN_KINDS = (EventKind.PHONE_BANK, EventKind.CANVASS)


# --- Editing --------------------------------------------------------------------------------


@dataclass
class EventChanges:
    """What a host may change after creating an event. The place stays: people planned around it."""

    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None


def event_update(*, event: Event, changes: EventChanges, actor) -> Event:
    """Change an event. Attendees are told when its time moves; more seats promote the waitlist.

    A rejected event that is edited goes back to the moderation queue: that is how a host
    fixes what the organizer asked for.
    """
    if timezone.is_naive(changes.starts_at) or timezone.is_naive(changes.ends_at):
        raise ValueError("event times must be timezone-aware")
    errors: dict[str, list[str]] = {}
    if not changes.title.strip():
        errors["title"] = [_("Give the event a title.")]
    if changes.ends_at <= changes.starts_at:
        errors["ends_at"] = [_("The end must be after the start.")]
    if changes.capacity is not None and changes.capacity < 1:
        errors["capacity"] = [_("Leave the capacity blank for no limit, or give at least 1.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Locked like an RSVP locks it: seats are counted against one capacity at a time.
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.status == EventStatus.CANCELLED:
            raise ValidationError(_("A cancelled event can't be changed."))
        moved = (locked.starts_at, locked.ends_at) != (changes.starts_at, changes.ends_at)
        more_seats = locked.capacity is not None and (changes.capacity is None or changes.capacity > locked.capacity)
        locked.title = changes.title.strip()
        locked.description = changes.description
        locked.starts_at, locked.ends_at = changes.starts_at, changes.ends_at
        locked.capacity = changes.capacity
        fields = ["title", "description", "starts_at", "ends_at", "capacity"]
        if locked.status == EventStatus.REJECTED:
            locked.status, locked.rejection_reason = EventStatus.PENDING, ""
            fields += ["status", "rejection_reason"]
        locked.save(update_fields=fields)
        promoted = [r.pk for r in waitlist_promote(event=locked)] if more_seats else []
        if moved:
            # A new time is a new event for reminders and follow-ups: they go out again, once.
            Rsvp.objects.filter(event=locked).update(reminded_24h_at=None, reminded_2h_at=None, followed_up_at=None)
        logger.info("event %s changed by user %s (moved: %s)", locked.pk, getattr(actor, "pk", None), moved)
        from barnstorm.events import tasks, tasks_host

        if moved and locked.status == EventStatus.PUBLISHED:
            transaction.on_commit(lambda: tasks_host.event_changed_notify.delay(locked.pk))
        if promoted:
            transaction.on_commit(lambda: [tasks.rsvp_promoted_send.delay(pk) for pk in promoted])
    return locked


def event_message_send(*, event: Event, subject: str, body: str, actor) -> int:
    """Email everyone going or waitlisted, through the platform (the host never sees the list's
    addresses leave it). At most MESSAGES_PER_DAY per event; each delivery is logged on the
    attendee's timeline. Returns how many attendees it goes to."""
    subject, body = " ".join(subject.split()), body.strip()
    errors: dict[str, list[str]] = {}
    if not subject:
        errors["subject"] = [_("Write a subject.")]
    elif len(subject) > 150:
        errors["subject"] = [_("Keep the subject under 150 characters.")]
    if not body:
        errors["body"] = [_("Write a message.")]
    elif len(body) > 5000:
        errors["body"] = [_("Keep the message under 5,000 characters.")]
    if event.status == EventStatus.CANCELLED:
        errors[NON_FIELD_ERRORS] = [_("This event is cancelled: its attendees have been told.")]
    if errors:
        raise ValidationError(errors)
    if rate_limit_exceeded(scope="event-message", key=str(event.pk), limit=MESSAGES_PER_DAY, window_seconds=86400):
        raise ValidationError(
            _("Attendees of an event get at most %(n)d messages a day. Please try again tomorrow.")
            % {"n": MESSAGES_PER_DAY}
        )
    recipients = Rsvp.objects.filter(event=event, status__in=[RsvpStatus.GOING, RsvpStatus.WAITLISTED]).count()
    message_id = secrets.token_hex(8)
    actor_id = getattr(actor, "pk", None)
    logger.info("event %s: message %s to %d attendees by user %s", event.pk, message_id, recipients, actor_id)
    from barnstorm.events.tasks_host import event_message_deliver

    transaction.on_commit(lambda: event_message_deliver.delay(event.pk, message_id, subject, body, actor_id))
    return recipients


# --- Check-in by ticket -----------------------------------------------------------------------


def ticket_code(scanned: str) -> str:
    """The ticket in what a scanner read: the bare code, or a link that ends with it (or has ?ticket=)."""
    text = (scanned or "").strip()
    if "/" in text or "?" in text:
        parts = urllib.parse.urlsplit(text)
        query = urllib.parse.parse_qs(parts.query)
        for name in ("ticket", "t"):
            if query.get(name):
                return query[name][0].strip()[:32]
        segments = [s for s in parts.path.split("/") if s]
        text = segments[-1] if segments else ""
    return text[:32]


def event_check_in(*, event: Event, actor, ticket: str = "", rsvp_id: int | None = None) -> CheckIn | None:
    """Check in the holder of `ticket` (or the RSVP `rsvp_id`) at `event`; None if not this event's.

    The check-in and its "attended" activity commit together, so the activity log never
    disagrees with who is checked in.
    """
    rsvps = Rsvp.objects.filter(event_id=event.pk)
    if ticket:
        rsvps = rsvps.filter(ticket=ticket_code(ticket))
    elif rsvp_id is not None:
        rsvps = rsvps.filter(pk=rsvp_id)
    else:
        return None
    found = rsvps.values_list("pk", flat=True).first()
    if found is None:
        return None
    with transaction.atomic():
        return rsvp_check_in(rsvp_id=found, actor=actor)


# --- The barnstorm flow -------------------------------------------------------------------------


def event_spawn(*, meeting: Event, data: EventInput, host: Person, actor=None) -> Event:
    """An attendee of a barnstorm meeting proposes to host a phone bank or canvass of their own.

    It is created like any event (so a new host's event waits for moderation), linked to the
    meeting that produced it and under the meeting's campaign.
    """
    if meeting.kind != EventKind.BARNSTORM or meeting.status != EventStatus.PUBLISHED:
        raise ValidationError(_("Only a barnstorm meeting's attendees sign up to host here."))
    if data.kind not in SPAWN_KINDS:
        raise ValidationError({"kind": [_("Choose a phone bank or a canvass.")]})
    attended = Rsvp.objects.filter(event=meeting, person=host).exclude(status=RsvpStatus.CANCELLED).exists()
    if not attended:
        raise ValidationError(_("Only people who RSVPed to this meeting sign up to host from it."))
    data = dataclasses.replace(data, spawned_from_id=meeting.pk, campaign_id=data.campaign_id or meeting.campaign_id)
    return event_create(data=data, host=host, actor=actor)


# --- Event campaigns ----------------------------------------------------------------------------


@dataclass
class CampaignInput:
    name: str
    slug: str
    description: str = ""


def _campaign_save(campaign: EventCampaign, data: CampaignInput) -> EventCampaign:
    if not data.name.strip():
        raise ValidationError({"name": [_("Give the campaign a name.")]})
    campaign.name, campaign.slug, campaign.description = data.name.strip(), data.slug.strip(), data.description
    try:
        with transaction.atomic():
            campaign.save(update_fields=["name", "slug", "description"] if campaign.pk else None)
    except IntegrityError:
        raise ValidationError({"slug": [_("Another campaign has this address.")]}) from None
    return campaign


def campaign_create(*, data: CampaignInput, actor) -> EventCampaign:
    campaign = _campaign_save(EventCampaign(), data)
    logger.info("event campaign %s created by user %s", campaign.pk, getattr(actor, "pk", None))
    return campaign


def campaign_update(*, campaign: EventCampaign, data: CampaignInput, actor) -> EventCampaign:
    campaign = _campaign_save(campaign, data)
    logger.info("event campaign %s changed by user %s", campaign.pk, getattr(actor, "pk", None))
    return campaign


def campaign_delete(*, campaign: EventCampaign, actor) -> None:
    """The banner goes; its events stay, without it."""
    logger.info("event campaign %s deleted by user %s", campaign.pk, getattr(actor, "pk", None))
    campaign.delete()
