"""The siting run as named steps: options → plan → grid → inputs → criteria → exclusions → score → locate
→ sensitivity → tables and rules → summary.

:func:`run_siting` chains them; each step is a function of the previous
steps' results, so a caller (a benchmark, a test, a notebook) can stop after
any of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.siting.grid import Grid, make_grid
from geo.siting.sites import ShortlistRule, locate, parcels, shortlist, site_mode, suitable_cells, weight_sensitivity, width_cells
from geo.siting.suitability import correlated_pairs, correlation_matrix, saturation, weighted_score
from layers import networks
from layers.region import Region
from layers.siting.context import Clock, SitingContext
from layers.siting.criteria import CRITERIA, measure
from layers.siting.exclusions import EXCLUSIONS_OF_LAYER, _region_outline, exclusion_layers
from layers.siting.options import SitingOptions, SitingPlan
from layers.siting.planning import plan_siting
from layers.siting.explain import explain_sites
from layers.siting.tables import SitingResult, _district_codes, _grid_frame, _num, _sites_frame, district_table

log = logging.getLogger(__name__)


def needed_criteria(region: Region, plan: SitingPlan) -> list[str]:
    """Criteria to measure: the region's ``siting.always_measure``, the registry's standard ones, then the profile's."""
    known = CRITERIA.known(region)
    always = [n for n in [*plan.grid.get("always_measure", []), *CRITERIA.standard(region)] if n in known]
    return list(dict.fromkeys([*always, *plan.profile.criteria]))


def build_grid(region: Region, plan: SitingPlan, needed) -> Grid:
    """The square grid over the region (refused before anything big is built when it would not fit in memory)."""
    outline = to_metric(gpd.GeoSeries([_region_outline(region)], crs="EPSG:4326"), region.metric_crs).iloc[0]
    return make_grid(outline, plan.cell_m, region.metric_crs, n_layers=2 * len(needed) + 12,
                     max_bytes=plan.options.max_bytes, source="--cell-size")


def read_user_layers(plan: SitingPlan) -> dict[str, gpd.GeoDataFrame]:
    """The layers given by file (land constraints and ``--layer NAME=FILE``), read and refused early."""
    from geo.errors import InputError
    from geo.io.vector import read_vector

    out = {}
    defaults = plan.region_layers
    for name, path in {**defaults, **plan.options.layer_files}.items():
        layer = read_vector(path)
        if layer.empty:
            raise InputError(path, "has no features")
        layer.attrs["source"] = Path(path).name + (" (region default)" if defaults.get(name) == path else "")
        out[name] = layer
    return out


def scenario_network(region: Region, plan: SitingPlan, net: networks.Networks):
    """``(router, extra targets, roads)`` of the planned-road scenario, or ``(None, None, None)`` without one."""
    opts = plan.options
    if opts.scenario is None:
        return None, None, None
    from layers.scenario import read_scenario

    lines, points = read_scenario(opts.scenario, opts.interchanges)
    return _scenario_router(region, net, lines, points, opts.scenario)


def exclusions(context: SitingContext, values: dict) -> tuple[dict, dict, np.ndarray]:
    """Excluded cells: ``(masks by exclusion, report, excluded)``; a missing region layer's exclusions say why."""
    plan = context.plan
    masks, report = exclusion_layers(context.region, context.grid, plan.exclusions, parks=context.parks,
                                     places=context.places, water_layer=context.water_metric, slope=values.get("slope_deg"),
                                     constraints={k: (context.user_layers.get(k), spec) for k, spec in plan.constraints.items()})
    for layer, why in context.missing_layers.items():
        for name in EXCLUSIONS_OF_LAYER.get(layer, []):
            if name in report:
                report[name]["note"] = why
    barriers = context.barriers
    for name, geoms in barriers.geoms.items():
        geoms = [g for g in geoms if g is not None and not g.is_empty]
        masks[name] = context.grid.rasterize(geoms, all_touched=True)
        report[name] = {"given": bool(geoms), "features": len(geoms), "note": barriers.notes.get(name, ""),
                        "barrier": True, "proxy": name in barriers.proxy, "_geoms": geoms}
        report[name]["cells"] = int((masks[name] & context.grid.inside).sum())
        report[name]["ha"] = round(report[name]["cells"] * context.grid.cell_ha, 1)
    excluded = np.zeros(context.grid.shape, bool)
    for mask in masks.values():
        excluded |= mask
    context.clock.lap("exclusions")
    return masks, report, excluded


@dataclass
class Located:
    """Scores, parcels and sites on the grid (metric CRS)."""

    scores: object            # geo.siting.suitability.Scores
    score: np.ndarray         # NaN outside the region and where unscored
    eligible: np.ndarray      # inside, not excluded, scored
    suitable: np.ndarray
    threshold: float
    parcels: np.ndarray       # parcel of every cell (0 = excluded or outside): land cut by the barriers
    parcel_cells: np.ndarray  # cells per parcel
    labels_all: np.ndarray    # rank of the site every cell belongs to among all sites found, 0 = none
    table_all: pd.DataFrame   # every site found (ranked by mean score)
    site_district: list       # district of each site of table_all (None = none)
    labels: np.ndarray        # the shortlisted sites, numbered 1… in shortlist order
    table: pd.DataFrame       # the shortlist (``site`` = its rank on the list, ``rank_all`` = among all sites)
    passed_over: dict         # rank_all → why a better-ranked site was not shortlisted
    by_district: pd.DataFrame  # best sites of each district (rank_all, district, rank_in_district)
    n_top: int


def district_filter(names: list, wanted, what: str = "district") -> list:
    """The known names matching ``wanted`` (folded, any order of words); raises :class:`InputError` when none does."""
    from geo.errors import InputError
    from geo.text import fold

    if not wanted:
        return []
    keys = {fold(n): n for n in names if n}
    out = []
    for w in [wanted] if isinstance(wanted, str) else list(wanted):
        hit = keys.get(fold(w)) or next((n for k, n in keys.items() if fold(w) in k), None)
        if hit is None:
            raise InputError(None, f"--{what} '{w}': no such {what} (known: {', '.join(sorted(keys.values()))})")
        out.append(hit)
    return out


def score_and_locate(plan: SitingPlan, grid: Grid, values: dict, reasons: dict, excluded: np.ndarray,
                     districts: tuple, communes: tuple | None = None) -> Located:
    """Weighted score of the profile, the parcels, the sites grown in them and the shortlist."""
    prof, loc = plan.profile, plan.locate
    names, codes = districts
    scores = weighted_score(prof, {k: values[k] for k in prof.criteria}, within=grid.inside, reasons=reasons)
    score = np.where(grid.inside, scores.score, np.nan)
    eligible = grid.inside & ~excluded & np.isfinite(score)
    wanted = district_filter(names, plan.options.district)
    if wanted:                                  # a district's planner: the best share of *their* land is suitable
        eligible &= np.isin(codes, [names.index(w) for w in wanted])
    suitable, threshold = suitable_cells(score, eligible, loc["min_score"], loc["top_share"])
    parcel_labels, parcel_cells = parcels(grid.inside & ~excluded)
    labels_all, table_all = locate(score, suitable, cell_ha=grid.cell_ha, min_area_ha=float(loc["min_area_ha"]),
                                   max_area_ha=plan.max_area_ha, split=loc["split"], parcel_labels=parcel_labels,
                                   radius_factor=float(loc["radius_factor"]),
                                   min_width_cells=width_cells(float(loc["min_width_m"] or 0), grid.cell_m))
    n_all = len(table_all)
    mode = site_mode(labels_all, n_all, codes)
    site_district = [names[m] if m >= 0 else None for m in mode]
    candidates = [i + 1 for i, d in enumerate(site_district) if d in wanted] if wanted else None
    caps = {}
    if loc.get("max_per_district"):
        caps["district"] = (site_district, int(loc["max_per_district"]))
    site_commune = [None] * n_all
    if communes is not None:
        c_names, c_codes = communes
        site_commune = [c_names[m] if m >= 0 else None for m in site_mode(labels_all, n_all, c_codes)]
        wanted_c = district_filter(c_names, plan.options.commune, "commune")
        if wanted_c:
            keep = {i + 1 for i, c in enumerate(site_commune) if c in wanted_c}
            candidates = sorted(keep if candidates is None else keep & set(candidates))
        if loc.get("max_per_commune"):
            caps["commune"] = (site_commune, int(loc["max_per_commune"]))
    spacing = float(loc["min_spacing_km"]) * 1000
    chosen, passed = shortlist(labels_all, n_all, cell_m=grid.cell_m, min_spacing_m=spacing, top_n=int(loc["top_n"]),
                               caps=caps, candidates=candidates)
    relabel = np.zeros(n_all + 1, dtype=np.int32)
    relabel[np.asarray(chosen, dtype=np.int64)] = np.arange(1, len(chosen) + 1, dtype=np.int32)
    labels = relabel[labels_all]
    table = table_all.iloc[[c - 1 for c in chosen]].copy()
    table["rank_all"] = table["site"].to_numpy()
    table["site"] = np.arange(1, len(chosen) + 1)
    rows = []
    per = int(loc["district_table_n"])
    for name in sorted({d for d in site_district if d}):
        mine = [i + 1 for i, d in enumerate(site_district) if d == name]
        best, _ = shortlist(labels_all, n_all, cell_m=grid.cell_m, min_spacing_m=spacing, top_n=per, candidates=mine)
        rows.extend({"district": name, "rank_in_district": k + 1, "rank_all": b} for k, b in enumerate(best))
    table["commune"] = [site_commune[c - 1] for c in chosen]
    return Located(scores, score, eligible, suitable, threshold, parcel_labels, parcel_cells, labels_all, table_all,
                   site_district, labels, table.reset_index(drop=True), passed, pd.DataFrame(rows), len(chosen))


def shortlist_rule(loc: dict, grid: Grid, district_codes: np.ndarray) -> ShortlistRule:
    """The base run's shortlist rules (spacing, district cap) for re-scored runs (±20 % and Monte Carlo)."""
    cap = loc.get("max_per_district")
    return ShortlistRule(cell_m=float(grid.cell_m), min_spacing_m=float(loc["min_spacing_km"]) * 1000,
                         district_codes=np.asarray(district_codes), max_per_district=int(cap) if cap else None)


def sensitivity(plan: SitingPlan, grid: Grid, found: Located, district_codes: np.ndarray):
    """Ranks of the reported sites under ±``sensitivity_change`` on each weight: ``(per_site, runs)``.

    A run re-scores, re-grows and re-ranks every site and shortlists them as
    the base run does (spacing, district cap); a shortlisted site is followed
    to the run's site holding most of its cells, and its rank is that site's
    place on the run's shortlist.
    """
    loc = plan.locate
    if not (plan.options.sensitivity and found.n_top):
        return None, pd.DataFrame()
    return weight_sensitivity(
        found.scores.components, found.scores.weights,
        found.eligible, found.labels, found.n_top, cell_ha=grid.cell_ha, min_area_ha=float(loc["min_area_ha"]),
        max_area_ha=plan.max_area_ha, top_n=int(loc["top_n"]), split=loc["split"],
        min_known_weight=plan.profile.scoring["min_known_weight"], min_score=loc["min_score"], top_share=loc["top_share"],
        change=float(loc["sensitivity_change"]), parcel_labels=found.parcels, radius_factor=float(loc["radius_factor"]),
        min_width_cells=width_cells(float(loc["min_width_m"] or 0), grid.cell_m),
        shortlist_rule=shortlist_rule(loc, grid, district_codes))


def run_siting(region: Region, profile="logistics-heavy", *, net: networks.Networks | None = None, population=None,
               options: SitingOptions | None = None, **kwargs) -> SitingResult:
    """Suitability grid and ranked candidate sites for ``region`` (see :mod:`layers.siting`).

    ``kwargs`` are the fields of :class:`SitingOptions` (``cell_m``,
    ``scenario``, ``layers``, ``min_area_ha`` …), or pass ``options``.
    ``net`` (road networks) and ``population`` (``(array, raster profile)``)
    may be passed in to reuse them. Inputs are all checked (options,
    profile, files, grid size) before the long work starts; nothing is
    written here (see :func:`layers.siting.write_siting`).
    """
    clock = Clock()
    opts = options if options is not None else SitingOptions.from_kwargs(profile, **kwargs)
    plan = plan_siting(region, opts)
    needed = needed_criteria(region, plan)
    grid = build_grid(region, plan, needed)
    if opts.district:                                   # a wrong name fails before the long work
        from layers.boundaries import districts as district_units

        district_filter(district_units(region)["district"].tolist(), opts.district)
    clock.lap("grid")
    user_layers = read_user_layers(plan)
    if net is None:       # the region's shared networks for these options (built once, see layers.networks.shared_networks)
        net_options = opts.network or networks.NetworkOptions(osm=opts.osm)
        net = networks.shared_networks(region, net_options)
    clock.lap("networks")
    router, extra, roads = scenario_network(region, plan, net)
    clock.lap("scenario")
    context = SitingContext(region=region, grid=grid, plan=plan, needed=needed, net=net, router=router, extra_targets=extra,
                            user_layers=user_layers, population_given=population, clock=clock)
    context.load_layers()
    clock.lap("layers")
    values, reasons = measure(context, grid, needed)
    masks, ex_report, excluded = exclusions(context, values)
    districts = _district_codes(region, grid)
    found = score_and_locate(plan, grid, values, reasons, excluded, districts, commune_codes(plan, grid))
    clock.lap("score and locate")
    per_site, runs = sensitivity(plan, grid, found, districts[1])
    clock.lap("sensitivity")
    sites, cells, rules_summary = tables(context, values, masks, excluded, found, per_site, districts)
    clock.lap("tables")
    summary = summarise(context, values, reasons, ex_report, excluded, found, per_site, runs, rules_summary, roads)
    summary["shortlist"] = shortlist_records(sites, found, plan.profile)
    sites.attrs["summary"] = summary
    cells.attrs["summary"] = summary
    arrays = {"masks": masks, "exclusion_geoms": {k: v["_geoms"] for k, v in ex_report.items()}, "grid": grid,
              "values": values, "scores": found.scores, "labels": found.labels, "labels_all": found.labels_all,
              "threshold": found.threshold, "eligible": found.eligible, "parcels": found.parcels,
              "district_codes": districts[1],
              "barrier_lines": context.barriers.lines}
    return SitingResult(grid=cells, sites=sites, score=found.score, arrays=arrays, summary=summary, runs=runs,
                        by_district=district_table(grid, found, grid.crs))


def tables(context: SitingContext, values, masks, excluded, found: Located, per_site, district_codes: tuple):
    """The ``sites`` layer judged against the profile's rules, and the ``grid`` layer: ``(sites, cells, rules summary)``."""
    from layers.site_rules import judge_sites

    region, grid, plan = context.region, context.grid, context.plan
    crs = grid.crs
    districts, district_codes = district_codes
    sites = _sites_frame(grid, found.labels, found.table, values, found.scores, districts,
                         district_codes, per_site, plan.profile, plan.options.scenario, crs)
    sites = explain_sites(context, sites, found)
    sites, rules_summary = judge_sites(sites, plan.rule_sets, plan.profile, region, user_layers=context.user_layers,
                                       parks=context.parks_layer, crs=crs,
                                       cell_districts=(found.labels, district_codes, districts), proxies=proxy_facts(context))
    cells = _grid_frame(grid, values, found.scores, plan.profile, excluded, masks, found.suitable, found.labels_all,
                        districts, district_codes, crs, parcels=found.parcels)
    return sites, cells, rules_summary


def hygiene(values: dict, scores, found: Located, prof) -> dict:
    """Criteria that measure the same thing and value functions that saturate: the matrix, the shares and warnings."""
    used = list(scores.weights)
    matrix = correlation_matrix({k: values[k] for k in used}, found.eligible)
    limit = float(prof.scoring["max_abs_correlation"])
    pairs = correlated_pairs(matrix, limit)
    sat = saturation({k: scores.components[k] for k in used}, found.suitable)
    top = float(prof.scoring["max_saturation"])
    warnings = [f"criteria {a} and {b} correlate (r = {r:+.2f}, |r| > {limit:g}) over the eligible cells: they measure much "
                "the same thing, so its weight counts twice; combine them (e.g. a corridor group) or drop one" for a, b, r in pairs]
    warnings += [f"{k}: {v:.0%} of the suitable cells get its top score (> {top:.0%}): move the profile's best breakpoint "
                 "beyond them" for k, v in sat.items() if v is not None and v > top]
    for w in warnings:
        log.warning("siting (%s): %s", prof.name, w)
    return {"criteria_correlation": {"method": "Pearson r of the raw values over the eligible cells",
                                     "criteria": list(matrix.columns),
                                     "r": [[None if not np.isfinite(x) else round(float(x), 3) for x in row]
                                           for row in matrix.to_numpy()],
                                     "pairs_above": [{"a": a, "b": b, "r": r} for a, b, r in pairs], "limit": limit},
            "score_saturation": {"share_of_suitable_cells_at_top_score": sat, "limit": top},
            "warnings": warnings}


def commune_codes(plan: SitingPlan, grid: Grid) -> tuple | None:
    """``(names, codes on the grid)`` of the commune polygons given (``communes_file``), or None.

    No commune boundaries are carried offline (the 2025 communes have points
    at best, :mod:`layers.communes`), so ``--commune`` and a per-commune cap
    need polygons: without them asking for a commune is a one-line error.
    """
    from geo.errors import InputError
    from geo.io.raster import zone_labels
    from geo.io.vector import read_vector

    opts = plan.options
    if opts.communes_file is None:
        if opts.commune:
            raise InputError(None, "--commune needs commune polygons (--communes FILE with a name column): no 2025 "
                                   "commune boundaries are carried offline")
        return None
    polys = read_vector(opts.communes_file)
    col = next((c for c in ("name_vi", "name", "ten_xa", "NAME") if c in polys.columns), None)
    if col is None:
        raise InputError(opts.communes_file, "commune polygons need a name column (name_vi or name)")
    codes = zone_labels(grid.profile, to_metric(polys, grid.crs))
    return [str(n) for n in polys[col]], codes


#: Columns of each shortlisted site copied to sites_summary.json (``shortlist``), for the explorer's list and popups.
SHORTLIST_FIELDS = ("site", "district", "commune", "area_ha", "score_mean", "verdict", "verdict_reasons", "missing_facts",
                    "parcel", "parcel_area_ha", "compactness", "min_width_m", "m_to_corridor_road", "m_to_road",
                    "m_to_railway", "m_to_station", "m_to_settlement", "nearest_settlement", "settlement_source",
                    "m_to_water")


def shortlist_records(sites: pd.DataFrame, found: Located, prof) -> list[dict]:
    """The shortlist as plain records (best cell ``cell_row``/``cell_col``, the explanation columns, each criterion's
    mean value and score) for ``sites_summary.json``."""
    out = []
    if sites.empty:
        return out
    crit = [c for c in prof.criteria if c in sites.columns]
    for i, row in enumerate(sites.itertuples(index=False)):
        rec = {k: _num(getattr(row, k)) if isinstance(getattr(row, k, None), (float, np.floating)) else getattr(row, k, None)
               for k in SHORTLIST_FIELDS if hasattr(row, k)}
        rec["cell_row"], rec["cell_col"] = int(found.table["row"].iloc[i]), int(found.table["col"].iloc[i])
        rec["criteria"] = {c: {"value": _num(getattr(row, c)), "score": _num(getattr(row, f"s_{c}", None))} for c in crit}
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()})
    return out


def proxy_facts(context: SitingContext) -> dict:
    """Facts that rest on a proxy layer (``siting: proxy_files:`` of the region names the proxy files): fact → what."""
    proxies = (context.region.config.get("siting") or {}).get("proxy_files") or {}
    files = {**context.plan.region_layers, **context.plan.options.layer_files}
    out = {}
    rice = files.get("rice_land")
    if rice is not None and Path(rice).name in proxies:
        out["rice_land_ha"] = f"{Path(rice).name}: {proxies[Path(rice).name]}"
    return out


def summarise(context: SitingContext, values, reasons, ex_report, excluded, found: Located, per_site, runs, rules_summary,
              roads) -> dict:
    """``sites_summary.json``: profile and weights, what was scored, excluded and found, with the settings used."""
    grid, plan, prof, loc = context.grid, context.plan, context.plan.profile, context.plan.locate
    scores, score, facts = found.scores, found.score, context.facts
    inside_n = int(grid.inside.sum())
    max_area = plan.max_area_ha
    threshold = found.threshold
    summary = {
        "profile": {"name": prof.name, "title": prof.title, "source": prof.source, "weights_from": prof.weights_from,
                    "weights_given": {k: round(c.weight, 4) for k, c in prof.criteria.items()},
                    "transforms": {k: c.transform.describe() for k, c in prof.criteria.items()},
                    "ahp": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in (prof.ahp or {}).items()} or None},
        "scoring": {k: prof.scoring[k] for k in ("min_known_weight", "min_coverage") if k in prof.scoring},
        "locate": {k: loc.get(k) for k in ("top_share", "min_score", "top_n", "split", "min_area_ha", "max_area_ha",
                                           "sensitivity_change", "radius_factor", "min_width_m", "min_spacing_km", "max_per_district",
                                           "district_table_n")},
        "district_filter": plan.options.district,
        "parcels": {"count": int(len(found.parcel_cells) - 1),
                    "rule": "side-connected land between barriers and exclusions (every cell touched by a barrier is excluded)",
                    "largest_ha": round(float(found.parcel_cells.max()) * grid.cell_ha, 1) if len(found.parcel_cells) else None},
        "barriers": {"roads": context.barriers.road_facts,
                     "proxies": sorted(context.barriers.proxy),
                     "proxy_files": [f for f in ((context.region.config.get("siting") or {}).get("barriers") or {}).values()],
                     "proxy_note": "the land use and places of these files stand in for settlements, cemeteries, military and "
                                   "industrial land as they were mapped (OpenStreetMap extract of the file's date), not an "
                                   "official land-use map"},
        "shortlist_passed_over": {str(k): v for k, v in list(found.passed_over.items())[:50]},
        "weights_used": {k: round(v, 4) for k, v in scores.weights.items()},
        **hygiene(values, scores, found, prof),
        "criteria_dropped": scores.dropped,
        "criteria_partial": {k: round(v, 4) for k, v in scores.partial.items()},
        "criteria_coverage": {k: round(v, 4) for k, v in scores.coverage.items()},
        "criteria_notes": reasons,
        "cell_m": grid.cell_m,
        "grid": {"crs": str(grid.crs), "x0": float(grid.x0), "y0": float(grid.y0), "cell_m": float(grid.cell_m),
                 "nrows": int(grid.nrows), "ncols": int(grid.ncols)},
        "cells_in_bbox": grid.size,
        "cells_in_region": inside_n,
        "cells_excluded": int((excluded & grid.inside).sum()),
        "cells_scored": int(np.isfinite(score).sum()),
        "cells_unscored_reason": f"known criteria carry less than {prof.scoring['min_known_weight']:.0%} of the weight",
        "cells_eligible": int(found.eligible.sum()),
        "cells_suitable": int(found.suitable.sum()),
        "threshold": round(threshold, 4) if np.isfinite(threshold) else None,
        "threshold_rule": (f"score ≥ {loc['min_score']}" if loc["min_score"] is not None
                           else f"best {float(loc['top_share']):.0%} of the eligible cells"),
        "min_area_ha": float(loc["min_area_ha"]),
        "max_area_ha": max_area,
        "max_area_rule": None if max_area is None else {
            "grow": "sites grown from the best seeds inside one parcel each: the suitable cells nearest the seed, joined by "
                    "their sides, up to max_area_ha or until the parcel's suitable land within radius_factor × the radius of "
                    "an equal-area disc runs out; below min_area_ha a site is given back (zone = its parcel)",
            "parts": "a suitable area larger than max_area_ha is split into compact parts of at most max_area_ha by recursive "
                     "halving across its longer side; each part is a site (zone = the area it was cut from)",
            "core": "a suitable area larger than max_area_ha is cut to its best core(s) by dropping its lowest-scoring cells "
                    "(zone_area_ha = the whole area)"}[loc["split"]],
        "rules": rules_summary,
        "constraints": {k: dict(v) for k, v in plan.constraints.items()},
        "sites_found": len(found.table_all),
        "sites_reported": int(found.n_top),
        "exclusions": {k: {kk: vv for kk, vv in v.items() if kk != "_geoms"} for k, v in ex_report.items()},
        "network": {**{k: v for k, v in facts.items() if k not in ("labour", "slope_coverage")}, "note": context.net.note},
        "slope_coverage": facts.get("slope_coverage"),
        "labour": facts.get("labour"),
        "layers_not_given": context.missing_layers,
        "scenario": None if roads is None else {"file": str(plan.options.scenario), "roads": roads},
        "sensitivity": None if per_site is None else {
            "change": float(loc["sensitivity_change"]), "runs": len(runs),
            "sites_always_in_top_n": int((per_site["top_n_share"] == 1.0).sum()),
            "top_site_rank_range": [_num(per_site["rank_min"].iloc[0]), _num(per_site["rank_max"].iloc[0])],
        },
        "timings_s": context.clock.times,
    }
    log.info("siting (%s, %g m): %d cells, %d suitable, %d sites ≥ %g ha", prof.name, grid.cell_m, inside_n,
             summary["cells_suitable"], len(found.table_all), float(loc["min_area_ha"]))
    return summary


def _scenario_router(region: Region, net: networks.Networks, lines, points, scenario):
    from geo.routing.roadref import match_corridor
    from geo.routing.scenario import add_planned_roads
    from layers.scenario import _slug, scenario_tuning

    tuning = scenario_tuning(region, lines, net.model)
    after, report = add_planned_roads(net.road, to_metric(lines, region.metric_crs),
                                      to_metric(points, region.metric_crs) if len(points) else None,
                                      source=str(scenario), **tuning)
    extra = {}
    for i, row in report.iterrows():
        key = match_corridor(None, row["name"], region.corridors) or _slug(row["name"], i)
        extra[key] = list(extra.get(key, [])) + list(row["access_nodes"])
    roads = report.drop(columns="access_nodes").to_dict(orient="records")
    for road, key in zip(roads, extra):
        road["corridor_id"] = key
    return after, {k: np.asarray(v, dtype=np.int64) for k, v in extra.items()}, roads

