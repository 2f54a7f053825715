"""Today's network: the roads opened since 2018 (read by :mod:`layers.opened_roads`) appended to the 2018 road graph,
entered at their interchanges."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from scipy.spatial import cKDTree

from geo.errors import InputError
from geo.routing.roadref import match_corridor
from geo.routing.speeds import SpeedModel
from layers.opened_roads import addition_files, read_opened_roads
from layers.region import Region
from layers.shared import road_file_metric

log = logging.getLogger(__name__)


def _add_opened_roads(region: Region, nodes, edges, model: SpeedModel):
    """Today's network: the roads of ``today_network.additions`` appended as edges (see :func:`read_opened_roads`)."""
    from geo.routing.scenario import CONTROLLED_ACCESS

    added = []
    link_max_m = float((model.raw.get("network") or {}).get("interchange_link_max_m", 1000.0))
    on_line_m = float(model.raw.get("interchange_snap_m", 300.0))
    crs = region.metric_crs
    for path in addition_files(region):
        lines, points = read_opened_roads(path)
        m_lines = lines.to_crs(crs)
        m_points = points.to_crs(crs).geometry if len(points) else gpd.GeoSeries([], crs=crs)
        base = road_file_metric(region, nodes.geometry)          # the file's nodes are not reprojected again
        base_xy = np.column_stack([shapely.get_x(base), shapely.get_y(base)])
        tree = cKDTree(base_xy)
        base_ids = nodes["node_id"].to_numpy()
        next_node = int(max(nodes["node_id"].max(), 0)) + 1
        next_edge = int(edges["edge_id"].max()) + 1
        new_nodes, new_edges = [], []
        for line, row in zip(m_lines.geometry, lines.itertuples(index=False)):
            road_class = str(row.road_class)
            controlled = road_class in CONTROLLED_ACCESS
            cid = match_corridor(getattr(row, "ref", None), row.name, region.corridors)
            how = f"added road '{row.name}' ({path.name}: opened {row.opened}, alignment {row.alignment})"
            entries = 0
            for part in getattr(line, "geoms", [line]):
                near = m_points[m_points.distance(part) <= on_line_m] if len(m_points) else m_points
                exits_at = [part.project(p) for p in near]
                at, is_exit = _stations_along(np.r_[[part.project(shapely.Point(c)) for c in part.coords], exits_at], exits_at)
                pts = [part.interpolate(d) for d in at]
                ids = list(range(next_node, next_node + len(pts)))
                next_node += len(pts)
                new_nodes += [(i, p) for i, p in zip(ids, pts)]
                for a, b, i, j in zip(at[:-1], at[1:], ids[:-1], ids[1:]):
                    new_edges.append((next_edge, i, j, b - a, road_class, False, how, cid,
                                      shapely.ops.substring(part, a, b)))
                    next_edge += 1
                candidates = np.flatnonzero(is_exit) if controlled else np.arange(len(pts))
                for k in candidates:
                    dist, hit = tree.query([pts[k].x, pts[k].y])
                    if dist > (link_max_m if is_exit[k] else 30.0) or not np.isfinite(dist):
                        continue
                    target = base_xy[int(hit)]
                    new_edges.append((next_edge, ids[k], base_ids[int(hit)], max(float(dist), 1.0), road_class, True,
                                      f"{how}: interchange link {dist:.0f} m", cid,
                                      shapely.LineString([(pts[k].x, pts[k].y), (target[0], target[1])])))
                    next_edge += 1
                    entries += 1
            official = pd.to_numeric(pd.Series([getattr(row, "official_length_km", None)]), errors="coerce").iloc[0]
            scale = 1.0
            if np.isfinite(official) and official * 1000 > line.length:
                scale = official * 1000 / line.length
                mine = [k for k, e in enumerate(new_edges) if e[6] == how]
                for k in mine:
                    e = new_edges[k]
                    new_edges[k] = (*e[:3], e[3] * scale, *e[4:6], f"{how}; length scaled ×{scale:.2f} to the official {official:g} km", *e[7:])
            if entries == 0:
                raise InputError(path, f"road '{row.name}' has no interchange within {link_max_m:g} m of the network: it could never be entered")
            added.append({"name": str(row.name), "file": path.name, "road_class": road_class, "corridor_id": cid,
                          "opened": str(row.opened), "alignment": str(row.alignment), "source": str(row.source),
                          "length_km": round(float(line.length) * scale / 1000, 1), "drawn_km": round(float(line.length) / 1000, 1),
                          "entries": entries})
        if not new_edges:
            continue
        add_nodes = gpd.GeoDataFrame({"node_id": [i for i, _ in new_nodes]},
                                     geometry=gpd.GeoSeries([p for _, p in new_nodes], crs=crs).to_crs("EPSG:4326").values,
                                     crs="EPSG:4326")
        cols = ["edge_id", "u", "v", "length_m", "road_class", "link", "class_source", "corridor_id", "geometry"]
        frame = pd.DataFrame([e[:8] for e in new_edges], columns=cols[:-1])
        add_edges = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([e[8] for e in new_edges], crs=crs).to_crs("EPSG:4326").values,
                                     crs="EPSG:4326")
        add_edges["oneway"] = False
        add_edges["maxspeed"] = posted_limits(add_edges["corridor_id"], region.corridors, add_edges.index)
        for col in edges.columns:
            if col not in add_edges:
                add_edges[col] = None
        nodes = gpd.GeoDataFrame(pd.concat([nodes, add_nodes[nodes.columns]], ignore_index=True), geometry=nodes.geometry.name,
                                 crs="EPSG:4326")
        edges = gpd.GeoDataFrame(pd.concat([edges, add_edges[edges.columns]], ignore_index=True), geometry=edges.geometry.name,
                                 crs="EPSG:4326")
    return nodes, edges, added


def _stations_along(at, exits_at, min_gap_m: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positions along a line (metres) with those closer than ``min_gap_m`` to the previous one merged (no
    zero-length edges where an interchange projects onto a vertex), and which of them are exits.

    >>> at, exit_ = _stations_along(np.array([0.0, 100.0, 100.0000001, 250.0]), [100.0000001])
    >>> at.tolist(), exit_.tolist()
    ([0.0, 100.0, 250.0], [False, True, False])
    """
    at = np.unique(np.asarray(at, dtype=float))
    keep = [0]
    for k in range(1, len(at)):
        if at[k] - at[keep[-1]] >= min_gap_m:
            keep.append(k)
    kept = at[keep]
    is_exit = np.zeros(len(kept), bool)
    for e in exits_at:
        is_exit[int(np.argmin(np.abs(kept - e)))] = True
    return kept, is_exit


def posted_limits(corridor_ids, specs: dict, index) -> pd.Series:
    """Posted speed limit (km/h text, as OSM ``maxspeed``) of each edge from its corridor's ``maxspeed`` in the
    region file (each with ``maxspeed_source``); the lowest where two corridors share an edge; None elsewhere."""
    limits = {cid: float(spec["maxspeed"]) for cid, spec in specs.items() if spec.get("maxspeed") is not None}
    out = []
    for ids in corridor_ids:
        values = [limits[c] for c in (ids.split(";") if isinstance(ids, str) else []) if c in limits]
        out.append(f"{min(values):g}" if values else None)
    return pd.Series(out, index=index, dtype=object)
