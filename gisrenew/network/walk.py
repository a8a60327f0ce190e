"""Walking distances: one multi-source shortest-path pass from every park at once.

:func:`walk_reach` runs :func:`scipy.sparse.csgraph.dijkstra` with ``min_only=True``
from all access points together. A source that starts with metres already walked (an
entrance link, or the tier handicap below) gets a virtual node joined to its street node
by an edge of that length, so every start has its own offset and ``sources`` still
tells which park each node is nearest to.

**Tiers in one pass.** With tiered radii a place is covered when *some* park's walk is
within *that park's* limit: ``min_p (d_p(x) - r_p) <= 0``. Adding ``R - r_p`` (``R`` the
largest limit) to every start of park ``p`` turns that into one ordinary pass:
``min_p (d_p(x) + R - r_p) <= R`` — a "handicapped" distance compared with ``R``, run
with ``limit=R``. The park that wins is the one serving the place with the most slack.
The plain distance to the nearest park (no handicap) is a second pass.

:func:`walk_from_points` gives the walk from any point: the straight connector to its
nearest ground-level street, then along the street to the better end of the edge (or
straight onto a park frontage lying on that edge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from gisrenew.network.access import ParkAccess, snap_points
from gisrenew.network.graph import WalkGraph, to_parent

#: Walks within this many metres over a limit still count (floating-point rounding).
LIMIT_SLACK_M = 1e-6

__all__ = [
    "LIMIT_SLACK_M",
    "PointSnap",
    "Reach",
    "snap_to_access_graph",
    "virtual_sources",
    "walk_from_points",
    "walk_reach",
]


@dataclass(frozen=True, eq=False)
class Reach:
    """Result of one shortest-path pass.

    Attributes
    ----------
    node_dist : numpy.ndarray
        Walk in metres from the nearest (handicapped) start to every node of the access
        graph; ``inf`` beyond `limit` or when unconnected.
    node_park : numpy.ndarray of int
        Park number (index into ``ParkAccess.park_ids``) the distance comes from; -1 if none.
    zone_dist, zone_park : numpy.ndarray
        Per edge: the start offset of the park whose frontage the edge lies on
        (``inf`` / -1 for edges on no frontage).
    limit : float
        The pass's cutoff in metres.
    """

    node_dist: np.ndarray
    node_park: np.ndarray
    zone_dist: np.ndarray
    zone_park: np.ndarray
    limit: float


def _sources_for_pass(access: ParkAccess, park_offset, parks):
    offset = access.source_offset + park_offset[access.source_park]
    keep = np.isfinite(offset)
    if parks is not None:
        keep &= np.isin(access.source_park, parks)
    node, park, offset = access.source_node[keep], access.source_park[keep], offset[keep]
    # one start per node: the smallest offset (ties: the lower park number)
    order = np.lexsort((park, offset, node))
    node, park, offset = node[order], park[order], offset[order]
    first = np.r_[True, node[1:] != node[:-1]] if len(node) else np.empty(0, dtype=bool)
    return node[first], park[first], offset[first]


def virtual_sources(graph: WalkGraph, node, offset):
    """Adjacency with one virtual start node per positive offset; return (csr, starts).

    The virtual nodes are appended as extra rows (each with a single edge to its street
    node), so the street part of the CSR arrays is reused as it is.
    """
    n = graph.n_nodes
    virtual = np.flatnonzero(offset > 0)
    if len(virtual) == 0:
        return graph.adjacency, node
    adj = graph.adjacency
    m = n + len(virtual)
    indptr = np.concatenate([adj.indptr, adj.indptr[-1] + np.arange(1, len(virtual) + 1)])
    indices = np.concatenate([adj.indices, node[virtual].astype(adj.indices.dtype)])
    data = np.concatenate([adj.data, offset[virtual]])
    csr = sp.csr_matrix((data, indices, indptr), shape=(m, m))
    starts = node.copy()
    starts[virtual] = n + np.arange(len(virtual))
    return csr, starts


def walk_reach(
    access: ParkAccess,
    *,
    park_offset=None,
    limit: float = np.inf,
    parks=None,
) -> Reach:
    """Walking distance from the parks' access points to every node (one Dijkstra pass).

    Parameters
    ----------
    access : ParkAccess
        Access points inserted into the walk graph (:func:`park_access`).
    park_offset : array of float, optional
        Metres added to every start of each park (e.g. the tier handicap ``R - r_p``);
        ``inf`` leaves a park out. Default 0 for every park.
    limit : float, default inf
        Stop the search beyond this many metres.
    parks : array of int, optional
        Only start from these park numbers.

    Returns
    -------
    Reach
    """
    graph = access.graph
    n_parks = len(access.park_ids)
    park_offset = np.zeros(n_parks) if park_offset is None else np.asarray(park_offset, dtype=float)
    node, park, offset = _sources_for_pass(access, park_offset, parks)
    within = offset <= limit
    node, park, offset = node[within], park[within], offset[within]
    node_dist = np.full(graph.n_nodes, np.inf)
    node_park = np.full(graph.n_nodes, -1, dtype=np.int64)
    if len(node):
        csr, starts = virtual_sources(graph, node, offset)
        dist, _, src = dijkstra(
            csr, directed=True, indices=starts, min_only=True, limit=limit,
            return_predecessors=True,
        )  # fmt: skip
        label = np.full(csr.shape[0], -1, dtype=np.int64)
        label[starts] = park
        node_dist = dist[: graph.n_nodes]
        src = src[: graph.n_nodes]
        node_park = np.where(src >= 0, label[np.maximum(src, 0)], -1)
    zone_dist = np.full(graph.n_edges, np.inf)
    zone_park = np.full(graph.n_edges, -1, dtype=np.int64)
    if len(access.zone_edge):
        zoff = park_offset[access.zone_park]
        ok = np.isfinite(zoff) & (zoff <= limit)
        if parks is not None:
            ok &= np.isin(access.zone_park, parks)
        ze, zp, zo = access.zone_edge[ok], access.zone_park[ok], zoff[ok]
        order = np.lexsort((zp, zo, ze))  # per edge: the smallest offset, then lower park
        ze, zp, zo = ze[order], zp[order], zo[order]
        first = np.r_[True, ze[1:] != ze[:-1]] if len(ze) else np.empty(0, dtype=bool)
        zone_dist[ze[first]] = zo[first]
        zone_park[ze[first]] = zp[first]
    return Reach(node_dist, node_park, zone_dist, zone_park, float(limit))


@dataclass(frozen=True, eq=False)
class PointSnap:
    """Points attached to the access graph.

    Attributes
    ----------
    edge : numpy.ndarray of int
        Edge of the access graph per point (-1: no ground-level street within the limit).
    offset_m : numpy.ndarray of float
        Metres from the edge's ``u`` node to the attachment position.
    connector_m : numpy.ndarray of float
        Straight distance from the point to the street (nan when not attached).
    """

    edge: np.ndarray
    offset_m: np.ndarray
    connector_m: np.ndarray

    @property
    def attached(self) -> np.ndarray:
        """True where the point reached a street within the connector limit."""
        return self.edge >= 0


def snap_to_access_graph(access: ParkAccess, points, *, connector_limit_m: float) -> PointSnap:
    """Attach points (e.g. parcel representative points) to the access graph.

    Each point goes to its nearest position on a ground-level edge (vectorized
    :meth:`shapely.STRtree.query_nearest`); points farther than `connector_limit_m`
    from every such edge stay unattached.
    """
    edge, t, connector = snap_points(access.base, points, max_distance_m=connector_limit_m)
    attached = edge >= 0
    piece = np.full(len(edge), -1, dtype=np.int64)
    offset = np.full(len(edge), np.nan)
    if attached.any():
        parent, pt = to_parent(access.base, edge[attached], t[attached])
        piece[attached], offset[attached] = access.graph.locate(parent, pt)
    return PointSnap(piece, offset, connector)


def walk_from_points(access: ParkAccess, snap: PointSnap, reach: Reach):
    """Walk from attached points to the nearest start of a pass.

    Returns
    -------
    dist : numpy.ndarray
        connector + min(d(u) + offset, d(v) + length − offset, frontage offset) per
        point; ``inf`` where unreachable (also beyond the pass's limit), nan where
        the point is not attached.
    park : numpy.ndarray of int
        Park number the walk leads to (-1 if none).
    """
    graph = access.graph
    n = len(snap.edge)
    dist = np.full(n, np.nan)
    park = np.full(n, -1, dtype=np.int64)
    ok = snap.attached
    e = snap.edge[ok]
    off = snap.offset_m[ok]
    u, v = graph.edge_u[e], graph.edge_v[e]
    options = np.stack(
        [
            reach.node_dist[u] + off,
            reach.node_dist[v] + (graph.edge_length[e] - off),
            reach.zone_dist[e],
        ]
    )
    labels = np.stack([reach.node_park[u], reach.node_park[v], reach.zone_park[e]])
    best = np.argmin(options, axis=0)
    along = options[best, np.arange(len(e))]
    walk = snap.connector_m[ok] + along
    label = labels[best, np.arange(len(e))]
    reached = np.isfinite(walk) & (walk <= reach.limit + LIMIT_SLACK_M)
    dist[ok] = np.where(reached, walk, np.inf)
    park[ok] = np.where(reached, label, -1)
    return dist, park
