"""Text tables of coverage results (moved verbatim from the former ``coverage.py``).

The presentation package replaces this module; :mod:`gisrenew.coverage` re-exports
its functions until then.
"""

from __future__ import annotations

import math
import unicodedata

import pandas as pd

from gisrenew.results import INDICATOR_NAMES, CoverageResult
from gisrenew.units import M2_PER_HA, M2_PER_MU

__all__ = ["format_contribution_table", "format_coverage_comparison", "format_coverage_table"]


# --------------------------------------------------------------------------- reporting

_LABELS = {
    "zh": {
        "rules": "规则",
        "method": "方法",
        "buffer": "直线服务半径（公园边界缓冲区，每四分之一圆 16 段）",
        "network": "步行网络距离",
        "parks": "公园",
        "qualifying": "符合",
        "not_qualifying": "不符合",
        "area": "区域",
        "city": "全市",
        "residential": "居住用地",
        "covered": "覆盖",
        "ratio": "覆盖率",
        "weight": "权重",
        "weighted_ratio": "覆盖率(按{w})",
        "blind": "服务盲区",
        "pieces": "块",
        "difference": "差值(网络−直线)",
        "both": "直线 vs 步行网络",
    },
    "en": {
        "rules": "rule set",
        "method": "method",
        "buffer": "straight-line service radius (buffer of the park boundary, 16 segments per quarter circle)",
        "network": "walking-network distance",
        "parks": "parks",
        "qualifying": "qualifying",
        "not_qualifying": "not qualifying",
        "area": "area",
        "city": "city",
        "residential": "residential",
        "covered": "covered",
        "ratio": "ratio",
        "weight": "weight",
        "weighted_ratio": "ratio by {w}",
        "blind": "blind spots",
        "pieces": "pieces",
        "difference": "difference (network − buffer)",
        "both": "buffer vs walking network",
    },
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _render(headers: list[str], rows: list[list[str]], align: str) -> str:
    widths = [max(_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        out = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - _width(str(cell)))
            out.append(f"{cell}{pad}" if align[i] == "l" else f"{pad}{cell}")
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _fmt_area(m2: float, unit: str) -> str:
    if m2 is None or (isinstance(m2, float) and math.isnan(m2)):
        return "-"
    value = {"m2": m2, "ha": m2 / M2_PER_HA, "mu": m2 / M2_PER_MU}[unit]
    return f"{value:,.0f}" if unit == "m2" else f"{value:,.2f}" if unit == "ha" else f"{value:,.1f}"


def _fmt_ratio(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{100 * value:.2f}%"


def _district_rows(
    result: CoverageResult, lang: str
) -> list[tuple[str, float, float, float, float, float]]:
    """(label, residential m², covered m², ratio, weight total, weight covered), city first."""
    t = _LABELS[lang]
    rows = [
        (t["city"], result.residential_area_m2, result.covered_area_m2, result.ratio,
         result.weight_total, result.weight_covered)
    ]  # fmt: skip
    d = result.districts
    weighted = "weight_total" in d.columns
    for rec in d.itertuples(index=False):
        label = (
            str(rec.name)
            if str(rec.name) == str(rec.district_id) or not rec.district_id
            else f"{rec.name} ({rec.district_id})"
        )
        rows.append(
            (label, rec.residential_area_m2, rec.covered_area_m2, rec.coverage_ratio,
             rec.weight_total if weighted else math.nan, rec.weight_covered if weighted else math.nan)
        )  # fmt: skip
    return rows


def format_coverage_table(result: CoverageResult, lang: str = "zh") -> str:
    """A readable text report of a coverage result: city and districts, in m², ha and 亩.

    Parameters
    ----------
    result : CoverageResult
        From :func:`compute_coverage` or the network engine.
    lang : {"zh", "en"}
        Labels in Chinese or English (both indicator names are always printed).
    """
    if lang not in _LABELS:
        raise ValueError(f"`lang` must be 'zh' or 'en', got {lang!r}")
    t = _LABELS[lang]
    lines = [f"{INDICATOR_NAMES['zh']} / {INDICATOR_NAMES['zh_new']}", f"({INDICATOR_NAMES['en']})"]
    lines.append(f"{t['rules']}: {result.rules.describe()}  [{result.rules.title}]")
    lines.append(f"{t['method']}: {t.get(result.method, result.method)}")
    parks = result.parks
    qualifying = parks["qualifies"].to_numpy(dtype=bool)
    per_tier = ", ".join(
        f"{tier.describe()}: {int((parks['tier'].to_numpy() == i).sum())}"
        for i, tier in enumerate(result.rules.tiers)
    )
    lines.append(
        f"{t['parks']}: {len(parks)} ({t['qualifying']} {int(qualifying.sum())} — {per_tier}; "
        f"{t['not_qualifying']} {int((~qualifying).sum())})"
    )
    weighted = result.weight_column is not None
    headers = [
        t["area"],
        f"{t['residential']} m²", "ha", "亩" if lang == "zh" else "mu",
        f"{t['covered']} m²", "ha", "亩" if lang == "zh" else "mu",
        t["ratio"],
    ]  # fmt: skip
    if weighted:
        headers += [
            f"{t['weight']}({result.weight_column})",
            t["weighted_ratio"].format(w=result.weight_column),
        ]
    rows = []
    for label, area, covered, ratio, wt, wc in _district_rows(result, lang):
        row = [label, _fmt_area(area, "m2"), _fmt_area(area, "ha"), _fmt_area(area, "mu"),
               _fmt_area(covered, "m2"), _fmt_area(covered, "ha"), _fmt_area(covered, "mu"), _fmt_ratio(ratio)]  # fmt: skip
        if weighted:
            row += [
                f"{wt:,.0f}" if not math.isnan(wt) else "-",
                _fmt_ratio(wc / wt if wt and wt > 0 else math.nan),
            ]
        rows.append(row)
    lines.append("")
    lines.append(_render(headers, rows, "l" + "r" * (len(headers) - 1)))
    blind = result.blind_spots
    lines.append("")
    lines.append(
        f"{t['blind']}: {len(blind)} {t['pieces']}, {_fmt_area(float(blind['area_m2'].sum()) if len(blind) else 0.0, 'm2')} m² "
        f"({_fmt_area(float(blind['area_m2'].sum()) if len(blind) else 0.0, 'ha')} ha)"
    )
    return "\n".join(lines)


def format_coverage_comparison(
    buffer: CoverageResult, network: CoverageResult, lang: str = "zh"
) -> str:
    """Side-by-side text report of the buffer and walking-network results, with differences.

    One line for the city and one per district: residential land, covered land and ratio
    by straight-line radius and by walking distance, and the difference (network −
    buffer) in percentage points — negative where the straight line overstates access.
    """
    if lang not in _LABELS:
        raise ValueError(f"`lang` must be 'zh' or 'en', got {lang!r}")
    t = _LABELS[lang]
    short = {"zh": ("直线", "步行网络"), "en": ("buffer", "network")}[lang]
    lines = [f"{INDICATOR_NAMES['zh']} / {INDICATOR_NAMES['zh_new']} — {t['both']}"]
    lines.append(f"{t['rules']}: {buffer.rules.describe()}")
    lines.append(f"{short[0]}: {t['buffer']}")
    lines.append(f"{short[1]}: {t['network']}")
    headers = [
        t["area"],
        f"{t['residential']} m²",
        f"{short[0]} {t['covered']} m²",
        f"{short[0]} {t['ratio']}",
        f"{short[1]} {t['covered']} m²",
        f"{short[1]} {t['ratio']}",
        t["difference"],
    ]
    net_rows = {row[0]: row for row in _district_rows(network, lang)}
    rows = []
    for label, area, covered, ratio, _, _ in _district_rows(buffer, lang):
        other = net_rows.get(label)
        net_covered = other[2] if other else math.nan
        net_ratio = other[3] if other else math.nan
        diff = net_ratio - ratio
        rows.append(
            [
                label,
                _fmt_area(area, "m2"),
                _fmt_area(covered, "m2"),
                _fmt_ratio(ratio),
                _fmt_area(net_covered, "m2"),
                _fmt_ratio(net_ratio),
                "-" if math.isnan(diff) else f"{100 * diff:+.2f} pp",
            ]
        )
    lines.append("")
    lines.append(_render(headers, rows, "lrrrrrr"))
    return "\n".join(lines)


def format_contribution_table(table: pd.DataFrame, lang: str = "zh", *, top: int = 10) -> str:
    """Text report of :func:`park_contribution`: the parks whose closing would lose most.

    Lists the `top` parks by unique covered land (m², ha, 亩, share of their service
    land) and the qualifying parks that add nothing of their own (redundant).
    """
    if lang not in _LABELS:
        raise ValueError(f"`lang` must be 'zh' or 'en', got {lang!r}")
    zh = lang == "zh"
    title = (
        "公园独有覆盖（该公园关闭将失去的覆盖面积）"
        if zh
        else "unique coverage (lost if the park closed)"
    )
    headers = (
        ["公园", "名称", "服务半径 m", "覆盖居住用地 m²", "独有 m²", "公顷", "亩", "独有比例"]
        if zh
        else ["park", "name", "radius m", "covered m²", "unique m²", "ha", "mu", "unique share"]
    )
    ranked = table[table["qualifies"].to_numpy(dtype=bool)].sort_values(
        "unique_covered_m2", ascending=False
    )
    rows = [
        [
            str(r.park_id),
            str(r.name),
            f"{r.radius_m:g}",
            _fmt_area(r.covered_m2, "m2"),
            _fmt_area(r.unique_covered_m2, "m2"),
            _fmt_area(r.unique_covered_m2, "ha"),
            _fmt_area(r.unique_covered_m2, "mu"),
            _fmt_ratio(r.unique_share),
        ]
        for r in ranked.head(top).itertuples(index=False)
    ]
    redundant = table.loc[table["redundant"].to_numpy(dtype=bool), "park_id"].astype(str).tolist()
    lines = [title, "", _render(headers, rows, "llrrrrrr") if rows else "-"]
    shown = ", ".join(redundant[:20]) + (" ..." if len(redundant) > 20 else "")
    lines.append("")
    lines.append(
        (f"无独有覆盖的公园（其服务范围内的居住用地均已被其他公园覆盖）: {len(redundant)}" if zh
         else f"parks adding no coverage of their own (redundant): {len(redundant)}")
        + (f" — {shown}" if redundant else "")
    )  # fmt: skip
    return "\n".join(lines)
