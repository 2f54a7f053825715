"""Barriers: what cuts the land into parcels — classified roads and railways with their legal corridors, stations,
settlements, cemeteries, military and industrial land.

Every barrier is a set of geometries in the grid's metric CRS; the siting
rasterises each one with ``all_touched`` (a cell touched by it is excluded),
so a barrier line leaves a side-connected strip of excluded cells across the
grid and the land on either side falls into different parcels
(:func:`geo.siting.sites.parcels`). Widths come from the rule file
``layers/rules/protection-corridors.yaml`` (article, source, date) and the
exclusion settings (:data:`layers.siting.options.EXCLUSION_DEFAULTS`).

Barriers and their sources
--------------------------
``corridor_roads`` : network edges whose class (from the class labelling of
    :mod:`layers.networks.classes` and :mod:`layers.corridors`) is expressway,
    national or provincial, buffered by the assumed half-width of the road
    land + the legal safety corridor of that class. Roads without a class are
    not barriers (the 2018 network has no classes): the summary says how many
    kilometres are unclassified and which corridors of the region were not
    found in the network.
``railways`` : the railway lines (OSM 2018) + track half-width + protection
    zone + safety corridor (Decree 56/2018/NĐ-CP).
``stations`` : railway stations (HOT/OSM 2025 points and OSM 2018 points, a
    yard of ``station_yard_radius_m`` around each) and OSM 2018 station areas
    (+ ``station_area_buffer_m``).
``settlements_osm`` : every OSM 2018 place (city … hamlet) with a radius by
    class, and OSM 2018 ``landuse=residential`` (+ ``residential_buffer_m``):
    a 2018 proxy of towns and villages.
``cemeteries_osm``, ``military_osm``, ``industrial_osm`` : OSM 2018
    ``landuse=cemetery`` (and ``amenity=grave_yard`` areas), ``military``,
    ``industrial`` (land already built on): 2018 proxies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.config import read_yaml
from geo.crs import to_metric
from geo.errors import InputError
from layers.region import Region
from layers.siting.options import RULES_DIR

log = logging.getLogger(__name__)

#: Road classes whose corridors are barriers.
CORRIDOR_CLASSES = ("expressway", "national", "provincial")
#: OSM 2018 land-use classes used as barriers (``landuse`` layer ``fclass`` → barrier) and their feature-layer twins.
LANDUSE_BARRIERS = {"cemetery": "cemeteries_osm", "military": "military_osm", "industrial": "industrial_osm",
                    "residential": "settlements_osm"}
FEATURE_BARRIERS = {("pois_a", "graveyard"): "cemeteries_osm"}


@dataclass
class Barriers:
    """Barrier geometries by name (metric CRS), with what each is and the facts about the road classes."""

    geoms: dict = field(default_factory=dict)       # name → list of shapely geometries (already buffered)
    notes: dict = field(default_factory=dict)       # name → what it is, with its source and widths
    lines: dict = field(default_factory=dict)       # name → unbuffered lines/points (for distances on the site table)
    road_facts: dict = field(default_factory=dict)
    proxy: set = field(default_factory=set)         # barriers resting on a proxy layer


def read_corridor_rules(name: str = "protection-corridors") -> dict:
    """The ``corridors:`` section of a rule file in ``layers/rules/`` (or a path), checked."""
    path = Path(name) if str(name).endswith((".yaml", ".yml")) else RULES_DIR / f"{name}.yaml"
    data = read_yaml(path, "rule file")
    section = data.get("corridors")
    if not isinstance(section, dict) or not {"road", "rail", "water"} <= set(section):
        raise InputError(path, "a corridor rule file needs 'corridors:' with road, rail and water")
    for part in ("road", "rail", "water"):
        for key in ("article", "source", "date"):
            if not section[part].get(key):
                raise InputError(path, f"corridors: {part} has no '{key}' (every width names its article, source and date)")
    section["_file"] = str(path)
    return section


def road_barrier_width_m(rules: dict, road_class: str) -> float:
    """Metres from the centre line to the outer edge of the road's safety corridor (road land half-width + corridor)."""
    road = rules["road"]
    return float(road["road_land_half_width_m"][road_class]) + float(road["width_by_class_m"][road_class])


def rail_barrier_width_m(rules: dict) -> float:
    """Metres from the track's centre line to the outer edge of the railway safety corridor."""
    rail = rules["rail"]
    return float(rail["track_half_width_m"]) + float(rail["protection_m"]) + float(rail["corridor_m"])


def river_barrier_width_m(rules: dict) -> float:
    """Metres from a waterway's centre line to the outer edge of its protection corridor."""
    water = rules["water"]
    return float(water["river_half_width_m"]) + float(water["river_width_m"])


def road_barriers(edges: gpd.GeoDataFrame, crs: str, rules: dict, region: Region,
                  road_lines=None) -> tuple[list, list, dict]:
    """``(buffered, lines, facts)`` of the classified roads: corridor polygons, centre lines, and the class facts.

    ``road_lines``: the edges' lines already in ``crs`` (aligned with ``edges``), else they are reprojected."""
    if road_lines is None:
        road_lines = to_metric(edges.geometry, crs).values
    road_lines = np.asarray(road_lines, dtype=object)
    cls = edges["road_class"].astype(str)
    buffered, lines = [], []
    km = {c: round(float(edges.loc[cls == c, "length_m"].sum()) / 1000, 1) for c in sorted(cls.unique())}
    for c in CORRIDOR_CLASSES:
        sel = road_lines[(cls == c).to_numpy()]
        if not len(sel):
            continue
        width = road_barrier_width_m(rules, c)
        buffered.extend(shapely.buffer(sel, width, quad_segs=2))
        lines.extend(sel)
    labelled = set()
    if "corridor_id" in edges:
        for v in edges["corridor_id"].dropna():
            labelled.update(str(v).split(";"))
    programme = [k for k, spec in region.corridors.items() if not spec.get("context")]
    facts = {"km_by_class": km, "barrier_classes": list(CORRIDOR_CLASSES),
             "km_unclassified": km.get("unknown", 0.0),
             "unclassified_note": ("roads of the network without a class (the 2018 network has none; classes come from "
                                   "the corridor and overlay labelling) are not barriers: their grade, and so their corridor, "
                                   "is unknown"),
             "corridors_not_in_network": sorted(k for k in programme if k not in labelled),
             "widths_m": {c: road_barrier_width_m(rules, c) for c in CORRIDOR_CLASSES}}
    return buffered, lines, facts


def _read_layer(region: Region, name: str, layer: str | None = None) -> gpd.GeoDataFrame | None:
    try:
        path = region.data_path(name)
    except InputError:
        return None
    return gpd.read_file(path, layer=layer)


def build_barriers(region: Region, net, crs: str, exclusions: dict, *, frame=None, road_lines=None) -> Barriers:
    """Every barrier of the region (see the module docstring); ``frame`` (metric polygon) clips the inputs;
    ``road_lines``: the road edges' lines in ``crs`` when already at hand (see :func:`road_barriers`)."""
    from layers.logistics import railways, stations

    rules = read_corridor_rules(exclusions.get("corridor_rules") or "protection-corridors")
    out = Barriers()
    cfg = (region.config.get("siting") or {}).get("barriers") or {}

    def keep(gdf):
        gdf = to_metric(gdf, crs)
        return gdf if frame is None else gdf[np.asarray(gdf.intersects(frame))]

    if exclusions.get("corridor_roads", True):
        buffered, lines, facts = road_barriers(net.road_edges, crs, rules, region, road_lines)
        out.geoms["corridor_roads"], out.lines["corridor_roads"], out.road_facts = buffered, lines, facts
        out.notes["corridor_roads"] = (
            f"{', '.join(CORRIDOR_CLASSES)} roads of the network ({len(lines)} edges) + road land half-width + safety corridor "
            f"({', '.join(f'{c} {w:g} m' for c, w in facts['widths_m'].items())} from the centre line; "
            f"{rules['road']['article']}); {facts['km_unclassified']:,.0f} km of unclassified road are not barriers")
    if exclusions.get("railways", True) and "railways" in region.config:
        try:
            rail = keep(railways(region))
        except InputError as exc:
            rail = None
            out.notes["railways"] = f"not given ({exc})"
        if rail is not None:
            width = rail_barrier_width_m(rules)
            geoms = np.asarray(rail.geometry.values, dtype=object)
            out.geoms["railways"] = list(shapely.buffer(geoms, width, quad_segs=2))
            out.lines["railways"] = list(geoms)
            source = Path(region.path("railways", "lines_file")).name
            out.notes["railways"] = (f"railway lines of {source} + {width:g} m (track half-width + protection zone + corridor, "
                                     f"{rules['rail']['article']})")
    if exclusions.get("stations", True):
        pts = []
        try:
            st = keep(stations(region))
            pts.extend(st.geometry.values)
        except InputError:
            pass
        feats = cfg.get("features_file")
        station_areas = []
        if feats:
            for layer in ("transport", "transport_a"):
                g = _read_layer(region, feats, layer)
                if g is not None and len(g):
                    g = keep(g[g["fclass"] == "railway_station"])
                    (pts if layer == "transport" else station_areas).extend(g.geometry.values)
        radius, area_buf = float(exclusions["station_yard_radius_m"]), float(exclusions["station_area_buffer_m"])
        out.geoms["stations"] = [p.buffer(radius, quad_segs=4) for p in pts] + [a.buffer(area_buf) for a in station_areas]
        out.lines["stations"] = list(pts) + [shapely.point_on_surface(a) for a in station_areas]
        out.notes["stations"] = (f"{len(pts)} railway station points (yard assumed within {radius:g} m) and {len(station_areas)} "
                                 f"station areas of {feats} + {area_buf:g} m")
    _settlements(region, cfg, exclusions, keep, out)
    _landuse(region, cfg, exclusions, keep, out)
    return out


def _settlements(region: Region, cfg: dict, exclusions: dict, keep, out: Barriers) -> None:
    if not exclusions.get("settlements_osm", True):
        return
    radius = exclusions["settlement_radius_m"]
    geoms, points, names = [], [], []
    try:
        path = region.path("places")
        places = keep(gpd.read_file(path))
        out.notes["_settlement_source"] = path.name
    except InputError:
        places = None
    if places is not None and len(places):
        r = places["fclass"].map(lambda c: float(radius.get(c, np.nan))).to_numpy()
        ok = np.isfinite(r)
        geoms.extend(shapely.buffer(np.asarray(places.geometry.values[ok], dtype=object), r[ok], quad_segs=4))
        points.extend(places.geometry.values[ok])
        names.extend(places["name"].values[ok] if "name" in places else [None] * int(ok.sum()))
    out.geoms["settlements_osm"] = geoms
    out.lines["settlements_osm"] = points
    out.lines["_settlement_names"] = names
    out.notes["settlements_osm"] = (f"{len(points)} places of {out.notes.get('_settlement_source', 'the places file')}, "
                                    "radius by class "
                                    + ", ".join(f"{k} {float(v):g} m" for k, v in radius.items()) + " (assumption)")
    out.proxy.add("settlements_osm")


def _landuse(region: Region, cfg: dict, exclusions: dict, keep, out: Barriers) -> None:
    name = cfg.get("landuse_file")
    g = _read_layer(region, name, "landuse") if name else None
    parts: dict[str, list] = {}
    if g is not None and len(g):
        g = keep(g)
        for cls, barrier in LANDUSE_BARRIERS.items():
            parts.setdefault(barrier, []).extend(g.loc[g["fclass"] == cls].geometry.values)
    feats = cfg.get("features_file")
    for (layer, cls), barrier in FEATURE_BARRIERS.items():
        f = _read_layer(region, feats, layer) if feats else None
        if f is not None and len(f):
            parts.setdefault(barrier, []).extend(keep(f.loc[f["fclass"] == cls]).geometry.values)
    buffers = {"settlements_osm": float(exclusions["residential_buffer_m"]), "cemeteries_osm": float(exclusions["cemetery_buffer_m"]),
               "military_osm": float(exclusions["military_buffer_m"]), "industrial_osm": 0.0}
    for barrier, geoms in parts.items():
        if not exclusions.get(barrier, True):
            continue
        buf = buffers[barrier]
        polys = [p.buffer(buf) if buf > 0 else p for p in geoms]
        if barrier == "settlements_osm":
            out.geoms.setdefault(barrier, []).extend(polys)
            out.lines.setdefault("residential_osm", []).extend(geoms)
            out.notes[barrier] += f"; {len(geoms)} landuse=residential areas of {name} + {buf:g} m (a proxy)"
        else:
            out.geoms[barrier] = polys
            out.lines[barrier] = list(geoms)
            out.notes[barrier] = (f"{len(geoms)} {barrier.removesuffix('_osm')} areas of {name}" + (f" + {buf:g} m" if buf else "")
                                  + " (a proxy: what was mapped then, not an official land-use map)")
        out.proxy.add(barrier)
    if g is None and name:
        log.warning("land-use file %s not found: settlements, cemeteries, military and industrial land "
                    "come from the places only", name)


def distances_m(geoms, targets: list) -> np.ndarray:
    """Straight-line metres from each geometry (metric) to the nearest of ``targets`` (NaN when there is none)."""
    geoms = np.asarray(geoms, dtype=object)
    if not targets:
        return np.full(len(geoms), np.nan)
    tree = shapely.STRtree(np.asarray(targets, dtype=object))
    idx, dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    out = np.full(len(geoms), np.nan)
    out[idx[0]] = dist
    return out


def nearest_names(geoms, points: list, names: list) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) and name of the nearest named point for each geometry."""
    geoms = np.asarray(geoms, dtype=object)
    if not points:
        return np.full(len(geoms), np.nan), np.full(len(geoms), None, dtype=object)
    tree = shapely.STRtree(np.asarray(points, dtype=object))
    idx, dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    order = np.argsort(idx[0], kind="stable")
    first = np.r_[True, idx[0][order][1:] != idx[0][order][:-1]] if len(order) else np.zeros(0, bool)
    sel = order[first]
    out_d = np.full(len(geoms), np.nan)
    out_n = np.full(len(geoms), None, dtype=object)
    out_d[idx[0][sel]] = dist[sel]
    out_n[idx[0][sel]] = pd.Series(names, dtype=object).to_numpy()[idx[1][sel]]
    return out_d, out_n
