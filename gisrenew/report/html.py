"""The report as one printable page (A4 portrait, self-contained HTML).

The page is rendered by Jinja2 with autoescaping on, so every text from the data (a
park named ``<script>…``) shows as text. It needs no network: the coverage picture is
embedded as a ``data:`` URI, the styles are inline, the fonts are the reader's own
(Noto Sans CJK, Microsoft YaHei, PingFang SC …).

Printing keeps tables whole in width and readable across pages: ``@page { size: A4 }``
with fixed margins, fixed table layout with relative column widths, long words and
checksums wrapped (``overflow-wrap: anywhere``; a SHA-256 breaks anywhere and is shown
in full), header rows repeated on every page (``thead { display: table-header-group }``)
and rows never split between pages.
"""

from __future__ import annotations

import base64

import jinja2

from gisrenew import __version__
from gisrenew.checkup import Checkup
from gisrenew.present.labels import label
from gisrenew.report.content import ReportContent, report_content
from gisrenew.report.picture import coverage_png

__all__ = ["PAGE_MARGIN_MM", "html_page", "render_html"]

#: The page margin on every side (mm); the printable width of A4 is 210 − 2 × margin.
PAGE_MARGIN_MM = 15

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("gisrenew.report", "templates"),
    autoescape=True,  # every text from planners' files is escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=False,
    keep_trailing_newline=True,
)


def _widths(content: ReportContent) -> dict[str, list[float]]:
    """Each printed table's column widths in % of the page width."""
    out = {}
    for section in content.sections:
        for table in section.tables:
            columns = table.shown("print")[0]
            total = sum(c.width for c in columns) or 1.0
            out[table.key] = [round(100.0 * c.width / total, 2) for c in columns]
    return out


def render_html(content: ReportContent, picture_png: bytes | None = None) -> str:
    """The page of `content`; `picture_png` is embedded where the map section stands."""
    picture = (
        "data:image/png;base64," + base64.b64encode(picture_png).decode("ascii")
        if picture_png
        else None
    )
    return _ENVIRONMENT.get_template("report.html.j2").render(
        content=content,
        html_lang="zh-CN" if content.lang == "zh" else "en",
        version=__version__,
        margin_mm=PAGE_MARGIN_MM,
        widths=_widths(content),
        picture=picture,
        picture_alt=label("report.map_alt", content.lang),
    )


def html_page(checkup: Checkup, lang: str = "zh") -> str:
    """The printable page of `checkup` in `lang` (``zh`` or ``en``), as text."""
    content = report_content(checkup, lang)
    wants_picture = any(section.picture for section in content.sections)
    return render_html(content, coverage_png(checkup, lang) if wants_picture else None)
