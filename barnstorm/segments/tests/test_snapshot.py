"""Snapshots keep who matched at the moment; saving, counting, sample preview and export."""

import csv
import io

import pytest

from barnstorm.people.models import EmailAddress, Tag, Tagging
from barnstorm.segments import engine
from barnstorm.segments.models import SnapshotMember
from barnstorm.segments.selectors import segment_export_rows, segment_sample, snapshot_people
from barnstorm.segments.services import segment_count_refresh, segment_save, segment_snapshot_create

QUERY = {"or": [{"type": "has_tag", "tag": "volunteer"}, {"type": "donated", "measure": "total", "min": 5000}]}


def test_a_snapshot_holds_exactly_the_people_matching_then(world, expected, organizer, make_person):
    want = expected(QUERY)
    snapshot = segment_snapshot_create(query=QUERY, purpose="March mailing", actor=organizer)
    assert snapshot.size == len(want) > 0
    assert set(snapshot.members.values_list("person_id", flat=True)) == want
    assert snapshot.created_by == organizer and snapshot.query == QUERY
    # Later changes to who matches don't change the snapshot.
    newcomer = make_person(email="late@example.com")
    Tagging.objects.create(person=newcomer, tag=Tag.objects.get(name="volunteer"))
    assert engine.people(QUERY).filter(pk=newcomer.pk).exists()
    assert not snapshot_people(snapshot=snapshot).filter(pk=newcomer.pk).exists()


def test_a_snapshot_is_four_statements_whatever_its_size(world, organizer):
    # The snapshot row, one INSERT … SELECT for its members, its size, and its audit row.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        segment_snapshot_create(query=QUERY, actor=organizer)
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 4, statements
    inserts = [sql for sql in statements if SnapshotMember._meta.db_table in sql]
    assert len(inserts) == 1 and "SELECT" in inserts[0]


def test_an_invalid_query_leaves_no_snapshot(world, organizer):
    with pytest.raises(engine.QueryError):
        segment_snapshot_create(query={"type": "has_tag"}, actor=organizer)
    assert not SnapshotMember.objects.exists()


def test_segment_save_and_count_refresh(world, expected, organizer):
    segment = segment_save(name="Big givers", query=QUERY, actor=organizer)
    assert segment.last_count is None
    assert segment_count_refresh(segment=segment) == len(expected(QUERY))
    segment.refresh_from_db()
    assert segment.last_count == len(expected(QUERY)) and segment.last_counted_at
    segment_save(name="Volunteers", query={"type": "has_tag", "tag": "volunteer"}, segment=segment, actor=organizer)
    segment.refresh_from_db()
    assert segment.name == "Volunteers" and segment.last_count is None
    with pytest.raises(engine.QueryError, match="tag: is required"):
        segment_save(name="Broken", query={"type": "has_tag"}, actor=organizer)


def test_the_sample_is_the_first_people_with_their_primary_email(world, expected, django_assert_num_queries):
    want = sorted(expected(QUERY))[:5]
    with django_assert_num_queries(1):
        sample = list(segment_sample(query=QUERY, limit=5))
    assert [p.pk for p in sample] == want
    for person in sample:
        primary = EmailAddress.objects.filter(person=person, is_primary=True).values_list("address", flat=True).first()
        assert person.primary_email == primary


def test_the_export_streams_every_person_once(world, expected, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):  # the people, then one query per prefetched relation
        rows = list(segment_export_rows(query=QUERY))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    assert rows[0][0] == "id" or rows[0]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(expected(QUERY))
