#!/usr/bin/env python
"""Benchmark of suitability scoring and site locating (geo/siting/suitability.py, geo/siting/sites.py).

Scores and locates sites on a generated grid of 100,000 cells (400 × 250,
six smooth random criteria with 5 % unknown cells and 15 % excluded cells,
fixed seed) twice in the same run:

* vectorised — :func:`geo.siting.suitability.weighted_score`,
  :func:`geo.siting.sites.suitable_cells` and :func:`geo.siting.sites.locate`
  (numpy + ``scipy.ndimage.label``), best of ``--repeat`` runs;
* baseline — a plain Python loop over cells: each criterion transformed
  by hand, the weighted mean over known criteria, the threshold by sorting,
  sites by breadth-first flood fill through cell sides, then filtering and
  ranking.

Both must give the same scores (to 1e-12) and the same sites; the script
says so, prints the speed ratio and writes ``OUT/bench_siting.json``.

``--real`` times, in the same run on the same machine, ``plan.py site`` on
Bắc Giang (``--data``; suitability, barriers, sites, ±20 % sensitivity,
writing) for the logistics-heavy and CCN profiles at the 100 m default
against *today's 250 m run*: the code of ``--baseline-ref`` (the commit
before the 100 m grid, unpacked by ``git archive``) at 250 m — wall clock
of each as a subprocess, the ratio, and each run's own step timings; the
Monte Carlo re-scoring (``--mc-runs`` runs) at 100 m and 250 m; the
explorer page of the 100 m run (size, and the re-score time in headless
Chromium); and the labour catchments of all 250 m cells by reverse search
(:func:`geo.siting.grid.people_within_cells`) against one search per cell
(``Catchment.people_within`` on a sample of 300 cells, scaled), checking
that both give the same people.

Run: ``python scripts/bench_siting.py --out out [--real]`` (about 10 s; about 5 minutes more with ``--real``).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from geo import settings  # noqa: E402
from geo.io.output import write_json  # noqa: E402
from geo.siting.sites import locate, suitable_cells  # noqa: E402
from geo.siting.suitability import profile_from_dict, weighted_score  # noqa: E402

SHAPE = (400, 250)
CELL_HA = 6.25
MIN_AREA_HA = 30.0
TOP_SHARE = 0.10

PROFILE = {
    "scoring": {"min_known_weight": 0.75, "min_coverage": 0.5},
    "criteria": {
        "minutes_to_ql1a": {"weight": 3, "transform": {"type": "linear", "best": 3, "worst": 30}},
        "minutes_to_kep_station": {"weight": 2, "transform": {"type": "linear", "best": 10, "worst": 60}},
        "people_within_45_min": {"weight": 1.5, "transform": {"type": "piecewise", "points": [[50000, 0], [600000, 1]]}},
        "km_to_urban": {"weight": 0.5, "transform": {"type": "piecewise", "points": [[0, 0], [1.5, 1], [10, 1], [25, 0.4]]}},
        "km_to_park": {"weight": 1, "transform": {"type": "classes", "breaks": [3, 8, 15], "scores": [1, 0.7, 0.4, 0.2]}},
        "slope_deg": {"weight": 1, "transform": {"type": "threshold", "at": 8, "below": 1, "above": 0}},
    },
}
RANGES = {"minutes_to_ql1a": (0, 120), "minutes_to_kep_station": (0, 150), "people_within_45_min": (0, 1_500_000),
          "km_to_urban": (0, 25), "km_to_park": (0, 30), "slope_deg": (0, 20)}


def make_inputs(seed: int = 7):
    rng = np.random.default_rng(seed)
    values = {}
    for name, (lo, hi) in RANGES.items():
        field = ndimage.gaussian_filter(rng.normal(size=SHAPE), 8)
        field = (field - field.min()) / (field.max() - field.min())
        v = lo + field * (hi - lo)
        v[rng.random(SHAPE) < 0.05] = np.nan
        values[name] = v
    blobs = ndimage.gaussian_filter(rng.normal(size=SHAPE), 3)
    excluded = (blobs > np.quantile(blobs, 0.87)) | (rng.random(SHAPE) < 0.02)   # about 15 % of the cells
    return values, excluded


# ---------------------------------------------------------------------- the fast way

def vectorised(profile, values, excluded):
    scores = weighted_score(profile, values)
    eligible = ~excluded & np.isfinite(scores.score)
    suitable, threshold = suitable_cells(scores.score, eligible, top_share=TOP_SHARE)
    _, table = locate(scores.score, suitable, cell_ha=CELL_HA, min_area_ha=MIN_AREA_HA)
    return scores.score, threshold, table


# ---------------------------------------------------------------------- the per-cell loop

def transform_one(spec, x):
    if math.isnan(x):
        return None
    kind = spec["type"]
    if kind == "linear":
        best, worst = spec["best"], spec["worst"]
        t = (x - worst) / (best - worst)
        return min(1.0, max(0.0, t))
    if kind == "piecewise":
        pts = spec["points"]
        if x <= pts[0][0]:
            return float(pts[0][1])
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            if x <= x1:
                return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        return float(pts[-1][1])
    if kind == "threshold":
        return float(spec.get("below", 1)) if x <= spec["at"] else float(spec.get("above", 0))
    if kind == "classes":
        k = 0
        while k < len(spec["breaks"]) and x >= spec["breaks"][k]:
            k += 1
        return float(spec["scores"][k])
    raise ValueError(kind)


def per_cell_loop(profile_dict, values, excluded):
    crit = profile_dict["criteria"]
    total = sum(c["weight"] for c in crit.values())
    weights = {k: c["weight"] / total for k, c in crit.items()}
    min_known = profile_dict["scoring"]["min_known_weight"]
    rows, cols = SHAPE
    grids = {k: values[k].tolist() for k in crit}
    score = [[float("nan")] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            num = den = 0.0
            for name, spec in crit.items():
                s = transform_one(spec["transform"], grids[name][r][c])
                if s is not None:
                    num += weights[name] * s
                    den += weights[name]
            if den > 0 and den >= min_known - 1e-12:
                score[r][c] = num / den
    eligible = [(r, c) for r in range(rows) for c in range(cols) if not excluded[r, c] and score[r][c] == score[r][c]]
    ordered = sorted(score[r][c] for r, c in eligible)
    # same quantile rule as numpy's default (linear interpolation)
    pos = (len(ordered) - 1) * (1 - TOP_SHARE)
    lo = int(pos)
    threshold = ordered[lo] + (ordered[min(lo + 1, len(ordered) - 1)] - ordered[lo]) * (pos - lo)
    suitable = [[False] * cols for _ in range(rows)]
    for r, c in eligible:
        if score[r][c] >= threshold:
            suitable[r][c] = True
    seen = [[False] * cols for _ in range(rows)]
    sites = []
    for r in range(rows):
        for c in range(cols):
            if suitable[r][c] and not seen[r][c]:
                queue, cells = deque([(r, c)]), []
                seen[r][c] = True
                while queue:
                    i, j = queue.popleft()
                    cells.append((i, j))
                    for a, b in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
                        if 0 <= a < rows and 0 <= b < cols and suitable[a][b] and not seen[a][b]:
                            seen[a][b] = True
                            queue.append((a, b))
                area = len(cells) * CELL_HA
                if area >= MIN_AREA_HA:
                    sites.append((sum(score[i][j] for i, j in cells) / len(cells), area, len(cells)))
    sites.sort(key=lambda s: (-s[0], -s[1]))
    return np.array(score), threshold, sites


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def labour_comparison(region, sample: int = 300) -> dict:
    """Reverse labour catchments for every 250 m cell vs one Catchment search per cell (a sample, scaled)."""
    import geopandas as gpd

    from geo.routing.access import Catchment, attach_points
    from geo.crs import to_metric
    from geo.siting.grid import attachment_links, make_grid, people_within_cells
    from layers import networks
    from layers.boundaries import region_polygon
    from layers.population import population_raster

    net = networks.build_networks(region, with_rail=False)
    outline = to_metric(gpd.GeoSeries([region_polygon(region)], crs=4326), region.metric_crs).iloc[0]
    g = make_grid(outline, cell_m=250, crs=region.metric_crs)
    cx, cy = g.centres()
    x, y = cx[g.inside], cy[g.inside]
    e = net.road_edges
    r2, idx, snap, _ = attach_points(net.road, net.road_lines, e["u"].to_numpy(), e["v"].to_numpy(),
                                     e["travel_time_s"].to_numpy(), x, y, max_snap_m=2000, access_speed_kmh=20)
    array, profile, _ = population_raster(region)
    rows, cols = np.nonzero(np.isfinite(array) & (array > 0))
    lon, lat = profile["transform"] * (cols + 0.5, rows + 0.5)
    pts = to_metric(gpd.GeoSeries.from_xy(lon, lat, crs=4326), region.metric_crs)
    px, py, people = pts.x.to_numpy(), pts.y.to_numpy(), array[rows, cols]
    catch = Catchment(net.road, px, py, people, max_snap_m=2000, access_speed_kmh=20)
    got, fast = timed(people_within_cells, net.road, catch, attachment_links(net.road, r2), len(x), (30, 45))
    connected = np.flatnonzero(~np.isnan(snap))
    pick = np.random.default_rng(0).choice(connected, min(sample, len(connected)), replace=False)
    per_cell = Catchment(r2, px, py, people, max_snap_m=2000, access_speed_kmh=20, within=np.arange(r2.n) < net.road.n)
    expected, slow = timed(per_cell.people_within, idx[pick], (30, 45))
    slow_all = slow / len(pick) * len(connected)
    return {"cells": int(len(x)), "connected_cells": int(len(connected)),
            "population_source_nodes": int(len(np.unique(catch.node))),
            "reverse_s": round(fast, 2), "per_cell_sample": int(len(pick)), "per_cell_sample_s": round(slow, 2),
            "per_cell_all_cells_s_scaled": round(slow_all, 1), "ratio": round(slow_all / fast, 1),
            "max_abs_difference_people": float(np.abs(got[pick] - expected).max())}


def cli_run(repo: Path, data: Path, out: Path, profile: str, cell_m: float | None) -> dict:
    """Wall time of ``plan.py site`` of the checkout at ``repo`` (a subprocess: imports, network, siting, writing)."""
    import json
    import subprocess

    cmd = [sys.executable, str(repo / "scripts" / "plan.py"), "site", "--profile", profile, "--data", str(Path(data).resolve()),
           "--out", str(Path(out).resolve())] + ([] if cell_m is None else ["--cell-size", f"{cell_m:g}"])
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env={**__import__("os").environ,
                                                                             "PYTHONPATH": str(repo)})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    s = json.loads((out / "sites_summary.json").read_text(encoding="utf-8"))
    return {"wall_s": round(wall, 1), "cell_m": s["cell_m"], "cells_in_region": s["cells_in_region"],
            "sites_reported": s["sites_reported"], "steps_s": s.get("timings_s"),
            "sites_gpkg_mb": round((out / "sites.gpkg").stat().st_size / 1e6, 1)}


def baseline_checkout(ref: str, tmp: Path) -> Path | None:
    """The code of ``ref`` (e.g. the commit siting was 250 m on) unpacked in ``tmp`` by ``git archive``; None if absent."""
    import subprocess
    import tarfile

    repo = Path(__file__).resolve().parent.parent
    rev = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=repo, capture_output=True, text=True)
    if rev.returncode != 0:
        return None
    target = tmp / "baseline"
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "--format=tar", rev.stdout.strip()], cwd=repo, capture_output=True, check=True)
    import io

    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


def monte_carlo(data: Path, runs: int) -> dict:
    """Monte Carlo re-scoring (grow + locate per run) at 100 m and 250 m: ms per run, in this process."""
    from geo.siting.montecarlo import MonteCarloOptions
    from layers.region import load_region
    from layers.sensitivity import run_sensitivity
    from layers.siting import load_profile, run_siting

    region = load_region("bac-giang", data_dir=data)
    prof = load_profile("logistics-heavy", region)
    out = {}
    for cell in (250.0, 100.0):
        siting = run_siting(region, "logistics-heavy", cell_m=cell, sensitivity=False)
        result, t = timed(run_sensitivity, siting, prof, MonteCarloOptions(runs=runs, seed=1))
        out[f"{cell:g}m"] = {"runs": runs, "total_s": round(t, 2), "ms_per_run": round(1000 * t / runs, 1)}
    return out


def explorer_page(run_dir: Path, chromium: str, chromedriver: str) -> dict:
    """The planner map of a siting run (``run_dir``): page size, and the explorer's re-score time in headless Chromium."""
    from maps.planner import planner_map, read_analyses, save_map

    analyses = read_analyses(run_dir)
    path = save_map(planner_map({}, analyses=analyses), run_dir / "map.html")
    out = {"page_mb": round(path.stat().st_size / 1e6, 2), "cells": int(len(analyses["suitability"]))}
    if not (Path(chromium).exists() and Path(chromedriver).exists()):
        out["browser"] = "not measured: no Chromium"
        return out
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        start = time.perf_counter()
        driver.get(path.resolve().as_uri())
        deadline = time.time() + 120
        while time.time() < deadline and not driver.execute_script("return !!(window.bgExplorer && bgExplorer.ready)"):
            time.sleep(0.05)
        out["ready_s"] = round(time.perf_counter() - start, 2)
        names = driver.execute_script("return bgExplorer.data.criteria")
        times = []
        for k in range(5):
            w = {n: (1.0 + (k + i) % 3) for i, n in enumerate(names)}
            times.append(driver.execute_script("var t = performance.now(); bgExplorer.setWeights(arguments[0]);"
                                               " return [bgExplorer.ms, performance.now() - t];", w))
        out["rescore_ms"] = round(float(np.median([t[0] for t in times])), 1)
        out["rescore_and_draw_ms"] = round(float(np.median([t[1] for t in times])), 1)
    finally:
        driver.quit()
    return out


def real_run(data: Path, out: Path, baseline_ref: str, mc_runs: int, chromium: str, chromedriver: str) -> dict:
    """Today's 250 m run (the checkout at ``baseline_ref``) against the 100 m default, same machine, same run."""
    import tempfile

    from layers.region import load_region

    repo = Path(__file__).resolve().parent.parent
    tmp = Path(tempfile.mkdtemp(prefix="bench-siting-"))
    res = {"baseline_ref": baseline_ref, "runs": {}}
    base = baseline_checkout(baseline_ref, tmp)
    for profile in ("logistics-heavy", "ccn"):     # alternately, so that both see the same load
        if base is not None:
            res["runs"][f"{profile} baseline 250m"] = cli_run(base, data, tmp / f"{profile}-base", profile, 250)
        res["runs"][f"{profile} 100m"] = cli_run(repo, data, out / f"bench_siting_{profile}_100m", profile, None)
    res["runs"]["logistics-heavy 250m"] = cli_run(repo, data, tmp / "log-250", "logistics-heavy", 250)
    for profile in ("logistics-heavy", "ccn"):
        a, b = res["runs"].get(f"{profile} baseline 250m", {}), res["runs"][f"{profile} 100m"]
        if "wall_s" in a and "wall_s" in b:
            res[f"{profile}_100m_over_baseline_250m"] = round(b["wall_s"] / a["wall_s"], 2)
    res["monte_carlo"] = monte_carlo(data, mc_runs)
    res["explorer_100m"] = explorer_page(out / "bench_siting_logistics-heavy_100m", chromium, chromedriver)
    res["labour_catchments_250m"] = labour_comparison(load_region("bac-giang", data_dir=data))
    return res


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--repeat", type=int, default=5, help="vectorised runs (the best is kept)")
    parser.add_argument("--real", action="store_true", help="also time the real runs: 100 m against today's 250 m (baseline ref)")
    parser.add_argument("--baseline-ref", default="0e0d6ed", help="git commit of 'today' (250 m siting) for the baseline")
    parser.add_argument("--mc-runs", type=int, default=20, help="Monte Carlo runs timed at 100 m and 250 m")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    args = parser.parse_args(argv)
    settings.progress = False

    values, excluded = make_inputs()
    profile = profile_from_dict(PROFILE, source="bench profile")
    best = np.inf
    for _ in range(max(1, args.repeat)):
        (score, threshold, table), t = timed(vectorised, profile, values, excluded)
        best = min(best, t)
    (loop_score, loop_threshold, loop_sites), loop_t = timed(per_cell_loop, PROFILE, values, excluded)
    same_scores = bool(np.allclose(score, loop_score, atol=1e-12, equal_nan=True))
    same_sites = (len(loop_sites) == len(table)
                  and np.allclose([s[0] for s in loop_sites], table["score_mean"].to_numpy(), atol=1e-12)
                  and [s[2] for s in loop_sites] == table["cells"].tolist())
    result = {
        "cells": int(np.prod(SHAPE)), "criteria": len(PROFILE["criteria"]),
        "scored_cells": int(np.isfinite(score).sum()), "sites": len(table),
        "vectorised_s": round(best, 4), "per_cell_loop_s": round(loop_t, 3), "ratio": round(loop_t / best, 1),
        "same_scores": same_scores, "same_sites": bool(same_sites), "threshold": threshold,
        "threshold_loop": loop_threshold,
    }
    print(f"score + locate, {result['cells']:,} cells, {result['criteria']} criteria, {result['sites']} sites: "
          f"vectorised {best * 1000:.1f} ms, per-cell loop {loop_t:.2f} s → {loop_t / best:.0f}× faster; "
          f"same scores: {same_scores}, same sites: {bool(same_sites)}")
    out = {"score_and_locate": result}
    if args.real:
        r = out["bac_giang"] = real_run(args.data, args.out, args.baseline_ref, args.mc_runs, args.chromium, args.chromedriver)
        print(f"Bắc Giang, plan.py site (wall clock, subprocess each; baseline = {r['baseline_ref']}):")
        for name, run in r["runs"].items():
            print(f"  {name:<28} " + (f"{run['wall_s']:6.1f} s, {run['cells_in_region']:,} cells, sites.gpkg {run['sites_gpkg_mb']} MB"
                                      if "wall_s" in run else f"failed: {run.get('error')}"))
        for k, v in r.items():
            if k.endswith("_over_baseline_250m"):
                print(f"  {k}: {v}× the baseline's time")
        for cell, mc in r["monte_carlo"].items():
            print(f"  Monte Carlo {cell}: {mc['ms_per_run']} ms per run ({mc['runs']} runs)")
        ex = r["explorer_100m"]
        print(f"  explorer at 100 m: {ex['cells']:,} cells, page {ex['page_mb']} MB, ready {ex.get('ready_s')} s, "
              f"re-score {ex.get('rescore_ms')} ms, re-score + draw {ex.get('rescore_and_draw_ms')} ms")
        lab = r["labour_catchments_250m"]
        print(f"labour catchments for {lab['connected_cells']:,} connected cells: reverse search {lab['reverse_s']} s "
              f"({lab['population_source_nodes']:,} source nodes) vs one search per cell {lab['per_cell_all_cells_s_scaled']} s "
              f"(scaled from {lab['per_cell_sample']} cells) → {lab['ratio']:.0f}×; largest difference "
              f"{lab['max_abs_difference_people']:.3g} people")
    path = write_json(out, args.out / "bench_siting.json")
    print(f"wrote {path}")
    return 0 if same_scores and same_sites else 1


if __name__ == "__main__":
    sys.exit(main())
