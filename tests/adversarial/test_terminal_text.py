"""Names from the data can never drive the planner's terminal (issue #11, item 17).

A park, district or plan name holding ``ESC [2J`` would clear the screen when printed,
``ESC ] 0; ... BEL`` would retitle the window, a carriage return would overwrite the
line and U+202E would reverse what follows. Every command prints such names with the
characters made visible instead (``␛``, ``␍``, ``\\u202e``).

The runs use ``color=True``: click strips *some* ANSI sequences when the output is
not a terminal, which would hide the problem in a test but not on a real terminal.
"""

from __future__ import annotations

import unicodedata

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gisrenew.cli import main
from gisrenew.project import Project

GK = "EPSG:4549"
X0, Y0 = 604_000.0, 3_481_000.0

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;pwned\x07"
HOSTILE = {
    "park": f"东园{CLEAR}\r覆盖率 100%",
    "district": f"城厢镇{TITLE}\u202eevil",
    "residential": "居住\x00小区\x9b1m",
    "plan": f"古松弄\r{CLEAR}\x1b[31m",
}
#: What must never reach the terminal: C0/C1 controls (a line feed between lines is
#: the report's own), bidirectional controls.
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def _raw_controls(text: str) -> list[str]:
    return [
        repr(ch)
        for ch in text
        if ch != "\n" and (unicodedata.category(ch) == "Cc" or ord(ch) in _BIDI)
    ]


def _box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


@pytest.fixture
def hostile_project(tmp_path):
    """A park 100 × 100 m (500 m radius) next to one residential block; one district; a plan."""
    layers = {
        "parks": gpd.GeoDataFrame(
            {"park_id": ["p1"], "name": [HOSTILE["park"]]}, geometry=[_box(0, 0, 100, 100)], crs=GK
        ),
        "residential": gpd.GeoDataFrame(
            {"residential_id": ["r1"], "name": [HOSTILE["residential"]], "households": [40]},
            geometry=[_box(200, 0, 100, 100)],
            crs=GK,
        ),
        "districts": gpd.GeoDataFrame(
            {"district_id": ["d1"], "name": [HOSTILE["district"]]},
            geometry=[_box(-500, -500, 1500, 1500)],
            crs=GK,
        ),
        "plans": gpd.GeoDataFrame(
            {"plan_id": ["PL1"], "name": [HOSTILE["plan"]]}, geometry=[_box(200, 0, 50, 50)], crs=GK
        ),
        "parcels": gpd.GeoDataFrame(
            {"parcel_id": ["a"], "households_residential": [12], "households_signed": [3]},
            geometry=[_box(200, 0, 50, 50)],
            crs=GK,
        ),
    }
    return Project.create(tmp_path / "project", layers, name="测试").folder


def _run(args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], color=True)
    assert result.exit_code == 0, result.output
    return result.output


def test_coverage_prints_no_raw_control_characters(hostile_project):
    out = _run(["coverage", "--project", hostile_project, "--contribution"])
    assert _raw_controls(out) == []
    # the names are there, with their control characters made visible
    assert "城厢镇␛]0;pwned␇\\u202eevil" in out
    assert "东园␛[2J␍覆盖率 100%" in out


def test_coverage_in_english_prints_no_raw_control_characters(hostile_project):
    out = _run(["coverage", "--project", hostile_project, "--contribution", "--headers", "en"])
    assert _raw_controls(out) == []
    assert "␛[2J" in out


def test_plan_table_prints_no_raw_control_characters(hostile_project):
    out = _run(["affected", "--project", hostile_project])
    assert _raw_controls(out) == []
    assert "古松弄␍␛[2J␛[31m" in out
