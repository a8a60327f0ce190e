"""Every walking figure names its distance (issue #14), in JSON, tables and maps.

Two readings of the ten-minute walk exist: GB 50180-2018's ten-minute life circle is
about 500 m of walking (each park's tier radius, walked: the default), while ten minutes
at 4.8 km/h is 800 m. A result says which one it used (``CoverageResult.walk()``).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from browser import GK, X0, Y0, city_indicators, city_layers
from click.testing import CliRunner

from gisrenew.cli import main
from gisrenew.present import format_coverage_comparison, format_coverage_table
from gisrenew.webmap import coverage_map, map_html

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"


def _roads() -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString([(X0 - 100, Y0 + 150), (X0 + 3300, Y0 + 150)]),
        shapely.LineString([(X0 + 3100, Y0 - 100), (X0 + 3100, Y0 + 3300)]),
    ]
    return gpd.GeoDataFrame({"road_id": ["s1", "s2"]}, geometry=lines, crs=GK)


@pytest.fixture
def walks(webmap_city):
    """The tiny city walked two ways: each park's tier radius, and ten minutes."""
    layers = city_layers(webmap_city, roads=_roads())
    tier = city_indicators(layers)
    minutes = city_indicators(layers, settings={"network": {"walk_minutes": 10}})
    return tier, minutes


def test_results_say_which_walk_they_used(walks):
    tier, minutes = walks
    assert tier.buffer.walk() is None
    assert tier.network.walk() == {
        "basis": "tier_radius", "distance_m": None, "tier_radii_m": [500.0, 300.0],
        "minutes": None, "speed_kmh": None,
    }  # fmt: skip
    assert minutes.network.walk() == {
        "basis": "minutes", "distance_m": 800.0, "tier_radii_m": [500.0, 300.0],
        "minutes": 10.0, "speed_kmh": 4.8,
    }  # fmt: skip
    data = json.loads(json.dumps(minutes.to_dict()))
    assert data["network"]["walk"]["distance_m"] == 800.0 and data["buffer"]["walk"] is None


def test_tables_and_maps_name_the_walk(walks):
    tier, minutes = walks
    text = format_coverage_comparison(tier.buffer, tier.network, minutes.network, lang="zh")
    assert "步行①: 沿路网步行 500/300 m（按服务半径）" in text
    assert "步行②: 步行 10 分钟（800 m，4.8 km/h）" in text
    english = format_coverage_table(minutes.network, lang="en")
    assert "a 10-minute walk (800 m at 4.8 km/h)" in english
    page = map_html(coverage_map(tier.network, lang="zh"))
    assert "沿路网步行 500/300 m（按服务半径）" in page


@pytest.mark.slow
def test_json_of_the_command_names_the_walk():
    result = CliRunner().invoke(
        main,
        ["coverage", "--project", str(SAMPLE), "--method", "network", "--walk-minutes", "10",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    walk = json.loads(result.stdout)["walk"]
    assert walk == {
        "basis": "minutes", "distance_m": 800.0, "tier_radii_m": [500.0, 300.0],
        "minutes": 10.0, "speed_kmh": 4.8,
    }  # fmt: skip
