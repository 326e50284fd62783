"""Cutting and routing (pure functions): balanced, compact turfs; short walks."""

import math
import random

import pytest

from barnstorm.field import turfs

DES_MOINES = (41.5868, -93.6250)


def _offset(lat, lng, north_m, east_m):
    return (
        lat + north_m / turfs.METERS_PER_DEGREE,
        lng + east_m / (turfs.METERS_PER_DEGREE * math.cos(math.radians(lat))),
    )


def _clustered(count, seed=7):
    """Households in neighbourhoods around three Iowa cities, plus a few in the countryside."""
    rng = random.Random(seed)
    cities = [DES_MOINES, (41.9779, -91.6656), (41.5236, -90.5776)]
    points = []
    while len(points) < count:
        if rng.random() < 0.05:
            points.append((len(points), rng.uniform(40.6, 43.4), rng.uniform(-96.5, -90.2)))
            continue
        lat, lng = _offset(*rng.choice(cities), rng.gauss(0, 5000), rng.gauss(0, 5000))
        for _ in range(min(rng.randint(20, 200), count - len(points))):
            points.append((len(points), *_offset(lat, lng, rng.gauss(0, 300), rng.gauss(0, 300))))
    return points


def _grid(side, spacing_m=50.0, shuffle_seed=3):
    points = [
        (f"{row}-{col}", *_offset(*DES_MOINES, row * spacing_m, col * spacing_m))
        for row in range(side)
        for col in range(side)
    ]
    random.Random(shuffle_seed).shuffle(points)
    return points


def _spread_from_middle(points, members):
    by_id = {p[0]: p for p in points}
    chosen = [by_id[i] for i in members]
    lat, lng = turfs.centroid(chosen)
    return sum(turfs.haversine_meters(lat, lng, p[1], p[2]) for p in chosen) / len(chosen)


# Cutting ---------------------------------------------------------------------------------------


def test_every_door_is_in_exactly_one_turf():
    points = _clustered(5000)
    cut = turfs.cut(points, 50)
    ids = [i for turf in cut for i in turf]
    assert sorted(ids) == sorted(p[0] for p in points)


@pytest.mark.parametrize(("count", "per_turf"), [(5000, 50), (4321, 50), (999, 30), (10_007, 120)])
def test_turfs_are_balanced(count, per_turf):
    cut = turfs.cut(_clustered(count), per_turf)
    sizes = [len(turf) for turf in cut]
    assert len(cut) == round(count / per_turf)
    assert max(sizes) - min(sizes) <= 1
    assert all(0.8 * per_turf <= size <= 1.2 * per_turf for size in sizes)


def test_a_few_doors_make_one_turf_and_none_make_none():
    assert turfs.cut([(1, *DES_MOINES)], 50) == [[1]]
    assert turfs.cut([], 50) == []
    assert [len(t) for t in turfs.cut(_clustered(60), 50)] == [60]


def test_turfs_are_compact_compared_with_random_turfs():
    points = _clustered(5000)
    cut = turfs.cut(points, 50)
    ours = sum(_spread_from_middle(points, turf) for turf in cut) / len(cut)
    shuffled = [p[0] for p in points]
    random.Random(1).shuffle(shuffled)
    random_turfs = [shuffled[i : i + 50] for i in range(0, len(shuffled), 50)]
    baseline = sum(_spread_from_middle(points, turf) for turf in random_turfs) / len(random_turfs)
    assert ours < 0.05 * baseline


def test_cutting_is_deterministic():
    points = _clustered(3000)
    assert turfs.cut(points, 50) == turfs.cut(list(points), 50)


def test_a_zip_code_centroid_shared_by_hundreds_is_spread_and_cut_into_compact_turfs():
    points = [(i, *DES_MOINES) for i in range(400)]
    spread = turfs.spread(points, spacing_m=15)
    assert len({(p[1], p[2]) for p in spread}) == 400
    lat, lng = turfs.centroid(spread)
    assert turfs.haversine_meters(lat, lng, *DES_MOINES) < 1
    # Neighbours in the order given are neighbours on the grid: one lot apart.
    gaps = [turfs.haversine_meters(a[1], a[2], b[1], b[2]) for a, b in zip(spread, spread[1:], strict=False)]
    assert sorted(gaps)[len(gaps) // 2] == pytest.approx(15, abs=0.1)

    cut = turfs.cut(spread, 50)
    assert [len(t) for t in cut] == [50] * 8
    assert max(_spread_from_middle(spread, turf) for turf in cut) < 80


def test_spreading_leaves_lone_points_where_they_are():
    points = [(1, 41.6, -93.6), (2, 41.7, -93.5), (3, 41.7, -93.5)]
    spread = turfs.spread(points)
    assert spread[0] == points[0]
    assert spread[1][1:] != spread[2][1:]


# Routing ---------------------------------------------------------------------------------------


def test_a_route_visits_every_door_once():
    points = _clustered(50, seed=11)
    order, meters = turfs.route(points)
    assert sorted(order) == sorted(p[0] for p in points)
    by_id = {p[0]: p for p in points}
    assert meters == pytest.approx(turfs.path_meters([by_id[i] for i in order]))


def test_improving_never_makes_a_walk_longer_than_nearest_neighbour():
    rng = random.Random(5)
    for _ in range(40):
        lat, lng = _offset(*DES_MOINES, rng.gauss(0, 5000), rng.gauss(0, 5000))
        points = [(i, *_offset(lat, lng, rng.gauss(0, 250), rng.gauss(0, 250))) for i in range(rng.randint(3, 60))]
        assert turfs.route(points)[1] <= turfs.nearest_neighbour_route(points)[1] + 1e-6


def test_a_square_grid_gets_a_near_optimal_walk():
    # 49 doors 50 m apart: the best open walk is 48 steps of 50 m, one row after the other.
    order, meters = turfs.route(_grid(7, spacing_m=50))
    assert len(order) == 49
    assert meters <= 48 * 50 * 1.05


def test_routes_are_shorter_than_the_reference_heuristic():
    rng = random.Random(9)
    ours = reference = 0.0
    for _ in range(30):
        points = [(i, *_offset(*DES_MOINES, rng.uniform(0, 600), rng.uniform(0, 600))) for i in range(50)]
        ours += turfs.route(points)[1]
        order, meters = turfs.reference_route(points)
        assert sorted(order) == list(range(50))
        reference += meters
    assert ours < reference


def test_tiny_turfs_have_trivial_routes():
    assert turfs.route([]) == ([], 0.0)
    assert turfs.route([(1, *DES_MOINES)]) == ([1], 0.0)
    order, meters = turfs.route([(1, *DES_MOINES), (2, *_offset(*DES_MOINES, 100, 0))])
    assert order == [1, 2] and meters == pytest.approx(100, rel=1e-3)
    assert turfs.reference_route([(1, *DES_MOINES)]) == ([1], 0.0)
