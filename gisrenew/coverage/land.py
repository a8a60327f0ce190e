"""The denominator 居住用地: residential land as non-overlapping pieces (and their coverage).

* :func:`residential_land` keeps the residential polygons whose land-use code counts
  (prefix match: ``R`` matches ``R21``, ``07`` matches ``070101``), clipped to the
  built-up boundary: where residential polygons overlap, the land is counted once — it
  stays with the polygon that comes first in the layer, and later polygons keep only
  what is left. Each resulting piece may be split further by district polygons.
* **Weights** (households or population) are spread evenly over each residential
  polygon: a piece carries ``weight × piece area / polygon area``, so land outside the
  boundary, or already counted by an earlier overlapping polygon, takes its share with
  it.
* :func:`land_and_overlay` builds the pieces and, in the same pass, their coverage
  under the service areas (:mod:`gisrenew.coverage.overlay`). Large inputs are split
  over two threads (shapely releases the GIL; each thread prepares its own copies of
  the polygons it tests).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import crs as crs_rules
from gisrenew.coverage.columns import take_text
from gisrenew.coverage.envelopes import envelope_overlaps
from gisrenew.coverage.overlay import (
    SLIVER_M2,
    SLIVER_SHARE,
    Overlay,
    ReachIndex,
    land_reach_pairs,
    overlay_land,
)
from gisrenew.errors import AnalysisError, SchemaError
from gisrenew.geometry import geometry_array, polygonal_part, union_by_group
from gisrenew.io import conformed
from gisrenew.rules import RuleSet, get_rules

__all__ = [
    "PARALLEL_MIN_PIECES",
    "land_and_overlay",
    "residential_land",
    "rules_and_codes",
    "select_residential",
]

log = logging.getLogger(__name__)

#: From this many residential polygons on, the per-piece work runs in two threads.
PARALLEL_MIN_PIECES = 20_000

_ID = "residential_id"


def rules_and_codes(rules, residential_codes) -> tuple[RuleSet, tuple[str, ...] | None]:
    """The rule set and the land-use code prefixes that count (`residential_codes` wins)."""
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
            f"land-use code starting with {', '.join(prefixes)} "
            f"(codes found: {', '.join(found) or '-'}). "
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


# --------------------------------------------------------------------------- pieces


def _first_wins_rows(
    geoms: np.ndarray,
    start: int,
    later: np.ndarray,
    earlier: np.ndarray,
    all_geoms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For polygons ``all_geoms[start:start+len(geoms)]``: remove the land of earlier polygons.

    `later`, `earlier` are the pairs of :func:`envelope_overlaps` whose later polygon is
    one of these. Returns (local rows that lost land, their remaining geometry).
    """
    if len(later) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object)
    local = later - start
    overlap = shapely.relate_pattern(geoms[local], all_geoms[earlier], "T********")
    local, earlier = local[overlap], earlier[overlap]
    if len(local) == 0:
        return local, np.zeros(0, dtype=object)
    rows, cut = union_by_group(all_geoms[earlier], local)
    return rows, polygonal_part(shapely.difference(geoms[rows], cut))


def _first_wins(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Remove from each polygon the land of earlier polygons it overlaps (first one wins)."""
    if len(geoms) < 2:
        return geoms, 0
    later, earlier = envelope_overlaps(geoms, shapely.bounds(geoms))
    rows, left = _first_wins_rows(geoms, 0, later, earlier, geoms)
    out = geoms.copy()
    out[rows] = left
    return out, len(rows)


def _split(land: np.ndarray, index: ReachIndex, *, remainder: bool):
    """Cut land geometries by non-overlapping zones.

    Returns (land index, zone index or -1 for the part outside every zone, piece,
    whole) for every piece with positive area, sorted by land; ``whole`` marks pieces
    that are the land geometry itself. With ``remainder=False`` parts outside every
    zone are dropped.
    """
    pairs = land_reach_pairs(land, index)
    land_idx, zone_idx, whole = pairs.land, pairs.reach, pairs.whole
    pieces = land[land_idx].copy()
    partial = ~whole
    if partial.any():
        pieces[partial] = polygonal_part(
            shapely.intersection(land[land_idx[partial]], index.geoms[zone_idx[partial]])
        )
    if remainder:
        touched = np.zeros(len(land), dtype=bool)
        touched[land_idx] = True
        outside = np.flatnonzero(~touched)
        rest_l, rest_g = np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object)
        if partial.any():
            rest_l, union = union_by_group(pieces[partial], land_idx[partial])
            rest_g = polygonal_part(shapely.difference(land[rest_l], union))
        land_idx = np.concatenate([land_idx, outside, rest_l])
        zone_idx = np.concatenate([zone_idx, np.full(len(outside) + len(rest_l), -1)])
        pieces = np.concatenate([pieces, land[outside], rest_g])
        whole = np.concatenate(
            [whole, np.ones(len(outside), dtype=bool), np.zeros(len(rest_l), dtype=bool)]
        )
    area = shapely.area(pieces)
    source_area = shapely.area(land[land_idx])
    keep = whole | (area > np.maximum(SLIVER_M2, SLIVER_SHARE * source_area))
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
    later: np.ndarray | None  # pairs of polygons whose envelopes overlap (envelope_overlaps)
    earlier: np.ndarray | None
    boundary: ReachIndex | None
    districts: ReachIndex | None
    # the service areas, or a function returning them: called only when a worker needs
    # them, so they can still be in the making while the residential pieces are built
    reach: ReachIndex | Callable[[], ReachIndex] | None
    want_uncovered: bool

    def private(self) -> _LandJob:
        """This job with the worker's own prepared copies of the zone polygons."""
        return replace(
            self,
            boundary=None if self.boundary is None else self.boundary.private(),
            districts=None if self.districts is None else self.districts.private(),
        )

    def private_reach(self) -> ReachIndex | None:
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
        result = overlay_land(
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


# --------------------------------------------------------------------------- the layer


def _boundary_geometry(boundary: gpd.GeoDataFrame) -> shapely.Geometry:
    geoms = geometry_array(boundary)
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
    rules, codes = rules_and_codes(rules, residential_codes)
    res = conformed(residential, "residential", name="residential")
    crs_rules.ensure_metric(res, "residential")
    boundary = conformed(boundary, "boundary", name="boundary", crs=res.crs)
    districts = conformed(districts, "districts", name="districts", crs=res.crs)
    land, _ = land_and_overlay(
        res, boundary=boundary, districts=districts, weight=weight, codes=codes
    )
    return land


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


def _district_zones(districts: gpd.GeoDataFrame | None):
    """District polygons without overlaps (first listed wins), indexed; and their ids."""
    if districts is None or len(districts) == 0:
        return None, None
    zones, changed = _first_wins(geometry_array(districts))
    if changed:
        log.warning(
            "%d district polygons overlap earlier ones; the shared land goes to the district "
            "listed first",
            changed,
        )
    keep = shapely.area(zones) > 0
    zone_ids = districts["district_id"].astype(str).to_numpy(dtype=object)[keep]
    return ReachIndex.build(zones[keep]), zone_ids


def _land_job(geoms, boundary, district_index, reach) -> _LandJob:
    """The job of :func:`land_and_overlay` for the residential polygons `geoms`."""
    bounds = shapely.bounds(geoms)
    first_wins = len(geoms) > 1
    later, earlier = envelope_overlaps(geoms, bounds) if first_wins else (None, None)
    boundary_index = None if boundary is None else ReachIndex.build([_boundary_geometry(boundary)])
    if reach is not None and not callable(reach):
        reach = ReachIndex.build(reach)
    return _LandJob(
        geoms=geoms,
        bounds=bounds,
        area=shapely.area(geoms),
        first_wins=first_wins,
        later=later,
        earlier=earlier,
        boundary=boundary_index,
        districts=district_index,
        reach=reach,
        want_uncovered=True,
    )


def _check_chunk(chunk: _LandChunk, n_res: int, boundary) -> None:
    """Log the overlap count; refuse a result without residential land."""
    if chunk.overlapped:
        log.info(
            "%d residential polygons overlap earlier ones; the shared land is counted once "
            "(with the polygon listed first)",
            chunk.overlapped,
        )
    if len(chunk.source) == 0:
        if boundary is not None:
            raise AnalysisError(
                f"no residential land inside the built-up boundary: none of the {n_res} "
                "residential polygons overlaps it. Check that the boundary and the residential "
                "layer cover the same place."
            )
        raise AnalysisError("no residential land: the residential polygons have no area")


def _land_frame(
    res, chunk: _LandChunk, job: _LandJob, values, zone_ids, weight
) -> gpd.GeoDataFrame:
    """The pieces of `chunk` as the residential-land frame (ids, district, area, weights)."""
    idx = chunk.source
    pieces = np.where(chunk.changed, chunk.pieces, job.geoms[idx])
    if zone_ids is not None:
        district = res["district_id"].astype(str).to_numpy(dtype=object)[idx]
        district = np.where(chunk.zone >= 0, zone_ids[np.maximum(chunk.zone, 0)], district)
    else:
        district = take_text(res["district_id"].astype(str), idx)
    area, area0 = chunk.area, job.area
    share = np.divide(area, area0[idx], out=np.zeros(len(idx)), where=area0[idx] > 0)
    data = {
        _ID: take_text(res[_ID].astype(str), idx),
        "name": take_text(res["name"].astype(str), idx),
        "land_use": take_text(res["land_use"].astype(str), idx),
        "district_id": district,
        "area_m2": area,
        "weight": values[idx] * share,
        "households": res["households"].to_numpy(dtype=float)[idx] * share,
        "population": res["population"].to_numpy(dtype=float)[idx] * share,
    }
    land = gpd.GeoDataFrame(data, geometry=pieces, crs=res.crs)
    land.attrs = {"kind": "residential_land", "weight_column": weight}
    return land


def land_and_overlay(
    res: gpd.GeoDataFrame,
    *,
    boundary: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    weight: str | None,
    codes: tuple[str, ...] | None,
    reach=None,
    workers: int | None = None,
) -> tuple[gpd.GeoDataFrame, Overlay | None]:
    """Residential pieces (and, with `reach`, their coverage) in one pass over the polygons.

    Parameters
    ----------
    res, boundary, districts : geopandas.GeoDataFrame
        Conformed layers in one metric CRS (:func:`gisrenew.io.conformed`).
    weight : str or None
        Residential weight column.
    codes : tuple of str or None
        Land-use code prefixes that count (:func:`rules_and_codes`).
    reach : optional
        The reach geometries, or a function returning their :class:`ReachIndex`: each
        worker calls it only once its residential pieces are built, so the caller can
        build the service areas meanwhile.
    workers : int, optional
        Threads (see :func:`gisrenew.coverage.compute_coverage`).

    Returns
    -------
    land : geopandas.GeoDataFrame
        As :func:`residential_land`.
    overlay : Overlay or None
        Coverage of each piece under `reach` (None without `reach`).
    """
    if len(res) == 0:
        raise AnalysisError("no residential land: the residential layer has no polygons")
    res = select_residential(res, codes)
    values = _weights(res, weight)
    district_index, zone_ids = _district_zones(districts)
    job = _land_job(geometry_array(res), boundary, district_index, reach)
    chunk = _run_land_job(job, workers)
    _check_chunk(chunk, len(res), boundary)
    land = _land_frame(res, chunk, job, values, zone_ids, weight)
    overlay = None if reach is None else Overlay(chunk.covered, chunk.state, chunk.rest)
    return land, overlay
