"""The JSON answer of ``POST /api/scenario``, from the engine's before and after measures.

Shape (every number rounded; unknown is ``null``, never 0)::

    {"parks": [{"name", "kind", "district", "lon", "lat", "position_precision", "snap_m",
                "minutes_to_<target>_before", "_after", "_change" (after − before, negative = faster),
                "people_within_30_min_before", "_after", "_change", … ,
                "minutes_saved_max", "best_target"}],
     "communes": [{"name", "code", "lon", "lat", "minutes_to_<target>_before/_after/_change"}],
     "communes_note": "…",
     "grid": {"cell_deg": [dx, dy], "keys": [target, …], "columns": ["lon", "lat", "people", <keys>…],
              "cells": [[lon, lat, people, saved_1, …]]  (cells saving ≥ 0.05 min to some target),
              "note": "…"},
     "roads": [{"name", "road_class", "design_speed_kmh", "length_km", "controlled_access", "access_points",
                "interchanges_used", "max_link_m", "corridor", "ends": [{"end", "lon", "lat", "snap_m", "joins"}]}],
     "entries": [{"road", "kind", "lon", "lat", "link_m", "joins"}],
     "targets": [{"key", "name_vi", "name_en", "new"}],
     "summary": {"parks", "parks_faster": {target: n}, "parks_slower", "catchments_smaller",
                 "people_gaining": {target: people}, "largest_gains": [...], "new_targets", "lines": [text…]},
     "scenario": <the sketch as the GeoJSON plan.py scenario reads>,
     "network": "…", "network_note": "…"}
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pyproj import Transformer

#: A park or cell counts as gaining from this many minutes saved (the CLI's "at least half a minute faster").
GAIN_MIN = 0.5
#: Grid cells are sent to the map only from this saving (minutes) to some target.
GRID_MIN = 0.05


def answer(engine, before: dict, after: dict, report, sketch) -> dict:
    """Assemble the answer (see the module docstring); ``report`` is None for the base network against itself."""
    keys = list(dict.fromkeys([*before["targets"], *after["targets"]]))
    new = [k for k in keys if k not in before["targets"] or _all_nan(before["table"], k)]
    minutes = [f"minutes_to_{k}" for k in keys]
    people = [c for c in after["table"].columns if c.startswith("people_within_")]
    n = len(engine.parks)
    change = _change(before["table"], after["table"], minutes + people)
    parks = _rows(engine.parks, change, slice(0, n), engine.parks.geometry, minutes + people, keys, new)
    communes = _rows(engine.communes, change, slice(n, None), engine.communes.geometry, minutes, keys, new)
    grid, gaining = _grid(engine, before, after)
    labels = engine.target_labels
    targets = [{"key": k, "name_vi": labels.get(k, (_road_name(report, k), ""))[0],
                "name_en": labels.get(k, ("", _road_name(report, k)))[1], "new": k in new} for k in keys]
    summary = _summary({k: v[:n] for k, v in change.items()}, parks, keys, new, people, gaining, targets)
    out = {"network": engine.net.network_name, "network_note": engine.net.note, "targets": targets,
           "parks": parks, "communes": communes, "communes_note": engine.communes_note,
           "roads": [], "entries": [], "summary": summary,
           "scenario": sketch.feature_collection() if sketch is not None else None}
    if report is not None:
        out["roads"], out["entries"] = _roads(engine, report, sketch)
        summary["lines"] = _road_lines(out["roads"]) + summary["lines"]
    out = _clean(out)
    out["grid"] = grid          # built of plain floats and None already (large: not walked again)
    return out


def _change(before: pd.DataFrame, after: pd.DataFrame, columns: list[str]) -> dict[str, np.ndarray]:
    """``<c>_before``, ``<c>_after``, ``<c>_change`` (after − before) for each column, and ``snap_m``: arrays."""
    out = {}
    for c in columns:
        b = before[c].to_numpy(float) if c in before else np.full(len(after), np.nan)
        a = after[c].to_numpy(float) if c in after else np.full(len(after), np.nan)
        out[f"{c}_before"], out[f"{c}_after"], out[f"{c}_change"] = b, a, a - b
    out["snap_m"] = after["snap_m"].to_numpy(float)
    return out


def _rows(points, change: dict, rows: slice, lonlat, columns: list[str], keys: list[str], new: list[str]) -> list[dict]:
    """One dict per point (parks or communes: ``rows`` of the change arrays)."""
    n = len(points)
    if n == 0:
        return []
    out = {c: points[c].tolist() for c in ("name", "code", "kind", "district", "position_precision", "position_error_m")
           if c in points}
    out["lon"], out["lat"] = _list(lonlat.x.to_numpy(), 5), _list(lonlat.y.to_numpy(), 5)
    out["snap_m"] = _list(change["snap_m"][rows], 0)
    for c in columns:
        digits = 0 if c.startswith("people_") else 2
        for part in ("before", "after", "change"):
            out[f"{c}_{part}"] = _list(change[f"{c}_{part}"][rows], digits)
    known = [k for k in keys if k not in new]
    saved = -np.column_stack([change[f"minutes_to_{k}_change"][rows] for k in known]) if known else np.full((n, 0), np.nan)
    has = np.isfinite(saved).any(axis=1)
    best = np.argmax(np.where(np.isfinite(saved), saved, -np.inf), axis=1) if known else np.zeros(n, int)
    best_saved = saved[np.arange(n), best] if known else np.full(n, np.nan)
    out["minutes_saved_max"] = _list(np.where(has, np.maximum(best_saved, 0.0), np.nan), 2)
    out["best_target"] = [known[b] if ok and v >= GAIN_MIN else None for b, ok, v in zip(best, has, best_saved)]
    names = list(out)
    return [dict(zip(names, values)) for values in zip(*(out[k] for k in names))]


def _list(values: np.ndarray, digits: int) -> list:
    """Rounded floats, None where not finite (strict JSON)."""
    values = np.round(np.asarray(values, float), digits)
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _grid(engine, before: dict, after: dict) -> tuple[dict | None, dict]:
    if before["grid"] is None:
        return None, {}
    keys = [k for k in before["grid_keys"] if k in after["grid_keys"]]
    b = before["grid"][:, [before["grid_keys"].index(k) for k in keys]]
    a = after["grid"][:, [after["grid_keys"].index(k) for k in keys]]
    saved = b - a
    people = engine.cells["people"].to_numpy(float)
    gaining = {k: float(people[saved[:, j] >= GAIN_MIN].sum()) for j, k in enumerate(keys)}
    finite = np.where(np.isfinite(saved), saved, -np.inf)
    show = np.flatnonzero(finite.max(axis=1, initial=-np.inf) >= GRID_MIN)
    xy = engine.cells.geometry
    columns = [_list(xy.x.to_numpy()[show], 5), _list(xy.y.to_numpy()[show], 5), _list(people[show], 0)]
    columns += [_list(np.maximum(saved[show, j], 0.0), 1) for j in range(len(keys))]     # unknown (NaN) stays null
    cells = [list(row) for row in zip(*columns)] if len(show) else []
    return {"cell_deg": list(engine.cell_deg), "keys": keys, "columns": ["lon", "lat", "people", *keys], "cells": cells,
            "note": "WorldPop 2020 1-km cells of the region with people, each joined to its nearest road edge like a park; "
                    f"minutes saved to each target; cells saving less than {GRID_MIN} min everywhere are left out"}, gaining


def _summary(change: dict, parks: list[dict], keys, new, people, gaining: dict, targets: list[dict]) -> dict:
    known = [k for k in keys if k not in new]
    faster = {k: int((change[f"minutes_to_{k}_change"] < -GAIN_MIN).sum()) for k in known}
    slower = int(sum((change[f"minutes_to_{k}_change"] > 1e-6).sum() for k in known))
    smaller = int(sum((change[f"{c}_change"] < 0).sum() for c in people))
    gains = []
    for row in parks:
        for k in known:
            saved = row.get(f"minutes_to_{k}_change")
            if saved is not None and -saved >= GAIN_MIN:
                gains.append({"name": row["name"], "target": k, "before": row[f"minutes_to_{k}_before"],
                              "after": row[f"minutes_to_{k}_after"], "saved": round(-saved, 2)})
    gains.sort(key=lambda g: (-g["saved"], g["name"], g["target"]))
    label = {t["key"]: t["name_en"] or t["key"] for t in targets}
    faster_text = ", ".join(f"{n} to {label[k]}" for k, n in faster.items() if n)
    lines = [f"parks at least {GAIN_MIN:g} min faster (of {len(parks)}): "
             + (faster_text or f"none (no park gains {GAIN_MIN:g} min to any target)")]
    if gains:
        lines.append("largest gains: " + "; ".join(f"{g['name']} −{g['saved']:.1f} min to {label[g['target']]}"
                                                   for g in gains[:5]))
    if new:
        lines.append("new targets (no time before): " + ", ".join(label.get(k, k) for k in new))
    lines.append(f"trips made longer: {slower}, catchments made smaller: {smaller} (adding a road never does either)")
    return {"parks": len(parks), "parks_faster": faster, "parks_slower": slower, "catchments_smaller": smaller,
            "people_gaining": {k: round(v) for k, v in gaining.items()}, "largest_gains": gains[:20],
            "new_targets": new, "lines": lines}


def _roads(engine, report: pd.DataFrame, sketch) -> tuple[list[dict], list[dict]]:
    to_lonlat = Transformer.from_crs(engine.region.metric_crs, "EPSG:4326", always_xy=True)

    roads = []
    for i, row in report.iterrows():
        geom = sketch.roads.geometry.iloc[i]
        parts = list(getattr(geom, "geoms", [geom]))
        ends = [("start", parts[0].coords[0]), ("end", parts[-1].coords[-1])]
        roads.append({"name": row["name"], "road_class": row["road_class"], "design_speed_kmh": row["design_speed_kmh"],
                      "length_km": row["length_km"], "controlled_access": bool(row["controlled_access"]),
                      "access_points": int(row["access_points"]), "interchanges_used": int(row["interchanges_used"]),
                      "max_link_m": row["max_link_m"],
                      "ends": [{"end": which, "lon": round(xy[0], 6), "lat": round(xy[1], 6),
                                "snap_m": row[f"{which}_snap_m"], "joins": row[f"{which}_joins"]} for which, xy in ends]})
    entries = []
    for e in report.attrs.get("entries", []):
        lon, lat = to_lonlat.transform(e["x"], e["y"])
        entries.append({"road": int(e["line"]), "kind": e["kind"], "lon": round(lon, 6), "lat": round(lat, 6),
                        "link_m": e["link_m"], "joins": e["road"]})
    return roads, entries


def _road_lines(roads: list[dict]) -> list[str]:
    lines = []
    for r in roads:
        ends = "; ".join(f"{e['end']}: {e['joins']}" for e in r["ends"])
        lines.append(f"planned: {r['name']} ({r['road_class']}) — {r['length_km']:g} km at {r['design_speed_kmh']:g} km/h, "
                     f"{r['access_points']} access point(s), {r['interchanges_used']} interchange(s); {ends}")
    return lines


def _road_name(report, key: str) -> str:
    if report is None or not len(report):
        return key
    return str(report["name"].iloc[0]) if len(report) == 1 else key


def _all_nan(table: pd.DataFrame, key: str) -> bool:
    column = f"minutes_to_{key}"
    return column not in table or table[column].isna().all()


def _round(value, digits: int):
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits) if digits else float(round(value))


def _clean(value):
    """NaN/inf → None and numpy scalars → Python, so the answer is strict JSON."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value
