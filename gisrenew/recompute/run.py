"""The recompute run: one project transaction from the first read to the commit."""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from gisrenew import __version__, coverage
from gisrenew.indicators import Indicators, compute_indicators
from gisrenew.inputs import ProjectInputs, gather_inputs
from gisrenew.project import Project, Transaction
from gisrenew.recompute.changes import store_change
from gisrenew.recompute.history import HISTORY_TABLE, history_row, next_run_id
from gisrenew.recompute.merge import IncomingParks, ParkMerge, merge_parks, read_incoming
from gisrenew.recompute.report import build_report, coverage_change, unchanged_report
from gisrenew.results import CoverageChange
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


def _indicators(inputs: ProjectInputs, parks: gpd.GeoDataFrame, *, stored: bool, progress: bool):
    """Every indicator with `parks`; ``stored=False`` skips what only the stored layers need."""
    return compute_indicators(
        inputs.with_layers(parks=parks),
        plans=None if stored else False,
        progress=progress,
        # the walking service-area polygons are for the stored layers and maps only
        network_service_areas="park" if stored else "none",
    )


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


def _store(
    tx: Transaction, merge: ParkMerge, after: Indicators, change: CoverageChange, report: dict, step
) -> None:
    """Write the parks, the result layers, the run's before/after and the history row."""
    step("tx-begin")
    tx.write_layer("parks", merge.parks)
    step("tx-parks")
    layers = _result_layers(after)
    for name, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            tx.write_layer(name, frame)
        else:
            tx.write_table(name, pd.DataFrame(frame))
    kept = store_change(tx, change, report["run_id"])  # the run's before/after map, kept
    report["layers_written"] = ["parks", *layers, *kept]
    step("tx-results")
    tx.append_table(HISTORY_TABLE, history_row(report, report["run_id"]))
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

    Returns
    -------
    RecomputeResult
        The report, and the indicators after the change with the before/after of
        coverage (for the maps). Maps are published by the caller
        (:func:`gisrenew.webmap.publish_site`), after the project is safely updated.

    Notes
    -----
    The parks layer, every result layer and the ``run_history`` row are written in
    ONE :meth:`Project.transaction`, which holds the project lock from the first read
    to the commit: a killed run leaves the project exactly as before or as after, and
    two runs are never interleaved.
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
    options = {"rules": rules, "weight": weight, "progress": progress, "now": now}
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
    progress = options["progress"]
    before = _indicators(inputs, inputs.layer("parks"), stored=False, progress=progress)
    after = _indicators(inputs, merge.parks, stored=True, progress=progress)
    step("computed")
    run_id = next_run_id(tx.read_table(HISTORY_TABLE))
    change = coverage_change(before, after, merge, run_id, options["now"])
    report = build_report(
        inputs, merge, before, after, change, sources=sources, now=options["now"],
        version=__version__,
    )  # fmt: skip
    _store(tx, merge, after, change, report, step)
    return RecomputeResult(report, after, change)
