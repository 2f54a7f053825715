"""Routable networks of a region: roads with speeds, rail with stations, both joined.

:func:`road_network` — the road graph with a speed (from the region's speed model) and a travel time on every
edge (:mod:`~layers.networks.roads`).

:func:`rail_network` — the railway graph (OSM 2018 lines, split at shared
vertices) with the stations put on the track, and a configured average speed.

:func:`multimodal_network` — both in one graph, rail entered only at stations
through transfer edges (:func:`geo.routing.multimodal.multimodal_edges`).

Columns: :mod:`~layers.networks.roads` (road nodes and edges) and :mod:`~layers.networks.rail` (rail);
``edges.attrs["summary"]`` holds each network's facts.

The package's modules: :mod:`~layers.networks.options` (``NetworkOptions``, the speed model),
:mod:`~layers.networks.roads` (the road graph), :mod:`~layers.networks.classes` (class overlays map-matched onto it),
:mod:`~layers.networks.opened` (roads opened since 2018, read by :mod:`layers.opened_roads`, appended), :mod:`~layers.networks.rail` (rail and road + rail), :mod:`~layers.networks.routers` (``Networks``,
``shared_networks`` and ``build_networks``: the routers every analysis uses); what is built once per region and
shared (the networks, their classified base) is kept by :mod:`layers.shared`.
"""

from layers.networks.options import DEFAULT_SPEED_MODEL, NETWORKS, VEHICLES, NetworkOptions, planned_road_speeds, speed_model
from layers.networks.rail import RAIL_EDGE_COLUMNS, RAIL_NODE_COLUMNS, multimodal_network, rail_network
from layers.networks.roads import ROAD_EDGE_COLUMNS, ROAD_NODE_COLUMNS, apply_speed_model, road_network
from layers.networks.routers import Networks, add_rail, bound_networks, build_networks, shared_networks, vehicle_networks

__all__ = ["DEFAULT_SPEED_MODEL", "NETWORKS", "VEHICLES", "NetworkOptions", "planned_road_speeds", "speed_model", "RAIL_EDGE_COLUMNS",
           "RAIL_NODE_COLUMNS", "multimodal_network", "rail_network", "ROAD_EDGE_COLUMNS", "ROAD_NODE_COLUMNS",
           "apply_speed_model", "road_network", "Networks", "add_rail", "bound_networks", "build_networks", "shared_networks",
           "vehicle_networks"]
