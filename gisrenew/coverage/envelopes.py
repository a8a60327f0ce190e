"""Which polygons of one layer may overlap: pairs whose envelopes overlap with area.

Used by the first-wins overlap rule of the residential denominator
(:mod:`gisrenew.coverage.land`): only these pairs are tested with a GEOS predicate.
For the usual layer of many similar-sized polygons the search runs in numpy on a grid
of cells; the few large polygons (and layers the grid does not suit) go through an
STRtree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["envelope_overlaps", "envelope_overlaps_tree"]


def _open_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether envelopes ``a`` and ``b`` (rows of xmin, ymin, xmax, ymax) overlap with area."""
    return (a[:, 0] < b[:, 2]) & (b[:, 0] < a[:, 2]) & (a[:, 1] < b[:, 3]) & (b[:, 1] < a[:, 3])


def _later_earlier(a: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs as (later, earlier), sorted by later, then earlier."""
    later, earlier = np.maximum(a, c), np.minimum(a, c)
    order = np.lexsort((earlier, later))
    return later[order], earlier[order]


def envelope_overlaps_tree(geoms: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`envelope_overlaps` by an STRtree query (any layout of envelopes)."""
    later, earlier = shapely.STRtree(geoms).query(geoms)
    keep = earlier < later
    later, earlier = later[keep], earlier[keep]
    meet = _open_overlap(bounds[later], bounds[earlier])
    return _later_earlier(later[meet], earlier[meet])


@dataclass
class _Grid:
    """Small envelopes binned into square cells, sorted by cell."""

    key: np.ndarray  # sorted cell number of each envelope
    counts: np.ndarray  # envelopes per cell
    rows: int  # cells per grid column (with an empty cell below and above)
    xmin: np.ndarray
    ymin: np.ndarray
    xmax: np.ndarray
    ymax: np.ndarray
    row_of: np.ndarray  # layer row of each sorted envelope

    def offsets(self) -> tuple[int, ...]:
        """Neighbour cells checked from each cell: above; right-below, right, right-above."""
        return (1, self.rows - 1, self.rows, self.rows + 1)


def _grid(bs: np.ndarray, rows_of_bs: np.ndarray, cell: float) -> _Grid | None:
    """Bin the envelopes `bs` into cells of size `cell`; None when a grid does not suit."""
    gx = np.floor((bs[:, 0] - bs[:, 0].min()) / cell).astype(np.intp)
    gy = np.floor((bs[:, 1] - bs[:, 1].min()) / cell).astype(np.intp)
    rows = int(gy.max()) + 3  # an empty row below and above each column: no wrap-around
    n_cells = (int(gx.max()) + 2) * rows
    if n_cells > 4 * len(bs) + 1024:
        return None  # too sparse
    key = gx * rows + gy + 1
    counts = np.bincount(key, minlength=n_cells)
    offsets = (1, rows - 1, rows, rows + 1)  # as _Grid.offsets
    candidates = int((counts * (counts - 1) // 2).sum()) + sum(
        int((counts[:-off] * counts[off:]).sum()) for off in offsets
    )
    if candidates > 16 * len(bs) + 1024:
        return None  # too crowded
    order = np.argsort(key, kind="stable")
    xmin, ymin, xmax, ymax = (bs[:, c][order] for c in range(4))
    return _Grid(key[order], counts, rows, xmin, ymin, xmax, ymax, rows_of_bs[order])


def _grid_pairs(grid: _Grid) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of small envelopes in the same or neighbouring cells that overlap (layer rows)."""
    ks, counts = grid.key, grid.counts
    first = np.cumsum(counts) - counts  # sorted position of each cell's first envelope
    pos = np.arange(len(ks))
    found_i, found_j = [], []
    for off in (0, *grid.offsets()):
        if off == 0:  # the envelopes after this one in its own cell
            count = first[ks] + counts[ks] - pos - 1
            begin = pos + 1
        else:
            count = counts[ks + off]
            begin = first[ks + off]
        total = int(count.sum())
        if total == 0:
            continue
        i = np.repeat(pos, count)
        j = np.repeat(begin - (np.cumsum(count) - count), count)
        j += np.arange(total)
        meet = grid.xmin[i] < grid.xmax[j]
        meet &= grid.xmin[j] < grid.xmax[i]
        meet &= grid.ymin[i] < grid.ymax[j]
        meet &= grid.ymin[j] < grid.ymax[i]
        found_i.append(i[meet])
        found_j.append(j[meet])
    none = np.zeros(0, dtype=np.intp)
    a = grid.row_of[np.concatenate(found_i)] if found_i else none
    c = grid.row_of[np.concatenate(found_j)] if found_j else none
    return a, c


def _big_pairs(geoms, bounds, ok, big) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of a large envelope (rows `big`) with any envelope (rows `ok`) that overlap."""
    q, t = shapely.STRtree(geoms[big]).query(geoms[ok])
    q, t = ok[q], big[t]
    big_row = np.zeros(len(bounds), dtype=bool)
    big_row[big] = True
    keep = ~big_row[q] | (q > t)  # a pair of two large ones once
    q, t = q[keep], t[keep]
    meet = _open_overlap(bounds[q], bounds[t])
    return q[meet], t[meet]


def envelope_overlaps(geoms: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (later, earlier) of geometries whose envelopes overlap with positive area.

    ``earlier < later``, sorted by later, then earlier; envelopes that merely touch (a
    shared edge or corner) are left out, and so are missing and empty geometries. The
    same pairs as an STRtree query followed by the open-overlap test, found in numpy for
    the usual layer of many similar-sized polygons: the envelopes are binned into a grid
    of cells a little larger than 99% of them, so two that overlap lie in the same or
    neighbouring cells; the few larger ones are matched through an STRtree. A grid that
    would be too sparse or too crowded falls back to the STRtree for everything.
    """
    none = np.zeros(0, dtype=np.intp)
    finite = np.isfinite(bounds[:, 0])  # missing and empty geometries: all nan
    ok = np.arange(len(bounds)) if finite.all() else np.flatnonzero(finite)
    if len(ok) < 2:
        return none, none
    b = bounds if len(ok) == len(bounds) else bounds[ok]
    extent = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    limit = float(np.quantile(extent, 0.99))
    if not limit > 0:
        limit = float(extent.max())
    is_big = extent > limit
    small = np.flatnonzero(~is_big)
    # a margin over the largest small extent absorbs rounding in the cell numbers
    cell = (limit or 1.0) * (1 + 1e-6)
    bs = b if len(small) == len(b) else b[small]
    grid = _grid(bs, ok[small], cell)
    if grid is None:
        return envelope_overlaps_tree(geoms, bounds)
    a, c = _grid_pairs(grid)
    if is_big.any():
        q, t = _big_pairs(geoms, bounds, ok, ok[is_big])
        a, c = np.concatenate([a, q]), np.concatenate([c, t])
    return _later_earlier(a, c)
