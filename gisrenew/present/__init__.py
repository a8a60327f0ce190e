"""Presenters: the text gisrenew shows a planner — tables, reports, figures and wording.

Presenters only present. They format what they are handed (result objects, DataFrames,
report dicts) and never read files, open projects or compute indicators.

* :mod:`~gisrenew.present.formats` — one way to write each figure (m² 0 dp, 公顷 2 dp,
  亩 1 dp, percentages 2 dp, households as whole numbers, one dash for missing values);
* :mod:`~gisrenew.present.tables` — one text-table renderer (display width measured
  with :mod:`wcwidth`, numbers right-aligned, control characters from the data made
  visible so a name can never drive the terminal);
* :mod:`~gisrenew.present.labels` — the Chinese/English vocabulary of reports, maps,
  CSV/Excel headers and statuses;
* :mod:`~gisrenew.present.charts` — chart fonts that show Chinese on every system;
* the text reports, one module per subject: :mod:`~gisrenew.present.coverage`,
  :mod:`~gisrenew.present.plans`, :mod:`~gisrenew.present.siting`,
  :mod:`~gisrenew.present.recompute`, :mod:`~gisrenew.present.lifecircles` (社区生活圈).
"""

from __future__ import annotations

import importlib

#: Each public name → the module that defines it. They are imported on first use, so
#: that ``present.tables`` (which the command line needs for every message) does not
#: load pandas and the result types for ``gisrenew --help``.
_LAZY = {
    "CHART_FONTS": "charts",
    "chart_style": "charts",
    "format_contribution_table": "coverage",
    "format_coverage_comparison": "coverage",
    "format_coverage_table": "coverage",
    "column_headers": "labels",
    "label": "labels",
    "sheet_names": "labels",
    "format_life_circle_comparison": "lifecircles",
    "format_life_circle_table": "lifecircles",
    "format_coverage_effects": "plans",
    "format_plan_table": "plans",
    "format_recompute_report": "recompute",
    "format_ranking": "siting",
    "display_width": "tables",
    "render_table": "tables",
    "sanitize": "tables",
}

__all__ = [
    "CHART_FONTS",
    "chart_style",
    "column_headers",
    "display_width",
    "format_contribution_table",
    "format_coverage_comparison",
    "format_coverage_effects",
    "format_coverage_table",
    "format_life_circle_comparison",
    "format_life_circle_table",
    "format_plan_table",
    "format_ranking",
    "format_recompute_report",
    "label",
    "render_table",
    "sanitize",
    "sheet_names",
]


def __getattr__(name: str):
    """The names of :data:`__all__`, imported from their module on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'gisrenew.present' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
