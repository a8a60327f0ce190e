"""Recompute after park changes: safe project update, before/after report, run history.

When new pocket parks (口袋公园) open or parks close, planners add them to the project
and rerun every indicator. :func:`recompute` does it in one project transaction:

1. **merge** (:mod:`.merge`) — the new parks are read and validated like any layer and
   merged into the ``parks`` layer; parks already there (same shape) are skipped and
   reported, so re-adding a file changes nothing;
2. **compute** — every indicator before and after, by the one orchestrator
   (:func:`gisrenew.indicators.compute_indicators`);
3. **report** (:mod:`.report`) — the before/after report (ratio, areas, districts,
   closed blind spots, each new park's own gain, parks that add nothing and why) and the
   :class:`~gisrenew.results.CoverageChange` the before/after map draws;
4. **store** (:mod:`.run`) — parks, result layers, the run's before/after
   (:mod:`.changes`, read back by :func:`read_changes` for the maps) and a
   ``run_history`` row (:mod:`.history`) written in ONE transaction under the project
   lock: a run killed at any moment leaves the project as before or as after.

Publishing the maps is the caller's next step (``gisrenew recompute`` does it after the
project is safely updated), never part of the transaction.
"""

from gisrenew.recompute.changes import forget_change, read_changes, stored_runs
from gisrenew.recompute.history import (
    HISTORY_TABLE,
    history_records,
    history_row,
    next_run_id,
    read_history,
)
from gisrenew.recompute.merge import IncomingParks, ParkMerge, merge_parks, read_incoming
from gisrenew.recompute.run import STEPS, RecomputeResult, recompute

__all__ = [
    "HISTORY_TABLE",
    "STEPS",
    "IncomingParks",
    "ParkMerge",
    "RecomputeResult",
    "forget_change",
    "history_records",
    "history_row",
    "merge_parks",
    "next_run_id",
    "read_changes",
    "read_history",
    "read_incoming",
    "recompute",
    "stored_runs",
]
