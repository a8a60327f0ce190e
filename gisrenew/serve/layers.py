"""The city's layers for the what-if page, as GeoJSON in WGS84.

Residential land (coloured by the share of it inside a park's service radius when the
session holds its coverage), the parks (a click removes one in the sketch), the candidate
sites 候选地块 (a click picks one) and the blind spots 服务盲区. The page draws them on
one canvas renderer. GeoJSON is fine for a city the size of the sample (about 3 000
residential pieces); the published maps' packed layers (:mod:`gisrenew.webmap.packed`) are
the way for a city of 100 000.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gisrenew.project import Project

__all__ = ["WGS84", "city_layers", "feature_collection", "session_coverage"]

WGS84 = "EPSG:4326"
_DIGITS = 6  # about 0.1 m: enough for a planner's map, a third of the text


def feature_collection(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    """`frame`'s `columns` and geometry as a GeoJSON FeatureCollection in WGS84.

    Coordinates are rounded to 6 decimals; text stays text (the page shows it with
    ``textContent``, never as HTML).
    """
    if frame is None or len(frame) == 0:
        return {"type": "FeatureCollection", "features": []}
    shown = frame[[c for c in columns if c in frame.columns]].copy()
    geometry = frame.geometry.to_crs(WGS84).to_numpy()
    geometry = shapely.transform(geometry, lambda xy: np.round(xy, _DIGITS))
    keep = ~(shapely.is_empty(geometry) | shapely.is_missing(geometry))
    shown, geometry = shown[keep], geometry[keep]
    records = json.loads(shown.to_json(orient="records", force_ascii=False))
    shapes = [json.loads(text) for text in shapely.to_geojson(geometry)]
    features = [
        {"type": "Feature", "properties": props, "geometry": shape}
        for props, shape in zip(records, shapes, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def session_coverage(session: Any):
    """The straight-line ``CoverageResult`` a session holds, or None when it shows none.

    Read from ``session.indicators.buffer`` (the ``Indicators`` of the session's current
    state) when the session exposes them.
    """
    indicators = getattr(session, "indicators", None)
    return getattr(indicators, "buffer", None)


def city_layers(project: Project, coverage=None) -> dict[str, dict[str, Any]]:
    """The page's layers: ``residential``, ``parks``, ``candidates``, ``blind_spots``.

    Each a FeatureCollection; ``candidates`` is empty when the project has no
    ``candidates`` layer.

    Parameters
    ----------
    project : Project
        Where the parks and residential land are read.
    coverage : CoverageResult, optional
        The current straight-line coverage: residential land gets its ``covered_share``
        and the blind spots are drawn. Without it the land is drawn uncoloured.
    """
    if coverage is not None:
        residential = coverage.residential
        blind = coverage.blind_spots
    else:
        residential = project.read("residential")
        blind = None
    parks = project.read("parks")
    candidates = project.read("candidates") if project.has("candidates") else None
    return {
        "residential": feature_collection(
            residential, ["residential_id", "name", "district_id", "households", "covered_share"]
        ),
        "parks": feature_collection(parks, ["park_id", "name", "park_class"]),
        "candidates": feature_collection(candidates, ["candidate_id", "name", "park_class"]),
        "blind_spots": feature_collection(blind, ["residential_id", "district_id", "area_m2"]),
    }
