"""The what-if session behind ``gisrenew serve`` at city scale: one drawn park, at once?

Issue 19 ("fast under use"): a what-if answer for a 100 000-parcel city in ≤ 200 ms at
the server (straight line). This script opens a :class:`gisrenew.whatif.WhatIfSession`
on the seeded synthetic city of the whole-command benchmark (``benchmarks/_city.py``:
N residential parcels, N/100 parks of every class, a built-up boundary, 10 districts,
the street centre lines) stored as a project (``Project.create``, as ``gisrenew init``
makes it), and times:

1. opening the session (inputs gathered, straight-line coverage and the walk computed
   once, the incremental engine seeded) — paid once, when the server starts;
2. ``evaluate`` of one 80 m × 80 m pocket park (口袋公园, drawn in WGS84 lon/lat as the
   page sends it) at ``--places`` random places (seeded) in the city, straight line only
   (``walk=False``): median and p95 of the wall time around the call, which includes
   checking the sketch, reprojecting it, the closed blind spots as GeoJSON and the
   answer as JSON-ready values;
3. the same with the walk (``walk=True``) at ``--walk-places`` of those places;
4. beside them, a from-scratch :func:`gisrenew.indicators.compute_indicators` (straight
   line) of the same change at ``--full-places`` of the places, with both ratios printed
   (they must be equal to 1e-12; the script stops otherwise).

With ``--page`` it measures the page of ``gisrenew serve`` instead (issue 19 item 5): the
session's app on uvicorn (a free local port), ``/api/layers`` in bytes, and the time from
opening the page in headless Chromium (Debian's ``/usr/bin/chromium`` driven by
Playwright, as ``tests/browser.py`` does) to the city drawn (the page ready, one frame
later; the server has the layers made by then: the time to make them is printed apart) —
with the residential land packed (now) and, for comparison, with every layer as
GeoJSON (as before).

Run (from the repository root, with the virtual environment's Python)::

    .venv/bin/python benchmarks/bench_whatif.py                  # 100 000 parcels
    .venv/bin/python benchmarks/bench_whatif.py --parcels 10000 --places 50
    .venv/bin/python benchmarks/bench_whatif.py --page           # the serve page

The machine may be shared: times are wall times of one run; run it when it is idle.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from unittest import mock

import geopandas as gpd
import numpy as np
import shapely
from _city import CRS, NEW_PARK_SIDE, city_layers

from gisrenew.indicators import compute_indicators
from gisrenew.project import Project
from gisrenew.serve import app as serve_app
from gisrenew.serve import create_app
from gisrenew.serve.layers import feature_collection
from gisrenew.whatif import WhatIfSession

KINDS = ("parks", "residential", "boundary", "districts", "roads")
ROOT = Path(__file__).resolve().parents[1]
DRAWN_JS = """() => new Promise((done) => {
    const ready = () => window.gisrenewServe && window.gisrenewServe.ready;
    const tick = () => ready() ? requestAnimationFrame(() => done(performance.now()))
                               : requestAnimationFrame(tick);
    tick();
})"""


def _sketch(x: float, y: float) -> dict:
    """One square pocket park centred at (x, y) (working CRS), as a Feature in lon/lat."""
    h = NEW_PARK_SIDE / 2
    square = gpd.GeoSeries([shapely.box(x - h, y - h, x + h, y + h)], crs=CRS)
    geometry = json.loads(shapely.to_geojson(square.to_crs("EPSG:4326").iloc[0]))
    properties = {"name": "测试口袋公园", "park_class": "G14"}
    return {"add": [{"type": "Feature", "geometry": geometry, "properties": properties}]}


def _places(session: WhatIfSession, count: int, seed: int) -> list[tuple[float, float]]:
    """`count` random centres inside the residential land's bounds (seeded)."""
    minx, miny, maxx, maxy = session.indicators.buffer.residential.total_bounds
    rng = np.random.default_rng(seed)
    return list(zip(rng.uniform(minx, maxx, count), rng.uniform(miny, maxy, count), strict=True))


def _timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000.0, result


def _summary(label: str, times: list[float]) -> str:
    p95 = float(np.percentile(times, 95)) if len(times) > 1 else times[0]
    return (
        f"{label:<44} median {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms   "
        f"max {max(times):8.1f} ms   (n = {len(times)})"
    )


def _geojson_layers(project, coverage=None, **kwargs) -> dict:
    """The layers as the page had them before packing: every one a FeatureCollection."""
    residential = coverage.residential if coverage is not None else project.read("residential")
    blind = coverage.blind_spots if coverage is not None else None
    columns = ["residential_id", "name", "district_id", "households", "covered_share"]
    return {
        "residential": feature_collection(residential, columns),
        "parks": feature_collection(project.read("parks"), ["park_id", "name", "park_class"]),
        "blind_spots": feature_collection(blind, ["residential_id", "district_id", "area_m2"]),
    }


def _serve(session: WhatIfSession):
    """The session's app on uvicorn in a thread; its URL and the server (to stop)."""
    import uvicorn  # the server's dependency, only for --page

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(session, token=None), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}/", server


def _layers_cold(url: str) -> tuple[float, int]:
    """Milliseconds for the first ``/api/layers`` of a fresh app (made, sent), and its bytes."""
    start = time.perf_counter()
    with urllib.request.urlopen(url + "api/layers") as answer:
        size = len(answer.read())
    return (time.perf_counter() - start) * 1000.0, size


def _open_page(browser, url: str) -> tuple[float, list[str]]:
    """Milliseconds from opening `url` to the city drawn; the page's errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab, errors = context.new_page(), []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.goto(url, wait_until="commit")
        return tab.evaluate(DRAWN_JS), errors  # performance.now() counts from the navigation
    finally:
        context.close()


def time_page(session: WhatIfSession) -> None:
    """/api/layers bytes and the first draw of the serve page, packed and as GeoJSON."""
    from playwright.sync_api import sync_playwright  # optional and heavy: only for --page

    sys.path.insert(0, str(ROOT / "tests"))
    from browser import CHROMIUM, CHROMIUM_ARGS

    modes = {
        "packed (now)": contextlib.nullcontext(),
        "GeoJSON (before)": mock.patch.object(serve_app, "city_layers", _geojson_layers),
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for label, patch in modes.items():
            url, server = _serve(session)  # a fresh app: its layers are made anew
            try:
                with patch:
                    cold, size = _layers_cold(url)
                    ms, errors = _open_page(browser, url)
            finally:
                server.should_exit = True
            print(
                f"{'serve page, ' + label:<44} /api/layers {size / 1e6:6.2f} MB, "
                f"first made and sent {cold / 1000:5.2f} s; page opened to city drawn "
                f"{ms / 1000:5.2f} s" + (f"  errors: {errors}" * bool(errors))
            )
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--places", type=int, default=20, help="straight-line what-ifs")
    parser.add_argument("--walk-places", type=int, default=3, help="what-ifs with the walk")
    parser.add_argument("--full-places", type=int, default=2, help="from-scratch computations")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--page", action="store_true", help="the serve page: bytes, first draw")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-whatif-") as tmp:
        start = time.perf_counter()
        layers = city_layers(args.parcels)
        folder = Path(tmp) / "city"
        Project.create(folder, {k: layers[k] for k in KINDS}, working_crs=CRS, name="bench")
        print(f"city of {args.parcels} parcels stored in {time.perf_counter() - start:.1f} s")
        del layers

        open_ms, session = _timed(lambda: WhatIfSession.open(folder))
        print(f"{'session open (inputs, buffer + walk, engine)':<44} {open_ms / 1000:8.2f} s")
        if args.page:
            time_page(session)
            return
        places = _places(session, args.places, args.seed)
        sketches = [_sketch(x, y) for x, y in places]
        session.evaluate(sketches[0], walk=False)  # warm: first-call imports and caches
        answers, times, inside = [], [], []
        for sketch in sketches:
            ms, answer = _timed(lambda s=sketch: session.evaluate(s, walk=False))
            times.append(ms)
            inside.append(answer["elapsed_ms"])
            answers.append(answer)
        print(_summary("evaluate, straight line (wall)", times))
        print(_summary("evaluate, straight line (elapsed_ms)", inside))
        gains = [a["buffer"]["gain_m2"] for a in answers]
        print(f"  gains: {sum(g > 0 for g in gains)} of {len(gains)} places gain land")

        walk_times = [
            _timed(lambda s=s: session.evaluate(s))[0] for s in sketches[: args.walk_places]
        ]
        if walk_times and session.indicators.network is not None:
            print(_summary("evaluate, straight line + walk (wall)", walk_times))

        for sketch, answer in list(zip(sketches, answers, strict=True))[: args.full_places]:
            inputs = session.indicators.inputs.with_layers(parks=session.parks_after(sketch))
            ms, full = _timed(
                lambda i=inputs: compute_indicators(
                    i, methods=["buffer"], plans=False, greenspace=False
                )
            )
            after = answer["buffer"]["ratio_after"]
            print(
                f"{'compute_indicators from scratch (buffer)':<44} {ms:8.1f} ms   "
                f"ratio {full.buffer.ratio:.15f} vs what-if {after:.15f}"
            )
            if abs(full.buffer.ratio - after) > 1e-12:
                sys.exit("the what-if ratio differs from the computation from scratch")


if __name__ == "__main__":
    main()
