"""Isochrones and population catchments (geo/routing/isochrones.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, Polygon

from geo import settings
from geo.routing.isochrones import QUAD_SEGS, isochrones, population_within
from geo.routing.router import Router

TO_METRIC = Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True)


@pytest.fixture(autouse=True)
def _quiet():
    settings.progress = False


def _close(a, b, tolerance):
    """Symmetric difference of two polygons, relative to the expected area."""
    return shapely.area(shapely.symmetric_difference(a, b)) / shapely.area(b) < tolerance


# ---------------------------------------------------------------------- hand-made networks
def test_edges_are_cut_where_time_runs_out():
    # 0 —1 km/100 s— 1 —1 km/100 s— 2 ; 150 s reach 1.5 km along the line.
    r = Router.from_arrays([0, 1, 2], [0, 1000, 2000], [0, 0, 0], [0, 1], [1, 2], [100.0, 100.0], crs=None)
    iso = isochrones(r, [0], thresholds_min=(2.5,), buffer_m=100, method="vector")
    expected = shapely.buffer(LineString([(0, 0), (1500, 0)]), 100, quad_segs=QUAD_SEGS)
    assert _close(iso.geometry.iloc[0], expected, 0.01)
    assert iso.nodes.iloc[0] == 2 and iso.reason.isna().all()
    # From the middle node both ways: 0.5 km each side.
    mid = isochrones(r, [1], thresholds_min=(50 / 60,), buffer_m=100, method="vector")
    assert _close(mid.geometry.iloc[0], shapely.buffer(LineString([(500, 0), (1500, 0)]), 100, quad_segs=QUAD_SEGS), 0.01)


@pytest.mark.parametrize("reverse", [False, True])
def test_cut_follows_the_edge_geometry(reverse):
    r = Router.from_arrays([0, 1], [0, 1000], [0, 0], [0], [1], [100.0], crs=None)
    bend = LineString([(0, 0), (500, 500), (1000, 0)])          # 1,414 m drawn from u to v
    geometry = gpd.GeoSeries([bend.reverse() if reverse else bend])
    iso = isochrones(r, [0], thresholds_min=(50 / 60,), buffer_m=50, edge_geometry=geometry, method="vector")
    expected = shapely.buffer(LineString([(0, 0), (500, 500)]), 50, quad_segs=QUAD_SEGS)
    assert _close(iso.geometry.iloc[0], expected, 0.01)


def test_one_way_edges_and_isolated_origin():
    r = Router.from_arrays([0, 1, 2], [0, 1000, 5000], [0, 0, 0], [0], [1], [100.0], directed=True, crs=None)
    iso = isochrones(r, [1, 2, -1], thresholds_min=(10,), buffer_m=100, method="vector")
    # Node 1 has only an incoming arc; node 2 has no edge: both are just their own disc.
    disc = shapely.area(shapely.buffer(Point(0, 0), 100, quad_segs=QUAD_SEGS)) / 1e6
    for k in (0, 1):
        assert iso.area_km2.iloc[k] == pytest.approx(disc, rel=0.01)
    assert iso.geometry.iloc[2] is None and np.isnan(iso.area_km2.iloc[2])
    assert "not snapped" in iso.reason.iloc[2]
    forward = isochrones(r, [0], thresholds_min=(10,), buffer_m=100, method="vector")
    assert forward.area_km2.iloc[0] == pytest.approx(1.0 * 0.2 + disc, rel=0.01)


def test_raster_method_on_a_line():
    r = Router.from_arrays([0, 1, 2], [0, 1000, 2000], [0, 0, 0], [0, 1], [1, 2], [100.0, 100.0], crs=None)
    iso = isochrones(r, [0], thresholds_min=(2.5, 10), buffer_m=100, method="raster")
    exact = shapely.buffer(LineString([(0, 0), (1500, 0)]), 100, quad_segs=QUAD_SEGS)
    assert _close(iso.geometry.iloc[0], exact, 0.08)
    assert iso.area_km2.iloc[0] == pytest.approx(shapely.area(exact) / 1e6, rel=0.03)
    assert iso.area_km2.iloc[1] == pytest.approx(2.0 * 0.2 + np.pi * 0.01, rel=0.03)


# ---------------------------------------------------------------------- Bắc Giang
@pytest.fixture(scope="session")
def bg_router(shared_data):
    path = shared_data / "bacgiang_roads_osm2018_bbox03.gpkg"
    edges = gpd.read_file(path, layer="edges", columns=["u", "v", "length_m"], engine="pyogrio")
    nodes = pyogrio.read_dataframe(path, layer="nodes", columns=["node_id", "x", "y"], read_geometry=False)
    x, y = TO_METRIC.transform(nodes.x.to_numpy(), nodes.y.to_numpy())
    router = Router.from_arrays(nodes.node_id, x, y, edges.u, edges.v, edges.length_m.to_numpy() / (40 / 3.6))
    return router, edges.geometry.to_crs(settings.metric_crs)


@pytest.fixture(scope="session")
def city_isochrones(bg_router):
    router, geometry = bg_router
    x, y = TO_METRIC.transform(106.19388, 21.27793)               # Bắc Giang city centre (region YAML)
    origin = router.snap([x], [y], 500, within=router.largest_component())[0]
    return origin, isochrones(router, origin, edge_geometry=geometry, crs=None)


def test_bacgiang_area_grows_with_threshold(bg_router, city_isochrones):
    router, _ = bg_router
    origin, iso = city_isochrones
    assert iso.minutes.tolist() == [15, 30, 45, 60]
    areas = iso.area_km2.to_numpy()
    assert np.all(np.diff(areas) > 0)
    polygons = iso.geometry.to_numpy()
    for small, large in zip(polygons[:-1], polygons[1:]):
        assert shapely.covers(shapely.buffer(large, 0.01), small)
    # 40 km/h for 15 min is 10 km: the area cannot exceed a 10.15 km disc (it is far smaller on a road net).
    assert areas[0] < np.pi * 10.15 ** 2
    # Every node reached within 15 min lies inside the 15-min polygon.
    nodes, _ = router.reachable_within(origin, 15 * 60)[0]
    assert len(nodes) == iso.nodes.iloc[0] > 100
    assert shapely.contains_xy(shapely.buffer(polygons[0], 1.0), router.x[nodes], router.y[nodes]).all()
    # ... and no node more than 60 min away lies farther than 40 km + buffer from the origin... inside 60.
    far = np.hypot(router.x - router.x[origin], router.y - router.y[origin]) > 40_200
    assert not shapely.contains_xy(polygons[-1], router.x[far], router.y[far]).any()


def test_raster_method_agrees_with_exact_union(bg_router, city_isochrones):
    router, geometry = bg_router
    origin, _ = city_isochrones
    exact = isochrones(router, origin, (15, 30), edge_geometry=geometry, crs=None, method="vector")
    grid = isochrones(router, origin, (15, 30), edge_geometry=geometry, crs=None, method="raster")
    for a, b in zip(grid.geometry, exact.geometry):
        assert shapely.is_valid(a)
        assert shapely.area(a) == pytest.approx(shapely.area(b), rel=0.02)
        assert _close(a, b, 0.06)
    assert shapely.covers(shapely.buffer(grid.geometry.iloc[1], 0.01), grid.geometry.iloc[0])


def test_contour_method_matches_the_previous_methods_on_bacgiang(bg_router, city_isochrones):
    """The default (contour of a distance field) against the exact union of buffers and the previous
    default (raster): area within 1 % of the exact union and 2.5 % of the raster, outlines within 2 %."""
    router, geometry = bg_router
    origin, default = city_isochrones                         # method="auto" = "contour"
    rng = np.random.default_rng(5)
    others = rng.choice(np.flatnonzero(router.largest_component()), 2, replace=False)
    for o, minutes in [(origin, (15, 30)), (others[0], (20,)), (others[1], (20,))]:
        contour = isochrones(router, o, minutes, edge_geometry=geometry, crs=None, method="contour")
        exact = isochrones(router, o, minutes, edge_geometry=geometry, crs=None, method="vector")
        grid = isochrones(router, o, minutes, edge_geometry=geometry, crs=None, method="raster")
        for a, b, c in zip(contour.geometry, exact.geometry, grid.geometry):
            assert shapely.is_valid(a)
            assert shapely.area(a) == pytest.approx(shapely.area(b), rel=0.01)
            assert shapely.area(a) == pytest.approx(shapely.area(c), rel=0.025)
            assert _close(a, b, 0.02)
        if o == origin:
            # The default is this method (its grid spans the 60-min reach: the outline moves by a fraction of a cell).
            assert default.area_km2.iloc[:2].to_numpy() == pytest.approx(contour.area_km2.to_numpy(), rel=0.003)


@pytest.mark.parametrize("directed", [False, True])
def test_contour_method_matches_exact_union_on_a_synthetic_grid(directed):
    """A 25 × 25 grid (100 m, random speeds, 15 % of links missing, some edges drawn with a bend):
    contour areas within 1.5 % of the exact union, thresholds nested, lone nodes as discs."""
    rng = np.random.default_rng(11)
    side = 25
    ids = np.arange(side * side)
    x, y = (ids % side) * 100.0, (ids // side) * 100.0
    grid = ids.reshape(side, side)
    u = np.r_[grid[:, :-1].ravel(), grid[:-1, :].ravel()]
    v = np.r_[grid[:, 1:].ravel(), grid[1:, :].ravel()]
    keep = rng.random(u.size) > 0.15
    u, v = u[keep], v[keep]
    w = 100.0 / rng.uniform(3, 15, u.size)
    r = Router.from_arrays(ids, x, y, u, v, w, directed=directed, crs=None)
    lines = [LineString([(x[a], y[a]), ((x[a] + x[b]) / 2 + 30 * (x[a] == x[b]), (y[a] + y[b]) / 2 + 30 * (y[a] == y[b])),
                         (x[b], y[b])]) if k % 3 == 0 else None for k, (a, b) in enumerate(zip(u, v))]
    geometry = gpd.GeoSeries(lines)
    origins = rng.choice(r.n, 4, replace=False)
    minutes = (0.5, 1.0, 2.0)
    contour = isochrones(r, origins, minutes, buffer_m=60, edge_geometry=geometry, method="contour")
    exact = isochrones(r, origins, minutes, buffer_m=60, edge_geometry=geometry, method="vector")
    assert contour.nodes.tolist() == exact.nodes.tolist()
    np.testing.assert_allclose(contour.area_km2, exact.area_km2, rtol=0.015)
    for k in range(0, len(contour), len(minutes)):
        polygons = contour.geometry.iloc[k:k + len(minutes)].to_numpy()
        assert shapely.is_valid(polygons).all()
        for small, large in zip(polygons[:-1], polygons[1:]):
            assert shapely.covers(shapely.buffer(large, 0.01), small)
    # An origin with no edge at all: a disc of buffer_m (as the exact method's 16-gon, 2.5 % under a circle).
    lone = Router.from_arrays([0, 1, 2], [0, 1000, 5000], [0, 0, 0], [0], [1], [100.0], crs=None)
    disc = isochrones(lone, [2], thresholds_min=(10,), buffer_m=100, method="contour")
    assert disc.area_km2.iloc[0] * 1e6 == pytest.approx(shapely.area(shapely.buffer(Point(0, 0), 100, quad_segs=QUAD_SEGS)),
                                                        rel=0.01)


def test_bacgiang_population_matches_brute_force(city_isochrones, shared_data):
    _, iso = city_isochrones
    with rasterio.open(shared_data / "worldpop_vnm_ppp_2020_1km_region.tif") as src:
        array, profile = src.read(1), src.profile
    result = population_within(iso.to_crs("EPSG:4326"), array, profile)
    rows, cols = np.indices(array.shape)
    cx, cy = rasterio.transform.xy(profile["transform"], rows.ravel(), cols.ravel())
    values = array.ravel().astype(float)
    valid = values != profile["nodata"]
    for geom, pop in zip(result.geometry, result.population):
        inside = shapely.contains_xy(geom, np.asarray(cx), np.asarray(cy))
        assert pop == pytest.approx(values[inside & valid].sum(), rel=1e-9)
    assert np.all(np.diff(result.population) > 0)
    assert result.raster_covers.all()
    assert result.population_added.sum() == pytest.approx(result.population.iloc[-1])


# ---------------------------------------------------------------------- population on a synthetic raster
def test_population_within_matches_pixel_centre_count():
    rng = np.random.default_rng(4)
    height, width, cell = 40, 50, 100.0
    transform = from_origin(1000.0, 5000.0, cell, cell)
    array = rng.uniform(0, 50, (height, width)).astype("float32")
    array[rng.random(array.shape) < 0.05] = -99999.0
    array[0, :5] = np.nan
    profile = {"transform": transform, "nodata": -99999.0, "crs": None}
    polygons = [shapely.buffer(Point(rng.uniform(1500, 5500), rng.uniform(1500, 4500)), rng.uniform(150, 900))
                for _ in range(12)]
    polygons += [Polygon([(900, 5100), (2500, 4990), (1200, 3000)]),      # reaches outside the raster
                 Polygon([(3000, 3000), (3001, 3000), (3001, 3001)]),      # smaller than a pixel
                 None]
    frame = gpd.GeoDataFrame({"origin_index": np.arange(len(polygons)), "minutes": 15.0},
                             geometry=gpd.GeoSeries(polygons))
    result = population_within(frame, array, profile)
    rows, cols = np.indices(array.shape)
    cx = 1000.0 + (cols.ravel() + 0.5) * cell
    cy = 5000.0 - (rows.ravel() + 0.5) * cell
    values = array.ravel().astype(float)
    valid = np.isfinite(values) & (values != -99999.0)
    for geom, pop in zip(polygons[:-1], result.population[:-1]):
        inside = shapely.contains_xy(geom, cx, cy)
        assert pop == pytest.approx(values[inside & valid].sum(), abs=1e-6)
    assert result.population.iloc[0] > 0
    assert np.isnan(result.population.iloc[-1])
    assert not result.raster_covers.iloc[12] and result.raster_covers.iloc[0]
