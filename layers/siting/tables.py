"""The siting run's tables and files: the ``grid`` table (cell centres) and ``sites`` layer, the command-line summary,
the outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.collector import fewer_collections
from geo.crs import to_metric
from geo.siting.grid import Grid
from geo.io.raster import zone_labels
from geo.siting.sites import site_means, site_mode
from geo.siting.suitability import Profile
from layers.region import Region


@dataclass
class SitingResult:
    """What :func:`run_siting` found (GeoDataFrames in EPSG:4326)."""

    grid: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    score: np.ndarray
    arrays: dict          # the Grid, raw values, scores, masks, labels and exclusion geometries (metric CRS)
    summary: dict
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_district: pd.DataFrame = field(default_factory=pd.DataFrame)   # best sites of each district (sites_by_district.csv)

    def __getstate__(self):
        """Pickled (e.g. by the forked siting step of ``plan.py run`` back to the main job) with the grid's cell centres
        as a coordinate array instead of 389,000 point geometries: the same table once unpickled, the grid's
        pickling 0.25 s → 0.02 s and its unpickling 0.4 s → 0.1 s."""
        state = dict(self.__dict__)
        state["grid"] = _points_packed(self.grid)
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state["grid"], _PackedPoints):
            state["grid"] = state["grid"].unpack()
        self.__dict__.update(state)


@dataclass
class _PackedPoints:
    """A GeoDataFrame of points as its other columns + the points' coordinates (see :meth:`SitingResult.__getstate__`)."""

    table: pd.DataFrame
    xy: np.ndarray
    crs: object
    geometry: str
    columns: list
    attrs: dict

    def unpack(self) -> gpd.GeoDataFrame:
        with fewer_collections():
            points = shapely.points(self.xy)
        frame = gpd.GeoDataFrame(self.table, geometry=gpd.GeoSeries(points, index=self.table.index, crs=self.crs,
                                                                     name=self.geometry), crs=self.crs)
        frame = frame[self.columns]
        frame.attrs = self.attrs
        return frame


def _points_packed(frame):
    """``frame`` as :class:`_PackedPoints` when it is a GeoDataFrame of points (none missing or empty), else itself."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return frame
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if not (shapely.get_type_id(geoms) == 0).all() or shapely.is_empty(geoms).any():
        return frame
    name = frame.geometry.name
    return _PackedPoints(pd.DataFrame(frame.drop(columns=name)), shapely.get_coordinates(geoms), frame.crs, name,
                         list(frame.columns), dict(frame.attrs))



def _num(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)



def _district_codes(region: Region, grid: Grid):
    from layers.boundaries import districts

    units = districts(region)
    codes = zone_labels(grid.profile, to_metric(units, grid.crs))
    return units["district"].tolist(), codes


def _grid_frame(grid: Grid, values, scores, prof: Profile, excluded, masks, suitable, labels_all, districts, codes, crs,
                parcels=None):
    sel = grid.inside
    flat = np.flatnonzero(sel.ravel())
    rows, cols = np.divmod(flat, grid.ncols)
    names_of = np.array([*districts, None], dtype=object)          # code −1 (no district) → None
    data = {"cell_id": flat.astype(np.int64), "row": rows, "col": cols, "district": names_of[codes.ravel()[flat]]}
    for name, arr in values.items():
        data[name] = arr[sel]
    for name, comp in scores.components.items():
        data[f"s_{name}"] = comp[sel]
    data["score"] = scores.score[sel]
    data["weight_known"] = np.round(scores.weight_known[sel], 4)
    data["criteria_known"] = scores.criteria_known[sel].astype(np.int16)
    data["excluded"] = excluded[sel]
    names = list(masks)
    code = np.zeros(len(flat), dtype=np.int64)                     # one bit per exclusion
    for bit, name in enumerate(names):
        code |= masks[name][sel].astype(np.int64) << bit
    combos, inverse = np.unique(code, return_inverse=True)
    text = np.array(["; ".join(n for b, n in enumerate(names) if c >> b & 1) or None for c in combos], dtype=object)
    data["excluded_by"] = text[inverse.ravel()]
    data["slope_known"] = np.isfinite(values["slope_deg"][sel]) if "slope_deg" in values else False
    data["suitable"] = suitable[sel]
    data["site"] = labels_all[sel].astype(np.int32)
    if parcels is not None:
        data["parcel"] = parcels[sel].astype(np.int32)
    centres = storage_points(grid.x0 + (cols + 0.5) * grid.cell_m, grid.y0 - (rows + 0.5) * grid.cell_m, crs)
    return gpd.GeoDataFrame(data, geometry=centres, crs="EPSG:4326")    # cell centres: the squares are the raster's


def storage_points(x, y, crs) -> np.ndarray:
    """Points at metric ``x``, ``y`` (metres, ``crs``) as shapely points in EPSG:4326 (lon, lat).

    The same coordinates as ``GeoSeries(points, crs=crs).to_crs("EPSG:4326")`` (the same PROJ operation) without
    making the metric points first and copying them (and with the garbage collector paused while the points are made).

    >>> shapely.get_coordinates(storage_points([500000.0], [0.0], "EPSG:32648")).round(6).tolist()
    [[105.0, 0.0]]
    """
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    with fewer_collections():        # a few hundred thousand geometries beside a million objects (geo.collector)
        return shapely.points(lon, lat)


def _sites_frame(grid: Grid, labels, table, values, scores, districts, codes, per_site, prof: Profile, scenario, crs):
    n = len(table)
    columns = ["site", "area_ha", "cells", "score_mean", "score_max", "district", "lon", "lat"]
    if n == 0:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    means = site_means(labels, n, {k: v for k, v in values.items() if k != "snap_m"})
    comp = site_means(labels, n, {f"s_{k}": v for k, v in scores.components.items()})
    mode = site_mode(labels, n, codes)
    outlines = grid.outlines(labels, keep=range(1, n + 1))
    cx = grid.x0 + (table["col"].to_numpy() + 0.5) * grid.cell_m
    cy = grid.y0 - (table["row"].to_numpy() + 0.5) * grid.cell_m
    best = gpd.GeoSeries(storage_points(cx, cy, crs), crs="EPSG:4326")
    out = pd.DataFrame({
        "site": table["site"].to_numpy(), "area_ha": table["area_ha"].round(2).to_numpy(), "cells": table["cells"].to_numpy(),
        "score_mean": table["score_mean"].round(4).to_numpy(), "score_max": table["score_max"].round(4).to_numpy(),
        "zone_area_ha": table["zone_area_ha"].round(2).to_numpy(), "zone": table["zone"].to_numpy(),
        "district": [districts[c] if c >= 0 else None for c in mode],
        "commune": table["commune"].to_numpy() if "commune" in table else None,
        "lon": best.x.round(5).to_numpy(), "lat": best.y.round(5).to_numpy(),
    })
    means_cols = [c for c in means.columns if not c.endswith("_known_share")]
    out = pd.concat([out, means[means_cols].round(3).reset_index(drop=True),
                     comp[[c for c in comp.columns if not c.endswith("_known_share")]].round(4).reset_index(drop=True)], axis=1)
    if "slope_deg_known_share" in means:
        out["slope_known_share"] = means["slope_deg_known_share"].round(3).to_numpy()
    if per_site is not None:
        out = pd.concat([out, per_site.reset_index(drop=True)], axis=1)
    out["profile"] = prof.name
    out["scenario"] = Path(scenario).name if scenario else None
    notes = [f"{name} ({'partial: known on ' + format(scores.partial[name], '.1%') + ' of cells' if name in scores.partial else 'missing'})"
             for name in scores.dropped]
    out["note"] = ("not scored: " + ", ".join(notes) + " (see sites_summary.json)") if notes else None
    geoms = [outlines.get(int(k)) for k in out["site"]]
    return gpd.GeoDataFrame(out, geometry=geoms, crs=crs).to_crs("EPSG:4326")


# ---------------------------------------------------------------------- output

def summary_lines(result: SitingResult) -> list[str]:
    """A few lines for the command line: what was scored, dropped, excluded, and the ranked sites."""
    s = result.summary
    lines = [f"profile {s['profile']['name']} ({s['profile']['weights_from']}"
             + (f", AHP CR {s['profile']['ahp']['cr']:.3f}" if s["profile"].get("ahp") else "") + "); weights used: "
             + ", ".join(f"{k} {v:.2f}" for k, v in s["weights_used"].items())]
    for name, why in s["criteria_dropped"].items():
        lines.append(f"  not scored: {name} — {why}")
    lines.append(f"{s['cells_in_region']:,} cells of {s['cell_m']:g} m in the region: {s['cells_excluded']:,} excluded, "
                 f"{s['cells_scored']:,} scored, {s['cells_suitable']:,} suitable ({s['threshold_rule']}, score ≥ {s['threshold']})")
    off = [k for k, v in s["exclusions"].items() if not v["given"]]
    if off:
        lines.append("  exclusions not given: " + ", ".join(off))
    rules = s.get("rules") or {}
    if rules.get("files"):
        lines.append("  judged against " + ", ".join(Path(f).name for f in rules["files"])
                     + (f" ({rules['scale']} rules)" if rules.get("scale") else ""))
    for w in s.get("warnings", []):
        lines.append(f"  warning: {w}")
    lines.append(f"{s['sites_found']} sites of {s['min_area_ha']:g}–{s['max_area_ha'] or float('inf'):g} ha grown in "
                 f"{s.get('parcels', {}).get('count', '?')} parcels; shortlist of {s['sites_reported']} "
                 f"(≥ {s['locate'].get('min_spacing_km', 0):g} km apart, at most {s['locate'].get('max_per_district')} per district):")
    for row in result.sites.itertuples():
        stable = ""
        if hasattr(row, "runs_lost"):
            change = f"±{s['sensitivity']['change']:.0%} weights"
            base = f" {int(row.rank_all)}" if hasattr(row, "rank_all") else ""
            stable = (f", rank among all sites{base} ({row.rank_min:g}–{row.rank_max:g} under {change})" if row.runs_lost == 0
                      else f", rank among all sites{base} (best {row.rank_min:g} under {change}, gone in {row.runs_lost} "
                           f"of {row.runs} runs)")
        lines.append(f"  {row.site:>2}. {row.district or '?'} ({row.lon:.4f} E, {row.lat:.4f} N): {row.area_ha:g} ha, "
                     f"score {row.score_mean:.3f}{stable}"
                     + (f"; {row.verdict}" if hasattr(row, "verdict") else "")
                     + (f" — fails: {row.rule_failures}" if getattr(row, "rule_failures", None) else ""))
    return lines


def write_siting(result: SitingResult, out_dir) -> dict[str, Path]:
    """Write ``sites.gpkg`` (layer ``sites``), ``sites_grid.tif`` (the grid, one band per column:
    :mod:`layers.siting.grid_file`), ``sites.csv``, ``sites_by_district.csv``, ``suitability.tif`` and
    ``sites_summary.json`` atomically."""
    from geo.io.output import write_csv, write_geopackage, write_json
    from geo.io.raster import write_geotiff
    from layers.siting.grid_file import GRID_FILE, write_grid

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    grid: Grid = result.arrays["grid"]
    paths = {"sites_gpkg": out_dir / "sites.gpkg", "grid_tif": out_dir / GRID_FILE, "sites_csv": out_dir / "sites.csv",
             "by_district_csv": out_dir / "sites_by_district.csv",
             "score_tif": out_dir / "suitability.tif", "summary": out_dir / "sites_summary.json"}
    sites = _without_attrs(result.sites)
    write_geopackage({"sites": sites}, paths["sites_gpkg"])
    write_grid(_without_attrs(result.grid), grid, paths["grid_tif"])
    write_csv(sites.drop(columns="geometry"), paths["sites_csv"])
    write_csv(result.by_district, paths["by_district_csv"])
    write_geotiff(result.score, grid.profile, paths["score_tif"])
    write_json({**result.summary, "sensitivity_runs": result.runs.to_dict(orient="records") if len(result.runs) else []},
               paths["summary"])
    return paths


def _without_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy of ``frame`` without ``attrs``: pandas deep-copies a frame's attrs (here the run's whole summary)
    into every column and frame taken from it, which was half the time of writing the siting files."""
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


def district_table(grid: Grid, found, crs: str) -> pd.DataFrame:
    """The best sites of each district (``sites_by_district.csv``): district, its rank there, the site's rank among
    all sites, area, mean score, best cell (lon, lat) and its number on the shortlist (None when not on it)."""
    rows = found.by_district
    if rows.empty:
        return pd.DataFrame(columns=["district", "rank_in_district", "rank_all", "area_ha", "score_mean", "lon", "lat",
                                     "shortlist_site"])
    t = found.table_all.set_index("site").loc[rows["rank_all"].to_numpy()]
    cx = grid.x0 + (t["col"].to_numpy() + 0.5) * grid.cell_m
    cy = grid.y0 - (t["row"].to_numpy() + 0.5) * grid.cell_m
    best = gpd.GeoSeries(storage_points(cx, cy, crs), crs="EPSG:4326")
    on_list = dict(zip(found.table["rank_all"], found.table["site"]))
    return pd.DataFrame({"district": rows["district"].to_numpy(), "rank_in_district": rows["rank_in_district"].to_numpy(),
                         "rank_all": rows["rank_all"].to_numpy(), "area_ha": t["area_ha"].round(2).to_numpy(),
                         "score_mean": t["score_mean"].round(4).to_numpy(), "lon": best.x.round(5).to_numpy(),
                         "lat": best.y.round(5).to_numpy(),
                         "shortlist_site": [on_list.get(r) for r in rows["rank_all"]]})
