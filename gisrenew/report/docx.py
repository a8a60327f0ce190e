"""The report as a Word document a planner can edit (python-docx).

The same content as the printable page (:mod:`gisrenew.report.content`): headings,
the headline, the indicator sheet and every other table as real Word tables (header
row repeated on each page, rows kept whole), the coverage picture as an inline
picture, the trace with full checksums. East Asian text is set in
:data:`EAST_ASIA_FONT` through the ``w:eastAsia`` font slot of the document's styles,
so Chinese is not left to Word's guess; Latin text and figures keep :data:`LATIN_FONT`.
"""

from __future__ import annotations

import io

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from gisrenew.checkup import Checkup
from gisrenew.report.content import Cell, ReportContent, Table, report_content
from gisrenew.report.picture import coverage_png

__all__ = ["EAST_ASIA_FONT", "LATIN_FONT", "docx_bytes", "render_docx"]

#: The font of Chinese text (w:eastAsia): 宋体 ships with every Chinese Windows and
#: WPS; LibreOffice substitutes an installed CJK font.
EAST_ASIA_FONT = "宋体"
#: The font of Latin text and figures.
LATIN_FONT = "Arial"

_PAGE_WIDTH_CM = 21.0
_MARGIN_CM = 1.8
_TEXT_WIDTH_CM = _PAGE_WIDTH_CM - 2 * _MARGIN_CM
_STATUS_COLOURS = {"passed": RGBColor(0x1B, 0x5E, 0x20), "failed": RGBColor(0xB7, 0x1C, 0x1C)}


def _set_fonts(style, size: float | None = None) -> None:
    """Latin and East Asian fonts of a style (the ``w:eastAsia`` slot set explicitly)."""
    style.font.name = LATIN_FONT
    if size is not None:
        style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(slot), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIA_FONT)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)  # a theme font would override the names


def _new_document() -> docx.document.Document:
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(_PAGE_WIDTH_CM), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(_MARGIN_CM))
    _set_fonts(document.styles["Normal"], 10.5)
    for name, size in (("Title", 18), ("Heading 1", 14), ("Heading 2", 12), ("Caption", 9)):
        _set_fonts(document.styles[name], size)
    return document


def _mark_row(row, *, header: bool) -> None:
    """Keep a row on one page; repeat a header row on every page."""
    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))
    if header:
        properties.append(OxmlElement("w:tblHeader"))


def _fill(cell, content: Cell, *, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(content.text)
    run.bold = bold or content.style in _STATUS_COLOURS
    if content.style in _STATUS_COLOURS:
        run.font.color.rgb = _STATUS_COLOURS[content.style]
    if content.style == "num":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if content.style == "hash":
        run.font.size = Pt(7.5)
        run.font.name = "Consolas"


def _add_table(document, table: Table) -> None:
    columns, rows = table.shown("print")
    if table.caption:
        document.add_paragraph(table.caption, style="Caption")
    grid = document.add_table(rows=1 + len(rows), cols=len(columns))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    total = sum(c.width for c in columns) or 1.0
    widths = [Cm(_TEXT_WIDTH_CM * c.width / total) for c in columns]
    for position, width in enumerate(widths):
        grid.columns[position].width = width
    for r, values in enumerate([[Cell(c.header) for c in columns], *rows]):
        row = grid.rows[r]
        _mark_row(row, header=r == 0)
        for position, value in enumerate(values):
            row.cells[position].width = widths[position]
            _fill(row.cells[position], value, bold=r == 0)
    for note in table.notes:
        document.add_paragraph(note, style="Caption")


def render_docx(content: ReportContent, picture_png: bytes | None = None) -> bytes:
    """The Word document of `content` as bytes; `picture_png` goes in the map section."""
    document = _new_document()
    document.add_paragraph(content.title, style="Title")
    document.add_paragraph(content.subtitle)
    for line in content.headline:
        document.add_paragraph().add_run(line).bold = True
    for section in content.sections:
        document.add_heading(section.heading, level=1)
        for line in section.paragraphs:
            document.add_paragraph(line)
        if section.picture and picture_png:
            document.add_picture(io.BytesIO(picture_png), width=Cm(min(_TEXT_WIDTH_CM, 16.0)))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        for table in section.tables:
            _add_table(document, table)
    document.core_properties.title = content.title
    document.core_properties.author = "gisrenew"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_bytes(checkup: Checkup, lang: str = "zh") -> bytes:
    """The Word document of `checkup` in `lang` (``zh`` or ``en``)."""
    content = report_content(checkup, lang)
    wants_picture = any(section.picture for section in content.sections)
    return render_docx(content, coverage_png(checkup, lang) if wants_picture else None)
