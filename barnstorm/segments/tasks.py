"""Background work for the ladder and the dashboard. Tasks take ids, are idempotent and safe to retry.

Keeping the ladder current without signals: every few minutes `engagement_refresh_recent` (in
CELERY_BEAT_SCHEDULE) finds the people with activity appended since its last run and queues
`engagement_refresh` for them in batches. "Since the last run" is the highest Activity id it
has handed out, kept in the cache: ids only grow, so the new rows are a primary-key range
scan however large the log is, and back-dated rows (imports) are caught too. Each run re-reads
a small overlap below the mark, because a transaction that took an id earlier may commit
after one that took a later id; recomputing a person twice is harmless.

When the cache has lost the mark (a restart of a memory cache, an eviction), the mark is
rebuilt from the newest `Engagement.updated_at`: everyone with activity that occurred since
then (less a margin) is recomputed — an indexed (kind, occurred_at) range. With no Engagement
rows at all, the run starts from the first activity (a first install; `barnstorm
engagement_recompute` does the same faster).

Each run also sweeps people whose qualifying actions have just aged out of the level window,
so that lapsed donors and volunteers move down without any new activity of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from celery import shared_task
from django.core.cache import cache
from django.db.models import Max, Min
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.segments import ladder
from barnstorm.segments.models import Engagement, Level

MARK_KEY = "segments:engagement:last_activity_id"
SWEEP_KEY = "segments:engagement:last_sweep_at"
LOCK_KEY = "segments:engagement:refresh_lock"
LOCK_SECONDS = 15 * 60
BATCH = 1000  # people per engagement_refresh task
ID_WINDOW = 50_000  # activity ids read per step
OVERLAP_IDS = 1_000
REBUILD_MARGIN = timedelta(hours=1)


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def engagement_refresh(self, person_ids: list[int]) -> int:
    """Recompute these people's place on the ladder (a batch of at most a few thousand)."""
    try:
        return ladder.engagement_update(person_ids=person_ids)
    except Exception as exc:  # a deadlock or a lost connection: the same batch again later
        raise self.retry(exc=exc) from exc


@shared_task
def engagement_refresh_recent() -> int:
    """Queue a refresh for everyone with new activity or an action just aged out. Returns how many."""
    if not cache.add(LOCK_KEY, 1, LOCK_SECONDS):
        return 0  # the previous run is still at it
    try:
        now = timezone.now()
        top = Activity.objects.aggregate(top=Max("id"))["top"] or 0
        after = max(_mark() - OVERLAP_IDS, 0)
        queued = 0
        for batch in _batches(people_with_new_activity(after_id=after, up_to_id=top)):
            engagement_refresh.delay(batch)
            queued += len(batch)
        cache.set(MARK_KEY, top, timeout=None)  # only once everyone below it is queued
        for batch in _batches(people_with_lapsed_actions(now=now)):
            engagement_refresh.delay(batch)
            queued += len(batch)
        return queued
    finally:
        cache.delete(LOCK_KEY)


@shared_task
def dashboard_refresh() -> None:
    """Recompute the organizer dashboard's figures into the cache (every few minutes)."""
    from barnstorm.segments import dashboard

    dashboard.dashboard_refresh()


def people_with_new_activity(*, after_id: int, up_to_id: int) -> Iterator[int]:
    """The people with activity whose id is in (after_id, up_to_id], read a primary-key window at a time."""
    start = after_id
    while start < up_to_id:
        end = min(start + ID_WINDOW, up_to_id)
        yield from (
            Activity.objects.filter(id__gt=start, id__lte=end).order_by().values_list("person_id", flat=True).distinct()
        )
        start = end


def _mark() -> int:
    mark = cache.get(MARK_KEY)
    if mark is not None:
        return int(mark)
    last = Engagement.objects.aggregate(last=Max("updated_at"))["last"]
    if last is None:
        return 0
    return _first_id_since(last - REBUILD_MARGIN)


def _first_id_since(when: datetime) -> int:
    """Just below the first activity that occurred at or after `when` (an indexed range per ranked kind)."""
    first = (
        Activity.objects.filter(kind__in=_ranked_kinds(), occurred_at__gte=when).order_by().aggregate(first=Min("id"))
    )["first"]
    if first is None:
        return Activity.objects.aggregate(top=Max("id"))["top"] or 0
    return first - 1


def _ranked_kinds() -> list[str]:
    return sorted(set(ladder.ladder()) | set(ladder.weights()))


def people_with_lapsed_actions(*, now: datetime) -> Iterator[int]:
    """People whose qualifying actions left the level window since the last sweep."""
    window = ladder.level_window()
    last = cache.get(SWEEP_KEY) or now - timedelta(days=1)
    cache.set(SWEEP_KEY, now, timeout=None)
    lapsed = (
        Activity.objects.filter(
            kind__in=ladder.kinds_at_or_above(Level.DONOR),
            occurred_at__gte=last - window - REBUILD_MARGIN,
            occurred_at__lt=now - window,
        )
        .order_by()
        .values_list("person_id", flat=True)
        .distinct()
    )
    ranked = Engagement.objects.filter(level__gt=Level.SUPPORTER)
    return iter(ranked.filter(person_id__in=lapsed).values_list("person_id", flat=True).iterator())


def _batches(ids: Iterator[int]) -> Iterator[list[int]]:
    """Distinct ids in lists of BATCH (a person seen in two id windows may be queued twice: harmless)."""
    batch: dict[int, None] = {}
    for pid in ids:
        batch[pid] = None
        if len(batch) >= BATCH:
            yield list(batch)
            batch = {}
    if batch:
        yield list(batch)
