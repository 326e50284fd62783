"""Every predicate counts what an independent Python computation over the same rows counts."""

import pytest

from barnstorm.segments import engine

PERSON_CASES = [
    {"type": "has_tag", "tag": "volunteer"},
    {"type": "has_tag", "tag": "donor prospect"},  # names match in any case
    {"type": "has_tag", "tag": "nobody has this"},
    {"type": "in_list", "list": "Caucus captains"},
    {"type": "in_group", "group": "ames"},
    {"type": "in_group", "group": "dsm-east", "role": "leader"},
    {"type": "near_zip", "zip": "50309", "miles": 10},
    {"type": "near_zip", "zip": "50309", "miles": 30},
    {"type": "near_zip", "zip": "03101", "miles": 5},
    {"type": "state", "state": "IA"},
    {"type": "state", "state": ["nh", "IA"]},
    {"type": "zip", "zip": ["50309", "50010"]},
    {"type": "county", "county": "polk county", "state": "IA"},
    {"type": "county", "county": "Hillsborough County"},
    {"type": "email_status", "status": "subscribed"},
    {"type": "email_status", "status": "bouncing"},
    {"type": "sms_consent"},
    {"type": "created", "days": 100},
    {"type": "created", "since": "2025-01-01", "until": "2025-12-31"},
    {"type": "custom_field", "field": "shirt", "value": "L"},
    {"type": "custom_field", "field": "doors", "value": 2},
    {"type": "custom_field", "field": "captain", "value": True},
    {"type": "custom_field", "field": "captain", "value": False},
    {"type": "activity", "kind": "rsvp"},
    {"type": "activity", "kind": "donation", "times": 2},
    {"type": "activity", "kind": "attended", "days": 60},
    {"type": "engagement_level", "level": 2},
    {"type": "engagement_level", "level": "donor", "op": "<="},
    {"type": "engagement_level", "level": 0, "op": "="},
    {"type": "engagement_level", "level": 3, "op": "="},
]
DONATION_CASES = [
    {"type": "donated"},
    {"type": "donated", "days": 180},
    {"type": "donated", "measure": "count", "min": 2},
    {"type": "donated", "measure": "count", "max": 1},
    {"type": "donated", "measure": "total", "min": 5000},
    {"type": "donated", "measure": "total", "min": 1000, "max": 10000, "since": "2025-06-01"},
    {"type": "donated", "measure": "largest", "min": 10000},
    {"type": "donated", "measure": "largest", "max": 2700, "days": 365},
    {"type": "recurring_donor"},
    {"type": "refcode", "refcode": "email-0301"},
    {"type": "refcode", "refcode": "email-", "prefix": True, "days": 250},
    {"type": "refcode", "refcode": ["fb-ad", "email-0415"]},
]
EVENT_CASES = [
    {"type": "rsvped"},
    {"type": "rsvped", "times": 2},
    {"type": "rsvped", "days": 60},
    {"type": "attended"},
    {"type": "attended", "times": 2, "days": 120},
    {"type": "hosted_event"},
]


def _donation_committee_cases(world):
    return [
        {"type": "donated", "committee": world.committees[0]},
        {"type": "donated", "committee": world.committees[1], "measure": "total", "min": 2000},
        {"type": "donated", "committee": world.committees[0], "measure": "largest", "min": 5000, "days": 365},
    ]


def _event_specific_cases(world):
    from barnstorm.events.models import Event

    kinds = sorted(set(Event.objects.values_list("kind", flat=True)))
    return [
        *({"type": "rsvped", "kind": kind} for kind in kinds),
        *({"type": "attended", "kind": kind} for kind in kinds),
        {"type": "hosted_event", "kind": kinds[0]},
        {"type": "rsvped", "event": world.events[2]},
        {"type": "near_event", "event": world.events[0], "miles": 15},
        {"type": "near_event", "event": world.events[3], "miles": 40},
        {"type": "near_event", "event": world.events[7], "miles": 40},  # virtual: near nobody
    ]


def _check(query, world, expected, django_assert_num_queries):
    want = expected(query)
    got = set(engine.people(query, now=world.now).values_list("pk", flat=True))
    assert got == want, query
    with django_assert_num_queries(1):
        assert engine.count(query, now=world.now) == len(want)
    return want


@pytest.mark.parametrize("query", PERSON_CASES + DONATION_CASES + EVENT_CASES, ids=lambda q: str(q))
def test_each_predicate_matches_the_python_computation(query, world, expected, django_assert_num_queries):
    _check(query, world, expected, django_assert_num_queries)


def test_predicates_with_ids_match_the_python_computation(world, expected, django_assert_num_queries):
    by_id = [
        {"type": "has_tag", "tag": world.tags["teacher"]},
        {"type": "in_list", "list": world.lists["Press"]},
        {"type": "in_group", "group": world.groups["nashua"]},
    ]
    for query in by_id + _donation_committee_cases(world) + _event_specific_cases(world):
        _check(query, world, expected, django_assert_num_queries)


def test_the_cases_are_not_trivial(world, expected):
    """Most cases pick some people and leave others out, so agreement means something."""
    cases = (
        PERSON_CASES + DONATION_CASES + EVENT_CASES + _donation_committee_cases(world) + _event_specific_cases(world)
    )
    sizes = [len(expected(q)) for q in cases]
    discriminating = [s for s in sizes if 0 < s < len(world.people)]
    assert len(discriminating) >= len(cases) - 4, list(zip(sizes, cases, strict=True))


def test_secondary_emails_and_addresses_do_not_count(world, expected):
    from barnstorm.people.models import EmailAddress, PostalAddress

    assert EmailAddress.objects.filter(is_primary=False).exists()
    assert PostalAddress.objects.filter(is_primary=False).exists()
    primary_subscribed = set(
        EmailAddress.objects.filter(is_primary=True, status="subscribed").values_list("person_id", flat=True)
    )
    assert set(engine.people({"type": "email_status", "status": "subscribed"}).values_list("pk", flat=True)) == (
        primary_subscribed
    )


def test_a_fully_refunded_gift_is_no_gift(world, make_person):
    from barnstorm.donations.models import Contribution

    person = make_person(email="refunded@example.com")
    Contribution.objects.create(
        person=person,
        amount_cents=5000,
        refunded_cents=5000,
        method="card",
        source="web",
        received_at=world.now,
        idempotency_key="refunded-1",
    )
    assert not engine.people({"type": "donated"}).filter(pk=person.pk).exists()
    Contribution.objects.create(
        person=person,
        amount_cents=5000,
        refunded_cents=1000,
        method="card",
        source="web",
        received_at=world.now,
        idempotency_key="refunded-2",
    )
    largest = engine.people({"type": "donated", "measure": "largest", "min": 4000, "max": 4000})
    assert largest.filter(pk=person.pk).exists()


def test_people_without_an_engagement_row_are_supporters(world, make_person):
    person = make_person(email="new@example.com")
    assert engine.people({"type": "engagement_level", "level": 0, "op": "="}).filter(pk=person.pk).exists()
    assert not engine.people({"type": "engagement_level", "level": 1}).filter(pk=person.pk).exists()
