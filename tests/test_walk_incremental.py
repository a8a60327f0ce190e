"""The walk after new parks, from the walk before (``updated_network_coverage``).

Hand-made city in a metric CRS: a 100 m street grid of 1.2 km, a street island no park
can reach, houses near and far from the streets, parks of both tiers of tijian-2021
(≥ 5000 m² → 500 m, 2000–5000 m² → 300 m). Every result is checked against
``network_coverage`` on the parks after the change, never against numbers written here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gisrenew.coverage import residential_land
from gisrenew.network import coverage as network_module
from gisrenew.network import (
    network_coverage,
    updated_network_coverage,
    walk_graph_from_roads,
)
from gisrenew.results import WALK_PIECE_COLUMNS

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0
SIDE = 1200.0


def _box(x, y, w, h):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _roads() -> gpd.GeoDataFrame:
    ticks = np.arange(0.0, SIDE + 1, 100.0)
    lines = [shapely.LineString([(X0 + t, Y0), (X0 + t, Y0 + SIDE)]) for t in ticks]
    lines += [shapely.LineString([(X0, Y0 + t), (X0 + SIDE, Y0 + t)]) for t in ticks]
    # an island: streets joined to nothing else (pieces there have no path to a park)
    lines.append(shapely.LineString([(X0 + 1500, Y0 + 100), (X0 + 1700, Y0 + 100)]))
    return gpd.GeoDataFrame({"road_id": [f"s{i}" for i in range(len(lines))]}, geometry=lines,
                            crs=CRS)  # fmt: skip


def _residential(seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    n = 150
    cx, cy = rng.integers(0, 12, n) * 100.0, rng.integers(0, 12, n) * 100.0
    w, h = rng.uniform(15, 55, n), rng.uniform(15, 55, n)
    x, y = cx + rng.uniform(10, 85 - w), cy + rng.uniform(10, 85 - h)
    geoms = [_box(*a) for a in zip(x, y, w, h, strict=True)]
    geoms += [_box(1580, 120, 30, 30), _box(1580, 600, 40, 40)]  # island; no street near
    return gpd.GeoDataFrame(
        {"residential_id": [f"r{i}" for i in range(len(geoms))],
         "households": rng.integers(5, 90, len(geoms))},
        geometry=geoms, crs=CRS,
    )  # fmt: skip


def _parks(specs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": [s[0] for s in specs], "park_class": ["G12"] * len(specs)},
        geometry=[_box(*s[1:]) for s in specs],
        crs=CRS,
    )


OLD = [("p1", 121.3, 118.2, 60, 60), ("p2", 817.4, 223.9, 75, 75), ("p3", 326.1, 813.7, 45, 45)]
#: a 300 m park, and a 500 m one: the largest limit after the change is the new one's
NEW = [("n1", 1017.3, 1021.9, 50, 50), ("n2", 611.7, 523.4, 78, 78)]


def _walk(parks, graph, land, **options):
    return network_coverage(parks, _residential(), graph, land=land, weight="households",
                            connector_limit_m=60.0, **options)  # fmt: skip


@pytest.fixture(scope="module")
def city():
    graph = walk_graph_from_roads(_roads())
    land = residential_land(_residential(), weight="households", rules="tijian-2021")
    return graph, land


def _assert_same_walk(mine, full) -> None:
    a, b = mine.residential, full.residential
    assert len(a) == len(b)
    for column in ("walk_distance_m", "serving_walk_m", "connector_m"):
        np.testing.assert_allclose(a[column], b[column], rtol=0, atol=1e-6)
    for column in ("nearest_park_id", "serving_park_id", "walk_status", "covered"):
        assert a[column].tolist() == b[column].tolist(), column
    for name in ("covered_area_m2", "residential_area_m2", "weight_covered", "weight_total"):
        assert getattr(mine, name) == pytest.approx(getattr(full, name), rel=1e-12)
    assert mine.parameters == full.parameters
    np.testing.assert_allclose(mine.districts["covered_area_m2"], full.districts["covered_area_m2"])
    assert mine.parks.equals(full.parks)
    assert mine.service_areas["park_id"].tolist() == full.service_areas["park_id"].tolist()
    same = shapely.equals_exact(
        mine.service_areas.geometry.to_numpy(), full.service_areas.geometry.to_numpy(), 1e-6
    )
    assert same.all()
    assert sorted(mine.blind_spots["residential_id"]) == sorted(full.blind_spots["residential_id"])


@pytest.mark.parametrize("added", [["n1"], ["n2"], ["n1", "n2"]])
def test_adding_parks_equals_a_walk_from_scratch(city, added):
    graph, land = city
    before = _walk(_parks(OLD), graph, land)
    parks = _parks(OLD + [s for s in NEW if s[0] in added])
    full = _walk(parks, graph, land)
    stored = before.residential[list(WALK_PIECE_COLUMNS)]
    mine = updated_network_coverage(
        stored, parks, _residential(), graph, added=added, land=land, weight="households",
        connector_limit_m=60.0,
    )  # fmt: skip
    _assert_same_walk(mine, full)
    statuses = set(full.residential["walk_status"])
    assert {"covered", "too_far", "no_park_path", "no_street"} <= statuses  # every case met
    changed = (before.residential["walk_distance_m"] != full.residential["walk_distance_m"]).sum()
    assert changed > 0  # the new parks shortened some walks


def test_only_pieces_within_reach_of_the_new_park_are_walked(city, monkeypatch):
    graph, land = city
    before = _walk(_parks(OLD), graph, land)
    seen = []
    real = network_module.snap_to_access_graph

    def counting(access, points, **kwargs):
        seen.append(len(points))
        return real(access, points, **kwargs)

    monkeypatch.setattr(network_module, "snap_to_access_graph", counting)
    parks = _parks(OLD + NEW[:1])
    updated_network_coverage(
        before.residential[list(WALK_PIECE_COLUMNS)], parks, _residential(), graph,
        added=["n1"], land=land, weight="households", connector_limit_m=60.0,
    )  # fmt: skip
    assert len(seen) == 1 and 0 < seen[0] < len(land)


def test_an_entrance_the_new_park_may_take_makes_the_walk_whole(city, monkeypatch):
    """An entrance without park_id between p1 and the new park: p1 may lose it."""
    graph, land = city
    entrances = gpd.GeoDataFrame(
        {"entrance_id": ["e1"], "park_id": [""]},
        geometry=[shapely.Point(X0 + 190, Y0 + 150)], crs=CRS,
    )  # fmt: skip
    before = _walk(_parks(OLD), graph, land, entrances=entrances)
    near = [("n3", 194, 120, 50, 50)]  # 4 m from the entrance, p1 9 m: n3 takes it
    parks = _parks(OLD + near)
    full = _walk(parks, graph, land, entrances=entrances)
    walked = []
    real_walks = network_module._walks
    monkeypatch.setattr(
        network_module, "_walks", lambda *a, **k: walked.append(1) or real_walks(*a, **k)
    )
    mine = updated_network_coverage(
        before.residential[list(WALK_PIECE_COLUMNS)], parks, _residential(), graph,
        added=["n3"], land=land, weight="households", connector_limit_m=60.0,
        entrances=entrances,
    )  # fmt: skip
    assert walked  # the whole walk ran
    _assert_same_walk(mine, full)
