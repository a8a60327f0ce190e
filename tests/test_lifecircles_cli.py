"""`gisrenew lifecircles` and its presenter: the sample city, a planner's GBK Shapefiles with
Chinese headers, Excel sheets, one language at a time — and commands that do not show life
circles do not pay for them.

The small cases use the rule set below: a 5-minute circle (300 m) with a required
kindergarten, a 10-minute circle (500 m) with a required primary school. Two homes of
20 m × 20 m (30 and 10 households); a kindergarten 100 m from the first, a primary school
300 m from it; the second home 2 km away reaches nothing. So each circle is complete for
the first home only: 50 % of the land, 75 % of the households.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from language import foreign_words, lines_with

import gisrenew.lifecircles
from gisrenew.cli import main
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.lifecircles import life_circles, parse_life_circle_rules
from gisrenew.present import format_life_circle_table

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"
CRS = "EPSG:4549"
#: Where the small cases lie (Taicang in CGCS2000 / 3-degree Gauss-Kruger CM 120E).
ORIGIN = (590000.0, 3480000.0)

RULES_TOML = """
name = "test-circles"
version = "1"
title = "test rule set"

[[circles]]
minutes = 5
distance_m = 300

[[circles]]
minutes = 10
distance_m = 500

[[facilities]]
type = "kindergarten"
label_zh = "幼儿园"
label_en = "Kindergarten"
circle = 5
unconfirmed = ["radius_m"]

[[facilities]]
type = "primary_school"
label_zh = "小学"
label_en = "Primary school"
circle = 10
"""


def _run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def _ok(*args) -> str:
    result = _run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def planner_files(tmp_path):
    """GBK Shapefiles without .cpg, Chinese headers (用地编号, 户数, 设施类型), a rule set."""
    homes = gpd.GeoDataFrame(
        {"用地编号": ["住1", "住2"], "户数": [30.0, 10.0]},
        geometry=[shapely.box(-10, -10, 10, 10), shapely.box(2000, -10, 2020, 10)],
        crs=CRS,
    )
    facilities = gpd.GeoDataFrame(
        {"设施编号": ["甲", "乙", "丙"], "设施类型": ["幼儿园", "小学", "游泳馆"]},
        geometry=[shapely.Point(110, 0), shapely.Point(-310, 0), shapely.Point(0, 50)],
        crs=CRS,
    )
    for frame in (homes, facilities):  # in Taicang, inside the working CRS's zone
        frame.geometry = frame.geometry.translate(*ORIGIN)
    paths = {"residential": tmp_path / "居住用地.shp", "facilities": tmp_path / "设施.shp"}
    for frame, path in ((homes, paths["residential"]), (facilities, paths["facilities"])):
        pyogrio.write_dataframe(frame, path, encoding="GBK")
        path.with_suffix(".cpg").unlink(missing_ok=True)
    assert "游泳馆".encode("gbk") in paths["facilities"].with_suffix(".dbf").read_bytes()
    rules = tmp_path / "circles.toml"
    rules.write_text(RULES_TOML, encoding="utf-8")
    return paths, rules


def _args(paths, rules, *more):
    return ["lifecircles", "--residential", paths["residential"], "--facilities",
            paths["facilities"], "--rules", rules, *more]  # fmt: skip


def test_command_reads_gbk_files_with_chinese_headers(planner_files):
    paths, rules = planner_files
    result = _run(*_args(paths, rules, "--lang", "zh"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "游泳馆" in out and "WARNING" in out  # the unknown type is said, not counted
    assert "generated" not in out  # the ids were read from 用地编号 and 设施编号
    assert "直线距离 300/500 m" in out  # the distances measured
    five = next(line for line in out.splitlines() if line.startswith("完整的5分钟生活圈"))
    assert "50.00%" in five and "75.00%" in five  # land and households (30 of 40)
    kindergarten = next(line for line in out.splitlines() if line.startswith("5分钟"))
    assert "300*" in kindergarten  # the unconfirmed radius is marked ...
    assert "* 未经核实" in out  # ... and explained
    school = next(line for line in out.splitlines() if line.startswith("10分钟"))
    assert "*" not in school  # a confirmed entry carries no mark


def test_json_figures_equal_the_engine_on_the_sample():
    data = json.loads(_ok("lifecircles", "--project", SAMPLE, "--method", "both", "--json"))
    inputs = gather_inputs(SAMPLE)
    options = {
        "boundary": inputs.layer("boundary"),
        "districts": inputs.layer("districts"),
        "weight": inputs.weight,
        "residential_codes": inputs.residential_codes,
    }
    walk = {"roads": inputs.layer("roads"), "snap_distance_m": 30, "connector_limit_m": 200}
    for method, extra in (("buffer", {}), ("network", walk)):
        direct = life_circles(
            inputs.layer("residential"), inputs.layer("facilities"), method=method,
            **extra, **options,
        )  # fmt: skip
        printed = data["life_circles"][method]
        assert printed["method"] == method
        for minutes in (5, 10, 15):
            row = next(r for r in printed["circles"] if r["circle_min"] == minutes)
            assert row["complete_share"] == pytest.approx(direct.complete_share(minutes))
            assert row["complete_weight_share"] == pytest.approx(
                direct.complete_share(minutes, weighted=True)
            )
        shares = {r["facility_type"]: r["reached_share"] for r in printed["types"]}
        types = direct.types
        expected = dict(zip(types["facility_type"], types["reached_share"], strict=True))
        assert shares == pytest.approx(expected)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_excel_sheets_and_headers_in_one_language(planner_files, tmp_path, lang):
    paths, rules = planner_files
    out = tmp_path / f"circles_{lang}.xlsx"
    printed = _ok(*_args(paths, rules, "--lang", lang, "-o", out))
    book = openpyxl.load_workbook(out, read_only=True)
    expected = {
        "zh": ["生活圈设施类型", "完整生活圈", "各片区生活圈设施", "各片区完整生活圈",
               "居住用地生活圈"],
        "en": ["lc_types", "lc_circles", "lc_district_types", "lc_district_circles",
               "lc_residential"],
    }[lang]  # fmt: skip
    assert book.sheetnames == expected
    rows = list(book.worksheets[1].iter_rows(values_only=True))
    header = rows[0]
    share = header.index("完整生活圈比例" if lang == "zh" else "complete_share")
    assert [r[share] for r in rows[1:]] == pytest.approx([0.5, 0.5])
    types_header = next(book.worksheets[0].iter_rows(max_row=1, values_only=True))
    assert ("可达比例" in types_header) == (lang == "zh")
    residential = next(book.worksheets[4].iter_rows(max_row=1, values_only=True))
    assert ("完整的10分钟生活圈" in residential) == (lang == "zh")
    names = {"住1", "住2", "甲", "乙", "丙", "幼儿园", "小学", "游泳馆", "test-circles"}
    names |= {"test rule set", str(paths["residential"]), str(paths["facilities"])}
    sheets = "\n".join(
        f"{s.title}: " + " | ".join(str(v) for v in next(s.iter_rows(max_row=1, values_only=True)))
        for s in book.worksheets
    )
    for text in (printed, sheets):
        words = foreign_words(text, lang, names=names, paths=[str(tmp_path)])
        assert not words, f"{lang} output holds {words}:\n{lines_with(text, words)}"


def test_geopackage_holds_the_gaps_and_the_residential_layer(planner_files, tmp_path):
    paths, rules = planner_files
    out = tmp_path / "circles.gpkg"
    _ok(*_args(paths, rules, "-o", out))
    layers = dict(pyogrio.list_layers(out))
    assert {"lc_residential", "lc_gaps", "lc_reach", "lc_types"} <= set(layers)
    gaps = gpd.read_file(out, layer="lc_gaps")
    # the second home misses both types; the first misses the kindergarten nowhere
    assert sorted(zip(gaps["facility_type"], gaps["residential_id"], strict=True)) == [
        ("kindergarten", "住2"),
        ("primary_school", "住2"),
    ]


def test_the_presenter_speaks_one_language():
    homes = gpd.GeoDataFrame(
        {"residential_id": ["a"]}, geometry=[shapely.box(0, 0, 10, 10)], crs=CRS
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": ["k"], "facility_type": ["幼儿园"]}, geometry=[shapely.Point(0, 50)],
        crs=CRS,
    )  # fmt: skip
    rules = parse_life_circle_rules(tomllib.loads(RULES_TOML))
    homes.geometry, fac.geometry = homes.translate(*ORIGIN), fac.translate(*ORIGIN)
    result = life_circles(homes, fac, rules=rules)
    zh, en = (format_life_circle_table(result, lang) for lang in ("zh", "en"))
    assert "完整的5分钟生活圈" in zh and "complete 5-minute life circle" in en
    assert "幼儿园" in zh and "Kindergarten" in en and "幼儿园" not in en
    names = {"test-circles", "test rule set"}
    assert not foreign_words(zh, "zh", names=names)
    assert not foreign_words(en, "en", names=names)


# ------------------------------------------------------------ who pays for life circles


@pytest.fixture
def no_life_circles(monkeypatch):
    """The life-circle engine raises if anything calls it."""

    def refuse(*args, **kwargs):
        raise AssertionError("life circles computed by a run that does not show them")

    monkeypatch.setattr(gisrenew.lifecircles, "life_circles", refuse)


def test_indicators_leave_life_circles_out_unless_asked(no_life_circles):
    inputs = gather_inputs(SAMPLE, kinds=("parks", "residential", "boundary", "facilities"))
    assert inputs.has("facilities")
    indicators = compute_indicators(inputs, methods=("buffer",), plans=False)
    assert indicators.life_circles is None and indicators.buffer is not None
    with pytest.raises(AssertionError, match="does not show them"):
        compute_indicators(inputs, methods=(), plans=False, life_circles=True)


def test_coverage_command_does_not_compute_life_circles(no_life_circles):
    _ok("coverage", "--project", SAMPLE, "--json")
