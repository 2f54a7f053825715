"""Tests of layers.corridors: map-matched build on the real data, planned lines, OSM tags.

Real-data expectations (SOURCES.md, transport section): the reference layer has
Quốc lộ 1A (and a piece named "Quốc lộ 1") and Quốc lộ 37 near Bắc Giang, but no
QL17, no QL31 near Bắc Giang, no CT.01 and no Ring Road IV/V; "Tỉnh lộ 279" is a
provincial road. The whole build must take well under 30 s.
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

import geo.settings
from geo.errors import InputError
from layers.corridors import COLUMNS, corridor_edges, corridors

CT01_NAME = "Cao tốc Hà Nội – Lạng Sơn (CT.01)"


@pytest.fixture(scope="session")
def scenario_file(tmp_path_factory):
    """Planned lines: CT.01 in two pieces (Bắc Giang → Lạng Sơn, roughly), a new industrial road, a QL1A upgrade."""
    path = tmp_path_factory.mktemp("scenario") / "planned.geojson"
    gpd.GeoDataFrame({
        "name": [CT01_NAME, CT01_NAME, "Đường vào KCN Yên Lư", "Quốc lộ 1A"],
        "road_class": ["expressway", "expressway", None, "national"],
        "design_speed_kmh": [100, 100, None, 80],
    }, geometry=[
        LineString([(106.10, 21.20), (106.20, 21.28)]),
        LineString([(106.20, 21.28), (106.30, 21.42)]),
        LineString([(106.16, 21.21), (106.17, 21.22)]),
        LineString([(106.20, 21.27), (106.22, 21.29)]),
    ], crs="EPSG:4326").to_file(path)
    return path


@pytest.fixture(scope="session")
def built(region, scenario_file):
    geo.settings.progress = False
    started = time.perf_counter()
    layer = corridors(region, scenario_files=[scenario_file], network="2018")   # the bare 2018 file: no CT.01
    return layer, time.perf_counter() - started


@pytest.fixture(scope="session")
def today(region):
    geo.settings.progress = False
    return corridors(region)                        # default: today's network (2018 file + roads opened since)


def test_columns_crs_and_speed(built):
    layer, seconds = built
    assert list(layer.columns) == COLUMNS + ["geometry"]
    assert layer.crs.to_epsg() == 4326
    assert set(layer.geometry.geom_type) == {"MultiLineString"}
    assert layer.corridor_id.is_unique
    assert seconds < 30


def test_ql1a_and_ql37_are_map_matched(built):
    layer, _ = built
    existing = layer[layer.status == "existing"].set_index("corridor_id")
    assert set(existing.index[existing.programme]) == {"ql1a", "ql37", "ql31", "ql17", "ql279"}
    assert set(existing.index[existing["method"] == "map_matched"]) >= {"ql1a", "ql5", "ql3"}
    # QL31, QL17, QL279 have no line in the reference layer: labelled from sourced waypoints (QL37 from both)
    assert set(existing.index[existing["method"].str.contains("waypoints")]) >= {"ql31", "ql17", "ql279", "ql37", "ct04"}
    # Other national roads of the reference are labelled too, for their speed only.
    assert set(existing.index[~existing.programme]) == {"ql5", "ql18", "ql3", "ql1b", "ql10", "ql38", "ct04", "tan_vu_lach_huyen"}
    assert set(existing.method) == {"map_matched", "waypoints", "map_matched, waypoints"}
    for cid in ("ql1a", "ql37"):
        row = existing.loc[cid]
        assert row.matched_share >= 0.9
    assert existing.loc["ql1a", "length_km"] == pytest.approx(existing.loc["ql1a", "reference_length_km"], rel=0.15)
    # QL37: the reference's 56 km (Việt Yên – Thái Nguyên) and the Lục Nam section from waypoints
    assert existing.loc["ql37", "length_km"] > existing.loc["ql37", "reference_length_km"] + 20
    assert existing.loc["ql1a", "name_vi"] == "Quốc lộ 1A" and existing.loc["ql1a", "road_class"] == "national"
    # QL1A inside the region window: most of the 201 km reference (the part south of Hà Nội lies outside)
    assert 150 < existing.loc["ql1a", "reference_length_km"] < 201
    assert "Quốc lộ 1" in existing.loc["ql1a", "note"]       # the piece named "Quốc lộ 1" belongs to QL1A


def test_missing_corridors_are_reported_not_guessed(built):
    layer, _ = built
    summary = layer.attrs["summary"]
    missing = {item["corridor_id"]: item["reason"] for item in summary["not_found"]}
    # CT.01 is absent from the evidence but added as a planned line by the fixture: reported as planned, not "not found".
    assert set(missing) == {"ring4", "ring5"}
    assert "ct01" in summary["planned"]
    # QL279 is not the reference's 'Tỉnh lộ 279' (an ignored look-alike): it comes from sourced waypoints
    assert layer.set_index("corridor_id").loc["ql279", "method"] == "waypoints"
    assert summary["corridors"]["ql1a"]["method"] == "map_matched"
    assert summary["network"]["edges"] == 89_739
    # QL1A inside the province: the reference runs 37.6 km there (GADM outline)
    assert summary["corridors"]["ql1a"]["in_region_km"] == pytest.approx(37.6, rel=0.1)
    import json
    json.dumps(summary)                                          # plain values only


def test_today_reports_ct01_as_an_existing_opened_road(today, built):
    summary = today.attrs["summary"]
    assert {item["corridor_id"] for item in summary["not_found"]} == {"ring4", "ring5"}
    assert summary["network_choice"] == "today"
    row = today.set_index("corridor_id").loc["ct01"]
    assert (row.status, row.method, row.alignment, row.road_class) == ("existing", "opened_road", "indicative", "expressway")
    assert row.programme and row.length_km == pytest.approx(64.0)     # the official length of the file
    assert "vnexpress.net" in row.source and "2020-01-14" in row.note
    assert summary["corridors"]["ct01"]["alignment"] == "indicative"
    assert 10 < summary["corridors"]["ct01"]["in_region_km"] < 64    # part of it runs in Lạng Sơn
    assert set(corridor_edges(today).corridor_id) == set(corridor_edges(built[0]).corridor_id)   # no 2018 edge is CT.01
    assert today.loc[today.method != "opened_road", "alignment"].isna().all()
    # --network 2018: the bare file has no CT.01
    assert "ct01" in {item["corridor_id"] for item in built[0].attrs["summary"]["not_found"]} | set(built[0].attrs["summary"]["planned"])
    assert "ct01" not in set(built[0].loc[built[0].status == "existing", "corridor_id"])


def test_a_planned_line_for_an_opened_road_gets_its_own_id(region, scenario_file):
    layer = corridors(region, scenario_files=[scenario_file])
    planned = layer[layer.status == "planned"].set_index("corridor_id")
    assert "ct01_planned" in planned.index and layer.set_index("corridor_id").loc["ct01", "status"] == "existing"


def test_edge_labels_point_at_real_network_edges(built, shared_data):
    layer, _ = built
    labels = corridor_edges(layer)
    assert list(labels.columns) == ["edge_id", "corridor_id"]
    assert set(labels.corridor_id) == {"ql1a", "ql37", "ql5", "ql18", "ql3", "ql1b", "ql10",
                                       "ql31", "ql17", "ql279", "ql38", "ct04", "tan_vu_lach_huyen"}
    edges = gpd.read_file(shared_data / "bacgiang_roads_osm2018_bbox03.gpkg", layer="edges",
                          columns=["edge_id", "length_m"], engine="pyogrio")
    known = edges.set_index("edge_id")
    assert labels.edge_id.isin(known.index).all()
    km = labels.assign(length=known.length_m.reindex(labels.edge_id).to_numpy()).groupby("corridor_id").length.sum() / 1000
    row = layer.set_index("corridor_id")
    assert km["ql1a"] == pytest.approx(row.loc["ql1a", "length_km"], abs=0.01)
    # attrs survive concatenation (plain lists, not a DataFrame)
    pd.concat([layer, layer])


def test_planned_lines_from_a_scenario_file(built):
    layer, _ = built
    planned = layer[layer.status == "planned"].set_index("corridor_id")
    assert set(planned.method) == {"scenario_file"}
    assert set(planned.index) == {"ct01", "planned_duong_vao_kcn_yen_lu", "ql1a_planned"}
    ct01 = planned.loc["ct01"]
    assert ct01.road_class == "expressway" and ct01.design_speed_kmh == 100
    expected_km = gpd.GeoSeries([LineString([(106.10, 21.20), (106.20, 21.28), (106.30, 21.42)])],
                                crs="EPSG:4326").to_crs("EPSG:32648").length.iloc[0] / 1000
    assert ct01.length_km == pytest.approx(expected_km, rel=1e-3)
    assert len(ct01.geometry.geoms) == 1                          # the two pieces are joined
    road = planned.loc["planned_duong_vao_kcn_yen_lu"]
    assert pd.isna(road.road_class) and np.isnan(road.design_speed_kmh)
    assert "road_class not given" in road.note
    assert np.isnan(ct01.reference_length_km) and np.isnan(ct01.matched_share)
    assert layer.attrs["summary"]["planned"] == ["ct01", "planned_duong_vao_kcn_yen_lu", "ql1a_planned"]


def test_bad_scenario_files_fail_fast_with_one_line(region, tmp_path):
    no_name = tmp_path / "no_name.geojson"
    gpd.GeoDataFrame({"label": ["x"]}, geometry=[LineString([(106.1, 21.2), (106.2, 21.3)])], crs="EPSG:4326").to_file(no_name)
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(106.1, 21.2)], crs="EPSG:4326").to_file(points)
    wrong_crs = tmp_path / "vn2000_as_degrees.geojson"      # VN-2000 metres declared as degrees lie nowhere near
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[LineString([(450000, 2350000), (460000, 2360000)])], crs="EPSG:4326").to_file(wrong_crs)
    unnamed = tmp_path / "unnamed.geojson"
    gpd.GeoDataFrame({"name": ["CT.01", None]}, geometry=[LineString([(106.1, 21.2), (106.2, 21.3)])] * 2,
                     crs="EPSG:4326").to_file(unnamed)
    for path, message in ((no_name, "'name' column"), (points, "must be lines"), (wrong_crs, "outside the region|not degrees"),
                          (unnamed, "1 line\\(s\\) without a name")):
        started = time.perf_counter()
        with pytest.raises(InputError, match=message) as err:
            corridors(region, scenario_files=[path])
        assert str(path) in str(err.value) and "\n" not in str(err.value)
        assert time.perf_counter() - started < 2                  # before any map-matching


def test_osm_tags_label_corridors_by_ref_and_name(region):
    ways = gpd.GeoDataFrame({
        "osmid": [11, 12, [13, 14], 15, 16, 17],
        "ref": ["QL.1A", "QL1A", None, None, "CT.01;AH1", "QL31"],
        "name": [None, "Quốc lộ 1A", "Quốc lộ 37", "Tỉnh lộ 279", None, None],
    }, geometry=[
        LineString([(106.10, 21.20), (106.15, 21.25)]),
        LineString([(106.15, 21.25), (106.20, 21.27)]),
        LineString([(106.05, 21.30), (106.10, 21.27)]),
        LineString([(106.30, 21.50), (106.35, 21.52)]),
        LineString([(106.12, 21.22), (106.25, 21.35)]),
        LineString([(105.00, 22.80), (105.05, 22.85)]),     # Hà Giang: outside the region window
    ], crs="EPSG:4326")
    layer = corridors(region, osm_edges=ways)
    rows = layer.set_index("corridor_id")
    assert set(rows.index) == {"ql1a", "ql37", "ct01"}
    assert set(rows.method) == {"osm_tags"} and set(rows.status) == {"existing"}
    assert rows.loc["ct01", "road_class"] == "expressway"     # expressway first: CT.01;AH1 is not QL1A
    expected = ways.iloc[:2].to_crs("EPSG:32648").length.sum() / 1000
    assert rows.loc["ql1a", "length_km"] == pytest.approx(expected, abs=0.001)
    assert np.isnan(rows.loc["ql1a", "reference_length_km"])
    missing = {item["corridor_id"] for item in layer.attrs["summary"]["not_found"]}
    assert {"ql279", "ql31", "ql17", "ring4", "ring5", "ql5", "ql18", "ql3", "ql1b", "ql10", "ql38", "ct04",
            "tan_vu_lach_huyen"} == missing
    labels = corridor_edges(layer).sort_values("edge_id")
    assert labels.values.tolist() == [[11, "ql1a"], [12, "ql1a"], [13, "ql37"], [16, "ct01"]]


def test_osm_edges_without_tags_are_refused(region):
    ways = gpd.GeoDataFrame({"highway": ["trunk"]}, geometry=[LineString([(106.1, 21.2), (106.2, 21.3)])], crs="EPSG:4326")
    with pytest.raises(InputError, match="'ref' or 'name'"):
        corridors(region, osm_edges=ways)
