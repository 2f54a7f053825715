"""layers.water on the OSM 2018 waterways GeoPackage."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point


@pytest.fixture(scope="session")
def water_layer(gadm_region):
    """On the GADM outline: the province figures of SOURCES.md were computed on it."""
    from layers.water import water
    return water(gadm_region)


def test_kinds_and_columns(water_layer):
    assert set(water_layer["kind"]) == {"waterway", "water_area"}
    assert water_layer.crs.to_epsg() == 4326
    lines = water_layer[water_layer["kind"] == "waterway"]
    areas = water_layer[water_layer["kind"] == "water_area"]
    assert lines.geom_type.str.contains("LineString").all() and areas.geom_type.str.contains("Polygon").all()
    assert lines["length_km"].ge(0).all() and lines["length_km"].gt(0).mean() > 0.9 and lines["area_ha"].isna().all()
    assert areas["area_ha"].gt(0).all() and areas["length_km"].isna().all()
    assert lines["water_area_frac"].between(0, 1).all()


def test_waterways_in_province_match_sources(water_layer):
    s = water_layer.attrs["summary"]
    assert s["waterway_km_in_region"] == pytest.approx(465, rel=0.01)      # SOURCES: 465 km, 206 edges
    assert s["waterways_in_region"] == 206
    lines = water_layer[(water_layer["kind"] == "waterway") & water_layer["in_region"]]
    wide = lines[lines["water_area_frac"] > 0.5]                               # SOURCES: 21 edges / 65 km
    assert len(wide) == 21 and wide["length_km"].sum() == pytest.approx(65, rel=0.02)


def test_water_areas_in_province_match_sources(water_layer):
    s = water_layer.attrs["summary"]
    assert s["water_area_ha_in_region"] == pytest.approx(5144, rel=0.01)   # SOURCES: 5,144 ha, 134 polygons
    assert s["water_areas_in_region"] == 134


def test_cam_son_reservoir(water_layer):
    areas = water_layer[water_layer["kind"] == "water_area"]
    hit = areas[areas.contains(Point(106.56, 21.53))]                        # SOURCES: Hồ Cấm Sơn 2,048 ha
    assert len(hit) == 1
    assert hit["area_ha"].iloc[0] == pytest.approx(2048, rel=0.01)


def test_everything_inside_window(water_layer, gadm_region):
    from layers.boundaries import region_window
    window = region_window(gadm_region).buffer(1e-6)
    assert np.asarray(water_layer.within(window)).all()
