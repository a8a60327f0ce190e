import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import GK, square

from gisrenew import io, outfiles
from gisrenew.errors import CRSError, EncodingError, GeometryError, ReadError, SchemaError
from gisrenew.present.labels import column_headers

NAMES = ["古松弄", "胜利村", "原城厢镇三小"]


def _parks(**columns):
    data = {"name": NAMES, **columns}
    return gpd.GeoDataFrame(data, geometry=[square(i * 300, 0, 100) for i in range(3)], crs=GK)


def _write_shp(gdf, path, encoding, keep_cpg):
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    cpg = path.with_suffix(".cpg")
    if not keep_cpg and cpg.exists():
        cpg.unlink()
    return path


# ----------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["GBK", "GB18030", "UTF-8"])
def test_shapefile_without_cpg_is_detected(tmp_path, encoding):
    path = _write_shp(_parks(), tmp_path / "parks.shp", encoding, keep_cpg=False)
    assert not path.with_suffix(".cpg").exists()
    gdf = io.read_layer(path, "parks")
    assert gdf["name"].tolist() == NAMES


def test_gbk_bytes_really_are_gbk(tmp_path):
    """The fixture is what it claims: the DBF holds GBK bytes, not UTF-8."""
    path = _write_shp(_parks(), tmp_path / "parks.shp", "GBK", keep_cpg=False)
    raw = path.with_suffix(".dbf").read_bytes()
    assert "古松弄".encode("gbk") in raw
    assert "古松弄".encode() not in raw
    assert io.detect_shapefile_encoding(path) == "GB18030"


def test_cpg_is_honoured(tmp_path):
    path = _write_shp(_parks(), tmp_path / "parks.shp", "GBK", keep_cpg=False)
    path.with_suffix(".cpg").write_text("936")
    assert io.detect_shapefile_encoding(path) == "GBK"
    assert io.read_layer(path, "parks")["name"].tolist() == NAMES


def test_explicit_encoding_overrides_detection(tmp_path):
    path = _write_shp(_parks(), tmp_path / "parks.shp", "GBK", keep_cpg=False)
    gdf = io.read_layer(path, "parks", encoding="CP1252")
    # the user asked for CP1252 and got it: GBK bytes read as Western European text
    assert gdf["name"].iloc[0] == "古松弄".encode("gbk").decode("cp1252")


def test_undecodable_text_asks_for_an_encoding(tmp_path):
    path = _write_shp(_parks(), tmp_path / "parks.shp", "UTF-8", keep_cpg=False)
    dbf = path.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    header_length = int.from_bytes(raw[8:10], "little")
    raw[header_length + 1 : header_length + 3] = b"\xff\xff"  # bytes valid in neither encoding
    dbf.write_bytes(bytes(raw))
    with pytest.raises(EncodingError, match="--encoding"):
        io.read_layer(path, "parks")


# ----------------------------------------------------------------- CRS


def test_layer_in_epsg_4490_is_reprojected_to_gk(tmp_path):
    parks = gpd.GeoDataFrame(
        {"name": ["a"]}, geometry=[shapely.box(121.1, 31.45, 121.101, 31.451)], crs=4490
    )
    path = tmp_path / "parks.geojson"
    parks.to_file(path)
    gdf = io.read_layer(path, "parks")
    assert gdf.crs.to_epsg() == 4549
    # ~95 m × ~111 m at this latitude
    assert 9_000 < gdf.area.iloc[0] < 12_000


def test_working_crs_is_honoured(tmp_path):
    path = tmp_path / "parks.gpkg"
    _parks().to_file(path)
    gdf = io.read_layer(path, "parks", working_crs="EPSG:32651")
    assert gdf.crs.to_epsg() == 32651


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # writing the fixture
def test_layer_without_crs_names_file_and_fix(tmp_path):
    path = _write_shp(
        _parks().set_crs(None, allow_override=True), tmp_path / "p.shp", "UTF-8", True
    )
    path.with_suffix(".prj").unlink(missing_ok=True)
    with pytest.raises(CRSError) as info:
        io.read_layer(path, "parks")
    assert str(path) in str(info.value)
    assert "--crs" in str(info.value)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # writing the fixture
def test_declared_crs_fixes_a_layer_without_one(tmp_path):
    path = _write_shp(
        _parks().set_crs(None, allow_override=True), tmp_path / "p.shp", "UTF-8", True
    )
    path.with_suffix(".prj").unlink(missing_ok=True)
    gdf = io.read_layer(path, "parks", crs="EPSG:4549")
    assert gdf.crs.to_epsg() == 4549 and len(gdf) == 3


def test_degrees_stored_as_metres_are_refused(tmp_path):
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(121.1, 31.45, 121.11, 31.46)], crs=GK)
    with pytest.raises(CRSError, match="look like degrees"):
        io.conform(gdf, "parks")


# ----------------------------------------------------------------- geometry


def test_self_intersecting_polygon_is_repaired_and_reported(caplog):
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    bowtie = shapely.affinity.translate(bowtie, 604_000, 3_481_000)
    gdf = gpd.GeoDataFrame({"park_id": ["bow"]}, geometry=[bowtie], crs=GK)
    assert not bowtie.is_valid
    with caplog.at_level("WARNING", logger="gisrenew"):
        out = io.conform(gdf, "parks")
    assert out.is_valid.all()
    assert out.area.iloc[0] == pytest.approx(5000.0)  # two triangles of 2500 m²
    assert "repaired" in caplog.text and "bow" in caplog.text
    assert not gdf.geometry.iloc[0].is_valid  # input untouched


def test_empty_and_null_geometries_are_dropped_and_reported(caplog):
    gdf = gpd.GeoDataFrame(
        {"park_id": ["a", "b", "c"]},
        geometry=[square(0, 0, 10), None, shapely.Polygon()],
        crs=GK,
    )
    with caplog.at_level("WARNING", logger="gisrenew"):
        out = io.conform(gdf, "parks")
    assert out["park_id"].tolist() == ["a"]
    assert "2 row(s) with empty or missing geometry" in caplog.text
    assert "rows 2, 3" in caplog.text


def test_points_in_a_polygon_layer_are_rejected():
    gdf = gpd.GeoDataFrame(
        {"park_id": ["a", "b"]},
        geometry=[square(0, 0, 10), shapely.Point(604_000, 3_481_000)],
        crs=GK,
    )
    with pytest.raises(GeometryError, match="Point geometry") as info:
        io.conform(gdf, "parks", source="parks.gpkg")
    assert "rows 2" in str(info.value) and "parks.gpkg" in str(info.value)


def test_multipart_parks_stay_one_feature():
    multi = shapely.MultiPolygon([square(0, 0, 10), square(100, 0, 10)])
    out = io.conform(gpd.GeoDataFrame(geometry=[multi], crs=GK), "parks")
    assert len(out) == 1 and out.area.iloc[0] == pytest.approx(200.0)


def test_geometry_collection_keeps_its_polygons():
    mixed = shapely.GeometryCollection([square(0, 0, 10), shapely.LineString([(0, 0), (1, 1)])])
    out = io.conform(gpd.GeoDataFrame(geometry=[mixed], crs=GK), "parks")
    assert out.geom_type.tolist() == ["Polygon"] and out.area.iloc[0] == pytest.approx(100.0)


# ----------------------------------------------------------------- schema


def test_missing_ids_are_generated_from_row_order(caplog):
    with caplog.at_level("INFO", logger="gisrenew"):
        out = io.conform(_parks(), "parks")
    assert out["park_id"].tolist() == ["1", "2", "3"]
    assert "generated from the row order" in caplog.text


def test_duplicate_ids_are_an_error_naming_rows():
    gdf = _parks(park_id=["a", "b", "a"])
    with pytest.raises(SchemaError, match=r"duplicate ids \['a'\]") as info:
        io.conform(gdf, "parks", source="parks.shp")
    assert "rows 1, 3" in str(info.value)


def test_numeric_ids_become_text():
    out = io.conform(_parks(park_id=[1.0, 2.0, 30.0]), "parks")
    assert out["park_id"].tolist() == ["1", "2", "30"]


def test_non_numeric_household_count_is_an_error():
    gdf = gpd.GeoDataFrame(
        {"households": ["12", "十二", "7"]},
        geometry=[square(0, 0, 10), square(20, 0, 10), square(40, 0, 10)],
        crs=GK,
    )
    with pytest.raises(SchemaError, match="not numbers") as info:
        io.conform(gdf, "residential")
    assert "households" in str(info.value) and "rows 2" in str(info.value)


def test_negative_and_fractional_counts_are_errors():
    gdf = gpd.GeoDataFrame(
        {"households_residential": [1, -2], "households_shops": [1.5, 2]},
        geometry=[square(0, 0, 10), square(20, 0, 10)],
        crs=GK,
    )
    with pytest.raises(SchemaError) as info:
        io.conform(gdf, "parcels")
    assert "negative" in str(info.value) and "whole numbers" in str(info.value)


def test_every_problem_is_reported_at_once():
    gdf = _parks(park_id=["a", "a", "b"], is_pocket_park=["是", "maybe", "否"])
    gdf = gdf.set_crs(None, allow_override=True)
    with pytest.raises(Exception) as info:
        io.conform(gdf, "parks")
    text = str(info.value)
    assert "3 problems" in text and "CRS" in text and "duplicate" in text and "yes/no" in text


def test_chinese_headers_are_mapped_and_defaults_filled():
    gdf = gpd.GeoDataFrame(
        {"名称": ["甲"], "户数": [12], "用地代码": ["R21"]}, geometry=[square(0, 0, 10)], crs=GK
    )
    out = io.conform(gdf, "residential")
    assert out.loc[0, "name"] == "甲"
    assert out.loc[0, "households"] == 12.0 and out.loc[0, "land_use"] == "R21"
    assert out.loc[0, "population"] == 0.0
    assert list(out.columns[:2]) == ["residential_id", "name"]


def test_user_column_mapping_wins():
    gdf = gpd.GeoDataFrame({"HH": [3], "名称": ["x"]}, geometry=[square(0, 0, 10)], crs=GK)
    out = io.conform(gdf, "residential", columns={"HH": "households"})
    assert out.loc[0, "households"] == 3.0


def test_conform_never_mutates_its_input():
    gdf = _parks()
    before = gdf.copy()
    io.conform(gdf, "parks")
    pd.testing.assert_frame_equal(gdf, before)


def test_bool_column_accepts_chinese_yes_no():
    out = io.conform(_parks(is_pocket_park=["是", "否", None]), "parks")
    assert out["is_pocket_park"].tolist() == [True, False, False]


# ----------------------------------------------------------------- files


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".fgb"])
def test_round_trip_formats(tmp_path, suffix):
    parks = _parks(park_id=["a", "b", "c"], park_class=["G11", "G12", "G14"])
    path = tmp_path / f"parks{suffix}"
    pyogrio.write_dataframe(parks, path)
    out = io.read_layer(path, "parks").sort_values("park_id")  # FlatGeobuf reorders features
    assert out["park_id"].tolist() == ["a", "b", "c"]
    assert out["name"].tolist() == NAMES
    assert np.allclose(out.area, 10_000)


def _every_kind_of_column():
    """Parks with ids, text with spaces and gaps, counts, dates, yes/no with a gap."""
    return _parks(
        park_id=[" a", "b ", "c"],
        park_class=["G11", None, "G14"],
        口袋公园=pd.array([True, None, False], dtype="boolean"),
        opened=[datetime.date(2023, 5, 1), None, datetime.date(2020, 1, 1)],
        visits=pd.array([12, None, 7], dtype="Int64"),
        area_note=[1.5, np.nan, 2.0],
    )


def test_yes_no_column_with_an_empty_cell(tmp_path):
    """A GeoPackage yes/no column with a gap reads as 1.0/NaN/0.0: still yes/no."""
    path = tmp_path / "parks.gpkg"
    pyogrio.write_dataframe(_every_kind_of_column(), path)
    out = io.read_layer(path, "parks")
    assert out["is_pocket_park"].tolist() == [True, False, False]  # the gap: the default


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_layer_read_through_arrow_equals_the_row_reader(tmp_path, suffix):
    """Read through pyogrio's Arrow path, a file gives exactly the layer read row by row."""
    path = tmp_path / f"parks{suffix}"
    encoding = "GBK" if suffix == ".shp" else None
    pyogrio.write_dataframe(_every_kind_of_column(), path, encoding=encoding)
    rows = gpd.read_file(path, encoding=encoding, engine="pyogrio", use_arrow=False)
    expected = io.conform(rows, "parks", source=str(path), layer="parks")
    got = io.read_layer(path, "parks")
    pd.testing.assert_frame_equal(got, expected)
    assert got["name"].tolist() == NAMES and got["park_id"].tolist() == ["a", "b", "c"]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ReadError, match="does not exist"):
        io.read_layer(tmp_path / "nope.gpkg", "parks")
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    with pytest.raises(ReadError, match=r"broken\.gpkg"):
        io.read_layer(broken, "parks")


def test_multi_layer_file_needs_a_layer_name(tmp_path):
    path = tmp_path / "city.gpkg"
    _parks().to_file(path, layer="a")
    _parks().to_file(path, layer="b")
    with pytest.raises(ReadError, match="several layers"):
        io.read_layer(path, "parks")
    assert len(io.read_layer(path, "parks", layer="b")) == 3


def test_write_results_gpkg_csv_xlsx(tmp_path):
    layer = io.conform(_parks(), "parks")
    table = pd.DataFrame({"park_id": ["1"], "area_mu": [1.5]})
    io.write_results(tmp_path / "out.gpkg", {"parks": layer, "summary": table})
    assert sorted(io.list_layers(tmp_path / "out.gpkg")) == ["parks", "summary"]
    csvs = io.write_results(
        tmp_path / "out.csv", {"summary": table}, headers="zh", labels=column_headers("zh")
    )
    assert csvs[0].name == "out_summary.csv"
    assert csvs[0].read_text(encoding="utf-8-sig").splitlines()[0] == "公园编号,面积(亩)"
    io.write_results(
        tmp_path / "out.xlsx", {"parks": layer}, headers="zh", labels=column_headers("zh")
    )
    sheet = pd.read_excel(tmp_path / "out.xlsx", sheet_name="parks")
    assert "名称" in sheet.columns and sheet["名称"].tolist() == NAMES
    assert not list(tmp_path.glob(".out*"))  # no temporary files left behind


def test_spreadsheet_formulas_in_text_stay_text(tmp_path):
    table = pd.DataFrame(
        {"name": ['=HYPERLINK("http://x")', "@SUM(A1)", "古松弄"], "n": [-1, 2, 3]}
    )
    io.write_results(tmp_path / "t.xlsx", {"t": table})
    back = pd.read_excel(tmp_path / "t.xlsx", sheet_name="t")
    assert back["name"].tolist() == ['\'=HYPERLINK("http://x")', "'@SUM(A1)", "古松弄"]
    assert back["n"].tolist() == [-1, 2, 3]
    csv = io.write_results(tmp_path / "t.csv", {"t": table})[0].read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in csv


def test_excel_sheets_read_well(tmp_path):
    """Issue #14 item 5: number formats, widths, a frozen header row, Chinese sheet names."""
    import openpyxl

    table = pd.DataFrame(
        {
            "district_id": ["D01", "D02"],
            "name": ["城厢镇", "沙溪镇很长的名字"],
            "coverage_ratio": [0.8567941988300368, 0.5],
            "covered_area_m2": [1234567.8, 10.0],
            "covered_area_ha": [123.45678, 0.001],
            "covered_area_mu": [1851.85, 0.015],
            "households": [5259.8, 3.0],
        }
    )
    out = tmp_path / "r.xlsx"
    io.write_results(
        out,
        {"districts": table, "bad/name": table},
        headers="zh",
        labels={"name": "名称", "coverage_ratio": "覆盖率"},
        sheet_names={"districts": "各片区覆盖率"},
    )
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["各片区覆盖率", "bad_name"]
    sheet = book["各片区覆盖率"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:3] == ["district_id", "名称", "覆盖率"]
    formats = {sheet.cell(1, i).value: sheet.cell(2, i).number_format for i in range(1, 8)}
    assert formats["覆盖率"] == "0.00%"
    assert formats["covered_area_m2"] == "#,##0"
    assert formats["covered_area_ha"] == "#,##0.00"
    assert formats["covered_area_mu"] == "#,##0.0"
    assert formats["households"] == "#,##0"
    assert sheet.cell(2, 3).value == pytest.approx(0.8567941988300368)  # exact value kept
    # the Chinese name column is wider than its 8 characters would be in ASCII
    assert sheet.column_dimensions["B"].width >= 16


def test_defuse_formulas_prefixes_every_formula_cell_and_nothing_else():
    """The column-at-once test (issue #15) gives what the cell-by-cell rule gives."""
    cells = ["=HYPERLINK(1)", "+1", "-x", "@a", "\tb", "\rc", "ok", "", "中=文", None, "'=q"]
    mixed = ["=1", 3, None, b"=x", True, "a", "-", 1.5, "x", "y", "z"]
    frame = pd.DataFrame(
        {
            "text": pd.Series(cells, dtype=object),
            "mixed": pd.Series(mixed, dtype=object),
            "string": pd.Series(cells, dtype="string"),
            "numbers": np.arange(len(cells)) - 5.0,
            "=header": ["a"] * len(cells),
        }
    )
    out = outfiles.defuse_formulas(frame)
    expected = {
        "text": ["'" + c if isinstance(c, str) and c[:1] in "=+-@\t\r" and c else c for c in cells],
        "mixed": ["'=1", 3, None, b"=x", True, "a", "'-", 1.5, "x", "y", "z"],
    }
    assert out["text"].tolist() == expected["text"]
    assert out["mixed"].tolist() == expected["mixed"]
    assert (
        out["string"].fillna("<NA>").tolist()
        == pd.Series(expected["text"], dtype="string").fillna("<NA>").tolist()
    )
    assert out["numbers"].tolist() == frame["numbers"].tolist()
    assert list(out.columns) == ["text", "mixed", "string", "numbers", "'=header"]
    assert frame["text"].tolist() == cells  # the caller's frame is left alone


def test_csv_bytes_word_floats_as_python_repr_a_column_at_once(tmp_path):
    """Issue #15: floats go through Arrow's cast, still byte for byte as pandas writes them.

    Arrow words some values its own way (``1`` for 1.0, ``1e+15``, ``0.00001``,
    ``5.118216247002567e+12`` for a long number): each must come out as Python's repr.
    """
    rng = np.random.default_rng(7)
    tricky = [1.0, -0.0, 1e15, 1e15 + 0.5, 5118216247002.567, 1e-5, 2.5e-7, 9.999e-5, 2.0**53]
    floats = np.concatenate(
        [
            tricky,
            rng.random(2000) * 10.0 ** rng.integers(-12, 20, 2000),
            rng.integers(-(10**6), 10**6, 500).astype(float),
            rng.integers(0, 2**63, 2000, dtype=np.int64).view(np.float64),  # any bit pattern
        ]
    )
    n = len(floats)
    frame = pd.DataFrame(
        {
            "value": floats,
            "arrow_text": pd.Series([f"地块{i}" if i % 5 else None for i in range(n)], dtype="str"),
            "nothing": pd.Series([None] * n, dtype=object),
            "big": np.arange(n, dtype=np.int64) * 2**40,
        }
    )
    expected = tmp_path / "pandas.csv"
    frame.to_csv(expected, index=False, encoding="utf-8-sig")
    assert outfiles.csv_bytes(frame) == expected.read_bytes()


def test_csv_bytes_are_the_bytes_pandas_writes(tmp_path):
    """Issue #15: the site's tables are written faster, byte for byte as pandas writes them."""
    floats = [1e16, 9999999999999998.0, 1e-4, 9.999e-5, 5e-324, 1.7976931348623157e308, -0.0]
    floats += [0.0, np.nan, np.inf, -np.inf, 0.1, 1 / 3, 100.0, 123456789.0, 1e15, 1e-5, -2.5]
    n = len(floats)
    frame = pd.DataFrame(
        {
            "面积(m²)": floats,
            "count": np.arange(n) - 3,
            "flag": np.arange(n) % 3 == 0,
            "text": pd.Series(["中文", None, "'=x", ""] * 4 + ["a", "b"], dtype=object),
            "string": pd.Series(["s", None] * (n // 2), dtype="string"),
        }
    )
    expected = tmp_path / "pandas.csv"
    frame.to_csv(expected, index=False, encoding="utf-8-sig")
    assert outfiles.csv_bytes(frame) == expected.read_bytes()
    written = outfiles.write_csv(tmp_path / "fast.csv", frame)
    assert written.read_bytes() == expected.read_bytes()
    # cells pandas would quote, objects that are not text, one column: pandas writes them
    for odd in (
        frame.assign(text=["a,b", 'say "hi"', "two\nlines"] + ["x"] * (n - 3)),
        frame.assign(text=[b"bytes", 1] + ["x"] * (n - 2)),
        frame[["text"]],
        frame.assign(count=pd.array(np.arange(n), dtype="Int64")),
    ):
        assert outfiles.csv_bytes(odd) is None
        odd.to_csv(expected, index=False, encoding="utf-8-sig")
        assert outfiles.write_csv(tmp_path / "odd.csv", odd).read_bytes() == expected.read_bytes()
