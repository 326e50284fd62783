"""bulk_insert_rows: COPY on PostgreSQL, executemany on SQLite; the same rows come back either way."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from barnstorm.lib.bulk import bulk_insert_rows
from barnstorm.people.models import EmailAddress, Person, PostalAddress

pytestmark = pytest.mark.django_db

WHEN = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
PERSON_COLUMNS = ["id", "given_name", "family_name", "custom_fields", "created_at", "modified_at"]


def people_rows(ids):
    for pk in ids:
        yield (pk, f"Given{pk}", "O'Brien\tTab\\Slash", {"pk": pk, "note": "ünïcode"}, WHEN, WHEN)


def test_it_inserts_rows_and_counts_them():
    inserted = bulk_insert_rows(Person, PERSON_COLUMNS, people_rows(range(1001, 1251)), chunk_size=100)

    assert inserted == 250
    assert Person.objects.count() == 250
    assert set(Person.objects.values_list("id", flat=True)) == set(range(1001, 1251))


def test_values_round_trip_through_the_orm():
    bulk_insert_rows(Person, PERSON_COLUMNS, people_rows([7]))
    bulk_insert_rows(
        PostalAddress,
        ["person", "line1", "city", "state", "zip_code", "latitude", "longitude", "is_primary", "created_at"],
        [(7, "1 Main St", "Des Moines", "IA", "50309", 41.5887, -93.6212, True, WHEN)],
    )
    bulk_insert_rows(
        EmailAddress,
        ["person_id", "address", "status", "is_primary", "created_at"],
        [(7, "given7@example.com", "subscribed", False, WHEN)],
    )

    person = Person.objects.get(pk=7)
    assert person.given_name == "Given7"
    assert person.family_name == "O'Brien\tTab\\Slash"
    assert person.custom_fields == {"pk": 7, "note": "ünïcode"}
    assert person.created_at == WHEN
    assert Person.objects.filter(created_at__lt=datetime(2025, 3, 5, tzinfo=UTC)).count() == 1
    address = person.addresses.get()
    assert (address.line1, address.zip_code, address.is_primary) == ("1 Main St", "50309", True)
    assert address.latitude == pytest.approx(41.5887) and address.longitude == pytest.approx(-93.6212)
    email = person.emails.get()
    assert (email.address, email.status, email.is_primary, email.status_changed_at) == (
        "given7@example.com",
        "subscribed",
        False,
        None,
    )


def test_a_later_orm_insert_takes_the_next_free_id():
    bulk_insert_rows(Person, PERSON_COLUMNS, people_rows([5000, 5001]))

    person = Person.objects.create(given_name="After")

    assert person.pk > 5001


def test_an_empty_iterable_inserts_nothing():
    assert bulk_insert_rows(Person, PERSON_COLUMNS, iter(())) == 0


def test_it_uses_copy_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        bulk_insert_rows(Person, PERSON_COLUMNS, people_rows(range(1, 11)))

    assert any(q["sql"].startswith("COPY ") for q in queries.captured_queries)


def test_reserved_ids_are_fresh_and_never_handed_out_twice():
    from django.db import transaction

    from barnstorm.lib.bulk import reserve_ids

    existing = Person.objects.create(given_name="Old")
    with transaction.atomic():
        first = reserve_ids(Person, 3)
    assert len(set(first)) == 3 and min(first) > existing.pk
    bulk_insert_rows(Person, PERSON_COLUMNS, people_rows(first), reset_sequence=False)
    with transaction.atomic():
        second = reserve_ids(Person, 2)
    assert min(second) > max(first)
    later = Person.objects.create(given_name="New").pk
    assert later > max(first)
    if connection.vendor == "postgresql":
        # The sequence handed `second` out for good; SQLite's reservation lasts one transaction.
        assert later > max(second)


def test_bulk_insert_objects_gives_instances_their_ids_and_times():
    from django.db import transaction

    from barnstorm.lib.bulk import bulk_insert_objects

    people = [Person(given_name=f"P{i}", custom_fields={"i": i}) for i in range(3)]
    with transaction.atomic():
        bulk_insert_objects(people)
        bulk_insert_objects([EmailAddress(person=p, address=f"p{i}@example.com") for i, p in enumerate(people)])
    assert all(p.pk and p.created_at and not p._state.adding for p in people)
    stored = Person.objects.get(pk=people[2].pk)
    assert (stored.given_name, stored.custom_fields, stored.emails.get().address) == ("P2", {"i": 2}, "p2@example.com")


def test_a_duplicate_row_is_an_integrity_error_on_every_database():
    from django.db import IntegrityError

    bulk_insert_rows(Person, PERSON_COLUMNS, people_rows([5]))
    with pytest.raises(IntegrityError):
        bulk_insert_rows(
            EmailAddress,
            ["person_id", "address", "status", "is_primary", "created_at"],
            [(5, "dup@example.com", "subscribed", True, WHEN), (5, "dup@example.com", "subscribed", False, WHEN)],
        )


def test_bulk_update_objects_writes_the_named_fields_only():
    from barnstorm.lib.bulk import bulk_update_objects

    bulk_insert_rows(Person, PERSON_COLUMNS, people_rows([1, 2]))
    people = list(Person.objects.order_by("id"))
    for person in people:
        person.employer, person.custom_fields, person.modified_at = f"Acme {person.pk}", {"v": person.pk}, WHEN
        person.given_name = "not written"
    bulk_update_objects(people, ["employer", "custom_fields", "modified_at"])
    stored = list(Person.objects.order_by("id").values_list("employer", "custom_fields", "modified_at", "given_name"))
    assert stored == [("Acme 1", {"v": 1}, WHEN, "Given1"), ("Acme 2", {"v": 2}, WHEN, "Given2")]


def test_rows_where_in_finds_every_key_past_the_parameter_limit():
    from barnstorm.lib.bulk import rows_where_in

    bulk_insert_rows(Person, PERSON_COLUMNS, people_rows(range(1, 2001)))
    wanted = [*range(1, 2001, 2), 99999]
    found = rows_where_in(Person, "id", wanted, ["id", "given_name"])
    assert sorted(found) == [(pk, f"Given{pk}") for pk in range(1, 2001, 2)]
    assert rows_where_in(Person, "id", [], ["id"]) == []


def test_json_with_quotes_backslashes_and_newlines_round_trips():
    tricky = {"q": 'say "hi"\\ and\ttab\nnew line', "nested": [1, None, {"é": True}]}
    bulk_insert_rows(Person, PERSON_COLUMNS, [(3, "G", "F", tricky, WHEN, WHEN)])
    assert Person.objects.get(pk=3).custom_fields == tricky
