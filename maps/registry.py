"""One place per map layer: every layer of every map, declared once, in drawing order.

Each entry is a :class:`maps.layer.MapLayer` (source, style, legend, popup fields, search name, publish
allow-list, licence, pages); :func:`maps.layer.draw` draws it. The entries live with their theme —
:mod:`maps.context_layers` (boundaries, districts, transport, towns, population, the light base map),
:mod:`maps.park_layers` (parks, position rings, access per park), :mod:`maps.analysis_layers` (isochrones,
suitability, candidate sites, legal verdicts, sensitivity) and :mod:`maps.scenario_layers` (the scenario's
changes, roads and interchanges) — and this module lists them. Adding a layer is one entry in one of those
lists, or one :func:`register` call (a plug-in, a test):

* :func:`maps.planner.planner_map` draws every registered layer whose data it is given, with its legend and popups;
* :func:`maps.planner.read_analyses` reads an entry from its ``read`` (file, layer) in OUT;
* :func:`maps.publish.publish_site` cuts it to its ``publish`` columns, takes its licence from ``licence``, offers it
  as a download and puts it on the pages named in ``pages``.

>>> entry = get("site_verdicts")
>>> entry.group, "eligible" in entry.publish
('Phân tích / Analysis', True)
>>> [e.key for e in entries(stage="areas")][:3]
['water', 'districts_density', 'districts_urban']
"""

from __future__ import annotations

from maps import analysis_layers, context_layers, park_layers, scenario_layers
from maps.layer import MapContext, MapLayer

__all__ = ["LAYERS", "MapContext", "MapLayer", "allow_list", "entries", "get", "licence_keys", "page_layers", "register",
           "unregister"]

#: Every registered layer by key, in drawing order (within its stage).
LAYERS: dict[str, MapLayer] = {}


def register(entry: MapLayer, replace: bool = False) -> MapLayer:
    """Add ``entry`` to :data:`LAYERS` (an existing key is an error unless ``replace``); returns it."""
    if entry.key in LAYERS and not replace:
        raise ValueError(f"map layer {entry.key!r} is already registered")
    LAYERS[entry.key] = entry
    return entry


def unregister(key: str) -> None:
    """Remove a registered layer (tests, plug-ins)."""
    LAYERS.pop(key, None)


def get(key: str) -> MapLayer:
    return LAYERS[key]


def entries(source: str | None = None, stage: str | None = None) -> list[MapLayer]:
    """The registered layers (of one ``source`` and ``stage`` when given), in drawing order."""
    return [e for e in LAYERS.values() if (source is None or e.source == source) and (stage is None or e.stage == stage)]


def allow_list(source: str) -> dict[str, list[str]]:
    """Publish allow-list of the registered layers of ``source``: key → columns."""
    return {e.key: list(e.publish) for e in entries(source) if e.publish}


def licence_keys() -> dict[str, str]:
    """Registered key → the licence key it inherits."""
    return {e.key: e.licence for e in LAYERS.values() if e.licence}


def page_layers(page_file: str) -> list[str]:
    """Keys of the registered layers drawn on a published page."""
    return [e.key for e in LAYERS.values() if page_file in e.pages]


# the base map first, then the areas, the parks, the context on top, the analyses on top of all
for _entry in (*context_layers.ENTRIES, *park_layers.ENTRIES, *analysis_layers.ENTRIES, *scenario_layers.ENTRIES):
    register(_entry)
del _entry
