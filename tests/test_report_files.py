"""The report's files read back: Word (python-docx), Excel (openpyxl), the page's text.

Every figure is the hand-built sheet's of ``report_checkup.py``; what is checked is what
a reader finds in the files: the indicator table with its values as formatted, the
picture, the numbers stored as numbers, names kept as text, labels in one language.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import zipfile

import docx
import geopandas as gpd
import openpyxl
import pytest
import report_checkup as fixture
import shapely
from docx.oxml.ns import qn
from matplotlib.path import Path as MplPath
from PIL import Image

from gisrenew.errors import OutputError
from gisrenew.report import html_page, report_content, report_files, write_report
from gisrenew.report import picture as report_picture
from gisrenew.report.docx import EAST_ASIA_FONT


def _docx_tables(path) -> dict[str, list[list[str]]]:
    """Each table of the document by its first header cell … as rows of cell texts."""
    document = docx.Document(str(path))
    return [[[c.text for c in row.cells] for row in table.rows] for table in document.tables]


def _sheet_rows(book, name: str) -> list[tuple]:
    return [tuple(row) for row in book[name].iter_rows(values_only=True)]


def _table_after(rows: list[tuple], first_header: str) -> tuple[tuple, list[tuple]]:
    """The header row starting with `first_header` and the rows below it up to a blank."""
    start = next(i for i, r in enumerate(rows) if r and r[0] == first_header)
    body = []
    for row in rows[start + 1 :]:
        if all(v is None for v in row):
            break
        body.append(row)
    return rows[start], body


# ------------------------------------------------------------------ Word


def test_word_document_holds_the_indicator_table_and_the_picture(tmp_path):
    checkup = fixture.checkup()
    path = write_report(checkup, tmp_path / "体检报告.docx")
    document = docx.Document(str(path))
    tables = _docx_tables(path)
    sheet = next(t for t in tables if t[0][:2] == ["指标", "数值"])
    assert sheet[0] == ["指标", "数值", "计算依据", "目标", "依据", "判断"]
    first = sheet[1]
    assert first[:2] == ["公园绿地服务半径覆盖率", "86.18%"]
    assert first[2] == "覆盖居住用地面积 (m²) 430,900 / 居住用地面积 (m²) 500,000"
    assert first[3:] == ["> 80%", "GB 55014-2021 园林绿化工程项目规范 第2.1.3条", "达标"]
    assert sheet[2][3:] == ["> 90%", "GB/T 51346-2019 城市绿地规划标准 第4.1.2条", "未达标"]
    assert sheet[3][3] == "≥ 85% *"  # unconfirmed target marked
    missing = next(r for r in sheet if r[0] == "人均公园绿地面积")
    assert missing[1] == "无法计算：no population" and missing[5] == "无法判断"
    per_capita = next(r for r in sheet if r[0] == "人均社区公园面积")
    assert per_capita[1] == "3.46 m²/人"
    # the picture: one inline shape, a PNG
    assert len(document.inline_shapes) == 1
    parts = [p for p in document.part.package.parts if p.content_type == "image/png"]
    assert len(parts) == 1 and Image.open(io.BytesIO(parts[0].blob)).size[0] > 500
    # a hostile name is a name; the districts table holds all 40 districts
    districts = next(t for t in tables if t[0][0] == "片区" and len(t) > 30)
    assert len(districts) == 41 and districts[1][0] == fixture.HOSTILE
    # the header row repeats on every page; no row splits
    header_row = document.tables[0].rows[0]._tr
    assert header_row.trPr.find(qn("w:tblHeader")) is not None
    assert header_row.trPr.find(qn("w:cantSplit")) is not None
    # East Asian text has its own font
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == EAST_ASIA_FONT


def test_word_trace_keeps_every_checksum_whole(tmp_path):
    path = write_report(fixture.checkup(), tmp_path / "r.docx")
    text = "\n".join(c for t in _docx_tables(path) for row in t for c in row)
    assert fixture.SHA_A in text and fixture.SHA_B in text


# ------------------------------------------------------------------ Excel


def test_workbook_numbers_are_the_checkups_numbers(tmp_path):
    checkup = fixture.checkup()
    path = write_report(checkup, tmp_path / "体检报告.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["指标", "分区", "更新进度", "口袋公园", "变化", "溯源"]
    rows = _sheet_rows(book, "指标")
    header, body = _table_after(rows, "指标")
    assert header[:4] == ("指标", "数值", "分子", "分母")
    heads = [r for r in body if r[0] and not r[0].startswith("*")]  # not the note
    for row, indicator in zip(heads, checkup.indicators, strict=True):
        assert row[0] == indicator.name_zh
        if indicator.value is None:
            assert isinstance(row[1], str) and row[1].startswith("无法计算")
        else:
            assert row[1] == indicator.value  # the exact number, not its text
        assert row[2] == indicator.numerator and row[3] == indicator.denominator
    sheet = book["指标"]
    value_cell = next(c for c in sheet["B"] if c.value == checkup.indicators[0].value)
    assert value_cell.number_format == "0.00%"


def test_workbook_districts_renewal_and_parks(tmp_path):
    checkup = fixture.checkup()
    book = openpyxl.load_workbook(write_report(checkup, tmp_path / "r.xlsx"))
    header, body = _table_after(_sheet_rows(book, "分区"), "片区")
    assert header[1] == "居住用地(m²)" and len(body) == 40
    coverage_col = header.index("公园绿地服务半径覆盖率")
    network_col = header.index("公园绿地服务半径覆盖率（步行）")
    for row, district in zip(body, checkup.districts, strict=True):
        assert row[1] == district.residential_area_m2
        assert row[coverage_col] == district.values["park_coverage_buffer"]
        expected = district.values["park_coverage_network"]
        assert row[network_col] == expected  # a missing figure: an empty cell
    # a formula in a name stays text
    assert body[1][0] == "'" + fixture.FORMULA
    assert body[0][0] == fixture.HOSTILE
    renewal = {row[0]: row[1] for row in _table_after(_sheet_rows(book, "更新进度"), "项目")[1]}
    totals = checkup.renewal.renewal
    assert renewal["面积(亩)"] == totals["area_mu"]
    assert renewal["签约率"] == totals["signing_rate"]
    assert renewal["合计户数"] == totals["households_total"]
    assert renewal["签约进度"] == "签约中"
    parks = _sheet_rows(book, "口袋公园")
    _, methods = _table_after(parks, "计算方法")
    assert methods[0][1:3] == (0.8203, 0.8618)
    trace = _sheet_rows(book, "溯源")
    assert any(fixture.SHA_A in row for row in trace)


def test_workbook_holds_no_formula(tmp_path):
    path = write_report(fixture.checkup(), tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml for xml in sheets)


# ------------------------------------------------------------------ the page's text


def test_page_escapes_names_and_is_self_contained():
    page = html_page(fixture.checkup())
    assert "<script" not in page.lower()
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;东园" in page
    assert "http://" not in page.replace('"http://x"', "").replace("&#34;http://x&#34;", "")
    assert 'src="data:image/png;base64,' in page
    assert "@page { size: A4;" in page and "thead { display: table-header-group; }" in page


def test_headline_says_raised_only_when_the_latest_batch_raised_the_figure():
    raised = report_content(fixture.checkup())
    assert raised.headline[0] == "公园绿地服务半径覆盖率提升至 86.18%"
    assert raised.headline[1] == "第 3 次计算新建口袋公园 2 处。"
    plain = report_content(fixture.checkup(latest_parks=None))
    assert plain.headline == ("公园绿地服务半径覆盖率为 86.18%",)
    batch = fixture.latest_parks()
    lowered = batch.__class__(**{**batch.__dict__, "before": {"park_coverage_buffer": 0.9}})
    assert report_content(fixture.checkup(latest_parks=lowered)).headline[0].endswith("为 86.18%")


def test_english_report_speaks_english():
    content = report_content(fixture.checkup(), "en")
    assert content.headline[0] == "Park service-radius coverage rose to 86.18%"
    sheet = content.table("indicators")
    assert [c.header for c in sheet.columns if c.where != "sheet"] == [
        "indicator", "value", "made of", "target", "source", "result",
    ]  # fmt: skip
    assert [row[-1].text for row in sheet.rows][:3] == ["met", "not met", "met"]
    page = html_page(fixture.checkup(), "en")
    for words in ("达标", "各片区", "溯源", "计算时间", "新建前"):
        assert words not in page


def test_sections_without_data_are_left_out(tmp_path):
    bare = fixture.checkup(districts=(), renewal=None, latest_parks=None, since=None,
                           map_layers={})  # fmt: skip
    content = report_content(bare)
    assert [s.key for s in content.sections] == ["sheet", "trace"]
    book = openpyxl.load_workbook(write_report(bare, tmp_path / "bare.xlsx"))
    assert book.sheetnames == ["指标", "溯源"]
    document = docx.Document(str(write_report(bare, tmp_path / "bare.docx")))
    assert len(document.inline_shapes) == 0


# ------------------------------------------------------------------ writing safely


def test_report_files_writes_three_and_refuses_to_overwrite(tmp_path):
    written = report_files(fixture.checkup(), tmp_path / "out")
    assert sorted(p.name for p in written) == ["report.docx", "report.html", "report.xlsx"]
    before = {p.name: p.read_bytes() for p in written}
    with pytest.raises(OutputError, match=r"exists.*--overwrite"):
        report_files(fixture.checkup(), tmp_path / "out")
    assert {p.name: p.read_bytes() for p in written} == before
    again = report_files(fixture.checkup(), tmp_path / "out", overwrite=True)
    assert [p.name for p in again] == [p.name for p in written]


def test_write_report_refuses_unknown_suffix_and_inputs(tmp_path):
    with pytest.raises(OutputError, match=r"\.html, \.docx, \.xlsx"):
        write_report(fixture.checkup(), tmp_path / "report.pdf")
    layer = tmp_path / "parks.html"
    layer.write_text("mine")
    with pytest.raises(OutputError, match="replace"):
        write_report(fixture.checkup(), layer, inputs=[layer], overwrite=True)
    assert layer.read_text() == "mine"
    path = write_report(fixture.checkup(), tmp_path / "as_word.bin", fmt="docx")
    assert zipfile.is_zipfile(path) and docx.Document(str(path)).tables


# ------------------------------------------------------------------ the picture


def test_picture_draws_every_layer_in_its_colour():
    png = report_picture.coverage_png(fixture.checkup())
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = {rgb for _, rgb in image.getcolors(maxcolors=1 << 20)}
    for hex_colour in ("#92c5de", "#f4a582", "#1b7837"):  # covered, uncovered, parks
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, hex_colour


def test_picture_hole_in_a_park_stays_empty():
    """The ring park of the fixture: its middle (a hole) shows what lies below, not green."""
    layers = fixture.map_layers()
    only_park = {"parks": layers["parks"].iloc[[0]], "boundary": layers["boundary"]}
    png = report_picture.coverage_png(fixture.checkup(map_layers=only_park))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    park = tuple(int("1b7837"[i : i + 2], 16) for i in (0, 2, 4))
    width, height = image.size
    # the boundary square fills the axes: its centre is the hole's centre
    centre = image.getpixel((width // 2, int(height * (0.08 + 0.81 / 2))))
    assert centre != park
    assert any(image.getpixel((x, int(height * 0.485))) == park for x in range(width))


def test_picture_warns_when_no_chinese_font(monkeypatch, caplog):
    report_picture.cjk_font.cache_clear()
    monkeypatch.setattr(report_picture, "CJK_FONTS", ("No Such Font 甲",))
    try:
        with caplog.at_level(logging.WARNING, logger="gisrenew.report.picture"):
            assert report_picture.cjk_font() is None
        assert re.search(r"no font with Chinese glyphs.*fonts-noto-cjk", caplog.text)
    finally:
        report_picture.cjk_font.cache_clear()


def test_picture_finds_the_installed_cjk_font():
    report_picture.cjk_font.cache_clear()
    assert report_picture.cjk_font() in report_picture.CJK_FONTS


def test_a_layer_is_one_path_of_every_ring():
    """Parks of the fixture: a square with a square hole and a plain square → 3 rings of 5
    points (closed), one path; a missing geometry and an empty one are left out."""
    parks = fixture.map_layers()["parks"]
    frame = gpd.GeoDataFrame(geometry=[*parks.geometry, None, shapely.Polygon()], crs=parks.crs)
    path = report_picture.layer_path(frame)
    assert len(path.vertices) == 15
    assert list(path.codes).count(MplPath.MOVETO) == 3
    assert list(path.codes).count(MplPath.CLOSEPOLY) == 3
    x0, y0 = fixture.X0, fixture.Y0
    assert path.get_extents().bounds == pytest.approx((x0 + 50, y0 + 400, 550, 530))


def test_multipolygons_are_drawn_part_by_part():
    """Parks as a recompute stores them (every park a MultiPolygon): the same 3 rings as
    the Polygons — not an empty path with infinite extents, which failed the picture."""
    parks = fixture.map_layers()["parks"]
    multi = gpd.GeoDataFrame(
        geometry=[shapely.MultiPolygon([g]) for g in parks.geometry], crs=parks.crs
    )
    path = report_picture.layer_path(multi)
    assert list(path.codes).count(MplPath.MOVETO) == 3
    assert path.get_extents().bounds == report_picture.layer_path(parks).get_extents().bounds
    checkup = dataclasses.replace(fixture.checkup(), map_layers={"parks": multi})
    assert report_picture.coverage_png(checkup, "zh").startswith(b"\x89PNG")
