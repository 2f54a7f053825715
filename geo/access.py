"""Access measures on a :class:`~geo.routing.Router`: minutes to targets, labour catchments.

Points (parks, sites, destinations) join the network where they really are:
:func:`attach_points` puts each point on its *nearest edge* (by geometry)
and links it to both ends of that edge, with an access leg (straight-line
distance at ``access_speed_kmh``, default 20 km/h — an assumption for the
local roads and tracks not in the network) plus the share of the edge's
travel time. A rural park 1.9 km from the nearest junction but 200 m from a
road is thus 200 m from the network, not 1.9 km. A point farther than
``max_snap_m`` from every edge stays unconnected: its times are NaN with a
reason — never 0 or infinity.

Then, for any number of origins:

* :func:`minutes_to_targets` runs ONE multi-source search per target set
  (e.g. "every node of QL1A", "Kép station") and reads each origin's time
  from it, so 60,000 grid cells cost no more than 50 parks;
* :class:`Catchment` counts the people (population raster cells) reachable
  within given minutes from each origin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.routing import Router


def attach_points(router: Router, lines, u_ids, v_ids, weights, x, y, *, max_snap_m: float = 2000.0,
                  access_speed_kmh: float = 20.0, edge_ok=None):
    """A new router with the points added as nodes linked to their nearest edge.

    Parameters
    ----------
    lines : edge geometries in the router's metric CRS (array or GeoSeries),
        aligned with ``u_ids``/``v_ids`` (node ids of the ends) and
        ``weights`` (the edges' travel times).
    x, y : point coordinates (router CRS).
    edge_ok : boolean mask over the edges that may be used (default: edges of
        the largest component).

    Returns ``(router, point_index, snap_m, reason)``: the points are the last
    nodes of the new router, in input order; unconnected points have
    ``snap_m`` NaN and a reason.

    >>> from shapely.geometry import LineString
    >>> r = Router.from_arrays([1, 2], x=[0, 1000], y=[0, 0], u=[1], v=[2], weight=[100.0])
    >>> r2, idx, snap, why = attach_points(r, [LineString([(0, 0), (1000, 0)])], [1], [2], [100.0],
    ...                                    [250, 5000], [50, 0], max_snap_m=500, access_speed_kmh=18)
    >>> r2.travel_times([idx[0]], r.index_of([1, 2])).round(1).tolist(), why[1]
    ([[35.0, 85.0]], 'more than 500 m from the road network')
    """
    lines = np.asarray(getattr(lines, "values", lines), dtype=object)
    u_idx = router.index_of(np.asarray(u_ids))
    v_idx = router.index_of(np.asarray(v_ids))
    weights = np.asarray(weights, dtype=np.float64)
    ok = (u_idx >= 0) & (v_idx >= 0)
    if edge_ok is None:
        largest = router.largest_component()
        ok &= largest[np.where(u_idx >= 0, u_idx, 0)]
    else:
        ok &= np.asarray(edge_ok, bool)
    usable = np.flatnonzero(ok)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    pts = shapely.points(x, y)
    tree = shapely.STRtree(lines[usable])
    pair = tree.query_nearest(pts, max_distance=max_snap_m, all_matches=False)
    p_i, e_i = pair[0], usable[pair[1]]
    snap_m = np.full(len(x), np.nan)
    snap_m[p_i] = shapely.distance(pts[p_i], lines[e_i])
    # Share of the edge from its u end, whichever way the geometry runs.
    frac = shapely.line_locate_point(lines[e_i], pts[p_i], normalized=True)
    start = shapely.get_point(lines[e_i], 0)
    from_u = np.hypot(shapely.get_x(start) - router.x[u_idx[e_i]], shapely.get_y(start) - router.y[u_idx[e_i]]) <= \
        np.hypot(shapely.get_x(start) - router.x[v_idx[e_i]], shapely.get_y(start) - router.y[v_idx[e_i]])
    frac = np.where(from_u, frac, 1.0 - frac)
    access_s = snap_m[p_i] / (access_speed_kmh / 3.6)
    first = min(int(np.min(router.node_ids)) if router.n else 0, 0) - 1
    new_ids = np.arange(first, first - len(x), -1, dtype=np.int64)
    out = router.add_nodes(new_ids, x, y)
    point_index = np.arange(router.n, router.n + len(x))
    to_u, to_v = access_s + frac * weights[e_i], access_s + (1 - frac) * weights[e_i]
    one_way = _one_way(u_idx, v_idx, e_i) if router.directed else np.zeros(len(e_i), bool)
    two = ~one_way
    out = out.add_edges(np.r_[point_index[p_i][two], point_index[p_i][two]], np.r_[u_idx[e_i][two], v_idx[e_i][two]],
                        np.r_[to_u[two], to_v[two]], directed=False)
    if one_way.any():   # on a one-way edge u → v a point is reached from u and left towards v, never against the flow
        # ... except at an end of the edge, where the point is on the node itself (both ways to that node).
        at_u, at_v = one_way & (frac <= 1e-9), one_way & (frac >= 1 - 1e-9)
        out = out.add_edges(np.r_[u_idx[e_i][one_way], point_index[p_i][one_way], point_index[p_i][at_u], v_idx[e_i][at_v]],
                            np.r_[point_index[p_i][one_way], v_idx[e_i][one_way], u_idx[e_i][at_u], point_index[p_i][at_v]],
                            np.r_[to_u[one_way], to_v[one_way], to_u[at_u], to_v[at_v]], directed=True)
    reason = np.full(len(x), None, dtype=object)
    reason[np.isnan(snap_m)] = f"more than {max_snap_m:,.0f} m from the road network"
    return out, point_index, snap_m, reason


def _one_way(u_idx: np.ndarray, v_idx: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """For the chosen edges (positions), True where the graph has no edge back from v to u.

    >>> _one_way(np.array([0, 1, 1]), np.array([1, 0, 2]), np.array([0, 2])).tolist()
    [False, True]
    """
    back = pd.MultiIndex.from_arrays([v_idx, u_idx])
    pairs = pd.MultiIndex.from_arrays([u_idx[chosen], v_idx[chosen]])
    return ~pairs.isin(back)


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

    Each cell (centre x, y in the router's CRS; people) joins its nearest
    node of the largest component (``within`` narrows the candidates) by an
    access leg at ``access_speed_kmh``; cells farther than ``max_snap_m`` are
    left out and counted in :attr:`unattached_people`. Cells with unknown
    population (NaN) are not counted as people.
    """

    def __init__(self, router: Router, x, y, people, *, max_snap_m: float = 2000.0, access_speed_kmh: float = 20.0,
                 within: np.ndarray | None = None):
        people = np.asarray(people, dtype=np.float64)
        keep = np.isfinite(people) & (people > 0)
        allowed = router.largest_component() if within is None else router.largest_component() & np.asarray(within, bool)
        node, dist = router.snap(np.asarray(x, float)[keep], np.asarray(y, float)[keep], max_snap_m, within=allowed)
        attached = node >= 0
        self.router = router
        self.node = node[attached]
        self.access_s = dist[attached] / (access_speed_kmh / 3.6)
        self.people = people[keep][attached]
        self.unattached_people = float(people[keep][~attached].sum())

    def people_within(self, origins_idx, minutes=(30, 45)) -> np.ndarray:
        """People reachable within each threshold from each origin: array (origins × thresholds).

        Time to a cell = network time from the origin node + the cell's access
        leg. Origins that reach nothing give 0 people only if they are
        connected; index −1 gives NaN.
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
            cell_time = node_time[self.node] + self.access_s
            for j, m in enumerate(minutes):
                out[row, j] = self.people[cell_time <= m * 60.0].sum()
            node_time[nodes] = np.nan
        return out
