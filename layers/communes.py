"""The 2025 communes (xã/phường) of a merged province, and reports by commune.

Since 1 July 2025 the merged Bắc Ninh province has two tiers: the province
and its communes and wards. This module builds:

* :func:`communes_2025` — the official list of the province's units from the
  PyPI package ``vietnam-provinces`` (July 2025 divisions, GSO codes);
* :func:`commune_mapping` — each 2019 census commune (national ward table,
  :func:`layers.population.national_census_communes`) followed to its 2025
  commune in three steps:

  1. 2019 → 10/11/2024 by the GSO ward change record
     (``communes.ward_change_file``: one row per 2019 unit with its unit on
     10/11/2024; mergers give several rows the same target);
  2. 10/11/2024 → 1/7/2025 by the old→new table of the PyPI package
     ``vietnam-address-converter`` (Apache-2.0; state just before 1/7/2025),
     joined on province, district and commune names (folded keys); a
     commune whose district was renamed or absorbed in between is looked up
     under the successor districts named in ``communes.district_successors``;
  3. units that the converter no longer lists (merged between 10/11/2024 and
     1/7/2025) by ``communes.interim_changes`` (sourced, region YAML), else
     by inference: the 2025 communes that received the district's new
     interim units (or, if there are none, all 2025 communes the district
     feeds) are the candidates, and the population is split equally among
     them, with the range [0, all] per candidate. The ``assignment`` column
     says which step placed each commune.

* :func:`commune_report` — one row per 2025 commune with population (2019
  census, with range), urban share, parks (count, area, status) and the 2019
  communes it was made of.

No commune polygons exist offline: the layer is points (the OSM place of
the same name when there is one, else an OSM place named like one of its
2019 communes inside that commune's former district, else no geometry, with
a note in ``location``), or the polygons of ``--communes FILE`` (a vector
file with a name or code column). With a network and a population grid,
:mod:`layers.commune_access` adds the access columns (people within N
minutes of a park, median minutes to QL1A / CT.01) and says per row how
they were computed (``access_method``).

Columns of :func:`commune_report`
---------------------------------
``code`` : GSO 2025 code (int). ``name_vi`` : "Xã Tân Yên" (NFC).
``type_vi`` : "xã" / "phường". ``population`` : 2019 census persons
(central estimate). ``population_min``, ``population_max`` : range when part
of it rests on an inferred assignment (equal to ``population`` otherwise).
``urban``, ``urban_share`` : urban persons (central) and share (0–1).
``communes_2019`` : the 2019 communes (with former district) it includes;
``former_districts`` : their districts. ``assignment`` : "record" when every
part was followed through the change record and the converter, else
"includes inferred parts". ``parks``, ``parks_area_ha``, ``parks_status`` :
industrial parks and clusters whose address names this commune (or one of
its 2019/2024 communes). ``location`` : where the point comes from.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.text import nfc
from layers.population import name_key, national_census_communes
from layers.region import Region

log = logging.getLogger(__name__)

_TYPES = ("thành phố", "thị xã", "thị trấn", "huyện", "quận", "phường", "xã", "tỉnh")


def strip_type(name: str) -> str:
    """Name without its unit type: "Thị Trấn Kép" → "Kép", "Huyện Tân Yên" → "Tân Yên" (NFC)."""
    name = nfc(name) if isinstance(name, str) else ""
    low = name.lower()
    for prefix in _TYPES:
        if low.startswith(prefix + " "):
            return name[len(prefix) + 1:]
    return name


def _key(name) -> str:
    return name_key(strip_type(name))


@dataclass(frozen=True)
class CommuneOptions:
    """What the commune layer reads (the ``communes:`` section of the region YAML)."""

    province_2025: str                   # name in vietnam-provinces, e.g. "Bắc Ninh"
    expected_units: int                  # official count (99 for Bắc Ninh 2025)
    provinces_2019: tuple[str, ...]      # region names of the former provinces, e.g. ("Bắc Giang", "Bắc Ninh")
    district_successors: dict            # former district → districts it became part of before 1/7/2025
    interim_changes: tuple               # ({province, district, commune, joined, source}, …)

    def __post_init__(self):
        if self.expected_units <= 0:
            raise ValueError("expected_units must be positive")
        if not self.provinces_2019:
            raise ValueError("provinces_2019 must name at least one province")
        for row in self.interim_changes:
            missing = {"province", "district", "commune", "joined", "source"} - set(row)
            if missing:
                raise ValueError(f"interim change {row} lacks {', '.join(sorted(missing))}")

    @classmethod
    def from_region(cls, region: Region) -> "CommuneOptions":
        """Options from ``region.config["communes"]``; a one-line error naming the region file when invalid."""
        cfg = region.section("communes")
        try:
            return cls(province_2025=nfc(cfg["province_2025"]), expected_units=int(cfg["expected_units"]),
                       provinces_2019=tuple(nfc(p) for p in cfg["provinces_2019"]),
                       district_successors={nfc(k): [nfc(x) for x in v] for k, v in (cfg.get("district_successors") or {}).items()},
                       interim_changes=tuple(cfg.get("interim_changes") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(region.source_file, f"section 'communes': {exc}") from exc


def package_versions() -> dict:
    """Versions of the two packages the commune list and mapping come from."""
    from importlib.metadata import version
    return {"vietnam-provinces": version("vietnam-provinces"),
            "vietnam-address-converter": version("vietnam-address-converter")}


def communes_2025(options: CommuneOptions) -> pd.DataFrame:
    """Official 2025 communes of the province: ``code`` (GSO), ``name_vi``, ``type_vi``, ``key``.

    From ``vietnam-provinces`` (its nested JSON data); an error if the
    province is missing or the count differs from ``expected_units``.
    """
    import vietnam_provinces

    path = vietnam_provinces.NESTED_DIVISIONS_JSON_PATH
    provinces = json.loads(path.read_text(encoding="utf-8"))
    found = [p for p in provinces if name_key(p["name"]) == name_key(options.province_2025)]
    if len(found) != 1:
        raise InputError(path, f"province '{options.province_2025}' not found once in vietnam-provinces")
    wards = found[0]["wards"]
    out = pd.DataFrame({"code": [int(w["code"]) for w in wards], "name_vi": [nfc(w["name"]) for w in wards],
                        "type_vi": [nfc(w["division_type"]) for w in wards]})
    out["key"] = out["name_vi"].map(_key)
    if len(out) != options.expected_units:
        raise InputError(path, f"{options.province_2025}: {len(out)} units in vietnam-provinces, expected {options.expected_units}")
    if out["key"].duplicated().any():
        raise InputError(path, f"{options.province_2025}: two units share a name")
    return out.sort_values("code").reset_index(drop=True)


def read_ward_changes(region: Region, options: CommuneOptions) -> pd.DataFrame:
    """GSO ward change record 1/1/2019 → 10/11/2024 for the former provinces.

    Columns read (by position, the file's header is Vietnamese): province,
    district, commune (2019), commune, district, province (10/11/2024),
    note. Returns ``province_vi``, ``district``, ``commune``, ``key_2019``,
    ``province_2024``, ``district_2024``, ``commune_2024``, ``note``.
    """
    path = region.path("communes", "ward_change_file")
    try:
        table = pd.read_excel(path, dtype=str, engine="calamine")
    except Exception as exc:       # noqa: BLE001 - any reader failure is a bad input file
        raise InputError(path, f"cannot read the ward change record: {exc}") from exc
    if table.shape[1] < 13:
        raise InputError(path, f"expected 13 columns (province … note), found {table.shape[1]}")
    table = table.iloc[:, [1, 3, 5, 6, 8, 10, 12]]
    table.columns = ["province", "district", "commune", "commune_2024", "district_2024", "province_2024", "note"]
    wanted = {name_key(p) for p in options.provinces_2019}
    table = table[table["province"].map(_key).isin(wanted)].copy()
    if table.empty:
        raise InputError(path, f"no rows for {', '.join(options.provinces_2019)}")
    table["province_vi"] = table["province"].map(strip_type)
    table["key_2019"] = table["province"].map(_key) + "|" + table["district"].map(_key) + "|" + table["commune"].map(_key)
    return table.reset_index(drop=True)


def _converter_rows(options: CommuneOptions) -> pd.DataFrame:
    """Rows of vietnam-address-converter's old→new table that end in the province."""
    from vietnam_address_converter.data import mapping

    rows = [r for r in mapping["rows"] if _key(r["new"]["province_name"]) == name_key(options.province_2025)]
    out = pd.DataFrame({
        "province": [_key(r["old"]["province_name"]) for r in rows],
        "district": [_key(r["old"]["district_name"]) for r in rows],
        "commune": [_key(r["old"]["ward_name"]) for r in rows],
        "commune_2024_vi": [nfc(r["old"]["ward_name"]) for r in rows],
        "new_key": [_key(r["new"]["ward_name"]) for r in rows],
    })
    return out.drop_duplicates(["province", "district", "commune", "new_key"]).reset_index(drop=True)


def commune_mapping(region: Region, options: CommuneOptions | None = None) -> pd.DataFrame:
    """2019 census communes → 2025 communes (one row per 2019 commune and 2025 target).

    Columns: ``province_vi``, ``district``, ``commune``, ``commune_type``,
    ``total``, ``urban`` (2019 census), ``commune_2024`` (its unit on
    10/11/2024), ``code``, ``name_vi`` (2025 commune), ``share`` (part of
    the 2019 population counted there: 1, or 1/n when inferred among n
    candidates), ``assignment`` ("record", "interim change (source)" or
    "inferred: one of n candidates"), ``note``.
    """
    options = options or CommuneOptions.from_region(region)
    census = national_census_communes(region)
    census = census[census["province_vi"].isin(options.provinces_2019)].copy()
    census["key_2019"] = census["province_vi"].map(_key) + "|" + census["district"].map(_key) + "|" + census["commune"].map(_key)
    changes = read_ward_changes(region, options).drop_duplicates("key_2019")
    merged = census.merge(changes[["key_2019", "commune_2024", "district_2024", "note"]], on="key_2019", how="left")
    lost = merged["commune_2024"].isna()
    if lost.any():
        raise InputError(region.path("communes", "ward_change_file"),
                         f"{int(lost.sum())} census commune(s) not in the change record, e.g. {merged.loc[lost, 'commune'].iloc[0]}")

    units = communes_2025(options)
    by_key = units.set_index("key")
    conv = _converter_rows(options)
    successors = {name_key(k): {name_key(x) for x in v} for k, v in options.district_successors.items()}

    reached: set = set()          # converter rows some 2024 unit of the change record leads to

    def targets(row) -> list[str]:
        prov, com = _key(row["province_vi"]), _key(row["commune_2024"])
        hit = conv[(conv["province"] == prov) & (conv["commune"] == com) & conv["district"].isin(_districts(row, successors))]
        reached.update(hit.index)
        return sorted(set(hit["new_key"]))

    interim = {(name_key(r["province"]), name_key(r["district"]), name_key(r["commune"])): r for r in options.interim_changes}
    rows = []
    for _, row in merged.iterrows():
        found = targets(row)
        assignment = "record"
        if not found:
            entry = interim.get((_key(row["province_vi"]), _key(row["district"]), _key(row["commune_2024"])))
            if entry is not None:
                joined = dict(row, commune_2024=entry["joined"])
                found = targets(joined)
                assignment = f"interim change ({entry['source']})"
        rows.append((row, found, assignment))

    # Inference for units the converter no longer lists.
    out = []
    for row, found, assignment in rows:
        if not found:
            found = _infer(row, conv, reached, successors)
            assignment = f"inferred: one of {len(found)} candidate(s) (unit merged between 10/11/2024 and 1/7/2025; not in the converter)"
        missing = [k for k in found if k not in by_key.index]
        if missing or not found:
            raise InputError(region.source_file, f"2019 commune {row['commune']} ({row['district']}): no 2025 commune found")
        for key in found:
            out.append({"province_vi": row["province_vi"], "district": row["district"], "commune": row["commune"],
                        "commune_type": row["commune_type"], "total": row["total"], "urban": row["urban"],
                        "commune_2024": row["commune_2024"], "code": int(by_key.loc[key, "code"]),
                        "name_vi": by_key.loc[key, "name_vi"], "share": 1.0 / len(found), "assignment": assignment,
                        "note": row["note"] if isinstance(row["note"], str) else ""})
    return pd.DataFrame(out)


def _districts(row, successors: dict) -> set:
    """Folded keys of the districts a unit may be listed under in the converter (2019, 2024 and successors)."""
    keys = {_key(row["district_2024"]), _key(row["district"])}
    return keys | set().union(*(successors.get(k, set()) for k in keys))


def _infer(row, conv: pd.DataFrame, reached: set, successors: dict) -> list[str]:
    """Candidate 2025 keys for a 2024 unit absent from the converter (see module docstring, step 3)."""
    local = conv[(conv["province"] == _key(row["province_vi"])) & conv["district"].isin(_districts(row, successors))]
    fresh = local[~local.index.isin(list(reached))]
    pool = fresh if not fresh.empty else local
    return sorted(set(pool["new_key"]))


def _park_communes(parks: gpd.GeoDataFrame, mapping: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """2025 commune code of each park, from the commune names in its address (NaN when none matches)."""
    new = dict(zip(units["key"], units["code"]))
    old: dict[tuple[str, str], set] = {}
    for _, m in mapping.iterrows():
        for name in (m["commune"], m["commune_2024"]):
            old.setdefault((name_key(m["district"]), _key(name)), set()).add(m["code"])
    codes = []
    communes = parks.get("commune", pd.Series(index=parks.index, dtype=object))
    for address, district, listed in zip(parks.get("address", pd.Series(index=parks.index, dtype=object)),
                                         parks.get("district", pd.Series(index=parks.index, dtype=object)), communes):
        code = np.nan
        names = []
        if isinstance(address, str):
            names = re.findall(r"(?:xã|phường|thị trấn)\s+([^,;]+)", nfc(address), flags=re.IGNORECASE)
        if not names and isinstance(listed, str):     # the communes an open position names ("Quang Châu; Vân Trung")
            names = [re.sub(r"\s*\(.*$", "", re.sub(r"^(TT|xã|phường)\s+", "", n.strip(), flags=re.I)) for n in listed.split(";")][:1]
        if names:
            for name in names:
                k = name_key(name.strip())
                hits = old.get((name_key(district), k)) if isinstance(district, str) else None
                if hits and len(hits) == 1:
                    code = next(iter(hits))
                    break
                if k in new:
                    code = new[k]
                    break
        codes.append(code)
    return pd.Series(codes, index=parks.index, dtype="float64")


def commune_report(region: Region, parks: gpd.GeoDataFrame | None = None, places: gpd.GeoDataFrame | None = None,
                   polygons: gpd.GeoDataFrame | None = None, options: CommuneOptions | None = None,
                   net=None, population=None) -> gpd.GeoDataFrame:
    """One row per 2025 commune (see module docstring), EPSG:4326.

    ``parks`` : :func:`layers.parks.industrial_parks` (with ``district``), or
    None (park columns NaN = not computed). ``places`` : OSM places with a
    ``name`` column, for points. ``polygons`` : commune polygons with a
    ``code`` or ``name`` column (``--communes FILE``); when given they are
    the geometry. ``net`` (:class:`layers.networks.Networks`) and
    ``population`` (``(array, profile)``, people per cell): when both are
    given, the access columns of :mod:`layers.commune_access` are added
    (else they are absent: not computed). ``attrs["summary"]`` : counts,
    totals, package versions.
    """
    options = options or CommuneOptions.from_region(region)
    units = communes_2025(options)
    mapping = commune_mapping(region, options)
    mapping["people"] = mapping["total"] * mapping["share"]
    mapping["urban_people"] = mapping["urban"] * mapping["share"]
    mapping["inferred"] = mapping["assignment"].str.startswith("inferred")
    mapping["label"] = mapping["commune_type"] + " " + mapping["commune"] + " (" + mapping["district"] + ")"
    grouped = mapping.groupby("code")
    out = units.set_index("code")
    out["population"] = grouped["people"].sum()
    out["population_min"] = mapping[~mapping["inferred"]].groupby("code")["total"].sum().reindex(out.index).fillna(0.0)
    out["population_max"] = grouped["total"].sum()
    out["urban"] = grouped["urban_people"].sum()
    out["urban_share"] = (out["urban"] / out["population"]).round(4)
    out["communes_2019"] = grouped["label"].agg(lambda s: "; ".join(sorted(set(s))))
    out["former_districts"] = grouped["district"].agg(lambda s: "; ".join(sorted(set(s))))
    out["assignment"] = np.where(grouped["inferred"].any().reindex(out.index).fillna(False), "includes inferred parts", "record")
    for col in ("population", "population_min", "population_max", "urban"):
        out[col] = out[col].round(1)

    if parks is not None and len(parks):
        park_code = _park_communes(parks, mapping, units)
        frame = pd.DataFrame({"code": park_code, "area_ha": parks.get("area_ha"), "status": parks.get("status"),
                              "status_class": parks.get("status_class"), "kind": parks.get("kind")}).dropna(subset=["code"])
        frame["code"] = frame["code"].astype(int)
        pg = frame.groupby("code")
        out["parks"] = pg.size().reindex(out.index).fillna(0).astype(int)
        out["parks_area_ha"] = pg["area_ha"].sum(min_count=1).reindex(out.index).round(1)
        out["parks_status"] = pg["status"].agg(lambda s: "; ".join(sorted({str(x) for x in s if isinstance(x, str)}))).reindex(out.index)
        for kind in ("KCN", "CCN"):
            out[f"parks_{kind.lower()}"] = frame[frame["kind"] == kind].groupby("code").size().reindex(out.index).fillna(0).astype(int)
        out["parks_by_status"] = pg["status_class"].agg(
            lambda s: "; ".join(f"{k}: {v}" for k, v in s.fillna("unknown").astype(str).value_counts().sort_index().items())
        ).reindex(out.index).where(out["parks"] > 0, "")
        unplaced = int(park_code.isna().sum())
    else:
        out["parks"], out["parks_area_ha"], out["parks_status"] = np.nan, np.nan, None
        out["parks_kcn"], out["parks_ccn"], out["parks_by_status"] = np.nan, np.nan, None
        unplaced = None

    out = out.reset_index()
    points = None
    if region.section("communes").get("points_file"):
        from layers.park_positions import read_commune_points

        points = read_commune_points(region, "communes", "points_file")
    geometry, location = _locations(out, places, polygons, mapping=mapping, region=region, points=points)
    out["location"] = location
    out = gpd.GeoDataFrame(out.drop(columns=["key"]), geometry=geometry, crs="EPSG:4326")
    access_summary = None
    if net is not None and population is not None:
        from layers.commune_access import commune_access

        access = commune_access(region, out, net, mapping=mapping, parks=parks, population=population)
        access_summary = access.attrs["summary"]
        out = gpd.GeoDataFrame(pd.concat([out.drop(columns="geometry"), access], axis=1), geometry=out.geometry, crs="EPSG:4326")
    out.attrs["summary"] = {
        "units": int(len(out)), "phuong": int((out["type_vi"] == "phường").sum()), "xa": int((out["type_vi"] == "xã").sum()),
        "population_2019": float(out["population"].sum()),
        "communes_2019": int(mapping[["province_vi", "district", "commune_type", "commune"]].drop_duplicates().shape[0]),
        "communes_2019_inferred": int(mapping.loc[mapping["inferred"], ["district", "commune_type", "commune"]].drop_duplicates().shape[0]),
        "units_with_inferred_parts": int((out["assignment"] != "record").sum()),
        "parks_not_placed": unplaced,
        "parks_total": int(len(parks)) if parks is not None else None,
        "units_without_location": int(out.geometry.isna().sum()),
        "packages": package_versions(),
        "access": access_summary,
    }
    return out


def _locations(out: pd.DataFrame, places, polygons, mapping: pd.DataFrame | None = None,
               region: Region | None = None, points: pd.DataFrame | None = None) -> tuple[gpd.GeoSeries, list]:
    """Geometry per commune: given polygons (by code or name), else the unit's open point
    (``communes.points_file``: accepted rows, matched by name, then code), else the OSM place of the same name,
    else the OSM place named like one of its 2019 communes inside that commune's former district
    (:func:`_places_of_2019_communes`)."""
    geoms = [None] * len(out)
    notes = ["no polygon offline, no open point and no OSM place of this name"] * len(out)
    if polygons is not None and len(polygons):
        polys = polygons.to_crs("EPSG:4326")
        if "code" in polys:
            lookup = dict(zip(pd.to_numeric(polys["code"], errors="coerce"), polys.geometry))
            keys = out["code"]
        elif "name" in polys:
            lookup = {_key(n): g for n, g in zip(polys["name"], polys.geometry)}
            keys = out["name_vi"].map(_key)
        else:
            raise InputError(None, "commune polygons need a 'code' or 'name' column")
        for i, k in enumerate(keys):
            if k in lookup:
                geoms[i], notes[i] = lookup[k], "polygon (--communes)"
    if points is not None and len(points):
        from shapely.geometry import Point

        by_name = {_key(n): r for n, r in zip(points["name_vi"], points.itertuples(index=False))}
        by_code = {int(c): r for c, r in zip(points["code"], points.itertuples(index=False))}
        for i, (code, name) in enumerate(zip(out["code"], out["name_vi"])):
            hit = by_name.get(_key(name)) or by_code.get(int(code))
            if geoms[i] is None and hit is not None:
                geoms[i] = Point(float(hit.lon), float(hit.lat))
                notes[i] = (f"point: open point of the 2025 unit ({hit.source}; {hit.licence}); checked to lie in its "
                            "former district(s); not the commune's outline")
    if places is not None and len(places):
        pts = places.to_crs("EPSG:4326")
        counts = pts["name"].map(_key).value_counts()
        lookup = {_key(n): g for n, g in zip(pts["name"], pts.geometry) if counts.get(_key(n), 0) == 1}
        for i, k in enumerate(out["name_vi"].map(_key)):
            if geoms[i] is None and k in lookup:
                geoms[i], notes[i] = lookup[k], "point: OSM place of the same name (not the commune's outline)"
        if mapping is not None and region is not None:
            found = _places_of_2019_communes(pts, mapping, region)
            for i, code in enumerate(out["code"]):
                if geoms[i] is None and code in found:
                    geoms[i], notes[i] = found[code]
    return gpd.GeoSeries(geoms, crs="EPSG:4326"), notes


def _places_of_2019_communes(places: gpd.GeoDataFrame, mapping: pd.DataFrame, region: Region) -> dict:
    """Code → (point, note): an OSM place named like one of the unit's 2019 communes and lying in
    that commune's former district (only communes followed through the record, not inferred ones;
    among several, the place of the most populous 2019 commune)."""
    from layers.boundaries import districts

    units = districts(region).to_crs("EPSG:4326")
    placed = gpd.sjoin(places[["name", places.geometry.name]], units[["province_vi", "district", "geometry"]],
                       how="inner", predicate="within")
    keys = (placed["province_vi"].map(_key) + "|" + placed["district"].map(_key) + "|" + placed["name"].map(_key))
    counts = keys.value_counts()
    by_key = {k: g for k, g in zip(keys, placed.geometry) if counts[k] == 1}
    sure = mapping[mapping["share"] >= 1.0].sort_values("total", ascending=False)
    out = {}
    for row in sure.itertuples(index=False):
        key = f"{_key(row.province_vi)}|{_key(row.district)}|{_key(row.commune)}"
        if row.code not in out and key in by_key:
            note = (f"point: OSM place named like its 2019 commune {row.commune_type} {row.commune} "
                    f"(former district {row.district}); not the commune's outline")
            out[row.code] = (by_key[key], note)
    return out
