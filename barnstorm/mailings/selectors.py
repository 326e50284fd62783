"""Reads for mailings: progress, results and what each mailing's links brought in."""

from __future__ import annotations

from django.db.models import Sum

from barnstorm.donations.models import Contribution, ContributionStatus
from barnstorm.mailings.models import Mailing

COUNTED = (ContributionStatus.PAID, ContributionStatus.PARTIALLY_REFUNDED)


def mailing_dollars_by_variant(*, mailing: Mailing) -> dict[int, int]:
    """Cents given through each subject variant's links (refcode mail-<id>-<a…d>)."""
    refcodes = {mailing.variant_refcode(v): v for v in range(mailing.variants.count())}
    rows = (
        Contribution.objects.filter(refcode__in=list(refcodes), status__in=COUNTED)
        .values("refcode")
        .annotate(cents=Sum("amount_cents"))
        .values_list("refcode", "cents")
    )
    found = {refcodes[refcode]: cents or 0 for refcode, cents in rows}
    return {v: found.get(v, 0) for v in refcodes.values()}
