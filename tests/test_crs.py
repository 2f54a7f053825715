"""Reprojection must be right to a metre: PROJ round trips and an independent known point."""

import math

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from geo.crs import VN2000_TM3, describe, to_metric, to_storage

# Decision 05/2007/QĐ-BTNMT: VN-2000 → WGS 84, 7 parameters (coordinate-frame rotation convention, as in EPSG:6960 via PROJ).
TX, TY, TZ = -191.90441429, -39.30318279, -111.45032835
RX, RY, RZ = -0.00928836, 0.01975479, -0.00427372  # arc-seconds
DS = 0.252906278  # ppm
A, F = 6378137.0, 1 / 298.257223563
E2 = F * (2 - F)


def _geodetic_to_ecef(lon, lat):
    lon, lat = math.radians(lon), math.radians(lat)
    n = A / math.sqrt(1 - E2 * math.sin(lat) ** 2)
    return np.array([n * math.cos(lat) * math.cos(lon), n * math.cos(lat) * math.sin(lon), n * (1 - E2) * math.sin(lat)])


def _ecef_to_geodetic(xyz):
    x, y, z = xyz
    lon = math.atan2(y, x)
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - E2))
    for _ in range(10):
        n = A / math.sqrt(1 - E2 * math.sin(lat) ** 2)
        h = p / math.cos(lat) - n
        lat = math.atan2(z, p * (1 - E2 * n / (n + h)))
    return math.degrees(lon), math.degrees(lat)


def _wgs84_to_vn2000(lon, lat):
    """Invert X_wgs = T + (1+s) R X_vn (coordinate-frame R), independently of PROJ."""
    sec = math.pi / (180 * 3600)
    rx, ry, rz = RX * sec, RY * sec, RZ * sec
    rot = np.array([[1, rz, -ry], [-rz, 1, rx], [ry, -rx, 1]])
    x_wgs = _geodetic_to_ecef(lon, lat)
    x_vn = np.linalg.solve((1 + DS * 1e-6) * rot, x_wgs - np.array([TX, TY, TZ]))
    return _ecef_to_geodetic(x_vn)


def _transverse_mercator(lon, lat, lon0, k0=0.9999, fe=500000.0):
    """Snyder (1987) eq. 8-9/8-10: sub-millimetre within 1° of the central meridian."""
    ep2 = E2 / (1 - E2)
    phi, lam = math.radians(lat), math.radians(lon - lon0)
    n = A / math.sqrt(1 - E2 * math.sin(phi) ** 2)
    t, c = math.tan(phi) ** 2, ep2 * math.cos(phi) ** 2
    a_ = lam * math.cos(phi)
    m = A * ((1 - E2 / 4 - 3 * E2**2 / 64 - 5 * E2**3 / 256) * phi - (3 * E2 / 8 + 3 * E2**2 / 32 + 45 * E2**3 / 1024) * math.sin(2 * phi)
             + (15 * E2**2 / 256 + 45 * E2**3 / 1024) * math.sin(4 * phi) - (35 * E2**3 / 3072) * math.sin(6 * phi))
    x = fe + k0 * n * (a_ + (1 - t + c) * a_**3 / 6 + (5 - 18 * t + t**2 + 72 * c - 58 * ep2) * a_**5 / 120)
    y = k0 * (m + n * math.tan(phi) * (a_**2 / 2 + (5 - t + 9 * c + 4 * c**2) * a_**4 / 24 + (61 - 58 * t + t**2 + 600 * c - 330 * ep2) * a_**6 / 720))
    return x, y


@pytest.mark.parametrize("lon, lat", [(106.29039, 21.41673), (106.19388, 21.27793), (105.95, 21.30)])
def test_wgs84_to_vn2000_tm3_matches_independent_formula(lon, lat):
    """Kép station, Bắc Giang city, Hiệp Hòa: PROJ (EPSG:9214) agrees with Helmert + TM by hand to < 5 cm."""
    proj_x, proj_y = Transformer.from_crs("EPSG:4326", VN2000_TM3["107-00"], always_xy=True).transform(lon, lat)
    vn_lon, vn_lat = _wgs84_to_vn2000(lon, lat)
    x, y = _transverse_mercator(vn_lon, vn_lat, lon0=107.0)
    assert abs(proj_x - x) < 0.05 and abs(proj_y - y) < 0.05


def test_datum_shift_is_applied():
    """Without the VN-2000 datum shift positions would be off by tens of metres; PROJ must not drop it."""
    lon, lat = 106.19388, 21.27793
    with_shift = Transformer.from_crs("EPSG:4326", "EPSG:9214", always_xy=True).transform(lon, lat)
    no_shift = _transverse_mercator(lon, lat, lon0=107.0)
    assert math.dist(with_shift, no_shift) > 10


def test_round_trip_to_a_millimetre():
    pts = gpd.GeoDataFrame(geometry=[Point(105.9, 21.15), Point(106.3, 21.4), Point(107.0, 21.6)], crs="EPSG:4326")
    for crs in ("EPSG:9214", "EPSG:9211", "EPSG:32648"):
        back = pts.to_crs(crs).to_crs("EPSG:4326")
        dist = to_metric(back).distance(to_metric(pts))
        assert dist.max() < 1e-3, crs


def test_utm48n_known_point():
    g = to_metric(gpd.GeoDataFrame(geometry=[Point(105.0, 0.0)], crs="EPSG:4326"))
    assert g.geometry.x.iloc[0] == pytest.approx(500000.0, abs=1e-6)
    assert g.geometry.y.iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert to_storage(g).crs.to_epsg() == 4326


def test_describe():
    assert describe("EPSG:9214") == "EPSG:9214 VN-2000 / TM-3 107-00"
