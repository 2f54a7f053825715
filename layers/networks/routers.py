"""The routers of a region: road, and road + rail (rail entered only at stations), built once from the network options;
the same network with a vehicle's speeds or with every assumed speed at its bounds."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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
from layers.networks.roads import apply_speed_model, road_network
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


def _extends(router: Router, base: Router) -> bool:
    """True when ``router`` holds ``base``'s nodes first, in the same order (made from it by adding nodes)."""
    n = base.n
    return router.n >= n and (router.node_ids[:n] is base.node_ids or np.array_equal(router.node_ids[:n], base.node_ids))


def build_networks(region: Region, osm=None, with_rail: bool = True,
                   options: "NetworkOptions | None" = None) -> Networks:
    """Road router (and road + rail router) of the region.

    ``options`` (:class:`layers.NetworkOptions`) chooses the network
    (today's or 2018), class overlays and the speed model.
    """
    options = options or NetworkOptions()
    model = options.speed_model(region)
    road_nodes, road_edges = road_network(region, osm=osm, model=model, options=options)
    summary = road_edges.attrs.get("summary") or {}
    directed = bool(summary.get("directed", False))
    road = Router.from_arrays(**router_arrays(road_nodes, road_edges), directed=directed, crs=region.metric_crs)
    name = str(summary.get("network") or "road network")
    notes = [f"Network: {name}."] + [str(c) for c in summary.get("caveats", [])]
    out = Networks(road=road, road_nodes=road_nodes, road_edges=road_edges, notes=notes, model=model, network_name=name)
    if with_rail and "railways" in region.config:
        rail = rail_network(region, model=model)
        mm_nodes, mm_edges = multimodal_network(region, road=(road_nodes, road_edges), rail=rail, model=model)
        out.multimodal = Router.from_arrays(**router_arrays(mm_nodes, mm_edges), directed=directed, crs=region.metric_crs)
        out.multimodal_nodes = mm_nodes
        transfer = mm_edges.attrs.get("summary", {}).get("transfer_basis")
        if transfer:
            out.notes.append(f"Road + rail: {transfer}")
    return out


def vehicle_networks(region: Region, net: Networks, vehicle: str) -> Networks:
    """The same road network with the speeds of ``vehicle`` (the region's ``vehicle_speed_models``): the
    edges re-weighted (:func:`layers.apply_speed_model`), the routing hierarchy re-customised."""
    model = speed_model(region, vehicle)
    edges = apply_speed_model(net.road_edges, model, ranges=False)
    edges.attrs = dict(net.road_edges.attrs)
    router = net.road.with_weights(edges["travel_time_s"].to_numpy(float))
    return Networks(road=router, road_nodes=net.road_nodes, road_edges=edges, model=model,
                    network_name=f"{net.network_name}; {vehicle} speeds ({Path(str(model.source)).name})",
                    notes=list(net.notes))


def bound_networks(net: Networks) -> tuple[Networks, Networks] | None:
    """(slow, fast): the road network with every assumed speed at the lower / upper bound of the
    speed model's ``calibration`` section (access leg included); None when the model states no bounds."""
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
        out.append(Networks(road=router, road_nodes=net.road_nodes, road_edges=e, model=model, network_name=net.network_name))
    return out[0], out[1]
