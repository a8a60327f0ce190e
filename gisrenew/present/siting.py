"""Text report of the pocket-park site ranking (口袋公园选址)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gisrenew.present import formats as fmt
from gisrenew.present.labels import check_lang, label, reason_text
from gisrenew.present.tables import join_lines, table_lines

if TYPE_CHECKING:  # a type only: the presenter never runs the siting engine
    from gisrenew.siting import SiteRanking

__all__ = ["format_ranking"]


def _ranking_rows(ranking: SiteRanking, lang: str, weighted: bool) -> list[list[str]]:
    rows = []
    for row in ranking.table().to_dict(orient="records"):
        cells = [
            fmt.count(row["rank"]),
            str(row["candidate_id"]),
            fmt.area(row["park_area_m2"], "m2", with_unit=False),
            fmt.radius(row["radius_m"], lang),
            fmt.area(row["gain_m2"], "m2", with_unit=False),
            fmt.area(row["gain_m2"], "mu", with_unit=False),
        ]
        if weighted:
            cells.append(fmt.number(row.get("gain_weight")))
        cells.append(fmt.percent(row["coverage_ratio_after"]))
        rows.append(cells)
    return rows


def _candidate(candidate_id, name, lang: str) -> str:
    """A candidate by id, with its name when it has one: ``C03 城厢空地``."""
    name = "" if name is None or str(name) in ("", "nan", "None") else str(name)
    return f"{candidate_id} {name}" if name else str(candidate_id)


def format_ranking(ranking: SiteRanking, lang: str = "zh", *, max_left_out: int = 20) -> str:
    """The ranking as a text table for a terminal.

    Parameters
    ----------
    ranking : SiteRanking
        From :func:`gisrenew.siting.rank_sites`.
    lang : {"zh", "en"}
        Labels in Chinese or English.
    max_left_out : int
        List at most this many candidates that were left out (with the reason).
    """
    check_lang(lang)
    t = lambda key: label(f"sites.{key}", lang)  # noqa: E731
    rules = f"{ranking.rules.name} v{ranking.rules.version}"
    if ranking.facility_type is None:
        lines = [t("title").format(method=t(ranking.method), rules=rules)]
    else:  # a life-circle facility type: named in the table's language
        entry = ranking.rules.facility(ranking.facility_type)
        named = entry.label_zh if lang == "zh" else entry.label_en or entry.type
        lines = [t("title_facility").format(facility=named, method=t(ranking.method), rules=rules)]
    n_picked = len(ranking.table())
    lines.append(
        t("coverage").format(
            before=fmt.percent(ranking.before["coverage_ratio"]),
            after=fmt.percent(ranking.after["coverage_ratio"]),
            n=n_picked,
            count=ranking.count,
        )
    )
    weight = ranking.weight_column
    headers = [t("col_rank"), t("col_candidate"), t("col_area"), t("col_radius"), t("col_gain"),
               t("col_gain_mu")]  # fmt: skip
    if weight:
        named = t(weight) if weight in ("households", "population") else weight
        headers.append(t("col_gain_weight").format(w=named))
    headers.append(t("col_ratio_after"))
    align = "rl" + "r" * (len(headers) - 2)
    lines += table_lines(
        headers, _ranking_rows(ranking, lang, bool(weight)), align=align, header_rule=False
    )
    sites = ranking.sites
    left_out = sites[(sites["rank"] == 0) & (sites["reason"] != "")]
    pairs = list(zip(left_out["candidate_id"], left_out["name"], left_out["reason"], strict=True))
    colon = "：" if lang == "zh" else ": "
    lines += [
        f"  {t('left')}{colon}{_candidate(cid, name, lang)}{colon}{reason_text(reason, lang)}"
        for cid, name, reason in pairs[:max_left_out]
    ]
    if len(pairs) > max_left_out:
        lines.append(f"  … (+{len(pairs) - max_left_out})")
    if not math.isnan(ranking.exact_objective):
        lines.append(f"{t('optimum')}: {fmt.number(ranking.exact_objective, 1)}")
    return join_lines(lines)
