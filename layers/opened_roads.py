"""Roads opened since the region's road network file (``today_network.additions``).

Each addition is a line file (any vector format) shipped in ``layers/roads/``
or next to the region file. Lines carry ``name``, ``road_class``, ``source``,
``opened`` (date), ``alignment`` ("surveyed", "traced" or "indicative") and
optionally ``ref`` and ``official_length_km``; points with ``role:
interchange`` are where a controlled-access road can be entered.

Read by :mod:`layers.networks` (which appends them to today's network) and
:mod:`layers.corridors` (which reports them as existing corridors)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import InputError
from geo.io.vector import read_vector
from layers.region import REGIONS_DIR, Region

#: Columns every opened road line must fill.
ADDITION_COLUMNS = ("name", "road_class", "source", "opened", "alignment")


def addition_files(region: Region) -> list[Path]:
    """The files of ``today_network.additions`` of the region (InputError naming the region file when one is missing)."""
    return shipped_files(region, "today_network", "additions")


def shipped_files(region: Region, section: str, key: str) -> list[Path]:
    """Files named in ``section.key`` of the region YAML, found next to the region file or in ``layers/``."""
    files = []
    for name in (region.config.get(section) or {}).get(key) or []:
        for folder in (Path(region.source_file).parent, REGIONS_DIR.parent):
            path = Path(name) if Path(name).is_absolute() else folder / name
            if path.exists():
                files.append(path)
                break
        else:
            raise InputError(region.source_file, f"{section}.{key}: '{name}' not found next to the region file or in layers/")
    return files


def read_opened_roads(path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Roads opened since the network file (lines, EPSG:4326) and their interchanges (points).

    Lines need ``name``, ``road_class``, ``source``, ``opened`` (date) and
    ``alignment`` ("surveyed", "traced" or "indicative"); an optional ``ref``.
    Points (``role: interchange``) are where a controlled-access road can be entered.
    """
    features = read_vector(path).to_crs("EPSG:4326")
    kinds = features.geometry.geom_type
    lines = features[kinds.isin(["LineString", "MultiLineString"])].reset_index(drop=True)
    if lines.empty:
        raise InputError(path, "has no line features (the opened roads)")
    for col in ADDITION_COLUMNS:
        if col not in lines or lines[col].isna().any() or (lines[col].astype(str).str.strip() == "").any():
            raise InputError(path, f"every road line needs '{col}' (network additions state name, class, source, opening date and alignment quality)")
    lines["opened"] = [str(v)[:10] if hasattr(v, "year") else str(v) for v in lines["opened"]]
    points = features[kinds == "Point"].reset_index(drop=True)
    return lines, points


def official_length_km(row) -> float:
    """The official length (km) of an opened road line, NaN when the file gives none.

    >>> import math
    >>> official_length_km({"official_length_km": 64}), math.isnan(official_length_km({}))
    (64.0, True)
    """
    value = row.get("official_length_km") if hasattr(row, "get") else getattr(row, "official_length_km", None)
    return float(pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0])
