"""Reads for fundraising: what pages, receipts and staff lists show."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch

from barnstorm.donations import links
from barnstorm.donations.models import (
    AttemptStatus,
    Contribution,
    DonationPage,
    LineItem,
    PageRecipient,
    PaymentAttempt,
    PlanStatus,
)
from barnstorm.people.models import Person
from barnstorm.people.normalize import email_key
from barnstorm.people.selectors import person_by_email

# Donation pages are read on every gift and edited rarely: each process keeps what it read for a
# few seconds (a primary-night spike then reads each page once per process every few seconds).
PAGE_CACHE_SECONDS = 10
_pages_seen: dict[str, tuple[float, DonationPage | None]] = {}


def page_for_donor(*, slug: str) -> DonationPage | None:
    """An active page with its recipients and their committees; edits show within PAGE_CACHE_SECONDS."""
    seen = _pages_seen.get(slug)
    if seen is not None and time.monotonic() - seen[0] < PAGE_CACHE_SECONDS:
        return seen[1]
    page = (
        DonationPage.objects.filter(slug=slug, is_active=True)
        .prefetch_related(Prefetch("recipients", queryset=PageRecipient.objects.select_related("committee")))
        .first()
    )
    _pages_seen[slug] = (time.monotonic(), page)
    return page


def donor_pages_forget() -> None:
    """Drop this process's copies of donation pages (after an edit here; in tests)."""
    _pages_seen.clear()


def contribution_for_receipt(*, contribution_id: int) -> Contribution:
    return _for_receipt().get(pk=contribution_id)


def contributions_for_receipt(*, contribution_ids: list[int]) -> list[Contribution]:
    return list(_for_receipt().filter(pk__in=contribution_ids).order_by("pk"))


def _for_receipt():
    line_items = LineItem.objects.select_related("committee").order_by("committee_id", "id")
    return Contribution.objects.select_related("recurring_plan").prefetch_related(Prefetch("line_items", line_items))


def election_label(code: str) -> str:
    kind = {"P": "primary", "G": "general"}.get(code[:1], code[:1])
    return f"{code[1:]} {kind}"


def receipt_context(*, contribution: Contribution) -> dict:
    items = list(contribution.line_items.all())
    for item in items:
        item.dollars = f"{item.amount_cents / 100:,.2f}"
        item.election_label = election_label(item.election)
    plan = contribution.recurring_plan
    active_plan = plan if plan is not None and plan.status == PlanStatus.ACTIVE else None
    return {
        "SITE_NAME": settings.SITE_NAME,
        "contribution": contribution,
        "amount": f"{contribution.amount_cents / 100:,.2f}",
        "items": items,
        "manage_url": links.recurring_manage_url(active_plan.pk) if active_plan else "",
        "plan_amount": f"{active_plan.amount_cents / 100:,.2f}" if active_plan else "",
        "plan_frequency": active_plan.get_frequency_display().lower() if active_plan else "",
    }


@dataclass
class GiftBeingRecorded:
    """What the thank-you page shows of a gift charged a moment ago that the worker is recording."""

    given_name: str
    amount_cents: int
    email: str
    recurring_plan: None = None


def gift_for_thanks(target: tuple[str, int] | None) -> tuple[Contribution | GiftBeingRecorded | None, Person | None]:
    """The gift a thank-you link names, and its donor when known (for the next step and share link)."""
    if target is None:
        return None, None
    kind, pk = target
    if kind == "c":
        contribution = Contribution.objects.select_related("recurring_plan", "person").filter(pk=pk).first()
        return contribution, contribution.person if contribution else None
    attempt = PaymentAttempt.objects.select_related("contribution__recurring_plan", "contribution__person")
    attempt = attempt.filter(pk=pk).first()
    if attempt is None:
        return None, None
    if attempt.contribution is not None:
        return attempt.contribution, attempt.contribution.person
    if attempt.status != AttemptStatus.CHARGED:
        return None, None
    donor = attempt.payload.get("donor", {})
    email = email_key(donor.get("email", ""))
    gift = GiftBeingRecorded(given_name=donor.get("given_name", ""), amount_cents=attempt.amount_cents, email=email)
    return gift, person_by_email(address=email) if email else None


def refundable_by_committee(*, contribution_id: int) -> dict[int, tuple[str, int]]:
    """{committee id: (name, cents left to refund)} of a contribution's recipients, in designation order."""
    left: dict[int, tuple[str, int]] = {}
    items = LineItem.objects.filter(contribution_id=contribution_id).order_by("id")
    for committee_id, name, amount, refunded in items.values_list(
        "committee_id", "committee__name", "amount_cents", "refunded_cents"
    ):
        before = left.get(committee_id, (name, 0))[1]
        left[committee_id] = (name, before + amount - refunded)
    return left
