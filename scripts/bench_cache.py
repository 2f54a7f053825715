#!/usr/bin/env python
"""Cold hierarchy build vs a checked cache load (geo/routing/hierarchy_cache.py), on the real Bắc Giang network.

Both in the same process, best and median of ``--runs``; the ratio is what
counts on a shared machine. The checked load reads the entry, verifies its
headers, version, key, digest and order, then rebuilds topology and times
from the order.

    python scripts/bench_cache.py --data ../shared/data [--out out]   # → OUT/bench_cache.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pyogrio  # noqa: E402
from pyproj import Transformer  # noqa: E402

from geo.routing import hierarchy_cache  # noqa: E402

from geo import settings
from geo.routing.hierarchy import Hierarchy  # noqa: E402
from geo.routing.router import Router  # noqa: E402


def _router(data: Path) -> Router:
    path = data / "bacgiang_roads_osm2018_bbox03.gpkg"
    edges = pyogrio.read_dataframe(path, layer="edges", columns=["u", "v", "length_m"], read_geometry=False)
    nodes = pyogrio.read_dataframe(path, layer="nodes", columns=["node_id", "x", "y"], read_geometry=False)
    x, y = Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True).transform(nodes.x.to_numpy(), nodes.y.to_numpy())
    return Router.from_arrays(nodes.node_id, x, y, edges.u, edges.v, edges.length_m.to_numpy() / (40 / 3.6))


def _timed(fn, runs: int) -> dict:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return {"best_ms": round(min(seconds) * 1e3, 1), "median_ms": round(float(np.median(seconds)) * 1e3, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="write OUT/bench_cache.json")
    args = parser.parse_args(argv)
    router = _router(args.data)
    settings.cache_folder = Path(tempfile.mkdtemp(prefix="bgplan-bench-cache-"))
    Hierarchy.build(router.graph)                                   # numba compilation out of the timings
    cold = _timed(lambda: Hierarchy.build(router.graph), args.runs)
    hierarchy_cache.cached_hierarchy(router.graph)
    path = hierarchy_cache.cache_path(router.graph)
    load = _timed(lambda: hierarchy_cache.load(path, router.graph), args.runs)
    result = {"nodes": router.n, "arcs": int(router.graph.nnz), "cache_mb": round(path.stat().st_size / 1e6, 2),
              "cold_build": cold, "checked_load": load, "ratio_median": round(cold["median_ms"] / load["median_ms"], 1)}
    print(json.dumps(result, indent=1))
    if args.out is not None:
        from geo.io.output import write_json

        write_json(result, args.out / "bench_cache.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
