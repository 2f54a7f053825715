"""The isochrone layers of the planner map: one layer per origin (one at a time), classed by minutes.

Input: ``OUT/isochrones.gpkg`` (``plan.py isochrones``) or the ``isochrones`` layer of ``OUT/analyses.gpkg``:
``origin``, ``minutes`` (travel time, min), ``population``. Up to 8 origins get one layer each in an exclusive
group (with "none"); more are drawn as one layer. The classes follow the minutes present (one class per value
when there are few, else nice breaks), short travel times dark. Declared in :mod:`maps.registry` (entry
``isochrones``: source, publish allow-list, pages), which calls :func:`paint_isochrones`.
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from maps import popups, style
from maps.analysis_layers import G_ISOCHRONES
from maps.legend import Legend, Swatch
from maps.style import choropleth


def paint_isochrones(build, iso):
    """Draw the isochrones ``iso`` with the planner's builder (``build.layer``, ``build.add``, ``build.legends``);
    returns the drawn layers (a list)."""
    minutes = iso["minutes"] if "minutes" in iso else pd.Series(np.nan, index=iso.index)
    values = sorted({float(v) for v in minutes if not style.is_missing(v)})
    pal = style.PALETTES["blues"][::-1]          # short travel times dark
    if values and len(values) <= len(pal):
        pal = pal[:len(values)]
        index = {v: i for i, v in enumerate(values)}
        keys = ["u" if style.is_missing(v) else str(index[float(v)]) for v in minutes]
        _, styles = choropleth([], [], pal, weight=1, opacity=0.35)
        labels = ["≤ " + style.fmt_minutes(v) for v in values]
    else:
        breaks = style.nice_breaks(values, len(pal))
        pal = pal[:len(breaks) + 1]
        keys, styles = choropleth(minutes, breaks, pal, weight=1, opacity=0.35)
        labels = style.class_labels(breaks, style.fmt_minutes)
    order = np.argsort(-minutes.fillna(np.inf).to_numpy(), kind="stable")
    iso = iso.iloc[order]
    keys = [keys[i] for i in order]
    fields = popups.auto_fields(iso)
    origin = iso["origin"] if "origin" in iso else pd.Series(["—"] * len(iso), index=iso.index)
    pops = popups.feature_popups(iso.assign(_t=list(origin)), "_t", fields)
    tips = [popups.tooltip_html(o, style.fmt_minutes(mv)) for o, mv in zip(origin, iso.get("minutes", minutes))]
    origins = list(dict.fromkeys(origin))
    made = []
    if len(origins) <= 8:
        none = folium.FeatureGroup(name="Không / none", show=False, control=False)
        for i, o in enumerate(origins):
            sel = np.asarray([x == o for x in origin])
            made.append(build.layer(G_ISOCHRONES, f"isochrones_{style.slug(o) or i}", style.fmt_text(o), iso[sel],
                                    [k for k, s in zip(keys, sel) if s], styles,
                                    [t for t, s in zip(tips, sel) if s], [p for p, s in zip(pops, sel) if s],
                                    show=(i == 0), highlight=False))
        build.add(G_ISOCHRONES, none, "isochrones_none")
    else:
        made.append(build.layer(G_ISOCHRONES, "isochrones", "Vùng đẳng thời / isochrones", iso, keys, styles, tips, pops,
                                highlight=False))
    sw = [Swatch(lab, "fill", styles[str(i)]) for i, lab in enumerate(labels)]
    build.legends.append(Legend("Vùng đẳng thời / isochrones (thời gian đi / travel time)", sw, made))
    return made
