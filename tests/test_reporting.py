"""The assembled indicator sheet (gisrenew.reporting): the figures the CLI prints, checks
against targets (a project's own file changes them), the run history, the trace."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from conftest import GK, square

from gisrenew import jsonable
from gisrenew.checksums import frame_sha256
from gisrenew.cli import main
from gisrenew.errors import ProjectError, RuleSetError
from gisrenew.inputs import gather_inputs
from gisrenew.io import read_layer
from gisrenew.project import copy_project
from gisrenew.recompute import read_history, recompute
from gisrenew.reporting import build_checkup

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"
FIXED_NOW = dt.datetime(2024, 5, 1, 8, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sample_checkup():
    return build_checkup(SAMPLE)


def _passed(row, target_id):
    return next(c.passed for c in row.checks if c.target_id == target_id)


def test_the_sample_sheet_holds_exactly_the_cli_figures(sample_checkup):
    result = CliRunner().invoke(
        main, ["coverage", "--project", str(SAMPLE), "--method", "both", "--json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    for method in ("buffer", "network"):
        row = sample_checkup.indicator(f"park_coverage_{method}")
        assert row.value == printed[method]["coverage_ratio"]  # exactly, not approximately
        assert row.numerator == printed[method]["covered_area_m2"]
        assert row.denominator == printed[method]["residential_area_m2"]
        assert row.method == method
    by_id = {d["district_id"]: d for d in printed["districts"]}
    for district in sample_checkup.districts:
        expected = by_id[district.district_id]
        assert district.values["park_coverage_buffer"] == expected["buffer_ratio"]
        assert district.values["park_coverage_network"] == expected["network_ratio"]


def test_every_check_names_its_indicator_and_reads_its_value(sample_checkup):
    buffer = sample_checkup.indicator("park_coverage_buffer")
    assert {c.target_id for c in buffer.checks} == {
        "gb55014-coverage", "gbt51346-coverage", "eco-garden-city-coverage",
    }  # fmt: skip
    for check in buffer.checks:
        assert check.passed == (buffer.value > check.threshold if check.op == ">" else
                                buffer.value >= check.threshold)  # fmt: skip
    greenway = sample_checkup.indicator("greenway_coverage")
    assert greenway.value == greenway.numerator / greenway.denominator
    assert greenway.denominator == buffer.denominator  # the park coverage's denominator
    assert greenway.checks == ()  # no national greenway target
    assert "greenways" in greenway.inputs
    per_capita = sample_checkup.indicator("park_area_per_capita")
    assert per_capita.value == per_capita.numerator / per_capita.denominator
    assert sample_checkup.targets["count"] == 6
    json.loads(jsonable.dumps(sample_checkup.to_dict()))  # JSON-ready


def test_per_capita_on_a_small_case_equals_the_hand_computation():
    parks = gpd.GeoDataFrame({"park_class": ["G12"]}, geometry=[square(0, 0, 100)], crs=GK)
    residential = gpd.GeoDataFrame({"population": [1000.0]}, geometry=[square(300, 0, 100)], crs=GK)
    inputs = gather_inputs(files={"parks": parks, "residential": residential})
    sheet = build_checkup(inputs)
    row = sheet.indicator("park_area_per_capita")
    assert row.value == pytest.approx(100 * 100 / 1000)  # 10 m² per person, by hand
    assert row.numerator == pytest.approx(10_000) and row.denominator == 1000.0
    assert _passed(row, "gb55014-park-per-capita") is True  # 10 > 8.0
    crowded = gather_inputs(
        files={"parks": parks, "residential": residential},
        settings={"report": {"population": 2000}},
    )
    row = build_checkup(crowded).indicator("park_area_per_capita")
    assert row.value == pytest.approx(5.0) and _passed(row, "gb55014-park-per-capita") is False
    assert row.denominator_label.startswith("城区人口")
    nobody = gather_inputs(files={"parks": parks, "residential": residential.assign(population=0)})
    row = build_checkup(nobody).indicator("park_area_per_capita")
    assert row.value is None and row.reason and _passed(row, "gb55014-park-per-capita") is None


def _own_project(tmp_path, targets_text):
    folder = tmp_path / "taicang"
    copy_project(SAMPLE, folder)
    (folder / "my-targets.toml").write_text(targets_text, encoding="utf-8")
    with open(folder / "gisrenew.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[report]\ntargets = "my-targets.toml"\n')
    return folder


def test_a_project_targets_file_changes_the_pass_fail_column(tmp_path, sample_checkup):
    national = sample_checkup.indicator("park_coverage_buffer")
    assert national.value < 0.85
    assert _passed(national, "gb55014-coverage") is True
    folder = _own_project(
        tmp_path,
        '[[targets]]\nid = "gb55014-coverage"\nindicators = ["park_coverage_buffer"]\n'
        'op = ">="\nvalue = 85\nunit = "%"\nsource = "市级目标"\n',
    )
    sheet = build_checkup(folder, methods=["buffer"])
    row = sheet.indicator("park_coverage_buffer")
    assert row.value == national.value
    assert _passed(row, "gb55014-coverage") is False
    assert [f["path"] for f in sheet.targets["files"]][1] == str(folder / "my-targets.toml")


def test_an_invalid_project_targets_file_lists_every_problem(tmp_path):
    folder = _own_project(
        tmp_path,
        '[[targets]]\nid = "x"\nindicators = ["nope"]\nop = "~"\nvalue = inf\nunit = "%"\n',
    )
    with pytest.raises(RuleSetError) as caught:
        build_checkup(folder, methods=["buffer"])
    message = str(caught.value)
    assert "my-targets.toml" in message and "target #1 (x)" in message
    assert "nope" in message and "~" in message and "finite" in message


def test_the_trace_names_every_input_layer_and_its_checksum(sample_checkup):
    inputs = gather_inputs(SAMPLE)
    traces = {t.kind: t for t in sample_checkup.inputs}
    assert set(traces) == set(inputs.layers)
    parks = inputs.layer("parks")
    assert traces["parks"].features == len(parks)
    assert traces["parks"].sha256 == frame_sha256(parks)
    assert sample_checkup.rules["name"] == "tijian-2021"
    assert sample_checkup.run_id is None and not sample_checkup.results_current


def test_the_map_layers_split_the_land_into_covered_and_uncovered(sample_checkup):
    layers = sample_checkup.map_layers
    buffer = sample_checkup.indicator("park_coverage_buffer")
    covered = float(shapely.area(layers["covered"].geometry.to_numpy()).sum())
    assert covered == pytest.approx(buffer.numerator, rel=1e-6)
    assert {"boundary", "parks", "uncovered"} <= set(layers)


def test_renewal_progress_and_old_communities(sample_checkup):
    renewal = sample_checkup.renewal
    assert renewal.renewal["plans"] == len(renewal.plans)
    by_type = renewal.renewal["by_type"]
    assert sum(t["plans"] for t in by_type.values()) == renewal.renewal["plans"]
    old = renewal.old_communities
    assert old["communities"] == by_type["old_community"]["plans"]
    assert old["households"] == by_type["old_community"]["households_total"]
    assert old["investment_wan"] == 7560.0  # the report's 7560万 yuan, in the sample's plans


def test_a_planners_investment_header_is_the_plans_investment(planner_data):
    _, files = planner_data  # a GBK Shapefile with the header 投资
    plans = read_layer(files["plans"], "plans")
    assert plans["investment_wan"].sum() == 7560.0


def test_plans_without_parcels_still_count_the_communities():
    inputs = gather_inputs(SAMPLE, kinds=["parks", "residential", "boundary", "plans"])
    renewal = build_checkup(inputs, methods=["buffer"]).renewal
    assert renewal.renewal == {} and renewal.plans == []
    plans = inputs.layer("plans")
    old = plans["plan_type"] == "old_community"
    assert renewal.old_communities == {
        "communities": int(old.sum()),
        "investment_wan": float(plans.loc[old, "investment_wan"].sum()),
    }


@pytest.mark.slow
def test_since_and_the_latest_parks_after_a_recompute(tmp_path):
    folder = tmp_path / "taicang"
    copy_project(SAMPLE, folder)
    report = recompute(folder, add_parks=[folder / "new_pocket_parks.gpkg"], now=FIXED_NOW).report
    sheet = build_checkup(folder, since=1, methods=["buffer"])
    assert sheet.run_id == 1 and sheet.results_current
    batch = sheet.latest_parks
    assert batch.run_id == 1 and len(batch.parks) == len(report["added"]) == 5
    figures = report["indicators"]["buffer"]
    assert batch.before["park_coverage_buffer"] == figures["before"]["coverage_ratio"]
    assert batch.after["park_coverage_buffer"] == figures["after"]["coverage_ratio"]
    assert batch.gain_m2["park_coverage_buffer"] == pytest.approx(
        figures["after"]["covered_area_m2"] - figures["before"]["covered_area_m2"]
    )
    since = sheet.since
    history = read_history(folder)
    assert since.then["park_coverage_buffer"] == float(history["ratio_after"].iloc[0])
    assert since.now["park_coverage_buffer"] == pytest.approx(
        since.then["park_coverage_buffer"], abs=1e-9
    )  # nothing changed since run 1
    # the run recorded its green-space figures after the change: a later sheet compares
    for key in ("park_area_per_capita", "comprehensive_park_per_capita"):
        assert since.now[key] is not None
        assert since.then[key] == pytest.approx(since.now[key], rel=1e-12), key
    # a recompute reads no greenways or facilities (parks do not change them): not recorded
    assert since.then["greenway_coverage"] is None and since.now["greenway_coverage"] is not None
    assert since.then["life_circle_completeness"] is None
    assert {d["district_id"] for d in since.districts} == {d.district_id for d in sheet.districts}
    with pytest.raises(ProjectError, match="runs recorded: 1"):
        build_checkup(folder, since=7, methods=["buffer"])
    # another program wrote the GeoPackage after the run: the results are not vouched for
    with contextlib.closing(sqlite3.connect(folder / "project.gpkg")) as con, con:
        con.execute("CREATE TABLE planner_notes (note TEXT)")
    edited = build_checkup(folder, methods=["buffer"])
    assert edited.run_id == 1 and not edited.results_current


def test_a_hand_edited_history_figure_is_no_figure_not_a_crash(tmp_path):
    """Text where the run history holds a number (an analyst's edit in QGIS or sqlite):
    the sheet's change since that run says "no figure" for it instead of failing."""
    folder = tmp_path / "taicang"
    copy_project(SAMPLE, folder)
    recompute(folder, add_parks=[folder / "new_pocket_parks.gpkg"], now=FIXED_NOW)
    with contextlib.closing(sqlite3.connect(folder / "project.gpkg")) as con, con:
        (text,) = con.execute("SELECT figures FROM run_history WHERE run_id = 1").fetchone()
        figures = json.loads(text)
        figures["indicators"]["buffer"]["after"]["coverage_ratio"] = "八成"
        for district in figures["districts"]:
            district["coverage_ratio_after"] = "n/a"
        edited = json.dumps(figures, ensure_ascii=False)
        con.execute("UPDATE run_history SET figures = ? WHERE run_id = 1", (edited,))
    sheet = build_checkup(folder, since=1, methods=["buffer"])
    assert sheet.since.then["park_coverage_buffer"] is None
    assert sheet.since.now["park_coverage_buffer"] is not None
    assert all(d["then"] is None for d in sheet.since.districts)
    # the latest batch of parks leaves the damaged figure out and keeps the others
    assert "park_coverage_buffer" not in sheet.latest_parks.after
    assert "park_coverage_buffer" in sheet.latest_parks.before
    assert sheet.latest_parks.gain_m2["park_coverage_buffer"] > 0
