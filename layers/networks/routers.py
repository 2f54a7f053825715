"""The routers of a region: road, and road + rail (rail entered only at stations), built once from the network options;
the same network with a vehicle's speeds or with every assumed speed at its bounds.

:func:`shared_networks` is what analyses ask for: the region's networks for some :class:`NetworkOptions`, built the
first time and shared afterwards (:mod:`layers.shared`), with what is derived from them kept on the
:class:`Networks` object itself (the bound networks of the speed ranges, another vehicle's speeds, corridor
targets, the edges points join). :func:`build_networks` always builds a new object (sharing only the classified
base of the road graph).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.routing.access import RoadEdges, attach_points
from geo.routing.multimodal import router_arrays
from geo.routing.router import Router
from geo.routing.scenario import CONTROLLED_ACCESS
from layers.networks.options import NetworkOptions, speed_model
from layers.networks.rail import multimodal_network, rail_network
from layers.networks.roads import apply_speed_model, metric_geometry, road_network
from layers.shared import shared
from layers.region import Region

log = logging.getLogger(__name__)


@dataclass
class Networks:
    """Routers of a region: road, and road + rail (rail entered only at stations)."""

    road: Router
    road_nodes: gpd.GeoDataFrame
    road_edges: gpd.GeoDataFrame
    multimodal: Router | None = None
    multimodal_nodes: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    _lines: object = None
    model: object = None                 # the SpeedModel the road speeds come from
    network_name: str = "road network"   # which network (e.g. "today: OSM 2018 + CT.01 (opened 2020-01-15, indicative)")
    _entry: dict = field(default_factory=dict, repr=False)
    region: Region | None = field(default=None, repr=False)        # the region it was built for
    options: NetworkOptions | None = None                          # the options it was built with
    derived: dict = field(default_factory=dict, repr=False)        # built from it once: bounds, vehicles, targets

    @property
    def road_lines(self):
        """Road edge geometries in the metric CRS (aligned with ``road_edges``)."""
        if self._lines is None:
            self._lines = to_metric(self.road_edges.geometry, self.road.crs).values
        return self._lines

    @property
    def entry_edges(self) -> RoadEdges:
        """The road edges points may join (:class:`geo.routing.access.RoadEdges`): every edge of the largest
        component except controlled-access ones (expressways and their ramps, entered at interchanges)."""
        return self.edges_for(self.road)

    def edges_for(self, router: Router) -> RoadEdges:
        """:attr:`entry_edges` with node indexes of ``router``: the road router itself, any router made
        from it by adding nodes (a scenario: same indexes), or another graph holding the road nodes
        (road + rail)."""
        key = "road" if (router is self.road or _extends(router, self.road)) else \
            "multimodal" if router is self.multimodal else None
        if key in self._entry:
            return self._entry[key]
        e = self.road_edges
        joinable = ~e["road_class"].astype(str).str.lower().isin(CONTROLLED_ACCESS).to_numpy() if "road_class" in e else None
        edges = RoadEdges.of(self.road if key == "road" else router, self.road_lines, e["u"].to_numpy(), e["v"].to_numpy(),
                             e["travel_time_s"].to_numpy(), joinable=joinable)
        if key is not None:
            self._entry[key] = edges
        return edges

    def attach(self, router: Router, points: gpd.GeoDataFrame, max_snap_m: float, access_speed_kmh: float):
        """Join points to their nearest suitable road edge in ``router`` (see :func:`geo.routing.access.attach_points`)."""
        pts = to_metric(points, self.road.crs).geometry.representative_point()
        return attach_points(router, self.edges_for(router), x=pts.x.to_numpy(), y=pts.y.to_numpy(),
                             max_snap_m=max_snap_m, access_speed_kmh=access_speed_kmh)

    @property
    def note(self) -> str:
        return " ".join(self.notes)

    def __getstate__(self):
        """Pickled (to a Dask worker) without what was derived from it (bound networks, other vehicles): the worker
        derives them again if it needs them."""
        state = dict(self.__dict__)
        state["derived"] = {k: v for k, v in self.derived.items() if k == "rail"}
        return state


def require_networks(net, call: str) -> None:
    """A clear TypeError when ``net`` is not a :class:`Networks` (e.g. arguments given in an older order)."""
    if not isinstance(net, Networks):
        raise TypeError(f"{call}: net must be layers.networks.Networks (from shared_networks / build_networks), "
                        f"not {type(net).__name__}; arguments go region, features, net, then keywords")


def _extends(router: Router, base: Router) -> bool:
    """True when ``router`` holds ``base``'s nodes first, in the same order (made from it by adding nodes)."""
    n = base.n
    return router.n >= n and (router.node_ids[:n] is base.node_ids or np.array_equal(router.node_ids[:n], base.node_ids))


def shared_networks(region: Region, options: NetworkOptions | None = None, *, rail: bool = False,
             corridor_layer=None) -> Networks:
    """The region's networks for ``options``, built once and shared by every later request (see the module docstring).

    ``rail`` adds the road + rail router (once) when the region has railways. ``corridor_layer``: the
    region's corridors layer when already built (:func:`layers.corridors.corridors`, e.g. by
    :func:`layers.build.build_layers`): the corridor matching is not redone.
    """
    options = options or NetworkOptions()
    net = shared(region, ("networks", options.key),
                 lambda: build_networks(region, with_rail=False, options=options, corridor_layer=corridor_layer))
    if rail:
        add_rail(region, net)
    return net


def build_networks(region: Region, osm=None, with_rail: bool = True,
                   options: "NetworkOptions | None" = None, *, corridor_layer=None) -> Networks:
    """Road router (and road + rail router) of the region: a new :class:`Networks` (see :func:`shared_networks` for the
    shared one).

    ``options`` (:class:`layers.NetworkOptions`) chooses the network
    (today's or 2018), class overlays, the speed model and an OSM extract (``osm`` here is the same as
    ``options.osm``).
    """
    options = options or NetworkOptions()
    if osm is not None and options.osm is None:
        options = replace(options, osm=osm)
    model = options.speed_model(region)
    road_nodes, road_edges = road_network(region, options=options, corridor_layer=corridor_layer)
    summary = road_edges.attrs.get("summary") or {}
    directed = bool(summary.get("directed", False))
    road = Router.from_arrays(**router_arrays(road_nodes, road_edges), directed=directed, crs=region.metric_crs)
    name = str(summary.get("network") or "road network")
    notes = [f"Network: {name}."] + [str(c) for c in summary.get("caveats", [])]
    lines = metric_geometry(region, road_edges) if options.osm is None else None   # from the road file's metric copy
    out = Networks(road=road, road_nodes=road_nodes, road_edges=road_edges, notes=notes, model=model, network_name=name,
                   region=region, options=options, _lines=lines)
    if with_rail:
        add_rail(region, out)
    return out


def add_rail(region: Region, net: Networks) -> Networks:
    """``net`` with its road + rail router (built once, when the region has railways); returns ``net``."""
    if net.multimodal is not None or net.derived.get("rail") is not None or "railways" not in region.config:
        return net
    model = net.model or speed_model(region)
    rail = rail_network(region, model=model)
    directed = net.road.directed
    mm_nodes, mm_edges = multimodal_network(region, road=(net.road_nodes, net.road_edges), rail=rail, model=model,
                                            road_lines=net.road_lines)
    net.multimodal = Router.from_arrays(**router_arrays(mm_nodes, mm_edges), directed=directed, crs=region.metric_crs)
    net.multimodal_nodes = mm_nodes
    net.derived["rail"] = True
    transfer = mm_edges.attrs.get("summary", {}).get("transfer_basis")
    if transfer:
        net.notes.append(f"Road + rail: {transfer}")
    return net


def vehicle_networks(region: Region, net: Networks, vehicle: str) -> Networks:
    """The same road network with the speeds of ``vehicle`` (the region's ``vehicle_speed_models``): the
    edges re-weighted (:func:`layers.apply_speed_model`), the routing hierarchy re-customised. Made once per
    network and vehicle (kept on ``net``)."""
    key = ("vehicle", vehicle)
    if key not in net.derived:
        net.derived[key] = _vehicle_networks(region, net, vehicle)
    return net.derived[key]


def _vehicle_networks(region: Region, net: Networks, vehicle: str) -> Networks:
    model = speed_model(region, vehicle)
    edges = apply_speed_model(net.road_edges, model, ranges=False)
    edges.attrs = dict(net.road_edges.attrs)
    router = net.road.with_weights(edges["travel_time_s"].to_numpy(float))
    return Networks(road=router, road_nodes=net.road_nodes, road_edges=edges, model=model, _lines=net.road_lines,
                    network_name=f"{net.network_name}; {vehicle} speeds ({Path(str(model.source)).name})",
                    notes=list(net.notes), region=net.region, options=net.options)


def bound_networks(net: Networks) -> tuple[Networks, Networks] | None:
    """(slow, fast): the road network with every assumed speed at the lower / upper bound of the
    speed model's ``calibration`` section (access leg included); None when the model states no bounds.
    Made once per network (kept on ``net``)."""
    if "bounds" not in net.derived:
        net.derived["bounds"] = _bound_networks(net)
    return net.derived["bounds"]


def _bound_networks(net: Networks) -> tuple[Networks, Networks] | None:
    from geo.routing.calibration import model_at_bounds

    edges = net.road_edges
    if net.model is None or "speed_low_kmh" not in edges or (edges["speed_low_kmh"] == edges["speed_high_kmh"]).all():
        return None
    slow_model, fast_model = model_at_bounds(net.model)
    out = []
    for column, model in (("speed_low_kmh", slow_model), ("speed_high_kmh", fast_model)):
        e = edges.assign(travel_time_s=edges["length_m"].to_numpy(float) / (edges[column].to_numpy(float) / 3.6))
        e.attrs = dict(edges.attrs)
        router = Router.from_arrays(**router_arrays(net.road_nodes, e), directed=net.road.directed, crs=net.road.crs)
        out.append(Networks(road=router, road_nodes=net.road_nodes, road_edges=e, model=model, network_name=net.network_name,
                            region=net.region, options=net.options, _lines=net.road_lines))   # same edges: same metric lines
    return out[0], out[1]
