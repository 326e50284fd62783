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
    try:
        return _receipt_send(contribution_id)
    except Exception as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def contribution_receipts_send(contribution_ids: list[int]) -> int:
    """The receipts of gifts recorded together; one that fails is retried on its own."""
    sent = 0
    for contribution_id in contribution_ids:
        try:
            sent += _receipt_send(contribution_id)
        except Exception:
            contribution_receipt_send.delay(contribution_id)
    return sent


def _receipt_send(contribution_id: int) -> bool:
    if not _claim(contribution_id, "receipt_sent_at"):
        return False
    contribution = selectors.contribution_for_receipt(contribution_id=contribution_id)
    try:
        _send(contribution, "receipt", selectors.receipt_context(contribution=contribution))
    except Exception:
        # Not sent after all: release the claim so the retry sends it.
        Contribution.objects.filter(pk=contribution_id).update(receipt_sent_at=None)
        raise
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


@shared_task
def recurring_charge_due() -> int:
    """Queue every installment that is due (run every few minutes by `barnstorm worker --beat`)."""
    from barnstorm.donations.services import recurring_due_ids

    due = recurring_due_ids()
    for plan_id in due:
        recurring_installment_charge.delay(plan_id)
    return len(due)


@shared_task(bind=True, max_retries=3, default_retry_delay=300)
def recurring_installment_charge(self, plan_id: int) -> None:
    from barnstorm.donations.services import recurring_installment_charge as charge

    charge(plan_id=plan_id)


@shared_task(bind=True, max_retries=5, default_retry_delay=300)
def recurring_stopped_email_send(self, plan_id: int) -> bool:
    """Tell the donor their recurring gift stopped, and how to start again."""
    from barnstorm.donations.models import RecurringPlan

    plan = RecurringPlan.objects.select_related("page").get(pk=plan_id)
    last = plan.contributions.order_by("-received_at").first()
    if last is None or not last.email:
        return False
    context = {"SITE_NAME": settings.SITE_NAME, "plan": plan, "contribution": last, "restart_url": ""}
    if plan.page is not None:
        from django.urls import reverse

        context["restart_url"] = settings.SITE_URL + reverse("donations:donate", args=[plan.page.slug])
        context["restart_url"] += f"?amount={plan.amount_cents / 100:g}&recurring={plan.frequency}"
    subject = render_to_string("donations/email/recurring_stopped_subject.txt", context).strip()
    text = render_to_string("donations/email/recurring_stopped.txt", context)
    try:
        EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [last.email]).send()
    except Exception as exc:
        raise self.retry(exc=exc) from exc
    return True


@shared_task
def attempts_record_task() -> int:
    """Record the gifts charged by the donation page (queued by the first of them; and every minute)."""
    from barnstorm.donations.services import attempts_record

    return attempts_record()


@shared_task
def attempts_reconcile_due() -> int:
    """Charges whose answer was lost: ask again and record them (run every few minutes by the beat)."""
    from barnstorm.donations.services import attempts_reconcile

    return attempts_reconcile()
