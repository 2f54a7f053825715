"""geo.collector: fewer collector runs inside the block, the thresholds as they were after it."""

from __future__ import annotations

import gc

from geo import settings
from geo.collector import fewer_collections


def test_thresholds_are_raised_inside_and_restored_after_even_on_error():
    before = gc.get_threshold()
    try:
        with fewer_collections():
            assert gc.get_threshold() == tuple(max(a, b) for a, b in zip(before, settings.gc_thresholds))
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.get_threshold() == before


def test_a_nested_block_never_lowers_what_the_outer_one_set():
    before = gc.get_threshold()
    with fewer_collections((500_000, 60, 200)):
        with fewer_collections():
            assert gc.get_threshold() == (500_000, 60, 200)
        assert gc.get_threshold() == (500_000, 60, 200)
    assert gc.get_threshold() == before
