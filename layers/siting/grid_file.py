"""The siting grid on disk: one multi-band GeoTIFF, ``OUT/sites_grid.tif``, and the table read back from it.

The grid layer of a run has one row per cell inside the region (388,985 at
100 m over old Bắc Giang) and about thirty columns. As vector squares in a
GeoPackage it weighed 140 MB and took seconds to write and to read back; as
a raster it is what it is — a grid: one float32 band per column (band
description = column name), 15 MB, written in about half a second, opening
in QGIS as a raster whose identify tool shows every value of a cell.

Bands: every column of :func:`layers.siting.tables._grid_frame` except the
cell's ``cell_id``, ``row`` and ``col`` (its position in the raster) and its
geometry. Booleans are 0/1, counts and labels whole numbers; the two text
columns are codes whose texts are in the file's tags (and in
``sites_summary.json``): ``district`` → band ``district_code`` (tag
``district_names``, a JSON list), ``excluded_by`` → band
``excluded_by_code`` (tag ``excluded_by_values``). Cells outside the region
are nodata in every band. The CRS is the grid's own (EPSG:32648): cells
stay square, nothing is resampled.

:func:`read_grid` gives the table back — the same columns, one row per
inside cell in raster order, cell centres (or squares) in EPSG:4326 — for the
maps and for anyone who wants the grid as a table.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.io.raster import read_geotiff_bands, write_geotiff_bands

#: File name of the grid in OUT.
GRID_FILE = "sites_grid.tif"
#: Columns kept as text, written as codes (band name, tag with the texts).
TEXT_COLUMNS = {"district": ("district_code", "district_names"), "excluded_by": ("excluded_by_code", "excluded_by_values")}
#: Columns that are the cell's position, not bands.
POSITION = ("cell_id", "row", "col")


def grid_bands(frame: pd.DataFrame, shape: tuple[int, int]) -> tuple[dict, dict]:
    """The bands (name → 2-D array, NaN outside the region) and tags of a grid table (``row``, ``col`` + columns)."""
    rows, cols = frame["row"].to_numpy(np.int64), frame["col"].to_numpy(np.int64)
    bands, kinds, tags = {}, {}, {}
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for column in frame.columns:
        if column in POSITION or column == geometry:
            continue
        values = frame[column]
        if column in TEXT_COLUMNS:
            band, tag = TEXT_COLUMNS[column]
            codes, names = pd.factorize(pd.Series(values, dtype=object), sort=True)     # −1 = no text
            data = np.where(codes >= 0, codes, np.nan)
            tags[tag] = json.dumps([str(n) for n in names], ensure_ascii=False)
            kinds[band] = "code"
        else:
            band = column
            array = values.to_numpy()
            kinds[band] = "bool" if array.dtype == bool else "int" if np.issubdtype(array.dtype, np.integer) else "float"
            data = array.astype(float)
        grid = np.full(shape, np.nan)
        grid[rows, cols] = data
        bands[band] = grid
    tags["column_kinds"] = json.dumps(kinds)
    tags["what"] = ("bgplan siting grid: one band per column of the grid table; outside the region = nodata; "
                    "district_code and excluded_by_code index the JSON lists district_names and excluded_by_values")
    return bands, tags


def write_grid(frame: pd.DataFrame, grid, path) -> Path:
    """Write the grid table ``frame`` of a :class:`geo.siting.grid.Grid` as ``path`` (see the module docstring).

    The table as it will read back (:func:`read_grid`: float32 values, raster order, cell centres) is kept for
    this file, so that the maps of the same run (``plan.py run``) do not read it back from disk."""
    bands, tags = grid_bands(frame, grid.shape)
    tags["cell_m"] = f"{float(grid.cell_m):g}"
    path = write_geotiff_bands(bands, grid.profile, path, tags=tags)
    _WRITTEN.clear()
    _WRITTEN[_stamp(path)] = _as_read(frame, bands, path)
    return path


#: The last grid written in this process, as :func:`read_grid` would give it, by the file's path, size and time.
_WRITTEN: dict = {}


def _stamp(path) -> tuple:
    st = Path(path).stat()
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def _as_read(frame: pd.DataFrame, bands: dict, path) -> gpd.GeoDataFrame:
    """``frame`` as :func:`read_grid` returns it from the file just written (the same values and column order)."""
    order = np.lexsort((frame["col"].to_numpy(), frame["row"].to_numpy()))
    ncols = next(iter(bands.values())).shape[1]
    rows, cols = frame["row"].to_numpy(np.int64)[order], frame["col"].to_numpy(np.int64)[order]
    data = {"cell_id": rows * ncols + cols, "row": rows, "col": cols}
    kinds = {}
    for band in bands:
        column = next((c for c, (b, _) in TEXT_COLUMNS.items() if b == band), band)
        values = frame[column].to_numpy()[order]
        if column in TEXT_COLUMNS:
            data[column] = pd.Series(values, dtype=object).where(pd.notna(values), None).to_numpy(dtype=object)
        elif values.dtype == bool:
            data[column] = values
        elif np.issubdtype(values.dtype, np.integer):
            data[column] = values.astype(np.int64)
        else:
            data[column] = values.astype(np.float32).astype(np.float64)
        kinds[column] = True
    geometry = frame.geometry.values[order] if isinstance(frame, gpd.GeoDataFrame) else None
    out = gpd.GeoDataFrame(data, geometry=geometry, crs=getattr(frame, "crs", None))
    out.attrs["grid_file"] = Path(path).name
    return out


def read_grid(path, squares: bool = False) -> gpd.GeoDataFrame:
    """The grid table of a ``sites_grid.tif``: one row per cell inside the region, in raster order, with
    ``cell_id``, ``row``, ``col``, ``district``, every band and ``excluded_by``; geometry the cell centres (or,
    with ``squares``, the cells), EPSG:4326."""
    try:
        kept = _WRITTEN.get(_stamp(path)) if not squares else None
    except OSError:
        kept = None
    if kept is not None:
        return kept.copy()
    bands, profile, tags = read_geotiff_bands(path)
    kinds = json.loads(tags.get("column_kinds") or "{}")
    inside = np.isfinite(bands["excluded"]) if "excluded" in bands else np.isfinite(next(iter(bands.values())))
    rows, cols = np.nonzero(inside)
    width = int(profile["width"])
    data = {"cell_id": (rows * width + cols).astype(np.int64), "row": rows.astype(np.int64), "col": cols.astype(np.int64)}
    by_band = {band: (column, tag) for column, (band, tag) in TEXT_COLUMNS.items()}
    for band, array in bands.items():
        values = array[inside]
        if band in by_band:
            column, tag = by_band[band]
            names = np.array([*json.loads(tags.get(tag) or "[]"), None], dtype=object)
            codes = np.where(np.isfinite(values), values, len(names) - 1).astype(np.int64)
            data[column] = names[codes]
            continue
        kind = kinds.get(band, "float")
        if kind == "bool":
            data[band] = values == 1
        elif kind == "int" and np.isfinite(values).all():
            data[band] = values.astype(np.int64)
        else:
            data[band] = values
    transform = profile["transform"]
    cell = abs(transform.a)
    left = transform.c + cols * cell
    top = transform.f - rows * cell
    if squares:
        geometry = shapely.box(left, top - cell, left + cell, top)
    else:
        geometry = shapely.points(left + cell / 2, top - cell / 2)
    frame = gpd.GeoDataFrame(data, geometry=geometry, crs=profile["crs"]).to_crs("EPSG:4326")
    frame.attrs["grid_file"] = str(Path(path).name)
    return frame
