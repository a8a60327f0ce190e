"""Life circles 社区生活圈: hand-checkable cases per type and circle, both methods.

The rule set of these tests is the TOML below (not the shipped preset): 5-minute circle
300 m with kindergarten and market, 10-minute circle 500 m with primary school, 15-minute
circle 1000 m with an optional sports field. Every distance is in metres of EPSG:4549.
"""

from __future__ import annotations

import json
import textwrap

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from gisrenew.config import ProjectConfig
from gisrenew.errors import MissingLayerError, ProjectError, RuleSetError
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.lifecircles import (
    facility_types,
    get_life_circle_rules,
    life_circles,
    parse_life_circle_rules,
)
from gisrenew.network import walk_graph_from_roads
from gisrenew.rules import available_rules

CRS = "EPSG:4549"

RULES_TOML = """
name = "test-circles"
version = "1"
title = "test rule set"

[[circles]]
minutes = 5
distance_m = 300

[[circles]]
minutes = 10
distance_m = 500

[[circles]]
minutes = 15
distance_m = 1000

[[facilities]]
type = "kindergarten"
label_zh = "幼儿园"
label_en = "Kindergarten"
names = ["幼稚园"]
circle = 5

[[facilities]]
type = "market"
label_zh = "菜市场"
label_en = "Market"
names = ["生鲜超市"]
circle = 5
radius_m = 300

[[facilities]]
type = "primary_school"
label_zh = "小学"
label_en = "Primary school"
circle = 10

[[facilities]]
type = "sports_field"
label_zh = "多功能运动场地"
label_en = "Sports field"
circle = 15
required = false
unconfirmed = ["required"]
"""


@pytest.fixture(scope="module")
def rules():
    import tomllib

    return parse_life_circle_rules(tomllib.loads(RULES_TOML), origin="test.toml")


def homes(*boxes, households=None):
    households = households or [10.0] * len(boxes)
    return gpd.GeoDataFrame(
        {"residential_id": [f"h{i}" for i in range(len(boxes))], "households": households},
        geometry=[shapely.box(*b) for b in boxes],
        crs=CRS,
    )


def facilities(*rows):
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(len(rows))],
            "facility_type": [r[0] for r in rows],
        },
        geometry=[r[1] for r in rows],
        crs=CRS,
    )


def roads(*lines):
    return gpd.GeoDataFrame(
        {"road_id": [f"r{i}" for i in range(len(lines))]},
        geometry=[shapely.LineString(line) for line in lines],
        crs=CRS,
    )


def reach_of(result, type_key):
    table = result.reach
    return table.loc[table["facility_type"] == type_key].reset_index(drop=True)


# --------------------------------------------------------------------------- rule sets


def test_rule_set_values_and_defaults(rules):
    assert rules.types == ("kindergarten", "market", "primary_school", "sports_field")
    assert rules.facility("kindergarten").radius_m == 300.0  # the circle's distance
    assert rules.facility("primary_school").radius_m == 500.0
    assert rules.required_types(15, cumulative=True) == ("kindergarten", "market", "primary_school")
    assert rules.facility("sports_field").unconfirmed == ("required",)


def test_rule_set_file_errors_are_reported_all_at_once(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        textwrap.dedent(
            """
            name = "bad"
            colour = "red"

            [[circles]]
            minutes = 5
            distance_m = -300
            unconfirmed = ["radius"]

            [[facilities]]
            type = "kindergarten"
            circle = 7
            radius_m = nan

            [[facilities]]
            type = "school"
            names = ["幼儿园"]
            label_zh = "幼儿园"
            circle = 5
            required = "yes"
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError) as info:
        get_life_circle_rules(path)
    message = str(info.value)
    assert str(path) in message
    for part in (
        "colour",
        "needs `version`",
        "distance_m must be positive",
        "'radius'",
        "radius_m must be a finite number",
        "required must be true or false",
        "circle = 7 is not a listed circle",
    ):
        assert part in message, part


def test_duplicate_names_and_types_are_errors(rules):
    import tomllib

    data = tomllib.loads(RULES_TOML)
    data["facilities"][1]["names"] = ["幼稚园"]
    data["facilities"].append(dict(data["facilities"][2]))
    with pytest.raises(RuleSetError) as info:
        parse_life_circle_rules(data, origin="dup.toml")
    assert "'幼稚园' is also a name of kindergarten" in str(info.value)
    assert "type 'primary_school' is listed twice" in str(info.value)


def test_life_circle_presets_are_not_park_presets():
    assert "gb50180-2018" not in available_rules()
    assert all(not name.startswith("lifecircle-") for name in available_rules())
    rules = get_life_circle_rules()  # the shipped default
    assert rules.name == "gb50180-2018" and rules.facilities


def test_type_names_match_trimmed_and_case_insensitive_unknown_is_a_problem(rules):
    frame = pd.DataFrame(
        {
            "facility_type": [
                "幼儿园",
                " Kindergarten ",
                "KINDERGARTEN",
                "生鲜超市",
                "游泳馆",
                "游泳馆",
            ]
        }
    )
    types, problems = facility_types(frame, rules, source="f.gpkg")
    assert types.tolist() == ["kindergarten"] * 3 + ["market", "", ""]
    assert len(problems) == 1
    problem = problems[0]
    assert problem.severity == "warning" and "游泳馆" in problem.message
    assert problem.rows == (5, 6) and problem.column == "facility_type"


# --------------------------------------------------------------------------- straight line


def test_school_exactly_at_the_radius_reaches_one_cm_beyond_does_not(rules):
    res = homes((0, 0, 100, 100), (0, 5000, 100, 5100))
    fac = facilities(
        ("幼儿园", shapely.Point(400, 50)),  # 300 m from the first home's east edge
        ("幼儿园", shapely.Point(400.01, 5050)),  # 300.01 m from the second
    )
    result = life_circles(res, fac, rules=rules)
    kg = reach_of(result, "kindergarten")
    assert kg["distance_m"].tolist() == pytest.approx([300.0, 300.01])
    assert kg["reached"].tolist() == [True, False]
    assert kg["nearest_facility_id"].tolist() == ["f0", "f1"]


def test_polygon_reaching_all_required_types_but_one(rules):
    res = homes((0, 0, 100, 100))
    fac = facilities(
        ("幼儿园", shapely.Point(50, 250)),  # 150 m
        ("菜市场", shapely.box(150, 0, 200, 100)),  # 50 m from its boundary
        ("小学", shapely.Point(50, 700)),  # 600 m > 500 m
    )
    for method, options in (
        ("buffer", {}),
        ("network", {"roads": roads([(50, 50), (50, 800)], [(50, 50), (175, 50)])}),
    ):
        result = life_circles(res, fac, rules=rules, method=method, **options)
        land = result.land.iloc[0]
        assert land["complete_5min"], method
        assert land["types_reached_5min"] == 2 and land["required_types_5min"] == 2
        assert land["missing_10min"] == "primary_school", method
        assert land["missing_15min"] == "primary_school"  # 15 min needs the 10-min services
        assert not land["complete_10min"] and not land["complete_15min"]
        assert land["required_types_15min"] == 3  # the optional sports field does not count
        circles = result.circles.set_index("circle_min")
        assert circles.loc[10, "complete_m2"] == 0.0
        assert result.complete_share(5) == pytest.approx(1.0)


def test_straight_line_complete_area_is_the_intersection(rules):
    res = homes((0, 0, 100, 100), households=[100.0])
    fac = facilities(
        ("幼儿园", shapely.box(-260, -1000, -250, 1100)),  # reaches x <= 50
        ("菜市场", shapely.box(320, -1000, 330, 1100)),  # reaches x >= 20
    )
    result = life_circles(res, fac, rules=rules, weight="households")
    reached = reach_of(result, "kindergarten")["reached_m2"].iloc[0]
    assert reached == pytest.approx(5000.0)
    assert reach_of(result, "market")["reached_m2"].iloc[0] == pytest.approx(8000.0)
    circles = result.circles.set_index("circle_min")
    assert circles.loc[5, "complete_m2"] == pytest.approx(3000.0)  # 20 <= x <= 50
    assert circles.loc[5, "complete_weight"] == pytest.approx(30.0)
    types = result.types.set_index("facility_type")
    assert types.loc["kindergarten", "reached_share"] == pytest.approx(0.5)
    assert types.loc["market", "reached_weight"] == pytest.approx(80.0)
    gaps = result.gaps.set_index("facility_type")
    assert gaps.loc["kindergarten", "area_m2"] == pytest.approx(5000.0)
    assert gaps.loc["primary_school", "area_m2"] == pytest.approx(10000.0)


def test_district_tables(rules):
    res = homes((0, 0, 100, 100), (1000, 0, 1100, 100))
    districts = gpd.GeoDataFrame(
        {"district_id": ["W", "E"], "name": ["西区", "东区"]},
        geometry=[shapely.box(-500, -500, 500, 500), shapely.box(500, -500, 1500, 500)],
        crs=CRS,
    )
    fac = facilities(("幼儿园", shapely.Point(50, 150)), ("菜市场", shapely.Point(50, -150)))
    result = life_circles(res, fac, rules=rules, districts=districts)
    table = result.district_circles.set_index(["district_id", "circle_min"])
    assert table.loc[("W", 5), "complete_share"] == pytest.approx(1.0)
    assert table.loc[("E", 5), "complete_share"] == 0.0
    assert table.loc[("W", 5), "name"] == "西区"
    assert result.complete_share(5) == pytest.approx(0.5)


# --------------------------------------------------------------------------- walk


def test_walk_exactly_at_the_distance_reaches_one_cm_beyond_does_not(rules):
    res = homes((-10, -10, 10, 10), (-10, 990, 10, 1010))
    starts = shapely.get_coordinates(shapely.point_on_surface(res.geometry.array))
    fac = facilities(
        ("幼儿园", shapely.Point(starts[0, 0] + 300.0, 0)),
        ("幼儿园", shapely.Point(starts[1, 0] + 300.01, 1000)),
    )
    street = roads([(-100, 0), (1000, 0)], [(-100, 1000), (1000, 1000)])
    result = life_circles(res, fac, rules=rules, method="network", roads=street)
    kg = reach_of(result, "kindergarten")
    expected = np.array([300.0, 300.01]) + np.abs(starts[:, 1] - [0, 1000])
    assert kg["distance_m"].to_numpy() == pytest.approx(expected)
    assert kg["reached"].tolist() == [True, False]
    assert result.facilities["access"].tolist() == ["entrances", "entrances"]


def test_walk_round_a_block_is_too_far_where_the_straight_line_reaches(rules):
    res = homes((-10, -10, 10, 10))
    fac = facilities(("幼儿园", shapely.Point(200, 0)))  # 190 m in a straight line
    street = roads([(0, 0), (0, 400), (200, 400), (200, 0)])  # the walk: 1000 m
    straight = life_circles(res, fac, rules=rules)
    walk = life_circles(res, fac, rules=rules, method="network", roads=street)
    assert reach_of(straight, "kindergarten")["reached"].iloc[0]
    start = shapely.get_coordinates(shapely.point_on_surface(res.geometry.array))[0]
    walked = reach_of(walk, "kindergarten")["distance_m"].iloc[0]
    assert walked == pytest.approx(abs(start[0]) + (400 - start[1]) + 200 + 400)
    assert not reach_of(walk, "kindergarten")["reached"].iloc[0]
    assert walk.land["missing_5min"].iloc[0] == "kindergarten,market"


def _snap(points, graph):
    """Nearest edge, offset from its u node and connector of each point (brute force)."""
    a = graph.node_xy[graph.edge_u]
    b = graph.node_xy[graph.edge_v]
    segments = shapely.linestrings(np.stack([a, b], axis=1))
    out = []
    for point in points:
        distance = shapely.distance(segments, point)
        edge = int(np.argmin(distance))
        offset = shapely.line_locate_point(segments[edge], point)
        out.append((edge, float(offset), float(distance[edge])))
    return out


def test_walking_distances_equal_a_networkx_oracle(rules):
    rng = np.random.default_rng(17)
    grid = [[(x, 0), (x, 1200)] for x in range(0, 1201, 200)]
    grid += [[(0, y), (1200, y)] for y in range(0, 1201, 200)]
    street = roads(*grid)
    graph = walk_graph_from_roads(street)
    corners = rng.uniform(30, 1100, size=(40, 2))
    res = homes(*[(x, y, x + 40, y + 30) for x, y in corners])
    fac_xy = rng.uniform(0, 1200, size=(12, 2))
    kinds = ["幼儿园", "菜市场", "小学"] * 4
    fac = facilities(*[(k, shapely.Point(*xy)) for k, xy in zip(kinds, fac_xy, strict=True)])
    result = life_circles(res, fac, rules=rules, method="network", roads=graph)

    g = nx.Graph()
    for u, v, length in zip(graph.edge_u, graph.edge_v, graph.edge_length, strict=True):
        if not g.has_edge(u, v) or g[u][v]["weight"] > length:
            g.add_edge(int(u), int(v), weight=float(length))
    starts = _snap(shapely.point_on_surface(result.land.geometry.array), graph)
    sites = _snap(fac.geometry.array, graph)
    for key in ("kindergarten", "market", "primary_school"):
        mine = [i for i, k in enumerate(kinds) if rules.name_lookup()[k] == key]
        h = g.copy()
        for i in mine:
            edge, offset, gap = sites[i]
            u, v = int(graph.edge_u[edge]), int(graph.edge_v[edge])
            h.add_edge(("f", i), u, weight=gap + offset)
            h.add_edge(("f", i), v, weight=gap + graph.edge_length[edge] - offset)
        dist = nx.multi_source_dijkstra_path_length(h, {("f", i) for i in mine})
        expected = []
        for edge, offset, connector in starts:
            u, v = int(graph.edge_u[edge]), int(graph.edge_v[edge])
            best = min(dist[u] + offset, dist[v] + graph.edge_length[edge] - offset)
            for i in mine:  # a facility on the same street piece
                if sites[i][0] == edge:
                    best = min(best, sites[i][2] + abs(sites[i][1] - offset))
            expected.append(connector + best)
        got = reach_of(result, key)["distance_m"].to_numpy()
        assert got == pytest.approx(np.array(expected), abs=1e-6), key


# --------------------------------------------------------------------------- orchestrator


def test_life_circle_settings_are_validated(tmp_path):
    with pytest.raises(ProjectError, match="rules"):
        ProjectConfig.from_dict({"life_circles": {"rules": 5}})
    with pytest.raises(ProjectError, match="colour"):
        ProjectConfig.from_dict({"life_circles": {"colour": "red"}})
    config = ProjectConfig.from_dict(
        {"life_circles": {"rules": "mine/circles.toml"}}, path=tmp_path / "gisrenew.toml"
    )
    assert config.life_circle_rules_source() == str(tmp_path / "mine" / "circles.toml")
    assert ProjectConfig().life_circles.rules == "gb50180-2018"


def test_orchestrator_step_on_a_small_project(tmp_path):
    rule_file = tmp_path / "circles.toml"
    rule_file.write_text(RULES_TOML, encoding="utf-8")
    res = homes((-10, -10, 10, 10), (2000, -10, 2020, 10), households=[30.0, 10.0])
    fac = facilities(
        ("幼儿园", shapely.Point(100, 0)),
        ("菜市场", shapely.Point(0, 100)),
        ("小学", shapely.Point(-300, 0)),
        ("游泳馆", shapely.Point(0, -50)),
    )
    street = roads([(-500, 0), (2100, 0)], [(0, -200), (0, 200)])
    parks = gpd.GeoDataFrame(
        {"park_id": ["p"]}, geometry=[shapely.box(500, 500, 600, 600)], crs=CRS
    )
    inputs = gather_inputs(
        files={"residential": res, "facilities": fac, "roads": street, "parks": parks},
        life_circle_rules=rule_file,
    )
    assert inputs.life_circle_rules.name == "test-circles"
    indicators = compute_indicators(inputs, life_circles=True)
    assert set(indicators.life_circles) == {"buffer", "network"}
    for result in indicators.life_circles.values():
        assert result.complete_share(10) == pytest.approx(0.5)  # the first home only
        assert result.complete_share(10, weighted=True) == pytest.approx(0.75)
        assert any("游泳馆" in p.message for p in result.problems)
    data = json.loads(json.dumps(indicators.to_dict()))
    assert data["life_circles"]["network"]["rules"]["name"] == "test-circles"
    assert data["life_circles"]["buffer"]["walking_distances_m"]["primary_school"] == 500.0
    skipped = compute_indicators(inputs, life_circles=False)
    assert skipped.life_circles is None


def test_orchestrator_asked_for_life_circles_without_facilities():
    res = homes((0, 0, 10, 10))
    inputs = gather_inputs(files={"residential": res})
    assert inputs.life_circle_rules is None
    with pytest.raises(MissingLayerError):
        compute_indicators(inputs, life_circles=True)


def test_facilities_layer_reads_points_and_polygons_with_chinese_headers():
    from gisrenew.io import load_frame

    frame = gpd.GeoDataFrame(
        {"设施编号": ["a", "b"], "设施类型": ["幼儿园", "小学"], "设施名称": ["一幼", "实小"]},
        geometry=[shapely.Point(0, 0), shapely.box(10, 10, 20, 20)],
        crs=CRS,
    )
    layer, problems = load_frame(frame, "facilities")
    assert not [p for p in problems if p.severity == "error"]
    assert layer["facility_id"].tolist() == ["a", "b"]
    assert layer["facility_type"].tolist() == ["幼儿园", "小学"]
    assert layer["name"].tolist() == ["一幼", "实小"]
    lines = frame.set_geometry([shapely.LineString([(0, 0), (1, 1)])] * 2, crs=CRS)
    _, problems = load_frame(lines, "facilities")
    assert any(p.severity == "error" and "points or polygons" in p.message for p in problems)
