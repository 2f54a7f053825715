"""The isochrone layers of the maps: one layer per origin (one at a time), classed by minutes.

Input: ``OUT/isochrones.gpkg`` (``plan.py isochrones``) or the ``isochrones`` layer of ``OUT/analyses.gpkg``:
``name`` (the origin's key, e.g. ``kep_station``, named from the destinations), ``origin``, ``minutes`` (travel
time, min), ``population``. Up to 8 origins get one layer each in a radio group (with "none"), named after the
origin ("Ga Kép"), never after its index; more are drawn as one layer. The classes follow the minutes present (one
class per value when there are few, else nice breaks), short travel times dark. Declared in
:mod:`maps.analysis_layers` (entry ``isochrones``: source, publish allow-list, pages), which calls
:func:`paint_isochrones`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maps import lang, popups, style
from maps.lang import tr
from maps.layer import G_ISOCHRONES
from maps.legend import Legend, Swatch
from maps.style import choropleth


def origin_names(iso, names: dict) -> list[tuple[str, str]]:
    """(Vietnamese, English) name of each row's origin: its ``name`` key named from the destinations, else the
    ``origin`` text as it is."""
    out = []
    for _, r in iso.iterrows():
        key = r.get("name")
        if not style.is_missing(key) and str(key) in names:
            out.append(names[str(key)])
            continue
        text = style.fmt_text(key if not style.is_missing(key) else r.get("origin"))
        out.append((text, text))
    return out


def paint_isochrones(build, iso, context):
    """Draw the isochrones ``iso`` on the builder (one layer per origin); returns the drawn layers (a list)."""
    minutes = iso["minutes"] if "minutes" in iso else pd.Series(np.nan, index=iso.index)
    values = sorted({float(v) for v in minutes if not style.is_missing(v)})
    pal = style.PALETTES["blues"][::-1]          # short travel times dark
    if values and len(values) <= len(pal):
        pal = pal[:len(values)]
        index = {v: i for i, v in enumerate(values)}
        keys = ["u" if style.is_missing(v) else str(index[float(v)]) for v in minutes]
        _, styles = choropleth([], [], pal, weight=1, opacity=0.35)
        labels = lang.both(lambda: ["≤ " + style.fmt_minutes(v) for v in values])
    else:
        breaks = style.nice_breaks(values, len(pal))
        pal = pal[:len(breaks) + 1]
        keys, styles = choropleth(minutes, breaks, pal, weight=1, opacity=0.35)
        labels = lang.both(style.class_labels, breaks, style.fmt_minutes)
    order = np.argsort(-minutes.fillna(np.inf).to_numpy(), kind="stable")
    iso = iso.iloc[order]
    keys = [keys[i] for i in order]
    origins = origin_names(iso, context.names)
    fields = popups.auto_fields(iso, skip=["name", "origin_index", "nodes", "raster_covers", "people_within"])
    pick = lambda: lang.LANGS.index(lang.current())        # noqa: E731
    pops = lang.pairs(lambda: popups.feature_popups(iso.assign(_t=[o[pick()] for o in origins]), "_t", fields), tag="div")
    tips = lang.pairs(lambda: [popups.tooltip_html(o[pick()], f"{tr('trong / within')} {style.fmt_minutes(m)}")
                               for o, m in zip(origins, iso["minutes"] if "minutes" in iso else minutes)])
    distinct = list(dict.fromkeys(origins))
    made = []
    if len(distinct) <= 8:
        keys_of = [f"isochrones_{style.slug(o[0]) or i}" for i, o in enumerate(distinct)]
        shown = next((k for k in keys_of if context.is_on(k, False)), None)     # one at a time (a radio group)
        for o, key in zip(distinct, keys_of):
            sel = np.asarray([x == o for x in origins])
            made.append(build.layer(G_ISOCHRONES, key, o, iso[sel], [k for k, s in zip(keys, sel) if s], styles,
                                    [t for t, s in zip(tips, sel) if s], [p for p, s in zip(pops, sel) if s],
                                    show=key == shown, highlight=False, z=3))
        build.none_choice(G_ISOCHRONES, "isochrones_none", shown is None)
    else:
        made.append(build.layer(G_ISOCHRONES, "isochrones", "Vùng đẳng thời / isochrones", iso, keys, styles, tips, pops,
                                highlight=False, show=context.is_on("isochrones", False), z=3))
    sw = [Swatch((vi, en), "fill", styles[str(i)]) for i, (vi, en) in enumerate(zip(*labels))]
    build.legends.append(Legend("Vùng đẳng thời (thời gian đi từ điểm xuất phát) / isochrones (travel time from the origin)",
                                sw, made))
    return made
