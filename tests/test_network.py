"""Tests of the walking-network method (gisrenew.network, gisrenew.osm).

Small hand-built street layouts with answers worked out by hand, and a random street
grid checked against an independent networkx computation (GEOS noding via
``shapely.union_all``, brute-force nearest segments, one Dijkstra per park).
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from gisrenew.coverage import compute_coverage
from gisrenew.errors import InputError
from gisrenew.network import (
    close_pairs,
    compare_methods,
    insert_points,
    merge_points,
    network_coverage,
    park_access,
    service_polygons,
    walk_distance_from_minutes,
    walk_graph_from_roads,
)
from gisrenew.rules import RuleSet, Tier, flat_rules

CRS = "EPSG:4549"
X0, Y0 = 604_000.0, 3_481_000.0


def line(*pts) -> shapely.LineString:
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in pts])


def box(x0, y0, x1, y1) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def point(x, y) -> shapely.Point:
    return shapely.Point(X0 + x, Y0 + y)


def roads_frame(lines, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_id": [f"r{i}" for i in range(len(lines))], **columns}, geometry=lines, crs=CRS
    )


def parks_frame(geoms, ids=None, classes=None) -> gpd.GeoDataFrame:
    ids = ids or [f"p{i}" for i in range(len(geoms))]
    data = {"park_id": ids}
    if classes:
        data["park_class"] = classes
    return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)


def residential_frame(geoms, ids=None, **columns) -> gpd.GeoDataFrame:
    ids = ids or [f"h{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"residential_id": ids, **columns}, geometry=geoms, crs=CRS)


def by_id(result, column):
    table = result.residential.set_index("residential_id")
    return table[column].to_dict()


#: one flat 500 m rule for any park, so hand answers do not depend on the preset
FLAT500 = flat_rules(500.0)


# --------------------------------------------------------------------------- graph


def test_crossing_without_shared_vertex_is_a_junction():
    roads = roads_frame([line((0, 0), (200, 0)), line((100, -50), (100, 50))])
    graph = walk_graph_from_roads(roads)
    assert graph.n_edges == 4
    assert graph.n_nodes == 5
    degrees = np.bincount(np.concatenate([graph.edge_u, graph.edge_v]))
    centre = np.flatnonzero(degrees == 4)
    assert len(centre) == 1
    np.testing.assert_allclose(graph.node_xy[centre[0]], [X0 + 100, Y0 + 0])
    assert sorted(graph.edge_length.tolist()) == [50.0, 50.0, 100.0, 100.0]


def test_crossing_at_different_levels_is_not_a_junction():
    roads = roads_frame([line((0, 0), (200, 0)), line((100, -50), (100, 50))], level=[0, 1])
    graph = walk_graph_from_roads(roads)
    assert graph.n_edges == 2
    assert graph.n_nodes == 4
    assert len(np.unique(graph.components())) == 2


def test_levels_join_at_a_shared_vertex():
    # a bridge (level 1) whose end vertex is a vertex of the ground road
    roads = roads_frame([line((0, 0), (100, 0), (200, 0)), line((100, 0), (100, 80))], level=[0, 1])
    graph = walk_graph_from_roads(roads)
    assert len(np.unique(graph.components())) == 1
    assert graph.n_edges == 3


def test_t_junction_and_dangling_end_within_tolerance():
    # one road ends exactly on another; a second ends 5 mm short of it
    roads = roads_frame(
        [line((0, 0), (300, 0)), line((100, 0), (100, 80)), line((200, 0.005), (200, 80))]
    )
    graph = walk_graph_from_roads(roads, tolerance_m=0.01)
    assert len(np.unique(graph.components())) == 1
    strict = walk_graph_from_roads(roads, tolerance_m=0.001)
    assert len(np.unique(strict.components())) == 2


def test_duplicate_overlapping_and_zero_length_segments_are_removed():
    roads = roads_frame(
        [
            line((0, 0), (200, 0)),
            line((200, 0), (0, 0)),  # the same street drawn backwards
            line((50, 0), (300, 0)),  # overlaps the first on 50..200
            line((0, 0), (0, 0), (0, 100)),  # a repeated vertex (zero-length segment)
            line((0, 100), (0, 100)),  # a zero-length line
        ]
    )
    graph = walk_graph_from_roads(roads)
    assert graph.edge_length.min() > 0
    assert graph.edge_length.sum() == pytest.approx(300.0 + 100.0)
    pairs = {
        tuple(sorted(p)) for p in zip(graph.edge_u.tolist(), graph.edge_v.tolist(), strict=True)
    }
    assert len(pairs) == graph.n_edges


def test_close_pairs_by_hand():
    # 3 m east, 4 m north: exactly 5 m apart (a tie at tolerance 5 m counts)
    xy = np.array([[0.0, 0.0], [3.0, 4.0], [100.0, 0.0], [106.0, 0.0]])
    assert close_pairs(xy, 5.0).tolist() == [[0, 1]]
    assert close_pairs(xy, 4.9).tolist() == []
    assert close_pairs(xy, 6.0).tolist() == [[0, 1], [2, 3]]
    assert close_pairs(xy[:1], 1.0).shape == (0, 2)


def test_merge_points_chains_and_keeps_the_smallest_member():
    # a chain of points 1 cm apart merges transitively at 1.5 cm (its ends are 2 cm
    # apart); the westmost point represents it
    east = np.array([5.02, 5.0, 5.01, 0.0, 5.0])
    xy = np.column_stack([X0 + east, np.full(5, Y0)])
    labels, coords = merge_points(xy, 0.015)
    assert labels.tolist() == [1, 1, 1, 0, 1]
    assert coords.tolist() == [[X0, Y0], [X0 + 5.0, Y0]]


def _cktree_merge(xy, tolerance):
    """The merge as gisrenew did it with scipy.spatial.cKDTree (the reference)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    unique, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    pairs = cKDTree(unique).query_pairs(r=tolerance, output_type="ndarray")
    if len(pairs) == 0:
        return pairs, inverse, unique
    m = len(unique)
    link = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    labels = connected_components(link, directed=False)[1]
    _, first = np.unique(labels, return_index=True)
    return pairs, labels[inverse], unique[first]


@pytest.mark.parametrize("seed", range(8))
def test_point_merging_equals_the_cktree_result_with_ties(seed):
    """Random points on a lattice at city coordinates, many repeated: the same pairs,
    labels and cluster points as cKDTree. A 1/128 m lattice holds exact ties (pairs
    exactly at the tolerance, e.g. 3-4-5 steps); a 5 mm one near-ties that rounding
    decides."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(200, 3000))
    step = 1 / 128 if seed % 2 == 0 else 0.005
    tolerance = step * (1, 2, 3, 5)[seed // 2]
    xy = rng.integers(0, 60, size=(n, 2)) * step + [X0, Y0]
    reference_pairs, reference_labels, reference_coords = _cktree_merge(xy, tolerance)
    unique = np.unique(xy, axis=0)
    reference_pairs = np.sort(reference_pairs, axis=1)
    order = np.lexsort((reference_pairs[:, 1], reference_pairs[:, 0]))
    pairs = close_pairs(unique, tolerance)
    assert len(pairs) > 0
    np.testing.assert_array_equal(pairs, reference_pairs[order])
    labels, coords = merge_points(xy, tolerance)
    np.testing.assert_array_equal(labels, reference_labels)
    np.testing.assert_array_equal(coords, reference_coords)


def test_non_walkable_ways_are_left_out():
    roads = roads_frame(
        [line((0, 0), (200, 0)), line((100, -50), (100, 50))], walkable=[True, False]
    )
    graph = walk_graph_from_roads(roads)
    assert graph.n_edges == 1
    assert graph.edge_length.sum() == pytest.approx(200.0)


def test_barrier_cuts_ground_streets_but_not_bridges():
    roads = roads_frame([line((0, 0), (200, 0)), line((0, 50), (200, 50))], level=[0, 1])
    river = gpd.GeoSeries([box(90, -20, 110, 80)], crs=CRS)
    graph = walk_graph_from_roads(roads, barriers=river)
    labels = graph.components()
    ground = graph.edge_level == 0
    # the ground street is cut twice (both river banks): three separate pieces
    assert len(np.unique(labels[graph.edge_u[ground]])) == 3
    assert graph.edge_length[ground].sum() == pytest.approx(200.0)
    # the bridge passes over the barrier: still one piece
    assert len(np.unique(labels[graph.edge_u[~ground]])) == 1


def test_insert_points_splits_edges_exactly():
    graph = walk_graph_from_roads(roads_frame([line((0, 0), (100, 0)), line((100, 0), (100, 60))]))
    long_edge = int(np.argmax(graph.edge_length))
    new, nodes = insert_points(graph, [long_edge, long_edge, long_edge], [0.25, 0.25, 0.0])
    assert nodes[0] == nodes[1]  # the same position gives one node
    assert nodes[2] == graph.edge_u[long_edge]  # an end position reuses the end node
    assert new.n_edges == graph.n_edges + 1
    assert new.edge_length.sum() == pytest.approx(graph.edge_length.sum())
    # positions given on the base graph are found on the right piece
    edge, offset = new.locate(np.array([long_edge]), np.array([0.6]))
    start = new.node_xy[new.edge_u[edge[0]]]
    along = np.hypot(*(start - graph.node_xy[graph.edge_u[long_edge]]))
    assert along + offset[0] == pytest.approx(60.0)


# --------------------------------------------------------------------------- access


def test_frontage_access_covers_streets_near_the_park():
    # park 100 m wide, 10 m north of a street; streets 20 m and 60 m west of it
    roads = roads_frame(
        [line((-200, 0), (300, 0)), line((-20, 0), (-20, 200)), line((-60, 0), (-60, 200))]
    )
    parks = parks_frame([box(0, 10, 100, 110)])
    access = park_access(walk_graph_from_roads(roads), parks, snap_distance_m=30.0)
    assert access.access_kind.tolist() == ["frontage"]
    zone = access.graph.edge_geometry[access.zone_edge]
    # the street along the park: x from -√(30² - 10²) to 100 + √(30² - 10²); the west
    # street at x = -20 from y = 0 up to 110 + √(30² - 20²)
    along = 100 + 2 * math.sqrt(30**2 - 10**2)
    west = 110 + math.sqrt(30**2 - 20**2)
    # (within 0.2 m: the zone is a buffer polygon with 16 segments per quarter circle)
    assert shapely.length(zone).sum() == pytest.approx(along + west, abs=0.2)
    assert not np.any(shapely.intersects(zone, shapely.buffer(line((-60, 1), (-60, 200)), 1)))
    points = access.points()
    assert set(points["kind"]) == {"frontage"}
    assert (points["offset_m"] == 0).all()
    assert points.crs == CRS


# --------------------------------------------------------------------------- coverage


#: where a park 10 m from a street stops being within 30 m of it, past its corner
FRONT_GAP = math.sqrt(30**2 - 10**2)
FRONT_END = 100 + FRONT_GAP


def river_city():
    """A river along y = 0 between banks y = ±30, one bridge at x = 1000.

    Streets on both banks run x = 0..1000; the bridge joins them at x = 1000. The park
    (100 × 100 m) is on the north bank at x = 0..100, 10 m from the street, so its
    frontage (street within 30 m) ends at x = FRONT_END; house A is across the river at
    x = 40..60, 90 m from the park in a straight line; house B is on the north bank
    190 m east of the park.
    """
    roads = roads_frame(
        [
            line((0, 30), (1000, 30)),
            line((0, -30), (1000, -30)),
            line((1000, 30), (1000, 0), (1000, -30)),  # the bridge
        ],
        level=[0, 0, 1],
    )
    parks = parks_frame([box(0, 40, 100, 140)], ids=["park"])
    houses = residential_frame(
        [box(40, -70, 60, -50), box(290, 40, 310, 60)], ids=["A", "B"], households=[10.0, 20.0]
    )
    return roads, parks, houses


def test_river_crossed_only_by_a_bridge_makes_a_near_house_far():
    roads, parks, houses = river_city()
    buffer = compute_coverage(parks, houses, rules=FLAT500)
    network = network_coverage(parks, houses, roads, rules=FLAT500)
    assert buffer.ratio == pytest.approx(1.0)  # both within 500 m in a straight line
    walk = by_id(network, "walk_distance_m")
    # A: 30 m to the south street (from (50, -60)), 950 m to the bridge, 60 m over it,
    # then back west along the north street to the frontage end
    assert walk["A"] == pytest.approx(30 + 950 + 60 + (1000 - FRONT_END), abs=0.05)
    # B: 20 m to the north street at x = 300, then west to the frontage end
    assert walk["B"] == pytest.approx(20 + 300 - FRONT_END, abs=0.05)
    assert by_id(network, "covered") == {"A": False, "B": True}
    assert by_id(network, "nearest_park_id") == {"A": "park", "B": "park"}
    assert network.method == "network"
    assert network.ratio == pytest.approx(0.5)
    assert network.residential_area_m2 == pytest.approx(buffer.residential_area_m2)
    assert network.blind_spots["residential_id"].tolist() == ["A"]
    table = compare_methods(buffer, network)
    total = table.iloc[-1]
    assert total["difference_pp"] == pytest.approx(-50.0)
    assert total["difference_m2"] == pytest.approx(-400.0)


def test_river_as_barrier_cuts_a_ford_drawn_as_a_street():
    roads, parks, houses = river_city()
    ford = line((50, 30), (50, -30))  # a ground-level street across the river at x = 50
    roads = roads_frame([*roads.geometry, ford], level=[0, 0, 1, 0])
    river = gpd.GeoDataFrame(geometry=[box(-100, -10, 1100, 10)], crs=CRS)
    open_ford = network_coverage(parks, houses, roads, rules=FLAT500)
    assert by_id(open_ford, "covered")["A"]
    cut = network_coverage(parks, houses, roads, rules=FLAT500, barriers=river)
    # 30 m to the ford's south end, then 40 m up the ford to the park's frontage zone
    # (the ford is within 30 m of the park from y = 10 on)
    assert by_id(open_ford, "walk_distance_m")["A"] == pytest.approx(30 + 40)
    assert by_id(cut, "walk_distance_m")["A"] == pytest.approx(
        30 + 950 + 60 + (1000 - FRONT_END), abs=0.05
    )
    assert not by_id(cut, "covered")["A"]


def test_entrance_inserted_mid_edge():
    # one street of 1000 m; the park's only entrance is 5 m off the street at x = 500
    roads = roads_frame([line((0, 0), (1000, 0))])
    parks = parks_frame([box(450, 5, 550, 105)], ids=["park"])
    entrances = gpd.GeoDataFrame(
        {"entrance_id": ["gate"], "park_id": ["park"]}, geometry=[point(500, 5)], crs=CRS
    )
    houses = residential_frame([box(10, -30, 30, -10), box(790, -30, 810, -10)], ids=["W", "E"])
    result = network_coverage(parks, houses, roads, rules=FLAT500, entrances=entrances)
    walk = by_id(result, "walk_distance_m")
    # connector 20 m + along the street to x = 500 + the 5 m entrance link
    assert walk["W"] == pytest.approx(20 + 480 + 5)
    assert walk["E"] == pytest.approx(20 + 300 + 5)
    assert by_id(result, "covered") == {"W": False, "E": True}
    assert result.parks["access"].tolist() == ["entrances"]
    # without entrances the whole frontage counts: it starts at x = 450 - √(30² - 5²)
    frontage = network_coverage(parks, houses, roads, rules=FLAT500)
    expected = 20 + (450 - math.sqrt(30**2 - 5**2)) - 20
    assert by_id(frontage, "walk_distance_m")["W"] == pytest.approx(expected, abs=0.05)


def test_unreachable_parcel_is_reported_not_covered():
    roads = roads_frame([line((0, 0), (1000, 0))])
    parks = parks_frame([box(0, 10, 100, 110)])
    houses = residential_frame(
        [box(200, -30, 220, -10), box(200, 290, 220, 310)], ids=["near", "far"]
    )
    result = network_coverage(parks, houses, roads, rules=FLAT500, connector_limit_m=200.0)
    status = by_id(result, "walk_status")
    assert status == {"near": "covered", "far": "no_street"}
    assert math.isnan(by_id(result, "walk_distance_m")["far"])
    assert result.parameters["unreachable_no_street"] == 1
    # the unreachable parcel stays in the denominator
    assert result.residential_area_m2 == pytest.approx(800.0)
    assert result.ratio == pytest.approx(0.5)
    assert "far" in result.blind_spots["residential_id"].tolist()


def test_parcel_on_a_street_not_connected_to_any_park():
    roads = roads_frame([line((0, 0), (1000, 0)), line((0, 100), (1000, 100))], level=[0, 0])
    parks = parks_frame([box(0, -110, 100, -10)])
    houses = residential_frame([box(400, 110, 420, 130)], ids=["island"])
    result = network_coverage(parks, houses, roads, rules=FLAT500, connector_limit_m=50.0)
    assert by_id(result, "walk_status") == {"island": "no_park_path"}
    assert result.parameters["unreachable_no_park_path"] == 1


TIERS = RuleSet(
    name="test-tiers",
    version="1",
    title="",
    tiers=(Tier(radius_m=500.0, min_area_m2=5000.0), Tier(radius_m=300.0, min_area_m2=2000.0)),
)


def tier_city():
    """A straight street y = 0; a 3000 m² park (tier 300) at x = 0..60 and a 10 000 m²
    park (tier 500) at x = 1000..1100, both 10 m north of the street; houses between.

    Frontages: the small park's ends at x = 60 + FRONT_GAP, the big one's starts at
    x = 1000 - FRONT_GAP.
    """
    roads = roads_frame([line((-500, 0), (2000, 0))])
    parks = parks_frame([box(0, 10, 60, 60), box(1000, 10, 1100, 110)], ids=["small", "big"])
    houses = residential_frame(
        [box(280, -30, 300, -10), box(370, -30, 390, -10), box(540, -30, 560, -10)],
        ids=["h290", "h380", "h550"],
    )
    return roads, parks, houses


def test_tier_300_park_serves_only_a_300_m_walk():
    roads, parks, houses = tier_city()
    result = network_coverage(parks, houses, roads, rules=TIERS)
    walk = by_id(result, "walk_distance_m")
    small_end, big_start = 60 + FRONT_GAP, 1000 - FRONT_GAP
    assert walk["h290"] == pytest.approx(20 + 290 - small_end, abs=0.05)  # ≈ 222 m
    assert walk["h380"] == pytest.approx(20 + 380 - small_end, abs=0.05)  # ≈ 312 m > 300
    assert walk["h550"] == pytest.approx(20 + big_start - 550, abs=0.05)  # ≈ 442 m ≤ 500
    assert by_id(result, "nearest_park_id") == {"h290": "small", "h380": "small", "h550": "big"}
    assert by_id(result, "covered") == {"h290": True, "h380": False, "h550": True}
    assert by_id(result, "serving_park_id") == {"h290": "small", "h380": "", "h550": "big"}
    limits = result.parks.set_index("park_id")["walk_limit_m"].to_dict()
    assert limits == {"small": 300.0, "big": 500.0}


def test_covered_when_a_farther_park_has_a_longer_limit():
    # h380 is ≈ 312 m from the small park (limit 300); the big park moved to x = 800 is
    # ≈ 412 m away, within its own 500 m although it is not the nearest park.
    roads, _, houses = tier_city()
    parks = parks_frame([box(0, 10, 60, 60), box(800, 10, 900, 110)], ids=["small", "big"])
    result = network_coverage(parks, houses, roads, rules=TIERS)
    assert by_id(result, "nearest_park_id")["h380"] == "small"
    assert by_id(result, "covered")["h380"]
    assert by_id(result, "serving_park_id")["h380"] == "big"
    expected = 20 + (800 - FRONT_GAP) - 380
    assert by_id(result, "serving_walk_m")["h380"] == pytest.approx(expected, abs=0.05)


def test_explicit_walk_distance_replaces_every_tier_radius():
    roads, parks, houses = tier_city()
    result = network_coverage(parks, houses, roads, rules=TIERS, walk_distance_m=350.0)
    assert by_id(result, "covered") == {"h290": True, "h380": True, "h550": False}
    assert result.parameters["walk_limit"] == "walk_distance_m"
    # a park below every tier still does not count
    tiny = parks_frame([box(0, 10, 30, 40)], ids=["tiny"])  # 900 m²
    none = network_coverage(tiny, houses, roads, rules=TIERS, walk_distance_m=350.0)
    assert none.ratio == 0.0
    assert none.parks["access"].tolist() == ["not_qualifying"]


def test_walk_distance_from_minutes():
    assert walk_distance_from_minutes() == pytest.approx(800.0)
    assert walk_distance_from_minutes(5, 4.5) == pytest.approx(375.0)
    with pytest.raises(InputError):
        walk_distance_from_minutes(0, 4.8)


def test_bad_arguments_are_refused():
    roads, parks, houses = tier_city()
    with pytest.raises(InputError, match="service_areas"):
        network_coverage(parks, houses, roads, service_areas="rings")
    with pytest.raises(InputError, match="walk_distance_m"):
        network_coverage(parks, houses, roads, walk_distance_m=-5)


def test_inputs_are_not_modified():
    roads, parks, houses = river_city()
    copies = [frame.copy() for frame in (roads, parks, houses)]
    network_coverage(parks, houses, roads, rules=FLAT500)
    for before, after in zip(copies, (roads, parks, houses), strict=True):
        assert list(before.columns) == list(after.columns)
        assert before.geometry.equals(after.geometry)


# --------------------------------------------------------------------------- service areas


def test_service_area_cuts_partly_reached_edges_exactly():
    roads = roads_frame([line((-1000, 0), (1000, 0))])
    parks = parks_frame([box(-50, 20, 50, 120)], ids=["park"])
    entrances = gpd.GeoDataFrame({"park_id": ["park"]}, geometry=[point(0, 0)], crs=CRS)
    houses = residential_frame([box(-10, -30, 10, -10)])
    result = network_coverage(
        parks, houses, roads, rules=flat_rules(300.0), entrances=entrances, lateral_m=50.0
    )
    area = result.service_areas.geometry.iloc[0]
    expected = shapely.buffer(line((-300, 0), (300, 0)), 50.0, quad_segs=16)
    assert area.symmetric_difference(expected).area == pytest.approx(0.0, abs=1e-6)
    assert result.service_areas["park_id"].tolist() == ["park"]


def test_service_polygons_joined_along_roads_equal_the_union_of_piece_buffers():
    """Joining a park's pieces along their roads first gives the union of the pieces' buffers."""
    # two parks on a 3 × 3 grid of 100 m streets: rows and columns are roads 0–5
    ends = [((x, y), (x + 100.0, y)) for y in (0.0, 100.0, 200.0) for x in (0.0, 100.0)]
    ends += [((x, y), (x, y + 100.0)) for x in (0.0, 100.0, 200.0) for y in (0.0, 100.0)]
    start, end = np.array([a for a, _ in ends]), np.array([b for _, b in ends])
    road = np.repeat(np.arange(6), 2)
    group = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1])  # park 1: the top row, right column
    joined = service_polygons(start, end, group, 3, lateral_m=30.0, strokes=road)
    pieces = shapely.buffer(shapely.linestrings(np.stack([start, end], axis=1)), 30.0, quad_segs=16)
    for k in (0, 1):
        expected = shapely.union_all(pieces[group == k])
        assert joined[k].symmetric_difference(expected).area == pytest.approx(0.0, abs=1e-6)
    assert joined[2].is_empty  # a park without pieces
    unjoined = service_polygons(start, end, group, 3, lateral_m=30.0)
    assert joined[0].symmetric_difference(unjoined[0]).area == pytest.approx(0.0, abs=1e-6)


def test_service_area_modes():
    roads, parks, houses = tier_city()
    per_park = network_coverage(parks, houses, roads, rules=TIERS)
    nearest = network_coverage(parks, houses, roads, rules=TIERS, service_areas="nearest")
    merged = network_coverage(parks, houses, roads, rules=TIERS, service_areas="merged")
    none = network_coverage(parks, houses, roads, rules=TIERS, service_areas="none")
    assert per_park.service_areas["park_id"].tolist() == ["small", "big"]
    # the two parks' walks do not meet here, so the split equals each park's own area
    for a, b in zip(per_park.service_areas.geometry, nearest.service_areas.geometry, strict=True):
        assert a.symmetric_difference(b).area == pytest.approx(0.0, abs=1e-6)
    union = shapely.union_all(per_park.service_areas.geometry.to_numpy())
    assert merged.service_areas.geometry.iloc[0].symmetric_difference(union).area == pytest.approx(
        0.0, abs=1e-3
    )
    assert none.service_areas.geometry.is_empty.all()
    # small park: street reached 300 m beyond both frontage ends, plus 50 m of buffer
    minx, _, maxx, _ = per_park.service_areas.geometry.iloc[0].bounds
    expected = (-FRONT_GAP - 300 - 50, 60 + FRONT_GAP + 300 + 50)
    assert (minx - X0, maxx - X0) == pytest.approx(expected, abs=0.05)


def test_nearest_mode_splits_a_street_where_two_walks_meet():
    roads = roads_frame([line((-1000, 0), (1000, 0))])
    parks = parks_frame([box(-50, 20, 50, 120), box(350, 20, 450, 120)], ids=["A", "B"])
    entrances = gpd.GeoDataFrame(
        {"park_id": ["A", "B"]}, geometry=[point(0, 0), point(400, 0)], crs=CRS
    )
    houses = residential_frame([box(-10, -30, 10, -10)])
    kwargs = {"rules": flat_rules(300.0), "entrances": entrances, "lateral_m": 50.0}
    own = network_coverage(parks, houses, roads, **kwargs).service_areas
    split = network_coverage(parks, houses, roads, service_areas="nearest", **kwargs).service_areas

    def xrange(frame, pid):
        minx, _, maxx, _ = frame.set_index("park_id").geometry[pid].bounds
        return minx - X0, maxx - X0

    assert xrange(own, "A") == pytest.approx((-350, 350))
    assert xrange(own, "B") == pytest.approx((50, 750))
    # the walks meet half way, at x = 200
    assert xrange(split, "A") == pytest.approx((-350, 250))
    assert xrange(split, "B") == pytest.approx((150, 750))


def test_a_prebuilt_graph_gives_the_same_result():
    roads, parks, houses = river_city()
    graph = walk_graph_from_roads(roads)
    a = network_coverage(parks, houses, roads, rules=FLAT500)
    b = network_coverage(parks, houses, graph, rules=FLAT500)
    assert a.residential["walk_distance_m"].tolist() == b.residential["walk_distance_m"].tolist()


def test_compare_methods_per_district():
    roads, parks, houses = river_city()
    districts = gpd.GeoDataFrame(
        {"district_id": ["S", "N"], "name": ["南", "北"]},
        geometry=[box(-100, -500, 1100, 0), box(-100, 0, 1100, 500)],
        crs=CRS,
    )
    buffer = compute_coverage(parks, houses, rules=FLAT500, districts=districts)
    network = network_coverage(parks, houses, roads, rules=FLAT500, districts=districts)
    table = compare_methods(buffer, network).set_index("district_id")
    assert table.loc["S", "buffer_ratio"] == pytest.approx(1.0)
    assert table.loc["S", "network_ratio"] == pytest.approx(0.0)
    assert table.loc["S", "difference_pp"] == pytest.approx(-100.0)
    assert table.loc["N", "difference_pp"] == pytest.approx(0.0)
    assert table.loc["", "name"] == "全市 (all)"
    assert table.loc["", "difference_m2"] == pytest.approx(-400.0)


# --------------------------------------------------------------------------- oracle


def random_city(seed: int):
    """A jittered street grid with some streets missing and straight diagonals crossing it."""
    rng = np.random.default_rng(seed)
    n, step = 9, 100.0
    gx, gy = np.meshgrid(np.arange(n) * step, np.arange(n) * step, indexing="ij")
    gx = gx + rng.uniform(-20, 20, gx.shape)
    gy = gy + rng.uniform(-20, 20, gy.shape)
    lines = []
    for i in range(n):  # rows and columns as polylines sharing the grid vertices
        for pts in (
            list(zip(gx[:, i], gy[:, i], strict=True)),
            list(zip(gx[i, :], gy[i, :], strict=True)),
        ):
            keep = rng.random(n - 1) > 0.15  # drop some blocks' edges
            run = [pts[0]]
            for k in range(n - 1):
                if keep[k]:
                    run.append(pts[k + 1])
                else:
                    if len(run) > 1:
                        lines.append(run)
                    run = [pts[k + 1]]
            if len(run) > 1:
                lines.append(run)
    lines.append([(-10.0, 37.0), (830.0, 760.0)])  # diagonals: no vertex at their crossings
    lines.append([(0.0, 790.0), (805.0, 15.0)])
    lines.append([(120.0, -30.0), (515.0, 830.0)])
    roads = roads_frame([line(*run) for run in lines])
    parks = parks_frame(
        [
            box(x, y, x + w, y + h)
            for x, y, w, h in [(130, 130, 60, 60), (520, 250, 30, 80), (330, 610, 45, 45)]
        ],
        ids=["a", "b", "c"],
    )  # 3600 m² (tier 300), 2400 m² (tier 300), 2025 m² (tier 300) — see TIERS_ORACLE
    entrance_xy = [(130, 160), (190, 135), (535, 250), (550, 300), (352, 655), (330, 620)]
    entrances = gpd.GeoDataFrame(
        {"park_id": ["a", "a", "b", "b", "c", "c"]},
        geometry=[point(x, y) for x, y in entrance_xy],
        crs=CRS,
    )
    # one small house at a random spot in each 80 m cell (houses never overlap)
    cx, cy = np.meshgrid(np.arange(11) * 80.0 - 50, np.arange(11) * 80.0 - 50)
    cx = cx.ravel() + rng.uniform(0, 68, cx.size)
    cy = cy.ravel() + rng.uniform(0, 72, cy.size)
    houses = residential_frame([box(x, y, x + 12, y + 8) for x, y in zip(cx, cy, strict=True)])
    return roads, parks, entrances, houses


TIERS_ORACLE = RuleSet(
    name="oracle",
    version="1",
    title="",
    tiers=(Tier(radius_m=450.0, min_area_m2=3000.0), Tier(radius_m=250.0, min_area_m2=2000.0)),
)


def oracle_walks(roads, parks, entrances, houses, limits):
    """Per house: walk to each park (dict park -> metres), computed independently."""
    noded = shapely.get_parts(shapely.union_all(roads.geometry.to_numpy()))
    graph = nx.Graph()
    segments = []
    for piece in noded:
        coords = [tuple(c) for c in piece.coords]  # GEOS gives shared nodes identical coordinates
        for a, b in itertools.pairwise(coords):
            if a != b:
                graph.add_edge(a, b, weight=math.dist(a, b))
                segments.append((a, b))
    segments = list({tuple(sorted(s)) for s in segments})
    seg_geoms = [shapely.LineString(s) for s in segments]

    def attach(pt):
        dists = [pt.distance(g) for g in seg_geoms]
        k = int(np.argmin(dists))
        a, b = segments[k]
        foot = seg_geoms[k].interpolate(seg_geoms[k].project(pt))
        return dists[k], a, b, (foot.x, foot.y)

    # entrances: split their street and start there (the entrance link counts)
    starts = {}
    on_segment = {}  # (a, b) -> [(park, entrance foot, gap)]
    for pid, geom in zip(entrances["park_id"], entrances.geometry, strict=True):
        gap, a, b, foot = attach(geom)
        node = ("entrance", pid, foot)
        graph.add_edge(node, a, weight=math.dist(foot, a))
        graph.add_edge(node, b, weight=math.dist(foot, b))
        starts.setdefault(pid, []).append((node, gap))
        on_segment.setdefault((a, b), []).append((pid, foot, gap))
    per_park = {}
    for pid, nodes in starts.items():
        g = graph.copy()
        for node, gap in nodes:
            g.add_edge(("source", pid), node, weight=gap)
        per_park[pid] = nx.single_source_dijkstra_path_length(g, ("source", pid))
    walks = []
    for geom in houses.geometry:
        rep = geom.representative_point()
        conn, a, b, foot = attach(rep)
        best = {}
        if conn <= 200.0:
            for pid, dist in per_park.items():
                d = min(
                    dist.get(a, math.inf) + math.dist(foot, a),
                    dist.get(b, math.inf) + math.dist(foot, b),
                )
                best[pid] = conn + d
            # an entrance on the house's own segment: straight along it
            for pid, efoot, gap in on_segment.get((a, b), []):
                best[pid] = min(best[pid], conn + math.dist(foot, efoot) + gap)
        walks.append(best)
    return walks


def oracle_frontage_walks(roads, parks, houses, snap=30.0):
    """Per house: walk to each park's frontage (dict park -> metres), computed independently.

    Every noded segment is cut where it enters or leaves a park's 30 m zone (the buffer
    polygon with 16 segments per quarter circle); cut points and segment ends inside a
    zone start the walk at 0 m; a house whose street position lies in a zone is there.
    """
    noded = shapely.get_parts(shapely.union_all(roads.geometry.to_numpy()))
    zones = {
        pid: shapely.buffer(geom, snap, quad_segs=16)
        for pid, geom in zip(parks["park_id"], parks.geometry, strict=True)
    }
    graph = nx.Graph()
    chains = {}  # segment -> (chain nodes, {park: [(t0, t1)]})
    for piece in noded:
        coords = [tuple(c) for c in piece.coords]
        for a, b in itertools.pairwise(coords):
            if a == b:
                continue
            seg = shapely.LineString([a, b])
            length = seg.length
            cuts = {0.0: a, 1.0: b}
            spans = {}
            for pid, zone in zones.items():
                inter = seg.intersection(zone)
                for part in getattr(inter, "geoms", [inter]):
                    if part.is_empty:
                        continue
                    ts = [seg.project(shapely.Point(c)) / length for c in part.coords]
                    t0, t1 = min(ts), max(ts)
                    spans.setdefault(pid, []).append((t0, t1))
                    for t in (t0, t1):
                        cuts.setdefault(t, tuple(seg.interpolate(t, normalized=True).coords[0]))
            order = sorted(cuts)
            nodes = [(t, cuts[t]) for t in order]
            for (ta, na), (tb, nb) in itertools.pairwise(nodes):
                if tb > ta:
                    graph.add_edge(na, nb, weight=(tb - ta) * length)
            chains[(a, b)] = (nodes, spans, seg)
    per_park = {}
    for pid in zones:
        g = graph.copy()
        for nodes, spans, _ in chains.values():
            for t, node in nodes:
                if any(t0 - 1e-12 <= t <= t1 + 1e-12 for t0, t1 in spans.get(pid, [])):
                    g.add_edge(("source", pid), node, weight=0.0)
        if ("source", pid) in g:
            per_park[pid] = nx.single_source_dijkstra_path_length(g, ("source", pid))
    segments = list(chains)
    seg_geoms = [chains[k][2] for k in segments]
    walks = []
    for geom in houses.geometry:
        rep = geom.representative_point()
        dists = [rep.distance(g) for g in seg_geoms]
        k = int(np.argmin(dists))
        best = {}
        if dists[k] <= 200.0:
            nodes, spans, seg = chains[segments[k]]
            t = seg.project(rep) / seg.length
            foot = tuple(seg.interpolate(t, normalized=True).coords[0])
            for pid, dist in per_park.items():
                along = min(dist.get(node, math.inf) + math.dist(foot, node) for _, node in nodes)
                if any(t0 <= t <= t1 for t0, t1 in spans.get(pid, [])):
                    along = 0.0
                best[pid] = dists[k] + along
        walks.append(best)
    return walks


def check_against_oracle(result, walks, limits):
    table = result.residential
    assert len(table) == len(walks)
    n_checked = 0
    for row, walk in zip(table.itertuples(), walks, strict=True):
        if not walk:
            assert row.walk_status == "no_street"
            continue
        nearest = min(walk.values())
        assert row.walk_distance_m == pytest.approx(nearest, abs=1e-6)
        assert walk[row.nearest_park_id] == pytest.approx(nearest, abs=1e-6)
        covered = any(d <= limits[p] for p, d in walk.items())
        assert row.covered == covered
        if covered:
            assert walk[row.serving_park_id] <= limits[row.serving_park_id] + 1e-6
            assert row.serving_walk_m == pytest.approx(walk[row.serving_park_id], abs=1e-6)
        n_checked += 1
    assert n_checked > 100
    # not a trivial case: both covered and uncovered houses
    assert 0.1 < table["covered"].mean() < 0.9


@pytest.mark.parametrize("seed", [1, 2])
def test_random_grid_matches_networkx(seed):
    roads, parks, entrances, houses = random_city(seed)
    result = network_coverage(
        parks, houses, roads, rules=TIERS_ORACLE, entrances=entrances, service_areas="none"
    )
    limits = result.parks.set_index("park_id")["walk_limit_m"].to_dict()
    assert limits == {"a": 450.0, "b": 250.0, "c": 250.0}
    walks = oracle_walks(roads, parks, entrances, houses, limits)
    check_against_oracle(result, walks, limits)


@pytest.mark.parametrize("seed", [3, 4])
def test_random_grid_frontage_matches_networkx(seed):
    roads, parks, _, houses = random_city(seed)
    result = network_coverage(parks, houses, roads, rules=TIERS_ORACLE, service_areas="none")
    assert set(result.parks["access"]) == {"frontage"}
    limits = result.parks.set_index("park_id")["walk_limit_m"].to_dict()
    check_against_oracle(result, oracle_frontage_walks(roads, parks, houses), limits)


# --------------------------------------------------------------------------- OpenStreetMap

OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="gisrenew-test">
  <node id="1" lat="31.4500" lon="121.1000"/>
  <node id="2" lat="31.4500" lon="121.1010"/>
  <node id="3" lat="31.4510" lon="121.1010"/>
  <node id="4" lat="31.4510" lon="121.1000"/>
  <node id="5" lat="31.4505" lon="121.0995"/>
  <node id="6" lat="31.4505" lon="121.1015"/>
  <node id="7" lat="31.4495" lon="121.1005"/>
  <node id="8" lat="31.4515" lon="121.1005"/>
  <way id="10"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="name" v="人民路"/></way>
  <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="motorway"/></way>
  <way id="12"><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>
  <way id="13"><nd ref="4"/><nd ref="1"/><tag k="highway" v="service"/><tag k="foot" v="no"/></way>
  <way id="14"><nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="footway"/><tag k="bridge" v="yes"/></way>
  <way id="15"><nd ref="1"/><nd ref="3"/><tag k="building" v="yes"/></way>
  <way id="16"><nd ref="1"/><nd ref="4"/><tag k="highway" v="cycleway"/></way>
  <way id="17"><nd ref="7"/><nd ref="8"/><tag k="highway" v="path"/></way>
</osm>
"""


def test_roads_from_osm_extract(tmp_path):
    pytest.importorskip("osmium")
    from gisrenew.osm import is_walkable, roads_from_osm

    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    roads = roads_from_osm(path)
    assert roads.crs.to_epsg() == 4549  # CGCS2000 GK CM 120°E picked from the extent
    assert sorted(roads["road_id"]) == ["w10", "w12", "w14", "w17"]
    table = roads.set_index("road_id")
    assert table.loc["w10", "name"] == "人民路"
    assert table.loc["w14", "level"] == 1
    assert table.geometry.length.loc["w10"] == pytest.approx(95.1, abs=0.5)  # 0.001° lon
    everything = roads_from_osm(path, walkable_only=False)
    assert sorted(everything["road_id"]) == ["w10", "w11", "w12", "w13", "w14", "w16", "w17"]
    assert not everything.set_index("road_id").loc["w11", "walkable"]
    assert is_walkable({"highway": "cycleway", "foot": "designated"})
    # the path w17 crosses both ground streets (joined there, without shared nodes) and
    # the footbridge w14 (not joined: different level)
    graph = walk_graph_from_roads(roads)
    labels = graph.components()
    bridge = graph.road_ids[graph.edge_road] == "w14"
    assert len(np.unique(labels)) == 2
    assert len(np.unique(labels[graph.edge_u[~bridge]])) == 1


def test_osm_extract_loads_as_a_roads_layer(tmp_path):
    """`--roads city.osm` (and read_layer) read OpenStreetMap extracts via pyosmium."""
    from gisrenew.io import read_layer

    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    roads = read_layer(path, "roads", working_crs="EPSG:4549")
    assert sorted(roads["road_id"]) == ["w10", "w12", "w14", "w17"]
    assert roads.crs.to_epsg() == 4549 and roads["walkable"].all()
