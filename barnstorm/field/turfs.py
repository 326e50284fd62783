"""Cutting a canvass into turfs and ordering each turf's doors. Pure Python, no Django.

Every function takes points as `(id, latitude, longitude)` tuples; ids are whatever the caller
needs back (door ids, list indexes).

- `spread` gives households that share one point (our addresses are geocoded to their ZIP
  code's centroid, so a whole ZIP code can sit on a single point) distinct points on a small
  grid around it, in the order they are given: the caller sorts them by street and house number,
  so each street's doors end up side by side and are cut and walked together.
- `cut` splits the points into turfs of about `doors_per_turf` doors each by recursive
  coordinate bisection: a region meant to hold k turfs is split across its longer side so that
  one half holds ⌊k/2⌋ turfs' worth of doors and the other the rest. Every turf gets ⌊n/k⌋ or
  ⌈n/k⌉ doors with k = round(n / doors_per_turf), so with at least a few turfs each is within
  ±20 % of the size asked for, and the turfs tile the map without overlapping.
- `route` orders one turf's doors for walking: nearest neighbour from the door farthest from
  the middle, then 2-opt and Or-opt moves until none shortens the walk (or a round limit). The
  walk is an open path: from the first door to the last, without coming back.
- `reference_route` is an independent heuristic (greedy edge matching on haversine distances)
  that the benchmark runs on the same turfs, to keep `route` honest.

Distances: `route` optimises straight lines on a local equirectangular projection (exact
enough within a turf) and reports the walk's length in haversine meters, as `path_meters` does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence

from barnstorm.lib.geo import EARTH_RADIUS_METERS, haversine

Point = tuple[Hashable, float, float]

EARTH_RADIUS_M = EARTH_RADIUS_METERS
METERS_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
SPREAD_SPACING_M = 15.0  # about one house lot
ROUTE_MAX_ROUNDS = 50
_EPSILON = 1e-7


# Distances ------------------------------------------------------------------------------------


def haversine_meters(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return haversine(lat1, lng1, lat2, lng2, radius=EARTH_RADIUS_M)


def path_meters(points: Sequence[Point]) -> float:
    """The length of walking `points` in the order given, door to door."""
    return sum(haversine_meters(a[1], a[2], b[1], b[2]) for a, b in zip(points, points[1:], strict=False))


def centroid(points: Sequence[Point]) -> tuple[float, float]:
    n = len(points)
    return sum(p[1] for p in points) / n, sum(p[2] for p in points) / n


def _local_xy(points: Sequence[Point]) -> tuple[list[float], list[float]]:
    """Meters east and north of the points' middle (equirectangular: fine over a few km)."""
    lat0, lng0 = centroid(points)
    kx = METERS_PER_DEGREE * math.cos(math.radians(lat0))
    return [(p[2] - lng0) * kx for p in points], [(p[1] - lat0) * METERS_PER_DEGREE for p in points]


# Households on one point -----------------------------------------------------------------------


def spread(points: Sequence[Point], spacing_m: float = SPREAD_SPACING_M) -> list[Point]:
    """The same points, with those that share a position laid out on a square grid around it.

    The grid is `spacing_m` apart, centred on the shared point and filled row by row, every
    other row backwards (as a street is walked up one side and down the next), in the order the
    points come in. Points alone on their position are returned as they are. Deterministic.
    """
    groups: dict[tuple[float, float], list[int]] = defaultdict(list)
    for index, (_, lat, lng) in enumerate(points):
        groups[(lat, lng)].append(index)
    result = list(points)
    for (lat, lng), members in groups.items():
        if len(members) == 1:
            continue
        side = math.ceil(math.sqrt(len(members)))
        rows = math.ceil(len(members) / side)
        meters_per_lng = METERS_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01)
        for rank, index in enumerate(members):
            row, col = divmod(rank, side)
            if row % 2:
                col = side - 1 - col
            east = (col - (side - 1) / 2) * spacing_m
            north = ((rows - 1) / 2 - row) * spacing_m
            result[index] = (
                points[index][0],
                lat + north / METERS_PER_DEGREE,
                lng + east / meters_per_lng,
            )
    return result


# Cutting -------------------------------------------------------------------------------------


def turf_count(doors: int, doors_per_turf: int) -> int:
    return max(1, round(doors / doors_per_turf)) if doors else 0


def cut(points: Sequence[Point], doors_per_turf: int) -> list[list[Hashable]]:
    """The points' ids in turfs of about `doors_per_turf` each, neighbouring turfs side by side.

    Recursive coordinate bisection on an equal-area projection (x shrinks with cos(latitude)):
    O(n log n log k). Ties on a coordinate keep the input order, so the result is deterministic.
    """
    if doors_per_turf < 1:
        raise ValueError("doors_per_turf must be at least 1")
    n = len(points)
    if not n:
        return []
    lat0 = sum(p[1] for p in points) / n
    lng0 = sum(p[2] for p in points) / n
    xs = [(p[2] - lng0) * METERS_PER_DEGREE * math.cos(math.radians(p[1])) for p in points]
    ys = [(p[1] - lat0) * METERS_PER_DEGREE for p in points]
    turfs: list[list[Hashable]] = []
    # Depth first, lower half first, so consecutive turfs are neighbours on the map.
    stack: list[tuple[list[int], int]] = [(list(range(n)), turf_count(n, doors_per_turf))]
    while stack:
        members, parts = stack.pop()
        if parts == 1:
            turfs.append([points[i][0] for i in members])
            continue
        low_parts = parts // 2
        low_size = round(len(members) * low_parts / parts)
        x_values = [xs[i] for i in members]
        y_values = [ys[i] for i in members]
        wider = max(x_values) - min(x_values) >= max(y_values) - min(y_values)
        members.sort(key=(xs if wider else ys).__getitem__)
        stack.append((members[low_size:], parts - low_parts))
        stack.append((members[:low_size], low_parts))
    return turfs


# Routing -------------------------------------------------------------------------------------


def route(points: Sequence[Point], *, max_rounds: int = ROUTE_MAX_ROUNDS) -> tuple[list[Hashable], float]:
    """An order to walk `points` in, and its length in meters.

    Nearest neighbour from the point farthest from the middle (one end of the turf), then
    rounds of 2-opt (reverse a stretch) and Or-opt (move a run of 1–3 doors elsewhere, either
    way round) while they shorten the walk, at most `max_rounds` rounds. Each move strictly
    shortens the walk, so the result is never longer than the nearest-neighbour walk.
    """
    n = len(points)
    if n <= 2:
        return [p[0] for p in points], path_meters(points)
    path = _local_route(points, max_rounds=max_rounds)
    ordered = [points[i] for i in path]
    return [p[0] for p in ordered], path_meters(ordered)


def nearest_neighbour_route(points: Sequence[Point]) -> tuple[list[Hashable], float]:
    """The walk `route` starts from, before any improvement (for comparisons)."""
    if len(points) <= 2:
        return [p[0] for p in points], path_meters(points)
    distances, start = _distances_and_start(points)
    ordered = [points[i] for i in _nearest_neighbour(distances, start)]
    return [p[0] for p in ordered], path_meters(ordered)


def _distances_and_start(points: Sequence[Point]) -> tuple[list[list[float]], int]:
    xs, ys = _local_xy(points)
    hypot = math.hypot
    distances = [
        [hypot(x1 - x2, y1 - y2) for x2, y2 in zip(xs, ys, strict=True)] for x1, y1 in zip(xs, ys, strict=True)
    ]
    start = max(range(len(points)), key=lambda i: xs[i] * xs[i] + ys[i] * ys[i])
    return distances, start


def _local_route(points: Sequence[Point], *, max_rounds: int) -> list[int]:
    distances, start = _distances_and_start(points)
    path = _nearest_neighbour(distances, start)
    for _ in range(max_rounds):
        reversed_any = _two_opt(path, distances)
        moved_any = _or_opt(path, distances)
        if not (reversed_any or moved_any):
            break
    return path


def _nearest_neighbour(d: list[list[float]], start: int) -> list[int]:
    left = list(range(len(d)))
    left.remove(start)
    path = [start]
    while left:
        row = d[path[-1]]
        nearest = min(left, key=row.__getitem__)
        left.remove(nearest)
        path.append(nearest)
    return path


def _two_opt(p: list[int], d: list[list[float]]) -> bool:
    """First-improvement 2-opt on an open path: reverse p[i..j] when that shortens it.

    Reversing p[i..j] swaps the edges (p[i-1], p[i]) and (p[j], p[j+1]) for (p[i-1], p[j]) and
    (p[i], p[j+1]); at either end of the path there is no edge to lose or gain.
    """
    n = len(p)
    improved = False
    i = 0
    while i < n - 1:
        b = p[i]
        db = d[b]
        weights = [d[x][y] for x, y in zip(p, p[1:], strict=False)]
        j = -1
        if i > 0:
            da = d[p[i - 1]]
            limit = da[b] - _EPSILON
            for k, (c, e, w_ce) in enumerate(zip(p[i + 1 : n - 1], p[i + 2 :], weights[i + 1 :], strict=False)):
                if da[c] + db[e] - w_ce < limit:
                    j = i + 1 + k
                    break
            else:
                if da[p[-1]] < limit:  # reverse to the end: the last edge changes, nothing after it
                    j = n - 1
        else:
            for k, (e, w_ce) in enumerate(zip(p[2:], weights[1:], strict=False)):
                if db[e] < w_ce - _EPSILON:  # reverse from the start: only the edge after j changes
                    j = 1 + k
                    break
        if j < 0:
            i += 1
            continue
        p[i : j + 1] = p[i : j + 1][::-1]
        improved = True
    return improved


def _or_opt(p: list[int], d: list[list[float]]) -> bool:
    """Move a run of 1, 2 or 3 consecutive doors to the best other place (forwards or backwards)."""
    n = len(p)
    improved = False
    for length in (1, 2, 3):
        if length >= n - 1:
            break
        i = 0
        while i + length <= n:
            first, last = p[i], p[i + length - 1]
            before = p[i - 1] if i > 0 else None
            after = p[i + length] if i + length < n else None
            gain = 0.0
            if before is not None:
                gain += d[before][first]
            if after is not None:
                gain += d[last][after]
            if before is not None and after is not None:
                gain -= d[before][after]
            if gain <= _EPSILON:
                i += 1
                continue
            rest = p[:i] + p[i + length :]
            d_first, d_last = d[first], d[last]
            best, where, backwards = gain - _EPSILON, -1, False
            # At the start of the walk, or at its end.
            for cost, position, flip in (
                (d_last[rest[0]], 0, False),
                (d_first[rest[0]], 0, True),
                (d_first[rest[-1]], len(rest), False),
                (d_last[rest[-1]], len(rest), True),
            ):
                if cost < best:
                    best, where, backwards = cost, position, flip
            # Between two doors q and r.
            for k, (q, r) in enumerate(zip(rest, rest[1:], strict=False), 1):
                dq = d[q]
                d_qr = dq[r]
                cost = dq[first] + d_last[r] - d_qr
                if cost < best:
                    best, where, backwards = cost, k, False
                cost = dq[last] + d_first[r] - d_qr
                if cost < best:
                    best, where, backwards = cost, k, True
            if where < 0:
                i += 1
                continue
            run = p[i : i + length]
            if backwards:
                run.reverse()
            p[:] = rest[:where] + run + rest[where:]
            improved = True
    return improved


# The reference heuristic -----------------------------------------------------------------------


def reference_route(points: Sequence[Point]) -> tuple[list[Hashable], float]:
    """Greedy edge matching, written apart from `route` for the benchmark to compare against.

    All pairs by haversine distance, shortest first; a pair joins the walk when neither door
    already has two neighbours and it closes no loop (union–find), until n-1 pairs make one
    path, which is then read from one end.
    """
    n = len(points)
    if n <= 2:
        return [p[0] for p in points], path_meters(points)
    pairs = sorted(
        (haversine_meters(points[i][1], points[i][2], points[j][1], points[j][2]), i, j)
        for i in range(n)
        for j in range(i + 1, n)
    )
    parent = list(range(n))
    neighbours: list[list[int]] = [[] for _ in range(n)]

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    joined = 0
    for _, i, j in pairs:
        if len(neighbours[i]) < 2 and len(neighbours[j]) < 2:
            ri, rj = root(i), root(j)
            if ri != rj:
                parent[ri] = rj
                neighbours[i].append(j)
                neighbours[j].append(i)
                joined += 1
                if joined == n - 1:
                    break
    end = next(i for i in range(n) if len(neighbours[i]) == 1)
    order, previous = [end], -1
    while len(order) < n:
        here = order[-1]
        step = next(x for x in neighbours[here] if x != previous)
        previous = here
        order.append(step)
    ordered = [points[i] for i in order]
    return [p[0] for p in ordered], path_meters(ordered)
