"""Peer routing libraries for scripts/bench_routing.py (installed from requirements-bench.txt).

Each peer is built from the same arrays as the Router (node indexes 0 … n−1,
undirected, minimum weight per node pair) and answers in node-index order, so
the bench checks its results against ours. A peer that is not installed, or
cannot do a task, is left out of that task (and named in the output).

Fairness (what the bench gives every peer, as it gives ours):

* imported and warmed up (a tiny graph built and queried) before any timing,
  as ours loads its compiled kernels first (:func:`import_and_warm`);
* its best API per task: igraph's ``distances`` with targets; networkit's
  ``MultiTargetDijkstra`` for few targets; pandana's ``shortest_path_lengths``;
  RoutingKit's ``distances_many_to_many`` called raw on prepared ``uint32``
  arrays (the conversion of its integer milliseconds to seconds is done
  outside the timing: :meth:`RoutingKitCCH.raw` vs :meth:`RoutingKitCCH.seconds`);
* in-place edits where the library has them: new weights (igraph's edge
  attribute, networkit's ``setWeight``) and a new road (igraph and networkit
  ``add_vertices``/``add_edges``, undone after the timing); RoutingKit has no
  incremental topology (a new arc is a new build), pandana no edit at all.

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
NAMES = ("igraph", "networkit", "pandana", "pyroutingkit")


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

        self.n = n
        self.g = ig.Graph(n=n, edges=np.column_stack([a, b]).tolist(), directed=False)
        self.g.es["w"] = w.tolist()

    def rows(self, sources, targets=None):
        return np.array(self.g.distances(source=[int(s) for s in sources],
                                         target=None if targets is None else [int(t) for t in targets], weights="w"))

    def set_weights(self, w):
        """New weights for the same edges, in place."""
        self.g.es["w"] = w.tolist()

    def add_road(self, a, b, half):
        """A new junction joined to nodes a and b (``half`` seconds each), in place; :meth:`undo_road` removes it."""
        self.g.add_vertices(1)
        mid = self.g.vcount() - 1
        self.g.add_edges([(int(a), mid), (mid, int(b))], attributes={"w": [float(half), float(half)]})
        return mid

    def undo_road(self):
        self.g.delete_vertices(self.g.vcount() - 1)     # its two edges go with it


class NetworKit:
    name = "networkit"

    def __init__(self, n, a, b, w):
        import networkit as nk

        self.nk = nk
        self.n = n
        self.a, self.b = a, b
        self.g = nk.Graph(n, weighted=True, directed=False)
        self.g.addEdges((w, (a, b)))

    def rows(self, sources, targets=None):
        """Full rows by Dijkstra, or — with targets — ``MultiTargetDijkstra`` (stops when all are reached)."""
        out = []
        for s in sources:
            if targets is None:
                d = self.nk.distance.Dijkstra(self.g, int(s), storePaths=False)
                d.run()
                row = np.array(d.getDistances())
            else:
                d = self.nk.distance.MultiTargetDijkstra(self.g, int(s), [int(t) for t in targets])
                d.run()
                row = np.array(d.getDistances(), dtype=float)      # in the order of the targets
            row[row > 1e300] = np.inf
            out.append(row)
        return np.array(out)

    def set_weights(self, w, changed):
        """New weights of the edges ``changed`` (indexes into the edge arrays), in place."""
        for k in changed.tolist():
            self.g.setWeight(int(self.a[k]), int(self.b[k]), float(w[k]))

    def add_road(self, a, b, half):
        mid = self.g.addNode()
        self.g.addEdge(int(a), mid, float(half))
        self.g.addEdge(mid, int(b), float(half))
        self._road = (int(a), mid, int(b))
        return mid

    def undo_road(self):
        a, mid, b = self._road
        self.g.removeEdge(a, mid)
        self.g.removeEdge(mid, b)
        self.g.removeNode(mid)          # ids are not reused: the next road gets a new one


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
        self.all = np.arange(n, dtype=np.uint32)
        self.tail = np.r_[a, b].astype(np.uint32)
        self.head = np.r_[b, a].astype(np.uint32)
        self.cch = CCH()
        self.cch.build_topology(self.tail, self.head, np.asarray(lat, np.float32), np.asarray(lon, np.float32),
                                node_count=n)
        self.customize_raw(self.milliseconds(w))

    @staticmethod
    def milliseconds(w):
        """Its weights: uint32 milliseconds, both directions (prepared outside any timing)."""
        ms = np.rint(np.asarray(w) * MS)
        return np.r_[ms, ms].astype(np.uint32)

    def customize_raw(self, ms):
        self.cch.customize_weights(ms)

    def raw(self, sources, targets=None):
        """The library's own call: ``uint32`` arrays in, its integer-millisecond matrix out."""
        return self.cch.distances_many_to_many(sources, self.all if targets is None else targets)

    @staticmethod
    def seconds(d):
        d = np.asarray(d, dtype=float)
        d[d >= 2 ** 31 - 1] = np.inf
        return d / MS

    def rows(self, sources, targets=None):
        s = np.asarray(sources, np.uint32)
        return self.seconds(self.raw(s, None if targets is None else np.asarray(targets, np.uint32)))


def import_and_warm(names=NAMES) -> dict:
    """Import each peer and run it once on a 4-node graph, so no timing includes an import or a first call.

    Returns name → version, or the reason it is missing.
    """
    out = {}
    a, b, w = np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0])
    lat, lon = np.array([21.0, 21.001, 21.002, 21.003]), np.array([106.0] * 4)
    makers = {"igraph": lambda: IGraph(4, a, b, w).rows([0], [3]),
              "networkit": lambda: NetworKit(4, a, b, w).rows([0], [3]),
              "pandana": lambda: Pandana(4, a, b, w, lon, lat).pairs([0], [3]),
              "pyroutingkit": lambda: RoutingKitCCH(4, a, b, w, lat, lon).rows([0], [3])}
    for name in names:
        try:
            module = __import__(name)
            makers[name]()
            out[name] = getattr(module, "__version__", "installed")
        except Exception as exc:  # noqa: BLE001 - a missing peer is reported, not fatal
            out[name] = f"missing ({type(exc).__name__}: {exc})"
    return out


def available(names=NAMES) -> dict:
    """Which peer libraries import here (name → version or the import error)."""
    out = {}
    for name in names:
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "installed")
        except Exception as exc:  # noqa: BLE001 - a missing peer is reported, not fatal
            out[name] = f"missing ({type(exc).__name__})"
    return out
