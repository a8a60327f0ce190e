"""Web-map page size and build time for a city-sized coverage map, with and without simplification.

A synthetic city of N residential parcels (default 30 000) digitised the way CAD
parcels often are: rounded corners with dense vertices and ~0.2 m of digitising
jitter (~38 vertices per parcel, ~1.1 M vertices in all), plus N/100 parks. The
coverage map is built and rendered twice: without simplification and with the
default ~1 m tolerance. Printed: vertices drawn, page size (MB), build + render
time, and the size ratio. The residential layer is drawn on a canvas and starts
hidden when above the vertex threshold.

Run: .venv/bin/python benchmarks/bench_webmap.py [--parcels 30000]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely

from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.webmap import MapOptions, coverage_map, map_html

CRS = "EPSG:4549"
X0, Y0 = 600_000.0, 3_480_000.0


def city(n_parcels: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_parcels)))
    i = np.arange(n_parcels)
    x = X0 + (i % side) * 60.0
    y = Y0 + (i // side) * 60.0
    squares = shapely.box(x, y, x + 40.0, y + 40.0)
    rounded = shapely.buffer(shapely.buffer(squares, -4.0), 4.0, quad_segs=8)

    def jitter(coords):
        # a deterministic function of the vertex, so closing vertices stay equal to the first
        phase = np.sin(coords[:, :1] * 12.9898 + coords[:, 1:] * 78.233) * 43758.5453
        noise = np.column_stack([np.sin(phase[:, 0]), np.cos(phase[:, 0] * 1.7)])
        return coords + 0.2 * noise

    parcels = shapely.make_valid(shapely.transform(rounded, jitter))
    residential = gpd.GeoDataFrame(
        {
            "residential_id": [f"r{k}" for k in i],
            "households": rng.integers(10, 200, n_parcels).astype(float),
        },
        geometry=parcels,
        crs=CRS,
    )
    n_parks = max(1, n_parcels // 100)
    px = X0 + rng.uniform(0, side * 60.0, n_parks)
    py = Y0 + rng.uniform(0, side * 60.0, n_parks)
    size = rng.choice([30.0, 60.0, 120.0], n_parks)
    parks = gpd.GeoDataFrame(
        {"park_id": [f"p{k}" for k in range(n_parks)], "park_class": "G12"},
        geometry=shapely.box(px, py, px + size, py + size),
        crs=CRS,
    )
    return parks, residential


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=30_000)
    args = parser.parse_args()
    parks, residential = city(args.parcels)
    vertices = int(shapely.get_num_coordinates(residential.geometry.array).sum())
    print(f"parcels {len(residential):,}, parks {len(parks):,}, residential vertices {vertices:,}")
    # the maps draw what the orchestrator computed (the layers as every command reads them)
    inputs = gather_inputs(None, {"parks": parks, "residential": residential})
    result = compute_indicators(inputs, methods=("buffer",)).buffer
    parks = inputs.layer("parks")
    sizes = {}
    for label, tolerance in (("raw", 0.0), ("simplified 1 m", 1.0)):
        start = time.perf_counter()
        m = coverage_map(result, parks, basemap="none", options=MapOptions(simplify_m=tolerance))
        page = map_html(m)
        elapsed = time.perf_counter() - start
        drawn = sum(info["vertices"] for info in m.gisrenew_layers.values())
        res = m.gisrenew_layers["residential"]
        sizes[label] = len(page.encode("utf-8"))
        print(
            f"{label:15s} vertices {drawn:>10,}  page {sizes[label] / 1e6:6.1f} MB  "
            f"build+render {elapsed:5.1f} s  "
            f"residential: canvas={res['canvas']} shown={res['show']}"
        )
    print(f"size ratio raw / simplified: {sizes['raw'] / sizes['simplified 1 m']:.1f}x")


if __name__ == "__main__":
    main()
