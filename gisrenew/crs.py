"""Coordinate reference systems: the one place that decides whether coordinates are usable.

Rules (see README, "Coordinates"):

* every layer must have a CRS; a layer without one is an error unless the user
  declares it (``--crs`` on the command line, ``crs =`` in ``gisrenew.toml``);
* areas and distances are computed in a projected CRS in metres — the project's
  *working CRS*. By default it is the CGCS2000 3-degree Gauss-Krüger zone
  (EPSG:4534–4554, "CM xxxE", false easting 500 000) whose central meridian is
  nearest to the data's mean longitude; outside China's zones, the UTM zone;
* geographic layers (EPSG:4326 WGS84, EPSG:4490 CGCS2000, EPSG:4610 Xian 1980, ...)
  and layers in another projected CRS are reprojected to the working CRS, with a log
  message; all layers of a run end up in one CRS;
* EPSG:4490 and the Gauss-Krüger CRSs declare latitude/longitude and
  northing/easting axis order; geopandas/pyproj transform with x = easting/longitude
  (``always_xy``), which the tests check with a point near Taicang;
* coordinates that contradict their CRS (degree-sized numbers in a metric CRS, or
  millions in a geographic one) are an error that says which CRS the data probably has.
"""

from __future__ import annotations

import logging

import numpy as np
from pyproj import CRS

from gisrenew.errors import CRSError

__all__ = [
    "check_coordinates_match_crs",
    "ensure_metric",
    "gk_zone_crs",
    "is_metric_projected",
    "pick_working_crs",
    "to_working_crs",
]

log = logging.getLogger(__name__)

_GK_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
_GK_FIRST_CM = 75
_GK_LAST_CM = 135


def gk_zone_crs(longitude: float) -> CRS:
    """Return the CGCS2000 3-degree Gauss-Krüger CRS (EPSG:4534–4554) for `longitude`.

    Parameters
    ----------
    longitude : float
        Degrees east. Must lie within China's 3-degree zones (73.5°E–136.5°E).

    Examples
    --------
    >>> gk_zone_crs(121.1).to_epsg()   # Taicang, Jiangsu: CM 120°E
    4549
    """
    central_meridian = int(round(float(longitude) / 3.0)) * 3  # noqa: RUF046
    if not _GK_FIRST_CM <= central_meridian <= _GK_LAST_CM:
        raise CRSError(
            f"longitude {longitude:.3f}° is outside the CGCS2000 3-degree Gauss-Krüger zones "
            f"(CM {_GK_FIRST_CM}°E–{_GK_LAST_CM}°E); set `working_crs` in gisrenew.toml"
        )
    return CRS.from_epsg(_GK_FIRST_EPSG + (central_meridian - _GK_FIRST_CM) // 3)


def is_metric_projected(crs) -> bool:
    """True when `crs` is projected with metre units on both horizontal axes."""
    if crs is None:
        return False
    crs = CRS.from_user_input(crs)
    if not crs.is_projected:
        return False
    units = {(axis.unit_name or "").lower() for axis in crs.axis_info[:2]}
    return units <= {"metre", "meter", "m"}


def pick_working_crs(geographic_bounds) -> CRS:
    """Pick the metric working CRS for data whose lon/lat bounds are given.

    Parameters
    ----------
    geographic_bounds : sequence of float
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees.

    Returns
    -------
    pyproj.CRS
        The CGCS2000 Gauss-Krüger zone for the mean longitude when it lies in China's
        zones (73.5°E–136.5°E, 0–56°N); otherwise the WGS84 UTM zone.
    """
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in geographic_bounds)
    lon = (min_lon + max_lon) / 2.0
    lat = (min_lat + max_lat) / 2.0
    if 73.5 <= lon <= 136.5 and 0.0 <= lat <= 56.0:
        return gk_zone_crs(lon)
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(min_lon, min_lat, max_lon, max_lat),
    )
    if not infos:
        raise CRSError(
            f"no UTM zone found for lon/lat bounds {geographic_bounds}; set `working_crs`"
        )
    return CRS.from_epsg(int(infos[0].code))


def _label(crs) -> str:
    crs = CRS.from_user_input(crs)
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name[:60]


def check_coordinates_match_crs(gdf, *, source: str = "", layer: str = "") -> None:
    """Raise :class:`CRSError` when the coordinates clearly contradict the layer's CRS.

    A metric CRS whose coordinates all lie within ±180/±90 (degrees stored under a
    metric CRS), or a geographic CRS with coordinates beyond ±360 (metres stored
    under a geographic CRS), cannot be right.
    """
    if gdf.crs is None or gdf.empty:
        return
    bounds = gdf.total_bounds
    if not np.all(np.isfinite(bounds)):
        return
    minx, miny, maxx, maxy = bounds
    where = f"{source} [layer {layer}]" if layer else source
    if gdf.crs.is_geographic and (
        max(abs(minx), abs(maxx)) > 360 or max(abs(miny), abs(maxy)) > 90.5
    ):
        raise CRSError(
            f"{where}: the CRS is {_label(gdf.crs)} (degrees) but coordinates reach "
            f"({minx:.0f}, {miny:.0f}) – ({maxx:.0f}, {maxy:.0f}), which are metres. "
            'Fix: declare the real projected CRS (e.g. `--crs EPSG:4549` or `crs = "EPSG:4549"` '
            "for this layer in gisrenew.toml)."
        )
    if (
        is_metric_projected(gdf.crs)
        and max(abs(minx), abs(maxx)) <= 180
        and max(abs(miny), abs(maxy)) <= 90
    ):
        extent = max(maxx - minx, maxy - miny)
        if extent < 5:  # a whole layer within 5 m of the origin: degrees under a metric CRS
            raise CRSError(
                f"{where}: the CRS is {_label(gdf.crs)} (metres) but every coordinate lies "
                f"within ({minx:.4f}, {miny:.4f}) – ({maxx:.4f}, {maxy:.4f}), which look like "
                "degrees. Fix: declare the geographic CRS (e.g. `--crs EPSG:4490` for CGCS2000 "
                "or EPSG:4326 for WGS84)."
            )


def to_working_crs(gdf, working_crs, *, source: str = "", layer: str = ""):
    """Return `gdf` in `working_crs`, reprojecting (with a log message) when needed.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer with a CRS.
    working_crs : CRS-like
        The project's metric working CRS.
    source, layer : str
        Where the layer came from, for messages.
    """
    where = f"{source} [layer {layer}]" if layer else source
    if gdf.crs is None:
        raise CRSError(
            f"{where}: the layer has no coordinate reference system (no .prj / no CRS). "
            "Fix: pass its CRS with `--crs EPSG:xxxx` (e.g. EPSG:4490 for CGCS2000 degrees, "
            "EPSG:4549 for CGCS2000 GK CM 120°E) or set `crs` for this layer in gisrenew.toml."
        )
    target = CRS.from_user_input(working_crs)
    if not is_metric_projected(target):
        raise CRSError(f"the working CRS {_label(target)} is not projected in metres")
    if CRS.from_user_input(gdf.crs) == target:
        return gdf
    log.info(
        "%s: reprojecting from %s to the working CRS %s", where, _label(gdf.crs), _label(target)
    )
    return gdf.to_crs(target)


def ensure_metric(gdf, name: str = "gdf"):
    """Raise :class:`CRSError` unless `gdf` is in a projected CRS in metres.

    Library functions that measure areas or distances call this on their inputs.
    """
    if gdf.crs is None:
        raise CRSError(
            f"`{name}` has no CRS; distances and areas need a projected CRS in metres. "
            "Set one with `.set_crs(...)`, or load the layer with gisrenew.read_layer."
        )
    if not is_metric_projected(gdf.crs):
        raise CRSError(
            f"`{name}` uses {_label(gdf.crs)}, which is not projected in metres; distances and "
            "areas need metres. Reproject first, e.g. `gdf.to_crs(gisrenew.crs.gk_zone_crs(lon))`."
        )
    return gdf


def same_crs(crs_a, crs_b) -> bool:
    """True when both CRSs are set and equal."""
    if crs_a is None or crs_b is None:
        return False
    return CRS.from_user_input(crs_a) == CRS.from_user_input(crs_b)


def align(reference, other, *, name: str = "other"):
    """Return `other` reprojected to `reference`'s CRS (logged), or refuse if it has none."""
    if other.crs is None:
        raise CRSError(f"`{name}` has no CRS, so it cannot be aligned with {_label(reference.crs)}")
    if same_crs(reference.crs, other.crs):
        return other
    log.info("reprojecting `%s` from %s to %s", name, _label(other.crs), _label(reference.crs))
    return other.to_crs(reference.crs)
