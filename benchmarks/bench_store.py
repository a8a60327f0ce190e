"""How the project store commits a change: a copy swapped in, or one SQLite transaction in place.

Issue 15 asks the recompute to change only the rows that changed, still atomically,
and to measure which way of committing keeps the kill-safety guarantee of the SIGKILL
tests (``tests/test_recompute.py``): a run killed at any moment leaves the GeoPackage
**byte for byte** as before or as after. Two ways are measured on the same file:

* ``copy``: what :meth:`gisrenew.project.Project.transaction` does — copy the file,
  change the copy (the changed attribute rows in place, :func:`gisrenew.gpkg.update_rows`),
  flush it and ``os.replace`` it over the store;
* ``in-place``: one SQLite transaction on the store itself (rollback journal, the
  default of GDAL's GeoPackages; dirty pages kept in memory until ``COMMIT``).

For each: the time of a typical change (``--rows`` rows of a ``--features``-feature
layer, as a one-park recompute changes them) and, under SIGKILL at random moments, the
states the file is left in: its raw bytes (before / after / neither) and what SQLite
reads once it has rolled back a leftover journal (before / after / damaged). Kills
land uniformly in the commit of a larger change (every row), the only time the file
itself is written.

With ``--postgis``: the reads and recomputes of :data:`PG_DOC` on a PostGIS store.

Run::

    .venv/bin/python benchmarks/bench_store.py                  # 100 000 features, 30 kills
    .venv/bin/python benchmarks/bench_store.py --features 20000 --kills 10
    .venv/bin/python benchmarks/bench_store.py --postgis        # 100 000 parcels
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests"))

from _city import FILES, city_layers, write_city  # noqa: E402  (beside this script)
from postgis import PostgisCluster  # noqa: E402  (the tests' throwaway cluster)

from gisrenew import gpkg  # noqa: E402  (the repository's package, not an installed one)
from gisrenew.project import Project, copy_project  # noqa: E402
from gisrenew.recompute import recompute  # noqa: E402

#: The child that changes the store and is killed: ``copy`` or ``in-place``, `rows` rows.
CHILD = r"""
import os, shutil, sqlite3, sys, time
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[4])
from gisrenew import gpkg
path, way, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
positions = np.arange(rows)
values = pd.DataFrame({"covered_m2": 0.5 + positions.astype(float)})
def say(word):
    sys.stdout.write(f"{word} {time.time()!r}\n"); sys.stdout.flush()
say("start")
if way == "copy":
    work = path + ".work"
    shutil.copyfile(path, work)
    gpkg.update_rows(work, "pieces", values, positions, n_features=int(sys.argv[5]))
    say("commit")
    fd = os.open(work, os.O_RDONLY); os.fsync(fd); os.close(fd)
    os.replace(work, path)
else:
    con = sqlite3.connect(path, isolation_level=None)
    for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
        con.create_function(name, 1, lambda *a: None)
    con.execute("PRAGMA cache_spill = OFF")  # no page reaches the file before COMMIT
    con.execute("BEGIN IMMEDIATE")
    con.executemany("UPDATE pieces SET covered_m2 = ? WHERE fid = ?",
                    ((float(v), int(p) + 1) for v, p in zip(values["covered_m2"], positions)))
    say("commit")
    con.execute("COMMIT")
say("done")
"""


def make_store(path: Path, features: int) -> None:
    """A GeoPackage with a per-piece layer of `features` 45 m squares (like a result layer)."""
    rng = np.random.default_rng(0)
    side = int(np.ceil(np.sqrt(features)))
    x = (np.arange(features) % side) * 60.0 + 500_000.0
    y = (np.arange(features) // side) * 60.0 + 3_480_000.0
    frame = pd.DataFrame(
        {
            "residential_id": [f"R{i:06d}" for i in range(features)],
            "district_id": rng.choice(["城厢镇", "娄东街道", "浏河镇"], features),
            "area_m2": np.full(features, 2025.0),
            "covered_m2": rng.uniform(0, 2025.0, features),
            "walk_status": rng.choice(["covered", "too_far"], features),
        }
    )
    geoms = shapely.box(x, y, x + 45.0, y + 45.0)
    layer = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4549")
    pyogrio.write_dataframe(layer, path, layer="pieces", driver="GPKG")


def content(path: Path) -> str:
    """What SQLite reads from the layer (rolling back a leftover journal first); 'damaged'."""
    try:
        with sqlite3.connect(path) as con:
            if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return "damaged"
            rows = con.execute("SELECT fid, covered_m2 FROM pieces ORDER BY fid").fetchall()
    except sqlite3.Error:
        return "damaged"
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def child(path: Path, way: str, rows: int, features: int) -> subprocess.Popen:
    args = [str(path), way, str(rows), str(ROOT), str(features)]
    env = {**os.environ, "OGR_CURRENT_DATE": "2024-05-01T08:00:00Z"}  # reproducible bytes
    command = [sys.executable, "-c", CHILD, *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)


def _times(proc: subprocess.Popen) -> dict[str, float]:
    out = {}
    for line in proc.stdout:
        word, when = line.split()
        out[word] = float(when)
    proc.wait()
    return out


def time_change(store: Path, work: Path, way: str, rows: int, features: int, repeats=3):
    """Best wall time of a change of `rows` rows, measured inside a child process (no start-up)."""
    best = np.inf
    for _ in range(repeats):
        shutil.copyfile(store, work)
        for sidecar in (Path(f"{work}-journal"), Path(f"{work}.work")):
            sidecar.unlink(missing_ok=True)
        times = _times(child(work, way, rows, features))
        best = min(best, times["done"] - times["start"])
    return best


def kill_states(store: Path, work: Path, way: str, features: int, kills: int, rng) -> dict:
    """Kill the change of every row at random moments of its commit; count what is left."""
    shutil.copyfile(store, work)
    before_bytes, before = work.read_bytes(), content(work)
    times = _times(child(work, way, features, features))
    after_bytes, after = work.read_bytes(), content(work)
    window = times["done"] - times["commit"]
    counts = {"raw before": 0, "raw after": 0, "raw neither": 0,
              "read before": 0, "read after": 0, "read damaged": 0}  # fmt: skip
    for _ in range(kills):
        shutil.copyfile(store, work)
        for sidecar in (Path(f"{work}-journal"), Path(f"{work}.work")):
            sidecar.unlink(missing_ok=True)
        proc = child(work, way, features, features)
        line = proc.stdout.readline()
        while line and not line.startswith("commit"):
            line = proc.stdout.readline()
        time.sleep(float(rng.uniform(0, window)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        raw = work.read_bytes()
        counts["raw " + ("before" if raw == before_bytes else "after" if raw == after_bytes
                         else "neither")] += 1  # fmt: skip
        read = content(work)
        counts["read " + ("before" if read == before else "after" if read == after
                          else "damaged")] += 1  # fmt: skip
    return {"commit_window_s": window, **counts}


# --------------------------------------------------------------------------- PostGIS (issue 16)

PG_DOC = """PostGIS: read the whole table, or only the rows near the changed parks?

Issue 16 asks, where the working data live in PostGIS, whether reading only the rows a
computation needs (residential land near the changed parks, by a spatial query) beats
reading the whole table — measured, not assumed. On the seeded city of ``_city.py``
(``--parcels``) in a throwaway cluster (``tests/postgis.py``), best of ``--repeats``:

* ``read``: the residential layer through the store — raw (``read_result``) and
  validated and conformed as a recompute reads it (``Project.load``), on PostGIS and on
  the GeoPackage;
* ``near``: the rows within ``--radius`` m of the new pocket park, by
  ``ST_DWithin(geom, park, r)`` on the GiST index, decoded the way the store decodes rows;
* ``recompute``: one park added (first run: nothing stored current), then a second park
  (the stored results current) on a project in each store.
"""


def _best(call, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def _near(conn, schema: str, park, radius: float) -> gpd.GeoDataFrame:
    """Residential rows within `radius` of `park`, through COPY as the store reads a table."""
    wkb = shapely.to_wkb(park, hex=True, include_srid=False)
    query = (
        f"COPY (SELECT residential_id, encode(ST_AsEWKB(geom), 'hex') FROM {schema}.residential "
        f"WHERE ST_DWithin(geom, ST_GeomFromWKB(decode('{wkb}', 'hex'), 4549), {radius:f}) "
        "ORDER BY fid) TO STDOUT (FORMAT csv)"
    )
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(query) as copy:
        for block in copy:
            buffer.write(block)
    frame = pd.read_csv(io.BytesIO(buffer.getvalue()), names=["residential_id", "geom"],
                        dtype=str)  # fmt: skip
    geoms = shapely.from_wkb(frame.pop("geom").to_numpy())
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4549")


def _recompute_seconds(folder: Path, park: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    report = recompute(folder, add_parks=[str(park)]).report
    return time.perf_counter() - start, report


def postgis_main(parcels: int, repeats: int, radius: float) -> int:
    """Measure the reads and recomputes of :data:`PG_DOC` on both stores; print the figures."""
    with tempfile.TemporaryDirectory() as tmp, PostgisCluster() as cluster:
        files = write_city(city_layers(parcels), Path(tmp) / "files")
        layers = {kind: files[kind] for kind in FILES}
        on_file = Project.create(Path(tmp) / "gpkg", layers, working_crs="EPSG:4549")
        url = f"postgresql://postgres@127.0.0.1:{cluster.port}/gisrenew"
        on_db = copy_project(on_file.folder, Path(tmp) / "db", store=url, schema="bench")
        park = gpd.read_file(files["new_park"]).to_crs("EPSG:4549").geometry.iloc[0]
        print(f"city: {parcels:,} parcels; radius {radius:.0f} m around the new pocket park")
        for label, project in (("GeoPackage", on_file), ("PostGIS", on_db)):
            raw = _best(lambda p=project: p.read_result("residential"), repeats)
            loaded = _best(lambda p=project: Project.open(p.folder).load("residential"), repeats)
            print(f"  {label:<10} whole table: raw {raw:.2f} s, validated {loaded:.2f} s")
        with cluster.connect() as conn:
            near = _best(lambda: _near(conn, "bench", park, radius), repeats)
            rows = len(_near(conn, "bench", park, radius))
        print(f"  PostGIS    ST_DWithin: {rows:,} rows in {near * 1000:.0f} ms")
        for label, project in (("GeoPackage", on_file), ("PostGIS", on_db)):
            first, _ = _recompute_seconds(project.folder, files["new_park"])
            second, report = _recompute_seconds(project.folder, files["second_park"])
            current = report["stored_results"]["current"]
            after = report["indicators"]["buffer"]["after"]["coverage_ratio"]
            print(f"  {label:<10} recompute: 1st park {first:.2f} s, 2nd park {second:.2f} s "
                  f"(results current: {current}); coverage after {after:.4%}")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=400, help="rows of a typical change")
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--postgis", action="store_true", help="the PostGIS measurements")
    parser.add_argument("--parcels", type=int, default=100_000, help="with --postgis")
    parser.add_argument("--repeats", type=int, default=3, help="with --postgis")
    parser.add_argument("--radius", type=float, default=500.0, help="with --postgis (m)")
    args = parser.parse_args(argv)
    if args.postgis:
        return postgis_main(args.parcels, args.repeats, args.radius)
    rng = np.random.default_rng(15)
    with tempfile.TemporaryDirectory() as tmp:
        store, work = Path(tmp) / "store.gpkg", Path(tmp) / "work.gpkg"
        make_store(store, args.features)
        size = store.stat().st_size / 1e6
        print(f"store: {args.features:,} features, {size:.1f} MB, counter "
              f"{gpkg.change_counter(store)}")  # fmt: skip
        for way in ("copy", "in-place"):
            seconds = time_change(store, work, way, args.rows, args.features)
            states = kill_states(store, work, way, args.features, args.kills, rng)
            print(f"\n{way}: a change of {args.rows} rows {seconds * 1000:.0f} ms (best of 3)")
            print(f"  {args.kills} kills within the commit of every row "
                  f"({states.pop('commit_window_s') * 1000:.0f} ms):")  # fmt: skip
            for key, value in states.items():
                print(f"    {key:<14} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
