"""Shared fixtures: small hand-checkable layers built in code, in EPSG:4549."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
import shapely

#: Fixture plugins of other test areas (PostGIS cluster, headless browser).
pytest_plugins: list[str] = ["browser", "postgis"]

GK = "EPSG:4549"  # CGCS2000 3-degree Gauss-Kruger CM 120E (Taicang)
X0, Y0 = 604_000.0, 3_481_000.0  # a spot in Taicang, metres


def pytest_report_header(config):
    import geopandas
    import pyproj

    return (
        f"geopandas {geopandas.__version__}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), pyproj {pyproj.__version__} "
        f"(PROJ {pyproj.proj_version_str}), GDAL {pyogrio.__gdal_version_string__}"
    )


def square(x: float, y: float, size: float) -> shapely.Polygon:
    """Axis-aligned square with lower-left corner (X0 + x, Y0 + y)."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size)


@pytest.fixture
def parks_gdf() -> gpd.GeoDataFrame:
    """Two parks: 100 m × 100 m (10 000 m²) and 50 m × 50 m (2500 m²)."""
    return gpd.GeoDataFrame(
        {"park_id": ["p1", "p2"], "name": ["东园", "小游园"], "park_class": ["G12", "G14"]},
        geometry=[square(0, 0, 100), square(1000, 0, 50)],
        crs=GK,
    )


@pytest.fixture
def residential_gdf() -> gpd.GeoDataFrame:
    """Three residential blocks of 200 m × 200 m with households."""
    return gpd.GeoDataFrame(
        {"residential_id": ["r1", "r2", "r3"], "households": [100.0, 200.0, 300.0]},
        geometry=[square(200, 0, 200), square(800, 300, 200), square(3000, 3000, 200)],
        crs=GK,
    )


@pytest.fixture(autouse=True)
def _no_tracebacks_in_adversarial_runs(request, monkeypatch):
    """In tests/adversarial, every command ends in a message, never a traceback.

    Wraps ``CliRunner.invoke`` there: a run that ends by an exception other than the
    CLI's own exit (``SystemExit``), or prints a traceback, fails the test that ran it —
    whatever else it checks (issue #11: "no command prints a traceback for any input").
    """
    if "adversarial" not in request.node.path.parts:
        return
    from click.testing import CliRunner

    invoke = CliRunner.invoke

    def checked(self, *args, **kwargs):
        result = invoke(self, *args, **kwargs)
        escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
        assert not escaped, f"the command ended by {result.exception!r}:\n{result.output}"
        assert "Traceback" not in result.output, result.output
        return result

    monkeypatch.setattr(CliRunner, "invoke", checked)


@pytest.fixture(scope="session")
def planner_data(tmp_path_factory):
    """A planner's own files made from the sample city (see ``planner_files``).

    GBK Shapefiles without ``.cpg`` in EPSG:4490 with Chinese headers, and a GeoPackage
    with Chinese layer names. Returns ``(folder, {kind: file or FILE::LAYER})``; tests
    must not change the files.
    """
    from planner_files import write_planner_data  # a test helper beside this file

    folder = tmp_path_factory.mktemp("planner") / "规划数据"
    return folder, write_planner_data(folder)
