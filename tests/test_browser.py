"""The published site in a real headless Chromium (selenium; Debian's /usr/bin/chromium and chromedriver).

The site is built from the real layers plus two parks with malicious names
and small hand-made analysis frames, served on 127.0.0.1 by http.server in
a thread, and opened page by page. Screenshots go to ``test-artifacts/``.
Without Chromium they fail, in CI and elsewhere (a browser test never skips; install it as .ci/run does).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import tempfile
import re
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("BGPLAN_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("BGPLAN_CHROMEDRIVER", "/usr/bin/chromedriver"))
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,900")

XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "</script><script>window.__xss=2</script>"
XSS_POINT = (106.62, 21.42)    # empty country in Lục Ngạn, away from other point features


def _need_browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python package selenium")
    if missing:
        pytest.fail("browser tests need " + ", ".join(missing) + " (apt-get install chromium chromium-driver; pip install selenium)")


@pytest.fixture(scope="module")
def built(region):
    from layers.build import build_layers

    _need_browser()
    return build_layers(region)


@pytest.fixture(scope="module")
def site(built, region, tmp_path_factory):
    """The published site with malicious park names, sample analyses and the validation page's table."""
    from maps.publish import publish_site
    from maps.samples import sample_analyses

    result = built
    layers = dict(result.layers)
    bad = gpd.GeoDataFrame({"name": [XSS_IMG, XSS_SCRIPT], "kind": ["KCN", "CCN"], "area_ha": [200.0, None],
                            "status": ["operating", "listed"], "status_class": ["operating", "listed"],
                            "district": ["Lục Ngạn", "<b>bold</b>"]},
                           geometry=[Point(*XSS_POINT), Point(106.70, 21.35)], crs="EPSG:4326")
    layers["industrial_parks"] = pd.concat([layers["industrial_parks"], bad], ignore_index=True)
    analyses = sample_analyses(layers)
    # a park with a malicious name in the scenario too (its own point, away from the sample parks)
    scen = analyses["scenario"]
    row = gpd.GeoDataFrame({"name": [XSS_IMG], "minutes_to_kep_station_before": [60.0], "minutes_to_kep_station_after": [45.0]},
                           geometry=[Point(*XSS_POINT)], crs=scen.crs)
    analyses["scenario"] = pd.concat([scen, row], ignore_index=True)
    out = tmp_path_factory.mktemp("site")
    _validation_table(region, out)
    # The registry's park points may not be redistributed (licences.json says "not allowed"): these tests check how
    # parks are drawn and escaped, so they publish them on purpose (every page then carries the restricted notice).
    published = publish_site(out, layers=layers, population=result.population, analyses=analyses, summary=result.summary,
                             include_restricted=True)
    return published["site"]


def _validation_table(region, out: Path):
    """OUT/validation.csv as ``plan.py validate`` writes it, from the region's real observations (long routes,
    quotes and addresses: the widest table of the site) with the model's columns unknown (no routing here)."""
    from layers.validation import observations_file, read_observations

    table = read_observations(observations_file(region))
    for column in ("model_km", "model_minutes", "km_error", "minutes_error", "assumed_share"):
        table[column] = float("nan")
    table.to_csv(out / "validation.csv", index=False)
    (out / "validation.json").write_text(json.dumps({"network": "today", "rows_with_distance": 0}), encoding="utf-8")


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(server):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bgplan-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.page_load_strategy = "eager"     # don't wait for tile images (no network); _open waits for the map script
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, url: str, is_map: bool = True):
    driver.get(url)
    if is_map:
        deadline = time.time() + 15
        while time.time() < deadline and not driver.execute_script("return window.bgReady"):
            time.sleep(0.05)
        assert driver.execute_script("return window.bgReady"), f"{url}: the map script did not finish"


def _errors(driver) -> list[str]:
    """SEVERE console entries, except failed tile requests (there is no network)."""
    out = []
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE":
            continue
        if "tile.openstreetmap.org" in entry["message"]:
            continue
        out.append(entry["message"])
    return out


def _shot(driver, name: str):
    driver.save_screenshot(str(ARTIFACTS / f"browser_{name}.png"))


#: JS: ``seen(element)``, the text of an element in the page's language (the other language's spans dropped).
SEEN_JS = """var hide = document.documentElement.classList.contains('bg-lang-en') ? '.bg-vi' : '.bg-en';
function seen(e) { if (!e) return null; if (e.closest(hide)) return ''; var c = e.cloneNode(true);
  c.querySelectorAll(hide).forEach(function (x) { x.remove(); });
  c.querySelectorAll('th, td, h4, div, li').forEach(function (x) { x.append(' '); });
  c.querySelectorAll('br').forEach(function (x) { x.replaceWith(' '); });
  return c.textContent.replace(/\\s+/g, ' ').trim(); }
"""


def _seen(driver, css: str) -> list[str]:
    """The texts of the elements matching ``css`` as a reader of the page's language sees them."""
    return driver.execute_script(SEEN_JS + "return Array.from(document.querySelectorAll(arguments[0])).map(seen);", css)


def _layer_labels(driver) -> list[str]:
    return _seen(driver, ".leaflet-control-layers label, .leaflet-control-layers-group-name")


def _legend_shown(driver) -> list[str]:
    """The sections of the legend panel shown (the layers on), as the reader sees them."""
    return driver.execute_script(SEEN_JS + "return Array.from(document.querySelectorAll('#legend-panel .bg-lg-section'))"
                                 ".filter(function (s) { return !s.hidden; }).map(seen);")



def _drawn(driver, key: str) -> int:
    """Features of bgplan.layers[key] currently on the map."""
    return driver.execute_script(
        "var l = bgplan.layers[arguments[0]]; if (!l || !bgMap.hasLayer(l)) return 0;"
        "return l.getLayers().filter(function (s) { return !!s._map; }).length;", key)


def _click_latlng(driver, lat: float, lon: float, map_js: str = "bgMap"):
    """A real mouse click at a map position (on the map ``map_js`` names, e.g. ``bgplan.maps.before.map``)."""
    from selenium.webdriver.common.action_chains import ActionChains

    point = driver.execute_script(f"var p = {map_js}.latLngToContainerPoint([arguments[0], arguments[1]]); return [p.x, p.y];",
                                  lat, lon)
    container = driver.execute_script(f"return {map_js}.getContainer();")
    size = container.size
    ActionChains(driver).move_to_element_with_offset(container, int(point[0] - size["width"] / 2),
                                                     int(point[1] - size["height"] / 2)).click().perform()


def _popup_text(driver, timeout: float = 5) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        popups = driver.find_elements("css selector", ".leaflet-popup-content")
        text = popups[0].get_attribute("textContent") if popups else ""
        if text.strip():
            return text
        time.sleep(0.05)
    return ""


def test_planning_page(browser, server, region):
    _open(browser, f"{server}/planning.html")
    _shot(browser, "planning")
    assert _errors(browser) == []

    labels = _layer_labels(browser)
    text = " | ".join(labels)
    for expected in ("Nền nhẹ (ngoại tuyến", "OpenStreetMap (trực tuyến)", "Không nền", "Ranh giới", "Tỉnh (1)",
                     "Mật độ dân số 2019", "Tỷ lệ dân số đô thị 2019", "Khu công nghiệp (KCN)", "Cụm công nghiệp (CCN)",
                     "Hành lang giao thông", "Đường sắt (9)", "Ga, cảng cạn", "Đô thị (", "Dân số, lưới 1 km"):
        assert expected in text, f"layer control lacks {expected!r}: {labels}"
    assert " / " not in text                                  # one language at a time, no doubled labels

    # features are drawn: every placed KCN and CCN of old Bắc Giang plus the two malicious test parks
    from layers.parks import industrial_parks

    kinds = industrial_parks(region)["kind"].value_counts()
    assert _drawn(browser, "parks_kcn") == kinds["KCN"] + 1
    assert _drawn(browser, "parks_ccn") == kinds["CCN"] + 1
    assert _drawn(browser, "parks_rings") >= 40               # the expected error of approximate positions
    assert _drawn(browser, "districts_outline") == 10          # the districts open as outlines (a small set of layers)
    assert _drawn(browser, "districts_density") == 0
    assert _drawn(browser, "corridors") >= 2                  # QL1A and QL37 are found (layers_summary)
    assert _drawn(browser, "water") > 100                     # the light base map: rivers from 0.5 km, lakes from 1 ha
    total = browser.execute_script("return Object.values(bgMap._layers).filter(function (l) { return l.feature; }).length")
    assert total > 700
    # the attribution is visible although no tile loads
    attribution = browser.find_element("css selector", ".leaflet-control-attribution").text
    for credit in ("OpenStreetMap contributors (ODbL)", "geoBoundaries", "WorldPop (CC BY 4.0)"):
        assert credit in attribution


def test_layer_control_toggles_layer_and_legend(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains

    _open(browser, f"{server}/planning.html")
    legend_count = browser.execute_script("return document.querySelectorAll('#legend-panel .bg-lg-section').length")
    visible = functools.partial(_legend_shown, browser)
    assert any(t.startswith("Đô thị") for t in visible())
    assert not any("người/ô 1 km" in t for t in visible())   # the population grid starts off
    assert not any("Mật độ dân số" in t for t in visible())  # the districts open as outlines
    ActionChains(browser).move_to_element(browser.find_element("css selector", ".leaflet-control-layers")).perform()
    for label in browser.find_elements("css selector", ".leaflet-control-layers label"):
        if label.text.startswith("Đô thị ("):
            label.find_element("css selector", "input").click()
        if label.text.startswith("Mật độ dân số 2019"):
            label.find_element("css selector", "input").click()
    assert any("Mật độ dân số" in t for t in visible())
    for label in browser.find_elements("css selector", ".leaflet-control-layers label"):
        if label.text.startswith("Dân số, lưới 1 km"):
            label.find_element("css selector", "input").click()
    assert _drawn(browser, "urban_areas") == 0
    assert browser.execute_script("return bgMap.hasLayer(bgplan.layers.population)")
    # the grid lies below the vector canvas: switching it on turned the filled districts to outlines
    on = browser.execute_script("return ['districts_density', 'districts_urban', 'districts_outline']"
                                ".filter(function (k) { return bgMap.hasLayer(bgplan.layers[k]); })")
    assert on == ["districts_outline"]
    shown = visible()
    assert not any(t.startswith("Đô thị") for t in shown)
    assert any("người/ô 1 km" in t for t in shown)
    assert not any("Tỷ lệ dân số đô thị" in t or "Mật độ dân số" in t for t in shown)
    # the district group is exclusive: choosing urban share replaces the outlines (and the grid stays)
    for label in browser.find_elements("css selector", ".leaflet-control-layers label"):
        if label.text.startswith("Tỷ lệ dân số đô thị 2019"):
            label.find_element("css selector", "input").click()
    on = browser.execute_script("return ['districts_density', 'districts_urban', 'districts_outline', 'population']"
                                ".filter(function (k) { return bgMap.hasLayer(bgplan.layers[k]); })")
    assert on == ["districts_urban", "population"]
    assert any("Tỷ lệ dân số đô thị" in t for t in visible())
    # the districts switched on last are still drawn below the parks on the shared canvas
    order = browser.execute_script("""
        var r = bgMap.getRenderer(bgplan.layers.parks_kcn.getLayers()[0]), seen = [];
        for (var o = r._drawFirst; o; o = o.next) {
            ['districts_urban', 'parks_kcn', 'corridors'].forEach(function (k) {
                if (bgplan.layers[k].hasLayer(o.layer) && seen[seen.length - 1] !== k) seen.push(k); });
        }
        return seen;""")
    assert order == ["districts_urban", "corridors", "parks_kcn"]
    assert browser.execute_script("return document.querySelectorAll('#legend-panel .bg-lg-section').length") == legend_count
    assert len(browser.find_elements("css selector", "#legend-panel")) == 1
    _shot(browser, "planning_toggled")
    assert _errors(browser) == []


def test_click_on_park_opens_its_popup(browser, server):
    _open(browser, f"{server}/planning.html")
    # hide the point layers drawn above the parks, as a user would in the layer control
    browser.execute_script("['urban_areas', 'stations', 'destinations', 'water'].forEach(function (k) {"
                           " bgMap.removeLayer(bgplan.layers[k]); });")
    latlng = browser.execute_script(
        "var hit = null; bgplan.layers.parks_kcn.eachLayer(function (l) {"
        " var p = l.feature.properties.p; if (typeof p === 'number') p = bgplan.texts[p];"
        " if (p.indexOf('KCN Tân Hưng<') >= 0) hit = l.getLatLng(); });"
        "return hit && [hit.lat, hit.lng];")
    assert latlng, "KCN Tân Hưng is not on the map"     # a park with a point of its own (Xương Lâm, OSM 2018)
    browser.execute_script("bgMap.setView([arguments[0], arguments[1]], 13, {animate: false});", *latlng)
    _click_latlng(browser, *latlng)
    _popup_text(browser)
    text = _seen(browser, ".leaflet-popup-content")[0]
    assert "KCN Tân Hưng" in text
    assert "105" in text and " ha" in text                    # area from the facts file (105.3 ha, daidoanket.vn)
    assert "Xương Lâm" in text                                # the position's precision and source
    assert "Xử lý nước thải tập trung không rõ" in text       # unknown, never 0; in the reader's language only
    assert "unknown" not in text and "Diện tích không rõ" not in text
    _shot(browser, "planning_popup")
    assert _errors(browser) == []


def test_malicious_names_are_text(browser, server):
    _open(browser, f"{server}/planning.html")
    assert browser.execute_script("return window.__xss") is None
    browser.execute_script("['urban_areas', 'stations', 'destinations', 'water'].forEach(function (k) {"
                           " bgMap.removeLayer(bgplan.layers[k]); });")
    browser.execute_script("bgMap.setView([arguments[0], arguments[1]], 12, {animate: false});", XSS_POINT[1], XSS_POINT[0])
    _click_latlng(browser, XSS_POINT[1], XSS_POINT[0])
    text = _popup_text(browser)
    assert XSS_IMG in text                                   # shown as text …
    assert not browser.find_elements("css selector", ".leaflet-popup-content img")   # … not as an element
    time.sleep(0.3)
    assert browser.execute_script("return window.__xss") is None
    # the tooltips of both malicious parks are rendered too
    browser.execute_script("bgplan.layers.parks_kcn.eachLayer(function (l) { l.openTooltip(); });"
                           "bgplan.layers.parks_ccn.eachLayer(function (l) { l.openTooltip(); });")
    time.sleep(0.3)
    assert browser.execute_script("return window.__xss") is None
    tips = " ".join(e.text for e in browser.find_elements("css selector", ".leaflet-tooltip"))
    assert XSS_SCRIPT in tips
    _shot(browser, "planning_xss")
    assert _errors(browser) == []


@pytest.mark.parametrize("page, keys, group", [
    ("access", ["access_kep_station", "isochrones_ga_kep_mau_sample", "isochrones_tp_bac_giang_mau_sample"],
     "Thời gian đến"),
    ("suitability", ["suitability", "candidates"], "Phân tích"),
    ("scenario", ["scenario_after", "planned_roads", "interchanges"], "Phân tích"),   # bgMap: the after map
])
def test_analysis_pages(browser, server, page, keys, group):
    _open(browser, f"{server}/{page}.html")
    for key in keys:
        assert browser.execute_script("return !!bgplan.layers[arguments[0]]", key), key
    assert group in _layer_labels(browser)
    first = keys[0]
    if page == "access":     # the legend names the travel time shown (one target at a time), the one most parks have
        assert [t for t in _seen(browser, "#legend-panel .bg-lg-now") if t] == ["Ga Kép"]
        browser.execute_script("Object.keys(bgplan.layers).forEach(function (k) { if (k.indexOf('access_') === 0)"
                               " bgMap.removeLayer(bgplan.layers[k]); }); bgMap.addLayer(bgplan.layers.access_ct01);")
        time.sleep(0.05)
        now = [t for t in _seen(browser, "#legend-panel .bg-lg-now") if t]
        assert len(now) == 1 and "CT.01" in now[0], now
    browser.execute_script("if (!bgMap.hasLayer(bgplan.layers[arguments[0]])) bgMap.addLayer(bgplan.layers[arguments[0]]);", first)
    assert _drawn(browser, first) > 0
    _shot(browser, page)
    assert _errors(browser) == []


_DUAL_STATE = """var a = bgplan.maps.before.map, b = bgplan.maps.after.map;
    return {a: [a.getCenter().lat, a.getCenter().lng], b: [b.getCenter().lat, b.getCenter().lng],
            za: a.getZoom(), zb: b.getZoom(),
            // how far (px) the centre of the before map lies from the centre of the after map, on the after map
            offset: b.latLngToContainerPoint(a.getCenter()).distanceTo(b.getSize().divideBy(2))};"""


def _choose_target(driver, text: str) -> int:
    """Pick the first selector option containing ``text``, as a user does; returns its value."""
    from selenium.webdriver.support.select import Select

    select = Select(driver.find_element("id", "bg-target"))
    option = next(o for o in select.options if text in o.text)
    select.select_by_value(option.get_attribute("value"))
    return int(option.get_attribute("value"))


def test_scenario_page_is_a_synchronised_dual_map(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains

    _open(browser, f"{server}/scenario.html")
    assert browser.execute_script("return window.bgDualReady") is True
    maps = browser.find_elements("css selector", ".folium-map")
    assert len(maps) == 2
    left, right = maps[0].rect, maps[1].rect
    # side by side, same size, below the bar with the selector and the one legend
    assert left["x"] + left["width"] <= right["x"] + 1 and abs(left["y"] - right["y"]) < 1
    assert abs(left["width"] - right["width"]) < 2 and left["width"] > 600 and left["height"] > 500
    assert _seen(browser, ".bg-box h1") == ["Trước", "Sau"]
    assert len(browser.find_elements("css selector", "#bg-dual-legend")) == 1
    assert browser.execute_script("return bgMap === bgplan.maps.after.map && bgplan.maps.before.map !== bgMap")
    # the planned road and its interchanges are on the after map only; the corridors on both
    assert browser.execute_script("return bgplan.maps.after.map.hasLayer(bgplan.maps.after.layers.planned_roads)"
                                  " && !bgplan.maps.before.layers.planned_roads && !bgplan.maps.before.layers.interchanges")
    assert browser.execute_script("return bgplan.maps.before.map.hasLayer(bgplan.maps.before.layers.corridors)"
                                  " && bgplan.maps.after.map.hasLayer(bgplan.maps.after.layers.corridors)")

    # setView on one map moves the other, both ways
    start = browser.execute_script(_DUAL_STATE)
    assert start["offset"] < 1 and start["za"] == start["zb"]
    browser.execute_script("bgplan.maps.before.map.setView([21.42, 106.29], 12, {animate: false});")
    state = browser.execute_script(_DUAL_STATE)
    assert state["za"] == state["zb"] == 12
    assert state["b"] == pytest.approx([21.42, 106.29], abs=1e-4) and state["offset"] < 1
    browser.execute_script("bgplan.maps.after.map.setView([21.30, 106.20], 11, {animate: false});")
    state = browser.execute_script(_DUAL_STATE)
    assert state["za"] == state["zb"] == 11
    assert state["a"] == pytest.approx([21.30, 106.20], abs=1e-4) and state["offset"] < 1
    # a real drag on the before map pans the after map with it (Leaflet pans by whole pixels: within 1 px)
    ActionChains(browser).move_to_element_with_offset(maps[0], 0, 100).click_and_hold().move_by_offset(-80, -40) \
        .move_by_offset(-80, -40).release().perform()
    time.sleep(0.8)                                            # inertia
    dragged = browser.execute_script(_DUAL_STATE)
    assert dragged["a"][1] > state["a"][1] + 0.02              # moved east by ~160 px at zoom 11
    assert dragged["offset"] < 1 and dragged["za"] == dragged["zb"] == 11
    # the mouse on one map is echoed as a ring on the other
    ActionChains(browser).move_to_element_with_offset(maps[1], 30, 30).perform()
    assert browser.execute_script("return bgplan.maps.before.map.getContainer().querySelectorAll('.bg-ghost').length") == 1
    _shot(browser, "scenario_dual_synced")
    assert _errors(browser) == []


def test_scenario_dual_map_colours_and_popups(browser, server):
    _open(browser, f"{server}/scenario.html")
    # maps.samples: the first sample park takes 40 min to Kép before and 22 after; its CT.01 time is unknown before
    index = _choose_target(browser, "Kép")
    assert browser.execute_script("return bgplan.dual.current()") == index
    legend = _seen(browser, "#bg-dual-legend")[0]
    assert "Thời gian đi (phút)" in legend and "không rõ" in legend and "travel time" not in legend
    park = browser.execute_script("""
        var hit = null;
        bgplan.maps.after.layers.scenario_after.eachLayer(function (l) { if (l.feature.properties.t.indexOf('40 → 22') >= 0) hit = l; });
        if (!hit) return null;
        var twin = null;
        bgplan.maps.before.layers.scenario_before.eachLayer(function (l) {
            if (l.getLatLng().equals(hit.getLatLng())) twin = l; });
        return {lat: hit.getLatLng().lat, lng: hit.getLatLng().lng, after: hit.options.fillColor, afterKey: hit.feature.properties.k,
                before: twin.options.fillColor, weight: hit.options.weight, beforeWeight: twin.options.weight};""")
    assert park, "the sample park with 40 → 22 min to Kép is not on the after map"
    assert park["before"] != park["after"]                    # one scale, two classes: 40 min before, 22 after
    assert park["afterKey"].endswith("|b") and park["weight"] > park["beforeWeight"]   # 18 min faster: thick outline
    # one legend for both maps: every park colour of both maps is one of its swatches
    fills = set(browser.execute_script("""
        var out = [];
        [bgplan.maps.before.layers.scenario_before, bgplan.maps.after.layers.scenario_after].forEach(function (g) {
            g.eachLayer(function (l) { out.push(l.options.fillColor); }); });
        return out;"""))
    swatches = set(browser.execute_script(
        "return Array.from(document.querySelectorAll('#bg-dual-legend circle')).map(function (c) { return c.getAttribute('fill'); });"))
    assert len(fills) >= 3 and fills <= swatches

    # a real click on the park on the after map opens its popup with before, after and change
    browser.execute_script("""var m = bgplan.maps.after.map;
        ['stations', 'destinations', 'interchanges', 'district_names'].forEach(function (k) {
            if (bgplan.layers[k]) m.removeLayer(bgplan.layers[k]); });
        m.setView([arguments[0], arguments[1]], 13, {animate: false});""", park["lat"], park["lng"])
    _click_latlng(browser, park["lat"], park["lng"], "bgplan.maps.after.map")
    text = _popup_text(browser)
    text = _seen(browser, ".leaflet-popup-content")[0]
    assert "Trước" in text and "Sau" in text and "before" not in text
    popup = browser.find_element("css selector", ".leaflet-popup-content")
    assert browser.execute_script("return bgplan.maps.after.map.getContainer().contains(arguments[0])", popup)
    rows = browser.execute_script(SEEN_JS + """return Array.from(arguments[0].querySelectorAll('tr')).map(function (tr) {
        return Array.from(tr.children).map(seen).filter(Boolean); });""", popup)
    now = browser.execute_script(SEEN_JS + "return Array.from(arguments[0].querySelectorAll('tr.bg-now-row > *'))"
                                 ".map(seen).filter(Boolean);", popup)
    assert now == ["Ga Kép", "40", "22", "−18"]          # the chosen target on top, highlighted
    ct01 = next(r for r in rows if "CT.01" in r[0])
    assert ct01[1:] == ["không rõ", "20", "không rõ"]   # unknown before, never 0
    _shot(browser, "scenario_dual_popup")
    # choosing another target recolours both maps and the legend
    before_legend = browser.find_element("id", "bg-dual-legend").get_attribute("innerHTML")
    _choose_target(browser, "CT.01")
    assert browser.find_element("id", "bg-dual-legend").get_attribute("innerHTML") != before_legend
    unknown_left = browser.execute_script("""var n = 0;
        bgplan.maps.before.layers.scenario_before.eachLayer(function (l) { if (l.feature.properties.k === 'u') n++; });
        return n;""")
    assert unknown_left >= 5                                   # no CT.01 before the scenario: unknown, grey
    assert _errors(browser) == []


def test_scenario_dual_map_names_are_text(browser, server):
    _open(browser, f"{server}/scenario.html")
    found = browser.execute_script("""var lng = arguments[0], n = 0;
        bgplan.maps.after.layers.scenario_after.eachLayer(function (l) {
            if (l.getLatLng().lng.toFixed(2) === lng) { l.openTooltip(); l.openPopup(); n++; } });
        return n;""", f"{XSS_POINT[0]:.2f}")
    assert found == 1
    time.sleep(0.3)
    assert browser.execute_script("return window.__xss") is None
    text = _popup_text(browser)
    assert XSS_IMG in text                                     # shown as text …
    assert not browser.find_elements("css selector", ".leaflet-popup-content img, .leaflet-tooltip img")   # … not an element
    assert XSS_IMG in " ".join(e.text for e in browser.find_elements("css selector", ".leaflet-tooltip"))
    assert _errors(browser) == []


def test_index_and_indicators_pages(browser, server):
    _open(browser, f"{server}/index.html", is_map=False)
    links = {e.get_attribute("href").rsplit("/", 1)[-1] for e in browser.find_elements("css selector", "a")
             if e.get_attribute("href") and e.get_attribute("href").startswith(server)}
    assert {"planning.html", "access.html", "suitability.html", "scenario.html", "indicators.html"} <= links
    assert "OpenStreetMap contributors (ODbL)" in browser.find_element("tag name", "footer").text
    _shot(browser, "index")
    assert _errors(browser) == []

    _open(browser, f"{server}/indicators.html", is_map=False)
    body = browser.find_element("tag name", "body").text
    assert "11,4 %" in body                                   # urban share, 2019 census (SOURCES.md: 11.4 %)
    assert "không rõ / unknown" in body
    assert XSS_IMG in body                                    # the malicious operating park is named as text
    assert browser.execute_script("return window.__xss") is None
    assert browser.find_elements("css selector", "svg rect")  # charts drawn
    _shot(browser, "indicators")
    assert _errors(browser) == []
    timings = {"first_paint_ms": browser.execute_script(
        "var e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null;")}
    (ARTIFACTS / "browser_indicators_timing.json").write_text(json.dumps(timings))


# --------------------------------------------------------------------------- the suitability explorer

@pytest.fixture(scope="module")
def siting_out(region, built, tmp_path_factory):
    """A real siting run (logistics-heavy, 1 km cells) written to OUT, then OUT/map.html and OUT/site from it."""
    from geo import settings
    from layers.siting import run_siting, write_siting
    from maps.planner import read_analyses, write_planner_map
    from maps.publish import publish_site

    settings.progress = False
    out = tmp_path_factory.mktemp("siting_out")
    result = run_siting(region, "logistics-heavy", cell_m=1000, sensitivity=False)
    write_siting(result, out)
    _fake_sensitivity(out)
    context = {k: v for k, v in built.layers.items() if k in ("province", "districts", "district_population", "corridors",
                                                                "stations", "destinations", "industrial_parks")}
    analyses = read_analyses(out)
    assert "explorer_rules" in analyses["suitability"].attrs
    write_planner_map(out, layers=context, analyses=analyses, summary=built.summary)
    publish_site(out, layers=context, analyses=analyses, summary=built.summary)
    return out, result


def _fake_sensitivity(out: Path):
    """A small OUT/sensitivity.gpkg + .json as ``plan.py sensitivity`` writes them (no Monte Carlo run: the layout
    tests need the probability layer and the rank markers on the page, not their values)."""
    from layers.siting import read_grid

    grid = read_grid(out / "sites_grid.tif", squares=True)
    grid["p_suitable"] = grid["suitable"].astype(float) * 0.8
    grid[["p_suitable", "geometry"]].to_file(out / "sensitivity.gpkg", layer="cells", driver="GPKG")
    sites = gpd.read_file(out / "sites.gpkg", layer="sites", columns=["site", "area_ha", "district"])
    sites = sites.assign(p_rank_1=0.1, p_top_n=0.9, p_lost=0.0, rank_p05=sites["site"], rank_median=sites["site"],
                         rank_p95=sites["site"] + 2)
    sites.to_file(out / "sensitivity.gpkg", layer="sites", driver="GPKG")
    (out / "sensitivity.json").write_text(json.dumps({"runs": 20, "seed": 1}), encoding="utf-8")


def _open_file(driver, path: Path):
    """Open a page from file:// with the network off (works offline, no server)."""
    driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    try:
        _open(driver, path.as_uri())
        deadline = time.time() + 15
        while time.time() < deadline and not driver.execute_script("return !!(window.bgExplorer && (bgExplorer.ready || bgExplorer.error))"):
            time.sleep(0.05)
        assert driver.execute_script("return window.bgExplorer.ready"), driver.execute_script("return window.bgExplorer.error")
    finally:
        driver.delete_network_conditions()


def _site_list(driver) -> list[tuple]:
    """(rank, area_ha, district, score) of each <li> of #site-list, read in one go (the list is rebuilt on every change)."""
    rows = driver.execute_script("return Array.from(document.querySelectorAll('#site-list li')).map(function (li) {"
                                 " return [li.dataset.rank, li.dataset.area, li.dataset.district, li.dataset.score]; });")
    return [(int(r), float(a), d, float(s)) for r, a, d, s in rows]


def _python_ranking(grid, rules, weights) -> list[tuple]:
    """The ranking geo.siting.suitability / geo.siting.sites give for ``weights`` on the grid layer's component scores: sites grown
    inside the parcels, then the shortlist (spacing, district cap)."""
    import numpy as np

    from geo.siting.sites import locate, shortlist, site_mode, suitable_cells, width_cells
    from geo.siting.suitability import combine

    shape = (int(grid["row"].max()) + 1, int(grid["col"].max()) + 1)

    def dense(values, fill):
        a = np.full(shape, fill, dtype=float)
        a[grid["row"], grid["col"]] = values
        return a

    cover = {n: float(np.isfinite(grid[f"s_{n}"]).mean()) for n in weights}
    used = {n: w for n, w in weights.items() if cover[n] > 0 and cover[n] >= rules.min_coverage and w > 0}
    total = sum(used.values())
    score, _, _ = combine({n: dense(grid[f"s_{n}"], np.nan) for n in used}, {n: w / total for n, w in used.items()},
                          rules.min_known_weight)
    eligible = ~dense(grid["excluded"].astype(float), 1).astype(bool) & np.isfinite(score)
    suitable, _ = suitable_cells(score, eligible, rules.min_score, rules.top_share)
    labels, table = locate(score, suitable, cell_ha=rules.cell_ha, min_area_ha=rules.min_area_ha, max_area_ha=rules.max_area_ha,
                           split=rules.split, parcel_labels=dense(grid["parcel"], 0).astype(np.int32),
                           radius_factor=rules.radius_factor, min_width_cells=width_cells(rules.min_width_m, rules.cell_m))
    names = sorted(grid["district"].dropna().unique())
    codes = dense(grid["district"].map({d: i for i, d in enumerate(names)}).fillna(-1), -1).astype(int)
    mode = site_mode(labels, len(table), codes)
    district = [names[m] if m >= 0 else None for m in mode]
    chosen, _ = shortlist(labels, len(table), cell_m=rules.cell_m, min_spacing_m=rules.min_spacing_km * 1000,
                          top_n=rules.top_n, caps={"district": (district, rules.max_per_district)} if rules.max_per_district else {})
    rows = table.set_index("site")
    return [(k + 1, float(rows.loc[c, "area_ha"]), district[c - 1] or "", float(rows.loc[c, "score_mean"]))
            for k, c in enumerate(chosen)]


def _same_ranking(got, want):
    assert [g[:3] for g in got] == [w[:3] for w in want]
    assert all(abs(g[3] - w[3]) < 1e-4 for g, w in zip(got, want))


def test_explorer_reproduces_python_and_reranks(browser, siting_out):
    import geopandas as gpd
    import numpy as np
    import yaml

    out, result = siting_out
    from layers.siting import read_grid

    grid = read_grid(out / "sites_grid.tif")          # the page's cell order (rows, then columns)
    from maps.planner import read_analyses

    rules = read_analyses(out)["suitability"].attrs["explorer_rules"]
    _open_file(browser, out / "site" / "suitability.html")
    _shot(browser, "explorer_default")
    # the profile's own weights: the ranked list of the Python run (sites.gpkg), and the same cell scores
    default = _site_list(browser)
    python = [(int(r.site), float(r.area_ha), r.district, float(r.score_mean)) for r in result.sites.itertuples()]
    assert len(default) == len(python) > 3
    _same_ranking(default, python)
    scores = browser.execute_script("return Array.from(bgExplorer.result.score)")
    known = np.isfinite(grid["score"].to_numpy(float))
    assert np.array_equal(np.isfinite(np.array(scores, dtype=float)), known)
    assert np.allclose(np.array(scores, dtype=float)[known], grid["score"].to_numpy(float)[known], atol=1e-4, rtol=0)

    # a planner moves a slider: labour counts for more, the trunk corridor for nothing
    updates = browser.execute_script("return bgExplorer.updates")
    sliders = [browser.find_element("css selector", f'input[type=range][name="weight-{name}"]')
               for name in ("minutes_to_trunk", "people_within_45_min")]
    # both moves in one task, so the page redraws once with both (as after a quick drag of two sliders)
    browser.execute_script("[[arguments[0], '0'], [arguments[1], '5']].forEach(function (s) {"
                           " s[0].value = s[1]; s[0].dispatchEvent(new Event('input', {bubbles: true})); });", *sliders)
    deadline = time.time() + 5
    while time.time() < deadline and browser.execute_script("return bgExplorer.updates") == updates:
        time.sleep(0.05)
    moved = _site_list(browser)
    assert moved != default
    weights = {**rules.weights, "minutes_to_trunk": 0.0, "people_within_45_min": 5.0}
    _same_ranking(moved, _python_ranking(grid, rules, weights))
    _shot(browser, "explorer_moved")
    snippet = yaml.safe_load(browser.find_element("css selector", ".bg-ex-yaml").get_attribute("value"))
    assert {k: v["weight"] for k, v in snippet["criteria"].items()} == weights
    # reset: back to the profile's weights and ranking
    browser.find_element("css selector", ".bg-ex-reset").click()
    deadline = time.time() + 5
    while time.time() < deadline and _site_list(browser) != default:
        time.sleep(0.05)
    assert _site_list(browser) == default
    assert _errors(browser) == []


def test_planner_map_file_has_the_explorer(browser, siting_out):
    out, result = siting_out
    _open_file(browser, out / "map.html")
    python = [(int(r.site), float(r.area_ha), r.district, float(r.score_mean)) for r in result.sites.itertuples()]
    _same_ranking(_site_list(browser), python)
    assert _errors(browser) == []


# --------------------------------------------------------------------------- controls and labels that fit

_LAYOUT = SEEN_JS + """
var vw = document.documentElement.clientWidth, vh = window.innerHeight;
function inView(e) { if (!e || !e.offsetParent && getComputedStyle(e).position !== 'fixed') return false;
  var r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= -1 && r.bottom <= vh + 1 && r.left >= -1 && r.right <= vw + 1; }
var boxes = [];
document.querySelectorAll('.leaflet-control').forEach(function (c) {
  if (!c.offsetParent) return;
  var r = c.getBoundingClientRect(), k = c.parentElement.getBoundingClientRect();
  var box = [Math.max(r.left, k.left), Math.max(r.top, k.top), Math.min(r.right, k.right), Math.min(r.bottom, k.bottom)];
  if (box[2] - box[0] < 1 || box[3] - box[1] < 1) return;      // scrolled out of its corner: not seen
  boxes.push({what: c.className.split(' ').slice(0, 2).join(' ') + ' ' + (c.textContent || '').slice(0, 30), box: box});
});
var labels = [];
document.querySelectorAll('.leaflet-tooltip.bg-label').forEach(function (t) {
  if (getComputedStyle(t).visibility === 'hidden' || getComputedStyle(t).display === 'none') return;
  var r = t.getBoundingClientRect(), k = t.closest('.leaflet-container').getBoundingClientRect();
  var box = [Math.max(r.left, k.left), Math.max(r.top, k.top), Math.min(r.right, k.right), Math.min(r.bottom, k.bottom)];
  if (box[2] - box[0] >= 1 && box[3] - box[1] >= 1) labels.push({what: t.textContent, box: box});   // clipped by its map
});
var bar = document.querySelector('.bg-dual-bar');            // the dual map's bar (title, selector)
if (bar) { var b = bar.getBoundingClientRect(); boxes.push({what: 'dual bar', box: [b.left, b.top, b.right, b.bottom]}); }
var panels = document.querySelectorAll('#legend-panel'), panel = panels[0], pr = panel && panel.getBoundingClientRect();
var attribution = Array.from(document.querySelectorAll('.leaflet-control-attribution, footer, .bg-attrib'));
var explorer = document.querySelector('.bg-explorer details');
var base = window.bgplan && bgplan.layers && bgplan.layers.basemap;     // the light base map's layers apart
var on = window.bgplan && bgplan.layers ? Object.keys(bgplan.layers).filter(function (k) {
  var l = bgplan.layers[k]; return k !== 'basemap' && l && l._map && !(base && base.hasLayer(l)); }) : [];
return {sideways: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - vw,
        attribution: attribution.some(inView), attributionText: attribution.map(seen).join(' '),
        panels: panels.length, panelShare: pr ? pr.width * pr.height / (vw * vh) : 0,
        panelOpen: panel ? !panel.classList.contains('bg-closed') : null, panelInView: panel ? inView(panel) : null,
        sections: Array.from(document.querySelectorAll('#legend-panel .bg-lg-section')).filter(function (s) { return !s.hidden; }).length,
        explorerOpen: explorer ? explorer.open : null, controls: boxes, labels: labels, on: on,
        title: !!document.querySelector('.bg-box'), maps: document.querySelectorAll('.folium-map').length,
        // the narrowest header cell of the plain pages' tables (a squeezed column reads one letter per line)
        narrowest: Math.min.apply(null, Array.from(document.querySelectorAll('main table th')).map(function (c) {
          return c.getBoundingClientRect().width; }).concat([1e9]))};
"""


def _overlaps(items) -> list:
    found = []
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            x = min(a["box"][2], b["box"][2]) - max(a["box"][0], b["box"][0])
            y = min(a["box"][3], b["box"][3]) - max(a["box"][1], b["box"][1])
            if x > 0.5 and y > 0.5:
                found.append((a["what"], b["what"]))
    return found


@pytest.fixture(scope="module")
def map_html(built, site):
    """OUT/map.html of a run with every sample analysis (the planner map, one self-contained file)."""
    from maps.planner import write_planner_map
    from maps.samples import sample_analyses

    analyses = sample_analyses(built.layers)
    # a 2025 commune layer as plan.py communes writes it (OUT/communes.gpkg), one point at Kép station for the search
    stations = built.layers["stations"]
    kep = stations[stations["name"] == "Kép"].geometry.iloc[0]
    analyses["communes"] = gpd.GeoDataFrame({"name_vi": ["Xã Kép (thử / test)"], "code": ["00000"], "population": [None]},
                                            geometry=[kep], crs=stations.crs)
    return write_planner_map(site.parent, layers=built.layers, population=built.population, analyses=analyses,
                             summary=built.summary)


def _open_offline(driver, url: str, is_map: bool = True):
    """Open a file with the network off: nothing may wait for tiles (the light base map is drawn from the page); a
    page of the local server opens as usual (there is no internet on the test machine either)."""
    if not url.startswith("file:"):
        return _open(driver, url, is_map=is_map)
    driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    try:
        _open(driver, url, is_map=is_map)
    finally:
        driver.delete_network_conditions()


@pytest.mark.parametrize("width, height", [(1400, 900), (390, 844)])
def test_every_page_fits_the_screen(browser, server, site, map_html, siting_out, width, height):
    """Issue 23's layout: on map.html and every page of the site, at a desktop and a phone size — no sideways
    scrolling, the attribution in view, one legend panel (closed on phones, ≤ 15 % of the phone screen, only the
    visible layers), the first view on the region with far destinations as arrows, a small set of layers on, no
    overlapping controls or labels, and the weights panel folded on phones."""
    out, _ = siting_out
    browser.set_window_size(width, height)
    phone = width < 700
    pages = [(map_html.as_uri(), "map", True), ((out / "site" / "suitability.html").as_uri(), "explorer", True)]
    pages += [(f"{server}/{p.name}", p.stem, p.name not in PLAIN_PAGES) for p in sorted(site.glob("*.html"))]
    assert {"index", "planning", "access", "suitability", "scenario", "indicators", "sources", "validation"} <= {
        n for _, n, _ in pages}
    try:
        for url, name, is_map in pages:
            _open_offline(browser, url, is_map)
            if name == "explorer":
                deadline = time.time() + 15
                while time.time() < deadline and not browser.execute_script("return !!(window.bgExplorer && bgExplorer.ready)"):
                    time.sleep(0.05)
            time.sleep(0.3)                     # labels are decluttered just after the view settles
            state = browser.execute_script(_LAYOUT)
            _shot(browser, f"layout_{name}_{width}x{height}")
            where = (name, width)
            assert state["sideways"] <= 0, where                       # no sideways scrolling
            assert state["attribution"], where                          # the attribution in view
            assert "OpenStreetMap" in state["attributionText"], where
            if not is_map:
                assert state["narrowest"] >= 40, (where, state["narrowest"])   # tables scroll in their box instead
                continue
            assert state["panels"] == 1 and state["panelInView"], where   # one legend panel …
            assert state["panelOpen"] is (not phone), where                # … closed on phones
            if phone:
                assert state["panelShare"] <= 0.15, (where, state["panelShare"])
            else:
                assert 1 <= state["sections"] <= len(state["on"]), where   # only the layers on
            assert state["explorerOpen"] in (None, not phone), where       # the weights panel folded on phones
            assert state["title"] and len(state["controls"]) >= 4, where
            assert _overlaps(state["controls"]) == [], where
            assert _overlaps(state["labels"]) == [], where
            if name != "scenario":
                assert len(state["on"]) <= 14, (where, state["on"])       # a small set of layers at load …
                assert not [k for k in state["on"] if k.startswith(("isochrones", "scenario", "sensitivity"))], where
                assert sum(k.startswith("districts_") for k in state["on"]) == 1, where   # … one district colouring
                assert state["maps"] == 1, where
            else:
                assert state["maps"] == 2, where
            if name in ("map", "planning"):
                # the first view fits the province, the far destinations (ports, border, Hà Nội) are labelled arrows
                fit = browser.execute_script("""var b = bgplan.layers.province.getBounds(), m = bgMap.getBounds(),
                    s = bgMap.getSize(), nw = bgMap.latLngToContainerPoint(b.getNorthWest()),
                    se = bgMap.latLngToContainerPoint(b.getSouthEast());
                    return {inside: m.pad(0.02).contains(b), share: Math.max((se.x - nw.x) / s.x, (se.y - nw.y) / s.y),
                            arrows: document.querySelectorAll('.bg-far-arrow').length,
                            text: Array.from(document.querySelectorAll('.bg-far-arrow')).map(function (a) { return a.textContent; })};""")
                assert fit["inside"] and fit["share"] > 0.6, (where, fit)
                assert fit["arrows"] >= 2 and any("km" in t for t in fit["text"]), (where, fit)
            assert _errors(browser) == [], where
    finally:
        browser.set_window_size(1400, 900)


#: Pages of the site without a map.
PLAIN_PAGES = ("index.html", "indicators.html", "sources.html", "validation.html", "communes.html")


def test_search_measure_opacity_basemap_and_language(browser, map_html):
    """The web-map basics on map.html, offline: "Kép" + Enter opens Kép's popup; a measured distance and area; a
    layer's opacity; the light base map by default and the others to choose; the vi/en toggle."""
    from selenium.webdriver.common.keys import Keys

    _open_offline(browser, map_html.as_uri())
    box = browser.find_element("id", "map-search")
    box.send_keys("Kép")
    assert browser.find_elements("css selector", ".bg-search-results li")           # suggestions while typing
    box.send_keys(Keys.ENTER)
    _popup_text(browser)
    popup = _seen(browser, ".leaflet-popup-content")[0]
    assert popup.split(" ")[0:2] == ["Ga", "Kép"] or popup.startswith("Kép"), popup
    # every searched kind is in the index: parks, communes or places, stations, sites
    kinds = browser.execute_script("return bgplan.search.find('a').map(function (i) { return i.key; })")
    assert {"parks_kcn", "stations", "urban_areas", "districts_outline"} <= set(kinds), set(kinds)
    assert browser.execute_script("return bgplan.search.find('xa kep')[0].key") == "communes"       # 2025 communes
    assert browser.execute_script("return bgplan.search.find('dia diem')[0].key") == "candidates"    # candidate sites
    assert browser.execute_script("return bgplan.search.find('Quang Chau')[0].name") == "KCN Quang Châu"   # without diacritics
    browser.execute_script("bgMap.closePopup()")

    # measure: 0.1° of longitude at 21.3° N ≈ 10.37 km; a 0.1° × 0.1° square ≈ 10.37 × 11.06 km
    browser.find_element("css selector", ".bg-measure-btn").click()
    browser.execute_script("bgplan.measure.add([21.3, 106.2]); bgplan.measure.add([21.3, 106.3]); bgplan.measure.finish();")
    assert browser.execute_script("return bgplan.measure.state.distance_m") == pytest.approx(10_370, rel=0.01)
    assert re.search(r"Khoảng cách: 10,3\d km", _seen(browser, "#measure-result")[0])      # vi: decimal comma
    browser.execute_script("bgplan.measure.setMode('area'); bgplan.measure.add([21.3, 106.2]); bgplan.measure.add([21.3, 106.3]);"
                           "bgplan.measure.add([21.4, 106.3]); bgplan.measure.add([21.4, 106.2]); bgplan.measure.finish();")
    assert browser.execute_script("return bgplan.measure.state.area_m2") / 1e6 == pytest.approx(10.37 * 11.07, rel=0.01)
    boxes = browser.execute_script("""return ['#legend-panel', '.bg-measure'].map(function (c) {
        var r = document.querySelector(c).getBoundingClientRect(); return {what: c, box: [r.left, r.top, r.right, r.bottom]}; });""")
    assert _overlaps(boxes) == []                              # the legend panel makes room for the measure box
    _shot(browser, "measure")
    browser.execute_script("bgplan.measure.stop()")

    # opacity: the slider of the parks' section fades the park circles
    fade = browser.execute_script(SEEN_JS + """var sec = Array.from(document.querySelectorAll('#legend-panel .bg-lg-section'))
          .find(function (x) { return !x.hidden && seen(x).indexOf('Khu, cụm công nghiệp') === 0; });
        var before = bgplan.layers.parks_kcn.getLayers()[0].options.fillOpacity, input = sec.querySelector('.bg-opacity input');
        input.value = '0.3'; input.dispatchEvent(new Event('input', {bubbles: true}));
        return {before: before, after: bgplan.layers.parks_kcn.getLayers()[0].options.fillOpacity};""")
    assert fade["after"] == pytest.approx(fade["before"] * 0.3, rel=0.02), fade

    # base maps: the light one (drawn from the page's own layers) is on, no tile was requested; OSM and none to choose
    assert browser.execute_script("return bgMap.hasLayer(bgplan.layers.basemap)")
    assert browser.execute_script("return document.querySelectorAll('img.leaflet-tile').length") == 0
    labels = _layer_labels(browser)
    assert any(t.startswith("Nền nhẹ") for t in labels) and any(t.startswith("OpenStreetMap") for t in labels)

    # language: one language at a time; the toggle switches labels, legend and numbers
    assert " / " not in " ".join(_legend_shown(browser))
    browser.find_element("css selector", ".bg-lang-toggle").click()
    assert browser.execute_script("return document.documentElement.lang") == "en"
    assert any(t.startswith("light base map") for t in _layer_labels(browser))
    assert any(t.startswith("industrial parks") for t in _legend_shown(browser))
    arrows = " ".join(_seen(browser, ".bg-far-arrow"))
    assert "Hà Nội centre" in arrows and "Hà Nội (trung tâm)" not in arrows      # the destinations' English names
    browser.execute_script("bgplan.measure.start('distance'); bgplan.measure.add([21.3, 106.2]); bgplan.measure.add([21.3, 106.3]);"
                           "bgplan.measure.finish();")
    assert re.search(r"Distance: 10\.3\d km", _seen(browser, "#measure-result")[0])       # en: decimal point
    _shot(browser, "language_en")
    browser.execute_script("bgplan.measure.stop(); bgplan.setLang('vi');")
    assert _errors(browser) == []


@pytest.mark.parametrize("paper, orientation", [("A4", "landscape"), ("A3", "portrait")])
def test_print_layout(browser, map_html, paper, orientation):
    """The print layout renders with title, legend, scale bar, north arrow, date, sources and licences, and exports a
    PNG in the browser (html-to-image, vendored); PDF is the browser's print of the same sheet."""
    _open_offline(browser, map_html.as_uri())
    browser.execute_script("bgplan.print.open(arguments[0], arguments[1]);", paper, orientation)
    time.sleep(0.3)
    sheet = browser.execute_script(SEEN_JS + """var s = bgplan.print.sheet, r = s.getBoundingClientRect();
        function vis(css) { var e = s.querySelector(css); return !!e && e.getBoundingClientRect().width > 0; }
        return {w: s.offsetWidth, h: s.offsetHeight, title: seen(s.querySelector('.bg-sheet-title')),
                legend: s.querySelectorAll('.bg-sheet-legend .bg-lg-section').length, scale: vis('.leaflet-control-scale'),
                north: vis('.bg-sheet-north svg'), sources: seen(s.querySelector('.bg-sheet-sources')),
                date: seen(s.querySelector('.bg-sheet-date')), map: vis('.leaflet-container'),
                page: Array.from(document.querySelectorAll('style')).map(function (x) { return x.textContent; })
                    .filter(function (t) { return t.indexOf('@page') >= 0; }).join(' ')};""")
    mm = {"A4": (297, 210), "A3": (420, 297)}[paper]
    w, h = mm if orientation == "landscape" else mm[::-1]
    assert sheet["w"] / sheet["h"] == pytest.approx(w / h, rel=0.01)
    assert "Bắc Giang" in sheet["title"]
    assert sheet["legend"] >= 3 and sheet["scale"] and sheet["north"] and sheet["map"], sheet
    assert "OpenStreetMap" in sheet["sources"] and "ODbL" in sheet["sources"] and "CC BY 4.0" in sheet["sources"]
    assert re.search(r"\d{4}-\d\d-\d\d", sheet["date"])
    assert f"size: {paper} {orientation}" in sheet["page"]          # the browser's print (PDF) takes the sheet's paper
    _shot(browser, f"print_{paper}_{orientation}")
    if paper == "A4":
        browser.execute_script("bgplan.print.noDownload = true;")
        png = browser.execute_async_script("var done = arguments[0]; bgplan.print.png().then(done, function (e) { done('error: ' + e); });")
        assert png.startswith("data:image/png;base64,"), png[:200]
        import base64

        data = base64.b64decode(png.split(",", 1)[1])
        (ARTIFACTS / "browser_print_export.png").write_bytes(data)
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width / height == pytest.approx(w / h, rel=0.01) and width >= 2000       # 2 × 96 dpi
        # PDF: the browser's print of the sheet (as "In / PDF" does) is one page of the chosen paper
        from selenium.webdriver.common.print_page_options import PrintOptions

        options = PrintOptions()
        options.orientation = orientation
        options.page_width, options.page_height = w / 10, h / 10                      # cm
        options.margin_top = options.margin_bottom = options.margin_left = options.margin_right = 0
        pdf = base64.b64decode(browser.print_page(options))
        (ARTIFACTS / "browser_print_export.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
        box = [float(x) for x in re.search(rb"/MediaBox\s*\[([^\]]*)\]", pdf).group(1).split()]
        assert box[2] / 72 * 25.4 == pytest.approx(w, abs=2) and box[3] / 72 * 25.4 == pytest.approx(h, abs=2)
    browser.execute_script("bgplan.print.close()")
    assert browser.execute_script("return document.getElementById('print-layout').hidden")
    assert _errors(browser) == []


def test_site_offers_layer_downloads(browser, server, site):
    """The index page lists every published layer as an <a download> link with its source and licence; the files
    carry their licence."""
    import urllib.request

    _open(browser, f"{server}/index.html", is_map=False)
    links = browser.execute_script("return Array.from(document.querySelectorAll('a[download]')).map(function (a) {"
                                   " return [a.getAttribute('href'), a.closest('tr').textContent]; })")
    files = {href.rsplit("/", 1)[-1]: row for href, row in links}
    assert {"industrial_parks.geojson", "corridors.geojson", "access.geojson"} <= set(files), sorted(files)
    assert all(f.endswith((".geojson", ".csv", ".tif")) for f in files)
    assert "OpenStreetMap" in files["corridors.geojson"] and "ODbL" in files["corridors.geojson"]
    with urllib.request.urlopen(f"{server}/data/corridors.geojson") as r:
        data = json.load(r)
    assert data["bgplan"]["licence"] and data["features"]
    assert "private_layer" not in files and not any(SECRET_COLUMN in row for row in files.values())
    _shot(browser, "index_downloads")
    assert _errors(browser) == []


SECRET_COLUMN = "internal_note"


def test_explained_sites_and_grid_cells(browser, siting_out):
    """A site's popup and the explorer list give every criterion's value and score and the verdict's reasons; a click
    on a grid cell gives its score and criteria."""
    out, result = siting_out
    _open_file(browser, out / "site" / "suitability.html")
    names = browser.execute_script("return bgExplorer.payload.criteria")
    scored = browser.execute_script("return Object.keys(bgExplorer.result.sites[0].scores)")
    first = browser.execute_script(SEEN_JS + "return seen(document.querySelector('#site-list li'))")
    rows = browser.execute_script(SEEN_JS + "return Array.from(document.querySelectorAll('#site-list li')[0]"
                                  ".querySelectorAll('.bg-ex-criteria tr')).map(seen)")
    assert len(rows) == len(scored) >= 3, rows                                  # every criterion of the site …
    assert sum("→" in r for r in rows) >= len(rows) - 1, rows                    # … with its value → score
    assert "Tiêu chí: giá trị → điểm" in first
    verdict = browser.execute_script("var v = document.querySelector('#site-list li .bg-ex-verdict');"
                                     " return v && [v.dataset.verdict, v.textContent];")
    assert verdict and verdict[0] in ("eligible", "ineligible", "unknown") and ":" in verdict[1], verdict
    assert len(verdict[1].split(":", 1)[1].strip()) > 3                           # the verdict's reasons
    # a click on a scored cell of the grid: its score and each criterion's score
    at = browser.execute_script("""var d = bgExplorer.data, r = bgExplorer.result, b = bgExplorer.payload.image.bounds;
        for (var lat = b[0][0]; lat < b[1][0]; lat += 0.01) for (var lng = b[0][1]; lng < b[1][1]; lng += 0.01) {
            var c = bgExplorer.cellAt(lat, lng); if (c >= 0 && r.score[c] === r.score[c]) return [lat, lng]; }
        return null;""")
    assert at
    browser.execute_script("bgMap.setView([arguments[0], arguments[1]], 12, {animate: false});"
                           "['urban_areas', 'stations', 'destinations', 'parks_kcn', 'parks_ccn', 'candidates', 'site_verdicts',"
                           " 'district_names'].forEach(function (k) { if (bgplan.layers[k]) bgMap.removeLayer(bgplan.layers[k]); });"
                           "if (bgExplorer.layer && bgExplorer.layer.sites) bgMap.removeLayer(bgExplorer.layer.sites);", *at)
    _click_latlng(browser, *at)
    _popup_text(browser)
    time.sleep(0.3)                                            # the popup's fade-in, for the screenshot
    cell = _seen(browser, ".leaflet-popup-content")[0]
    assert cell.startswith("Ô lưới") and "Điểm phù hợp (0–1)" in cell, cell
    rows = browser.execute_script("return document.querySelectorAll('.leaflet-popup-content tr').length")
    assert rows >= 1 + len(names)                                                 # the score, then every criterion
    _shot(browser, "explorer_cell_popup")
    assert _errors(browser) == []


def test_published_suitability_shows_the_legal_verdict(browser, siting_out):
    """The sites at the profile's weights, outlined by their legal verdict (maps/registry.py: site_verdicts)."""
    out, result = siting_out
    _open_file(browser, out / "site" / "suitability.html")
    verdicts = [str(v) for v in result.sites["eligible"]]
    assert _drawn(browser, "site_verdicts") == len(verdicts)
    keys = browser.execute_script("return bgplan.layers.site_verdicts.getLayers().map(function (l) {"
                                  " return l.feature.properties.k; })")
    from maps.analysis_layers import verdict_class

    assert sorted(keys) == sorted(verdict_class(v) for v in verdicts)
    # the sensitivity outputs: the probability image (off at load: a small set of layers) and one rank marker per site
    # with its range in the tooltip
    assert not browser.execute_script("return bgMap.hasLayer(bgplan.layers.sensitivity)")
    browser.execute_script("bgMap.addLayer(bgplan.layers.sensitivity); bgMap.addLayer(bgplan.layers.sensitivity_sites);")
    assert _drawn(browser, "sensitivity_sites") == len(verdicts)
    tip = browser.execute_script("return bgplan.layers.sensitivity_sites.getLayers()[0].feature.properties.t")
    assert "5–95 %" in tip
    time.sleep(0.1)
    browser.execute_script("bgplan.setLang('en')")
    legend = _legend_shown(browser)
    browser.execute_script("bgplan.setLang('vi')")
    assert any("legal verdict" in t for t in legend)
    assert any("probability suitable" in t and "20" in t for t in legend)
    assert _errors(browser) == []
