"""Web maps of coverage, blind spots, renewal plans and before/after comparisons.

Each builder takes gisrenew's results — a :class:`~gisrenew.results.CoverageResult`,
the :class:`~gisrenew.indicators.PlanIndicators`, a :class:`~gisrenew.results.CoverageChange`
— and layers for context (GeoDataFrames in the metric working CRS), and returns a
:class:`folium.Map`; :func:`save_map` writes it, as a normal page or as one
self-contained offline HTML file. The maps only draw: every figure they show was
computed by the engines (through :func:`gisrenew.indicators.compute_indicators` or the
recompute) before they are called.

What every map does:

* geometry is simplified (≈ 1 m by default) in the metric CRS, reprojected to
  longitude/latitude, shifted to GCJ-02 for Gaode tiles (and not shifted again
  when the data is declared GCJ-02 already), and rounded to 1e-6° (≈ 0.1 m);
* every text (attribute values, layer names, legend and title) goes through
  :func:`gisrenew.webmap.escape.escape_text`; popups and tooltips are assembled
  from those escaped values by a small fixed script (:mod:`~gisrenew.webmap.elements`);
* large layers are drawn on a canvas and start hidden (tick them in the layer
  control); legends are plain HTML (no d3, no branca colormap);
* labels are Chinese or English (``lang``), Chinese by default for Chinese data;
* the page loads only Leaflet (CDN online, inlined offline).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import outfiles
from gisrenew.crs import is_metric_projected
from gisrenew.errors import CRSError
from gisrenew.indicators import PlanIndicators
from gisrenew.present import formats as fmt
from gisrenew.results import INDICATOR_NAMES, CoverageChange, CoverageResult
from gisrenew.webmap.assets import LEAFLET_CSS_URL, LEAFLET_JS_URL, inline_assets
from gisrenew.webmap.basemaps import Basemap, get_basemap
from gisrenew.webmap.elements import GeoJsonLayer, HtmlControl, PageStyle, Runtime, ScaleBar
from gisrenew.webmap.escape import escape_text, script_json
from gisrenew.webmap.gcj02 import in_gcj02_area, shift_geometries
from gisrenew.webmap.labels import PARK_CLASS_NAMES, detect_lang, label, resolve_lang

__all__ = [
    "MapOptions",
    "before_after_map",
    "coverage_map",
    "feature_collection",
    "frames_in_china",
    "map_html",
    "plans_map",
    "save_map",
]

log = logging.getLogger(__name__)

# Metres per degree of latitude, to turn a tolerance in metres into degrees.
_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class MapOptions:
    """Size and drawing options shared by all maps.

    Attributes
    ----------
    simplify_m : float
        Simplification tolerance in metres (topology preserving); 0 disables it.
        ~1 m keeps every shape on screen at street zoom and shrinks city pages ~6×.
    precision : int
        Decimal places of longitude/latitude (6 → ~0.1 m).
    canvas_features : int
        Layers with more features are drawn on a canvas instead of SVG.
    hide_vertices : int
        Layers with more vertices start hidden (turn them on in the layer control).
    width, height : str
        Size of the map element (CSS).
    """

    simplify_m: float = 1.0
    precision: int = 6
    canvas_features: int = 2000
    hide_vertices: int = 300_000
    width: str = "100%"
    height: str = "100%"


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
_BLIND_COLOUR = "#d73027"
_CLOSED_COLOUR = "#1a9850"
_NEW_PARK_COLOUR = "#f16913"
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


# ---------------------------------------------------------------- formatting


def _text(series) -> list:
    """Values of a column as Python objects (NA stays NA; escaped later)."""
    return list(pd.Series(series).astype(object))


def _column(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


def _numbers(frame: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# ---------------------------------------------------------------- building blocks


@dataclass
class _Context:
    """What one map needs while it is being built."""

    basemap: Basemap
    lang: str
    source_datum: str
    options: MapOptions
    bounds: list[np.ndarray] = field(default_factory=list)
    legend: list[tuple[str, list[tuple[dict, str]]]] = field(default_factory=list)
    layers: dict[str, dict] = field(default_factory=dict)

    def t(self, key: str) -> str:
        return label(key, self.lang)


def _display_geometries(gdf: gpd.GeoDataFrame, ctx: _Context) -> tuple[np.ndarray, np.ndarray]:
    """Geometries ready for the page and the mask of rows kept (non-empty)."""
    if gdf.crs is None:
        raise CRSError(
            "a layer for the web map has no CRS; maps need to know where the data is. "
            "Pass layers read with gisrenew.read_layer or set their CRS."
        )
    series = gdf.geometry
    tolerance = ctx.options.simplify_m
    if is_metric_projected(series.crs):
        if tolerance > 0:
            series = series.simplify(tolerance, preserve_topology=True)
        series = series.to_crs(4326)
    else:
        series = series.to_crs(4326)
        if tolerance > 0:
            series = series.simplify(tolerance / _M_PER_DEG, preserve_topology=True)
    geoms = np.asarray(series.array, dtype=object)
    target = ctx.basemap.datum
    if ctx.source_datum != target:
        geoms = shift_geometries(geoms, f"{ctx.source_datum}_to_{target}")
    digits = ctx.options.precision
    geoms = shapely.transform(geoms, lambda coords: np.round(coords, digits))
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return geoms, keep


def feature_collection(
    geojson: Sequence[str], style_index: Sequence[int], values: Sequence[Sequence[str]]
) -> str:
    """A GeoJSON FeatureCollection as script-safe JSON text.

    Parameters
    ----------
    geojson : sequence of str
        Geometry of each feature as GeoJSON text (numbers only).
    style_index : sequence of int
        Index of each feature's style.
    values : sequence of sequence of str
        Each feature's values, already escaped with :func:`escape_text`.
    """
    parts = [
        '{"type":"Feature","properties":'
        + script_json({"s": int(s), "v": list(v)})
        + ',"geometry":'
        + g
        + "}"
        for g, s, v in zip(geojson, style_index, values, strict=True)
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def _add_layer(
    m: folium.Map,
    ctx: _Context,
    key: str,
    name: str,
    gdf: gpd.GeoDataFrame,
    *,
    styles: list[dict],
    style_index: np.ndarray | None = None,
    fields: Sequence[tuple[str, Sequence]] = (),
    tooltip: Sequence[int] = (),
    heading: int | None = None,
    kind: str = "",
    show: bool | None = None,
    interactive: bool = True,
    fit: bool = True,
) -> int:
    """Add `gdf` as a GeoJSON layer; return the number of features drawn."""
    if gdf is None or len(gdf) == 0:
        return 0
    geoms, keep = _display_geometries(gdf, ctx)
    if style_index is None:
        style_index = np.zeros(len(gdf), dtype=int)
    style_index = np.asarray(style_index, dtype=int)
    columns = [[escape_text(v) for v in values] for _, values in fields]
    rows = list(zip(*columns, strict=True)) if columns else [()] * len(gdf)
    geoms = geoms[keep]
    rows = [row for row, k in zip(rows, keep, strict=True) if k]
    style_index = style_index[keep]
    n = len(geoms)
    if n == 0:
        return 0
    vertices = int(shapely.get_num_coordinates(geoms).sum())
    canvas = n > ctx.options.canvas_features
    if show is None:
        show = vertices <= ctx.options.hide_vertices
    elif show and vertices > ctx.options.hide_vertices:
        show = False
    if not show:
        log.info("map layer %s (%d features, %d vertices) starts hidden", key, n, vertices)
    text = feature_collection(shapely.to_geojson(geoms), style_index, rows)
    layer = GeoJsonLayer(
        key,
        name,
        text,
        styles=styles,
        labels=[lbl for lbl, _ in fields],
        tooltip=list(tooltip),
        heading=heading,
        kind=kind,
        canvas=canvas,
        show=show,
        interactive=interactive,
        feature_count=n,
    )
    m.add_child(layer)
    if fit:
        ctx.bounds.append(shapely.total_bounds(geoms))
    ctx.layers[key] = {
        "name": name,
        "features": n,
        "vertices": vertices,
        "show": show,
        "canvas": canvas,
    }
    return n


def _new_map(ctx: _Context, title: str) -> folium.Map:
    m = folium.Map(
        location=None,
        tiles=None,
        width=ctx.options.width,
        height=ctx.options.height,
        control_scale=False,
        prefer_canvas=False,
        zoom_start=12,
    )
    # Only Leaflet: folium's defaults (jQuery, Bootstrap, Font Awesome, awesome-markers)
    # are not needed by gisrenew's maps. Instance lists, so folium's globals stay as they are.
    m.default_js = [("leaflet", LEAFLET_JS_URL)]
    m.default_css = [("leaflet_css", LEAFLET_CSS_URL)]
    root = m.get_root()
    root.title = escape_text(title)
    root.header.add_child(PageStyle(), name="gisrenew_style")
    m.add_child(Runtime(), name="gisrenew_runtime")
    basemap = ctx.basemap
    for index, tile in enumerate(basemap.tiles):
        folium.TileLayer(
            tiles=tile.url,
            attr=tile.attribution,
            name=escape_text(basemap.label[ctx.lang]),
            overlay=index > 0,
            control=index == 0,
            subdomains=tile.subdomains,
            max_zoom=tile.max_zoom,
            max_native_zoom=tile.max_zoom,
            min_zoom=tile.min_zoom,
        ).add_to(m)
    m.gisrenew_layers = ctx.layers
    m.gisrenew_basemap = basemap.name
    return m


def _swatch_html(style: dict) -> str:
    fill = style.get("fillColor", style.get("color", "#999"))
    opacity = style.get("fillOpacity", 0.6) if style.get("fill", True) else 0.0
    border = style.get("color", fill)
    dash = "dashed" if style.get("dashArray") else "solid"
    radius = "50%" if "radius" in style else "2px"
    return (
        f'<span class="gr-swatch" style="background:{_rgba(fill, max(opacity, 0.15) if opacity else 0)};'
        f'border-color:{border};border-style:{dash};border-radius:{radius}"></span>'
    )


def _rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    if len(colour) != 6 or any(c not in "0123456789abcdefABCDEF" for c in colour):
        raise ValueError(f"colours must be #rrggbb, got {colour!r}")
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def _legend_html(ctx: _Context) -> str:
    parts = []
    for title, items in ctx.legend:
        parts.append(f"<h2>{escape_text(title)}</h2>")
        for style, text in items:
            parts.append(
                f'<div class="gr-item">{_swatch_html(style)}<span>{escape_text(text)}</span></div>'
            )
    return "".join(parts)


def _title_html(
    heading: str, big: str, rows: Sequence[tuple[str, str]], notes: Sequence[str]
) -> str:
    """The title box: heading, a big figure, a table of figures, small notes (all escaped here)."""
    html = f"<h1>{escape_text(heading)}</h1>"
    if big:
        html += f'<div class="gr-ratio">{escape_text(big)}</div>'
    if rows:
        html += (
            "<table>"
            + "".join(
                f"<tr><th>{escape_text(k)}</th><td>{escape_text(v)}</td></tr>" for k, v in rows
            )
            + "</table>"
        )
    for note in notes:
        html += f'<div class="gr-sub">{escape_text(note)}</div>'
    return html


def _finish(m: folium.Map, ctx: _Context, title_html: str) -> folium.Map:
    m.add_child(HtmlControl("title", title_html, position="topleft", css_class="gr-title"))
    if ctx.legend:
        m.add_child(
            HtmlControl("legend", _legend_html(ctx), position="bottomright", css_class="gr-legend")
        )
    m.add_child(ScaleBar())
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    if ctx.bounds:
        b = np.vstack(ctx.bounds)
        finite = np.all(np.isfinite(b), axis=1)
        if finite.any():
            b = b[finite]
            south, west = float(b[:, 1].min()), float(b[:, 0].min())
            north, east = float(b[:, 3].max()), float(b[:, 2].max())
            m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    return m


def _context(
    basemap,
    lang,
    source_datum,
    options,
    frames: Sequence[pd.DataFrame | None],
    lang_key: str | None = None,
) -> _Context:
    if source_datum not in ("wgs84", "gcj02"):
        raise ValueError(f"`source_datum` must be 'wgs84' or 'gcj02', got {source_datum!r}")
    lang = resolve_lang(lang)
    if lang is None:
        lang = detect_lang(frames, in_china=frames_in_china(frames))
    basemap = get_basemap(basemap, lang=lang) if not isinstance(basemap, Basemap) else basemap
    return _Context(basemap, lang, source_datum, options or MapOptions())


def frames_in_china(frames: Sequence[pd.DataFrame | None]) -> bool:
    """Whether the first located layer among `frames` lies in China (the GCJ-02 area)."""
    for frame in frames:
        if isinstance(frame, gpd.GeoDataFrame) and len(frame) and frame.crs is not None:
            centre = shapely.box(*frame.total_bounds).centroid
            point = gpd.GeoSeries([centre], crs=frame.crs).to_crs(4326).iloc[0]
            return bool(in_gcj02_area(point.x, point.y))
    return False


def _dissolve_by(gdf: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """One (multi)polygon per value of `column`, for display (service areas per tier)."""
    if len(gdf) == 0:
        return gdf
    keys = gdf[column].to_numpy()
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    union = getattr(shapely, "disjoint_subset_union_all", shapely.union_all)
    rows, out = [], []
    for value in pd.unique(keys):
        rows.append(value)
        out.append(union(geoms[keys == value]))
    return gpd.GeoDataFrame({column: rows}, geometry=out, crs=gdf.crs)


# ---------------------------------------------------------------- coverage map


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
        extra = [
            c
            for c in ("park_area_m2", "tier", "radius_m", "qualifies", "reason")
            if c in table.columns
        ]
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


@dataclass(frozen=True)
class _ParkInfo:
    """What the park layers show of each park (one entry per row of the park table)."""

    frame: gpd.GeoDataFrame
    classes: list[str]
    pocket: np.ndarray
    qualifies: np.ndarray
    area: np.ndarray

    @classmethod
    def of(cls, parks: gpd.GeoDataFrame) -> _ParkInfo:
        classes = (
            _column(parks, "park_class", "G1")
            .astype(object)
            .where(lambda s: s.notna(), "G1")
            .astype(str)
        )
        pocket = _column(parks, "is_pocket_park", False).fillna(False).astype(bool).to_numpy()
        if "qualifies" in parks.columns:
            qualifies = (
                parks["qualifies"]
                .astype(object)
                .where(parks["qualifies"].notna(), True)
                .astype(bool)
                .to_numpy()
            )
        else:
            qualifies = np.ones(len(parks), dtype=bool)
        area = _numbers(parks, "park_area_m2")
        if np.isnan(area).all() and is_metric_projected(parks.crs):
            area = parks.geometry.area.to_numpy()
        return cls(parks, list(classes), pocket, qualifies, area)

    def counts_text(self, lang: str, mask: np.ndarray | None = None) -> list[str]:
        values = self.qualifies if mask is None else self.qualifies[mask]
        if "qualifies" not in self.frame.columns:
            return [""] * len(values)
        return _yes_no(values, lang)


def _park_fields(ctx: _Context, info: _ParkInfo) -> list[tuple[str, list]]:
    t = ctx.t
    parks = info.frame
    fields = [
        (t("name"), _text(_column(parks, "name", ""))),
        (t("id"), _text(parks["park_id"])),
        (t("park_class"), _park_class_name(info.classes, ctx.lang)),
        (t("pocket_park"), [t("pocket_park") if p else "" for p in info.pocket]),
        (t("area"), fmt.each(info.area, fmt.area_compact, lang=ctx.lang, missing="")),
        (t("radius"), fmt.each(_numbers(parks, "radius_m"), fmt.radius, lang=ctx.lang, missing="")),
        (t("counts"), info.counts_text(ctx.lang)),
        (t("reason"), _text(_column(parks, "reason", ""))),
    ]
    if "unique_covered_m2" in parks.columns:
        gain = _numbers(parks, "unique_covered_m2")
        fields.append(
            (t("covered_area"), fmt.each(gain, fmt.area_compact, lang=ctx.lang, missing=""))
        )
    return fields


def _park_legend(ctx: _Context, info: _ParkInfo, colour: str | None) -> list[tuple[dict, str]]:
    keys = list(_PARK_COLOURS)
    used = sorted({c if c in _PARK_COLOURS else "G1" for c in info.classes}, key=keys.index)
    items = [
        (
            {
                "color": colour or _PARK_COLOURS[c],
                "fillColor": colour or _PARK_COLOURS[c],
                "fillOpacity": 0.75,
            },
            _park_class_name([c], ctx.lang)[0],
        )
        for c in used
    ]
    if info.pocket.any():
        items.append(
            (
                {"color": _POCKET_OUTLINE, "fillColor": "#ffffff", "fillOpacity": 0.0, "weight": 3},
                ctx.t("pocket_parks"),
            )
        )
    if not info.qualifies.all():
        items.append(
            (
                {
                    "color": "#555555",
                    "fillColor": "#999999",
                    "fillOpacity": 0.35,
                    "dashArray": "4 3",
                },
                ctx.t("not_counted"),
            )
        )
    return items


def _pocket_park_points(m, ctx: _Context, info: _ParkInfo, key: str) -> None:
    """A point on each pocket park (口袋公园), so the small ones are found at city zoom."""
    t = ctx.t
    pocket = info.pocket
    parks = info.frame
    points = gpd.GeoDataFrame(
        {
            "name": _column(parks, "name", "")[pocket].to_numpy(),
            "park_id": parks["park_id"].to_numpy()[pocket],
        },
        geometry=parks.geometry[pocket].representative_point().to_numpy(),
        crs=parks.crs,
    )
    fields = [
        (t("name"), _text(points["name"])),
        (t("id"), _text(points["park_id"])),
        (t("area"), fmt.each(info.area[pocket], fmt.area_compact, lang=ctx.lang, missing="")),
        (t("counts"), info.counts_text(ctx.lang, pocket)),
        (t("reason"), _text(_column(parks, "reason", "")[pocket])),
    ]
    _add_layer(
        m, ctx, f"{key}_pocket", t("pocket_parks"), points,
        styles=[{"radius": 6, "color": _POCKET_OUTLINE, "weight": 2, "fillColor": "#fff5eb", "fillOpacity": 0.9}],
        fields=fields, tooltip=[0], heading=0,
        kind=f"{t('pocket_park')}：" if ctx.lang == "zh" else f"{t('pocket_park')}: ",
    )  # fmt: skip


def _park_layers(
    m,
    ctx: _Context,
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
    info = _ParkInfo.of(_park_table(parks, table, gains))
    styles, index = _park_styles(colour)
    style_index = np.array(
        [
            index[(c if c in _PARK_COLOURS else "G1", bool(p), bool(q))]
            for c, p, q in zip(info.classes, info.pocket, info.qualifies, strict=True)
        ],
        dtype=int,
    )
    _add_layer(
        m, ctx, key, name, info.frame, styles=styles, style_index=style_index,
        fields=_park_fields(ctx, info), tooltip=[0, 2], heading=0,
        kind=f"{name}：" if ctx.lang == "zh" else f"{name}: ",
    )  # fmt: skip
    ctx.legend.append((name, _park_legend(ctx, info, colour)))
    if info.pocket.any():
        _pocket_park_points(m, ctx, info, key)


def _service_area_layer(
    m, ctx: _Context, areas: gpd.GeoDataFrame, *, key: str, name: str, rules=None, colours=None
) -> None:
    if areas is None or len(areas) == 0:
        return
    t = ctx.t
    areas = areas.assign(
        tier=pd.to_numeric(_column(areas, "tier", 0), errors="coerce").fillna(0).astype(int),
        radius_m=_numbers(areas, "radius_m"),
    )
    radius_by_tier = areas.groupby("tier")["radius_m"].max()
    dissolved = _dissolve_by(areas, "tier").sort_values("tier").reset_index(drop=True)
    colours = colours or _TIER_COLOURS
    tiers = dissolved["tier"].to_numpy()
    describe = []
    for tier in tiers:
        text = ""
        if rules is not None and 0 <= tier < len(rules.tiers):
            text = rules.tiers[tier].describe()
        describe.append(text)
    radius = radius_by_tier.reindex(tiers).to_numpy(dtype=float)
    styles = [
        {
            "color": colours[i % len(colours)],
            "weight": 1.5,
            "fillColor": colours[i % len(colours)],
            "fillOpacity": 0.12,
        }
        for i in range(len(tiers))
    ]
    fields = [
        (
            t("service_area"),
            [
                f"{t('service_area')} {r:g} m" if np.isfinite(r) else t("service_area")
                for r in radius
            ],
        ),
        (t("tier"), describe),
    ]
    _add_layer(
        m,
        ctx,
        key,
        name,
        dissolved,
        styles=styles,
        style_index=np.arange(len(tiers)),
        fields=fields,
        tooltip=[0, 1],
        heading=0,
    )
    ctx.legend.append(
        (
            name,
            [
                (styles[i], describe[i] or (f"{radius[i]:g} m" if np.isfinite(radius[i]) else ""))
                for i in range(len(tiers))
            ],
        )
    )


def _share_class(share: np.ndarray) -> np.ndarray:
    """0 full, 1 ≥ 50%, 2 > 0, 3 none (nan counts as none)."""
    share = np.nan_to_num(np.asarray(share, dtype=float), nan=0.0)
    return np.select([share >= 0.9995, share >= 0.5, share > 0.0005], [0, 1, 2], default=3)


_WALK_STATUS = {
    "zh": {
        "covered": "步行可达",
        "too_far": "超出步行距离",
        "no_park_path": "无路径到达公园",
        "no_street": "附近无道路",
    },
    "en": {
        "covered": "within walking distance",
        "too_far": "too far",
        "no_park_path": "no path to a park",
        "no_street": "no street nearby",
    },
}


def _walk_status(values, lang: str) -> list:
    names = _WALK_STATUS[lang]
    return [names.get(v, v) if isinstance(v, str) else v for v in values]


def _residential_layer(
    m, ctx: _Context, residential: gpd.GeoDataFrame, *, key: str = "residential"
) -> None:
    if residential is None or len(residential) == 0:
        return
    t = ctx.t
    lang = ctx.lang
    share = _numbers(residential, "covered_share")
    keys = list(_SHARE_COLOURS)
    styles = [
        {"color": "#666666", "weight": 0.6, "fillColor": _SHARE_COLOURS[k], "fillOpacity": 0.6}
        for k in keys
    ]
    fields = [
        (t("name"), _text(_column(residential, "name", ""))),
        (t("id"), _text(_column(residential, "residential_id", ""))),
        (t("district"), _text(_column(residential, "district_id", ""))),
        (
            t("area"),
            fmt.each(_numbers(residential, "area_m2"), fmt.area_compact, lang=lang, missing=""),
        ),
        (t("covered_share"), fmt.each(share, fmt.percent_short, missing="")),
        (
            t("covered_area"),
            fmt.each(_numbers(residential, "covered_m2"), fmt.area_compact, lang=lang, missing=""),
        ),
        (
            t("households"),
            fmt.each(_numbers(residential, "households"), fmt.households, missing=""),
        ),
    ]
    if "walk_distance_m" in residential.columns:
        fields.append(
            (
                t("walk_distance"),
                fmt.each(
                    _numbers(residential, "walk_distance_m"), fmt.distance, lang=lang, missing=""
                ),
            )
        )
    if "nearest_park_id" in residential.columns:
        fields.append((t("nearest_park"), _text(residential["nearest_park_id"])))
    if "walk_status" in residential.columns:
        fields.append((t("walk_status"), _walk_status(residential["walk_status"], ctx.lang)))
    has_name = "name" in residential.columns and residential["name"].notna().any()
    _add_layer(
        m,
        ctx,
        key,
        t("residential"),
        residential,
        styles=styles,
        style_index=_share_class(share),
        fields=fields,
        tooltip=[0 if has_name else 1, 4],
        heading=0 if has_name else 1,
    )
    ctx.legend.append((t("covered_share"), [(styles[i], t(k)) for i, k in enumerate(keys)]))


def _lookup(ids, table: pd.DataFrame | None, id_column: str, value_column: str) -> list:
    """Values of `value_column` in `table` for `ids` (missing: empty)."""
    ids = pd.Series(ids, dtype=object).astype(str)
    if table is None or value_column not in table.columns or id_column not in table.columns:
        return [""] * len(ids)
    mapping = pd.Series(
        table[value_column].to_numpy(dtype=object), index=table[id_column].astype(str).to_numpy()
    )
    mapping = mapping[~mapping.index.duplicated()]
    return list(ids.map(mapping).astype(object).where(lambda s: s.notna(), ""))


def _blind_spot_layer(
    m,
    ctx: _Context,
    blind: gpd.GeoDataFrame,
    *,
    key: str,
    name: str,
    colour: str = _BLIND_COLOUR,
    residential: pd.DataFrame | None = None,
    districts: pd.DataFrame | None = None,
) -> None:
    """Blind spots (or closed blind spots), named after their residential polygon."""
    if blind is None or len(blind) == 0:
        return
    t = ctx.t
    style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.55}
    ids = _text(_column(blind, "residential_id", ""))
    names = _lookup(ids, residential, "residential_id", "name")
    district_ids = _text(_column(blind, "district_id", ""))
    district_names = _lookup(district_ids, districts, "district_id", "name")
    fields = [
        (t("name"), [n if n != "" else i for n, i in zip(names, ids, strict=True)]),
        (t("id"), ids),
        (
            t("district"),
            [n if n != "" else i for n, i in zip(district_names, district_ids, strict=True)],
        ),
        (
            t("area"),
            fmt.each(_numbers(blind, "area_m2"), fmt.area_compact, lang=ctx.lang, missing=""),
        ),
        (t("households"), fmt.each(_numbers(blind, "households"), fmt.households, missing="")),
    ]
    _add_layer(
        m,
        ctx,
        key,
        name,
        blind,
        styles=[style],
        fields=fields,
        tooltip=[0, 3],
        heading=0,
        kind=f"{name}：" if ctx.lang == "zh" else f"{name}: ",
    )
    ctx.legend.append((name, [(style, name)]))


def _district_layer(
    m, ctx: _Context, districts: gpd.GeoDataFrame, table: pd.DataFrame | None
) -> None:
    if districts is None or len(districts) == 0:
        return
    t = ctx.t
    lang = ctx.lang
    frame = districts.reset_index(drop=True)
    if "district_id" not in frame.columns:
        frame = frame.assign(district_id=[str(i + 1) for i in range(len(frame))])
    frame = frame.assign(district_id=frame["district_id"].astype(str))
    if table is not None and len(table):
        cols = [
            c
            for c in ("residential_area_m2", "covered_area_m2", "coverage_ratio")
            if c in table.columns
        ]
        info = table[["district_id", *cols]].assign(district_id=table["district_id"].astype(str))
        if "name" in table.columns and "name" not in frame.columns:
            info = info.assign(name=table["name"])
        frame = frame.drop(columns=[c for c in cols if c in frame.columns]).merge(
            info, on="district_id", how="left"
        )
        frame = gpd.GeoDataFrame(frame, geometry=districts.geometry.name, crs=districts.crs)
    ratio = _numbers(frame, "coverage_ratio")
    styles = [
        {"color": "#444444", "weight": 2, "fillColor": c, "fillOpacity": 0.3}
        for _, c, _ in _DISTRICT_BINS
    ] + [{"color": "#444444", "weight": 2, "fillColor": _NO_DATA_COLOUR, "fillOpacity": 0.3}]
    uppers = np.array([u for u, _, _ in _DISTRICT_BINS])
    style_index = np.where(
        np.isfinite(ratio), np.searchsorted(uppers, np.nan_to_num(ratio), side="right"), len(uppers)
    )
    style_index = np.minimum(style_index, len(styles) - 1)
    fields = [
        (t("name"), _text(_column(frame, "name", ""))),
        (t("id"), _text(frame["district_id"])),
        (t("coverage_ratio"), fmt.each(ratio, fmt.percent_short, missing="")),
        (
            t("covered_area"),
            fmt.each(_numbers(frame, "covered_area_m2"), fmt.area_compact, lang=lang, missing=""),
        ),
        (
            t("residential_area"),
            fmt.each(
                _numbers(frame, "residential_area_m2"), fmt.area_compact, lang=lang, missing=""
            ),
        ),
    ]
    has_name = "name" in frame.columns and frame["name"].notna().any()
    _add_layer(
        m,
        ctx,
        "districts",
        t("districts"),
        frame,
        styles=styles,
        style_index=style_index,
        fields=fields,
        tooltip=[0 if has_name else 1, 2],
        heading=0 if has_name else 1,
    )
    items = [(styles[i], text) for i, (_, _, text) in enumerate(_DISTRICT_BINS)]
    if not np.isfinite(ratio).all():
        items.append((styles[-1], t("no_residential")))
    ctx.legend.append((t("districts"), items))


def _boundary_layer(
    m, ctx: _Context, boundary: gpd.GeoDataFrame | None, *, fit: bool = True
) -> None:
    if boundary is None or len(boundary) == 0:
        return
    style = {"color": "#252525", "weight": 2, "dashArray": "8 5", "fill": False}
    _add_layer(
        m, ctx, "boundary", ctx.t("boundary"), boundary, styles=[style], interactive=False, fit=fit
    )
    ctx.legend.append(
        (
            ctx.t("boundary"),
            [
                (
                    {
                        "color": "#252525",
                        "fillColor": "#ffffff",
                        "fillOpacity": 0.0,
                        "dashArray": "8 5",
                    },
                    ctx.t("boundary"),
                )
            ],
        )
    )


def _figure_rows(result: CoverageResult, lang: str) -> list[tuple[str, str]]:
    rows = [
        (label("numerator", lang), fmt.area_compact(result.covered_area_m2, lang, missing="")),
        (
            label("denominator", lang),
            fmt.area_compact(result.residential_area_m2, lang, missing=""),
        ),
    ]
    if result.weight_column is not None and np.isfinite(result.weighted_ratio):
        rows.append((label("weighted", lang), fmt.percent_short(result.weighted_ratio, missing="")))
    return rows


def _method_note(result: CoverageResult, lang: str) -> list[str]:
    method = label("method_network" if result.method == "network" else "method_buffer", lang)
    walk = (getattr(result, "parameters", None) or {}).get("walk_distance_m")
    if result.method == "network" and isinstance(walk, (int, float)) and math.isfinite(walk):
        method += f" ({fmt.distance(walk, lang)})"
    notes = [method]
    rules = getattr(result, "rules", None)
    if rules is not None:
        notes.append(f"{label('rules', lang)}: {rules.describe()}")
    return notes


def coverage_map(
    result: CoverageResult,
    parks: gpd.GeoDataFrame | None = None,
    *,
    districts: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    basemap: str | Basemap | None = "osm",
    lang: str | None = None,
    source_datum: str = "wgs84",
    title: str | None = None,
    options: MapOptions | None = None,
) -> folium.Map:
    """Map of park service-radius coverage (公园绿地服务半径覆盖率).

    Layers (bottom to top): district choropleth with legend, built-up area
    outline, service areas per tier, residential land coloured by covered share,
    blind spots (uncovered residential land), parks by class (pocket parks
    outlined and marked with points; parks that do not count dashed). A title
    box shows the ratio with its numerator and denominator.

    Parameters
    ----------
    result : CoverageResult
        From :func:`gisrenew.coverage.compute_coverage` or
        :func:`gisrenew.network.network_coverage`.
    parks : GeoDataFrame, optional
        The park polygons (``park_id``, ``name``, ``park_class``, ``is_pocket_park``);
        joined to ``result.parks`` on ``park_id``. Without it no park layer is drawn.
    districts : GeoDataFrame, optional
        District polygons; coloured by ``result.districts.coverage_ratio``.
    boundary : GeoDataFrame, optional
        Built-up area (建成区) outline.
    basemap : {"osm", "gaode", "tianditu", "none"} or Basemap or tile URL
        See :func:`gisrenew.webmap.basemaps.get_basemap`.
    lang : {"zh", "en"}, optional
        Label language; default Chinese for Chinese data (CJK names or data in China).
    source_datum : {"wgs84", "gcj02"}
        Datum of the data once in longitude/latitude: declare ``"gcj02"`` for data
        digitised on Gaode maps, so it is not shifted twice.
    title : str, optional
        Heading of the title box.
    options : MapOptions, optional
        Simplification, precision, canvas and hiding thresholds.

    Returns
    -------
    folium.Map
        With ``gisrenew_layers`` (key → name, feature count, shown, canvas).
    """
    frames = [parks, districts, result.residential]
    ctx = _context(basemap, lang, source_datum, options, frames)
    t = ctx.t
    network = result.method == "network"
    heading = title or t("coverage_title_network" if network else "coverage_title")
    m = _new_map(ctx, heading)
    _district_layer(m, ctx, districts, result.districts)
    _boundary_layer(m, ctx, boundary)
    _service_area_layer(
        m,
        ctx,
        result.service_areas,
        key="service_areas",
        name=t("walk_service_areas" if network else "service_areas"),
        rules=result.rules,
    )
    _residential_layer(m, ctx, result.residential)
    _blind_spot_layer(
        m,
        ctx,
        result.blind_spots,
        key="blind_spots",
        name=t("blind_spots"),
        residential=result.residential,
        districts=result.districts,
    )
    if parks is not None:
        _park_layers(m, ctx, parks, result.parks, key="parks", name=t("parks"))
    notes = _method_note(result, ctx.lang)
    if ctx.lang == "zh" and title is None:
        notes.insert(0, f"（{INDICATOR_NAMES['zh_new']}）")
    title_html = _title_html(
        heading, fmt.percent_short(result.ratio, missing=""), _figure_rows(result, ctx.lang), notes
    )
    return _finish(m, ctx, title_html)


# ---------------------------------------------------------------- plans map


_SIGNING_KEYS = {
    "signed": "signing_all",
    "signing": "signing_partial",
    "not_started": "signing_none",
    "no_households": "signing_empty",
    "unknown": "signing_unknown",
}

_PLAN_STYLE = {"color": "#6a3d9a", "weight": 3, "fillColor": "#cab2d6", "fillOpacity": 0.12}


def _status_text(codes, lang: str) -> list[str]:
    extra = {"no_parcels": {"zh": "无涉及地块", "en": "no parcels"}}
    out = []
    for code in codes:
        if code in _SIGNING_KEYS:
            out.append(label(_SIGNING_KEYS[code], lang))
        elif code in extra:
            out.append(extra[code][lang])
        else:
            out.append("" if code is None or code is pd.NA else str(code))
    return out


def _has_text(values: pd.Series) -> bool:
    return bool(values.notna().any() and (values.astype(str) != "").any())


def _plan_rows(
    plans: PlanIndicators, plan_layer: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The rows the plans layer draws and the totals of the title box.

    With parcels: the plan table and its totals, as computed. Without: the plans
    themselves (their count and area; the other figures need parcels).
    """
    if plans.summary is not None:
        return plans.summary, dict(plans.totals or {})
    if plan_layer is None:
        raise ValueError("`plan_layer` is needed to draw plans without parcels (no plan table)")
    rows = plan_layer.rename(columns={"status": "plan_status"})
    return rows, {"plans": len(rows), "area_m2": float(rows.geometry.area.sum())}


def _plan_fields(ctx: _Context, frame: pd.DataFrame) -> list[tuple[str, list]]:
    """The popup of a plan: its row of the plan table (面积, 户数 by kind, 签约)."""
    t = ctx.t

    def households(column: str) -> list[str]:
        return fmt.each(_numbers(frame, column), fmt.households, missing="")

    return [
        (t("name"), _text(_column(frame, "name", ""))),
        (t("id"), _text(frame["plan_id"])),
        (t("plan_type"), _text(_column(frame, "plan_type", ""))),
        (t("status"), _text(_column(frame, "plan_status", ""))),
        (
            t("area"),
            fmt.each(_numbers(frame, "area_m2"), fmt.area_compact, lang=ctx.lang, missing=""),
        ),
        (t("parcel_count"), fmt.each(_numbers(frame, "parcel_count"), fmt.count, missing="")),
        (t("households_residential"), households("households_residential")),
        (t("households_nonresidential"), households("households_nonresidential")),
        (t("households_shops"), households("households_shops")),
        (t("households_total"), households("households_total")),
        (t("households_signed"), households("signed")),
        (t("households_unsigned"), households("unsigned")),
        (
            t("signing_rate"),
            fmt.each(_numbers(frame, "signing_rate"), fmt.percent_short, missing=""),
        ),
        (t("signing_status"), _status_text(_column(frame, "signing_status", None), ctx.lang)),
    ]


def _plan_names(rows: pd.DataFrame, plan_ids: pd.Series) -> list[str]:
    """The names of each parcel's plans (``;``-separated ids), ids where a plan has none."""
    names = pd.Series(_text(_column(rows, "name", "")), index=rows["plan_id"].astype(str))
    names = names.where(names.astype(str) != "", names.index.to_series())
    return [
        "; ".join(str(names.get(pid, pid)) for pid in str(ids).split(";") if pid)
        for ids in plan_ids
    ]


def _parcel_fields(
    ctx: _Context, parcels: gpd.GeoDataFrame, rows: pd.DataFrame, roles: Mapping[str, str]
) -> list[tuple[str, list]]:
    """The popup of an affected parcel: its plans, households by kind, signing status."""
    t = ctx.t

    def households(column: str) -> list[str]:
        return fmt.each(_numbers(parcels, column), fmt.households, missing="")

    return [
        (t("name"), _text(_column(parcels, "parcel_name", ""))),
        (t("id"), _text(parcels["parcel_id"])),
        (t("plan"), _plan_names(rows, _column(parcels, "plan_ids", ""))),
        (
            t("area"),
            fmt.each(
                _numbers(parcels, "parcel_area_m2"), fmt.area_compact, lang=ctx.lang, missing=""
            ),
        ),
        (
            t("parcel_share"),
            fmt.each(_numbers(parcels, "affected_share"), fmt.percent_short, missing=""),
        ),
        (t("households_residential"), households(roles["residential"])),
        (t("households_nonresidential"), households(roles["nonresidential"])),
        (t("households_shops"), households(roles["shops"])),
        (t("households_signed"), households("households_signed")),
        (
            t("signing_rate"),
            fmt.each(_numbers(parcels, "signing_rate"), fmt.percent_short, missing=""),
        ),
        (t("signing_status"), _status_text(_column(parcels, "signing_status", None), ctx.lang)),
    ]


def _affected_parcel_layer(m, ctx: _Context, plans: PlanIndicators, rows: pd.DataFrame) -> None:
    """Affected parcels (whole, once each) coloured by their signing status."""
    parcels = plans.affected_parcels
    if parcels is None or len(parcels) == 0:
        return
    t = ctx.t
    keys = list(_SIGNING_KEYS)
    styles = [
        {
            "color": "#444444",
            "weight": 1,
            "fillColor": _SIGNING_COLOURS[_SIGNING_KEYS[k]],
            "fillOpacity": 0.7,
        }
        for k in keys
    ]
    status = _column(parcels, "signing_status", "unknown")
    style_index = status.map({k: i for i, k in enumerate(keys)}).fillna(keys.index("unknown"))
    heading = 0 if _has_text(_column(parcels, "parcel_name", "")) else 1
    _add_layer(
        m, ctx, "affected_parcels", t("affected_parcels"), parcels, styles=styles,
        style_index=style_index.to_numpy(dtype=int),
        fields=_parcel_fields(ctx, parcels, rows, plans.household_columns),
        tooltip=[heading, 10], heading=heading,
    )  # fmt: skip
    ctx.legend.append(
        (t("affected_parcels"), [(styles[i], t(_SIGNING_KEYS[k])) for i, k in enumerate(keys)])
    )


def _plan_total_rows(
    ctx: _Context, totals: Mapping[str, Any], n_plans: int
) -> list[tuple[str, str]]:
    """The title box: plans, area and (with parcels) households by kind and signing."""
    t = ctx.t
    rows = [
        (t("plans"), fmt.count(totals.get("plans", n_plans))),
        (t("area"), fmt.area_compact(totals.get("area_m2"), ctx.lang, missing="")),
    ]
    if "households_total" in totals:
        rows += [
            (t("parcel_count"), fmt.count(totals["parcel_count"])),
            (t("households_residential"), fmt.households(totals["households_residential"])),
            (t("households_nonresidential"), fmt.households(totals["households_nonresidential"])),
            (t("households_shops"), fmt.households(totals["households_shops"])),
            (t("households_total"), fmt.households(totals["households_total"])),
            (t("households_signed"), fmt.households(totals["signed"], missing="")),
            (t("signing_rate"), fmt.percent_short(totals["signing_rate"], missing="")),
        ]
    return rows


def plans_map(
    plans: PlanIndicators,
    plan_layer: gpd.GeoDataFrame | None = None,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    basemap: str | Basemap | None = "osm",
    lang: str | None = None,
    source_datum: str = "wgs84",
    title: str | None = None,
    options: MapOptions | None = None,
) -> folium.Map:
    """Map of renewal plans (更新地块) and the parcels they affect, by signing progress.

    Draws what the plan indicators hold (:func:`gisrenew.indicators.compute_indicators`):
    plans outlined, with popups holding their row of the plan table (area in m²/亩,
    parcel count, households by kind, signed, signing rate and status); the affected
    parcels coloured by signing status (all signed / signing / none signed / no
    households / unknown), with households by kind in their popups; the totals (each
    parcel counted once) in the title box. Nothing is computed here.

    Parameters
    ----------
    plans : PlanIndicators
        The plan indicators (``indicators.plans``).
    plan_layer : GeoDataFrame, optional
        The plans layer (``plan_id``, ``name``, ``plan_type``, ``status``, ...): drawn
        when the run had no parcels (then `plans` holds no plan table and only the
        plans are drawn).
    boundary, basemap, lang, source_datum, title, options
        As for :func:`coverage_map`.

    Returns
    -------
    folium.Map
        With ``gisrenew_layers`` and ``gisrenew_totals`` (the totals of the title box).
    """
    rows, totals = _plan_rows(plans, plan_layer)
    ctx = _context(basemap, lang, source_datum, options, [rows, plans.affected_parcels])
    t = ctx.t
    heading = title or t("plans_title")
    m = _new_map(ctx, heading)
    _boundary_layer(m, ctx, boundary, fit=False)  # the view fits the plans
    plan_heading = 0 if _has_text(_column(rows, "name", "")) else 1
    _add_layer(
        m, ctx, "plans", t("plans"), rows, styles=[_PLAN_STYLE], fields=_plan_fields(ctx, rows),
        tooltip=[plan_heading, 4], heading=plan_heading,
        kind=f"{t('plan')}：" if ctx.lang == "zh" else f"{t('plan')}: ",
    )  # fmt: skip
    ctx.legend.append((t("plans"), [(_PLAN_STYLE, t("plans"))]))
    _affected_parcel_layer(m, ctx, plans, rows)
    m.gisrenew_totals = totals
    return _finish(m, ctx, _title_html(heading, "", _plan_total_rows(ctx, totals, len(rows)), []))


# ---------------------------------------------------------------- before / after


def _change_service_areas(m, ctx: _Context, change: CoverageChange, new_ids: set[str]) -> None:
    """Service areas before the change, and those of the parks it added."""
    areas = change.after.service_areas
    if areas is None or len(areas) == 0:
        return
    t = ctx.t
    _service_area_layer(
        m, ctx, change.before.service_areas, key="service_areas_before",
        name=t("service_areas_before"), rules=change.before.rules,
    )  # fmt: skip
    is_new = areas["park_id"].astype(str).isin(new_ids).to_numpy()
    _service_area_layer(
        m, ctx, areas[is_new], key="service_areas_new", name=t("new_service_areas"),
        rules=change.after.rules, colours=["#f16913", "#fd8d3c", "#fdae6b"],
    )  # fmt: skip


def _change_blind_spots(m, ctx: _Context, change: CoverageChange) -> None:
    """Blind spots the change closed (green) and those that remain (red)."""
    after = change.after
    t = ctx.t
    _blind_spot_layer(
        m, ctx, change.closed_blind_spots, key="closed_blind_spots", name=t("closed_blind_spots"),
        colour=_CLOSED_COLOUR, residential=after.residential, districts=after.districts,
    )  # fmt: skip
    _blind_spot_layer(
        m, ctx, after.blind_spots, key="blind_spots", name=t("remaining_blind_spots"),
        residential=after.residential, districts=after.districts,
    )  # fmt: skip


def _change_rows(ctx: _Context, change: CoverageChange, n_added: int) -> list[tuple[str, str]]:
    """The title box of a change: ratio change, numerators, denominator, closed land."""
    t = ctx.t
    lang = ctx.lang
    before, after, closed = change.before, change.after, change.closed_blind_spots
    return [
        (
            f"{t('coverage_ratio')} {t('change')}",
            fmt.points(after.ratio - before.ratio, lang, missing=""),
        ),
        (
            f"{t('numerator')} ({t('before')})",
            fmt.area_compact(before.covered_area_m2, lang, missing=""),
        ),
        (
            f"{t('numerator')} ({t('after')})",
            fmt.area_compact(after.covered_area_m2, lang, missing=""),
        ),
        (t("denominator"), fmt.area_compact(after.residential_area_m2, lang, missing="")),
        (t("closed_blind_spots"), fmt.area_compact(closed["area_m2"].sum(), lang, missing="")),
        (
            f"{t('closed_blind_spots')} · {t('households')}",
            fmt.households(closed["households"].sum()),
        ),
        (t("new_parks"), fmt.count(n_added)),
    ]


def before_after_map(
    change: CoverageChange,
    *,
    parks: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    basemap: str | Basemap | None = "osm",
    lang: str | None = None,
    source_datum: str = "wgs84",
    title: str | None = None,
    options: MapOptions | None = None,
) -> folium.Map:
    """Map of a change of parks: new parks, blind spots closed, blind spots left.

    Draws the :class:`~gisrenew.results.CoverageChange` it is handed (built by the
    recompute): service areas of the parks before and of the new parks, residential
    land newly covered (``change.closed_blind_spots``, green), blind spots that remain
    (red), the new parks (``change.added_parks``) with their own gain
    (``change.park_gains``) and, optionally, the other parks. The title box compares
    the ratio, numerator and denominator before and after. Nothing is computed here.

    Parameters
    ----------
    change : CoverageChange
        The change and the straight-line coverage before and after it.
    parks : GeoDataFrame, optional
        The parks layer (before or after the change); the added parks are drawn as
        new parks, the others as existing parks.
    districts, boundary, basemap, lang, source_datum, title, options
        As for :func:`coverage_map`.
    """
    added = change.added_parks
    if added is None:
        added = gpd.GeoDataFrame({"park_id": []}, geometry=[], crs=change.after.residential.crs)
    ctx = _context(basemap, lang, source_datum, options, [added, parks, change.after.residential])
    t = ctx.t
    heading = title or t("before_after_title")
    m = _new_map(ctx, heading)
    _district_layer(m, ctx, districts, change.after.districts)
    _boundary_layer(m, ctx, boundary)
    new_ids = set(added["park_id"].astype(str)) if "park_id" in added.columns else set()
    _change_service_areas(m, ctx, change, new_ids)
    _change_blind_spots(m, ctx, change)
    if parks is not None:
        old = (
            parks[~parks["park_id"].astype(str).isin(new_ids)]
            if "park_id" in parks.columns
            else parks
        )
        _park_layers(m, ctx, old, change.before.parks, key="parks", name=t("parks"))
    if len(added):
        _park_layers(
            m, ctx, added, change.after.parks, key="new_parks", name=t("new_parks"),
            colour=_NEW_PARK_COLOUR, gains=change.park_gains,
        )  # fmt: skip
    ratio_text = (
        f"{fmt.percent_short(change.before.ratio)} → {fmt.percent_short(change.after.ratio)}"
    )
    rows = _change_rows(ctx, change, len(added))
    return _finish(
        m, ctx, _title_html(heading, ratio_text, rows, _method_note(change.after, ctx.lang))
    )


# ---------------------------------------------------------------- saving


def map_html(m: folium.Map, *, offline: bool = False) -> str:
    """The complete HTML page of `m`; `offline` inlines Leaflet so nothing is fetched."""
    html = m.get_root().render()
    if offline:
        html = inline_assets(html)
    return html


def save_map(m: folium.Map, path: str | os.PathLike, *, offline: bool = False) -> Path:
    """Write `m` to `path` (UTF-8), atomically; `offline` makes it self-contained.

    The page is written by :func:`gisrenew.outfiles.write_text` (a temporary file that
    replaces `path` when complete; a full disk is an :class:`~gisrenew.errors.OutputError`).

    An offline page opens with no network at all: Leaflet's JS and CSS (from the
    XStatic-Leaflet package) and their images are inlined. Tiles of an internet
    basemap still need the network: use ``basemap="none"`` or an intranet tile URL.
    """
    html = map_html(m, offline=offline)
    return outfiles.write_text(path, html)
