"""One place per map layer (maps/registry.py): a layer added as one entry is drawn, has a legend and
popups, is read from OUT, and is published with its allow-list and licence — on synthetic frames (fast)."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from maps import registry
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
        legend=(("deep", "sâu / deep (≥ 50 m)"), ("shallow", "nông / shallow")),
        legend_title="Giếng khoan / boreholes", swatch="circle",
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
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get("site_verdicts"))


def test_a_new_layer_is_one_entry_on_the_planner_map(province, wells):
    from maps.planner import planner_map

    entry, frame = wells
    m = planner_map({"province": province}, analyses={"test_wells": frame})
    assert "test_wells" in m.bgplan_layers
    data = m.bgplan_layers["test_wells"].data
    assert [f["properties"]["k"] for f in data["features"]] == ["deep", "shallow"]
    html = m.get_root().render()
    assert "Giếng khoan / boreholes" in html and "sâu / deep (≥ 50 m)" in html         # legend
    assert "Độ sâu / depth" in data["features"][0]["properties"]["p"]                   # popup
    assert "80 m" in data["features"][0]["properties"]["p"]
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
    assert "Giếng khoan / boreholes" in page and "Độ sâu / depth" in page
    assert SECRET not in page and "Chủ / owner" not in page                             # not in the allow-list
    rows = {r["layer"]: r for r in json.loads((site / "licences.json").read_text(encoding="utf-8"))}
    assert rows["test_wells"]["licence"] == "ODbL"                                       # inherited licence key


def test_site_verdicts_colour_outline_and_readable_failures(province):
    from maps.planner import planner_map

    sites = gpd.GeoDataFrame(
        {"site": [1, 2, 3], "area_ha": [60.0, 45.0, 80.0], "district": ["Yên Dũng", "Lạng Giang", None],
         "eligible": ["true", "false", "unknown"], "preconditions_met": ["true", "true", None],
         "rule_failures": [None, "a CCN covers at most 75 ha (Decree 32/2024, Art. 2) | too close to water", None],
         "rules_unknown": [None, None, "rice land must be phased (summary; not confirmed) [no rice-land layer]"]},
        geometry=[box(106.1, 21.1, 106.12, 21.12), box(106.2, 21.1, 106.22, 21.12), box(106.3, 21.1, 106.32, 21.12)],
        crs="EPSG:4326")
    m = planner_map({"province": province}, analyses={"site_verdicts": sites})
    feats = m.bgplan_layers["site_verdicts"].data["features"]
    assert [f["properties"]["k"] for f in feats] == ["eligible", "fails", "unknown"]
    fails = feats[1]["properties"]["p"]
    assert "• a CCN covers at most 75 ha (Decree 32/2024, Art. 2) • too close to water" in fails
    assert "không đạt / fails a rule" in fails
    assert "chưa xác định / unknown" in feats[2]["properties"]["p"]          # unknown is never a pass
    html = m.get_root().render()
    assert "legal verdict" in html and "đủ điều kiện / eligible" in html


def test_access_popups_show_the_range_and_the_network(province):
    import pandas as pd

    from maps.analysis_layers import join_access

    parks = gpd.GeoDataFrame({"name": ["KCN A", "KCN B"]}, geometry=[Point(106.2, 21.2), Point(106.3, 21.2)],
                             crs="EPSG:4326")
    access = pd.DataFrame({"name": ["KCN A", "KCN B"], "minutes_to_kep": [34.2, float("nan")],
                           "minutes_low_to_kep": [27.6, float("nan")], "minutes_high_to_kep": [41.4, float("nan")],
                           "reason_kep": [None, "not on the network"], "network": ["today: OSM 2018 + CT.01"] * 2})
    joined, fields, minutes = join_access(parks, access, {"kep": ("Ga Kép", "Kép station")})
    assert list(joined["_show_minutes_to_kep"]) == ["34 (28–41) phút / min", "không rõ / unknown — not on the network"]
    assert "network" in [f.column for f in fields]


def test_declared_context_layers_join_their_theme_group(province):
    """A declared layer of the transport group sits with the corridors, under the region's name for the group."""
    from shapely.geometry import LineString

    from maps.planner import planner_map

    corridors = gpd.GeoDataFrame({"corridor_id": ["ql1a"], "name_vi": ["Quốc lộ 1A"], "road_class": ["national"]},
                                 geometry=[LineString([(106.1, 21.1), (106.5, 21.3)])], crs="EPSG:4326")
    dest = gpd.GeoDataFrame({"key": ["kep"], "name_vi": ["Ga Kép"], "name_en": ["Kép station"]},
                            geometry=[Point(106.3, 21.3)], crs="EPSG:4326")
    m = planner_map({"province": province, "corridors": corridors, "destinations": dest},
                    map_config={"transport_group": "Giao thông thử / test transport"})
    html = m.get_root().render()
    group = html[html.index('"Giao thông thử / test transport"'):]
    assert html.count('"Giao thông thử / test transport"') == 1
    names = [m.bgplan_layers[k].get_name() for k in ("corridors", "destinations")]
    assert all(n in group[:400] for n in names), group[:400]


def test_railways_and_stations_share_one_legend_with_the_regions_hub(province):
    """Railways and stations are two entries with one legend box; the hub station and the box title come from the
    region's ``map:`` settings (a parameter of the entries, not code)."""
    from shapely.geometry import LineString

    from maps.planner import planner_map

    rail = gpd.GeoDataFrame({"name": ["Hà Nội – Lạng Sơn", None], "length_km": [60.0, 5.0]},
                            geometry=[LineString([(106.1, 21.1), (106.5, 21.3)]),
                                      LineString([(106.2, 21.2), (106.3, 21.2)])], crs="EPSG:4326")
    stations = gpd.GeoDataFrame({"name": ["Ga Kép", "Ga Phố Tráng", "ICD thử"], "kind": ["rail_station", None, "icd"]},
                                geometry=[Point(106.3, 21.3), Point(106.2, 21.25), Point(106.4, 21.2)], crs="EPSG:4326")
    config = {"rail_legend_title": "Đường sắt thử / test railways",
              "highlight_station": {"names": ["ga kep"], "label": "Ga Kép (đầu mối) / Kép hub"}}
    m = planner_map({"province": province, "railways": rail, "stations": stations}, map_config=config)
    kinds = [f["properties"]["k"] for f in m.bgplan_layers["stations"].data["features"]]
    assert kinds == ["hub", "rail_station", "icd"]
    rails = m.bgplan_layers["railways"].data["features"]
    assert any("<h4>Đường sắt / railway</h4>" in f["properties"]["p"] for f in rails)  # a nameless one is titled
    html = m.get_root().render()
    assert html.count("Đường sắt thử / test railways") == 1               # one box for both layers
    call = html[html.rindex("bgplan.legend(", 0, html.index("Đường sắt thử / test railways")):]
    call = call[:call.index(");")]
    for text in ("Đường sắt / railway", "Ga Kép (đầu mối) / Kép hub", "ICD / inland container depot"):
        assert text in call
    assert call.index("Đường sắt / railway") < call.index("Kép hub") < call.index("ICD")
    assert "Điểm dừng" not in call                                        # only the kinds present
    assert all(m.bgplan_layers[k].get_name() in call for k in ("railways", "stations"))
    plain = planner_map({"province": province, "stations": stations})    # no region settings: generic title, no hub
    assert "hub" not in {f["properties"]["k"] for f in plain.bgplan_layers["stations"].data["features"]}
    assert registry.RAIL_LEGEND_TITLE in plain.get_root().render()


def test_corridors_entry_dashes_planned_roads_and_names_those_not_found(province):
    """Corridors: one legend row per road class present (solid), the dashed "planned" key, and the corridors of the
    region not found on the network named in the note (from the build summary)."""
    from shapely.geometry import LineString

    from maps.planner import planner_map

    corridors = gpd.GeoDataFrame(
        {"corridor_id": ["ql1a", "ct01", "x"], "name_vi": ["Quốc lộ 1A", "Cao tốc CT.01", None],
         "road_class": ["national", "expressway", "mystery"], "status": ["existing", "planned", "existing"],
         "length_km": [40.0, 30.0, None]},
        geometry=[LineString([(106.1, 21.1), (106.5, 21.3)]), LineString([(106.1, 21.2), (106.5, 21.2)]),
                  LineString([(106.2, 21.1), (106.2, 21.3)])], crs="EPSG:4326")
    summary = {"layers": {"corridors": {"not_found": [{"corridor_id": "ql17", "name_vi": "Quốc lộ 17"}]}}}
    m = planner_map({"province": province, "corridors": corridors}, summary=summary, map_config={})
    features = m.bgplan_layers["corridors"].data["features"]
    assert sorted(f["properties"]["k"] for f in features) == ["expressway|planned", "national|existing",
                                                             "other|existing"]
    assert any("40,0 km" in f["properties"]["t"] for f in features)
    html = m.get_root().render()
    call = html[html.rindex("bgplan.legend(", 0, html.index("không tìm thấy / not found: Quốc lộ 17")):]
    call = call[:call.index(");")]
    for text in ("Cao tốc / expressway", "Quốc lộ / national road", "Khác, không rõ / other, unknown",
                 "Quy hoạch (nét đứt) / planned (dashed)", "matched on the OSM road network"):
        assert text in call
    assert "Tỉnh lộ" not in call                                           # classes absent: no row


def test_isochrones_entry_reads_out_and_publishes_on_the_access_page_only(province, tmp_path):
    """The isochrones entry: read from OUT/isochrones.gpkg, cut to its allow-list, drawn (one layer per origin, below
    the parks) on access.html and on no other page."""
    from maps.planner import read_analyses
    from maps.publish import publish_site

    iso = gpd.GeoDataFrame({"origin": ["Ga Kép", "Ga Kép"], "minutes": [15.0, 30.0], "population": [1000, 5000],
                            "operator_note": [SECRET, SECRET]},
                           geometry=[Point(106.3, 21.3).buffer(0.05), Point(106.3, 21.3).buffer(0.1)], crs="EPSG:4326")
    iso.to_file(tmp_path / "isochrones.gpkg", layer="isochrones", driver="GPKG")
    found = read_analyses(tmp_path)
    assert sorted(found["isochrones"]["minutes"]) == [15.0, 30.0]
    access = gpd.GeoDataFrame({"name": ["KCN thử"], "minutes_to_kep": [20.0]}, geometry=[Point(106.25, 21.25)],
                              crs="EPSG:4326")
    site = publish_site(tmp_path, layers={"province": province}, analyses={**found, "access": access})["site"]
    page = (site / "access.html").read_text(encoding="utf-8")
    assert "isochrones_ga_kep" in page and "≤ 15 min" in page.replace("phút / ", "")
    assert SECRET not in page
    assert "isochrones_ga_kep" not in (site / "planning.html").read_text(encoding="utf-8")


def test_district_entries_draw_the_census_districts_with_the_pages_view(province):
    """The three district entries read the census-joined districts (else the bare ones); the page's district_view
    decides which one is on; unknown density is its own class, never the lowest."""
    from maps.planner import planner_map

    bare = gpd.GeoDataFrame({"district": ["A", "B"]}, geometry=[box(106.0, 21.0, 106.3, 21.4), box(106.3, 21.0, 106.6, 21.4)],
                            crs="EPSG:4326")
    census = bare.assign(name_full_vi=["Huyện A", "Huyện B"], density_per_km2=[300.0, None], urban_share=[0.5, 0.02])
    for view, on in (("density", "districts_density"), ("urban", "districts_urban"), ("outline", "districts_outline")):
        m = planner_map({"province": province, "districts": bare, "district_population": census}, district_view=view)
        assert [k for k in ("districts_density", "districts_urban", "districts_outline") if m.bgplan_layers[k].show] == [on]
    feats = m.bgplan_layers["districts_density"].data["features"]
    assert sorted(f["properties"]["k"] for f in feats) == ["1", "u"]
    assert any("Huyện A" in f["properties"]["p"] and "<b>A</b>" in f["properties"]["t"] for f in feats)
    html = m.get_root().render()
    from maps import style

    top = style.class_labels(registry.DENSITY_BREAKS, style.fmt_number)[-1]
    assert top in html                                                     # every class in the legend, present or not
    plain = planner_map({"province": province, "districts": bare})
    assert {f["properties"]["k"] for f in plain.bgplan_layers["districts_density"].data["features"]} == {"u"}


def test_site_verdicts_read_the_three_valued_verdict_and_explain_the_site():
    from maps.registry import _verdict_of, site_criteria, site_setting

    row = {"verdict": "ineligible", "eligible": "true", "s_minutes_to_trunk": 0.91, "minutes_to_trunk": 3.26,
           "s_people_within_30_min": 0.5, "people_within_30_min": None, "parcel": 72, "parcel_area_ha": 1188.0,
           "compactness": 0.49, "min_width_m": 300.0, "m_to_corridor_road": 28.0, "m_to_railway": 62.0,
           "m_to_settlement": 2039.0, "nearest_settlement": "Bích Động",
           "settlement_source": "bacgiang_places_osm2018_bbox03.geojson"}
    assert _verdict_of(row) == "fails"                             # the verdict column wins over eligible
    assert _verdict_of({"verdict": "unknown", "eligible": "true"}) == "unknown"
    assert _verdict_of({"eligible": "false"}) == "fails"           # older sites files
    assert site_criteria(row) == "minutes_to_trunk: 3.3 → 0.91 • people_within_30_min: 0.50"
    text = site_setting(row)
    assert "parcel 72 (1,188 ha)" in text and "corridor road 28 m" in text and "Bích Động, bacgiang_places_osm2018_bbox03.geojson" in text
