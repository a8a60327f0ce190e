"""The GeoPackage project store: one file in the project folder, no server.

Safety rules
------------
* **Atomic writes.** A transaction copies the GeoPackage to a work file (``.txn-*`` in
  the project folder), applies every change to the copy, checks that the copy is still
  its own (same device and inode, a whole GeoPackage with the layers it started from plus
  the changed ones), flushes it to disk and swaps it in with ``os.replace`` (atomic on
  POSIX file systems). A run killed at any point leaves the project exactly as before or
  exactly as after. :meth:`GeoPackageStore.write_new` writes the new store completely
  before it replaces the old one.
* **One writer at a time.** Every write — and every clean-up of work files — holds an
  exclusive ``flock`` on ``.gisrenew.lock`` in the project folder (removed again when the
  run ends, so a finished run leaves nothing behind); a second writer waits up to
  ``timeout_s`` (a finite number of seconds) and then gets a
  :class:`~gisrenew.errors.LockError` naming the holder. The operating system releases
  the lock when a process dies, so a killed run never leaves a stale lock behind.
* **Readers change nothing.** Reading never deletes or writes a file; work files
  abandoned by killed runs are removed by the next run that holds the lock.
* **Damaged stores are named.** A truncated or corrupt GeoPackage is a
  :class:`~gisrenew.errors.ProjectError` naming the file and the fix, not a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
from pyproj import CRS

from gisrenew import gpkg, io, outfiles
from gisrenew.errors import Problem, ProjectError
from gisrenew.schema import LAYERS
from gisrenew.store.base import (
    RESULTS_STATE,
    ColumnMap,
    Store,
    Transaction,
    lock_refused,
    same_geometry,
)

__all__ = [
    "COLUMNS_METADATA",
    "LOCK_FILE",
    "TMP_PREFIX",
    "GeoPackageStore",
    "GeoPackageTransaction",
    "clean_stale_workfiles",
    "folder_lock",
]

log = logging.getLogger(__name__)

LOCK_FILE = ".gisrenew.lock"
#: Prefix of the work files of a transaction (and of staged settings files).
TMP_PREFIX = ".txn-"
#: Layer metadata key of a stored input layer: the ``[columns.<layer>]`` mapping it was
#: read with (JSON), so a later change of the mapping is noticed (``Project.load``).
COLUMNS_METADATA = "GISRENEW_COLUMNS"
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: GDAL's setting of SQLite's ``PRAGMA synchronous`` for the GeoPackages it writes.
_SYNCHRONOUS = "OGR_SQLITE_SYNCHRONOUS"
#: Errors of GDAL/SQLite when a GeoPackage cannot be read.
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, sqlite3.Error)


def _store_problem(path: Path) -> str | None:
    """What is wrong with the GeoPackage at `path` on the face of it; None when it looks whole.

    Reads the 100-byte SQLite header only: the magic string, and the page count
    against the file size (a truncated copy is shorter than its header says).
    """
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return "is not a GeoPackage (its first bytes are not those of an SQLite database)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # the page count in the header is valid when its change counter matches (SQLite ≥ 3.7)
    expected = pages * page_size
    if header[24:28] == header[92:96] and size < expected:
        return f"is truncated: {size:,} bytes of {expected:,}"
    return None


def _damaged(path: Path, problem: str) -> ProjectError:
    folder = path.parent
    return ProjectError(
        f"{path}: the project's GeoPackage {problem}. The file is damaged (an interrupted "
        "copy, a full disk or a failing drive). Fix: restore it from a backup, or make the "
        f"project again from your files with `gisrenew init {folder} --force --parks FILE "
        "--residential FILE ...`."
    )


def _layer_names(path: Path) -> list[str]:
    if not path.exists():
        return []
    try:
        return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except _READ_ERRORS as exc:
        raise _damaged(path, f"cannot be opened ({exc})") from exc


def _write_input_layer(path: Path, kind: str, gdf: pd.DataFrame, mapping: Any) -> None:
    """Write an input layer into the GeoPackage at `path`, with the mapping it was read with.

    The store keeps the user's columns; absent ones are filled with defaults on every read.
    A table, or a layer without a recorded mapping (None), is written as it is.
    """
    stored = gdf.drop(columns=gdf.attrs.get("defaulted_columns", []))
    metadata = None if mapping is None else {
        COLUMNS_METADATA: json.dumps(mapping, ensure_ascii=False, sort_keys=True)
    }  # fmt: skip
    pyogrio.write_dataframe(
        io.plain_columns(stored), path, layer=kind, driver="GPKG", layer_metadata=metadata
    )


def _current_state(path: Path) -> dict[str, Any] | None:
    """The results state of the store at `path` when no write reached it since it was recorded."""
    state = gpkg.read_state(path, RESULTS_STATE)
    if state is None or state.get("store_counter") is None:
        return None
    return state if state["store_counter"] == gpkg.change_counter(path) else None


def _drop_gpkg_table(path: Path, name: str) -> None:
    """Drop a layer or attribute table from a GeoPackage, with its bookkeeping rows."""
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        geometry = con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)
        ).fetchone()
        if geometry is not None:
            con.execute(f'DROP TABLE IF EXISTS "rtree_{name}_{geometry[0]}"')
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        for table in (
            "gpkg_geometry_columns",
            "gpkg_contents",
            "gpkg_extensions",
            "gpkg_ogr_contents",
        ):
            exists = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            if exists:
                con.execute(f"DELETE FROM {table} WHERE lower(table_name) = lower(?)", (name,))


class GeoPackageTransaction(Transaction):
    """A transaction on a work copy of the GeoPackage (see the module docs).

    Parameters
    ----------
    store : GeoPackageStore
        The store being changed.
    workfile : Path
        This transaction's work copy of the store.
    column_map : callable
        ``kind -> [columns.<kind>]`` mapping, recorded with each input layer written.
    """

    def __init__(self, store: GeoPackageStore, workfile: Path, column_map: ColumnMap):
        super().__init__()
        self.store = store
        self.workfile = workfile
        self._column_map = column_map
        st = os.lstat(workfile)
        self._identity = (st.st_dev, st.st_ino)
        self._layers = {name.lower() for name in _layer_names(workfile)}
        self._state_found = _current_state(workfile)

    def _check_own(self) -> None:
        try:
            st = os.lstat(self.workfile)
        except OSError:
            st = None
        if st is None or stat.S_ISLNK(st.st_mode) or (st.st_dev, st.st_ino) != self._identity:
            raise ProjectError(
                f"{self.store.folder}: this run's work copy of the project "
                f"({self.workfile.name}) was removed or replaced by another program while the "
                "run was writing it; the project was left unchanged. Fix: stop whatever cleans "
                "up the project folder (another copy of gisrenew older than this one?) and run "
                "again."
            )

    def verify(self, path: Path | None = None) -> None:
        """Check the work copy before it replaces the store; raise ProjectError when it is not.

        It must be the file this transaction made (same device and inode), a whole
        GeoPackage, and hold exactly the layers the store had plus the ones written
        and minus the ones deleted.
        """
        path = self.workfile if path is None else path
        self._check_own()
        problem = _store_problem(path)
        found = {name.lower() for name in _layer_names(path)} if problem is None else set()
        if problem is None and found != self._layers:
            problem = (
                f"holds the layers {sorted(found)} instead of {sorted(self._layers)} "
                f"(work copy {path.name})"
            )
        if problem is not None:
            raise ProjectError(
                f"{self.store.path}: the update was not applied because its work copy "
                f"{problem}; the project was left unchanged. Fix: run again."
            )

    def _written(self, name: str) -> None:
        self._layers.add(name.lower())
        super()._written(name)

    def write_layer(self, name: str, gdf: gpd.GeoDataFrame) -> None:
        """Write (or replace) layer `name` in the store."""
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise TypeError("write_layer needs a GeoDataFrame; use write_table for tables")
        if gdf.crs is None:
            raise ProjectError(f"layer {name!r} has no CRS; the project store needs one")
        self._check_own()
        pyogrio.write_dataframe(io.plain_columns(gdf), self.workfile, layer=name, driver="GPKG")
        self._written(name)

    def update_layer(
        self, name: str, frame: pd.DataFrame, stored: pd.DataFrame | None = None
    ) -> int:
        """Write `frame` as layer (or table) `name`, changing only the rows that differ.

        `stored` is what the layer holds now, row for row in its stored order (the
        result it was written from, or its attribute columns read back); only the
        attribute values of `frame`'s rows that differ from it are written, in place
        (:func:`gisrenew.gpkg.update_rows`). The caller vouches that the geometry is the
        same; when `stored` has a geometry too it is checked. Without `stored`, or when
        the layer's rows, columns or types do not match, the layer is written whole.

        Returns
        -------
        int
            The number of rows written.
        """
        columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
        if stored is None or name.lower() not in self._layers or not same_geometry(frame, stored):
            return self._write_whole(name, frame)
        if set(columns) - set(stored.columns):
            return self._write_whole(name, frame)
        rows = gpkg.changed_rows(frame, stored, columns)
        self._check_own()
        try:
            if len(rows):
                changed = io.plain_columns(pd.DataFrame(frame[columns].iloc[rows]))
                gpkg.update_rows(self.workfile, name, changed, rows, n_features=len(frame))
        except gpkg.UpdateRefused as why:
            log.debug("layer %s written whole: %s", name, why)
            return self._write_whole(name, frame)
        if len(rows):
            self._written(name)
        return len(rows)

    def results_state(self) -> dict[str, Any] | None:
        """What the store's result layers were computed from, when still current.

        The document the last :meth:`record_results_state` wrote, returned only when no
        write of any kind has reached the GeoPackage since — by gisrenew or by another
        program (QGIS, ``ogr2ogr``, a restored backup of another state): the store
        records with it SQLite's file change counter, which every write transaction
        raises. A file in WAL mode does not raise it for every write, so its state is
        never current. Transactions that change no input layer (e.g. removing a run's
        map layers) carry a current state over to the new file.
        """
        return None if self._state_found is None else dict(self._state_found)

    def finish(self) -> None:
        """Write the results state as the last change (see :meth:`results_state`)."""
        state = self._state_new
        if state is None and self._state_found is not None and not self._inputs_written:
            state = {k: v for k, v in self._state_found.items() if k != "store_counter"}
        if state is None:
            return
        self._check_own()
        gpkg.write_state(self.workfile, RESULTS_STATE, state)
        self._layers.add(RESULTS_STATE)

    def write_input_layer(self, kind: str, gdf: gpd.GeoDataFrame) -> None:
        """Write (or replace) input layer `kind`, recording the column mapping it was read with."""
        if gdf.crs is None:
            raise ProjectError(f"layer {kind!r} has no CRS; the project store needs one")
        self._check_own()
        _write_input_layer(self.workfile, kind, gdf, self._column_map(kind))
        self._written(kind)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Write (or replace) the non-spatial table `name`."""
        frame = pd.DataFrame(frame)
        self._check_own()
        pyogrio.write_dataframe(io.plain_columns(frame), self.workfile, layer=name, driver="GPKG")
        self._written(name)

    def read_table(self, name: str) -> pd.DataFrame | None:
        """Read a table as it stands inside this transaction."""
        self._check_own()
        if name.lower() not in self._layers:
            return None
        return pyogrio.read_dataframe(
            self.workfile, layer=name, read_geometry=False, use_arrow=True
        )

    def read_columns(self, name: str, columns: Sequence[str]) -> pd.DataFrame | None:
        """Columns `columns` of layer `name` as it stands inside this transaction (no geometry)."""
        self._check_own()
        if name.lower() not in self._layers:
            return None
        return pyogrio.read_dataframe(
            self.workfile, layer=name, read_geometry=False, columns=list(columns), use_arrow=True
        )

    def read_layer(self, name: str) -> gpd.GeoDataFrame | None:
        """Layer `name` with its geometry as it stands inside this transaction (None: absent)."""
        self._check_own()
        if name.lower() not in self._layers:
            return None
        return pyogrio.read_dataframe(self.workfile, layer=name, use_arrow=True)

    def delete_layer(self, name: str) -> None:
        """Remove layer or table `name` from the store (no error when absent)."""
        self._check_own()
        if name not in _layer_names(self.workfile):
            return
        _drop_gpkg_table(self.workfile, name)
        self._layers.discard(name.lower())
        self.changed.append(name)
        self._inputs_written |= name in LAYERS


class GeoPackageStore(Store):
    """A project's GeoPackage (the embedded default store).

    Parameters
    ----------
    path : Path
        The GeoPackage (``[project] store`` / ``gpkg``, relative to the project folder).
    folder : Path
        The project folder: the lock file and work files are kept there.
    """

    def __init__(self, path: Path, folder: Path):
        self.path = Path(path)
        self.folder = Path(folder)
        self._names: tuple[tuple, list[str]] | None = None  # file identity, layer names

    def describe(self) -> str:
        """The GeoPackage's path."""
        return str(self.path)

    def check(self) -> None:
        """Raise ProjectError when the GeoPackage is missing or damaged."""
        if not self.path.is_file():
            raise ProjectError(
                f"{self.path} is missing: the project's GeoPackage named in "
                f"{self.folder / 'gisrenew.toml'} does not exist"
            )
        problem = _store_problem(self.path)
        if problem is not None:
            raise _damaged(self.path, problem)
        _layer_names(self.path)  # opens it: a damaged catalogue is a ProjectError

    def exists(self) -> bool:
        """True when the GeoPackage file exists."""
        return self.path.exists()

    def owned_files(self) -> list[Path]:
        """The GeoPackage and SQLite's sidecar files."""
        return [self.path] + [Path(f"{self.path}{s}") for s in ("-journal", "-wal", "-shm")]

    def layer_names(self) -> list[str]:
        """Names of every layer and table (listed again when the file changed)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return _layer_names(self.path)
        identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if self._names is None or self._names[0] != identity:
            self._names = (identity, _layer_names(self.path))
        return list(self._names[1])

    @contextlib.contextmanager
    def _reading(self, layer: str) -> Iterator[None]:
        """Turn a GDAL/SQLite failure to read the store into a ProjectError with the fix."""
        try:
            yield
        except _READ_ERRORS as exc:
            raise _damaged(self.path, f"cannot be read (layer {layer}: {exc})") from exc

    def layer_crs(self, name: str) -> CRS | None:
        """The CRS GDAL reads for layer `name`."""
        with self._reading(name):
            info = pyogrio.read_info(self.path, layer=name)
        return None if info["crs"] is None else CRS.from_user_input(info["crs"])

    def load_layer(
        self, name: str, kind: str, *, working_crs, columns: dict
    ) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
        """Layer `name` read by :func:`gisrenew.io.load_layer` as layer `kind`."""
        with self._reading(name):
            gdf, problems = io.load_layer(
                self.path, kind, layer=name, working_crs=working_crs, columns=columns
            )
        unreadable = [p for p in problems if p.severity == "error" and p.category == "read"]
        if unreadable:
            raise _damaged(self.path, f"cannot be read (layer {name}: {unreadable[0].message})")
        return gdf, problems

    def recorded_columns(self, name: str) -> Any:
        """The column mapping recorded in the layer's metadata (None: none recorded)."""
        with self._reading(name):
            metadata = pyogrio.read_info(self.path, layer=name).get("layer_metadata") or {}
        recorded = metadata.get(COLUMNS_METADATA)
        if recorded is None:
            return None
        try:
            return json.loads(recorded)
        except ValueError:
            return "unreadable"

    def read_table(self, name: str) -> pd.DataFrame:
        """Table `name` as pyogrio reads it (no geometry)."""
        with self._reading(name):
            return pyogrio.read_dataframe(self.path, layer=name, read_geometry=False)

    def results_state(self) -> dict[str, Any] | None:
        """The results state when no write reached the GeoPackage since it was recorded."""
        return _current_state(self.path) if self.path.is_file() else None

    def read_result(self, name: str) -> gpd.GeoDataFrame:
        """Layer `name` as stored."""
        with self._reading(name):
            return gpd.read_file(self.path, layer=name, engine="pyogrio")

    def lock(self, timeout_s: float, purpose: str) -> contextlib.AbstractContextManager[None]:
        """The ``flock`` on ``.gisrenew.lock`` in the project folder (see :func:`folder_lock`)."""
        return folder_lock(self.folder, timeout_s, purpose)

    @contextlib.contextmanager
    def transaction(self, column_map: ColumnMap) -> Iterator[GeoPackageTransaction]:
        """Changes to a work copy that replaces the GeoPackage when the block ends (verified)."""
        tx: GeoPackageTransaction | None = None

        def verify(work: Path) -> None:
            if tx is not None:
                tx.verify(work)

        with outfiles.atomic_path(
            self.path, prefix=TMP_PREFIX, verify=verify, error=ProjectError
        ) as work:
            shutil.copyfile(self.path, work)
            tx = GeoPackageTransaction(self, work, column_map)
            with unsynced_writes():
                yield tx
                tx.finish()

    def write_new(self, layers: Mapping[str, pd.DataFrame], recorded: Mapping[str, Any]) -> None:
        """Write `layers` as a new GeoPackage beside the old one; swap it in when complete."""
        expected = {kind.lower() for kind in layers}

        def verify(work: Path) -> None:
            problem = _store_problem(work)
            found = {n.lower() for n in _layer_names(work)} if problem is None else set()
            if problem is not None or found != expected:
                raise ProjectError(
                    f"{self.path}: the new GeoPackage came out incomplete "
                    f"({problem or sorted(found)}); the old project was left as it was. "
                    "Fix: run again."
                )

        with (
            outfiles.atomic_path(
                self.path, prefix=TMP_PREFIX, verify=verify, error=ProjectError
            ) as work,
            unsynced_writes(),
        ):
            for name, frame in layers.items():
                _write_input_layer(work, name, frame, recorded.get(name))


@contextlib.contextmanager
def unsynced_writes() -> Iterator[None]:
    """GDAL's writes to a work copy without SQLite's flush after each statement.

    Safe for a work copy only: :func:`gisrenew.outfiles.atomic_path` flushes the whole
    file to disk (``fsync``) before it replaces the store, so a crash before that leaves
    the store untouched however much of the copy reached the disk. Each layer written
    otherwise pays SQLite's ``synchronous = FULL`` flushes (about 0.1 s per layer on a
    busy disk). GDAL's configuration is process-wide: the previous value comes back.
    """
    previous = pyogrio.get_gdal_config_option(_SYNCHRONOUS)
    pyogrio.set_gdal_config_options({_SYNCHRONOUS: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({_SYNCHRONOUS: previous})


def clean_stale_workfiles(folder: Path) -> None:
    """Remove work files abandoned by killed runs; call only while holding the lock."""
    for path in folder.glob(f"{TMP_PREFIX}*"):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            log.warning("could not remove %s left by an interrupted run: %s", path, exc)
        else:
            log.info("removed %s left by an interrupted run", path.name)


@contextlib.contextmanager
def folder_lock(folder: Path, timeout_s: float, purpose: str) -> Iterator[None]:
    """Hold the exclusive ``flock`` on ``.gisrenew.lock`` in `folder` (see the module docs).

    Whoever holds the lock knows that no other run is writing, so work files left in
    the folder were abandoned by killed runs: they are removed here.
    """
    path = folder / LOCK_FILE
    fd = _locked_file(path, folder, timeout_s)
    try:
        info = {
            "pid": os.getpid(),
            "host": os.uname().nodename,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "purpose": purpose,
        }
        with contextlib.suppress(OSError):  # who holds the lock is a courtesy (disk full?)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        clean_stale_workfiles(folder)
        yield
    finally:
        with contextlib.suppress(OSError):  # while still holding it: see _locked_file
            os.unlink(path)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _open_lock_file(path: Path) -> int:
    """Open the lock file without following a link planted in its place."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ProjectError(
                f"{path} is a symbolic link; gisrenew's lock file must be a plain file. Fix: "
                "delete the link (gisrenew makes the file again)."
            ) from None
        raise ProjectError(f"{path}: cannot open the project's lock file ({exc.strerror})") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ProjectError(f"{path} is not a plain file. Fix: delete it (gisrenew makes it again).")
    return fd


def _same_file(fd: int, path: Path) -> bool:
    """True when `path` (not followed) is still the file open as `fd`."""
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _locked_file(path: Path, folder: Path, timeout_s: float) -> int:
    """Open and lock the project's lock file; return its descriptor.

    A run removes the lock file when it ends, while still holding the lock, so no
    file is left behind in the project folder. A run that was waiting then holds a
    lock on a removed file: it sees that the path no longer names its file, and
    opens and locks the new one.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        fd = _open_lock_file(path)
        try:
            _acquire(fd, path, folder, max(0.0, deadline - time.monotonic()))
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            return fd
        os.close(fd)


def _acquire(fd: int, path: Path, folder: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise ProjectError(
                    f"{path}: cannot lock the project ({exc.strerror}); its file system may not "
                    "support locks. Fix: keep the project on a local disk or on a share that "
                    "supports file locks."
                ) from exc
        if time.monotonic() >= deadline:
            raise lock_refused(str(folder), _read_holder(path))
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def _read_holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    parts = [f"pid {info.get('pid', '?')}"]
    if info.get("host"):
        parts.append(f"on {info['host']}")
    parts.append(f"since {info.get('since', '?')}")
    if info.get("purpose"):
        parts.append(str(info["purpose"]))
    return ", ".join(parts)
