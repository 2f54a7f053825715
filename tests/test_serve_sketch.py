"""The checks a sketch passes before any routing (maps/serve/sketch.py), and the web app's states (maps/serve/app.py).

No network is loaded here: the rules are a small window and two classes, the app's engine a stand-in whose loading
the test controls (the real engine is tested in tests/test_serve.py).
"""

from __future__ import annotations

import json
import threading
import unicodedata

import pytest
from shapely.geometry import box

from maps.serve.sketch import SketchError, SketchLimits, SketchRules, parse_point, parse_sketch, read_json

RULES = SketchRules(window=box(105.5, 20.8, 107.0, 21.8), window_name="test window (outline + 30 km)",
                    speeds={"expressway": 100.0, "national": 60.0, "district": 40.0},
                    speed_basis={"district": "speed model: rural operating speed"},
                    limits=SketchLimits(max_bytes=20_000, max_roads=3, max_points=2, max_vertices=50, max_length_km=150))


def road(coords, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": coords}}


def point(lon, lat, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def body(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def refused(data, status=422) -> str:
    with pytest.raises(SketchError) as caught:
        parse_sketch(data if isinstance(data, (bytes, dict)) else body(*data), RULES)
    assert caught.value.status == status, str(caught.value)
    text = str(caught.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_a_valid_sketch_is_filled_in_and_saved_as_plan_py_scenario_reads_it(tmp_path):
    from layers.scenario import read_scenario

    decomposed = unicodedata.normalize("NFD", "Đường Lục Nam")
    sketch = parse_sketch(body(road([[106.0, 21.2], [106.1, 21.25]], name=decomposed, road_class="District"),
                               road([[106.2, 21.3], [106.3, 21.3], [106.35, 21.35]], design_speed_kmh="80"),
                               point(106.2, 21.3, name="Nút giao A")), RULES)
    rows = sketch.roads[["name", "road_class", "design_speed_kmh", "speed_basis"]].values.tolist()
    assert rows == [["Đường Lục Nam", "district", 40.0, "speed model: rural operating speed"],
                    ["sketched road 2", "expressway", 80.0, "given"]]
    assert unicodedata.is_normalized("NFC", rows[0][0])
    path = tmp_path / "sketch.geojson"
    path.write_text(json.dumps(sketch.feature_collection()), encoding="utf-8")
    lines, points = read_scenario(path)
    assert lines["name"].tolist() == ["Đường Lục Nam", "sketched road 2"]
    assert lines["design_speed_kmh"].tolist() == [40.0, 80.0] and points["name"].tolist() == ["Nút giao A"]
    assert lines.geometry.iloc[1].coords[:] == [(106.2, 21.3), (106.3, 21.3), (106.35, 21.35)]


def test_malformed_bodies_are_400_and_too_large_413():
    assert refused(b"{not json", 400).startswith("malformed JSON: ")
    assert refused(b"[1, 2]", 400) == "the request must be a JSON object"
    assert refused(b"\xff\xfe{}", 400) == "request body is not UTF-8 text"
    assert "at most 20,000 accepted" in refused(b" " * 20_001, 413)
    assert read_json(b'{"a": 1}', RULES.limits) == {"a": 1}


@pytest.mark.parametrize("features, message", [
    ([{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[106, 21], [106.1, 21], [106, 21.1], [106, 21]]]}}],
     "feature 1: geometry type 'Polygon' is not accepted (LineString or MultiLineString for roads, Point for interchanges)"),
    ([point(106.0, 21.2)], "the sketch has no road (no LineString feature)"),
    ([road([[106.0, 21.2], [106.1, 21.2]])] * 4, "4 roads: at most 3 per request"),
    ([road([[106.0, 21.2], [106.1, 21.2]])] + [point(106.0, 21.2)] * 3, "3 interchange points: at most 2 per request"),
    ([road([[106.0, 21.2], [104.0, 21.2]], name="west")],
     "road 1 ('west'), vertex 2: 104.000000, 21.200000 lies outside the test window (outline + 30 km)"),
    ([road([[21.2, 106.0], [21.3, 106.1]])], "road 1 ('sketched road 1'), vertex 1: 21.2, 106 is not a longitude, latitude (EPSG:4326)"),
    ([road([[106.0, 21.2], [106.1, 21.2]], road_class="motorway <b>")],
     "road 1 ('sketched road 1'): road_class 'motorway <b>' is not one of expressway, national, district"),
    ([road([[106.0, 21.2], [106.1, 21.2]], design_speed_kmh=500)],
     "road 1 ('sketched road 1'): design_speed_kmh: 500 is not a finite number within 5–130"),
    ([road([[106.0, 21.2], [106.1, 21.2]], design_speed_kmh=True)], "road 1 ('sketched road 1'): design_speed_kmh: 'True' is not a number"),
    ([road([[106.0, 21.2], [106.0, 21.2]])], "road 1 ('sketched road 1'): the line has no length (its vertices coincide)"),
    ([road([[106.0, 21.2]])], "road 1 ('sketched road 1'): a line needs at least two positions"),
    ([road([[106.0 + i * 1e-4, 21.2] for i in range(51)])], "road 1 ('sketched road 1'): more than 50 vertices"),
    ([road([[105.6, 21.0], [106.9, 21.0]]), road([[105.6, 21.1], [106.9, 21.1]])],
     "the roads are 270 km long together: at most 150 km per request"),
    ([road([[106.0, 21.2], [106.1, 21.2]], name="x" * 201)], "road 1: a name of 201 characters (at most 200)"),
    ([road([[106.0, 21.2], [106.1, 21.2]]), point(110.0, 21.0, name="far")],
     "interchange 1 ('far'): 110.000000, 21.000000 lies outside the test window (outline + 30 km)"),
])
def test_what_a_sketch_may_not_hold_is_one_line_422(features, message):
    assert refused(features) == message


def test_non_finite_and_odd_json_values():
    # Python's JSON reader accepts NaN and Infinity: they are refused as coordinates
    assert refused(b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString", '
                   b'"coordinates": [[NaN, 21.2], [106.1, 21.2]]}}]}') == \
        "road 1 ('sketched road 1'), vertex 1: nan is not a finite number"
    assert refused({"type": "FeatureCollection"}) == "expected a GeoJSON FeatureCollection with a 'features' list"
    assert refused({"type": "FeatureCollection", "features": ["x"]}) == "feature 1 is not a GeoJSON Feature with a geometry"
    assert parse_point([106.2, 21.28], RULES).coords[:] == [(106.2, 21.28)]
    with pytest.raises(SketchError, match="origin: give \\[lon, lat\\]"):
        parse_point({"lon": 106}, RULES)


# ------------------------------------------------------------------ the app's states, with a stand-in engine
class _Engine:
    """Loads when the test says so (or fails); answers nothing else — the app's routes and states are what is tested."""

    def __init__(self, fail: bool = False):
        self.release, self.fail = threading.Event(), fail
        self.ready, self.page_layers, self.rules = False, None, RULES

    def load(self):
        self.release.wait(30)
        if self.fail:
            raise RuntimeError("network file\nmissing")
        self.region = type("R", (), {"id": "test"})()
        self.net = type("N", (), {"network_name": "test network"})()
        self.ready = True


def _wait(client, status: int) -> dict:
    import time

    for _ in range(200):
        response = client.get("/api/health")
        if response.status_code == status:
            return response.json()
        time.sleep(0.02)
    raise AssertionError(f"health never became {status}: {response.status_code} {response.text}")


def test_health_says_loading_then_ok_and_requests_wait_for_the_network():
    from starlette.testclient import TestClient

    from maps.serve.app import create_app

    engine = _Engine()
    with TestClient(create_app(engine, load="thread")) as client:
        assert client.get("/api/health").json() == {"status": "loading"}
        early = client.post("/api/scenario", content=body(road([[106.0, 21.2], [106.1, 21.2]])))
        assert early.status_code == 503 and early.json()["error"].startswith("the network is still loading")
        assert client.get("/").status_code == 503
        engine.release.set()
        assert _wait(client, 200) == {"status": "ok", "region": "test", "network": "test network"}
        assert client.get("/nowhere").json() == {"error": "no such page: /nowhere"}
        assert client.get("/assets/geoman/leaflet-geoman.min.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/static/editor.js").status_code == 200
        for sneaky in ("/assets/../serve/app.py", "/static/%2e%2e/app.py", "/assets/geoman/VENDORED.md"):
            assert client.get(sneaky).status_code == 404, sneaky


def test_a_failed_load_is_one_line_on_health_and_every_request():
    from starlette.testclient import TestClient

    from maps.serve.app import create_app

    engine = _Engine(fail=True)
    engine.release.set()
    with TestClient(create_app(engine, load="thread")) as client:
        health = _wait(client, 500)
        assert health == {"status": "error", "error": "RuntimeError: network file missing"}
        response = client.post("/api/scenario", content=b"{}")
        assert response.status_code == 500
        assert response.json() == {"error": "the server could not load its network: RuntimeError: network file missing"}
