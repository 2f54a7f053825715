"""Population: WorldPop grid rescaled to the census, and district totals.

:func:`population_raster` returns the WorldPop 1 km grid (people per
pixel, ``region.config["population_raster"]``) cut to the region window,
with every district's pixels multiplied so that the district sums equal the
2019 census totals (``region.config["census"]``). WorldPop 2020 (UN
adjusted) sums to 1,585,420 in old Bắc Giang, 12 % below the census
(1,803,950), hence the rescaling. Pixels outside every district (the rest of
the window) keep their WorldPop value; districts without a census total
are left unscaled and reported.

Provinces merged into a region (``boundary.merge_provinces``, e.g. old
Bắc Ninh in ``bac-ninh-2025``) take their census from the national 2019
ward table (``census.national_ward_file``, columns ``city``, ``district``,
``ward``, ``ward_title``, ``dist_title``, ``ward_id``, ``total``, ``urban``,
``rural``), for the provinces listed in ``census.national_provinces``
(region name → spelling of ``city`` in that table, e.g. ``Bắc Ninh:
BắcNinh``). That table writes names without spaces ("ThuậnThành"), so
districts are joined on a folded key without spaces (:func:`name_key`),
which works with either boundary source (GADM or geoBoundaries).

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
from geo.io.raster import clip_raster, read_raster, rescale_to_totals, zonal_sums
from geo.text import fold, nfc
from geo.io.vector import read_table
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


def name_key(text) -> str:
    """Join key of an administrative name: folded, without spaces ("Thuận Thành", "ThuậnThành" → "thuanthanh")."""
    return fold(text).replace(" ", "") if isinstance(text, str) else ""


def spaced_name(text: str) -> str:
    """Put back the spaces the national ward table drops: "ThuậnThành" → "Thuận Thành" (NFC)."""
    text = nfc(text)
    out = []
    for i, ch in enumerate(text):
        if i and ch.isupper() and text[i - 1].isalpha() and not text[i - 1].isupper():
            out.append(" ")
        out.append(ch)
    return "".join(out)


NATIONAL_COLUMNS = ("city", "district", "ward", "ward_title", "dist_title", "total", "urban", "rural")


def national_census_communes(region: Region) -> pd.DataFrame:
    """2019 census communes of the provinces in ``census.national_provinces``, from the national ward table.

    Columns: ``province_vi`` (region spelling), ``district``, ``district_type``,
    ``commune``, ``commune_type`` (names with spaces, NFC), ``ward_id``
    (GADM level-3 id), ``total``, ``urban``, ``rural`` (persons; an empty
    urban or rural cell means none of that kind: the table gives
    total = urban + rural, checked here), ``area_km2``. Empty frame when the
    region names no national provinces.
    """
    cfg = region.section("census")
    provinces = cfg.get("national_provinces") or {}
    columns = ["province_vi", "district", "district_type", "commune", "commune_type", "ward_id",
               "total", "urban", "rural", "area_km2"]
    if not provinces:
        return pd.DataFrame(columns=columns)
    path = region.path("census", "national_ward_file")
    table = _read_table(path, NATIONAL_COLUMNS)
    by_city = {str(v): nfc(k) for k, v in provinces.items()}
    table = table[table["city"].astype(str).isin(by_city)].copy()
    missing = sorted(set(by_city) - set(table["city"]))
    if missing:
        raise InputError(path, f"no ward rows for province(s) {', '.join(missing)} (column 'city')")
    urban, rural = table["urban"].fillna(0), table["rural"].fillna(0)
    bad = (urban + rural - table["total"]).abs() > 0.5
    if bad.any():
        raise InputError(path, f"{int(bad.sum())} ward row(s) where total != urban + rural")
    out = pd.DataFrame({
        "province_vi": table["city"].map(by_city),
        "district": table["district"].map(spaced_name),
        "district_type": table["dist_title"].map(spaced_name),
        "commune": table["ward"].map(spaced_name),
        "commune_type": table["ward_title"].map(spaced_name),
        "ward_id": table.get("ward_id"),
        "total": table["total"].astype("float64"),
        "urban": urban.astype("float64"),
        "rural": rural.astype("float64"),
        "area_km2": pd.to_numeric(table.get("area_sqm"), errors="coerce") / 1e6,
    })
    return out.reset_index(drop=True)


def national_census_districts(region: Region) -> pd.DataFrame:
    """District totals of :func:`national_census_communes` (sums of their communes).

    Columns as the district census file (``district``, ``district_type``,
    ``total``, ``urban``, ``rural``, ``urban_share``, ``census_date``,
    ``source``) plus ``province_vi`` and ``communes`` (count).
    """
    cfg = region.section("census")
    communes = national_census_communes(region)
    if communes.empty:
        return pd.DataFrame(columns=["province_vi", *CENSUS_COLUMNS, "district_type", "communes", "census_date", "source"])
    grouped = communes.groupby(["province_vi", "district", "district_type"], sort=False)
    out = grouped[["total", "urban", "rural"]].sum().reset_index()
    out["communes"] = grouped.size().values
    out["urban_share"] = (out["urban"] / out["total"]).round(4)
    out["census_date"] = cfg.get("date", "")
    out["source"] = cfg.get("national_source", cfg.get("source", ""))
    return out


def census_districts(region: Region) -> pd.DataFrame:
    """Census table per district, names in NFC.

    Rows of ``census.district_file`` (the region's own province;
    ``province_vi`` None), then the districts of the merged provinces from the
    national ward table (:func:`national_census_districts`; only provinces
    in ``boundary.merge_provinces``, so no district is listed twice).
    """
    path = region.path("census", "district_file")
    table = _read_table(path, CENSUS_COLUMNS)
    if table["district"].duplicated().any():
        dups = sorted(table.loc[table["district"].duplicated(), "district"].unique())
        raise InputError(path, f"district(s) listed twice: {', '.join(dups)}")
    table.insert(0, "province_vi", None)
    merged = {nfc(n) for n in region.section("boundary").get("merge_provinces") or []}
    national = national_census_districts(region)
    national = national[national["province_vi"].isin(merged)]
    if not national.empty:
        table = pd.concat([table, national], ignore_index=True)
    return table


def census_communes(region: Region) -> pd.DataFrame:
    """Census table per commune (``census.commune_file``): district, commune, commune_type, total …"""
    path = region.path("census", "commune_file")
    return _read_table(path, ("district", "commune", "commune_type", "total"))


def region_census_communes(region: Region) -> pd.DataFrame:
    """Census communes of every district of the region: the region's own commune file, then the
    communes of the merged provinces (``boundary.merge_provinces``) from the national ward table.

    Columns: ``province_vi`` (None for the region's own province), ``district``,
    ``commune``, ``commune_type`` (as written by each source: compare folded),
    ``total``, ``urban``, ``urban_share`` (persons; share 0–1).
    """
    own = census_communes(region)
    own = own.assign(province_vi=None, urban=own.get("urban", np.nan))
    if "urban_share" not in own:
        own["urban_share"] = own["urban"] / own["total"]
    merged = {nfc(n) for n in region.section("boundary").get("merge_provinces") or []}
    national = national_census_communes(region)
    national = national[national["province_vi"].isin(merged)].copy()
    national["urban_share"] = (national["urban"] / national["total"]).round(4)
    columns = ["province_vi", "district", "commune", "commune_type", "total", "urban", "urban_share"]
    return pd.concat([own[columns], national[columns]], ignore_index=True)


def census_for_units(region: Region, units: gpd.GeoDataFrame, census: pd.DataFrame | None = None) -> pd.DataFrame:
    """District census rows aligned on ``units`` (:func:`layers.boundaries.districts`), NaN rows where unknown.

    ``census`` defaults to :func:`census_districts`; see :func:`_census_totals` for the join.
    """
    return _census_totals(region, units, census_districts(region) if census is None else census)


def _census_totals(region: Region, units: gpd.GeoDataFrame, census: pd.DataFrame) -> pd.DataFrame:
    """Census rows aligned on ``units`` (NaN rows for units the census does not cover).

    Units of the region's own province join the district file, units of a
    merged province (``boundary.merge_provinces``) join the national rows of
    that province only (never a same-named district elsewhere); both on
    :func:`name_key` of the district name. Merged provinces without national
    rows stay unknown.
    """
    merged = {nfc(n) for n in region.section("boundary").get("merge_provinces") or []}
    province = census["province_vi"] if "province_vi" in census else pd.Series(None, index=census.index)
    census_keys = [(name_key(p) if isinstance(p, str) else "", name_key(d)) for p, d in zip(province, census["district"])]
    by_key = census.set_index(pd.MultiIndex.from_tuples(census_keys))
    unit_keys = [(name_key(p) if p in merged else "", name_key(d)) for p, d in zip(units["province_vi"], units["district"])]
    rows = by_key.reindex(pd.MultiIndex.from_tuples(unit_keys))
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

    matched_keys = {name_key(d) for d in out.loc[known, "district"]}
    unmatched_census = sorted(d for d in census["district"] if name_key(d) not in matched_keys)
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
