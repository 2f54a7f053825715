"""Industrial parks (KCN) and clusters (CCN).

Locations come from the iipvietnam.vn portal points (or a planner's own file
given with ``--parks``); facts (area, status, occupancy) from
``industrial_parks_facts.csv``, which has no coordinates. The two are joined
by a normalised Vietnamese name key (:func:`geo.text.park_key`: case, tone
marks, "KCN"/"Khu công nghiệp"/"CCN"/"Cụm công nghiệp" prefixes and a
trailing "- Bắc Giang"/"- Bắc Ninh" ignored; phases such as "mở rộng" or
"giai đoạn 1" kept, since they are separate parks).

Columns of :func:`industrial_parks`
-----------------------------------
name : display name, e.g. "KCN Vân Trung" (NFC, diacritics).
name_source : the name exactly as the location source spells it.
kind : "KCN" (industrial park) or "CCN" (industrial cluster).
area_ha : area from the location source (portal acreage, or the polygon area
    of a planner's outline when no acreage is given).
area_ha_facts : other area figures from the facts sources ("350.3; 433.28"),
    empty when none.
occupancy_pct : share of industrial land leased, when a source states it
    (e.g. "95% occupied"); NaN = unknown.
status : status from the facts sources; "unknown (listed on iipvietnam.vn)"
    when there is none.
status_class : the legal status, one of ``operating``, ``established``,
    ``planned``, ``listed``, ``unknown``: the most advanced status any
    sourced row states for the park (``status_file`` and ``facts_file`` of
    the region's ``parks:`` section, joined by name key as the facts are;
    :func:`status_class_of` classifies the text); ``listed`` when the park
    is only on the portal's list, ``unknown`` for a planner's file without
    a status.
status_source : the source (URL, and date when given) of that status;
    "iipvietnam.vn registry (no status stated)" for ``listed``.
wastewater_treatment : "yes"/"no" when a source states it, else None
    (unknown). No source read so far states it for any park.
iip_year : the portal's field named "occupancy" holds a year (2016–2024) or
    0; its meaning is undocumented, so it is kept under this name, 0 → NaN.
district : district (pre-2025) containing the park point.
address, facts_source, source : provenance.
matched_facts : True when a facts row joined this park.
facts_match : "exact", or "parent park (this location is one phase of it)"
    when the location is one phase ("giai đoạn I", "phân kỳ I") and the facts
    describe the park or phase it belongs to; None when nothing matched.
geometry : Point (portal marker, not a surveyed boundary) or the planner's
    polygon.
"""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.errors import InputError, WithheldDataError
from geo.text import fold, nfc, park_key
from geo.vector import keep_in_area, read_table, read_vector
from layers import boundaries
from layers.region import Region

log = logging.getLogger(__name__)

_OCCUPANCY = re.compile(r"(\d+(?:[.,]\d+)?)\s*%\s*(?:of industrial land\s+)?(?:occupied|filled|leased|lấp đầy)", re.I)
_KIND_WORDS = {"KCN": ("khu cong nghiep", "kcn", "industrial park", "industrial zone"),
               "CCN": ("cum cong nghiep", "ccn", "industrial cluster")}


def kind_from_name(name: str) -> str | None:
    """'KCN' or 'CCN' from a park name, None when the name does not say.

    >>> kind_from_name("CỤM CÔNG NGHIỆP NẾNH - BẮC NINH"), kind_from_name("KCN Vân Trung"), kind_from_name("Vân Trung")
    ('CCN', 'KCN', None)
    """
    key = fold(name)
    for kind, words in _KIND_WORDS.items():
        if any(key.startswith(w + " ") or key == w for w in words):
            return kind
    return None


def display_name(name: str, kind: str | None) -> str:
    """Short display name: kind prefix + the name core in title case.

    >>> display_name("KHU CÔNG NGHIỆP VÂN TRUNG – BẮC NINH", "KCN")
    'KCN Vân Trung'
    >>> display_name("KCN Quang Châu (mở rộng)", "KCN")
    'KCN Quang Châu (mở rộng)'
    """
    text = nfc(name)
    text = re.sub(r"^\s*(khu công nghiệp|cụm công nghiệp|kcn|ccn)\s+", "", text, flags=re.I)
    text = re.sub(r"\s*-\s*(tỉnh\s+)?(bắc ninh|bắc giang)\s*$", "", text, flags=re.I)
    if text.isupper():
        text = _title(text)
    return f"{kind} {text}".strip() if kind else text


_LOWER_PHRASES = ("mở rộng", "giai đoạn", "phân kỳ", "phía nam", "phía bắc", "làng nghề")
_ROMAN = re.compile(r"\b(I|Ii|Iii|Iv|V|Vi)\b")


def _title(text: str) -> str:
    """Title case for an upper-case Vietnamese name, keeping phase words lower
    case and Roman numerals upper case.

    >>> _title("HÒA PHÚ MỞ RỘNG GIAI ĐOẠN II - PHÂN KỲ I")
    'Hòa Phú mở rộng giai đoạn II - phân kỳ I'
    """
    text = text.title()
    for phrase in _LOWER_PHRASES:
        text = re.sub(phrase, phrase, text, flags=re.I)
    return _ROMAN.sub(lambda m: m.group(1).upper(), text)


def _parent_keys(key: str) -> list[str]:
    """Keys of the parks a phase belongs to, nearest first.

    >>> _parent_keys("KCN hoa phu mo rong gd 2 phan ky 1")
    ['KCN hoa phu mo rong gd 2', 'KCN hoa phu mo rong']
    >>> _parent_keys("KCN van trung")
    []
    """
    parents = []
    current = key
    for pattern in (r"\bphan ky\s*\d+\b", r"\bgd\s*\d+\b"):
        stripped = " ".join(re.sub(pattern, " ", current).split())
        if stripped != current:
            parents.append(stripped)
            current = stripped
    return parents


def occupancy_from_status(status) -> float:
    """Occupancy in percent stated in a status text, NaN when not stated.

    >>> occupancy_from_status("operating; 95% occupied")
    95.0
    >>> occupancy_from_status("operating; 100% of industrial land filled")
    100.0
    >>> bool(np.isnan(occupancy_from_status("established; filled")))
    True
    """
    if not isinstance(status, str):
        return np.nan
    hit = _OCCUPANCY.search(status)
    return float(hit.group(1).replace(",", ".")) if hit else np.nan


#: Legal status classes, most advanced first.
STATUS_CLASSES = ("operating", "established", "planned", "listed", "unknown")
_STATUS_WORDS = (
    ("operating", ("operating", "operational", "filled", "occupied", "dang hoat dong")),
    ("established", ("established", "thanh lap", "investment policy approved", "approved by pm for investment",
                     "in-principle", "site clearance", "construction", "under way")),
    ("planned", ("planned", "plan", "appraisal", "draft", "quy hoach")),
    ("listed", ("listed",)),
)


def status_class_of(text) -> str:
    """Legal status class of a status text (see :data:`STATUS_CLASSES`); ``unknown`` when it says none.

    >>> status_class_of("operating; 100% of industrial land filled"), status_class_of("added to IZ development plan (PM letter)")
    ('operating', 'planned')
    >>> status_class_of("investment policy approved by Prime Minister (Nov 2022)"), status_class_of(None)
    ('established', 'unknown')
    """
    if not isinstance(text, str) or not text.strip():
        return "unknown"
    key = fold(text)
    for cls, words in _STATUS_WORDS:
        if any(w in key for w in words):
            return cls
    return "unknown"


def read_statuses(paths) -> pd.DataFrame:
    """Status statements by park key from the sourced tables: ``key``, ``status_class``, ``status_source``.

    Rows named "ALL …" are province totals, not parks, and are left out
    (the indicators page reads them from ``maps/indicators.yaml``). Several
    statements of one park fold to the most advanced class, with its source.
    """
    rows = []
    for path in paths:
        table = read_table(path, required=("name", "kind", "status"))
        url = table["source_url"] if "source_url" in table else table.get("source", pd.Series(None, index=table.index))
        date = table["source_date"] if "source_date" in table else pd.Series(None, index=table.index)
        for name, kind, status, u, d in zip(table["name"], table["kind"], table["status"], url, date):
            if not isinstance(name, str) or fold(name).startswith("all ") or str(kind).upper() not in ("KCN", "CCN"):
                continue
            source = str(u) if isinstance(u, str) and u else str(path.name if hasattr(path, "name") else path)
            if isinstance(d, str) and d:
                source += f" ({d})"
            rows.append({"key": str(kind).upper() + " " + park_key(name), "status_class": status_class_of(status),
                         "status_source": source})
    table = pd.DataFrame(rows, columns=["key", "status_class", "status_source"])
    table = table[table["status_class"] != "unknown"]
    table["rank"] = table["status_class"].map(STATUS_CLASSES.index)
    return table.sort_values(["key", "rank"], kind="stable").drop_duplicates("key").drop(columns="rank")


def read_facts(path) -> pd.DataFrame:
    """The facts table, one row per park key (several sources folded together)."""
    table = read_table(path, required=("name", "kind"))
    table["key"] = table["kind"].str.upper() + " " + table["name"].map(park_key)
    table["occupancy_pct"] = table.get("status", pd.Series(dtype=object)).map(occupancy_from_status)
    table["area_ha"] = pd.to_numeric(table.get("area_ha"), errors="coerce")

    def fold_rows(group: pd.DataFrame) -> pd.Series:
        areas = [f"{a:g}" for a in dict.fromkeys(group["area_ha"].dropna())]
        occ = group["occupancy_pct"].dropna()
        return pd.Series({
            "facts_name": group["name"].iloc[0],
            "facts_kind": group["kind"].iloc[0],
            "facts_district": group.get("district", pd.Series([None])).iloc[0],
            "area_ha_facts": "; ".join(areas),
            "status": " | ".join(dict.fromkeys(group["status"].dropna())) if "status" in group else None,
            "occupancy_pct": float(occ.iloc[0]) if len(occ) else np.nan,
            "facts_source": " ; ".join(dict.fromkeys(group["source"].dropna())) if "source" in group else None,
        })

    return table.groupby("key", sort=False)[list(table.columns)].apply(fold_rows).reset_index()


def _locations(region: Region, parks_file=None) -> gpd.GeoDataFrame:
    """Park locations: the region's portal points, or a planner's own file."""
    path = parks_file or region.path("parks", "points_file")
    raw = read_vector(path)
    name_col = next((c for c in ("name", "ten", "tên", "Name", "NAME") if c in raw.columns), None)
    if name_col is None:
        raise InputError(path, f"no 'name' column (columns: {', '.join(map(str, raw.columns[:12]))})")
    raw = raw.to_crs("EPSG:4326")
    raw = keep_in_area(raw, boundaries.region_polygon(region), path, what="parks", expected_outside=parks_file is None)
    kind = raw["kind"].map(lambda k: nfc(str(k)).upper() if isinstance(k, str) else None) if "kind" in raw else pd.Series(None, index=raw.index)
    kind = kind.where(kind.isin(["KCN", "CCN"]), raw[name_col].map(kind_from_name))
    if "acreage" in raw:
        area = pd.to_numeric(raw["acreage"], errors="coerce")
    elif "area_ha" in raw:
        area = pd.to_numeric(raw["area_ha"], errors="coerce")
    else:
        area = pd.Series(np.nan, index=raw.index)
    is_polygon = raw.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if is_polygon.any():
        measured = to_metric(raw, region.metric_crs).area / 1e4
        area = area.where(area.notna() | ~is_polygon, measured.round(2))
    year = pd.to_numeric(raw["occupancy"], errors="coerce") if "occupancy" in raw and parks_file is None else pd.Series(np.nan, index=raw.index)
    return gpd.GeoDataFrame({
        "name_source": raw[name_col].map(nfc),
        "kind": kind,
        "area_ha": area.astype(float),
        "iip_year": year.where(year > 1900),
        "address": raw["address"].map(nfc) if "address" in raw else None,
        "status_source": raw["status"] if "status" in raw else None,
        "source": raw["source"] if "source" in raw and parks_file is None else str(path),
    }, geometry=raw.geometry.values, crs="EPSG:4326")


def industrial_parks(region: Region, parks_file=None) -> gpd.GeoDataFrame:
    """KCN and CCN of the region with sourced facts joined by name.

    ``attrs["summary"]`` holds counts and hectares by kind, and the names that
    did not match (locations without facts; facts without a location).
    """
    facts_path = region.path("parks", "facts_file")
    facts = read_facts(facts_path)
    try:
        parks = _locations(region, parks_file)
    except WithheldDataError as exc:
        return _without_positions(facts, str(exc))
    parks["key"] = parks["kind"].fillna("?") + " " + parks["name_source"].map(park_key)
    merged = parks.merge(facts, on="key", how="left")
    # A location that is one phase of a park ("giai đoạn I") takes the whole
    # park's facts when it has none of its own, and says so in facts_match.
    exact = merged["facts_name"].notna()
    merged["facts_match"] = np.where(exact, "exact", None)
    by_key = facts.set_index("key")
    for i in merged.index[~exact]:
        parent = next((k for k in _parent_keys(merged.at[i, "key"]) if k in by_key.index), None)
        if parent is not None:
            for column in by_key.columns:
                merged.at[i, column] = by_key.at[parent, column]
            merged.at[i, "facts_match"] = "parent park (this location is one phase of it)"
    merged["matched_facts"] = merged["facts_name"].notna()
    merged["kind"] = merged["kind"].fillna(merged["facts_kind"])
    merged["name"] = [display_name(n, k if isinstance(k, str) else None) for n, k in zip(merged["name_source"], merged["kind"])]
    status = merged["status"].fillna(merged["status_source"]) if "status_source" in merged else merged["status"]
    merged["status"] = status.fillna("unknown (listed on iipvietnam.vn)" if parks_file is None else "unknown")
    merged["area_ha_facts"] = merged["area_ha_facts"].fillna("")
    status_paths = [facts_path]
    if region.section("parks").get("status_file"):
        status_paths.insert(0, region.path("parks", "status_file"))
    statuses = read_statuses(status_paths).set_index("key")
    cls, src = [], []
    for key in merged["key"]:
        hit = next((k for k in [key, *_parent_keys(key)] if k in statuses.index), None)
        if hit is None:
            cls.append("listed" if parks_file is None else "unknown")
            src.append("iipvietnam.vn registry (no status stated)" if parks_file is None else None)
        else:
            cls.append(statuses.at[hit, "status_class"])
            src.append(statuses.at[hit, "status_source"] + ("" if hit == key else " (status of the park this location is a phase of)"))
    merged["status_class"] = cls
    merged["status_source"] = src
    merged["wastewater_treatment"] = None

    merged["district"] = district_of(merged, region)

    out = gpd.GeoDataFrame(merged[PARK_COLUMNS], geometry=merged.geometry, crs="EPSG:4326")
    out = out.sort_values(["kind", "name"], ignore_index=True)

    used = set(parks["key"]) | {p for k in parks["key"] for p in _parent_keys(k)}
    unmatched_facts = facts.loc[~facts["key"].isin(used), "facts_name"].tolist()
    out.attrs["summary"] = {
        "count": int(len(out)),
        "by_kind": {k: int(v) for k, v in out["kind"].value_counts().items()},
        "area_ha_by_kind": {k: round(float(v), 2) for k, v in out.groupby("kind")["area_ha"].sum().items()},
        "matched_with_facts": int(out["matched_facts"].sum()),
        "locations_without_facts": out.loc[~out["matched_facts"], "name"].tolist(),
        "facts_without_location": unmatched_facts,
        "with_known_occupancy": int(out["occupancy_pct"].notna().sum()),
        "by_status": {f"{k} {s}": int(v) for (k, s), v in out.groupby(["kind", "status_class"]).size().items()},
        "with_known_wastewater_treatment": 0,
    }
    log.info("industrial parks: %d (%s), %d joined with facts, %d fact rows without a location",
             len(out), out.attrs["summary"]["by_kind"], out["matched_facts"].sum(), len(unmatched_facts))
    return out


#: Columns of the parks layer (located or not).
PARK_COLUMNS = ["name", "name_source", "kind", "area_ha", "area_ha_facts", "occupancy_pct", "status", "status_class",
                "status_source", "wastewater_treatment", "iip_year", "district", "address", "facts_source", "facts_match", "source",
                "matched_facts"]


def _without_positions(facts: pd.DataFrame, why: str) -> gpd.GeoDataFrame:
    """An empty parks layer, when no park positions may be used; the sourced facts go to the summary.

    The open-data bundle carries the sourced facts (names, kinds, areas,
    statuses) but no positions: the only point source (iipvietnam.vn) has no
    licence. Analyses then have no park to measure, and say why.
    """
    out = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in PARK_COLUMNS}, geometry=gpd.GeoSeries([], crs="EPSG:4326"),
                           crs="EPSG:4326")
    listed = [{"name": display_name(n, k), "kind": k, "status": st}
              for n, k, st in zip(facts["facts_name"], facts["facts_kind"], facts["status"])]
    out.attrs["summary"] = {
        "count": 0, "by_kind": {}, "area_ha_by_kind": {}, "matched_with_facts": 0,
        "locations_without_facts": [], "facts_without_location": [r["name"] for r in listed],
        "with_known_occupancy": 0, "with_known_wastewater_treatment": 0,
        "positions": f"no park positions: {why}",
    }
    log.warning("industrial parks: no positions (%s); %d parks known from the sourced facts only", why, len(listed))
    return out


def region_parks(region: Region, parks_file=None, osm=None, osm_industrial: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The region's parks: its registry (``parks:`` section) or a planner's file; else OSM industrial areas.

    ``osm_industrial``: already-read OSM ``landuse=industrial`` polygons; read
    from ``osm`` when not given and needed.
    """
    if "parks" in region.config or parks_file is not None:
        return industrial_parks(region, parks_file=parks_file)
    if osm_industrial is None and osm is not None:
        from geo import osm as osm_source

        osm_industrial = osm_source.read_osm_features(osm, {"landuse": ["industrial"]}, polygon=boundaries.region_window(region))
    found = parks_from_osm(osm_industrial, region.metric_crs)
    if len(found):
        found["district"] = district_of(found, region)
    return found


def district_of(parks: gpd.GeoDataFrame, region: Region) -> pd.Series:
    """The (pre-2025) district holding each park's representative point, aligned on ``parks.index``; NaN outside."""
    units = boundaries.districts(region)[["district", "geometry"]]
    probe = gpd.GeoDataFrame(geometry=parks.geometry.representative_point(), crs="EPSG:4326")
    joined = gpd.sjoin(probe, units, how="left", predicate="within")
    return joined.groupby(level=0)["district"].first().reindex(parks.index)


def parks_from_osm(polygons: gpd.GeoDataFrame | None, metric_crs: str = "EPSG:32648") -> gpd.GeoDataFrame:
    """Parks of a region that has no registry: OSM ``landuse=industrial`` areas (empty without an extract).

    ``kind`` comes from the name ("Khu công nghiệp …" → KCN) and stays None
    otherwise; ``area_ha`` is measured; ``status`` is "unknown".
    """
    polygons = polygons if polygons is not None else gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    polygons = polygons[polygons.geometry.geom_type.isin(["Polygon", "MultiPolygon"])] if len(polygons) else polygons
    names = [nfc(n) if isinstance(n, str) and n.strip() else None for n in (polygons["name"] if "name" in polygons else [None] * len(polygons))]
    out = gpd.GeoDataFrame({c: pd.Series([None] * len(polygons), dtype=object) for c in PARK_COLUMNS},
                           geometry=polygons.geometry.values, crs=polygons.crs or "EPSG:4326").to_crs("EPSG:4326")
    out["name"] = [n or f"landuse=industrial #{i + 1}" for i, n in enumerate(names)]
    out["name_source"] = names
    out["kind"] = [kind_from_name(n) if n else None for n in names]
    out["area_ha"] = (to_metric(out, metric_crs).area / 1e4).round(2).values if len(out) else []
    out["status"] = "unknown"
    out["status_class"] = "unknown"
    out["source"] = polygons.attrs.get("source", "OpenStreetMap landuse=industrial")
    out["matched_facts"] = False
    out.attrs["summary"] = {"count": int(len(out)), "by_kind": {k: int(v) for k, v in out["kind"].value_counts().items()},
                            "area_ha_by_kind": {}, "matched_with_facts": 0, "locations_without_facts": [],
                            "facts_without_location": [], "with_known_occupancy": 0, "with_known_wastewater_treatment": 0,
                            "positions": "OpenStreetMap landuse=industrial (the region has no park registry)"}
    return out


def attach_outlines(parks: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, metric_crs: str = "EPSG:32648",
                    max_distance_m: float = 300.0) -> gpd.GeoDataFrame:
    """Outlines (e.g. OSM ``landuse=industrial``) for park points.

    Each park point gets the polygon that contains it or lies within
    ``max_distance_m``; returns one polygon row per matched park with
    ``name``, ``kind``, ``outline_area_ha`` and ``outline_source``.
    """
    if polygons is None or polygons.empty:
        return gpd.GeoDataFrame(columns=["name", "kind", "outline_area_ha", "outline_source", "geometry"], geometry="geometry", crs="EPSG:4326")
    points = to_metric(parks[["name", "kind", "geometry"]], metric_crs)
    shapes = to_metric(polygons[polygons.geometry.geom_type.isin(["Polygon", "MultiPolygon"])][["geometry"]], metric_crs)
    near = gpd.sjoin_nearest(points, shapes, how="inner", max_distance=max_distance_m, distance_col="distance_m")
    near = near[~near.index.duplicated()]
    outlines = shapes.loc[near["index_right"]].reset_index(drop=True)
    out = gpd.GeoDataFrame({"name": near["name"].values, "kind": near["kind"].values,
                            "outline_area_ha": (outlines.area / 1e4).round(2).values,
                            "outline_source": polygons.attrs.get("source", "OpenStreetMap landuse=industrial")},
                           geometry=outlines.geometry.values, crs=metric_crs)
    return out.to_crs("EPSG:4326")
