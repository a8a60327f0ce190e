"""A run's inputs, gathered once: layers, validated settings, rule set, weight, codes.

Every command that computes an indicator — ``coverage``, ``affected``, ``sites``,
``recompute``, ``publish``, ``demo`` — and the notebooks start here:
:func:`gather_inputs` reads the layers (files given on the command line win over the
project's layers of the same kind), applies command-line choices as overrides of the
project's settings and checks them with the one settings reader
(:mod:`gisrenew.settings`), and decides once, for everyone:

* the **rule set**: the command's choice, else the project's ``rules`` (a relative
  path is relative to the project folder);
* the **weight** (权重): the command's ``weight``, else ``[coverage] weight``, else
  ``households`` when the residential layer has households, else none; a Chinese
  header such as 户数 names the same column;
* the **residential land-use codes**: the command's, else the rule set's, else
  ``[residential] codes``;
* the **warnings** found while reading (repairs, dropped rows, generated ids, ...),
  which every command prints.

The result, :class:`ProjectInputs`, is what :func:`gisrenew.indicators.compute_indicators`
takes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import CRS

from gisrenew import io
from gisrenew.config import CONFIG_FILE, ProjectConfig
from gisrenew.crs import parse_crs
from gisrenew.errors import (
    MissingLayerError,
    Problem,
    ProjectError,
    SchemaError,
    raise_for_problems,
)
from gisrenew.lifecircles.rules import LifeCircleRules, get_life_circle_rules
from gisrenew.project import Project
from gisrenew.rules import RuleSet, get_rules
from gisrenew.schema import LAYERS, column_aliases
from gisrenew.settings import merge_overrides

__all__ = [
    "INPUT_KINDS",
    "MissingLayerError",
    "ProjectInputs",
    "gather_inputs",
    "reading_options",
    "resolve_weight",
]

log = logging.getLogger(__name__)

#: Input layer kinds, study-area layers first (they pick the working CRS).
INPUT_KINDS: tuple[str, ...] = tuple(
    sorted(LAYERS, key=lambda k: (k not in ("residential", "parks", "boundary"), k))
)

#: The ``weight`` value that asks for no weight.
NO_WEIGHT = "none"


@dataclass(frozen=True)
class ProjectInputs:
    """Everything one run needs, validated and in one metric working CRS.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        Conformed layers by kind (``parks``, ``residential``, ...).
    config : ProjectConfig
        The project's settings with the command's overrides applied (validated).
    rules : RuleSet
        The rule set of every coverage figure of this run.
    weight : str or None
        Residential column used as weight, or None.
    residential_codes : tuple of str
        Land-use code prefixes counted as residential (empty: all).
    problems : tuple of Problem
        Warnings found while reading the layers (repairs, drops, generated ids).
    sources : dict of str to str
        Where each layer came from (file path, or ``project.gpkg:kind``).
    project : Project or None
        The project the layers came from, if any.
    life_circle_rules : LifeCircleRules or None
        The life-circle rule set (``[life_circles] rules`` or the command's choice), when
        the run has a facilities layer or asked for one.
    """

    layers: dict[str, gpd.GeoDataFrame]
    config: ProjectConfig
    rules: RuleSet
    weight: str | None
    residential_codes: tuple[str, ...]
    problems: tuple[Problem, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    project: Project | None = None
    life_circle_rules: LifeCircleRules | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def layer(self, kind: str) -> gpd.GeoDataFrame | None:
        """The layer `kind`, or None when the run has none."""
        return self.layers.get(kind)

    def has(self, *kinds: str) -> bool:
        """True when the run has every layer in `kinds`."""
        return all(kind in self.layers for kind in kinds)

    @property
    def name(self) -> str:
        """The project's name (empty for loose files)."""
        return self.config.name if self.project is not None else ""

    def with_layers(self, **layers: gpd.GeoDataFrame) -> ProjectInputs:
        """The same inputs with some layers replaced (e.g. the parks after a change).

        Cached derived data (the walk graph) is kept unless ``roads`` changes.
        """
        cache = {} if "roads" in layers else self._cache
        return dataclasses.replace(self, layers={**self.layers, **layers}, _cache=cache)

    def cached(self, key: str, build) -> Any:
        """A value derived from these inputs, built once (e.g. the walk graph)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]


# --------------------------------------------------------------------------- gathering


def gather_inputs(
    project: Project | str | os.PathLike | None = None,
    files: Mapping[str, str | os.PathLike | gpd.GeoDataFrame | None] | None = None,
    *,
    kinds: Iterable[str] | None = None,
    required: Sequence[str] = (),
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    rules: str | os.PathLike | RuleSet | None = None,
    residential_codes: Sequence[str] | None = None,
    crs=None,
    override_crs=None,
    encoding: str | None = None,
    life_circle_rules: str | os.PathLike | LifeCircleRules | None = None,
) -> ProjectInputs:
    """Read and validate a run's layers and settings (see module docs).

    Parameters
    ----------
    project : Project, path or None
        The project; ``None`` with no `files` uses the current folder when it holds a
        ``gisrenew.toml``.
    files : mapping, optional
        ``{kind: file or GeoDataFrame or None}``; these win over the project's layers.
    kinds : iterable of str, optional
        The project layers to read (default: every input layer it has).
    required : sequence of str
        Kinds the run cannot do without: :class:`MissingLayerError` when absent.
    settings : mapping, optional
        ``{table: {key: value}}`` overrides of the project's settings, e.g. command-line
        options (``None`` values mean "not given"); checked like the file's settings.
    rules : str, path or RuleSet, optional
        Rule set overriding the project's.
    residential_codes : sequence of str, optional
        Land-use codes overriding the rule set's and the project's (``()``: all land).
    crs, encoding : optional
        CRS and text encoding of files that declare none.
    override_crs : optional
        CRS that replaces what the files declare (a wrong ``.prj``); reported as a
        warning for every file it relabels.
    life_circle_rules : str, path or LifeCircleRules, optional
        Life-circle rule set overriding ``[life_circles] rules``; loaded when given or
        when the run has a facilities layer.

    Raises
    ------
    ValidationError, CRSError, ...
        With every error found in every layer.
    ProjectError
        For invalid settings.
    MissingLayerError
        When a `required` layer is missing.
    """
    files = {k: v for k, v in (files or {}).items() if v is not None}
    declared = reading_options(crs, override_crs, encoding)
    proj = _open_project(project, files)
    config = _configured(proj.config if proj else ProjectConfig(), settings or {})
    layers, problems, sources = _read_files(files, config, proj, declared)
    if proj is not None:
        wanted = INPUT_KINDS if kinds is None else tuple(kinds)
        _read_project_layers(proj, wanted, layers, problems, sources)
    missing = [k for k in required if k not in layers]
    if missing:
        raise MissingLayerError(missing)
    problems.extend(io.check_extents(layers))
    rule_set = get_rules(rules if rules is not None else config.rules_source())
    codes = _residential_codes(residential_codes, rule_set, config)
    weight = resolve_weight(config.coverage.weight, layers.get("residential"))
    warnings = tuple(p for p in problems if p.severity != "error")
    circles = None
    if life_circle_rules is not None or "facilities" in layers:
        circles = get_life_circle_rules(
            life_circle_rules
            if life_circle_rules is not None
            else config.life_circle_rules_source()
        )
    return ProjectInputs(layers, config, rule_set, weight, codes, warnings, sources, proj, circles)


def reading_options(crs=None, override_crs=None, encoding: str | None = None) -> dict[str, Any]:
    """The ``crs``/``override_crs``/``encoding`` keywords of the loaders, CRSs checked.

    A CRS that pyproj does not know is a :class:`~gisrenew.errors.CRSError` naming the
    option and a valid example.
    """
    return {
        "crs": None if crs is None else parse_crs(crs, what="--crs"),
        "override_crs": None
        if override_crs is None
        else parse_crs(override_crs, what="--override-crs"),
        "encoding": encoding,
    }


def _open_project(project, files: Mapping[str, Any]) -> Project | None:
    if isinstance(project, Project):
        return project
    if project is not None:
        return Project.open(project)
    if not files and (Path.cwd() / CONFIG_FILE).is_file():
        return Project.open(Path.cwd())
    return None


def _configured(config: ProjectConfig, overrides: Mapping[str, Mapping[str, Any]]) -> ProjectConfig:
    """`config` with command-line overrides applied, validated by the settings reader."""
    if not any(v is not None for table in overrides.values() for v in table.values()):
        return config
    sections = dict(config.sections)
    for name, table in overrides.items():
        merged = merge_overrides(sections.get(name, {}), table)
        if merged:
            sections[name] = merged
    where = "the command-line options" if config.path is None else f"{config.path} + options"
    try:
        return dataclasses.replace(config, sections=sections)
    except ProjectError as exc:
        raise ProjectError(str(exc).replace(str(config.path or CONFIG_FILE), where, 1)) from None


def _working_crs(config: ProjectConfig, project: Project | None) -> CRS | None:
    if project is not None:
        return project.working_crs
    if config.working_crs is None:
        return None
    return parse_crs(config.working_crs, what="`working_crs` in gisrenew.toml")


def _read_files(files, config, project, declared: Mapping[str, Any]):
    """Read the command's own files; every problem of every file is collected."""
    working = _working_crs(config, project)
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems: list[Problem] = []
    sources: dict[str, str] = {}
    for kind in sorted(files, key=INPUT_KINDS.index):
        source = files[kind]
        columns = config.column_map(kind) or None
        if isinstance(source, gpd.GeoDataFrame):
            gdf, found = io.load_frame(source, kind, working_crs=working, columns=columns)
            sources[kind] = "<GeoDataFrame>"
        else:
            gdf, found = io.load_layer(
                source, kind, working_crs=working, columns=columns, **declared
            )
            sources[kind] = str(source)
        problems.extend(found)
        if gdf is not None:
            layers[kind] = gdf
            working = working or CRS.from_user_input(gdf.crs)
    raise_for_problems(problems)
    return layers, problems, sources


def _read_project_layers(project, kinds, layers, problems, sources) -> None:
    for kind in kinds:
        if kind in layers or not project.has(kind):
            continue
        gdf, found = project.load(kind)
        problems.extend(found)
        raise_for_problems(found)
        layers[kind] = gdf
        sources[kind] = f"{project.describe()}:{kind}"


def _residential_codes(override, rule_set: RuleSet, config: ProjectConfig) -> tuple[str, ...]:
    if override is not None:
        return tuple(str(c).strip() for c in override if str(c).strip())
    return tuple(rule_set.residential_codes) or tuple(config.residential_codes)


def resolve_weight(weight: str | None, residential: gpd.GeoDataFrame | None) -> str | None:
    """The residential weight column of a run (the one default every command uses).

    Parameters
    ----------
    weight : str or None
        The column asked for (``households``, ``population``, a Chinese header such as
        户数 or 人口, or ``"none"``); None: ``households`` when the layer has any.
    residential : GeoDataFrame or None
        The conformed residential layer.

    Raises
    ------
    SchemaError
        When the named column is not in the layer or is not numeric.
    """
    if weight is not None and weight.strip().lower() == NO_WEIGHT:
        return None
    if residential is None:
        return None if weight is None else _weight_alias(weight)
    if weight is None:
        households = residential.get("households")
        has_households = households is not None and float(np.nansum(households)) > 0
        return "households" if has_households else None
    column = _weight_alias(weight)
    if column not in residential.columns or column == residential.geometry.name:
        numeric = [c for c in residential.select_dtypes("number").columns if not c.endswith("_id")]
        raise SchemaError(
            f"the weight column {weight!r} is not in the residential layer; numeric columns: "
            f"{', '.join(numeric) or 'none'}. Fix: --weight households (户数) or population (人口)."
        )
    if not np.issubdtype(residential[column].dtype, np.number):
        raise SchemaError(f"the weight column {weight!r} is not numeric")
    return column


def _weight_alias(weight: str) -> str:
    """A Chinese header (户数, 人口) as the residential column it maps to."""
    return column_aliases("residential").get(weight.strip(), weight.strip())
