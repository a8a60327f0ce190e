"""``gisrenew coverage``: the park service-radius coverage ratio 公园绿地服务半径覆盖率.

Prints the city figure and one line per district (m², ha and 亩, both names of the
indicator, the rule set); ``--json`` prints one JSON object instead (documented in the
README); ``-o/--output`` writes the per-piece results, blind spots and service areas.

Settings in ``gisrenew.toml`` (command-line options win)::

    [coverage]
    weight = "households"      # residential column used as weight
    method = "buffer"          # buffer | network | both
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from gisrenew import coverage as cov
from gisrenew import present
from gisrenew.config import CONFIG_FILE, ProjectConfig
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.io import write_results
from gisrenew.present.labels import label
from gisrenew.rules import available_rules, flat_rules
from gisrenew.settings import DEFAULT_WALK_MINUTES

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


def _flat_rule(rules_name, radius, min_park_area):
    """The ``--radius``/``--min-park-area`` flat rule, or the ``--rules`` choice."""
    if min_park_area is not None and radius is None:
        raise click.UsageError("--min-park-area needs --radius (the flat rule)")
    if radius is None:
        return rules_name
    if rules_name is not None:
        raise click.UsageError("give either --rules or --radius/--min-park-area, not both")
    return flat_rules(radius, min_park_area or 0.0)


def _codes(option: str | None) -> tuple[str, ...] | None:
    if option is None:
        return None
    if option.strip().lower() in ("all", "*", ""):
        return ()
    return tuple(c.strip() for c in option.split(",") if c.strip())


def _method(method: str | None, project: Path | None) -> str:
    """The method asked for, else the project's ``[coverage] method``."""
    if method is not None:
        return method
    folder = project if project is not None else Path.cwd()
    if (folder / CONFIG_FILE).is_file():
        return ProjectConfig.load(folder).coverage.method
    return "buffer"


@click.command("coverage")
@project_option
@layer_option(
    "parks",
    "Parks layer 公园绿地 (polygons; plazas G3 count under gbt51346-2019).",
    dest="parks_file",
)
@layer_option(
    "residential", "Residential land 居住用地 (polygons): the denominator.", dest="residential_file"
)
@layer_option(
    "boundary", "Built-up area 建成区: the ratio is computed inside it.", dest="boundary_file"
)
@layer_option(
    "districts", "Districts 区/镇/街道 for the per-district lines.", dest="districts_file"
)
@click.option("--rules", "rules_name", metavar="NAME|FILE", default=None,
              help=f"Rule set: a preset ({', '.join(available_rules())}) or a TOML file "
              "[default: the project's, else tijian-2021].")  # fmt: skip
@click.option("--radius", type=click.FloatRange(min=0, min_open=True), default=None, metavar="M",
              help="Flat rule: one service radius (m) for every park of at least "
              "--min-park-area.")  # fmt: skip
@click.option("--min-park-area", type=click.FloatRange(min=0), default=None, metavar="M2",
              help="Flat rule: smallest park that counts (m²) [default 0].")  # fmt: skip
@click.option("--weight", default=None, metavar="COLUMN",
              help="Residential column with households or population: also report the "
              "covered share of it.")  # fmt: skip
@click.option("--residential-codes", default=None, metavar="CODES",
              help="Comma-separated land-use code prefixes that count as residential (e.g. R,07), "
              "or 'all' [default: the rule set's, else the project's R,07].")  # fmt: skip
@click.option("--method", type=click.Choice(METHODS), default=None,
              help="buffer: straight-line radius from the park boundary; network: walking "
              "distance along streets; both: side by side [default buffer].")  # fmt: skip
@layer_option("roads", "Street centre lines for --method network/both.", dest="roads_file")
@layer_option(
    "entrances", "Park entrances for --method network/both (optional).", dest="entrances_file"
)
@click.option("--walk-distance", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="M",
              help="Walk limit (m) for every qualifying park "
              "[default: each park's tier radius].")  # fmt: skip
@click.option("--walk-minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="MIN",
              help="Walk limit in minutes (with --walk-speed-kmh, default 4.8 km/h).")  # fmt: skip
@click.option("--walk-speed-kmh", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="V",
              help="Walking speed for --walk-minutes [default 4.8].")  # fmt: skip
@click.option("--contribution", is_flag=True,
              help="Also report each park's unique coverage: the land lost if it closed "
              "(buffer method).")  # fmt: skip
@crs_option
@override_crs_option
@encoding_option
@json_option
@output_option("file", "results as .gpkg (layers), .csv or .xlsx (tables).",
               callback=check_out_suffix)  # fmt: skip
@lang_option(
    help="Language of the printed table and of CSV/Excel headers (GeoPackage keeps English)."
)
@verbosity_options
@click.pass_context
def command(
    ctx: click.Context,
    project: Path | None,
    parks_file: Path | None,
    residential_file: Path | None,
    boundary_file: Path | None,
    districts_file: Path | None,
    rules_name: str | None,
    radius: float | None,
    min_park_area: float | None,
    weight: str | None,
    residential_codes: str | None,
    method: str | None,
    roads_file: Path | None,
    entrances_file: Path | None,
    walk_distance: float | None,
    walk_minutes: float | None,
    walk_speed_kmh: float | None,
    contribution: bool,
    crs: str | None,
    override_crs: str | None,
    encoding: str | None,
    as_json: bool,
    output: Path | None,
    overwrite: bool,
    lang: str,
) -> None:
    """Park service-radius coverage 公园绿地服务半径覆盖率 (公园绿化活动场地服务半径覆盖率).

    \b
    Examples:
      gisrenew coverage --project taicang
      gisrenew coverage --parks parks.gpkg --residential residential.shp --boundary bua.gpkg
      gisrenew coverage --project taicang --rules gbt51346-2019 --weight households --json
      gisrenew coverage --project taicang --radius 500 --min-park-area 1000 -o cov.gpkg
      gisrenew coverage --project taicang --method both --walk-minutes 10
      gisrenew coverage --project taicang --contribution
    """
    walk = {"walk_distance_m": walk_distance, "walk_minutes": walk_minutes,
            "walk_speed_kmh": walk_speed_kmh}  # fmt: skip
    chosen, methods = _methods(method, project, walk, roads_file, entrances_file)
    network_kinds = ("roads", "entrances") if "network" in methods else ()
    files = {
        "parks": parks_file, "residential": residential_file, "boundary": boundary_file,
        "districts": districts_file, "roads": roads_file, "entrances": entrances_file,
    }  # fmt: skip
    check_out(output, inputs=files.values(), project=project, overwrite=overwrite)
    inputs = gather_inputs(
        project,
        files,
        kinds=("parks", "residential", "boundary", "districts", *network_kinds),
        required=("parks", "residential", *network_kinds[:1]),
        settings={"coverage": {"weight": weight, "method": chosen}, "network": walk},
        rules=_flat_rule(rules_name, radius, min_park_area),
        residential_codes=_codes(residential_codes),
        crs=crs,
        override_crs=override_crs,
        encoding=encoding,
    )
    report_problems(inputs.problems)
    progress = bool((ctx.obj or {}).get("progress", False))
    result = compute_indicators(
        inputs,
        methods=methods,
        plans=False,
        contributions=contribution,
        # walking service-area polygons only for the -o file: the printout draws no map
        network_service_areas="park" if output is not None else "none",
        progress=progress,
    )
    written = []
    if output is not None:
        labels = present.column_headers(lang, "coverage")
        layers = _out_layers(result)
        sheets = present.sheet_names(layers, lang)
        written = write_results(output, layers, headers=lang, labels=labels, sheet_names=sheets)
    if as_json:
        data = result.to_dict()
        if written:
            data["written"] = [str(p) for p in written]
        emit_json(data)
        return
    _print(result, lang)
    for path in written:
        click.echo(("已写出 " if lang == "zh" else "wrote ") + str(path))


def _methods(method, project, walk: dict, roads_file, entrances_file) -> tuple[str, tuple]:
    """The method (``--method``, else ``[coverage] method``) and the options it allows."""
    if walk["walk_distance_m"] is not None and (
        walk["walk_minutes"] is not None or walk["walk_speed_kmh"] is not None
    ):
        raise click.UsageError("give either --walk-distance or --walk-minutes/--walk-speed-kmh")
    if walk["walk_speed_kmh"] is not None and walk["walk_minutes"] is None:
        walk["walk_minutes"] = DEFAULT_WALK_MINUTES
    given = [
        name
        for name, value in (
            ("--roads", roads_file), ("--entrances", entrances_file),
            ("--walk-distance", walk["walk_distance_m"]), ("--walk-minutes", walk["walk_minutes"]),
            ("--walk-speed-kmh", walk["walk_speed_kmh"]),
        )
        if value is not None
    ]  # fmt: skip
    chosen = _method(method, project)
    if chosen == "buffer" and given:
        raise click.UsageError(f"{', '.join(given)} only apply to --method network or both")
    return chosen, (("buffer", "network") if chosen == "both" else (chosen,))


def _out_layers(result) -> dict:
    """The layers and tables of ``--out``: one method bare, both with prefixes."""
    results = result.results()
    if len(results) == 2:
        layers = {
            **cov.coverage_layers(result.buffer, prefix="buffer_"),
            **cov.coverage_layers(result.network, prefix="network_"),
        }
    else:
        layers = cov.coverage_layers(result.coverage)
    if result.contributions is not None:
        layers["park_contribution"] = result.contributions
    return layers


def _print(result, lang: str) -> None:
    if len(result.results()) == 2:
        click.echo(present.format_coverage_comparison(result.buffer, result.network, lang=lang))
    else:
        click.echo(present.format_coverage_table(result.coverage, lang=lang))
    if result.contributions is not None:
        click.echo("")
        click.echo(present.format_contribution_table(result.contributions, lang=lang))
    headline = result.coverage
    if headline.weight_column is not None and math.isnan(headline.weighted_ratio):
        click.echo(label("coverage.weight_zero", lang).format(w=headline.weight_column))
