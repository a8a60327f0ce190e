"""Text of the before/after report of a batch recompute (新增口袋公园后的重新计算).

:func:`format_recompute_report` takes the JSON-ready dict that
:func:`gisrenew.recompute.recompute` (its ``report``) returns and a language.
"""

from __future__ import annotations

from typing import Any

from gisrenew.present import formats as fmt
from gisrenew.present.labels import check_lang, label
from gisrenew.present.tables import join_lines

__all__ = ["format_recompute_report"]

#: Closed blind spots listed one per line, at most.
MAX_BLIND_SPOTS_LISTED = 10


def _t(key: str, lang: str) -> str:
    return label(f"recompute.{key}", lang)


def _indicator_lines(report: dict, lang: str) -> list[str]:
    lines: list[str] = []
    for key, name in (("buffer", "indicator"), ("network", "network")):
        ind = report.get("indicators", {}).get(key)
        if not ind:
            continue
        b, a, c = ind["before"], ind["after"], ind["change"]
        lines += [
            "",
            f"{_t(name, lang)}: {fmt.percent(b['coverage_ratio'])} → "
            f"{fmt.percent(a['coverage_ratio'])} "
            f"({_t('change', lang)} {fmt.points(c['coverage_ratio'], lang)})",
            f"  {_t('covered', lang)}: {fmt.area_summary(b['covered_area_m2'], lang)} → "
            f"{fmt.area_summary(a['covered_area_m2'], lang)}",
            f"  {_t('total', lang)}: {fmt.area_summary(a['residential_area_m2'], lang)}",
        ]
        if "weight_covered" in a:
            lines.append(
                f"  {_t('households', lang)}: {fmt.households(b['weight_covered'])} → "
                f"{fmt.households(a['weight_covered'])} / {fmt.households(a['weight_total'])}"
            )
    return lines


def _district_lines(report: dict, lang: str) -> list[str]:
    districts = report.get("districts") or []
    if not districts:
        return []
    lines = ["", f"{_t('districts', lang)}:"]
    for d in districts:
        name = d.get("name") or d.get("district_id")
        lines.append(
            f"  {name}: {fmt.percent(d.get('coverage_ratio_before'))} → "
            f"{fmt.percent(d.get('coverage_ratio_after'))}"
            f"  (+{fmt.area(d.get('gain_m2') or 0, 'm2', lang=lang)})"
        )
    return lines


def _park_lines(report: dict, lang: str) -> list[str]:
    lines: list[str] = []
    if report.get("added"):
        lines += ["", f"{_t('added', lang)}:"]
        for p in report["added"]:
            weight = p.get("unique_gain_weight")
            extra = "" if weight is None else f", {fmt.households(weight, lang, with_unit=True)}"
            lines.append(
                f"  {p['park_id']} {p.get('name') or ''}: "
                f"{fmt.area(p.get('park_area_m2', 0), 'm2', lang=lang)}, "
                f"{fmt.radius(p.get('radius_m'), lang)}, "
                f"+{fmt.area(p['unique_gain_m2'], 'm2', lang=lang)}{extra}"
            )
    if report.get("removed"):
        lines += ["", f"{_t('removed', lang)}:"]
        for p in report["removed"]:
            lines.append(
                f"  {p['park_id']} {p.get('name') or ''}: −{fmt.area(p['lost_m2'], 'm2', lang=lang)}"
            )
    if report.get("adds_nothing"):
        lines += ["", f"{_t('nothing_added', lang)}:"]
        for p in report["adds_nothing"]:
            lines.append(
                f"  {p['park_id']} {p.get('name') or ''} "
                f"({fmt.area(p.get('park_area_m2') or 0, 'm2', lang=lang)}): {_why(p, lang)}"
            )
    return lines


def _why(park: dict, lang: str) -> str:
    """Why a new park adds nothing, in `lang` (the report's own reason is English)."""
    if park.get("code") == "not_counted":
        reason = park.get("rule_reason") or _t("no_tier", lang)
        return _t("not_counted", lang).format(reason=reason if lang == "zh" else park["reason"])
    return _t("already_covered", lang).format(reason=park["reason"])


def _blind_spot_lines(report: dict, lang: str) -> list[str]:
    blind = report.get("blind_spots_closed")
    if not blind:
        return []
    lines = [
        "",
        f"{_t('blind', lang)}: {fmt.count(blind['closed_count'])} {_t('closed', lang)} "
        f"({_t('fully', lang)} {fmt.count(blind['fully_closed_count'])}), "
        f"{fmt.area_summary(blind['closed_area_m2'], lang)}, "
        f"{fmt.households(blind['closed_households'], lang, with_unit=True)}",
    ]
    for row in blind["rows"][:MAX_BLIND_SPOTS_LISTED]:
        lines.append(
            f"  {row['residential_id']} ({row.get('district_id') or ''}): "
            f"{fmt.area(row['closed_m2'], 'm2', lang=lang)}, "
            f"{fmt.households(row['closed_households'], lang, with_unit=True)}"
            + (f" — {_t('fully', lang)}" if row["fully_closed"] else "")
        )
    return lines


def _closing_lines(report: dict, lang: str) -> list[str]:
    lines: list[str] = []
    if report.get("skipped"):
        lines += ["", f"{_t('skipped', lang)}:"]
        lines += [f"  {s['park_id']} ({s['source']}): {s['reason']}" for s in report["skipped"]]
    check = report.get("incremental_check")
    if check:
        verdict = _t("agrees", lang) if check["agrees"] else _t("differs", lang)
        pieces = _t("pieces", lang).format(n=fmt.count(check["affected_pieces"]))
        lines += [
            "",
            f"{_t('check', lang)}: {pieces}, {fmt.milliseconds(check['seconds_update'])} — {verdict}",
        ]
    if report.get("published"):
        files = report["published"]
        more = f" (+{len(files) - 1})" if len(files) > 1 else ""
        lines.append(f"{_t('published', lang)}: {files[0]}{more}")
    lines += [f"! {warning}" for warning in report.get("warnings", [])]
    return lines


def format_recompute_report(report: dict[str, Any], lang: str = "zh") -> str:
    """The before/after report of :func:`gisrenew.recompute.recompute` (its ``report``) as text for a terminal.

    Ratios before → after with the change in percentage points, areas in m², 公顷 and
    亩, households as whole numbers, per district, each new park's own gain, the parks
    that add nothing (with the reason), the blind spots closed, and the incremental check.

    Parameters
    ----------
    report : dict
        As returned by :func:`gisrenew.recompute.recompute` (its ``report``).
    lang : {"zh", "en"}
        Labels in Chinese or English (figures are the same).
    """
    check_lang(lang)
    rules = report.get("rules", {})
    lines = [
        f"{_t('title', lang)} — {report.get('project', '')}",
        f"{_t('rules', lang)}: {rules.get('name')} v{rules.get('version')}",
    ]
    if not report.get("changed"):
        lines.append(f"{_t('nothing', lang)}: {report.get('message', '')}")
        return join_lines(lines)
    lines.append(report.get("message", ""))
    for step in (_indicator_lines, _district_lines, _park_lines, _blind_spot_lines, _closing_lines):
        lines += step(report, lang)
    return join_lines(lines)
