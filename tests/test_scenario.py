"""Planned roads: interchange-only access, clear errors, and no travel time ever gets longer."""

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from geo.errors import InputError
from geo.routing.router import Router
from geo.routing.scenario import add_planned_roads, compare


def grid_router(n=6, spacing=1000.0, speed_kmh=30.0):
    """An n × n street grid, undirected, weights = length / speed."""
    G = nx.grid_2d_graph(n, n)
    ids = {node: i for i, node in enumerate(G.nodes)}
    x = [c[0] * spacing for c in G.nodes]
    y = [c[1] * spacing for c in G.nodes]
    u = [ids[a] for a, b in G.edges]
    v = [ids[b] for a, b in G.edges]
    w = [spacing / (speed_kmh / 3.6)] * len(u)
    return Router.from_arrays(list(ids.values()), x, y, u, v, w)


def line(coords, road_class="expressway", speed=100):
    return gpd.GeoDataFrame({"name": ["test road"], "road_class": [road_class], "design_speed_kmh": [speed]},
                            geometry=[LineString(coords)])


def test_expressway_is_entered_only_at_interchanges():
    base = grid_router()
    # The expressway runs along y = 2500 (between grid rows) and crosses every column road without a junction.
    road = line([(0, 2500), (5000, 2500)])
    exits = gpd.GeoDataFrame(geometry=[Point(0, 2500), Point(5000, 2500)])
    after, report = add_planned_roads(base, road, exits, interchange_penalty_s=0)
    assert report.loc[0, "access_points"] == 2 and report.loc[0, "interchanges_used"] == 2
    # From the middle column (x = 2000..3000) nothing is gained: the expressway cannot be entered there.
    mid = base.index_of([base.node_ids[np.argmin((base.x - 2000) ** 2 + (base.y - 2000) ** 2)]])
    near = base.index_of([base.node_ids[np.argmin((base.x - 3000) ** 2 + (base.y - 3000) ** 2)]])
    assert after.travel_times(mid, near)[0, 0] == pytest.approx(base.travel_times(mid, near)[0, 0])
    # End to end it is faster.
    a = base.index_of([base.node_ids[np.argmin(base.x ** 2 + (base.y - 2000) ** 2)]])
    b = base.index_of([base.node_ids[np.argmin((base.x - 5000) ** 2 + (base.y - 2000) ** 2)]])
    assert after.travel_times(a, b)[0, 0] < base.travel_times(a, b)[0, 0]


def test_ordinary_road_is_entered_where_it_touches_roads():
    base = grid_router()
    road = line([(0, 0), (5000, 5000)], road_class="national", speed=80)  # diagonal through grid nodes
    after, report = add_planned_roads(base, road)
    assert report.loc[0, "access_points"] >= 2
    assert after.travel_times([0], [base.n - 1])[0, 0] < base.travel_times([0], [base.n - 1])[0, 0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_adding_a_road_never_lengthens_any_trip(seed):
    rng = np.random.default_rng(seed)
    base = grid_router(n=8)
    pts = rng.uniform(0, 7000, size=(4, 2))
    road = line(pts, road_class="expressway", speed=rng.uniform(40, 120))
    exits = gpd.GeoDataFrame(geometry=[Point(*pts[0]), Point(*pts[-1]), Point(*pts[1])])
    after, _ = add_planned_roads(base, road, exits)
    before_t = base.travel_times(np.arange(base.n))
    after_t = after.travel_times(np.arange(base.n), np.arange(base.n))
    assert np.all(after_t <= before_t + 1e-9)
    assert (after_t < before_t - 1e-6).any()


def test_monotone_on_the_real_network(shared_data):
    """An indicative bypass on the real 2018 network: no trip from 20 random nodes gets longer."""
    import pyogrio

    nodes = pyogrio.read_dataframe(shared_data / "bacgiang_roads_osm2018_bbox03.gpkg", layer="nodes", read_geometry=False)
    edges = pyogrio.read_dataframe(shared_data / "bacgiang_roads_osm2018_bbox03.gpkg", layer="edges", read_geometry=False)
    pts = gpd.GeoSeries.from_xy(nodes["x"], nodes["y"], crs="EPSG:4326").to_crs("EPSG:32648")
    base = Router.from_arrays(nodes["node_id"], pts.x, pts.y, edges["u"], edges["v"], edges["length_m"] / (40 / 3.6))
    corridor = gpd.GeoSeries([LineString([(106.10, 21.23), (106.20, 21.30), (106.29, 21.41)])], crs="EPSG:4326").to_crs("EPSG:32648")
    road = gpd.GeoDataFrame({"name": ["bypass"], "road_class": ["expressway"], "design_speed_kmh": [100]}, geometry=corridor.values)
    exits = gpd.GeoDataFrame(geometry=gpd.GeoSeries([Point(106.10, 21.23), Point(106.20, 21.30), Point(106.29, 21.41)],
                                                    crs="EPSG:4326").to_crs("EPSG:32648").values)
    after, report = add_planned_roads(base, road, exits, access_tolerance_m=2000)  # nearest roads 0.4–1.5 km away
    assert report.loc[0, "interchanges_used"] == 3
    origins = np.random.default_rng(7).choice(np.flatnonzero(base.largest_component()), 20, replace=False)
    before_t = base.travel_times(origins)
    after_t = after.travel_times(origins, np.arange(base.n))
    both = ~np.isnan(before_t)
    assert np.all(after_t[both] <= before_t[both] + 1e-6)
    assert (after_t[both] < before_t[both] - 60).any()  # somebody gains a minute or more


def test_line_touching_no_road_is_refused():
    base = grid_router()
    far = line([(50000, 50000), (60000, 50000)], road_class="national")
    with pytest.raises(InputError, match="touches no road"):
        add_planned_roads(base, far, source="far.geojson")


def test_expressway_without_interchanges_is_entered_at_its_ends():
    """An expressway sketched with no interchange point becomes an interchange at each end (nearest road within the
    tolerance), not an error; one whose ends are far from every road is refused with the distances."""
    base = grid_router()
    after, report = add_planned_roads(base, line([(0, 2500), (5000, 2500)]), None, source="ct01.geojson",
                                      interchange_penalty_s=0)
    assert report.loc[0, "interchanges_used"] == 2 and report.loc[0, "start_snap_m"] == pytest.approx(500.0)
    assert report.loc[0, "start_joins"].startswith("interchange: link of 500 m")
    a, b = base.index_of([base.node_ids[np.argmin(base.x ** 2 + (base.y - 2000) ** 2)],
                          base.node_ids[np.argmin((base.x - 5000) ** 2 + (base.y - 2000) ** 2)]])
    assert after.travel_times([a], [b])[0, 0] < base.travel_times([a], [b])[0, 0]
    with pytest.raises(InputError, match=r"ct01.geojson: planned expressway 'test road' touches no road: its ends .*"
                                         r"start: 7,0\d\d m from node \d+; end: 8,\d\d\d m from node"):
        add_planned_roads(base, line([(12000, 0), (13000, 0)]), None, source="ct01.geojson")


def test_bad_design_speed():
    base = grid_router()
    exits = gpd.GeoDataFrame(geometry=[Point(0, 2500)])
    with pytest.raises(InputError, match="design_speed_kmh 'fast'"):
        add_planned_roads(base, line([(0, 2500), (5000, 2500)], speed="fast"), exits)


def test_compare_keeps_unknown_as_unknown():
    import pandas as pd

    b = pd.DataFrame({"k": [1, 2], "m": [10.0, np.nan]})
    a = pd.DataFrame({"k": [1, 2], "m": [8.0, 5.0]})
    out = compare(b, a, ["k"], ["m"])
    assert out.loc[0, "m_change"] == -2.0 and np.isnan(out.loc[1, "m_change"])


def test_interchange_joins_a_long_edge_where_it_is_and_ordinary_roads_cross_at_grade():
    """With the base network's joinable edges, an interchange beside the middle of a 10 km road splits it there
    (no detour to a node 5 km away), and an ordinary planned road gets a junction where it crosses a road."""
    from shapely.geometry import LineString as Line

    from geo.routing.access import RoadEdges

    base = Router.from_arrays([1, 2, 3, 4], x=[0, 10000, 5000, 5000], y=[0, 0, -5000, 5000], u=[1, 3, 1], v=[2, 4, 3],
                              weight=[600.0, 600.0, 600.0])      # the two long roads meet only through their ends
    edges = RoadEdges.of(base, [Line([(0, 0), (10000, 0)]), Line([(5000, -5000), (5000, 5000)])], [1, 3], [2, 4], [600.0, 600.0])
    road = line([(5200, 400), (5200, 20000)])
    exits = gpd.GeoDataFrame(geometry=[Point(5200, 400), Point(5200, 20000)])
    after, report = add_planned_roads(base, road, exits, edges=edges, interchange_penalty_s=0, link_speed_kmh=36)
    assert report.loc[0, "max_link_m"] == pytest.approx(200.0)           # to the north–south road 200 m away
    # an ordinary road crossing both roads away from any node: junctions at both crossings
    cross = line([(2000, -1000), (8000, 2000)], road_class="provincial", speed=50)   # crosses at (4000, 0), (5000, 500)
    after, report = add_planned_roads(base, cross, edges=edges, access_tolerance_m=500)   # its ends: 1 and 2 km away
    assert report.loc[0, "access_points"] == 2
    a, b = base.index_of([2, 4])
    assert after.travel_times([a], [b])[0, 0] == pytest.approx(360 + np.hypot(1000, 500) / (50 / 3.6) + 270)


def _two_roads():
    """A 10 km national road along y = 0 (edge 0) and a 10 km expressway along y = 3000 (edge 1), labelled."""
    from shapely.geometry import LineString as Line

    from geo.routing.access import RoadEdges

    base = Router.from_arrays([1, 2, 3, 4], x=[0, 10000, 0, 10000], y=[0, 0, 3000, 3000], u=[1, 3, 1], v=[2, 4, 3],
                              weight=[600.0, 300.0, 300.0])
    lines = [Line([(0, 0), (10000, 0)]), Line([(0, 3000), (10000, 3000)]), Line([(0, 0), (0, 3000)])]
    edges = RoadEdges.of(base, lines, [1, 3, 1], [2, 4, 3], [600.0, 300.0, 300.0], joinable=[True, False, True])
    labels = {0: "QL31", 1: "CT.01", 2: "ĐT295"}
    return base, edges, labels.__getitem__


def test_a_sketched_end_21_m_from_a_road_joins_it_and_reports_the_distance():
    """Issue 24: a two-point road with one end 21 m from a road and the other in the fields was refused; now the end
    joins that road and the report gives each end's snap distance and the road's name."""
    base, edges, label = _two_roads()
    road = line([(4000, 21), (4000, 1500)], road_class="provincial", speed=50)
    after, report = add_planned_roads(base, road, edges=edges, edge_label=label, access_tolerance_m=1000)
    row = report.iloc[0]
    assert row["start_snap_m"] == pytest.approx(21.0) and row["start_joins"] == "junction: link of 21 m to QL31"
    assert row["end_snap_m"] is None and row["end_joins"].startswith("nothing: nearest road it may join is QL31, 1,500 m")
    entries = report.attrs["entries"]
    assert [(e["kind"], e["road"], e["link_m"]) for e in entries] == [("junction", "QL31", 21.0)]


def test_an_end_on_an_expressway_becomes_a_new_interchange_on_it():
    base, edges, label = _two_roads()
    road = line([(5000, 40), (5000, 2990)], road_class="national", speed=60)       # from QL31 up to CT.01
    after, report = add_planned_roads(base, road, edges=edges, edge_label=label, interchange_penalty_s=30, link_speed_kmh=36)
    row = report.iloc[0]
    assert row["end_joins"] == "interchange: link of 10 m to CT.01 (new interchange on it)"
    assert row["interchanges_used"] == 1 and row["access_points"] == 2
    # from the new road's start (on QL31) to CT.01's east end: up the new road, the link, the penalty, half of CT.01
    start = report.loc[0, "access_nodes"][0]
    east = base.index_of([4])[0]
    expected = 2950 / (60 / 3.6) + 10 / 10 + 30 + 150.0
    assert after.travel_times([start], [east])[0, 0] == pytest.approx(expected)


def test_a_road_far_from_every_road_names_distances_and_roads():
    base, edges, label = _two_roads()
    road = line([(20000, 1000), (26000, 1000)], road_class="provincial", speed=50)
    with pytest.raises(InputError) as caught:
        add_planned_roads(base, road, edges=edges, edge_label=label, source="sketch")
    text = str(caught.value)
    assert "sketch: planned road 'test road' touches no road" in text and "tolerance of 1,000 m" in text
    assert "start: 10,050 m from QL31" in text and "end: 16,031 m from QL31" in text
    # an expressway whose only interchange lies too far from a road it may join: the interchange is named
    exits = gpd.GeoDataFrame(geometry=[Point(20000, 1000)])
    with pytest.raises(InputError, match=r"its 1 interchange\(s\) lie farther .*interchange at 0 m along the line: 10,050 m from QL31"):
        add_planned_roads(base, line([(20000, 1000), (26000, 1000)]), exits, edges=edges, edge_label=label, source="sketch")


def test_a_road_without_a_design_speed_takes_the_speed_models_or_is_refused():
    """The default design speed of a class is the speed model's (planned_roads), never a number in code."""
    from layers.networks import planned_road_speeds
    from layers.networks.options import DEFAULT_SPEED_MODEL
    from geo.routing.speeds import load_speed_model

    base = grid_router()
    exits = gpd.GeoDataFrame(geometry=[Point(0, 2500), Point(5000, 2500)])
    road = line([(0, 2500), (5000, 2500)], speed=None)
    with pytest.raises(InputError, match="no usable design speed"):
        add_planned_roads(base, road, exits)
    speeds = planned_road_speeds(load_speed_model(DEFAULT_SPEED_MODEL))
    kmh, basis = speeds["expressway"]
    assert kmh == 100 and "VnExpress" in basis
    _, report = add_planned_roads(base, road, exits, default_speeds={"expressway": 77.0})
    assert report.loc[0, "design_speed_kmh"] == 77.0
