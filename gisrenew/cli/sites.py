"""``gisrenew sites``: rank candidate sites for the next pocket parks (口袋公园选址).

With ``--facility-type`` the same ranking for the next facility of a life-circle type
(设施选址: 幼儿园, 社区卫生服务站, ...): the gaps of that type each site closes.
"""

from __future__ import annotations

import click

from gisrenew.cli.convention import lang_option, output_option, verbosity_options
from gisrenew.cli.options import (
    check_out,
    check_out_suffix,
    crs_option,
    emit_json,
    encoding_option,
    json_option,
    layer_option,
    override_crs_option,
    project_option,
    report_problems,
)
from gisrenew.indicators import rank_facility_sites, rank_sites
from gisrenew.inputs import gather_inputs
from gisrenew.io import write_results
from gisrenew.present import column_headers, format_ranking, sheet_names


@click.command("sites")
@project_option
@layer_option("candidates", "Candidate sites (default: the project's `candidates` layer):")
@layer_option("parks", "Existing parks (default: the project's):")
@layer_option("facilities", "Existing facilities, with --facility-type (default: the project's):")
@layer_option("residential", "Residential land (default: the project's):")
@layer_option("boundary", "Built-up area 建成区 (default: the project's, if any):")
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
@click.option(
    "--facility-type",
    default=None,
    help="Site the next facility of this life-circle type instead of a pocket park, e.g. "
    "幼儿园 or kindergarten (any name of the life-circle rule set); --radius then replaces "
    "the type's radius.",
)
@click.option("--exact", is_flag=True, help="Exact optimum by a MILP (PuLP/CBC; for small cases).")
@click.option(
    "--rules",
    default=None,
    help="Rule set (default: the project's); with --facility-type the life-circle rule set "
    "(a preset such as gb50180-2018, or a .toml file).",
)
@lang_option(help="Language of the printed table and of CSV/Excel headers.")
@crs_option
@override_crs_option
@encoding_option
@json_option
@output_option(
    "file",
    "the ranking as .gpkg (map layers sites, site_service_areas, site_newly_covered), .csv or "
    ".xlsx (default: printed only).",
    callback=check_out_suffix,
)
@verbosity_options
def command(project, candidates, parks, facilities, residential, boundary, count, min_area,
            objective, radius_m, park_class, facility_type, exact, rules, lang, crs, override_crs,
            encoding, as_json, output, overwrite) -> None:  # fmt: skip
    """Rank candidate sites by the residential land each newly brings into service.

    Greedy maximal covering with the existing parks fixed: each pick's gain excludes
    what existing parks and earlier picks already cover. --exact solves the same
    problem exactly (MILP) for small cases. With --facility-type, the same for the next
    facility of a life-circle type: the existing facilities of the type are fixed and
    the gain is the residential land newly within the type's radius.

    Example: gisrenew sites --project taicang --min-area 2000 -o sites.gpkg

    Example: gisrenew sites --project taicang --facility-type 幼儿园 --count 3
    """
    if facility_type is not None and park_class is not None:
        raise click.UsageError(
            "--park-class is for pocket parks; with --facility-type every candidate is a "
            "facility of that type: leave --park-class out"
        )
    files = {
        "candidates": candidates, "parks": parks, "facilities": facilities,
        "residential": residential, "boundary": boundary,
    }  # fmt: skip
    needed = ("candidates", "facilities" if facility_type else "parks", "residential")
    inputs = gather_inputs(
        project,
        files,
        kinds=(*needed, "boundary", "districts"),
        required=needed,
        settings={"sites": {"count": count, "min_area_m2": min_area, "by": objective}},
        rules=None if facility_type else rules,
        life_circle_rules=rules if facility_type else None,
        crs=crs,
        override_crs=override_crs,
        encoding=encoding,
    )
    report_problems(inputs.problems)
    check_out(
        output,
        inputs=(candidates, parks, facilities, residential, boundary, rules),
        project=inputs.project.folder if inputs.project is not None else project,
        overwrite=overwrite,
    )
    if facility_type is None:
        ranking = rank_sites(inputs, park_class=park_class, radius_m=radius_m, exact=exact)
    else:
        ranking = rank_facility_sites(inputs, facility_type, radius_m=radius_m, exact=exact)
    written = []
    if output is not None:
        if output.suffix.lower() == ".gpkg":
            layers = {
                "sites": ranking.sites,
                "site_service_areas": ranking.service_areas,
                "site_newly_covered": ranking.newly_covered,
            }
        else:
            layers = {"sites": ranking.table()}
        labels = column_headers(lang)
        sheets = sheet_names(layers, lang)
        written = [
            str(p)
            for p in write_results(output, layers, headers=lang, labels=labels, sheet_names=sheets)
        ]
    if as_json:
        emit_json({**ranking.to_dict(), "written": written})
        return
    click.echo(format_ranking(ranking, lang=lang))
    for path in written:
        click.echo(("已写出 " if lang == "zh" else "wrote ") + str(path))
