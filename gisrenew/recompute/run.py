"""The recompute run: one project transaction from the first read to the commit."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from gisrenew import __version__, coverage
from gisrenew.coverage import PIECE_RESULT_COLUMNS, IncrementalCoverage
from gisrenew.geometry import geometry_array
from gisrenew.indicators import (
    Indicators,
    available_methods,
    compute_indicators,
    updated_indicators,
)
from gisrenew.inputs import ProjectInputs, gather_inputs
from gisrenew.project import Project, Transaction
from gisrenew.recompute.changes import store_change
from gisrenew.recompute.history import HISTORY_TABLE, history_row, next_run_id
from gisrenew.recompute.merge import IncomingParks, ParkMerge, merge_parks, read_incoming
from gisrenew.recompute.report import (
    build_report,
    coverage_change,
    unchanged_report,
    verify_incremental,
)
from gisrenew.recompute.state import (
    results_state,
    reusable_service_areas,
    state_check,
    stored_figures,
)
from gisrenew.recompute.stored import BUFFER_LAYERS, stored_buffer_result
from gisrenew.results import WALK_PIECE_COLUMNS, CoverageChange
from gisrenew.rules import RuleSet

__all__ = ["STEPS", "RecomputeResult", "recompute"]

log = logging.getLogger(__name__)

#: The steps a run reports to ``on_step``, in order (a run that changes nothing stops
#: after ``loaded``).
STEPS = ("loaded", "computed", "tx-begin", "tx-parks", "tx-results", "tx-history", "committed")

#: The project layers a recompute reads (candidate sites and water are not indicators).
RECOMPUTE_KINDS = (
    "parks", "residential", "boundary", "districts", "roads", "entrances", "plans", "parcels",
)  # fmt: skip

#: Result layers named like input layers get a ``coverage_`` prefix in the project store.
_RESULT_NAMES = {
    "districts": "coverage_districts",
    "parks": "coverage_parks",
    "summary": "coverage_summary",
}


@dataclass(frozen=True)
class RecomputeResult:
    """What a recompute did.

    Attributes
    ----------
    report : dict
        The before/after report, JSON-ready (``changed`` is False when the project was
        left as it was); as text: :func:`gisrenew.present.format_recompute_report`.
    after : Indicators or None
        Every indicator of the project after the change (None when nothing changed) —
        what :func:`gisrenew.webmap.publish_site` draws.
    change : CoverageChange or None
        The before/after of straight-line coverage, for the before/after map.
    """

    report: dict[str, Any]
    after: Indicators | None = None
    change: CoverageChange | None = None

    @property
    def changed(self) -> bool:
        """True when the project was changed (and a run recorded)."""
        return bool(self.report.get("changed"))


class _NoChange(Exception):
    """Raised inside the transaction to leave the project untouched."""

    def __init__(self, result: RecomputeResult):
        super().__init__(result.report.get("message", ""))
        self.result = result


def _result_layers(ind: Indicators) -> dict[str, pd.DataFrame]:
    layers: dict[str, pd.DataFrame] = {
        _RESULT_NAMES.get(name, name): frame
        for name, frame in coverage.coverage_layers(ind.buffer).items()
    }
    if ind.network is not None:
        layers.update(coverage.coverage_layers(ind.network, prefix="network_"))
    if ind.plans is not None and ind.plans.effects is not None:
        layers["plan_effects"] = ind.plans.effects
    return layers


#: The per-piece layers: rows in the order of the residential pieces, which a change of
#: parks does not alter; their rows are changed in place (the others are written whole).
_PER_PIECE = ("coverage_residential", "network_coverage_residential")


def _stored_piece_layer(
    tx: Transaction, name: str, frame: pd.DataFrame, land: pd.DataFrame, read: pd.DataFrame | None
):
    """What the per-piece layer `name` holds now, as `frame` would be (stored state current).

    The columns of the residential land itself are those of `frame` (the inputs have not
    changed since the layer was written); the result columns are those `read` from the
    store before the change, else read back now.
    """
    derived = {"area_ha", "area_mu"}  # of the land's area (coverage_layers)
    results = [
        c
        for c in frame.columns
        if (c not in land.columns and c not in derived and c != frame.geometry.name)
        or c in PIECE_RESULT_COLUMNS
    ]
    stored = read if read is not None and set(results) <= set(read.columns) else None
    stored = tx.read_columns(name, results) if stored is None else stored
    if stored is None or len(stored) != len(frame):
        return None
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name), copy=True)
    for column in results:
        out[column] = stored[column].to_numpy()
    return out


def _write_results(tx: Transaction, run: _Run) -> dict[str, int]:
    """Write every result layer; with current stored results the per-piece layers and the
    tables (districts, summaries) change only their changed rows, in place.

    The other layers are written whole: deleting and inserting only their changed rows
    was measured slower at 100 000 parcels (2026-12-03) — blind spots are numbered in
    piece order, so one closed blind spot renumbers every later row, and the park and
    service-area layers are small.
    """
    written: dict[str, int] = {}
    land = run.after.buffer.residential
    for name, frame in _result_layers(run.after).items():
        stored = None
        if name in _PER_PIECE and run.stored["current"]:
            stored = _stored_piece_layer(tx, name, frame, land, run.pieces.get(name))
        elif run.stored["current"] and not isinstance(frame, gpd.GeoDataFrame):
            stored = tx.read_table(name)  # a table of the same rows: changed in place
        if stored is not None:
            written[name] = tx.update_layer(name, frame, stored)
        elif isinstance(frame, gpd.GeoDataFrame):
            tx.write_layer(name, frame)
            written[name] = len(frame)
        else:
            tx.write_table(name, pd.DataFrame(frame))
            written[name] = len(frame)
    return written


def _store(tx: Transaction, run: _Run, report: dict, step) -> None:
    """Write the parks, the result layers, the run's before/after and the history row."""
    step("tx-begin")
    tx.write_layer("parks", run.merge.parks)
    step("tx-parks")
    written = _write_results(tx, run)
    kept = store_change(tx, run.change, report["run_id"])  # the run's before/after map, kept
    report["layers_written"] = ["parks", *written, *kept]
    report["rows_written"] = {"parks": len(run.merge.parks), **written}
    step("tx-results")
    tx.append_table(HISTORY_TABLE, history_row(report, report["run_id"]))
    tx.record_results_state(results_state(run.after.inputs, run.after, report["run_id"]))
    step("tx-history")


def _purpose(incoming: Sequence[IncomingParks], remove: Sequence[str]) -> str:
    """What the run does, shown to a run that has to wait for the lock."""
    parts = [f"add {len(item.frame)} park(s) from {item.label}" for item in incoming]
    if remove:
        parts.append(f"remove {', '.join(map(str, remove))}")
    return "recompute: " + ", ".join(parts)


def recompute(
    project: Project | str,
    *,
    add_parks: Sequence = (),
    remove_parks: Sequence[str] = (),
    rules: RuleSet | str | None = None,
    weight: str | None = None,
    timeout_s: float = 0.0,
    progress: bool = False,
    now: _dt.datetime | None = None,
    on_step: Callable[[str], None] | None = None,
    read_options: Mapping[str, Any] | None = None,
    verify: bool = False,
) -> RecomputeResult:
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
        Residential weight column; default the project's (see :mod:`gisrenew.inputs`).
    timeout_s : float
        Seconds to wait for another run holding the project lock; 0 refuses at once
        with a :class:`~gisrenew.errors.LockError`.
    progress : bool
        Progress bars on long steps.
    now : datetime, optional
        Time recorded in the run history (UTC; default: now).
    on_step : callable, optional
        Called with the name of each step (:data:`STEPS`) as the run reaches it — for
        progress display, or for a test that stops the run at a given moment.
    read_options : mapping, optional
        ``crs``, ``override_crs`` and ``encoding`` for reading `add_parks` files
        (``--crs``, ``--override-crs``, ``--encoding``; see :func:`gisrenew.io.load_layer`).
    verify : bool
        Also compute straight-line coverage after the change from scratch and check
        that the incremental update equals it (``--verify``; the report's
        ``incremental_check``). A difference is an :class:`~gisrenew.errors.AnalysisError`
        and the project is left unchanged.

    Returns
    -------
    RecomputeResult
        The report, and the indicators after the change with the before/after of
        coverage (for the maps). Maps are published by the caller
        (:func:`gisrenew.webmap.publish_site`), after the project is safely updated.

    Notes
    -----
    Nothing is computed twice: straight-line coverage before the change is computed
    once and updated by :class:`~gisrenew.coverage.IncrementalCoverage` (only the
    residential pieces the changed parks reach); the plans' coverage effects are
    computed once, after the change. When the stored results are current
    (:mod:`gisrenew.recompute.state`; the report's ``stored_results`` says whether they
    were) the walk's figures before the change come from them, and after a change that
    only adds parks the walk is updated from the stored per-piece walk (only the new
    parks are walked from); otherwise the walk is computed once, after the change.

    The parks layer, every result layer and the ``run_history`` row are written in
    ONE :meth:`Project.transaction`, which holds the project lock from the first read
    to the commit: a killed run leaves the project exactly as before or as after, and
    two runs are never interleaved. With current stored results, the per-piece layers
    and the result tables change only the rows whose values changed.
    """
    step = on_step or (lambda name: None)
    project = project if isinstance(project, Project) else Project.open(project)
    project.check_writable("recompute")
    now = now or _dt.datetime.now(_dt.UTC)
    incoming = read_incoming(project, list(add_parks), **dict(read_options or {}))
    sources = [
        {"source": item.label, "sha256": item.sha256, "features": len(item.frame)}
        for item in incoming
    ]
    options = {
        "rules": rules, "weight": weight, "progress": progress, "now": now, "verify": verify,
    }  # fmt: skip
    purpose = _purpose(incoming, remove_parks)
    try:
        with project.transaction(timeout_s=timeout_s, purpose=purpose) as tx:
            result = _run(project, tx, incoming, remove_parks, sources, options, step)
    except _NoChange as unchanged:
        log.info("%s", unchanged.result.report["message"])
        return unchanged.result
    step("committed")
    log.info("project %s: run %s recorded", project.folder, result.report["run_id"])
    return result


@dataclass
class _Run:
    """What a run computed, for the report and the store."""

    merge: ParkMerge
    before: Indicators
    after: Indicators
    check: dict[str, Any]
    losses: dict[str, tuple[float, float]]
    stored: dict[str, Any]
    engine: IncrementalCoverage
    pieces: dict[str, pd.DataFrame]
    change: CoverageChange | None = None


def _before(inputs: ProjectInputs, tx: Transaction, progress: bool):
    """Every indicator before the change the report needs, from the store when current.

    When the stored results are current (:mod:`gisrenew.recompute.state`), straight-line
    coverage is read back from them (:func:`~gisrenew.recompute.stored.stored_buffer_result`:
    its per-piece state seeds the incremental engine) and the walk's city figures and
    per-piece walks too: the walk after the change then starts from them
    (:func:`gisrenew.network.updated_network_coverage`). What the store cannot give is
    computed (the walk without its service-area polygons).

    Returns
    -------
    before : Indicators
    stored : dict
        :func:`~gisrenew.recompute.state.state_check` and what the stored results were
        used for (``used_for``: ``buffer``, ``network``).
    pieces : dict of str to DataFrame
        The per-piece layers' result columns as stored (for writing only the rows that
        change).
    """
    state = tx.results_state()
    stored = state_check(state, inputs)
    methods = available_methods(inputs)
    walk = stored_figures(state, inputs, "network") if "network" in methods else None
    buffer = stored_buffer_result(tx, state, inputs) if "buffer" in methods else None
    if buffer is None or ("network" in methods and walk is None):
        before = compute_indicators(
            inputs,
            methods=[m for m in methods if m != "network" or walk is None],
            plans=False,
            network_service_areas="none",
            progress=progress,
        )
        buffer = None
    else:
        before = Indicators(inputs, buffer)  # its blind spots' slivers as stored
    stored["used_for"] = [
        m for m, used in (("buffer", buffer is not None), ("network", walk is not None)) if used
    ]
    pieces: dict[str, pd.DataFrame] = {}
    if buffer is not None:
        pieces[BUFFER_LAYERS["residential"]] = buffer.residential
    if walk is not None:
        name = "network_coverage_residential"
        found = tx.read_columns(name, [*WALK_PIECE_COLUMNS, *PIECE_RESULT_COLUMNS])
        if found is not None and len(found) == len(before.buffer.residential):
            pieces[name] = found
            walk = dataclasses.replace(walk, residential=found)
        before = dataclasses.replace(before, network=walk)
    return before, stored, pieces


def _changed(engine: IncrementalCoverage, merge: ParkMerge) -> tuple[dict, dict]:
    """Apply the change to the engine: the losses of closed parks (measured first), the check."""
    losses = {pid: engine.unique_gain(pid) for pid in merge.removed}
    start = time.perf_counter()
    affected = 0
    if merge.removed:
        affected += engine.remove_parks(merge.removed).affected_pieces
    if len(merge.added):
        affected += engine.add_parks(merge.added).affected_pieces
    check = {
        "method": "incremental",
        "affected_pieces": affected,
        "seconds_update": time.perf_counter() - start,
    }
    return losses, check


def _known_service_areas(inputs: ProjectInputs, tx: Transaction, merge: ParkMerge) -> dict:
    """The stored walking service areas of the parks the change leaves alone (results current)."""
    parks = inputs.layer("parks")
    removed = parks[parks["park_id"].astype(str).isin(merge.removed)]
    changed = gpd.GeoDataFrame(
        {"park_id": [*removed["park_id"].astype(str), *merge.added["park_id"].astype(str)]},
        geometry=[*geometry_array(removed), *geometry_array(merge.added)],
        crs=parks.crs,
    )
    stored = tx.read_layer("network_service_areas")
    return reusable_service_areas(stored, tx.results_state(), inputs, changed)


def _compute(inputs: ProjectInputs, tx: Transaction, merge: ParkMerge, options) -> _Run:
    """Before and after: the engine updates the straight-line coverage, nothing twice."""
    progress = options["progress"]
    before, stored, pieces = _before(inputs, tx, progress)
    engine = IncrementalCoverage.from_result(before.buffer)
    losses, check = _changed(engine, merge)
    after_inputs = inputs.with_layers(parks=merge.parks)
    reuse = "network" in stored["used_for"]
    known = _known_service_areas(inputs, tx, merge) if reuse else None
    after = updated_indicators(
        before, after_inputs, engine, progress=progress, known_service_areas=known
    )
    log.info("walking service areas of %d unchanged park(s) reused", len(known or {}))
    check["covered_area_m2_incremental"] = after.buffer.covered_area_m2
    if options["verify"]:
        check.update(verify_incremental(after))
    return _Run(merge, before, after, check, losses, stored, engine, pieces)


def _run(project, tx, incoming, remove_parks, sources, options, step) -> RecomputeResult:
    """The work inside the transaction (under the lock, on the project as it is now)."""
    current = Project.open(project.folder)  # as it stands on disk now, no cached layers
    inputs = gather_inputs(
        current,
        kinds=RECOMPUTE_KINDS,
        rules=options["rules"],
        settings={"coverage": {"weight": options["weight"]}},
    )
    merge = merge_parks(inputs.layer("parks"), incoming, remove_parks)
    step("loaded")
    if not merge.changed:
        report = unchanged_report(inputs, merge, sources, options["now"], __version__)
        raise _NoChange(RecomputeResult(report))
    run = _compute(inputs, tx, merge, options)
    step("computed")
    run_id = next_run_id(tx.read_table(HISTORY_TABLE))
    run.change = coverage_change(run.before, run.after, merge, run_id, options["now"], run.engine)
    report = build_report(
        inputs, merge, run.before, run.after, run.change, sources=sources, now=options["now"],
        version=__version__, losses=run.losses, check=run.check,
    )  # fmt: skip
    report["stored_results"] = run.stored
    _store(tx, run, report, step)
    return RecomputeResult(report, run.after, run.change)
