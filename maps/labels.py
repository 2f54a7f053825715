"""Names of analysis columns and their targets, in both languages.

An access or scenario column names its target by key (``minutes_to_kep_station``); the map says "Thời gian đến
Ga Kép" / "travel time to Kép station", with the names of the build's destinations and corridors. Names are data
(a place may be called "A / B"), so the labels here are (Vietnamese, English) pairs, never one "vi / en" string
to be split.

>>> names = {"kep_station": ("Ga Kép", "Kép station")}
>>> column_labels("minutes_to_kep_station_road_rail", names)
('Thời gian đến Ga Kép (đường bộ + sắt)', 'travel time to Kép station (road + rail)')
>>> column_label("people_within_30_min", {})
'Dân số trong 30 phút / people within 30 min'
>>> criterion_unit("minutes_to_trunk"), criterion_unit("people_within_45_min"), criterion_unit("slope_deg")
(('phút', 'min', 1), ('người', 'persons', 0), ('°', '°', 1))
"""

from __future__ import annotations

import re

from maps import style
from maps.elements import has_features

#: Access targets the region does not name as a destination or corridor.
GENERIC_TARGETS = {"trunk": ("trục chính (cao tốc, quốc lộ)", "trunk road (expressway, national road)"),
                   "town": ("đô thị", "town"), "park": ("khu, cụm công nghiệp", "industrial park"),
                   "urban": ("đô thị", "urban core")}

#: Labels of criteria the names cannot say (siting profiles), (vi, en).
CRITERIA = {"slope_deg": ("Độ dốc", "slope"),
            "km_to_park": ("Khoảng cách đến khu, cụm công nghiệp", "distance to a park"),
            "km_to_urban": ("Khoảng cách đến đô thị", "distance to an urban core"),
            "elevation_m": ("Độ cao", "elevation")}


def target_names(layers: dict, summary: dict | None = None) -> dict[str, tuple[str, str]]:
    """Access target key → (Vietnamese, English) name: destinations, corridors, corridors not found."""
    names = dict(GENERIC_TARGETS)
    for n in (summary or {}).get("layers", {}).get("corridors", {}).get("not_found", []):
        if n.get("corridor_id"):
            names[str(n["corridor_id"])] = (style.fmt_text(n.get("name_vi") or n["corridor_id"]),
                                            style.fmt_text(n.get("name_en") or n.get("name_vi") or n["corridor_id"]))
    for layer, key in (("corridors", "corridor_id"), ("destinations", "key")):   # named by the layer's rows
        frame = layers.get(layer)
        if has_features(frame) and key in frame:
            for _, r in frame.iterrows():
                vi = r.get("name_vi") if not style.is_missing(r.get("name_vi")) else r[key]
                en = r.get("name_en") if not style.is_missing(r.get("name_en")) else vi
                names[str(r[key])] = (style.fmt_text(vi), style.fmt_text(en))
    return names


def target_label(column: str, names: dict) -> tuple[str, str]:
    """(Vietnamese, English) name of the target of a ``minutes_to_<key>[_road_rail]`` column."""
    key = column[len("minutes_to_"):] if column.startswith("minutes_to_") else column
    rail = key.endswith("_road_rail")
    key = key[: -len("_road_rail")] if rail else key
    vi, en = names.get(key) or GENERIC_TARGETS.get(key) or (key.replace("_", " "), key.replace("_", " "))
    return (f"{vi} (đường bộ + sắt)", f"{en} (road + rail)") if rail else (vi, en)


def column_labels(column: str, names: dict) -> tuple[str, str]:
    """(Vietnamese, English) label of an access, scenario or criterion column (``minutes_to_<key>[_road_rail]``,
    ``minutes_by_truck_to_<key>``, ``people_within_<m>_min``, ``s_<criterion>``, known columns)."""
    for suffix in ("_before", "_after", "_change"):
        if column.endswith(suffix):
            column = column[: -len(suffix)]
    if column.startswith("minutes_by_truck_to_"):
        vi, en = target_label("minutes_to_" + column[len("minutes_by_truck_to_"):], names)
        return f"Thời gian xe tải đến {vi}", f"truck travel time to {en}"
    if column.startswith("minutes_to_"):
        vi, en = target_label(column, names)
        return f"Thời gian đến {vi}", f"travel time to {en}"
    m = re.fullmatch(r"people_within_(\d+)_min", column)
    if m:
        return f"Dân số trong {m.group(1)} phút", f"people within {m.group(1)} min"
    if column in CRITERIA:
        return CRITERIA[column]
    from maps.lang import split
    from maps.popups import COLUMN_LABELS

    pair = split(COLUMN_LABELS.get(column, ""))
    return pair or (column.replace("_", " "), column.replace("_", " "))


def column_label(column: str, names: dict) -> str:
    """:func:`column_labels` as one "vi / en" string (tables, plain pages).

    >>> column_label("minutes_to_kep_station_road_rail", {"kep_station": ("Ga Kép", "Kép station")})
    'Thời gian đến Ga Kép (đường bộ + sắt) / travel time to Kép station (road + rail)'
    """
    vi, en = column_labels(column, names)
    return f"{vi} / {en}"


def criterion_unit(column: str) -> tuple[str, str, int]:
    """(Vietnamese unit, English unit, decimals) of a criterion's raw value, read from its name."""
    c = column.lower()
    if c.startswith("minutes"):
        return ("phút", "min", 1)
    if c.startswith("people") or "population" in c:
        return ("người", "persons", 0)
    if c.endswith("_km") or c.startswith("km_"):
        return ("km", "km", 1)
    if c.endswith("_deg"):
        return ("°", "°", 1)
    if c.endswith("_m") or c.startswith("m_"):
        return ("m", "m", 0)
    if c.endswith("_ha"):
        return ("ha", "ha", 1)
    return ("", "", 2)
