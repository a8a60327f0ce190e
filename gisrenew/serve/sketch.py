"""The shape of a what-if sketch, checked before the session sees it.

A request's sketch is checked here for what can be checked without the project — its
structure, geometry types, vertex counts, finite WGS84 coordinates, text lengths — so a
hostile or broken request costs nothing more than reading it. The session checks the rest
(extent of the project, valid polygons, park and candidate ids) and raises the same
:class:`~gisrenew.errors.SketchError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gisrenew.errors import SketchError

__all__ = ["MAX_FEATURES", "MAX_IDS", "MAX_TEXT", "MAX_VERTICES", "check_sketch"]

MAX_FEATURES = 50  #: drawn parks in one sketch
MAX_VERTICES = 5000  #: vertices of one drawn park (all its rings)
MAX_IDS = 1000  #: park ids removed, candidate ids picked
MAX_TEXT = 200  #: characters of a name or a park class

_KEYS = {"add", "remove", "candidates"}
_TYPES = {"Polygon": 1, "MultiPolygon": 2}  # nesting depth above the rings


def check_sketch(sketch: Any) -> dict[str, Any]:
    """Return `sketch` when its shape is a sketch; raise :class:`SketchError` otherwise.

    Parameters
    ----------
    sketch : object
        The decoded JSON body: ``{"add": [Feature, ...], "remove": [park_id, ...],
        "candidates": [candidate_id, ...]}``, each key optional, geometry in WGS84 lon/lat.

    Raises
    ------
    SketchError
        Naming the feature and what is wrong with it, in words for a planner.
    """
    if not isinstance(sketch, Mapping):
        raise SketchError("a sketch is a JSON object with 'add', 'remove' and 'candidates'")
    unknown = sorted(set(sketch) - _KEYS)
    if unknown:
        raise SketchError(
            f"unknown key(s) {unknown} in the sketch; use 'add', 'remove', 'candidates'"
        )
    features = _list(sketch.get("add", []), "add", MAX_FEATURES)
    for number, feature in enumerate(features, start=1):
        _check_feature(feature, number)
    for key in ("remove", "candidates"):
        for value in _list(sketch.get(key, []), key, MAX_IDS):
            if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
                raise SketchError(f"'{key}' holds ids as text (1 to {MAX_TEXT} characters)")
    return dict(sketch)


def _list(value: Any, key: str, limit: int) -> list:
    if not isinstance(value, list):
        raise SketchError(f"'{key}' must be a list")
    if len(value) > limit:
        raise SketchError(f"'{key}' holds {len(value)} items; at most {limit} per sketch")
    return value


def _check_feature(feature: Any, number: int) -> None:
    where = f"drawn park {number}"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise SketchError(f"{where} is not a GeoJSON Feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise SketchError(f"{where}: 'properties' must be an object")
    for key in ("name", "park_class"):
        value = properties.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            raise SketchError(f"{where}: '{key}' must be text of at most {MAX_TEXT} characters")
    geometry = feature.get("geometry")
    kind = geometry.get("type") if isinstance(geometry, Mapping) else None
    if kind not in _TYPES:
        raise SketchError(
            f"{where} is a {kind or 'missing geometry'}; draw a polygon (Polygon or MultiPolygon)"
        )
    rings = _rings(geometry.get("coordinates"), _TYPES[kind], where)
    vertices = sum(len(ring) for ring in rings)
    if vertices > MAX_VERTICES:
        raise SketchError(f"{where} has {vertices} vertices; at most {MAX_VERTICES} per park")
    for ring in rings:
        _check_ring(ring, where)


def _rings(coordinates: Any, depth: int, where: str) -> list:
    """The rings of a Polygon (`depth` 1) or MultiPolygon (2), without reading their points."""
    parts = [coordinates] if depth == 1 else coordinates
    if not isinstance(parts, list) or not parts:
        raise SketchError(f"{where} has no coordinates")
    rings = []
    for part in parts:
        if not isinstance(part, list) or not part:
            raise SketchError(f"{where}: a polygon needs at least one ring of coordinates")
        rings.extend(part)
    return rings


def _check_ring(ring: Any, where: str) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise SketchError(f"{where}: a ring needs at least 4 points (closed: last = first)")
    if len(ring) > MAX_VERTICES:
        raise SketchError(f"{where} has more than {MAX_VERTICES} vertices")
    try:
        points = np.asarray(ring)
    except (TypeError, ValueError):  # ragged: points of different lengths
        points = None
    if points is None or points.ndim != 2 or points.shape[1] != 2 or points.dtype.kind not in "iuf":
        raise SketchError(f"{where}: each point is [longitude, latitude], two numbers")
    points = points.astype(float)
    if not np.isfinite(points).all():
        raise SketchError(f"{where}: a coordinate is not a finite number (NaN or infinity)")
    lon, lat = points[:, 0], points[:, 1]
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise SketchError(f"{where}: coordinates must be WGS84 longitude/latitude in degrees")
