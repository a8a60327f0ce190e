"""The life-circle engine's fast kernels against the plain computations they replace.

Each kernel is checked on a hand-checkable case and against a reference computed the
straightforward way (GEOS nearest-neighbour query, per-row loops) on seeded data.
"""

from __future__ import annotations

import tomllib

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gisrenew.lifecircles import life_circles, parse_life_circle_rules
from gisrenew.lifecircles.straight import nearest_facility

CRS = "EPSG:4549"


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


# --------------------------------------------------------------------------- result tables

RULES_TOML = """
name = "kernel-test"
version = "1"
[[circles]]
minutes = 5
distance_m = 300
[[circles]]
minutes = 15
distance_m = 1000
[[facilities]]
type = "kindergarten"
label_zh = "幼儿园"
circle = 5
radius_m = 150
[[facilities]]
type = "market"
label_zh = "菜市场"
circle = 5
radius_m = 120
[[facilities]]
type = "sports_field"
label_zh = "多功能运动场地"
circle = 15
radius_m = 5000
"""


def _seeded_city():
    """60 homes in two districts, kindergartens and markets here and there, one sports
    field that reaches everything (a type with no gap)."""
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 1000, 60), rng.uniform(0, 600, 60)
    homes = gpd.GeoDataFrame(
        {"residential_id": [f"h{i}" for i in range(60)], "households": rng.integers(5, 50, 60)},
        geometry=shapely.box(x, y, x + 30, y + 30),
        crs=CRS,
    )
    fx, fy = rng.uniform(0, 1000, 7), rng.uniform(0, 600, 7)
    kinds = ["kindergarten"] * 3 + ["market"] * 3 + ["sports_field"]
    fac = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(7)], "facility_type": kinds},
        geometry=shapely.points(fx, fy),
        crs=CRS,
    )
    districts = gpd.GeoDataFrame(
        {"district_id": ["W", "E"], "name": ["西区", "东区"]},
        geometry=[shapely.box(-100, -100, 500, 700), shapely.box(500, -100, 1100, 700)],
        crs=CRS,
    )
    rules = parse_life_circle_rules(tomllib.loads(RULES_TOML), origin="test")
    return homes, fac, districts, rules


def test_result_tables_equal_row_by_row_references():
    homes, fac, districts, rules = _seeded_city()
    result = life_circles(homes, fac, rules=rules, districts=districts, weight="households")
    land, reach = result.land, result.reach
    # missing types per piece: the keys of the required types not reached, in rule order
    for minutes in (5, 15):
        wanted = rules.required_types(minutes, cumulative=True)
        expected = [
            ",".join(k for k in wanted if not reach.loc[(reach["piece"] == p)
                     & (reach["facility_type"] == k), "reached"].item())
            for p in range(len(land))
        ]  # fmt: skip
        assert land[f"missing_{minutes}min"].tolist() == expected
    # district tables: sums of the pieces of each district
    by = reach.groupby(["district_id", "facility_type"])[["reached_m2", "reached_weight"]].sum()
    table = result.district_types.set_index(["district_id", "facility_type"])
    for key, row in by.iterrows():
        assert table.loc[key, "reached_m2"] == pytest.approx(row["reached_m2"], rel=1e-12)
        assert table.loc[key, "reached_weight"] == pytest.approx(row["reached_weight"], rel=1e-12)
    assert result.district_types["name"].tolist()[:3] == ["西区"] * 3
    # gaps: one row per type and piece not reached whole, types in rule order
    gaps = result.gaps
    partial = reach.loc[reach["reached_m2"] < land["area_m2"].to_numpy()[reach["piece"]] - 1e-6]
    order = {k: i for i, k in enumerate(rules.types)}
    expected = sorted(zip(partial["facility_type"], partial["residential_id"], strict=True),
                      key=lambda r: order[r[0]])  # fmt: skip
    assert list(zip(gaps["facility_type"], gaps["residential_id"], strict=True)) == expected
    assert "sports_field" not in set(gaps["facility_type"])  # no gap of that type
    # string columns stay strings even when a type has no gap at all
    assert gaps["residential_id"].dtype == land["residential_id"].dtype
    assert gaps["district_id"].dtype == reach["district_id"].dtype
