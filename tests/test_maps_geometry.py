"""maps.geometry.prepare: layers cut to the map window and simplified, the work remembered for the same geometries."""

import geopandas as gpd
import numpy as np
import pandas as pd
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, Point, box

from maps import geometry
from maps.style import nice_breaks

WINDOW = box(106.0, 21.0, 106.5, 21.5)


def _lines(offset: float = 0.0) -> gpd.GeoDataFrame:
    """Wiggly lines in and across the window (one wholly outside), in the metric CRS, with a gappy index."""
    xs = np.linspace(105.9, 106.6, 200)
    rows = []
    for i, y in enumerate((21.1, 21.3, 21.45, 22.0)):
        rows.append(LineString(np.c_[xs, y + offset + 0.002 * np.sin(xs * 400 + i)]))
    frame = gpd.GeoDataFrame({"name": ["a", "b", "c", "far"], "lanes": [2, 4, 2, 1]}, geometry=rows,
                             crs="EPSG:4326", index=[10, 20, 30, 40])
    return frame.to_crs("EPSG:32648")


def _uncached(name, gdf, window, tolerance_m):
    geometry._PREPARED.clear()
    return geometry.prepare(name, gdf, window, tolerance_m)


def test_prepare_cuts_simplifies_and_keeps_columns():
    out = _uncached("corridors", _lines(), WINDOW, 50)
    assert list(out.index) == [10, 20, 30]                     # the far line is dropped, the labels kept
    assert list(out.columns) == ["name", "lanes", "geometry"] and out.crs == "EPSG:4326"
    assert out.geometry.within(WINDOW.buffer(1e-9)).all()
    assert (out.geometry.apply(lambda g: len(g.coords)) < 200).all()   # simplified


def test_prepare_reuses_the_work_for_the_same_geometries_only():
    lines = _lines()
    first = _uncached("corridors", lines, WINDOW, 50)
    kept = geometry._PREPARED[next(iter(geometry._PREPARED))]
    # the published copy of a layer (fewer columns, same geometry objects) reuses it, and is what a fresh call gives
    copy = lines[["name", "geometry"]].copy()
    again = geometry.prepare("corridors", copy, WINDOW, 50)
    assert len(geometry._PREPARED) == 1 and geometry._PREPARED[next(iter(geometry._PREPARED))] is kept
    assert_geodataframe_equal(again, first[["name", "geometry"]])
    assert_geodataframe_equal(again, _uncached("corridors", copy, WINDOW, 50))
    # other geometries (moved lines), another tolerance or window: worked out again, never the remembered result
    moved = _lines(offset=0.01)
    assert_geodataframe_equal(geometry.prepare("corridors", moved, WINDOW, 50), _uncached("corridors", moved, WINDOW, 50))
    geometry.prepare("corridors", lines, WINDOW, 50)
    assert not geometry.prepare("corridors", lines, WINDOW, 5).geom_equals(first.geometry).all()
    small = box(106.0, 21.0, 106.5, 21.2)
    assert list(geometry.prepare("corridors", lines, small, 50).index) == [10]
    # a geometry replaced in place is seen
    edited = lines.copy()
    edited.loc[20, "geometry"] = lines.geometry.iloc[0]
    assert_geodataframe_equal(geometry.prepare("corridors", edited, WINDOW, 50), _uncached("corridors", edited, WINDOW, 50))


def test_prepare_keeps_a_bounded_number_of_layers():
    geometry._PREPARED.clear()
    points = gpd.GeoDataFrame({"v": [1]}, geometry=[Point(106.1, 21.1)], crs="EPSG:4326")
    for i in range(geometry.PREPARED_KEPT + 5):
        geometry.prepare(f"layer{i}", points, WINDOW, 0)
    assert len(geometry._PREPARED) == geometry.PREPARED_KEPT


def test_nice_breaks_same_for_numbers_and_objects():
    values = [0.1, None, float("nan"), 0.5, 0.7, 0.2, 0.9, 1.0, 0.35]
    as_objects = nice_breaks(pd.Series(values, dtype=object), 5)
    assert nice_breaks(pd.Series(values, dtype=float), 5) == as_objects == nice_breaks(values, 5)
    assert nice_breaks(np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 5) == nice_breaks(list(range(1, 11)), 5)


def test_geojson_geometries_as_geos_writes_them():
    """Every kind of geometry, 3-D ones, several decimals: the dicts GEOS's GeoJSON gives for the rounded geometry."""
    import json

    import shapely
    from shapely.geometry import GeometryCollection, MultiLineString, MultiPoint, MultiPolygon, Polygon

    rng = np.random.default_rng(5)

    def xy(n):
        return 106 + rng.random((n, 2)) / 3

    ring = Polygon(box(106.0, 21.0, 106.3, 21.3).exterior.coords, [box(106.1, 21.1, 106.2, 21.2).exterior.coords])
    shapes = [Point(106.123456789, 21.987654321), Point(106.1, 21.2, 15.5), LineString(xy(30)), ring,
              box(106.0, 21.0, 106.000001, 21.0), MultiPoint(xy(4)), MultiLineString([xy(5), xy(3)]),
              MultiPolygon([ring, box(107, 22, 107.1, 22.1)]), LineString(np.c_[xy(4), rng.random(4)]), Point(-0.0, 21)]
    for decimals in (4, 5, 6):
        expected = [json.loads(shapely.to_geojson(g)) for g in shapely.transform(np.array(shapes), lambda c: np.round(c, decimals))]
        got = geometry.geojson_geometries(shapes, decimals)
        assert got == expected and json.dumps(got) == json.dumps(expected)
    # a collection is written and read back (the same answer)
    mixed = [GeometryCollection([Point(106, 21), LineString(xy(3))]), Point(106.5, 21.5)]
    assert geometry.geojson_geometries(mixed, 5) == [json.loads(shapely.to_geojson(g)) for g in
                                                      shapely.transform(np.array(mixed), lambda c: np.round(c, 5))]
    assert geometry.geojson_geometries([], 5) == []
