"""Background work for fundraising. Tasks take ids, and are safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from barnstorm.donations import selectors
from barnstorm.donations.models import Contribution


def _claim(contribution_id: int, field: str) -> bool:
    """Mark a once-only email as sent before sending; only one worker wins the claim."""
    return bool(
        Contribution.objects.filter(pk=contribution_id, **{f"{field}__isnull": True}).update(**{field: timezone.now()})
    )


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def contribution_receipt_send(self, contribution_id: int) -> bool:
    """Email the receipt for one charge (each recurring installment has its own)."""
    if not _claim(contribution_id, "receipt_sent_at"):
        return False
    contribution = selectors.contribution_for_receipt(contribution_id=contribution_id)
    try:
        _send(contribution, "receipt", selectors.receipt_context(contribution=contribution))
    except Exception as exc:
        # Not sent after all: release the claim so the retry sends it.
        Contribution.objects.filter(pk=contribution_id).update(receipt_sent_at=None)
        raise self.retry(exc=exc) from exc
    return True


@shared_task(bind=True, max_retries=5, default_retry_delay=300)
def best_efforts_email_send(self, contribution_id: int) -> bool:
    """The one best-efforts request for a missing employer/occupation (the compliance case is unique)."""
    contribution = selectors.contribution_for_receipt(contribution_id=contribution_id)
    try:
        _send(contribution, "best_efforts", selectors.receipt_context(contribution=contribution))
    except Exception as exc:
        raise self.retry(exc=exc) from exc
    return True


def _send(contribution: Contribution, template: str, context: dict) -> None:
    if not contribution.email:
        return
    subject = render_to_string(f"donations/email/{template}_subject.txt", context).strip()
    text = render_to_string(f"donations/email/{template}.txt", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [contribution.email])
    message.send()
