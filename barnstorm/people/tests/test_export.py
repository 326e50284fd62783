import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.people.imports import import_people
from barnstorm.people.models import Person
from barnstorm.people.selectors import EXPORT_COLUMNS
from barnstorm.people.services import PersonInput, person_upsert_many

pytestmark = pytest.mark.django_db


def make_people(n, start=0, **fields):
    rows = [
        PersonInput(email=f"p{i}@example.com", given_name=f"P{i}", phone=f"515555{i:04d}", tags=["all"], **fields)
        for i in range(start, start + n)
    ]
    return [r.person for r in person_upsert_many(rows=rows)]


def export(client, **params):
    response = client.get(reverse("people:export"), params)
    assert response.status_code == 200
    assert response.streaming  # never built in memory
    assert response["Content-Type"] == "text/csv"
    assert 'filename="people.csv"' in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_streams_a_header_and_one_row_per_person(staff_client, make_person):
    ann = make_person(email="ann@example.com", given_name="Ann", family_name="Lee", phone="515-555-0134")
    make_people(3)
    rows = export(staff_client)
    assert rows[0] == EXPORT_COLUMNS
    assert len(rows) == 1 + 4
    by_email = {row[EXPORT_COLUMNS.index("email")]: dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert set(by_email) == {"ann@example.com", "p0@example.com", "p1@example.com", "p2@example.com"}
    record = by_email["ann@example.com"]
    assert record["id"] == str(ann.pk)
    assert (record["given_name"], record["family_name"], record["phone"]) == ("Ann", "Lee", "+15155550134")
    assert (record["city"], record["state"], record["zip_code"]) == ("Des Moines", "IA", "50309")


def test_it_filters_by_tag(staff_client, make_person):
    make_people(3)
    make_person(email="ann@example.com", tags=["donor"])
    tag = Person.objects.get(emails__address="ann@example.com").tags.get()
    rows = export(staff_client, tag=tag.pk)
    assert [row[EXPORT_COLUMNS.index("email")] for row in rows[1:]] == ["ann@example.com"]
    assert rows[1][EXPORT_COLUMNS.index("tags")] == "donor"


def test_outsiders_and_anonymous_visitors_get_no_export(client, outsider, make_person):
    make_person()
    response = client.get(reverse("people:export"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(outsider)
    response = client.get(reverse("people:export"))
    assert response.status_code == 403
    assert b"ann@example.com" not in response.content


def test_the_export_costs_the_same_queries_at_any_size(staff_client, django_assert_max_num_queries):
    make_people(5)
    with CaptureQueriesContext(connection) as few:
        assert len(export(staff_client)) == 6
    make_people(45, start=5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(export(staff_client)) == 51


def test_an_exported_file_imports_back_without_duplicates(staff_client, make_person, tmp_path):
    make_person(email="ann@example.com", given_name="Ann", phone="515-555-0134", tags=["donor"])
    make_people(4)
    path = tmp_path / "people.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(export(staff_client))
    summary = import_people(path=path)
    assert str(summary) == "imported 0, updated 5, rejected 0"
    assert Person.objects.count() == 5
