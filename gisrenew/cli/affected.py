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

from pathlib import Path

import click
import pandas as pd
import pyogrio

from gisrenew import plans as plan_lib
from gisrenew.errors import GisrenewError
from gisrenew.io import list_layers, write_results
from gisrenew.plans import absent_parcel_columns
from gisrenew.rules import get_rules

from .options import (
    check_out,
    crs_option,
    emit_json,
    encoding_option,
    json_option,
    load_inputs,
    out_option,
    project_option,
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
@click.option(
    "--plans",
    "plans_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Renewal plans layer 更新项目 (polygons).",
)
@click.option(
    "--parcels",
    "parcels_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Parcels layer 地块 with household and signing columns.",
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
@encoding_option
@json_option
@out_option
@click.option(
    "--headers",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the printed table and of CSV/Excel headers (GeoPackage keeps English).",
)
def command(
    project: Path | None,
    plans_file: Path | None,
    parcels_file: Path | None,
    min_overlap_share: float | None,
    min_overlap_m2: float | None,
    household_rule: str | None,
    with_coverage: bool,
    crs: str | None,
    encoding: str | None,
    as_json: bool,
    out: Path | None,
    headers: str,
) -> None:
    """Parcels affected by renewal plans 更新项目涉及地块: area in 亩, households, signing.

    \b
    Examples:
      gisrenew affected --project taicang
      gisrenew affected --plans plans.gpkg --parcels parcels.shp --out plans.xlsx
      gisrenew affected --project taicang --household-rule area_share --json
    """
    check_out(out, inputs=(plans_file, parcels_file), project=project)
    inputs = load_inputs(
        project,
        {"plans": plans_file, "parcels": parcels_file},
        crs=crs,
        encoding=encoding,
        required=("plans", "parcels"),
        optional_from_project=("parks", "residential", "boundary") if with_coverage else (),
    )
    settings = plan_lib.options_from_settings(
        inputs.config.section("plans"),
        where=str(inputs.config.path) if inputs.config.path else "gisrenew.toml",
    )
    if min_overlap_share is not None:
        settings["min_overlap_share"] = min_overlap_share
    if min_overlap_m2 is not None:
        settings["min_overlap_m2"] = min_overlap_m2
    if household_rule is not None:
        settings["household_rule"] = household_rule
    thresholds = {
        "min_overlap_share": settings.get("min_overlap_share", plan_lib.DEFAULT_MIN_OVERLAP_SHARE),
        "min_overlap_m2": settings.get("min_overlap_m2", plan_lib.DEFAULT_MIN_OVERLAP_M2),
    }
    rule = settings.get("household_rule", "whole")
    households = settings.get("households")

    plans = inputs.layers["plans"]
    parcels = inputs.layers["parcels"]
    if parcels_file is not None:
        parcels = _mark_absent_columns(parcels, parcels_file, inputs.config.column_map("parcels"))
    pairs = plan_lib.affected_parcels(plans, parcels, **thresholds)
    summary = plan_lib.plan_summary(plans, pairs, household_rule=rule, households=households)
    totals = plan_lib.plan_totals(plans, pairs, household_rule=rule, households=households)
    effects = None
    parks, residential = inputs.get("parks"), inputs.get("residential")
    if with_coverage and parks is not None and residential is not None:
        if len(plan_lib.plans_as_parks(plans)):
            effects = plan_lib.plan_coverage_effects(
                plans,
                parks,
                residential,
                rules=get_rules(inputs.config.rules),
                boundary=inputs.get("boundary"),
                residential_codes=inputs.config.residential_codes,
            )

    if out is not None:
        layers: dict[str, pd.DataFrame] = {
            "plan_summary": summary,
            "plan_parcel_pairs": pairs,
            "affected_parcels": plan_lib.affected_parcel_layer(plans, parcels, pairs=pairs),
            "plan_totals": pd.DataFrame([totals]),
        }
        if effects is not None:
            layers["plan_coverage_effects"] = effects
        written = write_results(out, layers, headers=headers, labels=plan_lib.PLAN_LABELS_ZH)
    else:
        written = []

    if as_json:
        data = plan_lib.plans_to_dict(summary, pairs, totals, effects)
        data["written"] = [str(p) for p in written]
        emit_json(data)
        return
    click.echo(plan_lib.format_plan_table(summary, lang=headers, totals=totals))
    if effects is not None and len(effects):
        click.echo("")
        click.echo(plan_lib.format_coverage_effects(effects, lang=headers))
    for path in written:
        click.echo(("已写出 " if headers == "zh" else "wrote ") + str(path))
