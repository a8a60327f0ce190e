"""Coverage kept up to date under park changes, and the gain a park brings (or alone provides).

:class:`IncrementalCoverage` keeps the per-piece results of the buffer coverage engine
in memory and updates only the residential pieces a change can reach: the service
areas live in a dynamic R-tree (``rtree`` supports insert and delete; shapely's STRtree
is static), the residential pieces in an STRtree. City and district totals are updated
from the stored per-piece results. After any sequence of additions and removals the
figures equal a full :func:`gisrenew.coverage.compute_coverage` (tests check 1e-9
relative).

It is also THE implementation of the two "what if" questions every engine asks:

* :meth:`IncrementalCoverage.gain_if_added` — the residential land (and weight) a
  service area would newly bring into service (siting, plans that become parks);
  :meth:`~IncrementalCoverage.newly_covered` gives that land as a polygon;
* :meth:`IncrementalCoverage.contributions` / :meth:`~IncrementalCoverage.unique_gain`
  — the land only a park covers, lost if it closed (park contribution, the recompute
  report), for every park at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rtree import index as rtree_index

from gisrenew.coverage.columns import coverage_figures
from gisrenew.coverage.land import land_and_overlay, rules_and_codes
from gisrenew.coverage.overlay import covered_area, covered_parts, reach_contributions
from gisrenew.coverage.parks import service_area_frame, service_area_geometries, tier_table
from gisrenew.crs import ensure_metric
from gisrenew.errors import SchemaError
from gisrenew.geometry import geometry_array, polygonal_part
from gisrenew.io import conformed
from gisrenew.rules import RuleSet, get_rules

__all__ = ["IncrementalCoverage", "PieceChange", "UpdateSummary"]


@dataclass(frozen=True)
class UpdateSummary:
    """What one :meth:`IncrementalCoverage.add_parks` / ``remove_parks`` call changed.

    Attributes
    ----------
    added, removed : tuple of str
        Park ids whose service areas were added or removed.
    ignored : dict of str to str
        Parks that changed nothing, ``{park_id: reason}``: parks that do not qualify
        under the rule set, ids that were not in the engine.
    affected_pieces : int
        Residential pieces whose covered area was recomputed.
    covered_before_m2, covered_after_m2 : float
        City covered area before and after the change.
    """

    added: tuple[str, ...]
    removed: tuple[str, ...]
    ignored: dict[str, str]
    affected_pieces: int
    covered_before_m2: float
    covered_after_m2: float

    @property
    def gain_m2(self) -> float:
        """Covered area gained (negative for a loss)."""
        return self.covered_after_m2 - self.covered_before_m2


@dataclass(frozen=True)
class PieceChange:
    """What a change of service areas would do to the pieces it reaches (nothing applied).

    From :meth:`IncrementalCoverage.change_if`: the engine is left as it was.

    Attributes
    ----------
    pieces : numpy.ndarray of int
        Positions (in :attr:`IncrementalCoverage.land`) of the residential pieces a
        service area added or removed meets.
    covered_before, covered_after : numpy.ndarray of float
        Their covered area (m²) now and after the change.
    uncovered_before, uncovered_after : numpy.ndarray of geometries or None
        Their land outside every service area now and after the change (``None`` where
        a piece is covered whole); given when asked for (``parts=True``).
    """

    pieces: np.ndarray
    covered_before: np.ndarray
    covered_after: np.ndarray
    uncovered_before: np.ndarray | None = None
    uncovered_after: np.ndarray | None = None

    @property
    def gain_m2(self) -> float:
        """Covered area gained (negative for a loss)."""
        return float((self.covered_after - self.covered_before).sum())


class IncrementalCoverage:
    """Buffer coverage kept up to date under park additions and removals.

    Parameters
    ----------
    land : geopandas.GeoDataFrame
        Residential pieces as returned by :func:`gisrenew.coverage.residential_land`
        (``residential_id``, ``district_id``, ``area_m2``, optional ``weight``,
        geometry), non-overlapping, in a metric CRS.
    service_areas : geopandas.GeoDataFrame
        Service areas of the current qualifying parks (``park_id``, geometry), as from
        :func:`gisrenew.coverage.service_areas`.
    rules : RuleSet or str, optional
        Rule set used by :meth:`add_parks` to turn parks into service areas.
    covered_m2 : array_like, optional
        Known covered area per piece (e.g. from a :class:`~gisrenew.results.CoverageResult`).
        When omitted it is computed with :func:`gisrenew.coverage.covered_area` when
        first needed: only for the pieces a :meth:`gain_if_added` reaches, for every
        piece once a city figure is asked for or parks are added or removed.

    Notes
    -----
    Only residential pieces that intersect a changed service area are recomputed, each
    against the service areas that touch it; totals are updated by the difference of
    the stored per-piece results. Call :meth:`resum` to re-add every piece (exact
    re-summation; the difference updates drift by a few ulps at most).
    """

    def __init__(
        self,
        land: gpd.GeoDataFrame,
        service_areas: gpd.GeoDataFrame,
        *,
        rules: RuleSet | str | None = None,
        covered_m2=None,
    ):
        self.rules = get_rules(rules)
        self.crs = land.crs
        self.land = land.reset_index(drop=True)
        self._geoms = geometry_array(self.land)
        self._area = np.asarray(self.land["area_m2"], dtype=float)
        weights = (
            np.asarray(self.land["weight"], dtype=float) if "weight" in self.land.columns else None
        )
        # residential_land always has a `weight` column: nan when no weight was asked for
        self._weight = (
            None if weights is None or np.isnan(weights).all() else np.nan_to_num(weights)
        )
        districts = (
            self.land["district_id"].astype(str).to_numpy()
            if "district_id" in self.land.columns
            else np.full(len(self.land), "", dtype=object)
        )
        self._district_code, self._district_ids = pd.factorize(districts, sort=True)
        self._touched = np.zeros(len(self._area), dtype=bool)  # pieces recomputed by changes

        # service areas: slot number -> geometry / park id; dynamic R-tree over slots
        ids = service_areas["park_id"].astype(str).tolist() if len(service_areas) else []
        if len(set(ids)) != len(ids):
            raise SchemaError("`service_areas` has duplicate park_id values")
        self._sa_geoms: list = list(geometry_array(service_areas))
        self._sa_ids: list[str | None] = list(ids)
        self._slot: dict[str, int] = {pid: i for i, pid in enumerate(ids)}
        self._rtree = self._new_rtree(self._sa_geoms)

        self._totals_ready = False
        if covered_m2 is None:
            self._covered = np.full(len(self._area), np.nan)  # computed when first needed
            return
        covered = np.asarray(covered_m2, dtype=float)
        if covered.shape != self._area.shape:
            raise ValueError("`covered_m2` must have one value per residential piece")
        self._covered = np.clip(covered, 0.0, self._area)
        self.resum()

    # -- construction helpers ------------------------------------------------------------

    @staticmethod
    def _new_rtree(geoms: Sequence) -> rtree_index.Index:
        if len(geoms) == 0:
            return rtree_index.Index()
        bounds = shapely.bounds(np.asarray(geoms, dtype=object))
        return rtree_index.Index((i, tuple(b), None) for i, b in enumerate(bounds))

    @cached_property
    def _land_tree(self) -> shapely.STRtree:
        """STRtree of the residential pieces (built on first use)."""
        return shapely.STRtree(self._geoms)

    @classmethod
    def from_layers(
        cls,
        parks: gpd.GeoDataFrame,
        residential: gpd.GeoDataFrame,
        *,
        rules: RuleSet | str | None = None,
        boundary: gpd.GeoDataFrame | None = None,
        districts: gpd.GeoDataFrame | None = None,
        weight: str | None = None,
        residential_codes: Sequence[str] | None = None,
    ) -> IncrementalCoverage:
        """Build the engine from raw layers (coverage computed when first needed)."""
        rules, codes = rules_and_codes(rules, residential_codes)
        res = conformed(residential, "residential", name="residential")
        ensure_metric(res, "residential")
        parks_c = conformed(parks, "parks", name="parks", crs=res.crs)
        areas = service_area_frame(parks_c, tier_table(parks_c, rules))
        land, _ = land_and_overlay(
            res,
            boundary=conformed(boundary, "boundary", name="boundary", crs=res.crs),
            districts=conformed(districts, "districts", name="districts", crs=res.crs),
            weight=weight,
            codes=codes,
        )
        return cls(land, areas, rules=rules)

    @classmethod
    def from_result(cls, result) -> IncrementalCoverage:
        """Seed the engine from a :class:`~gisrenew.results.CoverageResult` (no computation)."""
        land = result.residential
        keep = [
            c for c in ("residential_id", "district_id", "area_m2", "weight") if c in land.columns
        ]
        if result.weight_column is None and "weight" in keep:
            keep.remove("weight")  # a nan placeholder
        return cls(
            land[[*keep, land.geometry.name]],
            result.service_areas,
            rules=result.rules,
            covered_m2=land["covered_m2"].to_numpy(dtype=float),
        )

    # -- figures -------------------------------------------------------------------------

    def _ensure(self, idx: np.ndarray) -> None:
        """Compute the covered area of the pieces `idx` not known yet (see `covered_m2`)."""
        missing = idx[np.isnan(self._covered[idx])]
        if len(missing) == 0:
            return
        if len(missing) == len(self._covered):  # every piece: every service area
            reach = np.asarray([g for g in self._sa_geoms if g is not None], dtype=object)
        else:
            reach = self._near(missing)
        self._covered[missing] = self._covered_under(self._geoms[missing], missing, reach)

    def _ready(self) -> None:
        """Make the city and district totals available (computing every piece if needed)."""
        if not self._totals_ready:
            self.resum()

    def resum(self) -> None:
        """Recompute city and district totals from the per-piece results."""
        self._ensure(np.arange(len(self._covered)))
        self._totals_ready = True
        n = len(self._district_ids)
        self._total_area = float(self._area.sum())
        self._total_covered = float(self._covered.sum())
        self._district_area = np.bincount(self._district_code, self._area, minlength=n)
        self._district_covered = np.bincount(self._district_code, self._covered, minlength=n)
        if self._weight is not None:
            cw = self._covered_weight(np.arange(len(self._area)), self._covered)
            self._total_weight = float(self._weight.sum())
            self._total_covered_weight = float(cw.sum())
            self._district_weight = np.bincount(self._district_code, self._weight, minlength=n)
            self._district_covered_weight = np.bincount(self._district_code, cw, minlength=n)

    def _covered_weight(self, idx: np.ndarray, covered: np.ndarray) -> np.ndarray:
        area = self._area[idx]
        share = np.divide(covered, area, out=np.zeros_like(covered), where=area > 0)
        return self._weight[idx] * share

    def _weight_gain(self, idx: np.ndarray, new: np.ndarray, old: np.ndarray) -> float:
        """Weight covered under `new` minus under `old` (per-piece areas of pieces `idx`)."""
        if self._weight is None:
            return math.nan
        return float((self._covered_weight(idx, new) - self._covered_weight(idx, old)).sum())

    @property
    def park_ids(self) -> list[str]:
        """Ids of the parks whose service areas are in the engine."""
        return [pid for pid in self._sa_ids if pid is not None]

    @property
    def covered_m2(self) -> np.ndarray:
        """Covered area per residential piece (a copy), in the order of :attr:`land`."""
        self._ready()
        return self._covered.copy()

    @property
    def covered_area_m2(self) -> float:
        """City numerator: residential land within service (m²)."""
        self._ready()
        return self._total_covered

    @property
    def residential_area_m2(self) -> float:
        """City denominator: all residential land (m²)."""
        return float(self._area.sum())

    @property
    def ratio(self) -> float:
        """Coverage ratio 0–1 (nan without residential land)."""
        self._ready()
        return self._total_covered / self._total_area if self._total_area > 0 else math.nan

    @property
    def weight_covered(self) -> float:
        """Covered weight (households/population), nan without weights."""
        self._ready()
        return self._total_covered_weight if self._weight is not None else math.nan

    @property
    def weight_total(self) -> float:
        """Total weight, nan without weights."""
        self._ready()
        return self._total_weight if self._weight is not None else math.nan

    @property
    def has_weight(self) -> bool:
        """True when the residential pieces carry a weight (households/population)."""
        return self._weight is not None

    def districts(self) -> pd.DataFrame:
        """Per-district residential and covered area (and weights) with the ratio."""
        self._ready()
        area = self._district_area
        covered = self._district_covered
        frame = pd.DataFrame(
            {
                "district_id": pd.array(np.asarray(self._district_ids, dtype=object), dtype="str"),
                "residential_area_m2": area,
                "covered_area_m2": covered,
                "coverage_ratio": np.divide(
                    covered, area, out=np.full_like(area, np.nan), where=area > 0
                ),
            }
        )
        if self._weight is not None:
            frame["weight_total"] = self._district_weight
            frame["weight_covered"] = self._district_covered_weight
        return frame

    def figures(self) -> dict[str, Any]:
        """City figures as a JSON-ready dict (see :func:`coverage_figures`)."""
        return coverage_figures(
            self.covered_area_m2, self.residential_area_m2, self.weight_covered, self.weight_total
        )

    # -- local queries -------------------------------------------------------------------

    def pieces_touching(self, geometries) -> np.ndarray:
        """Positions (in :attr:`land`) of the residential pieces meeting any of `geometries`."""
        geoms = np.atleast_1d(np.asarray(geometries, dtype=object))
        return self._affected(list(geoms))[0]

    def reach_geometries(self, land_idx) -> np.ndarray:
        """Current service areas that intersect any of the pieces `land_idx`."""
        land_idx = np.asarray(land_idx, dtype=np.int64)
        if len(land_idx) == 0:
            return np.zeros(0, dtype=object)
        reach = self._near(land_idx)
        if len(reach) == 0:
            return reach
        hits = shapely.STRtree(reach).query(self._geoms[land_idx], predicate="intersects")[1]
        return reach[np.unique(hits)]

    def _reach_slots(self, land_idx: np.ndarray, groups: Iterable[np.ndarray]) -> np.ndarray:
        """Slots of service areas whose bbox meets the bbox of each group of pieces."""
        slots: set[int] = set()
        for group in groups:
            if len(group) == 0:
                continue
            b = shapely.bounds(self._geoms[group])
            box = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
            slots.update(self._rtree.intersection(box))
        return np.fromiter(sorted(slots), dtype=np.int64, count=len(slots))

    def _near(self, land_idx: np.ndarray) -> np.ndarray:
        """Current service areas near the pieces `land_idx` (their bounding boxes meet)."""
        slots = self._reach_slots(land_idx, [land_idx])
        return np.asarray([self._sa_geoms[s] for s in slots], dtype=object)

    def _affected(self, geoms: Sequence) -> tuple[np.ndarray, list[np.ndarray]]:
        """Pieces meeting any of `geoms` (unique) and, per geometry, its own pieces."""
        if len(geoms) == 0:
            return np.zeros(0, dtype=np.int64), []
        pairs = self._land_tree.query(np.asarray(geoms, dtype=object), predicate="intersects")
        order = np.argsort(pairs[0], kind="stable")
        cuts = np.searchsorted(pairs[0][order], np.arange(1, len(geoms)))
        groups = np.split(pairs[1][order], cuts)
        return np.unique(pairs[1]), groups

    def _covered_under(self, pieces: np.ndarray, idx: np.ndarray, reach: np.ndarray) -> np.ndarray:
        """Covered area of `pieces` (pieces `idx`, or parts of them) under `reach`, clipped."""
        if len(reach) == 0:
            return np.zeros(len(idx))
        # clipped to the piece's area, as the full computation does
        return np.clip(np.asarray(covered_area(pieces, reach), dtype=float), 0.0, self._area[idx])

    # -- updates -------------------------------------------------------------------------

    def _apply(self, land_idx: np.ndarray, groups: list[np.ndarray]) -> None:
        """Recompute pieces `land_idx` and fold the differences into the totals."""
        if len(land_idx) == 0:
            return
        slots = self._reach_slots(land_idx, groups)
        reach = np.asarray([self._sa_geoms[s] for s in slots], dtype=object)
        new = self._covered_under(self._geoms[land_idx], land_idx, reach)
        old = self._covered[land_idx]
        delta = new - old
        self._covered[land_idx] = new
        self._touched[land_idx] = True
        n = len(self._district_ids)
        codes = self._district_code[land_idx]
        self._total_covered += float(delta.sum())
        self._district_covered += np.bincount(codes, delta, minlength=n)
        if self._weight is not None:
            dw = self._covered_weight(land_idx, new) - self._covered_weight(land_idx, old)
            self._total_covered_weight += float(dw.sum())
            self._district_covered_weight += np.bincount(codes, dw, minlength=n)

    def _summary(self, before: float, added=(), removed=(), ignored=None, affected=0):
        return UpdateSummary(
            added=tuple(added),
            removed=tuple(removed),
            ignored=ignored or {},
            affected_pieces=affected,
            covered_before_m2=before,
            covered_after_m2=self._total_covered,
        )

    def add_service_areas(self, service_areas: gpd.GeoDataFrame) -> UpdateSummary:
        """Add service areas (``park_id``, geometry) and update the affected pieces."""
        ids = service_areas["park_id"].astype(str).tolist()
        return self._insert(ids, geometry_array(service_areas))

    def _insert(
        self, ids: list[str], geoms: np.ndarray, ignored: dict[str, str] | None = None
    ) -> UpdateSummary:
        self._ready()
        before = self._total_covered
        clash = [pid for pid in ids if pid in self._slot]
        if clash or len(set(ids)) != len(ids):
            dupes = clash or sorted({p for p in ids if ids.count(p) > 1})
            raise SchemaError(f"parks already in the coverage state (or given twice): {dupes[:10]}")
        for pid, geom in zip(ids, geoms, strict=True):
            slot = len(self._sa_geoms)
            self._sa_geoms.append(geom)
            self._sa_ids.append(pid)
            self._slot[pid] = slot
            self._rtree.insert(slot, tuple(shapely.bounds(geom)))
        land_idx, groups = self._affected(geoms)
        self._apply(land_idx, groups)
        return self._summary(before, added=ids, ignored=ignored, affected=len(land_idx))

    def service_geometries(
        self, parks: gpd.GeoDataFrame
    ) -> tuple[list[str], np.ndarray, dict[str, str]]:
        """Service areas of `parks` under the engine's rule set, as plain arrays.

        Which parks qualify and their radius come from the rule set
        (:func:`gisrenew.coverage.park_table`); the service areas are those of
        :func:`gisrenew.coverage.service_areas`, without building a frame.

        Returns
        -------
        ids : list of str
            Qualifying park ids.
        geoms : numpy.ndarray
            Their service areas.
        ignored : dict of str to str
            ``{park_id: reason}`` of the parks that do not qualify.
        """
        parks = conformed(parks, "parks", name="parks", crs=self.crs)
        table = tier_table(parks, self.rules)
        ok = table["qualifies"].to_numpy(dtype=bool)
        ids = table["park_id"].astype(str).to_numpy(dtype=object)
        areas = service_area_geometries(parks, table)
        reasons = table["reason"].astype(str).to_numpy(dtype=object)
        ignored = dict(zip(ids[~ok].tolist(), reasons[~ok].tolist(), strict=True))
        return ids[ok].tolist(), np.asarray(areas, dtype=object), ignored

    def add_parks(self, parks: gpd.GeoDataFrame) -> UpdateSummary:
        """Add parks: their service areas under the engine's rule set (non-qualifying ignored).

        `parks` is validated with :func:`gisrenew.io.conformed` (layers from
        :func:`gisrenew.io.read_layer` and the project store are used as they are).
        """
        ids, geoms, ignored = self.service_geometries(parks)
        return self._insert(ids, geoms, ignored)

    def remove_parks(self, park_ids: Iterable[str]) -> UpdateSummary:
        """Remove parks by id and update the affected pieces (unknown ids are ignored)."""
        self._ready()
        before = self._total_covered
        wanted = list(dict.fromkeys(str(p) for p in park_ids))
        present = [p for p in wanted if p in self._slot]
        missing = [p for p in wanted if p not in self._slot]
        geoms = []
        for pid in present:
            slot = self._slot.pop(pid)
            geom = self._sa_geoms[slot]
            self._rtree.delete(slot, tuple(shapely.bounds(geom)))
            self._sa_geoms[slot] = None
            self._sa_ids[slot] = None
            geoms.append(geom)
        land_idx, groups = self._affected(geoms)
        self._apply(land_idx, groups)
        ignored = dict.fromkeys(missing, "no service area in the coverage state")
        return self._summary(before, removed=present, ignored=ignored, affected=len(land_idx))

    def touched(self) -> np.ndarray:
        """Positions (in :attr:`land`) of the pieces :meth:`add_parks` / :meth:`remove_parks`
        (and :meth:`add_service_areas`) recomputed since the engine was made: every other
        piece has the covered area it was seeded with."""
        return np.flatnonzero(self._touched)

    def uncovered(self, land_idx) -> np.ndarray:
        """The uncovered part of the pieces `land_idx` under the current service areas.

        Returns
        -------
        numpy.ndarray of geometries
            One per piece: its land outside every service area (``None`` where the piece
            is covered whole), as the full computation's blind spots are made.
        """
        land_idx = np.asarray(land_idx, dtype=np.int64)
        if len(land_idx) == 0:
            return np.zeros(0, dtype=object)
        reach = self._near(land_idx)
        pieces = self._geoms[land_idx]
        if len(reach) == 0:
            return pieces.copy()
        return covered_parts(pieces, reach)[1]

    # -- what if -------------------------------------------------------------------------

    def gain_if_added(self, geometry, *, footprint=None) -> tuple[float, float]:
        """Covered area (and weight) a service area `geometry` would add, without adding it.

        Parameters
        ----------
        geometry : shapely geometry
            The service area of a park that is not (yet) in the engine.
        footprint : shapely geometry, optional
            Land the new park itself takes: residential land under it stops being
            residential (a plan turning housing into a park), so it is left out of the
            pieces before and after — only the rest can be newly covered.

        Returns
        -------
        gain_m2, gain_weight : float
            The newly covered residential area and weight (nan without weights).
        """
        land_idx, _ = self._affected([geometry])
        if len(land_idx) == 0:
            return 0.0, (0.0 if self._weight is not None else math.nan)
        reach = self._near(land_idx)
        pieces = self._geoms[land_idx]
        if footprint is None:
            self._ensure(land_idx)
            old = self._covered[land_idx]
        else:
            pieces = polygonal_part(shapely.difference(pieces, footprint))
            old = self._covered_under(pieces, land_idx, reach)
        new = self._covered_under(pieces, land_idx, np.append(reach, geometry))
        return float((new - old).sum()), self._weight_gain(land_idx, new, old)

    def change_if(
        self, added=(), removed: Iterable[str] = (), *, parts: bool = False
    ) -> PieceChange:
        """What adding service areas and removing parks would do, without doing it.

        The engine is not changed (the interactive what-if, ``gisrenew serve``): only the
        residential pieces the added service areas and the removed parks' service areas
        meet are recomputed, against the service areas near them with the change made.

        Parameters
        ----------
        added : sequence of shapely geometries
            Service areas of parks that are not (yet) in the engine.
        removed : iterable of str
            Ids of parks in the engine whose service areas would go (unknown ids are
            ignored).
        parts : bool
            Also give each piece's uncovered land before and after (for the blind spots
            a change closes or opens).

        Returns
        -------
        PieceChange
        """
        added = [g for g in added if g is not None]
        gone = {self._slot[p] for p in dict.fromkeys(str(p) for p in removed) if p in self._slot}
        land_idx, groups = self._affected([*added, *(self._sa_geoms[s] for s in sorted(gone))])
        self._ensure(land_idx)
        before = self._covered[land_idx].copy()
        slots = self._reach_slots(land_idx, groups) if len(land_idx) else np.zeros(0, np.int64)
        reach = np.asarray([self._sa_geoms[s] for s in slots], dtype=object)
        kept = np.asarray([s not in gone for s in slots.tolist()], dtype=bool)
        reach_after = np.concatenate([reach[kept], np.asarray(added, dtype=object)])
        pieces = self._geoms[land_idx]
        after = self._covered_under(pieces, land_idx, reach_after)
        if not parts:
            return PieceChange(land_idx, before, after)
        return PieceChange(
            land_idx, before, after, self._uncovered_under(pieces, reach),
            self._uncovered_under(pieces, reach_after),
        )  # fmt: skip

    @staticmethod
    def _uncovered_under(pieces: np.ndarray, reach: np.ndarray) -> np.ndarray:
        """Each piece's land outside every geometry of `reach` (None where covered whole)."""
        if len(pieces) == 0:
            return np.zeros(0, dtype=object)
        if len(reach) == 0:
            return pieces.copy()
        return covered_parts(pieces, reach)[1]

    def newly_covered(self, geometry) -> shapely.Geometry:
        """The residential land :meth:`gain_if_added` counts, as one (multi)polygon.

        The part of every piece meeting `geometry` that lies inside `geometry` and
        outside every current service area; an empty Polygon when there is none.
        """
        land_idx, _ = self._affected([geometry])
        if len(land_idx) == 0:
            return shapely.Polygon()
        reach = self._near(land_idx)
        uncovered = self._geoms[land_idx]
        if len(reach):
            uncovered = covered_parts(uncovered, reach)[1]
            uncovered = uncovered[~shapely.is_missing(uncovered)]
        inside = shapely.intersection(uncovered, geometry)
        return polygonal_part([shapely.union_all(inside)])[0]

    def contributions(self, park_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """What each park's service area covers, and what only it covers (lost if it closed).

        Parameters
        ----------
        park_ids : sequence of str, optional
            Parks to report (default: every park in the engine, in the order added).
            Unknown ids get zeros.

        Returns
        -------
        pandas.DataFrame
            One row per park: ``park_id``, ``covered_m2`` (residential land in its service
            area, shared or not), ``unique_m2`` (land no other service area covers) and,
            with weights, ``covered_weight`` and ``unique_weight``.
        """
        live = np.asarray([s for s, pid in enumerate(self._sa_ids) if pid is not None], dtype=int)
        if park_ids is None:
            ids = [self._sa_ids[s] for s in live]
            land_idx, slots = np.arange(len(self._geoms)), live
        else:
            ids = [str(p) for p in park_ids]
            chosen = [self._slot[p] for p in ids if p in self._slot]
            land_idx, _ = self._affected([self._sa_geoms[s] for s in chosen])
            slots = self._reach_slots(land_idx, [land_idx]) if len(land_idx) else live[:0]
        area = self._area[land_idx]
        density = None
        if self._weight is not None:
            weight = self._weight[land_idx]
            density = np.divide(weight, area, out=np.zeros(len(area)), where=area > 0)
        reach = np.asarray([self._sa_geoms[s] for s in slots], dtype=object)
        sums = reach_contributions(self._geoms[land_idx], reach, area, density)
        row = pd.Series(np.arange(len(slots)), index=slots).reindex(
            [self._slot.get(p, -1) for p in ids]
        )
        found = row.notna().to_numpy()
        pos = row.fillna(0).to_numpy(dtype=int)
        out = {"park_id": pd.Series(ids, dtype=object)}
        for key, values in sums.items():
            out[key] = np.where(found, values[pos] if len(values) else 0.0, 0.0)
        return pd.DataFrame(out)

    def unique_gain(self, park_id: str) -> tuple[float, float]:
        """Area (and weight) only park `park_id` covers: lost if it alone were removed."""
        row = self.contributions([str(park_id)]).iloc[0]
        weight = float(row["unique_weight"]) if self._weight is not None else math.nan
        return float(row["unique_m2"]), weight
