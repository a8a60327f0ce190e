"""A planner's headers and layer names are read as gisrenew's columns and layers (issue 13).

Each test reproduces one finding of the issue on the old code: 编号 not read (ids 1..N),
已签约户数 not an alias, 可步行 and 公园编号 ignored, look-alike columns silently dropped,
a GeoPackage with Chinese layer names refused with a `--layer` option that does not exist.
"""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import GK, X0, Y0, square
from planner_files import planner_layers

from gisrenew.cli import main
from gisrenew.errors import ReadError
from gisrenew.io import load_layer, read_layer
from gisrenew.plans import plan_summary
from gisrenew.present.labels import column_headers
from gisrenew.schema import LAYERS, column_aliases, lookalike_column


@pytest.fixture(scope="module")
def expected():
    """The planner's layers as written (ids D01, PL01, ...), keyed by kind."""
    return planner_layers()


@pytest.mark.parametrize(
    "kind", ["parks", "parcels", "plans", "roads", "entrances", "candidates", "residential",
             "districts", "boundary", "water"],
)  # fmt: skip
def test_every_planner_layer_keeps_its_ids(planner_data, expected, kind):
    _folder, files = planner_data
    gdf, problems = load_layer(files[kind], kind)
    assert gdf is not None, problems
    id_col = next(iter(expected[kind].columns))
    assert gdf[id_col].tolist() == expected[kind][id_col].astype(str).tolist()
    assert not [p for p in problems if p.severity == "warning"], problems


def test_references_between_layers_arrive(planner_data, expected):
    _folder, files = planner_data
    residential = read_layer(files["residential"], "residential")
    assert residential["district_id"].tolist() == expected["residential"]["district_id"].tolist()
    assert set(residential["district_id"]) <= set(expected["districts"]["district_id"])
    entrances = read_layer(files["entrances"], "entrances")
    assert entrances["park_id"].tolist() == expected["entrances"]["park_id"].tolist()
    assert entrances["park_id"].str.startswith("GY").all()


def test_signing_walkability_and_households_are_read(planner_data, expected):
    _folder, files = planner_data
    roads = read_layer(files["roads"], "roads")
    walkable = expected["roads"]["walkable"].eq("是").tolist()
    assert roads["walkable"].tolist() == walkable and not all(walkable)
    parcels = read_layer(files["parcels"], "parcels")
    for column in ("households_residential", "households_nonresidential", "households_shops",
                   "households_signed", "buildings"):  # fmt: skip
        assert parcels[column].tolist() == expected["parcels"][column].tolist(), column
    plans = read_layer(files["plans"], "plans")
    summary = plan_summary(plans, parcels)
    assert "unknown" not in set(summary["signing_status"])
    assert summary["plan_id"].str.startswith("PL").all()


def test_a_header_means_what_its_layer_means():
    assert column_aliases("parks")["公园编号"] == "park_id"
    assert column_aliases("entrances")["公园编号"] == "park_id"
    assert column_aliases("entrances")["编号"] == "entrance_id"
    assert column_aliases("plans")["类别"] == "plan_type"
    assert column_aliases("parks")["类别"] == "park_class"
    assert column_aliases("residential")["街道编号"] == "district_id"
    assert column_aliases("residential")["编号"] == "residential_id"


def _lookalike_parks(path):
    """Parks whose id is under 公园编码 (not an alias) beside an unused 序号 and 名称."""
    frame = gpd.GeoDataFrame(
        {"序号": [1, 2], "公园编码号": ["GY01", "GY02"], "名称": ["东园", "西园"],
         "公园名称": ["东园公园", "西园公园"], "户数（户）": [1, 2]},
        geometry=[square(0, 0, 100), square(300, 0, 100)], crs=GK,
    )  # fmt: skip
    frame.to_file(path)
    return path


def test_lookalike_columns_are_warnings_naming_the_mapping(tmp_path):
    path = _lookalike_parks(tmp_path / "公园.gpkg")
    gdf, problems = load_layer(path, "parks")
    by_column = {p.column: p for p in problems if p.category == "columns"}
    assert gdf["park_id"].tolist() == ["1", "2"]  # 序号 is an id header: used
    assert set(by_column) == {"公园编码号", "名称"}
    assert '"公园编码号" = "park_id"' in by_column["公园编码号"].fix
    assert "[columns.parks]" in by_column["公园编码号"].fix
    assert "read from `公园名称`" in by_column["名称"].message
    assert all(p.severity == "warning" for p in by_column.values())


def test_validate_counts_lookalikes_and_generated_ids_as_warnings(tmp_path):
    path = _lookalike_parks(tmp_path / "公园.gpkg")
    roads = gpd.GeoDataFrame(
        {"是否步行": ["否"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 50, Y0)])], crs=GK
    )
    roads.to_file(tmp_path / "道路.gpkg")
    result = CliRunner().invoke(main, ["validate", str(path), str(tmp_path / "道路.gpkg")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "`公园编码号` looks like `park_id`" in out
    assert "`是否步行` looks like `walkable`" in out and '"是否步行" = "walkable"' in out
    assert "ids 1..1 were generated" in out
    assert "0 error(s), 4 warning(s)" in out


def test_a_mapping_for_an_absent_header_is_a_warning(tmp_path):
    path = _lookalike_parks(tmp_path / "公园.gpkg")
    gdf, problems = load_layer(path, "parks", columns={"公园编码": "park_id"})
    assert any("no column `公园编码`" in p.message for p in problems)
    gdf, problems = load_layer(path, "parks", columns={"公园编码号": "park_id"})
    assert gdf["park_id"].tolist() == ["GY01", "GY02"]
    assert not any(p.column == "公园编码号" for p in problems)


def test_lookalike_column_rules():
    assert lookalike_column("parcels", "签约户（户）") == "households_signed"
    assert lookalike_column("residential", "Househods") == "households"
    assert lookalike_column("parks", "OBJECTID") is None
    assert lookalike_column("parcels", "面积") is None  # land area is not floor area


def test_plan_households_setting_accepts_the_chinese_header(planner_data):
    _folder, files = planner_data
    plans = read_layer(files["plans"], "plans")
    parcels = read_layer(files["parcels"], "parcels")
    by_alias = plan_summary(plans, parcels, households={"signed": "已签约户数"})
    plain = plan_summary(plans, parcels)
    assert by_alias["signed"].tolist() == plain["signed"].tolist()
    assert plain["signed"].sum() > 0


# --------------------------------------------------------------------------- layer names


def test_chinese_layer_names_are_read_without_options(planner_data):
    folder, _files = planner_data
    gpkg = folder / "城市现状.gpkg"
    for kind, layer in (("residential", "居住用地"), ("districts", "街道"), ("boundary", "建成区")):
        gdf = read_layer(gpkg, kind)
        assert gdf.attrs["layer"] == layer


def test_an_ambiguous_geopackage_names_the_file_layer_form(tmp_path, parks_gdf):
    gpkg = tmp_path / "绿地.gpkg"
    for layer in ("公园", "公园绿地"):
        pyogrio.write_dataframe(parks_gdf, gpkg, layer=layer, driver="GPKG")
    with pytest.raises(ReadError) as caught:
        read_layer(gpkg, "parks")
    message = str(caught.value)
    assert "公园, 公园绿地" in message and f"{gpkg}::公园" in message
    assert "--layer" not in message
    assert len(read_layer(f"{gpkg}::公园绿地", "parks")) == 2


def test_layer_form_on_the_command_line(planner_data):
    folder, _files = planner_data
    gpkg = folder / "城市现状.gpkg"
    result = CliRunner().invoke(
        main,
        ["validate", "--residential", f"{gpkg}::居住用地", "--boundary", f"{gpkg}::建成区"],
    )
    assert result.exit_code == 0, result.output
    assert "as `residential`, 2849 features" in result.output


def test_gisrenew_reads_its_own_chinese_headers_back():
    """A table written with --lang zh (已签约户数, 区镇街道编号, ...) reads back as it was."""
    headers = column_headers("zh")
    for kind, schema in LAYERS.items():
        aliases = column_aliases(kind)
        for column in schema.column_names:
            if column in headers:
                assert aliases.get(headers[column]) == column, (kind, column, headers[column])
