"""Every save and snapshot leaves an audit row (who, when, the query as it was); refusals leave none."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.people.models import Tag, Tagging
from barnstorm.segments import engine
from barnstorm.segments.models import AuditAction, Segment, SegmentAudit
from barnstorm.segments.services import segment_save, segment_snapshot_create

pytestmark = pytest.mark.django_db

VOLUNTEERS = {"and": [{"type": "has_tag", "tag": "volunteer"}]}
TEACHERS = {"and": [{"type": "has_tag", "tag": "teacher"}]}


@pytest.fixture
def tagged(make_person):
    tag = Tag.objects.create(name="volunteer")
    people = [make_person(email=f"p{n}@example.com", given_name=f"P{n}") for n in range(3)]
    for person in people[:2]:
        Tagging.objects.create(person=person, tag=tag)
    return people


def test_creating_a_segment_writes_a_created_row_with_the_actor_and_query(organizer):
    segment = segment_save(name="Volunteers", query=VOLUNTEERS, actor=organizer)
    row = SegmentAudit.objects.get()
    assert (row.segment, row.action, row.actor, row.query) == (segment, AuditAction.CREATED, organizer, VOLUNTEERS)
    assert row.description == "Volunteers" and row.at and row.snapshot is None and row.size is None


def test_changing_a_segment_writes_a_changed_row_with_the_new_query(organizer):
    segment = segment_save(name="Volunteers", query=VOLUNTEERS, actor=organizer)
    segment_save(name="Teachers", query=TEACHERS, actor=organizer, segment=segment)
    row = SegmentAudit.objects.filter(action=AuditAction.CHANGED).get()
    assert (row.segment, row.actor, row.query) == (segment, organizer, TEACHERS)
    assert row.description == "name, query (was Volunteers)"
    assert SegmentAudit.objects.filter(segment=segment).count() == 2


def test_a_snapshot_writes_a_row_with_its_size(organizer, tagged):
    segment = segment_save(name="Volunteers", query=VOLUNTEERS, actor=organizer)
    snapshot = segment_snapshot_create(query=VOLUNTEERS, segment=segment, purpose="Call list", actor=organizer)
    row = SegmentAudit.objects.get(action=AuditAction.SNAPSHOT)
    assert (row.segment, row.snapshot, row.size, row.actor) == (segment, snapshot, 2, organizer)
    assert row.query == VOLUNTEERS and row.description == "Call list"


def test_a_refused_query_writes_no_audit_row(organizer):
    with pytest.raises(engine.QueryError):
        segment_save(name="Broken", query={"type": "has_tag"}, actor=organizer)
    with pytest.raises(engine.QueryError):
        segment_snapshot_create(query={"type": "has_tag"}, actor=organizer)
    segment = segment_save(name="Volunteers", query=VOLUNTEERS, actor=organizer)
    with pytest.raises(engine.QueryError):
        segment_save(name="Self", query={"type": "in_segment", "segment": segment.pk}, actor=organizer, segment=segment)
    assert list(SegmentAudit.objects.values_list("action", flat=True)) == [AuditAction.CREATED]
    segment.refresh_from_db()
    assert segment.query == VOLUNTEERS


def test_a_refused_save_through_the_builder_writes_no_audit_row(staff_client):
    response = staff_client.post(reverse("segments:new"), {"name": "Broken", "query": json.dumps({"type": "nope"})})
    assert response.status_code == 400
    assert not SegmentAudit.objects.exists() and not Segment.objects.exists()


def test_the_builder_page_shows_the_audit_rows(staff_client, organizer, tagged):
    staff_client.post(reverse("segments:new"), {"name": "Volunteers", "query": json.dumps(VOLUNTEERS)})
    segment = Segment.objects.get()
    staff_client.post(reverse("segments:snapshot", args=[segment.pk]), {"purpose": "Call list"})
    html = staff_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    audit = html[html.index('id="audit"') :]
    assert "Recent changes" in audit and "olivia" in audit
    assert "created" in audit and "snapshot" in audit and "Call list" in audit
    assert audit.index("snapshot") < audit.index("created")  # newest first
    assert "&quot;has_tag&quot;" in audit  # the query as JSON


def test_a_new_segment_page_has_no_audit_section(staff_client):
    assert 'id="audit"' not in staff_client.get(reverse("segments:new")).content.decode()


def test_the_audit_rows_cost_the_same_queries_however_many_there_are(staff_client, organizer, outsider):
    segment = segment_save(name="Volunteers", query=VOLUNTEERS, actor=organizer)
    url = reverse("segments:edit", args=[segment.pk])
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    for n in range(6):
        segment_save(name=f"Volunteers {n}", query=VOLUNTEERS, actor=outsider if n % 2 else organizer, segment=segment)
    with CaptureQueriesContext(connection) as many:
        html = staff_client.get(url).content.decode()
    assert "victor" in html and "(was Volunteers 4)" in html
    assert len(many.captured_queries) == len(few.captured_queries)
