"""The layers of gisrenew's maps: parks, service areas, residential land, blind spots, ...

Each function draws one kind of feature on a map being built (a
:class:`~gisrenew.webmap.page.MapContext`), with its popup (every value formatted by
:mod:`gisrenew.present.formats` and escaped), its tooltip and its legend entry. The
order the builders call them in is the drawing order, and with one renderer per page
also the order in which features answer a click: context first, then service areas,
residential land, blind spots, and the parks on top.

Popups name what they refer to with its id: ``所属片区 港区（D07）``, ``最近公园
太仓公园（P001）``; a service area names its park.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from gisrenew.indicators import PlanIndicators
from gisrenew.present import formats as fmt
from gisrenew.present.labels import (
    plan_type_name,
    reason_text,
    status_label,
    walk_status_name,
)
from gisrenew.webmap.labels import PARK_CLASS_NAMES, label
from gisrenew.webmap.page import (
    MapContext,
    Worded,
    add_layer,
    column,
    lookup,
    named,
    numbers,
    per_distinct,
    table_key,
    text_values,
    worded,
)

__all__ = [
    "affected_parcel_layer",
    "blind_spot_layer",
    "boundary_layer",
    "context_layer",
    "district_layer",
    "has_text",
    "park_layers",
    "plan_layer",
    "residential_layer",
    "service_area_layer",
    "share_class",
    "share_styles",
]

# ---------------------------------------------------------------- colours

_PARK_COLOURS = {
    "G11": "#1b7837",
    "G12": "#2ca25f",
    "G13": "#41ae76",
    "G14": "#78c679",
    "G3": "#9ecae1",
    "G1": "#31a354",
}
_POCKET_OUTLINE = "#d95f0e"
_TIER_COLOURS = ["#2171b5", "#6baed6", "#9ecae1", "#c6dbef", "#deebf7"]
_SHARE_COLOURS = {
    "share_full": "#1a9850",
    "share_high": "#91cf60",
    "share_low": "#fee08b",
    "share_none": "#fc8d59",
}
BLIND_COLOUR = "#d73027"
# District choropleth classes: upper bounds of the coverage ratio, colour.
# 80% (GB 55014-2021) and 90% (GB/T 51346-2019) are the thresholds planners check.
_DISTRICT_BINS = [
    (0.6, "#d73027", "< 60%"),
    (0.8, "#fc8d59", "60% – 80%"),
    (0.9, "#fee08b", "80% – 90%"),
    (0.95, "#91cf60", "90% – 95%"),
    (math.inf, "#1a9850", "≥ 95%"),
]
_NO_DATA_COLOUR = "#cccccc"
_SIGNING_COLOURS = {
    "signing_all": "#1a9850",
    "signing_partial": "#fee08b",
    "signing_none": "#d73027",
    "signing_empty": "#bdbdbd",
    "signing_unknown": "#9e9ac8",
}
_SIGNING_KEYS = {
    "signed": "signing_all",
    "signing": "signing_partial",
    "not_started": "signing_none",
    "no_households": "signing_empty",
    "unknown": "signing_unknown",
}
PLAN_STYLE = {"color": "#6a3d9a", "weight": 3, "fillColor": "#cab2d6", "fillOpacity": 0.12}


def has_text(values: pd.Series) -> bool:
    """Whether any value is non-empty text (a layer worth naming its features by)."""
    return bool(values.notna().any() and (values.astype(str) != "").any())


# ---------------------------------------------------------------- parks


def _park_class_name(classes, lang: str) -> list[str]:
    names = PARK_CLASS_NAMES[lang]
    out = []
    for c in classes:
        c = "" if c is None or (isinstance(c, float) and math.isnan(c)) or c is pd.NA else str(c)
        out.append(f"{c} {names[c]}" if c in names else c)
    return out


def _yes_no(values, lang: str) -> list[str]:
    return [label("yes", lang) if bool(v) else label("no", lang) for v in values]


def _park_table(
    parks: gpd.GeoDataFrame, table: pd.DataFrame | None, gains: pd.DataFrame | None
) -> gpd.GeoDataFrame:
    """The park polygons with their row of the result's park table and their own gain."""
    parks = parks.reset_index(drop=True)
    if "park_id" not in parks.columns:
        parks = parks.assign(park_id=[str(i + 1) for i in range(len(parks))])
    parks = parks.assign(park_id=parks["park_id"].astype(str))
    if table is not None and len(table):
        wanted = ("park_area_m2", "tier", "radius_m", "qualifies", "reason")
        extra = [c for c in wanted if c in table.columns]
        info = table[["park_id", *extra]].drop_duplicates("park_id")
        info = info.assign(park_id=info["park_id"].astype(str))
        parks = parks.drop(columns=[c for c in extra if c in parks.columns]).merge(
            info, on="park_id", how="left"
        )
    if gains is not None and "unique_covered_m2" in gains.columns:
        own = gains[["park_id", "unique_covered_m2"]].assign(park_id=gains["park_id"].astype(str))
        parks = parks.drop(columns=["unique_covered_m2"], errors="ignore").merge(
            own, on="park_id", how="left"
        )
    return gpd.GeoDataFrame(parks, geometry=parks.geometry.name, crs=parks.crs)


def _park_styles(colour: str | None) -> tuple[list[dict], dict[tuple[str, bool, bool], int]]:
    """Styles by (class colour) × (pocket park?) × (counts?), and their index by that key."""
    styles, index = [], {}
    for c in _PARK_COLOURS:
        for pocket in (False, True):
            for counts in (True, False):
                index[(c, pocket, counts)] = len(styles)
                styles.append(
                    {
                        "color": _POCKET_OUTLINE if pocket else (colour or _PARK_COLOURS[c]),
                        "weight": 3 if pocket else 1.5,
                        "fillColor": colour or _PARK_COLOURS[c],
                        "fillOpacity": 0.75 if counts else 0.35,
                        "opacity": 1.0,
                        **({} if counts else {"dashArray": "4 3"}),
                    }
                )
    return styles, index


class _ParkInfo:
    """What the park layers show of each park (one entry per row of the park table)."""

    def __init__(self, parks: gpd.GeoDataFrame):
        self.frame = parks
        classes = column(parks, "park_class", "G1").astype(object)
        self.classes = list(classes.where(classes.notna(), "G1").astype(str))
        self.pocket = column(parks, "is_pocket_park", False).fillna(False).astype(bool).to_numpy()
        if "qualifies" in parks.columns:
            counted = parks["qualifies"].astype(object).where(parks["qualifies"].notna(), True)
            self.qualifies = counted.astype(bool).to_numpy()
        else:
            self.qualifies = np.ones(len(parks), dtype=bool)
        area = numbers(parks, "park_area_m2")
        if np.isnan(area).all() and parks.crs is not None and parks.crs.is_projected:
            area = parks.geometry.area.to_numpy()
        self.area = area

    def counts_text(self, lang: str, mask: np.ndarray | None = None) -> list[str]:
        values = self.qualifies if mask is None else self.qualifies[mask]
        if "qualifies" not in self.frame.columns:
            return [""] * len(values)
        return _yes_no(values, lang)

    def reasons(self, lang: str, mask: np.ndarray | None = None) -> list[str]:
        values = text_values(column(self.frame, "reason", ""))
        if mask is not None:
            values = [v for v, k in zip(values, mask, strict=True) if k]
        return [reason_text(v, lang) for v in values]


def _park_fields(ctx: MapContext, info: _ParkInfo) -> list[tuple[str, list]]:
    t, lang = ctx.t, ctx.lang
    parks = info.frame
    fields = [
        (t("name"), text_values(column(parks, "name", ""))),
        (t("id"), text_values(parks["park_id"])),
        (t("park_class"), _park_class_name(info.classes, lang)),
        (t("pocket_park"), [t("pocket_park") if p else "" for p in info.pocket]),
        (t("area"), fmt.each(info.area, fmt.area_compact, lang=lang, missing="")),
        (t("radius"), fmt.each(numbers(parks, "radius_m"), fmt.radius, lang=lang, missing="")),
        (t("counts"), info.counts_text(lang)),
        (t("reason"), info.reasons(lang)),
    ]
    if "unique_covered_m2" in parks.columns:
        gain = numbers(parks, "unique_covered_m2")
        fields.append((t("covered_area"), fmt.each(gain, fmt.area_compact, lang=lang, missing="")))
    return fields


def _park_legend(ctx: MapContext, info: _ParkInfo, colour: str | None) -> list[tuple[dict, str]]:
    keys = list(_PARK_COLOURS)
    used = sorted({c if c in _PARK_COLOURS else "G1" for c in info.classes}, key=keys.index)
    items = [
        (
            {"color": colour or _PARK_COLOURS[c], "fillColor": colour or _PARK_COLOURS[c],
             "fillOpacity": 0.75},
            _park_class_name([c], ctx.lang)[0],
        )
        for c in used
    ]  # fmt: skip
    if info.pocket.any():
        style = {"color": _POCKET_OUTLINE, "fillColor": "#ffffff", "fillOpacity": 0.0, "weight": 3}
        items.append((style, ctx.t("pocket_parks")))
    if not info.qualifies.all():
        style = {"color": "#555555", "fillColor": "#999999", "fillOpacity": 0.35,
                 "dashArray": "4 3"}  # fmt: skip
        items.append((style, ctx.t("not_counted")))
    return items


def _pocket_park_points(m, ctx: MapContext, info: _ParkInfo, key: str) -> None:
    """A point on each pocket park (口袋公园), so the small ones are found at city zoom."""
    t, pocket, parks = ctx.t, info.pocket, info.frame
    points = gpd.GeoDataFrame(
        {
            "name": column(parks, "name", "")[pocket].to_numpy(),
            "park_id": parks["park_id"].to_numpy()[pocket],
        },
        geometry=parks.geometry[pocket].representative_point().to_numpy(),
        crs=parks.crs,
    )
    fields = [
        (t("name"), text_values(points["name"])),
        (t("id"), text_values(points["park_id"])),
        (t("area"), fmt.each(info.area[pocket], fmt.area_compact, lang=ctx.lang, missing="")),
        (t("counts"), info.counts_text(ctx.lang, pocket)),
        (t("reason"), info.reasons(ctx.lang, pocket)),
    ]
    style = {"radius": 6, "color": _POCKET_OUTLINE, "weight": 2, "fillColor": "#fff5eb",
             "fillOpacity": 0.9}  # fmt: skip
    add_layer(
        m, ctx, f"{key}_pocket", t("pocket_parks"), points, styles=[style], fields=fields,
        tooltip=[0], heading=0, kind=ctx.kind(t("pocket_park")),
    )  # fmt: skip


def park_layers(
    m,
    ctx: MapContext,
    parks: gpd.GeoDataFrame,
    table: pd.DataFrame | None,
    *,
    key: str,
    name: str,
    colour: str | None = None,
    gains: pd.DataFrame | None = None,
) -> None:
    """Parks by class (pocket parks outlined), with a point layer for pocket parks.

    `table` is the result's park table (tier, radius, counts or not, reason); `gains`
    each park's own gain (``park_id``, ``unique_covered_m2``) shown in its popup.
    """
    info = _ParkInfo(_park_table(parks, table, gains))
    styles, index = _park_styles(colour)
    style_index = np.array(
        [
            index[(c if c in _PARK_COLOURS else "G1", bool(p), bool(q))]
            for c, p, q in zip(info.classes, info.pocket, info.qualifies, strict=True)
        ],
        dtype=int,
    )
    add_layer(
        m, ctx, key, name, info.frame, styles=styles, style_index=style_index,
        fields=_park_fields(ctx, info), tooltip=[0, 2], heading=0, kind=ctx.kind(name),
    )  # fmt: skip
    ctx.legend.append((name, _park_legend(ctx, info, colour)))
    if info.pocket.any():
        _pocket_park_points(m, ctx, info, key)


# ---------------------------------------------------------------- service areas


def _tier_text(tiers: np.ndarray, radius: np.ndarray, rules) -> list[str]:
    """Each tier as the rule set words it (``≥5000 m² → 500 m``), else its radius."""
    out = []
    for tier, r in zip(tiers, radius, strict=True):
        if rules is not None and 0 <= tier < len(rules.tiers):
            out.append(rules.tiers[tier].describe())
        else:
            out.append(f"{r:g} m" if np.isfinite(r) else "")
    return out


def service_area_layer(
    m,
    ctx: MapContext,
    areas: gpd.GeoDataFrame | None,
    *,
    key: str,
    name: str,
    rules=None,
    parks: pd.DataFrame | None = None,
    colours: list[str] | None = None,
) -> None:
    """Each qualifying park's service area, coloured by tier; its popup names the park.

    Larger radii are drawn first, so where service areas overlap the smaller (nearer)
    one answers a click; residential land drawn later answers over all of them.
    `parks` (the result's park table, or the parks layer) gives the parks' names.
    """
    if areas is None or len(areas) == 0:
        return
    t = ctx.t
    areas = areas.assign(
        tier=pd.to_numeric(column(areas, "tier", 0), errors="coerce").fillna(0).astype(int),
        radius_m=numbers(areas, "radius_m"),
        park_id=column(areas, "park_id", "").astype(str),
    )
    areas = areas.sort_values(["radius_m", "park_id"], ascending=[False, True], kind="stable")
    areas = areas.reset_index(drop=True)
    tiers = np.sort(areas["tier"].unique())
    colours = colours or _TIER_COLOURS
    styles = [
        {"color": colours[i % len(colours)], "weight": 1, "fillColor": colours[i % len(colours)],
         "fillOpacity": 0.08}
        for i in range(len(tiers))
    ]  # fmt: skip
    style_index = np.searchsorted(tiers, areas["tier"].to_numpy())
    names = lookup(areas["park_id"], parks, "park_id", "name")
    if "name" in areas.columns:
        names = [n or o for n, o in zip(names, text_values(areas["name"].fillna("")), strict=True)]
    radius = areas["radius_m"].to_numpy(dtype=float)
    fields = [
        (t("park"), named(names, areas["park_id"], ctx.lang)),
        (t("radius"), fmt.each(radius, fmt.radius, lang=ctx.lang, missing="")),
        (t("tier"), _tier_text(areas["tier"].to_numpy(), radius, rules)),
    ]
    add_layer(
        m, ctx, key, name, areas, styles=styles, style_index=style_index, fields=fields,
        tooltip=[0, 1], heading=0, kind=ctx.kind(t("service_area")),
    )  # fmt: skip
    radius_by_tier = areas.groupby("tier")["radius_m"].max().reindex(tiers).to_numpy(dtype=float)
    legend = _tier_text(tiers, radius_by_tier, rules)
    ctx.legend.append((name, [(styles[i], legend[i]) for i in range(len(tiers))]))


# ---------------------------------------------------------------- residential land


def share_class(share: np.ndarray) -> np.ndarray:
    """The covered-share class of each residential piece 居住用地: 0 full, 1 ≥ 50%, 2 > 0,
    3 none (nan counts as none); the classes of :func:`share_styles`."""
    share = np.nan_to_num(np.asarray(share, dtype=float), nan=0.0)
    return np.select([share >= 0.9995, share >= 0.5, share > 0.0005], [0, 1, 2], default=3)


def share_styles() -> tuple[list[str], list[dict]]:
    """The covered-share classes of residential land: their label keys and Leaflet styles."""
    keys = list(_SHARE_COLOURS)
    styles = [
        {"color": "#666666", "weight": 0.6, "fillColor": _SHARE_COLOURS[k], "fillOpacity": 0.6}
        for k in keys
    ]
    return keys, styles


def _walk_fields(ctx: MapContext, residential: gpd.GeoDataFrame, parks) -> list[tuple[str, list]]:
    """The walk of a piece (network results): distance, nearest park (named), status."""
    t, lang = ctx.t, ctx.lang
    fields = []
    if "walk_distance_m" in residential.columns:
        walked = numbers(residential, "walk_distance_m")
        words = _each(fmt.distance, lang=lang, missing="")
        fields.append((t("walk_distance"), worded(walked, words, "distance", lang)))
    if "nearest_park_id" in residential.columns:
        how = ("nearest_park", lang, table_key(parks, "park_id", "name"))
        ids = residential["nearest_park_id"]
        fields.append((t("nearest_park"), worded(ids, _named_by(parks, "park_id", lang), *how)))
    if "walk_status" in residential.columns:
        status = residential["walk_status"]
        fields.append((t("walk_status"), worded(status, _walk_status_words(lang), "walk", lang)))
    return fields


def _each(formatter, **options):
    """``fmt.each(values, formatter, **options)`` as a function of the values."""
    return lambda values: fmt.each(values, formatter, **options)


def _named_by(table: pd.DataFrame | None, id_column: str, lang: str):
    """Ids worded with their name in `table`: ``港区（D07）``."""

    def word(ids: pd.Series) -> list[str]:
        ids = text_values(ids.fillna(""))
        return named(lookup(ids, table, id_column, "name"), ids, lang)

    return word


def _walk_status_words(lang: str):
    return lambda status: per_distinct(status, lambda v: walk_status_name(v, lang))


def residential_layer(
    m,
    ctx: MapContext,
    residential: gpd.GeoDataFrame | None,
    *,
    districts: pd.DataFrame | None = None,
    parks: pd.DataFrame | None = None,
    key: str = "residential",
) -> None:
    """Residential land coloured by its covered share; popups name the district and park."""
    if residential is None or len(residential) == 0:
        return
    t, lang = ctx.t, ctx.lang
    share = numbers(residential, "covered_share")
    keys, styles = share_styles()
    district_ids = column(residential, "district_id", "")
    in_district = _named_by(districts, "district_id", lang)
    district_how = ("district", lang, table_key(districts, "district_id", "name"))

    def area(name: str) -> Worded:
        words = _each(fmt.area_compact, lang=lang, missing="")
        return worded(numbers(residential, name), words, "area_compact", lang)

    # each column worded lazily: a large layer reuses those that did not change
    fields = [
        (t("name"), worded(column(residential, "name", ""), text_values, "text")),
        (t("id"), worded(column(residential, "residential_id", ""), text_values, "text")),
        (t("district"), worded(district_ids, in_district, *district_how)),
        (t("area"), area("area_m2")),
        (t("covered_share"), worded(share, _each(fmt.percent_short, missing=""), "percent")),
        (t("covered_area"), area("covered_m2")),
        (t("households"), worded(numbers(residential, "households"),
                                 _each(fmt.households, missing=""), "households")),
        *_walk_fields(ctx, residential, parks),
    ]  # fmt: skip
    heading = 0 if "name" in residential.columns and residential["name"].notna().any() else 1
    add_layer(
        m, ctx, key, t("residential"), residential, styles=styles,
        style_index=share_class(share), fields=fields, tooltip=[heading, 4], heading=heading,
    )  # fmt: skip
    ctx.legend.append((t("covered_share"), [(styles[i], t(k)) for i, k in enumerate(keys)]))


def blind_spot_layer(
    m,
    ctx: MapContext,
    blind: gpd.GeoDataFrame | None,
    *,
    key: str,
    name: str,
    colour: str = BLIND_COLOUR,
    residential: pd.DataFrame | None = None,
    districts: pd.DataFrame | None = None,
) -> None:
    """Blind spots (or closed blind spots), named after their residential land and district.

    Names come from the blind spots' own ``name`` / ``district_name`` columns when they
    have them (a stored change), else from `residential` and `districts`.
    """
    if blind is None or len(blind) == 0:
        return
    t = ctx.t
    style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.55}
    ids = text_values(column(blind, "residential_id", ""))
    names = _own_or_lookup(blind, "name", ids, residential, "residential_id")
    district_ids = text_values(column(blind, "district_id", "").fillna(""))
    districts_named = _own_or_lookup(blind, "district_name", district_ids, districts, "district_id")
    fields = [
        (t("name"), [n if n != "" else i for n, i in zip(names, ids, strict=True)]),
        (t("id"), ids),
        (t("district"), named(districts_named, district_ids, ctx.lang)),
        (t("area"), fmt.each(numbers(blind, "area_m2"), fmt.area_compact, lang=ctx.lang,
                             missing="")),
        (t("households"), fmt.each(numbers(blind, "households"), fmt.households, missing="")),
    ]  # fmt: skip
    add_layer(
        m, ctx, key, name, blind, styles=[style], fields=fields, tooltip=[0, 3], heading=0,
        kind=ctx.kind(name),
    )  # fmt: skip
    ctx.legend.append((name, [(style, name)]))


def _own_or_lookup(frame, own: str, ids: list, table, id_column: str) -> list:
    if own in frame.columns:
        return text_values(frame[own].fillna(""))
    return lookup(ids, table, id_column, "name")


# ---------------------------------------------------------------- districts and outlines


def _district_frame(districts: gpd.GeoDataFrame, table: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The district polygons with their row of the result's district table."""
    frame = districts.reset_index(drop=True)
    if "district_id" not in frame.columns:
        frame = frame.assign(district_id=[str(i + 1) for i in range(len(frame))])
    frame = frame.assign(district_id=frame["district_id"].astype(str))
    if table is None or not len(table):
        return frame
    wanted = ("residential_area_m2", "covered_area_m2", "coverage_ratio")
    cols = [c for c in wanted if c in table.columns]
    info = table[["district_id", *cols]].assign(district_id=table["district_id"].astype(str))
    if "name" in table.columns and "name" not in frame.columns:
        info = info.assign(name=table["name"])
    frame = frame.drop(columns=[c for c in cols if c in frame.columns]).merge(
        info, on="district_id", how="left"
    )
    return gpd.GeoDataFrame(frame, geometry=districts.geometry.name, crs=districts.crs)


def district_layer(
    m, ctx: MapContext, districts: gpd.GeoDataFrame | None, table: pd.DataFrame | None
) -> None:
    """Districts coloured by their coverage ratio (the 60/80/90/95 % classes)."""
    if districts is None or len(districts) == 0:
        return
    t, lang = ctx.t, ctx.lang
    frame = _district_frame(districts, table)
    ratio = numbers(frame, "coverage_ratio")
    styles = [
        {"color": "#444444", "weight": 2, "fillColor": c, "fillOpacity": 0.3}
        for _, c, _ in _DISTRICT_BINS
    ] + [{"color": "#444444", "weight": 2, "fillColor": _NO_DATA_COLOUR, "fillOpacity": 0.3}]
    uppers = np.array([u for u, _, _ in _DISTRICT_BINS])
    style_index = np.where(
        np.isfinite(ratio), np.searchsorted(uppers, np.nan_to_num(ratio), side="right"), len(uppers)
    )
    style_index = np.minimum(style_index, len(styles) - 1)

    def area(name: str) -> list[str]:
        return fmt.each(numbers(frame, name), fmt.area_compact, lang=lang, missing="")

    fields = [
        (t("name"), text_values(column(frame, "name", ""))),
        (t("id"), text_values(frame["district_id"])),
        (t("coverage_ratio"), fmt.each(ratio, fmt.percent_short, missing="")),
        (t("covered_area"), area("covered_area_m2")),
        (t("residential_area"), area("residential_area_m2")),
    ]
    heading = 0 if "name" in frame.columns and frame["name"].notna().any() else 1
    add_layer(
        m, ctx, "districts", t("districts"), frame, styles=styles, style_index=style_index,
        fields=fields, tooltip=[heading, 2], heading=heading,
    )  # fmt: skip
    items = [(styles[i], text) for i, (_, _, text) in enumerate(_DISTRICT_BINS)]
    if not np.isfinite(ratio).all():
        items.append((styles[-1], t("no_residential")))
    ctx.legend.append((t("districts"), items))


def boundary_layer(
    m, ctx: MapContext, boundary: gpd.GeoDataFrame | None, *, fit: bool = True
) -> None:
    """The built-up area (建成区) outline: drawn, never in the way of a click."""
    if boundary is None or len(boundary) == 0:
        return
    style = {"color": "#252525", "weight": 2, "dashArray": "8 5", "fill": False}
    add_layer(
        m, ctx, "boundary", ctx.t("boundary"), boundary, styles=[style], interactive=False,
        fit=fit,
    )  # fmt: skip
    swatch = {"color": "#252525", "fillColor": "#ffffff", "fillOpacity": 0.0, "dashArray": "8 5"}
    ctx.legend.append((ctx.t("boundary"), [(swatch, ctx.t("boundary"))]))


def context_layer(
    m: folium.Map,
    ctx: MapContext,
    frame: gpd.GeoDataFrame | None,
    *,
    key: str,
    name: str,
    style: dict,
) -> None:
    """A layer drawn for context (on the plans map): muted, named, never taking a click."""
    if frame is None or len(frame) == 0:
        return
    add_layer(m, ctx, key, name, frame, styles=[style], interactive=False, fit=False)
    ctx.legend.append((name, [(style, name)]))


# ---------------------------------------------------------------- renewal plans


def _status_text(codes, lang: str) -> list[str]:
    out = []
    for code in codes:
        if code in _SIGNING_KEYS:
            out.append(label(_SIGNING_KEYS[code], lang))
        elif code == "no_parcels":
            out.append(status_label("no_parcels", lang))
        else:
            out.append("" if code is None or code is pd.NA else str(code))
    return out


def _plan_fields(ctx: MapContext, frame: pd.DataFrame) -> list[tuple[str, list]]:
    """The popup of a plan: its row of the plan table (面积, 户数 by kind, 签约)."""
    t, lang = ctx.t, ctx.lang

    def households(name: str) -> list[str]:
        return fmt.each(numbers(frame, name), fmt.households, missing="")

    return [
        (t("name"), text_values(column(frame, "name", ""))),
        (t("id"), text_values(frame["plan_id"])),
        (t("plan_type"), [plan_type_name(v, lang) for v in column(frame, "plan_type", "")]),
        (t("status"), text_values(column(frame, "plan_status", ""))),
        (t("area"), fmt.each(numbers(frame, "area_m2"), fmt.area_compact, lang=lang, missing="")),
        (t("parcel_count"), fmt.each(numbers(frame, "parcel_count"), fmt.count, missing="")),
        (t("households_residential"), households("households_residential")),
        (t("households_nonresidential"), households("households_nonresidential")),
        (t("households_shops"), households("households_shops")),
        (t("households_total"), households("households_total")),
        (t("households_signed"), households("signed")),
        (t("households_unsigned"), households("unsigned")),
        (
            t("signing_rate"),
            fmt.each(numbers(frame, "signing_rate"), fmt.percent_short, missing=""),
        ),
        (t("signing_status"), _status_text(column(frame, "signing_status", None), lang)),
    ]


def plan_layer(m, ctx: MapContext, rows: pd.DataFrame) -> None:
    """The plans, outlined, with their row of the plan table in the popup."""
    heading = 0 if has_text(column(rows, "name", "")) else 1
    add_layer(
        m, ctx, "plans", ctx.t("plans"), rows, styles=[PLAN_STYLE],
        fields=_plan_fields(ctx, rows), tooltip=[heading, 4], heading=heading,
        kind=ctx.kind(ctx.t("plan")),
    )  # fmt: skip
    ctx.legend.append((ctx.t("plans"), [(PLAN_STYLE, ctx.t("plans"))]))


def _plan_names(rows: pd.DataFrame, plan_ids: pd.Series, lang: str) -> list[str]:
    """The names of each parcel's plans (``;``-separated ids), with their ids."""
    names = pd.Series(
        text_values(column(rows, "name", "")), index=rows["plan_id"].astype(str), dtype=object
    )
    names = names[~names.index.duplicated()]
    out = []
    for ids in plan_ids:
        ids = [pid for pid in str(ids).split(";") if pid]
        out.append("; ".join(named([names.get(pid, "") for pid in ids], ids, lang)))
    return out


def _parcel_fields(
    ctx: MapContext, parcels: gpd.GeoDataFrame, rows: pd.DataFrame, roles: Mapping[str, str]
) -> list[tuple[str, list]]:
    """The popup of an affected parcel: its plans, households by kind, signing status."""
    t, lang = ctx.t, ctx.lang

    def households(name: str) -> list[str]:
        return fmt.each(numbers(parcels, name), fmt.households, missing="")

    area = numbers(parcels, "parcel_area_m2")
    return [
        (t("name"), text_values(column(parcels, "parcel_name", ""))),
        (t("id"), text_values(parcels["parcel_id"])),
        (t("plan"), _plan_names(rows, column(parcels, "plan_ids", ""), lang)),
        (t("area"), fmt.each(area, fmt.area_compact, lang=lang, missing="")),
        (
            t("parcel_share"),
            fmt.each(numbers(parcels, "affected_share"), fmt.percent_short, missing=""),
        ),
        (t("households_residential"), households(roles["residential"])),
        (t("households_nonresidential"), households(roles["nonresidential"])),
        (t("households_shops"), households(roles["shops"])),
        (t("households_signed"), households("households_signed")),
        (
            t("signing_rate"),
            fmt.each(numbers(parcels, "signing_rate"), fmt.percent_short, missing=""),
        ),
        (t("signing_status"), _status_text(column(parcels, "signing_status", None), lang)),
    ]


def affected_parcel_layer(m, ctx: MapContext, plans: PlanIndicators, rows: pd.DataFrame) -> None:
    """Affected parcels (whole, once each) coloured by their signing status."""
    parcels = plans.affected_parcels
    if parcels is None or len(parcels) == 0:
        return
    t = ctx.t
    keys = list(_SIGNING_KEYS)
    styles = [
        {"color": "#444444", "weight": 1, "fillColor": _SIGNING_COLOURS[_SIGNING_KEYS[k]],
         "fillOpacity": 0.7}
        for k in keys
    ]  # fmt: skip
    status = column(parcels, "signing_status", "unknown")
    style_index = status.map({k: i for i, k in enumerate(keys)}).fillna(keys.index("unknown"))
    heading = 0 if has_text(column(parcels, "parcel_name", "")) else 1
    add_layer(
        m, ctx, "affected_parcels", t("affected_parcels"), parcels, styles=styles,
        style_index=style_index.to_numpy(dtype=int),
        fields=_parcel_fields(ctx, parcels, rows, plans.household_columns),
        tooltip=[heading, 10], heading=heading,
    )  # fmt: skip
    ctx.legend.append(
        (t("affected_parcels"), [(styles[i], t(_SIGNING_KEYS[k])) for i, k in enumerate(keys)])
    )
