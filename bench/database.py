"""The database a benchmark runs in: claimed with a marker, filled with people as needed."""

from __future__ import annotations

import time

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from barnstorm.lib.seeding import SeedContext
from barnstorm.people.models import Person
from bench import BenchContext, BenchError

MARKER_TABLE = "barnstorm_bench_marker"


def claim_database(context: BenchContext) -> None:
    """Refuse a database with people a benchmark did not put there; mark it as a benchmark's."""
    tables = connection.introspection.table_names()
    people = Person.objects.count() if Person._meta.db_table in tables else None
    if people is None:
        raise BenchError("the database has no tables yet: run `barnstorm migrate` first")
    marked = MARKER_TABLE in tables
    settings_dict = connection.settings_dict
    where = f"{connection.vendor} database {settings_dict['NAME']!s}"
    if people and not marked:
        raise BenchError(
            f"the {where} holds {people:,} people that no benchmark created. Benchmarks write millions "
            "of rows: point DATABASE_URL at a database of their own (for example barnstorm_bench), migrated."
        )
    if not marked:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {MARKER_TABLE} (note VARCHAR(200) NOT NULL, created_at VARCHAR(40) NOT NULL)")
            cursor.execute(
                f"INSERT INTO {MARKER_TABLE} (note, created_at) VALUES (%s, %s)",
                ["filled by barnstorm bench", timezone.now().isoformat()],
            )
    context.log(f"Database: {where} ({people:,} people, {'a benchmark database' if marked else 'empty, now marked'})")


def ensure_people(context: BenchContext, count: int) -> int:
    """At least `count` people in the database, adding the missing ones with `seed --fast`."""
    from barnstorm.people.seed import seed_people_fast

    present = Person.objects.count()
    if present >= count:
        context.log(f"{present:,} people already there (want {count:,})")
        return present
    missing = count - present
    context.log(f"Adding {missing:,} people with the fast seeding path (seed --fast)…")
    started = time.monotonic()
    seed_people_fast(SeedContext(people=missing, seed=context.seed, fast=True, out=context.out))
    elapsed = time.monotonic() - started
    context.log(f"Added {missing:,} people in {elapsed:.1f}s ({missing / max(elapsed, 1e-9):,.0f} people/s)")
    analyze()
    return Person.objects.count()


def analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give them a little later."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def max_ids(models) -> dict:
    return {model: model.objects.aggregate(m=Max("pk"))["m"] or 0 for model in models}
