"""Predicates over people, their contact points, their activity, their ladder level and other segments.

Donations and events keep theirs in their own apps (`barnstorm/donations/segment_predicates.py`,
`barnstorm/events/segment_predicates.py`); the segments app's ready() imports all of them.

Geography and email status read each person's primary address and primary email: where they
live and where mail goes.
"""

from __future__ import annotations

from dataclasses import replace

from django.db.models import Count, Exists, OuterRef, Q

from barnstorm.activity import kinds
from barnstorm.activity.models import Activity
from barnstorm.events.geo import bounding_box, distance_expression
from barnstorm.people.models import (
    EmailAddress,
    EmailStatus,
    GroupMembership,
    GroupRole,
    ListMembership,
    PhoneNumber,
    PostalAddress,
    Tagging,
)
from barnstorm.people.normalize import zip_info
from barnstorm.segments import engine
from barnstorm.segments.engine import (
    WINDOW_PARAMS,
    Choice,
    CompileContext,
    Integer,
    Number,
    Predicate,
    QueryError,
    Reference,
    Scalar,
    Text,
    TextList,
    WindowPredicate,
    window_check,
)
from barnstorm.segments.models import Engagement, Level, Segment
from barnstorm.segments.registry import register

MAX_MILES = 500


def person_in(queryset, person_field: str = "person_id") -> Q:
    """People with at least one row in `queryset`: `EXISTS (SELECT … WHERE person_id = person.id)`.

    EXISTS rather than IN: under `not` it becomes an anti-join, which PostgreSQL plans well
    (NOT IN over a subquery must allow for NULLs and stays a per-row filter).
    """
    return Q(Exists(queryset.order_by().filter(**{person_field: OuterRef("pk")})))


def person_in_at_least(queryset, times: int, person_field: str = "person_id") -> Q:
    """People with at least `times` rows in `queryset`: a GROUP BY … HAVING subquery (plain IN for once)."""
    if times <= 1:
        return person_in(queryset, person_field)
    grouped = queryset.order_by().values(person_field).annotate(times=Count("pk")).filter(times__gte=times)
    return Q(pk__in=grouped.values(person_field))


def by_reference(reference: int | str, name_field: str = "name") -> dict:
    """Lookups naming a related row by id, or by name case-insensitively."""
    return {"pk": reference} if isinstance(reference, int) else {f"{name_field}__iexact": reference}


def _prefixed(lookups: dict, prefix: str) -> dict:
    return {f"{prefix}__{key}": value for key, value in lookups.items()}


@register
class HasTag(Predicate):
    type = "has_tag"
    label = "Has a tag"
    params = {"tag": Reference(required=True, help="the tag's id or name (any case)")}
    example = {"type": "has_tag", "tag": "volunteer"}

    def q(self, context: CompileContext) -> Q:
        return person_in(Tagging.objects.filter(**_prefixed(by_reference(self["tag"]), "tag")))


@register
class InList(Predicate):
    type = "in_list"
    label = "Is on a list"
    params = {"list": Reference(required=True, help="the list's id or name (any case)")}
    example = {"type": "in_list", "list": "Caucus captains"}

    def q(self, context: CompileContext) -> Q:
        return person_in(ListMembership.objects.filter(**_prefixed(by_reference(self["list"]), "people_list")))


@register
class InGroup(Predicate):
    type = "in_group"
    label = "Is in a local group"
    params = {
        "group": Reference(required=True, help="the group's id or slug"),
        "role": Choice(GroupRole.values, help="only members with this role"),
    }
    example = {"type": "in_group", "group": "des-moines-east", "role": "leader"}

    def q(self, context: CompileContext) -> Q:
        reference = self["group"]
        lookups = {"group_id": reference} if isinstance(reference, int) else {"group__slug": reference}
        if self["role"]:
            lookups["role"] = self["role"]
        return person_in(GroupMembership.objects.filter(**lookups))


@register
class NearZip(Predicate):
    type = "near_zip"
    label = "Lives within N miles of a ZIP code"
    params = {
        "zip": Text(required=True, pattern=r"\d{5}", pattern_help="must be a five-digit ZIP code"),
        "miles": Number(required=True, maximum=MAX_MILES),
    }
    example = {"type": "near_zip", "zip": "50309", "miles": 25}

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        return [] if zip_info(self["zip"]) else [("zip", f"{self['zip']} is not a known ZIP code")]

    def q(self, context: CompileContext) -> Q:
        center = zip_info(self["zip"])
        return person_in(addresses_within(center.latitude, center.longitude, self["miles"]))


def addresses_within(latitude: float, longitude: float, miles: float):
    """Primary addresses within `miles`: the bounding box on the indexed coordinates, then haversine."""
    south, north, west, east = bounding_box(latitude, longitude, miles)
    return (
        PostalAddress.objects.filter(is_primary=True, latitude__range=(south, north), longitude__range=(west, east))
        .alias(distance_miles=distance_expression(latitude, longitude))
        .filter(distance_miles__lte=miles)
    )


@register
class InState(Predicate):
    type = "state"
    label = "Lives in a state"
    params = {
        "state": TextList(
            required=True, max_length=2, pattern=r"[A-Za-z]{2}", pattern_help="must be a two-letter state code"
        )
    }
    example = {"type": "state", "state": ["IA", "NH"]}

    def q(self, context: CompileContext) -> Q:
        return person_in(PostalAddress.objects.filter(is_primary=True, state__in=[s.upper() for s in self["state"]]))


@register
class InZip(Predicate):
    type = "zip"
    label = "Lives in a ZIP code"
    params = {
        "zip": TextList(required=True, max_length=5, pattern=r"\d{5}", pattern_help="must be a five-digit ZIP code")
    }
    example = {"type": "zip", "zip": ["50309", "50310"]}

    def q(self, context: CompileContext) -> Q:
        return person_in(PostalAddress.objects.filter(is_primary=True, zip_code__in=self["zip"]))


@register
class InCounty(Predicate):
    type = "county"
    label = "Lives in a county"
    params = {
        "county": Text(required=True, max_length=100, help='as the ZIP data names it, e.g. "Polk County" (any case)'),
        "state": Text(max_length=2, pattern=r"[A-Za-z]{2}", pattern_help="must be a two-letter state code"),
    }
    example = {"type": "county", "county": "Polk County", "state": "IA"}

    def q(self, context: CompileContext) -> Q:
        lookups = {"is_primary": True, "county__iexact": self["county"]}
        if self["state"]:
            lookups["state"] = self["state"].upper()
        return person_in(PostalAddress.objects.filter(**lookups))


@register
class EmailStatusIs(Predicate):
    type = "email_status"
    label = "Primary email's status"
    params = {"status": Choice(EmailStatus.values, required=True)}
    example = {"type": "email_status", "status": "subscribed"}

    def q(self, context: CompileContext) -> Q:
        return person_in(EmailAddress.objects.filter(is_primary=True, status=self["status"]))


@register
class SmsConsent(Predicate):
    type = "sms_consent"
    label = "Can be texted (consented, not opted out)"
    params = {}
    example = {"type": "sms_consent"}

    def q(self, context: CompileContext) -> Q:
        return person_in(PhoneNumber.objects.filter(sms_consent=True, sms_opted_out_at__isnull=True))


@register
class CreatedBetween(WindowPredicate):
    type = "created"
    label = "Joined in a window"
    params = dict(WINDOW_PARAMS)
    example = {"type": "created", "since": "2026-01-01", "until": "2026-03-31"}

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        if not any(self[name] is not None for name in WINDOW_PARAMS):
            return [("since", "give days, or since and/or until")]
        return window_check(self.values)

    def q(self, context: CompileContext) -> Q:
        return Q(**self.window("created_at", context))


@register
class CustomFieldEquals(Predicate):
    type = "custom_field"
    label = "Custom field equals"
    params = {
        "field": Text(
            required=True,
            max_length=100,
            pattern=r"[A-Za-z_][A-Za-z0-9_-]*",
            pattern_help="must be a field name (letters, digits, _ and -, not starting with a digit)",
        ),
        "value": Scalar(required=True),
    }
    example = {"type": "custom_field", "field": "shirt_size", "value": "L"}

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        # "__" would be read by the ORM as a lookup, not as part of the key.
        return [("field", "must not contain __")] if "__" in self["field"] else []

    def q(self, context: CompileContext) -> Q:
        return Q(**{f"custom_fields__{self['field']}": self["value"]})


@register
class TookAction(WindowPredicate):
    type = "activity"
    label = "Took an action N times"
    params = {
        "kind": Choice(lambda: list(kinds.all_kinds()), required=True, help="an activity kind"),
        "times": Integer(default=1, help="at least this many times (default 1)"),
        **WINDOW_PARAMS,
    }
    example = {"type": "activity", "kind": "attended", "times": 2, "days": 90}

    def q(self, context: CompileContext) -> Q:
        rows = Activity.objects.filter(kind=self["kind"], **self.window("occurred_at", context))
        return person_in_at_least(rows, self["times"])


LEVEL_NAMES = {level.name.lower(): level.value for level in Level}
COMPARISONS = {">=": "gte", "<=": "lte", "=": "exact"}


class LevelParam(Integer):
    kind = "level number or name"

    def clean(self, value):
        if isinstance(value, str) and value.lower() in LEVEL_NAMES:
            return LEVEL_NAMES[value.lower()]
        try:
            return super().clean(value)
        except engine.ParamError:
            names = ", ".join(f"{n} ({v})" for n, v in LEVEL_NAMES.items())
            raise engine.ParamError(f"must be a level: {names}") from None


@register
class EngagementLevel(Predicate):
    """People without an engagement row yet are supporters (level 0)."""

    type = "engagement_level"
    label = "Engagement ladder level"
    params = {
        "level": LevelParam(required=True, minimum=min(Level.values), maximum=max(Level.values)),
        "op": Choice(list(COMPARISONS), default=">=", help="compare the person's level with >= (default), <= or ="),
    }
    example = {"type": "engagement_level", "op": ">=", "level": "volunteer"}

    def q(self, context: CompileContext) -> Q:
        lookup = COMPARISONS[self["op"] or ">="]
        condition = Q(**{f"level__{lookup}": self["level"]})
        if _compare(Level.SUPPORTER, lookup, self["level"]):
            # Level 0 qualifies, so people with no row do too: everyone but the rows that fail.
            return ~person_in(Engagement.objects.exclude(condition))
        return person_in(Engagement.objects.filter(condition))


def _compare(value: int, lookup: str, level: int) -> bool:
    return {"gte": value >= level, "lte": value <= level, "exact": value == level}[lookup]


@register
class InSegment(Predicate):
    """Membership in a saved segment, as its query is now (expanded into this one's SQL)."""

    type = "in_segment"
    label = "Is in another saved segment"
    params = {"segment": Reference(required=True, by_name=False, help="the saved segment's id")}
    example = {"type": "in_segment", "segment": 12}

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        segment_id = self["segment"]
        if segment_id in context.segment_stack:
            chain = " → ".join(
                str(s) for s in (*context.segment_stack[context.segment_stack.index(segment_id) :], segment_id)
            )
            return [("segment", f"segment {segment_id} refers back to itself ({chain})")]
        query = Segment.objects.filter(pk=segment_id).values_list("query", flat=True).first()
        if query is None:
            return [("segment", f"there is no saved segment {segment_id}")]
        nested = replace(context, segment_stack=(*context.segment_stack, segment_id))
        try:
            self.node = engine.parse(query, nested)
        except QueryError as e:
            return [("segment", f"segment {segment_id} is invalid: {error}") for error in e.errors]
        return []

    def q(self, context: CompileContext) -> Q:
        return self.node.q(context)
