"""The ``gisrenew`` command line: a thin layer over the library.

One module per command in this package; each defines ``command`` (a click command)
and is registered here, explicitly, in the order ``gisrenew --help`` lists them, with
its summary: a module is imported only when its command runs (:class:`LazyGroup`). Every
command follows one convention (:mod:`gisrenew.cli.convention`): ``--lang``,
``-o/--output`` with ``--overwrite``, ``-v/-q`` before or after the command name, quiet
by default. Exit codes: 0 success (also when a pipe closes early), 1 an error in the
data or the project (printed as a message, never a traceback), 2 a usage error.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from typing import NamedTuple

import click

from gisrenew import __version__
from gisrenew.cli.convention import configure_logging
from gisrenew.errors import GisrenewError, MissingLayerError
from gisrenew.present.tables import sanitize

__all__ = ["COMMANDS", "LazyGroup", "Listed", "main"]


class Listed(NamedTuple):
    """A command as ``gisrenew --help`` lists it, without importing its module."""

    module: str  #: its module in this package (defines ``command``)
    summary: str  #: the first paragraph of its help, which the listing shortens


#: Every command, in the order ``gisrenew --help`` lists them. A command's module is
#: imported only when the command runs or shows its own help, so a command pays only for
#: the libraries it uses and ``gisrenew --help`` for none of them. (A test checks each
#: summary against the command's own help.)
COMMANDS: dict[str, Listed] = {
    "demo": Listed(
        "demo", "Run every analysis on the bundled sample city (示例城市, synthetic data)."
    ),
    "init": Listed("init", "Make a project in FOLDER from your files (新建项目)."),
    "reload": Listed(
        "reload", "Read the project's layers again from their source files (重新读取图层)."
    ),
    "copy-project": Listed(
        "copy_project", "Copy the project in SOURCE to the new folder TARGET (复制项目)."
    ),
    "validate": Listed(
        "validate", "Check a project, files or a folder of files; list every problem (数据检查)."
    ),
    "coverage": Listed(
        "coverage",
        "Park service-radius coverage 公园绿地服务半径覆盖率 (公园绿化活动场地服务半径覆盖率).",
    ),
    "lifecircles": Listed(
        "lifecircles",
        "Community life circles 社区生活圈: which homes reach which services (GB 50180-2018).",
    ),
    "affected": Listed(
        "affected",
        "Parcels affected by renewal plans 更新项目涉及地块: area in 亩, households, signing.",
    ),
    "publish": Listed(
        "publish",
        "Publish the project's maps (coverage, plans, before/after of each run) as a static site.",
    ),
    "recompute": Listed(
        "recompute",
        "Add new parks / remove closed ones and recompute every indicator (重新计算).",
    ),
    "report": Listed(
        "report", "The indicator sheet 城市体检指标: figures, targets, pass or fail, per district."
    ),
    "history": Listed(
        "history",
        "List the runs recorded in the project (运行记录): time, inputs, rule set, figures.",
    ),
    "sites": Listed(
        "sites", "Rank candidate sites by the residential land each newly brings into service."
    ),
    "serve": Listed(
        "serve",
        "Draw pocket parks on the coverage map and see the city change (口袋公园试算).",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name on first use (click's lazy loading).

    `lazy_commands` maps each command name to its module (relative to this package) and
    its summary; ``--help`` lists the summaries and imports no command module. A gisrenew
    error becomes a message and exit status 1, a missing input layer a usage error
    (exit 2).
    """

    def __init__(self, *args, lazy_commands: Mapping[str, Listed], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.lazy_commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy_commands:
            return None
        module = self.lazy_commands[cmd_name].module
        return importlib.import_module(f"{__name__}.{module}").command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing click makes (same widths and shortening), from the summaries."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:  # a bare command shortens its help as the real one would
            listed = click.Command(name, help=self.lazy_commands[name].summary)
            rows.append((name, listed.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MissingLayerError as exc:  # a layer option the user did not give: usage
            raise click.UsageError(str(exc), ctx) from None
        except GisrenewError as exc:
            text = sanitize(exc, keep_newlines=True)
            text = text[len("error: ") :] if text.lower().startswith("error: ") else text
            click.secho(f"error: {text}", fg="red", err=True)
            sys.exit(1)
        except BrokenPipeError:  # `gisrenew affected | head`: the reader has what it wanted
            _quiet_closed_stdout()
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def _quiet_closed_stdout() -> None:
    """Point stdout at /dev/null so that Python's flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test runner's buffer)
        pass
    finally:
        os.close(devnull)


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "-v", "--verbose", count=True,
    help="More messages: -v what gisrenew does (INFO), -vv debugging. Also after the command.",
)  # fmt: skip
@click.option(
    "-q",
    "--quiet",
    count=True,
    help="Fewer messages (-qq: none but the results). Also after the command.",
)
@click.version_option(__version__, prog_name="gisrenew")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: int) -> None:
    """gisrenew — park coverage, ten-minute walks, renewal plans and web maps for planners.

    公园绿地服务半径覆盖率 · 十分钟服务圈 · 城市更新地块 · 口袋公园 · 网页地图
    """
    configure_logging(verbose, quiet)
    ctx.ensure_object(dict)
    ctx.obj.update(verbose=verbose, quiet=quiet, progress=quiet == 0 and sys.stderr.isatty())
