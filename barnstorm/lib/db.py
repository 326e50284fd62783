"""Small transaction helpers shared by services."""

from __future__ import annotations

import contextlib

from django.db import transaction


def unique_write(using: str = "default"):
    """Around one write that a unique index may refuse (the caller catches IntegrityError).

    Inside a caller's transaction it is a savepoint, so the caller can go on after the refusal.
    Outside one the statement is a transaction of its own: nothing to roll back, and no BEGIN
    and COMMIT round trips around it.
    """
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return contextlib.nullcontext()
