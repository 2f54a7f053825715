"""The published site (maps/publish.py) and the indicators page (maps/indicators.py) on the real layers.

Sizes are budgets of the issue (≤ 5 MB of HTML + data per page) and are
deterministic, so they are asserted; timings are measured by
scripts/bench_maps.py only.
"""

from __future__ import annotations

import json
import re

import pytest

SECRET = "SECRET-internal-note-4711"


@pytest.fixture(scope="module")
def built(region):
    from layers.build import build_layers

    return build_layers(region)


@pytest.fixture(scope="module")
def site(built, tmp_path_factory):
    """The site with analyses and a non-public column and layer added."""
    from maps.publish import publish_site
    from maps.samples import sample_analyses

    layers = dict(built.layers)
    parks = layers["industrial_parks"].copy()
    parks["internal_note"] = SECRET
    layers["industrial_parks"] = parks
    layers["private_layer"] = parks[["name", "geometry"]].assign(name=SECRET)
    analyses = sample_analyses(layers)
    analyses["candidates"] = analyses["candidates"].assign(owner_phone=SECRET)
    out = tmp_path_factory.mktemp("out")
    # The registry's park points are "not allowed" (no licence); these tests check what goes out of the parks
    # layer (allow-list, escaping, budgets), so they publish it on purpose. The default is tested below.
    result = publish_site(out, layers=layers, population=built.population, analyses=analyses, summary=built.summary,
                          include_restricted=True)
    return result


def _pages(site):
    return {p.name: p.read_text(encoding="utf-8") for p in site["site"].glob("*.html")}


def test_site_pages_and_assets(site):
    root = site["site"]
    assert set(site["pages"]) == {"index.html", "planning.html", "access.html", "suitability.html", "scenario.html", "sources.html",
                                  "indicators.html"}
    for rel in ("assets/leaflet/leaflet.js", "assets/leaflet/leaflet.css", "assets/leaflet/images/layers.png",
                "assets/leaflet/LICENSE", "assets/fullscreen/Control.FullScreen.js", "assets/bgplan.js",
                "assets/groupedlayercontrol/leaflet.groupedlayercontrol.min.js"):
        assert (root / rel).is_file(), rel
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".site")]     # no temporary folders left


def test_pages_within_budget(site):
    # issue 5: ≤ 5 MB of HTML + data per page for old Bắc Giang
    assert site["over_budget"] == []
    assert all(size <= 5_000_000 for size in site["pages"].values()), site["pages"]
    assert site["pages"]["planning.html"] > 300_000          # the layers really are inside


def test_pages_load_nothing_from_cdns(site):
    for name, html in _pages(site).items():
        srcs = re.findall(r'<script[^>]*src="([^"]+)"', html) + re.findall(r'<link[^>]*href="([^"]+)"', html)
        assert all(s.startswith("assets/") or s == "data:," for s in srcs), (name, srcs)
        for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg"):
            assert cdn not in html, (name, cdn)


def test_attribution_on_every_page(site):
    for name, html in _pages(site).items():
        if name in ("index.html", "indicators.html", "sources.html"):
            assert "© OpenStreetMap contributors (ODbL) · geoBoundaries / OCHA ROAP (CC BY 3.0 IGO) · WorldPop (CC BY 4.0)" in html, name
        else:
            text = html.replace("\\u003c", "<").replace("\\u003e", ">")
            for credit in ("OpenStreetMap</a> contributors (ODbL)", ">geoBoundaries</a>", "WorldPop</a> (CC BY 4.0)"):
                assert credit in text, (name, credit)


def test_only_public_attributes_go_out(site, built):
    for name, html in _pages(site).items():
        assert SECRET not in html, name
    planning = _pages(site)["planning.html"]
    # not in publish.yaml: facts_match, iip_year, address, osm ids, the data folder path
    assert "Ghép số liệu" not in planning and "facts joined" not in planning
    assert "year on iipvietnam.vn" not in planning
    assert "OSM id" not in planning
    assert str(built.summary["data_dir"]) not in planning
    # but the public ones are there
    assert "KCN Vân Trung" in planning and "Tỷ lệ lấp đầy" in planning and "occupancy" in planning


def test_public_layers_allow_list():
    import geopandas as gpd
    from shapely.geometry import Point

    from maps.publish import public_layers

    gdf = gpd.GeoDataFrame({"name": ["a"], "secret": ["s"], "minutes_to_kep": [3.0]}, geometry=[Point(0, 0)], crs=4326)
    out = public_layers({"parks": gdf, "other": gdf}, {"parks": ["name", "minutes_to_*"]})
    assert list(out) == ["parks"]
    assert list(out["parks"].columns) == ["name", "minutes_to_kep", "geometry"]


def test_indicators_computed_from_layers(built):
    from maps.indicators import compute_indicators, occupancy_figures, park_figures, urban_figures, wastewater_figures

    parks = built.layers["industrial_parks"]
    kcn, ccn = park_figures(parks, "KCN"), park_figures(parks, "CCN")
    # without the sourced inventory the figures are those of the placed parks (every one counted once)
    assert kcn["count"] + ccn["count"] == len(parks) and kcn["count"] >= 20
    # SOURCES.md: census 2019 total 1,803,950, urban 205,623 (11.4 %)
    u = urban_figures(built.layers["district_population"])
    assert u["total"] == 1_803_950 and u["urban"] == 205_623
    assert u["share"] == pytest.approx(0.114, abs=0.0005)
    w = wastewater_figures(parks)
    n = len(parks)
    assert w == {"total": n, "yes": 0, "no": 0, "unknown": n}    # no source states it (parks docstring)
    o = occupancy_figures(parks)
    assert o["known"] >= 1 and o["unknown"] >= 1 and o["known"] + o["unknown"] == o["operating"]
    assert 90 <= o["mean_pct"] <= 100
    rows = {r["id"]: r for r in compute_indicators(built.layers)}
    assert rows["wastewater"]["today"].startswith(f"0 biết / known, {n} không rõ / unknown")
    assert rows["wastewater"]["targets"][0]["progress"] == []        # no percentage of unknowns
    assert "11,4 %" in rows["urban_share"]["today"]
    kcn_targets = [t["text"] for t in rows["industrial_parks"]["targets"]]
    assert any("7\u202f840 ha" in t for t in kcn_targets) and any("7\u202f000 ha" in t for t in kcn_targets)
    assert any("63 khu" in t["text"] for t in rows["industrial_clusters"]["targets"])


def test_indicators_page(site, built):
    html = _pages(site)["indicators.html"]
    n = len(built.layers["industrial_parks"])
    assert "<script" not in html and " src=" not in html          # no scripts, nothing loaded
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="icon" href="data:,">']
    for source in ("talkvietnam.org", "2021-07-19", "einpresswire.com", "2023-07-24", "vietnamnews.vn", "2025-03-19",
                   "Decision 219"):
        assert source in html
    assert "khu / parks · " in html and "planned with planned" in html
    assert f"0 biết / known, {n} không rõ / unknown" in html
    assert "<svg" in html and html.count("<rect") > 20          # charts drawn inline
    assert "Việt Yên" in html and "Sơn Động" in html             # per-district bars


def test_index_lists_pages_and_gaps(site):
    html = _pages(site)["index.html"]
    for page in ("planning.html", "access.html", "suitability.html", "scenario.html", "indicators.html"):
        assert f'href="{page}"' in html
    gaps = html.split("corridors not in the data:")[1].split("</p>")[0]   # corridors not in the data are said …
    assert "Vành đai 5" in gaps
    assert "CT.01" not in gaps                   # … but CT.01 (opened 2020) is in today's network (layers/opened_roads.py, layers/networks/opened.py)
    assert "Quốc lộ 31" not in gaps              # … and QL31 is labelled from sourced waypoints (layers/road_waypoints.py)
    assert "geoBoundaries" in html and "WorldPop" in html


def test_analysis_pages_only_when_given(built, tmp_path):
    from maps.publish import publish_site

    layers = {k: v for k, v in built.layers.items() if k in ("province", "districts", "industrial_parks")}
    result = publish_site(tmp_path, layers=layers, population=None, analyses=None, summary={})
    assert set(result["pages"]) == {"index.html", "planning.html", "indicators.html", "sources.html"}
    html = (result["site"] / "planning.html").read_text(encoding="utf-8")
    assert "bgplan.layers[\"parks_kcn\"]" in html and "water" not in re.findall(r'bgplan.layers\["(\w+)"\]', html)
    # district population absent: the indicators say unknown, not 0 %
    ind = (result["site"] / "indicators.html").read_text(encoding="utf-8")
    assert "Tỷ lệ dân số đô thị / urban population share</td><td><div>không rõ / unknown" in ind


def test_failed_publish_keeps_the_previous_site(built, tmp_path, monkeypatch):
    from maps import indicators, publish

    layers = {k: v for k, v in built.layers.items() if k in ("province", "districts", "industrial_parks")}
    first = publish.publish_site(tmp_path, layers=layers, summary={})
    before = (first["site"] / "planning.html").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(indicators, "indicators_html", broken)
    changed = dict(layers, industrial_parks=layers["industrial_parks"].assign(name="Renamed"))
    with pytest.raises(RuntimeError, match="disk full"):
        publish.publish_site(tmp_path, layers=changed, summary={})
    assert (first["site"] / "planning.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_bad_config_is_one_line_input_error(tmp_path):
    from geo.errors import InputError
    from maps.publish import load_config

    bad = tmp_path / "publish.yaml"
    bad.write_text("layers: [a, b\n", encoding="utf-8")
    with pytest.raises(InputError, match="publish.yaml: not a readable YAML file"):
        load_config(bad)
    bad.write_text("clip_km: 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs a 'layers:' mapping"):
        load_config(bad)
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_publish_from_out_folder(built, tmp_path):
    from layers.build import write_layers
    from maps.publish import publish_site

    write_layers(built, tmp_path)
    result = publish_site(tmp_path)
    assert result["site"] == tmp_path / "site"
    assert set(result["pages"]) == {"index.html", "planning.html", "indicators.html", "sources.html"}
    html = (tmp_path / "site" / "planning.html").read_text(encoding="utf-8")
    # by default the registry's park points (no licence) are left out, and licences.json says so
    assert "bgplan.layers[\"population\"]" in html and "KCN Quang Châu" not in html
    rows = {r["layer"]: r for r in json.loads((tmp_path / "site" / "licences.json").read_text(encoding="utf-8"))}
    assert rows["industrial_parks"]["redistribution"] == "not allowed" and not rows["industrial_parks"]["published"]
    assert rows["districts"]["redistribution"] == "allowed" and "CC BY 3.0 IGO" in rows["districts"]["licence"]
    result = publish_site(tmp_path, include_restricted=True)
    html = (tmp_path / "site" / "planning.html").read_text(encoding="utf-8")
    assert "KCN Quang Châu" in html and "not for publication" in html


def _unescaped(html: str) -> str:
    """The page with the JSON escapes of maps.elements.safe_json undone (popups live inside the script)."""
    return html.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")


def test_scenario_page_is_a_dual_map(site):
    html = _pages(site)["scenario.html"]
    root = site["site"]
    # two maps on one page, with the page's own script and styles from the site's assets (no plugin, no CDN)
    assert html.count('class="folium-map"') == 2
    assert '<script src="assets/bgdual.js"></script>' in html and 'href="assets/bgdual.css"' in html
    assert (root / "assets" / "bgdual.js").is_file() and (root / "assets" / "bgdual.css").is_file()
    assert "bgplan.dualStash(" in html and "bgplan.scenarioDual(" in html
    # the planned road and its interchanges on the after map only; the corridors on both
    assert html.count('bgplan.layers["planned_roads"]') == 1 and html.count('bgplan.layers["interchanges"]') == 1
    assert html.count('bgplan.layers["corridors"]') == 2
    # the selector: every before/after pair of maps.samples' scenario, the most changed travel time chosen
    options = re.findall(r'<option value="(\d+)"( selected)? data-vi="([^"]+)" data-en="([^"]+)">([^<]+)</option>', html)
    assert len(options) == 3
    # named as in the build's corridors, in each language (the page shows the reader's)
    assert re.fullmatch(r"Cao tốc Hà Nội . Bắc Giang . Lạng Sơn \(CT\.01\)", options[0][2])
    assert options[0][3].endswith("expressway (CT.01)")
    assert [o[2:4] for o in options[1:]] == [("Ga Kép", "Kép station"), ("trong 30 phút", "within 30 min")]
    assert [o[2] for o in options if o[1]] == ["Ga Kép"]
    # popups: before, after and change of the shown (whole) numbers, one number format per language; unknown is said,
    # never 0
    text = _unescaped(html)
    assert '<th>Ga Kép</th><td>40</td><td>22</td><td>−18</td>' in text
    assert '<th>Kép station</th><td>40</td><td>22</td><td>−18</td>' in text
    assert re.search(r'<th>Cao tốc Hà Nội . Bắc Giang . Lạng Sơn \(CT\.01\)</th><td>không rõ</td><td>20</td>'
                     r'<td>không rõ</td>', text)
    assert '<th>trong 30 phút</th><td>100.000</td><td>120.000</td><td>+20.000</td>' in text
    assert '<th>within 30 min</th><td>100,000</td><td>120,000</td><td>+20,000</td>' in text
    # the _change columns are not published (not in publish.yaml): the change is computed on the page's numbers
    assert "_change" not in html


def test_scenario_dual_map_scales_and_marks(built):
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import Point

    from maps.dualmap import scenario_data, scenario_targets

    # the CT.01 indicative scenario's real figures for CCN Hà Thịnh (OUT/scenario.gpkg, access_change)
    scen = gpd.GeoDataFrame({"name": ["CCN Hà Thịnh", "B", "C"],
                             "minutes_to_ct01_before": [np.nan, np.nan, np.nan],
                             "minutes_to_ct01_after": [82.242325, 39.4, 45.6],
                             "minutes_to_kep_station_before": [102.571158, 46.9, 65.9],
                             "minutes_to_kep_station_after": [98.265844, 46.9, 61.6]},
                            geometry=[Point(106.3, 21.3), Point(106.2, 21.3), Point(106.1, 21.3)], crs="EPSG:4326")
    from maps.labels import target_names

    targets = scenario_targets(scen, target_names(built.layers, built.summary))
    assert [t.pair for t in targets] == ["minutes_to_ct01", "minutes_to_kep_station"]
    for t in targets:
        assert len(t.palette) == len(t.breaks) + 1 and t.breaks == sorted(t.breaks)
    data = scenario_data(scen, targets)
    assert data["initial"] == 1                                  # Kép changed; CT.01 has no "before" to compare
    keys = [f["properties"]["k"] for f in data["features"]]
    assert [k[0][0] for k in keys] == ["u", "u", "u"]           # no CT.01 before: unknown on the before map
    assert all(k[0][1] != "u" for k in keys)
    # 103 → 98 min (shown whole): 5 min faster, thick outline on the after map; 47 → 47 and 66 → 62 are not marked
    assert keys[0][1][1].endswith("|b") and not keys[1][1][1].endswith("|b") and not keys[2][1][1].endswith("|b")
    assert data["styles"][keys[0][1][1]]["weight"] > data["styles"][keys[0][1][0]]["weight"]
    assert "<td>103</td><td>98</td><td>−5</td>" in data["popups"][0]
    tip = data["features"][0]["properties"]["t"][1]
    assert "Ga Kép: 103 → 98 phút (−5)" in tip and "Kép station: 103 → 98 min (−5)" in tip
    # one scale for both maps: before and after keys come from the same palette
    palette = set(targets[1].palette)
    assert {k[1][0].split("|")[0] for k in keys} | {k[1][1].split("|")[0] for k in keys} <= palette


def test_scenario_dual_map_without_per_park_results(built):
    from maps.dualmap import scenario_dual_map
    from maps.samples import sample_analyses

    layers = {k: v for k, v in built.layers.items() if k in ("province", "districts", "corridors")}
    planned = {k: v for k, v in sample_analyses(built.layers).items() if k in ("planned_roads", "interchanges")}
    html = scenario_dual_map(layers, planned, summary=built.summary, assets="inline").render()
    assert html.count('class="folium-map"') == 2
    assert 'id="bg-target"' not in html and "no per-park results" in html
    assert "assets/" not in html and "bg.syncMaps = function" in html   # one self-contained file


def test_licences_and_restricted_layers(built, tmp_path):
    """licences.json and sources.html list every published layer; "not allowed" stays out unless asked for."""
    from maps.publish import publish_site

    summary = {**built.summary, "licences": {
        "industrial_parks": {"source": "iipvietnam.vn", "licence": "none stated", "redistribution": "not allowed"},
        "corridors": {"source": "OpenStreetMap", "licence": "ODbL 1.0", "redistribution": "allowed"}}}
    layers = {k: built.layers[k] for k in ("province", "districts", "corridors", "industrial_parks")}
    site = publish_site(tmp_path, layers=layers, summary=summary, analyses={})["site"]
    rows = {r["layer"]: r for r in json.loads((site / "licences.json").read_text(encoding="utf-8"))}
    assert rows["corridors"]["redistribution"] == "allowed" and rows["corridors"]["licence"] == "ODbL 1.0"
    assert rows["province"]["redistribution"] == "unknown"                       # missing from the summary
    assert rows["industrial_parks"]["redistribution"] == "not allowed" and rows["industrial_parks"]["published"] is False
    planning = (site / "planning.html").read_text(encoding="utf-8")
    assert "parks_kcn" not in planning and "corridors" in planning
    assert "iipvietnam.vn" in (site / "sources.html").read_text(encoding="utf-8")
    assert "sources.html" in (site / "index.html").read_text(encoding="utf-8")
    assert "bg-restricted" not in planning
    # the explicit option publishes them and every page says so
    site = publish_site(tmp_path, layers=layers, summary=summary, analyses={}, include_restricted=True)["site"]
    for page in site.glob("*.html"):
        assert "bg-restricted" in page.read_text(encoding="utf-8"), page.name
    assert "parks_kcn" in (site / "planning.html").read_text(encoding="utf-8")


def test_extra_page_is_one_builder(built, tmp_path):
    from maps.publish import publish_site

    def communes(ctx):
        return {"file": "communes.html", "title": "Xã / communes", "description": f"{len(ctx.layers)} layers",
                "html": f"<html><body>{ctx.region_name}</body></html>"}

    site = publish_site(tmp_path, layers={"province": built.layers["province"]}, analyses={}, pages=[communes])["site"]
    assert (site / "communes.html").is_file()
    assert 'href="communes.html"' in (site / "index.html").read_text(encoding="utf-8")
