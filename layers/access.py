"""Corridor access of industrial parks (or any points): the ``access`` report.
Parks carrying a position class (:mod:`layers.park_positions`) get
``position_precision``, ``position_error_m``, ``position_commune_level`` and
``position_note``: a time from a commune-level point is a district- or
network-scale figure, not the time from the park's gate.

For every park: minutes to the nearest CT.01 interchange, QL1A, QL37, Kép
station, Bắc Giang city, Hà Nội, Nội Bài, Lạch Huyện port and the Đồng Đăng
border (by road; and by road + rail through stations where configured), and
the labour catchment — people within 30 and 45 minutes (WorldPop 2020
rescaled to the 2019 census). What is measured is the ``access:`` section of
the region YAML.

Columns of :func:`access_report` (one row per park, EPSG:4326 points)
----------------------------------------------------------------------
name, kind, area_ha, district : from the parks layer.
snap_m : length of the access leg (m): the straight connector from the park
    to the nearest point of its nearest suitable road edge (not an
    expressway, which is entered at interchanges); the edge is split there.
access_leg_kmh : the connector's speed (``access.access_speed_kmh``, an assumption).
far_from_road : True when the access leg is longer than
    ``access.far_from_road_m`` (default 500 m): the point lies away from
    every road of the network, so its times rest on a long guessed leg.
minutes_to_<target> : minutes by road (access leg at ``access_speed_kmh`` +
    network time at the speed model's speeds); NaN when impossible, with
    ``reason_<target>`` saying why (not in the network, unreachable, too far).
minutes_to_<dest>_road_rail : fastest by road and rail (transfers included);
    ``rail_helps_<dest>`` True when that beats road alone by a minute or more.
minutes_by_truck_to_<dest> : for the logistics destinations (``access.truck_destinations``:
    port, border gate, Kép), the same trip by a tractor with semi-trailer: the
    region's truck speed model (legal limits by vehicle type, see
    ``vehicle_speed_models``) on the same network; only in a car-profile report.
people_within_<m>_min : people reachable within m minutes.
network_note : the data caveats every figure carries (2018 network, classes).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.routing.access import Catchment, RoadEdges, minutes_to_targets
from geo.crs import to_metric
from geo.routing.router import Router
from layers.networks import Networks, add_rail, bound_networks, vehicle_networks
from layers.networks.routers import require_networks
from layers.region import Region
from layers.shared import cached, seed

log = logging.getLogger(__name__)

DEFAULTS = {"corridors": [], "destinations": [], "road_rail_destinations": [], "truck_destinations": [],
            "catchment_minutes": [30, 45], "max_snap_m": 2000.0, "destination_max_snap_m": 6000.0, "access_speed_kmh": 20.0,
            "far_from_road_m": 500.0}


def settings_of(region: Region, model=None) -> dict:
    """The region's ``access:`` section with defaults filled in.

    A speed model with an ``access_leg: {kmh: …}`` section (a calibrated model
    written by ``plan.py calibrate``) sets ``access_speed_kmh`` instead of the region.
    """
    cfg = {**DEFAULTS, **(region.config.get("access") or {})}
    leg = (getattr(model, "raw", None) or {}).get("access_leg") if model is not None else None
    if isinstance(leg, dict) and leg.get("kmh") is not None:
        cfg["access_speed_kmh"] = float(leg["kmh"])
    return cfg


def corridor_targets(net: Networks, corridor_ids, router: Router | None = None, extra: dict | None = None,
                     specs: dict | None = None):
    """Node indexes of each corridor's edges; missing corridors with the reason.

    ``extra`` adds targets computed elsewhere (e.g. a scenario's interchanges) to
    those of the network: the nearest of both counts, so a scenario never
    replaces a corridor the network already has (a slower copy of CT.01 leaves
    "minutes to CT.01" as it was). ``specs`` (the region's corridors) words the reasons.
    """
    specs = specs or {}
    router = router or net.road
    targets, missing = {}, {}
    nodes_of = corridor_nodes(net)
    for cid in corridor_ids:
        node_ids = nodes_of.get(cid, np.empty(0, np.int64))
        idx = router.index_of(node_ids)
        targets[cid] = idx[idx >= 0]
        if targets[cid].size == 0:
            spec = specs.get(cid, {})
            note = f" ({spec['note']})" if spec.get("note") else ""
            missing[cid] = (f"{spec.get('name_vi', cid)} is not in the road network{note}; "
                            "add it with 'plan.py scenario' to measure access to it")
    for key, idx in (extra or {}).items():
        targets[key] = np.union1d(targets.get(key, np.empty(0, np.int64)), np.asarray(idx, dtype=np.int64))
        missing.pop(key, None)
    return targets, missing


def corridor_nodes(net: Networks) -> dict[str, np.ndarray]:
    """Node ids at the ends of each corridor's edges (``corridor_id`` of the road edges; ids joined by ";"), computed
    once per network."""
    if "corridor nodes" not in net.derived:
        e = net.road_edges
        ids = e["corridor_id"].to_numpy(dtype=object)
        on = np.array([isinstance(v, str) and v != "" for v in ids], dtype=bool)
        rows = [(cid, u, v) for value, u, v in zip(ids[on], e["u"].to_numpy()[on], e["v"].to_numpy()[on])
                for cid in value.split(";")]
        frame = pd.DataFrame(rows, columns=["corridor_id", "u", "v"])
        net.derived["corridor nodes"] = {str(cid): np.unique(np.r_[g["u"].to_numpy(), g["v"].to_numpy()])
                                         for cid, g in frame.groupby("corridor_id")}
    return net.derived["corridor nodes"]


def _with_destinations(region: Region, net: Networks, router: Router, keys, cfg):
    """Attach the named destinations; returns (router, targets, missing reasons)."""
    dest = region.destinations().set_index("key")
    unknown = [k for k in keys if k not in dest.index]
    if unknown:
        from geo.errors import InputError

        raise InputError(region.source_file, f"access names unknown destination(s): {', '.join(unknown)} (known: {', '.join(dest.index)})")
    if not keys:
        return router, {}, {}
    router, idx, _, why = net.attach(router, dest.loc[list(keys)], cfg["destination_max_snap_m"], cfg["access_speed_kmh"])
    targets = {k: (np.array([i]) if w is None else np.empty(0, np.int64)) for k, i, w in zip(keys, idx, why)}
    missing = {k: f"{k}: {w}" for k, w in zip(keys, why) if w is not None}
    return router, targets, missing


def access_report(region: Region, parks: gpd.GeoDataFrame, net: Networks, *, population=None,
                  router: Router | None = None, extra_targets: dict | None = None,
                  ranges: bool = True, rail: bool | None = None) -> gpd.GeoDataFrame:
    """The corridor access table for ``parks`` (see the module docstring).

    Arguments in the order every analysis of ``layers`` takes them: the region, the features the analysis is
    about, the networks (:class:`layers.networks.Networks`); the rest keyword-only. ``rail``: None (default) adds
    the road + rail columns when ``net`` has its road + rail router, True builds that router first (once, kept
    on ``net``) where the region has railways, False leaves them out.

    ``router`` replaces the road router (a scenario's network: the base
    network plus new nodes appended after the base nodes, so base targets
    stay valid); ``extra_targets`` adds target sets (e.g. the scenario's
    interchanges as ``ct01``). ``population`` is ``(array, profile)`` of
    people per cell. With ``ranges`` (and no ``router``), each road time also
    gets ``minutes_low_to_<target>`` / ``minutes_high_to_<target>``: the same measure with every
    assumed speed at the upper / lower bound stated in the speed model, so a
    planner sees how firm a figure is (equal where it rests on no assumption).
    """
    require_networks(net, "access_report(region, parks, net)")
    cfg = settings_of(region, net.model)
    base = router or net.road
    targets, missing = corridor_targets(net, cfg["corridors"], base, extra_targets, specs=region.corridors)
    routed, d_targets, d_missing = _with_destinations(region, net, base, cfg["destinations"], cfg)
    targets.update(d_targets)
    missing.update(d_missing)
    routed, origin_idx, snap_m, why = net.attach(routed, parks, cfg["max_snap_m"], cfg["access_speed_kmh"])
    table = minutes_to_targets(routed, origin_idx, targets, missing=missing, origin_reason=why)
    far = snap_m > float(cfg["far_from_road_m"])
    table.insert(0, "far_from_road", far)
    table.insert(0, "access_leg_kmh", np.where(np.isnan(snap_m), np.nan, float(cfg["access_speed_kmh"])))
    table.insert(0, "snap_m", snap_m)
    if rail and cfg["road_rail_destinations"] and router is None and "railways" in region.config:
        add_rail(region, net)
    if rail is not False and net.multimodal is not None and cfg["road_rail_destinations"] and router is None:
        mm, mm_targets, mm_missing = _with_destinations(region, net, net.multimodal, cfg["road_rail_destinations"], cfg)
        mm, mm_idx, _, mm_why = net.attach(mm, parks, cfg["max_snap_m"], cfg["access_speed_kmh"])
        by_rail = minutes_to_targets(mm, mm_idx, mm_targets, missing=mm_missing, origin_reason=mm_why)
        for key in cfg["road_rail_destinations"]:
            road_only = table[f"minutes_to_{key}"]
            table[f"minutes_to_{key}_road_rail"] = np.fmin(by_rail[f"minutes_to_{key}"], road_only)
            table[f"rail_helps_{key}"] = (road_only - by_rail[f"minutes_to_{key}"]) >= 1.0
    if population is not None:
        catch = _net_catchment(net, routed, population, region, cfg)
        minutes = [float(m) for m in cfg["catchment_minutes"]]
        people = catch.people_within(np.where(np.isnan(snap_m), -1, origin_idx), minutes)
        for j, m in enumerate(minutes):
            table[f"people_within_{m:g}_min"] = np.round(people[:, j])
    if ranges and router is None:
        for column, values in _truck_columns(region, net, parks, cfg).items():
            table[column] = values
    bounds = bound_networks(net) if (ranges and router is None) else None
    if bounds is not None:
        slow, fast = (access_report(region, parks, b, ranges=False, rail=False) for b in bounds)
        for key in list(targets):
            column = f"minutes_to_{key}"
            if column in table:
                table[f"minutes_low_to_{key}"] = np.fmin(fast[column].to_numpy(float), table[column].to_numpy(float))
                table[f"minutes_high_to_{key}"] = np.fmax(slow[column].to_numpy(float), table[column].to_numpy(float))
    keep = [c for c in ("name", "kind", "area_ha", "district") if c in parks.columns]
    out = gpd.GeoDataFrame(pd.concat([parks[keep].reset_index(drop=True), table], axis=1),
                           geometry=parks.geometry.reset_index(drop=True), crs=parks.crs)
    out["network"] = net.network_name
    out["network_note"] = net.note
    _add_precision(out, parks)
    out.attrs["summary"] = {
        "network": net.network_name,
        "origins": int(len(out)),
        "commune_level_origins": int(out["position_commune_level"].sum()) if "position_commune_level" in out else 0,
        "not_connected": int(out["snap_m"].isna().sum()),
        "far_from_road": {str(n): round(float(m)) for n, m, f in zip(out.get("name", out.index), out["snap_m"], out["far_from_road"]) if f},
        "far_from_road_m": float(cfg["far_from_road_m"]),
        "missing_targets": missing,
        "median_minutes": {c.removeprefix("minutes_to_"): round(float(out[c].median()), 1)
                           for c in out.columns if c.startswith("minutes_to_") and out[c].notna().any()},
        "ranges": None if bounds is None else "minutes_low_to_<target> / minutes_high_to_<target>: assumed speeds at the bounds of the speed model",
    }
    return out


def _add_precision(out: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> None:
    """Position precision of each origin (``position_precision``, ``position_error_m``, ``position_commune_level``,
    ``position_note``): a time from a commune-level position is the time from a point a few km from the park."""
    if "position_precision" not in parks:
        return
    from layers.park_positions import COMMUNE_LEVEL

    precision = parks["position_precision"].reset_index(drop=True)
    out["position_precision"] = precision
    out["position_error_m"] = pd.to_numeric(parks.get("position_error_m"), errors="coerce").reset_index(drop=True)
    out["position_commune_level"] = precision.isin(COMMUNE_LEVEL)
    out["position_note"] = np.where(out["position_commune_level"],
                                    "times from a commune-level point (about " + (out["position_error_m"] / 1000).round(1).astype(str)
                                    + " km from the park at most, by its class): district/network-scale figures, not the gate", "")


def _truck_columns(region: Region, net: Networks, parks: gpd.GeoDataFrame, cfg: dict) -> dict:
    """``minutes_by_truck_to_<dest>`` for ``access.truck_destinations``, on the same network with the region's truck
    speed model; nothing when the report is already for a truck or the region has no truck model."""
    trucks = [k for k in cfg["truck_destinations"] if k in cfg["destinations"]]
    if not trucks or getattr(net.model, "vehicle", "car") != "car" or \
            "truck" not in (region.config.get("vehicle_speed_models") or {}):
        return {}
    lorry = vehicle_networks(region, net, "truck")
    routed, targets, missing = _with_destinations(region, lorry, lorry.road, trucks, cfg)
    routed, idx, _, why = lorry.attach(routed, parks, cfg["max_snap_m"], cfg["access_speed_kmh"])
    table = minutes_to_targets(routed, idx, targets, missing=missing, origin_reason=why)
    return {f"minutes_by_truck_to_{k}": table[f"minutes_to_{k}"].to_numpy(float) for k in trucks}


def _catchment(router: Router, array, profile, region: Region, cfg, edges: RoadEdges | None = None,
               located=None) -> Catchment:
    """Population cells (pixel centres) joined to the road edges of the base network (``edges``; ``located``:
    where the cells joined edges with the same lines, see :class:`geo.routing.access.Catchment`)."""
    rows, cols = np.nonzero(np.isfinite(array) & (array > 0))
    transform = profile["transform"]
    lon, lat = transform * (cols + 0.5, rows + 0.5)
    pts = to_metric(gpd.GeoSeries.from_xy(lon, lat, crs=profile["crs"]), region.metric_crs)
    return Catchment(router, pts.x.to_numpy(), pts.y.to_numpy(), array[rows, cols],
                     max_snap_m=cfg["max_snap_m"], access_speed_kmh=cfg["access_speed_kmh"], edges=edges, located=located)


def _net_catchment(net: Networks, router: Router, population, region: Region, cfg) -> Catchment:
    """:func:`_catchment` on ``router`` (``net.road`` or a router made from it by adding nodes): the cells are
    joined to ``net.entry_edges`` once per network, population and settings (kept on ``net``), then reused by
    access, the scenario's before and after, and isochrones. The spatial search itself is shared by the
    region's networks whose joinable lines are the same (today's and the 2018 network: the roads opened
    since are expressways, which points do not join)."""
    array, profile = population
    key = ("catchment", float(cfg["max_snap_m"]), float(cfg["access_speed_kmh"]))
    kept = net.derived.get(key)
    if kept is None or kept[0] is not array:
        edges = net.entry_edges
        last = cached(region, ("cells located", key))     # (array, profile, edges, Located) of another network
        same = last is not None and last[0] is array and last[1] is profile and last[2].same_lines(edges)
        catch = _catchment(net.road, array, profile, region, cfg, edges=edges, located=last[3] if same else None)
        seed(region, ("cells located", key), (array, profile, edges, catch.located))
        kept = net.derived[key] = (array, catch)
    return kept[1].on(router)


def travel_time_matrix(region: Region, origins: gpd.GeoDataFrame, net: Networks, *,
                       destinations: gpd.GeoDataFrame | None = None, router: Router | None = None) -> pd.DataFrame:
    """Tidy origin × destination minutes by road: ``origin``, ``destination``, ``minutes``, ``reason``.

    ``destinations`` default to the region's key destinations (named by their key).
    Both sides are attached to their nearest road edge (origins within
    ``access.max_snap_m``, destinations within ``access.destination_max_snap_m``).
    One search per destination, so many origins (grid cells) stay cheap.
    """
    require_networks(net, "travel_time_matrix(region, origins, net)")
    if destinations is None:
        destinations = region.destinations().rename(columns={"key": "name"})
    cfg = settings_of(region, net.model)
    router = router or net.road
    routed, d_idx, _, d_why = net.attach(router, destinations, cfg["destination_max_snap_m"], cfg["access_speed_kmh"])
    routed, o_idx, o_snap, o_why = net.attach(routed, origins, cfg["max_snap_m"], cfg["access_speed_kmh"])
    names_o = _labels(origins)
    names_d = _labels(destinations)
    frames = []
    for j, (name, idx, why) in enumerate(zip(names_d, d_idx, d_why)):
        targets = {"d": [] if why is not None else [idx]}
        t = minutes_to_targets(routed, o_idx, targets, missing={"d": f"destination {why}"}, origin_reason=o_why)
        frames.append(pd.DataFrame({"origin": names_o, "destination": name, "minutes": t["minutes_to_d"],
                                    "origin_snap_m": o_snap, "reason": t["reason_d"]}))
    return pd.concat(frames, ignore_index=True)


def _labels(points: gpd.GeoDataFrame) -> list:
    for column in ("name", "key", "ten"):
        if column in points.columns:
            return points[column].astype(str).tolist()
    return [str(i) for i in points.index]


def isochrones_from(region: Region, points: gpd.GeoDataFrame, net: Networks, *, minutes=(15, 30, 45, 60),
                    population=None, router: Router | None = None) -> gpd.GeoDataFrame:
    """Isochrones (cumulative polygons within each threshold) from each point, with the people inside.

    Points join their nearest road edge (:meth:`Networks.attach`); the
    polygons follow the real edge shapes (:func:`geo.isochrones.isochrones`).
    Columns: ``name`` (of the point), ``minutes``, ``area_km2``, ``reason``
    (why a point has no polygon), geometry (EPSG:4326); with ``population``
    = (array, profile) also ``population`` (people of the 1-km cells whose
    centre lies inside the polygon — it undercounts, since the polygon is a
    150 m band along the reachable roads), ``population_added`` and
    ``people_within`` (people of the cells that reach the point within the
    time, access leg included — the catchment measure of the access report).
    """
    from geo.routing.isochrones import isochrones, population_within

    require_networks(net, "isochrones_from(region, points, net)")
    cfg = settings_of(region, net.model)
    routed, idx, _, why = net.attach(router or net.road, points, cfg["max_snap_m"], cfg["access_speed_kmh"])
    idx = np.where(pd.isna(pd.Series(why, dtype=object)).to_numpy(), idx, -1)
    iso = isochrones(routed, idx, thresholds_min=tuple(float(m) for m in minutes), edge_geometry=net.road_lines)
    names = _labels(points)
    iso.insert(0, "name", [names[i] for i in _row_of(iso["origin_index"].to_numpy(), idx)])
    if population is not None:
        array, profile = population
        iso = population_within(iso, array, profile)
        catch = _net_catchment(net, routed, population, region, cfg)
        people = catch.people_within(idx, minutes)
        row = _row_of(iso["origin_index"].to_numpy(), idx)
        column = {float(m): j for j, m in enumerate(minutes)}
        iso["people_within"] = [np.round(people[r, column[float(m)]]) for r, m in zip(row, iso["minutes"])]
    iso["network_note"] = net.note
    return iso


def _row_of(origin_index, idx) -> list[int]:
    """Row of the input point for each isochrone row (by origin node index; −1 rows keep their order)."""
    position = {int(v): i for i, v in enumerate(idx) if v >= 0}
    missing = iter(i for i, v in enumerate(idx) if v < 0)
    return [position[int(v)] if int(v) in position else next(missing) for v in origin_index]
