"""Life circles 社区生活圈 on the synthetic city: 8 facility types, both methods, park walk too.

The city of :mod:`_city` (100 000 residential parcels by default, its districts, boundary,
parks and street grid) plus 2 000 seeded facilities of 8 types (幼儿园, 小学, 初中,
社区卫生服务站, 老年人日间照料中心, 菜市场, 多功能运动场地, 文化活动站): 60 % points, 40 %
40 × 40 m sites, at random places; a rule set of three circles (300 / 500 / 1000 m).

Timed, after the layers are conformed (as a project load does), in one run:

* walk graph        :func:`gisrenew.network.walk_graph_from_roads` (shared below)
* park walk         :func:`gisrenew.network.network_coverage` with ``service_areas="none"``
                    (what ``gisrenew coverage --method network`` runs)
* straight line     :func:`gisrenew.lifecircles.life_circles`, ``method="buffer"``
* walk              :func:`gisrenew.lifecircles.life_circles`, ``method="network"``

and the ratio walk / park walk (the issue's target: within 2×).

Run: .venv/bin/python benchmarks/bench_lifecircles.py [--parcels 100000] [--facilities 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _city import city_layers

from gisrenew.io import load_frame
from gisrenew.lifecircles import life_circles, parse_life_circle_rules
from gisrenew.network import network_coverage, walk_graph_from_roads

SEED = 1817
TYPES = [
    ("kindergarten", "幼儿园", 5, 300),
    ("primary_school", "小学", 10, 500),
    ("middle_school", "初中", 15, 1000),
    ("health_station", "社区卫生服务站", 10, 500),
    ("elderly_day_care", "老年人日间照料中心", 10, 500),
    ("market", "菜市场", 5, 300),
    ("sports_field", "多功能运动场地", 15, 1000),
    ("culture_station", "文化活动站", 5, 300),
]


def rules():
    text = ['name = "bench"', 'version = "1"']
    for minutes, distance in ((5, 300), (10, 500), (15, 1000)):
        text += ["[[circles]]", f"minutes = {minutes}", f"distance_m = {distance}"]
    for key, label, minutes, radius in TYPES:
        text += ["[[facilities]]", f'type = "{key}"', f'label_zh = "{label}"']
        text += [f"circle = {minutes}", f"radius_m = {radius}"]
    return parse_life_circle_rules(tomllib.loads("\n".join(text)), origin="bench")


def facilities(boundary, n: int, crs) -> gpd.GeoDataFrame:
    """`n` seeded facilities of the 8 types inside the bounds of the built-up area."""
    rng = np.random.default_rng(SEED)
    x0, y0, x1, y1 = boundary.total_bounds
    x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    sites = rng.random(n) < 0.4
    geoms = np.where(sites, shapely.box(x - 20, y - 20, x + 20, y + 20), shapely.points(x, y))
    kinds = np.array([label for _, label, _, _ in TYPES], dtype=object)[np.arange(n) % len(TYPES)]
    return gpd.GeoDataFrame(
        {"facility_id": [f"F{i:05d}" for i in range(n)], "设施类型": kinds},
        geometry=geoms,
        crs=crs,
    )


def timed(label: str, func):
    """Run `func`; print wall time and the process's CPU time (all threads; on a shared,
    loaded machine the CPU time moves less than the wall time)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = func()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:8.2f} s  (CPU {time.process_time() - cpu:6.2f} s)", flush=True)
    return value, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--facilities", type=int, default=2_000)
    args = parser.parse_args()
    raw = city_layers(args.parcels)
    layers = {k: load_frame(raw[k], k)[0] for k in ("parks", "residential", "boundary",
                                                     "districts", "roads")}  # fmt: skip
    fac = load_frame(facilities(layers["boundary"], args.facilities, layers["roads"].crs),
                     "facilities")[0]  # fmt: skip
    circle_rules = rules()
    common = {
        "boundary": layers["boundary"],
        "districts": layers["districts"],
        "weight": "households",
    }
    print(f"{args.parcels} parcels, {len(fac)} facilities of {len(TYPES)} types")
    graph, _ = timed("walk graph", lambda: walk_graph_from_roads(layers["roads"]))
    park, park_s = timed(
        "park walk (no polygons)",
        lambda: network_coverage(
            layers["parks"], layers["residential"], graph, service_areas="none", **common
        ),
    )
    straight, straight_s = timed(
        "life circles, straight line",
        lambda: life_circles(layers["residential"], fac, rules=circle_rules, **common),
    )
    walk, walk_s = timed(
        "life circles, walk",
        lambda: life_circles(
            layers["residential"], fac, rules=circle_rules, method="network", roads=graph, **common
        ),
    )
    print(f"park walk coverage {park.ratio:.4f}")
    for name, result in (("straight line", straight), ("walk", walk)):
        shares = ", ".join(f"{m} min {result.complete_share(m):.3f}" for m in (5, 10, 15))
        print(f"complete life circle ({name}): {shares}")
    print(f"walk / park walk: {walk_s / park_s:.2f}×; straight line {straight_s:.2f} s")


if __name__ == "__main__":
    main()
