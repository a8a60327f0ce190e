"""``gisrenew validate``: check a project or files and print every problem found."""

from __future__ import annotations

import re
from pathlib import Path

import click

from gisrenew.config import CONFIG_FILE
from gisrenew.errors import Problem
from gisrenew.io import list_layers, load_layer
from gisrenew.project import Project
from gisrenew.schema import LAYERS

_READABLE = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml", ".sqlite"}

#: Words in a file or layer name that tell its kind (English, pinyin and Chinese).
_KIND_HINTS = {
    "parks": ("park", "gongyuan", "公园", "绿地", "广场"),
    "residential": ("resid", "juzhu", "居住", "住宅"),
    "parcels": ("parcel", "dikuai", "地块"),
    "plans": ("plan", "gengxin", "更新", "改造", "规划"),
    "boundary": ("boundary", "builtup", "built_up", "jianchengqu", "建成区", "边界"),
    "districts": ("district", "street", "town", "jiedao", "街道", "区划", "镇"),
    "roads": ("road", "street_net", "daolu", "道路", "路网"),
    "entrances": ("entrance", "gate", "churukou", "出入口"),
    "candidates": ("candidate", "site", "备选"),
}


def guess_kind(name: str) -> str | None:
    """The layer kind a file or layer name suggests, or None."""
    lowered = name.lower()
    if lowered in LAYERS:
        return lowered
    for kind in ("entrances", "candidates", "residential", "plans", "parcels", "boundary",
                 "districts", "roads", "parks"):  # fmt: skip
        if any(re.search(re.escape(hint), lowered) for hint in _KIND_HINTS[kind]):
            return kind
    return None


def _targets(paths: tuple[Path, ...], kind: str | None):
    for path in paths:
        if path.is_dir():
            if (path / CONFIG_FILE).is_file():
                yield from _project_targets(path)
                continue
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in _READABLE)
            yield from _targets(tuple(files), kind)
            continue
        try:
            layers = list_layers(path) if path.exists() else [None]
        except Exception:
            layers = [None]
        for layer in layers:
            guessed = kind or guess_kind(layer or "") or guess_kind(path.stem)
            yield path, layer if len(layers) > 1 else None, guessed, {}, None


def _project_targets(folder: Path):
    project = Project.open(folder)
    for layer in project.layer_kinds():
        if layer in LAYERS:
            yield (
                project.gpkg_path, layer, layer, project.config.column_map(layer),
                project.working_crs,
            )  # fmt: skip


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder to check.",
)
@click.option(
    "--kind",
    type=click.Choice(list(LAYERS)),
    default=None,
    help="Layer kind of the files (default: guessed from file/layer names).",
)
@click.option("--crs", default=None, help="CRS to assume for files without one.")
@click.option("--encoding", default=None, help="Shapefile text encoding to use.")
def command(paths, project, kind, crs, encoding) -> None:
    """Check a project, files or a folder of files; list every problem (数据检查).

    Each problem names the file, layer, rows and the fix. Exits 1 when any error is
    found, 0 when the data can be used (warnings are repairs gisrenew makes itself).
    Files are checked as the layer kind their name suggests (公园/parks, 居住/residential,
    地块/parcels, 更新/plans, ...) or as --kind.
    """
    targets = list(_targets(((project,) if project else ()) + tuple(paths), kind))
    if not targets:
        if (Path.cwd() / CONFIG_FILE).is_file():
            targets = list(_project_targets(Path.cwd()))
        else:
            raise click.UsageError("give a project folder, files, or a folder of files")
    n_errors = n_warnings = 0
    for path, layer, layer_kind, columns, working in targets:
        label = f"{path}" + (f" [layer {layer}]" if layer else "")
        if layer_kind is None:
            problems = [Problem(
                "error", "cannot tell which kind of layer this is", str(path), layer or "",
                fix=f"name the kind with --kind ({', '.join(LAYERS)}) or rename the file",
            )]  # fmt: skip
            count = None
        else:
            gdf, problems = load_layer(
                path, layer_kind, layer=layer, crs=crs, encoding=encoding,
                columns=columns or None, working_crs=working,
            )  # fmt: skip
            count = None if gdf is None else len(gdf)
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity == "warning"]
        n_errors += len(errors)
        n_warnings += len(warnings)
        status = click.style("ERROR", fg="red") if errors else click.style("ok", fg="green")
        extra = f", {count} features" if count is not None else ""
        click.echo(f"{status:>5}  {label} as `{layer_kind}`{extra}")
        for problem in problems:
            if problem.severity != "info":
                click.echo("       " + str(problem).replace("\n", "\n       "))
    click.echo(f"\n{len(targets)} layer(s) checked: {n_errors} error(s), {n_warnings} warning(s)")
    if n_errors:
        raise SystemExit(1)
