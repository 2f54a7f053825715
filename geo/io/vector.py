"""Reading vector files (GeoJSON, GeoPackage, Shapefile, FlatGeobuf, CSV).

:func:`read_vector` is the one door for user files: whatever goes wrong comes
out as an :class:`~geo.errors.InputError` naming the file and the problem —
including a CRS that is unknown or local, coordinates that are not positions,
and a layer wholly outside the active region window (:mod:`geo.io.extent`).
Geometries are repaired (and the repairs counted), text is normalised to NFC.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj.exceptions import CRSError

from geo.errors import InputError
from geo.io.extent import check_declared_crs, check_layer
from geo.text import nfc

log = logging.getLogger(__name__)

#: File endings read by :func:`read_vector`.
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".csv", ".zip", ".kml", ".gml"}

_LON_NAMES = ("lon", "lng", "long", "longitude", "x")
_LAT_NAMES = ("lat", "latitude", "y")


def read_vector(path: str | os.PathLike, layer: str | None = None, crs=None, *, what: str = "feature(s)",
                min_share: float | None = None) -> gpd.GeoDataFrame:
    """Read a vector file into a GeoDataFrame, with clear errors; checked against the region (:mod:`geo.io.extent`).

    Parameters
    ----------
    path : a GeoJSON, GeoPackage, Shapefile, FlatGeobuf, KML/GML or CSV file.
        A CSV needs longitude/latitude columns (``lon``/``lat``,
        ``longitude``/``latitude`` or ``x``/``y``) and is taken as EPSG:4326
        unless ``crs`` says otherwise.
    layer : layer name for multi-layer files (GeoPackage).
    crs : CRS to assume when the file declares none. A file *with* a CRS
        keeps its own.
    what, min_share : how to name the features in messages, and the share of
        them that must overlap the active region window (see
        :func:`geo.io.extent.check_in_window`).

    Refused with an :class:`~geo.errors.InputError`: a CRS that is unknown,
    engineering (local) or not convertible to longitude/latitude; infinite
    coordinates, or "degrees" beyond ±180/±90 (metres without a CRS); a layer
    of which no feature overlaps the active region window
    (:func:`geo.io.extent.region_window`).

    Returns
    -------
    GeoDataFrame in the file's CRS, geometries valid (``attrs["repaired"]``
    counts repairs), text columns in NFC; ``attrs["outside_window"]`` counts
    the features outside the region window (kept: callers clip as they need).

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sites.csv"
    >>> _ = p.write_text("name,lon,lat\\nKép,106.2727,21.3986\\n", encoding="utf-8")
    >>> g = read_vector(p)
    >>> g.crs.to_epsg(), g.name.iloc[0]
    (4326, 'Kép')
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a folder, expected a vector file")
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise InputError(path, f"unknown format '{suffix or path.name}' (expected GeoJSON, GeoPackage, Shapefile, FlatGeobuf, KML or CSV with lon/lat)")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty")

    if suffix != ".csv":
        check_declared_crs(path)
    gdf = _read_csv(path, crs) if suffix == ".csv" else _read_ogr(path, layer)
    if len(gdf) == 0:
        raise InputError(path, "contains no features")
    if gdf.crs is None:
        if crs is None:
            raise InputError(path, "has no CRS (add a .prj file or declare the CRS); refusing to guess")
        gdf = gdf.set_crs(crs)
    gdf = check_layer(gdf, path, what=what, min_share=min_share)
    outside = gdf.attrs.get("outside_window", 0)
    gdf = _repair(gdf, path)
    gdf.attrs["outside_window"] = outside
    for col in gdf.columns:
        if col != gdf.geometry.name and (gdf[col].dtype == object or pd.api.types.is_string_dtype(gdf[col])):
            gdf[col] = gdf[col].map(nfc)
    return gdf


def _read_ogr(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    try:
        if layer is not None:
            names = [row[0] for row in pyogrio.list_layers(path)]
            if layer not in names:
                raise InputError(path, f"has no layer '{layer}' (layers: {', '.join(names)})")
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(path, f"bad text encoding ({exc.reason}); save it as UTF-8") from exc
    except CRSError as exc:
        raise InputError(path, f"declares a CRS that is not known ({str(exc).splitlines()[0]}); refusing to guess") from exc
    except Exception as exc:  # pyogrio/GDAL errors: DataSourceError, DataLayerError, ...
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        message = message.replace(str(path), "").strip(" :")
        raise InputError(path, f"cannot be read as a vector file ({message})") from exc


def read_table(path: str | os.PathLike, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a UTF-8 CSV table (no geometry); text in NFC; ``required`` columns checked.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("district,total\\nHiệp Hòa,247460\\n", encoding="utf-8")
    >>> read_table(p, required=("district",)).to_dict("records")
    [{'district': 'Hiệp Hòa', 'total': 247460}]
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        table = pd.read_csv(path, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, "bad text encoding: not UTF-8; save the CSV as UTF-8") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"not a readable CSV table ({str(exc).splitlines()[0]})") from exc
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)} (found: {', '.join(map(str, table.columns))})")
    for column in table.columns:
        if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
            table[column] = table[column].map(nfc)
    return table


def _read_csv(path: Path, crs) -> gpd.GeoDataFrame:
    table = read_table(path)
    lower = {c.lower().strip(): c for c in table.columns}
    lon = next((lower[n] for n in _LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in _LAT_NAMES if n in lower), None)
    if lon is None or lat is None:
        raise InputError(path, f"no longitude/latitude columns (expected lon/lat; found: {', '.join(map(str, table.columns))})")
    x = pd.to_numeric(table[lon], errors="coerce")
    y = pd.to_numeric(table[lat], errors="coerce")
    bad = int((x.isna() | y.isna()).sum())
    if bad:
        raise InputError(path, f"{bad} row(s) without numeric {lon}/{lat}")
    geometry = gpd.points_from_xy(x, y)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=crs or "EPSG:4326")


def _repair(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.values
    missing = shapely.is_missing(np.asarray(geoms)) | np.asarray(gdf.geometry.is_empty)
    if missing.all():
        raise InputError(path, "no feature has a geometry")
    invalid = ~np.asarray(gdf.geometry.is_valid) & ~missing
    gdf = gdf.copy()
    if invalid.any():
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(np.asarray(geoms)[invalid])
        log.warning("%s: repaired %d invalid geometr%s", path, invalid.sum(), "y" if invalid.sum() == 1 else "ies")
    if missing.any():
        log.warning("%s: dropped %d feature(s) without geometry", path, missing.sum())
        gdf = gdf.loc[~missing]
    gdf.attrs["repaired"] = int(invalid.sum())
    gdf.attrs["dropped_empty"] = int(missing.sum())
    gdf.attrs["source"] = str(path)
    return gdf


def keep_in_area(gdf: gpd.GeoDataFrame, area, path, *, what: str = "features", expected_outside: bool = False) -> gpd.GeoDataFrame:
    """Keep the features that intersect ``area`` (a shapely geometry in ``gdf``'s CRS).

    Raises :class:`InputError` when *none* do, the usual sign of a wrong CRS
    (e.g. VN-2000 metres declared as degrees); logs how many were dropped
    otherwise (as a warning, or as information when ``expected_outside``,
    e.g. for a national registry clipped to the region).
    """
    inside = np.asarray(gdf.intersects(area))
    if not inside.any():
        b = gdf.total_bounds
        raise InputError(path, f"all {len(gdf)} {what} lie outside the region (file extent {b[0]:.4g}, {b[1]:.4g} – {b[2]:.4g}, {b[3]:.4g}); wrong CRS?")
    if not inside.all():
        log.log(logging.INFO if expected_outside else logging.WARNING,
                "%s: %d of %d %s lie outside the region and were left out", path, (~inside).sum(), len(gdf), what)
    out = gdf.loc[inside].copy()
    out.attrs.update(gdf.attrs)
    out.attrs["outside_region"] = int((~inside).sum())
    return out
