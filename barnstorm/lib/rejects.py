"""The report of rejected rows that every CSV import writes, in one shape."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Protocol


class Row(Protocol):
    line: int  # the row's line number in the file
    fields: list[str]  # its values as read


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

    def write(self, record: Row, reason: str) -> None:
        if self._file is None:
            return
        fields = record.fields
        padded = fields[: self.width] + [""] * (self.width - len(fields))
        self._writer.writerow([*padded, record.line, reason, *fields[self.width :]])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
