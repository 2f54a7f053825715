"""Tests of geo.routing.speeds and of the shipped speed model layers/regions/models/speeds-vn.yaml.

Legal limits checked against Circular 31/2019/TT-BGTVT: in populated areas at
most 60 km/h (divided) / 50 km/h (undivided); outside them, for cars, 90 / 80
km/h; expressways at most 120 km/h. Bắc Giang–Lạng Sơn expressway design
speed 100 km/h (VnExpress 2019-08-25, 2020-01-14).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo.errors import InputError
from geo.routing.speeds import (SpeedModel, classify_unattributed, edge_speeds, load_speed_model, osm_road_classes,
                        parse_maxspeed, travel_time_s, urban_setting)

MODEL_FILE = Path(__file__).resolve().parent.parent / "layers" / "regions" / "models" / "speeds-vn.yaml"


@pytest.fixture(scope="module")
def model() -> SpeedModel:
    return load_speed_model(MODEL_FILE)


# ----------------------------------------------------------------- the shipped model


def test_every_speed_states_its_basis(model):
    table = model.table()
    assert len(table) >= 2 * len(model.classes)
    assert table["basis"].str.strip().str.len().gt(0).all()
    operating = table[table["setting"].isin(["rural", "urban", "link"])]
    assert operating["speed_kmh"].between(5, 130).all()
    # speeds below a legal limit are assumptions and must say so
    assert operating["basis"].str.contains("assum").all()


def test_model_respects_the_legal_limits(model):
    """Operating speeds never exceed TT 31/2019 limits: 120 on expressways, 90 outside / 60 inside populated areas."""
    assert model.speed("expressway", "rural").kmh <= 100          # CT.01 design speed
    assert model.speed("expressway", "urban").kmh <= 120
    for name in model.classes:
        if name == "expressway":
            continue
        assert model.speed(name, "rural").kmh <= 90, name
        assert model.speed(name, "urban").kmh <= 60, name
        assert model.speed(name, "urban").kmh <= model.speed(name, "rural").kmh, name
        limit = model.classes[name].get("legal_limit")
        if limit is not None:
            assert model.speed(name, "rural").kmh <= limit.kmh, name


def test_class_order_and_links(model):
    order = ["expressway", "national", "provincial", "district", "commune", "local"]
    rural = [model.speed(c, "rural").kmh for c in order]
    assert rural == sorted(rural, reverse=True)
    for name in ("expressway", "national", "provincial", "district"):
        assert model.speed(name, "rural", link=True).kmh < model.speed(name, "rural").kmh, name
    assert model.speed("national", "rural").kmh > model.speed(model.default_class, "rural").kmh
    assert model.default_class == "unknown"


def test_model_covers_osm_drive_classes(model):
    for highway in ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
                    "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "living_street",
                    "service", "track"):
        assert highway in model.highway_classes, highway
    assert model.ref_classes["QL"] == "national" and model.ref_classes["CT"] == "expressway"
    assert model.ref_classes["DT"] == "provincial"


def test_model_sections_for_networks(model):
    assert model.raw["rail"]["speed_kmh"] == 40
    assert 30 <= model.raw["transfer"]["transfer_min"] <= 60
    assert model.raw["network"]["gap_bridge_m"] == 25
    assert model.urban_radius_m["city"] == 3000 and model.urban_radius_m["town"] == 1500


# ----------------------------------------------------------------- bad models


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_speed_without_basis_is_refused(tmp_path):
    path = _write(tmp_path, "classes:\n  unknown:\n    rural: {kmh: 30}\n    urban: {kmh: 25, basis: assumed}\n")
    with pytest.raises(InputError) as err:
        load_speed_model(path)
    assert str(path) in str(err.value) and "basis" in str(err.value) and "\n" not in str(err.value)


def test_bare_number_and_unknown_class_are_refused(tmp_path):
    with pytest.raises(InputError, match="kmh"):
        load_speed_model(_write(tmp_path, "classes:\n  unknown:\n    rural: 30\n    urban: 25\n"))
    with pytest.raises(InputError, match="unknown class 'motorway'"):
        load_speed_model(_write(tmp_path, "classes:\n  unknown:\n    rural: {kmh: 30, basis: a}\n    urban: {kmh: 25, basis: a}\n"
                                          "highway_classes: {motorway: motorway}\n"))
    with pytest.raises(InputError, match="not found"):
        load_speed_model(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="YAML"):
        load_speed_model(_write(tmp_path, "classes: [unclosed\n"))


# ----------------------------------------------------------------- tags


def test_parse_maxspeed_units_and_sanity():
    out = parse_maxspeed(pd.Series(["60", "60 km/h", "30 mph", "50;60", "4", "131", "none", "VN:urban", None, "80 kmh"]))
    kmh = out["maxspeed_kmh"].to_numpy()
    assert kmh[0] == 60 and kmh[1] == 60 and kmh[9] == 80
    assert kmh[2] == pytest.approx(48.28, abs=0.01)          # 30 mph
    assert kmh[3] == 55                                      # merged ways: mean
    assert np.isnan(kmh[4:9]).all()                          # < 5, > 130, words, missing
    assert out["maxspeed_note"].iloc[0] is None
    assert "outside 5–130" in out["maxspeed_note"].iloc[4] and "outside 5–130" in out["maxspeed_note"].iloc[5]
    assert "not a speed" in out["maxspeed_note"].iloc[7]


def test_ref_beats_highway_and_links(model):
    edges = pd.DataFrame({
        "highway": ["primary", "trunk", "motorway_link", "secondary", "footway", None, "trunk"],
        "ref": ["QL37", None, "CT.01", "ĐT.398", None, None, "AH1"],
    })
    out = osm_road_classes(edges, model)
    assert out["road_class"].tolist() == ["national", "national", "expressway", "provincial", "unknown", "unknown", "national"]
    assert out["link"].tolist() == [False, False, True, False, False, False, False]
    assert out["class_source"].iloc[0] == "ref QL37"
    assert "not in the model" in out["class_source"].iloc[4]


def test_edge_speeds_links_maxspeed_and_sources(model):
    edges = pd.DataFrame({
        "highway": ["trunk", "trunk_link", "motorway", "motorway_link", "residential", "trunk"],
        "ref": [None, None, "CT.01", None, None, None],
        "maxspeed": [None, None, None, None, None, "80"],
    })
    out = edge_speeds(edges, model, setting="rural")
    nat = model.speed("national", "rural").kmh
    assert out["speed_kmh"].iloc[0] == nat
    assert out["speed_kmh"].iloc[1] < nat                        # link slower
    assert out["speed_kmh"].iloc[2] == model.speed("expressway", "rural").kmh
    assert out["speed_kmh"].iloc[3] < out["speed_kmh"].iloc[2]
    assert out["speed_kmh"].iloc[5] == pytest.approx(80 * model.maxspeed_factor)
    assert out["speed_source"].iloc[0] == f"highway=trunk → national rural {nat:g} km/h (assumed operating speed)"
    assert "maxspeed=80 (OSM)" in out["speed_source"].iloc[5]
    urban = edge_speeds(edges.iloc[:1], model, setting="urban")
    assert urban["speed_kmh"].iloc[0] == model.speed("national", "urban").kmh < nat


def test_setting_must_be_urban_or_rural(model):
    with pytest.raises(ValueError):
        edge_speeds(pd.DataFrame({"highway": ["trunk"]}), model, setting="suburban")


def test_unattributed_network_classes(model):
    labels = pd.DataFrame({"edge_id": [10, 11, 11, 12], "corridor_id": ["ql1a", "ql1a", "ql37", "mystery"]})
    cls = classify_unattributed([9, 10, 11, 12], labels, {"ql1a": "national", "ql37": "national"}, model)
    assert cls["road_class"].tolist() == ["unknown", "national", "national", "unknown"]
    assert cls["corridor_id"].tolist() == [None, "ql1a", "ql1a;ql37", "mystery"]
    out = edge_speeds(cls, model, setting=["rural", "rural", "urban", "rural"])
    assert out["speed_source"].iloc[0] == "unclassified 2018 network edge → unknown rural 30 km/h (assumption: class unknown)"
    assert out["speed_source"].iloc[1] == "corridor ql1a (map-matched) → national rural 60 km/h (assumed operating speed)"
    assert out["speed_kmh"].tolist() == [30.0, 60.0, 40.0, 30.0]
    assert "not in the speed model" in out["speed_source"].iloc[3]


def test_urban_setting_radius_by_class():
    places = gpd.GeoDataFrame({"fclass": ["city", "town", "village"]},
                              geometry=[Point(0, 0), Point(20_000, 0), Point(40_000, 0)], crs="EPSG:32648")
    lines = [LineString([(2900, 0), (2950, 0)]),       # mid-point 2925 m from the city: urban (3 km)
             LineString([(3100, 0), (3200, 0)]),       # 3150 m: rural
             LineString([(21_400, 0), (21_450, 0)]),   # 1425 m from the town: urban (1.5 km)
             LineString([(21_600, 0), (21_700, 0)]),   # 1650 m: rural
             LineString([(40_000, 0), (40_010, 0)])]   # on a village: villages are not urban
    out = urban_setting(lines, places, {"city": 3000, "town": 1500})
    assert out.tolist() == ["urban", "rural", "urban", "rural", "rural"]


def test_travel_time():
    assert travel_time_s(19_800.0, 60.0) == pytest.approx(1188.0)
    assert np.isnan(travel_time_s([1.0], [np.nan])).all()


# ----------------------------------------------------------------- real OSM tags


def test_speeds_on_real_osm_tags(liechtenstein_pbf, model):
    """Every drive-network way of a real extract gets a sane speed; tagged maxspeed is used where sane."""
    from geo.io.osm import read_osm_roads

    _, edges = read_osm_roads(liechtenstein_pbf)
    out = edge_speeds(edges, model, setting="rural")
    assert out["speed_kmh"].between(5, 130).all()
    assert not out["speed_source"].str.contains("not in the model").any()
    posted = parse_maxspeed(edges["maxspeed"])
    used = posted["maxspeed_kmh"].notna().to_numpy()
    assert used.sum() > 500                                   # 472 × "50", 118 × "30" … in the 2013 extract
    np.testing.assert_allclose(out["speed_kmh"].to_numpy()[used], posted["maxspeed_kmh"].to_numpy()[used] * model.maxspeed_factor)
    assert out["speed_source"].to_numpy()[used].astype(str).tolist()[0].count("maxspeed=") == 1
    untagged = ~used & (edges["highway"] == "residential").to_numpy()
    assert (out["speed_kmh"].to_numpy()[untagged] == model.speed("local", "rural").kmh).all()


# ----------------------------------------------------------------- the truck model

TRUCK_FILE = MODEL_FILE.with_name("speeds-vn-truck.yaml")


def test_truck_model_keeps_to_the_legal_limits_of_a_tractor_trailer_and_cites_them():
    """Circular 31/2019/TT-BGTVT Art. 7 and Circular 38/2024/TT-BGTVT Art. 6: a tractor with semi-trailer outside
    populated areas at most 70 km/h on divided and 60 on undivided roads; 60 / 50 inside them."""
    truck, car = load_speed_model(TRUCK_FILE), load_speed_model(MODEL_FILE)
    refs = " ".join(truck.raw["references"].values())
    for text in ("31/2019/TT-BGTVT", "38/2024/TT-BGTVT", "Article 6", "Article 7", "15/10/2019", "1 Jan 2025"):
        assert text in refs, text
    assert truck.vehicle == "tractor with semi-trailer" and truck.vehicle_max_kmh == 80 and truck.vehicle_basis
    for name in truck.classes:
        for setting in ("rural", "urban"):
            assert truck.speed(name, setting).kmh <= car.speed(name, setting).kmh, (name, setting)
        if name != "expressway":
            assert truck.speed(name, "rural").kmh <= 70 and truck.speed(name, "urban").kmh <= 60, name
    assert truck.classes["national"]["legal_limit"].kmh == 70


def test_vehicle_cap_beats_a_posted_limit(model):
    truck = load_speed_model(TRUCK_FILE)
    edges = pd.DataFrame({"road_class": ["expressway", "national"], "link": False, "class_source": "x",
                          "maxspeed": ["120", None]})
    car_speed = edge_speeds(edges, model, "rural")
    truck_speed = edge_speeds(edges, truck, "rural")
    assert car_speed["speed_kmh"].tolist() == [102.0, 60.0]                 # 0.85 × the posted 120
    assert truck_speed["speed_kmh"].tolist() == [80.0, 50.0]
    assert "capped at 80 km/h for a tractor with semi-trailer" in truck_speed["speed_source"].iloc[0]


def test_vehicle_cap_needs_its_basis(tmp_path):
    import yaml

    data = yaml.safe_load(TRUCK_FILE.read_text(encoding="utf-8"))
    data["vehicle"]["basis"] = ""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="vehicle.max_kmh needs its basis"):
        load_speed_model(path)
