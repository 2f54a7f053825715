"""Tests of geo.routing.network on the real OSM 2018 road and rail files and on small hand-made lines.

Expected figures come from ../shared/data/SOURCES.md (road network: 89,739
edges, 57,548 nodes, 16,108 km, component 0 = 15,836 km = 98.3 %; Dijkstra
from Bắc Giang city centre to Kép 19.8 km; OSM 2018 railways: 11 components
in bbox03).
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from geo.errors import InputError
from geo.routing.network import components_report, lines_to_network, read_line_network, to_networkx


@pytest.fixture(scope="session")
def road_network(shared_data):
    return read_line_network(shared_data / "bacgiang_roads_osm2018_bbox03.gpkg")


def test_reads_the_road_geopackage(road_network):
    nodes, edges = road_network
    assert len(edges) == 89_739
    assert len(nodes) == 57_548
    assert edges.crs.to_epsg() == 4326 and nodes.crs.to_epsg() == 4326
    assert {"edge_id", "u", "v", "length_m"} <= set(edges.columns)
    assert {"node_id", "x", "y"} <= set(nodes.columns)
    assert edges.length_m.sum() / 1000 == pytest.approx(16_108, abs=2)


def test_components_of_the_road_network(road_network):
    report = components_report(*road_network)
    assert list(report.columns) == ["component", "nodes", "edges", "length_km", "share"]
    assert report.length_km.iloc[0] == pytest.approx(15_836, abs=2)
    assert report.share.iloc[0] == pytest.approx(0.983, abs=0.001)
    assert report.length_km.is_monotonic_decreasing
    assert report.share.sum() == pytest.approx(1.0)
    # the file's own comp_id agrees: component 0 is the same set of edges
    nodes, edges = road_network
    assert report.edges.iloc[0] == int((edges.comp_id == 0).sum())


def test_networkx_graph_gives_the_documented_road_distance(road_network):
    nodes, edges = road_network
    graph = to_networkx(nodes, edges)
    assert graph.number_of_nodes() == len(nodes) and graph.number_of_edges() == len(edges)
    assert not graph.is_directed() and graph.is_multigraph()

    def nearest(lon, lat):
        d = np.hypot((nodes.x - lon) * np.cos(np.radians(lat)), nodes.y - lat)
        return int(nodes.node_id[d.idxmin()])

    city = nearest(106.195, 21.273)                      # Bắc Giang city centre (SOURCES sanity check)
    kep = nearest(106.29039, 21.41673)                   # Kép station
    km = nx.shortest_path_length(graph, city, kep, weight="length") / 1000
    assert km == pytest.approx(19.8, abs=0.3)
    some = next(iter(graph.edges(keys=True, data=True)))
    assert some[2] == some[3]["edge_id"]


def test_plain_line_file_gets_nodes_from_end_points(shared_data):
    nodes, edges = read_line_network(shared_data / "bacgiang_railways_osm2018_bbox03.geojson")
    assert len(edges) >= 271                             # 271 lines, multi-parts split
    assert {"u", "v", "edge_id", "length_m", "name"} <= set(edges.columns)
    report = components_report(nodes, edges)
    assert len(report) == 11                             # SOURCES: bbox03 11 components


def test_rebuilding_nodes_from_geometry_matches_the_saved_topology(road_network):
    nodes, edges = road_network
    rebuilt_nodes, rebuilt_edges = lines_to_network(edges[["geometry"]])
    assert len(rebuilt_nodes) == len(nodes)
    assert components_report(rebuilt_nodes, rebuilt_edges).length_km.iloc[0] == pytest.approx(15_836, abs=2)


def test_lines_to_network_joins_ends_within_rounding_only():
    lines = gpd.GeoDataFrame({"name": ["a", "b", "c"]}, geometry=[
        LineString([(106.0, 21.0), (106.01, 21.0)]),
        LineString([(106.01 + 4e-8, 21.0), (106.02, 21.0)]),   # rounds onto the same node
        LineString([(106.02 + 1e-5, 21.0), (106.03, 21.0)]),   # 1 m away: a separate node
    ], crs="EPSG:4326")
    nodes, edges = lines_to_network(lines)
    assert len(nodes) == 5
    assert edges.v.iloc[0] == edges.u.iloc[1]
    assert edges.v.iloc[1] != edges.u.iloc[2]
    assert len(components_report(nodes, edges)) == 2


def test_lines_to_network_accepts_a_metric_crs_and_multilines():
    metric = gpd.GeoDataFrame(geometry=[LineString([(600000, 2320000), (601000, 2320000)])], crs="EPSG:32648")
    nodes, edges = lines_to_network(metric)
    assert edges.crs.to_epsg() == 4326
    assert edges.length_m.iloc[0] == pytest.approx(1000, abs=0.01)
    multi = gpd.GeoDataFrame(geometry=[LineString([(106, 21), (106.01, 21)]).union(LineString([(106.02, 21), (106.03, 21)]))],
                             crs="EPSG:4326")
    assert len(lines_to_network(multi)[1]) == 2


def test_bad_inputs_raise_one_line_input_errors(tmp_path, shared_data):
    with pytest.raises(InputError, match="file not found"):
        read_line_network(tmp_path / "missing.gpkg")
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[Point(106, 21)], crs="EPSG:4326").to_file(points)
    with pytest.raises(InputError, match="expected line geometries"):
        read_line_network(points)
    with pytest.raises(InputError, match="has no layer 'roads'"):
        read_line_network(shared_data / "bacgiang_roads_osm2018_bbox03.gpkg", edges_layer="roads")
    broken = tmp_path / "broken.gpkg"
    gpd.GeoDataFrame({"u": [0], "v": [5]}, geometry=[LineString([(106, 21), (106.01, 21)])], crs="EPSG:4326").to_file(broken, layer="edges")
    gpd.GeoDataFrame({"node_id": [0, 1]}, geometry=[Point(106, 21), Point(106.01, 21)], crs="EPSG:4326").to_file(broken, layer="nodes")
    with pytest.raises(InputError, match="missing from the node layer") as err:
        read_line_network(broken)
    assert "\n" not in str(err.value) and str(broken) in str(err.value)


def test_link_crossings_joins_both_carriageways_and_keeps_lengths():
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    from geo.routing.network import lines_to_network, link_crossings

    roads = gpd.GeoDataFrame({"road": ["a", "a", "b"]}, geometry=[
        LineString([(106.0, 21.0), (106.02, 21.0)]), LineString([(106.0, 21.0002), (106.02, 21.0002)]),   # dual carriageway
        LineString([(106.01, 20.99), (106.01, 21.01)])], crs="EPSG:4326")
    nodes, edges = lines_to_network(roads)
    total = edges["length_m"].sum()
    n2, e2, added = link_crossings(nodes, edges, (edges.road == "a").to_numpy(), (edges.road == "b").to_numpy(),
                                   Point(106.01, 21.0), radius_m=500, ramp_m=300)
    assert len(added) == 2 and len(n2) == len(nodes) + 4                   # a node on each road at each crossing
    assert e2["length_m"].sum() == pytest.approx(total + 2 * 300)           # split pieces keep the length; + 2 ramps
    far, _, none = link_crossings(nodes, edges, (edges.road == "a").to_numpy(), (edges.road == "b").to_numpy(),
                                  Point(106.5, 21.5), radius_m=500, ramp_m=300)
    assert none == [] and len(far) == len(nodes)
