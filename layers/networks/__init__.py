"""Routable networks of a region: roads with speeds, rail with stations, both joined.

:func:`road_network` — the road graph with a speed and a travel time on every
edge, from the region's ``road_network`` file (OSM 2018 rebuild, no
attributes, undirected) labelled with the corridors of
:func:`layers.corridors.corridors`, or from OSM (:func:`geo.io.osm.read_osm_roads`)
when ``osm`` is given. Speeds come from the region's speed model
(``speed_model:`` key of the region YAML, default
``layers/regions/models/speeds-vn.yaml``), never from code.

:func:`rail_network` — the railway graph (OSM 2018 lines, split at shared
vertices) with the stations put on the track, and a configured average speed.

:func:`multimodal_network` — both in one graph, rail entered only at stations
through transfer edges (:func:`geo.routing.multimodal.multimodal_edges`).

Road network columns
--------------------
nodes : ``node_id``, ``x``, ``y`` (metres, EPSG:32648 — not degrees), ``lon``,
    ``lat`` (degrees), ``component`` (0 = largest by length), ``degree``,
    geometry (Point, EPSG:4326).
edges : ``edge_id``, ``u``, ``v``, ``length_m``, ``road_class`` (class of the
    speed model: expressway, national, provincial, district, commune, local,
    service, track, unknown), ``setting`` (urban / rural), ``speed_kmh``,
    ``travel_time_s``, ``oneway`` (bool; False for the 2018 file, which lost
    one-way information), ``corridor_id`` (``ql1a`` …, ids joined with ";",
    None when not on a corridor), ``speed_source`` (where the speed comes
    from), ``component``; from OSM also ``highway``, ``ref``, ``name``,
    ``maxspeed``; from the 2018 file ``in_province``; geometry (LineString,
    EPSG:4326). OSM graphs are directed as osmnx gives them (a two-way road
    is two rows u→v and v→u); the 2018 graph is undirected (one row per edge).

Rail network columns
--------------------
nodes : ``node_id``, ``x``, ``y`` (metres), ``lon``, ``lat``, ``component``,
    ``station_name``, ``station_name_en``, ``station_osm_id``,
    ``station_snap_m`` (station point → track, m; NaN at other nodes), geometry.
edges : ``edge_id``, ``u``, ``v``, ``length_m``, ``speed_kmh``,
    ``travel_time_s``, ``speed_source``, ``name`` (line name where known),
    ``osm_id``, ``component``, geometry. Undirected.

``edges.attrs["summary"]`` (also on ``nodes``) holds the facts: sizes,
connected components and what was dropped, km by class and setting, the speed
table, the caveats of the data. Building the 2018 road network takes about
5 s (half of it the corridor map-matching).

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
