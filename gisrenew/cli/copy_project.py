"""``gisrenew copy-project``: copy a project, or move it between GeoPackage and PostGIS."""

from __future__ import annotations

from pathlib import Path

import click

from gisrenew.cli.convention import lang_option, verbosity_options
from gisrenew.present.tables import sanitize
from gisrenew.project import copy_project

__all__ = ["command"]


@click.command("copy-project")
@click.argument("source", type=click.Path(file_okay=False, path_type=Path))
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--store", default=None, metavar="GPKG|postgresql://HOST:PORT/DB|service=NAME",
    help="The copy's store: a GeoPackage in TARGET (default) or a PostGIS database "
    "(never a password: PGPASSWORD, ~/.pgpass or the service file).",
)  # fmt: skip
@click.option(
    "--schema", default=None,
    help="The copy's PostgreSQL schema (default: TARGET's name when it is a plain lowercase "
    "identifier); it must hold no tables yet.",
)  # fmt: skip
@lang_option(help="Language of the summary.")
@verbosity_options
def command(source: Path, target: Path, store, schema, lang) -> None:
    """Copy the project in SOURCE to the new folder TARGET (复制项目).

    Every layer and table — ids, attributes, run history, results state — goes into the
    copy's store, which TARGET/gisrenew.toml then names; the copy is writable. Moves a
    project between a GeoPackage and a bureau's PostGIS, either way.

    \b
    Examples:
      gisrenew copy-project taicang taicang-db --store service=bureau --schema taicang
      gisrenew copy-project taicang-db taicang-laptop
    """
    copy = copy_project(source, target, store=store, schema=schema)
    done = "已复制到" if lang == "zh" else "copied to"
    click.echo(sanitize(f"{source} → {target}: {done} {copy.describe()}"))
    click.echo(sanitize(f"  {', '.join(copy.layer_kinds())}"))
