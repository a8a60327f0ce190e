"""The walk graph (步行路网): street centre lines noded into a compact routable graph.

Rules (also in the package docs, :mod:`gisrenew.network`):

* every vertex of a line is a node, so every edge is one straight segment; this keeps
  the graph exact (lengths, positions along an edge, cut points) and fully vectorized;
* lines that cross or touch **at the same** ``level`` are joined there even without a
  shared vertex (the crossing point becomes a node); lines at **different** levels
  (``1`` bridge, ``-1`` tunnel, ``0`` ground) are joined only where they share a vertex,
  so a bridge passes over the riverside road it crosses;
* a line end lying within `tolerance_m` of another line of the same level is joined to
  it (dangling ends from CAD drawings), and vertices closer than `tolerance_m` merge;
* duplicate segments (the same two end nodes, also overlapping collinear pieces) and
  zero-length segments are removed;
* ``walkable = False`` lines (expressways, ...) are left out;
* barriers (lines; polygons count by their outline) cut the **ground-level** edges they
  cross: the edge is split at the crossing and its two halves are not joined, so the
  walk must go round. Bridges and tunnels pass over/under barriers.

The graph is a set of numpy arrays plus a scipy CSR adjacency matrix, never a networkx
graph: a city of 200 000 segments is a few megabytes and routes in milliseconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from gisrenew.crs import ensure_metric
from gisrenew.errors import GeometryError
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed

__all__ = [
    "WalkGraph",
    "close_pairs",
    "insert_points",
    "merge_points",
    "to_parent",
    "walk_graph_from_roads",
]

log = logging.getLogger(__name__)

#: Positions closer than this to an edge end (metres) reuse the end node when inserting.
_END_SNAP_M = 1e-9


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """An undirected street graph whose every edge is one straight segment.

    Attributes
    ----------
    node_xy : numpy.ndarray, shape (n_nodes, 2)
        Node coordinates in the CRS `crs` (metres).
    edge_u, edge_v : numpy.ndarray of int64, shape (n_edges,)
        End nodes of each edge.
    edge_length : numpy.ndarray of float
        Length of each edge in metres (always > 0).
    edge_level : numpy.ndarray of int
        Vertical level of the road the edge comes from (0 ground, 1 bridge, -1 tunnel).
    edge_road : numpy.ndarray of int
        Row position (in `road_ids`) of the road each edge comes from.
    road_ids : numpy.ndarray of object
        ``road_id`` of every road row that was used.
    crs : pyproj.CRS or None
        The metric CRS of the coordinates.
    edge_parent, edge_t0, edge_t1 : numpy.ndarray
        Which edge of the *base* graph (the one built from the roads) each edge is a
        piece of, and the piece's span on it as fractions 0–1 from the base edge's
        ``u`` end. Edges are sorted by ``(edge_parent, edge_t0)``; for the base graph
        ``edge_parent = arange(n_edges)``, ``t0 = 0``, ``t1 = 1``.
    """

    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_level: np.ndarray
    edge_road: np.ndarray
    road_ids: np.ndarray
    crs: object = None
    edge_parent: np.ndarray | None = None
    edge_t0: np.ndarray | None = None
    edge_t1: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.edge_u)
        if self.edge_parent is None:
            object.__setattr__(self, "edge_parent", np.arange(n, dtype=np.int64))
            object.__setattr__(self, "edge_t0", np.zeros(n))
            object.__setattr__(self, "edge_t1", np.ones(n))

    # ------------------------------------------------------------------ sizes
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges (straight segments)."""
        return int(self.edge_u.shape[0])

    def __repr__(self) -> str:
        return (
            f"WalkGraph({self.n_nodes} nodes, {self.n_edges} edges, "
            f"{self.edge_length.sum() / 1000.0:.1f} km)"
        )

    # ------------------------------------------------------------------ derived
    @property
    def edge_xy(self) -> np.ndarray:
        """Edge end coordinates ``(x_u, y_u, x_v, y_v)``, shape (n_edges, 4)."""
        return np.hstack([self.node_xy[self.edge_u], self.node_xy[self.edge_v]])

    @cached_property
    def edge_geometry(self) -> np.ndarray:
        """Each edge as a shapely LineString (u → v)."""
        coords = np.stack([self.node_xy[self.edge_u], self.node_xy[self.edge_v]], axis=1)
        return shapely.linestrings(coords)

    @cached_property
    def adjacency(self) -> sp.csr_matrix:
        """Directed CSR matrix (both directions of every edge) weighted by length in metres."""
        n = self.n_nodes
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        data = np.concatenate([self.edge_length, self.edge_length])
        return sp.csr_matrix((data, (rows, cols)), shape=(n, n))

    @cached_property
    def node_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Incident edges per node as CSR arrays ``(indptr, edge_ids)``."""
        ends = np.concatenate([self.edge_u, self.edge_v])
        edges = np.concatenate([np.arange(self.n_edges)] * 2)
        order = np.argsort(ends, kind="stable")
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.add.at(indptr, ends + 1, 1)
        return np.cumsum(indptr), edges[order]

    @cached_property
    def ground(self) -> tuple[shapely.STRtree, np.ndarray]:
        """STRtree over the ground-level edges and their edge numbers.

        Parcels, entrances and park frontages attach only to ground-level edges (you
        cannot step onto a bridge or into a tunnel from the side). A graph without
        ground-level edges uses all of its edges.
        """
        edges = np.flatnonzero(self.edge_level == 0)
        if len(edges) == 0:
            edges = np.arange(self.n_edges)
        return shapely.STRtree(self.edge_geometry[edges]), edges

    @cached_property
    def _parent_keys(self) -> np.ndarray:
        return self.edge_parent * 2.0 + self.edge_t0

    def locate(self, parent: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Find positions given on the base graph's edges in this graph.

        Parameters
        ----------
        parent : array of int
            Base-graph edge of each position.
        t : array of float
            Fraction 0–1 along that base edge from its ``u`` end.

        Returns
        -------
        edge : numpy.ndarray of int
            The edge (piece) of this graph holding each position.
        offset_m : numpy.ndarray of float
            Distance in metres from that edge's ``u`` node along the edge.
        """
        parent = np.asarray(parent, dtype=np.int64)
        t = np.asarray(t, dtype=float)
        keys = parent * 2.0 + t
        edge = np.searchsorted(self._parent_keys, keys, side="right") - 1
        edge = np.clip(edge, 0, self.n_edges - 1)
        # a position exactly at t = 1 lands on the last piece of its parent
        span = self.edge_t1[edge] - self.edge_t0[edge]
        frac = np.clip((t - self.edge_t0[edge]) / span, 0.0, 1.0)
        return edge, frac * self.edge_length[edge]

    def components(self) -> np.ndarray:
        """Connected-component label of every node."""
        return connected_components(self.adjacency, directed=False)[1]

    def to_frame(self) -> gpd.GeoDataFrame:
        """The edges as a GeoDataFrame: ``u``, ``v``, ``length_m``, ``level``, ``road_id``."""
        return gpd.GeoDataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "length_m": self.edge_length,
                "level": self.edge_level,
                "road_id": self.road_ids[self.edge_road] if len(self.road_ids) else [],
            },
            geometry=self.edge_geometry,
            crs=self.crs,
        )


# ---------------------------------------------------------------------------- building


def _cross(ax, ay, bx, by):
    return ax * by - ay * bx


def _line_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split (multi)lines into single lines; return parts and the input row of each."""
    parts, rows = shapely.get_parts(geoms, return_index=True)
    types = shapely.get_type_id(parts)
    lines = (types == shapely.GeometryType.LINESTRING) | (types == shapely.GeometryType.LINEARRING)
    keep = lines & ~shapely.is_empty(parts)
    return parts[keep], rows[keep]


def _segments(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every consecutive vertex pair of every part: (a, b, part index)."""
    coords, index = shapely.get_coordinates(parts, return_index=True)
    same = index[1:] == index[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    return a, b, index[:-1][same]


def _barrier_segments(barriers) -> tuple[np.ndarray, np.ndarray]:
    geoms = geometry_array(barriers)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    polygonal = np.isin(
        shapely.get_type_id(geoms),
        [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON],
    )
    geoms = geoms.copy()
    geoms[polygonal] = shapely.boundary(geoms[polygonal])
    parts, _ = _line_parts(geoms)
    a, b, _ = _segments(parts)
    return a, b


def _segment_crossings(a0, a1, b0, b1, tol):
    """Split fractions for pairs of segments that intersect.

    Returns ``(t_on_a, valid_a, u_on_b, valid_b)`` for proper crossings and touches, plus
    the collinear-overlap splits as ``(pair_index, fraction, which)`` arrays.
    """
    r = a1 - a0
    s = b1 - b0
    qp = b0 - a0
    denom = _cross(r[:, 0], r[:, 1], s[:, 0], s[:, 1])
    len_r = np.hypot(r[:, 0], r[:, 1])
    len_s = np.hypot(s[:, 0], s[:, 1])
    parallel = np.abs(denom) <= 1e-12 * len_r * len_s
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _cross(qp[:, 0], qp[:, 1], s[:, 0], s[:, 1]) / denom
        u = _cross(qp[:, 0], qp[:, 1], r[:, 0], r[:, 1]) / denom
    t = np.where(parallel, np.nan, np.clip(t, 0.0, 1.0))
    u = np.where(parallel, np.nan, np.clip(u, 0.0, 1.0))

    # collinear overlaps: the ends of each segment lying on the other split it
    off_line = np.abs(_cross(qp[:, 0], qp[:, 1], r[:, 0], r[:, 1])) / np.where(len_r > 0, len_r, 1)
    collinear = parallel & (off_line <= tol)
    idx = np.flatnonzero(collinear)
    rr = (r * r).sum(axis=1)
    ss = (s * s).sum(axis=1)
    col_pairs, col_frac, col_on_b = [], [], []
    for end in (b0, b1):  # ends of b projected on a
        f = ((end - a0) * r).sum(axis=1)[idx] / rr[idx]
        col_pairs.append(idx)
        col_frac.append(f)
        col_on_b.append(np.zeros(len(idx), dtype=bool))
    for end in (a0, a1):  # ends of a projected on b
        f = ((end - b0) * s).sum(axis=1)[idx] / ss[idx]
        col_pairs.append(idx)
        col_frac.append(f)
        col_on_b.append(np.ones(len(idx), dtype=bool))
    return (
        t,
        u,
        np.concatenate(col_pairs),
        np.concatenate(col_frac),
        np.concatenate(col_on_b),
    )


def _unique_points(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(xy, axis=0, return_inverse=True)``, by a lexsort (several times faster)."""
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    ranked = xy[order]
    new = np.ones(len(xy), dtype=bool)
    new[1:] = np.any(ranked[1:] != ranked[:-1], axis=1)
    inverse = np.empty(len(xy), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ranked[new], inverse


#: A cell and the neighbours after it (x, then y): with the cell itself, every pair of
#: touching cells is visited once.
_HALF_NEIGHBOURS = ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1))


def close_pairs(xy: np.ndarray, tolerance: float) -> np.ndarray:
    """Every pair of points at most `tolerance` apart (点对容差查询).

    A pair counts when ``dx² + dy² <= tolerance²`` in floating point — the test
    :meth:`scipy.spatial.cKDTree.query_pairs` makes, so the pairs are exactly the ones it
    finds, without importing :mod:`scipy.spatial`. The points are hashed to a square
    grid of cells at least `tolerance` wide; only points in the same or touching cells
    are compared (numpy only, no loop per point).

    Parameters
    ----------
    xy : numpy.ndarray, shape (n, 2)
        Point coordinates (metres).
    tolerance : float
        The largest distance of a pair.

    Returns
    -------
    numpy.ndarray of int64, shape (n_pairs, 2)
        Index pairs ``(i, j)`` with ``i < j``, sorted by ``i`` then ``j``.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if tolerance < 0 or len(xy) < 2:
        return np.empty((0, 2), dtype=np.int64)
    key, width = _grid_cells(xy, tolerance)
    order = np.argsort(key, kind="stable")
    cells, start, count = np.unique(key[order], return_index=True, return_counts=True)
    point_cell = np.repeat(np.arange(len(cells)), count)  # cell of each sorted point
    found = []
    for gx, gy in _HALF_NEIGHBOURS:
        target = cells + gx * width + gy
        pos = np.minimum(np.searchsorted(cells, target), len(cells) - 1)
        neighbour = np.where(cells[pos] == target, pos, -1)[point_cell]
        i, j = _pairs_with_cells(neighbour, start, count)
        if gx == 0 and gy == 0:  # the same cell: each pair once, no point with itself
            i, j = i[i < j], j[i < j]
        found.append(np.column_stack([order[i], order[j]]))
    pairs = np.sort(np.concatenate(found), axis=1)
    d = xy[pairs[:, 0]] - xy[pairs[:, 1]]
    pairs = pairs[d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] <= tolerance * tolerance]
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _grid_cells(xy: np.ndarray, tolerance: float) -> tuple[np.ndarray, int]:
    """One int64 key per point for its grid cell, and the key's row width.

    Cells are `tolerance` wide (wider when the extent would need more than 2³⁰ per
    side), numbered from 1 so that every neighbour key stays in range.
    """
    lo = xy.min(axis=0)
    span = float((xy.max(axis=0) - lo).max())
    cell = max(tolerance, span / 2.0**30, np.finfo(float).tiny)
    grid = np.floor((xy - lo) / cell).astype(np.int64) + 1
    width = int(grid[:, 1].max()) + 2
    return grid[:, 0] * width + grid[:, 1], width


def _pairs_with_cells(
    neighbour: np.ndarray, start: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pair each (sorted) point with every point of its `neighbour` cell (-1: none)."""
    has = np.flatnonzero(neighbour >= 0)
    n = count[neighbour[has]]
    first = start[neighbour[has]]
    i = np.repeat(has, n)
    j = np.repeat(first - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
    return i, j


def merge_points(xy: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points at most `tolerance` apart, transitively (节点容差合并).

    Parameters
    ----------
    xy : numpy.ndarray, shape (n, 2)
        Point coordinates (metres).
    tolerance : float
        Points this close (see :func:`close_pairs`) join one cluster; chains join too.

    Returns
    -------
    labels : numpy.ndarray of int64, shape (n,)
        The cluster of each point. Clusters are numbered in the lexicographic
        ``(x, y)`` order of their smallest member.
    coords : numpy.ndarray, shape (n_clusters, 2)
        Each cluster's coordinates: those of its lexicographically smallest member.
    """
    unique, inverse = _unique_points(xy)
    pairs = close_pairs(unique, tolerance) if tolerance > 0 else np.empty((0, 2), np.int64)
    if len(pairs) == 0:
        return inverse, unique
    m = len(unique)
    link = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    _, labels = connected_components(link, directed=False)
    # the first (lexicographically smallest) member's coordinates represent the cluster
    _, first = np.unique(labels, return_index=True)
    return labels[inverse], unique[first]


def walk_graph_from_roads(
    roads: gpd.GeoDataFrame,
    *,
    barriers=None,
    tolerance_m: float = 0.01,
    node_crossings: bool = True,
) -> WalkGraph:
    """Build the walk graph from road centre lines (the ``roads`` layer).

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        Lines in a projected metric CRS. Optional columns (see :mod:`gisrenew.schema`):
        ``road_id``, ``walkable`` (rows with ``False`` are left out, default ``True``),
        ``level`` (0 ground, 1 bridge, -1 tunnel; default 0). The frame is validated
        with :func:`gisrenew.io.conform` and never modified.
    barriers : GeoDataFrame, GeoSeries or array of geometries, optional
        Lines (or polygons, by their outline) nobody can walk across, e.g. fenced rail
        lines or a river drawn as a polygon: every ground-level (``level == 0``) edge
        crossing one is cut there.
    tolerance_m : float, default 0.01
        Vertices closer than this merge, and a line end this close to another line of
        the same level is joined to it.
    node_crossings : bool, default True
        Join lines of the same level where they cross without a shared vertex. Set to
        ``False`` for sources whose topology is already exact (shared vertices only).

    Returns
    -------
    WalkGraph

    Raises
    ------
    CRSError
        If `roads` is not in a projected CRS in metres.
    GeometryError
        If no walkable line is left.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (200, 0)]),
    ...                                    shapely.LineString([(100, -50), (100, 50)])],
    ...                          crs="EPSG:4549")
    >>> walk_graph_from_roads(roads)   # the crossing at (100, 0) is a junction
    WalkGraph(5 nodes, 4 edges, 0.3 km)
    """
    ensure_metric(roads, "roads")
    frame = conformed(roads, "roads", name="roads")
    walkable = frame["walkable"].fillna(True).astype(bool).to_numpy()
    frame = frame.loc[walkable].reset_index(drop=True)
    segs = _Segments.from_roads(frame)
    splits = _Splits(segs.length, tolerance_m)
    tree = shapely.STRtree(segs.geoms)
    if node_crossings:
        _split_crossings(segs, tree, splits, tolerance_m)
    if tolerance_m > 0:
        _split_at_line_ends(segs, tree, splits, tolerance_m)
    n_cut = 0
    if barriers is not None:
        before = splits.count
        _split_at_barriers(barriers, segs, tree, splits, tolerance_m)
        n_cut = splits.count - before
    pieces = _pieces(segs, splits)
    node_xy, u, v = _nodes(pieces, tolerance_m)
    keep, node_xy, u, v = _unique_edges(node_xy, u, v)
    edge_length = np.hypot(*(node_xy[v] - node_xy[u]).T)
    log.info(
        "walk graph: %d roads → %d segments → %d nodes, %d edges (%d duplicate/zero-length "
        "pieces removed, %d barrier cuts)",
        len(frame), len(segs.a), len(node_xy), len(u), len(pieces.seg) - len(u), n_cut,
    )  # fmt: skip
    return WalkGraph(
        node_xy=node_xy,
        edge_u=u.astype(np.int64),
        edge_v=v.astype(np.int64),
        edge_length=edge_length,
        edge_level=segs.level[pieces.seg[keep]].astype(np.int64),
        edge_road=segs.road[pieces.seg[keep]].astype(np.int64),
        road_ids=segs.road_ids,
        crs=frame.crs,
    )


@dataclass(frozen=True, eq=False)
class _Segments:
    """Every straight segment of the walkable roads (zero-length ones dropped)."""

    a: np.ndarray  # start and end coordinates, shape (n, 2)
    b: np.ndarray
    road: np.ndarray  # road row of each segment
    level: np.ndarray  # its level (0 ground, 1 bridge, -1 tunnel)
    length: np.ndarray
    geoms: np.ndarray  # the segments as LineStrings
    parts: np.ndarray  # the single lines of the roads, and the road row of each
    part_road: np.ndarray
    road_levels: np.ndarray  # level per road row
    road_ids: np.ndarray

    @classmethod
    def from_roads(cls, frame: gpd.GeoDataFrame) -> _Segments:
        road_ids = frame["road_id"].astype(str).to_numpy(dtype=object)
        road_levels = frame["level"].fillna(0).astype(np.int64).to_numpy()
        parts, part_road = _line_parts(geometry_array(frame))
        a, b, seg_part = _segments(parts)
        seg_road = part_road[seg_part]
        length = np.hypot(*(b - a).T)
        ok = length > 0
        if not ok.any():
            raise GeometryError(
                "`roads` has no walkable line with a length: check the layer and its `walkable` "
                "column"
            )
        a, b, seg_road, length = a[ok], b[ok], seg_road[ok], length[ok]
        geoms = shapely.linestrings(np.stack([a, b], axis=1))
        return cls(a, b, seg_road, road_levels[seg_road], length, geoms, parts, part_road,
                   road_levels, road_ids)  # fmt: skip


class _Splits:
    """Split fractions collected per segment (positions within the tolerance of an end skipped)."""

    def __init__(self, length: np.ndarray, tolerance_m: float):
        self.length = length
        self.tolerance_m = tolerance_m
        self.seg: list[np.ndarray] = []
        self.t: list[np.ndarray] = []
        self.cut: list[np.ndarray] = []

    @property
    def count(self) -> int:
        return sum(len(x) for x in self.seg)

    def add(self, seg, t, cut: bool = False) -> None:
        seg = np.asarray(seg, dtype=np.int64)
        t = np.asarray(t, dtype=float)
        ok = np.isfinite(t)
        seg, t = seg[ok], t[ok]
        length = self.length[seg]
        inner = (t * length > self.tolerance_m) & ((1.0 - t) * length > self.tolerance_m)
        self.seg.append(seg[inner])
        self.t.append(t[inner])
        self.cut.append(np.full(int(inner.sum()), cut))


def _split_crossings(segs: _Segments, tree, splits: _Splits, tolerance_m: float) -> None:
    """Crossings and touches between segments of the same level."""
    i, j = tree.query(segs.geoms, predicate="intersects")
    keep = (i < j) & (segs.level[i] == segs.level[j])
    i, j = i[keep], j[keep]
    t, u, col_pair, col_frac, col_on_b = _segment_crossings(
        segs.a[i], segs.b[i], segs.a[j], segs.b[j], tolerance_m
    )
    splits.add(i, t)
    splits.add(j, u)
    splits.add(np.where(col_on_b, j[col_pair], i[col_pair]), col_frac)


def _split_at_line_ends(segs: _Segments, tree, splits: _Splits, tolerance_m: float) -> None:
    """Line ends within the tolerance of another line of the same level."""
    ends = np.concatenate([shapely.get_point(segs.parts, 0), shapely.get_point(segs.parts, -1)])
    end_level = np.concatenate([segs.road_levels[segs.part_road]] * 2)
    p, s = tree.query(ends, predicate="dwithin", distance=tolerance_m)
    keep = end_level[p] == segs.level[s]
    p, s = p[keep], s[keep]
    pxy = shapely.get_coordinates(ends)[p]
    d = segs.b[s] - segs.a[s]
    t = ((pxy - segs.a[s]) * d).sum(axis=1) / (d * d).sum(axis=1)
    splits.add(s, np.clip(t, 0.0, 1.0))


def _split_at_barriers(barriers, segs: _Segments, tree, splits: _Splits, tolerance_m) -> None:
    """Barriers cut the ground-level segments they cross."""
    ba, bb = _barrier_segments(barriers)
    if len(ba) == 0:
        return
    bgeoms = shapely.linestrings(np.stack([ba, bb], axis=1))
    k, s = tree.query(bgeoms, predicate="intersects")
    keep = segs.level[s] == 0
    k, s = k[keep], s[keep]
    t, _, _, _, _ = _segment_crossings(segs.a[s], segs.b[s], ba[k], bb[k], tolerance_m)
    splits.add(s, t, cut=True)


@dataclass(frozen=True, eq=False)
class _Pieces:
    """Pieces of segments between consecutive split fractions."""

    seg: np.ndarray  # segment of each piece
    xy0: np.ndarray  # end coordinates
    xy1: np.ndarray
    cut0: np.ndarray  # whether each end is a barrier cut
    cut1: np.ndarray


def _pieces(segs: _Segments, splits: _Splits) -> _Pieces:
    n_seg = len(segs.a)
    all_seg = np.concatenate([np.arange(n_seg), np.arange(n_seg), *splits.seg])
    all_t = np.concatenate([np.zeros(n_seg), np.ones(n_seg), *splits.t])
    all_cut = np.concatenate([np.zeros(2 * n_seg, dtype=bool), *splits.cut])
    order = np.lexsort((all_t, all_seg))
    all_seg, all_t, all_cut = all_seg[order], all_t[order], all_cut[order]
    new_group = np.ones(len(all_seg), dtype=bool)
    new_group[1:] = (all_seg[1:] != all_seg[:-1]) | (
        (all_t[1:] - all_t[:-1]) * segs.length[all_seg[1:]] > 1e-9
    )
    starts = np.flatnonzero(new_group)
    cut = np.logical_or.reduceat(all_cut, starts)
    all_seg, all_t = all_seg[starts], all_t[starts]
    same = all_seg[1:] == all_seg[:-1]
    p_seg = all_seg[:-1][same]
    p_t0, p_t1 = all_t[:-1][same], all_t[1:][same]
    d = segs.b[p_seg] - segs.a[p_seg]
    xy0 = segs.a[p_seg] + d * p_t0[:, None]
    xy1 = segs.a[p_seg] + d * p_t1[:, None]
    return _Pieces(p_seg, xy0, xy1, cut[:-1][same], cut[1:][same])


def _nodes(pieces: _Pieces, tolerance_m: float):
    """Merge coincident piece ends into nodes; cut points stay apart (one node per side)."""
    n_piece = len(pieces.seg)
    pts = np.concatenate([pieces.xy0, pieces.xy1])
    pts_cut = np.concatenate([pieces.cut0, pieces.cut1])
    labels = np.empty(2 * n_piece, dtype=np.int64)
    merged_labels, node_xy = merge_points(pts[~pts_cut], tolerance_m)
    labels[~pts_cut] = merged_labels
    labels[pts_cut] = len(node_xy) + np.arange(int(pts_cut.sum()))
    node_xy = np.concatenate([node_xy, pts[pts_cut]])
    return node_xy, labels[:n_piece], labels[n_piece:]


def _unique_edges(node_xy, u, v):
    """Drop zero-length and duplicate edges and the nodes no edge uses; renumber.

    Returns the kept pieces (positions), node coordinates and the edges' end nodes.
    """
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    valid = lo != hi
    pair = lo[valid].astype(np.int64) * max(len(node_xy), 1) + hi[valid]  # one number per pair
    _, first = np.unique(pair, return_index=True)
    keep = np.flatnonzero(valid)[np.sort(first)]
    u, v = u[keep], v[keep]
    used = np.zeros(len(node_xy), dtype=bool)
    used[u] = True
    used[v] = True
    renumber = np.cumsum(used) - 1
    return keep, node_xy[used], renumber[u], renumber[v]


# ---------------------------------------------------------------------------- insertion


def to_parent(graph: WalkGraph, edge, t) -> tuple[np.ndarray, np.ndarray]:
    """Convert positions on `graph`'s edges to positions on its base edges.

    Returns the base edge and the fraction along it of every position.
    """
    edge = np.asarray(edge, dtype=np.int64)
    t = np.asarray(t, dtype=float)
    t0, t1 = graph.edge_t0[edge], graph.edge_t1[edge]
    return graph.edge_parent[edge], t0 + t * (t1 - t0)


def insert_points(graph: WalkGraph, edge, t) -> tuple[WalkGraph, np.ndarray]:
    """Insert positions into the graph, splitting the edges they lie on.

    Parameters
    ----------
    graph : WalkGraph
    edge : array of int
        Edge (of `graph`) of each position.
    t : array of float
        Fraction 0–1 along the edge from its ``u`` node.

    Returns
    -------
    graph : WalkGraph
        A new graph: every position is a node, split edges are replaced by their pieces
        (whose lengths add up to the edge's), everything else is unchanged.
    nodes : numpy.ndarray of int
        The node of each position (an existing end node when the position is within
        1e-9 m of it; one node per distinct position).
    """
    edge = np.asarray(edge, dtype=np.int64)
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    length = graph.edge_length[edge]
    at_u = t * length <= _END_SNAP_M
    at_v = ~at_u & ((1.0 - t) * length <= _END_SNAP_M)
    inner = ~(at_u | at_v)
    nodes = np.where(at_u, graph.edge_u[edge], graph.edge_v[edge])
    if not inner.any():
        return graph, nodes

    # one new node per distinct inner position
    pos = pd.DataFrame({"e": edge[inner], "t": t[inner]})
    codes, uniq = pd.MultiIndex.from_frame(pos).factorize()
    ue = uniq.get_level_values(0).to_numpy(dtype=np.int64)
    ut = uniq.get_level_values(1).to_numpy(dtype=float)
    new_ids = graph.n_nodes + np.arange(len(ue))
    nodes[inner] = new_ids[codes]
    uv = graph.node_xy[graph.edge_v[ue]] - graph.node_xy[graph.edge_u[ue]]
    new_xy = graph.node_xy[graph.edge_u[ue]] + uv * ut[:, None]

    # pieces of the split edges: ends + inner positions, sorted along each edge
    split = np.unique(ue)
    k = len(split)
    pe = np.concatenate([split, split, ue])
    pt = np.concatenate([np.zeros(k), np.ones(k), ut])
    pn = np.concatenate([graph.edge_u[split], graph.edge_v[split], new_ids])
    order = np.lexsort((pt, pe))
    pe, pt, pn = pe[order], pt[order], pn[order]
    same = pe[1:] == pe[:-1]
    piece_edge = pe[:-1][same]
    ta, tb = pt[:-1][same], pt[1:][same]
    piece_u, piece_v = pn[:-1][same], pn[1:][same]
    span = graph.edge_t1[piece_edge] - graph.edge_t0[piece_edge]

    keep = np.ones(graph.n_edges, dtype=bool)
    keep[split] = False
    old = np.flatnonzero(keep)

    def both(old_values, new_values):
        return np.concatenate([old_values[old], new_values])

    parent = both(graph.edge_parent, graph.edge_parent[piece_edge])
    t0 = both(graph.edge_t0, graph.edge_t0[piece_edge] + ta * span)
    t1 = both(graph.edge_t1, graph.edge_t0[piece_edge] + tb * span)
    order = np.lexsort((t0, parent))
    result = WalkGraph(
        node_xy=np.concatenate([graph.node_xy, new_xy]),
        edge_u=both(graph.edge_u, piece_u)[order],
        edge_v=both(graph.edge_v, piece_v)[order],
        edge_length=both(graph.edge_length, graph.edge_length[piece_edge] * (tb - ta))[order],
        edge_level=both(graph.edge_level, graph.edge_level[piece_edge])[order],
        edge_road=both(graph.edge_road, graph.edge_road[piece_edge])[order],
        road_ids=graph.road_ids,
        crs=graph.crs,
        edge_parent=parent[order],
        edge_t0=t0[order],
        edge_t1=t1[order],
    )
    return result, nodes
