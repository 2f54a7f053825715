"""Peer routing libraries for scripts/bench_routing.py (installed from requirements-bench.txt).

Each peer is built from the same arrays as the Router (node indexes 0 … n−1,
undirected, minimum weight per node pair) and answers in node-index order, so
the bench can check its results against ours. A peer that is not installed,
or cannot do a task, is left out of that task (and named in the output).

* networkx — the baseline (pure Python);
* igraph, networkit — C/C++ graph libraries (Dijkstra);
* pandana — contraction hierarchy (AGPL-3.0: bench only, never a product dependency);
* pyroutingkit — RoutingKit's customizable CH (CCH). Its weights are
  unsigned 32-bit integers, so they are given in milliseconds (rounded; its
  times are compared to ours with that tolerance); 2^32 ms ≈ 50 days, no overflow.
"""

from __future__ import annotations

import numpy as np

MS = 1000.0


def unique_edges(net):
    """Undirected edges with the minimum weight per node pair, loops dropped (node indexes)."""
    index = {k: i for i, k in enumerate(net["ids"].tolist())}
    u = np.fromiter((index[k] for k in net["u"].tolist()), np.int64, len(net["u"]))
    v = np.fromiter((index[k] for k in net["v"].tolist()), np.int64, len(net["v"]))
    w = np.asarray(net["w"], np.float64)
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])] & (a != b)
    return a[first], b[first], w[first]


class IGraph:
    name = "igraph"

    def __init__(self, n, a, b, w):
        import igraph as ig

        self.g = ig.Graph(n=n, edges=np.column_stack([a, b]).tolist(), directed=False)
        self.g.es["w"] = w.tolist()

    def rows(self, sources, targets=None):
        return np.array(self.g.distances(source=[int(s) for s in sources],
                                         target=None if targets is None else [int(t) for t in targets], weights="w"))


class NetworKit:
    name = "networkit"

    def __init__(self, n, a, b, w):
        import networkit as nk

        self.nk = nk
        self.g = nk.Graph(n, weighted=True, directed=False)
        self.g.addEdges((w, (a, b)))

    def rows(self, sources, targets=None):
        out = []
        for s in sources:
            d = self.nk.distance.Dijkstra(self.g, int(s), storePaths=False)
            d.run()
            row = np.array(d.getDistances())
            row[row > 1e300] = np.inf
            out.append(row if targets is None else row[np.asarray(targets)])
        return np.array(out)

    def within(self, sources, limit):
        # networkit's Dijkstra has no cutoff: full rows, then the limit.
        return [np.flatnonzero(row <= limit) for row in self.rows(sources)]


class Pandana:
    name = "pandana"

    def __init__(self, n, a, b, w, x, y):
        import pandas as pd
        import pandana

        nodes = pd.DataFrame({"x": x, "y": y}, index=np.arange(n))
        self.net = pandana.Network(nodes["x"], nodes["y"], pd.Series(a), pd.Series(b),
                                   pd.DataFrame({"w": w}), twoway=True)

    def pairs(self, sources, targets):
        src = np.repeat(np.asarray(sources), len(targets))
        dst = np.tile(np.asarray(targets), len(sources))
        d = np.asarray(self.net.shortest_path_lengths(src, dst, imp_name="w"), dtype=float)
        d[d > 4e9] = np.inf   # pandana's "no path" is a huge number
        return d.reshape(len(sources), len(targets))

    def aggregate_within(self, weights, limit, origins):
        """Sum of ``weights`` within ``limit`` of every node (its precompute included), rows ``origins``."""
        import pandas as pd

        self.net.precompute(limit)
        self.net.set(pd.Series(np.arange(len(weights))), variable=pd.Series(weights), name="people")
        return self.net.aggregate(limit, type="sum", decay="flat", name="people").to_numpy()[np.asarray(origins)]


class RoutingKitCCH:
    name = "pyroutingkit (CCH)"

    def __init__(self, n, a, b, w, lat, lon):
        from pyroutingkit import CCH

        self.n = n
        self.tail = np.r_[a, b].astype(np.uint32)
        self.head = np.r_[b, a].astype(np.uint32)
        self.cch = CCH()
        self.cch.build_topology(self.tail, self.head, np.asarray(lat, np.float32), np.asarray(lon, np.float32),
                                node_count=n)
        self.customize(w)

    def customize(self, w):
        ms = np.rint(np.asarray(w) * MS)
        self.cch.customize_weights(np.r_[ms, ms].astype(np.uint32))

    def rows(self, sources, targets=None):
        targets = np.arange(self.n) if targets is None else np.asarray(targets)
        d = np.asarray(self.cch.distances_many_to_many(np.asarray(sources, np.uint32), targets.astype(np.uint32)),
                       dtype=float).reshape(len(sources), len(targets))
        d[d >= 2 ** 31 - 1] = np.inf
        return d / MS


def available(names=("igraph", "networkit", "pandana", "pyroutingkit")) -> dict:
    """Which peer libraries import here (name → version or the import error)."""
    out = {}
    for name in names:
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "installed")
        except Exception as exc:  # noqa: BLE001 - a missing peer is reported, not fatal
            out[name] = f"missing ({type(exc).__name__})"
    return out
