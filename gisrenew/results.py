"""Result types shared by the coverage engines (buffer and network methods).

A :class:`CoverageResult` is immutable and self-explaining: it carries the
figures, the rule set and parameters that produced them, and the tables behind
them (per residential polygon, per district, per park, blind spots, service
areas). Both engines — :mod:`gisrenew.coverage` (straight-line service radius)
and :mod:`gisrenew.network` (walking distance) — return one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from gisrenew import jsonable
from gisrenew.rules import RuleSet
from gisrenew.units import m2_to_ha, m2_to_mu

__all__ = [
    "INDICATOR_NAMES",
    "WALK_PIECE_COLUMNS",
    "CoverageChange",
    "CoverageResult",
    "StoredChange",
    "loaded_change",
]

#: The columns the walk along streets adds to each residential piece
#: (:func:`gisrenew.network.network_coverage`), besides the covered-area columns.
WALK_PIECE_COLUMNS = (
    "walk_distance_m", "nearest_park_id", "serving_park_id", "serving_walk_m", "connector_m",
    "walk_status", "covered",
)  # fmt: skip

#: Both names of the indicator: the established one and the one in newer national documents.
INDICATOR_NAMES = {
    "zh": "公园绿地服务半径覆盖率",
    "zh_new": "公园绿化活动场地服务半径覆盖率",
    "en": "park green-space service-radius coverage ratio",
}


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator > 0 else math.nan


@dataclass(frozen=True)
class CoverageResult:
    """The coverage ratio with everything that explains it.

    Attributes
    ----------
    method : {"buffer", "network"}
        Straight-line service radius from the park boundary, or walking distance.
    rules : RuleSet
        The rule set that decided which parks count and their radii.
    covered_area_m2, residential_area_m2 : float
        Numerator and denominator (m²): residential land inside the built-up area
        within service, and all residential land inside the built-up area
        (overlapping residential polygons counted once).
    residential : geopandas.GeoDataFrame
        One row per residential polygon (clipped to the boundary): at least
        ``residential_id``, ``district_id``, ``area_m2``, ``covered_m2``,
        ``covered_share``; with weights ``weight`` and ``covered_weight``; the
        network method adds ``walk_distance_m`` and ``nearest_park_id``.
    districts : pandas.DataFrame
        One row per district: ``district_id``, ``name``, ``residential_area_m2``,
        ``covered_area_m2``, ``coverage_ratio`` (+ weights when given).
    parks : pandas.DataFrame
        One row per input park: ``park_id``, ``park_area_m2``, ``park_class``,
        ``tier``, ``radius_m`` (nan if not qualifying), ``qualifies``, ``reason``.
    service_areas : geopandas.GeoDataFrame
        One row per qualifying park (``park_id``, ``tier``, ``radius_m``, geometry).
    blind_spots : geopandas.GeoDataFrame
        Uncovered residential land: ``residential_id``, ``district_id``, ``area_m2``,
        ``households`` (even spread within a polygon), geometry; ``sliver`` when
        :func:`gisrenew.coverage.mark_slivers` flagged the tiny ones.
    weight_column : str or None
        Column used as weight (households or population), if any.
    weight_total, weight_covered : float
        Total and covered weight (nan without weights).
    parameters : dict
        Every other parameter of the run (arc resolution, walk distance, ...).
    """

    method: str
    rules: RuleSet
    covered_area_m2: float
    residential_area_m2: float
    residential: gpd.GeoDataFrame
    districts: pd.DataFrame
    parks: pd.DataFrame
    service_areas: gpd.GeoDataFrame
    blind_spots: gpd.GeoDataFrame
    weight_column: str | None = None
    weight_total: float = math.nan
    weight_covered: float = math.nan
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Coverage ratio in 0–1 (nan if there is no residential land)."""
        return _ratio(self.covered_area_m2, self.residential_area_m2)

    @property
    def weighted_ratio(self) -> float:
        """Covered share of the weight (households or population), nan without weights."""
        return _ratio(self.weight_covered, self.weight_total)

    def listed_blind_spots(self) -> gpd.GeoDataFrame:
        """The blind spots worth listing and drawing: all but the slivers (``sliver``)."""
        spots = self.blind_spots
        if "sliver" not in spots.columns:
            return spots
        return spots[~spots["sliver"].to_numpy(dtype=bool)]

    def slivers(self) -> tuple[int, float]:
        """Count and area (m²) of the blind spots flagged as slivers (0, 0.0 without)."""
        spots = self.blind_spots
        if "sliver" not in spots.columns:
            return 0, 0.0
        flagged = spots["sliver"].to_numpy(dtype=bool)
        return int(flagged.sum()), float(spots["area_m2"].to_numpy(dtype=float)[flagged].sum())

    def walk(self) -> dict[str, Any] | None:
        """Which walking distance a network result used; None for the straight-line method.

        Every walking figure names its distance: GB 50180-2018's ten-minute life circle
        is about 500 m of walking (each park's tier radius, walked), while ten minutes
        at 4.8 km/h is 800 m. Both readings exist, so the result says which one it is.

        Returns
        -------
        dict or None
            ``basis`` — ``"tier_radius"`` (each qualifying park walks its own service
            radius), ``"minutes"`` (a walk of ``minutes`` at ``speed_kmh``) or
            ``"distance"`` (one distance for every park); ``distance_m`` — the one walk
            limit (None for ``tier_radius``); ``tier_radii_m`` — the rule set's radii,
            largest first; ``minutes`` and ``speed_kmh`` (None unless ``minutes``).
        """
        if self.method != "network":
            return None
        parameters = self.parameters or {}
        distance = parameters.get("walk_distance_m")
        minutes = parameters.get("walk_minutes")
        speed = parameters.get("walk_speed_kmh")
        if distance is None:
            basis = "tier_radius"
        elif minutes is not None and speed is not None:
            basis = "minutes"
        else:
            basis, minutes, speed = "distance", None, None
        radii = sorted({float(t.radius_m) for t in self.rules.tiers}, reverse=True)
        return {
            "basis": basis,
            "distance_m": None if distance is None else float(distance),
            "tier_radii_m": radii,
            "minutes": None if minutes is None else float(minutes),
            "speed_kmh": None if speed is None else float(speed),
        }

    def tier_counts(self) -> pd.DataFrame:
        """Parks qualifying / not qualifying per tier (tier -1 = not qualifying)."""
        parks = self.parks
        counts = parks.groupby(["tier", "qualifies"], dropna=False).size().rename("parks")
        return counts.reset_index()

    def to_dict(self) -> dict:
        """JSON-ready summary: the figures, both indicator names, rules, method, districts."""
        tiers = []
        for index, tier in enumerate(self.rules.tiers):
            tiers.append(
                {
                    "tier": index,
                    "label": tier.describe(),
                    "radius_m": tier.radius_m,
                    "parks": int((self.parks["tier"] == index).sum()),
                }
            )
        not_qualifying = int((~self.parks["qualifies"].astype(bool)).sum())
        data = {
            "indicator": INDICATOR_NAMES,
            "method": self.method,
            "coverage_ratio": self.ratio,
            "covered_area_m2": self.covered_area_m2,
            "covered_area_ha": float(m2_to_ha(self.covered_area_m2)),
            "covered_area_mu": float(m2_to_mu(self.covered_area_m2)),
            "residential_area_m2": self.residential_area_m2,
            "residential_area_ha": float(m2_to_ha(self.residential_area_m2)),
            "residential_area_mu": float(m2_to_mu(self.residential_area_m2)),
            "rules": self.rules.to_dict(),
            "parks": {
                "total": len(self.parks),
                "qualifying": len(self.parks) - not_qualifying,
                "not_qualifying": not_qualifying,
                "tiers": tiers,
            },
            "weight": None
            if self.weight_column is None
            else {
                "column": self.weight_column,
                "total": self.weight_total,
                "covered": self.weight_covered,
                "ratio": self.weighted_ratio,
            },
            "blind_spots": self._blind_spot_figures(),
            "walk": self.walk(),
            "parameters": self.parameters,
            "districts": jsonable.records(self.districts),
        }
        return data

    def _blind_spot_figures(self) -> dict:
        listed = self.listed_blind_spots()
        count, area = self.slivers()
        return {
            "count": len(listed),
            "area_m2": float(listed["area_m2"].sum()) if len(listed) else 0.0,
            "slivers": count,
            "slivers_area_m2": area,
            "sliver_m2": self.parameters.get("sliver_m2"),
        }


@dataclass(frozen=True)
class CoverageChange:
    """A change of parks and what it did to coverage: the before/after of a recompute.

    Built by :func:`gisrenew.recompute.recompute` from the engines' results; drawn by
    the before/after map and the recompute report, which compute nothing themselves.

    Attributes
    ----------
    before, after : CoverageResult
        Straight-line coverage before and after the change (same residential land).
    added_parks : GeoDataFrame
        The parks the change added (``park_id``, ``name``, ``park_class``, ...).
    removed_park_ids : tuple of str
        Ids of the parks it removed.
    park_gains : DataFrame
        Each added park's own gain: ``park_id``, ``unique_covered_m2`` (the land only
        it covers), ``unique_weight`` (households, nan without a weight).
    closed_blind_spots, opened_blind_spots : GeoDataFrame
        Residential land newly covered / no longer covered, per residential piece
        (:func:`gisrenew.coverage.closed_blind_spots` / ``opened_blind_spots``).
    run_id : int or None
        The run-history row of the change.
    parks_before : GeoDataFrame or None
        The parks layer before the change (polygons), drawn for context on the
        before/after map of a run read back from the project (None: the caller gives
        the parks layer).
    time_utc : str or None
        When the run was recorded (ISO 8601, UTC), for a run read back from the project.
    """

    before: CoverageResult
    after: CoverageResult
    added_parks: gpd.GeoDataFrame
    removed_park_ids: tuple[str, ...]
    park_gains: pd.DataFrame
    closed_blind_spots: gpd.GeoDataFrame
    opened_blind_spots: gpd.GeoDataFrame
    run_id: int | None = None
    parks_before: gpd.GeoDataFrame | None = None
    time_utc: str | None = None


@dataclass(frozen=True)
class StoredChange:
    """A run's before/after kept in a project store, read only when it is drawn.

    A recompute publishes the maps of every run the project keeps, but draws only the
    new run's before/after page: the others are copied from the earlier publish when
    intact. Reading each kept run's layers anyway would grow with the project's history,
    so the maps get these handles and call :func:`loaded_change` only for a page they draw.

    Attributes
    ----------
    run_id : int
        The run (``gisrenew history``).
    read : callable
        Reads the run's :class:`CoverageChange` from the store.
    """

    run_id: int
    read: Callable[[], CoverageChange]


def loaded_change(change: CoverageChange | StoredChange) -> CoverageChange:
    """`change` itself, or the before/after a :class:`StoredChange` reads from the store."""
    return change.read() if isinstance(change, StoredChange) else change
