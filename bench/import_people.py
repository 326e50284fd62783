"""`bench import`: CSV import throughput, against the raw insert speed of the same database.

A 1,000,000 × scale row CSV file, as campaigns get them from a rally sign-in app or another
CRM: 10% of its rows repeat someone (a row earlier in the file, or a person already in the
database) and 1% are bad (an email without @, a phone too short, a ZIP code that does not
exist). It goes into a database already holding 1,000,000 × scale people, through
`barnstorm.people.imports.import_people`, the same path as the staff import page.

Then, in the same run, the raw baseline: the same file read with the csv module and its rows
written into the person table alone with `bulk_insert_rows` (COPY on PostgreSQL, executemany
on SQLite) — the best the database can do, with none of the matching, validation, contact
points, tags or activity of a real import.

value = import rows/s; baseline = raw rows/s; ratio = value / baseline.
Targets on PostgreSQL: at least 20,000 rows/s, and a ratio of at least 0.3.

Everything the run adds is removed afterwards (rows with ids above those present before), so
runs can be repeated on the same database; people updated by the import keep the update.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
from collections import deque
from pathlib import Path

from django.db import connection
from django.utils import timezone

from barnstorm.lib.bulk import bulk_insert_rows
from barnstorm.people.models import EmailAddress, PeopleList, Person, Tag
from barnstorm.people.seed import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    JOBS,
    LAST_NAMES,
    area_codes_with_555,
    email_local_part,
    fictional_phone,
    pick_state,
    pick_zip,
    street_address,
)
from bench import BenchContext, Result
from bench.database import claim_database, ensure_people, max_ids

ROWS = 1_000_000
PEOPLE = 1_000_000
DUPLICATE_IN_FILE = 0.05
DUPLICATE_OF_EXISTING = 0.05
BAD = 0.01
HEADER = "first_name last_name email phone address1 city state zip_code employer occupation".split()
TARGET_ROWS_PER_SECOND = 20_000
TARGET_RATIO = 0.3


def run(context: BenchContext) -> Result:
    claim_database(context)
    ensure_people(context, context.scaled(PEOPLE, minimum=100))
    rows = context.scaled(ROWS, minimum=100)
    with tempfile.TemporaryDirectory(prefix="barnstorm-bench-") as directory:
        path = Path(directory) / "people.csv"
        started = time.monotonic()
        expected = _write_csv(context, path, rows)
        context.log(
            f"Wrote {rows:,} rows to {path.name} in {time.monotonic() - started:.1f}s: {expected['new']:,} new,"
            f" {expected['in_file']:,} repeating a row above, {expected['existing']:,} of people already there,"
            f" {expected['bad']:,} bad"
        )
        imported_per_second = _measure_import(context, path, rows, Path(directory) / "rejects.csv")
        raw_per_second = _measure_raw_insert(context, path, rows)

    result = Result(bench="import", value=imported_per_second, unit="rows/s", baseline=raw_per_second)
    context.log(
        f"Import {imported_per_second:,.0f} rows/s, raw insert {raw_per_second:,.0f} rows/s, ratio {result.ratio:.3f}"
        f" (targets on PostgreSQL: ≥ {TARGET_ROWS_PER_SECOND:,} rows/s, ratio ≥ {TARGET_RATIO})"
    )
    return result


def _write_csv(context: BenchContext, path: Path, rows: int) -> dict[str, int]:
    rng = random.Random(f"{context.seed}:import")
    existing = _existing_emails(rng, int(rows * DUPLICATE_OF_EXISTING * 1.2) + 10)
    area_codes = area_codes_with_555()
    # New people's phones count down from the top of the 555 sequence, far from the seeded ones
    # (which count up from the bottom), so that a new row never matches a seeded person by phone.
    top = len(area_codes) * 10_000 - 1
    recent: deque[list[str]] = deque(maxlen=10_000)
    counts = dict.fromkeys(("new", "in_file", "existing", "bad"), 0)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            roll = rng.random()
            if roll < BAD:
                row = _new_row(rng, i, area_codes, top)
                _spoil(row, i)
                counts["bad"] += 1
            elif roll < BAD + DUPLICATE_IN_FILE and recent:
                row = list(rng.choice(recent))
                row[2] = row[2].upper() if rng.random() < 0.5 else f" {row[2]} "  # as another app wrote it
                row[8], row[9] = rng.choice(JOBS)
                counts["in_file"] += 1
            elif roll < BAD + DUPLICATE_IN_FILE + DUPLICATE_OF_EXISTING and existing:
                row = _new_row(rng, i, area_codes, top)
                row[2] = existing.pop()
                counts["existing"] += 1
            else:
                row = _new_row(rng, i, area_codes, top)
                recent.append(row)
                counts["new"] += 1
            writer.writerow(row)
    return counts


def _existing_emails(rng: random.Random, count: int) -> list[str]:
    ids = Person.objects.order_by().values_list("id", flat=True)
    low, high = ids.first(), ids.last()
    wanted = {rng.randint(low, high) for _ in range(count)}
    emails: list[str] = []
    wanted_list = sorted(wanted)
    for start in range(0, len(wanted_list), 5000):
        chunk = wanted_list[start : start + 5000]
        emails += EmailAddress.objects.filter(person_id__in=chunk, is_primary=True).values_list("address", flat=True)
    rng.shuffle(emails)
    return emails


def _new_row(rng: random.Random, i: int, area_codes: tuple[str, ...], top: int) -> list[str]:
    given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{email_local_part(rng, given, family)}.n{i}@{rng.choice(EMAIL_DOMAINS)}"
    phone = ""
    if rng.random() < 0.7:
        e164 = fictional_phone(area_codes, top - i)
        phone = f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    state = pick_state(rng)
    place = pick_zip(rng, state)
    line1, _line2 = street_address(rng)
    employer, occupation = rng.choice(JOBS) if rng.random() < 0.4 else ("", "")
    return [given, family, email, phone, line1, place.city, state, place.zip_code, employer, occupation]


def _spoil(row: list[str], i: int) -> None:
    kind = i % 3
    if kind == 0:
        row[2] = row[2].replace("@", " at ")
    elif kind == 1:
        row[3] = "555-01"
    else:
        row[7] = "00000"


def _related_models() -> list:
    """Every model that points at Person, plus the tags and lists an import creates."""
    related = [rel.related_model for rel in Person._meta.related_objects if not rel.many_to_many]
    return [*dict.fromkeys(related), Tag, PeopleList]


def _measure_import(context: BenchContext, path: Path, rows: int, report_path: Path) -> float:
    from barnstorm.people.imports import import_people

    before = max_ids([Person, *_related_models()])
    step = max(rows // 10, 1000)
    next_report = [step]
    started = time.monotonic()

    def progress(done: int) -> None:
        if done >= next_report[0]:
            elapsed = time.monotonic() - started
            context.log(f"  imported {done:,} of {rows:,} rows ({elapsed:.0f}s, {done / elapsed:,.0f} rows/s)")
            next_report[0] += step

    context.log("Importing through barnstorm.people.imports.import_people (batches of 1000)…")
    summary = import_people(
        path=path, mapping=None, tags=("bench-import",), report_path=report_path, batch_size=1000, progress=progress
    )
    elapsed = time.monotonic() - started
    per_second = summary.total / elapsed
    context.log(
        f"Import: {summary.total:,} rows in {elapsed:.1f}s = {per_second:,.0f} rows/s"
        f" (imported {summary.imported:,}, updated {summary.updated:,}, rejected {summary.rejected:,})"
    )
    if summary.total != rows:
        context.log(f"  warning: the import accounted for {summary.total:,} rows of {rows:,}")
    _remove_added_rows(context, before)
    return per_second


def _measure_raw_insert(context: BenchContext, path: Path, rows: int) -> float:
    """The same file into the person table alone, by the fastest path the database has."""
    before = max_ids([Person])
    now = timezone.now()
    context.log(
        f"Raw baseline: the same rows into {Person._meta.db_table} alone with bulk_insert_rows"
        f" ({'COPY' if connection.vendor == 'postgresql' else 'executemany'})…"
    )
    started = time.monotonic()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        written = bulk_insert_rows(
            Person,
            ["given_name", "family_name", "employer", "occupation", "source", "created_at", "modified_at"],
            ((r[0], r[1], r[8], r[9], "bench raw insert", now, now) for r in reader),
            chunk_size=50_000,
        )
    elapsed = time.monotonic() - started
    per_second = written / elapsed
    context.log(f"Raw: {written:,} rows in {elapsed:.1f}s = {per_second:,.0f} rows/s")
    _remove_added_rows(context, before)
    return per_second


def _remove_added_rows(context: BenchContext, before: dict) -> None:
    started = time.monotonic()
    for model, max_id in reversed(list(before.items())):
        if model is Person:
            continue
        model.objects.filter(pk__gt=max_id).delete()
    # Their dependents are gone: delete the people in one statement, without loading them.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(Person._meta.db_table)} WHERE id > %s", [before[Person]]
        )
        removed = cursor.rowcount
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    context.log(f"  removed what the run added ({removed:,} people) in {time.monotonic() - started:.1f}s")
