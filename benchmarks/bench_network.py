"""Walking-network coverage of a synthetic city: stage times, networkx and pgRouting.

The city: a square street grid at 100 m spacing — rows drawn as polylines with a vertex
at every junction, columns as straight two-point lines (so every crossing has to be
noded) — about 200 000 street segments at the default size; a river band across the
middle that cuts every column (a barrier) except bridges (level 1) every 2 km; one
70 × 70 m residential parcel per block (~100 000) and ~1 % of blocks parks of three
sizes (tier 500 m, tier 300 m, too small under tijian-2021); 4 districts.

Stages timed (the layers are validated first, as a project load does):

* graph build        :func:`gisrenew.network.walk_graph_from_roads` (with the barrier)
* access points      :func:`gisrenew.network.park_access` (frontages, edge splitting)
* residential land   :func:`gisrenew.coverage.residential_land` (shared with the buffer method)
* snapping           representative points + :func:`gisrenew.network.snap_to_access_graph`
* distances          both Dijkstra passes (nearest park; tiers with handicaps) + per parcel
* polygons           each park's own walking service area (:func:`park_service_areas`)
* total              :func:`gisrenew.network.network_coverage` end to end

* total, no polygons  ``network_coverage(service_areas="none")``: what
                     ``gisrenew coverage --method network`` runs (it draws no map)

Then the tier pass alone next to networkx's ``multi_source_dijkstra`` on the same graph
and sources (a virtual source carries the handicaps), and the zero-handicap pass within
the largest limit next to pgRouting's ``pgr_drivingDistance`` (``equicost => false`` plus
a per-node minimum; when a PostgreSQL with pgRouting can be started, tests/postgis.py)
and pandana's contraction hierarchies (``Network`` + ``set_pois`` + ``nearest_pois``,
when pandana is installed: ``pip install pandana``; not a gisrenew dependency). The
peers must agree with scipy: 1e-6 m, pandana 1 cm (it sums lengths in single
precision). pandana's preprocessing (building the contraction hierarchy) is timed and
printed apart from its query; it runs in a child process stopped after
``--pandana-timeout`` seconds, and when it does not finish on this graph the comparison
is made on a smaller grid (``--pandana-side``), which the output says.
Ratios are printed last.

Run: .venv/bin/python benchmarks/bench_network.py [--side 317] [--no-pgrouting] [--no-pandana]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import multiprocessing as mp
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from gisrenew import coverage
from gisrenew.io import conform
from gisrenew.network import (
    network_coverage,
    park_access,
    park_service_areas,
    snap_to_access_graph,
    walk_from_points,
    walk_graph_from_roads,
    walk_reach,
)
from gisrenew.rules import get_rules

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0
STEP = 100.0
#: pandana's contraction hierarchy sums edge lengths in single precision (float32): its
#: walks of a few hundred metres are off by up to about a millimetre.
PANDANA_TOLERANCE_M = 1e-2


def city(side: int, seed: int = 0):
    """Streets, river barrier, parcels, parks and districts of a `side` × `side` node grid."""
    rng = np.random.default_rng(seed)
    n_blocks = side - 1
    extent = n_blocks * STEP
    river_row = n_blocks // 2  # the blocks between rows river_row and river_row + 1
    river_lo, river_hi = river_row * STEP + 30.0, river_row * STEP + 70.0
    xs = X0 + np.arange(side) * STEP
    ys = Y0 + np.arange(side) * STEP
    lines, levels = [], []
    for y in ys:  # rows: a vertex at every junction
        lines.append(shapely.linestrings(np.column_stack([xs, np.full(side, y)])))
        levels.append(0)
    for i, x in enumerate(xs):  # columns: straight lines, noded at every crossing
        if i % 20 == 10:  # a bridge: ground / level 1 over the river / ground
            lo, hi = Y0 + river_lo - 10.0, Y0 + river_hi + 10.0
            for a, b, level in ((Y0, lo, 0), (lo, hi, 1), (hi, Y0 + extent, 0)):
                lines.append(shapely.LineString([(x, a), (x, b)]))
                levels.append(level)
        else:
            lines.append(shapely.LineString([(x, Y0), (x, Y0 + extent)]))
            levels.append(0)
    roads = gpd.GeoDataFrame(
        {"road_id": [f"s{i}" for i in range(len(lines))], "level": levels}, geometry=lines, crs=CRS
    )
    river = gpd.GeoDataFrame(
        geometry=[shapely.box(X0 - 50, Y0 + river_lo, X0 + extent + 50, Y0 + river_hi)], crs=CRS
    )

    bi, bj = np.meshgrid(np.arange(n_blocks), np.arange(n_blocks), indexing="ij")
    bi, bj = bi.ravel(), bj.ravel()
    land = bj != river_row
    bi, bj = bi[land], bj[land]
    is_park = rng.random(len(bi)) < 0.01
    bx, by = X0 + bi * STEP, Y0 + bj * STEP
    residential = gpd.GeoDataFrame(
        {
            "residential_id": [f"r{k}" for k in range(int((~is_park).sum()))],
            "households": rng.integers(5, 80, int((~is_park).sum())).astype(float),
        },
        geometry=shapely.box(
            bx[~is_park] + 15, by[~is_park] + 15, bx[~is_park] + 85, by[~is_park] + 85
        ),
        crs=CRS,
    )
    size = rng.choice(
        [80.0, 56.0, 38.0], int(is_park.sum()), p=[0.4, 0.4, 0.2]
    )  # 6400/3136/1444 m²
    inset = (STEP - size) / 2
    px, py = bx[is_park] + inset, by[is_park] + inset
    parks = gpd.GeoDataFrame(
        {"park_id": [f"p{k}" for k in range(int(is_park.sum()))]},
        geometry=shapely.box(px, py, px + size, py + size),
        crs=CRS,
    )
    half = extent / 2
    districts = gpd.GeoDataFrame(
        {"district_id": ["sw", "se", "nw", "ne"], "name": ["西南", "东南", "西北", "东北"]},
        geometry=[
            shapely.box(X0 + i * half, Y0 + j * half, X0 + (i + 1) * half, Y0 + (j + 1) * half)
            for j in (0, 1)
            for i in (0, 1)
        ],
        crs=CRS,
    )
    return roads, river, residential, parks, districts


def timed(label, func, times, *args, **kwargs):
    start = time.perf_counter()
    value = func(*args, **kwargs)
    times[label] = time.perf_counter() - start
    print(f"  {label:<34} {times[label]:8.3f} s", flush=True)
    return value


def networkx_tier_pass(access, handicap, limit, times):
    """networkx multi-source Dijkstra with the same handicapped starts; distances per node."""
    g = access.graph
    start = time.perf_counter()
    graph = nx.Graph()
    graph.add_weighted_edges_from(
        zip(g.edge_u.tolist(), g.edge_v.tolist(), g.edge_length.tolist(), strict=True)
    )
    offsets = access.source_offset + handicap[access.source_park]
    keep = np.isfinite(offsets) & (offsets <= limit)
    sources = []
    for k, (node, offset) in enumerate(
        zip(access.source_node[keep].tolist(), offsets[keep].tolist(), strict=True)
    ):
        if offset > 0:  # a virtual start node carries the handicap, as in gisrenew
            graph.add_edge(("start", k), node, weight=offset)
            sources.append(("start", k))
        else:
            sources.append(node)
    times["networkx graph build"] = time.perf_counter() - start
    start = time.perf_counter()
    lengths = nx.multi_source_dijkstra_path_length(graph, set(sources), cutoff=limit)
    times["networkx multi-source Dijkstra"] = time.perf_counter() - start
    dist = np.full(g.n_nodes, np.inf)
    nodes = [n for n in lengths if not isinstance(n, tuple)]
    dist[nodes] = [lengths[n] for n in nodes]
    return dist


def pgrouting_pass(access, limit, times):
    """pgr_drivingDistance from every zero-offset start within `limit`; None if unavailable."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    try:
        from postgis import PostgisCluster
    except ImportError:
        print("  pgRouting: tests/postgis.py not found, skipped")
        return None
    g = access.graph
    starts = np.unique(access.source_node[access.source_offset <= 0])
    try:
        cluster = PostgisCluster(extensions=("postgis", "pgrouting")).start()
    except Exception as exc:  # any failure (PostgisUnavailable, no pgRouting, ...): skip it
        print(f"  pgRouting: unavailable ({exc}), skipped")
        return None
    try:
        with cluster.connect() as conn:
            conn.execute(
                "CREATE UNLOGGED TABLE edges (id bigint, source bigint, target bigint, "
                "cost float8, reverse_cost float8)"
            )
            buf = io.StringIO()
            for k, (u, v, w) in enumerate(
                zip(g.edge_u.tolist(), g.edge_v.tolist(), g.edge_length.tolist(), strict=True)
            ):
                buf.write(f"{k}\t{u}\t{v}\t{w!r}\t{w!r}\n")
            with conn.cursor() as cur, cur.copy("COPY edges FROM STDIN") as copy:
                copy.write(buf.getvalue())
            conn.execute("ANALYZE edges")
            start = time.perf_counter()
            rows = conn.execute(
                "SELECT node, min(agg_cost) FROM pgr_drivingDistance("
                "'SELECT id, source, target, cost, reverse_cost FROM edges', %s::bigint[], %s, "
                "directed => false, equicost => false) GROUP BY node",
                (starts.tolist(), float(limit)),
            ).fetchall()
            times["pgRouting pgr_drivingDistance"] = time.perf_counter() - start
    finally:
        cluster.stop()
    dist = np.full(g.n_nodes, np.inf)
    if rows:
        nodes, costs = zip(*rows, strict=True)
        dist[np.asarray(nodes, dtype=np.int64)] = np.asarray(costs, dtype=float)
    return dist


def _pandana_child(conn, node_xy, edge_u, edge_v, edge_length, starts, limit) -> None:
    """In a child process: pandana's CH build, POIs and query; send times and distances."""
    import pandana  # optional peer, only in the child (its CH build may have to be stopped)
    import pandas as pd

    start = time.perf_counter()
    net = pandana.Network(
        pd.Series(node_xy[:, 0]), pd.Series(node_xy[:, 1]), pd.Series(edge_u),
        pd.Series(edge_v), pd.DataFrame({"length": edge_length}), twoway=True,
    )  # fmt: skip
    build = time.perf_counter() - start
    start = time.perf_counter()
    net.set_pois("parks", limit, 1, pd.Series(node_xy[starts, 0]), pd.Series(node_xy[starts, 1]))
    pois = time.perf_counter() - start
    start = time.perf_counter()
    found = net.nearest_pois(limit, "parks", num_pois=1)
    query = time.perf_counter() - start
    dist = np.full(len(node_xy), np.inf)
    values = found[1].to_numpy(dtype=float)
    dist[found.index.to_numpy(dtype=np.int64)] = np.where(values < limit, values, np.inf)
    conn.send({"build": build, "pois": pois, "query": query, "dist": dist})


def pandana_pass(access, limit, times, timeout_s):
    """pandana ``nearest_pois`` from the zero-offset starts within `limit` (child process).

    Returns the distances per node, or None when pandana is missing or its contraction
    hierarchy was not built within `timeout_s` seconds.
    """
    if importlib.util.find_spec("pandana") is None:
        print("  pandana: not installed (pip install pandana), skipped")
        return None
    g = access.graph
    starts = np.unique(access.source_node[access.source_offset <= 0])  # as for pgRouting
    here, there = mp.get_context("fork").Pipe(duplex=False)
    child = mp.get_context("fork").Process(
        target=_pandana_child,
        args=(there, g.node_xy, g.edge_u, g.edge_v, g.edge_length, starts, float(limit)),
    )
    start = time.perf_counter()
    child.start()
    ready = here.poll(timeout_s)
    result = here.recv() if ready else None
    child.join(5) if ready else child.terminate()
    if result is None:
        print(
            f"  pandana: the contraction hierarchy of {g.n_edges:,} edges was not built within "
            f"{timeout_s:g} s ({time.perf_counter() - start:.0f} s waited; stopped)"
        )
        return None
    times["pandana preprocessing (CH build)"] = result["build"]
    times["pandana set_pois"] = result["pois"]
    times["pandana nearest_pois"] = result["query"]
    return result["dist"]


def check_equal(label, ours, theirs, tolerance_m=1e-6):
    both = np.isfinite(ours) | np.isfinite(theirs)
    same_reach = np.array_equal(np.isfinite(ours), np.isfinite(theirs))
    diff = np.max(np.abs(ours[both] - theirs[both])) if same_reach and both.any() else np.inf
    status = "OK" if same_reach and diff <= tolerance_m else "MISMATCH"
    print(
        f"  {label}: {int(both.sum())} reached nodes, max |Δ| = {diff:.2e} m "
        f"(tolerance {tolerance_m:g} m)  {status}"
    )
    return status == "OK"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--side", type=int, default=317, help="grid nodes per side (317: ~200k segments)"
    )
    parser.add_argument("--no-pgrouting", action="store_true", help="skip the pgRouting comparison")
    parser.add_argument("--no-pandana", action="store_true", help="skip the pandana comparison")
    parser.add_argument(
        "--pandana-timeout", type=float, default=300.0, metavar="S",
        help="stop pandana's contraction-hierarchy build after S seconds",
    )  # fmt: skip
    parser.add_argument(
        "--pandana-side", type=int, default=41,
        help="grid for pandana when its build does not finish on the main one",
    )  # fmt: skip
    args = parser.parse_args(argv)

    print(f"building the synthetic city ({args.side} × {args.side} junctions) ...", flush=True)
    roads, river, residential, parks, districts = city(args.side)
    roads = conform(roads, "roads")
    residential = conform(residential, "residential")
    parks = conform(parks, "parks")
    districts = conform(districts, "districts")
    n_segments = int(shapely.get_num_coordinates(roads.geometry.to_numpy()).sum() - len(roads))
    print(
        f"  {len(roads)} road lines ({n_segments} segments as drawn; "
        f"{2 * args.side * (args.side - 1)} street segments between junctions), "
        f"{len(residential)} residential parcels, {len(parks)} parks"
    )
    rules = get_rules("tijian-2021")

    print("stages:", flush=True)
    times: dict[str, float] = {}
    graph = timed("graph build", walk_graph_from_roads, times, roads, barriers=river)
    print(f"    {graph}")
    table = coverage.park_table(parks, rules)
    qualifies = table["qualifies"].to_numpy(dtype=bool)
    limits = np.where(qualifies, table["radius_m"].to_numpy(dtype=float), np.nan)
    access = timed("access points", park_access, times, graph, parks, qualifies=qualifies)
    land = timed(
        "residential land (shared)",
        coverage.residential_land,
        times,
        residential,
        districts=districts,
        weight="households",
        rules=rules,
    )

    def snapping():
        points = shapely.point_on_surface(land.geometry.to_numpy())
        return snap_to_access_graph(access, points, connector_limit_m=200.0)

    snap = timed("per-parcel snapping", snapping, times)
    serving = qualifies & np.isin(np.arange(len(parks)), access.source_park)
    max_limit = float(np.nanmax(limits[serving]))
    handicap = np.where(serving, max_limit - np.nan_to_num(limits), np.inf)

    def distances():
        nearest = walk_reach(access, park_offset=np.where(serving, 0.0, np.inf))
        walk_from_points(access, snap, nearest)
        tiers = walk_reach(access, park_offset=handicap, limit=max_limit)
        return tiers, walk_from_points(access, snap, tiers)

    _, (tier_dist, _) = timed("distances (2 passes + parcels)", distances, times)
    timed("polygons (each park's own area)", park_service_areas, times, access, limits)
    result = timed(
        "total network_coverage()",
        network_coverage,
        times,
        parks,
        residential,
        roads,
        rules=rules,
        districts=districts,
        weight="households",
        barriers=river,
    )
    bare = timed(
        "total, no polygons", network_coverage, times, parks, residential, roads, rules=rules,
        districts=districts, weight="households", barriers=river, service_areas="none",
    )  # fmt: skip
    assert bare.ratio == result.ratio
    print(
        f"    coverage {result.ratio:.4f} (network) — parcels covered "
        f"{int(result.residential['covered'].sum())}/{len(result.residential)}, "
        f"{result.parameters['unreachable_no_street']} without a street"
    )
    ok = np.array_equal(result.residential["covered"].to_numpy(), tier_dist <= max_limit + 1e-6)
    print(f"    stage-by-stage and end-to-end agree: {'OK' if ok else 'MISMATCH'}")

    print("one tier pass, scipy vs networkx:", flush=True)
    scipy_times: dict[str, float] = {}
    tiers_again = timed(
        "scipy dijkstra (tier pass)",
        walk_reach,
        scipy_times,
        access,
        park_offset=handicap,
        limit=max_limit,
    )
    nx_dist = networkx_tier_pass(access, handicap, max_limit, times)
    print(f"  {'networkx graph build':<34} {times['networkx graph build']:8.3f} s")
    print(
        f"  {'networkx multi-source Dijkstra':<34} {times['networkx multi-source Dijkstra']:8.3f} s"
    )
    ok &= check_equal("scipy vs networkx", tiers_again.node_dist, nx_dist)

    plain_pass = {"park_offset": np.where(serving, 0.0, np.inf), "limit": max_limit}
    print("zero-handicap pass within the largest limit, scipy vs pgRouting and pandana:")
    plain = timed("scipy dijkstra (plain pass)", walk_reach, scipy_times, access, **plain_pass)
    ok &= zero_handicap_peers(args, access, plain, max_limit, times)
    print_ratios(times, scipy_times)
    return 0 if ok else 1


def zero_handicap_peers(args, access, plain, max_limit, times) -> bool:
    """pgRouting and pandana on the zero-handicap pass; False when one disagrees with scipy."""
    ok = True
    if not args.no_pgrouting:
        pg_dist = pgrouting_pass(access, max_limit, times)
        if pg_dist is not None:
            label = "pgRouting pgr_drivingDistance"
            print(f"  {label:<34} {times[label]:8.3f} s")
            # pgRouting only starts from nodes: compare the entrance-free starts
            ok &= check_equal("scipy vs pgRouting", plain.node_dist, pg_dist)
    if args.no_pandana:
        return ok
    pd_dist = pandana_pass(access, max_limit, times, args.pandana_timeout)
    if pd_dist is None and "pandana preprocessing (CH build)" not in times:
        if importlib.util.find_spec("pandana") is not None and args.pandana_side < args.side:
            return ok & pandana_on_smaller_city(args, times)
        return ok
    print_pandana(times)
    return ok & check_equal("scipy vs pandana", plain.node_dist, pd_dist, PANDANA_TOLERANCE_M)


def pandana_on_smaller_city(args, times) -> bool:
    """The scipy-vs-pandana comparison on a `--pandana-side` grid (same layout, smaller)."""
    side = args.pandana_side
    print(f"  pandana on a smaller grid instead ({side} × {side} junctions):", flush=True)
    roads, river, _, parks, _ = city(side)
    graph = walk_graph_from_roads(conform(roads, "roads"), barriers=river)
    table = coverage.park_table(conform(parks, "parks"), get_rules("tijian-2021"))
    qualifies = table["qualifies"].to_numpy(dtype=bool)
    access = park_access(graph, conform(parks, "parks"), qualifies=qualifies)
    limit = float(table["radius_m"].to_numpy(dtype=float)[qualifies].max())
    offset = np.where(qualifies, 0.0, np.inf)
    print(f"    {graph}")
    key = "scipy dijkstra (plain pass, pandana's grid)"
    plain = timed(key, walk_reach, times, access, park_offset=offset, limit=limit)
    pd_dist = pandana_pass(access, limit, times, args.pandana_timeout)
    if pd_dist is None:
        return True
    times["pandana grid"] = side
    print_pandana(times)
    return check_equal(
        "scipy vs pandana (smaller grid)", plain.node_dist, pd_dist, PANDANA_TOLERANCE_M
    )


def print_pandana(times) -> None:
    for key in ("pandana preprocessing (CH build)", "pandana set_pois", "pandana nearest_pois"):
        print(f"  {key:<34} {times[key]:8.3f} s")


def print_ratios(times, scipy_times) -> None:
    total = times["total network_coverage()"]
    print("ratios:")
    print(f"  whole network coverage, with each park's polygons: {total:.2f} s (target ≤ 3 s)")
    bare = times["total, no polygons"]
    print(
        f"  whole network coverage, no polygons (gisrenew coverage --method network): {bare:.2f} s"
    )
    ratio = times["networkx multi-source Dijkstra"] / scipy_times["scipy dijkstra (tier pass)"]
    print(f"  distances: networkx / scipy = {ratio:.1f}× (target ≥ 10×)")
    with_build = (
        times["networkx multi-source Dijkstra"] + times["networkx graph build"]
    ) / scipy_times["scipy dijkstra (tier pass)"]
    print(f"  distances incl. building the networkx graph: {with_build:.1f}×")
    plain = scipy_times["scipy dijkstra (plain pass)"]
    if "pgRouting pgr_drivingDistance" in times:
        pg_s = times["pgRouting pgr_drivingDistance"]
        print(f"  distances: pgRouting / scipy = {pg_s / plain:.1f}×")
    if "pandana nearest_pois" in times:
        if "pandana grid" in times:
            plain = times["scipy dijkstra (plain pass, pandana's grid)"]
            print(f"  (pandana on the {times['pandana grid']} × {times['pandana grid']} grid)")
        query = times["pandana nearest_pois"]
        print(
            f"  distances: pandana nearest_pois / scipy = {query / plain:.1f}× (query only; "
            f"its preprocessing took {times['pandana preprocessing (CH build)']:.1f} s more)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
