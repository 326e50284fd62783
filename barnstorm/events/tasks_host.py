"""Background work of the host pages: a host's message to attendees, word that an event moved.

Tasks take ids. A message is delivered at most once per attendee however often the task is
retried: each delivery is logged (an "event_message" activity with the message's id), and
attendees already logged for a message are skipped.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.activity.services import activity_record
from barnstorm.events import links
from barnstorm.events.models import Event, Rsvp, RsvpStatus
from barnstorm.events.services_host import MESSAGE_KIND
from barnstorm.people.models import EmailAddress, EmailStatus


def _recipients(event_id: int):
    """Going and waitlisted attendees with a subscribed address (an unsubscribe is honoured here too)."""
    subscribed = EmailAddress.objects.filter(person=OuterRef("person_id"), status=EmailStatus.SUBSCRIBED).order_by(
        "-is_primary", "id"
    )
    return (
        Rsvp.objects.filter(event_id=event_id, status__in=[RsvpStatus.GOING, RsvpStatus.WAITLISTED])
        .select_related("person")
        .only("id", "person_id", "person__given_name", "status")
        .annotate(address=Subquery(subscribed.values("address")[:1]))
        .exclude(address=None)
        .order_by("id")
    )


def _context(event: Event, rsvp: Rsvp) -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "event": event,
        "person": rsvp.person,
        "manage_url": links.rsvp_manage_url(rsvp.pk),
        "event_url": settings.SITE_URL + f"/events/{event.pk}/",
    }


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def event_message_deliver(self, event_id: int, message_id: str, subject: str, body: str, actor_id: int | None) -> int:
    event = Event.objects.get(pk=event_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    # Retries come within hours; the time bound keeps this lookup to recent messages.
    logged = set(
        Activity.objects.filter(
            kind=MESSAGE_KIND,
            occurred_at__gte=timezone.now() - datetime.timedelta(days=3),
            data__message_id=message_id,
        ).values_list("person_id", flat=True)
    )
    sent = 0
    try:
        with get_connection() as connection, timezone.override(ZoneInfo(event.timezone)):
            for rsvp in _recipients(event_id).iterator(chunk_size=500):
                if rsvp.person_id in logged:
                    continue
                context = {**_context(event, rsvp), "body": body}
                text = render_to_string("events/host/email/message.txt", context)
                EmailMessage(
                    f"{subject} · {event.title}", text, settings.DEFAULT_FROM_EMAIL, [rsvp.address],
                    connection=connection,
                ).send()  # fmt: skip
                activity_record(
                    person_id=rsvp.person_id,
                    kind=MESSAGE_KIND,
                    data={"event_id": event_id, "message_id": message_id, "subject": subject},
                    actor=actor,
                )
                sent += 1
    except Exception as exc:
        raise self.retry(exc=exc) from exc
    return sent


@shared_task
def event_changed_notify(event_id: int) -> int:
    """Tell attendees the event's new time (in the event's own zone)."""
    event = Event.objects.get(pk=event_id)
    sent = 0
    with get_connection() as connection, timezone.override(ZoneInfo(event.timezone)):
        for rsvp in _recipients(event_id).iterator(chunk_size=500):
            context = _context(event, rsvp)
            subject = render_to_string("events/host/email/changed_subject.txt", context).strip()
            text = render_to_string("events/host/email/changed.txt", context)
            EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [rsvp.address], connection=connection).send()
            sent += 1
    return sent
