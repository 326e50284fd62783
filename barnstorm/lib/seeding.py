"""Demo and benchmark data, contributed by each app: the registry behind `barnstorm seed`.

An app that has demo data puts a `seed.py` beside its models and registers a step there:

    seeding.register("donations", order=20, demo=seed_donations_demo)

`barnstorm seed` imports every app's `seed` module and runs the steps by `order` (people
first, at 10: the others need supporters to give, attend and call). A step reads what earlier
steps made from `context.shared`, e.g. `context.shared["people.person_ids"]`.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules


@dataclass
class SeedContext:
    people: int
    seed: int
    fast: bool = False
    now: datetime = field(default_factory=timezone.now)
    out: TextIO = sys.stdout
    shared: dict = field(default_factory=dict)

    def rng(self, step: str) -> random.Random:
        """A generator of its own for each step, so one app's data does not shift another's."""
        return random.Random(f"{self.seed}:{step}")

    def log(self, message: str) -> None:
        self.out.write(message + "\n")
        self.out.flush()


@dataclass(frozen=True)
class SeedStep:
    name: str
    order: int
    demo: Callable[[SeedContext], None]
    # Benchmark scale (`seed --fast`): apps without a fast step are skipped there.
    fast: Callable[[SeedContext], None] | None = None


_STEPS: dict[str, SeedStep] = {}


def register(
    name: str,
    *,
    order: int,
    demo: Callable[[SeedContext], None],
    fast: Callable[[SeedContext], None] | None = None,
) -> None:
    _STEPS[name] = SeedStep(name=name, order=order, demo=demo, fast=fast)


def seed_steps() -> list[SeedStep]:
    autodiscover_modules("seed")
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))
