"""``gisrenew reload``: read a project's layers again from their recorded source files."""

from __future__ import annotations

import click

from gisrenew.cli.convention import lang_option, verbosity_options
from gisrenew.cli.options import (
    crs_option,
    encoding_option,
    open_project,
    override_crs_option,
    project_option,
    wait_seconds,
)
from gisrenew.present.tables import sanitize
from gisrenew.schema import LAYERS, get_layer_schema

__all__ = ["command"]


@click.command("reload")
@click.argument("kinds", nargs=-1, type=click.Choice(list(LAYERS)), metavar="[LAYERS]...")
@project_option
@crs_option
@override_crs_option
@encoding_option
@click.option(
    "--discard-park-changes", is_flag=True,
    help="Reload parks even though recompute runs added or removed parks (those changes go).",
)  # fmt: skip
@click.option(
    "--wait", type=float, default=0.0, show_default=True, callback=wait_seconds,
    help="Seconds to wait when another run is changing the project.",
)  # fmt: skip
@lang_option(help="Language of the summary.")
@verbosity_options
def command(kinds, project, crs, override_crs, encoding, discard_park_changes, wait, lang):
    """Read the project's layers again from their source files (重新读取图层).

    After you change [columns.<layer>] in gisrenew.toml (e.g. "公园编码" = "park_id"),
    the stored ids and columns still follow the old mapping; reload reads every layer
    (or the LAYERS named) again from the file recorded in [layers.<layer>], with the
    mapping as it is now, and replaces them in one atomic update.

    Example: gisrenew reload --project myproject parks residential
    """
    proj = open_project(project)
    layers = proj.reload(
        kinds, read_options={"crs": crs, "override_crs": override_crs, "encoding": encoding},
        discard_park_changes=discard_park_changes, timeout_s=wait,
    )  # fmt: skip
    head = "已重新读取" if lang == "zh" else "reloaded"
    for kind, gdf in layers.items():
        ids = gdf[get_layer_schema(kind).id_column].head(3).tolist()
        click.echo(sanitize(f"{head} {kind:12s} {len(gdf):>7d}  ids {', '.join(ids)}, ..."))
