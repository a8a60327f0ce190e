"""Fixtures for the web-map tests: small map data built in code, and a headless Chromium.

Registered in ``tests/conftest.py`` through ``pytest_plugins``.

Browser: Debian's ``/usr/bin/chromium`` driven by Playwright (from PyPI; no
``playwright install``). Every network request of a page is routed: CDN files are
answered from the local XStatic copies (or blocked, for offline pages), map tiles
with a blank PNG, anything else blocked and reported. When Chromium or Playwright
is missing the browser tests are skipped — except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import dataclasses
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gisrenew import coverage
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.results import CoverageChange

CHROMIUM = Path(os.environ.get("GISRENEW_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

GK = "EPSG:4549"
X0, Y0 = 604_000.0, 3_481_000.0  # Taicang, metres (EPSG:4549)

#: Text payloads that must neither run nor break a page.
XSS_IMG = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
XSS_TEMPLATE = "${window.__xss=(window.__xss||0)+10}"
BACKSLASH = "C:\\users\\公园"
BACKTICK = "`反引号` </script><script>window.__xss=100</script>"


# ---------------------------------------------------------------- map data


def _square(x: float, y: float, size: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size)


def hand_coverage(
    parks: gpd.GeoDataFrame, residential: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
):
    """A CoverageResult computed the plain way (union of buffers), as an oracle for map tests."""
    from gisrenew.results import CoverageResult
    from gisrenew.rules import get_rules

    rules = get_rules("tijian-2021")
    area = parks.geometry.area.to_numpy()
    radius, tier, reason = rules.assign(area, parks["park_class"].to_numpy())
    table = pd.DataFrame(
        {
            "park_id": parks["park_id"].to_numpy(),
            "park_area_m2": area,
            "park_class": parks["park_class"].to_numpy(),
            "tier": tier,
            "radius_m": radius,
            "qualifies": tier >= 0,
            "reason": reason,
        }
    )
    q = tier >= 0
    service = gpd.GeoDataFrame(
        {
            "park_id": parks["park_id"].to_numpy()[q],
            "tier": tier[q],
            "radius_m": radius[q],
            "park_area_m2": area[q],
        },
        geometry=shapely.buffer(parks.geometry.to_numpy()[q], radius[q], quad_segs=16),
        crs=parks.crs,
    )
    reach = shapely.union_all(service.geometry.to_numpy())
    land = residential.geometry.to_numpy()
    land_area = shapely.area(land)
    covered = shapely.area(shapely.intersection(land, reach))
    res = residential.assign(
        area_m2=land_area, covered_m2=covered, covered_share=covered / land_area
    )
    gaps = shapely.difference(land, reach)
    gap_area = shapely.area(gaps)
    blind = gpd.GeoDataFrame(
        {
            "residential_id": res["residential_id"].to_numpy(),
            "district_id": res["district_id"].to_numpy(),
            "area_m2": gap_area,
            "households": res["households"].to_numpy() * gap_area / land_area,
        },
        geometry=gaps,
        crs=parks.crs,
    )
    blind = blind[blind["area_m2"] > 0].reset_index(drop=True)
    by_district = res.groupby("district_id")[["area_m2", "covered_m2"]].sum()
    table_d = pd.DataFrame(
        {
            "district_id": districts["district_id"].to_numpy(),
            "name": districts["name"].to_numpy(),
        }
    )
    table_d["residential_area_m2"] = table_d["district_id"].map(by_district["area_m2"]).fillna(0.0)
    table_d["covered_area_m2"] = table_d["district_id"].map(by_district["covered_m2"]).fillna(0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        table_d["coverage_ratio"] = table_d["covered_area_m2"] / table_d[
            "residential_area_m2"
        ].where(table_d["residential_area_m2"] > 0)
    weight_total = float(res["households"].sum())
    weight_covered = float((res["households"] * res["covered_share"]).sum())
    return CoverageResult(
        "buffer",
        rules,
        float(covered.sum()),
        float(land_area.sum()),
        res,
        table_d,
        table,
        service,
        blind,
        weight_column="households",
        weight_total=weight_total,
        weight_covered=weight_covered,
    )


def make_city() -> SimpleNamespace:
    """A tiny city in Taicang (EPSG:4549) whose names carry the XSS payloads.

    Parks: 东园 (G12, 10 000 m², 500 m), a pocket park named with a template
    payload (2500 m², 300 m), a pocket park named with an <img> payload (900 m²,
    does not count). Residential: 3 blocks (covered, partly covered, uncovered).
    Districts: 城厢镇 and one named with a template payload. Two plans over four
    parcels (one shared), and one new park for a before/after comparison.
    """
    parks = gpd.GeoDataFrame(
        {
            "park_id": ["p1", "p2", "p3"],
            "name": ["东园", f"小游园 {XSS_TEMPLATE}", XSS_IMG],
            "park_class": ["G12", "G14", "G14"],
            "is_pocket_park": [False, True, True],
        },
        geometry=[_square(0, 0, 100), _square(1000, 0, 50), _square(2000, 2000, 30)],
        crs=GK,
    )
    residential = gpd.GeoDataFrame(
        {
            "residential_id": ["r1", "r2", "r3"],
            "name": [f"新村 {BACKSLASH}", BACKTICK, "三村"],
            "district_id": ["d1", "d1", "d2"],
            "households": [100.0, 200.0, 300.0],
        },
        geometry=[_square(200, 0, 200), _square(800, 300, 200), _square(3000, 3000, 200)],
        crs=GK,
    )
    districts = gpd.GeoDataFrame(
        {"district_id": ["d1", "d2"], "name": ["城厢镇", XSS_TEMPLATE]},
        geometry=[_square(-500, -500, 2000), _square(1500, -500, 2500)],
        crs=GK,
    )
    boundary = gpd.GeoDataFrame(
        {"boundary_id": ["b"]}, geometry=[_square(-600, -600, 4400)], crs=GK
    )
    new_parks = gpd.GeoDataFrame(
        {
            "park_id": ["n1"],
            "name": ["新口袋公园"],
            "park_class": ["G14"],
            "is_pocket_park": [True],
        },
        geometry=[_square(3250, 3000, 60)],  # 3600 m² → 300 m, next to r3
        crs=GK,
    )
    plans = gpd.GeoDataFrame(
        {
            "plan_id": ["P1", "P2"],
            "name": ["古松弄", f"胜利村 {XSS_IMG}"],
            "plan_type": ["renewal", "renewal"],
            "status": ["签约中", "规划"],
        },
        geometry=[_square(200, -300, 300), _square(500, -300, 300)],
        crs=GK,
    )
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ["a", "b", "c", "d"],
            "name": ["甲地块", "乙地块", "丙地块", BACKSLASH],
            "households_residential": [100, 50, 20, 0],
            "households_nonresidential": [10, 0, 5, 0],
            "households_shops": [5, 5, 0, 0],
            "households_signed": [115, 20, 0, 0],
        },
        geometry=[
            _square(220, -280, 100),  # in P1, all signed
            _square(450, -280, 100),  # shared by P1 and P2, partly signed
            _square(600, -200, 100),  # in P2, none signed
            _square(700, -100, 50),  # in P2, no households
        ],
        crs=GK,
    )
    before = hand_coverage(parks, residential, districts)
    all_parks = pd.concat([parks, new_parks], ignore_index=True)
    all_parks = gpd.GeoDataFrame(all_parks, geometry="geometry", crs=GK)
    after = hand_coverage(all_parks, residential, districts)
    return SimpleNamespace(
        parks=parks,
        residential=residential,
        districts=districts,
        boundary=boundary,
        new_parks=new_parks,
        all_parks=all_parks,
        plans=plans,
        parcels=parcels,
        coverage=before,
        before=before,
        after=after,
    )


@pytest.fixture
def webmap_city() -> SimpleNamespace:
    """The tiny city of :func:`make_city` (fresh per test)."""
    return make_city()


def city_layers(city: SimpleNamespace, **layers: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The input layers of the tiny city (``layers`` replace or add some, e.g. ``parks``)."""
    base = {
        "parks": city.parks,
        "residential": city.residential,
        "districts": city.districts,
        "boundary": city.boundary,
        "plans": city.plans,
        "parcels": city.parcels,
    }
    return {**base, **layers}


def city_indicators(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    coverage=None,
    settings: dict | None = None,
):
    """Indicators of `layers`, gathered and computed by the orchestrator, as ``publish`` does.

    `coverage` replaces the straight-line result by a given one (e.g. the hand-made
    oracle of :func:`hand_coverage`), so the maps can be checked against it.
    """
    indicators = compute_indicators(gather_inputs(None, layers, settings=settings))
    if coverage is not None:
        indicators = dataclasses.replace(indicators, buffer=coverage)
    return indicators


def plan_indicators(plans: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None = None):
    """The plan indicators of `plans` (and `parcels`), computed by the orchestrator."""
    layers = {"plans": plans} if parcels is None else {"plans": plans, "parcels": parcels}
    return compute_indicators(gather_inputs(None, layers), methods=()).plans


def city_change(city: SimpleNamespace) -> CoverageChange:
    """The change of the tiny city: the new pocket park n1, with the engine's figures.

    The before/after results are the hand-made oracles; the closed and opened blind
    spots come from the engine, as the recompute builds them; n1's own gain is the
    whole of r3 (200 m × 200 m, 300 households), which no other park reaches.
    """
    gains = pd.DataFrame(
        {"park_id": ["n1"], "unique_covered_m2": [40_000.0], "unique_weight": [300.0]}
    )
    return CoverageChange(
        before=city.before,
        after=city.after,
        added_parks=city.new_parks,
        removed_park_ids=(),
        park_gains=gains,
        closed_blind_spots=coverage.closed_blind_spots(city.before, city.after),
        opened_blind_spots=coverage.opened_blind_spots(city.before, city.after),
    )


# ---------------------------------------------------------------- browser


def blank_png(size: int = 256) -> bytes:
    """A fully transparent RGBA PNG of `size` × `size` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00" * (4 * size) for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


_BLANK_PNG = blank_png()

_TILE_HOSTS = ("tile.openstreetmap.org", "autonavi.com", "tianditu.gov.cn", "tiles.example.test")

# Counts features per gisrenew layer, and how many are drawn (SVG path in the DOM, or
# registered with a canvas renderer and inside the view).
_COUNT_JS = """
() => {
    const out = {};
    for (const [key, layer] of Object.entries(window.gisrenew.layers)) {
        let features = 0, drawn = 0, canvas = 0;
        layer.eachLayer((l) => {
            features += 1;
            if (!l._map) { return; }
            if (l._renderer instanceof L.Canvas) {
                canvas += 1;
                if ((l._parts && l._parts.length) || l._point) { drawn += 1; }
            } else if (l._path && l._path.isConnected) {
                drawn += 1;
            }
        });
        out[key] = {features, drawn, canvas, shown: window.gisrenew.map.hasLayer(layer)};
    }
    return out;
}
"""


@dataclass
class MapPage:
    """A map page opened in Chromium, with what it logged and fetched."""

    page: object
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)
    tiles: list[str] = field(default_factory=list)

    def counts(self) -> dict:
        """Per gisrenew layer key: features, drawn, canvas, shown."""
        return self.page.evaluate(_COUNT_JS)

    def click_feature(self, key: str, index: int = 0) -> str:
        """Click the centre of feature `index` of layer `key` like a user; return the popup text."""
        point = self.page.evaluate(
            """([key, index]) => {
                const layer = window.gisrenew.layers[key];
                const target = layer.getLayers()[index];
                const map = window.gisrenew.map;
                const latlng = target.getLatLng
                    ? target.getLatLng() : target.getBounds().getCenter();
                const p = map.latLngToContainerPoint(latlng);
                const box = map.getContainer().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y];
            }""",
            [key, index],
        )
        self.close_popup()
        self.page.mouse.click(point[0], point[1])
        popup = self.page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible", timeout=3000)
        return popup.inner_text()

    def click_at(self, lat: float, lng: float) -> str:
        """Click the map at (`lat`, `lng`) like a user; return the text of the popup that opens."""
        point = self.page.evaluate(
            """([lat, lng]) => {
                const map = window.gisrenew.map;
                const p = map.latLngToContainerPoint([lat, lng]);
                const box = map.getContainer().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y];
            }""",
            [lat, lng],
        )
        self.close_popup()
        self.page.mouse.click(point[0], point[1])
        popup = self.page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible", timeout=3000)
        return popup.inner_text()

    def screenshot(self, path) -> None:
        """Screenshot once popups and fades have settled."""
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(path))

    def close_popup(self) -> None:
        """Close the open popup and wait until it has left the page."""
        self.page.evaluate("() => { window.gisrenew.map.closePopup(); }")
        self.page.wait_for_function("() => !document.querySelector('.leaflet-popup')", timeout=3000)


class MapBrowser:
    """Opens map files in one persistent headless Chromium context."""

    def __init__(self, context):
        self.context = context

    def open(self, path: Path, *, offline: bool, width: int = 1000, height: int = 700) -> MapPage:
        """Open `path`; `offline` blocks every network request (and records it)."""
        from gisrenew.webmap.assets import local_copy

        page = self.context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        result = MapPage(page)
        page.on("pageerror", lambda exc: result.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                result.errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type in ("error", "warning", "assert")
                else None
            ),
        )

        def handle(route):
            url = route.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                route.continue_()
                return
            if offline:
                result.blocked.append(url)
                route.abort()
                return
            copy = local_copy(url)
            if copy is not None:
                result.served.append(url)
                body, kind = copy
                route.fulfill(status=200, body=body, content_type=kind)
                return
            if any(host in url for host in _TILE_HOSTS):
                result.tiles.append(url)
                route.fulfill(status=200, body=_BLANK_PNG, content_type="image/png")
                return
            result.blocked.append(url)
            route.abort()

        page.route("**/*", handle)
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => window.gisrenew && window.gisrenew.map", timeout=5000)
        # let Leaflet finish the fitBounds and draw
        page.wait_for_timeout(150)
        return result


@pytest.fixture(scope="session")
def map_browser(tmp_path_factory):
    """A headless Chromium (Debian) driven by Playwright; skipped locally, failing under CI."""
    in_ci = os.environ.get("CI", "").lower() == "true"

    def unavailable(reason: str):
        if in_ci:
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            user_data_dir=str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield MapBrowser(context)
        finally:
            context.close()
