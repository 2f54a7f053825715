"""The road graph of a region, with a speed and a travel time on every edge.

:func:`road_network` — the road graph with a speed and a travel time on every
edge, from the region's ``road_network`` file (OSM 2018 rebuild, no
attributes, undirected) labelled with the corridors of
:func:`layers.corridors.corridors`, or from OSM (:func:`geo.io.osm.read_osm_roads`)
when ``osm`` is given. Speeds come from the region's speed model
(``speed_model:`` key of the region YAML, default
``layers/regions/models/speeds-vn.yaml``), never from code.

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

``edges.attrs["summary"]`` (also on ``nodes``) holds the facts: sizes,
connected components and what was dropped, km by class and setting, the speed
table, the caveats of the data. Building today's road network from the 2018
file takes about 3 s on the 2-core development machine, half of it the corridor
map-matching; the file is read and projected once per region
(:func:`layers.shared.road_file`, :func:`layers.shared.prepared_road_file`) and
every later metric copy of its nodes and edges reuses that projection
(:func:`metric_geometry`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from scipy.spatial import cKDTree

from geo.errors import InputError
from geo.io.osm import read_osm_roads
from geo.io.vector import read_vector
from geo.routing.matching import prepare_network
from geo.routing.network import component_labels, components_report
from geo.routing.speeds import SpeedModel, classify_unattributed, edge_speeds, travel_time_s, urban_setting
from layers.boundaries import region_window
from layers.corridors import corridor_edges, corridors
from layers.networks.classes import overlay_labels, read_overlay, reference_overlay
from layers.networks.opened import _add_opened_roads, posted_limits
from layers.networks.options import NetworkOptions
from layers.shared import prepared_road_file, road_file, road_file_metric, shared
from layers.opened_roads import shipped_files as _shipped_files
from layers.region import Region

log = logging.getLogger(__name__)


ROAD_NODE_COLUMNS = ["node_id", "x", "y", "lon", "lat", "component", "degree"]
ROAD_EDGE_COLUMNS = ["edge_id", "u", "v", "length_m", "road_class", "setting", "speed_kmh", "travel_time_s", "oneway",
                     "corridor_id", "speed_source", "component"]

CAVEAT_2018 = ("The 2018 road network has no road classes, names or one-way information: only edges map-matched to a "
               "corridor (QL1A, QL37 …) get that corridor's class and speed; every other edge gets the default class "
               "'{default}' ({rural:g} km/h rural, {urban:g} km/h urban: an assumption, class unknown). Provincial and "
               "district roads are therefore too slow and town streets too fast in this model. Edges are undirected.")


# --------------------------------------------------------------------------- speed model


# --------------------------------------------------------------------------- roads


def road_network(region: Region, osm=None, *, model: SpeedModel | None = None,
                 corridor_layer: gpd.GeoDataFrame | None = None, keep: str | None = None,
                 bridge_gaps: bool = False, bridge_m: float | None = None,
                 options: NetworkOptions | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Road network of ``region`` with speeds and travel times (columns in the module docstring).

    Parameters
    ----------
    osm : None (default: ``options.osm``, else the region's 2018 ``road_network``
        file), an OSM file (``.osm``, ``.osm.pbf`` …, read inside the region
        window), or a ``(nodes, edges)`` pair from :func:`geo.io.osm.read_osm_roads`.
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

    The classified base (the 2018 file or the OSM extract with its corridor labels, class overlays and
    interchanges) is built once per region and options (:mod:`layers.shared`): today's network
    and the 2018 one share it, and only the roads opened since, speeds and components are redone.
    """
    started = time.perf_counter()
    options = options or NetworkOptions()
    if osm is not None and not isinstance(osm, tuple) and options.osm is None:
        options = replace(options, osm=osm)
    osm = osm if osm is not None else options.osm
    if model is None and not isinstance(osm, tuple):     # the base depends on the options alone: share it
        base = shared(region, ("classified roads", options.base_key),
                      lambda: classified_roads(region, osm, model=options.speed_model(region), corridor_layer=corridor_layer,
                                               options=options))
        model = base[2]["model"]
    else:
        model = model or options.speed_model(region)
        base = classified_roads(region, osm, model=model, corridor_layer=corridor_layer, options=options)
    nodes, edges, meta = base[0].copy(), base[1].copy(), dict(base[2])
    net_cfg = model.raw.get("network") or {}
    keep = keep or net_cfg.get("keep", "largest")
    if keep not in ("largest", "all"):
        raise InputError(model.source, f"network.keep must be 'largest' or 'all', not '{keep}'")
    bridge_m = float(bridge_m if bridge_m is not None else net_cfg.get("gap_bridge_m", 25.0))
    crs = region.metric_crs
    directed = meta["directed"]
    additions = []
    if osm is None and options.network == "today":
        nodes, edges, additions = _add_opened_roads(region, nodes, edges, model)
    meta["network"] = _network_name(meta, osm, options, additions)
    meta["caveats"] = list(meta["caveats"]) + _not_found_caveat(meta, options.network, additions)

    xy = metric_geometry(region, nodes, osm)
    nodes["x"], nodes["y"] = shapely.get_x(xy), shapely.get_y(xy)
    nodes["lon"], nodes["lat"] = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()

    bridges = {"enabled": bool(bridge_gaps), "tolerance_m": bridge_m, "added": 0, "km": 0.0}
    if bridge_gaps:
        edges, bridges = _bridge_gaps(nodes, edges, bridge_m, model, directed)

    unset = edges["setting"].isna().to_numpy()        # roads added here (opened since 2018, gap bridges)
    if unset.any():
        added_setting, _ = _setting(region, model, edges.geometry[unset].to_crs(crs))
        setting = edges["setting"].to_numpy(dtype=object).copy()
        setting[unset] = added_setting
        edges["setting"] = setting
    setting_note = meta["setting_note"]
    if "maxspeed" not in edges:
        edges["maxspeed"] = None
    edges = _with_speeds(edges, model)

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
        "base_seconds": meta["seconds"],
    }
    edges.attrs["summary"] = summary
    nodes.attrs["summary"] = summary
    log.info("road network: %d nodes, %d edges, %d components (largest %.1f %%) in %.1f s", len(nodes), len(edges),
             summary["components"]["count"], 100 * (summary["components"]["largest_share"] or 0), summary["seconds"])
    return nodes, edges


def classified_roads(region: Region, osm=None, *, model: SpeedModel, corridor_layer: gpd.GeoDataFrame | None = None,
                     options: NetworkOptions | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    """The road graph before the roads opened since 2018 are added: ``(nodes, edges, meta)``.

    Every edge has its class (corridor labels from ``corridor_layer`` or :func:`layers.corridors.corridors`,
    then the class overlays: the reference layer, the region's shipped ones, ``options.roads``), the lost
    interchanges are joined (2018 file) and every edge has its ``setting`` (urban / rural). ``meta`` holds the
    source, the overlay and interchange reports, the corridors not found (``not_found``) and those only in
    today's network (``opened``), the model used and the seconds taken. Shared by today's and the 2018 network
    (:func:`road_network`).
    """
    started = time.perf_counter()
    options = options or NetworkOptions()
    if osm is None:
        nodes, edges, meta = _roads_2018(region, model, corridor_layer, options.network)
    else:
        nodes, edges, meta = _roads_osm(region, osm, model, corridor_layer)
    overlays = [reference_overlay(region)] if (osm is None and options.reference_classes) else []
    shipped = _region_overlays(region, osm) if options.reference_classes else []
    overlays += [read_overlay(p) for p in (*shipped, *options.roads)]
    if overlays:
        prepared = prepared_road_file(region) if osm is None else prepare_network(nodes, edges, region.metric_crs)
        edges, meta["overlays"] = _apply_overlays(region, prepared, edges, overlays, model)
    if osm is None:
        nodes, edges, meta["interchanges"] = _add_interchanges(region, nodes, edges, model)
    lines = gpd.GeoSeries(metric_geometry(region, edges, osm), crs=region.metric_crs)
    edges["setting"], meta["setting_note"] = _setting(region, model, lines)
    if "maxspeed" not in edges:
        edges["maxspeed"] = None
    edges = apply_speed_model(edges, model)          # once: today's network adds rows, the 2018 one none
    meta["model"] = model
    meta["seconds"] = round(time.perf_counter() - started, 2)
    return nodes, edges, meta


#: Columns :func:`apply_speed_model` sets.
SPEED_COLUMNS = ("road_class", "link", "class_source", "speed_kmh", "speed_source", "travel_time_s", "speed_low_kmh",
                 "speed_high_kmh")


def _with_speeds(edges: gpd.GeoDataFrame, model: SpeedModel) -> gpd.GeoDataFrame:
    """``edges`` with speeds for the rows that have none yet (the roads added to the classified base)."""
    if "speed_kmh" not in edges:
        return apply_speed_model(edges, model)
    todo = pd.to_numeric(edges["speed_kmh"], errors="coerce").isna().to_numpy()
    if not todo.any():
        return edges
    done = apply_speed_model(edges.loc[todo], model)
    edges = edges.copy()
    for column in SPEED_COLUMNS:
        if column in done:
            values = edges[column].to_numpy(dtype=float if column.endswith(("_kmh", "_s")) else object).copy()
            values[todo] = done[column].to_numpy()
            edges[column] = values
    edges["link"] = edges["link"].astype(bool)
    return edges


def _not_found_caveat(meta: dict, network: str, additions: list) -> list[str]:
    """The corridors the network has no edge of: those of the corridors layer not found, plus (2018) the roads
    only today's network has, minus (today) the roads added."""
    ids = list(meta.get("not_found") or [])
    if network == "2018":
        ids += [c for c in meta.get("opened") or [] if c not in ids]
    else:
        added = {a.get("corridor_id") for a in additions}
        ids = [c for c in ids if c not in added]
    if not ids:
        return []
    return ["corridors not found in the network (no speed of their class): " + "; ".join(ids)]


def _roads_2018(region: Region, model: SpeedModel, corridor_layer, network: str = "today") -> tuple:
    cfg = region.section("road_network")
    path = region.path("road_network")
    nodes, edges = road_file(region)
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
                         maxspeed=posted_limits(cls["corridor_id"], region.corridors, edges.index))
    nodes = gpd.GeoDataFrame(nodes[["node_id", nodes.geometry.name]], geometry=nodes.geometry.name, crs="EPSG:4326")
    keep = ["edge_id", "u", "v", "length_m", "road_class", "link", "class_source", "corridor_id", "oneway", "maxspeed"]
    keep += [c for c in ("in_province",) if c in edges]
    edges = gpd.GeoDataFrame(edges[keep + [edges.geometry.name]], geometry=edges.geometry.name, crs="EPSG:4326")
    not_found = (layer.attrs.get("summary") or {}).get("not_found") or []
    opened = [str(c) for c, m in zip(layer.get("corridor_id", []), layer.get("method", [])) if m == "opened_road"]
    meta = {"source": f"{path.name} ({cfg.get('source', 'road network file')}); corridor labels: {method}",
            "directed": False, "extra_columns": ["in_province"], "caveats": [],
            "not_found": [str(d.get("corridor_id", d.get("id", "?"))) for d in not_found], "opened": opened}
    return nodes, edges, meta




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
    from geo.routing.calibration import model_at_bounds
    from geo.routing.speeds import osm_road_classes

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


def _apply_overlays(region: Region, prepared, edges, overlays, model: SpeedModel):
    """Road classes (and posted limits) from overlays, applied in order; the first (reference) only fills unknown edges.
    ``prepared``: the network of ``edges`` prepared for matching (:func:`geo.routing.matching.prepare_network`)."""
    from geo.routing.speeds import osm_road_classes

    if "road_class" not in edges or "class_source" not in edges:
        cls = osm_road_classes(edges, model)
        edges = edges.assign(road_class=cls["road_class"].to_numpy(), link=cls["link"].to_numpy(),
                             class_source=cls["class_source"].to_numpy())
    if "maxspeed" not in edges:
        edges["maxspeed"] = None
    if not np.array_equal(prepared.edge_id, edges["edge_id"].to_numpy()):
        raise ValueError("_apply_overlays: the prepared network is not the one of these edges")
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
    (:func:`geo.routing.network.link_crossings`), by a ramp of ``network.interchange_ramp_m`` at the first road's
    link speed, within ``network.interchange_radius_m`` of the place. Reported in the summary."""
    from geo.routing.network import link_crossings
    from layers.road_waypoints import interchanges

    points = interchanges(region)
    cfg = model.raw.get("network") or {}
    radius, ramp = float(cfg.get("interchange_radius_m", 5000)), float(cfg.get("interchange_ramp_m", 500))
    report = []
    for row in points.itertuples(index=False):
        first, second = _on_corridor(edges, row.road), _on_corridor(edges, row.joins)
        nodes, edges, added = link_crossings(nodes, edges, first, second, row.geometry, radius_m=radius, ramp_m=ramp,
                                             crs=region.metric_crs)
        if added:
            new = edges["edge_id"].isin([e for a in added for e in a["edges"]]).to_numpy()
            edges.loc[new, "class_source"] = (f"interchange {row.road} × {row.joins} ({row.name}; {row.source}): ramp "
                                              f"{ramp:g} m added where the 2018 geometry crosses without a node "
                                              f"({cfg.get('interchange_basis', 'assumption')})")
        report.append({"road": row.road, "joins": row.joins, "name": row.name, "file": row.file,
                       "ramps_added": len(added), "where": [[a["lon"], a["lat"]] for a in added]})
    return nodes, edges, report


def _on_corridor(edges: pd.DataFrame, corridor_id: str) -> np.ndarray:
    """Which edges carry ``corridor_id`` among their ``corridor_id`` labels (ids joined by ";"); each distinct
    label is split once.

    >>> _on_corridor(pd.DataFrame({"corridor_id": ["ql1a;ct01", None, "ct01", "ql1a"]}), "ct01").tolist()
    [True, False, True, False]
    """
    codes, labels = pd.factorize(edges["corridor_id"].fillna("").astype(str))
    return np.array([corridor_id in label.split(";") for label in labels], dtype=bool)[codes]


def _region_overlays(region: Region, osm) -> list[Path]:
    """Class overlays shipped for the region (``road_classes.overlays``; 2018 network only)."""
    return [] if osm is not None else _shipped_files(region, "road_classes", "overlays")


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


def metric_geometry(region: Region, frame: gpd.GeoDataFrame, osm=None) -> np.ndarray:
    """The geometries of road ``nodes`` or ``edges`` in the region's metric CRS (object array, aligned). Built
    from the road file (no ``osm``), they come from its metric copy (:func:`layers.shared.road_file_metric`:
    only the rows added since are reprojected)."""
    if osm is not None:
        return frame.geometry.to_crs(region.metric_crs).values
    return road_file_metric(region, frame.geometry)


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
    out = pd.Series(values, dtype=object).to_numpy(copy=True)
    out[pd.isna(out)] = None
    return pd.Series(out, dtype=object, index=index)


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


# --------------------------------------------------------------------------- both


