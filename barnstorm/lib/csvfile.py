"""Streaming CSV intake shared by every import: records with their problems, and the rejects report.

A file is read line by line (never whole), each line decoded on its own so that bytes that are
not UTF-8 spoil one row only; blank rows are skipped; every other row comes out as a `Record`
with its first line number and, if it can't be used as it is, the problem in words.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _


@dataclass
class Record:
    line: int  # where the record starts; the header is line 1
    fields: list[str]
    problem: str = ""


class DecodedLines:
    """The file's lines, each decoded on its own, so that bytes that are not UTF-8 spoil one row only."""

    def __init__(self, raw: Iterable[bytes]):
        self._raw = iter(raw)
        self.count = 0  # lines read so far: the line number of the last line handed out
        self.bad = False  # a line handed out since this was reset was not UTF-8

    def __iter__(self):
        return self

    def __next__(self) -> str:
        raw = next(self._raw)
        self.count += 1
        if self.count == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.bad = True
            return raw.decode("utf-8", errors="replace")


class CsvFile:
    """A CSV file opened for streaming: its header, then its records one at a time.

    Problems with the file itself (unreadable, empty, an unreadable header) raise `error`.
    """

    def __init__(self, path: Path, *, error: type[Exception], delimiter: str = ","):
        try:
            self._file = open(path, "rb")
        except OSError as e:
            raise error(_("%(path)s cannot be read: %(error)s") % {"path": path, "error": e.strerror}) from e
        self._lines = DecodedLines(self._file)
        self._reader = csv.reader(self._lines, delimiter=delimiter)
        self._consumed = 0
        self.header: list[str] | None = None
        header = next(self.records(), None)
        if header is None:
            self.close()
            raise error(_("The file is empty"))
        if header.problem:
            self.close()
            raise error(_("The header row cannot be read: %(problem)s") % {"problem": header.problem})
        self.header = [h.strip() for h in header.fields]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._file.close()

    def records(self) -> Iterator[Record]:
        """Every record that is not blank, with the problem that makes it unusable if any."""
        while True:
            self._lines.bad = False
            try:
                fields, problem = next(self._reader), ""
            except StopIteration:
                return
            except csv.Error as e:
                fields, problem = [], _("not readable as CSV: %(error)s") % {"error": e}
            start, self._consumed = self._consumed + 1, self._lines.count
            if self._lines.bad:
                problem = _("wrong encoding")
            if not problem and not any(f.strip() for f in fields):
                continue  # a blank row is not a row
            if not problem and self.header is not None and len(fields) != len(self.header):
                problem = _("wrong number of columns: expected %(expected)d, found %(found)d") % {
                    "expected": len(self.header),
                    "found": len(fields),
                }
            yield Record(line=start, fields=fields, problem=problem)


class RejectsReport:
    """The rejected rows as they come: the original columns, then `line` and `reason`.

    A row with too many columns keeps its extra values after `reason`, so that nothing is lost
    and `line` and `reason` stay in their columns. With its reasons fixed, the report imports
    again as it is (the two extra columns are ignored).
    """

    def __init__(self, path: Path | None, header: list[str]):
        self.width = len(header)
        self._file = None
        if path is not None:
            self._file = open(path, "w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow([*header, "line", "reason"])

    def write(self, record: Record, reason: str) -> None:
        if self._file is None:
            return
        fields = record.fields
        padded = fields[: self.width] + [""] * (self.width - len(fields))
        self._writer.writerow([*padded, record.line, reason, *fields[self.width :]])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
