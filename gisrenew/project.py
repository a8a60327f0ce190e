"""The project store: a folder with ``gisrenew.toml`` and one GeoPackage.

GeoPackage is the embedded default — no server is needed. The store holds the
input layers (``parks``, ``residential``, ``parcels``, ``plans``, ``boundary``,
``districts``, ``roads``, optional ``entrances`` and ``candidates``), result layers
written by analyses, and non-spatial tables such as ``run_history``.

Safety rules
------------
* **Atomic writes.** :meth:`Project.transaction` copies the GeoPackage to a work file
  (``.txn-*`` in the project folder), applies every change to the copy, checks that the
  copy is still its own (same device and inode, a whole GeoPackage with the layers it
  started from plus the changed ones), flushes it to disk and swaps it in with
  ``os.replace`` (atomic on POSIX file systems). A run killed at any point leaves the
  project exactly as before or exactly as after. :meth:`Project.create` with
  ``overwrite=True`` writes the new store completely before it replaces the old one.
* **One writer at a time.** Every write — and every clean-up of work files — holds an
  exclusive ``flock`` on ``.gisrenew.lock`` in the project folder (removed again when
  the run ends, so a finished run leaves nothing behind); a second writer waits
  up to ``timeout_s`` (a finite number of seconds) and then gets a
  :class:`~gisrenew.errors.LockError` naming the holder. The operating system releases
  the lock when a process dies, so a killed run never leaves a stale lock behind.
* **Readers change nothing.** Opening and reading a project never deletes or writes a
  file; work files abandoned by killed runs are removed by the next run that holds the
  lock (which knows that no other run is writing).
* **Damaged stores are named.** A truncated or corrupt GeoPackage is a
  :class:`~gisrenew.errors.ProjectError` naming the file and the fix, not a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import logging
import math
import os
import shutil
import sqlite3
import stat
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS

from gisrenew import crs as crs_rules
from gisrenew import gpkg, io, outfiles
from gisrenew.config import CONFIG_FILE, ProjectConfig, merged_settings, update_settings_text
from gisrenew.errors import InputError, LockError, Problem, ProjectError, raise_for_problems
from gisrenew.schema import LAYERS, get_layer_schema

__all__ = [
    "LOCK_FILE",
    "RESULTS_STATE",
    "Project",
    "Transaction",
    "copy_project",
    "owned_files",
    "read_only_message",
]

log = logging.getLogger(__name__)

LOCK_FILE = ".gisrenew.lock"
#: The table of the store that records what its result layers were computed from.
RESULTS_STATE = "results_state"
_TMP_PREFIX = ".txn-"
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Errors of GDAL/SQLite when a GeoPackage cannot be read.
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, sqlite3.Error)


def copy_project(source: str | os.PathLike, target: str | os.PathLike) -> Project:
    """Copy the project in `source` to the new folder `target`; the copy is writable.

    For working on the bundled (read-only) sample: the lock and work files are left
    behind and ``[project] read_only`` is cleared in the copy's ``gisrenew.toml`` (every
    other line of it kept as written).

    Raises
    ------
    ProjectError
        When `source` is not a project or `target` exists.
    """
    source, target = Path(source), Path(target)
    Project.open(source)
    if target.exists():
        raise ProjectError(f"{target} exists. Fix: give a new folder for the copy.")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(f"{_TMP_PREFIX}*", LOCK_FILE))
    settings = target / CONFIG_FILE
    text = settings.read_text(encoding="utf-8")
    if ProjectConfig.load(settings).read_only:
        changed = update_settings_text(text, {"project": {"read_only": False}}, where=str(settings))
        outfiles.write_text(settings, changed)
    return Project.open(target)


def read_only_message(folder: Path, action: str) -> str:
    """Why `action` is refused on the read-only project in `folder`, and the fix."""
    copy = folder.parent / f"{folder.name}-copy"
    return (
        f"{folder} is read-only ([project] read_only = true in its {CONFIG_FILE}: the "
        f"bundled sample stays as shipped), so gisrenew does not {action} there. Fix: work "
        f"on a copy (`cp -r {folder} {copy}`, then set read_only = false in "
        f"{copy / CONFIG_FILE}; in Python `gisrenew.project.copy_project`), or run "
        "`gisrenew demo`, which copies the sample and works on the copy."
    )


def owned_files(folder: str | os.PathLike) -> list[Path]:
    """The files gisrenew owns in project folder `folder` (none need exist).

    The GeoPackage named in ``gisrenew.toml`` (default ``project.gpkg``) with SQLite's
    sidecar files, ``gisrenew.toml`` itself, the lock file, work files (``.txn-*``)
    and a rule-set file kept in the folder. An output must never replace one of them
    (see :func:`gisrenew.outfiles.check_output`).
    """
    folder = Path(folder)
    config = ProjectConfig()
    if (folder / CONFIG_FILE).is_file():
        with contextlib.suppress(ProjectError):
            config = ProjectConfig.load(folder)
    names = [CONFIG_FILE, LOCK_FILE, config.gpkg]
    names += [config.gpkg + suffix for suffix in ("-journal", "-wal", "-shm")]
    if config.rules.lower().endswith(".toml"):
        names.append(config.rules)
    return [folder / name for name in names] + sorted(folder.glob(f"{_TMP_PREFIX}*"))


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


class Transaction:
    """Changes to a project store, applied together on commit (see :meth:`Project.transaction`).

    Parameters
    ----------
    project : Project
        The project being changed.
    workfile : Path
        This transaction's work copy of the store (made by :meth:`Project.transaction`).
    """

    def __init__(self, project: Project, workfile: Path):
        self.project = project
        self.workfile = workfile
        self.changed: list[str] = []
        st = os.lstat(workfile)
        self._identity = (st.st_dev, st.st_ino)
        self._layers = {name.lower() for name in _layer_names(workfile)}
        self._state_found = _current_state(workfile)
        self._state_new: dict[str, Any] | None = None
        self._inputs_written = False

    def _check_own(self) -> None:
        try:
            st = os.lstat(self.workfile)
        except OSError:
            st = None
        if st is None or stat.S_ISLNK(st.st_mode) or (st.st_dev, st.st_ino) != self._identity:
            raise ProjectError(
                f"{self.project.folder}: this run's work copy of the project "
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
                f"{self.project.gpkg_path}: the update was not applied because its work copy "
                f"{problem}; the project was left unchanged. Fix: run again."
            )

    def _written(self, name: str) -> None:
        self._layers.add(name.lower())
        self.changed.append(name)
        self._inputs_written |= name in LAYERS

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
        if stored is None or name.lower() not in self._layers or not _same_geometry(frame, stored):
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

    def _write_whole(self, name: str, frame: pd.DataFrame) -> int:
        if isinstance(frame, gpd.GeoDataFrame):
            self.write_layer(name, frame)
        else:
            self.write_table(name, frame)
        return len(frame)

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

    def record_results_state(self, state: dict[str, Any]) -> None:
        """Record `state` (JSON-ready) as what the result layers now hold; written last."""
        self._state_new = dict(state)

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
        _write_input_layer(self.workfile, kind, gdf, self.project.config.column_map(kind))
        self._written(kind)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Write (or replace) the non-spatial table `name`."""
        frame = pd.DataFrame(frame)
        self._check_own()
        pyogrio.write_dataframe(io.plain_columns(frame), self.workfile, layer=name, driver="GPKG")
        self._written(name)

    def append_table(self, name: str, frame: pd.DataFrame) -> None:
        """Append rows to the table `name` (created when absent)."""
        existing = self.read_table(name)
        combined = frame if existing is None else pd.concat([existing, frame], ignore_index=True)
        self.write_table(name, combined)

    def read_table(self, name: str) -> pd.DataFrame | None:
        """Read a table as it stands inside this transaction."""
        self._check_own()
        if name.lower() not in self._layers:
            return None
        return pyogrio.read_dataframe(self.workfile, layer=name, read_geometry=False)

    def read_columns(self, name: str, columns: Sequence[str]) -> pd.DataFrame | None:
        """Columns `columns` of layer `name` as it stands inside this transaction (no geometry)."""
        self._check_own()
        if name.lower() not in self._layers:
            return None
        return pyogrio.read_dataframe(
            self.workfile, layer=name, read_geometry=False, columns=list(columns)
        )

    def read_layer(self, name: str) -> gpd.GeoDataFrame | None:
        """Layer `name` with its geometry as it stands inside this transaction (None: absent)."""
        self._check_own()
        if name.lower() not in self._layers:
            return None
        return pyogrio.read_dataframe(self.workfile, layer=name)

    def delete_layer(self, name: str) -> None:
        """Remove layer or table `name` from the store (no error when absent)."""
        self._check_own()
        if name not in _layer_names(self.workfile):
            return
        _drop_gpkg_table(self.workfile, name)
        self._layers.discard(name.lower())
        self.changed.append(name)
        self._inputs_written |= name in LAYERS


def _same_geometry(frame: pd.DataFrame, stored: pd.DataFrame) -> bool:
    """False when both frames have geometry and it differs (or the rows do not match)."""
    if len(frame) != len(stored):
        return False
    if not isinstance(frame, gpd.GeoDataFrame) or not isinstance(stored, gpd.GeoDataFrame):
        return True
    a, b = frame.geometry.array, stored.geometry.array
    return a is b or bool(np.all(shapely.equals_exact(np.asarray(a), np.asarray(b), 0.0)))


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


def _wait_seconds(timeout_s) -> float:
    """`timeout_s` as a finite number of seconds ≥ 0 (a wait must end)."""
    try:
        seconds = float(timeout_s)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(
            f"the wait for the project lock must be a finite number of seconds ≥ 0, got "
            f"{timeout_s!r}. Fix: give e.g. --wait 0 (refuse at once) or --wait 600."
        )
    return seconds


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
            raise LockError(
                f"{folder}: another gisrenew run is changing this project "
                f"({_read_holder(path)}). Wait for it to finish and run again; two runs never "
                "write a project at the same time."
            )
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


class Project:
    """A gisrenew project folder.

    Parameters
    ----------
    folder : path
        Folder holding ``gisrenew.toml``; use :meth:`open` or :meth:`create`.

    Examples
    --------
    >>> project = Project.open("data/geo/taicang_sample")  # doctest: +SKIP
    >>> parks = project.read("parks")                      # doctest: +SKIP
    """

    def __init__(self, folder: str | os.PathLike, config: ProjectConfig):
        self.folder = Path(folder)
        self.config = config
        self._cache: dict[str, gpd.GeoDataFrame] = {}
        self._names: tuple[tuple, list[str]] | None = None  # file identity, layer names

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, folder: str | os.PathLike) -> Project:
        """Open an existing project folder (changes nothing on disk).

        Raises
        ------
        ProjectError
            When the folder has no ``gisrenew.toml``, its GeoPackage is missing, or the
            GeoPackage is damaged (truncated, not a GeoPackage, unreadable).
        """
        folder = Path(folder)
        config = ProjectConfig.load(folder)
        project = cls(folder, config)
        if not project.gpkg_path.is_file():
            raise ProjectError(
                f"{project.gpkg_path} is missing: the project's GeoPackage named in "
                f"{folder / CONFIG_FILE} does not exist"
            )
        problem = _store_problem(project.gpkg_path)
        if problem is not None:
            raise _damaged(project.gpkg_path, problem)
        _layer_names(project.gpkg_path)  # opens it: a damaged catalogue is a ProjectError
        return project

    @classmethod
    def create(
        cls,
        folder: str | os.PathLike,
        sources: Mapping[str, str | os.PathLike | gpd.GeoDataFrame],
        *,
        name: str | None = None,
        working_crs=None,
        rules: str | None = None,
        crs=None,
        encoding: str | None = None,
        columns: Mapping[str, Mapping[str, str]] | None = None,
        overwrite: bool = False,
        timeout_s: float = 0.0,
        override_crs=None,
    ) -> Project:
        """Make a project from files (or GeoDataFrames): validate, reproject, store.

        A ``gisrenew.toml`` already in `folder` (written by hand, or by an earlier init)
        is kept — every setting, comment and line of it: what init adds (the working
        CRS, `columns`, `name`, `rules`, and ``[layers.<kind>]`` with each layer's source
        file, layer, crs and encoding) is merged in, and a value that contradicts the
        file is a :class:`~gisrenew.errors.ProjectError` naming both and the fix. Layers
        whose source the file records are read too. Each stored layer records the
        ``[columns.<kind>]`` mapping it was read with (see :meth:`reload`).

        Parameters
        ----------
        folder : path
            The new project folder (created).
        sources : mapping
            ``{layer kind: file, FILE::LAYER or GeoDataFrame}``; at least ``parks`` and
            ``residential`` for the coverage analysis, any of the other layers as available.
        name, rules : str, optional
            Project name and rule set (preset name or TOML path).
        working_crs : CRS-like, optional
            Metric working CRS; by default picked from the first layer (its own metric
            CRS, or for degrees the CGCS2000 Gauss-Krüger zone of its longitude).
        crs, encoding : optional
            Declared CRS / encoding for source files without one.
        columns : mapping, optional
            ``{kind: {your header: gisrenew column}}``, stored in the config.
        override_crs : CRS-like, optional
            CRS replacing what the source files declare (a wrong ``.prj``); warned.
        overwrite : bool
            Replace the store of an existing project in `folder` (``--force``; its
            settings are kept, and a source given here replaces the recorded one). The
            new store is written completely, under the project lock, before it replaces
            the old one: a failed or killed run leaves the old project whole.
        timeout_s : float
            Seconds to wait for another run holding the project lock.

        Raises
        ------
        ProjectError
            When `folder` holds a read-only project; when an argument contradicts its
            ``gisrenew.toml``; when `folder` holds a project and `overwrite` is false;
            when its GeoPackage exists without a ``gisrenew.toml`` beside it (probably
            the user's own data) and `overwrite` is false; when the GeoPackage or
            ``gisrenew.toml`` is one of the `sources` (always).
        """
        folder = Path(folder)
        _check_create_target(folder, sources, overwrite)
        unknown = set(sources) - set(LAYERS)
        if unknown:
            raise ProjectError(f"unknown layer kinds {sorted(unknown)}; known: {', '.join(LAYERS)}")
        text, raw = _settings_file(folder)
        settings = ProjectConfig.from_dict(raw, path=folder / CONFIG_FILE)
        if settings.read_only:
            raise ProjectError(read_only_message(folder, "make the project again (init)"))
        where = str(folder / CONFIG_FILE)
        additions = merged_settings(
            raw, {"project": {"name": name, "rules": rules, "working_crs": working_crs},
                  "columns": {k: dict(v) for k, v in (columns or {}).items()}},
            where=where,
        )  # fmt: skip
        settings = ProjectConfig.from_dict(
            {**raw, "columns": _deep_merge(raw.get("columns", {}), additions.get("columns", {}))},
            path=folder / CONFIG_FILE,
        )
        declared = {"crs": crs, "override_crs": override_crs, "encoding": encoding}
        plan = _source_plan(folder, settings, sources, declared, replace=overwrite)
        layers, target = _load_sources(
            plan.sources, working_crs or settings.working_crs, plan.options, settings
        )
        folder.mkdir(parents=True, exist_ok=True)
        changes = {
            "project": {
                **additions.get("project", {}),
                "name": raw.get("project", {}).get("name") or name or folder.name,
                "working_crs": target.to_string() if target is not None else None,
            },
            **{table: values for table, values in additions.items() if table != "project"},
            "layers": plan.records(layers),
        }
        # a new file starts from every default written out, as a template to edit
        config_text = update_settings_text(text or ProjectConfig().to_toml(), changes, where=where)
        config = ProjectConfig.from_dict(tomllib.loads(config_text), path=folder / CONFIG_FILE)
        project = cls(folder, config)
        config_path = folder / CONFIG_FILE
        with project.lock(timeout_s, purpose=f"init {folder}"):
            _check_create_target(folder, sources, overwrite)  # again: nothing changed meanwhile
            # both files are written aside first; the settings replace the old ones right
            # after the store, so a failure or a kill before leaves the old project whole
            with outfiles.atomic_path(
                config_path, prefix=_TMP_PREFIX, error=ProjectError
            ) as staged:
                staged.write_text(config_text, encoding="utf-8")
                project._write_new_store(layers)
            config.path = config_path
        log.info("created project %s with layers %s", folder, ", ".join(layers))
        return project

    def _write_new_store(self, layers: dict[str, gpd.GeoDataFrame]) -> None:
        """Write `layers` as a new store beside the old one; swap it in when complete."""
        expected = {kind.lower() for kind in layers}

        def verify(work: Path) -> None:
            problem = _store_problem(work)
            found = {n.lower() for n in _layer_names(work)} if problem is None else set()
            if problem is not None or found != expected:
                raise ProjectError(
                    f"{self.gpkg_path}: the new GeoPackage came out incomplete "
                    f"({problem or sorted(found)}); the old project was left as it was. "
                    "Fix: run again."
                )

        with outfiles.atomic_path(
            self.gpkg_path, prefix=_TMP_PREFIX, verify=verify, error=ProjectError
        ) as work:
            for kind, gdf in layers.items():
                _write_input_layer(work, kind, gdf, self.config.column_map(kind))

    # ------------------------------------------------------------------ reading

    @property
    def gpkg_path(self) -> Path:
        """The project's GeoPackage."""
        return self.folder / self.config.gpkg

    @property
    def working_crs(self) -> CRS:
        """The project's metric working CRS."""
        if self.config.working_crs:
            where = f"`working_crs` in {self.folder / CONFIG_FILE}"
            return crs_rules.parse_crs(self.config.working_crs, what=where)
        for kind in ("residential", "parks", "boundary"):
            if self.has(kind):
                with self._reading(kind):
                    info = pyogrio.read_info(self.gpkg_path, layer=kind)
                return CRS.from_user_input(info["crs"])
        raise ProjectError(f"{self.folder}: set `working_crs` in {CONFIG_FILE}")

    @property
    def read_only(self) -> bool:
        """True when ``[project] read_only = true``: writing commands refuse the project."""
        return self.config.read_only

    def check_writable(self, action: str) -> None:
        """Refuse `action` on a read-only project (``[project] read_only = true``).

        Raises
        ------
        ProjectError
            Naming the project, the setting and the fix: work on a copy, or
            ``gisrenew demo`` for the bundled sample.
        """
        if self.read_only:
            raise ProjectError(read_only_message(self.folder, action))

    def owned_files(self) -> list[Path]:
        """The files gisrenew owns in this project's folder (see :func:`owned_files`)."""
        return owned_files(self.folder)

    def layer_kinds(self) -> list[str]:
        """Names of every layer and table in the store (listed again when the file changed)."""
        try:
            st = os.stat(self.gpkg_path)
        except OSError:
            return _layer_names(self.gpkg_path)
        identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if self._names is None or self._names[0] != identity:
            self._names = (identity, _layer_names(self.gpkg_path))
        return list(self._names[1])

    def has(self, kind: str) -> bool:
        """True when the store holds layer or table `kind`."""
        return kind in self.layer_kinds()

    @contextlib.contextmanager
    def _reading(self, layer: str) -> Iterator[None]:
        """Turn a GDAL/SQLite failure to read the store into a ProjectError with the fix."""
        try:
            yield
        except _READ_ERRORS as exc:
            raise _damaged(self.gpkg_path, f"cannot be read (layer {layer}: {exc})") from exc

    def read(self, kind: str, *, schema_kind: str | None = None) -> gpd.GeoDataFrame:
        """Read layer `kind`, validated and in the working CRS.

        Parameters
        ----------
        kind : str
            Layer name in the store (``parks``, ``residential``, ...).
        schema_kind : str, optional
            Schema to validate against when the layer name is not a layer kind
            (e.g. a result layer of parks).
        """
        gdf, problems = self.load(kind, schema_kind=schema_kind)
        return io.finish_loading(gdf, problems)

    def load(
        self, kind: str, *, schema_kind: str | None = None
    ) -> tuple[gpd.GeoDataFrame | None, list]:
        """Read layer `kind` collecting problems (see :func:`gisrenew.io.load_layer`).

        Returns the layer (``None`` when an error makes it unusable) and every problem
        found, warnings included, so a command can show them.
        """
        if kind in self._cache:
            return self._cache[kind].copy(), []
        if schema_kind is None and kind not in LAYERS:
            raise ProjectError(
                f"`{kind}` is not an input layer kind ({', '.join(LAYERS)}); "
                "read result layers with `read_result`"
            )
        if not self.has(kind):
            raise ProjectError(
                f"{self.folder}: the project has no `{kind}` layer; add it with "
                f"`gisrenew init {self.folder} --{kind} FILE --force` (or write it in Python)"
            )
        with self._reading(kind):
            gdf, problems = io.load_layer(
                self.gpkg_path,
                schema_kind or kind,
                layer=kind,
                working_crs=self.working_crs,
                columns=self.config.column_map(schema_kind or kind),
            )
        unreadable = [p for p in problems if p.severity == "error" and p.category == "read"]
        if unreadable:
            message = f"cannot be read (layer {kind}: {unreadable[0].message})"
            raise _damaged(self.gpkg_path, message)
        problems += self._stale_columns(kind, schema_kind or kind)
        if gdf is not None and not any(p.severity == "error" for p in problems):
            self._cache[kind] = gdf
            gdf = gdf.copy()
        return gdf, problems

    def _stale_columns(self, layer: str, kind: str) -> list[Problem]:
        """A warning when ``[columns.<kind>]`` changed since `layer` was stored."""
        with self._reading(layer):
            metadata = pyogrio.read_info(self.gpkg_path, layer=layer).get("layer_metadata") or {}
        recorded = metadata.get(COLUMNS_METADATA)
        if recorded is None:
            return []
        try:
            before = json.loads(recorded)
        except ValueError:
            before = None
        now = self.config.column_map(kind)
        if before == now:
            return []
        return [
            Problem(
                "warning",
                f"[columns.{get_layer_schema(kind).name}] in {CONFIG_FILE} changed since "
                f"this layer was stored (it was read with {before}, the file now says {now}); "
                "the stored ids and columns still follow the old mapping",
                str(self.gpkg_path),
                layer,
                fix=f"run `gisrenew reload --project {self.folder}` to read the layer again "
                "from its source file with the new mapping",
                category="columns",
            )
        ]

    def read_table(self, name: str) -> pd.DataFrame | None:
        """Read a non-spatial table (e.g. ``run_history``); ``None`` when absent."""
        if not self.has(name):
            return None
        with self._reading(name):
            return pyogrio.read_dataframe(self.gpkg_path, layer=name, read_geometry=False)

    def read_result(self, name: str) -> gpd.GeoDataFrame | None:
        """Read a result layer as stored (no schema validation); ``None`` when absent."""
        if not self.has(name):
            return None
        with self._reading(name):
            return gpd.read_file(self.gpkg_path, layer=name, engine="pyogrio")

    # ------------------------------------------------------------------ writing

    def reload(
        self,
        kinds: Sequence[str] = (),
        *,
        read_options: Mapping[str, Any] | None = None,
        discard_park_changes: bool = False,
        timeout_s: float = 0.0,
    ) -> dict[str, gpd.GeoDataFrame]:
        """Read layers again from their recorded sources, with today's column mapping.

        After a change of ``[columns.<layer>]`` (e.g. ``"公园编码" = "park_id"``) the
        stored ids and columns follow the new mapping. Every layer is read first (all
        problems at once); then all are replaced in one :meth:`transaction`.

        Parameters
        ----------
        kinds : sequence of str
            Layers to reload (default: every layer ``[layers.<kind>]`` records a source for).
        read_options : mapping, optional
            ``crs``, ``override_crs``, ``encoding`` replacing the recorded ones.
        discard_park_changes : bool
            Reload ``parks`` even though recompute runs changed them (their additions
            and removals are then gone from the store; the run history stays).
        timeout_s : float
            Seconds to wait for another run holding the project lock.

        Raises
        ------
        ProjectError
            For a read-only project, a layer without a recorded source, or parks that
            recompute runs changed (unless `discard_park_changes`).
        """
        self.check_writable("reload layers")
        recorded = [k for k, v in self.config.layers.items() if k in LAYERS and v.get("source")]
        kinds = list(kinds) or recorded
        if not kinds:
            raise ProjectError(
                f"{self.folder / CONFIG_FILE} records no source file for any layer "
                "([layers.<kind>] source), so there is nothing to reload. Fix: make the project "
                f"again from your files with `gisrenew init {self.folder} --force FILES...` "
                "(init records where each layer came from)."
            )
        missing = [k for k in kinds if k not in recorded]
        if missing:
            raise ProjectError(
                f"{self.folder / CONFIG_FILE} records no source file for {', '.join(missing)} "
                f"([layers.<kind>] source). Fix: make the project again with `gisrenew init "
                f'{self.folder} --force --{missing[0]} FILE ...`, or add `source = "FILE"` '
                f"to [layers.{missing[0]}]."
            )
        history = self.read_table("run_history")
        if "parks" in kinds and history is not None and len(history) and not discard_park_changes:
            raise ProjectError(
                f"{self.folder}: {len(history)} recompute run(s) changed the parks since they "
                "were read; reloading them from their source would drop those changes. Fix: "
                "reload the other layers (`gisrenew reload residential parcels ...`), or "
                "reload the parks with --discard-park-changes and run the recomputes again."
            )
        plan = _source_plan(self.folder, self.config, {}, {}, replace=True)
        given = {k: v for k, v in (read_options or {}).items() if v is not None}
        options = {kind: {**plan.options[kind], **given} for kind in kinds}
        layers, _ = _load_sources(
            {k: plan.sources[k] for k in kinds}, self.working_crs, options, self.config
        )
        with self.transaction(timeout_s=timeout_s, purpose=f"reload {', '.join(kinds)}") as tx:
            for kind, gdf in layers.items():
                tx.write_input_layer(kind, gdf)
        return layers

    @contextlib.contextmanager
    def lock(self, timeout_s: float = 0.0, *, purpose: str = "") -> Iterator[None]:
        """Hold the project's exclusive write lock.

        Whoever holds the lock knows that no other run is writing, so work files left in
        the folder were abandoned by killed runs: they are removed here.

        Parameters
        ----------
        timeout_s : float
            Seconds to wait for another run to finish; 0 refuses at once. Must be a
            finite number ≥ 0.
        purpose : str
            What this run does, shown to a run that has to wait.

        Raises
        ------
        InputError
            When `timeout_s` is negative, infinite or not a number.
        LockError
            When another process holds the lock after `timeout_s`.
        """
        timeout_s = _wait_seconds(timeout_s)
        path = self.folder / LOCK_FILE
        fd = _locked_file(path, self.folder, timeout_s)
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
            self._clean_stale_workfiles()
            yield
        finally:
            with contextlib.suppress(OSError):  # while still holding it: see _locked_file
                os.unlink(path)
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def transaction(self, *, timeout_s: float = 0.0, purpose: str = "") -> Iterator[Transaction]:
        """Change the store atomically: all of the changes, or none.

        Yields a :class:`Transaction`; its writes go to a copy of the GeoPackage, which
        replaces the original when the block ends without an exception and the copy
        passes :meth:`Transaction.verify`. Holds the project lock throughout (see
        :meth:`lock`). A full disk is a :class:`~gisrenew.errors.ProjectError`; the
        project is then left unchanged.

        Examples
        --------
        >>> with project.transaction(purpose="add parks") as tx:  # doctest: +SKIP
        ...     tx.write_layer("parks", parks)
        ...     tx.append_table("run_history", row)
        """
        self.check_writable(purpose or "change the project store")
        with self.lock(timeout_s, purpose=purpose):
            tx: Transaction | None = None

            def verify(work: Path) -> None:
                if tx is not None:
                    tx.verify(work)

            with outfiles.atomic_path(
                self.gpkg_path, prefix=_TMP_PREFIX, verify=verify, error=ProjectError
            ) as work:
                shutil.copyfile(self.gpkg_path, work)
                tx = Transaction(self, work)
                yield tx
                tx.finish()
            self._cache.clear()
            log.info("project %s updated: %s", self.folder, ", ".join(tx.changed) or "no change")

    def _clean_stale_workfiles(self) -> None:
        """Remove work files abandoned by killed runs; call only while holding the lock."""
        for path in self.folder.glob(f"{_TMP_PREFIX}*"):
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError as exc:
                log.warning("could not remove %s left by an interrupted run: %s", path, exc)
            else:
                log.info("removed %s left by an interrupted run", path.name)


#: Layer metadata key of a stored input layer: the ``[columns.<layer>]`` mapping it was
#: read with (JSON), so a later change of the mapping is noticed (see :meth:`Project.load`).
COLUMNS_METADATA = "GISRENEW_COLUMNS"


def _write_input_layer(path: Path, kind: str, gdf: gpd.GeoDataFrame, mapping: dict) -> None:
    """Write an input layer into the GeoPackage at `path`, with the mapping it was read with.

    The store keeps the user's columns; absent ones are filled with defaults on every read.
    """
    stored = gdf.drop(columns=gdf.attrs.get("defaulted_columns", []))
    pyogrio.write_dataframe(
        io.plain_columns(stored), path, layer=kind, driver="GPKG",
        layer_metadata={COLUMNS_METADATA: json.dumps(mapping, ensure_ascii=False, sort_keys=True)},
    )  # fmt: skip


def _settings_file(folder: Path) -> tuple[str, dict]:
    """The text and the parsed tables of the folder's ``gisrenew.toml`` ("" and {} when none)."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        return "", {}
    text = path.read_text(encoding="utf-8")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: not valid TOML: {exc}") from None


def _deep_merge(old: Mapping, new: Mapping) -> dict:
    merged = {k: dict(v) if isinstance(v, Mapping) else v for k, v in old.items()}
    for key, value in new.items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, Mapping) else value
    return merged


@dataclasses.dataclass
class _SourcePlan:
    """What ``init`` reads: each layer's source and read options, and what it records."""

    folder: Path
    sources: dict[str, Any]
    options: dict[str, dict[str, Any]]

    def records(self, layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, dict[str, Any]]:
        """``[layers.<kind>]`` of every layer read from a file: source, layer, crs, encoding."""
        records: dict[str, dict[str, Any]] = {}
        for kind, source in self.sources.items():
            if isinstance(source, gpd.GeoDataFrame) or kind not in layers:
                continue
            ref = io.LayerRef.parse(source)
            path = ref.path.resolve()
            inside = self.folder.resolve() in path.parents
            layer = ref.layer or (
                None if path.suffix.lower() == ".shp" else layers[kind].attrs.get("layer")
            )
            options = self.options.get(kind, {})
            records[kind] = {
                "source": os.path.relpath(path, self.folder.resolve()) if inside else str(path),
                "layer": layer,
                "crs": _crs_text(options.get("crs")),
                "encoding": options.get("encoding"),
            }
        return records


def _crs_text(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else CRS.from_user_input(value).to_string()


def _source_plan(folder: Path, settings: ProjectConfig, given: Mapping, declared, *, replace):
    """The layers to read: those given, and those ``[layers.<kind>]`` records a source for.

    A recorded source that differs from the one given is refused unless `replace`
    (``init --force``), when the given one wins and is recorded instead.
    """
    sources: dict[str, Any] = {}
    options: dict[str, dict[str, Any]] = {}
    for kind, record in settings.layers.items():
        if kind in LAYERS and record.get("source"):
            path = Path(record["source"])
            path = path if path.is_absolute() else folder / path
            sources[kind] = io.LayerRef(path, record.get("layer"))
            options[kind] = {
                "crs": record.get("crs"), "override_crs": declared.get("override_crs"),
                "encoding": record.get("encoding"),
            }  # fmt: skip
    for kind, source in given.items():
        recorded = sources.get(kind)
        if recorded is not None and not replace and not _same_source(recorded, source):
            raise ProjectError(
                f"{folder / CONFIG_FILE}: [layers.{kind}] source is {recorded}, but "
                f"--{kind} gives {source}. Fix: delete the [layers.{kind}] table (or its "
                f"source line) from {CONFIG_FILE}, or leave out --{kind}."
            )
        sources[kind] = source
        options[kind] = dict(declared)
    return _SourcePlan(folder, sources, options)


def _same_source(recorded: io.LayerRef, given) -> bool:
    if isinstance(given, gpd.GeoDataFrame):
        return False
    ref = io.LayerRef.parse(given)
    same_file = recorded.path.exists() and ref.path.exists() and recorded.path.samefile(ref.path)
    return same_file and (ref.layer is None or ref.layer == recorded.layer)


def _load_sources(sources, working_crs, options, settings: ProjectConfig):
    """Load and validate every source; return the layers and the working CRS.

    `options` holds each kind's ``crs``, ``override_crs`` and ``encoding``; the
    columns are mapped by `settings`.
    """
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems = []
    target = crs_rules.parse_crs(working_crs, what="working_crs") if working_crs else None
    # polygon layers first, so the working CRS comes from the area being studied
    order = sorted(sources, key=lambda k: list(LAYERS).index(k))
    for kind in order:
        source = sources[kind]
        columns = settings.column_map(kind) or None
        if isinstance(source, gpd.GeoDataFrame):
            gdf, found = io.load_frame(source, kind, working_crs=target, columns=columns)
        else:
            gdf, found = io.load_layer(
                source, kind, working_crs=target, columns=columns, **options.get(kind, {})
            )
        problems.extend(found)
        if gdf is not None:
            layers[kind] = gdf
            if target is None:
                target = CRS.from_user_input(gdf.crs)
    raise_for_problems(problems)
    # the repairs, drops and generated ids of every layer, and layers far from the others
    io.log_problems([*problems, *io.check_extents(layers)])
    return layers, target


def _check_create_target(folder: Path, sources: Mapping, overwrite: bool) -> None:
    """Refuse to make a project where it would destroy the user's files."""
    if folder.exists() and not folder.is_dir():
        raise ProjectError(f"{folder} is a file, not a folder. Fix: give a folder for the project.")
    store = folder / ProjectConfig().gpkg
    has_config = (folder / CONFIG_FILE).exists()
    if has_config and store.exists() and not overwrite:
        raise ProjectError(
            f"{folder} already holds a project; pass overwrite=True (--force) to make its "
            f"store again (the settings in {CONFIG_FILE} are kept)"
        )
    if store.exists() and not has_config and not overwrite:
        raise ProjectError(
            f"{store} exists but {folder} has no {CONFIG_FILE}: it is not a gisrenew project "
            "store, perhaps your own data, and init would replace it. Fix: make the project in "
            "another (empty) folder, or move the file away; pass --force (overwrite=True) only "
            "to replace it."
        )
    paths = [s for s in sources.values() if isinstance(s, (str, os.PathLike))]
    for own in (store, folder / CONFIG_FILE):
        hit = outfiles.find_clash(own, inputs=paths)
        if hit is not None:
            raise ProjectError(
                f"{own} is {hit[0]}, one of the input files given to init (or a link to it): "
                "making the project would replace it. Fix: make the project in another "
                "folder, or copy the input elsewhere first."
            )


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
