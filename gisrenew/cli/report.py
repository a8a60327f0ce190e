"""``gisrenew report``: the indicator sheet of the 城市体检, checked against the standards.

Computes every indicator the project's layers allow (coverage by straight line and by
walking, per-capita park green space, greenway coverage, life-circle completeness,
renewal progress), checks each against the targets (GB 55014-2021, GB/T 51346-2019, ...
and the project's own, ``[report] targets``), and prints the sheet, or writes it as a
printable A4 page (``.html``), a Word document (``.docx``) and an Excel workbook
(``.xlsx``). The figures are assembled by :func:`gisrenew.reporting.build_checkup` and
drawn by :mod:`gisrenew.report`.

Settings in ``gisrenew.toml`` (command-line options win)::

    [report]
    targets = "my-targets.toml"    # your own targets, added to (or replacing) the national ones
    population = 520000            # city population 城区人口 for the per-capita figures
    greenway_radius_m = 1000       # 城市绿道服务半径
"""

from __future__ import annotations

from pathlib import Path

import click

from gisrenew.cli.convention import lang_option, output_option, verbosity_options
from gisrenew.cli.options import check_out, emit_json, json_option, open_project, project_option
from gisrenew.report import REPORT_FORMATS, report_content, report_files, write_report
from gisrenew.report.text import render_text
from gisrenew.reporting import build_checkup

__all__ = ["command"]


def _targets_of(output: Path) -> list[Path]:
    """The files ``-o`` names: one report file, or the three of a folder."""
    if output.suffix.lower() in REPORT_FORMATS.values():
        return [output]
    return [output / f"report{suffix}" for suffix in REPORT_FORMATS.values()]


@click.command("report")
@project_option
@click.option(
    "--since",
    type=click.IntRange(min=1),
    default=None,
    metavar="RUN",
    help="Also show the change since run RUN of the history (gisrenew history lists them).",
)
@click.option(
    "--targets",
    "targets_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Your own targets file (TOML) instead of [report] targets; its targets replace "
    "national ones of the same id and add the others.",
)
@click.option(
    "--life-circles/--no-life-circles",
    default=None,
    help="Life-circle completeness (社区生活圈) [default: when the project has facilities].",
)
@json_option
@output_option(
    "file",
    "report.html (printable A4 page), .docx (Word) or .xlsx (Excel); any other name is a "
    "folder that gets all three.",
)
@lang_option()
@verbosity_options
@click.pass_context
def command(
    ctx: click.Context,
    project: Path | None,
    since: int | None,
    targets_file: Path | None,
    life_circles: bool | None,
    as_json: bool,
    output: Path | None,
    overwrite: bool,
    lang: str,
) -> None:
    """The indicator sheet 城市体检指标: figures, targets, pass or fail, per district.

    \b
    Examples:
      gisrenew report --project taicang
      gisrenew report --project taicang -o 体检报告.docx
      gisrenew report --project taicang -o report/ --since 1 --targets 本地目标.toml
    """
    proj = open_project(project)
    files = [] if output is None else _targets_of(output)
    for target in files:
        check_out(
            target,
            inputs=[targets_file],
            project=proj.folder,
            overwrite=overwrite,
            suffixes=tuple(REPORT_FORMATS.values()),
        )
    if life_circles is None:
        life_circles = proj.has("facilities")
    progress = bool(ctx.obj and ctx.obj.get("progress"))
    checkup = build_checkup(
        proj, since=since, targets=targets_file, life_circles=life_circles, progress=progress
    )
    written = _write(checkup, output, files, lang=lang, targets_file=targets_file)
    if as_json:
        data = checkup.to_dict()
        if written:
            data["written"] = [str(p) for p in written]
        emit_json(data)
        return
    if output is None:
        click.echo(render_text(report_content(checkup, lang)))
    for path in written:
        click.echo(("已写出 " if lang == "zh" else "wrote ") + str(path))


def _write(checkup, output: Path | None, files: list[Path], *, lang: str, targets_file) -> list:
    """Write the report files ``-o`` names (checked before computing)."""
    if output is None:
        return []
    inputs = [targets_file] if targets_file is not None else []
    if len(files) == 1:
        return [write_report(checkup, files[0], lang=lang, overwrite=True, inputs=inputs)]
    output.mkdir(parents=True, exist_ok=True)
    return report_files(checkup, output, lang=lang, overwrite=True, inputs=inputs)
