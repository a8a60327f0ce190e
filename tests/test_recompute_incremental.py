"""The recompute's incremental path: the engine drives it, the store changes only what changed.

Hand-made city (EPSG:4549 around Taicang's false easting): a 200 m street grid, random
residential boxes inside the blocks, parks of both tiers, two districts and a built-up
boundary. Every figure of a recompute is checked against a computation from scratch
on the same layers (``compute_indicators``), never against numbers written here.
"""

from __future__ import annotations

import json
import re
import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gisrenew import coverage, gpkg
from gisrenew.cli.recompute import publish_change
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.network import coverage as network_coverage_module
from gisrenew.project import RESULTS_STATE, Project
from gisrenew.recompute import forget_change, recompute
from gisrenew.webmap import coverage_map, drawcache, page, publish_site

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0
EXTENT = 2000.0
PITCH = 200.0


def _box(x, y, w, h):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _city(seed: int = 0) -> dict[str, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    ticks = np.arange(0.0, EXTENT + 1, PITCH)
    lines = [shapely.LineString([(X0 + t, Y0), (X0 + t, Y0 + EXTENT)]) for t in ticks]
    lines += [shapely.LineString([(X0, Y0 + t), (X0 + EXTENT, Y0 + t)]) for t in ticks]
    roads = gpd.GeoDataFrame({"road_id": [f"s{i}" for i in range(len(lines))]}, geometry=lines,
                             crs=CRS)  # fmt: skip
    n = 80
    bx, by = rng.integers(0, 10, n) * PITCH, rng.integers(0, 10, n) * PITCH
    w, h = rng.uniform(40, 120, n), rng.uniform(40, 120, n)
    ox, oy = rng.uniform(20, 180 - w), rng.uniform(20, 180 - h)
    residential = gpd.GeoDataFrame(
        {"residential_id": [f"r{i}" for i in range(n)], "households": rng.integers(5, 200, n)},
        geometry=[_box(*a) for a in zip(bx + ox, by + oy, w, h, strict=True)],
        crs=CRS,
    )
    parks = gpd.GeoDataFrame(
        {"park_id": [f"p{i}" for i in range(6)], "park_class": ["G12"] * 6},
        geometry=[_box(x, y, s, s) for x, y, s in
                  [(230, 230, 80), (1230, 430, 60), (630, 1430, 90), (1630, 1630, 50),
                   (430, 830, 45), (1430, 1030, 75)]],
        crs=CRS,
    )  # fmt: skip
    districts = gpd.GeoDataFrame(
        {"district_id": ["west", "east"], "name": ["城西", "城东"]},
        geometry=[_box(-100, -100, 1100, 2200), _box(1000, -100, 1100, 2200)],
        crs=CRS,
    )
    boundary = gpd.GeoDataFrame({"boundary_id": ["b"]}, geometry=[_box(10, 10, 1960, 1950)],
                                crs=CRS)  # fmt: skip
    return {"parks": parks, "residential": residential, "districts": districts,
            "boundary": boundary, "roads": roads}  # fmt: skip


def _new_park(pid: str, x: float, y: float, side: float = 70.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": [pid], "park_class": ["G14"]}, geometry=[_box(x, y, side, side)], crs=CRS
    )


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "city", _city(), working_crs=CRS, rules="tijian-2021")


def _from_scratch(project: Project):
    """Every indicator of the project as it stands, computed from scratch."""
    return compute_indicators(gather_inputs(Project.open(project.folder)), plans=False)


def _figures(side: dict) -> tuple[float, float, float]:
    return side["covered_area_m2"], side["coverage_ratio"], side.get("weight_covered") or 0.0


def _assert_figures(report_side: dict, result) -> None:
    mine = _figures(report_side)
    full = coverage.coverage_figures(
        result.covered_area_m2, result.residential_area_m2, result.weight_covered,
        result.weight_total,
    )  # fmt: skip
    assert mine == pytest.approx(_figures(full), rel=1e-9, abs=1e-6)


def _stored(project: Project, layer: str) -> pd.DataFrame:
    return pyogrio.read_dataframe(project.gpkg_path, layer=layer, read_geometry=False)


def _assert_stored_equal(project: Project, ind) -> None:
    """The stored per-piece layers hold the values of a computation from scratch."""
    for layer, result in (
        ("coverage_residential", ind.buffer),
        ("network_coverage_residential", ind.network),
    ):
        stored = _stored(project, layer)
        full = coverage.coverage_layers(result)["coverage_residential"]
        assert len(stored) == len(full)
        for column in ("covered_m2", "covered_share", "covered_weight"):
            np.testing.assert_allclose(stored[column], full[column], rtol=1e-9, atol=1e-6)
        if "walk_status" in full.columns:
            assert stored["walk_status"].tolist() == full["walk_status"].astype(str).tolist()
            assert stored["serving_park_id"].fillna("").tolist() == (
                full["serving_park_id"].astype(str).tolist()
            )


def test_each_run_equals_a_computation_from_scratch(project):
    before = _from_scratch(project)
    first = recompute(project, add_parks=[_new_park("n1", 40, 1840)], verify=True).report
    assert first["stored_results"]["current"] is False  # init stores no results
    assert first["incremental_check"]["agrees"]
    after = _from_scratch(project)
    for method in ("buffer", "network"):
        _assert_figures(first["indicators"][method]["before"], getattr(before, method))
        _assert_figures(first["indicators"][method]["after"], getattr(after, method))
    assert first["indicators"]["buffer"]["change"]["covered_area_m2"] > 0
    _assert_stored_equal(project, after)

    # the second run takes the walk's before figures from the stored results
    second = recompute(project, add_parks=[_new_park("n2", 1640, 240)], verify=True).report
    assert second["stored_results"] == {
        "current": True, "reason": "current", "run_id": 1, "used_for": ["buffer", "network"],
    }  # fmt: skip
    latest = _from_scratch(project)
    for method in ("buffer", "network"):
        _assert_figures(second["indicators"][method]["before"], getattr(after, method))
        _assert_figures(second["indicators"][method]["after"], getattr(latest, method))
    _assert_stored_equal(project, latest)
    # only the rows the new park changed were written
    pieces = len(latest.buffer.residential)
    assert 0 < second["rows_written"]["coverage_residential"] < pieces
    assert second["rows_written"]["network_coverage_residential"] < pieces
    assert first["rows_written"]["coverage_residential"] == pieces
    # the district tables change in place: n2 (300 m) serves only the east district
    assert second["rows_written"]["coverage_districts"] == 1
    for layer, result in (
        ("coverage_districts", latest.buffer),
        ("network_districts", latest.network),
    ):
        stored = _stored(project, layer).set_index("district_id")
        full = result.districts.set_index("district_id")
        np.testing.assert_allclose(
            stored.loc[full.index, "covered_area_m2"], full["covered_area_m2"], rtol=1e-9
        )


def test_removal_and_blind_spots_equal_a_computation_from_scratch(project):
    recompute(project, add_parks=[_new_park("n1", 40, 1840)])
    before = _from_scratch(project)
    report = recompute(project, remove_parks=["p1", "n1"], verify=True).report
    after = _from_scratch(project)
    _assert_figures(report["indicators"]["buffer"]["after"], after.buffer)
    _assert_figures(report["indicators"]["network"]["after"], after.network)
    opened = coverage.opened_blind_spots(before.buffer, after.buffer)
    assert report["blind_spots_closed"]["opened_area_m2"] == pytest.approx(
        float(opened["area_m2"].sum()), rel=1e-9
    )
    lost = {row["park_id"]: row["lost_m2"] for row in report["removed"]}
    unique = coverage.IncrementalCoverage.from_result(before.buffer)
    for pid in ("p1", "n1"):
        assert lost[pid] == pytest.approx(unique.unique_gain(pid)[0], rel=1e-9, abs=1e-6)
    stored = gpd.read_file(project.gpkg_path, layer="blind_spots")
    assert stored["area_m2"].sum() == pytest.approx(after.buffer.blind_spots["area_m2"].sum())
    assert sorted(stored["residential_id"]) == sorted(after.buffer.blind_spots["residential_id"])


def test_stored_results_are_not_used_after_an_outside_edit(project):
    recompute(project, add_parks=[_new_park("n1", 40, 1840)])
    # another program (QGIS, ogr2ogr) moves a residential block next to a park
    residential = gpd.read_file(project.gpkg_path, layer="residential")
    residential.loc[0, "geometry"] = _box(260, 330, 60, 60)
    pyogrio.write_dataframe(residential, project.gpkg_path, layer="residential", driver="GPKG")
    before = _from_scratch(Project.open(project.folder))
    report = recompute(project, add_parks=[_new_park("n2", 1640, 240)]).report
    _assert_figures(report["indicators"]["network"]["before"], before.network)
    _assert_figures(report["indicators"]["buffer"]["before"], before.buffer)
    assert report["stored_results"]["current"] is False
    assert report["stored_results"]["reason"] == "none_current"
    _assert_stored_equal(project, _from_scratch(project))


def test_stored_results_are_not_used_after_a_change_of_settings(project):
    recompute(project, add_parks=[_new_park("n1", 40, 1840)])
    settings = project.folder / "gisrenew.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + "\n[network]\nwalk_minutes = 5\n", encoding="utf-8"
    )
    before = _from_scratch(Project.open(project.folder))
    report = recompute(project, add_parks=[_new_park("n2", 1640, 240)]).report
    _assert_figures(report["indicators"]["network"]["before"], before.network)
    assert report["stored_results"]["reason"] == "settings"


def test_removing_a_runs_map_keeps_the_results_current(project):
    recompute(project, add_parks=[_new_park("n1", 40, 1840)])
    recompute(project, add_parks=[_new_park("n2", 1640, 240)])
    forget_change(project, 1)
    report = recompute(project, add_parks=[_new_park("n3", 1040, 40)]).report
    assert report["stored_results"]["current"] is True
    assert report["stored_results"]["run_id"] == 2


def test_a_reload_makes_the_results_stale(project):
    recompute(project, add_parks=[_new_park("n1", 40, 1840)])
    with project.transaction() as tx:  # what `reload` does: an input layer written again
        tx.write_input_layer("roads", _city()["roads"])
    report = recompute(project, add_parks=[_new_park("n2", 1640, 240)]).report
    assert report["stored_results"]["current"] is False


def test_results_state_records_the_stores_change_counter(project):
    recompute(project, add_parks=[_new_park("n1", 40, 1840)])
    with sqlite3.connect(project.gpkg_path) as con:
        state = json.loads(con.execute(f"SELECT state FROM {RESULTS_STATE}").fetchone()[0])
    assert state["store_counter"] == gpkg.change_counter(project.gpkg_path)
    assert state["run_id"] == 1 and "network" in state["figures"]


def _walked_parks(monkeypatch) -> list[int]:
    """Spy on the walk's per-park service areas: how many parks each call walks."""
    walked: list[int] = []
    real = network_coverage_module.park_service_areas

    def spy(access, limits, **kwargs):
        walked.append(int(np.isfinite(np.asarray(limits, dtype=float)).sum()))
        return real(access, limits, **kwargs)

    monkeypatch.setattr(network_coverage_module, "park_service_areas", spy)
    return walked


def _assert_same_service_areas(mine: gpd.GeoDataFrame, full: gpd.GeoDataFrame) -> None:
    """Same parks in the same order; each polygon equal to 1e-6 m² (symmetric difference)."""
    assert mine["park_id"].astype(str).tolist() == full["park_id"].astype(str).tolist()
    a, b = np.asarray(mine.geometry.array), np.asarray(full.geometry.array)
    a = np.where(shapely.is_missing(a), shapely.Polygon(), a)
    assert np.all(shapely.area(shapely.symmetric_difference(a, b)) <= 1e-6)
    assert shapely.area(b).min() > 0  # the check compares real polygons


def test_the_walk_reuses_the_stored_service_areas_of_untouched_parks(project, monkeypatch):
    """Issue #15: with current stored results only the new park's service area is walked."""
    recompute(project, add_parks=[_new_park("n1", 40, 1840)])
    walked = _walked_parks(monkeypatch)
    result = recompute(project, add_parks=[_new_park("n2", 1640, 240)])
    assert walked == [1]  # n2 alone; the other parks' polygons came from the store
    monkeypatch.undo()
    latest = _from_scratch(project)
    _assert_same_service_areas(result.after.network.service_areas, latest.network.service_areas)
    stored = gpd.read_file(project.gpkg_path, layer="network_service_areas")
    _assert_same_service_areas(stored, latest.network.service_areas)
    # a removal drops the park's row and walks nothing
    walked = _walked_parks(monkeypatch)
    result = recompute(project, remove_parks=["p1"])
    assert walked == [0]
    monkeypatch.undo()
    latest = _from_scratch(project)
    assert "p1" not in set(result.after.network.service_areas["park_id"])
    _assert_same_service_areas(result.after.network.service_areas, latest.network.service_areas)


def test_a_new_park_taking_an_entrance_redraws_the_park_that_had_it(tmp_path):
    """An entrance without park_id goes to the nearest park: a new park nearer takes it."""
    city = _city()
    city["entrances"] = gpd.GeoDataFrame(
        {"entrance_id": ["e1"], "park_id": [""]},
        geometry=[shapely.Point(X0 + 322, Y0 + 270)],  # 12 m east of p0 (230–310)
        crs=CRS,
    )
    project = Project.create(tmp_path / "city", city, working_crs=CRS, rules="tijian-2021")
    recompute(project, add_parks=[_new_park("n1", 40, 1840)])
    before = _from_scratch(project).network
    result = recompute(project, add_parks=[_new_park("n2", 326, 240, side=60)])  # 4 m from e1
    after = _from_scratch(project).network
    access = after.parks.set_index("park_id")["access"]
    assert before.parks.set_index("park_id")["access"]["p0"] == "entrances"
    assert access["p0"] != "entrances" and access["n2"] == "entrances"
    _assert_same_service_areas(result.after.network.service_areas, after.service_areas)


def test_the_walk_takes_the_residential_land_of_the_straight_line_run(project, monkeypatch):
    """The denominator is built once per run: the walk gets the straight-line run's land."""
    inputs = gather_inputs(project)
    alone = compute_indicators(inputs, methods=["network"], plans=False).network

    def refuse(*args, **kwargs):
        raise AssertionError("the residential land was built again for the walk")

    monkeypatch.setattr(network_coverage_module, "residential_land", refuse)
    both = compute_indicators(gather_inputs(project), plans=False)
    columns = list(alone.residential.columns)
    assert list(both.network.residential.columns) == columns
    pd.testing.assert_frame_equal(
        pd.DataFrame(both.network.residential.drop(columns="geometry")),
        pd.DataFrame(alone.residential.drop(columns="geometry")),
    )
    assert both.network.covered_area_m2 == alone.covered_area_m2
    assert both.network.districts.equals(alone.districts)


# ------------------------------------------------------------------------------ gpkg


def _written(path) -> tuple[int, int]:
    """Inode and modification time: a page written again (atomically) gets a new inode."""
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def test_publishing_after_a_recompute_draws_only_the_pages_it_changes(project, tmp_path):
    """Issue #15: an earlier run's before/after map is kept, the maps of parks drawn again."""
    site = tmp_path / "maps"
    for number, (x, y) in enumerate([(40, 1840), (1640, 240), (840, 40)], start=1):
        result = recompute(project, add_parks=[_new_park(f"n{number}", x, y)])
        publish_change(result, site, project)
        assert result.report["published"], result.report["warnings"]
        if number == 2:
            earlier = _written(site / "before_after_1.html")
            coverage_page = _written(site / "coverage.html")
    assert _written(site / "before_after_1.html") == earlier  # kept as it was
    assert _written(site / "coverage.html") != coverage_page  # the parks changed
    assert "第 2 次" in (site / "before_after_2.html").read_text(encoding="utf-8")
    assert "第 3 次" in (site / "before_after.html").read_text(encoding="utf-8")
    maps = json.loads((site / "index.json").read_text(encoding="utf-8"))["maps"]
    assert [m["key"] for m in maps if m["key"].startswith("before_after")] == [
        "before_after", "before_after_2", "before_after_1",
    ]  # fmt: skip


def test_changed_rows_compares_values_not_types():
    old = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "s": ["a", None, "c", "d"]})
    new = pd.DataFrame({"x": [1.0, np.nan, 3.5, 4.0], "s": pd.array(["a", None, "c", "e"])})
    assert gpkg.changed_rows(new, old, ["x", "s"]).tolist() == [2, 3]
    assert gpkg.changed_rows(new, old, ["x"]).tolist() == [2]


def test_update_rows_changes_only_those_rows_and_refuses_another_shape(tmp_path):
    path = tmp_path / "t.gpkg"
    frame = gpd.GeoDataFrame(
        {"v": [1.0, 2.0, 3.0], "name": ["a", "b", "c"]},
        geometry=[_box(0, 0, 10, 10), _box(20, 0, 10, 10), _box(40, 0, 10, 10)],
        crs=CRS,
    )
    pyogrio.write_dataframe(frame, path, layer="t", driver="GPKG")
    counter = gpkg.change_counter(path)
    values = pd.DataFrame({"v": [9.5], "name": ["z"]})
    gpkg.update_rows(path, "t", values, [1], n_features=3)
    back = gpd.read_file(path, layer="t")
    assert back["v"].tolist() == [1.0, 9.5, 3.0] and back["name"].tolist() == ["a", "z", "c"]
    assert back.geometry.geom_equals_exact(frame.geometry, 0).all()
    assert gpkg.change_counter(path) == counter + 1  # one write transaction
    with pytest.raises(gpkg.UpdateRefused):
        gpkg.update_rows(path, "t", values, [1], n_features=4)
    with pytest.raises(gpkg.UpdateRefused):  # text into a number column
        gpkg.update_rows(path, "t", pd.DataFrame({"v": ["x"]}), [0], n_features=3)
    with sqlite3.connect(path) as con:  # a WAL-mode file does not tell every write
        con.execute("PRAGMA journal_mode = WAL")
    assert gpkg.change_counter(path) is None


def test_both_coverage_pages_reproject_the_shared_residential_land_once(project, monkeypatch):
    """Issue #15: the walk's page reuses the straight line's display geometries, same page."""
    ind = compute_indicators(gather_inputs(project), plans=False)
    drawn: list[int] = []
    real = page._page_geometries

    def spy(gdf, ctx):
        drawn.append(len(gdf))
        return real(gdf, ctx)

    def html(m) -> str:
        return re.sub(r"[0-9a-f]{32}", "ID", m.get_root().render())

    monkeypatch.setattr(page, "_page_geometries", spy)
    monkeypatch.setattr(drawcache, "MIN_ROWS", 1)
    drawcache.forget_drawn_geometries()
    pieces = len(ind.buffer.residential)
    coverage_map(ind.buffer, ind.inputs.layer("parks"))
    shared = html(coverage_map(ind.network, ind.inputs.layer("parks")))
    assert drawn.count(pieces) == 1  # the residential land, reprojected for the first page only
    monkeypatch.setattr(drawcache, "MIN_ROWS", 10**9)  # no sharing: the page is the same
    assert html(coverage_map(ind.network, ind.inputs.layer("parks"))) == shared
    assert drawn.count(pieces) == 2


def test_a_published_site_keeps_no_drawn_geometries(project, monkeypatch, tmp_path):
    """The geometries shared between a site's pages are let go when the site is written."""
    ind = compute_indicators(gather_inputs(project), plans=False)
    monkeypatch.setattr(drawcache, "MIN_ROWS", 1)
    drawcache.forget_drawn_geometries()
    publish_site(ind, tmp_path / "site")
    assert (tmp_path / "site" / "coverage.html").is_file()
    assert drawcache._Cache.memory == {}
