"""``gisrenew sites``: rank candidate sites for the next pocket parks (口袋公园选址)."""

from __future__ import annotations

from pathlib import Path

import click

from gisrenew import present
from gisrenew.cli.options import (
    check_out,
    check_out_suffix,
    crs_option,
    emit_json,
    encoding_option,
    json_option,
    override_crs_option,
    project_option,
    report_problems,
)
from gisrenew.indicators import rank_sites
from gisrenew.inputs import gather_inputs
from gisrenew.io import write_results
from gisrenew.present import format_ranking


@click.command("sites")
@project_option
@click.option(
    "--candidates",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Candidate sites (default: the project's `candidates` layer).",
)
@click.option(
    "--parks",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Existing parks (default: the project's).",
)
@click.option(
    "--residential",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Residential land (default: the project's).",
)
@click.option(
    "--boundary",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Built-up area 建成区 (default: the project's, if any).",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    help="How many sites to pick [default: [sites] count, else 5].",
)
@click.option(
    "--min-area",
    "min_area",
    type=float,
    default=None,
    help="Leave out candidates under A m² [default: [sites] min_area_m2].",
)
@click.option(
    "--by",
    "objective",
    type=click.Choice(["area", "households", "population"]),
    default=None,
    help="Maximise newly covered residential area, or households/population "
    "[default: [sites] by, else area].",
)
@click.option(
    "--radius",
    "radius_m",
    type=float,
    default=None,
    help="Force this service radius (m) for every candidate instead of the rule-set tier.",
)
@click.option(
    "--park-class",
    default=None,
    help="Class every candidate gets as a park (default: its own, G14).",
)
@click.option("--exact", is_flag=True, help="Exact optimum by a MILP (PuLP/CBC; for small cases).")
@click.option("--rules", default=None, help="Rule set (default: the project's).")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the printed table.",
)
@crs_option
@override_crs_option
@encoding_option
@json_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=check_out_suffix,
    help="Write the ranking: .gpkg (map layers sites, site_service_areas, site_newly_covered), "
    ".csv or .xlsx. Default with a project: <project>/sites.gpkg.",
)
def command(project, candidates, parks, residential, boundary, count, min_area, objective, radius_m,
            park_class, exact, rules, lang, crs, override_crs, encoding, as_json, out) -> None:  # fmt: skip
    """Rank candidate sites by the residential land each newly brings into service.

    Greedy maximal covering with the existing parks fixed: each pick's gain excludes
    what existing parks and earlier picks already cover. --exact solves the same
    problem exactly (MILP) for small cases.

    Example: gisrenew sites --project taicang --count 5 --min-area 2000
    """
    files = {
        "candidates": candidates, "parks": parks, "residential": residential, "boundary": boundary,
    }  # fmt: skip
    inputs = gather_inputs(
        project,
        files,
        kinds=("candidates", "parks", "residential", "boundary", "districts"),
        required=("candidates", "parks", "residential"),
        settings={"sites": {"count": count, "min_area_m2": min_area, "by": objective}},
        rules=rules,
        crs=crs,
        override_crs=override_crs,
        encoding=encoding,
    )
    report_problems(inputs.problems)
    if out is None and inputs.project is not None:
        out = inputs.project.folder / "sites.gpkg"
    check_out(
        out,
        inputs=(candidates, parks, residential, boundary, rules),
        project=inputs.project.folder if inputs.project is not None else project,
    )
    ranking = rank_sites(inputs, park_class=park_class, radius_m=radius_m, exact=exact)
    written = []
    if out is not None:
        if out.suffix.lower() == ".gpkg":
            layers = {
                "sites": ranking.sites,
                "site_service_areas": ranking.service_areas,
                "site_newly_covered": ranking.newly_covered,
            }
        else:
            layers = {"sites": ranking.table()}
        sheets = present.sheet_names(layers, lang)
        headers = present.column_headers(lang)
        written = [
            str(p)
            for p in write_results(out, layers, headers=lang, labels=headers, sheet_names=sheets)
        ]
    if as_json:
        emit_json({**ranking.to_dict(), "written": written})
        return
    click.echo(format_ranking(ranking, lang=lang))
    for path in written:
        click.echo(f"wrote {path}")
