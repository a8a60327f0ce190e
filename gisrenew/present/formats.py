"""One way to write each kind of figure, everywhere gisrenew shows it.

The same rules hold on the command line, in the notebooks' text, on the web maps and on
the published site's front page:

==================  =========================  ==========================================
figure              written as                 example (zh / en)
==================  =========================  ==========================================
area in m²          0 decimals                 ``12,345 m²``
area in 公顷 / ha   2 decimals                 ``1.23 公顷`` / ``1.23 ha``
area in 亩 / mu     1 decimal                  ``18.5 亩`` / ``18.5 mu``
percentage          2 decimals                 ``81.14%``
percentage, short   1 decimal (map panels and  ``81.1%``
                    popups only)
difference          2 decimals, signed,        ``-18.03 个百分点`` / ``-18.03 pp``
                    percentage points
households          whole numbers              ``5,260 户`` / ``5,260 households``
counts              whole numbers              ``1,234``
distance, radius    whole metres / as given    ``800 m``, ``300 m``
missing value       one dash                   ``-``
==================  =========================  ==========================================

* 1 亩 = 10000/15 m² and 1 公顷 = 10 000 m² (:mod:`gisrenew.units`).
* Households are whole numbers in text. Where a partly covered parcel brings a share of
  its households (``5,259.8``), the data columns keep the exact share and the text shows
  the rounded count (``5,260``).
* Thousands are separated with ``,``; decimals with ``.``.
* A missing value (``None``, NaN, text that is not a number) is :data:`MISSING`; the web
  maps pass ``missing=""`` so that a popup leaves the row out.
* Units are written in the language asked: 公顷/亩/户 in Chinese, ha/mu/households in
  English; m and m² in both.

Every function takes one value and returns a string; :func:`each` applies one to a
column of values.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np

from gisrenew.jsonable import finite_number
from gisrenew.present.labels import check_lang, label
from gisrenew.units import M2_PER_HA, M2_PER_MU

__all__ = [
    "AREA_DECIMALS",
    "MISSING",
    "PERCENT_DECIMALS",
    "PERCENT_SHORT_DECIMALS",
    "area",
    "area_compact",
    "area_compact_column",
    "area_summary",
    "count",
    "distance",
    "distance_column",
    "each",
    "households",
    "local_time",
    "milliseconds",
    "number",
    "percent",
    "percent_short",
    "points",
    "radius",
    "rules",
    "time_zone",
    "unit",
    "walk",
]

AreaUnit = Literal["m2", "ha", "mu"]

#: The time zone of Chinese output when no ``[project] time_zone`` is set.
ZH_TIME_ZONE = "Asia/Shanghai"

#: How a missing value is written.
MISSING = "-"
#: Decimals of an area in each unit.
AREA_DECIMALS: dict[str, int] = {"m2": 0, "ha": 2, "mu": 1}
#: Decimals of a percentage on the command line and in tables.
PERCENT_DECIMALS = 2
#: Decimals of the short percentage of map figure panels and popups.
PERCENT_SHORT_DECIMALS = 1

_PER_M2 = {"m2": 1.0, "ha": 1.0 / M2_PER_HA, "mu": 1.0 / M2_PER_MU}


def _fixed(value: float, digits: int) -> str:
    text = f"{value:,.{digits}f}"
    # -0, -0.0: a rounded value of zero has no sign
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def unit(key: str, lang: str = "zh") -> str:
    """The symbol of a unit in `lang`: ``m2`` → m², ``ha`` → 公顷/ha, ``mu`` → 亩/mu, ...

    Keys: ``m2``, ``ha``, ``mu``, ``m``, ``ms``, ``households``, ``pp``, ``minutes``, ``kmh``.
    """
    return label(f"unit.{key}", lang)


def _with_unit(text: str, key: str, lang: str, with_unit: bool) -> str:
    return f"{text} {unit(key, lang)}" if with_unit else text


def number(value: Any, digits: int = 0, *, missing: str = MISSING) -> str:
    """A plain figure with thousands separators and `digits` decimals."""
    v = finite_number(value)
    return missing if v is None else _fixed(v, digits)


def area(
    m2: Any,
    unit_key: AreaUnit = "m2",
    *,
    lang: str = "zh",
    with_unit: bool = True,
    missing: str = MISSING,
) -> str:
    """An area given in m², written in m² (0 dp), 公顷/ha (2 dp) or 亩/mu (1 dp).

    Examples
    --------
    >>> area(10_000, "mu")
    '15.0 亩'
    >>> area(10_000, "ha", lang="en", with_unit=False)
    '1.00'
    """
    if unit_key not in AREA_DECIMALS:
        raise ValueError(f"`unit_key` must be one of {sorted(AREA_DECIMALS)}, got {unit_key!r}")
    v = finite_number(m2)
    if v is None:
        return missing
    text = _fixed(v * _PER_M2[unit_key], AREA_DECIMALS[unit_key])
    return _with_unit(text, unit_key, lang, with_unit)


def area_summary(m2: Any, lang: str = "zh", *, missing: str = MISSING) -> str:
    """An area in all three units.

    ``12,345 m²（1.23 公顷，18.5 亩）`` / ``12,345 m² (1.23 ha, 18.5 mu)``.
    """
    if finite_number(m2) is None:
        return missing
    parts = [area(m2, "m2", lang=lang), area(m2, "ha", lang=lang), area(m2, "mu", lang=lang)]
    if check_lang(lang) == "zh":
        return f"{parts[0]}（{parts[1]}，{parts[2]}）"
    return f"{parts[0]} ({parts[1]}, {parts[2]})"


def area_compact(m2: Any, lang: str = "zh", *, missing: str = MISSING) -> str:
    """An area for a map: m² below 1 公顷, 公顷 from there on, with 亩 in brackets.

    ``2,500 m²（3.8 亩）``, ``1.00 公顷（15.0 亩）`` / ``1.00 ha (15.0 mu)``.
    """
    v = finite_number(m2)
    if v is None:
        return missing
    key = "m2" if abs(v) < M2_PER_HA else "ha"  # as area(v, key) and area(v, "mu"), inlined:
    main = f"{_fixed(v * _PER_M2[key], AREA_DECIMALS[key])} {unit(key, lang)}"  # maps format
    mu = f"{_fixed(v * _PER_M2['mu'], AREA_DECIMALS['mu'])} {unit('mu', lang)}"  # 100 000 a page
    return f"{main}（{mu}）" if check_lang(lang) == "zh" else f"{main} ({mu})"


def _fixed_column(values: np.ndarray, digits: int) -> np.ndarray:
    """:func:`_fixed` of every value of a float array, as an object array of text.

    Python's own formatter writes each number (numpy's rounding differs at halves);
    only values that may round to a signed zero (``-0.4`` → ``-0``) go through the
    check of :func:`_fixed`.
    """
    spec = f",.{digits}f"
    texts = np.asarray([format(v, spec) for v in values.tolist()], dtype=object)
    signed_zero = np.flatnonzero(np.signbit(values) & (values > -1.0))
    texts[signed_zero] = [_fixed(v, digits) for v in values[signed_zero].tolist()]
    return texts


def area_compact_column(values: Any, lang: str = "zh", *, missing: str = MISSING) -> list[str]:
    """:func:`area_compact` of every value of a column at once (the same text, faster).

    The unit of each value, the scaling and the joining run over the whole array; a
    map of 100 000 parcels words its areas in a fraction of the time of one call each.
    """
    v = np.asarray(values, dtype=float).ravel()
    out = np.full(len(v), missing, dtype=object)
    ok = np.flatnonzero(np.isfinite(v))
    x = v[ok]
    in_ha = np.abs(x) >= M2_PER_HA  # as area_compact: m² below 1 公顷
    main = np.empty(len(x), dtype=object)
    for key, rows in (("m2", ~in_ha), ("ha", in_ha)):
        main[rows] = (
            _fixed_column(x[rows] * _PER_M2[key], AREA_DECIMALS[key]) + f" {unit(key, lang)}"
        )
    mu = _fixed_column(x * _PER_M2["mu"], AREA_DECIMALS["mu"]) + f" {unit('mu', lang)}"
    opening, closing = ("（", "）") if check_lang(lang) == "zh" else (" (", ")")
    out[ok] = main + opening + mu + closing
    return out.tolist()


def percent(ratio: Any, *, digits: int = PERCENT_DECIMALS, missing: str = MISSING) -> str:
    """A ratio (0–1) as a percentage with 2 decimals: ``0.81137`` → ``81.14%``."""
    v = finite_number(ratio)
    return missing if v is None else f"{_fixed(100.0 * v, digits)}%"


def percent_short(ratio: Any, *, missing: str = MISSING) -> str:
    """A ratio as a percentage with 1 decimal, for map figure panels and popups: ``81.1%``."""
    return percent(ratio, digits=PERCENT_SHORT_DECIMALS, missing=missing)


def points(
    difference: Any, lang: str = "zh", *, with_unit: bool = True, missing: str = MISSING
) -> str:
    """A difference of two ratios in percentage points, signed.

    ``-18.03 个百分点`` / ``-18.03 pp``.
    """
    v = finite_number(difference)
    if v is None:
        return missing
    text = _fixed(100.0 * v, PERCENT_DECIMALS)
    if not text.startswith("-"):
        text = "+" + text
    return _with_unit(text, "pp", lang, with_unit)


def households(
    value: Any, lang: str = "zh", *, with_unit: bool = False, missing: str = MISSING
) -> str:
    """A household count as a whole number: ``5259.8`` → ``5,260`` (``5,260 户`` with the unit)."""
    v = finite_number(value)
    if v is None:
        return missing
    return _with_unit(_fixed(v, 0), "households", lang, with_unit)


def count(value: Any, *, missing: str = MISSING) -> str:
    """A count (parcels, parks, plans) as a whole number: ``1,234``."""
    return number(value, 0, missing=missing)


def distance(
    metres: Any, lang: str = "zh", *, with_unit: bool = True, missing: str = MISSING
) -> str:
    """A measured distance in whole metres: ``812.4`` → ``812 m``."""
    v = finite_number(metres)
    return missing if v is None else _with_unit(_fixed(v, 0), "m", lang, with_unit)


def distance_column(
    values: Any, lang: str = "zh", *, with_unit: bool = True, missing: str = MISSING
) -> list[str]:
    """:func:`distance` of every value of a column at once (the same text, faster)."""
    v = np.asarray(values, dtype=float).ravel()
    out = np.full(len(v), missing, dtype=object)
    ok = np.flatnonzero(np.isfinite(v))
    out[ok] = _fixed_column(v[ok], 0) + (f" {unit('m', lang)}" if with_unit else "")
    return out.tolist()


def radius(metres: Any, lang: str = "zh", *, with_unit: bool = True, missing: str = MISSING) -> str:
    """A service radius or walk limit as the rule gives it.

    ``300`` → ``300 m``, ``250.5`` → ``250.5 m``.
    """
    v = finite_number(metres)
    return missing if v is None else _with_unit(f"{v:,.10g}", "m", lang, with_unit)


def walk(description: Mapping[str, Any] | None, lang: str = "zh", *, missing: str = MISSING) -> str:
    """The walking distance a figure used (``CoverageResult.walk()``), named.

    ``沿路网步行 500/300 m（按服务半径）`` (each park walks its tier radius),
    ``步行 10 分钟（800 m，4.8 km/h）`` (a walk of so many minutes), ``沿路网步行 600 m``
    (one distance); ``直线服务半径`` for a straight-line result (None).

    Examples
    --------
    >>> walk({"basis": "minutes", "distance_m": 800, "minutes": 10, "speed_kmh": 4.8})
    '步行 10 分钟（800 m，4.8 km/h）'
    >>> walk({"basis": "tier_radius", "tier_radii_m": [500, 300]}, "en")
    "walking 500/300 m along streets (each park's service radius)"
    """
    if description is None:
        return label("walk.straight", lang)
    basis = description.get("basis")
    if basis == "tier_radius":
        radii = "/".join(radius(r, lang, with_unit=False) for r in description["tier_radii_m"])
        return label("walk.tier_radius", lang).format(radii=f"{radii} {unit('m', lang)}")
    distance = radius(description.get("distance_m"), lang, missing=missing)
    if basis == "minutes":
        return label("walk.minutes", lang).format(
            minutes=f"{float(description['minutes']):g}",
            distance=distance,
            speed=f"{float(description['speed_kmh']):g} {unit('kmh', lang)}",
        )
    return label("walk.distance", lang).format(distance=distance)


def rules(rule_set: Any, lang: str = "zh") -> str:
    """A rule set in one line: ``tijian-2021 v2021.1: ≥5000 m² → 500 m; 2000–5000 m² → 300 m``.

    Like :meth:`gisrenew.rules.RuleSet.describe`, in `lang` (广场用地计入 / plazas count).
    """
    tiers = "; ".join(tier.describe() for tier in rule_set.tiers)
    plazas = label("coverage.plazas_count", lang) if rule_set.count_plazas else ""
    return f"{rule_set.name} v{rule_set.version}: {tiers}{plazas}"


def time_zone(lang: str = "zh", zone: str | None = None) -> _dt.tzinfo | None:
    """The zone times are shown in: `zone` (``[project] time_zone``), else Asia/Shanghai for
    Chinese output, else None (this computer's own zone)."""
    if zone:
        return ZoneInfo(zone)
    return ZoneInfo(ZH_TIME_ZONE) if check_lang(lang) == "zh" else None


def local_time(
    utc: Any, lang: str = "zh", *, zone: str | None = None, missing: str = MISSING
) -> str:
    """A recorded time (ISO 8601, UTC when it names no zone) in the user's zone, to the minute.

    Examples
    --------
    >>> local_time("2024-05-01T08:00:00+00:00")
    '2024-05-01 16:00+08:00'
    >>> local_time("2024-05-01T08:00:00+00:00", "en", zone="Europe/London")
    '2024-05-01 09:00+01:00'
    """
    if utc is None or (isinstance(utc, float) and math.isnan(utc)):
        return missing
    try:
        moment = _dt.datetime.fromisoformat(str(utc))
    except ValueError:
        return str(utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.astimezone(time_zone(lang, zone)).isoformat(sep=" ", timespec="minutes")


def milliseconds(seconds: Any, *, missing: str = MISSING) -> str:
    """A duration given in seconds, in milliseconds with 1 decimal: ``0.0123`` → ``12.3 ms``."""
    v = finite_number(seconds)
    return missing if v is None else f"{_fixed(1000.0 * v, 1)} ms"


def each(values: Iterable[Any], formatter: Callable[..., str], /, **options: Any) -> list[str]:
    """`formatter` applied to every value of a column: ``each(areas, area_compact, lang="zh")``.

    A column of numbers (a NumPy array) is formatted once per distinct value (bit for
    bit: ``-0.0`` and ``0.0`` are two values).
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub" and values.ndim == 1:
        column = _COLUMN_FORMATTERS.get(formatter)
        bits = values.view(f"i{values.itemsize}") if values.dtype.kind == "f" else values
        _, first, codes = np.unique(bits, return_index=True, return_inverse=True)
        if len(first) < len(values):
            if column is not None:
                texts = np.asarray(column(values[first], **options), dtype=object)
            else:
                distinct = values[first].tolist()
                texts = np.asarray([formatter(v, **options) for v in distinct], dtype=object)
            return texts[codes.ravel()].tolist()
        if column is not None:
            return column(values, **options)
    if isinstance(values, np.ndarray):
        values = values.tolist()
    return [formatter(v, **options) for v in values]


#: Formatters with a twin that words a whole numeric column at once (used by :func:`each`).
_COLUMN_FORMATTERS: dict[Callable[..., str], Callable[..., list[str]]] = {
    area_compact: area_compact_column,
    distance: distance_column,
}
