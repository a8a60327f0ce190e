"""Park service-radius coverage (公园绿地服务半径覆盖率): the buffer (straight-line) engine.

The indicator (REFERENCE §1; newer documents call it 公园绿化活动场地服务半径覆盖率)::

    coverage = residential land inside the built-up area within a qualifying park's
               service radius / all residential land inside the built-up area

How it is computed, and the choices this module makes (all recorded in every result):

* **Parks and radii** come from a rule set (:mod:`gisrenew.rules`): a park's tier is
  decided by the area of the whole park feature (a multipart park is one park) and its
  class; the optional minimum width is the diameter of the largest circle that fits in
  the park (:func:`park_width`).
* **Service areas** are buffers of the park polygons (the radius is measured from the
  park boundary, not the centroid) with :data:`BUFFER_QUAD_SEGS` = 16 segments per
  quarter circle everywhere — geopandas' default; the PostGIS oracle in the tests uses
  ``quad_segs=16`` too. (Shapely's and PostGIS's own default of 8 would shift a ratio
  by about 3.5e-3.)
* **The denominator** (:func:`residential_land`) is the union of the residential
  polygons whose land-use code counts (prefix match: ``R`` matches ``R21``, ``07``
  matches ``070101``), clipped to the built-up boundary: where residential polygons
  overlap, the land is counted once — it stays with the polygon that comes first in
  the layer, and later polygons keep only what is left. Each resulting piece may be
  split further by district polygons.
* **Weights** (households or population) are spread evenly over each residential
  polygon: a piece carries ``weight × piece area / polygon area``, so land outside the
  boundary, or already counted by an earlier overlapping polygon, takes its share with
  it; the covered weight of a piece is its weight times its covered share.
* **Speed**: the city-wide union of service areas is never built. Every residential
  piece is compared with the service areas whose envelopes meet it (an STRtree);
  pieces that lie inside one service area count whole (most are settled by a cheap
  inscribed-circle test in numpy, the rest by a prepared ``covers``); from pieces that
  only meet service areas, each service area they meet is cut out in turn, pairwise and
  in bulk (one vectorized ``difference`` per round): what is left is the blind spot and
  covered = area − blind spot. The result equals the exact overlay (union of the
  buffers ∩ residential land) to floating-point precision (the tests check 1e-9 against
  shapely and 1e-6 against PostGIS). Large inputs are split over two threads (shapely
  releases the GIL; each thread prepares its own copies of the polygons it tests).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gisrenew import crs as crs_rules
from gisrenew.errors import AnalysisError, CRSError, SchemaError
from gisrenew.results import INDICATOR_NAMES, CoverageResult
from gisrenew.rules import RuleSet, get_rules
from gisrenew.schema import get_layer_schema
from gisrenew.units import M2_PER_HA, M2_PER_MU

__all__ = [
    "BUFFER_QUAD_SEGS",
    "comparison_dict",
    "compute_coverage",
    "coverage_layers",
    "covered_area",
    "covered_parts",
    "district_table",
    "park_contribution",
    "park_table",
    "park_width",
    "residential_land",
    "select_residential",
    "service_area_union",
    "service_areas",
    "summarize_coverage",
]

log = logging.getLogger(__name__)

#: Segments per quarter circle of every service-area buffer (geopandas' default).
BUFFER_QUAD_SEGS = 16

#: Park widths (maximum inscribed circle) are computed to within this many metres.
WIDTH_TOLERANCE_M = 1e-3

#: Blind spots smaller than this (m², or this share of their piece) are rounding noise.
_SLIVER_M2 = 1e-6
_SLIVER_SHARE = 1e-9

#: From this many residential polygons on, the per-piece work runs in two threads.
PARALLEL_MIN_PIECES = 20_000

_ID = "residential_id"


# --------------------------------------------------------------------------- inputs


def _geoms(frame) -> np.ndarray:
    """Geometries of a GeoDataFrame / GeoSeries / sequence as an object array."""
    if isinstance(frame, gpd.GeoDataFrame):
        return np.asarray(frame.geometry.array, dtype=object)
    if isinstance(frame, gpd.GeoSeries):
        return np.asarray(frame.array, dtype=object)
    if isinstance(frame, shapely.Geometry):
        return np.array([frame], dtype=object)
    return np.asarray(frame, dtype=object).ravel()


def _conformed(gdf, kind: str, *, name: str, crs=None) -> gpd.GeoDataFrame | None:
    """`gdf` validated with :func:`gisrenew.io.conform` (ids, defaults, repaired geometry).

    A frame already conformed for `kind` (``attrs["kind"]``, set by the loaders and the
    project store) is used as it is, reprojected if needed. A layer without a CRS is a
    :class:`CRSError`; a layer in another CRS than `crs` is reprojected (logged).
    """
    if gdf is None:
        return None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(f"`{name}` must be a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise CRSError(
            f"`{name}` has no coordinate reference system; areas and distances need one. "
            "Set it with `.set_crs(...)`, or load the layer with gisrenew.read_layer."
        )
    schema = get_layer_schema(kind)
    done = gdf.attrs.get("kind") == schema.name and set(schema.column_names) <= set(gdf.columns)
    if done and (crs is None or crs_rules.same_crs(gdf.crs, crs)):
        return gdf
    if done:
        log.info(
            "reprojecting `%s` from %s to %s",
            name,
            gdf.crs.to_string(),
            CRS.from_user_input(crs).to_string(),
        )
        return gdf.to_crs(crs)
    from gisrenew.io import conform

    return conform(gdf, kind, source=f"`{name}`", working_crs=crs)


def _rules_and_codes(rules, residential_codes) -> tuple[RuleSet, tuple[str, ...] | None]:
    rules = get_rules(rules)
    if residential_codes is None:
        codes = tuple(rules.residential_codes) or None
    else:
        codes = tuple(str(c).strip() for c in residential_codes if str(c).strip()) or None
    return rules, codes


def select_residential(
    residential: gpd.GeoDataFrame, codes: Sequence[str] | None
) -> gpd.GeoDataFrame:
    """The rows of a conformed residential layer whose ``land_use`` counts.

    Parameters
    ----------
    residential : geopandas.GeoDataFrame
        Residential layer with a ``land_use`` column.
    codes : sequence of str or None
        Land-use code prefixes (case-insensitive): ``R`` matches ``R2``/``R21``, ``07``
        matches ``0701``/``070101``. ``None`` or empty keeps every row.

    Raises
    ------
    AnalysisError
        When no row matches: the message lists the codes found.
    """
    if not codes or len(residential) == 0:
        return residential
    prefixes = tuple(str(c).strip().upper() for c in codes)
    inverse, uniques = pd.factorize(residential["land_use"])  # few distinct codes: test each once
    cleaned = [str(u).strip().upper() for u in uniques]
    matches = np.array([c.startswith(prefixes) for c in cleaned] + [False], dtype=bool)
    keep = matches[inverse]  # -1 (missing) picks the final False
    if not keep.any():
        found = sorted(set(cleaned))[:20]
        raise AnalysisError(
            f"no residential land: none of the {len(residential)} residential polygons has a "
            f"land-use code starting with {', '.join(prefixes)} (codes found: {', '.join(found) or '-'}). "
            "Fix the `land_use` column, or set the codes that count as residential "
            "(`[residential] codes` in gisrenew.toml, `residential_codes =` in a rule set, or "
            "`--residential-codes`)."
        )
    dropped = int((~keep).sum())
    if dropped:
        log.info(
            "%d of %d residential polygons are not residential land by their land-use code (%s) "
            "and are left out",
            dropped, len(residential), ", ".join(prefixes),
        )  # fmt: skip
        return residential.loc[keep].reset_index(drop=True)
    return residential


# --------------------------------------------------------------------------- parks


def park_width(parks) -> np.ndarray:
    """Width of each park: the diameter of the largest circle that fits inside it (m).

    For a rectangle this is its short side; for a multipart park, the widest part.
    Computed to within :data:`WIDTH_TOLERANCE_M`.

    Parameters
    ----------
    parks : GeoDataFrame, GeoSeries or array of polygons
        In a metric CRS.
    """
    geoms = _geoms(parks)
    if len(geoms) == 0:
        return np.zeros(0)
    circles = shapely.maximum_inscribed_circle(geoms, WIDTH_TOLERANCE_M)
    return 2.0 * shapely.length(circles)


def _park_table(parks: gpd.GeoDataFrame, rules: RuleSet) -> pd.DataFrame:
    geoms = _geoms(parks)
    area = shapely.area(geoms)
    classes = parks["park_class"].astype(str).str.strip().str.upper().to_numpy(dtype=object)
    radius, tier, reason = rules.assign(area, classes)
    width = np.full(len(parks), np.nan)
    if rules.min_width_m > 0 and len(parks):
        width = park_width(geoms)
        narrow = (tier >= 0) & (width + 2 * WIDTH_TOLERANCE_M < rules.min_width_m)
        if narrow.any():
            reason = reason.copy()
            reason[narrow] = [
                f"narrower than {rules.min_width_m:g} m (width {w:.1f} m)" for w in width[narrow]
            ]
            radius[narrow] = np.nan
            tier[narrow] = -1
    labels = np.array([t.describe() for t in rules.tiers] + [""], dtype=object)
    return pd.DataFrame(
        {
            "park_id": parks["park_id"].astype(str).to_numpy(dtype=object),
            "name": parks["name"].astype(str).to_numpy(dtype=object),
            "park_class": classes,
            "park_area_m2": area,
            "width_m": width,
            "tier": tier.astype(int),
            "tier_label": labels[tier],
            "radius_m": radius,
            "qualifies": tier >= 0,
            "reason": np.asarray(reason, dtype=object),
        }
    )


def park_table(parks: gpd.GeoDataFrame, rules: RuleSet | str | None = None) -> pd.DataFrame:
    """Which parks count and the service radius of each, under a rule set.

    Parameters
    ----------
    parks : geopandas.GeoDataFrame
        Park polygons 公园绿地 (and plazas 广场用地, class ``G3``) in a metric CRS;
        geometry alone is enough (ids from row order, class ``G1``).
    rules : RuleSet, str or None
        Rule set or its name/path; default ``tijian-2021``.

    Returns
    -------
    pandas.DataFrame
        One row per park: ``park_id``, ``name``, ``park_class``, ``park_area_m2`` (area of
        the whole feature), ``width_m`` (nan unless the rule set has a minimum width),
        ``tier`` (index into ``rules.tiers``, -1 when not qualifying), ``tier_label``,
        ``radius_m`` (nan when not qualifying), ``qualifies``, ``reason``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> parks = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 50), shapely.box(500, 0, 540, 40)],
    ...                          crs="EPSG:4549")
    >>> park_table(parks, "tijian-2021")[["park_area_m2", "radius_m", "qualifies"]].to_numpy().tolist()
    [[5000.0, 500.0, True], [1600.0, nan, False]]
    """
    rules = get_rules(rules)
    parks = _conformed(parks, "parks", name="parks")
    crs_rules.ensure_metric(parks, "parks")
    return _park_table(parks, rules)


def _buffer(geoms: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Buffers with :data:`BUFFER_QUAD_SEGS`; many parks are split over two threads."""
    if len(geoms) < 500 or (os.cpu_count() or 1) < 2:
        return shapely.buffer(geoms, radius, quad_segs=BUFFER_QUAD_SEGS)
    from concurrent.futures import ThreadPoolExecutor

    half = len(geoms) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = pool.map(
            lambda sl: shapely.buffer(geoms[sl], radius[sl], quad_segs=BUFFER_QUAD_SEGS),
            [slice(0, half), slice(half, None)],
        )
        return np.concatenate(list(parts))


def _service_areas(parks: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    ok = table["qualifies"].to_numpy(dtype=bool)
    radius = table["radius_m"].to_numpy(dtype=float)[ok]
    geoms = _buffer(_geoms(parks)[ok], radius)
    rows = table.loc[
        ok, ["park_id", "name", "park_class", "tier", "tier_label", "radius_m", "park_area_m2"]
    ]
    return gpd.GeoDataFrame(rows.reset_index(drop=True), geometry=geoms, crs=parks.crs)


def service_areas(parks: gpd.GeoDataFrame, rules: RuleSet | str | None = None) -> gpd.GeoDataFrame:
    """Service areas 服务范围 of the qualifying parks: the park polygon buffered by its radius.

    The radius is measured from the park boundary (a buffer of the polygon), with
    :data:`BUFFER_QUAD_SEGS` segments per quarter circle.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per qualifying park: ``park_id``, ``name``, ``park_class``, ``tier``,
        ``tier_label``, ``radius_m``, ``park_area_m2``, geometry; in the parks' CRS.
    """
    rules = get_rules(rules)
    parks = _conformed(parks, "parks", name="parks")
    crs_rules.ensure_metric(parks, "parks")
    return _service_areas(parks, _park_table(parks, rules))


def service_area_union(areas) -> shapely.Geometry:
    """The union of service areas as one (multi)polygon — for maps, not for the ratio."""
    geoms = _geoms(areas)
    if len(geoms) == 0:
        return shapely.MultiPolygon()
    return shapely.union_all(geoms)


# --------------------------------------------------------------------------- geometry core


def _grouped_union(geoms: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of `geoms` per value of `groups`; returns (sorted unique groups, unions).

    Vectorized: groups are padded into 2-D arrays by size class (powers of two) and
    unioned along rows, so no Python loop runs per group.
    """
    keys, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
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


@dataclass
class _ReachIndex:
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
    def build(cls, geoms) -> _ReachIndex:
        geoms = np.asarray(geoms, dtype=object)
        tree = shapely.STRtree(geoms)  # missing and empty geometries are never returned
        if len(geoms) == 0:
            zero = np.zeros(0)
            return cls(geoms, tree, zero, zero, zero, zero)
        centre = shapely.centroid(geoms)
        inside = shapely.contains_properly(geoms, centre)
        if not inside.all():
            centre = np.where(inside, centre, shapely.point_on_surface(geoms))
            inside = shapely.contains_properly(geoms, centre)
        x, y = shapely.get_x(centre), shapely.get_y(centre)
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
        return cls(geoms, tree, x, y, inner, outer)

    def private(self) -> _ReachIndex:
        """A copy whose geometries are this worker's own, prepared for fast predicates.

        GEOS prepared geometries build their indexes lazily and must not be shared
        between threads; the tree and the disc arrays are read-only and shared.
        """
        geoms = shapely.from_wkb(shapely.to_wkb(self.geoms))
        shapely.prepare(geoms)
        return _ReachIndex(geoms, self.tree, self.x, self.y, self.inner, self.outer)


@dataclass
class _Pairs:
    """Land × reach pairs that meet: land index, reach index, and whether reach covers land."""

    land: np.ndarray
    reach: np.ndarray
    whole: np.ndarray


def _first_of_runs(sorted_values: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal values in a sorted array."""
    first = np.ones(len(sorted_values), dtype=bool)
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return first


def _pairs(
    land: np.ndarray,
    index: _ReachIndex,
    *,
    first_whole_only: bool = True,
    bounds: np.ndarray | None = None,
) -> _Pairs:
    """The (land, reach) pairs whose geometries intersect, and whether the reach covers the land.

    With `first_whole_only`, a land geometry covered whole by a reach polygon keeps only
    that one pair (enough for coverage and for splitting by non-overlapping zones);
    otherwise every intersecting pair is returned. Pairs are sorted by land, then reach.
    `bounds` are the land geometries' bounds when already known.
    """
    none = np.zeros(0, dtype=np.intp)
    if len(land) == 0 or len(index.geoms) == 0:
        return _Pairs(none, none, np.zeros(0, dtype=bool))
    li, ri = index.tree.query(land)
    if len(li) == 0:
        return _Pairs(none, none, np.zeros(0, dtype=bool))
    if (li[1:] < li[:-1]).any():  # shapely lists them by land already; do not rely on it
        order = np.argsort(li, kind="stable")
        li, ri = li[order], ri[order]
    # numpy first: each land's bounding circle against the reach's inner and outer discs
    if bounds is None:
        bounds = shapely.bounds(land)
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
        land_idx = np.concatenate([wl, pl])
        reach_idx = np.concatenate([wr, pr])
        whole = np.concatenate([np.ones(len(wl), dtype=bool), np.zeros(len(pl), dtype=bool)])
        order = np.lexsort((reach_idx, land_idx))
        return _Pairs(land_idx[order], reach_idx[order], whole[order])
    # the first whole pair of each land (in query order): the lands settled by the discs
    # and those settled by `covers` are disjoint, and each list is sorted by land
    wl, wr = li[sure_in], ri[sure_in]
    first = _first_of_runs(wl)
    cl, cr = ul[covers], ur[covers]
    first_c = _first_of_runs(cl)
    reach_of = np.full(len(land), -1, dtype=np.intp)
    reach_of[wl[first]] = wr[first]
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
    return _Pairs(land_idx[order], reach_idx, whole[order])


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of overlay results (drops stray lines and points)."""
    geoms = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(geoms)
    mixed = types == shapely.GeometryType.GEOMETRYCOLLECTION
    if mixed.any():
        geoms = geoms.copy()
        parts, index = shapely.get_parts(geoms[mixed], return_index=True)
        parts, inner = shapely.get_parts(parts, return_index=True)
        index = index[inner]
        ok = np.isin(shapely.get_type_id(parts), [3, 6]) & (shapely.area(parts) > 0)
        fixed = np.full(int(mixed.sum()), shapely.Polygon(), dtype=object)
        if ok.any():
            rows, merged = _grouped_union(parts[ok], index[ok])
            fixed[rows] = merged
        geoms[mixed] = fixed
    return geoms


#: Uncovered state of a land piece: covered whole, not covered at all, or partly covered.
_COVERED, _UNCOVERED, _PARTIAL = 0, 1, 2


@dataclass
class _Overlay:
    covered: np.ndarray  # m² per land geometry
    state: np.ndarray  # _COVERED / _UNCOVERED / _PARTIAL per land geometry
    rest: np.ndarray | None  # uncovered geometry where _PARTIAL (None elsewhere)

    def uncovered(self, land: np.ndarray) -> np.ndarray:
        """Uncovered geometry per land geometry (None where covered whole)."""
        out = np.full(len(self.state), None, dtype=object)
        out[self.state == _UNCOVERED] = land[self.state == _UNCOVERED]
        if self.rest is not None:
            partial = self.state == _PARTIAL
            out[partial] = self.rest[partial]
        return out


def _overlay_land(
    land: np.ndarray, index: _ReachIndex, *, want_uncovered: bool, area=None, bounds=None
) -> _Overlay:
    """Covered area (and uncovered geometry) of each land geometry under the reach polygons.

    Land inside one reach polygon counts whole. From land that only meets reach
    polygons, each of them is cut out in turn (``shapely.difference``, vectorized over
    all such land at once: the first reach polygon of every piece, then the second, ...);
    what is left is the uncovered part (the blind spot) and covered = area − uncovered.
    One overlay per (land, reach) pair gives both the area and the blind-spot polygon,
    and no union of reach polygons is ever formed.
    """
    n = len(land)
    area = shapely.area(land) if area is None else area
    covered = np.zeros(n)
    state = np.full(n, _UNCOVERED, dtype=np.int8)
    rest = np.full(n, None, dtype=object) if want_uncovered else None
    pairs = _pairs(land, index, bounds=bounds)
    whole = pairs.land[pairs.whole]
    covered[whole] = area[whole]
    state[whole] = _COVERED
    part_l = pairs.land[~pairs.whole]
    part_r = pairs.reach[~pairs.whole]
    if len(part_l):
        # pairs are sorted by land: position of each pair within its land's group
        rows, first, counts = np.unique(part_l, return_index=True, return_counts=True)
        position = np.arange(len(part_l)) - np.repeat(first, counts)
        left = np.full(n, None, dtype=object)
        left[rows] = land[rows]
        for round_no in range(int(counts.max())):
            at = position == round_no
            left[part_l[at]] = shapely.difference(left[part_l[at]], index.geoms[part_r[at]])
        left_rows = _polygonal(left[rows])
        left_area = shapely.area(left_rows)
        tiny = np.maximum(_SLIVER_M2, _SLIVER_SHARE * area[rows])
        gone = left_area <= tiny  # covered by several reach polygons together
        untouched = left_area >= area[rows] - tiny  # only touches a reach polygon
        covered[rows] = np.where(gone, area[rows], np.where(untouched, 0.0, area[rows] - left_area))
        state[rows[gone]] = _COVERED
        partial = ~gone & ~untouched
        state[rows[partial]] = _PARTIAL
        if want_uncovered:
            rest[rows[partial]] = left_rows[partial]
    return _Overlay(covered, state, rest)


def _overlay(land, reach, *, want_uncovered: bool = False) -> _Overlay:
    land = np.asarray(land, dtype=object)
    return _overlay_land(land, _ReachIndex.build(reach).private(), want_uncovered=want_uncovered)


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
    >>> covered_area([shapely.box(0, 0, 10, 10)], [shapely.box(5, 0, 20, 10), shapely.box(0, 0, 6, 5)])
    array([75.])
    """
    return _overlay(_geoms(land_geoms), _geoms(reach_geoms)).covered


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
    land = _geoms(land_geoms)
    result = _overlay(land, _geoms(reach_geoms), want_uncovered=True)
    return result.covered, result.uncovered(land)


# --------------------------------------------------------------------------- residential land


def _open_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether envelopes ``a`` and ``b`` (rows of xmin, ymin, xmax, ymax) overlap with area."""
    return (a[:, 0] < b[:, 2]) & (b[:, 0] < a[:, 2]) & (a[:, 1] < b[:, 3]) & (b[:, 1] < a[:, 3])


def _envelope_overlaps_tree(geoms: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_envelope_overlaps` by an STRtree query (any layout of envelopes)."""
    later, earlier = shapely.STRtree(geoms).query(geoms)
    keep = earlier < later
    later, earlier = later[keep], earlier[keep]
    meet = _open_overlap(bounds[later], bounds[earlier])
    later, earlier = later[meet], earlier[meet]
    order = np.lexsort((earlier, later))
    return later[order], earlier[order]


def _envelope_overlaps(geoms: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    gx = np.floor((bs[:, 0] - bs[:, 0].min()) / cell).astype(np.intp)
    gy = np.floor((bs[:, 1] - bs[:, 1].min()) / cell).astype(np.intp)
    rows = int(gy.max()) + 3  # an empty row below and above each column: no wrap-around
    n_cells = (int(gx.max()) + 2) * rows
    if n_cells > 4 * len(small) + 1024:
        return _envelope_overlaps_tree(geoms, bounds)
    key = gx * rows + gy + 1
    counts = np.bincount(key, minlength=n_cells)
    offsets = (1, rows - 1, rows, rows + 1)  # the cell above; right-below, right, right-above
    candidates = int((counts * (counts - 1) // 2).sum()) + sum(
        int((counts[:-off] * counts[off:]).sum()) for off in offsets
    )
    if candidates > 16 * len(small) + 1024:
        return _envelope_overlaps_tree(geoms, bounds)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    xmin, ymin, xmax, ymax = (bs[:, c][order] for c in range(4))
    first = np.cumsum(counts) - counts  # sorted position of each cell's first envelope
    pos = np.arange(len(ks))
    found_i, found_j = [], []
    for off in (0, *offsets):
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
        meet = xmin[i] < xmax[j]
        meet &= xmin[j] < xmax[i]
        meet &= ymin[i] < ymax[j]
        meet &= ymin[j] < ymax[i]
        found_i.append(i[meet])
        found_j.append(j[meet])
    row_of = ok[small[order]]
    a = row_of[np.concatenate(found_i)] if found_i else none
    c = row_of[np.concatenate(found_j)] if found_j else none
    if is_big.any():
        big = ok[is_big]
        q, t = shapely.STRtree(geoms[big]).query(geoms[ok])
        q, t = ok[q], big[t]
        big_row = np.zeros(len(bounds), dtype=bool)
        big_row[big] = True
        keep = ~big_row[q] | (q > t)  # a pair of two large ones once
        q, t = q[keep], t[keep]
        meet = _open_overlap(bounds[q], bounds[t])
        a = np.concatenate([a, q[meet]])
        c = np.concatenate([c, t[meet]])
    later, earlier = np.maximum(a, c), np.minimum(a, c)
    order = np.lexsort((earlier, later))
    return later[order], earlier[order]


def _first_wins_rows(
    geoms: np.ndarray,
    start: int,
    later: np.ndarray,
    earlier: np.ndarray,
    all_geoms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For polygons ``all_geoms[start:start+len(geoms)]``: remove the land of earlier polygons.

    `later`, `earlier` are the pairs of :func:`_envelope_overlaps` whose later polygon is
    one of these. Returns (local rows that lost land, their remaining geometry).
    """
    if len(later) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object)
    local = later - start
    overlap = shapely.relate_pattern(geoms[local], all_geoms[earlier], "T********")
    local, earlier = local[overlap], earlier[overlap]
    if len(local) == 0:
        return local, np.zeros(0, dtype=object)
    rows, cut = _grouped_union(all_geoms[earlier], local)
    return rows, _polygonal(shapely.difference(geoms[rows], cut))


def _first_wins(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Remove from each polygon the land of earlier polygons it overlaps (first one wins)."""
    if len(geoms) < 2:
        return geoms, 0
    later, earlier = _envelope_overlaps(geoms, shapely.bounds(geoms))
    rows, left = _first_wins_rows(geoms, 0, later, earlier, geoms)
    out = geoms.copy()
    out[rows] = left
    return out, len(rows)


def _split(land: np.ndarray, index: _ReachIndex, *, remainder: bool):
    """Cut land geometries by non-overlapping zones.

    Returns (land index, zone index or -1 for the part outside every zone, piece,
    whole) for every piece with positive area, sorted by land; ``whole`` marks pieces
    that are the land geometry itself. With ``remainder=False`` parts outside every
    zone are dropped.
    """
    pairs = _pairs(land, index)
    land_idx, zone_idx, whole = pairs.land, pairs.reach, pairs.whole
    pieces = land[land_idx].copy()
    partial = ~whole
    if partial.any():
        pieces[partial] = _polygonal(
            shapely.intersection(land[land_idx[partial]], index.geoms[zone_idx[partial]])
        )
    if remainder:
        touched = np.zeros(len(land), dtype=bool)
        touched[land_idx] = True
        outside = np.flatnonzero(~touched)
        rest_l, rest_g = np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object)
        if partial.any():
            rest_l, union = _grouped_union(pieces[partial], land_idx[partial])
            rest_g = _polygonal(shapely.difference(land[rest_l], union))
        land_idx = np.concatenate([land_idx, outside, rest_l])
        zone_idx = np.concatenate([zone_idx, np.full(len(outside) + len(rest_l), -1)])
        pieces = np.concatenate([pieces, land[outside], rest_g])
        whole = np.concatenate(
            [whole, np.ones(len(outside), dtype=bool), np.zeros(len(rest_l), dtype=bool)]
        )
    area = shapely.area(pieces)
    source_area = shapely.area(land[land_idx])
    keep = whole | (area > np.maximum(_SLIVER_M2, _SLIVER_SHARE * source_area))
    keep &= area > 0
    order = np.lexsort((zone_idx[keep], land_idx[keep]))
    return land_idx[keep][order], zone_idx[keep][order], pieces[keep][order], whole[keep][order]


@dataclass
class _LandJob:
    """Everything a worker thread needs to build and cover residential pieces."""

    geoms: np.ndarray  # residential polygons that count, in layer order
    bounds: np.ndarray  # their bounds and areas
    area: np.ndarray
    first_wins: bool  # apply the first-wins overlap rule (more than one polygon)
    later: np.ndarray  # pairs of polygons whose envelopes overlap (_envelope_overlaps)
    earlier: np.ndarray
    boundary: _ReachIndex | None
    districts: _ReachIndex | None
    # the service areas, or a function returning them: called only when a worker needs
    # them, so they can still be in the making while the residential pieces are built
    reach: _ReachIndex | Callable[[], _ReachIndex] | None
    want_uncovered: bool

    def private(self) -> _LandJob:
        """This job with the worker's own prepared copies of the zone polygons."""
        return _LandJob(
            self.geoms,
            self.bounds,
            self.area,
            self.first_wins,
            self.later,
            self.earlier,
            None if self.boundary is None else self.boundary.private(),
            None if self.districts is None else self.districts.private(),
            self.reach,
            self.want_uncovered,
        )

    def private_reach(self) -> _ReachIndex | None:
        """The worker's own prepared copy of the service areas (waits for them if needed)."""
        reach = self.reach() if callable(self.reach) else self.reach
        return None if reach is None else reach.private()


@dataclass
class _LandChunk:
    """Pieces of residential polygons ``start..stop`` (and their coverage, if asked)."""

    source: np.ndarray  # residential row of each piece
    zone: np.ndarray  # district zone of each piece (-1: none)
    changed: np.ndarray  # False where the piece is the residential polygon itself
    pieces: np.ndarray  # piece geometry where changed (None elsewhere, to pickle little)
    area: np.ndarray
    covered: np.ndarray | None
    state: np.ndarray | None
    rest: np.ndarray | None
    overlapped: int


def _land_chunk(job: _LandJob, start: int, stop: int) -> _LandChunk:
    job = job.private()  # prepared in the worker thread that uses it
    geoms = job.geoms[start:stop]
    source = np.arange(start, stop)
    pieces = geoms
    changed = np.zeros(len(geoms), dtype=bool)
    overlapped = 0
    # bounds and areas of the pieces while they are the residential polygons themselves
    bounds, area = job.bounds[start:stop], job.area[start:stop]
    if job.first_wins:
        lo, hi = np.searchsorted(job.later, [start, stop])
        rows, left = _first_wins_rows(geoms, start, job.later[lo:hi], job.earlier[lo:hi], job.geoms)
        if len(rows):
            pieces, bounds, area = geoms.copy(), bounds.copy(), area.copy()
            pieces[rows] = left
            bounds[rows] = shapely.bounds(left)
            area[rows] = shapely.area(left)
            changed[rows] = True
        overlapped = len(rows)
        ok = area > 0
        if not ok.all():
            source, pieces, changed = source[ok], pieces[ok], changed[ok]
            bounds, area = bounds[ok], area[ok]
    if job.boundary is not None:
        at, _, pieces, whole = _split(pieces, job.boundary, remainder=False)
        source, changed, bounds, area = source[at], changed[at] | ~whole, None, None
    zone = np.full(len(pieces), -1)
    if job.districts is not None:
        at, zone, pieces, whole = _split(pieces, job.districts, remainder=True)
        source, changed, bounds, area = source[at], changed[at] | ~whole, None, None
    if area is None:
        area = shapely.area(pieces)
    covered = state = rest = None
    reach = job.private_reach()
    if reach is not None:
        result = _overlay_land(
            pieces, reach, want_uncovered=job.want_uncovered, area=area, bounds=bounds
        )
        covered, state, rest = result.covered, result.state, result.rest
    pieces = np.where(changed, pieces, None)
    return _LandChunk(source, zone, changed, pieces, area, covered, state, rest, overlapped)


def _workers(n: int, workers: int | None) -> int:
    """How many threads to use: 1, or 2 for large inputs on a multi-core machine."""
    if workers is None:
        workers = 2 if n >= PARALLEL_MIN_PIECES and (os.cpu_count() or 1) >= 2 else 1
    return max(1, min(int(workers), 2, n))


def _run_land_job(job: _LandJob, workers: int | None) -> _LandChunk:
    """Run the job on all residential polygons, in one thread or split over two.

    Shapely releases the GIL inside its vectorized functions, so two threads work in
    parallel; each has its own prepared copies of the polygons it tests against.
    """
    n = len(job.geoms)
    if _workers(n, workers) == 1:
        return _land_chunk(job, 0, n)
    from concurrent.futures import ThreadPoolExecutor

    split = n // 2
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gisrenew-coverage") as pool:
        futures = [
            pool.submit(_land_chunk, job, 0, split),
            pool.submit(_land_chunk, job, split, n),
        ]
        first, second = (f.result() for f in futures)

    def cat(name):
        a, b = getattr(first, name), getattr(second, name)
        return None if a is None else np.concatenate([a, b])

    return _LandChunk(
        *(
            cat(name)
            for name in ("source", "zone", "changed", "pieces", "area", "covered", "state", "rest")
        ),
        overlapped=first.overlapped + second.overlapped,
    )


def _boundary_geometry(boundary: gpd.GeoDataFrame) -> shapely.Geometry:
    geoms = _geoms(boundary)
    if len(geoms) == 0:
        raise AnalysisError("the built-up boundary layer has no polygons")
    return geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)


def residential_land(
    residential: gpd.GeoDataFrame,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    rules: RuleSet | str | None = None,
    residential_codes: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """The denominator 居住用地: residential land as non-overlapping pieces.

    Steps: keep the polygons whose land-use code counts; remove overlaps (land shared by
    several polygons stays with the one listed first); clip to the built-up boundary
    建成区; split the pieces by district polygons 区/镇/街道 when given.

    Parameters
    ----------
    residential : geopandas.GeoDataFrame
        Residential polygons in a metric CRS (geometry alone is enough).
    boundary, districts : geopandas.GeoDataFrame, optional
        Built-up area and district polygons; reprojected to the residential CRS if needed.
        Without a districts layer, the residential ``district_id`` column is used.
        Overlapping districts: the shared land goes to the district listed first.
    weight : str, optional
        Column of households or population to carry along (spread evenly over each
        polygon; see the module notes).
    rules : RuleSet, str or None
        Its ``residential_codes`` are used when `residential_codes` is not given.
    residential_codes : sequence of str, optional
        Land-use code prefixes that count (``["R", "07"]``); empty or None: every polygon.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per piece: ``residential_id``, ``name``, ``land_use``, ``district_id``,
        ``area_m2``, ``weight`` (nan without `weight`), ``households`` and
        ``population`` (even spread), geometry. A polygon split by a district border
        gives one row per district.

    Raises
    ------
    AnalysisError
        When no residential land is left (none counts, or none lies inside the boundary).
    """
    rules, codes = _rules_and_codes(rules, residential_codes)
    res = _conformed(residential, "residential", name="residential")
    crs_rules.ensure_metric(res, "residential")
    boundary = _conformed(boundary, "boundary", name="boundary", crs=res.crs)
    districts = _conformed(districts, "districts", name="districts", crs=res.crs)
    land, _ = _land_and_overlay(
        res, boundary=boundary, districts=districts, weight=weight, codes=codes
    )
    return land


def _take_text(column: pd.Series, idx: np.ndarray):
    """``column.to_numpy(dtype=object)[idx]`` for a new frame; a str column stays str (faster)."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.array.take(idx)
    return column.to_numpy(dtype=object)[idx]


def _weights(res: gpd.GeoDataFrame, weight: str | None) -> np.ndarray:
    if weight is None:
        return np.full(len(res), np.nan)
    if weight not in res.columns:
        numeric = [
            c
            for c in res.columns
            if c != res.geometry.name and pd.api.types.is_numeric_dtype(res[c])
        ]
        raise SchemaError(
            f"weight column `{weight}` is not in the residential layer; numeric columns: "
            f"{', '.join(numeric) or '-'}"
        )
    values = pd.to_numeric(res[weight], errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any():
        raise SchemaError(f"weight column `{weight}` has missing or non-numeric values")
    if (values < 0).any():
        raise SchemaError(f"weight column `{weight}` has negative values")
    return values


def _land_and_overlay(
    res: gpd.GeoDataFrame,
    *,
    boundary: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    weight: str | None,
    codes: tuple[str, ...] | None,
    reach=None,
    workers: int | None = None,
) -> tuple[gpd.GeoDataFrame, _Overlay | None]:
    """Residential pieces (and, with `reach`, their coverage) in one pass over the polygons.

    `reach` is the reach geometries, or a function returning their :class:`_ReachIndex`:
    each worker calls it only once its residential pieces are built, so the caller can
    build the service areas meanwhile.
    """
    if len(res) == 0:
        raise AnalysisError("no residential land: the residential layer has no polygons")
    res = select_residential(res, codes)
    values = _weights(res, weight)
    geoms = _geoms(res)
    area0 = shapely.area(geoms)
    zone_ids = None
    district_index = None
    if districts is not None and len(districts):
        zones, changed = _first_wins(_geoms(districts))
        if changed:
            log.warning(
                "%d district polygons overlap earlier ones; the shared land goes to the district "
                "listed first",
                changed,
            )
        keep = shapely.area(zones) > 0
        district_index = _ReachIndex.build(zones[keep])
        zone_ids = districts["district_id"].astype(str).to_numpy(dtype=object)[keep]
    bounds = shapely.bounds(geoms)
    first_wins = len(geoms) > 1
    later, earlier = _envelope_overlaps(geoms, bounds) if first_wins else (None, None)
    boundary_index = None if boundary is None else _ReachIndex.build([_boundary_geometry(boundary)])
    if reach is not None and not callable(reach):
        reach = _ReachIndex.build(reach)
    job = _LandJob(
        geoms=geoms,
        bounds=bounds,
        area=area0,
        first_wins=first_wins,
        later=later,
        earlier=earlier,
        boundary=boundary_index,
        districts=district_index,
        reach=reach,
        want_uncovered=True,
    )
    chunk = _run_land_job(job, workers)
    if chunk.overlapped:
        log.info(
            "%d residential polygons overlap earlier ones; the shared land is counted once "
            "(with the polygon listed first)",
            chunk.overlapped,
        )
    if len(chunk.source) == 0:
        if boundary is not None:
            raise AnalysisError(
                f"no residential land inside the built-up boundary: none of the {len(res)} "
                "residential polygons overlaps it. Check that the boundary and the residential "
                "layer cover the same place."
            )
        raise AnalysisError("no residential land: the residential polygons have no area")
    idx = chunk.source
    pieces = np.where(chunk.changed, chunk.pieces, geoms[idx])
    if zone_ids is not None:
        district = res["district_id"].astype(str).to_numpy(dtype=object)[idx]
        district = np.where(chunk.zone >= 0, zone_ids[np.maximum(chunk.zone, 0)], district)
    else:
        district = _take_text(res["district_id"].astype(str), idx)
    area = chunk.area
    share = np.divide(area, area0[idx], out=np.zeros(len(idx)), where=area0[idx] > 0)
    data = {
        _ID: _take_text(res[_ID].astype(str), idx),
        "name": _take_text(res["name"].astype(str), idx),
        "land_use": _take_text(res["land_use"].astype(str), idx),
        "district_id": district,
        "area_m2": area,
        "weight": values[idx] * share,
        "households": res["households"].to_numpy(dtype=float)[idx] * share,
        "population": res["population"].to_numpy(dtype=float)[idx] * share,
    }
    land = gpd.GeoDataFrame(data, geometry=pieces, crs=res.crs)
    land.attrs = {"kind": "residential_land", "weight_column": weight}
    overlay = None
    if reach is not None:
        overlay = _Overlay(chunk.covered, chunk.state, chunk.rest)
    return land, overlay


# --------------------------------------------------------------------------- results


def _area_cols(prefix: str, values) -> dict:
    values = np.asarray(values, dtype=float)
    return {
        f"{prefix}_m2": values,
        f"{prefix}_ha": values / M2_PER_HA,
        f"{prefix}_mu": values / M2_PER_MU,
    }


def district_table(land: pd.DataFrame, districts: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Coverage per district 区/镇/街道 from per-piece results.

    Parameters
    ----------
    land : pandas.DataFrame
        Residential pieces with ``district_id``, ``area_m2``, ``covered_m2`` and, for
        weights, ``weight`` and ``covered_weight``.
    districts : geopandas.GeoDataFrame, optional
        The districts layer: gives names and the row order, and lists districts without
        residential land too.

    Returns
    -------
    pandas.DataFrame
        ``district_id``, ``name``, ``residential_area_m2/_ha/_mu``,
        ``covered_area_m2/_ha/_mu``, ``coverage_ratio`` and, with weights,
        ``weight_total``, ``weight_covered``, ``weighted_ratio``. Empty when there is no
        district information at all. Land outside every district has ``district_id`` "".
    """
    ids = land["district_id"].astype(str)
    distinct = set(pd.unique(ids).tolist())
    weighted = "covered_weight" in land.columns and not np.isnan(_column(land, "weight")).all()
    known = [] if districts is None else list(districts["district_id"].astype(str))
    names = (
        {} if districts is None else dict(zip(known, districts["name"].astype(str), strict=False))
    )
    present = sorted(distinct - set(known) - {""})
    order = known + present + ([""] if "" in distinct and (known or present) else [])
    columns = [
        "district_id",
        "name",
        *_area_cols("residential_area", []),
        *_area_cols("covered_area", []),
        "coverage_ratio",
    ]
    if weighted:
        columns += ["weight_total", "weight_covered", "weighted_ratio"]
    if not order:
        return pd.DataFrame(
            {
                c: pd.Series([], dtype=object if c in ("district_id", "name") else float)
                for c in columns
            }
        )
    code = pd.Index(order).get_indexer(ids.to_numpy(dtype=object))
    m = len(order)
    area = np.bincount(code, land["area_m2"].to_numpy(dtype=float), minlength=m)
    covered = np.bincount(code, land["covered_m2"].to_numpy(dtype=float), minlength=m)
    table = {
        "district_id": np.asarray(order, dtype=object),
        "name": np.asarray(
            [names.get(d, d) if d else "(outside districts)" for d in order], dtype=object
        ),
        **_area_cols("residential_area", area),
        **_area_cols("covered_area", covered),
        "coverage_ratio": np.divide(covered, area, out=np.full(m, np.nan), where=area > 0),
    }
    if weighted:
        total = np.bincount(code, _column(land, "weight"), minlength=m)
        cw = np.bincount(code, land["covered_weight"].to_numpy(dtype=float), minlength=m)
        table["weight_total"] = total
        table["weight_covered"] = cw
        table["weighted_ratio"] = np.divide(cw, total, out=np.full(m, np.nan), where=total > 0)
    return pd.DataFrame(table)


def _column(frame: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    """A numeric column as floats, or `default` everywhere when the frame lacks it."""
    if name in frame.columns:
        return frame[name].to_numpy(dtype=float)
    return np.full(len(frame), default)


def _blind_spots(land: gpd.GeoDataFrame, uncovered: np.ndarray | None) -> gpd.GeoDataFrame:
    if uncovered is None:
        present = np.zeros(0, dtype=np.intp)
        geoms = np.zeros(0, dtype=object)
    else:
        present = np.flatnonzero(~shapely.is_missing(np.asarray(uncovered, dtype=object)))
        geoms = _polygonal(np.asarray(uncovered, dtype=object)[present])
    area = shapely.area(geoms) if len(geoms) else np.zeros(0)
    keep = area > 0
    present, geoms, area = present[keep], geoms[keep], area[keep]
    share = np.divide(area, land["area_m2"].to_numpy(dtype=float)[present], out=np.zeros(len(present)),
                      where=land["area_m2"].to_numpy(dtype=float)[present] > 0)  # fmt: skip
    data = {
        "blind_spot_id": np.asarray([str(i + 1) for i in range(len(present))], dtype=object),
        _ID: _take_text(land[_ID], present),
        "district_id": _take_text(land["district_id"], present),
        **_area_cols("area", area),
        "households": _column(land, "households", 0.0)[present] * share,
        "population": _column(land, "population", 0.0)[present] * share,
        "weight": _column(land, "weight")[present] * share,
    }
    return gpd.GeoDataFrame(data, geometry=geoms, crs=land.crs)


def summarize_coverage(
    land: gpd.GeoDataFrame,
    covered_m2,
    *,
    method: str,
    rules: RuleSet,
    parks: pd.DataFrame,
    service_areas: gpd.GeoDataFrame,
    uncovered=None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    parameters: dict | None = None,
) -> CoverageResult:
    """Assemble a :class:`~gisrenew.results.CoverageResult` from per-piece covered areas.

    Used by :func:`compute_coverage` and by other engines (e.g. the walking-network
    method) so that every result has the same tables.

    Parameters
    ----------
    land : geopandas.GeoDataFrame
        Pieces from :func:`residential_land` (any extra columns are kept).
    covered_m2 : array-like of float
        Covered area per piece.
    uncovered : array-like of geometries, optional
        Uncovered part of each piece (``None`` where none) for the blind spots; without
        it only wholly uncovered pieces become blind spots.
    """
    return _summarize(
        land,
        covered_m2,
        own_land=False,
        method=method,
        rules=rules,
        parks=parks,
        service_areas=service_areas,
        uncovered=uncovered,
        districts=districts,
        weight=weight,
        parameters=parameters,
    )


def _summarize(
    land: gpd.GeoDataFrame,
    covered_m2,
    *,
    own_land: bool,
    method: str,
    rules: RuleSet,
    parks: pd.DataFrame,
    service_areas: gpd.GeoDataFrame,
    uncovered=None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    parameters: dict | None = None,
) -> CoverageResult:
    """:func:`summarize_coverage`; with `own_land`, `land` is the caller's own new frame
    and becomes the per-piece table itself (its columns are added to it, not to a copy)."""
    covered = np.clip(
        np.asarray(covered_m2, dtype=float), 0.0, land["area_m2"].to_numpy(dtype=float)
    )
    area = land["area_m2"].to_numpy(dtype=float)
    if uncovered is None:
        uncovered = np.where(covered <= 0, _geoms(land), None)
    share = np.divide(covered, area, out=np.zeros(len(area)), where=area > 0)
    table = land if own_land else land.copy()
    table["covered_m2"] = covered
    table["uncovered_m2"] = area - covered
    table["covered_share"] = share
    weight_values = _column(land, "weight")
    table["covered_weight"] = weight_values * share
    districts_tab = district_table(table, districts)
    total = float(area.sum())
    if weight is not None:
        weight_total = float(weight_values.sum())
        weight_covered = float((weight_values * share).sum())
    else:
        weight_total = weight_covered = math.nan
    return CoverageResult(
        method=method,
        rules=rules,
        covered_area_m2=float(covered.sum()),
        residential_area_m2=total,
        residential=table,
        districts=districts_tab,
        parks=parks,
        service_areas=service_areas,
        blind_spots=_blind_spots(land, uncovered),
        weight_column=weight,
        weight_total=weight_total,
        weight_covered=weight_covered,
        parameters=dict(parameters or {}),
    )


def compute_coverage(
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    rules: RuleSet | str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    residential_codes: Sequence[str] | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> CoverageResult:
    """The park service-radius coverage ratio 公园绿地服务半径覆盖率, with its explanation.

    Parameters
    ----------
    parks : geopandas.GeoDataFrame
        Park (and plaza) polygons; reprojected to the residential CRS when in another CRS.
    residential : geopandas.GeoDataFrame
        Residential land 居住用地 in a metric CRS (geographic input is reprojected to the
        CGCS2000 Gauss-Krüger zone by :func:`gisrenew.io.conform`).
    rules : RuleSet, str or None
        Rule set (preset name, TOML path or object); default ``tijian-2021``.
    boundary : geopandas.GeoDataFrame, optional
        Built-up area 建成区: the ratio is computed inside it.
    districts : geopandas.GeoDataFrame, optional
        Districts 区/镇/街道 for the per-district table (else the residential
        ``district_id`` column).
    weight : str, optional
        Residential column with households or population: adds the covered share of it
        (assuming it is spread evenly within each polygon).
    residential_codes : sequence of str, optional
        Land-use code prefixes that count as residential (default: the rule set's, else all).
    progress : bool
        Show a progress bar (tqdm) over the steps.
    workers : int, optional
        Threads for the per-piece work: 1, or 2 (shapely releases the GIL, so two
        threads run in parallel); default: two for large inputs (≥
        :data:`PARALLEL_MIN_PIECES` residential polygons) on a multi-core machine.

    Returns
    -------
    CoverageResult
        ``method="buffer"``; see :class:`gisrenew.results.CoverageResult`.

    Raises
    ------
    AnalysisError
        No residential land inside the boundary (the ratio would divide by zero).
    CRSError
        A layer without CRS, or residential land not in a metric CRS.
    """
    steps = _Progress(progress, total=2)
    rules, codes = _rules_and_codes(rules, residential_codes)
    res = _conformed(residential, "residential", name="residential")
    crs_rules.ensure_metric(res, "residential")
    parks_c = _conformed(parks, "parks", name="parks", crs=res.crs)
    boundary_c = _conformed(boundary, "boundary", name="boundary", crs=res.crs)
    districts_c = _conformed(districts, "districts", name="districts", crs=res.crs)

    def parks_and_areas():
        table = _park_table(parks_c, rules)
        areas = _service_areas(parks_c, table)
        return table, areas, _ReachIndex.build(_geoms(areas))

    from concurrent.futures import ThreadPoolExecutor

    # the park table and service areas are built while the residential land is prepared
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gisrenew-parks") as pool:
        parks_future = pool.submit(parks_and_areas)
        land, overlay = _land_and_overlay(
            res,
            boundary=boundary_c,
            districts=districts_c,
            weight=weight,
            codes=codes,
            reach=lambda: parks_future.result()[2],
            workers=workers,
        )
        table, areas, _ = parks_future.result()
    steps.update("parks, residential land, overlay")
    if len(areas) == 0:
        log.warning("no park qualifies under %s: coverage is 0", rules.describe())
    result = _summarize(
        land,
        overlay.covered,
        own_land=True,
        method="buffer",
        rules=rules,
        parks=table,
        service_areas=areas,
        uncovered=overlay.uncovered(_geoms(land)),
        districts=districts_c,
        weight=weight,
        parameters={
            "buffer_quad_segs": BUFFER_QUAD_SEGS,
            "residential_codes": list(codes) if codes else None,
            "boundary": boundary_c is not None,
            "districts": districts_c is not None,
            "overlap_rule": "overlapping residential land counted once (first polygon keeps it)",
            "weight_spread": "even within each residential polygon",
            "crs": res.crs.to_string(),
        },
    )
    steps.update("tables")
    steps.close()
    return result


class _Progress:
    """A tqdm bar over named steps (no-op unless enabled)."""

    def __init__(self, enabled: bool, total: int):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="coverage", unit="step", leave=False)

    def update(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(label)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------- contribution


def park_contribution(
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    rules: RuleSet | str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    residential_codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """What each park alone provides: the covered land lost if it closed.

    ``unique_covered_m2`` is the residential land within this park's service area and
    no other's — exactly how much the covered area would fall if the park closed (or
    stopped qualifying). A qualifying park with 0 is *redundant* for the ratio (its
    land is covered by other parks anyway).

    Returns
    -------
    pandas.DataFrame
        One row per input park: ``park_id``, ``name``, ``park_class``, ``park_area_m2``,
        ``tier``, ``radius_m``, ``qualifies``, ``covered_m2/_ha/_mu`` (residential land in
        its service area, shared or not), ``unique_covered_m2/_ha/_mu``,
        ``unique_share`` (unique / covered), ``redundant`` and, with `weight`,
        ``covered_weight`` and ``unique_weight``.
    """
    rules, codes = _rules_and_codes(rules, residential_codes)
    res = _conformed(residential, "residential", name="residential")
    crs_rules.ensure_metric(res, "residential")
    parks_c = _conformed(parks, "parks", name="parks", crs=res.crs)
    boundary_c = _conformed(boundary, "boundary", name="boundary", crs=res.crs)
    districts_c = _conformed(districts, "districts", name="districts", crs=res.crs)
    table = _park_table(parks_c, rules)
    areas = _service_areas(parks_c, table)
    land, _ = _land_and_overlay(
        res, boundary=boundary_c, districts=districts_c, weight=weight, codes=codes
    )
    land_g = _geoms(land)
    reach = _ReachIndex.build(_geoms(areas)).private()
    land_area = land["area_m2"].to_numpy(dtype=float)
    density = np.divide(
        land["weight"].to_numpy(dtype=float),
        land_area,
        out=np.zeros(len(land)),
        where=land_area > 0,
    )
    covered_by, unique_by = _contributions(land_g, reach, land_area)
    n_sa = len(areas)
    cov_m2 = np.bincount(covered_by[1], covered_by[0], minlength=n_sa) if n_sa else np.zeros(0)
    uni_m2 = np.bincount(unique_by[1], unique_by[0], minlength=n_sa) if n_sa else np.zeros(0)
    cov_w = (
        np.bincount(covered_by[1], covered_by[0] * density[covered_by[2]], minlength=n_sa)
        if n_sa
        else np.zeros(0)
    )
    uni_w = (
        np.bincount(unique_by[1], unique_by[0] * density[unique_by[2]], minlength=n_sa)
        if n_sa
        else np.zeros(0)
    )
    pos = np.flatnonzero(table["qualifies"].to_numpy(dtype=bool))
    n = len(table)

    def spread(values):
        out = np.zeros(n)
        out[pos] = values
        return out

    covered = spread(cov_m2)
    unique = spread(uni_m2)
    out = table[
        ["park_id", "name", "park_class", "park_area_m2", "tier", "radius_m", "qualifies"]
    ].copy()
    for key, value in {
        **_area_cols("covered", covered),
        **_area_cols("unique_covered", unique),
    }.items():
        out[key] = value
    out["unique_share"] = np.divide(unique, covered, out=np.full(n, np.nan), where=covered > 0)
    out["redundant"] = out["qualifies"].to_numpy(dtype=bool) & (unique <= 0)
    if weight is not None:
        out["covered_weight"] = spread(cov_w)
        out["unique_weight"] = spread(uni_w)
    return out


def _contributions(land: np.ndarray, index: _ReachIndex, land_area: np.ndarray):
    """Per (land, reach) pair: covered m²; and the m² only that reach covers.

    Returns two triples of arrays (area, reach index, land index).
    """
    reach = index.geoms
    pairs = _pairs(land, index, first_whole_only=False)
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
    # land covered whole by two or more parks: nobody is unique there
    several = (count[li] > 1) & (whole_count[li] < 2)
    pos = np.flatnonzero(several)
    if len(pos):
        # for pair p, the union of the other pairs' pieces of the same land
        starts = np.searchsorted(li, li[pos], side="left")
        k = count[li[pos]]
        owner = np.repeat(pos, k)
        member = np.repeat(starts, k) + (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k))
        others = member != owner
        owner, member = owner[others], member[others]
        rows, union = _grouped_union(piece[member], owner)
        only = shapely.difference(piece[rows], union)
        unique[rows] = shapely.area(only)
    return (piece_area, ri, li), (unique, ri, li)


def comparison_dict(buffer: CoverageResult, network: CoverageResult) -> dict:
    """JSON-ready comparison: both results plus the per-district difference (network − buffer)."""
    districts = []
    net = network.districts.set_index("district_id") if len(network.districts) else None
    for rec in buffer.districts.itertuples(index=False):
        other = math.nan
        if net is not None and rec.district_id in net.index:
            other = float(net.loc[rec.district_id, "coverage_ratio"])
        districts.append(
            {
                "district_id": rec.district_id,
                "name": rec.name,
                "residential_area_m2": float(rec.residential_area_m2),
                "buffer_ratio": float(rec.coverage_ratio),
                "network_ratio": other,
                "difference": other - float(rec.coverage_ratio),
            }
        )
    return {
        "method": "both",
        "rules": buffer.rules.to_dict(),
        "residential_area_m2": buffer.residential_area_m2,
        "buffer": buffer.to_dict(),
        "network": network.to_dict(),
        "difference": {
            "coverage_ratio": network.ratio - buffer.ratio,
            "covered_area_m2": network.covered_area_m2 - buffer.covered_area_m2,
        },
        "districts": districts,
    }


def coverage_layers(result: CoverageResult, *, prefix: str = "") -> dict[str, pd.DataFrame]:
    """The layers and tables of a result, ready for :func:`gisrenew.io.write_results`.

    Keys: ``coverage_residential`` (per piece, with geometry), ``blind_spots``,
    ``service_areas``, ``districts``, ``parks`` and ``summary`` (one row).
    """
    summary = pd.DataFrame(
        {
            "indicator": [INDICATOR_NAMES["zh"]],
            "indicator_new": [INDICATOR_NAMES["zh_new"]],
            "method": [result.method],
            "rules": [result.rules.describe()],
            "coverage_ratio": [result.ratio],
            **_area_cols("covered_area", [result.covered_area_m2]),
            **_area_cols("residential_area", [result.residential_area_m2]),
            "weight_column": [result.weight_column or ""],
            "weighted_ratio": [result.weighted_ratio],
        }
    )
    residential = result.residential.copy()
    for key, value in _area_cols("area", residential["area_m2"].to_numpy(dtype=float)).items():
        residential[key] = value
    return {
        f"{prefix}coverage_residential": residential,
        f"{prefix}blind_spots": result.blind_spots,
        f"{prefix}service_areas": result.service_areas,
        f"{prefix}districts": result.districts,
        f"{prefix}parks": result.parks,
        f"{prefix}summary": summary,
    }
