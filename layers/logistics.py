"""Logistics: railway lines, stations, and user-supplied dry ports / ICDs / logistics centres.

:func:`railways` — the connected OSM 2018 railway lines
(``railways.lines_file``) cut to the region window, named from the 2025 OSM
export (``railways.named_lines_file``, named but gappy) where the two
overlap (within :data:`NAME_BUFFER_M`).

Columns: ``osm_id``, ``name`` (e.g. "Đường sắt Hà Nội - Đồng Đăng"; None
when unknown), ``name_en``, ``name_source`` (``"osm2025_overlap"`` /
``"osm2018"`` / ``"continuity"`` — both ends join lines of that one name —
/ None), ``name_match_share`` (share 0–1 of the line lying
within the buffer of the named 2025 line), ``name_osm2018`` (raw 2018 name),
``length_km`` (inside the window, EPSG:32648), ``length_in_region_km``,
``in_region``.

:func:`stations` — railway stations and halts (``railways.stations_file``,
HOT export 2025) in the window, plus optional user points.

Columns: ``kind`` (``rail_station`` / ``rail_halt`` / ``dry_port`` / ``icd``
/ ``logistics_centre``), ``name``, ``name_en``, ``osm_id``, ``in_region``,
``rail_distance_m`` (to the nearest 2018 railway line in the window, m),
``source`` (file name).

``attrs["summary"]`` of both: counts, kilometres, names found/not found.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geo.crs import to_metric
from geo.errors import InputError
from geo.text import fold, nfc
from geo.io.vector import keep_in_area, read_vector
from layers.boundaries import region_polygon, region_window
from layers.region import Region
from layers.shared import file_stamp, shared

log = logging.getLogger(__name__)

#: Distance (m) within which a 2025 named line is taken to be the same track as a 2018 line.
NAME_BUFFER_M = 25.0
#: Minimum share of a 2018 line lying along a named 2025 line to take its name.
NAME_MIN_SHARE = 0.25

#: Accepted values of the ``kind`` column of user points (after :func:`geo.text.fold`).
POINT_KINDS = {
    "dry port": "dry_port", "dry_port": "dry_port", "cang can": "dry_port", "inland port": "dry_port",
    "icd": "icd", "inland container depot": "icd",
    "logistics centre": "logistics_centre", "logistics center": "logistics_centre", "logistics_centre": "logistics_centre",
    "logistics": "logistics_centre", "trung tam logistics": "logistics_centre", "kho van": "logistics_centre",
}
DEFAULT_POINT_KIND = "logistics_centre"
_NAME_COLUMNS = ("name", "name_vi", "ten", "tên", "title")


def _cut(gdf: gpd.GeoDataFrame, area) -> gpd.GeoDataFrame:
    """Lines intersecting ``area``, cut to it (line parts only)."""
    hit = gdf.loc[np.asarray(gdf.intersects(area))].copy()
    cut = shapely.intersection(np.asarray(hit.geometry.values), area)
    keep = []
    for g in cut:
        parts = [p for p in shapely.get_parts(g) if p.geom_type == "LineString" and p.length > 0]
        keep.append(None if not parts else parts[0] if len(parts) == 1 else shapely.multilinestrings(parts))
    hit[hit.geometry.name] = keep
    return hit.loc[hit.geometry.notna()]


def _named_groups(named: gpd.GeoDataFrame, crs: str, window) -> list[dict]:
    """One dict per railway name of the 2025 layer: display name, English name, buffer polygon."""
    if "name" not in named:
        return []
    named = named.loc[named["name"].notna() & np.asarray(named.intersects(window))].copy()
    named["key"] = named["name"].map(fold)
    named = named.loc[~named["key"].str.startswith("cau ")]      # bridges ("Cầu Lục Nam"), not lines
    if named.empty:
        return []
    metric = to_metric(named, crs)
    metric["length"] = metric.length
    english = named["name:en"] if "name:en" in named else pd.Series(None, index=named.index)
    groups = []
    for key, part in metric.groupby("key"):
        spelling = part.groupby("name")["length"].sum().idxmax()
        en = english.loc[part.index].dropna()
        groups.append({"name": spelling, "name_en": en.mode().iloc[0] if len(en) else None,
                       "area": shapely.union_all(part.geometry.buffer(NAME_BUFFER_M).values)})
    return groups


def _components(lines_4326) -> int:
    """Connected components of lines that share vertices (rounded to 1e-7°)."""
    graph = nx.Graph()
    for geom in lines_4326:
        for part in shapely.get_parts(geom):
            coords = np.round(shapely.get_coordinates(part), 7)
            nodes = [tuple(c) for c in coords]
            graph.add_nodes_from(nodes)
            graph.add_edges_from(zip(nodes[:-1], nodes[1:]))
    return nx.number_connected_components(graph)


def _name_by_continuity(geoms, names: list, names_en: list, sources: list, tolerance_m: float = 1.0) -> None:
    """Name unnamed lines whose two ends both touch lines of one same name (in place, repeated until stable).

    Fills e.g. Bắc Giang → Kép, missing from the 2025 export but joined at
    both ends to "Đường sắt Hà Nội - Đồng Đăng". ``geoms`` are metric.
    """
    tree = shapely.STRtree(geoms)
    ends = [(shapely.Point(shapely.get_coordinates(g)[0]), shapely.Point(shapely.get_coordinates(g)[-1])) for g in geoms]
    touching = [[set(tree.query(e, predicate="dwithin", distance=tolerance_m)) - {i} for e in pair]
                for i, pair in enumerate(ends)]
    changed = True
    while changed:
        changed = False
        for i, (start, end) in enumerate(touching):
            if names[i] is not None:
                continue
            common = {names[j] for j in start if names[j] is not None} & {names[j] for j in end if names[j] is not None}
            if len(common) == 1:
                names[i] = common.pop()
                donor = next(j for j in start | end if names[j] == names[i])
                names_en[i] = names_en[donor]
                sources[i] = "continuity"
                changed = True


def railways(region: Region) -> gpd.GeoDataFrame:
    """Railway lines in the region window, with names where known (see module docstring). Made once per region
    and files (:mod:`layers.shared`: the layers and the rail network both ask); each call gets its own copy."""
    files = [file_stamp(region.path("railways", key)) for key in ("lines_file", "named_lines_file")
             if region.section("railways").get(key)]
    return shared(region, ("railways", *files), lambda: _railways(region)).copy()


def _railways(region: Region) -> gpd.GeoDataFrame:
    cfg = region.section("railways")
    lines_path = region.path("railways", "lines_file")
    crs = region.metric_crs
    window = region_window(region)
    outline = region_polygon(region)
    lines = read_vector(lines_path).to_crs("EPSG:4326")
    lines = _cut(lines, window)
    if lines.empty:
        raise InputError(lines_path, "no railway line inside the region window; wrong file for this region?")
    in_region_parts = shapely.intersection(np.asarray(lines.geometry.values), outline)

    metric = to_metric(lines, crs)
    lengths = metric.length.values
    in_region_len = to_metric(gpd.GeoDataFrame(geometry=in_region_parts, crs="EPSG:4326"), crs).length.values

    groups = []
    if cfg.get("named_lines_file"):
        named_path = region.path("railways", "named_lines_file")
        groups = _named_groups(read_vector(named_path), crs, window)
    best_name = [None] * len(lines)
    best_en = [None] * len(lines)
    best_share = np.full(len(lines), np.nan)
    if groups:
        metric_group_areas = gpd.GeoSeries([g["area"] for g in groups], crs=crs)
        tree = shapely.STRtree(metric_group_areas.values)
        line_idx, group_idx = tree.query(metric.geometry.values, predicate="intersects")
        overlap = shapely.length(shapely.intersection(metric.geometry.values[line_idx], metric_group_areas.values[group_idx]))
        table = pd.DataFrame({"line": line_idx, "group": group_idx, "overlap": overlap})
        table = table.loc[table.groupby("line")["overlap"].idxmax()] if len(table) else table
        for row in table.itertuples(index=False):
            share = row.overlap / lengths[row.line] if lengths[row.line] > 0 else 0.0
            if share >= NAME_MIN_SHARE:
                best_name[row.line] = groups[row.group]["name"]
                best_en[row.line] = groups[row.group]["name_en"]
                best_share[row.line] = round(float(min(share, 1.0)), 3)

    raw_names = lines["name"].map(nfc) if "name" in lines else pd.Series(None, index=lines.index)
    names, sources = [], []
    for new, old in zip(best_name, raw_names):
        if new is not None:
            name, source = new, "osm2025_overlap"
        elif isinstance(old, str) and fold(old).startswith(("duong sat ", "duong tau ")):
            name, source = old, "osm2018"     # a railway name; junk such as "ngõ 145" is left out
        else:
            name, source = None, None
        names.append(name)
        sources.append(source)

    _name_by_continuity(metric.geometry.values, names, best_en, sources)

    out = gpd.GeoDataFrame({
        "osm_id": lines["osm_id"].astype(str).values if "osm_id" in lines else None,
        "name": names, "name_en": best_en, "name_source": sources, "name_match_share": best_share,
        "name_osm2018": raw_names.where(raw_names.notna(), None).values,
        "length_km": np.round(lengths / 1000, 3),
        "length_in_region_km": np.round(in_region_len / 1000, 3),
        "in_region": in_region_len > 0,
    }, geometry=lines.geometry.values, crs="EPSG:4326")

    reg = out[out["in_region"]]
    named_km = reg.loc[reg["name"].notna(), "length_in_region_km"].sum()
    out.attrs["summary"] = {
        "lines_in_window": int(len(out)),
        "track_km_in_window": round(float(out["length_km"].sum()), 1),
        "lines_in_region": int(len(reg)),
        "track_km_in_region": round(float(reg["length_in_region_km"].sum()), 1),
        "components_in_region": _components([g for g in in_region_parts if not g.is_empty]),
        "named_share_of_track_in_region": round(float(named_km / reg["length_in_region_km"].sum()), 3) if len(reg) else None,
        "names_in_region": sorted({n for n in reg["name"] if isinstance(n, str)}),
        "names_in_window": sorted({n for n in out["name"] if isinstance(n, str)}),
        "source": "OpenStreetMap 2018-01-03 (Geofabrik) lines; names from the OSM 2025 HOT export where they overlap",
    }
    return out


def _point_kinds(values: pd.Series, path) -> pd.Series:
    kinds = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
            kinds.append(DEFAULT_POINT_KIND)
            continue
        key = fold(str(value))
        kind = POINT_KINDS.get(key) or POINT_KINDS.get(key.replace("_", " "))
        if kind is None:
            raise InputError(path, f"unknown kind '{value}' (use dry_port, icd or logistics_centre)")
        kinds.append(kind)
    return pd.Series(kinds, index=values.index)


def read_logistics_points(path: str | os.PathLike, window=None) -> gpd.GeoDataFrame:
    """Read user dry ports / ICDs / logistics centres (any vector file, or CSV with lon/lat).

    Columns out: ``kind`` (from a ``kind`` column, default
    ``logistics_centre``), ``name`` (from name/name_vi/ten, else None),
    ``source`` (file name), geometry in EPSG:4326. With ``window`` (shapely,
    EPSG:4326), points outside it are dropped (an error if all are).

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ports.csv"
    >>> _ = p.write_text("name,kind,lon,lat\\nICD Kép,ICD,106.29,21.41\\nKho A,,106.2,21.3\\n", encoding="utf-8")
    >>> read_logistics_points(p)[["name", "kind"]].values.tolist()
    [['ICD Kép', 'icd'], ['Kho A', 'logistics_centre']]
    """
    path = Path(path)
    gdf = read_vector(path, crs="EPSG:4326").to_crs("EPSG:4326")
    if not gdf.geom_type.eq("Point").all():
        gdf[gdf.geometry.name] = gdf.geometry.representative_point()
        log.warning("%s: non-point features replaced by a point inside each", path)
    if window is not None:
        gdf = keep_in_area(gdf, window, path, what="points")
    lower = {str(c).lower(): c for c in gdf.columns}
    name_col = next((lower[c] for c in _NAME_COLUMNS if c in lower), None)
    kinds = _point_kinds(gdf[lower["kind"]], path) if "kind" in lower else pd.Series(DEFAULT_POINT_KIND, index=gdf.index)
    return gpd.GeoDataFrame({
        "kind": kinds.values,
        "name": gdf[name_col].map(nfc).values if name_col else None,
        "source": path.name,
    }, geometry=gdf.geometry.values, crs="EPSG:4326")


def stations(region: Region, extra_points: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Railway stations/halts in the region window plus user points (see module docstring)."""
    path = region.path("railways", "stations_file")
    window = region_window(region)
    outline = region_polygon(region)
    raw = read_vector(path).to_crs("EPSG:4326")
    if "railway" in raw:
        raw = raw.loc[raw["railway"].isin(["station", "halt"])]
    raw = raw.loc[np.asarray(raw.within(window))]
    frames = [gpd.GeoDataFrame({
        "kind": np.where(raw["railway"].eq("halt"), "rail_halt", "rail_station") if "railway" in raw else "rail_station",
        "name": raw["name"].values if "name" in raw else None,
        "name_en": raw["name:en"].where(raw["name:en"].notna(), None).values if "name:en" in raw else None,
        "osm_id": raw["osm_id"].astype(str).values if "osm_id" in raw else None,
        "source": path.name,
    }, geometry=raw.geometry.values, crs="EPSG:4326")]
    if extra_points is not None:
        extra = read_logistics_points(extra_points, window)
        extra["name_en"] = None
        extra["osm_id"] = None
        frames.append(extra)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    out["in_region"] = np.asarray(out.within(outline))

    try:
        lines = _cut(read_vector(region.path("railways", "lines_file")).to_crs("EPSG:4326"), window)
        crs = region.metric_crs
        pts, rails = to_metric(out, crs), to_metric(lines, crs)
        near = gpd.sjoin_nearest(pts[["geometry"]], rails[["geometry"]], how="left", distance_col="d")
        out["rail_distance_m"] = near.groupby(level=0)["d"].min().reindex(out.index).round(1).values
    except InputError as exc:
        log.warning("rail distances not computed: %s", exc)
        out["rail_distance_m"] = np.nan

    out = out[["kind", "name", "name_en", "osm_id", "in_region", "rail_distance_m", "source", "geometry"]]
    reg = out[out["in_region"]]
    out.attrs["summary"] = {
        "points_in_window": int(len(out)),
        "by_kind_in_window": {str(k): int(v) for k, v in out["kind"].value_counts().items()},
        "by_kind_in_region": {str(k): int(v) for k, v in reg["kind"].value_counts().items()},
        "rail_stations_in_region": sorted(reg.loc[reg["kind"].str.startswith("rail"), "name"].dropna().tolist()),
        "user_points": int((~out["kind"].str.startswith("rail")).sum()),
        "note": "HOT export tags metro/tram stations of Hà Nội as railway=station too; they are kept",
    }
    return out
