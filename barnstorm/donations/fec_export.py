"""A committee's FEC report from the database: `fec_filing` builds it, `fec_export_write` writes it.

The summary comes from SQL aggregates over the committee's line items; the Schedule A lines come
from one server-side cursor over the itemized line items of the period, joined to the donor as the
contribution recorded them (values, never model instances), so a report of a million contributions
takes a handful of queries and constant memory.

Contributions are reported gross: a contribution refunded later stays on Schedule A at its full
amount, and the refund is a disbursement on Schedule B in the period it was paid (see `fec`).

Dates are the site's (settings.TIME_ZONE): a contribution received at 11 pm in New York on March 31
belongs to the first quarter, although it is April in UTC.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from barnstorm.donations import fec
from barnstorm.donations.models import Committee, LineItem, Office, RefundKind, RefundLine

# The reports Barnstorm can fill in by itself: pre- and post-election reports of the committee's
# own primary and general (runoffs, specials and conventions need an election date it does not
# keep; `fec_filing` takes one). Monthly reports are Form 3P's.
REPORT_CODES = {
    "Q1": _("April quarterly (Q1)"),
    "Q2": _("July quarterly (Q2)"),
    "Q3": _("October quarterly (Q3)"),
    "YE": _("Year-end (YE)"),
    "12P": _("Pre-primary (12P)"),
    "12G": _("Pre-general (12G)"),
    "30G": _("Post-general (30G)"),
    "TER": _("Termination (TER)"),
    **{f"M{month}": format_lazy("{} (M{})", _("Monthly"), month) for month in range(2, 13)},
}
CHUNK_SIZE = 5_000  # rows per fetch from the server-side cursor
_SENATE_TERM_YEARS = 6


@dataclass(frozen=True)
class FecExport:
    """What `fec_export_write` wrote."""

    filing: fec.Filing
    receipts: int  # Schedule A lines
    refunds: int  # Schedule B lines


def fec_export_write(
    *, committee: Committee, date_from: date, date_to: date, report_code: str, out: BinaryIO, **report_options
) -> FecExport:
    """Write the committee's report to the binary file `out`, totals and lines from one snapshot.

    Raises ValueError when the report cannot be written (a donor without a name or address on an
    itemized line, a pre-election report without its election date …): what was written to `out`
    by then must be thrown away.
    """
    with fec_snapshot():
        filing = fec_filing(
            committee=committee, date_from=date_from, date_to=date_to, report_code=report_code, **report_options
        )
        receipts, refunds = _Counted(filing.receipts), _Counted(filing.refunds)
        fec.fec_write(replace(filing, receipts=receipts, refunds=refunds), out)
    return FecExport(filing=filing, receipts=receipts.count, refunds=refunds.count)


@contextlib.contextmanager
def fec_snapshot() -> Iterator[None]:
    """Every read inside sees the database as of one moment.

    The cover's totals are read before the lines are streamed; a contribution recorded in between
    (or one that crosses $200 and so itemizes the donor's earlier ones) would make them disagree,
    and `fec_write` refuse the file. In one snapshot they cannot.
    """
    if connection.in_atomic_block:
        # The caller's transaction is already under way and its isolation level is set: the tests,
        # or a caller that knows what it wants.
        yield
    elif connection.vendor == "postgresql":
        # The default, READ COMMITTED, takes a new snapshot for every statement; REPEATABLE READ
        # keeps the first one until the transaction ends. Readers block no writer either way.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")  # must come first
            yield
    elif connection.vendor == "sqlite":
        # A read transaction in WAL mode reads one snapshot from its first SELECT until it ends,
        # while writers carry on. Not transaction.atomic(): settings make it BEGIN IMMEDIATE, which
        # takes the write lock and would hold every donation back until the export is done.
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")  # nothing was written
    else:
        with transaction.atomic():
            yield


def fec_filing(
    *,
    committee: Committee,
    date_from: date,
    date_to: date,
    report_code: str,
    date_signed: date | None = None,
    amendment: bool = False,
    original_report_id: str = "",
    election_code: str = "",
    election_date: date | None = None,
    election_state: str = "",
    cash_on_hand_beginning_cents: int = 0,
) -> fec.Filing:
    """The committee's report on the contributions it received from `date_from` to `date_to`.

    Its receipts are a generator over a database cursor: call this inside `fec_snapshot()` and
    write the filing before leaving it (or use `fec_export_write`, which does both).
    """
    if date_from > date_to:
        raise ValueError(f"the report starts ({date_from}) after it ends ({date_to})")
    report_code = report_code.upper()
    start, end = _local_midnight(date_from), _local_midnight(date_to + timedelta(days=1))
    to_date_start = _local_midnight(_to_date_from(committee, date_from, date_to))
    earliest = min(start, to_date_start)

    period_only = Q(received_at__gte=start)
    to_date_only = Q(received_at__gte=to_date_start)
    sums = LineItem.objects.filter(committee=committee, received_at__gte=earliest, received_at__lt=end).aggregate(
        itemized_cents=Sum("amount_cents", filter=period_only & Q(itemized=True), default=0),
        unitemized_cents=Sum("amount_cents", filter=period_only & Q(itemized=False), default=0),
        itemized_to_date_cents=Sum("amount_cents", filter=to_date_only & Q(itemized=True), default=0),
        unitemized_to_date_cents=Sum("amount_cents", filter=to_date_only & Q(itemized=False), default=0),
        primary_lines=Count("id", filter=period_only & Q(election__startswith="P")),
        general_lines=Count("id", filter=period_only & Q(election__startswith="G")),
    )
    refund_shares = _refund_shares(committee.pk, earliest, end)
    summary = fec.Summary(
        period=fec.Totals(
            individual_itemized_cents=sums["itemized_cents"],
            individual_unitemized_cents=sums["unitemized_cents"],
            individual_refunds_cents=sum(s.amount_cents for s in refund_shares if s.refunded_at >= start),
        ),
        to_date=fec.Totals(
            individual_itemized_cents=sums["itemized_to_date_cents"],
            individual_unitemized_cents=sums["unitemized_to_date_cents"],
            individual_refunds_cents=sum(s.amount_cents for s in refund_shares if s.refunded_at >= to_date_start),
        ),
        cash_on_hand_beginning_cents=cash_on_hand_beginning_cents,
    )
    if not election_code and report_code[:2] in ("12", "30"):
        election_code, election_date, election_state = _election_reported_on(committee, report_code)
    report = fec.Report(
        report_code=report_code,
        coverage_from=date_from,
        coverage_through=date_to,
        date_signed=date_signed or timezone.localdate(),
        amendment=amendment,
        original_report_id=original_report_id,
        election_code=election_code,
        election_date=election_date,
        election_state=election_state,
        primary_activity=sums["primary_lines"] > 0,
        general_activity=sums["general_lines"] > 0,
    )
    return fec.Filing(
        committee=_filer(committee),
        report=report,
        summary=summary,
        receipts=_receipts(committee.pk, start, end),
        refunds=_refund_lines([s for s in refund_shares if s.refunded_at >= start and s.itemized]),
    )


def _filer(committee: Committee) -> fec.Committee:
    return fec.Committee(
        fec_id=committee.fec_id,
        name=committee.name,
        street_1=committee.street1,
        street_2=committee.street2,
        city=committee.city,
        state=committee.state,
        zip_code=committee.zip_code,
        treasurer_last_name=committee.treasurer_family_name,
        treasurer_first_name=committee.treasurer_given_name,
        candidate_office=committee.office,
        candidate_state=committee.office_state if committee.office != Office.PRESIDENT else "",
        candidate_district=committee.office_district if committee.office == Office.HOUSE else "",
    )


_DONOR = (
    "contribution__given_name",
    "contribution__family_name",
    "contribution__street1",
    "contribution__street2",
    "contribution__city",
    "contribution__state",
    "contribution__zip_code",
)


def _receipts(committee_id: int, start: datetime, end: datetime) -> Iterator[fec.Receipt]:
    """The itemized line items received in the period, one Schedule A line each, oldest first."""
    rows = (
        LineItem.objects.filter(committee_id=committee_id, itemized=True, received_at__gte=start, received_at__lt=end)
        .order_by("received_at", "id")
        .values_list(
            "id",
            "received_at",
            "amount_cents",
            "cycle_aggregate_cents",
            "election",
            "memo",
            *_DONOR,
            "contribution__employer",
            "contribution__occupation",
        )
    )
    zone = timezone.get_default_timezone()
    for (
        pk,
        received_at,
        amount_cents,
        aggregate_cents,
        election,
        memo,
        given_name,
        family_name,
        street1,
        street2,
        city,
        state,
        zip_code,
        employer,
        occupation,
    ) in rows.iterator(chunk_size=CHUNK_SIZE):
        last_name, first_name = _names(given_name, family_name)
        yield fec.Receipt(
            transaction_id=f"SA{pk}",
            last_name=last_name,
            first_name=first_name,
            street_1=street1,
            street_2=street2,
            city=city,
            state=state,
            zip_code=zip_code,
            date_received=received_at.astimezone(zone).date(),
            amount_cents=amount_cents,
            aggregate_cents=aggregate_cents,
            election_code=election,
            employer=employer,
            occupation=occupation,
            memo_text=memo,
        )


@dataclass(slots=True)
class _RefundShare:
    """The part of one refund that came out of this committee's line items for one election."""

    refund_id: int
    refunded_at: datetime
    amount_cents: int
    election: str
    itemized: bool
    chargeback: bool
    donor: tuple[str, ...]  # as in _DONOR


def _refund_shares(committee_id: int, start: datetime, end: datetime) -> list[_RefundShare]:
    """What each refund paid from `start` to `end` took back from this committee, per election.

    A refund is of a contribution, which may be split between committees and elections; its
    lines say which line items gave the money back.
    """
    shares: dict[tuple[int, str, bool], _RefundShare] = {}
    rows = (
        RefundLine.objects.filter(
            refund__created_at__gte=start, refund__created_at__lt=end, line_item__committee_id=committee_id
        )
        .order_by("refund_id", "id")
        .values_list(
            "refund_id",
            "refund__created_at",
            "amount_cents",
            "line_item__election",
            "line_item__itemized",
            "refund__kind",
            *(f"refund__{field}" for field in _DONOR),
        )
    )
    for refund_id, refunded_at, amount_cents, election, itemized, kind, *donor in rows:
        key = (refund_id, election, itemized)
        if key in shares:
            shares[key].amount_cents += amount_cents
        else:
            chargeback = kind == RefundKind.CHARGEBACK
            share = _RefundShare(refund_id, refunded_at, amount_cents, election, itemized, chargeback, tuple(donor))
            shares[key] = share
    return list(shares.values())


def _refund_lines(shares: list[_RefundShare]) -> list[fec.Refund]:
    zone = timezone.get_default_timezone()
    per_refund: dict[int, int] = defaultdict(int)
    for share in shares:
        per_refund[share.refund_id] += 1
    lines = []
    for share in sorted(shares, key=lambda s: (s.refunded_at, s.refund_id, s.election)):
        given_name, family_name, street1, street2, city, state, zip_code = share.donor
        last_name, first_name = _names(given_name, family_name)
        # One line per refund, unless it took back from two elections (a redesignated excess and
        # the primary share, say): then one per election, told apart by the election's code.
        suffix = share.election if per_refund[share.refund_id] > 1 else ""
        lines.append(
            fec.Refund(
                transaction_id=f"SB{share.refund_id}{suffix}",
                last_name=last_name,
                first_name=first_name,
                street_1=street1,
                street_2=street2,
                city=city,
                state=state,
                zip_code=zip_code,
                date_refunded=share.refunded_at.astimezone(zone).date(),
                amount_cents=share.amount_cents,
                election_code=share.election,
                purpose="Chargeback of contribution" if share.chargeback else "Refund of contribution",
            )
        )
    return lines


def _names(given_name: str, family_name: str) -> tuple[str, str]:
    """(last, first). A whole name in the given name (some imports) is split at its last space."""
    if family_name.strip():
        return family_name, given_name
    first, _space, last = given_name.strip().rpartition(" ")
    return last, first


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _to_date_from(committee: Committee, date_from: date, date_to: date) -> date:
    """The first day of column B: the calendar year on Form 3P, the election cycle on Form 3.

    A candidate's election cycle starts the day after the previous general election for the seat
    (11 CFR 100.3(b)): two years back for the House, six for the Senate. The cycle a report
    belongs to is the one its period starts in, so that a post-general report's column B still
    covers the campaign it closes.
    """
    if committee.office == Office.PRESIDENT:
        return date(date_to.year, 1, 1)
    term = _SENATE_TERM_YEARS if committee.office == Office.SENATE else 2
    year = committee.election_year
    while general_election_day(year) >= date_from:
        year -= term
    while general_election_day(year + term) < date_from:
        year += term
    return general_election_day(year) + timedelta(days=1)


def general_election_day(year: int) -> date:
    """The Tuesday after the first Monday of November."""
    first_of_november = date(year, 11, 1)
    first_monday = first_of_november + timedelta(days=-first_of_november.weekday() % 7)
    return first_monday + timedelta(days=1)


def _election_reported_on(committee: Committee, report_code: str) -> tuple[str, date | None, str]:
    """The election a 12P, 12G or 30G report is for: the committee's own primary or general."""
    state = committee.office_state if committee.office != Office.PRESIDENT else ""
    if report_code == "12P":
        return f"P{committee.election_year}", committee.primary_date, state
    if report_code in ("12G", "30G"):
        return f"G{committee.election_year}", general_election_day(committee.election_year), state
    return "", None, ""  # fec_write says what is missing


class _Counted:
    """Iterates over `items` once, counting them."""

    def __init__(self, items: Iterable):
        self.items = items
        self.count = 0

    def __iter__(self) -> Iterator:
        for item in self.items:
            self.count += 1
            yield item
