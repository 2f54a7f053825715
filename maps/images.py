"""Grids drawn as images: a classed PNG (data URI) placed over its bounds on a Web Mercator map.

:func:`classed_png` colours any lon/lat grid by class breaks;
:func:`population_png` draws the population raster; :func:`mercator_rows`
resamples the rows so the pixels sit where they belong on the map.
"""

from __future__ import annotations

import base64
import math

import numpy as np

from maps import style

POP_BREAKS = [100, 300, 1000, 3000, 10000]         # persons per 1 km cell


def classed_png(a: np.ndarray, west: float, south: float, east: float, north: float, breaks, palette,
                alpha: int = 210) -> tuple[str, list]:
    """A lon/lat grid of values as a PNG data URI coloured by classes (transparent where NaN).

    Rows are resampled to Web Mercator spacing so the pixels sit where they
    belong on the map. Returns ``(data_uri, [[south, west], [north, east]])``.
    """
    from folium.utilities import write_png

    a = mercator_rows(np.asarray(a, dtype=float), south, north)
    rgba = np.zeros(a.shape + (4,), dtype=np.uint8)
    classes = np.digitize(np.nan_to_num(a, nan=-np.inf), breaks)
    for i, col in enumerate(palette):
        sel = (classes == i) & np.isfinite(a)
        rgba[sel] = [int(col[1:3], 16), int(col[3:5], 16), int(col[5:7], 16), alpha]
    png = write_png(rgba)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii"), [[south, west], [north, east]]


def population_png(array, profile) -> tuple[str, list]:
    """The population grid as a PNG data URI (classes of :data:`POP_BREAKS`, transparent where unknown or 0).

    Rows are resampled to Web Mercator spacing so the pixels sit where they
    belong on the map. Returns ``(data_uri, [[south, west], [north, east]])``.
    """
    from folium.utilities import write_png

    a = np.asarray(array, dtype=float)
    nodata = profile.get("nodata")
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        a = np.where(a == nodata, np.nan, a)
    a = np.where(a < 0, np.nan, a)
    t = profile["transform"]
    west, north = t.c, t.f
    east, south = west + t.a * a.shape[1], north + t.e * a.shape[0]
    crs = profile.get("crs")
    if crs is not None and str(crs).upper() not in ("EPSG:4326",) and not getattr(crs, "is_geographic", True):
        raise ValueError("population raster must be in geographic coordinates (EPSG:4326)")
    a = mercator_rows(a, south, north)
    pal = style.PALETTES["ylorrd"]
    rgba = np.zeros(a.shape + (4,), dtype=np.uint8)
    classes = np.digitize(np.nan_to_num(a, nan=-1), POP_BREAKS)
    for i, col in enumerate(pal):
        sel = (classes == i) & np.isfinite(a) & (a > 0)
        rgba[sel] = [int(col[1:3], 16), int(col[3:5], 16), int(col[5:7], 16), 210]
    png = write_png(rgba)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii"), [[south, west], [north, east]]


def mercator_rows(a: np.ndarray, south: float, north: float) -> np.ndarray:
    """Rows of a lon/lat grid (north first) resampled to even Web Mercator spacing (same shape)."""
    h = a.shape[0]

    def y(lat):
        return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))

    ys = y(north) + (np.arange(h) + 0.5) * (y(south) - y(north)) / h
    lats = np.degrees(2 * np.arctan(np.exp(ys)) - np.pi / 2)
    rows = np.clip(((north - lats) / (north - south) * h).astype(int), 0, h - 1)
    return a[rows]
