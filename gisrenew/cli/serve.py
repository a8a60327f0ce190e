"""``gisrenew serve``: the interactive what-if page of a project on a local web server."""

from __future__ import annotations

import threading
import webbrowser

import click

from gisrenew.cli.convention import lang_option, verbosity_options
from gisrenew.cli.options import open_project, project_option
from gisrenew.present.tables import sanitize
from gisrenew.serve import (
    allowed_hosts,
    create_app,
    is_loopback,
    new_token,
    page_url,
    run_server,
)
from gisrenew.whatif import WhatIfSession


@click.command("serve")
@project_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but this computer (127.0.0.1) needs the access "
    "token printed in the URL.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open the page in a web browser.")
@lang_option()
@verbosity_options
def command(project, host, port, no_browser, lang) -> None:
    """Draw pocket parks on the coverage map and see the city change (口袋公园试算).

    Opens a local page showing the project's coverage: draw a park and see at once the
    new ratio (straight line, and walking when the project has streets), the land and
    households newly covered, the districts that change, the blind spots that close and
    whether the park counts under the rule set. Sketches can be compared, undone, saved as
    candidate sites or applied to the project (recomputed and kept in the run history). A
    read-only project (the bundled sample) evaluates sketches but writes nothing.

    Listens on 127.0.0.1 only unless --host is given; then every request needs the access
    token in the printed URL. Ctrl-C stops the server.
    """
    proj = open_project(project)
    click.echo(sanitize(f"opening {proj.describe()} …"), err=True)
    session = WhatIfSession.open(proj, progress=click.get_current_context().obj["progress"])
    token = None if is_loopback(host) else new_token()
    app = create_app(session, token=token, allowed_hosts=allowed_hosts(host), lang=lang)
    url = page_url(host, port, token)
    click.echo(f"gisrenew serve: {url}  (Ctrl-C stops)")
    if not no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    run_server(app, host, port)
    click.echo("stopped", err=True)
