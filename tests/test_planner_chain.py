"""A planner's own data through the whole command line: nothing of theirs is lost (issue 13).

The planner's files (GBK Shapefiles without .cpg in EPSG:4490 with the headers 编号, 名称,
户数, 街道编号, 已签约户数, 可步行, 公园编号, ...; a GeoPackage with the layers 居住用地,
建成区, 街道, 水系) run through ``validate → init → coverage → affected → recompute →
publish``. The oracle is the bundled sample the files were made from, run through the
same commands: every figure must agree, and every id must be the planner's own
(``D01``, ``PL01``, ``XGY01``), in the tables, the JSON, the Excel files and the maps.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from planner_files import SAMPLE, id_maps

from gisrenew.cli import main

pytestmark = pytest.mark.slow


def _ok(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def chain(planner_data, tmp_path_factory):
    """The planner's project after the whole chain, and what each command printed."""
    folder, files = planner_data
    work = tmp_path_factory.mktemp("chain")
    project = work / "太仓项目"
    out = {"validate": _ok("validate", folder)}
    out["init"] = _ok("init", project, folder)
    out["coverage"] = json.loads(_ok("coverage", "--project", project, "--method", "both",
                                     "--json", "-o", work / "coverage.xlsx"))  # fmt: skip
    out["coverage_table"] = _ok("coverage", "--project", project)
    out["affected"] = json.loads(_ok("affected", "--project", project, "--json",
                                     "-o", work / "plans.xlsx"))  # fmt: skip
    out["affected_table"] = _ok("affected", "--project", project)
    out["recompute"] = json.loads(_ok("recompute", "--project", project, "--add-parks",
                                      files["new_parks"], "--no-publish", "--json"))  # fmt: skip
    out["publish"] = _ok("publish", "--project", project, "-o", work / "site")
    return project, work, out


@pytest.fixture(scope="module")
def oracle():
    """The sample's own figures, read by the same commands (the sample is not changed)."""
    return {
        "coverage": json.loads(_ok("coverage", "--project", SAMPLE, "--method", "both", "--json")),
        "affected": json.loads(_ok("affected", "--project", SAMPLE, "--json")),
    }


def test_validate_finds_nothing_to_warn_about(chain):
    out = chain[2]["validate"]
    assert "10 layer(s) checked: 0 error(s), 0 warning(s)" in out


def test_districts_keep_their_codes_and_figures(chain, oracle):
    ids = id_maps()["districts"]
    mine = {d["district_id"]: d for d in chain[2]["coverage"]["districts"]}
    theirs = {ids[d["district_id"]]: d for d in oracle["coverage"]["districts"]}
    assert set(mine) == set(theirs) == {f"D{i:02d}" for i in range(1, 8)}
    for code, figures in theirs.items():
        for key in ("buffer_ratio", "network_ratio"):
            assert mine[code][key] == pytest.approx(figures[key], abs=1e-9), (code, key)
    assert "城厢镇 (D01)" in chain[2]["coverage_table"]


def test_walkability_and_entrance_links_arrive(chain, oracle):
    """可步行 keeps the expressway out of the walk and 公园编号 ties entrances to parks:
    the walking figures equal the sample's (with both lost they differ)."""
    for method in ("buffer", "network"):
        mine, theirs = chain[2]["coverage"][method], oracle["coverage"][method]
        assert mine["coverage_ratio"] == pytest.approx(theirs["coverage_ratio"], abs=1e-12)
        assert mine["covered_area_m2"] == pytest.approx(theirs["covered_area_m2"], rel=1e-9)


def test_plans_keep_ids_and_signing_progress(chain, oracle):
    ids = id_maps()["plans"]
    mine = {p["plan_id"]: p for p in chain[2]["affected"]["plans"]}
    theirs = {ids[p["plan_id"]]: p for p in oracle["affected"]["plans"]}
    assert set(mine) == set(theirs)
    for code, plan in theirs.items():
        for key in ("signing_status", "signed", "households_residential", "parcel_count"):
            assert mine[code][key] == plan[key], (code, key)
    assert {p["signing_status"] for p in mine.values()} >= {"signing", "signed", "not_started"}
    table = chain[2]["affected_table"]
    assert "PL01" in table and "签约中" in table and "签约情况未知" not in table


def test_excel_files_hold_the_planners_ids(chain):
    work = chain[1]
    plans = pd.read_excel(work / "plans.xlsx", sheet_name="更新项目")
    assert plans["更新项目编号"].tolist()[:3] == ["PL01", "PL02", "PL03"]
    assert "签约情况未知" not in set(plans["签约进度"])
    pairs = pd.read_excel(work / "plans.xlsx", sheet_name="项目涉及地块")
    assert pairs["更新项目编号"].str.match(r"PL\d\d").all()
    assert pairs["地块编号"].str.match(r"DK\d\d").all()
    districts = pd.read_excel(work / "coverage.xlsx", sheet_name="直线·各片区覆盖率")
    assert sorted(districts.iloc[:, 0]) == [f"D{i:02d}" for i in range(1, 8)]


def test_new_parks_keep_their_ids_in_the_recompute(chain):
    report = chain[2]["recompute"]
    assert report["changed"]
    assert sorted(p["park_id"] for p in report["added"]) == [f"XGY{i:02d}" for i in range(1, 6)]
    assert report["districts"][0]["district_id"].startswith("D")
    history = json.loads(_ok("history", "--project", chain[0], "--json"))
    assert history["runs"][-1]["added_parks"] == [f"XGY{i:02d}" for i in range(1, 6)]


def test_published_maps_show_the_planners_ids(chain):
    site = chain[1] / "site"
    index = json.loads((site / "index.json").read_text(encoding="utf-8"))
    tables = {t for m in index["maps"] for t in m.get("tables", [])}
    districts = pd.read_csv(site / "tables" / "coverage_districts.csv", encoding="utf-8-sig")
    assert sorted(districts.iloc[:, 0]) == [f"D{i:02d}" for i in range(1, 8)]
    plans = pd.read_csv(site / "tables" / "plans_summary.csv", encoding="utf-8-sig")
    assert plans.iloc[:, 0].str.match(r"PL\d\d").all()
    parks = pd.read_csv(site / "tables" / "coverage_parks.csv", encoding="utf-8-sig")
    assert set(parks.iloc[:, 0]) >= {"GY01", "XGY01"}
    assert any("coverage_districts" in t for t in tables)
