"""``gisrenew init``: make a project from files."""

from __future__ import annotations

from pathlib import Path

import click

from gisrenew.cli.options import crs_option, encoding_option, override_crs_option
from gisrenew.project import Project
from gisrenew.schema import LAYERS


def _layer_options(func):
    for kind in reversed(list(LAYERS)):
        func = click.option(
            f"--{kind}",
            kind,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help=f"{LAYERS[kind].description}.",
        )(func)
    return func


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@_layer_options
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
@click.option("--force", is_flag=True, help="Replace an existing project in FOLDER.")
def command(
    folder: Path, crs, override_crs, encoding, working_crs, rules, name, force, **layers
) -> None:
    """Make a project in FOLDER from your files (新建项目).

    Every file is validated, reprojected to one metric working CRS and stored in
    FOLDER/project.gpkg; settings go to FOLDER/gisrenew.toml.

    Example: gisrenew init myproject --parks 公园.shp --residential 居住用地.gpkg
    """
    sources = {kind: path for kind, path in layers.items() if path is not None}
    if not sources:
        raise click.UsageError("give at least one layer, e.g. --parks FILE --residential FILE")
    project = Project.create(
        folder, sources, name=name, working_crs=working_crs, rules=rules,
        crs=crs, override_crs=override_crs, encoding=encoding, overwrite=force,
    )  # fmt: skip
    click.echo(f"created project {folder} ({project.config.working_crs})")
    for kind in project.layer_kinds():
        click.echo(f"  {kind:12s} {len(project.read(kind)):>7d} features")
