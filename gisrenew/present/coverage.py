"""Text reports of the park service-radius coverage (公园绿地服务半径覆盖率).

Each function takes what the coverage engines return (a
:class:`~gisrenew.results.CoverageResult`, or the table of
:func:`gisrenew.coverage.park_contribution`) and a language, and returns the text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pandas as pd

from gisrenew.present import formats as fmt
from gisrenew.present.labels import check_lang, label, weight_name
from gisrenew.present.tables import join_lines, table_lines
from gisrenew.results import INDICATOR_NAMES, CoverageResult

__all__ = [
    "format_contribution_table",
    "format_coverage_comparison",
    "format_coverage_table",
    "indicator_name",
]

#: Redundant parks listed by id under the contribution table, at most.
MAX_REDUNDANT_LISTED = 20


class _AreaRow(NamedTuple):
    label: str
    residential_m2: float
    covered_m2: float
    ratio: float
    weight_total: float
    weight_covered: float


def _district_label(name, district_id) -> str:
    name, district_id = str(name), str(district_id)
    return name if name == district_id or not district_id else f"{name} ({district_id})"


def _area_rows(result: CoverageResult, lang: str) -> Iterator[_AreaRow]:
    """The city first, then one row per district."""
    yield _AreaRow(
        label("coverage.city", lang), result.residential_area_m2, result.covered_area_m2,
        result.ratio, result.weight_total, result.weight_covered,
    )  # fmt: skip
    d = result.districts
    weighted = "weight_total" in d.columns
    for rec in d.itertuples(index=False):
        yield _AreaRow(
            _district_label(rec.name, rec.district_id), rec.residential_area_m2,
            rec.covered_area_m2, rec.coverage_ratio,
            rec.weight_total if weighted else math.nan,
            rec.weight_covered if weighted else math.nan,
        )  # fmt: skip


def indicator_name(lang: str) -> str:
    """The indicator's names in `lang`: both Chinese names, or the English one."""
    if check_lang(lang) == "zh":
        return f"{INDICATOR_NAMES['zh']} / {INDICATOR_NAMES['zh_new']}"
    return INDICATOR_NAMES["en"]


def _method_text(result: CoverageResult, lang: str) -> str:
    """How the result was measured: the straight-line radius, or the walk with its distance."""
    if result.method == "buffer":
        return label("coverage.method_buffer", lang)
    return f"{label('coverage.method_network', lang)}: {fmt.walk(result.walk(), lang)}"


def _heading(result: CoverageResult, lang: str) -> list[str]:
    t = lambda key: label(f"coverage.{key}", lang)  # noqa: E731
    lines = [indicator_name(lang)]
    lines.append(f"{t('rules')}: {fmt.rules(result.rules, lang)}  [{result.rules.title}]")
    lines.append(f"{t('method')}: {_method_text(result, lang)}")
    parks = result.parks
    qualifying = parks["qualifies"].to_numpy(dtype=bool)
    tiers = parks["tier"].to_numpy()
    per_tier = ", ".join(
        f"{tier.describe()}: {fmt.count(np.count_nonzero(tiers == i))}"
        for i, tier in enumerate(result.rules.tiers)
    )
    lines.append(
        f"{t('parks')}: {fmt.count(len(parks))} ({t('qualifying')} {fmt.count(qualifying.sum())}"
        f" — {per_tier}; {t('not_qualifying')} {fmt.count((~qualifying).sum())})"
    )
    return lines


def format_coverage_table(result: CoverageResult, lang: str = "zh") -> str:
    """A readable text report of a coverage result: city and districts, in m², 公顷 and 亩.

    Parameters
    ----------
    result : CoverageResult
        From :func:`gisrenew.coverage.compute_coverage` or the network engine.
    lang : {"zh", "en"}
        Labels in Chinese or English (both indicator names are always printed).
    """
    check_lang(lang)
    t = lambda key: label(f"coverage.{key}", lang)  # noqa: E731
    lines = _heading(result, lang)
    weighted = result.weight_column is not None
    headers = [t("area")]
    for what in ("residential", "covered"):
        headers += [f"{t(what)} {fmt.unit('m2', lang)}", fmt.unit("ha", lang), fmt.unit("mu", lang)]
    headers.append(t("ratio"))
    if weighted:
        named = weight_name(result.weight_column, lang)
        headers += [t("weight_of").format(w=named), t("weighted_ratio").format(w=named)]
    rows = []
    for row in _area_rows(result, lang):
        cells = [row.label]
        for m2 in (row.residential_m2, row.covered_m2):
            cells += [fmt.area(m2, u, lang=lang, with_unit=False) for u in ("m2", "ha", "mu")]
        cells.append(fmt.percent(row.ratio))
        if weighted:
            share = row.weight_covered / row.weight_total if row.weight_total > 0 else math.nan
            cells += [fmt.households(row.weight_total), fmt.percent(share)]
        rows.append(cells)
    lines += ["", *table_lines(headers, rows, align="l" + "r" * (len(headers) - 1)), ""]
    lines.append(_blind_spot_line(result, lang))
    return join_lines(lines)


def _blind_spot_line(result: CoverageResult, lang: str) -> str:
    """Blind spots: how many and how much, with the slivers left out of the list."""
    t = lambda key: label(f"coverage.{key}", lang)  # noqa: E731
    listed = result.listed_blind_spots()
    area = float(listed["area_m2"].sum()) if len(listed) else 0.0
    line = f"{t('blind')}: {fmt.count(len(listed))} {t('pieces')}, {fmt.area_summary(area, lang)}"
    slivers, sliver_area = result.slivers()
    if slivers:
        threshold = result.parameters.get("sliver_m2")
        line += t("slivers").format(
            n=fmt.count(slivers),
            area=fmt.area(sliver_area, "m2", lang=lang),
            threshold=fmt.area(threshold, "m2", lang=lang),
        )
    return line


def _walk_names(networks: tuple[CoverageResult, ...], lang: str) -> list[str]:
    """Short column names of the walks: 步行, or 步行① 步行② ... for several."""
    short = label("coverage.short_network", lang)
    if len(networks) == 1:
        return [short]
    return [f"{short}{chr(0x2460 + i)}" for i in range(len(networks))]


def format_coverage_comparison(
    buffer: CoverageResult, *networks: CoverageResult, lang: str = "zh"
) -> str:
    """Side-by-side text report of the straight-line result and one or more walks.

    One line for the city and one per district: residential land, covered land and ratio
    by straight-line radius and by each walk, and the difference (walk − straight line)
    in percentage points — negative where the straight line overstates access. Each walk
    is named with the distance it walked (沿路网步行 500/300 m（按服务半径）, 步行 10 分钟
    （800 m，4.8 km/h）): two walks side by side show both readings of the ten-minute walk.
    """
    check_lang(lang)
    if not networks:
        raise ValueError("format_coverage_comparison needs at least one walking result")
    t = lambda key: label(f"coverage.{key}", lang)  # noqa: E731
    names = _walk_names(networks, lang)
    straight = t("short_buffer")
    m2 = fmt.unit("m2", lang)
    lines = [
        f"{indicator_name(lang)} — {t('both')}",
        f"{t('rules')}: {fmt.rules(buffer.rules, lang)}",
        f"{straight}: {t('method_buffer')}",
        *(f"{name}: {fmt.walk(n.walk(), lang)}" for name, n in zip(names, networks, strict=True)),
    ]
    one = len(networks) == 1
    headers = [t("area"), f"{t('residential')} {m2}", f"{straight} {t('covered')} {m2}"]
    headers.append(f"{straight} {t('ratio')}")
    for name in names:
        headers += [f"{name} {t('covered')} {m2}"] if one else []
        headers += [f"{name} {t('ratio')}", f"{t('difference_short')}({name}−{straight})"]
    walked = [{row.label: row for row in _area_rows(n, lang)} for n in networks]
    rows = [
        _comparison_cells(row, [w.get(row.label) for w in walked], lang, with_area=one)
        for row in _area_rows(buffer, lang)
    ]
    lines += ["", *table_lines(headers, rows, align="l" + "r" * (len(headers) - 1))]
    return join_lines(lines)


def _comparison_cells(
    row: _AreaRow, others: list[_AreaRow | None], lang: str, *, with_area: bool
) -> list[str]:
    cells = [
        row.label,
        fmt.area(row.residential_m2, "m2", with_unit=False),
        fmt.area(row.covered_m2, "m2", with_unit=False),
        fmt.percent(row.ratio),
    ]
    for other in others:
        covered = other.covered_m2 if other else math.nan
        ratio = other.ratio if other else math.nan
        if with_area:
            cells.append(fmt.area(covered, "m2", with_unit=False))
        cells += [fmt.percent(ratio), fmt.points(ratio - row.ratio, lang)]
    return cells


def format_contribution_table(table: pd.DataFrame, lang: str = "zh", *, top: int = 10) -> str:
    """Text report of :func:`gisrenew.coverage.park_contribution`: the parks most missed if closed.

    Lists the `top` parks by unique covered land (m², 公顷, 亩, share of their service
    land) and the qualifying parks that add nothing of their own (redundant).
    """
    check_lang(lang)
    t = lambda key: label(f"coverage.{key}", lang)  # noqa: E731
    m2 = fmt.unit("m2", lang)
    headers = [
        t("col_park"), t("col_name"), f"{t('col_radius')} {fmt.unit('m', lang)}",
        f"{t('col_covered')} {m2}", f"{t('col_unique')} {m2}",
        fmt.unit("ha", lang), fmt.unit("mu", lang), t("col_unique_share"),
    ]  # fmt: skip
    ranked = table[table["qualifies"].to_numpy(dtype=bool)].sort_values(
        "unique_covered_m2", ascending=False
    )
    rows = [
        [
            str(r.park_id),
            str(r.name),
            fmt.radius(r.radius_m, with_unit=False),
            fmt.area(r.covered_m2, "m2", with_unit=False),
            fmt.area(r.unique_covered_m2, "m2", with_unit=False),
            fmt.area(r.unique_covered_m2, "ha", with_unit=False),
            fmt.area(r.unique_covered_m2, "mu", with_unit=False),
            fmt.percent(r.unique_share),
        ]
        for r in ranked.head(top).itertuples(index=False)
    ]
    redundant = table.loc[table["redundant"].to_numpy(dtype=bool), "park_id"].astype(str).tolist()
    body = table_lines(headers, rows, align="llrrrrrr") if rows else [fmt.MISSING]
    listed = ", ".join(redundant[:MAX_REDUNDANT_LISTED])
    if len(redundant) > MAX_REDUNDANT_LISTED:
        listed += " ..."
    summary = f"{t('redundant')}: {fmt.count(len(redundant))}" + (
        f" — {listed}" if redundant else ""
    )
    return join_lines([t("contribution_title"), "", *body, "", summary])
