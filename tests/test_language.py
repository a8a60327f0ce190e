"""One language at a time (issue #14): with --lang zh every word a user sees is Chinese,
with --lang en English — on the sample run and on a planner's own project.

Each run's outputs are read as a user sees them: the printed text (``--json`` excepted),
the headers and sheet names of the CSV and Excel files, and every page of the published
site in a browser — its text, every popup and every tooltip. A word of the other
language fails the test; names from the data (every text value of the project's input
layers), the project's name, the rule set's name and title, and folders are exempt
(:mod:`language`).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from language import data_strings, foreign_words, lines_with, page_texts

from gisrenew.cli import main
from gisrenew.config import ProjectConfig
from gisrenew.lifecircles import get_life_circle_rules
from gisrenew.project import Project, copy_project
from gisrenew.rules import get_rules
from gisrenew.schema import LAYERS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"
LANGS = ("zh", "en")


def _ok(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _table_words(path: Path) -> str:
    """What a spreadsheet shows before any data: sheet names and header rows."""
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return " | ".join(next(csv.reader(fh)))
    book = openpyxl.load_workbook(path, read_only=True)
    parts = []
    for sheet in book.worksheets:
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        parts.append(sheet.title + ": " + " | ".join(str(v) for v in header if v is not None))
    return "\n".join(parts)


def _names(project: Path) -> set[str]:
    """Names from the data: the text of the project's input layers, its name, its rules."""
    store = Project.open(project)
    kinds = [kind for kind in LAYERS if store.has(kind)]
    names = data_strings(store.gpkg_path, layers=kinds)
    config = ProjectConfig.load(project)
    rules = get_rules(config.rules_source())
    circles = get_life_circle_rules(config.life_circle_rules_source())  # 社区生活圈 rule set
    return (
        names
        | {store.config.name, rules.name, rules.title, rules.version}
        | {circles.name, circles.title, circles.version}
    )


def _check(text: str, lang: str, names: set[str], paths: list[str], what: str) -> None:
    words = foreign_words(text, lang, names=names, paths=paths)
    assert not words, f"{what} ({lang}) holds {words}:\n{lines_with(text, words)}"


def _check_site(map_browser, site: Path, lang: str, names: set[str], paths: list[str]) -> None:
    pages = sorted(site.glob("*.html"))
    assert any(p.name == "before_after.html" for p in pages)
    for page in pages:
        text = "\n".join(page_texts(map_browser, page))
        _check(text, lang, names, paths, page.name)
    for table in sorted((site / "tables").glob("*.csv")):
        _check(_table_words(table), lang, names, paths, table.name)


@pytest.mark.parametrize("lang", LANGS)
def test_the_sample_run_speaks_one_language(lang, map_browser, tmp_path):
    site = tmp_path / "maps"
    printed = _ok("-q", "demo", "-o", site, "--lang", lang)
    project = site / "project"
    paths = [str(tmp_path), str(SAMPLE), str(SAMPLE.resolve())]
    names = _names(project) | data_strings(SAMPLE / "candidate_sites.gpkg")
    _check(printed, lang, names, paths, "gisrenew demo")
    sites = tmp_path / "sites.xlsx"  # (coverage and plans files: the planner's project below)
    _ok("sites", "--project", project, "--candidates", SAMPLE / "candidate_sites.gpkg",
        "-o", sites, "--lang", lang)  # fmt: skip
    _check(_table_words(sites), lang, names, paths, sites.name)
    _check_site(map_browser, site, lang, names, paths)


@pytest.fixture(scope="module")
def planner_project(planner_data, tmp_path_factory):
    """A planner's own project from their files (no [maps] settings: every default)."""
    folder, files = planner_data
    project = tmp_path_factory.mktemp("language") / "太仓项目"
    _ok("init", project, folder)
    assert "[maps]" not in (project / "gisrenew.toml").read_text(encoding="utf-8")
    return project, files


@pytest.mark.parametrize("lang", LANGS)
def test_a_planners_project_speaks_one_language(lang, planner_project, map_browser, tmp_path):
    original, files = planner_project
    project = tmp_path / "项目"
    copy_project(original, project)
    paths = [str(tmp_path), str(original), str(Path(files["new_parks"]).parent)]
    files_out = [tmp_path / "coverage.xlsx", tmp_path / "plans.csv"]
    printed = [
        _ok("coverage", "--project", project, "--method", "both", "--contribution",
            "-o", files_out[0], "--lang", lang),
        _ok("affected", "--project", project, "-o", files_out[1], "--lang", lang),
        _ok("recompute", "--project", project, "--add-parks", files["new_parks"], "--no-publish",
            "--lang", lang),
        _ok("publish", "--project", project, "--lang", lang),
        _ok("history", "--project", project, "--lang", lang),
    ]  # fmt: skip
    names = _names(project)
    for text in printed:
        _check(text, lang, names, paths, "the command line")
    for path in [files_out[0], *tmp_path.glob("plans_*.csv")]:
        _check(_table_words(path), lang, names, paths, path.name)
    _check_site(map_browser, project / "maps", lang, names, paths)
    shutil.rmtree(project / "maps")
