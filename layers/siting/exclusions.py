"""Exclusions of the siting grid: hard constraints, each reported as used or "not given".

:func:`exclusion_layers` rasterises every excluded geometry onto the grid
(``all_touched``), so no site overlaps an excluded area.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import to_metric
from geo.errors import InputError
from geo.siting.grid import Grid
from layers.region import Region
from layers.siting.options import CONSTRAINT_DEFAULTS

log = logging.getLogger(__name__)

#: Exclusions built on a region layer: when the layer is missing from the data folder their note says why.
EXCLUSIONS_OF_LAYER = {"industrial parks": ["parks"], "urban places": ["urban"], "water": ["water_areas", "rivers"],
                       "DEM": ["slope"]}


def _region_outline(region: Region):
    from layers.boundaries import region_polygon

    return region_polygon(region)


def _metric_geoms(gdf: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    return np.asarray(to_metric(gdf, crs).geometry.values, dtype=object)



def _park_shapes(parks: gpd.GeoDataFrame, crs: str, default_area_ha: float) -> gpd.GeoDataFrame:
    """Parks in the metric CRS with ``_centre``, ``_radius`` (m, from area) and ``_area_assumed``."""
    metric = to_metric(parks, crs)
    area = pd.to_numeric(metric.get("area_ha"), errors="coerce") if "area_ha" in metric else pd.Series(np.nan, index=metric.index)
    is_poly = metric.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    area = np.where(is_poly & np.isnan(area), metric.geometry.area / 1e4, area)
    assumed = np.isnan(area)
    area = np.where(assumed, default_area_ha, area)
    out = gpd.GeoDataFrame({"name": metric["name"].values if "name" in metric else None,
                            "_radius": np.sqrt(area * 1e4 / np.pi), "_area_assumed": assumed, "_polygon": is_poly},
                           geometry=metric.geometry.values, crs=crs)
    out["_centre"] = np.asarray(shapely.point_on_surface(np.asarray(out.geometry.values)))
    return out


def _place_shapes(places: gpd.GeoDataFrame, crs: str, radius_by_class: dict) -> gpd.GeoDataFrame:
    metric = to_metric(places, crs)
    radius = metric["place_class"].map(lambda c: float(radius_by_class.get(c, np.nan))).to_numpy()
    keep = np.isfinite(radius)
    out = gpd.GeoDataFrame({"name": metric["name"].values[keep], "place_class": metric["place_class"].values[keep],
                            "_radius": radius[keep]}, geometry=metric.geometry.values[keep], crs=crs)
    out["_centre"] = np.asarray(out.geometry.values)
    return out


def exclusion_layers(region: Region, grid: Grid, rules: dict, *, parks=None, places=None, water_layer=None,
                     slope=None, constraints: dict | None = None) -> tuple[dict, dict]:
    """Excluded cells by exclusion: ``(masks, report)``.

    ``masks`` maps exclusion name → boolean grid array; ``report`` maps it
    to what was used (``given``, ``cells``, ``ha``, ``note``). Geometries
    are in the grid's CRS; every cell touched by an excluded geometry is
    excluded. Also returns the geometries under ``report[name]["_geoms"]``
    (for checks; dropped before output).
    """
    masks: dict[str, np.ndarray] = {}
    report: dict[str, dict] = {}
    crs = grid.crs

    def add(name, geoms, note=""):
        geoms = [g for g in geoms if g is not None and not g.is_empty]
        masks[name] = grid.rasterize(geoms, all_touched=True) if geoms else np.zeros(grid.shape, bool)
        report[name] = {"given": True, "features": len(geoms), "note": note, "_geoms": geoms}

    def not_given(name, note):
        report[name] = {"given": False, "features": 0, "note": note, "_geoms": []}

    if rules.get("region_edge", True):
        outline = to_metric(gpd.GeoSeries([_region_outline(region)], crs="EPSG:4326"), crs).iloc[0]
        outside = ~grid.inside | grid.rasterize([outline.boundary], all_touched=True)
        masks["region_edge"] = outside
        report["region_edge"] = {"given": True, "features": 1,
                                 "note": "cells not wholly inside the region outline (GADM 4.1, generalised)",
                                 "_geoms": [shapely.box(*outline.buffer(10).bounds).difference(outline)]}
    if rules.get("parks", True):
        if parks is None or parks.empty:
            not_given("parks", "no industrial parks given")
        else:
            buf = float(rules["park_buffer_m"])
            shapes = [g.buffer(buf) if poly else c.buffer(r + buf)
                      for g, c, r, poly in zip(parks.geometry, parks["_centre"], parks["_radius"], parks["_polygon"])]
            add("parks", shapes, f"{len(parks)} parks: circle of each park's area (or its outline) + {buf:g} m; "
                                 f"{int(parks['_area_assumed'].sum())} with unknown area taken as {float(rules['park_default_area_ha']):g} ha")
    if rules.get("urban", True):
        if places is None or places.empty:
            not_given("urban", "no urban places found")
        else:
            add("urban", [c.buffer(r) for c, r in zip(places["_centre"], places["_radius"])],
                "urban cores: circles around OSM places, radius by class "
                + ", ".join(f"{k} {float(v):g} m" for k, v in rules["urban_radius_m"].items()))
    if water_layer is None:
        for name in ("water_areas", "rivers"):
            if rules.get(name, True):
                not_given(name, "no water layer given")
    else:
        metric = to_metric(water_layer, crs)
        frame = shapely.box(grid.x0, grid.y0 - grid.nrows * grid.cell_m, grid.x0 + grid.ncols * grid.cell_m, grid.y0)
        metric = metric[np.asarray(metric.intersects(frame))]
        if rules.get("water_areas", True):
            geoms = np.asarray(metric.loc[metric["kind"] == "water_area"].geometry.values, dtype=object)
            buf = float(rules["water_area_buffer_m"])
            add("water_areas", list(shapely.buffer(geoms, buf)) if buf > 0 else list(geoms),
                f"OSM 2018 water areas + {buf:g} m")
        if rules.get("rivers", True):
            geoms = np.asarray(metric.loc[metric["kind"] == "waterway"].geometry.values, dtype=object)
            buf = float(rules["river_buffer_m"])
            add("rivers", list(shapely.buffer(geoms, buf)) if buf > 0 else list(geoms),
                f"every OSM 2018 waterway (rivers, streams, canals, drains: no classes in the data) + {buf:g} m")
    for name, (layer, spec) in (constraints or {}).items():
        if spec["use"] == "ignore" and layer is not None and name not in CONSTRAINT_DEFAULTS:
            continue                                   # a user layer for criteria only
        option = "--" + name.replace("_", "-") if name in CONSTRAINT_DEFAULTS else f"--layer {name}=FILE"
        if layer is None:
            not_given(name, spec.get("missing_note") or f"not given (no file shipped; pass one with {option})")
        elif spec["use"] != "exclude":
            report[name] = {"given": True, "features": len(layer), "_geoms": [],
                            "note": f"{layer.attrs.get('source', 'user file')}: {spec['use']} (not excluded"
                                    + ("; scored through in_/km_to_ criteria)" if spec["use"] == "penalty" else ")")}
        else:
            buf = float(spec["buffer_m"])
            geoms = _metric_geoms(layer, crs)
            points = shapely.get_type_id(geoms) == 0
            if points.any() and not buf > 0:
                raise InputError(layer.attrs.get("source"), f"{name}: points need a buffer_m > 0 to exclude land around them")
            add(name, list(shapely.buffer(geoms, buf)) if buf > 0 else list(geoms),
                f"{layer.attrs.get('source', 'user file')} + {buf:g} m")
    if slope is not None and rules.get("max_slope_deg") is not None:
        limit = float(rules["max_slope_deg"])
        with np.errstate(invalid="ignore"):
            masks["slope"] = slope > limit
        known = np.isfinite(slope) & grid.inside
        report["slope"] = {"given": bool(known.any()), "features": 0, "_geoms": [],
                           "note": f"mean slope > {limit:g}° where known ({known.sum() / max(grid.inside.sum(), 1):.1%} of the cells); "
                                   "cells of unknown slope are not excluded but flagged (slope_known = false)"}
    for name, mask in masks.items():
        report[name]["cells"] = int((mask & grid.inside).sum())
        report[name]["ha"] = round(report[name]["cells"] * grid.cell_ha, 1)
        report[name]["excludes_nothing"] = report[name]["given"] and report[name]["cells"] == 0
        if name in (constraints or {}) and report[name]["excludes_nothing"]:   # given, yet it changes nothing: say so
            report[name]["note"] += "; given, but excludes no cell of the region (check the file's extent and CRS)"
            log.warning("%s: the layer given excludes no cell of the region (check its extent and CRS)", name)
    return masks, report

