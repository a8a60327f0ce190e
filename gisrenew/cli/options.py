"""Options and input loading shared by the commands."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from gisrenew import jsonable, outfiles
from gisrenew.config import CONFIG_FILE
from gisrenew.errors import OutputError
from gisrenew.project import owned_files

log = logging.getLogger("gisrenew.cli")

__all__ = [
    "check_out",
    "check_out_suffix",
    "crs_option",
    "emit_json",
    "encoding_option",
    "json_option",
    "out_option",
    "override_crs_option",
    "project_option",
    "report_problems",
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
    help="CRS of input files that have none (e.g. EPSG:4490 CGCS2000, EPSG:4549 GK CM 120°E); "
    "a file with its own CRS keeps it.",
)
override_crs_option = click.option(
    "--override-crs",
    default=None,
    metavar="EPSG:XXXX",
    help="CRS to use for every input file whatever it declares (a wrong .prj); warned each time.",
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
        outfiles.check_output(out, inputs=[p for p in inputs if p is not None], protected=protected)
    except OutputError as exc:
        raise click.BadParameter(str(exc), param_hint="'--out'") from None


def report_problems(problems) -> None:
    """Print the warnings found while reading the inputs (repairs, drops, generated ids)."""
    for problem in problems:
        if problem.severity == "warning":
            log.warning("%s", problem)
        else:
            log.info("%s", problem)


def emit_json(data: Any) -> None:
    """Print `data` as one JSON object on stdout (nan/inf become null, UTF-8 kept)."""
    click.echo(jsonable.dumps(data, indent=2))
