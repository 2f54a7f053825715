"""The main job, ``plan.py run``: the region's analyses (:mod:`layers.pipeline`), then the planner map and the site.

The seconds of every step go to ``OUT/run_timings.json`` (and, with
``RunOptions(verbose=True)`` / ``--verbose``, to the screen). The site is
published in a forked child while this process draws the planner map
(:mod:`geo.background`; siting runs beside the other analyses the same way), so
steps overlap on two cores: their seconds add up to more than the total.

>>> from layers.pipeline import RunOptions
>>> RunOptions(out="out").analyses
True
"""

from __future__ import annotations

import os
import platform

from geo import background
from geo.collector import fewer_collections
from geo.io.output import write_json
from layers.pipeline import RunOptions, RunResult, Timings, run_analyses
from layers.region import Region
from maps.planner import read_analyses, write_planner_map
from maps.publish import publish_site


def run(region: Region, options: RunOptions, network=None, *, population=None) -> RunResult:
    """Layers, analyses, ``OUT/map.html``, ``OUT/site/`` and ``OUT/run_timings.json``; every step writes into
    ``options.out``. ``network`` and ``population``: see :func:`layers.pipeline.run_analyses`. Python's cyclic
    garbage collector runs less often meanwhile (:mod:`geo.collector`)."""
    with fewer_collections():
        return _run(region, options, network, population=population)


def _run(region: Region, options: RunOptions, network=None, *, population=None) -> RunResult:
    timings = Timings()
    result = run_analyses(region, options, network, population=population, timings=timings)
    layer_set = result.layers
    with timings.step("read analyses"):
        analyses = read_analyses(options.out)
    with background.start("site", _site_step, options.out, layer_set, analyses, overlap=options.overlap) as site_job:
        with timings.step("planner map"):
            map_path = write_planner_map(options.out, layers=layer_set.layers, population=layer_set.population,
                                         summary=layer_set.summary, analyses=analyses)
        site, seconds = site_job.result()
        timings.add_background(site_job, seconds)
    result.written.update({"map": map_path, "site": site["site"] / "index.html"})
    result.written["timings"] = write_timings(result, options)
    options.echo(f"wrote {map_path} and {site['site'] / 'index.html'} in {timings.total():.0f} s")
    if options.verbose:
        options.echo("seconds by step:\n" + "\n".join(timings.lines()))
    return result


def _site_step(out, layer_set, analyses):
    """The published site (:func:`maps.publish.publish_site`) → (what it wrote, seconds by step)."""
    timings = Timings()
    with timings.step("site"):
        site = publish_site(out, layers=layer_set.layers, population=layer_set.population,
                            summary=layer_set.summary, analyses=analyses)
    return site, timings.seconds


def write_timings(result: RunResult, options: RunOptions):
    """``OUT/run_timings.json``: seconds by step (wall clock, in order), the total, and where they were measured."""
    t = result.timings
    net = result.networks
    return write_json({
        "steps_s": dict(t.seconds), "total_s": t.total(), "in_background": t.background,
        "region": result.region.id, "network": getattr(net, "network_name", None),
        "cpus": os.cpu_count(), "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "note": "wall-clock seconds of the run in this process (imports and the command line's staging folder not "
                "included); the steps under in_background ran in a forked child beside the others (wait for … is "
                "this process waiting for it), so the steps add up to more than total_s; the load average says how "
                "busy the machine was",
    }, options.out / "run_timings.json")
