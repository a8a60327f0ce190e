"""The life-circle engine's fast kernels against the plain computations they replace.

Each kernel is checked on a hand-checkable case and against a reference computed the
straightforward way (GEOS nearest-neighbour query, per-row loops) on seeded data.
"""

from __future__ import annotations

import numpy as np
import shapely

from gisrenew.lifecircles.straight import nearest_facility


def test_nearest_facility_hand_checked_ties_go_to_the_first():
    pieces = np.array([shapely.box(0, 0, 10, 10), shapely.box(100, 0, 110, 10)])
    geoms = np.array(
        [
            shapely.Point(20, 5),  # 10 m from the first piece
            shapely.Point(-10, 5),  # 10 m too: a tie, the first listed wins
            shapely.box(104, 4, 106, 6),  # inside the second piece: 0 m
        ]
    )
    distance, nearest = nearest_facility(pieces, geoms)
    assert distance.tolist() == [10.0, 0.0]
    assert nearest.tolist() == [0, 2]


def test_nearest_facility_finds_a_long_site_whose_centre_is_far():
    """Four points near the piece's centre, and a long strip 2 m away whose centre is 1 km
    off: the strip is past the k-d tree's first neighbours and must still be found."""
    piece = np.array([shapely.box(0, 0, 10, 10)])
    geoms = np.array([shapely.Point(60, 5 + i) for i in range(5)] + [shapely.box(12, 0, 13, 2000)])
    distance, nearest = nearest_facility(piece, geoms)
    assert distance.tolist() == [2.0]
    assert nearest.tolist() == [5]


def test_nearest_facility_without_facilities():
    distance, nearest = nearest_facility(np.array([shapely.box(0, 0, 1, 1)]), np.array([]))
    assert distance.tolist() == [np.inf]
    assert nearest.tolist() == [-1]


def test_nearest_facility_equals_the_geos_nearest_query():
    rng = np.random.default_rng(17)
    x, y = rng.uniform(0, 3000, 2000), rng.uniform(0, 3000, 2000)
    pieces = shapely.box(x, y, x + rng.uniform(5, 80, 2000), y + rng.uniform(5, 80, 2000))
    fx, fy = rng.uniform(-500, 3500, 60), rng.uniform(-500, 3500, 60)
    size = np.where(rng.random(60) < 0.5, 0.0, rng.uniform(10, 400, 60))
    geoms = np.where(
        size > 0, shapely.box(fx, fy, fx + size, fy + size / 4), shapely.points(fx, fy)
    )
    distance, nearest = nearest_facility(pieces, geoms)
    (pi, fi), d = shapely.STRtree(geoms).query_nearest(
        pieces, return_distance=True, all_matches=True
    )
    expected = np.full(len(pieces), np.inf)
    np.minimum.at(expected, pi, d)
    first_tied = np.full(len(pieces), len(geoms))
    np.minimum.at(first_tied, pi, fi)  # all_matches: every facility at the least distance
    np.testing.assert_array_equal(distance, expected)
    np.testing.assert_array_equal(nearest, first_tied)
