"""Road-class overlays: give the attribute-less network road classes from any line file.

An *overlay* is a line file (GeoJSON, GeoPackage, Shapefile …, any CRS)
with at least one of the OSM-style columns ``ref`` ("QL.1A", "ĐT.295",
"CT.04"), ``name`` ("Quốc lộ 2", "Tỉnh lộ 279": road numbers are read from
names too), ``highway`` (motorway, trunk …) and ``maxspeed`` (posted limit,
km/h text as in OSM). Each feature gets a class from the speed model
(:func:`geo.routing.speeds.osm_road_classes`: a road number wins over ``highway``)
and is map-matched onto the network with :func:`geo.routing.matching.match_line`,
like the corridors. An optional ``source`` column is carried into the edges'
``class_source``.

The region's named reference layer (``reference_roads``) is used the same way
for every named road that is not a configured corridor (Quốc lộ 2, 3, 4A,
Tỉnh lộ 279, 234B …), so no named road of it stays unclassified.

:func:`overlay_labels` returns one row per labelled edge: ``edge_id``,
``road_class``, ``link``, ``maxspeed`` (text or None), ``class_source``
(e.g. "overlay roads-vn.geojson: ref CT.04 (map-matched)"), and a report of
what did not match.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_metric
from geo.errors import InputError
from geo.io.vector import read_vector
from geo.routing.matching import PreparedNetwork, match_line
from geo.routing.roadref import match_corridor, parse_refs
from geo.routing.speeds import SpeedModel, osm_road_classes
from geo.text import nfc
from layers.region import Region

log = logging.getLogger(__name__)

OVERLAY_COLUMNS = ("ref", "name", "highway", "maxspeed")
LABEL_COLUMNS = ["edge_id", "road_class", "link", "maxspeed", "class_source"]
_RAIL_WORDS = ("duong sat", "railway")


def read_overlay(path) -> gpd.GeoDataFrame:
    """A class overlay file as lines in EPSG:4326 with ``ref``, ``name``, ``highway``, ``maxspeed``, ``source``."""
    path = Path(path)
    lines = read_vector(path)
    if lines.crs is None:
        raise InputError(path, "has no CRS (give the file a CRS, e.g. EPSG:4326)")
    if not (set(OVERLAY_COLUMNS) & set(lines.columns)):
        raise InputError(path, f"a road-class overlay needs at least one of the columns {', '.join(OVERLAY_COLUMNS)}")
    kinds = set(lines.geometry.geom_type.dropna().unique())
    if not kinds <= {"LineString", "MultiLineString"}:
        raise InputError(path, f"a road-class overlay must hold lines, found {', '.join(sorted(kinds))}")
    out = gpd.GeoDataFrame({c: pd.Series([_text(v) for v in lines[c]] if c in lines else [None] * len(lines), dtype=object)
                            for c in (*OVERLAY_COLUMNS, "source")}, geometry=lines.geometry.values, crs=lines.crs)
    out["source"] = out["source"].fillna(path.name)
    out.attrs["file"] = path.name
    return out.to_crs("EPSG:4326")


def reference_overlay(region: Region) -> gpd.GeoDataFrame:
    """Named roads of the region's reference layer that are not configured corridors, as an overlay."""
    cfg = region.config.get("reference_roads")
    if not cfg:
        return gpd.GeoDataFrame({c: [] for c in (*OVERLAY_COLUMNS, "source")}, geometry=[], crs="EPSG:4326")
    path = region.path("reference_roads")
    ref = read_vector(path)
    name_field = cfg.get("name_field", "name")
    kind_field = cfg.get("kind_field")
    names = ref[name_field].map(lambda v: nfc(v) if isinstance(v, str) else None)
    keep = names.notna()
    if kind_field and kind_field in ref:
        from geo.text import fold

        keep &= ~ref[kind_field].map(lambda k: isinstance(k, str) and any(w in fold(k) for w in _RAIL_WORDS))
    keep &= np.array([match_corridor(None, n, region.corridors) is None for n in names])
    keep &= np.array([bool(parse_refs(n)) for n in names.fillna("")])
    part = ref.loc[keep.to_numpy()]
    out = gpd.GeoDataFrame({"ref": [";".join(parse_refs(n)) for n in names[keep]], "name": list(names[keep]),
                            "highway": None, "maxspeed": None,
                            "source": f"{path.name} ({cfg.get('source', 'reference layer')})"},
                           geometry=part.geometry.values, crs=ref.crs).to_crs("EPSG:4326")
    out.attrs["file"] = path.name
    out.attrs["fill_only"] = True        # corridors configured for the region keep their class
    return out


def overlay_labels(overlay: gpd.GeoDataFrame, network: PreparedNetwork, model: SpeedModel, metric_crs: str,
                   window=None, tolerance_m: float | None = None) -> tuple[pd.DataFrame, dict]:
    """Edges labelled by an overlay: (labels, report).

    Features are grouped by (class, road number or name) and each group is
    map-matched once. ``window`` (metric polygon) clips the overlay first.
    Features without a class beyond the model's default and without a
    usable ``maxspeed`` carry no information and are skipped (counted).
    Later rows of the labels are the more specific (they win when applied in order).
    """
    file = overlay.attrs.get("file", "overlay")
    report = {"file": file, "features": int(len(overlay)), "groups": 0, "matched_groups": 0, "edges": 0,
              "skipped_no_class": 0, "not_matched": []}
    if overlay.empty:
        return pd.DataFrame(columns=LABEL_COLUMNS), report
    cls = osm_road_classes(overlay.assign(ref=[_ref_of(r, n) for r, n in zip(overlay["ref"], overlay["name"])]), model)
    useful = (cls["road_class"] != model.default_class) | overlay["maxspeed"].notna()
    report["skipped_no_class"] = int((~useful).sum())
    metric = to_metric(overlay.loc[useful.to_numpy()], metric_crs)
    cls = cls.loc[useful.to_numpy()]
    if window is not None:
        metric = metric.assign(geometry=metric.geometry.intersection(window))
        inside = ~metric.geometry.is_empty
        metric, cls = metric.loc[inside.to_numpy()], cls.loc[inside.to_numpy()]
    key = [f"{c}|{_ref_of(r, n) or n or h or ''}|{m or ''}|{link}" for c, r, n, h, m, link in
           zip(cls["road_class"], metric["ref"], metric["name"], metric["highway"], metric["maxspeed"], cls["link"])]
    frames = []
    kwargs = {} if tolerance_m is None else {"tolerance_m": tolerance_m}
    for group, idx in pd.Series(range(len(key))).groupby(pd.Series(key, dtype=object)):
        rows = metric.iloc[idx.to_numpy()]
        report["groups"] += 1
        matched, info = match_line(rows, network=network, **kwargs)
        label = group.split("|")[1] or "unnamed"
        if matched.empty:
            report["not_matched"].append(label)
            continue
        report["matched_groups"] += 1
        c = cls.iloc[idx.to_numpy()[0]]
        how = f"overlay {file}: {label} ({rows['source'].iloc[0]}; map-matched, {info['matched_share']:.0%} of it)"
        frames.append(pd.DataFrame({"edge_id": matched["edge_id"].to_numpy(), "road_class": c["road_class"],
                                    "link": bool(c["link"]), "maxspeed": rows["maxspeed"].iloc[0],
                                    "class_source": how}))
    labels = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LABEL_COLUMNS)
    report["edges"] = int(labels["edge_id"].nunique()) if len(labels) else 0
    log.info("overlay %s: %d of %d groups matched, %d edges", file, report["matched_groups"], report["groups"], report["edges"])
    return labels[LABEL_COLUMNS], report


def _ref_of(ref, name) -> str | None:
    """Road numbers from ``ref``, else from the name ("Tỉnh lộ 279" → "DT279")."""
    codes = parse_refs(ref) if ref else []
    if not codes and name:
        codes = parse_refs(name)
    return ";".join(codes) or None


def _text(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = nfc(str(value)).strip()
    return text or None
