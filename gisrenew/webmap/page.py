"""What every gisrenew map page is made of: options, layers, boxes, the frame, saving.

The map builders (:mod:`gisrenew.webmap.maps`) and the layers they draw
(:mod:`gisrenew.webmap.layers`) use these pieces:

* :class:`MapOptions` — size and drawing options;
* :class:`MapContext` — the state of one map while it is built (language, basemap,
  legend, the layers drawn and their extent);
* :func:`add_layer` — a GeoJSON layer with escaped popup values
  (:class:`~gisrenew.webmap.elements.GeoJsonLayer`);
* :func:`finish` — the title box, the legend, the scale, the layer control and the
  frame; **one renderer for every layer of a page** (SVG, or one shared canvas when
  a layer is large), so a click always reaches the feature drawn on top: residential
  land over the service areas, parks over everything;
* :class:`GisrenewMap` — a :class:`folium.Map` that shows itself self-contained in
  Jupyter (no CDN, about a quarter smaller than folium's own notebook output);
* :func:`map_html`, :func:`save_map` — the page, self-contained by default.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import outfiles
from gisrenew.crs import is_metric_projected
from gisrenew.errors import CRSError
from gisrenew.present import labels as words
from gisrenew.webmap import drawcache
from gisrenew.webmap.assets import LEAFLET_CSS_URL, LEAFLET_JS_URL, inline_assets
from gisrenew.webmap.basemaps import Basemap, get_basemap
from gisrenew.webmap.drawcache import DrawnGeometry, forget_drawn_geometries
from gisrenew.webmap.elements import (
    FitView,
    GeoJsonLayer,
    HtmlControl,
    PageStyle,
    Runtime,
    ScaleBar,
)
from gisrenew.webmap.escape import escape_text, escape_texts, script_json
from gisrenew.webmap.gcj02 import in_gcj02_area, shift_geometries
from gisrenew.webmap.labels import detect_lang, label, resolve_lang
from gisrenew.webmap.packed import (
    PackedLayer,
    PackedRuntime,
    is_packable,
    pack_column,
    pack_geometry,
    pack_styles,
)

__all__ = [
    "GisrenewMap",
    "MapContext",
    "MapOptions",
    "Worded",
    "add_layer",
    "column",
    "feature_collection",
    "finish",
    "forget_drawn_geometries",
    "frames_in_china",
    "lookup",
    "make_context",
    "map_html",
    "named",
    "new_map",
    "notebook_html",
    "numbers",
    "per_distinct",
    "save_map",
    "table_key",
    "text_values",
    "title_html",
    "worded",
]

log = logging.getLogger(__name__)

# Metres per degree of latitude, to turn a tolerance in metres into degrees.
_M_PER_DEG = 111_320.0

#: Shapes with at most this many vertices are not simplified (see ``MapOptions.simplify_m``).
SIMPLIFY_MIN_VERTICES = 16


@dataclass(frozen=True)
class MapOptions:
    """Size and drawing options shared by all maps.

    Attributes
    ----------
    simplify_m : float
        Simplification tolerance in metres (topology preserving); 0 disables it.
        ~1 m keeps every shape on screen at street zoom and shrinks city pages ~6×.
        Shapes of at most :data:`SIMPLIFY_MIN_VERTICES` vertices are drawn as they are
        (simplifying them saves next to nothing, and costs 0.4 s for 100 000 parcels).
    precision : int
        Decimal places of longitude/latitude (6 → ~0.1 m).
    canvas_features : int
        A page with a layer of more features is drawn on one canvas instead of SVG.
    packed_features, packed_vertices : int
        A polygon layer of more features, or of more vertices, is packed
        (:mod:`~gisrenew.webmap.packed`): compact arrays in the page, drawn in chunks
        of features by style, each feature still answering with its own popup.
    hide_vertices : int
        Layers (not packed) with more vertices start hidden (turn them on in the layer
        control).
    hide_packed_vertices : int
        Packed layers with more vertices start hidden.
    width, height : str
        Size of the map element (CSS).
    """

    simplify_m: float = 1.0
    precision: int = 6
    canvas_features: int = 2000
    packed_features: int = 5000
    packed_vertices: int = 100_000
    hide_vertices: int = 300_000
    hide_packed_vertices: int = 3_000_000
    width: str = "100%"
    height: str = "100%"


# ---------------------------------------------------------------- values


def text_values(series) -> list:
    """Values of a column as Python objects (NA stays NA; escaped later)."""
    return list(pd.Series(series).astype(object))


def column(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    """Column `name` of `frame`, or `default` for every row."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


def numbers(frame: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    """Column `name` as floats (text that is not a number: NaN)."""
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def per_distinct(values: Sequence, word) -> list:
    """``word(value)`` for each value, computed once per distinct value (and type)."""
    values = _objects(values)
    if len(values) and pd.api.types.infer_dtype(values, skipna=False) == "string":
        codes, distinct = pd.factorize(values)  # text: equal values are the same text
        return np.asarray([word(v) for v in distinct], dtype=object)[codes].tolist()
    cache: dict = {}
    out = []
    for value in values:
        key = (type(value), value)
        try:
            out.append(cache[key])
        except KeyError:
            out.append(cache.setdefault(key, word(value)))
        except TypeError:  # not hashable
            out.append(word(value))
    return out


def lookup(ids, table: pd.DataFrame | None, id_column: str, value_column: str) -> list:
    """Values of `value_column` in `table` for `ids` (missing: empty).

    Ids of text are looked up once per distinct id (100 000 parcels, a few districts).
    """
    if table is None or value_column not in table.columns or id_column not in table.columns:
        return [""] * len(ids)
    ids = _objects(ids)
    if _all_text(ids):
        codes, distinct = pd.factorize(ids)
        found = np.asarray(_lookup(distinct, table, id_column, value_column), dtype=object)
        return found[codes].tolist() if len(codes) else []
    return _lookup(ids, table, id_column, value_column)


def _lookup(ids, table: pd.DataFrame, id_column: str, value_column: str) -> list:
    """:func:`lookup` of each id as text (the first row of an id counts)."""
    ids = pd.Series(ids, dtype=object).astype(str)
    keys, rows = _Keys.of(table, id_column)
    position = keys.get_indexer(ids)
    out = np.full(len(ids), "", dtype=object)
    found = position >= 0
    out[found] = table[value_column].take(rows[position[found]]).to_numpy(dtype=object)
    out[pd.isna(out)] = ""
    return out.tolist()


class _Keys:
    """The ids of the last tables looked up, by their content (the residential land's ids
    are the same in every result of a run: indexed once)."""

    entries: ClassVar[dict[str, tuple[pd.Index, np.ndarray]]] = {}

    @classmethod
    def of(cls, table: pd.DataFrame, id_column: str) -> tuple[pd.Index, np.ndarray]:
        """The distinct ids (as text) of `table` and the rows that hold them first."""
        ids = table[id_column]
        key = drawcache.source_key(ids, ("ids", str(ids.dtype)))
        if key not in cls.entries:
            all_keys = pd.Index(ids.astype(str))
            rows = np.flatnonzero(~all_keys.duplicated())
            cls.entries = dict(list(cls.entries.items())[-5:])
            cls.entries[key] = (all_keys[rows], rows)
        return cls.entries[key]

    @classmethod
    def forget(cls) -> None:
        cls.entries = {}


drawcache.also_forget(_Keys.forget)


def named(names: Sequence, ids: Sequence, lang: str) -> list[str]:
    """``name（id）`` for each pair (the id alone without a name, empty without either).

    Each distinct pair is worded once (a district's name for 100 000 parcels).
    """
    names, ids = _objects(names), _objects(ids)
    if len(names) != len(ids):
        raise ValueError(f"{len(names)} names for {len(ids)} ids")
    if not len(ids):
        return []
    if _all_text(names) and _all_text(ids):  # each distinct pair worded once
        name_codes, name_values = pd.factorize(names)
        id_codes, id_values = pd.factorize(ids)
        width = len(id_values)
        codes, pairs = pd.factorize(name_codes.astype(np.int64) * width + id_codes)
        worded = _named(name_values[pairs // width], id_values[pairs % width], lang)
        return np.asarray(worded, dtype=object)[codes].tolist()
    index: dict[tuple[str, str], int] = {}
    pairs = zip(_texts(names), _texts(ids), strict=True)
    codes = [index.setdefault(pair, len(index)) for pair in pairs]
    worded = _named([n for n, _ in index], [i for _, i in index], lang)
    return [worded[code] for code in codes]


def _objects(values: Sequence) -> np.ndarray:
    """`values` as a one-dimensional object array."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=object)
    out = np.empty(len(values := list(values)), dtype=object)
    out[:] = values
    return out


def _all_text(values: np.ndarray) -> bool:
    """Whether every value is text (then equal values are equal text)."""
    return pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")


def _texts(values: Sequence) -> list[str]:
    """Each value as text, "" when missing (as :func:`named` words them)."""
    return ["" if v is None or _missing(v) else str(v) for v in values]


def _named(names: Sequence, ids: Sequence, lang: str) -> list[str]:
    out = []
    for name, identifier in zip(names, ids, strict=True):
        name = "" if name is None or _missing(name) else str(name)
        identifier = "" if identifier is None or _missing(identifier) else str(identifier)
        if name and identifier and name != identifier:
            out.append(f"{name}（{identifier}）" if lang == "zh" else f"{name} ({identifier})")
        else:
            out.append(name or identifier)
    return out


def _missing(value: Any) -> bool:
    return value is pd.NA or (isinstance(value, float) and math.isnan(value))


# ---------------------------------------------------------------- building


@dataclass
class MapContext:
    """What one map needs while it is being built."""

    basemap: Basemap
    lang: str
    source_datum: str
    options: MapOptions
    bounds: list[np.ndarray] = field(default_factory=list)
    legend: list[tuple[str, list[tuple[dict, str]]]] = field(default_factory=list)
    layers: dict[str, dict] = field(default_factory=dict)
    drawn: list[GeoJsonLayer] = field(default_factory=list)

    def t(self, key: str) -> str:
        """The map label `key` in the map's language."""
        return label(key, self.lang)

    def kind(self, name: str) -> str:
        """A popup heading prefix: ``公园绿地：`` / ``parks: ``."""
        return f"{name}：" if self.lang == "zh" else f"{name}: "


def make_context(
    basemap,
    lang,
    source_datum,
    options,
    frames: Sequence[pd.DataFrame | None],
) -> MapContext:
    """The context of a new map: the language (given, else from the data) and the basemap."""
    if source_datum not in ("wgs84", "gcj02"):
        raise ValueError(f"`source_datum` must be 'wgs84' or 'gcj02', got {source_datum!r}")
    lang = resolve_lang(lang)
    if lang is None:
        lang = detect_lang(frames, in_china=frames_in_china(frames))
    basemap = get_basemap(basemap, lang=lang) if not isinstance(basemap, Basemap) else basemap
    return MapContext(basemap, lang, source_datum, options or MapOptions())


def frames_in_china(frames: Sequence[pd.DataFrame | None]) -> bool:
    """Whether the first located layer among `frames` lies in China (the GCJ-02 area)."""
    for frame in frames:
        if isinstance(frame, gpd.GeoDataFrame) and len(frame) and frame.crs is not None:
            centre = shapely.box(*frame.total_bounds).centroid
            point = gpd.GeoSeries([centre], crs=frame.crs).to_crs(4326).iloc[0]
            return bool(in_gcj02_area(point.x, point.y))
    return False


def _drawn_geometry(gdf: gpd.GeoDataFrame, ctx: MapContext) -> DrawnGeometry:
    """The layer's geometry as the page draws it, drawn once per key (:mod:`.drawcache`).

    The arrays returned may be shared with the next page drawing the same geometries:
    callers do not change them in place.
    """
    if gdf.crs is None:
        raise CRSError(
            "a layer for the web map has no CRS; maps need to know where the data is. "
            "Pass layers read with gisrenew.read_layer or set their CRS."
        )
    source = np.asarray(gdf.geometry.array, dtype=object)
    if len(source) < drawcache.MIN_ROWS:
        return _drawn(*_page_geometries(gdf, ctx), ctx)
    key = drawcache.geometry_key(source, _settings(gdf.crs, ctx))
    found = drawcache.cached(key)
    if found is not None and (found.geoms is not None or _packed(found, ctx)):
        if found.packed is None and _packed(found, ctx):  # drawn before as GeoJSON
            found = replace(found, packed=pack_geometry(found.geoms, ctx.options.precision))
            drawcache.keep_drawn(key, found)
        return found
    drawn = _drawn(*_page_geometries(gdf, ctx), ctx)
    drawcache.keep_drawn(key, drawn)
    return drawn


def _drawn(geoms: np.ndarray, keep: np.ndarray, ctx: MapContext) -> DrawnGeometry:
    """What :func:`add_layer` needs of display geometries `geoms` (rows `keep` drawn)."""
    geoms = geoms[keep]
    vertices = int(shapely.get_num_coordinates(geoms).sum())
    bounds = shapely.total_bounds(geoms) if len(geoms) else np.full(4, np.nan)
    drawn = DrawnGeometry(keep, vertices, is_packable(geoms), bounds, geoms)
    if _packed(drawn, ctx):  # the arrays are all a packed layer needs: no second city kept
        drawn = replace(drawn, packed=pack_geometry(geoms, ctx.options.precision), geoms=None)
    return drawn


@dataclass(frozen=True)
class Worded:
    """A popup column worded only when a page needs its words (:func:`add_layer`).

    A large packed layer keeps each column's encoding by the key of what it is worded
    from (:mod:`.drawcache`): a column whose source did not change (the parcels' names
    and areas after a park is added) is neither worded nor encoded again.

    Attributes
    ----------
    source : pandas.Series or numpy.ndarray
        What the words come from, one value per feature (numbers, ids, text).
    word : callable
        ``word(source)`` → the text of each value (element by element).
    how : tuple
        Everything else the words depend on (formatter, language, a lookup table's
        content): part of the key, so its values must have a faithful ``repr``.
    """

    source: pd.Series | np.ndarray
    word: Callable[[Any], Sequence]
    how: tuple

    def __len__(self) -> int:
        return len(self.source)

    def subset(self, keep: np.ndarray) -> Worded:
        source = self.source[keep]
        if isinstance(source, pd.Series):
            source = source.reset_index(drop=True)
        return replace(self, source=source)

    def words(self) -> np.ndarray:
        return np.asarray(_objects(self.word(self.source)), dtype=object)

    def key(self) -> str:
        return drawcache.source_key(self.source, self.how)


def worded(source, word: Callable[[Any], Sequence], *how: Any) -> Worded:
    """A :class:`Worded` popup column: ``worded(areas, each_area, "area_compact", lang)``."""
    if isinstance(source, pd.Series):
        source = source.reset_index(drop=True)
    return Worded(source, word, tuple(how))


def table_key(table: pd.DataFrame | None, *columns: str) -> str:
    """A digest of `columns` of a small lookup table (part of a :class:`Worded` key)."""
    if table is None:
        return "none"
    values = [text_values(column(table, name, None)) for name in columns]
    return drawcache.source_key(np.asarray([repr(values)], dtype=object), ("table", columns))


def _kept(values, keep: np.ndarray):
    """The values of the rows drawn (a :class:`Worded` column stays unworded)."""
    if isinstance(values, Worded):
        return values.subset(keep)
    return _objects(values)[keep]


def _packed_column(values) -> tuple[str, str]:
    """:func:`pack_column` of `values`, encoded once per content (:mod:`.drawcache`)."""
    if len(values) < drawcache.MIN_ROWS:
        return pack_column(values.words() if isinstance(values, Worded) else values)
    key = values.key() if isinstance(values, Worded) else drawcache.column_key(values)
    found = drawcache.cached_column(key)
    if found is None:
        found = pack_column(values.words() if isinstance(values, Worded) else values)
        drawcache.keep_column(key, found)
    return found


def _packed(drawn: DrawnGeometry, ctx: MapContext) -> bool:
    """Whether a layer drawn as `drawn` is packed (large, and polygons only)."""
    n = int(drawn.keep.sum())
    large = n > ctx.options.packed_features or drawn.vertices > ctx.options.packed_vertices
    return bool(n) and large and drawn.packable


def _page_geometries(gdf: gpd.GeoDataFrame, ctx: MapContext) -> tuple[np.ndarray, np.ndarray]:
    """Display geometries (not rounded yet) and the mask of rows kept (non-empty):
    simplified, to WGS 84, to the basemap's datum.

    Each row is drawn on its own, so the heavy rows (a walking service area of
    thousands of vertices) drawn before are taken from :func:`drawcache.known_rows`.
    """
    source = np.asarray(gdf.geometry.array, dtype=object)
    heavy = shapely.get_num_coordinates(source) > drawcache.HEAVY_VERTICES
    if not heavy.any():
        geoms = _display(source, gdf.crs, ctx)
    else:
        settings = _settings(gdf.crs, ctx)
        digests, known = drawcache.known_rows(settings, source[heavy])
        new = shapely.is_missing(known)
        todo = ~heavy
        todo[heavy] = new
        geoms = np.empty(len(source), dtype=object)
        geoms[todo] = _display(source[todo], gdf.crs, ctx)
        geoms[heavy & ~todo] = known[~new]
        drawn = geoms[heavy][new]
        drawcache.keep_rows(settings, list(np.asarray(digests, dtype=object)[new]), drawn)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return geoms, keep


def _settings(crs, ctx: MapContext) -> tuple:
    """What shapes a layer's drawing besides its geometry (part of its cache key)."""
    opts = ctx.options
    return (crs.to_wkt(), opts.simplify_m, opts.precision, SIMPLIFY_MIN_VERTICES,
            ctx.source_datum, ctx.basemap.datum)  # fmt: skip


def _display(geoms: np.ndarray, crs, ctx: MapContext) -> np.ndarray:
    """`geoms` (in `crs`) simplified, to WGS 84, to the basemap's datum, row by row."""
    if not len(geoms):
        return geoms
    tolerance = ctx.options.simplify_m
    if is_metric_projected(crs):
        geoms = _simplified(geoms, tolerance)
        geoms = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(4326).array, dtype=object)
    else:
        geoms = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(4326).array, dtype=object)
        geoms = _simplified(geoms, tolerance / _M_PER_DEG)
    target = ctx.basemap.datum
    if ctx.source_datum != target:
        geoms = shift_geometries(geoms, f"{ctx.source_datum}_to_{target}")
    return geoms


def _simplified(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """`geoms` simplified (topology preserving), those of more than 16 vertices only."""
    if tolerance <= 0:
        return geoms
    large = shapely.get_num_coordinates(geoms) > SIMPLIFY_MIN_VERTICES
    if not large.any():
        return geoms
    out = geoms.copy()
    out[large] = shapely.simplify(geoms[large], tolerance, preserve_topology=True)
    return out


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


def _shown(
    ctx: MapContext, key: str, show: bool | None, vertices: int, n: int, packed: bool
) -> bool:
    """Whether a layer starts shown: not when it has too many vertices to draw quickly."""
    if show is None or show:
        limit = ctx.options.hide_packed_vertices if packed else ctx.options.hide_vertices
        show = vertices <= limit
    if not show:
        log.info("map layer %s (%d features, %d vertices) starts hidden", key, n, vertices)
    return show


def add_layer(
    m: folium.Map,
    ctx: MapContext,
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
    """Add `gdf` as a layer (drawn above the layers added before); return its size.

    A polygon layer of more than ``options.packed_features`` features is packed
    (:class:`~gisrenew.webmap.packed.PackedLayer`), any other is GeoJSON
    (:class:`~gisrenew.webmap.elements.GeoJsonLayer`); both escape every value.
    """
    if gdf is None or len(gdf) == 0:
        return 0
    drawn = _drawn_geometry(gdf, ctx)
    keep = drawn.keep
    style_index = np.zeros(len(gdf), dtype=int) if style_index is None else style_index
    style_index = np.asarray(style_index, dtype=int)[keep]
    columns = [_kept(values, keep) for _, values in fields]
    n = int(keep.sum())
    if n == 0:
        return 0
    vertices = drawn.vertices
    packed = _packed(drawn, ctx)
    canvas = packed or n > ctx.options.canvas_features
    show = _shown(ctx, key, show, vertices, n, packed)
    drawing = {
        "styles": styles, "labels": [lbl for lbl, _ in fields], "tooltip": list(tooltip),
        "heading": heading, "kind": kind, "canvas": canvas, "show": show,
        "interactive": interactive, "feature_count": n,
    }  # fmt: skip
    if packed:
        counts, geometry = drawn.packed
        parts = [part for values in columns for part in _packed_column(values)]
        m.add_child(PackedRuntime(), name="gisrenew_packed_runtime")  # once per page
        counts = {**counts, "columns": len(columns)}
        binary = pack_styles(style_index)
        layer = PackedLayer(key, name, counts, geometry, binary, parts, **drawing)
    else:
        columns = [c.words() if isinstance(c, Worded) else c for c in columns]
        rows = list(zip(*map(escape_texts, columns), strict=True)) if columns else [()] * n
        digits = ctx.options.precision
        rounded = shapely.transform(drawn.geoms, lambda coords: np.round(coords, digits))
        collection = feature_collection(shapely.to_geojson(rounded), style_index, rows)
        layer = GeoJsonLayer(key, name, collection, **drawing)
    m.add_child(layer)
    ctx.drawn.append(layer)
    if fit:
        ctx.bounds.append(drawn.bounds)
    ctx.layers[key] = {
        "name": name, "features": n, "vertices": vertices, "show": show, "canvas": canvas,
        "packed": packed,
    }  # fmt: skip
    return n


class GisrenewMap(folium.Map):
    """A :class:`folium.Map` that shows itself self-contained in Jupyter.

    folium's notebook output links Leaflet from a CDN (a blank map without the
    internet) and escapes every quote of the page; a gisrenew map inlines Leaflet and
    escapes only what its ``srcdoc`` attribute needs (:func:`notebook_html`).
    """

    def _repr_html_(self, **kwargs) -> str:
        return notebook_html(self)


def new_map(ctx: MapContext, title: str) -> GisrenewMap:
    """An empty map with the basemap's tiles, gisrenew's style and runtime, titled `title`."""
    m = GisrenewMap(
        location=None,
        tiles=None,
        width=ctx.options.width,
        height=ctx.options.height,
        control_scale=False,
        prefer_canvas=False,
        zoom_start=12,
        zoom_snap=0.25,  # frames fit the free part of the map closely
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


# ---------------------------------------------------------------- boxes


def _swatch_html(style: dict) -> str:
    fill = style.get("fillColor", style.get("color", "#999"))
    opacity = style.get("fillOpacity", 0.6) if style.get("fill", True) else 0.0
    border = style.get("color", fill)
    dash = "dashed" if style.get("dashArray") else "solid"
    radius = "50%" if "radius" in style else "2px"
    background = _rgba(fill, max(opacity, 0.15) if opacity else 0)
    return (
        f'<span class="gr-swatch" style="background:{background};'
        f'border-color:{border};border-style:{dash};border-radius:{radius}"></span>'
    )


def _rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    if len(colour) != 6 or any(c not in "0123456789abcdefABCDEF" for c in colour):
        raise ValueError(f"colours must be #rrggbb, got {colour!r}")
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def _legend_html(ctx: MapContext) -> str:
    parts = []
    for title, items in ctx.legend:
        parts.append(f"<h2>{escape_text(title)}</h2>")
        for style, text in items:
            parts.append(
                f'<div class="gr-item">{_swatch_html(style)}<span>{escape_text(text)}</span></div>'
            )
    return "".join(parts)


def title_html(
    heading: str, big: str, rows: Sequence[tuple[str, str]], notes: Sequence[str]
) -> str:
    """The title box: heading, a big figure, a table of figures, small notes (all escaped here)."""
    html = f"<h1>{escape_text(heading)}</h1>"
    if big:
        html += f'<div class="gr-ratio">{escape_text(big)}</div>'
    if rows:
        cells = "".join(
            f"<tr><th>{escape_text(k)}</th><td>{escape_text(v)}</td></tr>" for k, v in rows
        )
        html += f"<table>{cells}</table>"
    for note in notes:
        html += f'<div class="gr-sub">{escape_text(note)}</div>'
    return html


def _basemap_note(ctx: MapContext) -> str:
    """A visible note when the basemap comes from the internet (the data still draws offline)."""
    if not ctx.basemap.needs_internet:
        return ""
    text = words.label("site.online_basemap", ctx.lang).format(name=ctx.basemap.label[ctx.lang])
    return f'<div class="gr-note">{escape_text(text)}</div>'


def _one_renderer(ctx: MapContext) -> None:
    """Draw every layer with one renderer: a click then reaches the feature drawn on top.

    With SVG and canvas layers on one page, the element added last (an ``<svg>`` or
    the ``<canvas>``) takes the clicks above the other, whatever is drawn there — a
    service area stole the clicks of the residential land above it. One shared canvas
    (when any layer is large) or SVG everywhere keeps the drawing order for clicks.
    """
    canvas = any(layer.canvas for layer in ctx.drawn)
    for layer in ctx.drawn:
        layer.canvas = canvas
        ctx.layers[layer.key]["canvas"] = canvas


def _frame(ctx: MapContext) -> list | None:
    """``[[south, west], [north, east]]`` of the layers that set the view, or None."""
    if not ctx.bounds:
        return None
    b = np.vstack(ctx.bounds)
    b = b[np.all(np.isfinite(b), axis=1)]
    if not len(b):
        return None
    return [
        [float(b[:, 1].min()), float(b[:, 0].min())],
        [float(b[:, 3].max()), float(b[:, 2].max())],
    ]


def finish(m: folium.Map, ctx: MapContext, html: str) -> folium.Map:
    """Add the title box (`html`), the legend, the scale, the layer control and the frame."""
    _one_renderer(ctx)
    m.add_child(
        HtmlControl("title", html + _basemap_note(ctx), position="topleft", css_class="gr-title")
    )
    if ctx.legend:
        m.add_child(
            HtmlControl("legend", _legend_html(ctx), position="bottomright", css_class="gr-legend")
        )
    m.add_child(ScaleBar())
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    frame = _frame(ctx)
    if frame is not None:
        m.add_child(FitView(frame))
    return m


# ---------------------------------------------------------------- pages


def map_html(m: folium.Map, *, offline: bool = False) -> str:
    """The complete HTML page of `m`; `offline` inlines Leaflet so nothing is fetched."""
    html = m.get_root().render()
    if offline:
        html = inline_assets(html)
    return html


def notebook_html(m: folium.Map, *, height: str = "600px") -> str:
    """`m` for a Jupyter notebook: the self-contained page in an ``<iframe srcdoc>``.

    The page goes into a single-quoted attribute, so only ``&`` and ``'`` are escaped
    (folium's own output escapes every ``"`` of the GeoJSON as ``&quot;``).
    """
    page = map_html(m, offline=True).replace("&", "&amp;").replace("'", "&#39;")
    return (
        f'<div style="width:100%;height:{escape_text(height)}">'
        f"<iframe srcdoc='{page}' style=\"width:100%;height:100%;border:none\" "
        'title="gisrenew map (Leaflet)" allowfullscreen></iframe></div>'
    )


def save_map(m: folium.Map, path: str | os.PathLike, *, offline: bool = True) -> Path:
    """Write `m` to `path` (UTF-8), atomically; self-contained unless ``offline=False``.

    The page is written by :func:`gisrenew.outfiles.write_text` (a temporary file that
    replaces `path` when complete; a full disk is an :class:`~gisrenew.errors.OutputError`).

    A self-contained page opens with no network at all: Leaflet's JS and CSS (from the
    XStatic-Leaflet package) and their images are inlined. ``offline=False`` links
    Leaflet from a CDN instead (a smaller page that needs the internet). Tiles of an
    internet basemap always need the network: the page says so, and still draws the
    data without them.
    """
    html = map_html(m, offline=offline)
    return outfiles.write_text(path, html)
