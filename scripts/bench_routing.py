#!/usr/bin/env python
"""Benchmark of the routing engine (geo/routing/router.py, geo/routing/hierarchy.py) against networkx and peer libraries.

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
* nearest of 50 facilities; isochrone polygons against the previous default
  method in the same run (no peer draws polygons).

Fair to every side: our compiled kernels are loaded before timing
(:func:`warm_up`) and every peer is imported and warmed up on a tiny graph
(:func:`scripts.bench_peers.import_and_warm`); every call is timed the same
number of times on both sides (``--repeats``, ≥ 5, medians; 31 for the
sub-millisecond access job), interleaved — every round runs ours and every
peer's call once, in a new seeded random order (:func:`race`), so a change of
load on a shared machine falls on all sides alike and no call always follows
the same one; each library gets its faster direction and API
per task (both directions timed, ``peers_way`` says which won); RoutingKit's
own call is timed on prepared ``uint32`` arrays, its milliseconds converted
afterwards; igraph and networkit edit their graph in place for new weights and
a new road. Every hierarchy is built cold (disk cache off). Our results agree
with networkx to 1e-6 s (``max_abs_diff_s``); every peer's results are checked
against ours (``peers_max_abs_diff_s``).
Writes OUT/bench.json: {task: {fast_s, best_peer, best_peer_s, ratio_vs_best_peer, peers_s, peers_way,
peers_max_abs_diff_s, baseline_s, ratio, …}, _meta: {load average, peers, …}}.

Run: ``python scripts/bench_routing.py --out out`` (both networks; ``--grid-side 0``: real network only).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from geo import settings  # noqa: E402
from geo.routing.isochrones import isochrones  # noqa: E402
from geo.io.output import write_json  # noqa: E402
from geo.routing.router import Router  # noqa: E402

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
#: Timed runs of every measured call, ours and the peers' alike (medians); sub-millisecond tasks get more.
REPEATS = 5
REPEATS_SHORT = 31


def median_time(fn, repeats: int = REPEATS, undo=None):
    """Result of the first run and the median seconds of ``repeats`` runs (``undo`` runs untimed after each)."""
    times, result = [], None
    for k in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        if k == 0:
            result = out
        if undo is not None:
            undo()
    return result, float(np.median(times))


def race(entrants: dict, repeats: int, undo: dict | None = None, cold: dict | None = None) -> dict:
    """Every entrant once per round for ``repeats`` rounds, in a new (seeded) random order each round, so that
    a change of load on a shared machine falls on every side alike (ours and the peers' calls interleaved)
    and no entrant always runs right after the same one: the peers' OpenMP threads spin for a while after
    their calls and slow whatever runs next (with the order only rotated, our speed-change call always came
    right after pandana's rebuild: 18 ms there against 9 ms for the same call after our own).

    ``entrants``: name → callable (``"library|way"`` names for several ways of one library); ``undo``: name →
    callable run untimed after each of that entrant's runs. Returns name → (first run's result, median s).
    With ``cold`` (a dict to fill), each entrant runs twice per round: the first call, right after the other
    libraries' calls (its data out of the CPU caches), goes to ``cold[name]`` (median s); the second, warm,
    is the one returned — as a task repeated back to back (sub-millisecond tasks, where this matters).
    """
    names = list(entrants)
    times = {k: [] for k in names}
    cold_times = {k: [] for k in names}
    first = {}
    shuffle = np.random.default_rng(len(names) * 1000 + repeats)
    for r in range(repeats):
        for k in (names if r == 0 else [names[i] for i in shuffle.permutation(len(names))]):
            if cold is not None:
                start = time.perf_counter()
                entrants[k]()
                cold_times[k].append(time.perf_counter() - start)
                if undo and k in undo:
                    undo[k]()
            start = time.perf_counter()
            out = entrants[k]()
            times[k].append(time.perf_counter() - start)
            if r == 0:
                first[k] = out
            if undo and k in undo:
                undo[k]()
    if cold is not None:
        cold.update({k: float(np.median(v)) for k, v in cold_times.items()})
    return {k: (first[k], float(np.median(times[k]))) for k in names}


def fastest(raced: dict) -> dict:
    """Per library (the part of a name before ``|``): (result, seconds, way) of its fastest way."""
    out = {}
    for name, (result, seconds) in raced.items():
        lib, _, way = name.partition("|")
        if lib not in out or seconds < out[lib][1]:
            out[lib] = (result, seconds, way or None)
    return out


class PeerTimes:
    """Seconds, way chosen and largest difference to our answer, per peer, for one task."""

    def __init__(self):
        self.seconds, self.way, self.diff = {}, {}, {}

    def add(self, peer: str, seconds: float, way: str | None = None, diff: float | None = None):
        self.seconds[peer] = float(seconds)
        if way is not None:
            self.way[peer] = way
        if diff is not None:
            self.diff[peer] = float(diff)


PEER_NAMES = ("igraph", "networkit", "pandana", "pyroutingkit")


def peer_makers(net, skip: set) -> dict:
    """Builders of the peers from the same edges (node indexes); peers are imported and warmed before.
    A peer that fails to build gives None (reported in the log)."""
    from scripts import bench_peers as bp
    from pyproj import Transformer

    a, b, w = bp.unique_edges(net)
    n = len(net["ids"])
    lon, lat = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True).transform(net["x"], net["y"])
    makers = {"igraph": lambda: bp.IGraph(n, a, b, w), "networkit": lambda: bp.NetworKit(n, a, b, w),
              "pandana": lambda: bp.Pandana(n, a, b, w, net["x"], net["y"]),
              "pyroutingkit": lambda: bp.RoutingKitCCH(n, a, b, w, lat, lon)}

    def guarded(name, make):
        def build():
            try:
                return make()
            except Exception as exc:  # noqa: BLE001 - a peer that does not install/build is reported
                log.info("peer %s unavailable: %s", name, exc)
                return None
        return build

    return {k: guarded(k, m) for k, m in makers.items() if k not in skip}


def with_peers(task: dict, peer_times, baseline_s: float | None) -> dict:
    """Fill ``best_peer``, ``best_peer_s``, ``ratio_vs_best_peer`` (peer s ÷ ours), the peers' ways and
    result differences (``peers_max_abs_diff_s``) and the networkx ratio."""
    if isinstance(peer_times, dict):
        pt = PeerTimes()
        for k, v in peer_times.items():
            pt.add(k, v)
        peer_times = pt
    times = peer_times.seconds
    task["peers_s"] = dict(times)
    if peer_times.way:
        task["peers_way"] = dict(peer_times.way)
    if peer_times.diff:
        task["peers_max_abs_diff_s"] = dict(peer_times.diff)
    if times:
        best = min(times, key=times.get)
        task.update(best_peer=best, best_peer_s=float(times[best]),
                    ratio_vs_best_peer=float(times[best] / task["fast_s"]))
    else:
        task.update(best_peer=None, best_peer_s=None, ratio_vs_best_peer=None)
    task["baseline_s"] = baseline_s
    task["ratio"] = None if baseline_s is None else float(baseline_s / task["fast_s"])
    return task


def worst_diff(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest |difference| where both are finite; inf if they disagree on reachability."""
    a = np.where(np.isnan(ours), np.inf, np.asarray(ours, float))
    theirs = np.asarray(theirs, float)
    if a.shape != theirs.shape or not np.array_equal(np.isinf(a), np.isinf(theirs)):
        return float("inf")
    fin = np.isfinite(a)
    return float(np.max(np.abs(a[fin] - theirs[fin]))) if fin.any() else 0.0


def set_mismatches(router, origins, ours, theirs, limit: float, tolerance: float) -> int:
    """Nodes in one node set but not the other, leaving out those our times put within ``tolerance`` s of ``limit``."""
    bad = 0
    for o, (nodes, _), other in zip(origins, ours, theirs):
        diff = np.setxor1d(nodes, other)
        if diff.size:
            t = router.travel_times([o], diff)[0]
            bad += int(np.sum(~(np.abs(t - limit) <= tolerance)))
    return bad


def nx_rows(G, ids, sources, n, index, cutoff=None):
    out = np.full((len(sources), n), np.inf)
    for i, s in enumerate(sources):
        d = nx.single_source_dijkstra_path_length(G, int(ids[s]), cutoff=cutoff)
        keys = np.fromiter(d.keys(), dtype=np.int64, count=len(d))
        out[i, index.get_indexer(keys)] = np.fromiter(d.values(), dtype=np.float64, count=len(d))
    return out


#: RoutingKit rounds every arc to whole milliseconds: its times may differ from ours by this much per arc.
RK_TOLERANCE_NOTE = "pyroutingkit: integer milliseconds per arc (rounded), so differences up to ~1 ms × arcs on the path"


# ---------------------------------------------------------------------- tasks
class Results(dict):
    """Task results, each logged as it is filled in (long runs show progress)."""

    def __setitem__(self, key, task):
        super().__setitem__(key, task)
        ratio = task.get("ratio_vs_best_peer")
        log.info("%s: ours %.4g s, best peer %s %s, vs best peer %s", key, task["fast_s"], task.get("best_peer"),
                 task.get("best_peer_s"), "—" if ratio is None else f"{ratio:.2f}")

    def update(self, other):
        for key, task in other.items():
            self[key] = task


def bench_network(net, nx_sample: int | None, polygon_sample: int, seed: int, skip_peers: set,
                  repeats: int = REPEATS) -> dict:
    import pandas as pd

    results = Results()
    name = net["name"]
    n = len(net["ids"])
    log.info("%s: %d nodes, %d edges", name, n, len(net["u"]))
    settings.hierarchy_cache = False      # every build below is a cold build

    make = lambda: Router.from_arrays(net["ids"], net["x"], net["y"], net["u"], net["v"], net["w"])  # noqa: E731
    raced = race({"ours": make, "ours with core and KD-tree": lambda: build_router(net, hierarchy=False),
                  "ours with hierarchy": lambda: (lambda r: (r, r.hierarchy()))(make()),
                  **peer_makers(net, skip_peers)}, repeats)
    router_s, lazy_s = raced["ours"][1], raced["ours with core and KD-tree"][1]
    (router, hierarchy), hierarchy_s = raced["ours with hierarchy"]
    router._forward()
    router.snap(net["x"][:1], net["y"][:1], 1.0)
    peers = {}
    for k in PEER_NAMES:
        if k in raced and raced[k][0] is not None:
            peers[k] = raced[k][0]
            peers[k].build_s = raced[k][1]
    G, nx_s = timed(lambda: networkx_graph(net))
    _, router_mb = traced(lambda: build_router(net, hierarchy=False))
    _, nx_mb = traced(lambda: networkx_graph(net))
    # Ready to answer: our router answers every query before its hierarchy exists (plain
    # searches, see HIERARCHY_AFTER_SEARCHES); a CH/CCH library cannot answer before its index.
    results[f"{name}_build"] = with_peers(
        {"fast_s": router_s, "with_core_and_kdtree_s": lazy_s, "peak_mb": router_mb, "baseline_peak_mb": nx_mb,
         "memory_ratio": router_mb / nx_mb,
         "nodes": n, "core_nodes": int(router._forward().K) if hasattr(router._forward(), "K") else None,
         "note": "ready to answer any query: the router from arrays (CSR graph; its contracted core and KD-tree "
                 "are built at first use — with_core_and_kdtree_s — and the hierarchy when it pays); peers "
                 "(imported and warmed before): graph (igraph, networkit) or graph + index (CH, CCH)"},
        {k: p.build_s for k, p in peers.items()}, nx_s)
    stats = hierarchy.stats
    results[f"{name}_hierarchy_build"] = with_peers(
        {"fast_s": hierarchy_s, "order_s": stats.order_s,
         "topology_s": stats.topology_s, "customise_s": stats.customise_s, "up_arcs": stats.up_arcs,
         "triangles": stats.triangles, "tree_height": stats.tree_height, "nodes": n,
         "note": "cold: router + CCH (nested dissection order, topology, customisation); "
                 "peers with a hierarchy: graph + CH (pandana) or CCH (RoutingKit)"},
        {k: p.build_s for k, p in peers.items() if k in ("pandana", "pyroutingkit")}, None)
    log.info("built: router %.3f s, router + hierarchy %.3f s, peers %s", router_s, hierarchy_s,
             {k: round(p.build_s, 3) for k, p in peers.items()})

    rng = np.random.default_rng(seed)
    main = np.flatnonzero(router.largest_component())
    origins = rng.choice(main, 200, replace=False)
    ids = router.node_ids
    index = pd.Index(ids)
    sample = origins if nx_sample is None else origins[:nx_sample]
    scale = len(origins) / len(sample)
    rk = peers.get("pyroutingkit")

    # 1. One origin → all nodes (5 origins per call).
    five = origins[:5]
    f5 = five.astype(np.uint32)
    entrants = {"ours": lambda: router.travel_times(five)}
    entrants.update({k: (lambda p=p: p.rows(five)) for k, p in peers.items() if k in ("igraph", "networkit")})
    if rk is not None:
        entrants["pyroutingkit|distances_many_to_many raw"] = lambda: rk.raw(f5)
    got = fastest(race(entrants, repeats))
    row, fast, _ = got.pop("ours")
    expected, base = timed(lambda: nx_rows(G, ids, five, n, index))
    pt = PeerTimes()
    for k, (theirs, sec, way) in got.items():
        pt.add(k, sec / 5, way, worst_diff(row, rk.seconds(theirs) if k == "pyroutingkit" else theirs))
    results[f"{name}_one_to_all"] = with_peers(
        {"fast_s": fast / 5, "nodes": n, "max_abs_diff_s": worst_diff(row, expected),
         "method": "PHAST sweeps over the CCH"}, pt, base / 5)

    # 2. 200 origins × all nodes.
    o32 = origins.astype(np.uint32)
    entrants = {"ours": lambda: router.travel_times(origins)}
    entrants.update({k: (lambda p=p: p.rows(origins)) for k, p in peers.items() if k in ("igraph", "networkit")})
    if rk is not None:
        entrants["pyroutingkit|distances_many_to_many raw"] = lambda: rk.raw(o32)
    got = fastest(race(entrants, repeats))
    matrix, fast, _ = got.pop("ours")
    _, peak = traced(lambda: router.travel_times(origins))
    expected, base = timed(lambda: nx_rows(G, ids, sample, n, index))
    pt = PeerTimes()
    for k, (theirs, sec, way) in got.items():
        pt.add(k, sec, way, worst_diff(matrix, rk.seconds(theirs) if k == "pyroutingkit" else theirs))
    del got
    results[f"{name}_matrix_200_origins"] = with_peers(
        {"fast_s": fast, "peak_mb": peak, "nodes": n, "max_abs_diff_s": worst_diff(matrix[:len(sample)], expected),
         "method": "PHAST sweeps over the CCH",
         "note": "networkx timed on all 200" if nx_sample is None else f"networkx timed on {len(sample)}, scaled ×{scale:g}"},
        pt, base * scale)
    del matrix, expected

    # 3. Many to few: 53 parks × 9 destinations (the access job), each library in its cheaper direction.
    parks, dests = rng.choice(main, 53, replace=False), rng.choice(main, 9, replace=False)
    P32, D32 = parks.astype(np.uint32), dests.astype(np.uint32)
    entrants = {"ours|parks → destinations": lambda: router.travel_times(parks, dests),
                "ours|destinations → parks, transposed": lambda: router.travel_times(dests, parks).T}
    for k, p in peers.items():
        if k == "pyroutingkit":
            entrants["pyroutingkit|parks → destinations (raw)"] = lambda: rk.raw(P32, D32)
            entrants["pyroutingkit|destinations → parks, transposed (raw)"] = lambda: rk.raw(D32, P32).T
        elif k == "pandana":
            entrants["pandana|shortest_path_lengths"] = lambda p=p: p.pairs(parks, dests)
        else:
            entrants[f"{k}|parks → destinations"] = lambda p=p: p.rows(parks, dests)
            entrants[f"{k}|destinations → parks, transposed"] = lambda p=p: p.rows(dests, parks).T
    cold = {}
    res = fastest(race(entrants, REPEATS_SHORT, cold=cold))
    got, fast, way = res.pop("ours")
    cold_by_library = {}
    for name_way, sec in cold.items():
        lib = name_way.partition("|")[0]
        cold_by_library[lib] = min(sec, cold_by_library.get(lib, np.inf))
    expected, base = timed(lambda: nx_rows(G, ids, dests, n, index)[:, parks].T)
    pt = PeerTimes()
    for k, (theirs, sec, w) in res.items():
        pt.add(k, sec, w, worst_diff(got, rk.seconds(theirs) if k == "pyroutingkit" else theirs))
    results[f"{name}_many_to_few_53x9"] = with_peers(
        {"fast_s": fast, "way": way, "nodes": n, "max_abs_diff_s": worst_diff(got, expected),
         "cold_s": cold_by_library.pop("ours"), "peers_cold_s": cold_by_library,
         "method": "CCH elimination-tree buckets",
         "note": "every library timed in both directions, the faster kept; each call run twice per round, the "
                 "second (warm, as when the job is repeated) timed as fast_s/peers_s, the first (right after "
                 "the other libraries' calls, data out of the CPU caches) as cold_s/peers_cold_s; networkx: 9 "
                 "searches from the destinations; " + RK_TOLERANCE_NOTE}, pt, base)

    # 4. 100 isochrones as node sets within 30 min.
    iso = origins[:100]
    i32 = iso.astype(np.uint32)
    entrants = {"ours": lambda: router.reachable_within(iso, 1800.0),
                "ours with 2 workers": lambda: router.reachable_within(iso, 1800.0, workers=2)}
    entrants.update({f"{k}|full rows, thresholded (no cutoff in its API)":
                     (lambda p=p: [np.flatnonzero(r <= 1800.0) for r in p.rows(iso)])
                     for k, p in peers.items() if k in ("igraph", "networkit")})
    if rk is not None:
        entrants["pyroutingkit|distances_many_to_many raw, thresholded in ms"] = \
            lambda: [np.flatnonzero(r <= 1_800_000) for r in rk.raw(i32)]
    res = fastest(race(entrants, repeats))
    sets, fast, _ = res.pop("ours")
    fast2 = res.pop("ours with 2 workers")[1]
    nx_sets, base = timed(lambda: [nx.single_source_dijkstra_path_length(G, int(ids[o]), cutoff=1800.0)
                                   for o in iso[:len(sample) // 2 or 1]])
    base *= len(iso) / len(nx_sets)
    same = sum(set(ids[a].tolist()) == set(b) for (a, _), b in zip(sets, nx_sets))
    pt = PeerTimes()
    for k, (theirs, sec, way) in res.items():
        pt.add(k, sec, way)
        # RoutingKit: ≤ 0.5 ms of rounding per arc on paths of a few hundred arcs
        pt.diff[k] = float(set_mismatches(router, iso, sets, theirs, 1800.0, 0.5 if k == "pyroutingkit" else 1e-6))
    results[f"{name}_isochrone_nodes_100x30min"] = with_peers(
        {"fast_s": fast, "fast_2_workers_s": fast2, "nodes": n, "same_node_sets": f"{same}/{len(nx_sets)}",
         "mean_nodes_reached": float(np.mean([len(a) for a, _ in sets])), "method": "bounded Dijkstra (numba)",
         "note": "peers without a cutoff compute full rows and threshold them; peers_max_abs_diff_s holds, "
                 "for this task, the count of nodes in one set but not the other (beyond rounding at the limit)"},
        pt, base)

    # 5. Catchments: people (random weights) within 30 min of 1,000 nodes.
    people = rng.uniform(0, 100, n)
    cells = rng.choice(main, 1000, replace=False)
    entrants = {"ours": lambda: np.array([people[a].sum() for a, _ in router.reachable_within(cells, 1800.0)])}
    undo = {}
    if "pandana" in peers:
        # Each run on a network without a precompute (its precomputes pile up in memory: 24 GB after 5 runs),
        # rebuilt untimed after each run.
        from scripts import bench_peers as bp

        a_, b_, w_ = bp.unique_edges(net)
        held = {"net": peers.pop("pandana")}

        def fresh_pandana():
            held["net"] = None
            gc.collect()
            held["net"] = bp.Pandana(n, a_, b_, w_, net["x"], net["y"])

        entrants["pandana|precompute + aggregate (its way)"] = \
            lambda: held["net"].aggregate_within(people, 1800.0, cells)
        undo["pandana|precompute + aggregate (its way)"] = fresh_pandana
    if rk is not None:
        c32 = np.array_split(cells.astype(np.uint32), 10)
        entrants["pyroutingkit|distances_many_to_many raw in blocks of 100, thresholded in ms"] = \
            lambda: np.array([people[r <= 1_800_000].sum() for blk in c32 for r in rk.raw(blk)])
    res = fastest(race(entrants, repeats, undo))
    if "held" in locals():
        peers["pandana"] = held["net"]           # the last one, rebuilt after the last run: no precompute
        peers["pandana"].build_s = results[f"{name}_build"]["peers_s"]["pandana"]
    got, fast, _ = res.pop("ours")
    nx_cells = cells[:max(1, (len(sample) // 2))]
    exp, base = timed(lambda: np.array([people[index.get_indexer(list(
        nx.single_source_dijkstra_path_length(G, int(ids[c]), cutoff=1800.0)))].sum() for c in nx_cells]))
    base *= len(cells) / len(nx_cells)
    pt = PeerTimes()
    for k, (theirs, sec, way) in res.items():
        pt.add(k, sec, way, float(np.max(np.abs(theirs - got))))
    results[f"{name}_catchment_1000x30min"] = with_peers(
        {"fast_s": fast, "nodes": n, "max_abs_diff_people": float(np.max(np.abs(got[:len(exp)] - exp))),
         "method": "bounded Dijkstra (numba)",
         "note": "pandana: precompute + aggregate over all nodes (its way); CCH: rows then threshold; "
                 "peers_max_abs_diff_s holds people here (RoutingKit's rounding moves nodes at the limit)"}, pt, base)

    # 6. Scenarios: the access job after a speed change, after a new road; and end to end.
    results.update(bench_scenarios(net, router, peers, parks, dests, G, ids, rng, name, repeats))

    # 7. Nearest of 50 facilities (one multi-source search), as before.
    facilities = rng.choice(main, 50, replace=False)
    (time_, _), fast = median_time(lambda: router.nearest_facility(facilities), repeats)
    (dist, _), base = timed(lambda: nx.multi_source_dijkstra(G, set(ids[facilities].tolist())))
    keys = np.fromiter(dist.keys(), dtype=np.int64, count=len(dist))
    vals = np.fromiter(dist.values(), dtype=np.float64, count=len(dist))
    results[f"{name}_nearest_facility_50"] = with_peers(
        {"fast_s": fast, "nodes": n, "max_abs_diff_s": float(np.max(np.abs(time_[router.index_of(keys)] - vals))),
         "method": "multi-source Dijkstra on the contracted core"}, {}, base)

    # 8. Polygons (no peer counterpart): the contour method against the previous default (raster) on the same origins.
    results[f"{name}_isochrone_polygons_30min"] = bench_polygons(router, net, iso[:polygon_sample], repeats)
    return results


def bench_polygons(router, net, origins, repeats) -> dict:
    """Isochrone polygons (30 min) by the default method, against the previous default ("raster", the
    baseline) and, on a few origins, the exact union ("vector"): seconds per polygon and area differences."""
    run = lambda method, o: isochrones(router, o, thresholds_min=(30,), edge_geometry=net["geometry"],  # noqa: E731
                                       crs=None, method=method)
    polys, fast = median_time(lambda: run("auto", origins), repeats)
    old, base = timed(lambda: run("raster", origins))
    few = origins[:3]
    exact = run("vector", few)
    area = polys.area_km2.to_numpy()
    return with_peers(
        {"fast_s": fast * 100 / len(origins), "per_isochrone_s": fast / len(origins),
         "baseline_per_isochrone_s": base / len(origins), "nodes": router.n, "mean_area_km2": float(area.mean()),
         "max_rel_area_diff_vs_baseline": float(np.max(np.abs(area / old.area_km2.to_numpy() - 1))),
         "max_rel_area_diff_vs_exact_union": float(np.max(np.abs(area[:len(few)] / exact.area_km2.to_numpy() - 1))),
         "method": "contour of an exact distance field (geo.routing.isochrones, method='auto')",
         "note": f"timed on {len(origins)} origins (one call) and scaled to 100; baseline: the previous default "
                 "(method='raster') on the same origins in the same run; exact union ('vector') on 3 origins; "
                 "no peer draws polygons"}, {}, base * 100 / len(origins))


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


def bench_scenarios(net, router, peers, parks, dests, G, ids, rng, name, repeats) -> dict:
    from pyproj import Transformer

    from scripts import bench_peers as bp

    results = Results()
    main = np.flatnonzero(router.largest_component())
    groups = [[d] for d in dests]
    rk = peers.get("pyroutingkit")
    P32, D32 = parks.astype(np.uint32), dests.astype(np.uint32)
    # Speed change: 5 % of the edges 25 % faster.
    faster = rng.random(len(router.edge_weight)) < 0.05
    w_new = np.where(faster, router.edge_weight / 1.25, router.edge_weight)
    w_slow = np.where(faster, router.edge_weight * 1.25, router.edge_weight)
    a0, b0, w0 = bp.unique_edges(net)
    _, _, w_ = bp.unique_edges(dict(net, w=w_new))
    changed = np.flatnonzero(w_ != w0)
    entrants = {"ours": lambda: router.with_weights(w_new).time_to_nearest(parks, groups),
                "ours, weights up": lambda: router.with_weights(w_slow).time_to_nearest(parks, groups)}
    if rk is not None:
        ms_new = rk.milliseconds(w_)
        entrants["pyroutingkit|customise + parks → destinations (raw)"] = \
            lambda: (rk.customize_raw(ms_new), rk.raw(P32, D32))[1]
        entrants["pyroutingkit|customise + destinations → parks (raw)"] = \
            lambda: (rk.customize_raw(ms_new), rk.raw(D32, P32).T)[1]
    if "igraph" in peers:
        ig = peers["igraph"]
        entrants["igraph|weights edited in place + searches from the destinations"] = \
            lambda: (ig.set_weights(w_), ig.rows(dests, parks).T)[1]
    if "networkit" in peers:
        nk_ = peers["networkit"]
        entrants["networkit|weights edited in place + searches from the destinations"] = \
            lambda: (nk_.set_weights(w_, changed), nk_.rows(dests, parks).T)[1]
    if "pandana" in peers:
        entrants["pandana|rebuild (no weight edits) + shortest_path_lengths"] = \
            lambda: bp.Pandana(router.n, a0, b0, w_, net["x"], net["y"]).pairs(parks, dests)
    res = fastest(race(entrants, repeats))
    got, fast, _ = res.pop("ours")
    recustom = res.pop("ours, weights up")[1]
    if rk is not None:
        rk.customize_raw(rk.milliseconds(w0))
    if "igraph" in peers:
        peers["igraph"].set_weights(w0)
    if "networkit" in peers:
        peers["networkit"].set_weights(w0, changed)
    Gs = nx.Graph()
    Gs.add_nodes_from(range(router.n))
    Gs.add_weighted_edges_from(zip(router.edge_u.tolist(), router.edge_v.tolist(), w_new.tolist()))
    for a, b, w in zip(router.edge_u.tolist(), router.edge_v.tolist(), w_new.tolist()):   # multi-edges: the min
        if w < Gs[a][b]["weight"]:
            Gs[a][b]["weight"] = w
    exp, base = timed(lambda: np.array([[nx.single_source_dijkstra_path_length(Gs, int(d)).get(int(p), np.inf)
                                         for d in dests] for p in parks]))
    pt = PeerTimes()
    for k, (theirs, sec, way) in res.items():
        pt.add(k, sec, way, worst_diff(got, rk.seconds(theirs) if k == "pyroutingkit" else theirs))
    results[f"{name}_scenario_speed_change"] = with_peers(
        {"fast_s": fast, "nodes": router.n, "max_abs_diff_s": worst_diff(got, exp),
         "recustomise_slower_s": recustom,
         "method": "the base CCH re-customised with the new weights (same order and topology)",
         "note": "access job (53 × 9) after 5 % of edges got 25 % faster; peers re-customise (CCH), edit weights in "
                 "place (igraph, networkit) or rebuild (pandana); " + RK_TOLERANCE_NOTE}, pt, base)

    # New road.
    scen, (ra, rb, half) = new_road(router, np.random.default_rng(7), main, 0)
    a2, b2, w2 = np.r_[a0, ra, router.n], np.r_[b0, router.n, rb], np.r_[w0, half, half]
    lon, lat = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True).transform(scen.x, scen.y)
    entrants = {"ours": lambda: new_road(router, np.random.default_rng(7), main, 0)[0].time_to_nearest(parks, groups)}
    undo = {}
    if rk is not None:   # a new arc changes the topology: a CCH builds it again
        entrants["pyroutingkit|new topology + customisation + destinations → parks (raw)"] = \
            lambda: bp.RoutingKitCCH(scen.n, a2, b2, w2, lat, lon).raw(D32, P32).T
    for k in ("igraph", "networkit"):
        if k in peers:
            name_k = f"{k}|road added in place (undone after each run, untimed) + searches from the destinations"
            entrants[name_k] = lambda p=peers[k]: (p.add_road(ra, rb, half), p.rows(dests, parks).T)[1]
            undo[name_k] = peers[k].undo_road
    if "pandana" in peers:
        entrants["pandana|rebuild + shortest_path_lengths"] = \
            lambda: bp.Pandana(scen.n, a2, b2, w2, scen.x, scen.y).pairs(parks, dests)
    res = fastest(race(entrants, repeats, undo))
    got, fast, _ = res.pop("ours")
    Gr = G.copy()
    mid_id = int(scen.node_ids[router.n])
    Gr.add_edge(int(ids[ra]), mid_id, weight=half)
    Gr.add_edge(mid_id, int(ids[rb]), weight=half)
    exp, base = timed(lambda: np.array([[nx.single_source_dijkstra_path_length(Gr, int(ids[d])).get(int(ids[p]), np.inf)
                                         for d in dests] for p in parks]))
    pt = PeerTimes()
    for k, (theirs, sec, way) in res.items():
        pt.add(k, sec, way, worst_diff(got, rk.seconds(theirs) if k == "pyroutingkit" else theirs))
    results[f"{name}_scenario_new_road"] = with_peers(
        {"fast_s": fast, "nodes": router.n, "max_abs_diff_s": worst_diff(got, exp),
         "method": "base hierarchy + the road's arcs (endpoint closure), no rebuild",
         "note": "access job (53 × 9) after adding a 10–30 km road at 60 km/h; CCH rebuilds its topology; "
                 "igraph and networkit edit their graph in place"}, pt, base)

    # End to end: preprocessing + access job + 10 scenario re-runs (5 new roads, 5 speed changes).
    roads = []
    g = np.random.default_rng(11)
    for k in range(5):
        s_, road = new_road(router, g, main, k)
        f = g.random(len(router.edge_weight)) < 0.05
        roads.append((road, np.where(f, router.edge_weight / 1.25, router.edge_weight)))
    lon0, lat0 = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True).transform(net["x"], net["y"])

    # Each side returns its 11 access-job answers (base, then each road and speed change), checked below.
    def ours():
        r = Router.from_arrays(net["ids"], net["x"], net["y"], net["u"], net["v"], net["w"])
        got = [r.time_to_nearest(parks, groups)]
        for k, ((a, b, h), w) in enumerate(roads):
            mid = r.n
            road = r.add_nodes([-(10 ** 9) - k], [r.x[a]], [r.y[a]]).add_edges([a, mid], [mid, b], [h, h])
            got += [road.time_to_nearest(parks, groups), r.with_weights(w).time_to_nearest(parks, groups)]
        return got

    def cch_e2e():
        c = bp.RoutingKitCCH(router.n, a0, b0, w0, lat0, lon0)
        got = [c.raw(D32, P32)]
        for (a, b, h), w in roads:
            got.append(bp.RoutingKitCCH(router.n + 1, np.r_[a0, a, router.n], np.r_[b0, router.n, b],
                                        np.r_[w0, h, h], np.r_[lat0, lat0[a]], np.r_[lon0, lon0[a]]).raw(D32, P32))
            c.customize_raw(c.milliseconds(bp.unique_edges(dict(net, w=w))[2]))
            got.append(c.raw(D32, P32))
        return got                      # integer milliseconds, destinations × parks (converted after timing)

    def dijkstra_e2e(cls):
        p = cls(router.n, a0, b0, w0)
        got = [p.rows(dests, parks)]
        for (a, b, h), w in roads:
            p.add_road(a, b, h)
            got.append(p.rows(dests, parks))
            p.undo_road()
            wu = bp.unique_edges(dict(net, w=w))[2]
            p.set_weights(wu) if cls is bp.IGraph else p.set_weights(wu, np.flatnonzero(wu != w0))
            got.append(p.rows(dests, parks))
            p.set_weights(w0) if cls is bp.IGraph else p.set_weights(w0, np.flatnonzero(wu != w0))
        return got                      # destinations × parks

    entrants = {"ours": ours}
    if rk is not None:
        entrants["pyroutingkit|build, 5 new topologies, 5 customisations"] = cch_e2e
    for k, cls in (("igraph", bp.IGraph), ("networkit", bp.NetworKit)):
        if k in peers:
            entrants[f"{k}|build once, edits in place"] = lambda cls=cls: dijkstra_e2e(cls)
    if "pandana" in peers:   # one build + 11 queries (its re-runs would need 10 more builds: a lower bound)
        entrants["pandana|query"] = lambda: peers["pandana"].pairs(parks, dests)
    res = fastest(race(entrants, repeats))
    answers, fast, _ = res.pop("ours")
    pt = PeerTimes()
    for k, (theirs, sec, way) in res.items():
        if k == "pandana":       # its one query: the base access job
            pt.add(k, peers["pandana"].build_s + 11 * sec, "one build + 11 queries (a lower bound)",
                   worst_diff(answers[0], theirs))
        else:
            theirs = [rk.seconds(t) for t in theirs] if k == "pyroutingkit" else theirs
            pt.add(k, sec, way, max(worst_diff(a, t.T) for a, t in zip(answers, theirs, strict=True)))
    results[f"{name}_access_plus_10_scenarios_end_to_end"] = with_peers(
        {"fast_s": fast, "nodes": router.n,
         "note": "cold: router (hierarchy built when it pays), access job, 5 new roads + 5 speed changes each "
                 "re-evaluated; RoutingKit: build, 5 new topologies, 5 customisations; igraph/networkit: build once, "
                 "edits in place; pandana counted as one build only (a lower bound); peers_max_abs_diff_s over "
                 "all 11 answers (pandana: the base one)"}, pt, None)
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
    parser.add_argument("--no-real", action="store_true", help="leave out the real network (a quick check on the grid)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help=f"timed runs per call, ours and every peer's (median; at least 5, default {REPEATS}; "
                             f"sub-millisecond tasks {REPEATS_SHORT})")
    args = parser.parse_args(argv)
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings.progress = False

    settings.hierarchy_cache = False      # every hierarchy below is a cold build
    load = os.getloadavg()
    warm_up()
    peers = bench_peers.import_and_warm()
    log.info("peers imported and warmed: %s", peers)
    results = {}
    started = time.perf_counter()
    if not args.no_real:
        results.update(bench_network(bacgiang_network(args.data), None, args.polygon_sample, args.seed, set(),
                                     args.repeats))
    if args.grid_side > 0:
        results.update(bench_network(grid_network(args.grid_side, args.seed), args.grid_nx_sample,
                                     max(1, args.polygon_sample // 2), args.seed,
                                     set(filter(None, args.grid_skip_peers.split(","))), args.repeats))
    results["_meta"] = {"total_s": time.perf_counter() - started,
                        "peers": peers,
                        "load_average_at_start": list(load), "load_average_at_end": list(os.getloadavg()),
                        "cpus": os.cpu_count(),
                        "timing": f"median of {args.repeats} runs per call for ours and every peer alike "
                                  f"({REPEATS_SHORT} for the sub-millisecond many-to-few), interleaved round by "
                                  "round (a new seeded random order each round); peers imported and "
                                  "warmed before any timing; each library in its faster direction/API per task; "
                                  "one process on a shared 2-core machine",
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
        if "per_isochrone_s" in r:
            diff = None
        print(f"{task:46s} {r['fast_s']:9.4f} {str(r.get('best_peer') or '—'):>20s} {fmt(r.get('best_peer_s'), '9.4f'):>9s} "
              f"{fmt(r.get('ratio_vs_best_peer'), '.2f'):>8s} {fmt(r.get('ratio'), '.1f'):>7s}  "
              f"{'' if diff is None else f'{diff:.1e} s'}")


if __name__ == "__main__":
    sys.exit(main())
