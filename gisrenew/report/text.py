"""The report in a terminal (``gisrenew report`` without ``-o``): the same words, as text.

Draws the :class:`~gisrenew.report.content.ReportContent` the page, the Word document and
the workbook draw, as aligned text tables (:func:`gisrenew.present.tables.render_table`,
CJK-aware widths); the coverage picture is left out. Text from the data is made safe for
a terminal by the table renderer.
"""

from __future__ import annotations

from gisrenew.present.tables import render_table, sanitize
from gisrenew.report.content import ReportContent, Table

__all__ = ["render_text"]

#: Sections a terminal shows; the trace (checksums) stays in the files and in ``--json``.
TEXT_SECTIONS = ("sheet", "districts", "renewal", "parks", "since")


def _table_text(table: Table) -> str:
    columns, rows = table.shown("print")
    align = [
        "r" if any(row[i].style == "num" for row in rows) else "l" for i in range(len(columns))
    ]
    lines = [sanitize(table.caption)] if table.caption else []
    lines.append(
        render_table(
            [c.header for c in columns], [[cell.text for cell in row] for row in rows], align=align
        )
    )
    lines += [sanitize(note) for note in table.notes]
    return "\n".join(lines)


def render_text(content: ReportContent, *, sections: tuple[str, ...] = TEXT_SECTIONS) -> str:
    """The report's headline and tables as terminal text.

    Parameters
    ----------
    content : ReportContent
        From :func:`gisrenew.report.content.report_content`.
    sections : tuple of str
        Keys of the sections to show, as they come in the report (default: the sheet,
        districts, renewal, latest parks and the change since an earlier run).
    """
    parts = [sanitize(content.title), sanitize(content.subtitle)]
    parts += [sanitize(line) for line in content.headline]
    for section in content.sections:
        if section.key not in sections or not section.tables:
            continue
        parts.append("")
        parts.append(f"== {sanitize(section.heading)} ==")
        parts += [sanitize(p) for p in section.paragraphs]
        parts += [_table_text(table) for table in section.tables]
    return "\n".join(parts)
