"""``gisrenew recompute``: add new (pocket) parks or remove closed ones, recompute everything."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from gisrenew.cli.convention import lang_option, output_option, verbosity_options
from gisrenew.cli.options import (
    check_site,
    crs_option,
    emit_json,
    encoding_option,
    json_option,
    layer_option,
    open_project,
    override_crs_option,
    project_option,
    wait_seconds,
)
from gisrenew.errors import GisrenewError
from gisrenew.present import format_recompute_report
from gisrenew.project import Project
from gisrenew.recompute import RecomputeResult, read_changes, recompute

log = logging.getLogger(__name__)


def publish_change(
    result: RecomputeResult, out_dir: Path, project: Project, *, lang: str | None = None
) -> None:
    """Re-publish the maps after a recompute: the change's before/after map and every
    earlier run's one the project keeps (newest first).

    Only the pages a change of parks changes are drawn again
    (:data:`~gisrenew.webmap.publish.PAGES_A_PARK_CHANGE_DRAWS`: the coverage and plans
    maps, the new before/after map); earlier runs' before/after maps an earlier publish
    left intact in `out_dir` are kept as they are (drawn when missing or altered). The
    parcels' drawn geometry comes from the project's map cache
    (:func:`~gisrenew.webmap.drawcache.map_cache_folder`) when an earlier publish left it.

    The project is already updated: a failure here is a warning in the report (the maps
    can be published again with ``gisrenew publish``), never a failed run. `lang`: the
    maps' language (default ``[maps] lang``, else from the data).
    """
    # the map stack (folium, the page builders) costs ~0.5 s to import: only when publishing
    from gisrenew.webmap.drawcache import map_cache_folder
    from gisrenew.webmap.publish import PAGES_A_PARK_CHANGE_DRAWS, publish_site

    try:
        written = publish_site(
            result.after,
            out_dir,
            change=result.change,
            changes=read_changes(project, lazy=True),  # earlier runs read only if drawn
            lang=lang,
            pages=PAGES_A_PARK_CHANGE_DRAWS,
            cache=None if project.read_only else map_cache_folder(project.folder),
        )
    except GisrenewError as exc:
        log.warning("maps not published: %s", exc)
        result.report["warnings"].append(
            f"maps not published: {exc} (run `gisrenew publish` to retry)"
        )
        return
    result.report["published"] = [str(p) for p in written]


def _ids(text: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for item in text:
        out.extend(part.strip() for part in item.replace("，", ",").split(",") if part.strip())
    return out


@click.command("recompute")
@project_option
@layer_option(
    "add_parks",
    "New parks (repeat for several files; parks already in the project are skipped):",
    multiple=True,
)
@click.option(
    "--remove-parks",
    "remove_parks",
    multiple=True,
    metavar="IDS",
    help="Park ids that closed, comma-separated (repeatable). Applied before additions.",
)
@click.option(
    "--publish/--no-publish",
    default=True,
    show_default=True,
    help="Re-publish the web maps after the update.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Also compute the coverage after the change from scratch and check that the "
    "incremental update equals it (slower; a difference leaves the project unchanged).",
)
@output_option("folder", "the published maps (default: maps/ in the project folder).")
@click.option("--rules", default=None, help="Rule set (default: the project's).")
@click.option(
    "--wait",
    type=float,
    default=0.0,
    show_default=True,
    callback=wait_seconds,
    help="Seconds to wait when another run is changing the project (0: refuse at once; "
    "a finite number ≥ 0).",
)
@lang_option(help="Language of the printed report.")
@crs_option
@override_crs_option
@encoding_option
@json_option
@verbosity_options
def command(project, add_parks, remove_parks, publish, verify, output, overwrite, rules, wait,
            lang, crs, override_crs, encoding, as_json) -> None:  # fmt: skip
    """Add new parks / remove closed ones and recompute every indicator (重新计算).

    Merges the changes into the project's parks layer, recomputes buffer coverage,
    network coverage (if the project has roads), district tables, blind spots and plan
    effects, stores everything in one atomic update with a run-history row, re-publishes
    the maps and prints the before/after report. Re-adding parks the project already has
    changes nothing.

    Example: gisrenew recompute --project taicang --add-parks new_pocket_parks.gpkg
    """
    removals = _ids(remove_parks)
    if not add_parks and not removals:
        raise click.UsageError("nothing to do: give --add-parks FILE and/or --remove-parks IDS")
    proj = open_project(project)
    proj.check_writable("recompute")
    site = output if output is not None else proj.folder / "maps"
    if publish:  # refuse a bad site folder before the project is changed
        check_site(site, overwrite=overwrite or output is None)
    result = recompute(
        proj, add_parks=list(add_parks), remove_parks=removals, rules=rules, timeout_s=wait,
        read_options={"crs": crs, "override_crs": override_crs, "encoding": encoding},
        verify=verify,
    )  # fmt: skip
    report = result.report
    if publish and result.changed:
        publish_change(result, site, proj)
    if as_json:
        emit_json(report)
    else:
        click.echo(format_recompute_report(report, lang=lang))
