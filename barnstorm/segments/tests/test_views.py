"""The builder: outsiders refused, conditions added as JSON, live counts and errors, save, export, snapshot."""

import json

import pytest
from django.urls import reverse

from barnstorm.people.models import Tag, Tagging
from barnstorm.segments.models import Segment, SegmentSnapshot

pytestmark = pytest.mark.django_db

QUERY = {"and": [{"type": "has_tag", "tag": "volunteer"}]}


@pytest.mark.parametrize(
    "name,kwargs,method",
    [
        ("segments:list", {}, "get"),
        ("segments:new", {}, "get"),
        ("segments:count", {}, "post"),
        ("segments:predicate_params", {}, "get"),
        ("segments:predicate_add", {}, "post"),
        ("segments:edit", {"segment_id": 1}, "get"),
        ("segments:export", {"segment_id": 1}, "get"),
        ("segments:snapshot", {"segment_id": 1}, "post"),
    ],
)
def test_outsiders_are_refused(client, outsider, organizer, name, kwargs, method):
    Segment.objects.create(pk=1, name="s", query=QUERY, created_by=organizer)
    url = reverse(name, kwargs=kwargs)
    response = getattr(client, method)(url, {"query": json.dumps(QUERY)})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(outsider)
    assert getattr(client, method)(url, {"query": json.dumps(QUERY)}).status_code == 403
    assert not SegmentSnapshot.objects.exists()


@pytest.fixture
def tagged(make_person):
    tag = Tag.objects.create(name="volunteer")
    people = [make_person(email=f"p{n}@example.com", given_name=f"P{n}") for n in range(3)]
    for person in people[:2]:
        Tagging.objects.create(person=person, tag=tag)
    return people


def test_the_count_answers_live_with_a_sample(staff_client, tagged):
    response = staff_client.post(reverse("segments:count"), {"query": json.dumps(QUERY)})
    html = response.content.decode()
    assert "2 people" in html and "p0@example.com" in html and "p2@example.com" not in html


def test_a_bad_query_gets_an_error_naming_its_part(staff_client, tagged):
    bad = {"and": [{"type": "has_tag", "tag": "volunteer"}, {"type": "created_between", "since": "yesterday"}]}
    html = staff_client.post(reverse("segments:count"), {"query": json.dumps(bad)}).content.decode()
    assert "and[1]" in html
    html = staff_client.post(reverse("segments:count"), {"query": "{not json"}).content.decode()
    assert "not valid JSON" in html


def test_adding_a_condition_writes_it_into_the_query(staff_client):
    params = staff_client.get(reverse("segments:predicate_params"), {"type": "near_zip"}).content.decode()
    assert 'name="param_zip"' in params and 'name="param_miles"' in params
    response = staff_client.post(
        reverse("segments:predicate_add"),
        {"query": json.dumps(QUERY), "type": "near_zip", "param_zip": "50309", "param_miles": "25", "combine": "not"},
    )
    textarea = response.content.decode()
    query = json.loads(textarea[textarea.index(">") + 1 : textarea.rindex("</textarea>")].replace("&quot;", '"'))
    assert query == {"and": [QUERY["and"][0], {"not": {"type": "near_zip", "zip": "50309", "miles": 25}}]}


def test_an_organizer_saves_exports_and_snapshots_a_segment(staff_client, tagged, organizer):
    response = staff_client.post(reverse("segments:new"), {"name": "Volunteers", "query": json.dumps(QUERY)})
    segment = Segment.objects.get()
    assert response.status_code == 302 and segment.query == QUERY and segment.created_by == organizer
    csv_text = b"".join(staff_client.get(reverse("segments:export", args=[segment.pk])).streaming_content).decode()
    assert "p0@example.com" in csv_text and "p1@example.com" in csv_text and "p2@example.com" not in csv_text
    staff_client.post(reverse("segments:snapshot", args=[segment.pk]), {"purpose": "Call list"})
    snapshot = SegmentSnapshot.objects.get()
    assert (snapshot.size, snapshot.purpose, snapshot.segment) == (2, "Call list", segment)
    assert "Volunteers" in staff_client.get(reverse("segments:list")).content.decode()


def test_saving_refuses_a_nameless_or_invalid_segment(staff_client):
    response = staff_client.post(reverse("segments:new"), {"name": "", "query": json.dumps({"type": "nope"})})
    assert response.status_code == 400 and not Segment.objects.exists()
    assert "Give the segment a name." in response.content.decode()


def test_the_condition_menu_names_each_predicate(staff_client):
    html = staff_client.get(reverse("segments:new")).content.decode()
    assert '<option value="has_tag">Has a tag</option>' in html
