"""Tests of geo.routing.matching: hand-made networks with known answers, and QL1A/QL37 on the real data.

Real-data figures: the QL1A reference of bacgiang_national_transport_reference_bbox03.geojson
is 201 km long and 623 km of network lie within 300 m of it (the brief's "624 km");
within the province the reference runs 37.6 km (measured here with the GADM province
polygon, independently of the matcher).
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo.routing.matching import match_line, prepare_network
from geo.routing.network import lines_to_network, read_line_network

UTM = "EPSG:32648"
X0, Y0 = 600_000.0, 2_330_000.0        # somewhere near Bắc Giang, in UTM 48N metres


def _lines(named_coords: dict[str, list[tuple[float, float]]]) -> gpd.GeoDataFrame:
    """Lines given in metres relative to (X0, Y0), as a GeoDataFrame with a ``name`` column."""
    return gpd.GeoDataFrame({"name": list(named_coords)},
                            geometry=[LineString([(X0 + x, Y0 + y) for x, y in pts]) for pts in named_coords.values()],
                            crs=UTM)


def _reference(x_from: float, x_to: float, y: float = 0.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[LineString([(X0 + x_from, Y0 + y), (X0 + x_to, Y0 + y)])], crs=UTM)


def _names(edges: gpd.GeoDataFrame, matched) -> set[str]:
    return set(edges.set_index("edge_id").loc[matched.edge_id, "name"])


# ----------------------------------------------------------------------------- hand-made networks


def test_prefers_the_continuous_main_road_to_a_nearer_zigzag_street():
    # reference along y = 0; main road straight 150 m south of it; a side street
    # zig-zagging 20-140 m north of it (closer on average), joined to the main
    # road by cross streets every km.
    zigzag = [(x, 20.0 if (x // 100) % 2 == 0 else 140.0) for x in range(0, 6001, 100)]
    cross = {f"cross {x}": [(x, -150.0), (x, 20.0 if (x // 100) % 2 == 0 else 140.0)] for x in range(0, 6001, 1000)}
    lines = _lines({"main": [(x, -150.0) for x in range(-200, 6201, 1000)] + [(6200, -150.0)], "zigzag": zigzag, **cross})
    nodes, edges = lines_to_network(lines)
    matched, report = match_line(_reference(0, 6000), nodes, edges)
    assert _names(edges, matched) == {"main"}
    main_km = edges.set_index("edge_id").loc[matched.edge_id, "length_m"].sum() / 1000
    assert 5.5 <= main_km <= 6.6
    assert report["matched_share"] == 1.0 and report["gaps"]["count"] == 0


def test_a_missing_stretch_is_a_gap_not_a_detour():
    # the road along the reference lacks 1 km (x 2500-3500); a 2.9 km loop road
    # goes around it. The loop must not be matched and the gap must be reported.
    lines = _lines({
        "west": [(-100, 50), (2400, 50), (2500, 50)],
        "east": [(3500, 50), (3600, 50), (6100, 50)],
        "loop": [(2400, 50), (2400, 900), (3600, 900), (3600, 50)],
    })
    nodes, edges = lines_to_network(lines)
    matched, report = match_line(_reference(0, 6000), nodes, edges)
    assert "loop" not in _names(edges, matched)
    assert {"west", "east"} <= _names(edges, matched)
    assert report["gaps"]["count"] >= 1
    assert 0.9 <= report["gaps"]["km"] <= 3.1                # about the missing km, at most the two legs around it
    lon, lat = report["gaps"]["where"][0]
    middle = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(UTM).iloc[0]
    assert abs(middle.x - (X0 + 3000)) < 1600


def test_no_road_near_the_reference_gives_no_match_and_a_full_gap():
    # the network's extent covers the reference, but no road comes within 600 m of it
    nodes, edges = lines_to_network(_lines({"north road": [(0, 3000), (6000, 3000)], "south road": [(0, -3000), (6000, -3000)]}))
    matched, report = match_line(_reference(0, 6000), nodes, edges)
    assert matched.empty
    assert report["matched_share"] == 0.0 and report["gaps"]["km"] == pytest.approx(6.0, abs=0.01)


def test_reference_outside_the_network_is_not_counted_as_matchable():
    nodes, edges = lines_to_network(_lines({"road": [(0, 0), (6000, 0)]}))
    matched, report = match_line(_reference(0, 20000, y=10), nodes, edges)
    assert report["reference_length_km"] == pytest.approx(20.0, abs=0.01)
    assert report["reference_in_network_km"] == pytest.approx(6.6, abs=0.05)   # hull + 600 m tolerance
    assert _names(edges, matched) == {"road"}


def test_dual_carriageway_sample_may_join_either_side():
    # two one-way carriageways 25 m apart joined only at the ends: the match
    # must follow one of them without reporting gaps.
    lines = _lines({"north": [(0, 12.5), (8000, 12.5)], "south": [(0, -12.5), (8000, -12.5)],
                    "link west": [(0, 12.5), (0, -12.5)], "link east": [(8000, 12.5), (8000, -12.5)]})
    nodes, edges = lines_to_network(lines)
    matched, report = match_line(_reference(500, 7500, y=200), nodes, edges)
    assert report["gaps"]["count"] == 0
    assert _names(edges, matched) & {"north", "south"}


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="session")
def real(shared_data):
    nodes, edges = read_line_network(shared_data / "bacgiang_roads_osm2018_bbox03.gpkg")
    reference = gpd.read_file(shared_data / "bacgiang_national_transport_reference_bbox03.geojson")
    province = gpd.read_file(shared_data / "bacgiang_province.geojson").to_crs(UTM).union_all()
    return nodes, edges, prepare_network(nodes, edges), reference, province


@pytest.fixture(scope="session")
def ql1a(real):
    nodes, edges, network, reference, _ = real
    started = time.perf_counter()
    matched, report = match_line(reference[reference.ten == "Quốc lộ 1A"], network=network)
    return matched, report, time.perf_counter() - started


def test_ql1a_matched_length_is_comparable_to_the_reference(ql1a):
    matched, report, seconds = ql1a
    assert report["reference_length_km"] == pytest.approx(201, abs=1)
    assert report["reference_in_network_km"] == pytest.approx(report["reference_length_km"], abs=1)
    assert report["matched_share"] >= 0.9
    covered = report["reference_in_network_km"] - report["gaps"]["km"]
    assert 0.9 * covered <= report["matched_length_km"] <= 1.15 * covered
    assert seconds < 10


def test_ql1a_takes_no_parallel_streets(real, ql1a):
    nodes, edges, _, reference, _ = real
    matched, report, _ = ql1a
    line = reference[reference.ten == "Quốc lộ 1A"].to_crs(UTM).union_all()
    buffer = line.buffer(300)
    metric = edges.to_crs(UTM)
    metric = metric.iloc[metric.sindex.query(buffer, predicate="intersects")]
    buffer_km = metric.intersection(buffer).length.sum() / 1000
    assert buffer_km == pytest.approx(624, abs=5)
    matched_in_buffer_km = metric[metric.edge_id.isin(matched.edge_id)].intersection(buffer).length.sum() / 1000
    assert matched_in_buffer_km < 0.35 * buffer_km            # one road, not the 600 km of streets around it
    assert matched_in_buffer_km > 0.8 * report["reference_in_network_km"]
    assert matched.offset_m.max() <= 600 + 50                 # nothing far from the reference


def test_ql1a_passes_bac_giang_city_and_its_province_length(real, ql1a, region):
    nodes, edges, _, reference, province = real
    matched, _, _ = ql1a
    mine = edges[edges.edge_id.isin(matched.edge_id)].to_crs(UTM)
    city = region.destinations().set_index("key").loc[["bac_giang_city"]].to_crs(UTM).geometry.iloc[0]
    assert mine.distance(city).min() < 2500
    # where the reference crosses lon 106.19 (the city's southern by-pass), the matched road is within 300 m
    line = reference[reference.ten == "Quốc lộ 1A"].to_crs("EPSG:4326").union_all()
    crossing = shapely.intersection(line, LineString([(106.19, 21.1), (106.19, 21.5)]))
    point = gpd.GeoSeries([crossing], crs="EPSG:4326").to_crs(UTM).iloc[0]
    assert mine.distance(point).min() < 300
    in_province_km = mine.intersection(province).length.sum() / 1000
    assert in_province_km == pytest.approx(37.6, rel=0.1)


def test_ql37_is_matched_almost_entirely(real):
    nodes, edges, network, reference, _ = real
    matched, report = match_line(reference[reference.ten == "Quốc lộ 37"], network=network)
    assert report["reference_length_km"] == pytest.approx(79.8, abs=0.5)
    assert report["matched_share"] >= 0.9
    assert report["matched_length_km"] == pytest.approx(report["reference_in_network_km"] - report["gaps"]["km"], rel=0.1)
    assert np.isfinite(matched.offset_m).all()


def test_waypoint_legs_reject_detours_and_follow_an_expressway_with_fewest_junctions():
    from geo.routing.matching import prepare_network, route_waypoints
    from geo.routing.network import lines_to_network

    # an expressway A–B bending south (two edges, 21.3 km) and a straight village road A–B of 40 short edges (20.8 km)
    village = [LineString([(106.0 + i * 0.005, 21.0), (106.0 + (i + 1) * 0.005, 21.0)]) for i in range(40)]
    lines = [LineString([(106.0, 21.0), (106.1, 20.98)]), LineString([(106.1, 20.98), (106.2, 21.0)]), *village,
             LineString([(106.1, 21.0), (106.1, 21.2)]), LineString([(106.1, 21.2), (106.3, 21.2)])]
    nodes, edges = lines_to_network(gpd.GeoDataFrame(geometry=lines, crs="EPSG:4326"))
    net = prepare_network(nodes, edges)
    xy = gpd.GeoSeries.from_xy([106.0, 106.2, 106.3], [21.0, 21.0, 21.2], crs="EPSG:4326").to_crs(net.crs)
    pts = list(zip(xy.x, xy.y))
    shortest, = route_waypoints(net, pts[:2])
    expressway, = route_waypoints(net, pts[:2], cost="fewest_junctions")
    assert shortest.matched and len(shortest.edges) == 40                # the village road is shorter
    assert expressway.matched and len(expressway.edges) == 2             # the expressway has two junctions in all
    # B → C only back through the village and up the spur: the path strays far from the straight line
    leg = route_waypoints(net, pts[1:])[0]
    assert not leg.matched and ("straight line" in leg.reason)
