#!/usr/bin/env python
"""Benchmark of the routing engine (geo/routing.py, geo/hierarchy.py) against networkx and peer libraries.

Two networks: the real Bắc Giang 2018 road network (57,548 nodes, weights =
length / 40 km/h) and a generated perturbed grid of ~200,000 nodes (random
speeds, 10 % of links removed, fixed seed). On each, the same work is done by
the router, by networkx (``ratio``) and by the peers of requirements-bench.txt
(igraph, networkit, pandana's CH, RoutingKit's CCH; ``ratio_vs_best_peer`` =
best peer's seconds ÷ ours), in the same run:

* build: ready to answer any query (ours: CSR, contracted core, KD-tree — the
  hierarchy comes later, when it pays; peers: their graph, or graph + index);
* hierarchy build: ours cold (nested dissection, topology, customisation) vs
  the peers that have one (pandana CH, RoutingKit CCH);
* one origin → all nodes; 200 origins × all nodes;
* many-to-few: 53 parks × 9 destinations (the access job);
* isochrone node sets: 100 origins, nodes within 30 min; catchments: people
  within 30 min of 1,000 nodes;
* scenarios: the access job after a speed change (5 % of the edges 25 %
  faster) and after a new road; end to end: build + access job + 10 scenario
  re-runs;
* nearest of 50 facilities, isochrone polygons (no peer counterpart).

Compiled kernels are loaded before timing (:func:`warm_up`), as importing a
peer loads its C++ library; every hierarchy is built cold (disk cache off).
Results agree with networkx to 1e-6 s (``max_abs_diff_s``).
Writes OUT/bench.json: {task: {fast_s, best_peer, best_peer_s, ratio_vs_best_peer, baseline_s, ratio, …}}.

Run: ``python scripts/bench_routing.py --out out`` (about 15 minutes; ``--grid-side 0``: real network
only, about 3 minutes).
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from geo import settings  # noqa: E402
from geo.isochrones import isochrones  # noqa: E402
from geo.output import write_json  # noqa: E402
from geo.routing import Router  # noqa: E402

log = logging.getLogger("bench_routing")
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SPEED_MS = 40 / 3.6


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def traced(fn):
    """Result and traced peak (MiB) of new allocations while ``fn`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak / 2 ** 20


# ---------------------------------------------------------------------- networks
def bacgiang_network(data_dir: Path):
    import geopandas as gpd
    import pyogrio
    from pyproj import Transformer

    path = data_dir / "bacgiang_roads_osm2018_bbox03.gpkg"
    edges = gpd.read_file(path, layer="edges", columns=["u", "v", "length_m"], engine="pyogrio")
    nodes = pyogrio.read_dataframe(path, layer="nodes", columns=["node_id", "x", "y"], read_geometry=False)
    x, y = Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True).transform(
        nodes.x.to_numpy(), nodes.y.to_numpy())
    return {"name": "bacgiang", "ids": nodes.node_id.to_numpy(), "x": np.asarray(x), "y": np.asarray(y),
            "u": edges.u.to_numpy(), "v": edges.v.to_numpy(), "w": edges.length_m.to_numpy() / SPEED_MS,
            "geometry": edges.geometry.to_crs(settings.metric_crs)}


def grid_network(side: int, seed: int):
    """Perturbed square grid, 250 m spacing, 10 % of links removed, speeds 20–60 km/h."""
    rng = np.random.default_rng(seed)
    spacing = 250.0
    ids = np.arange(side * side)
    col, row = ids % side, ids // side
    x = col * spacing + rng.uniform(-0.3, 0.3, ids.size) * spacing
    y = row * spacing + rng.uniform(-0.3, 0.3, ids.size) * spacing
    grid = ids.reshape(side, side)
    u = np.r_[grid[:, :-1].ravel(), grid[:-1, :].ravel()]
    v = np.r_[grid[:, 1:].ravel(), grid[1:, :].ravel()]
    keep = rng.random(u.size) > 0.10
    u, v = u[keep], v[keep]
    speed = rng.uniform(20, 60, u.size) / 3.6
    w = np.hypot(x[u] - x[v], y[u] - y[v]) / speed
    return {"name": f"grid{round(side * side / 1000)}k", "ids": ids, "x": x, "y": y, "u": u, "v": v, "w": w, "geometry": None}


def networkx_graph(net) -> nx.Graph:
    """Plain networkx graph (minimum weight per node pair, as the router keeps)."""
    u, v, w = net["u"], net["v"], net["w"]
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    G = nx.Graph()
    G.add_nodes_from(net["ids"].tolist())
    G.add_weighted_edges_from(zip(a[first].tolist(), b[first].tolist(), w[first].tolist()))
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    return G


def build_router(net, hierarchy: bool = True) -> Router:
    router = Router.from_arrays(net["ids"], net["x"], net["y"], net["u"], net["v"], net["w"])
    router._forward()                    # contracted core (lazy otherwise)
    router.snap(net["x"][:1], net["y"][:1], 1.0)   # KD-tree (lazy otherwise)
    if hierarchy:
        router.hierarchy()               # contraction hierarchy (lazy otherwise; disk cache off in the bench)
    return router


def warm_up() -> None:
    """Load the compiled (numba) kernels once, as importing a peer loads its C++ library: timings start warm."""
    net = grid_network(6, 0)
    router = build_router(net)
    router.travel_times([0, 1], [2, 3])
    router.travel_times([0])
    router.reachable_within([0], 100.0)
    router.with_weights(router.edge_weight * 2).time_to_nearest([0], [[5]])


# ---------------------------------------------------------------------- timing
def median_time(fn, repeats: int = 3):
    """Result of the first run and the median seconds of up to ``repeats`` runs (one run if it takes > 5 s)."""
    result, first = timed(fn)
    times = [first]
    if first < 5.0:
        for _ in range(repeats - 1):
            times.append(timed(fn)[1])
    return result, float(np.median(times))


def build_peers(net, skip: set) -> dict:
    """Peers built from the same edges (node indexes); build seconds kept for the end-to-end task."""
    from scripts import bench_peers as bp
    from pyproj import Transformer

    a, b, w = bp.unique_edges(net)
    n = len(net["ids"])
    lon, lat = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True).transform(net["x"], net["y"])
    makers = {"igraph": lambda: bp.IGraph(n, a, b, w), "networkit": lambda: bp.NetworKit(n, a, b, w),
              "pandana": lambda: bp.Pandana(n, a, b, w, net["x"], net["y"]),
              "pyroutingkit": lambda: bp.RoutingKitCCH(n, a, b, w, lat, lon)}
    peers = {}
    for name, make in makers.items():
        if name in skip:
            continue
        try:
            peer, s = timed(make)
        except Exception as exc:  # noqa: BLE001 - a peer that does not install/build is reported
            log.info("peer %s unavailable: %s", name, exc)
            continue
        peer.build_s = s
        peers[name] = peer
    return peers


def with_peers(task: dict, peer_times: dict, baseline_s: float | None) -> dict:
    """Fill ``best_peer``, ``best_peer_s``, ``ratio_vs_best_peer`` (peer s ÷ ours) and the networkx ratio."""
    task["peers_s"] = {k: float(v) for k, v in peer_times.items()}
    if peer_times:
        best = min(peer_times, key=peer_times.get)
        task.update(best_peer=best, best_peer_s=float(peer_times[best]),
                    ratio_vs_best_peer=float(peer_times[best] / task["fast_s"]))
    else:
        task.update(best_peer=None, best_peer_s=None, ratio_vs_best_peer=None)
    task["baseline_s"] = baseline_s
    task["ratio"] = None if baseline_s is None else float(baseline_s / task["fast_s"])
    return task


def worst_diff(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest |difference| where both are finite; inf if they disagree on reachability."""
    a = np.where(np.isnan(ours), np.inf, ours)
    if not np.array_equal(np.isinf(a), np.isinf(theirs)):
        return float("inf")
    fin = np.isfinite(a)
    return float(np.max(np.abs(a[fin] - theirs[fin]))) if fin.any() else 0.0


def nx_rows(G, ids, sources, n, index, cutoff=None):
    out = np.full((len(sources), n), np.inf)
    for i, s in enumerate(sources):
        d = nx.single_source_dijkstra_path_length(G, int(ids[s]), cutoff=cutoff)
        keys = np.fromiter(d.keys(), dtype=np.int64, count=len(d))
        out[i, index.get_indexer(keys)] = np.fromiter(d.values(), dtype=np.float64, count=len(d))
    return out


# ---------------------------------------------------------------------- tasks
def bench_network(net, nx_sample: int | None, polygon_sample: int, seed: int, skip_peers: set) -> dict:
    import pandas as pd

    results = {}
    name = net["name"]
    n = len(net["ids"])
    log.info("%s: %d nodes, %d edges", name, n, len(net["u"]))
    settings.hierarchy_cache = False      # every build below is a cold build

    router, router_s = timed(lambda: build_router(net, hierarchy=False))
    hierarchy, hierarchy_s = timed(router.hierarchy)
    G, nx_s = timed(lambda: networkx_graph(net))
    _, router_mb = traced(lambda: build_router(net, hierarchy=False))
    _, nx_mb = traced(lambda: networkx_graph(net))
    peers = build_peers(net, skip_peers)
    # Ready to answer: our router answers every query before its hierarchy exists (plain
    # searches, see HIERARCHY_AFTER_SEARCHES); a CH/CCH library cannot answer before its index.
    results[f"{name}_build"] = with_peers(
        {"fast_s": router_s, "peak_mb": router_mb, "baseline_peak_mb": nx_mb, "memory_ratio": router_mb / nx_mb,
         "nodes": n, "core_nodes": int(router._forward().K) if hasattr(router._forward(), "K") else None,
         "note": "ready to answer any query: router incl. contracted core and KD-tree (the hierarchy is "
                 "built later, when it pays); peers: graph (igraph, networkit) or graph + index (CH, CCH)"},
        {k: p.build_s for k, p in peers.items()}, nx_s)
    stats = hierarchy.stats
    results[f"{name}_hierarchy_build"] = with_peers(
        {"fast_s": router_s + hierarchy_s, "hierarchy_s": hierarchy_s, "order_s": stats.order_s,
         "topology_s": stats.topology_s, "customise_s": stats.customise_s, "up_arcs": stats.up_arcs,
         "triangles": stats.triangles, "tree_height": stats.tree_height, "nodes": n,
         "note": "cold: router + CCH (nested dissection order, topology, customisation); "
                 "peers with a hierarchy: graph + CH (pandana) or CCH (RoutingKit)"},
        {k: p.build_s for k, p in peers.items() if k in ("pandana", "pyroutingkit")}, None)
    log.info("built: router %.2f s, hierarchy %.2f s, peers %s", router_s, hierarchy_s,
             {k: round(p.build_s, 2) for k, p in peers.items()})

    rng = np.random.default_rng(seed)
    main = np.flatnonzero(router.largest_component())
    origins = rng.choice(main, 200, replace=False)
    ids = router.node_ids
    index = pd.Index(ids)
    sample = origins if nx_sample is None else origins[:nx_sample]
    scale = len(origins) / len(sample)

    # 1. One origin → all nodes (median over 5 origins).
    five = origins[:5]
    row, fast = median_time(lambda: router.travel_times(five))
    expected, base = timed(lambda: nx_rows(G, ids, five, n, index))
    peer_t = {k: median_time(lambda p=p: p.rows(five))[1] for k, p in peers.items() if hasattr(p, "rows")}
    results[f"{name}_one_to_all"] = with_peers(
        {"fast_s": fast / 5, "nodes": n, "max_abs_diff_s": worst_diff(row, expected), "method": "PHAST sweeps over the CCH"},
        {k: v / 5 for k, v in peer_t.items()}, base / 5)

    # 2. 200 origins × all nodes.
    matrix, fast = median_time(lambda: router.travel_times(origins), repeats=2)
    _, peak = traced(lambda: router.travel_times(origins))
    expected, base = timed(lambda: nx_rows(G, ids, sample, n, index))
    peer_t = {k: median_time(lambda p=p: p.rows(origins), repeats=1)[1] for k, p in peers.items() if hasattr(p, "rows")}
    results[f"{name}_matrix_200_origins"] = with_peers(
        {"fast_s": fast, "peak_mb": peak, "nodes": n, "max_abs_diff_s": worst_diff(matrix[:len(sample)], expected),
         "method": "PHAST sweeps over the CCH",
         "note": "networkx timed on all 200" if nx_sample is None else f"networkx timed on {len(sample)}, scaled ×{scale:g}"},
        peer_t, base * scale)
    del matrix, expected

    # 3. Many to few: 53 parks × 9 destinations (the access job).
    parks, dests = rng.choice(main, 53, replace=False), rng.choice(main, 9, replace=False)
    # Sub-millisecond on both sides: 31 repeats (ours and the hierarchy peers alike) so the medians
    # are not at the mercy of the other jobs on a shared machine.
    got, fast = median_time(lambda: router.travel_times(parks, dests), repeats=31)
    expected, base = timed(lambda: nx_rows(G, ids, dests, n, index)[:, parks].T)
    peer_t = {}
    for k, p in peers.items():
        if hasattr(p, "pairs"):
            peer_t[k] = median_time(lambda p=p: p.pairs(parks, dests), repeats=31)[1]
        elif isinstance(p, __import__("scripts.bench_peers", fromlist=["RoutingKitCCH"]).RoutingKitCCH):
            peer_t[k] = median_time(lambda p=p: p.rows(parks, dests), repeats=31)[1]
        else:   # Dijkstra libraries: one search per destination (undirected), the cheaper side
            peer_t[k] = median_time(lambda p=p: p.rows(dests, parks), repeats=3)[1]
    results[f"{name}_many_to_few_53x9"] = with_peers(
        {"fast_s": fast, "nodes": n, "max_abs_diff_s": worst_diff(got, expected), "method": "CCH elimination-tree buckets",
         "note": "networkx: 9 searches from the destinations"}, peer_t, base)

    # 4. 100 isochrones as node sets within 30 min.
    iso = origins[:100]
    sets, fast = median_time(lambda: router.reachable_within(iso, 1800.0))
    _, fast2 = median_time(lambda: router.reachable_within(iso, 1800.0, workers=2))
    nx_sets, base = timed(lambda: [nx.single_source_dijkstra_path_length(G, int(ids[o]), cutoff=1800.0)
                                   for o in iso[:len(sample) // 2 or 1]])
    base *= len(iso) / len(nx_sets)
    same = sum(set(ids[a].tolist()) == set(b) for (a, _), b in zip(sets, nx_sets))
    peer_t = {}
    for k, p in peers.items():
        if hasattr(p, "rows"):
            peer_t[k] = median_time(lambda p=p: [np.flatnonzero(r <= 1800.0) for r in p.rows(iso)], repeats=1)[1]
    results[f"{name}_isochrone_nodes_100x30min"] = with_peers(
        {"fast_s": fast, "fast_2_workers_s": fast2, "nodes": n, "same_node_sets": f"{same}/{len(nx_sets)}",
         "mean_nodes_reached": float(np.mean([len(a) for a, _ in sets])), "method": "bounded Dijkstra (numba)",
         "note": "peers without a cutoff compute full rows and threshold them"}, peer_t, base)

    # 5. Catchments: people (random weights) within 30 min of 1,000 nodes.
    people = rng.uniform(0, 100, n)
    cells = rng.choice(main, 1000, replace=False)
    got, fast = median_time(lambda: np.array([people[a].sum() for a, _ in router.reachable_within(cells, 1800.0)]),
                            repeats=1)
    nx_cells = cells[:max(1, (len(sample) // 2))]
    exp, base = timed(lambda: np.array([people[index.get_indexer(list(
        nx.single_source_dijkstra_path_length(G, int(ids[c]), cutoff=1800.0)))].sum() for c in nx_cells]))
    base *= len(cells) / len(nx_cells)
    peer_t = {}
    if "pandana" in peers:
        peer_t["pandana"] = timed(lambda: peers["pandana"].aggregate_within(people, 1800.0, cells))[1]
    if "pyroutingkit" in peers:
        cch = peers["pyroutingkit"]
        peer_t["pyroutingkit"] = timed(lambda: [people[r <= 1800.0].sum() for blk in np.array_split(cells, 10)
                                                for r in cch.rows(blk)])[1]
    results[f"{name}_catchment_1000x30min"] = with_peers(
        {"fast_s": fast, "nodes": n, "max_abs_diff_people": float(np.max(np.abs(got[:len(exp)] - exp))),
         "method": "bounded Dijkstra (numba)",
         "note": "pandana: precompute + aggregate over all nodes (its way); CCH: rows then threshold"}, peer_t, base)

    # 6. Scenarios: the access job after a speed change, after a new road; and end to end.
    results.update(bench_scenarios(net, router, peers, parks, dests, G, ids, index, rng, name))

    # 7. Nearest of 50 facilities (one multi-source search), as before.
    facilities = rng.choice(main, 50, replace=False)
    (time_, _), fast = median_time(lambda: router.nearest_facility(facilities))
    (dist, _), base = timed(lambda: nx.multi_source_dijkstra(G, set(ids[facilities].tolist())))
    keys = np.fromiter(dist.keys(), dtype=np.int64, count=len(dist))
    vals = np.fromiter(dist.values(), dtype=np.float64, count=len(dist))
    results[f"{name}_nearest_facility_50"] = with_peers(
        {"fast_s": fast, "nodes": n, "max_abs_diff_s": float(np.max(np.abs(time_[router.index_of(keys)] - vals))),
         "method": "multi-source Dijkstra on the contracted core"}, {}, base)

    # 8. Polygons (no peer counterpart; a sample, scaled).
    poly_origins = iso[:polygon_sample]
    polys, poly_s = timed(lambda: isochrones(router, poly_origins, thresholds_min=(30,),
                                             edge_geometry=net["geometry"], crs=None))
    results[f"{name}_isochrone_polygons_30min"] = with_peers(
        {"fast_s": poly_s * len(iso) / len(poly_origins), "nodes": n, "per_isochrone_s": poly_s / len(poly_origins),
         "mean_area_km2": float(polys.area_km2.mean()),
         "note": f"timed on {len(poly_origins)} origins and scaled to 100; no peer draws polygons"}, {}, None)
    return results


def new_road(router: Router, rng, main: np.ndarray, k: int):
    """A scenario road: a straight 60 km/h link between two nodes 10–30 km apart, with one midpoint junction."""
    while True:
        a, b = rng.choice(main, 2, replace=False)
        length = float(np.hypot(router.x[a] - router.x[b], router.y[a] - router.y[b]))
        if 10_000 <= length <= 30_000:
            break
    mid = router.n
    r = router.add_nodes([-(10 ** 9) - k], [(router.x[a] + router.x[b]) / 2], [(router.y[a] + router.y[b]) / 2])
    half = length / 2 / (60 / 3.6)
    return r.add_edges([a, mid], [mid, b], [half, half]), (a, b, half)


def bench_scenarios(net, router, peers, parks, dests, G, ids, index, rng, name) -> dict:
    from scripts import bench_peers as bp

    results = {}
    main = np.flatnonzero(router.largest_component())
    groups = [[d] for d in dests]
    # Speed change: 5 % of the edges 25 % faster (weights go down → the added-arcs path, no re-contraction).
    faster = rng.random(len(router.edge_weight)) < 0.05
    w_new = np.where(faster, router.edge_weight / 1.25, router.edge_weight)
    got, fast = median_time(lambda: router.with_weights(w_new).time_to_nearest(parks, groups), repeats=5)
    # A speed drop (weights up) is a re-customisation: contraction in the base order.
    w_slow = np.where(faster, router.edge_weight * 1.25, router.edge_weight)
    _, recustom = timed(lambda: router.with_weights(w_slow).time_to_nearest(parks, groups))
    u_i, v_i = router.edge_u, router.edge_v
    Gs = nx.Graph()
    Gs.add_nodes_from(range(router.n))
    Gs.add_weighted_edges_from(zip(u_i.tolist(), v_i.tolist(), w_new.tolist()))   # multi-edges: keep the min
    for a, b, w in zip(u_i.tolist(), v_i.tolist(), w_new.tolist()):
        if w < Gs[a][b]["weight"]:
            Gs[a][b]["weight"] = w
    exp, base = timed(lambda: np.array([[nx.single_source_dijkstra_path_length(Gs, int(d)).get(int(p), np.inf)
                                         for d in dests] for p in parks]))
    peer_t = {}
    net_new = dict(net, w=w_new)
    a_, b_, w_ = bp.unique_edges(net_new)
    if "pyroutingkit" in peers:
        cch = peers["pyroutingkit"]
        peer_t["pyroutingkit"] = median_time(lambda: (cch.customize(w_), cch.rows(parks, dests))[1], repeats=5)[1]
        cch.customize(bp.unique_edges(net)[2])
    if "igraph" in peers:
        peer_t["igraph"] = median_time(lambda: bp.IGraph(router.n, a_, b_, w_).rows(dests, parks), repeats=3)[1]
    if "networkit" in peers:
        peer_t["networkit"] = median_time(lambda: bp.NetworKit(router.n, a_, b_, w_).rows(dests, parks), repeats=3)[1]
    if "pandana" in peers:
        peer_t["pandana"] = timed(lambda: bp.Pandana(router.n, a_, b_, w_, net["x"], net["y"]).pairs(parks, dests))[1]
    results[f"{name}_scenario_speed_change"] = with_peers(
        {"fast_s": fast, "nodes": router.n, "max_abs_diff_s": worst_diff(got, exp),
         "recustomise_slower_s": recustom,
         "method": "the base CCH re-customised with the new weights (same order and topology)",
         "note": "access job (53 × 9) after 5 % of edges got 25 % faster; peers re-customise (CCH) or rebuild"},
        peer_t, base)

    # New road.
    got, fast = median_time(lambda: new_road(router, np.random.default_rng(7), main, 0)[0].time_to_nearest(parks, groups),
                            repeats=5)
    scen = new_road(router, np.random.default_rng(7), main, 0)[0]
    Gr = G.copy()
    mid_id = int(scen.node_ids[router.n])
    Gr.add_edge(int(ids[scen.edge_u[-2]]), mid_id, weight=float(scen.edge_weight[-2]))
    Gr.add_edge(mid_id, int(ids[scen.edge_v[-1]]), weight=float(scen.edge_weight[-1]))
    exp, base = timed(lambda: np.array([[nx.single_source_dijkstra_path_length(Gr, int(ids[d])).get(int(ids[p]), np.inf)
                                         for d in dests] for p in parks]))
    got = scen.time_to_nearest(parks, groups)
    au, bu = scen.edge_u[-2:], scen.edge_v[-2:]
    a0, b0, w0 = bp.unique_edges(net)
    a2, b2, w2 = np.r_[a0, au], np.r_[b0, bu], np.r_[w0, scen.edge_weight[-2:]]
    peer_t = {}
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True).transform(scen.x, scen.y)
    if "pyroutingkit" in peers:   # a new arc changes the topology: CCH builds it again
        peer_t["pyroutingkit"] = median_time(lambda: bp.RoutingKitCCH(scen.n, a2, b2, w2, lat, lon).rows(parks, dests),
                                             repeats=3)[1]
    if "igraph" in peers:
        peer_t["igraph"] = median_time(lambda: bp.IGraph(scen.n, a2, b2, w2).rows(dests, parks), repeats=3)[1]
    if "networkit" in peers:
        peer_t["networkit"] = median_time(lambda: bp.NetworKit(scen.n, a2, b2, w2).rows(dests, parks), repeats=3)[1]
    if "pandana" in peers:
        peer_t["pandana"] = timed(lambda: bp.Pandana(scen.n, a2, b2, w2, scen.x, scen.y).pairs(parks, dests))[1]
    results[f"{name}_scenario_new_road"] = with_peers(
        {"fast_s": fast, "nodes": router.n, "max_abs_diff_s": worst_diff(got, exp),
         "method": "base hierarchy + the road's arcs (endpoint closure), no rebuild",
         "note": "access job (53 × 9) after adding a 10–30 km road at 60 km/h; CCH rebuilds its topology"},
        peer_t, base)

    # End to end: preprocessing + access job + 10 scenario re-runs (5 new roads, 5 speed changes).
    def ours():
        r = Router.from_arrays(net["ids"], net["x"], net["y"], net["u"], net["v"], net["w"])
        r.time_to_nearest(parks, groups)
        g = np.random.default_rng(11)
        for k in range(5):
            new_road(r, g, main, k)[0].time_to_nearest(parks, groups)
            f = g.random(len(r.edge_weight)) < 0.05
            r.with_weights(np.where(f, r.edge_weight / 1.25, r.edge_weight)).time_to_nearest(parks, groups)

    def cch_e2e():
        uniq = bp.unique_edges(net)
        lon0, lat0 = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True).transform(net["x"], net["y"])
        c = bp.RoutingKitCCH(router.n, *uniq, lat0, lon0)
        c.rows(parks, dests)
        g = np.random.default_rng(11)
        for k in range(5):
            s, _ = new_road(router, g, main, k)
            bp.RoutingKitCCH(s.n, np.r_[uniq[0], s.edge_u[-2:]], np.r_[uniq[1], s.edge_v[-2:]],
                             np.r_[uniq[2], s.edge_weight[-2:]], np.r_[lat0, lat0[:1]], np.r_[lon0, lon0[:1]]).rows(parks, dests)
            f = g.random(len(router.edge_weight)) < 0.05
            c.customize(bp.unique_edges(dict(net, w=np.where(f, net["w"] / 1.25, net["w"])))[2])
            c.rows(parks, dests)

    def dijkstra_e2e(cls):
        uniq = bp.unique_edges(net)
        cls(router.n, *uniq).rows(dests, parks)
        g = np.random.default_rng(11)
        for k in range(5):
            s, _ = new_road(router, g, main, k)
            cls(s.n, np.r_[uniq[0], s.edge_u[-2:]], np.r_[uniq[1], s.edge_v[-2:]],
                np.r_[uniq[2], s.edge_weight[-2:]]).rows(dests, parks)
            f = g.random(len(router.edge_weight)) < 0.05
            w = bp.unique_edges(dict(net, w=np.where(f, net["w"] / 1.25, net["w"])))
            cls(router.n, *w).rows(dests, parks)

    _, fast = median_time(ours, repeats=1)
    peer_t = {}
    if "pyroutingkit" in peers:
        peer_t["pyroutingkit"] = median_time(cch_e2e, repeats=1)[1]
    if "igraph" in peers:
        peer_t["igraph"] = median_time(lambda: dijkstra_e2e(bp.IGraph), repeats=1)[1]
    if "networkit" in peers:
        peer_t["networkit"] = median_time(lambda: dijkstra_e2e(bp.NetworKit), repeats=1)[1]
    if "pandana" in peers:   # one build + 11 queries (its re-runs would need 10 more builds: a lower bound)
        peer_t["pandana"] = peers["pandana"].build_s + 11 * results[f"{name}_scenario_speed_change"]["peers_s"].get("pandana", 0)
    results[f"{name}_access_plus_10_scenarios_end_to_end"] = with_peers(
        {"fast_s": fast, "nodes": router.n,
         "note": "cold: router + hierarchy build, access job, 5 new roads + 5 speed changes each re-evaluated; "
                 "pandana counted as one build + 11 queries (a lower bound)"}, peer_t, None)
    return results


def main(argv=None) -> int:
    from scripts import bench_peers

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: ./out)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the source files (../shared/data)")
    parser.add_argument("--grid-side", type=int, default=448, help="grid side (448 → 200,704 nodes; 0 skips the grid)")
    parser.add_argument("--grid-nx-sample", type=int, default=10,
                        help="origins timed with networkx on the grid (scaled to the task's size)")
    parser.add_argument("--polygon-sample", type=int, default=20, help="isochrone polygons actually built per network")
    parser.add_argument("--grid-skip-peers", default="pandana",
                        help="peers left out on the grid (comma-separated; pandana's CH build takes minutes there)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings.progress = False

    settings.hierarchy_cache = False      # every hierarchy below is a cold build
    warm_up()
    results = {}
    started = time.perf_counter()
    results.update(bench_network(bacgiang_network(args.data), None, args.polygon_sample, args.seed, set()))
    if args.grid_side > 0:
        results.update(bench_network(grid_network(args.grid_side, args.seed), args.grid_nx_sample,
                                     max(1, args.polygon_sample // 2), args.seed,
                                     set(filter(None, args.grid_skip_peers.split(",")))))
    results["_meta"] = {"total_s": time.perf_counter() - started,
                        "peers": bench_peers.available(),
                        "timing": "median of repeated runs (1–7 by task) on a shared 2-core machine; one process",
                        "ratio": "networkx seconds ÷ ours", "ratio_vs_best_peer": "best peer's seconds ÷ ours (≥ 1: ahead)",
                        "networkx_graph": "nx.Graph, minimum weight per node pair",
                        "speed_bacgiang_kmh": 40}
    print_table(results)
    path = write_json(results, args.out / "bench.json")
    print(f"\nwrote {path} in {results['_meta']['total_s']:.0f} s")
    return 0


def print_table(results: dict) -> None:
    print(f"\n{'task':46s} {'ours s':>9s} {'best peer':>20s} {'peer s':>9s} {'vs peer':>8s} {'vs nx':>7s}  exact")
    for task, r in results.items():
        if task.startswith("_"):
            continue
        fmt = lambda v, f: "—" if v is None else format(v, f)  # noqa: E731
        diff = r.get("max_abs_diff_s")
        print(f"{task:46s} {r['fast_s']:9.4f} {str(r.get('best_peer') or '—'):>20s} {fmt(r.get('best_peer_s'), '9.4f'):>9s} "
              f"{fmt(r.get('ratio_vs_best_peer'), '.2f'):>8s} {fmt(r.get('ratio'), '.1f'):>7s}  "
              f"{'' if diff is None else f'{diff:.1e} s'}")


if __name__ == "__main__":
    sys.exit(main())
