"""Project settings: ``gisrenew.toml`` ↔ :class:`ProjectConfig`.

A project folder holds ``gisrenew.toml`` and one GeoPackage. The file looks like::

    [project]
    name = "太仓市"
    gpkg = "project.gpkg"          # the project store, relative to the folder
    # store = "service=bureau"     # ... or a PostGIS database (a libpq service or
    # schema = "taicang"           #     postgresql://host:port/db) and the project's schema
    working_crs = "EPSG:4549"      # metric CRS for every analysis
    rules = "tijian-2021"          # preset name or path to a rule-set TOML

    [residential]
    codes = ["R", "07"]            # land-use code prefixes that count as residential

    [columns.parks]                # your header = gisrenew column (on load)
    "公园名称" = "name"

    [layers.parks]                 # per-layer source settings (used by `gisrenew init`)
    crs = "EPSG:4490"
    encoding = "GBK"

    [network]                      # settings owned by the analysis modules
    walk_minutes = 10
    walk_speed_kmh = 4.8

Every table is checked by :mod:`gisrenew.settings` when the file is read: unknown
tables and keys, values of the wrong type and non-finite numbers are refused, with
every problem of the file in one message, so a typo never silently falls back to a
default. A relative rule-set path is relative to the project folder, whichever folder
a command runs from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
import tomlkit

from gisrenew import outfiles
from gisrenew import settings as st
from gisrenew.errors import ProjectError
from gisrenew.schema import LAYERS, get_layer_schema

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_RESIDENTIAL_CODES",
    "ProjectConfig",
    "merged_settings",
    "update_settings_text",
]

CONFIG_FILE = "gisrenew.toml"

#: Land-use code prefixes counted as residential by default: GB 50137-2011 ``R``
#: (R1/R2/R3, R11, R20, R21, ...) and the 国土空间 classification ``07`` (0701, 070101, ...).
DEFAULT_RESIDENTIAL_CODES = st.ResidentialSettings().codes

#: Tables of analysis settings (each a dataclass in :mod:`gisrenew.settings`).
ANALYSIS_SECTIONS = (
    "coverage", "network", "plans", "maps", "sites", "life_circles", "report",
)  # fmt: skip

#: Tables that no longer exist, and where their keys went.
_MOVED = {"batch": "[batch] weight moved to [coverage] weight; delete the [batch] table"}

#: Layer kinds that ``[columns.<kind>]`` may name besides the input layers.
_EXTRA_COLUMN_KINDS = ("new_parks",)


@dataclass
class ProjectConfig:
    """Settings of one project (see module docs for the TOML shape).

    ``sections`` holds the analysis tables as written (validated); the typed views
    :attr:`coverage`, :attr:`network`, :attr:`plans`, :attr:`maps` and :attr:`sites`
    carry every key with its default.
    """

    name: str = "gisrenew project"
    gpkg: str = "project.gpkg"
    store: str | None = None
    schema: str | None = None
    working_crs: str | None = None
    rules: str = "tijian-2021"
    read_only: bool = False
    time_zone: str | None = None
    residential_codes: tuple[str, ...] = DEFAULT_RESIDENTIAL_CODES
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        where = str(self.path) if self.path else CONFIG_FILE
        problems = _column_and_layer_problems(self.columns, self.layers)
        for name, table in self.sections.items():
            if name not in ANALYSIS_SECTIONS:
                problems.append(f"[{name}] is not a settings table")
                continue
            problems += st.section_problems(st.SECTIONS[name], table, section=name)
        if problems:
            raise ProjectError(st.problems_message(where, problems))
        self._views = {
            name: st.read_section(st.SECTIONS[name], self.sections.get(name, {}), section=name)
            for name in ANALYSIS_SECTIONS
        }

    # ------------------------------------------------------------------ typed views

    @property
    def coverage(self) -> st.CoverageSettings:
        """``[coverage]`` with defaults."""
        return self._views["coverage"]

    @property
    def network(self) -> st.NetworkSettings:
        """``[network]`` with defaults."""
        return self._views["network"]

    @property
    def plans(self) -> st.PlanSettings:
        """``[plans]`` with defaults."""
        return self._views["plans"]

    @property
    def maps(self) -> st.MapSettings:
        """``[maps]`` with defaults."""
        return self._views["maps"]

    @property
    def sites(self) -> st.SiteSettings:
        """``[sites]`` with defaults."""
        return self._views["sites"]

    @property
    def life_circles(self) -> st.LifeCircleSettings:
        """``[life_circles]`` with defaults."""
        return self._views["life_circles"]

    @property
    def report(self) -> st.ReportSettings:
        """``[report]`` with defaults."""
        return self._views["report"]

    def targets_source(self) -> str | None:
        """The project's own targets file (``[report] targets``) as an absolute path, or None.

        A relative path is relative to the project folder, as for the rule sets.
        """
        text = self.report.targets
        if text is None or self.folder is None or Path(text).is_absolute():
            return text
        return str((self.folder / text).resolve())

    @property
    def in_database(self) -> bool:
        """True when the project's store is a PostgreSQL database (``[project] store``)."""
        return st.is_database(self.store)

    @property
    def folder(self) -> Path | None:
        """The folder of ``gisrenew.toml`` (None for a config not read from a file)."""
        return None if self.path is None else self.path.parent

    def section(self, name: str) -> dict[str, Any]:
        """The ``[name]`` table as written in the file (validated; empty when absent)."""
        if name not in ANALYSIS_SECTIONS:
            raise KeyError(
                f"unknown settings table {name!r}; known: {', '.join(ANALYSIS_SECTIONS)}"
            )
        return dict(self.sections.get(name, {}))

    def column_map(self, kind: str) -> dict[str, str]:
        """The ``{your header: gisrenew column}`` mapping for layer `kind`."""
        return dict(self.columns.get(get_layer_schema(kind).name, {}))

    def rules_source(self) -> str:
        """The rule set to load: a preset name, or a rule-set file's absolute path.

        A relative path in ``rules`` is relative to the project folder, so every
        command finds the same file from any current folder.
        """
        return self._rule_set_source(self.rules)

    def life_circle_rules_source(self) -> str:
        """The life-circle rule set to load (``[life_circles] rules``), as :meth:`rules_source`."""
        return self._rule_set_source(self.life_circles.rules)

    def _rule_set_source(self, text: str) -> str:
        looks_like_path = text.lower().endswith(".toml") or "/" in text or os.sep in text
        if looks_like_path and self.folder is not None and not Path(text).is_absolute():
            return str((self.folder / text).resolve())
        return text

    # ------------------------------------------------------------------ TOML

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, path: Path | None = None) -> ProjectConfig:
        """Build a config from a parsed ``gisrenew.toml``; every problem is an error."""
        where = str(path) if path else CONFIG_FILE
        known = {"project", "residential", "columns", "layers", *ANALYSIS_SECTIONS}
        problems = [_MOVED[name] for name in data if name in _MOVED]
        unknown = sorted(set(data) - known - set(_MOVED))
        if unknown:
            problems.append(
                f"unknown settings table(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        project_table = data.get("project", {})
        residential_table = data.get("residential", {})
        problems += st.section_problems(st.ProjectSettings, project_table, section="project")
        problems += st.section_problems(
            st.ResidentialSettings, residential_table, section="residential"
        )
        if problems:
            raise ProjectError(st.problems_message(where, problems))
        project = st.read_section(st.ProjectSettings, project_table, section="project")
        residential = st.read_section(
            st.ResidentialSettings, residential_table, section="residential"
        )
        file_store = project.store if not st.is_database(project.store) else None
        return cls(
            name=project.name,
            gpkg=file_store or project.gpkg,
            store=project.store,
            schema=project.schema,
            working_crs=project.working_crs,
            rules=project.rules,
            read_only=project.read_only,
            time_zone=project.time_zone,
            residential_codes=residential.codes,
            columns=data.get("columns", {}),
            layers=data.get("layers", {}),
            sections={k: data[k] for k in ANALYSIS_SECTIONS if k in data},
            path=path,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> ProjectConfig:
        """Read ``gisrenew.toml`` (a file, or the project folder holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / CONFIG_FILE
        if not path.is_file():
            raise ProjectError(
                f"{path} does not exist: not a gisrenew project. Fix: create one with "
                "`gisrenew init FOLDER --parks FILE --residential FILE ...`."
            )
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProjectError(f"{path}: not valid UTF-8 TOML: {exc}") from None
        return cls.from_dict(data, path=path)

    def to_dict(self) -> dict[str, Any]:
        """The TOML document for this config."""
        project = {"name": self.name, "rules": self.rules}
        if self.store is None:
            project["gpkg"] = self.gpkg
        else:
            project["store"] = self.store
        if self.schema is not None:
            project["schema"] = self.schema
        if self.working_crs:
            project["working_crs"] = self.working_crs
        if self.read_only:
            project["read_only"] = True
        if self.time_zone:
            project["time_zone"] = self.time_zone
        data: dict[str, Any] = {
            "project": project,
            "residential": {"codes": list(self.residential_codes)},
        }
        if self.columns:
            data["columns"] = self.columns
        if self.layers:
            data["layers"] = self.layers
        data.update(self.sections)
        return data

    def to_toml(self) -> str:
        """The text of ``gisrenew.toml`` for this config."""
        return tomli_w.dumps(self.to_dict())

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``gisrenew.toml`` atomically (to a folder or a file path).

        Uses :func:`gisrenew.outfiles.write_text`: a full disk is an
        :class:`~gisrenew.errors.OutputError` and the old file stays as it was.
        """
        path = Path(path)
        if path.is_dir():
            path = path / CONFIG_FILE
        outfiles.write_text(path, self.to_toml())
        self.path = path
        return path


def _column_and_layer_problems(columns: Any, layers: Any) -> list[str]:
    """Problems of the ``[columns.<kind>]`` and ``[layers.<kind>]`` tables."""
    problems = []
    for label, table in (("columns", columns), ("layers", layers)):
        if not isinstance(table, dict):
            problems.append(f"[{label}] must hold one table per layer, e.g. [{label}.parks]")
            continue
        for kind, value in table.items():
            if kind not in LAYERS and kind not in _EXTRA_COLUMN_KINDS:
                problems.append(f"[{label}.{kind}] names no layer; layers: {', '.join(LAYERS)}")
            elif label == "columns":
                message = st.check_value(value, {"kind": "text_table"})[1]
                if message:
                    problems.append(f"[columns.{kind}] {message}")
            else:
                problems += st.section_problems(st.LayerSource, value, section=f"layers.{kind}")
    return problems


# --------------------------------------------------------------------------- merging


def _set_nested(table, changes: Mapping[str, Any]) -> None:
    """Apply `changes` to a tomlkit table: tables merge key by key; values replace."""
    for key, value in changes.items():
        if isinstance(value, Mapping):
            if key not in table or not isinstance(table[key], Mapping):
                table[key] = tomlkit.table()
            _set_nested(table[key], value)
        elif value is None:
            if key in table:
                del table[key]
        else:
            table[key] = value


def update_settings_text(text: str, changes: Mapping[str, Any], *, where: str = CONFIG_FILE) -> str:
    """`text` of a ``gisrenew.toml`` with `changes` applied, every other line kept as written.

    Comments, order and layout of the planner's file stay (tomlkit); a value ``None``
    removes a key. The result is checked by the settings reader before it is returned.

    Parameters
    ----------
    text : str
        The file's text ("" for a new file).
    changes : mapping
        ``{table: {key: value}}``, nested for ``[columns.parks]`` / ``[layers.parks]``.
    where : str
        The file, for messages.

    Raises
    ------
    ProjectError
        When `text` is not valid TOML or the result is not valid settings.

    Examples
    --------
    >>> text = '[project]\\nname = "太仓"  # the city\\n'
    >>> print(update_settings_text(text, {"project": {"working_crs": "EPSG:4549"}}), end="")
    [project]
    name = "太仓"  # the city
    working_crs = "EPSG:4549"
    """
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ProjectError(f"{where}: not valid TOML: {exc}") from None
    _set_nested(doc, changes)
    ProjectConfig.from_dict(doc.unwrap(), path=Path(where))
    return tomlkit.dumps(doc)


def merged_settings(
    existing: Mapping[str, Any], additions: Mapping[str, Any], *, where: str = CONFIG_FILE
) -> dict[str, Any]:
    """`additions` that do not contradict `existing` settings; refuse those that do.

    Both are ``{table: {key: value}}`` (nested for ``columns.<layer>``). A value that
    `existing` lacks, or holds equally, is merged; a different value is a
    :class:`~gisrenew.errors.ProjectError` naming both and the fix.
    """
    problems: list[str] = []

    def walk(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in new.items():
            if value is None:
                continue
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping):
                inner = walk(old.get(key, {}) if isinstance(old.get(key), Mapping) else {},
                             value, name)  # fmt: skip
                if inner:
                    out[key] = inner
            elif key in old and old[key] != value:
                table, _, leaf = name.rpartition(".")
                problems.append(
                    f"[{table}] {leaf} = {old[key]!r} in {where}, but the command line says "
                    f"{value!r}. Fix: change or delete the line in {where}, or leave out the "
                    "option"
                )
            elif key not in old:
                out[key] = value
        return out

    merged = walk(existing, additions, "")
    if problems:
        raise ProjectError(st.problems_message(where, problems))
    return merged
