"""Python's cyclic garbage collector paused while a page is built: :func:`paused`.

Building a page makes millions of small lists and dicts (every coordinate pair of every layer, every feature and
popup) that all live until the page is written. Each of them counts towards CPython's next collection, and a full
collection walks every object of the process — in ``plan.py run`` more than a million (layers, networks, grids) — to
find no garbage: on the site, a quarter of a second of 961 collections, and several times the time of turning
coordinates into lists (0.27 s against 0.016 s for the water layer). Reference counting still frees everything as
usual; only garbage in reference cycles waits for the end of the block, when the collector is back on (as it was).

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
