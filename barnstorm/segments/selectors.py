"""Reads for segments: a sample of the people in one, their rows for a CSV export, its audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from barnstorm.people.models import EmailAddress, Person
from barnstorm.people.selectors import people_export_rows
from barnstorm.segments import engine
from barnstorm.segments.models import Segment, SegmentAudit, SegmentSnapshot


def segment_sample(*, query: Any, limit: int = 20) -> QuerySet[Person]:
    """The first `limit` people in the segment (by id), each with `primary_email`: one query."""
    primary = EmailAddress.objects.filter(person=OuterRef("pk")).order_by("-is_primary", "id").values("address")[:1]
    return engine.people(query).annotate(primary_email=Subquery(primary)).order_by("pk")[:limit]


def segment_export_rows(*, query: Any, chunk_size: int = 2000) -> Iterator[list]:
    """CSV rows (header first) of everyone in the segment, streamed: the people export's columns."""
    return people_export_rows(people=engine.people(query).order_by("pk"), chunk_size=chunk_size)


def snapshot_people(*, snapshot: SegmentSnapshot) -> QuerySet[Person]:
    return Person.objects.filter(pk__in=snapshot.members.values("person_id"))


def segment_audit_recent(*, segment: Segment, limit: int = 10) -> QuerySet[SegmentAudit]:
    """The segment's last `limit` saves and snapshots, newest first, with who did them: one query."""
    return SegmentAudit.objects.filter(segment=segment).select_related("actor").order_by("-at", "-pk")[:limit]
