"""``gisrenew affected``: the parcels each renewal plan affects, with households and signing.

Prints the plan table (Chinese headers by default: 面积 in 亩, 居民户/非居户/商铺,
已签约/签约率/签约进度) with a city-total line that counts every parcel once; when the
project also has parks and residential land, a second table gives the residential land
that plans turning into park green space newly bring within a service radius.

Settings in ``gisrenew.toml`` (command-line options win)::

    [plans]
    min_overlap_share = 0.01       # smallest share of a parcel inside a plan
    min_overlap_m2 = 1.0           # smallest overlap area in m²
    household_rule = "whole"       # whole | area_share | largest
    [plans.households]             # role = parcels column (after [columns.parcels])
    residential = "households_residential"
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pandas as pd
import pyogrio

from gisrenew import plans as plan_lib
from gisrenew import present
from gisrenew.errors import GisrenewError
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.io import list_layers, write_results
from gisrenew.plans import absent_parcel_columns

from .convention import lang_option, output_option, verbosity_options
from .options import (
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

__all__ = ["command"]


def _mark_absent_columns(parcels, path: Path, mapping: dict[str, str]):
    """Record which parcels columns the source file lacks (the loader fills defaults).

    Lets :func:`gisrenew.plans.plan_summary` tell a file without household columns
    (an error naming the mapping to set) from parcels with zero households.
    """
    if "defaulted_columns" in parcels.attrs:
        return parcels
    try:
        layers = list_layers(path)
    except GisrenewError:
        return parcels
    layer = layers[0] if len(layers) == 1 else "parcels" if "parcels" in layers else None
    if layer is None:
        return parcels
    fields = pyogrio.read_info(path, layer=layer)["fields"]
    marked = parcels.copy()
    marked.attrs = {**parcels.attrs, "defaulted_columns": absent_parcel_columns(fields, mapping)}
    return marked


@click.command("affected")
@project_option
@layer_option("plans", "Renewal plans layer 更新项目 (polygons).", dest="plans_file")
@layer_option(
    "parcels", "Parcels layer 地块 with household and signing columns.", dest="parcels_file"
)
@click.option(
    "--min-overlap-share",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Smallest share of a parcel inside a plan for it to count [default 0.01].",
)
@click.option(
    "--min-overlap-m2",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Smallest overlap area in m² for a parcel to count [default 1.0].",
)
@click.option(
    "--household-rule",
    type=click.Choice(plan_lib.HOUSEHOLD_RULES),
    default=None,
    help="Households of a partly affected parcel: whole parcel (default), by area share, "
    "or all to the plan holding its largest part.",
)
@click.option(
    "--coverage/--no-coverage",
    "with_coverage",
    default=True,
    help="Report what green plans do to park coverage (needs parks and residential in the "
    "project) [default: on].",
)
@crs_option
@override_crs_option
@encoding_option
@json_option
@output_option(
    "file", "results as .gpkg (layers), .csv or .xlsx (tables).", callback=check_out_suffix
)
@lang_option(
    help="Language of the printed table and of CSV/Excel headers (GeoPackage keeps English)."
)
@verbosity_options
def command(
    project: Path | None,
    plans_file: Path | None,
    parcels_file: Path | None,
    min_overlap_share: float | None,
    min_overlap_m2: float | None,
    household_rule: str | None,
    with_coverage: bool,
    crs: str | None,
    override_crs: str | None,
    encoding: str | None,
    as_json: bool,
    output: Path | None,
    overwrite: bool,
    lang: str,
) -> None:
    """Parcels affected by renewal plans 更新项目涉及地块: area in 亩, households, signing.

    \b
    Examples:
      gisrenew affected --project taicang
      gisrenew affected --plans plans.gpkg --parcels parcels.shp -o plans.xlsx
      gisrenew affected --project taicang --household-rule area_share --json
    """
    files = {"plans": plans_file, "parcels": parcels_file}
    check_out(output, inputs=files.values(), project=project, overwrite=overwrite)
    coverage_kinds = ("parks", "residential", "boundary") if with_coverage else ()
    inputs = gather_inputs(
        project,
        files,
        kinds=("plans", "parcels", *coverage_kinds),
        required=("plans", "parcels"),
        settings={
            "plans": {
                "min_overlap_share": min_overlap_share,
                "min_overlap_m2": min_overlap_m2,
                "household_rule": household_rule,
            }
        },
        crs=crs,
        override_crs=override_crs,
        encoding=encoding,
    )
    report_problems(inputs.problems)
    if parcels_file is not None:
        parcels = _mark_absent_columns(
            inputs.layer("parcels"), parcels_file, inputs.config.column_map("parcels")
        )
        inputs = inputs.with_layers(parcels=parcels)
    if not with_coverage:
        inputs = dataclasses.replace(
            inputs, layers={k: v for k, v in inputs.layers.items() if k in files}
        )
    result = compute_indicators(inputs, methods=(), plans=True).plans
    summary, pairs, totals, effects = result.summary, result.pairs, result.totals, result.effects

    if output is not None:
        layers: dict[str, pd.DataFrame] = {
            "plan_summary": summary,
            "plan_parcel_pairs": pairs,
            "affected_parcels": result.affected_parcels,
            "plan_totals": pd.DataFrame([totals]),
        }
        if effects is not None:
            layers["plan_coverage_effects"] = effects
        written = write_results(
            output,
            layers,
            headers=lang,
            labels=present.column_headers(lang, "plans"),
            sheet_names=present.sheet_names(layers, lang),
        )
    else:
        written = []

    if as_json:
        data = plan_lib.plans_to_dict(summary, pairs, totals, effects)
        data["written"] = [str(p) for p in written]
        emit_json(data)
        return
    click.echo(present.format_plan_table(summary, lang=lang, totals=totals))
    if effects is not None and len(effects):
        click.echo("")
        click.echo(present.format_coverage_effects(effects, lang=lang))
    for path in written:
        click.echo(("已写出 " if lang == "zh" else "wrote ") + str(path))
