"""The what-if server's API (gisrenew.serve) through Starlette's TestClient.

The session behind it is :class:`serve_fake.FakeSession` (the what-if session's API with
hand-checkable answers) on the sample city, read-only or a writable copy; one test runs the
real :class:`gisrenew.whatif.WhatIfSession`. Every hostile request gets a 4xx and the server
answers the next one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from packed_read import unpack_served
from serve_fake import RATIO, RESIDENTIAL_M2, FakeSession
from starlette.testclient import TestClient

from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.present import formats
from gisrenew.project import Project, copy_project
from gisrenew.serve import allowed_hosts, create_app, is_loopback, page_url, static_files
from gisrenew.serve.guard import MAX_BODY, same_token
from gisrenew.serve.layers import city_layers
from gisrenew.serve.sketch import MAX_FEATURES, MAX_VERTICES
from gisrenew.webmap.escape import escape_text
from gisrenew.webmap.packed import PACKED_JS
from gisrenew.whatif import WhatIfSession

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"
CSRF = "page-token-for-tests"
ORIGIN = "http://127.0.0.1:8765"
BASE = "http://127.0.0.1:8765"

# A 100 m × 100 m square near the sample city (lon/lat, Taicang): about 10 000 m².
LON, LAT = 121.10, 31.45
DLON, DLAT = 100 / (111_320 * math.cos(math.radians(LAT))), 100 / 110_574


def square(lon: float = LON, lat: float = LAT, name: str = "新口袋公园") -> dict:
    ring = [[lon, lat], [lon + DLON, lat], [lon + DLON, lat + DLAT], [lon, lat + DLAT], [lon, lat]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"name": name},
    }


@pytest.fixture(scope="module")
def writable(tmp_path_factory) -> Project:
    return copy_project(SAMPLE, tmp_path_factory.mktemp("serve") / "city")


def client_for(project: Project, **options) -> tuple[TestClient, FakeSession]:
    session = FakeSession(project)
    app = create_app(session, token=options.pop("token", None), csrf=CSRF, **options)
    return TestClient(app, base_url=BASE, raise_server_exceptions=False), session


@pytest.fixture
def served(writable):
    return client_for(writable)


def post(client: TestClient, path: str, body, *, token: str | None = CSRF, **headers):
    sent = {"content-type": "application/json", **headers}
    if token is not None:
        sent["x-gisrenew-token"] = token
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, content=data, headers=sent)


def still_serving(client: TestClient) -> None:
    answer = client.get("/api/state")
    assert answer.status_code == 200
    assert answer.json()["ratio"] == RATIO


# ------------------------------------------------------------------ reading


def test_state_is_the_sessions_with_the_page_words(served):
    client, _ = served
    answer = client.get("/api/state")
    assert answer.status_code == 200
    state = answer.json()
    assert state["ratio"] == RATIO
    assert state["text"]["ratio"] == {"buffer": "50.00%"}
    assert state["labels"]["apply"] == "应用到项目…"
    assert state["read_only"] is False
    assert "access-control-allow-origin" not in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert (
        "unsafe-inline"
        not in answer.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )


def test_page_carries_its_token_and_no_inline_script(served):
    client, _ = served
    page = client.get("/")
    assert page.status_code == 200
    assert f'<meta name="gisrenew-csrf" content="{CSRF}">' in page.text
    assert "<script>" not in page.text  # scripts are files (the CSP allows no inline script)
    scripts = ("leaflet/leaflet.js", "vendor/leaflet-geoman/leaflet-geoman.js", "app.js")
    for name in (*scripts, "city.js", "webmap/packed.js"):
        assert f'src="/static/{name}"' in page.text
        assert client.get(f"/static/{name}").status_code == 200


def test_layers_are_the_projects_in_wgs84(served, writable):
    client, _ = served
    layers = client.get("/api/layers").json()
    parks = writable.read("parks")
    assert len(layers["parks"]["features"]) == len(parks)
    # the residential land arrives packed (issue #19 item 5): its pieces counted there
    assert layers["residential"]["type"] == "Packed"
    assert layers["residential"]["count"] == len(writable.read("residential"))
    lon, lat = layers["parks"]["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 120 < lon < 122 and 31 < lat < 32  # Taicang, in degrees


def _wgs84(frame):
    return frame.geometry.to_crs("EPSG:4326").to_numpy()


def _gap(geoms, expected) -> float:
    """The largest distance (degrees) between the vertices of two arrays of shapes, which
    must hold as many vertices, shape by shape."""
    counts = shapely.get_num_coordinates(geoms)
    assert counts.tolist() == shapely.get_num_coordinates(expected).tolist()
    return float(np.abs(shapely.get_coordinates(geoms) - shapely.get_coordinates(expected)).max())


def test_packed_residential_land_reads_back_to_its_pieces_and_classes(tmp_path):
    """Issue #19 item 5: /api/layers sends the residential land as the published maps'
    packed arrays; read back they are the pieces (to the 1e-6 degree quantization), each
    in the coverage map's covered-share class, with its name and id for the tooltip."""
    project = copy_project(SAMPLE, tmp_path / "city")
    session = WhatIfSession.open(project)
    client = TestClient(create_app(session, token=None, csrf=CSRF), base_url=BASE)
    layer = client.get("/api/layers").json()["residential"]
    residential = session.indicators.buffer.residential
    geoms, style, values = unpack_served(layer)
    assert layer["count"] == len(geoms) == len(residential)
    expected = _wgs84(residential)
    assert 1e-9 < _gap(geoms, expected) <= 0.5e-6 + 1e-12  # quantized to 1e-6 degree
    share = residential["covered_share"].to_numpy(dtype=float)
    classes = np.select([share >= 0.9995, share >= 0.5, share > 0.0005], [0, 1, 2], default=3)
    assert style.tolist() == classes.tolist()
    assert {0, 3} <= set(style.tolist())  # the sample has covered and uncovered land
    assert layer["classes"] == ["share_full", "share_high", "share_low", "share_none"]
    assert len(layer["styles"]) == 4 and all(s["pmIgnore"] for s in layer["styles"])
    names = [escape_text(v) for v in residential["name"]]
    ids = [escape_text(v) for v in residential["residential_id"]]
    assert values == [list(pair) for pair in zip(names, ids, strict=True)]
    assert layer["def"]["tooltip"] == [0, 1] and layer["def"]["labels"] == []


def test_many_blind_spots_are_packed_few_stay_geojson(tmp_path):
    project = copy_project(SAMPLE, tmp_path / "city")
    session = WhatIfSession.open(project)
    coverage = session.indicators.buffer
    blind = coverage.blind_spots
    few = city_layers(project, coverage, packed_features=len(blind))["blind_spots"]
    assert few["type"] == "FeatureCollection" and len(few["features"]) == len(blind)
    many = city_layers(project, coverage, packed_features=len(blind) - 1)["blind_spots"]
    assert many["type"] == "Packed" and not many["def"]["interactive"]
    geoms, style, _ = unpack_served(many)
    assert _gap(geoms, _wgs84(blind)) <= 0.5e-6 + 1e-12
    assert set(style.tolist()) == {0} and many["classes"] == ["blind"]


def test_residential_land_without_coverage_is_packed_uncoloured(writable):
    layer = city_layers(writable)["residential"]
    geoms, style, _ = unpack_served(layer)
    assert layer["classes"] == ["land"] and set(style.tolist()) == {0}
    assert _gap(geoms, _wgs84(writable.read("residential"))) <= 0.5e-6 + 1e-12


def test_evaluate_answers_with_worded_figures(served):
    client, session = served
    answer = post(client, "/api/evaluate", {"add": [square()]}, token=None)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    area = session.areas({"add": [square()]})[0]
    assert data["buffer"]["gain_m2"] == pytest.approx(area)
    assert 9_900 < area < 10_100  # the square is 100 m × 100 m
    assert data["text"]["buffer"]["ratio_before"] == "50.00%"
    assert data["parks"][0]["text"]["status"] == "计入"
    assert session.calls[-1] == ("evaluate", {"add": [square()]})


def test_script_in_a_name_comes_back_as_data(served):
    client, _ = served
    name = "<script>window.__xss=1</script>"
    answer = post(client, "/api/evaluate", {"add": [square(name=name)]})
    assert answer.status_code == 200
    assert answer.json()["parks"][0]["name"] == name
    assert answer.headers["content-type"] == "application/json"


def test_reason_worded_in_the_pages_language(writable):
    client, _ = client_for(writable, lang="en")
    tiny = square()
    ring = tiny["geometry"]["coordinates"][0]
    ring[1][0] = ring[2][0] = LON + DLON / 100  # 1 m × 100 m: below 400 m²
    data = post(client, "/api/evaluate", {"add": [tiny]}).json()
    assert data["parks"][0]["qualifies"] is False
    assert data["parks"][0]["text"]["status"] == "does not count"
    assert data["parks"][0]["text"]["reason"] == "area below 400 m²"


# ------------------------------------------------------------------ writing


def test_apply_needs_the_page_token(served):
    client, session = served
    for token in (None, "wrong-token"):
        answer = post(client, "/api/apply", {"add": [square()]}, token=token)
        assert answer.status_code == 403
        assert "token" in answer.json()["error"]
    assert not [call for call in session.calls if call[0] == "apply"]
    answer = post(client, "/api/apply", {"add": [square()], "note": "方案 1"})
    assert answer.status_code == 200
    assert answer.json()["run_id"] == 7
    assert answer.json()["state"]["text"]["ratio"] == {"buffer": "50.00%"}
    assert session.calls[-1] == ("apply", {"add": [square()], "note": "方案 1"})


def test_candidates_need_the_page_token(served):
    client, _ = served
    assert post(client, "/api/candidates", {"add": [square()]}, token=None).status_code == 403
    answer = post(client, "/api/candidates", {"add": [square(), square(LON + 0.01)]})
    assert answer.status_code == 200
    assert answer.json() == {"candidate_ids": ["C90", "C91"]}


def test_read_only_project_evaluates_but_refuses_writes():
    client, session = client_for(Project.open(SAMPLE))
    assert post(client, "/api/evaluate", {"add": [square()]}).status_code == 200
    for path in ("/api/apply", "/api/candidates"):
        answer = post(client, path, {"add": [square()]})
        assert answer.status_code == 403
        assert "read-only" in answer.json()["error"]
    assert [call[0] for call in session.calls] == ["evaluate"]
    assert client.get("/api/state").json()["read_only"] is True


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_cross_site_requests_refused(served, headers):
    client, session = served
    for path in ("/api/evaluate", "/api/apply"):
        answer = post(client, path, {"add": [square()]}, **headers)
        assert answer.status_code == 403, (path, headers)
    assert session.calls == []
    still_serving(client)


def test_same_origin_request_passes(served):
    client, _ = served
    headers = {"origin": ORIGIN, "sec-fetch-site": "same-origin"}
    assert post(client, "/api/evaluate", {"add": [square()]}, **headers).status_code == 200


def test_wrong_host_refused(served):
    client, _ = served
    answer = client.get("/api/state", headers={"host": "attacker.example:8765"})
    assert answer.status_code == 400
    still_serving(client)


# ------------------------------------------------------------------ access token


def test_access_token_needed_on_every_request(writable):
    client, _ = client_for(writable, token="secret-access", allowed_hosts=["127.0.0.1"])
    for path in ("/", "/static/app.js", "/api/state", "/api/layers"):
        assert client.get(path).status_code == 401, path
    assert post(client, "/api/evaluate", {"add": [square()]}).status_code == 401
    assert client.get("/api/state", headers={"x-gisrenew-access": "wrong"}).status_code == 401
    assert (
        client.get("/api/state", headers={"x-gisrenew-access": "secret-access"}).status_code == 200
    )


def test_access_token_url_sets_a_strict_cookie(writable):
    client, _ = client_for(writable, token="secret-access")
    answer = client.get("/?access=secret-access", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    # the client keeps the cookie: the page, its files and the API now answer
    assert client.get("/").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/api/state").status_code == 200
    assert client.get("/?access=wrong").status_code == 200  # the cookie is enough


# ------------------------------------------------------------------ hostile bodies


def test_huge_body_refused_with_413(served):
    client, session = served
    body = b'{"add": [' + b" " * (MAX_BODY + 10) + b"]}"
    assert post(client, "/api/evaluate", body).status_code == 413
    # a body that lies about its length is cut off while it is read
    chunks = (b" " * 65536 for _ in range(MAX_BODY // 65536 + 2))
    answer = client.post(
        "/api/evaluate", content=chunks, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert session.calls == []
    still_serving(client)


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_refused_with_415(served, kind):
    client, _ = served
    headers = {"x-gisrenew-token": CSRF}
    if kind:
        headers["content-type"] = kind
    answer = client.post("/api/evaluate", content=json.dumps({"add": []}), headers=headers)
    assert answer.status_code == 415
    still_serving(client)


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b""])
def test_malformed_json_refused_with_400(served, body):
    client, _ = served
    assert post(client, "/api/evaluate", body).status_code == 400
    still_serving(client)


def _ring(n: int) -> list:
    points = [
        [LON + DLON * math.cos(2 * math.pi * i / n), LAT + DLAT * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    return [*points, points[0]]


def drawn(kind: str, coordinates) -> dict:
    """A sketch of one drawn feature of geometry `kind`."""
    return {"add": [{**square(), "geometry": {"type": kind, "coordinates": coordinates}}]}


@pytest.mark.parametrize(
    ("sketch", "words"),
    [
        (drawn("Point", [LON, LAT]), "Point"),
        (drawn("LineString", [[LON, LAT], [LON, LAT + DLAT]]), "LineString"),
        (drawn("Polygon", [_ring(MAX_VERTICES + 1)]), "vertices"),
        (drawn("Polygon", [[[LON, "NaN"], [LON, LAT], [LON, LAT], [LON, "NaN"]]]), "two numbers"),
        (drawn("Polygon", [[[LON, LAT, 0], [LON, LAT]] * 2]), "two numbers"),
        (drawn("Polygon", [[[604000, 3481000]] * 4]), "WGS84"),
        (drawn("Polygon", []), "ring"),
        (drawn("MultiPolygon", []), "no coordinates"),
        ({"add": [square()] * (MAX_FEATURES + 1)}, "at most"),
        ({"add": [{**square(), "properties": {"name": 12}}]}, "name"),
        ({"add": "everything"}, "list"),
        ({"drop": "table"}, "unknown"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_sketches_refused_with_422(served, sketch, words):
    client, session = served
    answer = post(client, "/api/evaluate", sketch)
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["error"]
    assert session.calls == []
    still_serving(client)


def test_nan_coordinates_refused_with_422(served):
    client, session = served
    ring = square()["geometry"]["coordinates"][0]
    text = json.dumps({"add": [square()]}).replace(str(ring[1][0]), "NaN", 1)
    assert "NaN" in text
    answer = post(client, "/api/evaluate", text)
    assert answer.status_code == 422
    assert "finite" in answer.json()["error"]
    assert session.calls == []


def test_session_sketch_error_is_422_with_its_message(served):
    client, _ = served
    answer = post(client, "/api/evaluate", {"remove": ["P404"]})
    assert answer.status_code == 422
    assert answer.json()["error"] == "no park P404 in the project: remove only parks it has"
    still_serving(client)


def test_unexpected_failure_is_a_generic_500_and_the_server_goes_on(served):
    client, session = served
    session.fail = RuntimeError("/home/planner/secret/path exploded")
    answer = post(client, "/api/evaluate", {"add": [square()]})
    assert answer.status_code == 500
    assert "secret" not in answer.text and "exploded" not in answer.text
    still_serving(client)
    assert post(client, "/api/evaluate", {"add": [square()]}).status_code == 200


# ------------------------------------------------------------------ static files


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../gisrenew.toml",
        "/static/..%2F..%2Fgisrenew.toml",
        "/static/%2e%2e/%2e%2e/gisrenew.toml",
        "/static/%252e%252e%252fgisrenew.toml",
        "/static/..\\..\\gisrenew.toml",
        "/static//etc/passwd",
        "/static/index.html",
        "/static/vendor/leaflet-geoman/../../app.py",
        "/static/../app.py",
        "/gisrenew.toml",
        "/project.gpkg",
    ],
)
def test_no_path_reaches_outside_the_pages_files(served, path):
    client, _ = served
    answer = client.get(path)
    assert answer.status_code == 404, path
    assert b"[project]" not in answer.content and b"SQLite" not in answer.content
    still_serving(client)


def test_static_files_are_a_fixed_table():
    files = static_files()
    assert {"app.js", "app.css", "leaflet/leaflet.js", "leaflet/leaflet.css"} <= set(files)
    # one copy of the packed layers' reader: the file served is the text published pages inline
    assert files["webmap/packed.js"].read_text(encoding="utf-8") == PACKED_JS
    assert "vendor/leaflet-geoman/leaflet-geoman.js" in files
    assert all(".." not in name for name in files)


# ------------------------------------------------------------------ helpers of the command


def test_loopback_and_urls():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert page_url("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert page_url("192.168.1.5", 80, "tok") == "http://192.168.1.5:80/?access=tok"
    assert "192.168.1.5" in allowed_hosts("192.168.1.5")
    assert same_token("a", "a") and not same_token("a", "b") and not same_token(None, "a")


# ------------------------------------------------------------------ the real session


def test_real_session_behind_the_server(tmp_path):
    project = copy_project(SAMPLE, tmp_path / "city")
    session = WhatIfSession.open(project)
    client = TestClient(create_app(session, token=None, csrf=CSRF), base_url=BASE)
    state = client.get("/api/state").json()
    sketch = {"add": [square()]}
    answer = post(client, "/api/evaluate", sketch).json()
    assert answer["buffer"]["ratio_after"] == session.evaluate(sketch)["buffer"]["ratio_after"]
    assert client.get("/api/state").json()["ratio"] == state["ratio"]
    bad = post(client, "/api/evaluate", {"remove": ["no-such-park"]})
    assert bad.status_code == 422
    applied = post(client, "/api/apply", {**sketch, "note": "test"})
    assert applied.status_code == 200, applied.text
    assert applied.json()["run_id"]


def test_state_words_both_methods():
    from gisrenew.serve.wording import worded_state

    state = worded_state({"ratio": 0.81137, "network_ratio": 0.5}, "en")
    assert state["text"]["ratio"] == {"buffer": "81.14%", "network": "50.00%"}
    assert state["text"]["methods"]["network"] == "walking along streets"
    alone = worded_state({"ratio": 0.81137, "network_ratio": None}, "zh")
    assert alone["text"]["ratio"] == {"buffer": "81.14%"}


# ------------------------------------------------------------------ picking and removing


def test_layers_carry_the_candidate_sites(served, writable):
    client, _ = served
    layers = client.get("/api/layers").json()
    sites = writable.read("candidates")
    features = layers["candidates"]["features"]
    assert [f["properties"]["candidate_id"] for f in features] == sites["candidate_id"].tolist()
    assert [f["properties"]["name"] for f in features] == sites["name"].tolist()


class _NoCandidates:
    """The sample project as one without a ``candidates`` layer."""

    def __init__(self, project: Project):
        self.project = project

    def has(self, kind: str) -> bool:
        return kind != "candidates" and self.project.has(kind)

    def read(self, kind: str):
        assert kind != "candidates", "a layer the project does not have was read"
        return self.project.read(kind)


def test_no_candidates_layer_no_candidate_sites():
    from gisrenew.serve.layers import city_layers

    layers = city_layers(_NoCandidates(Project.open(SAMPLE)))
    assert layers["candidates"] == {"type": "FeatureCollection", "features": []}
    assert len(layers["parks"]["features"]) == len(Project.open(SAMPLE).read("parks"))


def test_remove_and_pick_round_trip_through_the_app(served, writable):
    client, session = served
    park, site = writable.read("parks").iloc[0], writable.read("candidates").iloc[2]
    sketch = {"remove": [park["park_id"]], "candidates": [site["candidate_id"]]}
    answer = post(client, "/api/evaluate", sketch)
    assert answer.status_code == 200, answer.text
    assert session.calls[-1] == ("evaluate", sketch)
    data = answer.json()
    loss, gain = park.geometry.area, site.geometry.area
    assert data["removed"][0]["park_id"] == park["park_id"]
    assert data["removed"][0]["loss_m2"] == pytest.approx(loss)
    assert data["removed"][0]["text"]["loss"] == formats.area_summary(loss, "zh")
    assert data["parks"][0]["candidate_id"] == site["candidate_id"]
    assert data["parks"][0]["text"]["gain"] == formats.area_summary(gain, "zh")
    assert data["buffer"]["ratio_after"] == pytest.approx(RATIO + (gain - loss) / RESIDENTIAL_M2)
    applied = post(client, "/api/apply", {**sketch, "note": "拆一建一"})
    assert applied.status_code == 200
    assert session.calls[-1] == ("apply", {**sketch, "note": "拆一建一"})


def _scratch(project: Project, parks):
    """The straight-line coverage computed from scratch with `parks` (a GeoDataFrame)."""
    return compute_indicators(gather_inputs(project, files={"parks": parks}), methods=["buffer"])


def test_real_session_removal_and_pick_equal_a_computation_from_scratch(tmp_path):
    project = copy_project(SAMPLE, tmp_path / "city")
    session = WhatIfSession.open(project)
    client = TestClient(create_app(session, token=None, csrf=CSRF), base_url=BASE)
    parks, sites = project.read("parks"), project.read("candidates")
    before = session.indicators.buffer
    losses = {
        pid: session.evaluate({"remove": [pid]}, walk=False)["removed"][0]["loss_m2"]
        for pid in parks["park_id"]
    }
    pid = max(losses, key=losses.get)  # the park whose closing costs most
    answer = post(client, "/api/evaluate", {"remove": [pid]}).json()
    scratch = _scratch(project, parks[parks["park_id"] != pid]).buffer
    assert answer["removed"][0]["loss_m2"] > 0
    assert answer["buffer"]["ratio_after"] == pytest.approx(scratch.ratio, abs=1e-12)
    assert answer["buffer"]["ratio_after"] < before.ratio
    lost = before.covered_area_m2 - scratch.covered_area_m2
    assert answer["removed"][0]["loss_m2"] == pytest.approx(lost, rel=1e-12)
    assert answer["buffer"]["gain_m2"] == pytest.approx(-lost, rel=1e-12)

    site = sites.iloc[0]
    answer = post(client, "/api/evaluate", {"candidates": [site["candidate_id"]]}).json()
    added = sites.iloc[[0]].rename(columns={"candidate_id": "park_id"})
    scratch = _scratch(project, pd.concat([parks, added], ignore_index=True)).buffer
    gained = scratch.covered_area_m2 - before.covered_area_m2
    assert answer["parks"][0]["candidate_id"] == site["candidate_id"]
    assert gained > 0
    assert answer["buffer"]["ratio_after"] == pytest.approx(scratch.ratio, abs=1e-12)
    assert answer["parks"][0]["gain_m2"] == pytest.approx(gained, rel=1e-12)
    assert answer["buffer"]["gain_m2"] == pytest.approx(gained, rel=1e-12)
