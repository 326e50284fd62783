"""`bench fec`: how long the FEC report of a quarter with 1,000,000 × scale contributions takes.

The quarter is Q1 2026 of a House committee of its own (its FEC id says how many contributions
it has, so each scale keeps its data and later runs reuse it). Its contributions, line items and
refunds go straight into the tables with `bulk_insert_rows`, not through `contribution_record`:
this measures the export, and a million contributions through the service (person matching,
limits, activity, receipts) would take far longer than the export itself. The rows look like
what the service leaves behind:

- one donor for every 8 contributions, drawn from the people in the database (`seed --fast`
  adds the missing ones), with a name, address and job as given on the form;
- small-dollar amounts ($10 to $1,000, most $25–$100), at random times through the quarter;
- each donor's line items itemized once the donor's total passes $200, with the running
  cycle-to-date aggregate — most contributions end up itemized, as in a real campaign;
- 1% of line items redesignated to the general with a memo (a TEXT record each);
- 0.5% of contributions refunded in the quarter, a third of them in part.

Then `fec_export_write` writes the quarter to a file, totals and lines in one snapshot, and the
run checks the line counts.

value = seconds for the export; baseline = 60 s, the target at scale 1; ratio = value / 60.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.db import connection

from barnstorm.donations.compliance import ITEMIZATION_THRESHOLD_CENTS
from barnstorm.donations.fec_export import fec_export_write
from barnstorm.donations.models import Committee, Contribution, ContributionStatus, LineItem, Refund, RefundLine
from barnstorm.lib.bulk import bulk_insert_rows
from barnstorm.people.models import Person
from barnstorm.people.seed import FIRST_NAMES, JOBS, LAST_NAMES, pick_state, pick_zip, street_address
from bench import BenchContext, Result
from bench.database import analyze, claim_database, ensure_people, max_ids

CONTRIBUTIONS = 1_000_000
CONTRIBUTIONS_PER_DONOR = 8
TARGET_SECONDS = 60.0
QUARTER = (date(2026, 1, 1), date(2026, 3, 31))
# Midnight in New York (the default TIME_ZONE) at both ends, in UTC.
FIRST_MOMENT, LAST_MOMENT = datetime(2026, 1, 1, 5, tzinfo=UTC), datetime(2026, 4, 1, 4, tzinfo=UTC)
AMOUNTS = (1_000, 2_500, 2_700, 5_000, 10_000, 25_000, 50_000, 100_000)
AMOUNT_WEIGHTS = (15, 30, 10, 20, 15, 6, 3, 1)
REDESIGNATED = 0.01
REFUNDED = 0.005
CHUNK = 50_000


def run(context: BenchContext) -> Result:
    claim_database(context)
    count = context.scaled(CONTRIBUTIONS, minimum=100)
    committee = _committee_with_contributions(context, count)

    with tempfile.TemporaryDirectory(prefix="barnstorm-bench-") as directory:
        path = Path(directory) / "q1.fec"
        context.log(f"Exporting Q1 2026 of {committee.fec_id} ({count:,} contributions) with fec_export_write…")
        started = time.perf_counter()
        with open(path, "wb") as out:
            export = fec_export_write(
                committee=committee, date_from=QUARTER[0], date_to=QUARTER[1], report_code="Q1", out=out
            )
        elapsed = time.perf_counter() - started
        size = path.stat().st_size

    itemized = LineItem.objects.filter(committee=committee, itemized=True).count()
    if export.receipts != itemized:
        raise AssertionError(f"the file has {export.receipts:,} Schedule A lines, the database {itemized:,}")
    period = export.filing.summary.period
    context.log(
        f"Export: {export.receipts:,} Schedule A lines and {export.refunds:,} Schedule B lines"
        f" ({size / 1e6:,.1f} MB) in {elapsed:.2f}s = {export.receipts / elapsed:,.0f} lines/s;"
        f" itemized ${period.individual_itemized_cents / 100:,.2f},"
        f" unitemized ${period.individual_unitemized_cents / 100:,.2f},"
        f" refunds ${period.individual_refunds_cents / 100:,.2f}"
    )
    return Result(bench="fec", value=elapsed, unit="s", baseline=TARGET_SECONDS)


def _committee_with_contributions(context: BenchContext, count: int) -> Committee:
    fec_id = f"C9{count:07d}"
    committee = Committee.objects.filter(fec_id=fec_id).first()
    if committee is not None:
        present = LineItem.objects.filter(committee=committee).count()  # one line item per contribution
        if present == count:
            context.log(f"{fec_id} already has its {count:,} contributions")
            return committee
        context.log(f"{fec_id} has {present:,} contributions of {count:,} (an interrupted run): starting again")
        _remove(committee)
    committee = Committee.objects.create(
        name=f"Bench for Congress ({count:,})",
        fec_id=fec_id,
        candidate_name="Bench Candidate",
        office="H",
        office_state="IA",
        office_district="03",
        election_year=2026,
        primary_date=date(2026, 6, 2),
        street1="100 Main St",
        city="Des Moines",
        state="IA",
        zip_code="50309",
        treasurer_given_name="Sam",
        treasurer_family_name="Ortiz",
    )
    donors = max(1, count // CONTRIBUTIONS_PER_DONOR)
    ensure_people(context, donors)
    started = time.monotonic()
    _fill(context, committee, count, donors)
    analyze()
    elapsed = time.monotonic() - started
    context.log(f"Wrote {count:,} contributions in {elapsed:.1f}s ({count / max(elapsed, 1e-9):,.0f}/s)")
    return committee


def _fill(context: BenchContext, committee: Committee, count: int, donors: int) -> None:
    rng = random.Random(f"{context.seed}:fec:{count}")
    people = list(Person.objects.order_by("id").values_list("id", flat=True)[:donors])
    snapshots = [_donor_snapshot(rng) for _ in people]
    # Who gives what, in the order it arrives: the donors' totals decide who is itemized.
    giver = [rng.randrange(donors) for _ in range(count)]
    amounts = rng.choices(AMOUNTS, weights=AMOUNT_WEIGHTS, k=count)
    span = (LAST_MOMENT - FIRST_MOMENT).total_seconds()
    moments = sorted(rng.random() * span for _ in range(count))
    totals = [0] * donors
    for donor, amount in zip(giver, amounts, strict=True):
        totals[donor] += amount
    itemized_donors = [total > ITEMIZATION_THRESHOLD_CENTS for total in totals]

    first_ids = max_ids([Contribution, LineItem, Refund])
    contribution_id, item_id, refund_id = (first_ids[model] + 1 for model in (Contribution, LineItem, Refund))
    running = [0] * donors
    written = refunds = 0
    for chunk_start in range(0, count, CHUNK):
        contributions, items, refund_rows, refund_lines = [], [], [], []
        for n in range(chunk_start, min(chunk_start + CHUNK, count)):
            donor, amount = giver[n], amounts[n]
            received_at = FIRST_MOMENT + timedelta(seconds=moments[n])
            running[donor] += amount
            refunded, refund_at = 0, None
            if rng.random() < REFUNDED:
                refunded = amount if rng.random() < 2 / 3 else amount // 2
                refund_at = min(received_at + timedelta(days=rng.randint(1, 20)), LAST_MOMENT - timedelta(hours=1))
                refund_rows.append((refund_id, contribution_id, "refund", refunded, "Asked for it back", refund_at))
                refund_lines.append((refund_id, item_id, refunded))  # a contribution of one line item
                refund_id += 1
            status = ContributionStatus.PAID
            if refunded:
                full = refunded == amount
                status = ContributionStatus.REFUNDED if full else ContributionStatus.PARTIALLY_REFUNDED
            contributions.append(
                (contribution_id, people[donor], amount, refunded, status, "card", "web", received_at)
                + (f"bench-fec:{committee.fec_id}:{n}", *snapshots[donor], True)
            )
            redesignated = rng.random() < REDESIGNATED
            items.append(
                (item_id, contribution_id, people[donor], committee.pk, received_at, "card", amount, refunded)
                + ("G2026" if redesignated else "P2026", 2026, running[donor], itemized_donors[donor])
                + ("Redesignated from the primary" if redesignated else "",)
            )
            contribution_id += 1
            item_id += 1
        bulk_insert_rows(Contribution, CONTRIBUTION_COLUMNS, contributions, chunk_size=CHUNK)
        bulk_insert_rows(LineItem, LINE_ITEM_COLUMNS, items, chunk_size=CHUNK)
        bulk_insert_rows(Refund, ["id", "contribution_id", "kind", "amount_cents", "reason", "created_at"], refund_rows)
        bulk_insert_rows(RefundLine, ["refund_id", "line_item_id", "amount_cents"], refund_lines)
        written += len(contributions)
        refunds += len(refund_rows)
        if written == count or (written // CHUNK) % 5 == 0:
            context.log(f"  contributions: {written:,} of {count:,} ({refunds:,} refunded)")
    itemized = sum(1 for donor in giver if itemized_donors[donor])
    context.log(f"  {itemized:,} of {count:,} contributions itemized ({itemized / count:.0%})")


CONTRIBUTION_COLUMNS = [
    "id",
    "person_id",
    "amount_cents",
    "refunded_cents",
    "status",
    "method",
    "source",
    "received_at",
    "idempotency_key",
    "given_name",
    "family_name",
    "street1",
    "street2",
    "city",
    "state",
    "zip_code",
    "employer",
    "occupation",
    "attested",
]
LINE_ITEM_COLUMNS = [
    "id",
    "contribution_id",
    "person_id",
    "committee_id",
    "received_at",
    "method",
    "amount_cents",
    "refunded_cents",
    "election",
    "cycle",
    "cycle_aggregate_cents",
    "itemized",
    "memo",
]


def _donor_snapshot(rng: random.Random) -> tuple[str, ...]:
    """given_name … occupation, in CONTRIBUTION_COLUMNS order: the donor as they gave it."""
    state = pick_state(rng)
    place = pick_zip(rng, state)
    line1, line2 = street_address(rng)
    employer, occupation = rng.choice(JOBS) if rng.random() < 0.9 else ("", "")
    given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return (given, family, line1, line2, place.city, state, place.zip_code, employer, occupation)


def _remove(committee: Committee) -> None:
    """Delete what an interrupted run left, in a few statements (the ORM would load every row)."""
    quote = connection.ops.quote_name
    tables = (RefundLine, Refund, LineItem, Contribution)
    line, refund, item, contribution = (quote(model._meta.db_table) for model in tables)
    own = f"SELECT id FROM {contribution} WHERE idempotency_key LIKE %s"
    prefix = f"bench-fec:{committee.fec_id}:%"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {line} WHERE line_item_id IN (SELECT id FROM {item} WHERE committee_id = %s)", [committee.pk]
        )
        cursor.execute(f"DELETE FROM {refund} WHERE contribution_id IN ({own})", [prefix])
        cursor.execute(f"DELETE FROM {item} WHERE committee_id = %s", [committee.pk])
        cursor.execute(f"DELETE FROM {contribution} WHERE idempotency_key LIKE %s", [prefix])
    committee.delete()
