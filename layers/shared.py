"""Things built once per region and shared by every analysis on it: networks, their classified base, population, parks.

A main-job run (or a notebook) asks for the same road network many times —
access, the scenario, isochrones, siting, validation, communes. Each request
goes through :func:`shared`, which keeps what was built for the ``Region``
object it was built from, under a key that names everything it depends on
(:attr:`layers.networks.NetworkOptions.key`: files by path, size and
modification time). So the network, its class overlays, corridor matching and
routing hierarchy are built once, and a changed overlay file gives a new
network instead of a stale one.

The store lives beside the region, not in it: it is dropped with the region
object (``weakref.finalize``), never pickled with it (a region sent to a Dask
worker does not drag its networks along) and emptied by :func:`forget`.

>>> class Place: pass
>>> r = Place()
>>> calls = []
>>> shared(r, "x", lambda: calls.append(1) or "built"), shared(r, "x", lambda: calls.append(1) or "again"), len(calls)
('built', 'built', 1)
>>> forget(r); shared(r, "x", lambda: "rebuilt")
'rebuilt'
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

_STORES: dict[int, dict] = {}
_LOCK = threading.RLock()


def _store(region) -> dict:
    key = id(region)
    with _LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = {}
            weakref.finalize(region, _STORES.pop, key, None)
        return store


def shared(region, key, build: Callable[[], T]) -> T:
    """The value kept for ``region`` under ``key``, built by ``build()`` the first time it is asked for."""
    store = _store(region)
    with _LOCK:
        if key in store:
            return store[key]
    value = build()
    with _LOCK:
        return store.setdefault(key, value)


def cached(region, key):
    """The value kept for ``region`` under ``key``, or None."""
    return _store(region).get(key)


def seed(region, key, value) -> None:
    """Keep ``value`` for ``region`` under ``key`` (something built elsewhere, e.g. the layers of a run)."""
    with _LOCK:
        _store(region)[key] = value


#: Key of the region's population raster, ``(array, profile)`` (:func:`layers.population.population_raster`).
POPULATION = "population"


def parks_key(parks_file=None, osm=None) -> tuple:
    """Key of the region's placed parks (:func:`layers.parks.region_parks`) for a park file and an OSM extract."""
    return ("parks", file_stamp(parks_file), file_stamp(osm))


def file_stamp(path) -> tuple | None:
    """A file told apart by its path, size and modification time (None for no file), for keys."""
    if path is None:
        return None
    try:
        st = Path(path).stat()
    except OSError:
        return (str(path), None, None)
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def road_file(region) -> tuple:
    """The region's ``road_network`` file as ``(nodes, edges)`` (:func:`geo.routing.network.read_line_network`),
    read once per region: the corridor matching and the road graph both start from it. Read-only: callers
    make new frames (``assign``, column selections) instead of changing these."""
    from geo.routing.network import read_line_network

    path = region.path("road_network")
    cfg = region.section("road_network")
    return shared(region, ("road file", file_stamp(path)),
                  lambda: read_line_network(path, edges_layer=cfg.get("edges_layer", "edges"),
                                            nodes_layer=cfg.get("nodes_layer", "nodes")))


def prepared_road_file(region):
    """:func:`road_file` projected to the region's metric CRS for matching (:func:`geo.routing.matching.prepare_network`),
    once per region: the corridor matching, the class overlays, the urban setting and the metric edge lines of
    the networks reuse it."""
    from geo.routing.matching import prepare_network

    path = region.path("road_network")
    return shared(region, ("prepared road file", file_stamp(path), region.metric_crs),
                  lambda: prepare_network(*road_file(region), region.metric_crs))


def road_file_metric(region, geometry) -> "np.ndarray":
    """Metric copies of the points or lines of a frame built from :func:`road_file` (its nodes or edges, rows
    dropped or added): those of the file come from :func:`prepared_road_file`, only the rows added since
    (interchange ramps, roads opened since 2018, stations put on a road) are reprojected
    (:class:`geo.crs.MetricCopies`, made once per region)."""
    def copies():
        import numpy as np
        import shapely

        from geo.crs import MetricCopies

        (nodes, edges), prepared = road_file(region), prepared_road_file(region)
        source = [np.asarray(nodes.geometry.values, dtype=object), np.asarray(edges.geometry.values, dtype=object)]
        metric = [shapely.points(prepared.node_xy), np.asarray(prepared.geometry, dtype=object)]
        return MetricCopies(np.concatenate(source), np.concatenate(metric), prepared.crs)

    path = region.path("road_network")
    return shared(region, ("road file metric", file_stamp(path), region.metric_crs), copies).of(geometry)


def forget(region) -> None:
    """Drop everything kept for ``region`` (networks, population): the next request builds anew."""
    with _LOCK:
        _STORES.pop(id(region), None)
