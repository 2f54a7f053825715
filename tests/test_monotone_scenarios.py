"""Adding roads or speed can never make a trip longer or a catchment smaller (real network, property tests).

Properties checked on today's Bắc Giang network (OSM 2018 + CT.01) with the real population raster, for the
parks and for random points of the province (so the check does not depend on where park points come from):

* random planned roads — expressways entered at interchanges on existing nodes, ordinary roads joining
  where they cross or touch a road, random design speeds — never lengthen any minutes_to_<target> and never
  shrink any people_within_<m>_min;
* random speed-ups of existing edges do neither;
* every shipped scenario file (layers/scenarios/, tests/fixtures/scenarios/) does neither.
"""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "layers" / "scenarios").glob("*.geojson")) + sorted((ROOT / "tests" / "fixtures" / "scenarios").glob("*.geojson"))
TOL_MIN = 1e-6                      # minutes: float noise allowed, nothing more


@pytest.fixture(scope="module")
def world(region):
    from geo import settings
    from layers import access, networks
    from layers.boundaries import region_polygon
    from layers.parks import industrial_parks
    from layers.population import population_raster

    settings.progress = False
    net = networks.build_networks(region, with_rail=False)
    array, profile, _ = population_raster(region)
    parks = industrial_parks(region)
    parks = parks.loc[parks.geometry.notna() & ~parks.geometry.is_empty, ["name", "geometry"]]
    rng = np.random.default_rng(21)
    outline = region_polygon(region)
    x0, y0, x1, y1 = outline.bounds
    points = [Point(x, y) for x, y in zip(rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400))]
    inside = [p for p in points if outline.contains(p)][:25]
    random_points = gpd.GeoDataFrame({"name": [f"random {i}" for i in range(len(inside))]}, geometry=inside, crs="EPSG:4326")
    origins = pd.concat([parks, random_points], ignore_index=True)
    origins = gpd.GeoDataFrame(origins, geometry="geometry", crs="EPSG:4326")
    before = access.access_report(region, origins, net, population=(array, profile), ranges=False)
    return {"net": net, "population": (array, profile), "origins": origins, "before": before}


def _assert_never_worse(before: pd.DataFrame, after: pd.DataFrame, what: str) -> None:
    minutes = [c for c in before.columns if c.startswith("minutes_to_")]
    people = [c for c in before.columns if c.startswith("people_within_")]
    assert minutes and people
    for c in minutes:
        b, a = before[c].to_numpy(float), after[c].to_numpy(float)
        lost = np.isfinite(b) & ~np.isfinite(a)
        longer = np.isfinite(b) & np.isfinite(a) & (a > b + TOL_MIN)
        assert not lost.any() and not longer.any(), (what, c, before.loc[longer | lost, "name"].tolist(), (a - b)[longer])
    for c in people:
        b, a = before[c].to_numpy(float), after[c].to_numpy(float)
        smaller = np.isfinite(b) & ~(a >= b)
        assert not smaller.any(), (what, c, before.loc[smaller, "name"].tolist(), (a - b)[smaller])


def _random_road(rng, net, region, k: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A random planned road between existing nodes of the province (so it can always be entered)."""
    nodes = net.road_nodes
    inside = nodes.loc[nodes.get("lon").between(105.9, 106.9) & nodes.get("lat").between(21.1, 21.6)]
    picks = inside.iloc[rng.choice(len(inside), size=int(rng.integers(2, 5)), replace=False)]
    coords = list(zip(picks["lon"], picks["lat"]))
    road_class = ["expressway", "national", "provincial"][k % 3]
    speed = float(rng.uniform(20, 120))
    lines = gpd.GeoDataFrame({"name": [f"random road {k}"], "road_class": [road_class], "design_speed_kmh": [speed]},
                             geometry=[LineString(coords)], crs="EPSG:4326")
    exits = coords if road_class == "expressway" else coords[:1]
    points = gpd.GeoDataFrame({"name": [f"exit {i}" for i in range(len(exits))], "role": "interchange"},
                              geometry=[Point(c) for c in exits], crs="EPSG:4326")
    return lines, points


@pytest.mark.parametrize("seed", range(6))
def test_random_planned_roads_never_make_anything_worse(region, world, seed):
    from layers import access
    from layers.scenario import scenario_network

    rng = np.random.default_rng(seed)
    lines, points = _random_road(rng, world["net"], region, seed)
    after_router, report, extra = scenario_network(region, world["net"], lines, points, source=f"random road {seed}")
    after = access.access_report(region, world["origins"], world["net"], population=world["population"],
                                 router=after_router, extra_targets=extra, ranges=False)
    assert report.loc[0, "access_points"] >= 1
    _assert_never_worse(world["before"], after, lines.loc[0, "name"])


@pytest.mark.parametrize("seed", range(2))
def test_random_speed_ups_never_make_anything_worse(region, world, seed):
    from geo.routing.multimodal import router_arrays
    from geo.routing.router import Router
    from layers import access, networks

    net = world["net"]
    rng = np.random.default_rng(100 + seed)
    edges = net.road_edges.copy()
    faster = rng.random(len(edges)) < 0.2
    factor = np.where(faster, rng.uniform(1.0, 2.5, len(edges)), 1.0)
    edges["speed_kmh"] = edges["speed_kmh"] * factor
    edges["travel_time_s"] = edges["travel_time_s"] / factor
    router = Router.from_arrays(**router_arrays(net.road_nodes, edges), directed=net.road.directed, crs=net.road.crs)
    quick = networks.Networks(road=router, road_nodes=net.road_nodes, road_edges=edges, model=net.model,
                            network_name=net.network_name)
    after = access.access_report(region, world["origins"], quick, population=world["population"], ranges=False)
    _assert_never_worse(world["before"], after, f"speed-up {seed}")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_never_makes_anything_worse(region, world, path):
    from layers import access
    from layers.scenario import read_scenario, scenario_network

    lines, points = read_scenario(path)
    after_router, report, extra = scenario_network(region, world["net"], lines, points, source=str(path))
    after = access.access_report(region, world["origins"], world["net"], population=world["population"],
                                 router=after_router, extra_targets=extra, ranges=False)
    _assert_never_worse(world["before"], after, path.name)
