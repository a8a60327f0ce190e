"""Text reports of renewal plans (更新地块): the plan table and the plans' coverage effects.

Each function takes the tables :mod:`gisrenew.plans` returns (``plan_summary``,
``plan_totals``, ``plan_coverage_effects``) and a language, and returns the text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import pandas as pd

from gisrenew.present import formats as fmt
from gisrenew.present.labels import check_lang, label, status_label
from gisrenew.present.tables import join_lines, table_lines

__all__ = ["format_coverage_effects", "format_plan_table"]


def _text(value: Any, lang: str) -> str:
    return "" if value is None else str(value)


def _mu(value: Any, lang: str) -> str:  # from m²: one conversion rule for every table
    return fmt.area(value, "mu", with_unit=False)


def _m2(value: Any, lang: str) -> str:
    return fmt.area(value, "m2", with_unit=False)


def _whole(value: Any, lang: str) -> str:
    return fmt.households(value)


def _count(value: Any, lang: str) -> str:
    return fmt.count(value)


def _rate(value: Any, lang: str) -> str:
    return fmt.percent(value)


def _status(value: Any, lang: str) -> str:
    return status_label(str(value), lang)


def _radius(value: Any, lang: str) -> str:
    return fmt.radius(value, with_unit=False, missing=label("plans.not_counted", lang))


# column of the summary, label key, formatter (value, lang) → text
_Column = tuple[str, str, Callable[[Any, str], str]]

_PLAN_COLUMNS: list[_Column] = [
    ("plan_id", "col_plan_id", _text),
    ("name", "col_name", _text),
    ("area_m2", "col_area_mu", _mu),
    ("parcel_count", "col_parcel_count", _count),
    ("affected_area_m2", "col_affected_area_mu", _mu),
    ("households_residential", "col_households_residential", _whole),
    ("households_nonresidential", "col_households_nonresidential", _whole),
    ("households_shops", "col_households_shops", _whole),
    ("households_total", "col_households_total", _whole),
    ("signed", "col_signed", _whole),
    ("unsigned", "col_unsigned", _whole),
    ("signing_rate", "col_signing_rate", _rate),
    ("signing_status", "col_status", _status),
    ("shared_parcels", "col_shared_parcels", _count),
]

_EFFECT_COLUMNS: list[_Column] = [
    ("plan_id", "col_plan_id", _text),
    ("name", "col_name", _text),
    ("park_class", "col_park_class", _text),
    ("park_area_m2", "col_park_area_m2", _m2),
    ("radius_m", "col_radius_m", _radius),
    ("new_covered_m2", "col_new_covered_m2", _m2),
    ("new_covered_m2", "col_new_covered_mu", _mu),
    ("new_households", "col_new_households", _whole),
    ("converted_residential_m2", "col_converted_residential_m2", _m2),
    ("reason", "col_reason", _text),
]


def _cells(records: list[dict], columns: list[_Column], lang: str) -> list[list[str]]:
    """Formatted cells; a value that is absent (None or "") stays an empty cell."""
    rows = []
    for record in records:
        row = []
        for key, _label, formatter in columns:
            value = record.get(key, "")
            row.append("" if value is None or value == "" else formatter(value, lang))
        rows.append(row)
    return rows


def _table(
    records: list[dict], columns: list[_Column], lang: str, rule_before: tuple[int, ...] = ()
) -> list[str]:
    headers = [label(f"plans.{key}", lang) for _c, key, _f in columns]
    align = ["l" if formatter in (_text, _status) else "r" for *_rest, formatter in columns]
    return table_lines(
        headers, _cells(records, columns, lang), align=align, rule_before=rule_before
    )


def format_plan_table(
    summary: pd.DataFrame,
    *,
    lang: Literal["zh", "en"] = "zh",
    totals: Mapping[str, Any] | None = None,
) -> str:
    """Render a plan summary as a fixed-width text table (Chinese headers by default).

    Areas in 亩 (1 decimal), households as whole numbers, the signing rate as a
    percentage and the signing status (签约进度) in words. With `totals` (from
    :func:`gisrenew.plans.plan_totals`) a last line gives the city totals, every parcel
    counted once.

    Parameters
    ----------
    summary : pandas.DataFrame
        The result of :func:`gisrenew.plans.plan_summary`.
    lang : {"zh", "en"}
        Header and status language.
    totals : mapping, optional
        The result of :func:`gisrenew.plans.plan_totals` for the same plans.
    """
    check_lang(lang)
    records = pd.DataFrame(summary).to_dict(orient="records")
    rule_before: tuple[int, ...] = ()
    if totals is not None:
        plans_text = label("plans.n_plans", lang).format(n=fmt.count(totals.get("plans", 0)))
        rule_before = (len(records),)
        records.append({**totals, "plan_id": label("plans.total", lang), "name": plans_text})
    lines = _table(records, _PLAN_COLUMNS, lang, rule_before)
    rule = summary.attrs.get("household_rule", "")
    if rule:
        lines.append(label(f"plans.rule_{rule}", lang))
    return join_lines(lines)


def format_coverage_effects(effects: pd.DataFrame, *, lang: Literal["zh", "en"] = "zh") -> str:
    """Render :func:`gisrenew.plans.plan_coverage_effects` as a fixed-width text table.

    Areas in m² and 亩, households newly covered as whole numbers, and 不计入 for a
    plan whose park would not count under the rule set.
    """
    check_lang(lang)
    records = pd.DataFrame(effects).to_dict(orient="records")
    return join_lines([label("plans.effects_title", lang), *_table(records, _EFFECT_COLUMNS, lang)])
