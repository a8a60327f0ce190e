"""The before/after report of a recompute, and the change it hands to the maps.

The report is JSON-ready (``gisrenew recompute --json``, the run history) and holds
only figures the engines computed: the ratio and areas before and after (both methods),
per district, the blind spots closed and opened (:func:`gisrenew.coverage.closed_blind_spots`),
each new park's own gain and each closed park's loss (the incremental engine's unique
gain), the parks that add nothing and why, the plans' coverage effects, and the
incremental update's own figures (with ``--verify``: checked against a computation
from scratch, :func:`verify_incremental`).
Text for people is made from it by :func:`gisrenew.present.format_recompute_report`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gisrenew import coverage, jsonable
from gisrenew.coverage import IncrementalCoverage, coverage_figures
from gisrenew.errors import AnalysisError
from gisrenew.indicators import Indicators, compute_indicators
from gisrenew.inputs import ProjectInputs
from gisrenew.recompute.merge import ParkMerge
from gisrenew.results import CoverageChange, CoverageResult
from gisrenew.units import m2_to_ha, m2_to_mu

__all__ = ["build_report", "coverage_change", "unchanged_report", "verify_incremental"]

#: A park whose own gain is below this (m²) adds nothing.
NO_GAIN_M2 = 0.01

#: The incremental update agrees with the full computation to this relative difference.
AGREEMENT = 1e-9


def _figures(result: CoverageResult) -> dict:
    return coverage_figures(
        result.covered_area_m2, result.residential_area_m2, result.weight_covered,
        result.weight_total,
    )  # fmt: skip


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


def _method_figures(method: str, before: CoverageResult, after: CoverageResult) -> dict:
    b, a = _figures(before), _figures(after)
    return {"method": method, "before": b, "after": a, "change": _change(b, a)}


def _indicator_figures(before: Indicators, after: Indicators) -> dict:
    out = {"buffer": _method_figures("buffer", before.buffer, after.buffer)}
    if before.network is not None and after.network is not None:
        out["network"] = _method_figures("network", before.network, after.network)
        out["network"]["walk"] = after.network.walk()  # the distance the walk used
    return out


def _district_change(before: pd.DataFrame, after: pd.DataFrame) -> list[dict]:
    cols = ["district_id", "residential_area_m2", "covered_area_m2", "coverage_ratio"]
    b, a = pd.DataFrame(before), pd.DataFrame(after)
    if b.empty or not set(cols) <= set(b.columns) or not set(cols) <= set(a.columns):
        return []
    merged = b[cols].merge(a[cols], on="district_id", how="outer", suffixes=("_before", "_after"))
    if "name" in a.columns:
        merged = merged.merge(a[["district_id", "name"]], on="district_id", how="left")
    after_m2 = merged["covered_area_m2_after"].fillna(0.0)
    merged["gain_m2"] = after_m2 - merged["covered_area_m2_before"].fillna(0.0)
    order = {d: i for i, d in enumerate(a["district_id"].astype(str))}  # the layer's order
    position = [order.get(str(d), len(order)) for d in merged["district_id"]]
    return jsonable.records(merged.iloc[np.argsort(position, kind="stable")])


def _blind_area(result: CoverageResult) -> float:
    spots = result.blind_spots
    return float(spots["area_m2"].sum()) if spots is not None and len(spots) else 0.0


def _names(ids, table: pd.DataFrame | None, id_column: str) -> list:
    """The ``name`` of each id in `table` (``""`` where the table has none)."""
    ids = pd.Series(ids, dtype=object).astype(str)
    if table is None or "name" not in table.columns or id_column not in table.columns:
        return [""] * len(ids)
    names = pd.Series(table["name"].to_numpy(dtype=object), index=table[id_column].astype(str))
    names = names[~names.index.duplicated()]
    return ids.map(names).astype(object).where(lambda v: v.notna(), "").tolist()


def _blind_spot_change(change: CoverageChange) -> dict:
    """Blind spots the change closed (fully or in part) and opened, from the engine."""
    closed = change.closed_blind_spots.sort_values("area_m2", ascending=False, kind="stable")
    opened = change.opened_blind_spots
    after = change.after
    rows = pd.DataFrame(
        {
            "residential_id": closed["residential_id"].to_numpy(dtype=object),
            "name": _names(closed["residential_id"], after.residential, "residential_id"),
            "district_id": closed["district_id"].to_numpy(dtype=object),
            "district_name": _names(closed["district_id"], after.districts, "district_id"),
            "area_m2_before": closed["blind_before_m2"].to_numpy(dtype=float),
            "area_m2_after": closed["blind_after_m2"].to_numpy(dtype=float),
            "closed_m2": closed["area_m2"].to_numpy(dtype=float),
            "closed_households": closed["households"].to_numpy(dtype=float),
            "fully_closed": closed["fully_closed"].to_numpy(dtype=bool),
        }
    )
    return {
        "closed_count": len(closed),
        "fully_closed_count": int(closed["fully_closed"].sum()),
        "closed_area_m2": float(closed["area_m2"].sum()),
        "closed_households": float(closed["households"].sum()),
        "opened_area_m2": float(opened["area_m2"].sum()),
        "opened_households": float(opened["households"].sum()),
        "blind_area_before_m2": _blind_area(change.before),
        "blind_area_after_m2": _blind_area(change.after),
        "rows": jsonable.records(rows),
    }


def _park_rows(
    table: pd.DataFrame, ids: Sequence[str], gains: dict[str, tuple[float, float]], sources: dict
) -> list[dict]:
    """The parks table rows of `ids`, each with its unique gain (the land only it covers)."""
    table = pd.DataFrame(table)
    rows = []
    for record in jsonable.records(table[table["park_id"].astype(str).isin(list(ids))]):
        pid = str(record["park_id"])
        gain, gain_weight = gains[pid]
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


def _removed_rows(before: Indicators, merge: ParkMerge, losses: dict) -> list[dict]:
    """The closed parks, each with the coverage it alone provided (what was lost)."""
    rows = _park_rows(before.buffer.parks, merge.removed, losses, {})
    for row in rows:
        row["lost_m2"] = row.pop("unique_gain_m2")
        row["lost_weight"] = row.pop("unique_gain_weight")
        row.pop("unique_gain_ha", None)
        row.pop("unique_gain_mu", None)
    return rows


def _adds_nothing(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        if row.get("qualifies") and row["unique_gain_m2"] > NO_GAIN_M2:
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


def _piece_difference(after: CoverageResult, full: CoverageResult) -> float:
    """Largest difference of a piece's covered area, relative to the city's residential area."""
    mine = after.residential["covered_m2"].to_numpy(dtype=float)
    theirs = full.residential["covered_m2"].to_numpy(dtype=float)
    if mine.shape != theirs.shape:
        return float("inf")
    scale = max(abs(full.residential_area_m2), 1.0)
    return float(np.abs(mine - theirs).max() / scale) if len(mine) else 0.0


def verify_incremental(after: Indicators) -> dict:
    """Straight-line coverage after the change from scratch, against the incremental update.

    Compares the city's covered area, every piece's covered area and the covered weight.

    Returns
    -------
    dict
        ``verified`` (True), ``covered_area_m2_full``, ``relative_difference``,
        ``piece_difference``, ``agrees``.

    Raises
    ------
    AnalysisError
        When they differ by more than :data:`AGREEMENT` (relative): a fault of gisrenew;
        the project is then left unchanged.
    """
    full = compute_indicators(after.inputs, methods=("buffer",), plans=False).buffer
    mine = after.buffer
    difference = abs(mine.covered_area_m2 - full.covered_area_m2) / max(
        abs(full.covered_area_m2), 1.0
    )
    pieces = _piece_difference(mine, full)
    weight = abs(np.nan_to_num(mine.weight_covered) - np.nan_to_num(full.weight_covered))
    weight /= max(abs(np.nan_to_num(full.weight_total)), 1.0)
    agrees = max(difference, pieces, weight) <= AGREEMENT
    if not agrees:
        raise AnalysisError(
            f"the incremental update of the coverage differs from a computation from scratch "
            f"(covered area {mine.covered_area_m2:.6f} m² against {full.covered_area_m2:.6f} m², "
            f"largest piece difference {pieces:.3g} of the residential area); the project was "
            "left unchanged. This is a fault of gisrenew: please report it with the project. "
            "Fix for now: make the project again with `gisrenew init --force`."
        )
    return {
        "verified": True,
        "covered_area_m2_full": full.covered_area_m2,
        "relative_difference": difference,
        "piece_difference": pieces,
        "agrees": agrees,
    }


def _plan_effects(after: Indicators) -> list[dict] | None:
    effects = after.plans.effects if after.plans is not None else None
    if effects is None:
        return None
    frame = pd.DataFrame(effects)
    if isinstance(effects, gpd.GeoDataFrame):
        frame = pd.DataFrame(effects.drop(columns=effects.geometry.name))
    return jsonable.records(frame)


def _base_report(inputs: ProjectInputs, merge: ParkMerge, sources, now, version) -> dict:
    rules = inputs.rules
    return {
        "project": str(inputs.project.folder) if inputs.project is not None else "",
        "time_utc": now.astimezone(_dt.UTC).isoformat(timespec="seconds"),
        "gisrenew_version": version,
        "rules": {"name": rules.name, "version": rules.version, "title": rules.title},
        "weight_column": inputs.weight,
        "inputs": sources,
        "skipped": merge.skipped,
        "published": [],
        "layers_written": [],
        "warnings": [],
    }


def unchanged_report(inputs: ProjectInputs, merge: ParkMerge, sources, now, version) -> dict:
    """The report of a run that changed nothing (every park already there, ids unknown)."""
    report = _base_report(inputs, merge, sources, now, version)
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


def _piece_keys(frame: pd.DataFrame) -> pd.Series:
    """A residential piece's key: its residential and district ids."""
    return frame["residential_id"].astype(str) + "\x1f" + frame["district_id"].astype(str)


def _near_change(before: CoverageResult, after: CoverageResult, engine: IncrementalCoverage):
    """Both results with only the blind spots of the pieces the engine recomputed.

    The blind spots of every other piece are the same before and after, so they close
    and open nothing: leaving them out changes no closed or opened land.
    """
    touched = set(_piece_keys(engine.land).iloc[engine.touched()])

    def near(result: CoverageResult) -> CoverageResult:
        spots = result.blind_spots
        keep = _piece_keys(spots).isin(touched).to_numpy()
        return dataclasses.replace(result, blind_spots=spots[keep])

    return near(before), near(after)


def coverage_change(
    before: Indicators,
    after: Indicators,
    merge: ParkMerge,
    run_id: int | None,
    now: _dt.datetime | None = None,
    engine: IncrementalCoverage | None = None,
) -> CoverageChange:
    """What the change did to straight-line coverage, for the maps and the report.

    The change carries the parks before it (``parks_before``) and the time of the run
    (``time_utc``, from `now`), so its map can be drawn again from the project later.
    `engine` is the incremental engine that made `after` from `before` (its recomputed
    pieces bound the blind spots compared); without it one is seeded from `after` and
    every blind spot is compared.
    """
    engine = IncrementalCoverage.from_result(after.buffer) if engine is None else engine
    ids = merge.added["park_id"].astype(str).tolist()
    gains = engine.contributions(ids)
    park_gains = pd.DataFrame(
        {
            "park_id": pd.Series(ids, dtype="str"),
            "unique_covered_m2": gains["unique_m2"].to_numpy(dtype=float),
            "unique_weight": gains["unique_weight"].to_numpy(dtype=float)
            if engine.has_weight
            else np.full(len(ids), np.nan),
        }
    )
    near_before, near_after = _near_change(before.buffer, after.buffer, engine)
    return CoverageChange(
        before=before.buffer,
        after=after.buffer,
        added_parks=merge.added,
        removed_park_ids=tuple(merge.removed),
        park_gains=park_gains,
        closed_blind_spots=coverage.closed_blind_spots(near_before, near_after),
        opened_blind_spots=coverage.opened_blind_spots(near_before, near_after),
        run_id=run_id,
        parks_before=before.inputs.layer("parks"),
        time_utc=None if now is None else now.astimezone(_dt.UTC).isoformat(timespec="seconds"),
    )


def build_report(
    inputs: ProjectInputs,
    merge: ParkMerge,
    before: Indicators,
    after: Indicators,
    change: CoverageChange,
    *,
    sources: list[dict[str, Any]],
    now: _dt.datetime,
    version: str,
    losses: dict[str, tuple[float, float]],
    check: dict[str, Any],
) -> dict:
    """The before/after report of a run that changed the parks (see module docs).

    `losses` holds each closed park's unique coverage before the change, `check` the
    incremental update's figures (:func:`verify_incremental` adds the check).
    """
    report = _base_report(inputs, merge, sources, now, version)
    gains = change.park_gains
    lookup = dict(
        zip(
            gains["park_id"],
            zip(gains["unique_covered_m2"], gains["unique_weight"], strict=True),
            strict=True,
        )
    )
    added = _park_rows(after.buffer.parks, list(lookup), lookup, merge.added_sources)
    removed = _removed_rows(before, merge, losses)
    message = f"run {change.run_id}: {len(added)} park(s) added, {len(removed)} removed"
    if merge.skipped:
        message += f", {len(merge.skipped)} skipped"
    report.update(
        {
            "changed": True,
            "run_id": change.run_id,
            "message": message,
            "added": added,
            "removed": removed,
            "indicators": _indicator_figures(before, after),
            "districts": _district_change(before.buffer.districts, after.buffer.districts),
            "blind_spots_closed": _blind_spot_change(change),
            "adds_nothing": _adds_nothing(added),
            "plans": _plan_effects(after),
            "greenspace": None if after.greenspace is None else after.greenspace.to_dict(),
            "incremental_check": dict(check),
        }
    )
    return report
