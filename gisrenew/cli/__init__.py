"""The ``gisrenew`` command line: a thin layer over the library.

One module per command in this package; each defines ``command`` (a click command)
and is registered here, explicitly, in the order ``gisrenew --help`` lists them. Exit codes: 0 success, 1 an error in the data or the
project (printed as a message, never a traceback), 2 a usage error.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from gisrenew import __version__
from gisrenew.errors import GisrenewError
from gisrenew.inputs import MissingLayerError
from gisrenew.present.tables import sanitize

__all__ = ["main"]

#: Every command, in the order ``gisrenew --help`` lists them: name → its module here.
#: A command's module is imported when the command runs (or ``--help`` lists it), so a
#: command pays only for the libraries it uses.
COMMANDS: dict[str, str] = {
    "demo": "demo",
    "init": "init",
    "validate": "validate",
    "coverage": "coverage",
    "affected": "affected",
    "publish": "publish",
    "recompute": "recompute",
    "history": "history",
    "sites": "sites",
}


class _Group(click.Group):
    """The command group: explicit, lazily imported commands; errors as messages.

    A gisrenew error becomes a message and exit status 1, a missing input layer a
    usage error (exit 2).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"{__name__}.{COMMANDS[cmd_name]}")
        return module.command

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MissingLayerError as exc:  # a layer option the user did not give: usage
            raise click.UsageError(str(exc), ctx) from None
        except GisrenewError as exc:
            click.secho(f"error: {sanitize(exc, keep_newlines=True)}", fg="red", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


class _PlainFormatter(logging.Formatter):
    """Log lines whose data (names, ids, paths) cannot drive the terminal (see ``sanitize``)."""

    def format(self, record: logging.LogRecord) -> str:
        return sanitize(super().format(record), keep_newlines=True)


def _configure_logging(verbose: int, quiet: int) -> None:
    level = logging.INFO + 10 * (quiet - verbose)
    level = max(logging.DEBUG, min(level, logging.CRITICAL))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PlainFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("gisrenew")
    logger.handlers[:] = [h for h in logger.handlers if isinstance(h, logging.NullHandler)]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    # GDAL/pyogrio chatter ("Created N records") only with -vv
    logging.getLogger("pyogrio").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More messages (-vv for debugging).")
@click.option("-q", "--quiet", count=True, help="Fewer messages (-qq for errors only).")
@click.version_option(__version__, prog_name="gisrenew")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: int) -> None:
    """gisrenew — park coverage, ten-minute walks, renewal plans and web maps for planners.

    公园绿地服务半径覆盖率 · 十分钟服务圈 · 城市更新地块 · 口袋公园 · 网页地图
    """
    _configure_logging(verbose, quiet)
    ctx.ensure_object(dict)
    ctx.obj["progress"] = quiet == 0 and sys.stderr.isatty()
