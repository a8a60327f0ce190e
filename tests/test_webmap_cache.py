"""Issue #15: a publish after a park change reuses what it drew before, and draws the same.

The map cache (:mod:`gisrenew.webmap.drawcache`) keeps the drawn geometry of large
layers and their encoded popup columns between publishes. These tests check that a
publish with a warm cache writes the same site as a publish from scratch with no cache
(byte for byte but for folium's random element ids), that it does not draw the parcels
again, and that a damaged, foreign or unwritable cache only costs time.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from gisrenew.cli import main
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.project import Project, copy_project
from gisrenew.recompute import read_changes, recompute
from gisrenew.webmap import MapOptions, before_after_map, drawcache, page, publish_site
from gisrenew.webmap.publish import PAGES_A_PARK_CHANGE_DRAWS

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0
DATE = "2026-12-03"
#: Every polygon layer of more than one feature packed: the small city takes the path
#: of a big one (cached geometry, cached popup columns).
OPTIONS = MapOptions(packed_features=1)
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "geo" / "taicang_sample"


def _box(x, y, w, h):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _city() -> dict[str, gpd.GeoDataFrame]:
    """A 1 km grid of streets, 60 parcels in 6 blocks (named), 4 parks, 2 districts."""
    ticks = np.arange(0.0, 1001.0, 200.0)
    lines = [shapely.LineString([(X0 + t, Y0), (X0 + t, Y0 + 1000)]) for t in ticks]
    lines += [shapely.LineString([(X0, Y0 + t), (X0 + 1000, Y0 + t)]) for t in ticks]
    roads = gpd.GeoDataFrame({"road_id": [f"s{i}" for i in range(len(lines))]}, geometry=lines,
                             crs=CRS)  # fmt: skip
    cells = [(x, y) for x in range(10) for y in range(6)]
    residential = gpd.GeoDataFrame(
        {
            "residential_id": [f"r{i}" for i in range(len(cells))],
            "name": [f"新村{i}号<b>" for i in range(len(cells))],  # escaped on every page
            "households": [10 + i for i in range(len(cells))],
        },
        geometry=[_box(20 + 100 * x, 20 + 160 * y, 60, 50) for x, y in cells],
        crs=CRS,
    )
    parks = gpd.GeoDataFrame(
        {"park_id": ["p0", "p1", "p2", "p3"], "name": ["东园", "西园", "南园", "北园"],
         "park_class": ["G12"] * 4},
        geometry=[_box(120, 120, 60, 60), _box(720, 320, 60, 60), _box(320, 720, 40, 40),
                  _box(900, 900, 50, 50)],
        crs=CRS,
    )  # fmt: skip
    districts = gpd.GeoDataFrame(
        {"district_id": ["w", "e"], "name": ["城西", "城东"]},
        geometry=[_box(-50, -50, 550, 1100), _box(500, -50, 550, 1100)],
        crs=CRS,
    )
    return {"parks": parks, "residential": residential, "districts": districts, "roads": roads}


def _new_park() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": ["n1"], "name": ["新口袋公园"], "park_class": ["G14"]},
        geometry=[_box(420, 20, 70, 70)],
        crs=CRS,
    )


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "city", _city(), working_crs=CRS, rules="tijian-2021")


def _numbered_ids(text: str) -> str:
    """`text` with folium's random element ids numbered in order of appearance."""
    ids: dict[str, str] = {}
    return re.sub(r"[0-9a-f]{32}", lambda m: ids.setdefault(m.group(0), f"id{len(ids)}"), text)


def _site_files(site: Path) -> dict[str, str]:
    """Every page, table and index of a site (not its manifest), ids numbered."""
    return {
        p.relative_to(site).as_posix(): _numbered_ids(p.read_text(encoding="utf-8-sig"))
        for p in sorted(site.rglob("*"))
        if p.is_file() and p.name != ".gisrenew-site.json"
    }


@pytest.fixture
def drawn(monkeypatch) -> list[int]:
    """The sizes of the layers whose geometry was drawn (simplified and reprojected)."""
    sizes: list[int] = []
    real = page._display

    def spy(geoms, crs, ctx):
        sizes.append(len(geoms))
        return real(geoms, crs, ctx)

    monkeypatch.setattr(page, "_display", spy)
    monkeypatch.setattr(drawcache, "MIN_ROWS", 2)  # the small city is cached as a big one
    return sizes


@pytest.fixture
def worded(monkeypatch) -> list[tuple]:
    """The popup columns that were worded (their ``how``)."""
    calls: list[tuple] = []
    real = page.Worded.words

    def spy(self):
        calls.append(self.how)
        return real(self)

    monkeypatch.setattr(page.Worded, "words", spy)
    return calls


def _after_a_park(project: Project, site: Path, cache: Path | None):
    """Publish the project, add a park, and return the recompute and the changes to draw."""
    before = compute_indicators(gather_inputs(project), plans=False)
    publish_site(before, site, cache=cache, options=OPTIONS, date=DATE)
    result = recompute(project, add_parks=[_new_park()])
    return result, read_changes(project)


def _publish(result, changes, site: Path, cache: Path | None, *, pages=None) -> None:
    publish_site(
        result.after, site, change=result.change, changes=changes, cache=cache,
        options=OPTIONS, date=DATE, pages=pages,
    )  # fmt: skip


def test_a_publish_with_a_warm_cache_equals_a_publish_from_scratch(
    project, tmp_path, drawn, worded
):
    site, cache = tmp_path / "maps", project.folder / ".gisrenew-cache" / "maps"
    result, changes = _after_a_park(project, site, cache)
    assert any(cache.glob("geometry-*.json")) and any(cache.glob("col-*.json"))
    drawn.clear()
    worded.clear()
    _publish(result, changes, site, cache, pages=PAGES_A_PARK_CHANGE_DRAWS)
    pieces = len(result.after.buffer.residential)
    assert pieces not in drawn  # the residential land came from the cache
    assert ("text",) not in worded  # nor were the parcels' names and ids worded again
    scratch = tmp_path / "scratch"
    _publish(result, changes, scratch, None)  # no cache: every page drawn
    assert pieces in drawn and ("text",) in worded
    mine, theirs = _site_files(site), _site_files(scratch)
    assert sorted(mine) == sorted(theirs)
    assert {"coverage.html", "coverage_network.html", "before_after.html"} <= set(mine)
    for name in theirs:
        assert mine[name] == theirs[name], name


def test_a_damaged_or_foreign_cache_is_drawn_again(project, tmp_path, drawn):
    site, cache = tmp_path / "maps", tmp_path / "cache"
    result, changes = _after_a_park(project, site, cache)
    entries = sorted(cache.glob("*.json"))
    assert len(entries) > 3
    for number, entry in enumerate(entries):
        text = entry.read_text(encoding="utf-8")
        if number % 3 == 0:  # cut short
            entry.write_text(text[: len(text) // 2], encoding="utf-8")
        elif number % 3 == 1:  # a value changed, the file still JSON: its checksum fails
            data = json.loads(text)
            field = "geometry" if "geometry" in data else "uniques" if "uniques" in data else ""
            if field:
                data[field] = "QUJD" + data[field][4:]
            else:
                data["rows"] = {}
            entry.write_text(json.dumps(data), encoding="utf-8")
        else:  # another entry's content under this name
            shutil.copyfile(entries[number - 1], entry)
    drawn.clear()
    _publish(result, changes, site, cache)
    assert len(result.after.buffer.residential) in drawn  # drawn again, not read
    scratch = tmp_path / "scratch"
    _publish(result, changes, scratch, None)
    assert _site_files(site) == _site_files(scratch)


def test_a_cache_that_cannot_be_written_only_costs_time(project, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    site = tmp_path / "maps"
    result, changes = _after_a_park(project, site, blocked / "cache")
    _publish(result, changes, site, blocked / "cache")
    scratch = tmp_path / "scratch"
    _publish(result, changes, scratch, None)
    assert _site_files(site) == _site_files(scratch)
    assert blocked.read_text(encoding="utf-8") == "not a folder"


def test_the_cache_lives_in_the_project_folder_never_in_the_site(project, tmp_path):
    run = CliRunner().invoke(main, ["publish", "--project", str(project.folder)])
    assert run.exit_code == 0, run.output
    cache = drawcache.map_cache_folder(project.folder)
    assert cache == project.folder / ".gisrenew-cache" / "maps" and cache.is_dir()
    site = project.folder / "maps"
    assert not [p for p in site.rglob("*") if ".gisrenew-cache" in p.as_posix()]
    listed = json.loads((site / ".gisrenew-site.json").read_text(encoding="utf-8"))["files"]
    assert all(not name.startswith(".gisrenew-cache") for name in listed)
    copy = copy_project(project.folder, tmp_path / "copy")  # a cache is never copied
    assert not (copy.folder / ".gisrenew-cache").exists() and (copy.folder / "maps").is_dir()


def test_a_read_only_sample_publishes_elsewhere_without_a_cache(tmp_path):
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)  # read-only like the original
    before = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    out = tmp_path / "site"
    run = CliRunner().invoke(main, ["publish", "--project", str(folder), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert (out / "coverage.html").is_file()
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == before


def test_the_before_after_map_shows_the_changed_area(project):
    """Issue #15: the blind spots that remain and the service areas before are drawn
    around the change only (a city's map of one new pocket park stays small)."""
    result = recompute(project, add_parks=[_new_park()])
    change = result.change
    parks = change.parks_before if change.parks_before is not None else _city()["parks"]
    m = before_after_map(change, parks=parks, options=OPTIONS)
    layers = m.gisrenew_layers
    remaining = change.after.listed_blind_spots()
    radius = float(change.after.service_areas["radius_m"].max())
    new_area = change.after.service_areas.query("park_id == 'n1'")
    west, south, east, north = new_area.total_bounds  # the new park's service area
    area = shapely.box(west - radius, south - radius, east + radius, north + radius)
    near = remaining[remaining.geometry.envelope.intersects(area)]
    assert 0 < len(near) < len(remaining)  # the city has blind spots far from the park
    assert layers["blind_spots"]["features"] == len(near)
    areas = change.before.service_areas
    assert layers["service_areas_before"]["features"] == areas.envelope.intersects(area).sum()
    assert layers["parks"]["features"] == len(parks)  # all of them, for context


def test_a_recompute_reads_an_earlier_runs_before_after_only_to_draw_it(
    project, tmp_path, monkeypatch
):
    from gisrenew.recompute import changes as stored_changes

    runner = CliRunner()
    first = runner.invoke(
        main,
        [
            "-q",
            "recompute",
            "--project",
            str(project.folder),
            "--add-parks",
            str(_park_file(tmp_path, "n1", 420, 20)),
        ],
    )
    assert first.exit_code == 0, first.output
    read: list[int] = []
    real = stored_changes.read_change

    def counted(proj, run_id):
        read.append(run_id)
        return real(proj, run_id)

    monkeypatch.setattr(stored_changes, "read_change", counted)
    second = runner.invoke(
        main,
        [
            "-q",
            "recompute",
            "--project",
            str(project.folder),
            "--add-parks",
            str(_park_file(tmp_path, "n2", 20, 420)),
        ],
    )
    assert second.exit_code == 0, second.output
    site = project.folder / "maps"
    assert (site / "before_after_1.html").is_file()  # run 1's page, copied from the first publish
    assert read == []  # neither run's layers read: run 2's change came from the run itself
    scratch = tmp_path / "scratch"  # a new site draws every kept run: each read once
    run = runner.invoke(main, ["-q", "publish", "--project", str(project.folder), "-o",
                               str(scratch)])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert sorted(read) == [1, 2]
    assert {"before_after.html", "before_after_1.html"} <= {p.name for p in scratch.iterdir()}


def _park_file(folder: Path, park_id: str, x: float, y: float) -> Path:
    path = folder / f"{park_id}.gpkg"
    park = _new_park().assign(park_id=[park_id])
    park.geometry = [_box(x, y, 70, 70)]
    park.to_file(path, driver="GPKG")
    return path
