"""Walking service areas 步行服务范围 as polygons for maps.

A service area is the set of places within `lateral_m` (default 50 m) of a *reached* part
of the street network: edges reached whole, plus partly reached edges cut at the exact
remaining distance (pgRouting's ``pgr_drivingDistance`` drops those). Each reached piece
is a straight segment cut by linear interpolation (vectorized), the pieces of one park
are merged (``line_merge``) and buffered with round ends — a person standing within
`lateral_m` of a reached point of a street (in a building along it, on a side path the
road data lacks). The buffer uses the house arc resolution of 16 segments per quarter
circle.

Note that coverage figures never use these polygons: a residential polygon is covered
when the walk from its representative point is within the limit (see
:func:`gisrenew.network.network_coverage`).
"""

from __future__ import annotations

import numpy as np
import shapely

from gisrenew.coverage import BUFFER_QUAD_SEGS
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    return xy_u + d * a[:, None], xy_u + d * b[:, None], park


def service_polygons(
    start: np.ndarray,
    end: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    *,
    lateral_m: float = 50.0,
) -> np.ndarray:
    """Buffer the reached pieces of each group (park) into one polygon per group.

    Returns an object array of length `n_groups`; groups without pieces get an empty
    polygon.
    """
    out = np.array([shapely.Polygon()] * n_groups, dtype=object)
    if len(start) == 0:
        return out
    order = np.argsort(group, kind="stable")
    group = np.asarray(group)[order]
    lines = shapely.linestrings(np.stack([start[order], end[order]], axis=1))
    present, index = np.unique(group, return_inverse=True)
    merged = shapely.line_merge(shapely.multilinestrings(lines, indices=index))
    # buffering the merged lines one by one and uniting them per group is about twice
    # as fast as buffering each group's MultiLineString at once
    parts, part_group = shapely.get_parts(merged, return_index=True)
    buffered = shapely.buffer(parts, lateral_m, quad_segs=BUFFER_QUAD_SEGS)
    bounds = np.searchsorted(part_group, np.arange(len(present) + 1))
    for j, target in enumerate(present):
        out[target] = shapely.disjoint_subset_union_all(buffered[bounds[j] : bounds[j + 1]])
    return out
