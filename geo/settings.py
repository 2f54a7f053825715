"""Project-wide defaults, in one place (as in osmnx's ``settings``).

Change them at run time (``geo.settings.cache_folder = ...``) rather than
editing code; the command line sets the ones it exposes.
"""

from __future__ import annotations

import os
from pathlib import Path

#: CRS used for storage and maps (WGS 84 longitude/latitude).
storage_crs = "EPSG:4326"

#: Metric CRS used for lengths, areas and buffers (WGS 84 / UTM zone 48N).
metric_crs = "EPSG:32648"

#: Where downloads (``fetch``) and Overpass answers are cached.
cache_folder = Path(os.environ.get("BGPLAN_CACHE", Path.home() / ".cache" / "bgplan"))

#: Keep routing hierarchies (CCH) of networks on disk (under ``cache_folder/hierarchy``), keyed by the
#: network's content, so later runs skip the preprocessing (see geo.routing.hierarchy).
hierarchy_cache = os.environ.get("BGPLAN_HIERARCHY_CACHE", "1") != "0"

#: Let the main job (``plan.py run``) overlap independent steps in a forked child process (geo.background):
#: siting beside access, scenario and isochrones; the site beside the planner map. ``BGPLAN_OVERLAP=0`` (or
#: False here) runs every step in this process, one after the other; the outputs are the same.
overlap_steps = os.environ.get("BGPLAN_OVERLAP", "1") != "0"

#: Thresholds of Python's cyclic garbage collector while a command runs (geo.collector; CPython's default is
#: (700, 10, 10)): the main job spent 4.5 s of 30 s of CPU in collections that found next to no garbage.
gc_thresholds = (100_000, 50, 100)

#: Show progress bars on long work (the command line's ``--quiet`` turns this off).
progress = True

#: HTTP timeout for downloads, in seconds.
http_timeout_s = 60

#: User agent sent with downloads and Overpass queries.
user_agent = "bgplan/0.1 (industrial-planning tool; +https://example.invalid/bgplan)"

#: Share of a user layer's features that must overlap the region's window (geo.io.extent); 0 = at least one.
#: Features outside it are reported (a warning with the count) and not used.
min_share_in_window = 0.0

#: Inputs above these sizes need the command line's --allow-large (they take long and much memory):
#: parks, origins or destinations of one access/matrix/isochrones run (100,000 parks took 345 s and
#: 10 GB in `access`, issue 20; about 3.5 ms and 100 kB per park) …
max_points = 10_000
#: … and Monte Carlo runs of `sensitivity` (1,000,000 runs were estimated at 4 hours at 250 m cells, issue 20).
max_sensitivity_runs = 20_000

#: Free space (MB) in the output folder below which a command warns before it starts.
min_free_mb = 200
