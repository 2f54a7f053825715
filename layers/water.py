"""Water: rivers and streams (lines) and water areas (polygons), OSM 2018.

Source: ``region.config["water"]`` — a GeoPackage with a line layer
(``lines_layer``, waterway centre-lines rebuilt from OSM 2018; rivers,
streams, canals and drains mixed, no names) and a polygon layer
(``areas_layer``: lakes, reservoirs, river areas, ponds). Both are cut to
the region window (region + 30 km).

Columns
-------
``kind`` : ``"waterway"`` (line) or ``"water_area"`` (polygon).
``source_id`` : ``edge_id`` of the line in the source file; row number of
    the polygon in its layer.
``length_km`` : waterway length inside the window (km, EPSG:32648); NaN for areas.
``length_in_region_km`` : part of it inside the region outline.
``area_ha`` : water-area surface inside the window (ha); NaN for lines.
``area_in_region_ha`` : part of it inside the region outline.
``water_area_frac`` : share (0–1) of the whole source line lying within
    15 m of a water area (wide rivers mapped also as areas); NaN for areas.
``in_region`` : the feature touches the region outline.

``attrs["summary"]`` : kilometres of waterway and hectares of water area in
the region and window, largest areas, and what the data cannot tell (names,
river classes).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import to_metric
from geo.errors import InputError
from geo.io.vector import read_vector
from layers.boundaries import region_polygon, region_window
from layers.region import Region

SOURCE_NOTE = "OpenStreetMap 2018-01-03 via Geofabrik, geometry only (no names or waterway classes)"


def _only(geom, family: str):
    """``geom`` reduced to its parts of one family ("LineString" or "Polygon")."""
    if geom.geom_type.endswith(family):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type.endswith(family)]
    if not parts:
        return None
    return shapely.multilinestrings(parts) if family == "LineString" else shapely.union_all(parts)


def _clip(gdf: gpd.GeoDataFrame, window, family: str) -> gpd.GeoDataFrame:
    """Features intersecting ``window``, geometries cut to it and kept to one family (same CRS)."""
    hit = gdf.loc[np.asarray(gdf.intersects(window))].copy()
    cut = shapely.intersection(np.asarray(hit.geometry.values), window)
    hit[hit.geometry.name] = [_only(g, family) if g is not None and not g.is_empty else None for g in cut]
    return hit.loc[hit.geometry.notna() & ~hit.geometry.is_empty]


def water(region: Region) -> gpd.GeoDataFrame:
    """Waterways and water areas in the region window (see module docstring)."""
    cfg = region.section("water")
    path = region.path("water")
    lines = read_vector(path, layer=cfg.get("lines_layer", "edges"))
    areas = read_vector(path, layer=cfg.get("areas_layer", "water_areas"))
    crs = region.metric_crs
    window = region_window(region, crs)
    outline = gpd.GeoSeries([region_polygon(region)], crs="EPSG:4326").to_crs(crs).iloc[0]

    lines = to_metric(lines, crs)
    lines["source_id"] = lines["edge_id"] if "edge_id" in lines else np.arange(len(lines))
    lines = _clip(lines, window, "LineString")
    in_region_len = shapely.length(shapely.intersection(np.asarray(lines.geometry.values), outline))
    waterways = gpd.GeoDataFrame({
        "kind": "waterway",
        "source_id": lines["source_id"].astype("int64").values,
        "length_km": (lines.geometry.length / 1000).values,
        "length_in_region_km": in_region_len / 1000,
        "area_ha": np.nan,
        "area_in_region_ha": np.nan,
        "water_area_frac": pd.to_numeric(lines["water_area_frac"], errors="coerce").values
        if "water_area_frac" in lines else np.nan,
        "in_region": in_region_len > 0,
    }, geometry=lines.geometry.values, crs=crs)

    areas = to_metric(areas, crs)
    areas["source_id"] = np.arange(len(areas))
    areas = _clip(areas, window, "Polygon")
    in_region_area = shapely.area(shapely.intersection(np.asarray(areas.geometry.values), outline))
    water_areas = gpd.GeoDataFrame({
        "kind": "water_area",
        "source_id": areas["source_id"].astype("int64").values,
        "length_km": np.nan,
        "length_in_region_km": np.nan,
        "area_ha": (areas.geometry.area / 1e4).values,
        "area_in_region_ha": in_region_area / 1e4,
        "water_area_frac": np.nan,
        "in_region": in_region_area > 0,
    }, geometry=areas.geometry.values, crs=crs)

    if waterways.empty and water_areas.empty:
        raise InputError(path, "no waterway or water area inside the region window; wrong file for this region?")
    out = pd.concat([waterways, water_areas], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=crs)
    for col in ("length_km", "length_in_region_km", "area_ha", "area_in_region_ha"):
        out[col] = out[col].round(4)

    ww, wa = out[out["kind"] == "waterway"], out[out["kind"] == "water_area"]
    in_water = ww["water_area_frac"] > 0.5
    largest = wa.sort_values("area_in_region_ha", ascending=False).head(3)
    largest_points = largest.geometry.to_crs("EPSG:4326").representative_point()
    out.attrs["summary"] = {
        "waterways_in_window": int(len(ww)),
        "waterway_km_in_window": round(float(ww["length_km"].sum()), 1),
        "waterways_in_region": int(ww["in_region"].sum()),
        # the rebuilt network keeps sub-metre stubs (TerraGear bucket edges, T-noding)
        "waterway_stubs_under_1m_in_region": int((ww["in_region"] & (ww["length_km"] < 0.001)).sum()),
        "waterway_km_in_region": round(float(ww["length_in_region_km"].sum()), 1),
        # edges with water_area_frac > 0.5: wide rivers also mapped as water areas
        "waterways_in_region_along_water_areas": int((in_water & ww["in_region"]).sum()),
        "waterway_km_in_region_along_water_areas": round(float(ww.loc[in_water, "length_in_region_km"].sum()), 1),
        "water_areas_in_window": int(len(wa)),
        "water_area_ha_in_window": round(float(wa["area_ha"].sum()), 1),
        "water_areas_in_region": int(wa["in_region"].sum()),
        "water_area_ha_in_region": round(float(wa["area_in_region_ha"].sum()), 1),
        "largest_water_areas_in_region": [
            {"area_in_region_ha": round(float(a), 1), "area_in_window_ha": round(float(b), 1),
             "lon": round(float(p.x), 3), "lat": round(float(p.y), 3)}
            for a, b, p in zip(largest["area_in_region_ha"], largest["area_ha"], largest_points)],
        "source": SOURCE_NOTE,
        "not_available": "river names and classes (river/stream/canal/drain) are not in the source",
    }
    return out.to_crs("EPSG:4326")
