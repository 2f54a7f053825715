"""Fewer runs of Python's cyclic garbage collector while a command works: :func:`fewer_collections`.

The main job keeps over a million long-lived objects (networks, grids,
layers, pages). With CPython's default thresholds, ``(700, 10, 10)``, the
collector walks all of them every few hundred thousand allocations and finds
next to no garbage: in ``plan.py run`` (every step in one process) 10,171
collections, 32 of them full, took 4.5 s of the 30 s of CPU. With
``geo.settings.gc_thresholds`` (``(100_000, 50, 100)``) the same command makes
449 collections (most while importing, before the thresholds change) in 0.65 s,
23.6 s of CPU, and peaks at the same memory (1,668 MB against 1,666 MB) —
measured with ``gc.callbacks`` around the command, see README, ``bench``
section, "The last round". Reference counting frees objects as before;
only garbage caught in reference cycles waits a little longer.

>>> import gc
>>> before = gc.get_threshold()
>>> with fewer_collections():
...     gc.get_threshold()[0] >= 100_000
True
>>> gc.get_threshold() == before
True
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

from geo import settings


@contextmanager
def fewer_collections(thresholds: tuple[int, int, int] | None = None):
    """``gc.set_threshold(*thresholds)`` inside the block (default ``geo.settings.gc_thresholds``); the previous
    thresholds after it. Never lowers a threshold already set higher (nested blocks keep the outermost's)."""
    previous = gc.get_threshold()
    wanted = thresholds or settings.gc_thresholds
    gc.set_threshold(*(max(a, b) for a, b in zip(previous, wanted)))
    try:
        yield
    finally:
        gc.set_threshold(*previous)
