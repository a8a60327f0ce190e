"""Recompute after park changes: safe project update, before/after report, run history.

When new pocket parks (口袋公园) open or parks close, planners add them to the project
and rerun every indicator. :func:`recompute` changes a project: merges the
added/removed parks into its ``parks`` layer, recomputes every indicator the project
has, builds a before/after report (ratio, areas, districts, closed blind spots, each
new park's own gain, parks that add nothing and why) and stores everything — parks,
result layers and a ``run_history`` row — in ONE project transaction, under the
project lock. A run that is killed at any point leaves the project as before or as
after; re-adding parks that are already there (same id or same geometry) is a no-op
that says so.

The incremental engine (:class:`~gisrenew.coverage.IncrementalCoverage`) lives in
:mod:`gisrenew.coverage.incremental`.
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

from gisrenew import coverage, jsonable
from gisrenew.coverage import IncrementalCoverage, coverage_figures
from gisrenew.errors import GisrenewError, SchemaError
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import ProjectInputs, gather_inputs
from gisrenew.outfiles import check_folder
from gisrenew.rules import RuleSet
from gisrenew.units import m2_to_ha, m2_to_mu

__all__ = [
    "CHECKPOINT_ENV",
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
    return coverage_figures(
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
    """Blind spots (uncovered residential land) that the change closed, fully or in part.

    The land comes from :func:`gisrenew.coverage.closed_blind_spots` and
    :func:`~gisrenew.coverage.opened_blind_spots` (by geometry, per residential piece), as
    the before/after map shows it.
    """
    closed = coverage.closed_blind_spots(before, after)
    closed = closed.sort_values("area_m2", ascending=False, kind="stable")
    opened = coverage.opened_blind_spots(before, after)
    rows = pd.DataFrame(
        {
            "residential_id": closed["residential_id"].to_numpy(dtype=object),
            "district_id": closed["district_id"].to_numpy(dtype=object),
            "area_m2_before": closed["blind_before_m2"].to_numpy(dtype=float),
            "area_m2_after": closed["blind_after_m2"].to_numpy(dtype=float),
            "closed_m2": closed["area_m2"].to_numpy(dtype=float),
            "closed_households": closed["households"].to_numpy(dtype=float),
            "fully_closed": closed["fully_closed"].to_numpy(dtype=bool),
        }
    )

    def blind_area(result) -> float:
        spots = result.blind_spots
        return float(spots["area_m2"].sum()) if spots is not None and len(spots) else 0.0

    return {
        "closed_count": len(closed),
        "fully_closed_count": int(closed["fully_closed"].sum()),
        "closed_area_m2": float(closed["area_m2"].sum()),
        "closed_households": float(closed["households"].sum()),
        "opened_area_m2": float(opened["area_m2"].sum()),
        "opened_households": float(opened["households"].sum()),
        "blind_area_before_m2": blind_area(before),
        "blind_area_after_m2": blind_area(after),
        "rows": jsonable.records(rows),
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
            report["published"] = _publish(project, out_dir, before, after, merge, report)
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


def _publish(project, out_dir, before, after, merge: _Merge, report: dict) -> list[str]:
    """Re-publish the project's map site, with the before/after map of this change."""
    from gisrenew.results import CoverageChange
    from gisrenew.webmap.publish import publish_site

    out = Path(out_dir) if out_dir is not None else project.folder / "maps"
    added = report["added"]
    gains = pd.DataFrame(
        {
            "park_id": pd.Series([p["park_id"] for p in added], dtype="str"),
            "unique_covered_m2": pd.Series([p["unique_gain_m2"] for p in added], dtype=float),
            "unique_weight": pd.Series([p["unique_gain_weight"] for p in added], dtype=float),
        }
    )
    change = CoverageChange(
        before.buffer,
        after.buffer,
        merge.added,
        tuple(map(str, merge.removed)),
        gains,
        coverage.closed_blind_spots(before.buffer, after.buffer),
        coverage.opened_blind_spots(before.buffer, after.buffer),
        report["run_id"],
    )
    written = publish_site(after, out, change=change)
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
