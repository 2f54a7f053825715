"""geo.io.raster on synthetic grids and on the real WorldPop / SRTM files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import geopandas as gpd
import pytest
import rasterio
from pyproj import Geod
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from shapely.geometry import box

from geo.errors import DataGapError, InputError
from geo.io.raster import (clip_raster, coverage_share, read_raster, reproject_raster, rescale_to_totals,
                        slope_degrees, write_geotiff, zonal_sums)

# WorldPop 2020 sums per district by pixel centre, from SOURCES.md
WORLDPOP_2020_DISTRICTS = {
    "Bắc Giang": 156478, "Hiệp Hòa": 217317, "Lạng Giang": 190007, "Lục Nam": 202605, "Lục Ngạn": 208735,
    "Sơn Động": 70173, "Tân Yên": 161264, "Việt Yên": 159239, "Yên Dũng": 126077, "Yên Thế": 93526,
}


def _profile(crs="EPSG:4326", west=0.0, north=4.0, res=1.0, width=4, height=4):
    return {"crs": crs, "transform": from_origin(west, north, res, res), "width": width, "height": height}


@pytest.fixture(scope="session")
def worldpop(region):
    return read_raster(region.path("population_raster"))


@pytest.fixture(scope="session")
def dem(region):
    return read_raster(region.path("dem"))


@pytest.fixture(scope="session")
def units(gadm_region):
    """GADM districts: the WorldPop sums of SOURCES.md were computed on them."""
    from layers.boundaries import districts
    return districts(gadm_region)


# ---------------------------------------------------------------- reading

def test_read_missing_file_names_it(tmp_path):
    with pytest.raises(InputError, match="nothere.tif: file not found"):
        read_raster(tmp_path / "nothere.tif")


def test_read_garbage_file(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_text("this is not a GeoTIFF")
    with pytest.raises(InputError, match="bad.tif: cannot be read as a raster"):
        read_raster(bad)


def test_read_file_without_crs(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
                       transform=from_origin(0, 2, 1, 1)) as dst:
        dst.write(np.ones((1, 2, 2), dtype="float32"))
    with pytest.raises(InputError, match="nocrs.tif: raster has no CRS"):
        read_raster(path)


def test_read_worldpop_region_file(worldpop):
    array, profile = worldpop
    assert array.shape == (186, 264)                         # SOURCES: 264 x 186 px
    assert array.dtype == np.float64
    assert not np.any(array == -99999)                       # nodata became NaN
    assert np.nansum(array) == pytest.approx(20.70e6, rel=0.005)   # SOURCES: region sum 20.70 M
    assert np.nanmin(array) == pytest.approx(0.86, abs=0.01)
    assert np.nanmax(array) == pytest.approx(44774, rel=1e-4)


def test_read_dem_voids_are_nan(dem):
    array, profile = dem
    assert array.shape == (1140, 541)                        # SOURCES: 541 x 1140 px
    assert np.isnan(array).any() and not np.any(array == -32768)


# ---------------------------------------------------------------- zones

def test_zonal_sums_pixel_centre_rule():
    zones = gpd.GeoDataFrame(geometry=[box(0, 0, 2.4, 4), box(2.6, 0, 4, 4), box(10, 10, 11, 11)], crs="EPSG:4326")
    sums = zonal_sums(np.arange(16.0).reshape(4, 4), _profile(), zones)
    # zone 0 holds columns 0-1 (centres 0.5, 1.5); column 2 (centre 2.5) is in neither; zone 2 holds nothing -> NaN
    assert sums.iloc[0] == sum(r * 4 + c for r in range(4) for c in (0, 1))
    assert sums.iloc[1] == sum(r * 4 + 3 for r in range(4))
    assert np.isnan(sums.iloc[2])


def test_zonal_sums_worldpop_districts_match_sources(worldpop, units):
    array, profile = worldpop
    sums = zonal_sums(array, profile, units)
    got = dict(zip(units["district"], sums))
    assert sum(got.values()) == pytest.approx(1_585_420, rel=0.01)
    # GADM districts overlap in slivers: two pixel centres lie in two districts each and
    # SOURCES counted them twice (Lạng Giang, Tân Yên); here each pixel counts once.
    for name, expected in WORLDPOP_2020_DISTRICTS.items():
        assert got[name] == pytest.approx(expected, rel=0.005), name
    exact = set(WORLDPOP_2020_DISTRICTS) - {"Lạng Giang", "Tân Yên"}
    for name in exact:
        assert got[name] == pytest.approx(WORLDPOP_2020_DISTRICTS[name], abs=1), name


def test_rescale_keeps_outside_and_unknown_zones():
    values = np.arange(1.0, 17.0).reshape(4, 4)
    zones = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 4), box(2, 0, 3, 4)], crs="EPSG:4326")
    out, factors = rescale_to_totals(values, _profile(), zones, pd.Series([100.0, np.nan]))
    assert out[:, :2].sum() == pytest.approx(100.0)
    np.testing.assert_array_equal(out[:, 2:], values[:, 2:])          # unknown total + outside: untouched
    assert factors["status"].tolist() == ["rescaled", "total_unknown"]
    assert np.isnan(factors["factor"].iloc[1])
    assert factors.attrs["outside_sum"] == pytest.approx(values[:, 3].sum())


def test_rescale_zone_without_pixels_is_reported():
    zones = gpd.GeoDataFrame(geometry=[box(50, 50, 51, 51)], crs="EPSG:4326")
    out, factors = rescale_to_totals(np.ones((4, 4)), _profile(), zones, pd.Series([10.0]))
    assert factors["status"].iloc[0] == "no_pixels"
    assert out.sum() == 16


# ---------------------------------------------------------------- clip / reproject

def test_clip_crops_and_masks():
    values = np.arange(16.0).reshape(4, 4)
    out, prof = clip_raster(values, _profile(), box(0.2, 0.2, 2.0, 2.0))
    assert out.shape == (2, 2) and prof["transform"].c == 0 and prof["transform"].f == 2
    np.testing.assert_array_equal(out, values[2:, :2])
    out2, prof2 = clip_raster(values, _profile(), box(0.2, 0.2, 2.0, 2.0), crop=False)
    assert out2.shape == (4, 4) and np.isnan(out2).sum() == 12


def test_clip_outside_raises_data_gap():
    with pytest.raises(DataGapError):
        clip_raster(np.ones((4, 4)), _profile(), box(20, 20, 21, 21))


def test_clip_reprojects_geoseries(worldpop, region):
    from layers.boundaries import region_polygon
    array, profile = worldpop
    outline = gpd.GeoSeries([region_polygon(region)], crs="EPSG:4326").to_crs("EPSG:32648")
    out, prof = clip_raster(array, profile, outline)
    assert np.nansum(out) == pytest.approx(1_585_420, rel=0.01)      # province sum survives the clip


def test_reproject_to_utm_keeps_nan_and_crs():
    values = np.ones((20, 20))
    values[5, 5] = np.nan
    prof = _profile(west=106.0, north=21.5, res=0.01, width=20, height=20)
    out, p = reproject_raster(values, prof, "EPSG:32648", resolution=1000, resampling=Resampling.nearest)
    assert p["crs"].to_epsg() == 32648 and p["transform"].a == 1000
    assert np.isnan(out).any() and np.nanmax(out) == 1.0


# ---------------------------------------------------------------- slope

def test_slope_geographic_plane_uses_metres():
    """A plane rising tan(10°) per metre northwards, on a 3″ grid at 21° N."""
    res = 1 / 1200
    lats = 21.5 - (np.arange(50) + 0.5) * res
    geod = Geod(ellps="WGS84")
    n = len(lats)
    _, _, metres = geod.inv(np.full(n, 106.0), np.full(n, 21.0), np.full(n, 106.0), lats)             # ground distance from 21° N
    z = np.tile((metres * np.tan(np.radians(10)))[:, None], (1, 40))
    prof = _profile(west=106.0, north=21.5, res=res, width=40, height=50)
    slope = slope_degrees(z, prof)
    assert np.nanmedian(slope) == pytest.approx(10.0, abs=0.05)
    # east-west plane: metres per degree of longitude shrink with cos(latitude)
    lons = 106.0 + np.arange(40) * res + res / 2
    _, _, east = geod.inv(np.full(40, 106.0), np.full(40, 21.48), lons, np.full(40, 21.48))
    z2 = np.tile(east * np.tan(np.radians(20)), (50, 1))
    assert np.nanmedian(slope_degrees(z2, prof)[20:30]) == pytest.approx(20.0, abs=0.1)


def test_slope_unknown_is_nan_never_zero(dem):
    array, profile = dem
    slope = slope_degrees(array, profile)
    assert np.isnan(slope[np.isnan(array)]).all()
    assert np.nanmin(slope) >= 0


def test_slope_matches_reprojected_dem(dem, region):
    """Slope with per-latitude pixel sizes ≈ slope after reprojecting to UTM (western strip, lowland)."""
    from layers.boundaries import region_polygon
    array, profile = dem
    outline = gpd.GeoSeries([region_polygon(region)], crs="EPSG:4326")
    geo_slope, gp = clip_raster(slope_degrees(array, profile), profile, outline)
    utm, up = reproject_raster(array, profile, "EPSG:32648", resolution=90)
    utm_slope, _ = clip_raster(slope_degrees(utm, up), up, outline.to_crs("EPSG:32648"))
    assert np.isfinite(geo_slope).sum() > 15000
    assert np.nanmedian(geo_slope) == pytest.approx(np.nanmedian(utm_slope), abs=0.3)
    assert np.nanmedian(geo_slope) < 5                          # SOURCES: -3 … 91 m, median 11 m: lowland


def test_dem_covers_western_four_percent(dem, region):
    from layers.boundaries import region_polygon
    array, profile = dem
    share = coverage_share(array, profile, region_polygon(region))
    assert share == pytest.approx(0.043, abs=0.002)              # SOURCES: 167 km² = 4.3 %


# ---------------------------------------------------------------- writing

def test_write_geotiff_round_trip(tmp_path):
    values = np.array([[1.5, np.nan], [3.0, 4.0]])
    prof = _profile(crs="EPSG:32648", west=500000, north=2350000, res=1000, width=2, height=2)
    path = write_geotiff(values, prof, tmp_path / "out" / "grid.tif")
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32648 and src.nodata == -9999
        assert src.profile["compress"] == "deflate"
    back, _ = read_raster(path)
    np.testing.assert_array_equal(np.isnan(back), np.isnan(values))
    assert np.nansum(back) == pytest.approx(8.5)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["grid.tif"]   # no temporary left


def test_write_geotiff_failure_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        write_geotiff(np.ones((2, 2, 2)), _profile(), tmp_path / "bad.tif")
    assert not (tmp_path / "bad.tif").exists()
