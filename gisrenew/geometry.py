"""Shared geometry kernels: vectorized helpers every engine uses (shapely 2 + numpy).

Each function takes and returns numpy object arrays of shapely geometries and runs
without a Python loop per geometry, in the style of shapely's own vectorized API:

* :func:`geometry_array` — the geometries of a GeoDataFrame, GeoSeries, sequence or
  single geometry as a flat object array;
* :func:`polygonal_part` — the polygonal part of overlay results (an intersection can
  hold stray lines and points where polygons touch);
* :func:`union_by_group` — the union of the geometries of each group;
* :func:`in_two_threads` — one vectorized shapely call over two halves at once.

They replace the copies the coverage, plans and siting engines each used to keep.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely

__all__ = [
    "THREADS_MIN_ROWS",
    "geometry_array",
    "in_two_threads",
    "polygonal_part",
    "union_by_group",
]

#: From this many rows on, :func:`in_two_threads` splits the work over two threads.
THREADS_MIN_ROWS = 20_000

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def geometry_array(data) -> np.ndarray:
    """The geometries of `data` as a flat numpy object array (no copy when possible).

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries, shapely geometry or array-like of geometries
        A GeoDataFrame gives its active geometry column; a single geometry gives an
        array of one.

    Returns
    -------
    numpy.ndarray of object
        One shapely geometry (or None) per row, in row order.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> frame = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), None])
    >>> geometry_array(frame)
    array([<POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))>, None], dtype=object)
    >>> geometry_array(shapely.Point(1, 2))
    array([<POINT (1 2)>], dtype=object)
    """
    if isinstance(data, gpd.GeoDataFrame):
        return np.asarray(data.geometry.array, dtype=object)
    if isinstance(data, gpd.GeoSeries):
        return np.asarray(data.array, dtype=object)
    if isinstance(data, shapely.Geometry):
        return np.array([data], dtype=object)
    return np.asarray(data, dtype=object).ravel()


def polygonal_part(geoms) -> np.ndarray:
    """The polygonal part of each geometry, for overlay results that may hold lines and points.

    Polygons and multipolygons (empty ones included) are returned unchanged and a
    missing geometry (None) stays None. Any other geometry — a geometry collection
    from an intersection, a line or a point where two polygons only touch — becomes
    the union of its polygon parts of positive area, or an empty Polygon when it has
    none. The parts are unioned, not just collected, so parts that share an edge
    merge and the result is always a valid (multi)polygon.

    Parameters
    ----------
    geoms : array-like of geometries

    Returns
    -------
    numpy.ndarray of object
        A new array when anything changed; the input array otherwise.

    Examples
    --------
    >>> import shapely
    >>> mixed = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1),
    ...                                     shapely.LineString([(5, 5), (6, 6)])])
    >>> out = polygonal_part([mixed, shapely.LineString([(0, 0), (1, 0)]), None])
    >>> out[0].normalize().wkt, out[1].wkt, out[2]
    ('POLYGON ((0 0, 0 1, 1 1, 2 1, 2 0, 1 0, 0 0))', 'POLYGON EMPTY', None)
    """
    geoms = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(geoms)
    mixed = np.flatnonzero(~np.isin(types, _POLYGONAL) & (types >= 0))  # -1: missing
    if len(mixed) == 0:
        return geoms
    out = geoms.copy()
    parts, index = shapely.get_parts(geoms[mixed], return_index=True)
    parts, inner = shapely.get_parts(parts, return_index=True)  # multis inside collections
    index = index[inner]
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)
    fixed = np.full(len(mixed), shapely.Polygon(), dtype=object)
    if keep.any():
        rows, merged = union_by_group(parts[keep], index[keep])
        fixed[rows] = merged
    out[mixed] = fixed
    return out


def union_by_group(geoms, groups) -> tuple[np.ndarray, np.ndarray]:
    """Union of the geometries of each group; returns (sorted unique groups, unions).

    Only groups that have members are returned. A group of one member gives that
    geometry itself (no overlay runs on it). Vectorized: the groups are laid out in
    2-D arrays by size class (powers of two), padded with None, and unioned along
    the rows (``shapely.union_all(..., axis=1)``), so no Python loop runs per group
    and one large group does not pad every small one to its size.

    Parameters
    ----------
    geoms : array-like of geometries
    groups : array-like
        Group value of each geometry (any sortable values: codes, ids).

    Returns
    -------
    keys : numpy.ndarray
        The distinct group values, sorted.
    unions : numpy.ndarray of object
        The union of each group's geometries, in the order of `keys`.

    Examples
    --------
    >>> import shapely
    >>> keys, unions = union_by_group(
    ...     [shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6), shapely.box(1, 0, 2, 1)],
    ...     ["a", "b", "a"])
    >>> keys.tolist(), [round(u.area, 6) for u in unions]
    (['a', 'b'], [2.0, 1.0])
    """
    geoms = np.asarray(geoms, dtype=object)
    keys, inverse, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    out = np.empty(len(keys), dtype=object)
    if len(keys) == 0:
        return keys, out
    order = np.argsort(inverse, kind="stable")
    g = inverse[order]
    members = geoms[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(g)) - starts[g]
    width = 1 << np.ceil(np.log2(counts)).astype(int)
    for w in np.unique(width):
        rows = np.flatnonzero(width == w)
        sel = width[g] == w
        if w == 1:
            out[rows] = members[sel]  # one member per group, already in group order
            continue
        row_of = np.full(len(keys), -1)
        row_of[rows] = np.arange(len(rows))
        pad = np.full((len(rows), int(w)), None, dtype=object)
        pad[row_of[g[sel]], position[sel]] = members[sel]
        out[rows] = shapely.union_all(pad, axis=1)
    return keys, out


def in_two_threads(func: Callable[..., np.ndarray], *arrays, **kwargs) -> np.ndarray:
    """``func(*arrays, **kwargs)`` computed on two halves of the arrays at once.

    Shapely's vectorized functions release the GIL, so on a machine with two cores or
    more the halves run in parallel; the result is the same array as one call gives.
    Arrays shorter than :data:`THREADS_MIN_ROWS`, or a single core, make one call.

    Parameters
    ----------
    func : callable
        A vectorized function returning one value per row (``shapely.is_valid``,
        ``shapely.intersection``, ...).
    *arrays : numpy.ndarray
        Arrays of equal length, split alike.
    **kwargs
        Passed to every call.

    Examples
    --------
    >>> import shapely
    >>> in_two_threads(shapely.area, [shapely.box(0, 0, 2, 2), shapely.box(0, 0, 1, 1)]).tolist()
    [4.0, 1.0]
    """
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if n < THREADS_MIN_ROWS or (os.cpu_count() or 1) < 2:
        return func(*arrays, **kwargs)
    half = n // 2
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gisrenew-geometry") as pool:
        parts = pool.map(
            lambda rows: func(*(a[rows] for a in arrays), **kwargs),
            (slice(0, half), slice(half, n)),
        )
        return np.concatenate(list(parts))
