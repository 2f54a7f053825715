"""Road corridors: which network edges are QL1A, QL37, CT.01 …, and planned lines.

:func:`corridors` builds one row per corridor found, from one of three kinds
of evidence (column ``method``):

``osm_tags``
    OSM road ways with ``ref``/``name`` tags (from pyrosm or osmnx), labelled
    with :func:`geo.routing.roadref.match_corridor`. Used when ``osm_edges`` is given.
``map_matched``
    The attribute-less road network of the region (``road_network``) labelled
    by map-matching the coarse named reference layer (``reference_roads``)
    onto it with :func:`geo.routing.matching.match_line`. Used otherwise.
``scenario_file``
    Planned lines from user files (any vector format): column ``name``,
    optional ``road_class`` and ``design_speed_kmh``.
``opened_road``
    Roads opened since the network file and added to today's network
    (``today_network.additions`` of the region YAML, :mod:`layers.opened_roads`),
    e.g. CT.01 (opened 2020): status ``existing`` with the file's source and
    alignment quality. Only with ``network="today"`` (the default) and no OSM
    extract; with ``network="2018"`` such a corridor stays "not found".

Corridors configured for the region (``corridors`` in the region YAML) but
not found in the evidence are listed in ``attrs["summary"]["not_found"]``
with the reason; nothing is guessed. A number alone is not enough: "Tỉnh lộ
279" is provincial road ĐT279 and never becomes QL279.

Columns
-------
corridor_id : config key (``ql1a``, ``ct01`` …); planned lines without a
    config entry get ``planned_<name>``; a planned line for a corridor that
    also exists gets ``<id>_planned``.
name_vi, name_en : names from the config (planned lines: the file's name).
road_class : ``expressway``, ``national`` … (config or file); None when unknown.
programme : True for the corridors the action programme names (QL1A, CT.01, QL37 …) and
    planned roads; False for context roads labelled only for their speed (QL5, QL18 …;
    ``context: true`` in the region file).
status : ``existing`` or ``planned``.
method : ``osm_tags``, ``map_matched``, ``scenario_file`` or ``opened_road``.
alignment : for ``opened_road``: ``surveyed``, ``traced`` or ``indicative`` (from
    the file); None for the others (their lines are the network file's).
length_km : length of the corridor's lines (matched network edges, tagged
    ways or planned lines), km in the metric CRS; for an opened road its
    official length where the file gives one (the drawn length is in the note).
reference_length_km : length of the reference line inside the region
    window (map-matched only; NaN otherwise).
matched_share : share of that reference covered by matched network paths
    (0–1; map-matched only, NaN otherwise).
design_speed_kmh : from the scenario file; NaN otherwise.
source, note : where the row comes from; gaps and caveats.
geometry : MultiLineString, EPSG:4326.

Edge labels
-----------
The network edges of each existing corridor are in
``gdf.attrs["edge_labels"]``, a dict of two plain lists ``edge_id`` and
``corridor_id`` (one entry per edge and corridor; an edge may carry two
corridors where they share the road). Plain lists, not a DataFrame, because
pandas compares ``attrs`` when concatenating frames and a DataFrame there
would break that. :func:`corridor_edges` turns it into a DataFrame, ready to
be written as the attribute table ``corridor_edges`` of layers.gpkg. For
``osm_tags`` the ``edge_id`` is the ``edge_id`` column of ``osm_edges`` if it
has one, else ``id`` (pyrosm), else ``osmid`` (osmnx), else the row index.

Everything is computed in memory; nothing is cached on disk. On the real
Bắc Giang data the map-matched build takes about 2–3 s.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from geo import settings
from geo.crs import to_metric
from geo.errors import InputError
from geo.io.vector import keep_in_area, read_vector
from geo.routing.matching import match_line
from geo.routing.network import components_report
from geo.routing.roadref import match_corridor, parse_refs
from geo.text import fold, nfc
from layers.boundaries import region_polygon, region_window
from layers.opened_roads import addition_files, official_length_km, read_opened_roads
from layers.region import Region
from layers.road_waypoints import waypoint_corridors, waypoint_files
from layers.shared import prepared_road_file, road_file

log = logging.getLogger(__name__)

COLUMNS = ["corridor_id", "name_vi", "name_en", "road_class", "programme", "status", "method", "length_km",
           "reference_length_km", "matched_share", "design_speed_kmh", "alignment", "source", "note"]

_RAIL_KINDS = ("duong sat", "railway", "rail")


def corridors(region: Region, osm_edges: gpd.GeoDataFrame | None = None,
              scenario_files: Iterable[str | os.PathLike] = (), network: str = "today") -> gpd.GeoDataFrame:
    """The corridors layer of ``region`` (see the module docstring for columns).

    Parameters
    ----------
    region : the loaded region (its ``corridors``, ``road_network`` and
        ``reference_roads`` sections are used).
    osm_edges : OSM road ways with ``ref`` and/or ``name`` columns; when
        given, corridors are labelled by tags and the reference layer is not
        read.
    scenario_files : vector files of planned lines (``name`` column required).
    network : ``"today"`` (default: roads of ``today_network.additions`` are
        existing corridors, method ``opened_road``) or ``"2018"`` (the network
        file alone: such a road is "not found").

    Returns
    -------
    GeoDataFrame in EPSG:4326 with ``attrs["summary"]`` (per corridor:
    status, method, length_km, in_region_km (inside the region outline),
    reference_length_km, matched_share, gaps and gap km; ``not_found``: corridor id, name and reason; ``planned``;
    ``network``: size and connectivity of the network used; ``seconds``)
    and ``attrs["edge_labels"]``.
    """
    started = time.perf_counter()
    if network not in ("today", "2018"):
        raise InputError(None, f"network must be 'today' or '2018', not '{network}'")
    window = region_window(region, region.metric_crs)
    planned: list[dict] = []                   # read first: a bad file fails before the slow work
    for path in scenario_files:
        planned.extend(_from_scenario_file(region, Path(path), window, {r["corridor_id"] for r in planned}))
    if osm_edges is not None:
        rows, labels, not_found, network_info = _from_osm_tags(region, osm_edges, window)
    else:
        rows, labels, not_found, network_info = _from_reference(region, window)
        if network == "today":
            rows, not_found = _with_opened_roads(region, rows, not_found)
    taken = {r["corridor_id"] for r in rows} | {r["corridor_id"] for r in planned}
    for row in planned:                        # a planned line for a corridor that exists gets its own id
        if row["corridor_id"] in {r["corridor_id"] for r in rows}:
            row["corridor_id"] = _unique(f"{row['corridor_id']}_planned", taken)
    rows = rows + planned
    planned_ids = {r["corridor_id"] for r in planned}    # a corridor added as a planned line is reported, not "not found"
    not_found = [item for item in not_found if item["corridor_id"] not in planned_ids]

    frame = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=COLUMNS)
    for col in ("length_km", "reference_length_km", "matched_share", "design_speed_kmh"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([r["geometry"] for r in rows], crs=settings.storage_crs),
                           crs=settings.storage_crs)
    outline = gpd.GeoSeries([region_polygon(region)], crs="EPSG:4326").to_crs(region.metric_crs).iloc[0]
    in_region = to_metric(gdf, region.metric_crs).intersection(outline).length / 1000.0 if len(gdf) else []
    gdf.attrs["summary"] = {
        "corridors": {r["corridor_id"]: {
            "status": r["status"], "method": r["method"], "length_km": _num(r["length_km"]),
            "in_region_km": _num(km),
            "reference_length_km": _num(r.get("reference_length_km")), "matched_share": _num(r.get("matched_share")),
            "gaps": r.get("gaps"), "gap_km": _num(r.get("gap_km")),
            **({"alignment": r["alignment"], "source": r["source"]} if r.get("alignment") else {}),
        } for r, km in zip(rows, in_region)},
        "not_found": not_found,
        "planned": [r["corridor_id"] for r in planned],
        "network": network_info,
        "network_choice": network if osm_edges is None else "osm",
        "edge_labels": len(labels),
        "seconds": round(time.perf_counter() - started, 2),
    }
    gdf.attrs["edge_labels"] = {"edge_id": [int(e) if _is_int(e) else e for e in labels["edge_id"]],
                                "corridor_id": [str(c) for c in labels["corridor_id"]]}
    log.info("corridors: %d found, %d not found, %d planned, %d labelled edges in %.1f s",
             len(rows) - len(planned), len(not_found), len(planned), len(labels), gdf.attrs["summary"]["seconds"])
    return gdf


def corridor_edges(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """The edge labels of a corridors layer as a DataFrame (``edge_id``, ``corridor_id``).

    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame(geometry=[])
    >>> g.attrs["edge_labels"] = {"edge_id": [7, 8], "corridor_id": ["ql1a", "ql1a"]}
    >>> corridor_edges(g).values.tolist()
    [[7, 'ql1a'], [8, 'ql1a']]
    """
    labels = layer.attrs.get("edge_labels") or {"edge_id": [], "corridor_id": []}
    return pd.DataFrame({"edge_id": labels["edge_id"], "corridor_id": pd.Series(labels["corridor_id"], dtype=object)})


# ----------------------------------------------------------------------------- map-matching


def _from_reference(region: Region, window) -> tuple[list, pd.DataFrame, list, dict]:
    ref_cfg = region.section("reference_roads")
    net_cfg = region.section("road_network")
    ref_path = region.path("reference_roads")
    reference = read_vector(ref_path)
    name_field = ref_cfg.get("name_field", "name")
    if name_field not in reference.columns:
        raise InputError(ref_path, f"has no name column '{name_field}' (columns: {', '.join(map(str, reference.columns))})")
    kind_field = ref_cfg.get("kind_field")
    if kind_field and kind_field in reference.columns:
        rail = reference[kind_field].map(lambda k: isinstance(k, str) and any(w in fold(k) for w in _RAIL_KINDS))
        reference = reference.loc[~rail.to_numpy()]
    corridor_specs = region.corridors
    reference = reference.assign(_corridor=[match_corridor(None, n, corridor_specs) for n in reference[name_field]])
    reference_metric = to_metric(reference, region.metric_crs)
    reference_metric = reference_metric.assign(geometry=reference_metric.geometry.intersection(window))
    in_window = ~reference_metric.geometry.is_empty

    net_path = region.path("road_network")
    nodes, edges = road_file(region)
    comps = components_report(nodes, edges)
    network = {"file": net_path.name, "edges": int(len(edges)), "length_km": round(float(comps.length_km.sum()), 1),
               "components": int(len(comps)), "largest_share": round(float(comps.share.iloc[0]), 4) if len(comps) else None}
    prepared = None
    geometry_of = edges.set_index("edge_id").geometry

    rows, labels, not_found = [], [], []
    ref_source = ref_cfg.get("source", ref_path.name)
    net_source = net_cfg.get("source", net_path.name)
    todo = [cid for cid in corridor_specs if (reference["_corridor"] == cid).any()]
    for cid, spec in corridor_specs.items():
        if cid in todo:
            continue
        not_found.append(_not_found(cid, spec, _absent_reason(cid, spec, reference[name_field], reference["_corridor"], ref_path.name)))
    for cid in tqdm(todo, desc="map-matching corridors", disable=not settings.progress, leave=False):
        spec = corridor_specs[cid]
        mine = (reference["_corridor"] == cid).to_numpy()
        names = sorted(set(reference.loc[mine, name_field].map(nfc)))
        if not (mine & in_window.to_numpy()).any():
            not_found.append(_not_found(cid, spec, f"the reference ({', '.join(names)}) lies outside the region window"))
            continue
        if prepared is None:
            prepared = prepared_road_file(region)
        matched, report = match_line(reference_metric.loc[mine & in_window.to_numpy()], network=prepared)
        if matched.empty:
            not_found.append(_not_found(cid, spec, f"the reference ({', '.join(names)}) matched no edge of {net_path.name}"))
            continue
        geometry = _multiline(geometry_of.loc[matched["edge_id"].to_numpy()].to_numpy())
        gaps = report["gaps"]
        note = (f"matched {report['matched_length_km']:.1f} km of network to {report['reference_in_network_km']:.1f} km "
                f"of reference ({', '.join(names)}); {gaps['count']} gap(s), {gaps['km']:.1f} km of reference unmatched")
        if gaps["count"]:
            note += " near " + "; ".join(f"{x:.3f} E {y:.3f} N" for x, y in gaps["where"][:5])
        if spec.get("note"):
            note += f". {spec['note']}"
        rows.append({
            "corridor_id": cid, "name_vi": spec.get("name_vi", cid), "name_en": spec.get("name_en", cid),
            "road_class": spec.get("road_class"), "programme": not spec.get("context", False), "status": "existing", "method": "map_matched",
            "length_km": round(report["matched_length_km"], 3),
            "reference_length_km": round(report["reference_in_network_km"], 3),
            "matched_share": report["matched_share"], "design_speed_kmh": np.nan,
            "source": f"{net_source}; labelled by map-matching to {ref_source}",
            "note": note, "geometry": geometry, "gaps": gaps["count"], "gap_km": gaps["km"],
        })
        labels.append(pd.DataFrame({"edge_id": matched["edge_id"].to_numpy(), "corridor_id": cid}))
    if waypoint_files(region):
        prepared = prepared if prepared is not None else prepared_road_file(region)
        rows, labels, not_found, network["waypoints"] = _with_waypoints(region, prepared, geometry_of, rows, labels, not_found)
    return rows, _concat_labels(labels), not_found, network


def _with_waypoints(region: Region, prepared, geometry_of, rows: list, labels: list, not_found: list):
    """Add the roads labelled from sourced waypoints (:mod:`layers.road_waypoints`); a corridor also found
    in the reference layer keeps one row, with both sets of edges."""
    line_of = lambda ids: _multiline(geometry_of.loc[np.asarray(ids)].to_numpy())   # noqa: E731
    found, new_labels, reports = waypoint_corridors(region, prepared, line_of)
    by_id = {r["corridor_id"]: r for r in rows}
    for row, lab in zip(found, new_labels):
        cid = row["corridor_id"]
        if cid in by_id:
            old = by_id[cid]
            ids = pd.unique(np.r_[[e for frame in labels if (frame["corridor_id"] == cid).any()
                                   for e in frame.loc[frame["corridor_id"] == cid, "edge_id"]], lab["edge_id"].to_numpy()])
            old["geometry"] = line_of(ids)
            old["length_km"] = round(float(prepared.length_m[pd.Index(prepared.edge_id).get_indexer(ids)].sum()) / 1000, 3)
            old["method"] = "map_matched, waypoints"
            old["note"] += f"; and {row['note']}"
        else:
            rows.append(row)
        labels.append(lab)
    done = {r["corridor_id"] for r in found}
    return rows, labels, [item for item in not_found if item["corridor_id"] not in done], reports


def _with_opened_roads(region: Region, rows: list, not_found: list) -> tuple[list, list]:
    """Rows for the roads opened since the network file (today's network); they leave ``not_found``."""
    taken = {r["corridor_id"] for r in rows}
    added = []
    for path in addition_files(region):
        lines, _ = read_opened_roads(path)
        metric = lines.to_crs(region.metric_crs)
        for line, m_line, (_, row) in zip(lines.geometry, metric.geometry, lines.iterrows()):
            ref = row.get("ref") if isinstance(row.get("ref"), str) else None
            cid = match_corridor(ref, str(row["name"]), region.corridors)
            if cid in taken:          # already in the network file (e.g. map-matched): that row stands
                continue
            spec = region.corridors.get(cid, {}) if cid else {}
            cid = cid or _unique("opened_" + "_".join(fold(str(row["name"])).split())[:40], taken)
            taken.add(cid)
            drawn_km = float(m_line.length) / 1000.0
            official = official_length_km(row)
            note = (f"opened {row['opened']}; added to today's network from {path.name}, alignment {row['alignment']}; "
                    f"drawn {drawn_km:.1f} km" + (f", official {official:g} km" if np.isfinite(official) else ""))
            if spec.get("note"):
                note += f". {spec['note']}"
            added.append({
                "corridor_id": cid, "name_vi": spec.get("name_vi", nfc(str(row["name"]))),
                "name_en": spec.get("name_en", nfc(str(row["name"]))), "road_class": str(row["road_class"]),
                "programme": bool(spec) and not spec.get("context", False), "status": "existing", "method": "opened_road",
                "length_km": round(official if np.isfinite(official) else drawn_km, 3),
                "reference_length_km": np.nan, "matched_share": np.nan, "design_speed_kmh": np.nan,
                "alignment": str(row["alignment"]), "source": str(row["source"]), "note": note,
                "geometry": _multiline(np.array([line], dtype=object)),
            })
    ids = {r["corridor_id"] for r in added}
    return rows + added, [item for item in not_found if item["corridor_id"] not in ids]


def _absent_reason(cid: str, spec: dict, names: pd.Series, matched: pd.Series, file_name: str) -> str:
    """Why a corridor is not in the reference, naming unmatched roads with its number but another class.

    >>> spec = {"refs": ["QL279", "279"]}
    >>> names = pd.Series(["Tỉnh lộ 279", "Quốc lộ 37"])
    >>> _absent_reason("ql279", spec, names, pd.Series([None, "ql37"]), "ref.geojson")
    'not in the reference layer ref.geojson (no feature named like QL279, 279); ignored look-alike of another road class: Tỉnh lộ 279'
    """
    numbered = {"QL", "CT", "DT", "DH"}
    wanted = {(code[:2], code[2:]) for ref in spec.get("refs") or [] for code in parse_refs(str(ref)) if code[:2] in numbered}
    numbers = {number for _, number in wanted}
    classes = {prefix for prefix, _ in wanted}
    look_alikes = sorted({nfc(n) for n, m in zip(names, matched) if pd.isna(m) and isinstance(n, str)
                          and any(c[:2] in numbered - classes and c[2:] in numbers for c in parse_refs(n))})
    reason = f"not in the reference layer {file_name} (no feature named like {', '.join(map(str, spec.get('refs') or []))})"
    if look_alikes:
        reason += f"; ignored look-alike of another road class: {', '.join(look_alikes)}"
    if spec.get("note"):
        reason += f". {spec['note']}"
    return reason


# ----------------------------------------------------------------------------- OSM tags


def _from_osm_tags(region: Region, osm_edges: gpd.GeoDataFrame, window) -> tuple[list, pd.DataFrame, list, dict]:
    source = osm_edges.attrs.get("source", "osm_edges")
    if osm_edges.crs is None:
        raise InputError(source, "OSM road ways have no CRS")
    if not ({"ref", "name"} & set(osm_edges.columns)):
        raise InputError(source, "OSM road ways need a 'ref' or 'name' column to be labelled")
    ways = osm_edges.to_crs(region.metric_crs)
    ways = ways.loc[ways.geometry.notna() & ways.geometry.intersects(window)]
    refs = ways["ref"].map(_tag_text) if "ref" in ways else pd.Series(None, index=ways.index)
    names = ways["name"].map(_tag_text) if "name" in ways else pd.Series(None, index=ways.index)
    corridor_specs = region.corridors
    label = pd.Series([match_corridor(r, n, corridor_specs) for r, n in zip(refs, names)], index=ways.index)
    ids = _edge_ids(ways)
    network = {"file": str(source), "edges": int(len(ways)),
               "length_km": round(float(ways.geometry.length.sum()) / 1000.0, 1)}
    rows, labels, not_found = [], [], []
    for cid, spec in corridor_specs.items():
        mine = (label == cid).to_numpy()
        if not mine.any():
            reason = f"no OSM way in the region window tagged with ref/name like {', '.join(map(str, spec.get('refs') or []))}"
            if spec.get("names"):
                reason += f" or named like '{spec['names'][0]}'"
            not_found.append(_not_found(cid, spec, reason + (f". {spec['note']}" if spec.get("note") else "")))
            continue
        part = ways.loc[mine]
        geometry = _multiline(np.asarray(part.geometry.to_crs(settings.storage_crs).values))
        rows.append({
            "corridor_id": cid, "name_vi": spec.get("name_vi", cid), "name_en": spec.get("name_en", cid),
            "road_class": spec.get("road_class"), "programme": not spec.get("context", False), "status": "existing", "method": "osm_tags",
            "length_km": round(float(part.geometry.length.sum()) / 1000.0, 3),
            "reference_length_km": np.nan, "matched_share": np.nan, "design_speed_kmh": np.nan,
            "source": "OpenStreetMap ref/name tags (© OpenStreetMap contributors, ODbL)",
            "note": f"{int(mine.sum())} OSM way(s)" + (f". {spec['note']}" if spec.get("note") else ""),
            "geometry": geometry,
        })
        labels.append(pd.DataFrame({"edge_id": ids[mine], "corridor_id": cid}))
    return rows, _concat_labels(labels), not_found, network


def _tag_text(value):
    """OSM tag values as text: osmnx gives lists where merged ways disagree."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return ";".join(str(v) for v in value if isinstance(v, str))
    return value if isinstance(value, str) else None


def _edge_ids(ways: gpd.GeoDataFrame) -> np.ndarray:
    for column in ("edge_id", "id", "osmid"):
        if column in ways.columns:
            return np.asarray([v if not isinstance(v, (list, tuple)) else v[0] for v in ways[column]])
    return ways.index.to_numpy()


# ----------------------------------------------------------------------------- planned lines


def _from_scenario_file(region: Region, path: Path, window, taken: set) -> list:
    lines = read_vector(path)
    # Point features of a scenario file are its interchanges (used by `scenario`/`site`), not corridors.
    if (lines.geometry.geom_type != "Point").any():
        lines = lines[lines.geometry.geom_type != "Point"].reset_index(drop=True)
    if "name" not in lines.columns:
        raise InputError(path, f"planned lines need a 'name' column (columns: {', '.join(map(str, lines.columns[:-1]))})")
    kinds = set(lines.geometry.geom_type.unique())
    if not kinds <= {"LineString", "MultiLineString"}:
        raise InputError(path, f"planned corridors must be lines, found {', '.join(sorted(kinds))}")
    unnamed = lines["name"].isna() | (lines["name"].astype(str).str.strip() == "")
    if unnamed.any():
        raise InputError(path, f"{int(unnamed.sum())} line(s) without a name")
    window_in_file_crs = gpd.GeoSeries([window], crs=region.metric_crs).to_crs(lines.crs).iloc[0]
    lines = keep_in_area(lines, window_in_file_crs, path, what="planned lines")
    metric = to_metric(lines, region.metric_crs)
    corridor_specs = region.corridors
    rows = []
    for name, group in metric.groupby(metric["name"].map(nfc), sort=False):
        cid = match_corridor(None, name, corridor_specs)
        spec = corridor_specs.get(cid, {}) if cid else {}
        corridor_id = _unique(cid or "planned_" + (fold(name).replace(" ", "_") or "line"), taken)
        road_class = _first(group, "road_class") or spec.get("road_class")
        speed = pd.to_numeric(pd.Series([_first(group, "design_speed_kmh")]), errors="coerce").iloc[0]
        notes = []
        if cid:
            notes.append(f"recognised as {spec.get('name_vi', cid)}")
        if road_class is None:
            notes.append("road_class not given in the file")
        if pd.isna(speed):
            notes.append("design_speed_kmh not given in the file")
        rows.append({
            "corridor_id": corridor_id, "name_vi": name, "name_en": spec.get("name_en", name) if cid else name,
            "road_class": road_class, "programme": True, "status": "planned", "method": "scenario_file",
            "length_km": round(float(group.geometry.length.sum()) / 1000.0, 3),
            "reference_length_km": np.nan, "matched_share": np.nan, "design_speed_kmh": float(speed),
            "source": path.name, "note": "; ".join(notes),
            "geometry": _multiline(np.asarray(group.geometry.to_crs(settings.storage_crs).values)),
        })
    return rows


def _unique(wanted: str, taken: set) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3`` … whichever is free; the result is added to ``taken``."""
    name, n = wanted, 2
    while name in taken:
        name, n = f"{wanted}_{n}", n + 1
    taken.add(name)
    return name


def _first(group: pd.DataFrame, column: str):
    if column not in group.columns:
        return None
    values = group[column].dropna()
    values = values[values.astype(str).str.strip() != ""]
    return values.iloc[0] if len(values) else None


# ----------------------------------------------------------------------------- helpers


def _multiline(geoms: np.ndarray) -> shapely.MultiLineString:
    """Lines joined end to end where possible, always as a MultiLineString."""
    merged = shapely.line_merge(shapely.union_all(geoms))
    parts = [merged] if merged.geom_type == "LineString" else [g for g in getattr(merged, "geoms", []) if g.geom_type == "LineString"]
    return shapely.MultiLineString(parts)


def _not_found(cid: str, spec: dict, reason: str) -> dict:
    return {"corridor_id": cid, "name_vi": spec.get("name_vi", cid), "reason": reason}


def _concat_labels(labels: list) -> pd.DataFrame:
    if not labels:
        return pd.DataFrame({"edge_id": pd.Series(dtype="int64"), "corridor_id": pd.Series(dtype=object)})
    return pd.concat(labels, ignore_index=True).drop_duplicates()


def _num(value):
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else round(value, 4)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer))
