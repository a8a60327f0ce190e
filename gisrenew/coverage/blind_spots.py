"""Blind spots 服务盲区: uncovered residential land, and what a change closes or opens.

* :func:`blind_spot_table` — the blind-spot layer of a result: one polygon per
  residential piece with uncovered land, with its area, district and households
  (spread evenly within the piece, as its weights are).
* :func:`mark_slivers` — blind spots below a threshold (digitising slivers, e.g. 0.13 m²
  between two polygons that should touch) flagged ``sliver``: they stay in the figures
  (the ratio is exact) but are counted, not listed or drawn, as 服务盲区.
* :func:`closed_blind_spots` / :func:`opened_blind_spots` — the land a change of parks
  brings into service (or takes out of it), per residential piece, by geometry: the
  blind spot before minus the blind spot after. A piece can do both in one change
  (a park closed on one side, another opened on the other): each side is counted on
  its own, never netted. The recompute report and the before/after map both use these.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew.coverage.columns import area_columns, float_column, take_text
from gisrenew.geometry import geometry_array, polygonal_part, union_by_group
from gisrenew.results import CoverageResult

__all__ = [
    "CHANGE_MIN_M2",
    "SLIVER_M2",
    "blind_spot_table",
    "closed_blind_spots",
    "mark_slivers",
    "opened_blind_spots",
]

#: Closed or opened land smaller than this (m²) per residential piece is floating-point noise.
CHANGE_MIN_M2 = 0.01

#: Blind spots smaller than this (m², about half a parking space) are slivers by default.
SLIVER_M2 = 10.0

_KEYS = ["residential_id", "district_id"]
_SEP = "\x1f"  # joins the two keys of a piece (a character ids never hold)


def blind_spot_table(land: gpd.GeoDataFrame, uncovered: np.ndarray | None) -> gpd.GeoDataFrame:
    """Blind spots of residential pieces `land` from their uncovered geometry.

    Parameters
    ----------
    land : geopandas.GeoDataFrame
        Residential pieces (``residential_id``, ``district_id``, ``area_m2`` and
        optionally ``households``, ``population``, ``weight``).
    uncovered : numpy.ndarray of geometries or None
        Uncovered part of each piece (None where covered whole).

    Returns
    -------
    geopandas.GeoDataFrame
        ``blind_spot_id``, ``residential_id``, ``district_id``, ``area_m2/_ha/_mu``,
        ``households``, ``population``, ``weight`` (each spread by area), geometry.
    """
    if uncovered is None:
        present = np.zeros(0, dtype=np.intp)
        geoms = np.zeros(0, dtype=object)
    else:
        present = np.flatnonzero(~shapely.is_missing(np.asarray(uncovered, dtype=object)))
        geoms = polygonal_part(np.asarray(uncovered, dtype=object)[present])
    area = shapely.area(geoms) if len(geoms) else np.zeros(0)
    keep = area > 0
    present, geoms, area = present[keep], geoms[keep], area[keep]
    piece_area = land["area_m2"].to_numpy(dtype=float)[present]
    share = np.divide(area, piece_area, out=np.zeros(len(present)), where=piece_area > 0)
    data = {
        "blind_spot_id": np.asarray([str(i + 1) for i in range(len(present))], dtype=object),
        "residential_id": take_text(land["residential_id"], present),
        "district_id": take_text(land["district_id"], present),
        **area_columns("area", area),
        "households": float_column(land, "households", 0.0)[present] * share,
        "population": float_column(land, "population", 0.0)[present] * share,
        "weight": float_column(land, "weight")[present] * share,
    }
    return gpd.GeoDataFrame(data, geometry=geoms, crs=land.crs)


def mark_slivers(result: CoverageResult, sliver_m2: float = SLIVER_M2) -> CoverageResult:
    """`result` with its blind spots below `sliver_m2` flagged as slivers.

    The blind-spot table gains a boolean ``sliver`` column and the result's parameters
    record ``sliver_m2``; every figure (the ratio, the areas, the closed and opened land
    of a change) is unchanged. Tables and maps list and draw only the blind spots that
    are not slivers and give the slivers' count and area.

    Parameters
    ----------
    result : CoverageResult
        A result of either coverage method.
    sliver_m2 : float
        Threshold in m² (``[coverage] sliver_m2``); 0 flags nothing.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from gisrenew.coverage import compute_coverage
    >>> parks = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:4549")
    >>> homes = gpd.GeoDataFrame(geometry=[shapely.box(-500.05, 0, 0, 100),  # 5 m² left out
    ...                                    shapely.box(700, 0, 800, 100)], crs="EPSG:4549")
    >>> marked = mark_slivers(compute_coverage(parks, homes, rules="garden-city-500"))
    >>> marked.blind_spots["area_m2"].round(1).tolist(), marked.blind_spots["sliver"].tolist()
    ([5.0, 10000.0], [True, False])
    """
    if not (sliver_m2 >= 0):  # also refuses nan
        raise ValueError(f"`sliver_m2` must be a number ≥ 0, got {sliver_m2!r}")
    spots = result.blind_spots.copy()
    spots["sliver"] = spots["area_m2"].to_numpy(dtype=float) < sliver_m2
    parameters = {**result.parameters, "sliver_m2": float(sliver_m2)}
    return replace(result, blind_spots=spots, parameters=parameters)


@dataclass
class _Pieces:
    """Blind spots merged per residential piece (``residential_id``, ``district_id``)."""

    residential_id: np.ndarray
    district_id: np.ndarray
    geometry: np.ndarray
    area: np.ndarray
    households: np.ndarray

    @property
    def keys(self) -> pd.Index:
        return pd.Index(self.residential_id + _SEP + self.district_id)


def _by_piece(spots: gpd.GeoDataFrame | None, crs) -> _Pieces:
    """Blind spots merged per (residential_id, district_id): geometry, area, households."""
    if spots is None or len(spots) == 0:
        none = np.zeros(0, dtype=object)
        return _Pieces(none, none, none, np.zeros(0), np.zeros(0))
    if crs is not None and spots.crs is not None and spots.crs != crs:
        spots = spots.to_crs(crs)
    rid = spots["residential_id"].astype(str).to_numpy(dtype=object)
    if "district_id" in spots.columns:
        did = spots["district_id"].astype(str).to_numpy(dtype=object)
    else:
        did = np.full(len(spots), "", dtype=object)
    codes, _ = pd.factorize(rid + _SEP + did)
    rows, geoms = union_by_group(geometry_array(spots), codes)
    first = np.unique(codes, return_index=True)[1]
    households = np.bincount(codes, float_column(spots, "households", 0.0), minlength=len(rows))
    return _Pieces(rid[first], did[first], geoms, shapely.area(geoms), households)


def _difference(first: gpd.GeoDataFrame | None, second: gpd.GeoDataFrame | None, crs):
    """Per residential piece: land in the `first` blind spots that the `second` ones lack.

    Returns a frame with the piece keys, ``area_m2`` and ``households`` of that land
    (households spread evenly within the first blind spot), ``first_m2``, ``second_m2``
    (the piece's blind-spot area in each) and ``geometry``; pieces with less than
    :data:`CHANGE_MIN_M2` of such land are left out.
    """
    a, b = _by_piece(first, crs), _by_piece(second, crs)
    position = b.keys.get_indexer(a.keys) if len(b.area) else np.full(len(a.area), -1)
    found = position >= 0
    second_m2 = np.zeros(len(a.area))
    second_m2[found] = b.area[position[found]]
    geoms = a.geometry.copy()
    geoms[found] = polygonal_part(shapely.difference(geoms[found], b.geometry[position[found]]))
    area = shapely.area(geoms) if len(geoms) else np.zeros(0)
    share = np.divide(area, a.area, out=np.zeros(len(area)), where=a.area > 0)
    keep = area > CHANGE_MIN_M2
    return gpd.GeoDataFrame(
        {
            "residential_id": pd.Series(a.residential_id[keep], dtype=object),
            "district_id": pd.Series(a.district_id[keep], dtype=object),
            "area_m2": area[keep],
            "households": a.households[keep] * share[keep],
            "first_m2": a.area[keep],
            "second_m2": second_m2[keep],
        },
        geometry=geoms[keep],
        crs=crs,
    )


def _crs(before: CoverageResult, after: CoverageResult):
    for spots in (before.blind_spots, after.blind_spots):
        if spots is not None and spots.crs is not None:
            return spots.crs
    return None


def closed_blind_spots(before: CoverageResult, after: CoverageResult) -> gpd.GeoDataFrame:
    """Residential land that was a blind spot before a change and is covered after it.

    Computed by geometry per residential piece (``residential_id``, ``district_id``):
    the blind spot before minus the blind spot after — so a piece where one park
    closed and another opened reports the land the new one covers, whatever the other
    side lost (see :func:`opened_blind_spots`).

    Parameters
    ----------
    before, after : CoverageResult
        Results before and after the change (same residential land and method).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per piece that gained at least :data:`CHANGE_MIN_M2`: ``residential_id``,
        ``district_id``, ``area_m2`` (newly covered), ``households`` (spread evenly
        within the blind spot, as in ``CoverageResult.blind_spots``),
        ``blind_before_m2``, ``blind_after_m2`` (the piece's blind spot before and after),
        ``fully_closed`` (no blind spot left after), geometry (the newly covered land).
    """
    out = _difference(before.blind_spots, after.blind_spots, _crs(before, after))
    out = out.rename(columns={"first_m2": "blind_before_m2", "second_m2": "blind_after_m2"})
    out["fully_closed"] = out["blind_after_m2"].to_numpy(dtype=float) <= CHANGE_MIN_M2
    return out[[*_KEYS, "area_m2", "households", "blind_before_m2", "blind_after_m2",
                "fully_closed", "geometry"]]  # fmt: skip


def opened_blind_spots(before: CoverageResult, after: CoverageResult) -> gpd.GeoDataFrame:
    """Residential land that was covered before a change and is a blind spot after it.

    The counterpart of :func:`closed_blind_spots` for parks removed (or no longer
    qualifying): the blind spot after minus the blind spot before, per piece.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per piece that lost at least :data:`CHANGE_MIN_M2`: ``residential_id``,
        ``district_id``, ``area_m2`` (no longer covered), ``households`` (spread evenly
        within the blind spot after), ``blind_before_m2``, ``blind_after_m2``,
        ``newly_blind`` (the piece had no blind spot before), geometry.
    """
    out = _difference(after.blind_spots, before.blind_spots, _crs(before, after))
    out = out.rename(columns={"first_m2": "blind_after_m2", "second_m2": "blind_before_m2"})
    out["newly_blind"] = out["blind_before_m2"].to_numpy(dtype=float) <= CHANGE_MIN_M2
    return out[[*_KEYS, "area_m2", "households", "blind_before_m2", "blind_after_m2",
                "newly_blind", "geometry"]]  # fmt: skip
