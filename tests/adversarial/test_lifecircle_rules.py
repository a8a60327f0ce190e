"""A broken life-circle rule set given to `gisrenew lifecircles`: one message, no traceback.

The autouse fixture of this folder fails any run that ends by an exception or prints a
traceback.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gisrenew.cli import main

CRS = "EPSG:4549"
GOOD = """
name = "test-circles"
version = "1"

[[circles]]
minutes = 5
distance_m = 300

[[facilities]]
type = "kindergarten"
label_zh = "幼儿园"
circle = 5
"""


@pytest.fixture
def layers(tmp_path):
    homes = gpd.GeoDataFrame(
        {"residential_id": ["a"]}, geometry=[shapely.box(590000, 3480000, 590020, 3480020)], crs=CRS
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": ["k"], "facility_type": ["幼儿园"]},
        geometry=[shapely.Point(590100, 3480000)],
        crs=CRS,
    )
    homes.to_file(tmp_path / "homes.gpkg")
    fac.to_file(tmp_path / "fac.gpkg")
    return tmp_path / "homes.gpkg", tmp_path / "fac.gpkg"


@pytest.mark.parametrize(
    "text, words",
    [
        (
            GOOD.replace("circle = 5", "circle = 5\nradius_m = -5\ncolour = 'red'"),
            ["radius_m", "colour"],
        ),
        (GOOD.replace('version = "1"', 'version = "1'), ["TOML"]),  # not TOML at all
        (GOOD.replace("circle = 5", "circle = 7"), ["circle = 7"]),  # no such circle
    ],
)
def test_a_broken_rule_set_is_one_message(layers, tmp_path, text, words):
    homes, fac = layers
    broken = tmp_path / "broken.toml"
    broken.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "lifecircles",
            "--residential",
            str(homes),
            "--facilities",
            str(fac),
            "--rules",
            str(broken),
        ],
    )
    assert result.exit_code == 1, result.output
    assert result.output.count("error:") == 1 and "broken.toml" in result.output
    for word in words:
        assert word in result.output


def test_a_missing_rule_set_file_is_one_message(layers, tmp_path):
    homes, fac = layers
    result = CliRunner().invoke(
        main,
        ["lifecircles", "--residential", str(homes), "--facilities", str(fac),
         "--rules", str(tmp_path / "nowhere.toml")],
    )  # fmt: skip
    assert result.exit_code == 1 and "nowhere.toml" in result.output
    assert result.output.count("error:") == 1
