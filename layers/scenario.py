"""Planned-road scenarios: what a new corridor changes for every park.

A scenario file is any vector file (GeoJSON, GeoPackage, …, any CRS) whose
*line* features are the planned roads (columns ``name``, ``road_class``,
``design_speed_kmh``; optional ``status``, e.g. "indicative", and
``access_tolerance_m``, the longest link road in metres from an interchange to
the network, overriding the region's ``scenario`` setting) and whose
*point* features are the interchanges where they can be entered (a separate
points file may be given instead). The shipped example
``layers/scenarios/ct01-bac-giang-lang-son-indicative.geojson`` is an
indicative CT.01 line, labelled indicative everywhere it appears.

:func:`run_scenario` adds the roads to the region's road network
(:func:`geo.routing.scenario.add_planned_roads`), recomputes the corridor access
report (:func:`layers.access.access_report`) and returns before / after /
change per park. A planned road whose name matches a configured corridor
(e.g. "Cao tốc … (CT.01)" → ``ct01``) becomes that corridor's target:
"minutes to the nearest CT.01 interchange" goes from unknown to a number.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.errors import InputError
from geo.routing.roadref import match_corridor
from geo.routing.scenario import add_planned_roads, compare
from geo.io.vector import read_vector
from layers import access, networks
from layers.networks.routers import require_networks
from layers.region import Region

log = logging.getLogger(__name__)

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"


@dataclass
class ScenarioResult:
    """Before, after and the change, plus the planned roads as added."""

    before: gpd.GeoDataFrame
    after: gpd.GeoDataFrame
    change: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    interchanges: gpd.GeoDataFrame


def read_scenario(path, interchanges_path=None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Planned roads (lines) and interchanges (points) of a scenario file, EPSG:4326."""
    features = read_vector(path).to_crs("EPSG:4326")
    kinds = features.geometry.geom_type
    lines = features[kinds.isin(["LineString", "MultiLineString"])].reset_index(drop=True)
    if lines.empty:
        raise InputError(path, "has no line features (the planned roads)")
    if interchanges_path is not None:
        points = read_vector(interchanges_path).to_crs("EPSG:4326")
        points = points[points.geometry.geom_type == "Point"]
    else:
        points = features[kinds == "Point"]
    return lines, points.reset_index(drop=True)


def scenario_tuning(region: Region, lines: gpd.GeoDataFrame, model=None) -> dict:
    """Keyword options of :func:`geo.routing.scenario.add_planned_roads` (metres, km/h, seconds).

    The region's ``scenario`` section, with ``access_tolerance_m`` (m) taken
    from the file's lines when they give it: a file may widen the link search
    where the network has no road near its interchanges (reason in the file);
    ``default_speeds``: the design speed by class of a line that gives none, from
    the speed model ``model`` (its ``planned_roads`` section; default the region's).
    """
    tuning = {k: float(v) for k, v in (region.config.get("scenario") or {}).items()}
    if "access_tolerance_m" in lines and lines["access_tolerance_m"].notna().any():
        tuning["access_tolerance_m"] = float(lines["access_tolerance_m"].max())
    model = model or networks.speed_model(region)
    tuning["default_speeds"] = {k: kmh for k, (kmh, _) in networks.planned_road_speeds(model).items()}
    return tuning


def scenario_network(region: Region, net: networks.Networks, lines: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                     source: str = "scenario"):
    """The road router with the planned ``lines`` added (:func:`geo.routing.scenario.add_planned_roads`, joining the
    base network's suitable edges), its report, and the new targets by corridor key (node indexes).

    A planned road whose name matches a configured corridor (``CT.01`` → ``ct01``) gives that corridor's
    key: its interchanges are added to the corridor's targets (see :func:`layers.access.corridor_targets`).
    """
    tuning = scenario_tuning(region, lines, net.model)
    after_router, report = add_planned_roads(
        net.road, to_metric(lines, region.metric_crs), to_metric(points, region.metric_crs) if len(points) else None,
        source=source, edges=net.entry_edges, edge_label=road_label(region, net), **tuning)
    extra = {}
    for i, row in report.iterrows():
        key = match_corridor(None, row["name"], region.corridors) or _slug(row["name"], i)
        extra[key] = list(extra.get(key, [])) + list(row["access_nodes"])
    return after_router, report, extra


def road_label(region: Region, net: networks.Networks):
    """Name of a road edge by its position in ``net.road_edges`` (= in ``net.entry_edges``), for planned-road reports and
    errors: the corridor it belongs to (``Quốc lộ 31``), else its class and edge id."""
    corridor = net.road_edges["corridor_id"].to_numpy(object) if "corridor_id" in net.road_edges else None
    road_class = net.road_edges["road_class"].to_numpy(object) if "road_class" in net.road_edges else None
    edge_id = net.road_edges["edge_id"].to_numpy() if "edge_id" in net.road_edges else np.arange(len(net.road_edges))

    def label(pos: int) -> str:
        ids = [c for c in str(corridor[pos] if corridor is not None and pd.notna(corridor[pos]) else "").split(";") if c]
        if ids:
            return (region.corridors.get(ids[0]) or {}).get("name_vi", ids[0])
        kind = str(road_class[pos]) if road_class is not None and pd.notna(road_class[pos]) else "unknown"
        return f"a {kind} road (edge {edge_id[pos]})" if kind != "unknown" else f"a road of unknown class (edge {edge_id[pos]})"

    return label


def run_scenario(region: Region, parks: gpd.GeoDataFrame, net: networks.Networks, scenario_path, *,
                 population=None, interchanges_path=None) -> ScenarioResult:
    """Access of ``parks`` before and after adding the planned roads of ``scenario_path`` to ``net``.

    Arguments in the order of every analysis (region, features, networks, then keywords). ``population`` is
    ``(array, profile)`` of people per cell (catchments), or None. The before and after reports are compared
    on the road minutes and catchments both have (no speed ranges, no road + rail: see
    :func:`layers.access.access_report` for those).
    """
    require_networks(net, "run_scenario(region, parks, net, scenario_path)")
    lines, points = read_scenario(scenario_path, interchanges_path)
    after_router, report, extra = scenario_network(region, net, lines, points, source=str(scenario_path))
    before = access.access_report(region, parks, net, population=population, ranges=False, rail=False)
    after = access.access_report(region, parks, net, population=population, router=after_router, extra_targets=extra,
                                 rail=False)
    values = [c for c in after.columns if c.startswith(("minutes_to_", "people_within_")) and c in before.columns]
    for key in extra:  # a new target: before = unknown (NaN), never 0
        column = f"minutes_to_{key}"
        if column not in before.columns:
            before[column] = float("nan")
            values.append(column)
    change = compare(pd.DataFrame(before.drop(columns="geometry")), pd.DataFrame(after.drop(columns="geometry")), ["name"], values)
    change = gpd.GeoDataFrame(change, geometry=before.geometry.values, crs=before.crs)
    status = lines["status"] if "status" in lines else pd.Series("planned", index=lines.index)
    roads = gpd.GeoDataFrame(report.drop(columns="access_nodes").assign(
        corridor_id=list(extra)[: len(report)] if len(extra) == len(report) else None, status=status.fillna("planned").values,
        source=lines["source"].values if "source" in lines else str(scenario_path)), geometry=lines.geometry.values, crs="EPSG:4326")
    change.attrs["summary"] = {
        "scenario": str(scenario_path),
        "roads": report.drop(columns="access_nodes").to_dict(orient="records"),
        "parks_faster": {c.removesuffix("_change"): int((change[c] < -0.5).sum()) for c in change.columns if c.endswith("_change") and c.startswith("minutes")},
        "parks_slower": int((change[[c for c in change.columns if c.endswith("_change") and c.startswith("minutes")]] > 1e-6).sum().sum()),
        "catchments_smaller": int((change[[c for c in change.columns if c.endswith("_change") and c.startswith("people_within_")]] < 0).sum().sum()),
    }
    log.info("scenario %s: parks at least half a minute faster: %s", Path(scenario_path).name,
             ", ".join(f"{n} to {k.removeprefix('minutes_to_')}" for k, n in change.attrs["summary"]["parks_faster"].items() if n) or "none")
    return ScenarioResult(before=before, after=after, change=change, roads=roads, interchanges=points)


def _slug(name: str, i: int) -> str:
    from geo.text import fold

    return re.sub(r"\W+", "_", fold(name)).strip("_")[:30] or f"planned_{i + 1}"
