"""Importing ActBlue contribution exports: the engine behind `barnstorm import_actblue` and the staff page.

ActBlue writes one row per line item. The rows of one charge share the Receipt ID (the order
number) and the Recurrence Number (an installment of a recurring gift is a charge of its own), and
differ by Lineitem ID and recipient. Each charge becomes one contribution through the one intake
service, `contribution_record`, with its line items split to the exact cents ActBlue gave each
committee. Rows that carry a Refund ID or Refund Date (the refunded_contributions export, or a
paid export of line items refunded since) also record the refund, once per ActBlue refund.

The idempotency key is the charge ("actblue:<Receipt ID>:<Recurrence Number>"), not a Lineitem
ID: a refund row names one line item, and it must find the contribution its charge became even
when the charge was split and the refunded line item is not the first.

The file is read twice, streaming both times: first to count each charge's rows, then to import a
charge as soon as all its rows have been read, wherever they are in the file. What stays in memory
is a count per charge and the rows of the charges not yet complete (one, when a charge's rows are
together, as they are in ActBlue's exports).

    summary = import_actblue(path=Path("actblue.csv"), report_path=Path("rejects.csv"))
    str(summary)  # "rows 1200: imported 1150 (1100 contributions), refunded 10, ..."
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from barnstorm.donations.compliance import ContributionRefused, Split
from barnstorm.donations.models import Committee, Contribution, Method, Refund, Source
from barnstorm.donations.services import ContributionInput, DonorInput, contribution_record, contribution_refund
from barnstorm.lib.csvfile import CsvFile, Record, RejectsReport
from barnstorm.lib.memory import fewer_gc_pauses

PROCESSOR = "actblue"
# ActBlue's times are Eastern, without an offset.
ACTBLUE_TIME_ZONE = ZoneInfo("America/New_York")
REQUIRED_COLUMNS = (
    "Receipt ID",
    "Date",
    "Amount",
    "Recurrence Number",
    "Recipient",
    "Donor First Name",
    "Donor Last Name",
    "Lineitem ID",
)
_DATE_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")  # after ISO: a file re-saved by a spreadsheet
_UNITED_STATES = {"", "us", "usa", "u.s.", "u.s.a.", "united states", "united states of america"}
_TRUE = {"true", "t", "yes", "y", "1"}


class ActBlueFileError(Exception):
    """The file as a whole cannot be imported (unreadable, empty, not an ActBlue contribution export)."""


@dataclass
class ActBlueSummary:
    """What became of every data row: imported + refunded + skipped + rejected == rows.

    A rejected charge's rows are all rejected; a refund row counts as refunded (or skipped).
    """

    rows: int = 0
    imported: int = 0  # rows of contributions recorded now
    refunded: int = 0  # refund rows whose refund was recorded now
    skipped: int = 0  # rows already imported (and refunds already recorded) by an earlier run
    rejected: int = 0
    contributions: int = 0  # contributions recorded now
    report_path: Path | None = None

    @property
    def total(self) -> int:
        return self.imported + self.refunded + self.skipped + self.rejected

    def __str__(self) -> str:
        # Machine-read by scripts: not translated.
        return (
            f"rows {self.rows}: imported {self.imported} ({self.contributions} contributions), "
            f"refunded {self.refunded}, already imported {self.skipped}, rejected {self.rejected}"
        )


# Reading the file ------------------------------------------------------------------------------


class _ExportFile(CsvFile):
    """An ActBlue CSV opened for streaming: its checked header, then its records one at a time."""

    def __init__(self, path: Path):
        super().__init__(path, error=ActBlueFileError)
        missing = [name for name in REQUIRED_COLUMNS if name not in self.header]
        if missing:
            self.close()
            raise ActBlueFileError(
                _("This is not an ActBlue contribution export: it has no column %(columns)s.")
                % {"columns": ", ".join(f"“{name}”" for name in missing)}
            )
        # "Reserved" appears several times; every column we read appears once.
        self.index = {}
        for position, name in enumerate(self.header):
            self.index.setdefault(name, position)

    def value(self, record: Record, column: str) -> str:
        position = self.index.get(column)
        if position is None or position >= len(record.fields):
            return ""
        return record.fields[position].strip()

    def charge_key(self, record: Record) -> str | None:
        """The charge a row belongs to; None when it names none (it is rejected alone).

        A row with a problem still belongs to its charge when its Receipt ID can be read, so that
        the charge is rejected whole rather than recorded without that line item.
        """
        receipt = self.value(record, "Receipt ID")
        if not receipt:
            return None
        # A one-time gift is installment 1; older exports leave the column blank for it.
        return f"{receipt}:{self.value(record, 'Recurrence Number') or '1'}"


def check_header(*, path: Path) -> None:
    """Raise ActBlueFileError unless the file starts with an ActBlue contribution export's header."""
    with _ExportFile(Path(path)):
        pass


# Parsing values --------------------------------------------------------------------------------


def parse_cents(raw: str) -> int:
    """ "1,234.50" or "$27" in cents; ValueError unless it is a number of dollars and whole cents."""
    text = raw.strip().replace("$", "").replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(raw) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError(raw)
    return int(value * 100)


def parse_received_at(raw: str) -> datetime:
    """An ActBlue time ("2024-03-05 14:22:10", Eastern) as an aware datetime; ValueError if it is none."""
    text = raw.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        for pattern in _DATE_FORMATS:
            try:
                when = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValueError(raw) from None
    if timezone.is_naive(when):
        when = when.replace(tzinfo=ACTBLUE_TIME_ZONE)
    return when


def exact_splits(parts: list[tuple[int, int]]) -> list[Split]:
    """Splits carrying each (committee id, cents) part exactly, with basis points for the record."""
    total = sum(cents for _, cents in parts)
    shares = [cents * 10000 // total for _, cents in parts]
    shares[0] += 10000 - sum(shares)
    return [
        Split(committee, share, amount_cents=cents) for (committee, cents), share in zip(parts, shares, strict=True)
    ]


def _country(raw: str) -> str:
    return "US" if raw.strip().lower() in _UNITED_STATES else raw.strip().upper()


def _limit(model, name: str, value: str) -> str:
    return value[: model._meta.get_field(name).max_length]


# Importing -------------------------------------------------------------------------------------


@dataclass
class _Item:
    """One line item row, parsed."""

    record: Record
    lineitem: str
    committee_id: int
    amount_cents: int
    refund_key: str  # the external id of the refund it records; "" for a row that is no refund


@dataclass
class _Charge:
    records: list[Record]
    items: list[_Item] = field(default_factory=list)
    problems: dict[int, str] = field(default_factory=dict)  # line -> reason


class _Committees:
    """Every committee, looked up once: by FEC id, or by exact name (when only one has it) in a row
    without one. A row whose FEC id is not ours is not ours, whatever its name."""

    def __init__(self):
        self.by_fec_id: dict[str, int] = {}
        names: dict[str, list[int]] = defaultdict(list)
        for pk, fec_id, name in Committee.objects.values_list("pk", "fec_id", "name"):
            self.by_fec_id[fec_id.upper()] = pk
            names[name.strip()].append(pk)
        self.by_name = {name: pks[0] for name, pks in names.items() if len(pks) == 1}

    def find(self, fec_id: str, *names: str) -> int | None:
        if fec_id:
            return self.by_fec_id.get(fec_id.upper())
        for name in names:
            if name and name in self.by_name:
                return self.by_name[name]
        return None


class _Importer:
    def __init__(self, *, source: _ExportFile, report: RejectsReport, actor, progress):
        self.source = source
        self.report = report
        self.actor = actor
        self.progress = progress
        self.committees = _Committees()
        self.summary = ActBlueSummary()
        self.reported = 0

    def run(self, sizes: Counter[str], rows: int) -> ActBlueSummary:
        self.summary.rows = rows
        open_charges: dict[str, list[Record]] = {}
        for record in self.source.records():
            key = self.source.charge_key(record)
            if key is None:
                self.reject(record, record.problem or _("no Receipt ID"))
            else:
                records = open_charges.setdefault(key, [])
                records.append(record)
                if len(records) == sizes[key]:
                    del open_charges[key]
                    self.charge_import(key, records)
            self.report_progress()
        for key, records in open_charges.items():  # only if the file changed between the two readings
            self.charge_import(key, records)
        if self.progress:
            self.progress(self.summary.total, self.summary.rows)
        return self.summary

    def report_progress(self) -> None:
        done = self.summary.total
        if self.progress and done - self.reported >= 1000:
            self.progress(done, self.summary.rows)
            self.reported = done

    # One charge ---------------------------------------------------------------------------------

    def charge_import(self, key: str, records: list[Record]) -> None:
        charge = self.charge_parse(records)
        if charge.problems:
            self.reject_charge(charge, "")
            return
        first = records[0]
        value = self.source.value
        try:
            received_at = parse_received_at(value(first, "Date"))
        except ValueError:
            self.reject_charge(charge, _("the Date %(value)s is not a date") % {"value": value(first, "Date")})
            return
        given_name, family_name = value(first, "Donor First Name"), value(first, "Donor Last Name")
        if not given_name or not family_name:
            self.reject_charge(charge, _("the donor's first or last name is missing"))
            return
        parts = [(item.committee_id, item.amount_cents) for item in charge.items]
        splits = exact_splits(parts)
        check_number = value(first, "Check Number")
        if check_number:
            method = Method.CHECK
        elif value(first, "Paypal").lower() in _TRUE:
            method = Method.PAYPAL
        else:
            method = Method.CARD
        data = ContributionInput(
            donor=DonorInput(
                given_name=given_name,
                family_name=family_name,
                email=value(first, "Donor Email"),
                phone=value(first, "Donor Phone"),
                street1=value(first, "Donor Addr1"),
                street2=value(first, "Donor Addr2"),
                city=value(first, "Donor City"),
                state=value(first, "Donor State"),
                zip_code=value(first, "Donor ZIP"),
                country=_country(value(first, "Donor Country")),
                employer=value(first, "Donor Employer"),
                occupation=value(first, "Donor Occupation"),
            ),
            amount_cents=sum(cents for _, cents in parts),
            method=method,
            source=Source.IMPORT,
            splits=splits,
            idempotency_key=charge_idempotency_key(key),
            received_at=received_at,
            refcode=_limit(Contribution, "refcode", value(first, "Reference Code")),
            refcode2=_limit(Contribution, "refcode2", value(first, "Reference Code 2")),
            processor=PROCESSOR,
            # Payment ID is ActBlue's payout to the committee, shared by many charges: not this charge's id.
            charge_id="",
            check_number=_limit(Contribution, "check_number", check_number),
            # History: the donors were thanked by ActBlue at the time.
            send_receipt=False,
        )
        try:
            result = contribution_record(data=data, actor=self.actor)
        except ContributionRefused as refusal:
            self.reject_charge(charge, str(refusal.message))
            return
        except (ValidationError, IntegrityError, DataError, ValueError) as e:
            # ValueError: no contribution limit is known for the cycle of a very old contribution.
            self.reject_charge(charge, _reason(e))
            return

        contribution = result.contribution
        paid = [item for item in charge.items if not item.refund_key]
        refunds = [item for item in charge.items if item.refund_key]
        if result.created:
            self.summary.contributions += 1
            self.count("imported", paid)
        elif not refunds and contribution.amount_cents != data.amount_cents:
            # Another export held other line items of this charge (one committee's export, say).
            self.reject_charge(
                charge,
                _("this charge was imported before as $%(before)s, but these rows add up to $%(now)s")
                % {"before": f"{contribution.amount_cents / 100:,.2f}", "now": f"{data.amount_cents / 100:,.2f}"},
            )
            return
        else:
            self.count("skipped", paid)
        by_refund: dict[str, list[_Item]] = defaultdict(list)
        for item in refunds:
            by_refund[item.refund_key].append(item)
        for external_id, items in by_refund.items():
            self.refund_import(contribution.pk, external_id, items)

    def charge_parse(self, records: list[Record]) -> _Charge:
        charge = _Charge(records=records)
        value = self.source.value
        for record in records:
            if record.problem:
                charge.problems[record.line] = record.problem
                continue
            recipient, gov_id = value(record, "Recipient"), value(record, "Recipient Gov ID")
            committee_id = self.committees.find(gov_id, recipient, value(record, "Recipient Committee"))
            is_refund = bool(value(record, "Refund ID") or value(record, "Refund Date"))
            raw_amount = value(record, "Amount")
            try:
                cents = parse_cents(raw_amount)
            except ValueError:
                cents = None
            if is_refund and cents is not None:
                cents = abs(cents)  # a refund export may show the line item's amount as negative
            lineitem = value(record, "Lineitem ID")
            if committee_id is None and gov_id:
                charge.problems[record.line] = _("no committee here has the FEC id %(fec_id)s") % {"fec_id": gov_id}
            elif committee_id is None:
                charge.problems[record.line] = _("no committee here is named %(name)s") % {"name": recipient or "—"}
            elif cents is None or cents <= 0:
                charge.problems[record.line] = _("the Amount %(value)s is not an amount of money") % {
                    "value": raw_amount or "—"
                }
            elif not lineitem:
                charge.problems[record.line] = _("no Lineitem ID")
            else:
                refund_id = value(record, "Refund ID")
                refund_key = ""
                if is_refund:
                    refund_key = f"actblue-refund:{refund_id}" if refund_id else f"actblue-refund:lineitem-{lineitem}"
                charge.items.append(_Item(record, lineitem, committee_id, cents, refund_key))
        return charge

    def refund_import(self, contribution_id: int, external_id: str, items: list[_Item]) -> None:
        if Refund.objects.filter(external_id=external_id).exists():
            self.count("skipped", items)
            return
        contribution = Contribution.objects.get(pk=contribution_id)
        amount = sum(item.amount_cents for item in items)
        left = contribution.amount_cents - contribution.refunded_cents
        if amount > left:
            self.reject_items(
                items,
                _("a refund of $%(amount)s is more than the $%(left)s left to refund")
                % {"amount": f"{amount / 100:,.2f}", "left": f"{left / 100:,.2f}"},
            )
            return
        by_committee: dict[int, int] = defaultdict(int)  # a split's refund names the committees giving back
        for item in items:
            by_committee[item.committee_id] += item.amount_cents
        raw_date = self.source.value(items[0].record, "Refund Date")
        try:
            # The day the money went back dates the refund in FEC reports, not the day of the import.
            refunded_at = parse_received_at(raw_date) if raw_date else None
        except ValueError:
            self.reject_items(items, _("the Refund Date %(value)s is not a date") % {"value": raw_date})
            return
        try:
            contribution_refund(
                contribution=contribution,
                reason=_("Refunded on ActBlue"),
                actor=self.actor,
                external_id=external_id,
                at_processor=False,
                refunded_at=refunded_at,
                committees=dict(by_committee),
            )
        except (ValidationError, IntegrityError, DataError) as e:
            self.reject_items(items, _reason(e))
            return
        self.count("refunded", items)

    # Counting and rejecting ---------------------------------------------------------------------

    def count(self, outcome: str, items: list[_Item]) -> None:
        setattr(self.summary, outcome, getattr(self.summary, outcome) + len(items))

    def reject(self, record: Record, reason: str) -> None:
        self.summary.rejected += 1
        self.report.write(record, reason)

    def reject_items(self, items: list[_Item], reason: str) -> None:
        for item in items:
            self.reject(item.record, reason)

    def reject_charge(self, charge: _Charge, reason: str) -> None:
        """Every row of the charge, each with its own problem or the charge's."""
        bad_lines = ", ".join(str(line) for line in charge.problems)
        for record in charge.records:
            own = charge.problems.get(record.line)
            if own:
                self.reject(record, own)
            elif reason:
                self.reject(record, reason)
            else:
                self.reject(
                    record, _("another line item of this charge was rejected (line %(lines)s)") % {"lines": bad_lines}
                )


def charge_idempotency_key(charge: str) -> str:
    key = f"{PROCESSOR}:{charge}"
    max_length = Contribution._meta.get_field("idempotency_key").max_length
    if len(key) <= max_length:
        return key
    return f"{PROCESSOR}:" + hashlib.sha256(charge.encode()).hexdigest()[:40]


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(message for messages in error.message_dict.values() for message in messages)
        return "; ".join(error.messages)
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return _("could not be saved: %(error)s") % {"error": first_line}


def import_actblue(
    *,
    path: Path,
    report_path: Path | None = None,
    actor=None,
    progress: Callable[[int, int], object] | None = None,
) -> ActBlueSummary:
    """Import the ActBlue contribution export at `path`; importing it again records nothing twice.

    Every rejected row is written to `report_path` with its line number and reason as it is found;
    `progress(rows_done, rows)` is called every thousand rows. Raises ActBlueFileError if the file
    cannot be imported at all.
    """
    path = Path(path)
    sizes: Counter[str] = Counter()
    rows = 0
    with _ExportFile(path) as source:
        for record in source.records():
            rows += 1
            key = source.charge_key(record)
            if key is not None:
                sizes[key] += 1
    with _ExportFile(path) as source:
        report = RejectsReport(Path(report_path) if report_path else None, source.header)
        try:
            with fewer_gc_pauses():
                importer = _Importer(source=source, report=report, actor=actor, progress=progress)
                summary = importer.run(sizes, rows)
        finally:
            report.close()
    summary.report_path = Path(report_path) if report_path else None
    return summary


# Jobs started from the staff page --------------------------------------------------------------
#
# Without a job table, a job is its files under IMPORT_DIR/actblue/: <token>.csv (the upload,
# deleted once imported), <token>.json (its state and counts) and <token>.rejects.csv.


def job_dir() -> Path:
    directory = Path(settings.IMPORT_DIR) / "actblue"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def job_paths(token: uuid.UUID) -> tuple[Path, Path, Path]:
    """The upload, the state and the report of a job."""
    base = job_dir() / str(token)
    return base.with_suffix(".csv"), base.with_suffix(".json"), base.with_suffix(".rejects.csv")


def job_state(token: uuid.UUID) -> dict | None:
    _upload, state_path, _report = job_paths(token)
    try:
        return json.loads(state_path.read_text())
    except FileNotFoundError:
        return None


def _state_write(token: uuid.UUID, **changes) -> dict:
    _upload, state_path, _report = job_paths(token)
    state = {**(job_state(token) or {}), **changes}
    partial = state_path.with_suffix(".json.part")
    partial.write_text(json.dumps(state))
    os.replace(partial, state_path)  # a reader sees the old state or the new, never half of one
    return state


def recent_jobs(limit: int = 10) -> list[dict]:
    states = sorted(job_dir().glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
    jobs = []
    for state_path in states:
        try:
            jobs.append({"token": state_path.stem, **json.loads(state_path.read_text())})
        except (OSError, ValueError):
            continue
    return jobs


def job_create(*, chunks: Iterable[bytes], original_name: str, actor=None) -> uuid.UUID:
    """Store an upload, check its header (ActBlueFileError) and queue its import after commit."""
    from barnstorm.donations.tasks_actblue import actblue_import_task

    token = uuid.uuid4()
    upload, _state, _report = job_paths(token)
    with open(upload, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
    try:
        check_header(path=upload)
    except ActBlueFileError:
        upload.unlink(missing_ok=True)
        raise
    _state_write(
        token,
        name=original_name[:255],
        started_by=actor.get_username() if actor is not None else "",
        status="queued",
        created_at=timezone.now().isoformat(),
    )
    actor_id = actor.pk if actor is not None else None
    transaction.on_commit(lambda: actblue_import_task.delay(str(token), actor_id))
    return token


def job_run(*, token: uuid.UUID, actor_id: int | None = None) -> None:
    """Run a queued job. A finished job is not run again; one left running by a worker that died is
    run again from the start, which is safe because the import is idempotent."""
    from django.contrib.auth import get_user_model

    state = job_state(token)
    if state is None or state.get("status") in ("done", "failed"):
        return
    upload, _state, report = job_paths(token)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    _state_write(token, status="running", done=0, rows=0)
    try:
        summary = import_actblue(
            path=upload,
            report_path=report,
            actor=actor,
            progress=lambda done, rows: _state_write(token, done=done, rows=rows),
        )
    except ActBlueFileError as e:
        _state_write(token, status="failed", error=str(e), finished_at=timezone.now().isoformat())
        return
    except Exception as e:
        error = _("The import stopped: %(error)s") % {"error": e}
        _state_write(token, status="failed", error=error, finished_at=timezone.now().isoformat())
        raise
    counts = asdict(summary)
    counts.pop("report_path")
    _state_write(token, status="done", done=summary.total, finished_at=timezone.now().isoformat(), **counts)
    # The upload is personal data nobody needs once it is in the database; the report keeps only
    # the rejected rows, for staff to fix and import again.
    upload.unlink(missing_ok=True)
    if not summary.rejected:
        report.unlink(missing_ok=True)


def job_rejects(token: uuid.UUID, limit: int = 100) -> list[dict]:
    """The first rejected rows of a job, for the page: line, reason and what identifies the row."""
    _upload, _state, report = job_paths(token)
    if not report.is_file():
        return []
    rows = []
    with open(report, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        index = {}
        for position, name in enumerate(header):
            index.setdefault(name, position)

        def get(fields, name):
            position = index.get(name)
            return fields[position] if position is not None and position < len(fields) else ""

        for fields in reader:
            if len(rows) >= limit:
                break
            rows.append(
                {
                    "line": get(fields, "line"),
                    "reason": get(fields, "reason"),
                    "receipt": get(fields, "Receipt ID"),
                    "donor": f"{get(fields, 'Donor First Name')} {get(fields, 'Donor Last Name')}".strip(),
                    "amount": get(fields, "Amount"),
                    "recipient": get(fields, "Recipient"),
                }
            )
    return rows
