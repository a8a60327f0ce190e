"""Coverage benchmark: gisrenew vs a plain geopandas overlay vs PostGIS's best query.

Run (from the repository root)::

    python benchmarks/bench_coverage.py --sizes 10000,100000,400000

A seeded synthetic city of N residential parcels (blocks of 4 × 4 parcels of 45 m with
15 m streets, a fifth of the parcels shrunk a little) and N/100 parks of every class
(G11 综合公园 10–30 ha, G12 社区公园 1–3 ha, G13 专类公园 0.5–5 ha, G14 游园 400–6000 m²,
G3 plazas) with irregular outlines of 8–24 vertices; tijian-2021 rule (≥ 5000 m² → 500 m,
2000–5000 m² → 300 m, plazas do not count). The parcels do not overlap and are
axis-aligned, so gisrenew's overlap check (relate on neighbours whose envelopes overlap)
costs little here; irregular, tilted parcels add about 3–4 µs per such neighbour pair.
Times are compute only, best of a few runs:

* **gisrenew** — :func:`gisrenew.coverage.compute_coverage` on layers already loaded
  and validated (``conform``, timed separately as "load"): park table, service areas,
  residential land (overlaps counted once), per-piece coverage, blind-spot polygons and
  tables. Run in a fresh process per size, which also gives the peak memory (ru_maxrss
  of that process: the city, the layers and the computation). Reported with one thread
  and with the default (two threads from 20 000 residential polygons).
* **geopandas** — the plain approach: ``buffer`` → ``union_all`` → ``geopandas.overlay``
  → sum of areas, and the residential area (``residential.area.sum()``: the synthetic
  parcels do not overlap) for the ratio. Quadratic (every parcel meets one huge service
  polygon): many minutes at 400 000, so it runs up to ``--geopandas-max`` parcels
  (default 100 000).

Both timed calls start from the same layers in memory and end with the numerator and
the denominator of the ratio. gisrenew's call does more than that and all of it is
timed: the park table (tier and reason per park), a service-area GeoDataFrame, the
overlap check between residential polygons (first polygon keeps shared land), the
per-piece table, the blind-spot polygons (the uncovered land, with area and
households), the district table and the result object; the geopandas side produces
only the two areas. gisrenew's figure is the best of ``--repeats`` runs in its process
(the first run includes one-off warm-up); the geopandas overlay (tens of seconds at
100 000) runs once.
* **PostGIS** — a throwaway PostgreSQL 15 + PostGIS cluster (tests/postgis.py); the
  parcels are loaded with COPY and indexed (GiST) before timing; timed: service areas
  (``ST_Buffer(…, 'quad_segs=16')``, ``ST_Union``, ``ST_Subdivide``, GiST index) plus the
  covered-area query with the ``ST_Covers`` shortcut for whole parcels; several variants
  (subdivide size, join vs. EXISTS, parallel workers 0/2) — the best one counts.

Figures and ratios are printed last, so runs can be compared. Targets (issue 3): ≥ 100×
the plain geopandas overlay at 100 000; ≥ 1.5× faster than PostGIS's best at 100 000 and
400 000; identical results; peak memory < 2 GB at 400 000. The machine is shared, so
run it when it is otherwise idle.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240601
CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0
CELL, STREET = 45.0, 15.0


# --------------------------------------------------------------------------- the city


def synthetic_city(n_parcels: int, seed: int = SEED):
    """Parks and residential parcels of the synthetic city (GeoDataFrames in EPSG:4549)."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    per_side = int(np.ceil(np.sqrt(n_parcels)))
    i = np.arange(n_parcels)
    col, row = i % per_side, i // per_side
    x0 = X0 + col * CELL + (col // 4) * STREET
    y0 = Y0 + row * CELL + (row // 4) * STREET
    shrink = np.where(rng.random(n_parcels) < 0.2, rng.uniform(0, 4, n_parcels), 0.0)
    parcels = shapely.box(x0 + shrink, y0 + shrink, x0 + CELL - shrink, y0 + CELL - shrink)
    extent = per_side * CELL + (per_side // 4) * STREET
    n_parks = max(1, n_parcels // 100)
    classes = rng.choice(
        ["G11", "G12", "G13", "G14", "G3"], n_parks, p=[0.05, 0.25, 0.1, 0.45, 0.15]
    )
    low = np.select(
        [classes == "G11", classes == "G12", classes == "G13", classes == "G14"],
        [1e5, 1e4, 5e3, 400],
        1000,
    )
    high = np.select(
        [classes == "G11", classes == "G12", classes == "G13", classes == "G14"],
        [3e5, 3e4, 5e4, 6000],
        1e4,
    )
    area = rng.uniform(low, high)
    # irregular park outlines: star-shaped polygons of 8–24 vertices, elongated and rotated,
    # scaled to the drawn area
    k = 24
    n_vertices = rng.integers(8, k + 1, n_parks)
    step = 2 * np.pi / n_vertices[:, None]
    theta = np.arange(k)[None, :] * step + rng.uniform(-0.4, 0.4, (n_parks, k)) * step
    radius = 1.0 + 0.3 * rng.uniform(-1, 1, (n_parks, k))
    used = np.arange(k)[None, :] < n_vertices[:, None]
    theta = np.where(
        used, theta, theta[np.arange(n_parks), n_vertices - 1][:, None]
    )  # pad: repeat last
    radius = np.where(used, radius, radius[np.arange(n_parks), n_vertices - 1][:, None])
    stretch = rng.uniform(1.0, 2.0, n_parks)[:, None]
    angle = rng.uniform(0, np.pi, n_parks)[:, None]
    ux, uy = radius * np.cos(theta) * stretch, radius * np.sin(theta) / stretch
    px = ux * np.cos(angle) - uy * np.sin(angle)
    py = ux * np.sin(angle) + uy * np.cos(angle)
    unit_area = 0.5 * np.abs(
        np.sum(px * np.roll(py, -1, axis=1) - np.roll(px, -1, axis=1) * py, axis=1)
    )
    scale = np.sqrt(area / unit_area)[:, None]
    cx = X0 + rng.uniform(0, extent, n_parks)[:, None]
    cy = Y0 + rng.uniform(0, extent, n_parks)[:, None]
    ring = np.stack([cx + px * scale, cy + py * scale], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    parks = shapely.polygons(ring)  # star-shaped, so simple; padding repeats a vertex
    residential = gpd.GeoDataFrame(
        {
            "residential_id": np.arange(n_parcels).astype(str).astype(object),
            "land_use": np.full(n_parcels, "R21", dtype=object),
            "households": rng.integers(0, 200, n_parcels).astype(float),
        },
        geometry=parcels,
        crs=CRS,
    )
    park_frame = gpd.GeoDataFrame(
        {
            "park_id": np.char.add("P", np.arange(n_parks).astype(str)).astype(object),
            "park_class": classes,
        },
        geometry=parks,
        crs=CRS,
    )
    return park_frame, residential


def _tier_radius(area: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """tijian-2021 written out for the plain geopandas baseline (independent of gisrenew)."""
    radius = np.where(area >= 5000, 500.0, np.where(area >= 2000, 300.0, np.nan))
    return np.where(classes == "G3", np.nan, radius)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------- workers


def worker_gisrenew(n: int, repeats: int) -> dict:
    from gisrenew.coverage import compute_coverage
    from gisrenew.io import conform

    parks, residential = synthetic_city(n)
    start = time.perf_counter()
    residential = conform(residential, "residential")
    parks = conform(parks, "parks")
    load = time.perf_counter() - start
    times = {}
    result = None
    for workers, label in ((1, "one"), (None, "default")):
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            result = compute_coverage(parks, residential, workers=workers)
            best = min(best, time.perf_counter() - start)
        times[label] = best
    return {
        "time_s": times["default"],
        "time_one_thread_s": times["one"],
        "load_s": load,
        "covered_m2": result.covered_area_m2,
        "residential_m2": result.residential_area_m2,
        "blind_spots": len(result.blind_spots),
        "peak_rss_mb": _peak_rss_mb(),
    }


def worker_geopandas(n: int) -> dict:
    import geopandas as gpd

    parks, residential = synthetic_city(n)
    start = time.perf_counter()
    radius = _tier_radius(parks.area.to_numpy(), parks["park_class"].to_numpy())
    ok = ~np.isnan(radius)
    buffers = parks.loc[ok].buffer(radius[ok])  # geopandas' default: 16 segments per quarter circle
    union = gpd.GeoDataFrame(geometry=[buffers.union_all()], crs=parks.crs)
    pieces = gpd.overlay(residential[["geometry"]], union, how="intersection")
    covered = float(pieces.area.sum())
    total = float(residential.area.sum())  # the denominator (the parcels do not overlap)
    elapsed = time.perf_counter() - start
    return {
        "time_s": elapsed,
        "covered_m2": covered,
        "residential_m2": total,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _run_worker(kind: str, n: int, repeats: int, timeout: float | None) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--size", str(n), "--repeats", str(repeats)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- PostGIS

POSTGIS_TIER = (
    "CASE WHEN cls = 'G3' THEN NULL WHEN ST_Area(geom) >= 5000 THEN 500.0 "
    "WHEN ST_Area(geom) >= 2000 THEN 300.0 END"
)
POSTGIS_QUERIES = {
    "join": """
        SELECT sum(CASE WHEN ST_Covers(s.geom, r.geom) THEN ST_Area(r.geom)
                        ELSE ST_Area(ST_Intersection(r.geom, s.geom)) END)
        FROM res r JOIN sa s ON ST_Intersects(r.geom, s.geom)""",
    "exists": """
        SELECT sum(CASE WHEN EXISTS (SELECT 1 FROM sa s WHERE ST_Covers(s.geom, r.geom))
                        THEN ST_Area(r.geom)
                        ELSE (SELECT coalesce(sum(ST_Area(ST_Intersection(r.geom, s.geom))), 0)
                              FROM sa s WHERE ST_Intersects(r.geom, s.geom)) END)
        FROM res r""",
}


def postgis_load(conn, n: int) -> float:
    """Load the city with COPY and index it (not timed as compute); return the load time."""
    import shapely

    parks, residential = synthetic_city(n)
    start = time.perf_counter()
    conn.execute("DROP TABLE IF EXISTS res; DROP TABLE IF EXISTS parks; DROP TABLE IF EXISTS sa")
    conn.execute("CREATE TABLE res (id int PRIMARY KEY, geom geometry(Polygon, 4549))")
    conn.execute("CREATE TABLE parks (id int PRIMARY KEY, cls text, geom geometry(Polygon, 4549))")
    with conn.cursor() as cur:
        with cur.copy("COPY res (id, geom) FROM STDIN") as copy:
            for i, wkb in enumerate(
                shapely.to_wkb(np.asarray(residential.geometry.array), hex=True)
            ):
                copy.write_row((i, "SRID=4549;" + wkb))
        with cur.copy("COPY parks (id, cls, geom) FROM STDIN") as copy:
            wkbs = shapely.to_wkb(np.asarray(parks.geometry.array), hex=True)
            for i, (wkb, cls) in enumerate(zip(wkbs, parks["park_class"], strict=True)):
                copy.write_row((i, cls, "SRID=4549;" + wkb))
    conn.execute("CREATE INDEX ON res USING gist (geom)")
    conn.execute("VACUUM ANALYZE res")
    conn.execute("VACUUM ANALYZE parks")
    return time.perf_counter() - start


def postgis_best(conn, repeats: int) -> dict:
    """Time every variant; return the best (service areas + query) and its covered area."""
    runs = []
    for max_vertices in (64, 256, 1024):
        for name, query in POSTGIS_QUERIES.items():
            for workers in (0, 2):
                best = float("inf")
                covered = None
                for _ in range(repeats):
                    conn.execute("DROP TABLE IF EXISTS sa")
                    conn.execute(f"SET max_parallel_workers_per_gather = {workers}")
                    start = time.perf_counter()
                    conn.execute(
                        "CREATE TABLE sa AS SELECT ST_Subdivide(ST_Union("
                        f"ST_Buffer(geom, {POSTGIS_TIER}, 'quad_segs=16')), {max_vertices}) "
                        f"AS geom FROM parks WHERE ({POSTGIS_TIER}) IS NOT NULL"
                    )
                    conn.execute("CREATE INDEX ON sa USING gist (geom)")
                    conn.execute("ANALYZE sa")
                    covered = conn.execute(query).fetchone()[0]
                    best = min(best, time.perf_counter() - start)
                runs.append(
                    {
                        "time_s": best,
                        "covered_m2": float(covered),
                        "variant": f"{name}, subdivide {max_vertices}, {workers} workers",
                    }
                )
    return min(runs, key=lambda r: r["time_s"])


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10000,100000,400000", help="comma-separated parcel counts"
    )
    parser.add_argument(
        "--geopandas-max", type=int, default=100_000, help="largest size for geopandas"
    )
    parser.add_argument(
        "--geopandas-timeout", type=float, default=1800.0, help="seconds per geopandas run"
    )
    parser.add_argument("--no-postgis", action="store_true", help="skip PostGIS")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (best counts)")
    parser.add_argument("--worker", choices=["gisrenew", "geopandas"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "gisrenew":
        print(json.dumps(worker_gisrenew(args.size, args.repeats)))
        return
    if args.worker == "geopandas":
        print(json.dumps(worker_geopandas(args.size)))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = {n: {} for n in sizes}
    for n in sizes:
        repeats = args.repeats if n <= 100_000 else max(1, args.repeats - 1)
        print(f"[{n:,} parcels] gisrenew ...", flush=True)
        rows[n]["gisrenew"] = _run_worker("gisrenew", n, repeats, None)
        if n <= args.geopandas_max:
            print(f"[{n:,} parcels] plain geopandas ...", flush=True)
            rows[n]["geopandas"] = _run_worker("geopandas", n, 1, args.geopandas_timeout)
        else:
            rows[n]["geopandas"] = {
                "error": f"skipped above --geopandas-max {args.geopandas_max:,}"
            }
    if not args.no_postgis:
        sys.path.insert(0, str(ROOT / "tests"))
        from postgis import PostgisCluster

        with PostgisCluster(
            settings={"work_mem": "256MB", "max_parallel_workers_per_gather": "2"}
        ) as cluster:
            with cluster.connect() as conn:
                for n in sizes:
                    print(f"[{n:,} parcels] PostGIS: loading ...", flush=True)
                    load = postgis_load(conn, n)
                    print(f"[{n:,} parcels] PostGIS: timing query variants ...", flush=True)
                    best = postgis_best(conn, args.repeats if n <= 100_000 else 2)
                    rows[n]["postgis"] = {**best, "load_s": load}
    _report(rows)


def _fmt(value, spec=".3f", none="-") -> str:
    return none if value is None else format(value, spec)


def _report(rows: dict) -> None:
    print()
    print("coverage benchmark — synthetic city, tijian-2021 tiers, compute only (best of runs)")
    print(
        f"python {sys.version.split()[0]}, cores {os.cpu_count()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for n, row in rows.items():
        g, gp, pg = row.get("gisrenew", {}), row.get("geopandas", {}), row.get("postgis", {})
        print(f"\n{n:,} parcels, {n // 100:,} parks")
        if "error" in g:
            print(f"  gisrenew:   ERROR {g['error']}")
            continue
        print(
            f"  gisrenew:   {g['time_s']:.3f} s (one thread {g['time_one_thread_s']:.3f} s; "
            f"load+validate {g['load_s']:.2f} s), peak memory {g['peak_rss_mb']:.0f} MB, "
            f"covered {g['covered_m2']:,.1f} of {g['residential_m2']:,.1f} m² "
            f"({100 * g['covered_m2'] / g['residential_m2']:.2f}%)"
        )
        for label, other in (("geopandas", gp), ("PostGIS", pg)):
            if not other:
                continue
            if "error" in other:
                print(f"  {label + ':':11s} {other['error']}")
                continue
            diff = abs(other["covered_m2"] - g["covered_m2"]) / g["covered_m2"]
            extra = (
                f" [{other['variant']}; COPY+index {other['load_s']:.2f} s]"
                if "variant" in other
                else ""
            )
            if "residential_m2" in other:
                extra += f", residential {other['residential_m2']:,.1f} m²"
            print(
                f"  {label + ':':11s} {other['time_s']:.3f} s{extra}, "
                f"covered {other['covered_m2']:,.1f} m² (relative difference {diff:.1e})"
            )
    print("\nsummary (figures and ratios)")
    header = (
        f"{'parcels':>9} {'gisrenew s':>11} {'1 thread s':>10} {'geopandas s':>12} "
        f"{'PostGIS s':>10} {'× geopandas':>12} {'× PostGIS':>10} {'peak MB':>8} "
        f"{'max rel diff':>13}"
    )
    print(header)
    for n, row in rows.items():
        g, gp, pg = row.get("gisrenew", {}), row.get("geopandas", {}), row.get("postgis", {})
        if "error" in g:
            continue
        t = g["time_s"]
        t_gp = gp.get("time_s")
        t_pg = pg.get("time_s")
        diffs = [
            abs(o["covered_m2"] - g["covered_m2"]) / g["covered_m2"]
            for o in (gp, pg)
            if "covered_m2" in o
        ]
        print(
            f"{n:>9,} {t:>11.3f} {g['time_one_thread_s']:>10.3f} {_fmt(t_gp):>12} "
            f"{_fmt(t_pg):>10} {_fmt(t_gp / t if t_gp else None, '.1f'):>12} "
            f"{_fmt(t_pg / t if t_pg else None, '.2f'):>10} {g['peak_rss_mb']:>8.0f} "
            f"{_fmt(max(diffs) if diffs else None, '.1e'):>13}"
        )
    checks = []
    if 100_000 in rows and "time_s" in rows[100_000].get("geopandas", {}):
        r = rows[100_000]
        checks.append(
            (
                "≥ 100× plain geopandas at 100 000",
                r["geopandas"]["time_s"] / r["gisrenew"]["time_s"] >= 100,
            )
        )
    for n in (100_000, 400_000):
        if (
            n in rows
            and "time_s" in rows[n].get("postgis", {})
            and "time_s" in rows[n].get("gisrenew", {})
        ):
            r = rows[n]
            checks.append(
                (
                    f"≥ 1.5× faster than PostGIS at {n:,}",
                    r["postgis"]["time_s"] / r["gisrenew"]["time_s"] >= 1.5,
                )
            )
    if 400_000 in rows and "peak_rss_mb" in rows[400_000].get("gisrenew", {}):
        checks.append(
            ("peak memory < 2 GB at 400 000", rows[400_000]["gisrenew"]["peak_rss_mb"] < 2048)
        )
    for n, row in rows.items():
        g = row.get("gisrenew", {})
        for label, other in (
            ("geopandas", row.get("geopandas", {})),
            ("PostGIS", row.get("postgis", {})),
        ):
            if "covered_m2" in other and "covered_m2" in g:
                same = abs(other["covered_m2"] - g["covered_m2"]) <= 1e-6 * g["covered_m2"]
                checks.append((f"same covered area as {label} at {n:,} (1e-6)", same))
            if "residential_m2" in other and "residential_m2" in g:
                same = (
                    abs(other["residential_m2"] - g["residential_m2"]) <= 1e-6 * g["residential_m2"]
                )
                checks.append((f"same residential area as {label} at {n:,} (1e-6)", same))
    print()
    for label, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")


if __name__ == "__main__":
    main()
