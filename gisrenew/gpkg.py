"""A GeoPackage at the SQLite level: rows of a layer changed in place, the change counter.

GDAL (through pyogrio) writes whole layers; this module changes a layer a few rows at
a time, in one SQLite transaction, for the project store's incremental writes
(:meth:`gisrenew.project.Transaction.update_layer`):

* :func:`changed_rows` — which rows of a new version of a table differ from the old
  one, column by column, vectorized (missing values equal each other);
* :func:`update_rows` — the attribute values of those rows written by feature id. The
  geometry is never touched, so the layer's spatial index stays valid; GDAL's R-tree
  triggers name GeoPackage SQL functions (``ST_IsEmpty``, ``ST_MinX``, ...) that only
  a geometry change calls, so they are registered as stubs that refuse to run;
* :func:`change_counter` — SQLite's file change counter (header bytes 24–27), raised
  by every write transaction in rollback-journal mode: the project store records it
  with its results to tell that nothing wrote the file since
  (:meth:`gisrenew.project.Transaction.results_state`);
* :func:`write_state` / :func:`read_state` — a one-row attributes table holding a JSON
  document, written as the last transaction of a change so that its recorded counter
  is the file's.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "UpdateRefused",
    "change_counter",
    "changed_rows",
    "column_types",
    "read_state",
    "timestamp",
    "update_rows",
    "write_state",
]

#: GeoPackage SQL functions GDAL's R-tree triggers call (a geometry change only).
_GEOMETRY_FUNCTIONS = ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")

#: Declared column types (GeoPackage 1.3, table 1) by the pandas dtype kinds they hold.
_TYPE_KINDS = {
    "BOOLEAN": "b",
    "TINYINT": "iub",
    "SMALLINT": "iub",
    "MEDIUMINT": "iub",
    "INT": "iub",
    "INTEGER": "iub",
    "FLOAT": "fiu",
    "DOUBLE": "fiu",
    "REAL": "fiu",
    "TEXT": "OUST",
}


class UpdateRefused(Exception):
    """The rows cannot be changed in place (another shape of table): write the layer whole."""


def timestamp() -> str:
    """``gpkg_contents.last_change`` as GDAL writes it (``OGR_CURRENT_DATE`` when set)."""
    fixed = os.environ.get("OGR_CURRENT_DATE")
    if fixed:
        return fixed
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def change_counter(path: str | os.PathLike) -> int | None:
    """SQLite's file change counter of `path`; None when it does not tell every change.

    In WAL mode (header bytes 18–19 = 2, or a ``-wal`` file beside it) SQLite need not
    raise the counter, so it tells nothing; None too for an unreadable file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError:
        return None
    if len(header) < 100 or 2 in (header[18], header[19]):
        return None
    if Path(f"{path}-wal").exists():
        return None
    return int.from_bytes(header[24:28], "big")


def _refuse_geometry(*_args) -> None:
    raise sqlite3.OperationalError("gisrenew changes attribute values in place, never geometry")


@contextlib.contextmanager
def _connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to a private work copy: one explicit transaction, no journal on disk."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for name in _GEOMETRY_FUNCTIONS:
            con.create_function(name, 1, _refuse_geometry, deterministic=True)
        con.execute("PRAGMA journal_mode = MEMORY")  # the copy is this run's own
        con.execute("PRAGMA synchronous = OFF")  # flushed whole before it replaces the store
        yield con
    finally:
        con.close()


def column_types(path: str | os.PathLike, table: str) -> dict[str, str]:
    """Declared type of each column of `table` (upper case), in table order; {} when absent."""
    with contextlib.closing(sqlite3.connect(path)) as con:
        rows = con.execute(f'PRAGMA table_info("{_name(table)}")').fetchall()
    return {str(row[1]): str(row[2]).upper().split("(")[0] for row in rows}


def _name(table: str) -> str:
    return table.replace('"', '""')


def _comparable(values: pd.Series) -> np.ndarray:
    """Values as one array: floats for numbers (missing: nan), else objects (missing: None)."""
    if values.dtype.kind in "fiub":
        return values.to_numpy(dtype=float, na_value=np.nan)
    objects = values.to_numpy(dtype=object)
    missing = pd.isna(values).to_numpy(dtype=bool)
    if missing.any():
        objects = objects.copy()
        objects[missing] = None
    return objects


def changed_rows(new: pd.DataFrame, old: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Positions of the rows where `new` and `old` differ in any of `columns`.

    Numbers compare as floats (``nan`` equals ``nan``), anything else as Python objects
    (missing values equal each other). Both frames have the same length and row order.
    """
    if len(new) != len(old):
        raise ValueError("`new` and `old` must have the same rows")
    differs = np.zeros(len(new), dtype=bool)
    for column in columns:
        a, b = _comparable(new[column]), _comparable(old[column])
        if a.dtype.kind == "f" and b.dtype.kind == "f":
            differs |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
        else:
            differs |= ~np.asarray(a.astype(object) == b.astype(object), dtype=bool)
    return np.flatnonzero(differs)


def _sql_values(frame: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    """The values of `frame` × `columns` as Python objects SQLite binds (missing: NULL)."""
    out = []
    for column in columns:
        values = frame[column]
        kind = values.dtype.kind
        if kind == "b":
            plain = values.astype(int).tolist()
        elif kind in "iu":
            plain = values.astype("int64").tolist()
        elif kind == "f":
            data = values.to_numpy(dtype=float)
            plain = [None if np.isnan(v) else v for v in data.tolist()]
        else:
            plain = [None if pd.isna(v) else v for v in values.astype(object).tolist()]
        out.append(plain)
    return [list(row) for row in zip(*out, strict=True)]


def _check_table(con: sqlite3.Connection, table: str, frame: pd.DataFrame, n_features: int):
    """Refuse an update the table's shape does not allow (fids, column names and types)."""
    declared = {
        str(r[1]): str(r[2]).upper().split("(")[0]
        for r in con.execute(f'PRAGMA table_info("{_name(table)}")').fetchall()
    }
    if not declared:
        raise UpdateRefused(f"no table {table}")
    for column in frame.columns:
        kinds = _TYPE_KINDS.get(declared.get(column, ""))
        if kinds is None or frame[column].dtype.kind not in kinds:
            raise UpdateRefused(f"column {column} is not stored as {frame[column].dtype}")
    count, low, high = con.execute(
        f'SELECT count(*), min(fid), max(fid) FROM "{_name(table)}"'
    ).fetchone()
    if count != n_features or (count and (low, high) != (1, count)):
        raise UpdateRefused(f"{table} does not hold features 1..{n_features}")


def update_rows(
    path: str | os.PathLike, table: str, values: pd.DataFrame, rows, *, n_features: int
) -> None:
    """Write the attribute `values` of the features at positions `rows` in place.

    `values` has one row per position in `rows` (feature id = position + 1) and the
    table's columns to change. One transaction on the GeoPackage at `path`, which must
    be a private work copy (no journal is kept on disk); ``gpkg_contents.last_change``
    of the table is set as GDAL sets it.

    Raises
    ------
    UpdateRefused
        When the table does not hold exactly the features 1..`n_features`, or a column
        is missing or declared with another type: the caller writes the layer whole.
    """
    rows = np.asarray(rows, dtype=np.int64)
    columns = list(values.columns)
    quoted = ", ".join(f'"{_name(c)}" = ?' for c in columns)
    statement = f'UPDATE "{_name(table)}" SET {quoted} WHERE fid = ?'
    with _connection(Path(path)) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            _check_table(con, table, values, n_features)
            plain = _sql_values(values, columns)
            con.executemany(
                statement,
                ([*row, int(fid)] for row, fid in zip(plain, rows + 1, strict=True)),
            )
            con.execute(
                "UPDATE gpkg_contents SET last_change = ? WHERE lower(table_name) = lower(?)",
                (timestamp(), table),
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def read_state(path: str | os.PathLike, table: str) -> dict[str, Any] | None:
    """The JSON document of the one-row table `table` (None when absent or unreadable)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            found = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            if found is None:
                return None
            row = con.execute(f'SELECT state FROM "{_name(table)}" LIMIT 1').fetchone()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    try:
        data = json.loads(row[0])
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(path: str | os.PathLike, table: str, state: dict[str, Any]) -> int | None:
    """Write `state` into the one-row attributes table `table`, in one transaction.

    The table is made (and registered in ``gpkg_contents``) when absent. The document
    gains ``store_counter``: the file's change counter once this transaction commits
    (checked afterwards; None is stored and returned when the file's counter does not
    tell every change, see :func:`change_counter`).
    """
    before = change_counter(path)
    expected = None if before is None else (before + 1) % (1 << 32)
    text = json.dumps({**state, "store_counter": expected}, sort_keys=True)
    name = _name(table)
    with _connection(Path(path)) as con:
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            f'CREATE TABLE IF NOT EXISTS "{name}" '
            '("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "state" TEXT)'
        )
        registered = con.execute(
            "SELECT 1 FROM gpkg_contents WHERE lower(table_name) = lower(?)", (table,)
        ).fetchone()
        if registered is None:
            con.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) "
                "VALUES (?, 'attributes', ?, ?)",
                (table, table, timestamp()),
            )
        con.execute(f'DELETE FROM "{name}"')
        con.execute(f'INSERT INTO "{name}" (fid, state) VALUES (1, ?)', (text,))
        con.execute("COMMIT")
    return expected if change_counter(path) == expected else None
