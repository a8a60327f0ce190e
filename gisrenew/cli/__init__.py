"""The ``gisrenew`` command line: a thin layer over the library.

One module per command in this package; each defines ``command`` (a click command)
and is registered here, explicitly, in the order ``gisrenew --help`` lists them. Every
command follows one convention (:mod:`gisrenew.cli.convention`): ``--lang``,
``-o/--output`` with ``--overwrite``, ``-v/-q`` before or after the command name, quiet
by default. Exit codes: 0 success (also when a pipe closes early), 1 an error in the
data or the project (printed as a message, never a traceback), 2 a usage error.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from gisrenew import __version__
from gisrenew.cli.convention import configure_logging
from gisrenew.errors import GisrenewError, MissingLayerError
from gisrenew.present.tables import sanitize

__all__ = ["main"]

#: Every command, in the order ``gisrenew --help`` lists them: name → its module here.
#: A command's module is imported when the command runs (or ``--help`` lists it), so a
#: command pays only for the libraries it uses.
COMMANDS: dict[str, str] = {
    "demo": "demo",
    "init": "init",
    "reload": "reload",
    "copy-project": "copy_project",
    "validate": "validate",
    "coverage": "coverage",
    "lifecircles": "lifecircles",
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
