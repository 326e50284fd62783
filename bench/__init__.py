"""Benchmarks of Barnstorm's hot paths, run with `barnstorm bench NAME [--scale F]`.

Each benchmark is a module here with a `run(context) -> Result`, listed in BENCHMARKS. It
builds its data in the database DATABASE_URL points to, at sizes multiplied by --scale (so
--scale 0.001 runs in seconds), prints what it does, and ends with one machine-readable line:

    RESULT bench=search value=12.30 unit=ms baseline=50.00 ratio=0.246

Benchmarks write millions of rows. They only touch a database that is empty or that a
benchmark filled before (they leave a marker table, `barnstorm_bench_marker`), so that
pointing one at a real campaign's database by mistake stops at once.
"""

from __future__ import annotations

import importlib
import math
import sys
from dataclasses import dataclass, field
from typing import TextIO

BENCHMARKS = {
    "search": "bench.search",
    "import": "bench.import_people",
    "donate": "bench.donate",
    "fec": "bench.fec",
    "events": "bench.events",
    "checkin": "bench.checkin",
    "segments": "bench.segments",
    "mail": "bench.mail",
    "field": "bench.field",
}


class BenchError(Exception):
    """The benchmark cannot run here (for instance: the database holds someone else's data)."""


@dataclass
class BenchContext:
    scale: float = 1.0
    seed: int = 2026
    out: TextIO = sys.stdout
    options: dict = field(default_factory=dict)

    def scaled(self, size: int, minimum: int = 1) -> int:
        return max(minimum, round(size * self.scale))

    def log(self, message: str) -> None:
        self.out.write(message + "\n")
        self.out.flush()


@dataclass
class Result:
    bench: str
    value: float
    unit: str
    baseline: float

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")

    def line(self) -> str:
        return (
            f"RESULT bench={self.bench} value={_number(self.value)} unit={self.unit}"
            f" baseline={_number(self.baseline)} ratio={self.ratio:.3f}"
        )


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.2f}"


def run(name: str, context: BenchContext) -> Result:
    if name not in BENCHMARKS:
        raise BenchError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    module = importlib.import_module(BENCHMARKS[name])
    return module.run(context)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (fraction 0.95 for p95)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(1, math.ceil(len(ordered) * fraction)) - 1]
