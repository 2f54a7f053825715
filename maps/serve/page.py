"""``GET /``: the planner map (:func:`maps.planner.planner_map`) with the sketch editor beside it.

The page is the region's planner map — boundaries, parks, corridors, rail,
water, towns, population, every legend and popup of ``OUT/map.html`` —
rendered once when the server starts, with the vendored files linked from
``/assets/`` (:mod:`maps.vendor`, plus Leaflet-Geoman, ``maps/assets/geoman/``)
and the editor (``maps/serve/static/editor.js``, ``editor.css``): a panel to
sketch roads and interchanges with Leaflet-Geoman, pick a road class or
design speed, evaluate, and read the answer as layers and a table.

The editor's settings (road classes and speeds, targets, limits) are
embedded as JSON (``<script id="bg-serve-config">``), escaped so that no
text from the data can end the script element.
"""

from __future__ import annotations

import folium

from maps.elements import safe_json
from maps.lang import text_html
from maps.map_options import MapOptions
from maps.planner import planner_map

#: Files the page links besides :data:`maps.vendor.CSS`/``JS`` (paths under ``/assets/`` and ``/static/``).
EDITOR_CSS = ("assets/geoman/leaflet-geoman.css", "static/editor.css")
EDITOR_JS = ("assets/geoman/leaflet-geoman.min.js", "static/editor.js")

TITLE = "Phác thảo đường, xem tác động / Sketch a road, see what it changes"

def _t(text: str) -> str:
    """A "vi / en" label of the panel, one language shown at a time (the page's vi/en toggle, :mod:`maps.lang`)."""
    return text_html(text)


PANEL = f"""
<aside id="bg-serve" class="bg-serve" aria-label="Sketch editor">
  <h2>{_t("Phác thảo đường / Sketch a road")}</h2>
  <p class="bg-serve-help"><span class="bg-vi">Vẽ đường bằng công cụ <b>đường</b> (trái), nút giao bằng công cụ <b>điểm</b>;
  rồi bấm Đánh giá.</span><span class="bg-en">Draw a road with the <b>line</b> tool (left), interchanges with the <b>circle
  marker</b> tool; then press Evaluate.</span></p>
  <fieldset><legend>{_t("Đường mới / next road")}</legend>
    <label>{_t("Tên / name")} <input id="bg-serve-name" type="text" maxlength="200" placeholder="Đường phác thảo / sketched road"></label>
    <label>{_t("Cấp đường / road class")} <select id="bg-serve-class"></select></label>
    <label>{_t("Tốc độ thiết kế (km/h) / design speed (km/h)")} <input id="bg-serve-speed" type="number" min="5" max="130"
      step="5" placeholder="mặc định / class default"></label>
  </fieldset>
  <div id="bg-serve-roads" class="bg-serve-roads"></div>
  <div class="bg-serve-buttons">
    <button id="bg-serve-evaluate" type="button">{_t("Đánh giá / Evaluate")}</button>
    <button id="bg-serve-save" type="button">{_t("Lưu kịch bản / Save as scenario")}</button>
    <button id="bg-serve-clear" type="button">{_t("Xoá / Clear")}</button>
  </div>
  <div id="bg-serve-status" class="bg-serve-status" role="status"></div>
  <div id="bg-serve-result" class="bg-serve-result" hidden>
    <label>{_t("Tô màu theo / colour by")} <select id="bg-serve-target"></select></label>
    <ul id="bg-serve-summary" class="bg-serve-summary"></ul>
    <div id="bg-serve-legend" class="bg-serve-legend"></div>
    <h3>{_t("Lợi ích lớn nhất / largest gains")}</h3>
    <table id="bg-serve-gains" class="bg-serve-table"><thead><tr><th>{_t("Khu / park")}</th><th>{_t("Tới / to")}</th>
      <th>{_t("Trước / before")}</th><th>{_t("Sau / after")}</th><th>{_t("Tiết kiệm / saved")}</th></tr></thead><tbody></tbody></table>
    <h3>{_t("Đầu đường / road ends")}</h3>
    <table id="bg-serve-ends" class="bg-serve-table"><thead><tr><th>{_t("Đường / road")}</th><th>{_t("Đầu / end")}</th>
      <th>{_t("Nối / joins")}</th></tr></thead><tbody></tbody></table>
  </div>
  <fieldset><legend>{_t("Đẳng thời / isochrones")}</legend>
    <label>{_t("Phút / minutes")} <select id="bg-serve-minutes"><option>15</option><option selected>30</option>
      <option>45</option><option>60</option></select></label>
    <button id="bg-serve-origin" type="button">{_t("Chọn điểm / pick a point")}</button>
    <div id="bg-serve-iso" class="bg-serve-status"></div>
  </fieldset>
  <p class="bg-serve-note" id="bg-serve-note"></p>
</aside>
"""


def serve_page(layer_set, options: dict) -> str:
    """The page's HTML: the planner map of ``layer_set`` (:class:`layers.build.LayerSet`) and the editor set up
    with ``options`` (:meth:`maps.serve.engine.Engine.describe`)."""
    m = planner_map(layer_set.layers, population=layer_set.population, summary=layer_set.summary,
                    options=MapOptions(assets="site", title=TITLE, subtitle=options.get("network"), collapsed=True,
                                       access_layers=False))
    root = m.get_root()
    tags = [f'<link rel="stylesheet" href="/{p}"/>' for p in EDITOR_CSS]
    tags += [f'<script src="/{p}"></script>' for p in EDITOR_JS]
    root.header.add_child(folium.Element("\n".join(tags)), name="bg_serve_assets")
    root.html.add_child(folium.Element(PANEL + '<script id="bg-serve-config" type="application/json">'
                                       + safe_json(options) + "</script>"), name="bg_serve_panel")
    html = root.render()
    # the planner links its assets relative to the page ("assets/…"); the server serves them at /assets/
    return html.replace('href="assets/', 'href="/assets/').replace('src="assets/', 'src="/assets/')
