"""Text of the before/after report of a batch recompute (新增口袋公园后的重新计算).

:func:`format_recompute_report` takes the JSON-ready dict that
:func:`gisrenew.recompute.recompute` (its ``report``) returns and a language. Every
word is in that language: the run summary is written from the report's figures (the
report's own ``message`` is English, for JSON), reasons go through
:func:`gisrenew.present.labels.reason_text`, and every figure carries its unit.
"""

from __future__ import annotations

import math
from typing import Any

from gisrenew.present import formats as fmt
from gisrenew.present.labels import check_lang, label, reason_text
from gisrenew.present.tables import join_lines

__all__ = ["format_history", "format_recompute_report", "run_summary"]

#: Closed blind spots listed one per line, at most.
MAX_BLIND_SPOTS_LISTED = 10


def _t(key: str, lang: str) -> str:
    return label(f"recompute.{key}", lang)


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _comma(lang: str) -> str:
    return "，" if lang == "zh" else ", "


def _named(identifier: Any, name: Any, lang: str) -> str:
    """``name（id）`` / ``name (id)``, or the id alone when there is no name."""
    identifier, name = str(identifier or ""), str(name or "")
    if not name or name == identifier:
        return identifier
    return f"{name}（{identifier}）" if lang == "zh" else f"{name} ({identifier})"


def run_summary(report: dict[str, Any], lang: str = "zh") -> str:
    """One line on what a run did: ``第 1 次运行：新增 5 处公园，关闭 0 处`` (or 无变化)."""
    check_lang(lang)
    if not report.get("changed"):
        return f"{_t('nothing', lang)}{_colon(lang)}{_t('unchanged', lang)}"
    line = _t("run", lang).format(
        run=report.get("run_id"),
        added=fmt.count(len(report.get("added") or [])),
        removed=fmt.count(len(report.get("removed") or [])),
    )
    skipped = report.get("skipped") or []
    if skipped:
        line += _t("run_skipped", lang).format(n=fmt.count(len(skipped)))
    return line


def _indicator_lines(report: dict, lang: str) -> list[str]:
    lines: list[str] = []
    for key, name in (("buffer", "indicator"), ("network", "network")):
        ind = report.get("indicators", {}).get(key)
        if not ind:
            continue
        b, a, c = ind["before"], ind["after"], ind["change"]
        title = _t(name, lang)
        if key == "network":
            title += f" · {fmt.walk(ind.get('walk'), lang)}"
        lines += [
            "",
            f"{title}{_colon(lang)}{fmt.percent(b['coverage_ratio'])} → "
            f"{fmt.percent(a['coverage_ratio'])} "
            f"({_t('change', lang)} {fmt.points(c['coverage_ratio'], lang)})",
            f"  {_t('covered', lang)}{_colon(lang)}{fmt.area_summary(b['covered_area_m2'], lang)}"
            f" → {fmt.area_summary(a['covered_area_m2'], lang)}",
            f"  {_t('total', lang)}{_colon(lang)}"
            f"{fmt.area_summary(a['residential_area_m2'], lang)}",
        ]
        if "weight_covered" in a:
            households = [
                fmt.households(v, lang, with_unit=True)
                for v in (b["weight_covered"], a["weight_covered"], a["weight_total"])
            ]
            lines.append(
                f"  {_t('households', lang)}{_colon(lang)}{households[0]} → {households[1]}"
                f" / {households[2]}"
            )
    return lines


def _district_lines(report: dict, lang: str) -> list[str]:
    districts = report.get("districts") or []
    if not districts:
        return []
    lines = ["", f"{_t('districts', lang)}{_colon(lang)}"]
    for d in districts:
        name = _named(d.get("district_id"), d.get("name"), lang)
        gain = _t("gain", lang).format(area=fmt.area_compact(d.get("gain_m2") or 0, lang))
        lines.append(
            f"  {name}{_colon(lang)}{fmt.percent(d.get('coverage_ratio_before'))} → "
            f"{fmt.percent(d.get('coverage_ratio_after'))}{_comma(lang)}{gain}"
        )
    return lines


def _added_line(park: dict, lang: str) -> str:
    parts = [_t("area", lang).format(area=fmt.area_compact(park.get("park_area_m2"), lang))]
    radius = park.get("radius_m")
    if park.get("qualifies") and radius is not None:
        parts.append(_t("radius", lang).format(radius=fmt.radius(radius, lang)))
    else:
        parts.append(_t("no_radius", lang))
    parts.append(_t("own_gain", lang).format(area=fmt.area_compact(park["unique_gain_m2"], lang)))
    weight = park.get("unique_gain_weight")
    if weight is not None:
        parts.append(fmt.households(weight, lang, with_unit=True))
    name = _named(park["park_id"], park.get("name"), lang)
    return f"  {name}{_colon(lang)}{_comma(lang).join(parts)}"


def _park_lines(report: dict, lang: str) -> list[str]:
    lines: list[str] = []
    if report.get("added"):
        lines += ["", f"{_t('added', lang)}{_colon(lang)}"]
        lines += [_added_line(p, lang) for p in report["added"]]
    if report.get("removed"):
        lines += ["", f"{_t('removed', lang)}{_colon(lang)}"]
        for p in report["removed"]:
            lost = _t("lost", lang).format(area=fmt.area_compact(p["lost_m2"], lang))
            lines.append(f"  {_named(p['park_id'], p.get('name'), lang)}{_colon(lang)}{lost}")
    if report.get("adds_nothing"):
        lines += ["", f"{_t('nothing_added', lang)}{_colon(lang)}"]
        for p in report["adds_nothing"]:
            area = _t("area", lang).format(area=fmt.area_compact(p.get("park_area_m2"), lang))
            name = _named(p["park_id"], p.get("name"), lang)
            lines.append(f"  {name}（{area}）{_colon(lang)}{_why(p, lang)}" if lang == "zh" else
                         f"  {name} ({area}){_colon(lang)}{_why(p, lang)}")  # fmt: skip
    return lines


def _why(park: dict, lang: str) -> str:
    """Why a new park adds nothing, in `lang` (the report's own reason is English)."""
    if park.get("code") == "not_counted":
        reason = reason_text(park.get("rule_reason"), lang) or _t("no_tier", lang)
        return _t("not_counted", lang).format(reason=reason)
    return _t("already_covered", lang).format(reason=reason_text(park["reason"], lang))


def _blind_spot_lines(report: dict, lang: str) -> list[str]:
    blind = report.get("blind_spots_closed")
    if not blind:
        return []
    lines = [
        "",
        f"{_t('blind', lang)}{_colon(lang)}{fmt.count(blind['closed_count'])} "
        f"{_t('closed', lang)} ({_t('fully', lang)} {fmt.count(blind['fully_closed_count'])})"
        f"{_comma(lang)}{fmt.area_summary(blind['closed_area_m2'], lang)}{_comma(lang)}"
        f"{fmt.households(blind['closed_households'], lang, with_unit=True)}",
    ]
    for row in blind["rows"][:MAX_BLIND_SPOTS_LISTED]:
        lines.append(
            f"  {_piece(row, lang)}{_colon(lang)}{fmt.area_compact(row['closed_m2'], lang)}"
            f"{_comma(lang)}{fmt.households(row['closed_households'], lang, with_unit=True)}"
            + (f" — {_t('fully', lang)}" if row["fully_closed"] else "")
        )
    return lines


def _piece(row: dict, lang: str) -> str:
    """A residential piece by name, with its id and district: ``娄江华庭（R02462，港区）``."""
    rid = str(row["residential_id"])
    name = str(row.get("name") or "")
    district = str(row.get("district_name") or row.get("district_id") or "")
    inside = _comma(lang).join(part for part in (rid if name else "", district) if part)
    if not inside:
        return rid
    shown = name or rid
    return f"{shown}（{inside}）" if lang == "zh" else f"{shown} ({inside})"


def _closing_lines(report: dict, lang: str) -> list[str]:
    lines: list[str] = []
    if report.get("skipped"):
        lines += ["", f"{_t('skipped', lang)}{_colon(lang)}"]
        lines += [
            f"  {s['park_id']} ({s['source']}){_colon(lang)}{reason_text(s['reason'], lang)}"
            for s in report["skipped"]
        ]
    check = report.get("incremental_check")
    if check:
        agrees = check.get("agrees")
        verdict = _t("unverified" if agrees is None else "agrees" if agrees else "differs", lang)
        pieces = _t("pieces", lang).format(n=fmt.count(check["affected_pieces"]))
        lines += [
            "",
            f"{_t('check', lang)}{_colon(lang)}{pieces}{_comma(lang)}"
            f"{fmt.milliseconds(check['seconds_update'])} — {verdict}",
        ]
    if report.get("published"):
        files = report["published"]
        text = _t("published_files", lang).format(index=files[0], n=fmt.count(len(files)))
        lines.append(f"{_t('published', lang)}{_colon(lang)}{text}")
    lines += [f"! {warning}" for warning in report.get("warnings", [])]
    return lines


def format_recompute_report(report: dict[str, Any], lang: str = "zh") -> str:
    """The before/after report of :func:`gisrenew.recompute.recompute` (its ``report``) as text.

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
        f"{_t('rules', lang)}{_colon(lang)}{rules.get('name')} v{rules.get('version')}",
        run_summary(report, lang),
    ]
    if not report.get("changed"):
        lines += _closing_lines({"skipped": report.get("skipped")}, lang)
        return join_lines(lines)
    for step in (_indicator_lines, _district_lines, _park_lines, _blind_spot_lines, _closing_lines):
        lines += step(report, lang)
    return join_lines(lines)


def _known(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    return str(value)


def _ratio(value) -> str:
    try:
        return fmt.percent(float(value))
    except (TypeError, ValueError):
        return fmt.percent(None)


def _ids(value) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return "—" if _known(value) == "?" else str(value)


def _history_run(row: dict, lang: str, zone: str | None, kept: bool) -> list[str]:
    def h(key: str) -> str:
        return label(f"history.{key}", lang)

    when = fmt.local_time(row.get("time_utc"), lang, zone=zone, missing="?")
    mark = f"  [{h('map')}]" if kept else ""
    lines = [
        f"#{_known(row.get('run_id'))}  {when}  "
        f"{_known(row.get('rules_name'))} v{_known(row.get('rules_version'))}  "
        f"{_ratio(row.get('ratio_before'))} → {_ratio(row.get('ratio_after'))}{mark}",
        f"    {h('added')}: {_ids(row.get('added_parks'))}; "
        f"{h('removed')}: {_ids(row.get('removed_parks'))}",
    ]
    inputs = row.get("inputs")
    for item in inputs if isinstance(inputs, list) else []:
        if isinstance(item, dict):
            digest = str(item.get("sha256", "?"))[:16]
            lines.append(
                f"    {h('input')} {item.get('source', '?')} "
                f"({item.get('features', '?')} {h('features')}) {h('checksum')} {digest}…"
            )
    return lines


def _run_number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def format_history(
    records: list[dict],
    lang: str = "zh",
    *,
    where: str = "",
    zone: str | None = None,
    kept_runs: frozenset[int] | set[int] = frozenset(),
) -> str:
    """Text of a project's run history (运行记录), one block per run, oldest first.

    Parameters
    ----------
    records : list of dict
        The runs as :func:`gisrenew.recompute.history_records` gives them (JSON columns
        parsed; unreadable values shown as ``?``).
    lang : {"zh", "en"}
    where : str
        What the history belongs to (the project folder), shown first.
    zone : str, optional
        Time zone of the times shown (``[project] time_zone``); see
        :func:`gisrenew.present.formats.local_time`.
    kept_runs : set of int
        Runs whose before/after map the project keeps (marked).
    """
    check_lang(lang)
    head = f"{where}: " if where else ""
    if not records:
        return join_lines([head + label("history.none", lang)])
    lines = [f"{head}{len(records)} {label('history.runs', lang)}"]
    for row in records:
        kept = _run_number(row.get("run_id")) in kept_runs
        lines += _history_run(row, lang, zone, kept)
    return join_lines(lines)
