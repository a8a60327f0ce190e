"""Network coverage: the coverage ratio by walking distance along streets (步行网络覆盖率).

:func:`network_coverage` runs the steps of :mod:`gisrenew.network` — walk graph,
park access points, one multi-source pass of walking distances, per-polygon walks —
and hands the per-piece result to :func:`gisrenew.coverage.summarize_coverage`, so
both methods share the denominator and every table.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from gisrenew.coverage import (
    BUFFER_QUAD_SEGS,
    PIECE_RESULT_COLUMNS,
    park_table,
    residential_land,
    summarize_coverage,
)
from gisrenew.crs import align, ensure_metric, same_crs
from gisrenew.errors import CRSError, InputError
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed
from gisrenew.network.access import ParkAccess, park_access
from gisrenew.network.areas import reached_pieces, service_polygons
from gisrenew.network.graph import WalkGraph, walk_graph_from_roads
from gisrenew.network.walk import (
    LIMIT_SLACK_M,
    PointSnap,
    Reach,
    snap_to_access_graph,
    virtual_sources,
    walk_from_points,
    walk_reach,
)
from gisrenew.results import CoverageResult
from gisrenew.rules import RuleSet, get_rules
from gisrenew.settings import DEFAULT_WALK_MINUTES, DEFAULT_WALK_SPEED_KMH

__all__ = [
    "DEFAULT_WALK_MINUTES",
    "DEFAULT_WALK_SPEED_KMH",
    "compare_methods",
    "network_coverage",
    "park_service_areas",
    "updated_network_coverage",
    "walk_distance_from_minutes",
]

log = logging.getLogger(__name__)


SERVICE_AREA_MODES = ("park", "nearest", "merged", "none")


def walk_distance_from_minutes(
    minutes: float = DEFAULT_WALK_MINUTES, speed_kmh: float = DEFAULT_WALK_SPEED_KMH
) -> float:
    """Walking distance in metres for `minutes` at `speed_kmh`.

    Examples
    --------
    >>> walk_distance_from_minutes()          # the ten-minute walk at 4.8 km/h
    800.0
    >>> walk_distance_from_minutes(5, 4.5)
    375.0
    """
    if minutes <= 0 or speed_kmh <= 0:
        raise InputError(
            f"walk minutes and speed must be positive, got {minutes} min at {speed_kmh} km/h"
        )
    return float(minutes) * float(speed_kmh) * 1000.0 / 60.0


#: Keys of the ``[network]`` table in gisrenew.toml.
SETTINGS_KEYS = (
    "walk_distance_m",
    "walk_minutes",
    "walk_speed_kmh",
    "snap_distance_m",
    "connector_limit_m",
    "lateral_m",
)


def options_from_settings(settings) -> dict:
    """Keyword arguments of :func:`network_coverage` from a ``[network]`` settings table.

    ``walk_distance_m`` wins; otherwise ``walk_minutes`` (with ``walk_speed_kmh``, default
    4.8 km/h) gives the distance; with neither, each park walks its tier radius. Unknown
    keys are an error, so a typo never silently falls back to a default.

    Examples
    --------
    >>> options_from_settings({"walk_minutes": 10})
    {'walk_distance_m': 800.0}
    >>> options_from_settings({})
    {}
    """
    unknown = set(settings) - set(SETTINGS_KEYS)
    if unknown:
        raise InputError(
            f"unknown [network] setting(s) {sorted(unknown)}; known: {', '.join(SETTINGS_KEYS)}"
        )
    options: dict = {}
    if "walk_distance_m" in settings:
        options["walk_distance_m"] = float(settings["walk_distance_m"])
    elif "walk_minutes" in settings:
        options["walk_distance_m"] = walk_distance_from_minutes(
            float(settings["walk_minutes"]),
            float(settings.get("walk_speed_kmh", DEFAULT_WALK_SPEED_KMH)),
        )
    for key in ("snap_distance_m", "connector_limit_m", "lateral_m"):
        if key in settings:
            options[key] = float(settings[key])
    return options


@contextmanager
def _stage(name: str, timings: dict):
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    log.info("network coverage: %s took %.2f s", name, timings[name])


def park_service_areas(
    access: ParkAccess,
    limits,
    *,
    lateral_m: float = 50.0,
    progress: bool = False,
) -> np.ndarray:
    """Each park's own walking service area (overlapping), one polygon per park.

    One limited Dijkstra pass per park with access points (from all of that park's
    starts at once), its reached edge pieces buffered by `lateral_m`.

    Parameters
    ----------
    access : ParkAccess
    limits : array of float
        Walk limit in metres per park number (nan / inf / ≤ 0: no area).
    lateral_m : float, default 50
        Buffer distance around the reached streets.
    progress : bool, default False
        Show a tqdm progress bar.

    Returns
    -------
    numpy.ndarray of shapely geometries
        One (possibly empty) polygon per park number.
    """
    graph = access.graph
    n_parks = len(access.park_ids)
    limits = np.asarray(limits, dtype=float)
    csr, starts = virtual_sources(graph, access.source_node, access.source_offset)
    order = np.argsort(access.source_park, kind="stable")
    park_sorted = access.source_park[order]
    bounds = np.searchsorted(park_sorted, np.arange(n_parks + 1))
    zone_order = np.argsort(access.zone_park, kind="stable")
    zone_bounds = np.searchsorted(access.zone_park[zone_order], np.arange(n_parks + 1))
    indptr, incident = graph.node_edges
    todo = [
        k
        for k in range(n_parks)
        if bounds[k + 1] > bounds[k] and np.isfinite(limits[k]) and limits[k] > 0
    ]
    if progress:
        from tqdm.auto import tqdm  # ~45 ms to import: only when a bar is asked for

        todo = tqdm(todo, desc="walk service areas", unit="park")
    zero_park = np.zeros(graph.n_nodes, dtype=np.int64)
    starts_all, ends_all, groups, roads = [], [], [], []
    for k in todo:
        rows = order[bounds[k] : bounds[k + 1]]
        dist = dijkstra(csr, directed=True, indices=starts[rows], min_only=True, limit=limits[k])
        dist = dist[: graph.n_nodes]
        reached = np.flatnonzero(np.isfinite(dist))
        counts = indptr[reached + 1] - indptr[reached]
        first = np.repeat(indptr[reached] - np.cumsum(counts) + counts, counts)
        edges = np.unique(incident[first + np.arange(int(counts.sum()))])
        zone = access.zone_edge[zone_order[zone_bounds[k] : zone_bounds[k + 1]]]
        start, end, _, edge = reached_pieces(
            graph, dist, zero_park, limits[k], edges=edges, whole=zone, split=False
        )
        starts_all.append(start)
        ends_all.append(end)
        groups.append(np.full(len(start), k))
        roads.append(graph.edge_road[edge])
    if not groups:
        return service_polygons(np.empty((0, 2)), np.empty((0, 2)), np.empty(0), n_parks)
    return service_polygons(
        np.concatenate(starts_all),
        np.concatenate(ends_all),
        np.concatenate(groups),
        n_parks,
        lateral_m=lateral_m,
        strokes=np.concatenate(roads),
    )


def network_coverage(
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | WalkGraph,
    *,
    rules=None,
    entrances: gpd.GeoDataFrame | None = None,
    walk_distance_m: float | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    snap_distance_m: float = 30.0,
    connector_limit_m: float = 200.0,
    progress: bool = False,
    barriers=None,
    lateral_m: float = 50.0,
    service_areas: str = "park",
    residential_codes=None,
    land: gpd.GeoDataFrame | None = None,
    known_areas: Mapping[str, shapely.Geometry] | None = None,
) -> CoverageResult:
    """Park coverage by walking distance along the street network (步行网络覆盖率).

    A residential polygon is covered when the walk from its representative point
    (``point_on_surface``) — straight to its nearest ground-level street, then along
    streets — reaches some qualifying park within that park's walk limit. Coverage =
    area (and weight) of covered residential land / all residential land inside the
    built-up area, per district and in total, with the same denominator as the buffer
    method (:func:`gisrenew.coverage.residential_land`). A polygon counts whole or not at
    all (its representative point decides).

    Parameters
    ----------
    parks, residential : geopandas.GeoDataFrame
        As for :func:`gisrenew.coverage.compute_coverage`.
    roads : geopandas.GeoDataFrame or WalkGraph
        Street centre lines (``roads`` layer) or a prebuilt walk graph (reuse one when
        computing several variants on the same streets).
    rules : str, Path or RuleSet, optional
        Which parks qualify and their tier radius (default ``tijian-2021``).
    entrances : geopandas.GeoDataFrame, optional
        Park entrances; parks without any get frontage access (see
        :mod:`gisrenew.network.access`).
    walk_distance_m : float, optional
        **Walk limit.** ``None`` (default): each qualifying park's tier radius is its walk
        limit (a 300 m tier park serves a 300 m walk, a 500 m park a 500 m walk). A
        number replaces the radius of *every* qualifying park (e.g. 800 for ten minutes at
        4.8 km/h, see :func:`walk_distance_from_minutes`); which parks qualify still
        follows the rule set.
    boundary, districts, weight
        As for the buffer method.
    snap_distance_m : float, default 30
        Streets this close to a park's boundary are its frontage.
    connector_limit_m : float, default 200
        Residential polygons whose representative point is farther than this from every
        walkable ground-level street are unreachable (``walk_status = "no_street"``):
        reported, never covered.
    progress : bool, default False
        Progress bar for the per-park service areas.
    barriers : optional
        Lines (or polygons) cutting ground-level streets, see
        :func:`walk_graph_from_roads`. Ignored when `roads` is a WalkGraph.
    lateral_m : float, default 50
        Buffer of reached streets in the service-area polygons (maps only).
    service_areas : {"park", "nearest", "merged", "none"}, default "park"
        ``park``: each qualifying park's own walking service area (overlapping, like the
        buffer method's); ``nearest``: the network split among parks, each piece to the
        park serving it with the most slack; ``merged``: one polygon of everything
        reached; ``none``: skip the polygons (fastest).
    residential_codes : sequence of str, optional
        Land-use code prefixes that count as residential (default: the rule set's).
    land : geopandas.GeoDataFrame, optional
        The residential land 居住用地 of these inputs as
        :func:`gisrenew.coverage.residential_land` gives it — e.g. the ``residential``
        table of the straight-line result on the same layers and settings (its result
        columns are dropped) — so that the denominator is not built again. The caller
        vouches that it is that land; default: built here.
    known_areas : mapping of park_id to polygon, optional
        Service-area polygons (``service_areas="park"``) already built for these parks on
        this graph with these settings — e.g. the stored ones of parks a change of parks
        did not touch. Only the serving parks not in it are walked for their polygon;
        other modes ignore it.

    Returns
    -------
    CoverageResult
        ``method="network"``. ``residential`` gains ``walk_distance_m`` (to the nearest
        qualifying park, any tier; nan when unreachable), ``nearest_park_id``,
        ``serving_park_id`` / ``serving_walk_m`` (a park whose own limit the walk meets,
        with the most slack), ``connector_m``, ``walk_status`` (``covered``,
        ``too_far``, ``no_park_path``, ``no_street``) and ``covered``.
        ``service_areas`` has one row per qualifying park (or one row when merged);
        ``parks`` gains ``access`` and ``access_points``; ``parameters`` records every
        setting and the counts of unreachable polygons.
    """
    _check_options(service_areas, walk_distance_m, snap_distance_m, connector_limit_m, lateral_m)
    setup = walk_setup(
        parks, residential, roads, rules=rules, entrances=entrances,
        walk_distance_m=walk_distance_m, boundary=boundary, districts=districts,
        snap_distance_m=snap_distance_m, connector_limit_m=connector_limit_m, barriers=barriers,
    )  # fmt: skip
    access, limits, serving = setup.access, setup.limits, setup.serving

    # ---- residential land (the denominator, shared with the buffer method)
    with _stage("residential", setup.timings):
        if land is None:
            land = residential_land(
                setup.layers.residential, boundary=setup.layers.boundary,
                districts=setup.layers.districts, weight=weight, rules=setup.rules,
                residential_codes=residential_codes,
            )  # fmt: skip
        else:
            land = land.drop(columns=[c for c in PIECE_RESULT_COLUMNS if c in land.columns])
        points = shapely.point_on_surface(geometry_array(land))
    with _stage("snapping", setup.timings):
        snap = snap_to_access_graph(access, points, connector_limit_m=connector_limit_m)

    # ---- distances: to the nearest park (no limit), and tier coverage (handicap, limit R)
    with _stage("distances", setup.timings):
        walk = _walks(access, snap, limits, serving)
    land = _piece_columns(land, walk, snap, access.park_ids)

    # ---- service-area polygons
    with _stage("polygons", setup.timings):
        areas = _service_areas(
            access, walk.tiers, limits, serving, walk.max_limit, setup.table, mode=service_areas,
            lateral_m=lateral_m, progress=progress, known=known_areas or {},
        )  # fmt: skip
    return walk_result(
        setup, land, areas, weight=weight,
        options={
            "walk_distance_m": walk_distance_m, "snap_distance_m": snap_distance_m,
            "connector_limit_m": connector_limit_m, "lateral_m": lateral_m,
            "service_areas": service_areas,
        },
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class WalkSetup:
    """What every walk of a set of parks starts from (the first steps of
    :func:`network_coverage`): the validated layers, the park table and walk limits, the
    walk graph with every park's access points.

    Attributes
    ----------
    layers : object
        The input layers, validated, in the residential layer's CRS (``parks``,
        ``residential``, ``entrances``, ``boundary``, ``districts``, ``crs``).
    rules : RuleSet
    table : DataFrame
        :func:`gisrenew.coverage.park_table` of the parks.
    qualifies : numpy.ndarray of bool
        Per park number: counts under the rule set.
    limits : numpy.ndarray of float
        Per park number: its walk limit (nan when it does not qualify).
    access : ParkAccess
        Access points of every qualifying park, inserted into the walk graph.
    serving : numpy.ndarray of bool
        Per park number: qualifies and can be reached on the streets.
    timings : dict
        Seconds per stage (logged).
    """

    layers: _Layers
    rules: RuleSet
    table: pd.DataFrame
    qualifies: np.ndarray
    limits: np.ndarray
    access: ParkAccess
    serving: np.ndarray
    timings: dict


def walk_setup(
    parks, residential, roads, *, rules=None, entrances=None, walk_distance_m=None,
    boundary=None, districts=None, snap_distance_m: float = 30.0,
    connector_limit_m: float = 200.0, barriers=None,
) -> WalkSetup:  # fmt: skip
    """Validate the layers, rank the parks, build (or take) the graph and the access points.

    Parameters are those of :func:`network_coverage`.
    """
    rules = get_rules(rules)
    layers = _Layers.conform(parks, residential, entrances, boundary, districts)
    timings: dict[str, float] = {}
    table = park_table(layers.parks, rules)
    qualifies = table["qualifies"].to_numpy(dtype=bool)
    radius = table["radius_m"].to_numpy(dtype=float)
    limit_value = radius if walk_distance_m is None else np.full(len(table), float(walk_distance_m))
    limits = np.where(qualifies, limit_value, np.nan)
    with _stage("graph", timings):
        graph = _walk_graph(roads, barriers, layers)
    with _stage("access", timings):
        access = park_access(
            graph, layers.parks, qualifies=qualifies, entrances=layers.entrances,
            snap_distance_m=snap_distance_m, connector_limit_m=connector_limit_m,
        )  # fmt: skip
    has_access = np.zeros(len(layers.parks), dtype=bool)
    has_access[access.source_park] = True
    return WalkSetup(layers, rules, table, qualifies, limits, access, qualifies & has_access,
                     timings)  # fmt: skip


def walk_result(
    setup: WalkSetup, land: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, weight, options: dict
) -> CoverageResult:
    """The network :class:`~gisrenew.results.CoverageResult` of pieces with their walk columns.

    `land` carries the columns :func:`network_coverage` documents (``walk_status``,
    ``covered``, ...); `options` the walk's settings recorded in ``parameters``.
    """
    access, limits, serving = setup.access, setup.limits, setup.serving
    has_access = np.zeros(len(access.park_ids), dtype=bool)
    has_access[access.source_park] = True
    parks_out = setup.table.copy()
    parks_out["walk_limit_m"] = limits
    parks_out["access"] = access.access_kind
    parks_out["access_points"] = access.access_count
    status = land["walk_status"].to_numpy(dtype=object)
    _log_unreachable(status, serving, options["connector_limit_m"])
    area = land["area_m2"].to_numpy(dtype=float)
    covered = land["covered"].to_numpy(dtype=bool)
    walk_distance_m = options["walk_distance_m"]
    return summarize_coverage(
        land,
        np.where(covered, area, 0.0),
        method="network",
        rules=setup.rules,
        parks=parks_out,
        service_areas=areas,
        districts=setup.layers.districts,
        weight=weight,
        parameters={
            "walk_limit": "tier radius" if walk_distance_m is None else "walk_distance_m",
            **options,
            **_counts(access, land, setup.qualifies & ~has_access, setup.layers),
        },
    )


def updated_network_coverage(
    before: pd.DataFrame,
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | WalkGraph,
    *,
    added: Sequence[str],
    land: gpd.GeoDataFrame,
    service_areas: str = "park",
    known_areas: Mapping[str, shapely.Geometry] | None = None,
    progress: bool = False,
    lateral_m: float = 50.0,
    weight: str | None = None,
    residential_codes=None,
    **walk_options,
) -> CoverageResult:
    """Network coverage after parks were added, from the walk before (步行网络覆盖率, 增量).

    Adding parks can only shorten walks: every piece keeps its walk unless a new park
    is nearer (or serves it with more slack), so only the new parks are walked from
    (one pass to the nearest new park, one tier pass bounded by their largest limit)
    and only the pieces they may reach are attached to the streets — those whose
    straight distance to the new parks' access is below their walk before (or within
    the new parks' largest limit). Equal to :func:`network_coverage` on the parks
    after the change (the tests check distances to 1e-6 m and every figure).

    Parameters
    ----------
    before : DataFrame
        The walk columns of every piece before the change, row for row of `land`
        (``walk_distance_m``, ``nearest_park_id``, ``serving_park_id``,
        ``serving_walk_m``, ``connector_m``, ``walk_status``, ``covered``), e.g. the
        stored ``network_coverage_residential`` layer of current results.
    parks, residential, roads
        The layers after the change, as for :func:`network_coverage`.
    added : sequence of str
        ``park_id`` of the parks the change added (nothing else changed: a removed or
        replaced park needs :func:`network_coverage`).
    land : GeoDataFrame
        The residential land of these inputs (see :func:`network_coverage`; required).
    service_areas : {"park", "none"}
        The other modes need the whole walk: they are computed by
        :func:`network_coverage`.
    known_areas, progress, lateral_m, weight, residential_codes, **walk_options
        As for :func:`network_coverage` (``rules``, ``entrances``, ``walk_distance_m``,
        ``boundary``, ``districts``, ``snap_distance_m``, ``connector_limit_m``).

    Notes
    -----
    An entrance without ``park_id`` within ``snap_distance_m`` of a new park may move
    to it from another park, making walks longer: then (and when `before` does not
    match `land`) the walk is computed whole.
    """
    snap_m = float(walk_options.get("snap_distance_m", 30.0))
    connector_m = float(walk_options.get("connector_limit_m", 200.0))
    _check_options(service_areas, walk_options.get("walk_distance_m"), snap_m, connector_m,
                   lateral_m)  # fmt: skip
    options = {
        "service_areas": service_areas, "progress": progress, "lateral_m": lateral_m,
        "weight": weight, "residential_codes": residential_codes, **walk_options,
    }  # fmt: skip
    setup = walk_setup(parks, residential, roads, **walk_options)
    new = np.isin(setup.access.park_ids.astype(str), [str(p) for p in added])
    if (
        service_areas not in ("park", "none")
        or len(before) != len(land)
        or _may_take_entrances(setup.layers, new, snap_m)
    ):
        log.info("network coverage: the walk after the change is computed whole")
        return network_coverage(parks, residential, setup.access.base, land=land,
                                known_areas=known_areas, **options)  # fmt: skip
    land = land.drop(columns=[c for c in PIECE_RESULT_COLUMNS if c in land.columns])
    with _stage("distances (new parks)", setup.timings):
        columns = _updated_walks(setup, land, before, new & setup.serving, connector_m)
    land = piece_walk_columns(land, **columns)
    with _stage("polygons", setup.timings):
        areas = _service_areas(
            setup.access, None, setup.limits, setup.serving, None, setup.table,
            mode=service_areas, lateral_m=lateral_m, progress=progress, known=known_areas or {},
        )  # fmt: skip
    return walk_result(
        setup, land, areas, weight=weight,
        options={
            "walk_distance_m": walk_options.get("walk_distance_m"), "snap_distance_m": snap_m,
            "connector_limit_m": connector_m, "lateral_m": lateral_m,
            "service_areas": service_areas,
        },
    )  # fmt: skip


def _may_take_entrances(layers: _Layers, new: np.ndarray, snap_m: float) -> bool:
    """True when an entrance without ``park_id`` lies within `snap_m` of a new park."""
    entrances = layers.entrances
    if entrances is None or len(entrances) == 0 or not new.any():
        return False
    blank = entrances["park_id"].fillna("").astype(str).str.strip().to_numpy() == ""
    points = geometry_array(entrances)[blank]
    parks = geometry_array(layers.parks)[new]
    if len(points) == 0:
        return False
    return bool(shapely.dwithin(points[:, None], parks[None, :], snap_m).any())


def _before_walks(before: pd.DataFrame) -> dict[str, np.ndarray]:
    """The walk columns of `before` as arrays (blank ids ``""``; no path: ``inf``)."""
    status = before["walk_status"].fillna("").astype(str).to_numpy(dtype=object)
    near = before["walk_distance_m"].to_numpy(dtype=float, na_value=np.nan)
    walks = {
        "near_dist": np.where(status == "no_park_path", np.inf, near),
        "nearest": before["nearest_park_id"].fillna("").astype(str).to_numpy(dtype=object),
        "serving": before["serving_park_id"].fillna("").astype(str).to_numpy(dtype=object),
        "serving_walk": before["serving_walk_m"].to_numpy(dtype=float, na_value=np.nan),
        "connector": before["connector_m"].to_numpy(dtype=float, na_value=np.nan),
        "covered": before["covered"].fillna(False).to_numpy(dtype=bool),
    }
    return {key: np.array(values) for key, values in walks.items()}  # own, writable copies


def _updated_walks(setup: WalkSetup, land, before: pd.DataFrame, new: np.ndarray, connector_m):
    """The walk columns after adding the serving parks `new` (park numbers as a mask)."""
    walks = _before_walks(before)
    if not new.any():
        return walks
    access, limits = setup.access, setup.limits
    ids = access.park_ids.astype(str).astype(object)
    top = float(np.max(limits[new]))
    nearest = walk_reach(access, park_offset=np.where(new, 0.0, np.inf))
    handicap = np.where(new, top - np.nan_to_num(limits, nan=0.0), np.inf)
    tiers = walk_reach(access, park_offset=handicap, limit=top)
    rows = _pieces_in_reach(access, land, new, walks["near_dist"], top)
    snap = snap_to_access_graph(
        access, shapely.point_on_surface(geometry_array(land)[rows]), connector_limit_m=connector_m
    )
    dist, park = walk_from_points(access, snap, nearest)
    nearer = dist < walks["near_dist"][rows]
    walks["near_dist"][rows[nearer]] = dist[nearer]
    walks["nearest"][rows[nearer]] = ids[park[nearer]]
    tier_dist, tier_park = walk_from_points(access, snap, tiers)
    served = np.isfinite(tier_dist)
    slack_new = top - tier_dist
    own_limit = pd.Series(limits, index=ids).groupby(level=0).first()
    old_limit = own_limit.reindex(walks["serving"][rows]).to_numpy(dtype=float)
    slack_old = np.where(walks["covered"][rows], old_limit - walks["serving_walk"][rows], -np.inf)
    better = served & (slack_new > slack_old)
    walks["serving"][rows[better]] = ids[tier_park[better]]
    walks["serving_walk"][rows[better]] = tier_dist[better] - handicap[tier_park[better]]
    walks["covered"][rows[served]] = True
    log.info("network coverage: %d piece(s) within reach of %d new park(s)", len(rows), new.sum())
    return walks


def _pieces_in_reach(access: ParkAccess, land, new: np.ndarray, near_dist, top: float):
    """Pieces a walk from the new parks may reach shorter than before (or within `top`).

    A walk is never shorter than the straight line to where it starts (an access node
    of a new park, or the frontage street it lies on), nor than from the piece's
    nearest point: so the distance from the piece to the convex hull of those is a
    lower bound.
    """
    graph = access.graph
    parks = np.flatnonzero(new)
    nodes = access.source_node[np.isin(access.source_park, parks)]
    zone = access.zone_edge[np.isin(access.zone_park, parks)]
    xy = np.concatenate([graph.node_xy[nodes], graph.node_xy[graph.edge_u[zone]],
                         graph.node_xy[graph.edge_v[zone]]])  # fmt: skip
    hull = shapely.convex_hull(shapely.multipoints(xy))
    bound = shapely.distance(geometry_array(land), hull)
    limit = np.maximum(near_dist, top)  # nan (no street): never
    return np.flatnonzero(bound <= limit + LIMIT_SLACK_M)


def _counts(access: ParkAccess, land, without_access: np.ndarray, layers: _Layers) -> dict:
    """The parameters of a network result besides the options: graph size, unreachables."""
    status = land["walk_status"].to_numpy(dtype=object)
    return {
        "buffer_quad_segs": BUFFER_QUAD_SEGS,
        "graph_nodes": access.base.n_nodes,
        "graph_edges": access.base.n_edges,
        "parks_without_access": int(without_access.sum()),
        "unreachable_no_street": int((status == "no_street").sum()),
        "unreachable_no_park_path": int((status == "no_park_path").sum()),
        "coverage_rule": "a residential piece counts whole when the walk from its "
        "representative point meets a qualifying park's walk limit",
        "boundary": layers.boundary is not None,
        "districts": layers.districts is not None,
        "crs": layers.crs.to_string(),
    }


def _check_options(service_areas, walk_distance_m, snap_distance_m, connector_limit_m, lateral_m):
    """Refuse bad options of :func:`network_coverage` with a message naming the option."""
    if service_areas not in SERVICE_AREA_MODES:
        raise InputError(
            f"`service_areas` was {service_areas!r} but is expected to be one of "
            f"{', '.join(SERVICE_AREA_MODES)}"
        )
    if walk_distance_m is not None and not (walk_distance_m > 0 and math.isfinite(walk_distance_m)):
        raise InputError(
            f"`walk_distance_m` must be a positive number of metres, got {walk_distance_m}"
        )
    for name, value in (
        ("snap_distance_m", snap_distance_m),
        ("connector_limit_m", connector_limit_m),
        ("lateral_m", lateral_m),
    ):
        if not (value >= 0 and math.isfinite(value)):
            raise InputError(f"`{name}` must be a non-negative number of metres, got {value}")


@dataclass(frozen=True)
class _Layers:
    """The input layers of :func:`network_coverage`, validated, in the residential CRS."""

    residential: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame | None
    boundary: gpd.GeoDataFrame | None
    districts: gpd.GeoDataFrame | None

    @property
    def crs(self):
        return self.residential.crs

    @classmethod
    def conform(cls, parks, residential, entrances, boundary, districts) -> _Layers:
        res = conformed(residential, "residential", name="residential")
        ensure_metric(res, "residential")
        return cls(
            residential=res,
            parks=conformed(parks, "parks", name="parks", crs=res.crs),
            entrances=conformed(entrances, "entrances", name="entrances", crs=res.crs),
            boundary=conformed(boundary, "boundary", name="boundary", crs=res.crs),
            districts=conformed(districts, "districts", name="districts", crs=res.crs),
        )


def _walk_graph(roads, barriers, layers: _Layers) -> WalkGraph:
    """The walk graph: `roads` when it is one already (same CRS), else built from the lines."""
    if isinstance(roads, WalkGraph):
        if roads.crs is not None and not same_crs(roads.crs, layers.crs):
            raise CRSError(
                f"the walk graph is in {roads.crs} but the residential layer in {layers.crs}; "
                "build the graph from roads in the working CRS"
            )
        return roads
    roads = conformed(roads, "roads", name="roads", crs=layers.crs)
    if barriers is not None and getattr(barriers, "crs", None) is not None:
        barriers = align(layers.residential, barriers, name="barriers")
    return walk_graph_from_roads(roads, barriers=barriers)


@dataclass(frozen=True)
class _Walks:
    """Walks of every residential piece: to the nearest park, and the tier verdict."""

    near_dist: np.ndarray  # walk to the nearest serving park (nan: no street, inf: no path)
    near_park: np.ndarray  # its park number (-1: none)
    tiers: Reach  # the tier pass (handicapped distances, limit = max_limit)
    tier_dist: np.ndarray  # handicapped walk within the limit (inf otherwise)
    tier_park: np.ndarray  # the park serving the piece with the most slack (-1: none)
    handicap: np.ndarray  # per park: max_limit - its own limit (inf: not serving)
    max_limit: float
    covered: np.ndarray  # the walk meets some serving park's own limit


def _walks(access: ParkAccess, snap: PointSnap, limits: np.ndarray, serving: np.ndarray) -> _Walks:
    """One pass to the nearest park; one handicapped pass for the tiers (or reuse the first)."""
    nearest = walk_reach(access, park_offset=np.where(serving, 0.0, np.inf))
    near_dist, near_park = walk_from_points(access, snap, nearest)
    max_limit = float(np.max(limits[serving])) if serving.any() else 0.0
    handicap = np.where(serving, max_limit - np.nan_to_num(limits, nan=0.0), np.inf)
    if np.all(handicap[serving] == 0):  # one walk limit for all: the nearest pass decides
        tiers = nearest
        tier_dist = np.where(near_dist <= max_limit + LIMIT_SLACK_M, near_dist, np.inf)
        tier_park = np.where(np.isfinite(tier_dist), near_park, -1)
    else:
        tiers = walk_reach(access, park_offset=handicap, limit=max_limit)
        tier_dist, tier_park = walk_from_points(access, snap, tiers)
    covered = np.isfinite(tier_dist) & (tier_dist <= max_limit + LIMIT_SLACK_M)
    return _Walks(near_dist, near_park, tiers, tier_dist, tier_park, handicap, max_limit, covered)


def _piece_columns(land, walk: _Walks, snap: PointSnap, park_ids) -> gpd.GeoDataFrame:
    """`land` with the walk columns: distance, nearest and serving park, connector, status."""
    covered = walk.covered
    with_blank = np.append(park_ids.astype(object), "")  # park number -1 → ""
    serving_walk = np.full(len(land), np.nan)
    serving_walk[covered] = walk.tier_dist[covered] - walk.handicap[walk.tier_park[covered]]
    return piece_walk_columns(
        land,
        near_dist=walk.near_dist,
        nearest=with_blank[walk.near_park],
        serving=with_blank[np.where(covered, walk.tier_park, -1)],
        serving_walk=serving_walk,
        connector=snap.connector_m,
        covered=covered,
    )


def piece_walk_columns(
    land, *, near_dist, nearest, serving, serving_walk, connector, covered
) -> gpd.GeoDataFrame:
    """A copy of `land` with the walk columns of :func:`network_coverage`.

    Parameters
    ----------
    land : GeoDataFrame
        The residential pieces.
    near_dist : array of float
        Walk to the nearest serving park (nan: no street within reach, inf: no path).
    nearest, serving : array of str
        ``park_id`` of the nearest park and of the park serving the piece (``""``: none).
    serving_walk : array of float
        The walk to the serving park (nan where none).
    connector : array of float
        Straight link to the street (nan: no street within reach).
    covered : array of bool
        The walk meets some serving park's own limit.
    """
    near_dist = np.asarray(near_dist, dtype=float)
    attached = np.isfinite(np.asarray(connector, dtype=float))
    status = np.full(len(land), "too_far", dtype=object)
    status[attached & ~np.isfinite(near_dist)] = "no_park_path"
    status[~attached] = "no_street"
    status[covered] = "covered"
    land = land.copy()
    land["walk_distance_m"] = np.where(np.isfinite(near_dist), near_dist, np.nan)
    land["nearest_park_id"] = np.asarray(nearest, dtype=object)
    land["serving_park_id"] = np.asarray(serving, dtype=object)
    land["serving_walk_m"] = np.asarray(serving_walk, dtype=float)
    land["connector_m"] = np.asarray(connector, dtype=float)
    land["walk_status"] = status
    land["covered"] = np.asarray(covered, dtype=bool)
    for col in ("nearest_park_id", "serving_park_id", "walk_status"):
        land[col] = land[col].astype(str)
    return land


def _log_unreachable(status: np.ndarray, serving: np.ndarray, connector_limit_m: float) -> None:
    n_no_street = int((status == "no_street").sum())
    if n_no_street:
        log.warning(
            "%d residential polygon(s) are farther than %g m from every walkable street: "
            "counted as not covered (walk_status = no_street)",
            n_no_street,
            connector_limit_m,
        )
    if not serving.any():
        log.warning("no qualifying park can be reached on the street network: coverage is 0")


def _park_polygons(access, limits, serving, known, *, lateral_m, progress) -> np.ndarray:
    """Each park's own service area: `known` ones as given, the other serving parks walked."""
    ids = access.park_ids.astype(str).astype(object)
    given = pd.Series(list(known.values()), index=pd.Index(list(known), dtype=object), dtype=object)
    found = given.index.get_indexer(ids) if len(given) else np.full(len(ids), -1)
    is_known = serving & (found >= 0)
    walked = serving & ~is_known
    polys = park_service_areas(
        access, np.where(walked, limits, np.nan), lateral_m=lateral_m, progress=progress
    )
    polys[is_known] = given.to_numpy()[found[is_known]]
    log.info("walk service areas: %d walked, %d known", int(walked.sum()), int(is_known.sum()))
    return polys


def _service_areas(
    access, tiers, limits, serving, max_limit, table, *, mode, lateral_m, progress, known
):
    crs = access.graph.crs
    k = np.flatnonzero(serving)
    columns = {
        "park_id": access.park_ids[k],
        "name": table["name"].to_numpy(dtype=object)[k],
        "park_class": table["park_class"].to_numpy(dtype=object)[k],
        "tier": table["tier"].to_numpy()[k],
        "tier_label": table["tier_label"].to_numpy(dtype=object)[k],
        "radius_m": table["radius_m"].to_numpy(dtype=float)[k],
        "park_area_m2": table["park_area_m2"].to_numpy(dtype=float)[k],
        "walk_limit_m": limits[k],
        "access": access.access_kind[k],
    }
    n_parks = len(access.park_ids)
    if mode == "none":
        return gpd.GeoDataFrame(columns, geometry=[shapely.Polygon()] * len(k), crs=crs)
    if mode == "park":
        polys = _park_polygons(
            access, limits, serving, known, lateral_m=lateral_m, progress=progress
        )
        return gpd.GeoDataFrame(columns, geometry=polys[k], crs=crs)
    zone_ok = tiers.zone_park[access.zone_edge] >= 0
    start, end, park, edge = reached_pieces(
        access.graph,
        tiers.node_dist,
        tiers.node_park,
        tiers.limit if np.isfinite(tiers.limit) else max_limit,
        whole=access.zone_edge[zone_ok],
        whole_park=tiers.zone_park[access.zone_edge[zone_ok]],
        split=mode == "nearest",
    )
    roads = access.graph.edge_road[edge]
    if mode == "merged":
        polys = service_polygons(
            start, end, np.zeros(len(park), dtype=np.int64), 1, lateral_m=lateral_m, strokes=roads
        )
        return gpd.GeoDataFrame(
            {"park_id": [""], "walk_limit_m": [max_limit]}, geometry=list(polys), crs=crs
        )
    polys = service_polygons(start, end, park, n_parks, lateral_m=lateral_m, strokes=roads)
    return gpd.GeoDataFrame(columns, geometry=polys[k], crs=crs)


def compare_methods(buffer_result: CoverageResult, network_result: CoverageResult) -> pd.DataFrame:
    """Buffer and network coverage side by side, per district and for the whole city.

    Parameters
    ----------
    buffer_result, network_result : CoverageResult
        Results of :func:`gisrenew.coverage.compute_coverage` and
        :func:`network_coverage` on the same inputs (same boundary and districts).

    Returns
    -------
    pandas.DataFrame
        One row per district (in the buffer result's order) plus a last row with
        ``district_id = ""`` and ``name = "全市 (all)"``: ``residential_area_m2``,
        ``buffer_covered_m2``, ``buffer_ratio``, ``network_covered_m2``,
        ``network_ratio``, ``difference_m2`` and ``difference_pp`` (network − buffer, in
        m² and percentage points): negative where the straight-line radius overstates
        walking access — the difference a planner acts on.
    """
    keys = ["district_id", "name", "residential_area_m2", "covered_area_m2"]
    buf = buffer_result.districts
    net = network_result.districts
    if len(buf) or len(net):
        buf = buf[keys].rename(columns={"covered_area_m2": "buffer_covered_m2"})
        net = net[keys].rename(
            columns={"covered_area_m2": "network_covered_m2", "residential_area_m2": "_net_area",
                     "name": "_net_name"}
        )  # fmt: skip
        table = buf.merge(net, on="district_id", how="outer", sort=False)
        table["name"] = table["name"].fillna(table["_net_name"])
        table["residential_area_m2"] = table["residential_area_m2"].fillna(table["_net_area"])
        table = table.drop(columns=["_net_name", "_net_area"])
    else:
        table = pd.DataFrame(
            columns=["district_id", "name", "residential_area_m2", "buffer_covered_m2",
                     "network_covered_m2"]
        )  # fmt: skip
    total = pd.DataFrame(
        {
            "district_id": [""],
            "name": ["全市 (all)"],
            "residential_area_m2": [buffer_result.residential_area_m2],
            "buffer_covered_m2": [buffer_result.covered_area_m2],
            "network_covered_m2": [network_result.covered_area_m2],
        }
    )
    table = pd.concat([table, total], ignore_index=True) if len(table) else total
    for col in ("residential_area_m2", "buffer_covered_m2", "network_covered_m2"):
        table[col] = table[col].astype(float).fillna(0.0)
    area = table["residential_area_m2"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["buffer_ratio"] = np.where(area > 0, table["buffer_covered_m2"] / area, np.nan)
        table["network_ratio"] = np.where(area > 0, table["network_covered_m2"] / area, np.nan)
    table["difference_m2"] = table["network_covered_m2"] - table["buffer_covered_m2"]
    table["difference_pp"] = 100.0 * (table["network_ratio"] - table["buffer_ratio"])
    order = [
        "district_id", "name", "residential_area_m2", "buffer_covered_m2", "buffer_ratio",
        "network_covered_m2", "network_ratio", "difference_m2", "difference_pp",
    ]  # fmt: skip
    return table[order].reset_index(drop=True)
