"""The published maps in a real browser (headless Debian Chromium via Playwright).

Each test opens a map with every request routed (CDN files from local copies or
blocked, tiles answered with a blank PNG) and checks: no console or page error,
every feature drawn, a click opens a popup with the right (Chinese) text, the
XSS payloads in the data neither run nor break the map, and a screenshot.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from browser import (
    BACKSLASH,
    BACKTICK,
    GK,
    X0,
    XSS_IMG,
    XSS_TEMPLATE,
    Y0,
    city_change,
    city_indicators,
    city_layers,
    plan_indicators,
)

from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.webmap import (
    MapOptions,
    before_after_map,
    coverage_map,
    get_basemap,
    plans_map,
    publish_site,
    save_map,
)

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"


def _check_clean(page, *, offline: bool) -> None:
    assert page.errors == []
    assert page.page.evaluate("() => window.__xss") is None, "a payload in the data ran"
    assert page.page.locator("img[src='x']").count() == 0, "a payload became an <img> element"
    if offline:
        assert page.blocked == [], f"the offline map fetched {page.blocked}"
        assert page.served == [] and page.tiles == []
    else:
        assert page.blocked == [], f"unexpected requests: {page.blocked}"


def _check_drawn(page, m) -> dict:
    counts = page.counts()
    expected = m.gisrenew_layers
    assert set(counts) == set(expected)
    for key, info in expected.items():
        assert counts[key]["features"] == info["features"], key
        assert counts[key]["shown"] == info["show"], key
        if info["show"]:
            assert counts[key]["drawn"] == info["features"], (key, counts[key])
    return counts


def test_coverage_map_online(map_browser, webmap_city, tmp_path):
    city = webmap_city
    m = coverage_map(
        city.coverage, city.parks, districts=city.districts, boundary=city.boundary, basemap="osm"
    )
    path = save_map(m, tmp_path / "coverage.html", offline=False)  # Leaflet from the CDN
    page = map_browser.open(path, offline=False)
    try:
        counts = _check_drawn(page, m)
        assert counts["parks"]["features"] == 3
        assert counts["residential"]["features"] == 3
        assert counts["districts"]["features"] == 2
        assert counts["parks_pocket"]["features"] == 2
        # Leaflet came from the (routed) CDN, tiles were requested and answered blank
        assert any(url.endswith("leaflet.js") for url in page.served)
        assert page.tiles and all("tile.openstreetmap.org" in url for url in page.tiles)
        # a click on 东园 opens its popup with the Chinese text
        text = page.click_feature("parks", 0)
        assert "东园" in text and "社区公园" in text and "500 m" in text
        page.close_popup()
        # the <img> payload park: its name is shown as text, and nothing ran
        text = page.click_feature("parks", 2)
        assert XSS_IMG in text
        assert "不计入" not in text or "否" in text
        page.close_popup()
        # the template-literal payload park and residential names with \ and `
        text = page.click_feature("parks", 1)
        assert XSS_TEMPLATE in text
        page.close_popup()
        text = page.click_feature("residential", 0)
        assert BACKSLASH in text
        page.close_popup()
        text = page.click_feature("residential", 1)
        assert BACKTICK in text
        page.close_popup()
        title = page.page.locator(".gr-title").inner_text()
        assert f"{100 * city.coverage.ratio:.1f}%" in title
        layer_names = page.page.locator(".leaflet-control-layers").inner_text()
        assert "公园绿地" in layer_names and "服务盲区" in layer_names
        _check_clean(page, offline=False)
        page.screenshot(tmp_path / "coverage.png")
    finally:
        page.page.close()


def test_offline_map_with_all_network_blocked(map_browser, webmap_city, tmp_path):
    city = webmap_city
    m = coverage_map(
        city.coverage,
        city.parks,
        districts=city.districts,
        basemap="none",
        title=f"离线 {XSS_IMG} {XSS_TEMPLATE} {BACKSLASH} {BACKTICK}",
        options=MapOptions(canvas_features=0),  # every layer on a canvas
    )
    path = save_map(m, tmp_path / "offline.html", offline=True)
    page = map_browser.open(path, offline=True)
    try:
        counts = _check_drawn(page, m)
        assert all(c["canvas"] == c["features"] for c in counts.values())
        assert page.page.locator("path.leaflet-interactive").count() == 0
        # Leaflet's own CSS is inlined: the layer control is laid out as Leaflet styles it
        position = page.page.evaluate(
            "() => getComputedStyle(document.querySelector("
            "'.leaflet-control-container .leaflet-top')).position"
        )
        assert position == "absolute"
        # the title payloads show as text
        title = page.page.locator(".gr-title h1").inner_text()
        assert title == f"离线 {XSS_IMG} {XSS_TEMPLATE} {BACKSLASH} {BACKTICK}"
        # a click on the canvas finds the park and opens its popup
        text = page.click_feature("parks", 0)
        assert "东园" in text and "1.00 公顷（15.0 亩）" in text
        page.close_popup()
        text = page.click_feature("districts", 1)
        assert XSS_TEMPLATE in text
        _check_clean(page, offline=True)
        page.screenshot(tmp_path / "offline.png")
    finally:
        page.page.close()


def test_gaode_map_is_shifted_and_custom_tiles_escaped(map_browser, webmap_city, tmp_path):
    from gisrenew.webmap.gcj02 import wgs84_to_gcj02

    city = webmap_city
    m = coverage_map(city.coverage, city.parks, basemap="gaode", lang="en")
    path = save_map(m, tmp_path / "gaode.html", offline=False)
    page = map_browser.open(path, offline=False)
    try:
        _check_drawn(page, m)
        assert page.tiles and all("autonavi.com" in url for url in page.tiles)
        # the park's south-west corner on the page equals the WGS84 corner shifted to GCJ-02
        corner = page.page.evaluate(
            "() => { const b = window.gisrenew.layers.parks.getLayers()[0].getBounds();"
            " return [b.getWest(), b.getSouth()]; }"
        )
        wgs = city.parks.to_crs(4326).geometry.iloc[0].bounds
        lon, lat = wgs84_to_gcj02(wgs[0], wgs[1])
        assert corner[0] == pytest.approx(float(lon), abs=2e-6)
        assert corner[1] == pytest.approx(float(lat), abs=2e-6)
        assert abs(corner[0] - wgs[0]) > 0.003  # ~450 m in Taicang: really shifted
        text = page.click_feature("parks", 0)
        assert "community park" in text
        _check_clean(page, offline=False)
        page.screenshot(tmp_path / "gaode.png")
    finally:
        page.page.close()
    # an intranet tile server whose attribution carries a payload
    basemap = get_basemap(
        "custom", url="https://tiles.example.test/{z}/{x}/{y}.png", attribution=XSS_IMG
    )
    m = coverage_map(city.coverage, city.parks, basemap=basemap)
    path = save_map(m, tmp_path / "custom.html", offline=False)
    page = map_browser.open(path, offline=False)
    try:
        assert page.tiles and all("tiles.example.test" in url for url in page.tiles)
        assert XSS_IMG in page.page.locator(".leaflet-control-attribution").inner_text()
        _check_clean(page, offline=False)
    finally:
        page.page.close()


def test_plans_map_popups(map_browser, webmap_city, tmp_path):
    city = webmap_city
    m = plans_map(plan_indicators(city.plans, city.parcels), boundary=city.boundary, basemap="osm")
    path = save_map(m, tmp_path / "plans.html", offline=False)
    page = map_browser.open(path, offline=False)
    try:
        counts = _check_drawn(page, m)
        assert counts["plans"]["features"] == 2
        assert counts["affected_parcels"]["features"] == 4
        # parcel a: 100 residential + 10 non-residential + 5 shops, all 115 signed
        text = page.click_feature("affected_parcels", 0)
        assert "甲地块" in text and "古松弄" in text
        assert re.search(r"居民户\s+100", text) and re.search(r"商铺\s+5", text)
        assert "已完成签约" in text and "100.0%" in text
        # the parcel named C:\users\公园 (no households)
        text = page.click_feature("affected_parcels", 3)
        assert BACKSLASH in text and "无住户" in text
        # the plan whose name carries an <img> payload: shown as text
        page.close_popup()
        page.page.evaluate(
            "() => { window.gisrenew.map.removeLayer(window.gisrenew.layers.affected_parcels); }"
        )
        text = page.click_feature("plans", 1)
        assert XSS_IMG in text and "胜利村" in text
        title = page.page.locator(".gr-title").inner_text()
        assert "2" in title and "合计户数" in title
        _check_clean(page, offline=False)
        page.screenshot(tmp_path / "plans.png")
    finally:
        page.page.close()


def test_before_after_map_toggles(map_browser, webmap_city, tmp_path):
    city = webmap_city
    m = before_after_map(
        city_change(city), parks=city.parks, districts=city.districts, basemap="none"
    )
    path = save_map(m, tmp_path / "before_after.html", offline=True)
    page = map_browser.open(path, offline=True)
    try:
        counts = _check_drawn(page, m)
        assert counts["new_parks"]["features"] == 1
        assert counts["closed_blind_spots"]["features"] == 1  # r3 gains coverage
        text = page.click_feature("new_parks", 0)
        assert "新口袋公园" in text
        page.close_popup()
        # untick "新增覆盖" in the layer control like a user: its features leave the map
        control = page.page.locator(".leaflet-control-layers-overlays label", has_text="新增覆盖")
        control.locator("input").click()
        assert page.counts()["closed_blind_spots"]["shown"] is False
        control.locator("input").click()
        assert page.counts()["closed_blind_spots"]["drawn"] == 1
        _check_clean(page, offline=True)
        page.screenshot(tmp_path / "before_after.png")
    finally:
        page.page.close()


def _check_site(map_browser, site: Path, shots: Path, *, offline: bool) -> dict:
    """Open every map of a published site; check it like the tests above; screenshot it."""
    summary = json.loads((site / "index.json").read_text(encoding="utf-8"))
    for item in summary["maps"]:
        page = map_browser.open(site / item["file"], offline=offline)
        try:
            counts = page.counts()
            for key, info in item["layers"].items():
                assert counts[key]["features"] == info["features"], (item["file"], key)
                assert counts[key]["shown"] == info["show"], (item["file"], key)
                if info["show"]:
                    assert counts[key]["drawn"] == info["features"], (
                        item["file"],
                        key,
                        counts[key],
                    )
            for key in ("parks", "plans", "new_parks"):
                if key in counts and counts[key]["shown"]:
                    text = page.click_feature(key, 0)
                    assert text.strip(), (item["file"], key)
                    break
            _check_clean(page, offline=offline)
            page.screenshot(shots / f"{item['key']}.png")
        finally:
            page.page.close()
    return summary


def test_published_site(map_browser, webmap_city, tmp_path):
    city = webmap_city
    layers = city_layers(city, parks=city.all_parks)
    indicators = city_indicators(layers, coverage=city.after, settings={"maps": {"title": "太仓"}})
    site = tmp_path / "site"
    publish_site(indicators, site, change=city_change(city), basemap="gaode")
    summary = _check_site(map_browser, site, tmp_path, offline=False)
    assert [m["key"] for m in summary["maps"]] == ["coverage", "plans", "before_after"]
    # the index page links every map, and opens without errors or requests
    page = map_browser.context.new_page()
    try:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith("file:") else route.abort()
            ),
        )
        page.goto((site / "index.html").as_uri())
        hrefs = page.locator("h3 a").evaluate_all(
            "(links) => links.map((a) => a.getAttribute('href'))"
        )
        assert hrefs == ["coverage.html", "plans.html", "before_after.html"]
        assert errors == []
    finally:
        page.close()


@pytest.mark.slow
def test_published_sample_city_offline(map_browser, tmp_path):
    """The sample city (data/geo/taicang_sample) published offline; every map checked."""
    if not (SAMPLE / "gisrenew.toml").is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the sample city is missing: {SAMPLE}")
        pytest.skip("the sample city has not been generated yet")
    site = tmp_path / "maps"
    publish_site(compute_indicators(gather_inputs(SAMPLE)), site, offline=True)
    summary = _check_site(map_browser, site, tmp_path, offline=True)
    keys = [m["key"] for m in summary["maps"]]
    assert keys[0] == "coverage" and "plans" in keys
    assert summary["lang"] == "zh"


def _lat_lng(x: float, y: float) -> tuple[float, float]:
    """The WGS84 latitude and longitude of a point of the tiny city (metres from X0, Y0)."""
    point = gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y)], crs=GK).to_crs(4326).iloc[0]
    return point.y, point.x


def test_residential_land_answers_the_click_inside_a_service_area(
    map_browser, webmap_city, tmp_path
):
    """Issue #14: a click on residential land inside a service area opened the service
    area's popup (its SVG lay above the residential canvas); one renderer per page now."""
    city = webmap_city
    m = coverage_map(
        city.coverage, city.parks, districts=city.districts,
        options=MapOptions(canvas_features=2),  # residential (3 features) needs the canvas
    )  # fmt: skip
    path = save_map(m, tmp_path / "click.html")
    page = map_browser.open(path, offline=True)
    try:
        _check_drawn(page, m)
        # r1 (200–400 m east of 东园) lies inside 东园's 500 m service area
        text = page.click_at(*_lat_lng(300, 100))
        assert BACKSLASH in text and "所属片区" in text and "城厢镇（d1）" in text
        assert "服务范围" not in text
        # west of 东园 there is no residential land: the service area answers, naming its park
        text = page.click_at(*_lat_lng(-300, 50))
        assert "东园（p1）" in text and "500 m" in text
        _check_clean(page, offline=True)
    finally:
        page.page.close()


def test_packed_layers_draw_offline_and_answer_clicks_in_drawing_order(
    map_browser, webmap_city, tmp_path
):
    """Issue #15: large polygon layers are packed arrays drawn in chunks; each feature still
    answers its own click and hover, in the drawing order (residential land over service
    areas, blind spots over residential land, parks on top), also after being shown again."""
    city = webmap_city
    m = coverage_map(
        city.coverage, city.parks, districts=city.districts,
        options=MapOptions(packed_features=1),  # every polygon layer of 2+ features packed
    )  # fmt: skip
    packed = {key for key, info in m.gisrenew_layers.items() if info["packed"]}
    assert {"residential", "blind_spots", "parks", "service_areas", "districts"} <= packed
    path = save_map(m, tmp_path / "packed.html")
    page = map_browser.open(path, offline=True)
    try:
        page.page.wait_for_function("() => window.gisrenew.pending === 0", timeout=5000)
        counts = page.counts()
        for key in packed:  # chunks of features, every one drawn
            assert counts[key]["canvas"] >= 1 and counts[key]["drawn"] == counts[key]["features"]
        # r1 lies inside 东园's 500 m service area: the residential land answers
        text = page.click_at(*_lat_lng(300, 100))
        assert BACKSLASH in text and "所属片区" in text and "城厢镇（d1）" in text
        assert "服务范围" not in text
        # r2: its uncovered north-west is a blind spot (drawn above), its covered corner not
        text = page.click_at(*_lat_lng(820, 480))
        assert text.startswith("服务盲区") and BACKTICK in text
        text = page.click_at(*_lat_lng(950, 320))
        assert not text.startswith("服务盲区") and BACKTICK in text and "所属片区" in text
        # a park over its own service area; west of 东园 the service area names its park
        assert "东园" in page.click_at(*_lat_lng(50, 50))
        assert "东园（p1）" in page.click_at(*_lat_lng(-300, 50))
        # hovering residential land shows its own tooltip
        page.close_popup()
        lat, lng = _lat_lng(300, 100)
        point = page.page.evaluate(
            """([lat, lng]) => { const p = window.gisrenew.map.latLngToContainerPoint([lat, lng]);
                const box = window.gisrenew.map.getContainer().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y]; }""",
            [lat, lng],
        )
        for step in (3, 2, 1, 0):  # a few moves, as a hand makes them
            page.page.mouse.move(point[0] - step, point[1])
            page.page.wait_for_timeout(50)
        tooltip = page.page.locator(".leaflet-tooltip")
        tooltip.wait_for(state="visible", timeout=3000)
        assert BACKSLASH in tooltip.inner_text()
        # residential land shown again from the layer control stays below the blind spots
        control = page.page.locator(".leaflet-control-layers-overlays label", has_text="覆盖比例")
        control.locator("input").click()
        assert page.counts()["residential"]["shown"] is False
        control.locator("input").click()
        assert page.click_at(*_lat_lng(820, 480)).startswith("服务盲区")
        _check_clean(page, offline=True)
        page.screenshot(tmp_path / "packed.png")
    finally:
        page.page.close()


def test_an_internet_basemap_is_said_and_the_data_draw_without_it(
    map_browser, webmap_city, tmp_path
):
    city = webmap_city
    m = coverage_map(city.coverage, city.parks, districts=city.districts, basemap="osm")
    path = save_map(m, tmp_path / "osm.html")  # self-contained: only the tiles need the internet
    page = map_browser.open(path, offline=True)  # no network at all
    try:
        _check_drawn(page, m)
        assert page.blocked and all("tile.openstreetmap.org" in url for url in page.blocked)
        note = page.page.locator(".gr-title .gr-note").inner_text()
        assert "OpenStreetMap" in note and "无网络" in note
        assert page.page.evaluate("() => window.__xss") is None
        assert not [e for e in page.errors if "Failed to load resource" not in e]
    finally:
        page.page.close()


def test_a_notebook_map_draws_with_no_network(map_browser, webmap_city, tmp_path):
    """A map shown in Jupyter is its self-contained page in an iframe: it needs no CDN."""
    city = webmap_city
    m = coverage_map(city.coverage, city.parks, districts=city.districts)
    cell = tmp_path / "cell.html"
    cell.write_text(f"<!DOCTYPE html><html><body>{m._repr_html_()}</body></html>", "utf-8")
    page = map_browser.context.new_page()
    errors, requests = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:", "about:")):
            request_route.continue_()
        else:
            requests.append(url)
            request_route.abort()

    try:
        page.route("**/*", route)
        page.goto(cell.as_uri(), wait_until="load")
        frame = page.frames[1]
        frame.wait_for_function("() => window.gisrenew && window.gisrenew.map", timeout=5000)
        drawn = frame.evaluate(
            "() => Object.fromEntries(Object.entries(window.gisrenew.layers)"
            ".map(([k, l]) => [k, l.getLayers().filter((f) => f._map).length]))"
        )
        assert drawn == {k: info["features"] for k, info in m.gisrenew_layers.items()}
        assert errors == [] and requests == []
    finally:
        page.close()


@pytest.mark.slow
def test_a_planners_own_project_publishes_maps_that_draw_offline(
    map_browser, planner_data, tmp_path
):
    """Issue #14: a project with no offline setting anywhere publishes pages that draw their
    layers in a browser with every network request blocked, with no console error."""
    from click.testing import CliRunner

    from gisrenew.cli import main

    folder, files = planner_data
    project = tmp_path / "我的项目"

    def run(*args):
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert result.exit_code == 0, result.output

    run("init", project, folder)
    assert "offline" not in (project / "gisrenew.toml").read_text(encoding="utf-8")
    run("recompute", "--project", project, "--add-parks", files["new_parks"], "--no-publish")
    run("publish", "--project", project)
    summary = _check_site(map_browser, project / "maps", tmp_path, offline=True)
    keys = [m["key"] for m in summary["maps"]]
    assert {"coverage", "coverage_network", "plans", "before_after"} <= set(keys)
    assert summary["offline"] is True and summary["basemap"] == "none"
