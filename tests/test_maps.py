"""The planner map (maps/planner.py) and its parts: formats, popups, legends, vendored assets, escaping.

Real layers are built once from ../shared/data; analysis inputs are the small
hand-made frames of maps.samples. Browser behaviour is in test_browser.py.
"""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from langtext import popup_of, seen

from maps import style
from maps.map_options import MapOptions
from maps.style import UNKNOWN

XSS = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "</script><script>window.__xss=2</script>"


@pytest.fixture(scope="module")
def built(region):
    from layers.build import build_layers

    return build_layers(region)


@pytest.fixture(scope="module")
def planner(built):
    from maps.planner import planner_map

    m = planner_map(built.layers, population=built.population, summary=built.summary)
    return m, m.get_root().render()


@pytest.mark.parametrize("module", ["maps.style", "maps.popups", "maps.legend", "maps.elements", "maps.vendor", "maps.analysis_layers",
                                    "maps.indicators", "maps.publish", "maps.registry", "maps.lang", "maps.labels",
                                    "maps.page", "maps.park_layers", "maps.layer", "maps.licences",
                                    "maps.geometry"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------- formats

def test_unknown_is_never_zero():
    for fmt in (style.fmt_ha, style.fmt_km, style.fmt_minutes, style.fmt_people, style.fmt_pct, style.fmt_text,
                style.fmt_yes_no, style.fmt_pct100):
        for missing in (None, float("nan"), pd.NA, ""):
            assert fmt(missing) == UNKNOWN
    assert style.fmt_ha(0) == "0 ha"          # a real zero stays zero
    assert style.fmt_number(1803950) == "1\u202f803\u202f950"
    assert style.fmt_minutes(42.4) == "42 phút / min"
    assert style.fmt_pct(0.1140, 1) == "11,4 %"


def test_status_classes_of_real_statuses(built):
    statuses = built.layers["industrial_parks"]["status"]
    classes = {s: style.park_status_class(s) for s in statuses}
    assert classes["operating; 93.2% filled"] == "operating"
    assert classes["established; filled"] == "operating"
    assert classes["established; site clearance under way"] == "construction"
    assert classes["zoning plan 1/2000 approved"] == "planned"
    assert classes["listed"] == "unknown"
    assert classes["unknown (listed on iipvietnam.vn)"] == "unknown"
    assert set(classes.values()) <= set(style.PARK_STATUS)


# --------------------------------------------------------------------------- popups and escaping

def test_popups_escape_and_format():
    from maps.park_layers import PARK_FIELDS
    from maps.popups import feature_popups

    df = pd.DataFrame({"name": [XSS], "kind": ["KCN"], "area_ha": [np.nan], "occupancy_pct": [93.2],
                       "wastewater_treatment": [None], "facts_source": ["https://a.example/x?y=1&z=2 javascript:alert(1)"],
                       "district": ["<b>Việt Yên</b>"]})
    html = feature_popups(df, "name", PARK_FIELDS)[0]
    assert "<img" not in html and "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in html
    assert "&lt;b&gt;Việt Yên&lt;/b&gt;" in html
    assert "Diện tích / area</th><td>không rõ / unknown" in html
    assert "93,2 %" in html
    assert 'href="https://a.example/x?y=1&amp;z=2"' in html and "javascript:" not in html
    assert "Xử lý nước thải tập trung / central wastewater treatment</th><td>không rõ / unknown" in html


def test_safe_json_cannot_close_the_script():
    from maps.elements import safe_json

    text = safe_json({"p": XSS_SCRIPT, "q": "a\u2028b"})
    assert "</script" not in text.lower() and "<" not in text and "\u2028" not in text
    import json

    assert json.loads(text)["p"] == XSS_SCRIPT


def test_malicious_park_names_stay_text(built):
    from maps.planner import planner_map

    layers = dict(built.layers)
    bad = gpd.GeoDataFrame({"name": [XSS, XSS_SCRIPT], "kind": ["KCN", "CCN"], "area_ha": [100.0, 20.0],
                            "status": ["operating", None]},
                           geometry=[Point(106.62, 21.42), Point(106.7, 21.35)], crs="EPSG:4326")
    layers["industrial_parks"] = pd.concat([layers["industrial_parks"], bad], ignore_index=True)
    html = planner_map(layers).get_root().render()
    assert XSS not in html and "<img src=x" not in html
    assert XSS_SCRIPT not in html and "<script>window.__xss" not in html
    # the name is there, escaped for HTML and then for JSON inside the script
    assert "\\u0026lt;img src=x onerror=\\u0026quot;window.__xss=1\\u0026quot;\\u0026gt;" in html
    # every <script> element the page opens is one we put there
    scripts = re.findall(r"<script[^>]*>", html)
    assert all(s in ("<script>",) for s in scripts), set(scripts)


def test_template_syntax_in_names_stays_text(built):
    """The layers' data go into the page after templating (maps.elements.Page): a name is never read as Jinja."""
    import gc

    from maps.planner import planner_map

    layers = dict(built.layers)
    odd = gpd.GeoDataFrame({"name": ["{{ 7 * 7 }}", "{% raw %}x"], "kind": ["KCN", "CCN"], "area_ha": [100.0, 20.0],
                            "status": ["operating", None]},
                           geometry=[Point(106.62, 21.42), Point(106.7, 21.35)], crs="EPSG:4326")
    layers["industrial_parks"] = pd.concat([layers["industrial_parks"], odd], ignore_index=True)
    m = planner_map(layers)
    html = m.get_root().render()
    assert "{{ 7 * 7 }}" in html and "{% raw %}x" in html and "<bgplan-inline-" not in html
    assert gc.isenabled()                          # drawing leaves the collector on


def test_page_is_the_figure_branca_would_render(built, planner, monkeypatch):
    """The same bytes as a page whose elements' texts go through Jinja again (branca's Figure as the root)."""
    from branca.element import Figure

    import maps.planner

    _, html = planner
    monkeypatch.setattr(maps.planner, "Page", Figure)
    m = maps.planner.planner_map(built.layers, population=built.population, summary=built.summary)
    assert type(m.get_root()) is Figure and m.get_root().render() == html


def test_rows_of_gives_what_iterrows_gives():
    from maps.popups import rows_of

    frame = gpd.GeoDataFrame({"name": ["a", None, "c"], "n": [1, 2, 3], "x": [0.5, np.nan, 2.0], "ok": [True, False, True],
                              "when": pd.to_datetime(["2025-07-01", None, "2020-01-14"])},
                             geometry=[Point(0, 0), None, Point(1, 1)], index=[7, 3, 9], crs="EPSG:4326")
    frame.attrs["summary"] = {"n": 3}
    for row, (label, series) in zip(rows_of(frame), frame.iterrows()):
        assert row.name == label and list(row) == list(series.index)
        for column, value in series.items():
            assert type(row[column]) is type(value) and (row[column] == value or pd.isna(value) and pd.isna(row[column]))
        assert row.get("missing") is None and "n" in row


# --------------------------------------------------------------------------- the planner map on the real layers

def test_planner_map_layers_on_real_data(planner):
    m, html = planner
    layers = m.bgplan_layers
    for key in ("province", "neighbours", "district_names", "districts_density", "districts_urban", "districts_outline",
                "parks_kcn", "parks_ccn", "corridors", "railways", "stations", "destinations", "urban_areas", "water",
                "population"):
        assert key in layers, key
    # every placed park is drawn once (KCN + CCN); approximate positions get a ring of their expected error
    assert layers["parks_kcn"].feature_count >= 20 and layers["parks_ccn"].feature_count >= 20
    assert layers["parks_rings"].feature_count >= 40
    assert "sai số vị trí" in html.lower()
    assert layers["districts_density"].feature_count == 10
    assert layers["destinations"].feature_count == 6
    # the 7 stations inside the province (SOURCES.md) are drawn, Kép with its own style
    stations = layers["stations"].data["features"]
    tips = " ".join(f["properties"]["t"] for f in stations)
    for name in ("Bắc Giang", "Bảo Sơn", "Cẩm Lý", "Kép", "Lan Mẫu", "Phố Tráng", "Sen Hồ"):
        assert f"<b>{name}</b>" in tips
    assert sum(f["properties"]["k"] == "hub" for f in stations) == 1
    # park circles are sized by area: Quang Châu (516 ha) is the largest KCN circle
    kcn = layers["parks_kcn"].data["features"]
    biggest = max(kcn, key=lambda f: f["properties"]["r"])
    assert "KCN Quang Châu<" in popup_of(m, biggest)      # 426 ha, the largest sourced KCN area
    # corridors not found are named in the corridor legend
    assert "Quốc lộ 31" in html and "Vành đai 5" in html
    # coordinates rounded to 5 decimals
    coords = re.findall(r"\[(1\d\d\.\d+),(2\d\.\d+)\]", html)
    assert coords and all(len(x.split(".")[1]) <= 5 and len(y.split(".")[1]) <= 5 for x, y in coords[:500])


def test_planner_map_is_offline_and_attributed(planner):
    _, html = planner
    assert "<script src=" not in html and 'rel="stylesheet" href=' not in html      # everything inline
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "fontawesome", "unpkg"):
        assert cdn not in html
    assert "L.Control.GroupedLayers" in html and 't.version="1.9.4"' in html     # vendored Leaflet 1.9.4
    # the only URL templates fetched at run time are the OSM tiles
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    for credit in ("OpenStreetMap</a> contributors (ODbL)", "geoBoundaries", "WorldPop</a> (CC BY 4.0)"):
        assert credit.replace("</a>", "\\u003c/a\\u003e") in html
    assert '<meta http-equiv="content-type" content="text/html; charset=UTF-8" />' in html
    assert 'prefer' in html and '"preferCanvas": true' in html
    assert "L.control.scale()" in html


def test_every_styled_layer_has_a_legend(planner):
    m, _ = planner
    bound = {id(layer) for lg in m.bgplan_legends for layer in lg.layers}
    for key, layer in m.bgplan_layers.items():
        if key in ("district_names", "districts_outline", "neighbours", "destinations", "base_roads", "base_places"):
            continue   # labels, plain outlines, context and the base map's roads and names need no key
        assert id(layer) in bound, f"{key} has no legend"


def test_same_input_same_html(built, planner):
    from maps.planner import planner_map

    _, html = planner
    again = planner_map(built.layers, population=built.population, summary=built.summary).get_root().render()
    assert again == html


def test_population_overlay_matches_the_raster(built):
    from maps.images import population_png

    array, profile = built.population
    uri, bounds = population_png(array, profile)
    t = profile["transform"]
    assert bounds == [[pytest.approx(t.f + t.e * array.shape[0]), pytest.approx(t.c)],
                      [pytest.approx(t.f), pytest.approx(t.c + t.a * array.shape[1])]]
    assert uri.startswith("data:image/png;base64,") and len(uri) < 200_000


# --------------------------------------------------------------------------- analyses

def test_analyses_are_drawn_when_given_and_skipped_when_absent(built):
    from maps.planner import planner_map
    from maps.samples import sample_analyses

    analyses = sample_analyses(built.layers)
    m = planner_map(built.layers, analyses=analyses, summary=built.summary)
    keys = set(m.bgplan_layers)
    assert {"isochrones_ga_kep_mau_sample", "isochrones_tp_bac_giang_mau_sample", "suitability", "candidates",
            "scenario", "planned_roads", "interchanges", "access_kep_station", "access_ct01",
            "access_ha_noi_centre_road_rail", "access_none"} <= keys
    iso = m.bgplan_layers["isochrones_ga_kep_mau_sample"].data["features"]
    assert len(iso) == 3 and [f["properties"]["k"] for f in iso] == ["2", "1", "0"]   # 45, 30, 15 min; short on top
    # one number format per language, units in the reader's language
    assert "Dân số trong vùng 450.000 người" in " ".join(seen(f["properties"]["p"], "vi") for f in iso)
    assert "population reached 450,000 persons" in " ".join(seen(f["properties"]["p"], "en") for f in iso)
    # access joined into the park popups, labelled with the destination names; unknown minutes keep their reason
    parks = {}
    for key in ("parks_kcn", "parks_ccn"):
        for f in m.bgplan_layers[key].data["features"]:
            html = popup_of(m, f)
            parks[html.split("</h4>")[0].split("<h4>")[1]] = html
    first, last = analyses["access"]["name"].iloc[0], analyses["access"]["name"].iloc[-1]
    assert "Thời gian đến Ga Kép 12 phút" in seen(parks[first], "vi")
    assert "travel time to Kép station 12 min" in seen(parks[first], "en")
    assert "phút / min" not in seen(parks[first], "vi") and "phút" not in seen(parks[first], "en")
    # CT.01 is named from the corridors layer (today's network: an opened road with its English name)
    assert re.search(r"Thời gian đến Cao tốc Hà Nội . Bắc Giang . Lạng Sơn \(CT\.01\) không rõ — CT\.01 is not in the "
                     r"road network \(sample\)", seen(parks[first], "vi"))
    assert re.search(r"travel time to [^—]*expressway \(CT\.01\) unknown — CT\.01", seen(parks[first], "en"))
    assert "travel time to Hà Nội centre unknown — no route (sample)" in seen(parks[last], "en")
    assert "Dân số trong 30 phút 100.000 người" in seen(parks[first], "vi")
    # parks outside the access table: unknown, not 0
    other = next(h for n, h in parks.items() if n not in set(analyses["access"]["name"]))
    assert "travel time to Kép station unknown" in seen(other, "en")
    # one access layer per target; the popups are stored once and shared with the park layers
    kep = m.bgplan_layers["access_kep_station"].data["features"]
    assert len(kep) == len(built.layers["industrial_parks"]) and all(isinstance(f["properties"]["p"], int) for f in kep)
    # a small set of layers at load: no access layer on (the radio group's "none" is), unless the page names one
    assert not m.bgplan_layers["access_ct01"].show and not m.bgplan_layers["access_kep_station"].show
    assert m.bgplan_layers["access_none"].show

    def klass(minutes: str) -> str:
        return next(f["properties"]["k"] for f in kep if seen(f["properties"]["t"], "vi").endswith(f" {minutes}"))

    assert klass("12 phút") == "0" and klass("24 phút") == "1"   # < 15 min, 15–30 min
    on = planner_map(built.layers, analyses={"access": analyses["access"]}, summary=built.summary,
                     options=MapOptions(on=("access_kep_station",)))
    assert on.bgplan_layers["access_kep_station"].show and not on.bgplan_layers["access_none"].show
    # a page naming every access layer opens with the target most parks have a time to (not an all-unknown one)
    auto = planner_map(built.layers, analyses={"access": analyses["access"]}, summary=built.summary,
                       options=MapOptions(on=("access_*",)))
    shown = [k for k, layer in auto.bgplan_layers.items() if k.startswith("access_") and layer.show]
    known = {c: int(analyses["access"][c].notna().sum()) for c in analyses["access"] if c.startswith("minutes_to_")}
    assert shown == ["access_" + max(known, key=known.get)[len("minutes_to_"):]] and shown != ["access_ct01"]
    # the suitability cell without a score is drawn as unknown, not as 0
    suit = m.bgplan_layers["suitability"].data["features"]
    assert sum(f["properties"]["k"] == "u" for f in suit) == 1
    # scenario per park: coloured by the travel-time pair that changed most (Kép); every pair in the popup
    scen = m.bgplan_layers["scenario"].data["features"]
    assert "Thời gian đến Ga Kép" in seen(scen[0]["properties"]["t"], "vi")
    assert scen[0]["properties"]["k"] == "0"                    # 40 → 22 min: the largest decrease
    assert "Thời gian đến Ga Kép 40 phút → 22 phút (−18 phút)" in seen(scen[0]["properties"]["p"], "vi")
    assert "(CT.01) unknown → 20 min (unknown)" in seen(scen[0]["properties"]["p"], "en")   # CT.01 reachable after
    # nothing given → no analysis layer
    m2 = planner_map(built.layers, analyses={"isochrones": None, "suitability": analyses["suitability"].iloc[0:0]})
    assert not {"suitability", "candidates", "scenario", "planned_roads"} & set(m2.bgplan_layers)
    assert not any(k.startswith(("isochrones", "access")) for k in m2.bgplan_layers)
    # access in the popups only
    m3 = planner_map(built.layers, analyses={"access": analyses["access"]}, options=MapOptions(access_layers=False))
    assert not any(k.startswith("access") for k in m3.bgplan_layers)
    assert "Thời gian đến Ga Kép" in " ".join(seen(popup_of(m3, f), "vi")
                                              for f in m3.bgplan_layers["parks_kcn"].data["features"])


def test_write_planner_map_from_layers_gpkg(built, tmp_path):
    from geo.errors import InputError
    from layers.build import write_layers
    from maps.planner import read_layers, write_planner_map

    write_layers(built, tmp_path)
    layers, population, summary = read_layers(tmp_path)
    assert len(layers["industrial_parks"]) == len(built.layers["industrial_parks"]) and population is not None
    assert summary["region"] == "bac-giang"
    path = write_planner_map(tmp_path)
    html = path.read_text(encoding="utf-8")
    assert path == tmp_path / "map.html"
    assert "Ga Kép" in html and "KCN Vân Trung" in html and "<script src=" not in html
    assert 1_000_000 < path.stat().st_size < 5_000_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]      # no temporary leftovers
    with pytest.raises(InputError, match="layers.gpkg"):
        write_planner_map(tmp_path / "nothing-here")


def test_analyses_read_from_analyses_gpkg(built, tmp_path):
    from geo.io.output import write_geopackage
    from layers.build import write_layers
    from maps.planner import read_analyses, write_planner_map
    from maps.samples import sample_analyses

    write_layers(built, tmp_path)
    assert read_analyses(tmp_path) == {}                       # absent file → no analyses
    sample = sample_analyses(built.layers)
    # the files of plan.py access / plan.py scenario, and analyses.gpkg for the rest
    write_geopackage({"access": sample["access"]}, tmp_path / "access.gpkg")
    write_geopackage({"access_change": sample["scenario"], "planned_roads": sample["planned_roads"],
                      "interchanges": sample["interchanges"]}, tmp_path / "scenario.gpkg")
    write_geopackage({"isochrones": sample["isochrones"]}, tmp_path / "analyses.gpkg")
    found = read_analyses(tmp_path)
    assert set(found) == {"isochrones", "access", "scenario", "planned_roads", "interchanges"}
    assert len(found["access"]) == len(sample["access"])
    html = write_planner_map(tmp_path).read_text(encoding="utf-8")
    for key in ("isochrones_ga_kep_mau_sample", "access_kep_station", "scenario", "planned_roads", "interchanges"):
        assert f'bgplan.layers["{key}"]' in html
    assert "Thời gian đến Ga Kép" in html and "travel time to Kép station" in html


def test_names_are_nfc():
    import unicodedata

    from maps.park_layers import PARK_FIELDS
    from maps.popups import feature_popups, tooltip_html

    nfd = unicodedata.normalize("NFD", "KCN Hòa Phú")
    assert nfd != "KCN Hòa Phú"
    html = feature_popups(pd.DataFrame({"name": [nfd], "district": [unicodedata.normalize("NFD", "Hiệp Hòa")]}),
                          "name", PARK_FIELDS)[0]
    assert "KCN Hòa Phú" in html and "Hiệp Hòa" in html and nfd not in html
    assert "KCN Hòa Phú" in tooltip_html(nfd)


def test_a_full_suitability_grid_is_drawn_as_an_image(built):
    """62,000 cells as vectors would weigh hundreds of MB: above MAX_VECTOR_CELLS the grid becomes one image."""
    from shapely.geometry import box

    from maps.analysis_layers import MAX_VECTOR_CELLS
    from maps.planner import planner_map

    n = 80  # 6,400 cells of 500 m around Bắc Giang city
    x0, y0 = 620000.0, 2340000.0
    cells = [box(x0 + i * 500, y0 + j * 500, x0 + (i + 1) * 500, y0 + (j + 1) * 500) for i in range(n) for j in range(n)]
    score = np.linspace(0, 1, n * n)
    score[::7] = np.nan  # excluded / unknown cells stay blank
    grid = gpd.GeoDataFrame({"score": score}, geometry=cells, crs="EPSG:32648")
    assert len(grid) > MAX_VECTOR_CELLS
    m = planner_map(built.layers, analyses={"suitability": grid}, summary=built.summary)
    html = m.get_root().render()
    from maps.elements import ImageLayer

    assert isinstance(m.bgplan_layers["suitability"], ImageLayer)  # not a vector layer
    assert '"suitability"' in html and "L.imageOverlay" in html and html.count("data:image/png;base64,") >= 1
    assert len(html) < 4_000_000


def test_maps_has_no_import_cycle():
    """Every import between modules of maps/ (also inside functions) points one way."""
    import ast

    import networkx as nx

    folder = Path(__file__).resolve().parent.parent / "maps"
    graph = nx.DiGraph()
    for path in folder.glob("*.py"):
        me = f"maps.{path.stem}"
        graph.add_node(me)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("maps"):
                targets = [node.module] if node.module != "maps" else [f"maps.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("maps.")]
            else:
                continue
            for t in targets:
                if (folder / f"{t.split('.')[1]}.py").is_file() and t != me:
                    graph.add_edge(me, t)
    assert graph.has_edge("maps.dualmap", "maps.geometry")          # the graph is really built
    assert list(nx.simple_cycles(graph)) == []


def test_explorer_pixels_near_cells_only(monkeypatch):
    """Only the pixels near a cell are projected (maps.explorer._near_cells): the same image as every pixel."""
    import shapely

    from maps import explorer

    x0, y0, cell = 591300.0, 2392000.0, 100.0
    rows, cols = np.mgrid[0:60, 0:90]
    keep = ((rows - 30) ** 2 / 900 + (cols - 45) ** 2 / 2025 < 1) & ~((rows > 20) & (rows < 35) & (cols > 30) & (cols < 50))
    rows, cols = rows[keep], cols[keep]                          # an ellipse with a hole, in raster order
    grid = gpd.GeoDataFrame({"row": rows, "col": cols},
                            geometry=shapely.points(x0 + (cols + 0.5) * cell, y0 - (rows + 0.5) * cell),
                            crs="EPSG:32648").to_crs("EPSG:4326")
    frame = {"crs": "EPSG:32648", "x0": x0, "y0": y0, "cell_m": cell}
    index, bounds = explorer.pixel_cells(grid, frame)
    assert (index >= 0).any() and (index < 0).any()
    monkeypatch.setattr(explorer, "_near_cells", lambda b, west, north, size, shape: np.ones(shape, dtype=bool))
    every, every_bounds = explorer.pixel_cells(grid, frame)
    assert np.array_equal(index, every) and bounds == every_bounds


@pytest.mark.parametrize("field, value", [("assets", "cdn"), ("district_view", "population"), ("clip_km", -1),
                                          ("clip_km", float("nan")), ("clip_km", "10"), ("tools", {"zoom": False})])
def test_map_options_reject_bad_values(field, value):
    """Each bad value: a one-line ValueError naming the field; the good values of the same fields pass."""
    with pytest.raises(ValueError, match=rf"^MapOptions\.{field}\b") as err:
        MapOptions(**{field: value})
    assert "\n" not in str(err.value)
    for view in ("outline", "density", "urban"):
        assert MapOptions(district_view=view, assets="site", clip_km=None, tools={"print": False}).district_view == view
    assert MapOptions(clip_km=0).clip_km == 0


def test_planner_map_takes_few_arguments():
    """The page options are one MapOptions, not a long parameter list (osmnx's limit: at most 8 arguments)."""
    import inspect

    from maps.planner import planner_map, write_planner_map

    for fn in (planner_map, write_planner_map):
        assert len(inspect.signature(fn).parameters) <= 8, fn.__name__
