"""Tests for gisrenew.whatif: the what-if session behind ``gisrenew serve``.

The hand-checked city: one residential block 1000 m × 100 m (x 0..1000, y 0..100 from
the origin below, 100 households), split into two districts at x = 500 (so two pieces,
W and E, each with its blind spot: x 400..500 and x 500..1000). Parks are tall
strips (50 m × 900 m = 45 000 m² → 500 m under tijian-2021) whose service areas meet the
block along a straight edge, so every covered area is a rectangle:

* the existing park P1 at x -150..-100 covers x 0..400: 40 000 m², ratio 0.4;
* the sketch park at x 1100..1150 covers x 600..1000: gain 40 000 m² (4 公顷, 60 亩),
  ratio 0.8, households 40 → 80; only district E changes (0 → 0.8);
* the sketch park at x 850..900 covers x 350..1000: it overlaps P1's reach on x 350..400,
  so the gain is 60 000 m² (x 400..1000), not 65 000, and both blind spots close whole.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gisrenew.coverage import IncrementalCoverage
from gisrenew.errors import GisrenewError, ProjectError, SketchError
from gisrenew.indicators import compute_indicators
from gisrenew.project import Project
from gisrenew.recompute import read_history
from gisrenew.whatif import MAX_FEATURES, MAX_VERTICES, WhatIfSession

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "geo" / "taicang_sample"


def _box(x1, y1, x2, y2):
    return shapely.box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def _feature(geom, crs=CRS, **properties) -> dict:
    """A GeoJSON Feature in WGS84 lon/lat of `geom` (given in `crs`), as the page sends it."""
    lonlat = gpd.GeoSeries([geom], crs=crs).to_crs("EPSG:4326").iloc[0]
    return {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(lonlat)),
        "properties": properties,
    }


RIGHT = _box(1100, -400, 1150, 500)  # reaches x >= 600 on the block
MIDDLE = _box(850, -400, 900, 500)  # reaches x >= 350: overlaps P1's reach


@pytest.fixture
def hand_project(tmp_path) -> Path:
    folder = tmp_path / "hand"
    layers = {
        "residential": gpd.GeoDataFrame(
            {"residential_id": ["R1"], "households": [100.0]},
            geometry=[_box(0, 0, 1000, 100)],
            crs=CRS,
        ),
        "parks": gpd.GeoDataFrame(
            {"park_id": ["P1"], "name": ["西公园"], "park_class": ["G12"]},
            geometry=[_box(-150, -400, -100, 500)],
            crs=CRS,
        ),
        "districts": gpd.GeoDataFrame(
            {"district_id": ["W", "E"], "name": ["城西", "城东"]},
            geometry=[_box(-2000, -2000, 500, 2000), _box(500, -2000, 3000, 2000)],
            crs=CRS,
        ),
        "candidates": gpd.GeoDataFrame(
            {"candidate_id": ["C01"], "name": ["东地块"], "park_class": ["G14"]},
            geometry=[RIGHT],
            crs=CRS,
        ),
    }
    Project.create(folder, layers, working_crs=CRS, rules="tijian-2021", name="手算城")
    return folder


@pytest.fixture
def hand(hand_project) -> WhatIfSession:
    return WhatIfSession.open(hand_project)


def _without_time(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "elapsed_ms"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------ hand-checked


def test_state_of_the_hand_checked_city(hand):
    state = hand.state()
    assert state["city"] == "手算城"
    assert state["ratio"] == pytest.approx(0.4, abs=1e-9)
    assert state["network"] is None and state["network_ratio"] is None
    assert state["covered_m2"] == pytest.approx(40_000, rel=1e-9)
    assert state["residential_m2"] == pytest.approx(100_000, rel=1e-9)
    assert state["households_covered"] == pytest.approx(40, rel=1e-9)
    assert state["households_total"] == pytest.approx(100)
    assert {d["district_id"]: round(d["ratio"], 9) for d in state["districts"]} == {
        "W": 0.8,
        "E": 0.0,
    }
    assert state["rules"]["name"] == "tijian-2021" and len(state["rules"]["tiers"]) == 2
    assert state["park_count"] == 1 and state["candidate_count"] == 1
    assert state["blind_spots"]["count"] == 2  # x 400..500 (W) and 500..1000 (E)
    assert state["blind_spots"]["area_m2"] == pytest.approx(60_000, rel=1e-9)
    assert state["run_id"] is None
    json.dumps(state, allow_nan=False)  # JSON-ready, no NaN


def test_a_drawn_park_gains_what_it_newly_covers(hand):
    answer = hand.evaluate({"add": [_feature(RIGHT, name="东口袋公园")]})
    json.dumps(answer, allow_nan=False)
    buffer = answer["buffer"]
    assert buffer["ratio_before"] == pytest.approx(0.4, abs=1e-9)
    assert buffer["ratio_after"] == pytest.approx(0.8, abs=1e-6)
    assert buffer["gain_m2"] == pytest.approx(40_000, rel=1e-6)
    assert buffer["gain_ha"] == pytest.approx(4.0, rel=1e-6)
    assert buffer["gain_mu"] == pytest.approx(60.0, rel=1e-6)
    assert buffer["households_before"] == pytest.approx(40, rel=1e-9)
    assert buffer["households_after"] == pytest.approx(80, rel=1e-6)
    assert buffer["households_gain"] == pytest.approx(40, rel=1e-6)
    assert answer["network"] is None
    assert [d["district_id"] for d in answer["districts"]] == ["E"]  # W is unchanged
    assert answer["districts"][0]["ratio_before"] == 0.0
    assert answer["districts"][0]["ratio_after"] == pytest.approx(0.8, abs=1e-6)
    closed = answer["blind_spots_closed"]
    assert closed["count"] == 1 and closed["fully_closed_count"] == 0
    assert closed["area_m2"] == pytest.approx(40_000, rel=1e-6)
    feature = closed["geojson"]["features"][0]
    assert feature["properties"]["residential_id"] == "R1"
    drawn = gpd.GeoSeries([shapely.geometry.shape(feature["geometry"])], crs="EPSG:4326")
    assert drawn.to_crs(CRS).iloc[0].symmetric_difference(_box(600, 0, 1000, 100)).area < 1e-2
    (park,) = answer["parks"]
    assert park["name"] == "东口袋公园" and park["qualifies"] and park["reason"] == ""
    assert park["radius_m"] == 500 and park["area_m2"] == pytest.approx(45_000, rel=1e-6)
    assert park["gain_m2"] == pytest.approx(40_000, rel=1e-6)
    assert answer["removed"] == [] and answer["elapsed_ms"] > 0


def test_overlap_with_existing_reach_is_counted_once(hand):
    answer = hand.evaluate({"add": [_feature(MIDDLE)]})
    assert answer["buffer"]["gain_m2"] == pytest.approx(60_000, rel=1e-6)
    assert answer["buffer"]["ratio_after"] == pytest.approx(1.0, abs=1e-6)
    closed = answer["blind_spots_closed"]
    assert closed["count"] == 2 and closed["fully_closed_count"] == 2
    assert sorted(d["district_id"] for d in answer["districts"]) == ["E", "W"]


def test_two_parks_each_with_its_own_gain(hand):
    answer = hand.evaluate({"add": [_feature(RIGHT), _feature(MIDDLE)]})
    assert answer["buffer"]["gain_m2"] == pytest.approx(60_000, rel=1e-6)
    gains = [p["gain_m2"] for p in answer["parks"]]
    assert gains == pytest.approx([40_000, 60_000], rel=1e-6)  # each alone, against now


def test_a_picked_candidate_is_the_same_as_drawing_it(hand):
    picked = hand.evaluate({"candidates": ["C01"]})
    drawn = hand.evaluate({"add": [_feature(RIGHT)]})
    assert picked["buffer"]["gain_m2"] == pytest.approx(drawn["buffer"]["gain_m2"], rel=1e-6)
    assert picked["parks"][0]["candidate_id"] == "C01"
    assert picked["parks"][0]["name"] == "东地块"


def test_remove_and_add_together(hand):
    sketch = {"remove": ["P1"], "add": [_feature(RIGHT)]}
    answer = hand.evaluate(sketch)
    assert answer["buffer"]["ratio_after"] == pytest.approx(0.4, abs=1e-6)  # x 600..1000
    assert answer["buffer"]["gain_m2"] == pytest.approx(0.0, abs=1e-2)
    assert answer["removed"] == [{"park_id": "P1", "loss_m2": pytest.approx(40_000, rel=1e-9)}]
    opened, closed = answer["blind_spots_opened"], answer["blind_spots_closed"]
    assert opened["area_m2"] == pytest.approx(40_000, rel=1e-6)  # x 0..400, district W
    assert closed["area_m2"] == pytest.approx(40_000, rel=1e-6)  # x 600..1000, district E
    assert [f["properties"]["district_id"] for f in opened["geojson"]["features"]] == ["W"]
    assert {d["district_id"]: d["ratio_after"] for d in answer["districts"]} == {
        "W": pytest.approx(0.0, abs=1e-9),
        "E": pytest.approx(0.8, abs=1e-6),
    }
    inputs = hand.indicators.inputs.with_layers(parks=hand.parks_after(sketch))
    full = compute_indicators(inputs, plans=False, greenspace=False)
    assert answer["buffer"]["ratio_after"] == pytest.approx(full.buffer.ratio, abs=1e-12)


@pytest.mark.parametrize(
    ("geom", "park_class", "reason"),
    [
        (_box(1100, 0, 1130, 30), "G14", "area below 2000 m²"),  # 900 m²
        (RIGHT, "G3", "class G3 does not count under tijian-2021"),  # a plaza
    ],
)
def test_a_park_that_does_not_qualify_adds_nothing_and_says_why(hand, geom, park_class, reason):
    answer = hand.evaluate({"add": [_feature(geom, park_class=park_class)]})
    (park,) = answer["parks"]
    assert not park["qualifies"] and park["reason"] == reason
    assert park["radius_m"] is None and park["gain_m2"] == 0.0
    assert answer["buffer"]["ratio_after"] == answer["buffer"]["ratio_before"]
    assert answer["blind_spots_closed"]["count"] == 0 and answer["districts"] == []


def test_evaluate_changes_neither_the_session_nor_the_project(hand, hand_project):
    gpkg = hand_project / "project.gpkg"
    checksum, state = _sha256(gpkg), hand.state()
    sketch = {"add": [_feature(RIGHT)], "remove": ["P1"]}
    first = _without_time(hand.evaluate(sketch))
    second = _without_time(hand.evaluate(sketch))
    assert first == second
    assert hand.state() == state
    assert _sha256(gpkg) == checksum
    alone = _without_time(hand.evaluate({"add": [_feature(RIGHT)]}))
    assert alone["buffer"]["ratio_before"] == state["ratio"]  # P1 still there


def test_change_if_leaves_the_engine_as_it_was_and_equals_applying(hand):
    engine = IncrementalCoverage.from_result(hand.indicators.buffer)
    before = engine.covered_m2
    area = shapely.buffer(RIGHT, 500, quad_segs=16)
    change = engine.change_if([area], ["P1"], parts=True)
    assert np.array_equal(engine.covered_m2, before) and engine.park_ids == ["P1"]
    engine.remove_parks(["P1"])
    engine.add_service_areas(gpd.GeoDataFrame({"park_id": ["N"]}, geometry=[area], crs=CRS))
    assert np.allclose(engine.covered_m2[change.pieces], change.covered_after, rtol=1e-12)
    # blind spots: x 400..1000 before; x 0..600 after (both pieces, W and E)
    assert shapely.area(change.uncovered_before).sum() == pytest.approx(60_000, rel=1e-9)
    assert shapely.area(change.uncovered_after).sum() == pytest.approx(60_000, rel=1e-6)


# ------------------------------------------------------------------------- validation


def _bad(hand, sketch, *words):
    with pytest.raises(SketchError) as caught:
        hand.evaluate(sketch)
    assert isinstance(caught.value, GisrenewError)
    for word in words:
        assert word in str(caught.value)
    return str(caught.value)


def test_wrong_geometry_type_is_refused(hand):
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121, 31]]}}
    _bad(hand, {"add": [line]}, "add[0]", "LineString", "not a Polygon")


@pytest.mark.parametrize(
    ("sketch", "words"),
    [
        ([], ["sketch: is a list", "JSON object"]),
        ({"add": "x"}, ["sketch add:", "list of GeoJSON Features"]),
        ({"add": [{"type": "Polygon"}]}, ["add[0]", "not a GeoJSON Feature"]),
        ({"add": [{"type": "Feature", "geometry": None}]}, ["add[0]", "not a Polygon"]),
        ({"delete": ["P1"]}, ["unknown key", "delete"]),
        ({"remove": "P1"}, ["remove", "list of park ids"]),
        ({"remove": ["P9"]}, ["remove[0]", "'P9'", "P1"]),
        ({"candidates": ["C99"]}, ["candidates[0]", "'C99'", "C01"]),
    ],
)
def test_malformed_sketches_are_refused(hand, sketch, words):
    _bad(hand, sketch, *words)


def test_too_many_features_and_vertices_are_refused(hand):
    _bad(hand, {"add": [_feature(RIGHT)] * (MAX_FEATURES + 1)}, f"at most {MAX_FEATURES}")
    ring = [[121.0 + 1e-6 * math.cos(t), 31.0 + 1e-6 * math.sin(t)] for t in range(MAX_VERTICES)]
    big = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}}
    _bad(hand, {"add": [big]}, "add[0]", f"more than {MAX_VERTICES} vertices")


def test_nan_and_outside_coordinates_are_refused(hand):
    feature = _feature(RIGHT)
    feature["geometry"]["coordinates"][0][1] = [float("nan"), 31.0]
    _bad(hand, {"add": [feature]}, "add[0]", "not a finite number")
    text = _feature(RIGHT)
    text["geometry"]["coordinates"][0][1] = ["121", "x"]
    _bad(hand, {"add": [text]}, "add[0]", "number pairs")
    far = _feature(_box(20_000, 0, 20_100, 100))  # 19 km east of the block
    _bad(hand, {"add": [far]}, "add[0]", "outside the project's area")
    swapped = _feature(RIGHT)
    ring = swapped["geometry"]["coordinates"][0]
    swapped["geometry"]["coordinates"][0] = [[y, x] for x, y in ring]
    _bad(hand, {"add": [swapped]}, "add[0]")  # latitude first: far away (or out of range)


def test_a_self_intersecting_outline_is_repaired_and_a_flat_one_refused(hand):
    # a bow tie: two triangles of 50 × 450 m meeting at (1125, 50) — 2 × 11 250 m²
    bow = shapely.Polygon(
        [(X0 + 1100, Y0 - 400), (X0 + 1150, Y0 + 500), (X0 + 1100, Y0 + 500), (X0 + 1150, Y0 - 400)]
    )
    assert not bow.is_valid
    answer = hand.evaluate({"add": [_feature(bow)]})
    (park,) = answer["parks"]
    assert park["repaired"] and park["area_m2"] == pytest.approx(22_500, rel=1e-6)
    assert park["qualifies"] and park["radius_m"] == 500
    flat = shapely.Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 200, Y0)])
    _bad(hand, {"add": [_feature(flat)]}, "add[0]", "encloses no area")


# ------------------------------------------------------------------- keeping a sketch


def test_apply_records_a_run_and_reloads(hand, hand_project):
    result = hand.apply({"add": [_feature(RIGHT, name="东口袋公园")]}, note="2025 第一批")
    assert result["run_id"] == 1
    history = read_history(hand_project)
    assert history["run_id"].tolist() == [1]
    assert json.loads(history["added_parks"].iloc[0]) == ["new-1"]
    assert "2025 第一批" in history["inputs"].iloc[0]
    assert result["state"]["ratio"] == pytest.approx(0.8, abs=1e-6)
    assert result["state"]["run_id"] == 1 and result["state"]["park_count"] == 2
    assert result["state"] == WhatIfSession.open(hand_project).state() == hand.state()
    again = hand.evaluate({"add": [_feature(RIGHT)]})  # the park is there now
    assert again["buffer"]["gain_m2"] == pytest.approx(0.0, abs=1e-6)


def test_apply_refuses_an_empty_sketch_and_a_read_only_project(hand):
    _bad_apply = pytest.raises(SketchError, match="adds and removes nothing")
    with _bad_apply:
        hand.apply({})
    sample = WhatIfSession.open(SAMPLE)
    with pytest.raises(ProjectError, match="read_only"):
        sample.apply({"remove": ["P001"]})


def test_save_candidate_appends_to_the_candidates_layer(hand, hand_project):
    site = _box(1200, 0, 1260, 60)
    saved = hand.save_candidate({"add": [_feature(site, name="新备选")], "remove": ["P1"]})
    assert saved == {"candidate_ids": ["C02"]}
    sites = Project.open(hand_project).read("candidates")
    assert sites["candidate_id"].tolist() == ["C01", "C02"]
    assert sites["name"].tolist() == ["东地块", "新备选"]
    assert shapely.symmetric_difference(sites.geometry.iloc[1], site).area < 1e-2
    assert read_history(hand_project).empty  # no recompute, P1 kept
    assert hand.evaluate({"candidates": ["C02"]})["parks"][0]["candidate_id"] == "C02"
    with pytest.raises(SketchError, match="no drawn park"):
        hand.save_candidate({"candidates": ["C01"]})


# ------------------------------------------------------------------------ sample city


@pytest.fixture(scope="module")
def sample() -> WhatIfSession:
    return WhatIfSession.open(SAMPLE)


def _on_largest_blind_spot(session: WhatIfSession, side: float = 80.0) -> shapely.Polygon:
    spots = session.indicators.buffer.listed_blind_spots()
    centre = spots.geometry.iloc[int(np.argmax(spots["area_m2"]))].centroid
    h = side / 2
    return shapely.box(centre.x - h, centre.y - h, centre.x + h, centre.y + h)


@pytest.mark.parametrize("remove", [False, True])
def test_sample_city_equals_a_computation_from_scratch(sample, remove):
    sketch = {"add": [_feature(_on_largest_blind_spot(sample))]}
    if remove:
        sketch["remove"] = [sample.indicators.inputs.layer("parks")["park_id"].iloc[0]]
    answer = sample.evaluate(sketch)
    inputs = sample.indicators.inputs.with_layers(parks=sample.parks_after(sketch))
    full = compute_indicators(inputs, plans=False, greenspace=False, network_service_areas="none")
    assert answer["buffer"]["ratio_after"] == pytest.approx(full.buffer.ratio, abs=1e-12)
    assert answer["buffer"]["households_after"] == pytest.approx(
        full.buffer.weight_covered, rel=1e-12
    )
    assert answer["network"]["ratio_after"] == pytest.approx(full.network.ratio, abs=1e-12)
    assert (
        answer["buffer"]["gain_m2"] != 0
        and answer["network"]["ratio_before"] == (sample.state()["network_ratio"])
    )
    districts = full.buffer.districts.set_index("district_id")["coverage_ratio"]
    for row in answer["districts"]:
        assert row["ratio_after"] == pytest.approx(districts[row["district_id"]], abs=1e-12)
    if not remove:
        closed = answer["blind_spots_closed"]
        assert closed["area_m2"] == pytest.approx(answer["buffer"]["gain_m2"], rel=1e-9)
