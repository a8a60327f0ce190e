"""The report as an Excel workbook: one sheet per subject, numbers as numbers.

Sheets (Chinese names under ``zh``): 指标 (the indicator sheet with numerators and
denominators), 分区 (districts), 更新进度 (renewal totals, old-community renovation,
plans), 口袋公园 (the latest park batch), 变化 (the change since an earlier run) and
溯源 (the trace). Each cell stores the Checkup's exact number with an Excel number
format (``0.00%`` for ratios, ``#,##0.00`` …), so a planner's sums and charts use the
real figures. Text from planners' files goes through
:func:`gisrenew.outfiles.defuse_formulas` (a name ``=HYPERLINK(…)`` stays text) and is
written as text cells, never as formulas.
"""

from __future__ import annotations

import io
from collections import defaultdict

import pandas as pd
import xlsxwriter
from wcwidth import wcswidth

from gisrenew.checkup import Checkup
from gisrenew.outfiles import defuse_formulas
from gisrenew.present.labels import label
from gisrenew.report.content import Cell, ReportContent, Section, Table, report_content

__all__ = ["SHEETS", "render_xlsx", "xlsx_bytes"]

#: Sheet keys in order (names: ``report.sheet_<key>`` in :mod:`gisrenew.present.labels`).
SHEETS: tuple[str, ...] = ("indicators", "districts", "renewal", "parks", "since", "trace")

_MAX_WIDTH = 60


def _defused_text(rows: list[list[Cell]]) -> list[list[str]]:
    """The text of every cell with spreadsheet formulas defused (one pass per table)."""
    if not rows:
        return []
    frame = pd.DataFrame([[c.text for c in row] for row in rows], dtype=object)
    return defuse_formulas(frame).to_numpy().tolist()


class _Sheet:
    """A worksheet filled table after table, remembering its column widths."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, styles: dict) -> None:
        self.sheet = book.add_worksheet(name)
        self.styles = styles
        self.row = 0
        self.widths: dict[int, int] = defaultdict(lambda: 8)

    def _fit(self, column: int, text: str) -> None:
        self.widths[column] = min(max(self.widths[column], wcswidth(text) + 2), _MAX_WIDTH)

    def line(self, text: str, style: str = "text") -> None:
        self.sheet.write_string(
            self.row, 0, defuse_formulas(pd.DataFrame([[text]])).iat[0, 0], self.styles[style]
        )
        self.row += 1

    def table(self, table: Table) -> None:
        columns, rows = table.shown("sheet")
        if table.caption:
            self.line(table.caption, "caption")
        headers = defuse_formulas(pd.DataFrame(columns=[c.header for c in columns])).columns
        for position, header in enumerate(headers):
            self.sheet.write_string(self.row, position, str(header), self.styles["header"])
            self._fit(position, str(header))
        self.row += 1
        for cells, texts in zip(rows, _defused_text(rows), strict=True):
            for position, (cell, text) in enumerate(zip(cells, texts, strict=True)):
                self._cell(position, cell, text)
            self.row += 1
        for note in table.notes:
            self.line(note, "note")
        self.row += 1

    def _cell(self, column: int, cell: Cell, text: str) -> None:
        if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
            style = self.styles.get(cell.number_format) or self.styles["text"]
            self.sheet.write_number(self.row, column, float(cell.value), style)
            self._fit(column, cell.text)
        elif text and cell.style != "num":  # a missing figure: an empty cell, not a dash
            self.sheet.write_string(self.row, column, text, self.styles["text"])
            self._fit(column, text)

    def finish(self) -> None:
        for column, width in self.widths.items():
            self.sheet.set_column(column, column, width)


def _styles(book: xlsxwriter.Workbook, content: ReportContent) -> dict:
    formats = {
        c.number_format
        for s in content.sections
        for t in s.tables
        for r in t.rows
        for c in r
        if c.number_format
    }
    styles = {fmt: book.add_format({"num_format": fmt, "valign": "top"}) for fmt in formats}
    styles["text"] = book.add_format({"text_wrap": False, "valign": "top"})
    styles["header"] = book.add_format({"bold": True, "bg_color": "#E8F1EA", "border": 1})
    styles["caption"] = book.add_format({"bold": True})
    styles["title"] = book.add_format({"bold": True, "font_size": 14})
    styles["note"] = book.add_format({"italic": True, "font_color": "#555555"})
    return styles


def render_xlsx(content: ReportContent) -> bytes:
    """The workbook of `content` as bytes (xlsxwriter, in memory)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    styles = _styles(book, content)
    by_sheet: dict[str, list[Section]] = defaultdict(list)
    for section in content.sections:
        if section.sheet:
            by_sheet[section.sheet].append(section)
    for key in SHEETS:
        if not by_sheet.get(key):
            continue
        sheet = _Sheet(book, label(f"report.sheet_{key}", content.lang), styles)
        if key == "indicators":
            sheet.line(content.title, "title")
            for line in (content.subtitle, *content.headline):
                sheet.line(line)
            sheet.row += 1
        for section in by_sheet[key]:
            sheet.line(section.heading, "caption")
            for line in section.paragraphs:
                sheet.line(line)
            for table in section.tables:
                sheet.table(table)
        sheet.finish()
    book.set_properties({"title": content.title, "author": "gisrenew"})
    book.close()
    return buffer.getvalue()


def xlsx_bytes(checkup: Checkup, lang: str = "zh") -> bytes:
    """The workbook of `checkup` in `lang` (``zh`` or ``en``)."""
    return render_xlsx(report_content(checkup, lang))
