"""The city's layers for the what-if page, in WGS84: packed arrays and GeoJSON.

Residential land 居住用地 (coloured by the share of it inside a park's service radius when
the session holds its coverage, in the coverage map's classes), the parks (a click removes
one in the sketch), the candidate sites 候选地块 (a click picks one) and the blind spots
服务盲区. A city's residential land (100 000 pieces: ~40 MB of GeoJSON, one Leaflet
object per feature) is sent as a *packed* layer, the compact arrays of the published maps
(:mod:`gisrenew.webmap.packed`: quantized, deflated, base64), and drawn in the page by the
same reader (``/static/webmap/packed.js``) as a few canvas polygons per style class. The
blind spots are packed too when there are many; the parks and candidates stay GeoJSON.

A packed layer in ``/api/layers`` is a JSON object::

    {"type": "Packed", "count": n, "classes": [...], "styles": [...], "def": {...},
     "geometry": "...", "binary": "...", "columns": ["...", ...]}

``def``, ``styles``, ``geometry``, ``binary`` and ``columns`` are the arguments of the
page's ``window.gisrenew.packed(key, def, styles, geometry, binary, columns)``;
``classes`` names each style (``share_full`` ... ``share_none``, ``land``, ``blind``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gisrenew.project import Project
from gisrenew.webmap.layers import BLIND_COLOUR, share_class, share_styles
from gisrenew.webmap.packed import is_packable, pack_column, pack_geometry, pack_styles

__all__ = [
    "PACKED_FEATURES",
    "WGS84",
    "city_layers",
    "feature_collection",
    "packed_layer",
    "session_coverage",
]

WGS84 = "EPSG:4326"
_DIGITS = 6  # about 0.1 m: enough for a planner's map, a third of the text
#: Blind spots are packed when there are more of them (residential land always is).
PACKED_FEATURES = 2000
_RESIDENTIAL = ["residential_id", "name", "district_id", "households", "covered_share"]
_LAND = {"color": "#757575", "weight": 0.5, "fillColor": "#bdbdbd", "fillOpacity": 0.4}
_BLIND = {"color": BLIND_COLOUR, "weight": 0.5, "fillColor": BLIND_COLOUR, "fillOpacity": 0.55}


def _wgs84(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """`frame`'s geometry in WGS84 rounded to 6 decimals, and which pieces are not empty."""
    geometry = frame.geometry.to_crs(WGS84).to_numpy()
    geometry = shapely.transform(geometry, lambda xy: np.round(xy, _DIGITS))
    keep = ~(shapely.is_empty(geometry) | shapely.is_missing(geometry))
    return geometry, keep


def feature_collection(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    """`frame`'s `columns` and geometry as a GeoJSON FeatureCollection in WGS84.

    Coordinates are rounded to 6 decimals; text stays text (the page shows it with
    ``textContent``, never as HTML).
    """
    if frame is None or len(frame) == 0:
        return {"type": "FeatureCollection", "features": []}
    shown = frame[[c for c in columns if c in frame.columns]].copy()
    geometry, keep = _wgs84(frame)
    shown, geometry = shown[keep], geometry[keep]
    records = json.loads(shown.to_json(orient="records", force_ascii=False))
    shapes = [json.loads(text) for text in shapely.to_geojson(geometry)]
    features = [
        {"type": "Feature", "properties": props, "geometry": shape}
        for props, shape in zip(records, shapes, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def packed_layer(
    frame: gpd.GeoDataFrame,
    tooltip: Sequence[str],
    *,
    classes: Sequence[str],
    styles: Sequence[dict],
    style_index: np.ndarray,
) -> dict[str, Any] | None:
    """`frame` as a packed layer (see the module docs), or None when it cannot be packed.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Polygons in any CRS; empty pieces are left out.
    tooltip : sequence of str
        The columns shown (joined by " · ") when the pointer is over a piece; a missing
        column is shown as nothing. Values are escaped for HTML here
        (:func:`~gisrenew.webmap.escape.escape_column`).
    classes, styles : sequence
        The name and Leaflet style of each style class.
    style_index : numpy.ndarray of int
        The class of each row of `frame`.

    Returns
    -------
    dict or None
        None when `frame` holds no polygon or anything but (multi)polygons.
    """
    if frame is None or len(frame) == 0:
        return None
    geometry, keep = _wgs84(frame)
    if not is_packable(geometry[keep]):
        return None
    counts, packed = pack_geometry(geometry[keep], _DIGITS)
    columns = [
        frame[name].to_numpy(dtype=object)[keep] if name in frame.columns else [""] * keep.sum()
        for name in tooltip
    ]
    definition = {
        "labels": [],  # no popup: a tooltip names the piece
        "tooltip": list(range(len(columns))),
        "heading": None,
        "kind": "",
        "counts": {**counts, "columns": len(columns)},
        "canvas": True,
        "interactive": True,
    }
    return {
        "type": "Packed",
        "count": int(keep.sum()),
        "classes": list(classes),
        "styles": [{**style, "pmIgnore": True} for style in styles],  # not for drawing tools
        "def": definition,
        "geometry": packed,
        "binary": pack_styles(np.asarray(style_index)[keep]),
        "columns": [part for values in columns for part in pack_column(values)],
    }


def session_coverage(session: Any):
    """The straight-line ``CoverageResult`` a session holds, or None when it shows none.

    Read from ``session.indicators.buffer`` (the ``Indicators`` of the session's current
    state) when the session exposes them.
    """
    indicators = getattr(session, "indicators", None)
    return getattr(indicators, "buffer", None)


def residential_layer(residential: gpd.GeoDataFrame, covered: bool) -> dict[str, Any]:
    """Residential land packed in the coverage map's covered-share classes (or uncoloured
    ``land`` without coverage); GeoJSON when it cannot be packed."""
    if covered and "covered_share" in residential.columns:
        classes, styles = share_styles()
        index = share_class(residential["covered_share"].to_numpy(dtype=float, na_value=np.nan))
    else:
        classes, styles = ["land"], [_LAND]
        index = np.zeros(len(residential), dtype=np.int32)
    packed = packed_layer(
        residential, ["name", "residential_id"], classes=classes, styles=styles, style_index=index
    )
    return packed or feature_collection(residential, _RESIDENTIAL)


def blind_spot_layer(blind: gpd.GeoDataFrame | None, packed_features: int) -> dict[str, Any]:
    """The blind spots: GeoJSON, packed when there are more than `packed_features`."""
    columns = ["residential_id", "district_id", "area_m2"]
    if blind is not None and len(blind) > packed_features:
        index = np.zeros(len(blind), dtype=np.int32)
        packed = packed_layer(
            blind, columns[:2], classes=["blind"], styles=[_BLIND], style_index=index
        )
        if packed is not None:
            packed["def"]["interactive"] = False  # drawn only: clicks go to the land below
            return packed
    return feature_collection(blind, columns)


def city_layers(
    project: Project, coverage=None, *, packed_features: int = PACKED_FEATURES
) -> dict[str, dict[str, Any]]:
    """The page's layers: ``residential`` (packed), ``parks``, ``candidates``, ``blind_spots``.

    ``candidates`` is empty when the project has no ``candidates`` layer; the parks and
    candidates are FeatureCollections.

    Parameters
    ----------
    project : Project
        Where the parks and residential land are read.
    coverage : CoverageResult, optional
        The current straight-line coverage: residential land is coloured by its covered
        share and the blind spots are drawn. Without it the land is drawn uncoloured.
    packed_features : int
        Blind spots are packed when there are more of them than this.
    """
    if coverage is not None:
        residential, blind = coverage.residential, coverage.blind_spots
    else:
        residential, blind = project.read("residential"), None
    parks = project.read("parks")
    candidates = project.read("candidates") if project.has("candidates") else None
    return {
        "residential": residential_layer(residential, coverage is not None),
        "parks": feature_collection(parks, ["park_id", "name", "park_class"]),
        "candidates": feature_collection(candidates, ["candidate_id", "name", "park_class"]),
        "blind_spots": blind_spot_layer(blind, packed_features),
    }
