"""The planner notebooks: committed without outputs, they run top to bottom, in one language.

Each notebook runs with the parameters of its 👉 cell (tagged ``parameters``); a test
may override them with a cell inserted after it, as papermill does. A first cell records
the text of every chart shown (titles, axis labels, legends), so the language of the
charts can be checked like the markdown and the printed text.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import geopandas as gpd
import nbformat
import pytest
from language import data_strings, foreign_words, lines_with

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = {
    "01_coverage_analysis.ipynb",
    "02_renewal_plans.ipynb",
    "03_new_pocket_parks.ipynb",
    "04_life_circles.ipynb",
}
SAMPLE = ROOT / "data" / "geo" / "taicang_sample"

_RECORD_CHARTS = """
import matplotlib.pyplot
_chart_texts = []
_show = matplotlib.pyplot.show
def _shown_texts(ax):
    texts = [ax.get_title(loc) for loc in ("left", "center", "right")]
    if ax.axison:
        texts += [ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    legend = ax.get_legend()
    if legend is not None:
        texts += [legend.get_title().get_text()] + [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t]
def _recording_show(*args, **kwargs):
    for number in matplotlib.pyplot.get_fignums():
        for ax in matplotlib.pyplot.figure(number).axes:
            _chart_texts.extend(_shown_texts(ax))
    return _show(*args, **kwargs)
matplotlib.pyplot.show = _recording_show
"""
_REPORT_CHARTS = 'import json\nprint("CHART-TEXTS" + json.dumps(_chart_texts, ensure_ascii=False))'
#: The rule sets the notebooks name (their names and titles are names, not words).
RULE_SETS = ("tijian-2021", "garden-city-500", "gbt51346-2019")


def test_all_four_notebooks_exist():
    assert EXPECTED <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not cell.get("outputs"), f"{path.name} cell {index} has committed outputs"
        assert cell.get("execution_count") is None, f"{path.name} cell {index} has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_sample_names_in_the_code(path):
    """The code works on a planner's project: no name of the sample's data in it."""
    names = {n for n in data_strings(SAMPLE / "project.gpkg") if re.search("[\u4e00-\u9fff]", n)}
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not [n for n in names if n in code]


def execute(path: Path, out: Path, parameters: str = "") -> tuple[nbformat.NotebookNode, list]:
    """Run `path` with its outputs under `out` (and `parameters` after the 👉 cell)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    cells = list(nb.cells)
    at = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    if parameters:
        cells.insert(at + 1, nbformat.v4.new_code_cell(parameters))
    cells.insert(0, nbformat.v4.new_code_cell(_RECORD_CHARTS))
    cells.append(nbformat.v4.new_code_cell(_REPORT_CHARTS))
    nb.cells = cells
    env_before = os.environ.get("GISRENEW_OUT")
    os.environ["GISRENEW_OUT"] = str(out)  # never into the repository
    try:
        client = NotebookClient(
            nb, timeout=300, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )  # fmt: skip
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("GISRENEW_OUT", None)
        else:
            os.environ["GISRENEW_OUT"] = env_before
    report = nb.cells[-1].outputs[0]["text"]
    return nb, json.loads(report.split("CHART-TEXTS", 1)[1])


def _outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _shown_text(nb, charts: list[str]) -> str:
    """Markdown (code spans left out), printed text, tables and chart texts of a run."""
    parts = [re.sub(r"`[^`]*`", " ", c.source) for c in nb.cells if c.cell_type == "markdown"]
    for output in _outputs(nb)[:-1]:
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        html = output.get("data", {}).get("text/html", "")
        if html and "srcdoc" not in html:
            parts.append(
                re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", html, flags=re.S))
            )
    return "\n".join(parts + charts)


def _names() -> set[str]:
    names = data_strings(
        SAMPLE / "project.gpkg", SAMPLE / "new_pocket_parks.gpkg", SAMPLE / "candidate_sites.gpkg"
    )
    from gisrenew.rules import get_rules

    for rules in map(get_rules, RULE_SETS):
        names |= {rules.name, rules.title, rules.version}
    return names


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    nb, charts = execute(path, tmp_path)
    outputs = _outputs(nb)
    assert "error" not in {output.get("output_type") for output in outputs}
    # each notebook shows, not just computes: tables, a chart and a map
    data = [output.get("data", {}) for output in outputs]
    assert any("image/png" in d for d in data), "no chart (matplotlib figure)"
    maps = [d["text/html"] for d in data if "srcdoc" in d.get("text/html", "")]
    assert maps and all("leaflet" in page.lower() for page in maps), "no map"
    assert any("text/html" in d and "<table" in d["text/html"] for d in data), "no table"
    # the maps are self-contained (no CDN: they draw on an intranet) and not oversized
    for page in maps:
        assert not re.search(r"<(?:script|link)\b[^>]*(?:src|href)=&quot;https?:", page)
        assert "cdn.jsdelivr" not in page and len(page) < 1_500_000
    # one language: the headings, the printed text, the tables and the charts are Chinese
    assert charts and any(re.search("[\u4e00-\u9fff]", text) for text in charts)
    text = _shown_text(nb, charts)
    words = foreign_words(text, "zh", names=_names(), paths=[str(tmp_path)])
    assert not words, f"English in {path.name}: {words}\n{lines_with(text, words)}"


def _renamed_project(folder: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The sample's layers in a new project, parks without ids (numbered 1, 2, ...), and
    the sample's new pocket parks in a file without ids: the project renames them."""
    from gisrenew.project import Project

    layers = {
        kind: gpd.read_file(SAMPLE / "project.gpkg", layer=kind, engine="pyogrio")
        for kind in ("parks", "residential", "boundary", "districts")
    }
    layers["parks"] = layers["parks"].drop(columns="park_id")
    Project.create(folder, layers, name="改名的项目")
    new_parks = gpd.read_file(SAMPLE / "new_pocket_parks.gpkg", engine="pyogrio")
    path = tmp_path / "新建公园.gpkg"
    new_parks.drop(columns="park_id").to_file(path, engine="pyogrio")
    return folder, path


@pytest.mark.slow
def test_notebook_03_lists_the_new_parks_of_a_project_that_renamed_them(tmp_path):
    """Issue #14: 03 joined on the file's ids (1..5), which are old parks in such a project."""
    project, new_parks = _renamed_project(tmp_path / "project", tmp_path)
    parameters = (
        f"PROJECT = Path({str(project)!r})\nNEW_PARKS = Path({str(new_parks)!r})\n"
        f"CANDIDATES = Path({str(SAMPLE / 'candidate_sites.gpkg')!r})"
    )
    path = ROOT / "notebooks" / "03_new_pocket_parks.ipynb"
    nb, _ = execute(path, tmp_path / "out", parameters)
    assert "error" not in {o.get("output_type") for o in _outputs(nb)}
    cell = next(c for c in nb.cells if "new-park-gains" in c.metadata.get("tags", []))
    shown = re.sub(r"<[^>]+>", " ", cell.outputs[0]["data"]["text/html"])
    ids = re.findall(r"新建公园-\d+", shown)
    assert sorted(set(ids)) == [f"新建公园-{i}" for i in range(1, 6)]
    # the new parks by name, and none of the old parks numbered 1..5 like the file's rows
    names = gpd.read_file(SAMPLE / "new_pocket_parks.gpkg", engine="pyogrio")["name"]
    assert all(name in shown for name in names)
    old = gpd.read_file(project / "project.gpkg", layer="parks", engine="pyogrio")
    first = old[old["park_id"].astype(str).isin([str(i) for i in range(1, 6)])]
    assert len(first) == 5 and not [name for name in first["name"] if name in shown]
