"""Build every planning layer of a region and write them for QGIS and the maps.

``build_layers`` returns the layers as GeoDataFrames plus a summary;
``write_layers`` stores them in ``OUT/layers.gpkg`` (one layer each,
EPSG:4326), the rescaled population raster in ``OUT/population.tif`` and the
summary in ``OUT/layers_summary.json``. All writes are atomic.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from geo import settings
from geo.output import write_geopackage, write_json
from layers import boundaries, corridors, logistics, parks, population, urban, water
from layers.region import Region

log = logging.getLogger(__name__)

#: Layer names in layers.gpkg, in drawing order.
LAYER_NAMES = ("province", "districts", "neighbours", "industrial_parks", "corridors", "railways",
               "stations", "water", "urban_areas", "destinations")


@dataclass
class LayerSet:
    """The built layers, the population raster and what a planner should know."""

    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    population: tuple | None = None          # (array, profile) rescaled WorldPop
    summary: dict = field(default_factory=dict)


def build_layers(region: Region, osm=None, parks_file=None, scenario_files=(), logistics_file=None) -> LayerSet:
    """Build all planning layers for ``region``.

    osm : optional local OSM extract (.osm, .osm.bz2, .osm.pbf). When given,
        corridors come from OSM ``ref``/``name`` tags, parks get
        ``landuse=industrial`` outlines and towns get built-up areas.
    parks_file : a planner's own park list or outlines (any vector format/CRS),
        used instead of the shipped registry.
    scenario_files : line files of planned corridors (status "planned").
    logistics_file : points of dry ports / ICD / logistics centres.
    """
    started = time.perf_counter()
    out: dict[str, gpd.GeoDataFrame] = {}
    tables: dict[str, pd.DataFrame] = {}
    osm_roads = osm_industrial = osm_builtup = population_raster = None
    steps = ["boundaries", "parks", "corridors", "logistics", "water", "urban", "population"]
    if osm is not None:
        steps.insert(0, "osm")
    bar = tqdm(steps, desc="layers", unit="step", disable=not settings.progress)
    timings = {}
    for step in bar:
        bar.set_postfix_str(step)
        t0 = time.perf_counter()
        if step == "osm":
            from geo import osm as osm_source

            window = boundaries.region_window(region)
            _, osm_roads = osm_source.read_osm_roads(osm, polygon=window)
            osm_industrial = osm_source.read_osm_features(osm, {"landuse": ["industrial"]}, polygon=window)
            osm_builtup = osm_source.read_osm_features(osm, {"landuse": ["residential", "commercial", "retail"]}, polygon=window)
        elif step == "boundaries":
            out["province"] = boundaries.province(region)
            out["districts"] = boundaries.districts(region)
            out["neighbours"] = boundaries.neighbours(region)
            out["destinations"] = region.destinations()
        elif step == "parks":
            out["industrial_parks"] = parks.industrial_parks(region, parks_file=parks_file)
            if osm_industrial is not None and len(osm_industrial):
                out["industrial_park_outlines"] = parks.attach_outlines(out["industrial_parks"], osm_industrial, region.metric_crs)
        elif step == "corridors":
            layer = corridors.corridors(region, osm_edges=osm_roads, scenario_files=tuple(scenario_files))
            out["corridors"] = layer
            if "edge_labels" in layer.attrs:
                tables["corridor_edges"] = layer.attrs["edge_labels"]
        elif step == "logistics":
            out["railways"] = logistics.railways(region)
            out["stations"] = logistics.stations(region, extra_points=logistics_file)
        elif step == "water":
            out["water"] = water.water(region)
        elif step == "urban":
            out["urban_areas"] = urban.urban_areas(region, osm_builtup=osm_builtup)
        elif step == "population":
            array, profile, factors = population.population_raster(region)
            out["district_population"] = population.district_population(region, factors=factors)
            tables["population_scaling"] = pd.DataFrame(factors)
            population_raster = (array, profile)
        timings[step] = round(time.perf_counter() - t0, 2)
    summary = {
        "region": region.id,
        "region_name": region.name_vi,
        "data_dir": str(region.data_dir),
        "osm": str(osm) if osm else None,
        "parks_file": str(parks_file) if parks_file else None,
        "seconds": round(time.perf_counter() - started, 1),
        "step_seconds": timings,
        "layers": {name: {"features": int(len(gdf)), **_jsonable(gdf.attrs.get("summary", {}))} for name, gdf in out.items()},
    }
    return LayerSet(layers=out, tables=tables, population=population_raster, summary=summary)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if hasattr(value, "item"):
        return value.item()
    return value


def write_layers(result: LayerSet, out_dir) -> dict[str, Path]:
    """Write layers.gpkg, population.tif and layers_summary.json into ``out_dir``."""
    from geo.raster import write_geotiff

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames: dict[str, pd.DataFrame] = {}
    for name, gdf in result.layers.items():
        gdf = gdf.copy()
        gdf.attrs = {}
        frames[name] = gdf
    frames.update(result.tables)
    paths = {"layers": write_geopackage(frames, out_dir / "layers.gpkg")}
    if result.population is not None:
        array, profile = result.population
        paths["population"] = write_geotiff(array, profile, out_dir / "population.tif")
    paths["summary"] = write_json(result.summary, out_dir / "layers_summary.json")
    return paths
