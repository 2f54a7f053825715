"""Corridors labelled from sourced waypoints, where no named reference line exists.

A *waypoint file* (``road_classes.waypoints`` of the region YAML; files in
``layers/roads/``) holds points, one per waypoint, with

``road``
    the corridor id of the region (``ql31``, ``ct04`` …): the road the point is on;
``seq``
    the order along the road;
``name``, ``kind``
    what the point is (town, junction, port gate …);
``source``, ``source_url``, ``source_says``
    where it is said that the road passes there;
``coordinate_source``
    where the coordinate comes from (an OSM node id, a Wikidata item, a
    region destination) — never typed in by hand;
``cost`` (optional)
    how the leg *arriving* at this point is routed: ``length`` (default,
    shortest path), ``fewest_junctions`` (a controlled-access road between
    interchanges) or ``none`` (the road is not continuous: no leg);
``label_last_km`` (optional, last point only)
    label only this many km of the path before this point (a road of a
    published length that starts at a junction with no open coordinate, e.g.
    the Tân Vũ – Lạch Huyện road, 15.63 km to the Lạch Huyện port gate).
``joins`` (optional)
    makes the point an *interchange* instead of a waypoint: a source says
    ``road`` and the corridor ``joins`` meet there (e.g. CT.04 and QL38 "in
    Ân Thi"). Where the 2018 geometry has the two roads cross without a
    shared node (the ramps were lost), :func:`interchanges` lets
    :mod:`layers.networks` join them at their crossing nearest the point.

:func:`waypoint_corridors` routes each road through its waypoints on the
network (:func:`geo.routing.matching.route_waypoints`) and returns the corridor rows
and edge labels, with per-leg facts (path km, straight km, snap distances,
why a leg is not matched) and the matched length against the published
length of the corridor (``published_length_km`` and ``length_source`` in the
region's corridor entry).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.io.vector import read_vector
from geo.routing.matching import PreparedNetwork, route_waypoints
from layers.opened_roads import shipped_files
from layers.region import Region

#: Columns every waypoint must fill.
WAYPOINT_COLUMNS = ("road", "seq", "name", "source", "coordinate_source")
COSTS = ("length", "fewest_junctions", "none")


def waypoint_files(region: Region) -> list[Path]:
    """The files of ``road_classes.waypoints`` of the region."""
    return shipped_files(region, "road_classes", "waypoints")


def read_waypoints(path, corridors: dict | None = None) -> gpd.GeoDataFrame:
    """The waypoints of a file (EPSG:4326), checked: points, every required column filled, known roads,
    known costs, ``seq`` unique per road. Sorted by road and ``seq``."""
    points = read_vector(path).to_crs("EPSG:4326")
    if points.empty:
        raise InputError(path, "has no waypoints")
    kinds = set(points.geometry.geom_type.dropna())
    if kinds != {"Point"}:
        raise InputError(path, f"a waypoint file holds points only, found {', '.join(sorted(kinds))}")
    if "joins" not in points:
        points["joins"] = None
    points["joins"] = [j if isinstance(j, str) and j.strip() else None for j in points["joins"]]
    for col in WAYPOINT_COLUMNS:
        if col not in points or points[col].isna().any() or (points[col].astype(str).str.strip() == "").any():
            raise InputError(path, f"every waypoint needs '{col}' (a waypoint states its road, order, name, the source "
                                   "saying the road passes there and where its coordinate comes from)")
    if "cost" not in points:
        points["cost"] = "length"
    points["cost"] = points["cost"].fillna("length").astype(str)
    bad = sorted(set(points["cost"]) - set(COSTS))
    if bad:
        raise InputError(path, f"unknown cost {', '.join(bad)} (one of {', '.join(COSTS)})")
    if corridors is not None:
        unknown = sorted((set(points["road"].astype(str)) | set(points["joins"].dropna())) - set(corridors))
        if unknown:
            raise InputError(path, f"road(s) {', '.join(unknown)} are not corridors of the region (add them to corridors:)")
    points["seq"] = pd.to_numeric(points["seq"], errors="raise")
    if points.duplicated(["road", "seq"]).any():
        raise InputError(path, "two waypoints of one road share a seq")
    points = points.sort_values(["road", "seq"], kind="mergesort").reset_index(drop=True)
    points.attrs["file"] = Path(path).name
    return points


def waypoint_corridors(region: Region, net: PreparedNetwork, line_of, *, tolerance: dict | None = None
                       ) -> tuple[list[dict], list[pd.DataFrame], list[dict]]:
    """Rows (as :mod:`layers.corridors` builds them), edge labels and per-road reports of every waypoint road.

    ``line_of(edge_ids)`` gives the row's line (EPSG:4326) for matched edges;
    ``tolerance`` overrides :func:`geo.routing.matching.route_waypoints` options.
    """
    rows, labels, reports = [], [], []
    for path in waypoint_files(region):
        points = read_waypoints(path, region.corridors)
        points = points.loc[points["joins"].isna()]
        metric = points.to_crs(net.crs)
        for road, idx in points.groupby("road", sort=False).groups.items():
            part, xy = points.loc[idx], np.column_stack([metric.geometry.x[idx], metric.geometry.y[idx]])
            legs = route_waypoints(net, xy, cost=list(part["cost"].iloc[1:]), **(tolerance or {}))
            edges, report = _labelled_edges(part, legs, net)
            report.update(road=str(road), file=path.name)
            reports.append(report)
            if not len(edges):
                continue
            spec = region.corridors[str(road)]
            ids = net.edge_id[edges]
            rows.append(_row(str(road), spec, line_of(ids), report, path.name))
            labels.append(pd.DataFrame({"edge_id": ids, "corridor_id": str(road)}))
    return rows, labels, reports


def interchanges(region: Region) -> gpd.GeoDataFrame:
    """The interchange points (``joins`` set) of the region's waypoint files: ``road``, ``joins``, ``name``,
    ``source``, ``source_url``, geometry (EPSG:4326)."""
    frames = []
    for path in waypoint_files(region):
        points = read_waypoints(path, region.corridors)
        frames.append(points.loc[points["joins"].notna()].assign(file=path.name))
    if not frames:
        return gpd.GeoDataFrame({"road": [], "joins": []}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")


def _labelled_edges(part: pd.DataFrame, legs: list, net: PreparedNetwork) -> tuple[np.ndarray, dict]:
    names = part["name"].astype(str).tolist()
    leg_facts = [{"from": names[i], "to": names[i + 1], "matched": leg.matched, "km": round(leg.km, 2),
                  "straight_km": round(leg.straight_km, 2), "snap_m": list(leg.snap_m),
                  **({"reason": leg.reason} if leg.reason else {})} for i, leg in enumerate(legs)]
    chain = [leg.edges for leg in legs if leg.matched]
    edges = np.concatenate(chain) if chain else np.empty(0, np.int64)
    last_km = pd.to_numeric(part["label_last_km"], errors="coerce").iloc[-1] if "label_last_km" in part else np.nan
    if np.isfinite(last_km) and len(edges):
        if not legs[-1].matched:
            edges = np.empty(0, np.int64)
        else:       # the last label_last_km of the path, counted back from the last waypoint
            tail = legs[-1].edges[::-1]
            run = np.cumsum(net.length_m[tail]) / 1000.0
            edges = tail[: int(np.searchsorted(run, last_km)) + 1][::-1]
    edges = pd.unique(edges)
    matched_km = float(net.length_m[edges].sum()) / 1000.0 if len(edges) else 0.0
    report = {"waypoints": len(part), "legs": leg_facts, "legs_matched": int(sum(leg.matched for leg in legs)),
              "matched_km": round(matched_km, 2),
              "not_matched": [f"{f['from']} → {f['to']}: {f['reason']}" for f in leg_facts if not f["matched"]]}
    if np.isfinite(last_km):
        report["label_last_km"] = float(last_km)
    return edges, report


def _row(road: str, spec: dict, line, report: dict, file_name: str) -> dict:
    published = pd.to_numeric(pd.Series([spec.get("published_length_km")]), errors="coerce").iloc[0]
    note = (f"labelled from {report['waypoints']} sourced waypoints ({file_name}): {report['legs_matched']} of "
            f"{len(report['legs'])} legs routed on the network, {report['matched_km']:.1f} km")
    if np.isfinite(published):
        note += (f"; published length {published:g} km ({spec.get('length_source', 'source in the region file')}), "
                 f"ratio {report['matched_km'] / published:.2f}")
        report["published_length_km"] = float(published)
        report["ratio_to_published"] = round(report["matched_km"] / published, 3)
    if report["not_matched"]:
        note += "; not matched: " + "; ".join(report["not_matched"])
    if spec.get("note"):
        note += f". {spec['note']}"
    return {
        "corridor_id": road, "name_vi": spec.get("name_vi", road), "name_en": spec.get("name_en", road),
        "road_class": spec.get("road_class"), "programme": not spec.get("context", False), "status": "existing",
        "method": "waypoints", "length_km": round(report["matched_km"], 3),
        "reference_length_km": float(published) if np.isfinite(published) else np.nan,
        "matched_share": report["legs_matched"] / max(len(report["legs"]), 1), "design_speed_kmh": np.nan,
        "source": f"OSM 2018 network labelled by routing through sourced waypoints ({file_name})",
        "note": note, "geometry": line, "gaps": len(report["not_matched"]),
        "gap_km": np.nan,
    }
