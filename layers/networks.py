"""Routable networks of a region: roads with speeds, rail with stations, both joined.

:func:`road_network` — the road graph with a speed and a travel time on every
edge, from the region's ``road_network`` file (OSM 2018 rebuild, no
attributes, undirected) labelled with the corridors of
:func:`layers.corridors.corridors`, or from OSM (:func:`geo.osm.read_osm_roads`)
when ``osm`` is given. Speeds come from the region's speed model
(``speed_model:`` key of the region YAML, default
``layers/regions/models/speeds-vn.yaml``), never from code.

:func:`rail_network` — the railway graph (OSM 2018 lines, split at shared
vertices) with the stations put on the track, and a configured average speed.

:func:`multimodal_network` — both in one graph, rail entered only at stations
through transfer edges (:func:`geo.multimodal.multimodal_edges`).

Road network columns
--------------------
nodes : ``node_id``, ``x``, ``y`` (metres, EPSG:32648 — not degrees), ``lon``,
    ``lat`` (degrees), ``component`` (0 = largest by length), ``degree``,
    geometry (Point, EPSG:4326).
edges : ``edge_id``, ``u``, ``v``, ``length_m``, ``road_class`` (class of the
    speed model: expressway, national, provincial, district, commune, local,
    service, track, unknown), ``setting`` (urban / rural), ``speed_kmh``,
    ``travel_time_s``, ``oneway`` (bool; False for the 2018 file, which lost
    one-way information), ``corridor_id`` (``ql1a`` …, ids joined with ";",
    None when not on a corridor), ``speed_source`` (where the speed comes
    from), ``component``; from OSM also ``highway``, ``ref``, ``name``,
    ``maxspeed``; from the 2018 file ``in_province``; geometry (LineString,
    EPSG:4326). OSM graphs are directed as osmnx gives them (a two-way road
    is two rows u→v and v→u); the 2018 graph is undirected (one row per edge).

Rail network columns
--------------------
nodes : ``node_id``, ``x``, ``y`` (metres), ``lon``, ``lat``, ``component``,
    ``station_name``, ``station_name_en``, ``station_osm_id``,
    ``station_snap_m`` (station point → track, m; NaN at other nodes), geometry.
edges : ``edge_id``, ``u``, ``v``, ``length_m``, ``speed_kmh``,
    ``travel_time_s``, ``speed_source``, ``name`` (line name where known),
    ``osm_id``, ``component``, geometry. Undirected.

``edges.attrs["summary"]`` (also on ``nodes``) holds the facts: sizes,
connected components and what was dropped, km by class and setting, the speed
table, the caveats of the data. Building the 2018 road network takes about
5 s (half of it the corridor map-matching).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from scipy.spatial import cKDTree

from geo.errors import InputError
from geo.matching import prepare_network
from geo.multimodal import insert_points, multimodal_edges
from geo.network import component_labels, components_report, lines_to_network, read_line_network
from geo.osm import read_osm_roads
from geo.roadref import match_corridor
from geo.speeds import SpeedModel, classify_unattributed, edge_speeds, load_speed_model, travel_time_s, urban_setting
from geo.text import nfc
from geo.vector import read_vector
from layers.boundaries import region_window
from layers.corridors import corridor_edges, corridors
from layers.logistics import railways, stations
from layers.opened_roads import ADDITION_COLUMNS, read_opened_roads  # noqa: F401 (re-exported)
from layers.opened_roads import addition_files as _addition_files
from layers.opened_roads import shipped_files as _shipped_files
from layers.region import REGIONS_DIR, Region
from layers.road_classes import overlay_labels, read_overlay, reference_overlay

log = logging.getLogger(__name__)

#: Speed model used when the region has no ``speed_model`` key.
DEFAULT_SPEED_MODEL = REGIONS_DIR / "models" / "speeds-vn.yaml"

ROAD_NODE_COLUMNS = ["node_id", "x", "y", "lon", "lat", "component", "degree"]
ROAD_EDGE_COLUMNS = ["edge_id", "u", "v", "length_m", "road_class", "setting", "speed_kmh", "travel_time_s", "oneway",
                     "corridor_id", "speed_source", "component"]
RAIL_NODE_COLUMNS = ["node_id", "x", "y", "lon", "lat", "component", "station_name", "station_name_en",
                     "station_osm_id", "station_snap_m"]
RAIL_EDGE_COLUMNS = ["edge_id", "u", "v", "length_m", "speed_kmh", "travel_time_s", "speed_source", "name", "osm_id",
                     "component"]

CAVEAT_2018 = ("The 2018 road network has no road classes, names or one-way information: only edges map-matched to a "
               "corridor (QL1A, QL37 …) get that corridor's class and speed; every other edge gets the default class "
               "'{default}' ({rural:g} km/h rural, {urban:g} km/h urban: an assumption, class unknown). Provincial and "
               "district roads are therefore too slow and town streets too fast in this model. Edges are undirected.")


#: Networks a planner can choose: the network as it is today (the 2018 file plus the roads opened
#: since, named in the region's ``today_network.additions``) or the bare 2018 file.
NETWORKS = ("today", "2018")

#: Vehicles a speed model can be chosen for: ``car`` (the region's ``speed_model``) or a key of its
#: ``vehicle_speed_models`` (``truck``: a tractor with semi-trailer).
VEHICLES = ("car", "truck")


@dataclass(frozen=True)
class NetworkOptions:
    """Which road network and speeds to build (checked on creation).

    network : ``"today"`` (default: the region's road file plus the roads opened since,
        ``today_network.additions`` of the region YAML) or ``"2018"`` (the file alone).
        Ignored with an OSM extract, which is today's network by itself.
    roads : road-class overlay files (``ref``/``name``/``highway``/``maxspeed`` lines, any CRS),
        map-matched onto the network in order (a later file wins).
    speeds : a speed model YAML used instead of the region's (e.g. from ``plan.py calibrate``).
    reference_classes : label every named road of the region's reference layer (not only corridors)
        and apply the region's shipped class overlays (``road_classes.overlays``).
    vehicle : ``"car"`` (default: the region's ``speed_model``) or ``"truck"`` (its
        ``vehicle_speed_models.truck``: legal limits by vehicle type, a tractor with semi-trailer).
    """

    network: str = "today"
    roads: tuple = ()
    speeds: Path | None = None
    reference_classes: bool = True
    vehicle: str = "car"

    def __post_init__(self):
        if self.network not in NETWORKS:
            raise InputError(None, f"network must be one of {', '.join(NETWORKS)}, not '{self.network}'")
        if self.vehicle not in VEHICLES:
            raise InputError(None, f"vehicle must be one of {', '.join(VEHICLES)}, not '{self.vehicle}'")
        object.__setattr__(self, "roads", tuple(Path(p) for p in self.roads))
        for path in (*self.roads, *([self.speeds] if self.speeds else [])):
            if not Path(path).exists():
                raise InputError(path, "file not found")

    def speed_model(self, region: Region) -> SpeedModel:
        """The speed model: ``speeds`` when given, else the region's for the vehicle."""
        return load_speed_model(self.speeds) if self.speeds else speed_model(region, self.vehicle)


# --------------------------------------------------------------------------- speed model


def speed_model(region: Region, vehicle: str = "car") -> SpeedModel:
    """The region's speed model for ``vehicle``: its ``speed_model:`` file (car; default
    :data:`DEFAULT_SPEED_MODEL`) or ``vehicle_speed_models.<vehicle>``.

    A relative path is looked up next to the region file, then in ``layers/regions/``.

    >>> from layers.region import load_region
    >>> bg = load_region("bac-giang", data_dir=".")
    >>> m, t = speed_model(bg), speed_model(bg, "truck")
    >>> m.speed("national", "rural").kmh > t.speed("national", "rural").kmh, t.vehicle_max_kmh
    (True, 80.0)
    """
    if vehicle != "car":
        name = (region.config.get("vehicle_speed_models") or {}).get(vehicle)
        if not name:
            raise InputError(region.source_file, f"no speed model for the vehicle '{vehicle}' (vehicle_speed_models.{vehicle})")
        return _model_file(region, name)
    name = region.config.get("speed_model")
    if not name:
        return load_speed_model(DEFAULT_SPEED_MODEL)
    return _model_file(region, name)


def _model_file(region: Region, name: str) -> SpeedModel:
    for folder in (Path(region.source_file).parent, REGIONS_DIR):
        path = Path(name) if Path(name).is_absolute() else folder / name
        if path.exists():
            return load_speed_model(path)
    raise InputError(region.source_file, f"speed_model '{name}' not found next to the region file or in {REGIONS_DIR}")


# --------------------------------------------------------------------------- roads


def road_network(region: Region, osm=None, *, model: SpeedModel | None = None,
                 corridor_layer: gpd.GeoDataFrame | None = None, keep: str | None = None,
                 bridge_gaps: bool = False, bridge_m: float | None = None,
                 options: NetworkOptions | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Road network of ``region`` with speeds and travel times (columns in the module docstring).

    Parameters
    ----------
    osm : None (default: the region's 2018 ``road_network`` file), an OSM
        file (``.osm``, ``.osm.pbf`` …, read inside the region window), or a
        ``(nodes, edges)`` pair from :func:`geo.osm.read_osm_roads`.
    model : speed model (default :func:`speed_model` of the region).
    corridor_layer : a corridors layer already built (saves the map-matching).
    keep : ``"largest"`` (keep the largest connected component, the default of
        the model's ``network.keep``) or ``"all"``.
    bridge_gaps : join each dangling end to the nearest node of *another*
        component when closer than ``bridge_m`` (default the model's
        ``network.gap_bridge_m``, 25 m). Bridges are edges with
        ``speed_source`` "gap bridge …" and are counted in the summary.
    options : :class:`NetworkOptions` (today's network or 2018, class overlays,
        speed model file); default: today's network with the reference classes.
        The summary's ``network`` names the network used.
    """
    started = time.perf_counter()
    options = options or NetworkOptions()
    model = model or options.speed_model(region)
    net_cfg = model.raw.get("network") or {}
    keep = keep or net_cfg.get("keep", "largest")
    if keep not in ("largest", "all"):
        raise InputError(model.source, f"network.keep must be 'largest' or 'all', not '{keep}'")
    bridge_m = float(bridge_m if bridge_m is not None else net_cfg.get("gap_bridge_m", 25.0))
    crs = region.metric_crs

    if osm is None:
        nodes, edges, meta = _roads_2018(region, model, corridor_layer, options.network)
    else:
        nodes, edges, meta = _roads_osm(region, osm, model, corridor_layer)
    directed = meta["directed"]
    overlays = [reference_overlay(region)] if (osm is None and options.reference_classes) else []
    shipped = _region_overlays(region, osm) if options.reference_classes else []
    overlays += [read_overlay(p) for p in (*shipped, *options.roads)]
    if overlays:
        edges, meta["overlays"] = _apply_overlays(region, nodes, edges, overlays, model)
    if osm is None:
        nodes, edges, meta["interchanges"] = _add_interchanges(region, nodes, edges, model)
    additions = []
    if osm is None and options.network == "today":
        nodes, edges, additions = _add_opened_roads(region, nodes, edges, model)
    meta["network"] = _network_name(meta, osm, options, additions)

    xy = nodes.geometry.to_crs(crs)
    nodes["x"], nodes["y"] = xy.x.to_numpy(), xy.y.to_numpy()
    nodes["lon"], nodes["lat"] = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()

    bridges = {"enabled": bool(bridge_gaps), "tolerance_m": bridge_m, "added": 0, "km": 0.0}
    if bridge_gaps:
        edges, bridges = _bridge_gaps(nodes, edges, bridge_m, model, directed)

    metric_lines = edges.geometry.to_crs(crs)
    setting, setting_note = _setting(region, model, metric_lines)
    if "maxspeed" not in edges:
        edges["maxspeed"] = None
    edges["setting"] = setting
    edges = apply_speed_model(edges, model)

    labels = component_labels(nodes, edges)
    report = components_report(nodes, edges)
    nodes["component"] = labels.reindex(nodes["node_id"].to_numpy()).to_numpy()
    edges["component"] = labels.reindex(edges["u"].to_numpy()).to_numpy()
    dropped = _dropped(report, nodes, edges) if keep == "largest" else None
    if keep == "largest":
        nodes = nodes.loc[nodes["component"] == 0].reset_index(drop=True)
        edges = edges.loc[edges["component"] == 0].reset_index(drop=True)
    nodes["degree"] = _degree(nodes, edges)

    extra = [c for c in meta["extra_columns"] + ["link", "class_source", "maxspeed", "speed_low_kmh", "speed_high_kmh"]
             if c in edges and c not in ROAD_EDGE_COLUMNS]
    extra = list(dict.fromkeys(extra))
    edges = gpd.GeoDataFrame(edges[ROAD_EDGE_COLUMNS + extra + [edges.geometry.name]], geometry=edges.geometry.name,
                             crs="EPSG:4326")
    nodes = gpd.GeoDataFrame(nodes[ROAD_NODE_COLUMNS + [nodes.geometry.name]], geometry=nodes.geometry.name,
                             crs="EPSG:4326")

    km = edges["length_m"].to_numpy(float) / 1000.0
    by_class = edges.assign(km=km).groupby(["road_class", "setting"])["km"].sum()
    default = model.speed(model.default_class, "rural").kmh, model.speed(model.default_class, "urban").kmh
    summary = {
        "network": meta["network"],
        "additions": additions,
        "overlays": meta.get("overlays", []),
        "interchanges_added": meta.get("interchanges", []),
        "source": meta["source"],
        "speed_model": str(model.source),
        "directed": bool(directed),
        "nodes": int(len(nodes)), "edges": int(len(edges)),
        "length_km": round(float(km.sum()), 1) if not directed else None,      # a two-way OSM road is two rows
        "length_km_directed": round(float(km.sum()), 1) if directed else None,
        "components": {
            "count": int(len(report)),
            "largest_share": round(float(report["share"].iloc[0]), 4) if len(report) else None,
            "largest_km": round(float(report["length_km"].iloc[0]), 1) if len(report) else None,
            "kept": keep,
            "dropped": dropped,
        },
        "gap_bridges": bridges,
        "km_by_class": {c: round(float(v), 1) for c, v in
                        edges.assign(km=km).groupby("road_class")["km"].sum().sort_values(ascending=False).items()},
        "km_by_class_and_setting": {f"{c} {s}": round(float(v), 1) for (c, s), v in by_class.items()},
        "speed_kmh_by_class": {c: {s: model.speed(c, s).kmh for s in ("rural", "urban")} for c in model.classes},
        "corridor_km": {str(c): round(float(v), 1) for c, v in
                        edges.assign(km=km).dropna(subset=["corridor_id"]).groupby("corridor_id")["km"].sum().items()},
        "setting": {**setting_note,
                    "urban_km": round(float(km[edges["setting"].to_numpy() == "urban"].sum()), 1),
                    "rural_km": round(float(km[edges["setting"].to_numpy() == "rural"].sum()), 1)},
        "edges_with_maxspeed": meta.get("edges_with_maxspeed"),
        "caveats": meta["caveats"] + ([CAVEAT_2018.format(default=model.default_class, rural=default[0], urban=default[1])]
                                      if osm is None else [])
                   + [f"Added to the 2018 network: {a['name']} (opened {a['opened']}; alignment {a['alignment']}; "
                      f"source: {a['source']})" for a in additions],
        "seconds": round(time.perf_counter() - started, 2),
    }
    edges.attrs["summary"] = summary
    nodes.attrs["summary"] = summary
    log.info("road network: %d nodes, %d edges, %d components (largest %.1f %%) in %.1f s", len(nodes), len(edges),
             summary["components"]["count"], 100 * (summary["components"]["largest_share"] or 0), summary["seconds"])
    return nodes, edges


def _roads_2018(region: Region, model: SpeedModel, corridor_layer, network: str = "today") -> tuple:
    cfg = region.section("road_network")
    path = region.path("road_network")
    nodes, edges = read_line_network(path, edges_layer=cfg.get("edges_layer", "edges"),
                                     nodes_layer=cfg.get("nodes_layer", "nodes"))
    layer = corridor_layer if corridor_layer is not None else corridors(region, network=network)
    labels = corridor_edges(layer)
    classes = {cid: spec.get("road_class") for cid, spec in region.corridors.items()}
    if len(layer) and "road_class" in layer:
        for cid, rc in zip(layer["corridor_id"], layer["road_class"]):
            classes.setdefault(cid, rc)
    by_corridor = {str(c): str(m).replace("_", "-") for c, m in zip(layer.get("corridor_id", []), layer.get("method", []))}
    methods = {part for m in by_corridor.values() for part in m.split(", ")} - {"opened-road", "scenario-file"}
    method = ", ".join(sorted(methods)) or "map-matched"
    cls = classify_unattributed(edges["edge_id"].to_numpy(), labels, classes, model, method=by_corridor or method,
                                network_name="2018 network")
    edges = edges.assign(road_class=cls["road_class"].to_numpy(), link=False, class_source=cls["class_source"].to_numpy(),
                         corridor_id=_objects(cls["corridor_id"], edges.index), oneway=False,
                         maxspeed=_posted_limits(cls["corridor_id"], region.corridors, edges.index))
    nodes = gpd.GeoDataFrame(nodes[["node_id", nodes.geometry.name]], geometry=nodes.geometry.name, crs="EPSG:4326")
    keep = ["edge_id", "u", "v", "length_m", "road_class", "link", "class_source", "corridor_id", "oneway", "maxspeed"]
    keep += [c for c in ("in_province",) if c in edges]
    edges = gpd.GeoDataFrame(edges[keep + [edges.geometry.name]], geometry=edges.geometry.name, crs="EPSG:4326")
    not_found = (layer.attrs.get("summary") or {}).get("not_found") or []
    caveats = []
    if not_found:
        caveats.append("corridors not found in the network (no speed of their class): "
                       + "; ".join(f"{d.get('corridor_id', d.get('id', '?'))}" for d in not_found))
    meta = {"source": f"{path.name} ({cfg.get('source', 'road network file')}); corridor labels: {method}",
            "directed": False, "extra_columns": ["in_province"], "caveats": caveats}
    return nodes, edges, meta


def _posted_limits(corridor_ids, specs: dict, index) -> pd.Series:
    """Posted speed limit (km/h text, as OSM ``maxspeed``) of each edge from its corridor's ``maxspeed`` in the
    region file (each with ``maxspeed_source``); the lowest where two corridors share an edge; None elsewhere."""
    limits = {cid: float(spec["maxspeed"]) for cid, spec in specs.items() if spec.get("maxspeed") is not None}
    out = []
    for ids in corridor_ids:
        values = [limits[c] for c in (ids.split(";") if isinstance(ids, str) else []) if c in limits]
        out.append(f"{min(values):g}" if values else None)
    return pd.Series(out, index=index, dtype=object)


def _roads_osm(region: Region, osm, model: SpeedModel, corridor_layer) -> tuple:
    if isinstance(osm, tuple) and len(osm) == 2:
        nodes, edges = osm
        source = edges.attrs.get("summary", {}).get("source") or "OSM frames given"
    else:
        window = region_window(region)
        nodes, edges = read_osm_roads(osm, polygon=window)
        source = str(osm)
    if "osmid" in nodes and "node_id" not in nodes:
        nodes = nodes.rename(columns={"osmid": "node_id"})
    nodes = gpd.GeoDataFrame(nodes[["node_id", nodes.geometry.name]].copy(), geometry=nodes.geometry.name,
                             crs=nodes.crs).to_crs("EPSG:4326")
    edges = edges.to_crs("EPSG:4326").reset_index(drop=True).copy()
    edges["edge_id"] = np.arange(len(edges))
    for col in ("highway", "ref", "name", "maxspeed"):
        if col not in edges:
            edges[col] = None
    edges["oneway"] = edges["oneway"].fillna(False).astype(bool) if "oneway" in edges else False
    layer = corridor_layer if corridor_layer is not None else corridors(region, osm_edges=edges)
    labels = corridor_edges(layer)
    per_edge = labels.groupby("edge_id")["corridor_id"].agg(lambda s: ";".join(dict.fromkeys(s))) if len(labels) else pd.Series(dtype=object)
    edges["corridor_id"] = _objects(per_edge.reindex(edges["edge_id"]), edges.index)
    meta = {"source": source, "directed": True, "extra_columns": ["highway", "ref", "name", "maxspeed"],
            "caveats": ["directed graph (osmnx): a two-way road is two edges; components are counted ignoring direction"],
            "edges_with_maxspeed": int(edges["maxspeed"].notna().sum())}
    keep = ["edge_id", "u", "v", "length_m", "highway", "ref", "name", "maxspeed", "oneway", "corridor_id"]
    return nodes, gpd.GeoDataFrame(edges[keep + [edges.geometry.name]], geometry=edges.geometry.name, crs="EPSG:4326"), meta


def apply_speed_model(edges: gpd.GeoDataFrame, model: SpeedModel, ranges: bool = True) -> gpd.GeoDataFrame:
    """Speeds and travel times of classified edges from ``model`` (returns a copy).

    ``edges`` needs ``length_m`` and ``setting``, and either ``road_class``
    (with ``link``, ``class_source``) or OSM tags (``highway``, ``ref``);
    ``maxspeed`` is used where sane. Sets ``road_class``, ``link``,
    ``class_source``, ``speed_kmh``, ``speed_source``, ``travel_time_s`` (s)
    and, from the bounds of the model's ``calibration`` section,
    ``speed_low_kmh`` / ``speed_high_kmh`` (equal to ``speed_kmh`` where the
    speed is not an assumption with bounds). Cheap (vectorised): used to
    re-weight a network built once, e.g. by calibration (``ranges=False``
    skips the bounds).
    """
    from geo.calibration import model_at_bounds
    from geo.speeds import osm_road_classes

    edges = edges.copy()
    if "road_class" not in edges or "class_source" not in edges:
        cls = osm_road_classes(edges, model)
        for col in cls.columns:
            edges[col] = cls[col].to_numpy()
    if "link" not in edges:
        edges["link"] = False
    frame = edges[["road_class", "link", "class_source"] + (["maxspeed"] if "maxspeed" in edges else [])]
    speeds = edge_speeds(frame, model, edges["setting"].to_numpy(dtype=object))
    edges["road_class"] = speeds["road_class"].to_numpy()
    edges["speed_kmh"] = speeds["speed_kmh"].to_numpy()
    edges["speed_source"] = _objects(speeds["speed_source"], edges.index)
    edges["travel_time_s"] = travel_time_s(edges["length_m"].to_numpy(float), edges["speed_kmh"].to_numpy(float))
    if not ranges:
        return edges
    low, high = model_at_bounds(model)
    edges["speed_low_kmh"] = edge_speeds(frame, low, edges["setting"].to_numpy(dtype=object))["speed_kmh"].to_numpy()
    edges["speed_high_kmh"] = edge_speeds(frame, high, edges["setting"].to_numpy(dtype=object))["speed_kmh"].to_numpy()
    return edges


def _apply_overlays(region: Region, nodes, edges, overlays, model: SpeedModel):
    """Road classes (and posted limits) from overlays, applied in order; the first (reference) only fills unknown edges."""
    from geo.speeds import osm_road_classes

    if "road_class" not in edges or "class_source" not in edges:
        cls = osm_road_classes(edges, model)
        edges = edges.assign(road_class=cls["road_class"].to_numpy(), link=cls["link"].to_numpy(),
                             class_source=cls["class_source"].to_numpy())
    if "maxspeed" not in edges:
        edges["maxspeed"] = None
    prepared = prepare_network(nodes, edges, region.metric_crs)
    window = region_window(region, region.metric_crs)
    position = pd.Index(edges["edge_id"].to_numpy())
    reports = []
    for k, overlay in enumerate(overlays):
        fill_only = bool(overlay.attrs.get("fill_only", False))
        labels, report = overlay_labels(overlay, prepared, model, region.metric_crs, window=window)
        reports.append(report)
        if labels.empty:
            continue
        labels = labels.drop_duplicates("edge_id", keep="last")
        rows = position.get_indexer(labels["edge_id"].to_numpy())
        ok = rows >= 0
        if fill_only:
            ok &= (edges["road_class"].to_numpy()[np.where(ok, rows, 0)] == model.default_class)
        rows, lab = rows[ok], labels.loc[ok]
        cols = {c: edges.columns.get_loc(c) for c in ("road_class", "link", "class_source", "maxspeed")}
        edges.iloc[rows, cols["road_class"]] = lab["road_class"].to_numpy()
        edges.iloc[rows, cols["link"]] = lab["link"].to_numpy(bool)
        edges.iloc[rows, cols["class_source"]] = lab["class_source"].to_numpy()
        has_max = lab["maxspeed"].notna().to_numpy()
        edges.iloc[rows[has_max], cols["maxspeed"]] = lab["maxspeed"].to_numpy()[has_max]
        report["edges_labelled"] = int(len(rows))
    return edges, reports


def _add_interchanges(region: Region, nodes, edges, model: SpeedModel):
    """Interchanges a source names between two labelled corridors that the 2018 geometry crosses without a
    shared node (its ramps were lost): joined at their crossing nearest the named place
    (:func:`geo.network.link_crossings`), by a ramp of ``network.interchange_ramp_m`` at the first road's
    link speed, within ``network.interchange_radius_m`` of the place. Reported in the summary."""
    from geo.network import link_crossings
    from layers.road_waypoints import interchanges

    points = interchanges(region)
    cfg = model.raw.get("network") or {}
    radius, ramp = float(cfg.get("interchange_radius_m", 5000)), float(cfg.get("interchange_ramp_m", 500))
    report = []
    labels = edges["corridor_id"].fillna("").astype(str).str.split(";")
    for row in points.itertuples(index=False):
        first = labels.map(lambda ids, r=row.road: r in ids).to_numpy()
        second = labels.map(lambda ids, j=row.joins: j in ids).to_numpy()
        nodes, edges, added = link_crossings(nodes, edges, first, second, row.geometry, radius_m=radius, ramp_m=ramp,
                                             crs=region.metric_crs)
        if added:
            new = edges["edge_id"].isin([e for a in added for e in a["edges"]]).to_numpy()
            edges.loc[new, "class_source"] = (f"interchange {row.road} × {row.joins} ({row.name}; {row.source}): ramp "
                                              f"{ramp:g} m added where the 2018 geometry crosses without a node "
                                              f"({cfg.get('interchange_basis', 'assumption')})")
        labels = edges["corridor_id"].fillna("").astype(str).str.split(";")
        report.append({"road": row.road, "joins": row.joins, "name": row.name, "file": row.file,
                       "ramps_added": len(added), "where": [[a["lon"], a["lat"]] for a in added]})
    return nodes, edges, report


def _region_overlays(region: Region, osm) -> list[Path]:
    """Class overlays shipped for the region (``road_classes.overlays``; 2018 network only)."""
    return [] if osm is not None else _shipped_files(region, "road_classes", "overlays")


def _add_opened_roads(region: Region, nodes, edges, model: SpeedModel):
    """Today's network: the roads of ``today_network.additions`` appended as edges (see :func:`read_opened_roads`)."""
    from geo.scenario import CONTROLLED_ACCESS

    added = []
    link_max_m = float((model.raw.get("network") or {}).get("interchange_link_max_m", 1000.0))
    on_line_m = float(model.raw.get("interchange_snap_m", 300.0))
    crs = region.metric_crs
    for path in _addition_files(region):
        lines, points = read_opened_roads(path)
        m_lines = lines.to_crs(crs)
        m_points = points.to_crs(crs).geometry if len(points) else gpd.GeoSeries([], crs=crs)
        base_xy = nodes.geometry.to_crs(crs)
        tree = cKDTree(np.column_stack([base_xy.x.to_numpy(), base_xy.y.to_numpy()]))
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
                    target = base_xy.iloc[int(hit)]
                    new_edges.append((next_edge, ids[k], base_ids[int(hit)], max(float(dist), 1.0), road_class, True,
                                      f"{how}: interchange link {dist:.0f} m", cid,
                                      shapely.LineString([(pts[k].x, pts[k].y), (target.x, target.y)])))
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
        add_edges["maxspeed"] = _posted_limits(add_edges["corridor_id"], region.corridors, add_edges.index)
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


def _network_name(meta: dict, osm, options: NetworkOptions, additions: list) -> str:
    """Which network an output used, in words (from the data actually used)."""
    base = meta["source"].split(" (")[0]
    if osm is not None:
        name = f"OSM extract {base}"
    elif options.network == "2018" or not additions:
        name = f"2018: {base}"
    else:
        name = f"today: {base} + " + ", ".join(f"{a['name']} (opened {a['opened']}, alignment {a['alignment']})" for a in additions)
    if options.roads:
        name += "; class overlays " + ", ".join(Path(p).name for p in options.roads)
    if options.speeds:
        name += f"; speeds {Path(options.speeds).name}"
    elif options.vehicle != "car":
        name += f"; {options.vehicle} speeds"
    return name


def _setting(region: Region, model: SpeedModel, metric_lines: gpd.GeoSeries) -> tuple[np.ndarray, dict]:
    note = {"radius_m": model.urban_radius_m, "basis": model.setting_basis}
    if not region.config.get("places"):
        note["note"] = "the region has no places file: every edge is rural"
        return np.full(len(metric_lines), "rural", dtype=object), note
    path = region.path("places")
    places = read_vector(path)
    if "fclass" not in places:
        raise InputError(path, "no 'fclass' column (expected OSM places with fclass, name)")
    places = places.to_crs(region.metric_crs)
    setting = urban_setting(metric_lines.values, places, model.urban_radius_m)
    note["places_used"] = {c: int((places["fclass"] == c).sum()) for c in model.urban_radius_m}
    note["places_file"] = path.name
    return setting, note


def _objects(values, index) -> pd.Series:
    """Object Series with None for missing values (pandas 3 would otherwise infer a string dtype with NaN)."""
    return pd.Series([None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in values],
                     dtype=object, index=index)


def _degree(nodes: pd.DataFrame, edges: pd.DataFrame) -> np.ndarray:
    ends = np.r_[edges["u"].to_numpy(), edges["v"].to_numpy()]
    counts = pd.Series(ends).value_counts()
    return counts.reindex(nodes["node_id"].to_numpy()).fillna(0).astype(int).to_numpy()


def _dropped(report: pd.DataFrame, nodes: pd.DataFrame, edges: pd.DataFrame) -> dict:
    rest = report.iloc[1:]
    where = nodes.groupby("component")[["lon", "lat"]].mean()
    largest = []
    for row in rest.head(5).itertuples(index=False):
        lon, lat = where.loc[row.component] if row.component in where.index else (np.nan, np.nan)
        largest.append({"component": int(row.component), "nodes": int(row.nodes), "edges": int(row.edges),
                        "km": round(float(row.length_km), 2), "lon": round(float(lon), 4), "lat": round(float(lat), 4)})
    return {"components": int(len(rest)), "nodes": int(rest["nodes"].sum()), "edges": int(rest["edges"].sum()),
            "km": round(float(rest["length_km"].sum()), 1), "largest": largest}


def _bridge_gaps(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, tolerance_m: float, model: SpeedModel,
                 directed: bool) -> tuple[gpd.GeoDataFrame, dict]:
    """Edges joining dangling ends to the nearest node of another component within the tolerance."""
    labels = component_labels(nodes, edges).reindex(nodes["node_id"].to_numpy()).to_numpy()
    degree = _degree(nodes, edges)
    xy = np.column_stack([nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)])
    dangling = np.flatnonzero(degree == 1)
    info = {"enabled": True, "tolerance_m": tolerance_m, "added": 0, "km": 0.0, "examples": []}
    if len(dangling) == 0:
        return edges, info
    tree = cKDTree(xy)
    k = min(16, len(xy))
    dist, idx = tree.query(xy[dangling], k=k, distance_upper_bound=np.nextafter(tolerance_m, np.inf))
    dist, idx = np.atleast_2d(dist), np.atleast_2d(idx)
    valid = np.isfinite(dist) & (idx < len(xy))
    other = valid & (labels[np.where(valid, idx, 0)] != labels[dangling][:, None])
    has = other.any(axis=1)
    first = np.argmax(other, axis=1)
    a = dangling[has]
    b = idx[has, first[has]]
    d = dist[has, first[has]]
    pairs = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "d": d}).drop_duplicates(["a", "b"])
    if pairs.empty:
        return edges, info
    ids = nodes["node_id"].to_numpy()
    lon, lat = nodes["lon"].to_numpy(), nodes["lat"].to_numpy()
    geoms = shapely.linestrings(np.stack([np.column_stack([lon[pairs.a], lat[pairs.a]]),
                                          np.column_stack([lon[pairs.b], lat[pairs.b]])], axis=1))
    default = model.default_class
    new = gpd.GeoDataFrame({
        "edge_id": np.arange(len(pairs)) + int(edges["edge_id"].max()) + 1,
        "u": ids[pairs.a], "v": ids[pairs.b], "length_m": pairs["d"].to_numpy(),
        "road_class": default, "link": False,
        "class_source": [f"gap bridge (dangling end {dd:.1f} m from another component; bridge_gaps, tolerance {tolerance_m:g} m)"
                         for dd in pairs["d"]],
        "corridor_id": pd.Series([None] * len(pairs), dtype=object), "oneway": False,
    }, geometry=geoms, crs="EPSG:4326")
    if directed:
        back = new.rename(columns={"u": "v", "v": "u"})
        back["edge_id"] = back["edge_id"] + len(new)
        new = pd.concat([new, back[new.columns]], ignore_index=True)
    for col in edges.columns:
        if col not in new:
            new[col] = None
    edges = gpd.GeoDataFrame(pd.concat([edges, new[edges.columns]], ignore_index=True), geometry=edges.geometry.name,
                             crs="EPSG:4326")
    info.update(added=int(len(pairs)), km=round(float(pairs["d"].sum()) / 1000, 3),
                examples=[{"u": int(ids[p.a]), "v": int(ids[p.b]), "m": round(float(p.d), 1),
                           "lon": round(float(lon[p.a]), 5), "lat": round(float(lat[p.a]), 5)}
                          for p in pairs.head(10).itertuples(index=False)])
    log.info("gap bridges: %d dangling ends joined within %.0f m", len(pairs), tolerance_m)
    return edges, info


# --------------------------------------------------------------------------- rail


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


# --------------------------------------------------------------------------- both


def multimodal_network(region: Region, road: tuple | None = None, rail: tuple | None = None,
                       model: SpeedModel | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Road and rail joined at stations (:func:`geo.multimodal.multimodal_edges`).

    ``road`` / ``rail`` are ``(nodes, edges)`` from :func:`road_network` /
    :func:`rail_network` (built when not given). Transfer time, access speed
    and distance come from the model's ``transfer`` section. Each station is
    first put onto the nearest road edge (within ``max_access_m``; the edge is
    split there, see :func:`geo.multimodal.insert_points`; undirected road
    graphs only), because in the
    2018 network a road may pass a station tens of metres away with its
    nearest node more than a kilometre off (Phố Tráng: 34 m from a road,
    1.3 km from a node). Returns plain DataFrames (``mode`` road / rail /
    transfer; x, y in metres); road node ids are kept (split road edges get
    new edge ids), rail node ids are offset (``attrs["summary"]["offsets"]``).
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
        road_nodes, road_edges, on_road = insert_points(road_nodes, road_edges, points, max_access_m, crs=region.metric_crs)
        xy = road_nodes.geometry.to_crs(region.metric_crs)
        road_nodes = road_nodes.assign(x=xy.x.to_numpy(), y=xy.y.to_numpy())
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


def speed_table(model: SpeedModel) -> pd.DataFrame:
    """The model's speeds as a table (class, setting, km/h, basis, note) for reports."""
    return model.table()
