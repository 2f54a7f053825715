"""Fast travel times on a network: sparse matrices and ``scipy.sparse.csgraph``.

This module is the one place that knows about ``scipy.sparse.csgraph`` and
about the mapping between node ids and matrix positions ("node indexes").
Everything else in the project asks a :class:`Router`.

A :class:`Router` holds

* ``graph``: an n × n CSR matrix (float64) of edge weights — usually travel
  times in seconds — with the *minimum* weight kept for parallel edges and
  self-loops left out (they never shorten a route). An undirected network is
  stored with both directions. Explicit zero weights are real (free) edges;
* ``node_ids`` (any unique, hashable ids) and the id → index lookup;
* ``x``, ``y``: node coordinates in a metric CRS (``crs``, metres) and a
  :class:`scipy.spatial.cKDTree` over them for snapping;
* the edge list as given (``edge_u``, ``edge_v`` indexes, ``edge_weight``),
  in input order, so that isochrones can cut edges and look up geometries.

Conventions: node *indexes* are positions 0 … n−1; *ids* are the labels of the
input. Times are in the unit of the weights (seconds when built from travel
times). Unreachable is ``NaN`` in every returned array or table, never ``inf``
and never 0; a point too far from the network is index −1, never silently
snapped.

Speed. For undirected networks the router contracts the graph once (lazily)
into a *core*: dead-end trees are peeled off and chains of degree-2 nodes are
replaced by single edges; every removed node keeps its (at most two) exit
junctions and the distances to them. Dijkstra then runs on the core (from a
virtual node wired to the exits of each origin) and the times of removed
nodes are recovered exactly as ``min(t(exit) + distance to exit)``, plus a
local search inside the origin's own tree/chain. On the Bắc Giang 2018 road
network (57,548 nodes) the core has 32,030 nodes, which halves the Dijkstra
work; results equal plain Dijkstra (see the tests). Directed networks
(one-way streets) are routed without contraction. ``workers=2`` spreads many
origins over forked processes (scipy's Dijkstra holds the GIL).

Which method answers a query (measured crossovers, ``scripts/bench_routing.py``):
origins × destinations and nearest-of-a-set go to the customizable contraction
hierarchy (:mod:`geo.routing.hierarchy`, elimination-tree walks and buckets) when it is
in memory or in the disk cache; otherwise plain searches (one per destination
set, or per origin) answer until the router family has spent
:data:`HIERARCHY_AFTER_SEARCHES` of them, and only then is the hierarchy built
(ski rental: a one-off access job never waits for a build). Full rows
use PHAST sweeps; bounded searches (isochrones, catchments) use a numba
Dijkstra unless a hierarchy is at hand and the first search reached more nodes
than a PHAST sweep costs (:data:`PHAST_REACH_PER_UP_ARC`), then PHAST rows. New weights
(:meth:`Router.with_weights`) re-customise the hierarchy (same order and
topology); new roads are answered on the base hierarchy plus their arcs.

Measured by ``scripts/bench_routing.py`` (one process, against networkx and
the peer libraries in the same run, interleaved; tables in the README): on
Bắc Giang the access job (53 × 9) takes about 0.2 ms (thousands of times
networkx, on a par with RoutingKit's CCH in its faster direction).

>>> r = Router.from_arrays([10, 11, 12, 13], x=[0, 100, 200, 900], y=[0, 0, 0, 0],
...                        u=[10, 11, 11], v=[11, 12, 12], weight=[5.0, 7.0, 9.0])
>>> r.travel_times([0])            # node 13 has no edge: unreachable is NaN
array([[ 0.,  5., 12., nan]])
>>> idx, dist = r.snap([95, 5000], [3, 0], max_distance_m=50)
>>> idx.tolist(), dist.round(1).tolist()
([1, -1], [5.8, nan])
>>> r.matrix([10], [12, 13])[["origin", "destination", "travel_time_s", "reason"]].values.tolist()
[[10, 12, 12.0, nan], [10, 13, nan, 'unreachable']]
"""

from __future__ import annotations

import functools
import logging
import mmap
import multiprocessing
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo import settings
from geo.errors import InputError
from geo.routing.hierarchy import Hierarchy
from geo.routing.searches import arc_order, bounded_searches, closure, gathered_minimum, min_plus

log = logging.getLogger(__name__)

#: Largest number of matrix cells (origins × columns, float64) computed in one block.
BLOCK_CELLS = 16_000_000

#: Most target columns answered by the hierarchy's many-to-many search (more: one-to-all rows).
M2M_MAX_TARGETS = 2000

#: Fewest origins for which a one-to-all request builds a hierarchy it does not have yet.
#: Measured (scripts/bench_routing.py machine, one process): a cold build costs as much as
#: ~120 Dijkstra rows on 57,548 nodes (0.36 s vs 3.6 ms − 0.6 ms for a PHAST row) and ~70 on a
#: 200,000-node grid (1.4 s vs 27 ms − 7 ms).
PHAST_MIN_ORIGINS = 100

#: Ski-rental cost model for building a hierarchy that neither memory nor the disk cache holds:
#: small batches of origins × destinations are answered by one Dijkstra search per destination
#: (or per origin, the smaller side) until a router family (a base router and the scenario and
#: re-weighted routers made from it) has spent this many searches; the next query builds the
#: hierarchy. Measured on the same machine: a cold build (nested dissection + topology +
#: customisation) costs as much as ~60–110 searches (0.2–0.36 s vs 3.3 ms on 57,548 nodes;
#: 1.4 s vs 22 ms on a 200,000-node grid), so a one-off access job (9 searches) never pays for
#: it, while an access job plus scenario re-runs builds it after ~7 re-runs — never more than
#: about twice the cost of the better choice made in hindsight.
HIERARCHY_AFTER_SEARCHES = 60

#: Most endpoints of added arcs answered on top of the base hierarchy (more: the scenario's own
#: topology, built in the base order). Measured on 57,548 nodes (access job 53 × 9): 400 endpoints
#: cost 34 ms on top of the base vs 176 ms for the own topology; 2 endpoints 1.4 vs 35 ms.
OVERLAY_MAX_ENDPOINTS = 600

#: The same for new weights (:meth:`Router.with_weights`), whose alternative is a customisation of
#: the base topology: measured 6 ms whatever the change vs the overlay's 3.3 ms at 100 endpoints and
#: 8 ms at 200 (57,548 nodes; on a 200,000-node grid a customisation costs 0.55 s).
OVERLAY_MAX_CHANGED_ENDPOINTS = 150

#: Nodes reached by a bounded search, per upward arc of the hierarchy, above which PHAST rows are
#: used instead (a row's sweep costs in proportion to the arcs, a bounded search to the nodes it
#: reaches). Measured (one process, limits 5–45 min): the two cost the same at 0.009–0.015 nodes per
#: arc on both networks — Bắc Giang (228,327 arcs): a PHAST row 0.77 ms, a 30-min search reaching
#: 10,636 nodes 2.5 ms; the 200,000-node grid (3.7 M arcs): 10.6 ms vs 4.0 ms for 13,289 nodes.
PHAST_REACH_PER_UP_ARC = 0.02

#: Origins per worker below which ``reachable_within`` stays in one process (forking and
#: sending the node sets back cost more than the searches; measured in scripts/bench_routing.py).
PARALLEL_MIN_ORIGINS_PER_WORKER = 500

#: Least share of nodes of degree ≤ 2 (dead ends and chain links) for which searches run on the
#: contracted core. Measured (scripts/bench_routing.py networks): Bắc Giang has 32 % — the core
#: (0.04 s to build) makes a search 4.6 → 3.3 ms; a 200,000-node grid has 5 % — the core costs
#: 0.18 s and makes searches slower (23 → 26 ms), so plain scipy searches are used there.
CONTRACT_MIN_SHARE = 0.15

#: scipy's marker for "no predecessor / no source".
_NULL = -9999


class Router:
    """Shortest travel times on a road network, with snapping.

    Build it with :meth:`from_arrays` or :meth:`from_networkx`; the
    constructor takes already-checked arrays and is not meant to be called
    directly. Routers are immutable: :meth:`add_edges` and :meth:`add_nodes`
    return new ones.
    """

    def __init__(self, node_ids: np.ndarray, x: np.ndarray, y: np.ndarray, edge_u: np.ndarray,
                 edge_v: np.ndarray, edge_weight: np.ndarray, directed: bool, crs, contract: bool = True,
                 csr_plan: _CsrPlan | None = None):
        self.node_ids = np.asarray(node_ids)
        self.x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.edge_u = np.asarray(edge_u, dtype=np.int64)
        self.edge_v = np.asarray(edge_v, dtype=np.int64)
        self.edge_weight = np.asarray(edge_weight, dtype=np.float64)
        self.directed = bool(directed)
        self.crs = crs
        self.contract = bool(contract)
        # How edges become CSR arcs depends on the topology only: routers with the same edges
        # (with_weights) share it and only take the minimum weight per arc again.
        self._csr_plan = csr_plan or _CsrPlan.of(len(self.node_ids), self.edge_u, self.edge_v, self.directed)
        self.graph = self._csr_plan.graph(self.edge_weight)
        self._index = pd.Index(self.node_ids)
        self._tree: cKDTree | None = None
        self._engine = None
        self._reverse_engine = None
        self._labels: dict[str, np.ndarray] = {}
        self._ch = None
        #: (base router, arc tails, arc heads, arc weights): arcs added since ``base`` (see :meth:`add_edges`).
        self._overlay: tuple | None = None
        self._overlay_ends: int | None = None        # number of distinct endpoints of the overlay's arcs
        self._reorder_from: Router | None = None
        self._csr64 = None
        #: Dijkstra searches spent by this router's family instead of building a hierarchy (shared list).
        self._searches_spent = [0]
        self._cache_path = None

    # ------------------------------------------------------------------ building
    @classmethod
    def from_arrays(cls, node_ids: Sequence, x: Sequence[float], y: Sequence[float], u: Sequence, v: Sequence,
                    weight: Sequence[float], directed: bool = False, crs=settings.metric_crs,
                    contract: bool = True) -> Router:
        """Router from plain arrays.

        ``node_ids`` (unique), ``x``, ``y`` (metres in ``crs``, default the
        project's metric CRS) describe the nodes; ``u``, ``v`` (node *ids*)
        and ``weight`` (≥ 0, finite; usually seconds) the edges. With
        ``directed=False`` every edge can be used both ways. Parallel edges
        keep the minimum weight. ``contract=False`` switches off the core
        contraction (only useful to compare).

        Raises :class:`~geo.errors.InputError` for repeated node ids, edges
        naming unknown nodes, and negative or missing weights.
        """
        node_ids = np.asarray(node_ids)
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if not (node_ids.ndim == x.ndim == y.ndim == 1 and len(node_ids) == len(x) == len(y)):
            raise ValueError("node_ids, x and y must be 1-D arrays of the same length")
        if crs is not None and _is_geographic(crs):
            raise ValueError(f"node coordinates must be in a metric CRS, not {crs} (degrees)")
        u = np.asarray(u)
        v = np.asarray(v)
        weight = np.asarray(weight, dtype=np.float64)
        if not (u.shape == v.shape == weight.shape and u.ndim == 1):
            raise ValueError("u, v and weight must be 1-D arrays of the same length")
        ui, vi = _positions(node_ids, u, v)
        unknown = (ui < 0) | (vi < 0)
        if unknown.any():
            raise InputError(None, f"{int(unknown.sum())} edge(s) refer to node ids missing from the node table")
        bad = ~np.isfinite(weight) | (weight < 0)
        if bad.any():
            raise InputError(None, f"{int(bad.sum())} edge weight(s) are negative or missing")
        return cls(node_ids, x, y, ui, vi, weight, directed, crs, contract)

    @classmethod
    def from_frames(cls, nodes: pd.DataFrame, edges: pd.DataFrame, weight, directed: bool = False,
                    metric_crs=None, contract: bool = True) -> Router:
        """Router from node and edge tables (the layout of :mod:`geo.routing.network`).

        ``nodes`` needs ``node_id`` and ``x``/``y`` in degrees (EPSG:4326) —
        or point geometry in any CRS when it is a GeoDataFrame without
        ``x``/``y``; ``edges`` needs ``u`` and ``v``. ``weight`` is an edge
        column name or an array aligned with ``edges`` (e.g.
        ``edges.length_m / (40 / 3.6)`` for seconds at 40 km/h). Edge order is
        kept, so ``edges.geometry`` can be passed to
        :func:`geo.isochrones.isochrones` as ``edge_geometry``.
        """
        from pyproj import Transformer

        metric_crs = metric_crs or settings.metric_crs
        if {"x", "y"} <= set(nodes.columns):
            x, y, source_crs = nodes["x"].to_numpy(float), nodes["y"].to_numpy(float), settings.storage_crs
        else:
            x, y, source_crs = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy(), nodes.crs
        x, y = Transformer.from_crs(source_crs, metric_crs, always_xy=True).transform(x, y)
        w = edges[weight].to_numpy(float) if isinstance(weight, str) else np.asarray(weight, dtype=np.float64)
        return cls.from_arrays(nodes["node_id"].to_numpy(), x, y, edges["u"].to_numpy(), edges["v"].to_numpy(), w,
                               directed=directed, crs=metric_crs, contract=contract)

    @classmethod
    def from_networkx(cls, G, weight: str = "travel_time", metric_crs=None, contract: bool = True) -> Router:
        """Router from a networkx graph (osmnx/pyrosm style).

        Nodes need ``x`` and ``y`` attributes. When ``G.graph["crs"]`` is
        geographic (as from osmnx/pyrosm, EPSG:4326) they are projected to
        ``metric_crs`` (default :data:`geo.settings.metric_crs`; pass the UTM
        zone of the data for places outside Bắc Giang); a projected graph is
        used as it is. A graph without ``crs`` whose coordinates all fit
        longitude/latitude ranges is taken as EPSG:4326 (as
        :func:`geo.routing.network.to_networkx` builds it). Directed graphs
        (``MultiDiGraph``) keep one-way streets; parallel edges keep the
        minimum ``weight``.
        """
        from pyproj import CRS, Transformer

        node_ids = np.array(list(G.nodes), dtype=object)
        if node_ids.size and all(isinstance(n, (int, np.integer)) for n in node_ids):
            node_ids = node_ids.astype(np.int64)
        try:
            x = np.fromiter((d["x"] for _, d in G.nodes(data=True)), dtype=np.float64, count=len(node_ids))
            y = np.fromiter((d["y"] for _, d in G.nodes(data=True)), dtype=np.float64, count=len(node_ids))
        except KeyError:
            raise InputError(None, "graph nodes need 'x' and 'y' attributes") from None
        graph_crs = G.graph.get("crs")
        if graph_crs is None and x.size and np.nanmax(np.abs(x)) <= 180 and np.nanmax(np.abs(y)) <= 90:
            log.info("graph has no CRS and lon/lat-like coordinates: taken as %s", settings.storage_crs)
            graph_crs = settings.storage_crs
        crs = graph_crs
        if graph_crs is not None and CRS.from_user_input(graph_crs).is_geographic:
            crs = metric_crs or settings.metric_crs
            x, y = Transformer.from_crs(graph_crs, crs, always_xy=True).transform(x, y)
        elif graph_crs is None:
            crs = metric_crs
        edges = list(G.edges(data=weight))
        missing = sum(1 for e in edges if e[2] is None)
        if missing:
            raise InputError(None, f"{missing} edge(s) of the graph have no '{weight}' attribute")
        u = [e[0] for e in edges]
        v = [e[1] for e in edges]
        w = np.fromiter((e[2] for e in edges), dtype=np.float64, count=len(edges))
        return cls.from_arrays(node_ids, x, y, np.array(u, dtype=node_ids.dtype), np.array(v, dtype=node_ids.dtype),
                               w, directed=G.is_directed(), crs=crs, contract=contract)

    def add_edges(self, u_idx: Sequence[int], v_idx: Sequence[int], weight: Sequence[float],
                  directed: bool | None = None) -> Router:
        """A new router with extra edges (a scenario road), by node *index*.

        Existing edges stay; where a new edge joins the same two nodes as an
        old one the smaller weight wins, so adding edges never lengthens any
        travel time. On a directed router new edges are one-way unless
        ``directed=False`` is given, in which case both directions are added.
        Use :meth:`add_nodes` first for junctions that do not exist yet.
        """
        u_idx = np.atleast_1d(np.asarray(u_idx, dtype=np.int64))
        v_idx = np.atleast_1d(np.asarray(v_idx, dtype=np.int64))
        weight = np.atleast_1d(np.asarray(weight, dtype=np.float64))
        if not (u_idx.shape == v_idx.shape == weight.shape):
            raise ValueError("u_idx, v_idx and weight must have the same length")
        self._check_indexes(np.r_[u_idx, v_idx])
        if (~np.isfinite(weight) | (weight < 0)).any():
            raise InputError(None, "new edge weights must be finite and ≥ 0")
        if self.directed and directed is False:
            u_idx, v_idx, weight = np.r_[u_idx, v_idx], np.r_[v_idx, u_idx], np.r_[weight, weight]
        out = Router(self.node_ids, self.x, self.y, np.r_[self.edge_u, u_idx], np.r_[self.edge_v, v_idx],
                     np.r_[self.edge_weight, weight], self.directed, self.crs, self.contract)
        arcs_u, arcs_v, arcs_w = (u_idx, v_idx, weight) if self.directed else \
            (np.r_[u_idx, v_idx], np.r_[v_idx, u_idx], np.r_[weight, weight])
        out._overlay = self._extended_overlay(arcs_u, arcs_v, arcs_w)
        out._searches_spent = self._searches_spent
        return out

    def with_weights(self, edge_weight: Sequence[float]) -> Router:
        """A new router with new weights for the same edges (a speed change, a calibration run).

        ``edge_weight`` is aligned with :attr:`edge_weight` (input order,
        including edges added by :meth:`add_edges`). Where no weight went up
        and few arcs changed, the new router answers hierarchy queries from
        this router's hierarchy plus the changed arcs (no preprocessing);
        otherwise its hierarchy is this router's hierarchy re-customised
        with the new weights (same order and topology, see :mod:`geo.routing.hierarchy`).
        """
        w = np.asarray(edge_weight, dtype=np.float64)
        if w.shape != self.edge_weight.shape:
            raise ValueError(f"edge_weight needs {len(self.edge_weight)} values, got {w.shape}")
        if (~np.isfinite(w) | (w < 0)).any():
            raise InputError(None, "edge weights must be finite and ≥ 0")
        out = Router(self.node_ids, self.x, self.y, self.edge_u, self.edge_v, w, self.directed, self.crs,
                     self.contract, csr_plan=self._csr_plan)
        out._reorder_from = self
        changed = np.flatnonzero(w != self.edge_weight)
        if (w[changed] <= self.edge_weight[changed]).all():
            u_idx, v_idx, weight = self.edge_u[changed], self.edge_v[changed], w[changed]
            arcs_u, arcs_v, arcs_w = (u_idx, v_idx, weight) if self.directed else \
                (np.r_[u_idx, v_idx], np.r_[v_idx, u_idx], np.r_[weight, weight])
            out._overlay = self._extended_overlay(arcs_u, arcs_v, arcs_w)
        out._searches_spent = self._searches_spent
        return out

    def _extended_overlay(self, arcs_u, arcs_v, arcs_w):
        keep = arcs_u != arcs_v
        arcs_u, arcs_v, arcs_w = arcs_u[keep], arcs_v[keep], arcs_w[keep]
        if self._overlay is None:
            return (self, arcs_u, arcs_v, arcs_w)
        base, u0, v0, w0 = self._overlay
        return (base, np.r_[u0, arcs_u], np.r_[v0, arcs_v], np.r_[w0, arcs_w])

    def add_nodes(self, node_ids: Sequence, x: Sequence[float], y: Sequence[float]) -> Router:
        """A new router with extra (unconnected) nodes appended at the end.

        Existing indexes stay valid; the new nodes get indexes n, n+1, …
        Connect them with :meth:`add_edges`.
        """
        node_ids = np.atleast_1d(np.asarray(node_ids))
        all_ids = np.concatenate([self.node_ids, node_ids.astype(self.node_ids.dtype, copy=False)])
        if not pd.Index(all_ids).is_unique:
            raise InputError(None, "new node ids repeat existing ones")
        out = Router(all_ids, np.r_[self.x, np.asarray(x, np.float64)], np.r_[self.y, np.asarray(y, np.float64)],
                     self.edge_u, self.edge_v, self.edge_weight, self.directed, self.crs, self.contract,
                     csr_plan=self._csr_plan.with_nodes(len(all_ids)))
        empty = np.empty(0, np.int64)
        out._overlay = self._extended_overlay(empty, empty, np.empty(0))
        out._searches_spent = self._searches_spent
        return out

    # ------------------------------------------------------------------ ids
    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    def index_of(self, node_ids: Sequence) -> np.ndarray:
        """Node indexes of node ids (−1 for ids not in the network)."""
        return self._index.get_indexer(np.atleast_1d(np.asarray(node_ids)))

    def ids_of(self, node_idx: Sequence[int]) -> np.ndarray:
        """Node ids of node indexes (all must be valid)."""
        node_idx = np.atleast_1d(np.asarray(node_idx, dtype=np.int64))
        self._check_indexes(node_idx)
        return self.node_ids[node_idx]

    # ------------------------------------------------------------------ snapping
    def snap(self, x: Sequence[float], y: Sequence[float], max_distance_m: float,
             within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point (coordinates in the router's CRS).

        Returns ``(node_index, distance_m)``. Points farther than
        ``max_distance_m`` (or with missing coordinates) get index −1 and
        distance NaN — they are never snapped silently. ``within`` (boolean
        mask over nodes, e.g. ``router.components() == 0``) restricts the
        candidate nodes.
        """
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        index, dist = self._nearest(x, y, within, bound=float(max_distance_m))
        return index, dist

    def snap_points(self, points, max_distance_m: float, within: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`snap` for a GeoSeries/GeoDataFrame (reprojected to the router's CRS).

        Non-point geometries are snapped by their representative point.
        """
        import shapely

        geoms = points.geometry if hasattr(points, "geometry") else points
        if self.crs is not None and geoms.crs is not None:
            geoms = geoms.to_crs(self.crs)
        values = np.asarray(geoms.values)
        empty = shapely.is_missing(values) | shapely.is_empty(values)
        pts = shapely.point_on_surface(np.where(empty, None, values))
        x = np.where(empty, np.nan, shapely.get_x(pts))
        y = np.where(empty, np.nan, shapely.get_y(pts))
        return self.snap(x, y, max_distance_m, within=within)

    def distance_to_network(self, x: Sequence[float], y: Sequence[float], within: np.ndarray | None = None) -> np.ndarray:
        """Distance (m) from each point to its nearest node, however far."""
        _, dist = self._nearest(np.atleast_1d(np.asarray(x, np.float64)), np.atleast_1d(np.asarray(y, np.float64)),
                                within, bound=np.inf)
        return dist

    def _nearest(self, x, y, within, bound):
        out_idx = np.full(len(x), -1, dtype=np.int64)
        out_dist = np.full(len(x), np.nan)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any() or self.n == 0:
            return out_idx, out_dist
        if within is None:
            if self._tree is None:
                self._tree = cKDTree(np.column_stack([self.x, self.y]))
            tree, subset = self._tree, None
        else:
            subset = np.flatnonzero(np.asarray(within, dtype=bool))
            if subset.size == 0:
                return out_idx, out_dist
            tree = cKDTree(np.column_stack([self.x[subset], self.y[subset]]))
        upper = np.nextafter(bound, np.inf) if np.isfinite(bound) else np.inf
        dist, idx = tree.query(np.column_stack([x[ok], y[ok]]), distance_upper_bound=upper)
        hit = np.isfinite(dist)
        idx = np.where(hit, idx, -1)
        if subset is not None:
            idx = np.where(hit, subset[np.where(hit, idx, 0)], -1)
        out_idx[ok] = idx
        out_dist[ok] = np.where(hit, dist, np.nan)
        return out_idx, out_dist

    # ------------------------------------------------------------------ routing
    def travel_times(self, origins_idx: Sequence[int], destinations_idx: Sequence[int] | None = None,
                     limit: float | None = None, workers: int = 1) -> np.ndarray:
        """Shortest travel times from each origin (rows) to each destination (columns).

        Indexes, not ids. Without ``destinations_idx`` the columns are all n
        nodes. ``limit`` (same unit as the weights) stops each search there:
        anything farther is NaN, as is anything unreachable. Large requests
        are computed in blocks of about :data:`BLOCK_CELLS` cells.
        ``workers > 1`` splits the origins over that many forked processes
        (Linux; scipy's Dijkstra holds the GIL, so threads would not help).
        """
        origins = np.atleast_1d(np.asarray(origins_idx, dtype=np.int64))
        self._check_indexes(origins)
        cols = None if destinations_idx is None else np.atleast_1d(np.asarray(destinations_idx, dtype=np.int64))
        if cols is not None:
            self._check_indexes(cols)
        limit = _limit(limit)
        ncols = self.n if cols is None else len(cols)
        if len(origins) == 0 or ncols == 0:
            return np.empty((len(origins), ncols))
        if cols is not None and len(cols) <= M2M_MAX_TARGETS:
            # Hierarchy: one small upward search per origin and per destination.
            out = self._many_to_many(origins, cols[:, None])
            return _finish(out, limit)
        block = max(1, BLOCK_CELLS // max(self.n, 1))
        if cols is None and not np.isfinite(limit) and self._phast_pays(len(origins)):
            hierarchy = self.hierarchy()
            out = np.empty((len(origins), ncols))
            for start in range(0, len(origins), block):   # unreachable written as NaN by the sweep itself
                hierarchy.one_to_all(origins[start:start + block], out=out[start:start + block], unreachable=np.nan)
            return out
        engine = self._forward()
        workers = _usable_workers(workers, len(origins))
        if workers == 1 and len(origins) <= block:
            out = engine.dense(origins, cols, limit)
            np.putmask(out, np.isinf(out), np.nan)
            return out
        if workers > 1:
            block = max(1, min(block, -(-len(origins) // (2 * workers))))
        chunks = [(start, origins[start:start + block]) for start in range(0, len(origins), block)]
        if workers > 1:
            return _parallel_dense(engine, chunks, cols, limit, (len(origins), ncols), workers)
        from tqdm.auto import tqdm

        out = np.empty((len(origins), ncols))
        for start, chunk in tqdm(chunks, desc="travel times", unit="block", disable=not settings.progress):
            part = engine.dense(chunk, cols, limit)
            np.putmask(part, np.isinf(part), np.nan)
            out[start:start + len(part)] = part
        return out

    def reachable_within(self, origins_idx: Sequence[int], limit: float,
                         workers: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each origin, the nodes reached within ``limit`` and their times.

        Returns a list (one item per origin) of ``(node_index array, time
        array)`` sorted by node index — a sparse answer, cheap for short
        limits on big networks (isochrones, catchments). ``workers`` as in
        :meth:`travel_times`.
        """
        origins = np.atleast_1d(np.asarray(origins_idx, dtype=np.int64))
        self._check_indexes(origins)
        limit = _limit(limit)
        workers = _usable_workers(workers, len(origins))
        if len(origins) < PARALLEL_MIN_ORIGINS_PER_WORKER * workers:
            workers = 1
        if workers == 1:
            return self._within_one_process(origins, limit)
        chunks = np.array_split(origins, 2 * workers)
        _SHARED.update(router=self, limit=limit)
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_within_chunk, chunks)
        finally:
            _SHARED.clear()
        return [item for part in parts for item in part]

    def time_to_nearest(self, origins_idx: Sequence[int], target_sets: Sequence[Sequence[int]],
                        limit: float | None = None) -> np.ndarray:
        """Time from each origin (rows) to the nearest node of each target set (columns).

        Indexes, not ids; ``target_sets`` is a list of node-index sequences
        (e.g. all nodes of a corridor, or one node per destination). Answered
        by the hierarchy (:mod:`geo.routing.hierarchy`): one short walk up the
        elimination tree per origin and per set, however far apart they are. On a
        directed network the time is origin → target. NaN where no node of
        the set is reachable (or an empty set), or farther than ``limit``.
        """
        origins = np.atleast_1d(np.asarray(origins_idx, dtype=np.int64))
        self._check_indexes(origins)
        groups = [np.atleast_1d(np.asarray(g, dtype=np.int64)).ravel() for g in target_sets]
        for g in groups:
            self._check_indexes(g)
        return _finish(self._many_to_many(origins, groups), _limit(limit))

    # ------------------------------------------------------------------ hierarchy
    def hierarchy(self) -> Hierarchy:
        """This router's customizable contraction hierarchy (built on first use, see :mod:`geo.routing.hierarchy`).

        A router made by :meth:`with_weights` re-customises its parent's
        hierarchy (same order and topology, new weights); a router made by
        :meth:`add_edges`/:meth:`add_nodes` usually never needs its own
        (queries use the base hierarchy plus the added arcs), else its
        topology is built in the base order (no nested dissection). Base networks are cached on disk
        under :data:`geo.settings.cache_folder` (keyed by the graph's
        content) when :data:`geo.settings.hierarchy_cache` is on.
        """
        if self._ch is None:
            if self._reorder_from is not None:
                self._ch = self._reorder_from.hierarchy().customise(self.graph)
            elif self._overlay is not None:
                self._ch = Hierarchy.build(self.graph, order=self._overlay[0].hierarchy().order_for(self.n))
            else:
                self._ch = _cached_hierarchy(self.graph)
        return self._ch

    def _phast_pays(self, origins: int) -> bool:
        return self._ch is not None or origins >= PHAST_MIN_ORIGINS

    def _overlay_fits(self) -> bool:
        if self._overlay is None or self._ch is not None:
            return False
        if self._overlay_ends is None:
            _, au, av, _ = self._overlay
            ends = np.zeros(self.n, dtype=bool)
            ends[au] = ends[av] = True
            self._overlay_ends = int(ends.sum())
        cap = OVERLAY_MAX_CHANGED_ENDPOINTS if self._reorder_from is not None else OVERLAY_MAX_ENDPOINTS
        return self._overlay_ends <= cap

    def _many_to_many(self, sources: np.ndarray, groups) -> np.ndarray:
        """Times (inf = unreachable) from sources to the nearest node of each group.

        ``groups``: a list of node-index sequences, or a k × 1 int array (one node per group).
        """
        plain = self._dijkstra_pays(len(sources), len(groups))
        if not plain and not self._overlay_fits():
            h = self.hierarchy()
            if isinstance(groups, np.ndarray) and groups.ndim == 2 and groups.shape[1] == 1:
                return h.many_to_many_flat(sources, np.arange(len(groups) + 1, dtype=np.int64), groups[:, 0])
            return h.many_to_many(sources, groups)
        groups = [np.atleast_1d(np.asarray(g, dtype=np.int64)).ravel() for g in groups]
        if plain:
            return self._dijkstra_many_to_many(sources, groups)
        return self._overlay_many_to_many(sources, groups)

    def _hierarchy_at_hand(self) -> bool:
        """True when the hierarchy that would answer a query exists (memory or disk cache)."""
        if self._ch is not None:
            return True
        if self._overlay_fits():
            return self._overlay[0]._hierarchy_at_hand()
        if self._reorder_from is not None:         # a customisation away (~5 ms on 57,548 nodes)
            return self._reorder_from._hierarchy_at_hand()
        if self._overlay is not None:              # a topology in the base order (~40 ms) + a customisation
            return self._overlay[0]._hierarchy_at_hand()
        if not settings.hierarchy_cache:
            return False
        if self._cache_path is None:
            self._cache_path = _hierarchy_cache_path(self.graph)
        return self._cache_path.exists()

    def _dijkstra_pays(self, sources: int, groups: int) -> bool:
        """Ski rental (see :data:`HIERARCHY_AFTER_SEARCHES`): plain searches while they cost less than a build."""
        if self._hierarchy_at_hand():
            return False
        searches = min(sources, groups)
        if self._searches_spent[0] + searches > HIERARCHY_AFTER_SEARCHES:
            return False
        self._searches_spent[0] += searches
        return True

    def _dijkstra_many_to_many(self, sources: np.ndarray, groups: list) -> np.ndarray:
        """Times (inf = unreachable) by plain searches: one multi-source search per group, or one per source."""
        out = np.full((len(sources), len(groups)), np.inf)
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        if len(groups) <= len(sources):
            # Towards a group = from the group on the reversed graph (the same graph when undirected).
            engine = self._reverse() if self.directed else self._forward()
            for j, g in enumerate(groups):
                if len(g):
                    dist, _ = engine.nearest(np.unique(g), np.inf)
                    out[:, j] = dist[sources]
            return out
        cols = np.concatenate(groups) if sizes.sum() else np.empty(0, np.int64)
        if cols.size:
            dense = self._forward().dense(sources, cols, np.inf)
            filled = np.flatnonzero(sizes)
            out[:, filled] = np.minimum.reduceat(dense, np.r_[0, np.cumsum(sizes)[:-1]][filled], axis=1)
        return out

    def _overlay_many_to_many(self, sources: np.ndarray, groups: list) -> np.ndarray:
        """Many-to-many on the base hierarchy plus the added arcs, exactly.

        A path either avoids the added arcs (a base query) or runs
        source → endpoint e1 ⇝ endpoint e2 → target, where e1 ⇝ e2 is the
        shortest path in the small graph of the endpoints (base times between
        them plus the added arcs, closed by Floyd–Warshall).
        """
        base, au, av, aw = self._overlay
        h, n0 = base.hierarchy(), base.n
        ends = np.unique(np.r_[au, av])
        old_ends = ends[ends < n0]
        old_pos = np.searchsorted(ends, old_ends)
        src_old = np.flatnonzero(sources < n0)
        groups_old = [g[g < n0] for g in groups]
        rows = np.r_[sources[src_old], old_ends]
        both = h.many_to_many(rows, [[e] for e in old_ends] + groups_old)
        ms, ke, k = len(src_old), len(ends), len(groups)
        d = np.full((ke, ke), np.inf)
        d[np.ix_(old_pos, old_pos)] = both[ms:, :len(old_ends)]
        np.fill_diagonal(d, 0.0)
        np.minimum.at(d, (np.searchsorted(ends, au), np.searchsorted(ends, av)), aw)
        closure(d)
        to_end = np.full((len(sources), ke), np.inf)            # source → endpoint, base network only
        to_end[np.ix_(src_old, old_pos)] = both[:ms, :len(old_ends)]
        is_end = np.isin(sources, ends)
        to_end[np.flatnonzero(is_end), np.searchsorted(ends, sources[is_end])] = 0.0
        from_end = np.full((ke, k), np.inf)                      # endpoint → nearest of group, base only
        from_end[old_pos] = both[ms:, len(old_ends):]
        out = np.full((len(sources), k), np.inf)
        out[src_old] = both[:ms, len(old_ends):]
        for j, g in enumerate(groups):
            inside = np.isin(ends, g)
            from_end[inside, j] = 0.0
            out[np.isin(sources, g), j] = 0.0
        return np.minimum(out, min_plus(to_end, min_plus(d, from_end)))

    def _within_one_process(self, origins: np.ndarray, limit: float) -> list:
        """Bounded searches; PHAST rows instead when the hierarchy exists and the limit reaches far.

        The first origin is searched with the bounded Dijkstra; if it reached more than
        :data:`PHAST_REACH_PER_UP_ARC` nodes per arc of the hierarchy, full PHAST rows
        (one linear sweep each) are cheaper than bounded searches for the rest.
        """
        if len(origins) < 2 or self._overlay is not None or not self._hierarchy_at_hand():
            return _split_searches(*self._bounded(origins, limit))
        first = _split_searches(*self._bounded(origins[:1], limit))
        if len(first[0][0]) <= PHAST_REACH_PER_UP_ARC * self.hierarchy().stats.up_arcs:
            return first + _split_searches(*self._bounded(origins[1:], limit))
        out = first
        block = max(1, BLOCK_CELLS // max(self.n, 1))
        for start in range(1, len(origins), block):
            rows = self.hierarchy().one_to_all(origins[start:start + block])
            for row in rows:
                nodes = np.flatnonzero(row <= limit)
                out.append((nodes, row[nodes]))
        return out

    def _bounded(self, origins: np.ndarray, limit: float):
        if self._csr64 is None:
            g = self.graph
            self._csr64 = (g.indptr.astype(np.int64), g.indices.astype(np.int64), g.data.astype(np.float64))
        return bounded_searches(*self._csr64, origins, float(limit))

    def nearest_facility(self, facility_idx: Sequence[int], limit: float | None = None,
                         towards: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Time from every node to its nearest facility, in ONE multi-source search.

        Returns ``(time, nearest)``: arrays over all n nodes; ``nearest`` is
        the *position in* ``facility_idx`` of the nearest facility (−1 where
        none is reachable, time NaN there). Facilities sharing a node count
        as the first of them. On a directed network ``towards=True`` (default)
        measures node → facility (e.g. driving to a port), ``towards=False``
        facility → node.
        """
        facilities = np.atleast_1d(np.asarray(facility_idx, dtype=np.int64))
        self._check_indexes(facilities)
        time = np.full(self.n, np.nan)
        nearest = np.full(self.n, -1, dtype=np.int64)
        if facilities.size == 0:
            return time, nearest
        unique, first = np.unique(facilities, return_index=True)
        engine = self._reverse() if (self.directed and towards) else self._forward()
        dist, source_pos = engine.nearest(unique, _limit(limit))
        reached = np.isfinite(dist) & (source_pos >= 0)
        time[reached] = dist[reached]
        nearest[reached] = first[source_pos[reached]]
        return time, nearest

    def matrix(self, origins, destinations, max_snap_m: float = 1000.0, limit: float | None = None,
               within: np.ndarray | None = None) -> pd.DataFrame:
        """Tidy origin–destination table of travel times.

        ``origins``/``destinations`` are either node ids (a sequence), or a
        GeoSeries/GeoDataFrame of points, snapped to the nearest node within
        ``max_snap_m`` (labels are then the frame's index). Columns:
        ``origin``, ``destination`` (labels), ``origin_node``,
        ``destination_node`` (node ids, missing when not snapped),
        ``origin_snap_m``, ``destination_snap_m`` (snapping distances, 0 for
        node ids), ``travel_time_s`` (network time, access not included) and
        ``reason``: missing (NaN) when a time is given, else ``"unreachable"``
        (other component), ``"not reached within … s"`` (with ``limit``),
        ``"origin not snapped (… m from the network)"`` /
        ``"destination …"``, or ``"… not in the network (unknown node id)"``.
        """
        o_lab, o_idx, o_snap, o_why = self._locate(origins, max_snap_m, within)
        d_lab, d_idx, d_snap, d_why = self._locate(destinations, max_snap_m, within)
        times = np.full((len(o_idx), len(d_idx)), np.nan)
        o_ok = o_idx >= 0
        d_ok = d_idx >= 0
        if o_ok.any() and d_ok.any():
            uo, o_inv = np.unique(o_idx[o_ok], return_inverse=True)
            ud, d_inv = np.unique(d_idx[d_ok], return_inverse=True)
            sub = self.travel_times(uo, ud, limit=limit)
            times[np.ix_(np.flatnonzero(o_ok), np.flatnonzero(d_ok))] = sub[np.ix_(o_inv.ravel(), d_inv.ravel())]
        oi, di = np.meshgrid(np.arange(len(o_idx)), np.arange(len(d_idx)), indexing="ij")
        oi, di = oi.ravel(), di.ravel()
        flat = times.ravel()
        reason = np.full(flat.size, None, dtype=object)
        o_text = np.array([f"origin {w}" if w else None for w in o_why], dtype=object)
        d_text = np.array([f"destination {w}" if w else None for w in d_why], dtype=object)
        unlocated = np.flatnonzero((o_idx[oi] < 0) | (d_idx[di] < 0))
        reason[unlocated] = ["; ".join(t for t in (o_text[oi[k]], d_text[di[k]]) if t) for k in unlocated]
        lost = np.flatnonzero(np.isnan(flat) & (o_idx[oi] >= 0) & (d_idx[di] >= 0))
        if lost.size:
            labels = self.components("weak")
            same = labels[o_idx[oi[lost]]] == labels[d_idx[di[lost]]]
            reason[lost] = "unreachable"
            if limit is not None:
                reason[lost[same]] = f"not reached within {limit:g} s"
        node = lambda idx: pd.array([self.node_ids[i] if i >= 0 else None for i in idx], dtype=object)  # noqa: E731
        return pd.DataFrame({
            "origin": o_lab[oi], "destination": d_lab[di],
            "origin_node": node(o_idx[oi]), "destination_node": node(d_idx[di]),
            "origin_snap_m": o_snap[oi], "destination_snap_m": d_snap[di],
            "travel_time_s": flat, "reason": reason,
        })

    def _locate(self, items, max_snap_m, within):
        """Labels, node indexes, snap distances and 'why not' texts of matrix inputs."""
        if hasattr(items, "geometry") or type(items).__name__ == "GeoSeries":
            labels = np.asarray(items.index)
            idx, dist = self.snap_points(items, max_snap_m, within=within)
            why = np.full(len(idx), None, dtype=object)
            far = idx < 0
            if far.any():
                geoms = items.geometry if hasattr(items, "geometry") else items
                if self.crs is not None and geoms.crs is not None:
                    geoms = geoms.to_crs(self.crs)
                import shapely

                pts = shapely.point_on_surface(np.asarray(geoms.values)[far])
                real = self.distance_to_network(shapely.get_x(pts), shapely.get_y(pts), within=within)
                why[far] = [f"not snapped ({d:,.0f} m from the network)" if np.isfinite(d) else "not snapped (no location)"
                            for d in real]
            return labels, idx, np.where(idx >= 0, dist, np.nan), why
        labels = np.atleast_1d(np.asarray(items))
        idx = self.index_of(labels) if len(labels) else np.empty(0, np.int64)
        why = np.where(idx < 0, "not in the network (unknown node id)", None).astype(object)
        return labels, idx, np.where(idx >= 0, 0.0, np.nan), why

    # ------------------------------------------------------------------ components
    def components(self, connection: str = "weak") -> np.ndarray:
        """Component label of every node; 0 = the component with most nodes.

        ``connection`` is ``"weak"`` (ignore directions) or ``"strong"``
        (mutually reachable; differs only on directed networks).
        """
        if connection not in ("weak", "strong"):
            raise ValueError("connection must be 'weak' or 'strong'")
        if connection not in self._labels:
            _, raw = connected_components(self.graph, directed=self.directed, connection=connection)
            sizes = np.bincount(raw)
            rank = np.empty(len(sizes), dtype=np.int64)
            rank[np.lexsort((np.arange(len(sizes)), -sizes))] = np.arange(len(sizes))
            self._labels[connection] = rank[raw]
        return self._labels[connection]

    def component_sizes(self, connection: str = "weak") -> np.ndarray:
        """Number of nodes in each component (index = label of :meth:`components`)."""
        return np.bincount(self.components(connection))

    def reachable_share(self, origins_idx: Sequence[int], limit: float | None = None,
                        weights: Sequence[float] | None = None) -> np.ndarray:
        """Share (0–1) of all nodes — or of ``weights`` over nodes, e.g.
        population — reachable from each origin (within ``limit``)."""
        w = np.ones(self.n) if weights is None else np.asarray(weights, dtype=np.float64)
        total = np.nansum(w)
        share = []
        for nodes, _ in self.reachable_within(origins_idx, np.inf if limit is None else limit):
            share.append(np.nansum(w[nodes]) / total if total > 0 else np.nan)
        return np.array(share)

    def largest_component(self) -> np.ndarray:
        """Boolean mask of the nodes of the largest (weak) component — handy for ``snap(within=...)``."""
        return self.components("weak") == 0

    # ------------------------------------------------------------------ internals
    def _check_indexes(self, idx: np.ndarray) -> None:
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            bad = idx[(idx < 0) | (idx >= self.n)]
            raise IndexError(f"node index {int(bad[0])} out of range 0…{self.n - 1} "
                             "(−1 means a point was not snapped; filter those first)")

    def _forward(self):
        if self._engine is None:
            removable = np.mean(np.diff(self.graph.indptr) <= 2) if self.n else 0.0
            if self.directed or not self.contract or removable < CONTRACT_MIN_SHARE:
                self._engine = _Plain(self.graph)
            else:
                self._engine = _Core(self.graph)
        return self._engine

    def _reverse(self):
        if self._reverse_engine is None:
            self._reverse_engine = _Plain(self.graph.T.tocsr())
        return self._reverse_engine

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return f"<Router {kind}: {self.n:,} nodes, {self.graph.nnz:,} arcs, crs={self.crs}>"


# ====================================================================== helpers
#: State handed to forked worker processes (inherited, never pickled).
_SHARED: dict = {}


def _usable_workers(workers: int, tasks: int) -> int:
    workers = max(1, min(int(workers), tasks))
    if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        log.info("parallel routing needs the 'fork' start method; running in one process")
        return 1
    return workers


def _parallel_dense(engine, chunks, cols, limit, shape, workers) -> np.ndarray:
    """Fill an (origins × columns) matrix from forked workers writing to shared memory."""
    buffer = mmap.mmap(-1, max(int(np.prod(shape)) * 8, 1))
    out = np.frombuffer(buffer, dtype=np.float64, count=int(np.prod(shape))).reshape(shape)
    _SHARED.update(engine=engine, cols=cols, limit=limit, out=out)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(_dense_chunk, chunks)
    finally:
        _SHARED.clear()
    return np.array(out)


def _dense_chunk(task) -> None:
    start, chunk = task
    part = _SHARED["engine"].dense(chunk, _SHARED["cols"], _SHARED["limit"])
    np.putmask(part, np.isinf(part), np.nan)
    _SHARED["out"][start:start + len(part)] = part


def _within_chunk(chunk):
    return _split_searches(*_SHARED["router"]._bounded(chunk, _SHARED["limit"]))


def _split_searches(ptr, nodes, times):
    return [(nodes[ptr[i]:ptr[i + 1]], times[ptr[i]:ptr[i + 1]]) for i in range(len(ptr) - 1)]


def _finish(out: np.ndarray, limit: float) -> np.ndarray:
    """Times beyond ``limit`` and unreachable (inf) become NaN."""
    if np.isfinite(limit):
        out[out > limit] = np.nan
    np.putmask(out, np.isinf(out), np.nan)
    return out


def _hierarchy_cache_path(graph: csr_matrix):
    """Cache file of ``graph``'s hierarchy under :data:`geo.settings.cache_folder` (:func:`geo.routing.hierarchy_cache.cache_path`).

    Keyed by the cache format and the nodes and arcs, not the weights: the order does not depend on them,
    so another speed model or a calibration run loads the same file and only re-customises.
    """
    from geo.routing import hierarchy_cache

    return hierarchy_cache.cache_path(graph)


def _cached_hierarchy(graph: csr_matrix) -> Hierarchy:
    """Hierarchy of ``graph``, from the checked disk cache when :data:`geo.settings.hierarchy_cache` is on."""
    if not settings.hierarchy_cache:
        return Hierarchy.build(graph)
    from geo.routing import hierarchy_cache

    return hierarchy_cache.cached_hierarchy(graph)


def _positions(node_ids: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node indexes of the edge ends ``u``, ``v`` (−1 for ids not in ``node_ids``); refuses repeated ids.

    Integer ids 0 … n−1 in order (as :mod:`geo.routing.network` writes them) are their own indexes; other
    increasing integer ids are looked up by binary search, any others through a hash index.
    """
    if node_ids.dtype.kind in "iu" and (len(node_ids) < 2 or bool(np.all(node_ids[1:] > node_ids[:-1]))):
        n = len(node_ids)
        counted = n > 0 and node_ids[0] == 0 and node_ids[-1] == n - 1      # ids 0 … n−1: an id is its index
        out = []
        for ends in (u, v):
            if ends.dtype.kind not in "iu":
                break
            if counted:
                out.append(np.where((ends >= 0) & (ends < n), ends, -1).astype(np.int64))
                continue
            pos = np.minimum(np.searchsorted(node_ids, ends), max(n - 1, 0))
            out.append(np.where((n > 0) & (node_ids[pos] == ends), pos, -1).astype(np.int64))
        else:
            return out[0], out[1]
    index = pd.Index(node_ids)
    if not index.is_unique:
        raise InputError(None, f"{int(index.duplicated().sum())} repeated node id(s) in the network")
    ui = index.get_indexer(u) if len(u) else np.empty(0, np.int64)
    vi = index.get_indexer(v) if len(v) else np.empty(0, np.int64)
    return ui, vi


def _is_geographic(crs) -> bool:
    """True for a CRS in degrees (remembered per CRS: reading one costs milliseconds)."""
    try:
        return _is_geographic_cached(crs)
    except TypeError:                     # an unhashable description (a dict)
        return _is_geographic_cached.__wrapped__(crs)


@functools.lru_cache(maxsize=32)
def _is_geographic_cached(crs) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(crs).is_geographic


def _limit(limit) -> float:
    if limit is None:
        return np.inf
    limit = float(limit)
    if not limit >= 0:
        raise ValueError("limit must be ≥ 0")
    return limit


class _CsrPlan:
    """How a router's edges become the arcs of its CSR graph (minimum weight per node pair).

    Loops are dropped, zero weights kept, an undirected edge gives both
    arcs. The plan depends on the edges' end nodes only, so a router with
    new weights for the same edges re-uses it: one gather and one
    ``minimum.reduceat`` instead of a sort (~1 ms instead of ~30 ms on the
    Bắc Giang network).
    """

    def __init__(self, n, keep, order, starts, indptr, indices, directed):
        self.n, self.keep, self.order, self.starts = n, keep, order, starts
        self.indptr, self.indices, self.directed = indptr, indices, directed
        # The edge behind each arc, in arc order (an undirected edge's second arc is its copy).
        self.edge_of_arc = keep[order % max(len(keep), 1)] if len(keep) else np.empty(0, np.int64)

    @classmethod
    def of(cls, n: int, u: np.ndarray, v: np.ndarray, directed: bool) -> _CsrPlan:
        keep = np.flatnonzero(u != v)
        u, v = u[keep], v[keep]
        if not directed:
            u, v = np.r_[u, v], np.r_[v, u]
        order = arc_order(n, u, v)
        rows, cols = u[order], v[order]
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])] if rows.size else np.ones(0, bool)
        starts = np.flatnonzero(first)
        indptr = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows[starts], minlength=n), out=indptr[1:])
        return cls(n, keep, order, starts, indptr, cols[starts].astype(np.int32), directed)

    def with_nodes(self, n: int) -> _CsrPlan:
        """The plan of the same edges on ``n`` ≥ :attr:`n` nodes (nodes appended without arcs: the arc order
        does not depend on the node count)."""
        indptr = np.r_[self.indptr, np.full(n - self.n, self.indptr[-1], dtype=self.indptr.dtype)]
        return _CsrPlan(n, self.keep, self.order, self.starts, indptr, self.indices, self.directed)

    def graph(self, weight: np.ndarray) -> csr_matrix:
        """The CSR graph for these edges with ``weight`` (aligned with the edges)."""
        weight = np.asarray(weight, dtype=np.float64)
        data = gathered_minimum(weight, self.edge_of_arc, self.starts) if self.starts.size else np.empty(0)
        # Built from (data, indices, indptr) so explicit zero weights stay edges.
        return csr_matrix((data.astype(np.float64), self.indices, self.indptr), shape=(self.n, self.n))


def _csr_min(nrows: int, ncols: int, rows: np.ndarray, cols: np.ndarray, w: np.ndarray) -> csr_matrix:
    """CSR matrix of the arcs rows → cols, the minimum of ``w`` per pair."""
    order = arc_order(max(nrows, ncols), rows.astype(np.int64), cols.astype(np.int64))
    rows, cols, w = rows[order], cols[order], w[order]
    if rows.size:
        first = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])])
        rows, cols, w = rows[first], cols[first], np.minimum.reduceat(w, first)
    indptr = np.zeros(nrows + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=nrows), out=indptr[1:])
    # Built from (data, indices, indptr) so explicit zero weights stay edges.
    return csr_matrix((w.astype(np.float64), cols.astype(np.int32), indptr), shape=(nrows, ncols))


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for each pair (vectorised)."""
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts)
    return offsets + np.arange(total)


class _Plain:
    """Dijkstra straight on the full matrix (directed networks, or for comparison)."""

    def __init__(self, graph: csr_matrix):
        self.graph = graph

    def dense(self, sources, cols, limit):
        dist = dijkstra(self.graph, directed=True, indices=sources, limit=limit)
        return dist if cols is None else dist[:, cols]

    def nearest(self, sources, limit):
        dist, _, src = dijkstra(self.graph, directed=True, indices=sources, limit=limit,
                                min_only=True, return_predecessors=True)
        pos = np.full(len(dist), -1, dtype=np.int64)
        ok = src != _NULL
        pos[ok] = np.searchsorted(sources, src[ok])
        return dist, pos


class _Core:
    """Exact contraction of an undirected graph: trees peeled, chains shortcut.

    Every node gets two exits (``a1``, ``a2``: core indexes) and the
    distances to them (``d1``, ``d2``) along its own tree/chain; core nodes
    are their own exits at distance 0. ``struct`` numbers the tree/chain a
    removed node belongs to (−1 for core nodes): paths between two nodes of
    the same structure may stay inside it, which a small local Dijkstra
    covers; every other path leaves through an exit.
    """

    def __init__(self, graph: csr_matrix):
        self.graph = graph
        n = graph.shape[0]
        self.n = n
        indptr, indices, data = graph.indptr.astype(np.int64), graph.indices.astype(np.int64), graph.data
        deg = np.diff(indptr)
        removed = np.zeros(n, dtype=bool)
        parent = np.full(n, -1, dtype=np.int64)
        parent_w = np.zeros(n)
        levels: list[np.ndarray] = []

        # 1. Peel dead-end trees, leaf by leaf (one numpy pass per tree level).
        frontier = np.flatnonzero(deg == 1)
        while frontier.size:
            starts, counts = indptr[frontier], indptr[frontier + 1] - indptr[frontier]
            pos = _ranges(starts, counts)
            rows = np.repeat(frontier, counts)
            alive = ~removed[indices[pos]]
            rows, pos = rows[alive], pos[alive]
            nb, w = indices[pos], data[pos]          # exactly one live neighbour per frontier node
            in_frontier = np.zeros(n, dtype=bool)
            in_frontier[rows] = True
            # Two leaves holding on to each other (an isolated edge): keep the smaller one.
            drop = ~(in_frontier[nb] & (rows < nb))
            rows, nb, w = rows[drop], nb[drop], w[drop]
            removed[rows] = True
            parent[rows] = nb
            parent_w[rows] = w
            levels.append(rows)
            deg[rows] = 0
            deg -= np.bincount(nb, minlength=n)
            cand = np.unique(nb)
            frontier = cand[(deg[cand] == 1) & ~removed[cand]]

        # 2. Chains of degree-2 nodes in what is left (the 2-core).
        live = ~removed
        arc_row = np.repeat(np.arange(n), np.diff(indptr))
        arc_live = live[arc_row] & live[indices]
        a_row, a_col, a_w = arc_row[arc_live], indices[arc_live], data[arc_live]
        chain = live & (deg == 2)
        for _ in range(2):  # a second pass after breaking pure cycles
            cc = chain[a_row] & chain[a_col]
            inner = csr_matrix((np.ones(int(cc.sum())), (a_row[cc], a_col[cc])), shape=(n, n))
            _, comp = connected_components(inner, directed=False)
            exits = chain[a_row] & ~chain[a_col]
            n_exits = np.bincount(comp[a_row[exits]], minlength=comp.max() + 1)
            chain_comps = np.unique(comp[chain])
            cycles = chain_comps[n_exits[chain_comps] == 0]
            if cycles.size == 0:
                break
            # A ring with no junction: make its smallest node a junction.
            members = np.flatnonzero(chain & np.isin(comp, cycles))
            lowest = pd.Series(members).groupby(comp[members]).min().to_numpy()
            chain[lowest] = False
        junction = live & ~chain
        core_nodes = np.flatnonzero(junction)
        cidx = np.full(n, -1, dtype=np.int64)
        cidx[core_nodes] = np.arange(len(core_nodes))
        K = len(core_nodes)

        # Chain ends: exactly two exit arcs per chain (first = A side, second = B side).
        chain_ids, chain_of = np.unique(comp[chain], return_inverse=True)
        n_chains = len(chain_ids)
        chain_no = np.full(n, -1, dtype=np.int64)
        chain_no[chain] = chain_of.ravel()
        e_row, e_col, e_w = a_row[exits], a_col[exits], a_w[exits]
        e_chain = chain_no[e_row]
        order = np.lexsort((e_col, e_row, e_chain))
        e_row, e_col, e_w, e_chain = e_row[order], e_col[order], e_w[order], e_chain[order]
        if not np.array_equal(np.bincount(e_chain, minlength=n_chains), np.full(n_chains, 2)):
            raise RuntimeError("chain contraction found a chain without exactly two ends")  # pragma: no cover
        first_end, A, wA = e_row[0::2], e_col[0::2], e_w[0::2]
        last_end, B, wB = e_row[1::2], e_col[1::2], e_w[1::2]
        pos_in_chain = np.zeros(n)
        if n_chains:
            chain_graph = _csr_min(n, n, a_row[cc], a_col[cc], a_w[cc])
            along = dijkstra(chain_graph, directed=True, indices=first_end, min_only=True)
            pos_in_chain[chain] = wA[chain_no[chain]] + along[chain]
        length = pos_in_chain[last_end] + wB if n_chains else np.empty(0)

        # Core graph: junction–junction edges plus one edge per chain.
        jj = junction[a_row] & junction[a_col]
        rows = np.r_[cidx[a_row[jj]], cidx[A], cidx[B]]
        cols = np.r_[cidx[a_col[jj]], cidx[B], cidx[A]]
        ws = np.r_[a_w[jj], length, length]
        loop = rows == cols
        self.core_rows, self.core_cols, self.core_w = rows[~loop], cols[~loop], ws[~loop]
        self.K = K
        self.core_nodes = core_nodes
        self.core = _csr_min(K, K, self.core_rows, self.core_cols, self.core_w)

        # Exits of every node.
        a1 = np.full(n, -1, dtype=np.int64)
        a2 = np.full(n, -1, dtype=np.int64)
        d1 = np.zeros(n)
        d2 = np.zeros(n)
        struct = np.full(n, -1, dtype=np.int64)
        a1[core_nodes] = a2[core_nodes] = np.arange(K)
        ch = np.flatnonzero(chain)
        k = chain_no[ch]
        a1[ch], d1[ch] = cidx[A[k]], pos_in_chain[ch]
        a2[ch], d2[ch] = cidx[B[k]], length[k] - pos_in_chain[ch]
        struct[ch] = k
        for rows_ in reversed(levels):  # parents before children
            p = parent[rows_]
            a1[rows_], d1[rows_] = a1[p], d1[p] + parent_w[rows_]
            a2[rows_], d2[rows_] = a2[p], d2[p] + parent_w[rows_]
            struct[rows_] = np.where(junction[p], n_chains + cidx[p], struct[p])
        self.a1, self.a2, self.d1, self.d2, self.struct = a1, a2, d1, d2, struct
        self.noncore = np.flatnonzero(~junction)
        # Local graph: arcs inside one structure only, nodes renumbered so that
        # each structure is a contiguous block (its sub-matrix is a cheap slice).
        members = np.flatnonzero(struct >= 0)
        members = members[np.argsort(struct[members], kind="stable")]
        self.local_nodes = members
        self.local_pos = np.full(n, -1, dtype=np.int64)
        self.local_pos[members] = np.arange(len(members))
        self.struct_ptr = np.r_[0, np.cumsum(np.bincount(struct[members], minlength=n_chains + K))]
        same = (struct[arc_row] >= 0) & (struct[arc_row] == struct[indices])
        self.local = _csr_min(len(members), len(members), self.local_pos[arc_row[same]],
                              self.local_pos[indices[same]], data[same])
        log.debug("contracted %d nodes to a core of %d (%d chains)", n, K, n_chains)

    # -- virtual origins ------------------------------------------------------
    def _augmented(self, sources: np.ndarray) -> csr_matrix:
        """Core matrix plus one virtual row per source, wired to its exits."""
        m = len(sources)
        a1, a2 = self.a1[sources], self.a2[sources]
        d1, d2 = self.d1[sources], self.d2[sources]
        one = a1 == a2
        d1 = np.where(one, np.minimum(d1, d2), d1)
        cols = np.column_stack([a1, a2]).ravel()
        ws = np.column_stack([d1, d2]).ravel()
        keep = np.column_stack([np.ones(m, bool), ~one]).ravel()
        core = self.core
        indptr = np.r_[core.indptr, core.indptr[-1] + np.cumsum(1 + ~one)].astype(np.int32)
        return csr_matrix((np.r_[core.data, ws[keep]], np.r_[core.indices, cols[keep]].astype(np.int32), indptr),
                          shape=(self.K + m, self.K + m))

    def _expand(self, core_dist: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Times to ``cols`` (node indexes) from core times (rows = sources)."""
        t1 = core_dist[:, self.a1[cols]] + self.d1[cols]
        t2 = core_dist[:, self.a2[cols]] + self.d2[cols]
        return np.minimum(t1, t2, out=t1)

    # -- queries ----------------------------------------------------------------
    def dense(self, sources, cols, limit):
        m = len(sources)
        aug = self._augmented(sources)
        core_dist = dijkstra(aug, directed=True, indices=self.K + np.arange(m), limit=limit)[:, :self.K]
        if cols is None:
            out = np.empty((m, self.n))
            out[:, self.core_nodes] = core_dist
            out[:, self.noncore] = self._expand(core_dist, self.noncore)
        else:
            out = self._expand(core_dist, cols)
        # Paths that stay inside the origin's own tree/chain.
        inside = np.flatnonzero(self.struct[sources] >= 0)
        if inside.size:
            local = dijkstra(self.local, directed=True, indices=self.local_pos[sources[inside]], limit=limit)
            if cols is None:
                block = out[np.ix_(inside, self.local_nodes)]
                out[np.ix_(inside, self.local_nodes)] = np.minimum(block, local, out=block)
            else:
                hit = np.flatnonzero(self.local_pos[cols] >= 0)
                if hit.size:
                    block = out[np.ix_(inside, hit)]
                    out[np.ix_(inside, hit)] = np.minimum(block, local[:, self.local_pos[cols[hit]]], out=block)
        if np.isfinite(limit):
            out[out > limit] = np.inf
        return out

    def nearest(self, sources, limit):
        m = len(sources)
        aug = self._augmented(sources)
        dist, _, src = dijkstra(aug, directed=True, indices=self.K + np.arange(m), limit=limit,
                                min_only=True, return_predecessors=True)
        core_dist = dist[:self.K]
        core_src = np.where(src[:self.K] >= self.K, src[:self.K] - self.K, -1)
        time = np.full(self.n, np.inf)
        pos = np.full(self.n, -1, dtype=np.int64)
        time[self.core_nodes] = core_dist
        pos[self.core_nodes] = core_src
        nc = self.noncore
        t1 = core_dist[self.a1[nc]] + self.d1[nc]
        t2 = core_dist[self.a2[nc]] + self.d2[nc]
        use2 = t2 < t1
        time[nc] = np.where(use2, t2, t1)
        pos[nc] = np.where(use2, core_src[self.a2[nc]], core_src[self.a1[nc]])
        inside = np.flatnonzero(self.struct[sources] >= 0)
        if inside.size:
            starts = self.local_pos[sources[inside]]
            ldist, _, lsrc = dijkstra(self.local, directed=True, indices=starts, limit=limit,
                                      min_only=True, return_predecessors=True)
            better = np.flatnonzero(ldist < time[self.local_nodes])
            time[self.local_nodes[better]] = ldist[better]
            # lsrc holds the local position of the winning source; map it to its place in ``sources``.
            source_of_local = np.full(len(self.local_nodes), -1, dtype=np.int64)
            source_of_local[starts] = inside
            pos[self.local_nodes[better]] = source_of_local[lsrc[better]]
        time[time > limit] = np.inf
        pos[~np.isfinite(time)] = -1
        return time, pos
