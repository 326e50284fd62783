"""Radius search on both databases: a bounding box on indexed latitude/longitude, then haversine.

The distance is computed in SQL with Django's math functions (PostgreSQL has them built in;
Django registers the same functions on SQLite), so one query filters, sorts and limits, and both
databases give the same answer.
"""

from __future__ import annotations

import math

from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from barnstorm.lib.geo import EARTH_RADIUS_MILES, haversine


def bounding_box(latitude: float, longitude: float, miles: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) enclosing every point within `miles`; wider near the poles."""
    lat_delta = math.degrees(miles / EARTH_RADIUS_MILES)
    cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
    lng_delta = min(180.0, math.degrees(miles / (EARTH_RADIUS_MILES * cos_lat)))
    return latitude - lat_delta, latitude + lat_delta, longitude - lng_delta, longitude + lng_delta


def haversine_miles(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance, in Python (tests, and places that have both points in hand)."""
    return haversine(lat1, lng1, lat2, lng2, radius=EARTH_RADIUS_MILES)


def distance_expression(latitude: float, longitude: float, lat_field: str = "latitude", lng_field: str = "longitude"):
    """The same haversine as an SQL expression over a row's coordinates."""
    lat0, lng0 = Value(math.radians(latitude)), Value(math.radians(longitude))
    phi = Radians(F(lat_field))
    lam = Radians(F(lng_field))
    a = Power(Sin((phi - lat0) / 2), 2) + Value(math.cos(math.radians(latitude))) * Cos(phi) * Power(
        Sin((lam - lng0) / 2), 2
    )
    return Value(2 * EARTH_RADIUS_MILES) * ASin(Least(Value(1.0), Sqrt(a)), output_field=FloatField())


def within(queryset: QuerySet, *, latitude: float, longitude: float, miles: float, prefilter: bool = True) -> QuerySet:
    """Rows within `miles`, annotated with `distance_miles`. `prefilter=False` skips the box (benchmarks)."""
    if prefilter:
        south, north, west, east = bounding_box(latitude, longitude, miles)
        queryset = queryset.filter(latitude__range=(south, north), longitude__range=(west, east))
    return queryset.annotate(distance_miles=distance_expression(latitude, longitude)).filter(distance_miles__lte=miles)
