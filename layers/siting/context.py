"""What criteria read: :class:`SitingContext` holds the region, the networks and the layers of one run.

Layers are read on first use and cached; a region layer whose file is
missing from the data folder is ``None`` and ``missing_layers`` says why
(the criteria and exclusions built on it report that reason). Work shared by
several criteria (cells joined to the road network, one multi-source search
per target, the labour searches) is done once, for every criterion of the
run that needs it (``needed``).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo import settings
from geo.routing.access import Catchment
from geo.crs import to_metric
from geo.errors import InputError
from geo.siting.grid import Grid, labour_blocks, link_cells, people_within_cells
from geo.io.raster import read_raster
from layers import access, networks
from layers.region import Region

log = logging.getLogger(__name__)

PEOPLE = re.compile(r"^people_within_(\d+(?:\.\d+)?)_min$")


class Clock:
    """Seconds per named step (``times``)."""

    def __init__(self):
        self.times: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = round(self.times.get(name, 0.0) + now - self._t, 2)
        self._t = now


def optional_layer(missing: dict, what: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, or None when its file is missing from the data folder (noted in ``missing``)."""
    try:
        return fn(*args, **kwargs)
    except InputError as exc:
        if not exc.problem.startswith("file not found"):
            raise
        missing[what] = f"{what} layer not given ({exc})"
        log.warning("%s layer not available: %s", what, exc)
        return None


def town_points(region: Region, classes) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Urban places (all urban classes) and the towns used as targets (EPSG:4326)."""
    from layers.urban import urban_areas

    places = urban_areas(region)
    places = places[places["kind"] == "place"].reset_index(drop=True)
    towns = places[places["place_class"].isin(list(classes))].reset_index(drop=True)
    return places, towns


@dataclass
class SitingContext:
    """Inputs of the criteria of one run (metric CRS ``region.metric_crs`` unless said).

    ``plan`` is the :class:`layers.siting.options.SitingPlan`; ``needed`` the
    criteria measured; ``net`` the road networks; ``router`` /
    ``extra_targets`` a scenario's network and its corridor targets (None
    without one); ``user_layers`` the layers given by file (EPSG as read);
    ``population`` an ``(array, profile)`` passed in, else read on first use.
    """

    region: Region
    grid: Grid
    plan: object
    needed: list
    net: networks.Networks
    router: object = None
    extra_targets: dict | None = None
    user_layers: dict = field(default_factory=dict)
    population_given: tuple | None = None
    clock: Clock = field(default_factory=Clock)
    missing_layers: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ layers (read once)

    @cached_property
    def parks_layer(self) -> gpd.GeoDataFrame | None:
        """Existing parks (EPSG:4326), or None when the region's file is missing."""
        from layers.parks import industrial_parks
        from layers.shared import parks_key, shared

        file = self.plan.options.parks_file

        def read():     # the region's parks as the other analyses of this region read them (layers.shared), once
            if "parks" in self.region.config or file is not None:
                return shared(self.region, parks_key(file, None), lambda: industrial_parks(self.region, parks_file=file))
            return industrial_parks(self.region, parks_file=file)

        return optional_layer(self.missing_layers, "industrial parks", read)

    @cached_property
    def parks(self) -> gpd.GeoDataFrame | None:
        """Parks as circles of their area in the metric CRS (``_centre``, ``_radius`` m, ``_area_assumed``)."""
        from layers.siting.exclusions import _park_shapes

        layer = self.parks_layer
        return None if layer is None else _park_shapes(layer, self.grid.crs, float(self.plan.exclusions["park_default_area_ha"]))

    @cached_property
    def _places_towns(self):
        found = optional_layer(self.missing_layers, "urban places", town_points, self.region, self.plan.grid["town_classes"])
        return found if found is not None else (None, None)

    @property
    def towns(self) -> gpd.GeoDataFrame | None:
        """Cities and towns used as ``minutes_to_town`` targets (EPSG:4326)."""
        return self._places_towns[1]

    @cached_property
    def places(self) -> gpd.GeoDataFrame | None:
        """Urban cores as circles per place class in the metric CRS (``_centre``, ``_radius`` m)."""
        from layers.siting.exclusions import _place_shapes

        places = self._places_towns[0]
        return None if places is None else _place_shapes(places, self.grid.crs, self.plan.exclusions["urban_radius_m"])

    @cached_property
    def water(self) -> gpd.GeoDataFrame | None:
        """Water areas and waterways (EPSG:4326), or None."""
        from layers.water import water

        return optional_layer(self.missing_layers, "water", water, self.region)

    @cached_property
    def water_metric(self) -> gpd.GeoDataFrame | None:
        """:attr:`water` in the grid's CRS (reprojected once, for the exclusions and the site table), or None."""
        return None if self.water is None else to_metric(self.water, self.grid.crs)

    @cached_property
    def road_lines(self) -> np.ndarray:
        """The road edges' lines in the grid's CRS, aligned with ``net.road_edges``: the network's own metric copy
        (:attr:`layers.networks.Networks.road_lines`) when the network is in that CRS, else reprojected once."""
        if CRS.from_user_input(self.net.road.crs) == CRS.from_user_input(self.grid.crs):
            return np.asarray(self.net.road_lines, dtype=object)
        return np.asarray(to_metric(self.net.road_edges.geometry, self.grid.crs).values, dtype=object)

    @cached_property
    def dem(self) -> tuple | None:
        """``(elevations, raster profile)``, or None (not asked for, or missing)."""
        opts = self.plan.options
        if not opts.use_dem:
            return None
        if opts.dem_file:
            return read_raster(opts.dem_file)
        if self.region.config.get("dem"):
            return optional_layer(self.missing_layers, "DEM", lambda: read_raster(self.region.path("dem")))
        return None

    @cached_property
    def population(self) -> tuple | None:
        """``(people per raster cell, raster profile)``, or None."""
        if self.population_given is not None:
            return self.population_given
        from layers.population import population_raster

        pop = optional_layer(self.missing_layers, "population", population_raster, self.region)
        return None if pop is None else pop[:2]

    @cached_property
    def barriers(self):
        """Roads, railways, stations, settlements … that cut the land into parcels (:mod:`layers.siting.barriers`)."""
        from layers.siting.barriers import build_barriers

        g = self.grid
        frame = shapely.box(g.x0, g.y0 - g.nrows * g.cell_m, g.x0 + g.ncols * g.cell_m, g.y0)
        out = build_barriers(self.region, self.net, g.crs, self.plan.exclusions, frame=frame, road_lines=self.road_lines)
        self.clock.lap("barriers")
        return out

    def load_layers(self) -> None:
        """Read every region layer now (so the summary lists all that are missing, whatever the profile)."""
        for name in ("parks", "places", "water", "dem", "population"):
            getattr(self, name)

    # ------------------------------------------------------------------ helpers for criteria

    def put(self, flat: np.ndarray) -> np.ndarray:
        """A grid array from values of the cells inside the region (NaN elsewhere)."""
        out = np.full(self.grid.shape, np.nan)
        out[self.grid.inside] = flat
        return out

    def unknown(self) -> np.ndarray:
        """A grid array of NaN (a criterion that cannot be measured: return it with the reason)."""
        return np.full(self.grid.shape, np.nan)

    # ------------------------------------------------------------------ road network (shared by the minutes criteria)

    @cached_property
    def _targets(self):
        """The road router with the needed destinations attached, the target node sets and why some are missing."""
        region, net = self.region, self.net
        cfg = access.settings_of(region)
        needed = self.needed
        base = self.router or net.road
        from layers.siting.criteria import corridor_groups

        groups = {g: m for g, m in corridor_groups(region).items() if f"minutes_to_{g}" in needed}
        corridor_ids = [n.removeprefix("minutes_to_") for n in needed
                        if n.startswith("minutes_to_") and n.removeprefix("minutes_to_") in region.corridors]
        members = list(dict.fromkeys([*corridor_ids, *(c for m in groups.values() for c in m)]))
        targets, missing = access.corridor_targets(net, members, base, self.extra_targets, specs=region.corridors)
        for group, ids in groups.items():
            parts = [np.asarray(targets[c], dtype=np.int64).ravel() for c in ids if c in targets]
            nodes = np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)
            targets[group] = nodes
            absent = [c for c in ids if c not in targets or not np.asarray(targets[c]).size]
            if absent:
                why = "; ".join(str(missing.get(c, f"{c}: not in the network")) for c in absent)
                if nodes.size:
                    self.facts.setdefault("corridor_groups", {})[group] = f"measured without {', '.join(absent)} ({why})"
                else:
                    missing[group] = why
        for key in list(targets):
            if key not in corridor_ids and key not in groups:
                targets.pop(key)
        dest = region.destinations().set_index("key")
        dest_keys = [n.removeprefix("minutes_to_") for n in needed if n.removeprefix("minutes_to_") in dest.index]
        points = []
        if dest_keys:
            points.append(dest.loc[dest_keys].reset_index()[["key", "geometry"]])
        if "minutes_to_town" in needed:
            towns = self.towns
            if towns is not None and len(towns):
                points.append(gpd.GeoDataFrame({"key": ["town"] * len(towns)}, geometry=towns.geometry.values, crs=towns.crs))
            else:
                missing["town"] = "no city or town among the OSM places"
                targets["town"] = np.empty(0, np.int64)
        routed = base
        if points:
            pts = pd.concat(points, ignore_index=True)
            pts = gpd.GeoDataFrame(pts, geometry="geometry", crs="EPSG:4326")
            routed, idx, _, why = net.attach(base, pts, cfg["destination_max_snap_m"], cfg["access_speed_kmh"])
            for key in dict.fromkeys(pts["key"]):
                sel = (pts["key"] == key).to_numpy()
                ok = sel & pd.isna(pd.Series(why)).to_numpy()
                targets[key] = idx[ok]
                if not ok.any():
                    missing[key] = f"{key}: " + str(next(w for w, s in zip(why, sel) if s))
            if "town" in targets:
                self.facts["towns_used"] = len(targets["town"])
        self.clock.lap("targets")
        return routed, targets, missing

    @cached_property
    def cells(self):
        """Cell centres (inside the region) joined to the road network: a :class:`geo.siting.grid.CellLinks`."""
        cfg = access.settings_of(self.region)
        cx, cy = self.grid.centres()
        inside = self.grid.inside
        links = self._link(cx[inside], cy[inside])
        connected = ~np.isnan(links.snap_m)
        self.facts["cells_connected"] = int(connected.sum())
        self.facts["cells_not_connected"] = int((~connected).sum())
        self.facts["not_connected_reason"] = f"cell centre more than {cfg['max_snap_m']:,.0f} m from the road network"
        self.clock.lap("attach cells")
        return links

    def _link(self, x, y):
        routed = self._targets[0]
        cfg = access.settings_of(self.region)
        e = self.net.road_edges
        # the edges a point may join, as for parks (layers.networks.Networks.entry_edges): never an expressway or its
        # ramps mid-way, only the network's largest component
        ok = self.net.entry_edges.joinable
        return link_cells(routed, self.net.road_lines[ok], e["u"].to_numpy()[ok], e["v"].to_numpy()[ok],
                          e["travel_time_s"].to_numpy()[ok], x, y, max_snap_m=cfg["max_snap_m"],
                          access_speed_kmh=cfg["access_speed_kmh"])

    @cached_property
    def _minutes(self) -> tuple[dict, dict]:
        """Minutes from every cell to each target: one multi-source search per target on the network, then per cell
        the better of its two edge ends (:meth:`geo.siting.grid.CellLinks.seconds_from_nodes`)."""
        routed, targets, missing = self._targets
        links = self.cells
        table = {}
        for key, nodes in targets.items():
            nodes = np.asarray(nodes, dtype=np.int64).ravel()
            if nodes.size == 0:
                continue
            node_s, _ = routed.nearest_facility(nodes, towards=True)
            table[key] = links.seconds_from_nodes(node_s) / 60.0
        self.clock.lap("minutes to targets")
        return table, missing

    def minutes_to(self, key: str) -> tuple[np.ndarray, str | None]:
        """Minutes by road from every cell to the nearest node of target ``key`` (a corridor, destination or ``town``)."""
        table, missing = self._minutes
        if key not in table:
            if key in missing:
                return self.unknown(), missing[key].replace("add it with 'plan.py scenario'",
                                                            "add it with a scenario file ('plan.py site --scenario FILE')")
            return self.unknown(), f"{key} is not among the targets measured"
        return self.put(table[key]), None

    # ------------------------------------------------------------------ labour (one search per population node, all minutes at once)

    @cached_property
    def labour_factor(self) -> int:
        """Cells per side of the block labour is measured on (``siting: labour_cell_m``; 1 = every cell)."""
        want = float(self.plan.grid.get("labour_cell_m") or self.grid.cell_m)
        return max(1, int(round(want / self.grid.cell_m)))

    @cached_property
    def _people(self) -> dict[float, np.ndarray] | None:
        minutes = sorted({float(PEOPLE.match(n).group(1)) for n in self.needed if PEOPLE.match(n)})
        if self.population is None or not minutes:
            return None
        cfg = access.settings_of(self.region)
        # the roads (with a scenario's) without the destination points joined for the minutes criteria: a point on an
        # edge is no shorter way between road nodes, and searching around it cost a third of the searches' time
        roads = self.router or self.net.road
        array, profile = self.population
        rows, cols = np.nonzero(np.isfinite(array) & (array > 0))
        lon, lat = profile["transform"] * (cols + 0.5, rows + 0.5)
        pts = to_metric(gpd.GeoSeries.from_xy(lon, lat, crs=profile["crs"]), self.grid.crs)
        within = roads.largest_component() & (np.arange(roads.n) < self.net.road.n)
        catch = Catchment(roads, pts.x.to_numpy(), pts.y.to_numpy(), array[rows, cols], max_snap_m=cfg["max_snap_m"],
                          access_speed_kmh=cfg["access_speed_kmh"], within=within)
        block, bx, by = labour_blocks(self.grid, self.labour_factor)
        links = self.cells if self.labour_factor == 1 else self._link(bx, by)
        people = people_within_cells(roads, catch, links.links(), len(bx), minutes, workers=self.plan.options.workers,
                                     progress=settings.progress)
        k = self.labour_factor
        self.facts["labour"] = {
            "method": "exact reverse search: one limited search per population node (Catchment semantics)",
            "measured_on_m": self.grid.cell_m * k,
            "resolution_note": None if k == 1 else (
                f"measured at the centres of {self.grid.cell_m * k:g} m blocks ({k}×{k} cells) and given to every cell "
                f"of the block (siting: labour_cell_m); the population itself is a 1 km raster"),
            "population_cells_attached": len(catch.node),
            "population_source_nodes": len(np.unique(catch.node)),
            "people_attached": round(float(catch.people.sum())),
            "people_not_attached": round(catch.unattached_people),
            "not_attached_reason": f"population cell centre more than {cfg['max_snap_m']:,.0f} m from a network node",
        }
        self.clock.lap("labour catchments")
        return {m: self.put(np.round(people[block, j])) for j, m in enumerate(minutes)}

    def people_within(self, minutes: float) -> tuple[np.ndarray, str | None]:
        """People reachable by road within ``minutes`` of every cell (exact; NaN with the reason when unknown)."""
        people = self._people
        if people is None:
            return self.unknown(), self.missing_layers.get("population", "no population raster given")
        return people[float(minutes)], None
