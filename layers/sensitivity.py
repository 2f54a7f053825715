"""Monte Carlo weight sensitivity of a siting run: how robust is each cell and each site to any reasonable weighting?

:func:`run_sensitivity` takes a finished siting run (:func:`layers.siting.run_siting`),
draws ``runs`` weightings around the profile's weights (Dirichlet, see
:mod:`geo.siting.montecarlo` for the concentration and the seeding), re-scores the
grid with each, applies the same suitability threshold and site rules, and
counts — per cell — the share of runs in which it is suitable and — per
candidate site — its rank distribution. Runs are executed in chunks by
:mod:`geo.cluster` (in-process, a local Dask cluster or a remote scheduler);
results are identical whatever executes them.

:func:`write_sensitivity` writes

``sensitivity.csv`` — one row per grid cell inside the region:
    ``cell_id`` (as in ``sites.gpkg``), ``row``, ``col``, ``p_suitable`` (share
    of runs, 0–1), ``p_in_site`` (share of runs in which the cell lies in a
    located site of at least ``min_area_ha``), ``score_base`` (the profile's
    score), ``score_mean``, ``score_sd`` (over the runs, eligible cells only;
    NaN = excluded or never scored), ``base_suitable``, ``base_site``;
``sensitivity.gpkg`` — layers ``cells`` (the same columns, cell squares),
    ``sites`` (the base run's top sites with ``p_rank_1``, ``p_top_n``,
    ``p_lost``, ``rank_p05``, ``rank_median``, ``rank_p95``) and the table
    ``site_ranks`` (``site``, ``rank`` — NaN = gone —, ``runs``);
``sensitivity.tif`` — ``p_suitable`` as a raster (for maps and QGIS);
``sensitivity.json`` — ``runs``, ``seed``, ``concentration``, ``chunk_runs``,
    ``scheduler``, ``workers``, weights, timings and the per-run table.
"""

from __future__ import annotations

import logging
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.cluster import SchedulerOptions, Session, map_tasks
from geo.siting.montecarlo import GridProblem, MonteCarloOptions, MonteCarloResult, aggregate, rank_distribution, rank_histogram, run_chunk
from geo.siting.sites import width_cells

log = logging.getLogger(__name__)


@dataclass
class SensitivityResult:
    """Cells and sites with their probabilities (EPSG:4326), the aggregate, and facts for ``sensitivity.json``."""

    cells: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    site_ranks: pd.DataFrame
    result: MonteCarloResult
    grid: object                      # geo.siting.grid.Grid of the siting run
    summary: dict
    siting: object = None             # the siting run re-scored (layers.siting.SitingResult), when kept


def problem_from_siting(siting, profile, locate_overrides: dict | None = None) -> GridProblem:
    """The arrays of a :class:`layers.siting.SitingResult` as a :class:`GridProblem` — the one adapter to the siting code.

    Reads ``siting.arrays`` (``grid``, ``scores`` with ``components`` and
    ``weights`` used, ``eligible``, ``labels`` of the reported sites) and
    ``siting.summary["sites_reported"]``; the locate rules are the siting
    defaults, then the profile's ``locate:``, then ``locate_overrides`` (the
    same keyword arguments given to ``run_siting``), exactly as the siting
    run merges them; ``min_known_weight`` is the profile's.
    """
    from layers.siting import LOCATE_DEFAULTS
    from layers.siting.steps import shortlist_rule

    loc = {**LOCATE_DEFAULTS, **profile.locate}
    overrides = {k: v for k, v in (locate_overrides or {}).items() if v is not None}
    loc.update(overrides)
    if overrides.get("min_score") is not None and overrides.get("top_share") is None:
        loc["top_share"] = None
    a = siting.arrays
    grid, scores = a["grid"], a["scores"]
    inside = grid.inside
    return GridProblem(
        components={k: np.where(inside, np.asarray(scores.components[k], dtype=np.float64), np.nan) for k in scores.weights},
        weights=dict(scores.weights), eligible=np.asarray(a["eligible"], bool), base_labels=np.asarray(a["labels"]),
        n_base=int(siting.summary["sites_reported"]), cell_ha=float(grid.cell_ha), min_area_ha=float(loc["min_area_ha"]),
        max_area_ha=None if loc["max_area_ha"] is None else float(loc["max_area_ha"]),
        min_known_weight=float(profile.scoring["min_known_weight"]), top_n=int(loc["top_n"]),
        top_share=None if loc["min_score"] is not None else float(loc["top_share"]),
        min_score=None if loc["min_score"] is None else float(loc["min_score"]),
        split=str(loc["split"]), parcels=np.asarray(a["parcels"]) if "parcels" in a else None,
        radius_factor=float(loc.get("radius_factor", 1.5)),
        min_width_cells=width_cells(float(loc.get("min_width_m") or 0), float(grid.cell_m)),
        shortlist_rule=shortlist_rule(loc, grid, a["district_codes"]) if "district_codes" in a else None)


def run_sensitivity(siting, profile, options: MonteCarloOptions, session: Session | None = None, *,
                    locate_overrides: dict | None = None) -> SensitivityResult:
    """Monte Carlo over the weights of ``siting`` run with ``profile`` (a :class:`geo.siting.suitability.Profile`).

    ``session`` is an open :func:`geo.cluster.open_session` (default: in
    this process); open it *before* the siting run so that an unreachable
    scheduler fails at once. ``locate_overrides`` are the locate keyword
    arguments given to ``run_siting`` (``min_area_ha``, ``top_share`` …).
    Nothing is written here.
    """
    session = session or Session(SchedulerOptions("none"))
    problem = problem_from_siting(siting, profile, locate_overrides)
    grid = siting.arrays["grid"]
    chunks = options.chunks()
    t0 = time.perf_counter()
    parts = map_tasks(session, run_chunk, problem, chunks, description=f"{options.runs} weightings", options=options)
    workers, label, timings = session.workers, session.label, dict(session.timings_s)
    timings["total"] = round(time.perf_counter() - t0, 3)   # scatter + tasks (cluster start-up apart)
    agg = aggregate(parts, options.runs, problem.eligible)
    per_site = rank_distribution(agg.ranks, problem.top_n)
    cells = _cells_frame(siting, agg)
    sites = siting.sites[["site", "area_ha", "score_mean", "district", "lon", "lat", "geometry"]].copy()
    sites = sites.merge(per_site.reset_index(), on="site", how="left")
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=siting.sites.crs)
    summary = {
        "profile": profile.name, "runs": options.runs, "seed": options.seed, "concentration": options.concentration,
        "chunk_runs": options.chunk_runs, "tasks": len(chunks),
        "weights_rule": "Dirichlet(α = concentration × profile weight); sd of a weight w = sqrt(w(1−w)/(concentration+1))",
        "profile_weights": {k: round(v, 6) for k, v in problem.weights.items()},
        "scheduler": label, "workers": workers,
        "scattered_bytes": problem.nbytes,
        "returned_bytes_per_task": len(pickle.dumps(parts[0], protocol=5)),
        "cells": int(grid.inside.sum()), "cells_eligible": int(problem.eligible.sum()),
        "cells_always_suitable": int((agg.p_suitable == 1).sum()),
        "cells_ever_suitable": int((agg.p_suitable > 0).sum()),
        "sites": int(problem.n_base),
        "timings_s": timings,
        "runs_per_s": round(options.runs / timings["tasks"], 2) if timings.get("tasks") else None,
        "task_wall_s_mean": round(float(np.mean(agg.task_wall_s)), 4),
        "task_cpu_s_mean": round(float(np.mean(agg.task_cpu_s)), 4),
        "task_cpu_s_total": round(float(np.sum(agg.task_cpu_s)), 3),
    }
    log.info("sensitivity: %d runs on %s (%d workers) in %.1f s", options.runs, label, workers, timings["total"])
    cells.attrs["summary"] = summary
    return SensitivityResult(cells=cells, sites=sites, site_ranks=rank_histogram(agg.ranks), result=agg, grid=grid,
                             summary=summary, siting=siting)


def _cells_frame(siting, agg: MonteCarloResult) -> gpd.GeoDataFrame:
    grid = siting.arrays["grid"]
    sel = grid.inside
    flat = np.flatnonzero(sel.ravel())
    rows, cols = np.divmod(flat, grid.ncols)
    data = {
        "cell_id": flat.astype(np.int64), "row": rows, "col": cols,
        "p_suitable": agg.p_suitable[sel], "p_in_site": agg.p_in_site[sel],
        "score_base": np.asarray(siting.score)[sel], "score_mean": agg.score_mean[sel], "score_sd": agg.score_sd[sel],
    }
    by_id = siting.grid.set_index("cell_id")
    data["base_suitable"] = by_id.loc[flat, "suitable"].to_numpy()
    data["base_site"] = by_id.loc[flat, "site"].to_numpy()
    frame = gpd.GeoDataFrame(data, geometry=grid.cell_boxes(flat), crs=grid.crs)
    return frame.to_crs("EPSG:4326")


def summary_lines(result: SensitivityResult) -> list[str]:
    """A few lines for the command line."""
    s = result.summary
    lines = [(f"{s['runs']} weightings (seed {s['seed']}, Dirichlet concentration {s['concentration']:g}) on "
              f"{s['scheduler']} ({s['workers']} workers) in {s['timings_s']['total']:.1f} s ({s['runs_per_s']} runs/s)"),
             f"{s['cells_ever_suitable']:,} cells suitable in some run, {s['cells_always_suitable']:,} in every run"]
    for row in result.sites.itertuples():
        lines.append(f"  site {row.site:>2} ({row.district or '?'}): top {s['sites']} in {row.p_top_n:.0%} of runs, "
                     f"rank 1 in {row.p_rank_1:.0%}, gone in {row.p_lost:.0%}, median rank {row.rank_median:g}")
    return lines


def write_sensitivity(result: SensitivityResult, out_dir) -> dict[str, Path]:
    """Write ``sensitivity.csv``, ``sensitivity.gpkg``, ``sensitivity.tif`` and ``sensitivity.json`` atomically."""
    from geo.io.output import write_csv, write_geopackage, write_json
    from geo.io.raster import write_geotiff

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out_dir / "sensitivity.csv", "gpkg": out_dir / "sensitivity.gpkg",
             "tif": out_dir / "sensitivity.tif", "json": out_dir / "sensitivity.json"}
    p = np.where(result.grid.inside, result.result.p_suitable, np.nan)
    write_csv(result.cells, paths["csv"])
    write_geopackage({"cells": result.cells, "sites": result.sites, "site_ranks": result.site_ranks}, paths["gpkg"])
    write_geotiff(p, result.grid.profile, paths["tif"])
    write_json({**result.summary, "per_run": result.result.run_table.round(6).to_dict(orient="records")}, paths["json"])
    return paths
