"""Publishing keeps history (issue #14): every recompute's before/after map stays published.

The tiny city of ``tests/browser.py``: adding the pocket park ``n1`` (3600 m² → 300 m)
newly covers the whole of ``r3`` (200 m × 200 m, 300 households), which no other park
reaches — the hand-made oracle ``city.after`` has the figures after it.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gisrenew.cli import main
from gisrenew.project import Project
from gisrenew.recompute import read_changes, recompute, stored_runs


@pytest.fixture
def city_project(webmap_city, tmp_path):
    """A project of the tiny city (no [maps] settings: every default), and n1's file."""
    city = webmap_city
    folder = tmp_path / "city"
    layers = {
        "parks": city.parks, "residential": city.residential, "districts": city.districts,
        "boundary": city.boundary, "plans": city.plans, "parcels": city.parcels,
    }  # fmt: skip
    Project.create(folder, layers, name="小城")
    new_parks = tmp_path / "n1.gpkg"
    city.new_parks.to_file(new_parks, engine="pyogrio")
    return folder, new_parks


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _index(site):
    return json.loads((site / "index.json").read_text(encoding="utf-8"))


def test_the_stored_change_is_the_recomputed_one(city_project, webmap_city):
    folder, new_parks = city_project
    result = recompute(folder, add_parks=[new_parks])
    (stored,) = read_changes(folder)
    change = result.change
    assert stored.run_id == change.run_id == 1 and stored.time_utc == result.report["time_utc"]
    # the figures of the oracle: r3 (40 000 m², 300 households) newly covered by n1
    assert stored.after.ratio == pytest.approx(webmap_city.after.ratio)
    assert stored.before.ratio == pytest.approx(webmap_city.before.ratio)
    assert stored.closed_blind_spots["residential_id"].tolist() == ["r3"]
    assert stored.closed_blind_spots["area_m2"].sum() == pytest.approx(40_000.0)
    assert stored.closed_blind_spots["households"].sum() == pytest.approx(300.0)
    assert stored.added_parks["park_id"].tolist() == ["n1"]
    assert stored.park_gains["unique_covered_m2"].tolist() == pytest.approx([40_000.0])
    assert set(stored.parks_before["park_id"]) == {"p1", "p2", "p3"}
    assert stored.after.rules.describe() == change.after.rules.describe()
    # the remaining blind spots keep their names for the popups
    assert "name" in stored.after.blind_spots.columns


def test_recompute_then_publish_keeps_every_runs_before_after(city_project):
    folder, new_parks = city_project
    site = folder / "maps"
    _run("recompute", "--project", folder, "--add-parks", new_parks)
    first = (site / "before_after.html").read_text(encoding="utf-8")
    _run("recompute", "--project", folder, "--remove-parks", "p2")
    # the second run's map is the newest; the first one's stays, under its run number
    assert (site / "before_after.html").is_file() and (site / "before_after_1.html").is_file()
    _run("publish", "--project", folder)
    keys = [m["key"] for m in _index(site)["maps"]]
    assert keys[-2:] == ["before_after", "before_after_1"]  # newest first
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.index('href="before_after.html"') < index.index('href="before_after_1.html"')
    assert "第 2 次重新计算" in index and "第 1 次重新计算" in index
    # run 1's page drawn again from the store shows run 1's figures
    again = (site / "before_after_1.html").read_text(encoding="utf-8")
    ratio = next(line for line in first.splitlines() if "gr-ratio" in line)
    assert ratio.split("gr-ratio")[1][:40] in again
    assert stored_runs(Project.open(folder)) == [2, 1]


def test_history_unpublish_removes_one_runs_map(city_project):
    folder, new_parks = city_project
    site = folder / "maps"
    _run("recompute", "--project", folder, "--add-parks", new_parks)
    _run("recompute", "--project", folder, "--remove-parks", "p2")
    listed = _run("history", "--project", folder).output
    assert listed.count("前后对比地图已保存") == 2
    _run("history", "--project", folder, "--unpublish", "1")
    _run("publish", "--project", folder)
    assert not (site / "before_after_1.html").exists() and (site / "before_after.html").is_file()
    assert [m["key"] for m in _index(site)["maps"]][-1] == "before_after"
    assert stored_runs(Project.open(folder)) == [2]
    # the run itself stays in the history
    assert "#1" in _run("history", "--project", folder).output
    bad = CliRunner().invoke(main, ["history", "--project", str(folder), "--unpublish", "7"])
    assert bad.exit_code == 1 and "runs kept: 2" in bad.output


def test_a_project_without_runs_publishes_no_before_after(city_project):
    folder, _ = city_project
    _run("publish", "--project", folder)
    keys = [m["key"] for m in _index(folder / "maps")["maps"]]
    assert "before_after" not in keys and keys[0] == "coverage"
    assert read_changes(folder) == []
