"""`barnstorm fec_export --committee ID --from DATE --to DATE --out FILE.fec [--report-code Q1]`

Writes a committee's FEC report (Form 3 or 3P, format 8.4) for the contributions it received in
the period, ready to upload with FECFile or to check with the FEC's validator. The file appears
complete or not at all: it is written next to FILE under a temporary name and renamed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from barnstorm.donations.fec_export import REPORT_CODES, fec_export_write
from barnstorm.donations.models import Committee

# The quarterly report a period ending on the last day of a quarter most likely is.
QUARTER_ENDS = {(3, 31): "Q1", (6, 30): "Q2", (9, 30): "Q3", (12, 31): "YE"}


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-31") from e


class Command(BaseCommand):
    help = "Write a committee's FEC report (.fec) for a period."

    def add_arguments(self, parser):
        parser.add_argument("--committee", required=True, help="the committee's FEC id (C########) or its number")
        parser.add_argument("--from", dest="date_from", type=_day, required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", type=_day, required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--out", required=True, type=Path, help="the .fec file to write (replaced if it exists)")
        parser.add_argument(
            "--report-code",
            type=str.upper,
            choices=sorted(REPORT_CODES),
            help="Q1, Q2, Q3, YE, 12P, 12G, 30G, TER, M2…M12 (default: the quarterly report ending on --to)",
        )

    def handle(self, *args, committee: str, date_from: date, date_to: date, out: Path, report_code, **options):
        filer = _committee(committee)
        report_code = report_code or QUARTER_ENDS.get((date_to.month, date_to.day))
        if report_code is None:
            raise CommandError("--to is not the end of a quarter: say which report this is with --report-code")
        if date_from > date_to:
            raise CommandError("--from is after --to")

        out = out.resolve()
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as f:
                export = fec_export_write(
                    committee=filer, date_from=date_from, date_to=date_to, report_code=report_code, out=f
                )
                f.flush()
                os.fsync(f.fileno())
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the report from the rest of the team
            os.replace(temporary, out)
        except ValueError as e:
            raise CommandError(f"The report was not written: {e}") from e
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

        period, to_date = export.filing.summary.period, export.filing.summary.to_date
        self.stdout.write(
            f"Wrote {out}: {export.filing.committee.form} {report_code} of {filer.fec_id} ({filer.name}),"
            f" {date_from} to {date_to}"
        )
        self.stdout.write(f"  Schedule A lines {export.receipts:,}, Schedule B lines {export.refunds:,}")
        for label, totals in (("period", period), ("to date", to_date)):
            self.stdout.write(
                f"  {label + ':':<9} itemized {_dollars(totals.individual_itemized_cents)},"
                f" unitemized {_dollars(totals.individual_unitemized_cents)},"
                f" refunds {_dollars(totals.individual_refunds_cents)}"
            )


def _committee(value: str) -> Committee:
    value = value.strip()
    if re.fullmatch(r"[Cc]\d{8}", value):
        found = Committee.objects.filter(fec_id=value.upper()).first()
    elif value.isdigit():
        found = Committee.objects.filter(pk=int(value)).first()
    else:
        raise CommandError(f"{value!r} is neither an FEC committee id (C and eight digits) nor a committee number")
    if found is None:
        raise CommandError(f"No committee {value}")
    return found


def _dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"
