"""Web maps without a browser: escaping, GCJ-02, basemaps, page content, size, offline pages."""

from __future__ import annotations

import dataclasses
import html
import json
import random
import re

import folium
import geopandas as gpd
import numpy as np
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
    plan_indicators,
)
from packed_read import unpack as _unpack
from pyproj import Geod

from gisrenew.coverage import closed_blind_spots
from gisrenew.errors import InputError
from gisrenew.plans import signing_status
from gisrenew.present import formats as fmt
from gisrenew.webmap import (
    MapOptions,
    before_after_map,
    coverage_map,
    escape_text,
    gcj02_to_wgs84,
    get_basemap,
    map_html,
    plans_map,
    save_map,
    script_json,
    shift_geometries,
    wgs84_to_gcj02,
)
from gisrenew.webmap.assets import (
    LEAFLET_CSS_URL,
    LEAFLET_JS_URL,
    MapAssetError,
    external_references,
    inline_assets,
    local_copy,
)
from gisrenew.webmap.gcj02 import gcj02_offset
from gisrenew.webmap.page import SIMPLIFY_MIN_VERTICES, add_layer, make_context

PAYLOADS = [XSS_IMG, XSS_TEMPLATE, BACKSLASH, BACKTICK, "a'b\"c", "line\nbreak\u2028x", "{{ 7*7 }}"]


# ---------------------------------------------------------------- escaping


@pytest.mark.parametrize("text", PAYLOADS)
def test_escape_text_leaves_no_active_character(text):
    out = escape_text(text)
    for char in "<>\"'`$\\{}\n\u2028":
        assert char not in out
    assert html.unescape(out) == text.replace("\x00", "")


def test_escape_text_round_trips_random_text():
    rng = random.Random(6)
    alphabet = "ab公园<>&\"'`$\\{}/\n\t;:=()！，。" + "".join(map(chr, range(0x20, 0x7F)))
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        out = escape_text(text)
        assert html.unescape(out) == text
        assert not set(out) & set("<>\"'`$\\{}\n")


def test_escape_text_of_missing_values_and_numbers():
    import pandas as pd

    assert escape_text(None) == ""
    assert escape_text(float("nan")) == ""
    assert escape_text(pd.NA) == ""
    assert escape_text(12.5) == "12.5"


def test_script_json_cannot_close_a_script_element():
    data = {"v": ["</script><script>alert(1)</script>", "<!--", "\u2028"]}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == data
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


# ---------------------------------------------------------------- GCJ-02

# Published reference conversions WGS84 → GCJ-02 (lon, lat), from the test suites of
# independent open implementations (eviltransform, coordtransform).
REFERENCE = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_wgs84_to_gcj02_matches_published_points(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert float(lon) == pytest.approx(gcj[0], abs=1e-9)
    assert float(lat) == pytest.approx(gcj[1], abs=1e-9)


def test_wgs84_to_gcj02_matches_gaode_api_within_a_metre():
    # Gaode's own conversion service gave (116.39713623, 39.90874539) for this point
    lon, lat = wgs84_to_gcj02(116.39089, 39.90734)
    _, _, dist = Geod(ellps="WGS84").inv(float(lon), float(lat), 116.39713623, 39.90874539)
    assert dist < 1.0


def test_raw_offset_at_the_origin():
    # the series itself, without the China test, at (0, 0) (published value)
    dlon, dlat = gcj02_offset(0.0, 0.0)
    assert float(dlon) == pytest.approx(0.0154984971, abs=1e-10)
    assert float(dlat) == pytest.approx(0.0027284583, abs=1e-10)


def test_offset_size_in_chinese_cities_and_zero_outside():
    geod = Geod(ellps="WGS84")
    cities = np.array(
        [[121.13, 31.46], [116.40, 39.90], [113.26, 23.13], [104.07, 30.66], [126.63, 45.75]]
    )
    lon, lat = wgs84_to_gcj02(cities[:, 0], cities[:, 1])
    _, _, dist = geod.inv(cities[:, 0], cities[:, 1], lon, lat)
    assert np.all((dist > 250) & (dist < 700)), dist
    outside = np.array([[-0.1276, 51.5072], [139.69, 35.69], [151.2, -33.87], [-74.0, 40.7]])
    lon, lat = wgs84_to_gcj02(outside[:, 0], outside[:, 1])
    assert np.array_equal(lon, outside[:, 0]) and np.array_equal(lat, outside[:, 1])


def test_gcj02_inverse_round_trips():
    rng = np.random.default_rng(3)
    lon = rng.uniform(75, 134, 500)
    lat = rng.uniform(18, 53, 500)
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.max(np.abs(wlon - lon)) < 1e-9 and np.max(np.abs(wlat - lat)) < 1e-9


def test_shift_geometries_moves_every_vertex():
    poly = shapely.Polygon([(121.1, 31.4), (121.2, 31.4), (121.2, 31.5), (121.1, 31.4)])
    line = shapely.LineString([(121.0, 31.0), (0.0, 0.0)])
    shifted = shift_geometries([poly, line, None])
    coords = shapely.get_coordinates(shifted[0])
    lon, lat = wgs84_to_gcj02(
        shapely.get_coordinates(poly)[:, 0], shapely.get_coordinates(poly)[:, 1]
    )
    assert np.allclose(coords, np.column_stack([lon, lat]), atol=0, rtol=0)
    assert shapely.get_coordinates(shifted[1])[1].tolist() == [0.0, 0.0]  # outside China
    assert shifted[2] is None
    back = shift_geometries(shifted[:1], "gcj02_to_wgs84")
    assert np.allclose(shapely.get_coordinates(back[0]), shapely.get_coordinates(poly), atol=1e-9)
    with pytest.raises(ValueError, match="direction"):
        shift_geometries([poly], "bd09")


# ---------------------------------------------------------------- basemaps


def test_basemaps(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    assert get_basemap("osm").datum == "wgs84"
    assert get_basemap("gaode").datum == "gcj02"
    assert get_basemap("none").is_empty and get_basemap(None).is_empty
    with pytest.raises(InputError, match="TIANDITU_KEY"):
        get_basemap("tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    tdt = get_basemap("tianditu")
    assert tdt.datum == "wgs84" and len(tdt.tiles) == 2
    assert all(t.url.endswith("tk=abc123") for t in tdt.tiles)
    assert "cva" in tdt.tiles[1].url and "eva" in get_basemap("tianditu", lang="en").tiles[1].url
    assert get_basemap("tianditu", key="k9").tiles[0].url.endswith("tk=k9")
    with pytest.raises(InputError, match="letters and digits"):
        get_basemap("tianditu", key="a&b")
    custom = get_basemap("http://tiles.intra/{z}/{x}/{y}.png")
    assert custom.name == "custom" and custom.datum == "wgs84"
    mirror = get_basemap(
        "custom", url="http://tiles.intra/{z}/{x}/{y}.png", datum="gcj02", attribution=XSS_IMG
    )
    assert mirror.datum == "gcj02" and "<" not in mirror.tiles[0].attribution
    with pytest.raises(InputError, match=r"\{z\}"):
        get_basemap("custom", url="http://tiles.intra/tile.png")
    with pytest.raises(InputError, match="unknown basemap"):
        get_basemap("baidu")


def test_no_tianditu_key_in_the_source():
    from pathlib import Path

    import gisrenew.webmap

    for path in Path(gisrenew.webmap.__file__).parent.glob("*.py"):
        assert not re.search(r"tk=[0-9a-f]{16,}", path.read_text(encoding="utf-8")), path


# ---------------------------------------------------------------- pages


def _features(page: str, key: str) -> list[dict]:
    """The GeoJSON features of layer `key` in a rendered page."""
    name = re.search(r'window\.gisrenew\.layers\["' + re.escape(key) + r'"\] = (\w+);', page)
    assert name, key
    start = page.index(f"var {name.group(1)} = L.geoJSON(") + len(
        f"var {name.group(1)} = L.geoJSON("
    )
    data, _ = json.JSONDecoder().raw_decode(page, start)
    return data["features"]


def test_coverage_map_page_is_escaped_and_uses_only_leaflet(webmap_city):
    city = webmap_city
    m = coverage_map(
        city.coverage,
        city.parks,
        districts=city.districts,
        boundary=city.boundary,
        title=f"标题 {XSS_IMG} {XSS_TEMPLATE} {BACKTICK}",
    )
    page = map_html(m)
    for payload in (XSS_IMG, XSS_TEMPLATE, BACKSLASH, BACKTICK):
        assert payload not in page
    assert "<img" not in page and "${" not in page and "</script><script>window" not in page
    assert "`" not in page  # no template literal anywhere
    # the escaped payloads are there, for the browser to show as text
    assert (
        escape_text(XSS_IMG) in page
        or json.dumps(escape_text(XSS_IMG))[1:-1].replace("<", "\\u003c") in page
    )
    assert external_references(page) == [LEAFLET_JS_URL, LEAFLET_CSS_URL]
    for lib in ("jquery", "bootstrap", "font-awesome", "fontawesome", "awesome-markers"):
        assert lib not in page.lower()
    assert not re.search(r"\bd3\.(?:v\d|min|js|select|scale)", page)  # no d3 (branca's legends)
    assert set(m.gisrenew_layers) == {
        "districts",
        "boundary",
        "service_areas",
        "residential",
        "blind_spots",
        "parks",
        "parks_pocket",
    }
    parks = _features(page, "parks")
    assert [f["properties"]["v"][0] for f in parks] == [escape_text(n) for n in city.parks["name"]]
    # 东园: G12 community park, 10 000 m² → 500 m, counts
    assert "G12 社区公园" in parks[0]["properties"]["v"] and "500 m" in parks[0]["properties"]["v"]
    assert "是" in parks[0]["properties"]["v"]


def test_coverage_map_title_figures(webmap_city):
    city = webmap_city
    page = map_html(coverage_map(city.coverage, city.parks, lang="en"))
    ratio = f"{100 * city.coverage.ratio:.1f}%"
    assert ratio in page
    covered_ha = city.coverage.covered_area_m2 / 10000
    assert f"{covered_ha:,.2f} ha" in page
    assert "residential land in the built-up area" in page


def test_district_choropleth_classes(webmap_city):
    city = webmap_city
    page = map_html(coverage_map(city.coverage, city.parks, districts=city.districts))
    features = _features(page, "districts")
    ratios = city.coverage.districts["coverage_ratio"].to_numpy()
    # d1 57% → class 0 (< 60%), d2 0% → class 0
    assert np.all(ratios < 0.6)
    assert [f["properties"]["s"] for f in features] == [0, 0]
    assert features[0]["properties"]["v"][2] == f"{100 * ratios[0]:.1f}%"


def test_coordinates_are_rounded_and_simplified():
    circle = shapely.Point(X0, Y0).buffer(300, quad_segs=512)  # 2049 vertices
    land = gpd.GeoDataFrame(
        {"residential_id": ["r"], "name": ["圆"], "district_id": ["d"], "households": [1.0]},
        geometry=[circle],
        crs=GK,
    )
    from browser import hand_coverage

    parks = gpd.GeoDataFrame(
        {"park_id": ["p"], "name": ["园"], "park_class": ["G11"], "is_pocket_park": [False]},
        geometry=[shapely.box(X0 - 50, Y0 - 50, X0 + 50, Y0 + 50)],
        crs=GK,
    )
    districts = gpd.GeoDataFrame(
        {"district_id": ["d"], "name": ["区"]}, geometry=[circle.buffer(10)], crs=GK
    )
    result = hand_coverage(parks, land, districts)
    detailed = map_html(coverage_map(result, parks, options=MapOptions(simplify_m=0)))
    simple = map_html(coverage_map(result, parks))
    numbers = re.findall(r"\[(1\d\d\.\d+),(\d\d\.\d+)\]", simple)
    assert numbers and all(
        len(x.split(".")[1]) <= 6 and len(y.split(".")[1]) <= 6 for x, y in numbers
    )
    n_detailed = len(_features(detailed, "residential")[0]["geometry"]["coordinates"][0])
    n_simple = len(_features(simple, "residential")[0]["geometry"]["coordinates"][0])
    assert n_detailed > 2000 and n_simple < n_detailed / 4
    # the simplified circle stays within ~1 m of the original
    ring = np.array(_features(simple, "residential")[0]["geometry"]["coordinates"][0])
    x, y = (
        gpd.GeoSeries(gpd.points_from_xy(ring[:, 0], ring[:, 1]), crs=4326)
        .to_crs(GK)
        .get_coordinates()
        .T.to_numpy()
    )
    radius = np.hypot(x - X0, y - Y0)
    assert np.all(np.abs(radius - 300) < 1.5)


def test_large_layers_use_canvas_and_start_hidden(webmap_city):
    city = webmap_city
    m = coverage_map(
        city.coverage, city.parks, options=MapOptions(canvas_features=2, hide_vertices=12)
    )
    layers = m.gisrenew_layers
    assert layers["parks"]["canvas"] and layers["residential"]["canvas"]  # 3 features > 2
    # one renderer per page (so a click reaches the feature drawn on top): the pocket
    # parks' 2 points share the canvas; a page without a large layer is all SVG
    assert layers["parks_pocket"]["canvas"]
    small = coverage_map(city.coverage, city.parks).gisrenew_layers
    assert not any(info["canvas"] for info in small.values())
    assert not layers["residential"]["show"]  # 15 vertices > 12
    assert layers["parks_pocket"]["show"]  # 2 vertices
    page = map_html(m)
    assert page.count("window.gisrenew.canvas;") == sum(1 for v in layers.values() if v["canvas"])


def _packed(page: str, key: str) -> list:
    """The arguments of packed layer `key` in a page: definition, styles, binary, text
    (binary: the geometry, the styles and each column's codes, as arrays in that order;
    text: each column's values)."""
    at = page.index(f'window.gisrenew.packed("{key}",') + len(f'window.gisrenew.packed("{key}",')
    decoder, parts = json.JSONDecoder(), []
    for _ in range(5):
        while page[at] in " \n,":
            at += 1
        value, at = decoder.raw_decode(page, at)
        parts.append(value)
    definition, styles, geometry, binary, columns = parts
    return [definition, styles, (geometry, binary, *columns[0::2]), columns[1::2]]


def test_a_large_layer_is_packed_with_the_same_shapes_and_popups(webmap_city):
    """Issue #15: a layer of many polygons goes into the page as compact arrays; read back,
    they hold the same (rounded) shapes, styles and escaped popup values as GeoJSON would."""
    city = webmap_city
    drawn = {"districts": city.districts, "boundary": city.boundary}
    plain = map_html(coverage_map(city.coverage, city.parks, **drawn))
    m = coverage_map(
        city.coverage, city.parks, **drawn, options=MapOptions(packed_features=1),
    )  # fmt: skip
    page = map_html(m)
    layers = m.gisrenew_layers
    assert layers["residential"]["packed"] and layers["blind_spots"]["packed"]  # 3, 2 > 1
    assert not layers["boundary"]["packed"]  # 1 feature
    assert not layers["parks_pocket"]["packed"]  # points are never packed
    assert layers["residential"]["canvas"] and layers["boundary"]["canvas"]  # one renderer
    for payload in (XSS_IMG, XSS_TEMPLATE, BACKSLASH, BACKTICK):
        assert payload not in page
    assert "`" not in page and "${" not in page
    for key in ("residential", "parks", "blind_spots"):
        definition, styles, binary, text = _packed(page, key)
        geoms, style, values = _unpack(definition, binary, text)
        features = _features(plain, key)
        assert len(geoms) == len(features) == layers[key]["features"]
        assert style.tolist() == [f["properties"]["s"] for f in features]
        assert values == [f["properties"]["v"] for f in features]
        for geom, feature in zip(geoms, features, strict=True):
            expected = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
            assert np.array_equal(shapely.get_coordinates(geom), expected), key
        assert len(styles) == len(_styles_of(plain, key))
    definition, _, binary, text = _packed(page, "residential")
    assert escape_text(f"新村 {BACKSLASH}") in _unpack(definition, binary, text)[2][0]


def test_a_layer_of_many_vertices_is_packed_and_small_shapes_are_not_simplified(webmap_city):
    """A few features of many vertices are packed too (packed_vertices); a shape of at most
    SIMPLIFY_MIN_VERTICES vertices keeps every vertex, a larger one is simplified."""
    city = webmap_city
    counts = shapely.get_num_coordinates(city.coverage.residential.geometry.values)
    options = MapOptions(packed_features=10**6, packed_vertices=int(counts.sum()) - 1)
    m = coverage_map(city.coverage, city.parks, options=options)
    assert m.gisrenew_layers["residential"]["packed"]
    assert not MapOptions().packed_vertices < int(counts.sum())  # the default: not packed
    square = shapely.box(X0, Y0, X0 + 40, Y0 + 40).segmentize(40 / 3)  # 13 vertices, a line
    assert shapely.get_num_coordinates(square) <= SIMPLIFY_MIN_VERTICES
    dense = shapely.box(X0, Y0, X0 + 40, Y0 + 40).segmentize(1)  # 161 vertices
    frame = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[square, dense], crs=GK)
    ctx = make_context(get_basemap("none"), "zh", "wgs84", MapOptions(simplify_m=1.0), [frame])
    add_layer(folium.Map(), ctx, "shapes", "shapes", frame, styles=[{}])
    assert ctx.layers["shapes"]["vertices"] == 13 + 5


def _styles_of(page: str, key: str) -> list:
    """The styles of GeoJSON layer `key` in a page."""
    name = re.search(r'window\.gisrenew\.layers\["' + re.escape(key) + r'"\] = (\w+);', page)
    start = page.index(f"var {name.group(1)}_styles = ") + len(f"var {name.group(1)}_styles = ")
    return json.JSONDecoder().raw_decode(page, start)[0]


def test_gaode_shift_and_declared_gcj02_data(webmap_city):
    city = webmap_city
    wgs = city.parks.to_crs(4326).geometry.iloc[0]
    wlon, wlat = shapely.get_coordinates(wgs)[0]
    glon, glat = (float(v) for v in wgs84_to_gcj02(wlon, wlat))

    def first_vertex(basemap, datum):
        page = map_html(
            coverage_map(city.coverage, city.parks, basemap=basemap, source_datum=datum)
        )
        return _features(page, "parks")[0]["geometry"]["coordinates"][0][0]

    assert first_vertex("gaode", "wgs84") == pytest.approx([glon, glat], abs=1e-6)
    assert first_vertex("osm", "wgs84") == pytest.approx([wlon, wlat], abs=1e-6)
    # data declared GCJ-02 is not shifted again over Gaode, and shifted back over OSM
    assert first_vertex("gaode", "gcj02") == pytest.approx([wlon, wlat], abs=1e-6)
    back = [float(v) for v in gcj02_to_wgs84(wlon, wlat)]
    assert first_vertex("osm", "gcj02") == pytest.approx(back, abs=1e-6)
    with pytest.raises(ValueError, match="source_datum"):
        coverage_map(city.coverage, city.parks, source_datum="bd09")


def test_language_default_and_choice(webmap_city):
    city = webmap_city
    zh = map_html(coverage_map(city.coverage, city.parks))
    en = map_html(coverage_map(city.coverage, city.parks, lang="en"))
    assert "公园服务范围" in zh and "park service areas" in en and "公园服务范围" not in en
    with pytest.raises(ValueError, match="lang"):
        coverage_map(city.coverage, city.parks, lang="fr")


def test_offline_page_is_self_contained(webmap_city, tmp_path):
    city = webmap_city
    m = coverage_map(city.coverage, city.parks, basemap="none")
    path = save_map(m, tmp_path / "offline.html", offline=True)
    page = path.read_text(encoding="utf-8")
    assert external_references(page) == []
    assert "Leaflet 1.9.3" in page and "data:image/png;base64," in page
    assert "sourceMappingURL" not in page
    assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)=", page)


def test_inline_assets_refuses_unknown_files():
    page = '<html><head><script src="https://cdn.example/d3.v3.min.js"></script></head></html>'
    with pytest.raises(MapAssetError, match=r"d3\.v3\.min\.js"):
        inline_assets(page)


def test_local_copies_of_cdn_files():
    body, kind = local_copy(LEAFLET_JS_URL)
    assert kind == "application/javascript" and b"Leaflet" in body[:200]
    body, kind = local_copy("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/images/layers.png")
    assert kind == "image/png" and body[:4] == b"\x89PNG"
    assert local_copy("https://code.jquery.com/jquery-3.7.1.min.js") is None


def test_folium_defaults_are_left_alone(webmap_city):
    import folium

    before = list(folium.Map.default_js)
    coverage_map(webmap_city.coverage, webmap_city.parks)
    assert folium.Map.default_js == before
    assert any("jquery" in url for _, url in folium.Map.default_js)


# ---------------------------------------------------------------- plans and before/after


def test_signing_status_by_hand():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "households_residential": [100, 50, 20, 0],
            "households_nonresidential": [10, 0, 5, 0],
            "households_shops": [5, 5, 0, 0],
            "households_signed": [115, 20, 0, 0],
        }
    )
    status = signing_status(frame)
    assert status["signing_status"].tolist() == [
        "signed",
        "signing",
        "not_started",
        "no_households",
    ]
    assert status["households_total"].tolist() == [115, 55, 25, 0]
    assert status["signing_rate"].iloc[1] == pytest.approx(20 / 55)
    assert np.isnan(status["signing_rate"].iloc[3])
    renamed = frame.rename(columns={"households_signed": "已签约户"})
    assert signing_status(renamed, {"signed": "已签约户"})["signing_status"].iloc[0] == "signed"


def test_plans_map_content(webmap_city):
    city = webmap_city
    m = plans_map(plan_indicators(city.plans, city.parcels))
    page = map_html(m)
    assert XSS_IMG not in page and BACKSLASH not in page
    plans = _features(page, "plans")
    parcels = _features(page, "affected_parcels")
    assert len(plans) == 2 and len(parcels) == 4
    # P1 (古松弄) holds parcels a and b (whole-parcel rule): 115 + 55 households, 115 + 20 signed
    p1 = plans[0]["properties"]["v"]
    assert p1[0] == "古松弄" and p1[9] == "170" and p1[10] == "135"
    # parcel b is shared by both plans, partly signed (style 1)
    b = parcels[1]["properties"]
    assert b["s"] == 1 and "古松弄" in b["v"][2] and "胜利村" in b["v"][2]
    assert [p["properties"]["s"] for p in parcels] == [0, 1, 2, 3]
    assert m.gisrenew_totals["households_total"] == 195  # every parcel once


def test_plans_map_without_parcels(webmap_city):
    m = plans_map(plan_indicators(webmap_city.plans), webmap_city.plans, basemap="none")
    assert set(m.gisrenew_layers) == {"plans"}


def test_plans_map_draws_the_figures_it_is_handed(webmap_city):
    city = webmap_city
    plans = plan_indicators(city.plans, city.parcels)
    summary = plans.summary.assign(households_total=[999, 7])
    parcels = plans.affected_parcels.assign(signing_status=["unknown"] * 4)
    totals = {**plans.totals, "households_total": 1234}
    m = plans_map(
        dataclasses.replace(plans, summary=summary, affected_parcels=parcels, totals=totals)
    )
    page = map_html(m)
    assert [p["properties"]["v"][9] for p in _features(page, "plans")] == ["999", "7"]
    assert [p["properties"]["s"] for p in _features(page, "affected_parcels")] == [4, 4, 4, 4]
    assert m.gisrenew_totals["households_total"] == 1234 and "1,234" in page


def test_closed_blind_spots_by_hand(webmap_city):
    city = webmap_city
    closed = closed_blind_spots(city.before, city.after)
    # the new 60 m park at x 3250 covers r3 (x 3000–3200) whole: 200 m × 200 m closed
    assert closed["residential_id"].tolist() == ["r3"]
    assert closed["area_m2"].iloc[0] == pytest.approx(40000.0)
    assert closed["households"].iloc[0] == pytest.approx(300.0)
    same = closed_blind_spots(city.after, city.after)
    assert len(same) == 0


def test_before_after_map_content(webmap_city):
    city = webmap_city
    m = before_after_map(city_change(city), parks=city.parks, lang="en")
    layers = m.gisrenew_layers
    assert layers["new_parks"]["features"] == 1 and layers["closed_blind_spots"]["features"] == 1
    assert layers["service_areas_new"]["features"] == 1
    page = map_html(m)
    before, after = f"{100 * city.before.ratio:.1f}%", f"{100 * city.after.ratio:.1f}%"
    assert f"{before} → {after}" in page


def test_before_after_map_draws_the_change_it_is_handed(webmap_city):
    city = webmap_city
    change = city_change(city)
    # the closed blind spots and the new park's own gain are the change's, never recomputed
    gains = change.park_gains.assign(unique_covered_m2=[12_345.0])
    quiet = dataclasses.replace(
        change, closed_blind_spots=change.closed_blind_spots.iloc[:0], park_gains=gains
    )
    m = before_after_map(quiet, parks=city.all_parks, lang="en")
    assert "closed_blind_spots" not in m.gisrenew_layers
    page = map_html(m)
    new_park = _features(page, "new_parks")[0]["properties"]["v"]
    assert new_park[0] == "新口袋公园" and new_park[-1] == fmt.area_compact(12_345.0, "en")
    # the parks layer given (after the change) is drawn without the new park
    assert m.gisrenew_layers["parks"]["features"] == 3
