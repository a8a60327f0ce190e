"""Park access points 公园出入口: where a walk into a park starts.

Three kinds, per park (see :func:`park_access`):

``entrances``
    Points of the ``entrances`` layer. Each is attached to its nearest ground-level
    street (within `connector_limit_m`); the straight link from the entrance to the
    street **counts** toward the walk.
``frontage``
    For a park without entrances: every stretch of ground-level street that lies
    inside the park or within `snap_distance_m` (default 30 m) of its boundary —
    where streets meet, cross or run along the park. The whole stretch is the park's
    frontage (临街面): walking starts anywhere on it, and the gap of at most
    `snap_distance_m` between street and park edge (pavement, green strip) is
    **not** counted. Both ends of every stretch are inserted into the graph.
``nearest_street``
    A qualifying park with no street within `snap_distance_m` is reached from its
    nearest point on the nearest ground-level street (within `connector_limit_m`);
    the straight gap **counts** toward the walk.

A park with none of these (no street within `connector_limit_m`) has no access
(``none``) and serves nobody by the network method.

Every access position is inserted into the graph at its exact place on its edge
(:func:`gisrenew.network.graph.insert_points`), so distances are exact along the line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew.coverage import BUFFER_QUAD_SEGS
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed
from gisrenew.network.graph import WalkGraph, insert_points, to_parent

__all__ = ["ParkAccess", "park_access", "snap_points"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ParkAccess:
    """Access points of the parks, inserted into the walk graph.

    Attributes
    ----------
    graph : WalkGraph
        The walk graph with every access position inserted as a node.
    base : WalkGraph
        The graph before insertion (parcels are snapped to it, then located in `graph`).
    park_ids : numpy.ndarray of str
        ``park_id`` of every park given (qualifying or not); the park numbers below
        index this array.
    source_node, source_park, source_offset : numpy.ndarray
        One row per (node, park) where a walk can start, with the metres already
        walked there (0 on a frontage, the entrance or gap link otherwise).
    zone_edge, zone_park : numpy.ndarray
        Edges of `graph` lying on a park's frontage, and the park.
    access_kind : numpy.ndarray of str
        Per park: ``entrances``, ``frontage``, ``nearest_street``, ``none`` or
        ``not_qualifying`` (parks that do not count get no access points).
    access_count : numpy.ndarray of int
        Per park: entrances used, frontage stretches, or 1 for ``nearest_street``.
    """

    graph: WalkGraph
    base: WalkGraph
    park_ids: np.ndarray
    source_node: np.ndarray
    source_park: np.ndarray
    source_offset: np.ndarray
    zone_edge: np.ndarray
    zone_park: np.ndarray
    access_kind: np.ndarray
    access_count: np.ndarray

    def points(self) -> gpd.GeoDataFrame:
        """Access points for maps: ``park_id``, ``kind``, ``offset_m``, point geometry.

        Frontage stretches are shown by the nodes along them.
        """
        return gpd.GeoDataFrame(
            {
                "park_id": self.park_ids[self.source_park],
                "kind": self.access_kind[self.source_park],
                "offset_m": self.source_offset,
            },
            geometry=shapely.points(self.graph.node_xy[self.source_node]),
            crs=self.graph.crs,
        )


def snap_points(
    graph: WalkGraph, points, *, max_distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Attach points to their nearest ground-level edge.

    Parameters
    ----------
    graph : WalkGraph
    points : array of shapely Points
    max_distance_m : float
        Points farther than this from every ground-level edge are not attached.

    Returns
    -------
    edge : numpy.ndarray of int
        Edge of `graph` per point, -1 where none is within `max_distance_m`.
    t : numpy.ndarray of float
        Fraction 0–1 of the nearest position along the edge from its ``u`` node.
    connector_m : numpy.ndarray of float
        Straight distance from the point to that position (nan where not attached).
    """
    pts = np.asarray(points, dtype=object)
    n = len(pts)
    edge = np.full(n, -1, dtype=np.int64)
    t = np.full(n, np.nan)
    connector = np.full(n, np.nan)
    valid = np.flatnonzero(~(shapely.is_missing(pts) | shapely.is_empty(pts)))
    if len(valid) == 0 or graph.n_edges == 0:
        return edge, t, connector
    tree, edges = graph.ground
    pi, ei = tree.query_nearest(pts[valid], max_distance=max_distance_m, all_matches=False)
    rows = valid[pi]
    e = edges[ei]
    xy = shapely.get_coordinates(pts[rows])
    a = graph.node_xy[graph.edge_u[e]]
    d = graph.node_xy[graph.edge_v[e]] - a
    tt = np.clip(((xy - a) * d).sum(axis=1) / (d * d).sum(axis=1), 0.0, 1.0)
    foot = a + d * tt[:, None]
    edge[rows] = e
    t[rows] = tt
    connector[rows] = np.hypot(*(xy - foot).T)
    return edge, t, connector


def _fractions(graph: WalkGraph, edge: np.ndarray, xy: np.ndarray) -> np.ndarray:
    a = graph.node_xy[graph.edge_u[edge]]
    d = graph.node_xy[graph.edge_v[edge]] - a
    return np.clip(((xy - a) * d).sum(axis=1) / (d * d).sum(axis=1), 0.0, 1.0)


def _assign_entrances(entrances, parks, park_ids, snap_distance_m):
    """Park number of every entrance (-1 when it belongs to no known park)."""
    frame = conformed(entrances, "entrances", name="entrances", crs=parks.crs)
    given = frame["park_id"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    lookup = pd.Series(np.arange(len(park_ids)), index=pd.Index(park_ids, dtype=object))
    park = lookup.reindex(given).fillna(-1).to_numpy(dtype=np.int64)
    unknown = (given != "") & (park < 0)
    if unknown.any():
        log.warning(
            "%d entrance(s) name a park_id that is not in the parks layer and were ignored: %s",
            int(unknown.sum()),
            sorted(set(given[unknown]))[:10],
        )
    blank = np.flatnonzero(given == "")
    if len(blank):
        geoms = geometry_array(frame)[blank]
        tree = shapely.STRtree(geometry_array(parks))
        bi, pi = tree.query_nearest(geoms, max_distance=snap_distance_m, all_matches=False)
        park[blank[bi]] = pi
        far = np.setdiff1d(np.arange(len(blank)), bi)
        if len(far):
            log.warning(
                "%d entrance(s) without park_id are farther than %g m from every park and were "
                "ignored (entrance ids %s)",
                len(far),
                snap_distance_m,
                frame["entrance_id"].to_numpy()[blank[far]][:10].tolist(),
            )
    return geometry_array(frame), park


def park_access(
    graph: WalkGraph,
    parks: gpd.GeoDataFrame,
    *,
    qualifies=None,
    entrances: gpd.GeoDataFrame | None = None,
    snap_distance_m: float = 30.0,
    connector_limit_m: float = 200.0,
) -> ParkAccess:
    """Find every park's access points and insert them into the walk graph.

    Parameters
    ----------
    graph : WalkGraph
        The walk graph (from :func:`gisrenew.network.walk_graph_from_roads`).
    parks : geopandas.GeoDataFrame
        Parks with ``park_id`` (validated, in the graph's CRS).
    qualifies : array of bool, optional
        Which parks count (get access points); by default all.
    entrances : geopandas.GeoDataFrame, optional
        Park entrance points (``entrances`` layer). An entrance's ``park_id`` names its
        park; when empty, the nearest park within `snap_distance_m` is used. Parks
        without entrances get frontage access.
    snap_distance_m : float, default 30
        How far a street may be from a park's boundary to count as its frontage.
    connector_limit_m : float, default 200
        Farthest straight link from an entrance (or an isolated park) to a street.

    Returns
    -------
    ParkAccess
    """
    park_ids = parks["park_id"].astype(str).to_numpy(dtype=object)
    n_parks = len(park_ids)
    qualifies = (
        np.ones(n_parks, dtype=bool) if qualifies is None else np.asarray(qualifies, dtype=bool)
    )
    park_geoms = geometry_array(parks)
    kind = np.where(qualifies, "none", "not_qualifying").astype(object)
    count = np.zeros(n_parks, dtype=np.int64)
    points = _Points()  # positions to insert: (base edge, fraction, park, offset)

    # ---- entrances
    if entrances is not None and len(entrances):
        egeoms, epark = _assign_entrances(entrances, parks, park_ids, snap_distance_m)
        _entrance_points(graph, egeoms, epark, qualifies, connector_limit_m, points, kind, count)

    # ---- frontage of qualifying parks without entrances
    frontage = np.flatnonzero(qualifies & (kind != "entrances"))
    zone = _frontage(graph, park_geoms, frontage, snap_distance_m)
    np.add.at(count, zone.park, 1)
    kind[np.unique(zone.park)] = "frontage"

    # ---- isolated qualifying parks: nearest street within the connector limit
    isolated = np.flatnonzero(qualifies & (kind == "none"))
    if len(isolated):
        _nearest_street_points(graph, park_geoms, isolated, connector_limit_m, points, kind, count)
    none = np.flatnonzero(qualifies & (kind == "none"))
    if len(none):
        log.warning(
            "%d qualifying park(s) have no walkable street within %g m and serve nobody by the "
            "network method: %s",
            len(none),
            connector_limit_m,
            park_ids[none][:10].tolist(),
        )

    # ---- insert every position; frontage pieces of the new graph; the start table
    edge = np.concatenate([*points.edge, zone.edge, zone.edge])
    t = np.concatenate([*points.t, zone.ta, zone.tb])
    new_graph, nodes = insert_points(graph, edge.astype(np.int64), t)
    zone_edge, zone_park = _frontage_pieces(graph, new_graph, zone)
    table = _sources(new_graph, nodes, points, zone, zone_edge, zone_park)
    log.info(
        "park access: %d parks with entrances, %d by frontage, %d by nearest street, %d without",
        int((kind == "entrances").sum()),
        int((kind == "frontage").sum()),
        int((kind == "nearest_street").sum()),
        len(none),
    )
    return ParkAccess(
        graph=new_graph,
        base=graph,
        park_ids=park_ids,
        source_node=table["node"].to_numpy(dtype=np.int64),
        source_park=table["park"].to_numpy(dtype=np.int64),
        source_offset=table["offset"].to_numpy(dtype=float),
        zone_edge=zone_edge,
        zone_park=zone_park,
        access_kind=kind.astype(str),
        access_count=count,
    )


def _sources(new_graph: WalkGraph, nodes, points, zone, zone_edge, zone_park) -> pd.DataFrame:
    """Where walks start: one row per (node, park) with the smallest offset.

    Inserted points (`nodes` of :func:`insert_points`, in the order of `points` then the
    frontage ends) start with their offset; both end nodes of every frontage piece, and
    a frontage that is a single point (a street touching the zone), start at 0.
    """
    n_points = points.count
    touch = zone.ta == zone.tb
    touch_nodes = nodes[n_points : n_points + len(zone.park)][touch]
    src_node = np.concatenate(
        [nodes[:n_points], new_graph.edge_u[zone_edge], new_graph.edge_v[zone_edge], touch_nodes]
    )
    src_park = np.concatenate([*points.park, zone_park, zone_park, zone.park[touch]])
    src_off = np.concatenate([*points.offset, np.zeros(2 * len(zone_edge) + int(touch.sum()))])
    table = pd.DataFrame({"node": src_node, "park": src_park, "offset": src_off})
    table = table.sort_values(["node", "park", "offset"], kind="stable")
    return table.drop_duplicates(["node", "park"], keep="first")


class _Points:
    """Access positions to insert into the graph, with their park and start offset."""

    def __init__(self):
        self.edge = [np.empty(0, dtype=np.int64)]
        self.t = [np.empty(0)]
        self.park = [np.empty(0, dtype=np.int64)]
        self.offset = [np.empty(0)]

    @property
    def count(self) -> int:
        return sum(len(x) for x in self.edge)

    def add(self, edge, t, park, offset) -> None:
        self.edge.append(np.asarray(edge, dtype=np.int64))
        self.t.append(np.asarray(t, dtype=float))
        self.park.append(np.asarray(park, dtype=np.int64))
        self.offset.append(np.asarray(offset, dtype=float))


def _entrance_points(graph, egeoms, epark, qualifies, connector_limit_m, points, kind, count):
    """Entrances of qualifying parks, attached to their nearest ground-level street."""
    use = np.flatnonzero(epark >= 0)
    use = use[qualifies[epark[use]]]
    e, t, gap = snap_points(graph, egeoms[use], max_distance_m=connector_limit_m)
    ok = e >= 0
    if (~ok).any():
        log.warning(
            "%d park entrance(s) are farther than %g m from every walkable ground-level "
            "street and were ignored",
            int((~ok).sum()),
            connector_limit_m,
        )
    points.add(e[ok], t[ok], epark[use][ok], gap[ok])
    np.add.at(count, epark[use][ok], 1)
    kind[np.unique(epark[use][ok])] = "entrances"


@dataclass(frozen=True, eq=False)
class _Zone:
    """Frontage stretches: base edge, span (fractions ta ≤ tb) and park of each."""

    edge: np.ndarray
    ta: np.ndarray
    tb: np.ndarray
    park: np.ndarray


def _frontage(graph: WalkGraph, park_geoms, frontage: np.ndarray, snap_distance_m: float) -> _Zone:
    """Stretches of ground-level street inside the parks `frontage` or near their boundary."""
    none = _Zone(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), np.empty(0, dtype=np.int64))
    if len(frontage) == 0:
        return none
    tree, ground = graph.ground
    zones = shapely.buffer(park_geoms[frontage], snap_distance_m, quad_segs=BUFFER_QUAD_SEGS)
    zi, gi = tree.query(zones, predicate="intersects")
    e = ground[gi]
    pieces = shapely.intersection(graph.edge_geometry[e], zones[zi])
    parts, pair = shapely.get_parts(pieces, return_index=True)
    coords, coord_part = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return none
    frac = _fractions(graph, e[pair[coord_part]], coords)
    starts = np.flatnonzero(np.r_[True, coord_part[1:] != coord_part[:-1]])
    part_of_start = coord_part[starts]
    return _Zone(
        edge=e[pair[part_of_start]],
        ta=np.minimum.reduceat(frac, starts),
        tb=np.maximum.reduceat(frac, starts),
        park=frontage[zi[pair[part_of_start]]],
    )


def _nearest_street_points(graph, park_geoms, isolated, connector_limit_m, points, kind, count):
    """Parks without frontage: reached from the nearest ground-level street (the gap counts)."""
    tree, ground = graph.ground
    ki, gi = tree.query_nearest(
        park_geoms[isolated], max_distance=connector_limit_m, all_matches=False
    )
    e = ground[gi]
    links = shapely.shortest_line(graph.edge_geometry[e], park_geoms[isolated[ki]])
    ends = shapely.get_coordinates(links).reshape(-1, 2, 2)
    points.add(
        e, _fractions(graph, e, ends[:, 0]), isolated[ki], np.hypot(*(ends[:, 1] - ends[:, 0]).T)
    )
    count[isolated[ki]] = 1
    kind[isolated[ki]] = "nearest_street"


def _frontage_pieces(graph: WalkGraph, new_graph: WalkGraph, zone: _Zone):
    """Edges of the graph with the access points inserted that lie on a frontage, and the park."""
    parent, pa = to_parent(graph, zone.edge, zone.ta)
    _, pb = to_parent(graph, zone.edge, zone.tb)
    first = np.searchsorted(new_graph.edge_parent, parent, side="left")
    n_pieces = np.searchsorted(new_graph.edge_parent, parent, side="right") - first
    rep = np.repeat(np.arange(len(zone.park)), n_pieces)
    piece = np.repeat(first - np.cumsum(n_pieces) + n_pieces, n_pieces) + np.arange(len(rep))
    eps = 1e-12
    inside = (new_graph.edge_t0[piece] >= pa[rep] - eps) & (
        new_graph.edge_t1[piece] <= pb[rep] + eps
    )
    pairs = pd.DataFrame({"e": piece[inside], "p": zone.park[rep[inside]]}).drop_duplicates()
    return pairs["e"].to_numpy(dtype=np.int64), pairs["p"].to_numpy(dtype=np.int64)
