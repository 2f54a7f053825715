"""Map-matching a coarse reference polyline onto a detailed line network.

The problem: a named but generalised line (e.g. "Quốc lộ 1A" drawn with a
vertex every few km, up to ~500 m off the real road) must label the edges of
an attribute-less network. A plain buffer does not work: within 300 m of the
201 km QL1A reference lie 623 km of road (clipped to the buffer), mostly
parallel town streets.

The method (no hidden Markov model, only shortest paths):

1. The reference is merged into continuous *pieces*, clipped to the
   network's extent (convex hull of its nodes widened by ``tolerance_m``) and
   sampled every ``spacing_m`` metres or less; two consecutive samples make
   a *leg*.
2. The *corridor*: network edges within ``corridor_m`` of the reference.
   Each gets a cost ``∫ (1 + (d / offset_scale_m)²) ds`` along its length,
   ``d`` being the distance to the reference (measured every ≤ 50 m). Paths
   thus hug the reference and prefer one continuous road to a zig-zag through
   town streets, which is both longer and further away on average.
3. Each sample is attached to the corridor edges within ``tolerance_m``
   (the nearest 40) through a link costing 2 × its length, so the shortest
   path itself chooses where to join the network: which carriageway, the
   motorway rather than the lane under it. A leg with an end near no edge,
   or without a path of affordable cost, is a *gap*.
4. The remaining legs form *spans*; each span is routed in one go
   (:func:`scipy.sparse.csgraph.dijkstra`) and checked leg by leg: each
   sample must lie within ``tolerance_m`` of the path, and the path length
   between the places nearest to two consecutive samples must not exceed
   ``max_detour`` × the leg's reference length (plus the two sideways
   distances). Legs failing the check split the span and are tried alone;
   a leg that still fails is a gap. Where two separately routed stretches
   meet at a sample but join the network more than 150 m apart (a sample in
   the middle of a missing stretch reaching both of its ends), the jump
   between them is a gap too. Gaps are reported, never filled with a guess.

Distances are metres in the metric CRS (EPSG:32648 unless told otherwise).
On the real data: QL1A (201 km of reference, 89,739 network edges) matches in
about 1 s.

Where no reference line exists, :func:`route_waypoints` labels a road from
*waypoints* — towns, junctions, ports whose coordinates come from open
sources and which a source says the road passes: each waypoint joins its
nearest network node, and consecutive waypoints are joined by the shortest
path on the network (by length; or, for a controlled-access road that
bypasses towns, with a per-edge charge so that the few long edges between
interchanges win). A leg whose path is more than ``max_detour`` × the
straight distance, or whose waypoint is far from the network, is reported as
not matched and labels nothing.

>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> from geo.routing.network import lines_to_network
>>> road = gpd.GeoDataFrame(geometry=[LineString([(106.0, 21.0), (106.05, 21.0)]),
...                                   LineString([(106.05, 21.0), (106.10, 21.0)])], crs="EPSG:4326")
>>> nodes, edges = lines_to_network(road)
>>> ref = gpd.GeoDataFrame(geometry=[LineString([(106.0, 21.001), (106.1, 21.001)])], crs="EPSG:4326")
>>> matched, report = match_line(ref, nodes, edges)
>>> sorted(matched.edge_id.tolist()), report["matched_share"], report["gaps"]["count"]
([0, 1], 1.0, 0)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from geo import settings

log = logging.getLogger(__name__)

#: Defaults, in metres (see :func:`match_line`).
TOLERANCE_M = 600.0
SPACING_M = 1500.0
CORRIDOR_M = 1000.0
OFFSET_SCALE_M = 250.0
MAX_DETOUR = 1.8
_COST_STEP_M = 50.0
_MAX_SNAPS = 40        # projections per sample (nearest edges within the tolerance)
_SNAP_WEIGHT = 2.0     # cost per metre of joining the network away from a sample
_JOIN_M = 150.0        # two routes meeting at a sample must join the network this close (else a break)


@dataclass
class PreparedNetwork:
    """A network in metric coordinates with a spatial index, ready for matching.

    Build it once with :func:`prepare_network` when matching several lines
    against the same network.
    """

    crs: str
    edge_id: np.ndarray        # (E,) edge ids
    u: np.ndarray              # (E,) position of the first end in node arrays
    v: np.ndarray              # (E,) position of the second end
    length_m: np.ndarray       # (E,) metres
    geometry: np.ndarray       # (E,) shapely LineStrings, metric
    tree: shapely.STRtree      # over ``geometry``
    node_id: np.ndarray        # (N,)
    node_xy: np.ndarray        # (N, 2) metric coordinates
    window: object             # convex hull of the nodes (metric polygon)
    graphs: dict = field(default_factory=dict, repr=False)   # waypoint graphs by cost, made once (_waypoint_graph)
    _node_tree: object = field(default=None, repr=False)

    def node_tree(self):
        """A :class:`scipy.spatial.cKDTree` over ``node_xy``, built once."""
        if self._node_tree is None:
            from scipy.spatial import cKDTree

            self._node_tree = cKDTree(self.node_xy)
        return self._node_tree


def prepare_network(nodes: pd.DataFrame, edges: gpd.GeoDataFrame, crs: str | None = None) -> PreparedNetwork:
    """Project a ``(nodes, edges)`` network (see :mod:`geo.routing.network`) for matching."""
    crs = crs or settings.metric_crs
    node_id = nodes["node_id"].to_numpy()
    index = pd.Index(node_id)
    if isinstance(nodes, gpd.GeoDataFrame) and nodes.crs is not None:
        node_xy = _points_xy(nodes.geometry, crs)
    else:
        pts = gpd.GeoSeries(gpd.points_from_xy(nodes["x"], nodes["y"]), crs=settings.storage_crs).to_crs(crs)
        node_xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    geometry = np.asarray(edges.geometry.to_crs(crs).values)
    length = edges["length_m"].to_numpy(float) if "length_m" in edges else shapely.length(geometry)
    u = index.get_indexer(edges["u"].to_numpy())
    v = index.get_indexer(edges["v"].to_numpy())
    if (u < 0).any() or (v < 0).any():
        raise ValueError("edges refer to node ids missing from the node table")
    window = shapely.convex_hull(shapely.multipoints(node_xy)) if len(node_xy) else shapely.Polygon()
    return PreparedNetwork(crs=crs, edge_id=edges["edge_id"].to_numpy(), u=u, v=v, length_m=length,
                           geometry=geometry, tree=shapely.STRtree(geometry), node_id=node_id,
                           node_xy=node_xy, window=window)


def _points_xy(points: gpd.GeoSeries, crs) -> np.ndarray:
    """(N, 2) coordinates of ``points`` in ``crs``: the numbers of ``points.to_crs(crs)`` (same transformer),
    without making a new Point per row."""
    x, y = shapely.get_x(points.values), shapely.get_y(points.values)
    if np.isnan(x).any() or np.isnan(y).any():                # empty or missing points: as geopandas does them
        moved = points.to_crs(crs)
        return np.column_stack([moved.x.to_numpy(), moved.y.to_numpy()])
    if not points.crs.is_exact_same(CRS.from_user_input(crs)):
        x, y = Transformer.from_crs(points.crs, crs, always_xy=True).transform(x, y)
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def match_line(reference_lines: gpd.GeoDataFrame | gpd.GeoSeries, nodes: pd.DataFrame | None = None,
               edges: gpd.GeoDataFrame | None = None, tolerance_m: float = TOLERANCE_M, *,
               spacing_m: float = SPACING_M, corridor_m: float = CORRIDOR_M,
               offset_scale_m: float = OFFSET_SCALE_M, max_detour: float = MAX_DETOUR,
               network: PreparedNetwork | None = None) -> tuple[pd.DataFrame, dict]:
    """Find the network edges that a reference line stands for.

    Parameters
    ----------
    reference_lines : lines (any CRS) of *one* road; pieces are merged where
        their ends meet.
    nodes, edges : the network (:mod:`geo.routing.network` layout); not needed when
        ``network`` is given.
    tolerance_m : how far (m) a reference sample may lie from the network
        edges it can join; the reference's generalisation error plus a margin.
    spacing_m : greatest distance (m) between reference samples (leg length).
    corridor_m : only edges within this distance (m) of the reference are used.
    offset_scale_m : the cost of an edge piece at distance ``d`` from the
        reference is its length × (1 + (d / offset_scale_m)²).
    max_detour : a leg is a gap when the path between the places nearest to
        its two samples is longer than this × the leg's reference length
        (plus the two samples' sideways distances to the path).
    network : a :class:`PreparedNetwork` (saves re-projecting the network when
        matching several lines).

    Returns
    -------
    matched : DataFrame, one row per matched edge: ``edge_id``, ``length_m``,
        ``offset_m`` (mean distance to the reference, m), ``max_offset_m``,
        ``piece`` (index of the merged reference piece).
    report : dict of plain values —
        ``reference_length_km`` (all of the reference),
        ``reference_in_network_km`` (the part inside the network's extent,
        the part that can be matched), ``matched_length_km`` (sum of the
        matched edges), ``matched_share`` (share of ``reference_in_network_km``
        covered by good legs, 0–1), ``gaps`` (``count``, ``km`` of reference
        not matched — for a jump between two routed stretches, the distance
        between their ends — and ``where``: [lon, lat] of each gap's middle),
        ``samples``, ``legs``, ``pieces``, and the parameters used.
    """
    net = network or prepare_network(nodes, edges)
    ref = _reference_pieces(reference_lines, net.crs)
    total_km = float(sum(p.length for p in ref)) / 1000.0
    window = shapely.buffer(net.window, tolerance_m)
    pieces = [g for p in ref for g in _parts(shapely.intersection(p, window)) if g.length > 1.0]
    in_km = float(sum(p.length for p in pieces)) / 1000.0
    params = {"tolerance_m": tolerance_m, "spacing_m": spacing_m, "corridor_m": corridor_m,
              "offset_scale_m": offset_scale_m, "max_detour": max_detour}
    empty = pd.DataFrame({"edge_id": pd.Series(dtype=net.edge_id.dtype), "length_m": pd.Series(dtype=float),
                          "offset_m": pd.Series(dtype=float), "max_offset_m": pd.Series(dtype=float),
                          "piece": pd.Series(dtype=int)})
    if not pieces:
        return empty, _report(total_km, in_km, 0.0, [], 0, 0, 0, params, net.crs)

    corridor = _Corridor(net, pieces, corridor_m, offset_scale_m)
    rows, gaps, n_samples, n_legs = _match_pieces(corridor, pieces, tolerance_m, spacing_m, max_detour)
    if not rows:
        return empty, _report(total_km, in_km, 0.0, gaps, n_samples, n_legs, len(pieces), params, net.crs)
    local = np.array([r[0] for r in rows])
    first = pd.Series([r[1] for r in rows]).groupby(local).first()
    local_ids = first.index.to_numpy()
    global_ids = corridor.edges[local_ids]
    matched = pd.DataFrame({
        "edge_id": net.edge_id[global_ids],
        "length_m": net.length_m[global_ids],
        "offset_m": corridor.mean_offset[local_ids],
        "max_offset_m": corridor.max_offset[local_ids],
        "piece": first.to_numpy(),
    }).sort_values(["piece", "edge_id"]).reset_index(drop=True)
    matched_km = float(matched["length_m"].sum()) / 1000.0
    return matched, _report(total_km, in_km, matched_km, gaps, n_samples, n_legs, len(pieces), params, net.crs)


# ----------------------------------------------------------------------------- internals


def _parts(geom) -> list:
    if geom is None or geom.is_empty:
        return []
    if hasattr(geom, "geoms"):
        return [g for sub in geom.geoms for g in _parts(sub)]
    return [geom] if geom.geom_type == "LineString" else []


def _reference_pieces(reference, crs: str) -> list:
    """The reference as merged LineStrings in ``crs`` (where three or more pieces meet, they stay apart)."""
    series = reference.geometry if isinstance(reference, gpd.GeoDataFrame) else reference
    if series.crs is None:
        raise ValueError("reference lines have no CRS")
    geoms = np.asarray(series.to_crs(crs).values)
    geoms = geoms[~shapely.is_missing(geoms)]
    lines = [g for geom in geoms for g in _parts(geom)]
    if not lines:
        return []
    # a 1 m grid joins pieces whose shared ends differ only by rounding noise
    lines = shapely.set_precision(np.asarray(lines, dtype=object), 1.0)
    merged = shapely.line_merge(shapely.union_all(lines))
    return [g for g in _parts(merged) if g.length > 0]


class _Corridor:
    """The edges near the reference with their costs (local numbering 0…m-1)."""

    def __init__(self, net: PreparedNetwork, pieces: list, corridor_m: float, offset_scale_m: float):
        self.net = net
        reference = shapely.MultiLineString(pieces)
        edges = np.unique(net.tree.query(reference, predicate="dwithin", distance=corridor_m))
        edges = edges[net.u[edges] != net.v[edges]]                    # loops never help a path
        self.edges = edges
        self.geometry = net.geometry[edges]
        self.length = net.length_m[edges]
        self.mean_offset, self.max_offset, factor = _offsets(self.geometry, pieces, offset_scale_m)
        self.cost = self.length * factor
        ends = np.concatenate([net.u[edges], net.v[edges]])
        self.nodes, inverse = np.unique(ends, return_inverse=True)   # compact node numbering
        self.a, self.b = inverse[: len(edges)], inverse[len(edges):]
        # does an edge's geometry run from b to a?
        start = shapely.get_coordinates(shapely.get_point(self.geometry, 0)) if len(edges) else np.zeros((0, 2))
        a_xy, b_xy = net.node_xy[self.nodes[self.a]], net.node_xy[self.nodes[self.b]]
        self.reversed = np.hypot(*(start - b_xy).T) < np.hypot(*(start - a_xy).T)
        self.tree = shapely.STRtree(self.geometry)


class _SplitGraph:
    """Directed graph of the corridor with every reference sample attached.

    Each sample is projected onto every corridor edge within the tolerance
    (the nearest ``_MAX_SNAPS``); the edge is split there. A sample has two
    hub nodes: an *out* hub with links to its projections, where a path
    starts, and an *in* hub with links from them, where a path ends. A hub
    link costs ``_SNAP_WEIGHT`` × the sample's distance to the projection, so
    the shortest path chooses where to join the network, and no path can pass
    *through* a hub.

    Node numbers: corridor nodes [0, n), projections [n, n + P), out hubs
    [n + P, n + P + S), in hubs [n + P + S, n + P + 2S). Network links are
    *parts* of corridor edges: ``part_edge``, and the fractions ``part_from``,
    ``part_to`` of the edge measured from its node ``a``.
    """

    def __init__(self, corridor: _Corridor, sample_xy: np.ndarray, tolerance_m: float):
        self.corridor = corridor
        n_nodes, n_samples = len(corridor.nodes), len(sample_xy)
        points = shapely.points(sample_xy)
        if len(corridor.edges) and n_samples:
            hit_sample, hit_edge = corridor.tree.query(points, predicate="dwithin", distance=tolerance_m)
        else:
            hit_sample = hit_edge = np.zeros(0, dtype=np.int64)
        dist = shapely.distance(points[hit_sample], corridor.geometry[hit_edge])
        order = np.lexsort((dist, hit_sample))
        hit_sample, hit_edge, dist = hit_sample[order], hit_edge[order], dist[order]
        first = np.r_[True, hit_sample[1:] != hit_sample[:-1]] if len(hit_sample) else np.zeros(0, bool)
        rank = np.arange(len(first)) - np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))
        keep = rank < _MAX_SNAPS
        hit_sample, hit_edge, dist = hit_sample[keep], hit_edge[keep], dist[keep]
        n_proj = len(hit_sample)
        proj_node = n_nodes + np.arange(n_proj)
        self.first_projection = n_nodes
        self.proj_offset = dist
        self.out_hub = n_nodes + n_proj + np.arange(n_samples)
        self.in_hub = n_nodes + n_proj + n_samples + np.arange(n_samples)
        self.snapped = np.zeros(n_samples, dtype=bool)
        self.snapped[hit_sample] = True

        fraction = shapely.line_locate_point(corridor.geometry[hit_edge], points[hit_sample], normalized=True)
        self.proj_xy = shapely.get_coordinates(shapely.line_interpolate_point(corridor.geometry[hit_edge], fraction, normalized=True))
        fraction = np.where(corridor.reversed[hit_edge], 1.0 - fraction, fraction)   # measured from node a

        # network parts: whole edges, and edges cut at the projections on them
        split = np.zeros(len(corridor.edges), dtype=bool)
        split[hit_edge] = True
        whole = np.flatnonzero(~split)
        tail, head, part_edge = [corridor.a[whole]], [corridor.b[whole]], [whole]
        f_from, f_to = [np.zeros(len(whole))], [np.ones(len(whole))]
        order = np.lexsort((fraction, hit_edge))
        edge_sorted, frac_sorted, node_sorted = hit_edge[order], fraction[order], proj_node[order]
        bounds = np.flatnonzero(np.r_[True, edge_sorted[1:] != edge_sorted[:-1], True]) if n_proj else []
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            e = edge_sorted[lo]
            chain = np.r_[corridor.a[e], node_sorted[lo:hi], corridor.b[e]]
            cuts = np.r_[0.0, frac_sorted[lo:hi], 1.0]
            tail.append(chain[:-1])
            head.append(chain[1:])
            part_edge.append(np.full(len(chain) - 1, e))
            f_from.append(cuts[:-1])
            f_to.append(cuts[1:])
        self.tail, self.head = np.concatenate(tail), np.concatenate(head)
        self.part_edge = np.concatenate(part_edge)
        self.part_from, self.part_to = np.concatenate(f_from), np.concatenate(f_to)
        share = self.part_to - self.part_from
        self.part_length = corridor.length[self.part_edge] * share
        cost = np.maximum(corridor.cost[self.part_edge] * share, 1e-6)   # explicit zeros would vanish
        # parallel parts: keep the cheapest per node pair (a sparse matrix would add them up)
        lo, hi = np.minimum(self.tail, self.head), np.maximum(self.tail, self.head)
        order = np.lexsort((cost, hi, lo))
        best = order[np.r_[True, (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])]] if len(order) else order
        best = best[lo[best] != hi[best]]
        self._part_of = {(int(lo[k]), int(hi[k])): int(k) for k in best}
        # links: network both ways, out hub → projection, projection → in hub
        snap_cost = np.maximum(_SNAP_WEIGHT * dist, 1e-6)
        rows = np.concatenate([lo[best], hi[best], self.out_hub[hit_sample], proj_node])
        cols = np.concatenate([hi[best], lo[best], proj_node, self.in_hub[hit_sample]])
        data = np.concatenate([cost[best], cost[best], snap_cost, snap_cost])
        size = n_nodes + n_proj + 2 * n_samples
        self.matrix = coo_matrix((data, (rows, cols)), shape=(size, size)).tocsr()
        self.max_factor = float(np.max(corridor.cost / np.maximum(corridor.length, 1e-9), initial=1.0))

    def path(self, predecessors: np.ndarray, sample_from: int, sample_to: int) -> tuple[list[int], list[int], float] | None:
        """Path between two samples: network parts, nodes (projections at both ends), sideways distances (m).

        ``predecessors`` is the Dijkstra row of ``out_hub[sample_from]``;
        None when ``sample_to`` cannot be reached.
        """
        source, target = int(self.out_hub[sample_from]), int(self.in_hub[sample_to])
        if predecessors[target] < 0:
            return None
        nodes = [target]
        while nodes[-1] != source:
            nodes.append(int(predecessors[nodes[-1]]))
        nodes.reverse()
        inner = nodes[1:-1]                                   # projections and network nodes
        sideways = self.proj_offset[inner[0] - self.first_projection] + self.proj_offset[inner[-1] - self.first_projection]
        parts = [self._part_of[(p, q) if p < q else (q, p)] for p, q in zip(inner[:-1], inner[1:])]
        return parts, inner, float(sideways)

    def point(self, node: int) -> np.ndarray:
        """Coordinates of a projection node."""
        return self.proj_xy[node - self.first_projection]

    def line(self, parts: list[int], nodes: list[int]):
        """The path as one LineString, in travel order (metric CRS)."""
        pieces = []
        for part, start in zip(parts, nodes[:-1]):
            e = int(self.part_edge[part])
            f0, f1 = self.part_from[part], self.part_to[part]
            if self.corridor.reversed[e]:
                f0, f1 = 1.0 - f0, 1.0 - f1
            if int(self.tail[part]) != start:                   # walked from head to tail
                f0, f1 = f1, f0
            piece = shapely.ops.substring(self.corridor.geometry[e], f0, f1, normalized=True)
            xy = shapely.get_coordinates(piece)
            pieces.append(xy if not pieces else xy[1:])
        xy = np.concatenate(pieces) if pieces else np.zeros((0, 2))
        return shapely.linestrings(xy) if len(xy) >= 2 else None

    def edges_of(self, parts: list[int]) -> list[int]:
        """Corridor edges (local indices) of a list of parts."""
        return list(dict.fromkeys(int(self.part_edge[p]) for p in parts))


def _offsets(geoms: np.ndarray, pieces: list, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and max distance (m) of each edge to the reference, and its cost factor.

    Edges are cut into pieces of at most ``_COST_STEP_M``; the distance of
    each piece's middle to the reference weights that piece's length.
    """
    if len(geoms) == 0:
        z = np.zeros(0)
        return z, z, z
    fine = shapely.segmentize(geoms, _COST_STEP_M)
    coords, owner = shapely.get_coordinates(fine, return_index=True)
    same = owner[1:] == owner[:-1]                                   # consecutive vertices of one edge
    starts, stops = coords[:-1][same], coords[1:][same]
    seg_owner = owner[:-1][same]
    seg_len = np.hypot(*(stops - starts).T)
    mids = shapely.points((starts + stops) / 2.0)
    segments = _segments(pieces)
    _, dist = shapely.STRtree(segments).query_nearest(mids, return_distance=True, all_matches=False)
    n = len(geoms)
    total = np.bincount(seg_owner, weights=seg_len, minlength=n)
    weighted = np.bincount(seg_owner, weights=seg_len * (1.0 + (dist / scale) ** 2), minlength=n)
    mean_off = np.bincount(seg_owner, weights=seg_len * dist, minlength=n)
    max_off = np.zeros(n)
    np.maximum.at(max_off, seg_owner, dist)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(total > 0, weighted / total, 1.0)
        mean_off = np.where(total > 0, mean_off / total, 0.0)
    return mean_off, max_off, factor


def _segments(pieces: list) -> np.ndarray:
    out = []
    for piece in pieces:
        xy = shapely.get_coordinates(piece)
        out.append(shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)))
    return np.concatenate(out)


def _samples(piece, spacing_m: float) -> np.ndarray:
    """Distances along ``piece`` of its samples: evenly spaced, ≤ ``spacing_m`` apart, both ends included."""
    count = max(1, int(np.ceil(piece.length / spacing_m)))
    return np.linspace(0.0, piece.length, count + 1)


def _match_pieces(corridor: _Corridor, pieces: list, tolerance_m: float, spacing_m: float, max_detour: float):
    """Matched edges (local indices, with their piece number) and gaps of all pieces."""
    along = [_samples(piece, spacing_m) for piece in pieces]
    points = [shapely.line_interpolate_point(piece, a) for piece, a in zip(pieces, along)]
    offsets = np.cumsum([0] + [len(a) for a in along])
    sample_xy = shapely.get_coordinates(np.concatenate(points))
    graph = _SplitGraph(corridor, sample_xy, tolerance_m)
    check = _LegCheck(graph, sample_xy, tolerance_m, max_detour)

    # legs whose ends are near the network and joined by an affordable path
    leg_from = np.concatenate([np.arange(offsets[i], offsets[i + 1] - 1) for i in range(len(pieces))])
    leg_ref = np.concatenate([np.diff(a) for a in along])
    reachable = graph.snapped[leg_from] & graph.snapped[leg_from + 1]
    starts = np.unique(leg_from[reachable])
    if len(starts):
        limit = (max_detour * float(leg_ref.max()) + 2 * tolerance_m) * graph.max_factor + 2 * _SNAP_WEIGHT * tolerance_m
        _, pred = dijkstra(graph.matrix, directed=True, indices=graph.out_hub[starts], return_predecessors=True, limit=limit)
        row = {int(s): i for i, s in enumerate(starts)}
        for k in np.flatnonzero(reachable):
            reachable[k] = pred[row[int(leg_from[k])], graph.in_hub[leg_from[k] + 1]] >= 0

    matched, gaps, breaks = [], [], []
    leg0 = 0
    for piece_no, piece in enumerate(pieces):
        n_legs = len(along[piece_no]) - 1
        first_sample = offsets[piece_no]
        good = np.zeros(n_legs, dtype=bool)
        k = 0
        while k < n_legs:                                       # spans of reachable legs
            j = k
            while j < n_legs and reachable[leg0 + j] == reachable[leg0 + k]:
                j += 1
            if reachable[leg0 + k]:
                previous = None
                for edges, legs, ends in _route_span(check, first_sample + k, first_sample + j, leg_ref[leg0 + k:leg0 + j]):
                    matched.extend((e, piece_no) for e in edges)
                    good[np.asarray(legs) - first_sample] = True
                    if previous is not None and previous[0] == legs[0]:
                        # two routes meet at a sample: they must join the network at (nearly) one place
                        jump = float(np.hypot(*(ends[0] - previous[1])))
                        if jump > _JOIN_M:
                            middle = shapely.Point((ends[0] + previous[1]) / 2.0)
                            breaks.append({"km": jump / 1000.0, "middle": middle})
                    previous = (legs[-1] + 1, ends[1])
            k = j
        k = 0
        while k < n_legs:                                       # gaps: runs of legs not matched
            j = k
            while j < n_legs and good[j] == good[k]:
                j += 1
            if not good[k]:
                gaps.append(_gap(piece, along[piece_no][k], along[piece_no][j]))
            k = j
        leg0 += n_legs
    return matched, gaps + breaks, len(sample_xy), len(leg_from)


class _LegCheck:
    """Routes spans of samples and checks each leg of the route."""

    def __init__(self, graph: _SplitGraph, sample_xy: np.ndarray, tolerance_m: float, max_detour: float):
        self.graph, self.points = graph, shapely.points(sample_xy)
        self.tolerance_m, self.max_detour = tolerance_m, max_detour

    def route(self, first: int, last: int, leg_ref: np.ndarray):
        """Edges of the cheapest path from sample ``first`` to ``last``, which legs pass the check, and
        the path's end points (where it joins the network at ``first`` and at ``last``); None without a path."""
        _, pred = dijkstra(self.graph.matrix, directed=True, indices=int(self.graph.out_hub[first]), return_predecessors=True)
        found = self.graph.path(pred, first, last)
        if found is None:
            return None
        parts, nodes, _ = found
        line = self.graph.line(parts, nodes)
        samples = self.points[first:last + 1]
        if line is None:                  # the samples join the network at one point: no road along them
            return [], np.zeros(len(leg_ref), dtype=bool), None
        side = shapely.distance(samples, line)
        position = shapely.line_locate_point(line, samples)
        along_path = np.abs(np.diff(position))
        ok = (along_path <= self.max_detour * leg_ref + side[:-1] + side[1:]) \
            & (side[:-1] <= self.tolerance_m) & (side[1:] <= self.tolerance_m)
        return self.graph.edges_of(parts), ok, (self.graph.point(nodes[0]), self.graph.point(nodes[-1]))


def _route_span(check: _LegCheck, first: int, last: int, leg_ref: np.ndarray):
    """Yield ``(edges, legs, ends)`` for the parts of a span of samples that pass the leg check.

    The whole span is routed in one go; legs that fail split it and are
    tried again alone (a one-leg route that fails is a gap).
    """
    routed = check.route(first, last, leg_ref)
    if routed is None:
        return
    edges, ok, ends = routed
    if ok.all():
        yield edges, list(range(first, last)), ends
        return
    if len(ok) == 1:
        return
    k = 0
    while k < len(ok):                                          # passing stretches, then failing legs alone
        j = k
        while j < len(ok) and ok[j] == ok[k]:
            j += 1
        if ok[k]:
            yield from _route_span(check, first + k, first + j, leg_ref[k:j])
        else:
            for leg in range(k, j):
                yield from _route_span(check, first + leg, first + leg + 1, leg_ref[leg:leg + 1])
        k = j


def _gap(piece, start: float, stop: float) -> dict:
    middle = piece.interpolate((start + stop) / 2.0)
    return {"km": (stop - start) / 1000.0, "middle": middle}


def _report(total_km, in_km, matched_km, gaps, samples, legs, pieces, params, crs) -> dict:
    gap_km = float(sum(g["km"] for g in gaps))
    where = []
    if gaps:
        mids = gpd.GeoSeries([g["middle"] for g in gaps], crs=crs).to_crs(settings.storage_crs)
        where = [[round(p.x, 5), round(p.y, 5)] for p in mids]
    share = (1.0 - gap_km / in_km) if in_km > 0 else float("nan")
    return {
        "reference_length_km": round(total_km, 3),
        "reference_in_network_km": round(in_km, 3),
        "matched_length_km": round(matched_km, 3),
        "matched_share": round(max(0.0, share), 4) if in_km > 0 else float("nan"),
        "gaps": {"count": len(gaps), "km": round(gap_km, 3), "where": where},
        "samples": int(samples), "legs": int(legs), "pieces": int(pieces),
        **params,
    }


# ----------------------------------------------------------------------------- waypoints

#: Defaults of :func:`route_waypoints` (metres, ratio).
WAYPOINT_SNAP_M = 1500.0
WAYPOINT_MAX_DETOUR = 2.0
WAYPOINT_MAX_OFFSET = 0.35
JUNCTION_CHARGE_M = 2000.0


@dataclass(frozen=True)
class WaypointLeg:
    """One leg between two consecutive waypoints: ``edges`` (positions in the prepared network, in path
    order), ``km`` (path length), ``straight_km``, ``snap_m`` (the two waypoints' distances to their nodes),
    ``matched`` and ``reason`` (why not)."""

    edges: np.ndarray
    km: float
    straight_km: float
    snap_m: tuple
    matched: bool
    reason: str | None = None


def route_waypoints(net: PreparedNetwork, xy, *, cost: Sequence[str] | str = "length",
                    snap_m: float = WAYPOINT_SNAP_M, max_detour: float = WAYPOINT_MAX_DETOUR,
                    max_offset: float = WAYPOINT_MAX_OFFSET,
                    junction_charge_m: float = JUNCTION_CHARGE_M) -> list[WaypointLeg]:
    """The network path through consecutive waypoints, leg by leg.

    Parameters
    ----------
    net : the prepared network (metric).
    xy : (K, 2) waypoint coordinates in ``net.crs``, in road order.
    cost : per leg (K − 1 values, or one for all) ``"length"`` (shortest
        path), ``"fewest_junctions"`` (length + ``junction_charge_m`` per edge:
        follows a controlled-access road, whose edges run from interchange to
        interchange) or ``"none"`` (the road is not continuous there: no path).
    snap_m : a waypoint farther than this from every node matches no leg.
    max_detour : a leg whose path is longer than this × the straight distance is not matched.
    max_offset : nor one whose path strays farther from the straight line between its waypoints than
        this × the straight distance + 1 km (a path that goes round by another town: a winding
        mountain road stays near its line, a detour through the next valley does not).

    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> from geo.routing.network import lines_to_network
    >>> road = gpd.GeoDataFrame(geometry=[LineString([(106.0, 21.0), (106.05, 21.0), (106.10, 21.0)]),
    ...                                   LineString([(106.05, 21.0), (106.05, 21.05)])], crs="EPSG:4326")
    >>> nodes, edges = lines_to_network(road)
    >>> net = prepare_network(nodes, edges)
    >>> pts = gpd.GeoSeries.from_xy([106.0, 106.1, 106.05], [21.0, 21.0, 21.3], crs="EPSG:4326").to_crs(net.crs)
    >>> legs = route_waypoints(net, list(zip(pts.x, pts.y)))
    >>> [(leg.matched, round(leg.km, 1)) for leg in legs], legs[1].reason
    ([(True, 10.4), (False, 0.0)], 'waypoint 3 is 27,673 m from the network (more than 1,500 m)')
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    k = len(xy)
    costs = [cost] * max(k - 1, 0) if isinstance(cost, str) else list(cost)
    if len(costs) != max(k - 1, 0):
        raise ValueError(f"cost needs one value per leg ({k - 1}), got {len(costs)}")
    dist, node = net.node_tree().query(xy)
    legs = []
    for i in range(k - 1):
        straight = float(np.hypot(*(xy[i + 1] - xy[i]))) / 1000.0
        snaps = (round(float(dist[i]), 1), round(float(dist[i + 1]), 1))
        far = [j for j in (i, i + 1) if dist[j] > snap_m]
        if costs[i] == "none" or far:
            reason = ("the road is not continuous here (cost 'none')" if costs[i] == "none" else
                      f"waypoint {far[0] + 1} is {dist[far[0]]:,.0f} m from the network (more than {snap_m:,.0f} m)")
            legs.append(WaypointLeg(np.empty(0, np.int64), 0.0, straight, snaps, False, reason))
            continue
        key = (costs[i], float(junction_charge_m))
        if key not in net.graphs:
            net.graphs[key] = _waypoint_graph(net, costs[i], junction_charge_m)
        graph, edge_of = net.graphs[key]
        _, pred = dijkstra(graph, indices=int(node[i]), return_predecessors=True)
        path = _walk(pred, int(node[i]), int(node[i + 1]))
        if path is None:
            legs.append(WaypointLeg(np.empty(0, np.int64), 0.0, straight, snaps, False, "no path (different component)"))
            continue
        edges = np.array([edge_of[(a, b)] for a, b in zip(path[:-1], path[1:])], dtype=np.int64)
        km = float(net.length_m[edges].sum()) / 1000.0
        if straight > 0 and km > max_detour * straight + 1.0:
            legs.append(WaypointLeg(edges, km, straight, snaps, False,
                                    f"path {km:.1f} km for {straight:.1f} km in a straight line (more than {max_detour:g} ×)"))
            continue
        stray = float(shapely.distance(shapely.points(net.node_xy[path]), shapely.LineString(xy[i:i + 2])).max()) / 1000.0
        if stray > max_offset * straight + 1.0:
            legs.append(WaypointLeg(edges, km, straight, snaps, False,
                                    f"path strays {stray:.1f} km from the straight line of {straight:.1f} km "
                                    f"(more than {max_offset:g} × + 1 km): it goes round by another road"))
            continue
        legs.append(WaypointLeg(edges, km, straight, snaps, True))
    return legs


def _waypoint_graph(net: PreparedNetwork, cost: str, junction_charge_m: float):
    """CSR graph of the network weighted for ``cost`` and the cheapest edge of each node pair."""
    if cost not in ("length", "fewest_junctions"):
        raise ValueError(f"unknown waypoint cost '{cost}' (length, fewest_junctions or none)")
    w = net.length_m + (junction_charge_m if cost == "fewest_junctions" else 0.0)
    keep = net.u != net.v
    pos = np.flatnonzero(keep)
    frame = pd.DataFrame({"a": np.r_[net.u[pos], net.v[pos]], "b": np.r_[net.v[pos], net.u[pos]],
                          "w": np.r_[w[pos], w[pos]], "edge": np.r_[pos, pos]})
    frame = frame.sort_values(["a", "b", "w"], kind="mergesort").drop_duplicates(["a", "b"])
    n = len(net.node_id)
    graph = coo_matrix((frame["w"].to_numpy(), (frame["a"].to_numpy(), frame["b"].to_numpy())), shape=(n, n)).tocsr()
    return graph, dict(zip(zip(frame["a"].to_numpy().tolist(), frame["b"].to_numpy().tolist()), frame["edge"].to_numpy().tolist()))


def _walk(pred: np.ndarray, start: int, end: int) -> list[int] | None:
    path = [end]
    while path[-1] != start:
        step = pred[path[-1]]
        if step < 0:
            return None
        path.append(int(step))
    return path[::-1]
