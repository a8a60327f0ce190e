"""Tests for gisrenew.plans and ``gisrenew affected``: hand-checkable squares + a shapely oracle."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import GK, X0, Y0, square

from gisrenew import plans as P
from gisrenew import present
from gisrenew.errors import CRSError, SchemaError
from gisrenew.geometry import polygonal_part
from gisrenew.present.tables import display_width
from gisrenew.units import M2_PER_MU


def plans_frame(geoms, ids=None, **columns) -> gpd.GeoDataFrame:
    ids = ids or [f"P{i + 1}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"plan_id": ids, **columns}, geometry=list(geoms), crs=GK)


def parcels_frame(geoms, ids=None, **columns) -> gpd.GeoDataFrame:
    ids = ids or [f"a{i + 1}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"parcel_id": ids, **columns}, geometry=list(geoms), crs=GK)


def pair_table(pairs) -> dict[tuple[str, str], float]:
    return {
        (p, q): a
        for p, q, a in zip(pairs["plan_id"], pairs["parcel_id"], pairs["overlap_m2"], strict=True)
    }


# ----------------------------------------------------------------- affected_parcels


def test_two_squares_overlap_by_known_area():
    # plan 100 × 100; parcel 100 × 60 shifted 60 m right, 20 m up: overlap 40 × 60 = 2400 m²
    plans = plans_frame([square(0, 0, 100)], name=["古松弄"])
    parcels = parcels_frame([shapely.box(X0 + 60, Y0 + 20, X0 + 160, Y0 + 80)], name=["一号地块"])
    pairs = P.affected_parcels(plans, parcels)
    assert len(pairs) == 1
    row = pairs.iloc[0]
    assert (row["plan_id"], row["parcel_id"]) == ("P1", "a1")
    assert row["plan_name"] == "古松弄" and row["parcel_name"] == "一号地块"
    assert row["overlap_m2"] == pytest.approx(2400.0)
    assert row["overlap_mu"] == pytest.approx(2400.0 * 15 / 10000)
    assert row["parcel_area_m2"] == pytest.approx(6000.0)
    assert row["parcel_share"] == pytest.approx(0.4)
    assert row["plan_share"] == pytest.approx(0.24)
    assert not row["shared"] and row["plan_count"] == 1
    # the geometry is the overlap, in the plans' CRS
    assert pairs.crs == plans.crs
    assert pairs.geometry.iloc[0].equals(shapely.box(X0 + 60, Y0 + 20, X0 + 100, Y0 + 80))
    whole = P.affected_parcels(plans, parcels, geometry="parcel")
    assert whole.geometry.iloc[0].equals(parcels.geometry.iloc[0])


def test_parcel_split_between_two_plans_is_listed_twice_and_counted_once():
    plans = plans_frame([square(0, 0, 100), square(100, 0, 100)])
    # a2 straddles the two plans: 30 m in P1, 70 m in P2
    parcels = parcels_frame(
        [square(0, 0, 50), shapely.box(X0 + 70, Y0, X0 + 170, Y0 + 100)],
        households_residential=[10, 40],
        households_signed=[10, 20],
    )
    pairs = P.affected_parcels(plans, parcels)
    assert pair_table(pairs) == pytest.approx(
        {("P1", "a1"): 2500.0, ("P1", "a2"): 3000.0, ("P2", "a2"): 7000.0}
    )
    shared = pairs.set_index(["plan_id", "parcel_id"])["shared"]
    assert shared.to_dict() == {("P1", "a1"): False, ("P1", "a2"): True, ("P2", "a2"): True}
    summary = P.plan_summary(plans, pairs).set_index("plan_id")
    assert summary["shared_parcels"].tolist() == [1, 1]
    assert summary["households_residential"].tolist() == [50, 40]  # whole rule: in both plans
    totals = P.plan_totals(plans, pairs)
    assert totals["parcel_count"] == 2
    assert totals["shared_parcels"] == 1
    assert totals["households_residential"] == 50  # a2 once, not 90
    assert totals["signed"] == 30
    assert totals["affected_area_m2"] == pytest.approx(2500.0 + 10000.0)
    assert totals["area_m2"] == pytest.approx(20000.0)
    layer = P.affected_parcel_layer(plans, parcels, pairs=pairs).set_index("parcel_id")
    assert layer.loc["a2", "plan_ids"] == "P1;P2"
    assert layer.loc["a2", "affected_area_m2"] == pytest.approx(10000.0)
    assert layer.loc["a2"].geometry.equals(parcels.geometry.iloc[1])


def test_overlapping_plans_count_shared_land_once_in_totals():
    # two plans overlapping each other; one parcel inside the overlap of both
    plans = plans_frame([square(0, 0, 100), square(50, 0, 100)])
    parcels = parcels_frame([square(60, 10, 20)], households_residential=[8])
    for geometry in ("overlap", "parcel"):
        pairs = P.affected_parcels(plans, parcels, geometry=geometry)
        totals = P.plan_totals(plans, pairs, household_rule="area_share")
        assert totals["affected_area_m2"] == pytest.approx(400.0)
        assert totals["households_residential"] == pytest.approx(8.0)
        assert totals["area_m2"] == pytest.approx(15000.0)  # union of the plans


def test_sliver_below_either_threshold_is_left_out():
    plans = plans_frame([square(0, 0, 100)])
    parcels = parcels_frame(
        [
            shapely.box(X0 + 99.995, Y0, X0 + 200, Y0 + 100),  # 0.5 m² sliver of a 10 000 m² parcel
            shapely.box(X0 + 99.9, Y0 - 900, X0 + 1100, Y0 + 100),  # 10 m², share 1e-5
            shapely.box(
                X0 + 0, Y0 + 99.5, X0 + 1, Y0 + 100.5
            ),  # 1 m² total: 0.5 m² inside, share 0.5
        ]
    )
    default = P.affected_parcels(plans, parcels)
    assert default.empty
    # the share threshold alone excludes a2 (10 m² ≥ 1 m² but share 1e-5 < 1 %)
    only_area = P.affected_parcels(plans, parcels, min_overlap_share=0.0)
    assert set(only_area["parcel_id"]) == {"a2"}
    # the area threshold alone excludes a1 and a3
    only_share = P.affected_parcels(plans, parcels, min_overlap_m2=0.0, min_overlap_share=0.4)
    assert set(only_share["parcel_id"]) == {"a3"}
    none = P.affected_parcels(plans, parcels, min_overlap_m2=0.0, min_overlap_share=0.0)
    assert pair_table(none) == pytest.approx(
        {("P1", "a1"): 0.5, ("P1", "a2"): 10.0, ("P1", "a3"): 0.5}
    )


def test_touching_parcel_is_never_affected():
    plans = plans_frame([square(0, 0, 100)])
    parcels = parcels_frame([square(100, 0, 100), square(100, 100, 50), square(10, 10, 10)])
    pairs = P.affected_parcels(plans, parcels, min_overlap_m2=0.0, min_overlap_share=0.0)
    assert pairs["parcel_id"].tolist() == ["a3"]


@pytest.mark.parametrize("seed", [1, 2])
def test_overlap_areas_match_a_plain_shapely_loop(seed):
    rng = np.random.default_rng(seed)

    def blob(cx, cy, r, n):
        # star-shaped (often non-convex) polygon
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.3 * r, r, n)
        return shapely.Polygon(
            np.c_[X0 + cx + radii * np.cos(angles), Y0 + cy + radii * np.sin(angles)]
        )

    plan_geoms = [blob(*rng.uniform(0, 1000, 2), rng.uniform(80, 250), 12) for _ in range(15)]
    parcel_geoms = [blob(*rng.uniform(0, 1000, 2), rng.uniform(10, 60), 7) for _ in range(300)]
    plans = plans_frame(plan_geoms)
    parcels = parcels_frame(parcel_geoms)
    plans_c = plans.assign(geometry=shapely.make_valid(plans.geometry.to_numpy()))
    parcels_c = parcels.assign(geometry=shapely.make_valid(parcels.geometry.to_numpy()))
    pairs = P.affected_parcels(plans, parcels, min_overlap_m2=0.0, min_overlap_share=0.0)
    expected = {}
    for _, plan in plans_c.iterrows():
        for _, parcel in parcels_c.iterrows():
            area = plan.geometry.intersection(parcel.geometry).area
            if area > 1e-9:
                expected[(plan["plan_id"], parcel["parcel_id"])] = area
    got = pair_table(pairs)
    assert set(got) == set(expected)
    assert len(expected) > 20
    for key, area in expected.items():
        assert got[key] == pytest.approx(area, rel=1e-9, abs=1e-6)
    # shares and geometry agree with the areas
    parcel_area = parcels_c.set_index("parcel_id").area
    shares = pairs["overlap_m2"] / parcel_area.loc[pairs["parcel_id"]].to_numpy()
    np.testing.assert_allclose(pairs["parcel_share"], shares, rtol=1e-9)
    np.testing.assert_allclose(pairs.area, pairs["overlap_m2"], rtol=1e-9, atol=1e-6)
    # and the default thresholds keep exactly the pairs passing both
    kept = P.affected_parcels(plans, parcels)
    want = {
        k
        for k, a in expected.items()
        if a >= P.DEFAULT_MIN_OVERLAP_M2 and a / parcel_area[k[1]] >= P.DEFAULT_MIN_OVERLAP_SHARE
    }
    assert set(pair_table(kept)) == want


def test_inputs_are_not_mutated_and_columns_are_carried():
    plans = plans_frame([square(0, 0, 100)])
    parcels = parcels_frame([square(10, 10, 20)], land_use=["R21"], owner=["张三"])
    before_plans, before_parcels = plans.copy(), parcels.copy()
    pairs = P.affected_parcels(plans, parcels)
    pd.testing.assert_frame_equal(plans, before_plans)
    pd.testing.assert_frame_equal(parcels, before_parcels)
    assert pairs.loc[0, "land_use"] == "R21"
    assert pairs.loc[0, "owner"] == "张三"


# ----------------------------------------------------------------- bad input


def test_parcels_in_another_crs_are_aligned(caplog):
    plans = plans_frame([square(0, 0, 200)])
    parcels = parcels_frame([square(50, 50, 100), square(150, 150, 100)])
    degrees = parcels.to_crs("EPSG:4490")
    with caplog.at_level(logging.INFO, logger="gisrenew"):
        pairs = P.affected_parcels(plans, degrees)
    assert any("reproject" in r.getMessage() for r in caplog.records)
    assert pairs.crs == plans.crs
    back = degrees.to_crs(GK)
    expected = shapely.area(shapely.intersection(plans.geometry.iloc[0], back.geometry.to_numpy()))
    np.testing.assert_allclose(pairs["overlap_m2"], expected, rtol=1e-9)
    assert expected[1] == pytest.approx(2500.0, rel=1e-4)


def test_layer_without_crs_is_refused():
    plans = plans_frame([square(0, 0, 100)])
    parcels = parcels_frame([square(0, 0, 10)]).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="CRS"):
        P.affected_parcels(plans, parcels)
    with pytest.raises(CRSError):
        P.affected_parcels(plans.set_crs(None, allow_override=True), plans_frame([square(0, 0, 1)]))


def test_invalid_plan_polygon_is_repaired_and_reported(caplog):
    # a bow-tie: two 50 × 50 triangles meeting at (50, 50)
    bowtie = shapely.Polygon(
        [(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100), (X0, Y0)]
    )
    assert not bowtie.is_valid
    plans = plans_frame([bowtie])
    parcels = parcels_frame([square(0, 0, 100)], households_residential=[4])
    with caplog.at_level(logging.WARNING, logger="gisrenew"):
        summary = P.plan_summary(plans, parcels)
    assert any("repaired" in r.getMessage() for r in caplog.records)
    assert summary.loc[0, "area_m2"] == pytest.approx(5000.0)
    assert summary.loc[0, "affected_area_m2"] == pytest.approx(5000.0)


def test_plan_without_parcels_is_listed_with_zeros():
    plans = plans_frame([square(0, 0, 100), square(5000, 5000, 30)], name=["有地块", "空地块"])
    parcels = parcels_frame([square(0, 0, 50)], households_residential=[7], households_signed=[0])
    summary = P.plan_summary(plans, parcels)
    empty = summary.set_index("plan_id").loc["P2"]
    assert empty["name"] == "空地块"
    assert empty["parcel_count"] == 0
    assert empty["households_total"] == 0
    assert empty["affected_area_m2"] == 0.0
    assert empty["area_m2"] == pytest.approx(900.0)
    assert empty["signing_status"] == "no_parcels"
    assert math.isnan(empty["signing_rate"])


def test_missing_household_columns_name_the_mapping():
    plans = plans_frame([square(0, 0, 100)])
    parcels = parcels_frame([square(0, 0, 50)], 户数=[3])
    with pytest.raises(SchemaError, match=r"\[columns\.parcels\]"):
        P.plan_summary(plans, parcels)
    with pytest.raises(SchemaError, match="households"):
        P.plan_summary(plans, parcels, households={"residential": "居民户数量"})
    # the user's own column, named through the `households` mapping
    parcels2 = parcels_frame([square(0, 0, 50)], resid=[3])
    summary = P.plan_summary(plans, parcels2, households={"residential": "resid"})
    assert summary.loc[0, "households_total"] == 3
    assert summary.loc[0, "signing_status"] == "unknown"  # no signing column
    # built-in Chinese headers are recognised
    parcels3 = parcels_frame([square(0, 0, 50)], 居民户=[5], 商铺=[2], 已签约=[7])
    summary = P.plan_summary(plans, parcels3)
    assert summary.loc[0, ["households_residential", "households_shops", "signed"]].tolist() == [
        5,
        2,
        7,
    ]
    assert summary.loc[0, "signing_status"] == "signed"


def test_unknown_rule_and_bad_thresholds_are_refused():
    plans = plans_frame([square(0, 0, 100)])
    parcels = parcels_frame([square(0, 0, 50)], households_residential=[1])
    with pytest.raises(ValueError, match="household_rule"):
        P.plan_summary(plans, parcels, household_rule="half")
    with pytest.raises(ValueError, match="min_overlap_share"):
        P.affected_parcels(plans, parcels, min_overlap_share=2.0)
    with pytest.raises(ValueError, match="min_overlap_m2"):
        P.affected_parcels(plans, parcels, min_overlap_m2=-1.0)


# ----------------------------------------------------------------- households and signing


@pytest.fixture
def two_plans():
    plans = plans_frame(
        [square(0, 0, 100), square(100, 0, 100)],
        name=["古松弄", "胜利村"],
        plan_type=["renewal", "old_community"],
    )
    # a1 wholly in P1; a2 25 % in P1, 75 % in P2; a3 wholly in P2
    parcels = parcels_frame(
        [square(0, 0, 50), shapely.box(X0 + 75, Y0, X0 + 175, Y0 + 50), square(150, 60, 40)],
        households_residential=[40, 100, 8],
        households_nonresidential=[4, 20, 0],
        households_shops=[6, 0, 2],
        households_signed=[50, 60, 0],
    )
    return plans, parcels


def test_household_rules(two_plans):
    plans, parcels = two_plans
    whole = P.plan_summary(plans, parcels, household_rule="whole").set_index("plan_id")
    share = P.plan_summary(plans, parcels, household_rule="area_share").set_index("plan_id")
    largest = P.plan_summary(plans, parcels, household_rule="largest").set_index("plan_id")
    cols = ["households_residential", "households_nonresidential", "households_shops"]
    assert whole.loc["P1", cols].tolist() == [140, 24, 6]
    assert whole.loc["P2", cols].tolist() == [108, 20, 2]
    np.testing.assert_allclose(share.loc["P1", cols].astype(float), [40 + 25, 4 + 5, 6])
    np.testing.assert_allclose(share.loc["P2", cols].astype(float), [75 + 8, 15, 2])
    assert largest.loc["P1", cols].tolist() == [40, 4, 6]
    assert largest.loc["P2", cols].tolist() == [108, 20, 2]
    # area_share and largest add up to the city total; whole counts a2 twice per plan
    totals = P.plan_totals(plans, parcels)
    for frame in (share, largest):
        assert frame["households_total"].sum() == pytest.approx(totals["households_total"])
    assert whole["households_total"].sum() == totals["households_total"] + 120
    assert totals["households_total"] == 50 + 120 + 10


def test_signing_figures_and_status(two_plans):
    plans, parcels = two_plans
    s = P.plan_summary(plans, parcels).set_index("plan_id")
    assert s.loc["P1", "households_total"] == 170
    assert s.loc["P1", "signed"] == 110
    assert s.loc["P1", "unsigned"] == 60
    assert s.loc["P1", "signing_rate"] == pytest.approx(110 / 170)
    assert s.loc["P1", "signing_status"] == "signing"
    assert s.loc["P1", "signing_status_zh"] == "签约中"
    share = P.plan_summary(plans, parcels, household_rule="area_share").set_index("plan_id")
    assert share.loc["P2", "signed"] == pytest.approx(60 * 0.75)
    # status roll-up: nothing signed / everything signed
    none = parcels.assign(households_signed=0)
    assert set(P.plan_summary(plans, none)["signing_status_zh"]) == {"未启动"}
    full = parcels.assign(
        households_signed=parcels[
            ["households_residential", "households_nonresidential", "households_shops"]
        ].sum(axis=1)
    )
    assert set(P.plan_summary(plans, full)["signing_status"]) == {"signed"}
    assert P.plan_totals(plans, full)["signing_rate"] == pytest.approx(1.0)


def test_areas_in_mu_and_ha(two_plans):
    plans, parcels = two_plans
    s = P.plan_summary(plans, parcels).set_index("plan_id")
    assert s.loc["P1", "area_m2"] == pytest.approx(10000.0)
    assert s.loc["P1", "area_mu"] == pytest.approx(15.0)
    assert s.loc["P1", "area_ha"] == pytest.approx(1.0)
    assert s.loc["P1", "affected_area_m2"] == pytest.approx(2500 + 1250)
    assert s.loc["P1", "parcels_area_m2"] == pytest.approx(2500 + 5000)
    assert s.loc["P2", "affected_area_mu"] == pytest.approx((3750 + 1600) / M2_PER_MU)


def test_signed_above_households_warns(two_plans):
    plans, parcels = two_plans
    bad = parcels.assign(households_signed=[999, 0, 0])
    with pytest.warns(UserWarning, match="more signed households"):
        s = P.plan_summary(plans, bad)
    assert s.loc[0, "signed"] == 50


def test_format_plan_table(two_plans):
    plans, parcels = two_plans
    summary = P.plan_summary(plans, parcels)
    totals = P.plan_totals(plans, parcels)
    text = present.format_plan_table(summary, totals=totals)
    for label in (
        "面积(亩)",
        "居民户",
        "非居户",
        "商铺",
        "已签约",
        "签约率",
        "古松弄",
        "签约中",
        "合计",
    ):
        assert label in text
    assert "15.0" in text  # 10 000 m² = 15 亩
    english = present.format_plan_table(summary, lang="en", totals=totals)
    assert "signed %" in english and "total" in english
    lines = text.splitlines()
    # every table line has the same display width
    widths = {display_width(line.rstrip()) for line in lines[:2]}
    assert len(widths) == 1


def test_plans_to_dict(two_plans):
    plans, parcels = two_plans
    pairs = P.affected_parcels(plans, parcels)
    summary = P.plan_summary(plans, pairs)
    data = P.plans_to_dict(summary, pairs, P.plan_totals(plans, pairs))
    json.dumps(data)  # JSON-ready
    assert [p["plan_id"] for p in data["plans"]] == ["P1", "P2"]
    assert {"plan_id", "parcel_count", "area_m2", "area_mu", "signed", "signing_rate"} <= set(
        data["plans"][0]
    )
    assert len(data["pairs"]) == 4
    assert set(data["pairs"][0]) >= {"plan_id", "parcel_id", "overlap_m2", "parcel_share"}


def test_green_plan_class():
    values = [
        "park",
        " Green ",
        "公园",
        "绿地",
        "G11",
        "g14",
        "residential",
        "",
        None,
        "1401",
        "防护绿地",
    ]
    assert P.green_plan_class(values).tolist() == [
        "G1", "G1", "G1", "G1", "G11", "G14", "", "", "", "G1", "",
    ]  # fmt: skip


# ----------------------------------------------------------------- coverage effects


def test_plan_coverage_effects():
    coverage = pytest.importorskip("gisrenew.coverage")
    from gisrenew.rules import get_rules

    rules = get_rules("tijian-2021")
    parks = gpd.GeoDataFrame({"park_id": ["old"]}, geometry=[square(-3000, 0, 100)], crs=GK)
    residential = gpd.GeoDataFrame(
        {"residential_id": ["r1", "r2", "r3", "r4"], "households": [100.0, 50.0, 10.0, 30.0]},
        geometry=[
            square(300, 0, 100),  # 200 m east of the new park: within 500 m
            square(-50, 0, 100),  # half under the new park itself
            square(5000, 0, 100),  # far away
            square(-3300, 0, 100),  # already covered by the old park
        ],
        crs=GK,
    )
    plans = plans_frame(
        [square(0, 0, 100), square(4950, 0, 40), square(9000, 0, 100)],
        target_use=["park", "G14", "residential"],
    )
    effects = P.plan_coverage_effects(plans, parks, residential, rules=rules).set_index("plan_id")
    assert list(effects.index) == ["P1", "P2"]  # P3 does not turn green
    p1, p2 = effects.loc["P1"], effects.loc["P2"]
    assert p1["radius_m"] == 500 and p1["qualifies"]
    # r1 wholly, and r2's part outside the plan (the part under it becomes park)
    assert p1["new_covered_m2"] == pytest.approx(10000 + 5000)
    assert p1["converted_residential_m2"] == pytest.approx(5000)
    assert p1["new_households"] == pytest.approx(100 + 25)
    assert p1["converted_households"] == pytest.approx(25)
    assert p1["new_covered_mu"] == pytest.approx(15000 / M2_PER_MU)
    # a 1600 m² pocket park does not count under the tiered rule
    assert not p2["qualifies"] and math.isnan(p2["radius_m"])
    assert p2["new_covered_m2"] == 0
    assert p2["reason"]
    # independent check: the numerator of compute_coverage before and after adding P1 as a park
    kept = P.plan_coverage_effects(
        plans, parks, residential, rules=rules, convert_residential=False
    )
    with_plan = pd.concat([parks, P.plans_as_parks(plans.iloc[[0]])], ignore_index=True)
    before = coverage.compute_coverage(parks, residential, rules=rules).covered_area_m2
    after = coverage.compute_coverage(with_plan, residential, rules=rules).covered_area_m2
    assert kept.set_index("plan_id").loc["P1", "new_covered_m2"] == pytest.approx(after - before)
    text = present.format_coverage_effects(effects.reset_index())
    assert "新增覆盖" in text


# ----------------------------------------------------------------- CLI


@pytest.fixture
def plan_files(tmp_path, two_plans):
    plans, parcels = two_plans
    plans = pd.concat(
        [plans, plans_frame([square(5000, 5000, 30)], ids=["P3"], name=["空地块"])],
        ignore_index=True,
    )
    plans_path = tmp_path / "plans.gpkg"
    parcels_path = tmp_path / "parcels.geojson"
    pyogrio.write_dataframe(plans, plans_path, layer="plans")
    pyogrio.write_dataframe(parcels.to_crs("EPSG:4490"), parcels_path)
    return plans_path, parcels_path


def _run(args):
    from gisrenew.cli import main

    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result


def test_cli_json(plan_files):
    plans_path, parcels_path = plan_files
    result = _run(
        ["affected", "--plans", str(plans_path), "--parcels", str(parcels_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    plans = {p["plan_id"]: p for p in data["plans"]}
    assert set(plans) == {"P1", "P2", "P3"}
    assert plans["P1"]["parcel_count"] == 2
    assert plans["P1"]["area_mu"] == pytest.approx(15.0, rel=1e-6)
    assert plans["P1"]["households_residential"] == 140
    assert plans["P1"]["signed"] == 110
    assert plans["P3"]["parcel_count"] == 0 and plans["P3"]["households_total"] == 0
    pairs = {(p["plan_id"], p["parcel_id"]): p for p in data["pairs"]}
    assert pairs[("P2", "a2")]["parcel_share"] == pytest.approx(0.75, rel=1e-6)
    assert data["totals"]["households_total"] == 180
    share = _run(
        ["affected", "--plans", str(plans_path), "--parcels", str(parcels_path), "--json",
         "--household-rule", "area_share", "--min-overlap-share", "0.3"]
    )  # fmt: skip
    data = json.loads(share.stdout)
    assert ("P1", "a2") not in {(p["plan_id"], p["parcel_id"]) for p in data["pairs"]}
    assert data["household_rule"] == "area_share"


def test_cli_table_and_outputs(plan_files, tmp_path):
    plans_path, parcels_path = plan_files
    base = ["affected", "--plans", str(plans_path), "--parcels", str(parcels_path)]
    result = _run(base)
    assert result.exit_code == 0, result.output
    assert "居民户" in result.stdout and "古松弄" in result.stdout and "无涉及地块" in result.stdout

    gpkg = tmp_path / "out" / "plans_out.gpkg"
    assert _run([*base, "--out", str(gpkg)]).exit_code == 0
    layers = set(pyogrio.list_layers(gpkg)[:, 0])
    assert {"plan_summary", "plan_parcel_pairs", "affected_parcels"} <= layers
    pairs = gpd.read_file(gpkg, layer="plan_parcel_pairs")
    assert len(pairs) == 4 and pairs.crs.to_epsg() == 4549
    affected = gpd.read_file(gpkg, layer="affected_parcels")
    assert sorted(affected["parcel_id"]) == ["a1", "a2", "a3"]
    summary = gpd.read_file(gpkg, layer="plan_summary")
    assert summary["plan_id"].tolist() == ["P1", "P2", "P3"]

    xlsx = tmp_path / "plans.xlsx"
    assert _run([*base, "--out", str(xlsx)]).exit_code == 0
    sheets = pd.read_excel(xlsx, sheet_name=None, engine="openpyxl")
    # Chinese sheet names with Chinese headers (issue #14: one language at a time)
    assert {"更新项目", "项目涉及地块", "受影响地块", "合计"} <= set(sheets)
    table = sheets["更新项目"]
    for header in ("更新项目编号", "项目面积(亩)", "居民户", "非居户", "商铺", "已签约", "签约率"):
        assert header in table.columns
    assert table["居民户"].tolist() == [140, 108, 0]

    csv = tmp_path / "plans.csv"
    result = _run([*base, "--out", str(csv), "--headers", "en"])
    assert result.exit_code == 0
    frame = pd.read_csv(tmp_path / "plans_plan_summary.csv", encoding="utf-8-sig")
    assert "households_residential" in frame.columns and "area_mu" in frame.columns


def test_cli_missing_household_columns(tmp_path):
    plans_path = tmp_path / "plans.gpkg"
    parcels_path = tmp_path / "parcels.gpkg"
    pyogrio.write_dataframe(plans_frame([square(0, 0, 100)]), plans_path)
    pyogrio.write_dataframe(parcels_frame([square(0, 0, 10)], 户=[3]), parcels_path)
    from gisrenew.cli import main

    result = CliRunner().invoke(
        main, ["affected", "--plans", str(plans_path), "--parcels", str(parcels_path)]
    )
    assert result.exit_code == 1
    assert "[columns.parcels]" in result.stderr


def test_cli_from_project_with_plans_settings(tmp_path, two_plans):
    from gisrenew.project import Project

    plans, parcels = two_plans
    folder = tmp_path / "proj"
    project = Project.create(folder, {"plans": plans, "parcels": parcels})
    config = folder / "gisrenew.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[plans]\nhousehold_rule = "area_share"\n',
        encoding="utf-8",
    )
    result = _run(["affected", "--project", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["household_rule"] == "area_share"
    p1 = next(p for p in data["plans"] if p["plan_id"] == "P1")
    assert p1["households_residential"] == pytest.approx(65.0)
    # the command line wins over the settings
    result = _run(["affected", "--project", str(folder), "--json", "--household-rule", "whole"])
    assert json.loads(result.stdout)["household_rule"] == "whole"
    # never overwrite the project's own GeoPackage
    from gisrenew.cli import main

    refused = CliRunner().invoke(
        main, ["affected", "--project", str(folder), "--out", str(project.gpkg_path)]
    )
    assert refused.exit_code == 2
    assert "project" in refused.output
    config.write_text(
        config.read_text(encoding="utf-8").replace("household_rule", "household_rules"),
        encoding="utf-8",
    )
    bad = CliRunner().invoke(main, ["affected", "--project", str(folder)])
    assert bad.exit_code == 1 and "household_rules" in bad.stderr


def test_polygonal_part_of_mixed_intersections():
    mixed = shapely.GeometryCollection(
        [square(0, 0, 10), shapely.LineString([(X0 + 20, Y0), (X0 + 30, Y0)]), square(40, 0, 5)]
    )
    out = polygonal_part(np.array([mixed, square(0, 0, 1), shapely.Point(X0, Y0)], dtype=object))
    assert out[0].geom_type == "MultiPolygon" and out[0].area == pytest.approx(125.0)
    assert out[1].equals(square(0, 0, 1))
    assert out[2].is_empty


def test_cli_reports_coverage_effects_of_green_plans(tmp_path):
    from gisrenew.project import Project

    folder = tmp_path / "city"
    Project.create(
        folder,
        {
            "parks": gpd.GeoDataFrame(
                {"park_id": ["old"]}, geometry=[square(-3000, 0, 100)], crs=GK
            ),
            "residential": gpd.GeoDataFrame(
                {"residential_id": ["r1"], "households": [60.0]},
                geometry=[square(300, 0, 100)],
                crs=GK,
            ),
            "plans": plans_frame([square(0, 0, 100)], target_use=["公园"]),
            "parcels": parcels_frame([square(0, 0, 100)], households_nonresidential=[2]),
        },
    )
    result = _run(["affected", "--project", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    effects = json.loads(result.stdout)["coverage_effects"]
    assert [e["plan_id"] for e in effects] == ["P1"]
    assert effects[0]["new_covered_m2"] == pytest.approx(10000.0)
    assert effects[0]["new_households"] == pytest.approx(60.0)
    table = _run(["affected", "--project", str(folder)])
    assert "新增覆盖" in table.stdout
    quiet = _run(["affected", "--project", str(folder), "--json", "--no-coverage"])
    assert "coverage_effects" not in json.loads(quiet.stdout)


SAMPLE = Path(__file__).resolve().parents[1] / "data/geo/taicang_sample"


@pytest.mark.skipif(not (SAMPLE / "project.gpkg").exists(), reason="sample city not generated")
def test_sample_city_old_town_plots():
    from gisrenew.project import Project

    project = Project.open(SAMPLE)
    plans, parcels = project.read("plans"), project.read("parcels")
    summary = P.plan_summary(plans, parcels).set_index("name")
    old_town = summary.loc[["古松弄", "原城厢镇三小", "胜利村"]]
    assert old_town["area_mu"].sum() == pytest.approx(235.0, abs=1e-6)
    assert old_town["households_total"].sum() == 947
    pairs = P.affected_parcels(plans, parcels)
    assert not {"PC0008", "PC0016", "PC0024"} & set(pairs["parcel_id"])  # touching only
    assert {"PC0007", "PC0015", "PC0023"} <= set(pairs["parcel_id"])  # straddling
