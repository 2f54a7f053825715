"""Tests of geo.routing.multimodal: rail entered only at stations, expressways only at interchanges.

Hand-made networks check the rules; the real data check the rail distances of
SOURCES.md (OSM 2018 railways: Kép → Đồng Đăng 92.8 km, Bắc Giang → Kép 19.7 km
of track between the HOT station points).
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

import geo.settings
from geo.errors import InputError
from geo.routing.multimodal import (connect_layers, controlled_access, insert_points, multimodal_edges, router_arrays,
                            to_graph)
from geo.routing.speeds import travel_time_s


def _line_network(xs, y=0.0, speed_kmh=50.0, start_id=0):
    """Nodes along y at the given x (metres) and edges between consecutive ones."""
    ids = np.arange(start_id, start_id + len(xs))
    nodes = pd.DataFrame({"node_id": ids, "x": np.asarray(xs, float), "y": y})
    length = np.diff(np.asarray(xs, float))
    edges = pd.DataFrame({"edge_id": np.arange(len(length)), "u": ids[:-1], "v": ids[1:], "length_m": length,
                          "travel_time_s": travel_time_s(length, speed_kmh)})
    return nodes, edges


def _fastest(nodes, edges, a, b):
    G = to_graph(nodes, edges)
    path = nx.dijkstra_path(G, a, b, weight="travel_time")
    time = nx.dijkstra_path_length(G, a, b, weight="travel_time")
    modes = {d["mode"] for u, v in zip(path[:-1], path[1:]) for d in [min(G[u][v].values(), key=lambda e: e["travel_time"])]}
    return time, path, modes


# ----------------------------------------------------------------- road vs rail on a hand-made corridor


@pytest.fixture()
def corridor():
    """100 km of road at 50 km/h (120 min); a parallel railway 100 m away at 80 km/h (75 min).

    Road and rail have nodes every 10 km at the same x; stations only at both ends.
    """
    xs = np.arange(0, 100_001, 10_000)
    road_nodes, road_edges = _line_network(xs, y=0.0, speed_kmh=50.0)
    rail_nodes, rail_edges = _line_network(xs, y=100.0, speed_kmh=80.0)
    stations = pd.DataFrame({"node_id": [0, 10], "name": ["A", "B"]})
    return road_nodes, road_edges, rail_nodes, rail_edges, stations


@pytest.mark.parametrize("transfer_min, rail_wins", [(15, True), (20, True), (25, False), (40, False)])
def test_rail_only_when_saving_exceeds_transfer(corridor, transfer_min, rail_wins):
    road_nodes, road_edges, rail_nodes, rail_edges, stations = corridor
    nodes, edges = multimodal_edges(road_nodes, road_edges, rail_nodes, rail_edges, stations, transfer_min=transfer_min,
                                    access_kmh=10.0)
    time, path, modes = _fastest(nodes, edges, 0, 10)
    road_only = 100_000 / (50 / 3.6)
    access = 2 * 100 / (10 / 3.6)
    via_rail = 100_000 / (80 / 3.6) + 2 * transfer_min * 60 + access
    # rail saves 45 min; two transfers of transfer_min plus 2 × 36 s of access legs are paid
    assert rail_wins == (via_rail < road_only)
    assert time == pytest.approx(min(road_only, via_rail))
    assert ("rail" in modes) == rail_wins
    if rail_wins:
        assert modes == {"rail", "transfer"}


def test_rail_never_entered_between_stations(corridor):
    """Road and rail nodes share x every 10 km, but the train can be boarded only at A and B."""
    road_nodes, road_edges, rail_nodes, rail_edges, stations = corridor
    nodes, edges = multimodal_edges(road_nodes, road_edges, rail_nodes, rail_edges, stations, transfer_min=0,
                                    access_kmh=10.0)
    # from km 10 to km 90: without the station rule a free transfer at km 10 would win (80 km at 80 instead of 50)
    time, path, modes = _fastest(nodes, edges, 1, 9)
    road_only = 80_000 / (50 / 3.6)
    via_stations = (10_000 / (50 / 3.6)) * 2 + 100_000 / (80 / 3.6) + 2 * 36.0   # back to A, train, back from B
    assert via_stations > road_only
    assert modes == {"road"} and time == pytest.approx(road_only)
    # rail nodes touch the road only at the two stations
    transfer = edges[edges["mode"] == "transfer"]
    rail_ids = set(nodes.loc[nodes["mode"] == "rail", "node_id"])
    assert len(transfer) == 2
    assert set(transfer["u"]) == set(nodes.loc[nodes["access_name"].isin(["A", "B"]), "node_id"])
    mixed = edges[(edges["u"].isin(rail_ids)) != (edges["v"].isin(rail_ids))]
    assert (mixed["mode"] == "transfer").all()


def test_ids_mapping_and_directed(corridor):
    road_nodes, road_edges, rail_nodes, rail_edges, stations = corridor
    nodes, edges = multimodal_edges(road_nodes, road_edges, rail_nodes, rail_edges, stations, transfer_min=30)
    assert nodes["node_id"].is_unique
    rail = nodes[nodes["mode"] == "rail"]
    offset = edges.attrs["summary"]["offsets"]["rail"]
    assert (rail["node_id"] - rail["source_node_id"] == offset).all()
    assert edges["edge_id"].tolist() == list(range(len(edges)))
    _, d_edges = multimodal_edges(road_nodes, road_edges, rail_nodes, rail_edges, stations, transfer_min=30, directed=True)
    assert (d_edges["mode"] == "rail").sum() == 2 * (edges["mode"] == "rail").sum()
    assert (d_edges["mode"] == "road").sum() == (edges["mode"] == "road").sum()
    # string ids get a prefix
    s_nodes, _ = multimodal_edges(road_nodes.assign(node_id=road_nodes["node_id"].astype(str)),
                                  road_edges.assign(u=road_edges["u"].astype(str), v=road_edges["v"].astype(str)),
                                  rail_nodes, rail_edges, stations, transfer_min=30)
    assert "rail:0" in set(s_nodes["node_id"])


def test_station_without_road_is_reported(corridor):
    road_nodes, road_edges, rail_nodes, rail_edges, _ = corridor
    far = pd.DataFrame({"node_id": [0, 10, 99], "name": ["A", "B", "Nowhere"]})
    rail_far = rail_nodes.copy()
    rail_far.loc[rail_far["node_id"] == 10, "y"] = 50_000.0
    _, edges = multimodal_edges(road_nodes, road_edges, rail_far, rail_edges, far, transfer_min=30, max_access_m=2000)
    reasons = {d["name"]: d["reason"] for d in edges.attrs["summary"]["not_linked"]}
    assert reasons == {"B": "no road node within 2000 m", "Nowhere": "not a node of the layer"}
    assert (edges["mode"] == "transfer").sum() == 1
    with pytest.raises(InputError):
        multimodal_edges(road_nodes, road_edges, rail_nodes, rail_edges, far, transfer_min=-5)


def test_router_takes_the_arrays(corridor):
    from geo.routing.router import Router

    road_nodes, road_edges, rail_nodes, rail_edges, stations = corridor
    nodes, edges = multimodal_edges(road_nodes, road_edges, rail_nodes, rail_edges, stations, transfer_min=15)
    router = Router.from_arrays(**router_arrays(nodes, edges))
    t = router.travel_times(router.index_of([0]), router.index_of([10]))
    assert t[0, 0] == pytest.approx(_fastest(nodes, edges, 0, 10)[0])


# ----------------------------------------------------------------- controlled access


def _gdf_network(nodes, edges, crs="EPSG:32648"):
    n = gpd.GeoDataFrame(nodes.copy(), geometry=gpd.points_from_xy(nodes["x"], nodes["y"]), crs=crs)
    xy = dict(zip(nodes["node_id"], zip(nodes["x"], nodes["y"])))
    e = gpd.GeoDataFrame(edges.copy(), geometry=[LineString([xy[u], xy[v]]) for u, v in zip(edges["u"], edges["v"])], crs=crs)
    return n, e


@pytest.fixture()
def crossing():
    """A 20 km expressway (90 km/h) along y = 0 and a slow road grid (30 km/h).

    A north–south road crosses the expressway at x = 10 km with a node at (10 km, 0) on both
    (same coordinates, as when a road passes under it); an east–west road runs 1 km north.
    """
    xw_nodes, xw_edges = _line_network([0, 5_000, 10_000, 15_000, 20_000], y=0.0, speed_kmh=90.0)
    road = pd.DataFrame({"node_id": [100, 101, 102, 103, 104, 105],
                         "x": [10_000, 10_000, 10_000, 0, 20_000, 20_000], "y": [-5_000, 0, 1_000, 1_000, 1_000, 0]})
    pairs = [(100, 101), (101, 102), (102, 103), (102, 104), (104, 105)]
    length = [np.hypot(*(road.set_index("node_id").loc[a, ["x", "y"]].to_numpy(float)
                         - road.set_index("node_id").loc[b, ["x", "y"]].to_numpy(float))) for a, b in pairs]
    road_edges = pd.DataFrame({"edge_id": range(len(pairs)), "u": [a for a, _ in pairs], "v": [b for _, b in pairs],
                               "length_m": length, "travel_time_s": travel_time_s(length, 30.0)})
    return road, road_edges, xw_nodes, xw_edges


def test_crossing_without_interchange_gives_no_access(crossing):
    road, road_edges, xw_nodes, xw_edges = crossing
    n, e = _gdf_network(xw_nodes, xw_edges)
    # interchanges only at the two ends (x = 0 is 1 km from road node 103; x = 20 km meets node 105)
    ic = gpd.GeoDataFrame({"name": ["IC West", "IC East"]}, geometry=[Point(0, 0), Point(20_000, 0)], crs="EPSG:32648")
    xn, xe, access = controlled_access(e, ic, nodes=n)
    assert access.loc[access["access"], "interchange"].tolist() == ["IC West", "IC East"]
    assert not access.loc[access["node_id"] == 2, "access"].item()          # the node under the crossing road
    nodes, edges = connect_layers(road, road_edges, xn, xe,
                                  access[access["access"]], penalty_s=0.0, access_kmh=30.0, max_link_m=1_500,
                                  layer_mode="expressway", link_mode="interchange")
    time, path, modes = _fastest(nodes, edges, 100, 105)
    # only way: the slow roads (5 + 1 + 10 + 1 km at 30 km/h); entering at the crossing is impossible
    road_only = (5_000 + 1_000 + 10_000 + 1_000) / (30 / 3.6)
    assert "expressway" not in modes and time == pytest.approx(road_only)

    # with an interchange declared at the crossing, the expressway is used
    ic2 = gpd.GeoDataFrame({"name": ["IC West", "IC Crossing", "IC East"]},
                           geometry=[Point(0, 0), Point(10_000, 30), Point(20_000, 0)], crs="EPSG:32648")
    xn2, xe2, access2 = controlled_access(e, ic2)
    assert access2.loc[access2["node_id"] == 2, "interchange"].item() == "IC Crossing"
    assert access2.loc[access2["node_id"] == 2, "snap_m"].item() == pytest.approx(30.0)
    nodes2, edges2 = connect_layers(road, road_edges, xn2, xe2,
                                    access2[access2["access"]], penalty_s=0.0, access_kmh=30.0, max_link_m=1_500,
                                    layer_mode="expressway", link_mode="interchange")
    time2, _, modes2 = _fastest(nodes2, edges2, 100, 105)
    via = 5_000 / (30 / 3.6) + 10_000 / (90 / 3.6)
    assert "expressway" in modes2 and time2 == pytest.approx(via)


def test_interchange_between_nodes_splits_the_expressway(crossing):
    _, _, xw_nodes, xw_edges = crossing
    n, e = _gdf_network(xw_nodes, xw_edges)
    ic = gpd.GeoDataFrame({"name": ["IC Mid", "IC Far"]}, geometry=[Point(7_000, -100), Point(7_000, 5_000)], crs="EPSG:32648")
    xn, xe, access = controlled_access(e, ic, nodes=n, max_snap_m=300)
    assert access["access"].sum() == 1
    assert access.attrs["not_attached"] == [{"name": "IC Far", "reason": "farther than 300 m from the network"}]
    new = access.loc[access["access"], "node_id"].item()
    assert new not in set(xw_nodes["node_id"])
    assert xe["length_m"].sum() == pytest.approx(20_000)
    assert sorted(xe.loc[(xe["u"] == new) | (xe["v"] == new), "length_m"].round(3)) == [2_000, 3_000]


def test_scenario_line_without_nodes():
    """A planned expressway drawn as one plain line, two interchanges: only those two nodes open."""
    line = gpd.GeoDataFrame({"name": ["CT.01 (planned)"]},
                            geometry=[LineString([(106.10, 21.20), (106.20, 21.28), (106.30, 21.42)])], crs="EPSG:4326")
    ic = gpd.GeoDataFrame({"name": ["IC Bắc Giang", "IC Kép"]},
                          geometry=[Point(106.2003, 21.2802), Point(106.2905, 21.4060)], crs="EPSG:4326")
    nodes, edges, access = controlled_access(line, ic)
    assert access["access"].sum() == 2 and set(access.loc[access["access"], "interchange"]) == {"IC Bắc Giang", "IC Kép"}
    assert len(nodes) == 4 and (~access["access"]).sum() == 2      # the two ends stay closed
    assert len(edges) == 3
    assert nodes["x"].between(500_000, 750_000).all()                # metres, ready for connect_layers
    assert edges["length_m"].sum() == pytest.approx(line.to_crs("EPSG:32648").length.iloc[0], rel=1e-6)


def test_insert_points_keeps_length_and_time():
    nodes = gpd.GeoDataFrame({"node_id": [0, 1]}, geometry=[Point(0, 0), Point(3_000, 0)], crs="EPSG:32648")
    edges = gpd.GeoDataFrame({"edge_id": [7], "u": [0], "v": [1], "length_m": [3_050.0], "travel_time_s": [300.0]},
                             geometry=[LineString([(0, 0), (3_000, 0)])], crs="EPSG:32648")
    pts = gpd.GeoDataFrame({"name": ["a", "b", "a-again", "end"]},
                           geometry=[Point(1_000, 5), Point(2_000, -5), Point(1_000.4, 0), Point(2_999.5, 2)], crs="EPSG:32648")
    n2, e2, att = insert_points(nodes, edges, pts, max_distance_m=50)
    assert len(n2) == 4 and len(e2) == 3
    assert e2["length_m"].sum() == pytest.approx(3_050.0) and e2["travel_time_s"].sum() == pytest.approx(300.0)
    assert att["node_id"].iloc[0] == att["node_id"].iloc[2]          # within 1 m: the same node
    assert att["node_id"].iloc[3] == 1                               # at the end: the end node
    assert (e2["split_from"] == 7).all()


# ----------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def rail(region):
    from layers.networks import rail_network

    geo.settings.progress = False
    return rail_network(region)


def _rail_km(rail, a, b):
    nodes, edges = rail
    G = nx.MultiGraph()
    G.add_weighted_edges_from(zip(edges["u"], edges["v"], edges["length_m"]))
    node = lambda name: nodes.loc[nodes["station_name"] == name, "node_id"].iloc[0]   # noqa: E731
    return nx.dijkstra_path_length(G, node(a), node(b)) / 1000


def test_real_rail_distances(rail):
    """SOURCES.md: Kép → Đồng Đăng 92.8 km, Bắc Giang → Kép 19.7 km, Kép → Lan Mẫu 16.3, Kép → Hạ Long 105.6."""
    assert _rail_km(rail, "Kép", "Đồng Đăng") == pytest.approx(92.8, abs=1.0)
    assert _rail_km(rail, "Bắc Giang", "Kép") == pytest.approx(19.7, abs=1.0)
    assert _rail_km(rail, "Kép", "Lan Mẫu") == pytest.approx(16.3, abs=1.0)
    assert _rail_km(rail, "Kép", "Hạ Long") == pytest.approx(105.6, abs=1.5)
    assert _rail_km(rail, "Bắc Giang", "Yên Viên") == pytest.approx(37.9, abs=1.5)


def test_real_multimodal_rail_only_at_stations(region, rail):
    from geo.routing.router import Router
    from layers.networks import multimodal_network, road_network, speed_model

    road = road_network(region)
    nodes, edges = multimodal_network(region, road=road, rail=rail)
    summary = edges.attrs["summary"]
    rail_ids = set(nodes.loc[nodes["mode"] == "rail", "node_id"])
    mixed = edges[edges["u"].isin(rail_ids) != edges["v"].isin(rail_ids)]
    assert (mixed["mode"] == "transfer").all()
    station_ids = set(nodes.loc[(nodes["mode"] == "rail") & nodes["access_name"].notna(), "node_id"])
    assert set(mixed["u"]) <= station_ids
    assert "Kép" in set(mixed["access_name"]) and "Đồng Đăng" in set(mixed["access_name"])
    # stations are put on the nearest road edge: Phố Tráng is 34 m from a road but 1.3 km from a road node
    assert mixed.loc[mixed["access_name"] == "Phố Tráng", "length_m"].min() < 100
    # every station left without a transfer is farther than max_access_m from every road of the network
    road_lines = road[1].to_crs(region.metric_crs).geometry.values
    tree = shapely.STRtree(road_lines)
    rail_nodes = rail[0].to_crs(region.metric_crs)
    limit = summary["max_link_m"]
    for item in summary["not_linked"]:
        point = rail_nodes.loc[rail_nodes["node_id"] == item["node_id"]].geometry.iloc[0]
        assert len(tree.query(point, predicate="dwithin", distance=limit)) == 0, item
    assert summary["linked"] + len(summary["not_linked"]) == summary["access_nodes"]
    assert summary["linked"] >= 55

    model = speed_model(region)
    router = Router.from_arrays(**router_arrays(nodes, edges))
    st = dict(zip(nodes["access_name"], nodes["node_id"]))
    kep, dd = router.index_of([st["Kép"], st["Đồng Đăng"]])
    rail_only = router.travel_times([kep], [dd])[0, 0]
    # on rail between the two stations: 92.8 km at the rail speed, at most
    assert rail_only <= 93.8 / model.raw["rail"]["speed_kmh"] * 3600

    # from Bắc Giang city to the Đồng Đăng road node: never worse than road alone
    road_nodes, road_edges = road
    road_router = Router.from_arrays(**router_arrays(road_nodes, road_edges))
    city = region.destinations().set_index("key").to_crs(region.metric_crs).geometry
    o, _ = road_router.snap([city["bac_giang_city"].x], [city["bac_giang_city"].y], 500)
    d, _ = road_router.snap([city["dong_dang_border"].x], [city["dong_dang_border"].y], 500)
    by_road = road_router.travel_times(o, d)[0, 0]
    both = router.travel_times(router.index_of(road_router.ids_of(o)), router.index_of(road_router.ids_of(d)))[0, 0]
    assert both <= by_road + 1e-6
    # a prohibitive transfer makes rail useless: exactly the road time
    all_stations = rail[0].loc[rail[0]["station_name"].notna(), ["node_id", "station_name"]]
    far_nodes, far_edges = multimodal_edges(road_nodes, road_edges, rail[0], rail[1],
                                            all_stations.rename(columns={"station_name": "name"}), transfer_min=10_000)
    far = Router.from_arrays(**router_arrays(far_nodes, far_edges))
    assert far.travel_times(far.index_of(road_router.ids_of(o)), far.index_of(road_router.ids_of(d)))[0, 0] == pytest.approx(by_road)
