"""Administrative boundaries: province, districts, neighbouring provinces.

Two boundary sets are understood, chosen by ``kind`` in the region's
``boundary:`` section (``--boundaries gadm`` swaps in ``boundary_gadm:``):

``open`` (default)
    geoBoundaries gbOpen ADM2 district polygons (OCHA ROAP / Government of
    Viet Nam, CC BY 3.0 IGO), one file per old province; the province is the
    union of its districts; neighbours from geoBoundaries ADM1 (public domain,
    coarse). Redistributable, so the repository carries them.
``gadm``
    GADM 4.1 layers of one GeoPackage (``bacgiang_admin.gpkg``). GADM may not
    be redistributed: it is read only from a ``--data`` folder that holds it.

Columns
-------
province : ``name_vi``, ``merged_from``, ``area_km2``, ``source``, geometry.
districts : ``district`` (short name, NFC), ``type_vi`` (Thành phố/Huyện …),
    ``name_full_vi``, ``province_vi`` (province before 2025), ``former``
    (True when the unit no longer exists, e.g. every district after the 2025
    reform), ``area_km2``, ``source``.
neighbours : ``name_vi``, ``touches_region``, ``source``.

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
from geo.io.vector import read_vector
from layers.region import Region
from layers.shared import shared


def _area_km2(gdf: gpd.GeoDataFrame, crs: str) -> pd.Series:
    return (to_metric(gdf, crs).area / 1e6).round(2)


def _config(region: Region) -> dict:
    cfg = region.section("boundary")
    if cfg.get("kind", "gadm") not in ("open", "gadm"):
        raise InputError(region.source_file, f"boundary kind '{cfg.get('kind')}' is neither 'open' nor 'gadm'")
    return cfg


def _open_districts(region: Region, cfg: dict) -> gpd.GeoDataFrame:
    """Districts of the open set: the region's own file plus one file per merged province."""
    files = [(cfg.get("province_vi", region.name_vi), region.path("boundary", "districts_file"))]
    for name, file_name in (cfg.get("merge_district_files") or {}).items():
        files.append((name, region.data_path(file_name)))
    frames = []
    for province_vi, path in files:
        base = read_vector(path).to_crs("EPSG:4326")
        for column in ("name_vi", "type_vi"):
            if column not in base:
                raise InputError(path, f"no '{column}' column (an open district file needs name_vi and type_vi)")
        frames.append(gpd.GeoDataFrame({
            "district": base["name_vi"].map(nfc),
            "type_vi": base["type_vi"].map(nfc),
            "name_full_vi": (base["type_vi"].map(nfc) + " " + base["name_vi"].map(nfc)),
            "province_vi": nfc(province_vi),
        }, geometry=base.geometry.values, crs="EPSG:4326"))
    return pd.concat(frames, ignore_index=True)


def _gadm_districts(region: Region, cfg: dict) -> gpd.GeoDataFrame:
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
    return out.to_crs("EPSG:4326")


def districts(region: Region) -> gpd.GeoDataFrame:
    """District-level units (pre-2025); all flagged ``former`` in merged regions."""
    cfg = _config(region)
    out = _open_districts(region, cfg) if cfg.get("kind") == "open" else _gadm_districts(region, cfg)
    out["former"] = bool(cfg.get("merge_provinces"))
    out["area_km2"] = _area_km2(out, region.metric_crs)
    out["source"] = cfg.get("source", "")
    return out.reset_index(drop=True)


def province(region: Region) -> gpd.GeoDataFrame:
    """The region's outline as one feature (old provinces merged when configured)."""
    cfg = _config(region)
    merge = [nfc(n) for n in cfg.get("merge_provinces") or []]
    if cfg.get("kind") == "open":
        units = districts(region)
        names = list(dict.fromkeys(units["province_vi"]))
        outline = shapely.make_valid(shapely.union_all(units.geometry.values))
    else:
        path = region.path("boundary")
        base = read_vector(path, layer=cfg.get("province_layer", "province")).to_crs("EPSG:4326")
        names = [nfc(base["NAME_1"].iloc[0])] if "NAME_1" in base else [region.name_vi]
        parts = [base.geometry.union_all()]
        if merge:
            neighbours_all = read_vector(path, layer=cfg.get("neighbours_layer", "neighbour_provinces")).to_crs("EPSG:4326")
            for name in merge:
                hit = neighbours_all[neighbours_all["NAME_1"].map(nfc) == name]
                if hit.empty:
                    raise InputError(path, f"province '{name}' to merge is not in layer '{cfg.get('neighbours_layer')}'")
                parts.append(hit.geometry.union_all())
                names.append(name)
        outline = shapely.make_valid(shapely.union_all(parts))
    gdf = gpd.GeoDataFrame({"name_vi": [region.name_vi], "merged_from": [", ".join(names)],
                            "source": [cfg.get("source", "")]}, geometry=[outline], crs="EPSG:4326")
    gdf["area_km2"] = _area_km2(gdf, region.metric_crs)
    return gdf


@functools.lru_cache(maxsize=8)
def _outline_cached(region_id: str, data_dir: str, source_file: str, boundary_kind: str):
    from layers.region import load_region

    r = load_region(source_file, data_dir=data_dir, boundaries=boundary_kind)
    return province(r).geometry.iloc[0]


def region_polygon(region: Region):
    """Outline of the region (shapely, EPSG:4326), cached per region, data folder and boundary set."""
    return _outline_cached(region.id, str(region.data_dir), str(region.source_file), region.boundaries)


def region_window(region: Region, crs: str = "EPSG:4326"):
    """Region outline buffered by ``window_buffer_m`` (default 30 km), in ``crs``.

    Networks and context layers are clipped to this window so that roads and
    rivers just across the border stay in the analysis. Made once per region and CRS (:mod:`layers.shared`;
    the corridors, networks, railways and rivers all ask).
    """
    def window():
        outline = gpd.GeoSeries([region_polygon(region)], crs="EPSG:4326")
        buffered = to_metric(outline, region.metric_crs).buffer(float(region.config.get("window_buffer_m", 30000)))
        return buffered.to_crs(crs).iloc[0]

    return shared(region, ("region window", crs, region.metric_crs, region.config.get("window_buffer_m")), window)


def neighbours(region: Region) -> gpd.GeoDataFrame:
    """Neighbouring provinces (the region's own provinces left out), with ``touches_region``.

    With open boundaries the neighbours come from a coarser, older layer
    (geoBoundaries ADM1, 2008): the region's own outline is cut out of them so
    that they never overlap it; ``touches_region`` allows for their ~1 km offsets.
    """
    cfg = _config(region)
    outline = region_polygon(region)
    if cfg.get("kind") == "open":
        path = region.path("boundary", "neighbours_file")
        raw = read_vector(path).to_crs("EPSG:4326")
        name_field = cfg.get("neighbours_name_field", "shapeName")
        own = {nfc(cfg.get("province_vi", "")), *(nfc(n) for n in cfg.get("merge_provinces") or [])}
        window = region_window(region)
        raw = raw[raw.intersects(window) & ~raw[name_field].map(nfc).isin(own)]
        geometry = raw.geometry.difference(outline)
        tolerance_deg = float(cfg.get("neighbours_touch_tolerance_deg", 0.02))
        gdf = gpd.GeoDataFrame({"name_vi": raw[name_field].map(nfc).values,
                                "touches_region": geometry.intersects(outline.buffer(tolerance_deg)).values,
                                "source": cfg.get("neighbours_source", path.name)},
                               geometry=geometry.values, crs="EPSG:4326")
        gdf = gdf[~gdf.geometry.is_empty]
        return gdf[gdf["touches_region"]].reset_index(drop=True)
    gdf = read_vector(region.path("boundary"), layer=cfg.get("neighbours_layer", "neighbour_provinces")).to_crs("EPSG:4326")
    merged = {nfc(n) for n in cfg.get("merge_provinces") or []}
    gdf = gdf[~gdf["NAME_1"].map(nfc).isin(merged)]
    return gpd.GeoDataFrame({
        "name_vi": gdf["NAME_1"].map(nfc).values,
        "touches_region": gdf.geometry.intersects(outline.buffer(0.001)).values,
        "source": cfg.get("source", ""),
    }, geometry=gdf.geometry.values, crs="EPSG:4326").reset_index(drop=True)
