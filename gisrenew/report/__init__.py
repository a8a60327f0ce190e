"""The report a planner hands in (城市体检报告): a printable page, a Word document, a workbook.

Presenters of a :class:`~gisrenew.checkup.Checkup` (built by
:func:`gisrenew.reporting.build_checkup`): they draw the figures, checks and trace it
holds and compute nothing.

* :mod:`~gisrenew.report.content` — the report worded once (sections, tables, cells
  with text and numbers) for every format;
* :mod:`~gisrenew.report.picture` — the coverage map as a PNG (matplotlib, Agg);
* :mod:`~gisrenew.report.html` — one self-contained A4 page (Jinja2, autoescaped);
* :mod:`~gisrenew.report.docx` — an editable Word document (python-docx);
* :mod:`~gisrenew.report.xlsx` — a workbook with numbers as numbers (xlsxwriter).

:func:`write_report` writes one file, the format chosen by its suffix;
:func:`report_files` writes all three. Both go through :mod:`gisrenew.outfiles`: the
output is checked before anything is drawn (never an input or a project file, never an
existing file unless ``overwrite=True``) and written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from gisrenew import outfiles
from gisrenew.checkup import Checkup
from gisrenew.errors import OutputError
from gisrenew.present.labels import check_lang
from gisrenew.report.content import ReportContent, report_content
from gisrenew.report.docx import docx_bytes, render_docx
from gisrenew.report.html import html_page, render_html
from gisrenew.report.picture import coverage_png
from gisrenew.report.xlsx import render_xlsx, xlsx_bytes

__all__ = [
    "REPORT_FORMATS",
    "ReportContent",
    "coverage_png",
    "docx_bytes",
    "html_page",
    "report_content",
    "report_files",
    "write_report",
    "xlsx_bytes",
]

#: Report formats by name, with the suffix of their files.
REPORT_FORMATS: dict[str, str] = {"html": ".html", "docx": ".docx", "xlsx": ".xlsx"}

_RENDERERS: dict[str, Callable[[ReportContent, bytes | None], bytes]] = {
    "html": lambda content, picture: render_html(content, picture).encode("utf-8"),
    "docx": render_docx,
    "xlsx": lambda content, picture: render_xlsx(content),
}


def _rendered(checkup: Checkup, lang: str, names: Iterable[str]) -> dict[str, bytes]:
    """The files' bytes of formats `names`: the content worded and the map drawn once."""
    names = list(names)
    content = report_content(checkup, lang)
    drawn = any(s.picture for s in content.sections) and ({"html", "docx"} & set(names))
    picture = coverage_png(checkup, lang) if drawn else None
    return {name: _RENDERERS[name](content, picture) for name in names}


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in REPORT_FORMATS:
            raise OutputError(
                f"{path}: unknown report format {fmt!r}. Fix: choose one of "
                f"{', '.join(REPORT_FORMATS)}."
            )
        return fmt
    by_suffix = {suffix: name for name, suffix in REPORT_FORMATS.items()}
    suffix = path.suffix.lower()
    if suffix not in by_suffix:
        raise OutputError(
            f"{path}: a report is written as {', '.join(REPORT_FORMATS.values())}. Fix: end "
            f"the file name in one of them, e.g. {path.with_suffix('.html').name}."
        )
    return by_suffix[suffix]


def write_report(
    checkup: Checkup,
    path: str | os.PathLike,
    *,
    lang: str = "zh",
    fmt: str | None = None,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    protected: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write the report of `checkup` to `path`; the format from its suffix or `fmt`.

    Parameters
    ----------
    checkup : Checkup
        The indicator sheet to present.
    path : path
        ``*.html`` (printable A4 page), ``*.docx`` (Word) or ``*.xlsx`` (Excel).
    lang : {"zh", "en"}
        Language of every label; names from the data are shown as written.
    fmt : {"html", "docx", "xlsx"}, optional
        The format, whatever the suffix.
    overwrite : bool
        Replace an existing file (default: refuse).
    inputs, protected : iterable of path
        Files the report must never replace (the project's layers and store), see
        :func:`gisrenew.outfiles.check_output`.

    Returns
    -------
    Path
        `path`.

    Raises
    ------
    OutputError
        For an unknown format, an existing file without `overwrite`, an input or project
        file as the output, or a path that cannot be written (checked before drawing).
    """
    target = Path(path)
    name = _format_of(target, fmt)
    check_lang(lang)
    outfiles.check_output(
        target, inputs=inputs, protected=protected, suffixes=(), overwrite=overwrite
    )
    return outfiles.write_bytes(target, _rendered(checkup, lang, [name])[name])


def report_files(
    checkup: Checkup,
    folder: str | os.PathLike,
    *,
    lang: str = "zh",
    stem: str = "report",
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    protected: Iterable[str | os.PathLike] = (),
) -> list[Path]:
    """Write the page, the Word document and the workbook into `folder` as ``stem.*``.

    Every target is checked before any is written, so a refused file leaves the others
    unwritten too. Parameters as :func:`write_report`.
    """
    check_lang(lang)
    inputs, protected = list(inputs), list(protected)
    targets = {name: Path(folder) / f"{stem}{suffix}" for name, suffix in REPORT_FORMATS.items()}
    for target in targets.values():
        outfiles.check_output(
            target, inputs=inputs, protected=protected, suffixes=(), overwrite=overwrite
        )
    data = _rendered(checkup, lang, targets)
    return [outfiles.write_bytes(target, data[name]) for name, target in targets.items()]
