"""Segment predicates over giving: amounts, recurring plans and refcodes (registered with the segments app).

Gifts count net of refunds: a fully refunded or charged-back gift is no gift, and a partly
refunded one counts for what the campaign kept. Without a committee a gift is a contribution
(however it was split); with one, it is the line item designated to that committee.
"""

from __future__ import annotations

from django.db.models import Count, F, Max, Q, Sum

from barnstorm.donations.models import Contribution, LineItem, PlanStatus, RecurringPlan
from barnstorm.segments.engine import (
    WINDOW_PARAMS,
    Boolean,
    Choice,
    CompileContext,
    Integer,
    Predicate,
    TextList,
    WindowPredicate,
)
from barnstorm.segments.predicates import person_in
from barnstorm.segments.registry import register

MEASURES = {"count": Count, "total": Sum, "largest": Max}


def _kept(model):
    """Gifts with something left after refunds, and that something as `net`."""
    return model.objects.filter(amount_cents__gt=F("refunded_cents"))


@register
class Donated(WindowPredicate):
    type = "donated"
    label = "Donated (count, total or largest gift)"
    params = {
        "measure": Choice(list(MEASURES), default="count", help="count of gifts (default), total or largest, in cents"),
        "min": Integer(minimum=0, help="at least this many gifts / cents"),
        "max": Integer(minimum=0, help="at most this many gifts / cents"),
        "committee": Integer(help="only gifts to this committee (its id)"),
        **WINDOW_PARAMS,
    }
    example = {"type": "donated", "measure": "total", "min": 10000, "committee": 1, "days": 365}

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        problems = super().check(context)
        if self["min"] is not None and self["max"] is not None and self["max"] < self["min"]:
            problems.append(("max", "must not be below min"))
        return problems

    def q(self, context: CompileContext) -> Q:
        model = LineItem if self["committee"] else Contribution
        gifts = _kept(model).filter(**self.window("received_at", context))
        if self["committee"]:
            gifts = gifts.filter(committee_id=self["committee"])
        measure = self["measure"] or "count"
        low, high = self["min"], self["max"]
        if measure == "count" and (low or 0) <= 1 and high is None:
            return person_in(gifts)  # gave at all: no grouping needed
        aggregate = Count("pk") if measure == "count" else MEASURES[measure](F("amount_cents") - F("refunded_cents"))
        grouped = gifts.order_by().values("person_id").annotate(measure=aggregate)
        if low is not None:
            grouped = grouped.filter(measure__gte=low)
        if high is not None:
            grouped = grouped.filter(measure__lte=high)
        return Q(pk__in=grouped.values("person_id"))


@register
class RecurringDonor(Predicate):
    type = "recurring_donor"
    label = "Has an active recurring gift"
    params = {}
    example = {"type": "recurring_donor"}

    def q(self, context: CompileContext) -> Q:
        return person_in(RecurringPlan.objects.filter(status=PlanStatus.ACTIVE))


@register
class GaveByRefcode(WindowPredicate):
    type = "refcode"
    label = "Gave through a refcode"
    params = {
        "refcode": TextList(required=True, max_length=100),
        "prefix": Boolean(default=False, help="match refcodes starting with the value (one value only)"),
        **WINDOW_PARAMS,
    }
    example = {"type": "refcode", "refcode": "email-2026-03", "prefix": True, "days": 30}

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        problems = super().check(context)
        if self["prefix"] and len(self["refcode"]) > 1:
            problems.append(("prefix", "works with one refcode, not a list"))
        return problems

    def q(self, context: CompileContext) -> Q:
        gifts = _kept(Contribution).filter(**self.window("received_at", context))
        if self["prefix"]:
            gifts = gifts.filter(refcode__startswith=self["refcode"][0])
        else:
            gifts = gifts.filter(refcode__in=self["refcode"])
        return person_in(gifts)
