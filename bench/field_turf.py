"""Turf cutting for `barnstorm bench field`: 100,000 × scale doors into 50-door turfs, in memory.

The doors are households around Iowa's cities, generated from the run's seed: most in
neighbourhoods (tight clusters a few hundred meters wide) scattered around Des Moines, Cedar
Rapids, Davenport, Iowa City, Waterloo and Sioux City in proportion to their size, some on the
cities' edges, and a tenth in the countryside between them. Some neighbourhoods are a single
ZIP-code centroid shared by all their households, as our offline geocoding gives, so `spread`
has real work to do.

Timed: `turfs.spread`, `turfs.cut` and `turfs.route` for every turf, what `turfs_cut` runs
before it writes. Then, in the same run and on the same turfs, the independent reference
heuristic (`turfs.reference_route`, greedy edge matching) orders every turf, and both totals
are measured the same way (haversine meters, door to door). No database is touched.

Targets: at most 30 s at full scale; our total walking length at most 1.25 × the reference's.
"""

from __future__ import annotations

import math
import random
import time

from barnstorm.field import turfs
from bench import BenchContext

DOORS = 100_000
DOORS_PER_TURF = 50
TARGET_SECONDS = 30.0
TARGET_RATIO = 1.25

# (name, latitude, longitude, share of the city doors, spread of its neighbourhoods in km)
CITIES = [
    ("Des Moines", 41.5868, -93.6250, 0.38, 7.0),
    ("Cedar Rapids", 41.9779, -91.6656, 0.2, 5.0),
    ("Davenport", 41.5236, -90.5776, 0.18, 5.0),
    ("Iowa City", 41.6611, -91.5302, 0.1, 3.5),
    ("Waterloo", 42.4928, -92.3426, 0.08, 4.0),
    ("Sioux City", 42.4999, -96.4003, 0.06, 4.0),
]
IOWA = (40.6, 43.4, -96.5, -90.2)  # south, north, west, east
RURAL_SHARE = 0.1
NEIGHBOURHOOD_DOORS = 400  # about; a neighbourhood is 150–800 households
ZIP_CENTROID_SHARE = 0.15  # of neighbourhoods geocoded to one shared point


def run_turf(context: BenchContext) -> dict:
    count = context.scaled(DOORS, minimum=DOORS_PER_TURF * 4)
    points = doors_generate(random.Random(f"{context.seed}:turf"), count)
    context.log(f"Turf cutting: {count:,} doors into turfs of {DOORS_PER_TURF}")

    started = time.perf_counter()
    spread = turfs.spread(points)
    cut_started = time.perf_counter()
    cut = turfs.cut(spread, DOORS_PER_TURF)
    cut_seconds = time.perf_counter() - cut_started
    by_id = {p[0]: p for p in spread}
    members = [[by_id[i] for i in turf] for turf in cut]
    walks = [turfs.route(turf_points)[1] for turf_points in members]
    seconds = time.perf_counter() - started
    our_meters = sum(walks)

    reference_started = time.perf_counter()
    references = [turfs.reference_route(turf_points)[1] for turf_points in members]
    reference_seconds = time.perf_counter() - reference_started
    reference_meters = sum(references)
    # In town: the turfs a canvasser walks (the reference's walk under 10 km), apart from the drives.
    town = [(ours, theirs) for ours, theirs in zip(walks, references, strict=True) if theirs < 10_000]
    nearest_meters = sum(turfs.nearest_neighbour_route(turf_points)[1] for turf_points in members)

    sizes = sorted(len(t) for t in cut)
    town_ratio = sum(o for o, _ in town) / sum(t for _, t in town) if town else float("nan")
    walks.sort()
    context.log(
        f"  {len(cut):,} turfs of {sizes[0]}–{sizes[-1]} doors; cut in {cut_seconds:.2f}s, "
        f"spread + cut + routes in {seconds:.2f}s ({'meets' if seconds <= TARGET_SECONDS else 'misses'} "
        f"the {TARGET_SECONDS:.0f} s target); a turf's walk: median {walks[len(walks) // 2] / 1000:.1f} km, "
        f"90th percentile {walks[int(len(walks) * 0.9)] / 1000:.1f} km (the countryside's are long drives)"
    )
    ratio = our_meters / reference_meters if reference_meters else float("nan")
    context.log(
        f"  walking: ours {our_meters / 1000:,.1f} km, reference (greedy edge, {reference_seconds:.2f}s) "
        f"{reference_meters / 1000:,.1f} km, nearest neighbour alone {nearest_meters / 1000:,.1f} km; "
        f"ratio {ratio:.3f} ({'meets' if ratio <= TARGET_RATIO else 'misses'} the {TARGET_RATIO} target); "
        f"in town ({len(town):,} turfs under 10 km) {town_ratio:.3f}"
    )
    return {
        "seconds": seconds,
        "our_meters": our_meters,
        "reference_meters": reference_meters,
        "turfs": len(cut),
    }


def doors_generate(rng: random.Random, count: int) -> list[turfs.Point]:
    """`count` households as (index, latitude, longitude), the same for the same generator."""
    points: list[turfs.Point] = []
    rural = round(count * RURAL_SHARE)
    south, north, west, east = IOWA
    for _ in range(rural):
        points.append((len(points), rng.uniform(south, north), rng.uniform(west, east)))
    urban = count - rural
    weights = [city[3] for city in CITIES]
    total = sum(weights)
    for city_index, (_, lat, lng, share, km) in enumerate(CITIES):
        wanted = round(urban * share / total) if city_index < len(CITIES) - 1 else count - len(points)
        placed = 0
        while placed < wanted:
            size = min(wanted - placed, rng.randint(NEIGHBOURHOOD_DOORS // 3, NEIGHBOURHOOD_DOORS * 2))
            centre_lat, centre_lng = _offset(lat, lng, rng.gauss(0, km * 1000), rng.gauss(0, km * 1000))
            if rng.random() < ZIP_CENTROID_SHARE:
                points.extend((len(points) + i, centre_lat, centre_lng) for i in range(size))
            else:
                width = rng.uniform(150, 500)
                for _ in range(size):
                    points.append(
                        (len(points), *_offset(centre_lat, centre_lng, rng.gauss(0, width), rng.gauss(0, width)))
                    )
            placed += size
    return points


def _offset(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / turfs.METERS_PER_DEGREE,
        lng + east_m / (turfs.METERS_PER_DEGREE * math.cos(math.radians(lat))),
    )
