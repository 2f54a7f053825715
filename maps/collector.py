"""Python's cyclic garbage collector paused while a page is built: :func:`paused`.

Building a page makes millions of small lists and dicts (every coordinate pair of every layer, every feature and
popup) that all live until the page is written, and reading the siting grid back for the maps makes 389,000
points. Each counts towards CPython's next collection, and a full collection walks every object of the process —
in ``plan.py run`` more than a million (layers, networks, grids) — to find no garbage: on the site, a quarter of a
second in 961 collections; turning the isochrones' points into lists 0.29 s instead of 0.02 s; reading the grid
back twice as long. Reference counting still frees everything as usual; only garbage in reference cycles waits for
the end of the block, when the collector is back on (as it was). Used by :func:`maps.planner.read_analyses`,
:func:`maps.planner.planner_map`, :func:`maps.planner.write_planner_map`, :func:`maps.dualmap.scenario_dual_map`
and :func:`maps.publish.publish_site`.

>>> import gc
>>> with paused():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused():
    """The cyclic collector off inside the block (also as a decorator); on again after it when it was on before.

    Nested blocks, and blocks of several threads (``plan.py serve``), leave it as the outermost found it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
