"""`barnstorm import_people PATH`: import people from a CSV file through person_upsert_many.

Prints progress to stderr now and then, and the summary line `imported N, updated M, rejected K`
on stdout. Rejected rows, with their line number and reason, go to --report.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from barnstorm.people.imports import ImportFileError, import_people

PROGRESS_EVERY_SECONDS = 2.0


def _mapping_item(value: str) -> tuple[str, str]:
    header, sep, target = value.rpartition("=")
    if not sep or not header.strip():
        raise CommandError(f'--map takes HEADER=FIELD, as in --map "E-mail=email"; got {value!r}')
    return header.strip(), target.strip()


class Command(BaseCommand):
    help = "Import people from a CSV file (UTF-8, with a header row), matching existing people by email and phone."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The CSV file.")
        parser.add_argument("--report", type=Path, default=None, help="Write every rejected row and why to this CSV.")
        parser.add_argument("--tag", action="append", default=[], dest="tags", help="Tag every row (repeatable).")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            dest="maps",
            metavar="HEADER=FIELD",
            help='Import column HEADER as FIELD, overriding the recognised headers (repeatable): "E-mail=email", '
            '"Shirt=custom:shirt_size", or "Notes=" to skip a column.',
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="Rows per call to person_upsert_many.")

    def handle(self, *args, path: Path, report: Path | None, tags, maps, batch_size: int, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        mapping = dict(_mapping_item(value) for value in maps)
        started = last = time.monotonic()

        def progress(done: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_SECONDS:
                last = now
                self.stderr.write(f"{done:,} rows, {done / (now - started):,.0f} rows/s")

        try:
            summary = import_people(
                path=path, mapping=mapping, tags=tags, report_path=report, batch_size=batch_size, progress=progress
            )
        except ImportFileError as e:
            raise CommandError(str(e)) from e
        if report is not None and summary.rejected:
            self.stderr.write(f"Rejected rows and reasons: {report}")
        self.stdout.write(str(summary))
