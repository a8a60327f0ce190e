"""Publishing the static map site: library function and ``gisrenew publish``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from browser import XSS_IMG
from click.testing import CliRunner

from gisrenew.errors import InputError, ProjectError
from gisrenew.webmap.assets import external_references
from gisrenew.webmap.publish import SiteInputs, map_settings, publish_site


def _inputs(city, **kwargs) -> SiteInputs:
    layers = {
        "parks": city.parks,
        "residential": city.residential,
        "districts": city.districts,
        "boundary": city.boundary,
        "plans": city.plans,
        "parcels": city.parcels,
    }
    return SiteInputs(layers=layers, name=f"太仓 {XSS_IMG}", **kwargs)


def test_publish_site_writes_maps_index_and_tables(webmap_city, tmp_path):
    city = webmap_city
    files = publish_site(_inputs(city, coverage=city.coverage), tmp_path / "site", date="2024-05-01")
    names = [p.relative_to(tmp_path / "site").as_posix() for p in files]
    assert names[:2] == ["index.html", "index.json"]
    assert {"coverage.html", "plans.html"} <= set(names)
    assert {"tables/coverage_districts.csv", "tables/coverage_blind_spots.csv", "tables/plans_summary.csv"} <= set(names)
    assert all(p.is_file() for p in files)
    index = files[0].read_text(encoding="utf-8")
    assert XSS_IMG not in index and "太仓 &lt;img" in index
    assert "2024-05-01" in index and 'href="coverage.html"' in index and 'href="tables/plans_parcels.csv"' in index
    assert f"{100 * city.coverage.ratio:.1f}%" in index
    summary = json.loads(files[1].read_text(encoding="utf-8"))
    assert [m["key"] for m in summary["maps"]] == ["coverage", "plans"]
    assert summary["maps"][0]["layers"]["parks"]["features"] == 3
    # the CSV tables: UTF-8 with BOM, Chinese headers for a Chinese site, the figures of the result
    table = pd.read_csv(tmp_path / "site" / "tables" / "coverage_districts.csv", encoding="utf-8-sig")
    assert len(table) == 2 and "城厢镇" in table.to_string()
    blind = pd.read_csv(tmp_path / "site" / "tables" / "coverage_blind_spots.csv", encoding="utf-8-sig")
    assert len(blind) == len(city.coverage.blind_spots)
    plans = pd.read_csv(tmp_path / "site" / "tables" / "plans_summary.csv", encoding="utf-8-sig")
    assert "居民户" in plans.columns and plans["居民户"].tolist() == [150, 70]


def test_publish_site_computes_coverage_with_the_engine(webmap_city, tmp_path):
    city = webmap_city
    publish_site(_inputs(city), tmp_path / "site")
    summary = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    # the coverage engine and the hand-made oracle of the fixture agree
    assert summary["maps"][0]["figures"]["覆盖率"] == f"{100 * city.coverage.ratio:.1f}%"


def test_publish_before_after(webmap_city, tmp_path):
    city = webmap_city
    inputs = _inputs(city, coverage=city.after)
    inputs.layers["parks"] = city.all_parks
    files = publish_site(inputs, tmp_path / "site", before=city.before, new_parks=city.new_parks, lang="en")
    names = {p.name for p in files}
    assert {"before_after.html", "before_after_figures.csv", "before_after_closed_blind_spots.csv"} <= names
    figures = pd.read_csv(tmp_path / "site" / "tables" / "before_after_figures.csv", encoding="utf-8-sig")
    assert figures["after"].iloc[0] == pytest.approx(city.after.ratio)
    with pytest.raises(InputError, match="before"):
        publish_site(inputs, tmp_path / "other", new_parks=city.new_parks)
    # a change without new parks (closures only) still gets its before/after map
    files = publish_site(inputs, tmp_path / "other", before=city.before, new_parks=None)
    assert "before_after.html" in {p.name for p in files}
    # publishing again without a change keeps the last change's before/after map and its
    # tables, still listed (issue #11: a plain publish used to delete them)
    (tmp_path / "other" / "notes.html").write_text("mine", encoding="utf-8")
    files = publish_site(inputs, tmp_path / "other")
    assert (tmp_path / "other" / "before_after.html").exists()
    assert (tmp_path / "other" / "tables" / "before_after_figures.csv").exists()
    assert "before_after.html" in {p.name for p in files}
    assert (tmp_path / "other" / "coverage.html").exists() and (tmp_path / "other" / "notes.html").exists()


def test_publish_offline_site_is_self_contained(webmap_city, tmp_path):
    files = publish_site(_inputs(webmap_city, coverage=webmap_city.coverage), tmp_path / "site", offline=True)
    for path in files:
        if path.suffix == ".html":
            assert external_references(path.read_text(encoding="utf-8")) == [], path
    summary = json.loads(files[1].read_text(encoding="utf-8"))
    assert summary["offline"] is True and summary["basemap"] == "none"


def test_nothing_to_publish(tmp_path, webmap_city):
    with pytest.raises(InputError, match="nothing to publish"):
        publish_site({"districts": webmap_city.districts}, tmp_path / "site")


def test_map_settings_refuse_unknown_keys():
    assert map_settings({"basemap": "gaode", "lang": "zh"}) == {"basemap": "gaode", "lang": "zh"}
    assert map_settings({"language": "en"}) == {"lang": "en"}
    with pytest.raises(ProjectError, match="basemp"):
        map_settings({"basemp": "gaode"})


@pytest.fixture
def project_dir(webmap_city, tmp_path):
    from gisrenew.project import Project

    city = webmap_city
    folder = tmp_path / "proj"
    Project.create(
        folder,
        {
            "parks": city.parks,
            "residential": city.residential,
            "districts": city.districts,
            "boundary": city.boundary,
            "plans": city.plans,
            "parcels": city.parcels,
        },
        name="测试城",
    )
    return folder


def test_cli_publish_from_a_project(project_dir, tmp_path, monkeypatch):
    from gisrenew.cli import main

    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["publish", "--project", str(project_dir), "--offline", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    site = project_dir / "maps"
    assert data["folder"] == str(site) and data["offline"] is True and data["lang"] == "zh"
    assert (site / "index.html").is_file() and (site / "coverage.html").is_file() and (site / "plans.html").is_file()
    assert "测试城" in (site / "index.html").read_text(encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        main, ["publish", "--project", str(project_dir), "--out", str(out), "--basemap", "gaode", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "coverage.html" in result.output
    assert "webrd0" in (out / "coverage.html").read_text(encoding="utf-8")
    # Tianditu without a key: a message, exit 1
    result = runner.invoke(main, ["publish", "--project", str(project_dir), "--basemap", "tianditu"])
    assert result.exit_code == 1 and "TIANDITU_KEY" in result.output
    result = runner.invoke(main, ["publish", "--project", str(project_dir), "--basemap", "baidu"])
    assert result.exit_code == 2
