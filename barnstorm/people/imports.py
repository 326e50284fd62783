"""Importing people from CSV files: the engine behind `barnstorm import_people` and the staff import.

The file is streamed (constant memory at any size) and every row goes through the one intake
service, `person_upsert_many`, in batches. Each row is normalised on its own first, so a bad row
is rejected alone (and written to the report with its line number and the reason) and never
takes its neighbours down with it. Every data row ends up imported, updated or rejected.

    summary = import_people(path=Path("people.csv"), tags=["rally"], report_path=Path("rejects.csv"))
    str(summary)  # "imported 980, updated 15, rejected 5"
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from barnstorm.lib.csvfile import CsvFile, Record, RejectsReport
from barnstorm.lib.memory import fewer_gc_pauses
from barnstorm.people.models import (
    ImportJob,
    ImportStatus,
)
from barnstorm.people.services import AddressInput, PersonInput, UpsertResult, person_upsert_many

# What a column can be imported as. Keys match the export's column names where they overlap,
# so a file exported from Barnstorm imports back as is.
TARGETS = {
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "honorific_prefix": gettext_lazy("Prefix"),
    "given_name": gettext_lazy("First name"),
    "additional_name": gettext_lazy("Middle name"),
    "family_name": gettext_lazy("Last name"),
    "honorific_suffix": gettext_lazy("Suffix"),
    "address1": gettext_lazy("Address"),
    "address2": gettext_lazy("Address line 2"),
    "city": gettext_lazy("City"),
    "state": gettext_lazy("State"),
    "zip_code": gettext_lazy("ZIP code"),
    "country": gettext_lazy("Country"),
    "employer": gettext_lazy("Employer"),
    "occupation": gettext_lazy("Occupation"),
    "tags": gettext_lazy("Tags"),
    "lists": gettext_lazy("Lists"),
    "source": gettext_lazy("Source"),
    "referral_code": gettext_lazy("Referral code"),
}
CUSTOM_PREFIX = "custom:"
# The columns people can be matched by: a file without one of them cannot be imported.
MATCH_TARGETS = ("email", "phone")

# Header names we recognise, compared after _header_key (lower case, words joined by "_").
_ALIASES = {
    "email": "email email_address e_mail e_mail_address emailaddress mail primary_email",
    "phone": "phone phone_number phonenumber mobile mobile_phone mobile_number cell cell_phone cellphone telephone tel",
    "honorific_prefix": "prefix honorific_prefix",
    "given_name": "first_name firstname first given_name givenname fname forename",
    "additional_name": "middle_name middlename middle middle_initial additional_name",
    "family_name": "last_name lastname last family_name familyname surname lname",
    "honorific_suffix": "suffix honorific_suffix",
    "address1": "address address1 address_1 address_line_1 address_line1 addr1 line1 street street_address "
    "street1 street_1 mailing_address",
    "address2": "address2 address_2 address_line_2 address_line2 addr2 line2 street2 street_2 apt apartment",
    "city": "city town locality",
    "state": "state state_code state_province province region",
    "zip_code": "zip zip_code zipcode zip5 postal_code postalcode postcode post_code zip_postal_code",
    "country": "country country_code",
    "employer": "employer company",
    "occupation": "occupation job_title",
    "tags": "tags tag",
    "source": "source",
    "referral_code": "referral_code refcode ref_code referral",
}
ALIASES = {alias: target for target, aliases in _ALIASES.items() for alias in aliases.split()}

_ADDRESS_TARGETS = {"address1": "line1", "address2": "line2", "city": "city", "state": "state", "zip_code": "zip_code"}
_SPLIT_NAMES = re.compile(r"[;,]")
_DELIMITERS = (",", ";", "\t", "|")


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, empty, nothing to match people by)."""


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    rejected: int = 0
    report_path: Path | None = None

    @property
    def total(self) -> int:
        return self.imported + self.updated + self.rejected

    def __str__(self) -> str:
        # Machine-read by scripts and benchmarks: not translated.
        return f"imported {self.imported}, updated {self.updated}, rejected {self.rejected}"


# Mapping columns -----------------------------------------------------------------------------


def _header_key(header: str) -> str:
    header = re.sub(r"([a-z])([A-Z])", r"\1_\2", header.strip())  # firstName -> first_Name
    return re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")


def target_choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in TARGETS.items()]


def guess_mapping(headers: Sequence[str]) -> dict[str, str]:
    """The fields that the headers we recognise hold: {header: target}. The first of two wins."""
    mapping: dict[str, str] = {}
    for header in headers:
        target = ALIASES.get(_header_key(header))
        if target and target not in mapping.values() and header not in mapping:
            mapping[header] = target
    return mapping


def _clean_target(target: str) -> str:
    """A target as the user wrote it ("E-mail", "first_name", "custom:Shirt") in canonical form."""
    target = target.strip()
    if not target:
        return ""
    if target.lower().startswith(CUSTOM_PREFIX):
        name = target[len(CUSTOM_PREFIX) :].strip()
        if not name:
            raise ImportFileError(_("A custom field needs a name, as in custom:shirt_size"))
        return CUSTOM_PREFIX + name
    if target in TARGETS:
        return target
    canonical = ALIASES.get(_header_key(target))
    if canonical is None:
        raise ImportFileError(
            _("%(target)s is not a field people can be imported into (use one of %(fields)s, or custom:NAME)")
            % {"target": target, "fields": ", ".join(TARGETS)}
        )
    return canonical


def resolve_columns(headers: Sequence[str], mapping: dict[str, str] | None = None) -> list[tuple[int, str]]:
    """(column index, target) of every column to import.

    Recognised headers are imported; `mapping` ({header: target}, "" to ignore a column)
    overrides the recognition. Unrecognised columns are skipped unless mapped, e.g. to custom:NAME.
    Raises ImportFileError if the mapping is wrong or no column holds an email or phone.
    """
    by_key = {h.strip().lower(): h for h in reversed(headers)}
    explicit: dict[str, str] = {}
    for header, target in (mapping or {}).items():
        found = header if header in headers else by_key.get(header.strip().lower())
        if found is None:
            raise ImportFileError(_("The file has no column called %(header)s") % {"header": header})
        explicit[found] = _clean_target(target)
    chosen = Counter(t for t in explicit.values() if t)
    for target, n in chosen.items():
        if n > 1:
            raise ImportFileError(_("%(n)d columns are mapped to %(target)s; choose one") % {"n": n, "target": target})
    final = {h: t for h, t in guess_mapping(headers).items() if h not in explicit and t not in chosen}
    final.update({h: t for h, t in explicit.items() if t})
    columns, seen = [], set()
    for index, header in enumerate(headers):
        if header in final and header not in seen:
            columns.append((index, final[header]))
            seen.add(header)
    if not any(t in MATCH_TARGETS for _, t in columns):
        raise ImportFileError(
            _(
                "No column holds email addresses or phone numbers, so nobody could be matched or added. "
                "Map the column that does (for example E-mail=email)."
            )
        )
    return columns


# Reading the file ------------------------------------------------------------------------------


class _CsvFile(CsvFile):
    """A people CSV: comma, semicolon or tab separated, whichever the first line uses most."""

    def __init__(self, path: Path):
        try:
            with open(path, "rb") as probe:
                first = probe.readline(64 * 1024).decode("utf-8", errors="replace")
        except OSError:
            first = ""  # CsvFile reports the unreadable file
        counts = {d: first.count(d) for d in _DELIMITERS}
        delimiter = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
        super().__init__(path, error=ImportFileError, delimiter=delimiter)


def read_preview(*, path: Path, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    """The headers and the first few rows of a file, to show before mapping its columns."""
    with _CsvFile(Path(path)) as source:
        samples = []
        for record in source.records():
            if len(samples) >= rows:
                break
            if not record.problem:
                samples.append(record.fields)
        return source.header, samples


def count_rows(*, path: Path) -> int:
    """The number of data rows (blank lines aside), read the same way the import reads them."""
    with _CsvFile(Path(path)) as source:
        return sum(1 for _ in source.records())


# Importing -------------------------------------------------------------------------------------


def _split_names(value: str) -> list[str]:
    return [name.strip() for name in _SPLIT_NAMES.split(value) if name.strip()]


class _Importer:
    def __init__(self, *, columns, tags, default_source, report, actor, activity_data, batch_size, progress):
        self.columns = columns
        self.has_source = any(t == "source" for _, t in columns)
        self.tags = list(tags)
        self.default_source = default_source
        self.report = report
        self.actor = actor
        self.activity_data = activity_data
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.summary = ImportSummary()
        self.pending: list[tuple[Record, PersonInput]] = []
        self.reported = 0

    def run(self, records: Iterable[Record]) -> ImportSummary:
        for record in records:
            if record.problem:
                self.reject(record, record.problem)
            else:
                try:
                    data = self.person_input(record.fields).normalized()
                except ValidationError as e:
                    self.reject(record, _reason(e))
                else:
                    self.pending.append((record, data))
                    if len(self.pending) >= self.batch_size:
                        self.flush()
            done = self.summary.total
            if self.progress and done - self.reported >= self.batch_size:
                self.progress(done)
                self.reported = done
        self.flush()
        if self.progress:
            self.progress(self.summary.total)
        return self.summary

    def person_input(self, fields: list[str]) -> PersonInput:
        values: dict[str, str] = {}
        custom: dict[str, str] = {}
        for index, target in self.columns:
            value = fields[index].strip()
            if target.startswith(CUSTOM_PREFIX):
                if value:
                    custom[target[len(CUSTOM_PREFIX) :]] = value
            else:
                values[target] = value
        address = None
        if any(values.get(t) for t in _ADDRESS_TARGETS):
            address = AddressInput(
                **{field: values.get(target, "") for target, field in _ADDRESS_TARGETS.items()},
                country=values.get("country", "").upper() or "US",
            )
        return PersonInput(
            email=values.get("email", ""),
            phone=values.get("phone", ""),
            honorific_prefix=values.get("honorific_prefix", ""),
            given_name=values.get("given_name", ""),
            additional_name=values.get("additional_name", ""),
            family_name=values.get("family_name", ""),
            honorific_suffix=values.get("honorific_suffix", ""),
            employer=values.get("employer", ""),
            occupation=values.get("occupation", ""),
            # A blank source cell falls back to the file, so every imported person has one.
            source=values.get("source", "") or self.default_source,
            referral_code=values.get("referral_code", ""),
            address=address,
            tags=[*_split_names(values.get("tags", "")), *self.tags],
            lists=_split_names(values.get("lists", "")),
            custom_fields=custom,
        )

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        try:
            results = self.upsert([data for _, data in pending])
        except (ValidationError, IntegrityError, DataError):
            # Something only the database could see: find the row, keep the rest.
            for record, data in pending:
                try:
                    results = self.upsert([data])
                except (ValidationError, IntegrityError, DataError) as e:
                    self.reject(record, _reason(e))
                else:
                    self.count(results)
        else:
            self.count(results)

    def upsert(self, rows: list[PersonInput]) -> list[UpsertResult]:
        return person_upsert_many(
            rows=rows, actor=self.actor, activity_kind="imported", activity_data=self.activity_data
        )

    def count(self, results: list[UpsertResult]) -> None:
        # A person created by this batch is imported once; their later rows in it are updates.
        created: set[int] = set()
        for result in results:
            if result.created and result.person.pk not in created:
                created.add(result.person.pk)
                self.summary.imported += 1
            else:
                self.summary.updated += 1

    def reject(self, record: Record, reason: str) -> None:
        self.summary.rejected += 1
        self.report.write(record, reason)


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(message for messages in error.message_dict.values() for message in messages)
        return "; ".join(error.messages)
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return _("could not be saved: %(error)s") % {"error": first_line}


def import_people(
    *,
    path: Path,
    mapping: dict[str, str] | None = None,
    tags: Iterable[str] = (),
    report_path: Path | None = None,
    actor=None,
    batch_size: int = 1000,
    progress: Callable[[int], object] | None = None,
    name: str | None = None,
) -> ImportSummary:
    """Import (or update) the people in the CSV file at `path`.

    `mapping` ({header: target}) overrides the recognised headers; `tags` go on every imported
    row; every rejected row is written to `report_path` as it is found; `progress(rows_done)` is
    called after each batch. `name` (default: the file's name) is what the import is called in
    the people's source and activity. Raises ImportFileError if the file cannot be imported at all.
    """
    path = Path(path)
    name = name or path.name
    with _CsvFile(path) as source:
        columns = resolve_columns(source.header, mapping)
        report = RejectsReport(Path(report_path) if report_path else None, source.header)
        try:
            importer = _Importer(
                columns=columns,
                tags=tags,
                default_source=(_("import: %(name)s") % {"name": name})[:100],
                report=report,
                actor=actor,
                activity_data={"import": name},
                batch_size=batch_size,
                progress=progress,
            )
            with fewer_gc_pauses():
                summary = importer.run(source.records())
        finally:
            report.close()
    summary.report_path = Path(report_path) if report_path else None
    return summary


# Jobs started from the staff pages -----------------------------------------------------------


def import_dir() -> Path:
    directory = Path(settings.IMPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def upload_store(*, chunks: Iterable[bytes]) -> uuid.UUID:
    """Save an uploaded file under IMPORT_DIR; returns the token that names it."""
    token = uuid.uuid4()
    with open(upload_path(token), "wb") as f:
        for chunk in chunks:
            f.write(chunk)
    return token


def upload_path(token: uuid.UUID) -> Path:
    return import_dir() / f"{token}.csv"


def import_job_create(
    *, path: Path, original_name: str, mapping: dict[str, str], tags: Iterable[str] = (), actor=None
) -> ImportJob:
    """Check the mapping against the file's header, record the job and queue it after commit."""
    from barnstorm.people.tasks import import_job_run_task

    headers, _samples = read_preview(path=path, rows=0)
    resolve_columns(headers, mapping)
    job = ImportJob.objects.create(
        file_path=str(path),
        original_name=original_name[:255],
        mapping=mapping,
        tags=[name for name in (" ".join(t.split()) for t in tags) if name],
        created_by=actor,
    )
    transaction.on_commit(lambda: import_job_run_task.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> None:
    """Run a queued job. A job that is done (or failed) is not run again; a job left running by
    a worker that died is run again from the start, which is safe because imports are idempotent."""
    claimed = ImportJob.objects.filter(pk=job_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), processed_rows=0
    )
    if not claimed:
        return
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    path = Path(job.file_path)
    report_path = path.with_name(path.stem + ".rejects.csv")
    jobs = ImportJob.objects.filter(pk=job_id)
    try:
        jobs.update(total_rows=count_rows(path=path), report_path=str(report_path))
        summary = import_people(
            path=path,
            mapping=job.mapping,
            tags=job.tags,
            report_path=report_path,
            actor=job.created_by,
            progress=lambda done: jobs.update(processed_rows=done),
            name=job.original_name,
        )
    except ImportFileError as e:
        jobs.update(status=ImportStatus.FAILED, error=str(e), finished_at=timezone.now())
        return
    except Exception as e:
        error = _("The import stopped: %(error)s") % {"error": e}
        jobs.update(status=ImportStatus.FAILED, error=error, finished_at=timezone.now())
        raise
    jobs.update(
        status=ImportStatus.DONE,
        total_rows=summary.total,
        processed_rows=summary.total,
        imported=summary.imported,
        updated=summary.updated,
        rejected=summary.rejected,
        finished_at=timezone.now(),
    )
    # The uploaded file is personal data that nobody needs once it is in the database; the
    # report keeps only the rejected rows, for staff to fix and import again.
    path.unlink(missing_ok=True)
