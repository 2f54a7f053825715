"""Where a layer lies: a usable CRS, sane coordinates, and overlap with the region's window.

A file in the wrong CRS must never become an answer: metres read as degrees,
an engineering ("LOCAL_CS") grid, an unknown EPSG code silently read as
WGS 84, swapped longitude/latitude or a layer of another country all give
"nothing excluded here" or "no road there" instead of an error. Every user
file goes through the checks of this module, called by
:func:`geo.io.vector.read_vector` and :func:`geo.io.raster.read_raster`:

* :func:`usable_crs` — the CRS can be converted to longitude/latitude
  (refuses engineering/local CRSs and anything PROJ cannot transform);
* :func:`check_coordinates` — coordinates are finite, degrees within
  ±180/±90 in a geographic CRS, and convertible to longitude/latitude;
* :func:`check_in_window` — features overlap the active region's *window*
  (the region buffered by its ``window_buffer_m``): when none do, the error
  names the file, its extent and the region's; when some lie outside, a
  warning says how many. ``min_share`` states the share of features that must
  overlap (default :data:`geo.settings.min_share_in_window`: at least one).

The region's window is *active* inside :func:`region_window` (the command
line activates it for every command that reads user files); outside it only
the CRS and coordinate checks run.

>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> near_kep = gpd.GeoDataFrame(geometry=[Point(106.27, 21.40)], crs="EPSG:4326")
>>> paris = gpd.GeoDataFrame(geometry=[Point(2.35, 48.85)], crs="EPSG:4326")
>>> with region_window(Window(105.8, 20.9, 107.1, 21.8, "bac-giang")):
...     _ = check_layer(near_kep, "sites.csv")
...     try:
...         check_layer(paris, "roads.geojson")
...     except InputError as e:
...         print(e)
roads.geojson: all 1 feature(s) lie outside the region's window (file extent 2.35, 48.85 – 2.35, 48.85 lon/lat; bac-giang window 105.8, 20.9 – 107.1, 21.8); wrong file or wrong CRS?
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from geo import settings
from geo.errors import InputError

log = logging.getLogger(__name__)

#: Slack on the ±180/±90 degree limits (rounding in exported files).
_DEGREE_SLACK = 1e-6


@dataclass(frozen=True)
class Window:
    """A region's analysis window as longitude/latitude bounds (EPSG:4326), with the region's name for messages."""

    west: float
    south: float
    east: float
    north: float
    name: str = "region"
    #: Folders of the region's own data (the data folder, the shipped scenarios): their files clipped to the
    #: window are normal, so features outside it are logged at debug level, not as a warning.
    data_folders: tuple = ()

    def __post_init__(self):
        values = (self.west, self.south, self.east, self.north)
        if not all(np.isfinite(values)) or self.west > self.east or self.south > self.north:
            raise ValueError(f"window bounds must be finite with west ≤ east and south ≤ north, got {values}")

    def describe(self) -> str:
        return f"{self.name} window {_fmt(self.west)}, {_fmt(self.south)} – {_fmt(self.east)}, {_fmt(self.north)}"


_active: list[Window] = []


@contextlib.contextmanager
def region_window(window: Window | None) -> Iterator[Window | None]:
    """Make ``window`` the region window that user files are checked against, for the block (``None``: no check)."""
    _active.append(window)
    try:
        yield window
    finally:
        _active.pop()


def active_window() -> Window | None:
    """The window set by the innermost :func:`region_window`, or None."""
    return _active[-1] if _active else None


# ---------------------------------------------------------------------------------------------- CRS

def usable_crs(crs, path) -> CRS:
    """``crs`` as a pyproj CRS that converts to longitude/latitude; an :class:`InputError` naming ``path`` otherwise.

    >>> usable_crs("EPSG:9214", "rice.gpkg").to_epsg()
    9214
    >>> try:
    ...     usable_crs('LOCAL_CS["site grid",LOCAL_DATUM["site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]', "parks.shp")
    ... except InputError as e:
    ...     print(str(e)[:80])
    parks.shp: its CRS 'site grid' is an engineering (local) CRS with no link to the
    """
    try:
        crs = CRS.from_user_input(crs)
    except CRSError as exc:
        raise InputError(path, f"has an unknown CRS ({_first_line(exc)}); refusing to guess") from None
    if crs.type_name.startswith("Engineering"):
        raise InputError(path, f"its CRS '{crs.name}' is an engineering (local) CRS with no link to the Earth; "
                               "reproject the file to a known CRS (e.g. VN-2000 / TM-3 EPSG:9214 or WGS 84)")
    try:
        _to_lonlat(crs)
    except (ProjError, CRSError) as exc:
        raise InputError(path, f"its CRS '{crs.name}' cannot be converted to longitude/latitude ({_first_line(exc)})") from None
    return crs


def declared_geojson_crs(path: str | os.PathLike) -> str | None:
    """The CRS name a GeoJSON file declares in its (2008-style) ``crs`` member, or None.

    GDAL reads a GeoJSON whose declared CRS it does not know as WGS 84 without
    a word; :func:`check_declared_crs` refuses it instead.
    """
    path = Path(path)
    if path.stat().st_size <= 20 << 20:       # parsed: the top-level member wherever it stands
        try:
            data = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            return None                       # GDAL says what is wrong with the file
        crs = data.get("crs") if isinstance(data, dict) else None
        name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) and isinstance(crs.get("properties"), dict) else None
        return str(name) if name is not None else None
    with open(path, "rb") as f:               # large: the member as written by GDAL and QGIS, before the features
        head = f.read(1 << 20).decode("utf-8", errors="replace")
    features = head.find('"features"')
    head = head[:features] if features > 0 else head
    match = re.search(r'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*("(?:[^"\\]|\\.)*")', head)
    return json.loads(match.group(1)) if match else None


def check_declared_crs(path: str | os.PathLike) -> None:
    """Refuse a GeoJSON file that declares a CRS PROJ does not know (an unknown EPSG code, a typo).

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.geojson"
    >>> _ = p.write_text('{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:99999"}}, "features": []}')
    >>> try:
    ...     check_declared_crs(p)
    ... except InputError as e:
    ...     print(e.problem[:60])
    declares the CRS 'EPSG:99999', which is not a known CRS (not
    """
    if Path(path).suffix.lower() not in (".geojson", ".json"):
        return
    name = declared_geojson_crs(path)
    if name is None:
        return
    try:
        CRS.from_user_input(name)
    except CRSError:
        raise InputError(path, f"declares the CRS '{name}', which is not a known CRS (not in the EPSG registry); "
                               "refusing to read it as WGS 84 — fix the 'crs' member or reproject the file") from None


# ---------------------------------------------------------------------------------------------- coordinates

def lonlat_bounds(gdf: gpd.GeoDataFrame, path) -> np.ndarray:
    """Bounds of every feature as longitude/latitude (n × 4: west, south, east, north), checked.

    Refuses (:class:`InputError` naming ``path``) infinite or NaN coordinates,
    "degrees" beyond ±180/±90 (metres read as degrees), and coordinates the
    CRS cannot convert to longitude/latitude.
    """
    crs = usable_crs(gdf.crs, path)
    bounds = shapely.bounds(np.asarray(gdf.geometry.values, dtype=object))
    present = ~np.isnan(bounds).all(axis=1)              # empty geometries have NaN bounds
    bad = present & ~np.isfinite(bounds).all(axis=1)
    if bad.any():
        raise InputError(path, f"{int(bad.sum())} feature(s) have infinite or NaN coordinates "
                               f"(first: feature {int(np.flatnonzero(bad)[0]) + 1})")
    b = bounds[present]
    if crs.is_geographic and len(b):      # files store x = longitude, y = latitude (geopandas keeps that order)
        big_x, big_y = np.abs(b[:, [0, 2]]).max(), np.abs(b[:, [1, 3]]).max()
        if big_x > 180 + _DEGREE_SLACK or big_y > 90 + _DEGREE_SLACK:
            raise InputError(path, _not_degrees(big_x, big_y, crs))
    out = np.full(bounds.shape, np.nan)
    if not len(b):
        return out
    if crs.is_geographic:      # another datum moves points by metres at most: no transformation needed for extents
        out[present] = b
        return out
    lon, lat = _corners_to_lonlat(crs, b)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise InputError(path, f"coordinates (extent {_extent_text(b)}) cannot be converted from {_crs_name(crs)} to "
                               "longitude/latitude: they lie outside what the CRS can represent; wrong CRS?")
    out[present] = np.column_stack([lon.min(axis=1), lat.min(axis=1), lon.max(axis=1), lat.max(axis=1)])
    return out


def check_coordinates(gdf: gpd.GeoDataFrame, path) -> gpd.GeoDataFrame:
    """``gdf`` unchanged when its CRS and coordinates are usable (see :func:`lonlat_bounds`)."""
    lonlat_bounds(gdf, path)
    return gdf


def check_in_window(lonlat: np.ndarray, path, window: Window, *, what: str = "feature(s)",
                    min_share: float | None = None) -> np.ndarray:
    """Which features (rows of ``lonlat`` bounds) overlap ``window``; refuses too few.

    At least ``min_share`` of the features (default
    :data:`geo.settings.min_share_in_window`; 0 = at least one) must overlap;
    otherwise an :class:`InputError` names the file, its extent and the
    window, and says when swapping longitude and latitude would fit.
    """
    share = settings.min_share_in_window if min_share is None else float(min_share)
    present = ~np.isnan(lonlat).any(axis=1)
    b = lonlat[present]
    inside = np.zeros(len(lonlat), bool)
    inside[present] = _overlaps(b, window)
    n, k = int(present.sum()), int(inside.sum())
    if n and (k == 0 or k < share * n):
        extent = _extent_text(b)
        if k == 0:
            head = f"all {n} {what} lie outside the region's window"
        else:
            head = f"only {k} of {n} {what} ({k / n:.0%}) overlap the region's window, fewer than the {share:.0%} required"
        swapped = _overlaps(b[:, [1, 0, 3, 2]], window).any()
        hint = "longitude and latitude look swapped (x holds latitudes)" if swapped else "wrong file or wrong CRS?"
        raise InputError(path, f"{head} (file extent {extent} lon/lat; {window.describe()}); {hint}")
    if k < n:
        level = logging.DEBUG if _inside_any(path, window.data_folders) else logging.WARNING
        log.log(level, "%s: %d of %d %s lie outside the %s", path, n - k, n, what, window.describe())
    return inside


def check_layer(gdf: gpd.GeoDataFrame, path, *, window: Window | None = None, what: str = "feature(s)",
                min_share: float | None = None) -> gpd.GeoDataFrame:
    """All checks of a read layer: CRS, coordinates, and overlap with ``window`` (default: the active one).

    Returns ``gdf`` with ``attrs["outside_window"]`` (features not overlapping the window; 0 without one).
    """
    lonlat = lonlat_bounds(gdf, path)
    window = window or active_window()
    outside = 0
    if window is not None and len(gdf):
        inside = check_in_window(lonlat, path, window, what=what, min_share=min_share)
        outside = int((~inside & ~np.isnan(lonlat).any(axis=1)).sum())
    gdf.attrs["outside_window"] = outside
    return gdf


def check_points(lon, lat, path, *, what: str = "point(s)", window: Window | None = None) -> np.ndarray:
    """Points given as longitude/latitude arrays (e.g. columns of a CSV table) checked like a layer's features.

    Returns which points overlap the window (all True without one).
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    lonlat = lonlat_bounds(frame, path)
    window = window or active_window()
    if window is None or not len(lon):
        return np.ones(len(lon), bool)
    return check_in_window(lonlat, path, window, what=what)


def check_raster_extent(crs, bounds, path, *, window: Window | None = None) -> None:
    """A raster's CRS usable and its ``bounds`` (left, bottom, right, top in ``crs``) finite and overlapping the window."""
    crs = usable_crs(crs, path)
    frame = gpd.GeoDataFrame(geometry=[shapely.box(*bounds)], crs=crs)
    lonlat = lonlat_bounds(frame, path)
    window = window or active_window()
    if window is not None:
        check_in_window(lonlat, path, window, what="raster extent(s)")


# ---------------------------------------------------------------------------------------------- helpers

def _to_lonlat(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _corners_to_lonlat(crs: CRS, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xs = np.column_stack([b[:, 0], b[:, 2], b[:, 2], b[:, 0]])
    ys = np.column_stack([b[:, 1], b[:, 1], b[:, 3], b[:, 3]])
    with np.errstate(all="ignore"):
        lon, lat = _to_lonlat(crs).transform(xs.ravel(), ys.ravel(), errcheck=False)
    lon, lat = np.asarray(lon).reshape(xs.shape), np.asarray(lat).reshape(ys.shape)
    lon[np.abs(lon) > 360] = np.inf
    lat[np.abs(lat) > 90 + _DEGREE_SLACK] = np.inf
    return lon, lat


def _not_degrees(big_x: float, big_y: float, crs: CRS) -> str:
    values = f"coordinates up to {_fmt(big_x)}, {_fmt(big_y)}"
    if max(big_x, big_y) > 1e8:
        return f"{values} are far beyond any map coordinate (broken values?)"
    if big_x <= 90 and big_y <= 180:
        return f"{values}: latitudes beyond 90° — longitude and latitude look swapped (give x = longitude, y = latitude)"
    return (f"{values} are not degrees, yet the CRS is {_crs_name(crs)} (a GeoJSON, a CSV or LON,LAT without a CRS "
            "is taken as WGS 84): probably metres (VN-2000, UTM …) — declare the CRS")


def _inside_any(path, folders) -> bool:
    try:
        resolved = Path(path).resolve()
    except (OSError, TypeError):
        return False
    return any(resolved.is_relative_to(Path(f).resolve()) for f in folders)


def _overlaps(b: np.ndarray, w: Window) -> np.ndarray:
    return (b[:, 2] >= w.west) & (b[:, 0] <= w.east) & (b[:, 3] >= w.south) & (b[:, 1] <= w.north)


def _extent_text(b: np.ndarray) -> str:
    return f"{_fmt(b[:, 0].min())}, {_fmt(b[:, 1].min())} – {_fmt(b[:, 2].max())}, {_fmt(b[:, 3].max())}"


def _fmt(value: float) -> str:
    return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.3g}"


def _crs_name(crs: CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code} {crs.name}" if code else crs.name


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
