"""and / or / not, nesting, saved segments inside segments, validation messages, and the registry."""

import pytest
from django.db.models import Q

from barnstorm.segments import engine, registry
from barnstorm.segments.models import Segment
from barnstorm.segments.services import segment_save

COMBINATIONS = [
    {"and": [{"type": "state", "state": "IA"}, {"type": "has_tag", "tag": "volunteer"}]},
    {"or": [{"type": "has_tag", "tag": "volunteer"}, {"type": "donated", "measure": "total", "min": 5000}]},
    {"not": {"type": "email_status", "status": "subscribed"}},
    {"and": [{"type": "near_zip", "zip": "50309", "miles": 30}, {"not": {"type": "donated", "days": 365}}]},
    {
        "and": [
            {"or": [{"type": "state", "state": "NH"}, {"type": "in_group", "group": "ames"}]},
            {"not": {"or": [{"type": "attended"}, {"type": "engagement_level", "level": 3, "op": "="}]}},
            {"type": "sms_consent"},
        ]
    },
    {
        "or": [
            {"and": [{"type": "rsvped", "times": 2}, {"not": {"type": "hosted_event"}}]},
            {"and": [{"type": "recurring_donor"}, {"type": "activity", "kind": "donation", "days": 150}]},
            {"not": {"not": {"type": "custom_field", "field": "shirt", "value": "M"}}},
        ]
    },
    {"and": []},  # everyone
    {"or": [{"and": []}, {"type": "has_tag", "tag": "volunteer"}]},  # everyone, still
    {"not": {"and": []}},  # nobody
    {"and": [{"type": "state", "state": "IA"}, {"type": "zip", "zip": "03101"}]},  # nobody: contradictory
]


@pytest.mark.parametrize("query", COMBINATIONS, ids=str)
def test_combinations_match_the_python_computation(query, world, expected, django_assert_num_queries):
    want = expected(query)
    assert set(engine.people(query, now=world.now).values_list("pk", flat=True)) == want
    with django_assert_num_queries(1):
        assert engine.count(query, now=world.now) == len(want)


def test_a_typical_segment_is_one_statement_with_subqueries(world):
    query = COMBINATIONS[4]
    sql = str(engine.people(query).query)
    assert sql.count("SELECT") > 3  # subqueries, not separate statements
    assert "JOIN" not in sql.split("WHERE")[0]  # no joins that could duplicate people


def test_in_segment_expands_the_saved_query(world, expected, organizer, django_assert_num_queries):
    inner = segment_save(name="Iowa volunteers", query=COMBINATIONS[0], actor=organizer)
    query = {"or": [{"type": "in_segment", "segment": inner.pk}, {"type": "recurring_donor"}]}
    want = expected.__class__(world)(query)
    assert set(engine.people(query, now=world.now).values_list("pk", flat=True)) == want
    with django_assert_num_queries(2):  # reading the saved segment's query, then the count
        assert engine.count(query, now=world.now) == len(want)


def test_cycles_are_refused(world, organizer):
    a = segment_save(name="A", query={"type": "sms_consent"}, actor=organizer)
    b = segment_save(name="B", query={"type": "in_segment", "segment": a.pk}, actor=organizer)
    with pytest.raises(engine.QueryError) as caught:
        segment_save(name="A", query={"and": [{"type": "in_segment", "segment": b.pk}]}, segment=a, actor=organizer)
    assert f"refers back to itself ({a.pk} → {b.pk} → {a.pk})" in str(caught.value)
    assert caught.value.errors[0].startswith("and[0].segment: ")
    with pytest.raises(engine.QueryError, match="refers back to itself"):
        segment_save(name="A", query={"type": "in_segment", "segment": a.pk}, segment=a, actor=organizer)
    # A cycle already stored (written around the service) is refused when counted, not looped on.
    Segment.objects.filter(pk=a.pk).update(query={"type": "in_segment", "segment": b.pk})
    with pytest.raises(engine.QueryError, match="refers back to itself"):
        engine.count({"type": "in_segment", "segment": a.pk})


@pytest.mark.parametrize(
    "query, message",
    [
        (
            {
                "and": [
                    {"type": "sms_consent"},
                    {"type": "state", "state": "IA"},
                    {"type": "activity", "kind": "rsvp", "days": 0},
                ]
            },
            "and[2].days: must be a positive whole number",
        ),
        ({"type": "activity", "kind": "rsvp", "days": "30"}, "days: must be a positive whole number"),
        ({"or": [{"not": {"type": "has_tag"}}]}, "or[0].not.tag: is required"),
        ({"type": "teleport"}, "type: unknown predicate 'teleport'"),
        ({"type": "state", "state": "Iowa"}, "state: must be a two-letter state code"),
        ({"type": "near_zip", "zip": "99999", "miles": 5}, "zip: 99999 is not a known ZIP code"),
        ({"type": "near_zip", "zip": "50309", "miles": -5}, "miles: must be a positive number"),
        ({"type": "donated", "measure": "average"}, "measure: must be one of count, total, largest"),
        ({"type": "donated", "min": 10, "max": 5}, "max: must not be below min"),
        ({"type": "donated", "days": 5, "since": "2026-01-01"}, "days: give either days or since/until, not both"),
        ({"type": "created", "since": "2026-13-01"}, "since: must be a date written YYYY-MM-DD"),
        ({"type": "created", "since": "2026-03-01", "until": "2026-02-01"}, "until: must not be before since"),
        ({"type": "has_tag", "tag": "x", "colour": "red"}, "colour: unknown parameter (has_tag takes tag)"),
        ({"type": "activity", "kind": "levitated"}, "kind: must be one of"),
        ({"type": "engagement_level", "level": "boss"}, "level: must be a level: supporter (0)"),
        ({"type": "engagement_level", "level": 2, "op": ">"}, "op: must be one of >=, <=, ="),
        ({"type": "custom_field", "field": "a__b", "value": 1}, "field: must not contain __"),
        ({"type": "custom_field", "field": "shirt", "value": [1]}, "value: must be text, a number or true/false"),
        ({"type": "in_segment", "segment": 999999}, "segment: there is no saved segment 999999"),
        ({"and": {"type": "sms_consent"}}, "and: must be a list of conditions"),
        ({"or": []}, "or: must be a non-empty list of conditions"),
        ({"and": [], "or": []}, "query: give one of and, or, not or type, not several"),
        ([1, 2], "query: must be an object"),
        ({"and": [{"typ": "x"}]}, "and[0]: must have one of and, or, not or type"),
    ],
)
def test_validation_names_the_bad_part(db, query, message):
    errors = engine.validate(query)
    assert any(e.startswith(message) for e in errors), errors
    with pytest.raises(engine.QueryError):
        engine.compile(query)


def test_validation_reports_every_problem_at_once(db):
    errors = engine.validate({"and": [{"type": "has_tag"}, {"type": "near_zip", "zip": "1", "miles": 0}]})
    assert errors == [
        "and[0].tag: is required",
        "and[1].zip: must be a five-digit ZIP code",
        "and[1].miles: must be a positive number",
    ]


def test_a_valid_query_has_no_errors(db):
    assert engine.validate({"and": [{"type": "state", "state": "IA"}, {"not": {"type": "donated", "days": 30}}]}) == []


def test_apps_register_predicates_without_editing_the_engine(world, expected):
    class HasEmployer(engine.Predicate):
        type = "has_employer"
        params = {}

        def q(self, context):
            return ~Q(employer="")

    registry.register(HasEmployer)
    try:
        assert engine.count({"not": {"type": "has_employer"}}) == len(world.people)
        with pytest.raises(ValueError, match="already registered"):
            registry.register(type("Other", (engine.Predicate,), {"type": "has_employer"}))
    finally:
        registry.unregister("has_employer")
    assert engine.validate({"type": "has_employer"})


def test_donations_and_events_register_their_predicates_from_their_apps():
    from barnstorm.donations import segment_predicates as donations
    from barnstorm.events import segment_predicates as events

    assert registry.get("donated") is donations.Donated
    assert registry.get("near_event") is events.NearEvent
