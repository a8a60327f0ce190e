"""``gisrenew lifecircles``: the community life circles 社区生活圈 (GB 50180-2018).

Which homes reach which services: per facility type, the share of residential land (and
households) within its radius or walking distance, and per circle the share in a complete
5-, 10- and 15-minute life circle (完整的15分钟生活圈: every required type of the circle
and of each smaller circle within reach). ``--json`` prints one JSON object instead;
``-o/--output`` writes the tables (.xlsx, .csv) or, in a GeoPackage, also the per-piece
residential layer, the gaps per type and the distance to each type.

Settings in ``gisrenew.toml`` (command-line options win)::

    [life_circles]
    rules = "gb50180-2018"     # a preset or a rule-set TOML file
    method = "both"            # buffer | network | both
"""

from __future__ import annotations

from pathlib import Path

import click

from gisrenew import present
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.io import write_results
from gisrenew.lifecircles import available_life_circle_rules
from gisrenew.present.lifecircles import life_circle_headers, unconfirmed_fields, worded_missing

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

METHODS = ("buffer", "network", "both")

#: The layers a life-circle run reads.
KINDS = ("residential", "facilities", "boundary", "districts")


@click.command("lifecircles")
@project_option
@layer_option(
    "residential", "Residential land 居住用地 (polygons): the denominator.", dest="residential_file"
)
@layer_option(
    "facilities",
    "Facilities 公共服务设施 (points or polygons) with a type column (幼儿园, 小学, ...).",
    dest="facilities_file",
)
@layer_option(
    "boundary", "Built-up area 建成区: the shares are computed inside it.", dest="boundary_file"
)
@layer_option(
    "districts", "Districts 区/镇/街道 for the per-district table.", dest="districts_file"
)
@layer_option("roads", "Street centre lines for --method network/both.", dest="roads_file")
@click.option("--rules", "rules_name", metavar="NAME|FILE", default=None,
              help="Life-circle rule set: a preset "
              f"({', '.join(available_life_circle_rules())}) or a TOML file "
              "[default: the project's [life_circles] rules, else gb50180-2018].")  # fmt: skip
@click.option("--method", type=click.Choice(METHODS), default=None,
              help="buffer: straight line from the facility boundary; network: walk along "
              "streets; both: side by side [default: [life_circles] method, else both with "
              "streets, else buffer].")  # fmt: skip
@click.option("--weight", default=None, metavar="COLUMN",
              help="Residential column with households or population: also report the "
              "share of it reached.")  # fmt: skip
@crs_option
@override_crs_option
@encoding_option
@json_option
@output_option(
    "file",
    "tables as .xlsx or .csv; .gpkg adds the residential layer, the gaps per type and "
    "the distance to each type.",
    callback=check_out_suffix,
)
@lang_option(help="Language of the printed tables and of CSV/Excel headers and sheet names.")
@verbosity_options
@click.pass_context
def command(
    ctx: click.Context,
    project: Path | None,
    residential_file: Path | None,
    facilities_file: Path | None,
    boundary_file: Path | None,
    districts_file: Path | None,
    roads_file: Path | None,
    rules_name: str | None,
    method: str | None,
    weight: str | None,
    crs: str | None,
    override_crs: str | None,
    encoding: str | None,
    as_json: bool,
    output: Path | None,
    overwrite: bool,
    lang: str,
) -> None:
    """Community life circles 社区生活圈: which homes reach which services (GB 50180-2018).

    \b
    Examples:
      gisrenew lifecircles --project taicang
      gisrenew lifecircles --project taicang --method both -o life_circles.xlsx
      gisrenew lifecircles --residential homes.shp --facilities facilities.gpkg
      gisrenew lifecircles --project taicang --rules my-circles.toml --json
    """
    if method == "buffer" and roads_file is not None:
        raise click.UsageError("--roads only applies to --method network or both")
    files = {
        "residential": residential_file, "facilities": facilities_file,
        "boundary": boundary_file, "districts": districts_file, "roads": roads_file,
    }  # fmt: skip
    check_out(output, inputs=files.values(), project=project, overwrite=overwrite)
    walks = method in ("network", "both")
    inputs = gather_inputs(
        project,
        files,
        kinds=(*KINDS, "roads") if method != "buffer" else KINDS,
        required=("residential", "facilities", *(("roads",) if walks else ())),
        settings={"coverage": {"weight": weight}, "life_circles": {"method": method}},
        life_circle_rules=rules_name,
        crs=crs,
        override_crs=override_crs,
        encoding=encoding,
    )
    report_problems(inputs.problems)
    progress = bool((ctx.obj or {}).get("progress", False))
    indicators = compute_indicators(
        inputs, methods=(), plans=False, life_circles=True, progress=progress
    )
    results = indicators.life_circles
    # unknown facility types and the like: the same for every method, said once
    report_problems(next(iter(results.values())).problems)
    written = []
    if output is not None:
        layers = _out_layers(results, lang, geopackage=output.suffix.lower() == ".gpkg")
        minutes = [c.minutes for c in next(iter(results.values())).rules.circles]
        written = write_results(
            output, layers, headers=lang, labels=life_circle_headers(lang, minutes),
            sheet_names=present.sheet_names(layers, lang),
        )  # fmt: skip
    if as_json:
        data = indicators.to_dict()
        if written:
            data["written"] = [str(p) for p in written]
        emit_json(data)
        return
    _print(results, lang)
    for path in written:
        click.echo(present.label("demo.wrote", lang) + " " + str(path))


def _print(results: dict, lang: str) -> None:
    for number, result in enumerate(results.values()):
        if number:
            click.echo("")
        click.echo(present.format_life_circle_table(result, lang=lang))
    if len(results) == 2:
        click.echo("")
        click.echo(
            present.format_life_circle_comparison(results["buffer"], results["network"], lang=lang)
        )


def _out_layers(results: dict, lang: str, *, geopackage: bool) -> dict:
    """The tables (and, in a GeoPackage, layers) of ``-o``; both methods with prefixes."""
    layers = {}
    for method, result in results.items():
        prefix = f"{method}_" if len(results) == 2 else ""
        types = result.types.copy()
        types["unconfirmed"] = types["unconfirmed"].map(lambda f: unconfirmed_fields(f, lang))
        land = result.land.copy()
        for circle in result.rules.circles:
            column = f"missing_{circle.minutes}min"
            land[column] = worded_missing(land[column], result.rules, lang)
        tables = {
            "lc_types": types,
            "lc_circles": result.circles,
            "lc_district_types": result.district_types,
            "lc_district_circles": result.district_circles,
            "lc_residential": land if geopackage else land.drop(columns=land.geometry.name),
        }
        if geopackage:
            tables["lc_gaps"] = result.gaps
            tables["lc_reach"] = result.reach
        layers.update({prefix + key: frame for key, frame in tables.items()})
    return layers
