"""Industrial parks and clusters (KCN, CCN) and their travel times: entries of :mod:`maps.registry`.

* ``parks_kcn``, ``parks_ccn``, ``parks_other``: the parks as circles sized by area (area-true), filled by legal
  status, outlined by kind, with one legend section; each popup gives the park's facts and, when the access
  report is given, the travel time to every target with the range of the assumed speeds
  ("34 (28–41) phút" — :func:`join_access`), unknown times with their reason;
* ``parks_rings``: the expected error of approximate (commune-level) positions, as dashed rings;
* ``access``: one park layer per access target coloured by minutes (a radio group, :func:`paint_access`).

The access report (``plan.py access`` → ``OUT/access.gpkg``): a park ``name`` column, ``minutes_to_<key>``
(``<key>`` a destination or corridor key such as ``kep_station``, ``ql1a``; suffix ``_road_rail``),
``minutes_low_to_<key>`` / ``minutes_high_to_<key>``, ``reason_<key>`` (why a time is unknown),
``people_within_<m>_min`` and the ``network``.
"""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.text import nfc, park_key
from maps import parks_notice, popups, style
from maps.labels import column_labels, target_label
from maps.lang import tr
from maps.layer import G_ACCESS, G_PARKS, MapLayer
from maps.popups import Field

log = logging.getLogger(__name__)

ENTRIES: list[MapLayer] = []
ACCESS_BREAKS = [15, 30, 45, 60, 90]               # minutes
SIZES_HA = (25, 100, 400)                          # the size key of the legend


# --------------------------------------------------------------------------- the park frame (prepared once per map)

def status_of(row) -> str:
    """The park's legal status class (a key of ``style.PARK_STATUS``): the sourced ``status_class``, else read
    from the free-text ``status``."""
    cls = row.get("status_class")
    if not style.is_missing(cls):
        return str(cls) if str(cls) in style.PARK_STATUS else "unknown"
    return style.park_status_class(row.get("status"))


def kind_of(row) -> str:
    kind = str(row.get("kind")) if not style.is_missing(row.get("kind")) else "KCN"
    return kind if kind in style.PARK_KINDS else "other"


def parks_frame(context) -> gpd.GeoDataFrame | None:
    """The parks of the map, largest first (small circles on top), with the access report joined and the popup rows
    it brings (``attrs["access_fields"]``, ``attrs["targets"]``); prepared once per map (``context.cache``)."""
    if "parks" in context.cache:
        return context.cache["parks"]
    parks = context.layers.get("industrial_parks")
    if parks is None or not len(parks):
        context.cache["parks"] = None
        return None
    parks = parks.copy()
    fields, targets = [], []
    access = context.analyses.get("access")
    if access is not None and len(access):
        parks, fields, targets = join_access(parks, access, context.names)
    if "area_ha" in parks:
        parks = parks.sort_values("area_ha", ascending=False, na_position="last")
    parks["_same"] = [_same_point(parks, i) for i in parks.index]
    parks.attrs = {"access_fields": fields, "targets": targets}
    context.cache["parks"] = parks
    return parks


def _prepared(frame, context):
    parks = parks_frame(context)
    return parks if parks is not None else frame


def _same_point(parks, index) -> str | None:
    """Names of the other parks at this park's position (commune-level points), or None."""
    geom = parks.geometry
    here = geom.loc[index]
    if here is None or here.is_empty or here.geom_type != "Point":
        return None
    others = [str(n) for i, n, g in zip(parks.index, parks["name"], geom)
              if i != index and g is not None and g.geom_type == "Point" and g.distance(here) < 1e-6]
    return ", ".join(others) or None


def precision_label(row) -> str:
    """"vị trí cấp xã ±2,5 km" / "commune-level position ±2.5 km" (or the class) for a park's tooltip."""
    precision = row.get("position_precision") if hasattr(row, "get") else None
    if not isinstance(precision, str) or not precision:
        return ""
    err = pd.to_numeric(row.get("position_error_m"), errors="coerce")
    size = f" ±{style.fmt_number(err / 1000, 1, 'km')}" if pd.notna(err) and err > 0 else ""
    from layers.park_positions import COMMUNE_LEVEL

    if precision in COMMUNE_LEVEL:
        return f"{tr('vị trí cấp xã / commune-level position')}{size} ({precision})"
    return f"{tr('vị trí / position')}: {precision}{size}"


def park_tooltip(row) -> str:
    parts = [tr(style.PARK_KINDS.get(kind_of(row), {}).get("label", kind_of(row))).split(" (")[0],
             style.fmt_ha(row.get("area_ha")), tr(style.PARK_STATUS[status_of(row)]["label"]), precision_label(row)]
    if not style.is_missing(row.get("_same")):
        parts.append(f"{tr('cùng điểm / same point')}: {row['_same']}")
    return " · ".join(p for p in parts if p)


# --------------------------------------------------------------------------- popup rows

def _ha_values(value) -> list[float]:
    out = []
    for piece in str(value).split(";"):
        try:
            out.append(float(piece.strip()))
        except ValueError:
            pass
    return out


def park_area(row) -> str:
    """The park's area, one row: the figure used, and what other sources say when they differ — never "unknown"
    above figures ("350–433 ha (các nguồn khác nhau: 350 ha; 433 ha)").

    >>> park_area({"area_ha": 105.3, "area_ha_facts": "105.3"})
    '105 ha'
    >>> park_area({"area_ha": float("nan"), "area_ha_facts": "350.3; 433.28"})
    '350–433 ha (các nguồn khác nhau / sources differ: 350 ha; 433 ha)'
    >>> park_area({"area_ha": None, "area_ha_facts": None})
    'không rõ / unknown'
    """
    area = row.get("area_ha")
    facts = [] if style.is_missing(row.get("area_ha_facts")) else _ha_values(row.get("area_ha_facts"))
    listed = "; ".join(style.fmt_ha(v) for v in facts)
    if not style.is_missing(area):
        others = [v for v in facts if abs(v - float(area)) > max(0.01 * float(area), 0.5)]
        if not others:
            return style.fmt_ha(area)
        return f"{style.fmt_ha(area)} ({tr('nguồn khác / other sources')}: {listed})"
    if not facts:
        return style.unknown()
    if len(facts) == 1 or max(facts) - min(facts) < 0.5:
        return f"{style.fmt_ha(facts[0])} ({tr('theo nguồn số liệu / from the facts source')})"
    return (f"{style.fmt_number(min(facts), 0)}–{style.fmt_ha(max(facts))} "
            f"({tr('các nguồn khác nhau / sources differ')}: {listed})")


def _kind_label(value) -> str:
    return tr(style.PARK_KINDS.get(str(value), {}).get("label", style.fmt_text(value)))


def _status_with_class(value) -> str:
    """Status class label, then the source's own words when they add something."""
    from geo.text import fold

    label = tr(style.PARK_STATUS[style.park_status_class(value)]["label"])
    if style.is_missing(value) or str(value).startswith("unknown") or fold(str(value)) in fold(label):
        return label
    return f"{label} — {style.fmt_text(value)}"


def _status_row(row) -> str:
    """The sourced status class (``status_class``) with the source's words."""
    label = tr(style.PARK_STATUS[status_of(row)]["label"])
    words = row.get("status")
    if style.is_missing(words) or str(words).startswith("unknown") or str(words) == status_of(row):
        return label
    return f"{label} — {style.fmt_text(words)}"


def _year(value) -> str:
    return style.unknown() if style.is_missing(value) else str(int(float(value)))


#: What each position class of :mod:`layers.park_positions` means (README "Where the parks come from"), (vi, en).
PRECISION_LABELS = {
    "user_file": ("tệp vị trí của người dùng", "the user's positions file"),
    "osm_polygon": ("tâm ranh giới khu trên OSM", "centre of the park's OSM outline"),
    "osm_landuse_match": ("vùng đất công nghiệp OSM trong xã của khu", "OSM industrial land in the park's commune"),
    "commune": ("điểm của xã", "point of its commune"),
    "communes_mean": ("trung bình điểm các xã", "mean of its communes' points"),
    "commune_partial": ("điểm của một trong các xã", "point of one of its communes"),
    "commune_successor": ("điểm của đơn vị kế thừa xã", "point of its commune's successor unit"),
    "commune_2025_unit": ("điểm của xã năm 2025", "point of its 2025 commune"),
    "communes_2025_mean": ("trung bình điểm các xã năm 2025", "mean of its 2025 communes' points"),
    "portal_marker": ("điểm đánh dấu trên iipvietnam.vn", "iipvietnam.vn portal marker"),
}


def precision_text(value) -> str:
    """A position class in words, with its code: "điểm của một trong các xã (commune_partial)".

    >>> from maps.lang import language
    >>> with language("en"):
    ...     precision_text("portal_marker")
    'iipvietnam.vn portal marker (portal_marker)'
    """
    if style.is_missing(value) or str(value) not in PRECISION_LABELS:
        return style.fmt_text(value)
    return f"{tr(PRECISION_LABELS[str(value)])} ({value})"


PARK_FIELDS = (
    Field("kind", "Loại / kind", _kind_label),
    Field("area_ha", "Diện tích / area", str, value=park_area),
    Field("occupancy_pct", "Tỷ lệ lấp đầy / occupancy", lambda v: style.fmt_pct100(v, 1)),
    Field("status", "Tình trạng / status", str, value=_status_row),
    Field("wastewater_treatment", "Xử lý nước thải tập trung / central wastewater treatment", style.fmt_yes_no),
    Field("district", "Huyện (trước 2025) / district (pre-2025)"),
    Field("address", "Địa chỉ / address"),
    Field("iip_year", "Năm trên iipvietnam.vn (ý nghĩa không rõ) / year on iipvietnam.vn (meaning unclear)", _year),
    Field("facts_match", "Ghép số liệu / facts joined"),
    Field("position_precision", "Độ chính xác vị trí / position precision", precision_text),
    Field("position_error_m", "Sai số dự kiến / expected error",
          lambda v: style.fmt_number(v / 1000 if isinstance(v, (int, float)) else None, 1, "km")),
    Field("position_source", "Nguồn vị trí / position source"),
    Field("position_licence", "Giấy phép vị trí / position licence"),
    Field("status_basis", "Căn cứ pháp lý / decision or certificate"),
    Field("source", "Nguồn vị trí / location source"),
    Field("facts_source", "Nguồn số liệu / facts source", link=True),
)


def _park_fields(frame, context) -> tuple:
    return PARK_FIELDS + tuple(frame.attrs.get("access_fields") or ())


# --------------------------------------------------------------------------- the park entries

def _park_styles() -> dict:
    styles = {}
    for k, kv in style.PARK_KINDS.items():
        for s, sv in style.PARK_STATUS.items():
            styles[f"{k}|{s}"] = {"color": kv["color"], "weight": kv["weight"], "fillColor": sv["color"],
                                  "fillOpacity": 0.9, "opacity": 1}
    styles["*"] = {"color": "#111", "weight": 1, "fillColor": style.PARK_STATUS["unknown"]["color"], "fillOpacity": 0.9}
    for s, sv in style.PARK_STATUS.items():             # legend rows: status (fill), kind (outline), size
        styles[f"s:{s}"] = {"fillColor": sv["color"], "color": "#666", "weight": 1, "radius": 6, "fillOpacity": 0.9}
    for k, kv in style.PARK_KINDS.items():
        styles[f"k:{k}"] = {"fillColor": "#dddddd", "color": kv["color"] if k == "KCN" else "#777", "weight": kv["weight"],
                            "radius": 6}
    for a in SIZES_HA:
        styles[f"a:{a}"] = {"fillColor": "#ffffff", "color": "#333", "weight": 1, "radius": style.park_radius(a),
                            "fillOpacity": 0.6}
    styles["ring"] = {"color": "#555", "weight": 1, "dashArray": "4 4", "fillColor": "#ffffff", "fillOpacity": 0,
                      "radius": 8}
    return styles


PARK_STYLES = _park_styles()
PARK_LEGEND = (tuple((f"s:{k}", v["label"]) for k, v in style.PARK_STATUS.items())
               + tuple((f"k:{k}", v["label"]) for k, v in style.PARK_KINDS.items())
               + tuple((f"a:{a}", f"{a} ha") for a in SIZES_HA)
               + (("ring", "Sai số vị trí (cấp xã) / expected error of a commune-level position"),))


def _park_key(row) -> str:
    kind = kind_of(row)
    return f"{kind}|{status_of(row)}" if kind in style.PARK_KINDS else "*"


def _park_legend_rows(row):
    return (f"s:{status_of(row)}",) + tuple(f"k:{k}" for k in style.PARK_KINDS) + tuple(f"a:{a}" for a in SIZES_HA)


def parks_note(frame, context) -> tuple[str, str]:
    """The park section's note: markers, not boundaries; parks without a position; parks of unknown area."""
    from maps import lang

    parks = parks_frame(context)
    unknown_area = int(pd.to_numeric(parks["area_ha"], errors="coerce").isna().sum()) if parks is not None and "area_ha" in parks else 0
    missing = parks_notice.without_position(context.summary)

    def note():
        text = tr("Kích thước theo diện tích; điểm đánh dấu, không phải ranh giới / size by area; markers, not boundaries")
        if missing:
            text += (f"; {len(missing)} {tr('khu chưa có vị trí / sourced parks without a position')}: "
                     + ", ".join(str(m.get("name")) for m in missing))
        if unknown_area:
            text += f"; {unknown_area} {tr('không rõ diện tích / with unknown area')}"
        return text

    return lang.both(note)


def _park_entry(key: str, title: str, where, legend_with=None) -> MapLayer:
    return MapLayer(
        key=key, title=title, source="layers", group=G_PARKS, data=("industrial_parks",), styles=PARK_STYLES,
        classify=_park_key, prepare=_prepared, where=where, swatch="circle",
        radius=lambda r: style.park_radius(r.get("area_ha")),
        legend=PARK_LEGEND, legend_class=_park_legend_rows, legend_title="Khu, cụm công nghiệp / industrial parks",
        legend_note=parks_note, legend_with=legend_with,
        popup_title="name", search="name", tooltip=park_tooltip, fields=_park_fields,
        shared_popups=True, z=8)


ENTRIES.append(_park_entry("parks_kcn", style.PARK_KINDS["KCN"]["label"], lambda r: kind_of(r) == "KCN"))
ENTRIES.append(_park_entry("parks_ccn", style.PARK_KINDS["CCN"]["label"], lambda r: kind_of(r) == "CCN",
                           legend_with=("parks_kcn",)))
ENTRIES.append(_park_entry("parks_other", "Khác / other", lambda r: kind_of(r) == "other",
                           legend_with=("parks_kcn", "parks_ccn")))


def _rings(frame, context):
    """A ring of radius ``position_error_m`` around every approximate park position (none for exact ones)."""
    parks = parks_frame(context)
    if parks is None or "position_error_m" not in parks:
        return parks.iloc[0:0] if parks is not None else frame.iloc[0:0]
    err = pd.to_numeric(parks["position_error_m"], errors="coerce")
    sel = err.gt(0) & parks.get("position_precision", pd.Series("", index=parks.index)).ne("user_file")
    if not sel.any():
        return parks.iloc[0:0]
    from geo.crs import to_metric

    metric = to_metric(parks.loc[sel, ["geometry"]], "EPSG:32648")
    rings = parks.loc[sel].drop(columns="geometry")
    return gpd.GeoDataFrame(rings, crs=metric.crs,
                            geometry=metric.buffer(err[sel].to_numpy(), resolution=6).values).to_crs("EPSG:4326")


ENTRIES.append(MapLayer(
    key="parks_rings", title="Sai số vị trí / position uncertainty", source="layers", group=G_PARKS,
    data=("industrial_parks",), prepare=_rings, needs=("position_error_m",),
    styles={"r": {"color": "#555", "weight": 1, "dashArray": "4 4", "fill": False, "opacity": 0.8}, "ring": PARK_STYLES["ring"]},
    legend=(("ring", PARK_LEGEND[-1][1]),), legend_with=("parks_kcn", "parks_ccn", "parks_other"), swatch="line",
    legend_class=lambda r: "ring", popup_title="name", tooltip=precision_label, popups=False, highlight=False, z=7.9))


# --------------------------------------------------------------------------- access: the report joined, and one layer per target

def join_access(parks: gpd.GeoDataFrame, access: pd.DataFrame, names: dict):
    """Add the access columns to the parks (by name, then by park key).

    Joined: ``minutes_to_*`` (shown with the range of ``minutes_low_to_*`` / ``minutes_high_to_*`` and the
    ``reason_*`` when unknown), ``people_within_*_min`` and the ``network``. Returns (parks, popup fields,
    minutes columns); the shown times are in ``_show_<column>`` (built in the current language).
    """
    name_col = next((c for c in ("name", "park", "park_name") if c in access.columns), None)
    minutes = [c for c in access.columns if c.startswith("minutes_to_")]
    people = [c for c in access.columns if re.fullmatch(r"people_within_\d+_min", str(c))]
    reasons = [c for c in access.columns if c.startswith("reason_")]
    bounds = [c for c in access.columns if re.match(r"minutes_(low|high)_to_", str(c))]
    network = [c for c in ("network",) if c in access.columns]
    cols = minutes + people + reasons + bounds + network
    if name_col is None or not (minutes or people) or "name" not in parks:
        log.warning("access table needs a park name column and minutes_to_* columns; not joined")
        return parks, [], []
    table = pd.DataFrame(access[[name_col] + cols])
    by_name = {nfc(str(n)): i for i, n in zip(table.index, table[name_col])}
    by_key = {park_key(str(n)): i for i, n in zip(table.index, table[name_col])}
    rows = []
    for n in parks["name"]:
        i = by_name.get(nfc(str(n)), by_key.get(park_key(str(n))))
        rows.append(table.loc[i, cols] if i is not None else pd.Series(np.nan, index=cols))
    joined = pd.DataFrame(rows, index=parks.index, columns=cols)
    parks = parks.drop(columns=[c for c in cols if c in parks]).join(joined)
    fields = []
    for c in minutes:
        parks[f"_why_{c}"] = parks.get(f"reason_{c[len('minutes_to_'):]}", pd.Series([None] * len(parks), index=parks.index))
        fields.append(Field(f"_show_{c}", column_labels(c, names), str, value=_shown_minutes(c)))
    fields += [Field(c, column_labels(c, names), style.fmt_people) for c in people]
    if network:
        fields.append(Field("network", "Mạng đường / road network"))
    if bounds:
        fields.append(Field("_range_note", "Khoảng / range", str,
                            value=lambda r: tr("theo tốc độ giả định thấp–cao của mô hình / from the speed model's low–high "
                                               "assumed speeds")))
    for f in fields:                      # the rows computed from other columns need their column present
        if f.column not in parks:
            parks[f.column] = None
    return parks, fields, minutes


def _shown_minutes(column: str):
    """Row → "34 (28–41) phút" (the range of the assumed speeds), or unknown with the reason."""
    low_col, high_col = (column.replace("minutes_to_", f"minutes_{b}_to_") for b in ("low", "high"))

    def shown(row) -> str:
        value = pd.to_numeric(row.get(column), errors="coerce")
        if pd.notna(value):
            return style.fmt_minutes_range(value, row.get(low_col), row.get(high_col))
        why = row.get(f"_why_{column}")
        return style.unknown() + (f" — {why}" if not style.is_missing(why) else "")

    return shown


def _short(text, limit: int = 90) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def paint_access(build, access, context):
    """One park layer per access target, coloured by minutes, in a radio group (one at a time, or none)."""
    from maps import lang
    from maps.legend import Legend, class_swatches

    parks = parks_frame(context)
    if parks is None or not context.options.get("access_layers", True):
        return None
    targets = parks.attrs.get("targets") or []
    if not targets:
        return None
    rows = popups.rows_of(parks)
    titles = [style.fmt_text(r.get("name")) for r in rows]
    fields = _park_fields(parks, context)
    pops = [build.shared.index(p) if build.shared is not None else p
            for p in lang.pairs(lambda: popups.feature_popups(parks.assign(_title=titles), "_title", fields), tag="div")]
    pal = style.PALETTES["rdylgn"][::-1]            # short = green
    made, shown = [], _shown_target(targets, parks, context)
    for col in targets:
        minutes = pd.to_numeric(parks[col], errors="coerce")
        keys, styles = style.choropleth(minutes, ACCESS_BREAKS, pal, weight=1.5, opacity=0.95)
        for st in styles.values():
            st["color"] = "#333333"
        show = _shown_minutes(col)
        tips = lang.pairs(lambda: [popups.tooltip_html(t, _short(show(r))) for t, r in zip(titles, rows)])
        vi, en = target_label(col, context.names)
        made.append(build.layer(G_ACCESS, f"access_{col[len('minutes_to_'):]}", (vi, en), parks, keys, styles, tips,
                                pops, [style.park_radius(r.get("area_ha")) for r in rows], show=(col == shown), z=8.5))
    build.none_choice(G_ACCESS, "access_none", shown is None)
    swatches = class_swatches(ACCESS_BREAKS, pal, style.fmt_minutes)
    for w in swatches:
        w.kind = "circle"
        w.style = {**w.style, "radius": 6, "color": "#333"}
    osm = context.provenance["osm"]
    build.legends.append(Legend(
        "Thời gian đi từ khu, cụm công nghiệp (phút) / travel time from the parks (min)", swatches, made,
        note=(f"Mạng đường {osm} và đường mở sau 2018, mô hình tốc độ của công cụ; không rõ = không nối được mạng hoặc "
              "không có tuyến", f"{osm} road network and the roads opened since 2018, the tool's speed model; unknown = "
                               "not on the network or no route")))
    return made


def _shown_target(targets, parks, context):
    """The access layer on when the page opens: of those the page names (``access_<key>``, patterns allowed), the one
    with the most parks of known time (the first on a tie); None when the page names none."""
    if context.on is None:
        return None
    named = [c for c in targets if context.is_on(f"access_{c[len('minutes_to_'):]}", False)]
    known = {c: int(pd.to_numeric(parks[c], errors="coerce").notna().sum()) for c in named}
    best = max(named, key=lambda c: known[c], default=None)
    return best if best is not None and known[best] > 0 else None


ENTRIES.append(MapLayer(
    key="access", title="Thời gian đến / travel time to", styles={"classed": {}}, painter=paint_access,
    publish=("name", "minutes_to_*", "minutes_low_to_*", "minutes_high_to_*", "network", "reason_*", "people_within_*",
             "position_precision", "position_error_m", "position_commune_level", "position_note"),
    pages=("planning.html", "access.html"), z=8.5))
