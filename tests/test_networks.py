"""Tests of layers.networks on the real Bắc Giang data.

Figures from SOURCES.md (roads section): the 2018 network has 57,548 nodes,
89,739 edges, 16,108 km, component 0 = 15,836 km (98.3 % of the length);
Dijkstra on length from a node 190 m from Bắc Giang city centre (106.195 E
21.273 N) reaches Kép at 19.8 km. Railways: Kép station 35–45 m from the track.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import yaml
from pyproj import Transformer
from scipy.spatial import cKDTree

import geo.settings
from geo.errors import InputError
from layers.corridors import corridors
from layers.networks import (DEFAULT_SPEED_MODEL, RAIL_EDGE_COLUMNS, RAIL_NODE_COLUMNS, ROAD_EDGE_COLUMNS,
                             ROAD_NODE_COLUMNS, rail_network, road_network, speed_model)
from layers.region import load_region

CITY = (106.195, 21.273)            # SOURCES.md sanity-check origin (190 m from the centre node)


@pytest.fixture(scope="module")
def corridor_layer(region):
    geo.settings.progress = False
    return corridors(region, network="2018")


@pytest.fixture(scope="module")
def road(region, corridor_layer):
    from layers.networks import NetworkOptions

    # the bare 2018 file with corridor labels only (today's network and class overlays: tests/test_validation.py)
    return road_network(region, corridor_layer=corridor_layer, options=NetworkOptions(network="2018", reference_classes=False))


@pytest.fixture(scope="module")
def graph(road):
    nodes, edges = road
    G = nx.Graph()
    order = edges.sort_values("travel_time_s", ascending=False)     # parallel edges: the fastest one wins
    for u, v, length, t, eid in zip(order["u"], order["v"], order["length_m"], order["travel_time_s"], order["edge_id"]):
        if G.has_edge(u, v) and G[u][v]["length"] <= length and G[u][v]["time"] <= t:
            continue
        G.add_edge(int(u), int(v), length=float(length), time=float(t), edge_id=int(eid))
    return G


def _nearest(nodes, lon, lat):
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(lon, lat)
    d, i = cKDTree(nodes[["x", "y"]].to_numpy()).query([x, y])
    return int(nodes["node_id"].iloc[i]), float(d)


# ----------------------------------------------------------------- structure and connectivity


def test_columns_and_crs(road):
    nodes, edges = road
    assert list(nodes.columns[:-1]) == ROAD_NODE_COLUMNS and list(edges.columns[:len(ROAD_EDGE_COLUMNS)]) == ROAD_EDGE_COLUMNS
    assert nodes.crs == "EPSG:4326" and edges.crs == "EPSG:4326"
    # x, y are UTM 48N metres; lon/lat degrees
    assert nodes["x"].between(500_000, 750_000).all() and nodes["y"].between(2_280_000, 2_440_000).all()
    assert nodes["lon"].between(105.5, 107.4).all() and nodes["lat"].between(20.5, 22.0).all()
    assert not edges["oneway"].any()
    np.testing.assert_allclose(edges["travel_time_s"], edges["length_m"] / (edges["speed_kmh"] / 3.6))
    assert edges["speed_source"].notna().all() and edges["edge_id"].is_unique
    summary = edges.attrs["summary"]
    assert summary["directed"] is False
    assert any("no road classes" in c for c in summary["caveats"])


def test_largest_component_share(road):
    """SOURCES: component 0 = 15,836 km of 16,108 km (98.3 %); the rest is reported, not silently lost."""
    nodes, edges = road
    comp = edges.attrs["summary"]["components"]
    assert comp["largest_share"] >= 0.98
    assert comp["largest_share"] == pytest.approx(0.983, abs=0.002)
    assert comp["largest_km"] == pytest.approx(15_836, rel=0.005)
    assert edges["length_m"].sum() / 1000 == pytest.approx(15_836, rel=0.005)
    assert comp["dropped"]["km"] == pytest.approx(16_108 - 15_836, rel=0.05)
    assert comp["dropped"]["components"] == comp["count"] - 1 > 0
    assert (nodes["component"] == 0).all() and (edges["component"] == 0).all()


def test_keep_all_is_the_whole_file(region, corridor_layer):
    from layers.networks import NetworkOptions

    nodes, edges = road_network(region, corridor_layer=corridor_layer, keep="all", options=NetworkOptions(network="2018"))
    # the file (SOURCES.md) plus the interchange ramps a source names and the geometry lost: 2 nodes and 3 edges each
    ramps = sum(item["ramps_added"] for item in edges.attrs["summary"]["interchanges_added"])
    assert ramps >= 1 and len(nodes) == 57_548 + 2 * ramps and len(edges) == 89_739 + 3 * ramps
    assert edges["length_m"].sum() / 1000 == pytest.approx(16_108, rel=0.002)
    assert edges["component"].nunique() == edges.attrs["summary"]["components"]["count"]


def test_gap_bridges_are_short_joins_and_reported(region, corridor_layer, road):
    nodes, edges = road_network(region, corridor_layer=corridor_layer, keep="all", bridge_gaps=True, bridge_m=25)
    bridges = edges[edges["speed_source"].str.startswith("gap bridge")]
    info = edges.attrs["summary"]["gap_bridges"]
    assert info["added"] == len(bridges) > 0
    assert bridges["length_m"].max() <= 25.0
    assert info["km"] == pytest.approx(bridges["length_m"].sum() / 1000, abs=0.001)
    before = road[1].attrs["summary"]["components"]["count"]
    assert edges.attrs["summary"]["components"]["count"] < before
    assert edges.attrs["summary"]["components"]["largest_share"] >= road[1].attrs["summary"]["components"]["largest_share"]
    assert (bridges["road_class"] == "unknown").all()


# ----------------------------------------------------------------- classes and speeds


def test_corridor_edges_get_national_speeds(road, corridor_layer):
    nodes, edges = road
    spec = yaml.safe_load(DEFAULT_SPEED_MODEL.read_text(encoding="utf-8"))["classes"]
    national = {spec["national"]["rural"]["kmh"], spec["national"]["urban"]["kmh"]}
    default = {spec["unknown"]["rural"]["kmh"], spec["unknown"]["urban"]["kmh"]}
    ql1a = edges[edges["corridor_id"].fillna("").str.contains("ql1a")]
    assert ql1a["length_m"].sum() / 1000 == pytest.approx(corridor_layer.set_index("corridor_id").loc["ql1a", "length_km"], rel=0.01)
    assert (ql1a["road_class"] == "national").all() and set(ql1a["speed_kmh"]) <= national
    # where a road labelled from waypoints shares QL1A (QL17, QL31, QL279 through TP Bắc Giang, Chi Lăng), both are named
    assert ql1a["speed_source"].str.match(r"corridor ql1a(;\w+)* \(map-matched(; waypoints)*\) → national").all()
    other = edges[edges["corridor_id"].isna()]
    assert (other["road_class"] == "unknown").all() and set(other["speed_kmh"]) <= default
    assert other["speed_source"].str.startswith("unclassified 2018 network edge → unknown").all()
    assert other["speed_source"].str.endswith("(assumption: class unknown)").all()
    km = edges.attrs["summary"]["km_by_class"]
    matched = corridor_layer.loc[corridor_layer["road_class"] == "national", "length_km"].sum()
    # every matched national road (QL1A, QL37, QL5 …); where two share an edge (QL17 and QL1A in TP Bắc Giang) the
    # corridors' lengths count it twice, the network once
    assert 0.9 * matched <= km["national"] <= 1.02 * matched
    assert matched > 183.2 + 56.0


def test_urban_setting_near_places(road):
    nodes, edges = road
    mid = edges.geometry.to_crs("EPSG:32648").interpolate(0.5, normalized=True)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(106.19388, 21.27793)
    d = np.hypot(mid.x - x, mid.y - y)
    assert (edges.loc[d.to_numpy() < 2_500, "setting"] == "urban").all()     # inside the 3 km of the city place
    ql1a = edges[edges["corridor_id"].fillna("").str.contains("ql1a")]
    assert set(ql1a["setting"]) == {"urban", "rural"}
    s = edges.attrs["summary"]["setting"]
    assert s["urban_km"] + s["rural_km"] == pytest.approx(15_836, rel=0.002)  # the kept component (SOURCES)


def test_bac_giang_to_kep_by_road(road, graph, region):
    """SOURCES: 19.8 km by road; the time is the sum of length / speed along the fastest path."""
    nodes, edges = road
    origin, d0 = _nearest(nodes, *CITY)
    kep = region.destinations().set_index("key").loc["kep_station"].geometry
    target, d1 = _nearest(nodes, kep.x, kep.y)
    assert d0 < 250 and d1 < 500
    km = nx.dijkstra_path_length(graph, origin, target, weight="length") / 1000
    assert km == pytest.approx(19.8, abs=0.7)

    path = nx.dijkstra_path(graph, origin, target, weight="time")
    ids = [graph[a][b]["edge_id"] for a, b in zip(path[:-1], path[1:])]
    on_path = edges.set_index("edge_id").loc[ids]
    seconds = float((on_path["length_m"] / (on_path["speed_kmh"] / 3.6)).sum())
    assert seconds == pytest.approx(nx.dijkstra_path_length(graph, origin, target, weight="time"))
    path_km = on_path["length_m"].sum() / 1000
    assert km <= path_km <= 1.2 * km
    assert path_km / 60 * 3600 <= seconds <= path_km / 25 * 3600           # between the fastest and slowest class speed
    assert 20 * 60 <= seconds <= 40 * 60                                     # a plausible 20–40 min drive
    assert on_path["corridor_id"].fillna("").str.contains("ql1a").any()     # uses QL1A

    from geo.routing.multimodal import router_arrays
    from geo.routing.router import Router

    router = Router.from_arrays(**router_arrays(nodes, edges))
    t = router.travel_times(router.index_of([origin]), router.index_of([target]))[0, 0]
    assert t == pytest.approx(seconds)


# ----------------------------------------------------------------- OSM input


def test_from_osm_tags(region, shared_data):
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "bac_giang_tagging.osm"
    nodes, edges = road_network(region, osm=fixture)
    assert edges.attrs["summary"]["directed"] is True
    by_name = edges.groupby("name").first()
    assert by_name.loc["Quốc lộ 37", "road_class"] == "national"            # highway=primary, ref QL37 wins
    assert by_name.loc["Quốc lộ 37", "corridor_id"] == "ql37"
    ql1a = by_name.loc["Quốc lộ 1A"]
    assert bool(ql1a["oneway"]) and "maxspeed=" in ql1a["speed_source"]
    link = by_name.loc["Nhánh nối cao tốc Hà Nội – Lạng Sơn"]
    assert link["road_class"] == "expressway" and "link" in link["speed_source"]
    assert link["speed_kmh"] < speed_model(region).speed("expressway", "rural").kmh
    assert set(edges["u"]) | set(edges["v"]) <= set(nodes["node_id"])


# ----------------------------------------------------------------- speed model lookup


def test_speed_model_default_and_missing(region, tmp_path, shared_data):
    assert "speed_model" not in region.config or region.config["speed_model"] == "models/speeds-vn.yaml"
    assert speed_model(region).source == str(DEFAULT_SPEED_MODEL)
    bad = tmp_path / "r.yaml"
    bad.write_text("extends: bac-giang\nspeed_model: nope.yaml\n", encoding="utf-8")
    with pytest.raises(InputError, match="nope.yaml"):
        speed_model(load_region(bad, data_dir=shared_data))
    good = tmp_path / "g.yaml"
    good.write_text("extends: bac-giang\nspeed_model: models/speeds-vn.yaml\n", encoding="utf-8")
    assert speed_model(load_region(good, data_dir=shared_data)).source == str(DEFAULT_SPEED_MODEL)


# ----------------------------------------------------------------- rail


def test_rail_network_and_stations(region):
    nodes, edges = rail_network(region)
    assert list(nodes.columns[:-1]) == RAIL_NODE_COLUMNS and list(edges.columns[:-1]) == RAIL_EDGE_COLUMNS
    kep = nodes[nodes["station_name"] == "Kép"]
    assert len(kep) == 1 and kep["station_snap_m"].item() < 100               # 35–45 m from the track
    assert {"Bắc Giang", "Phố Tráng", "Kép", "Sen Hồ", "Bảo Sơn", "Lan Mẫu", "Cẩm Lý", "Đồng Đăng"} <= set(nodes["station_name"].dropna())
    summary = edges.attrs["summary"]
    assert summary["track_km"] == pytest.approx(edges["length_m"].sum() / 1000, abs=0.1)
    assert all(s["reason"].startswith("farther than") for s in summary["stations_not_attached"])
    assert "Cầu Giấy" in {s["name"] for s in summary["stations_not_attached"]}   # a Hà Nội metro station
    assert (edges["speed_kmh"] == 40).all() and edges["speed_source"].str.contains("assumption").all()
    assert edges["name"].eq("Đường sắt Hà Nội - Đồng Đăng").any()

    w_nodes, w_edges = rail_network(region, extent="window")
    assert "Đồng Đăng" not in set(w_nodes["station_name"].dropna())            # 21.943 N: outside the window
    assert "Kép" in set(w_nodes["station_name"].dropna())
    assert w_edges["length_m"].sum() / 1000 == pytest.approx(606.8, rel=0.01)  # logistics.railways: track in window
