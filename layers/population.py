"""Population: WorldPop grid rescaled to the census, and district totals.

:func:`population_raster` returns the WorldPop 1 km grid (people per
pixel, ``region.config["population_raster"]``) cut to the region window,
with every district's pixels multiplied so that the district sums equal the
2019 census totals (``region.config["census"]``). WorldPop 2020 (UN
adjusted) sums to 1,585,420 in old Bắc Giang, 12 % below the census
(1,803,950), hence the rescaling. Pixels outside every district (the rest of
the window) keep their WorldPop value; districts without a census total
(old Bắc Ninh in ``bac-ninh-2025``) are left unscaled and reported.

:func:`district_population` columns
------------------------------------
``district``, ``type_vi``, ``name_full_vi``, ``province_vi``, ``former``,
``area_km2`` : from :func:`layers.boundaries.districts`.
``total``, ``urban``, ``rural`` : census population (persons), NaN when the
    census file has no row for the district (unknown, never 0).
``urban_share`` : urban / total (0–1).
``census_date``, ``source`` : census date (ISO) and source text.
``density_per_km2`` : total / area_km2.
``worldpop_raw`` : WorldPop sum of the pixels whose centres lie in the district.
``worldpop_rescaled`` : the same after rescaling (= ``total`` where known).
``rescale_factor`` : census / WorldPop (NaN when not rescaled).
``boundary_source`` : source of the district polygon.
``note`` : why a value is missing, else empty.

``attrs["summary"]`` : census and WorldPop totals, districts without census.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.raster import clip_raster, read_raster, rescale_to_totals, zonal_sums
from geo.text import nfc
from geo.vector import read_table
from layers.boundaries import districts, region_window
from layers.region import Region

log = logging.getLogger(__name__)

CENSUS_COLUMNS = ("district", "total", "urban", "rural", "urban_share")


def _read_table(path, required) -> pd.DataFrame:
    table = read_table(path, required=tuple(required))
    for col in ("total", "urban", "rural", "urban_share"):
        if col in table:
            table[col] = pd.to_numeric(table[col], errors="coerce")
    return table


def census_districts(region: Region) -> pd.DataFrame:
    """Census table per district (``census.district_file``), names in NFC."""
    path = region.path("census", "district_file")
    table = _read_table(path, CENSUS_COLUMNS)
    if table["district"].duplicated().any():
        dups = sorted(table.loc[table["district"].duplicated(), "district"].unique())
        raise InputError(path, f"district(s) listed twice: {', '.join(dups)}")
    return table


def census_communes(region: Region) -> pd.DataFrame:
    """Census table per commune (``census.commune_file``): district, commune, commune_type, total …"""
    path = region.path("census", "commune_file")
    return _read_table(path, ("district", "commune", "commune_type", "total"))


def _census_totals(region: Region, units: gpd.GeoDataFrame, census: pd.DataFrame) -> pd.DataFrame:
    """Census rows aligned on ``units`` (NaN rows for units the census does not cover).

    The census files describe the region's own (pre-merger) province only:
    units of provinces merged in (``boundary.merge_provinces``) get no row
    even if a name happens to repeat.
    """
    merged = {nfc(n) for n in region.section("boundary").get("merge_provinces") or []}
    covered = ~units["province_vi"].isin(merged)
    by_name = census.set_index("district")
    rows = by_name.reindex(units["district"].where(covered))
    rows.index = units.index
    return rows


def population_raster(region: Region) -> tuple[np.ndarray, dict, pd.DataFrame]:
    """WorldPop grid (persons per pixel) cut to the region window, rescaled per district to the census.

    Returns ``(array, profile, factors)``; ``factors`` has one row per
    district: ``district``, ``province_vi``, ``raw_sum``, ``total`` (census),
    ``factor``, ``rescaled_sum``, ``status`` (``rescaled`` /
    ``total_unknown`` / ``no_pixels`` / ``not_rescaled`` when the region
    config sets ``rescale_to_census: false``). ``factors.attrs`` holds
    ``outside_sum`` (people in window pixels outside every district, kept
    as WorldPop gives them), ``year`` and ``source``.
    """
    cfg = region.section("population_raster")
    array, profile = read_raster(region.path("population_raster"))
    window = gpd.GeoSeries([region_window(region)], crs="EPSG:4326")
    array, profile = clip_raster(array, profile, window)
    units = districts(region)
    census = census_districts(region)
    rows = _census_totals(region, units, census)
    totals = rows["total"]
    if cfg.get("rescale_to_census", True):
        out, factors = rescale_to_totals(array, profile, units, totals)
    else:
        out = array
        raw = zonal_sums(array, profile, units)
        factors = pd.DataFrame({"raw_sum": raw, "total": totals, "factor": np.nan, "rescaled_sum": raw,
                                "status": "not_rescaled"}, index=units.index)
        factors.attrs["outside_sum"] = float(np.nansum(array) - np.nansum(raw))
    factors.insert(0, "province_vi", units["province_vi"].values)
    factors.insert(0, "district", units["district"].values)
    factors.attrs.update(year=cfg.get("year"), source=cfg.get("source", ""))
    unscaled = factors.loc[factors["status"] == "total_unknown", "district"].tolist()
    if unscaled:
        log.warning("%s: no census total for %d district(s) (%s): WorldPop values kept unscaled",
                    region.id, len(unscaled), ", ".join(unscaled))
    return out, profile, factors


def district_population(region: Region, factors: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Districts with census totals and WorldPop sums (see module docstring for columns).

    ``factors`` : the third item returned by :func:`population_raster`, to
    avoid building the raster twice; computed here when not given.
    """
    units = districts(region)
    census = census_districts(region)
    rows = _census_totals(region, units, census)
    census_cfg = region.section("census")
    if factors is None:
        _, _, factors = population_raster(region)
    if len(factors) != len(units) or list(factors["district"]) != list(units["district"]):
        raise ValueError("factors do not belong to this region's districts")

    out = units.rename(columns={"source": "boundary_source"}).copy()
    for col in ("total", "urban", "rural", "urban_share"):
        out[col] = rows[col].astype("float64").values
    known = out["total"].notna()
    dates = rows["census_date"] if "census_date" in rows else pd.Series(np.nan, index=rows.index)
    sources = rows["source"] if "source" in rows else pd.Series(np.nan, index=rows.index)
    out["census_date"] = np.where(known, dates.fillna(census_cfg.get("date", "")).astype(str), None)
    out["source"] = np.where(known, sources.fillna(census_cfg.get("source", "")).astype(str), None)
    out["density_per_km2"] = (out["total"] / out["area_km2"]).round(1)
    out["worldpop_raw"] = factors["raw_sum"].values
    out["worldpop_rescaled"] = factors["rescaled_sum"].values
    out["rescale_factor"] = factors["factor"].values
    notes = []
    for has_total, status in zip(known, factors["status"]):
        if not has_total:
            notes.append("no census total in the census file for this unit: population unknown; WorldPop left unscaled")
        elif status == "no_pixels":
            notes.append("no WorldPop pixel centre in this unit: cannot be rescaled")
        else:
            notes.append("")
    out["note"] = notes
    columns = ["district", "type_vi", "name_full_vi", "province_vi", "former", "area_km2", "total", "urban", "rural",
               "urban_share", "census_date", "source", "density_per_km2", "worldpop_raw", "worldpop_rescaled",
               "rescale_factor", "boundary_source", "note", "geometry"]
    out = gpd.GeoDataFrame(out[columns], geometry="geometry", crs=units.crs).to_crs("EPSG:4326")

    unmatched_census = sorted(set(census["district"]) - set(out.loc[known, "district"]))
    out.attrs["summary"] = {
        "districts": int(len(out)),
        "districts_with_census": int(known.sum()),
        "districts_without_census": out.loc[~known, "district"].tolist(),
        "census_rows_not_matched": unmatched_census,
        "census_total": float(out["total"].sum(min_count=1)) if known.any() else None,
        "census_urban": float(out["urban"].sum(min_count=1)) if known.any() else None,
        "census_date": census_cfg.get("date"),
        "census_source": census_cfg.get("source", ""),
        "worldpop_year": factors.attrs.get("year"),
        "worldpop_raw_in_districts": float(np.nansum(out["worldpop_raw"])),
        "worldpop_rescaled_in_districts": float(np.nansum(out["worldpop_rescaled"])),
        "worldpop_outside_districts_in_window": factors.attrs.get("outside_sum"),
        "worldpop_source": factors.attrs.get("source", ""),
    }
    if unmatched_census:
        log.warning("%s: census district(s) without a polygon: %s", region.id, ", ".join(unmatched_census))
    return out
