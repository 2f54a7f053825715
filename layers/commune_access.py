"""Access by 2025 commune: people within N minutes of a park, median minutes to corridors.

The figures are computed on the WorldPop 1-km cells (people per cell,
rescaled per former district to the 2019 census, :func:`layers.population.population_raster`):

1. every populated cell of the region gets its road minutes to the nearest
   industrial park and to each corridor named in ``communes.access_corridors``
   (``ql1a``, ``ct01``): the cell centre joins its nearest road edge exactly
   as a park does in the access report (:meth:`layers.networks.Networks.attach`,
   access leg at ``access.access_speed_kmh``; a cell farther than
   ``access.max_snap_m`` from every road has no time);
2. each 2025 unit is given a set of cells, and the unit's figures are the
   population-weighted figures of those cells. How the set was found is the
   row's ``access_method``:

   * ``polygon`` — the commune polygons of ``--communes FILE``: the cells
     whose centre lies inside the polygon (exact for the 1-km grid);
   * ``nearest cells to point`` — no polygon, but a point (the unit's open
     point, ``communes.points_file``, or an OSM place of the same name): the cells of the unit's former district(s) nearest the
     point, taken in order of distance until they hold the unit's 2019
     population (an approximation: the real commune outline is unknown, so
     the cells may belong partly to neighbours);
   * ``none`` — neither: every access figure is NaN and ``access_note`` says why.

Columns (added to :func:`layers.communes.commune_report`)
---------------------------------------------------------
``access_method`` : see above. ``access_cells`` : number of cells used.
``access_coverage`` : share (0–1) of those cells' people that have a road time.
``share_within_<m>_min_of_park`` : share (0–1) of the cells' people with a time
    that reach a park (any status in the parks layer) within m minutes.
``people_within_<m>_min_of_park`` : that share × the unit's 2019 population;
    ``…_min`` / ``…_max`` : the range — every assumed speed at its lower /
    upper bound in the speed model (as the access report's ranges), people
    with no time counted as not within / within, and the population range.
``median_minutes_to_<corridor>`` : population-weighted median minutes of the
    cells' people to the nearest node of the corridor (NaN when fewer than
    half of the people have a time); ``median_minutes_low_to_<corridor>`` /
    ``median_minutes_high_to_<corridor>`` : the same with the assumed speeds
    at their upper / lower bounds (absent when the model states no bounds).
``access_note`` : why figures are missing, else "".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.errors import InputError
from layers.access import Networks, bound_networks, corridor_targets, settings_of
from layers.boundaries import districts, region_polygon
from layers.region import Region

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommuneAccessOptions:
    """What is measured by commune (``communes.access_minutes`` / ``access_corridors`` of the region YAML)."""

    minutes: float = 30.0                         # "people within this many minutes of a park"
    corridors: tuple[str, ...] = ("ql1a", "ct01")  # median minutes to each

    def __post_init__(self):
        if not self.minutes > 0:
            raise ValueError("communes.access_minutes must be positive")
        if not self.corridors:
            raise ValueError("communes.access_corridors must name at least one corridor")

    @classmethod
    def from_region(cls, region: Region) -> CommuneAccessOptions:
        """Options from ``region.config["communes"]``; a one-line error naming the region file when invalid."""
        cfg = region.section("communes")
        try:
            return cls(minutes=float(cfg.get("access_minutes", 30)),
                       corridors=tuple(str(c) for c in cfg.get("access_corridors", ("ql1a", "ct01"))))
        except (TypeError, ValueError) as exc:
            raise InputError(region.source_file, f"section 'communes': {exc}") from exc


def population_cells(population, outline) -> gpd.GeoDataFrame:
    """Populated cells (people > 0) whose centre lies in ``outline`` (shapely, EPSG:4326).

    ``population`` : ``(array, profile)`` (persons per cell). Columns:
    ``people`` (persons), ``row``, ``col`` (raster position); point geometry
    = cell centre, EPSG:4326.
    """
    array, profile = population
    rows, cols = np.nonzero(np.isfinite(array) & (array > 0))
    lon, lat = profile["transform"] * (cols + 0.5, rows + 0.5)
    pts = gpd.GeoSeries.from_xy(lon, lat, crs=profile["crs"]).to_crs("EPSG:4326")
    inside = np.asarray(pts.within(outline)) if outline is not None else np.ones(len(pts), bool)
    return gpd.GeoDataFrame({"people": array[rows, cols][inside].astype(float), "row": rows[inside], "col": cols[inside]},
                            geometry=pts[inside].values, crs="EPSG:4326").reset_index(drop=True)


def cell_minutes(region: Region, net: Networks, parks: gpd.GeoDataFrame | None, cells: gpd.GeoDataFrame,
                 corridors) -> pd.DataFrame:
    """Road minutes from each cell centre to the nearest park and to each corridor.

    Columns ``minutes_to_park``, ``minutes_to_<corridor>`` and
    ``reason_<…>`` (why a time is missing), aligned with ``cells``. Parks
    without a position are left out; with none, the park minutes are NaN
    with the reason.
    """
    cfg = settings_of(region, net.model)
    routed = net.road
    extra, missing = {}, {}
    placed = parks[parks.geometry.notna() & ~parks.geometry.is_empty] if parks is not None and len(parks) else None
    if placed is not None and len(placed):
        routed, park_idx, _, park_why = net.attach(routed, placed, cfg["max_snap_m"], cfg["access_speed_kmh"])
        extra["park"] = np.asarray(park_idx)[pd.isna(pd.Series(park_why, dtype=object)).to_numpy()]
    else:
        missing["park"] = "no park has a position (the data folder withholds them: use --data or --parks FILE)"
    routed, cell_idx, _, cell_why = net.attach(routed, cells, cfg["max_snap_m"], cfg["access_speed_kmh"])
    targets, corridor_missing = corridor_targets(net, list(corridors), routed, specs=region.corridors)
    targets.update(extra)
    if "park" not in targets:
        targets["park"] = np.empty(0, np.int64)
    missing.update(corridor_missing)
    from geo.routing.access import minutes_to_targets

    return minutes_to_targets(routed, cell_idx, targets, missing=missing, origin_reason=cell_why)


def weighted_median(values, weights) -> float:
    """Median of ``values`` weighted by ``weights`` (NaN values left out; NaN when no weight).

    >>> weighted_median([10, 20, 30], [1, 1, 5])
    30.0
    >>> weighted_median([10, 20, float("nan")], [3, 1, 9])
    10.0
    """
    v = np.asarray(values, float)
    w = np.asarray(weights, float)
    ok = np.isfinite(v) & (w > 0)
    if not ok.any():
        return float("nan")
    order = np.argsort(v[ok], kind="stable")
    v, w = v[ok][order], w[ok][order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, 0.5 * cum[-1])])


def cells_in_polygons(cells: gpd.GeoDataFrame, report: gpd.GeoDataFrame, polygonal: np.ndarray) -> dict:
    """Code → indexes of the cells whose centre lies inside the unit's polygon."""
    polys = report.loc[polygonal, ["code", "geometry"]]
    joined = gpd.sjoin(cells[["geometry"]], gpd.GeoDataFrame(polys, geometry="geometry", crs="EPSG:4326"),
                       how="inner", predicate="within")
    return {int(code): group.index.to_numpy() for code, group in joined.groupby("code")}


def cells_near_point(cells_metric: np.ndarray, cell_people: np.ndarray, candidates: np.ndarray, point_xy, population: float):
    """Indexes of ``candidates`` nearest ``point_xy`` (metric) until their people reach ``population``."""
    if candidates.size == 0 or not population > 0:
        return candidates[:0]
    d = np.hypot(cells_metric[candidates, 0] - point_xy[0], cells_metric[candidates, 1] - point_xy[1])
    order = candidates[np.argsort(d, kind="stable")]
    cum = np.cumsum(cell_people[order])
    n = int(np.searchsorted(cum, population)) + 1
    return order[:min(n, order.size)]


def commune_access(region: Region, report: gpd.GeoDataFrame, net: Networks, *, mapping: pd.DataFrame,
                   population, parks: gpd.GeoDataFrame | None = None,
                   options: CommuneAccessOptions | None = None) -> pd.DataFrame:
    """Access columns (see module docstring) for the rows of ``report`` (aligned on its index).

    Arguments in the order of every analysis (region, features, networks, then keywords).
    ``report`` : :func:`layers.communes.commune_report` rows (``code``,
    ``population``, ``population_min``/``_max``, geometry, ``location``);
    ``mapping`` : :func:`layers.communes.commune_mapping` (former districts
    per unit); ``population`` : ``(array, profile)``; ``parks`` : for the minutes to the nearest park.
    """
    from layers.networks.routers import require_networks

    require_networks(net, "commune_access(region, report, net)")
    options = options or CommuneAccessOptions.from_region(region)
    m = options.minutes
    units = districts(region).to_crs("EPSG:4326")
    cells = population_cells(population, region_polygon(region))
    times = cell_minutes(region, net, parks, cells, options.corridors)
    bounds = bound_networks(net)       # (slow, fast): every assumed speed at its bound in the speed model
    fast = slow = None
    if bounds is not None:
        slow = cell_minutes(region, bounds[0], parks, cells, options.corridors)
        fast = cell_minutes(region, bounds[1], parks, cells, options.corridors)
    people = cells["people"].to_numpy()
    park_min = times["minutes_to_park"].to_numpy()
    metric = to_metric(cells, region.metric_crs).geometry
    cells_xy = np.c_[metric.x.to_numpy(), metric.y.to_numpy()]
    cell_district = gpd.sjoin(cells[["geometry"]], units[["province_vi", "district", "geometry"]], how="left",
                              predicate="within")
    cell_district = cell_district[~cell_district.index.duplicated(keep="first")].reindex(cells.index)
    cell_key = list(zip(cell_district["province_vi"], cell_district["district"]))

    geom = report.geometry
    polygonal = np.asarray(geom.notna() & geom.geom_type.isin(["Polygon", "MultiPolygon"]).fillna(False))
    pointed = np.asarray(geom.notna() & (geom.geom_type == "Point").fillna(False))
    in_polygon = cells_in_polygons(cells, report, polygonal) if polygonal.any() else {}
    former = mapping.groupby("code").apply(lambda g: set(zip(g["province_vi"], g["district"])), include_groups=False)
    district_union = {}
    points_metric = to_metric(gpd.GeoSeries(geom.where(pd.Series(pointed, index=geom.index), None), crs="EPSG:4326"),
                              region.metric_crs)

    rows = []
    for i, (idx, unit) in enumerate(report.iterrows()):
        row = {"access_method": "none", "access_cells": np.nan, "access_note": ""}
        code = int(unit["code"])
        chosen = None
        if polygonal[i]:
            chosen = in_polygon.get(code, np.empty(0, np.int64))
            row["access_method"] = "polygon: WorldPop cells whose centre lies inside the commune polygon (--communes)"
            if chosen.size == 0:
                row["access_note"] = "no populated 1-km cell centre inside the polygon (polygon smaller than a cell)"
        elif pointed[i]:
            keys = former.get(code, set())
            candidates = np.flatnonzero([k in keys for k in cell_key])
            p = points_metric.iloc[i]
            if code not in district_union:
                district_union[code] = units[[(pv, d) in keys for pv, d in zip(units["province_vi"], units["district"])]].union_all()
            if not district_union[code].buffer(0.01).contains(geom.iloc[i]):
                row["access_note"] = ("the unit's point lies outside its former district(s): "
                                      "not used; no polygon, so access unknown")
            else:
                chosen = cells_near_point(cells_xy, people, candidates, (p.x, p.y), float(unit["population"]))
                row["access_method"] = (f"nearest cells to point: the {chosen.size} WorldPop cells of the former "
                                        f"district(s) nearest the unit's point, holding the 2019 population (approximate: "
                                        f"no commune polygon)")
        else:
            row["access_note"] = ("no commune polygon (none offline; give --communes FILE), no open point and no OSM place "
                                  "of this name: the unit's population cannot be placed on the grid, so access is unknown")
        row.update(_figures(chosen, people, times, options, unit, fast=fast, slow=slow))
        if chosen is not None and chosen.size:
            row["access_cells"] = int(chosen.size)
        rows.append(row)
    out = pd.DataFrame(rows, index=report.index)
    out.attrs["summary"] = {
        "access_minutes": m, "access_corridors": list(options.corridors),
        "units_by_access_method": {k.split(":")[0]: int(v) for k, v in out["access_method"].str.split(":").str[0].value_counts().items()},
        "cells": len(cells), "cells_without_park_time": int(np.isnan(park_min).sum()),
        "park_minutes_missing_reason": _first_reason(times, "park"),
    }
    return out


def _first_reason(times: pd.DataFrame, name: str):
    reasons = times[f"reason_{name}"].dropna()
    return str(reasons.iloc[0]) if len(reasons) and times[f"minutes_to_{name}"].isna().all() else None


def _figures(chosen, people, times, options: CommuneAccessOptions, unit, fast=None, slow=None) -> dict:
    """Population-weighted access figures of the cells ``chosen`` for one unit (NaN when none).

    ``fast`` / ``slow`` : the cells' minutes with every assumed speed at its
    upper / lower bound (None when the speed model states no bounds): they
    give ``median_minutes_low_to_<c>`` / ``median_minutes_high_to_<c>`` and widen
    the people range.
    """
    m = options.minutes
    tag = f"{m:g}"
    out = {"access_coverage": np.nan, f"share_within_{tag}_min_of_park": np.nan,
           f"people_within_{tag}_min_of_park": np.nan, f"people_within_{tag}_min_of_park_min": np.nan,
           f"people_within_{tag}_min_of_park_max": np.nan}
    for c in options.corridors:
        out[f"median_minutes_to_{c}"] = np.nan
        if fast is not None:
            out[f"median_minutes_low_to_{c}"] = out[f"median_minutes_high_to_{c}"] = np.nan
    if chosen is None or chosen.size == 0:
        return out
    w = people[chosen]
    total = w.sum()
    pm = times["minutes_to_park"].to_numpy()[chosen]
    pm_slow = slow["minutes_to_park"].to_numpy()[chosen] if slow is not None else pm
    pm_fast = fast["minutes_to_park"].to_numpy()[chosen] if fast is not None else pm
    known = np.isfinite(pm)
    notes = []
    if known.any():
        share = w[known & (pm <= m)].sum() / w[known].sum()
        within_low = w[np.isfinite(pm_slow) & (pm_slow <= m)].sum()               # slow speeds, no-time = not within
        within_high = w[~np.isfinite(pm_fast) | (pm_fast <= m)].sum()             # fast speeds, no-time = within
        out["access_coverage"] = round(float(w[known].sum() / total), 4)
        out[f"share_within_{tag}_min_of_park"] = round(float(share), 4)
        out[f"people_within_{tag}_min_of_park"] = round(float(share * unit["population"]), 0)
        out[f"people_within_{tag}_min_of_park_min"] = round(float(within_low / total * unit["population_min"]), 0)
        out[f"people_within_{tag}_min_of_park_max"] = round(float(within_high / total * unit["population_max"]), 0)
    else:
        reason = times["reason_park"].to_numpy()[chosen]
        notes.append(f"minutes to a park unknown: {next((r for r in reason if isinstance(r, str)), 'no time')}")
    for c in options.corridors:
        mins = times[f"minutes_to_{c}"].to_numpy()[chosen]
        ok = np.isfinite(mins)
        if w[ok].sum() >= 0.5 * total and total > 0:
            out[f"median_minutes_to_{c}"] = round(weighted_median(mins, w), 1)
            if fast is not None:
                low = weighted_median(fast[f"minutes_to_{c}"].to_numpy()[chosen], w)
                high = weighted_median(slow[f"minutes_to_{c}"].to_numpy()[chosen], w)
                out[f"median_minutes_low_to_{c}"] = round(min(low, out[f"median_minutes_to_{c}"]), 1)
                out[f"median_minutes_high_to_{c}"] = round(max(high, out[f"median_minutes_to_{c}"]), 1)
        else:
            reason = times[f"reason_{c}"].to_numpy()[chosen]
            notes.append(f"median minutes to {c} unknown: fewer than half of the people have a time "
                         f"({next((r for r in reason if isinstance(r, str)), 'no time')})")
    if notes:
        out["access_note"] = "; ".join(notes)
    return out
