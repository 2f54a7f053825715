"""The planner map: every planning layer of a region on one Leaflet map, drawn from the layer registry.

:func:`planner_map` turns the layers of :func:`layers.build.build_layers`
(or of ``OUT/layers.gpkg``, read by :func:`read_layers`) and the analyses
found in OUT (:func:`read_analyses`) into a ``folium.Map``;
:func:`write_planner_map` writes it as one self-contained HTML file,
``OUT/map.html`` (scripts inlined, works offline: the light base map is
drawn from the project's own layers, and tiles load only when a reader picks
the online base map).

Every layer is an entry of :mod:`maps.registry` and is drawn by the one
mechanism :func:`maps.layer.draw`: the light base map (water, main roads,
place names), boundaries, districts coloured by one census figure at a time,
parks and clusters (area-true circles filled by legal status, with the
travel times of the access report in their popups, "34 (28–41) phút" with the
range of the assumed speeds), corridors, railways and stations, towns, the
population grid, and the analyses when given (``analyses`` dict, every entry
optional): ``access`` (one park layer per target), ``isochrones``,
``suitability`` and ``candidates`` (the explorer, :mod:`maps.explorer`),
``site_verdicts``, ``sensitivity`` and ``sensitivity_sites``, ``scenario``
with its ``planned_roads`` and ``interchanges``.

The page reads like the web maps planners use: the region fills the first
view (far destinations are arrows at the edge), a small set of layers is on,
one legend panel (``#legend-panel``) lists the visible layers with an opacity
slider each, a search box (``#map-search``) finds parks, places, communes,
stations and sites and opens their popup, a measure tool (distance, area), a
print layout (A4/A3, landscape/portrait, with title, legend, scale bar, north
arrow, date, sources and licences; PDF through the browser's print, PNG), a
base map choice, and a Vietnamese / English toggle (every text is built in
both languages, :mod:`maps.lang`). Geometry is cut to the province window
(province envelope + ``clip_km``), simplified (``simplify_m``, metric CRS)
and rounded to 5 decimals; vectors are drawn on a canvas (``prefer_canvas``).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import replace
from html import escape
from pathlib import Path

import folium
import geopandas as gpd
from branca.element import Element

from geo.collector import fewer_collections
from geo.io.output import atomic_path
from layers.siting.grid_file import GRID_FILE, read_grid
from maps import lang, parks_notice, registry, style, vendor
from maps.builder import MapBuilder
from maps.elements import (
    BaseMap,
    GroupedLayers,
    MapSetup,
    MapTools,
    Page,
    Ready,
    SharedTexts,
    SwitchWhenAdded,
    has_features,
    stable_ids,
)
from maps.geometry import bounds_of, prepare, to_storage, window_of
from maps.labels import target_names
from maps.layer import EXCLUSIVE, G_TRANSPORT, GROUP_ORDER, MapContext, draw
from maps.map_options import MapOptions

log = logging.getLogger(__name__)

#: Default simplification tolerance per layer (m, metric CRS); 0 = none.
DEFAULT_SIMPLIFY_M = {"province": 20, "districts": 20, "district_population": 20, "neighbours": 100,
                      "water": 40, "corridors": 5, "railways": 5, "urban_areas": 10,
                      "isochrones": 20, "suitability": 0, "scenario": 5, "candidates": 5}

BASE_LIGHT = "Nền nhẹ (ngoại tuyến, từ dữ liệu của công cụ) / light base map (offline, from this tool's data)"
BASE_OSM = "OpenStreetMap (trực tuyến) / OpenStreetMap (online)"
BASE_NONE = "Không nền / no base map"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@fewer_collections()
def planner_map(layers: dict, population=None, analyses: dict | None = None, *, summary: dict | None = None,
                options: MapOptions | None = None) -> folium.Map:
    """A Leaflet map of the planning ``layers`` (name → GeoDataFrame, as in ``LayerSet.layers``).

    population : ``(array, profile)`` of the population grid (``LayerSet.population``),
        a GeoTIFF path (``OUT/population.tif``), or None.
    analyses : optional analysis inputs (see the module docstring); absent ones are skipped.
    summary : the build summary (``LayerSet.summary`` / layers_summary.json), for
        notes such as corridors not found, and the layers' licences (print layout).
    options : how the page is drawn (:class:`maps.map_options.MapOptions`: title, assets, clipping,
        layers on and off, tools …); None = the defaults (the self-contained ``OUT/map.html``).

    The map exposes ``window.bgMap`` and ``bgplan.layers[key]`` for tests;
    ``m.bgplan_layers`` maps the same keys to the Python elements.
    """
    o = options or MapOptions()
    analyses = {k: v for k, v in (analyses or {}).items() if v is not None and len(v)}
    layers = {k: to_storage(v) for k, v in layers.items() if v is not None}
    tolerances = {**DEFAULT_SIMPLIFY_M, **(o.simplify_m or {})}
    window = window_of(layers, o.clip_km)
    prepared = {k: prepare(k, v, window, tolerances.get(k, 0)) for k, v in layers.items()}
    prepared_analyses = {k: (prepare(k, v, window, tolerances.get(k, 0)) if isinstance(v, gpd.GeoDataFrame) else v)
                         for k, v in analyses.items()}
    map_config = o.map_config
    if map_config is None:  # the region's map: section, carried by the build summary (or read by region id)
        map_config = (summary or {}).get("map") if "map" in (summary or {}) else region_map_config((summary or {}).get("region"))
    title = o.title or default_title(layers)

    bounds = bounds_of(layers)
    m = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=9, tiles=None,
                   prefer_canvas=True, control_scale=True, zoom_snap=0.25, zoom_delta=0.5)
    Page().add_child(m)             # the root: the layers' data go into the page after templating
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root.title = escape(lang.tr(title, lang.DEFAULT))
    root.header.add_child(Element('<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                                  '<link rel="icon" href="data:,">\n' + vendor.head_html(o.assets)), name="bgplan_assets")
    # first: the initial view (the region; no animation, so nothing of a provisional zoom is drawn), attribution, title
    MapSetup(style.ATTRIBUTION, title_box(title, o.subtitle, o.home, o.extra_links),
             bounds=[[bounds[1], bounds[0]], [bounds[3], bounds[2]]]).add_to(m)
    tiles = folium.TileLayer(OSM_TILES, name=BASE_OSM, control=False, max_zoom=19, show=False,
                             attr="© OpenStreetMap contributors (ODbL)")
    tiles.add_to(m)
    shared = SharedTexts()
    shared.add_to(m)

    context = MapContext(map_config or {}, summary or {}, o.district_view, layers=prepared, analyses=prepared_analyses,
                         names=target_names(layers, summary), on=None if o.on is None else tuple(o.on), off=tuple(o.hide),
                         options={"access_layers": o.access_layers, "explorer_open": o.explorer_open})
    build = MapBuilder(m, context, shared)
    frames = {"layers": prepared, "analyses": prepared_analyses, "raster": {"population": population}}
    # drawing order on the one canvas: the areas, then lines and points (stacked by each entry's z)
    for stage in ("areas", "top"):
        for entry in registry.entries(stage=stage):
            draw(build, entry, entry.frame_of(frames[entry.source]), context)

    base = [(BASE_OSM, tiles), (BASE_NONE, None)]
    if build.base:
        base.insert(0, (BASE_LIGHT, BaseMap(build.base, BASE_LIGHT).add_to(m)))
    order = list(GROUP_ORDER) + [g for g in build.groups if g not in GROUP_ORDER]
    groups = {(build.transport_group if g == G_TRANSPORT else g): build.groups[g] for g in order if g in build.groups}
    GroupedLayers(base, groups, exclusive=list(EXCLUSIVE), collapsed=o.collapsed).add_to(m)
    reg = build.registry
    if "population" in reg and "districts_outline" in reg:
        # the grid lies below the vector canvas: filled districts would hide it
        SwitchWhenAdded(reg["population"], [reg[k] for k in ("districts_density", "districts_urban") if k in reg],
                        reg["districts_outline"]).add_to(m)
    banner = parks_notice.banner_html(summary, switched=True)
    if banner:   # sourced parks without a position: count, names, reasons and --parks FILE
        root.html.add_child(folium.Element(banner))
    tools = {"search": True, "measure": True, "print": True, "panel": True, **(o.tools or {})}
    if tools.pop("panel"):        # the scenario page's two maps share one panel and one set of tools (maps.dualmap)
        if tools["print"]:
            tools["print"] = print_options(title, o.sources if o.sources is not None else print_sources(summary, reg),
                                           o.generated or _dt.date.today().isoformat())
        tools["far"] = "destinations" if "destinations" in reg else None
        MapTools(tools, list(reversed(build.legends))).add_to(m)
    Ready().add_to(m)
    stable_ids(root)
    m.bgplan_layers = build.registry
    m.bgplan_legends = build.legends
    return m


def print_options(title, sources: list, generated: str) -> dict:
    """What the print layout shows besides the map: title, date, sources and licences (escaped HTML)."""
    return {"title": lang.text_html(title), "generated": escape(generated),
            "sources": [lang.text_html(s) for s in sources]}


def print_sources(summary: dict | None, drawn: dict) -> list:
    """The print layout's source lines: the attribution, then each drawn layer's source and licence in short (from
    the build summary's ``licences``, :func:`maps.licences.short_source`), once per line."""
    known = (summary or {}).get("licences") or {}
    pairs = []
    for key in drawn:
        spec = registry.LAYERS.get(key)
        names = [n for n in ((spec.licence, *spec.data, key) if spec else (key,)) if n]
        entry = next((known[n] for n in names if n in known), None)
        if entry:
            pairs.append((entry.get("source"), entry.get("licence")))
    return source_lines(pairs)


def source_lines(pairs) -> list:
    """The attribution, then one short "source — licence" line per distinct (source, licence) pair; the full texts
    are in licences.json, sources.html and layers_summary.json (the last line says so)."""
    from maps.licences import short_source

    lines = dict.fromkeys(short_source(source, licence) for source, licence in pairs)
    more = ("Đầy đủ: sources.html, licences.json, layers_summary.json / in full: sources.html, licences.json, "
            "layers_summary.json")
    return [style.ATTRIBUTION_TEXT, *((line, line) for line in lines), more]


@fewer_collections()
def write_planner_map(out_dir, layers: dict | None = None, population=None, analyses: dict | None = None,
                      summary: dict | None = None, path=None, options: MapOptions | None = None) -> Path:
    """Write ``OUT/map.html`` (one self-contained file); layers read from ``OUT/layers.gpkg`` when not given.

    ``population`` defaults to ``OUT/population.tif`` and ``analyses`` to
    what :func:`read_analyses` finds (``OUT/access.gpkg``, ``OUT/scenario.gpkg``,
    ``OUT/analyses.gpkg`` …) if layers are read from disk. Returns the path
    written (atomically). ``options`` as in :func:`planner_map`; the assets are always inlined.
    """
    out_dir = Path(out_dir)
    if layers is None:
        layers, file_population, file_summary = read_layers(out_dir)
        population = population if population is not None else file_population
        summary = summary if summary is not None else file_summary
        analyses = analyses if analyses is not None else read_analyses(out_dir)
    options = replace(options or MapOptions(), assets="inline")
    m = planner_map(layers, population=population, analyses=analyses, summary=summary, options=options)
    return save_map(m, path or out_dir / "map.html")


def save_map(m: folium.Map, path) -> Path:
    """Render ``m`` to ``path`` atomically (UTF-8)."""
    html = m.get_root().render()
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return Path(path)


def read_layers(out_dir) -> tuple[dict, tuple | None, dict]:
    """Layers of ``OUT/layers.gpkg`` (GeoDataFrames only), ``OUT/population.tif`` and ``OUT/layers_summary.json``.

    A missing layers.gpkg raises :class:`geo.errors.InputError`; the raster
    and summary are optional (None / {} when absent).
    """
    import pyogrio

    from geo.errors import InputError

    out_dir = Path(out_dir)
    gpkg = out_dir / "layers.gpkg"
    if not gpkg.is_file():
        raise InputError(gpkg, "file not found; run 'plan.py layers' first")
    layers = {}
    for name, geometry_type in pyogrio.list_layers(gpkg):
        if geometry_type is None:
            continue
        layers[str(name)] = gpd.read_file(gpkg, layer=name)
    population = None
    tif = out_dir / "population.tif"
    if tif.is_file():
        from geo.io.raster import read_raster

        population = read_raster(tif)
    summary = {}
    js = out_dir / "layers_summary.json"
    if js.is_file():
        summary = json.loads(js.read_text(encoding="utf-8"))
    return layers, population, summary


#: Analysis layers looked for in ``OUT/analyses.gpkg``.
ANALYSIS_NAMES = ("isochrones", "access", "suitability", "candidates", "scenario", "planned_roads", "interchanges")
#: Outputs of the other subcommands read as analyses: file → {layer in the file: analysis name}.
ANALYSIS_FILES = {
    "access.gpkg": {"access": "access"},                                   # plan.py access
    "scenario.gpkg": {"access_change": "scenario", "planned_roads": "planned_roads",
                      "interchanges": "interchanges"},                     # plan.py scenario
    "sites.gpkg": {"grid": "suitability", "sites": "candidates"},          # plan.py site (grid: older runs; now sites_grid.tif)
}


@fewer_collections()
def read_analyses(out_dir) -> dict:
    """Analysis layers found in ``out_dir``; {} when there are none.

    Read: ``access.gpkg`` (``plan.py access``), ``scenario.gpkg``
    (``plan.py scenario``) and ``analyses.gpkg`` (any of :data:`ANALYSIS_NAMES`,
    e.g. isochrones or a suitability grid), the last one winning; the siting
    grid from ``sites_grid.tif`` when no layer gave one (cell centres, squares
    when the run's summary gives no explorer rules).
    """
    import pyogrio

    out_dir = Path(out_dir)
    found = {}
    sources = [(out_dir / f, m) for f, m in ANALYSIS_FILES.items()]
    for entry in registry.entries("analyses"):          # the declared layers read from their own files
        if entry.read:
            sources.append((out_dir / entry.read[0], {entry.read[1]: entry.key}))
    sources.append((out_dir / "analyses.gpkg", {n: n for n in ANALYSIS_NAMES}))
    for path, mapping in sources:
        if not path.is_file():
            continue
        names = {str(n) for n, _ in pyogrio.list_layers(path)}
        for layer, analysis in mapping.items():
            if layer in names:
                found[analysis] = gpd.read_file(path, layer=layer)
    siting = out_dir / "sites_summary.json"
    rules = None
    if siting.is_file():
        from maps.explorer import rules_from_summary

        rules = rules_from_summary(json.loads(siting.read_text(encoding="utf-8")))
    grid_file = out_dir / GRID_FILE        # plan.py site: the grid as one multi-band GeoTIFF (cell centres here)
    if grid_file.is_file() and "suitability" not in found:
        found["suitability"] = read_grid(grid_file, squares=rules is None)
    if "suitability" in found and rules is not None:
        found["suitability"].attrs["explorer_rules"] = rules
    meta = out_dir / "sensitivity.json"
    if "sensitivity" in found and meta.is_file():          # runs and seed, for the legend (published too)
        s = json.loads(meta.read_text(encoding="utf-8"))
        found["sensitivity"].attrs["montecarlo"] = {k: s.get(k) for k in ("runs", "seed")}
    return found


# --------------------------------------------------------------------------- helpers

def region_map_config(region_id: str | None) -> dict:
    """The ``map:`` section of a region's YAML (``layers/regions/<id>.yaml``); {} when there is none or no region."""
    if not region_id:
        return {}
    try:
        from layers.region import load_region

        return dict(load_region(region_id).config.get("map") or {})
    except Exception as exc:          # an unknown region id: the map is still drawn, with generic texts
        log.warning("no map settings for region %r: %s", region_id, exc)
        return {}


def default_title(layers: dict) -> tuple[str, str]:
    """"<province> — bản đồ quy hoạch" / "<province> — planning map"."""
    prov = layers.get("province")
    name = None
    if has_features(prov) and "name_vi" in prov:
        name = style.fmt_text(prov["name_vi"].iloc[0])
    name = name or "Bắc Giang"
    return f"{name} — bản đồ quy hoạch", f"{name} — planning map"


def title_box(title, subtitle, home: str | None, links) -> str:
    """The title box's HTML (both languages), with the links back home and to the other pages."""
    parts = [f"<h1>{lang.text_html(title)}</h1>"]
    if subtitle:
        parts.append(f"<p>{lang.text_html(subtitle)}</p>")
    nav = []
    if home:
        nav.append(f'<a href="{escape(home, quote=True)}">← {lang.text_html("Trang chủ / home")}</a>')
    for label, href in links or []:
        nav.append(f'<a href="{escape(href, quote=True)}">{lang.text_html(label)}</a>')
    if nav:
        parts.append('<p class="bg-nav">' + " · ".join(nav) + "</p>")
    return "".join(parts)
