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
* coordinates that contradict their CRS are an error that says which CRS the data
  probably have: degree-sized numbers in a metric CRS, millions in a geographic one,
  latitude and longitude swapped, Gauss-Krüger eastings with the zone number in front
  (8 digits, ``40 604 000``) under a central-meridian CRS (EPSG:4534–4554, eastings
  about 500 000) or without it under a zone CRS (EPSG:4513–4533);
* coordinates no CRS can hold (beyond ±1e8 m, or ±360°/±90° in degrees) are an error
  naming the rows (:func:`implausible_rows`);
* data lying outside the working CRS's area of use (pyproj ``CRS.area_of_use``, with
  a tolerance of :data:`AREA_OF_USE_TOLERANCE_DEG`) are distorted: a warning names
  the Gauss-Krüger zone :func:`pick_working_crs` would use
  (:func:`area_of_use_problem`);
* a CRS given as text that pyproj does not know is a :class:`CRSError` naming the
  value and a valid example (:func:`parse_crs`).
"""

from __future__ import annotations

import functools
import logging
import re

import numpy as np
import pyproj
from pyproj import CRS, Proj, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_crs_info, query_utm_crs_info
from pyproj.enums import PJType

from gisrenew.errors import CRSError

__all__ = [
    "AREA_OF_USE_TOLERANCE_DEG",
    "IMPLAUSIBLE_METRES",
    "area_of_use_problem",
    "check_coordinates_match_crs",
    "describe_crs",
    "ensure_metric",
    "geographic_bounds",
    "gk_zone_crs",
    "implausible_rows",
    "is_metric_projected",
    "parse_crs",
    "pick_working_crs",
    "to_working_crs",
]

log = logging.getLogger(__name__)

_GK_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
_GK_FIRST_CM = 75
_GK_LAST_CM = 135

#: Coordinates beyond this (metres, either axis) are refused: no projected CRS on Earth
#: reaches them (a Gauss-Krüger easting with its zone prefix is below 1e8).
IMPLAUSIBLE_METRES = 1e8

#: Data may reach this far (degrees) beyond the working CRS's area of use before a
#: warning: 0.5° beyond a 3-degree zone's edge is 2° from its central meridian, where
#: Gauss-Krüger areas are off by about 0.1 %.
AREA_OF_USE_TOLERANCE_DEG = 0.5

_EXAMPLES = (
    "EPSG:4549 (CGCS2000 3-degree Gauss-Krüger CM 120°E, metres) or EPSG:4490 (CGCS2000, degrees)"
)


def parse_crs(value, *, what: str = "crs") -> CRS:
    """Return `value` as a :class:`pyproj.CRS`, or raise a :class:`CRSError` a planner can act on.

    Parameters
    ----------
    value : CRS-like
        ``"EPSG:4549"``, ``4549``, WKT, a :class:`pyproj.CRS`, ...
    what : str
        Where the value came from, for the message (``"--crs"``, ``"working_crs in
        gisrenew.toml"``).

    Examples
    --------
    >>> parse_crs("EPSG:4549").to_epsg()
    4549
    """
    if isinstance(value, CRS):
        return value
    try:
        return CRS.from_user_input(value)
    except (pyproj.exceptions.CRSError, TypeError, ValueError):
        raise CRSError(
            f"{what} {value!r} is not a coordinate reference system gisrenew knows. "
            f"Fix: give an EPSG code, e.g. {_EXAMPLES}."
        ) from None


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
    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(min_lon, min_lat, max_lon, max_lat),
    )
    if not infos:
        raise CRSError(
            f"no UTM zone found for lon/lat bounds {geographic_bounds}; set `working_crs`"
        )
    return CRS.from_epsg(int(infos[0].code))


def describe_crs(crs) -> str:
    """``EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E)``, or the CRS's name."""
    crs = CRS.from_user_input(crs)
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name[:60]


def check_coordinates_match_crs(gdf, *, source: str = "", layer: str = "") -> None:
    """Raise :class:`CRSError` when the coordinates clearly contradict the layer's CRS.

    Refused, each with the CRS the data probably have: degrees under a metric CRS (the
    whole layer within 5 m of the origin); metres under a geographic CRS (beyond
    ±360°/±90°); latitude and longitude swapped (latitudes beyond ±90° that are valid
    longitudes, or data outside the CRS's area of use that would lie inside it
    swapped); Gauss-Krüger eastings with or without the zone prefix against what the
    CRS expects (:func:`_gauss_kruger_mismatch`).

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The layer (only ``crs``, ``empty`` and ``total_bounds`` are used).
    source, layer : str
        Where the layer came from, for messages.
    """
    if gdf.crs is None or gdf.empty:
        return
    bounds = np.asarray(gdf.total_bounds, dtype=float)
    if not np.all(np.isfinite(bounds)):
        return
    where = f"{source} [layer {layer}]" if layer else source
    crs = CRS.from_user_input(gdf.crs)
    message = (
        _geographic_mismatch(bounds, crs, where)
        if crs.is_geographic
        else _metric_mismatch(bounds, crs, where)
    )
    if message:
        raise CRSError(message)


def _relabel_fix(right: str, code: str) -> str:
    """How to give a file its right CRS when its own (.prj) is wrong."""
    return (
        f"the data are in {right}: correct the file's CRS (.prj; QGIS: Layer ▸ Set Layer CRS, "
        f'then save), or override it: `--override-crs {code}` (`override_crs="{code}"` in Python).'
    )


def _geographic_mismatch(bounds: np.ndarray, crs: CRS, where: str) -> str | None:
    minx, miny, maxx, maxy = bounds
    x_reach, y_reach = max(abs(minx), abs(maxx)), max(abs(miny), abs(maxy))
    swapped = (miny, minx, maxy, maxx)
    fits_swapped = y_reach <= 180 and x_reach <= 90
    if fits_swapped and (
        y_reach > 90.5 or (_outside_area(bounds, crs) and not _outside_area(swapped, crs))
    ):
        return (
            f"{where}: the CRS is {describe_crs(crs)} (longitude as x, latitude as y) but the "
            f"coordinates ({minx:.4f}, {miny:.4f}) – ({maxx:.4f}, {maxy:.4f}) have latitude and "
            "longitude swapped: x holds latitudes and y longitudes. Fix: swap the coordinates "
            "(QGIS: Processing ▸ Swap X and Y coordinates) and save the file again."
        )
    if x_reach > 360 or y_reach > 90.5:
        return (
            f"{where}: the CRS is {describe_crs(crs)} (degrees) but coordinates reach "
            f"({minx:.0f}, {miny:.0f}) – ({maxx:.0f}, {maxy:.0f}), which are metres. "
            f"Fix: {_relabel_fix('the real projected CRS, e.g. EPSG:4549', 'EPSG:4549')}"
        )
    return None


def _metric_mismatch(bounds: np.ndarray, crs: CRS, where: str) -> str | None:
    minx, miny, maxx, maxy = bounds
    if (
        is_metric_projected(crs)
        and max(abs(minx), abs(maxx)) <= 180
        and max(abs(miny), abs(maxy)) <= 90
        and max(maxx - minx, maxy - miny) < 5  # a whole layer within 5 m of the origin
    ):
        return (
            f"{where}: the CRS is {describe_crs(crs)} (metres) but every coordinate lies "
            f"within ({minx:.4f}, {miny:.4f}) – ({maxx:.4f}, {maxy:.4f}), which look like "
            "degrees. Fix: "
            + _relabel_fix(
                "the geographic CRS, EPSG:4490 (CGCS2000) or EPSG:4326 (WGS84)", "EPSG:4490"
            )
        )
    return _gauss_kruger_mismatch(minx, maxx, crs, where)


_GK_NAME = re.compile(
    r"^(?P<datum>CGCS2000|Xian 1980|Beijing 1954|New Beijing) / "
    r"(?P<three>3-degree )?Gauss-Kruger (?:zone (?P<zone>\d+)|CM (?P<cm>\d+)E)$"
)


@functools.cache
def _gauss_kruger_codes() -> dict[str, int]:
    """EPSG codes of the Chinese Gauss-Krüger CRSs (CGCS2000, Xian 1980, Beijing 1954), by name."""
    infos = query_crs_info(auth_name="EPSG", pj_types=PJType.PROJECTED_CRS)
    return {info.name: int(info.code) for info in infos if _GK_NAME.match(info.name)}


def _gauss_kruger_twin(crs: CRS, zone: int, *, prefixed: bool) -> CRS | None:
    """The CRS of the same family for `zone`: zone-prefixed eastings or central-meridian ones."""
    match = _GK_NAME.match(crs.name)
    if match is None:
        return None
    width = "3-degree " if match["three"] else ""
    central_meridian = 3 * zone if match["three"] else 6 * zone - 3
    tail = f"zone {zone}" if prefixed else f"CM {central_meridian}E"
    code = _gauss_kruger_codes().get(f"{match['datum']} / {width}Gauss-Kruger {tail}")
    return CRS.from_epsg(code) if code else None


def _gauss_kruger_mismatch(minx: float, maxx: float, crs: CRS, where: str) -> str | None:
    """Eastings with the zone number in front under a CM CRS, or the reverse, or another zone."""
    match = _GK_NAME.match(crs.name)
    if match is None:
        return None
    data_zone = int(minx // 1_000_000) if minx >= 10_000_000 else None
    if data_zone is not None and int(maxx // 1_000_000) != data_zone:
        data_zone = None  # eastings spanning two zone prefixes: not a zone-prefixed layer
    if match["zone"] is None and data_zone is not None:
        problem = (
            f"the eastings reach {minx:,.0f}: they carry the Gauss-Krüger zone number "
            f"{data_zone} in front, but this CRS expects eastings of about 500,000 (6 digits)"
        )
        right = _gauss_kruger_twin(crs, data_zone, prefixed=True)
    elif match["zone"] is not None and maxx < 10_000_000:
        problem = (
            f"the eastings are {minx:,.0f}–{maxx:,.0f} (no zone number in front), but this "
            f"CRS expects zone {match['zone']}'s prefix ({int(match['zone'])},500,000)"
        )
        right = _gauss_kruger_twin(crs, int(match["zone"]), prefixed=False)
    elif match["zone"] is not None and data_zone is not None and data_zone != int(match["zone"]):
        problem = (
            f"the eastings {minx:,.0f} carry zone number {data_zone}, but the CRS is zone "
            f"{match['zone']}"
        )
        right = _gauss_kruger_twin(crs, data_zone, prefixed=True)
    else:
        return None
    fix = (
        _relabel_fix(describe_crs(right), f"EPSG:{right.to_epsg()}")
        if right is not None
        else "declare the Gauss-Krüger CRS whose eastings match the data."
    )
    return f"{where}: the CRS is {describe_crs(crs)} but {problem}. Fix: {fix}"


def implausible_rows(bounds: np.ndarray, crs) -> np.ndarray:
    """Rows whose coordinates no CRS of their kind can hold: a boolean mask.

    Parameters
    ----------
    bounds : ndarray of shape (n, 4)
        Per-row ``minx, miny, maxx, maxy`` (``shapely.bounds``); NaN rows are never flagged.
    crs : CRS-like or None
        Geographic: beyond ±360° (x) or ±90.5° (y). Otherwise: beyond
        :data:`IMPLAUSIBLE_METRES` on either axis. No CRS: nothing is flagged.
    """
    bounds = np.asarray(bounds, dtype=float).reshape(-1, 4)
    if crs is None:
        return np.zeros(len(bounds), dtype=bool)
    with np.errstate(invalid="ignore"):
        if CRS.from_user_input(crs).is_geographic:
            x = np.abs(bounds[:, [0, 2]]).max(axis=1) > 360
            return x | (np.abs(bounds[:, [1, 3]]).max(axis=1) > 90.5)
        return np.abs(bounds).max(axis=1) > IMPLAUSIBLE_METRES


def geographic_bounds(bounds, crs) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` of `bounds` given in `crs` (edges densified).

    Degrees of the CRS's own datum (CGCS2000 for EPSG:4490 and its Gauss-Krüger zones):
    within a metre of WGS84 for CGCS2000, about 100 m for Xian 1980 or Beijing 1954 —
    far below the half-degree tolerance of the area-of-use check and of zone picking.
    """
    to_lonlat = _to_lonlat(CRS.from_user_input(crs))
    return to_lonlat.transform_bounds(*(float(v) for v in bounds), densify_pts=21)


@functools.lru_cache(maxsize=16)
def _to_lonlat(crs: CRS) -> Transformer:
    """A transformer to lon/lat of the CRS's own datum, kept per CRS.

    Within one datum this is a map projection undone (about 1 ms to build); a transformer
    to WGS84 searches PROJ's database for datum shifts first (40–50 ms).
    """
    geodetic = crs.geodetic_crs
    return Transformer.from_crs(crs, geodetic or "EPSG:4326", always_xy=True)


def _outside_area(lonlat_bounds, crs: CRS, tolerance: float = 0.0) -> bool:
    area = crs.area_of_use
    if area is None or area.west > area.east:  # unknown, or across the antimeridian
        return False
    min_lon, min_lat, max_lon, max_lat = lonlat_bounds
    return (
        min_lon < area.west - tolerance
        or max_lon > area.east + tolerance
        or min_lat < area.south - tolerance
        or max_lat > area.north + tolerance
    )


def area_of_use_problem(lonlat_bounds, crs) -> tuple[str, str] | None:
    """``(message, fix)`` when data at `lonlat_bounds` lie outside `crs`'s area of use.

    Data more than :data:`AREA_OF_USE_TOLERANCE_DEG` beyond the area where the
    working CRS is meant to be used are distorted (a Gauss-Krüger zone 7° of longitude
    away gives areas about 1 % too large); the fix names the CRS
    :func:`pick_working_crs` would use for them. ``None`` when they fit, or when
    `crs` is that CRS already (data offshore of a zone's onshore area of use).
    """
    crs = CRS.from_user_input(crs)
    lonlat_bounds = tuple(float(v) for v in lonlat_bounds)
    if not np.all(np.isfinite(lonlat_bounds)):
        return None
    if not _outside_area(lonlat_bounds, crs, AREA_OF_USE_TOLERANCE_DEG):
        return None
    min_lon, min_lat, max_lon, max_lat = lonlat_bounds
    area = crs.area_of_use
    centre = ((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)
    try:
        areal = Proj(crs).get_factors(*centre).areal_scale
        off = f"; areas there are off by about {abs(areal - 1) * 100:.1f} %"
    except (pyproj.exceptions.ProjError, ValueError):
        off = ""
    message = (
        f"the data lie at longitude {min_lon:.2f}°–{max_lon:.2f}°, latitude "
        f"{min_lat:.2f}°–{max_lat:.2f}°, outside the area of use of the working CRS "
        f"{describe_crs(crs)} ({area.name.rstrip('.')}: longitude {area.west:g}°–{area.east:g}°, "
        f"latitude {area.south:g}°–{area.north:g}°){off}"
    )
    try:
        better = pick_working_crs(lonlat_bounds)
    except CRSError:
        better = None
    if better is not None and better == crs:
        return None  # already the CRS gisrenew would pick: nothing better to offer
    fix = (
        f"use {describe_crs(better)} as the working CRS"
        if better is not None
        else "use a projected CRS made for this area as the working CRS"
    )
    return message, f"{fix} (`working_crs` in gisrenew.toml, `working_crs=` in Python)"


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
    target = parse_crs(working_crs, what="the working CRS")
    if not is_metric_projected(target):
        raise CRSError(
            f"the working CRS {describe_crs(target)} is not projected in metres. Fix: use a metric "
            "projected CRS, e.g. EPSG:4549 (CGCS2000 3-degree Gauss-Krüger CM 120°E)."
        )
    if CRS.from_user_input(gdf.crs) == target:
        return gdf
    log.info(
        "%s: reprojecting from %s to the working CRS %s",
        where,
        describe_crs(gdf.crs),
        describe_crs(target),
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
            f"`{name}` uses {describe_crs(gdf.crs)}, which is not projected in metres; "
            "distances and areas need metres. Reproject first, e.g. "
            "`gdf.to_crs(gisrenew.crs.gk_zone_crs(lon))`."
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
        raise CRSError(
            f"`{name}` has no CRS, so it cannot be aligned with {describe_crs(reference.crs)}"
        )
    if same_crs(reference.crs, other.crs):
        return other
    log.info(
        "reprojecting `%s` from %s to %s",
        name,
        describe_crs(other.crs),
        describe_crs(reference.crs),
    )
    return other.to_crs(reference.crs)
