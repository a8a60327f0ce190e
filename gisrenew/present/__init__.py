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

from gisrenew.present.charts import CHART_FONTS, chart_style
from gisrenew.present.coverage import (
    format_contribution_table,
    format_coverage_comparison,
    format_coverage_table,
)
from gisrenew.present.labels import column_headers, label, sheet_names
from gisrenew.present.lifecircles import (
    format_life_circle_comparison,
    format_life_circle_table,
)
from gisrenew.present.plans import format_coverage_effects, format_plan_table
from gisrenew.present.recompute import format_recompute_report
from gisrenew.present.siting import format_ranking
from gisrenew.present.tables import display_width, render_table, sanitize

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
