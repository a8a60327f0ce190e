"""``gisrenew validate``: check a project or files and print every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click
import geopandas as gpd
from pyproj import CRS

from gisrenew.cli.convention import lang_option, verbosity_options
from gisrenew.cli.options import (
    crs_option,
    encoding_option,
    layer_option,
    override_crs_option,
    project_option,
)
from gisrenew.config import CONFIG_FILE
from gisrenew.errors import Problem
from gisrenew.inputs import reading_options
from gisrenew.io import check_extents, find_layers, load_layer
from gisrenew.present.tables import sanitize
from gisrenew.project import Project
from gisrenew.schema import LAYER_NAMES, LAYERS, kind_from_name

#: Kinds loaded first: the study area picks the working CRS, as in the other commands.
_STUDY_FIRST = ("residential", "boundary", "parks")


def guess_kind(name: str) -> str | None:
    """The layer kind a file or layer name names exactly, or None.

    The table is :data:`gisrenew.schema.LAYER_NAMES` (see
    :func:`gisrenew.schema.kind_from_name`): ``居住区公园`` or ``街道路网`` are not guessed.
    """
    return kind_from_name(name)


@dataclass
class _Target:
    """One layer to check."""

    path: Path | str
    layer: str | None
    kind: str | None
    columns: dict = field(default_factory=dict)
    working: CRS | None = None
    project: Project | None = None  # a layer of this project's store

    @property
    def label(self) -> str:
        return f"{self.path}" + (f" [layer {self.layer}]" if self.layer else "")


def _targets(paths: tuple[Path, ...], kind: str | None):
    """The layers in `paths` (:func:`gisrenew.io.find_layers`, as ``init`` reads them).

    A folder with a ``gisrenew.toml`` is a project: its stored layers are checked.
    """
    loose: list = []
    for path in paths:
        if Path(path).is_dir() and (Path(path) / CONFIG_FILE).is_file():
            yield from _project_targets(Path(path))
        else:
            loose.append(path)
    for found in find_layers(loose, kind):
        yield _Target(found.ref.path, found.ref.layer, found.kind)


def _project_targets(folder: Path):
    project = Project.open(folder)
    working = project.working_crs
    for layer in project.layer_kinds():
        if layer in LAYERS:
            yield _Target(
                project.describe(), layer, layer, project.config.column_map(layer), working, project
            )


def _unknown_kind(target: _Target) -> Problem:
    examples = ", ".join(names[-1] for names in LAYER_NAMES.values() if names)
    return Problem(
        "error",
        "gisrenew cannot tell which layer this is from its name (only exact names are recognised)",
        str(target.path),
        target.layer or "",
        fix=f"name it with --{' / --'.join(LAYERS)} FILE (or --kind KIND for every file), "
        f"or rename the file to a recognised name ({examples}, ...)",
        category="read",
    )


def _check(targets: list[_Target], options: dict):
    """Load every target (study area first, sharing one working CRS); yield the results."""
    working = next((t.working for t in targets if t.working is not None), None)
    order = sorted(
        range(len(targets)),
        key=lambda i: (targets[i].kind not in _STUDY_FIRST, i),
    )
    for i in order:
        target = targets[i]
        if target.kind is None:
            yield target, None, [_unknown_kind(target)]
            continue
        if target.project is not None:
            gdf, problems = target.project.load(target.layer)
            yield target, gdf, problems
            continue
        gdf, problems = load_layer(
            target.path,
            target.kind,
            layer=target.layer,
            columns=target.columns or None,
            working_crs=target.working or working,
            **options,
        )
        if gdf is not None and working is None:
            working = CRS.from_user_input(gdf.crs)
        yield target, gdf, problems


def _print_problems(problems: list[Problem]) -> tuple[int, int]:
    for problem in problems:
        if problem.severity != "info":
            text = sanitize(str(problem), keep_newlines=True)
            click.echo("       " + text.replace("\n", "\n       "))
    errors = sum(p.severity == "error" for p in problems)
    return errors, sum(p.severity == "warning" for p in problems)


def _report(targets: list[_Target], options: dict) -> tuple[int, int]:
    """Check and print every target, then the layers against each other; count problems."""
    n_errors = n_warnings = 0
    loaded: list[gpd.GeoDataFrame] = []
    for target, gdf, problems in _check(targets, options):
        failed = any(p.severity == "error" for p in problems)
        status = click.style(f"{'ERROR' if failed else 'ok':>5}", fg="red" if failed else "green")
        what = f"as `{target.kind}`" if target.kind else "kind unknown"
        extra = f", {len(gdf)} features" if gdf is not None else ""
        click.echo(f"{status}  " + sanitize(f"{target.label} {what}{extra}"))
        errors, warnings = _print_problems(problems)
        n_errors, n_warnings = n_errors + errors, n_warnings + warnings
        if gdf is not None:
            loaded.append(gdf)
    across = check_extents(loaded)
    if across:
        click.echo("\nacross layers:")
        n_warnings += _print_problems(across)[1]
    return n_errors, n_warnings


def _layer_options(func):
    for kind in reversed(list(LAYERS)):
        func = layer_option(kind, f"Check as the `{kind}` layer:")(func)
    return func


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATHS]...")
@project_option
@_layer_options
@click.option(
    "--kind",
    type=click.Choice(list(LAYERS)),
    default=None,
    help="Layer kind of PATHS (default: from exact file/layer names).",
)
@crs_option
@override_crs_option
@encoding_option
@lang_option()
@verbosity_options
def command(paths, project, kind, crs, override_crs, encoding, lang, **named) -> None:
    """Check a project, files or a folder of files; list every problem (数据检查).

    PATHS are files, FILE::LAYER, folders of files or project folders — exactly what
    `gisrenew init` accepts. Each problem names the file, layer, rows and the fix.
    Exits 1 when any error is found, 0 when the data can be used; warnings are repairs
    gisrenew makes itself, generated ids, and columns that look like one of gisrenew's
    but are not read (with the [columns.<layer>] line to add).
    A file's kind is taken from --parks/--residential/... FILE, from --kind, or from
    its exact name (公园/parks, 居住用地/residential, 地块/parcels, 更新地块/plans,
    建成区/boundary, 街道/districts, 道路/roads, ...); a name that is not recognised
    exactly is reported as "kind unknown".
    """
    options = reading_options(crs, override_crs, encoding)
    targets = list(_targets(((project,) if project else ()) + tuple(paths), kind))
    targets += [_Target(p.path, p.layer, k) for k, p in named.items() if p is not None]
    if not targets:
        if (Path.cwd() / CONFIG_FILE).is_file():
            targets = list(_project_targets(Path.cwd()))
        else:
            raise click.UsageError("give a project folder, files, or a folder of files")
    n_errors, n_warnings = _report(targets, options)
    click.echo(f"\n{len(targets)} layer(s) checked: {n_errors} error(s), {n_warnings} warning(s)")
    if lang == "zh":
        click.echo(f"共检查 {len(targets)} 个图层：{n_errors} 个错误，{n_warnings} 个警告")
    if n_errors:
        raise SystemExit(1)
