"""Segment predicates over events: RSVPs, attendance, hosting and distance to an event.

Windows (`days`, `since`, `until`) are on when the event starts, not when the RSVP was made:
"attended a canvass in March" means a March canvass.
"""

from __future__ import annotations

import math

from django.db.models import F, FloatField, Q, Subquery, Value
from django.db.models.functions import ASin, Cos, Degrees, Greatest, Least, Power, Radians, Sin, Sqrt

from barnstorm.events.geo import EARTH_RADIUS_MILES
from barnstorm.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus
from barnstorm.people.models import PostalAddress
from barnstorm.segments.engine import WINDOW_PARAMS, Choice, CompileContext, Integer, Number, Predicate, WindowPredicate
from barnstorm.segments.predicates import MAX_MILES, person_in, person_in_at_least
from barnstorm.segments.registry import register

EVENT_PARAMS = {
    "kind": Choice(EventKind.values, help="only events of this type"),
    "event": Integer(help="only this event (its id)"),
    "times": Integer(default=1, help="at least this many events (default 1)"),
    **WINDOW_PARAMS,
}


class _EventPredicate(WindowPredicate):
    params = EVENT_PARAMS

    def events(self, prefix: str, context: CompileContext) -> dict:
        lookups = self.window(f"{prefix}starts_at", context)
        if self["kind"]:
            lookups[f"{prefix}kind"] = self["kind"]
        if self["event"]:
            lookups[f"{prefix}pk" if prefix else "pk"] = self["event"]
        return lookups


@register
class Rsvped(_EventPredicate):
    type = "rsvped"
    label = "RSVPed to events"
    example = {"type": "rsvped", "kind": "canvass", "days": 60}

    def q(self, context: CompileContext) -> Q:
        rsvps = Rsvp.objects.exclude(status=RsvpStatus.CANCELLED).filter(**self.events("event__", context))
        return person_in_at_least(rsvps, self["times"])


@register
class Attended(_EventPredicate):
    type = "attended"
    label = "Attended events (checked in)"
    example = {"type": "attended", "times": 2, "since": "2026-01-01"}

    def q(self, context: CompileContext) -> Q:
        rsvps = Rsvp.objects.filter(checked_in_at__isnull=False, **self.events("event__", context))
        return person_in_at_least(rsvps, self["times"])


@register
class HostedEvent(_EventPredicate):
    """Events that were rejected or cancelled don't count."""

    type = "hosted_event"
    label = "Hosted events"
    example = {"type": "hosted_event", "kind": "house_party", "days": 365}

    def q(self, context: CompileContext) -> Q:
        events = Event.objects.exclude(status__in=[EventStatus.REJECTED, EventStatus.CANCELLED]).filter(
            **self.events("", context)
        )
        return person_in_at_least(events, self["times"], person_field="host_id")


@register
class NearEvent(Predicate):
    """Distance from each person's primary address to the event's place, computed in the same statement.

    The event's coordinates are read by uncorrelated subqueries (evaluated once), so the count
    stays one statement; the bounding box on the indexed coordinates comes first, as in geo.py.
    An event without coordinates (virtual) is near nobody.
    """

    type = "near_event"
    label = "Lives within N miles of an event"
    params = {"event": Integer(required=True, help="the event's id"), "miles": Number(required=True, maximum=MAX_MILES)}
    example = {"type": "near_event", "event": 42, "miles": 10}

    def q(self, context: CompileContext) -> Q:
        miles = self["miles"]
        place = Event.objects.filter(pk=self["event"]).order_by()
        lat0 = Subquery(place.values("latitude"), output_field=FloatField())
        lng0 = Subquery(place.values("longitude"), output_field=FloatField())
        lat_delta = math.degrees(miles / EARTH_RADIUS_MILES)
        lng_delta = Degrees(
            Value(miles / EARTH_RADIUS_MILES) / Greatest(Cos(Radians(lat0)), Value(1e-6)), output_field=FloatField()
        )
        addresses = (
            PostalAddress.objects.filter(is_primary=True)
            .alias(
                south=lat0 - Value(lat_delta),
                north=lat0 + Value(lat_delta),
                west=lng0 - lng_delta,
                east=lng0 + lng_delta,
                distance_miles=_haversine(lat0, lng0),
            )
            .filter(
                latitude__gte=F("south"),
                latitude__lte=F("north"),
                longitude__gte=F("west"),
                longitude__lte=F("east"),
                distance_miles__lte=miles,
            )
        )
        return person_in(addresses)


def _haversine(lat0, lng0):
    """geo.distance_expression with the centre as SQL expressions rather than numbers."""
    phi0, lam0 = Radians(lat0), Radians(lng0)
    phi, lam = Radians(F("latitude")), Radians(F("longitude"))
    a = Power(Sin((phi - phi0) / 2), 2) + Cos(phi0) * Cos(phi) * Power(Sin((lam - lam0) / 2), 2)
    return Value(2 * EARTH_RADIUS_MILES) * ASin(Least(Value(1.0), Sqrt(a)), output_field=FloatField())
