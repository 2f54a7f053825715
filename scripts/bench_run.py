#!/usr/bin/env python
"""Benchmark of the main job, ``plan.py run``, step by step: where the time goes and what is done twice.

The run (:func:`maps.run.run`: layers, networks, access, scenario,
isochrones, siting, validation, communes, planner map, site) is made once in
this process with every step and every expensive unit of work wrapped by a
timer: the steps of :mod:`layers.pipeline` and :mod:`maps.run`, and the units
they share (building the networks, the road and rail networks, matching a
corridor onto the roads, the nested-dissection order, a hierarchy topology, a
customisation, reading a cached hierarchy). Then each of them is done again,
alone, once, with the same arguments as its first call in the run (the steps
reuse the run's networks). For each: ``calls`` in the run, ``in_run_s``
(inclusive seconds, all calls), ``alone_s`` (one call by itself) and
``ratio`` = in_run_s ÷ alone_s — about 1 for work done once, 2 or 3 for work
repeated (e.g. the networks built twice, the corridors matched three times, a
second hierarchy customised for siting). A step's own ratio above 1 shows how
much of its time in the run went to building what it could have shared. A
unit called once per item (one call per corridor) has a high ratio without
repeating anything: ``distinct_inputs`` (calls told apart by their arguments)
and ``calls_per_input`` separate the two. Compiled kernels are loaded before
the run (as in the routing bench), so first-use compilation is not counted.

It measures; it changes nothing. Writes OUT/bench_run.json (and the run's
outputs under OUT/run/).

Run: ``python scripts/bench_run.py --out out`` (about twice the run's time). ``--process 3`` instead times
the whole command (``python scripts/plan.py run``, median of 3 after one warm-up run) and ``--against DIR``
times another checkout (e.g. ``git archive`` of the commit before a change) in the same bench, alternating,
→ OUT/bench_run_process.json.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

log = logging.getLogger("bench_run")

#: The steps of the main job (module, attribute), in the order they run.
STEPS = [
    ("layers", "layers.build", "build_layers"),
    ("write layers", "layers.build", "write_layers"),
    ("networks", "layers.networks.routers", "build_networks"),
    ("shared networks asked for", "layers.networks.routers", "shared_networks"),
    ("access", "layers.access", "access_report"),
    ("scenario", "layers.scenario", "run_scenario"),
    ("isochrones", "layers.access", "isochrones_from"),
    ("siting", "layers.siting", "run_siting"),
    ("validation", "layers.validation", "validate"),
    ("communes", "layers.pipeline", "commune_tables"),
    ("planner map", "maps.planner", "write_planner_map"),
    ("site", "maps.publish", "publish_site"),
]

#: Units of work shared by several steps (module, attribute; ``Class.method`` for methods).
UNITS = [
    ("road network", "layers.networks", "road_network"),
    ("rail network", "layers.networks", "rail_network"),
    ("corridor matching (one line set)", "geo.routing.matching", "match_line"),
    ("network prepared for matching", "geo.routing.matching", "prepare_network"),
    ("nested-dissection order", "geo.routing.hierarchy", "nested_dissection_order"),
    ("hierarchy topology", "geo.routing.hierarchy", "Topology.of"),
    ("customisation", "geo.routing.hierarchy", "Topology.customised"),
    ("hierarchy read from the cache", "geo.routing.hierarchy_cache", "load"),
]

#: Steps not done again alone: they only write files the run already wrote.
NOT_REPLAYED = {"write layers", "planner map", "site", "communes", "shared networks asked for"}


def fingerprint(value):
    """A cheap key telling inputs apart: the value for scalars and paths, type and size (and bounds for
    geometry tables) for data, the type's name otherwise."""
    if value is None or isinstance(value, (str, int, float, bool, Path)):
        return value
    if isinstance(getattr(value, "key", None), tuple):        # e.g. NetworkOptions: what a network depends on
        return (type(value).__name__, value.key)
    if isinstance(value, (tuple, list)) and len(value) < 20:
        return tuple(fingerprint(v) for v in value)
    key = [type(value).__name__]
    if hasattr(value, "__len__"):
        try:
            key.append(len(value))
        except TypeError:
            pass
    if hasattr(value, "total_bounds"):
        try:
            key.append(tuple(round(float(b), 6) for b in value.total_bounds))
        except Exception:  # noqa: BLE001 - empty or odd geometry: size is enough
            pass
    return tuple(key)


class Timer:
    """Calls, inclusive seconds, distinct inputs and the first call's arguments of one wrapped function."""

    def __init__(self, label: str):
        self.label, self.calls, self.seconds, self.depth, self.first = label, 0, 0.0, 0, None
        self.inputs = set()

    def wrap(self, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if self.first is None:
                self.first = (args, kwargs)
            try:
                self.inputs.add((fingerprint(args), fingerprint(sorted(kwargs.items()))))
            except TypeError:
                self.inputs.add(self.calls)
            self.calls += 1
            self.depth += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:          # recursion counted once
                    self.seconds += time.perf_counter() - start
        timed.__wrapped_timer__ = self
        return timed


def install(targets) -> dict:
    """Wrap each (label, module, attribute) everywhere it is bound: its module, its class, and every loaded
    module that imported it by name. Returns label → (Timer, original function)."""
    import importlib

    timers = {}
    for label, module_name, attr in targets:
        module = importlib.import_module(module_name)
        owner, name = module, attr
        if "." in attr:
            cls_name, name = attr.split(".")
            owner = getattr(module, cls_name)
        raw = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        kind = type(raw) if isinstance(raw, (classmethod, staticmethod)) else None
        fn = raw.__func__ if kind else raw
        timer = Timer(label)
        wrapped = timer.wrap(fn)
        setattr(owner, name, kind(wrapped) if kind else wrapped)
        if not isinstance(owner, type):
            for other in list(sys.modules.values()):
                if other is not None and getattr(other, name, None) is fn:
                    setattr(other, name, wrapped)
        timers[label] = (timer, fn, owner, kind)
    return timers


def replay(label: str, timer: Timer, fn, owner, kind) -> float | None:
    """Seconds of one more call alone, with the first call's arguments (None if it never ran)."""
    if timer.first is None:
        return None
    args, kwargs = timer.first
    if kind is classmethod:
        args = args[1:]
        call = lambda: fn(owner, *args, **kwargs)  # noqa: E731
    else:
        call = lambda: fn(*args, **kwargs)  # noqa: E731
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: ./out)")
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: the bundle data/)")
    parser.add_argument("--region", default="bac-giang")
    parser.add_argument("--process", type=int, default=0, metavar="N",
                        help="instead: time the whole command 'python scripts/plan.py run --quiet' N times in its own "
                             "process (warm caches: one untimed run first) and report the median")
    parser.add_argument("--against", type=Path, action="append", default=[], metavar="CHECKOUT",
                        help="with --process: also time this checkout's scripts/plan.py run, alternating with this one "
                             "(e.g. an export of the commit before a change); repeatable")
    args = parser.parse_args(argv)
    if args.process:
        return whole_process(args)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    from geo import settings

    settings.progress = False
    load = os.getloadavg()
    started = time.perf_counter()
    import maps.run  # noqa: F401  (the whole job's modules, so that every name bound to a wrapped function is found)
    import layers.pipeline
    import layers.scenario  # noqa: F401
    import layers.siting  # noqa: F401
    import layers.validation  # noqa: F401
    import layers.networks.classes  # noqa: F401
    import maps.planner  # noqa: F401
    import maps.publish  # noqa: F401
    imports_s = time.perf_counter() - started

    # Compiled kernels loaded first (as in the routing bench): the run is timed warm.
    warm_start = time.perf_counter()
    from scripts.bench_routing import warm_up

    warm_up()
    warm_s = time.perf_counter() - warm_start
    timers = install(STEPS + UNITS)
    from maps.run import run

    from layers.region import load_region

    # every step in this process (overlap=False), so that the timers see each call; --process times the command
    # as users run it (siting and the site forked beside the other steps, geo.background)
    options = layers.pipeline.RunOptions(out=args.out / "run", echo=lambda *a, **k: None, overlap=False)
    start = time.perf_counter()
    run(load_region(args.region, data_dir=args.data), options)
    run_s = time.perf_counter() - start

    # what the run did, read before any replay (a replayed call's inner calls go through the wrapped functions)
    in_run = {label: (t.calls, len(t.inputs), t.seconds) for label, (t, *_rest) in timers.items()}
    rows = []
    for group, targets in (("step", STEPS), ("unit", UNITS)):
        for label, _, _ in targets:
            timer, fn, owner, kind = timers[label]
            calls, inputs, seconds = in_run[label]
            alone = None if (label in NOT_REPLAYED or calls == 0) else replay(label, timer, fn, owner, kind)
            rows.append({"kind": group, "name": label, "calls": calls, "distinct_inputs": inputs,
                         "in_run_s": round(seconds, 4),
                         "alone_s": None if alone is None else round(alone, 4),
                         "ratio": None if not alone else round(seconds / alone, 2),
                         "calls_per_input": round(calls / inputs, 2) if inputs else None})
    result = {"run_s": round(run_s, 2), "imports_s": round(imports_s, 2), "warm_up_s": round(warm_s, 2),
              "rows": rows,
              "_meta": {"load_average_at_start": list(load), "load_average_at_end": list(os.getloadavg()),
                        "cpus": os.cpu_count(), "region": args.region,
                        "data": str(args.data or "bundle"),
                        "hierarchy_cache": settings.hierarchy_cache,
                        "what": "in_run_s: inclusive seconds of all calls during one maps.run.run (compiled "
                                "kernels loaded before); alone_s: one more call alone with the first call's "
                                "arguments (steps reuse the run's networks); ratio = in_run_s / alone_s (≈ 1: done "
                                "once; 2–3: repeated); distinct_inputs: calls told apart by their arguments' type, "
                                "size and bounds; calls_per_input = calls / distinct_inputs (> 1: the same input "
                                "processed again)"}}
    print(f"\nplan.py run (in process): {run_s:.1f} s  (imports {imports_s:.1f} s; load average {load[0]:.1f})")
    print(f"{'':5s} {'step / unit':36s} {'calls':>5s} {'inputs':>6s} {'in run s':>9s} {'alone s':>8s} {'ratio':>6s}")
    for r in rows:
        alone = "—" if r["alone_s"] is None else f"{r['alone_s']:.2f}"
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"{r['kind']:5s} {r['name']:36s} {r['calls']:5d} {r['distinct_inputs']:6d} {r['in_run_s']:9.2f} "
              f"{alone:>8s} {ratio:>6s}")
    from geo.io.output import write_json

    path = write_json(result, args.out / "bench_run.json")
    print(f"wrote {path}")
    return 0


def whole_process(args) -> int:
    """Median wall-clock seconds of ``python scripts/plan.py run`` in its own process (imports and staging
    included), for this checkout and each ``--against`` checkout, runs alternating so that load hits all alike."""
    import json
    import statistics
    import subprocess

    here = Path(__file__).resolve().parent.parent
    checkouts = [here, *(Path(c).resolve() for c in args.against)]
    data = ["--data", str(args.data)] if args.data else []

    def once(repo: Path, k: int) -> float:
        out = args.out / "process" / f"{repo.name}-{k}"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "scripts/plan.py", "run", "--quiet", "--region", args.region, *data,
                               "--out", str(out.resolve())], cwd=repo, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{repo}: plan.py run failed: {done.stderr[-2000:]}")
        return seconds

    for repo in checkouts:         # warm: routing hierarchy cache, numba caches, file system
        once(repo, 0)
    times = {str(repo): [] for repo in checkouts}
    loads = [list(os.getloadavg())]
    for k in range(1, args.process + 1):
        for repo in checkouts:
            times[str(repo)].append(round(once(repo, k), 2))
        loads.append(list(os.getloadavg()))
    result = {"runs_s": times, "median_s": {r: statistics.median(t) for r, t in times.items()},
              "_meta": {"command": "python scripts/plan.py run --quiet --out DIR (each checkout, alternating)",
                        "load_averages": loads, "cpus": os.cpu_count(), "region": args.region,
                        "data": str(args.data or "bundle")}}
    here_median = result["median_s"][str(here)]
    result["ratio_vs_this_checkout"] = {r: round(m / here_median, 2) for r, m in result["median_s"].items()}
    for repo, median in result["median_s"].items():
        print(f"{repo}: median {median:.1f} s of {times[repo]}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "bench_run_process.json"
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
