"""Rasters: reading, clipping, reprojecting, zonal sums, rescaling, slope, writing.

Every function is pure: it takes an ``(array, profile)`` pair and returns a
new one, never touching files except :func:`read_raster` and
:func:`write_geotiff`.

Conventions
-----------
* Arrays are 2-D ``float64``; cells without data are ``NaN`` ("unknown"),
  never 0. Only band 1 of a file is read.
* ``profile`` is a rasterio profile (``crs``, ``transform``, ``width``,
  ``height`` …); after :func:`read_raster` its ``dtype`` is ``float64`` and
  its ``nodata`` is ``nan``.
* Polygons are taken in the raster's CRS when given as shapely geometries;
  a GeoSeries/GeoDataFrame with a CRS is reprojected first.
* "Inside a polygon" means *pixel centre inside* (rasterio's default
  rasterisation rule), so each pixel belongs to at most one zone.

Example: a 4 × 4 grid of ones (1° pixels), summed over a 2° × 2° square:

>>> import numpy as np
>>> from rasterio.transform import from_origin
>>> from shapely.geometry import box
>>> import geopandas as gpd
>>> profile = {"crs": "EPSG:4326", "transform": from_origin(100, 20, 1, 1), "width": 4, "height": 4}
>>> zones = gpd.GeoDataFrame({"name": ["a"]}, geometry=[box(100, 18, 102, 20)], crs="EPSG:4326")
>>> zonal_sums(np.ones((4, 4)), profile, zones).tolist()
[4.0]
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.crs
import rasterio.errors
import rasterio.features
import rasterio.transform
import rasterio.warp
import rasterio.windows
from pyproj import CRS, Geod
from rasterio.enums import Resampling

from geo.errors import DataGapError, InputError
from geo.io.extent import check_raster_extent
from geo.io.output import atomic_path

log = logging.getLogger(__name__)

#: Value written for NaN cells by :func:`write_geotiff`.
NODATA_OUT = -9999.0


# ---------------------------------------------------------------- reading

def read_raster(path: str | os.PathLike) -> tuple[np.ndarray, dict]:
    """Read band 1 of a raster file as ``float64`` with ``NaN`` for nodata.

    Returns ``(array, profile)``; the profile keeps the file's CRS and
    transform, with ``dtype='float64'``, ``nodata=nan`` and ``count=1``.
    A missing file, a file GDAL cannot read, a file without a usable CRS
    (none, engineering/local, unknown) or one that lies outside the active
    region window (:func:`geo.io.extent.region_window`) raises
    :class:`~geo.errors.InputError` naming the file.
    """
    with _opened(path) as src:
        band = src.read(1)
        nodata = src.nodata
        profile = dict(src.profile)
    array = band.astype("float64")
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        array[band == nodata] = np.nan
    profile.update(dtype="float64", nodata=np.nan, count=1)
    return array, profile


def check_raster(path: str | os.PathLike) -> None:
    """The checks of :func:`read_raster` without reading the pixels (cheap: for refusing a bad file early)."""
    with _opened(path):
        pass


@contextlib.contextmanager
def _opened(path: str | os.PathLike):
    """An open rasterio dataset with a band and a usable CRS inside the region window; errors name the file."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a folder, expected a raster file (GeoTIFF)")
    try:
        src = rasterio.open(path)
    except Exception as exc:  # RasterioIOError, CPLE_* …
        raise InputError(path, f"cannot be read as a raster ({_message(exc, path)})") from exc
    with src:
        if src.count < 1:
            raise InputError(path, "raster has no band")
        if src.crs is None:
            raise InputError(path, "raster has no CRS (georeference it, e.g. with gdal_translate -a_srs); refusing to guess")
        check_raster_extent(src.crs.to_wkt(), tuple(src.bounds), path)
        try:
            yield src
        except InputError:
            raise
        except rasterio.errors.RasterioError as exc:
            raise InputError(path, f"cannot be read as a raster ({_message(exc, path)})") from exc


def _message(exc: Exception, path: Path) -> str:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return message.replace(str(path), "").strip(" :")


# ---------------------------------------------------------------- helpers

def _as_geometry(polygon, crs):
    """A shapely geometry in ``crs`` from shapely / GeoSeries / GeoDataFrame input."""
    if isinstance(polygon, (gpd.GeoSeries, gpd.GeoDataFrame)):
        geoms = polygon.geometry if isinstance(polygon, gpd.GeoDataFrame) else polygon
        if geoms.crs is not None and crs is not None:
            geoms = geoms.to_crs(crs)
        return geoms.union_all()
    return polygon


def _pixel_centre_mask(geometry, profile: dict) -> np.ndarray:
    """Boolean array: True where the pixel centre lies in ``geometry``."""
    if geometry is None or geometry.is_empty:
        return np.zeros((profile["height"], profile["width"]), dtype=bool)
    return rasterio.features.geometry_mask([geometry], out_shape=(profile["height"], profile["width"]),
                                           transform=profile["transform"], invert=True, all_touched=False)


def _pixel_sizes_m(profile: dict) -> tuple[np.ndarray, np.ndarray]:
    """Pixel width and height in metres, one value per row (shape ``(height, 1)``).

    Geographic grids: from the CRS's ellipsoid at each row's centre latitude
    (prime-vertical and meridional radii). Projected grids: the transform's
    pixel size times the CRS's linear unit.
    """
    transform = profile["transform"]
    if transform.b != 0 or transform.d != 0:
        raise ValueError("rotated rasters are not supported")
    crs = CRS.from_user_input(profile["crs"])
    height = profile["height"]
    if crs.is_geographic:
        ellipsoid = crs.ellipsoid
        a = ellipsoid.semi_major_metre
        inv_f = ellipsoid.inverse_flattening
        e2 = 0.0 if not inv_f else (2 - 1 / inv_f) / inv_f
        lat = np.radians(transform.f + (np.arange(height) + 0.5) * transform.e)
        s2 = np.sin(lat) ** 2
        n = a / np.sqrt(1 - e2 * s2)                 # prime-vertical radius
        m = a * (1 - e2) / (1 - e2 * s2) ** 1.5      # meridional radius
        dx = abs(transform.a) * math.pi / 180 * n * np.cos(lat)
        dy = abs(transform.e) * math.pi / 180 * m
    else:
        unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        dx = np.full(height, abs(transform.a) * unit)
        dy = np.full(height, abs(transform.e) * unit)
    return dx[:, None], dy[:, None]


def _polygon_area_m2(geometry, crs) -> float:
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        area, _ = Geod(ellps="WGS84").geometry_area_perimeter(geometry)
        return abs(area)
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return geometry.area * unit * unit


# ---------------------------------------------------------------- clip / reproject

def clip_raster(array: np.ndarray, profile: dict, polygon, crop: bool = True) -> tuple[np.ndarray, dict]:
    """Keep the pixels whose centres lie in ``polygon``; others become NaN.

    With ``crop=True`` the grid is also cut to the smallest block of whole
    pixels holding every pixel centre inside the polygon (never beyond the
    raster); the pixel grid is not moved or resampled. Raises :class:`~geo.errors.DataGapError` when the
    polygon does not overlap the raster.

    >>> import numpy as np
    >>> from rasterio.transform import from_origin
    >>> from shapely.geometry import box
    >>> p = {"crs": "EPSG:4326", "transform": from_origin(0, 4, 1, 1), "width": 4, "height": 4}
    >>> a, q = clip_raster(np.arange(16.0).reshape(4, 4), p, box(1, 1, 3, 3))
    >>> a.tolist(), q["width"], q["transform"].c
    ([[5.0, 6.0], [9.0, 10.0]], 2, 1.0)
    """
    geometry = _as_geometry(polygon, profile["crs"])
    out = np.array(array, dtype="float64", copy=True)
    profile = dict(profile)
    if crop:
        full = rasterio.windows.Window(0, 0, profile["width"], profile["height"])
        minx, miny, maxx, maxy = geometry.bounds
        win = rasterio.windows.from_bounds(minx, miny, maxx, maxy, transform=profile["transform"])
        win = win.round_offsets(op="floor").round_lengths(op="ceil")
        # round_lengths after flooring the offset can fall short of the far edge by a pixel
        win = rasterio.windows.Window(win.col_off, win.row_off, win.width + 1, win.height + 1)
        try:
            win = win.intersection(full)
        except rasterio.errors.WindowError as exc:
            raise DataGapError(None, "the area does not overlap the raster") from exc
        if win.width <= 0 or win.height <= 0:
            raise DataGapError(None, "the area does not overlap the raster")
        r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
        out = out[r0:r0 + h, c0:c0 + w]
        profile.update(transform=rasterio.windows.transform(win, profile["transform"]), width=w, height=h)
    mask = _pixel_centre_mask(geometry, profile)
    if not mask.any():
        raise DataGapError(None, "the area does not overlap the raster (no pixel centre inside)")
    out[~mask] = np.nan
    if crop:  # drop the spare row/column added by outward rounding when it is empty
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        out = out[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        transform = profile["transform"] @ rasterio.Affine.translation(cols[0], rows[0])
        profile.update(transform=transform, width=out.shape[1], height=out.shape[0])
    profile.update(dtype="float64", nodata=np.nan)
    return out, profile


def reproject_raster(array: np.ndarray, profile: dict, dst_crs, resolution: float | tuple | None = None,
                     resampling: Resampling = Resampling.bilinear) -> tuple[np.ndarray, dict]:
    """Warp to ``dst_crs`` (e.g. ``"EPSG:32648"``); ``resolution`` in the target CRS's units.

    NaN cells stay unknown (they are the source and target nodata).
    Choose ``resampling`` by meaning: ``bilinear``/``cubic`` for continuous
    fields (elevation), ``nearest`` for classes, ``sum`` for counts such as
    population (keeps totals when the target pixels are coarser).
    """
    src_crs = profile["crs"]
    height, width = array.shape
    left, bottom, right, top = rasterio.transform.array_bounds(height, width, profile["transform"])
    kwargs = {"resolution": resolution} if resolution is not None else {}
    transform, dst_width, dst_height = rasterio.warp.calculate_default_transform(
        src_crs, dst_crs, width, height, left=left, bottom=bottom, right=right, top=top, **kwargs)
    out = np.full((dst_height, dst_width), np.nan, dtype="float64")
    rasterio.warp.reproject(source=np.asarray(array, dtype="float64"), destination=out,
                            src_transform=profile["transform"], src_crs=src_crs, src_nodata=np.nan,
                            dst_transform=transform, dst_crs=dst_crs, dst_nodata=np.nan, resampling=resampling)
    new = dict(profile)
    new.update(crs=rasterio.crs.CRS.from_user_input(dst_crs), transform=transform, width=dst_width,
               height=dst_height, dtype="float64", nodata=np.nan)
    return out, new


# ---------------------------------------------------------------- zones

def zone_labels(profile: dict, zones_gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Integer array: position (0…n-1) of the zone holding each pixel centre, −1 outside all.

    Where zones overlap, the later zone wins.
    """
    zones = zones_gdf.to_crs(profile["crs"]) if zones_gdf.crs is not None else zones_gdf
    shapes = [(geom, i) for i, geom in enumerate(zones.geometry) if geom is not None and not geom.is_empty]
    if not shapes:
        return np.full((profile["height"], profile["width"]), -1, dtype="int32")
    return rasterio.features.rasterize(shapes, out_shape=(profile["height"], profile["width"]),
                                       transform=profile["transform"], fill=-1, all_touched=False, dtype="int32")


def zonal_sums(array: np.ndarray, profile: dict, zones_gdf: gpd.GeoDataFrame, by: str = "pixel_centre") -> pd.Series:
    """Sum of the values whose pixel centres fall in each zone (indexed like ``zones_gdf``).

    NaN cells are skipped. A zone holding no pixel centre with data gets
    NaN (unknown at this resolution), not 0.
    """
    if by != "pixel_centre":
        raise ValueError(f"by={by!r}: only 'pixel_centre' is supported")
    labels = zone_labels(profile, zones_gdf)
    values = np.asarray(array, dtype="float64")
    ok = (labels >= 0) & np.isfinite(values)
    n = len(zones_gdf)
    sums = np.bincount(labels[ok], weights=values[ok], minlength=n)[:n]
    counts = np.bincount(labels[ok], minlength=n)[:n]
    sums = np.where(counts > 0, sums, np.nan)
    return pd.Series(sums, index=zones_gdf.index, name="sum")


def rescale_to_totals(array: np.ndarray, profile: dict, zones_gdf: gpd.GeoDataFrame,
                      totals: pd.Series) -> tuple[np.ndarray, pd.DataFrame]:
    """Scale each zone's pixels so the zone sums equal ``totals``.

    Typical use: WorldPop 2020 counts per district rescaled to the 2019
    census district totals. ``totals`` is indexed like ``zones_gdf``.

    * Pixels outside every zone keep their value (they are not part of any
      known total); their sum is reported in ``factors.attrs["outside_sum"]``.
    * A zone whose total is unknown (NaN or missing) keeps its pixels
      unscaled (status ``"total_unknown"``).
    * A zone with a total but no pixel value to scale (raw sum NaN or 0)
      is also left as it is (status ``"no_pixels"``).

    Returns ``(array, factors)``; ``factors`` has, per zone, ``raw_sum``,
    ``total``, ``factor`` (NaN when not scaled), ``rescaled_sum`` and
    ``status`` (``"rescaled"`` / ``"total_unknown"`` / ``"no_pixels"``).

    >>> import numpy as np, pandas as pd, geopandas as gpd
    >>> from rasterio.transform import from_origin
    >>> from shapely.geometry import box
    >>> p = {"crs": "EPSG:4326", "transform": from_origin(0, 2, 1, 1), "width": 3, "height": 2}
    >>> zones = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 2), box(1, 0, 2, 2)], crs="EPSG:4326")
    >>> out, f = rescale_to_totals(np.ones((2, 3)), p, zones, pd.Series([10.0, np.nan]))
    >>> out.tolist(), f["status"].tolist()
    ([[5.0, 1.0, 1.0], [5.0, 1.0, 1.0]], ['rescaled', 'total_unknown'])
    """
    totals = pd.to_numeric(pd.Series(totals), errors="coerce").reindex(zones_gdf.index)
    labels = zone_labels(profile, zones_gdf)
    values = np.asarray(array, dtype="float64")
    raw = zonal_sums(values, profile, zones_gdf)
    out = values.copy()
    rows = []
    for pos, key in enumerate(zones_gdf.index):
        total, raw_sum = totals.loc[key], raw.loc[key]
        if pd.isna(total):
            status, factor = "total_unknown", np.nan
        elif pd.isna(raw_sum) or raw_sum <= 0:
            status, factor = "no_pixels", np.nan
        else:
            status, factor = "rescaled", float(total) / float(raw_sum)
            out[labels == pos] *= factor
        rows.append({"raw_sum": raw_sum, "total": total, "factor": factor, "status": status})
    factors = pd.DataFrame(rows, index=zones_gdf.index)
    factors["rescaled_sum"] = zonal_sums(out, profile, zones_gdf)
    outside = (labels < 0) & np.isfinite(values)
    factors.attrs["outside_sum"] = float(values[outside].sum())
    unscaled = factors.index[factors["status"] != "rescaled"].tolist()
    if unscaled:
        log.info("rescale: %d zone(s) left unscaled (%s)", len(unscaled), ", ".join(map(str, unscaled)))
    return out, factors[["raw_sum", "total", "factor", "rescaled_sum", "status"]]


# ---------------------------------------------------------------- terrain

def slope_degrees(dem: np.ndarray, profile: dict) -> np.ndarray:
    """Slope in degrees from an elevation grid (metres), with distances in metres.

    A geographic DEM (degrees) is not reprojected: the pixel width and
    height are converted to metres at each row's latitude on the CRS's
    ellipsoid. Central differences (one-sided at the grid edges). A cell
    without elevation, or with a neighbour without elevation, is NaN
    ("unknown"), never 0.

    >>> import numpy as np
    >>> from rasterio.transform import from_origin
    >>> p = {"crs": "EPSG:32648", "transform": from_origin(0, 300, 100, 100), "width": 3, "height": 3}
    >>> ramp = np.array([[0.0, 100, 200]] * 3)             # rises 100 m per 100 m eastwards
    >>> float(slope_degrees(ramp, p)[1, 1])
    45.0
    >>> ramp[1, 1] = np.nan
    >>> bool(np.isnan(slope_degrees(ramp, p)).sum() == 5)    # the void and its 4 neighbours
    True
    """
    z = np.asarray(dem, dtype="float64")
    if z.ndim != 2:
        raise ValueError("slope_degrees needs a 2-D elevation array")
    if min(z.shape) < 2:
        return np.full(z.shape, np.nan)
    dx, dy = _pixel_sizes_m(profile)
    gx = np.gradient(z, axis=1) / dx
    gy = np.gradient(z, axis=0) / dy
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    slope[~np.isfinite(z)] = np.nan    # central differences skip the centre cell itself
    return slope


def coverage_share(array: np.ndarray, profile: dict, polygon) -> float:
    """Share (0–1) of ``polygon``'s area covered by pixels with data.

    Area-weighted: each finite pixel whose centre is in the polygon counts
    for its true area (in m², varying with latitude on geographic grids);
    parts of the polygon beyond the raster count as uncovered.
    Use it to state how much of a region a partial layer describes.
    """
    geometry = _as_geometry(polygon, profile["crs"])
    if geometry is None or geometry.is_empty:
        return float("nan")
    mask = _pixel_centre_mask(geometry, profile) & np.isfinite(np.asarray(array, dtype="float64"))
    dx, dy = _pixel_sizes_m(profile)
    covered = float((mask * (dx * dy)).sum())
    return float(min(1.0, covered / _polygon_area_m2(geometry, profile["crs"])))


# ---------------------------------------------------------------- writing

def write_geotiff(array: np.ndarray, profile: dict, path: str | os.PathLike) -> Path:
    """Write a single-band float32 GeoTIFF atomically (NaN → nodata −9999, deflate).

    The file carries its CRS and nodata value, so it opens as is in QGIS.
    """
    path = Path(path)
    data = np.asarray(array, dtype="float64")
    if data.ndim != 2:
        raise ValueError("write_geotiff writes one band: give a 2-D array")
    nodata = NODATA_OUT
    if np.any(data == nodata):
        nodata = float(np.finfo("float32").min)
    out = np.where(np.isfinite(data), data, nodata).astype("float32")
    height, width = out.shape
    options = {"driver": "GTiff", "dtype": "float32", "count": 1, "width": width, "height": height,
               "crs": profile["crs"], "transform": profile["transform"], "nodata": nodata,
               "compress": "deflate", "predictor": 3}
    if width >= 256 and height >= 256:
        options.update(tiled=True, blockxsize=256, blockysize=256)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **options) as dst:
            dst.write(out, 1)
    return path


def write_geotiff_bands(bands: dict, profile: dict, path: str | os.PathLike, tags: dict | None = None,
                        zlevel: int = 1) -> Path:
    """Write named 2-D arrays as one multi-band float32 GeoTIFF atomically (NaN → nodata, deflate).

    Each band's description is its name, so QGIS lists the bands by name and its identify tool shows every
    value of a pixel at once; ``tags`` (text) go into the file's metadata. Read back with
    :func:`read_geotiff_bands`. The same nodata rule as :func:`write_geotiff`: −9999, or the lowest float32
    when a value is −9999. ``zlevel``: deflate level (1, the default, writes a 30-band grid of 670,000 cells
    in about 0.8 s for a file 5 % larger than level 6's, which takes 1.3 s).

    >>> import tempfile
    >>> from rasterio.transform import from_origin
    >>> p = {"crs": "EPSG:32648", "transform": from_origin(0, 200, 100, 100), "width": 2, "height": 2}
    >>> bands = {"score": np.array([[0.5, np.nan], [1.0, 0.0]]), "site": np.array([[1, 0], [2, 2]])}
    >>> path = write_geotiff_bands(bands, p, Path(tempfile.mkdtemp()) / "g.tif", tags={"what": "test"})
    >>> back, profile, tags = read_geotiff_bands(path)
    >>> list(back), back["score"].tolist(), tags["what"]
    (['score', 'site'], [[0.5, nan], [1.0, 0.0]], 'test')
    """
    path = Path(path)
    names = list(bands)
    arrays = [np.asarray(bands[n], dtype="float32") for n in names]
    nodata = NODATA_OUT
    if any(np.any(a == nodata) for a in arrays):
        nodata = float(np.finfo("float32").min)
    out = np.empty((len(arrays), *arrays[0].shape), dtype="float32")
    for i, a in enumerate(arrays):
        np.copyto(out[i], a)
        out[i][~np.isfinite(a)] = nodata
    count, height, width = out.shape
    options = {"driver": "GTiff", "dtype": "float32", "count": count, "width": width, "height": height,
               "crs": profile["crs"], "transform": profile["transform"], "nodata": nodata,
               "compress": "deflate", "zlevel": int(zlevel), "predictor": 3, "interleave": "band"}
    if width >= 256 and height >= 256:
        options.update(tiled=True, blockxsize=256, blockysize=256)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **options) as dst:
            dst.write(out)
            for i, name in enumerate(names, start=1):
                dst.set_band_description(i, str(name))
            if tags:
                dst.update_tags(**{str(k): str(v) for k, v in tags.items()})
    return path


def read_geotiff_bands(path: str | os.PathLike) -> tuple[dict, dict, dict]:
    """Every band of a raster as ``float64`` arrays (nodata → NaN), by band description (``band_<i>`` when it has
    none): ``(bands, profile, tags)``. Errors name the file, as :func:`read_raster`."""
    with _opened(path) as src:
        data = src.read(masked=True).astype("float64").filled(np.nan)
        names = [d or f"band_{i}" for i, d in enumerate(src.descriptions, start=1)]
        profile = dict(src.profile)
        tags = dict(src.tags())
    profile.update(dtype="float64", nodata=np.nan, count=1)
    return dict(zip(names, data)), profile, tags
