"""Small column helpers shared by the coverage tables (areas in m², ha and 亩; text ids)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gisrenew.units import M2_PER_HA, M2_PER_MU

__all__ = ["area_columns", "float_column", "take_text"]


def area_columns(prefix: str, values) -> dict[str, np.ndarray]:
    """``{prefix}_m2``, ``{prefix}_ha`` and ``{prefix}_mu`` (亩) columns from areas in m².

    Examples
    --------
    >>> {k: v.tolist() for k, v in area_columns("covered", [10000.0]).items()}
    {'covered_m2': [10000.0], 'covered_ha': [1.0], 'covered_mu': [15.0]}
    """
    values = np.asarray(values, dtype=float)
    return {
        f"{prefix}_m2": values,
        f"{prefix}_ha": values / M2_PER_HA,
        f"{prefix}_mu": values / M2_PER_MU,
    }


def take_text(column: pd.Series, idx: np.ndarray):
    """``column.to_numpy(dtype=object)[idx]`` for a new frame; a str column stays str (faster)."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.array.take(idx)
    return column.to_numpy(dtype=object)[idx]


def float_column(frame: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    """A numeric column as floats, or `default` everywhere when the frame lacks it."""
    if name in frame.columns:
        return frame[name].to_numpy(dtype=float)
    return np.full(len(frame), default)
