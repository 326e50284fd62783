"""Writes for segments: saving one, refreshing its count, and taking the snapshot a send goes to."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import Value
from django.utils import timezone

from barnstorm.segments import engine
from barnstorm.segments.models import Segment, SegmentSnapshot, SnapshotMember


def segment_save(*, name: str, query: Any, actor, description: str = "", segment: Segment | None = None) -> Segment:
    """Create a segment, or change `segment`. Refuses (QueryError) an invalid query, or one referring to itself."""
    errors = engine.validate(query, segment_id=segment.pk if segment else None)
    if errors:
        raise engine.QueryError(errors)
    if segment is None:
        return Segment.objects.create(name=name, description=description, query=query, created_by=actor)
    segment.name, segment.description, segment.query = name, description, query
    segment.last_count = segment.last_counted_at = None  # the old count was of the old query
    segment.save(update_fields=["name", "description", "query", "last_count", "last_counted_at", "updated_at"])
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
    members = (
        engine.Person.objects.filter(compiled)
        .order_by()
        .annotate(snapshot_ref=Value(snapshot.pk))
        .values_list("pk", "snapshot_ref")
    )
    select_sql, params = members.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(SnapshotMember._meta.db_table)
    person_column = quote(SnapshotMember._meta.get_field("person").column)
    snapshot_column = quote(SnapshotMember._meta.get_field("snapshot").column)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({person_column}, {snapshot_column}) {select_sql}", params)
        size = cursor.rowcount
    snapshot.size = size
    snapshot.save(update_fields=["size"])
    return snapshot
