"""Walking reach of each facility type along streets 步行距离 (the network method).

As the park walk (:mod:`gisrenew.network`): one walk graph for every type; every
facility's access points are inserted into it once — a facility point is attached to its
nearest ground-level street within ``connector_limit_m`` (the link counts, like a park
entrance), a facility polygon gets frontage access like a park without entrances (streets
inside it or within ``snap_distance_m`` of its boundary; else the nearest street, the gap
counting) and entrance points whose ``park_id`` names a facility's ``facility_id`` are
that facility's entrances. Each residential piece walks from its representative point
(``point_on_surface``) straight to its nearest street, then along streets.

Then **one multi-source pass per type** (:func:`gisrenew.network.walk_reach`, every
facility of the other types left out): the walk from each piece to the nearest facility
of the type, unlimited, so the distance is known also where it is too far. A piece
reaches the type — whole — when that walk is within the type's walking distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from gisrenew.network import (
    WalkGraph,
    park_access,
    snap_to_access_graph,
    walk_from_points,
    walk_graph_from_roads,
    walk_reach,
)
from gisrenew.network.walk import LIMIT_SLACK_M

__all__ = ["WalkReach", "facility_walks", "walk_graph"]


@dataclass(frozen=True, eq=False)
class WalkReach:
    """Walks of every residential piece to every facility type.

    Attributes
    ----------
    distance : numpy.ndarray, shape (pieces, types)
        Metres walked to the nearest facility of each type (inf: no path; nan: the piece
        is farther than the connector limit from every street).
    nearest : numpy.ndarray of int, shape (pieces, types)
        Facility row of that walk (-1: none).
    reached : numpy.ndarray of bool, shape (pieces, types)
        The walk is within the type's walking distance.
    connector_m : numpy.ndarray
        Straight link from each piece's representative point to its street.
    access_kind : numpy.ndarray of str
        Per facility: ``entrances`` (points and given entrances), ``frontage``,
        ``nearest_street`` or ``none``.
    graph_nodes, graph_edges : int
        Size of the walk graph (before the access points).
    """

    distance: np.ndarray
    nearest: np.ndarray
    reached: np.ndarray
    connector_m: np.ndarray
    access_kind: np.ndarray
    graph_nodes: int
    graph_edges: int


def walk_graph(roads: gpd.GeoDataFrame | WalkGraph) -> WalkGraph:
    """`roads` when it is a walk graph already, else the graph of the (conformed) roads."""
    return roads if isinstance(roads, WalkGraph) else walk_graph_from_roads(roads)


def _access_layers(facilities: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None):
    """Facilities as park-like access layers: the sites, and their entrance points."""
    ids = facilities["facility_id"].astype(str).to_numpy(dtype=object)
    geoms = np.asarray(facilities.geometry.array, dtype=object)
    sites = gpd.GeoDataFrame({"park_id": ids}, geometry=geoms, crs=facilities.crs)
    punctual = np.isin(
        shapely.get_type_id(geoms), [shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT]
    )
    parts, owner = shapely.get_parts(geoms[punctual], return_index=True)
    entrance_ids = [np.char.add("facility-", np.arange(len(parts)).astype(str))]
    entrance_parks = [ids[punctual][owner]]
    entrance_geoms = [parts]
    if entrances is not None and len(entrances):
        given = entrances["park_id"].astype(str).str.strip().to_numpy(dtype=object)
        mine = np.isin(given, ids)
        entrance_ids.append(entrances["entrance_id"].astype(str).to_numpy(dtype=object)[mine])
        entrance_parks.append(given[mine])
        entrance_geoms.append(np.asarray(entrances.geometry.array, dtype=object)[mine])
    points = gpd.GeoDataFrame(
        {
            "entrance_id": np.concatenate(entrance_ids).astype(object),
            "park_id": np.concatenate(entrance_parks).astype(object),
        },
        geometry=np.concatenate(entrance_geoms),
        crs=facilities.crs,
    )
    points.attrs = {"kind": "entrances"}
    return sites, points


def facility_walks(
    graph: WalkGraph,
    facilities: gpd.GeoDataFrame,
    facility_type: np.ndarray,
    limits: np.ndarray,
    points,
    *,
    entrances: gpd.GeoDataFrame | None,
    snap_distance_m: float,
    connector_limit_m: float,
) -> WalkReach:
    """Walks from the points (pieces' representative points) to every facility type.

    Parameters
    ----------
    graph : WalkGraph
        The walk graph (one for every type).
    facilities : geopandas.GeoDataFrame
        Conformed facilities (``facility_id``) in the graph's CRS.
    facility_type : numpy.ndarray of int
        Type number of each facility (index into `limits`).
    limits : numpy.ndarray
        Walking distance of each type in metres.
    points : numpy.ndarray of Points
        Where each residential piece's walk starts.
    entrances : geopandas.GeoDataFrame, optional
        Entrance points; those whose ``park_id`` names a facility are its entrances.
    snap_distance_m, connector_limit_m : float
        As for the park walk.
    """
    sites, entrance_points = _access_layers(facilities, entrances)
    access = park_access(
        graph,
        sites,
        entrances=entrance_points if len(entrance_points) else None,
        snap_distance_m=snap_distance_m,
        connector_limit_m=connector_limit_m,
    )
    snap = snap_to_access_graph(access, points, connector_limit_m=connector_limit_m)
    n, k = len(points), len(limits)
    distance = np.full((n, k), np.inf)
    nearest = np.full((n, k), -1, dtype=np.int64)
    for t in range(k):  # one multi-source pass per type (few types)
        offset = np.where(facility_type == t, 0.0, np.inf)
        if np.isfinite(offset).any():
            reach = walk_reach(access, park_offset=offset)
            distance[:, t], nearest[:, t] = walk_from_points(access, snap, reach)
        else:
            distance[~snap.attached, t] = np.nan
    reached = np.isfinite(distance) & (distance <= limits[None, :] + LIMIT_SLACK_M)
    return WalkReach(
        distance,
        nearest,
        reached,
        snap.connector_m,
        access.access_kind,
        graph.n_nodes,
        graph.n_edges,
    )
