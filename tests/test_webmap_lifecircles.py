"""The life-circle page 社区生活圈地图 (issue #17 item 5): drawn from the engine's result.

A tiny city (:func:`browser.make_city`) with a facility of every type of the default rule
set at the centre of r1, and every type but the kindergarten at the centre of r2 (the
nearest kindergarten, r1's, is 500 m or more away, beyond its 300 m; each cluster is a
circle of 30 m): by hand, r1 (200 m × 200 m, every corner within 142 + 30 m of a
facility) is in a complete 5-, 10- and 15-minute life circle, r2 lacks the kindergarten
and r3, far away, reaches nothing — a third of the residential land is complete in every
circle. A market is named with a script.
"""

from __future__ import annotations

import json
import math
import re

import geopandas as gpd
import pytest
import shapely
from browser import GK, X0, Y0, city_layers

from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.lifecircles import get_life_circle_rules
from gisrenew.webmap.lifecircles import FIGURES_ELEMENT_ID, SHOWN_GAPS, life_circle_map
from gisrenew.webmap.publish import publish_site

SCRIPT_NAME = "<script>window.__xss=(window.__xss||0)+1000</script>菜场"


def _around(x: float, y: float, n: int, count: int) -> tuple[float, float]:
    """Point `n` of `count` on a circle of 30 m around (x, y): each facility clickable."""
    angle = 2 * math.pi * n / count
    return x + 30 * math.cos(angle), y + 30 * math.sin(angle)


def _facilities() -> gpd.GeoDataFrame:
    types = get_life_circle_rules().types
    k = len(types)
    rows = [(f"a-{t}", t, f"甲{n}", _around(300, 100, n, k)) for n, t in enumerate(types)]
    rows += [(f"b-{t}", t, f"乙{n}", _around(900, 400, n, k)) for n, t in enumerate(types)
             if t != "kindergarten"]  # fmt: skip
    names = [SCRIPT_NAME if r[1] == "market" and r[0].startswith("a-") else r[2] for r in rows]
    return gpd.GeoDataFrame(
        {"facility_id": [r[0] for r in rows], "facility_type": [r[1] for r in rows],
         "name": names},
        geometry=[shapely.Point(X0 + x, Y0 + y) for *_, (x, y) in rows],
        crs=GK,
    )  # fmt: skip


@pytest.fixture
def lc_indicators(webmap_city):
    layers = city_layers(webmap_city, facilities=_facilities())
    layers = {k: v for k, v in layers.items() if k not in ("plans", "parcels")}
    inputs = gather_inputs(None, layers)
    return compute_indicators(inputs, methods=("buffer",), life_circles=True)


def _page_figures(html: str) -> dict:
    found = re.search(
        rf'<script type="application/json" id="{FIGURES_ELEMENT_ID}">(.*?)</script>', html, re.S
    )
    assert found, "the page holds no figures"
    return json.loads(found.group(1))


def test_the_hand_checked_city_is_a_third_complete(lc_indicators):
    result = lc_indicators.life_circles["buffer"]
    for minutes in (5, 10, 15):
        assert result.complete_share(minutes) == pytest.approx(1 / 3)
    land = result.land.set_index("residential_id")
    assert land.loc["r2", "missing_5min"] == "kindergarten"
    assert land.loc["r1", "complete_15min"] and not land.loc["r3", "complete_5min"]


def test_the_page_holds_the_figures_the_engine_gives(lc_indicators, tmp_path):
    files = publish_site(lc_indicators, tmp_path / "site", offline=True, lang="zh")
    page = tmp_path / "site" / "lifecircles.html"
    assert page in files
    figures = _page_figures(page.read_text(encoding="utf-8"))["buffer"]
    result = lc_indicators.life_circles["buffer"]
    for row in result.circles.itertuples():
        assert figures["complete_share"][str(row.circle_min)] == row.complete_share
    for row in result.types.itertuples():
        assert figures["reached_share"][row.facility_type] == row.reached_share
        assert figures["limits_m"][row.facility_type] == row.limit_m
    index = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    entry = next(m for m in index["maps"] if m["key"] == "lifecircles")
    assert entry["file"] == "lifecircles.html"
    assert entry["figures"]["完整15分钟生活圈 · 直线距离"] == "33.3%"
    assert 'href="lifecircles.html"' in (tmp_path / "site" / "index.html").read_text("utf-8")
    assert any(p.name == "lifecircles_buffer_lifecircle_types.csv" for p in files)


def test_no_life_circle_page_without_facilities(webmap_city, tmp_path):
    layers = city_layers(webmap_city)
    indicators = compute_indicators(gather_inputs(None, layers), life_circles=False)
    publish_site(indicators, tmp_path / "site", offline=True)
    assert not (tmp_path / "site" / "lifecircles.html").exists()


def test_a_facility_named_with_a_script_is_text(lc_indicators):
    html = life_circle_map(lc_indicators.life_circles, lang="zh").get_root().render()
    assert "<script>window.__xss" not in html
    assert "&lt;script&gt;window.__xss" in html


def test_gaps_a_few_shown_one_layer_per_type(lc_indicators):
    m = life_circle_map(lc_indicators.life_circles, lang="en")
    result = lc_indicators.life_circles["buffer"]
    gap_keys = {k for k in m.gisrenew_layers if k.startswith("gap_")}
    assert gap_keys == {f"gap_{t}" for t in set(result.gaps["facility_type"])}
    shown = [k for k in gap_keys if m.gisrenew_layers[k]["show"]]
    assert 0 < len(shown) <= SHOWN_GAPS
    # the kindergarten reaches least (only r1): its gaps are shown
    assert m.gisrenew_layers["gap_kindergarten"]["show"]


@pytest.mark.browser
def test_the_page_draws_and_answers_clicks_offline(lc_indicators, map_browser, tmp_path):
    publish_site(lc_indicators, tmp_path / "site", offline=True, lang="zh")
    page = map_browser.open(tmp_path / "site" / "lifecircles.html", offline=True)
    assert not page.errors and not page.blocked
    counts = page.counts()
    assert counts["completeness_buffer"]["drawn"] == 3
    assert counts["facilities"]["drawn"] == len(_facilities())
    # r2 (its centre is a facility cluster: click beside it) lacks the kindergarten
    page.page.evaluate(
        "() => { for (const k in window.gisrenew.layers) { if (k !== 'completeness_buffer') "
        "{ window.gisrenew.map.removeLayer(window.gisrenew.layers[k]); } } }"
    )
    lng, lat = gpd.GeoSeries([shapely.Point(X0 + 850, Y0 + 350)], crs=GK).to_crs(4326).iloc[0].xy
    text = page.click_at(lat[0], lng[0])
    assert "5分钟生活圈缺" in text and "幼儿园" in text
    page.page.evaluate("() => window.gisrenew.map.addLayer(window.gisrenew.layers['facilities'])")
    market = next(i for i, n in enumerate(_facilities()["name"]) if n == SCRIPT_NAME)
    page.page.evaluate(  # street zoom: the facilities 30 m apart are far apart on screen
        """(i) => { const g = window.gisrenew;
            g.map.setView(g.layers['facilities'].getLayers()[i].getLatLng(), 18,
                          {animate: false}); }""",
        market,
    )
    text = page.click_feature("facilities", market)
    assert "<script>window.__xss" in text and "菜市场或生鲜超市" in text
    assert page.page.evaluate("() => window.__xss") is None
    assert not page.errors
