"""`bench search`: how long a staff member waits for the people search, at 3,000,000 people × scale.

Each query does what the people list view does: `person_search_page`, the first page (50
people, plus one to know whether there is a next page) with their contacts prefetched. Three
kinds of query, as staff type them: an exact email address, a phone number written in the
usual ways, and the start of a name ("gonz", "maria", "maria go"). The queries are drawn from
the people in the database, a warm-up round runs first, then the kinds are interleaved.

value = the 95th percentile latency over all queries, in ms; baseline = 50 ms, the target.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict

from django.db.models import Max, Min

from barnstorm.people.models import EmailAddress, Person, PhoneNumber
from barnstorm.people.selectors import person_search_page
from barnstorm.people.views import PAGE_SIZE
from bench import BenchContext, Result, percentile
from bench.database import claim_database, ensure_people

PEOPLE = 3_000_000
TARGET_P95_MS = 50.0
QUERIES_PER_KIND = 300
WARM_UP_PER_KIND = 30
KINDS = ("email", "phone", "name")


def run(context: BenchContext) -> Result:
    claim_database(context)
    ensure_people(context, context.scaled(PEOPLE, minimum=100))
    per_kind = int(context.options.get("queries") or QUERIES_PER_KIND)
    rng = random.Random(f"{context.seed}:search")
    queries = _draw_queries(rng, per_kind + WARM_UP_PER_KIND)

    warm_up = [(kind, q) for kind in KINDS for q in queries[kind][:WARM_UP_PER_KIND]]
    measured = [(kind, q) for kind in KINDS for q in queries[kind][WARM_UP_PER_KIND:]]
    rng.shuffle(measured)
    context.log(f"Warm-up: {len(warm_up)} queries; measuring {len(measured)} ({per_kind} of each kind)")
    for _kind, query in warm_up:
        _search(query)

    timings: dict[str, list[float]] = defaultdict(list)
    found: dict[str, list[int]] = defaultdict(list)
    for kind, query in measured:
        started = time.perf_counter()
        rows = _search(query)
        timings[kind].append((time.perf_counter() - started) * 1000)
        found[kind].append(len(rows))

    context.log(f"{'kind':<6} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'rows/page':>9} {'misses':>6}")
    for kind in KINDS:
        values = timings[kind]
        misses = sum(1 for n in found[kind] if n == 0)
        context.log(
            f"{kind:<6} {len(values):>7} {percentile(values, 0.5):>8.2f} {percentile(values, 0.95):>8.2f}"
            f" {max(values):>8.2f} {sum(found[kind]) / len(values):>9.1f} {misses:>6}"
        )
    overall = [t for kind in KINDS for t in timings[kind]]
    p95 = percentile(overall, 0.95)
    context.log(f"all    {len(overall):>7} {percentile(overall, 0.5):>8.2f} {p95:>8.2f} {max(overall):>8.2f}")
    return Result(bench="search", value=p95, unit="ms", baseline=TARGET_P95_MS)


def _search(query: str) -> list[Person]:
    rows = person_search_page(query=query, page_size=PAGE_SIZE).people
    for person in rows:  # what the page shows: the prefetched contact points
        person.emails.all(), person.phones.all(), person.addresses.all()
    return rows


def _draw_queries(rng: random.Random, count: int) -> dict[str, list[str]]:
    """`count` queries of each kind, drawn from the people in the database."""
    bounds = Person.objects.aggregate(low=Min("id"), high=Max("id"))
    ids = [rng.randint(bounds["low"], bounds["high"]) for _ in range(count * 3)]
    emails = list(EmailAddress.objects.filter(person_id__in=ids).values_list("address", flat=True))
    phones = list(PhoneNumber.objects.filter(person_id__in=ids).values_list("number", flat=True))
    names = list(Person.objects.filter(pk__in=ids).values_list("given_name", "family_name"))
    for pool in (emails, phones, names):
        if not pool:
            raise ValueError("no people to draw queries from")
        rng.shuffle(pool)
    return {
        "email": [_as_typed_email(rng, emails[i % len(emails)]) for i in range(count)],
        "phone": [_as_typed_phone(rng, phones[i % len(phones)]) for i in range(count)],
        "name": [_name_prefix(rng, *names[i % len(names)]) for i in range(count)],
    }


def _as_typed_email(rng: random.Random, address: str) -> str:
    return address.capitalize() if rng.random() < 0.3 else address


def _as_typed_phone(rng: random.Random, e164: str) -> str:
    area, exchange, line = e164[2:5], e164[5:8], e164[8:]
    return rng.choice(
        (
            f"({area}) {exchange}-{line}",
            f"{area}-{exchange}-{line}",
            f"{area}.{exchange}.{line}",
            e164,
            f"+1 {area} {exchange} {line}",
        )
    )


def _name_prefix(rng: random.Random, given: str, family: str) -> str:
    roll = rng.random()
    if roll < 0.4 or not given:
        return family[: rng.randint(3, 6)].lower()
    if roll < 0.7:
        return given[: rng.randint(3, 6)]
    return f"{given} {family[: rng.randint(2, 4)]}"
