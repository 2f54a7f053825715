"""One place per map layer (maps/registry.py): every layer of every map is an entry drawn by one mechanism
(maps/layer.py draw); a layer added as one entry is drawn, has a legend section and popups in both languages, is
found by the search box, read from OUT, and published with its allow-list and licence — on synthetic frames (fast)."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from langtext import legend_texts, popup_of, seen
from shapely.geometry import LineString, Point, box

from maps import registry
from maps.map_options import MapOptions
from maps.popups import Field

SECRET = "owner-phone-0912345678"


@pytest.fixture
def province():
    return gpd.GeoDataFrame({"name_vi": ["Tỉnh thử"], "area_km2": [1000.0]},
                            geometry=[box(106.0, 21.0, 106.6, 21.4)], crs="EPSG:4326")


@pytest.fixture
def wells():
    """A new layer registered for the test only (removed afterwards)."""
    entry = registry.register(registry.MapLayer(
        key="test_wells", title="Giếng / wells",
        styles={"deep": {"radius": 6, "fillColor": "#08519c", "color": "#fff", "weight": 1, "fillOpacity": 1},
                "shallow": {"radius": 6, "fillColor": "#9ecae1", "color": "#fff", "weight": 1, "fillOpacity": 1}},
        classify=lambda r: "deep" if r["depth_m"] >= 50 else "shallow",
        legend=(("deep", "sâu (≥ 50 m) / deep (≥ 50 m)"), ("shallow", "nông / shallow")),
        legend_title="Giếng khoan / boreholes", swatch="circle", search="name",
        popup_title="name", fields=(Field("depth_m", "Độ sâu / depth", lambda v: f"{v:.0f} m"),
                                    Field("owner", "Chủ / owner")),
        tooltip=lambda r: f"{r['depth_m']:.0f} m",
        publish=("name", "depth_m"), licence="water", read=("wells.gpkg", "wells"), pages=("planning.html",)))
    frame = gpd.GeoDataFrame({"name": ["Giếng A", "Giếng B"], "depth_m": [80.0, 12.0], "owner": [SECRET, SECRET]},
                             geometry=[Point(106.2, 21.2), Point(106.4, 21.3)], crs="EPSG:4326")
    yield entry, frame
    registry.unregister("test_wells")


def test_entries_validate_themselves():
    with pytest.raises(ValueError, match="unknown style"):
        registry.MapLayer(key="x", title="x", styles={"a": {}}, legend=(("b", "B"),))
    with pytest.raises(ValueError, match="source"):
        registry.MapLayer(key="x", title="x", styles={"a": {}}, source="elsewhere")
    with pytest.raises(ValueError, match="painter"):
        registry.MapLayer(key="x", title="x", styles={"a": {}}, source="raster")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get("site_verdicts"))


def test_every_layer_is_a_registry_entry_drawn_by_one_mechanism():
    """Parks, access, scenario, the base map and the context are entries; the map builder has no layer of its own."""
    import inspect

    from maps import builder, planner

    keys = set(registry.LAYERS)
    assert {"parks_kcn", "parks_ccn", "parks_rings", "access", "scenario", "planned_roads", "interchanges", "province",
            "district_names", "population", "water", "base_roads", "base_places", "isochrones", "suitability",
            "candidates", "site_verdicts", "sensitivity", "communes"} <= keys
    drawing = [name for name, _ in inspect.getmembers(builder.MapBuilder, inspect.isfunction)]
    assert set(drawing) <= {"__init__", "add", "layer", "none_choice"}          # a surface, no theme methods
    source = inspect.getsource(planner.planner_map)
    assert "registry.entries(" in source and "draw(build, entry" in source


def test_every_label_has_both_languages():
    """Each title, legend row and popup label of the entries is a "vi / en" literal (or a pair) the toggle can split."""
    from maps.lang import split

    missing = []
    for e in registry.LAYERS.values():
        texts = [e.title, e.legend_title] + [label for _, label in e.legend]
        texts += [f.label for f in (e.fields if not callable(e.fields) else ())]
        missing += [(e.key, t) for t in texts if t and split(t) is None and t not in ("OSM id", "25 ha", "100 ha", "400 ha")]
    assert missing == []


def test_a_new_layer_is_one_entry_on_the_planner_map(province, wells):
    from maps.planner import planner_map

    entry, frame = wells
    m = planner_map({"province": province}, analyses={"test_wells": frame}, options=MapOptions(on=("test_wells",)))
    assert "test_wells" in m.bgplan_layers and m.bgplan_layers["test_wells"].show
    data = m.bgplan_layers["test_wells"].data
    assert [f["properties"]["k"] for f in data["features"]] == ["deep", "shallow"]
    assert [f["properties"]["n"] for f in data["features"]] == ["Giếng A", "Giếng B"]      # found by the search box
    sections = legend_texts(m, "vi")
    assert any("Giếng khoan" in s and "sâu (≥ 50 m)" in s for s in sections)               # its legend section …
    assert any("boreholes" in s and "deep (≥ 50 m)" for s in legend_texts(m, "en"))        # … in both languages
    popup = popup_of(m, data["features"][0])
    assert "Độ sâu 80 m" in seen(popup, "vi") and "depth 80 m" in seen(popup, "en")
    assert "Độ sâu" not in seen(popup, "en")
    assert "test_wells" not in planner_map({"province": province}).bgplan_layers       # absent data: not drawn


def test_a_new_layer_is_read_from_out_and_published_with_its_allow_list(province, wells, tmp_path):
    from maps.planner import read_analyses
    from maps.publish import publish_site

    entry, frame = wells
    frame.to_file(tmp_path / "wells.gpkg", layer="wells", driver="GPKG")
    found = read_analyses(tmp_path)
    assert list(found["test_wells"]["name"]) == ["Giếng A", "Giếng B"]
    summary = {"licences": {"water": {"source": "OSM", "licence": "ODbL", "redistribution": "allowed"}}}
    site = publish_site(tmp_path, layers={"province": province}, analyses=found, summary=summary)["site"]
    page = (site / "planning.html").read_text(encoding="utf-8")
    assert "Giếng khoan" in seen(page, "vi") and "Độ sâu" in seen(page, "vi")
    assert SECRET not in page and "Chủ" not in seen(page, "vi")                            # not in the allow-list
    rows = {r["layer"]: r for r in json.loads((site / "licences.json").read_text(encoding="utf-8"))}
    assert rows["test_wells"]["licence"] == "ODbL"                                       # inherited licence key
    download = json.loads((site / "data" / "test_wells.geojson").read_text(encoding="utf-8"))
    assert download["bgplan"]["licence"] == "ODbL" and SECRET not in json.dumps(download)   # offered with its licence


def test_site_verdicts_colour_outline_and_readable_failures(province):
    from maps.planner import planner_map

    sites = gpd.GeoDataFrame(
        {"site": [1, 2, 3], "area_ha": [60.0, 45.0, 80.0], "district": ["Yên Dũng", "Lạng Giang", None],
         "eligible": ["true", "false", "unknown"], "preconditions_met": ["true", "true", None],
         "rule_failures": [None, "a CCN covers at most 75 ha (Decree 32/2024, Art. 2) | too close to water", None],
         "rules_unknown": [None, None, "rice land must be phased (summary; not confirmed) [no rice-land layer]"],
         "verdict_reasons": [None, "fails: too close to water", "undecided: rice land"]},
        geometry=[box(106.1, 21.1, 106.12, 21.12), box(106.2, 21.1, 106.22, 21.12), box(106.3, 21.1, 106.32, 21.12)],
        crs="EPSG:4326")
    m = planner_map({"province": province}, analyses={"site_verdicts": sites})
    feats = m.bgplan_layers["site_verdicts"].data["features"]
    assert [f["properties"]["k"] for f in feats] == ["eligible", "fails", "unknown"]
    fails = seen(feats[1]["properties"]["p"], "en")
    assert "• a CCN covers at most 75 ha (Decree 32/2024, Art. 2) • too close to water" in fails
    assert "fails a rule" in fails and "reasons fails: too close to water" in fails           # the verdict's reasons
    assert "không đạt" in seen(feats[1]["properties"]["p"], "vi")
    assert "unknown (facts missing)" in seen(feats[2]["properties"]["p"], "en")            # unknown is never a pass
    assert feats[0]["properties"]["n"] == "Địa điểm #1 - Yên Dũng"                       # found by the search box
    assert any("legal verdict" in s and "eligible" in s for s in legend_texts(m, "en"))


def test_access_popups_show_the_range_and_the_network(province):
    import pandas as pd

    from maps.lang import language
    from maps.park_layers import join_access

    parks = gpd.GeoDataFrame({"name": ["KCN A", "KCN B"]}, geometry=[Point(106.2, 21.2), Point(106.3, 21.2)],
                             crs="EPSG:4326")
    access = pd.DataFrame({"name": ["KCN A", "KCN B"], "minutes_to_kep": [34.2, float("nan")],
                           "minutes_low_to_kep": [27.6, float("nan")], "minutes_high_to_kep": [41.4, float("nan")],
                           "reason_kep": [None, "not on the network"], "network": ["today: OSM 2018 + CT.01"] * 2})
    joined, fields, minutes = join_access(parks, access, {"kep": ("Ga Kép", "Kép station")})
    shown = next(f for f in fields if f.column == "_show_minutes_to_kep")
    assert shown.label == ("Thời gian đến Ga Kép", "travel time to Kép station")
    rows = [r for _, r in joined.iterrows()]
    assert [shown.value(r) for r in rows] == ["34 (28–41) phút / min", "không rõ / unknown — not on the network"]
    with language("en"):
        assert [shown.value(r) for r in rows] == ["34 (28–41) min", "unknown — not on the network"]
    assert "network" in [f.column for f in fields]


def test_park_popups_say_one_area_not_unknown_above_figures(province):
    """A park without its own area but with figures from the facts source: one area row, the range and the figures."""
    from maps.planner import planner_map

    parks = gpd.GeoDataFrame({"name": ["KCN Hai Nguồn"], "kind": ["KCN"], "area_ha": [float("nan")],
                              "area_ha_facts": ["350.3; 433.28"], "status": ["operating"]},
                             geometry=[Point(106.3, 21.2)], crs="EPSG:4326")
    m = planner_map({"province": province, "industrial_parks": parks})
    popup = popup_of(m, m.bgplan_layers["parks_kcn"].data["features"][0])
    assert "Diện tích 350–433 ha (các nguồn khác nhau: 350 ha; 433 ha)" in seen(popup, "vi")
    assert "area 350–433 ha (sources differ: 350 ha; 433 ha)" in seen(popup, "en")
    assert "không rõ" not in seen(popup, "vi")


def test_declared_context_layers_join_their_theme_group(province):
    """A declared layer of the transport group sits with the corridors, under the region's name for the group."""
    from maps.planner import planner_map

    corridors = gpd.GeoDataFrame({"corridor_id": ["ql1a"], "name_vi": ["Quốc lộ 1A"], "road_class": ["national"]},
                                 geometry=[LineString([(106.1, 21.1), (106.5, 21.3)])], crs="EPSG:4326")
    dest = gpd.GeoDataFrame({"key": ["kep"], "name_vi": ["Ga Kép"], "name_en": ["Kép station"]},
                            geometry=[Point(106.3, 21.3)], crs="EPSG:4326")
    m = planner_map({"province": province, "corridors": corridors, "destinations": dest},
                    options=MapOptions(map_config={"transport_group": "Giao thông thử / test transport"}))
    html = m.get_root().render()
    group = html[html.index("Giao thông thử"):]
    assert html.count("Giao thông thử") == 1
    names = [m.bgplan_layers[k].get_name() for k in ("corridors", "destinations")]
    assert all(n in group[:600] for n in names), group[:600]


def test_railways_and_stations_share_one_legend_with_the_regions_hub(province):
    """Railways and stations are two entries with one legend section; the hub station and the section title come
    from the region's ``map:`` settings (a parameter of the entries, not code)."""
    from maps.planner import planner_map

    rail = gpd.GeoDataFrame({"name": ["Hà Nội – Lạng Sơn", "Hà Nội – Lạng Sơn", None], "length_km": [60.0, 10.0, 5.0]},
                            geometry=[LineString([(106.1, 21.1), (106.3, 21.2)]), LineString([(106.3, 21.2), (106.5, 21.3)]),
                                      LineString([(106.2, 21.2), (106.3, 21.2)])], crs="EPSG:4326")
    stations = gpd.GeoDataFrame({"name": ["Ga Kép", "Ga Phố Tráng", "ICD thử"], "kind": ["rail_station", None, "icd"]},
                                geometry=[Point(106.3, 21.3), Point(106.2, 21.25), Point(106.4, 21.2)], crs="EPSG:4326")
    config = {"rail_legend_title": "Đường sắt thử / test railways",
              "highlight_station": {"names": ["ga kep"], "label": "Ga Kép (đầu mối) / Kép hub"}}
    m = planner_map({"province": province, "railways": rail, "stations": stations}, options=MapOptions(map_config=config))
    kinds = [f["properties"]["k"] for f in m.bgplan_layers["stations"].data["features"]]
    assert kinds == ["hub", "rail_station", "icd"]
    rails = m.bgplan_layers["railways"].data["features"]
    assert len(rails) == 2                                                 # the pieces of one named line drawn as one
    assert any("<h4>Đường sắt</h4>" in f["properties"]["p"] for f in rails)  # a nameless one is titled
    assert any("70,0 km" in seen(f["properties"]["p"], "vi") for f in rails)  # its pieces' lengths summed
    sections = [s for s in legend_texts(m, "vi") if "Đường sắt thử" in s]
    assert len(sections) == 1                                              # one section for both layers
    assert sections[0].index("Đường sắt") < sections[0].index("Ga Kép (đầu mối)") < sections[0].index("ICD")
    assert "Điểm dừng" not in sections[0]                                 # only the kinds present
    section = next(lg for lg in m.bgplan_legends if "Đường sắt thử" in seen(lg.html))
    assert [layer.key for layer in section.layers] == ["railways", "stations"]
    plain = planner_map({"province": province, "stations": stations})    # no region settings: generic title, no hub
    assert "hub" not in {f["properties"]["k"] for f in plain.bgplan_layers["stations"].data["features"]}
    assert any("Đường sắt, ga" in s for s in legend_texts(plain, "vi"))


def test_corridors_existing_solid_planned_dashed_and_those_not_found(province):
    """Corridors: one legend row per road class present (solid); the dashed "planned" key only when a corridor is
    planned; an opened road (CT.01) is existing; the corridors of the region not found are named in the note."""
    from maps.planner import planner_map

    corridors = gpd.GeoDataFrame(
        {"corridor_id": ["ql1a", "ct01", "x"], "name_vi": ["Quốc lộ 1A", "Cao tốc CT.01", None],
         "road_class": ["national", "expressway", "mystery"], "status": ["existing", "existing", "existing"],
         "method": ["map_matched", "opened_road", "map_matched"], "length_km": [40.0, 30.0, None]},
        geometry=[LineString([(106.1, 21.1), (106.5, 21.3)]), LineString([(106.1, 21.2), (106.5, 21.2)]),
                  LineString([(106.2, 21.1), (106.2, 21.3)])], crs="EPSG:4326")
    summary = {"layers": {"corridors": {"not_found": [{"corridor_id": "ql17", "name_vi": "Quốc lộ 17"}]}}}
    m = planner_map({"province": province, "corridors": corridors}, summary=summary, options=MapOptions(map_config={}))
    features = m.bgplan_layers["corridors"].data["features"]
    assert sorted(f["properties"]["k"] for f in features) == ["expressway|existing", "national|existing", "other|existing"]
    assert any("hiện có, 40,0 km" in seen(f["properties"]["t"], "vi") for f in features)
    ct01 = next(seen(f["properties"]["p"], "en") for f in features if "CT.01" in f["properties"]["p"])
    assert "status existing" in ct01 and "opened since 2018" in ct01 and "planned" not in ct01
    section = next(s for s in legend_texts(m, "en") if "road corridors" in s or "national road" in s)
    for text in ("expressway", "national road", "other, unknown", "not found: Quốc lộ 17"):
        assert text in section
    assert "planned" not in section and "provincial" not in section       # nothing planned, no provincial road: no row
    planned = corridors.assign(status=["existing", "planned", "existing"])
    m = planner_map({"province": province, "corridors": planned}, options=MapOptions(map_config={}))
    assert any("planned (dashed)" in s for s in legend_texts(m, "en"))


def test_scenario_roads_today_has_are_existing_and_solid(province):
    """A scenario road that today's network has (CT.01, opened 2020: an existing corridor) is labelled "in today's
    network" and drawn solid; only a road no network has is "planned", dashed (issue 23: not "planned" for CT.01)."""
    from maps.planner import planner_map

    corridors = gpd.GeoDataFrame({"corridor_id": ["ct01"], "name_vi": ["Cao tốc CT.01"], "road_class": ["expressway"],
                                  "status": ["existing"]},
                                 geometry=[LineString([(106.1, 21.2), (106.5, 21.2)])], crs="EPSG:4326")
    roads = gpd.GeoDataFrame({"name": ["CT.01", "Vành đai thử / test ring"], "corridor_id": ["ct01", None],
                              "road_class": ["expressway", "expressway"], "length_km": [30.0, 12.0]},
                             geometry=[LineString([(106.1, 21.2), (106.5, 21.2)]), LineString([(106.2, 21.1), (106.2, 21.3)])],
                             crs="EPSG:4326")
    m = planner_map({"province": province, "corridors": corridors}, analyses={"planned_roads": roads},
                    options=MapOptions(map_config={}, on=("planned_roads",)))
    features = m.bgplan_layers["planned_roads"].data["features"]
    assert [f["properties"]["k"] for f in features] == ["expressway|today", "expressway|planned"]
    styles = m.bgplan_layers["planned_roads"].styles
    assert "dashArray" not in styles["expressway|today"] and styles["expressway|planned"]["dashArray"]
    ct01 = seen(features[0]["properties"]["p"], "en")
    assert "in today's network" in ct01 and "planned" not in ct01
    assert "planned, not built" in seen(features[1]["properties"]["p"], "en")
    section = next(t for t in legend_texts(m, "en") if "scenario: roads added" in t)
    assert "in today's network" in section and "planned, not built" in section
    # the scenario page's "before" map is the network before the scenario: without the corridors the scenario adds
    from maps.dualmap import scenario_dual_map

    html = scenario_dual_map({"province": province, "corridors": corridors}, {"planned_roads": roads},
                             assets="inline").render()
    assert html.count('bgplan.layers["corridors"]') == 1 and html.count('bgplan.layers["planned_roads"]') == 1


def test_isochrones_are_named_after_their_origin_and_published_on_the_access_page_only(province, tmp_path):
    """The isochrones entry: read from OUT/isochrones.gpkg, cut to its allow-list, drawn (one layer per origin, named
    after the destination, not its index) on access.html and on no other page."""
    from maps.planner import read_analyses
    from maps.publish import publish_site

    iso = gpd.GeoDataFrame({"name": ["kep_station"] * 2, "origin": ["-1", "-1"], "minutes": [15.0, 30.0],
                            "population": [1000, 5000], "operator_note": [SECRET, SECRET]},
                           geometry=[Point(106.3, 21.3).buffer(0.05), Point(106.3, 21.3).buffer(0.1)], crs="EPSG:4326")
    iso.to_file(tmp_path / "isochrones.gpkg", layer="isochrones", driver="GPKG")
    found = read_analyses(tmp_path)
    assert sorted(found["isochrones"]["minutes"]) == [15.0, 30.0]
    dest = gpd.GeoDataFrame({"key": ["kep_station"], "name_vi": ["Ga Kép"], "name_en": ["Kép station"]},
                            geometry=[Point(106.3, 21.3)], crs="EPSG:4326")
    access = gpd.GeoDataFrame({"name": ["KCN thử"], "minutes_to_kep_station": [20.0]}, geometry=[Point(106.25, 21.25)],
                              crs="EPSG:4326")
    site = publish_site(tmp_path, layers={"province": province, "destinations": dest},
                        analyses={**found, "access": access})["site"]
    page = (site / "access.html").read_text(encoding="utf-8")
    assert 'bgplan.layers["isochrones_ga_kep"]' in page and "-1 (" not in page
    assert "Ga Kép (2)" in seen(page, "vi") and "Kép station (2)" in seen(page, "en")    # the layer control's name
    assert "≤ 15 phút" in seen(page, "vi") and "≤ 15 min" in seen(page, "en")
    assert SECRET not in page
    assert "isochrones_ga_kep" not in (site / "planning.html").read_text(encoding="utf-8")


def test_district_entries_draw_the_census_districts_with_the_pages_view(province):
    """The three district entries read the census-joined districts (else the bare ones); the page's district_view
    decides which one is on (outlines by default); unknown density is its own class, never the lowest."""
    from maps.context_layers import DENSITY_BREAKS
    from maps.planner import planner_map

    bare = gpd.GeoDataFrame({"district": ["A", "B"]}, geometry=[box(106.0, 21.0, 106.3, 21.4), box(106.3, 21.0, 106.6, 21.4)],
                            crs="EPSG:4326")
    census = bare.assign(name_full_vi=["Huyện A", "Huyện B"], density_per_km2=[300.0, None], urban_share=[0.5, 0.02])
    for view, on in (("density", "districts_density"), ("urban", "districts_urban"), ("outline", "districts_outline")):
        m = planner_map({"province": province, "districts": bare, "district_population": census},
                        options=MapOptions(district_view=view))
        assert [k for k in ("districts_density", "districts_urban", "districts_outline") if m.bgplan_layers[k].show] == [on]
    default = planner_map({"province": province, "district_population": census})
    assert default.bgplan_layers["districts_outline"].show and not default.bgplan_layers["districts_density"].show
    feats = m.bgplan_layers["districts_density"].data["features"]
    assert sorted(f["properties"]["k"] for f in feats) == ["1", "u"]
    assert any("Huyện A" in f["properties"]["p"] and "<b>A</b>" in f["properties"]["t"] for f in feats)
    from maps import style
    from maps.lang import language

    with language("vi"):
        top = style.class_labels(DENSITY_BREAKS, style.fmt_number)[-1]
    assert top == "≥ 2.000" and any(top in s for s in legend_texts(m, "vi"))   # every class in the legend, present or not
    plain = planner_map({"province": province, "districts": bare})
    assert {f["properties"]["k"] for f in plain.bgplan_layers["districts_density"].data["features"]} == {"u"}


def test_site_verdicts_read_the_three_valued_verdict_and_explain_the_site():
    from maps.analysis_layers import site_criteria, site_setting, verdict_of
    from maps.lang import language

    row = {"verdict": "ineligible", "eligible": "true", "s_minutes_to_trunk": 0.91, "minutes_to_trunk": 3.26,
           "s_people_within_30_min": 0.5, "people_within_30_min": None, "parcel": 72, "parcel_area_ha": 1188.0,
           "compactness": 0.49, "min_width_m": 300.0, "m_to_corridor_road": 28.0, "m_to_railway": 62.0,
           "m_to_settlement": 2039.0, "nearest_settlement": "Bích Động",
           "settlement_source": "bacgiang_places_osm2018_bbox03.geojson"}
    assert verdict_of(row) == "fails"                              # the verdict column wins over eligible
    assert verdict_of({"verdict": "unknown", "eligible": "true"}) == "unknown"
    assert verdict_of({"eligible": "false"}) == "fails"            # older sites files
    with language("en"):
        assert site_criteria(row) == ("travel time to trunk road (expressway, national road): 3.3 min → 0.91 • "
                                      "people within 30 min: 0.50")
        text = site_setting(row)
    assert "parcel 72 (1,188 ha)" in text and "corridor road 28 m" in text and "Bích Động, bacgiang_places_osm2018_bbox03.geojson" in text
    with language("vi"):
        assert site_criteria(row).startswith("Thời gian đến trục chính (cao tốc, quốc lộ): 3,3 phút → 0,91")
        assert "thửa 72 (1.188 ha)" in site_setting(row)
