"""Access measures on a :class:`~geo.routing.router.Router`: minutes to targets, labour catchments.

Points (parks, sites, destinations, population cells, scenario interchanges)
join the network where they really are. :class:`RoadEdges` finds each
point's *nearest suitable edge* by geometry — suitable: in the largest
component and not a controlled-access road (an expressway is entered only
at its interchanges) — and the point joins it at the nearest point on it,
which splits the edge there: a connector (straight line at an explicit
``access_speed_kmh``, default 20 km/h — an assumption for the lanes and
tracks not in the network) plus the share of the edge's travel time to each
end. A rural park 1.9 km from the nearest junction but 200 m from a road is
thus 200 m from the network, however long the edge (the 2018 network has
edges of 15 km). A point farther than ``max_snap_m`` from every suitable
edge stays unconnected: its times are NaN with a reason — never 0 or
infinity.

Attachments are made on the edges of the *base* network only: a scenario
that adds roads keeps every connector of the base and only adds edges, so
no trip gets longer and no catchment smaller (tested with random added roads
on the real network).

Then, for any number of origins:

* :func:`minutes_to_targets` runs ONE multi-source search per target set
  (e.g. "every node of QL1A", "Kép station") and reads each origin's time
  from it, so 60,000 grid cells cost no more than 50 parks;
* :class:`Catchment` counts the people (population raster cells) reachable
  within given minutes from each origin.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from geo.routing.router import Router


@dataclass
class Located:
    """Points located on the joinable lines of a :class:`RoadEdges` (:meth:`RoadEdges.locate`): of ``points``
    points, ``rows`` found a line within the distance: ``hit`` (rank among the joinable lines), ``dist`` (m),
    ``along`` (share of the line's length from its first vertex)."""

    points: int
    rows: np.ndarray
    hit: np.ndarray
    dist: np.ndarray
    along: np.ndarray


@dataclass
class RoadEdges:
    """Edges of a router that points may join, with a spatial index (the router's metric CRS).

    Build it once per base network with :meth:`of` and reuse it, so every
    attachment — before and after a scenario — joins the same edges.

    lines : edge geometries (metric LineStrings);
    u, v : router indexes of each edge's two ends (−1 where not in the router);
    weight : the edges' travel times (router unit, seconds);
    joinable : which edges a point may join;
    u_xy : coordinates of each edge's u end (to tell which way a geometry runs).
    """

    lines: np.ndarray
    u: np.ndarray
    v: np.ndarray
    weight: np.ndarray
    joinable: np.ndarray
    u_xy: np.ndarray
    _tree: object = field(default=None, repr=False, compare=False)
    _usable: object = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, router: Router, lines, u_ids, v_ids, weights, joinable=None) -> "RoadEdges":
        """The edges given by node ids; ``joinable`` (boolean mask) narrows the default — every edge of
        the router's largest component."""
        lines = np.asarray(getattr(lines, "values", lines), dtype=object)
        u = router.index_of(np.asarray(u_ids))
        v = router.index_of(np.asarray(v_ids))
        ok = (u >= 0) & (v >= 0)
        ok &= router.largest_component()[np.where(u >= 0, u, 0)]
        if joinable is not None:
            ok &= np.asarray(joinable, bool)
        u_xy = np.column_stack([router.x[np.where(u >= 0, u, 0)], router.y[np.where(u >= 0, u, 0)]])
        return cls(lines, u, v, np.asarray(weights, dtype=np.float64), ok, u_xy)

    def __getstate__(self):       # the spatial index is rebuilt where it is needed (e.g. on a Dask worker)
        state = dict(self.__dict__)
        state["_tree"] = state["_usable"] = None
        return state

    def nearest(self, x, y, max_m: float, located: Located | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest joinable edge of each point within ``max_m`` metres.

        Returns ``(edge position, distance m, share of the edge from its u
        end)``, −1 / NaN / NaN where there is none (or the point has no
        coordinates). ``located``: :meth:`locate` of the same points on edges with the same lines
        (:meth:`same_lines`), e.g. another network's, instead of searching again.

        >>> from shapely.geometry import LineString
        >>> r = Router.from_arrays([1, 2, 3], x=[0, 1000, 1000], y=[0, 0, 900], u=[1, 2], v=[2, 3], weight=[100.0, 90.0])
        >>> e = RoadEdges.of(r, [LineString([(1000, 0), (0, 0)]), LineString([(1000, 0), (1000, 900)])], [1, 2], [2, 3],
        ...                  [100.0, 90.0], joinable=[True, False])
        >>> pos, dist, share = e.nearest([250, 990, 9000], [50, 500, 0], 800)
        >>> pos.tolist(), dist.round(1).tolist(), share.round(2).tolist()
        ([0, 0, -1], [50.0, 500.0, nan], [0.25, 0.99, nan])
        """
        found = located if located is not None else self.locate(x, y, max_m)
        pos = np.full(found.points, -1, dtype=np.int64)
        dist = np.full(found.points, np.nan)
        share = np.full(found.points, np.nan)
        if not len(found.rows):
            return pos, dist, share
        self._index()
        e_i = self._usable[found.hit]
        line = self.lines[e_i]
        pos[found.rows] = e_i
        dist[found.rows] = found.dist
        start, end = shapely.get_point(line, 0), shapely.get_point(line, -1)
        ux, uy = self.u_xy[e_i, 0], self.u_xy[e_i, 1]
        runs_from_u = (np.hypot(shapely.get_x(start) - ux, shapely.get_y(start) - uy)
                       <= np.hypot(shapely.get_x(end) - ux, shapely.get_y(end) - uy))
        share[found.rows] = np.where(runs_from_u, found.along, 1.0 - found.along)
        return pos, dist, share

    def locate(self, x, y, max_m: float) -> Located:
        """The spatial search of :meth:`nearest`: for each point with coordinates, the nearest joinable line
        within ``max_m`` m (its rank among the joinable lines), the distance and where along the line."""
        tree = self._index()
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if not len(finite) or not len(self._usable):
            empty = np.empty(0, np.int64)
            return Located(len(x), empty, empty, np.empty(0), np.empty(0))
        pts = shapely.points(x[finite], y[finite])
        p_i, hit = tree.query_nearest(pts, max_distance=max_m, all_matches=False)
        line = self.lines[self._usable[hit]]
        return Located(len(x), finite[p_i], hit, shapely.distance(pts[p_i], line),
                       shapely.line_locate_point(line, pts[p_i], normalized=True))

    def same_lines(self, other: RoadEdges) -> bool:
        """True when ``other`` has the same joinable lines, in the same order (equal coordinates): a point's
        nearest line is then the same (same search tree), so :meth:`locate` results carry over."""
        self._index()
        other._index()
        mine, theirs = self.lines[self._usable], other.lines[other._usable]
        return len(mine) == len(theirs) and bool(shapely.equals_exact(mine, theirs, tolerance=0).all())

    def crossings(self, line) -> np.ndarray:
        """Positions (m along ``line``) where it crosses a joinable edge: at-grade junctions of a new road.

        >>> from shapely.geometry import LineString
        >>> r = Router.from_arrays([1, 2], x=[0, 1000], y=[0, 0], u=[1], v=[2], weight=[100.0])
        >>> RoadEdges.of(r, [LineString([(0, 0), (1000, 0)])], [1], [2], [100.0]).crossings(LineString([(300, -50), (300, 50)]))
        array([50.])
        """
        tree = self._index()
        hits = self._usable[tree.query(line, predicate="crosses")]
        if not len(hits):
            return np.empty(0)
        points = shapely.get_parts(shapely.intersection(line, self.lines[hits]))
        points = points[shapely.get_type_id(points) == 0]
        return shapely.line_locate_point(line, points) if len(points) else np.empty(0)

    def _index(self):
        if self._tree is None:
            self._usable = np.flatnonzero(self.joinable)
            self._tree = shapely.STRtree(self.lines[self._usable])
        return self._tree

    def split_times(self, pos: np.ndarray, share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Travel time from the point at ``share`` of edge ``pos`` to the edge's u end and to its v end."""
        w = self.weight[pos]
        return share * w, (1.0 - share) * w


def attach_points(router: Router, lines, u_ids=None, v_ids=None, weights=None, x=None, y=None, *,
                  max_snap_m: float = 2000.0, access_speed_kmh: float = 20.0, edge_ok=None):
    """A new router with the points added as nodes joined to their nearest suitable edge.

    Parameters
    ----------
    lines : a :class:`RoadEdges` (then ``u_ids``, ``v_ids``, ``weights`` and
        ``edge_ok`` are not given), or edge geometries in the router's metric
        CRS aligned with ``u_ids``/``v_ids`` (node ids of the ends) and
        ``weights`` (the edges' travel times).
    x, y : point coordinates (router CRS).
    max_snap_m : a point farther than this (m) from every suitable edge is not connected.
    access_speed_kmh : speed of the straight connector from the point to the edge (km/h).
    edge_ok : boolean mask over the edges that may be joined (default: edges
        of the largest component).

    Returns ``(router, point_index, snap_m, reason)``: the points are the last
    nodes of the new router, in input order; ``snap_m`` is the connector's
    length (m); unconnected points have ``snap_m`` NaN and a reason.

    >>> from shapely.geometry import LineString
    >>> r = Router.from_arrays([1, 2], x=[0, 1000], y=[0, 0], u=[1], v=[2], weight=[100.0])
    >>> r2, idx, snap, why = attach_points(r, [LineString([(0, 0), (1000, 0)])], [1], [2], [100.0],
    ...                                    [250, 5000], [50, 0], max_snap_m=500, access_speed_kmh=18)
    >>> r2.travel_times([idx[0]], r.index_of([1, 2])).round(1).tolist(), why[1]
    ([[35.0, 85.0]], 'more than 500 m from the road network')
    """
    edges = lines if isinstance(lines, RoadEdges) else RoadEdges.of(router, lines, u_ids, v_ids, weights, joinable=edge_ok)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    pos, snap_m, share = edges.nearest(x, y, max_snap_m)
    joined = np.flatnonzero(pos >= 0)
    e_i = pos[joined]
    access_s = snap_m[joined] / (access_speed_kmh / 3.6)
    first = min(int(np.min(router.node_ids)) if router.n else 0, 0) - 1
    new_ids = np.arange(first, first - len(x), -1, dtype=np.int64)
    out = router.add_nodes(new_ids, x, y)
    point_index = np.arange(router.n, router.n + len(x))
    part_u, part_v = edges.split_times(e_i, share[joined])
    to_u, to_v = access_s + part_u, access_s + part_v
    u_e, v_e, p_e = edges.u[e_i], edges.v[e_i], point_index[joined]
    one_way = _one_way(router.edge_u, router.edge_v, u_e, v_e) if router.directed else np.zeros(len(e_i), bool)
    two = ~one_way
    out = out.add_edges(np.r_[p_e[two], p_e[two]], np.r_[u_e[two], v_e[two]], np.r_[to_u[two], to_v[two]], directed=False)
    if one_way.any():   # on a one-way edge u → v a point is reached from u and left towards v, never against the flow
        # ... except at an end of the edge, where the point is on the node itself (both ways to that node).
        frac = share[joined]
        at_u, at_v = one_way & (frac <= 1e-9), one_way & (frac >= 1 - 1e-9)
        out = out.add_edges(np.r_[u_e[one_way], p_e[one_way], p_e[at_u], v_e[at_v]],
                            np.r_[p_e[one_way], v_e[one_way], u_e[at_u], p_e[at_v]],
                            np.r_[to_u[one_way], to_v[one_way], to_u[at_u], to_v[at_v]], directed=True)
    reason = np.full(len(x), None, dtype=object)
    reason[pos < 0] = f"more than {max_snap_m:,.0f} m from the road network"
    return out, point_index, snap_m, reason


def _one_way(edge_u: np.ndarray, edge_v: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """True where the graph (edges ``edge_u → edge_v``) has no edge back from ``v`` to ``u``.

    >>> _one_way(np.array([0, 1, 1]), np.array([1, 0, 2]), np.array([0, 1]), np.array([1, 2])).tolist()
    [False, True]
    """
    back = pd.MultiIndex.from_arrays([edge_v, edge_u])
    return ~pd.MultiIndex.from_arrays([u, v]).isin(back)


def minutes_to_targets(router: Router, origins_idx, targets: dict, *, missing: dict | None = None,
                       origin_reason=None) -> pd.DataFrame:
    """Minutes from each origin node to the nearest node of each target set.

    ``targets`` maps a name to node indexes (any number; the nearest counts).
    A target with no node (``missing[name]`` gives the reason, e.g.
    "CT.01 is not in the 2018 network") yields NaN with that reason;
    ``origin_reason`` (per origin, e.g. from :func:`attach_points`) explains
    origins that are not connected. Columns: ``minutes_to_<name>`` and
    ``reason_<name>`` (missing where a time is given).

    >>> r = Router.from_arrays([1, 2, 3, 4], x=[0, 1000, 2000, 9000], y=[0, 0, 0, 0], u=[1, 2], v=[2, 3], weight=[60.0, 60.0])
    >>> t = minutes_to_targets(r, [0, 3], {"end": [2], "ct01": []}, missing={"ct01": "not built"})
    >>> t["minutes_to_end"].tolist(), t["reason_end"].iloc[1], t["reason_ct01"].tolist()
    ([2.0, nan], 'end unreachable (different network component)', ['not built', 'not built'])
    """
    origins = np.asarray(origins_idx, dtype=np.int64)
    missing = dict(missing or {})
    base_reason = np.full(len(origins), None, dtype=object) if origin_reason is None else np.asarray(origin_reason, dtype=object)
    out = {}
    sets = {name: np.asarray(nodes, dtype=np.int64).ravel() for name, nodes in targets.items()}
    routed = [name for name, nodes in sets.items() if nodes.size]
    # One hierarchy query for every origin × target set (see Router.time_to_nearest).
    times = router.time_to_nearest(origins, [sets[name] for name in routed]) if routed and origins.size else None
    for name, target_nodes in sets.items():
        reason = base_reason.copy()
        if target_nodes.size == 0:
            minutes = np.full(len(origins), np.nan)
            reason[reason == None] = missing.get(name, f"{name}: no location in the network")  # noqa: E711
        else:
            minutes = times[:, routed.index(name)] / 60.0 if times is not None else np.full(len(origins), np.nan)
            reason[np.isnan(minutes) & (reason == None)] = f"{name} unreachable (different network component)"  # noqa: E711
        out[f"minutes_to_{name}"] = minutes
        out[f"reason_{name}"] = reason
    return pd.DataFrame(out)


class Catchment:
    """Population cells attached to a router, for counting people within N minutes.

    Each cell (centre x, y in the router's CRS; people) joins the network by
    an access leg at ``access_speed_kmh``: with ``edges`` (a
    :class:`RoadEdges`) at the nearest point of its nearest suitable edge,
    splitting it (the time to a cell is then the faster way in from either
    end of that edge); without, at its nearest node of the largest component
    (``within`` narrows the candidates). Cells farther than ``max_snap_m``
    are left out and counted in :attr:`unattached_people`. Cells with unknown
    population (NaN) are not counted as people. With ``edges``, :attr:`located` keeps where the cells
    (with people) joined (:meth:`RoadEdges.locate`): a catchment of the same cells on edges with the same
    lines takes it as ``located`` instead of searching again.
    """

    def __init__(self, router: Router, x, y, people, *, max_snap_m: float = 2000.0, access_speed_kmh: float = 20.0,
                 within: np.ndarray | None = None, edges: RoadEdges | None = None, located: Located | None = None):
        people = np.asarray(people, dtype=np.float64)
        keep = np.isfinite(people) & (people > 0)
        x, y = np.asarray(x, float)[keep], np.asarray(y, float)[keep]
        self.located = None
        if edges is not None:
            self.located = located if located is not None else edges.locate(x, y, max_snap_m)
            pos, dist, share = edges.nearest(x, y, max_snap_m, located=self.located)
            attached = pos >= 0
            self.node = edges.u[pos[attached]]
            self.node_v = edges.v[pos[attached]]
            self.to_u, self.to_v = edges.split_times(pos[attached], share[attached])
        else:
            allowed = router.largest_component() if within is None else router.largest_component() & np.asarray(within, bool)
            node, dist = router.snap(x, y, max_snap_m, within=allowed)
            attached = node >= 0
            self.node = node[attached]
            self.node_v = None
        self.router = router
        self.access_s = dist[attached] / (access_speed_kmh / 3.6)
        self.people = people[keep][attached]
        self.unattached_people = float(people[keep][~attached].sum())

    def on(self, router: Router) -> "Catchment":
        """The same cells on ``router``, a router made from this one's by adding nodes and edges (points
        attached, a scenario's roads): the cells join where they joined, so they are not snapped again.

        >>> r = Router.from_arrays([1, 2], x=[0, 1000], y=[0, 0], u=[1], v=[2], weight=[60.0])
        >>> c = Catchment(r, [0, 1000], [10, 10], [5.0, 7.0], access_speed_kmh=3.6)
        >>> c.on(r.add_nodes([3], [2000], [0]).add_edges([1], [2], [30.0])).people_within([0], [1.2]).tolist()
        [[12.0]]
        """
        if router.n < self.router.n:
            raise ValueError("Catchment.on: the router must hold this catchment's router's nodes first")
        out = copy.copy(self)
        out.router = router
        return out

    def people_within(self, origins_idx, minutes=(30, 45)) -> np.ndarray:
        """People reachable within each threshold from each origin: array (origins × thresholds).

        Time to a cell = network time from the origin to where the cell
        joins the network + the cell's access leg. Origins that reach
        nothing give 0 people only if they are connected; index −1 gives NaN.
        """
        origins = np.asarray(origins_idx, dtype=np.int64)
        minutes = np.atleast_1d(np.asarray(minutes, dtype=float))
        out = np.full((len(origins), len(minutes)), np.nan)
        ok = np.flatnonzero(origins >= 0)
        if ok.size == 0:
            return out
        reached = self.router.reachable_within(origins[ok], minutes.max() * 60.0)
        node_time = np.full(self.router.n, np.nan)
        for row, (nodes, times) in zip(ok, reached):
            node_time[nodes] = times
            cell_time = self._cell_times(node_time)
            for j, m in enumerate(minutes):
                out[row, j] = self.people[cell_time <= m * 60.0].sum()
            node_time[nodes] = np.nan
        return out

    def _cell_times(self, node_time: np.ndarray) -> np.ndarray:
        if self.node_v is None:
            return node_time[self.node] + self.access_s
        return np.fmin(node_time[self.node] + self.to_u, node_time[self.node_v] + self.to_v) + self.access_s
