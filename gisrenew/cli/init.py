"""``gisrenew init``: make a project from files; ``--column`` maps your headers."""

from __future__ import annotations

from pathlib import Path

import click

from gisrenew.cli.convention import lang_option, verbosity_options
from gisrenew.cli.options import crs_option, encoding_option, layer_option, override_crs_option
from gisrenew.config import CONFIG_FILE
from gisrenew.io import FoundLayer, find_layers
from gisrenew.present.tables import sanitize
from gisrenew.project import Project
from gisrenew.schema import LAYER_NAMES, LAYERS

__all__ = ["command", "parse_column", "sources_from"]


def _layer_options(func):
    for kind in reversed(list(LAYERS)):
        func = layer_option(kind, f"{LAYERS[kind].description}:")(func)
    return func


def parse_column(spec: str) -> tuple[str, str, str]:
    """``LAYER:HEADER=FIELD`` (e.g. ``parks:公园编码=park_id``) as ``(layer, header, field)``.

    Raises
    ------
    click.BadParameter
        For another shape or an unknown layer.
    """
    layer, colon, rest = spec.partition(":")
    header, equals, field = rest.rpartition("=")
    layer, header, field = layer.strip(), header.strip(), field.strip()
    if not (colon and equals and layer and header and field):
        raise click.BadParameter(
            f"{spec!r} is not LAYER:HEADER=FIELD, e.g. parks:公园编码=park_id",
            param_hint="'--column'",
        )
    if layer not in LAYERS:
        raise click.BadParameter(
            f"{spec!r}: {layer!r} is not a layer; layers: {', '.join(LAYERS)}",
            param_hint="'--column'",
        )
    return layer, header, field


def _columns(specs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    columns: dict[str, dict[str, str]] = {}
    for spec in specs:
        layer, header, field = parse_column(spec)
        if columns.get(layer, {}).get(header, field) != field:
            raise click.BadParameter(
                f"{layer}:{header} is mapped twice ({columns[layer][header]}, {field})",
                param_hint="'--column'",
            )
        columns.setdefault(layer, {})[header] = field
    return columns


def sources_from(found: list[FoundLayer], named: dict) -> dict:
    """``{kind: FILE or FILE::LAYER}`` of init's paths and layer options, or a usage error.

    Every path must be a layer of a known kind (by an option, ``--kind`` or its name),
    and each kind must come from one place.
    """
    unknown = [str(f.ref) for f in found if f.kind is None]
    if unknown:
        examples = ", ".join(names[-1] for names in LAYER_NAMES.values())
        raise click.UsageError(
            f"gisrenew cannot tell which layer {', '.join(unknown)} is from its name (only "
            f"exact names are recognised: {examples}, ...). Fix: give it with --parks / "
            "--residential / ... FILE (FILE::LAYER for one layer of a GeoPackage), or --kind "
            "KIND; `gisrenew validate` lists the same."
        )
    sources: dict = {}
    for item in found:
        if item.kind in named:
            continue  # an option names this kind: it wins
        if item.kind in sources:
            raise click.UsageError(
                f"two layers could be `{item.kind}`: {sources[item.kind]} and {item.ref}. Fix: "
                f"name the one to use with --{item.kind} FILE::LAYER."
            )
        sources[item.kind] = item.ref
    return {**sources, **named}


_WORDS = {
    "zh": ("已新建项目", "个要素", "工作坐标系", "设置保留在"),
    "en": ("created project", "features", "working CRS", "settings kept in"),
}


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATHS]...")
@_layer_options
@click.option(
    "--kind", type=click.Choice(list(LAYERS)), default=None,
    help="Layer kind of PATHS (default: from exact file/layer names, as `validate`).",
)  # fmt: skip
@click.option(
    "--column", "column_specs", multiple=True, metavar="LAYER:HEADER=FIELD",
    help="Map your header to a gisrenew column (repeatable), e.g. --column "
    "parks:公园编码=park_id; stored in [columns.<layer>] of gisrenew.toml.",
)  # fmt: skip
@crs_option
@override_crs_option
@encoding_option
@click.option(
    "--working-crs", default=None, help="Metric working CRS (default: picked from the data)."
)
@click.option(
    "--rules", default=None, help="Rule set: preset name or TOML file (default tijian-2021)."
)
@click.option("--name", default=None, help="Project name.")
@click.option(
    "--store", default=None, metavar="GPKG|postgresql://HOST:PORT/DB|service=NAME",
    help="Where the layers go: a GeoPackage (default project.gpkg) or a PostGIS database "
    "(never a password: PGPASSWORD, ~/.pgpass or the service file).",
)  # fmt: skip
@click.option(
    "--schema", default=None,
    help="PostgreSQL schema of the project (default: FOLDER's name when it is a plain "
    "lowercase identifier).",
)  # fmt: skip
@click.option(
    "--force", is_flag=True,
    help="Make the store of an existing project again (its gisrenew.toml settings are kept).",
)  # fmt: skip
@lang_option(help="Language of the summary.")
@verbosity_options
def command(
    folder: Path, paths, kind, column_specs, crs, override_crs, encoding, working_crs, rules,
    name, store, schema, force, lang, **layers,
) -> None:  # fmt: skip
    """Make a project in FOLDER from your files (新建项目).

    PATHS are files, FILE::LAYER, folders of files, or GeoPackages with several layers
    named 公园绿地, 居住用地, 建成区, 街道, 道路, ... — exactly what `gisrenew validate`
    accepts. Every layer is validated, reprojected to one metric working CRS and
    stored in FOLDER/project.gpkg; where each came from is recorded in [layers.<kind>]
    of FOLDER/gisrenew.toml. A gisrenew.toml already in FOLDER (written by hand) is
    kept: init adds to it, and refuses with the fix when an option contradicts it.

    \b
    Examples:
      gisrenew init myproject 城市现状.gpkg 公园.shp
      gisrenew init myproject --parks 公园.shp --residential 现状.gpkg::居住用地
      gisrenew init myproject 数据/ --column parks:公园编码=park_id
    """
    named = {k: v for k, v in layers.items() if v is not None}
    sources = sources_from(find_layers(paths, kind), named)
    if not sources and not (folder / CONFIG_FILE).is_file():
        raise click.UsageError(
            "give at least one layer, e.g. FILE.gpkg, or --parks FILE --residential FILE"
        )
    project = Project.create(
        folder, sources, name=name, working_crs=working_crs, rules=rules, crs=crs,
        override_crs=override_crs, encoding=encoding, columns=_columns(column_specs),
        overwrite=force, store=store, schema=schema,
    )  # fmt: skip
    words = _WORDS[lang]
    click.echo(sanitize(f"{words[0]} {folder} ({words[2]} {project.config.working_crs})"))
    for kind, record in project.config.layers.items():
        if project.has(kind):
            source = record.get("source", "")
            source += f"::{record['layer']}" if record.get("layer") else ""
            count = len(project.read(kind))
            click.echo(sanitize(f"  {kind:12s} {count:>7d} {words[1]}  ← {source}"))
    click.echo(sanitize(f"{words[3]} {folder / CONFIG_FILE}"))
