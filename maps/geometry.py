"""Geometry shared by the map builders: storage CRS, the map window, clipping and simplification.

Used by :mod:`maps.planner` and :mod:`maps.dualmap` (and any new page
module). Metric work (buffers, simplification) in the metric CRS of
:mod:`geo.settings`, results in EPSG:4326. :func:`geojson_geometries` gives the
GeoJSON of many geometries at once (the pages' layers and the site's downloads).
"""

from __future__ import annotations

import json
import threading

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box

from geo import settings

#: Default margin around the province envelope kept on the map (km).
DEFAULT_CLIP_KM = 10.0
#: Layers kept whole (not cut to the window): far destinations such as Hà Nội or Lạch Huyện port.
NOT_CLIPPED = ("province", "destinations")
#: (west, south, east, north) used only when no layer has features (a whole-world view is useless).
FALLBACK_BOUNDS = (102.1, 8.2, 109.5, 23.4)     # Việt Nam's mainland extent (degrees)


def to_storage(gdf):
    """``gdf`` in the storage CRS (EPSG:4326); other objects returned as they are."""
    if isinstance(gdf, gpd.GeoDataFrame) and gdf.crs is not None and gdf.crs != settings.storage_crs:
        return gdf.to_crs(settings.storage_crs)
    return gdf


def window_of(layers: dict, clip_km: float | None):
    """The map window: the region's envelope grown by ``clip_km`` (km, metric CRS), in EPSG:4326; None = no clipping."""
    if clip_km is None:
        return None
    area = region_geometry(layers)
    if area is None:
        return None
    metric = gpd.GeoSeries([box(*area.bounds)], crs=settings.storage_crs).to_crs(settings.metric_crs)
    return metric.buffer(clip_km * 1000, join_style="mitre").to_crs(settings.storage_crs).iloc[0].envelope


def region_geometry(layers: dict):
    """Union of the province (or district) polygons of ``layers``; None when there are none."""
    for name in ("province", "districts", "district_population"):
        gdf = layers.get(name)
        if isinstance(gdf, gpd.GeoDataFrame) and len(gdf):
            return shapely.union_all(gdf.geometry.values)
    return None


def bounds_of(layers: dict) -> tuple:
    """(west, south, east, north) in degrees of the region, else of every layer, else the fallback box."""
    area = region_geometry(layers)
    if area is not None:
        return area.bounds
    frames = [g for g in layers.values() if isinstance(g, gpd.GeoDataFrame) and len(g)]
    if not frames:
        return FALLBACK_BOUNDS
    b = np.array([g.total_bounds for g in frames])
    return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


#: Layers already prepared in this process (:func:`prepare`), most recent last: the planner map and every page of
#: the site cut and simplify the same layers through the same window, so each is done once per run.
_PREPARED: dict = {}
#: How many prepared layers are kept (a long-running ``plan.py serve`` keeps no more).
PREPARED_KEPT = 48
_PREPARED_LOCK = threading.Lock()       # pages of ``plan.py serve`` may be drawn in several threads


def prepare(name: str, gdf, window, tolerance_m: float):
    """``gdf`` cut to ``window`` (unless ``name`` is in :data:`NOT_CLIPPED`), simplified by ``tolerance_m`` metres in the
    metric CRS, empty geometries dropped; EPSG:4326.

    The geometry work is remembered: a frame holding the very same geometry objects (e.g. the published copy of a
    layer, with fewer columns) prepared again with the same name, window and tolerance reuses it.
    """
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf or not len(gdf):
        return gdf
    objects = np.asarray(gdf.geometry.values, dtype=object)
    ids = np.fromiter(map(id, objects), dtype=np.uint64, count=len(objects))
    key = (name, None if window is None else window.wkb, float(tolerance_m or 0), len(objects))
    kept = _PREPARED.get(key)
    if kept is not None and kept[0] == gdf.crs and np.array_equal(kept[1], ids):
        positions, geometry = kept[3], kept[4]
    else:
        positions, geometry = _prepared_geometry(name, gdf, window, tolerance_m)
        with _PREPARED_LOCK:
            _PREPARED.pop(key, None)
            # the objects are kept with their ids, so an id cannot be reused by another geometry while remembered
            _PREPARED[key] = (gdf.crs, ids, objects.copy(), positions, geometry)
            while len(_PREPARED) > PREPARED_KEPT:
                _PREPARED.pop(next(iter(_PREPARED)))
    out = gdf.iloc[positions]
    crs = settings.storage_crs if gdf.crs is not None else None
    return out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=crs, name=out.geometry.name))


def _prepared_geometry(name: str, gdf, window, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The work of :func:`prepare` on the geometry alone: (positions of the rows kept, their geometries in EPSG:4326)."""
    gdf = gpd.GeoDataFrame({"_row": np.arange(len(gdf))}, geometry=np.asarray(gdf.geometry.values), crs=gdf.crs)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.crs is not None and gdf.crs != settings.storage_crs:
        gdf = gdf.to_crs(settings.storage_crs)
    if window is not None and name not in NOT_CLIPPED:
        gdf = gdf[gdf.intersects(window)]
        if not gdf.geom_type.isin(["Point", "MultiPoint"]).all():
            gdf = gdf.clip(window)
    if tolerance_m and len(gdf) and not gdf.geom_type.isin(["Point", "MultiPoint"]).all():
        metric = gdf.geometry.to_crs(settings.metric_crs).simplify(tolerance_m, preserve_topology=True)
        gdf = gdf.set_geometry(metric.to_crs(settings.storage_crs))
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    return gdf["_row"].to_numpy(), np.asarray(gdf.geometry.values, dtype=object)


#: shapely type ids of the geometries :func:`geojson_geometries` reads from one coordinate array.
_SIMPLE_TYPES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}


def geojson_geometries(geometries, decimals: int) -> list[dict]:
    """The GeoJSON ``geometry`` member of each of ``geometries`` (shapely, none empty), coordinates rounded to
    ``decimals`` and 2-D: the very dicts ``json.loads(shapely.to_geojson(g))`` gives for each geometry rounded by
    ``shapely.transform(g, lambda c: np.round(c, decimals))``, made from one array of every coordinate instead of a
    text written and read back per geometry (several times faster on a layer of polygons).

    >>> from shapely.geometry import Point, Polygon
    >>> geojson_geometries([Point(106.1234567, 21.0), Polygon([(0, 0), (1, 0), (1, 1)])], 5)
    [{'type': 'Point', 'coordinates': [106.12346, 21.0]}, {'type': 'Polygon', 'coordinates': [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}]
    """
    geoms = np.asarray(geometries, dtype=object)
    if not len(geoms):
        return []
    kinds = shapely.get_type_id(geoms)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    if not np.isin(kinds, list(_SIMPLE_TYPES)).all() or shapely.is_empty(parts).any():
        # a collection, a ring or an empty part: written and read back one by one
        rounded = shapely.transform(geoms, lambda c: np.round(c, decimals))
        return [json.loads(shapely.to_geojson(g)) for g in rounded]
    coords = np.round(shapely.get_coordinates(geoms), decimals).tolist()
    part_kinds = shapely.get_type_id(parts).tolist()
    counts = shapely.get_num_coordinates(parts).tolist()
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    ring_counts = np.split(shapely.get_num_coordinates(rings), np.flatnonzero(np.diff(ring_of)) + 1) if len(rings) else []
    ring_counts = dict(zip(np.unique(ring_of).tolist(), (c.tolist() for c in ring_counts)))
    at = 0
    part_coords = []
    for i, (kind, count) in enumerate(zip(part_kinds, counts)):
        if kind == 0:
            part_coords.append(coords[at])
        elif kind == 1:
            part_coords.append(coords[at:at + count])
        else:
            polygon, start = [], at
            for n in ring_counts[i]:
                polygon.append(coords[start:start + n])
                start += n
            part_coords.append(polygon)
        at += count
    out = [{"type": _SIMPLE_TYPES[k], "coordinates": []} for k in kinds.tolist()]
    for part, geometry in zip(part_coords, part_of.tolist()):
        if kinds[geometry] >= 4:
            out[geometry]["coordinates"].append(part)
        else:
            out[geometry]["coordinates"] = part
    return out
