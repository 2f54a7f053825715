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
"""

from __future__ import annotations

import logging

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

#: Default design speeds (km/h) by class when a line file gives none:
#: expressway 100 (design speed of the Bắc Giang–Lạng Sơn expressway, VnExpress
#: 2019-08-25); others are assumptions matching the speed model's rural values.
DEFAULT_DESIGN_SPEED_KMH = {"expressway": 100.0, "motorway": 100.0, "national": 60.0, "provincial": 50.0}


def add_planned_roads(router: Router, lines: gpd.GeoDataFrame, interchanges: gpd.GeoDataFrame | None = None, *,
                      source: str = "scenario", access_tolerance_m: float = 1000.0, touch_tolerance_m: float = 30.0,
                      interchange_on_line_m: float = 500.0, link_speed_kmh: float = 40.0,
                      interchange_penalty_s: float = 30.0, first_new_id: int = -1,
                      edges: RoadEdges | None = None) -> tuple[Router, pd.DataFrame]:
    """Return a new router with the planned roads added, and a report per line.

    Parameters
    ----------
    router : the network before (metric CRS, weights in seconds).
    lines : planned roads (LineString/MultiLineString, same CRS as the router)
        with columns ``name``, ``road_class`` and optionally ``design_speed_kmh``.
    interchanges : points where the roads can be entered (required for
        controlled-access classes). An interchange serves the planned line
        within ``interchange_on_line_m`` of it.
    access_tolerance_m : an interchange is joined to the nearest existing
        road within this distance (link length / link speed +
        ``interchange_penalty_s``).
    edges : the existing edges the new road may join (:class:`geo.routing.access.RoadEdges`
        of the base network; its node indexes are the router's). Without it,
        links go to the nearest node of the largest component.

    The report has one row per line: ``name``, ``road_class``,
    ``design_speed_kmh``, ``length_km``, ``controlled_access``,
    ``access_points``, ``interchanges_used``, ``max_link_m`` and
    ``access_nodes`` (indexes, in the new router, of the line's nodes where it
    can be entered — e.g. the targets "nearest CT.01 interchange").

    Raises :class:`InputError` (naming ``source``) for a line without a usable
    speed, a controlled-access line without interchanges, or a line that
    touches no road and has no interchange near a road.
    """
    if lines.empty:
        raise InputError(source, "contains no planned road")
    pts = interchanges if interchanges is not None else gpd.GeoDataFrame(geometry=[], crs=lines.crs)
    allowed = router.largest_component()
    new_ids: list[int] = []
    new_x: list[float] = []
    new_y: list[float] = []
    edges_u: list[int] = []
    edges_v: list[int] = []
    edges_w: list[float] = []
    next_id = first_new_id
    next_index = router.n
    rows = []
    for i, row in enumerate(lines.itertuples(index=False)):
        name = str(getattr(row, "name", None) or f"planned road {i + 1}")
        road_class = str(getattr(row, "road_class", None) or "expressway").strip().lower()
        speed = _speed(getattr(row, "design_speed_kmh", None), road_class, source, name)
        controlled = road_class in CONTROLLED_ACCESS
        geom = row.geometry
        if geom is None or geom.is_empty or geom.geom_type not in ("LineString", "MultiLineString"):
            raise InputError(source, f"planned road '{name}' is not a line")
        parts = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        length_m = 0.0
        entries = []
        for part in parts:
            # Positions along the part: its vertices, the interchanges that serve it and (other classes) crossings.
            near = pts.geometry[pts.distance(part) <= interchange_on_line_m] if len(pts) else pts.geometry
            at_exits = part.project(near) if len(near) else np.empty(0)
            crossings = np.empty(0) if (controlled or edges is None) else edges.crossings(part)
            chain = np.unique(np.r_[shapely.line_locate_point(part, shapely.points(np.asarray(part.coords)[:, :2])),
                                    at_exits, crossings])
            at_interchange = np.isin(chain, at_exits)
            coords = np.array([part.interpolate(d).coords[0][:2] for d in chain])
            ids = list(range(next_index, next_index + len(chain)))
            new_ids.extend(range(next_id, next_id - len(chain), -1))
            next_id -= len(chain)
            next_index += len(chain)
            new_x.extend(coords[:, 0])
            new_y.extend(coords[:, 1])
            edges_u.extend(ids[:-1])
            edges_v.extend(ids[1:])
            edges_w.extend(np.diff(chain) / (speed / 3.6))
            length_m += float(part.length)
            # Access: interchanges always; other classes also where a vertex or crossing touches a road.
            candidates = np.flatnonzero(at_interchange) if controlled else np.arange(len(chain))
            if candidates.size:
                tol = np.where(at_interchange[candidates], access_tolerance_m, touch_tolerance_m)
                for k, link_u, link_v, d in _links(router, edges, coords[candidates], tol, allowed):
                    cost = d / (link_speed_kmh / 3.6) + (interchange_penalty_s if at_interchange[candidates[k]] else 0.0)
                    for end, extra in (link_u, link_v):
                        edges_u.append(ids[candidates[k]])
                        edges_v.append(int(end))
                        edges_w.append(cost + extra)
                    entries.append((float(d), bool(at_interchange[candidates[k]]), ids[candidates[k]]))
        if controlled and not len(pts):
            raise InputError(source, f"planned {road_class} '{name}' has no interchange points: it could never be entered")
        if not entries:
            raise InputError(source, f"planned road '{name}' touches no road and has no interchange within {access_tolerance_m:g} m of one")
        rows.append({"name": name, "road_class": road_class, "design_speed_kmh": speed, "length_km": round(length_m / 1000, 3),
                     "controlled_access": controlled, "access_points": len(entries),
                     "interchanges_used": sum(1 for _, inter, _ in entries if inter),
                     "max_link_m": round(max(d for d, _, _ in entries), 1),
                     "access_nodes": [node for _, _, node in entries]})
    after = router.add_nodes(np.array(new_ids, dtype=np.int64), new_x, new_y)
    after = after.add_edges(edges_u, edges_v, edges_w, directed=False)
    report = pd.DataFrame(rows)
    log.info("scenario %s: %d planned road(s), %.1f km, %d access points", source, len(report),
             report["length_km"].sum(), report["access_points"].sum())
    return after, report


def _links(router: Router, edges: RoadEdges | None, xy: np.ndarray, tolerance_m: np.ndarray, allowed: np.ndarray):
    """Where each point joins the existing roads: ``(k, (u, extra_s), (v, extra_s), distance_m)``.

    With ``edges`` the point joins the nearest point of its nearest suitable edge (split there: the
    extra seconds are the shares of the edge's travel time to each end); else its nearest node.
    """
    if edges is not None:
        pos, dist, share = edges.nearest(xy[:, 0], xy[:, 1], float(np.max(tolerance_m)))
        ok = (pos >= 0) & (dist <= tolerance_m)
        to_u, to_v = edges.split_times(pos[ok], share[ok])
        for k, p, tu, tv, d in zip(np.flatnonzero(ok), pos[ok], to_u, to_v, dist[ok]):
            yield int(k), (edges.u[p], float(tu)), (edges.v[p], float(tv)), float(d)
        return
    node, dist = router.snap(xy[:, 0], xy[:, 1], float(np.max(tolerance_m)), within=allowed)
    ok = (node >= 0) & (dist <= tolerance_m)
    for k, n_idx, d in zip(np.flatnonzero(ok), node[ok], dist[ok]):
        yield int(k), (int(n_idx), 0.0), (int(n_idx), 0.0), float(d)


def _speed(value, road_class: str, source: str, name: str) -> float:
    try:
        speed = float(value) if value is not None and str(value).strip() != "" else np.nan
    except (TypeError, ValueError):
        raise InputError(source, f"planned road '{name}': design_speed_kmh '{value}' is not a number") from None
    if np.isnan(speed):
        speed = DEFAULT_DESIGN_SPEED_KMH.get(road_class, np.nan)
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
