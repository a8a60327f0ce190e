"""Recompute after park changes: incremental engine, safe project update, run history.

When new pocket parks (口袋公园) open or parks close, planners add them to the project
and rerun every indicator. This module does that in two layers:

* :class:`IncrementalCoverage` keeps the per-piece results of the buffer coverage
  engine (:mod:`gisrenew.coverage`) in memory and updates only the residential pieces
  a change can reach: the service areas live in a dynamic R-tree (``rtree`` supports
  insert and delete; shapely's STRtree is static), the residential pieces in an
  STRtree. City and district totals are updated from the stored per-piece results.
  After any sequence of additions and removals the figures equal a full
  :func:`gisrenew.coverage.compute_coverage` (tests check 1e-9 relative).
* :func:`recompute` changes a project: merges the added/removed parks into its
  ``parks`` layer, recomputes every indicator the project has, builds a before/after
  report (ratio, areas, districts, closed blind spots, each new park's own gain,
  parks that add nothing and why) and stores everything — parks, result layers and a
  ``run_history`` row — in ONE project transaction, under the project lock. A run that
  is killed at any point leaves the project as before or as after; re-adding parks
  that are already there (same id or same geometry) is a no-op that says so.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rtree import index as rtree_index

from gisrenew import jsonable
from gisrenew.errors import GisrenewError, SchemaError
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import ProjectInputs, gather_inputs
from gisrenew.outfiles import check_folder
from gisrenew.rules import RuleSet, get_rules
from gisrenew.units import m2_to_ha, m2_to_mu

__all__ = [
    "CHECKPOINT_ENV",
    "IncrementalCoverage",
    "UpdateSummary",
    "next_run_id",
    "read_history",
    "recompute",
    "run_demo_recompute",
]

log = logging.getLogger(__name__)

#: Environment variable naming a step at which :func:`recompute` pauses (test hook):
#: ``"<step>:<marker file>"``; the run writes the marker file and sleeps, so a test can
#: kill it exactly there. Steps: ``loaded``, ``computed``, ``tx-begin``, ``tx-parks``,
#: ``tx-results``, ``tx-history``, ``committed``.
CHECKPOINT_ENV = "GISRENEW_TEST_CHECKPOINT"

HISTORY_TABLE = "run_history"


def _checkpoint(step: str) -> None:
    """Pause at `step` when the test hook asks for it (see :data:`CHECKPOINT_ENV`)."""
    spec = os.environ.get(CHECKPOINT_ENV)
    if not spec:
        return
    wanted, _, marker = spec.partition(":")
    if wanted != step:
        return
    if marker:
        Path(marker).write_text(step, encoding="utf-8")
    time.sleep(float(os.environ.get("GISRENEW_TEST_CHECKPOINT_SLEEP", "60")))


# ---------------------------------------------------------------------------------------
# Incremental engine
# ---------------------------------------------------------------------------------------


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


def _coverage_module():
    from gisrenew import coverage

    return coverage


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
        Known covered area per piece (e.g. from a :class:`~gisrenew.results.CoverageResult`);
        computed with :func:`gisrenew.coverage.covered_area` when omitted.

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
        self._geoms = np.asarray(self.land.geometry.values, dtype=object)
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
        self._land_tree = shapely.STRtree(self._geoms)

        # service areas: slot number -> geometry / park id; dynamic R-tree over slots
        ids = service_areas["park_id"].astype(str).tolist() if len(service_areas) else []
        if len(set(ids)) != len(ids):
            raise SchemaError("`service_areas` has duplicate park_id values")
        self._sa_geoms: list = list(np.asarray(service_areas.geometry.values, dtype=object))
        self._sa_ids: list[str | None] = list(ids)
        self._slot: dict[str, int] = {pid: i for i, pid in enumerate(ids)}
        self._rtree = self._new_rtree(self._sa_geoms)

        if covered_m2 is None:
            covered_m2 = _coverage_module().covered_area(
                self._geoms, np.asarray(self._sa_geoms, dtype=object)
            )
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
        """Build the engine from raw layers (one full computation)."""
        coverage = _coverage_module()
        rules = get_rules(rules)
        land = coverage.residential_land(
            residential, boundary=boundary, districts=districts, weight=weight, rules=rules,
            residential_codes=residential_codes,
        )  # fmt: skip
        areas = coverage.service_areas(parks, rules)
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

    def resum(self) -> None:
        """Recompute city and district totals from the per-piece results."""
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

    @property
    def park_ids(self) -> list[str]:
        """Ids of the parks whose service areas are in the engine."""
        return [pid for pid in self._sa_ids if pid is not None]

    @property
    def covered_m2(self) -> np.ndarray:
        """Covered area per residential piece (a copy), in the order of :attr:`land`."""
        return self._covered.copy()

    @property
    def covered_area_m2(self) -> float:
        """City numerator: residential land within service (m²)."""
        return self._total_covered

    @property
    def residential_area_m2(self) -> float:
        """City denominator: all residential land (m²)."""
        return self._total_area

    @property
    def ratio(self) -> float:
        """Coverage ratio 0–1 (nan without residential land)."""
        return self._total_covered / self._total_area if self._total_area > 0 else math.nan

    @property
    def weight_covered(self) -> float:
        """Covered weight (households/population), nan without weights."""
        return self._total_covered_weight if self._weight is not None else math.nan

    @property
    def weight_total(self) -> float:
        """Total weight, nan without weights."""
        return self._total_weight if self._weight is not None else math.nan

    @property
    def has_weight(self) -> bool:
        """True when the residential pieces carry a weight (households/population)."""
        return self._weight is not None

    def pieces_touching(self, geometries) -> np.ndarray:
        """Positions (in :attr:`land`) of the residential pieces meeting any of `geometries`."""
        geoms = np.atleast_1d(np.asarray(geometries, dtype=object))
        return self._affected(list(geoms))[0]

    def reach_geometries(self, land_idx) -> np.ndarray:
        """Current service areas that intersect any of the pieces `land_idx`."""
        land_idx = np.asarray(land_idx, dtype=np.int64)
        if len(land_idx) == 0:
            return np.zeros(0, dtype=object)
        slots = self._reach_slots(land_idx, [land_idx])
        reach = np.asarray([self._sa_geoms[s] for s in slots], dtype=object)
        if len(reach) == 0:
            return reach
        hits = shapely.STRtree(reach).query(self._geoms[land_idx], predicate="intersects")[1]
        return reach[np.unique(hits)]

    def districts(self) -> pd.DataFrame:
        """Per-district residential and covered area (and weights) with the ratio."""
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
        """City figures as a JSON-ready dict."""
        return _figures(
            self.covered_area_m2, self.residential_area_m2, self.weight_covered, self.weight_total
        )

    # -- updates -------------------------------------------------------------------------

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

    def _affected(self, geoms: Sequence) -> tuple[np.ndarray, list[np.ndarray]]:
        """Pieces meeting any of `geoms` (unique) and, per geometry, its own pieces."""
        if len(geoms) == 0:
            return np.zeros(0, dtype=np.int64), []
        pairs = self._land_tree.query(np.asarray(geoms, dtype=object), predicate="intersects")
        order = np.argsort(pairs[0], kind="stable")
        cuts = np.searchsorted(pairs[0][order], np.arange(1, len(geoms)))
        groups = np.split(pairs[1][order], cuts)
        return np.unique(pairs[1]), groups

    def _local_covered(self, land_idx: np.ndarray, extra: Sequence = ()) -> np.ndarray:
        """Covered area of pieces `land_idx` under the current service areas (+ `extra`)."""
        slots = self._reach_slots(land_idx, [land_idx])
        reach = [self._sa_geoms[s] for s in slots]
        reach.extend(extra)
        if not reach:
            return np.zeros(len(land_idx))
        covered = _coverage_module().covered_area(
            self._geoms[land_idx], np.asarray(reach, dtype=object)
        )
        return np.clip(np.asarray(covered, dtype=float), 0.0, self._area[land_idx])

    def _apply(self, land_idx: np.ndarray, groups: list[np.ndarray]) -> None:
        """Recompute pieces `land_idx` and fold the differences into the totals."""
        if len(land_idx) == 0:
            return
        slots = self._reach_slots(land_idx, groups)
        reach = np.asarray([self._sa_geoms[s] for s in slots], dtype=object)
        if len(reach):
            new = np.asarray(
                _coverage_module().covered_area(self._geoms[land_idx], reach), dtype=float
            )
            new = np.clip(new, 0.0, self._area[land_idx])  # as the full computation does
        else:
            new = np.zeros(len(land_idx))
        old = self._covered[land_idx]
        delta = new - old
        self._covered[land_idx] = new
        n = len(self._district_ids)
        codes = self._district_code[land_idx]
        self._total_covered += float(delta.sum())
        self._district_covered += np.bincount(codes, delta, minlength=n)
        if self._weight is not None:
            dw = self._covered_weight(land_idx, new) - self._covered_weight(land_idx, old)
            self._total_covered_weight += float(dw.sum())
            self._district_covered_weight += np.bincount(codes, dw, minlength=n)

    def add_service_areas(self, service_areas: gpd.GeoDataFrame) -> UpdateSummary:
        """Add service areas (``park_id``, geometry) and update the affected pieces."""
        ids = service_areas["park_id"].astype(str).tolist()
        return self._insert(ids, np.asarray(service_areas.geometry.values, dtype=object))

    def _insert(
        self, ids: list[str], geoms: np.ndarray, ignored: dict[str, str] | None = None
    ) -> UpdateSummary:
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
        return UpdateSummary(
            added=tuple(ids),
            removed=(),
            ignored=ignored or {},
            affected_pieces=len(land_idx),
            covered_before_m2=before,
            covered_after_m2=self._total_covered,
        )

    def service_geometries(
        self, parks: gpd.GeoDataFrame
    ) -> tuple[list[str], np.ndarray, dict[str, str]]:
        """Service areas of `parks` under the engine's rule set, as plain arrays.

        Which parks qualify and their radius come from :func:`gisrenew.coverage.park_table`;
        the service area is the park polygon buffered by its radius with
        :data:`gisrenew.coverage.BUFFER_QUAD_SEGS` segments per quarter circle — the
        geometry :func:`gisrenew.coverage.service_areas` returns, without building a frame.

        Returns
        -------
        ids : list of str
            Qualifying park ids.
        geoms : numpy.ndarray
            Their service areas.
        ignored : dict of str to str
            ``{park_id: reason}`` of the parks that do not qualify.
        """
        coverage = _coverage_module()
        if parks.attrs.get("kind") != "parks":
            from gisrenew.io import conform

            parks = conform(parks, "parks", working_crs=self.crs)
        table = coverage.park_table(parks, self.rules)
        ok = table["qualifies"].to_numpy(dtype=bool)
        ids = table["park_id"].astype(str).to_numpy(dtype=object)
        geoms = np.asarray(parks.geometry.array, dtype=object)[ok]
        radius = table["radius_m"].to_numpy(dtype=float)[ok]
        areas = shapely.buffer(geoms, radius, quad_segs=coverage.BUFFER_QUAD_SEGS)
        reasons = table["reason"].astype(str).to_numpy(dtype=object)
        ignored = dict(zip(ids[~ok].tolist(), reasons[~ok].tolist(), strict=True))
        return ids[ok].tolist(), np.asarray(areas, dtype=object), ignored

    def add_parks(self, parks: gpd.GeoDataFrame) -> UpdateSummary:
        """Add parks: their service areas under the engine's rule set (non-qualifying ignored).

        `parks` is validated with :func:`gisrenew.io.conform` unless it already was (as
        layers from :func:`gisrenew.io.read_layer` and the project store are).
        """
        ids, geoms, ignored = self.service_geometries(parks)
        return self._insert(ids, geoms, ignored)

    def remove_parks(self, park_ids: Iterable[str]) -> UpdateSummary:
        """Remove parks by id and update the affected pieces (unknown ids are ignored)."""
        before = self._total_covered
        wanted = [str(p) for p in park_ids]
        present = [p for p in dict.fromkeys(wanted) if p in self._slot]
        missing = [p for p in dict.fromkeys(wanted) if p not in self._slot]
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
        return UpdateSummary(
            added=(),
            removed=tuple(present),
            ignored=ignored,
            affected_pieces=len(land_idx),
            covered_before_m2=before,
            covered_after_m2=self._total_covered,
        )

    def gain_if_added(self, geometry) -> tuple[float, float]:
        """Covered area (and weight) a service area `geometry` would add, without adding it.

        Returns
        -------
        gain_m2, gain_weight : float
            The newly covered residential area and weight (nan without weights).
        """
        land_idx, _ = self._affected([geometry])
        if len(land_idx) == 0:
            return 0.0, (0.0 if self._weight is not None else math.nan)
        new = self._local_covered(land_idx, extra=[geometry])
        old = self._covered[land_idx]
        gain = float((new - old).sum())
        if self._weight is None:
            return gain, math.nan
        dw = self._covered_weight(land_idx, new) - self._covered_weight(land_idx, old)
        return gain, float(dw.sum())

    def unique_gain(self, park_id: str) -> tuple[float, float]:
        """Area (and weight) only park `park_id` covers: lost if it alone were removed."""
        slot = self._slot.get(str(park_id))
        if slot is None:
            return 0.0, (0.0 if self._weight is not None else math.nan)
        geom = self._sa_geoms[slot]
        land_idx, _ = self._affected([geom])
        if len(land_idx) == 0:
            return 0.0, (0.0 if self._weight is not None else math.nan)
        slots = self._reach_slots(land_idx, [land_idx])
        reach = np.asarray([self._sa_geoms[s] for s in slots if s != slot], dtype=object)
        if len(reach):
            without = np.asarray(
                _coverage_module().covered_area(self._geoms[land_idx], reach), dtype=float
            )
            without = np.clip(without, 0.0, self._area[land_idx])
        else:
            without = np.zeros(len(land_idx))
        current = self._covered[land_idx]
        gain = float((current - without).sum())
        if self._weight is None:
            return gain, math.nan
        dw = self._covered_weight(land_idx, current) - self._covered_weight(land_idx, without)
        return gain, float(dw.sum())


def _figures(
    covered: float, total: float, weight_covered: float = math.nan, weight_total: float = math.nan
) -> dict:
    ratio = covered / total if total > 0 else math.nan
    out = {
        "coverage_ratio": ratio,
        "covered_area_m2": covered,
        "covered_area_ha": float(m2_to_ha(covered)),
        "covered_area_mu": float(m2_to_mu(covered)),
        "residential_area_m2": total,
        "residential_area_ha": float(m2_to_ha(total)),
        "residential_area_mu": float(m2_to_mu(total)),
    }
    if not math.isnan(weight_total):
        out["weight_covered"] = weight_covered
        out["weight_total"] = weight_total
        out["weighted_ratio"] = weight_covered / weight_total if weight_total > 0 else math.nan
    return out


# ---------------------------------------------------------------------------------------
# Project recompute
# ---------------------------------------------------------------------------------------


class _NoChange(Exception):
    """Raised inside the transaction to leave the project untouched."""


@dataclass
class _Incoming:
    """New parks from one source, validated and in the working CRS."""

    label: str
    frame: gpd.GeoDataFrame
    sha256: str
    explicit_ids: bool


def _sha256_file(path: Path) -> str:
    """SHA-256 of a file (for a Shapefile: of its .shp, .shx, .dbf, .prj and .cpg together)."""
    digest = hashlib.sha256()
    paths = [path]
    if path.suffix.lower() == ".shp":
        paths = [
            p
            for p in (path.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
            if p.exists()
        ]
    for part in paths:
        with open(part, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _sha256_frame(gdf: gpd.GeoDataFrame) -> str:
    """SHA-256 of a GeoDataFrame's geometry (normalized WKB) and attribute values."""
    digest = hashlib.sha256()
    geoms = shapely.normalize(np.asarray(gdf.geometry.values, dtype=object))
    for wkb in shapely.to_wkb(geoms, hex=False):
        digest.update(wkb)
    attributes = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    digest.update(attributes.astype(str).to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()


def _has_explicit_ids(columns: Iterable[str], column_map: dict[str, str]) -> bool:
    """True when the source has a column that becomes ``park_id`` (not generated ids)."""
    names = {str(c) for c in columns}
    lowered = {c.lower() for c in names}
    if {"park_id", "id"} & lowered:
        return True
    return any(src in names and dst == "park_id" for src, dst in column_map.items())


def _read_incoming(project, sources: Sequence) -> list[_Incoming]:
    from gisrenew import io

    working = project.working_crs
    column_map = project.config.column_map("parks")
    incoming = []
    for number, source in enumerate(sources, start=1):
        if isinstance(source, gpd.GeoDataFrame):
            frame = io.conform(source, "parks", working_crs=working, columns=column_map or None)
            label = f"<GeoDataFrame {number}>"
            checksum = _sha256_frame(source)
            explicit = _has_explicit_ids(source.columns, column_map)
        else:
            path = Path(source)
            frame = io.read_layer(path, "parks", working_crs=working, columns=column_map or None)
            label = str(path)
            checksum = _sha256_file(path) if path.is_file() else _sha256_frame(frame)
            import pyogrio

            layer = frame.attrs.get("layer") or None
            try:
                fields = pyogrio.read_info(path, layer=layer)["fields"]
            except Exception:  # the layer name is only a label: fall back to the whole file
                fields = pyogrio.read_info(path)["fields"]
            explicit = _has_explicit_ids(fields, column_map)
        incoming.append(_Incoming(label, frame, checksum, explicit))
    return incoming


def _same_geometry(
    new_geoms: np.ndarray, old_geoms: np.ndarray, tolerance: float = 0.01
) -> np.ndarray:
    """For each new geometry, the position of an equal old geometry (-1 if none).

    Equal means the same shape vertex by vertex after normalization (ring start and
    orientation do not matter), or — for shapes that went through a reprojection round
    trip — a Hausdorff distance of at most `tolerance` metres.
    """
    match = np.full(len(new_geoms), -1, dtype=np.int64)
    if len(new_geoms) == 0 or len(old_geoms) == 0:
        return match
    tree = shapely.STRtree(old_geoms)
    pairs = tree.query(new_geoms, predicate="intersects")
    if pairs.shape[1] == 0:
        return match
    a = shapely.normalize(new_geoms[pairs[0]])
    b = shapely.normalize(old_geoms[pairs[1]])
    equal = shapely.equals_exact(a, b, tolerance=tolerance)
    rest = ~equal
    if rest.any():
        equal[rest] = shapely.hausdorff_distance(a[rest], b[rest]) <= tolerance
    for i, j in zip(pairs[0][equal], pairs[1][equal], strict=True):
        if match[i] < 0:
            match[i] = j
    return match


@dataclass
class _Merge:
    parks: gpd.GeoDataFrame
    added: gpd.GeoDataFrame
    added_sources: dict[str, str]
    removed: list[str]
    skipped: list[dict]

    @property
    def changed(self) -> bool:
        return len(self.added) > 0 or len(self.removed) > 0


def _merge_parks(
    parks: gpd.GeoDataFrame, incoming: list[_Incoming], remove: Sequence[str]
) -> _Merge:
    """Apply removals, then additions, to the parks layer (never mutating `parks`)."""
    skipped: list[dict] = []
    remove_ids = [str(r).strip() for r in remove if str(r).strip()]
    present = set(parks["park_id"].astype(str))
    removed = [pid for pid in dict.fromkeys(remove_ids) if pid in present]
    for pid in dict.fromkeys(remove_ids):
        if pid not in present:
            skipped.append(
                {
                    "park_id": pid,
                    "source": "--remove-parks",
                    "reason": "no park with this id in the project",
                }
            )
    base = parks[~parks["park_id"].astype(str).isin(removed)].reset_index(drop=True)
    base_ids = set(base["park_id"].astype(str))
    # parks known so far (the project's, then each accepted new one): for the geometry check
    known_ids = base["park_id"].astype(str).tolist()
    known_geoms = np.asarray(base.geometry.values, dtype=object)
    taken = set(base_ids)
    retired = set(removed)  # generated ids never reuse a closed park's id
    frames = []
    sources: dict[str, str] = {}
    for item in incoming:
        frame = item.frame.copy()
        ids = frame["park_id"].astype(str).to_numpy(dtype=object)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        same = _same_geometry(geoms, known_geoms)
        keep = np.ones(len(frame), dtype=bool)
        for k in range(len(frame)):
            if same[k] >= 0:
                old_id = known_ids[same[k]]
                keep[k] = False
                where = "in the project" if old_id in base_ids else "in this run's files"
                skipped.append(
                    {
                        "park_id": old_id if not item.explicit_ids else str(ids[k]),
                        "source": item.label,
                        "reason": f"already {where} as park {old_id} (same geometry)",
                    }
                )
            elif item.explicit_ids and ids[k] in base_ids:
                raise SchemaError(
                    f"{item.label}: park_id {ids[k]!r} is already in the project with a different "
                    f"geometry. Give the new park another id, or replace the old one with "
                    f"--remove-parks {ids[k]} in the same run."
                )
        frame = frame.loc[keep].reset_index(drop=True)
        ids = frame["park_id"].astype(str).to_numpy(dtype=object)
        if not item.explicit_ids:
            # ids generated from row order (1, 2, ...) would clash: name them after the source
            stem = Path(item.label).stem if not item.label.startswith("<") else "new"
            fresh = []
            for pid in ids:
                candidate = f"{stem}-{pid}"
                suffix = 2
                while candidate in taken or candidate in retired:
                    candidate = f"{stem}-{pid}-{suffix}"
                    suffix += 1
                fresh.append(candidate)
                taken.add(candidate)
            frame["park_id"] = fresh
        else:
            clash = [pid for pid in ids if pid in taken]
            if clash:
                raise SchemaError(
                    f"{item.label}: park ids {clash[:5]} are given twice (in this run's files or as "
                    "a park removed in this run); every park needs its own id"
                )
            taken.update(ids)
        for pid in frame["park_id"]:
            sources[str(pid)] = item.label
        known_ids.extend(frame["park_id"].astype(str))
        known_geoms = np.concatenate([known_geoms, np.asarray(frame.geometry.values, dtype=object)])
        frames.append(frame)
    added = pd.concat(frames, ignore_index=True) if frames else parks.iloc[0:0].copy()
    added = gpd.GeoDataFrame(added, geometry=added.geometry.name, crs=parks.crs)
    merged = pd.concat([base, added], ignore_index=True) if len(added) else base
    merged = gpd.GeoDataFrame(merged, geometry=parks.geometry.name, crs=parks.crs)
    return _Merge(merged, added, sources, removed, skipped)


# -- the indicators -------------------------------------------------------------------


#: The project layers a recompute reads (candidate sites and water are not indicators).
_RECOMPUTE_KINDS = (
    "parks", "residential", "boundary", "districts", "roads", "entrances", "plans", "parcels",
)  # fmt: skip


def _project_inputs(project, rules, weight) -> ProjectInputs:
    """The project's layers and settings, gathered by the one orchestrator."""
    return gather_inputs(
        project, kinds=_RECOMPUTE_KINDS, rules=rules, settings={"coverage": {"weight": weight}}
    )


def _indicators(
    inputs: ProjectInputs, parks: gpd.GeoDataFrame, *, stored: bool = True, progress: bool = False
):
    """Every indicator with `parks`; ``stored=False`` skips what only the stored layers need."""
    return compute_indicators(
        inputs.with_layers(parks=parks),
        plans=None if stored else False,
        progress=progress,
        # the walking service-area polygons are for the stored layers and maps only
        network_service_areas="park" if stored else "none",
    )


# -- the report -----------------------------------------------------------------------






def _result_figures(result) -> dict:
    return _figures(
        result.covered_area_m2,
        result.residential_area_m2,
        result.weight_covered,
        result.weight_total,
    )


def _change(before: dict, after: dict) -> dict:
    out = {
        "coverage_ratio": after["coverage_ratio"] - before["coverage_ratio"],
        "covered_area_m2": after["covered_area_m2"] - before["covered_area_m2"],
    }
    out["covered_area_ha"] = float(m2_to_ha(out["covered_area_m2"]))
    out["covered_area_mu"] = float(m2_to_mu(out["covered_area_m2"]))
    if "weight_covered" in before and "weight_covered" in after:
        out["weight_covered"] = after["weight_covered"] - before["weight_covered"]
    return out


def _district_change(before: pd.DataFrame, after: pd.DataFrame) -> list[dict]:
    cols = ["district_id", "residential_area_m2", "covered_area_m2", "coverage_ratio"]
    b = pd.DataFrame(before)
    a = pd.DataFrame(after)
    if b.empty or not set(cols) <= set(b.columns) or not set(cols) <= set(a.columns):
        return []
    names = a[["district_id", "name"]] if "name" in a.columns else None
    merged = b[cols].merge(a[cols], on="district_id", how="outer", suffixes=("_before", "_after"))
    if names is not None:
        merged = merged.merge(names, on="district_id", how="left")
    merged["gain_m2"] = merged["covered_area_m2_after"].fillna(0.0) - merged[
        "covered_area_m2_before"
    ].fillna(0.0)
    order = {
        d: i for i, d in enumerate(a["district_id"].astype(str))
    }  # the districts layer's order
    merged = merged.iloc[
        np.argsort([order.get(str(d), len(order)) for d in merged["district_id"]], kind="stable")
    ]
    return jsonable.records(merged)


def _blind_spots_closed(before, after) -> dict:
    """Blind spots (uncovered residential land) that the change closed, fully or in part."""
    keys = ["residential_id", "district_id"]

    def grouped(frame):
        frame = pd.DataFrame(frame)
        if frame.empty:
            return pd.DataFrame(columns=[*keys, "area_m2", "households"])
        if "households" not in frame.columns:
            frame = frame.assign(households=0.0)
        frame = frame.assign(district_id=frame.get("district_id", ""))
        return frame.groupby(keys, as_index=False, dropna=False)[["area_m2", "households"]].sum()

    b = grouped(before.blind_spots)
    a = grouped(after.blind_spots)
    merged = b.merge(a, on=keys, how="left", suffixes=("_before", "_after"))
    merged[["area_m2_after", "households_after"]] = merged[
        ["area_m2_after", "households_after"]
    ].fillna(0.0)
    merged["closed_m2"] = merged["area_m2_before"] - merged["area_m2_after"]
    merged["closed_households"] = merged["households_before"] - merged["households_after"]
    merged["fully_closed"] = merged["area_m2_after"] <= 0.01
    closed = merged[merged["closed_m2"] > 0.01].sort_values("closed_m2", ascending=False)
    # blind spots the change opened (park removals)
    opened = a.merge(b, on=keys, how="left", suffixes=("_after", "_before")).fillna(
        {"area_m2_before": 0.0}
    )
    opened_area = float((opened["area_m2_after"] - opened["area_m2_before"]).clip(lower=0).sum())
    return {
        "closed_count": len(closed),
        "fully_closed_count": int(closed["fully_closed"].sum()),
        "closed_area_m2": float(closed["closed_m2"].sum()),
        "closed_households": float(closed["closed_households"].sum()),
        "opened_area_m2": opened_area,
        "blind_area_before_m2": float(b["area_m2"].sum()),
        "blind_area_after_m2": float(a["area_m2"].sum()),
        "rows": jsonable.records(
            closed[
                [
                    *keys,
                    "area_m2_before",
                    "area_m2_after",
                    "closed_m2",
                    "closed_households",
                    "fully_closed",
                ]
            ]
        ),
    }


def _park_rows(
    table: pd.DataFrame, ids: Sequence[str], engine: IncrementalCoverage, sources: dict
) -> list[dict]:
    table = pd.DataFrame(table)
    table = table[table["park_id"].astype(str).isin(list(ids))]
    rows = []
    for record in jsonable.records(table):
        pid = str(record["park_id"])
        gain, gain_weight = engine.unique_gain(pid)
        record.update(
            {
                "unique_gain_m2": gain,
                "unique_gain_ha": float(m2_to_ha(gain)),
                "unique_gain_mu": float(m2_to_mu(gain)),
                "unique_gain_weight": jsonable.plain(gain_weight),
                "source": sources.get(pid, ""),
            }
        )
        rows.append(record)
    return rows


def _adds_nothing(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        if row.get("qualifies") and row["unique_gain_m2"] > 0.01:
            continue
        if not row.get("qualifies"):
            code = "not_counted"
            reason = f"does not count under the rule set: {row.get('reason') or 'no tier matches'}"
        else:
            code = "no_new_land"
            reason = (
                "its service area reaches no residential land that other parks do not already cover"
            )
        out.append(
            {
                "park_id": row["park_id"],
                "name": row.get("name", ""),
                "park_area_m2": row.get("park_area_m2"),
                "code": code,
                "rule_reason": row.get("reason") or "",
                "reason": reason,
            }
        )
    return out


def _incremental_check(before, after, merge: _Merge) -> dict:
    """Update the before state incrementally and compare with the full after computation."""
    start = time.perf_counter()
    engine = IncrementalCoverage.from_result(before.buffer)
    seeded = time.perf_counter()
    affected = 0
    if merge.removed:
        affected += engine.remove_parks(merge.removed).affected_pieces
    if len(merge.added):
        affected += engine.add_parks(merge.added).affected_pieces
    done = time.perf_counter()
    full = after.buffer.covered_area_m2
    diff = abs(engine.covered_area_m2 - full)
    scale = max(abs(full), 1.0)
    return {
        "covered_area_m2_incremental": engine.covered_area_m2,
        "covered_area_m2_full": full,
        "relative_difference": diff / scale,
        "agrees": diff / scale <= 1e-9,
        "affected_pieces": affected,
        "seconds_update": done - seeded,
        "seconds_seed": seeded - start,
    }


# -- storing --------------------------------------------------------------------------


#: Result layers named like input layers get a ``coverage_`` prefix in the project store.
_RESULT_NAMES = {
    "districts": "coverage_districts",
    "parks": "coverage_parks",
    "summary": "coverage_summary",
}


def _result_layers(ind) -> dict[str, pd.DataFrame]:
    from gisrenew import coverage

    layers: dict[str, pd.DataFrame] = {
        _RESULT_NAMES.get(name, name): frame
        for name, frame in coverage.coverage_layers(ind.buffer).items()
    }
    if ind.network is not None:
        layers.update(coverage.coverage_layers(ind.network, prefix="network_"))
    if ind.plans is not None and ind.plans.effects is not None:
        layers["plan_effects"] = ind.plans.effects
    return layers


def _write(tx, name: str, frame) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        tx.write_layer(name, frame)
    else:
        tx.write_table(name, pd.DataFrame(frame))


def _json(value) -> str:
    return jsonable.dumps(value, sort_keys=True)




def _history_row(report: dict, run_id: int) -> pd.DataFrame:
    buffer = report["indicators"]["buffer"]
    network = report["indicators"].get("network")
    row = {
        "run_id": run_id,
        "time_utc": report["time_utc"],
        "command": "recompute",
        "gisrenew_version": report["gisrenew_version"],
        "rules_name": report["rules"]["name"],
        "rules_version": report["rules"]["version"],
        "inputs": _json(report["inputs"]),
        "added_parks": _json([p["park_id"] for p in report["added"]]),
        "removed_parks": _json([p["park_id"] for p in report["removed"]]),
        "ratio_before": buffer["before"]["coverage_ratio"],
        "ratio_after": buffer["after"]["coverage_ratio"],
        "covered_before_m2": buffer["before"]["covered_area_m2"],
        "covered_after_m2": buffer["after"]["covered_area_m2"],
        "residential_area_m2": buffer["after"]["residential_area_m2"],
        "network_ratio_before": network["before"]["coverage_ratio"] if network else math.nan,
        "network_ratio_after": network["after"]["coverage_ratio"] if network else math.nan,
        "figures": _json(
            {
                "indicators": report["indicators"],
                "districts": report["districts"],
                "blind_spots_closed": {
                    k: v for k, v in report["blind_spots_closed"].items() if k != "rows"
                },
                "new_parks": [
                    {
                        k: p.get(k)
                        for k in (
                            "park_id",
                            "qualifies",
                            "reason",
                            "unique_gain_m2",
                            "unique_gain_weight",
                        )
                    }
                    for p in report["added"]
                ],
            }
        ),
    }
    frame = pd.DataFrame([row])
    for col in ("ratio_before", "ratio_after", "covered_before_m2", "covered_after_m2",
                "residential_area_m2", "network_ratio_before", "network_ratio_after"):  # fmt: skip
        frame[col] = frame[col].astype(float)
    frame["run_id"] = frame["run_id"].astype(np.int64)
    return frame


def read_history(project) -> pd.DataFrame:
    """The project's run history (one row per recompute), oldest first.

    Parameters
    ----------
    project : Project or path
        The project (folder).

    Returns
    -------
    pandas.DataFrame
        ``run_id``, ``time_utc``, ``command``, ``rules_name``, ``rules_version``,
        ``inputs`` (JSON: source, SHA-256, features), ``added_parks``,
        ``removed_parks``, ``ratio_before``, ``ratio_after``, areas, ``figures`` (JSON);
        empty when no run was recorded.
    """
    project = _as_project(project)
    table = project.read_table(HISTORY_TABLE)
    if table is None:
        columns = ["run_id", "time_utc", "command", "rules_name", "rules_version", "inputs"]
        columns += ["added_parks", "removed_parks", "ratio_before", "ratio_after"]
        return pd.DataFrame(columns=columns)
    if "run_id" not in table.columns:
        return table
    order = pd.to_numeric(table["run_id"], errors="coerce").to_numpy(dtype=float)
    return table.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)  # junk ids last


def next_run_id(history: pd.DataFrame | None) -> int:
    """The number of the next run: one more than the largest run id recorded.

    Ids that are not whole numbers ≥ 1 (a hand-edited or damaged ``run_history``) are
    skipped with a warning; without any usable id the run is numbered after the rows.
    """
    if history is None or history.empty:
        return 1
    ids = np.array([], dtype=float)
    if "run_id" in history.columns:
        ids = pd.to_numeric(history["run_id"], errors="coerce").to_numpy(dtype=float)
    usable = ids[np.isfinite(ids) & (ids >= 1) & (ids == np.floor(ids))]
    if len(usable) < len(history):
        log.warning(
            "%s: %d row(s) without a usable run_id (a whole number); numbering this run after "
            "the others",
            HISTORY_TABLE,
            len(history) - len(usable),
        )
    return int(usable.max()) + 1 if len(usable) else len(history) + 1


def _as_project(project):
    from gisrenew.project import Project

    if isinstance(project, Project):
        return project
    return Project.open(project)


# -- the run --------------------------------------------------------------------------


def recompute(
    project,
    *,
    add_parks: Sequence = (),
    remove_parks: Sequence[str] = (),
    rules: RuleSet | str | None = None,
    weight: str | None = None,
    publish: bool = False,
    out_dir: str | os.PathLike | None = None,
    timeout_s: float = 0.0,
    progress: bool = False,
    now: _dt.datetime | None = None,
) -> dict:
    """Add/remove parks and recompute every indicator of a project, safely.

    Parameters
    ----------
    project : Project or path
        The project to change.
    add_parks : sequence of path or GeoDataFrame
        New parks (e.g. this year's pocket parks 口袋公园). Parks already in the project
        — same geometry, or the same explicit ``park_id`` and geometry — are skipped
        and reported; files without a ``park_id`` column get ids ``<file stem>-<row>``.
    remove_parks : sequence of str
        Ids of parks that closed; removals apply before additions, so a park can be
        replaced (same id, new geometry) in one run.
    rules : RuleSet or str, optional
        Rule set; default the project's.
    weight : str, optional
        Residential weight column; default from ``[batch]``/``[coverage]`` settings,
        else ``households`` when the residential layer has any.
    publish : bool
        Re-publish the web maps (:func:`gisrenew.webmap.publish_site`) after the update.
    out_dir : path, optional
        Folder for the published maps (default ``<project>/maps``).
    timeout_s : float
        Seconds to wait for another run holding the project lock; 0 refuses at once
        with a :class:`~gisrenew.errors.LockError`.
    now : datetime, optional
        Time recorded in the run history (UTC; default: now).

    Returns
    -------
    dict
        The before/after report (JSON-ready; as text:
        :func:`gisrenew.present.format_recompute_report`). ``changed`` is
        False when nothing changed — then the project is left byte for byte as it was.

    Notes
    -----
    The parks layer, every result layer and the ``run_history`` row are written in
    ONE :meth:`Project.transaction`, which holds the project lock from the first read
    to the commit: a killed run leaves the project exactly as before or as after, and
    two runs are never interleaved.
    """
    from gisrenew import __version__

    project = _as_project(project)
    if publish:  # a bad site folder is refused before the project changes
        check_folder(Path(out_dir) if out_dir is not None else project.folder / "maps")
    now = now or _dt.datetime.now(_dt.UTC)
    incoming = _read_incoming(project, list(add_parks))
    inputs = [
        {"source": item.label, "sha256": item.sha256, "features": len(item.frame)}
        for item in incoming
    ]
    purpose = "recompute: " + ", ".join(
        [f"add {len(item.frame)} park(s) from {item.label}" for item in incoming]
        + ([f"remove {', '.join(map(str, remove_parks))}"] if remove_parks else [])
    )
    report: dict[str, Any] = {}
    try:
        with project.transaction(timeout_s=timeout_s, purpose=purpose) as tx:
            current = _fresh(project)
            ctx = _project_inputs(current, rules, weight)
            parks_before = ctx.layer("parks")
            merge = _merge_parks(parks_before, incoming, remove_parks)
            _checkpoint("loaded")
            if not merge.changed:
                report = _noop_report(current, ctx, merge, inputs, now, __version__)
                raise _NoChange
            before = _indicators(ctx, parks_before, stored=False, progress=progress)
            after = _indicators(ctx, merge.parks, progress=progress)
            _checkpoint("computed")
            run_id = next_run_id(tx.read_table(HISTORY_TABLE))
            report = _build_report(
                current, ctx, merge, before, after, inputs, now, run_id, __version__
            )
            _checkpoint("tx-begin")
            tx.write_layer("parks", merge.parks)
            _checkpoint("tx-parks")
            layers = _result_layers(after)
            for name, frame in layers.items():
                _write(tx, name, frame)
            report["layers_written"] = ["parks", *layers]
            _checkpoint("tx-results")
            tx.append_table(HISTORY_TABLE, _history_row(report, run_id))
            _checkpoint("tx-history")
    except _NoChange:
        log.info("%s", report["message"])
        return report
    _checkpoint("committed")
    log.info("project %s: run %s recorded", project.folder, report["run_id"])
    if publish:
        try:
            report["published"] = _publish(project, out_dir, before, merge, report)
        except Exception as exc:  # the project is already updated: never fail here
            # the maps are derived output; they can be published again later
            log.warning("maps not published: %s", exc, exc_info=not isinstance(exc, GisrenewError))
            report["warnings"].append(
                f"maps not published: {exc} (run `gisrenew publish` to retry)"
            )
    return report


def _fresh(project):
    """The project as it stands on disk now (under the lock), without cached layers."""
    from gisrenew.project import Project

    return Project.open(project.folder)


def _base_report(project, ctx: ProjectInputs, merge: _Merge, inputs, now, version) -> dict:
    return {
        "project": str(project.folder),
        "time_utc": now.astimezone(_dt.UTC).isoformat(timespec="seconds"),
        "gisrenew_version": version,
        "rules": {"name": ctx.rules.name, "version": ctx.rules.version, "title": ctx.rules.title},
        "weight_column": ctx.weight,
        "inputs": inputs,
        "skipped": merge.skipped,
        "published": [],
        "layers_written": [],
        "warnings": [],
    }


def _noop_report(project, ctx, merge, inputs, now, version) -> dict:
    report = _base_report(project, ctx, merge, inputs, now, version)
    reasons = "; ".join(f"{s['park_id']}: {s['reason']}" for s in merge.skipped[:10])
    if len(merge.skipped) > 10:
        reasons += f"; … (+{len(merge.skipped) - 10})"
    report.update(
        {
            "changed": False,
            "run_id": None,
            "message": "nothing changed — the project was left exactly as it was"
            + (f": {reasons}" if reasons else ""),
            "added": [],
            "removed": [],
        }
    )
    return report


def _build_report(project, ctx, merge, before, after, inputs, now, run_id, version) -> dict:
    report = _base_report(project, ctx, merge, inputs, now, version)
    after_engine = IncrementalCoverage.from_result(after.buffer)
    before_engine = IncrementalCoverage.from_result(before.buffer)
    added = _park_rows(
        after.buffer.parks,
        list(merge.added["park_id"].astype(str)),
        after_engine,
        merge.added_sources,
    )
    removed = _park_rows(before.buffer.parks, merge.removed, before_engine, {})
    for row in removed:  # for a removed park, its unique contribution is what was lost
        row["lost_m2"] = row.pop("unique_gain_m2")
        row["lost_weight"] = row.pop("unique_gain_weight")
        row.pop("unique_gain_ha", None)
        row.pop("unique_gain_mu", None)
    indicators = {
        "buffer": {
            "method": "buffer",
            "before": _result_figures(before.buffer),
            "after": _result_figures(after.buffer),
        }
    }
    indicators["buffer"]["change"] = _change(
        indicators["buffer"]["before"], indicators["buffer"]["after"]
    )
    if before.network is not None and after.network is not None:
        indicators["network"] = {
            "method": "network",
            "before": _result_figures(before.network),
            "after": _result_figures(after.network),
        }
        indicators["network"]["change"] = _change(
            indicators["network"]["before"], indicators["network"]["after"]
        )
    n_added, n_removed = len(added), len(removed)
    message = f"run {run_id}: {n_added} park(s) added, {n_removed} removed"
    if merge.skipped:
        message += f", {len(merge.skipped)} skipped"
    report.update(
        {
            "changed": True,
            "run_id": run_id,
            "message": message,
            "added": added,
            "removed": removed,
            "indicators": indicators,
            "districts": _district_change(before.buffer.districts, after.buffer.districts),
            "blind_spots_closed": _blind_spots_closed(before.buffer, after.buffer),
            "adds_nothing": _adds_nothing(added),
            "plans": _plan_summary(after.plans.effects if after.plans else None),
            "incremental_check": _incremental_check(before, after, merge),
        }
    )
    return report


def _plan_summary(after):
    if after is None:
        return None
    frame = pd.DataFrame(after)
    if isinstance(after, gpd.GeoDataFrame):
        frame = pd.DataFrame(after.drop(columns=after.geometry.name))
    return jsonable.records(frame)


def _publish(project, out_dir, before, merge: _Merge, report: dict) -> list[str]:
    """Re-publish the project's map site, with the before/after map of this change."""
    from gisrenew.webmap.publish import publish_site

    out = Path(out_dir) if out_dir is not None else project.folder / "maps"
    contributions = pd.DataFrame(
        {
            "park_id": pd.Series([p["park_id"] for p in report["added"]], dtype="str"),
            "unique_covered_m2": pd.Series(
                [p["unique_gain_m2"] for p in report["added"]], dtype=float
            ),
        }
    )
    written = publish_site(
        _fresh(project),
        out,
        before=before.buffer,
        new_parks=merge.added if len(merge.added) else None,
        contributions=contributions,
    )
    return [str(p) for p in written]


def run_demo_recompute(project, new_parks_path, out_dir=None, *, publish: bool = True) -> dict:
    """Add the sample city's new pocket parks to `project` and return the report (for the demo).

    Parameters
    ----------
    project : Project or path
        A project (a copy of the sample city: this changes it).
    new_parks_path : path
        File of new parks (e.g. ``data/geo/taicang_sample/new_pocket_parks.gpkg``).
    out_dir : path, optional
        Folder for the re-published maps.
    publish : bool
        Re-publish the maps.
    """
    return recompute(project, add_parks=[new_parks_path], publish=publish, out_dir=out_dir)
