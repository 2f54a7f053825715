"""The railway graph (OSM 2018 lines, split at shared vertices) with the stations put on the track, and road + rail
in one graph (rail entered only at stations through transfer edges, :func:`geo.routing.multimodal.multimodal_edges`).

Rail network columns
--------------------
nodes : ``node_id``, ``x``, ``y`` (metres), ``lon``, ``lat``, ``component``,
    ``station_name``, ``station_name_en``, ``station_osm_id``,
    ``station_snap_m`` (station point → track, m; NaN at other nodes), geometry.
edges : ``edge_id``, ``u``, ``v``, ``length_m``, ``speed_kmh``,
    ``travel_time_s``, ``speed_source``, ``name`` (line name where known),
    ``osm_id``, ``component``, geometry. Undirected.
"""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.io.vector import read_vector
from geo.routing.multimodal import insert_points, multimodal_edges
from geo.routing.network import component_labels, components_report, lines_to_network
from geo.routing.speeds import SpeedModel, travel_time_s
from geo.text import nfc
from layers.logistics import railways, stations
from layers.networks.options import speed_model
from layers.networks.roads import _objects, road_network
from layers.region import Region

log = logging.getLogger(__name__)


RAIL_NODE_COLUMNS = ["node_id", "x", "y", "lon", "lat", "component", "station_name", "station_name_en",
                     "station_osm_id", "station_snap_m"]


RAIL_EDGE_COLUMNS = ["edge_id", "u", "v", "length_m", "speed_kmh", "travel_time_s", "speed_source", "name", "osm_id",
                     "component"]


def rail_network(region: Region, *, model: SpeedModel | None = None, extent: str = "file",
                 station_points: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Railway graph with stations on the track (columns in the module docstring).

    Parameters
    ----------
    extent : ``"file"`` (default) — every line of ``railways.lines_file`` (OSM
        2018, the extent of the road network file: for Bắc Giang bbox03, which
        reaches Đồng Đăng), named from :func:`layers.logistics.railways` where
        the lines are in the region window; ``"window"`` — only
        :func:`layers.logistics.railways` (the region buffered by 30 km: Đồng
        Đăng, at 21.943 N, is outside it).
    station_points : stations to put on the track instead of
        ``railways.stations_file`` (GeoDataFrame of points with ``name``).

    Stations within ``rail.station_snap_m`` (model) of the track become nodes
    (the track is split there); the others are listed in
    ``attrs["summary"]["stations_not_attached"]``. Edge speed = ``rail.speed_kmh``.
    """
    started = time.perf_counter()
    model = model or speed_model(region)
    rail_cfg = model.raw.get("rail") or {}
    if "speed_kmh" not in rail_cfg or not str(rail_cfg.get("basis") or "").strip():
        raise InputError(model.source, "rail section needs speed_kmh and its basis (source or stated assumption)")
    speed = float(rail_cfg["speed_kmh"])
    snap_m = float(rail_cfg.get("station_snap_m", 200))
    crs = region.metric_crs
    if extent not in ("file", "window"):
        raise InputError(None, f"rail extent must be 'file' or 'window', not '{extent}'")

    named = railways(region)
    if extent == "window":
        lines = named
    else:
        lines_path = region.path("railways", "lines_file")
        lines = read_vector(lines_path).to_crs("EPSG:4326")
        name_of = {}
        for oid, nm in zip(named["osm_id"], named["name"]):
            if isinstance(nm, str):
                name_of.setdefault(str(oid), nm)
        ids = lines["osm_id"].astype(str) if "osm_id" in lines else pd.Series([None] * len(lines))
        lines = gpd.GeoDataFrame({"osm_id": ids.to_numpy(), "name": pd.Series([name_of.get(i) for i in ids], dtype=object)},
                                 geometry=lines.geometry.values, crs="EPSG:4326")
    lines = gpd.GeoDataFrame({"osm_id": lines["osm_id"].astype(str).to_numpy(),
                              "name": pd.Series(list(lines["name"]), dtype=object)},
                             geometry=lines.geometry.values, crs="EPSG:4326")
    nodes, edges = lines_to_network(lines)

    points = station_points if station_points is not None else _station_points(region, extent)
    nodes, edges, attached = insert_points(nodes, edges, points, snap_m, crs=crs)
    xy = nodes.geometry.to_crs(crs)
    nodes["x"], nodes["y"] = xy.x.to_numpy(), xy.y.to_numpy()
    nodes["lon"], nodes["lat"] = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()

    ok = attached[attached["node_id"].notna()]
    first = ok.loc[~ok["node_id"].duplicated()]
    info = points.loc[first.index]
    by_node = pd.DataFrame({
        "station_name": pd.Series(list(first["name"]), dtype=object).to_numpy(),
        "station_name_en": pd.Series(list(info["name_en"]) if "name_en" in info else [None] * len(info), dtype=object).to_numpy(),
        "station_osm_id": pd.Series(list(info["osm_id"].astype(str)) if "osm_id" in info else [None] * len(info), dtype=object).to_numpy(),
        "station_snap_m": first["distance_m"].to_numpy(float),
    }, index=first["node_id"].astype(np.int64).to_numpy())
    for col in by_node.columns:
        values = by_node[col].reindex(nodes["node_id"].to_numpy())
        nodes[col] = values.to_numpy(float) if col == "station_snap_m" else _objects(values, nodes.index)
    edges["name"] = _objects(edges["name"], edges.index)

    edges["speed_kmh"] = speed
    edges["travel_time_s"] = travel_time_s(edges["length_m"].to_numpy(float), speed)
    edges["speed_source"] = f"rail {speed:g} km/h ({str(rail_cfg['basis']).strip()})"
    labels = component_labels(nodes, edges)
    report = components_report(nodes, edges)
    nodes["component"] = labels.reindex(nodes["node_id"].to_numpy()).to_numpy()
    edges["component"] = labels.reindex(edges["u"].to_numpy()).to_numpy()
    edges = gpd.GeoDataFrame(edges[RAIL_EDGE_COLUMNS + [edges.geometry.name]], geometry=edges.geometry.name, crs="EPSG:4326")
    nodes = gpd.GeoDataFrame(nodes[RAIL_NODE_COLUMNS + [nodes.geometry.name]], geometry=nodes.geometry.name, crs="EPSG:4326")

    bad = attached[attached["node_id"].isna()]
    shared = ok.loc[ok["node_id"].duplicated(keep=False)]
    summary = {
        "source": "OSM 2018 railway lines" + (" (whole file)" if extent == "file" else " (region window)"),
        "speed_model": str(model.source),
        "extent": extent,
        "nodes": int(len(nodes)), "edges": int(len(edges)),
        "track_km": round(float(edges["length_m"].sum()) / 1000, 1),
        "components": int(len(report)),
        "largest_share": round(float(report["share"].iloc[0]), 4) if len(report) else None,
        "speed_kmh": speed, "speed_basis": str(rail_cfg["basis"]).strip(),
        "station_snap_m": snap_m,
        "stations_attached": int(len(ok)),
        "stations_attached_on_shared_node": sorted({str(n) for n in shared["name"]}),
        "station_snap_m_max": round(float(ok["distance_m"].max()), 1) if len(ok) else None,
        "stations_not_attached": [{"name": n, "reason": r} for n, r in zip(bad["name"], bad["reason"])],
        "seconds": round(time.perf_counter() - started, 2),
    }
    edges.attrs["summary"] = summary
    nodes.attrs["summary"] = summary
    return nodes, edges


def _metric_xy(nodes: pd.DataFrame, crs) -> dict:
    """``x``, ``y`` (metres) of road nodes: as :func:`road_network` gave them, and from the geometry for the
    nodes added since (stations put on a road)."""
    x = nodes["x"].to_numpy(float).copy() if "x" in nodes else np.full(len(nodes), np.nan)
    y = nodes["y"].to_numpy(float).copy() if "y" in nodes else np.full(len(nodes), np.nan)
    todo = np.isnan(x) | np.isnan(y)
    if todo.any():
        xy = nodes.geometry[todo].to_crs(crs)
        x[todo], y[todo] = xy.x.to_numpy(), xy.y.to_numpy()
    return {"x": x, "y": y}


def _station_points(region: Region, extent: str) -> gpd.GeoDataFrame:
    if extent == "window":
        pts = stations(region)
        return pts.loc[pts["kind"].str.startswith("rail")].reset_index(drop=True)
    path = region.path("railways", "stations_file")
    raw = read_vector(path).to_crs("EPSG:4326")
    if "railway" in raw:
        raw = raw.loc[raw["railway"].isin(["station", "halt"])]
    return gpd.GeoDataFrame({
        "name": pd.Series([nfc(n) if isinstance(n, str) else None for n in raw["name"]] if "name" in raw else [None] * len(raw), dtype=object),
        "name_en": pd.Series(list(raw["name:en"]) if "name:en" in raw else [None] * len(raw), dtype=object),
        "osm_id": pd.Series(list(raw["osm_id"].astype(str)) if "osm_id" in raw else [None] * len(raw), dtype=object),
    }, geometry=raw.geometry.values, crs="EPSG:4326")


def multimodal_network(region: Region, road: tuple | None = None, rail: tuple | None = None,
                       model: SpeedModel | None = None, *, road_lines=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Road and rail joined at stations (:func:`geo.routing.multimodal.multimodal_edges`).

    ``road`` / ``rail`` are ``(nodes, edges)`` from :func:`road_network` /
    :func:`rail_network` (built when not given). Transfer time, access speed
    and distance come from the model's ``transfer`` section. Each station is
    first put onto the nearest road edge (within ``max_access_m``; the edge is
    split there, see :func:`geo.routing.multimodal.insert_points`; undirected road
    graphs only), because in the
    2018 network a road may pass a station tens of metres away with its
    nearest node more than a kilometre off (Phố Tráng: 34 m from a road,
    1.3 km from a node). Returns plain DataFrames (``mode`` road / rail /
    transfer; x, y in metres); road node ids are kept (split road edges get
    new edge ids), rail node ids are offset (``attrs["summary"]["offsets"]``). ``road_lines``: the road edges'
    lines in the region's metric CRS when the caller has them (:attr:`layers.networks.Networks.road_lines`).
    """
    model = model or speed_model(region)
    cfg = model.raw.get("transfer") or {}
    if "transfer_min" not in cfg or not str(cfg.get("basis") or "").strip():
        raise InputError(model.source, "transfer section needs transfer_min and its basis (source or stated assumption)")
    max_access_m = float(cfg.get("max_access_m", 2000))
    road_nodes, road_edges = road if road is not None else road_network(region, model=model)
    rail_nodes, rail_edges = rail if rail is not None else rail_network(region, model=model)
    directed = bool((road_edges.attrs.get("summary") or {}).get("directed", False))
    at_station = rail_nodes["station_name"].notna().to_numpy()
    names = pd.Series(list(rail_nodes.loc[at_station, "station_name"]), dtype=object)
    on_road = None
    if not directed:      # a directed (OSM) graph has two rows per two-way road: splitting one would strand the node
        points = gpd.GeoDataFrame({"name": names}, geometry=rail_nodes.geometry.values[at_station], crs=rail_nodes.crs)
        road_nodes, road_edges, on_road = insert_points(road_nodes, road_edges, points, max_access_m, crs=region.metric_crs,
                                                        metric_lines=road_lines)
        road_nodes = road_nodes.assign(**_metric_xy(road_nodes, region.metric_crs))
    station_table = pd.DataFrame({"node_id": rail_nodes.loc[at_station, "node_id"].to_numpy(), "name": names})
    nodes, edges = multimodal_edges(road_nodes, road_edges, rail_nodes, rail_edges, station_table,
                                    transfer_min=float(cfg["transfer_min"]), access_kmh=float(cfg.get("access_kmh", 10)),
                                    max_access_m=max_access_m, directed=directed)
    summary = edges.attrs["summary"]
    summary["transfer_basis"] = str(cfg["basis"]).strip()
    summary["stations_put_on_roads"] = None if on_road is None else int(on_road["node_id"].notna().sum())
    summary["road_edges_split"] = int(road_edges["split_from"].notna().sum()) if "split_from" in road_edges else 0
    if on_road is None:
        summary["note"] = "directed road graph: stations are linked to the nearest existing road node"
    nodes.attrs["summary"] = summary
    return nodes, edges
