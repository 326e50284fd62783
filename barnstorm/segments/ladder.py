"""The engagement ladder: each person's rung and a recency-weighted score, kept from the activity log.

The rung is the highest rung any of the person's recent actions reaches (settings
`ENGAGEMENT_LADDER`, kind → rung, defaults below), raised to host / leader while they lead a
local group. "Recent" is `ENGAGEMENT_LEVEL_WINDOW_DAYS` (365 by default): a donor who has not
given for a year is a supporter again, so people move down the ladder as well as up.

The score is Σ weight(kind) · 2^(−age / half-life) over the person's actions in the last
`SCORE_HORIZON_DAYS`: an attended event (weight 5) today is worth 5, 90 days ago 2.5, 180 days
ago 1.25 (`ENGAGEMENT_WEIGHTS`, `ENGAGEMENT_HALF_LIFE_DAYS`; kinds without a weight, such as
being tagged or receiving a message, count nothing). Ages are counted in whole days, so the
log is read grouped by (person, kind, day) — one row however many times a person acted that
day. A stored score is as of `Engagement.updated_at`; every stored score decays by the same
factor, so `score_at` brings one to another moment, and the periodic refresh and the full
recompute keep them current.

`engagement_update` recomputes a batch of people in a fixed number of queries: the grouped
read uses the (person, occurred_at) index, and the writes are one upsert and one insert of
level changes. The incremental path (tasks.py) and the full recompute command call the same
function, so they agree by construction.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.db.models.functions import TruncDate
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.people.models import GroupMembership, GroupRole, Person
from barnstorm.segments.models import Engagement, Level, LevelChange

# kind → rung (settings.ENGAGEMENT_LADDER overrides). A call made, a text sent or a door knocked
# as a volunteer ("field_volunteered", one per contact attempt) is the volunteer rung.
DEFAULT_LADDER: dict[str, int] = {
    "donation": Level.DONOR,
    "recurring_started": Level.DONOR,
    "rsvp": Level.VOLUNTEER,
    "attended": Level.VOLUNTEER,
    "event_proposed": Level.VOLUNTEER,
    "field_volunteered": Level.VOLUNTEER,
    "hosted_event": Level.LEADER,
    "recruited": Level.LEADER,  # someone signed up, gave or RSVPed through their share link
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "signup": 1.0,
    "donation": 3.0,
    "recurring_started": 5.0,
    "rsvp": 2.0,
    "attended": 5.0,
    "event_proposed": 4.0,
    "field_volunteered": 1.0,  # per contact attempt: an evening of calls adds up
    "hosted_event": 10.0,
    "recruited": 6.0,
}
DEFAULT_HALF_LIFE_DAYS = 90
DEFAULT_LEVEL_WINDOW_DAYS = 365
# Beyond eight half-lives an action weighs under 0.4 % of its worth today: not worth reading.
SCORE_HORIZON_HALF_LIVES = 8


def ladder() -> dict[str, int]:
    """kind → rung, the defaults overridden by settings.ENGAGEMENT_LADDER (a rung of 0 removes a kind)."""
    table = {**DEFAULT_LADDER, **getattr(settings, "ENGAGEMENT_LADDER", {})}
    return {kind: int(rung) for kind, rung in table.items() if int(rung) > Level.SUPPORTER}


def weights() -> dict[str, float]:
    table = {**DEFAULT_WEIGHTS, **getattr(settings, "ENGAGEMENT_WEIGHTS", {})}
    return {kind: float(w) for kind, w in table.items() if w}


def half_life_days() -> float:
    return float(getattr(settings, "ENGAGEMENT_HALF_LIFE_DAYS", DEFAULT_HALF_LIFE_DAYS))


def level_window() -> timedelta:
    return timedelta(days=getattr(settings, "ENGAGEMENT_LEVEL_WINDOW_DAYS", DEFAULT_LEVEL_WINDOW_DAYS))


def score_horizon() -> timedelta:
    return timedelta(days=half_life_days() * SCORE_HORIZON_HALF_LIVES)


def level_name(level: int) -> str:
    """The rung's name: settings.ENGAGEMENT_LEVEL_NAMES ({0: "Supporter", …}) or the defaults."""
    names = getattr(settings, "ENGAGEMENT_LEVEL_NAMES", {})
    return str(names.get(int(level)) or Level(int(level)).label)


def level_names() -> list[tuple[int, str]]:
    return [(level.value, level_name(level.value)) for level in Level]


def kinds_at_or_above(rung: int) -> list[str]:
    return sorted(kind for kind, r in ladder().items() if r >= rung)


def donation_kinds() -> list[str]:
    return sorted(kind for kind, r in ladder().items() if r == Level.DONOR)


def decay(age_days: float) -> float:
    return math.pow(0.5, max(age_days, 0.0) / half_life_days())


def score_at(engagement: Engagement, when: datetime) -> float:
    """A stored score brought to another moment (every score decays at the same rate)."""
    return engagement.score * decay((when - engagement.updated_at).total_seconds() / 86400)


@dataclass(frozen=True)
class Standing:
    level: int
    score: float


def standings_for(person_ids: Sequence[int], *, now: datetime) -> dict[int, Standing]:
    """Each person's rung and score at `now`, in two queries, without writing anything."""
    ids = list(person_ids)
    rungs, weight_of = ladder(), weights()
    relevant = sorted(set(rungs) | set(weight_of))
    level_since = now - level_window()
    horizon = now - max(level_window(), score_horizon())
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    rows = (
        Activity.objects.filter(person_id__in=ids, kind__in=relevant, occurred_at__gte=horizon, occurred_at__lte=now)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .order_by()
        .values("person_id", "kind", "day")
        .annotate(n=Count("id"), last=Max("occurred_at"))
    )
    levels: dict[int, int] = defaultdict(int)
    scores: dict[int, float] = defaultdict(float)
    for row in rows:
        pid, kind = row["person_id"], row["kind"]
        if kind in rungs and row["last"] >= level_since:
            levels[pid] = max(levels[pid], rungs[kind])
        if kind in weight_of:
            scores[pid] += weight_of[kind] * row["n"] * decay(_days_between(row["day"], today))
    leaders = GroupMembership.objects.filter(person_id__in=ids, role=GroupRole.LEADER).values_list(
        "person_id", flat=True
    )
    for pid in leaders:
        levels[pid] = Level.LEADER
    return {pid: Standing(level=levels[pid], score=round(scores[pid], 6)) for pid in ids}


def _days_between(day: date | datetime, today: date) -> int:
    if isinstance(day, datetime):  # some backends hand back a datetime for a truncated date
        day = day.date()
    return (today - day).days


def engagement_update(*, person_ids: Iterable[int], now: datetime | None = None) -> int:
    """Recompute these people's rung and score from their activity; record a LevelChange for each move.

    Idempotent: running it twice at the same `now` writes the same rows and no second change.
    Returns how many people moved. Callers pass batches (a few thousand ids at most).
    """
    now = now or timezone.now()
    # People merged away or deleted since their activity was queued have nothing left to rank.
    ids = sorted(Person.objects.filter(pk__in=set(person_ids)).values_list("pk", flat=True))
    if not ids:
        return 0
    standings = standings_for(ids, now=now)
    with transaction.atomic():
        # Locks the rows that exist (Postgres) so two workers don't both record the same move.
        before = {
            pid: (level, changed_at)
            for pid, level, changed_at in Engagement.objects.select_for_update()
            .filter(person_id__in=ids)
            .order_by("person_id")
            .values_list("person_id", "level", "level_changed_at")
        }
        rows, moves = [], []
        for pid in ids:
            old, changed_at = before.get(pid, (Level.SUPPORTER, None))
            standing = standings[pid]
            moved = standing.level != old
            if moved:
                moves.append(LevelChange(person_id=pid, from_level=old, to_level=standing.level, changed_at=now))
            rows.append(
                Engagement(
                    person_id=pid,
                    level=standing.level,
                    score=standing.score,
                    level_changed_at=now if moved else changed_at,
                )
            )
        Engagement.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["person"],
            update_fields=["level", "score", "level_changed_at", "updated_at"],
        )
        LevelChange.objects.bulk_create(moves)
    return len(moves)
