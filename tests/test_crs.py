import geopandas as gpd
import pytest
import shapely
from pyproj import CRS, Transformer

from gisrenew import crs as crs_rules
from gisrenew.errors import CRSError

TAICANG_LON, TAICANG_LAT = 121.1, 31.45


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [
        (121.1, 4549),
        (118.8, 4549),
        (118.4, 4548),
        (75.2, 4534),
        (135.0, 4554),
        (116.4, 4548),
        (114.0, 4547),
        (121.49, 4549),
    ],
)
def test_gk_zone_from_longitude(lon, epsg):
    assert crs_rules.gk_zone_crs(lon).to_epsg() == epsg


def test_gk_zone_outside_china_is_an_error():
    with pytest.raises(CRSError, match="outside"):
        crs_rules.gk_zone_crs(10.0)


def test_gk_zone_crs_parameters_match_the_zone():
    crs = CRS.from_epsg(4549)
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Longitude of natural origin"] == 120
    assert params["False easting"] == 500000


def test_axis_order_taicang_point_4490_to_4549():
    """121.1°E 31.45°N in EPSG:4490 (lat/lon axis order) lands at the right easting/northing."""
    point = gpd.GeoDataFrame(geometry=[shapely.Point(TAICANG_LON, TAICANG_LAT)], crs=4490)
    projected = point.to_crs(4549).geometry.iloc[0]
    # Independent oracle: pyproj in the CRSs' own EPSG axis order: (lat, lon) -> (northing, easting)
    northing, easting = Transformer.from_crs(4490, 4549).transform(TAICANG_LAT, TAICANG_LON)
    assert projected.x == pytest.approx(easting, abs=1e-6)
    assert projected.y == pytest.approx(northing, abs=1e-6)
    # and the values themselves: 1.1° east of CM 120°E at 31.45°N is ~104.6 km east of 500 000
    assert 604_000 < projected.x < 605_000
    assert 3_480_000 < projected.y < 3_481_500


def test_pick_working_crs_uses_gk_in_china_and_utm_elsewhere():
    assert crs_rules.pick_working_crs((121.0, 31.4, 121.2, 31.5)).to_epsg() == 4549
    assert crs_rules.pick_working_crs((13.3, 52.4, 13.5, 52.6)).to_epsg() == 32633


def test_is_metric_projected():
    assert crs_rules.is_metric_projected("EPSG:4549")
    assert not crs_rules.is_metric_projected("EPSG:4490")
    assert not crs_rules.is_metric_projected("EPSG:2227")  # US survey feet
    assert not crs_rules.is_metric_projected(None)


def test_degrees_under_a_metric_crs_are_refused():
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(121.1, 31.45, 121.11, 31.46)], crs=4549)
    with pytest.raises(CRSError, match="look like degrees"):
        crs_rules.check_coordinates_match_crs(gdf, source="x.shp")


def test_metres_under_a_geographic_crs_are_refused():
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(604000, 3481000, 604100, 3481100)], crs=4490)
    with pytest.raises(CRSError, match="which are metres"):
        crs_rules.check_coordinates_match_crs(gdf, source="x.shp")


def test_ensure_metric_names_the_argument():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(121, 31)], crs=4326)
    with pytest.raises(CRSError, match="`parks`"):
        crs_rules.ensure_metric(gdf, "parks")
    with pytest.raises(CRSError, match="no CRS"):
        crs_rules.ensure_metric(gdf.set_crs(None, allow_override=True), "parks")


def test_to_working_crs_reprojects_and_logs(caplog):
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(TAICANG_LON, TAICANG_LAT)], crs=4490)
    with caplog.at_level("INFO", logger="gisrenew"):
        out = crs_rules.to_working_crs(gdf, "EPSG:4549", source="parks.shp")
    assert out.crs.to_epsg() == 4549
    assert "reprojecting" in caplog.text and "parks.shp" in caplog.text
    assert gdf.crs.to_epsg() == 4490  # input untouched
