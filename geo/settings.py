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
#: network's content, so later runs skip the preprocessing (see geo.hierarchy).
hierarchy_cache = os.environ.get("BGPLAN_HIERARCHY_CACHE", "1") != "0"

#: Show progress bars on long work (the command line's ``--quiet`` turns this off).
progress = True

#: HTTP timeout for downloads, in seconds.
http_timeout_s = 60

#: User agent sent with downloads and Overpass queries.
user_agent = "bgplan/0.1 (industrial-planning tool; +https://example.invalid/bgplan)"
