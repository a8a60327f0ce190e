"""The PostGIS project store: one schema of a bureau's shared PostgreSQL database.

Each layer is an ordinary PostGIS table — a ``geom`` column of type
``geometry(<type>, <working SRID>)`` with a GiST index, a primary key (the layer's id
column for an input layer, else an identity column ``fid``) — so QGIS or ArcGIS open and
edit it like any other; non-spatial tables (``run_history``, ``results_state``, ...) are
plain tables. The ``[columns.<kind>]`` mapping an input layer was read with is kept as
the table's comment.

Guarantees, as for the GeoPackage
---------------------------------
* **One transaction.** Every change of a run is one database transaction: a run killed
  at any moment leaves the tables as before or as after (the server rolls back the
  transaction of a connection that is gone).
* **One writer at a time.** A writer holds a session advisory lock keyed on the schema
  (``pg_try_advisory_lock``, polled until the wait runs out); a second writer gets the
  same :class:`~gisrenew.errors.LockError` as for a GeoPackage, naming the holder (its
  ``application_name``: ``gisrenew <what> pid N``). The server releases the lock of a
  killed run.
* **Results current, safely.** Every ordinary table of the schema carries a
  statement-level trigger (``gisrenew_changes``: ``AFTER INSERT OR UPDATE OR DELETE OR
  TRUNCATE``, enabled ``ALWAYS``) that raises the schema's change counter (the one row
  of the table ``gisrenew_changes``) — whoever writes: QGIS, psql, ``ogr2ogr``. A
  gisrenew transaction marks its own writes (the transaction-local setting
  ``gisrenew.own_write``: the trigger leaves the counter alone), raises the counter once
  when it ends and records the new value with the results state, together with each
  table's OID and a digest of its columns and comment. The stored results are current
  when the counter, the tables (none dropped and made anew, none added, no column
  altered) and the triggers (each there, enabled) are as recorded; a write by another
  session during a run — seen when the run ends, as the counter moved since it began —
  records no usable state. What it cannot see: a write made while the table's owner had
  disabled the trigger and enabled it again afterwards.
* **No password is written.** The connection is a libpq service (``service=NAME``) or a
  URL without a password; passwords come from ``PGPASSWORD``, ``~/.pgpass`` or the
  service file. Messages name the store as ``postgresql://host:port/db schema S``.

Data move through COPY in CSV made by Arrow, geometry as hex EWKB through shapely's
vectorized ``to_wkb``/``from_wkb`` — no Python loop over rows. psycopg is imported only
when a project's store is PostgreSQL (``pip install 'gisrenew[postgis]'``).
"""

from __future__ import annotations

import contextlib
import io as stdio
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from pyproj import CRS

from gisrenew import io
from gisrenew.errors import Problem, ProjectError
from gisrenew.gpkg import changed_rows
from gisrenew.schema import LAYERS, get_layer_schema
from gisrenew.settings import store_label
from gisrenew.store.base import (
    RESULTS_STATE,
    ColumnMap,
    Store,
    Transaction,
    lock_refused,
    same_geometry,
)
from gisrenew.store.geopackage import clean_stale_workfiles

__all__ = ["CHANGES", "PostgisStore", "PostgisTransaction", "connect"]

log = logging.getLogger(__name__)

#: First key of the advisory lock of every gisrenew project ("gisr"); the second is the schema's.
LOCK_KEY = 0x67697372
#: The identity column of a table without an id column (and the stored order of every table).
FID = "fid"
#: The geometry column of every layer gisrenew writes.
GEOM = "geom"
#: The table of the schema's change counter, and the trigger on every other table that raises it.
CHANGES = "gisrenew_changes"
#: The trigger function (in the project's schema) of :data:`CHANGES`.
_COUNT = "gisrenew_count_change"
#: The transaction-local setting that marks gisrenew's own writes (the trigger skips them).
_OWN_WRITE = "gisrenew.own_write"
#: ``pg_trigger.tgtype`` of a statement-level AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE.
_TRIGGER_TYPE = 4 | 8 | 16 | 32
#: Longest name PostgreSQL keeps whole (NAMEDATALEN - 1 bytes).
MAX_NAME_BYTES = 63
_SQL_TYPES = {"i": "bigint", "u": "bigint", "f": "double precision", "b": "boolean"}
_ARROW_TYPES = {
    "smallint": pa.int64(), "integer": pa.int64(), "bigint": pa.int64(),
    "real": pa.float64(), "double precision": pa.float64(), "numeric": pa.float64(),
    "boolean": pa.bool_(), "date": pa.date32(),
    "timestamp without time zone": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
}  # fmt: skip


def _psycopg():
    """psycopg, imported only for a PostgreSQL store (an optional dependency)."""
    try:
        import psycopg  # optional: only a PostgreSQL store needs it
    except ImportError:
        raise ProjectError(
            "this project's store is a PostgreSQL database, and talking to it needs psycopg. "
            "Fix: pip install 'gisrenew[postgis]'."
        ) from None
    return psycopg


def connect(conninfo: str, label: str, *, application_name: str = "gisrenew"):
    """An autocommit psycopg connection to `conninfo`; ProjectError naming `label` when refused."""
    psycopg = _psycopg()
    try:
        return psycopg.connect(conninfo, autocommit=True, application_name=application_name)
    except psycopg.Error as exc:
        raise ProjectError(
            f"{label}: cannot connect to the database ({_scrubbed(exc)}). Fix: check the "
            "host, port, database and role of [project] store in gisrenew.toml (or the "
            "service file); passwords come from PGPASSWORD, ~/.pgpass or the service file."
        ) from None


def _scrubbed(exc: Exception) -> str:
    """The text of a database error without a password that may have reached it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    secret = os.environ.get("PGPASSWORD")
    return text.replace(secret, "***") if secret else text


def _ascii(text: str, limit: int = 63) -> str:
    """`text` as PostgreSQL keeps an ``application_name``: printable ASCII, 63 bytes."""
    return re.sub(r"[^ -~]", "?", text)[:limit]


class _Sql:
    """Identifiers of one schema, quoted."""

    def __init__(self, schema: str):
        from psycopg import sql  # optional dependency, see _psycopg

        self.sql = sql
        self.schema = schema

    def table(self, name: str):
        return self.sql.Identifier(self.schema, name)

    def ident(self, name: str):
        return self.sql.Identifier(name)

    def idents(self, names: Sequence[str]):
        return self.sql.SQL(", ").join(self.sql.Identifier(n) for n in names)


def _table_columns(conn, schema: str, name: str) -> list[tuple[str, str]]:
    """``(column, type)`` of a table in column order ("geometry" for the geometry column)."""
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        (schema, name),
    ).fetchall()
    return [(str(column), str(kind)) for column, kind in rows]


def _table_names(conn, schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relname <> %s "
        "ORDER BY c.oid",
        (schema, CHANGES),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _srid(conn, schema: str, name: str, column: str) -> int:
    row = conn.execute(
        "SELECT srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s "
        "AND f_geometry_column = %s",
        (schema, name, column),
    ).fetchone()
    return int(row[0]) if row and row[0] else 0


def _read_frame(conn, schema: str, name: str, columns: Sequence[str] | None, geometry: bool):
    """Table `name` as a (Geo)DataFrame, in stored order; columns as pyogrio gives them."""
    q = _Sql(schema)
    found = [(c, t) for c, t in _table_columns(conn, schema, name) if c != FID]
    geom = next((c for c, t in found if t == "geometry"), None)
    attrs = [(c, t) for c, t in found if t != "geometry" and (columns is None or c in columns)]
    select = [q.ident(c) for c, _ in attrs]
    if geometry and geom is not None:
        select.append(q.sql.SQL("encode(ST_AsEWKB({}), 'hex')").format(q.ident(geom)))
    names = [c for c, _ in attrs] + (["__geom"] if geometry and geom is not None else [])
    has_fid = any(c == FID for c, _ in _table_columns(conn, schema, name))
    order = q.sql.SQL(" ORDER BY {}").format(q.ident(FID)) if has_fid else q.sql.SQL("")
    statement = q.sql.SQL("COPY (SELECT {} FROM {}{}) TO STDOUT (FORMAT csv)").format(
        q.sql.SQL(", ").join(select) if select else q.sql.SQL("1"), q.table(name), order
    )
    buffer = stdio.BytesIO()
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for block in copy:
            buffer.write(block)
    types = {c: _ARROW_TYPES.get(t, pa.string()) for c, t in attrs}
    types["__geom"] = pa.string()
    frame = _parse_csv(buffer.getvalue(), names, types)
    if not (geometry and geom is not None):
        return frame[[c for c, _ in attrs]] if select else frame.iloc[:, :0]
    wkb = frame.pop("__geom").to_numpy(dtype=object)
    geoms = shapely.from_wkb(np.where(pd.isna(wkb), None, wkb))
    srid = _srid(conn, schema, name, geom)
    crs = CRS.from_epsg(srid) if srid > 0 else None
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=crs)


def _parse_csv(data: bytes, names: list[str], types: dict) -> pd.DataFrame:
    """COPY's CSV as a DataFrame: an unquoted empty field is NULL, ``""`` an empty text."""
    if not data:
        columns = {n: pd.Series(dtype=types[n].to_pandas_dtype()) for n in names}
        return pd.DataFrame(columns)
    table = pacsv.read_csv(
        stdio.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(
            column_types={n: types[n] for n in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    return table.to_pandas()


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """The attribute columns as Arrow; a column Arrow cannot type becomes text."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        try:
            columns[name] = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array(series.map(lambda v: None if pd.isna(v) else str(v)))
    return pa.table(columns) if columns else pa.table({})


def _sql_type(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_floating(kind):
        return "double precision"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_timestamp(kind):
        return "timestamp with time zone" if kind.tz else "timestamp without time zone"
    if pa.types.is_date(kind):
        return "date"
    return "text"


_TYPE_NAMES = {
    0: "Point", 1: "LineString", 2: "LineString", 3: "Polygon", 4: "MultiPoint",
    5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection",
}  # fmt: skip


_MULTI = {"Point": shapely.multipoints, "LineString": shapely.multilinestrings,
          "Polygon": shapely.multipolygons}  # fmt: skip


def _geometry_type(geoms: np.ndarray) -> str:
    """The PostGIS type of a geometry column: the one type of every geometry, else Geometry.

    Single and multi parts of one kind (polygons and multipolygons: a merged park layer)
    make the multi type — see :func:`_promoted`.
    """
    present = geoms[~shapely.is_missing(geoms)]
    names = {_TYPE_NAMES[int(t)] for t in np.unique(shapely.get_type_id(present))}
    single = {name.removeprefix("Multi") for name in names}
    if len(names) == 2 and len(single) == 1 and single.pop() in _MULTI:
        names = {next(n for n in names if n.startswith("Multi"))}
    kind = names.pop() if len(names) == 1 else "Geometry"
    return kind + ("Z" if present.size and bool(shapely.has_z(present).any()) else "")


def _promoted(geoms: np.ndarray, kind: str) -> np.ndarray:
    """`geoms` with every single part of `kind`'s family made a one-part multi (vectorized)."""
    single = kind.removeprefix("Multi").removesuffix("Z")
    if not kind.startswith("Multi") or single not in _MULTI:
        return geoms
    names = np.array([_TYPE_NAMES.get(int(t), "") for t in range(8)], dtype=object)
    ids = shapely.get_type_id(geoms)
    singles = np.flatnonzero((ids >= 0) & (names[np.clip(ids, 0, 7)] == single))
    if singles.size == 0:
        return geoms
    out = geoms.copy()
    out[singles] = _MULTI[single](geoms[singles], indices=np.arange(singles.size))
    return out


def _existing_geometry_type(conn, schema: str, name: str) -> str | None:
    row = conn.execute(
        "SELECT type FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s "
        "AND f_geometry_column = %s",
        (schema, name, GEOM),
    ).fetchone()
    return None if row is None else str(row[0])


def _column_kind(conn, schema: str, name: str, geoms: np.ndarray) -> str:
    """The geometry type to write: a table of multi parts stays multi when single ones come."""
    kind = _geometry_type(geoms)
    stored = (_existing_geometry_type(conn, schema, name) or "").upper()
    if stored == f"MULTI{kind.upper()}" and kind.removesuffix("Z") in _MULTI:
        return "Multi" + kind
    return kind


def _srid_of(crs, where: str) -> int:
    code = CRS.from_user_input(crs).to_epsg()
    if code is None:
        raise ProjectError(
            f"{where}: the layer's CRS has no EPSG code, and a PostGIS layer needs one (its "
            'SRID). Fix: set [project] working_crs to an EPSG CRS (e.g. "EPSG:4549").'
        )
    return int(code)


def _check_names(schema: str, name: str, frame: pd.DataFrame) -> None:
    """Refuse a table or column name PostgreSQL would cut to 63 bytes (never read back whole)."""
    where = f"{schema}.{name}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ProjectError(
            f"{where}: the layer name is {len(name.encode('utf-8'))} bytes long, and PostgreSQL "
            f"keeps only the first {MAX_NAME_BYTES} bytes of a name (about 21 Chinese "
            "characters), so the layer could not be found again. Fix: give the layer a shorter "
            "name."
        )
    for column in map(str, frame.columns):
        size = len(column.encode("utf-8"))
        if size <= MAX_NAME_BYTES:
            continue
        fix = (
            f'add "{column}" = "<a shorter name>" under [columns.{name}] in gisrenew.toml '
            f"(on init: --column {name}:{column}=<a shorter name>), or rename the column in "
            "your file"
            if name in LAYERS
            else "rename the column in your file"
        )
        raise ProjectError(
            f"{where}: column `{column}` is {size} bytes long, and PostgreSQL keeps only the "
            f"first {MAX_NAME_BYTES} bytes of a name (about 21 Chinese characters): the "
            f"column would come back cut short. Nothing was written. Fix: {fix}, then run "
            "again."
        )


def _write_frame(conn, schema: str, name: str, frame: pd.DataFrame, key: str | None) -> None:
    """Replace the rows of table `name` by `frame` (a GeoDataFrame makes a PostGIS layer).

    A table whose columns, geometry type and SRID stay the same keeps its identity: its
    rows are replaced (``DELETE`` + ``COPY``), so what analysts built on it — views,
    grants to other roles, QGIS styles, triggers — stays. Only a table whose columns
    change is dropped and made anew, never with ``CASCADE``: an object of someone else's
    that depends on it stops the run with a message instead of vanishing.
    """
    _check_names(schema, name, frame)
    q = _Sql(schema)
    spatial = isinstance(frame, gpd.GeoDataFrame)
    attrs = io.plain_columns(pd.DataFrame(frame.drop(columns=frame.geometry.name)) if spatial
                             else pd.DataFrame(frame))  # fmt: skip
    table = _arrow_table(attrs.reset_index(drop=True))
    columns = [] if FID in attrs.columns else [(FID, "bigint")]
    columns += [(f.name, _sql_type(f.type)) for f in table.schema]
    names = list(table.column_names)
    if spatial:
        srid = _srid_of(frame.crs, f"{schema}.{name}")
        kind = _column_kind(conn, schema, name, np.asarray(frame.geometry.array, dtype=object))
        geoms = _promoted(np.asarray(frame.geometry.array, dtype=object), kind)
        columns.append((GEOM, f"geometry({kind}, {srid})"))
        wkb = shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)
        table = table.append_column(GEOM, pa.array(wkb, type=pa.string(), from_pandas=True))
        names.append(GEOM)
    primary = key if key in attrs.columns and _unique(attrs[key]) else FID
    if primary == FID and FID in attrs.columns and not _unique(attrs[FID]):
        primary = None
    if _same_table(conn, schema, name, columns, primary):
        conn.execute(q.sql.SQL("DELETE FROM {}").format(q.table(name)))
    else:
        _create_table(conn, schema, name, columns, primary, spatial)
    if table.num_rows:
        buffer = stdio.BytesIO()
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
        statement = q.sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            q.table(name), q.idents(names)
        )
        with conn.cursor() as cur, cur.copy(statement) as copy:
            copy.write(buffer.getvalue())


def _declared_columns(conn, schema: str, name: str) -> list[tuple[str, str]]:
    """``(column, declared type)`` of table `name` in order, e.g. ``geometry(Point,4549)``."""
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p') "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (schema, name),
    ).fetchall()
    return [(str(column), str(kind)) for column, kind in rows]


def _same_table(conn, schema: str, name: str, columns: list, primary: str | None) -> bool:
    """True when table `name` exists with exactly `columns` (names, types) and key `primary`."""
    wanted = [(c, _plain_type(t)) for c, t in columns]
    if [(c, _plain_type(t)) for c, t in _declared_columns(conn, schema, name)] != wanted:
        return False
    return _primary_key(conn, schema, name) == ([primary] if primary else [])


def _create_table(conn, schema, name, columns, primary, spatial) -> None:
    """Drop table `name` (never CASCADE) and make it anew with `columns`, key and index."""
    q = _Sql(schema)
    _drop_table(conn, schema, name)
    definitions = [
        q.sql.SQL("{} bigint GENERATED BY DEFAULT AS IDENTITY").format(q.ident(c))
        if c == FID and t == "bigint" and (c, t) == columns[0]
        else q.sql.SQL("{} " + t).format(q.ident(c))
        for c, t in columns
    ]
    conn.execute(
        q.sql.SQL("CREATE TABLE {} ({})").format(q.table(name), q.sql.SQL(", ").join(definitions))
    )
    if primary:
        conn.execute(
            q.sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(q.table(name), q.ident(primary))
        )
    if spatial:
        conn.execute(
            q.sql.SQL("CREATE INDEX ON {} USING gist ({})").format(q.table(name), q.ident(GEOM))
        )


def _drop_table(conn, schema: str, name: str) -> None:
    """Drop table `name` when it exists; objects of others depending on it stop the run."""
    psycopg = _psycopg()
    q = _Sql(schema)
    try:
        with conn.transaction():  # a savepoint: the message below, not an aborted run
            conn.execute(q.sql.SQL("DROP TABLE IF EXISTS {}").format(q.table(name)))
    except psycopg.errors.DependentObjectsStillExist as exc:
        detail = (exc.diag.message_detail or "").replace("\n", "; ")
        raise ProjectError(
            f"{schema}.{name}: gisrenew must replace this table (its columns change) but other "
            f"objects in the database depend on it ({detail}); the project was left unchanged. "
            "Fix: drop those objects (e.g. a view made in QGIS), run again, then make them anew."
        ) from None


def _unique(series: pd.Series) -> bool:
    return bool(series.notna().all()) and not bool(series.duplicated().any())


def _comment(conn, schema: str, name: str, mapping: Any) -> None:
    q = _Sql(schema)
    text = json.dumps({"gisrenew_columns": mapping}, ensure_ascii=False, sort_keys=True)
    conn.execute(q.sql.SQL("COMMENT ON TABLE {} IS {}").format(q.table(name), q.sql.Literal(text)))


def _recorded_columns(conn, schema: str, name: str) -> Any:
    row = conn.execute(
        "SELECT obj_description(c.oid, 'pg_class') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, name),
    ).fetchone()
    if not row or not row[0]:
        return None
    try:
        return json.loads(row[0]).get("gisrenew_columns")
    except (ValueError, AttributeError):
        return None


def _key_of(name: str) -> str | None:
    """The id column of input layer `name` (its primary key when its values are unique)."""
    return get_layer_schema(name).id_column if name in LAYERS else None


# ---------------------------------------------------------------- rows changed in place


def _primary_key(conn, schema: str, name: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
        "WHERE n.nspname = %s AND c.relname = %s AND i.indisprimary",
        (schema, name),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _plain_type(kind: str) -> str:
    return kind.replace(" ", "").lower()


def _update_refused(conn, schema: str, name: str, table: pa.Table, n_rows: int) -> str | None:
    """Why the rows of table `name` cannot be changed in place by `table`'s (None: they can).

    The table must hold `n_rows` rows keyed by ``fid`` and exactly `table`'s attribute
    columns, in order, of the types a whole write would give them.
    """
    found = _declared_columns(conn, schema, name)
    attrs = [(c, _plain_type(t)) for c, t in found if c not in (FID, GEOM)]
    wanted = [(f.name, _plain_type(_sql_type(f.type))) for f in table.schema]
    if attrs != wanted:
        return f"columns {attrs} are not {wanted}"
    if _primary_key(conn, schema, name) != [FID]:
        return f"the primary key is not {FID}"
    q = _Sql(schema)
    count = conn.execute(q.sql.SQL("SELECT count(*) FROM {}").format(q.table(name))).fetchone()
    if int(count[0]) != n_rows:
        return f"it holds {count[0]} rows, not {n_rows}"
    return None


def _update_rows(conn, schema: str, name: str, table: pa.Table, rows: np.ndarray) -> None:
    """Set the attribute values of the rows at positions `rows` (in ``fid`` order) in place.

    The values (``table``'s rows at `rows`) go by COPY into a temporary table, and one
    ``UPDATE ... FROM`` joins them to the table's rows by their position in ``fid`` order
    (the order every read gives).
    """
    q = _Sql(schema)
    columns = list(table.column_names)
    values = table.take(pa.array(rows, type=pa.int64()))
    values = values.add_column(0, "__pos", pa.array(rows, type=pa.int64()))
    scratch = q.sql.Identifier("pg_temp", "gisrenew_rows")
    definitions = [q.sql.SQL("__pos bigint")] + [
        q.sql.SQL("{} " + _sql_type(f.type)).format(q.ident(f.name)) for f in table.schema
    ]
    conn.execute(q.sql.SQL("DROP TABLE IF EXISTS {}").format(scratch))
    conn.execute(
        q.sql.SQL("CREATE TEMP TABLE {} ({})").format(scratch, q.sql.SQL(", ").join(definitions))
    )
    buffer = stdio.BytesIO()
    pacsv.write_csv(values, buffer, pacsv.WriteOptions(include_header=False))
    statement = q.sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(scratch)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(buffer.getvalue())
    assignments = q.sql.SQL(", ").join(q.sql.SQL("{0} = r.{0}").format(q.ident(c)) for c in columns)
    conn.execute(
        q.sql.SQL(
            "UPDATE {0} AS t SET {1} FROM (SELECT {2}, row_number() OVER (ORDER BY {2}) - 1 "
            "AS __pos FROM {0}) AS o JOIN {3} AS r ON r.__pos = o.__pos WHERE t.{2} = o.{2}"
        ).format(q.table(name), assignments, q.ident(FID), scratch)
    )
    conn.execute(q.sql.SQL("DROP TABLE {}").format(scratch))


# ---------------------------------------------------------------- the change counter


def _tables_seen(conn, schema: str) -> dict[str, dict[str, Any]]:
    """Every ordinary table of the schema but the counter: OID, digest, trigger in place.

    The digest covers the columns (names and types, in order) and the table's comment
    (the recorded column mapping); ``tracked`` is true when the table carries the
    counting trigger, enabled ALWAYS, of the right kind, calling the schema's function.
    """
    rows = conn.execute(
        "SELECT c.relname, c.oid::bigint, md5(coalesce((SELECT string_agg(a.attname || ' ' "
        "|| format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) FROM pg_attribute a "
        "WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ' | ' || "
        "coalesce(obj_description(c.oid, 'pg_class'), '')), EXISTS (SELECT 1 FROM pg_trigger t "
        "WHERE t.tgrelid = c.oid AND t.tgname = %s AND t.tgenabled = 'A' AND t.tgtype = %s "
        "AND t.tgfoid IN (SELECT p.oid FROM pg_proc p WHERE p.pronamespace = n.oid "
        "AND p.proname = %s)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname <> %s",
        (CHANGES, _TRIGGER_TYPE, _COUNT, schema, CHANGES),
    ).fetchall()
    return {
        str(name): {"oid": int(oid), "digest": str(digest), "tracked": bool(tracked)}
        for name, oid, digest, tracked in rows
    }


def _fingerprint(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, list]:
    """What the results state records of the tables: ``{table: [oid, digest]}``.

    The results state's own table is left out (it is written after the fingerprint).
    """
    return {
        name: [seen["oid"], seen["digest"]]
        for name, seen in tables.items()
        if name != RESULTS_STATE
    }


def _changes(conn, schema: str) -> int | None:
    """The schema's change counter (None: no counter, or not one row)."""
    q = _Sql(schema)
    exists = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{CHANGES}"',)).fetchone()[0]
    if exists is None:
        return None
    rows = conn.execute(q.sql.SQL("SELECT n FROM {}").format(q.table(CHANGES))).fetchall()
    return int(rows[0][0]) if len(rows) == 1 and rows[0][0] is not None else None


def _track(conn, schema: str, tables: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Make the counter, its function and the trigger of every table lacking one.

    Returns the tables left without a trigger: those the role may not put one on (a
    table another role owns). Each trigger is made in a savepoint, so a refusal changes
    nothing else.
    """
    psycopg = _psycopg()
    q = _Sql(schema)
    counter, function = q.table(CHANGES), q.table(_COUNT)
    conn.execute(q.sql.SQL("CREATE TABLE IF NOT EXISTS {} (n bigint NOT NULL)").format(counter))
    conn.execute(
        q.sql.SQL("INSERT INTO {0} SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {0})").format(counter)
    )
    found = conn.execute("SELECT to_regprocedure(%s)", (f'"{schema}"."{_COUNT}"()',)).fetchone()
    if found[0] is None:
        conn.execute(
            q.sql.SQL(
                "CREATE FUNCTION {0}() RETURNS trigger LANGUAGE plpgsql "
                "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$ BEGIN "
                "IF coalesce(current_setting({2}, true), '') <> 'on' THEN "
                "UPDATE {1} SET n = n + 1; END IF; RETURN NULL; END $body$"
            ).format(function, counter, q.sql.Literal(_OWN_WRITE))
        )
    refused = []
    for name in (n for n, seen in tables.items() if not seen["tracked"]):
        try:
            with conn.transaction():  # a savepoint
                _add_trigger(conn, q, name)
        except psycopg.errors.InsufficientPrivilege:
            log.info("%s.%s: no change trigger (not the table's owner)", schema, name)
            refused.append(name)
    return refused


def _add_trigger(conn, q: _Sql, name: str) -> None:
    """(Re)make the counting trigger of table `name`, enabled ALWAYS (also on replicas)."""
    table, trigger = q.table(name), q.ident(CHANGES)
    conn.execute(q.sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(trigger, table))
    conn.execute(
        q.sql.SQL(
            "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {}()"
        ).format(trigger, table, q.table(_COUNT))
    )
    conn.execute(q.sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}").format(table, trigger))


def _start_tracking(conn, schema: str) -> None:
    """Before a transaction: put the counter and every missing trigger in place, committed.

    So the transaction's own check sees every table tracked from its start (and may
    vouch for the state it records). The counter is raised too: what happened while a
    trigger was missing or disabled is unknown, so no results state found stays current.
    """
    tables = _tables_seen(conn, schema)
    if not tables or (
        all(t["tracked"] for t in tables.values()) and _changes(conn, schema) is not None
    ):
        return
    q = _Sql(schema)
    with conn.transaction():
        _track(conn, schema, tables)
        conn.execute(q.sql.SQL("UPDATE {} SET n = n + 1").format(q.table(CHANGES)))


def _read_state(conn, schema: str) -> dict[str, Any] | None:
    """The results state document of the schema (None: none, or not one readable row)."""
    if RESULTS_STATE not in _table_names(conn, schema):
        return None
    frame = _read_frame(conn, schema, RESULTS_STATE, ["state"], geometry=False)
    if len(frame) != 1 or "state" not in frame.columns:
        return None
    try:
        state = json.loads(frame["state"].iloc[0])
    except (TypeError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _vouched_state(conn, schema: str, changes: int | None, tables) -> dict[str, Any] | None:
    """The stored results state when the change counter and the tables are as recorded."""
    state = _read_state(conn, schema)
    if state is None or changes is None:
        return None
    tracked = all(seen["tracked"] for seen in tables.values())
    same = state.get("store_tables") == _fingerprint(tables)
    if tracked and same and state.get("store_changes") == changes:
        return state
    return None


class PostgisTransaction(Transaction):
    """One database transaction on the project's schema (see the module docs).

    Parameters
    ----------
    store : PostgisStore
        The store being changed.
    conn : psycopg.Connection
        The connection holding the project lock, inside ``BEGIN``.
    column_map : callable
        ``kind -> [columns.<kind>]`` mapping, recorded with each input layer written.
    """

    def __init__(self, store: PostgisStore, conn, column_map: ColumnMap):
        super().__init__()
        self.store = store
        self.conn = conn
        self._column_map = column_map
        conn.execute("SELECT set_config(%s, 'on', true)", (_OWN_WRITE,))
        self._changes_found = _changes(conn, store.schema)
        self._tables_found = _tables_seen(conn, store.schema)
        self._state_found = self._current_state()

    def _current_state(self) -> dict[str, Any] | None:
        """The stored results state when nothing was written since it was recorded."""
        return _vouched_state(self.conn, self.store.schema, self._changes_found, self._tables_found)

    def _has(self, name: str) -> bool:
        return name in _table_names(self.conn, self.store.schema)

    def write_layer(self, name: str, gdf: gpd.GeoDataFrame) -> None:
        """Write (or replace) layer `name`: a PostGIS table with a GiST index."""
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise TypeError("write_layer needs a GeoDataFrame; use write_table for tables")
        if gdf.crs is None:
            raise ProjectError(f"layer {name!r} has no CRS; the project store needs one")
        _write_frame(self.conn, self.store.schema, name, gdf, _key_of(name))
        self._written(name)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Write (or replace) the non-spatial table `name`."""
        _write_frame(self.conn, self.store.schema, name, pd.DataFrame(frame), None)
        self._written(name)

    def write_input_layer(self, kind: str, gdf: gpd.GeoDataFrame) -> None:
        """Write input layer `kind` (the user's columns), recording its column mapping."""
        if gdf.crs is None:
            raise ProjectError(f"layer {kind!r} has no CRS; the project store needs one")
        stored = gdf.drop(columns=gdf.attrs.get("defaulted_columns", []))
        self.write_stored_layer(kind, stored, self._column_map(kind))

    def write_stored_layer(self, name: str, frame: pd.DataFrame, recorded: Any) -> None:
        """Write `frame` as stored elsewhere, with the column mapping `recorded` (copies)."""
        if isinstance(frame, gpd.GeoDataFrame):
            _write_frame(self.conn, self.store.schema, name, frame, _key_of(name))
        else:
            _write_frame(self.conn, self.store.schema, name, frame, None)
        if recorded is not None:
            _comment(self.conn, self.store.schema, name, recorded)
        self._written(name)

    def update_layer(
        self, name: str, frame: pd.DataFrame, stored: pd.DataFrame | None = None
    ) -> int:
        """Write `frame` as layer (or table) `name`, changing only the rows that differ.

        `stored` is what the layer holds now, row for row in its stored order (``fid``
        order); only the attribute values of `frame`'s rows that differ from it are
        written, in place (one ``UPDATE`` from a temporary table filled by COPY). The
        caller vouches that the geometry is the same; when `stored` has a geometry too it
        is checked. Without `stored`, or when the table's rows, columns or types do not
        match, the layer is written whole.

        Returns
        -------
        int
            The number of rows written.
        """
        columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
        if stored is None or not self._has(name) or not same_geometry(frame, stored):
            return self._write_whole(name, frame)
        if set(columns) - set(stored.columns):
            return self._write_whole(name, frame)
        table = _arrow_table(io.plain_columns(pd.DataFrame(frame[columns])).reset_index(drop=True))
        refused = _update_refused(self.conn, self.store.schema, name, table, len(frame))
        if refused is not None:
            log.debug("layer %s written whole: %s", name, refused)
            return self._write_whole(name, frame)
        rows = changed_rows(frame, stored, columns)
        if len(rows):
            _update_rows(self.conn, self.store.schema, name, table, rows)
            self._written(name)
        return len(rows)

    def delete_layer(self, name: str) -> None:
        """Drop table `name` (no error when absent)."""
        if not self._has(name):
            return
        _drop_table(self.conn, self.store.schema, name)
        self._written(name)

    def read_table(self, name: str) -> pd.DataFrame | None:
        """Table `name` as it stands inside this transaction (None: absent)."""
        if not self._has(name):
            return None
        return _read_frame(self.conn, self.store.schema, name, None, geometry=False)

    def read_columns(self, name: str, columns: Sequence[str]) -> pd.DataFrame | None:
        """Columns `columns` of layer `name` inside this transaction (no geometry)."""
        if not self._has(name):
            return None
        return _read_frame(self.conn, self.store.schema, name, list(columns), geometry=False)

    def read_layer(self, name: str) -> gpd.GeoDataFrame | None:
        """Layer `name` with its geometry inside this transaction (None: absent)."""
        if not self._has(name):
            return None
        return _read_frame(self.conn, self.store.schema, name, None, geometry=True)

    def results_state(self) -> dict[str, Any] | None:
        """What the result layers were computed from, when no other session wrote since.

        The document the last :meth:`record_results_state` wrote, returned only when the
        schema's change counter, its tables (OIDs, columns, comments) and the counting
        triggers are as recorded with it (see "Results current" in the module docs).
        """
        return None if self._state_found is None else dict(self._state_found)

    def finish(self) -> None:
        """Raise the change counter once and write the results state with it, last.

        The state written is the one recorded by this run, else the one found when this
        transaction changed no input layer; it vouches for the tables only when every
        table was tracked when the transaction began and no other session raised the
        counter since (its write may have come after this run read the layers).
        """
        schema = self.store.schema
        state = self._state_new
        if state is None and self._state_found is not None and not self._inputs_written:
            state = {k: v for k, v in self._state_found.items() if not k.startswith("store_")}
        tables = _tables_seen(self.conn, schema)
        untracked = _track(self.conn, schema, tables)
        q = _Sql(schema)
        before, after = self.conn.execute(
            q.sql.SQL("UPDATE {} SET n = n + 1 RETURNING n - 1, n").format(q.table(CHANGES))
        ).fetchone()
        if state is None:
            return
        if not untracked and self._vouches(int(before), tables):
            state = {**state, "store_changes": int(after), "store_tables": _fingerprint(tables)}
        frame = pd.DataFrame({"state": [json.dumps(state, sort_keys=True)]})
        _write_frame(self.conn, schema, RESULTS_STATE, frame, None)
        if RESULTS_STATE not in tables:
            _track(self.conn, schema, _tables_seen(self.conn, schema))

    def _vouches(self, changes: int, tables: Mapping[str, Mapping[str, Any]]) -> bool:
        """True when no other session can have changed a table during this transaction."""
        if self._changes_found is None or changes != self._changes_found:
            return False
        if not all(seen["tracked"] for seen in self._tables_found.values()):
            return False
        untouched = set(self._tables_found) - set(self.changed)
        return all(
            name in tables and tables[name]["oid"] == self._tables_found[name]["oid"]
            for name in untouched
        )


class PostgisStore(Store):
    """A project's schema in a PostgreSQL + PostGIS database.

    Parameters
    ----------
    conninfo : str
        ``postgresql://host:port/db`` or ``service=NAME`` (no password: see the module docs).
    schema : str
        The project's schema (one per project).
    folder : Path
        The project folder (``gisrenew.toml``).
    """

    def __init__(self, conninfo: str, schema: str, folder: Path):
        self.conninfo = conninfo
        self.schema = schema
        self.folder = Path(folder)
        self._reader = None
        self._writer = None  # the connection holding the lock

    def describe(self) -> str:
        """``postgresql://host:port/db schema S`` or ``service=NAME schema S``."""
        return store_label(self.conninfo, self.schema)

    def _conn(self):
        if self._reader is None or self._reader.closed:
            self._reader = connect(self.conninfo, self.describe())
        return self._reader

    def close(self) -> None:
        """Close the reading connection (a new one opens when needed)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def check(self) -> None:
        """Raise ProjectError when the database is unreachable or the schema holds nothing."""
        if not self.exists():
            raise ProjectError(
                f"{self.describe()}: the project's schema holds no layers. Fix: make the "
                f"project with `gisrenew init {self.folder} --store ... --schema "
                f"{self.schema} FILES...`, or check [project] schema in gisrenew.toml."
            )

    def exists(self) -> bool:
        """True when the schema holds at least one table."""
        return bool(_table_names(self._conn(), self.schema))

    def layer_names(self) -> list[str]:
        """Names of every table of the schema."""
        return _table_names(self._conn(), self.schema)

    def layer_crs(self, name: str) -> CRS | None:
        """The CRS of the layer's SRID."""
        found = _table_columns(self._conn(), self.schema, name)
        geom = next((c for c, t in found if t == "geometry"), None)
        srid = _srid(self._conn(), self.schema, name, geom) if geom else 0
        return CRS.from_epsg(srid) if srid > 0 else None

    def load_layer(
        self, name: str, kind: str, *, working_crs, columns: dict
    ) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
        """Layer `name` validated and conformed like a file, messages naming schema.table."""
        gdf = _read_frame(self._conn(), self.schema, name, None, geometry=True)
        if not isinstance(gdf, gpd.GeoDataFrame):
            problem = Problem(
                "error", "the table has no geometry column", self.describe(),
                f"{self.schema}.{name}", fix="give the table a PostGIS geometry column",
                category="read",
            )  # fmt: skip
            return None, [problem]
        return io.load_frame(
            gdf, kind, source=self.describe(), layer=f"{self.schema}.{name}",
            working_crs=working_crs, columns=columns,
        )  # fmt: skip

    def recorded_columns(self, name: str) -> Any:
        """The column mapping kept in the table's comment (None: none recorded)."""
        return _recorded_columns(self._conn(), self.schema, name)

    def read_table(self, name: str) -> pd.DataFrame:
        """Table `name` without geometry."""
        return _read_frame(self._conn(), self.schema, name, None, geometry=False)

    def read_result(self, name: str) -> gpd.GeoDataFrame:
        """Layer `name` as stored."""
        return _read_frame(self._conn(), self.schema, name, None, geometry=True)

    def results_state(self) -> dict[str, Any] | None:
        """The results state when no other session wrote the schema since it was recorded."""
        conn = self._conn()
        changes, tables = _changes(conn, self.schema), _tables_seen(conn, self.schema)
        return _vouched_state(conn, self.schema, changes, tables)

    @contextlib.contextmanager
    def lock(self, timeout_s: float, purpose: str) -> Iterator[None]:
        """Hold the session advisory lock of the schema (see the module docs)."""
        name = _ascii(f"gisrenew {purpose} pid {os.getpid()}")
        conn = connect(self.conninfo, self.describe(), application_name=name)
        try:
            deadline = time.monotonic() + timeout_s
            while not self._try_lock(conn):
                if time.monotonic() >= deadline:
                    raise lock_refused(self.describe(), self._holder(conn))
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
            self._writer = conn
            clean_stale_workfiles(self.folder)  # staged settings files of killed runs
            yield
        finally:
            self._writer = None
            conn.close()  # ends the session: the server releases the lock

    def _try_lock(self, conn) -> bool:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_KEY, self.schema)
        ).fetchone()
        return bool(row[0])

    def _holder(self, conn) -> str:
        row = conn.execute(
            "SELECT a.application_name, a.backend_start, a.client_hostname, a.client_addr "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = %s AND l.objid::bigint = (hashtext(%s)::bigint & 4294967295)",
            (LOCK_KEY, self.schema),
        ).fetchone()
        if row is None:
            return "holder unknown"
        application, since, host, address = row
        where = host or (str(address) if address else "")
        parts = [str(application or "a session without a name")]
        parts += [f"from {where}"] if where else []
        parts += [f"since {since.isoformat(timespec='seconds')}"] if since else []
        return ", ".join(parts)

    @contextlib.contextmanager
    def transaction(self, column_map: ColumnMap) -> Iterator[PostgisTransaction]:
        """One database transaction on the lock's connection (call inside :meth:`lock`)."""
        if self._writer is None:
            raise RuntimeError("PostgisStore.transaction needs the project lock (Project.lock)")
        with self._writing():
            _start_tracking(self._writer, self.schema)
        with self._writing(), self._writer.transaction():
            tx = PostgisTransaction(self, self._writer, column_map)
            yield tx
            tx.finish()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A database error while writing as a ProjectError: nothing was changed."""
        psycopg = _psycopg()
        try:
            yield
        except psycopg.Error as exc:
            raise ProjectError(
                f"{self.describe()}: the database refused the update ({_scrubbed(exc)}); the "
                "project was left unchanged. Fix: check that the role may create tables in "
                "the schema (README: A bureau's shared PostGIS), then run again."
            ) from None

    def write_new(self, layers: Mapping[str, pd.DataFrame], recorded: Mapping[str, Any]) -> None:
        """Make the schema anew from `layers`, in one transaction (its old tables dropped)."""
        q = _Sql(self.schema)
        with self.transaction(lambda kind: recorded.get(kind)) as tx:
            tx.conn.execute(
                q.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(q.ident(self.schema))
            )
            for name in _table_names(tx.conn, self.schema):
                tx.delete_layer(name)
            for name, frame in layers.items():
                stored = frame.drop(columns=frame.attrs.get("defaulted_columns", []))
                tx.write_stored_layer(name, stored, recorded.get(name))
