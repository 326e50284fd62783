"""`bench segments`: counting a typical segment at 3,000,000 people × scale and 10,000,000 activity rows × scale.

People come from `seed --fast` (ensure_people). What the segment reads beyond them is
bulk-inserted here with `bulk_insert_rows` (COPY on PostgreSQL), only once per database:
activity rows (spread over a year and over common kinds), a "volunteer" tag on 8 % of people,
one committee with gifts from 6 % of people (1 to 3 each, some refunded), and events with
RSVPs from 4 % of people (60 % of the "going" ones checked in).

The segment mixes geography, donations, events, tags and activity (five predicates):

    near 50309 (Des Moines) within 60 miles
    AND gave the committee at least $25 net in the last 365 days
    AND (attended an event in the last 180 days OR tagged volunteer)
    AND NOT signed up in the last 30 days (activity)

value = the median seconds of `engine.count` over several runs; baseline = the median of a
hand-written SQL statement for the same segment, timed in the same run (both give the same
count, checked). Targets: value ≤ 1 s on PostgreSQL, ≤ 3 s on SQLite; ratio ≤ 1.5.
"""

from __future__ import annotations

import datetime
import random
import statistics
import time

from django.db import connection
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.donations.models import Committee, Contribution, LineItem
from barnstorm.events.geo import EARTH_RADIUS_MILES, bounding_box
from barnstorm.events.models import Event, Rsvp
from barnstorm.lib.bulk import bulk_insert_rows
from barnstorm.people.models import Person, PostalAddress, Tag, Tagging
from barnstorm.people.normalize import zip_info
from barnstorm.segments import engine
from bench import BenchContext, Result
from bench.database import analyze, claim_database, ensure_people, max_ids

PEOPLE = 3_000_000
ACTIVITY = 10_000_000
RUNS = 5
CENTER_ZIP, MILES = "50309", 60.0
ACTIVITY_KINDS = ["signup", "donation", "rsvp", "attended", "tag_added", "email_status"]
BENCH_FEC_ID = "C99999999"
CHUNK = 100_000


def run(context: BenchContext) -> Result:
    claim_database(context)
    ensure_people(context, context.scaled(PEOPLE, minimum=1000))
    rng = random.Random(f"{context.seed}:segments")
    now = timezone.now()
    loaded = _ensure_activity(context, rng, now, context.scaled(ACTIVITY, minimum=3000))
    committee_id, loaded_more = _ensure_extras(context, rng, now)
    if loaded or loaded_more:
        analyze()

    query = _segment(committee_id)
    context.log(f"Segment: {query}")
    hand_sql, hand_params = _hand_written(committee_id, now)

    def orm() -> int:
        return engine.count(query, now=now)

    def hand() -> int:
        with connection.cursor() as cursor:
            cursor.execute(hand_sql, hand_params)
            return cursor.fetchone()[0]

    expected = hand()
    got = orm()  # also a warm-up round for both
    if got != expected:
        raise AssertionError(f"the engine counts {got:,}, the hand-written SQL {expected:,}")
    context.log(f"Both count {got:,} people of {Person.objects.count():,}")
    engine_times, hand_times = [], []
    for _ in range(RUNS):
        for fn, times in ((orm, engine_times), (hand, hand_times)):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    value, baseline = statistics.median(engine_times), statistics.median(hand_times)
    context.log(f"engine count: median {value:.3f}s  (runs: {', '.join(f'{t:.3f}' for t in engine_times)})")
    context.log(f"hand-written: median {baseline:.3f}s  (runs: {', '.join(f'{t:.3f}' for t in hand_times)})")
    return Result(bench="segments", value=value, unit="s", baseline=baseline)


def _segment(committee_id: int) -> dict:
    return {
        "and": [
            {"type": "near_zip", "zip": CENTER_ZIP, "miles": MILES},
            {"type": "donated", "committee": committee_id, "measure": "total", "min": 2500, "days": 365},
            {"or": [{"type": "attended", "days": 180}, {"type": "has_tag", "tag": "volunteer"}]},
            {"not": {"type": "activity", "kind": "signup", "days": 30}},
        ]
    }


def _hand_written(committee_id: int, now: datetime.datetime) -> tuple[str, list]:
    """The same segment as an engineer would write it by hand: IN subqueries, the box, then haversine."""
    center = zip_info(CENTER_ZIP)
    south, north, west, east = bounding_box(center.latitude, center.longitude, MILES)
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    import math

    lat0, lng0, cos0 = (
        math.radians(center.latitude),
        math.radians(center.longitude),
        math.cos(math.radians(center.latitude)),
    )
    adapt = connection.ops.adapt_datetimefield_value
    sql = f"""
        SELECT COUNT(*) FROM people_person p
        WHERE p.id IN (
            SELECT a.person_id FROM people_postaladdress a
            WHERE a.is_primary AND a.latitude BETWEEN %s AND %s AND a.longitude BETWEEN %s AND %s
              AND {2 * EARTH_RADIUS_MILES} * ASIN({least}(1.0, SQRT(
                    POWER(SIN((RADIANS(a.latitude) - %s) / 2), 2)
                    + %s * COS(RADIANS(a.latitude)) * POWER(SIN((RADIANS(a.longitude) - %s) / 2), 2)))) <= %s)
          AND p.id IN (
            SELECT li.person_id FROM donations_lineitem li
            WHERE li.committee_id = %s AND li.received_at >= %s AND li.amount_cents > li.refunded_cents
            GROUP BY li.person_id HAVING SUM(li.amount_cents - li.refunded_cents) >= 2500)
          AND (p.id IN (
                SELECT r.person_id FROM events_rsvp r JOIN events_event e ON e.id = r.event_id
                WHERE r.checked_in_at IS NOT NULL AND e.starts_at >= %s)
               OR p.id IN (
                SELECT t.person_id FROM people_tagging t JOIN people_tag g ON g.id = t.tag_id
                WHERE g.name = 'volunteer'))
          AND p.id NOT IN (
            SELECT ac.person_id FROM activity_activity ac WHERE ac.kind = 'signup' AND ac.occurred_at >= %s)
    """
    params = [
        south,
        north,
        west,
        east,
        lat0,
        cos0,
        lng0,
        MILES,
        committee_id,
        adapt(now - datetime.timedelta(days=365)),
        adapt(now - datetime.timedelta(days=180)),
        adapt(now - datetime.timedelta(days=30)),
    ]
    return sql, params


def _person_range() -> tuple[int, int]:
    ids = Person.objects.order_by("id").values_list("id", flat=True)
    return ids.first(), ids.last()


def _ensure_activity(context: BenchContext, rng: random.Random, now, want: int) -> bool:
    present = Activity.objects.count()
    if present >= want:
        context.log(f"{present:,} activity rows already there (want {want:,})")
        return False
    missing = want - present
    low, high = _person_range()
    year = 365 * 24 * 3600
    context.log(f"Adding {missing:,} activity rows (bulk insert)…")
    started = time.monotonic()

    def rows():
        for _ in range(missing):
            yield (
                rng.randint(low, high),
                rng.choice(ACTIVITY_KINDS),
                now - datetime.timedelta(seconds=rng.random() * year),
            )

    bulk_insert_rows(Activity, ["person_id", "kind", "occurred_at"], rows(), chunk_size=CHUNK)
    context.log(f"Added {missing:,} activity rows in {time.monotonic() - started:.1f}s")
    return True


def _ensure_extras(context: BenchContext, rng: random.Random, now) -> tuple[int, bool]:
    """Tags, gifts, events and RSVPs, once per database (the committee marks that they are there)."""
    committee = Committee.objects.filter(fec_id=BENCH_FEC_ID).first()
    if committee:
        context.log("Tags, gifts, events and RSVPs already there")
        return committee.pk, False
    started = time.monotonic()
    low, high = _person_range()
    people = high - low + 1
    committee = Committee.objects.create(name="Bench for America", fec_id=BENCH_FEC_ID, election_year=2026)
    tag, _ = Tag.objects.get_or_create(name="volunteer")
    year = 365 * 24 * 3600
    volunteers = rng.sample(range(low, high + 1), k=int(people * 0.08))
    bulk_insert_rows(Tagging, ["person_id", "tag_id"], ((pid, tag.pk) for pid in volunteers), chunk_size=CHUNK)

    first_contribution = max_ids([Contribution])[Contribution] + 1
    contributions, items = [], []
    cid = first_contribution
    for pid in rng.sample(range(low, high + 1), k=int(people * 0.06)):
        for _ in range(rng.choice([1, 1, 2, 3])):
            amount = rng.choice([500, 1000, 2700, 2700, 5000, 10000])
            refunded = amount if rng.random() < 0.03 else 0
            received = now - datetime.timedelta(seconds=rng.random() * 2 * year)
            contributions.append(
                (cid, pid, amount, refunded, "paid", "card", "web", received, f"bench-{cid}", rng.choice(["", "em1"]))
            )
            items.append((cid, pid, committee.pk, received, "card", amount, refunded, "P2026", 2026))
            cid += 1
    bulk_insert_rows(
        Contribution,
        "id person_id amount_cents refunded_cents status method source received_at idempotency_key refcode".split(),
        contributions,
        chunk_size=CHUNK,
    )
    bulk_insert_rows(
        LineItem,
        "contribution_id person_id committee_id received_at method amount_cents refunded_cents election cycle".split(),
        items,
        chunk_size=CHUNK,
    )

    addresses = list(
        PostalAddress.objects.filter(is_primary=True).values_list("latitude", "longitude", "zip_code")[:2000]
    )
    first_event = max_ids([Event])[Event] + 1
    event_count = max(10, people // 1000)
    events = []
    for n in range(event_count):
        lat, lng, zip_code = rng.choice(addresses)
        starts = now - datetime.timedelta(seconds=(rng.random() - 0.2) * year)
        events.append(
            (
                first_event + n,
                f"Bench event {n}",
                rng.choice(["canvass", "phone_bank", "house_party"]),
                "published",
                rng.randint(low, high),
                starts,
                starts + datetime.timedelta(hours=2),
                lat,
                lng,
                zip_code,
            )
        )
    bulk_insert_rows(
        Event, "id title kind status host_id starts_at ends_at latitude longitude zip_code".split(), events
    )
    rsvps = []
    event_starts = {e[0]: e[5] for e in events}
    for pid in rng.sample(range(low, high + 1), k=int(people * 0.04)):
        for event_id in rng.sample(sorted(event_starts), k=rng.choice([1, 1, 2])):
            going = rng.random() < 0.85
            checked = event_starts[event_id] if going and event_starts[event_id] < now and rng.random() < 0.6 else None
            rsvps.append((event_id, pid, "going" if going else "cancelled", f"bench-{event_id}-{pid}", checked))
    bulk_insert_rows(Rsvp, "event_id person_id status ticket checked_in_at".split(), rsvps, chunk_size=CHUNK)
    context.log(
        f"Added {len(volunteers):,} taggings, {len(contributions):,} gifts, {len(events):,} events and"
        f" {len(rsvps):,} RSVPs in {time.monotonic() - started:.1f}s"
    )
    return committee.pk, True
