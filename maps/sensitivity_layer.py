"""The Monte Carlo probability layer of the planner map: share of weightings in which a cell is suitable.

Input: the ``cells`` layer of ``OUT/sensitivity.gpkg`` (``plan.py sensitivity``,
:mod:`layers.sensitivity`), column ``p_suitable`` (0–1). Drawn as a classed
image (62,000 cells at 250 m would weigh hundreds of MB as vectors), on top
of the suitability score, transparent where no run found the cell suitable,
with its legend saying how many runs and which seed (``attrs["montecarlo"]``:
``runs``, ``seed``, put there by :func:`read_sensitivity` and
:func:`maps.planner.read_analyses`). Declared in :mod:`maps.registry`
(entry ``sensitivity``), which draws it on OUT/map.html and the published
suitability page.
"""

from __future__ import annotations

import numpy as np

from maps import lang, style
from maps.layer import G_ANALYSIS
from maps.legend import Legend, Swatch

#: Classes of p_suitable: (0, 0.25], (0.25, 0.5], (0.5, 0.75], (0.75, 1), 1 (every run); 0 = transparent.
P_BREAKS = [0.25, 0.5, 0.75, 1.0 - 1e-9]
P_PALETTE = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#67000d"]
P_LABELS = ["≤ 25 %", "25–50 %", "50–75 %", "75 – < 100 %", "100 % (mọi lần chạy) / 100 % (every run)"]
NAME = "Xác suất phù hợp / probability suitable"


def read_sensitivity(out_dir):
    """The ``cells`` layer of ``OUT/sensitivity.gpkg`` with ``attrs["summary"]`` from ``sensitivity.json``; None when absent."""
    import json
    from pathlib import Path

    import geopandas as gpd

    path = Path(out_dir) / "sensitivity.gpkg"
    if not path.is_file():
        return None
    cells = gpd.read_file(path, layer="cells", columns=["p_suitable"])
    meta = Path(out_dir) / "sensitivity.json"
    if meta.is_file():
        s = json.loads(meta.read_text(encoding="utf-8"))
        cells.attrs["montecarlo"] = {k: s.get(k) for k in ("runs", "seed", "concentration", "profile", "scheduler")}
    return cells


def probability_image(cells) -> tuple[str, list]:
    """``p_suitable`` rasterised in Web Mercator at half a cell → ``(png data URI, [[south, west], [north, east]])``.

    Web Mercator pixels are what Leaflet stretches an image over, so the
    cells sit where they belong without resampling.
    """
    import base64

    from folium.utilities import write_png
    from pyproj import Transformer
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    merc = cells.to_crs("EPSG:3857")
    west, south, east, north = merc.total_bounds
    b = merc.geometry.bounds
    size = float(np.median(np.minimum(b["maxx"] - b["minx"], b["maxy"] - b["miny"]))) / 2
    width, height = max(1, int(np.ceil((east - west) / size))), max(1, int(np.ceil((north - south) / size)))
    p = merc["p_suitable"].to_numpy(float)
    some = np.isfinite(p) & (p > 0)                       # never suitable: transparent
    grid = rasterize(zip(merc.geometry.values[some], p[some]), out_shape=(height, width),
                     transform=from_origin(west, north, size, size), fill=np.nan, dtype="float64")
    rgba = np.zeros(grid.shape + (4,), dtype=np.uint8)
    classes = np.digitize(np.nan_to_num(grid, nan=-1.0), P_BREAKS, right=True)
    for i, col in enumerate(P_PALETTE):
        sel = (classes == i) & np.isfinite(grid)
        rgba[sel] = [int(col[1:3], 16), int(col[3:5], 16), int(col[5:7], 16), 200]
    lon, lat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform(
        [west, west + width * size], [north - height * size, north])
    uri = "data:image/png;base64," + base64.b64encode(write_png(rgba)).decode("ascii")
    return uri, [[lat[0], lon[0]], [lat[1], lon[1]]]


def add_probability_layer(build, cells, context=None):
    """Add the probability image and its legend section to the map's builder (``build.add``, ``build.legends``)."""
    from maps.elements import ImageLayer, has_features

    if not has_features(cells) or "p_suitable" not in cells:
        return None
    show = context.is_on("sensitivity", False) if context is not None else True
    uri, bounds = probability_image(cells)
    lay = build.add(G_ANALYSIS, ImageLayer(uri, bounds, NAME, "sensitivity", opacity=0.85, show=show), "sensitivity")
    s = cells.attrs.get("montecarlo") or cells.attrs.get("summary") or {}

    def title():
        if not s.get("runs"):
            return f"{lang.tr(NAME)} — Monte Carlo"
        return (f"{lang.tr(NAME)} — {style.fmt_number(s['runs'])} "
                f"{lang.tr('trọng số ngẫu nhiên / random weightings')} (seed {s.get('seed')})")

    build.legends.append(Legend(
        lang.both(title),
        [Swatch(label, "fill", {"fillColor": col, "color": col, "fillOpacity": 0.85}) for label, col in zip(P_LABELS, P_PALETTE)],
        [lay],
        note="Tỷ lệ lần chạy ô thuộc nhóm phù hợp nhất; không tô = không lần nào / share of runs in which the cell is "
             "among the suitable ones; blank = none"))
    return lay
