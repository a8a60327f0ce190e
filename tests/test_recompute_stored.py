"""A recompute's "before" read back from the stored results, and its row-level store writes.

Hand-made city (EPSG:4549): residential boxes in two districts — one of them a
two-part multipolygon, so the stored per-piece layer holds multipolygons — and parks
of both tiers of tijian-2021. The result read back is checked against the result the
previous run wrote (every column, every geometry exactly), and every run against a
computation from scratch on the same layers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gisrenew import coverage
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.project import Project
from gisrenew.recompute import recompute
from gisrenew.recompute.stored import stored_buffer_result

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0


def _box(x, y, w, h):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _layers() -> dict[str, gpd.GeoDataFrame]:
    homes = [_box(250 * (i % 10), 300 * (i // 10), 90, 120) for i in range(40)]
    homes[7] = shapely.MultiPolygon([_box(1750, 0, 60, 60), _box(1840, 80, 40, 40)])
    residential = gpd.GeoDataFrame(
        {"residential_id": [f"r{i}" for i in range(40)], "households": np.arange(40) * 3 + 10},
        geometry=homes,
        crs=CRS,
    )
    parks = gpd.GeoDataFrame(
        {"park_id": ["big", "small", "plaza"], "park_class": ["G12", "G14", "G3"]},
        geometry=[_box(-200, -200, 80, 80), _box(1300, 380, 50, 50), _box(900, 400, 80, 80)],
        crs=CRS,
    )
    districts = gpd.GeoDataFrame(
        {"district_id": ["west", "east"], "name": ["城西", "城东"]},
        geometry=[_box(-300, -300, 1550, 1600), _box(1250, -300, 1550, 1600)],
        crs=CRS,
    )
    return {"parks": parks, "residential": residential, "districts": districts}


def _park(pid: str, x: float, y: float, side: float = 60.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": [pid], "park_class": ["G14"]}, geometry=[_box(x, y, side, side)], crs=CRS
    )


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "city", _layers(), working_crs=CRS, rules="tijian-2021")


def _read_back(project: Project):
    inputs = gather_inputs(Project.open(project.folder))
    with project.transaction() as tx:
        return stored_buffer_result(tx, tx.results_state(), inputs)


def _one_part_as_polygon(geoms: np.ndarray) -> np.ndarray:
    """A one-part multipolygon as its polygon (a GeoPackage layer keeps one of the two)."""
    one = (shapely.get_type_id(geoms) == 6) & (shapely.get_num_geometries(geoms) == 1)
    return np.where(one, shapely.get_geometry(geoms, 0), geoms)


def _assert_same_geometry(mine: gpd.GeoDataFrame, written: gpd.GeoDataFrame) -> None:
    """Same coordinates ring by ring, in the same order (no tolerance)."""
    a = np.asarray(mine.geometry.array)
    b = _one_part_as_polygon(np.asarray(written.geometry.array))
    assert shapely.get_type_id(a).tolist() == shapely.get_type_id(b).tolist()
    assert shapely.equals_exact(a, b, tolerance=0.0).all()


def _assert_same_table(mine: pd.DataFrame, written: pd.DataFrame) -> None:
    assert list(mine.columns) == list(written.columns)
    plain = lambda f: pd.DataFrame(f).drop(columns=["geometry"], errors="ignore")  # noqa: E731
    pd.testing.assert_frame_equal(
        plain(mine).reset_index(drop=True), plain(written).reset_index(drop=True)
    )
    if isinstance(written, gpd.GeoDataFrame):
        _assert_same_geometry(mine, written)


def test_the_stored_result_reads_back_as_it_was_written(project):
    written = recompute(project, add_parks=[_park("n1", 300, 100)]).after.buffer
    assert written.residential.geom_type.eq("MultiPolygon").any()  # a multipolygon layer
    mine = _read_back(project)
    assert mine is not None
    for table in ("residential", "blind_spots", "service_areas", "parks", "districts"):
        _assert_same_table(getattr(mine, table), getattr(written, table))
    assert mine.blind_spots["sliver"].dtype == bool and mine.parks["qualifies"].dtype == bool
    for figure in ("covered_area_m2", "residential_area_m2", "weight_total", "weight_covered"):
        assert getattr(mine, figure) == getattr(written, figure)
    assert (mine.method, mine.weight_column) == (written.method, written.weight_column)
    assert mine.parameters == written.parameters
    assert mine.rules.to_dict() == written.rules.to_dict()


def test_nothing_is_read_back_from_results_that_are_not_current(project):
    assert _read_back(project) is None  # init stores no results
    recompute(project, add_parks=[_park("n1", 300, 100)])
    assert _read_back(project) is not None
    residential = gpd.read_file(project.gpkg_path, layer="residential")
    with project.transaction() as tx:  # an input layer written again (what `reload` does)
        tx.write_input_layer("residential", residential)
    assert _read_back(project) is None


def _from_scratch(project: Project):
    return compute_indicators(gather_inputs(Project.open(project.folder)), plans=False).buffer


def test_runs_on_read_back_results_equal_a_computation_from_scratch(project):
    recompute(project, add_parks=[_park("n1", 300, 100)])
    for pid, x, y in (("n2", 1850, 180), ("n3", 600, 820)):
        before = _from_scratch(project)
        result = recompute(project, add_parks=[_park(pid, x, y)], verify=True)
        assert result.report["stored_results"]["used_for"] == ["buffer"]
        assert result.report["incremental_check"]["agrees"]
        mine, full = result.after.buffer, _from_scratch(project)
        assert mine.covered_area_m2 == pytest.approx(full.covered_area_m2, rel=1e-9)
        np.testing.assert_allclose(
            mine.residential["covered_m2"], full.residential["covered_m2"], rtol=1e-9, atol=1e-6
        )
        spots, full_spots = mine.blind_spots, full.blind_spots
        for column in ("blind_spot_id", "residential_id", "district_id", "sliver"):
            assert spots[column].tolist() == full_spots[column].tolist()
        np.testing.assert_allclose(spots["area_m2"], full_spots["area_m2"], rtol=1e-9)
        closed = coverage.closed_blind_spots(before, full)
        assert closed["area_m2"].sum() > 0
        assert result.report["blind_spots_closed"]["closed_area_m2"] == pytest.approx(
            float(closed["area_m2"].sum()), rel=1e-9
        )
        # what the next run reads back is this run's result
        _assert_same_table(_read_back(project).blind_spots, spots)
