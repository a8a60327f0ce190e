"""The life-circle analysis 社区生活圈分析: which homes reach which services.

:func:`life_circles` answers "what share of homes reach every required service within
its circle, and where are the gaps?" for every facility type of a rule set at once, by
straight line or by walking along streets — the park coverage's two methods, on the park
coverage's residential land (the same denominator, :func:`gisrenew.coverage.residential_land`).

Complete life circle (完整生活圈)
---------------------------------
GB 50180-2018 nests the circles: a 15-minute residential area 十五分钟生活圈居住区 is
made of 10-minute ones, which are made of 5-minute ones, and the facilities of every
level serve the residents of the larger area together (the larger circle includes the
smaller ones' services). So a piece of residential land is in a **complete m-minute life
circle** when it reaches every *required* type of the m-minute circle **and of every
smaller circle**, each within its own radius or walking distance: a complete 15-minute
circle needs the 15-, 10- and 5-minute services. Types marked ``required = false``
(宜配建) are reported but never make a circle incomplete.

* Straight line: the land of a piece in a complete circle is the part reached by all of
  those types at once (the intersection of their reach, not the smallest reached area);
  ``complete_{m}min`` says that no required type is missing (each reaches some of it).
* Walk: a piece counts whole when the walk from its representative point reaches every
  one of those types within its walking distance.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew.coverage import residential_land
from gisrenew.crs import ensure_metric
from gisrenew.errors import InputError
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed
from gisrenew.lifecircles.result import LifeCircleResult, summary_tables
from gisrenew.lifecircles.rules import LifeCircleRules, facility_types, get_life_circle_rules
from gisrenew.lifecircles.straight import REACH_SLACK_M, complete_area, straight_reach

__all__ = ["METHODS", "life_circles"]

log = logging.getLogger(__name__)

#: Methods: straight line from the facility's boundary, walk along streets.
METHODS = ("buffer", "network")


def life_circles(
    residential: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    rules: str | LifeCircleRules | None = None,
    method: str = "buffer",
    roads=None,
    entrances: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    residential_codes: Sequence[str] | None = None,
    snap_distance_m: float = 30.0,
    connector_limit_m: float = 200.0,
    progress: bool = False,
) -> LifeCircleResult:
    """Life circles 社区生活圈: per piece of residential land, type and circle (see module).

    Parameters
    ----------
    residential : geopandas.GeoDataFrame
        Residential land (as for the park coverage).
    facilities : geopandas.GeoDataFrame
        Facility points and/or polygons with ``facility_type`` (layer ``facilities``).
        Rows whose type no rule-set entry names are left out with a warning
        (``result.problems``).
    rules : str, path or LifeCircleRules, optional
        Life-circle rule set (default preset ``gb50180-2018``).
    method : {"buffer", "network"}
        ``buffer``: straight line within each type's radius, from the facility's boundary;
        ``network``: walk along `roads` within each type's walking distance.
    roads : GeoDataFrame or WalkGraph
        Streets (or their walk graph, to reuse one): required by ``network``.
    entrances : geopandas.GeoDataFrame, optional
        Entrance points whose ``park_id`` is a facility's ``facility_id`` (network only).
    boundary, districts, weight, residential_codes
        As for :func:`gisrenew.coverage.compute_coverage`.
    snap_distance_m, connector_limit_m : float
        As for :func:`gisrenew.network.network_coverage`.
    progress : bool
        Accepted for the orchestrator's uniform call; the steps log their progress.

    Returns
    -------
    LifeCircleResult

    Raises
    ------
    InputError
        Unknown method, network without roads, bad distances.
    AnalysisError
        No residential land.
    """
    _check_options(method, roads, snap_distance_m, connector_limit_m)
    rules = get_life_circle_rules(rules)
    res = conformed(residential, "residential", name="residential")
    ensure_metric(res, "residential")
    fac = conformed(facilities, "facilities", name="facilities", crs=res.crs)
    land = residential_land(
        res,
        boundary=conformed(boundary, "boundary", name="boundary", crs=res.crs),
        districts=(districts := conformed(districts, "districts", name="districts", crs=res.crs)),
        weight=weight,
        residential_codes=residential_codes,
    )
    keys, problems = facility_types(fac, rules, source=str(fac.attrs.get("source", "")))
    fac = _known_facilities(fac, keys, rules)
    type_no = pd.Index(rules.types).get_indexer(fac["facility_type"])
    limits = np.array([f.radius_m for f in rules.facilities], dtype=float)
    pieces = geometry_array(land)
    area = land["area_m2"].to_numpy(dtype=float)
    if method == "buffer":
        found = _straight(pieces, area, fac, type_no, limits, rules)
    else:
        found = _walk(land, pieces, fac, type_no, limits, roads, entrances,
                      snap_distance_m, connector_limit_m)  # fmt: skip
    return _result(land, fac, rules, method, found, districts, problems, {
        "weight": weight,
        "limits_m": dict(zip(rules.types, limits.tolist(), strict=True)),
        "snap_distance_m": snap_distance_m if method == "network" else None,
        "connector_limit_m": connector_limit_m if method == "network" else None,
        "complete_rule": "every required type of the circle and of each smaller circle, "
        "each within its own distance",
        **found.pop("parameters", {}),
    })  # fmt: skip


def _check_options(method, roads, snap_distance_m, connector_limit_m) -> None:
    if method not in METHODS:
        raise InputError(f"`method` was {method!r} but is expected to be one of {METHODS}")
    if method == "network" and roads is None:
        raise InputError(
            "the walking method needs the streets: give `roads` (the roads layer 路网)"
        )
    for name, value in (("snap_distance_m", snap_distance_m),
                        ("connector_limit_m", connector_limit_m)):  # fmt: skip
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"`{name}` must be a non-negative number of metres, got {value}")


def _known_facilities(fac: gpd.GeoDataFrame, keys: np.ndarray, rules) -> gpd.GeoDataFrame:
    """Facilities of known type, the canonical key in ``facility_type``, the value as written."""
    keep = keys != ""
    out = fac.loc[keep].copy()
    out["type_value"] = out["facility_type"].astype(str)
    out["facility_type"] = keys[keep]
    entry = {f.type: f for f in rules.facilities}
    out["label_zh"] = [entry[k].label_zh for k in keys[keep]]
    out["circle_min"] = [entry[k].circle for k in keys[keep]]
    out["required"] = [entry[k].required for k in keys[keep]]
    out = out.reset_index(drop=True)
    out.attrs = dict(fac.attrs)
    if len(out) == 0:
        log.warning("no facility of a type the life-circle rule set %s knows", rules.name)
    return out


def _straight(pieces, area, fac, type_no, limits, rules) -> dict:
    overlays = straight_reach(pieces, area, geometry_array(fac), type_no, limits)
    distance = np.column_stack([o.distance for o in overlays])
    return {
        "distance": distance,
        "nearest": np.column_stack([o.nearest for o in overlays]),
        "reached": distance <= limits[None, :] + REACH_SLACK_M,
        "reached_m2": np.column_stack([o.reached_m2 for o in overlays]),
        "gaps": [o.gap for o in overlays],
        "complete_m2": np.column_stack(
            [complete_area(area, overlays, _required(rules, c.minutes)) for c in rules.circles]
        ),
    }


def _required(rules: LifeCircleRules, minutes: int) -> list[int]:
    """Type numbers of the required types of a complete `minutes` circle (cumulative)."""
    wanted = set(rules.required_types(minutes, cumulative=True))
    return [k for k, key in enumerate(rules.types) if key in wanted]


def _walk(land, pieces, fac, type_no, limits, roads, entrances, snap_m, connector_m) -> dict:
    # the walk engine imports scipy's sparse graph code: only walking runs pay for it
    from gisrenew.lifecircles.walk import facility_walks, walk_graph

    if not isinstance(roads, gpd.GeoDataFrame):
        graph = walk_graph(roads)
    else:
        graph = walk_graph(conformed(roads, "roads", name="roads", crs=land.crs))
    entrances = conformed(entrances, "entrances", name="entrances", crs=land.crs)
    walks = facility_walks(
        graph, fac, type_no, limits, shapely.point_on_surface(pieces),
        entrances=entrances, snap_distance_m=snap_m, connector_limit_m=connector_m,
    )  # fmt: skip
    area = land["area_m2"].to_numpy(dtype=float)
    return {
        "distance": walks.distance,
        "nearest": walks.nearest,
        "reached": walks.reached,
        "reached_m2": np.where(walks.reached, area[:, None], 0.0),
        "gaps": [np.where(walks.reached[:, k], None, pieces) for k in range(len(limits))],
        "complete_m2": None,  # from `reached` in _result (whole pieces)
        "connector_m": walks.connector_m,
        "access": walks.access_kind,
        "parameters": {"graph_nodes": walks.graph_nodes, "graph_edges": walks.graph_edges},
    }


def _result(land, fac, rules, method, found, districts, problems, parameters) -> LifeCircleResult:
    """Every table of the result from the per-piece matrices of one method."""
    area = land["area_m2"].to_numpy(dtype=float)
    reached = found["reached"]
    if found["complete_m2"] is None:  # walk: a piece counts whole
        found["complete_m2"] = np.column_stack(
            [np.where(reached[:, _required(rules, c.minutes)].all(axis=1), area, 0.0)
             for c in rules.circles]
        )  # fmt: skip
    land = _circle_columns(land, rules, reached, found)
    type_keys = pd.DataFrame(
        {
            "facility_type": list(rules.types),
            "label_zh": [f.label_zh for f in rules.facilities],
            "label_en": [f.label_en for f in rules.facilities],
            "circle_min": [f.circle for f in rules.facilities],
            "required": [f.required for f in rules.facilities],
            "limit_m": [f.radius_m for f in rules.facilities],
            "unconfirmed": [", ".join(f.unconfirmed) for f in rules.facilities],
        }
    )
    circle_keys = pd.DataFrame(
        {
            "circle_min": [c.minutes for c in rules.circles],
            "distance_m": [c.distance_m for c in rules.circles],
            "required_types": [len(_required(rules, c.minutes)) for c in rules.circles],
        }
    )
    counts = np.bincount(
        pd.Index(rules.types).get_indexer(fac["facility_type"]), minlength=len(rules.types)
    )
    types, circles, d_types, d_circles = summary_tables(
        land, found["reached_m2"], found["complete_m2"], type_keys, circle_keys, counts, districts
    )
    if "access" in found:
        fac = fac.assign(access=found["access"])
    return LifeCircleResult(
        rules=rules,
        method=method,
        land=land,
        reach=_reach_table(land, rules, fac, found),
        types=types,
        circles=circles,
        district_types=d_types,
        district_circles=d_circles,
        gaps=_gap_layer(land, rules, found["gaps"]),
        facilities=fac,
        problems=tuple(problems),
        parameters=parameters,
    )


def _circle_columns(land, rules, reached: np.ndarray, found: dict) -> gpd.GeoDataFrame:
    """Per circle: required types, types reached, missing keys, complete (and its m²)."""
    land = land.copy()
    for j, circle in enumerate(rules.circles):
        m, wanted = circle.minutes, _required(rules, circle.minutes)
        hit = reached[:, wanted]
        land[f"required_types_{m}min"] = len(wanted)
        land[f"types_reached_{m}min"] = hit.sum(axis=1)
        land[f"missing_{m}min"] = _missing_keys(hit, [rules.types[k] for k in wanted], land.index)
        land[f"complete_{m}min"] = hit.all(axis=1)
        land[f"complete_{m}min_m2"] = found["complete_m2"][:, j]
    if "connector_m" in found:
        land["connector_m"] = found["connector_m"]
    return land


def _missing_keys(hit: np.ndarray, keys: list[str], index: pd.Index) -> pd.Series:
    """Comma-separated keys of the types not reached, per piece (one string per pattern)."""
    bit = np.arange(hit.shape[1], dtype=np.int64)
    if len(bit) <= 62:  # each pattern of reached types as one integer: a fast unique
        codes, inverse = np.unique(hit.astype(np.int64) @ (1 << bit), return_inverse=True)
        patterns = (codes[:, None] >> bit) & 1 == 1
    else:
        patterns, inverse = np.unique(hit, axis=0, return_inverse=True)
    words = [",".join(k for k, ok in zip(keys, row, strict=True) if not ok) for row in patterns]
    return pd.Series(_take(np.asarray(words, dtype=object), inverse.ravel()), index=index)


def _take(values, positions: np.ndarray):
    """`values` (as a DataFrame column would hold them) at `positions`: one conversion only."""
    return pd.Series(values).take(positions).array


def _reach_table(land, rules, fac, found: dict) -> pd.DataFrame:
    """One row per piece and type (pieces × types), in piece order."""
    n, k = found["distance"].shape
    area = land["area_m2"].to_numpy(dtype=float)
    weight = land["weight"].to_numpy(dtype=float)
    density = np.divide(weight, area, out=np.full(n, np.nan), where=area > 0)
    ids = np.append(fac["facility_id"].astype(str).to_numpy(dtype=object), "")
    nearest = found["nearest"].ravel()
    entry = rules.facilities
    piece = np.repeat(np.arange(n), k)
    kind = np.tile(np.arange(k), n)
    return pd.DataFrame(
        {
            "piece": piece,
            "residential_id": _take(land["residential_id"].to_numpy(dtype=object), piece),
            "district_id": _take(land["district_id"].to_numpy(dtype=object), piece),
            "facility_type": _take(np.asarray(rules.types, dtype=object), kind),
            "circle_min": np.array([f.circle for f in entry])[kind],
            "required": np.array([f.required for f in entry])[kind],
            "limit_m": np.array([f.radius_m for f in entry])[kind],
            "distance_m": found["distance"].ravel(),
            "nearest_facility_id": _take(ids, np.where(nearest >= 0, nearest, -1) % len(ids)),
            "reached": found["reached"].ravel(),
            "reached_m2": found["reached_m2"].ravel(),
            "reached_weight": (found["reached_m2"] * density[:, None]).ravel(),
        }
    )


def _gap_layer(land, rules, gaps: list[np.ndarray]) -> gpd.GeoDataFrame:
    """Residential land not reached, one row per (type, piece) with a gap, type by type."""
    n, entry = len(land), rules.facilities
    if not entry:
        return gpd.GeoDataFrame(pd.DataFrame({"geometry": []}), geometry="geometry", crs=land.crs)
    geoms = np.concatenate([np.asarray(g, dtype=object) for g in gaps])
    at = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    area = shapely.area(geoms[at])
    at, area = at[area > 0], area[area > 0]
    kind, rows = np.divmod(at, max(n, 1))
    table = pd.DataFrame(
        {
            "facility_type": _take(np.asarray(rules.types, dtype=object), kind),
            "circle_min": np.array([f.circle for f in entry], dtype=np.int64)[kind],
            "required": np.array([f.required for f in entry], dtype=bool)[kind],
            "residential_id": _take(land["residential_id"].to_numpy(dtype=object), rows),
            "district_id": _take(land["district_id"].to_numpy(dtype=object), rows),
            "area_m2": area,
            "geometry": geoms[at],
        }
    )
    return gpd.GeoDataFrame(table, geometry="geometry", crs=land.crs)
