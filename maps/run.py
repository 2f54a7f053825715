"""The main job, ``plan.py run``: the region's analyses (:mod:`layers.pipeline`), then the planner map and the site.

>>> from layers.pipeline import RunOptions
>>> RunOptions(out="out").analyses
True
"""

from __future__ import annotations

import time

from layers.pipeline import RunOptions, RunResult, elapsed_since, run_analyses
from maps.planner import read_analyses, write_planner_map
from maps.publish import publish_site


def run(options: RunOptions) -> RunResult:
    """Layers, analyses, ``OUT/map.html`` and ``OUT/site/``; every step writes into ``options.out``."""
    started = time.perf_counter()
    result = run_analyses(options)
    layer_set = result.layers
    analyses = read_analyses(options.out)
    map_path = write_planner_map(options.out, layers=layer_set.layers, population=layer_set.population,
                                 summary=layer_set.summary, analyses=analyses)
    site = publish_site(options.out, layers=layer_set.layers, population=layer_set.population,
                        summary=layer_set.summary, analyses=analyses)
    result.written.update({"map": map_path, "site": site["site"] / "index.html"})
    options.echo(f"wrote {map_path} and {site['site'] / 'index.html'} in {elapsed_since(started)}")
    return result
