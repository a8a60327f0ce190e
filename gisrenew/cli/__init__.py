"""The ``gisrenew`` command line: a thin layer over the library.

One module per command in this package; each defines ``command`` (a click command)
and is registered here. Exit codes: 0 success, 1 an error in the data or the
project (printed as a message, never a traceback), 2 a usage error.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import click

from gisrenew import __version__
from gisrenew.errors import GisrenewError
from gisrenew.present.tables import sanitize

__all__ = ["main"]

#: Command modules, in the order ``gisrenew --help`` lists them.
COMMANDS = (
    "demo",
    "init",
    "validate",
    "coverage",
    "affected",
    "publish",
    "recompute",
    "history",
    "sites",
)


class _Group(click.Group):
    """Click group that turns gisrenew errors into a message and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
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


def _register() -> None:
    for name in COMMANDS:
        module_name = f"{__name__}.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue  # a command not built in this checkout
        module = importlib.import_module(module_name)
        main.add_command(module.command)


_register()
