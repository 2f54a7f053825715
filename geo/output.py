"""Writing outputs without ever leaving a half-written file behind.

Every output is first written to a temporary file next to its destination and
renamed into place only when complete (``os.replace`` is atomic on one file
system). If anything fails, the temporary file is removed and an existing
output is left untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

import geopandas as gpd
import pandas as pd

from geo import settings


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path; move it onto ``final`` when the block succeeds.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "a.txt").read_text()
    'done'
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.stem}-", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # let the writer create it (GDAL refuses to open an empty file)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if leftover.exists():
                leftover.unlink()


def write_geopackage(layers: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write several layers into one GeoPackage, atomically.

    GeoDataFrames are stored in EPSG:4326 (storage CRS) so the file opens in
    QGIS next to any web map; plain DataFrames become attribute-only tables.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
                out = frame.to_crs(settings.storage_crs) if frame.crs is not None else frame
                out.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            else:
                import pyogrio

                pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=name, driver="GPKG")
    return path


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table as UTF-8 CSV (geometry, if any, left out), atomically."""
    path = Path(path)
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")
    return path


def write_json(data, path: str | os.PathLike) -> Path:
    """Write ``data`` as pretty UTF-8 JSON, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path
