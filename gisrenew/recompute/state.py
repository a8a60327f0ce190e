"""What the project's stored results were computed from, and the figures they still give.

Every recompute stores its results (``coverage_*``, ``network_*``, ...) and, as the
last write of its transaction, a *results state*
(:meth:`gisrenew.project.Transaction.record_results_state`): the run, the settings that
shaped the figures (as one SHA-256), the layers the run had, and the city figures of
each method. The next recompute takes its before figures from there instead of
computing them again — the walk along streets above all — when the state is
**current**:

* the store says so: no write of any kind reached the GeoPackage since the state was
  recorded (SQLite's file change counter, see
  :meth:`~gisrenew.project.Transaction.results_state`), or, on PostGIS, no session but
  the recording run's wrote a table of the schema (the schema's change counter, raised
  by a statement trigger on every table; the tables' OIDs and columns and the triggers
  as recorded — see :mod:`gisrenew.store.postgis`) — so the input layers are those the
  results were computed from, whoever might have edited them;
* the settings digest is the same: rule set (its tiers and codes, also from a
  user's TOML), weight, residential codes, the ``[coverage]``, ``[network]`` and
  ``[plans]`` tables, the column mappings, the working CRS and the gisrenew version;
* the run has the same layers.

Otherwise (the first recompute of a project, a layer edited in QGIS, a changed
setting) the before figures are computed, and the result layers are written whole.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import __version__, jsonable
from gisrenew.geometry import geometry_array
from gisrenew.indicators import Indicators
from gisrenew.inputs import ProjectInputs
from gisrenew.results import CoverageResult

__all__ = [
    "STATE_FORMAT",
    "results_state",
    "reusable_service_areas",
    "settings_digest",
    "state_check",
    "stored_figures",
]

#: Version of the state document (a state of another format is never current).
STATE_FORMAT = 1

#: Settings tables whose values shape the stored results.
_RESULT_SECTIONS = ("coverage", "network", "plans")


def settings_digest(inputs: ProjectInputs) -> str:
    """SHA-256 of everything besides the layers that shapes a run's results."""
    config = inputs.config
    document = {
        "gisrenew": __version__,
        "rules": inputs.rules.to_dict(),
        "weight": inputs.weight,
        "residential_codes": list(inputs.residential_codes),
        "sections": {name: config.sections.get(name, {}) for name in _RESULT_SECTIONS},
        "columns": config.to_dict().get("columns", {}),
        "working_crs": str(config.working_crs),
    }
    return hashlib.sha256(jsonable.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()


def _figures(result: CoverageResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "covered_area_m2": result.covered_area_m2,
        "residential_area_m2": result.residential_area_m2,
        "weight_column": result.weight_column,
        "weight_total": result.weight_total,
        "weight_covered": result.weight_covered,
        "parameters": result.parameters,
    }


def results_state(inputs: ProjectInputs, after: Indicators, run_id: int) -> dict[str, Any]:
    """The state to record with the results of run `run_id` (JSON-ready)."""
    return jsonable.plain(
        {
            "format": STATE_FORMAT,
            "run_id": int(run_id),
            "settings": settings_digest(inputs),
            "layers": sorted(inputs.layers),
            "figures": {"buffer": _figures(after.buffer), "network": _figures(after.network)},
        }
    )


def _number(value) -> float:
    return math.nan if value is None else float(value)


def _figures_only(method: str, figures: dict[str, Any], inputs: ProjectInputs) -> CoverageResult:
    """A result holding a method's city figures only (its tables are empty)."""
    crs = inputs.layer("residential").crs
    empty = gpd.GeoDataFrame({"residential_id": []}, geometry=[], crs=crs)
    return CoverageResult(
        method=method, rules=inputs.rules,
        covered_area_m2=float(figures["covered_area_m2"]),
        residential_area_m2=float(figures["residential_area_m2"]),
        residential=empty, districts=pd.DataFrame(), parks=pd.DataFrame(),
        service_areas=empty, blind_spots=empty, weight_column=figures.get("weight_column"),
        weight_total=_number(figures.get("weight_total")),
        weight_covered=_number(figures.get("weight_covered")),
        parameters=dict(figures.get("parameters") or {}),
    )  # fmt: skip


def state_check(state: dict[str, Any] | None, inputs: ProjectInputs) -> dict[str, Any]:
    """Whether the stored results are those of this run's inputs, and why (not).

    Parameters
    ----------
    state : dict or None
        :meth:`gisrenew.project.Transaction.results_state` (None: none recorded, or the
        project was written since).
    inputs : ProjectInputs
        The run's inputs before the change.

    Returns
    -------
    dict
        ``current`` (bool); ``reason``: ``current``, ``none_current`` (no state, or the
        store was written since it was recorded), ``settings`` or ``layers``; the
        ``run_id`` that recorded the state.
    """
    if state is None or state.get("format") != STATE_FORMAT:
        return {"current": False, "reason": "none_current", "run_id": None}
    run_id = state.get("run_id")
    reason = "current"
    if state.get("settings") != settings_digest(inputs):
        reason = "settings"
    elif state.get("layers") != sorted(inputs.layers):
        reason = "layers"
    return {"current": reason == "current", "reason": reason, "run_id": run_id}


def stored_figures(
    state: dict[str, Any] | None, inputs: ProjectInputs, method: str
) -> CoverageResult | None:
    """The city figures of `method` the stored results give (None when they cannot be used).

    The result holds the figures and parameters only (its tables are empty); None when
    the state is not current (:func:`state_check`) or has no figures of `method`.
    """
    if not state_check(state, inputs)["current"]:
        return None
    figures = (state.get("figures") or {}).get(method)
    return None if not figures else _figures_only(method, figures, inputs)


def reusable_service_areas(
    stored: gpd.GeoDataFrame | None,
    state: dict[str, Any] | None,
    inputs: ProjectInputs,
    changed: gpd.GeoDataFrame,
) -> dict[str, Any]:
    """The stored walking service-area polygons of the parks a change of parks leaves alone.

    A park's own walking service area (``service_areas="park"``) depends on its geometry,
    its walk limit, the streets, the settings — and on its access points, which are its
    own but for entrances without a ``park_id``: those go to the nearest park within
    ``snap_distance_m``, so a park added or removed near one can take it from (or give it
    to) another park. Inserting another park's access points into the graph only splits
    edges, which leaves every other park's reach the same.

    Parameters
    ----------
    stored : GeoDataFrame or None
        The store's ``network_service_areas`` layer (``park_id``, geometry).
    state : dict or None
        The store's results state (:meth:`gisrenew.project.Transaction.results_state`).
    inputs : ProjectInputs
        The run's inputs before the change.
    changed : GeoDataFrame
        Every park the change adds or removes (``park_id``, geometry).

    Returns
    -------
    dict of str to polygon
        By ``park_id``, for every stored park but the changed ones and the parks within
        ``snap_distance_m`` of an entrance without ``park_id`` that lies within
        ``snap_distance_m`` of a changed park. Empty when the stored results are not
        current (:func:`state_check`) or hold other polygons than each park's own.
    """
    figures = stored_figures(state, inputs, "network")
    if stored is None or figures is None or "park_id" not in stored.columns:
        return {}
    parameters = figures.parameters
    ids = stored["park_id"].astype(str)
    if parameters.get("service_areas") != "park" or ids.duplicated().any():
        return {}
    snap_m = float(parameters.get("snap_distance_m", 0.0))
    skip = set(changed["park_id"].astype(str))
    skip |= _entrance_neighbours(inputs, geometry_array(changed), snap_m)
    keep = ~ids.isin(skip).to_numpy()
    return dict(zip(ids[keep], _plain_polygons(geometry_array(stored)[keep]), strict=True))


def _entrance_neighbours(inputs: ProjectInputs, changed: np.ndarray, snap_m: float) -> set[str]:
    """Parks that may gain or lose an entrance without ``park_id`` when `changed` parks change."""
    entrances = inputs.layer("entrances")
    if entrances is None or len(entrances) == 0 or len(changed) == 0:
        return set()
    blank = entrances["park_id"].fillna("").astype(str).str.strip().to_numpy() == ""
    points = geometry_array(entrances)[blank]
    near, _ = shapely.STRtree(changed).query(points, predicate="dwithin", distance=snap_m)
    if len(near) == 0:
        return set()
    parks = inputs.layer("parks")
    _, found = shapely.STRtree(geometry_array(parks)).query(
        points[np.unique(near)], predicate="dwithin", distance=snap_m
    )
    return set(parks["park_id"].astype(str).to_numpy()[np.unique(found)])


def _plain_polygons(geoms: np.ndarray) -> np.ndarray:
    """Geometries as the walk builds them: a one-part multipolygon (as the store promotes
    mixed layers) is its polygon, a missing or empty one an empty polygon."""
    blank = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    geoms = np.where(blank, shapely.Polygon(), geoms)
    single = (shapely.get_type_id(geoms) == 6) & (shapely.get_num_geometries(geoms) == 1)
    geoms[single] = shapely.get_geometry(geoms[single], 0)
    return geoms
