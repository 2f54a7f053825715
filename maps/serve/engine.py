"""The engine behind ``plan.py serve``: every call the web app makes into ``layers``/``geo``, in one file.

:meth:`Engine.load` reads the region once — the road network (with its
routing hierarchy, built or read from the cache before the server says it is
ready), the placed parks, the population grid, the 2025 communes where the
region has them — and prepares everything that does not depend on a sketch:
where every park, commune, destination and populated cell joins the base
network, the corridor targets, the labour catchment cells, the "before"
figures. :meth:`Engine.evaluate` then answers a sketch (:class:`maps.serve.sketch.Sketch`):

1. the planned roads are added with :func:`layers.scenario.scenario_network`
   (:func:`geo.routing.scenario.add_planned_roads`: the same snapping, links
   and corridor recognition as ``plan.py scenario``);
2. parks and communes are measured as the access report measures them
   (:func:`layers.access.access_report`: destinations and origins joined to the
   nearest suitable edge of the *base* network, :func:`geo.routing.access.minutes_to_targets`,
   :class:`geo.routing.access.Catchment` for people within 30/45 minutes) — the
   same numbers, tested against ``access_report`` itself, without redoing
   the base-only work on every request;
3. the minutes-saved grid: every populated WorldPop cell of the region,
   joined to its nearest road edge as a park is, and its minutes to every
   target before and after.

Nothing here reads or writes a file after :meth:`Engine.load`. Requests are
answered one at a time (:attr:`Engine.lock`): the routers keep work arrays
and lazily built indexes that two threads must not share, and one evaluation
takes a fraction of a second, so a queue is both safe and fast enough —
concurrent requests get exactly the answers they would get alone.

When the ``bgplan`` library API lands, this is the one file of the web app
to change.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo.crs import to_metric
from geo.errors import InputError
from geo.routing.access import Catchment, minutes_to_targets
from geo.routing.scenario import CONTROLLED_ACCESS
from layers import access, networks
from layers.region import Region
from maps.serve.sketch import Sketch, SketchError, SketchLimits, SketchRules

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class EngineOptions:
    """What the server loads: the region, its data folder, the network options (as on the command line)."""

    region: str = "bac-giang"
    data_dir: Path | None = None
    boundaries: str = "open"
    network: networks.NetworkOptions = field(default_factory=networks.NetworkOptions)
    parks_file: Path | None = None
    page: bool = True                  # build the planner map page (the layers) too
    limits: SketchLimits = SketchLimits()


@dataclass
class _Joined:
    """Points joined to the base network's suitable edges once (as :func:`geo.routing.access.attach_points` joins them):
    the edge's ends, the seconds from the point to each (access leg included), the leg's length (m)."""

    u: np.ndarray
    v: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    ok: np.ndarray
    snap_m: np.ndarray

    def minutes(self, node_minutes: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Minutes (points × targets) from each point: the faster way out through either end of its edge.
        ``node_minutes`` (nodes × targets) holds the minutes from the nodes ``position`` indexes into."""
        k = len(self.u)
        via_u = node_minutes[position[:k]] + self.to_u[:, None] / 60.0
        via_v = node_minutes[position[k:]] + self.to_v[:, None] / 60.0
        out = np.fmin(via_u, via_v)
        out[~self.ok] = np.nan
        return out


class Engine:
    """The region loaded once, answering sketches (see the module docstring)."""

    def __init__(self, options: EngineOptions):
        self.options = options
        self.lock = threading.Lock()
        self.ready = False
        self.region: Region | None = None
        self.net: networks.Networks | None = None
        self.page_layers = None

    # ------------------------------------------------------------------ loading
    def load(self) -> Engine:
        """Read and prepare everything (tens of seconds); then :attr:`ready` is True."""
        from layers import parks, population
        from layers.region import load_region

        started = time.perf_counter()
        o = self.options
        region = load_region(o.region, data_dir=o.data_dir, boundaries=o.boundaries)
        self.region = region
        self.cfg = access.settings_of(region)
        placed = parks.region_parks(region, parks_file=o.parks_file)
        self.parks = placed[placed.geometry.notna() & ~placed.geometry.is_empty].reset_index(drop=True)
        self.parks_summary = placed.attrs.get("summary") or {}
        net = networks.shared_networks(region, o.network)      # the region's networks, as every analysis shares them
        self.net = net
        self.cfg = access.settings_of(region, net.model)
        self.population = None
        if "population_raster" in region.config:
            array, profile, _ = population.population_raster(region)
            self.population = (array, profile)
        self._prepare_targets()
        self._prepare_origins()
        self._prepare_grid()
        self.rules = self._sketch_rules()
        net.road.hierarchy()                     # built (or read from the disk cache) now, never during a request
        self.before = self._measure(net.road, {})
        self.evaluate(None)                      # compiles every kernel a request uses
        if o.page:
            from layers.build import build_layers

            self.page_layers = build_layers(region, network=o.network.network)
        self.ready = True
        log.info("serve: %s loaded in %.1f s (%d parks, %d communes, %d grid cells)", region.id,
                 time.perf_counter() - started, len(self.parks), len(self.communes), len(self.cells))
        return self

    def _prepare_targets(self) -> None:
        region, net, cfg = self.region, self.net, self.cfg
        self.corridor_targets, self.corridor_missing = access.corridor_targets(net, cfg["corridors"], net.road,
                                                                              specs=region.corridors)
        dest = region.destinations().set_index("key")
        unknown = [k for k in cfg["destinations"] if k not in dest.index]
        if unknown:
            raise InputError(region.source_file, f"access names unknown destination(s): {', '.join(unknown)}")
        self.destinations = to_metric(dest.loc[list(cfg["destinations"])], region.metric_crs)
        labels = {}
        for key in cfg["corridors"]:
            spec = region.corridors.get(key, {})
            labels[key] = (spec.get("name_vi", key), spec.get("name_en", key))
        for key, row in dest.iterrows():
            labels[key] = (row["name_vi"], row["name_en"])
        self.target_labels = labels

    def _prepare_origins(self) -> None:
        """Parks and (where the region has them) the 2025 communes' points: the origins of every evaluation."""
        region = self.region
        self.communes = gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4326")
        self.communes_note = "the region defines no 2025 communes (e.g. --region bac-ninh-2025 does)"
        if "communes" in region.config:
            from geo.io.vector import read_vector
            from layers.communes import commune_report

            report = commune_report(region, places=read_vector(region.path("places")))
            placed = report[report.geometry.notna()]
            placed = placed[placed.geometry.geom_type == "Point"]
            self.communes = gpd.GeoDataFrame({"code": placed["code"].astype(int).to_numpy(), "name": placed["name_vi"].to_numpy()},
                                             geometry=placed.geometry.values, crs="EPSG:4326")
            self.communes_note = (f"{len(self.communes)} of {len(report)} 2025 communes have a point (open point of the unit "
                                  "or an OSM place): minutes from that point, a commune-level figure")
        keep = [c for c in ("name", "kind", "district", "position_precision", "position_error_m") if c in self.parks]
        self.origins = to_metric(pd.concat([self.parks[keep + ["geometry"]], self.communes[["name", "geometry"]]],
                                           ignore_index=True).set_crs("EPSG:4326", allow_override=True), self.region.metric_crs)
        self.parks_metric = to_metric(self.parks[["name", "geometry"]], self.region.metric_crs)
        xy = self.origins.geometry.representative_point()
        self._origin_join = self._join(xy.x.to_numpy(), xy.y.to_numpy(), self.cfg["max_snap_m"])

    def _prepare_grid(self) -> None:
        """Populated cells of the region (WorldPop), joined to the base network once, and the labour catchment."""
        self.cells = gpd.GeoDataFrame({"people": []}, geometry=[], crs="EPSG:4326")
        self.catchment = None
        self.cell_deg = (0.0, 0.0)
        self._cell_join = self._join(np.empty(0), np.empty(0), self.cfg["max_snap_m"])
        self._nodes_of()
        if self.population is None:
            return
        from layers.boundaries import region_polygon
        from layers.commune_access import population_cells

        array, profile = self.population
        self.cells = population_cells(self.population, region_polygon(self.region))
        transform = profile["transform"]
        self.cell_deg = (abs(float(transform.a)), abs(float(transform.e)))
        metric = to_metric(self.cells, self.region.metric_crs).geometry
        self._cell_join = self._join(metric.x.to_numpy(), metric.y.to_numpy(), self.cfg["max_snap_m"])
        self._nodes_of()
        # the labour catchment's cells, joined as the access report joins them (layers.access: every populated cell)
        self.catchment = access._catchment(self.net.road, array, profile, self.region, self.cfg, edges=self.net.entry_edges)

    def _nodes_of(self) -> None:
        """The edge ends every origin and grid cell goes out through: one routing query per evaluation answers all."""
        o, c = self._origin_join, self._cell_join
        self._nodes, position = np.unique(np.r_[o.u, o.v, c.u, c.v], return_inverse=True)
        n = 2 * len(o.u)
        self._origin_pos, self._cell_pos = position[:n], position[n:]

    def _join(self, x, y, max_snap_m: float) -> _Joined:
        edges = self.net.entry_edges
        pos, dist, share = edges.nearest(x, y, max_snap_m)
        ok = pos >= 0
        p = np.where(ok, pos, 0)
        to_u, to_v = edges.split_times(p, np.where(ok, share, 0.0))
        leg = np.where(ok, dist, 0.0) / (self.cfg["access_speed_kmh"] / 3.6)
        return _Joined(edges.u[p], edges.v[p], to_u + leg, to_v + leg, ok, np.where(ok, dist, np.nan))

    def _sketch_rules(self) -> SketchRules:
        return sketch_rules(self.region, self.net.model, self.options.limits)

    # ------------------------------------------------------------------ answers
    def describe(self) -> dict:
        """What the page needs: region, targets, road classes with their default speeds, limits, tolerance."""
        region = self.region
        tuning = {k: float(v) for k, v in (region.config.get("scenario") or {}).items()}
        west, south, east, north = self.rules.window.bounds
        return {"region": region.id, "name_vi": region.config.get("name_vi"), "name_en": region.config.get("name_en"),
                "network": self.net.network_name, "network_note": self.net.note,
                "window": [west, south, east, north],
                "targets": [{"key": k, "name_vi": v[0], "name_en": v[1]} for k, v in self.target_labels.items()],
                "road_classes": [{"key": k, "design_speed_kmh": s, "controlled_access": k in CONTROLLED_ACCESS,
                                  "basis": self.rules.speed_basis.get(k)} for k, s in self.rules.speeds.items()],
                "access_tolerance_m": tuning.get("access_tolerance_m", 1000.0),
                "catchment_minutes": [float(m) for m in self.cfg["catchment_minutes"]],
                "limits": {"max_roads": self.rules.limits.max_roads, "max_points": self.rules.limits.max_points,
                           "max_bytes": self.rules.limits.max_bytes},
                "parks": len(self.parks), "communes": len(self.communes)}

    def evaluate(self, sketch: Sketch | None) -> dict:
        """Before / after / change for the sketch's roads (None: the base network against itself)."""
        started = time.perf_counter()
        with self.lock:
            if sketch is None:
                router, report, extra = self.net.road, None, {}
            else:
                router, report, extra = self._add(sketch)
            after = self._measure(router, extra)
        before = self.before if hasattr(self, "before") else after
        out = self._compare(before, after, report, sketch)
        out["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return out

    def isochrones(self, sketch: Sketch | None, origin, minutes=(30.0,)) -> dict:
        """Isochrone polygons from ``origin`` (shapely Point, lon/lat) before and after the sketch (GeoJSON, EPSG:4326)."""
        from geo.routing.isochrones import isochrones

        point = to_metric(gpd.GeoDataFrame({"name": ["origin"]}, geometry=[origin], crs="EPSG:4326"), self.region.metric_crs)
        out = {}
        with self.lock:
            routers = [("before", self.net.road)]
            if sketch is not None and len(sketch.roads):
                routers.append(("after", self._add(sketch)[0]))
            for key, router in routers:
                routed, idx, snap, why = self.net.attach(router, point, self.cfg["max_snap_m"], self.cfg["access_speed_kmh"])
                if why[0] is not None:
                    raise SketchError(f"origin {origin.x:.6f}, {origin.y:.6f}: {why[0]}")
                iso = isochrones(routed, [idx[0]], thresholds_min=tuple(minutes), edge_geometry=self.net.road_lines,
                                 method="contour")
                out[key] = _features(iso[["minutes", "area_km2", "geometry"]].assign(scenario=key), decimals=5)
                out["snap_m"] = round(float(snap[0]), 1)
        return out

    # ------------------------------------------------------------------ internals
    def _add(self, sketch: Sketch):
        from layers.scenario import scenario_network

        try:
            return scenario_network(self.region, self.net, sketch.roads, sketch.interchanges, source="sketch")
        except InputError as exc:
            raise SketchError(exc.problem) from None

    def _measure(self, router, extra: dict) -> dict:
        """Minutes from every origin and grid cell to every target, and people within the catchment minutes of each park:
        the access report's measures on ``router`` with the extra targets ``extra``.

        Origins and cells are not added to the router: each goes out through one of the two ends of the base edge it
        joins, so one query from those ends answers them all (what :func:`geo.routing.access.attach_points` joins is
        exactly that on an undirected network; a directed one takes the attach path for the origins)."""
        cfg, net = self.cfg, self.net
        targets = dict(self.corridor_targets)
        missing = dict(self.corridor_missing)
        for key, idx in extra.items():       # a scenario never replaces a corridor: the nearest of both counts
            targets[key] = np.union1d(targets.get(key, np.empty(0, np.int64)), np.asarray(idx, dtype=np.int64))
            missing.pop(key, None)
        routed, d_idx, _, d_why = net.attach(router, self.destinations, cfg["destination_max_snap_m"], cfg["access_speed_kmh"])
        for key, i, why in zip(self.destinations.index, d_idx, d_why):
            targets[key] = np.array([i]) if why is None else np.empty(0, np.int64)
            if why is not None:
                missing[key] = f"{key}: {why}"
        keys = [k for k in targets if targets[k].size]
        entries = np.unique(np.concatenate([np.asarray(v, np.int64) for v in extra.values()])) if extra else np.empty(0, np.int64)
        groups = [targets[k] for k in keys] + ([entries] if entries.size else [])
        node_minutes = routed.time_to_nearest(self._nodes, groups) / 60.0 if groups else np.empty((len(self._nodes), 0))
        to_entry = self._origin_join.minutes(node_minutes[:, len(keys):], self._origin_pos) if entries.size else None
        node_minutes = node_minutes[:, :len(keys)]
        if routed.directed:
            routed_o, o_idx, _, o_why = net.attach(routed, self.origins, cfg["max_snap_m"], cfg["access_speed_kmh"])
            exact = minutes_to_targets(routed_o, o_idx, {k: targets[k] for k in keys}, origin_reason=o_why)
            origin_minutes = exact[[f"minutes_to_{k}" for k in keys]].to_numpy(float)
        else:
            origin_minutes = self._origin_join.minutes(node_minutes, self._origin_pos)
        table = self._table(origin_minutes, keys, list(targets), missing)
        if self.catchment is not None and len(self.parks):
            people = self._people(routed, None if to_entry is None else to_entry[:len(self.parks), 0])
            for column, values in people.items():
                table[column] = np.r_[values, np.full(len(table) - len(values), np.nan)]
        grid = self._cell_join.minutes(node_minutes, self._cell_pos) if len(self.cells) else None
        return {"table": table, "targets": list(targets), "grid": grid, "grid_keys": keys, "missing": missing}

    def _people(self, routed, to_entry: np.ndarray | None) -> dict[str, np.ndarray]:
        """People within each catchment time of each park (:class:`geo.routing.access.Catchment`, as the access report).

        With ``to_entry`` (minutes from each park to the nearest place where the planned roads can be entered), a park
        that cannot reach the planned roads within the longest catchment time keeps its figures from before: every new
        path starts on the base network up to an entry, so nothing within that time can change (exact, and a fraction
        of the searches)."""
        cfg = self.cfg
        minutes = [float(m) for m in cfg["catchment_minutes"]]
        columns = [f"people_within_{m:g}_min" for m in minutes]
        redo = np.ones(len(self.parks), bool) if to_entry is None else ~(to_entry > max(minutes) + 1e-9)
        out = {c: self.before["table"][c].to_numpy(float)[:len(self.parks)].copy() for c in columns} if to_entry is not None \
            else {c: np.full(len(self.parks), np.nan) for c in columns}
        if redo.any():
            with_parks, p_idx, p_snap, _ = self.net.attach(routed, self.parks_metric.iloc[np.flatnonzero(redo)],
                                                            cfg["max_snap_m"], cfg["access_speed_kmh"])
            catch = copy.copy(self.catchment)     # the base cells' joins, on this router (base nodes keep their indexes)
            catch.router = with_parks
            people = catch.people_within(np.where(np.isnan(p_snap), -1, p_idx), minutes)
            for j, c in enumerate(columns):
                out[c][redo] = np.round(people[:, j])
        return out

    def _table(self, origin_minutes: np.ndarray, keys: list[str], names: list[str], missing: dict) -> pd.DataFrame:
        """``snap_m``, ``minutes_to_<target>`` and ``reason_<target>`` per origin, worded as
        :func:`geo.routing.access.minutes_to_targets` words them."""
        join = self._origin_join
        far = f"more than {self.cfg['max_snap_m']:,.0f} m from the road network"
        out = {"snap_m": join.snap_m}
        for name in names:
            if name in keys:
                values = origin_minutes[:, keys.index(name)]
                reason = np.where(~join.ok, far, np.where(np.isnan(values), f"{name} unreachable (different network component)", None))
            else:
                values = np.full(len(join.ok), np.nan)
                reason = np.where(~join.ok, far, missing.get(name, f"{name}: no location in the network"))
            out[f"minutes_to_{name}"] = values
            out[f"reason_{name}"] = reason.astype(object)
        return pd.DataFrame(out)

    def _compare(self, before: dict, after: dict, report, sketch) -> dict:
        """The JSON answer: parks, communes, grid, roads and the summary (see :mod:`maps.serve.app`)."""
        from maps.serve.answer import answer

        return answer(self, before, after, report, sketch)


def sketch_rules(region: Region, model, limits: SketchLimits = SketchLimits()) -> SketchRules:
    """What a sketch may hold in ``region``: its window (outline + ``window_buffer_m``), the road classes of the speed
    model ``model`` (its default class for unlabelled edges left out) with the design speed each gets when none is
    given — the speed model's design speed for planned roads (its ``planned_roads`` section, as ``plan.py scenario``)
    where it has one, else the model's rural operating speed of the class."""
    from layers.boundaries import region_window

    speeds, basis = {}, {}
    source = Path(str(model.source)).name if model.source else "of the region"
    planned = networks.planned_road_speeds(model)
    for name in ("expressway", *[c for c in model.classes if c not in ("expressway", model.default_class)]):
        if name in planned:
            speeds[name] = planned[name][0]
            basis[name] = f"speed model {source}, planned roads (as plan.py scenario): {planned[name][1]}"
        else:
            speeds[name] = float(model.speed(name, "rural").kmh)
            basis[name] = f"speed model {source}: assumed rural operating speed of the class"
    buffer_km = float(region.config.get("window_buffer_m", 30000)) / 1000
    return SketchRules(window=region_window(region), window_name=f"{region.id} window (the region outline + {buffer_km:g} km)",
                       speeds=speeds, speed_basis=basis, limits=limits)


def sketch_from_points(region: Region, network: networks.NetworkOptions, points, road_class: str = "expressway",
                       design_speed_kmh: float | None = None, name: str | None = None) -> Sketch:
    """The sketch of ``plan.py scenario --from … --via … --to …``: one road through ``points`` ((lon, lat) pairs), checked
    like a sketch drawn on the map (same window, classes, speeds)."""
    from maps.serve.sketch import parse_sketch

    props = {"name": name or "Đường phác thảo (--from/--to)", "road_class": road_class, "design_speed_kmh": design_speed_kmh}
    body = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": props,
                                                        "geometry": {"type": "LineString", "coordinates": [list(p) for p in points]}}]}
    return parse_sketch(body, sketch_rules(region, network.speed_model(region)))


def _features(frame: gpd.GeoDataFrame, decimals: int = 5) -> dict:
    """A GeoDataFrame as a GeoJSON FeatureCollection (EPSG:4326, rounded)."""
    import json

    import shapely

    frame = frame.to_crs("EPSG:4326")
    frame = frame.set_geometry(shapely.transform(frame.geometry.values, lambda xy: xy.round(decimals)))
    return json.loads(frame.to_json(na="null", drop_id=True))
