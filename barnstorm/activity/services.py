from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from barnstorm.activity import kinds
from barnstorm.activity.models import Activity
from barnstorm.lib.bulk import bulk_insert_rows


def activity_record(
    *,
    person_id: int,
    kind: str,
    data: dict | None = None,
    actor=None,
    occurred_at: datetime | None = None,
) -> Activity:
    """Append one activity to a person's log."""
    if not kinds.is_registered(kind):
        raise ValueError(f"unknown activity kind {kind!r}")
    activity = Activity(person_id=person_id, kind=kind, data=data or {}, actor=actor)
    if occurred_at is not None:
        activity.occurred_at = occurred_at
    activity.save()
    return activity


def activity_record_many(
    *,
    kind: str,
    person_ids: Sequence[int],
    data: Sequence[dict],
    actor=None,
    occurred_at: datetime | Sequence[datetime] | None = None,
) -> None:
    """Append one activity of `kind` for each person (imports, seeding), with its own data.

    `occurred_at` is one moment for all, or one per person; by default now."""
    if not kinds.is_registered(kind):
        raise ValueError(f"unknown activity kind {kind!r}")
    if occurred_at is None or isinstance(occurred_at, datetime):
        occurred_at = [occurred_at or timezone.now()] * len(person_ids)
    actor_id = actor.pk if actor is not None else None
    bulk_insert_rows(
        Activity,
        ["person", "kind", "occurred_at", "actor", "data"],
        ((pid, kind, when, actor_id, entry) for pid, entry, when in zip(person_ids, data, occurred_at, strict=True)),
        reset_sequence=False,
    )
