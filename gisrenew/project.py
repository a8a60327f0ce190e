"""The project store: a folder with ``gisrenew.toml`` and one GeoPackage.

GeoPackage is the embedded default — no server is needed. The store holds the
input layers (``parks``, ``residential``, ``parcels``, ``plans``, ``boundary``,
``districts``, ``roads``, optional ``entrances`` and ``candidates``), result layers
written by analyses, and non-spatial tables such as ``run_history``.

Safety rules
------------
* **Atomic writes.** :meth:`Project.transaction` copies the GeoPackage aside, applies
  every change to the copy, flushes it to disk and swaps it in with ``os.replace``
  (atomic on POSIX file systems). A run killed at any point leaves the project
  exactly as before (the copy is abandoned and cleaned up by the next run) or exactly
  as after.
* **One writer at a time.** A transaction holds an exclusive ``flock`` on
  ``.gisrenew.lock`` in the project folder; a second writer waits up to
  ``timeout_s`` and then gets a :class:`~gisrenew.errors.LockError` naming the
  holder. The operating system releases the lock when a process dies, so a killed
  run never leaves a stale lock behind.
* Readers never see a half-written store: they open either the old or the new file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS

from gisrenew import crs as crs_rules
from gisrenew import io
from gisrenew.config import CONFIG_FILE, ProjectConfig
from gisrenew.errors import LockError, ProjectError, raise_for_problems
from gisrenew.schema import LAYERS

__all__ = ["LOCK_FILE", "Project", "Transaction"]

log = logging.getLogger(__name__)

LOCK_FILE = ".gisrenew.lock"
_TMP_PREFIX = ".txn-"


class Transaction:
    """Changes to a project store, applied together on commit (see :meth:`Project.transaction`)."""

    def __init__(self, project: Project, workfile: Path):
        self.project = project
        self.workfile = workfile
        self.changed: list[str] = []

    def write_layer(self, name: str, gdf: gpd.GeoDataFrame) -> None:
        """Write (or replace) layer `name` in the store."""
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise TypeError("write_layer needs a GeoDataFrame; use write_table for tables")
        if gdf.crs is None:
            raise ProjectError(f"layer {name!r} has no CRS; the project store needs one")
        pyogrio.write_dataframe(io._plain_columns(gdf), self.workfile, layer=name, driver="GPKG")
        self.changed.append(name)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Write (or replace) the non-spatial table `name`."""
        frame = pd.DataFrame(frame)
        pyogrio.write_dataframe(io._plain_columns(frame), self.workfile, layer=name, driver="GPKG")
        self.changed.append(name)

    def append_table(self, name: str, frame: pd.DataFrame) -> None:
        """Append rows to the table `name` (created when absent)."""
        existing = self.read_table(name)
        combined = frame if existing is None else pd.concat([existing, frame], ignore_index=True)
        self.write_table(name, combined)

    def read_table(self, name: str) -> pd.DataFrame | None:
        """Read a table as it stands inside this transaction."""
        if name not in _layer_names(self.workfile):
            return None
        return pyogrio.read_dataframe(self.workfile, layer=name, read_geometry=False)

    def delete_layer(self, name: str) -> None:
        """Remove layer or table `name` from the store (no error when absent)."""
        if name not in _layer_names(self.workfile):
            return
        _drop_gpkg_table(self.workfile, name)
        self.changed.append(name)


def _drop_gpkg_table(path: Path, name: str) -> None:
    """Drop a layer or attribute table from a GeoPackage, with its bookkeeping rows."""
    import sqlite3

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


def _layer_names(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [str(n) for n in pyogrio.list_layers(path)[:, 0]]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, folder: str | os.PathLike) -> Project:
        """Open an existing project folder."""
        folder = Path(folder)
        config = ProjectConfig.load(folder)
        project = cls(folder, config)
        if not project.gpkg_path.is_file():
            raise ProjectError(
                f"{project.gpkg_path} is missing: the project's GeoPackage named in "
                f"{folder / CONFIG_FILE} does not exist"
            )
        project._clean_stale_workfiles()
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
    ) -> Project:
        """Make a project from files (or GeoDataFrames): validate, reproject, store.

        Parameters
        ----------
        folder : path
            The new project folder (created).
        sources : mapping
            ``{layer kind: file or GeoDataFrame}``; at least ``parks`` and ``residential``
            for the coverage analysis, any of the other layers as available.
        name, rules : str, optional
            Project name and rule set (preset name or TOML path).
        working_crs : CRS-like, optional
            Metric working CRS; by default picked from the first layer (its own metric
            CRS, or for degrees the CGCS2000 Gauss-Krüger zone of its longitude).
        crs, encoding : optional
            Declared CRS / encoding for source files without one.
        columns : mapping, optional
            ``{kind: {your header: gisrenew column}}``, stored in the config.
        overwrite : bool
            Replace an existing project in `folder`.
        """
        folder = Path(folder)
        if (folder / CONFIG_FILE).exists() and not overwrite:
            raise ProjectError(f"{folder} already holds a project; pass overwrite=True (--force)")
        unknown = set(sources) - set(LAYERS)
        if unknown:
            raise ProjectError(f"unknown layer kinds {sorted(unknown)}; known: {', '.join(LAYERS)}")
        columns = {k: dict(v) for k, v in (columns or {}).items()}
        layers: dict[str, gpd.GeoDataFrame] = {}
        problems = []
        target = crs_rules.parse_crs(working_crs, what="working_crs") if working_crs else None
        # polygon layers first, so the working CRS comes from the area being studied
        order = sorted(sources, key=lambda k: list(LAYERS).index(k))
        for kind in order:
            source = sources[kind]
            if isinstance(source, gpd.GeoDataFrame):
                gdf, found = io._conform(
                    source, kind, source="<GeoDataFrame>", layer=kind,
                    working_crs=target, columns=columns.get(kind),
                )  # fmt: skip
            else:
                gdf, found = io.load_layer(
                    source, kind, crs=crs, encoding=encoding, working_crs=target,
                    columns=columns.get(kind),
                )  # fmt: skip
            problems.extend(found)
            if gdf is not None:
                layers[kind] = gdf
                if target is None:
                    target = CRS.from_user_input(gdf.crs)
        raise_for_problems(problems)
        folder.mkdir(parents=True, exist_ok=True)
        config = ProjectConfig(
            name=name or folder.name,
            working_crs=target.to_string() if target is not None else None,
            rules=rules or "tijian-2021",
            columns=columns,
        )
        project = cls(folder, config)
        gpkg = project.gpkg_path
        if gpkg.exists() and overwrite:
            gpkg.unlink()
        workfile = folder / f"{_TMP_PREFIX}{os.getpid()}-create.gpkg"
        try:
            for kind, gdf in layers.items():
                # the store keeps the user's columns; defaults are filled in on every read
                stored = gdf.drop(columns=gdf.attrs.get("defaulted_columns", []))
                pyogrio.write_dataframe(io._plain_columns(stored), workfile, layer=kind, driver="GPKG")
            _fsync(workfile)
            os.replace(workfile, gpkg)
        finally:
            if workfile.exists():
                workfile.unlink()
        config.save(folder)
        log.info("created project %s with layers %s", folder, ", ".join(layers))
        return project

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
                return CRS.from_user_input(pyogrio.read_info(self.gpkg_path, layer=kind)["crs"])
        raise ProjectError(f"{self.folder}: set `working_crs` in {CONFIG_FILE}")

    def layer_kinds(self) -> list[str]:
        """Names of every layer and table in the store."""
        return _layer_names(self.gpkg_path)

    def has(self, kind: str) -> bool:
        """True when the store holds layer or table `kind`."""
        return kind in self.layer_kinds()

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
        if kind in self._cache:
            return self._cache[kind].copy()
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
        gdf = io.read_layer(
            self.gpkg_path,
            schema_kind or kind,
            layer=kind,
            working_crs=self.working_crs,
            columns=self.config.column_map(schema_kind or kind),
        )
        self._cache[kind] = gdf
        return gdf.copy()

    def read_table(self, name: str) -> pd.DataFrame | None:
        """Read a non-spatial table (e.g. ``run_history``); ``None`` when absent."""
        if not self.has(name):
            return None
        return pyogrio.read_dataframe(self.gpkg_path, layer=name, read_geometry=False)

    def read_result(self, name: str) -> gpd.GeoDataFrame | None:
        """Read a result layer as stored (no schema validation); ``None`` when absent."""
        if not self.has(name):
            return None
        return gpd.read_file(self.gpkg_path, layer=name, engine="pyogrio")

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def lock(self, timeout_s: float = 0.0, *, purpose: str = "") -> Iterator[None]:
        """Hold the project's exclusive write lock.

        Parameters
        ----------
        timeout_s : float
            Seconds to wait for another run to finish; 0 refuses at once.
        purpose : str
            What this run does, shown to a run that has to wait.

        Raises
        ------
        LockError
            When another process holds the lock after `timeout_s`.
        """
        path = self.folder / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        holder = _read_holder(path)
                        raise LockError(
                            f"{self.folder}: another gisrenew run is changing this project "
                            f"({holder}). Wait for it to finish and run again; two runs never "
                            "write a project at the same time."
                        ) from None
                    time.sleep(0.1)
            info = {
                "pid": os.getpid(),
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
                "purpose": purpose,
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def transaction(self, *, timeout_s: float = 0.0, purpose: str = "") -> Iterator[Transaction]:
        """Change the store atomically: all of the changes, or none.

        Yields a :class:`Transaction`; its writes go to a copy of the GeoPackage, which
        replaces the original when the block ends without an exception. Holds the
        project lock throughout (see :meth:`lock`).

        Examples
        --------
        >>> with project.transaction(purpose="add parks") as tx:  # doctest: +SKIP
        ...     tx.write_layer("parks", parks)
        ...     tx.append_table("run_history", row)
        """
        with self.lock(timeout_s, purpose=purpose):
            workfile = self.folder / f"{_TMP_PREFIX}{os.getpid()}-{time.time_ns()}.gpkg"
            shutil.copyfile(self.gpkg_path, workfile)
            try:
                tx = Transaction(self, workfile)
                yield tx
                _fsync(workfile)
                os.replace(workfile, self.gpkg_path)
                with contextlib.suppress(OSError):
                    dir_fd = os.open(self.folder, os.O_RDONLY)
                    os.fsync(dir_fd)
                    os.close(dir_fd)
                self._cache.clear()
                log.info(
                    "project %s updated: %s", self.folder, ", ".join(tx.changed) or "no change"
                )
            finally:
                if workfile.exists():
                    workfile.unlink()

    def _clean_stale_workfiles(self) -> None:
        """Remove work files abandoned by killed runs (their process is gone)."""
        for path in self.folder.glob(f"{_TMP_PREFIX}*.gpkg*"):
            try:
                pid = int(path.name[len(_TMP_PREFIX) :].split("-")[0])
            except ValueError:
                continue
            if not _pid_alive(pid):
                with contextlib.suppress(OSError):
                    path.unlink()
                    log.info("removed %s left by an interrupted run", path.name)


def _read_holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    parts = [f"pid {info.get('pid', '?')}", f"since {info.get('since', '?')}"]
    if info.get("purpose"):
        parts.append(str(info["purpose"]))
    return ", ".join(parts)
