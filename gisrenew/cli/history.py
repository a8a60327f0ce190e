"""``gisrenew history``: list the recompute runs recorded in a project."""

from __future__ import annotations

import click

from gisrenew.cli.convention import lang_option, verbosity_options
from gisrenew.cli.options import emit_json, json_option, open_project, project_option
from gisrenew.present.labels import label
from gisrenew.present.recompute import format_history
from gisrenew.present.tables import sanitize
from gisrenew.recompute import (
    HISTORY_TABLE,
    forget_change,
    history_records,
    read_history,
    stored_runs,
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
        click.echo(sanitize(label("history.unpublished", lang).format(run=unpublish)))
        return
    history = read_history(proj)
    records, problems = history_records(history, f"{proj.describe()} table {HISTORY_TABLE}")
    for problem in problems:
        click.secho(sanitize(f"warning: {problem}"), fg="yellow", err=True)
    if as_json:
        emit_json({"project": str(proj.folder), "runs": records, "problems": problems})
        return
    kept = set(stored_runs(proj)) if records else set()
    text = format_history(
        records, lang, where=str(proj.folder), zone=proj.config.time_zone, kept_runs=kept
    )
    click.echo(text)  # format_history cleans every line
