"""The one command-line convention every ``gisrenew`` command follows (like fio/rio).

* ``--lang zh|en`` chooses the language of every table and message (``--headers`` is
  a hidden, deprecated alias that still works and says so once on stderr);
* ``-o/--output`` names what a command writes — a file or a folder by the command's
  kind, said in its ``--help`` (``--out`` is a hidden alias); an existing output is
  refused without ``--overwrite``;
* ``-v/--verbose`` and ``-q/--quiet`` work before or after the command name;
* quiet by default: results, warnings and errors; INFO with ``-v``, DEBUG with
  ``-vv``; every message once, with one prefix (``WARNING:``; ``error:`` for the
  error that stops a run);
* a closed pipe (``gisrenew affected | head``) ends the run with exit status 0.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gisrenew.present.tables import sanitize

__all__ = [
    "LANGS",
    "configure_logging",
    "lang_option",
    "output_option",
    "verbosity_options",
    "warn_once",
]

#: Languages of tables and messages.
LANGS = ("zh", "en")

_PREFIX = {logging.DEBUG: "DEBUG: ", logging.WARNING: "WARNING: ", logging.ERROR: "ERROR: "}
_PREFIX[logging.CRITICAL] = "ERROR: "


class _PlainFormatter(logging.Formatter):
    """One prefix per line (``WARNING:``; none for INFO); data cannot drive the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and logging.getLogger("gisrenew").level <= logging.DEBUG:
            text += "\n" + self.formatException(record.exc_info)
        return sanitize(_PREFIX.get(record.levelno, "") + text, keep_newlines=True)


class _Once(logging.Filter):
    """Let each message through once per run (a warning repeated per layer or step)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def configure_logging(verbose: int, quiet: int) -> None:
    """Log to stderr at WARNING (default), INFO (``-v``), DEBUG (``-vv``) or ERROR (``-q``)."""
    level = logging.WARNING + 10 * (quiet - verbose)
    level = max(logging.DEBUG, min(level, logging.CRITICAL))
    logger = logging.getLogger("gisrenew")
    handler = next((h for h in logger.handlers if getattr(h, "gisrenew_cli", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.gisrenew_cli = True  # type: ignore[attr-defined]
        handler.setFormatter(_PlainFormatter())
        handler.addFilter(_Once())
        logger.handlers[:] = [h for h in logger.handlers if isinstance(h, logging.NullHandler)]
        logger.addHandler(handler)
    handler.setStream(sys.stderr)  # a test runner may have swapped stderr since
    for once in handler.filters:  # a new run (in the same process: a test runner)
        if isinstance(once, _Once):
            once.seen.clear()
    logger.setLevel(level)
    logger.propagate = False
    # GDAL/pyogrio chatter ("Created N records") only with -vv
    logging.getLogger("pyogrio").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


def _verbosity(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """Add a command's -v/-q to the group's and configure logging again."""
    obj = ctx.find_root().ensure_object(dict)
    obj[param.name] = obj.get(param.name, 0) + value
    if value:
        configure_logging(obj.get("verbose", 0), obj.get("quiet", 0))
        obj["progress"] = obj.get("quiet", 0) == 0 and sys.stderr.isatty()
    return value


def verbosity_options(func: Callable) -> Callable:
    """``-v/--verbose`` and ``-q/--quiet`` after the command name too."""
    func = click.option(
        "-q", "--quiet", count=True, expose_value=False, callback=_verbosity,
        help="Fewer messages (-qq: none but the results).",
    )(func)  # fmt: skip
    return click.option(
        "-v", "--verbose", count=True, expose_value=False, callback=_verbosity,
        help="More messages: -v what gisrenew does (INFO), -vv debugging.",
    )(func)  # fmt: skip


def warn_once(message: str) -> None:
    """Print a usage warning on stderr once per run (e.g. a deprecated option)."""
    obj = click.get_current_context().find_root().ensure_object(dict)
    said = obj.setdefault("said", set())
    if message not in said:
        said.add(message)
        click.echo(f"WARNING: {message}", err=True)


def lang_option(default: str | None = "zh", help: str = "Language of tables and messages."):
    """``--lang zh|en`` (and the deprecated, hidden ``--headers`` that maps to it)."""
    shown = f"{help} [default: {default}]" if default else help

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any):
            headers = kwargs.pop("headers", None)
            if headers is not None:
                warn_once("--headers is deprecated: use --lang (same values, zh or en)")
                if kwargs.get("lang") is None:
                    kwargs["lang"] = headers
            if kwargs.get("lang") is None:
                kwargs["lang"] = default
            return func(*args, **kwargs)

        wrapper = click.option(
            "--headers", type=click.Choice(LANGS), default=None, hidden=True,
            help="Deprecated: use --lang.",
        )(wrapper)  # fmt: skip
        return click.option("--lang", type=click.Choice(LANGS), default=None, help=shown)(wrapper)

    return decorate


def output_option(
    kind: str,
    help: str,
    *,
    callback: Callable | None = None,
    default: Path | None = None,
):
    """``-o/--output`` (a ``file`` or a ``folder``), hidden ``--out``, and ``--overwrite``.

    The command gets ``output`` (the path or `default`) and ``overwrite`` (bool).
    """
    if kind not in ("file", "folder"):
        raise ValueError(f"`kind` must be 'file' or 'folder', got {kind!r}")
    path_type = click.Path(dir_okay=kind == "folder", file_okay=kind == "file", path_type=Path)
    what = "FILE" if kind == "file" else "FOLDER"

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any):
            old = kwargs.pop("out_alias", None)
            if old is not None and kwargs.get("output") is None:
                kwargs["output"] = old
            if kwargs.get("output") is None:
                kwargs["output"] = default
            return func(*args, **kwargs)

        wrapper = click.option(
            "--overwrite", is_flag=True,
            help=f"Replace an existing output {kind} (without it, an existing one is refused).",
        )(wrapper)  # fmt: skip
        wrapper = click.option(
            "--out", "out_alias", type=path_type, default=None, hidden=True, callback=callback,
            help="Same as --output.",
        )(wrapper)  # fmt: skip
        return click.option(
            "-o", "--output", "output", type=path_type, default=None, metavar=what,
            callback=callback, help=f"Output {kind}: {help}",
        )(wrapper)  # fmt: skip

    return decorate
