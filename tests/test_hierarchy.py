"""Customizable contraction hierarchy (geo/routing/hierarchy.py) and the Router queries that use it, against networkx/scipy.

Every query type is checked for exact times (1e-6 s) and for NaN where
unreachable: many-to-many and nearest-of-a-set (buckets), one-to-all rows
(PHAST), bounded searches, customisation (new weights on the same order and
topology), a topology in a given order (scenario nodes), and the added-arcs overlay (a new road, attached points, faster edges) — on
random graphs with zero weights and parallel arcs, on the real Bắc Giang
network (undirected) and on Liechtenstein's drive graph (directed, one-way
streets). Disk caching of hierarchies is off here (tests build them cold).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyogrio
import pytest
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from geo.routing import hierarchy_cache
from geo.routing import router as routing

from geo import settings
from geo.routing.hierarchy import Hierarchy
from geo.routing.router import Router

SPEED_40_KMH = 40 / 3.6


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    settings.progress = False
    settings.hierarchy_cache = False
    # Answer every query by the hierarchy here (the ski-rental model would use plain searches at first).
    monkeypatch.setattr(routing, "HIERARCHY_AFTER_SEARCHES", 0)


def _inf_to_nan(a):
    return np.where(np.isinf(a), np.nan, a)


def _assert_same(actual, expected):
    actual, expected = _inf_to_nan(np.asarray(actual, float)), _inf_to_nan(np.asarray(expected, float))
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), "reachable sets differ"
    np.testing.assert_allclose(actual[~np.isnan(actual)], expected[~np.isnan(expected)], rtol=0, atol=1e-6)


# ---------------------------------------------------------------------- random graphs
def _random_graph(rng, directed):
    n = int(rng.integers(2, 60))
    m = int(rng.integers(1, 4 * n))
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.choice([0.0, 1.0, 2.5, float(rng.random() * 10)], m)   # zero weights and ties on purpose
    return Router.from_arrays(np.arange(n), np.zeros(n), np.zeros(n), u, v, w, directed=directed, crs=None)


@pytest.mark.parametrize("few_groups_max", [0, 64])     # 0: every query by the linked buckets
@pytest.mark.parametrize("directed", [False, True])
def test_hierarchy_queries_equal_dijkstra_on_random_graphs(monkeypatch, directed, few_groups_max):
    from geo.routing import hierarchy

    monkeypatch.setattr(hierarchy, "FEW_GROUPS_MAX", few_groups_max)
    rng = np.random.default_rng(3 + directed)
    for _ in range(15):
        r = _random_graph(rng, directed)
        ref = dijkstra(r.graph, directed=True)
        h = Hierarchy.build(r.graph)
        again = Hierarchy.build(r.graph, order=h.order_for(r.n))          # topology in a given order
        for hh in (h, again):
            _assert_same(hh.one_to_all(np.arange(r.n)), ref)
            _assert_same(hh.many_to_many(np.arange(r.n), [[j] for j in range(r.n)]), ref)
        # New weights (some up, some down, some to 0): only the customisation runs, same answers as Dijkstra.
        new = r.graph.copy()
        new.data = new.data * rng.choice([0.0, 0.3, 1.0, 4.0], len(new.data))
        custom = h.customise(new)
        assert custom.topology is h.topology and custom.stats.triangles == h.stats.triangles
        ref_new = dijkstra(new, directed=True)
        _assert_same(custom.one_to_all(np.arange(r.n)), ref_new)
        _assert_same(custom.many_to_many(np.arange(r.n), [[j] for j in range(r.n)]), ref_new)
        _assert_same(h.one_to_all(np.arange(r.n)), ref)                    # the original is untouched
        buf = np.full((r.n, r.n), -1.0)
        assert h.one_to_all(np.arange(r.n), out=buf) is buf
        _assert_same(buf, ref)
        with pytest.raises(ValueError, match="C-contiguous"):
            h.one_to_all(np.arange(r.n), out=np.empty((r.n + 1, r.n)))
        sets = [rng.choice(r.n, 3) for _ in range(3)] + [np.array([], dtype=np.int64)]
        got = r.time_to_nearest(np.arange(r.n), sets)
        expected = np.column_stack([ref[:, s].min(axis=1) if s.size else np.full(r.n, np.inf) for s in sets])
        _assert_same(got, expected)



def test_customise_without_the_triangle_cache_is_the_same(monkeypatch):
    """Above TRIANGLE_CACHE_MAX the lower triangles are looked up at each customisation: same weights."""
    from geo.routing import hierarchy

    rng = np.random.default_rng(21)
    r = _random_graph(rng, True)
    while r.hierarchy().stats.triangles == 0:
        r = _random_graph(rng, True)
    cached = Hierarchy.build(r.graph)
    monkeypatch.setattr(hierarchy, "TRIANGLE_CACHE_MAX", 0)
    looked_up = Hierarchy.build(r.graph)
    assert cached.topology.triangles is not None and looked_up.topology.triangles is None
    np.testing.assert_array_equal(cached.fwd, looked_up.fwd)
    np.testing.assert_array_equal(cached.bwd, looked_up.bwd)


def test_supernode_grouped_pull_on_a_grid_is_the_same(monkeypatch):
    """A grid's separators make supernodes (chains with U(r − 1) = {r} ∪ U(r)): the pull that sums their
    triangles column-wise (no triangle cache) gives bit-identical weights to the cached push, and exact times."""
    from geo.routing import hierarchy

    rng = np.random.default_rng(12)
    side = 24
    grid = np.arange(side * side).reshape(side, side)
    u = np.r_[grid[:, :-1].ravel(), grid[:-1, :].ravel()]
    v = np.r_[grid[:, 1:].ravel(), grid[1:, :].ravel()]
    keep = rng.random(u.size) > 0.1
    u, v = u[keep], v[keep]
    for directed in (False, True):
        w = rng.choice([0.0, 1.0, float(rng.uniform(1, 9))], u.size) if directed else rng.uniform(1, 9, u.size)
        r = Router.from_arrays(np.arange(side * side), grid.ravel() % side * 1.0, grid.ravel() // side * 1.0,
                               u, v, w, directed=directed, crs=None)
        cached = Hierarchy.build(r.graph)
        t = cached.topology
        supernode = hierarchy._supernodes(t.n, t.up_ptr, t.parent)
        for x in np.flatnonzero(supernode[1:] == supernode[:-1]) + 1:        # the chain property, every link
            assert [x] + t.up_head[t.up_ptr[x]:t.up_ptr[x + 1]].tolist() == \
                t.up_head[t.up_ptr[x - 1]:t.up_ptr[x]].tolist()
        down_ptr, tails, _ = hierarchy._downward(t.n, t.up_ptr, t.up_head)
        grouped = sum(int(np.sum((np.diff(d) == 1) & (supernode[d[1:]] == supernode[d[:-1]])))
                      for d in (tails[down_ptr[y]:down_ptr[y + 1]] for y in range(t.n)))
        assert grouped > 100                                                  # groups really occur here
        monkeypatch.setattr(hierarchy, "TRIANGLE_CACHE_MAX", 0)
        monkeypatch.setattr(hierarchy, "_free_threads", lambda: 1)
        pulled = Hierarchy.build(r.graph, order=t.order)
        monkeypatch.undo()
        assert pulled.topology.triangles is None and cached.topology.triangles is not None
        np.testing.assert_array_equal(pulled.fwd, cached.fwd)
        np.testing.assert_array_equal(pulled.bwd, cached.bwd)
        sources = rng.choice(r.n, 12, replace=False)
        _assert_same(pulled.one_to_all(sources), dijkstra(r.graph, directed=True, indices=sources))


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("cache_triangles", [True, False])
def test_parallel_customisation_is_the_same(monkeypatch, threads, cache_triangles):
    """Customisation split over threads (disjoint elimination subtrees, then their ancestors, each node pulling
    its own arcs) gives bit-identical weights to the sequential one, and exact times on random graphs."""
    from geo.routing import hierarchy

    rng = np.random.default_rng(30 + threads)
    if not cache_triangles:
        monkeypatch.setattr(hierarchy, "TRIANGLE_CACHE_MAX", 0)
    for directed in (False, True):
        for _ in range(8):
            r = _random_graph(rng, directed)
            monkeypatch.setattr(hierarchy, "_free_threads", lambda: 1)
            sequential = Hierarchy.build(r.graph)
            monkeypatch.setattr(hierarchy, "_free_threads", lambda: threads)
            monkeypatch.setattr(hierarchy, "PARALLEL_MIN_TRIANGLES", 0)
            new = r.graph.copy()
            new.data = new.data * rng.choice([0.0, 0.5, 1.0, 3.0], len(new.data))
            parallel = sequential.customise(new)
            assert parallel.topology.__dict__["_schedule"].top.size + sum(
                len(b) for b in parallel.topology.__dict__["_schedule"].bins) == r.n
            monkeypatch.setattr(hierarchy, "_free_threads", lambda: 1)
            again = sequential.customise(new)
            np.testing.assert_array_equal(parallel.fwd, again.fwd)
            np.testing.assert_array_equal(parallel.bwd, again.bwd)
            _assert_same(parallel.one_to_all(np.arange(r.n)), dijkstra(new, directed=True))


def test_customise_refuses_other_arcs():
    rng = np.random.default_rng(4)
    r = _random_graph(rng, False)
    other = Router.from_arrays(np.arange(r.n), np.zeros(r.n), np.zeros(r.n), [0], [r.n - 1], [1.0], crs=None)
    with pytest.raises(ValueError, match="same arcs"):
        Hierarchy.build(r.graph).customise(other.graph)
    with pytest.raises(ValueError, match="permutation"):
        Hierarchy.build(r.graph, order=np.zeros(r.n, np.int64))


@pytest.mark.parametrize("few_groups_max", [0, 64])
@pytest.mark.parametrize("directed", [False, True])
def test_large_target_groups_are_exact(monkeypatch, directed, few_groups_max):
    """Groups with every node (and repeats) are multi-source walks over the union of their tree paths."""
    from geo.routing import hierarchy

    monkeypatch.setattr(hierarchy, "FEW_GROUPS_MAX", few_groups_max)
    rng = np.random.default_rng(11 + directed)
    for _ in range(5):
        r = _random_graph(rng, directed)
        ref = dijkstra(r.graph, directed=True)
        h = Hierarchy.build(r.graph)
        everything = np.r_[np.arange(r.n), np.arange(r.n)]
        half = rng.choice(r.n, max(1, r.n // 2), replace=False)
        got = h.many_to_many(np.arange(r.n), [everything, half, everything[::-1]])
        expected = np.column_stack([ref.min(axis=1), ref[:, half].min(axis=1), ref.min(axis=1)])
        _assert_same(got, expected)
        _assert_same(h.many_to_many(np.arange(r.n), [[j] for j in range(r.n)]), ref)   # work arrays left clean

@pytest.mark.parametrize("directed", [False, True])
def test_many_to_few_closes_the_shared_top(directed):
    """Many sources and few groups (single nodes, sets, an empty one): the top of the tree that at least k
    sources pass through is closed once (k-wide) and the walks stop there; times equal Dijkstra's, and the
    work arrays are left clean (a second query with other groups is still exact)."""
    from geo.routing import hierarchy

    rng = np.random.default_rng(40 + directed)
    for _ in range(10):
        r = _random_graph(rng, directed)
        ref = dijkstra(r.graph, directed=True)
        h = Hierarchy.build(r.graph)
        groups = [[int(rng.integers(r.n))], rng.choice(r.n, 3), [], [int(rng.integers(r.n))]]
        sources = np.r_[np.arange(r.n), np.arange(r.n)]
        got = h.many_to_many(sources, groups)
        expected = np.column_stack([ref[:, g].min(axis=1) if len(g) else np.full(r.n, np.inf) for g in groups])
        _assert_same(got, expected[sources])
        dist, count, slot, _ = h._work_arrays()
        assert np.isinf(dist).all() and (count == -1).all() and (slot == -1).all()
        counts = np.zeros(r.n, np.int64)                      # the closed top was not empty here
        for s in h.topology.rank[sources]:
            while s != -1:
                counts[s] += 1
                s = h.topology.parent[s]
        assert counts.max() >= len(groups) and len(groups) <= hierarchy.FEW_GROUPS_MAX
        _assert_same(h.many_to_many(sources[:3], [[j] for j in range(r.n)]), ref[sources[:3]])


def test_overlay_equals_a_router_built_from_scratch():
    """Arcs added to a router are answered on the base hierarchy, exactly like a fresh router."""
    rng = np.random.default_rng(5)
    for directed in (False, True):
        for _ in range(8):
            base = _random_graph(rng, directed)
            k = int(rng.integers(1, 4))
            grown = base.add_nodes(np.arange(1000, 1000 + k), np.zeros(k), np.zeros(k))
            ends = rng.integers(0, grown.n, (6, 2))
            grown = grown.add_edges(ends[:, 0], ends[:, 1], rng.choice([0.0, 0.5, 3.0], 6))
            assert grown._overlay_fits()
            fresh = Router.from_arrays(grown.node_ids, grown.x, grown.y, grown.node_ids[grown.edge_u],
                                       grown.node_ids[grown.edge_v], grown.edge_weight, directed=directed, crs=None)
            ref = dijkstra(fresh.graph, directed=True)
            _assert_same(grown.travel_times(np.arange(grown.n), np.arange(grown.n)), ref)
            sets = [rng.choice(grown.n, 2), np.array([grown.n - 1])]
            _assert_same(grown.time_to_nearest(np.arange(grown.n), sets),
                         np.column_stack([ref[:, s].min(axis=1) for s in sets]))


def test_with_weights_faster_and_slower():
    rng = np.random.default_rng(9)
    r = _random_graph(rng, True)
    r.hierarchy()
    for factor in (0.5, 2.0):   # down: overlay of changed arcs; up: the base hierarchy re-customised
        w = np.where(rng.random(len(r.edge_weight)) < 0.5, r.edge_weight * factor, r.edge_weight)
        changed = r.with_weights(w)
        fresh = Router.from_arrays(r.node_ids, r.x, r.y, r.edge_u, r.edge_v, w, directed=True, crs=None)
        _assert_same(changed.travel_times(np.arange(r.n), np.arange(r.n)), dijkstra(fresh.graph, directed=True))
        assert (changed._overlay is not None) == (factor < 1)
        _assert_same(changed.hierarchy().one_to_all(np.arange(r.n)), dijkstra(fresh.graph, directed=True))
        assert changed.hierarchy().topology is r.hierarchy().topology        # customised, not rebuilt


def test_disk_cache_is_keyed_by_the_arcs_and_re_customised(monkeypatch, tmp_path):
    """A second network with the same arcs and other weights loads the cached order and topology."""
    monkeypatch.setattr(settings, "hierarchy_cache", True)
    monkeypatch.setattr(settings, "cache_folder", tmp_path)
    rng = np.random.default_rng(8)
    r = _random_graph(rng, True)
    built = r.hierarchy()
    files = list((tmp_path / "hierarchy").glob("cch-v*-*.npz"))
    assert len(files) == 1
    slower = Router.from_arrays(r.node_ids, r.x, r.y, r.edge_u, r.edge_v, r.edge_weight * 3 + 1, directed=True,
                                crs=None)
    assert slower._hierarchy_at_hand()                        # same arcs: the cached file answers
    loaded = slower.hierarchy()
    assert loaded.stats.triangles == built.stats.triangles and not np.array_equal(loaded.fwd, built.fwd)
    _assert_same(loaded.one_to_all(np.arange(r.n)), dijkstra(slower.graph, directed=True))
    same = Router.from_arrays(r.node_ids, r.x, r.y, r.edge_u, r.edge_v, r.edge_weight, directed=True, crs=None)
    np.testing.assert_array_equal(same.hierarchy().fwd, built.fwd)
    assert len(list((tmp_path / "hierarchy").glob("*.npz"))) == 1


def test_limit_gives_nan_not_zero():
    r = Router.from_arrays([1, 2, 3, 4], [0, 1, 2, 3], [0, 0, 0, 0], [1, 2], [2, 3], [60.0, 60.0], crs=None)
    got = r.time_to_nearest([0, 3], [[2], [3]], limit=100)
    assert np.isnan(got[0, 0]) and got[1, 1] == 0 and np.isnan(got[0, 1])
    assert r.time_to_nearest([0], [[1]]).tolist() == [[60.0]]


def test_hierarchy_save_load_roundtrip(tmp_path):
    rng = np.random.default_rng(1)
    r = _random_graph(rng, True)
    h = Hierarchy.build(r.graph)
    hierarchy_cache.save(h, tmp_path / "h.npz")
    back = hierarchy_cache.load(tmp_path / "h.npz")
    _assert_same(back.one_to_all(np.arange(r.n)), h.one_to_all(np.arange(r.n)))


# ---------------------------------------------------------------------- Bắc Giang (undirected)
@pytest.fixture(scope="module")
def bacgiang(shared_data):
    path = shared_data / "bacgiang_roads_osm2018_bbox03.gpkg"
    edges = pyogrio.read_dataframe(path, layer="edges", columns=["u", "v", "length_m"], read_geometry=False)
    nodes = pyogrio.read_dataframe(path, layer="nodes", columns=["node_id", "x", "y"], read_geometry=False)
    x, y = Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True).transform(nodes.x.to_numpy(),
                                                                                             nodes.y.to_numpy())
    seconds = edges.length_m.to_numpy() / SPEED_40_KMH
    settings.hierarchy_cache = False
    router = Router.from_arrays(nodes.node_id, x, y, edges.u, edges.v, seconds)
    G = nx.Graph()
    G.add_nodes_from(nodes.node_id.tolist())
    for a, b, w in zip(edges.u.tolist(), edges.v.tolist(), seconds.tolist()):
        if a != b and (not G.has_edge(a, b) or G[a][b]["weight"] > w):
            G.add_edge(a, b, weight=w)
    return router, G


def _nx_rows(G, router, sources):
    rows = np.full((len(sources), router.n), np.nan)
    for i, s in enumerate(sources):
        d = nx.single_source_dijkstra_path_length(G, router.node_ids[s])
        rows[i, router.index_of(list(d))] = list(d.values())
    return rows


@pytest.mark.filterwarnings("ignore:All-NaN slice")
def test_bacgiang_every_query_type_matches_networkx(bacgiang):
    router, G = bacgiang
    rng = np.random.default_rng(0)
    main = np.flatnonzero(router.largest_component())
    dests = rng.choice(main, 6, replace=False)
    parks = np.r_[rng.choice(main, 20, replace=False), np.flatnonzero(~router.largest_component())[:3]]
    expected = _nx_rows(G, router, dests)                         # undirected: rows from the destinations
    _assert_same(router.travel_times(parks, dests), expected[:, parks].T)            # many-to-many (CH)
    _assert_same(router.time_to_nearest(parks, [dests[:3], dests[3:]]),               # nearest of a set
                 np.column_stack([np.nanmin(expected[:3, parks], axis=0), np.nanmin(expected[3:, parks], axis=0)]))
    _assert_same(router.travel_times(dests), expected)                                # one-to-all (PHAST)
    for (nodes, times), row in zip(router.reachable_within(dests[:3], 1200.0), expected):   # bounded
        inside = np.flatnonzero(row <= 1200.0)
        assert set(nodes.tolist()) ^ set(inside.tolist()) <= set(np.flatnonzero(np.abs(row - 1200.0) < 1e-6))
        np.testing.assert_allclose(times, row[nodes], atol=1e-6, rtol=0)
    # A new road (two arcs through a new junction) and faster edges: no rebuild, same as networkx.
    a, b = dests[0], parks[0]
    road = router.add_nodes([-1], [router.x[a]], [router.y[a]]).add_edges([a, router.n], [router.n, b], [10.0, 10.0])
    G2 = G.copy()
    G2.add_edge(router.node_ids[a], -1, weight=10.0)
    G2.add_edge(-1, router.node_ids[b], weight=10.0)
    after = _nx_rows(G2, road, dests)
    _assert_same(road.time_to_nearest(parks, [[d] for d in dests]), after[:, parks].T)
    assert road._overlay_fits() and road._ch is None                 # the base hierarchy answered
    # Slower and faster roads everywhere (a calibration run): the base hierarchy re-customised.
    factor = rng.choice([0.8, 1.0, 1.3], len(router.edge_weight))
    slower = router.with_weights(router.edge_weight * factor)
    G3 = nx.Graph()
    for a_, b_, w_ in zip(router.node_ids[router.edge_u].tolist(), router.node_ids[router.edge_v].tolist(),
                          (router.edge_weight * factor).tolist()):
        if a_ != b_ and (not G3.has_edge(a_, b_) or G3[a_][b_]["weight"] > w_):
            G3.add_edge(a_, b_, weight=w_)
    G3.add_nodes_from(router.node_ids.tolist())
    _assert_same(slower.time_to_nearest(parks, [[d] for d in dests]), _nx_rows(G3, slower, dests)[:, parks].T)
    assert slower.hierarchy().topology is router.hierarchy().topology


def test_bacgiang_nested_dissection_keeps_search_spaces_small(bacgiang):
    """The order's quality: elimination-tree paths (every query's search space) stay short.

    A CCH is exact in any order, so only its size shows a bad order: with the
    nodes in input order the tree path is thousands of nodes long; METIS gives ~180.
    """
    router, _ = bacgiang
    stats = router.hierarchy().stats
    assert stats.tree_height < 400 and stats.up_arcs < 2 * stats.arcs     # measured 179 and 1.5×
    naive = Hierarchy.build(router.graph, order=np.arange(router.n))
    assert naive.stats.tree_height > 5 * stats.tree_height


# ---------------------------------------------------------------------- Liechtenstein (directed, one-way)
@pytest.fixture(scope="module")
def liechtenstein_directed(liechtenstein_drive_graph):
    G = liechtenstein_drive_graph
    return G, Router.from_networkx(G, metric_crs="EPSG:32632")


def test_directed_one_way_matches_networkx(liechtenstein_directed):
    G, router = liechtenstein_directed
    assert router.directed
    rng = np.random.default_rng(2)
    strong = np.flatnonzero(router.components("strong") == 0)
    src = rng.choice(strong, 8, replace=False)
    dst = np.r_[rng.choice(router.n, 8, replace=False)]
    rows = np.full((len(src), router.n), np.nan)
    for i, s in enumerate(src):
        d = nx.single_source_dijkstra_path_length(G, router.node_ids[s], weight="travel_time")
        rows[i, router.index_of(list(d))] = list(d.values())
    _assert_same(router.travel_times(src, dst), rows[:, dst])                 # CH many-to-many, one-way aware
    _assert_same(router.travel_times(src), rows)                               # PHAST rows
    _assert_same(router.time_to_nearest(src, [dst[:4]]), np.nanmin(rows[:, dst[:4]], axis=1, keepdims=True)
                 if np.isfinite(rows[:, dst[:4]]).any() else rows[:, dst[:1]])
    back = router.travel_times(dst, src)                                      # the other way differs on one-way streets
    assert not np.allclose(np.nan_to_num(back.T, nan=-1), np.nan_to_num(rows[:, dst], nan=-1))


# ---------------------------------------------------------------------- cost model (plain searches first)
@pytest.mark.parametrize("directed", [False, True])
def test_small_batches_use_plain_searches_until_a_build_pays(monkeypatch, directed):
    rng = np.random.default_rng(5)
    r = _random_graph(rng, directed)
    monkeypatch.setattr(routing, "HIERARCHY_AFTER_SEARCHES", 12)
    ref = dijkstra(r.graph, directed=True)
    sets = [np.array([3, 7]), np.array([], np.int64), np.array([r.n - 1])]
    want = np.column_stack([ref[:, s].min(axis=1) if len(s) else np.full(r.n, np.inf) for s in sets])
    few = np.arange(5)
    _assert_same(r.time_to_nearest(few, sets), want[few])           # 3 searches, one per set
    _assert_same(r.time_to_nearest(np.arange(2), sets), want[:2])   # 2 searches, one per origin
    _assert_same(r.travel_times(few, [1, 2, 4]), ref[np.ix_(few, [1, 2, 4])])
    assert r._ch is None and r._searches_spent[0] == 8
    road = r.add_edges([0], [r.n - 1], [0.5])                       # a scenario router shares the budget
    fresh = dijkstra(road.graph, directed=True)
    _assert_same(road.time_to_nearest(few, sets[:1]), fresh[few][:, sets[0]].min(axis=1, keepdims=True))
    assert r._searches_spent[0] == 9
    _assert_same(r.travel_times(few, np.arange(6)), ref[np.ix_(few, np.arange(6))])   # 9 + 5 > 12: build
    assert r._ch is not None
