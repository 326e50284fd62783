"""Federal contribution rules: designation to an election, per-election limits, cash, itemization.

`plan_line_items` is the one place these rules are applied. Every intake path reaches it through
`services.contribution_record` (and the donation form asks it first, before any card is charged),
so the web, express gifts, recurring installments, staff entry, imports and the API all agree.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from barnstorm.donations.models import (
    CaseAction,
    CaseKind,
    Committee,
    ContributionLimit,
    LineItem,
    Method,
    OverLimitPolicy,
)

ITEMIZATION_THRESHOLD_CENTS = 20000  # itemize once the cycle-to-date aggregate exceeds $200
CASH_LIMIT_CENTS = 10000  # cash from one source, per election
EXCESS_REFUND_DAYS = 60


class ContributionRefused(ValidationError):
    """The contribution may not be accepted; the message says why, in words for the donor."""

    def __init__(self, message: str, *, kind: str, excess_cents: int = 0, committee: Committee | None = None):
        super().__init__(message)
        self.kind = kind
        self.excess_cents = excess_cents
        self.committee = committee
        self.person_id: int | None = None


@dataclass(frozen=True)
class Split:
    committee_id: int
    share_bp: int  # basis points: 10000 is the whole contribution
    # Exact cents, when the split is already known to the cent (an imported history's line items).
    amount_cents: int | None = None


@dataclass
class PlannedItem:
    committee: Committee
    election: str
    amount_cents: int
    memo: str = ""


@dataclass
class PlannedCase:
    kind: str
    action: str
    committee: Committee
    amount_cents: int
    detail: str
    due_on: date | None = None


@dataclass
class Plan:
    items: list[PlannedItem]
    cases: list[PlannedCase]
    # The donor's net total per (committee id, cycle) before this contribution: the line items'
    # cycle-to-date aggregates start from it.
    cycle_totals: dict[tuple[int, int], int] = field(default_factory=dict)
    # What the decision started from, by (committee id, election, method): see `totals_after`.
    totals: dict[tuple[int, str, str], int] = field(default_factory=dict)

    def totals_after(self, method: str) -> dict[tuple[int, str, str], int]:
        """The donor's totals once this contribution is recorded: where their next gift's plan starts."""
        after = dict(self.totals)
        for item in self.items:
            key = (item.committee.pk, item.election, method)
            after[key] = after.get(key, 0) + item.amount_cents
        return after


def split_amount(amount_cents: int, splits: list[Split]) -> list[int]:
    """Each recipient's share in whole cents; the rounding remainder goes to the first."""
    if all(s.amount_cents is not None for s in splits) and sum(s.amount_cents for s in splits) == amount_cents:
        return [s.amount_cents for s in splits]
    if not splits or sum(s.share_bp for s in splits) != 10000:
        raise ValueError("splits must add up to 10000 basis points")
    parts = [amount_cents * s.share_bp // 10000 for s in splits]
    parts[0] += amount_cents - sum(parts)
    return parts


def election_for(committee: Committee, when: datetime) -> str:
    """The election a contribution received `when` is designated to: primary until its date."""
    day = timezone.localdate(when)
    if committee.primary_date is None or day <= committee.primary_date:
        return f"P{committee.election_year}"
    return f"G{committee.election_year}"


def designations_for(
    *, splits: list[Split], received_at: datetime, election: str, committees: dict[int, Committee]
) -> list[str]:
    """Each recipient's election: the one given, or by the date the contribution was received."""
    return [election or election_for(committees[s.committee_id], received_at) for s in splits]


def cycle_of(election: str) -> int:
    year = int(election[1:])
    return year + (year % 2)


# The individual-to-candidate limit per election, by the even year each cycle ends (52 U.S.C. 30116,
# indexed by the FEC each cycle). Rows in ContributionLimit add later cycles or override these.
STATUTORY_LIMITS_CENTS = {2016: 270000, 2018: 270000, 2020: 280000, 2022: 290000, 2024: 330000, 2026: 350000}


_limits_seen: dict[int, tuple[float, int]] = {}  # cycle -> (read at, cents): this process's copy
LIMIT_CACHE_SECONDS = 300


def limits_forget() -> None:
    """Drop this process's copy of the limits (tests; after editing the table by hand)."""
    _limits_seen.clear()


def limit_cents(cycle: int) -> int:
    """The per-election individual limit for a two-year cycle (the newest known, for later cycles).

    Each process keeps what it read for five minutes: limits change once a cycle.
    """
    seen = _limits_seen.get(cycle)
    if seen is not None and time.monotonic() - seen[0] < LIMIT_CACHE_SECONDS:
        return seen[1]
    key = f"donations:limit:{cycle}"
    value = cache.get(key)
    if value is None:
        row = ContributionLimit.objects.filter(cycle__lte=cycle).order_by("-cycle").first()
        known = [c for c in STATUTORY_LIMITS_CENTS if c <= cycle]
        if row is not None and (not known or row.cycle >= max(known)):
            value = row.amount_cents
        elif known:
            value = STATUTORY_LIMITS_CENTS[max(known)]
        else:
            raise ValueError(f"no contribution limit known for the {cycle} cycle")
        cache.set(key, value, LIMIT_CACHE_SECONDS)
    _limits_seen[cycle] = (time.monotonic(), value)
    return value


def donor_totals(*, person_id: int, committee_ids: list[int], cycles: set[int]) -> dict[tuple[int, str, str], int]:
    """Net given so far, by (committee, election, method), in one indexed query."""
    return donors_totals(person_ids=[person_id], committee_ids=committee_ids, cycles=cycles).get(person_id, {})


def donors_totals(
    *, person_ids: list[int], committee_ids: list[int] | None = None, cycles: set[int] | None = None
) -> dict[int, dict[tuple[int, str, str], int]]:
    """donor_totals for several donors in one query: {person id: {(committee, election, method): net}}.

    Without committees or cycles, every committee and cycle the donors gave to.
    """
    rows = LineItem.objects.filter(person_id__in=person_ids)
    if committee_ids is not None:
        rows = rows.filter(committee_id__in=committee_ids)
    if cycles is not None:
        rows = rows.filter(cycle__in=cycles)
    rows = rows.values_list("person_id", "committee_id", "election", "method").annotate(
        net=Sum(F("amount_cents") - F("refunded_cents"))
    )
    totals: dict[int, dict[tuple[int, str, str], int]] = {}
    for person_id, committee_id, election, method, net in rows:
        totals.setdefault(person_id, {})[committee_id, election, method] = net
    return totals


def plan_line_items(
    *,
    person_id: int | None,
    amount_cents: int,
    method: str,
    splits: list[Split],
    received_at: datetime,
    election: str = "",
    money_moved: bool,
    committees: dict[int, Committee] | None = None,
    totals: dict[tuple[int, str, str], int] | None = None,
) -> Plan:
    """Designate each recipient's share to an election within the limits.

    `totals` are the donor's net totals by (committee id, election, method) when the caller knows
    them already (empty for a donor created just now; a batch's running totals); otherwise they
    are read for `person_id`, under the caller's lock on the donor.

    Before any money moves (`money_moved=False`), a contribution over a limit under the
    "refuse" policy raises ContributionRefused. Once money has moved (a card already charged,
    a check already banked), the excess is never refused silently: it is redesignated where the
    policy allows, and otherwise queued for refund, each with a compliance case.
    """
    wanted = {s.committee_id for s in splits}
    if committees is None or not wanted <= committees.keys():
        committees = Committee.objects.in_bulk(wanted)
    shares = split_amount(amount_cents, splits)
    plan = Plan(items=[], cases=[])
    designations = designations_for(splits=splits, received_at=received_at, election=election, committees=committees)
    if totals is None:
        totals = {}
        if person_id is not None:
            cycles = {cycle_of(d) for d in designations}
            totals = donor_totals(person_id=person_id, committee_ids=list(committees), cycles=cycles)
    plan.totals = totals
    given: dict[tuple[int, str], int] = defaultdict(int)
    cash_given: dict[tuple[int, str], int] = defaultdict(int)
    for (committee_id, election_code, item_method), net in totals.items():
        given[committee_id, election_code] += net
        plan.cycle_totals[committee_id, cycle_of(election_code)] = (
            plan.cycle_totals.get((committee_id, cycle_of(election_code)), 0) + net
        )
        if item_method == Method.CASH:
            cash_given[committee_id, election_code] += net

    for split, share, designated in zip(splits, shares, designations, strict=True):
        committee = committees[split.committee_id]
        if method == Method.CASH and cash_given[committee.pk, designated] + share > CASH_LIMIT_CENTS:
            room = max(0, CASH_LIMIT_CENTS - cash_given[committee.pk, designated])
            raise ContributionRefused(
                _("Cash contributions are limited to $100 per election; this donor can give $%(room)s more in cash.")
                % {"room": f"{room / 100:,.2f}"},
                kind=CaseKind.CASH_LIMIT,
                excess_cents=share - room,
                committee=committee,
            )
        limit = limit_cents(cycle_of(designated))
        room = max(0, limit - given[committee.pk, designated])
        if share <= room:
            plan.items.append(PlannedItem(committee, designated, share))
            given[committee.pk, designated] += share
            continue
        excess = share - room
        if committee.over_limit_policy == OverLimitPolicy.REFUSE and not money_moved:
            raise ContributionRefused(
                _(
                    "That is more than the law allows one person to give to %(committee)s for this election: "
                    "you can give up to $%(room)s more."
                )
                % {"committee": committee.name, "room": f"{room / 100:,.2f}"},
                kind=CaseKind.OVER_LIMIT,
                excess_cents=excess,
                committee=committee,
            )
        if room:
            plan.items.append(PlannedItem(committee, designated, room))
            given[committee.pk, designated] += room
        general = f"G{designated[1:]}"
        general_room = limit - given[committee.pk, general]
        if (
            committee.over_limit_policy == OverLimitPolicy.REDESIGNATE
            and designated.startswith("P")
            and excess <= general_room
        ):
            plan.items.append(PlannedItem(committee, general, excess, memo=_("Redesignated from the primary")))
            given[committee.pk, general] += excess
            plan.cases.append(
                PlannedCase(
                    CaseKind.OVER_LIMIT,
                    CaseAction.REDESIGNATED,
                    committee,
                    excess,
                    _("$%(excess)s over the primary limit, redesignated to the general")
                    % {"excess": f"{excess / 100:,.2f}"},
                )
            )
        else:
            # Accepted for now (the money is here) but owed back: the refund is due within 60 days.
            plan.items.append(PlannedItem(committee, designated, excess, memo=_("Excess, to be refunded")))
            plan.cases.append(
                PlannedCase(
                    CaseKind.OVER_LIMIT,
                    CaseAction.REFUND_QUEUED,
                    committee,
                    excess,
                    _("$%(excess)s over the limit for %(election)s, queued for refund")
                    % {"excess": f"{excess / 100:,.2f}", "election": designated},
                    due_on=timezone.localdate(received_at) + timedelta(days=EXCESS_REFUND_DAYS),
                )
            )
    return plan
