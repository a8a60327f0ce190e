"""Turning results into JSON: the one place that knows how (numpy scalars, nan, dates).

Every ``to_dict`` and ``--json`` output goes through these helpers, so all of them
print the same way: numpy scalars become Python numbers, nan and ±inf become ``null``,
paths and dates become text, and Chinese text stays readable (``ensure_ascii=False``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["dumps", "finite_number", "json_default", "plain", "records"]


def plain(value: Any) -> Any:
    """`value` as a plain JSON value, recursively (numpy → Python, nan/inf → None)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def finite_number(value: Any) -> float | None:
    """`value` as a finite float, or None when it is missing, text, a boolean, nan or ±inf.

    For figures read back from JSON (the run history, a sheet) and shown in tables: a
    damaged or hand-edited value is "no figure", never an exception.

    >>> finite_number("0.81"), finite_number(0.81), finite_number(float("nan")), finite_number(True)
    (None, 0.81, None, None)
    """
    if value is None or isinstance(value, (str, bytes, bool)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def records(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[dict]:
    """Rows of `frame` (the `columns` present, by default all) as JSON-ready dicts."""
    frame = pd.DataFrame(frame)
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return [plain(row) for row in frame.to_dict(orient="records")]


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: numpy scalars, sets, paths and dates."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: Any, **kwargs) -> str:
    """``json.dumps`` of ``plain(value)`` with Chinese kept and the fallback above."""
    return json.dumps(plain(value), ensure_ascii=False, default=json_default, **kwargs)
