"""Publishing the static map site: library function and ``gisrenew publish``."""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from browser import GK, X0, XSS_IMG, Y0, city_change, city_indicators, city_layers
from click.testing import CliRunner

from gisrenew.errors import InputError, ProjectError
from gisrenew.webmap.assets import external_references
from gisrenew.webmap.publish import publish_site

#: A site name carrying a payload (the maps' ``[maps] title``).
SITE_NAME = {"maps": {"title": f"太仓 {XSS_IMG}"}}


def test_publish_site_writes_maps_index_and_tables(webmap_city, tmp_path):
    city = webmap_city
    indicators = city_indicators(city_layers(city), coverage=city.coverage, settings=SITE_NAME)
    files = publish_site(indicators, tmp_path / "site", date="2024-05-01")
    names = [p.relative_to(tmp_path / "site").as_posix() for p in files]
    assert names[:2] == ["index.html", "index.json"]
    assert {"coverage.html", "plans.html"} <= set(names)
    assert {
        "tables/coverage_districts.csv",
        "tables/coverage_blind_spots.csv",
        "tables/plans_summary.csv",
    } <= set(names)
    assert all(p.is_file() for p in files)
    index = files[0].read_text(encoding="utf-8")
    assert XSS_IMG not in index and "太仓 &lt;img" in index
    assert (
        "2024-05-01" in index
        and 'href="coverage.html"' in index
        and 'href="tables/plans_parcels.csv"' in index
    )
    assert f"{100 * city.coverage.ratio:.1f}%" in index
    summary = json.loads(files[1].read_text(encoding="utf-8"))
    assert [m["key"] for m in summary["maps"]] == ["coverage", "plans"]
    assert summary["maps"][0]["layers"]["parks"]["features"] == 3
    # the CSV tables: UTF-8 with BOM, Chinese headers for a Chinese site, the figures of the result
    table = pd.read_csv(
        tmp_path / "site" / "tables" / "coverage_districts.csv", encoding="utf-8-sig"
    )
    assert len(table) == 2 and "城厢镇" in table.to_string()
    blind = pd.read_csv(
        tmp_path / "site" / "tables" / "coverage_blind_spots.csv", encoding="utf-8-sig"
    )
    assert len(blind) == len(city.coverage.blind_spots)
    plans = pd.read_csv(tmp_path / "site" / "tables" / "plans_summary.csv", encoding="utf-8-sig")
    assert "居民户" in plans.columns and plans["居民户"].tolist() == [150, 70]


def test_publish_site_draws_the_engines_coverage(webmap_city, tmp_path):
    city = webmap_city
    publish_site(city_indicators(city_layers(city)), tmp_path / "site")
    summary = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    # the coverage engine and the hand-made oracle of the fixture agree
    assert summary["maps"][0]["figures"]["覆盖率"] == f"{100 * city.coverage.ratio:.1f}%"


def test_publish_before_after(webmap_city, tmp_path):
    city = webmap_city
    indicators = city_indicators(city_layers(city, parks=city.all_parks), coverage=city.after)
    change = city_change(city)
    files = publish_site(indicators, tmp_path / "site", change=change, lang="en")
    names = {p.name for p in files}
    assert {
        "before_after.html",
        "before_after_figures.csv",
        "before_after_closed_blind_spots.csv",
    } <= names
    figures = pd.read_csv(
        tmp_path / "site" / "tables" / "before_after_figures.csv", encoding="utf-8-sig"
    )
    assert figures["after"].iloc[0] == pytest.approx(city.after.ratio)
    # a change that does not lead to the indicators published (its after is not theirs)
    stale = city_indicators(city_layers(city), coverage=city.before)
    with pytest.raises(InputError, match="before"):
        publish_site(stale, tmp_path / "other", change=change)
    # a change without new parks (closures only) still gets its before/after map
    closures = dataclasses.replace(
        change, added_parks=city.new_parks.iloc[:0], park_gains=change.park_gains.iloc[:0]
    )
    files = publish_site(indicators, tmp_path / "other", change=closures)
    assert "before_after.html" in {p.name for p in files}
    # publishing again without a change keeps the last change's before/after map and its
    # tables, still listed (issue #11: a plain publish used to delete them)
    (tmp_path / "other" / "notes.html").write_text("mine", encoding="utf-8")
    files = publish_site(indicators, tmp_path / "other")
    assert (tmp_path / "other" / "before_after.html").exists()
    assert (tmp_path / "other" / "tables" / "before_after_figures.csv").exists()
    assert "before_after.html" in {p.name for p in files}
    assert (tmp_path / "other" / "coverage.html").exists() and (
        tmp_path / "other" / "notes.html"
    ).exists()


def _written(path) -> tuple[int, int]:
    """Inode and modification time: a page written again (atomically) gets a new inode."""
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def test_publish_draws_again_only_the_pages_asked_for(webmap_city, tmp_path):
    """Issue #15: after a recompute, only the pages the change touches are drawn again;
    the others are kept as the earlier publish wrote them (and listed again)."""
    city = webmap_city
    indicators = city_indicators(city_layers(city, parks=city.all_parks), coverage=city.after)
    runs = [dataclasses.replace(city_change(city), run_id=n) for n in (1, 2, 3)]
    site = tmp_path / "site"
    publish_site(indicators, site, change=runs[0])
    kept = {name: _written(site / name) for name in ("coverage.html", "plans.html")}
    files = publish_site(indicators, site, changes=runs[:2], pages={"before_after"})
    names = {p.relative_to(site).as_posix() for p in files}
    assert {"coverage.html", "plans.html", "before_after.html", "before_after_1.html"} <= names
    assert {name: _written(site / name) for name in kept} == kept  # not written again
    assert "第 2 次" in (site / "before_after.html").read_text(encoding="utf-8")
    assert "第 1 次" in (site / "before_after_1.html").read_text(encoding="utf-8")
    summary = json.loads((site / "index.json").read_text(encoding="utf-8"))
    assert [m["key"] for m in summary["maps"]] == [
        "coverage", "plans", "before_after", "before_after_1",
    ]  # fmt: skip
    assert summary["maps"][0]["figures"]["覆盖率"] == f"{100 * city.after.ratio:.1f}%"
    # the next run: run 2's page gets its own name and is drawn; run 1's is kept
    run_1 = _written(site / "before_after_1.html")
    publish_site(indicators, site, changes=runs, pages={"before_after"})
    assert _written(site / "before_after_1.html") == run_1
    assert "第 2 次" in (site / "before_after_2.html").read_text(encoding="utf-8")
    # a page changed since it was written is not intact: it is drawn again
    (site / "plans.html").write_text("手改的页面", encoding="utf-8")
    publish_site(indicators, site, changes=runs, pages={"before_after"})
    assert "手改的页面" not in (site / "plans.html").read_text(encoding="utf-8")
    assert _written(site / "coverage.html") == kept["coverage.html"]
    # pages=None (the default) draws every page
    publish_site(indicators, site, changes=runs)
    assert _written(site / "coverage.html") != kept["coverage.html"]


def test_publish_offline_site_is_self_contained(webmap_city, tmp_path):
    indicators = city_indicators(city_layers(webmap_city), coverage=webmap_city.coverage)
    files = publish_site(indicators, tmp_path / "site", offline=True)
    for path in files:
        if path.suffix == ".html":
            assert external_references(path.read_text(encoding="utf-8")) == [], path
    summary = json.loads(files[1].read_text(encoding="utf-8"))
    assert summary["offline"] is True and summary["basemap"] == "none"


def test_nothing_to_publish(tmp_path, webmap_city):
    with pytest.raises(InputError, match="nothing to publish"):
        publish_site(city_indicators({"districts": webmap_city.districts}), tmp_path / "site")


def test_map_settings_refuse_unknown_keys(webmap_city, tmp_path):
    layers = city_layers(webmap_city)
    chosen = city_indicators(layers, settings={"maps": {"basemap": "gaode", "lang": "zh"}})
    publish_site(chosen, tmp_path / "chosen")
    summary = json.loads((tmp_path / "chosen" / "index.json").read_text(encoding="utf-8"))
    assert (summary["basemap"], summary["lang"]) == ("gaode", "zh")
    synonym = city_indicators(layers, settings={"maps": {"language": "en"}})
    publish_site(synonym, tmp_path / "synonym")
    assert (
        json.loads((tmp_path / "synonym" / "index.json").read_text(encoding="utf-8"))["lang"]
        == "en"
    )
    with pytest.raises(ProjectError, match="basemp"):
        city_indicators(layers, settings={"maps": {"basemp": "gaode"}})


def test_keyword_arguments_win_over_the_map_settings(webmap_city, tmp_path):
    settings = {"maps": {"lang": "en", "basemap": "gaode", "offline": True, "title": "设置的标题"}}
    indicators = city_indicators(city_layers(webmap_city), settings=settings)
    publish_site(
        indicators, tmp_path / "site", lang="zh", basemap="none", offline=False, title="我的标题"
    )
    summary = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    assert (summary["lang"], summary["basemap"], summary["offline"]) == ("zh", "none", False)
    assert summary["title"] == "我的标题"
    publish_site(indicators, tmp_path / "from_settings")
    summary = json.loads((tmp_path / "from_settings" / "index.json").read_text(encoding="utf-8"))
    assert (summary["lang"], summary["basemap"], summary["offline"]) == ("en", "gaode", True)
    assert summary["title"] == "设置的标题"


def test_the_same_indicators_give_the_same_pages(webmap_city, tmp_path):
    city = webmap_city
    indicators = city_indicators(city_layers(city, parks=city.all_parks), coverage=city.after)
    change = city_change(city)
    first = publish_site(indicators, tmp_path / "a", change=change, date="2024-05-01")
    second = publish_site(indicators, tmp_path / "b", change=change, date="2024-05-01")
    names = [p.relative_to(tmp_path / "a").as_posix() for p in first]
    assert names == [p.relative_to(tmp_path / "b").as_posix() for p in second]
    assert len(names) > 10
    for name in names:
        a, b = (_numbered_ids((tmp_path / d / name).read_text(encoding="utf-8")) for d in "ab")
        assert a == b, name


def _numbered_ids(page: str) -> str:
    """`page` with folium's random element ids numbered in order of appearance."""
    ids: dict[str, str] = {}
    return re.sub(r"[0-9a-f]{32}", lambda m: ids.setdefault(m.group(0), f"id{len(ids)}"), page)


def test_publishing_never_calls_an_engine(webmap_city, tmp_path, monkeypatch):
    city = webmap_city
    roads = _roads()
    layers = city_layers(city, parks=city.all_parks, roads=roads)
    indicators = city_indicators(layers)
    assert indicators.network is not None and indicators.plans is not None
    change = city_change(city)
    change = dataclasses.replace(change, after=indicators.buffer)

    def engine(*args, **kwargs):
        raise AssertionError("publishing called an engine")

    for name in (
        "gisrenew.coverage.compute_coverage",
        "gisrenew.coverage.closed_blind_spots",
        "gisrenew.coverage.opened_blind_spots",
        "gisrenew.coverage.park_contribution",
        "gisrenew.network.network_coverage",
        "gisrenew.network.walk_graph_from_roads",
        "gisrenew.plans.affected_parcels",
        "gisrenew.plans.affected_parcel_layer",
        "gisrenew.plans.plan_summary",
        "gisrenew.plans.plan_totals",
        "gisrenew.plans.signing_status",
        "gisrenew.io.conform",
        "gisrenew.io.conformed",
        "gisrenew.project.Project.open",
    ):
        monkeypatch.setattr(name, engine)
    files = publish_site(indicators, tmp_path / "site", change=change)
    assert {"coverage.html", "coverage_network.html", "plans.html", "before_after.html"} <= {
        p.name for p in files
    }


def _roads():
    """Two streets through the tiny city (for the walking-network map)."""
    lines = [
        shapely.LineString([(X0 - 100, Y0 + 150), (X0 + 3300, Y0 + 150)]),
        shapely.LineString([(X0 + 3100, Y0 - 100), (X0 + 3100, Y0 + 3300)]),
    ]
    return gpd.GeoDataFrame({"road_id": ["s1", "s2"]}, geometry=lines, crs=GK)


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
    assert (
        (site / "index.html").is_file()
        and (site / "coverage.html").is_file()
        and (site / "plans.html").is_file()
    )
    assert "测试城" in (site / "index.html").read_text(encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        [
            "publish",
            "--project",
            str(project_dir),
            "--out",
            str(out),
            "--basemap",
            "gaode",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "coverage.html" in result.output
    assert "webrd0" in (out / "coverage.html").read_text(encoding="utf-8")
    # Tianditu without a key: a message, exit 1
    result = runner.invoke(
        main, ["publish", "--project", str(project_dir), "--basemap", "tianditu"]
    )
    assert result.exit_code == 1 and "TIANDITU_KEY" in result.output
    result = runner.invoke(main, ["publish", "--project", str(project_dir), "--basemap", "baidu"])
    assert result.exit_code == 2
