"""The overlay kernel: land (residential pieces) against reach (service areas), vectorized.

The city-wide union of service areas is never built. Every land geometry is compared
with the reach polygons whose envelopes meet it (an STRtree); land that lies inside one
reach polygon counts whole (most such pairs are settled by a cheap inscribed-circle
test in numpy, the rest by a prepared ``covers``); from land that only meets reach
polygons, each reach polygon it meets is cut out in turn, pairwise and in bulk (one
vectorized ``difference`` per round): what is left is the blind spot and covered =
area − blind spot. The result equals the exact overlay (union of the buffers ∩
residential land) to floating-point precision (the tests check 1e-9 against shapely and
1e-6 against PostGIS).

The public names of this module are the package's kernels (used by
:mod:`gisrenew.coverage.land`, :mod:`~gisrenew.coverage.incremental` and the network
engine); :func:`covered_area` and :func:`covered_parts` are also part of the public
API of :mod:`gisrenew.coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gisrenew.geometry import geometry_array, polygonal_part, union_by_group

__all__ = [
    "COVERED",
    "PARTIAL",
    "SLIVER_M2",
    "SLIVER_SHARE",
    "UNCOVERED",
    "LandReachPairs",
    "Overlay",
    "ReachIndex",
    "covered_area",
    "covered_parts",
    "land_reach_pairs",
    "overlay_land",
    "pair_contributions",
    "reach_contributions",
]

#: Blind spots smaller than this (m², or this share of their piece) are rounding noise.
SLIVER_M2 = 1e-6
SLIVER_SHARE = 1e-9

#: State of a land piece: covered whole, not covered at all, or partly covered.
COVERED, UNCOVERED, PARTIAL = 0, 1, 2


@dataclass
class ReachIndex:
    """Reach (or zone) polygons with an STRtree and, per polygon, two discs around one centre.

    The disc of radius ``inner`` lies inside the polygon (0 when the centre is not
    inside it); the disc of radius ``outer`` contains the polygon. They settle most
    land-versus-reach pairs in numpy, before any GEOS predicate runs.
    """

    geoms: np.ndarray
    tree: shapely.STRtree
    x: np.ndarray
    y: np.ndarray
    inner: np.ndarray
    outer: np.ndarray

    @classmethod
    def build(cls, geoms) -> ReachIndex:
        """Index `geoms` (polygons; missing and empty ones are never matched)."""
        geoms = np.asarray(geoms, dtype=object)
        tree = shapely.STRtree(geoms)
        if len(geoms) == 0:
            zero = np.zeros(0)
            return cls(geoms, tree, zero, zero, zero, zero)
        centre = shapely.centroid(geoms)
        inside = shapely.contains_properly(geoms, centre)
        if not inside.all():
            centre = np.where(inside, centre, shapely.point_on_surface(geoms))
            inside = shapely.contains_properly(geoms, centre)
        x, y = shapely.get_x(centre), shapely.get_y(centre)
        inner, outer = _disc_radii(geoms, x, y, inside)
        return cls(geoms, tree, x, y, inner, outer)

    def private(self) -> ReachIndex:
        """A copy whose geometries are this worker's own, prepared for fast predicates.

        GEOS prepared geometries build their indexes lazily and must not be shared
        between threads; the tree and the disc arrays are read-only and shared.
        """
        geoms = shapely.from_wkb(shapely.to_wkb(self.geoms))
        shapely.prepare(geoms)
        return ReachIndex(geoms, self.tree, self.x, self.y, self.inner, self.outer)


def _disc_radii(geoms: np.ndarray, x: np.ndarray, y: np.ndarray, inside: np.ndarray):
    """Inner and outer disc radii around the centres (x, y) of `geoms`."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    outer = np.zeros(len(geoms))
    np.maximum.at(outer, index, np.hypot(coords[:, 0] - x[index], coords[:, 1] - y[index]))
    # inner radius: distance from the centre to the nearest boundary segment. Pairs of
    # consecutive vertices of one geometry that belong to different rings make a
    # spurious segment, which can only shorten the distance (a smaller, safe disc).
    seg = np.flatnonzero(index[:-1] == index[1:])
    owner = index[seg]
    a, b = coords[seg], coords[seg + 1]
    ab = b - a
    ap = np.column_stack([x[owner], y[owner]]) - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.clip(np.einsum("ij,ij->i", ap, ab) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    gap = ap - ab * t[:, None]
    nearest = np.full(len(geoms), np.inf)
    np.minimum.at(nearest, owner, np.hypot(gap[:, 0], gap[:, 1]))
    inner = np.where(inside & np.isfinite(nearest), nearest, 0.0)
    return inner, outer


@dataclass
class LandReachPairs:
    """Land × reach pairs that meet: land index, reach index, and whether reach covers land."""

    land: np.ndarray
    reach: np.ndarray
    whole: np.ndarray

    @classmethod
    def empty(cls) -> LandReachPairs:
        """No pairs."""
        none = np.zeros(0, dtype=np.intp)
        return cls(none, none, np.zeros(0, dtype=bool))


def _first_of_runs(sorted_values: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal values in a sorted array."""
    first = np.ones(len(sorted_values), dtype=bool)
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return first


def _disc_verdicts(li, ri, index: ReachIndex, bounds: np.ndarray):
    """Per candidate pair: surely inside (land within the inner disc), surely outside."""
    cx = (bounds[:, 0] + bounds[:, 2]) * 0.5
    cy = (bounds[:, 1] + bounds[:, 3]) * 0.5
    half = np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) * 0.5
    slack = 1e-9 * (index.outer + half.max()) + 1e-7  # rounding margin per reach polygon
    dx = cx[li] - index.x[ri]
    dy = cy[li] - index.y[ri]
    dist = np.sqrt(dx * dx + dy * dy)
    rl = half[li]
    sure_in = dist + rl <= (index.inner - slack)[ri]
    sure_out = dist - rl > (index.outer + slack)[ri]
    return sure_in, sure_out


def land_reach_pairs(
    land: np.ndarray,
    index: ReachIndex,
    *,
    first_whole_only: bool = True,
    bounds: np.ndarray | None = None,
) -> LandReachPairs:
    """The (land, reach) pairs whose geometries intersect, and whether the reach covers the land.

    With `first_whole_only`, a land geometry covered whole by a reach polygon keeps only
    that one pair (enough for coverage and for splitting by non-overlapping zones);
    otherwise every intersecting pair is returned. Pairs are sorted by land, then reach.
    `bounds` are the land geometries' bounds when already known.
    """
    if len(land) == 0 or len(index.geoms) == 0:
        return LandReachPairs.empty()
    li, ri = index.tree.query(land)
    if len(li) == 0:
        return LandReachPairs.empty()
    if (li[1:] < li[:-1]).any():  # shapely lists them by land already; do not rely on it
        order = np.argsort(li, kind="stable")
        li, ri = li[order], ri[order]
    # numpy first: each land's bounding circle against the reach's inner and outer discs
    sure_in, sure_out = _disc_verdicts(
        li, ri, index, shapely.bounds(land) if bounds is None else bounds
    )
    whole_land = np.zeros(len(land), dtype=bool)
    whole_land[li[sure_in]] = True
    unsure = ~sure_in & ~sure_out
    if first_whole_only:
        unsure &= ~whole_land[li]
    ul, ur = li[unsure], ri[unsure]
    covers = shapely.covers(index.geoms[ur], land[ul])
    whole_land[ul[covers]] = True
    rest = ~covers
    if first_whole_only:
        rest &= ~whole_land[ul]
    pl, pr = ul[rest], ur[rest]
    meets = shapely.intersects(index.geoms[pr], land[pl])
    pl, pr = pl[meets], pr[meets]
    if not first_whole_only:
        wl = np.concatenate([li[sure_in], ul[covers]])
        wr = np.concatenate([ri[sure_in], ur[covers]])
        return _every_pair(wl, wr, pl, pr)
    return _first_whole_pairs(len(land), li[sure_in], ri[sure_in], ul[covers], ur[covers], pl, pr)


def _every_pair(wl, wr, pl, pr) -> LandReachPairs:
    """Whole pairs (wl, wr) and partial pairs (pl, pr), sorted by land, then reach."""
    land_idx = np.concatenate([wl, pl])
    reach_idx = np.concatenate([wr, pr])
    whole = np.concatenate([np.ones(len(wl), dtype=bool), np.zeros(len(pl), dtype=bool)])
    order = np.lexsort((reach_idx, land_idx))
    return LandReachPairs(land_idx[order], reach_idx[order], whole[order])


def _first_whole_pairs(n_land, dl, dr, cl, cr, pl, pr) -> LandReachPairs:
    """The first whole pair of each land, and the partial pairs of the others.

    ``(dl, dr)``: whole pairs settled by the discs; ``(cl, cr)``: by ``covers`` — in
    query order, each list sorted by land, on disjoint lands.
    """
    first = _first_of_runs(dl)
    first_c = _first_of_runs(cl)
    reach_of = np.full(n_land, -1, dtype=np.intp)
    reach_of[dl[first]] = dr[first]
    reach_of[cl[first_c]] = cr[first_c]
    wl = np.flatnonzero(reach_of >= 0)
    wr = reach_of[wl]
    order = np.lexsort((pr, pl))  # partial pairs: by land, then reach
    pl, pr = pl[order], pr[order]
    # two runs sorted by land, on disjoint lands: a stable sort merges them
    land_idx = np.concatenate([wl, pl])
    order = np.argsort(land_idx, kind="stable")
    reach_idx = np.concatenate([wr, pr])[order]
    whole = np.concatenate([np.ones(len(wl), dtype=bool), np.zeros(len(pl), dtype=bool)])
    return LandReachPairs(land_idx[order], reach_idx, whole[order])


@dataclass
class Overlay:
    """Covered area, state and uncovered geometry of each land geometry."""

    covered: np.ndarray  # m² per land geometry
    state: np.ndarray  # COVERED / UNCOVERED / PARTIAL per land geometry
    rest: np.ndarray | None  # uncovered geometry where PARTIAL (None elsewhere)

    def uncovered(self, land: np.ndarray) -> np.ndarray:
        """Uncovered geometry per land geometry (None where covered whole)."""
        out = np.full(len(self.state), None, dtype=object)
        out[self.state == UNCOVERED] = land[self.state == UNCOVERED]
        if self.rest is not None:
            partial = self.state == PARTIAL
            out[partial] = self.rest[partial]
        return out


def overlay_land(
    land: np.ndarray, index: ReachIndex, *, want_uncovered: bool, area=None, bounds=None
) -> Overlay:
    """Covered area (and uncovered geometry) of each land geometry under the reach polygons.

    Land inside one reach polygon counts whole. From land that only meets reach
    polygons, each of them is cut out in turn (``shapely.difference``, vectorized over
    all such land at once: the first reach polygon of every piece, then the second, ...);
    what is left is the uncovered part (the blind spot) and covered = area − uncovered.
    One overlay per (land, reach) pair gives both the area and the blind-spot polygon,
    and no union of reach polygons is ever formed. `index` must be a worker's
    :meth:`ReachIndex.private` copy.
    """
    n = len(land)
    area = shapely.area(land) if area is None else area
    covered = np.zeros(n)
    state = np.full(n, UNCOVERED, dtype=np.int8)
    rest = np.full(n, None, dtype=object) if want_uncovered else None
    pairs = land_reach_pairs(land, index, bounds=bounds)
    whole = pairs.land[pairs.whole]
    covered[whole] = area[whole]
    state[whole] = COVERED
    part_l = pairs.land[~pairs.whole]
    part_r = pairs.reach[~pairs.whole]
    if len(part_l) == 0:
        return Overlay(covered, state, rest)
    # pairs are sorted by land: position of each pair within its land's group
    rows, first, counts = np.unique(part_l, return_index=True, return_counts=True)
    position = np.arange(len(part_l)) - np.repeat(first, counts)
    left = np.full(n, None, dtype=object)
    left[rows] = land[rows]
    for round_no in range(int(counts.max())):
        at = position == round_no
        left[part_l[at]] = shapely.difference(left[part_l[at]], index.geoms[part_r[at]])
    left_rows = polygonal_part(left[rows])
    left_area = shapely.area(left_rows)
    tiny = np.maximum(SLIVER_M2, SLIVER_SHARE * area[rows])
    gone = left_area <= tiny  # covered by several reach polygons together
    untouched = left_area >= area[rows] - tiny  # only touches a reach polygon
    covered[rows] = np.where(gone, area[rows], np.where(untouched, 0.0, area[rows] - left_area))
    state[rows[gone]] = COVERED
    partial = ~gone & ~untouched
    state[rows[partial]] = PARTIAL
    if want_uncovered:
        rest[rows[partial]] = left_rows[partial]
    return Overlay(covered, state, rest)


def _overlay(land, reach, *, want_uncovered: bool = False) -> Overlay:
    land = np.asarray(land, dtype=object)
    return overlay_land(land, ReachIndex.build(reach).private(), want_uncovered=want_uncovered)


def covered_area(land_geoms, reach_geoms) -> np.ndarray:
    """Area of each land geometry within the union of the reach geometries (m²).

    The union of all reach geometries is never built: each land geometry is compared
    only with the reach geometries that meet it (see the module notes).

    Parameters
    ----------
    land_geoms : array-like of polygons (or GeoSeries / GeoDataFrame)
        Residential pieces; they should not overlap each other if their areas are summed.
    reach_geoms : array-like of polygons
        Service areas (buffers or walking-network service areas), overlapping freely.

    Returns
    -------
    numpy.ndarray
        Covered m² per land geometry, in input order.

    Examples
    --------
    >>> import shapely
    >>> land = [shapely.box(0, 0, 10, 10)]
    >>> covered_area(land, [shapely.box(5, 0, 20, 10), shapely.box(0, 0, 6, 5)])
    array([75.])
    """
    return _overlay(geometry_array(land_geoms), geometry_array(reach_geoms)).covered


def covered_parts(land_geoms, reach_geoms) -> tuple[np.ndarray, np.ndarray]:
    """Covered area and uncovered geometry of each land geometry under the reach geometries.

    Returns
    -------
    covered_m2 : numpy.ndarray
        As :func:`covered_area`.
    uncovered : numpy.ndarray of geometries
        The part of each land geometry outside every reach geometry; ``None`` where the
        land is covered entirely.
    """
    land = geometry_array(land_geoms)
    result = _overlay(land, geometry_array(reach_geoms), want_uncovered=True)
    return result.covered, result.uncovered(land)


def pair_contributions(land: np.ndarray, index: ReachIndex, land_area: np.ndarray):
    """Per (land, reach) pair: the m² the reach covers, and the m² only that reach covers.

    Parameters
    ----------
    land : numpy.ndarray of polygons
        Land geometries (non-overlapping).
    index : ReachIndex
        A worker's :meth:`ReachIndex.private` copy of the reach polygons.
    land_area : numpy.ndarray
        Area of each land geometry.

    Returns
    -------
    land_idx, reach_idx : numpy.ndarray of int
        The pairs that meet, sorted by land, then reach.
    covered, unique : numpy.ndarray of float
        Per pair: the land's area inside the reach polygon, and the part of it inside
        no other reach polygon (what the land would lose if that reach polygon went).
    """
    reach = index.geoms
    pairs = land_reach_pairs(land, index, first_whole_only=False)
    li, ri, whole = pairs.land, pairs.reach, pairs.whole
    piece = np.empty(len(li), dtype=object)
    piece[whole] = land[li[whole]]
    if (~whole).any():
        piece[~whole] = shapely.intersection(land[li[~whole]], reach[ri[~whole]])
    piece_area = np.where(whole, land_area[li], shapely.area(piece))
    n = len(land)
    count = np.bincount(li, minlength=n)
    whole_count = np.bincount(li[whole], minlength=n)
    unique = np.zeros(len(li))
    single = count[li] == 1
    unique[single] = piece_area[single]
    # land covered whole by two or more reach polygons: nobody is unique there
    several = np.flatnonzero((count[li] > 1) & (whole_count[li] < 2))
    if len(several):
        # for pair p, the union of the other pairs' pieces of the same land
        starts = np.searchsorted(li, li[several], side="left")
        k = count[li[several]]
        owner = np.repeat(several, k)
        member = np.repeat(starts, k) + (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k))
        others = member != owner
        owner, member = owner[others], member[others]
        rows, union = union_by_group(piece[member], owner)
        unique[rows] = shapely.area(shapely.difference(piece[rows], union))
    return li, ri, piece_area, unique


def reach_contributions(land, reach, land_area, density=None) -> dict[str, np.ndarray]:
    """Per reach polygon: the land it covers, and the land only it covers (m², weights).

    Sums :func:`pair_contributions` over the land geometries.

    Parameters
    ----------
    land : numpy.ndarray of polygons
        Land geometries (non-overlapping).
    reach : numpy.ndarray of polygons
        Reach polygons (overlapping freely).
    land_area : numpy.ndarray
        Area of each land geometry.
    density : numpy.ndarray, optional
        Weight per m² of each land geometry (households or population).

    Returns
    -------
    dict of numpy.ndarray
        One value per reach polygon: ``covered_m2``, ``unique_m2`` and, with `density`,
        ``covered_weight`` and ``unique_weight``.
    """
    n = len(reach)
    li, ri, covered, unique = pair_contributions(land, ReachIndex.build(reach).private(), land_area)
    out = {
        "covered_m2": np.bincount(ri, covered, minlength=n),
        "unique_m2": np.bincount(ri, unique, minlength=n),
    }
    if density is not None:
        out["covered_weight"] = np.bincount(ri, covered * density[li], minlength=n)
        out["unique_weight"] = np.bincount(ri, unique * density[li], minlength=n)
    return out
