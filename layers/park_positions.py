"""Where each industrial park's position comes from, and how far off it may be.

Positions come from open data only by default (none is copied from the
iipvietnam.vn portal, which carries no licence), in this order:

1. ``parks: positions_file`` — open positions compiled by the team
   (OpenStreetMap outlines and places, Wikidata commune coordinates), each
   with a ``precision`` class, a source and a licence;
2. a commune-level position is upgraded to ``osm_landuse_match`` when exactly
   one OpenStreetMap 2018 ``landuse=industrial`` polygon fits the park under
   the strict rule of :class:`LanduseMatchRule`;
3. ``parks: communes_file`` — parks whose commune(s) a source names, placed at
   the open point of the 2025 commune that contains them
   (``parks: commune_points_file``): ``commune_2025_unit`` (one unit) or
   ``communes_2025_mean`` (the mean of several units' points).

The expected error of every class is in the region YAML
(``parks: precision_classes``); maps draw an approximate position as a ring of
that radius. Columns added to the parks layer: ``position_precision``,
``position_source``, ``position_licence``, ``position_error_m`` and
``position_note``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.errors import InputError
from geo.text import nfc, park_key
from geo.io.vector import read_table
from layers.region import Region

log = logging.getLogger(__name__)

#: Precision classes, best first (a park keeps the best position it has).
PRECISION_ORDER = ("user_file", "osm_polygon", "osm_landuse_match", "commune", "communes_mean", "commune_partial",
                   "commune_successor", "commune_2025_unit", "communes_2025_mean", "portal_marker")
#: Classes that place a park only at commune level (access figures say so).
COMMUNE_LEVEL = frozenset({"commune", "communes_mean", "commune_partial", "commune_successor", "commune_2025_unit",
                           "communes_2025_mean"})
POSITION_COLUMNS = ["position_precision", "position_source", "position_licence", "position_error_m", "position_note"]


@dataclass(frozen=True)
class LanduseMatchRule:
    """When an unnamed OSM ``landuse=industrial`` polygon is taken as a park's outline.

    A polygon is a candidate for a park placed at commune level when (1) it
    contains the park's commune point or its edge lies within
    ``max_distance_m`` of it, (2) its representative point lies in the park's
    former district, (3) its area is between ``area_ratio[0]`` and
    ``area_ratio[1]`` times the park's sourced area (a park without a sourced
    area is never matched), and (4) it is unnamed or its name holds the
    park's name. The match is made only when exactly one polygon is a
    candidate and no other park has it as a candidate.
    """

    file: str
    layer: str = "landuse"
    max_distance_m: float = 1500.0
    area_ratio: tuple[float, float] = (0.3, 2.0)

    def __post_init__(self):
        if not self.max_distance_m > 0:
            raise ValueError("osm_landuse_match.max_distance_m must be positive")
        low, high = self.area_ratio
        if not 0 < low < 1 < high:
            raise ValueError("osm_landuse_match.area_ratio must be [low < 1, high > 1]")

    @classmethod
    def from_region(cls, region: Region) -> LanduseMatchRule | None:
        cfg = region.section("parks").get("osm_landuse_match")
        if not cfg:
            return None
        try:
            return cls(file=str(cfg["file"]), layer=str(cfg.get("layer", "landuse")),
                       max_distance_m=float(cfg.get("max_distance_m", 1500)),
                       area_ratio=tuple(float(x) for x in cfg.get("area_ratio", (0.3, 2.0))))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(region.source_file, f"parks.osm_landuse_match: {exc}") from exc


def precision_classes(region: Region) -> dict:
    """``{class: {"error_m": float, "meaning": str}}`` from ``parks: precision_classes`` of the region."""
    raw = region.section("parks").get("precision_classes") or {}
    out = {}
    for name, spec in raw.items():
        try:
            out[str(name)] = {"error_m": float(spec["error_m"]), "meaning": str(spec.get("meaning", ""))}
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(region.source_file, f"parks.precision_classes.{name}: needs error_m ({exc})") from exc
    return out


def error_m(precision, classes: dict) -> float:
    """Expected error (m) of a precision class; NaN when the class is unknown."""
    return float(classes[precision]["error_m"]) if precision in classes else np.nan


def open_positions(region: Region, key_of) -> pd.DataFrame:
    """The region's open positions file as ``key``, ``name_vi``, ``kind``, ``lon``, ``lat``, ``commune`` and the position columns.

    ``key_of(name, kind)`` gives the join key; a row's ``facts_key`` (its name
    in the facts file), when given, is the name it joins by.
    """
    if not region.section("parks").get("positions_file"):
        return pd.DataFrame(columns=["key", "name_vi", "kind", "lon", "lat", "commune", *POSITION_COLUMNS])
    path = region.path("parks", "positions_file")
    table = read_table(path, required=("name_vi", "kind", "lon", "lat", "precision", "position_source", "position_licence"))
    names = [f if isinstance(f, str) and f.strip() else n for f, n in zip(table.get("facts_key", table["name_vi"]), table["name_vi"])]
    out = pd.DataFrame({
        "key": [key_of(n, k) for n, k in zip(names, table["kind"])],
        "name_vi": table["name_vi"].map(nfc), "kind": table["kind"].str.upper(),
        "lon": pd.to_numeric(table["lon"], errors="coerce"), "lat": pd.to_numeric(table["lat"], errors="coerce"),
        "commune": table.get("commune", pd.Series(None, index=table.index)),
        "district_source": table.get("district", pd.Series(None, index=table.index)),
        "position_precision": table["precision"], "position_source": table["position_source"],
        "position_licence": table["position_licence"], "position_note": table.get("note", pd.Series(None, index=table.index)),
    })
    bad = out["lon"].isna() | out["lat"].isna()
    if bad.any():
        raise InputError(path, f"{int(bad.sum())} row(s) without lon/lat, e.g. {out.loc[bad, 'name_vi'].iloc[0]}")
    return out


def read_commune_points(region: Region, section: str = "parks", key: str = "commune_points_file") -> pd.DataFrame:
    """Accepted open points of the 2025 communes (``code``, ``name_vi``, ``lon``, ``lat``, ``source``, ``licence``).

    Rows marked ``accepted = no`` (the point failed the compilation's check:
    it lies outside the unit's former districts) are left out.
    """
    path = region.path(section, key)
    table = read_table(path, required=("code", "name_vi", "lon", "lat", "source", "licence"))
    if "accepted" in table:
        table = table[table["accepted"].astype(str).str.lower().isin(["yes", "true", "1"])]
    out = table.assign(code=pd.to_numeric(table["code"], errors="coerce").astype("Int64"),
                       lon=pd.to_numeric(table["lon"], errors="coerce"), lat=pd.to_numeric(table["lat"], errors="coerce"))
    return out.dropna(subset=["code", "lon", "lat"]).reset_index(drop=True)


def commune_positions(region: Region, key_of) -> pd.DataFrame:
    """Positions of parks whose commune(s) a source names (``parks: communes_file``), at their 2025 commune's open point.

    One unit → ``commune_2025_unit``; several → ``communes_2025_mean`` (the
    mean of the units' points). A park whose units have no accepted point
    gets no row (its reason is kept in ``attrs["unplaced"]``).
    """
    cfg = region.section("parks")
    empty = pd.DataFrame(columns=["key", "name_vi", "kind", "lon", "lat", "commune", *POSITION_COLUMNS])
    if not cfg.get("communes_file") or not cfg.get("commune_points_file"):
        return empty
    path = region.path("parks", "communes_file")
    table = read_table(path, required=("name_vi", "kind", "commune_2025_codes", "communes_stated_by"))
    points = read_commune_points(region).set_index("code")
    rows, unplaced = [], {}
    for r in table.itertuples(index=False):
        codes = [int(c) for c in str(r.commune_2025_codes).replace(",", ";").split(";") if c.strip().isdigit()]
        have = [c for c in codes if c in points.index]
        key = key_of(r.name_vi, r.kind)
        if not have:
            unplaced[key] = ("no open point for its 2025 commune(s)" if codes else
                             "its commune could not be followed to a single 2025 commune "
                             f"({getattr(r, 'note', '') or 'see communes file'})")
            continue
        sel = points.loc[have]
        inferred = str(getattr(r, "communes_inferred_from_name", "no")).lower() == "yes"
        how = "inferred from the park name" if inferred else f"stated by {r.communes_stated_by}"
        rows.append({
            "key": key, "name_vi": nfc(r.name_vi), "kind": str(r.kind).upper(),
            "lon": float(sel["lon"].mean()), "lat": float(sel["lat"].mean()),
            "commune": getattr(r, "communes_2019", None),
            "position_precision": "commune_2025_unit" if len(have) == 1 else "communes_2025_mean",
            "position_source": f"open point of the 2025 commune(s) {', '.join(sel['name_vi'])} ({sel['source'].iloc[0]}); "
                               f"commune(s) {getattr(r, 'communes_2019', '')} {how}",
            "position_licence": "; ".join(dict.fromkeys(sel["licence"])),
            "position_note": ("commune inferred from the park name; " if inferred else "") +
                             f"2025 commune(s) {'; '.join(map(str, have))}, a few km across: not the park's outline",
        })
    out = pd.DataFrame(rows, columns=empty.columns) if rows else empty
    out.attrs["unplaced"] = unplaced
    return out


def match_osm_landuse(parks: gpd.GeoDataFrame, region: Region, rule: LanduseMatchRule) -> pd.DataFrame:
    """OSM ``landuse=industrial`` polygons that fit commune-level parks under ``rule``.

    ``parks`` : the layer being built (``key``, ``name``, ``area_ha``,
    ``district``, ``position_precision``, point geometry). Returns one row per
    matched park: ``key``, ``osm_id``, ``outline_area_ha``, ``distance_m``,
    ``geometry`` (the polygon, EPSG:4326).
    """
    from layers.boundaries import districts

    columns = ["key", "osm_id", "outline_area_ha", "distance_m", "geometry"]
    polygons = gpd.read_file(region.data_path(rule.file), layer=rule.layer)
    polygons = polygons[polygons.get("fclass", pd.Series("industrial", index=polygons.index)).eq("industrial")]
    polygons = polygons[polygons.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs("EPSG:4326").reset_index(drop=True)
    eligible = parks[parks["position_precision"].isin(COMMUNE_LEVEL) & pd.to_numeric(parks["area_ha"], errors="coerce").gt(0)]
    if polygons.empty or eligible.empty:
        return pd.DataFrame(columns=columns)
    metric = to_metric(polygons, region.metric_crs)
    area_ha = metric.area.to_numpy() / 1e4
    units = districts(region).to_crs("EPSG:4326")
    where = gpd.sjoin(gpd.GeoDataFrame(geometry=polygons.representative_point(), crs="EPSG:4326"),
                      units[["district", "geometry"]], how="left", predicate="within")
    poly_district = where[~where.index.duplicated()]["district"].reindex(polygons.index).to_numpy()
    points = to_metric(eligible[["geometry"]], region.metric_crs).geometry
    names = polygons["name"] if "name" in polygons else pd.Series(None, index=polygons.index)
    name_keys = [park_key(n) if isinstance(n, str) and n.strip() else None for n in names]   # once, not once per park
    candidates = {}
    for (idx, park), pt in zip(eligible.iterrows(), points):
        dist = metric.geometry.distance(pt).to_numpy()
        area = float(park["area_ha"])
        ok = (dist <= rule.max_distance_m) & (area_ha >= rule.area_ratio[0] * area) & (area_ha <= rule.area_ratio[1] * area)
        ok &= poly_district == park["district"]
        ok &= _names_fit(name_keys, park["name"])
        candidates[idx] = np.flatnonzero(ok)
    claimed = pd.Series(np.concatenate([c for c in candidates.values()] or [np.empty(0, int)])).value_counts()
    rows = []
    for idx, found in candidates.items():
        if len(found) == 1 and claimed.get(found[0], 0) == 1:
            i = int(found[0])
            rows.append({"key": parks.at[idx, "key"], "osm_id": str(polygons.at[i, "osm_id"]),
                         "outline_area_ha": round(float(area_ha[i]), 1),
                         "distance_m": round(float(metric.geometry.iloc[i].distance(points.loc[idx])), 0),
                         "geometry": polygons.geometry.iloc[i]})
    return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs="EPSG:4326") if rows else pd.DataFrame(columns=columns)


def _names_fit(polygon_keys: list, park_name: str) -> np.ndarray:
    """For each polygon, by the :func:`geo.text.park_key` of its name (None when unnamed): unnamed, or its
    name holds the park's name (whole words, folded).

    >>> _names_fit([park_key("Khu công nghiệp Quế Võ"), None, park_key("Nhà máy X")], "KCN Quế Võ").tolist()
    [True, True, False]
    """
    if all(k is None for k in polygon_keys):
        return np.ones(len(polygon_keys), dtype=bool)
    key = park_key(park_name)
    pattern = re.compile(rf"\b{re.escape(key)}\b") if key else None
    return np.array([k is None or (pattern is not None and pattern.search(k) is not None) for k in polygon_keys], dtype=bool)
