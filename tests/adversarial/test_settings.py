"""Issue #11, items 7, 9–12: every setting read the same way by every command.

A wrong setting either stops every command with the fix, or gives the figure it asks
for — the same figure from ``coverage``, ``publish`` and ``recompute``.

The city: one 100 m × 100 m park (10 000 m²: the 500 m tier of tijian-2021) and one
residential block 500 m east of it, reached along one street: a 590 m walk (550 m of
street from the park edge + a 40 m connector). So the block is covered by a ten-minute
walk (800 m at 4.8 km/h) but not by the park's 500 m tier walk, and only touches the
500 m straight-line circle.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gisrenew.cli import main
from gisrenew.project import Project

GK = "EPSG:4549"
X0, Y0 = 604_000.0, 3_481_000.0


def _box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        "parks": gpd.GeoDataFrame(
            {"park_id": ["P1"], "name": ["东园"]}, geometry=[_box(0, 0, 100, 100)], crs=GK
        ),
        "residential": gpd.GeoDataFrame(
            {"residential_id": ["R1"], "households": [120]},
            geometry=[_box(600, 60, 700, 120)],
            crs=GK,
        ),
        "roads": gpd.GeoDataFrame(
            {"road_id": ["1"]},
            geometry=[shapely.LineString([(X0 + 50, Y0 + 50), (X0 + 1200, Y0 + 50)])],
            crs=GK,
        ),
    }


def _project(folder: Path, extra_toml: str = "") -> Path:
    Project.create(folder, _layers())
    config = folder / "gisrenew.toml"
    text = config.read_text(encoding="utf-8")
    if "[residential]" in extra_toml:  # replace the table init wrote
        text = text.replace('[residential]\ncodes = [\n    "R",\n    "07",\n]\n', "")
        assert "[residential]" not in text, text
    config.write_text(text + extra_toml, encoding="utf-8")
    return folder


def _run(*args, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, [str(a) for a in args])
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(main, [str(a) for a in args])


def _far_park(tmp_path: Path) -> Path:
    path = tmp_path / "new_park.gpkg"
    gpd.GeoDataFrame({"park_id": ["N1"]}, geometry=[_box(5000, 5000, 5100, 5100)], crs=GK).to_file(
        path
    )
    return path


# --------------------------------------------------------------------------- item 7


def test_network_settings_give_the_same_figure_in_every_command(tmp_path):
    """`coverage --method network` honours [network] like publish and recompute."""
    folder = _project(tmp_path / "p", "\n[network]\nwalk_minutes = 10\n")
    run = _run("coverage", "--project", folder, "--method", "network", "--json")
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["coverage_ratio"] == pytest.approx(1.0)  # 590 m walk ≤ 800 m
    assert data["parameters"]["walk_distance_m"] == pytest.approx(800.0)

    run = _run("publish", "--project", folder, "--out", tmp_path / "site")
    assert run.exit_code == 0, run.output
    index = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    walk = next(m for m in index["maps"] if m["key"] == "coverage_network")
    assert "100.0%" in json.dumps(walk["figures"], ensure_ascii=False)

    run = _run("recompute", "--project", folder, "--add-parks", _far_park(tmp_path),
               "--no-publish", "--json")  # fmt: skip
    assert run.exit_code == 0, run.output
    report = json.loads(run.stdout)
    assert report["indicators"]["network"]["before"]["coverage_ratio"] == pytest.approx(1.0)


def test_without_network_settings_each_park_walks_its_tier_radius(tmp_path):
    folder = _project(tmp_path / "p")
    run = _run("coverage", "--project", folder, "--method", "network", "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["coverage_ratio"] == pytest.approx(0.0)  # 590 m > 500 m


def test_command_line_walk_replaces_the_settings_walk(tmp_path):
    folder = _project(tmp_path / "p", "\n[network]\nwalk_minutes = 10\n")
    run = _run("coverage", "--project", folder, "--method", "network", "--walk-distance", "550",
               "--json")  # fmt: skip
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["parameters"]["walk_distance_m"] == pytest.approx(550.0)
    assert data["coverage_ratio"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    "command",
    [
        ("coverage", "--method", "network"),
        ("coverage",),
        ("publish",),
        ("recompute", "--remove-parks", "P1", "--no-publish"),
        ("history",),
    ],
)
def test_a_typo_in_network_settings_stops_every_command(tmp_path, command):
    folder = _project(tmp_path / "p", "\n[network]\nwalk_minute = 10\n")
    run = _run(*command, "--project", folder)
    assert run.exit_code == 1, run.output
    assert "unknown key(s) in [network]: walk_minute" in run.output
    assert "walk_minutes" in run.output  # the fix: the known keys
    assert "Traceback" not in run.output


# --------------------------------------------------------------------------- item 10


def _rule_file(path: Path, radius: float) -> None:
    path.write_text(
        f'name = "local"\nversion = "{radius:g}"\n'
        f"[[tiers]]\nmin_area_m2 = 0\nradius_m = {radius}\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    "command",
    [
        ("coverage", "--json"),
        ("recompute", "--remove-parks", "NONE", "--no-publish", "--json"),
        ("publish",),
    ],
)
def test_relative_rule_set_is_the_project_folders_from_any_folder(tmp_path, command):
    folder = _project(tmp_path / "p")
    config = folder / "gisrenew.toml"
    text = config.read_text(encoding="utf-8").replace('rules = "tijian-2021"', 'rules = "my.toml"')
    config.write_text(text, encoding="utf-8")
    _rule_file(folder / "my.toml", 1000)  # the project's: the block is covered
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _rule_file(elsewhere / "my.toml", 10)  # a stranger of the same name in the current folder
    runner = CliRunner()
    import os

    old = Path.cwd()
    os.chdir(elsewhere)
    try:
        run = runner.invoke(main, [*command, "--project", str(folder)])
    finally:
        os.chdir(old)
    assert run.exit_code == 0, run.output
    if command[0] == "coverage":
        data = json.loads(run.stdout)
        assert data["rules"]["version"] == "1000"
        assert data["coverage_ratio"] == pytest.approx(1.0)
    elif command[0] == "recompute":
        assert json.loads(run.stdout)["rules"]["version"] == "1000"
    else:
        index = json.loads((folder / "maps" / "index.json").read_text(encoding="utf-8"))
        assert "100.0%" in json.dumps(index["maps"][0]["figures"], ensure_ascii=False)


# --------------------------------------------------------------------------- items 11, 12

BAD_SETTINGS = [
    ('\n[residential]\ncodez = ["R"]\n', "unknown key(s) in [residential]: codez"),
    ('\n[batch]\nweight = "households"\n', "[batch] weight moved to [coverage] weight"),
    ("\n[sites]\ncout = 3\n", "unknown key(s) in [sites]: cout"),
    ('\n[maps]\noffline = "false"\n', "offline must be true or false (without quotes)"),
    ('\n[residential]\ncodes = "07"\n', 'codes must be a list of texts such as ["R", "07"]'),
    ("\n[network]\nwalk_minutes = nan\n", "walk_minutes must be a finite number"),
    ("\n[network]\nwalk_distance_m = inf\n", "walk_distance_m must be a finite number"),
    ("\n[network]\nsnap_distance_m = -5\n", "snap_distance_m must be at least 0"),
    ("\n[plans]\nmin_overlap_share = 2\n", "min_overlap_share must be at most 1"),
    ('\n[plans]\nhousehold_rule = "all"\n', "household_rule must be one of whole"),
    ("\n[coverage]\nmethod = 3\n", "method must be a text"),
    ("\n[sites]\ncount = 2.5\n", "count must be a whole number"),
    ('\n[columns.parkz]\na = "name"\n', "[columns.parkz] names no layer"),
    ('\n[layers.parks]\ncrs = "EPSG:99999"\n', "is not a CRS pyproj knows"),
]


@pytest.mark.parametrize(("toml", "message"), BAD_SETTINGS)
def test_wrong_settings_are_refused_with_the_fix(tmp_path, toml, message):
    folder = _project(tmp_path / "p", toml)
    for command in (("coverage",), ("publish",), ("sites",)):
        run = _run(*command, "--project", folder)
        assert run.exit_code == 1, (command, run.output)
        assert message in run.output, (command, run.output)
        assert "Traceback" not in run.output


def test_every_problem_of_a_settings_file_is_reported_at_once(tmp_path):
    toml = '\n[network]\nwalk_minute = 10\nlateral_m = "50"\n[maps]\ntitle = 3\n'
    folder = _project(tmp_path / "p", toml)
    run = _run("coverage", "--project", folder)
    assert run.exit_code == 1
    assert "3 problems" in run.output
    for part in ("walk_minute", "lateral_m must be a number", "title must be a text"):
        assert part in run.output


BAD_RULES = [
    ("[[tiers]]\nmin_area = 1000\nradius_m = 300\n", "unknown key(s) in [tiers #1]: min_area"),
    ('count_plazas = "false"\n[[tiers]]\nradius_m = 300\n', "count_plazas must be true or false"),
    ('park_classes = "G12"\n[[tiers]]\nradius_m = 300\n', "park_classes must be a list"),
    ('residential_codes = "07"\n[[tiers]]\nradius_m = 300\n', "residential_codes must be a list"),
    ("[[tiers]]\nradius_m = nan\n", "radius_m must be a finite number"),
    ("[[tiers]]\nradius_m = inf\n", "radius_m must be a finite number"),
    ("[[tiers]]\nradius_m = 300\nmin_area_m2 = nan\n", "min_area_m2 must be a finite number"),
    ("[[tiers]]\nradius_m = 300\nmax_area_m2 = -1\n", "max_area_m2 must be positive"),
]


@pytest.mark.parametrize(("body", "message"), BAD_RULES)
def test_wrong_rule_set_values_are_refused(tmp_path, body, message):
    folder = _project(tmp_path / "p")
    rules = tmp_path / "rules.toml"
    rules.write_text(f'name = "x"\nversion = "1"\n{body}', encoding="utf-8")
    run = _run("coverage", "--project", folder, "--rules", rules)
    assert run.exit_code == 1, run.output
    assert message in run.output
    assert "Traceback" not in run.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--radius", "nan"), "radius must be a positive number"),
        (("--radius", "inf"), "radius must be a positive number"),
        (("--radius", "300", "--min-park-area", "nan"), "minimum park area"),
        (("--method", "network", "--walk-minutes", "nan"), "walk_minutes must be a finite number"),
        (("--method", "network", "--walk-distance", "inf"), "walk_distance_m must be a finite"),
    ],
)
def test_non_finite_command_line_numbers_are_refused(tmp_path, args, message):
    folder = _project(tmp_path / "p")
    run = _run("coverage", "--project", folder, *args)
    assert run.exit_code in (1, 2), run.output
    assert message in run.output
    assert "Traceback" not in run.output


# --------------------------------------------------------------------------- item 9


def _bowtie_parks(tmp_path: Path) -> Path:
    bowtie = shapely.Polygon(
        [(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100), (X0, Y0)]
    )
    path = tmp_path / "bowtie.gpkg"
    gpd.GeoDataFrame({"park_id": ["B"]}, geometry=[bowtie], crs=GK).to_file(path)
    return path


def test_repairs_are_reported_by_coverage(tmp_path):
    residential = tmp_path / "res.gpkg"
    _layers()["residential"].to_file(residential)
    run = _run("coverage", "--parks", _bowtie_parks(tmp_path), "--residential", residential)
    assert run.exit_code == 0, run.output
    assert "WARNING" in run.stderr and "B" in run.stderr


def test_repairs_are_reported_by_recompute(tmp_path):
    folder = _project(tmp_path / "p")
    run = _run("recompute", "--project", folder, "--add-parks", _bowtie_parks(tmp_path),
               "--no-publish")  # fmt: skip
    assert run.exit_code == 0, run.output
    assert "WARNING" in run.stderr and "bowtie.gpkg" in run.stderr
