"""Parks under a rule set: which count, their radius, and their service areas 服务范围.

* A park's tier is decided by the area of the whole park feature (a multipart park is
  one park) and its class; the optional minimum width is the diameter of the largest
  circle that fits in the park (:func:`park_width`).
* Service areas are buffers of the park polygons (the radius is measured from the park
  boundary, not the centroid) with :data:`BUFFER_QUAD_SEGS` = 16 segments per quarter
  circle everywhere — geopandas' default; the PostGIS oracle in the tests uses
  ``quad_segs=16`` too. (Shapely's and PostGIS's own default of 8 would shift a ratio
  by about 3.5e-3.)
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import crs as crs_rules
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed
from gisrenew.rules import RuleSet, get_rules

__all__ = [
    "BUFFER_QUAD_SEGS",
    "WIDTH_TOLERANCE_M",
    "park_table",
    "park_width",
    "service_area_frame",
    "service_area_geometries",
    "service_area_union",
    "service_areas",
    "tier_table",
]

#: Segments per quarter circle of every service-area buffer (geopandas' default).
BUFFER_QUAD_SEGS = 16

#: Park widths (maximum inscribed circle) are computed to within this many metres.
WIDTH_TOLERANCE_M = 1e-3

#: From this many parks on, the buffers are split over two threads.
_PARALLEL_MIN_PARKS = 500


def park_width(parks) -> np.ndarray:
    """Width of each park: the diameter of the largest circle that fits inside it (m).

    For a rectangle this is its short side; for a multipart park, the widest part.
    Computed to within :data:`WIDTH_TOLERANCE_M`.

    Parameters
    ----------
    parks : GeoDataFrame, GeoSeries or array of polygons
        In a metric CRS.
    """
    geoms = geometry_array(parks)
    if len(geoms) == 0:
        return np.zeros(0)
    circles = shapely.maximum_inscribed_circle(geoms, WIDTH_TOLERANCE_M)
    return 2.0 * shapely.length(circles)


def tier_table(parks: gpd.GeoDataFrame, rules: RuleSet) -> pd.DataFrame:
    """:func:`park_table` of parks already conformed (:func:`gisrenew.io.conformed`), metric."""
    geoms = geometry_array(parks)
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
    >>> boxes = [shapely.box(0, 0, 100, 50), shapely.box(500, 0, 540, 40)]
    >>> parks = gpd.GeoDataFrame(geometry=boxes, crs="EPSG:4549")
    >>> table = park_table(parks, "tijian-2021")
    >>> table[["park_area_m2", "radius_m", "qualifies"]].to_numpy().tolist()
    [[5000.0, 500.0, True], [1600.0, nan, False]]
    """
    rules = get_rules(rules)
    parks = conformed(parks, "parks", name="parks")
    crs_rules.ensure_metric(parks, "parks")
    return tier_table(parks, rules)


def _buffer(geoms: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Buffers with :data:`BUFFER_QUAD_SEGS`; many parks are split over two threads."""
    if len(geoms) < _PARALLEL_MIN_PARKS or (os.cpu_count() or 1) < 2:
        return shapely.buffer(geoms, radius, quad_segs=BUFFER_QUAD_SEGS)
    half = len(geoms) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = pool.map(
            lambda sl: shapely.buffer(geoms[sl], radius[sl], quad_segs=BUFFER_QUAD_SEGS),
            [slice(0, half), slice(half, None)],
        )
        return np.concatenate(list(parts))


def service_area_geometries(parks: gpd.GeoDataFrame, table: pd.DataFrame) -> np.ndarray:
    """Service areas of the qualifying parks of `table` (:func:`tier_table` of `parks`)."""
    ok = table["qualifies"].to_numpy(dtype=bool)
    radius = table["radius_m"].to_numpy(dtype=float)[ok]
    return _buffer(geometry_array(parks)[ok], radius)


def service_area_frame(parks: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """:func:`service_areas` of conformed `parks` with their :func:`tier_table` `table`."""
    ok = table["qualifies"].to_numpy(dtype=bool)
    geoms = service_area_geometries(parks, table)
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
    parks = conformed(parks, "parks", name="parks")
    crs_rules.ensure_metric(parks, "parks")
    return service_area_frame(parks, tier_table(parks, rules))


def service_area_union(areas) -> shapely.Geometry:
    """The union of service areas as one (multi)polygon — for maps, not for the ratio."""
    geoms = geometry_array(areas)
    if len(geoms) == 0:
        return shapely.MultiPolygon()
    return shapely.union_all(geoms)
