"""``gisrenew history``: list the recompute runs recorded in a project."""

from __future__ import annotations

import json

import click

from gisrenew.batch import read_history
from gisrenew.cli.options import emit_json, json_option, project_option
from gisrenew.cli.recompute import open_project
from gisrenew.present.formats import percent
from gisrenew.present.tables import sanitize

_JSON_COLUMNS = ("inputs", "added_parks", "removed_parks", "figures")


@click.command("history")
@project_option
@json_option
def command(project, as_json) -> None:
    """List the runs recorded in the project (运行记录): time, inputs, rule set, figures."""
    proj = open_project(project)
    history = read_history(proj)
    records = []
    for row in history.to_dict(orient="records"):
        for key in _JSON_COLUMNS:
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        records.append(row)
    if as_json:
        emit_json({"project": str(proj.folder), "runs": records})
        return
    if not records:
        click.echo(
            f"{proj.folder}: no runs recorded yet (gisrenew recompute records one per change)"
        )
        return
    click.echo(f"{proj.folder}: {len(records)} run(s)")
    for row in records:
        added = ", ".join(row.get("added_parks") or []) or "—"
        removed = ", ".join(row.get("removed_parks") or []) or "—"
        click.echo(
            sanitize(
                f"#{row['run_id']}  {row['time_utc']}  {row['rules_name']} v{row['rules_version']}  "
                f"{percent(row['ratio_before'])} → {percent(row['ratio_after'])}"
            )
        )
        click.echo(sanitize(f"    added: {added}; removed: {removed}"))
        for item in row.get("inputs") or []:
            click.echo(
                sanitize(
                    f"    input {item['source']} ({item['features']} features) "
                    f"sha256 {item['sha256'][:16]}…"
                )
            )
