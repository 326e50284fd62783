"""Reads for the fundraising dashboard: money by day, hour, page, refcode and committee; donors; gifts.

Every figure is an SQL aggregate over line items — the parts of each contribution designated to
one committee (see models) — so the campaign-wide dashboard and one committee's are the same
queries with one more filter, and the page costs a fixed number of queries however many
contributions there are. Money is net of refunds (a refund counts against the day its
contribution was received) unless a name says gross. Days and hours are the site's TIME_ZONE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from barnstorm.donations.models import Committee, Frequency, LineItem, PlanStatus, RecurringPlan

DEFAULT_DAYS = 30
HOURLY_WINDOW = timedelta(hours=48)
TOP_REFCODES = 10

NET = Sum(F("amount_cents") - F("refunded_cents"), default=0)
CONTRIBUTIONS = Count("contribution_id", distinct=True)
DONORS = Count("person_id", distinct=True)


@dataclass(frozen=True)
class Span:
    """Whole local days, first to last inclusive, as the instants [start, end)."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def span_of_days(*, first_day: date, last_day: date) -> Span:
    return Span(first_day, last_day, _midnight(first_day), _midnight(last_day + timedelta(days=1)))


def default_span(*, today: date | None = None, days: int = DEFAULT_DAYS) -> Span:
    """The last `days` days, today included."""
    today = today or timezone.localdate()
    return span_of_days(first_day=today - timedelta(days=days - 1), last_day=today)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class Summary:
    gross_cents: int
    refunded_cents: int
    net_cents: int
    recurring_net_cents: int  # of net: installments of recurring plans
    contributions: int
    donors: int
    new_donors: int  # gave in the span and never before it
    repeat_donors: int
    average_cents: int  # gifts as given (gross); for one committee, its share of each
    median_cents: int


@dataclass(frozen=True)
class Bucket:
    start: date | datetime  # a local day, or the first instant of an hour
    net_cents: int
    contributions: int


@dataclass(frozen=True)
class Breakdown:
    key: str | int | None  # the page id, refcode or committee id; None or "" when there was none
    label: str
    net_cents: int
    gross_cents: int
    contributions: int
    donors: int

    @property
    def average_cents(self) -> int:
        return round(self.gross_cents / self.contributions) if self.contributions else 0


@dataclass(frozen=True)
class Recurring:
    active_plans: int
    monthly_cents: int  # what active plans bring in a month: weekly ones at 52/12 a week


def line_items_in(*, start: datetime, end: datetime, committee_id: int | None = None) -> QuerySet[LineItem]:
    """What the dashboard sums: the line items received in [start, end), for one committee or all."""
    items = LineItem.objects.filter(received_at__gte=start, received_at__lt=end)
    if committee_id is not None:
        items = items.filter(committee_id=committee_id)
    return items.order_by()


def fundraising_summary(*, span: Span, committee_id: int | None = None) -> Summary:
    items = line_items_in(start=span.start, end=span.end, committee_id=committee_id)
    totals = items.aggregate(
        gross=Sum("amount_cents", default=0),
        refunded=Sum("refunded_cents", default=0),
        recurring=Sum(
            F("amount_cents") - F("refunded_cents"),
            filter=Q(contribution__recurring_plan__isnull=False),
            default=0,
        ),
        contributions=CONTRIBUTIONS,
        donors=DONORS,
    )
    # A donor is new in the span if they gave nothing (to this committee) before it began. An
    # uncorrelated IN: the databases look the earlier donors up once, not once per line item.
    earlier = LineItem.objects.filter(received_at__lt=span.start)
    if committee_id is not None:
        earlier = earlier.filter(committee_id=committee_id)
    repeat = items.filter(person_id__in=earlier.values("person_id")).aggregate(n=DONORS)["n"] if totals["donors"] else 0
    count = totals["contributions"]
    return Summary(
        gross_cents=totals["gross"],
        refunded_cents=totals["refunded"],
        net_cents=totals["gross"] - totals["refunded"],
        recurring_net_cents=totals["recurring"],
        contributions=count,
        donors=totals["donors"],
        new_donors=totals["donors"] - repeat,
        repeat_donors=repeat,
        average_cents=round(totals["gross"] / count) if count else 0,
        median_cents=_median_gift(items, count),
    )


def _median_gift(items: QuerySet[LineItem], count: int) -> int:
    """The middle gift (the mean of the two middle ones for an even count), sorted in the database.

    One ORDER BY … LIMIT 2 OFFSET n/2 over the gifts, which reads the same on SQLite and
    PostgreSQL; only the one or two middle values come back to Python.
    """
    if not count:
        return 0
    gifts = (
        items.values("contribution_id")
        .annotate(gift=Sum("amount_cents"))
        .order_by("gift", "contribution_id")
        .values_list("gift", flat=True)
    )
    middle = list(gifts[(count - 1) // 2 : count // 2 + 1])
    return round(sum(middle) / len(middle))


def totals_by_day(*, span: Span, committee_id: int | None = None) -> list[Bucket]:
    """Every day of the span, days without gifts included."""
    tz = timezone.get_default_timezone()
    rows = (
        line_items_in(start=span.start, end=span.end, committee_id=committee_id)
        .annotate(day=TruncDate("received_at", tzinfo=tz))
        .values("day")
        .annotate(net=NET, contributions=CONTRIBUTIONS)
    )
    found = {row["day"]: row for row in rows}
    buckets = []
    for offset in range(span.days):
        day = span.first_day + timedelta(days=offset)
        row = found.get(day, {"net": 0, "contributions": 0})
        buckets.append(Bucket(day, row["net"], row["contributions"]))
    return buckets


def hours_of(*, day: date | None = None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The hours a day spans (23 to 25 of them), or else the last 48 hours up to the current one."""
    if day is not None:
        return _midnight(day), _midnight(day + timedelta(days=1))
    now = timezone.localtime(now or timezone.now(), timezone.get_default_timezone())
    # Arithmetic on aware datetimes is wall-clock time in their zone: step in UTC across DST.
    end = now.replace(minute=0, second=0, microsecond=0).astimezone(UTC) + timedelta(hours=1)
    return end - HOURLY_WINDOW, end


def totals_by_hour(*, start: datetime, end: datetime, committee_id: int | None = None) -> list[Bucket]:
    """Every hour from `start` (on the hour) up to `end`, hours without gifts included."""
    tz = timezone.get_default_timezone()
    rows = (
        line_items_in(start=start, end=end, committee_id=committee_id)
        .annotate(hour=TruncHour("received_at", tzinfo=tz))
        .values("hour")
        .annotate(net=NET, contributions=CONTRIBUTIONS)
    )
    found = {row["hour"]: row for row in rows}  # aware datetimes: keyed by the instant
    buckets = []
    hour = start.astimezone(UTC)  # so that a step is an hour of real time, on DST days too
    while hour < end:
        row = found.get(hour, {"net": 0, "contributions": 0})
        buckets.append(Bucket(timezone.localtime(hour, tz), row["net"], row["contributions"]))
        hour += timedelta(hours=1)
    return buckets


def _breakdown(items: QuerySet[LineItem], key: str, label: str, *, top: int | None = None) -> list[Breakdown]:
    """Totals grouped by `key` (labelled by `label`), most raised first."""
    rows = (
        items.values(key, label)
        .annotate(net=NET, gross=Sum("amount_cents"), contributions=CONTRIBUTIONS, donors=DONORS)
        .order_by("-net", key)
    )
    if top is not None:
        rows = rows[:top]
    return [Breakdown(r[key], r[label] or "", r["net"], r["gross"], r["contributions"], r["donors"]) for r in rows]


def totals_by_page(*, span: Span, committee_id: int | None = None) -> list[Breakdown]:
    """Donation pages; gifts made without one (checks, imports) are one row, keyed None."""
    items = line_items_in(start=span.start, end=span.end, committee_id=committee_id)
    return _breakdown(items, "contribution__page_id", "contribution__page__title")


def totals_by_refcode(
    *, span: Span, committee_id: int | None = None, top: int | None = TOP_REFCODES
) -> list[Breakdown]:
    """Refcodes (the first `top`, or all of them for an export); gifts without one are one row, keyed ""."""
    items = line_items_in(start=span.start, end=span.end, committee_id=committee_id)
    return _breakdown(items, "contribution__refcode", "contribution__refcode", top=top)


def totals_by_committee(*, span: Span, committee_id: int | None = None) -> list[Breakdown]:
    """What each recipient committee received: a split gift counts its share for each."""
    items = line_items_in(start=span.start, end=span.end, committee_id=committee_id)
    return _breakdown(items, "committee_id", "committee__name")


def recurring_monthly_revenue(*, committee_id: int | None = None) -> Recurring:
    """Active plans as money per month (a weekly gift is 52/12 a month), for one committee or all.

    Plans are summed in the database by their frequency and split (a handful of groups, one per
    page layout); a committee's part is its share of each split.
    """
    rows = (
        RecurringPlan.objects.filter(status=PlanStatus.ACTIVE)
        .order_by()
        .values("frequency", "splits")
        .annotate(total=Sum("amount_cents"), plans=Count("id"))
    )
    monthly = Fraction(0)
    plans = 0
    for row in rows:
        share = Fraction(1)
        if committee_id is not None:
            share = Fraction(sum(bp for cid, bp in row["splits"] if cid == committee_id), 10000)
            if not share:
                continue
        per_month = Fraction(52, 12) if row["frequency"] == Frequency.WEEKLY else Fraction(1)
        monthly += row["total"] * per_month * share
        plans += row["plans"]
    return Recurring(active_plans=plans, monthly_cents=round(monthly))


@dataclass(frozen=True)
class Dashboard:
    span: Span
    committee: Committee | None
    summary: Summary
    by_day: list[Bucket]
    hours_start: datetime
    hours_end: datetime
    by_hour: list[Bucket]
    by_page: list[Breakdown]
    by_refcode: list[Breakdown]
    by_committee: list[Breakdown]
    recurring: Recurring


def fundraising_dashboard(
    *,
    span: Span,
    committee: Committee | None = None,
    hours_day: date | None = None,
    now: datetime | None = None,
    top_refcodes: int = TOP_REFCODES,
) -> Dashboard:
    """Everything the dashboard shows, in a fixed number of queries."""
    committee_id = committee.pk if committee else None
    hours_start, hours_end = hours_of(day=hours_day, now=now)
    return Dashboard(
        span=span,
        committee=committee,
        summary=fundraising_summary(span=span, committee_id=committee_id),
        by_day=totals_by_day(span=span, committee_id=committee_id),
        hours_start=hours_start,
        hours_end=hours_end,
        by_hour=totals_by_hour(start=hours_start, end=hours_end, committee_id=committee_id),
        by_page=totals_by_page(span=span, committee_id=committee_id),
        by_refcode=totals_by_refcode(span=span, committee_id=committee_id, top=top_refcodes),
        by_committee=totals_by_committee(span=span, committee_id=committee_id),
        recurring=recurring_monthly_revenue(committee_id=committee_id),
    )
