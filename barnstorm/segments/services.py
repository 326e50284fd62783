"""Writes for segments: saving one, refreshing its count, and taking the snapshot a send goes to.

Saves and snapshots each write a SegmentAudit row (who, when, the query as it was) in the same
transaction as the change: no change without its row, no row for a change that was refused.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from barnstorm.lib.bulk import insert_from_select
from barnstorm.segments import engine
from barnstorm.segments.models import AuditAction, Segment, SegmentAudit, SegmentSnapshot, SnapshotMember

AUDIT_DESCRIPTION_LENGTH = SegmentAudit._meta.get_field("description").max_length


@transaction.atomic
def segment_save(*, name: str, query: Any, actor, description: str = "", segment: Segment | None = None) -> Segment:
    """Create a segment, or change `segment`. Refuses (QueryError) an invalid query, or one referring to itself."""
    errors = engine.validate(query, segment_id=segment.pk if segment else None)
    if errors:
        raise engine.QueryError(errors)
    if segment is None:
        segment = Segment.objects.create(name=name, description=description, query=query, created_by=actor)
        _audit(segment=segment, action=AuditAction.CREATED, actor=actor, query=query, description=name)
        return segment
    # What the row holds now (not what the caller loaded earlier): the audit says what this save changed.
    before = Segment.objects.select_for_update().only("name", "description", "query").get(pk=segment.pk)
    changed = [
        label
        for label, old, new in (("name", before.name, name), ("description", before.description, description))
        if old != new
    ]
    if before.query != query:
        changed.append("query")
    segment.name, segment.description, segment.query = name, description, query
    segment.last_count = segment.last_counted_at = None  # the old count was of the old query
    segment.save(update_fields=["name", "description", "query", "last_count", "last_counted_at", "updated_at"])
    summary = ", ".join(changed) if changed else "nothing"
    if "name" in changed:
        summary += f" (was {before.name})"
    _audit(segment=segment, action=AuditAction.CHANGED, actor=actor, query=query, description=summary)
    return segment


def segment_count_refresh(*, segment: Segment) -> int:
    """Count the segment now and keep the count (what lists of segments show)."""
    size = engine.count(segment.query)
    segment.last_count, segment.last_counted_at = size, timezone.now()
    segment.save(update_fields=["last_count", "last_counted_at"])
    return size


@transaction.atomic
def segment_snapshot_create(*, query: Any, segment: Segment | None = None, purpose: str = "", actor) -> SegmentSnapshot:
    """The people matching `query` now, kept: one INSERT … SELECT, so no id passes through Python.

    The query is stored with the snapshot as it was, so later edits to the segment don't change
    who a sent mailing went to.
    """
    compiled = engine.compile(query)  # before writing anything: an invalid query leaves no snapshot
    snapshot = SegmentSnapshot.objects.create(segment=segment, query=query, purpose=purpose, created_by=actor)
    members = engine.Person.objects.filter(compiled).order_by().values_list("pk")
    size = insert_from_select(SnapshotMember, members, fields=["person"], snapshot=snapshot.pk)
    snapshot.size = size
    snapshot.save(update_fields=["size"])
    _audit(
        segment=segment,
        action=AuditAction.SNAPSHOT,
        actor=actor,
        query=query,
        snapshot=snapshot,
        size=size,
        description=purpose,
    )
    return snapshot


def _audit(*, segment: Segment | None, action: str, actor, query: Any, description: str = "", **extra) -> None:
    SegmentAudit.objects.create(
        segment=segment,
        action=action,
        actor=actor,
        query=query,
        description=description[:AUDIT_DESCRIPTION_LENGTH],
        **extra,
    )
