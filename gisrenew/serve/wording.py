"""The session's answers worded for the page, in the page's language.

The page computes and formats nothing: every figure it shows comes worded from here, by
the one formatting rule of :mod:`gisrenew.present.formats` (m² 0 dp, 公顷 2 dp, 亩 1 dp,
% 2 dp, whole households) and the vocabulary of :mod:`gisrenew.present.labels`. The
answers keep their numbers; the wording is added under ``"text"`` keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gisrenew.present import formats
from gisrenew.present.labels import keys, label, reason_text

__all__ = ["page_labels", "worded_answer", "worded_state"]

_METHODS = ("buffer", "network")


def page_labels(lang: str) -> dict[str, str]:
    """Every ``serve.*`` label in `lang`, keyed without its group (``"apply"`` and so on)."""
    return {key.split(".", 1)[1]: label(key, lang) for key in keys("serve")}


def _figures(figures: Mapping[str, Any], lang: str) -> dict[str, str]:
    """One method's before/after figures worded."""
    gain = figures.get("gain_m2")
    return {
        "ratio_before": formats.percent(figures.get("ratio_before")),
        "ratio_after": formats.percent(figures.get("ratio_after")),
        "ratio_change": formats.points(
            _difference(figures.get("ratio_after"), figures.get("ratio_before")), lang
        ),
        "gain": formats.area_summary(gain, lang),
        "households_before": formats.households(figures.get("households_before"), lang),
        "households_after": formats.households(figures.get("households_after"), lang),
        "households_gain": formats.households(figures.get("households_gain"), lang, with_unit=True),
    }


def _difference(after: Any, before: Any) -> float | None:
    try:
        return float(after) - float(before)
    except (TypeError, ValueError):
        return None


def _park(park: Mapping[str, Any], lang: str) -> dict[str, str]:
    qualifies = bool(park.get("qualifies"))
    return {
        "status": label("serve.qualifies" if qualifies else "serve.not_qualifies", lang),
        "reason": reason_text(park.get("reason"), lang),
        "area": formats.area_summary(park.get("area_m2"), lang),
        "radius": formats.radius(park.get("radius_m"), lang) if qualifies else "",
        "gain": formats.area_summary(park.get("gain_m2"), lang),
    }


def worded_answer(answer: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """`answer` (the session's ``evaluate``) with its figures worded under ``"text"`` keys."""
    out = dict(answer)
    out["text"] = {
        method: _figures(answer[method], lang) for method in _METHODS if answer.get(method)
    }
    out["districts"] = [
        {
            **row,
            "text": {
                "ratio_before": formats.percent(row.get("ratio_before")),
                "ratio_after": formats.percent(row.get("ratio_after")),
            },
        }
        for row in answer.get("districts", [])
    ]
    out["parks"] = [{**park, "text": _park(park, lang)} for park in answer.get("parks", [])]
    closed = dict(answer.get("blind_spots_closed") or {})
    closed["text"] = {
        "count": formats.count(closed.get("count")),
        "area": formats.area_summary(closed.get("area_m2"), lang),
    }
    out["blind_spots_closed"] = closed
    if answer.get("blind_spots_opened"):
        opened = dict(answer["blind_spots_opened"])
        opened["text"] = {
            "count": formats.count(opened.get("count")),
            "area": formats.area_summary(opened.get("area_m2"), lang),
        }
        out["blind_spots_opened"] = opened
    out["removed"] = [
        {**row, "text": {"loss": formats.area_summary(row.get("loss_m2"), lang)}}
        for row in answer.get("removed", [])
    ]
    return out


def worded_state(state: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """`state` (the session's ``state``) with its ratios worded and the page's labels.

    ``text.ratio`` holds ``buffer`` (from ``ratio``) and ``network`` (from
    ``network_ratio``, when the project has streets) as percentages.
    """
    out = dict(state)
    ratios = {"buffer": state.get("ratio"), "network": state.get("network_ratio")}
    ratios = {method: value for method, value in ratios.items() if value is not None}
    out["text"] = {
        "ratio": {method: formats.percent(value) for method, value in ratios.items()},
        "methods": {method: label(f"serve.{method}", lang) for method in _METHODS},
    }
    out["labels"] = page_labels(lang)
    out["lang"] = lang
    return out
