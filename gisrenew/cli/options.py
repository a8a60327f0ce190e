"""Options and input loading shared by the commands."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import geopandas as gpd
from pyproj import CRS

from gisrenew import jsonable, outfiles
from gisrenew.config import CONFIG_FILE, ProjectConfig
from gisrenew.errors import OutputError, raise_for_problems
from gisrenew.io import load_layer
from gisrenew.project import Project, owned_files

__all__ = [
    "Inputs",
    "check_out",
    "check_out_suffix",
    "crs_option",
    "emit_json",
    "encoding_option",
    "json_option",
    "load_inputs",
    "out_option",
    "project_option",
    "wait_seconds",
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
    help="CRS of input files that have none (e.g. EPSG:4490 CGCS2000, EPSG:4549 GK CM 120°E).",
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


def check_out_suffix(ctx: click.Context, param: click.Parameter, value: Path | None):
    """Click callback: refuse an ``--out`` file of unknown type when the command line is read."""
    if value is not None and value.suffix.lower() not in outfiles.RESULT_SUFFIXES:
        raise click.BadParameter(
            f"{value}: results are written as .gpkg (layers), .csv or .xlsx (tables); end the "
            f"file name in one of them, e.g. {value.with_suffix('.gpkg').name}"
        )
    return value


def wait_seconds(ctx: click.Context, param: click.Parameter, value: float | None):
    """Click callback: a wait must be a finite number of seconds ≥ 0 (nan or inf never ends)."""
    if value is not None and (not math.isfinite(value) or value < 0):
        raise click.BadParameter(f"{value} is not a finite number of seconds ≥ 0, e.g. 0 or 600")
    return value


out_option = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=check_out_suffix,
    help="Write results to FILE (.gpkg layers; .csv or .xlsx tables).",
)


def check_out(
    out: Path | None,
    *,
    inputs: Iterable[str | os.PathLike | None] = (),
    project: str | os.PathLike | None = None,
) -> None:
    """Refuse ``--out`` before any computation when it would replace an input or a project file.

    Protects the command's `inputs` (with a Shapefile's sidecars) and the files
    gisrenew owns in the `project` folder, in the current folder and in the output's
    folder when they hold a project. A usage error (exit 2) names the clash and the fix.
    """
    if out is None:
        return
    folders = {Path(project)} if project is not None else set()
    folders |= {f for f in (Path.cwd(), out.parent) if (f / CONFIG_FILE).is_file()}
    protected = [path for folder in folders for path in owned_files(folder)]
    try:
        outfiles.check_output(
            out, inputs=[p for p in inputs if p is not None], protected=protected
        )
    except OutputError as exc:
        raise click.BadParameter(str(exc), param_hint="'--out'") from None


@dataclass
class Inputs:
    """Layers for one command run, all in one working CRS."""

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    project: Project | None = None
    config: ProjectConfig = field(default_factory=ProjectConfig)

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
) -> Inputs:
    """Load a command's layers from a project and/or files into one working CRS.

    Files given on the command line win over the project's layers of the same kind.
    Every problem in every file is collected and reported together.

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
    """
    proj = _find_project(project, files)
    config = proj.config if proj else ProjectConfig()
    working = proj.working_crs if proj else None
    if working is None and config.working_crs:
        working = CRS.from_user_input(config.working_crs)
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems = []
    # polygon layers of the study area first, so they pick the working CRS
    order = sorted(files, key=lambda k: (k not in ("residential", "parks", "boundary"), k))
    for kind in order:
        path = files[kind]
        if path is None:
            continue
        gdf, found = load_layer(
            path, kind, crs=crs, encoding=encoding, working_crs=working,
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
    return Inputs(layers=layers, project=proj, config=config)






def emit_json(data: Any) -> None:
    """Print `data` as one JSON object on stdout (nan/inf become null, UTF-8 kept)."""
    click.echo(jsonable.dumps(data, indent=2))
