"""`barnstorm import_actblue FILE.csv`: import an ActBlue contribution export through contribution_record.

Prints progress to stderr now and then and the counts on stdout. Running it again on the same
file records nothing twice. Rejected rows, with their line number and reason, go to --rejects.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from barnstorm.donations.actblue import ActBlueFileError, import_actblue

PROGRESS_EVERY_SECONDS = 2.0


class Command(BaseCommand):
    help = "Import contributions (and refunds) from an ActBlue contribution CSV export."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The ActBlue CSV export.")
        parser.add_argument("--rejects", type=Path, default=None, help="Write every rejected row and why to this CSV.")

    def handle(self, *args, path: Path, rejects: Path | None, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        started = last = time.monotonic()

        def progress(done: int, rows: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_SECONDS:
                last = now
                self.stderr.write(f"{done:,} of {rows:,} rows, {done / (now - started):,.0f} rows/s")

        try:
            summary = import_actblue(path=path, report_path=rejects, progress=progress)
        except ActBlueFileError as e:
            raise CommandError(str(e)) from e
        if rejects is not None and summary.rejected:
            self.stderr.write(f"Rejected rows and reasons: {rejects}")
        self.stdout.write(str(summary))
