"""A road scenario on the maps (entries of :mod:`maps.registry`): what changes per park, and the roads it adds.

* ``scenario`` — ``plan.py scenario``'s ``access_change`` frame: a park ``name`` and column pairs
  ``X_before`` / ``X_after`` (``X`` = ``minutes_to_<key>`` or ``people_within_<m>_min``), coloured by the change
  of one pair (:func:`main_pair`), every pair in the popup;
* ``planned_roads`` — the scenario's roads, each labelled by what today's network says of it: a road the
  corridors layer has as existing (CT.01, opened in 2020) is "in today's network (opened since 2018)", drawn
  solid; only a road no network has yet is "planned", dashed;
* ``interchanges`` — the scenario's entry points.

:mod:`maps.dualmap` draws the same scenario on two synchronised maps (the published ``scenario.html``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maps import lang, popups, style
from maps.labels import column_labels
from maps.lang import tr
from maps.layer import G_ANALYSIS, MapLayer
from maps.legend import Legend, Swatch
from maps.popups import Field

ENTRIES: list[MapLayer] = []


def scenario_pairs(frame) -> list[str]:
    """The ``X`` of every ``X_before`` / ``X_after`` column pair of a scenario frame, in column order.

    >>> scenario_pairs(pd.DataFrame(columns=["name", "minutes_to_kep_before", "minutes_to_kep_after", "a_before"]))
    ['minutes_to_kep']
    """
    return [c[:-7] for c in frame.columns if str(c).endswith("_before") and f"{c[:-7]}_after" in frame.columns]


def pair_change(frame, pair: str) -> pd.Series:
    """``<pair>_after − <pair>_before`` per row (NaN where either is unknown)."""
    return (pd.to_numeric(frame[f"{pair}_after"], errors="coerce")
            - pd.to_numeric(frame[f"{pair}_before"], errors="coerce"))


def main_pair(frame, pairs=None) -> str | None:
    """The pair a scenario map shows first: ``frame.attrs["scenario_column"]`` if set, else the travel-time pair
    (then any pair) whose change is finite and non-zero for the most rows; None without pairs.

    >>> f = pd.DataFrame({"minutes_to_a_before": [5.0, 5.0], "minutes_to_a_after": [5.0, 4.0],
    ...                   "minutes_to_b_before": [9.0, 9.0], "minutes_to_b_after": [8.0, 7.0]})
    >>> main_pair(f)
    'minutes_to_b'
    """
    pairs = scenario_pairs(frame) if pairs is None else list(pairs)
    chosen = frame.attrs.get("scenario_column")
    if chosen in pairs:
        return chosen
    if not pairs:
        return None
    changes = {p: pair_change(frame, p) for p in pairs}

    def score(p):
        changed = int((changes[p].abs() > 1e-9).sum())
        return (changed > 0, "minutes" in p, changed, -pairs.index(p))

    return max(pairs, key=score)


def signed(value, fmt) -> str:
    """A change with its sign (minus sign U+2212), formatted by ``fmt``; unknown when missing."""
    if style.is_missing(value):
        return style.unknown()
    value = float(value)
    if abs(value) < 1e-9:
        return fmt(0.0)
    return ("+" if value > 0 else "−") + fmt(abs(value))


def paint_scenario(build, scen, context):
    """Before/after features coloured by the change of one pair of columns (:func:`main_pair`); every pair in
    the popups as "before → after (change)"."""
    pairs = scenario_pairs(scen)
    base = main_pair(scen, pairs)
    change = pair_change(scen, base) if base else pd.Series(np.nan, index=scen.index)
    fmt = popups.auto_fmt(base or "value")
    span = float(np.nanmax(np.abs(change))) if np.isfinite(change).any() else 1.0
    span = span or 1.0
    breaks = [-span / 2, -span / 10, span / 10, span / 2]
    pal = ["#1a9850", "#91cf60", "#eeeeee", "#fc8d59", "#d73027"]
    if base and "minutes" not in base and "people" in base:
        pal = pal[::-1]                              # more people reached is the good direction
    lines = bool(scen.geom_type.isin(["LineString", "MultiLineString"]).all())
    points = bool(scen.geom_type.isin(["Point", "MultiPoint"]).all())
    keys, styles = style.choropleth(change, breaks, pal, weight=5 if lines else 1.5, opacity=0.85)
    for k in styles:
        styles[k]["color"] = styles[k]["fillColor"] if lines else "#333"
        styles[k]["radius"] = 7
    names = context.names
    rows = [r for _, r in scen.iterrows()]
    titles = [style.fmt_text(r.get("name")) if "name" in scen else None for r in rows]

    def cells(r):
        out = []
        for p in pairs:
            f = popups.auto_fmt(p)
            b, a = r[f"{p}_before"], r[f"{p}_after"]
            if style.is_missing(b) and style.is_missing(a):
                continue
            diff = None if (style.is_missing(a) or style.is_missing(b)) else float(a) - float(b)
            out.append((column_labels(p, names), f"{f(b)} → {f(a)} ({signed(diff, f)})"))
        return out

    def title(t):
        return t if t is not None else tr("Kịch bản / scenario")

    pops = lang.pairs(lambda: [popups.popup_html(title(t), cells(r), subtitle="trước → sau (thay đổi) / before → after (change)")
                               for t, r in zip(titles, rows)], tag="div")
    what = column_labels(base, names) if base else ("—", "—")
    tips = lang.pairs(lambda: [popups.tooltip_html(title(t), f"{tr(what)}: {signed(c, fmt)}" if base else None)
                               for t, c in zip(titles, change)])
    lay = build.layer(G_ANALYSIS, "scenario", _title(context), scen, keys, styles, tips, pops,
                      show=context.is_on("scenario", False), z=8.6 if points else 6.5)   # per-park points above the parks
    labels = lang.both(lambda: [f"{tr('giảm nhiều / large decrease')} (< {fmt(breaks[0])})", tr("giảm / decrease"),
                                tr("≈ không đổi / about the same"), tr("tăng / increase"),
                                f"{tr('tăng nhiều / large increase')} (≥ {fmt(breaks[-1])})"])
    kind = "line" if lines else ("circle" if points else "fill")
    sw = [Swatch(lab, kind, styles[str(i)]) for i, lab in enumerate(zip(*labels))]
    sw.append(Swatch(style.UNKNOWN, "circle" if points else "fill", styles["u"]))
    build.legends.append(Legend((f"Thay đổi: {what[0]} (sau − trước)", f"change: {what[1]} (after − before)"), sw, [lay]))
    return lay


def _title(context) -> tuple[str, str]:
    """"Kịch bản: <roads added> — thay đổi theo khu" / "scenario: … — change per park"."""
    roads = context.analyses.get("planned_roads")
    names = [] if roads is None or "name" not in roads else [style.fmt_text(n) for n in roads["name"] if not style.is_missing(n)]
    added = ", ".join(dict.fromkeys(names))
    if added:
        return f"Kịch bản {added}: thay đổi theo khu", f"scenario {added}: change per park"
    return "Kịch bản: thay đổi theo khu", "scenario: change per park"


ENTRIES.append(MapLayer(
    key="scenario", title="Kịch bản trước/sau / scenario before/after", styles={"classed": {}}, painter=paint_scenario,
    publish=("name", "minutes_to_*_before", "minutes_to_*_after", "people_within_*_before", "people_within_*_after"),
    pages=("scenario.html",), show=False))


# --------------------------------------------------------------------------- the roads a scenario adds

def in_todays_network(row, context) -> bool:
    """True when the corridors layer (today's network) has this road as existing: same ``corridor_id``."""
    corridors = context.layers.get("corridors")
    key = row.get("corridor_id")
    if corridors is None or "corridor_id" not in corridors or style.is_missing(key):
        return False
    match = corridors[corridors["corridor_id"].astype(str) == str(key)]
    return bool(len(match)) and not (match.get("status", pd.Series(dtype=str)).astype(str) == "planned").all()


def road_state(row, context) -> str:
    """"today" (in today's network, e.g. opened since 2018) or "planned"."""
    return "today" if in_todays_network(row, context) else "planned"


def _road_styles() -> dict:
    out = {}
    for k, v in style.ROAD_CLASSES.items():
        out[f"{k}|planned"] = {"color": v["color"], "weight": v["weight"] + 1, "opacity": 0.95, "dashArray": style.PLANNED_DASH}
        out[f"{k}|today"] = {"color": v["color"], "weight": v["weight"] + 1, "opacity": 0.95}
    return out


_ROAD_STYLES = _road_styles()
ROAD_STATE_LABELS = {"today": "có trong mạng đường hôm nay (thông xe sau 2018) / in today's network (opened since 2018)",
                     "planned": "quy hoạch, chưa có / planned, not built"}


def _prepare_roads(frame, context):
    return frame.assign(_state=[road_state(r, context) for _, r in frame.iterrows()])


def _road_class(row) -> str:
    value = str(row.get("road_class"))
    return value if value in style.ROAD_CLASSES else "other"


def _road_legend() -> tuple:
    rows = []
    for k, v in style.ROAD_CLASSES.items():
        vi, en = lang.split(v["label"])
        for state, (svi, sen) in ((s, lang.split(ROAD_STATE_LABELS[s])) for s in ("today", "planned")):
            rows.append((f"{k}|{state}", (f"{vi} — {svi}", f"{en} — {sen}")))
    return tuple(rows)


ENTRIES.append(MapLayer(
    key="planned_roads", title="Kịch bản: tuyến đường thêm vào / scenario: roads added", prepare=_prepare_roads,
    styles=_ROAD_STYLES, classify=lambda r: f"{_road_class(r)}|{r.get('_state')}", swatch="line", legend=_road_legend(),
    legend_title="Kịch bản: tuyến đường thêm vào mạng năm 2018 / scenario: roads added to the 2018 network",
    legend_note="Hướng tuyến có thể chỉ là dự kiến (xem nguồn) / alignments may be indicative (see the source)",
    popup_title=lambda r: r.get("name") if not style.is_missing(r.get("name")) else tr("Tuyến đường / road"),
    tooltip=lambda r: tr(ROAD_STATE_LABELS[r.get("_state")]),
    fields=(Field("_state", "Hiện trạng / status", lambda v: tr(ROAD_STATE_LABELS.get(str(v), str(v)))),
            Field("road_class", "Cấp đường / road class",
                  lambda v: tr(style.ROAD_CLASSES.get(str(v), style.ROAD_CLASSES["other"])["label"])),
            Field("design_speed_kmh", "Tốc độ thiết kế / design speed", lambda v: style.fmt_number(v, 0, "km/h")),
            Field("length_km", "Chiều dài trong cửa sổ / length in the window", style.fmt_km),
            Field("source", "Nguồn / source")),
    publish=("name", "road_class", "design_speed_kmh", "length_km", "status", "source", "corridor_id"),
    pages=("scenario.html",), show=False, z=6.2))

ENTRIES.append(MapLayer(
    key="interchanges", title="Nút giao / interchanges",
    styles={"i": {"radius": 5, "fillColor": "#ffffff", "color": "#000000", "weight": 2.5, "fillOpacity": 1}},
    swatch="circle", legend=(("i", "Nút giao (vị trí gần đúng) / interchange (position indicative)"),),
    legend_with="planned_roads",
    popup_title=lambda r: r.get("name") if not style.is_missing(r.get("name")) else tr("Nút giao / interchange"),
    search="name", tooltip=lambda r: tr("nút giao / interchange"),
    fields=(Field("status", "Hiện trạng / status"), Field("source", "Nguồn / source")),
    publish=("name", "status"), pages=("scenario.html",), show=False, z=10.5))
