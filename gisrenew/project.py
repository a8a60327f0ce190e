"""The project: a folder with ``gisrenew.toml`` and one store of layers.

The store (:mod:`gisrenew.store`) is a GeoPackage in the folder — the embedded
default, no server needed — or a schema of a PostGIS database. It holds the input
layers (``parks``, ``residential``, ``parcels``, ``plans``, ``boundary``,
``districts``, ``roads``, optional ``entrances`` and ``candidates``), result layers
written by analyses, and non-spatial tables such as ``run_history``.
:class:`Project` reads, validates and writes them the same way on either store.

Safety rules
------------
* **Atomic writes.** :meth:`Project.transaction` applies every change of a run at once
  or not at all: a run killed at any point leaves the project exactly as before or
  exactly as after (a verified work copy swapped in for a GeoPackage; one database
  transaction for PostGIS). :meth:`Project.create` with ``overwrite=True`` writes the
  new store completely before it replaces the old one.
* **One writer at a time.** Every write holds the project's exclusive lock (a
  ``flock`` in the folder; an advisory lock in the database); a second writer waits
  up to ``timeout_s`` (a finite number of seconds) and then gets a
  :class:`~gisrenew.errors.LockError` naming the holder. A killed run never leaves a
  stale lock behind.
* **Readers change nothing.** Opening and reading a project never writes.
* **Damaged stores are named.** A truncated or corrupt GeoPackage, an unreachable
  database, is a :class:`~gisrenew.errors.ProjectError` naming the store and the fix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from gisrenew import crs as crs_rules
from gisrenew import io, outfiles
from gisrenew import settings as st
from gisrenew.config import CONFIG_FILE, ProjectConfig, merged_settings, update_settings_text
from gisrenew.errors import Problem, ProjectError, raise_for_problems
from gisrenew.schema import LAYERS, get_layer_schema
from gisrenew.store import open_store
from gisrenew.store.base import RESULTS_STATE, Store, Transaction, wait_seconds
from gisrenew.store.geopackage import COLUMNS_METADATA, LOCK_FILE, TMP_PREFIX, GeoPackageStore

__all__ = [
    "COLUMNS_METADATA",
    "LOCK_FILE",
    "RESULTS_STATE",
    "Project",
    "Transaction",
    "copy_project",
    "owned_files",
    "read_only_message",
]

log = logging.getLogger(__name__)


def copy_project(
    source: str | os.PathLike,
    target: str | os.PathLike,
    store: str | None = None,
    schema: str | None = None,
) -> Project:
    """Copy the project in `source` to the new folder `target`; the copy is writable.

    For working on the bundled (read-only) sample, and for moving a project between
    stores: the folder's files are copied (not the lock and work files, the map cache,
    nor the source's GeoPackage when the copy has another store) and ``[project]
    read_only`` is cleared in the copy's ``gisrenew.toml`` (every other line of it kept
    as written). With `store`
    (or when `source` keeps its layers in PostgreSQL) every layer and table — ids,
    attributes, run history, results state, each input layer's recorded column mapping —
    is written into the copy's store, which ``gisrenew.toml`` then names.

    Parameters
    ----------
    source, target : path
        The project folder, and the new folder of the copy.
    store : str, optional
        The copy's store: a GeoPackage path relative to `target`, or a PostgreSQL database
        (``postgresql://host:port/db`` or ``service=NAME``; never a password). Default: the
        source's own GeoPackage file name, or ``project.gpkg`` for a source in PostgreSQL.
    schema : str, optional
        The copy's PostgreSQL schema (default: `target`'s name when it is a plain
        lowercase identifier). It must hold no tables yet.

    Raises
    ------
    ProjectError
        When `source` is not a project, `target` exists, `store` holds a password, or the
        schema already holds tables.
    """
    source, target = Path(source), Path(target)
    original = Project.open(source)
    if store is not None and st.has_password(store):
        raise ProjectError(f"--store (store=): {st.PASSWORD_REFUSED}")
    if target.exists():
        raise ProjectError(f"{target} exists. Fix: give a new folder for the copy.")
    if store is None and not original.config.in_database:
        ignore = shutil.ignore_patterns(f"{TMP_PREFIX}*", LOCK_FILE, outfiles.PROJECT_CACHE)
        shutil.copytree(source, target, ignore=ignore)
        _writable_copy(target, {})
        return Project.open(target)
    store = store or ProjectConfig().gpkg
    skip = {p.name for p in original.store.owned_files()} | {LOCK_FILE, outfiles.PROJECT_CACHE}
    shutil.copytree(source, target, ignore=lambda _, names: _skipped(names, skip))
    try:
        settings = _store_settings(target, {}, store, schema)
        copy = Project(target, _writable_copy(target, {**settings, "gpkg": None}))
        _copy_layers(original, copy)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return Project.open(target)


def _skipped(names: Sequence[str], skip: set[str]) -> list[str]:
    return [n for n in names if n in skip or n.startswith(TMP_PREFIX)]


def _writable_copy(folder: Path, project: Mapping[str, Any]) -> ProjectConfig:
    """Clear ``read_only`` and apply `project` in the copy's ``gisrenew.toml``."""
    settings = folder / CONFIG_FILE
    text = settings.read_text(encoding="utf-8")
    changes = dict(project)
    if ProjectConfig.load(settings).read_only:
        changes["read_only"] = False
    if changes:
        text = update_settings_text(text, {"project": changes}, where=str(settings))
        outfiles.write_text(settings, text)
    return ProjectConfig.load(settings)


def _copy_layers(original: Project, copy: Project) -> None:
    """Every layer and table of `original`'s store, as stored, into `copy`'s new store."""
    if copy.store.exists():
        raise ProjectError(
            f"{copy.describe()} already holds tables. Fix: copy into a new schema (--schema), "
            "or drop those tables first."
        )
    layers = {name: original.store.read_result(name) for name in original.layer_kinds()}
    recorded = {name: original.store.recorded_columns(name) for name in layers if name in LAYERS}
    recorded = {k: v for k, v in recorded.items() if v not in (None, "unreadable")}
    with copy.lock(purpose=f"copy {original.folder}"):
        copy.store.write_new(layers, recorded)
    log.info("copied %s to %s", original.describe(), copy.describe())


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
    return [folder / name for name in names] + sorted(folder.glob(f"{TMP_PREFIX}*"))


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
        self.store: Store = open_store(self.folder, config)
        self._cache: dict[str, gpd.GeoDataFrame] = {}

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
        project.store.check()
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
        store: str | None = None,
        schema: str | None = None,
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
        store, schema : str, optional
            The store (``[project] store``): a GeoPackage path relative to `folder`, or a
            PostgreSQL database (``postgresql://host:port/db``, ``service=NAME``) and its
            `schema` (default: the folder's name when it is a plain lowercase identifier).

        Raises
        ------
        ProjectError
            When `store` holds a password; when `folder` holds a read-only project;
            when an argument contradicts its
            ``gisrenew.toml``; when `folder` holds a project and `overwrite` is false;
            when its GeoPackage exists without a ``gisrenew.toml`` beside it (probably
            the user's own data) and `overwrite` is false; when the GeoPackage or
            ``gisrenew.toml`` is one of the `sources` (always).
        """
        folder = Path(folder)
        if store is not None and st.has_password(store):
            raise ProjectError(f"--store (store=): {st.PASSWORD_REFUSED}")
        _check_create_target(folder, sources, overwrite)
        unknown = set(sources) - set(LAYERS)
        if unknown:
            raise ProjectError(f"unknown layer kinds {sorted(unknown)}; known: {', '.join(LAYERS)}")
        text, raw = _settings_file(folder)
        settings = ProjectConfig.from_dict(raw, path=folder / CONFIG_FILE)
        if settings.read_only:
            raise ProjectError(read_only_message(folder, "make the project again (init)"))
        where = str(folder / CONFIG_FILE)
        stored = _store_settings(folder, raw, store, schema)
        additions = merged_settings(
            raw, {"project": {"name": name, "rules": rules, "working_crs": working_crs,
                              **{k: v for k, v in stored.items() if v is not None}},
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
        if stored:
            changes["project"].update(stored, gpkg=None)  # one key names the store
        # a new file starts from every default written out, as a template to edit
        config_text = update_settings_text(text or ProjectConfig().to_toml(), changes, where=where)
        config = ProjectConfig.from_dict(tomllib.loads(config_text), path=folder / CONFIG_FILE)
        project = cls(folder, config)
        config_path = folder / CONFIG_FILE
        _check_create_target(folder, sources, overwrite, project.store)
        with project.lock(timeout_s, purpose=f"init {folder}"):
            # again: nothing changed meanwhile
            _check_create_target(folder, sources, overwrite, project.store)
            # both files are written aside first; the settings replace the old ones right
            # after the store, so a failure or a kill before leaves the old project whole
            with outfiles.atomic_path(config_path, prefix=TMP_PREFIX, error=ProjectError) as staged:
                staged.write_text(config_text, encoding="utf-8")
                project.store.write_new(layers, {k: config.column_map(k) for k in layers})
            config.path = config_path
        log.info("created project %s with layers %s", folder, ", ".join(layers))
        return project

    # ------------------------------------------------------------------ reading

    @property
    def gpkg_path(self) -> Path:
        """The project's GeoPackage (a project whose store is a GeoPackage)."""
        if not isinstance(self.store, GeoPackageStore):
            raise ProjectError(f"{self.describe()} is not a GeoPackage")
        return self.store.path

    def describe(self) -> str:
        """The store as messages name it: its path, or ``postgresql://… schema S``."""
        return self.store.describe()

    @property
    def working_crs(self) -> CRS:
        """The project's metric working CRS."""
        if self.config.working_crs:
            where = f"`working_crs` in {self.folder / CONFIG_FILE}"
            return crs_rules.parse_crs(self.config.working_crs, what=where)
        for kind in ("residential", "parks", "boundary"):
            if self.has(kind):
                found = self.store.layer_crs(kind)
                if found is not None:
                    return found
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

    def results_state(self) -> dict[str, Any] | None:
        """What the stored result layers were computed from, when still current (no lock).

        See :meth:`gisrenew.store.base.Transaction.results_state`; for readers such as
        the indicator sheet (:mod:`gisrenew.reporting`).
        """
        return self.store.results_state()

    def layer_kinds(self) -> list[str]:
        """Names of every layer and table in the store."""
        return self.store.layer_names()

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
        gdf, problems = self.store.load_layer(
            kind,
            schema_kind or kind,
            working_crs=self.working_crs,
            columns=self.config.column_map(schema_kind or kind),
        )
        problems += self._stale_columns(kind, schema_kind or kind)
        if gdf is not None and not any(p.severity == "error" for p in problems):
            self._cache[kind] = gdf
            gdf = gdf.copy()
        return gdf, problems

    def _stale_columns(self, layer: str, kind: str) -> list[Problem]:
        """A warning when ``[columns.<kind>]`` changed since `layer` was stored."""
        before = self.store.recorded_columns(layer)
        if before is None:
            return []
        before = None if before == "unreadable" else before
        now = self.config.column_map(kind)
        if before == now:
            return []
        return [
            Problem(
                "warning",
                f"[columns.{get_layer_schema(kind).name}] in {CONFIG_FILE} changed since "
                f"this layer was stored (it was read with {before}, the file now says {now}); "
                "the stored ids and columns still follow the old mapping",
                self.describe(),
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
        return self.store.read_table(name)

    def read_result(self, name: str) -> gpd.GeoDataFrame | None:
        """Read a result layer as stored (no schema validation); ``None`` when absent."""
        if not self.has(name):
            return None
        return self.store.read_result(name)

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
        timeout_s = wait_seconds(timeout_s)
        with self.store.lock(timeout_s, purpose):
            yield

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
        with (
            self.lock(timeout_s, purpose=purpose),
            self.store.transaction(self.config.column_map) as tx,
        ):
            yield tx
        self._cache.clear()
        log.info("project %s updated: %s", self.folder, ", ".join(tx.changed) or "no change")


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


def _store_settings(folder: Path, raw: Mapping, store: str | None, schema: str | None) -> dict:
    """``[project] store`` and ``schema`` that init writes (none when `store` is not given).

    A PostgreSQL store without a schema gets the folder's name when that is a plain
    lowercase identifier (e.g. ``taicang``); otherwise the planner is asked for one.
    """
    if store is None:
        return {} if schema is None else {"schema": schema}
    if not st.is_database(store):
        return {"store": store, "schema": None}
    schema = schema or raw.get("project", {}).get("schema")
    if schema is None and st.PLAIN_SCHEMA.fullmatch(folder.name):
        schema = folder.name
    if schema is None:
        raise ProjectError(
            f"{folder.name!r} is not a plain lowercase name, so it cannot name the project's "
            "PostgreSQL schema. Fix: give one with --schema (letters a-z, digits, _), e.g. "
            "--schema taicang."
        )
    return {"store": store, "schema": schema}


def _check_create_target(
    folder: Path, sources: Mapping, overwrite: bool, store: Store | None = None
) -> None:
    """Refuse to make a project where it would destroy the user's files or tables."""
    if folder.exists() and not folder.is_dir():
        raise ProjectError(f"{folder} is a file, not a folder. Fix: give a folder for the project.")
    store = store or GeoPackageStore(folder / ProjectConfig().gpkg, folder)
    has_config = (folder / CONFIG_FILE).exists()
    if has_config and store.exists() and not overwrite:
        raise ProjectError(
            f"{folder} already holds a project; pass overwrite=True (--force) to make its "
            f"store again (the settings in {CONFIG_FILE} are kept)"
        )
    if store.exists() and not has_config and not overwrite:
        raise ProjectError(
            f"{store.describe()} exists but {folder} has no {CONFIG_FILE}: it is not a gisrenew "
            "project store, perhaps your own data, and init would replace it. Fix: make the "
            "project in another (empty) folder or schema, or move the data away; pass --force "
            "(overwrite=True) only to replace it."
        )
    paths = [s for s in sources.values() if isinstance(s, (str, os.PathLike))]
    for own in (*store.owned_files()[:1], folder / CONFIG_FILE):
        hit = outfiles.find_clash(own, inputs=paths)
        if hit is not None:
            raise ProjectError(
                f"{own} is {hit[0]}, one of the input files given to init (or a link to it): "
                "making the project would replace it. Fix: make the project in another "
                "folder, or copy the input elsewhere first."
            )
