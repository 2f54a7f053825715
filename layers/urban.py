"""Urban areas: cities and towns (OSM places) with census population.

Source: ``region.config["places"]`` (OSM place points of 2018; ``fclass``,
``name``, ``osm_id``, ``population``). Only urban place classes are kept
(:data:`URBAN_CLASSES`); villages and hamlets are counted in the summary.
Each place is joined to the district it lies in (point in polygon) and to
the census:

* district level: the 2019 census total and urban share of the district
  (the region's own district file; for provinces merged into the region,
  e.g. former Bắc Ninh in ``bac-ninh-2025``, the national 2019 ward table,
  :func:`layers.population.census_for_units`);
* commune level: when the place name equals a *thị trấn* or *phường* of
  the same district in the commune census (the commune file, and the
  national ward table for merged provinces; compared with
  :func:`geo.text.fold`, so "Cầu Gô" meets "Cầu Gồ"), that commune's
  population; NaN otherwise.

The OSM ``population`` tag is 0 for every place in Bắc Giang: 0 there means
"not tagged", so it is carried only as ``osm_population`` with 0 → NaN and is
never used as a population.

Columns
-------
``kind`` : ``"place"`` or ``"builtup_area"`` (polygons from ``osm_builtup``).
``name`` : place name (NFC). ``place_class`` : OSM class (city, town, suburb …).
``osm_id`` : OSM node id (places). ``in_region`` : inside the region outline.
``district`` : district (pre-2025) holding the feature; None outside all districts.
``district_population``, ``district_urban_share`` : 2019 census of that district (NaN if unknown).
``commune``, ``commune_type`` : matched census commune (Thị trấn / Phường), else None.
``commune_population``, ``commune_urban_share`` : its 2019 census figures, else NaN.
``osm_population`` : OSM ``population`` tag, NaN when absent or 0.
``programme_town`` : name of the urban-development programme town the place
    stands for (Bắc Giang city, Việt Yên, Hiệp Hòa, Lạng Giang, Chũ), else None.
``is_programme_town`` : bool.
``area_ha`` : built-up polygon area inside the window (ha); NaN for places.
``note`` : reason for missing values.

``attrs["summary"]`` : counts by class in the region, matches, programme
towns found / not found.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.errors import InputError
from geo.text import fold, nfc
from geo.io.vector import read_vector
from layers.boundaries import districts, region_polygon, region_window
from layers.population import census_for_units, region_census_communes
from layers.region import Region

log = logging.getLogger(__name__)

#: OSM place classes taken as urban.
URBAN_CLASSES = ("national_capital", "city", "town", "suburb")

#: Census commune types that are urban units.
URBAN_COMMUNE_TYPES = ("Thị trấn", "Phường")

#: Default programme towns (Bắc Giang urban development programme): the
#: place(s) standing for each programme town, by district. Việt Yên became a
#: thị xã (2024) from the towns Bích Động and Nếnh; Hiệp Hòa, Lạng Giang and
#: Lục Ngạn are represented by their district seats (Thắng, Vôi, Chũ).
#: A region may override this with a ``programme_towns`` mapping of the same shape.
PROGRAMME_TOWNS = {
    "Bắc Giang": {"district": "Bắc Giang", "places": ["Bắc Giang"]},
    "Việt Yên": {"district": "Việt Yên", "places": ["Bích Động", "Nếnh"]},
    "Hiệp Hòa": {"district": "Hiệp Hòa", "places": ["Thắng"]},
    "Lạng Giang": {"district": "Lạng Giang", "places": ["Vôi"]},
    "Chũ": {"district": "Lục Ngạn", "places": ["Chũ"]},
}

COLUMNS = ["kind", "name", "place_class", "osm_id", "in_region", "district", "district_population",
           "district_urban_share", "commune", "commune_type", "commune_population", "commune_urban_share",
           "osm_population", "programme_town", "is_programme_town", "area_ha", "note", "geometry"]


def _programme_lookup(region: Region) -> dict[tuple[str, str], str]:
    spec = region.config.get("programme_towns") or PROGRAMME_TOWNS
    lookup = {}
    for town, item in spec.items():
        if not isinstance(item, dict) or "district" not in item:
            raise InputError(region.source_file, f"programme_towns.{town} needs a 'district' (and optional 'places')")
        for place in item.get("places") or [town]:
            lookup[(fold(item["district"]), fold(place))] = nfc(town)
    return lookup


def _district_of(points: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> pd.Series:
    """District name per point (first unit containing it; GADM districts overlap in slivers)."""
    joined = gpd.sjoin(points[[points.geometry.name]], units[["district", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["district"].reindex(points.index)


def urban_areas(region: Region, osm_builtup: gpd.GeoDataFrame | None = None,
                classes: tuple[str, ...] = URBAN_CLASSES) -> gpd.GeoDataFrame:
    """Cities and towns in the region window with district and commune census figures.

    ``osm_builtup`` : optional polygons of built-up areas (e.g. OSM
    landuse=residential/commercial/industrial), any CRS; appended as
    ``kind="builtup_area"`` rows, cut to the window.
    """
    path = region.path("places")
    places_all = read_vector(path)
    for col in ("fclass", "name"):
        if col not in places_all:
            raise InputError(path, f"no '{col}' column (expected OSM places with fclass, name)")
    places_all = places_all.to_crs("EPSG:4326")
    window = region_window(region)
    outline = region_polygon(region)
    places_all = places_all.loc[np.asarray(places_all.within(window))].copy()
    places_all["in_region"] = np.asarray(places_all.within(outline))

    units = districts(region)
    census, census_units = _district_census(region, units)
    communes = region_census_communes(region)
    communes = communes[communes["commune_type"].map(fold).isin({fold(t) for t in URBAN_COMMUNE_TYPES})]
    commune_by_key = {(fold(d), fold(c)): row for (d, c), row in
                      zip(zip(communes["district"], communes["commune"]), communes.itertuples(index=False))}
    programme = _programme_lookup(region)

    places = places_all[places_all["fclass"].isin(classes)].copy()
    places["district"] = _district_of(places, units)
    rows = []
    for rec in places.itertuples():
        district = rec.district if isinstance(rec.district, str) else None
        known = district in census_units and district in census.index
        c = commune_by_key.get((fold(district), fold(rec.name))) if district and isinstance(rec.name, str) else None
        notes = []
        if district is None:
            notes.append("outside the region's districts: no census")
        elif not known:
            notes.append("district not covered by the census files: district and commune population unknown")
        if c is None and known:
            district_type = fold(census.loc[district, "district_type"])
            if rec.fclass == "city" and known and district_type == fold("Thành phố"):
                notes.append("city = district-level unit: its population is district_population")
            elif fold(rec.name) == fold(district) and district_type in (fold("Thành phố"), fold("Thị xã")):
                notes.append("town = district-level unit (thị xã / thành phố): its population is district_population")
            else:
                notes.append("no thị trấn/phường of this name in the district: commune population unknown")
        osm_pop = pd.to_numeric(getattr(rec, "population", np.nan), errors="coerce")
        town = programme.get((fold(district), fold(rec.name))) if district and isinstance(rec.name, str) else None
        rows.append({
            "kind": "place", "name": rec.name, "place_class": rec.fclass,
            "osm_id": str(rec.osm_id) if hasattr(rec, "osm_id") and pd.notna(rec.osm_id) else None,
            "in_region": bool(rec.in_region), "district": district,
            "district_population": float(census.loc[district, "total"]) if known else np.nan,
            "district_urban_share": float(census.loc[district, "urban_share"]) if known else np.nan,
            "commune": c.commune if c is not None else None,
            "commune_type": c.commune_type if c is not None else None,
            "commune_population": float(c.total) if c is not None else np.nan,
            "commune_urban_share": float(c.urban_share) if c is not None and "urban_share" in communes else np.nan,
            "osm_population": float(osm_pop) if pd.notna(osm_pop) and osm_pop > 0 else np.nan,
            "programme_town": town, "is_programme_town": town is not None,
            "area_ha": np.nan, "note": "; ".join(notes), "geometry": rec.geometry,
        })
    out = gpd.GeoDataFrame(rows, columns=COLUMNS, geometry="geometry", crs="EPSG:4326")

    if osm_builtup is not None:
        out = pd.concat([out, _builtup_rows(osm_builtup, region, units, census, census_units, window, outline)],
                        ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")

    in_region = places_all[places_all["in_region"]]
    pl = out[out["kind"] == "place"]
    found_towns = sorted(set(pl["programme_town"].dropna()))
    spec = region.config.get("programme_towns") or PROGRAMME_TOWNS
    out.attrs["summary"] = {
        "places_in_region_by_class": {str(k): int(v) for k, v in in_region["fclass"].value_counts().items()},
        "places_in_region": int(len(in_region)),
        "urban_places_in_window": int(len(pl)),
        "urban_places_in_region": int(pl["in_region"].sum()),
        "urban_places_with_commune_census": int(pl["commune"].notna().sum()),
        "urban_places_in_region_without_commune_match": pl.loc[pl["in_region"] & pl["commune"].isna(), "name"].tolist(),
        "urban_communes_without_place": sorted(
            f"{c} ({d})" for d, c, t in zip(communes["district"], communes["commune"], communes["commune_type"])
            if fold(t) == fold("Thị trấn") and (d, c) not in set(zip(pl["district"], pl["commune"]))),
        "programme_towns_found": found_towns,
        "programme_towns_not_found": sorted(set(map(nfc, spec)) - set(found_towns)),
        "builtup_areas": int((out["kind"] == "builtup_area").sum()),
        "osm_population_note": "OSM population tag is 0 (= not tagged) for every place in the region; not used",
        "census_date": region.section("census").get("date"),
    }
    missing = out.attrs["summary"]["programme_towns_not_found"]
    if missing:
        log.warning("%s: programme town(s) not found among OSM places: %s", region.id, ", ".join(missing))
    return out


def _district_census(region: Region, units: gpd.GeoDataFrame) -> tuple[pd.DataFrame, set]:
    """District census indexed by district name, and the districts it covers.

    The region's own province from its district file, merged provinces
    (``boundary.merge_provinces``) from the national ward table
    (:func:`layers.population.census_for_units`): every district with a census row.
    """
    rows = census_for_units(region, units)
    rows.index = units["district"].to_numpy()
    rows = rows[~rows.index.duplicated(keep="first")]
    return rows, set(rows.index[rows["total"].notna()])


def _builtup_rows(builtup: gpd.GeoDataFrame, region: Region, units, census, census_units, window, outline) -> gpd.GeoDataFrame:
    if builtup.crs is None:
        raise InputError(builtup.attrs.get("source"), "built-up polygons have no CRS")
    polys = builtup.to_crs("EPSG:4326")
    polys = polys.loc[polys.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    polys = polys.loc[np.asarray(polys.intersects(window))]
    polys[polys.geometry.name] = polys.geometry.intersection(window)
    polys = polys.loc[~polys.geometry.is_empty]
    anchors = gpd.GeoDataFrame(geometry=polys.geometry.representative_point(), crs="EPSG:4326", index=polys.index)
    district = _district_of(anchors, units)
    names = polys["name"].map(nfc) if "name" in polys else pd.Series(None, index=polys.index)
    known = district.isin(census_units) & district.isin(census.index)
    out = gpd.GeoDataFrame({
        "kind": "builtup_area", "name": names.values, "place_class": None,
        "osm_id": polys["osm_id"].astype(str).values if "osm_id" in polys else None,
        "in_region": np.asarray(polys.intersects(outline)),
        "district": district.where(district.notna(), None).values,
        "district_population": [float(census.loc[d, "total"]) if k else np.nan for d, k in zip(district, known)],
        "district_urban_share": [float(census.loc[d, "urban_share"]) if k else np.nan for d, k in zip(district, known)],
        "commune": None, "commune_type": None, "commune_population": np.nan, "commune_urban_share": np.nan,
        "osm_population": np.nan, "programme_town": None, "is_programme_town": False,
        "area_ha": (to_metric(polys, region.metric_crs).area / 1e4).round(2).values,
        "note": "",
    }, geometry=polys.geometry.values, crs="EPSG:4326")
    return out[COLUMNS]
