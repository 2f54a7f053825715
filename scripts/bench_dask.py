#!/usr/bin/env python
"""Benchmark of the Monte Carlo sensitivity and the scenario batch on Dask: 1 vs 2 local workers against in-process.

Runs the logistics-heavy siting once on the real Bắc Giang grid (``--cell-size``,
default 250 m, ``--data``), then the same ``--runs`` weightings (default
1,000, seed 0) three times in this one run:

* ``none`` — in this process (the baseline);
* ``local-1`` — a Dask LocalCluster with one worker process;
* ``local-2`` — a Dask LocalCluster with two worker processes;

and checks that all three give bit-identical per-cell shares and site ranks.
For each it records the cluster start-up, the scatter of the grid arrays
(sent once per worker), the task time, runs per second and the speed-up
against ``none``; with ``--rounds R`` the three are repeated, interleaved, and
the best of each kept. Per task it also records the CPU time of the task's
thread (unaffected by other processes on the machine). ``--scenarios DIR`` (default: the three test variants in
``tests/fixtures/scenarios``) also times ``scenario --batch`` in-process and
on two local workers (the network, parks and population are scattered once).
Writes ``OUT/bench_dask.json``.

The machine's cores may be shared: the figures are for this run only; the
ratio against ``none`` in the same run is what to compare.

Run: ``python scripts/bench_dask.py --out out`` (about 3–5 minutes on 2 cores; ``--no-scenarios`` to skip the batch).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from geo import settings  # noqa: E402
from geo.cluster import SchedulerOptions, open_session  # noqa: E402
from geo.siting.montecarlo import MonteCarloOptions  # noqa: E402
from geo.io.output import write_json  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CONFIGS = (("none", SchedulerOptions("none")), ("local-1", SchedulerOptions("local", 1)), ("local-2", SchedulerOptions("local", 2)))


def sensitivity_bench(region, cell_m: float, options: MonteCarloOptions, rounds: int = 1) -> dict:
    from layers.sensitivity import problem_from_siting, run_sensitivity
    from layers.siting import load_profile, run_siting

    t = time.perf_counter()
    siting = run_siting(region, "logistics-heavy", cell_m=cell_m, sensitivity=False)
    siting_s = time.perf_counter() - t
    profile = load_profile("logistics-heavy", region)
    problem = problem_from_siting(siting, profile)
    out = {"cell_m": cell_m, "cells_in_region": int(siting.arrays["grid"].inside.sum()),
           "grid_shape": list(siting.arrays["grid"].shape), "criteria": len(problem.weights), "runs": options.runs,
           "seed": options.seed, "chunk_runs": options.chunk_runs, "tasks": len(options.chunks()),
           "siting_once_s": round(siting_s, 2), "scattered_bytes": problem.nbytes,
           "scattered_pickle_bytes": len(pickle.dumps(problem, protocol=5)), "configs": {}}
    reference = None
    for round_ in range(rounds):              # configurations interleaved, best of the rounds kept (shared cores)
        for name, sched in CONFIGS:
            t0 = time.perf_counter()
            with open_session(sched) as session:
                t1 = time.perf_counter()
                res = run_sensitivity(siting, profile, options, session)
            s = res.summary
            timings = s["timings_s"]
            row = {"workers": s["workers"], "start_s": round(t1 - t0, 2), "scatter_s": timings.get("scatter", 0.0),
                   "tasks_s": timings["tasks"], "total_s": round(time.perf_counter() - t0, 2),
                   "runs_per_s": round(options.runs / timings["tasks"], 1),
                   "tasks_per_s": round(len(options.chunks()) / timings["tasks"], 2),
                   "task_wall_s_mean": s["task_wall_s_mean"], "task_cpu_s_mean": s["task_cpu_s_mean"],
                   "task_cpu_s_total": s["task_cpu_s_total"], "returned_bytes_per_task": s["returned_bytes_per_task"], "load_average_1min": round(os.getloadavg()[0], 2)}
            if reference is None:
                reference = res.result
            row["identical_to_none"] = bool(np.array_equal(res.result.p_suitable, reference.p_suitable)
                                            and np.array_equal(res.result.ranks, reference.ranks, equal_nan=True)
                                            and np.array_equal(res.result.score_mean, reference.score_mean, equal_nan=True))
            kept = out["configs"].get(name)
            if kept is None or row["tasks_s"] < kept["tasks_s"]:
                out["configs"][name] = {**row, "rounds": round_ + 1}
            out["configs"][name]["rounds"] = round_ + 1
            print(f"  round {round_ + 1} {name:<8} {row['workers']} worker(s): start {row['start_s']:5.2f} s, "
                  f"scatter {row['scatter_s']:5.2f} s, {options.runs} runs in {row['tasks_s']:6.2f} s ({row['runs_per_s']} runs/s, "
                  f"{row['tasks_per_s']} tasks/s; CPU per task {row['task_cpu_s_mean']:.2f} s, wall {row['task_wall_s_mean']:.2f} s; "
                  f"load {row['load_average_1min']}), identical: {row['identical_to_none']}", flush=True)
    base = out["configs"]["none"]["tasks_s"]
    for row in out["configs"].values():
        row["speedup_vs_none"] = round(base / row["tasks_s"], 2)
    out["seconds_per_run_none"] = round(base / options.runs, 4)
    return out


def scenario_bench(region, folder: Path) -> dict:
    from layers import networks
    from layers.parks import industrial_parks
    from layers.population import population_raster
    from layers.scenario_batch import BatchInputs, run_scenario_batch, scenario_files

    files = scenario_files([folder])
    net = networks.build_networks(region, with_rail=False)
    parks = industrial_parks(region)
    array, profile, _ = population_raster(region)
    shared = BatchInputs(region, net, parks, (array, profile))
    out = {"scenarios": len(files), "scattered_pickle_bytes": len(pickle.dumps(shared, protocol=5)), "configs": {}}
    tables = {}
    for name, sched in (CONFIGS[0], CONFIGS[2]):
        t0 = time.perf_counter()
        with open_session(sched) as session:
            t1 = time.perf_counter()
            table = run_scenario_batch(region, parks, net, files, population=(array, profile), session=session)
        t = table.attrs["summary"]["timings_s"]
        tables[name] = table
        out["configs"][name] = {"workers": session.workers, "start_s": round(t1 - t0, 2), "scatter_s": t.get("scatter", 0.0),
                                "tasks_s": t["tasks"], "seconds_per_scenario": round(t["tasks"] / len(files), 2)}
        print(f"  {name:<8} {session.workers} worker(s): start {t1 - t0:5.2f} s, scatter {t.get('scatter', 0.0):5.2f} s, "
              f"{len(files)} scenarios in {t['tasks']:6.2f} s", flush=True)
    out["same_table"] = bool(tables["none"].drop(columns="path").equals(tables["local-2"].drop(columns="path")))
    out["speedup_vs_none"] = round(out["configs"]["none"]["tasks_s"] / out["configs"]["local-2"]["tasks_s"], 2)
    out["ranking"] = tables["none"][["rank", "scenario", "park_minutes_saved"]].to_dict(orient="records")
    return out


def main(argv=None) -> int:
    from layers.region import DEFAULT_DATA_DIR, load_region

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--region", default="bac-giang")
    parser.add_argument("--cell-size", type=float, default=250.0)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--chunk-runs", type=int, default=MonteCarloOptions().chunk_runs)
    parser.add_argument("--scenarios", type=Path, default=REPO / "tests" / "fixtures" / "scenarios")
    parser.add_argument("--no-scenarios", action="store_true")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the three configurations, interleaved; keep the best")
    args = parser.parse_args(argv)
    settings.progress = False

    region = load_region(args.region, data_dir=args.data)
    result = {"cpu_count": os.cpu_count(), "load_average": list(os.getloadavg())}
    print(f"Monte Carlo sensitivity, {args.runs} runs, {args.cell_size:g} m grid ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}):")
    result["sensitivity"] = sensitivity_bench(region, args.cell_size, MonteCarloOptions(runs=args.runs, seed=0,
                                                                                          chunk_runs=args.chunk_runs),
                                          rounds=max(1, args.rounds))
    if not args.no_scenarios:
        print(f"scenario batch ({args.scenarios}):")
        result["scenario_batch"] = scenario_bench(region, args.scenarios)
    result["load_average_after"] = list(os.getloadavg())
    path = write_json(result, Path(args.out) / "bench_dask.json")
    print(f"wrote {path}")
    ok = all(r["identical_to_none"] for r in result["sensitivity"]["configs"].values())
    return 0 if ok and result.get("scenario_batch", {}).get("same_table", True) else 1


if __name__ == "__main__":
    sys.exit(main())
