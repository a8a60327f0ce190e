"""Text reports of the community life circles 社区生活圈 (GB 50180-2018).

Each function takes what :func:`gisrenew.lifecircles.life_circles` returns (a
``LifeCircleResult``: its ``rules``, ``method`` and city/district tables) and a language,
and returns the text. Every figure says how it was measured: the straight line from the
facility's boundary or the walk along streets, with the distances walked. Values the rule
set marks unconfirmed (``unconfirmed`` in the rule-set file) carry a ``*`` and a footnote.

This module never imports the engine (the layer contracts): results are used through
their attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from gisrenew.present import formats as fmt
from gisrenew.present.labels import (
    LIFECIRCLE_CIRCLE_HEADERS_ZH,
    check_lang,
    column_headers,
    label,
    weight_name,
)
from gisrenew.present.tables import join_lines, table_lines

__all__ = [
    "complete_share_lines",
    "format_life_circle_comparison",
    "format_life_circle_table",
    "life_circle_headers",
    "type_name",
    "worded_missing",
]

#: Mark of a value the rule set could not confirm from the standard's text.
UNCONFIRMED_MARK = "*"
#: Marks of GB 50180-2018 附录B: ▲ 应配建 (required), △ 宜配建 (as needed).
REQUIRED_MARKS = {True: "▲", False: "△"}


def _t(key: str, lang: str) -> str:
    return label(f"lifecircles.{key}", lang)


def type_name(rule: Any, lang: str) -> str:
    """A facility type in `lang`: its rule-set label (幼儿园 / Kindergarten), else its key."""
    return (rule.label_zh if lang == "zh" else rule.label_en) or rule.type


def _marked(text: str, field: str, unconfirmed: Iterable[str]) -> str:
    return text + UNCONFIRMED_MARK if field in tuple(unconfirmed) else text


def _distances(values: Iterable[float]) -> str:
    """``300/500/1000 m``: the distinct distances, smallest first."""
    return "/".join(fmt.radius(v, with_unit=False) for v in sorted(set(values))) + " m"


def method_text(result: Any, lang: str) -> str:
    """How the result was measured, naming the distances (straight line or the walk)."""
    distances = _distances(r.radius_m for r in result.rules.facilities)
    key = "straight" if result.method == "buffer" else "walk"
    return _t(key, lang).format(distances=distances)


def _rules_line(result: Any, lang: str) -> str:
    rules = result.rules
    title = f"  [{rules.title}]" if lang == "zh" and rules.title else ""
    return f"{_t('rules', lang)}: {rules.name} v{rules.version}{title}"


def _heading(result: Any, lang: str) -> list[str]:
    area = float(result.land["area_m2"].sum())
    denominator = _t("denominator", lang).format(area=fmt.area_summary(area, lang))
    weight = result.parameters.get("weight")
    if weight:
        total = result.types["weight_total"].iloc[0] if len(result.types) else float("nan")
        denominator += _t("denominator_weight", lang).format(
            w=weight_name(weight, lang), total=fmt.households(total)
        )
    return [
        _t("title", lang),
        _rules_line(result, lang),
        f"{_t('method', lang)}: {method_text(result, lang)}",
        denominator,
    ]


def _type_rows(result: Any, lang: str, weighted: bool) -> list[list[str]]:
    rows = []
    for rec in result.types.itertuples(index=False):
        rule = result.rules.facility(rec.facility_type)
        cells = [
            _marked(_t("circle_name", lang).format(m=rule.circle), "circle", rule.unconfirmed),
            type_name(rule, lang),
            _marked(REQUIRED_MARKS[bool(rule.required)], "required", rule.unconfirmed),
            _marked(fmt.radius(rule.radius_m, with_unit=False), "radius_m", rule.unconfirmed),
            fmt.count(rec.facilities),
            fmt.area(rec.reached_m2, "m2", with_unit=False),
            fmt.percent(rec.reached_share),
        ]
        if weighted:
            cells += [fmt.households(rec.reached_weight), fmt.percent(rec.reached_weight_share)]
        rows.append(cells)
    return rows


def _type_table(result: Any, lang: str) -> list[str]:
    weight = result.parameters.get("weight")
    w = weight_name(weight, lang) if weight else ""
    headers = [
        _t("col_circle", lang), _t("col_type", lang), _t("col_required", lang),
        _t("col_radius" if result.method == "buffer" else "col_walk", lang),
        _t("col_facilities", lang), _t("col_reached", lang), _t("col_share", lang),
    ]  # fmt: skip
    if weight:
        headers += [_t("col_reached_weight", lang).format(w=w),
                    _t("col_weight_share", lang).format(w=w)]  # fmt: skip
    rows = _type_rows(result, lang, bool(weight))
    return table_lines(headers, rows, align="lllr" + "r" * (len(headers) - 4))


def _circle_table(result: Any, lang: str) -> list[str]:
    weight = result.parameters.get("weight")
    headers = [
        _t("col_complete", lang), _t("col_distance", lang), _t("col_required_types", lang),
        _t("col_complete_m2", lang), _t("col_complete_share", lang),
    ]  # fmt: skip
    if weight:
        w = weight_name(weight, lang)
        headers += [_t("col_complete_weight", lang).format(w=w),
                    _t("col_complete_weight_share", lang).format(w=w)]  # fmt: skip
    rows = []
    for rec in result.circles.itertuples(index=False):
        circle = result.rules.circle(int(rec.circle_min))
        cells = [
            _t("complete_name", lang).format(m=circle.minutes),
            _marked(fmt.radius(circle.distance_m, with_unit=False), "distance_m",
                    circle.unconfirmed),
            fmt.count(rec.required_types),
            fmt.area(rec.complete_m2, "m2", with_unit=False),
            fmt.percent(rec.complete_share),
        ]  # fmt: skip
        if weight:
            cells += [fmt.households(rec.complete_weight), fmt.percent(rec.complete_weight_share)]
        rows.append(cells)
    return table_lines(headers, rows, align="l" + "r" * (len(headers) - 1))


def _district_label(name: Any, district_id: Any, lang: str) -> str:
    name, district_id = str(name), str(district_id)
    if not district_id:
        return _t("outside", lang)
    return name if name == district_id else f"{name} ({district_id})"


def _district_table(result: Any, lang: str) -> list[str]:
    """One line per district: the complete share of each circle (land, and weight)."""
    table = result.district_circles
    if table is None or not len(table):
        return []
    weight = result.parameters.get("weight")
    minutes = [int(m) for m in result.circles["circle_min"]]
    headers = [_t("area", lang)]
    for m in minutes:
        headers.append(_t("circle_name", lang).format(m=m))
        if weight:
            by = _t("col_by_weight", lang).format(w=weight_name(weight, lang))
            headers.append(f"{_t('circle_name', lang).format(m=m)} {by}")
    rows = []
    for (district, name), group in table.groupby(["district_id", "name"], sort=False):
        by_minutes = group.set_index("circle_min")
        cells = [_district_label(name, district, lang)]
        for m in minutes:
            cells.append(fmt.percent(by_minutes.loc[m, "complete_share"]))
            if weight:
                cells.append(fmt.percent(by_minutes.loc[m, "complete_weight_share"]))
        rows.append(cells)
    return ["", _t("districts_title", lang), "",
            *table_lines(headers, rows, align="l" + "r" * (len(headers) - 1))]  # fmt: skip


def _has_unconfirmed(rules: Any) -> bool:
    entries = (*rules.facilities, *rules.circles)
    return any(set(e.unconfirmed) & {"circle", "required", "radius_m", "distance_m"}
               for e in entries)  # fmt: skip


def _footnotes(result: Any, lang: str) -> list[str]:
    lines = [_t("legend", lang)]
    if _has_unconfirmed(result.rules):
        lines.append(_t("unconfirmed", lang).format(rules=result.rules.name))
    return lines


def format_life_circle_table(result: Any, lang: str = "zh", *, districts: bool = True) -> str:
    """The life-circle report of one method: per type, per circle, per district.

    Parameters
    ----------
    result : LifeCircleResult
        From :func:`gisrenew.lifecircles.life_circles` (or ``Indicators.life_circles``).
    lang : {"zh", "en"}
        The language of every word (facility types by their rule-set labels).
    districts : bool
        Add the complete share of each circle per district 各片区.

    Returns
    -------
    str
        The rule set and method (naming its distances), the denominator, one line per
        facility type (circle, type, ▲/△, radius or walk, facilities, land and weight
        reached with their shares), one line per complete circle (完整的15分钟生活圈),
        the district table and the footnotes (``*`` unconfirmed values).
    """
    check_lang(lang)
    lines = _heading(result, lang)
    lines += ["", *_type_table(result, lang), ""]
    lines += [_t("complete_title", lang), "", *_circle_table(result, lang)]
    if districts:
        lines += _district_table(result, lang)
    lines += ["", *_footnotes(result, lang)]
    return join_lines(lines)


def _short(method: str, lang: str) -> str:
    return _t("short_buffer" if method == "buffer" else "short_network", lang)


def format_life_circle_comparison(buffer: Any, network: Any, lang: str = "zh") -> str:
    """The straight line and the walk side by side: share reached per type, complete circles.

    The difference (walk − straight line) is in percentage points: negative where the
    straight line overstates what residents reach on foot.
    """
    check_lang(lang)
    a, b = _short("buffer", lang), _short("network", lang)
    diff = f"{_t('difference', lang)}({b}−{a})"
    lines = [
        f"{_t('title', lang)} — {_t('both', lang)}",
        _rules_line(buffer, lang),
        f"{a}: {method_text(buffer, lang)}",
        f"{b}: {method_text(network, lang)}",
        "",
    ]
    headers = [_t("col_circle", lang), _t("col_type", lang), _t("col_required", lang),
               _t("col_facilities", lang), f"{a} {_t('col_share', lang)}",
               f"{b} {_t('col_share', lang)}", diff]  # fmt: skip
    walked = network.types.set_index("facility_type")
    rows = []
    for rec in buffer.types.itertuples(index=False):
        rule = buffer.rules.facility(rec.facility_type)
        other = walked.loc[rec.facility_type, "reached_share"]
        rows.append([
            _marked(_t("circle_name", lang).format(m=rule.circle), "circle", rule.unconfirmed),
            type_name(rule, lang),
            _marked(REQUIRED_MARKS[bool(rule.required)], "required", rule.unconfirmed),
            fmt.count(rec.facilities), fmt.percent(rec.reached_share), fmt.percent(other),
            fmt.points(other - rec.reached_share, lang),
        ])  # fmt: skip
    lines += table_lines(headers, rows, align="lllrrrr")
    lines += ["", *complete_share_lines({"buffer": buffer, "network": network}, lang)]
    lines += ["", *_footnotes(buffer, lang)]
    return join_lines(lines)


def complete_share_lines(results: Mapping[str, Any], lang: str = "zh") -> list[str]:
    """One line per circle: the complete-life-circle share by each method.

    ``完整的15分钟生活圈：直线 58.17%，步行 6.09%`` (of residential land; by weight in
    brackets when the run has one).
    """
    check_lang(lang)
    first = next(iter(results.values()))
    lines = []
    for minutes in (int(m) for m in first.circles["circle_min"]):
        parts = []
        for method, result in results.items():
            part = f"{_short(method, lang)} {fmt.percent(result.complete_share(minutes))}"
            weight = result.parameters.get("weight")
            if weight:
                share = fmt.percent(result.complete_share(minutes, weighted=True))
                part += _t("by_weight", lang).format(w=weight_name(weight, lang), share=share)
            parts.append(part)
        lines.append(
            _t("complete_line", lang).format(
                name=_t("complete_name", lang).format(m=minutes),
                shares=_t("list_separator", lang).join(parts),
            )
        )
    return lines


def worded_missing(values: pd.Series, rules: Any, lang: str) -> pd.Series:
    """``missing_{m}min`` (comma-separated type keys) as type names in `lang` (幼儿园、小学)."""
    names = {rule.type: type_name(rule, lang) for rule in rules.facilities}
    sep = _t("list_separator", lang)

    def word(text: Any) -> str:
        keys = [k for k in str(text or "").split(",") if k]
        return sep.join(names.get(k, k) for k in keys)

    return values.map(word)


def unconfirmed_fields(fields: str, lang: str) -> str:
    """The ``unconfirmed`` column of a table (``circle, radius_m``) in words."""
    words = []
    for field in (f.strip() for f in str(fields or "").split(",")):
        if field:
            key = f"lifecircles.field_{field}"
            try:
                words.append(label(key, lang))
            except KeyError:
                words.append(field)
    return _t("list_separator", lang).join(words)


def life_circle_headers(lang: str, minutes: Iterable[int]) -> dict[str, str]:
    """Column name → header of the life-circle tables in `lang` (``{}`` in English).

    The general headers (:func:`~gisrenew.present.labels.column_headers`), the
    life-circle ones and the per-circle columns of each of `minutes`
    (``complete_15min`` → 完整的15分钟生活圈).
    """
    headers = column_headers(lang, "lifecircles")
    if lang == "en":
        return headers
    for m in minutes:
        for column, header in LIFECIRCLE_CIRCLE_HEADERS_ZH.items():
            headers[column.format(m=m)] = header.format(m=m)
    return headers
