"""Access measures on a :class:`~geo.routing.Router`: minutes to targets, labour catchments.

Both work for any number of origins (parks, candidate sites, grid cells):

* :func:`minutes_to_targets` runs ONE multi-source search per target set
  (e.g. "every node of QL1A", "Kép station") and reads each origin's time
  from it, so 60,000 grid cells cost no more than 50 parks;
* :func:`catchment_population` counts the people (population raster cells)
  reachable within given minutes from each origin.

A point reaches the network by an *access leg*: straight-line distance to its
snapped node at ``access_speed_kmh`` (default 20 km/h, an assumption for local
roads and tracks not in the network). A point farther than ``max_snap_m`` from
the network gets no time and a reason — never 0 or infinity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.routing import Router


def snap_origins(router: Router, x, y, max_snap_m: float):
    """Snap points to the largest component; return (node index, distance m, reason).

    Points farther than ``max_snap_m`` get index −1, distance NaN and a reason.
    """
    node, dist = router.snap(x, y, max_snap_m, within=router.largest_component())
    far = router.distance_to_network(np.asarray(x, float)[node < 0], np.asarray(y, float)[node < 0]) if (node < 0).any() else np.empty(0)
    reason = np.full(len(node), None, dtype=object)
    reason[node < 0] = [f"more than {max_snap_m:,.0f} m from the road network ({d:,.0f} m)" for d in far]
    return node, dist, reason


def minutes_to_targets(router: Router, x, y, targets: dict, *, max_snap_m: float = 2000.0,
                       access_speed_kmh: float = 20.0, missing: dict | None = None) -> pd.DataFrame:
    """Minutes from each origin (x, y in the router's CRS) to the nearest node of each target set.

    ``targets`` maps a name to node indexes (any number; the nearest counts).
    A target with no node (``missing[name]`` gives the reason, e.g.
    "CT.01 is not in the 2018 network") yields NaN with that reason.
    Columns: ``minutes_to_<name>`` and ``reason_<name>`` (None when a time
    is given), plus ``snap_m`` (origin's distance to the network).

    >>> r = Router.from_arrays([1, 2, 3], x=[0, 1000, 2000], y=[0, 0, 0], u=[1, 2], v=[2, 3], weight=[60.0, 60.0])
    >>> t = minutes_to_targets(r, [0, 90000], [0, 0], {"end": [2]}, max_snap_m=500)
    >>> t["minutes_to_end"].tolist(), t["reason_end"].iloc[1]
    ([2.0, nan], 'more than 500 m from the road network (88,000 m)')
    """
    missing = dict(missing or {})
    node, snap_m, snap_reason = snap_origins(router, x, y, max_snap_m)
    access_s = snap_m / (access_speed_kmh / 3.6)
    ok = node >= 0
    out = {"snap_m": snap_m}
    for name, target_nodes in targets.items():
        target_nodes = np.asarray(target_nodes, dtype=np.int64).ravel()
        minutes = np.full(len(node), np.nan)
        reason = snap_reason.copy()
        if target_nodes.size == 0:
            reason[ok] = missing.get(name, f"{name}: no location in the network")
        else:
            time, _ = router.nearest_facility(target_nodes, towards=True)
            t = np.where(ok, time[np.where(ok, node, 0)], np.nan)
            minutes = (t + access_s) / 60.0
            unreachable = ok & np.isnan(t)
            reason[unreachable] = f"{name} unreachable (different network component)"
        out[f"minutes_to_{name}"] = minutes
        out[f"reason_{name}"] = reason
    return pd.DataFrame(out)


class Catchment:
    """Population cells attached to a router, for counting people within N minutes.

    Parameters: cell centre coordinates (router CRS), people per cell; cells
    farther than ``max_snap_m`` from the network are left out and counted in
    :attr:`unattached_people`.
    """

    def __init__(self, router: Router, x, y, people, *, max_snap_m: float = 2000.0, access_speed_kmh: float = 20.0):
        people = np.asarray(people, dtype=np.float64)
        keep = np.isfinite(people) & (people > 0)
        node, dist, _ = snap_origins(router, np.asarray(x, float)[keep], np.asarray(y, float)[keep], max_snap_m)
        attached = node >= 0
        self.router = router
        self.node = node[attached]
        self.access_s = dist[attached] / (access_speed_kmh / 3.6)
        self.people = people[keep][attached]
        self.unattached_people = float(people[keep][~attached].sum())

    def people_within(self, origins_idx, minutes=(30, 45), origin_access_s=None) -> np.ndarray:
        """People reachable within each threshold from each origin: array (origins × thresholds).

        Time to a cell = origin access leg + network time + the cell's access
        leg. Origins with index −1 give NaN.
        """
        origins = np.asarray(origins_idx, dtype=np.int64)
        minutes = np.atleast_1d(np.asarray(minutes, dtype=float))
        origin_access_s = np.zeros(len(origins)) if origin_access_s is None else np.asarray(origin_access_s, float)
        out = np.full((len(origins), len(minutes)), np.nan)
        ok = np.flatnonzero(origins >= 0)
        if ok.size == 0:
            return out
        limit = minutes.max() * 60.0
        reached = self.router.reachable_within(origins[ok], limit)
        node_time = np.full(self.router.n, np.nan)
        for row, (nodes, times) in zip(ok, reached):
            node_time[nodes] = times
            cell_time = node_time[self.node] + self.access_s + origin_access_s[row]
            for j, m in enumerate(minutes):
                out[row, j] = self.people[cell_time <= m * 60.0].sum()
            node_time[nodes] = np.nan
        return out
