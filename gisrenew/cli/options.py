"""Options and input loading shared by the commands."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from gisrenew import jsonable
from gisrenew.config import CONFIG_FILE, ProjectConfig

log = logging.getLogger("gisrenew.cli")

__all__ = [
    "check_outputs",
    "crs_option",
    "emit_json",
    "encoding_option",
    "json_option",
    "out_option",
    "project_option",
    "report_problems",
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
out_option = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write results to FILE (.gpkg layers; .csv or .xlsx tables).",
)


def check_outputs(out: Path | None, files: dict[str, Any], project: Path | None) -> None:
    """Refuse an ``--out`` that would replace the project's store or an input file.

    Called before any computation, so a wrong ``--out`` costs nothing.
    """
    if out is None:
        return
    protected = [Path(p) for p in files.values() if p is not None]
    folder = project if project is not None else (Path.cwd() if not protected else None)
    if folder is not None and (folder / CONFIG_FILE).is_file():
        config = ProjectConfig.load(folder)
        protected += [folder / config.gpkg, folder / CONFIG_FILE]
    target = out.resolve()
    for path in protected:
        if path.exists() and path.resolve() == target:
            raise click.UsageError(
                f"--out names {path}, one of this command's inputs, which would be replaced; "
                "write the results to another file"
            )


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
