"""The run history of a project: one ``run_history`` row per recompute.

Each row records when the run happened, with which gisrenew and rule set, the input
files with their SHA-256 checksums, the parks added and removed, and the before/after
figures (the headline columns, and every figure as JSON in ``figures``) — so a figure
in a report can be traced to the run and the inputs that produced it.
"""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd

from gisrenew import jsonable
from gisrenew.project import Project

__all__ = ["HISTORY_TABLE", "history_records", "history_row", "next_run_id", "read_history"]

log = logging.getLogger(__name__)

#: The table of the project store that holds the run history.
HISTORY_TABLE = "run_history"

_FLOAT_COLUMNS = (
    "ratio_before", "ratio_after", "covered_before_m2", "covered_after_m2",
    "residential_area_m2", "network_ratio_before", "network_ratio_after",
)  # fmt: skip
_NEW_PARK_KEYS = ("park_id", "qualifies", "reason", "unique_gain_m2", "unique_gain_weight")


def _json(value) -> str:
    return jsonable.dumps(value, sort_keys=True)


def _figures(report: dict) -> str:
    """Every figure of a report, as the JSON of the ``figures`` column."""
    closed = {k: v for k, v in report["blind_spots_closed"].items() if k != "rows"}
    new_parks = [{k: p.get(k) for k in _NEW_PARK_KEYS} for p in report["added"]]
    return _json(
        {
            "indicators": report["indicators"],
            "districts": report["districts"],
            "blind_spots_closed": closed,
            "new_parks": new_parks,
            # the green-space figures after the run: a later report compares with them
            "greenspace": report.get("greenspace"),
        }
    )


def history_row(report: dict, run_id: int) -> pd.DataFrame:
    """The ``run_history`` row of a recompute's report (one-row DataFrame)."""
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
        "figures": _figures(report),
    }
    frame = pd.DataFrame([row])
    for col in _FLOAT_COLUMNS:
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
        empty when no run was recorded. Rows whose ``run_id`` is not a number (a
        damaged table) come last.
    """
    if not isinstance(project, Project):
        project = Project.open(project)
    table = project.read_table(HISTORY_TABLE)
    if table is None:
        columns = ["run_id", "time_utc", "command", "rules_name", "rules_version", "inputs"]
        columns += ["added_parks", "removed_parks", "ratio_before", "ratio_after"]
        return pd.DataFrame(columns=columns)
    if "run_id" not in table.columns:
        return table
    order = pd.to_numeric(table["run_id"], errors="coerce").to_numpy(dtype=float)
    return table.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


#: Columns of ``run_history`` holding JSON text, parsed by :func:`history_records`.
JSON_COLUMNS = ("inputs", "added_parks", "removed_parks", "figures")
#: Columns every listing of the history shows.
SHOWN_COLUMNS = ("run_id", "time_utc", "rules_name", "rules_version", "ratio_before", "ratio_after")


def history_records(history: pd.DataFrame, where: str) -> tuple[list[dict], list[str]]:
    """The rows of `history` as dicts with their JSON columns parsed, and the problems.

    A damaged table is read as far as it can be: a missing column or a JSON column that
    does not parse is a problem (naming `where`, the row and the column); the value
    stays as stored.
    """
    problems = []
    missing = [c for c in SHOWN_COLUMNS if c not in history.columns]
    if missing:
        problems.append(f"{where} lacks the column(s) {', '.join(missing)}; shown as ?")
    records = []
    for number, row in enumerate(history.to_dict(orient="records"), start=1):
        for key in JSON_COLUMNS:
            if not isinstance(row.get(key), str):
                continue
            try:
                row[key] = json.loads(row[key])
            except ValueError:
                run = row.get("run_id")
                run = "?" if run is None or (isinstance(run, float) and math.isnan(run)) else run
                problems.append(
                    f"{where} row {number} (run {run}): column `{key}` is "
                    "not valid JSON; shown as text"
                )
        records.append(row)
    return records, problems


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
