"""Incremental recompute vs full recompute after adding one pocket park.

A synthetic city of 100 000 residential parcels (40 × 40 m blocks on a 50 m grid)
and 1 000 parks of every tier (N/100). One new ~3000 m² pocket park (300 m tier
under tijian-2021) is added:

* full: :func:`gisrenew.coverage.compute_coverage` on all parks including the new one;
* incremental: :meth:`gisrenew.coverage.IncrementalCoverage.add_parks` on the state of
  the city before the change (seeded from a full result, as a project run would be).

The two results are checked for equality (1e-9 relative, city and districts), then
the times are printed; the last line is the speed-up (target ≥ 100×).

Run: .venv/bin/python benchmarks/bench_incremental.py [--parcels 100000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import geopandas as gpd
import numpy as np
import shapely

from gisrenew import coverage
from gisrenew.coverage import IncrementalCoverage
from gisrenew.io import conform
from gisrenew.rules import get_rules

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0


def city(n_parcels: int, seed: int = 0):
    """Parcels on a grid, parks of random size (tiers 500 m, 300 m, too small), 4 districts."""
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n_parcels))
    k = np.arange(n_parcels)
    x = X0 + (k % side) * 50.0
    y = Y0 + (k // side) * 50.0
    residential = gpd.GeoDataFrame(
        {
            "residential_id": [f"r{i}" for i in k],
            "households": rng.integers(5, 80, n_parcels).astype(float),
        },
        geometry=shapely.box(x, y, x + 40.0, y + 40.0),
        crs=CRS,
    )
    extent = side * 50.0
    n_parks = max(1, n_parcels // 100)
    px, py = rng.uniform(0, extent, n_parks), rng.uniform(0, extent, n_parks)
    ps = np.sqrt(rng.choice([1500.0, 3000.0, 8000.0, 20000.0], n_parks, p=[0.3, 0.4, 0.2, 0.1]))
    parks = gpd.GeoDataFrame(
        {"park_id": [f"p{i}" for i in range(n_parks)]},
        geometry=shapely.box(X0 + px, Y0 + py, X0 + px + ps, Y0 + py + ps),
        crs=CRS,
    )
    half = extent / 2
    districts = gpd.GeoDataFrame(
        {"district_id": ["sw", "se", "nw", "ne"], "name": ["西南", "东南", "西北", "东北"]},
        geometry=[
            shapely.box(
                X0 - 100 + i * half,
                Y0 - 100 + j * half,
                X0 + (i + 1) * half + 100 * i,
                Y0 + (j + 1) * half + 100 * j,
            )
            for j in (0, 1)
            for i in (0, 1)
        ],
        crs=CRS,
    )
    return residential, parks, districts, extent


def pocket_park(extent: float, rng) -> gpd.GeoDataFrame:
    """One ~3000 m² pocket park (55 × 55 m) at a random place, validated as a loaded layer is.

    Layers read with :func:`gisrenew.io.read_layer` (or from a project) arrive validated;
    the incremental timing starts from such a layer, as a recompute does.
    """
    cx, cy = rng.uniform(0.1 * extent, 0.9 * extent, 2)
    frame = gpd.GeoDataFrame(
        {"park_id": ["pocket"], "park_class": ["G14"]},
        geometry=[shapely.box(X0 + cx, Y0 + cy, X0 + cx + 55.0, Y0 + cy + 55.0)],
        crs=CRS,
    )
    return conform(frame, "parks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50, help="incremental additions to time")
    parser.add_argument("--full-repeat", type=int, default=3, help="full recomputes to time")
    args = parser.parse_args()
    rules = get_rules("tijian-2021")
    residential, parks, districts, extent = city(args.parcels)
    print(
        f"city: {len(residential):,} parcels, {len(parks):,} parks, "
        f"rule set {rules.name} v{rules.version}"
    )

    t0 = time.perf_counter()
    before = coverage.compute_coverage(parks, residential, rules=rules, districts=districts)
    print(
        f"full computation of the city before the change: {time.perf_counter() - t0:.3f} s "
        f"(ratio {before.ratio:.6f})"
    )
    engine = IncrementalCoverage.from_result(before)

    rng = np.random.default_rng(42)
    new = pocket_park(extent, rng)
    print(f"new pocket park: {float(shapely.area(new.geometry.array[0])):.0f} m²")

    # full recompute with the new park
    full_times = []
    for _ in range(args.full_repeat):
        t0 = time.perf_counter()
        after = coverage.compute_coverage(
            gpd.pd.concat([parks, new], ignore_index=True),
            residential,
            rules=rules,
            districts=districts,
        )
        full_times.append(time.perf_counter() - t0)

    # incremental: add the park (timed), check, remove it; then more random parks
    t0 = time.perf_counter()
    summary = engine.add_parks(new)
    first = time.perf_counter() - t0
    rel = abs(engine.covered_area_m2 - after.covered_area_m2) / after.covered_area_m2
    mine = engine.districts().set_index("district_id")["covered_area_m2"]
    theirs = after.districts.set_index("district_id")["covered_area_m2"]
    worst_district = float(
        np.max(
            np.abs(mine.loc[theirs.index].to_numpy() - theirs.to_numpy())
            / np.maximum(theirs.to_numpy(), 1.0)
        )
    )
    weight_rel = (
        abs(engine.weight_covered - after.weight_covered) / max(after.weight_covered, 1.0)
        if not math.isnan(after.weight_covered)
        else 0.0
    )
    equal = rel <= 1e-9 and worst_district <= 1e-9 and weight_rel <= 1e-9
    print(
        f"equality: city relative difference {rel:.2e}, worst district {worst_district:.2e} -> "
        f"{'identical (≤1e-9)' if equal else 'DIFFERENT'}"
    )
    print(
        f"ratio {before.ratio:.6f} -> {engine.ratio:.6f}; "
        f"{summary.affected_pieces} parcels recomputed"
    )
    engine.remove_parks(["pocket"])

    inc_times = [first]
    for _ in range(args.repeat - 1):
        park = pocket_park(extent, rng)
        t0 = time.perf_counter()
        engine.add_parks(park)
        inc_times.append(time.perf_counter() - t0)
        engine.remove_parks(["pocket"])

    full = statistics.median(full_times)
    inc = statistics.median(inc_times)
    print(f"full recompute: {full * 1000:.1f} ms (median of {len(full_times)})")
    print(
        f"incremental add_parks: {inc * 1000:.2f} ms (median of {len(inc_times)}; "
        f"min {min(inc_times) * 1000:.2f}, max {max(inc_times) * 1000:.2f})"
    )
    if not equal:
        raise SystemExit("incremental result differs from the full recompute")
    print(f"speed-up incremental vs full: {full / inc:.0f}x (target >= 100x)")


if __name__ == "__main__":
    main()
