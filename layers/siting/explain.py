"""What a planner needs to read a site: its parcel and shape, what lies next to it, and the facts the corridor rules read.

:func:`explain_sites` adds to the ``sites`` table (one row per shortlisted site):

``rank_all`` : rank among every site found (before the shortlist's spacing and district caps).
``parcel``, ``parcel_area_ha`` : the parcel (land between barriers, :func:`geo.siting.sites.parcels`) the site was grown in.
``perimeter_m``, ``compactness`` (Polsby–Popper, 1 = circle, 0.785 = square), ``min_width_m`` (narrowest part).
``m_to_corridor_road`` : straight-line metres from the site's edge to the nearest expressway, national or provincial
    road (centre line); ``m_to_road`` : to the nearest road of any class; ``m_to_railway``, ``m_to_station``.
``m_to_settlement``, ``nearest_settlement``, ``settlement_source`` : to the nearest place of the region's places
    file (town, village, hamlet …), its name and the file it comes from;
    ``m_to_residential_osm`` : to the nearest OSM 2018 ``landuse=residential`` area (2018 proxy).
``m_to_water`` : to the nearest waterway or water area (OSM 2018).
``outside_road_corridors``, ``outside_rail_corridors``, ``outside_water_corridors`` : True / False / None (unknown),
    read by the rules of ``layers/rules/protection-corridors.yaml``; ``<fact>_why`` says why one is unknown and what
    settles it. A road without a class within the widest road corridor of the site leaves the road fact unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.siting.sites import site_shapes
from layers.siting.barriers import (
    CORRIDOR_CLASSES,
    distances_m,
    nearest_names,
    rail_barrier_width_m,
    read_corridor_rules,
    river_barrier_width_m,
    road_barrier_width_m,
)


def _round(values, digits=0):
    return np.round(np.asarray(values, dtype=float), digits)


def road_facts(geoms, edges, lines, rules: dict) -> tuple[dict, np.ndarray, np.ndarray]:
    """Distances to roads by class and the road-corridor fact (True / False / None) with why, per site geometry
    (``lines``: the lines of ``edges`` in the sites' metric CRS)."""
    cls = edges["road_class"].astype(str).to_numpy()
    lines = np.asarray(lines, dtype=object)
    classified = np.isin(cls, CORRIDOR_CLASSES)
    out = {"m_to_corridor_road": distances_m(geoms, list(lines[classified])),
           "m_to_road": distances_m(geoms, list(lines))}
    unclassified = distances_m(geoms, list(lines[~classified]))
    fact = np.full(len(geoms), True, dtype=object)
    why = np.full(len(geoms), None, dtype=object)
    for c in CORRIDOR_CLASSES:
        d = distances_m(geoms, list(lines[cls == c]))
        inside = np.isfinite(d) & (d < road_barrier_width_m(rules, c))
        fact[inside] = False
        why[inside] = f"within the safety corridor of a {c} road"
    widest = max(float(v) for v in rules["road"]["width_by_grade_m"].values())
    reach = widest + min(float(v) for v in rules["road"]["road_land_half_width_m"].values())
    unknown = (fact == True) & np.isfinite(unclassified) & (unclassified < reach)  # noqa: E712
    fact[unknown] = None
    why[unknown] = [f"a road without a class lies {d:,.0f} m from the site (inside it at 0 m): its grade, so its corridor "
                    f"(4–{widest:g} m from its road land), is unknown" for d in unclassified[unknown]]
    out["m_to_unclassified_road"] = unclassified
    return out, fact, why


def explain_sites(context, sites, found) -> pd.DataFrame:
    """``sites`` with the columns of the module docstring (metric work in the grid's CRS)."""
    if sites.empty:
        return sites
    grid, region = context.grid, context.region
    crs = grid.crs
    rules = read_corridor_rules(context.plan.exclusions.get("corridor_rules") or "protection-corridors")
    geoms = np.asarray(to_metric(sites, crs).geometry.values, dtype=object)
    out = sites.copy()
    n = len(sites)
    out["rank_all"] = found.table["rank_all"].to_numpy()[:n]
    # the parcel of each site: the parcel of its best cell
    rows, cols = found.table["row"].to_numpy()[:n], found.table["col"].to_numpy()[:n]
    parcel = found.parcels[rows, cols]
    out["parcel"] = parcel.astype(int)
    out["parcel_area_ha"] = _round(found.parcel_cells[parcel] * grid.cell_ha, 1)
    shapes = site_shapes(found.labels, n, grid.cell_m)
    out["perimeter_m"] = _round(shapes["perimeter_m"].to_numpy())
    out["compactness"] = _round(shapes["compactness"].to_numpy(), 3)
    out["min_width_m"] = _round(shapes["min_width_m"].to_numpy())

    lines = context.barriers.lines
    dist, road_fact, road_why = road_facts(geoms, context.net.road_edges, context.road_lines, rules)
    for k, v in dist.items():
        out[k] = _round(v)
    out["m_to_railway"] = _round(distances_m(geoms, lines.get("railways", [])))
    out["m_to_station"] = _round(distances_m(geoms, lines.get("stations", [])))
    d, names = nearest_names(geoms, lines.get("settlements_osm", []), lines.get("_settlement_names", []))
    out["m_to_settlement"] = _round(d)
    out["nearest_settlement"] = names
    out["settlement_source"] = context.barriers.notes.get("_settlement_source")
    out["m_to_residential_osm"] = _round(distances_m(geoms, lines.get("residential_osm", [])))

    out["outside_road_corridors"] = road_fact
    out["outside_road_corridors_why"] = road_why
    rail = out["m_to_railway"].to_numpy(float)
    rail_w = rail_barrier_width_m(rules)
    if "railways" in lines:
        out["outside_rail_corridors"] = [bool(v >= rail_w) if np.isfinite(v) else True for v in rail]
        out["outside_rail_corridors_why"] = None
    else:
        out["outside_rail_corridors"] = None
        out["outside_rail_corridors_why"] = "no railway lines given"
    water = context.water_metric
    if water is None:
        out["m_to_water"] = np.nan
        out["outside_water_corridors"] = None
        out["outside_water_corridors_why"] = context.missing_layers.get("water", "no water layer given")
    else:
        ways = np.asarray(water.loc[water["kind"] == "waterway"].geometry.values, dtype=object)
        areas = np.asarray(water.loc[water["kind"] == "water_area"].geometry.values, dtype=object)
        d_way, d_area = distances_m(geoms, list(ways)), distances_m(geoms, list(areas))
        out["m_to_water"] = _round(np.fmin(d_way, d_area))
        ok = ~(np.isfinite(d_way) & (d_way < river_barrier_width_m(rules))) & \
            ~(np.isfinite(d_area) & (d_area < float(rules["water"]["lake_width_m"])))
        out["outside_water_corridors"] = ok.tolist()
        out["outside_water_corridors_why"] = None
    del region
    return out
