"""Tests for gisrenew.recompute: incremental = full, safe project updates, idempotency, locking.

Every layer is built in code (random or hand-placed boxes in EPSG:4549 around
Taicang's false easting); nothing depends on the sample city.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gisrenew import coverage
from gisrenew.coverage import IncrementalCoverage
from gisrenew.errors import LockError, SchemaError
from gisrenew.present import format_recompute_report
from gisrenew.project import Project, copy_project
from gisrenew.recompute import read_history, recompute
from gisrenew.rules import get_rules

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0
RULES = get_rules("tijian-2021")
FIXED_NOW = dt.datetime(2024, 5, 1, 8, 0, 0, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------ fixtures


def _box(cx, cy, w, h):
    return shapely.box(X0 + cx - w / 2, Y0 + cy - h / 2, X0 + cx + w / 2, Y0 + cy + h / 2)


def _geoms(frame):
    return np.asarray(frame.geometry.array, dtype=object)


def random_city(seed: int, n_res: int = 120, n_parks: int = 16, extent: float = 3000.0):
    """Overlapping residential boxes, parks of every tier, two districts, a boundary."""
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(0, extent, n_res), rng.uniform(0, extent, n_res)
    w, h = rng.uniform(30, 160, n_res), rng.uniform(30, 160, n_res)
    residential = gpd.GeoDataFrame(
        {
            "residential_id": [f"r{i}" for i in range(n_res)],
            "households": rng.integers(0, 300, n_res).astype(float),
        },
        geometry=[_box(*a) for a in zip(cx, cy, w, h, strict=True)],
        crs=CRS,
    )
    # park sides 30–110 m: areas 900–12100 m², so tiers 500 m, 300 m and "too small"
    side = rng.uniform(30, 110, n_parks)
    parks = gpd.GeoDataFrame(
        {"park_id": [f"p{i}" for i in range(n_parks)]},
        geometry=[
            _box(x, y, s, s * rng.uniform(0.7, 1.3))
            for x, y, s in zip(
                rng.uniform(0, extent, n_parks), rng.uniform(0, extent, n_parks), side, strict=True
            )
        ],
        crs=CRS,
    )
    districts = gpd.GeoDataFrame(
        {"district_id": ["west", "east"], "name": ["城西", "城东"]},
        geometry=[
            _box(extent / 4, extent / 2, extent / 2 + 400, extent + 400),
            _box(3 * extent / 4, extent / 2, extent / 2 + 400, extent + 400),
        ],
        crs=CRS,
    )
    boundary = gpd.GeoDataFrame(
        {"boundary_id": ["b"]},
        geometry=[_box(extent / 2, extent / 2, extent * 0.9, extent * 0.9)],
        crs=CRS,
    )
    return residential, parks, districts, boundary


def oracle_covered(parks, residential, boundary) -> float:
    """Independent oracle: city-wide unions (slow, simple), buffers of 16 segments per quarter."""
    area = shapely.area(_geoms(parks))
    radius, tier, _ = RULES.assign(area)
    ok = tier >= 0
    reach = shapely.union_all(shapely.buffer(_geoms(parks)[ok], radius[ok], quad_segs=16))
    land = shapely.intersection(
        shapely.union_all(_geoms(residential)), shapely.union_all(_geoms(boundary))
    )
    return float(shapely.area(shapely.intersection(land, reach)))


# ------------------------------------------------------------------------------ engine


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incremental_equals_full_after_random_changes(seed):
    residential, parks, districts, boundary = random_city(seed)
    rng = np.random.default_rng(100 + seed)
    current = set(parks["park_id"][:6])
    engine = IncrementalCoverage.from_layers(
        parks[parks["park_id"].isin(current)], residential, rules=RULES,
        boundary=boundary, districts=districts, weight="households",
    )  # fmt: skip
    for step in range(14):
        outside = sorted(set(parks["park_id"]) - current)
        if outside and (rng.random() < 0.6 or not current):
            k = int(rng.integers(1, 3))
            chosen = list(rng.choice(outside, size=min(k, len(outside)), replace=False))
            engine.add_parks(parks[parks["park_id"].isin(chosen)])
            current |= set(chosen)
        else:
            chosen = list(rng.choice(sorted(current), size=1))
            engine.remove_parks(chosen)
            current -= set(chosen)
        now = parks[parks["park_id"].isin(current)]
        full = coverage.compute_coverage(
            now,
            residential,
            rules=RULES,
            boundary=boundary,
            districts=districts,
            weight="households",
        )
        assert engine.covered_area_m2 == pytest.approx(full.covered_area_m2, rel=1e-9, abs=1e-6), (
            step
        )
        assert engine.residential_area_m2 == pytest.approx(full.residential_area_m2, rel=1e-12)
        assert engine.ratio == pytest.approx(full.ratio, rel=1e-9, abs=1e-12)
        assert engine.weight_covered == pytest.approx(full.weight_covered, rel=1e-9, abs=1e-6)
        per_piece = full.residential.groupby("residential_id")["covered_m2"].sum()
        ids = engine.land["residential_id"].astype(str).to_numpy()
        mine = pd.Series(engine.covered_m2).groupby(ids).sum()
        assert sorted(mine.index) == sorted(per_piece.index.astype(str))
        np.testing.assert_allclose(
            mine.loc[sorted(mine.index)].to_numpy(),
            per_piece.loc[sorted(mine.index)].to_numpy(),
            rtol=1e-9,
            atol=1e-6,
        )
        mine_d = engine.districts().set_index("district_id")
        full_d = full.districts.set_index("district_id")
        shared = full_d.index[full_d["residential_area_m2"] > 0]
        np.testing.assert_allclose(
            mine_d.loc[shared, "covered_area_m2"],
            full_d.loc[shared, "covered_area_m2"],
            rtol=1e-9,
            atol=1e-6,
        )
        # and both agree with a brute-force union of everything
        assert engine.covered_area_m2 == pytest.approx(
            oracle_covered(now, residential, boundary), rel=1e-9
        )
    # difference updates only drift by ulps: re-summation changes nothing visible
    drifted = engine.covered_area_m2
    engine.resum()
    assert engine.covered_area_m2 == pytest.approx(drifted, rel=1e-12)


def test_engine_touches_only_nearby_pieces():
    residential, parks, _, boundary = random_city(5, n_res=300)
    engine = IncrementalCoverage.from_layers(parks, residential, rules=RULES, boundary=boundary)
    pocket = gpd.GeoDataFrame({"park_id": ["new"]}, geometry=[_box(1500, 1500, 60, 55)], crs=CRS)
    summary = engine.add_parks(pocket)
    reach = shapely.buffer(_geoms(pocket)[0], 300.0, quad_segs=16)  # 3300 m² → 300 m tier
    expected = int(shapely.intersects(_geoms(engine.land), reach).sum())
    assert summary.affected_pieces == expected < len(engine.land)
    assert summary.added == ("new",)


def test_gain_if_added_and_unique_gain_match_real_updates():
    residential, parks, _, boundary = random_city(7)
    engine = IncrementalCoverage.from_layers(
        parks, residential, rules=RULES, boundary=boundary, weight="households"
    )
    new = gpd.GeoDataFrame({"park_id": ["n"]}, geometry=[_box(1200, 900, 80, 80)], crs=CRS)
    reach = coverage.service_areas(new, RULES)
    predicted, predicted_w = engine.gain_if_added(_geoms(reach)[0])
    before, before_w = engine.covered_area_m2, engine.weight_covered
    engine.add_service_areas(reach)
    assert engine.covered_area_m2 - before == pytest.approx(predicted, rel=1e-9, abs=1e-6)
    assert engine.weight_covered - before_w == pytest.approx(predicted_w, rel=1e-9, abs=1e-6)
    unique, _ = engine.unique_gain("n")
    after = engine.covered_area_m2
    engine.remove_parks(["n"])
    assert after - engine.covered_area_m2 == pytest.approx(unique, rel=1e-9, abs=1e-6)
    assert engine.covered_area_m2 == pytest.approx(before, rel=1e-12)


def test_small_pocket_park_is_ignored_with_reason():
    residential, parks, _, _ = random_city(3)
    engine = IncrementalCoverage.from_layers(parks, residential, rules=RULES)
    tiny = gpd.GeoDataFrame(
        {"park_id": ["tiny"]}, geometry=[_box(100, 100, 40, 40)], crs=CRS
    )  # 1600 m²
    summary = engine.add_parks(tiny)
    assert summary.added == () and summary.gain_m2 == 0
    assert list(summary.ignored) == ["tiny"]
    assert "2000" in summary.ignored["tiny"]


def test_engine_refuses_duplicate_ids():
    residential, parks, _, _ = random_city(4)
    engine = IncrementalCoverage.from_layers(parks, residential, rules=RULES)
    with pytest.raises(SchemaError, match="already"):
        engine.add_service_areas(coverage.service_areas(parks, RULES).iloc[:1])


def test_from_result_needs_no_computation():
    residential, parks, districts, boundary = random_city(8)
    full = coverage.compute_coverage(
        parks, residential, rules=RULES, boundary=boundary, districts=districts
    )
    engine = IncrementalCoverage.from_result(full)
    assert engine.covered_area_m2 == pytest.approx(full.covered_area_m2, rel=1e-12)
    assert engine.park_ids == full.service_areas["park_id"].astype(str).tolist()


# ------------------------------------------------------------------------------ project


def _hand_city():
    """A small hand-checkable city.

    Residential: four 100 × 100 m blocks (10 000 m² each, 50 households each) at
    x = 0, 1000, 2000, 3000 (y = 0); one existing 6400 m² park (500 m) at x = -300 covers
    block a. Districts: west (x < 1500) and east.
    """
    residential = gpd.GeoDataFrame(
        {"residential_id": ["a", "b", "c", "d"], "households": [50.0, 50.0, 50.0, 50.0]},
        geometry=[_box(x, 0, 100, 100) for x in (0, 1000, 2000, 3000)],
        crs=CRS,
    )
    parks = gpd.GeoDataFrame(
        {"park_id": ["old"], "name": ["老公园"], "park_class": ["G12"]},
        geometry=[_box(-300, 0, 80, 80)],
        crs=CRS,
    )
    districts = gpd.GeoDataFrame(
        {"district_id": ["west", "east"], "name": ["城西", "城东"]},
        geometry=[_box(500, 0, 2000, 1000), _box(2500, 0, 2000, 1000)],
        crs=CRS,
    )
    boundary = gpd.GeoDataFrame(
        {"boundary_id": ["b"]}, geometry=[_box(1500, 0, 5000, 2000)], crs=CRS
    )
    return residential, parks, districts, boundary


def _new_parks():
    """Pocket parks: n1 (3000 m², 300 m) next to block b, n2 (1500 m², does not count) next to c."""
    return gpd.GeoDataFrame(
        {
            "park_id": ["n1", "n2"],
            "name": ["口袋公园一", "口袋公园二"],
            "park_class": ["G14", "G14"],
            "is_pocket_park": [True, True],
        },
        geometry=[_box(1000, 150, 60, 50), _box(2000, 150, 50, 30)],
        crs=CRS,
    )


@pytest.fixture
def project(tmp_path):
    residential, parks, districts, boundary = _hand_city()
    folder = tmp_path / "city"
    return Project.create(
        folder,
        {"parks": parks, "residential": residential, "districts": districts, "boundary": boundary},
        working_crs=CRS,
        rules="tijian-2021",
    )


@pytest.fixture
def new_parks_file(tmp_path):
    path = tmp_path / "new_parks.gpkg"
    _new_parks().to_file(path, layer="new_parks", engine="pyogrio")
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_recompute_adds_parks_and_reports(project, new_parks_file):
    report = recompute(project, add_parks=[new_parks_file], now=FIXED_NOW, verify=True).report
    assert report["changed"] and report["run_id"] == 1
    buffer = report["indicators"]["buffer"]
    # hand check: before only block a covered (10 000 of 40 000 m²); n1 (300 m) covers block b
    assert buffer["before"]["coverage_ratio"] == pytest.approx(0.25)
    assert buffer["after"]["coverage_ratio"] == pytest.approx(0.5)
    assert buffer["change"]["covered_area_m2"] == pytest.approx(10_000.0)
    assert buffer["after"]["weight_covered"] == pytest.approx(100.0)
    # the figures equal a full computation on the merged layers
    residential, parks, districts, boundary = _hand_city()
    merged = pd.concat([parks, _new_parks()], ignore_index=True)
    full = coverage.compute_coverage(
        merged, residential, rules=RULES, boundary=boundary, districts=districts
    )
    assert buffer["after"]["covered_area_m2"] == pytest.approx(full.covered_area_m2, rel=1e-12)
    assert report["incremental_check"]["agrees"]
    # each new park's own gain, and the pocket park that adds nothing, with its reason
    added = {p["park_id"]: p for p in report["added"]}
    assert added["n1"]["unique_gain_m2"] == pytest.approx(10_000.0)
    assert added["n1"]["unique_gain_weight"] == pytest.approx(50.0)
    assert added["n2"]["unique_gain_m2"] == pytest.approx(0.0)
    nothing = {p["park_id"]: p["reason"] for p in report["adds_nothing"]}
    assert set(nothing) == {"n2"} and "2000" in nothing["n2"]
    # per district: west goes from 50% to 100%, east stays at 0
    districts_rep = {d["district_id"]: d for d in report["districts"]}
    assert districts_rep["west"]["coverage_ratio_before"] == pytest.approx(0.5)
    assert districts_rep["west"]["coverage_ratio_after"] == pytest.approx(1.0)
    assert districts_rep["east"]["coverage_ratio_after"] == pytest.approx(0.0)
    # blind spot b closed completely, with its 50 households
    blind = report["blind_spots_closed"]
    assert blind["closed_count"] == 1 and blind["fully_closed_count"] == 1
    assert blind["rows"][0]["residential_id"] == "b"
    assert blind["closed_households"] == pytest.approx(50.0)
    # stored: parks layer, result layers and one history row with checksums
    reopened = Project.open(project.folder)
    assert sorted(reopened.read("parks")["park_id"]) == ["n1", "n2", "old"]
    for layer in ("coverage_residential", "blind_spots", "coverage_districts", "run_history"):
        assert reopened.has(layer)
    history = read_history(reopened)
    assert len(history) == 1
    row = history.iloc[0]
    inputs = json.loads(row["inputs"])
    assert inputs[0]["sha256"] == _digest(new_parks_file)
    assert row["rules_name"] == "tijian-2021" and row["rules_version"] == RULES.version
    assert row["ratio_after"] == pytest.approx(0.5)
    assert row["time_utc"].startswith("2024-05-01T08:00:00")
    figures = json.loads(row["figures"])
    assert figures["indicators"]["buffer"]["after"]["coverage_ratio"] == pytest.approx(0.5)
    # the text report names the figures
    text = format_recompute_report(report, lang="zh")
    assert "25.00% → 50.00%" in text and "n2" in text
    assert "25.00% → 50.00%" in format_recompute_report(report, lang="en")


def test_readding_same_parks_is_a_noop(project, new_parks_file):
    recompute(project, add_parks=[new_parks_file], now=FIXED_NOW)
    before = _digest(project.gpkg_path)
    again = recompute(project, add_parks=[new_parks_file]).report
    assert not again["changed"]
    assert (
        "already in the project" in again["message"]
        and "left exactly as it was" in again["message"]
    )
    assert {s["park_id"] for s in again["skipped"]} == {"n1", "n2"}
    assert _digest(project.gpkg_path) == before
    # the same geometry without ids (and in another CRS) is recognised too
    bare = _new_parks()[["geometry"]].to_crs(4490)
    third = recompute(project, add_parks=[bare]).report
    assert not third["changed"]
    assert all("same geometry" in s["reason"] for s in third["skipped"])
    assert _digest(project.gpkg_path) == before
    assert "无变化" in format_recompute_report(third)
    # removing a park that is not there changes nothing either
    fourth = recompute(project, remove_parks=["nope"]).report
    assert not fourth["changed"] and "no park with this id" in fourth["message"]
    assert _digest(project.gpkg_path) == before


def test_same_park_twice_in_one_run_is_added_once(project, tmp_path):
    park = gpd.GeoDataFrame(geometry=[_box(3000, 160, 70, 60)], crs=CRS)
    report = recompute(project, add_parks=[park, park.copy()]).report
    assert len(report["added"]) == 1
    assert report["skipped"][0]["reason"].startswith("already in this run's files")


def test_generated_ids_do_not_clash(project, tmp_path):
    extra = gpd.GeoDataFrame(geometry=[_box(3000, 160, 70, 60)], crs=CRS)  # no park_id column
    path = tmp_path / "spring.geojson"
    extra.to_file(path, engine="pyogrio")
    report = recompute(project, add_parks=[path]).report
    assert [p["park_id"] for p in report["added"]] == ["spring-1"]
    parks = Project.open(project.folder).read("parks")
    assert parks["park_id"].is_unique and "spring-1" in set(parks["park_id"])


def test_explicit_id_clash_is_refused_and_changes_nothing(project):
    before = _digest(project.gpkg_path)
    clash = gpd.GeoDataFrame({"park_id": ["old"]}, geometry=[_box(3000, 160, 70, 60)], crs=CRS)
    with pytest.raises(SchemaError, match="--remove-parks old"):
        recompute(project, add_parks=[clash])
    assert _digest(project.gpkg_path) == before
    # replacing it in one run (remove, then add) is allowed
    report = recompute(project, add_parks=[clash], remove_parks=["old"]).report
    assert report["changed"]
    assert [p["park_id"] for p in report["removed"]] == ["old"]
    assert report["removed"][0]["lost_m2"] == pytest.approx(10_000.0)


def test_remove_parks_and_history(project, new_parks_file):
    recompute(project, add_parks=[new_parks_file], now=FIXED_NOW)
    report = recompute(
        project, remove_parks=["n1", "nope"], now=FIXED_NOW + dt.timedelta(days=1)
    ).report
    assert report["run_id"] == 2
    assert report["indicators"]["buffer"]["after"]["coverage_ratio"] == pytest.approx(0.25)
    assert report["blind_spots_closed"]["opened_area_m2"] == pytest.approx(10_000.0)
    assert any(s["park_id"] == "nope" for s in report["skipped"])
    history = read_history(project)
    assert history["run_id"].tolist() == [1, 2]
    assert json.loads(history.iloc[1]["removed_parks"]) == ["n1"]


def test_project_with_plans_reports_plan_effects(tmp_path):
    residential, parks, _, boundary = _hand_city()
    plans = gpd.GeoDataFrame(
        {"plan_id": ["g1"], "name": ["街角绿地"], "target_use": ["park"]},
        geometry=[_box(3000, 200, 80, 80)],
        crs=CRS,
    )
    proj = Project.create(
        tmp_path / "p",
        {"parks": parks, "residential": residential, "boundary": boundary, "plans": plans},
        working_crs=CRS,
    )
    report = recompute(proj, add_parks=[_new_parks()]).report
    assert report["plans"] and report["plans"][0]["plan_id"] == "g1"
    assert Project.open(proj.folder).has("plan_effects")


# ------------------------------------------------------------------------------ kill / lock

# A run in its own process that can be stopped at a step: the test injects a callback
# (`on_step`) that writes a marker file and sleeps there, so the test can kill it exactly
# at that moment. No test hook lives in the library.
_RUNNER = """
import datetime as dt, pathlib, sys, time
from gisrenew.recompute import recompute
folder, parks, timeout_s, stop_at, marker, sleep = sys.argv[1:7]
def on_step(name):
    if name == stop_at:
        pathlib.Path(marker).write_text(name, encoding="utf-8")
        time.sleep(float(sleep))
recompute(folder, add_parks=[parks], now=dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC),
          timeout_s=float(timeout_s), on_step=on_step)
"""


def _env(**extra):
    env = dict(os.environ)
    env["OGR_CURRENT_DATE"] = "2024-05-01T08:00:00Z"  # GeoPackage timestamps: reproducible bytes
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def _start(folder, parks_file, *, timeout_s=0.0, checkpoint=None, marker=None, sleep=60.0):
    args = [str(folder), str(parks_file), str(timeout_s), checkpoint or "", str(marker), str(sleep)]
    return subprocess.Popen(
        [sys.executable, "-c", _RUNNER, *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(marker: Path, proc, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"runner ended early: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("runner never reached its checkpoint")
        time.sleep(0.05)


def _opens_cleanly(folder: Path) -> None:
    proj = Project.open(folder)
    with sqlite3.connect(proj.gpkg_path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for name in proj.layer_kinds():
        pyogrio.read_dataframe(proj.gpkg_path, layer=name)
    with proj.lock():  # readers never delete; the next lock holder removes abandoned work files
        pass
    assert not list(folder.glob(".txn-*"))


@pytest.mark.slow
def test_killed_run_leaves_project_before_or_after(project, new_parks_file, tmp_path, monkeypatch):
    before_bytes = project.gpkg_path.read_bytes()
    # reference: an uninterrupted run gives the "after" bytes
    ref = tmp_path / "ref"
    shutil.copytree(project.folder, ref)
    proc = _start(ref, new_parks_file)
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()
    after_bytes = (ref / project.gpkg_path.name).read_bytes()
    assert after_bytes != before_bytes
    # a second uninterrupted run from the same state gives the same bytes (reproducible)
    ref2 = tmp_path / "ref2"
    shutil.copytree(project.folder, ref2)
    proc = _start(ref2, new_parks_file)
    assert proc.wait(timeout=300) == 0
    assert (ref2 / project.gpkg_path.name).read_bytes() == after_bytes

    expected = {
        "loaded": before_bytes,
        "computed": before_bytes,
        "tx-parks": before_bytes,
        "tx-results": before_bytes,
        "tx-history": before_bytes,
        "committed": after_bytes,
    }
    for step, want in expected.items():
        folder = tmp_path / f"kill-{step}"
        shutil.copytree(project.folder, folder)
        marker = tmp_path / f"marker-{step}"
        proc = _start(folder, new_parks_file, checkpoint=step, marker=marker)
        _wait_for(marker, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        got = (folder / project.gpkg_path.name).read_bytes()
        assert got == want, f"killed at {step}: project neither as before nor as expected"
        _opens_cleanly(folder)
        # the lock died with the process: the next run completes and reaches the same state
        if step != "committed":
            monkeypatch.setenv("OGR_CURRENT_DATE", "2024-05-01T08:00:00Z")
            recompute(folder, add_parks=[new_parks_file], now=FIXED_NOW)
            assert (folder / project.gpkg_path.name).read_bytes() == after_bytes

    # kills at random moments: always one of the two states
    rng = np.random.default_rng(11)
    for k in range(3):
        folder = tmp_path / f"random-{k}"
        shutil.copytree(project.folder, folder)
        proc = _start(folder, new_parks_file)
        time.sleep(float(rng.uniform(0.5, 3.0)))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        got = (folder / project.gpkg_path.name).read_bytes()
        assert got in (before_bytes, after_bytes)
        _opens_cleanly(folder)


@pytest.mark.slow
def test_concurrent_runs_are_refused_or_serialized(project, new_parks_file, tmp_path):
    marker = tmp_path / "marker"
    first = _start(project.folder, new_parks_file, checkpoint="computed", marker=marker, sleep=4.0)
    _wait_for(marker, first)
    # a second run while the first holds the lock: refused at once with a clear message
    other = gpd.GeoDataFrame({"park_id": ["x1"]}, geometry=[_box(3000, 160, 70, 60)], crs=CRS)
    before = _digest(project.gpkg_path)
    with pytest.raises(LockError, match="another gisrenew run"):
        recompute(project, add_parks=[other], timeout_s=0)
    assert _digest(project.gpkg_path) == before
    # ...or, when it agrees to wait, run after the first one, on the first one's result
    other_file = tmp_path / "other.gpkg"
    other.to_file(other_file, engine="pyogrio")
    second = _start(project.folder, other_file, timeout_s=120)
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    assert second.wait(timeout=300) == 0, second.stderr.read().decode()
    history = read_history(project)
    assert history["run_id"].tolist() == [1, 2]
    assert json.loads(history.iloc[0]["added_parks"]) == ["n1", "n2"]
    assert json.loads(history.iloc[1]["added_parks"]) == ["x1"]
    # no lost update: run 2 started from run 1's result
    assert history.iloc[1]["ratio_before"] == pytest.approx(history.iloc[0]["ratio_after"])
    assert sorted(Project.open(project.folder).read("parks")["park_id"]) == [
        "n1",
        "n2",
        "old",
        "x1",
    ]


# ------------------------------------------------------------------------------ CLI


def test_cli_recompute_history_and_lock(project, new_parks_file):
    from click.testing import CliRunner

    from gisrenew.cli import main

    runner = CliRunner()
    folder = str(project.folder)
    result = runner.invoke(main, ["recompute", "--project", folder])
    assert result.exit_code == 2 and "nothing to do" in result.output
    with project.lock():  # another run holds the project
        result = runner.invoke(
            main,
            ["recompute", "--project", folder, "--add-parks", str(new_parks_file), "--no-publish"],
        )
    assert result.exit_code == 1 and "another gisrenew run" in result.output
    result = runner.invoke(
        main,
        [
            "recompute",
            "--project",
            folder,
            "--add-parks",
            str(new_parks_file),
            "--no-publish",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["changed"] and report["indicators"]["buffer"]["after"][
        "coverage_ratio"
    ] == pytest.approx(0.5)
    result = runner.invoke(
        main,
        [
            "recompute",
            "--project",
            folder,
            "--add-parks",
            str(new_parks_file),
            "--no-publish",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0 and "No change" in result.stdout
    result = runner.invoke(main, ["history", "--project", folder, "--json"])
    runs = json.loads(result.stdout)["runs"]
    assert [r["run_id"] for r in runs] == [1]
    assert runs[0]["added_parks"] == ["n1", "n2"]
    result = runner.invoke(main, ["history", "--project", folder])
    assert "#1" in result.stdout and "25.00% → 50.00%" in result.stdout


def test_engine_service_areas_equal_coverage_service_areas():
    residential, parks, _, _ = random_city(9)
    engine = IncrementalCoverage.from_layers(parks.iloc[:2], residential, rules=RULES)
    ids, geoms, ignored = engine.service_geometries(parks)
    reference = coverage.service_areas(parks, RULES)
    assert ids == reference["park_id"].astype(str).tolist()
    assert shapely.equals_exact(geoms, _geoms(reference), tolerance=0).all()
    table = coverage.park_table(parks, RULES)
    assert set(ignored) == set(table.loc[~table["qualifies"], "park_id"])


# ------------------------------------------------------------------------------ sample city

SAMPLE = REPO / "data" / "geo" / "taicang_sample"


@pytest.mark.slow
@pytest.mark.skipif(
    not (SAMPLE / "new_pocket_parks.gpkg").exists(), reason="sample city not generated"
)
def test_sample_city_recompute_publish_and_history(tmp_path):
    """The issue's acceptance run: the sample city's 5 new pocket parks, on a copy."""
    from click.testing import CliRunner

    from gisrenew.cli import main

    folder = tmp_path / "taicang"
    copy_project(SAMPLE, folder)  # the bundled sample is read-only; the copy is not
    maps = tmp_path / "maps"
    runner = CliRunner()
    args = [
        "recompute",
        "--project",
        str(folder),
        "--add-parks",
        str(folder / "new_pocket_parks.gpkg"),
    ]
    result = runner.invoke(main, [*args, "--out", str(maps), "--json", "--verify"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["changed"] and len(report["added"]) == 5
    buffer = report["indicators"]["buffer"]
    assert buffer["after"]["coverage_ratio"] > buffer["before"]["coverage_ratio"]
    assert report["incremental_check"]["agrees"]
    assert report["warnings"] == []  # the maps were published
    assert (maps / "index.html").exists() and (maps / "before_after.html").exists()
    assert sum(p["unique_gain_m2"] for p in report["added"]) > 0
    # a pocket park under 2000 m² is reported as adding nothing, with the reason
    small = [p for p in report["added"] if p["park_area_m2"] < 2000]
    assert {p["park_id"] for p in report["adds_nothing"]} >= {p["park_id"] for p in small}
    result = runner.invoke(main, ["history", "--project", str(folder)])
    assert result.exit_code == 0 and "#1" in result.stdout
    again = runner.invoke(main, [*args, "--no-publish"])
    assert again.exit_code == 0 and "无变化" in again.stdout
