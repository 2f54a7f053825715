"""Analysis layers of the maps: access per park, isochrones, suitability, candidate sites, scenarios.

Every input is optional (see :mod:`maps.planner` for the columns); an absent
one is skipped. :class:`AnalysisLayers` is mixed into the planner's layer
builder; :func:`join_access` puts the access report into the park popups.
Unknown values stay "không rõ / unknown", with the reason the analysis gives
(``reason_<target>``) when it gives one.
"""

from __future__ import annotations

import logging
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.text import nfc, park_key
from maps import popups, style
from maps.elements import has_features
from maps.legend import Legend, Swatch, class_swatches
from maps.popups import Field
from maps.style import choropleth

#: Above this many suitability cells the grid is drawn as an image, not as vectors.
MAX_VECTOR_CELLS = 3000

log = logging.getLogger(__name__)

G_ACCESS = "Thời gian đến / Travel time to"
G_ISOCHRONES = "Vùng đẳng thời / Isochrones"
G_ANALYSIS = "Phân tích / Analysis"
ACCESS_BREAKS = [15, 30, 45, 60, 90]               # minutes


class AnalysisLayers:
    """Mixin of the planner's builder (needs ``layer``, ``add``, ``legends``, ``names``, ``shared``)."""

    def _access_layers(self, parks, pops, targets, areas):
        """One park layer per access target, coloured by minutes (one at a time)."""
        pal = style.PALETTES["rdylgn"][::-1]            # short = green
        made = []
        shown = next((c for c in targets if pd.to_numeric(parks[c], errors="coerce").notna().any()), None)
        for col in targets:
            minutes = pd.to_numeric(parks[col], errors="coerce")
            keys, styles = choropleth(minutes, ACCESS_BREAKS, pal, weight=1.5, opacity=0.95)
            for st in styles.values():
                st["color"] = "#333333"
            vi, en = target_label(col, self.names)
            reasons = parks.get(f"_why_{col}", pd.Series([None] * len(parks), index=parks.index))
            tips = [popups.tooltip_html(n, parks[f"_show_{col}"].get(i) if not style.is_missing(m) else
                                        f"{style.UNKNOWN}{' — ' + _short(w) if not style.is_missing(w) else ''}")
                    for i, n, m, w in zip(parks.index, parks["name"], minutes, reasons)]
            made.append(self.layer(G_ACCESS, f"access_{col[len('minutes_to_'):]}", f"{vi} / {en}", parks, keys, styles, tips,
                                   list(pops), [style.park_radius(a) for a in areas], show=(col == shown)))
        self.add(G_ACCESS, folium.FeatureGroup(name="Không / none", show=shown is None, control=False), "access_none")
        sw = class_swatches(ACCESS_BREAKS, pal, style.fmt_minutes)
        for w in sw:
            w.kind = "circle"
            w.style = {**w.style, "radius": 6, "color": "#333"}
        self.legends.append(Legend("Thời gian đi từ khu, cụm công nghiệp / travel time from the parks", sw, made,
                                   note=f"Mạng đường {self.provenance['osm']}, mô hình tốc độ của công cụ / {self.provenance['osm']} road network, the tool's speed "
                                        "model; không rõ = không nối được mạng hoặc không có tuyến / unknown = not on the network "
                                        "or no route"))

    def analysis_areas(self, A: dict):
        """The suitability grid (drawn below parks and transport; the isochrones: maps/registry.py)."""
        suit = A.get("suitability")
        if has_features(suit):
            col = "score" if "score" in suit else _first_numeric(suit)
            values = suit[col] if col else pd.Series(np.nan, index=suit.index)
            breaks = style.nice_breaks(values, 5)
            pal = style.PALETTES["rdylgn"][-(len(breaks) + 1):] if len(breaks) + 1 <= 6 else style.PALETTES["rdylgn"]
            from maps import explorer

            if explorer.can_explore(suit):
                # criterion scores shipped: the grid is re-scored in the browser as the weights move
                self._suitability_explorer(suit, breaks, pal, col)
                return
            if len(suit) > MAX_VECTOR_CELLS:
                # A full grid (62,000 cells at 250 m) as vectors would weigh hundreds of MB: draw it as an image.
                self._suitability_image(suit, values, breaks, pal, col)
                return
            keys, styles = choropleth(values, breaks, pal, weight=0, opacity=0.65)
            fields = popups.auto_fields(suit)
            pops = popups.feature_popups(suit, lambda r: "Ô lưới / grid cell", fields)
            tips = [popups.tooltip_html("Điểm phù hợp / suitability", popups.auto_fmt(col or "score")(v)) for v in values]
            lay = self.layer(G_ANALYSIS, "suitability", "Mức phù hợp / suitability", suit, keys, styles, tips, pops,
                             highlight=False)
            self.legends.append(Legend(f"Mức phù hợp / suitability ({col})", class_swatches(breaks, pal, popups.auto_fmt(col or "score")),
                                       [lay]))

    def _suitability_image(self, suit, values, breaks, pal, col):
        """The suitability grid as a classed image overlay (cells rasterised at about their own size)."""
        from rasterio.features import rasterize
        from rasterio.transform import from_origin

        from maps.elements import ImageLayer
        from maps.images import classed_png

        cells = suit.to_crs("EPSG:4326")
        west, south, east, north = cells.total_bounds
        b = cells.geometry.bounds
        size = float(np.median(np.minimum(b["maxx"] - b["minx"], b["maxy"] - b["miny"]))) / 2  # half a cell, in degrees
        width = max(1, int(np.ceil((east - west) / size)))
        height = max(1, int(np.ceil((north - south) / size)))
        known = values.notna().to_numpy()
        grid = rasterize(zip(cells.geometry.values[known], values.to_numpy(float)[known]), out_shape=(height, width),
                         transform=from_origin(west, north, size, size), fill=np.nan, dtype="float64")
        uri, bounds = classed_png(grid, west, north - height * size, west + width * size, north, breaks, pal, alpha=170)
        lay = self.add(G_ANALYSIS, ImageLayer(uri, bounds, "Mức phù hợp / suitability", "suitability", opacity=0.8, show=True),
                       "suitability")
        self.legends.append(Legend(f"Mức phù hợp / suitability ({col})", class_swatches(breaks, pal, popups.auto_fmt(col or "score")),
                                   [lay],
                                   note=f"{len(suit):,} ô lưới, vẽ dạng ảnh / grid cells, drawn as an image; "
                                        "không tô = bị loại hoặc không rõ / blank = excluded or unknown"))

    def _suitability_explorer(self, suit, breaks, pal, col):
        """The grid drawn and re-scored by the explorer (:mod:`maps.explorer`); its sites replace the static candidates."""
        from maps import explorer

        rules = suit.attrs["explorer_rules"]
        labels = {n: column_label(n, self.names) for n in rules.weights}
        payload = explorer.explorer_payload(suit, rules, labels)
        lay = self.add(G_ANALYSIS, explorer.ExplorerLayer(payload, "Mức phù hợp / suitability", open=self.explorer_open),
                       "suitability")
        self.explorer = lay
        self.legends.append(Legend(f"Mức phù hợp / suitability ({col})",
                                   class_swatches(payload["breaks"], payload["palette"], popups.auto_fmt(col or "score")),
                                   [lay], note=f"{len(suit):,} ô lưới, tính lại theo trọng số / grid cells, re-scored with the "
                                               "weights; xám = bị loại / grey = excluded; viền đen = địa điểm / black outline = site"))

    def analysis_points(self, A: dict):
        """Candidate sites and scenario lines (drawn on top)."""
        cand = A.get("candidates")
        if getattr(self, "explorer", None) is not None:
            from maps.explorer import ExplorerSites

            lay = self.add(G_ANALYSIS, ExplorerSites(self.explorer, "Địa điểm đề xuất / candidate sites"), "candidates")
            st = {"radius": 8, "fillColor": "#ffd400", "color": "#000000", "weight": 2, "fillOpacity": 1}
            self.legends.append(Legend("Địa điểm đề xuất / candidate sites",
                                       [Swatch("Địa điểm, số = thứ hạng / site, number = rank", "circle", st)], [lay]))
            cand = None
        if has_features(cand):
            if "rank" in cand:
                cand = cand.sort_values("rank", ascending=False)
            title = [(f"#{int(r['rank'])} " if "rank" in cand and not style.is_missing(r["rank"]) else "")
                     + style.fmt_text(r.get("name") if "name" in cand else "Địa điểm đề xuất / candidate site")
                     for _, r in cand.iterrows()]
            fields = popups.auto_fields(cand, skip=["name"])
            pops = popups.feature_popups(cand.assign(_t=title), "_t", fields)
            tips = [popups.tooltip_html(t, ("Điểm / score: " + popups.auto_fmt("score")(r["score"])) if "score" in cand else None)
                    for t, (_, r) in zip(title, cand.iterrows())]
            st = {"c": {"radius": 8, "fillColor": "#ffd400", "color": "#000000", "weight": 2.5, "fillOpacity": 1,
                        "fill": True}}
            lay = self.layer(G_ANALYSIS, "candidates", "Địa điểm đề xuất / candidate sites", cand, ["c"] * len(cand), st, tips, pops)
            self.legends.append(Legend("Địa điểm đề xuất / candidate sites", [Swatch("Địa điểm đề xuất / candidate site", "circle",
                                                                                     st["c"])], [lay], open=False))
        self.planned(A)
        scen = A.get("scenario")
        if has_features(scen):
            self._scenario(scen)

    def _scenario(self, scen):
        """Before/after features coloured by the change of one pair of columns.

        The pair is ``scenario_column`` in ``scen.attrs`` if set, else the
        travel-time pair (then any pair) whose change is finite and non-zero
        for the most features (e.g. the minutes to Đồng Đăng for the CT.01
        scenario). Every pair is in the popups.
        """
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
        keys, styles = choropleth(change, breaks, pal, weight=5 if lines else 1.5, opacity=0.85)
        for k in styles:
            styles[k]["color"] = styles[k]["fillColor"] if lines else "#333"
            styles[k]["radius"] = 7
        rows = []
        for _, r in scen.iterrows():
            cells = []
            for p in pairs:
                f = popups.auto_fmt(p)
                b, a = r[f"{p}_before"], r[f"{p}_after"]
                if style.is_missing(b) and style.is_missing(a):
                    continue
                diff = (float(a) - float(b)) if not (style.is_missing(a) or style.is_missing(b)) else None
                sign = "+" if diff is not None and diff > 0 else ""
                change_text = f"{sign}{f(diff)}" if diff is not None else style.UNKNOWN
                cells.append((column_label(p, self.names), f"{f(b)} → {f(a)} ({change_text})"))
            rows.append(cells)
        title = scen["name"] if "name" in scen else pd.Series(["Kịch bản / scenario"] * len(scen), index=scen.index)
        pops = [popups.popup_html(t, cells, subtitle="trước → sau (thay đổi) / before → after (change)")
                for t, cells in zip(title, rows)]
        what = column_label(base, self.names) if base else "—"
        tips = [popups.tooltip_html(t, f"{what}: {'+' if not style.is_missing(c) and c > 0 else ''}{fmt(c)}" if base else None)
                for t, c in zip(title, change)]
        points = bool(scen.geom_type.isin(["Point", "MultiPoint"]).all())
        lay = self.layer(G_ANALYSIS, "scenario", "Kịch bản trước/sau / scenario before/after", scen, keys, styles, tips, pops,
                         z=8.6 if points else None)          # per-park points go above the park circles
        labels = [f"giảm nhiều / large decrease (< {fmt(breaks[0])})", "giảm / decrease", "≈ không đổi / about the same",
                  "tăng / increase", f"tăng nhiều / large increase (≥ {fmt(breaks[-1])})"]
        sw = [Swatch(lab, "line" if lines else ("circle" if not lines and scen.geom_type.eq("Point").all() else "fill"),
                     styles[str(i)]) for i, lab in enumerate(labels)]
        sw.append(Swatch(style.UNKNOWN, "circle" if scen.geom_type.eq("Point").all() else "fill", styles["u"]))
        self.legends.append(Legend(f"Thay đổi / change: {what} (sau − trước / after − before)", sw, [lay]))

    def planned(self, A: dict):
        """Planned roads of a scenario (dashed) and their interchanges."""
        roads = A.get("planned_roads")
        layers = []
        if has_features(roads):
            classes = [str(v) if str(v) in style.ROAD_CLASSES else "other" for v in
                       (roads["road_class"] if "road_class" in roads else [None] * len(roads))]
            styles = {k: {"color": v["color"], "weight": v["weight"] + 1, "opacity": 0.95, "dashArray": style.PLANNED_DASH}
                      for k, v in style.ROAD_CLASSES.items()}
            title = roads["name"] if "name" in roads else pd.Series(["Tuyến quy hoạch / planned road"] * len(roads))
            status = roads["status"] if "status" in roads else pd.Series([None] * len(roads), index=roads.index)
            tips = [popups.tooltip_html(t, "quy hoạch / planned" + (f" ({s})" if not style.is_missing(s) else ""))
                    for t, s in zip(title, status)]
            fields = popups.auto_fields(roads, skip=["name"])
            pops = popups.feature_popups(roads.assign(_t=list(title)), "_t", fields)
            layers.append(self.layer(G_ANALYSIS, "planned_roads", "Tuyến quy hoạch / planned roads", roads, classes, styles,
                                     tips, pops))
            sw = [Swatch(style.ROAD_CLASSES[k]["label"] + " — quy hoạch / planned", "line", styles[k])
                  for k in style.ROAD_CLASSES if k in set(classes)]
        else:
            sw = []
        inter = A.get("interchanges")
        if has_features(inter):
            st = {"i": {"radius": 5, "fillColor": "#ffffff", "color": "#000000", "weight": 2.5, "fillOpacity": 1}}
            title = inter["name"] if "name" in inter else pd.Series(["Nút giao / interchange"] * len(inter))
            tips = [popups.tooltip_html(t, "nút giao / interchange") for t in title]
            pops = popups.feature_popups(inter.assign(_t=list(title)), "_t", popups.auto_fields(inter, skip=["name"]))
            layers.append(self.layer(G_ANALYSIS, "interchanges", "Nút giao / interchanges", inter, ["i"] * len(inter), st,
                                     tips, pops))
            sw.append(Swatch("Nút giao / interchange", "circle", st["i"]))
        if layers:
            self.legends.append(Legend("Kịch bản: tuyến quy hoạch / scenario: planned roads", sw, layers, open=False,
                                       note="Hướng tuyến có thể chỉ là dự kiến (xem nguồn) / alignments may be indicative "
                                            "(see the source)"))


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


def _short(text, limit: int = 90) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first_numeric(df) -> str | None:
    for c in df.columns:
        if c != df.geometry.name and pd.api.types.is_numeric_dtype(df[c]):
            return c
    return None


def target_names(layers: dict, summary: dict | None = None) -> dict[str, tuple[str, str]]:
    """Access target key → (Vietnamese, English) name: destinations, corridors, corridors not found."""
    names = {}
    for n in (summary or {}).get("layers", {}).get("corridors", {}).get("not_found", []):
        if n.get("corridor_id"):
            names[str(n["corridor_id"])] = (style.fmt_text(n.get("name_vi") or n["corridor_id"]),
                                            style.fmt_text(n.get("name_en") or n.get("name_vi") or n["corridor_id"]))
    corridors = layers.get("corridors")
    if has_features(corridors) and "corridor_id" in corridors:
        for _, r in corridors.iterrows():
            vi = r.get("name_vi") if not style.is_missing(r.get("name_vi")) else r["corridor_id"]
            en = r.get("name_en") if not style.is_missing(r.get("name_en")) else vi
            names[str(r["corridor_id"])] = (style.fmt_text(vi), style.fmt_text(en))
    dest = layers.get("destinations")
    if has_features(dest) and "key" in dest:
        for _, r in dest.iterrows():
            vi = r.get("name_vi") if not style.is_missing(r.get("name_vi")) else r["key"]
            en = r.get("name_en") if not style.is_missing(r.get("name_en")) else vi
            names[str(r["key"])] = (style.fmt_text(vi), style.fmt_text(en))
    return names


def target_label(column: str, names: dict) -> tuple[str, str]:
    """(Vietnamese, English) name of the target of a ``minutes_to_<key>[_road_rail]`` column."""
    key = column[len("minutes_to_"):] if column.startswith("minutes_to_") else column
    rail = key.endswith("_road_rail")
    key = key[: -len("_road_rail")] if rail else key
    vi, en = names.get(key, (key.replace("_", " "), key.replace("_", " ")))
    return (f"{vi} (đường bộ + sắt)", f"{en} (road + rail)") if rail else (vi, en)


def column_label(column: str, names: dict) -> str:
    """Bilingual label of an access or scenario column (``minutes_to_<key>[_road_rail]``, ``people_within_<m>_min``).

    >>> column_label("minutes_to_kep_station_road_rail", {"kep_station": ("Ga Kép", "Kép station")})
    'Thời gian đến Ga Kép (đường bộ + sắt) / travel time to Kép station (road + rail)'
    >>> column_label("people_within_30_min", {})
    'Dân số trong 30 phút / people within 30 min'
    """
    for suffix in ("_before", "_after", "_change"):
        if column.endswith(suffix):
            column = column[: -len(suffix)]
    if column.startswith("minutes_to_"):
        vi, en = target_label(column, names)
        return f"Thời gian đến {vi} / travel time to {en}"
    m = re.fullmatch(r"people_within_(\d+)_min", column)
    if m:
        return f"Dân số trong {m.group(1)} phút / people within {m.group(1)} min"
    return popups.COLUMN_LABELS.get(column, column.replace("_", " "))


def join_access(parks: gpd.GeoDataFrame, access: pd.DataFrame, names: dict):
    """Add the access columns to the parks (by name, then by park key).

    Joined: ``minutes_to_*`` (shown with the ``reason_*`` when unknown) and
    ``people_within_*_min``. Returns (parks, popup fields, minutes columns).
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
        why = parks.get(f"reason_{c[len('minutes_to_'):]}", pd.Series([None] * len(parks), index=parks.index))
        parks[f"_why_{c}"] = why
        low, high = (pd.to_numeric(parks.get(c.replace("minutes_to_", f"minutes_{b}_to_"),
                                             pd.Series(np.nan, index=parks.index)), errors="coerce") for b in ("low", "high"))
        parks[f"_show_{c}"] = [style.fmt_minutes_range(v, lo, hi) if not style.is_missing(v) else
                               style.UNKNOWN + (f" — {w}" if not style.is_missing(w) else "")
                               for v, lo, hi, w in zip(pd.to_numeric(parks[c], errors="coerce"), low, high, why)]
        fields.append(Field(f"_show_{c}", column_label(c, names), str))
    fields += [Field(c, column_label(c, names), style.fmt_people) for c in people]
    if network:
        fields.append(Field("network", "Mạng đường / road network"))
    if bounds:
        fields.append(Field("_range_note", "Khoảng / range", str))
        parks["_range_note"] = ("theo tốc độ giả định thấp–cao của mô hình / from the speed model's low–high assumed "
                                "speeds")
    return parks, fields, minutes
