"""Tests of what the engines share: geometry kernels, io.conformed, one signing rule, one
blind-spot change, one gain implementation.

Each case where two former copies of a kernel disagreed is pinned down here by hand.
"""

from __future__ import annotations

import doctest
import importlib
import json
import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from browser import plan_indicators
from conftest import GK, X0, Y0, square

import gisrenew.geometry
from gisrenew import coverage, plans
from gisrenew.errors import CRSError, SchemaError
from gisrenew.geometry import geometry_array, polygonal_part, union_by_group
from gisrenew.io import conform, conformed
from gisrenew.project import Project
from gisrenew.recompute import recompute
from gisrenew.webmap import map_html, plans_map

# ------------------------------------------------------------------ geometry kernels


def test_geometry_examples_run_as_doctests():
    result = doctest.testmod(gisrenew.geometry)
    assert result.attempted >= 6 and result.failed == 0


@pytest.mark.parametrize(
    "module",
    [
        "gisrenew.coverage.columns",
        "gisrenew.coverage.parks",
        "gisrenew.coverage.overlay",
        "gisrenew.network.coverage",
        "gisrenew.network.graph",
        "gisrenew.plans",
    ],
)
def test_engine_examples_run_as_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted >= 1 and result.failed == 0


def test_polygonal_part_of_a_line_is_an_empty_polygon():
    # the coverage copy kept a line (from polygons that only touch) as a line
    touching = shapely.intersection(shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1))
    assert touching.geom_type == "LineString"
    out = polygonal_part(np.array([touching, None], dtype=object))
    assert out[0].geom_type == "Polygon" and out[0].is_empty
    assert out[1] is None  # missing stays missing (the plans copy made it an empty polygon)


def test_polygonal_part_merges_parts_that_share_an_edge():
    # the plans and siting copies collected the parts into a MultiPolygon: invalid here
    mixed = shapely.GeometryCollection(
        [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.Point(5, 5)]
    )
    assert not shapely.multipolygons(shapely.get_parts(mixed)[:2]).is_valid
    out = polygonal_part([mixed])[0]
    assert out.is_valid and out.geom_type == "Polygon" and out.area == pytest.approx(2.0)
    polygon = shapely.box(0, 0, 3, 3)
    assert polygonal_part([polygon])[0] is polygon  # polygons pass through untouched


def test_union_by_group_returns_only_groups_with_members():
    # the plans copy took group codes 0..n-1 and gave an empty collection for a code without
    # members; one size class per power of two keeps a big group from padding the small ones
    geoms = np.array([shapely.box(i, 0, i + 1, 1) for i in range(40)], dtype=object)
    groups = np.array([2] * 37 + [0, 5, 5])
    keys, unions = union_by_group(geoms, groups)
    assert keys.tolist() == [0, 2, 5]
    assert unions[0] is geoms[37]  # a group of one is its member itself
    assert unions[1].area == pytest.approx(37.0) and unions[1].geom_type == "Polygon"
    assert unions[2].area == pytest.approx(2.0)


def test_geometry_array_of_frames_series_and_single_geometries():
    frame = gpd.GeoDataFrame(geometry=[square(0, 0, 1), square(5, 0, 1)], crs=GK)
    assert geometry_array(frame).tolist() == list(frame.geometry)
    assert geometry_array(frame.geometry).dtype == object
    assert len(geometry_array(square(0, 0, 1))) == 1


# ------------------------------------------------------------------ io.conformed


def _parks():
    return gpd.GeoDataFrame(geometry=[square(0, 0, 100), square(400, 0, 60)], crs=GK)


def test_conformed_uses_a_conformed_frame_as_it_is(caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("gisrenew"), "propagate", True)
    parks = conform(_parks(), "parks")
    assert conformed(parks, "parks") is parks
    assert conformed(parks, "parks", crs=GK) is parks
    with caplog.at_level(logging.INFO, logger="gisrenew"):
        moved = conformed(parks, "parks", crs="EPSG:4548")
    assert moved.crs.to_epsg() == 4548 and "reprojecting" in caplog.text
    assert conformed(None, "parks") is None
    raw = conformed(_parks(), "parks")
    assert raw["park_id"].tolist() == ["1", "2"] and raw.attrs["kind"] == "parks"


def test_conformed_refuses_what_is_not_a_layer():
    with pytest.raises(SchemaError, match="`parks` must be a GeoDataFrame"):
        conformed(pd.DataFrame({"a": [1]}), "parks")
    with pytest.raises(CRSError, match=r"`parks` has no coordinate reference system \(CRS\)"):
        conformed(_parks().set_crs(None, allow_override=True), "parks")


def test_a_conformed_layer_moved_to_degrees_is_conformed_again():
    # the coverage copy passed such a frame through, and compute_coverage refused it
    residential = conform(
        gpd.GeoDataFrame(geometry=[square(150, 0, 100), square(900, 0, 100)], crs=GK),
        "residential",
    )
    parks = _parks()
    reference = coverage.compute_coverage(parks, residential)
    in_degrees = residential.to_crs("EPSG:4490")
    assert in_degrees.attrs.get("kind") == "residential"
    moved = coverage.compute_coverage(parks, in_degrees)
    assert moved.residential.crs.is_projected
    assert moved.covered_area_m2 == pytest.approx(reference.covered_area_m2, rel=1e-6)


# ------------------------------------------------------------------ signing status


def _plan_and_parcels(**columns):
    plan = gpd.GeoDataFrame({"plan_id": ["P1"]}, geometry=[square(0, 0, 100)], crs=GK)
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["a", "b"], **columns},
        geometry=[square(0, 0, 50), square(50, 0, 50)],
        crs=GK,
    )
    return plan, parcels


def _parcel_features(page: str) -> list[dict]:
    """The affected-parcel features (style index ``s``, popup values ``v``) of a plans map."""
    name = re.search(r'window\.gisrenew\.layers\["affected_parcels"\] = (\w+);', page)
    start = page.index(f"var {name.group(1)} = L.geoJSON(") + len(
        f"var {name.group(1)} = L.geoJSON("
    )
    data, _ = json.JSONDecoder().raw_decode(page, start)
    return [f["properties"] for f in data["features"]]


def test_without_a_signing_column_table_and_map_both_say_unknown():
    plan, parcels = _plan_and_parcels(households_residential=[10, 4])
    summary = plans.plan_summary(plan, parcels)
    assert summary["signing_status"].tolist() == ["unknown"]
    layer = plans.affected_parcel_layer(plan, parcels)
    status = plans.signing_status(layer)
    assert status["signing_status"].tolist() == ["unknown", "unknown"]
    assert status["signing_status_zh"].tolist() == ["签约情况未知"] * 2
    assert status["households_signed"].isna().all()
    # the map paints them as unknown (not as "not started"), with the same label
    page = map_html(plans_map(plan_indicators(plan, parcels), basemap="none", lang="zh"))
    features = _parcel_features(page)
    # styles: signed, signing, not started, no households, unknown
    assert [f["s"] for f in features] == [4, 4]
    assert all(f["v"][-1] == "签约情况未知" for f in features)


def test_with_a_signing_column_table_and_map_agree():
    plan, parcels = _plan_and_parcels(households_residential=[10, 4], households_signed=[10, 0])
    status = plans.signing_status(plans.affected_parcel_layer(plan, parcels))
    assert status["signing_status"].tolist() == ["signed", "not_started"]
    assert plans.plan_summary(plan, parcels)["signing_status"].tolist() == ["signing"]
    page = map_html(plans_map(plan_indicators(plan, parcels), basemap="none", lang="zh"))
    features = _parcel_features(page)
    assert [f["s"] for f in features] == [0, 2]
    assert [f["v"][-1] for f in features] == ["已完成签约", "未启动"]


def test_plan_indicators_carry_each_affected_parcels_signing_status():
    # a: 10 households, all signed; b: 4 households, 6 "signed" (capped at 4, with a warning)
    plan, parcels = _plan_and_parcels(households_residential=[10, 4], households_signed=[10, 6])
    with pytest.warns(UserWarning, match="capped"):
        layer = plan_indicators(plan, parcels).affected_parcels
    assert layer["parcel_id"].tolist() == ["a", "b"] and layer["plan_ids"].tolist() == ["P1", "P1"]
    assert layer["households_total"].tolist() == [10, 4]
    assert layer["households_signed"].tolist() == [10, 4]
    assert layer["signing_status"].tolist() == ["signed", "signed"]
    assert layer["signing_status_zh"].tolist() == ["已完成签约", "已完成签约"]
    assert layer.geometry.area.tolist() == pytest.approx([2500.0, 2500.0])  # 50 m × 50 m each


# ------------------------------------------------------------------ blind spots closed/opened

_CRS = "EPSG:4549"


def _strip_city():
    """One residential strip 2000 × 100 m (200 households); park A on its west end.

    A (100 × 150 m, 500 m) covers x 0–500 of the strip; B, the same on the east end,
    covers x 1500–2000. The buffers' sides across the strip are straight lines.
    """
    residential = gpd.GeoDataFrame(
        {"residential_id": ["r1"], "households": [200.0]},
        geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 100)],
        crs=_CRS,
    )
    park_a = shapely.box(X0 - 100, Y0 - 25, X0, Y0 + 125)
    park_b = shapely.box(X0 + 2000, Y0 - 25, X0 + 2100, Y0 + 125)
    return residential, park_a, park_b


def test_one_polygon_closing_and_opening_blind_spots_in_one_change(tmp_path):
    residential, park_a, park_b = _strip_city()
    parks = gpd.GeoDataFrame({"park_id": ["A"]}, geometry=[park_a], crs=_CRS)
    before = coverage.compute_coverage(parks, residential, weight="households")
    after_parks = gpd.GeoDataFrame({"park_id": ["B"]}, geometry=[park_b], crs=_CRS)
    after = coverage.compute_coverage(after_parks, residential, weight="households")
    assert before.covered_area_m2 == pytest.approx(after.covered_area_m2)  # 500 × 100 each
    closed = coverage.closed_blind_spots(before, after)
    opened = coverage.opened_blind_spots(before, after)
    assert closed["area_m2"].tolist() == pytest.approx([50_000.0])  # x 1500–2000, newly covered
    assert opened["area_m2"].tolist() == pytest.approx([50_000.0])  # x 0–500, lost
    assert closed["households"].tolist() == pytest.approx([50.0])
    assert not closed["fully_closed"].iloc[0]
    assert closed.geometry.iloc[0].bounds == pytest.approx((X0 + 1500, Y0, X0 + 2000, Y0 + 100))
    # the recompute report (remove A, add B in one run) counts the same land as the map
    project = Project.create(
        tmp_path / "strip",
        {"parks": parks, "residential": residential},
        working_crs=_CRS,
        rules="tijian-2021",
    )
    report = recompute(project, add_parks=[after_parks], remove_parks=["A"]).report
    blind = report["blind_spots_closed"]
    assert blind["closed_count"] == 1 and blind["fully_closed_count"] == 0
    assert blind["closed_area_m2"] == pytest.approx(50_000.0)
    assert blind["opened_area_m2"] == pytest.approx(50_000.0)
    assert blind["closed_households"] == pytest.approx(50.0)
    assert blind["rows"][0]["closed_m2"] == pytest.approx(50_000.0)
