"""Options and input loading shared by the commands."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import geopandas as gpd
from pyproj import CRS

from gisrenew import jsonable
from gisrenew.config import CONFIG_FILE, ProjectConfig
from gisrenew.crs import parse_crs
from gisrenew.errors import Problem, raise_for_problems
from gisrenew.io import check_extents, load_layer, log_problems
from gisrenew.project import Project

__all__ = [
    "Inputs",
    "crs_option",
    "emit_json",
    "encoding_option",
    "json_option",
    "load_inputs",
    "out_option",
    "project_option",
]

project_option = click.option(
    "--project",
    "project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder (with gisrenew.toml). Default: the current folder if it is one.",
)
crs_option = click.option(
    "--crs",
    default=None,
    metavar="EPSG:XXXX",
    help="CRS of input files that have none (e.g. EPSG:4490 CGCS2000, EPSG:4549 GK CM 120°E); "
    "a file with its own CRS keeps it.",
)
encoding_option = click.option(
    "--encoding",
    default=None,
    metavar="NAME",
    help="Attribute text encoding of Shapefiles (default: .cpg, else detected UTF-8/GBK).",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of tables."
)
out_option = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write results to FILE (.gpkg layers; .csv or .xlsx tables).",
)


@dataclass
class Inputs:
    """Layers for one command run, all in one working CRS."""

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    project: Project | None = None
    config: ProjectConfig = field(default_factory=ProjectConfig)
    #: Warnings and notices of loading (repairs, drops, CRS and encoding decisions,
    #: features far outside the study area); already logged.
    problems: list[Problem] = field(default_factory=list)

    def get(self, kind: str) -> gpd.GeoDataFrame | None:
        """The layer `kind`, or None when not given."""
        return self.layers.get(kind)


def _find_project(project: Path | None, files: dict[str, Any]) -> Project | None:
    if project is not None:
        return Project.open(project)
    if not any(files.values()) and (Path.cwd() / CONFIG_FILE).is_file():
        return Project.open(Path.cwd())
    return None


def load_inputs(
    project: Path | None,
    files: dict[str, str | os.PathLike | None],
    *,
    crs: str | None = None,
    encoding: str | None = None,
    required: tuple[str, ...] = (),
    optional_from_project: tuple[str, ...] = (),
    override_crs: str | None = None,
) -> Inputs:
    """Load a command's layers from a project and/or files into one working CRS.

    Files given on the command line win over the project's layers of the same kind.
    Every problem in every file is collected and reported together; warnings and
    notices (including features far outside the study area,
    :func:`gisrenew.io.check_extents`) are logged and kept in ``Inputs.problems``.

    Parameters
    ----------
    project : Path or None
        Project folder; ``None`` uses the current folder when it is a project and no
        file is given.
    files : dict
        ``{kind: path or None}`` from the command's options.
    required : tuple of str
        Kinds the command cannot run without (a usage error, exit 2, when missing).
    optional_from_project : tuple of str
        Further kinds to take from the project when it has them.
    crs, override_crs : str, optional
        ``--crs`` (files without a CRS) and an explicit override for files whose own
        CRS is wrong (see :func:`gisrenew.io.read_layer`).
    """
    crs = None if crs is None else parse_crs(crs, what="--crs")
    override_crs = None if override_crs is None else parse_crs(override_crs, what="--override-crs")
    proj = _find_project(project, files)
    config = proj.config if proj else ProjectConfig()
    working = proj.working_crs if proj else None
    if working is None and config.working_crs:
        working = parse_crs(config.working_crs, what="`working_crs` in gisrenew.toml")
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems = []
    # polygon layers of the study area first, so they pick the working CRS
    order = sorted(files, key=lambda k: (k not in ("residential", "parks", "boundary"), k))
    for kind in order:
        path = files[kind]
        if path is None:
            continue
        gdf, found = load_layer(
            path, kind, crs=crs, override_crs=override_crs, encoding=encoding,
            working_crs=working,
            columns=config.column_map(kind) if kind in config.columns else None,
        )  # fmt: skip
        problems.extend(found)
        if gdf is not None:
            layers[kind] = gdf
            if working is None:
                working = CRS.from_user_input(gdf.crs)
    raise_for_problems(problems)
    if proj is not None:
        for kind in (*required, *optional_from_project):
            if kind not in layers and proj.has(kind):
                layers[kind] = proj.read(kind)
    missing = [k for k in required if k not in layers]
    if missing:
        flags = " ".join(f"--{k} FILE" for k in missing)
        raise click.UsageError(
            f"missing input layer(s): {', '.join(missing)}. Give {flags}, or --project DIR "
            "for a project that has them."
        )
    problems.extend(check_extents(layers))
    log_problems(problems)
    return Inputs(layers=layers, project=proj, config=config, problems=problems)






def emit_json(data: Any) -> None:
    """Print `data` as one JSON object on stdout (nan/inf become null, UTF-8 kept)."""
    click.echo(jsonable.dumps(data, indent=2))
