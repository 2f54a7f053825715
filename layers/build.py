"""Build every planning layer of a region and write them for QGIS and the maps.

``build_layers`` returns the layers as GeoDataFrames plus a summary;
``write_layers`` stores them in ``OUT/layers.gpkg`` (one layer each,
EPSG:4326), the rescaled population raster in ``OUT/population.tif`` and the
summary in ``OUT/layers_summary.json``. All writes are atomic.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from geo import settings
from geo.io.output import write_geopackage, write_json
from layers import boundaries, corridors, logistics, parks, population, urban, water
from layers.licences import layer_licences
from layers.region import Region

log = logging.getLogger(__name__)


#: Region config section each optional build step needs.
STEP_SECTIONS = {"logistics": "railways", "water": "water", "urban": "places", "population": "population_raster"}


@dataclass
class LayerSet:
    """The built layers, the population raster and what a planner should know."""

    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    population: tuple | None = None          # (array, profile) rescaled WorldPop
    summary: dict = field(default_factory=dict)


def build_layers(region: Region, osm=None, parks_file=None, scenario_files=(), logistics_file=None,
                 network: str = "today") -> LayerSet:
    """Build all planning layers for ``region``.

    osm : optional local OSM extract (.osm, .osm.bz2, .osm.pbf). When given,
        corridors come from OSM ``ref``/``name`` tags, parks get
        ``landuse=industrial`` outlines and towns get built-up areas.
    parks_file : a planner's own park list or outlines (any vector format/CRS),
        used instead of the shipped registry.
    scenario_files : line files of planned corridors (status "planned").
    logistics_file : points of dry ports / ICD / logistics centres.
    network : ``"today"`` (roads opened since the network file, e.g. CT.01, are
        existing corridors) or ``"2018"`` (the network file alone).
    """
    started = time.perf_counter()
    out: dict[str, gpd.GeoDataFrame] = {}
    tables: dict[str, pd.DataFrame] = {}
    osm_roads = osm_industrial = osm_builtup = population_raster = None
    steps = ["boundaries", "parks", "corridors", "logistics", "water", "urban", "population"]
    if osm is not None:
        steps.insert(0, "osm")
    # A step whose region section is absent is skipped and reported (a small region may have no census, no rail …).
    not_configured = [step for step in steps if STEP_SECTIONS.get(step) and STEP_SECTIONS[step] not in region.config]
    steps = [step for step in steps if step not in not_configured]
    bar = tqdm(steps, desc="layers", unit="step", disable=not settings.progress)
    timings = {}
    for step in bar:
        bar.set_postfix_str(step)
        t0 = time.perf_counter()
        if step == "osm":
            from geo.io import osm as osm_source

            window = boundaries.region_window(region)
            _, osm_roads = osm_source.read_osm_roads(osm, polygon=window)
            landuse = osm_source.read_osm_features(osm, {"landuse": ["industrial", "residential", "commercial", "retail"]},
                                                   polygon=window)  # one pass over the file for both layers
            is_industrial = landuse["landuse"].eq("industrial") if "landuse" in landuse else pd.Series(False, index=landuse.index)
            osm_industrial, osm_builtup = landuse[is_industrial], landuse[~is_industrial]
        elif step == "boundaries":
            out["province"] = boundaries.province(region)
            out["districts"] = boundaries.districts(region)
            if region.config["boundary"].get("neighbours_file") or region.config["boundary"].get("kind") == "gadm":
                out["neighbours"] = boundaries.neighbours(region)
            out["destinations"] = region.destinations()
        elif step == "parks":
            out["industrial_parks"] = parks.region_parks(region, parks_file=parks_file, osm_industrial=osm_industrial)
            inventory = out["industrial_parks"].attrs.get("inventory")
            if inventory is not None and len(inventory):   # every sourced park, placed or not: indicator counts
                tables["industrial_parks_inventory"] = _inventory_table(inventory, out["industrial_parks"])
            if osm_industrial is not None and len(osm_industrial) and "parks" in region.config:
                outlines = parks.attach_outlines(out["industrial_parks"], osm_industrial, region.metric_crs)
                if len(outlines):
                    out["industrial_park_outlines"] = outlines
        elif step == "corridors":
            layer = corridors.corridors(region, osm_edges=osm_roads, scenario_files=tuple(scenario_files), network=network)
            out["corridors"] = layer
            tables["corridor_edges"] = corridors.corridor_edges(layer)
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
        "not_configured": {step: f"the region has no '{STEP_SECTIONS[step]}' section" for step in not_configured},
        "layers": {name: {"features": int(len(gdf)), **_jsonable(gdf.attrs.get("summary", {}))} for name, gdf in out.items()},
        # Source, licence and redistribution ("allowed" | "not allowed" | "unknown") per layer: publish reads it.
        "licences": layer_licences(region, parks_file=parks_file, osm=osm),
        "boundaries": region.boundaries,
        "region_file": str(region.source_file),
        "map": dict(region.config.get("map") or {}),   # map labels and highlights (maps/planner.py)
    }
    return LayerSet(layers=out, tables=tables, population=population_raster, summary=summary)


def _inventory_table(inventory: pd.DataFrame, placed: gpd.GeoDataFrame) -> pd.DataFrame:
    """The sourced park inventory with each park's position precision ("none" and the reason when it has no position)."""
    table = inventory.copy()
    precision = dict(zip(placed.get("key", pd.Series(dtype=object)), placed.get("position_precision", pd.Series(dtype=object))))
    reasons = {w["name"]: w["reason"] for w in (placed.attrs.get("summary") or {}).get("without_position", [])}
    table["position_precision"] = [precision.get(k, "none") for k in table["key"]]
    table["position_note"] = [reasons.get(n, "") for n in table["name"]]
    return table


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
    from geo.io.raster import write_geotiff

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


def summary_lines(summary: dict) -> list[str]:
    """A short human summary of a build (counts, areas, unmatched names, gaps)."""
    layers = summary["layers"]
    lines = [f"{summary['region_name']} — layers built in {summary['seconds']} s"]
    p = layers.get("industrial_parks", {})
    if p:
        kinds = ", ".join(f"{n} {k} ({p['area_ha_by_kind'].get(k, 0):,.0f} ha)" for k, n in p["by_kind"].items())
        lines.append(f"  industrial parks: {kinds}; {p['matched_with_facts']} joined with sourced facts, "
                     f"{len(p['locations_without_facts'])} without facts, {len(p['facts_without_location'])} fact rows without a location")
        if p.get("by_position_precision"):
            lines.append("  park positions by precision: " + ", ".join(f"{k} {v}" for k, v in p["by_position_precision"].items()))
        if p.get("without_position"):
            lines.append(f"  {len(p['without_position'])} sourced park(s) without a position (left out of per-park figures; "
                         "give them with --parks FILE): " + ", ".join(w["name"] for w in p["without_position"]))
    c = layers.get("corridors", {})
    if c:
        def describe(cid, v):
            share = v.get("matched_share")
            of_reference = f", {share:.0%} of the reference" if isinstance(share, float) and math.isfinite(share) else ""
            return f"{cid} {v['length_km']:.1f} km ({v['method']}{of_reference})"

        found = ", ".join(describe(cid, v) for cid, v in c.get("corridors", {}).items())
        missing = ", ".join(n["corridor_id"] for n in c.get("not_found", []))
        lines.append(f"  corridors found: {found or 'none'}")
        if missing:
            lines.append(f"  corridors not found (see layers_summary.json for why): {missing}")
    r = layers.get("railways", {})
    if r:
        lines.append(f"  railways: {r.get('track_km_in_region', float('nan')):.1f} km of track in the region; "
                     f"stations in the region: {', '.join(layers.get('stations', {}).get('rail_stations_in_region', []))}")
    d = layers.get("district_population", {})
    if d:
        without = d.get("districts_without_census") or []
        lines.append(f"  population: census 2019 {d.get('census_total', float('nan')):,.0f} in {d.get('districts_with_census')} districts"
                     + (f"; no census for {len(without)} (unknown, not 0)" if without else ""))
    return lines
