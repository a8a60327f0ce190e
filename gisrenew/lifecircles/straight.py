"""Straight-line reach of each facility type 直线距离服务半径 (the buffer method).

Per type, the service areas are the facilities buffered by the type's radius (measured
from the facility's boundary; a point is a facility of no extent), with
:data:`gisrenew.coverage.BUFFER_QUAD_SEGS` segments per quarter circle as for parks.
Each residential piece is laid over them with the park coverage's overlay kernel
(:func:`gisrenew.coverage.overlay.overlay_land`): the area reached, and the part not
reached (the gap). The distance of a piece to the nearest facility of the type is the
exact shortest distance between the two geometries (0 when they overlap), and the piece
*reaches* the type when that distance is within the radius — so a facility exactly at
the radius reaches the piece, while the buffer's chords may give that touching piece
no area.

A piece's area in a *complete* circle is the area reached by every required type at
once: the piece minus the union of the types' gaps (an intersection, not the smallest
of the reached areas).

The nearest facility (:func:`nearest_facility`) is found by bounds first: each piece and
facility is a disc around the centre of its bounding box (radius half the diagonal), a
k-d tree of the facilities' centres gives each piece a few facilities in order of centre
distance, the first one's exact distance bounds the answer from above, and the exact
distance (GEOS, as :meth:`shapely.STRtree.query_nearest` measures it) is computed only
for facilities whose disc comes that close. Ties go to the facility listed first.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely

from gisrenew.coverage import BUFFER_QUAD_SEGS
from gisrenew.coverage.overlay import COVERED, PARTIAL, UNCOVERED, ReachIndex, overlay_land
from gisrenew.geometry import union_by_group

__all__ = [
    "REACH_SLACK_M",
    "TypeOverlay",
    "complete_area",
    "nearest_facility",
    "straight_reach",
]

#: Distances within this many metres over a radius still reach (floating-point rounding).
REACH_SLACK_M = 1e-6

#: Facilities asked of the k-d tree per piece at first (more for the pieces that need them).
_FIRST_NEIGHBOURS = 4


@dataclass(frozen=True, eq=False)
class TypeOverlay:
    """One facility type laid over the residential pieces (straight line).

    Attributes
    ----------
    distance : numpy.ndarray
        Metres from each piece to the nearest facility of the type (inf: none).
    nearest : numpy.ndarray of int
        Row (in the facility arrays given) of that facility; -1 when none.
    reached_m2 : numpy.ndarray
        Area of each piece within the radius of some facility of the type.
    state : numpy.ndarray of int8
        ``COVERED``, ``UNCOVERED`` or ``PARTIAL`` per piece (overlay kernel codes).
    gap : numpy.ndarray of geometries
        The part of each piece not reached; None where reached whole.
    """

    distance: np.ndarray
    nearest: np.ndarray
    reached_m2: np.ndarray
    state: np.ndarray
    gap: np.ndarray


def _discs(geoms: np.ndarray, bounds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Centre (x, y columns) and radius of the disc around each geometry's bounding box."""
    bounds = shapely.bounds(geoms) if bounds is None else bounds
    centre = (bounds[:, :2] + bounds[:, 2:]) * 0.5
    radius = np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) * 0.5
    return centre, radius


def nearest_facility(
    pieces: np.ndarray, geoms: np.ndarray, *, piece_bounds: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact distance from each piece to the nearest of `geoms`, and that geometry's index.

    Parameters
    ----------
    pieces : numpy.ndarray of geometries
        Residential pieces (non-empty).
    geoms : numpy.ndarray of geometries
        Facilities (non-empty points and polygons).
    piece_bounds : numpy.ndarray, optional
        ``shapely.bounds(pieces)`` when already known.

    Returns
    -------
    distance : numpy.ndarray
        Metres (``shapely.distance``; inf when `geoms` is empty).
    nearest : numpy.ndarray of int
        Index into `geoms` (-1 when empty); ties: the lowest index.
    """
    # scipy.spatial (~0.25 s to import): only runs that compute life circles load it
    from scipy.spatial import cKDTree

    n, m = len(pieces), len(geoms)
    distance, nearest = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    if m == 0 or n == 0:
        return distance, nearest
    centre, radius = _discs(pieces, piece_bounds)
    f_centre, f_radius = _discs(geoms)
    tree = cKDTree(f_centre)
    # rounding margin of the disc bounds: coordinates are metres of a projected CRS
    slack = 1e-9 * float(np.abs(f_centre).max() + np.abs(centre).max()) + 1e-6
    todo, k = np.arange(n), min(_FIRST_NEIGHBOURS, m)
    while len(todo):
        centre_d, f = tree.query(centre[todo], k=k)
        centre_d, f = centre_d.reshape(len(todo), k), f.reshape(len(todo), k)
        upper = shapely.distance(pieces[todo], geoms[f[:, 0]])
        lower = centre_d - radius[todo, None] - f_radius[f]
        near = lower <= upper[:, None] + slack
        near[:, 0] = False
        row, col = np.nonzero(near)
        d = np.concatenate([upper, shapely.distance(pieces[todo[row]], geoms[f[row, col]])])
        piece = np.concatenate([np.arange(len(todo)), row])
        facility = np.concatenate([f[:, 0], f[row, col]])
        order = np.lexsort((facility, d, piece))  # per piece: nearest, then lowest index
        first = order[np.r_[True, piece[order][1:] != piece[order][:-1]]]
        distance[todo], nearest[todo] = d[first], facility[first]
        # facilities past the k-th may still come closer: ask for more, for those pieces
        unsure = centre_d[:, -1] - radius[todo] - f_radius.max() <= distance[todo] + slack
        todo = todo[unsure] if k < m else todo[:0]
        k = min(4 * k, m)
    return distance, nearest


def _one_type(pieces, area, geoms, rows, radius, bounds) -> TypeOverlay:
    n = len(pieces)
    if len(geoms) == 0:
        gap = pieces.copy()
        none = np.full(n, UNCOVERED, dtype=np.int8)
        return TypeOverlay(np.full(n, np.inf), np.full(n, -1), np.zeros(n), none, gap)
    distance, fi = nearest_facility(pieces, geoms, piece_bounds=bounds)
    nearest = np.where(fi >= 0, rows[np.maximum(fi, 0)], -1)
    buffers = shapely.buffer(geoms, radius, quad_segs=BUFFER_QUAD_SEGS)
    index = ReachIndex.build(buffers).private()
    overlay = overlay_land(pieces, index, want_uncovered=True, area=area, bounds=bounds)
    return TypeOverlay(distance, nearest, overlay.covered, overlay.state, overlay.uncovered(pieces))


def straight_reach(
    pieces: np.ndarray,
    area: np.ndarray,
    facility_geoms: np.ndarray,
    facility_type: np.ndarray,
    radii: np.ndarray,
    *,
    workers: int = 2,
) -> list[TypeOverlay]:
    """Each type's :class:`TypeOverlay` over the pieces (types run in two threads).

    Parameters
    ----------
    pieces, area : numpy.ndarray
        Residential pieces (non-overlapping) and their areas.
    facility_geoms : numpy.ndarray
        Facility points and polygons.
    facility_type : numpy.ndarray of int
        Type number of each facility (index into `radii`).
    radii : numpy.ndarray
        Radius of each type in metres.
    workers : int
        Threads (shapely releases the GIL; each type prepares its own polygons).
    """

    bounds = shapely.bounds(pieces)

    def run(k: int) -> TypeOverlay:
        rows = np.flatnonzero(facility_type == k)
        return _one_type(pieces, area, facility_geoms[rows], rows, float(radii[k]), bounds)

    if workers <= 1 or len(radii) < 2:
        return [run(k) for k in range(len(radii))]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gisrenew-lc") as pool:
        return list(pool.map(run, range(len(radii))))


def complete_area(area: np.ndarray, overlays: list[TypeOverlay], types) -> np.ndarray:
    """Area of each piece reached by every type in `types` at once (m²).

    The piece minus the union of the types' gaps: 0 when some type reaches none of it,
    the whole piece when every type reaches all of it; otherwise the gaps of the partly
    reached types are unioned per piece (:func:`gisrenew.geometry.union_by_group`).
    """
    types = list(types)
    if not types:
        return area.copy()
    state = np.column_stack([overlays[k].state for k in types])
    out = np.where((state == COVERED).all(axis=1), area, 0.0)
    mixed = np.flatnonzero(~(state == UNCOVERED).any(axis=1) & (state == PARTIAL).any(axis=1))
    if len(mixed) == 0:
        return out
    row, col = np.nonzero(state[mixed] == PARTIAL)
    gaps = np.empty(len(row), dtype=object)
    for j, k in enumerate(types):  # one vectorized take per type (few types)
        at = col == j
        gaps[at] = overlays[k].gap[mixed[row[at]]]
    groups, union = union_by_group(gaps, mixed[row])
    out[groups] = np.maximum(area[groups] - shapely.area(union), 0.0)
    return out
