"""Green-space figures of the 城市体检 besides coverage: per capita, greenways, renovation.

* **Per-capita park green space 人均公园绿地面积** (:func:`per_capita_green_space`): the
  area of park green space 公园绿地 (classes ``G1*`` of CJJ/T 85-2017 — not plazas
  ``G3``) inside the built-up area 建成区, overlapping parks counted once, divided by
  the population; likewise comprehensive parks 综合公园 (``G11``) and community parks
  社区公园 (``G12``). The population is the city figure given (``[report]
  population``), else the sum of the residential ``population`` over the coverage
  denominator's residential land (inside the built-up area, spread evenly over each
  polygon as for the coverage weights). Per district, the parks inside each district
  and the residential population living there.
* **Greenway coverage 城市绿道服务半径覆盖率** (:func:`greenway_coverage`): the share of
  residential land — the same pieces as the park coverage's denominator — within
  ``radius_m`` (default 1000 m) of a greenway 绿道 line, through the coverage engine's
  overlay kernel (:func:`gisrenew.coverage.covered_area`).
* **Old-community renovation 老旧小区改造** (:func:`old_community_figures`): the plans of
  type ``old_community`` and the parcels they touch (the pairs of
  :func:`gisrenew.plans.affected_parcels`, each parcel once): communities, buildings,
  households, floor area, investment 万元.

An engine: layers and options in, result objects out; no files, settings or text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import crs as crs_rules
from gisrenew.coverage import BUFFER_QUAD_SEGS, covered_area
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed

__all__ = [
    "DEFAULT_GREENWAY_RADIUS_M",
    "PARK_GROUPS",
    "GreenwayCoverage",
    "PerCapita",
    "PerCapitaGreenSpace",
    "greenway_coverage",
    "old_community_figures",
    "per_capita_green_space",
]

#: Service radius of a greenway (m) when none is set.
DEFAULT_GREENWAY_RADIUS_M = 1000.0

#: Indicator key → park-class prefix it counts (``G1`` matches G1, G11, ..., G14).
PARK_GROUPS: dict[str, str] = {
    "park_area_per_capita": "G1",
    "comprehensive_park_per_capita": "G11",
    "community_park_per_capita": "G12",
}

#: Plan type of old-community renovation 老旧小区改造.
OLD_COMMUNITY = "old_community"


@dataclass(frozen=True)
class PerCapita:
    """One per-capita figure: park area (m²) ÷ population, or None with the reason."""

    key: str
    park_area_m2: float
    population: float | None
    value: float | None
    reason: str = ""


@dataclass(frozen=True)
class PerCapitaGreenSpace:
    """Per-capita park green space of the city and per district.

    Attributes
    ----------
    figures : dict of str to PerCapita
        By indicator key (:data:`PARK_GROUPS`).
    population : float or None
        The population divided by (None when there is none).
    population_source : {"settings", "residential", ""}
        The city figure given, or the residential layer's population.
    districts : DataFrame
        ``district_id``, ``population`` (residential), ``<key>_area_m2`` and ``<key>``
        (m²/person, nan without population) per key; empty without districts.
    """

    figures: dict[str, PerCapita]
    population: float | None
    population_source: str
    districts: pd.DataFrame


@dataclass(frozen=True)
class GreenwayCoverage:
    """Residential land within `radius_m` of a greenway: numerator, denominator, districts."""

    covered_area_m2: float
    residential_area_m2: float
    radius_m: float
    districts: pd.DataFrame

    @property
    def ratio(self) -> float:
        """Covered share of the residential land (0–1; nan without residential land)."""
        if self.residential_area_m2 <= 0:
            return math.nan
        return self.covered_area_m2 / self.residential_area_m2


def _class_mask(parks: gpd.GeoDataFrame, prefix: str) -> np.ndarray:
    classes = parks["park_class"].astype(str).str.strip().str.upper()
    return classes.str.startswith(prefix).to_numpy(dtype=bool)


def _union(geoms: np.ndarray, within: shapely.Geometry | None) -> shapely.Geometry:
    """The union of `geoms` (overlaps once), clipped to `within` when given."""
    merged = shapely.union_all(geoms) if len(geoms) else shapely.Polygon()
    return merged if within is None else shapely.intersection(merged, within)


def _district_table(
    unions: Mapping[str, shapely.Geometry],
    districts: gpd.GeoDataFrame | None,
    land: gpd.GeoDataFrame,
) -> pd.DataFrame:
    if districts is None or len(districts) == 0:
        return pd.DataFrame()
    zones = geometry_array(districts)
    ids = districts["district_id"].astype(str).to_numpy(dtype=object)
    people = land.groupby(land["district_id"].astype(str))["population"].sum()
    population = people.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    table = {"district_id": ids, "population": population}
    for key, union in unions.items():
        area = shapely.area(shapely.intersection(zones, union))
        table[f"{key}_area_m2"] = area
        table[key] = np.divide(
            area, population, out=np.full(len(ids), np.nan), where=population > 0
        )
    return pd.DataFrame(table)


def per_capita_green_space(
    parks: gpd.GeoDataFrame,
    land: gpd.GeoDataFrame,
    *,
    population: float | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
) -> PerCapitaGreenSpace:
    """Per-capita park green space 人均公园绿地面积 (and comprehensive / community parks).

    Parameters
    ----------
    parks : GeoDataFrame
        Parks with ``park_class`` (metric CRS); ``G1*`` classes count, plazas ``G3`` not.
    land : GeoDataFrame
        The coverage denominator's residential land (:func:`gisrenew.coverage.residential_land`,
        ``CoverageResult.residential``) with ``population`` and ``district_id``.
    population : float, optional
        The city population 城区人口; default: the sum of ``land["population"]``.
    boundary : GeoDataFrame, optional
        The built-up area: only park land inside it counts.
    districts : GeoDataFrame, optional
        District polygons for the per-district table.

    Examples
    --------
    A 100 m × 100 m park and 1000 residents: 10 m² per person.

    >>> import geopandas as gpd, shapely
    >>> park = gpd.GeoDataFrame({"park_class": ["G12"]}, geometry=[shapely.box(0, 0, 100, 100)],
    ...                         crs="EPSG:4549")
    >>> land = gpd.GeoDataFrame({"population": [1000.0], "district_id": [""]},
    ...                         geometry=[shapely.box(200, 0, 300, 100)], crs="EPSG:4549")
    >>> per_capita_green_space(park, land).figures["park_area_per_capita"].value
    10.0
    """
    parks = conformed(parks, "parks", name="parks")
    crs_rules.ensure_metric(parks, "parks")
    boundary = conformed(boundary, "boundary", name="boundary", crs=parks.crs)
    districts = conformed(districts, "districts", name="districts", crs=parks.crs)
    within = None if boundary is None else shapely.union_all(geometry_array(boundary))
    geoms = geometry_array(parks)
    unions = {key: _union(geoms[_class_mask(parks, p)], within) for key, p in PARK_GROUPS.items()}
    source = "settings" if population is not None else "residential"
    if population is None:
        found = float(land["population"].sum()) if "population" in land.columns else 0.0
        population = found if found > 0 else None
        source = "residential" if population is not None else ""
    figures = {key: _figure(key, float(shapely.area(u)), population) for key, u in unions.items()}
    table = _district_table(unions, districts, land)
    return PerCapitaGreenSpace(figures, population, source, table)


def _figure(key: str, area: float, population: float | None) -> PerCapita:
    if population is None:
        reason = "no population: set [report] population or fill the residential population"
        return PerCapita(key, area, None, None, reason)
    return PerCapita(key, area, population, area / population)


def greenway_coverage(
    greenways: gpd.GeoDataFrame,
    land: gpd.GeoDataFrame,
    *,
    radius_m: float = DEFAULT_GREENWAY_RADIUS_M,
    districts: pd.DataFrame | None = None,
) -> GreenwayCoverage:
    """Greenway service-radius coverage 城市绿道服务半径覆盖率.

    Parameters
    ----------
    greenways : GeoDataFrame
        Greenway 绿道 lines in the CRS of `land`.
    land : GeoDataFrame
        The coverage denominator's residential pieces (``area_m2``, ``district_id``).
    radius_m : float
        Service radius of a greenway (m), a buffer of the line with
        :data:`~gisrenew.coverage.BUFFER_QUAD_SEGS` segments per quarter circle.
    districts : DataFrame, optional
        ``district_id`` and ``name`` of the districts, for the per-district table.
    """
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise ValueError(f"`radius_m` must be a positive number, got {radius_m!r}")
    lines = conformed(greenways, "greenways", name="greenways", crs=land.crs)
    reach = shapely.buffer(geometry_array(lines), radius_m, quad_segs=BUFFER_QUAD_SEGS)
    covered = covered_area(land, reach[~shapely.is_empty(reach)])
    area = land["area_m2"].to_numpy(dtype=float)
    per = pd.DataFrame(
        {"district_id": land["district_id"].astype(str), "residential_area_m2": area,
         "covered_area_m2": covered}
    ).groupby("district_id", sort=False).sum()  # fmt: skip
    per["coverage_ratio"] = per["covered_area_m2"] / per["residential_area_m2"].where(
        per["residential_area_m2"] > 0
    )
    table = per.reset_index()
    if districts is not None and "district_id" in districts.columns:
        shown = [c for c in ("district_id", "name") if c in districts.columns]
        names = pd.DataFrame(districts[shown]).astype({"district_id": str})
        table = names.merge(table, on="district_id", how="inner")  # the districts' order
    return GreenwayCoverage(float(covered.sum()), float(area.sum()), float(radius_m), table)


def old_community_figures(
    plans: pd.DataFrame,
    pairs: pd.DataFrame | None,
    *,
    household_columns: Mapping[str, str] | None = None,
    investment_known: bool = True,
) -> dict[str, Any]:
    """Old-community renovation 老旧小区改造: communities, buildings, households, floor area.

    Parameters
    ----------
    plans : DataFrame
        The plans layer (``plan_id``, ``plan_type``; ``investment_wan`` 万元).
    pairs : DataFrame or None
        (plan, parcel) pairs of :func:`gisrenew.plans.affected_parcels`; each parcel
        touched by an old-community plan counts once.
    household_columns : mapping, optional
        Role → parcels column (``residential``, ``nonresidential``, ``shops``), when
        not the schema's ``households_<role>``.
    investment_known : bool
        False when the plans layer has no investment column (the key is left out).

    Returns
    -------
    dict
        ``communities``; with pairs ``parcels``, ``buildings``, ``households`` (every
        kind), ``households_residential``, ``floor_area_m2``; ``investment_wan`` when
        known. Empty when there is no old-community plan.
    """
    kind = plans["plan_type"].astype(str).str.strip().str.lower().to_numpy()
    chosen = plans.loc[kind == OLD_COMMUNITY]
    if chosen.empty:
        return {}
    out: dict[str, Any] = {"communities": len(chosen)}
    if pairs is not None:
        mine = pairs[pairs["plan_id"].astype(str).isin(chosen["plan_id"].astype(str))]
        parcels = mine.drop_duplicates("parcel_id")
        roles = {r: f"households_{r}" for r in ("residential", "nonresidential", "shops")}
        roles.update({k: v for k, v in (household_columns or {}).items() if k in roles})
        counts = {r: _total(parcels, c) for r, c in roles.items()}
        out.update(
            parcels=len(parcels),
            buildings=_total(parcels, "buildings"),
            households=sum(counts.values()),
            households_residential=counts["residential"],
            floor_area_m2=_total(parcels, "floor_area_m2"),
        )
    if investment_known and "investment_wan" in chosen.columns:
        out["investment_wan"] = float(pd.to_numeric(chosen["investment_wan"]).sum())
    return out


def _total(frame: pd.DataFrame, column: str) -> float:
    if column not in frame.columns:
        return math.nan
    return float(pd.to_numeric(frame[column], errors="coerce").fillna(0.0).sum())
