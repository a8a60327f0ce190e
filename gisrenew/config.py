"""Project settings: ``gisrenew.toml`` ↔ :class:`ProjectConfig`.

A project folder holds ``gisrenew.toml`` and one GeoPackage. The file looks like::

    [project]
    name = "太仓市"
    gpkg = "project.gpkg"          # the project store, relative to the folder
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

Unknown top-level tables are refused, so a typo does not silently fall back to a
default. Analysis tables (``[coverage]``, ``[network]``, ``[plans]``, ``[maps]``,
``[batch]``, ``[sites]``) are passed to their modules, which validate their own keys.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from gisrenew import outfiles
from gisrenew.errors import ProjectError
from gisrenew.schema import LAYERS, get_layer_schema

__all__ = ["CONFIG_FILE", "DEFAULT_RESIDENTIAL_CODES", "ProjectConfig"]

CONFIG_FILE = "gisrenew.toml"

#: Land-use code prefixes counted as residential by default: GB 50137-2011 ``R``
#: (R1/R2/R3, R11, R20, R21, ...) and the 国土空间 classification ``07`` (0701, 070101, ...).
DEFAULT_RESIDENTIAL_CODES = ("R", "07")

ANALYSIS_SECTIONS = ("coverage", "network", "plans", "maps", "batch", "sites")


@dataclass
class ProjectConfig:
    """Settings of one project (see module docs for the TOML shape)."""

    name: str = "gisrenew project"
    gpkg: str = "project.gpkg"
    working_crs: str | None = None
    rules: str = "tijian-2021"
    residential_codes: tuple[str, ...] = DEFAULT_RESIDENTIAL_CODES
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def section(self, name: str) -> dict[str, Any]:
        """The ``[name]`` table of an analysis module (empty when absent)."""
        if name not in ANALYSIS_SECTIONS:
            raise KeyError(
                f"unknown settings table {name!r}; known: {', '.join(ANALYSIS_SECTIONS)}"
            )
        return dict(self.sections.get(name, {}))

    def column_map(self, kind: str) -> dict[str, str]:
        """The ``{your header: gisrenew column}`` mapping for layer `kind`."""
        return dict(self.columns.get(get_layer_schema(kind).name, {}))

    # ------------------------------------------------------------------ TOML

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, path: Path | None = None) -> ProjectConfig:
        """Build a config from a parsed ``gisrenew.toml``; unknown tables are an error."""
        where = str(path) if path else CONFIG_FILE
        known = {"project", "residential", "columns", "layers", *ANALYSIS_SECTIONS}
        unknown = set(data) - known
        if unknown:
            raise ProjectError(
                f"{where}: unknown settings table(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        project = data.get("project", {})
        bad = set(project) - {"name", "gpkg", "working_crs", "rules"}
        if bad:
            raise ProjectError(f"{where}: unknown key(s) in [project]: {sorted(bad)}")
        columns = data.get("columns", {})
        layers = data.get("layers", {})
        for table, label in ((columns, "columns"), (layers, "layers")):
            for kind in table:
                if kind not in LAYERS and kind != "new_parks":
                    raise ProjectError(
                        f"{where}: [{label}.{kind}] names no layer; layers: {', '.join(LAYERS)}"
                    )
        codes = data.get("residential", {}).get("codes", list(DEFAULT_RESIDENTIAL_CODES))
        return cls(
            name=str(project.get("name", "gisrenew project")),
            gpkg=str(project.get("gpkg", "project.gpkg")),
            working_crs=project.get("working_crs"),
            rules=str(project.get("rules", "tijian-2021")),
            residential_codes=tuple(str(c) for c in codes),
            columns={k: {str(a): str(b) for a, b in v.items()} for k, v in columns.items()},
            layers={k: dict(v) for k, v in layers.items()},
            sections={k: dict(data[k]) for k in ANALYSIS_SECTIONS if k in data},
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
        project = {"name": self.name, "gpkg": self.gpkg, "rules": self.rules}
        if self.working_crs:
            project["working_crs"] = self.working_crs
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
