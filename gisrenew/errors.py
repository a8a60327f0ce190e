"""Errors and warnings raised by gisrenew.

Every error a planner can cause with their data derives from :class:`GisrenewError`
and carries a message written to be read, not debugged: what went wrong, where
(file, layer, row, column) and how to fix it. The CLI prints the message and exits
with status 1; it never shows a traceback for these.

Hierarchy::

    GisrenewError
    ├── InputError (also ValueError)      bad user data
    │   ├── CRSError                      missing / unusable coordinate reference system
    │   ├── SchemaError                   missing columns, duplicate ids, bad values
    │   ├── GeometryError                 unusable geometry (wrong type, nothing left)
    │   ├── EncodingError                 text attributes that cannot be decoded
    │   ├── ReadError                     a file or layer that cannot be opened
    │   └── ValidationError               several problems at once (``.problems``)
    ├── RuleSetError (also ValueError)    an unknown or malformed rule set
    ├── ProjectError                      a missing or broken project folder
    │   └── LockError                     another run holds the project lock
    ├── OutputError                       an output that cannot be written (disk full, no
    │                                     permission) or that would replace an input
    ├── AnalysisError                     an analysis that cannot give a meaningful answer
    ├── SketchError                       a what-if sketch that cannot be evaluated
    └── MapAssetError                     an offline map needs a file gisrenew cannot inline
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AnalysisError",
    "CRSError",
    "EncodingError",
    "GeometryError",
    "GisrenewError",
    "GisrenewWarning",
    "InputError",
    "LockError",
    "MapAssetError",
    "MissingLayerError",
    "OutputError",
    "Problem",
    "ProjectError",
    "ReadError",
    "RuleSetError",
    "SchemaError",
    "SketchError",
    "ValidationError",
    "raise_for_problems",
]


class GisrenewError(Exception):
    """Base class of every error gisrenew raises on purpose."""


class InputError(GisrenewError, ValueError):
    """The user's input data cannot be used as it is."""


class MissingLayerError(InputError):
    """A layer the run needs was neither given nor found in the project."""

    def __init__(self, missing: Sequence[str]):
        self.missing = tuple(missing)
        flags = " ".join(f"--{k} FILE" for k in self.missing)
        super().__init__(
            f"missing input layer(s): {', '.join(self.missing)}. Give {flags}, or --project DIR "
            "for a project that has them."
        )


class CRSError(InputError):
    """A layer has no coordinate reference system, or one that cannot be used."""


class SchemaError(InputError):
    """Missing columns, duplicate ids or values of the wrong type."""


class GeometryError(InputError):
    """Geometry of the wrong type, or nothing usable left after repair."""


class EncodingError(InputError):
    """Text attributes that cannot be decoded with the chosen encoding."""


class ReadError(InputError):
    """A file or layer that does not exist or cannot be read."""


class RuleSetError(GisrenewError, ValueError):
    """An unknown rule set name or a malformed rule-set file."""


class ProjectError(GisrenewError):
    """A project folder that is missing, incomplete or inconsistent."""


class LockError(ProjectError):
    """Another gisrenew run is changing the same project."""


class OutputError(GisrenewError):
    """An output file that cannot be written, or that would replace an input or the project."""


class AnalysisError(GisrenewError):
    """An analysis that cannot produce a meaningful result (e.g. nothing to divide by)."""


class SketchError(GisrenewError):
    """A what-if sketch (parks drawn, removed or picked) that cannot be evaluated as sent."""


class MapAssetError(GisrenewError):
    """A web map needs a JS/CSS file that gisrenew cannot provide locally (offline pages)."""


class GisrenewWarning(UserWarning):
    """A recoverable data problem that gisrenew repaired or worked around."""


Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input layer.

    Attributes
    ----------
    severity : {"error", "warning", "info"}
        ``error`` stops the run, ``warning`` was repaired or worked around and is
        reported, ``info`` is a notice (e.g. ids generated from row order).
    message : str
        What is wrong, in words for a planner.
    source : str
        The file (or project) the layer came from.
    layer : str
        The layer name inside the file, or the gisrenew layer kind.
    rows : tuple
        The first offending rows, numbered from 1 in file order.
    column : str or None
        The offending column, if any.
    fix : str
        How to fix it.
    category : str
        ``crs``, ``schema``, ``geometry``, ``encoding`` or ``read``: which
        :class:`InputError` subclass an error of this kind raises.
    """

    severity: Severity
    message: str
    source: str = ""
    layer: str = ""
    rows: tuple = field(default_factory=tuple)
    column: str | None = None
    fix: str = ""
    category: str = ""

    def __str__(self) -> str:
        return self.text()

    def text(self, *, severity: bool = True) -> str:
        """The problem as text: ``WARNING: file [layer] column rows: message`` and the fix.

        ``severity=False`` leaves out the ``WARNING:`` / ``ERROR:`` prefix, for a
        caller that says it already (a log line, an exception).
        """
        where = self.source or "<data>"
        if self.layer:
            where += f" [layer {self.layer}]"
        if self.column:
            where += f" column {self.column!r}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = "" if len(self.rows) <= 10 else ", ..."
            where += f" rows {shown}{more}"
        text = f"{where}: {self.message}"
        if severity:
            text = f"{self.severity.upper()}: {text}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


def _problem_text(problems: list[Problem]) -> str:
    errors = [p for p in problems if p.severity == "error"]
    if len(errors) == 1:
        return errors[0].text(severity=False)
    head = f"{len(errors)} problems in the input data:"
    return "\n".join([head, *(p.text(severity=False) for p in errors)])


class ValidationError(InputError):
    """One or more error-level problems found while validating input.

    Parameters
    ----------
    problems : list of Problem
        Every problem found, errors and warnings alike.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(_problem_text(self.problems))


_CATEGORY_CLASSES: dict[str, type[InputError]] = {
    "crs": CRSError,
    "schema": SchemaError,
    "geometry": GeometryError,
    "encoding": EncodingError,
    "read": ReadError,
}


def raise_for_problems(problems: list[Problem]) -> None:
    """Raise when `problems` holds errors; do nothing otherwise.

    When every error is of one category the matching class is raised (e.g.
    :class:`CRSError`), else :class:`ValidationError`. Either way the exception has
    a ``problems`` attribute with everything found, warnings included.
    """
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return
    categories = {p.category for p in errors}
    cls = _CATEGORY_CLASSES.get(categories.pop()) if len(categories) == 1 else None
    if cls is None:
        raise ValidationError(problems)
    exc = cls(_problem_text(problems))
    exc.problems = list(problems)  # type: ignore[attr-defined]
    raise exc
