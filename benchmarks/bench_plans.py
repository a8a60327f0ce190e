"""Benchmark: `gisrenew.plans.affected_parcels` next to a plain `geopandas.overlay`.

Synthetic city: a jittered grid of ~200 000 parcels (about 40 m × 40 m, sharing their
vertices, so no gaps or overlaps) and 500 rotated rectangular plans of 150–600 m,
some overlapping each other. Both methods run in the same process on the same data;
the script checks they find the same total overlap area and prints the ratio last.

Run::

    .venv/bin/python benchmarks/bench_plans.py [--parcels 200000] [--plans 500]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely

from gisrenew.io import conform
from gisrenew.plans import affected_parcels

CRS = "EPSG:4549"
X0, Y0 = 580_000.0, 3_460_000.0


def synthetic_parcels(n: int, rng: np.random.Generator, cell: float = 40.0) -> gpd.GeoDataFrame:
    side = int(np.ceil(np.sqrt(n)))
    xs, ys = np.meshgrid(np.arange(side + 1) * cell, np.arange(side + 1) * cell)
    xs = xs + rng.uniform(-0.3, 0.3, xs.shape) * cell
    ys = ys + rng.uniform(-0.3, 0.3, ys.shape) * cell
    i, j = np.meshgrid(np.arange(side), np.arange(side))
    i, j = i.ravel()[:n], j.ravel()[:n]
    corners = [(j, i), (j, i + 1), (j + 1, i + 1), (j + 1, i), (j, i)]
    coords = np.stack([np.c_[X0 + xs[r, c], Y0 + ys[r, c]] for r, c in corners], axis=1)
    geoms = shapely.polygons(coords)
    households = rng.integers(0, 60, n)
    return gpd.GeoDataFrame(
        {
            "parcel_id": np.array([f"d{k}" for k in range(n)], dtype=object),
            "households_residential": households,
            "households_signed": (households * rng.uniform(0, 1, n)).astype(int),
        },
        geometry=geoms,
        crs=CRS,
    )


def synthetic_plans(n: int, extent: float, rng: np.random.Generator) -> gpd.GeoDataFrame:
    cx = X0 + rng.uniform(0.05, 0.95, n) * extent
    cy = Y0 + rng.uniform(0.05, 0.95, n) * extent
    half_w = rng.uniform(75, 300, n)
    half_h = rng.uniform(75, 300, n)
    angle = rng.uniform(0, np.pi, n)
    unit = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)], dtype=float)
    local_x = unit[None, :, 0] * half_w[:, None]
    local_y = unit[None, :, 1] * half_h[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    coords = np.stack(
        [cx[:, None] + cos * local_x - sin * local_y, cy[:, None] + sin * local_x + cos * local_y],
        axis=-1,
    )
    return gpd.GeoDataFrame(
        {"plan_id": np.array([f"P{k}" for k in range(n)], dtype=object)},
        geometry=shapely.polygons(coords),
        crs=CRS,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=200_000)
    parser.add_argument("--plans", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    parcels = synthetic_parcels(args.parcels, rng)
    extent = float(np.sqrt(args.parcels)) * 40.0
    plans = synthetic_plans(args.plans, extent, rng)
    print(f"{len(parcels):,} parcels, {len(plans):,} plans, extent {extent / 1000:.1f} km")

    start = time.perf_counter()
    pairs = affected_parcels(plans, parcels, min_overlap_m2=0.0, min_overlap_share=0.0)
    t_ours = time.perf_counter() - start
    print(
        f"affected_parcels (incl. validation): {t_ours:8.2f} s  "
        f"{len(pairs):,} pairs, {pairs['shared'].sum():,} in shared parcels"
    )

    plans_c, parcels_c = conform(plans, "plans"), conform(parcels, "parcels")
    start = time.perf_counter()
    affected_parcels(plans_c, parcels_c, min_overlap_m2=0.0, min_overlap_share=0.0)
    t_ready = time.perf_counter() - start
    print(
        f"affected_parcels (validated input):  {t_ready:8.2f} s  "
        "(layers as Project.read gives them)"
    )

    start = time.perf_counter()
    overlay = gpd.overlay(plans, parcels, how="intersection", keep_geom_type=True)
    t_overlay = time.perf_counter() - start
    overlay_area = overlay.area
    overlay = overlay[overlay_area > 0]
    print(f"geopandas.overlay (intersection):    {t_overlay:8.2f} s  {len(overlay):,} pieces")

    ours_total = float(pairs["overlap_m2"].sum())
    theirs_total = float(overlay.area.sum())
    print(
        f"total overlap: {ours_total:,.1f} m² vs {theirs_total:,.1f} m² "
        f"(relative difference {abs(ours_total - theirs_total) / theirs_total:.2e}); "
        f"pairs {len(pairs):,} vs {len(overlay):,}"
    )
    print(
        f"ratio overlay / affected_parcels: {t_overlay / t_ours:.1f}x "
        f"(raw input, incl. validation), {t_overlay / t_ready:.1f}x (validated input)"
    )


if __name__ == "__main__":
    main()
