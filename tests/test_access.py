"""Access measures: minutes to targets and labour catchments against brute force."""

import networkx as nx
import numpy as np
import pytest

from geo.routing.access import Catchment, attach_points, minutes_to_targets
from geo.routing.router import Router


def random_network(seed=0, n=300):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20000, size=(n, 2))
    G = nx.Graph()
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)
    for i, (dist, nbrs) in enumerate(zip(*tree.query(xy, k=4))):
        for d, j in zip(dist[1:], nbrs[1:]):
            G.add_edge(i, int(j), weight=d / (rng.uniform(20, 60) / 3.6))
    u, v = zip(*G.edges)
    w = [G.edges[e]["weight"] for e in G.edges]
    return Router.from_arrays(np.arange(n), xy[:, 0], xy[:, 1], u, v, w), G, xy


def _lines(router, G):
    from shapely.geometry import LineString

    u, v = zip(*G.edges)
    lines = [LineString([(router.x[a], router.y[a]), (router.x[b], router.y[b])]) for a, b in zip(u, v)]
    return lines, np.array(u), np.array(v), np.array([G.edges[e]["weight"] for e in G.edges])


def test_points_on_edges_match_networkx():
    """A point on the middle of an edge reaches a target through either end, as networkx says."""
    router, G, xy = random_network()
    lines, u, v, w = _lines(router, G)
    # 40 points: midpoints of edges, shifted 30 m sideways (access leg 30 m at 20 km/h = 5.4 s).
    mid = np.array([[(xy[a, 0] + xy[b, 0]) / 2, (xy[a, 1] + xy[b, 1]) / 2] for a, b in zip(u[:40], v[:40])])
    normal = np.array([[-(xy[b, 1] - xy[a, 1]), xy[b, 0] - xy[a, 0]] for a, b in zip(u[:40], v[:40])])
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    pts = mid + 30 * normal
    r2, idx, snap, why = attach_points(router, lines, u, v, w, pts[:, 0], pts[:, 1], max_snap_m=500)
    table = minutes_to_targets(r2, idx, {"a": [5, 17]}, origin_reason=why)
    dist = nx.multi_source_dijkstra_path_length(G, {5, 17}, weight="weight")
    largest = max(nx.connected_components(G), key=len)
    for i, (a, b) in enumerate(zip(u[:40], v[:40])):
        if a not in largest:
            assert np.isnan(table.loc[i, "minutes_to_a"])
            continue
        # Nearest edge may differ from the source edge only if another edge is closer than 30 m: check it is this one.
        assert snap[i] == pytest.approx(30, abs=1e-6) or snap[i] < 30
        expected = min(dist[a] + w[i] / 2, dist[b] + w[i] / 2) + 30 / (20 / 3.6)
        if snap[i] == pytest.approx(30, abs=1e-6):
            assert table.loc[i, "minutes_to_a"] == pytest.approx(expected / 60, abs=1e-9)


def test_far_points_and_missing_targets_give_reasons_not_zero():
    router, G, xy = random_network()
    lines, u, v, w = _lines(router, G)
    r2, idx, snap, why = attach_points(router, lines, u, v, w, [xy[0, 0], 1e6], [xy[0, 1], 1e6], max_snap_m=500)
    table = minutes_to_targets(r2, idx, {"ct01": [], "a": [5]}, missing={"ct01": "CT.01 is not in the 2018 network"},
                               origin_reason=why)
    assert table["minutes_to_ct01"].isna().all()
    assert table.loc[0, "reason_ct01"] == "CT.01 is not in the 2018 network"
    assert np.isnan(snap[1]) and np.isnan(table.loc[1, "minutes_to_a"])
    assert "more than 500 m" in table.loc[1, "reason_a"]


def test_catchment_against_brute_force():
    router, G, xy = random_network(seed=3)
    rng = np.random.default_rng(4)
    cells = rng.uniform(-2000, 22000, size=(800, 2))
    people = rng.integers(0, 500, size=800).astype(float)
    people[::50] = np.nan  # unknown population is not counted as people
    catch = Catchment(router, cells[:, 0], cells[:, 1], people, max_snap_m=1500, access_speed_kmh=20)
    origins = np.array([0, 10, 99])
    got = catch.people_within(origins, minutes=(10, 20))
    assert np.isnan(catch.people_within([-1], minutes=(10,))).all()
    # Brute force: every cell snapped to its nearest node of the largest component, networkx distances, explicit loop.
    largest = np.array(sorted(max(nx.connected_components(G), key=len)))
    for row, o in enumerate(origins):
        dist = nx.single_source_dijkstra_path_length(G, int(o), weight="weight")
        for j, limit in enumerate((10, 20)):
            total = 0.0
            for (cx, cy), p in zip(cells, people):
                if not np.isfinite(p) or p <= 0:
                    continue
                d2 = (xy[largest, 0] - cx) ** 2 + (xy[largest, 1] - cy) ** 2
                k = int(np.argmin(d2))
                node, d2 = int(largest[k]), {int(largest[k]): d2[k]}
                if np.sqrt(d2[node]) > 1500 or node not in dist:
                    continue
                if dist[node] + np.sqrt(d2[node]) / (20 / 3.6) <= limit * 60:
                    total += p
            assert got[row, j] == pytest.approx(total)
    assert (got[:, 1] >= got[:, 0]).all()
    assert catch.unattached_people > 0


def test_points_join_the_nearest_suitable_edge_never_an_expressway_mid_way():
    """A point beside an expressway joins the ordinary road behind it; the edge is split where it joins."""
    from shapely.geometry import LineString

    from geo.routing.access import RoadEdges

    # nodes 1-2: a 10 km expressway (y = 0); nodes 3-4: a 10 km local road (y = 300); a ramp 1-3
    r = Router.from_arrays([1, 2, 3, 4], x=[0, 10000, 0, 10000], y=[0, 0, 300, 300], u=[1, 3, 1], v=[2, 4, 3],
                           weight=[360.0, 1200.0, 30.0])
    lines = [LineString([(0, 0), (10000, 0)]), LineString([(0, 300), (10000, 300)])]
    edges = RoadEdges.of(r, lines, [1, 3], [2, 4], [360.0, 1200.0], joinable=[False, True])
    r2, idx, snap, why = attach_points(r, edges, x=[2500], y=[50], max_snap_m=1000, access_speed_kmh=18)
    assert snap[0] == pytest.approx(250.0) and why[0] is None           # the local road, not the expressway 50 m away
    t = r2.travel_times([idx[0]], r.index_of([3, 4]))[0]
    assert t.tolist() == pytest.approx([50.0 + 300.0, 50.0 + 900.0])     # split at 25 % of the 1200 s edge
    assert r2.travel_times([idx[0]], r.index_of([2]))[0, 0] == pytest.approx(350.0 + 30.0 + 360.0)   # in at the ramp
    # an expressway alone is never joined: the point is reported, not attached mid-way
    only = RoadEdges.of(r, lines, [1, 3], [2, 4], [360.0, 1200.0], joinable=[False, False])
    _, _, snap, why = attach_points(r, only, x=[2500], y=[50], max_snap_m=1000)
    assert np.isnan(snap[0]) and "more than 1,000 m" in why[0]


def test_catchment_cells_on_a_long_edge_join_it_where_they_are():
    """A cell beside the middle of a 15 km edge joins the edge there, not its end node 7.5 km away."""
    from shapely.geometry import LineString

    from geo.routing.access import RoadEdges

    r = Router.from_arrays([1, 2], x=[0, 15000], y=[0, 0], u=[1], v=[2], weight=[900.0])     # 60 km/h
    edges = RoadEdges.of(r, [LineString([(0, 0), (15000, 0)])], [1], [2], [900.0])
    cells = dict(x=[7500.0], y=[100.0], people=[1000.0])
    by_edge = Catchment(r, cells["x"], cells["y"], cells["people"], max_snap_m=2000, access_speed_kmh=18, edges=edges)
    by_node = Catchment(r, cells["x"], cells["y"], cells["people"], max_snap_m=8000, access_speed_kmh=18)
    # from node 1: 450 s along the edge + 20 s access = 7.8 min; by the nearest node the cell is 7.5 km off-road
    assert by_edge.people_within([0], [8]).tolist() == [[1000.0]]
    assert by_node.people_within([0], [8]).tolist() == [[0.0]]


def test_cells_located_once_serve_another_network_with_the_same_lines():
    """A catchment given the cells' location on edges with the same lines (another network's, other weights,
    nodes added) counts exactly what its own search counts; edges with other lines are told apart."""
    from geo.routing.access import RoadEdges

    router, G, xy = random_network(seed=5)
    lines, u, v, w = _lines(router, G)
    rng = np.random.default_rng(6)
    cells = rng.uniform(-2000, 22000, size=(500, 2))
    people = rng.integers(1, 300, size=500).astype(float)
    first = Catchment(router, cells[:, 0], cells[:, 1], people, max_snap_m=1500, edges=RoadEdges.of(router, lines, u, v, w))
    other = router.add_nodes([10_000], [0.0], [0.0]).with_weights(router.edge_weight * 1.3)
    edges = RoadEdges.of(other, [shapely_copy(g) for g in lines], u, v, w * 1.3)
    assert edges.same_lines(RoadEdges.of(router, lines, u, v, w))
    reused = Catchment(other, cells[:, 0], cells[:, 1], people, max_snap_m=1500, edges=edges, located=first.located)
    searched = Catchment(other, cells[:, 0], cells[:, 1], people, max_snap_m=1500, edges=edges)
    origins = np.array([0, 7, 42])
    assert np.array_equal(reused.people_within(origins, (10, 20)), searched.people_within(origins, (10, 20)))
    assert np.array_equal(reused.to_u, searched.to_u) and np.array_equal(reused.node_v, searched.node_v)
    fewer = RoadEdges.of(router, lines, u, v, w, joinable=np.arange(len(lines)) % 2 == 0)
    assert not fewer.same_lines(edges)


def shapely_copy(geometry):
    """The same line as a new object (equal coordinates)."""
    import shapely

    return shapely.from_wkb(shapely.to_wkb(geometry))
