"""Planned roads as scenarios: add a corridor to a routing network.

A planned corridor is a line (in the router's metric CRS) with a class and
a design speed. Where it can be entered depends on its class:

* a controlled-access road (``expressway``/``motorway``) only at its
  *interchange points*: each interchange is placed on the line and joined by
  a link road to the nearest point of the nearest suitable existing road
  (with ``edges``, a :class:`geo.routing.access.RoadEdges`: never another
  expressway, and the existing edge is split there however long it is;
  without, to the nearest existing node);
* any other class also wherever it crosses a suitable road or one of its
  vertices lies within ``touch_tolerance_m`` of one (an at-grade junction).

**Ends.** A line drawn by hand rarely ends exactly on a road. Each end of an
ordinary road that is not already a junction joins the nearest road within
``access_tolerance_m`` by a link; a controlled-access road given *no*
interchange near it becomes an interchange at each of its ends (an
expressway sketched between two towns). An end whose nearest road is itself
controlled-access (e.g. CT.01) becomes a new interchange *on* that road: the
existing edge is split there and the link pays ``interchange_penalty_s``.
Every end is reported (``start_snap_m``/``start_joins``, ``end_snap_m``/``end_joins``),
and a road that joins nothing is refused with the distance from each end
to the nearest road it may join and that road's name (``edge_label``).

The line becomes a chain of new nodes (ids are negative integers, so they
never collide with OSM ids) with travel times length / design speed. Only
nodes and edges are added — no existing edge is replaced or slowed, and
``Router.add_edges`` keeps the smaller weight where two edges join the same
nodes — so no travel time ever gets longer (tested on random added roads).

>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> from geo.routing.router import Router
>>> base = Router.from_arrays([1, 2, 3], x=[0, 5000, 10000], y=[0, 0, 0], u=[1, 2], v=[2, 3], weight=[600.0, 600.0])
>>> line = gpd.GeoDataFrame({"name": ["bypass"], "road_class": ["expressway"], "design_speed_kmh": [100]},
...                         geometry=[LineString([(0, 100), (10000, 100)])])
>>> exits = gpd.GeoDataFrame(geometry=[Point(0, 100), Point(10000, 100)])
>>> after, report = add_planned_roads(base, line, exits, link_speed_kmh=36, interchange_penalty_s=0)
>>> float(base.travel_times([0], [2])[0, 0]), float(after.travel_times([0], [2])[0, 0])
(1200.0, 380.0)
>>> after, report = add_planned_roads(base, line, link_speed_kmh=36, interchange_penalty_s=0)   # no exits: the ends
>>> report.loc[0, "start_joins"], float(after.travel_times([0], [2])[0, 0])
('interchange: link of 100 m to node 1', 380.0)
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.routing.access import RoadEdges
from geo.errors import InputError
from geo.routing.router import Router

log = logging.getLogger(__name__)

#: Road classes that may only be entered at interchanges.
CONTROLLED_ACCESS = ("expressway", "motorway", "cao tốc", "cao toc")



@dataclass(frozen=True)
class _Entry:
    """Where a planned road can be entered: its node, how, and the link to the road it joins."""

    node: int          # index of the planned road's node in the new router
    kind: str          # "interchange" or "junction"
    link_m: float      # length of the link to the existing road (m)
    road: str          # the road joined (label)
    x: float
    y: float
    position: int      # position along the line's chain (0 = start)
    part: int


@dataclass(frozen=True)
class _Miss:
    """An end or interchange that joins nothing, and the nearest road it could join."""

    what: str          # "start", "end", "interchange 'X'"
    distance_m: float  # to the nearest road it may join (NaN: none at all)
    road: str


class _Joiner:
    """Joins points of a planned road to the existing network (``edges``: suitable edges; ``all_edges``: every edge)."""

    def __init__(self, router: Router, edges: RoadEdges | None, edge_label: Callable[[int], str] | None):
        self.router, self.edges = router, edges
        self.allowed = router.largest_component()
        self.all_edges = _every_edge(edges, self.allowed) if edges is not None else None
        self._label = edge_label

    def label(self, pos: int) -> str:
        if pos < 0:
            return "no road"
        if self._label is not None:
            return str(self._label(int(pos)))
        return f"road edge {int(pos)}" if self.edges is not None else f"node {self.router.node_ids[pos]}"

    def links(self, xy: np.ndarray, tolerance_m: np.ndarray):
        """``(k, (u, extra_s), (v, extra_s), distance_m, road)`` for each point within its tolerance of a suitable road."""
        if self.edges is not None:
            pos, dist, share = self.edges.nearest(xy[:, 0], xy[:, 1], float(np.max(tolerance_m)))
            ok = (pos >= 0) & (dist <= tolerance_m)
            to_u, to_v = self.edges.split_times(pos[ok], share[ok])
            for k, p, tu, tv, d in zip(np.flatnonzero(ok), pos[ok], to_u, to_v, dist[ok]):
                yield int(k), (self.edges.u[p], float(tu)), (self.edges.v[p], float(tv)), float(d), self.label(p)
            return
        node, dist = self.router.snap(xy[:, 0], xy[:, 1], float(np.max(tolerance_m)), within=self.allowed)
        ok = (node >= 0) & (dist <= tolerance_m)
        for k, n_idx, d in zip(np.flatnonzero(ok), node[ok], dist[ok]):
            yield int(k), (int(n_idx), 0.0), (int(n_idx), 0.0), float(d), self.label(n_idx)

    def nearest_suitable(self, x: float, y: float) -> tuple[float, str]:
        """Distance (m) to the nearest road a link may join, whatever the tolerance, and its label."""
        if self.edges is not None:
            pos, dist, _ = self.edges.nearest([x], [y], np.inf)
            return float(dist[0]), self.label(pos[0])
        node, dist = self.router.snap([x], [y], np.inf, within=self.allowed)
        return float(dist[0]), self.label(node[0])

    def end_link(self, x: float, y: float, tolerance_m: float):
        """How an end joins: ``((u, extra_s), (v, extra_s), distance_m, road, on_controlled)``, or a miss ``(distance_m, road)``."""
        near = next(self.links(np.array([[x, y]]), np.array([tolerance_m])), None)
        if self.all_edges is not None:
            d_suitable = near[3] if near is not None else np.inf
            pos, dist, share = self.all_edges.nearest([x], [y], min(tolerance_m, d_suitable))
            if pos[0] >= 0 and not self.edges.joinable[pos[0]] and dist[0] < d_suitable:
                to_u, to_v = self.all_edges.split_times(pos[:1], share[:1])   # a new interchange on an expressway
                return (int(self.edges.u[pos[0]]), float(to_u[0])), (int(self.edges.v[pos[0]]), float(to_v[0])), \
                    float(dist[0]), self.label(pos[0]), True
        if near is not None:
            return near[1], near[2], near[3], near[4], False
        return self.nearest_suitable(x, y)


#: Every-edge indexes (controlled-access roads included) built for a base network's suitable edges, by identity.
_EVERY_EDGE: OrderedDict = OrderedDict()


def _every_edge(edges: RoadEdges, allowed: np.ndarray) -> RoadEdges:
    """``edges`` with every edge of the largest component joinable (expressways too): where an end may make a new
    interchange. Kept for the last few base networks (a server answers many sketches on one)."""
    key = id(edges)
    hit = _EVERY_EDGE.get(key)
    if hit is not None and hit[0] is edges:
        _EVERY_EDGE.move_to_end(key)
        return hit[1]
    ok = (edges.u >= 0) & (edges.v >= 0)
    ok[ok] = allowed[edges.u[ok]] & allowed[edges.v[ok]]
    every = RoadEdges(edges.lines, edges.u, edges.v, edges.weight, ok, edges.u_xy)
    _EVERY_EDGE[key] = (edges, every)
    while len(_EVERY_EDGE) > 4:
        _EVERY_EDGE.popitem(last=False)
    return every


def add_planned_roads(router: Router, lines: gpd.GeoDataFrame, interchanges: gpd.GeoDataFrame | None = None, *,
                      source: str = "scenario", access_tolerance_m: float = 1000.0, touch_tolerance_m: float = 30.0,
                      interchange_on_line_m: float = 500.0, link_speed_kmh: float = 40.0,
                      interchange_penalty_s: float = 30.0, first_new_id: int = -1,
                      edges: RoadEdges | None = None, edge_label: Callable[[int], str] | None = None,
                      default_speeds: dict | None = None) -> tuple[Router, pd.DataFrame]:
    """Return a new router with the planned roads added, and a report per line.

    Parameters
    ----------
    router : the network before (metric CRS, weights in seconds).
    lines : planned roads (LineString/MultiLineString, same CRS as the router)
        with columns ``name``, ``road_class`` and optionally ``design_speed_kmh``.
    interchanges : points where the roads can be entered. An interchange
        serves the planned line within ``interchange_on_line_m`` of it. A
        controlled-access line with none near it is entered at its ends.
    access_tolerance_m : an interchange, or an end of a line (see the module
        docstring), is joined to the nearest existing road within this
        distance (link length / link speed, + ``interchange_penalty_s`` at
        interchanges).
    edges : the existing edges the new road may join (:class:`geo.routing.access.RoadEdges`
        of the base network; its node indexes are the router's). Without it,
        links go to the nearest node of the largest component.
    edge_label : name of an edge by its position in ``edges`` (e.g. "QL31"), for the report and errors.
    default_speeds : design speed (km/h) by road class for a line that gives no ``design_speed_kmh``
        (the speed model's ``planned_roads`` section, see :func:`layers.networks.planned_road_speeds`);
        without one, such a line is refused.

    The report has one row per line: ``name``, ``road_class``,
    ``design_speed_kmh``, ``length_km``, ``controlled_access``,
    ``access_points``, ``interchanges_used``, ``max_link_m``,
    ``start_snap_m``/``end_snap_m`` (link length of the line's first/last
    point, m; None where it joins nothing), ``start_joins``/``end_joins``
    (what it joins, or why not) and ``access_nodes`` (indexes, in the new
    router, of the line's nodes where it can be entered — e.g. the targets
    "nearest CT.01 interchange"). ``report.attrs["entries"]`` lists every
    entry: ``line``, ``kind`` (interchange / junction), ``x``, ``y``
    (router CRS), ``link_m``, ``road``, ``node``.

    Raises :class:`InputError` (naming ``source``) for a line without a usable
    speed or one that joins no road (with each end's distance to the nearest
    road it may join, and that road).
    """
    if lines.empty:
        raise InputError(source, "contains no planned road")
    pts = interchanges if interchanges is not None else gpd.GeoDataFrame(geometry=[], crs=lines.crs)
    joiner = _Joiner(router, edges, edge_label)
    tol = {"access": float(access_tolerance_m), "touch": float(touch_tolerance_m), "on_line": float(interchange_on_line_m),
           "link_mps": link_speed_kmh / 3.6, "penalty_s": float(interchange_penalty_s)}
    chains = _Chains(router.n, first_new_id)
    rows, all_entries = [], []
    for i, row in enumerate(lines.itertuples(index=False)):
        name = str(getattr(row, "name", None) or f"planned road {i + 1}")
        road_class = str(getattr(row, "road_class", None) or "expressway").strip().lower()
        speed = _speed(getattr(row, "design_speed_kmh", None), road_class, source, name, default_speeds or {})
        controlled = road_class in CONTROLLED_ACCESS
        geom = row.geometry
        if geom is None or geom.is_empty or geom.geom_type not in ("LineString", "MultiLineString"):
            raise InputError(source, f"planned road '{name}' is not a line")
        parts = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        served = pts[pts.distance(geom) <= tol["on_line"]] if len(pts) else pts
        entries, misses, ends = [], [], {}
        for k, part in enumerate(parts):
            _add_part(chains, joiner, part, k, len(parts), served, speed, controlled, tol, entries, misses, ends)
        if not entries:
            raise InputError(source, _joins_nothing(name, road_class, controlled, served, misses, tol["access"]))
        rows.append({"name": name, "road_class": road_class, "design_speed_kmh": speed,
                     "length_km": round(sum(p.length for p in parts) / 1000, 3), "controlled_access": controlled,
                     "access_points": len(entries), "interchanges_used": sum(e.kind == "interchange" for e in entries),
                     "max_link_m": round(max(e.link_m for e in entries), 1),
                     **_end_columns("start", ends.get("start")), **_end_columns("end", ends.get("end")),
                     "access_nodes": [e.node for e in entries]})
        all_entries += [{"line": i, "kind": e.kind, "x": float(e.x), "y": float(e.y), "link_m": round(float(e.link_m), 1),
                         "road": e.road, "node": int(e.node)} for e in entries]
    after = router.add_nodes(np.array(chains.ids, dtype=np.int64), chains.x, chains.y)
    after = after.add_edges(chains.u, chains.v, chains.w, directed=False)
    report = pd.DataFrame(rows)
    report.attrs["entries"] = all_entries
    log.info("scenario %s: %d planned road(s), %.1f km, %d access points", source, len(report),
             report["length_km"].sum(), report["access_points"].sum())
    return after, report


class _Chains:
    """New nodes and edges of the planned roads, appended after the router's ``n`` nodes."""

    def __init__(self, n: int, first_id: int):
        self.next_index, self.next_id = n, first_id
        self.ids, self.x, self.y, self.u, self.v, self.w = [], [], [], [], [], []

    def chain(self, coords: np.ndarray, seconds: np.ndarray) -> list[int]:
        idx = list(range(self.next_index, self.next_index + len(coords)))
        self.ids.extend(range(self.next_id, self.next_id - len(coords), -1))
        self.next_id -= len(coords)
        self.next_index += len(coords)
        self.x.extend(coords[:, 0])
        self.y.extend(coords[:, 1])
        self.u.extend(idx[:-1])
        self.v.extend(idx[1:])
        self.w.extend(seconds)
        return idx

    def link(self, node: int, ends, cost: float) -> None:
        for end, extra in ends:
            self.u.append(node)
            self.v.append(int(end))
            self.w.append(cost + extra)


def _add_part(chains: _Chains, joiner: _Joiner, part, k: int, n_parts: int, served, speed: float, controlled: bool,
              tol: dict, entries: list, misses: list, ends: dict) -> None:
    """One part of a planned line: its chain of nodes, its interchanges, junctions and ends (appended to the lists)."""
    near = served.geometry[served.distance(part) <= tol["on_line"]] if len(served) else served.geometry
    at_exits = part.project(near) if len(near) else np.empty(0)
    crossings = np.empty(0) if (controlled or joiner.edges is None) else joiner.edges.crossings(part)
    chain = np.unique(np.r_[shapely.line_locate_point(part, shapely.points(np.asarray(part.coords)[:, :2])),
                            at_exits, crossings])
    at_interchange = np.isin(chain, at_exits)
    coords = np.array([part.interpolate(d).coords[0][:2] for d in chain])
    ids = chains.chain(coords, np.diff(chain) / (speed / 3.6))
    # Interchanges always; other classes also where a vertex or crossing touches a road.
    candidates = np.flatnonzero(at_interchange) if controlled else np.arange(len(chain))
    joined = {}
    if candidates.size:
        tolerance = np.where(at_interchange[candidates], tol["access"], tol["touch"])
        for j, link_u, link_v, d, road in joiner.links(coords[candidates], tolerance):
            c = candidates[j]
            kind = "interchange" if at_interchange[c] else "junction"
            chains.link(ids[c], (link_u, link_v), d / tol["link_mps"] + (tol["penalty_s"] if kind == "interchange" else 0.0))
            joined[c] = _Entry(ids[c], kind, d, road, *coords[c], int(c), k)
    for j in np.flatnonzero(at_interchange & ~np.isin(np.arange(len(chain)), list(joined))):
        d, road = joiner.nearest_suitable(*coords[j])
        misses.append(_Miss(f"interchange at {chain[j]:,.0f} m along the line", d, road))
    # Ends: an ordinary road's free end joins the nearest road; a controlled road with no interchange is entered at its ends.
    for which, c in (("start", 0), ("end", len(chain) - 1)):
        if c not in joined and (not controlled or len(served) == 0):
            found = joiner.end_link(*coords[c], tol["access"])
            if len(found) == 5:
                link_u, link_v, d, road, on_controlled = found
                kind = "interchange" if (controlled or on_controlled) else "junction"
                chains.link(ids[c], (link_u, link_v), d / tol["link_mps"] + (tol["penalty_s"] if kind == "interchange" else 0.0))
                joined[c] = _Entry(ids[c], kind, d, road if not on_controlled else f"{road} (new interchange on it)",
                                   *coords[c], int(c), k)
            else:
                misses.append(_Miss(which, *found))
        if (which == "start" and k == 0) or (which == "end" and k == n_parts - 1):
            ends[which] = joined.get(c) or next((m for m in reversed(misses) if m.what == which), None) or \
                ("at no interchange" if controlled else "not joined")
    entries.extend(joined[c] for c in sorted(joined))


def _end_columns(which: str, end) -> dict:
    """``<which>_snap_m`` and ``<which>_joins`` of the report: what the line's first/last point joins."""
    if isinstance(end, _Entry):
        return {f"{which}_snap_m": round(float(end.link_m), 1), f"{which}_joins": f"{end.kind}: link of {end.link_m:,.0f} m to {end.road}"}
    if isinstance(end, _Miss):
        return {f"{which}_snap_m": None,
                f"{which}_joins": f"nothing: nearest road it may join is {end.road}, {end.distance_m:,.0f} m away"}
    return {f"{which}_snap_m": None, f"{which}_joins": "nothing: the road is entered at its interchanges" if end == "at no interchange"
            else "nothing"}


def _joins_nothing(name: str, road_class: str, controlled: bool, served, misses: list, tolerance_m: float) -> str:
    """The error for a line that joins no road: each end's (or interchange's) distance to the nearest road it may join."""
    what = f"planned {road_class} '{name}'" if controlled else f"planned road '{name}'"
    detail = "; ".join(f"{m.what}: {m.distance_m:,.0f} m from {m.road}" if np.isfinite(m.distance_m) else f"{m.what}: no road at all"
                       for m in misses) or "no end or interchange to join"
    entered = f"its {len(served)} interchange(s)" if (controlled and len(served)) else "its ends"
    return (f"{what} touches no road: {entered} lie farther than the tolerance of {tolerance_m:,.0f} m from the nearest "
            f"road a link may join ({detail}); move them closer or raise access_tolerance_m")


def _speed(value, road_class: str, source: str, name: str, defaults: dict) -> float:
    try:
        speed = float(value) if value is not None and str(value).strip() != "" else np.nan
    except (TypeError, ValueError):
        raise InputError(source, f"planned road '{name}': design_speed_kmh '{value}' is not a number") from None
    if np.isnan(speed):
        speed = float(defaults.get(road_class, np.nan))
    if not (5 <= speed <= 130):
        raise InputError(source, f"planned road '{name}': no usable design speed (class '{road_class}', value {value!r}; give design_speed_kmh 5–130)")
    return speed


def compare(before: pd.DataFrame, after: pd.DataFrame, keys: list[str], value_columns: list[str]) -> pd.DataFrame:
    """Before / after / change table for any result computed twice.

    For each value column ``c`` the output has ``c_before``, ``c_after`` and
    ``c_change`` (after − before; NaN stays NaN).

    >>> b = pd.DataFrame({"park": ["A", "B"], "minutes": [30.0, float("nan")]})
    >>> a = pd.DataFrame({"park": ["A", "B"], "minutes": [20.0, 15.0]})
    >>> compare(b, a, ["park"], ["minutes"]).values.tolist()
    [['A', 30.0, 20.0, -10.0], ['B', nan, 15.0, nan]]
    """
    merged = before[keys + value_columns].merge(after[keys + value_columns], on=keys, suffixes=("_before", "_after"))
    out = merged[keys].copy()
    for c in value_columns:
        out[f"{c}_before"] = merged[f"{c}_before"]
        out[f"{c}_after"] = merged[f"{c}_after"]
        out[f"{c}_change"] = merged[f"{c}_after"] - merged[f"{c}_before"]
    return out
