"""Great-circle distance in plain Python, for whatever unit the caller's radius is in (event
search in miles, canvass routes in meters)."""

import math

EARTH_RADIUS_MILES = 3958.8
EARTH_RADIUS_METERS = 6_371_008.8


def haversine(lat1: float, lng1: float, lat2: float, lng2: float, *, radius: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * radius * math.asin(min(1.0, math.sqrt(a)))
