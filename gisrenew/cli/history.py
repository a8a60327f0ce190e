"""``gisrenew history``: list the recompute runs recorded in a project."""

from __future__ import annotations

import json
import math

import click

from gisrenew.cli.convention import lang_option, verbosity_options
from gisrenew.cli.options import emit_json, json_option, open_project, project_option
from gisrenew.present.formats import local_time, percent
from gisrenew.present.tables import sanitize
from gisrenew.recompute import HISTORY_TABLE, forget_change, read_history, stored_runs

_JSON_COLUMNS = ("inputs", "added_parks", "removed_parks", "figures")
_SHOWN_COLUMNS = (
    "run_id",
    "time_utc",
    "rules_name",
    "rules_version",
    "ratio_before",
    "ratio_after",
)


def _pct(value) -> str:
    try:
        return percent(float(value))
    except (TypeError, ValueError):
        return percent(None)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    return str(value)


def _records(history, where: str) -> tuple[list[dict], list[str]]:
    """The rows with their JSON columns parsed, and a note for every unreadable value."""
    problems = []
    missing = [c for c in _SHOWN_COLUMNS if c not in history.columns]
    if missing:
        problems.append(f"{where} lacks the column(s) {', '.join(missing)}; shown as ?")
    records = []
    for number, row in enumerate(history.to_dict(orient="records"), start=1):
        for key in _JSON_COLUMNS:
            if not isinstance(row.get(key), str):
                continue
            try:
                row[key] = json.loads(row[key])
            except ValueError:
                problems.append(
                    f"{where} row {number} (run {_text(row.get('run_id'))}): column `{key}` is "
                    "not valid JSON; shown as text"
                )
        records.append(row)
    return records, problems


_WORDS = {
    "zh": {"added": "新增", "removed": "移除", "input": "输入", "features": "个要素",
           "none": "尚无运行记录（gisrenew recompute 每次变更记录一次）", "runs": "次运行",
           "checksum": "校验值 SHA-256",
           "map": "前后对比地图已保存", "unpublished": "已移除第 {run} 次运行的前后对比地图，"
           "下次发布时不再包含"},
    "en": {"added": "added", "removed": "removed", "input": "input", "features": "features",
           "none": "no runs recorded yet (gisrenew recompute records one per change)",
           "runs": "run(s)", "checksum": "sha256", "map": "before/after map kept",
           "unpublished": "removed the before/after map of run {run}; the next publish "
           "leaves it out"},
}  # fmt: skip


def _ids(value) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return "—" if _text(value) == "?" else str(value)


def _print_row(row: dict, lang: str, zone: str | None, kept: set[int]) -> None:
    words = _WORDS[lang]
    when = local_time(row.get("time_utc"), lang, zone=zone, missing="?")
    mark = f"  [{words['map']}]" if _run_number(row.get("run_id")) in kept else ""
    click.echo(
        sanitize(
            f"#{_text(row.get('run_id'))}  {when}  "
            f"{_text(row.get('rules_name'))} v{_text(row.get('rules_version'))}  "
            f"{_pct(row.get('ratio_before'))} → {_pct(row.get('ratio_after'))}{mark}"
        )
    )
    click.echo(
        sanitize(
            f"    {words['added']}: {_ids(row.get('added_parks'))}; "
            f"{words['removed']}: {_ids(row.get('removed_parks'))}"
        )
    )
    inputs = row.get("inputs")
    for item in inputs if isinstance(inputs, list) else []:
        if isinstance(item, dict):
            digest = str(item.get("sha256", "?"))[:16]
            click.echo(
                sanitize(
                    f"    {words['input']} {item.get('source', '?')} "
                    f"({item.get('features', '?')} {words['features']}) "
                    f"{words['checksum']} {digest}…"
                )
            )


@click.command("history")
@project_option
@json_option
@lang_option()
@click.option(
    "--unpublish",
    "unpublish",
    type=click.IntRange(min=1),
    default=None,
    metavar="RUN",
    help="Remove the before/after map of run RUN from the project (the run stays listed); "
    "the next publish leaves its page out.",
)
@verbosity_options
def command(project, as_json, lang, unpublish) -> None:
    """List the runs recorded in the project (运行记录): time, inputs, rule set, figures.

    Times are shown in [project] time_zone, else Asia/Shanghai for --lang zh and this
    computer's time zone for --lang en (the project records UTC). Runs whose
    before/after map is kept (published by `gisrenew publish`) are marked.

    A damaged ``run_history`` table (text where a number belongs, missing columns, bad
    JSON) is listed as far as it can be read, with a warning for each problem.
    """
    proj = open_project(project)
    if unpublish is not None:
        forget_change(proj, unpublish)
        click.echo(sanitize(_WORDS[lang]["unpublished"].format(run=unpublish)))
        return
    history = read_history(proj)
    records, problems = _records(history, f"{proj.gpkg_path} table {HISTORY_TABLE}")
    for problem in problems:
        click.secho(sanitize(f"warning: {problem}"), fg="yellow", err=True)
    if as_json:
        emit_json({"project": str(proj.folder), "runs": records, "problems": problems})
        return
    if not records:
        click.echo(sanitize(f"{proj.folder}: {_WORDS[lang]['none']}"))
        return
    click.echo(sanitize(f"{proj.folder}: {len(records)} {_WORDS[lang]['runs']}"))
    kept = set(stored_runs(proj))
    for row in records:
        _print_row(row, lang, proj.config.time_zone, kept)


def _run_number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
