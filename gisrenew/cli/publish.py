"""``gisrenew publish``: write the project's web maps as a static site.

Gathers the project's layers and settings (:func:`gisrenew.inputs.gather_inputs`),
computes every indicator (:func:`gisrenew.indicators.compute_indicators`) and draws
them (:func:`gisrenew.webmap.publish.publish_site`): ``index.html`` (the maps with
their key figures and the date), the coverage map (and the walking-network one when
the project has roads), the renewal plans map (plans + parcels), the community
life-circle map 社区生活圈 (when the project has facilities), and the CSV tables
each map shows, into ``maps/`` in the project folder or ``--out``.

Settings in ``gisrenew.toml`` (command-line options win)::

    [maps]
    basemap = "gaode"          # osm | gaode | tianditu | none | a tile URL
    lang = "zh"                # zh | en (default: Chinese for Chinese data)
    data_datum = "wgs84"       # gcj02 when the data was digitised on Gaode maps
    offline = true             # self-contained pages (false: Leaflet from a CDN)
    tiles_datum = "wgs84"      # datum of a custom (intranet) tile URL
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.project import Project
from gisrenew.recompute import read_changes
from gisrenew.webmap.basemaps import BASEMAP_NAMES, TIANDITU_KEY_ENV
from gisrenew.webmap.drawcache import map_cache_folder
from gisrenew.webmap.publish import publish_site

from .convention import lang_option, output_option, verbosity_options
from .options import check_site, emit_json, json_option, project_option, report_problems

__all__ = ["command"]

#: What the command prints, in the site's language.
_WORDS = {
    "zh": {"published": "已发布", "map": "地图", "tables": "  {n} 个数据表，位于 {folder}"},
    "en": {"published": "published", "map": "map", "tables": "  {n} table(s) in {folder}"},
}

#: The layers the maps draw or need for their figures.
MAP_KINDS = (
    "parks",
    "residential",
    "boundary",
    "districts",
    "roads",
    "entrances",
    "plans",
    "parcels",
    "facilities",
)


@click.command("publish")
@project_option
@output_option("folder", "the site (default: maps/ in the project folder).")
@click.option(
    "--basemap",
    type=click.Choice(BASEMAP_NAMES),
    default=None,
    help="Basemap: osm, gaode (高德, GCJ-02: vectors are shifted), tianditu (天地图, needs a key), "
    "none. Default: [maps] basemap, else none (osm with --online).",
)
@click.option(
    "--tiles",
    metavar="URL",
    default=None,
    help="Custom/intranet tile URL with {z}/{x}/{y} (overrides --basemap).",
)
@click.option(
    "--tiles-datum",
    type=click.Choice(["wgs84", "gcj02"]),
    default=None,
    help="Datum of the --tiles server (gcj02 for a mirror of Gaode tiles).",
)
@click.option(
    "--tianditu-key",
    default=None,
    metavar="KEY",
    help=f"Tianditu key (default: the {TIANDITU_KEY_ENV} environment variable).",
)
@click.option(
    "--offline/--online",
    default=None,
    help="Self-contained pages that open with no network at all (Leaflet inlined), or pages "
    "that load Leaflet from a CDN [default: [maps] offline, else self-contained].",
)
@lang_option(default=None, help="Label language [default: [maps] lang, else from the data].")
@click.option(
    "--data-datum",
    type=click.Choice(["wgs84", "gcj02"]),
    default=None,
    help="Declare gcj02 when the project's data was digitised on Gaode/GCJ-02 maps.",
)
@click.option("--title", default=None, help="Site title.")
@json_option
@verbosity_options
def command(
    project,
    output,
    overwrite,
    basemap,
    tiles,
    tiles_datum,
    tianditu_key,
    offline,
    lang,
    data_datum,
    title,
    as_json,
):
    """Publish the project's maps (coverage, plans, before/after of each run) as a static site.

    发布网页地图：覆盖率地图、城市更新地块地图、历次新建公园前后对比地图、数据表（CSV）和索引页。
    Pages are self-contained (open with no network) unless --online or [maps] offline = false.
    """
    folder = project if project is not None else Path.cwd()
    proj = Project.open(folder)
    site = output if output is not None else proj.folder / "maps"
    if output is None:  # the project's own maps folder: a read-only project stays as it is
        proj.check_writable("publish into the project folder (use -o/--output FOLDER)")
    # before any computation; the project's own maps/ folder is the project's to update
    check_site(site, overwrite=overwrite or output is None)
    inputs = gather_inputs(proj, kinds=MAP_KINDS)
    report_problems(inputs.problems)
    written = publish_site(
        # the life-circle page only when the project has facilities (社区生活圈)
        compute_indicators(inputs, life_circles=inputs.has("facilities", "residential")),
        site,
        changes=read_changes(proj, lazy=True),  # every run's before/after, read when drawn
        basemap=tiles or basemap,
        tianditu_key=tianditu_key,
        tiles_datum=tiles_datum,
        offline=offline,
        lang=lang,
        data_datum=data_datum,
        title=title,
        cache=None if proj.read_only else map_cache_folder(proj.folder),
    )
    if as_json:
        summary = json.loads((site / "index.json").read_text(encoding="utf-8"))
        summary["folder"] = str(site)
        summary["files"] = [str(p) for p in written]
        emit_json(summary)
        return
    words = _WORDS[json.loads((site / "index.json").read_text(encoding="utf-8"))["lang"]]
    click.echo(f"{words['published']} {site / 'index.html'}")
    for path in written[2:]:
        if path.suffix == ".html":
            click.echo(f"  {words['map']}  {path}")
    tables = [p for p in written if p.suffix == ".csv"]
    if tables:
        click.echo(words["tables"].format(n=len(tables), folder=tables[0].parent))
