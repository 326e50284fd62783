"""Who may act on a contact, decided in one place for calls, texts, doors and click-to-call:
the volunteer holding it on a running lease, or an organizer."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from barnstorm.field.models import Contact, ContactStatus


def holds(contact: Contact, user, now: datetime | None = None) -> bool:
    """`user` holds `contact` right now: leased to them, and the lease has not run out."""
    now = now or timezone.now()
    return (
        contact.status == ContactStatus.LEASED
        and contact.leased_to_id == user.pk
        and contact.leased_until is not None
        and contact.leased_until > now
    )


def may_act_on(contact: Contact, user, now: datetime | None = None) -> bool:
    """Record, text, call or read the conversation of `contact`: its holder, or an organizer."""
    return getattr(user, "is_organizer", False) or holds(contact, user, now)
