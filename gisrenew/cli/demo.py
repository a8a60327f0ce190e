"""``gisrenew demo``: the main job on the bundled sample city."""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import click

from gisrenew import outfiles, present
from gisrenew.cli.convention import lang_option, output_option, verbosity_options
from gisrenew.cli.options import check_site, report_problems
from gisrenew.cli.recompute import publish_change
from gisrenew.config import CONFIG_FILE
from gisrenew.errors import ProjectError
from gisrenew.indicators import compute_indicators, rank_sites
from gisrenew.inputs import gather_inputs
from gisrenew.present import formats as fmt
from gisrenew.present.labels import label
from gisrenew.present.tables import display_width, render_table, sanitize
from gisrenew.project import Project, copy_project
from gisrenew.recompute import recompute
from gisrenew.report import report_content, report_files
from gisrenew.reporting import build_checkup

SAMPLE = Path("data") / "geo" / "taicang_sample"
NEW_PARKS = "new_pocket_parks.gpkg"
CANDIDATES = "candidate_sites.gpkg"
_MARKER = ".gisrenew-demo-copy"

#: The sample's layers the demo shows (water and candidate sites are context).
_DEMO_KINDS = (
    "parks", "residential", "parcels", "plans", "boundary", "districts", "roads", "entrances",
    "facilities",
)  # fmt: skip
_SITE_KINDS = ("parks", "residential", "boundary", "districts")
_WALK_KINDS = ("parks", "residential", "boundary", "districts", "roads", "entrances")
#: The second reading of the ten-minute walk: ten minutes at 4.8 km/h (800 m).
_TEN_MINUTES = 10


def find_sample(data: Path | None) -> Path:
    """The sample project folder: `data`, or ``data/geo/taicang_sample`` here or in the checkout."""
    candidates = [data] if data else [Path.cwd() / SAMPLE, Path(__file__).parents[2] / SAMPLE]
    for folder in candidates:
        if folder is not None and (folder / CONFIG_FILE).is_file():
            return folder
    raise ProjectError(
        "the sample city was not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "). Run the demo from the gisrenew checkout, or pass --data FOLDER."
    )


def working_copy(sample: Path, out: Path) -> Path:
    """Copy the sample project to ``out/project`` (the bundled data are never changed)."""
    target = out / "project"
    if target.exists():
        if not (target / _MARKER).exists():
            raise ProjectError(
                f"{target} exists and is not a demo copy; choose another -o/--output folder"
            )
        shutil.rmtree(target)
    copy_project(sample, target)  # writable: the copy is the demo's to change
    outfiles.write_text(target / _MARKER, "copy of the sample city made by `gisrenew demo`\n")
    return target


def _section(title: str) -> None:
    click.echo()
    click.secho(sanitize(title), bold=True)
    click.secho("─" * min(78, max(20, display_width(title))), dim=True)


@click.command("demo")
@output_option(
    "folder",
    "the published maps, tables and the working copy of the project [default: maps].",
    default=Path("maps"),
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sample project folder (default: data/geo/taicang_sample).",
)
@lang_option()
@click.option(
    "--sites",
    "n_sites",
    type=int,
    default=5,
    show_default=True,
    help="How many candidate sites for the next pocket parks to rank.",
)
@verbosity_options
@click.pass_context
def command(
    ctx: click.Context, output: Path, overwrite: bool, data: Path | None, lang: str, n_sites: int
) -> None:
    """Run every analysis on the bundled sample city (示例城市, synthetic data).

    Copies the sample project to OUTPUT/project (the bundled sample is read-only and
    stays as shipped; the copy is writable), then: validates the layers; computes the
    park service-radius coverage (公园绿地服务半径覆盖率) by straight-line radius and by
    walking distance; shows the community life circles (社区生活圈: which homes reach
    which services, complete 5-, 10- and 15-minute circles); tabulates the renewal plans
    (更新地块: 亩, households, signing);
    adds the five new pocket parks (口袋公园) in one atomic batch recompute and shows the
    gain; ranks candidate sites for the next ones; and publishes the web maps to OUTPUT.
    A demo's own earlier output is replaced; another existing folder needs --overwrite.
    """
    started = time.monotonic()
    progress = bool(ctx.obj and ctx.obj.get("progress"))
    sample = find_sample(data)
    out = output
    check_site(out, overwrite=overwrite or (out / "project" / _MARKER).exists())
    out.mkdir(parents=True, exist_ok=True)
    project = Project.open(working_copy(sample, out))
    inputs = gather_inputs(project, kinds=_DEMO_KINDS)
    report_problems(inputs.problems)
    t = lambda key: label(f"demo.{key}", lang)  # noqa: E731

    _section(f"{inputs.name}")
    click.echo(
        f"{t('working_copy')}: {project.folder}   {t('crs')}: {project.working_crs.to_string()}"
    )
    rows = [[label(f"layer.{kind}", lang), fmt.count(len(layer))]
            for kind, layer in inputs.layers.items()]  # fmt: skip
    click.echo(render_table([t("layers"), t("features")], rows, align="lr", header_rule=False))
    circles = inputs.has("facilities")
    result = compute_indicators(inputs, progress=progress, life_circles=circles)

    _section(t("coverage"))
    click.echo(present.format_coverage_table(result.buffer, lang=lang))
    if result.network is not None:
        _section(t("walking"))
        click.echo(t("walking_note"))
        click.echo()
        minutes = _ten_minute_walk(project, progress)
        click.echo(
            present.format_coverage_comparison(result.buffer, result.network, minutes, lang=lang)
        )
    _life_circle_section(result, lang)
    _plans_section(result, lang)

    _section(t("recompute"))
    change = recompute(project, add_parks=[sample / NEW_PARKS], progress=progress)
    publish_change(_with_life_circles(change, result), out, project, lang=lang)
    click.echo(present.format_recompute_report(change.report, lang=lang))

    if (sample / CANDIDATES).is_file():
        _section(t("sites").format(n=n_sites))
        after = gather_inputs(project, {"candidates": sample / CANDIDATES}, kinds=_SITE_KINDS)
        ranking = rank_sites(after, count=n_sites)
        click.echo(present.format_ranking(ranking, lang=lang))

    _section(t("report"))
    reports = _report(project, out, lang, circles, progress)

    _section(t("published"))
    index = out / "index.html"
    click.echo(f"{t('web_maps')}: {index.resolve() if index.exists() else t('not_published')}")
    click.echo(f"{t('report_files')}: {reports[0].parent.resolve()}")
    click.echo(f"{t('project_after')}: {project.folder.resolve()}")
    click.echo(t("done").format(seconds=f"{time.monotonic() - started:.1f}"))


def _report(project: Project, out: Path, lang: str, circles: bool, progress: bool) -> list[Path]:
    """The indicator sheet after the recompute, printed as its headline, written to OUTPUT/report.

    The demo owns OUTPUT (checked before it started), so an earlier demo's report is replaced.
    """
    checkup = build_checkup(project, life_circles=circles, progress=progress)
    content = report_content(checkup, lang)
    for line in content.headline:
        click.echo(sanitize(line))
    return report_files(checkup, out / "report", lang=lang, overwrite=True)


def _with_life_circles(change, before):
    """`change` whose indicators after also hold the life circles computed `before` it.

    New parks do not move a home's reach of schools or clinics, so the life circles of
    the sample computed before the recompute are those after it: the published site gets
    its life-circle page without computing them again.
    """
    if not before.life_circles or change.after is None:
        return change
    after = dataclasses.replace(change.after, life_circles=before.life_circles)
    return dataclasses.replace(change, after=after)


def _ten_minute_walk(project: Project, progress: bool):
    """The walk of ten minutes at 4.8 km/h (800 m) from every park: the second reading."""
    inputs = gather_inputs(
        project, kinds=_WALK_KINDS, settings={"network": {"walk_minutes": _TEN_MINUTES}}
    )
    indicators = compute_indicators(
        inputs, methods=("network",), plans=False, network_service_areas="none", progress=progress
    )
    return indicators.network


def _life_circle_section(result, lang: str) -> None:
    """The life circles 社区生活圈 of the sample: per type and complete circles, both methods."""
    circles = result.life_circles
    if not circles:
        return
    _section(label("demo.life_circles", lang))
    if len(circles) == 2:
        click.echo(
            present.format_life_circle_comparison(circles["buffer"], circles["network"], lang=lang)
        )
    else:
        click.echo(present.format_life_circle_table(next(iter(circles.values())), lang=lang))


def _plans_section(result, lang: str) -> None:
    """The renewal plans table and the coverage effects of plans that become parks."""
    if result.plans is None or result.plans.summary is None:
        return
    _section(label("demo.plans", lang))
    click.echo(
        present.format_plan_table(result.plans.summary, lang=lang, totals=result.plans.totals)
    )
    if result.plans.effects is not None and len(result.plans.effects):
        click.echo()
        click.echo(present.format_coverage_effects(result.plans.effects, lang=lang))
