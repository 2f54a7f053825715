"""Analysis layers of the maps (entries of :mod:`maps.registry`): isochrones, the suitability grid, candidate sites,
their legal verdict and how firm their ranks are.

Every input is optional (see :mod:`maps.planner` for the columns); an absent one is skipped. Unknown values stay
"không rõ / unknown", with the reason the analysis gives when it gives one.

* ``isochrones`` — one layer per origin (:mod:`maps.isochrones_layer`);
* ``suitability`` — the grid with a ``score`` column (any scale): re-scored in the browser when it carries the
  criterion scores and rules (:mod:`maps.explorer`; a click on a cell tells its score and criteria), an image
  above :data:`MAX_VECTOR_CELLS` cells, else vectors;
* ``candidates`` — candidate sites (``rank``, ``score``, ``name`` … all optional), or the explorer's ranked sites;
* ``site_verdicts`` — the sites' legal verdict (``verdict``/``eligible`` true/false/unknown with the reasons,
  every criterion's value and score, the parcel and what lies next to it; ``sites.gpkg``);
* ``sensitivity``, ``sensitivity_sites`` — the Monte Carlo probability of being suitable and the sites' rank
  ranges (``sensitivity.gpkg``, :mod:`maps.sensitivity_layer`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.text import fold
from maps import lang, popups, style
from maps.labels import column_labels, criterion_unit
from maps.lang import tr
from maps.layer import G_ANALYSIS, MapLayer
from maps.legend import Legend, Swatch, class_swatches
from maps.popups import Field

#: Above this many suitability cells the grid is drawn as an image, not as vectors.
MAX_VECTOR_CELLS = 3000

ENTRIES: list[MapLayer] = []


# --------------------------------------------------------------------------- isochrones

def _paint_isochrones(build, frame, context):
    from maps.isochrones_layer import paint_isochrones

    return paint_isochrones(build, frame, context)


ENTRIES.append(MapLayer(
    key="isochrones", title="Vùng đẳng thời / isochrones", read=("isochrones.gpkg", "isochrones"), styles={"classed": {}},
    painter=_paint_isochrones,            # one layer per origin, classes from the minutes present: maps/isochrones_layer.py
    stage="areas", publish=("name", "origin", "minutes", "population", "area_km2"), pages=("access.html",)))


# --------------------------------------------------------------------------- the suitability grid

def _score_column(suit) -> str | None:
    if "score" in suit:
        return "score"
    for c in suit.columns:
        if c != suit.geometry.name and pd.api.types.is_numeric_dtype(suit[c]):
            return c
    return None


def paint_suitability(build, suit, context):
    """The grid: the explorer (re-scored as the weights move), an image (large grids) or vectors."""
    col = _score_column(suit)
    title = "Mức phù hợp / suitability"
    show = context.is_on("suitability", False)
    from maps import explorer

    if explorer.can_explore(suit):
        rules = suit.attrs["explorer_rules"]
        labels = {n: column_labels(n, context.names) for n in rules.weights}
        payload = explorer.explorer_payload(suit, rules, labels)
        lay = build.add(G_ANALYSIS, explorer.ExplorerLayer(payload, title, open=context.options.get("explorer_open", False),
                                                             show=show), "suitability")
        build.explorer = lay
        build.legends.append(Legend("Mức phù hợp (điểm 0–1) / suitability (score 0–1)",
                                    class_swatches(payload["breaks"], payload["palette"], lambda v: style.fmt_number(v, 2)),
                                    [lay], note=lang.both(_explorer_note, len(suit))))
        return lay
    values = suit[col] if col else pd.Series(np.nan, index=suit.index)
    breaks = style.nice_breaks(values, 5)
    pal = style.PALETTES["rdylgn"][-(len(breaks) + 1):] if len(breaks) + 1 <= 6 else style.PALETTES["rdylgn"]
    if len(suit) > MAX_VECTOR_CELLS:
        # A full grid (62,000 cells at 250 m) as vectors would weigh hundreds of MB: draw it as an image.
        return _suitability_image(build, suit, values, breaks, pal, col, show)
    keys, styles = style.choropleth(values, breaks, pal, weight=0, opacity=0.65)
    fields = popups.auto_fields(suit)
    pops = lang.pairs(lambda: popups.feature_popups(suit, lambda r: tr("Ô lưới / grid cell"), fields), tag="div")
    tips = lang.pairs(lambda: [popups.tooltip_html(tr("Điểm phù hợp / suitability"), popups.auto_fmt(col or "score")(v))
                               for v in values])
    lay = build.layer(G_ANALYSIS, "suitability", title, suit, keys, styles, tips, pops, highlight=False, show=show, z=2)
    build.legends.append(Legend(f"Mức phù hợp ({col}) / suitability ({col})",
                                class_swatches(breaks, pal, popups.auto_fmt(col or "score")), [lay]))
    return lay


def _explorer_note(cells: int) -> str:
    return (f"{style.fmt_number(cells)} {tr('ô lưới, tính lại theo trọng số / grid cells, re-scored with the weights')}; "
            f"{tr('xám = bị loại; viền đen = địa điểm; bấm vào một ô để xem điểm từng tiêu chí / grey = excluded; black outline = site; click a cell for its score by criterion')}")


def _suitability_image(build, suit, values, breaks, pal, col, show):
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
    lay = build.add(G_ANALYSIS, ImageLayer(uri, bounds, "Mức phù hợp / suitability", "suitability", opacity=0.8, show=show),
                    "suitability")
    build.legends.append(Legend(f"Mức phù hợp ({col}) / suitability ({col})",
                                class_swatches(breaks, pal, popups.auto_fmt(col or "score")), [lay],
                                note=lang.both(lambda: f"{style.fmt_number(len(suit))} "
                                               + tr("ô lưới, vẽ dạng ảnh; không tô = bị loại hoặc không rõ / grid cells, "
                                                    "drawn as an image; blank = excluded or unknown"))))
    return lay


ENTRIES.append(MapLayer(
    key="suitability", title="Mức phù hợp / suitability", styles={"classed": {}}, painter=paint_suitability, stage="areas",
    publish=("score", "row", "col", "excluded", "excluded_by", "district", "parcel", "s_*"),
    pages=("suitability.html",), show=False))


# --------------------------------------------------------------------------- candidate sites

CANDIDATE_STYLE = {"radius": 8, "fillColor": "#ffd400", "color": "#000000", "weight": 2.5, "fillOpacity": 1, "fill": True}


def paint_candidates(build, cand, context):
    """The explorer's ranked sites when the grid is explored, else the candidate sites as numbered points."""
    show = context.is_on("candidates", False)
    if build.explorer is not None:
        from maps.explorer import ExplorerSites

        lay = build.add(G_ANALYSIS, ExplorerSites(build.explorer, "Địa điểm đề xuất / candidate sites", show=show),
                        "candidates")
        build.legends.append(Legend("Địa điểm đề xuất / candidate sites",
                                    [Swatch("Địa điểm, số = thứ hạng / site, number = rank", "circle", CANDIDATE_STYLE)],
                                    [lay]))
        return lay
    if "rank" in cand:
        cand = cand.sort_values("rank", ascending=False)
    rows = [r for _, r in cand.iterrows()]

    def title(r):
        rank = f"#{int(r['rank'])} " if "rank" in cand and not style.is_missing(r["rank"]) else ""
        return rank + (style.fmt_text(r.get("name")) if "name" in cand else tr("Địa điểm đề xuất / candidate site"))

    fields = popups.auto_fields(cand, skip=["name"])
    pops = lang.pairs(lambda: popups.feature_popups(cand, title, fields), tag="div")
    tips = lang.pairs(lambda: [popups.tooltip_html(title(r), (f"{tr('Điểm / score')}: {popups.auto_fmt('score')(r['score'])}"
                                                              if "score" in cand else None)) for r in rows])
    names = lang.both(lambda: [title(r) for r in rows])[0]
    lay = build.layer(G_ANALYSIS, "candidates", "Địa điểm đề xuất / candidate sites", cand, ["c"] * len(cand),
                      {"c": CANDIDATE_STYLE}, tips, pops, show=show, z=12, names=names)
    build.legends.append(Legend("Địa điểm đề xuất / candidate sites",
                                [Swatch("Địa điểm đề xuất / candidate site", "circle", CANDIDATE_STYLE)], [lay]))
    return lay


ENTRIES.append(MapLayer(
    key="candidates", title="Địa điểm đề xuất / candidate sites", styles={"c": CANDIDATE_STYLE}, painter=paint_candidates,
    publish=("rank", "name", "score", "area_ha", "district"), pages=("suitability.html",), show=False))


# --------------------------------------------------------------------------- the sites' legal verdict

def verdict_class(value) -> str:
    """Legal verdict of a site: "eligible", "fails" or "unknown" (missing or anything else is unknown, never a pass).

    Reads the ``verdict`` column's words too ("ineligible" → "fails").

    >>> verdict_class("true"), verdict_class(False), verdict_class(None), verdict_class("unknown")
    ('eligible', 'fails', 'unknown', 'unknown')
    """
    if value is True:
        return "eligible"
    if value is False:
        return "fails"
    if style.is_missing(value):
        return "unknown"
    key = fold(str(value))
    if key in ("true", "1", "yes", "eligible"):
        return "eligible"
    if key in ("false", "0", "no", "fails", "not eligible", "ineligible"):
        return "fails"
    return "unknown"


VERDICT_LABELS = {"eligible": "đủ điều kiện (mọi quy tắc đã biết và đạt) / eligible (every rule known and passed)",
                  "fails": "không đạt (vi phạm một quy tắc) / fails a rule (ineligible)",
                  "unknown": "chưa xác định (thiếu dữ liệu) / unknown (facts missing)"}


def verdict_of(row) -> str:
    """The site's verdict class: the ``verdict`` column when there is one (sites since the three-valued verdict), else
    ``eligible``."""
    value = row.get("verdict")
    return verdict_class(row.get("eligible") if style.is_missing(value) else value)


def criterion_value(name: str, value) -> str:
    """A criterion's raw value with its unit, in the current language ("4,2 phút")."""
    if style.is_missing(value):
        return style.unknown()
    vi, en, digits = criterion_unit(name)
    unit = tr((vi, en)) if vi else ""
    return style.fmt_number(value, digits, unit)


def site_criteria(row, names: dict | None = None) -> str:
    """Each scored criterion of a site as "criterion: mean value → mean score (0–1)" (columns ``s_<name>`` and
    ``<name>``), in the current language.

    >>> site_criteria({"s_minutes_to_trunk": 0.91, "minutes_to_trunk": 3.26, "s_slope_deg": None})
    'Thời gian đến trục chính (cao tốc, quốc lộ) / travel time to trunk road (expressway, national road): 3,3 phút / min → 0,91'
    """
    parts = []
    for key in row.keys():
        if not str(key).startswith("s_"):
            continue
        name = str(key)[2:]
        score = row.get(key)
        label = tr(column_labels(name, names or {}))
        shown = style.unknown() if style.is_missing(score) else style.fmt_number(score, 2)
        value = row.get(name)
        if not style.is_missing(value):
            shown = f"{criterion_value(name, value)} → {shown}"
        elif style.is_missing(score):
            continue
        parts.append(f"{label}: {shown}")
    return " • ".join(parts) or "—"


def site_setting(row) -> str:
    """Parcel, shape and what lies next to the site (metres from its edge), in the current language."""
    def m(key):
        v = row.get(key)
        return "?" if style.is_missing(v) else style.fmt_number(v, 0, "m")

    parcel = row.get("parcel")
    text = "" if style.is_missing(parcel) else f"{tr('thửa / parcel')} {int(float(parcel))}"
    if not style.is_missing(row.get("parcel_area_ha")):
        text += f" ({style.fmt_ha(row['parcel_area_ha'])})"
    if not style.is_missing(row.get("compactness")):
        text += (f"; {tr('độ gọn / compactness')} {style.fmt_number(row['compactness'], 2)}, "
                 f"{tr('rộng tối thiểu / min width')} {m('min_width_m')}")
    text += (f"; {tr('QL, ĐT, cao tốc / corridor road')} {m('m_to_corridor_road')}; {tr('đường sắt / railway')} "
             f"{m('m_to_railway')}; {tr('khu dân cư / settlement')} {m('m_to_settlement')}")
    if not style.is_missing(row.get("nearest_settlement")):
        source = row.get("settlement_source")
        text += f" ({style.fmt_text(row.get('nearest_settlement'))}" + ("" if style.is_missing(source) else
                                                                       f", {style.fmt_text(source)}") + ")"
    return text.lstrip("; ")


def _listing(value) -> str:
    """A " | "-separated rule list (:func:`geo.siting.rules.listing`) as "• a • b"; "—" when there is none.

    >>> _listing("a (x; y) | b [why]"), _listing(None)
    ('• a (x; y) • b [why]', '—')
    """
    if style.is_missing(value):
        return "—"
    parts = [p.strip() for p in str(value).split(" | ") if p.strip()]
    return " ".join(f"• {p}" for p in parts) or "—"


def _rank(value) -> str:
    return style.unknown() if style.is_missing(value) else f"#{int(float(value))}"


def site_title(row) -> str:
    rank = row.get("site", row.get("rank"))
    head = f"{tr('Địa điểm / site')} #{int(float(rank))}" if not style.is_missing(rank) else tr("Địa điểm / site")
    return head + (f" — {style.fmt_text(row.get('district'))}" if not style.is_missing(row.get("district")) else "")


def rank_range(row) -> str:
    """"#3 (#2–#6, 5–95 %)": the base rank with the 5–95 % range over the Monte Carlo runs; "lost" when it vanishes."""
    base = row.get("site")
    lo, mid, hi = row.get("rank_p05"), row.get("rank_median"), row.get("rank_p95")
    text = _rank(base)
    if not (style.is_missing(lo) or style.is_missing(hi)):
        text += f" (#{int(float(lo))}–#{int(float(hi))}, 5–95 %)"
    elif style.is_missing(hi) and not style.is_missing(lo):
        text += f" (#{int(float(lo))} – {tr('mất / lost')}, 5–95 %)"
    if not style.is_missing(mid):
        text += f"; {tr('trung vị / median')} #{int(float(mid))}"
    return text


_VERDICT_STYLES = {
    "eligible": {"color": "#1a9850", "weight": 3.5, "fillColor": "#1a9850", "fillOpacity": 0.15, "opacity": 1},
    "fails": {"color": "#d73027", "weight": 3.5, "fillColor": "#d73027", "fillOpacity": 0.15, "opacity": 1,
              "dashArray": "6 4"},
    "unknown": {"color": "#6b6b6b", "weight": 3, "fillColor": "#bdbdbd", "fillOpacity": 0.15, "opacity": 1,
                "dashArray": "2 4"},
}


def _site_fields(frame, context) -> tuple:
    names = context.names
    return (
        Field("eligible", "Điều kiện pháp lý / legal verdict", str, value=lambda r: tr(VERDICT_LABELS[verdict_of(r)])),
        Field("verdict_reasons", "Lý do / reasons"),
        Field("rule_failures", "Không đạt / fails", _listing),
        Field("rules_unknown", "Chưa xác định được / could not be decided", _listing),
        Field("missing_facts", "Cần bổ sung / what to give", _listing),
        Field("preconditions_met", "Điều kiện tiên quyết / preconditions met", style.fmt_yes_no),
        Field("area_ha", "Diện tích / area", style.fmt_ha),
        Field("score_mean", "Điểm trung bình (0–1) / mean score (0–1)", lambda v: style.fmt_number(v, 3)),
        Field("score_mean", "Tiêu chí: giá trị → điểm (0–1) / criteria: value → score (0–1)", str,
              value=lambda r: site_criteria(r, names)),
        Field("parcel", "Thửa đất và lân cận / parcel and surroundings", str, value=site_setting),
        Field("district", "Huyện / district"),
        Field("commune", "Xã / commune"),
    )


ENTRIES.append(MapLayer(
    key="site_verdicts",
    title="Điều kiện pháp lý của địa điểm / legal verdict of the sites",
    read=("sites.gpkg", "sites"),
    needs=("eligible",),
    classify=verdict_of,
    styles=_VERDICT_STYLES,
    legend=tuple((k, VERDICT_LABELS[k]) for k in ("eligible", "fails", "unknown")),
    legend_title="Địa điểm theo trọng số của hồ sơ: điều kiện pháp lý / sites at the profile's weights: legal verdict",
    legend_note="Quy tắc trong layers/rules/ (điều, ngày ban hành); chưa xác định = thiếu dữ liệu, không phải đạt / "
                "rules in layers/rules/ (article, date); unknown = facts missing, never a pass",
    popup_title=site_title, search=lambda r: lang.both(site_title, r)[0],
    fields=_site_fields,
    tooltip=lambda r: tr(VERDICT_LABELS[verdict_of(r)]),
    publish=("site", "area_ha", "score_mean", "district", "commune", "eligible", "verdict", "verdict_reasons",
             "missing_facts", "preconditions_met", "rule_failures", "rules_unknown", "parcel", "parcel_area_ha",
             "compactness", "min_width_m", "m_to_corridor_road", "m_to_railway", "m_to_settlement", "nearest_settlement",
             "settlement_source", "s_*", "minutes_to_*", "people_within_*", "km_to_*", "slope_deg"),
    licence="candidates",
    pages=("suitability.html",),
    show=False,
    z=12.2,
))


# --------------------------------------------------------------------------- how firm the ranks are (Monte Carlo)

_RANK_STYLES = {
    "firm": {"radius": 7, "fillColor": "#2c7bb6", "color": "#ffffff", "weight": 2, "fillOpacity": 1},
    "shaky": {"radius": 7, "fillColor": "#fdae61", "color": "#333333", "weight": 2, "fillOpacity": 1},
    "lost": {"radius": 7, "fillColor": "#ffffff", "color": "#d7191c", "weight": 2.5, "fillOpacity": 1},
}


def _rank_class(row) -> str:
    lost = row.get("p_lost")
    top = row.get("p_top_n")
    if not style.is_missing(lost) and float(lost) >= 0.25:
        return "lost"
    if not style.is_missing(top) and float(top) >= 0.9:
        return "firm"
    return "shaky"


ENTRIES.append(MapLayer(
    key="sensitivity_sites",
    title="Thứ hạng địa điểm khi đổi trọng số / site ranks under other weightings",
    read=("sensitivity.gpkg", "sites"),
    needs=("site",),
    classify=_rank_class,
    styles=_RANK_STYLES,
    swatch="circle",
    as_points=True,
    legend=(("firm", "ở lại danh sách ≥ 90 % lần chạy / in the list in ≥ 90 % of runs"),
            ("shaky", "thứ hạng dao động / rank moves"),
            ("lost", "mất ≥ 25 % lần chạy / lost in ≥ 25 % of runs")),
    legend_title="Độ vững của thứ hạng (Monte Carlo) / how firm the ranks are (Monte Carlo)",
    legend_note="plan.py sensitivity: trọng số ngẫu nhiên quanh hồ sơ / random weightings around the profile",
    popup_title=site_title,
    fields=(
        Field("site", "Thứ hạng (khoảng 5–95 %) / rank (5–95 % range)", str, value=rank_range),
        Field("p_rank_1", "Xếp thứ nhất / ranked first", lambda v: style.fmt_pct(v, 0)),
        Field("p_top_n", "Trong danh sách / in the list", lambda v: style.fmt_pct(v, 0)),
        Field("p_lost", "Biến mất / lost", lambda v: style.fmt_pct(v, 0)),
        Field("area_ha", "Diện tích / area", style.fmt_ha),
    ),
    tooltip=rank_range,
    publish=("site", "district", "area_ha", "p_rank_1", "p_top_n", "p_lost", "rank_p05", "rank_median", "rank_p95"),
    licence="candidates",
    pages=("suitability.html",),
    show=False,
    z=12.4,
))


def _paint_probability(build, frame, context):
    from maps.sensitivity_layer import add_probability_layer

    return add_probability_layer(build, frame, context)


ENTRIES.append(MapLayer(
    key="sensitivity",
    title="Xác suất phù hợp / probability suitable",
    read=("sensitivity.gpkg", "cells"),
    needs=("p_suitable",),
    styles={"image": {}},
    painter=_paint_probability,          # a classed image (62,000 cells): maps/sensitivity_layer.py
    publish=("p_suitable",),
    licence="candidates",
    pages=("suitability.html",),
    show=False,
))
