"""Industrial parks (KCN) and clusters (CCN).

The inventory (:func:`park_inventory`) is every park the sourced files name:
``industrial_parks_facts.csv`` (area, status, occupancy; no coordinates) and
``industrial_parks_status_sourced.csv`` (legal statuses with URL and date).
Positions come from open data (:mod:`layers.park_positions`); the
iipvietnam.vn portal points (no licence) only fill gaps, flagged, when a
``--data`` folder holds them; a planner's own file (``--parks``) replaces
them all. Names are joined by a normalised Vietnamese key
(:func:`key_of` → :func:`geo.text.park_key`: case, tone marks, "KCN"/"Khu
công nghiệp"/"CCN"/"Cụm công nghiệp" prefixes and a trailing "- Bắc
Giang"/"- Bắc Ninh" ignored; phases such as "mở rộng" or "giai đoạn 1"
kept, since they are separate parks; the region's ``parks: name_aliases``
first).

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
status_basis : the decision, letter or certificate the status rests on, as
    the source words it ("Decision 1462/QĐ-TTg"); None when none is named.
listed_in : "facts", "status", "facts; status", "positions file" or "portal".
commune : the commune(s) the position's source names.
position_precision, position_source, position_licence, position_error_m,
position_note : where the position comes from and how far off it may be
    (:mod:`layers.park_positions`).
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
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.errors import InputError, WithheldDataError
from geo.text import fold, nfc, park_key
from geo.io.vector import keep_in_area, read_table, read_vector
from layers import boundaries
from layers import park_positions as pp
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
    >>> display_name("Vân Trung", float("nan"))   # a file without a kind column: no "nan" prefix
    'Vân Trung'
    """
    kind = kind if isinstance(kind, str) and kind.strip() else None
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
    ("established", ("established", "establishment approved", "thanh lap", "investment policy approved",
                     "approved by pm for investment", "approved by prime minister for investment", "investment certificate",
                     "in-principle", "site clearance", "construction", "under way")),
    ("planned", ("planned", "plan", "appraisal", "draft", "quy hoach")),
    ("listed", ("listed",)),
)
_BASIS = re.compile(r"(?:Decision|Quyết định|QĐ)\s*(?:số\s*)?\d+/[^\s,;)]+|(?:PM\s+)?letter\s+\d+/[^\s,;)]+|"
                    r"investment certificate(?: granted)?|investment policy approved[^;,(]*", re.I)


def status_class_of(text) -> str:
    """Legal status class of a status text (see :data:`STATUS_CLASSES`); ``unknown`` when it says none.

    >>> status_class_of("operating; 100% of industrial land filled"), status_class_of("added to IZ development plan (PM letter)")
    ('operating', 'planned')
    >>> status_class_of("investment policy approved by Prime Minister (Nov 2022)"), status_class_of(None)
    ('established', 'unknown')
    >>> status_class_of("establishment approved by Decision 1462/QĐ-TTg"), status_class_of("investment certificate granted")
    ('established', 'established')
    """
    if not isinstance(text, str) or not text.strip():
        return "unknown"
    key = fold(text)
    for cls, words in _STATUS_WORDS:
        if any(w in key for w in words):
            return cls
    return "unknown"


def status_basis_of(*texts) -> str | None:
    """The decision, letter or certificate a status statement rests on, as the source words it; None when none.

    >>> status_basis_of("establishment approved by Decision 1462/QĐ-TTg")
    'Decision 1462/QĐ-TTg'
    >>> status_basis_of("added to IZ development plan (PM letter 216/TTg-CN)", None)
    'PM letter 216/TTg-CN'
    >>> status_basis_of("operating") is None
    True
    """
    found = []
    for text in texts:
        if isinstance(text, str):
            found += [m.group(0).strip() for m in _BASIS.finditer(nfc(text))]
    return "; ".join(dict.fromkeys(found)) or None


def read_statuses(paths, aliases: dict | None = None) -> pd.DataFrame:
    """Status statements by park key from the sourced tables: ``key``, ``status_class``, ``status_source``, ``status_basis``.

    Rows named "ALL …" are province totals, not parks, and are left out
    (the indicators page reads them from ``maps/indicators.yaml``). Several
    statements of one park fold to the most advanced class, with its source
    and the decision or certificate it names (``status_basis``, from the
    status text or the row's note). ``aliases`` maps a name as a status file
    words it to the park it describes (``parks: name_aliases`` of the region).
    """
    rows = []
    for path in paths:
        table = read_table(path, required=("name", "kind", "status"))
        url = table["source_url"] if "source_url" in table else table.get("source", pd.Series(None, index=table.index))
        date = table["source_date"] if "source_date" in table else pd.Series(None, index=table.index)
        note = table["note"] if "note" in table else pd.Series(None, index=table.index)
        for name, kind, status, u, d, n in zip(table["name"], table["kind"], table["status"], url, date, note):
            if not isinstance(name, str) or fold(name).startswith("all ") or str(kind).upper() not in ("KCN", "CCN"):
                continue
            source = str(u) if isinstance(u, str) and u else str(path.name if hasattr(path, "name") else path)
            if isinstance(d, str) and d:
                source += f" ({d})"
            rows.append({"key": key_of(name, kind, aliases), "status_class": status_class_of(status),
                         "status_text": status, "status_source": source, "status_basis": status_basis_of(status, n)})
    table = pd.DataFrame(rows, columns=["key", "status_class", "status_text", "status_source", "status_basis"])
    table = table[table["status_class"] != "unknown"]
    table["rank"] = table["status_class"].map(STATUS_CLASSES.index)
    return table.sort_values(["key", "rank"], kind="stable").drop_duplicates("key").drop(columns="rank")


def key_of(name: str, kind, aliases: dict | None = None) -> str:
    """Join key of a park: kind + :func:`geo.text.park_key`, after the region's name aliases.

    >>> key_of("KCN Yên Sơn – Bắc Lũng", "KCN") == key_of("KCN Yên Sơn - Bắc Lũng", "KCN")
    True
    >>> key_of("KCN Tân Hưng (VIP project)", "KCN", {"KCN Tân Hưng (VIP project)": "KCN Tân Hưng"})
    'KCN tan hung'
    """
    key = park_key(nfc(name))
    for alias, target in (aliases or {}).items():
        if park_key(alias) == key:
            return str(kind).upper() + " " + park_key(target)
    return str(kind).upper() + " " + key


def read_facts(path) -> pd.DataFrame:
    """The facts table, one row per park key (several sources folded together)."""
    table = read_table(path, required=("name", "kind"))
    table["key"] = [key_of(n, k) for n, k in zip(table["name"], table["kind"])]
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


#: Largest area a park row may state (ha): the largest Vietnamese economic zones are a few 10,000 ha.
MAX_PARK_AREA_HA = 100_000


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
    bad = area.notna() & ~area.between(0, MAX_PARK_AREA_HA)
    if bad.any():
        first = raw[name_col].iloc[int(np.flatnonzero(bad.to_numpy())[0])]
        raise InputError(path, f"{int(bad.sum())} park area(s) outside 0–{MAX_PARK_AREA_HA:,} ha (e.g. {first!r}: "
                               f"{area[bad].iloc[0]:g}); give area_ha in hectares")
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


def name_aliases(region: Region) -> dict:
    """``{name as a source words it: park it describes}`` (``parks: name_aliases`` of the region)."""
    return {nfc(k): nfc(v) for k, v in (region.section("parks").get("name_aliases") or {}).items()}


def park_inventory(region: Region) -> pd.DataFrame:
    """Every park the sourced files name (facts file and status file), one row per park, with or without a position.

    Columns: ``key``, ``name``, ``kind``, ``district`` (as the source gives
    it), ``area_ha`` (first sourced figure; NaN = unknown), ``area_ha_facts``,
    ``occupancy_pct``, ``status``, ``status_class``, ``status_source``,
    ``status_basis`` (decision, letter or certificate), ``facts_source``,
    ``listed_in`` ("facts", "status" or both). Rows of the status file that
    describe a phase of a facts park under a shorter name (``KCN Hòa Phú
    (mở rộng)`` for ``… mở rộng giai đoạn 1``) fold into it. Indicator counts
    are taken from this table, not from the placed points.
    """
    aliases = name_aliases(region)
    facts_path = region.path("parks", "facts_file")
    facts = read_facts(facts_path)
    status_paths = [facts_path]
    if region.section("parks").get("status_file"):
        status_paths.insert(0, region.path("parks", "status_file"))
    statuses = read_statuses(status_paths, aliases)
    inv = facts.rename(columns={"facts_name": "name", "facts_kind": "kind", "facts_district": "district"})
    inv["area_ha"] = [pd.to_numeric(a.split(";")[0], errors="coerce") if isinstance(a, str) and a else np.nan
                      for a in inv["area_ha_facts"]]
    inv["listed_in"] = "facts"
    extra = []
    if region.section("parks").get("status_file"):
        table = read_table(region.path("parks", "status_file"), required=("name", "kind", "status"))
        for r in table.itertuples(index=False):
            if not isinstance(r.name, str) or fold(r.name).startswith("all ") or str(r.kind).upper() not in ("KCN", "CCN"):
                continue
            key = key_of(r.name, r.kind, aliases)
            children = [k for k in inv["key"] if key in _parent_keys(k)]
            if key in set(inv["key"]) or len(children) == 1:
                inv.loc[inv["key"] == (key if key in set(inv["key"]) else children[0]), "listed_in"] = "facts; status"
                continue
            if key not in {e["key"] for e in extra}:
                extra.append({"key": key, "name": nfc(r.name), "kind": str(r.kind).upper(),
                              "district": getattr(r, "district", None),
                              "area_ha": pd.to_numeric(getattr(r, "area_ha", None), errors="coerce"),
                              "area_ha_facts": "", "status": r.status, "occupancy_pct": np.nan,
                              "facts_source": getattr(r, "source_url", None), "listed_in": "status"})
    inv = pd.concat([inv, pd.DataFrame(extra)], ignore_index=True) if extra else inv
    by_key = statuses.set_index("key")
    cls, src, basis = [], [], []
    for key in inv["key"]:
        hit = next((k for k in [key, *_parent_keys(key)] if k in by_key.index), None)
        if hit is None:
            cls.append("unknown"); src.append(None); basis.append(None)
        else:
            cls.append(by_key.at[hit, "status_class"]); basis.append(by_key.at[hit, "status_basis"])
            src.append(by_key.at[hit, "status_source"] + ("" if hit == key else " (status of the park this one is a phase of)"))
    inv["status_class"], inv["status_source"], inv["status_basis"] = cls, src, basis
    inv["name"] = [display_name(n, k) for n, k in zip(inv["name"], inv["kind"])]
    return inv[INVENTORY_COLUMNS].reset_index(drop=True)


INVENTORY_COLUMNS = ["key", "name", "kind", "district", "area_ha", "area_ha_facts", "occupancy_pct", "status", "status_class",
                     "status_source", "status_basis", "facts_source", "listed_in"]


def industrial_parks(region: Region, parks_file=None) -> gpd.GeoDataFrame:
    """KCN and CCN of the region with a position, sourced facts and legal status joined by name.

    Without ``parks_file``: every park of :func:`park_inventory` placed from
    open data (:mod:`layers.park_positions`); parks of the open positions file
    that the facts do not name (e.g. KCN of former Bắc Ninh) are added; when
    the data folder holds the iipvietnam.vn portal points (``points_file``),
    they place only the parks that have no open position, with
    ``position_precision`` "portal_marker" (never mixed silently). With
    ``parks_file`` (``--parks``): the planner's positions, precision "user_file".

    ``attrs["summary"]`` holds counts by kind and status, and
    ``without_position``: every sourced park that has no position, with the reason.
    """
    if parks_file is not None:
        return _planner_parks(region, parks_file)
    classes = pp.precision_classes(region)
    inv = park_inventory(region)
    opened = pp.open_positions(region, lambda n, k: key_of(n, k, name_aliases(region)))
    by_commune = pp.commune_positions(region, lambda n, k: key_of(n, k, name_aliases(region)))
    positions = pd.concat([opened, by_commune[~by_commune["key"].isin(opened["key"])]], ignore_index=True)
    positions = positions.drop_duplicates("key")
    merged = inv.merge(positions.drop(columns=["kind"]), on="key", how="left")
    extra = positions[~positions["key"].isin(inv["key"])]       # positioned parks the facts do not name
    if len(extra):
        merged = pd.concat([merged, pd.DataFrame({
            "key": extra["key"], "name": [display_name(n, k) for n, k in zip(extra["name_vi"], extra["kind"])],
            "kind": extra["kind"], "status_class": "unknown", "listed_in": "positions file",
            **{c: extra[c] for c in ["lon", "lat", "commune", "name_vi", *pp.POSITION_COLUMNS] if c in extra}})],
            ignore_index=True)
    reasons = {k: f"no open position: {why}" for k, why in by_commune.attrs.get("unplaced", {}).items()}
    merged, portal_note = _portal_fallback(region, merged)
    placed = merged["lon"].notna()
    parks = gpd.GeoDataFrame(merged[placed].reset_index(drop=True),
                             geometry=gpd.points_from_xy(merged.loc[placed, "lon"], merged.loc[placed, "lat"]), crs="EPSG:4326")
    inside = parks.intersects(boundaries.region_polygon(region))
    reasons.update({k: "its open position lies outside the region" for k in parks.loc[~inside, "key"]})
    parks = parks[inside].reset_index(drop=True)
    parks["district"] = district_of(parks, region)
    parks = _upgrade_by_landuse(parks, region)
    parks["position_error_m"] = [pp.error_m(p, classes) for p in parks["position_precision"]]
    parks["matched_facts"] = parks["listed_in"].astype(str).str.contains("facts")
    parks["name_source"] = parks.get("name_vi", parks["name"]).fillna(parks["name"])
    parks["status"] = parks["status"].fillna("unknown (no source states a status)")
    for column in PARK_COLUMNS:
        if column not in parks:
            parks[column] = None
    out = gpd.GeoDataFrame(parks[PARK_COLUMNS + ["key"]], geometry=parks.geometry, crs="EPSG:4326")
    out = out.sort_values(["kind", "name"], ignore_index=True)
    missing = inv[~inv["key"].isin(out["key"])]
    without = [{"name": r.name, "kind": r.kind, "status_class": r.status_class,
                "reason": reasons.get(r.key, "no open position found (no OSM outline, no open commune point for a commune a source names)")}
               for r in missing.itertuples(index=False)]
    out.attrs["summary"] = _summary(out, inv, without, portal_note)
    out.attrs["inventory"] = inv
    log.info("industrial parks: %d placed (%s) of %d sourced; %d without a position", len(out),
             out["position_precision"].value_counts().to_dict(), len(inv), len(without))
    return out


def _summary(out: gpd.GeoDataFrame, inv: pd.DataFrame, without: list, portal_note: str | None) -> dict:
    return {
        "count": int(len(out)),
        "by_kind": {k: int(v) for k, v in out["kind"].value_counts().items()},
        "area_ha_by_kind": {k: round(float(v), 2) for k, v in out.groupby("kind")["area_ha"].sum().items()},
        "matched_with_facts": int(out["matched_facts"].sum()),
        "locations_without_facts": out.loc[~out["matched_facts"].astype(bool), "name"].tolist(),
        "facts_without_location": [w["name"] for w in without],
        "without_position": without,
        "by_position_precision": {k: int(v) for k, v in out["position_precision"].value_counts().items()},
        "sourced_parks": int(len(inv)),
        "sourced_by_status": {f"{k} {s}": int(v) for (k, s), v in inv.groupby(["kind", "status_class"]).size().items()},
        "with_known_occupancy": int(out["occupancy_pct"].notna().sum()),
        "by_status": {f"{k} {s}": int(v) for (k, s), v in out.groupby(["kind", "status_class"]).size().items()},
        "with_known_wastewater_treatment": 0,
        "positions": portal_note or "open data only (OpenStreetMap, Wikidata, open commune points); no portal coordinate",
    }


def _portal_fallback(region: Region, merged: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Portal points (when the data folder holds them) for parks with no open position, flagged "portal_marker"."""
    if not region.section("parks").get("points_file"):
        return merged, None
    try:
        portal = _locations(region)
    except WithheldDataError:
        return merged, None
    aliases = name_aliases(region)
    portal["key"] = [key_of(n, k if isinstance(k, str) else "?", aliases) for n, k in zip(portal["name_source"], portal["kind"])]
    # a portal point named as one phase of a sourced park ("… giai đoạn I") stands for that park
    known = set(merged["key"])
    portal["key"] = [k if k in known else next((p for p in _parent_keys(k) if p in known), k) for k in portal["key"]]
    portal = portal.drop_duplicates("key")
    need = merged["lon"].isna()
    hit = merged.loc[need, "key"].map(portal.set_index("key").geometry)
    fill = hit.notna()
    idx = hit[fill].index
    merged.loc[idx, "lon"] = [g.x for g in hit[fill]]
    merged.loc[idx, "lat"] = [g.y for g in hit[fill]]
    merged.loc[idx, "position_precision"] = "portal_marker"
    merged.loc[idx, "position_source"] = "iipvietnam.vn portal marker (file " + str(region.section("parks")["points_file"]) + ")"
    merged.loc[idx, "position_licence"] = "none stated (may not be redistributed)"
    only = portal[~portal["key"].isin(merged["key"])]
    if len(only):
        merged = pd.concat([merged, pd.DataFrame({
            "key": only["key"], "name": [display_name(n, k) for n, k in zip(only["name_source"], only["kind"])],
            "name_vi": only["name_source"], "kind": only["kind"], "area_ha": only["area_ha"], "address": only["address"],
            "status_class": "listed", "status": "unknown (listed on iipvietnam.vn)",
            "status_source": "iipvietnam.vn registry (no status stated)", "listed_in": "portal",
            "lon": only.geometry.x, "lat": only.geometry.y, "position_precision": "portal_marker",
            "position_source": "iipvietnam.vn portal marker", "position_licence": "none stated (may not be redistributed)"})],
            ignore_index=True)
    n = int((merged["position_precision"] == "portal_marker").sum())
    return merged, (f"open data first; {n} park(s) placed at iipvietnam.vn portal markers (no licence, not redistributable: "
                    "position_precision = portal_marker)")


def _upgrade_by_landuse(parks: gpd.GeoDataFrame, region: Region) -> gpd.GeoDataFrame:
    """Commune-level positions replaced by an OSM landuse=industrial polygon's centre where the strict rule matches."""
    rule = pp.LanduseMatchRule.from_region(region)
    if rule is None or parks.empty:
        return parks
    matches = pp.match_osm_landuse(parks, region, rule)
    if len(matches) == 0:
        return parks
    parks = parks.copy()
    for m in matches.itertuples(index=False):
        i = parks.index[parks["key"] == m.key][0]
        before = parks.at[i, "position_precision"]
        parks.at[i, "geometry"] = m.geometry.representative_point()
        parks.at[i, "position_precision"] = "osm_landuse_match"
        parks.at[i, "position_source"] = (f"OpenStreetMap 2018 landuse=industrial element {m.osm_id} "
                                          f"(https://www.openstreetmap.org/way/{m.osm_id}), {m.outline_area_ha} ha, unnamed; "
                                          f"matched to the park's {before} point ({m.distance_m:.0f} m away) by the rule "
                                          "in layers/park_positions.py")
        parks.at[i, "position_licence"] = "ODbL 1.0 (© OpenStreetMap contributors)"
        parks.at[i, "position_note"] = f"was {before}: {parks.at[i, 'position_source']}"
    return parks


def _planner_parks(region: Region, parks_file) -> gpd.GeoDataFrame:
    """Parks from a planner's own file (``--parks``), with facts and statuses joined by name."""
    aliases = name_aliases(region)
    parks = _locations(region, parks_file)
    parks["key"] = [key_of(n, k if isinstance(k, str) else "?", aliases) for n, k in zip(parks["name_source"], parks["kind"])]
    inv = park_inventory(region) if "facts_file" in region.section("parks") else pd.DataFrame(columns=INVENTORY_COLUMNS)
    merged = parks.drop(columns=["status_source"]).merge(
        inv.drop(columns=["kind", "name"]).rename(columns={"area_ha": "area_ha_sourced", "district": "district_sourced"}),
        on="key", how="left")
    merged["area_ha"] = merged["area_ha"].fillna(merged["area_ha_sourced"])
    merged["name"] = [display_name(n, k) for n, k in zip(merged["name_source"], merged["kind"])]
    merged["matched_facts"] = merged.get("listed_in", pd.Series(None, index=merged.index)).notna()
    merged["status_class"] = merged.get("status_class", pd.Series(None, index=merged.index)).fillna("unknown")
    merged["status"] = merged.get("status", pd.Series(None, index=merged.index)).fillna("unknown")
    merged["position_precision"] = "user_file"
    merged["position_source"] = f"planner's file {parks_file}"
    merged["position_licence"] = "not stated (planner's file)"
    merged["position_error_m"] = pp.error_m("user_file", pp.precision_classes(region)) if "parks" in region.config else 0.0
    out = gpd.GeoDataFrame(merged, geometry=parks.geometry.values, crs="EPSG:4326")
    out["district"] = district_of(out, region)
    for column in PARK_COLUMNS:
        if column not in out:
            out[column] = None
    out = gpd.GeoDataFrame(out[PARK_COLUMNS + ["key"]], geometry=out.geometry, crs="EPSG:4326")
    out = out.sort_values(["kind", "name"], ignore_index=True)
    missing = inv[~inv["key"].isin(out["key"])] if len(inv) else inv
    without = [{"name": r.name, "kind": r.kind, "status_class": r.status_class,
                "reason": f"not in the planner's file {Path(parks_file).name}"} for r in missing.itertuples(index=False)]
    out.attrs["summary"] = _summary(out, inv, without, f"planner's file {parks_file}")
    out.attrs["inventory"] = inv
    return out


#: Columns of the parks layer.
PARK_COLUMNS = ["name", "name_source", "kind", "area_ha", "area_ha_facts", "occupancy_pct", "status", "status_class",
                "status_source", "status_basis", "wastewater_treatment", "iip_year", "district", "address", "facts_source",
                "listed_in", "commune", *pp.POSITION_COLUMNS, "matched_facts"]


def region_parks(region: Region, parks_file=None, osm=None, osm_industrial: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The region's parks: its registry (``parks:`` section) or a planner's file; else OSM industrial areas.

    ``osm_industrial``: already-read OSM ``landuse=industrial`` polygons; read
    from ``osm`` when not given and needed.
    """
    if "parks" in region.config or parks_file is not None:
        return industrial_parks(region, parks_file=parks_file)
    if osm_industrial is None and osm is not None:
        from geo.io import osm as osm_source

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
