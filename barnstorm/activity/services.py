from collections.abc import Iterable
from datetime import datetime

from barnstorm.activity import kinds
from barnstorm.activity.models import Activity
from barnstorm.lib.bulk import bulk_insert_objects


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


def activity_record_many(*, entries: Iterable[Activity]) -> None:
    """Append many activities at once (imports, seeding). Kinds are checked like one at a time."""
    entries = list(entries)
    for entry in entries:
        if not kinds.is_registered(entry.kind):
            raise ValueError(f"unknown activity kind {entry.kind!r}")
    bulk_insert_objects(entries)
