"""Small helpers shared by the coverage tables: areas in m², ha and 亩, text ids, city figures."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from gisrenew.units import M2_PER_HA, M2_PER_MU, m2_to_ha, m2_to_mu

__all__ = ["area_columns", "coverage_figures", "float_column", "take_text"]


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


def coverage_figures(
    covered: float, total: float, weight_covered: float = math.nan, weight_total: float = math.nan
) -> dict[str, Any]:
    """City figures as a JSON-ready dict: ratio, covered and residential area in m², ha, 亩.

    Examples
    --------
    >>> coverage_figures(2500.0, 10000.0)["coverage_ratio"]
    0.25
    """
    ratio = covered / total if total > 0 else math.nan
    out = {
        "coverage_ratio": ratio,
        "covered_area_m2": covered,
        "covered_area_ha": float(m2_to_ha(covered)),
        "covered_area_mu": float(m2_to_mu(covered)),
        "residential_area_m2": total,
        "residential_area_ha": float(m2_to_ha(total)),
        "residential_area_mu": float(m2_to_mu(total)),
    }
    if not math.isnan(weight_total):
        out["weight_covered"] = weight_covered
        out["weight_total"] = weight_total
        out["weighted_ratio"] = weight_covered / weight_total if weight_total > 0 else math.nan
    return out
