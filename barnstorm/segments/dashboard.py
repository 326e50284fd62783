"""The organizer dashboard's figures: computed by a task into the cache, read by the home page.

Two parts, cached separately:

- `recent_figures` — what happened in the last 30 days (signups, contributions and dollars,
  RSVPs and attendance per day; top refcodes; top upcoming events), the not-an-ATM index, the
  ladder's weekly movement and the barnstorm yield. Every query is bounded by a time window on
  an indexed column (Activity kind+occurred_at, Contribution received_at, LevelChange
  changed_at, the published-upcoming events index), so a cold cache computes it in the request.
- `base_figures` — counts over everyone (people, the ladder funnel, supporter density by ZIP).
  These read whole tables, so a page view never computes them: on a miss the view queues
  `dashboard_refresh` and shows the panels as "being counted" until it lands.

`dashboard_refresh` (CELERY_BEAT_SCHEDULE, every five minutes) recomputes both. Cached values are
plain dataclasses, so the page costs no query beyond the session's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from barnstorm.activity.models import Activity
from barnstorm.donations.models import Contribution
from barnstorm.events.models import Event, EventStatus, RsvpStatus
from barnstorm.lib import charts as charts_lib
from barnstorm.people.models import Person, PostalAddress
from barnstorm.people.normalize import zip_info
from barnstorm.segments import ladder, measures
from barnstorm.segments.models import Engagement, Level

DAYS = 30
TOP = 10
MAP_ZIPS = 500  # the densest ZIP codes drawn on the map
RECENT_KEY = "segments:dashboard:recent:v1"
BASE_KEY = "segments:dashboard:base:v1"
QUEUED_KEY = "segments:dashboard:queued"
TIMEOUT = 20 * 60  # well beyond the five-minute refresh: a late worker doesn't empty the page
DAY_KINDS = {"signup": "signups", "rsvp": "rsvps", "attended": "attended"}


@dataclass(frozen=True)
class Day:
    day: date
    signups: int = 0
    contributions: int = 0
    net_cents: int = 0
    rsvps: int = 0
    attended: int = 0


@dataclass(frozen=True)
class RefcodeRow:
    refcode: str
    net_cents: int
    contributions: int


@dataclass(frozen=True)
class EventRow:
    id: int
    title: str
    starts_at: datetime
    city: str
    state: str
    going: int


@dataclass(frozen=True)
class Recent:
    computed_at: datetime
    days: list[Day]
    top_refcodes: list[RefcodeRow]
    top_events: list[EventRow]
    atm: measures.AtmIndex
    movement: list[measures.WeekOfMoves]
    barnstorm: measures.BarnstormYield

    @property
    def signups(self) -> int:
        return sum(d.signups for d in self.days)

    @property
    def contributions(self) -> int:
        return sum(d.contributions for d in self.days)

    @property
    def net_cents(self) -> int:
        return sum(d.net_cents for d in self.days)

    @property
    def rsvps(self) -> int:
        return sum(d.rsvps for d in self.days)

    @property
    def attended(self) -> int:
        return sum(d.attended for d in self.days)


@dataclass(frozen=True)
class Rung:
    level: int
    name: str
    people: int


@dataclass(frozen=True)
class ZipCount:
    zip_code: str
    latitude: float
    longitude: float
    place: str
    people: int


@dataclass(frozen=True)
class Base:
    computed_at: datetime
    people: int
    funnel: list[Rung]
    zips: list[ZipCount] = field(default_factory=list)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def recent_figures(*, now: datetime | None = None, days: int = DAYS) -> Recent:
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start = _midnight(first)
    tz = timezone.get_current_timezone()
    by_day: dict[date, dict[str, int]] = {first + timedelta(days=i): {} for i in range(days)}

    activity = (
        Activity.objects.filter(kind__in=list(DAY_KINDS), occurred_at__gte=start, occurred_at__lte=now)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .order_by()
        .values("kind", "day")
        .annotate(n=Count("id"))
    )
    for row in activity:
        by_day.setdefault(_as_date(row["day"]), {})[DAY_KINDS[row["kind"]]] = row["n"]

    gifts = Contribution.objects.filter(received_at__gte=start, received_at__lte=now).order_by()
    for row in (
        gifts.annotate(day=TruncDate("received_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"), net=Sum(F("amount_cents") - F("refunded_cents")))
    ):
        by_day.setdefault(_as_date(row["day"]), {}).update(contributions=row["n"], net_cents=row["net"] or 0)

    refcodes = (
        gifts.values("refcode")
        .annotate(n=Count("id"), net=Sum(F("amount_cents") - F("refunded_cents")))
        .order_by("-net", "refcode")[:TOP]
    )
    events = (
        Event.objects.filter(status=EventStatus.PUBLISHED, starts_at__gte=now)
        .annotate(going=Count("rsvps", filter=Q(rsvps__status=RsvpStatus.GOING)))
        .order_by("-going", "starts_at", "id")
        .values("id", "title", "starts_at", "city", "state", "going")[:TOP]
    )
    return Recent(
        computed_at=now,
        days=[Day(day, **by_day[day]) for day in sorted(by_day) if first <= day <= today],
        top_refcodes=[RefcodeRow(r["refcode"], r["net"] or 0, r["n"]) for r in refcodes],
        top_events=[EventRow(**e) for e in events],
        atm=measures.not_an_atm_index(now=now),
        movement=measures.ladder_movement_by_week(now=now),
        barnstorm=measures.new_hosts_per_barnstorm(now=now),
    )


def base_figures(*, now: datetime | None = None) -> Base:
    people = Person.objects.count()
    ranked = dict(Engagement.objects.order_by().values_list("level").annotate(n=Count("pk")))
    # Everyone without an Engagement row yet (not refreshed since they signed up) is a supporter.
    ranked[Level.SUPPORTER] = people - sum(n for level, n in ranked.items() if level != Level.SUPPORTER)
    funnel = [Rung(level, name, ranked.get(level, 0)) for level, name in ladder.level_names()]
    zips = []
    rows = (
        PostalAddress.objects.filter(is_primary=True)
        .exclude(zip_code="")
        .order_by()
        .values("zip_code")
        .annotate(n=Count("person_id", distinct=True))
        .order_by("-n", "zip_code")[: MAP_ZIPS * 2]  # ZIP+4 and typos fall out below
    )
    for row in rows:
        info = zip_info(row["zip_code"])
        if info is not None and len(zips) < MAP_ZIPS:
            zips.append(ZipCount(info.zip_code, info.latitude, info.longitude, f"{info.city}, {info.state}", row["n"]))
    return Base(computed_at=now or timezone.now(), people=people, funnel=funnel, zips=zips)


def dashboard_refresh(*, now: datetime | None = None) -> None:
    """Recompute everything into the cache (the periodic task; also after a cold start)."""
    cache.set(RECENT_KEY, recent_figures(now=now), TIMEOUT)
    cache.set(BASE_KEY, base_figures(now=now), TIMEOUT)
    cache.delete(QUEUED_KEY)


def dashboard_cached() -> tuple[Recent, Base | None]:
    """What the home page shows: cached figures; on a miss, the bounded part now and the rest queued."""
    recent, base = _get_both()
    if base is None and cache.add(QUEUED_KEY, 1, TIMEOUT):
        from barnstorm.segments.tasks import dashboard_refresh as task

        task.delay()
        recent, base = _get_both()  # run inline when tasks are eager (development, tests)
    if recent is None:
        recent = recent_figures()
        cache.set(RECENT_KEY, recent, TIMEOUT)
    return recent, base


def _get_both() -> tuple[Recent | None, Base | None]:
    found = cache.get_many([RECENT_KEY, BASE_KEY])
    return found.get(RECENT_KEY), found.get(BASE_KEY)


def dashboard_charts(recent: Recent, base: Base | None) -> dict:
    """The charts the home page draws, built from the cached figures (no query)."""
    labels = [f"{d.day:%b} {d.day.day}" for d in recent.days]
    charts = {
        "activity": charts_lib.line_chart(
            [
                charts_lib.Series(_("Signups"), [d.signups for d in recent.days]),
                charts_lib.Series(_("RSVPs"), [d.rsvps for d in recent.days]),
                charts_lib.Series(_("Attended"), [d.attended for d in recent.days]),
            ],
            labels=labels,
            title=_("Signups, RSVPs and attendance per day"),
        ),
        "dollars": charts_lib.bar_chart(
            [
                charts_lib.Point(label, d.net_cents, f"{d.day:%A, %B} {d.day.day}")
                for label, d in zip(labels, recent.days, strict=True)
            ],
            title=_("Raised per day"),
        ),
        "contributions": charts_lib.bar_chart(
            [charts_lib.Point(label, d.contributions) for label, d in zip(labels, recent.days, strict=True)],
            title=_("Contributions per day"),
            counts=True,
        ),
        "movement": charts_lib.line_chart(
            [
                charts_lib.Series(_("Moved up"), [w.up for w in recent.movement]),
                charts_lib.Series(_("Moved down"), [w.down for w in recent.movement]),
            ],
            labels=[f"{w.start:%b} {w.start.day}" for w in recent.movement],
            title=_("Moves up and down the ladder per week"),
        ),
    }
    if base is not None:
        charts["funnel"] = charts_lib.funnel_chart(
            [charts_lib.Stage(rung.name, rung.people) for rung in base.funnel],
            title=_("The engagement ladder"),
        )
    return charts


def map_markers(base: Base | None) -> list[dict]:
    if base is None:
        return []
    return [
        {"zip": z.zip_code, "lat": z.latitude, "lng": z.longitude, "place": z.place, "people": z.people}
        for z in base.zips
    ]
