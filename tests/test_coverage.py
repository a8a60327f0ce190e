"""Tests of the buffer coverage engine (gisrenew.coverage) and `gisrenew coverage`.

Every expected figure is either worked out by hand in the test (squares and strips
whose covered part lies along the straight sides of a service area, where the buffer
is exact) or computed by an independent oracle: the naive exact overlay
``union(buffers) ∩ union(residential)`` with shapely.
"""

from __future__ import annotations

import json
import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from gisrenew import coverage as cov
from gisrenew import present
from gisrenew.cli import main
from gisrenew.coverage import envelopes, overlay
from gisrenew.errors import AnalysisError, CRSError, SchemaError
from gisrenew.geometry import union_by_group
from gisrenew.rules import flat_rules, get_rules

GK = "EPSG:4549"
X0, Y0 = 604_000.0, 3_481_000.0


def box(x0, y0, x1, y1):
    """Axis-aligned rectangle in local metres (offset into EPSG:4549 near Taicang)."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def layer(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=GK)


def ring_area(radius: float, segments: int = 4 * cov.BUFFER_QUAD_SEGS) -> float:
    """Area of the regular polygon with `segments` vertices on a circle of `radius`."""
    return 0.5 * segments * radius**2 * math.sin(2 * math.pi / segments)


def rectangle_buffer_area(w: float, h: float, r: float) -> float:
    """Exact area of a w×h rectangle buffered by r with 16 segments per quarter circle."""
    return w * h + 2 * (w + h) * r + ring_area(r)


def oracle(parks, radii, residential, boundary=None, zone=None):
    """Naive exact overlay: (covered m², residential m²) of union(buffers) ∩ union(residential)."""
    buffers = shapely.buffer(np.asarray(parks, dtype=object), radii, quad_segs=16)
    reach = shapely.union_all(buffers) if len(buffers) else shapely.Polygon()
    land = shapely.union_all(np.asarray(residential, dtype=object))
    if boundary is not None:
        land = shapely.intersection(land, boundary)
    if zone is not None:
        land = shapely.intersection(land, zone)
    return shapely.area(shapely.intersection(land, reach)), shapely.area(land)


# ------------------------------------------------------------------ rule features


def test_buffers_use_sixteen_segments_per_quarter_circle():
    assert cov.BUFFER_QUAD_SEGS == 16
    parks = layer([box(0, 0, 100, 100)])
    areas = cov.service_areas(parks, "tijian-2021")
    assert areas.loc[0, "radius_m"] == 500
    assert areas.geometry.area.iloc[0] == pytest.approx(
        rectangle_buffer_area(100, 100, 500), rel=1e-12
    )


def test_square_park_and_blocks_known_areas():
    parks = layer([box(0, 0, 100, 100)], park_id=["p1"])  # 10 000 m² → 500 m
    residential = layer(
        [
            box(200, 0, 400, 100),  # inside the service area: 20 000 m² covered
            box(550, 20, 650, 80),  # straddles the straight east edge (x = 600): 3000 of 6000
            box(2000, 0, 2100, 100),  # far away: 0 of 10 000
        ],
        residential_id=["a", "b", "c"],
        households=[10.0, 60.0, 40.0],
    )
    result = cov.compute_coverage(parks, residential, weight="households")
    assert result.method == "buffer"
    assert result.residential_area_m2 == pytest.approx(36_000)
    assert result.covered_area_m2 == pytest.approx(23_000)
    assert result.ratio == pytest.approx(23 / 36)
    per = result.residential.set_index("residential_id")
    assert per.loc[["a", "b", "c"], "covered_m2"].tolist() == pytest.approx([20_000, 3000, 0])
    assert per.loc[["a", "b", "c"], "covered_share"].tolist() == pytest.approx([1, 0.5, 0])
    # weights: households spread evenly within a polygon
    assert result.weight_total == pytest.approx(110)
    assert result.weight_covered == pytest.approx(10 + 30)
    assert result.weighted_ratio == pytest.approx(40 / 110)
    # blind spots: the uncovered half of b and all of c, with their households
    blind = result.blind_spots.set_index("residential_id").sort_index()
    assert blind.index.tolist() == ["b", "c"]
    assert blind["area_m2"].tolist() == pytest.approx([3000, 10_000])
    assert blind["households"].tolist() == pytest.approx([30, 40])
    assert blind.geometry.iloc[0].equals(box(600, 20, 650, 80))
    assert blind["area_mu"].iloc[0] == pytest.approx(3000 / (10000 / 15))


def test_block_holding_the_whole_service_area():
    parks = layer([box(0, 0, 100, 100)])
    residential = layer([box(-1000, -1000, 1100, 1100)])
    result = cov.compute_coverage(parks, residential)
    assert result.covered_area_m2 == pytest.approx(rectangle_buffer_area(100, 100, 500), rel=1e-12)
    assert result.residential_area_m2 == pytest.approx(2100**2)


@pytest.mark.parametrize(
    ("width", "height", "radius"),
    [(100, 50, 500.0), (100, 49.99, 300.0), (50, 40, 300.0), (50, 39.99, math.nan)],
    ids=["exactly-5000", "just-below-5000", "exactly-2000", "just-below-2000"],
)
def test_tier_edges(width, height, radius):
    parks = layer([box(0, 0, width, height)])
    table = cov.park_table(parks, "tijian-2021")
    assert table.loc[0, "park_area_m2"] == pytest.approx(width * height, abs=1e-6)
    if math.isnan(radius):
        assert not table.loc[0, "qualifies"]
        assert table.loc[0, "tier"] == -1
        assert "below 2000" in table.loc[0, "reason"]
    else:
        assert table.loc[0, "qualifies"]
        assert table.loc[0, "radius_m"] == radius
        assert table.loc[0, "reason"] == ""


def test_tier_edge_decides_coverage():
    """A block 400 m east of a park is covered by a 5000 m² park, not by a 4999 m² one."""
    block = box(100 + 390, 0, 100 + 400, 40)
    exact = cov.compute_coverage(layer([box(0, 0, 100, 50)]), layer([block]))
    below = cov.compute_coverage(layer([box(0, 0, 100, 49.99)]), layer([block]))
    assert exact.ratio == pytest.approx(1.0)
    assert below.ratio == 0.0
    counts = exact.tier_counts()
    assert int(counts.loc[counts["tier"] == 0, "parks"].sum()) == 1


def test_multipart_park_is_one_park():
    two_parts = shapely.MultiPolygon([box(0, 0, 40, 40), box(1000, 0, 1040, 40)])  # 3200 m²
    parks = layer([two_parts], park_id=["m"])
    table = cov.park_table(parks)
    assert table.loc[0, "park_area_m2"] == pytest.approx(3200)
    assert table.loc[0, "radius_m"] == 300  # 2000–5000 m² tier; each part alone would not count
    residential = layer([box(1100, 0, 1200, 40), box(-250, 0, -200, 40), box(2000, 0, 2100, 40)])
    result = cov.compute_coverage(parks, residential)
    per = result.residential["covered_m2"].tolist()
    assert per == pytest.approx([4000, 2000, 0])  # near either part, straight sides of the buffer


def test_overlapping_residential_polygons_counted_once():
    parks = layer([box(-600, -100, -400, 200)])  # 60 000 m²: 500 m, east edge at x = 100
    residential = layer(
        [box(0, 0, 100, 100), box(50, 0, 150, 100)],
        residential_id=["r1", "r2"],
        households=[100.0, 100.0],
    )
    result = cov.compute_coverage(parks, residential, weight="households")
    assert result.residential_area_m2 == pytest.approx(15_000)  # not 20 000
    assert result.covered_area_m2 == pytest.approx(10_000)
    assert result.ratio == pytest.approx(2 / 3)
    land = cov.residential_land(residential, weight="households").set_index("residential_id")
    assert land.loc["r1", "area_m2"] == pytest.approx(10_000)  # the first polygon keeps the overlap
    assert land.loc["r2", "area_m2"] == pytest.approx(5000)
    assert land.loc["r2", "weight"] == pytest.approx(50)  # its share of the overlap goes with it
    covered, total = oracle(_geoms(parks), 500, _geoms(residential))
    assert result.covered_area_m2 == pytest.approx(covered, rel=1e-9)
    assert result.residential_area_m2 == pytest.approx(total, rel=1e-9)


def test_duplicate_residential_polygon_counts_once():
    residential = layer([box(0, 0, 100, 100), box(0, 0, 100, 100)], households=[30.0, 30.0])
    land = cov.residential_land(residential, weight="households")
    assert len(land) == 1
    assert land["area_m2"].sum() == pytest.approx(10_000)
    assert land["weight"].sum() == pytest.approx(30)


def test_boundary_clip():
    parks = layer([box(400, 0, 500, 100)])  # 500 m: the straight east edge reaches x = 1000
    residential = layer([box(900, 0, 1100, 100)], households=[200.0])
    boundary = layer([box(0, -500, 1000, 500)])
    result = cov.compute_coverage(parks, residential, boundary=boundary, weight="households")
    assert result.residential_area_m2 == pytest.approx(10_000)
    assert result.ratio == pytest.approx(1.0)  # 0.5 without the clip
    assert result.weight_total == pytest.approx(100)  # half the polygon is in the built-up area
    unclipped = cov.compute_coverage(parks, residential)
    assert unclipped.ratio == pytest.approx(0.5)


def test_no_residential_land_inside_boundary_is_a_clear_error():
    parks = layer([box(0, 0, 100, 100)])
    residential = layer([box(5000, 5000, 5100, 5100)])
    boundary = layer([box(0, 0, 1000, 1000)])
    with pytest.raises(AnalysisError, match="no residential land inside the built-up boundary"):
        cov.compute_coverage(parks, residential, boundary=boundary)


def test_no_residential_land_use_codes_is_a_clear_error():
    residential = layer([box(0, 0, 100, 100)], land_use=["B1"])
    with pytest.raises(AnalysisError, match=r"no residential land.*B1"):
        cov.compute_coverage(
            layer([box(0, 0, 100, 100)]), residential, residential_codes=["R", "07"]
        )


def test_residential_codes_prefix_match():
    residential = layer(
        [box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10), box(60, 0, 70, 10)],
        land_use=["R21", "070101", "B1", "r2"],
    )
    land = cov.residential_land(residential, residential_codes=["R", "07"])
    assert sorted(land["land_use"]) == ["070101", "R21", "r2"]
    assert len(cov.residential_land(residential)) == 4  # no codes: every polygon counts


def test_district_split_and_table():
    parks = layer([box(-100, 0, 0, 100)])  # 10 000 m²: 500 m, east edge at x = 500
    residential = layer([box(400, 0, 600, 100)], residential_id=["r"], households=[100.0])
    districts = layer(
        [box(-3000, -3000, 500, 3000), box(500, -3000, 3000, 3000), box(5000, 0, 6000, 1000)],
        district_id=["w", "e", "empty"],
        name=["西区", "东区", "空区"],
    )
    result = cov.compute_coverage(parks, residential, districts=districts, weight="households")
    land = result.residential.set_index("district_id")
    assert (land["residential_id"] == "r").all()
    assert land.loc["w", "area_m2"] == pytest.approx(10_000)
    assert land.loc["e", "area_m2"] == pytest.approx(10_000)
    assert land.loc["w", "weight"] == pytest.approx(50)
    table = result.districts.set_index("district_id")
    assert table.index.tolist() == ["w", "e", "empty"]  # the layer's order, empty district too
    assert table.loc["w", "name"] == "西区"
    assert table.loc["w", "coverage_ratio"] == pytest.approx(1.0)
    assert table.loc["e", "coverage_ratio"] == pytest.approx(0.0)
    assert math.isnan(table.loc["empty", "coverage_ratio"])
    assert table.loc["w", "weighted_ratio"] == pytest.approx(1.0)
    assert table.loc["e", "residential_area_mu"] == pytest.approx(15.0)
    assert result.ratio == pytest.approx(0.5)
    assert [d["district_id"] for d in result.to_dict()["districts"]] == ["w", "e", "empty"]


def test_land_outside_every_district_is_listed_apart():
    residential = layer([box(400, 0, 600, 100)], district_id=["fallback"])
    districts = layer([box(-1000, -1000, 500, 1000)], district_id=["w"])
    land = cov.residential_land(residential, districts=districts).set_index("district_id")
    assert land.loc["w", "area_m2"] == pytest.approx(10_000)
    assert land.loc["fallback", "area_m2"] == pytest.approx(10_000)  # the row's own district_id


def test_district_from_residential_column_without_layer():
    parks = layer([box(0, 0, 100, 100)])
    residential = layer(
        [box(200, 0, 300, 100), box(3000, 0, 3100, 100), box(300, 0, 400, 100)],
        district_id=["d1", "d2", "d1"],
    )
    table = cov.compute_coverage(parks, residential).districts.set_index("district_id")
    assert table.loc["d1", "coverage_ratio"] == pytest.approx(1.0)
    assert table.loc["d2", "coverage_ratio"] == 0.0
    assert table.loc["d1", "residential_area_m2"] == pytest.approx(20_000)


def test_no_district_information_gives_empty_table():
    result = cov.compute_coverage(layer([box(0, 0, 100, 100)]), layer([box(200, 0, 300, 100)]))
    assert len(result.districts) == 0
    assert "coverage_ratio" in result.districts.columns


def test_weight_column_errors():
    residential = layer([box(0, 0, 10, 10)])
    with pytest.raises(SchemaError, match="weight column `flats`"):
        cov.residential_land(residential, weight="flats")


def test_unique_contribution_of_each_park():
    # two 50 m × 50 m parks (2500 m², 300 m) on a strip y ∈ [10, 40] inside their y-range:
    # P1 covers x ∈ [-300, 350], P2 covers x ∈ [200, 850]; they share [200, 350].
    parks = layer([box(0, 0, 50, 50), box(500, 0, 550, 50)], park_id=["P1", "P2"])
    strip = layer([box(-1000, 10, 2000, 40)], households=[300.0])
    table = cov.park_contribution(parks, strip, weight="households").set_index("park_id")
    assert table.loc["P1", "covered_m2"] == pytest.approx(650 * 30)
    assert table.loc["P1", "unique_covered_m2"] == pytest.approx(500 * 30)
    assert table.loc["P2", "unique_covered_m2"] == pytest.approx(500 * 30)
    assert table.loc["P1", "unique_weight"] == pytest.approx(300 * 15_000 / 90_000)
    assert not table["redundant"].any()


def test_unique_contribution_equals_the_loss_when_a_park_closes():
    rng = np.random.default_rng(7)
    parks_geoms = [
        box(x, y, x + w, y + h)
        for x, y, w, h in zip(
            rng.uniform(0, 1500, 8),
            rng.uniform(0, 1500, 8),
            rng.uniform(40, 120, 8),
            rng.uniform(40, 120, 8),
            strict=True,
        )
    ]
    parks_geoms.append(box(700, 700, 760, 760))  # inside others' reach: likely redundant
    parks = layer(parks_geoms, park_id=[f"p{i}" for i in range(len(parks_geoms))])
    residential = layer(_random_blocks(rng, 120, 2000))
    table = cov.park_contribution(parks, residential).set_index("park_id")
    full = cov.compute_coverage(parks, residential).covered_area_m2
    for park_id in parks["park_id"]:
        without = cov.compute_coverage(
            parks[parks["park_id"] != park_id], residential
        ).covered_area_m2
        assert table.loc[park_id, "unique_covered_m2"] == pytest.approx(full - without, abs=1e-6)
    redundant = table["redundant"]
    assert (table.loc[redundant, "unique_covered_m2"] == 0).all()


def test_flat_rule():
    parks = layer([box(0, 0, 30, 40), box(1000, 0, 1030, 30)])  # 1200 and 900 m²
    rules = flat_rules(200, 1000)
    table = cov.park_table(parks, rules)
    assert table["radius_m"].tolist()[0] == 200
    assert not table["qualifies"].tolist()[1]
    residential = layer([box(30 + 150, 0, 30 + 250, 40)])  # 50 of 100 m within 200 m
    result = cov.compute_coverage(parks, residential, rules=rules)
    assert result.ratio == pytest.approx(0.5)
    assert result.rules.name == "flat"
    assert result.to_dict()["rules"]["tiers"][0]["radius_m"] == 200


def test_plazas_count_under_gbt51346_only():
    plaza = layer([box(0, 0, 100, 100)], park_class=["G3"])
    residential = layer([box(200, 0, 300, 100)])
    tijian = cov.compute_coverage(plaza, residential, rules="tijian-2021")
    assert tijian.ratio == 0.0
    assert "G3" in tijian.parks.loc[0, "reason"]
    gbt = cov.compute_coverage(plaza, residential, rules="gbt51346-2019")
    assert gbt.ratio == pytest.approx(1.0)
    assert gbt.parks.loc[0, "radius_m"] == 500


def test_user_toml_rule_set_with_min_width_classes_and_codes(tmp_path):
    path = tmp_path / "district.toml"
    path.write_text(
        """
name = "old-town"
version = "3"
title = "old town test rules"
park_classes = ["G1", "G11", "G12", "G13", "G14"]
count_plazas = true
min_width_m = 50
residential_codes = ["R2"]

[[tiers]]
park_classes = ["G11"]
min_area_m2 = 1000
radius_m = 1000

[[tiers]]
min_area_m2 = 1000
radius_m = 400
""",
        encoding="utf-8",
    )
    rules = get_rules(path)
    parks = layer(
        [
            box(0, 0, 40, 200),
            box(0, 1000, 60, 1100),
            box(0, 3000, 100, 3100),
            box(0, 5000, 60, 5100),
        ],
        park_id=["narrow", "ok", "big", "plaza"],
        park_class=["G12", "G12", "G11", "G3"],
    )
    table = cov.park_table(parks, rules).set_index("park_id")
    assert not table.loc["narrow", "qualifies"]
    assert "narrower than 50 m" in table.loc["narrow", "reason"]
    assert table.loc["narrow", "width_m"] == pytest.approx(40, abs=0.01)
    assert table.loc["ok", "width_m"] == pytest.approx(60, abs=0.01)
    assert table.loc["ok", "radius_m"] == 400
    assert table.loc["big", "radius_m"] == 1000  # class tier first
    assert table.loc["plaza", "radius_m"] == 400
    residential = layer(
        [box(60 + 300, 1000, 60 + 400, 1100), box(60 + 300, 0, 60 + 400, 100)],
        land_use=["R21", "B1"],  # the commercial block is not residential under these rules
    )
    result = cov.compute_coverage(parks, residential, rules=rules)
    assert result.residential_area_m2 == pytest.approx(10_000)
    assert result.ratio == pytest.approx(1.0)
    rules_json = json.loads(json.dumps(result.to_dict()["rules"]))
    assert (rules_json["name"], rules_json["version"], rules_json["min_width_m"]) == (
        "old-town",
        "3",
        50,
    )


def test_parks_in_another_crs_are_reprojected(caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("gisrenew"), "propagate", True)
    parks = layer([box(0, 0, 100, 100), box(900, 300, 1000, 400)])
    residential = layer([box(550, 20, 650, 80), box(200, 0, 400, 100)])
    reference = cov.compute_coverage(parks, residential)
    with caplog.at_level(logging.INFO, logger="gisrenew"):
        moved = cov.compute_coverage(parks.to_crs("EPSG:4326"), residential)
    assert moved.ratio == pytest.approx(reference.ratio, rel=1e-6)
    assert "reproject" in caplog.text.lower()
    assert moved.service_areas.crs == residential.crs


def test_parks_without_crs_is_a_crs_error():
    parks = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)])
    with pytest.raises(CRSError, match="`parks` has no coordinate reference system"):
        cov.compute_coverage(parks, layer([box(200, 0, 300, 100)]))


def test_geometry_only_inputs_are_not_mutated():
    parks = layer([box(0, 0, 100, 100)])
    residential = layer([box(200, 0, 300, 100), box(550, 0, 650, 100)])
    before_parks, before_res = parks.copy(), residential.copy()
    result = cov.compute_coverage(parks, residential)
    assert result.residential["residential_id"].tolist() == ["1", "2"]
    pd.testing.assert_frame_equal(parks, before_parks)
    pd.testing.assert_frame_equal(residential, before_res)


def test_progress_bar_does_not_change_the_result(capsys):
    parks = layer([box(0, 0, 100, 100)])
    residential = layer([box(550, 20, 650, 80)])
    quiet = cov.compute_coverage(parks, residential)
    shown = cov.compute_coverage(parks, residential, progress=True)
    assert shown.covered_area_m2 == quiet.covered_area_m2
    assert "coverage" in capsys.readouterr().err


def test_no_qualifying_park_gives_zero_not_an_error():
    result = cov.compute_coverage(layer([box(0, 0, 10, 10)]), layer([box(20, 0, 30, 10)]))
    assert result.ratio == 0.0
    assert len(result.service_areas) == 0
    assert result.blind_spots["area_m2"].sum() == pytest.approx(100)


# ------------------------------------------------------------------ exactness on random layers


def _geoms(frame):
    return np.asarray(frame.geometry.array, dtype=object)


def _random_blocks(rng, n, extent, overlap=True):
    """Rotated rectangles (some overlapping) and a few L-shaped and multipart blocks."""
    x, y = rng.uniform(0, extent, n), rng.uniform(0, extent, n)
    w, h = rng.uniform(20, 120, n), rng.uniform(20, 120, n)
    angle = rng.uniform(0, np.pi, n)
    geoms = []
    for i in range(n):
        c, s = math.cos(angle[i]), math.sin(angle[i])
        pts = [
            (-w[i] / 2, -h[i] / 2),
            (w[i] / 2, -h[i] / 2),
            (w[i] / 2, h[i] / 2),
            (-w[i] / 2, h[i] / 2),
        ]
        poly = shapely.Polygon(
            [(X0 + x[i] + c * px - s * py, Y0 + y[i] + s * px + c * py) for px, py in pts]
        )
        if i % 10 == 3:
            poly = shapely.difference(poly, shapely.box(*poly.centroid.buffer(w[i] / 4).bounds))
        if i % 10 == 7:
            poly = shapely.MultiPolygon(
                [poly, shapely.affinity.translate(poly, 2 * max(w[i], h[i]) + 5, 0)]
            )
        geoms.append(poly)
    return geoms


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_layers_match_the_naive_overlay(seed):
    rng = np.random.default_rng(seed)
    n_parks = 25
    px, py = rng.uniform(0, 3000, n_parks), rng.uniform(0, 3000, n_parks)
    side = np.sqrt(rng.uniform(800, 12_000, n_parks))
    parks_geoms = [
        shapely.affinity.rotate(box(a, b, a + s, b + s * 0.7), r)
        for a, b, s, r in zip(px, py, side, rng.uniform(0, 90, n_parks), strict=True)
    ]
    parks = layer(parks_geoms)
    residential = layer(_random_blocks(rng, 300, 3000))
    result = cov.compute_coverage(parks, residential)
    table = result.parks
    ok = table["qualifies"].to_numpy()
    covered, total = oracle(
        np.asarray(parks_geoms, dtype=object)[ok],
        table["radius_m"].to_numpy()[ok],
        _geoms(residential),
    )
    assert result.covered_area_m2 == pytest.approx(covered, rel=1e-9)
    assert result.residential_area_m2 == pytest.approx(total, rel=1e-9)
    assert 0.05 < result.ratio < 0.95  # the layers exercise partly covered land
    # per piece: the area within the union of service areas
    reach = shapely.union_all(_geoms(result.service_areas))
    expected = shapely.area(shapely.intersection(_geoms(result.residential), reach))
    np.testing.assert_allclose(result.residential["covered_m2"], expected, rtol=1e-9, atol=1e-6)
    # blind spots + covered land = residential land
    assert result.blind_spots["area_m2"].sum() + result.covered_area_m2 == pytest.approx(
        total, rel=1e-9
    )
    # pieces do not overlap
    pieces = _geoms(result.residential)
    pieces_area = shapely.area(pieces).sum()
    assert shapely.area(shapely.union_all(pieces)) == pytest.approx(pieces_area, rel=1e-9)
    assert pieces_area == pytest.approx(total, rel=1e-9)


def test_random_layers_with_boundary_and_districts_match_the_naive_overlay():
    rng = np.random.default_rng(11)
    parks = layer([box(x, y, x + 90, y + 70) for x, y in rng.uniform(0, 3000, (20, 2))])
    blocks = _random_blocks(rng, 250, 3000)
    residential = layer(blocks)
    boundary_geom = shapely.Polygon(
        [(X0 + 100, Y0 - 50), (X0 + 2900, Y0 + 300), (X0 + 2600, Y0 + 2800), (X0 + 300, Y0 + 2500)]
    )
    boundary = layer([boundary_geom])
    zones = [box(-100, -100, 1500, 1600), box(1500, -100, 3100, 1600), box(-100, 1600, 3100, 3100)]
    districts = layer(zones, district_id=["a", "b", "c"])
    result = cov.compute_coverage(parks, residential, boundary=boundary, districts=districts)
    radii = result.parks["radius_m"].to_numpy()
    ok = result.parks["qualifies"].to_numpy()
    covered, total = oracle(_geoms(parks)[ok], radii[ok], blocks, boundary=boundary_geom)
    assert result.covered_area_m2 == pytest.approx(covered, rel=1e-9)
    assert result.residential_area_m2 == pytest.approx(total, rel=1e-9)
    table = result.districts.set_index("district_id")
    for zone, did in zip(zones, "abc", strict=True):
        c, t = oracle(_geoms(parks)[ok], radii[ok], blocks, boundary=boundary_geom, zone=zone)
        assert table.loc[did, "covered_area_m2"] == pytest.approx(c, rel=1e-9, abs=1e-6)
        assert table.loc[did, "residential_area_m2"] == pytest.approx(t, rel=1e-9)


def test_two_threads_give_the_same_result():
    rng = np.random.default_rng(3)
    parks = layer([box(x, y, x + 80, y + 80) for x, y in rng.uniform(0, 2000, (15, 2))])
    residential = layer(_random_blocks(rng, 200, 2000), households=rng.uniform(0, 50, 200))
    districts = layer(
        [box(-100, -100, 1000, 2200), box(1000, -100, 2200, 2200)], district_id=["w", "e"]
    )
    one = cov.compute_coverage(
        parks, residential, districts=districts, weight="households", workers=1
    )
    two = cov.compute_coverage(
        parks, residential, districts=districts, weight="households", workers=2
    )
    np.testing.assert_allclose(
        two.residential["covered_m2"], one.residential["covered_m2"], rtol=0, atol=1e-9
    )
    assert two.residential["residential_id"].tolist() == one.residential["residential_id"].tolist()
    assert two.blind_spots["area_m2"].sum() == pytest.approx(
        one.blind_spots["area_m2"].sum(), rel=1e-12
    )
    pd.testing.assert_frame_equal(two.districts, one.districts)


def test_covered_area_function():
    land = [shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10), shapely.box(100, 100, 110, 110)]
    reach = [shapely.box(5, 0, 25, 10), shapely.box(0, 0, 6, 5), shapely.box(20, 0, 30, 10)]
    np.testing.assert_allclose(cov.covered_area(land, reach), [75.0, 100.0, 0.0])
    np.testing.assert_allclose(cov.covered_area(land, []), [0.0, 0.0, 0.0])
    assert cov.covered_area([], reach).shape == (0,)
    _, uncovered = cov.covered_parts(land, reach)
    assert uncovered[1] is None
    assert shapely.area(uncovered[0]) == pytest.approx(25.0)
    assert uncovered[2].equals(land[2])


def test_reach_discs_are_inside_and_around_each_polygon():
    rng = np.random.default_rng(9)
    geoms = list(
        shapely.buffer(shapely.points(rng.uniform(0, 1000, (50, 2))), rng.uniform(10, 200, 50))
    )
    geoms += [
        shapely.difference(
            shapely.box(0, 0, 100, 100), shapely.box(45, 45, 55, 55)
        ),  # centroid in a hole
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 9, 9)]),
        shapely.Polygon([(0, 0), (10, 0), (10, 10), (9, 10), (9, 1), (0, 1)]),  # centroid outside
    ]
    geoms = np.asarray(geoms, dtype=object)
    index = overlay.ReachIndex.build(geoms)
    centres = shapely.points(index.x, index.y)
    inside = shapely.contains_properly(geoms, centres)
    assert inside.all()  # a point on the surface replaces a centroid outside the polygon
    # the inner disc lies inside: never beyond the distance to the boundary (holes included),
    # and equal to it for single-ring polygons
    expected = shapely.distance(centres, shapely.boundary(geoms))
    assert (index.inner <= expected + 1e-9).all()
    assert (index.inner > 0).all()
    np.testing.assert_allclose(index.inner[:50], expected[:50], rtol=1e-12)
    assert index.inner[-1] == pytest.approx(expected[-1])
    # the outer radius reaches the farthest vertex
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    far = np.zeros(len(geoms))
    np.maximum.at(
        far, owner, np.hypot(coords[:, 0] - index.x[owner], coords[:, 1] - index.y[owner])
    )
    np.testing.assert_allclose(index.outer, far)


def test_grouped_union_matches_a_loop():
    rng = np.random.default_rng(5)
    geoms = shapely.buffer(shapely.points(rng.uniform(0, 100, (200, 2))), rng.uniform(1, 10, 200))
    groups = rng.choice([3, 8, 8, 20, 20, 20, 42, 42, 42, 42, 42, 7], 200)
    keys, unions = union_by_group(geoms, groups)
    assert keys.tolist() == sorted(set(groups.tolist()))
    for key, union in zip(keys, unions, strict=True):
        assert (
            union.equals(shapely.union_all(geoms[groups == key]))
            or shapely.area(
                shapely.symmetric_difference(union, shapely.union_all(geoms[groups == key]))
            )
            < 1e-9
        )


def _open_overlap_pairs_by_brute_force(bounds):
    """(later, earlier) pairs whose envelopes overlap with area, by comparing every pair."""
    n = len(bounds)
    later, earlier = np.triu_indices(n, k=1)[::-1]
    a, b = bounds[later], bounds[earlier]
    meet = (a[:, 0] < b[:, 2]) & (b[:, 0] < a[:, 2]) & (a[:, 1] < b[:, 3]) & (b[:, 1] < a[:, 3])
    meet &= np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    later, earlier = later[meet], earlier[meet]
    order = np.lexsort((earlier, later))
    return later[order], earlier[order]


@pytest.mark.parametrize("seed", range(8))
def test_envelope_overlaps_match_every_pair_compared(seed):
    """The grid search for overlapping envelopes finds exactly the pairs a full comparison finds:
    touching neighbours left out; large, degenerate, empty and missing geometries included."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 1500))
    if seed % 2 == 0:  # a parcel grid whose neighbours touch, some cells shifted onto others
        k = int(np.ceil(np.sqrt(n)))
        i = np.arange(n)
        x, y = (i % k) * 30.0, (i // k) * 30.0
        shift = np.where(rng.random(n) < 0.1, rng.uniform(-20, 20, n), 0.0)
        geoms = shapely.box(x + shift, y, x + 30 + shift, y + 30)
    else:
        x, y = rng.uniform(0, 800, n), np.round(rng.uniform(0, 800, n), 1)
        w, h = rng.choice([0.0, 4, 10, 25], n), rng.choice([0.0, 10, 25], n)
        geoms = shapely.box(x, y, x + w, y + h)
    big = rng.random(n) < 0.03  # a few envelopes far larger than the rest
    geoms[big] = shapely.box(
        x[big], y[big], x[big] + rng.uniform(100, 900, big.sum()), y[big] + 300
    )
    geoms[rng.random(n) < 0.02] = None
    geoms[rng.random(n) < 0.02] = shapely.Polygon()
    geoms[rng.random(n) < 0.02] = shapely.LineString([(0, 0), (400, 400)])
    bounds = shapely.bounds(geoms)
    expected = _open_overlap_pairs_by_brute_force(bounds)
    found = envelopes.envelope_overlaps(geoms, bounds)
    assert found[0].tolist() == expected[0].tolist()
    assert found[1].tolist() == expected[1].tolist()
    tree = envelopes.envelope_overlaps_tree(geoms, bounds)
    assert tree[0].tolist() == expected[0].tolist()
    assert tree[1].tolist() == expected[1].tolist()


def test_envelope_overlaps_sparse_or_crowded_layers_fall_back_to_the_tree():
    # two far-apart clusters (a sparse grid) and many copies of one polygon (a crowded cell)
    far = np.array(
        [
            shapely.box(0, 0, 1, 1),
            shapely.box(0.5, 0.5, 2, 2),
            shapely.box(1e7, 1e7, 1e7 + 1, 1e7 + 1),
        ]
        * 3,
        dtype=object,
    )
    same = np.array([shapely.box(0, 0, 1, 1)] * 300, dtype=object)
    for geoms in (far, same):
        bounds = shapely.bounds(geoms)
        expected = _open_overlap_pairs_by_brute_force(bounds)
        found = envelopes.envelope_overlaps(geoms, bounds)
        assert found[0].tolist() == expected[0].tolist()
        assert found[1].tolist() == expected[1].tolist()


def test_parcel_grid_with_overlaps_and_a_large_polygon_matches_the_naive_overlay():
    """Many touching parcels (the grid search), some overlapping ones and one polygon far
    larger than the rest (matched through the tree): land counted once, exact coverage."""
    rng = np.random.default_rng(21)
    k = 40
    i = np.arange(k * k)
    x, y = (i % k) * 40.0, (i // k) * 40.0
    blocks = [box(a, b, a + 40, b + 40) for a, b in zip(x, y, strict=True)]
    blocks += [box(a + 15, b + 10, a + 70, b + 45) for a, b in rng.uniform(0, 1500, (30, 2))]
    blocks += [box(300, 300, 1300, 700), shapely.Polygon()]
    residential = layer(blocks)
    parks = layer([box(a, b, a + 90, b + 70) for a, b in rng.uniform(0, 1600, (6, 2))])
    result = cov.compute_coverage(parks, residential)
    ok = result.parks["qualifies"].to_numpy()
    covered, total = oracle(_geoms(parks)[ok], result.parks["radius_m"].to_numpy()[ok], blocks[:-1])
    assert result.covered_area_m2 == pytest.approx(covered, rel=1e-9)
    assert result.residential_area_m2 == pytest.approx(total, rel=1e-9)
    assert 0.05 < result.ratio < 0.95
    pieces = _geoms(result.residential)
    assert shapely.area(shapely.union_all(pieces)) == pytest.approx(
        shapely.area(pieces).sum(), rel=1e-9
    )
    assert result.blind_spots["area_m2"].sum() + result.covered_area_m2 == pytest.approx(
        total, rel=1e-9
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_land_reach_pairs_match_the_predicates(seed):
    rng = np.random.default_rng(seed)
    land = np.asarray(_random_blocks(rng, 300, 2000), dtype=object)
    centres = rng.uniform(0, 2000, (12, 2)) + np.array([X0, Y0])
    reach = shapely.buffer(shapely.points(centres), 250)
    index = overlay.ReachIndex.build(reach).private()
    meets = shapely.intersects(reach[None, :], land[:, None])
    covers = shapely.covers(reach[None, :], land[:, None])
    every = overlay.land_reach_pairs(land, index, first_whole_only=False)
    assert list(zip(every.land, every.reach, strict=True)) == sorted(
        zip(*np.nonzero(meets), strict=True)
    )
    assert every.whole.tolist() == covers[every.land, every.reach].tolist()
    first = overlay.land_reach_pairs(land, index)
    assert (np.diff(first.land) >= 0).all()
    whole_land = first.land[first.whole]
    assert sorted(whole_land.tolist()) == np.flatnonzero(covers.any(axis=1)).tolist()
    assert covers[whole_land, first.reach[first.whole]].all()
    part = ~first.whole
    expected = [
        (a, b) for a, b in zip(*np.nonzero(meets & ~covers.any(axis=1)[:, None]), strict=True)
    ]
    assert list(zip(first.land[part], first.reach[part], strict=True)) == expected


# ------------------------------------------------------------------ reporting


def _small_result(**kwargs):
    parks = layer([box(0, 0, 100, 100)], park_id=["p1"], name=["东园"], park_class=["G12"])
    residential = layer(
        [box(200, 0, 400, 100), box(550, 20, 650, 80)],
        district_id=["d1", "d2"],
        households=[10.0, 20.0],
    )
    return cov.compute_coverage(parks, residential, **kwargs)


def test_format_coverage_table_in_both_languages():
    result = _small_result(weight="households")
    zh = present.format_coverage_table(result, lang="zh")
    for text in (
        "公园绿地服务半径覆盖率",
        "公园绿化活动场地服务半径覆盖率",
        "全市",
        "tijian-2021",
        "亩",
        "d1",
        "d2",
    ):
        assert text in zh
    assert f"{100 * result.ratio:.2f}%" in zh
    en = present.format_coverage_table(result, lang="en")
    assert "city" in en and "park green-space service-radius coverage ratio" in en
    with pytest.raises(ValueError, match="lang"):
        present.format_coverage_table(result, lang="fr")


def test_result_to_dict_is_json_ready():
    data = json.loads(json.dumps(_small_result().to_dict()))
    assert 0 <= data["coverage_ratio"] <= 1
    assert data["method"] == "buffer"
    assert data["rules"]["name"] == "tijian-2021"
    assert data["parameters"]["buffer_quad_segs"] == 16
    assert [d["district_id"] for d in data["districts"]] == ["d1", "d2"]


def test_coverage_layers_for_writing(tmp_path):
    layers = cov.coverage_layers(_small_result())
    assert set(layers) == {
        "coverage_residential",
        "blind_spots",
        "service_areas",
        "districts",
        "parks",
        "summary",
    }
    from gisrenew.io import write_results

    written = write_results(tmp_path / "out.gpkg", layers)
    assert set(pyogrio.list_layers(written[0])[:, 0]) == set(layers)


def test_format_coverage_comparison_shows_both_and_the_difference():
    wide = _small_result()
    narrow = _small_result(rules=flat_rules(250, 0))  # stands in for a walking result
    text = present.format_coverage_comparison(wide, narrow, lang="en")
    diff = 100 * (narrow.ratio - wide.ratio)
    assert f"{100 * wide.ratio:.2f}%" in text and f"{100 * narrow.ratio:.2f}%" in text
    assert f"{diff:+.2f} pp" in text
    data = cov.comparison_dict(wide, narrow)
    assert data["difference"]["coverage_ratio"] == pytest.approx(narrow.ratio - wide.ratio)
    assert [d["district_id"] for d in data["districts"]] == ["d1", "d2"]


def test_format_contribution_table():
    parks = layer(
        [box(0, 0, 50, 50), box(500, 0, 550, 50), box(100, 0, 150, 50)], park_id=["P1", "P2", "P3"]
    )
    strip = layer([box(-1000, 10, 2000, 40)])
    table = cov.park_contribution(parks, strip)
    text = present.format_contribution_table(table, lang="en")
    assert "unique" in text and "P1" in text
    assert table.set_index("park_id").loc["P3", "redundant"]  # inside P1 ∪ P2's reach
    assert "redundant): 1 — P3" in text


def test_service_area_union():
    areas = cov.service_areas(layer([box(0, 0, 100, 100), box(300, 0, 400, 100)]))
    union = cov.service_area_union(areas)
    assert union.area == pytest.approx(shapely.union_all(areas.geometry.to_numpy()).area)
    assert union.area < areas.area.sum()


# ------------------------------------------------------------------ command line


@pytest.fixture
def files(tmp_path):
    parks = layer(
        [box(0, 0, 100, 100), box(3000, 0, 3030, 30)], park_id=["p1", "p2"], name=["东园", "小园"]
    )
    residential = layer(
        [box(200, 0, 400, 100), box(550, 20, 650, 80), box(2000, 0, 2100, 100)],
        residential_id=["a", "b", "c"],
        households=[10.0, 60.0, 40.0],
        land_use=["R21", "R22", "R2"],
    )
    districts = layer(
        [box(-500, -500, 600, 500), box(600, -500, 2500, 500)],
        district_id=["w", "e"],
        name=["西", "东"],
    )
    boundary = layer([box(-500, -500, 2500, 500)])
    paths = {}
    for name, frame in [
        ("parks", parks),
        ("residential", residential),
        ("districts", districts),
        ("boundary", boundary),
    ]:
        paths[name] = tmp_path / f"{name}.gpkg"
        frame.to_file(paths[name], driver="GPKG")
    return paths


def _run(args):
    result = CliRunner().invoke(main, ["coverage", *map(str, args)])
    return result


def test_cli_json(files):
    run = _run(["--parks", files["parks"], "--residential", files["residential"],
                "--districts", files["districts"], "--weight", "households", "--json"])  # fmt: skip
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["coverage_ratio"] == pytest.approx(23 / 36)
    assert data["covered_area_m2"] == pytest.approx(23_000)
    assert data["residential_area_m2"] == pytest.approx(36_000)
    assert data["method"] == "buffer"
    assert data["rules"]["name"] == "tijian-2021"
    assert [d["district_id"] for d in data["districts"]] == ["w", "e"]
    assert data["weight"]["ratio"] == pytest.approx(40 / 110)


def test_cli_table(files):
    run = _run(
        [
            "--parks",
            files["parks"],
            "--residential",
            files["residential"],
            "--districts",
            files["districts"],
        ]
    )
    assert run.exit_code == 0, run.output
    assert "公园绿地服务半径覆盖率" in run.output and "公园绿化活动场地服务半径覆盖率" in run.output
    assert "全市" in run.output and "西 (w)" in run.output
    assert f"{100 * 23 / 36:.2f}%" in run.output


def test_cli_flat_rule_and_boundary(files):
    run = _run(["--parks", files["parks"], "--residential", files["residential"],
                "--boundary", files["boundary"], "--radius", "520", "--min-park-area", "500",
                "--json"])  # fmt: skip
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["rules"]["name"] == "flat"
    assert data["parks"]["qualifying"] == 2
    assert data["covered_area_m2"] == pytest.approx(20_000 + 60 * 70)  # b is covered to x = 620


def test_cli_usage_errors(files):
    run = _run(
        ["--parks", files["parks"], "--residential", files["residential"], "--min-park-area", "500"]
    )
    assert run.exit_code == 2
    assert "--radius" in run.output
    run = _run(
        ["--parks", files["parks"], "--residential", files["residential"], "--walk-minutes", "10"]
    )
    assert run.exit_code == 2


def test_cli_rules_file_and_codes(files, tmp_path):
    rules = tmp_path / "r.toml"
    rules.write_text(
        'name = "x"\nversion = "1"\n[[tiers]]\nmin_area_m2 = 100\nradius_m = 200\n',
        encoding="utf-8",
    )
    run = _run(["--parks", files["parks"], "--residential", files["residential"], "--rules", rules,
                "--residential-codes", "R21", "--json"])  # fmt: skip
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["rules"]["name"] == "x"
    assert data["residential_area_m2"] == pytest.approx(20_000)  # only the R21 block counts
    assert data["coverage_ratio"] == pytest.approx(0.5)  # x ∈ [200, 400] covered to x = 100 + 200


def test_cli_no_residential_land_is_exit_1(files, tmp_path):
    far = tmp_path / "far.gpkg"
    layer([box(90_000, 0, 91_000, 1000)]).to_file(far, driver="GPKG")
    run = _run(
        ["--parks", files["parks"], "--residential", files["residential"], "--boundary", far]
    )
    assert run.exit_code == 1
    assert "no residential land inside the built-up boundary" in run.output


def test_cli_out_files(files, tmp_path):
    out = tmp_path / "result.gpkg"
    run = _run(["--parks", files["parks"], "--residential", files["residential"], "--out", out])
    assert run.exit_code == 0, run.output
    names = set(pyogrio.list_layers(out)[:, 0])
    assert {"coverage_residential", "blind_spots", "service_areas"} <= names
    blind = gpd.read_file(out, layer="blind_spots")
    assert blind["area_m2"].sum() == pytest.approx(13_000)
    csv = tmp_path / "result.csv"
    run = _run(["--parks", files["parks"], "--residential", files["residential"], "--out", csv])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(tmp_path / "result_districts.csv", encoding="utf-8-sig")
    assert table is not None
    assert (tmp_path / "result_coverage_residential.csv").exists()


def test_cli_contribution(files, tmp_path):
    out = tmp_path / "c.xlsx"
    run = _run(["--parks", files["parks"], "--residential", files["residential"],
                "--contribution", "--json", "--out", out])  # fmt: skip
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    rows = {r["park_id"]: r for r in data["park_contribution"]}
    assert rows["p1"]["unique_covered_m2"] == pytest.approx(23_000)  # the only qualifying park
    assert rows["p2"]["qualifies"] is False
    assert "公园独有覆盖" in pd.ExcelFile(out).sheet_names  # park_contribution, in Chinese
    run = _run(["--parks", files["parks"], "--residential", files["residential"], "--contribution"])
    assert run.exit_code == 0 and "公园独有覆盖" in run.output


def test_cli_project_settings(files, tmp_path):
    from gisrenew.project import Project

    folder = tmp_path / "proj"
    Project.create(
        folder, {k: files[k] for k in ("parks", "residential", "districts")}, rules="gbt51346-2019"
    )
    config = folder / "gisrenew.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[coverage]\nweight = "households"\n',
        encoding="utf-8",
    )
    run = _run(["--project", folder, "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["rules"]["name"] == "gbt51346-2019"  # the project's rule set
    assert data["weight"]["column"] == "households"  # from [coverage]
    assert [d["district_id"] for d in data["districts"]] == ["w", "e"]
    config.write_text(config.read_text(encoding="utf-8") + "radius = 3\n", encoding="utf-8")
    run = _run(["--project", folder])
    assert run.exit_code == 1
    assert "unknown key(s) in [coverage]" in run.output


def test_cli_both_methods(files, tmp_path):
    pytest.importorskip("gisrenew.network")
    lines = [
        shapely.LineString([(X0 - 1000, Y0 + 110), (X0 + 3500, Y0 + 110)]),
        shapely.LineString([(X0 + 150, Y0 - 500), (X0 + 150, Y0 + 500)]),
        shapely.LineString([(X0 + 600, Y0 - 500), (X0 + 600, Y0 + 500)]),
    ]
    roads = gpd.GeoDataFrame({"road_id": ["1", "2", "3"]}, geometry=lines, crs=GK)
    path = tmp_path / "roads.gpkg"
    roads.to_file(path, driver="GPKG")
    run = _run(["--parks", files["parks"], "--residential", files["residential"],
                "--districts", files["districts"], "--method", "both", "--roads", path,
                "--json"])  # fmt: skip
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["method"] == "both"
    assert data["buffer"]["coverage_ratio"] == pytest.approx(23 / 36)
    assert 0 <= data["network"]["coverage_ratio"] <= 1
    assert [d["district_id"] for d in data["districts"]] == ["w", "e"]
    for d in data["districts"]:
        assert d["difference"] == pytest.approx(d["network_ratio"] - d["buffer_ratio"])
    run = _run(
        [
            "--parks",
            files["parks"],
            "--residential",
            files["residential"],
            "--method",
            "both",
            "--roads",
            path,
            "--lang",
            "en",
        ]
    )
    assert run.exit_code == 0, run.output
    assert "pp" in run.output


# ------------------------------------------------------------------ the PostGIS fixture


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_postgis_fixture_fails_in_ci_and_skips_elsewhere(monkeypatch, tmp_path, ci, outcome):
    import postgis

    monkeypatch.setattr(postgis, "PG_BIN", tmp_path / "no-postgres-here")
    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("GISRENEW_TEST_PG_DSN", raising=False)
    with pytest.raises(outcome, match="PostGIS"):
        postgis.start_or_skip(postgis.PostgisCluster())


def test_slivers_are_counted_not_listed_and_the_threshold_is_a_setting(tmp_path):
    """Issue #14 item 6: a 5 m² strip left between a circle and a polygon is not a blind spot
    worth a planner's time; the figures keep it, the list and the text count it apart."""
    from gisrenew.project import Project

    parks = gpd.GeoDataFrame({"park_id": ["p"]}, geometry=[box(0, 0, 100, 100)], crs=GK)
    homes = gpd.GeoDataFrame(
        {"residential_id": ["thin", "far"]},
        # the first reaches 0.05 m beyond the 500 m circle: a 5 m² sliver
        geometry=[box(-500.05, 0, 0, 100), box(700, 0, 800, 100)],
        crs=GK,
    )
    folder = tmp_path / "p"
    Project.create(folder, {"parks": parks, "residential": homes}, rules="garden-city-500")
    run = _run(["--project", folder, "--json"])
    assert run.exit_code == 0, run.output
    blind = json.loads(run.stdout)["blind_spots"]
    assert blind["count"] == 1 and blind["area_m2"] == pytest.approx(10_000)
    assert blind["slivers"] == 1 and blind["slivers_area_m2"] == pytest.approx(5.0, rel=1e-6)
    text = _run(["--project", folder]).output
    assert "服务盲区: 1 块" in text and "另有 1 处小于 10 m² 的碎片" in text
    config = folder / "gisrenew.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[coverage]\nsliver_m2 = 0\n")
    blind = json.loads(_run(["--project", folder, "--json"]).stdout)["blind_spots"]
    assert blind["count"] == 2 and blind["slivers"] == 0
