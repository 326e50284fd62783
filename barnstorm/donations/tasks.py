"""Background work for fundraising. Tasks take ids, and are safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from barnstorm.donations import selectors
from barnstorm.donations.models import Contribution


def _claim(contribution_ids: list[int], field: str) -> list[int]:
    """Mark once-only emails as sent before sending; returns the ids this run won.

    The rows are locked while they are read and marked, so two runs given the same ids split
    them (the second finds them marked), never both send one.
    """
    with transaction.atomic():
        unclaimed = Contribution.objects.select_for_update().filter(
            pk__in=contribution_ids, **{f"{field}__isnull": True}
        )
        won = list(unclaimed.values_list("pk", flat=True))
        Contribution.objects.filter(pk__in=won).update(**{field: timezone.now()})
    return won


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def contribution_receipt_send(self, contribution_id: int) -> bool:
    """Email the receipt for one charge (each recurring installment has its own)."""
    try:
        return _receipt_send(contribution_id)
    except Exception as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def contribution_receipts_send(contribution_ids: list[int]) -> int:
    """The receipts of gifts recorded together, claimed at once and sent over one connection.

    A receipt that can't be sent is released and retried on its own (contribution_receipt_send).
    """
    contributions = selectors.contributions_for_receipt(contribution_ids=_claim(contribution_ids, "receipt_sent_at"))
    messages = [(c.pk, _message(c, "receipt", selectors.receipt_context(contribution=c))) for c in contributions]
    done = 0  # messages handled, in order (a donor without an address has none to send)
    try:
        with get_connection() as connection:
            for _contribution_id, message in messages:
                if message is not None:
                    message.connection = connection
                    message.send()
                done += 1
    except Exception:
        unsent = [contribution_id for contribution_id, _message in messages[done:]]
        Contribution.objects.filter(pk__in=unsent).update(receipt_sent_at=None)
        for contribution_id in unsent:
            contribution_receipt_send.delay(contribution_id)
    return sum(message is not None for _contribution_id, message in messages[:done])


def _receipt_send(contribution_id: int) -> bool:
    if not _claim([contribution_id], "receipt_sent_at"):
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
    message = _message(contribution, template, context)
    if message is not None:
        message.send()


def _message(contribution: Contribution, template: str, context: dict) -> EmailMultiAlternatives | None:
    if not contribution.email:
        return None
    subject = render_to_string(f"donations/email/{template}_subject.txt", context).strip()
    text = render_to_string(f"donations/email/{template}.txt", context)
    return EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [contribution.email])


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
