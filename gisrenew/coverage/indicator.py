"""The indicator 公园绿地服务半径覆盖率: ratio, district table, blind spots, park contribution.

::

    coverage = residential land inside the built-up area within a qualifying park's
               service radius / all residential land inside the built-up area

:func:`compute_coverage` assembles the parks (:mod:`~gisrenew.coverage.parks`), the
residential denominator and its overlay (:mod:`~gisrenew.coverage.land`) into a
:class:`~gisrenew.results.CoverageResult`; :func:`summarize_coverage` gives other
engines (the walking network) the same tables. The covered weight of a piece is its
weight times its covered share.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd

from gisrenew import crs as crs_rules
from gisrenew.coverage.blind_spots import blind_spot_table
from gisrenew.coverage.columns import area_columns, float_column
from gisrenew.coverage.incremental import IncrementalCoverage
from gisrenew.coverage.land import land_and_overlay, rules_and_codes
from gisrenew.coverage.overlay import ReachIndex
from gisrenew.coverage.parks import BUFFER_QUAD_SEGS, service_area_frame, tier_table
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed
from gisrenew.results import INDICATOR_NAMES, CoverageResult
from gisrenew.rules import RuleSet

__all__ = [
    "PIECE_RESULT_COLUMNS",
    "comparison_dict",
    "compute_coverage",
    "coverage_layers",
    "district_table",
    "park_contribution",
    "summarize_coverage",
    "updated_coverage",
]

log = logging.getLogger(__name__)


def district_table(land: pd.DataFrame, districts: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Coverage per district 区/镇/街道 from per-piece results.

    Parameters
    ----------
    land : pandas.DataFrame
        Residential pieces with ``district_id``, ``area_m2``, ``covered_m2`` and, for
        weights, ``weight`` and ``covered_weight``.
    districts : geopandas.GeoDataFrame, optional
        The districts layer: gives names and the row order, and lists districts without
        residential land too.

    Returns
    -------
    pandas.DataFrame
        ``district_id``, ``name``, ``residential_area_m2/_ha/_mu``,
        ``covered_area_m2/_ha/_mu``, ``coverage_ratio`` and, with weights,
        ``weight_total``, ``weight_covered``, ``weighted_ratio``. Empty when there is no
        district information at all. Land outside every district has ``district_id`` "".
    """
    ids = land["district_id"].astype(str)
    distinct = set(pd.unique(ids).tolist())
    weighted = "covered_weight" in land.columns and not np.isnan(float_column(land, "weight")).all()
    known = [] if districts is None else list(districts["district_id"].astype(str))
    names = (
        {} if districts is None else dict(zip(known, districts["name"].astype(str), strict=False))
    )
    present = sorted(distinct - set(known) - {""})
    order = known + present + ([""] if "" in distinct and (known or present) else [])
    columns = [
        "district_id",
        "name",
        *area_columns("residential_area", []),
        *area_columns("covered_area", []),
        "coverage_ratio",
    ]
    if weighted:
        columns += ["weight_total", "weight_covered", "weighted_ratio"]
    if not order:
        return pd.DataFrame(
            {
                c: pd.Series([], dtype=object if c in ("district_id", "name") else float)
                for c in columns
            }
        )
    code = pd.Index(order).get_indexer(ids.to_numpy(dtype=object))
    m = len(order)
    area = np.bincount(code, land["area_m2"].to_numpy(dtype=float), minlength=m)
    covered = np.bincount(code, land["covered_m2"].to_numpy(dtype=float), minlength=m)
    table = {
        "district_id": np.asarray(order, dtype=object),
        "name": np.asarray(
            [names.get(d, d) if d else "(outside districts)" for d in order], dtype=object
        ),
        **area_columns("residential_area", area),
        **area_columns("covered_area", covered),
        "coverage_ratio": np.divide(covered, area, out=np.full(m, np.nan), where=area > 0),
    }
    if weighted:
        total = np.bincount(code, float_column(land, "weight"), minlength=m)
        cw = np.bincount(code, land["covered_weight"].to_numpy(dtype=float), minlength=m)
        table["weight_total"] = total
        table["weight_covered"] = cw
        table["weighted_ratio"] = np.divide(cw, total, out=np.full(m, np.nan), where=total > 0)
    return pd.DataFrame(table)


def summarize_coverage(
    land: gpd.GeoDataFrame,
    covered_m2,
    *,
    method: str,
    rules: RuleSet,
    parks: pd.DataFrame,
    service_areas: gpd.GeoDataFrame,
    uncovered=None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    parameters: dict | None = None,
    copy: bool = True,
) -> CoverageResult:
    """Assemble a :class:`~gisrenew.results.CoverageResult` from per-piece covered areas.

    Used by :func:`compute_coverage` and by other engines (e.g. the walking-network
    method) so that every result has the same tables.

    Parameters
    ----------
    land : geopandas.GeoDataFrame
        Pieces from :func:`residential_land` (any extra columns are kept).
    covered_m2 : array-like of float
        Covered area per piece.
    uncovered : array-like of geometries, optional
        Uncovered part of each piece (``None`` where none) for the blind spots; without
        it only wholly uncovered pieces become blind spots.
    copy : bool, default True
        False when `land` is the caller's own new frame: it becomes the per-piece table
        itself (columns are added to it, not to a copy).
    """
    area = land["area_m2"].to_numpy(dtype=float)
    covered = np.clip(np.asarray(covered_m2, dtype=float), 0.0, area)
    if uncovered is None:
        uncovered = np.where(covered <= 0, geometry_array(land), None)
    share = np.divide(covered, area, out=np.zeros(len(area)), where=area > 0)
    table = land.copy() if copy else land
    table["covered_m2"] = covered
    table["uncovered_m2"] = area - covered
    table["covered_share"] = share
    weight_values = float_column(land, "weight")
    table["covered_weight"] = weight_values * share
    districts_tab = district_table(table, districts)
    if weight is not None:
        weight_total = float(weight_values.sum())
        weight_covered = float((weight_values * share).sum())
    else:
        weight_total = weight_covered = math.nan
    return CoverageResult(
        method=method,
        rules=rules,
        covered_area_m2=float(covered.sum()),
        residential_area_m2=float(area.sum()),
        residential=table,
        districts=districts_tab,
        parks=parks,
        service_areas=service_areas,
        blind_spots=blind_spot_table(land, uncovered),
        weight_column=weight,
        weight_total=weight_total,
        weight_covered=weight_covered,
        parameters=dict(parameters or {}),
    )


#: Columns :func:`summarize_coverage` adds to the residential pieces (the rest is the land's).
PIECE_RESULT_COLUMNS = ("covered_m2", "uncovered_m2", "covered_share", "covered_weight")


def _piece_keys(frame: pd.DataFrame) -> pd.Index:
    """One key per piece: its residential and district ids (unique unless ids repeat)."""
    return pd.Index(
        frame["residential_id"].astype(str).to_numpy(dtype=object)
        + "\x1f"
        + frame["district_id"].astype(str).to_numpy(dtype=object)
    )


def _uncovered_after(before: CoverageResult, engine: IncrementalCoverage) -> np.ndarray:
    """Each piece's uncovered land after the engine's changes.

    Pieces the changes did not reach keep the blind spot of `before`; the others (and
    pieces whose ids repeat, so that a blind spot cannot be told apart) are overlaid
    again against the service areas near them.
    """
    keys = _piece_keys(engine.land)
    repeated = keys.duplicated(keep=False)
    redo = np.zeros(len(keys), dtype=bool)
    redo[engine.touched()] = True
    redo |= repeated
    uncovered = np.full(len(keys), None, dtype=object)
    spots = before.blind_spots
    if len(spots):
        found = keys[~repeated].get_indexer(_piece_keys(spots))
        ok = found >= 0
        uncovered[np.flatnonzero(~repeated)[found[ok]]] = geometry_array(spots)[ok]
    rows = np.flatnonzero(redo)
    uncovered[rows] = engine.uncovered(rows)
    return uncovered


def updated_coverage(
    before: CoverageResult,
    engine: IncrementalCoverage,
    parks: gpd.GeoDataFrame,
    *,
    districts: gpd.GeoDataFrame | None = None,
) -> CoverageResult:
    """The straight-line result after a change of parks, from the result before it.

    Nothing is computed city-wide: `engine` (seeded from `before` with
    :meth:`IncrementalCoverage.from_result`, then changed with ``remove_parks`` /
    ``add_parks``) holds every piece's covered area, and only the pieces it recomputed
    (:meth:`IncrementalCoverage.touched`) get new blind spots; the park table and the
    service areas are those of `parks`. Equal to :func:`compute_coverage` on the parks
    after the change (the tests check 1e-9); blind spots are numbered again in piece
    order, as a full computation numbers them.

    Parameters
    ----------
    before : CoverageResult
        The buffer result the engine was seeded from (same residential pieces).
    engine : IncrementalCoverage
        The engine after the change.
    parks : geopandas.GeoDataFrame
        Every park after the change (validated with :func:`gisrenew.io.conformed`).
    districts : geopandas.GeoDataFrame, optional
        The districts layer of `before` (names and order of the district table).

    Raises
    ------
    ValueError
        When `engine` does not hold the pieces of `before`.
    """
    if len(engine.land) != len(before.residential):
        raise ValueError("`engine` was not seeded from `before` (other residential pieces)")
    parks = conformed(parks, "parks", name="parks", crs=before.residential.crs)
    table = tier_table(parks, before.rules)
    derived = [c for c in PIECE_RESULT_COLUMNS if c in before.residential.columns]
    land = before.residential.drop(columns=derived)
    return summarize_coverage(
        land,
        engine.covered_m2,
        method=before.method,
        rules=before.rules,
        parks=table,
        service_areas=service_area_frame(parks, table),
        uncovered=_uncovered_after(before, engine),
        districts=districts,
        weight=before.weight_column,
        parameters=before.parameters,
    )


class _Progress:
    """A tqdm bar over named steps (no-op unless enabled)."""

    def __init__(self, enabled: bool, total: int):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm  # ~45 ms to import: only when a bar is asked for

            self.bar = tqdm(total=total, desc="coverage", unit="step", leave=False)

    def update(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(label)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _conformed_inputs(parks, residential, boundary, districts):
    """The four layers validated (:func:`gisrenew.io.conformed`), in the residential CRS."""
    res = conformed(residential, "residential", name="residential")
    crs_rules.ensure_metric(res, "residential")
    return (
        conformed(parks, "parks", name="parks", crs=res.crs),
        res,
        conformed(boundary, "boundary", name="boundary", crs=res.crs),
        conformed(districts, "districts", name="districts", crs=res.crs),
    )


def compute_coverage(
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    rules: RuleSet | str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    residential_codes: Sequence[str] | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> CoverageResult:
    """The park service-radius coverage ratio 公园绿地服务半径覆盖率, with its explanation.

    Parameters
    ----------
    parks : geopandas.GeoDataFrame
        Park (and plaza) polygons; reprojected to the residential CRS when in another CRS.
    residential : geopandas.GeoDataFrame
        Residential land 居住用地 in a metric CRS (geographic input is reprojected to the
        CGCS2000 Gauss-Krüger zone by :func:`gisrenew.io.conform`).
    rules : RuleSet, str or None
        Rule set (preset name, TOML path or object); default ``tijian-2021``.
    boundary : geopandas.GeoDataFrame, optional
        Built-up area 建成区: the ratio is computed inside it.
    districts : geopandas.GeoDataFrame, optional
        Districts 区/镇/街道 for the per-district table (else the residential
        ``district_id`` column).
    weight : str, optional
        Residential column with households or population: adds the covered share of it
        (assuming it is spread evenly within each polygon).
    residential_codes : sequence of str, optional
        Land-use code prefixes that count as residential (default: the rule set's, else all).
    progress : bool
        Show a progress bar (tqdm) over the steps.
    workers : int, optional
        Threads for the per-piece work: 1, or 2 (shapely releases the GIL, so two
        threads run in parallel); default: two for large inputs (≥
        :data:`~gisrenew.coverage.land.PARALLEL_MIN_PIECES` residential polygons) on a
        multi-core machine.

    Returns
    -------
    CoverageResult
        ``method="buffer"``; see :class:`gisrenew.results.CoverageResult`.

    Raises
    ------
    AnalysisError
        No residential land inside the boundary (the ratio would divide by zero).
    CRSError
        A layer without CRS, or residential land not in a metric CRS.
    """
    steps = _Progress(progress, total=2)
    rules, codes = rules_and_codes(rules, residential_codes)
    parks_c, res, boundary_c, districts_c = _conformed_inputs(
        parks, residential, boundary, districts
    )

    def parks_and_areas():
        table = tier_table(parks_c, rules)
        areas = service_area_frame(parks_c, table)
        return table, areas, ReachIndex.build(geometry_array(areas))

    # the park table and service areas are built while the residential land is prepared
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gisrenew-parks") as pool:
        parks_future = pool.submit(parks_and_areas)
        land, overlay = land_and_overlay(
            res,
            boundary=boundary_c,
            districts=districts_c,
            weight=weight,
            codes=codes,
            reach=lambda: parks_future.result()[2],
            workers=workers,
        )
        table, areas, _ = parks_future.result()
    steps.update("parks, residential land, overlay")
    if len(areas) == 0:
        log.warning("no park qualifies under %s: coverage is 0", rules.describe())
    result = summarize_coverage(
        land,
        overlay.covered,
        copy=False,
        method="buffer",
        rules=rules,
        parks=table,
        service_areas=areas,
        uncovered=overlay.uncovered(geometry_array(land)),
        districts=districts_c,
        weight=weight,
        parameters={
            "buffer_quad_segs": BUFFER_QUAD_SEGS,
            "residential_codes": list(codes) if codes else None,
            "boundary": boundary_c is not None,
            "districts": districts_c is not None,
            "overlap_rule": "overlapping residential land counted once (first polygon keeps it)",
            "weight_spread": "even within each residential polygon",
            "crs": res.crs.to_string(),
        },
    )
    steps.update("tables")
    steps.close()
    return result


def park_contribution(
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    rules: RuleSet | str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    residential_codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """What each park alone provides: the covered land lost if it closed.

    ``unique_covered_m2`` is the residential land within this park's service area and
    no other's — exactly how much the covered area would fall if the park closed (or
    stopped qualifying). A qualifying park with 0 is *redundant* for the ratio (its
    land is covered by other parks anyway). Computed for every park at once by
    :meth:`IncrementalCoverage.contributions`.

    Returns
    -------
    pandas.DataFrame
        One row per input park: ``park_id``, ``name``, ``park_class``, ``park_area_m2``,
        ``tier``, ``radius_m``, ``qualifies``, ``covered_m2/_ha/_mu`` (residential land in
        its service area, shared or not), ``unique_covered_m2/_ha/_mu``,
        ``unique_share`` (unique / covered), ``redundant`` and, with `weight`,
        ``covered_weight`` and ``unique_weight``.
    """
    rules, codes = rules_and_codes(rules, residential_codes)
    parks_c, res, boundary_c, districts_c = _conformed_inputs(
        parks, residential, boundary, districts
    )
    table = tier_table(parks_c, rules)
    areas = service_area_frame(parks_c, table)
    land, _ = land_and_overlay(
        res, boundary=boundary_c, districts=districts_c, weight=weight, codes=codes
    )
    sums = IncrementalCoverage(land, areas, rules=rules).contributions()
    pos = np.flatnonzero(table["qualifies"].to_numpy(dtype=bool))
    n = len(table)

    def spread(column: str) -> np.ndarray:
        out = np.zeros(n)
        out[pos] = sums[column].to_numpy(dtype=float)
        return out

    covered = spread("covered_m2")
    unique = spread("unique_m2")
    out = table[
        ["park_id", "name", "park_class", "park_area_m2", "tier", "radius_m", "qualifies"]
    ].copy()
    for key, value in {
        **area_columns("covered", covered),
        **area_columns("unique_covered", unique),
    }.items():
        out[key] = value
    out["unique_share"] = np.divide(unique, covered, out=np.full(n, np.nan), where=covered > 0)
    out["redundant"] = out["qualifies"].to_numpy(dtype=bool) & (unique <= 0)
    if weight is not None:
        out["covered_weight"] = spread("covered_weight")
        out["unique_weight"] = spread("unique_weight")
    return out


def comparison_dict(buffer: CoverageResult, network: CoverageResult) -> dict:
    """JSON-ready comparison: both results plus the per-district difference (network − buffer)."""
    districts = []
    net = network.districts.set_index("district_id") if len(network.districts) else None
    for rec in buffer.districts.itertuples(index=False):
        other = math.nan
        if net is not None and rec.district_id in net.index:
            other = float(net.loc[rec.district_id, "coverage_ratio"])
        districts.append(
            {
                "district_id": rec.district_id,
                "name": rec.name,
                "residential_area_m2": float(rec.residential_area_m2),
                "buffer_ratio": float(rec.coverage_ratio),
                "network_ratio": other,
                "difference": other - float(rec.coverage_ratio),
            }
        )
    return {
        "method": "both",
        "rules": buffer.rules.to_dict(),
        "residential_area_m2": buffer.residential_area_m2,
        "buffer": buffer.to_dict(),
        "network": network.to_dict(),
        "difference": {
            "coverage_ratio": network.ratio - buffer.ratio,
            "covered_area_m2": network.covered_area_m2 - buffer.covered_area_m2,
        },
        "districts": districts,
    }


def coverage_layers(result: CoverageResult, *, prefix: str = "") -> dict[str, pd.DataFrame]:
    """The layers and tables of a result, ready for :func:`gisrenew.io.write_results`.

    Keys: ``coverage_residential`` (per piece, with geometry), ``blind_spots``,
    ``service_areas``, ``districts``, ``parks`` and ``summary`` (one row).
    """
    summary = pd.DataFrame(
        {
            "indicator": [INDICATOR_NAMES["zh"]],
            "indicator_new": [INDICATOR_NAMES["zh_new"]],
            "method": [result.method],
            "rules": [result.rules.describe()],
            "coverage_ratio": [result.ratio],
            **area_columns("covered_area", [result.covered_area_m2]),
            **area_columns("residential_area", [result.residential_area_m2]),
            "weight_column": [result.weight_column or ""],
            "weighted_ratio": [result.weighted_ratio],
        }
    )
    residential = result.residential.copy()
    for key, value in area_columns("area", residential["area_m2"].to_numpy(dtype=float)).items():
        residential[key] = value
    return {
        f"{prefix}coverage_residential": residential,
        f"{prefix}blind_spots": result.blind_spots,
        f"{prefix}service_areas": result.service_areas,
        f"{prefix}districts": result.districts,
        f"{prefix}parks": result.parks,
        f"{prefix}summary": summary,
    }
