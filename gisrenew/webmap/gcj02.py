"""WGS84 ↔ GCJ-02 (the "Mars" offset of Gaode/AutoNavi and Tencent tiles).

Chinese commercial basemaps (高德 Gaode, 腾讯 Tencent) draw their tiles in GCJ-02, a
deliberately perturbed version of WGS84 whose offset is a few hundred metres in
Chinese cities (≈ 470 m in Shanghai and Taicang, ≈ 570 m in Beijing). Vectors in
WGS84 drawn over such tiles must be shifted by the same offset, or parks appear
on the wrong block. Tianditu (天地图) and OpenStreetMap tiles have no offset.

The offset formula is public (the same polynomial-plus-sine series is used by
every open implementation); it is written here once, vectorized over NumPy
arrays. Points outside the rectangle the formula applies to (73°E–136°E,
1°N–56°N, roughly; it also covers parts of neighbouring countries, as every
implementation does) are returned unchanged.

The inverse (GCJ-02 → WGS84) has no closed form; :func:`gcj02_to_wgs84` solves it by
fixed-point iteration to better than 1e-9° (≈ 0.1 mm).
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = [
    "gcj02_offset",
    "gcj02_to_wgs84",
    "in_gcj02_area",
    "shift_geometries",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid, on which the offset series is defined.
_A = 6378245.0
_EE = 0.00669342162296594323

# The rectangle in which the offset applies (degrees).
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271


def in_gcj02_area(lon, lat) -> np.ndarray:
    """True where (lon, lat) lies in the area where GCJ-02 differs from WGS84."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _series(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The offset series in metres-like units, for x = lon - 105, y = lat - 35."""
    pi = np.pi
    # A periodic term shared by both components.
    common = (20.0 * np.sin(6.0 * pi * x) + 20.0 * np.sin(2.0 * pi * x)) * 2.0 / 3.0
    north = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(pi * y) + 40.0 * np.sin(pi * y / 3.0)) * 2.0 / 3.0
        + (160.0 * np.sin(pi * y / 12.0) + 320.0 * np.sin(pi * y / 30.0)) * 2.0 / 3.0
    )
    east = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(pi * x) + 40.0 * np.sin(pi * x / 3.0)) * 2.0 / 3.0
        + (150.0 * np.sin(pi * x / 12.0) + 300.0 * np.sin(pi * x / 30.0)) * 2.0 / 3.0
    )
    return east, north


def gcj02_offset(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat).

    The raw formula, applied everywhere (no check of the China rectangle); use
    :func:`wgs84_to_gcj02` to convert coordinates.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    east, north = _series(lon - 105.0, lat - 35.0)
    phi = np.radians(lat)
    w = 1.0 - _EE * np.sin(phi) ** 2
    # Radii of curvature of the ellipsoid: meridian (M) and prime vertical (N).
    meridian_radius = _A * (1.0 - _EE) / (w * np.sqrt(w))
    normal_radius = _A / np.sqrt(w)
    dlat = np.degrees(north / meridian_radius)
    dlon = np.degrees(east / (normal_radius * np.cos(phi)))
    return dlon, dlat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02; arrays or scalars.

    Points outside the China rectangle are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)   # Shanghai
    >>> round(float(lon), 6), round(float(lat), 6)
    (121.531542, 31.175304)
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = gcj02_offset(lon, lat)
    inside = in_gcj02_area(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, *, tolerance: float = 1e-10, max_iter: int = 30):
    """Convert GCJ-02 longitude/latitude (degrees) back to WGS84.

    Solves ``wgs84_to_gcj02(w) = g`` by fixed-point iteration (the offset changes
    slowly, so each step gains about three digits).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(max_iter):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.all(np.abs(elon) < tolerance) and np.all(np.abs(elat) < tolerance):
            break
    return wlon, wlat


def shift_geometries(geometries, direction: str = "wgs84_to_gcj02") -> np.ndarray:
    """Shift shapely geometries (lon/lat degrees) between WGS84 and GCJ-02.

    Parameters
    ----------
    geometries : array_like of shapely geometries
        In longitude/latitude degrees (EPSG:4326 axis order x = lon).
    direction : {"wgs84_to_gcj02", "gcj02_to_wgs84"}

    Returns
    -------
    numpy.ndarray of shapely geometries
        Every vertex shifted (one vectorized call for all vertices of all geometries).
    """
    if direction == "wgs84_to_gcj02":
        func = wgs84_to_gcj02
    elif direction == "gcj02_to_wgs84":
        func = gcj02_to_wgs84
    else:
        raise ValueError(
            f"`direction` must be 'wgs84_to_gcj02' or 'gcj02_to_wgs84', got {direction!r}"
        )

    def _apply(coords: np.ndarray) -> np.ndarray:
        if len(coords) == 0:
            return coords
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geometries, dtype=object), _apply)
