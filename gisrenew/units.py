"""Area units used in Chinese planning statistics.

1 亩 (mu) = 10000/15 m² ≈ 666.667 m²; 1 公顷 (hectare) = 10 000 m² = 15 亩;
1 万 m² = 10 000 m².
"""

from __future__ import annotations

import numpy as np

__all__ = ["M2_PER_HA", "M2_PER_MU", "area_columns", "m2_to_ha", "m2_to_mu", "mu_to_m2"]

M2_PER_MU = 10000.0 / 15.0
M2_PER_HA = 10000.0


def m2_to_mu(area_m2):
    """Convert square metres to 亩 (mu); scalars and arrays alike."""
    return np.asarray(area_m2, dtype=float) / M2_PER_MU if np.ndim(area_m2) else area_m2 / M2_PER_MU


def mu_to_m2(area_mu):
    """Convert 亩 (mu) to square metres."""
    return np.asarray(area_mu, dtype=float) * M2_PER_MU if np.ndim(area_mu) else area_mu * M2_PER_MU


def m2_to_ha(area_m2):
    """Convert square metres to hectares (公顷)."""
    return np.asarray(area_m2, dtype=float) / M2_PER_HA if np.ndim(area_m2) else area_m2 / M2_PER_HA


def area_columns(area_m2, prefix: str = "area") -> dict:
    """Return ``{prefix_m2, prefix_ha, prefix_mu}`` for an area in m² (scalar or array)."""
    return {
        f"{prefix}_m2": area_m2,
        f"{prefix}_ha": m2_to_ha(area_m2),
        f"{prefix}_mu": m2_to_mu(area_m2),
    }
