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
from gisrenew.io import LayerRef
from gisrenew.project import Project, owned_files

log = logging.getLogger("gisrenew.cli")

__all__ = [
    "LAYER_SOURCE",
    "check_out",
    "check_out_suffix",
    "check_site",
    "crs_option",
    "emit_json",
    "encoding_option",
    "json_option",
    "layer_option",
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


class LayerSource(click.ParamType):
    """A data file, or one layer of it as ``FILE::LAYER``; the file must exist."""

    name = "FILE[::LAYER]"

    def convert(self, value, param, ctx) -> LayerRef:
        ref = LayerRef.parse(value)
        if not ref.path.exists():
            hint = f" (layer {ref.layer!r})" if ref.layer else ""
            self.fail(f"{ref.path}{hint}: no such file. Fix: check the path", param, ctx)
        if ref.path.is_dir():
            self.fail(f"{ref.path} is a folder; give a data file (FILE or FILE::LAYER)", param, ctx)
        return ref


#: Click type of every input file option: ``FILE`` or ``FILE::LAYER``.
LAYER_SOURCE = LayerSource()


def layer_option(kind: str, help: str, *, dest: str | None = None, multiple: bool = False):
    """``--<kind> FILE[::LAYER]``: an input layer, a file or one layer of a GeoPackage."""
    return click.option(
        f"--{kind.replace('_', '-')}", dest or kind, type=LAYER_SOURCE, default=None,
        multiple=multiple, help=f"{help} FILE, or FILE::LAYER for one layer of a GeoPackage.",
    )  # fmt: skip


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
    overwrite: bool = True,
    suffixes: tuple[str, ...] = outfiles.RESULT_SUFFIXES,
) -> None:
    """Refuse ``-o/--output`` before computing when it would replace an input or a project file.

    Protects the command's `inputs` (with a Shapefile's sidecars) and the files
    gisrenew owns in the `project` folder, in the current folder and in the output's
    folder when they hold a project; an existing output is refused unless `overwrite`
    (``--overwrite``). A usage error (exit 2) names the clash and the fix.
    """
    if out is None:
        return
    folders = {Path(project)} if project is not None else set()
    folders |= {f for f in (Path.cwd(), out.parent) if (f / CONFIG_FILE).is_file()}
    protected = [path for folder in folders for path in owned_files(folder)]
    try:
        outfiles.check_output(
            out, inputs=[p for p in inputs if p is not None], protected=protected,
            suffixes=suffixes, overwrite=overwrite,
        )  # fmt: skip
    except OutputError as exc:
        raise click.BadParameter(str(exc), param_hint="'-o/--output'") from None


def check_site(folder: Path, *, overwrite: bool = True) -> Path:
    """Refuse a site folder before any computation (see :func:`gisrenew.outfiles.check_folder`).

    An existing folder that is not a site gisrenew published (no
    ``.gisrenew-site.json``) but holds pages, JSON or tables that publishing could
    replace is refused unless `overwrite`. A site gisrenew made is updated in place.
    """
    # the web-map modules load folium: only the commands that publish import them
    from gisrenew.webmap.publish import SITE_MANIFEST

    outfiles.check_folder(folder)  # an OutputError (exit 1) naming the problem and the fix
    ours = (folder / SITE_MANIFEST).is_file()
    clash = [] if ours or not folder.is_dir() else sorted(_site_like(folder))
    if clash and not overwrite:
        raise click.BadParameter(
            f"{folder} exists and holds {', '.join(clash[:3])}, which a gisrenew site did not "
            "write (no .gisrenew-site.json). Fix: pass --overwrite to publish into it anyway "
            "(files of the same name are replaced), or choose another folder.",
            param_hint="'-o/--output'",
        )
    return folder


def _site_like(folder: Path) -> list[str]:
    """Names in `folder` that a published site writes: pages, its index and its tables."""
    return [
        p.name
        for p in folder.iterdir()
        if p.suffix.lower() in (".html", ".json", ".csv") or p.name == "tables"
    ]


def report_problems(problems) -> None:
    """Print the warnings found while reading the inputs (repairs, drops, generated ids)."""
    for problem in problems:
        if problem.severity == "warning":
            log.warning("%s", problem.text(severity=False))
        else:
            log.info("%s", problem.text(severity=False))


def emit_json(data: Any) -> None:
    """Print `data` as one JSON object on stdout (nan/inf become null, UTF-8 kept)."""
    click.echo(jsonable.dumps(data, indent=2))


def open_project(folder: Path | None) -> Project:
    """The project in `folder`, or in the current folder when it is one."""
    if folder is None:
        if not (Path.cwd() / CONFIG_FILE).is_file():
            raise click.UsageError(
                f"no project here: give --project DIR (a folder with {CONFIG_FILE}), "
                "or run in a project folder"
            )
        folder = Path.cwd()
    return Project.open(folder)
