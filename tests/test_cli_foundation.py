"""`gisrenew init`, `gisrenew validate` and the CLI's error handling."""

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import GK, square

from gisrenew.cli import COMMANDS, main
from gisrenew.project import copy_project


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def good_files(tmp_path, parks_gdf, residential_gdf):
    parks = tmp_path / "公园.gpkg"
    residential = tmp_path / "居住用地.geojson"
    parks_gdf.to_file(parks)
    residential_gdf.to_crs(4490).to_file(residential)
    return parks, residential


@pytest.fixture
def broken_folder(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    # a Shapefile without a .prj (no CRS)
    pyogrio.write_dataframe(
        gpd.GeoDataFrame({"name": ["x"]}, geometry=[square(0, 0, 10)]), folder / "parks_nocrs.shp"
    )
    # duplicate ids and a household count that is not a number
    gpd.GeoDataFrame(
        {"residential_id": ["a", "a", "b"], "households": ["1", "2", "三"]},
        geometry=[square(0, 0, 10), square(20, 0, 10), square(40, 0, 10)],
        crs=GK,
    ).to_file(folder / "residential.gpkg")
    # points where polygons belong
    gpd.GeoDataFrame(geometry=[shapely.Point(604_000, 3_481_000)], crs=GK).to_file(
        folder / "plans.geojson"
    )
    (folder / "roads.gpkg").write_bytes(b"garbage")
    return folder


def test_help_lists_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "validate"):
        assert name in result.output


def test_init_makes_a_project(runner, tmp_path, good_files):
    parks, residential = good_files
    result = runner.invoke(
        main,
        ["init", str(tmp_path / "p"), "--parks", str(parks), "--residential", str(residential)],
    )
    assert result.exit_code == 0, result.output
    assert "EPSG:4549" in result.output and "residential" in result.output
    again = runner.invoke(main, ["init", str(tmp_path / "p"), "--parks", str(parks)])
    assert again.exit_code == 1 and "already holds a project" in again.output
    assert "Traceback" not in again.output


def test_init_without_layers_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["init", str(tmp_path / "p")])
    assert result.exit_code == 2


def test_validate_good_files(runner, good_files):
    result = runner.invoke(main, ["validate", *map(str, good_files)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # writing the fixture
def test_validate_broken_folder_lists_every_problem(runner, broken_folder):
    result = runner.invoke(main, ["validate", str(broken_folder)])
    assert result.exit_code == 1
    out = result.output
    assert "Traceback" not in out
    assert "parks_nocrs.shp" in out and "no coordinate reference system" in out
    assert "duplicate ids" in out and "not numbers" in out and "rows 3" in out
    assert "plans.geojson" in out and "Point geometry" in out
    assert "roads.gpkg" in out and "cannot" in out
    assert "4 layer(s) checked" in out


def test_validate_a_project(runner, tmp_path, good_files):
    parks, residential = good_files
    runner.invoke(main, ["init", str(tmp_path / "p"), "--parks", str(parks),
                         "--residential", str(residential)])  # fmt: skip
    result = runner.invoke(main, ["validate", "--project", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "2 layer(s) checked" in result.output


def test_guess_kind():
    from gisrenew.cli.validate import guess_kind

    assert guess_kind("公园绿地") == "parks"
    assert guess_kind("居住用地2023") == "residential"
    assert guess_kind("road_network") == "roads"
    assert guess_kind("更新地块") == "plans"
    assert guess_kind("whatever") is None


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"

# The modules a command must not load unless it draws maps, walks along streets,
# writes spreadsheets or talks to a PostgreSQL store: importing them costs a planner
# seconds at every run (and psycopg is an optional extra a GeoPackage user lacks).
HEAVY = (
    "psycopg",
    "folium",
    "matplotlib",
    "docx",
    "jinja2",
    "scipy.sparse.csgraph",
    "openpyxl",
    "xlsxwriter",
    "gisrenew.network",
    "gisrenew.webmap",
    "gisrenew.report",
)


def _heavy_modules_loaded(
    argv: tuple[str, ...] | None, modules: tuple[str, ...] = HEAVY
) -> list[str]:
    """Run ``gisrenew ARGV`` (None: only import the CLI) in a fresh Python; which of
    `modules` (default: the heavy ones) it loaded."""
    run = (
        f"try:\n    main({list(argv or ())!r})\n"
        "except SystemExit as exc:\n    assert not exc.code\n"
    )
    code = (
        "import sys\nfrom gisrenew.cli import main\n"
        + (run if argv is not None else "")
        + f"print(' '.join(m for m in {modules!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stderr.strip().splitlines()[-1].split() if done.stderr.strip() else []


@pytest.mark.parametrize(
    "argv",
    [
        None,
        ("--help",),
        ("coverage", "--project", str(SAMPLE), "--json"),
        ("coverage", "--project", str(SAMPLE), "--method", "buffer", "--json"),
        ("validate", "--project", str(SAMPLE)),
        ("history", "--project", str(SAMPLE)),
    ],
    ids=["import", "help", "coverage", "coverage-buffer", "validate", "history"],
)
def test_commands_import_only_what_they_use(argv):
    """No map, walk or spreadsheet code to import the CLI, list its commands, for a
    straight-line coverage, a check of the project or the run history."""
    assert _heavy_modules_loaded(argv) == []


def test_help_lists_every_command_without_importing_one():
    """``gisrenew --help`` reads no command module (nor pandas/geopandas, which they use)."""
    modules = (*(f"gisrenew.cli.{listed.module}" for listed in COMMANDS.values()),
               "pandas", "geopandas")  # fmt: skip
    assert _heavy_modules_loaded(("--help",), modules) == []


def test_a_recompute_without_maps_does_not_load_the_map_code(tmp_path):
    """`recompute --no-publish` walks (the sample has streets) but draws no map."""
    copy_project(SAMPLE, tmp_path / "project")
    argv = ("recompute", "--project", str(tmp_path / "project"), "--no-publish", "--json",
            "--add-parks", str(SAMPLE / "new_pocket_parks.gpkg"))  # fmt: skip
    loaded = _heavy_modules_loaded(argv)
    assert "gisrenew.network" in loaded  # the walk is recomputed
    assert not {"folium", "gisrenew.webmap", "matplotlib", "psycopg"} & set(loaded)
