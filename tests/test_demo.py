"""`gisrenew demo`: the main job on the sample city, end to end."""

import json
import re
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from gisrenew.cli import main
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.project import Project
from gisrenew.webmap.lifecircles import FIGURES_ELEMENT_ID

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"


@pytest.mark.slow
def test_demo_runs_every_analysis_and_leaves_the_sample_untouched(tmp_path):
    before = (SAMPLE / "project.gpkg").read_bytes()
    result = CliRunner().invoke(main, ["-q", "demo", "--out", str(tmp_path / "maps")])
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in (
        "公园绿地服务半径覆盖率",
        "十分钟步行",
        "城市更新地块",
        "新建口袋公园",
        "口袋公园选址",
    ):
        assert heading in out
    assert "古松弄" in out and "胜利村" in out and "原城厢镇三小" in out
    assert "81.14% → 86.18%" in out  # the sample's before/after ratio under tijian-2021
    assert "面积小于 2000 m²" in out  # the small pocket park that adds nothing (in Chinese)
    _check_both_walks(out)
    circles = _check_life_circles(out)
    assert (tmp_path / "maps" / "index.html").is_file()
    _check_life_circle_page(tmp_path / "maps" / "lifecircles.html", circles)
    _check_report(tmp_path / "maps", out)
    # the working copy holds the new parks and one history row; the bundled data do not
    copy = Project.open(tmp_path / "maps" / "project")
    assert len(copy.read_table("run_history")) == 1
    assert (SAMPLE / "project.gpkg").read_bytes() == before
    # a second run replaces its own working copy; in English, the reason is English
    again = CliRunner().invoke(
        main, ["-q", "demo", "--out", str(tmp_path / "maps"), "--lang", "en"]
    )
    assert again.exit_code == 0, again.output
    assert "area below 2000 m²" in again.output and "面积小于" not in again.output


def _check_both_walks(out: str) -> None:
    """Each walking figure names its distance: the tier radius walked, and 10 min at 4.8 km/h."""
    walking = out.split("十分钟步行", 1)[1].split("城市更新地块", 1)[0]
    tier = compute_indicators(gather_inputs(SAMPLE), methods=("network",), plans=False)
    minutes = compute_indicators(
        gather_inputs(SAMPLE, settings={"network": {"walk_minutes": 10}}),
        methods=("network",),
        plans=False,
    )
    city = next(line for line in walking.splitlines() if line.startswith("全市"))
    for name, network in (
        ("沿路网步行 500/300 m（按服务半径）", tier.network),
        ("步行 10 分钟（800 m，4.8 km/h）", minutes.network),
    ):
        assert name in walking
        assert f"{100 * network.ratio:.2f}%" in city
    assert tier.network.ratio != pytest.approx(minutes.network.ratio)


def _check_report(maps: Path, out: str) -> None:
    """The demo's report (page, Word, Excel) states the figures `gisrenew coverage --json`
    prints for the project after the recompute — exactly, in the workbook's cells and in
    `gisrenew report --json` — and its headline is the report's own wording."""
    assert "建成区公园绿地服务半径覆盖率（直线距离）提升至 86.18%" in out
    project = str(maps / "project")
    runner = CliRunner()
    coverage = runner.invoke(main, ["coverage", "--project", project, "--method", "both", "--json"])
    figures = json.loads(coverage.output)
    sheet = json.loads(runner.invoke(main, ["report", "--project", project, "--json"]).output)
    rows = {row["key"]: row for row in sheet["indicators"]}
    workbook = openpyxl.load_workbook(maps / "report" / "report.xlsx")
    cells = {r[0]: r[1] for r in workbook["指标"].iter_rows(values_only=True) if r[0]}
    for method, name in (("buffer", "直线距离"), ("network", "沿路网步行")):
        ratio = figures[method]["coverage_ratio"]
        row = rows[f"park_coverage_{method}"]
        assert row["value"] == ratio
        assert row["numerator"] == figures[method]["covered_area_m2"]
        assert row["denominator"] == figures[method]["residential_area_m2"]
        assert cells[f"公园绿地服务半径覆盖率（{name}）"] == ratio
    assert f"{100 * rows['park_coverage_buffer']['value']:.2f}%" in (
        maps / "report" / "report.html"
    ).read_text(encoding="utf-8")
    assert docx.Document(maps / "report" / "report.docx").inline_shapes  # the coverage picture


def test_demo_refuses_to_overwrite_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "maps" / "project").mkdir(parents=True)
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "maps")])
    assert result.exit_code == 1 and "not a demo copy" in result.output


def _check_life_circles(out: str) -> dict:
    """The life-circle table of the sample and its complete-circle shares, both methods,
    as the engine computes them."""
    section = out.split("社区生活圈", 1)[1].split("城市更新地块", 1)[0]
    inputs = gather_inputs(SAMPLE)
    circles = compute_indicators(inputs, methods=(), plans=False, life_circles=True).life_circles
    assert set(circles) == {"buffer", "network"}
    line = next(line for line in section.splitlines() if line.startswith("完整的15分钟生活圈"))
    straight, walk = line.split("直线", 1)[1].split("步行", 1)
    for text, result in ((straight, circles["buffer"]), (walk, circles["network"])):
        assert f"{100 * result.complete_share(15):.2f}%" in text
    assert circles["buffer"].complete_share(15) != pytest.approx(
        circles["network"].complete_share(15)
    )
    for rule in circles["buffer"].rules.facilities:  # every type of the rule set, marked
        assert rule.label_zh in section
    assert "* 未经核实" in section and "▲" in section
    return circles


def _check_life_circle_page(page: Path, circles: dict) -> None:
    """The published life-circle page shows the shares the demo printed (both methods)."""
    html = page.read_text(encoding="utf-8")
    block = re.search(rf'<script type="application/json" id="{FIGURES_ELEMENT_ID}">(.*?)</script>',
                      html, re.S)  # fmt: skip
    figures = json.loads(block.group(1))
    for method, result in circles.items():
        assert figures[method]["complete_share"]["15"] == pytest.approx(result.complete_share(15))
