"""Walking service areas 步行服务范围 as polygons for maps.

A service area is the set of places within `lateral_m` (default 50 m) of a *reached* part
of the street network: edges reached whole, plus partly reached edges cut at the exact
remaining distance (pgRouting's ``pgr_drivingDistance`` drops those). Each reached piece
is a straight segment cut by linear interpolation (vectorized); the pieces of one park
that lie on one road are joined into lines (``line_merge``), buffered with round ends and
joins — a person standing within `lateral_m` of a reached point of a street (in a
building along it, on a side path the road data lacks) — and the buffers of each park
are united. The buffer uses the house arc resolution of 16 segments per quarter circle.

Joining the pieces along their roads first gives the same polygon (the buffer of a line
is the union of the buffers of its segments) from far fewer, longer buffers: a street
crossing costs no round caps. Buffers and unions run in two threads (shapely releases
the GIL).

Note that coverage figures never use these polygons: a residential polygon is covered
when the walk from its representative point is within the limit (see
:func:`gisrenew.network.network_coverage`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

from gisrenew.coverage import BUFFER_QUAD_SEGS
from gisrenew.geometry import union_by_group
from gisrenew.network.graph import WalkGraph

__all__ = ["reached_pieces", "service_polygons"]


def reached_pieces(
    graph: WalkGraph,
    node_dist: np.ndarray,
    node_park: np.ndarray,
    limit: float,
    *,
    edges: np.ndarray | None = None,
    whole: np.ndarray | None = None,
    whole_park: np.ndarray | None = None,
    split: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The reached parts of edges, as straight pieces.

    Parameters
    ----------
    graph : WalkGraph
    node_dist : array of float
        Walk (metres) to every node; ``inf`` where not reached.
    node_park : array of int
        Park number each node's walk comes from.
    limit : float
        The walk limit in metres.
    edges : array of int, optional
        Only look at these edges (default: all).
    whole, whole_park : array of int, optional
        Edges reached whole whatever their end distances (park frontages), and their park.
    split : bool, default True
        Split an edge reached whole from two different parks where both walks are
        equal (each part goes to its nearer park). ``False`` gives the whole edge to the
        park of its ``u`` end (for one park's own pass).

    Returns
    -------
    start, end : numpy.ndarray, shape (m, 2)
        Piece end coordinates.
    park : numpy.ndarray of int
        Park number of each piece.
    edge : numpy.ndarray of int
        The edge each piece lies on (its road: ``graph.edge_road[edge]``).
    """
    e = np.arange(graph.n_edges) if edges is None else np.asarray(edges, dtype=np.int64)
    whole = np.empty(0, dtype=np.int64) if whole is None else np.asarray(whole, dtype=np.int64)
    if len(whole):
        e = e[~np.isin(e, whole)]
    u, v = graph.edge_u[e], graph.edge_v[e]
    length = graph.edge_length[e]
    du, dv = node_dist[u], node_dist[v]
    pu, pv = node_park[u], node_park[v]
    rem_u = limit - du
    rem_v = limit - dv
    full = (rem_u >= 0) & (rem_v >= 0) & (rem_u + rem_v >= length)
    both = np.flatnonzero(full)
    two = both[pu[both] != pv[both]] if split else both[:0]
    one = np.setdiff1d(both, two, assume_unique=True)
    # two parks: they meet where du + s = dv + L - s
    meet = np.clip((dv[two] + length[two] - du[two]) / 2.0 / length[two], 0.0, 1.0)
    from_u = np.flatnonzero(~full & (rem_u > 0))
    from_v = np.flatnonzero(~full & (rem_v > 0))
    local = np.concatenate([one, two, two, from_u, from_v])
    a = np.concatenate(
        [
            np.zeros(len(one) + len(two)),
            meet,
            np.zeros(len(from_u)),
            1.0 - np.minimum(rem_v[from_v] / length[from_v], 1.0),
        ]
    )
    b = np.concatenate(
        [
            np.ones(len(one)),
            meet,
            np.ones(len(two)),
            np.minimum(rem_u[from_u] / length[from_u], 1.0),
            np.ones(len(from_v)),
        ]
    )
    park = np.concatenate([pu[one], pu[two], pv[two], pu[from_u], pv[from_v]])
    idx = np.concatenate([e[local], whole])
    a = np.concatenate([a, np.zeros(len(whole))])
    b = np.concatenate([b, np.ones(len(whole))])
    if whole_park is None:
        whole_park = np.zeros(len(whole), dtype=np.int64)
    park = np.concatenate([park, np.asarray(whole_park, dtype=np.int64)])
    keep = b > a
    idx, a, b, park = idx[keep], a[keep], b[keep], park[keep]
    xy_u = graph.node_xy[graph.edge_u[idx]]
    d = graph.node_xy[graph.edge_v[idx]] - xy_u
    return xy_u + d * a[:, None], xy_u + d * b[:, None], park, idx


def service_polygons(
    start: np.ndarray,
    end: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    *,
    lateral_m: float = 50.0,
    strokes: np.ndarray | None = None,
) -> np.ndarray:
    """Buffer the reached pieces of each group (park) into one polygon per group.

    Parameters
    ----------
    start, end : numpy.ndarray, shape (m, 2)
        Piece end coordinates (:func:`reached_pieces`).
    group : array of int
        Group (park number, 0 … `n_groups` - 1) of each piece.
    n_groups : int
    lateral_m : float, default 50
        Buffer distance in metres.
    strokes : array of int, optional
        A key per piece, e.g. its road (``graph.edge_road[edge]``): the pieces of one
        group with one key are joined into lines before buffering. Any key gives the
        same polygon; keys whose pieces continue each other (the stretches of one road)
        make it much faster. Default: pieces join only where no third piece meets them.

    Returns
    -------
    numpy.ndarray of shapely geometries
        Length `n_groups`; groups without pieces get an empty polygon.
    """
    out = np.array([shapely.Polygon()] * n_groups, dtype=object)
    if len(start) == 0:
        return out
    group = np.asarray(group, dtype=np.int64)
    stroke = np.zeros(len(group), dtype=np.int64) if strokes is None else np.asarray(strokes)
    order = np.lexsort((stroke, group))
    lines = shapely.linestrings(np.stack([start[order], end[order]], axis=1))
    key = np.stack([group[order], stroke[order]], axis=1)
    first = np.r_[True, np.any(key[1:] != key[:-1], axis=1)]
    merged = shapely.line_merge(shapely.multilinestrings(lines, indices=np.cumsum(first) - 1))
    parts, part_of = shapely.get_parts(merged, return_index=True)
    part_group = group[order][first][part_of]  # sorted, as the merged lines are
    halves = _halves(part_group)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gisrenew-areas") as pool:
        done = pool.map(
            lambda rows: _united_buffers(parts[rows], part_group[rows], lateral_m), halves
        )
        for keys, unions in done:
            out[keys] = unions
    return out


def _halves(sorted_groups: np.ndarray) -> list[slice]:
    """Two slices of a sorted group array, split between groups, with about equal rows."""
    middle = int(np.searchsorted(sorted_groups, sorted_groups[len(sorted_groups) // 2]))
    return [slice(0, middle), slice(middle, len(sorted_groups))]


def _united_buffers(lines: np.ndarray, groups: np.ndarray, lateral_m: float):
    """Each line buffered by `lateral_m` (round ends), the buffers united per group."""
    buffered = shapely.buffer(lines, lateral_m, quad_segs=BUFFER_QUAD_SEGS)
    return union_by_group(buffered, groups)
