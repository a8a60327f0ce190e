"""``gisrenew coverage``: the park service-radius coverage ratio 公园绿地服务半径覆盖率.

Prints the city figure and one line per district (m², ha and 亩, both names of the
indicator, the rule set); ``--json`` prints one JSON object instead (documented in the
README); ``--out`` writes the per-piece results, blind spots and service areas.

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
from gisrenew.errors import ProjectError
from gisrenew.io import conformed, write_results
from gisrenew.rules import available_rules, flat_rules, get_rules

from .options import (
    crs_option,
    emit_json,
    encoding_option,
    json_option,
    load_inputs,
    out_option,
    project_option,
)

__all__ = ["COVERAGE_LABELS_ZH", "command", "coverage_settings"]

METHODS = ("buffer", "network", "both")
_SETTINGS = {"weight", "method"}

#: Chinese headers of the coverage result columns in CSV/Excel output.
COVERAGE_LABELS_ZH = {
    "uncovered_m2": "未覆盖面积(m²)",
    "covered_weight": "覆盖权重",
    "weight": "权重",
    "blind_spot_id": "盲区编号",
    "residential_area_m2": "居住用地面积(m²)",
    "residential_area_ha": "居住用地面积(公顷)",
    "residential_area_mu": "居住用地面积(亩)",
    "covered_area_m2": "覆盖面积(m²)",
    "covered_area_ha": "覆盖面积(公顷)",
    "covered_area_mu": "覆盖面积(亩)",
    "weight_total": "权重合计",
    "weight_covered": "覆盖权重合计",
    "weighted_ratio": "覆盖率(按权重)",
    "park_area_m2": "公园面积(m²)",
    "width_m": "宽度(m)",
    "tier_label": "档位说明",
    "qualifies": "计入",
    "reason": "原因",
    "indicator": "指标",
    "indicator_new": "指标(新名称)",
    "method": "方法",
    "rules": "规则",
    "weight_column": "权重字段",
}


def coverage_settings(section: dict, *, where: str = "gisrenew.toml") -> dict:
    """Validate the ``[coverage]`` table of ``gisrenew.toml``."""
    unknown = set(section) - _SETTINGS
    if unknown:
        raise ProjectError(
            f"{where}: unknown key(s) in [coverage]: {sorted(unknown)}; known: {sorted(_SETTINGS)}"
        )
    out = {}
    if "weight" in section:
        out["weight"] = str(section["weight"])
    if "method" in section:
        method = str(section["method"])
        if method not in METHODS:
            raise ProjectError(f"{where}: [coverage] method must be one of {', '.join(METHODS)}")
        out["method"] = method
    return out


def _rules(rules_name, radius, min_park_area, inputs):
    if min_park_area is not None and radius is None:
        raise click.UsageError("--min-park-area needs --radius (the flat rule)")
    if radius is not None:
        if rules_name is not None:
            raise click.UsageError("give either --rules or --radius/--min-park-area, not both")
        return flat_rules(radius, min_park_area or 0.0)
    if rules_name is not None:
        return get_rules(rules_name)
    name = inputs.config.rules
    if inputs.project is not None and name not in available_rules():
        candidate = Path(inputs.project.folder) / name
        if candidate.exists():
            name = str(candidate)
    return get_rules(name)


def _codes(option: str | None, rules, config) -> tuple[str, ...]:
    if option is not None:
        if option.strip().lower() in ("all", "*", ""):
            return ()
        return tuple(c.strip() for c in option.split(",") if c.strip())
    return tuple(rules.residential_codes) or tuple(config.residential_codes)


@click.command("coverage")
@project_option
@click.option("--parks", "parks_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Parks layer 公园绿地 (polygons; plazas G3 count under gbt51346-2019).")  # fmt: skip
@click.option("--residential", "residential_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Residential land 居住用地 (polygons): the denominator.")  # fmt: skip
@click.option("--boundary", "boundary_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Built-up area 建成区: the ratio is computed inside it.")  # fmt: skip
@click.option("--districts", "districts_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Districts 区/镇/街道 for the per-district lines.")  # fmt: skip
@click.option("--rules", "rules_name", metavar="NAME|FILE", default=None,
              help=f"Rule set: a preset ({', '.join(available_rules())}) or a TOML file "
              "[default: the project's, else tijian-2021].")  # fmt: skip
@click.option("--radius", type=click.FloatRange(min=0, min_open=True), default=None, metavar="M",
              help="Flat rule: one service radius (m) for every park of at least --min-park-area.")  # fmt: skip
@click.option("--min-park-area", type=click.FloatRange(min=0), default=None, metavar="M2",
              help="Flat rule: smallest park that counts (m²) [default 0].")  # fmt: skip
@click.option("--weight", default=None, metavar="COLUMN",
              help="Residential column with households or population: also report the covered share of it.")  # fmt: skip
@click.option("--residential-codes", default=None, metavar="CODES",
              help="Comma-separated land-use code prefixes that count as residential (e.g. R,07), "
              "or 'all' [default: the rule set's, else the project's R,07].")  # fmt: skip
@click.option("--method", type=click.Choice(METHODS), default=None,
              help="buffer: straight-line radius from the park boundary; network: walking "
              "distance along streets; both: side by side [default buffer].")  # fmt: skip
@click.option("--roads", "roads_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Street centre lines for --method network/both.")  # fmt: skip
@click.option("--entrances", "entrances_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Park entrances for --method network/both (optional).")  # fmt: skip
@click.option("--walk-distance", type=click.FloatRange(min=0, min_open=True), default=None, metavar="M",
              help="Walk limit (m) for every qualifying park [default: each park's tier radius].")  # fmt: skip
@click.option("--walk-minutes", type=click.FloatRange(min=0, min_open=True), default=None, metavar="MIN",
              help="Walk limit in minutes (with --walk-speed-kmh, default 4.8 km/h).")  # fmt: skip
@click.option("--walk-speed-kmh", type=click.FloatRange(min=0, min_open=True), default=None, metavar="V",
              help="Walking speed for --walk-minutes [default 4.8].")  # fmt: skip
@click.option("--contribution", is_flag=True,
              help="Also report each park's unique coverage: the land lost if it closed (buffer method).")  # fmt: skip
@crs_option
@encoding_option
@json_option
@out_option
@click.option("--headers", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the printed table and of CSV/Excel headers (GeoPackage keeps English).")  # fmt: skip
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
    encoding: str | None,
    as_json: bool,
    out: Path | None,
    headers: str,
) -> None:
    """Park service-radius coverage 公园绿地服务半径覆盖率 (公园绿化活动场地服务半径覆盖率).

    \b
    Examples:
      gisrenew coverage --project taicang
      gisrenew coverage --parks parks.gpkg --residential residential.shp --boundary bua.gpkg
      gisrenew coverage --project taicang --rules gbt51346-2019 --weight households --json
      gisrenew coverage --project taicang --radius 500 --min-park-area 1000 --out cov.gpkg
      gisrenew coverage --project taicang --method both --walk-minutes 10
      gisrenew coverage --project taicang --contribution
    """
    network_opts = [
        name
        for name, value in (
            ("--roads", roads_file), ("--entrances", entrances_file),
            ("--walk-distance", walk_distance), ("--walk-minutes", walk_minutes),
            ("--walk-speed-kmh", walk_speed_kmh),
        )
        if value is not None
    ]  # fmt: skip
    if walk_distance is not None and (walk_minutes is not None or walk_speed_kmh is not None):
        raise click.UsageError("give either --walk-distance or --walk-minutes/--walk-speed-kmh")
    inputs = load_inputs(
        project,
        {
            "parks": parks_file,
            "residential": residential_file,
            "boundary": boundary_file,
            "districts": districts_file,
        },
        crs=crs,
        encoding=encoding,
        required=("parks", "residential"),
        optional_from_project=("boundary", "districts"),
    )
    where = str(inputs.config.path) if inputs.config.path else "gisrenew.toml"
    settings = coverage_settings(inputs.config.section("coverage"), where=where)
    method = method or settings.get("method", "buffer")
    weight = weight or settings.get("weight")
    if method == "buffer" and network_opts:
        raise click.UsageError(f"{', '.join(network_opts)} only apply to --method network or both")
    rules = _rules(rules_name, radius, min_park_area, inputs)
    codes = _codes(residential_codes, rules, inputs.config)
    if out is not None and inputs.project is not None:
        if out.resolve() == inputs.project.gpkg_path.resolve():
            raise click.UsageError(
                "--out names the project's own GeoPackage, which would be replaced; "
                "write the results to another file"
            )
    progress = bool((ctx.obj or {}).get("progress", False))
    layers = inputs.layers
    common = {
        "rules": rules,
        "boundary": layers.get("boundary"),
        "districts": layers.get("districts"),
        "weight": weight,
        "residential_codes": codes,
    }
    buffer_result = network_result = None
    if method in ("buffer", "both"):
        buffer_result = cov.compute_coverage(
            layers["parks"], layers["residential"], progress=progress, **common
        )
    if method in ("network", "both"):
        from gisrenew.network import (
            DEFAULT_WALK_MINUTES,
            DEFAULT_WALK_SPEED_KMH,
            network_coverage,
            walk_distance_from_minutes,
        )

        if roads_file is None and inputs.project is None:
            raise click.UsageError(
                "--method network/both needs --roads FILE (or a project with roads)"
            )
        net_inputs = load_inputs(
            inputs.project.folder if inputs.project is not None else None,
            {"roads": roads_file, "entrances": entrances_file},
            crs=crs,
            encoding=encoding,
            required=("roads",),
            optional_from_project=("entrances",),
        )
        net_layers = {
            kind: conformed(gdf, kind, name=kind, crs=layers["residential"].crs)
            for kind, gdf in net_inputs.layers.items()
        }
        distance = walk_distance
        if walk_minutes is not None or walk_speed_kmh is not None:
            distance = walk_distance_from_minutes(
                walk_minutes or DEFAULT_WALK_MINUTES, walk_speed_kmh or DEFAULT_WALK_SPEED_KMH
            )
        network_result = network_coverage(
            layers["parks"],
            layers["residential"],
            net_layers["roads"],
            entrances=net_layers.get("entrances"),
            walk_distance_m=distance,
            progress=progress,
            **common,
        )

    contributions = None
    if contribution:
        contributions = cov.park_contribution(layers["parks"], layers["residential"], **common)

    written = []
    if out is not None:
        if method == "both":
            out_layers = {
                **cov.coverage_layers(buffer_result, prefix="buffer_"),
                **cov.coverage_layers(network_result, prefix="network_"),
            }
        else:
            out_layers = cov.coverage_layers(buffer_result or network_result)
        if contributions is not None:
            out_layers["park_contribution"] = contributions
        written = write_results(out, out_layers, headers=headers, labels=COVERAGE_LABELS_ZH)

    if as_json:
        if method == "both":
            data = cov.comparison_dict(buffer_result, network_result)
        else:
            data = (buffer_result or network_result).to_dict()
        if contributions is not None:
            data["park_contribution"] = contributions.to_dict(orient="records")
        if written:
            data["written"] = [str(p) for p in written]
        emit_json(data)
        return
    if method == "both":
        click.echo(cov.format_coverage_comparison(buffer_result, network_result, lang=headers))
    else:
        click.echo(cov.format_coverage_table(buffer_result or network_result, lang=headers))
    if contributions is not None:
        click.echo("")
        click.echo(cov.format_contribution_table(contributions, lang=headers))
    result = buffer_result or network_result
    if result.weight_column is not None and math.isnan(result.weighted_ratio):
        click.echo(f"(weight column `{result.weight_column}` sums to 0)")
    for path in written:
        click.echo(f"wrote {path}")
