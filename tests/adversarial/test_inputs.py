"""Input data that lie must not pass silently (issue #11: items 8, 9, 13, 15, 17).

Every test reproduces one finding of the adversarial review through the public API
(``gisrenew.io``, ``gisrenew.schema``) or the command line (``gisrenew.cli.main``).
Fixtures are small layers built in code near Taicang (EPSG:4549, CGCS2000 GK CM 120°E).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from gisrenew import io, schema
from gisrenew.cli import main
from gisrenew.errors import CRSError, GeometryError, ReadError, SchemaError
from gisrenew.project import Project

GK = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E (Taicang)
X0, Y0 = 604_000.0, 3_481_000.0  # a spot in Taicang, metres
NAMES = ["古松弄", "胜利村", "原城厢镇三小"]
NAMES_BIG5 = ["勝利村", "原城廂鎮三小", "太倉公園"]  # traditional characters (Big5)


def _square(x: float, y: float, size: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size)


def _parks(names=NAMES, crs=GK) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": list(names)},
        geometry=[_square(i * 300, 0, 100) for i in range(len(names))],
        crs=crs,
    )


def _write_shp(gdf, path, encoding, cpg=None):
    """A Shapefile whose .dbf holds `encoding` bytes, with `cpg` as its .cpg (None: no .cpg)."""
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def _study_files(tmp_path, *, residential_crs=GK, extra_parks=()):
    """A 100 m × 100 m park (10 000 m², 500 m tier) and a 200 m × 200 m block next to it.

    The block's farthest corner is 316 m from the park: fully covered (ratio 1.0).
    """
    parks = gpd.GeoDataFrame(
        {"park_id": ["p1", *(f"far{i}" for i in range(len(extra_parks)))]},
        geometry=[_square(0, 0, 100), *extra_parks],
        crs=GK,
    )
    residential = gpd.GeoDataFrame(
        {"residential_id": ["r1"], "households": [120.0]}, geometry=[_square(200, 0, 200)], crs=GK
    )
    parks_path, residential_path = tmp_path / "parks.gpkg", tmp_path / "residential.gpkg"
    parks.to_file(parks_path)
    residential.to_crs(residential_crs).to_file(residential_path)
    return parks_path, residential_path


def _coverage(*args):
    return CliRunner().invoke(main, ["coverage", *map(str, args)])


# ----------------------------------------------------------------- 8: --crs


def test_crs_option_does_not_relabel_a_file_that_has_a_crs(tmp_path):
    """Residential land in UTM 51N with `--crs EPSG:4549` gave 0.0, exit 0, nothing on stderr."""
    parks, residential = _study_files(tmp_path, residential_crs="EPSG:32651")
    result = _coverage("--parks", parks, "--residential", residential, "--crs", GK, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["coverage_ratio"] == pytest.approx(1.0)
    assert "--crs" in result.stderr and "not applied" in result.stderr
    assert "residential.gpkg" in result.stderr


def test_declared_crs_is_a_warning_problem_when_the_file_has_its_own(tmp_path):
    _, residential = _study_files(tmp_path, residential_crs="EPSG:32651")
    gdf, problems = io.load_layer(residential, "residential", crs=GK, working_crs=GK)
    warned = [p for p in problems if p.severity == "warning" and "not applied" in p.message]
    assert len(warned) == 1 and "EPSG:32651" in warned[0].message
    assert warned[0].source == str(residential)
    # the file's own CRS was kept: the block is where it was drawn
    assert gdf.geometry.iloc[0].centroid.distance(_square(200, 0, 200).centroid) < 0.01


def test_override_crs_relabels_and_warns_every_time(tmp_path):
    """A wrong .prj (degrees) over metre coordinates: `override_crs` is the explicit fix."""
    path = tmp_path / "parks.gpkg"
    _parks().set_crs("EPSG:4490", allow_override=True).to_file(path)
    with pytest.raises(CRSError, match="which are metres"):
        io.read_layer(path, "parks")
    gdf = io.read_layer(path, "parks", override_crs=GK)
    assert gdf.crs.to_epsg() == 4549 and np.allclose(gdf.area, 10_000)
    warned = [p for p in io.layer_problems(gdf) if "override" in p.message]
    assert len(warned) == 1 and warned[0].severity == "warning"
    assert "EPSG:4490" in warned[0].message and "EPSG:4549" in warned[0].message


# ----------------------------------------------------------------- 9: repairs are warnings


def test_every_repair_and_drop_is_a_warning_problem_reachable_from_read_layer(tmp_path):
    bowtie = shapely.affinity.translate(
        shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)]), X0, Y0
    )
    layer = gpd.GeoDataFrame(
        {"households": [10.0, 20.0, None, 5.0]},
        geometry=[bowtie, None, _square(500, 0, 50), _square(700, 0, 50)],
        crs=GK,
    )
    path = tmp_path / "居住用地.gpkg"
    layer.to_file(path, layer="居住用地")
    gdf, problems = io.load_layer(path, "residential")
    assert gdf is not None and len(gdf) == 3
    assert {p.severity for p in problems} == {"warning"}
    by_topic = {
        topic: [p for p in problems if topic in p.message]
        for topic in ("generated", "repaired", "dropped", "taken as")
    }
    assert all(len(found) == 1 for found in by_topic.values()), problems
    assert by_topic["generated"][0].message.startswith("no `residential_id` column: ids 1..4")
    assert by_topic["repaired"][0].rows == (1,) and "['1']" in by_topic["repaired"][0].message
    assert by_topic["dropped"][0].rows == (2,) and "1 row(s)" in by_topic["dropped"][0].message
    assert by_topic["taken as"][0].rows == (3,) and by_topic["taken as"][0].column == "households"
    for problem in problems:
        assert str(path) in str(problem) and "[layer 居住用地]" in str(problem)
    # the same warnings travel with the layer read_layer returns
    assert io.layer_problems(io.read_layer(path, "residential")) == problems


# ----------------------------------------------------------------- 13: data far from their claims


def test_working_crs_far_from_the_data_is_a_warning_naming_the_right_zone(tmp_path):
    """Parks at 127.1°E read into the CM 120°E zone: 7° off, areas off by more than 1 %."""
    path = tmp_path / "parks.gpkg"
    gpd.GeoDataFrame(
        geometry=[shapely.box(127.1, 31.45, 127.101, 31.451)], crs="EPSG:4490"
    ).to_file(path)
    gdf, problems = io.load_layer(path, "parks", working_crs=GK)
    assert gdf.crs.to_epsg() == 4549  # a warning: the layer is still loaded as asked
    warned = [p for p in problems if "area of use" in p.message]
    assert len(warned) == 1 and warned[0].severity == "warning" and warned[0].category == "crs"
    assert "EPSG:4551" in warned[0].fix  # CGCS2000 GK CM 126°E, nearest to 127.1°E
    _, in_own_zone = io.load_layer(path, "parks")
    assert not [p for p in in_own_zone if "area of use" in p.message]


def test_zone_prefixed_eastings_under_a_central_meridian_crs_are_refused():
    """40 604 000 is zone 40 + easting 604 000: EPSG:4528, not EPSG:4549."""
    gdf = gpd.GeoDataFrame(
        geometry=[shapely.affinity.translate(_square(0, 0, 100), 40_000_000, 0)], crs=GK
    )
    with pytest.raises(CRSError, match="EPSG:4528") as info:
        io.conform(gdf, "parks", source="parks.shp")
    assert "zone" in str(info.value) and "parks.shp" in str(info.value)


def test_eastings_without_prefix_under_a_zone_crs_are_refused():
    gdf = gpd.GeoDataFrame(geometry=[_square(0, 0, 100)], crs="EPSG:4528")  # zone 40
    with pytest.raises(CRSError, match="EPSG:4549"):
        io.conform(gdf, "parks")


def test_wrong_zone_prefix_names_the_zone_the_eastings_carry():
    gdf = gpd.GeoDataFrame(
        geometry=[shapely.affinity.translate(_square(0, 0, 100), 40_000_000, 0)],
        crs="EPSG:4527",  # zone 39, but the eastings say zone 40
    )
    with pytest.raises(CRSError, match="EPSG:4528"):
        io.conform(gdf, "parks")


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(31.45, 121.1), (40.0, 80.0)],  # Taicang; Xinjiang (both numbers below 90)
)
def test_swapped_axes_in_degrees_are_diagnosed_as_swapped(lat, lon):
    gdf = gpd.GeoDataFrame(
        geometry=[shapely.box(lat, lon, lat + 0.001, lon + 0.001)], crs="EPSG:4490"
    )
    with pytest.raises(CRSError, match="swapped") as info:
        io.conform(gdf, "parks", source="parks.geojson")
    assert "metres" not in str(info.value) and "EPSG:4549" not in str(info.value)


def test_park_far_from_the_study_area_is_a_warning_naming_it(tmp_path):
    far_park = _square(300_000, 0, 100)  # 300 km east of the built-up area
    parks, residential = _study_files(tmp_path, extra_parks=[far_park])
    result = _coverage("--parks", parks, "--residential", residential, "--json")
    assert result.exit_code == 0, result.output
    assert "far0" in result.stderr and "km" in result.stderr and "parks.gpkg" in result.stderr
    assert "'p1'" not in result.stderr


def test_check_extents_is_quiet_for_layers_that_belong_together(tmp_path):
    parks, residential = _study_files(tmp_path)
    layers = [io.read_layer(parks, "parks"), io.read_layer(residential, "residential")]
    assert io.check_extents(layers) == []
    far = io.read_layer(_study_files(tmp_path, extra_parks=[_square(0, 50_000, 10)])[0], "parks")
    (warned,) = io.check_extents([far, layers[1]])
    assert (
        warned.severity == "warning" and "far0" in warned.message and "'p1'" not in warned.message
    )


def test_absurd_coordinates_are_an_error_naming_the_rows(tmp_path):
    absurd = shapely.box(1e12, 1e12, 1e12 + 100, 1e12 + 100)
    parks, residential = _study_files(tmp_path, extra_parks=[absurd])
    result = _coverage("--parks", parks, "--residential", residential)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "rows 2" in result.output and "parks.gpkg" in result.output


def test_utf8_dbf_under_a_gbk_cpg_is_read_as_utf8_with_a_warning(tmp_path):
    path = _write_shp(_parks(), tmp_path / "parks.shp", "UTF-8", cpg="GBK")
    gdf, problems = io.load_layer(path, "parks")
    assert gdf["name"].tolist() == NAMES
    warned = [p for p in problems if p.category == "encoding"]
    assert len(warned) == 1 and warned[0].severity == "warning"
    assert "UTF-8" in warned[0].message and ".cpg" in warned[0].message


CPG_SPELLINGS = [
    ("ANSI 936", "GBK", NAMES),
    ("936", "GBK", NAMES),
    ("CP936", "GBK", NAMES),
    ("GB2312", "GBK", NAMES),
    ("GBK", "GBK", NAMES),
    ("UTF-8", "UTF-8", NAMES),
    ("utf8", "UTF-8", NAMES),
    ("65001", "UTF-8", NAMES),
    ("ANSI 950", "BIG5", NAMES_BIG5),
    ("Big5", "BIG5", NAMES_BIG5),
]


def test_esri_cpg_spellings_are_understood(tmp_path):
    """Every spelling ESRI and desktop GIS write in a .cpg (``ANSI 936`` was mojibake)."""
    for number, (cpg, written, names) in enumerate(CPG_SPELLINGS):
        path = _write_shp(_parks(names), tmp_path / f"parks{number}.shp", written, cpg=cpg)
        gdf, problems = io.load_layer(path, "parks")
        assert gdf["name"].tolist() == names, cpg
        assert not [p for p in problems if p.category == "encoding"], cpg


def test_big5_dbf_without_cpg_is_detected(tmp_path):
    path = _write_shp(_parks(NAMES_BIG5), tmp_path / "parks.shp", "BIG5")
    assert "太倉公園".encode("big5") in path.with_suffix(".dbf").read_bytes()
    gdf, problems = io.load_layer(path, "parks")
    assert gdf["name"].tolist() == NAMES_BIG5
    (warned,) = [p for p in problems if p.category == "encoding"]
    assert warned.severity == "warning" and "Big5" in warned.message


def test_short_gbk_dbf_without_cpg_reads_as_gbk(tmp_path):
    """One-character GBK values that are also valid UTF-8 (苑 = D4 B7 = "Է") are GBK.

    And the Big5 check must not take mainland GBK text for Big5.
    """
    assert "苑".encode("gbk").decode("utf-8") == "Է"
    for name in ("苑", "弄", "公园", "古松弄", "娄东街道"):
        path = _write_shp(_parks([name]), tmp_path / f"{name}.shp", "GBK")
        gdf, problems = io.load_layer(path, "parks")
        assert gdf["name"].tolist() == [name]
        assert not [p for p in problems if p.category == "encoding" and p.severity != "info"]


def test_every_bad_value_kind_of_a_column_is_reported_at_once():
    gdf = gpd.GeoDataFrame(
        {"households": ["abc", "-5", "1e400", "3"]},
        geometry=[_square(i * 20, 0, 10) for i in range(4)],
        crs=GK,
    )
    with pytest.raises(SchemaError) as info:
        io.conform(gdf, "residential", source="居住用地.shp")
    problems = info.value.problems
    kinds = {p.message.split(" value(s) ")[-1]: p.rows for p in problems if p.severity == "error"}
    assert kinds == {"are not numbers: ['abc']": (1,), "are negative": (2,), "are not finite": (3,)}


def test_fractional_and_other_bad_counts_are_listed_together():
    gdf = gpd.GeoDataFrame(
        {"households_residential": ["1.5", "x", "-2", "inf", "4"]},
        geometry=[_square(i * 20, 0, 10) for i in range(5)],
        crs=GK,
    )
    with pytest.raises(SchemaError) as info:
        io.conform(gdf, "parcels")
    errors = [p for p in info.value.problems if p.severity == "error"]
    rows = {p.message.split(" value(s) ")[-1][:14]: p.rows for p in errors}
    assert rows == {
        "are not whole ": (1,),
        "are not number": (2,),
        "are negative": (3,),
        "are not finite": (4,),
    }


def test_infinite_households_are_an_error(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"households": [12.0, np.inf]}, geometry=[_square(0, 0, 10), _square(20, 0, 10)], crs=GK
    )
    with pytest.raises(SchemaError, match="not finite") as info:
        io.conform(gdf, "residential")
    (error,) = [p for p in info.value.problems if p.severity == "error"]
    assert error.rows == (2,) and error.column == "households"


def test_an_empty_layer_beside_a_full_candidate_is_refused(tmp_path):
    path = tmp_path / "city.gpkg"
    _parks().iloc[:0].to_file(path, layer="parks")
    _parks().to_file(path, layer="公园")
    gpd.GeoDataFrame(geometry=[_square(0, 0, 10)], crs=GK).to_file(path, layer="water")
    with pytest.raises(ReadError) as info:
        io.read_layer(path, "parks")
    text = str(info.value)
    assert "'parks'" in text and "'公园'" in text and "3 features" in text and "empty" in text
    assert len(io.read_layer(path, "parks", layer="公园")) == 3


# ----------------------------------------------------------------- 15: tracebacks


def test_invalid_crs_option_is_a_message_naming_the_value(tmp_path):
    parks, residential = _study_files(tmp_path)
    result = _coverage("--parks", parks, "--residential", residential, "--crs", "foo")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "'foo'" in result.output and "EPSG:4549" in result.output
    with pytest.raises(CRSError, match="'EPSG:99999'"):
        io.read_layer(parks, "parks", crs="EPSG:99999")


def test_invalid_working_crs_in_the_settings_is_a_message(tmp_path):
    parks, residential = _study_files(tmp_path)
    project = Project.create(tmp_path / "p", {"parks": parks, "residential": residential})
    toml = project.folder / "gisrenew.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('working_crs = "EPSG:4549"', 'working_crs = "EPSG:99999"'))
    result = _coverage("--project", project.folder)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "'EPSG:99999'" in result.output and "working_crs" in result.output
    assert "EPSG:4549" in result.output  # an example of a valid one


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # building the NaN fixture
def test_nan_and_inf_vertices_are_an_error_naming_the_rows():
    nan_park = shapely.Polygon([(X0, Y0), (X0 + 10, Y0), (np.nan, Y0 + 10), (X0, Y0 + 10)])
    parks = gpd.GeoDataFrame(geometry=[_square(0, 0, 10), nan_park], crs=GK)
    with pytest.raises(GeometryError, match="not finite") as info:
        io.conform(parks, "parks")
    assert info.value.problems[0].rows == (2,)
    road = shapely.LineString([(X0, Y0), (np.inf, Y0)])
    roads = gpd.GeoDataFrame(geometry=[road, shapely.LineString([(X0, Y0), (X0, Y0 + 5)])], crs=GK)
    with pytest.raises(GeometryError, match="not finite") as info:
        io.conform(roads, "roads")
    assert info.value.problems[0].rows == (1,)


# ----------------------------------------------------------------- 17: guessing layer kinds


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("居住区公园", None),  # a park in a residential area: not residential land
        ("街道路网", None),  # streets, not districts
        ("更新地块", "plans"),
        ("地块", "parcels"),
        ("公园绿地", "parks"),
        ("parks", "parks"),
        ("居住用地", "residential"),
        ("建成区", "boundary"),
        ("行政区", "districts"),
        ("路网", "roads"),
        ("出入口", "entrances"),
        ("水系", "water"),
        ("备选地块", "candidates"),
        ("公园出入口", "entrances"),
        ("公园_居住用地", None),  # two kinds: ambiguous
        ("居住用地规划", None),  # partial
        ("parks_2023", "parks"),  # a word of the name, digits aside
    ],
)
def test_layer_kind_guess_is_exact_or_nothing(name, kind):
    assert schema.kind_from_name(name) == kind


def test_the_guessing_table_covers_every_layer_kind():
    assert set(schema.LAYER_NAMES) == set(schema.LAYERS)
    assert all(schema.kind_from_name(kind) == kind for kind in schema.LAYERS)


def test_validate_does_not_guess_from_partial_names(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    _parks().to_file(folder / "居住区公园.gpkg")
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 50, Y0)])], crs=GK)
    lines.to_file(folder / "街道路网.gpkg")
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1
    assert result.output.count("kind unknown") == 2 and "--parks" in result.output
    assert "as `residential`" not in result.output and "as `districts`" not in result.output
    named = CliRunner().invoke(main, ["validate", "--parks", str(folder / "居住区公园.gpkg")])
    assert named.exit_code == 0, named.output
    assert "as `parks`, 3 features" in named.output
