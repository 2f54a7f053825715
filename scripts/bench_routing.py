#!/usr/bin/env python
"""Benchmark of the sparse routing core (geo/routing.py) against plain networkx.

Two networks: the real Bắc Giang 2018 road network (57,548 nodes, weights =
length / 40 km/h) and a generated perturbed grid of ~200,000 nodes (random
speeds, 10 % of links removed, fixed seed). On each, the same work is done the
fast way and the plain networkx way, in the same run:

* matrix: 200 origins × all nodes (networkx: single_source_dijkstra_path_length
  per origin; on the grid a sample of origins is timed and scaled linearly);
* nearest facility: time from every node to the nearest of 50 facilities
  (networkx: one multi_source_dijkstra);
* isochrone node sets: 100 origins, nodes within 30 min (networkx: cutoff);
* isochrone polygons (no networkx counterpart; a sample, scaled);
* build + memory: traced peak (tracemalloc) of building the router (CSR,
  contracted core, KD-tree) vs building the networkx graph.

The networkx graph is an ``nx.Graph`` holding the minimum weight of parallel
edges — faster than the ``MultiGraph`` a plain reader would build, so the
ratios are conservative. Results agree to 1e-6 s (checked and reported).
Writes OUT/bench.json: {task: {fast_s, baseline_s, ratio, peak_mb, nodes, …}}.

Run: ``python scripts/bench_routing.py --out out`` (about 3 minutes).
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


def build_router(net) -> Router:
    router = Router.from_arrays(net["ids"], net["x"], net["y"], net["u"], net["v"], net["w"])
    router._forward()                    # contracted core (lazy otherwise)
    router.snap(net["x"][:1], net["y"][:1], 1.0)   # KD-tree (lazy otherwise)
    return router


# ---------------------------------------------------------------------- tasks
def bench_network(net, matrix_sample: int | None, polygon_sample: int, seed: int) -> dict:
    results = {}
    name = net["name"]
    n = len(net["ids"])
    log.info("%s: %d nodes, %d edges", name, n, len(net["u"]))

    router, router_s = timed(lambda: build_router(net))
    G, nx_s = timed(lambda: networkx_graph(net))
    _, router_mb = traced(lambda: build_router(net))
    _, nx_mb = traced(lambda: networkx_graph(net))
    results[f"{name}_build"] = {"fast_s": router_s, "baseline_s": nx_s, "ratio": nx_s / router_s,
                                "peak_mb": router_mb, "baseline_peak_mb": nx_mb,
                                "memory_ratio": router_mb / nx_mb, "nodes": n,
                                "core_nodes": int(router._forward().K) if hasattr(router._forward(), "K") else None}

    rng = np.random.default_rng(seed)
    main = np.flatnonzero(router.largest_component())
    origins = rng.choice(main, 200, replace=False)
    ids = router.node_ids

    # 1. 200 origins × all nodes.
    matrix, fast = timed(lambda: router.travel_times(origins))
    _, fast2 = timed(lambda: router.travel_times(origins, workers=2))
    _, peak = traced(lambda: router.travel_times(origins))
    sample = origins if matrix_sample is None else origins[:matrix_sample]
    worst = 0.0
    start = time.perf_counter()
    rows = [nx.single_source_dijkstra_path_length(G, int(ids[o])) for o in sample]
    base = (time.perf_counter() - start) * len(origins) / len(sample)
    for row, o_pos in zip(rows, range(len(sample))):
        got = matrix[o_pos]
        keys = np.fromiter(row.keys(), dtype=np.int64, count=len(row))
        vals = np.fromiter(row.values(), dtype=np.float64, count=len(row))
        pos = router.index_of(keys)
        worst = max(worst, float(np.max(np.abs(got[pos] - vals))))
        assert np.isnan(got).sum() == n - len(row), "reachable sets differ"
    del rows, matrix
    results[f"{name}_matrix_200_origins"] = {
        "fast_s": fast, "baseline_s": base, "ratio": base / fast, "peak_mb": peak, "nodes": n,
        "max_abs_diff_s": worst, "fast_2_workers_s": fast2, "ratio_2_workers": base / fast2,
        "note": ("networkx timed on all 200 origins" if matrix_sample is None
                 else f"networkx timed on {len(sample)} origins and scaled ×{len(origins) / len(sample):g}")}

    # 2. Nearest of 50 facilities, one multi-source search.
    facilities = rng.choice(main, 50, replace=False)
    (time_, nearest), fast = timed(lambda: router.nearest_facility(facilities))
    _, peak = traced(lambda: router.nearest_facility(facilities))
    (dist, paths), base = timed(lambda: nx.multi_source_dijkstra(G, set(ids[facilities].tolist())))
    keys = np.fromiter(dist.keys(), dtype=np.int64, count=len(dist))
    vals = np.fromiter(dist.values(), dtype=np.float64, count=len(dist))
    worst = float(np.max(np.abs(time_[router.index_of(keys)] - vals)))
    del dist, paths
    results[f"{name}_nearest_facility_50"] = {"fast_s": fast, "baseline_s": base, "ratio": base / fast,
                                              "peak_mb": peak, "nodes": n, "max_abs_diff_s": worst}

    # 3. 100 isochrones as node sets within 30 min.
    iso_origins = origins[:100]
    sets, fast = timed(lambda: router.reachable_within(iso_origins, 1800.0))
    _, peak = traced(lambda: router.reachable_within(iso_origins, 1800.0))
    start = time.perf_counter()
    nx_sets = [nx.single_source_dijkstra_path_length(G, int(ids[o]), cutoff=1800.0) for o in iso_origins]
    base = time.perf_counter() - start
    same = 0
    for (nodes_, times_), expected in zip(sets, nx_sets):
        mine = dict(zip(ids[nodes_].tolist(), times_.tolist()))
        odd = set(mine).symmetric_difference(expected)
        # Equal, or differing only by nodes whose time is the cutoff to rounding (sums in another order).
        same += all(abs(mine.get(k, expected.get(k)) - 1800.0) < 1e-6 for k in odd)
    mean_nodes = float(np.mean([len(a) for a, _ in sets]))
    del nx_sets
    results[f"{name}_isochrone_nodes_100x30min"] = {"fast_s": fast, "baseline_s": base, "ratio": base / fast,
                                                    "peak_mb": peak, "nodes": n, "mean_nodes_reached": mean_nodes,
                                                    "same_node_sets": same}

    # 4. Polygons (timed separately, no networkx counterpart).
    poly_origins = iso_origins[:polygon_sample]
    polys, poly_s = timed(lambda: isochrones(router, poly_origins, thresholds_min=(30,),
                                             edge_geometry=net["geometry"], crs=None))
    exact_origins = poly_origins[:max(1, polygon_sample // 4)]
    exact, exact_s = timed(lambda: isochrones(router, exact_origins, thresholds_min=(30,),
                                              edge_geometry=net["geometry"], crs=None, method="vector"))
    agree = float(np.mean(polys.area_km2.to_numpy()[:len(exact_origins)] / exact.area_km2.to_numpy()))
    results[f"{name}_isochrone_polygons_30min"] = {
        "fast_s": poly_s * len(iso_origins) / len(poly_origins), "baseline_s": None, "ratio": None, "peak_mb": None,
        "nodes": n, "per_isochrone_s": poly_s / len(poly_origins),
        "exact_vector_per_isochrone_s": exact_s / len(exact_origins), "area_auto_over_exact": agree,
        "mean_area_km2": float(polys.area_km2.mean()),
        "note": (f"method auto, timed on {len(poly_origins)} origins and scaled to 100 "
                 f"({poly_s / len(poly_origins):.2f} s each; exact vector union {exact_s / len(exact_origins):.2f} s each, "
                 f"area ratio {agree:.3f}); buffer 150 m, "
                 + ("real edge geometry" if net["geometry"] is not None else "straight edges"))}
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: ./out)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the source files (../shared/data)")
    parser.add_argument("--grid-side", type=int, default=448, help="grid side (448 → 200,704 nodes)")
    parser.add_argument("--grid-matrix-sample", type=int, default=10,
                        help="origins timed with networkx on the grid matrix (scaled to 200)")
    parser.add_argument("--polygon-sample", type=int, default=20, help="isochrone polygons actually built per network")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings.progress = False

    results = {}
    started = time.perf_counter()
    results.update(bench_network(bacgiang_network(args.data), None, args.polygon_sample, args.seed))
    results.update(bench_network(grid_network(args.grid_side, args.seed), args.grid_matrix_sample,
                                 max(1, args.polygon_sample // 2), args.seed))
    results["_meta"] = {"total_s": time.perf_counter() - started,
                        "processes": "1 for every fast_s and baseline_s; fast_2_workers_s uses 2 forked processes",
                        "networkx_graph": "nx.Graph, minimum weight per node pair",
                        "speed_bacgiang_kmh": 40}

    print(f"\n{'task':40s} {'nodes':>8s} {'fast s':>9s} {'networkx s':>11s} {'ratio':>7s} {'peak MB':>8s}  note")
    for task, r in results.items():
        if task.startswith("_"):
            continue
        base = "—" if r["baseline_s"] is None else f"{r['baseline_s']:.3f}"
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.1f}×"
        peak = "—" if r["peak_mb"] is None else f"{r['peak_mb']:.1f}"
        note = r.get("note", "")
        if "baseline_peak_mb" in r:
            note = f"networkx graph {r['baseline_peak_mb']:.1f} MB → router/networkx memory {r['memory_ratio']:.2f}"
        if "max_abs_diff_s" in r:
            note = f"max |diff| {r['max_abs_diff_s']:.1e} s; {note}".rstrip("; ")
        if "fast_2_workers_s" in r:
            note += f"; 2 processes: {r['fast_2_workers_s']:.2f} s = {r['ratio_2_workers']:.1f}×"
        if "same_node_sets" in r:
            note = (f"{r['same_node_sets']}/100 node sets equal (up to rounding at the cutoff), "
                    f"{r['mean_nodes_reached']:.0f} nodes each")
        print(f"{task:40s} {r['nodes']:8,d} {r['fast_s']:9.3f} {base:>11s} {ratio:>7s} {peak:>8s}  {note}")
    path = write_json(results, args.out / "bench.json")
    print(f"\nwrote {path} in {results['_meta']['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
