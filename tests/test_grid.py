"""Analysis grids and labour catchments for every cell, against brute force and the per-origin Catchment."""

import numpy as np
import pytest
import rasterio.transform
import shapely
from shapely.geometry import LineString, Point, box

from geo.routing.access import Catchment, attach_points
from geo.errors import InputError
from geo.siting.grid import attachment_links, estimate_bytes, make_grid, people_within_cells
from geo.routing.router import Router


def test_grid_is_aligned_and_marks_cells_by_centre():
    area = Point(1230, 2270).buffer(1000)
    g = make_grid(area, cell_m=100, crs="EPSG:32648")
    assert g.x0 % 100 == 0 and g.y0 % 100 == 0
    assert g.x0 <= 230 and g.y0 >= 3270
    cx, cy = g.centres()
    brute = np.array([[area.contains(Point(x, y)) for x, y in zip(rx, ry)] for rx, ry in zip(cx, cy)])
    assert np.array_equal(g.inside, brute)
    # π r² / cell area, within the boundary's cells
    assert g.inside.sum() == pytest.approx(np.pi * 1000 ** 2 / 100 ** 2, rel=0.03)


def test_too_large_grid_is_refused_with_the_estimate():
    area = box(0, 0, 120_000, 60_000)
    with pytest.raises(InputError) as err:
        make_grid(area, cell_m=5, crs="EPSG:32648", source="--cell-size")
    text = str(err.value)
    assert text.startswith("--cell-size: ") and "288,000,000 cells" in text and "GB" in text and "\n" not in text
    need = estimate_bytes(288_000_000, 16)
    assert f"{need / 1e9:,.1f} GB" in text
    for bad in (0, -250, "abc", float("nan")):
        with pytest.raises(InputError):
            make_grid(area, cell_m=bad)


def test_rasterize_all_touched_is_conservative():
    g = make_grid(box(0, 0, 1000, 1000), cell_m=100, crs="EPSG:32648")
    tiny = box(510, 510, 520, 520)               # inside one cell, far from its centre
    assert g.rasterize([tiny]).sum() == 1
    assert g.rasterize([tiny], all_touched=False).sum() == 0
    line = LineString([(0, 250), (1000, 250)])   # along a row of cells
    touched = g.rasterize([line.buffer(30)])
    assert touched.sum() == 10
    # every cell overlapping the geometry is marked
    geom = Point(333, 777).buffer(260)
    mask = g.rasterize([geom])
    boxes = g.cell_boxes(np.arange(g.size))
    overlaps = shapely.area(shapely.intersection(boxes, geom)) > 1e-6
    assert not (overlaps & ~mask.ravel()).any()


def test_distance_to_circles_matches_brute_force():
    rng = np.random.default_rng(1)
    g = make_grid(box(0, 0, 5000, 3000), cell_m=100, crs="EPSG:32648")
    x, y = rng.uniform(-500, 5500, 40), rng.uniform(-500, 3500, 40)
    r = rng.uniform(0, 900, 40)
    got = g.distance_to(x, y, r)
    cx, cy = g.centres()
    d = np.hypot(cx[..., None] - x, cy[..., None] - y) - r
    assert np.allclose(got, np.maximum(d, 0).min(axis=-1))
    assert np.allclose(g.distance_to(x, y), np.hypot(cx[..., None] - x, cy[..., None] - y).min(axis=-1))
    assert np.isnan(g.distance_to([], [])).all()


def test_outlines_dissolve_cells():
    g = make_grid(box(0, 0, 500, 500), cell_m=100, crs="EPSG:32648")
    labels = np.zeros(g.shape, int)
    labels[1:4, 1:4] = 1
    labels[2, 2] = 0                      # a hole
    labels[0, 4] = 2
    polys = g.outlines(labels)
    assert set(polys) == {1, 2}
    assert polys[1].area == pytest.approx(8 * 100 * 100) and len(polys[1].interiors) == 1
    assert polys[2].equals(g.cell_boxes([4]))
    assert g.outlines(labels, keep=[2]).keys() == {2}


def test_sample_averages_a_geographic_raster_onto_the_grid():
    # 0.001° pixels around 106°E 21.3°N, left half 10, right half 20, top rows unknown
    transform = rasterio.transform.from_origin(106.0, 21.32, 0.001, 0.001)
    array = np.full((40, 40), 10.0)
    array[:, 20:] = 20.0
    array[:5] = np.nan
    profile = {"crs": "EPSG:4326", "transform": transform, "width": 40, "height": 40}
    from pyproj import Transformer

    t = Transformer.from_crs(4326, 32648, always_xy=True)
    x0, y0 = t.transform(106.002, 21.313)
    x1, y1 = t.transform(106.038, 21.282)
    g = make_grid(box(x0, y1, x1, y0), cell_m=300, crs="EPSG:32648")
    out = g.sample(array, profile)
    assert np.nanmin(out) >= 10 - 1e-9 and np.nanmax(out) <= 20 + 1e-9
    assert np.isclose(out[:, 0], 10).all() and np.isclose(out[:, -1], 20).all()
    far = make_grid(box(x0 + 50_000, y1, x1 + 50_000, y0), cell_m=300, crs="EPSG:32648")
    assert np.isnan(far.sample(array, profile)).all()


def _random_network(seed=0, n=300):
    import networkx as nx
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20000, size=(n, 2))
    G = nx.Graph()
    for i, (dist, nbrs) in enumerate(zip(*cKDTree(xy).query(xy, k=4))):
        for d, j in zip(dist[1:], nbrs[1:]):
            G.add_edge(i, int(j), weight=d / (rng.uniform(20, 60) / 3.6))
    u, v = (np.array(a) for a in zip(*G.edges))
    w = np.array([G.edges[e]["weight"] for e in G.edges])
    router = Router.from_arrays(np.arange(n), xy[:, 0], xy[:, 1], u, v, w)
    lines = [LineString([xy[a], xy[b]]) for a, b in zip(u, v)]
    return router, lines, u, v, w


def test_reverse_catchment_equals_one_search_per_cell():
    router, lines, u, v, w = _random_network(seed=5)
    rng = np.random.default_rng(6)
    g = make_grid(box(-1000, -1000, 21000, 21000), cell_m=1000, crs="EPSG:32648")
    cx, cy = g.centres()
    x, y = cx[g.inside], cy[g.inside]
    cells_router, idx, snap, _ = attach_points(router, lines, u, v, w, x, y, max_snap_m=800)
    pop_xy = rng.uniform(-3000, 23000, size=(600, 2))
    people = rng.integers(0, 900, size=600).astype(float)
    people[::37] = np.nan
    within = np.arange(cells_router.n) < router.n
    per_cell = Catchment(cells_router, pop_xy[:, 0], pop_xy[:, 1], people, max_snap_m=1500, within=within)
    catch = Catchment(router, pop_xy[:, 0], pop_xy[:, 1], people, max_snap_m=1500)
    links = attachment_links(router, cells_router)
    got = people_within_cells(router, catch, links, len(x), minutes=(8, 15), block=37, sub_block=5)
    expected = per_cell.people_within(np.where(np.isnan(snap), -1, idx), minutes=(8, 15))
    assert np.isnan(snap).any() and (~np.isnan(snap)).any()
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.allclose(got, expected, rtol=1e-6, equal_nan=True)
    assert (got[:, 1] >= got[:, 0])[~np.isnan(snap)].all()
    links_check = attachment_links(router, cells_router)
    assert (links_check[1] < router.n).all() and links_check[0].max() < len(x)
