"""Reminders before an event and follow-ups after it, each sent once per attendee.

When each is due (compared with the event's start and end, in UTC):

- the 24-hour reminder: from 24 h before the start until 2 h before it. A run that comes later
  (the worker was down) does not send it: the event is under 2 h away, so the 2-hour reminder,
  which is then due, is the one that goes. People who RSVPed within 24 h of the start don't get
  it: their confirmation is fresh.
- the 2-hour reminder: from 2 h before the start until the start; not for RSVPs made within those
  2 h. A run after the start sends neither.
- the follow-up to each attendee ("what next?") and, once per event, to the host ("who came?"):
  from the end until FOLLOWUP_WINDOW after it. A worker down for longer sends none: a follow-up a
  week late reads as a mistake.

Only people going (not waitlisted or cancelled) to published events hear from us. Reminders are
about something the person asked for, so they go to subscribed and unsubscribed addresses alike
(never to bouncing ones or spam complaints); the follow-up to attendees asks for more, so only
subscribed addresses get it. Reminders also go by text to a phone with SMS consent that hasn't
opted out, only between 9:00 and 21:00 in the event's time zone; outside those hours the email
goes alone. Every time in a message reads in the event's own time zone.

Exactly once: each attendee's reminder is claimed with a conditional update (`reminded_24h_at IS
NULL` → now) before anything is sent, so two workers, or one running twice, cannot both send it.
If nothing could be sent (the mail server refused, the only channel failed), the claim is released
and the next run tries again. Once one channel went out, the claim stays even if the other
failed: a second email would be worse than a missing text. A text whose outcome is unknown
(SmsTimeout) counts as sent. A worker killed between the claim and the send leaves the claim
taken: at most once, never twice. The host's follow-up has no column of its own; it is claimed by
a `DeliveryClaim` row with a unique key.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from barnstorm.events import links
from barnstorm.events.models import Event, EventStatus, Rsvp, RsvpStatus
from barnstorm.lib.models import DeliveryClaim
from barnstorm.lib.sms import SmsError, SmsTimeout, sms_provider
from barnstorm.lib.sms.base import RECIPIENT_OPTED_OUT
from barnstorm.people.models import EmailAddress, EmailStatus, Person, PhoneKind, PhoneNumber

logger = logging.getLogger(__name__)

REMINDER_24H = "reminder_24h"
REMINDER_2H = "reminder_2h"
FOLLOWUP = "followup"
KINDS = (REMINDER_24H, REMINDER_2H, FOLLOWUP)
# The Rsvp column that records (and claims) each message.
COLUMNS = {REMINDER_24H: "reminded_24h_at", REMINDER_2H: "reminded_2h_at", FOLLOWUP: "followed_up_at"}

FOLLOWUP_WINDOW = timedelta(days=2)
# Reminder texts go out only between these hours (9:00 to 21:00) of the event's local time.
TEXTING_HOURS = (9, 21)

_TRANSACTIONAL = (EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED)
_MARKETING = (EmailStatus.SUBSCRIBED,)


# What is due ----------------------------------------------------------------------------------


def rsvps_due(*, kind: str, now: datetime) -> QuerySet[Rsvp]:
    """RSVPs whose `kind` message is due at `now` and not yet claimed (the rules above)."""
    rsvps = Rsvp.objects.filter(
        status=RsvpStatus.GOING, event__status=EventStatus.PUBLISHED, **{f"{COLUMNS[kind]}__isnull": True}
    )
    if kind == REMINDER_24H:
        return rsvps.filter(
            event__starts_at__gt=now + timedelta(hours=2),
            event__starts_at__lte=now + timedelta(hours=24),
            created_at__lt=F("event__starts_at") - timedelta(hours=24),
        )
    if kind == REMINDER_2H:
        return rsvps.filter(
            event__starts_at__gt=now,
            event__starts_at__lte=now + timedelta(hours=2),
            created_at__lt=F("event__starts_at") - timedelta(hours=2),
        )
    if kind == FOLLOWUP:
        return rsvps.filter(event__ends_at__lte=now, event__ends_at__gt=now - FOLLOWUP_WINDOW)
    raise ValueError(f"unknown reminder kind {kind!r}")


def host_followups_due(*, now: datetime) -> list[int]:
    """Ids of published events that ended within FOLLOWUP_WINDOW whose host hasn't been asked yet."""
    ended = list(
        Event.objects.filter(
            status=EventStatus.PUBLISHED, ends_at__lte=now, ends_at__gt=now - FOLLOWUP_WINDOW
        ).values_list("pk", flat=True)
    )
    claimed = set(
        DeliveryClaim.objects.filter(key__in=[host_followup_key(pk) for pk in ended]).values_list("key", flat=True)
    )
    return [pk for pk in ended if host_followup_key(pk) not in claimed]


def host_followup_key(event_id: int) -> str:
    return f"event:{event_id}:host_followup"


def rsvp_reference(rsvp: Rsvp, kind: str) -> str:
    """The key of one message to one attendee (the SMS reference): per RSVP, kind and start time, so
    that an event moved to another time can be reminded of again."""
    return f"rsvp:{rsvp.pk}:{kind}:{rsvp.event.starts_at:%Y%m%dT%H%M}"


# Sending ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What one call did. `claimed` False: someone else had it, or it was not (or no longer) due."""

    claimed: bool
    emailed: bool = False
    texted: bool = False


def reminder_send(*, rsvp_id: int, kind: str, now: datetime | None = None) -> Sent:
    """Send one attendee's `kind` message if it is due and nobody sent it. Raises if nothing could be sent
    (the claim is then released, and a later run tries again)."""
    now = now or timezone.now()
    # Asked again here, not only when the run listed it: a queued batch may run late.
    if not rsvps_due(kind=kind, now=now).filter(pk=rsvp_id).exists():
        return Sent(claimed=False)
    column = COLUMNS[kind]
    # Only this row's own columns in the condition: on PostgreSQL a second, blocked UPDATE re-checks
    # them once the first commits (a condition through a join or subquery would not be re-checked).
    claimed = Rsvp.objects.filter(pk=rsvp_id, status=RsvpStatus.GOING, **{f"{column}__isnull": True}).update(
        **{column: now}
    )
    if not claimed:
        return Sent(claimed=False)

    def release() -> None:
        Rsvp.objects.filter(pk=rsvp_id, **{column: now}).update(**{column: None})

    rsvp = Rsvp.objects.select_related("event", "person").get(pk=rsvp_id)
    event, person = rsvp.event, rsvp.person
    if event.status != EventStatus.PUBLISHED:  # cancelled a moment ago: the claim stays, nothing goes
        return Sent(claimed=True)
    context = _context(event, rsvp=rsvp)
    template = "followup_attendee" if kind == FOLLOWUP else kind
    address = _email_address(person, _MARKETING if kind == FOLLOWUP else _TRANSACTIONAL)
    phone = None
    if kind != FOLLOWUP and within_texting_hours(event, now):
        phone = _textable_phone(person)

    emailed = texted = False
    if address is not None:
        try:
            _email(address, template, context, event)
        except Exception:
            release()
            raise
        emailed = True
    if phone is not None:
        try:
            _text(phone.number, kind, context, event, reference=rsvp_reference(rsvp, kind))
            texted = True
        except SmsTimeout:
            logger.warning("reminder %s to rsvp %s: no answer from the SMS provider; counted as sent", kind, rsvp_id)
            texted = True
        except SmsError as exc:
            if exc.code == RECIPIENT_OPTED_OUT:
                _carrier_opt_out(phone.number)
            if not emailed and not exc.permanent:
                release()
                raise
            logger.warning("reminder %s to rsvp %s: text not sent (%s)", kind, rsvp_id, exc)
    return Sent(claimed=True, emailed=emailed, texted=texted)


def host_followup_send(*, event_id: int, now: datetime | None = None) -> Sent:
    """Ask the host of a finished event to confirm who came (once per event)."""
    now = now or timezone.now()
    if event_id not in host_followups_due(now=now):
        return Sent(claimed=False)
    key = host_followup_key(event_id)
    try:
        with transaction.atomic():
            DeliveryClaim.objects.create(key=key, claimed_at=now)
    except IntegrityError:  # another worker claimed it first
        return Sent(claimed=False)
    event = Event.objects.select_related("host").get(pk=event_id)
    address = _email_address(event.host, _TRANSACTIONAL)
    if address is None:
        return Sent(claimed=True)
    going = Rsvp.objects.filter(event=event, status=RsvpStatus.GOING)
    context = _context(
        event,
        person=event.host,
        going=going.count(),
        checked_in=going.filter(checked_in_at__isnull=False).count(),
        manage_url=settings.SITE_URL + f"/events/{event.pk}/manage/",
    )
    try:
        _email(address, "followup_host", context, event)
    except Exception:
        DeliveryClaim.objects.filter(key=key).delete()
        raise
    return Sent(claimed=True, emailed=True)


def reminder_batch_send(*, kind: str, rsvp_ids: list[int], now: datetime | None = None) -> Counter:
    """Send `kind` to each of these RSVPs; one failure doesn't stop the others (its claim is released)."""
    counts: Counter = Counter()
    for rsvp_id in rsvp_ids:
        try:
            sent = reminder_send(rsvp_id=rsvp_id, kind=kind, now=now)
        except Exception:
            logger.exception("reminder %s to rsvp %s failed; the next run tries again", kind, rsvp_id)
            counts["failed"] += 1
            continue
        counts[kind] += sent.claimed
        counts["texts"] += sent.texted
    return counts


def reminders_send_due(*, now: datetime | None = None) -> Counter:
    """Everything due at `now`, sent in this process (the `send_due_reminders` command)."""
    now = now or timezone.now()
    counts: Counter = Counter()
    for kind in KINDS:
        ids = list(rsvps_due(kind=kind, now=now).order_by("pk").values_list("pk", flat=True))
        counts.update(reminder_batch_send(kind=kind, rsvp_ids=ids, now=now))
    for event_id in host_followups_due(now=now):
        try:
            counts["followup_host"] += host_followup_send(event_id=event_id, now=now).claimed
        except Exception:
            logger.exception("follow-up to the host of event %s failed; the next run tries again", event_id)
            counts["failed"] += 1
    return counts


# Channels ---------------------------------------------------------------------------------------


def within_texting_hours(event: Event, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(event.timezone))
    return TEXTING_HOURS[0] <= local.hour < TEXTING_HOURS[1]


def _email_address(person: Person, statuses: tuple[str, ...]) -> EmailAddress | None:
    return person.emails.filter(status__in=statuses).order_by("-is_primary", "id").first()


def _textable_phone(person: Person) -> PhoneNumber | None:
    phones = list(person.phones.filter(sms_consent=True, sms_opted_out_at__isnull=True))
    # A mobile before a landline the person happened to consent on; then the primary number.
    phones.sort(key=lambda phone: (phone.kind != PhoneKind.MOBILE, not phone.is_primary, phone.pk))
    return phones[0] if phones else None


def _context(event: Event, *, rsvp: Rsvp | None = None, person: Person | None = None, **extra) -> dict:
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "event": event,
        "rsvp": rsvp,
        "person": person or (rsvp.person if rsvp else None),
        "local_start": event.starts_at,
        "local_end": event.ends_at,
        "event_url": settings.SITE_URL + f"/events/{event.pk}/",
        "find_url": settings.SITE_URL + "/events/",
        "host_url": settings.SITE_URL + "/events/host/",
    }
    if rsvp is not None:
        context["manage_url"] = links.rsvp_manage_url(rsvp.pk)
    context.update(extra)
    return context


def _email(address: EmailAddress, template: str, context: dict, event: Event) -> None:
    # Times read in the event's own zone: templates show datetimes in the current one.
    with timezone.override(ZoneInfo(event.timezone)):
        subject = render_to_string(f"events/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"events/email/{template}.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [address.address]).send()


def _text(number: str, kind: str, context: dict, event: Event, *, reference: str) -> None:
    with timezone.override(ZoneInfo(event.timezone)):
        body = " ".join(render_to_string(f"events/sms/{kind}.txt", context).split())
    sms_provider().send(to=number, body=body, reference=reference)


def _carrier_opt_out(number: str) -> None:
    """The carrier says this number texted STOP: honour it everywhere at once."""
    from barnstorm.people.services import phone_sms_opt_out

    phone_sms_opt_out(number=number)
