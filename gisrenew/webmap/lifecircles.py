"""The life-circle map 社区生活圈地图: facilities, gaps per type, completeness, figures.

:func:`life_circle_map` draws the community life circles the orchestrator computed
(``Indicators.life_circles``: a :class:`~gisrenew.lifecircles.LifeCircleResult` by
method) — nothing is computed here, every figure comes from the results' tables:

* residential land coloured by the largest complete life circle it is in (完整 5/10/15
  分钟生活圈), one layer per method (the straight line shown, the walk in the layer
  control); a click names the required types each circle lacks;
* per facility type the residential land it does not reach (服务缺口), one layer per
  type, toggled in the layer control, the three required types reaching least shown;
* the facilities, coloured by type, their popup naming them and their type;
* a title box with the complete-life-circle shares of both methods (the walk naming its
  distances) and a footnote ※ on the rule values not confirmed from the standard.

The figures shown are also in the page as JSON (``<script id="gisrenew-figures">``),
for scripts and tests. :mod:`gisrenew.webmap` may not import the engines: a result is
read through its documented attributes (``rules``, ``method``, ``land``, ``reach``,
``types``, ``circles``, ``gaps``, ``facilities``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element

from gisrenew.present import formats as fmt
from gisrenew.present import labels as words
from gisrenew.webmap.basemaps import Basemap
from gisrenew.webmap.escape import script_json
from gisrenew.webmap.labels import label
from gisrenew.webmap.layers import boundary_layer, context_layer
from gisrenew.webmap.page import (
    MapContext,
    MapOptions,
    add_layer,
    column,
    finish,
    lookup,
    make_context,
    named,
    new_map,
    numbers,
    per_distinct,
    text_values,
    title_html,
)

__all__ = [
    "FIGURES_ELEMENT_ID",
    "SHOWN_GAPS",
    "life_circle_figures",
    "life_circle_map",
]

#: The id of the page's JSON block of figures (``<script type="application/json">``).
FIGURES_ELEMENT_ID = "gisrenew-figures"

#: Gap layers shown when the page opens: the required types reaching least.
SHOWN_GAPS = 3

#: Completeness classes, worst first: no complete circle, then each circle complete.
_LEVEL_COLOURS = ["#d73027", "#fdae61", "#a6d96a", "#1a9850", "#006837"]

#: One colour per facility type (in rule-set order; repeats after 20 types).
_TYPE_COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363",
]  # fmt: skip

_MARK = "※"


# ---------------------------------------------------------------- words


def _headline(results: Mapping[str, Any]) -> str:
    """The method the map draws its gaps for: the straight line when computed."""
    if not results:
        raise ValueError("no life-circle result to draw (`results` is empty)")
    return "buffer" if "buffer" in results else next(iter(results))


def _type_labels(result, lang: str) -> dict[str, str]:
    """Canonical key → the type's name in `lang` (the rule set's label)."""
    table = result.types
    names = table["label_zh" if lang == "zh" else "label_en"].astype(str)
    return dict(zip(table["facility_type"].astype(str), names, strict=True))


def _unconfirmed(result) -> dict[str, set[str]]:
    """Per type key (and ``circle:<m>``), the fields the rule set marks unconfirmed."""
    out = {str(f.type): set(f.unconfirmed) for f in result.rules.facilities if f.unconfirmed}
    for circle in result.rules.circles:
        if circle.unconfirmed:
            out[f"circle:{circle.minutes}"] = set(circle.unconfirmed)
    return out


def _method_text(result, minutes: int, lang: str) -> str:
    """``直线距离`` or ``沿路网步行 300/500 m（各类设施按其距离）`` (the walk's distances)."""
    if result.method != "network":
        return label("lc_straight", lang)
    types = result.types
    used = types[types["required"].astype(bool) & (types["circle_min"] <= minutes)]
    limits = sorted(set(used["limit_m"].astype(float))) or sorted(set(types["limit_m"]))
    distances = "/".join(fmt.radius(v, lang, with_unit=False) for v in limits)
    return label("lc_walk", lang).format(distances=f"{distances} {fmt.unit('m', lang)}")


def _share(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def life_circle_figures(results: Mapping[str, Any]) -> dict[str, Any]:
    """The figures the page shows, by method, as JSON-ready values (from the result tables).

    ``{method: {"complete_share": {minutes: share}, "complete_weight_share": {...},
    "reached_share": {type: share}, "limits_m": {type: metres}, "rules": name}}``.
    """
    out = {}
    for method, result in results.items():
        circles, types = result.circles, result.types
        minutes = [str(int(m)) for m in circles["circle_min"]]
        keys = types["facility_type"].astype(str)
        out[method] = {
            "rules": result.rules.name,
            "complete_share": dict(
                zip(minutes, map(_share, circles["complete_share"]), strict=True)
            ),
            "complete_weight_share": dict(
                zip(minutes, map(_share, circles["complete_weight_share"]), strict=True)
            ),
            "reached_share": dict(zip(keys, map(_share, types["reached_share"]), strict=True)),
            "limits_m": dict(zip(keys, map(float, types["limit_m"]), strict=True)),
        }
    return out


# ---------------------------------------------------------------- title box


def _figure_rows(results: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """Per circle and method: ``完整5分钟生活圈 · 直线距离 ※  86.37%``."""
    rows = []
    any_result = next(iter(results.values()))
    marked = bool(_unconfirmed(any_result))
    for minutes in any_result.circles["circle_min"].astype(int):
        head = label("lc_complete", lang).format(minutes=minutes)
        for result in results.values():
            share = result.complete_share(int(minutes))
            text = f"{head} · {_method_text(result, int(minutes), lang)}"
            rows.append((text + (f" {_MARK}" if marked else ""), fmt.percent_short(share)))
    return rows


def _notes(result, lang: str) -> list[str]:
    """The rule set and the footnote on its unconfirmed values."""
    rules = result.rules
    name = rules.title if lang == "zh" and rules.title else rules.name
    described = label("lc_types_n", lang).format(n=len(rules.facilities))
    notes = [f"{label('lc_rules', lang)}: {name}（{described}）" if lang == "zh"
             else f"{label('lc_rules', lang)}: {name} ({described})"]  # fmt: skip
    fields = sorted({f for values in _unconfirmed(result).values() for f in values})
    if fields:
        worded = []
        for field in fields:
            key = f"map.lc_field_{field}"
            worded.append(label(key[4:], lang) if key in words.keys("map") else field)
        sep = "、" if lang == "zh" else ", "
        notes.append(label("lc_unconfirmed", lang).format(fields=sep.join(worded)))
    return notes


# ---------------------------------------------------------------- layers


def _levels(land: pd.DataFrame, minutes: Sequence[int]) -> np.ndarray:
    """Per piece: how many circles, from the smallest, are complete (0 … len(minutes))."""
    flags = np.column_stack(
        [column(land, f"complete_{m}min", False).fillna(False).astype(bool) for m in minutes]
    )
    return np.cumprod(flags, axis=1).sum(axis=1).astype(int)


def _missing_words(values: pd.Series, labels: dict[str, str], keep: set[str], lang: str) -> list:
    """``幼儿园、托儿所`` from ``kindergarten,nursery`` (only the types in `keep`)."""
    sep = "、" if lang == "zh" else ", "
    all_reached = label("lc_all_reached", lang)

    def word(value) -> str:
        keys = [k for k in str(value or "").split(",") if k and k in keep]
        return sep.join(labels.get(k, k) for k in keys) if keys else all_reached

    return per_distinct(text_values(values.fillna("")), word)


def _completeness_fields(ctx: MapContext, result, districts) -> list[tuple[str, list]]:
    t, lang, land = ctx.t, ctx.lang, result.land
    minutes = [int(m) for m in result.circles["circle_min"]]
    labels = _type_labels(result, lang)
    level = _levels(land, minutes)
    best = [t("lc_none")] + [t("lc_complete").format(minutes=m) for m in minutes]
    district_ids = text_values(column(land, "district_id", "").fillna(""))
    fields = [
        (t("name"), text_values(column(land, "name", ""))),
        (t("id"), text_values(column(land, "residential_id", ""))),
        (t("district"), named(lookup(district_ids, districts, "district_id", "name"),
                              district_ids, lang)),
        (t("area"), fmt.each(numbers(land, "area_m2"), fmt.area_compact, lang=lang, missing="")),
        (t("households"), fmt.each(numbers(land, "households"), fmt.households, missing="")),
        (t("lc_best"), [best[k] for k in level]),
    ]  # fmt: skip
    for m in minutes:  # each circle names the required types of its own level it lacks
        own = {str(f.type) for f in result.rules.facilities if f.required and f.circle == m}
        missing = _missing_words(column(land, f"missing_{m}min", ""), labels, own, lang)
        fields.append((t("lc_missing").format(minutes=m), missing))
    return fields


def completeness_layer(
    m: folium.Map, ctx: MapContext, result, *, districts=None, show: bool = True, legend=True
) -> None:
    """Residential land coloured by its largest complete life circle; popups: missing types."""
    land = result.land
    if land is None or len(land) == 0:
        return
    t = ctx.t
    minutes = [int(x) for x in result.circles["circle_min"]]
    styles = [
        {"color": "#666666", "weight": 0.6, "fillOpacity": 0.6,
         "fillColor": _LEVEL_COLOURS[min(k, len(_LEVEL_COLOURS) - 1)]}
        for k in range(len(minutes) + 1)
    ]  # fmt: skip
    method = t("lc_walk_short" if result.method == "network" else "lc_straight")
    name = t("lc_completeness_of").format(method=method)
    heading = 0 if column(land, "name", None).notna().any() else 1
    add_layer(
        m, ctx, f"completeness_{result.method}", name, land, styles=styles,
        style_index=_levels(land, minutes), fields=_completeness_fields(ctx, result, districts),
        tooltip=[heading, 5], heading=heading, show=show,
    )  # fmt: skip
    if legend:
        items = [(styles[k], t("lc_complete").format(minutes=minutes[k - 1]))
                 for k in range(len(minutes), 0, -1)]  # fmt: skip
        if minutes:
            items.append((styles[0], t("lc_incomplete").format(minutes=minutes[0])))
        ctx.legend.append((t("lc_completeness"), items))


def _type_colours(result) -> dict[str, str]:
    keys = [str(k) for k in result.types["facility_type"]]
    return {k: _TYPE_COLOURS[i % len(_TYPE_COLOURS)] for i, k in enumerate(keys)}


def _limit_text(result, key: str, limit: float, lang: str) -> str:
    marked = "radius_m" in _unconfirmed(result).get(key, set())
    return fmt.radius(limit, lang) + (_MARK if marked else "")


def _shown_gaps(result) -> set[str]:
    """The required types reaching least residential land (with some gap)."""
    types = result.types
    gapped = set(result.gaps["facility_type"].astype(str)) if len(result.gaps) else set()
    rows = types[types["required"].astype(bool) & types["facility_type"].isin(gapped)]
    rows = rows.sort_values("reached_share", kind="stable")
    return set(rows["facility_type"].astype(str).head(SHOWN_GAPS))


def _nearest(result, gaps: pd.DataFrame) -> np.ndarray:
    """Distance from each gap's land to the nearest facility of its type (the reach table)."""
    reach = result.reach
    if reach is None or not len(reach) or "distance_m" not in reach.columns:
        return np.full(len(gaps), np.nan)
    table = reach.groupby(["residential_id", "facility_type"], sort=False)["distance_m"].min()
    index = pd.MultiIndex.from_arrays(
        [gaps["residential_id"].astype(str), gaps["facility_type"].astype(str)]
    )
    table.index = pd.MultiIndex.from_arrays(
        [table.index.get_level_values(0).astype(str), table.index.get_level_values(1).astype(str)]
    )
    return table.reindex(index).to_numpy(dtype=float)


def gap_layers(
    m: folium.Map, ctx: MapContext, result, *, districts=None, types: Sequence[str] | None = None
) -> None:
    """Per facility type, the residential land it does not reach (one toggled layer each).

    `types`: only these types (canonical keys); default every type.
    """
    gaps = result.gaps
    if gaps is None or len(gaps) == 0:
        return
    t, lang = ctx.t, ctx.lang
    labels, colours, shown = _type_labels(result, lang), _type_colours(result), _shown_gaps(result)
    distance = _nearest(result, gaps)
    names = lookup(gaps["residential_id"], result.land, "residential_id", "name")
    district_ids = text_values(column(gaps, "district_id", "").fillna(""))
    districts_named = named(lookup(district_ids, districts, "district_id", "name"),
                            district_ids, lang)  # fmt: skip
    legend = []
    for row in result.types.itertuples(index=False):  # one layer per type (≈ 16)
        key = str(row.facility_type)
        if types is not None and key not in types:
            continue
        rows = np.flatnonzero(gaps["facility_type"].astype(str).to_numpy() == key)
        limit = _limit_text(result, key, float(row.limit_m), lang)
        style = {"color": colours[key], "weight": 1.2, "fillColor": colours[key],
                 "fillOpacity": 0.45, "dashArray": "3 2"}  # fmt: skip
        entry = t("lc_gap_entry").format(type=labels[key], distance=limit,
                                         share=fmt.percent_short(row.reached_share))  # fmt: skip
        legend.append((style, entry))
        if not len(rows):
            continue
        part = gaps.iloc[rows]
        fields = [
            (t("name"), named([names[i] for i in rows], part["residential_id"], lang)),
            (t("lc_type"), [labels[key]] * len(rows)),
            (t("lc_reach_limit"), [limit] * len(rows)),
            (t("walk_distance" if result.method == "network" else "lc_nearest"),
             fmt.each(distance[rows], fmt.distance, lang=lang, missing="")),
            (t("area"), fmt.each(numbers(part, "area_m2"), fmt.area_compact, lang=lang,
                                 missing="")),
            (t("district"), [districts_named[i] for i in rows]),
        ]  # fmt: skip
        add_layer(
            m, ctx, f"gap_{key}", t("lc_gap").format(type=f"{labels[key]} ≤{limit}"), part,
            styles=[style], fields=fields, tooltip=[1, 0], heading=0,
            kind=ctx.kind(t("lc_gap").format(type=labels[key])), show=key in shown,
        )  # fmt: skip
    ctx.legend.append((t("lc_gaps"), legend))


def facility_layer(
    m: folium.Map, ctx: MapContext, result, *, types: Sequence[str] | None = None
) -> None:
    """The facilities, coloured by type (points as dots, polygons outlined); `types`: only these."""
    fac = result.facilities
    if fac is not None and types is not None:
        fac = fac[fac["facility_type"].astype(str).isin(list(types))]
    if fac is None or len(fac) == 0:
        return
    t, lang = ctx.t, ctx.lang
    labels, colours = _type_labels(result, lang), _type_colours(result)
    keys = list(colours)
    styles = [
        {"radius": 4, "color": "#333333", "weight": 0.5, "fillColor": colours[k],
         "fillOpacity": 0.9}
        for k in keys
    ]  # fmt: skip
    kinds = fac["facility_type"].astype(str)
    required = column(fac, "required", True).fillna(True).astype(bool)
    circles = numbers(fac, "circle_min")
    fields = [
        (t("name"), text_values(column(fac, "name", ""))),
        (t("lc_type"), list(kinds.map(labels).fillna(kinds))),
        (t("lc_circle_of"), per_distinct(
            list(circles), lambda c: t("lc_circle").format(minutes=int(c)) if c == c else "")),
        (t("lc_required"), [t("yes") if r else t("lc_optional") for r in required]),
        (t("id"), text_values(column(fac, "facility_id", ""))),
    ]  # fmt: skip
    add_layer(
        m, ctx, "facilities", t("lc_facilities"), fac, styles=styles,
        style_index=kinds.map({k: i for i, k in enumerate(keys)}).fillna(0).to_numpy(dtype=int),
        fields=fields, tooltip=[0, 1], heading=0, kind=ctx.kind(t("lc_facility")),
    )  # fmt: skip
    present = set(kinds)
    ctx.legend.append(
        (t("lc_facilities"), [(styles[i], labels[k]) for i, k in enumerate(keys) if k in present])
    )


# ---------------------------------------------------------------- the map


class _FiguresData(Element):
    """The page's figures as a JSON block (``<script type="application/json">``)."""

    def __init__(self, figures: dict):
        super().__init__()
        self._name = "GisrenewFigures"
        self.text = (
            f'<script type="application/json" id="{FIGURES_ELEMENT_ID}">'
            f"{script_json(figures)}</script>"
        )

    def render(self, **kwargs) -> str:
        return self.text


def life_circle_map(
    results: Mapping[str, Any],
    *,
    districts: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    basemap: str | Basemap | None = "none",
    lang: str | None = None,
    source_datum: str = "wgs84",
    title: str | None = None,
    options: MapOptions | None = None,
    types: Sequence[str] | None = None,
) -> folium.Map:
    """Map of the community life circles 社区生活圈 (see the module notes).

    Parameters
    ----------
    results : mapping of str to LifeCircleResult
        ``Indicators.life_circles``: the result by method (``buffer``, ``network``).
        Gaps and facilities are drawn for the straight line when computed, else the walk;
        the completeness of every method is a layer of its own.
    districts : GeoDataFrame, optional
        District polygons (outlined; their names in the popups).
    boundary, basemap, lang, source_datum, title, options
        As for :func:`gisrenew.webmap.maps.coverage_map`.
    types : sequence of str, optional
        Draw the gaps and facilities of these types only (canonical keys, e.g.
        ``["kindergarten"]``: a smaller page, for a notebook); default every type.

    Returns
    -------
    folium.Map
        With ``gisrenew_layers`` and ``gisrenew_figures`` (:func:`life_circle_figures`).
    """
    headline = results[_headline(results)]
    frames = [headline.facilities, headline.land, districts]
    ctx = make_context(basemap, lang, source_datum, options, frames)
    t = ctx.t
    heading = title or t("lc_title")
    m = new_map(ctx, heading)
    context_layer(
        m, ctx, districts, key="context_districts", name=t("districts_context"),
        style={"color": "#737373", "weight": 1.5, "fill": False, "dashArray": "6 4"},
    )  # fmt: skip
    boundary_layer(m, ctx, boundary)
    for result in results.values():
        shown = result is headline
        completeness_layer(m, ctx, result, districts=districts, show=shown, legend=shown)
    if types is not None:
        unknown = sorted(set(types) - {str(k) for k in headline.types["facility_type"]})
        if unknown:
            raise ValueError(f"`types` names no facility type of the rule set: {unknown}")
    gap_layers(m, ctx, headline, districts=districts, types=types)
    facility_layer(m, ctx, headline, types=types)
    figures = life_circle_figures(results)
    m.gisrenew_figures = figures
    m.get_root().html.add_child(_FiguresData(figures), name="gisrenew_figures")
    largest = int(headline.circles["circle_min"].max())
    big = fmt.percent_short(headline.complete_share(largest))
    rows = _figure_rows(results, ctx.lang)
    return finish(m, ctx, title_html(heading, big, rows, _notes(headline, ctx.lang)))
