"""The what-if page in a real browser: uvicorn on a free port, headless Chromium (Playwright).

A planner's workflow by mouse: pick the polygon tool, click the corners of a park on the
map, read the answer in the panel and see the closed blind spots drawn, undo, apply. Every
request the page makes goes to the local server (anything else is blocked and reported);
no page error, no payload from the data runs.

The stand-in session (:mod:`serve_fake`) checks the page and the server; the last test runs
the real :class:`gisrenew.whatif.WhatIfSession` on a copy of the sample city and checks the
figures against a from-scratch computation and the run history.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import uvicorn
from browser import XSS_IMG
from serve_fake import FakeSession

from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.present import formats
from gisrenew.project import copy_project
from gisrenew.recompute import read_history
from gisrenew.serve import create_app
from gisrenew.whatif import WhatIfSession

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"


class Server:
    """The app on uvicorn in a thread, on a port the system picked."""

    def __init__(self, app):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> Server:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            self.thread.join(0.01)
        raise RuntimeError("the test server did not start")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


class Page:
    """The page in Chromium, with its errors and the requests it was refused."""

    def __init__(self, context, url: str):
        self.page = context.new_page()
        self.page.set_viewport_size({"width": 1200, "height": 800})
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.sent: list[dict] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type in ("error", "assert") else None,
        )
        self.page.on("dialog", lambda dialog: dialog.accept())

        def route(route):
            if route.request.url.startswith(url):
                if route.request.url.endswith("/api/evaluate"):
                    self.sent.append(json.loads(route.request.post_data))
                route.continue_()
            else:
                self.blocked.append(route.request.url)
                route.abort()

        self.page.route("**/*", route)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("() => window.gisrenewServe && window.gisrenewServe.ready")

    def app(self, expression: str):
        return self.page.evaluate(
            f"() => {{ const app = window.gisrenewServe; return {expression}; }}"
        )

    def draw(self, ring_lonlat: list[tuple[float, float]]) -> None:
        """Zoom to the park, pick the polygon tool, click the corners and the first again."""
        answered = self.app("app.answered")
        lon = sum(p[0] for p in ring_lonlat) / len(ring_lonlat)
        lat = sum(p[1] for p in ring_lonlat) / len(ring_lonlat)
        self.page.evaluate(
            "([lat, lon]) => { window.gisrenewServe.map.setView([lat, lon], 17, {animate: false}); "
            "}",
            [lat, lon],
        )
        self.page.locator(".leaflet-pm-icon-polygon").click()
        points = self.page.evaluate(
            """(ring) => {
                const map = window.gisrenewServe.map;
                const box = map.getContainer().getBoundingClientRect();
                return ring.map(([lon, lat]) => {
                    const p = map.latLngToContainerPoint([lat, lon]);
                    return [box.left + p.x, box.top + p.y];
                });
            }""",
            ring_lonlat,
        )
        for x, y in [*points, points[0]]:
            self.page.mouse.click(x, y)
        self.wait_answered(answered)

    def hover(self, point, crs) -> None:
        """Zoom to `point` (in `crs`) and put the pointer on it."""
        lon, lat = gpd.GeoSeries([point], crs=crs).to_crs("EPSG:4326")[0].coords[0]
        x, y = self._at(lon, lat, 18)
        self.page.mouse.move(x - 3, y)
        self.page.mouse.move(x, y)
        self.page.locator(".leaflet-tooltip").wait_for()

    def click_at(self, lon: float, lat: float) -> None:
        """Zoom to (`lon`, `lat`), click the map there and wait for the answer."""
        answered = self.app("app.answered")
        self.page.mouse.click(*self._at(lon, lat, 17))
        self.wait_answered(answered)

    def _at(self, lon: float, lat: float, zoom: int) -> tuple[float, float]:
        """Zoom the map to (`lon`, `lat`); where that is on the screen."""
        return self.page.evaluate(
            """([lat, lon, zoom]) => {
                const map = window.gisrenewServe.map;
                map.setView([lat, lon], zoom, {animate: false});
                const box = map.getContainer().getBoundingClientRect();
                const p = map.latLngToContainerPoint([lat, lon]);
                return [box.left + p.x, box.top + p.y];
            }""",
            [lat, lon, zoom],
        )

    def wait_answered(self, before: int) -> None:
        self.page.wait_for_function(f"() => window.gisrenewServe.answered > {before}")

    def click(self, selector: str) -> None:
        answered = self.app("app.answered")
        self.page.locator(selector).click()
        self.wait_answered(answered)

    def check_clean(self) -> None:
        assert self.errors == []
        assert self.blocked == [], f"the page fetched {self.blocked}"
        assert self.page.evaluate("() => window.__xss") is None, "a payload in the data ran"
        assert self.page.locator("img[src='x']").count() == 0


def square_around(lon: float, lat: float, metres: float) -> list[tuple[float, float]]:
    """The corners of a square of side `metres` centred on (`lon`, `lat`), in WGS84."""
    centre = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs("EPSG:4549")[0]
    box = shapely.box(*centre.buffer(metres / 2, cap_style="square").bounds)
    ring = gpd.GeoSeries([box], crs="EPSG:4549").to_crs("EPSG:4326")[0].exterior.coords
    return [(x, y) for x, y in list(ring)[:-1]]


def park_area(feature: dict, crs: str = "EPSG:4549") -> float:
    shape = shapely.geometry.shape(feature["geometry"])
    return float(gpd.GeoSeries([shape], crs="EPSG:4326").to_crs(crs).area[0])


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return copy_project(SAMPLE, tmp_path_factory.mktemp("serve-browser") / "city")


def test_draw_undo_apply_with_the_page(map_browser, city):
    session = FakeSession(city)
    parks = city.read("parks").to_crs("EPSG:4326")
    lon, lat = parks.geometry.union_all().centroid.coords[0]
    with Server(create_app(session, token=None)) as server:
        page = Page(map_browser.context, server.url)
        # the land arrives packed (issue #19 item 5): drawn as a few canvas polygons per
        # class, which hold every piece's polygons
        residential = city.read("residential")
        drawn = "app.layers.residential.getLayers()"
        assert page.app(f"{drawn}.length") < len(residential) / 10
        parts = page.app(f"{drawn}.reduce((n, p) => n + p.getLatLngs().length, 0)")
        assert parts == int(shapely.get_num_geometries(residential.geometry.values).sum())
        # each piece still answers: the tooltip of the piece under the pointer
        parks_here = city.read("parks").to_crs(residential.crs).geometry.union_all()
        away = residential[residential["name"].notna() & ~residential.intersects(parks_here)]
        piece = away.iloc[0]
        page.hover(piece.geometry.representative_point(), residential.crs)
        assert piece["name"] in page.page.locator(".leaflet-tooltip").inner_text()
        page.draw(square_around(lon, lat, 100))
        sent = page.sent[-1]
        assert len(sent["add"]) == 1 and sent["add"][0]["geometry"]["type"] == "Polygon"
        area = park_area(sent["add"][0])
        assert 9_000 < area < 11_000  # the square drawn by clicks: 100 m a side, to a pixel
        expected = session.evaluate(sent)["buffer"]
        answer = page.app("app.lastAnswer")
        assert answer["buffer"]["ratio_after"] == expected["ratio_after"]
        ratio_text = page.page.locator("#ratio-buffer").inner_text()
        assert formats.percent(expected["ratio_after"]) in ratio_text
        assert page.app("app.closed.getLayers().length") == 1  # the closed spot is drawn
        page.click("#undo")
        assert page.app("app.lastAnswer") is None
        assert page.app("app.closed") is None
        assert page.app("app.current.group.getLayers().length") == 0
        page.draw(square_around(lon, lat, 60))
        page.page.locator("#apply").click()
        page.page.wait_for_function("() => window.gisrenewServe.applied !== null")
        assert session.calls[-1][0] == "apply"
        assert park_area(session.calls[-1][1]["add"][0]) == pytest.approx(3600, rel=0.1)
        assert "7" in page.page.locator("#status").inner_text()
        page.draw(square_around(lon, lat, 60))
        page.page.locator("#save").click()
        page.page.wait_for_function("() => window.gisrenewServe.saved !== null")
        assert session.calls[-1][0] == "save_candidate"
        assert "C90" in page.page.locator("#status").inner_text()
        page.page.screenshot(path=str(city.folder / "serve-page.png"))
        page.check_clean()


def test_names_from_the_page_are_shown_as_text(map_browser, city):
    session = FakeSession(city)
    lon, lat = city.read("parks").to_crs("EPSG:4326").geometry.union_all().centroid.coords[0]
    with Server(create_app(session, token=None, lang="en")) as server:
        page = Page(map_browser.context, server.url)
        page.page.fill("#sketch-name", XSS_IMG)
        page.page.dispatch_event("#sketch-name", "change")
        page.draw(square_around(lon, lat, 80))
        assert XSS_IMG in page.page.locator("#parks").inner_text()
        assert XSS_IMG in page.page.locator("#sketch-list").inner_text()
        # two sketches side by side
        page.page.locator("#new-sketch").click()
        page.draw(square_around(lon + 0.01, lat, 50))
        assert page.page.locator("#compare-table tr").count() == 3
        page.check_clean()


def test_the_real_session_in_the_page(map_browser, tmp_path):
    project = copy_project(SAMPLE, tmp_path / "city")
    before = compute_indicators(gather_inputs(project), methods=["buffer"]).buffer
    spot = before.blind_spots.sort_values("area_m2").geometry.iloc[-1]
    lon, lat = (
        gpd.GeoSeries([spot.representative_point()], crs=before.blind_spots.crs)
        .to_crs("EPSG:4326")[0]
        .coords[0]
    )
    session = WhatIfSession.open(project)
    with Server(create_app(session, token=None)) as server:
        page = Page(map_browser.context, server.url)
        page.draw(square_around(lon, lat, 80))
        sketch = page.sent[-1]
        answer = page.app("app.lastAnswer")
        assert answer["buffer"]["ratio_after"] == session.evaluate(sketch)["buffer"]["ratio_after"]
        # from scratch: the project's parks and the drawn one
        parks = project.read("parks")
        drawn = gpd.GeoDataFrame(
            {"park_id": ["SKETCH1"], "name": ["drawn"], "park_class": ["G14"]},
            geometry=[shapely.geometry.shape(sketch["add"][0]["geometry"])],
            crs="EPSG:4326",
        ).to_crs(parks.crs)
        merged = pd.concat([parks, drawn], ignore_index=True)
        scratch = compute_indicators(
            gather_inputs(project, files={"parks": merged}), methods=["buffer"]
        ).buffer
        assert answer["buffer"]["ratio_after"] == pytest.approx(scratch.ratio, abs=1e-12)
        closed = answer["blind_spots_closed"]
        assert closed["count"] > 0
        assert page.app("app.closed.getLayers().length") == len(closed["geojson"]["features"])
        page.click("#undo")
        assert page.app("app.closed") is None
        page.draw(square_around(lon, lat, 80))
        page.page.locator("#apply").click()
        page.page.wait_for_function("() => window.gisrenewServe.applied !== null")
        run_id = page.app("app.applied.run_id")
        history = read_history(project)
        assert run_id in set(history["run_id"])
        page.check_clean()


def inside_lonlat(frame: gpd.GeoDataFrame, row: int) -> tuple[float, float]:
    """A point inside feature `row` of `frame`, in WGS84 lon/lat."""
    point = frame.geometry.iloc[[row]].representative_point().to_crs("EPSG:4326").iloc[0]
    return point.x, point.y


def test_remove_pick_undo_and_switch_sketches(map_browser, city):
    session = FakeSession(city)
    parks, sites = city.read("parks"), city.read("candidates")
    park, site = parks.iloc[40], sites.iloc[3]
    with Server(create_app(session, token=None, lang="en")) as server:
        page = Page(map_browser.context, server.url)
        assert page.app("app.layers.candidates.getLayers().length") == len(sites)
        lon, lat = inside_lonlat(sites, 3)
        page.draw(square_around(lon + 0.003, lat, 60))  # drawn first: its canvas is the city's
        page.click_at(*inside_lonlat(parks, 40))
        page.click_at(lon, lat)
        sent = page.sent[-1]
        assert len(sent["add"]) == 1
        assert sent["remove"] == [park["park_id"]]
        assert sent["candidates"] == [site["candidate_id"]]
        actions = page.page.locator("#sketch-actions li").all_inner_texts()
        assert actions[1] == f"park removed：{park['park_id']} {park['name']}"
        assert actions[2] == f"candidate site picked：{site['candidate_id']} {site['name']}"
        removed = page.page.locator("#removed").inner_text()
        assert formats.area_summary(park.geometry.area, "en") in removed
        style = (
            "app.layers.parks.getLayers().find((l) => l.feature.properties.park_id === "
            f"{json.dumps(park['park_id'])}).options.fillColor"
        )
        assert page.app(style) == "#9e9e9e"  # drawn grey: removed in this sketch
        page.click("#undo")  # the pick, the last action, is taken back
        assert page.sent[-1]["candidates"] == [] and page.sent[-1]["remove"] == [park["park_id"]]
        page.page.locator("#new-sketch").click()
        assert page.app(style) == "#2e7d32"  # another sketch: the park stands
        assert page.page.locator("#sketch-actions li").count() == 0
        page.page.locator("#sketch-list button").first.click()
        assert page.app(style) == "#9e9e9e"
        assert page.page.locator("#sketch-actions li").count() == 2
        page.click_at(*inside_lonlat(parks, 40))  # clicked again: back in the city
        assert page.sent[-1]["remove"] == [] and len(page.sent[-1]["add"]) == 1
        assert page.app(style) == "#2e7d32"
        page.check_clean()


def test_remove_and_pick_with_the_real_session(map_browser, tmp_path):
    project = copy_project(SAMPLE, tmp_path / "city")
    session = WhatIfSession.open(project)
    parks, sites = project.read("parks"), project.read("candidates")
    losses = [session.evaluate({"remove": [p]}, walk=False)["removed"][0]["loss_m2"] for p in
              parks["park_id"]]  # fmt: skip
    row = max(range(len(parks)), key=losses.__getitem__)  # the park whose closing costs most
    pid, cid = parks["park_id"].iloc[row], sites["candidate_id"].iloc[0]
    before = session.state()["ratio"]
    with Server(create_app(session, token=None)) as server:
        page = Page(map_browser.context, server.url)
        page.click_at(*inside_lonlat(parks, row))
        assert page.sent[-1] == {"add": [], "remove": [pid], "candidates": []}
        removed = session.evaluate({"remove": [pid]})["buffer"]["ratio_after"]
        assert removed < before
        assert page.app("app.lastAnswer.buffer.ratio_after") == removed
        assert formats.percent(removed) in page.page.locator("#ratio-buffer").inner_text()
        page.click("#undo")
        assert page.app("app.lastAnswer") is None
        page.click_at(*inside_lonlat(sites, 0))
        assert page.sent[-1] == {"add": [], "remove": [], "candidates": [cid]}
        picked = session.evaluate({"candidates": [cid]})["buffer"]["ratio_after"]
        assert picked > before
        assert page.app("app.lastAnswer.buffer.ratio_after") == picked
        assert formats.percent(picked) in page.page.locator("#ratio-buffer").inner_text()
        page.page.locator("#apply").click()
        page.page.wait_for_function("() => window.gisrenewServe.applied !== null")
        run_id = page.app("app.applied.run_id")
        history = read_history(project)
        run = history[history["run_id"] == run_id]
        assert len(run) == 1 and run["ratio_after"].iloc[0] == pytest.approx(picked, abs=1e-12)
        after = project.read("parks")
        assert len(after) == len(parks) + 1
        new = after[~after["park_id"].isin(parks["park_id"])]
        assert new["name"].tolist() == [sites["name"].iloc[0]]
        assert new.geometry.area.iloc[0] == pytest.approx(sites.geometry.area.iloc[0])
        assert page.app("app.current.actions.length") == 0
        page.check_clean()
