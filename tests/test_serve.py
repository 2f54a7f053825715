"""`plan.py serve` end to end on the real network: the server as a user starts it, an HTTP client, Chromium, the CLI.

One server per module (``plan.py serve --port P --data ../shared/data``, a subprocess), plus the engine loaded in
this process to compare its numbers with the access report's. The sketched road of issue 24 is a 22.5 km expressway
from Lục Nam to TP Bắc Giang: its two ends are OpenStreetMap 2018 place nodes (bacgiang_places_osm2018_bbox03.geojson,
ODbL): Lục Nam, node 4638297656, and Bắc Giang (place=city), node 369487030.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
LUC_NAM = (106.41024, 21.29643)      # OSM node 4638297656 (place Lục Nam)
BAC_GIANG = (106.19388, 21.27793)    # OSM node 369487030 (place=city Bắc Giang)


def fc(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def road(coords, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]}}


EXPRESSWAY = fc(road([LUC_NAM, BAC_GIANG], name="Cao tốc Lục Nam – TP Bắc Giang (phác thảo)", road_class="expressway"))
#: three more sketches for the concurrency check: a national road with a via point, a district road, two roads at once
OTHERS = [fc(road([(106.30, 21.42), (106.36, 21.36), (106.41, 21.30)], name="QL phác thảo", road_class="national")),
          fc(road([(106.05, 21.30), (106.12, 21.36)], name="ĐH phác thảo", road_class="district", design_speed_kmh=45)),
          fc(road([(106.50, 21.25), (106.60, 21.30)], road_class="provincial"),
             road([(106.15, 21.20), (106.25, 21.20)], road_class="expressway", design_speed_kmh=90))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(shared_data, tmp_path_factory):
    """``plan.py serve`` as a user runs it; the statuses /api/health gave until ready are kept in ``seen``."""
    import httpx2

    port = _free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "scripts/plan.py", "serve", "--port", str(port), "--data", str(shared_data), "--quiet"],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    seen = []
    deadline = time.time() + 300
    with httpx2.Client(timeout=10) as client:
        while time.time() < deadline and proc.poll() is None:
            try:
                response = client.get(f"{url}/api/health")
                seen.append((response.status_code, response.json().get("status")))
                if response.status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            time.sleep(0.25)
    if not seen or seen[-1][0] != 200:
        proc.kill()
        pytest.fail(f"plan.py serve never became healthy: {seen[-3:]}; log: {log_path.read_text()[-3000:]}")
    yield {"url": url, "seen": seen, "proc": proc, "log": log_path}
    proc.send_signal(signal.SIGTERM)            # stops cleanly, and no request ever printed a traceback
    try:
        assert proc.wait(30) == 0, log_path.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def http(server):
    import httpx2

    with httpx2.Client(base_url=server["url"], timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def engine(shared_data):
    """The same engine, in this process (the server's numbers against the access report's)."""
    from geo import settings
    from maps.serve.engine import Engine, EngineOptions

    settings.progress = False
    return Engine(EngineOptions(data_dir=shared_data, page=False)).load()


@pytest.fixture(scope="module")
def expressway(http) -> dict:
    response = http.post("/api/scenario", json=EXPRESSWAY)
    assert response.status_code == 200, response.text
    return response.json()


def _without_timing(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "elapsed_ms"}


# ---------------------------------------------------------------------------------------------------------- HTTP
def test_serve_becomes_healthy_after_loading(server, http):
    assert (503, "loading") in server["seen"], server["seen"][:3]      # up at once, healthy when the network is ready
    health = http.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["region"] == "bac-giang"
    options = http.get("/api/options").json()
    classes = {c["key"]: c["design_speed_kmh"] for c in options["road_classes"]}
    assert classes["expressway"] == 100.0 and classes["national"] == 60.0 and classes["district"] == 40.0
    assert {"ct01", "ql1a", "kep_station", "bac_giang_city"} <= {t["key"] for t in options["targets"]}


def test_expressway_luc_nam_to_bac_giang_every_park_some_faster_none_slower(expressway, engine):
    parks = expressway["parks"]
    assert [p["name"] for p in parks] == engine.parks["name"].tolist() and len(parks) == 69    # every placed park
    minutes = [k for k in parks[0] if k.startswith("minutes_to_") and k.endswith("_change")]
    changes = np.array([[p[k] if p[k] is not None else np.nan for k in minutes] for p in parks], float)
    assert np.nanmin(changes) < -0.5                        # some parks faster
    assert not (changes > 1e-6).any()                       # none slower
    people = [k for k in parks[0] if k.startswith("people_within_") and k.endswith("_change")]
    assert len(people) == 2 and all(p[k] is None or p[k] >= 0 for p in parks for k in people)
    s = expressway["summary"]
    assert s["parks"] == 69 and s["parks_slower"] == 0 and s["catchments_smaller"] == 0
    assert s["parks_faster"]["ct01"] >= 5 and s["parks_faster"]["bac_giang_city"] >= 5
    top = s["largest_gains"][0]
    assert top["saved"] >= 3 and top["before"] - top["after"] == pytest.approx(top["saved"], abs=0.011)
    # every end of the road reports how it joined the network and how far it was
    (r,) = expressway["roads"]
    assert r["length_km"] == pytest.approx(22.5, abs=0.1) and r["interchanges_used"] == 2
    assert [e["end"] for e in r["ends"]] == ["start", "end"] and all(e["snap_m"] is not None and e["snap_m"] < 100 for e in r["ends"])
    assert all(e["joins"].startswith("interchange: link of ") for e in r["ends"])
    # the grid of minutes saved: 1-km cells, none slower, the people who gain
    grid = expressway["grid"]
    assert grid["cells"] and grid["columns"][:3] == ["lon", "lat", "people"]
    assert all(v is None or v >= 0 for c in grid["cells"] for v in c[3:])
    assert s["people_gaining"]["bac_giang_city"] > 10_000
    assert expressway["communes"] == [] and "no 2025 communes" in expressway["communes_note"]


def test_server_numbers_are_the_access_reports(expressway, engine):
    """The engine computes what layers.access.access_report computes (before, and after the sketched road), without
    redoing the base-only work: equal to 1e-9 minutes, catchments exactly; the server answers the same, rounded."""
    from layers import access
    from layers.scenario import scenario_network
    from maps.serve.sketch import parse_sketch

    sketch = parse_sketch(EXPRESSWAY, engine.rules)
    before = access.access_report(engine.region, engine.parks, engine.net, population=engine.population, ranges=False,
                                  rail=False)           # the editor measures by road
    router, _, extra = scenario_network(engine.region, engine.net, sketch.roads, sketch.interchanges, source="sketch")
    after = access.access_report(engine.region, engine.parks, engine.net, population=engine.population, router=router,
                                 extra_targets=extra)
    mine_after = engine._measure(router, extra)["table"]
    n = len(engine.parks)
    for ref, mine in ((before, engine.before["table"]), (after, mine_after)):
        for c in [c for c in ref.columns if c.startswith(("minutes_to_", "people_within_"))]:
            a, b = ref[c].to_numpy(float), mine[c].to_numpy(float)[:n]
            assert np.array_equal(np.isnan(a), np.isnan(b)), c
            assert np.nanmax(np.abs(a - b), initial=0) < (1e-9 if c.startswith("minutes") else 1e-12), c
    served = expressway["parks"]
    for c in [c for c in after.columns if c.startswith("minutes_to_")]:
        got = np.array([p[f"{c}_after"] if p[f"{c}_after"] is not None else np.nan for p in served], float)
        assert np.nanmax(np.abs(got - after[c].to_numpy(float)), initial=0) <= 0.005 + 1e-9, c


def test_grid_cells_are_timed_as_attached_points(engine):
    """A grid cell's minutes (through the ends of the edge it joins) equal those of the cell attached as a point."""
    from geo.crs import to_metric
    from geo.routing.access import minutes_to_targets

    rng = np.random.default_rng(24)
    pick = rng.choice(len(engine.cells), 200, replace=False)
    cells = to_metric(engine.cells.iloc[pick], engine.region.metric_crs)
    base = engine.before
    routed, d_idx, _, _ = engine.net.attach(engine.net.road, engine.destinations, engine.cfg["destination_max_snap_m"],
                                            engine.cfg["access_speed_kmh"])
    routed, idx, _, why = engine.net.attach(routed, cells, engine.cfg["max_snap_m"], engine.cfg["access_speed_kmh"])
    keys = list(engine.destinations.index)
    ref = minutes_to_targets(routed, idx, {k: [i] for k, i in zip(keys, d_idx)}, origin_reason=why)
    for k in keys:
        mine = base["grid"][pick, base["grid_keys"].index(k)]
        assert np.nanmax(np.abs(mine - ref[f"minutes_to_{k}"].to_numpy(float))) < 1e-9, k


@pytest.mark.parametrize("body, status, expected", [
    (b"{\"type\": \"FeatureCollection\", \"features\": [", 400, "malformed JSON: "),
    (json.dumps(fc(road([(105.20, 21.00), (105.25, 21.02)], name="ngoài vùng"))).encode(), 422,
     "road 1 ('ngoài vùng'), vertex 1: 105.200000, 21.000000 lies outside the bac-giang window (the region outline + 30 km)"),
    (json.dumps(fc({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[106, 21], [106.1, 21],
     [106, 21.1], [106, 21]]]}})).encode(), 422, "feature 1: geometry type 'Polygon' is not accepted"),
    (json.dumps(fc(*[road([(106.1, 21.3), (106.2, 21.3)])] * 21)).encode(), 422, "21 roads: at most 20 per request"),
    (b" " * 1_000_001, 413, "request body of 1,000,001 bytes: at most 1,000,000 accepted"),
])
def test_bad_requests_are_one_line_json_errors(http, body, status, expected):
    response = http.post("/api/scenario", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error.startswith(expected) and "\n" not in error and "Traceback" not in response.text


def test_a_road_far_from_every_road_names_the_distance_and_the_nearest_road(http, engine):
    """A road drawn inside the window but more than the tolerance (1,000 m) from every road it may join: refused, with
    each end's real distance and the nearest road's name."""
    from pyproj import Transformer

    from layers.scenario import road_label

    to_metric = Transformer.from_crs("EPSG:4326", engine.region.metric_crs, always_xy=True)
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(105.9, 107.0, 4000), rng.uniform(21.1, 21.6, 4000)
    x, y = to_metric.transform(lon, lat)
    pos, dist, _ = engine.net.entry_edges.nearest(x, y, np.inf)
    inside = np.array([engine.rules.window.covers(__import__("shapely").Point(a, b)) for a, b in zip(lon, lat)])
    far = np.flatnonzero(inside & (dist > 2500))
    assert far.size >= 2, "no place 2.5 km from every road in the window"
    a, b = far[0], far[1]
    response = http.post("/api/scenario", json=fc(road([(lon[a], lat[a]), (lon[b], lat[b])], name="đường núi",
                                                       road_class="provincial")))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    label = road_label(engine.region, engine.net)
    assert error.startswith("planned road 'đường núi' touches no road: its ends lie farther than the tolerance of 1,000 m")
    assert f"start: {dist[a]:,.0f} m from {label(pos[a])}" in error and f"end: {dist[b]:,.0f} m from {label(pos[b])}" in error


def test_an_end_21_m_from_a_road_joins_it(http, engine):
    """Issue 24's two-point road: an end a few metres from a road joins it (the report says how far), wherever the
    other end lies."""
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(engine.region.metric_crs, "EPSG:4326", always_xy=True)
    x, y = Transformer.from_crs("EPSG:4326", engine.region.metric_crs, always_xy=True).transform(106.25, 21.35)
    edges = engine.net.entry_edges
    pos, _, _ = edges.nearest([x], [y], 5000)                   # a road near Lạng Giang, in the province
    mid = edges.lines[pos[0]].interpolate(0.5, normalized=True)
    lon, lat = to_lonlat.transform(mid.x, mid.y + 21.0)          # 21 m north of the middle of that road
    response = http.post("/api/scenario", json=fc(road([(lon, lat), (lon + 0.03, lat + 0.002)], name="nối", road_class="district")))
    assert response.status_code == 200, response.text
    start = response.json()["roads"][0]["ends"][0]
    assert start["snap_m"] <= 21.0 + 0.5 and start["joins"].startswith("junction: link of ")


def test_concurrent_requests_give_the_answers_of_one_at_a_time(http, server):
    import httpx2

    sketches = [EXPRESSWAY, *OTHERS]
    alone = [_without_timing(http.post("/api/scenario", json=s).json()) for s in sketches]
    assert all("parks" in a for a in alone), [a.get("error") for a in alone]
    order = [i for i in range(len(sketches)) for _ in range(3)]
    random.Random(24).shuffle(order)

    def ask(i):
        with httpx2.Client(base_url=server["url"], timeout=120) as client:
            return i, client.post("/api/scenario", json=sketches[i]).json()

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(ask, order))
        health = http.get("/api/health")             # answered while evaluations run
    assert health.status_code == 200
    for i, answer in answers:
        assert _without_timing(answer) == alone[i], f"sketch {i} answered differently under load"


def test_isochrones_before_and_after(http):
    response = http.post("/api/isochrones", json={"scenario": EXPRESSWAY, "origin": list(LUC_NAM), "minutes": [30]})
    assert response.status_code == 200, response.text
    body = response.json()
    before, after = body["before"]["features"][0], body["after"]["features"][0]
    assert before["geometry"]["type"] in ("Polygon", "MultiPolygon") and body["snap_m"] < 500
    assert after["properties"]["area_km2"] > before["properties"]["area_km2"] * 1.05     # the expressway reaches farther
    only = http.post("/api/isochrones", json={"scenario": None, "origin": list(LUC_NAM), "minutes": [30]}).json()
    assert "after" not in only and only["before"]["features"][0]["properties"]["area_km2"] == before["properties"]["area_km2"]
    bad = http.post("/api/isochrones", json={"origin": [100.0, 21.0], "minutes": [30]})
    assert bad.status_code == 422 and "outside the bac-giang window" in bad.json()["error"]
    assert http.post("/api/isochrones", json={"origin": list(LUC_NAM), "minutes": [0]}).status_code == 422


# ---------------------------------------------------------------------------------------------------------- CLI
def test_saved_scenario_and_from_to_give_the_servers_numbers(expressway, shared_data, tmp_path, capsys):
    """'Save as scenario' writes the GeoJSON that plan.py scenario reads, and plan.py scenario --from/--to evaluates the
    same road: both give the server's minutes, and print words (never a dict, never an empty list)."""
    import pandas as pd

    from bgplan.cli import main

    saved = tmp_path / "sketch.geojson"
    saved.write_text(json.dumps(expressway["scenario"], ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["scenario", str(saved), "--data", str(shared_data), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "scenario.csv")
    served = {p["name"]: p for p in expressway["parks"]}
    for column in ("minutes_to_ct01_after", "minutes_to_bac_giang_city_after", "people_within_45_min_after"):
        got = np.array([served[n][column] if served[n][column] is not None else np.nan for n in table["name"]], float)
        assert np.nanmax(np.abs(got - table[column].to_numpy(float))) <= 0.005 + 1e-9, column
    assert "parks at least half a minute faster (of 69): 7 to ct01, 7 to bac_giang_city" in printed, printed
    assert "{" not in printed and "start: interchange: link of 56 m" in printed
    out2 = tmp_path / "out2"
    assert main(["scenario", "--from", f"{LUC_NAM[0]},{LUC_NAM[1]}", "--to", f"{BAC_GIANG[0]},{BAC_GIANG[1]}",
                 "--road-class", "expressway", "--data", str(shared_data), "--out", str(out2), "--quiet"]) == 0
    printed2 = capsys.readouterr().out
    table2 = pd.read_csv(out2 / "scenario.csv")
    assert np.allclose(table2["minutes_to_ct01_after"], table["minutes_to_ct01_after"], equal_nan=True, atol=1e-9)
    assert "parks at least half a minute faster (of 69): 7 to ct01" in printed2 and (out2 / "scenario_sketch.geojson").is_file()
    assert main(["scenario", "--from", "100.0,21.0", "--to", f"{BAC_GIANG[0]},{BAC_GIANG[1]}", "--data", str(shared_data),
                 "--out", str(tmp_path / "out3"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --from/--via/--to: road 1") and "outside the bac-giang window" in err


def test_no_park_faster_is_said_in_words():
    import pandas as pd

    from bgplan.commands import scenario_lines as _scenario_lines

    change = pd.DataFrame({"name": ["KCN A", "CCN B"], "minutes_to_kep_station_change": [0.0, -0.2],
                           "minutes_to_road_change": [np.nan, np.nan]})
    change.attrs["summary"] = {"roads": [{"name": "r", "road_class": "district", "length_km": 1.0, "design_speed_kmh": 40.0,
                                          "access_points": 1, "start_joins": "junction: link of 3 m to QL31",
                                          "end_joins": "nothing"}],
                               "parks_faster": {"minutes_to_kep_station": 0}, "parks_slower": 0, "catchments_smaller": 0}
    lines = _scenario_lines(change)
    assert lines[1] == "parks at least half a minute faster (of 2): none — no park gains half a minute to any target"
    assert lines[0].endswith("start: junction: link of 3 m to QL31; end: nothing")


# ---------------------------------------------------------------------------------------------------------- Chromium
@pytest.fixture(scope="module")
def browser(server):
    from test_browser import CHROMEDRIVER, CHROMIUM, FLAGS, _need_browser

    _need_browser()
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='bgplan-serve-')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.page_load_strategy = "eager"
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait_for(driver, script: str, timeout: float = 30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def _click(driver, lat: float, lon: float):
    from test_browser import _click_latlng

    _click_latlng(driver, lat, lon)
    time.sleep(0.15)


def test_sketch_evaluate_and_read_the_table_in_chromium(browser, server, expressway):
    from test_browser import ARTIFACTS, _errors

    browser.get(server["url"] + "/")
    _wait_for(browser, "return window.bgServeReady === true")
    browser.execute_script("bgMap.setView([21.29, 106.30], 11, {animate: false});")
    browser.find_element("id", "bg-serve-name").send_keys('<img src=x onerror="window.__xss=1">')
    # draw through the plugin: Leaflet-Geoman's line tool, real clicks; a click on the last vertex finishes the line
    browser.execute_script("bgMap.pm.enableDraw('Line');")
    _click(browser, LUC_NAM[1], LUC_NAM[0])
    _click(browser, BAC_GIANG[1], BAC_GIANG[0])
    _click(browser, BAC_GIANG[1], BAC_GIANG[0])
    drawn = browser.execute_script("return bgServe.featureCollection();")
    assert len(drawn["features"]) == 1 and drawn["features"][0]["properties"]["road_class"] == "expressway"
    coords = np.array(drawn["features"][0]["geometry"]["coordinates"])
    assert np.abs(coords - np.array([LUC_NAM, BAC_GIANG])).max() < 0.002      # within a pixel or two at zoom 11
    browser.find_element("id", "bg-serve-evaluate").click()
    _wait_for(browser, "return document.getElementById('bg-serve-status').textContent.indexOf('Xong') === 0")
    rows = [[td.text for td in tr.find_elements("css selector", "td")]
            for tr in browser.find_elements("css selector", "#bg-serve-gains tbody tr")]
    gains = expressway["summary"]["largest_gains"]          # the drawn road ends within a pixel of the exact one
    assert len(rows) == min(15, len(gains)) >= 10 and rows[0][0] == gains[0]["name"]
    assert rows[0][4].startswith("−") and float(rows[0][4][1:]) >= 3
    ends = [tr.text for tr in browser.find_elements("css selector", "#bg-serve-ends tbody tr")]
    assert len(ends) == 2 and all("link of" in e for e in ends)
    assert browser.execute_script("return window.__xss") is None
    assert browser.find_element("css selector", "#bg-serve-roads input[type=text]").get_attribute("value").startswith("<img")
    # the answer as layers on the map: parks coloured by minutes saved, the minutes-saved grid, where the road joins
    counts = browser.execute_script("return bgServe.layerCounts();")
    assert counts["parks"] == 69 and counts["grid"] > 100 and counts["entries"] == 2, counts
    result = browser.execute_script("return bgServe.result;")
    assert len(result["parks"]) == 69 and result["summary"]["parks_slower"] == 0
    # isochrones from a point (picked on the map), before and after
    browser.find_element("id", "bg-serve-origin").click()
    _click(browser, 21.30, 106.38)
    status = _wait_for(browser, "var t = document.getElementById('bg-serve-iso').textContent;"
                                "return t.indexOf('km²') > 0 ? t : null;", timeout=60)
    assert "trước / before" in status and "sau / after" in status
    # save as scenario: the GeoJSON the server evaluated, which plan.py scenario reads
    saved = json.loads(browser.execute_script("return bgServe.scenarioText();"))
    assert saved["features"][0]["properties"]["road_class"] == "expressway"
    assert saved["features"][0]["properties"]["design_speed_kmh"] == 100.0
    counts = browser.execute_script("return bgServe.layerCounts();")
    assert counts["isoBefore"] == 1 and counts["isoAfter"] == 1, counts
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "serve_sketch.png"))
    assert _errors(browser) == []
