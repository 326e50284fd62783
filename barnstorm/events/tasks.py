"""Background work for events: confirmations, waitlist promotions, cancellations, reminders. Tasks take ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from barnstorm.events import ics, links, reminders
from barnstorm.events.models import Event, Rsvp, RsvpStatus


def _context(rsvp: Rsvp) -> dict:
    event = rsvp.event
    return {
        "SITE_NAME": settings.SITE_NAME,
        "rsvp": rsvp,
        "event": event,
        "person": rsvp.person,
        "local_start": event.starts_at,
        "local_end": event.ends_at,
        "manage_url": links.rsvp_manage_url(rsvp.pk),
        "event_url": settings.SITE_URL + f"/events/{event.pk}/",
    }


def _zone(event: Event):
    from zoneinfo import ZoneInfo

    return ZoneInfo(event.timezone)


def _send(rsvp: Rsvp, template: str, *, attach_ics: bool = False) -> bool:
    email = rsvp.person.emails.filter(is_primary=True).first() or rsvp.person.emails.first()
    if email is None or email.status != "subscribed" and template != "confirmation":
        return False
    context = _context(rsvp)
    # Times read in the event's own zone: templates show datetimes in the current one.
    with timezone.override(_zone(rsvp.event)):
        subject = render_to_string(f"events/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"events/email/{template}.txt", context)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [email.address])
    if attach_ics:
        calendar = ics.calendar([rsvp.event], full_address=True)
        message.attach("event.ics", calendar, "text/calendar; charset=utf-8; method=PUBLISH")
    message.send()
    return True


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def rsvp_confirmation_send(self, rsvp_id: int) -> bool:
    rsvp = Rsvp.objects.select_related("event", "person").get(pk=rsvp_id)
    try:
        return _send(rsvp, "confirmation", attach_ics=rsvp.status == RsvpStatus.GOING)
    except Exception as exc:
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def rsvp_promoted_send(self, rsvp_id: int) -> bool:
    rsvp = Rsvp.objects.select_related("event", "person").get(pk=rsvp_id)
    try:
        return _send(rsvp, "promoted", attach_ics=True)
    except Exception as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def event_cancelled_notify(event_id: int) -> int:
    sent = 0
    for rsvp in (
        Rsvp.objects.filter(event_id=event_id).exclude(status=RsvpStatus.CANCELLED).select_related("event", "person")
    ):
        sent += _send(rsvp, "cancelled")
    return sent


# Reminders and follow-ups (the rules are in events.reminders) ---------------------------------

REMINDER_BATCH = 200


@shared_task
def event_reminders_send_due() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): queue every reminder and follow-up that is due, in batches.

    Queuing one batch twice (a slow worker, a second run) is harmless: each attendee is claimed
    before anything is sent to them.
    """
    now = timezone.now()
    queued = 0
    for kind in reminders.KINDS:
        ids = list(reminders.rsvps_due(kind=kind, now=now).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), REMINDER_BATCH):
            event_reminder_batch_send.delay(kind, ids[start : start + REMINDER_BATCH])
        queued += len(ids)
    for event_id in reminders.host_followups_due(now=now):
        event_host_followup_send.delay(event_id)
        queued += 1
    return queued


@shared_task
def event_reminder_batch_send(kind: str, rsvp_ids: list[int]) -> int:
    return reminders.reminder_batch_send(kind=kind, rsvp_ids=rsvp_ids)[kind]


@shared_task
def event_host_followup_send(event_id: int) -> bool:
    # A failure releases the claim; the next periodic run queues it again.
    return reminders.host_followup_send(event_id=event_id).claimed
