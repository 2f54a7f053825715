"""Administrative boundaries: province, districts, neighbouring provinces.

Columns
-------
province : ``name_vi``, ``area_km2``, ``source``, geometry (MultiPolygon).
districts : ``district`` (short name, NFC), ``type_vi`` (Thành phố/Huyện …),
    ``name_full_vi``, ``province_vi`` (province before 2025), ``former``
    (True when the unit no longer exists, e.g. every district after the 2025
    reform), ``area_km2``, ``source``.
neighbours : ``name_vi``, ``touches_region``.

Areas are computed in the region's metric CRS; everything is returned in
EPSG:4326.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import to_metric
from geo.errors import InputError
from geo.text import nfc
from geo.vector import read_vector
from layers.region import Region


def _area_km2(gdf: gpd.GeoDataFrame, crs: str) -> pd.Series:
    return (to_metric(gdf, crs).area / 1e6).round(2)


def province(region: Region) -> gpd.GeoDataFrame:
    """The region's outline as one feature (old provinces merged when configured)."""
    cfg = region.section("boundary")
    path = region.path("boundary")
    base = read_vector(path, layer=cfg.get("province_layer", "province"))
    names = [nfc(base["NAME_1"].iloc[0])] if "NAME_1" in base else [region.name_vi]
    parts = [base.geometry.union_all()]
    merge = cfg.get("merge_provinces") or []
    if merge:
        neighbours_all = read_vector(path, layer=cfg.get("neighbours_layer", "neighbour_provinces"))
        for name in merge:
            hit = neighbours_all[neighbours_all["NAME_1"].map(nfc) == nfc(name)]
            if hit.empty:
                raise InputError(path, f"province '{name}' to merge is not in layer '{cfg.get('neighbours_layer')}'")
            parts.append(hit.geometry.union_all())
            names.append(nfc(name))
    outline = shapely.make_valid(shapely.union_all(parts))
    gdf = gpd.GeoDataFrame({"name_vi": [region.name_vi], "merged_from": [", ".join(names)],
                            "source": [cfg.get("source", "")]}, geometry=[outline], crs=base.crs)
    gdf["area_km2"] = _area_km2(gdf, region.metric_crs)
    return gdf.to_crs("EPSG:4326")


@functools.lru_cache(maxsize=8)
def _outline_cached(region_id: str, data_dir: str, source_file: str):
    from layers.region import load_region

    r = load_region(source_file, data_dir=data_dir)
    return province(r).geometry.iloc[0]


def region_polygon(region: Region):
    """Outline of the region (shapely, EPSG:4326), cached per region and data folder."""
    return _outline_cached(region.id, str(region.data_dir), str(region.source_file))


def region_window(region: Region, crs: str = "EPSG:4326"):
    """Region outline buffered by ``window_buffer_m`` (default 30 km), in ``crs``.

    Networks and context layers are clipped to this window so that roads and
    rivers just across the border stay in the analysis.
    """
    outline = gpd.GeoSeries([region_polygon(region)], crs="EPSG:4326")
    window = to_metric(outline, region.metric_crs).buffer(float(region.config.get("window_buffer_m", 30000)))
    return window.to_crs(crs).iloc[0]


def districts(region: Region) -> gpd.GeoDataFrame:
    """District-level units (pre-2025); all flagged ``former`` in merged regions."""
    cfg = region.section("boundary")
    path = region.path("boundary")
    base = read_vector(path, layer=cfg.get("districts_layer", "districts"))
    out = gpd.GeoDataFrame({
        "district": base["NAME_2"].map(nfc),
        "type_vi": base.get("type_vi", pd.Series([None] * len(base))).map(nfc),
        "name_full_vi": base.get("name_full_vi", base["NAME_2"]).map(nfc),
        "province_vi": base["NAME_1"].map(nfc),
    }, geometry=base.geometry.values, crs=base.crs)
    former_layer = cfg.get("former_districts_layer")
    if former_layer:
        merge = [nfc(n) for n in cfg.get("merge_provinces") or []]
        extra = read_vector(path, layer=former_layer)
        extra = extra[extra["NAME_1"].map(nfc).isin(merge)]
        out = pd.concat([out, gpd.GeoDataFrame({
            "district": extra["NAME_2"].map(nfc), "type_vi": None,
            "name_full_vi": extra["name_full_vi"].map(nfc), "province_vi": extra["NAME_1"].map(nfc),
        }, geometry=extra.geometry.values, crs=extra.crs)], ignore_index=True)
    out["former"] = bool(former_layer)
    out["area_km2"] = _area_km2(out, region.metric_crs)
    out["source"] = cfg.get("source", "")
    return out.to_crs("EPSG:4326").reset_index(drop=True)


def neighbours(region: Region) -> gpd.GeoDataFrame:
    """Neighbouring provinces (those merged into the region left out)."""
    cfg = region.section("boundary")
    gdf = read_vector(region.path("boundary"), layer=cfg.get("neighbours_layer", "neighbour_provinces"))
    merged = {nfc(n) for n in cfg.get("merge_provinces") or []}
    gdf = gdf[~gdf["NAME_1"].map(nfc).isin(merged)]
    outline = region_polygon(region)
    return gpd.GeoDataFrame({
        "name_vi": gdf["NAME_1"].map(nfc).values,
        "touches_region": gdf.geometry.to_crs("EPSG:4326").intersects(outline.buffer(0.001)).values,
    }, geometry=gdf.geometry.values, crs=gdf.crs).to_crs("EPSG:4326").reset_index(drop=True)
