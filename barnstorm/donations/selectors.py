"""Reads for fundraising: what pages, receipts and staff lists show."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch

from barnstorm.donations import links
from barnstorm.donations.models import Contribution, DonationPage, LineItem, PageRecipient, PlanStatus


def page_for_donor(*, slug: str) -> DonationPage | None:
    return (
        DonationPage.objects.filter(slug=slug, is_active=True)
        .prefetch_related(Prefetch("recipients", queryset=PageRecipient.objects.select_related("committee")))
        .first()
    )


def contribution_for_receipt(*, contribution_id: int) -> Contribution:
    return (
        Contribution.objects.select_related("recurring_plan")
        .prefetch_related(
            Prefetch("line_items", queryset=LineItem.objects.select_related("committee").order_by("committee_id", "id"))
        )
        .get(pk=contribution_id)
    )


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
