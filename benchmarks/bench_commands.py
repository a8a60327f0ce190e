"""Whole commands at city scale, timed from outside, next to their floors and peers.

Issue 15 ("speed a planner feels"): the engines are fast, the commands are not. This
script is the measuring stick: it times what a planner runs — the ``gisrenew`` command
line in a fresh process, from the process start to its exit — on a seeded synthetic
city written to files the way planners receive them, and prints every figure next to
the floor it cannot beat and the peer a planner would otherwise use.

The city (``benchmarks/_city.py``): N residential parcels (``--parcels``, default
100 000) in a GBK Shapefile without ``.cpg`` in EPSG:4490 (CGCS2000 degrees: encoding
detection and reprojection are paid as a planner pays them), N/100 parks of every class
(G11 … G3) in a GeoPackage in EPSG:4490, a built-up area boundary and 10 districts in
GeoPackages in EPSG:4549, about N/8 street segments in a GBK Shapefile, and one new
80 m × 80 m pocket park (口袋公园, GeoPackage, EPSG:4490) for the recompute.

Timed, each as ``<venv>/bin/gisrenew ...`` in a subprocess (wall time from start to
exit, and the process's peak resident memory, ``ru_maxrss`` from ``os.wait4``); exit
codes are checked and a failing command stops the benchmark with its stderr. Linux
counts the parent's pages in a child's peak (fork and exec), so no peak reads below
the benchmark's own (printed; it stays small: the city is written by a process of
its own and the benchmark imports neither geopandas nor gisrenew):

1. ``gisrenew coverage --parks P --residential R --boundary B --districts D --json``;
2. ``gisrenew init DIR`` with all five layers (into an emptied folder each run);
3. ``gisrenew coverage --project DIR --json``;
4. ``gisrenew recompute --project COPY --add-parks 新建口袋公园.gpkg --json``, with
   ``--no-publish`` and with the maps (the default: pages written with the project's
   settings), each run on a fresh copy of the project made by ``init`` (copying is not
   timed): the first recompute of a project; then the same for a second park
   (``新建口袋公园二.gpkg``) on a copy of the project after the first recompute (with
   its maps), whose stored results are current (the walk's figures before the change
   come from them) and whose map cache is warm (``.gisrenew-cache/maps``);
5. ``gisrenew publish --project DIR --out SITE --offline`` (into an emptied folder each
   run; ``--offline`` makes self-contained pages, which can be drawn with the network
   blocked);
6. the published ``coverage.html``: its size, and its first draw in headless Chromium
   (Debian's ``/usr/bin/chromium`` driven by Playwright, as ``tests/browser.py`` does,
   a 1280 × 800 window, a fresh browser context per run, every network request
   blocked). "First draw" is measured inside the page: from navigation start
   (``performance.timeOrigin``) to the animation frame after the first frame in which
   every layer the map shows by default (large layers start hidden) has features drawn
   — SVG paths attached to the DOM, or features projected into the view for the canvas
   renderer (Leaflet adds a layer's features together). The page's ``load`` event
   time is printed too.

Each is the best of ``--repeats`` runs (default 3) when its first run takes at most
``--cheap`` seconds (default 10), else run once; the table says which. One untimed
``gisrenew --help`` runs first, so that no timed run pays for a cold disk cache.

Floors and peers, in the same run and on the same files:

* read floor: ``python -c "import geopandas; geopandas.read_file(...)"`` of the files
  the command reads (the input files, or the project GeoPackage's layers; the new park
  file too for the recompute), best of repeats;
* ``python -c "import geopandas"`` and ``python -c "pass"``: the floors of
  ``python -c "import gisrenew.cli"`` and ``gisrenew --help``;
* peer: the plain geopandas script a planner would write for the ratio (read,
  reproject, keep residential codes, clip to the boundary, buffer by tier →
  ``union_all`` → ``overlay`` → areas), run once; skipped above ``--geopandas-max``
  parcels (default 100 000). Its ratio is printed next to gisrenew's.

Targets (issue 15, at 100 000 parcels; at other sizes the marks are indicative):
coverage ≤ 1.5 s and ≤ 2× its read floor; recompute of one park ≤ 3 s, maps included;
init ≤ 3 s; the coverage page ≤ 10 MB and drawn ≤ 3 s.

Run (from the repository root, with the virtual environment's Python)::

    .venv/bin/python benchmarks/bench_commands.py                    # 100 000 parcels
    .venv/bin/python benchmarks/bench_commands.py --parcels 10000 --json figures.json
    .venv/bin/python benchmarks/bench_commands.py --parcels 2000 --repeats 1   # a quick try

Temporary folders live under ``--workdir`` (default: the system's temp folder) and are
removed at the end unless ``--keep``. The machine may be shared: run it when it is idle.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITY_SCRIPT = Path(__file__).with_name("_city.py")
TARGET_PARCELS = 100_000
PROJECT_LAYERS = ("parks", "residential", "boundary", "districts", "roads")

#: What each measurement is, by its key in the figures.
LABELS = {
    "coverage_files": "gisrenew coverage (4 files) --json",
    "init": "gisrenew init (5 files)",
    "coverage_project": "gisrenew coverage --project --json",
    "recompute_no_publish": "gisrenew recompute, 1 park, --no-publish",
    "recompute": "gisrenew recompute, 1 park, maps included",
    "recompute_current_no_publish": "recompute, 2nd park (results current), --no-publish",
    "recompute_current": "recompute, 2nd park (results current), maps",
    "publish": "gisrenew publish --offline",
    "first_draw": "coverage.html first draw in Chromium",
    "page_size": "coverage.html size (MB)",
    "read_4_files": "read floor: the 4 input files",
    "read_5_files": "read floor: the 5 input files",
    "read_project_4": "read floor: 4 layers of project.gpkg",
    "read_project_5": "read floor: 5 layers of project.gpkg",
    "read_project_5_new_park": "read floor: 5 layers + the new park file",
    "python_start": 'python -c "pass"',
    "import_geopandas": 'python -c "import geopandas"',
    "import_cli": 'python -c "import gisrenew.cli"',
    "help": "gisrenew --help",
    "plain_geopandas": "plain geopandas coverage script",
}

#: The plain geopandas script a planner would write for the coverage ratio (tijian-2021
#: tiers written out: ≥ 5000 m² → 500 m, 2000–5000 m² → 300 m, plazas G3 do not count).
PLAIN_GEOPANDAS = """\
import json
import sys

import geopandas as gpd
import numpy as np

parks_file, residential_file, boundary_file = sys.argv[1:4]
crs = "EPSG:4549"
parks = gpd.read_file(parks_file).to_crs(crs)
residential = gpd.read_file(residential_file, encoding="gbk").to_crs(crs)
boundary = gpd.read_file(boundary_file).to_crs(crs)
residential = residential[residential["用地代码"].str.startswith(("R", "07"))]
residential = gpd.overlay(residential[["geometry"]], boundary[["geometry"]], how="intersection")
area = parks.area.to_numpy()
radius = np.where(area >= 5000, 500.0, np.where(area >= 2000, 300.0, np.nan))
radius[parks["类别"].to_numpy() == "G3"] = np.nan
ok = ~np.isnan(radius)
reach = gpd.GeoDataFrame(geometry=[parks[ok].buffer(radius[ok]).union_all()], crs=crs)
covered = gpd.overlay(residential, reach, how="intersection")
print(json.dumps({"coverage_ratio": covered.area.sum() / residential.area.sum()}))
"""

# Runs before the page's own scripts: on every animation frame, checks whether every layer
# the map shows has its features drawn; one frame later records performance.now().
FIRST_DRAW_JS = """
(() => {
    const drawn = (layer) => {
        let found = false;
        layer.eachLayer((l) => {
            if (found || !l._map) { return; }
            if (window.L && l._renderer instanceof L.Canvas) {
                found = Boolean((l._parts && l._parts.length) || l._point);
            } else {
                found = Boolean(l._path && l._path.isConnected);
            }
        });
        return found;
    };
    const ready = () => {
        const g = window.gisrenew;
        if (!g || !g.map || !g.layers) { return false; }
        const shown = Object.values(g.layers).filter((layer) => g.map.hasLayer(layer));
        return shown.length > 0 && shown.every(drawn);
    };
    const tick = () => {
        if (ready()) {
            requestAnimationFrame(() => { window.__benchFirstDraw = performance.now(); });
        } else {
            requestAnimationFrame(tick);
        }
    };
    requestAnimationFrame(tick);
})();
"""

PAGE_FACTS_JS = """
() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const g = window.gisrenew;
    const layers = Object.entries(g.layers).map(([key, layer]) =>
        [key, g.map.hasLayer(layer), layer.getLayers().length]);
    return {first_draw_ms: window.__benchFirstDraw, load_ms: nav.loadEventEnd, layers};
}
"""


class CommandFailed(RuntimeError):
    """A timed command exited with a non-zero status or an unexpected output."""


@dataclass
class Measure:
    """Wall times (s) of the runs of one command and the largest peak memory (MB)."""

    runs: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    stdout: str = ""

    @property
    def seconds(self) -> float:
        """The best run."""
        return min(self.runs)

    @property
    def how(self) -> str:
        """``best of N`` or ``once``."""
        return f"best of {len(self.runs)}" if len(self.runs) > 1 else "once"

    def to_dict(self) -> dict:
        return {
            "seconds": self.seconds,
            "runs": self.runs,
            "how": self.how,
            "peak_mb": self.peak_mb,
        }


# --------------------------------------------------------------------------- running


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Run `cmd`; return its wall time (s), peak memory (MB) and stdout.

    Raises
    ------
    CommandFailed
        When it exits with a non-zero status; the message holds its stderr.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = "\n".join(stderr.splitlines()[-60:])
        raise CommandFailed(
            f"`{shlex.join(cmd)}` exited with status {proc.returncode}; its stderr (end):\n{tail}"
        )
    return elapsed, usage.ru_maxrss / 1024.0, stdout


def measure(
    key: str,
    cmd: list[str],
    *,
    repeats: int,
    cheap_s: float,
    before: Callable[[], None] | None = None,
    check: Callable[[str], None] | None = None,
) -> Measure:
    """Best of `repeats` runs of `cmd`, or one run when the first takes more than `cheap_s`.

    ``before()`` prepares each run (not timed); ``check(stdout)`` validates each run's
    output. Prints the figure under the measurement's label (``LABELS[key]``).
    """
    result = Measure()
    for _ in range(repeats):
        if before is not None:
            before()
        seconds, peak_mb, result.stdout = run(cmd)
        if check is not None:
            check(result.stdout)
        result.runs.append(seconds)
        result.peak_mb = max(result.peak_mb, peak_mb)
        if seconds > cheap_s:
            break
    print(f"  {LABELS[key]:<44} {result.seconds:8.2f} s  ({result.how})", flush=True)
    return result


def read_floor(key: str, reads: list[tuple[Path, dict]], *, repeats: int) -> Measure:
    """``python -c "import geopandas; geopandas.read_file(...)..."`` of `reads`, best of repeats."""
    lines = ["import geopandas"]
    lines += [f"geopandas.read_file({str(path)!r}, **{kwargs!r})" for path, kwargs in reads]
    code = "; ".join(lines)
    return measure(key, [sys.executable, "-c", code], repeats=repeats, cheap_s=math.inf)


def _expect_json(keys: tuple[str, ...]) -> Callable[[str], None]:
    def check(stdout: str) -> None:
        data = json.loads(stdout)
        missing = [key for key in keys if key not in data]
        if missing:
            raise CommandFailed(f"the command's JSON lacks {missing}: {stdout[:500]}")

    return check


def _check_recompute(publish: bool) -> Callable[[str], None]:
    def check(stdout: str) -> None:
        report = json.loads(stdout)
        if not report.get("changed"):
            raise CommandFailed(f"the recompute changed nothing: {report.get('message')}")
        if publish and not report.get("published"):
            raise CommandFailed(f"the recompute published no maps: {report.get('warnings')}")

    return check


# --------------------------------------------------------------------------- the commands


@dataclass
class Bench:
    """Where and how to run: the ``gisrenew`` executable, the work folder, repeats."""

    gisrenew: Path
    work: Path
    repeats: int
    cheap_s: float

    def cli(self, *args: object) -> list[str]:
        """The command line ``gisrenew ARGS``."""
        return [str(self.gisrenew), *map(str, args)]

    def timed(self, key: str, args: list[object], **kwargs) -> Measure:
        """:func:`measure` of ``gisrenew ARGS`` (the same arguments every run)."""
        return measure(key, self.cli(*args), repeats=self.repeats, cheap_s=self.cheap_s, **kwargs)


def _fresh(folder: Path) -> Callable[[], None]:
    """Remove `folder` before each run (so ``init``/``publish`` write into a new folder)."""
    return lambda: shutil.rmtree(folder, ignore_errors=True)


def _copy_of(project: Path, copy: Path) -> Callable[[], None]:
    """Replace `copy` with a fresh copy of `project` before each run."""

    def prepare() -> None:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(project, copy)

    return prepare


def time_commands(bench: Bench, files: dict[str, Path]) -> dict[str, Measure]:
    """Time the gisrenew commands on the city's `files` (project and site: in the work folder)."""
    project, site, copy = bench.work / "project", bench.work / "site", bench.work / "copy"
    layers = [arg for kind in PROJECT_LAYERS for arg in (f"--{kind}", files[kind])]
    inputs = [arg for kind in PROJECT_LAYERS[:4] for arg in (f"--{kind}", files[kind])]
    ratio = _expect_json(("coverage_ratio",))
    run(bench.cli("--help"))  # warm-up, not timed: the first run would pay for a cold disk cache
    out = {
        "coverage_files": bench.timed(
            "coverage_files", ["coverage", *inputs, "--json"], check=ratio
        ),
        "init": bench.timed("init", ["init", project, *layers], before=_fresh(project)),
        "coverage_project": bench.timed(
            "coverage_project", ["coverage", "--project", project, "--json"], check=ratio
        ),
    }
    for key, flag, publish in (
        ("recompute_no_publish", ["--no-publish"], False),
        ("recompute", [], True),
    ):
        out[key] = bench.timed(
            key,
            ["recompute", "--project", copy, "--add-parks", files["new_park"], *flag, "--json"],
            before=_copy_of(project, copy),
            check=_check_recompute(publish),
        )
    out.update(_time_second_recompute(bench, project, files))
    out["publish"] = bench.timed(
        "publish",
        ["publish", "--project", project, "--out", site, "--offline"],
        before=_fresh(site),
    )
    page = site / "coverage.html"
    if not page.is_file():
        raise CommandFailed(f"gisrenew publish wrote no {page}")
    return out


def _time_second_recompute(bench: Bench, project: Path, files: dict[str, Path]) -> dict:
    """A second park on a project whose stored results are current (after one recompute,
    with its maps: the project's map cache is warm, as a planner's is)."""
    after = bench.work / "after_first"
    _copy_of(project, after)()
    run(bench.cli("recompute", "--project", after, "--add-parks", files["new_park"], "--json"))
    copy = bench.work / "copy"
    out = {}
    for key, flag, publish in (
        ("recompute_current_no_publish", ["--no-publish"], False),
        ("recompute_current", [], True),
    ):
        out[key] = bench.timed(
            key,
            ["recompute", "--project", copy, "--add-parks", files["second_park"], *flag, "--json"],
            before=_copy_of(after, copy),
            check=_check_recompute(publish),
        )
    return out


def time_floors(bench: Bench, files: dict[str, Path]) -> dict[str, Measure]:
    """The import-and-read floors, the import floors, and gisrenew's import and --help."""
    gpkg = bench.work / "project" / "project.gpkg"

    def of_files(kinds):
        return [(files[k], {"encoding": "gbk"} if files[k].suffix == ".shp" else {}) for k in kinds]

    def of_project(kinds):
        return [(gpkg, {"layer": kind}) for kind in kinds]

    reads = {
        "read_4_files": of_files(PROJECT_LAYERS[:4]),
        "read_5_files": of_files(PROJECT_LAYERS),
        "read_project_4": of_project(PROJECT_LAYERS[:4]),
        "read_project_5": of_project(PROJECT_LAYERS),
        "read_project_5_new_park": [*of_project(PROJECT_LAYERS), *of_files(["new_park"])],
    }
    out = {key: read_floor(key, value, repeats=bench.repeats) for key, value in reads.items()}
    for key, cmd in (
        ("python_start", [sys.executable, "-c", "pass"]),
        ("import_geopandas", [sys.executable, "-c", "import geopandas"]),
        ("import_cli", [sys.executable, "-c", "import gisrenew.cli"]),
        ("help", bench.cli("--help")),
    ):
        out[key] = measure(key, cmd, repeats=bench.repeats, cheap_s=math.inf)
    return out


def time_plain_geopandas(bench: Bench, files: dict[str, Path], parcels: int, limit: int) -> dict:
    """The plain geopandas coverage script, once; skipped above `limit` parcels."""
    if parcels > limit:
        print(f"  {LABELS['plain_geopandas']:<44} skipped (above --geopandas-max {limit:,})")
        return {"skipped": f"above --geopandas-max {limit:,}"}
    script = bench.work / "plain_geopandas_coverage.py"
    script.write_text(PLAIN_GEOPANDAS, encoding="utf-8")
    cmd = [
        sys.executable,
        str(script),
        *(str(files[k]) for k in ("parks", "residential", "boundary")),
    ]
    result = measure("plain_geopandas", cmd, repeats=1, cheap_s=0)
    return {**result.to_dict(), "coverage_ratio": json.loads(result.stdout)["coverage_ratio"]}


# --------------------------------------------------------------------------- the page

DRAW_TIMEOUT_S = 300.0


def time_first_draw(page: Path, *, repeats: int, cheap_s: float) -> dict:
    """Size of `page` and its first draw in headless Chromium, every request blocked.

    Returns ``{"skipped": reason}`` when Playwright or Chromium is missing.
    """
    facts = {"page": str(page), "size_mb": page.stat().st_size / 1e6}
    # Optional and heavy: Playwright (test extra); tests/ is not an importable package.
    try:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {**facts, "skipped": "playwright is not installed (pip install playwright)"}
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        return {**facts, "skipped": f"{CHROMIUM} not found (apt-get install chromium)"}
    runs = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for _ in range(repeats):
                runs.append(_open_once(browser, page))
                if runs[-1]["first_draw_ms"] > 1000 * cheap_s:
                    break
        except PlaywrightTimeout as exc:
            raise CommandFailed(f"{page} drew no layer within {DRAW_TIMEOUT_S:.0f} s") from exc
        finally:
            browser.close()
    best = min(runs, key=lambda r: r["first_draw_ms"])
    how = f"best of {len(runs)}" if len(runs) > 1 else "once"
    print(f"  {LABELS['first_draw']:<44} {best['first_draw_ms'] / 1000:8.2f} s  ({how})")
    return {
        **facts,
        **best,
        "seconds": best["first_draw_ms"] / 1000,
        "how": how,
        "runs": [r["first_draw_ms"] / 1000 for r in runs],
    }


def _open_once(browser, page: Path) -> dict:
    """Open `page` in a fresh context with every network request blocked; the page's timings."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = context.new_page()
        errors, blocked = [], []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))

        def block(route) -> None:
            if route.request.url.startswith(("file:", "data:", "blob:", "about:")):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        tab.route("**/*", block)
        tab.add_init_script(FIRST_DRAW_JS)
        tab.goto(page.resolve().as_uri(), wait_until="commit")
        tab.wait_for_function("() => window.__benchFirstDraw", timeout=1000 * DRAW_TIMEOUT_S)
        tab.wait_for_load_state("load")
        facts = tab.evaluate(PAGE_FACTS_JS)
    finally:
        context.close()
    if errors:
        raise CommandFailed(f"{page} raised errors in Chromium: {errors[:5]}")
    return {**facts, "blocked_requests": blocked}


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    """One line of the final table: a figure, the floor it is compared with, its target."""

    key: str
    floor: str | None = None
    target: str = ""
    limit_s: float | None = None
    limit_floor: float | None = None


ROWS = [
    Row("coverage_files", "read_4_files", "≤ 1.5 s and ≤ 2× floor", 1.5, 2.0),
    Row("plain_geopandas", "read_4_files", "(peer of the line above)"),
    Row("init", "read_5_files", "≤ 3 s", 3.0),
    Row("coverage_project", "read_project_4", "≤ 1.5 s and ≤ 2× floor", 1.5, 2.0),
    Row("recompute_no_publish", "read_project_5_new_park"),
    Row("recompute", "read_project_5_new_park", "≤ 3 s", 3.0),
    Row("recompute_current_no_publish", "read_project_5_new_park"),
    Row("recompute_current", "read_project_5_new_park", "≤ 3 s", 3.0),
    Row("publish", "read_project_5"),
    Row("first_draw", None, "≤ 3 s", 3.0),
    Row("import_cli", "import_geopandas"),
    Row("help", "python_start"),
]


def table_rows(figures: dict) -> list[dict]:
    """The final table's lines (figures, ratio to floor, target met) as plain dicts."""
    timed = {**figures["commands"], **figures["floors"]}
    for key, value in (
        ("plain_geopandas", figures["plain_geopandas"]),
        ("first_draw", figures["page"]),
    ):
        if "seconds" in value:
            timed[key] = value
    rows = []
    for row in ROWS:
        if row.key not in timed:
            continue
        seconds = timed[row.key]["seconds"]
        floor = timed[row.floor]["seconds"] if row.floor else None
        met = None
        if row.limit_s is not None:
            met = seconds <= row.limit_s
            if row.limit_floor is not None:
                met = met and seconds <= row.limit_floor * floor
        rows.append(
            {
                "key": row.key,
                "command": LABELS[row.key],
                "seconds": seconds,
                "how": timed[row.key]["how"],
                "floor": LABELS.get(row.floor),
                "floor_s": floor,
                "ratio_to_floor": seconds / floor if floor else None,
                "peak_mb": timed[row.key].get("peak_mb"),
                "target": row.target,
                "met": met,
            }
        )
    size = figures["page"]["size_mb"]
    rows.append(
        {
            "key": "page_size",
            "command": LABELS["page_size"],
            "size_mb": size,
            "target": "≤ 10 MB",
            "met": size <= 10.0,
        }
    )
    return rows


def _mark(met: bool | None) -> str:
    return "" if met is None else ("✓" if met else "✗")


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(figures: dict) -> None:
    """Print the final table, the floors and the peer."""
    m = figures["machine"]
    print(
        f"\nwhole commands — {figures['parcels']:,} parcels, {figures['parks']:,} parks, "
        f"{figures['roads']:,} street segments"
    )
    print(
        f"python {m['python']}, {m['cores']} cores, load average {m['load_average']:.2f} "
        f"at the end, gisrenew {m['gisrenew']} ({m['commit']}); peak MB: no figure below "
        f"this benchmark's own {m['benchmark_rss_mb']:.0f} MB"
    )
    if figures["parcels"] != TARGET_PARCELS:
        print(f"(the targets are set for {TARGET_PARCELS:,} parcels: here they are indicative)")
    print(
        f"\n{'command':<42} {'seconds':>8} {'runs':>10} {'floor s':>8} {'× floor':>8} "
        f"{'peak MB':>8}  target"
    )
    for row in figures["table"]:
        if row["key"] == "page_size":
            print(
                f"{row['command']:<42} {row['size_mb']:>8.1f} {'':>10} {'':>8} {'':>8} "
                f"{'':>8}  {row['target']} {_mark(row['met'])}"
            )
            continue
        print(
            f"{row['command']:<42} {row['seconds']:>8.2f} {row['how']:>10} "
            f"{_num(row['floor_s'], '.2f'):>8} {_num(row['ratio_to_floor'], '.2f'):>8} "
            f"{_num(row['peak_mb'], '.0f'):>8}  {row['target']} {_mark(row['met'])}"
        )
    print("\nfloors:")
    for key, value in figures["floors"].items():
        if key not in ("import_cli", "help"):
            print(f"  {LABELS[key]:<42} {value['seconds']:8.2f} s  ({value['how']})")
    _print_peer(figures)
    _print_page(figures["page"])


def _print_peer(figures: dict) -> None:
    plain, ours = figures["plain_geopandas"], figures["commands"]["coverage_files"]
    print(
        "\npeer: the plain geopandas coverage script (read, reproject, clip, buffer → "
        "union_all → overlay → areas)"
    )
    if "skipped" in plain:
        print(f"  skipped ({plain['skipped']})")
        return
    speed = plain["seconds"] / ours["seconds"]
    faster = f"{speed:.1f}× faster" if speed >= 1 else f"{1 / speed:.1f}× slower"
    diff = abs(plain["coverage_ratio"] - figures["coverage_ratio"])
    print(
        f"  {plain['seconds']:.2f} s (once): `gisrenew coverage` on the files is {faster}; "
        f"coverage ratio {plain['coverage_ratio']:.6f}, gisrenew's {figures['coverage_ratio']:.6f} "
        f"(difference {diff:.1e})"
    )


def _print_page(page: dict) -> None:
    print(f"\npage: coverage.html, {page['size_mb']:.1f} MB")
    if "skipped" in page:
        print(f"  first draw skipped: {page['skipped']}")
        return
    shown = [f"{key} ({count:,})" for key, on, count in page["layers"] if on]
    hidden = [f"{key} ({count:,})" for key, on, count in page["layers"] if not on]
    print(
        f"  first draw {page['first_draw_ms'] / 1000:.2f} s, "
        f"load event {page['load_ms'] / 1000:.2f} s "
        f"after navigation start; layers shown: {', '.join(shown)}; "
        f"hidden at start: {', '.join(hidden) or 'none'}"
    )
    if page["blocked_requests"]:
        print(f"  blocked requests: {page['blocked_requests'][:5]}")


# --------------------------------------------------------------------------- main


def _gisrenew_executable() -> Path:
    """``gisrenew`` next to this Python (the virtual environment's), else on the PATH."""
    local = Path(sys.executable).parent / "gisrenew"
    if local.is_file():
        return local
    found = shutil.which("gisrenew")
    if found is None:
        sys.exit(
            "gisrenew is not installed next to this Python nor on the PATH: run the benchmark "
            "with the virtual environment's Python (.venv/bin/python benchmarks/bench_commands.py)"
        )
    return Path(found)


def _machine() -> dict:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "gisrenew": version("gisrenew"),
        "commit": commit or "unknown commit",
    }


def run_all(args: argparse.Namespace, bench: Bench) -> dict:
    """Write the city, time everything; return the figures."""
    print(f"[{args.parcels:,} parcels] writing the city to {bench.work / 'city'} ...", flush=True)
    seconds, _, stdout = run(
        [sys.executable, str(CITY_SCRIPT), str(args.parcels), str(bench.work / "city")]
    )
    city = json.loads(stdout)
    files = {kind: Path(path) for kind, path in city["files"].items()}
    print(f"  written in {seconds:.1f} s\ncommands:", flush=True)
    commands = time_commands(bench, files)
    print("floors and peers:", flush=True)
    floors = time_floors(bench, files)
    plain = time_plain_geopandas(bench, files, args.parcels, args.geopandas_max)
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("page:", flush=True)
    page = time_first_draw(
        bench.work / "site" / "coverage.html", repeats=bench.repeats, cheap_s=bench.cheap_s
    )
    figures = {
        "parcels": args.parcels,
        "parks": city["counts"]["parks"],
        "roads": city["counts"]["roads"],
        "machine": {**_machine(), "benchmark_rss_mb": own_mb},
        "commands": {key: value.to_dict() for key, value in commands.items()},
        "floors": {key: value.to_dict() for key, value in floors.items()},
        "plain_geopandas": plain,
        "page": page,
        "coverage_ratio": json.loads(commands["coverage_files"].stdout)["coverage_ratio"],
    }
    figures["table"] = table_rows(figures)
    return figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--parcels",
        type=int,
        default=TARGET_PARCELS,
        help="residential parcels of the city (parks: 1 per 100)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of a cheap command (best counts)"
    )
    parser.add_argument(
        "--cheap",
        type=float,
        default=10.0,
        metavar="S",
        help="a command whose first run takes longer runs once",
    )
    parser.add_argument(
        "--geopandas-max",
        type=int,
        default=TARGET_PARCELS,
        help="largest city for the plain geopandas script",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="folder for the temporary files (default: the system's temp folder)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="save the figures")
    args = parser.parse_args(argv)
    if args.parcels < 100 or args.repeats < 1:
        parser.error("--parcels must be at least 100 and --repeats at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gisrenew = _gisrenew_executable()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-commands-", dir=args.workdir))
    try:
        figures = run_all(args, Bench(gisrenew, work, args.repeats, args.cheap))
    except CommandFailed as exc:
        print(f"\nbenchmark stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"temporary files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(figures)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"\nfigures saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
