"""The planner map: every planning layer of a region on one Leaflet map.

:func:`planner_map` turns the layers of :func:`layers.build.build_layers`
(or of ``OUT/layers.gpkg``, read by :func:`read_layers`) into a
``folium.Map``; :func:`write_planner_map` writes it as one self-contained
HTML file, ``OUT/map.html`` (scripts inlined, works offline; map tiles are
the only network requests, and the map works without them).

Groups in the layer control (labels Vietnamese / English)
----------------------------------------------------------
* base map: OpenStreetMap tiles, or none;
* boundaries: province outline, neighbouring provinces, district names;
* districts coloured by (one at a time): population density 2019, urban
  share 2019, outline only;
* industrial parks and clusters: KCN and CCN as circles sized by area
  (area-true), filled by status class, outlined by kind;
* transport and Kép logistics: corridors by road class (planned dashed),
  railways, stations and dry ports (Kép highlighted), key destinations;
* urban, population, water: towns (programme towns highlighted), the
  population grid (image overlay, drawn below the vector layers; switching
  it on turns filled districts to outlines so it can be seen), rivers and
  water areas;
* analyses, when given (``analyses`` dict, every entry optional):

  ``isochrones``  GeoDataFrame: ``origin``, ``minutes``, ``population`` (one
                  radio group, one layer per origin up to 8 origins);
  ``access``      the access report (``plan.py access``): a park ``name``
                  column, ``minutes_to_<key>`` (``<key>`` a destination or
                  corridor key such as ``kep_station``, ``ql1a``; suffix
                  ``_road_rail``), ``reason_<key>`` (why a time is unknown),
                  ``people_within_<m>_min``: joined into the park popups and,
                  with ``access_layers``, one park layer per target coloured
                  by minutes (radio group);
  ``suitability`` GeoDataFrame grid with a ``score`` column (any scale);
  ``candidates``  GeoDataFrame of candidate sites (``rank``, ``score``, ``name``
                  … all optional);
  ``scenario``    GeoDataFrame with column pairs ``X_before``/``X_after``
                  (``plan.py scenario``: per park), coloured by the change
                  of one pair, every pair in the popup;
  ``planned_roads``, ``interchanges``  the scenario's lines (dashed) and
                  entry points.

Declared layers (:mod:`maps.registry`: one entry per layer with its style,
legend, popup fields, publish allow-list, licence and pages) are drawn from
the same ``layers`` / ``analyses`` dicts: today the towns, water,
neighbouring provinces and key destinations; the sites' legal verdict
(``site_verdicts``: ``eligible`` true/false/unknown, ``rule_failures``,
``rules_unknown``, ``preconditions_met``, read from ``sites.gpkg``), the Monte
Carlo probability of being suitable (``sensitivity``) and the sites' rank
ranges (``sensitivity_sites``, both from ``sensitivity.gpkg``). Adding a layer
is one :func:`maps.registry.register` call. Access popups give each time with
the range of the assumed speeds, "34 (28–41) phút / min"
(``minutes_low_to_<key>`` / ``minutes_high_to_<key>``), and the ``network``.

Every styled layer has a legend (:class:`maps.legend.Legend`) shown while the
layer is on; the map has a scale bar, a full-screen button, tooltips on
hover, popups with formatted values and the attribution for OSM (ODbL),
GADM and WorldPop. Geometry is cut to the province window (province
envelope + ``clip_km``), simplified (``simplify_m``, metric CRS) and rounded
to 5 decimals; points are drawn on a canvas (``prefer_canvas``).
"""

from __future__ import annotations

import json
import logging
from html import escape
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element

from geo.io.output import atomic_path
from layers.siting.grid_file import GRID_FILE, read_grid
from maps import parks_notice, popups, registry, style, vendor
from maps.analysis_layers import G_ACCESS, G_ANALYSIS, G_ISOCHRONES, AnalysisLayers, join_access, target_names
from maps.elements import (
    DataLayer,
    GroupedLayers,
    ImageLayer,
    MapSetup,
    Ready,
    SharedTexts,
    SwitchWhenAdded,
    feature_collection,
    has_features,
    stable_ids,
)
from maps.geometry import DEFAULT_CLIP_KM, bounds_of, prepare, to_storage, window_of
from maps.images import POP_BREAKS, classed_png, mercator_rows, population_png  # noqa: F401  (re-exported)
from maps.legend import Legend, Swatch, class_swatches
from maps.popups import Field
from maps.registry import G_BOUNDARIES, G_DISTRICTS, G_TRANSPORT, G_URBAN

log = logging.getLogger(__name__)

#: Default simplification tolerance per layer (m, metric CRS); 0 = none.
DEFAULT_SIMPLIFY_M = {"province": 20, "districts": 20, "district_population": 20, "neighbours": 100,
                      "water": 10, "corridors": 5, "railways": 5, "urban_areas": 10,
                      "isochrones": 20, "suitability": 0, "scenario": 5, "candidates": 5}

BASE_OSM = "OpenStreetMap"
BASE_NONE = "Không nền / no base map"
G_PARKS = "Khu, cụm công nghiệp / Industrial parks"
# G_BOUNDARIES, G_TRANSPORT (the region's map.transport_group replaces it), G_URBAN: maps/registry.py

GROUP_ORDER = (G_BOUNDARIES, G_DISTRICTS, G_PARKS, G_TRANSPORT, G_URBAN, G_ACCESS, G_ISOCHRONES, G_ANALYSIS)

#: Stacking on the shared canvas (higher on top): areas, then lines, then points.
Z_ORDER = {"neighbours": 0, "districts": 1, "suitability": 2, "isochrones": 3, "water": 4, "province": 5,
           "corridors": 6, "planned": 6.2, "scenario": 6.5, "railways": 7, "parks": 8, "access": 8.5, "urban": 9,
           "stations": 10, "interchanges": 10.5, "destinations": 11, "candidates": 12, "district": 20}



def planner_map(layers: dict, population=None, analyses: dict | None = None, *, summary: dict | None = None,
                title: str | None = None, subtitle: str | None = None, assets: str = "inline",
                clip_km: float | None = DEFAULT_CLIP_KM, simplify_m: dict | None = None,
                home: str | None = None, extra_links: list[tuple[str, str]] | None = None,
                collapsed: bool = True, district_view: str = "density", access_layers: bool = True,
                hide=(), explorer_open: bool = False, map_config: dict | None = None) -> folium.Map:
    """A Leaflet map of the planning ``layers`` (name → GeoDataFrame, as in ``LayerSet.layers``).

    population : ``(array, profile)`` of the population grid (``LayerSet.population``),
        a GeoTIFF path (``OUT/population.tif``), or None.
    analyses : optional analysis inputs (see the module docstring); absent ones are skipped.
    summary : the build summary (``LayerSet.summary`` / layers_summary.json), for
        notes such as corridors not found.
    assets : "inline" (one self-contained file) or "site" (links to ``assets/``).
    clip_km : margin around the province envelope; None = no clipping.
    simplify_m : per-layer tolerance (m) overriding :data:`DEFAULT_SIMPLIFY_M`.
    home : link target of the title box (e.g. "index.html" on the site).
    extra_links : further (label, href) links in the title box.
    collapsed : layer control folded into its button (opens on hover/tap).
    district_view : district layer shown first: "density", "urban" or "outline".
    access_layers : with an ``access`` table, also one park layer per target coloured by minutes
        (else the minutes are only in the park popups).
    hide : keys of layers listed in the layer control but off at the start (e.g. the park layers
        on a page whose analysis draws the parks itself).
    explorer_open : unfold the suitability explorer's weight panel at the start (when the
        suitability grid carries criterion scores and rules, see :mod:`maps.explorer`).
    map_config : the region's ``map:`` section (:func:`region_map_config`; read from the region
        named in ``summary`` when not given): ``transport_group``, ``rail_legend_title``,
        ``highlight_station`` (``names``, ``label``).

    The map exposes ``window.bgMap`` and ``bgplan.layers[key]`` for tests;
    ``m.bgplan_layers`` maps the same keys to the Python elements.
    """
    analyses = {k: v for k, v in (analyses or {}).items() if v is not None and len(v)}
    layers = {k: to_storage(v) for k, v in layers.items() if v is not None}
    tolerances = {**DEFAULT_SIMPLIFY_M, **(simplify_m or {})}
    window = window_of(layers, clip_km)
    prepared = {k: prepare(k, v, window, tolerances.get(k, 0)) for k, v in layers.items()}
    prepared_analyses = {k: (prepare(k, v, window, tolerances.get(k, 0)) if isinstance(v, gpd.GeoDataFrame) else v)
                         for k, v in analyses.items()}

    bounds = bounds_of(layers)
    m = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=9, tiles=None,
                   prefer_canvas=True, control_scale=True, zoom_snap=0.5)
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root.title = escape(title or _default_title(layers))
    root.header.add_child(Element('<link rel="icon" href="data:,">\n' + vendor.head_html(assets)), name="bgplan_assets")
    # first: the initial view (no animation, so no tiles of the provisional zoom are fetched), attribution, title
    MapSetup(style.ATTRIBUTION, _title_box(title or _default_title(layers), subtitle, home, extra_links),
             bounds=[[bounds[1], bounds[0]], [bounds[3], bounds[2]]]).add_to(m)
    # The data attribution (style.ATTRIBUTION, always shown) already credits OpenStreetMap contributors.
    tiles = folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", name=BASE_OSM, control=False, max_zoom=19,
                             attr="Nền bản đồ / tiles: OpenStreetMap")
    tiles.add_to(m)

    shared = SharedTexts()
    shared.add_to(m)
    if map_config is None:  # the region's map: section, carried by the build summary (or read by region id)
        map_config = (summary or {}).get("map") if "map" in (summary or {}) else region_map_config((summary or {}).get("region"))
    build = _Builder(m, summary or {}, district_view, target_names(layers, summary), shared, hide=hide,
                     open_parks_legend=False, explorer_open=explorer_open, map_config=map_config)
    # Drawing order on the one canvas = order added: areas first, then lines and points on top.
    build.boundaries(prepared)
    for entry in registry.entries("layers", stage="areas"):   # the declared areas: district choropleths …
        registry.draw(build, entry, entry.frame_of(prepared))
    build.analysis_areas(prepared_analyses)
    for entry in registry.entries("analyses", stage="areas"):   # declared analysis areas: isochrones …
        registry.draw(build, entry, entry.frame_of(prepared_analyses))
    build.parks(prepared, prepared_analyses.get("access"), access_layers=access_layers)
    for entry in registry.entries("layers", stage="top"):   # the declared context layers (maps/registry.py): towns …
        registry.draw(build, entry, entry.frame_of(prepared))
    build.population(population)
    build.analysis_points(prepared_analyses)
    for entry in registry.entries("analyses", stage="top"):  # the declared analyses: site verdicts, sensitivity …
        registry.draw(build, entry, entry.frame_of(prepared_analyses))

    order = list(GROUP_ORDER) + [g for g in build.groups if g not in GROUP_ORDER]
    groups = {(build.transport_group if g == G_TRANSPORT else g): build.groups[g] for g in order if g in build.groups}
    GroupedLayers([(BASE_OSM, tiles), (BASE_NONE, None)], groups,
                  exclusive=[G_DISTRICTS, G_ISOCHRONES, G_ACCESS], collapsed=collapsed).add_to(m)
    for legend in build.legends:
        legend.add_to(m)
    reg = build.registry
    if "population" in reg and "districts_outline" in reg:
        # the grid lies below the vector canvas: filled districts would hide it
        SwitchWhenAdded(reg["population"], [reg[k] for k in ("districts_density", "districts_urban") if k in reg],
                        reg["districts_outline"]).add_to(m)
    banner = parks_notice.banner_html(summary)
    if banner:   # sourced parks without a position: count, names, reasons and --parks FILE
        root.html.add_child(folium.Element(banner))
    Ready().add_to(m)
    stable_ids(root)
    m.bgplan_layers = build.registry
    return m


def write_planner_map(out_dir, layers: dict | None = None, population=None, analyses: dict | None = None,
                      summary: dict | None = None, path=None, **options) -> Path:
    """Write ``OUT/map.html`` (one self-contained file); layers read from ``OUT/layers.gpkg`` when not given.

    ``population`` defaults to ``OUT/population.tif`` and ``analyses`` to
    what :func:`read_analyses` finds (``OUT/access.gpkg``, ``OUT/scenario.gpkg``,
    ``OUT/analyses.gpkg``) if layers are read from disk. Returns the path
    written (atomically).
    """
    out_dir = Path(out_dir)
    if layers is None:
        layers, file_population, file_summary = read_layers(out_dir)
        population = population if population is not None else file_population
        summary = summary if summary is not None else file_summary
        analyses = analyses if analyses is not None else read_analyses(out_dir)
    m = planner_map(layers, population=population, analyses=analyses, summary=summary, assets="inline", **options)
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


# --------------------------------------------------------------------------- geometry preparation

# --------------------------------------------------------------------------- the builder

class _Builder(AnalysisLayers):
    """Adds layers, legends and control groups to a map, one planning theme at a time."""

    def __init__(self, m: folium.Map, summary: dict, district_view: str = "density", names: dict | None = None,
                 shared: SharedTexts | None = None, hide=(), open_parks_legend: bool = True, explorer_open: bool = False,
                 map_config: dict | None = None):
        self.m = m
        self.hide = set(hide)
        self.open_parks_legend = open_parks_legend
        self.shared = shared
        self.names = names or {}
        self.district_view = district_view
        self.summary = summary
        self.groups: dict[str, list] = {}
        self.legends: list[Legend] = []
        self.registry: dict[str, DataLayer] = {}
        self.explorer = None
        self.explorer_open = explorer_open
        self.map_config = map_config or {}
        self.transport_group = self.map_config.get("transport_group") or G_TRANSPORT
        self.provenance = provenance(summary)
        self.legend_of = {}          # legend box of each drawn registry entry (maps/registry.py, legend_with)

    def add(self, group: str, layer, key: str):
        layer.add_to(self.m)
        self.groups.setdefault(group, []).append(layer)
        self.registry[key] = layer
        return layer

    def layer(self, group, key, name, gdf, keys, styles, tooltips=None, popups_=None, radii=None,
              show=True, labels=False, highlight=True, z=None):
        data = feature_collection(gdf.geometry.values, list(keys),
                                  None if tooltips is None else list(tooltips),
                                  None if popups_ is None else list(popups_),
                                  None if radii is None else list(radii))
        label = f"{name} ({len(data['features'])})" if not labels else name
        if z is None:
            z = Z_ORDER.get(key, Z_ORDER.get(key.split("_")[0], 5))
        show = show and key not in self.hide
        return self.add(group, DataLayer(data, styles, label, key, show=show, labels=labels, highlight=highlight, z=z), key)

    # ----------------------------------------------------------------- boundaries

    def boundaries(self, L: dict):
        prov = L.get("province")
        if has_features(prov):
            name_col = "name_vi" if "name_vi" in prov else None
            tips = [popups.tooltip_html(r.get(name_col) if name_col else "Tỉnh / province") for _, r in prov.iterrows()]
            pops = popups.feature_popups(prov, lambda r: r.get("name_vi", "Tỉnh / province"), [
                Field("area_km2", "Diện tích / area", lambda v: style.fmt_number(v, 0, "km²")),
                Field("merged_from", "Gồm / merged from"), Field("source", "Nguồn / source")])
            st = {"p": {"color": "#222", "weight": 3, "fill": False, "opacity": 0.9}}
            lay = self.layer(G_BOUNDARIES, "province", "Tỉnh / province", prov, ["p"] * len(prov), st, tips, pops)
            self.legends.append(Legend("Ranh giới / boundaries", [Swatch("Tỉnh / province", "line", st["p"]),
                                                                   Swatch("Huyện / district", "line", {"color": "#555", "weight": 1})],
                                       [lay], open=False))
        d = _districts(L)
        if has_features(d) and "district" in d:
            pts = d.copy()
            pts = pts.set_geometry(d.geometry.representative_point())
            tips = [escape(style.fmt_text(v)) for v in d["district"]]
            st = {"l": {"radius": 0, "opacity": 0, "fillOpacity": 0, "interactive": False}}
            self.layer(G_BOUNDARIES, "district_names", "Tên huyện / district names", pts, ["l"] * len(pts), st, tips,
                       labels=True, highlight=False)

    # ----------------------------------------------------------------- districts

    # districts coloured by density, by urban share, or outlines: maps/registry.py

    # ----------------------------------------------------------------- parks

    def parks(self, L: dict, access, access_layers: bool = False):
        parks = L.get("industrial_parks")
        if not has_features(parks):
            return
        parks = parks.copy()
        extra_fields, targets = [], []
        if access is not None and len(access):
            parks, extra_fields, targets = join_access(parks, access, self.names)
        if "area_ha" in parks:
            parks = parks.sort_values("area_ha", ascending=False, na_position="last")
        kinds = parks["kind"].astype(str) if "kind" in parks else pd.Series("KCN", index=parks.index)
        if "status_class" in parks:      # the sourced legal status (layers/parks.py)
            statuses = [s if s in style.PARK_STATUS else "unknown" for s in parks["status_class"].astype(str)]
        else:
            statuses = [style.park_status_class(v) for v in parks["status"]] if "status" in parks else ["unknown"] * len(parks)
        statuses = pd.Series(statuses, index=parks.index)
        areas = parks["area_ha"] if "area_ha" in parks else pd.Series(np.nan, index=parks.index)
        styles = {}
        for k, kv in style.PARK_KINDS.items():
            for s, sv in style.PARK_STATUS.items():
                styles[f"{k}|{s}"] = {"color": kv["color"], "weight": kv["weight"], "fillColor": sv["color"],
                                      "fillOpacity": 0.9, "opacity": 1}
        styles["*"] = {"color": "#111", "weight": 1, "fillColor": style.PARK_STATUS["unknown"]["color"], "fillOpacity": 0.9}
        fields = list(popups.PARK_FIELDS) + extra_fields
        all_pops = pd.Series(popups.feature_popups(parks, "name", fields), index=parks.index)
        if self.shared is not None and access_layers and targets:
            # the park popups are shown by the park layers and by every access layer: store them once
            all_pops = all_pops.map(self.shared.index)
        made = []
        rings = self._position_rings(parks)
        if rings is not None:
            made.append(rings)
        for kind in ("KCN", "CCN"):
            sel = kinds == kind
            if not sel.any():
                continue
            sub = parks[sel]
            keys = [f"{kind}|{s}" for s in statuses[sel]]
            tips = [popups.tooltip_html(r.get("name"), " · ".join([kind, style.fmt_ha(a), style.PARK_STATUS[s]["label"],
                                                                 _precision_label(r)] + _same_point(parks, i)))
                    for (i, r), a, s in zip(sub.iterrows(), areas[sel], statuses[sel])]
            pops = list(all_pops[sel])
            radii = [style.park_radius(a) for a in areas[sel]]
            label = style.PARK_KINDS[kind]["label"]
            made.append(self.layer(G_PARKS, f"parks_{kind.lower()}", label, sub, keys, styles, tips, pops, radii))
        other = ~kinds.isin(["KCN", "CCN"])
        if other.any():
            sub = parks[other]
            tips = [popups.tooltip_html(r.get("name")) for _, r in sub.iterrows()]
            pops = list(all_pops[other])
            made.append(self.layer(G_PARKS, "parks_other", "Khác / other", sub, ["*"] * len(sub), styles, tips, pops,
                                   [style.park_radius(a) for a in areas[other]]))
        present = set(statuses)
        sw = [Swatch(v["label"], "circle", {"fillColor": v["color"], "color": "#666", "weight": 1, "radius": 6, "fillOpacity": 0.9})
              for k, v in style.PARK_STATUS.items() if k in present]
        sw += [Swatch(v["label"], "circle", {"fillColor": "#dddddd", "color": v["color"] if k == "KCN" else "#777",
                                             "weight": v["weight"], "radius": 6}) for k, v in style.PARK_KINDS.items()]
        sw += [Swatch(style.fmt_ha(a), "circle", {"fillColor": "#ffffff", "color": "#333", "weight": 1,
                                                   "radius": style.park_radius(a), "fillOpacity": 0.6}) for a in (25, 100, 400)]
        unknown_area = int(areas.isna().sum())
        note = ("Kích thước theo diện tích / size by area; điểm đánh dấu, không phải ranh giới / markers, not "
                "boundaries; vòng nét đứt = sai số vị trí (cấp xã) / dashed ring = expected error of an approximate "
                "(commune-level) position")
        missing = parks_notice.without_position(self.summary)
        if missing:
            note += (f"; {len(missing)} khu chưa có vị trí / sourced parks without a position: "
                     + ", ".join(str(m.get("name")) for m in missing))
        if unknown_area:
            note += f"; {unknown_area} không rõ diện tích / with unknown area"
        self.legends.append(Legend("Khu, cụm công nghiệp / industrial parks", sw, made, note=note, open=self.open_parks_legend))
        if access_layers and targets:
            self._access_layers(parks, all_pops, targets, areas)

    def _position_rings(self, parks):
        """A ring of radius ``position_error_m`` around every approximate park position (none for exact ones)."""
        if "position_error_m" not in parks:
            return None
        err = pd.to_numeric(parks["position_error_m"], errors="coerce")
        sel = err.gt(0) & parks.get("position_precision", pd.Series("", index=parks.index)).ne("user_file")
        if not sel.any():
            return None
        from geo.crs import to_metric

        metric = to_metric(parks.loc[sel, ["geometry"]], "EPSG:32648")
        rings = gpd.GeoDataFrame({"name": parks.loc[sel, "name"].values}, crs=metric.crs,
                                 geometry=metric.buffer(err[sel].to_numpy(), resolution=16).values).to_crs("EPSG:4326")
        st = {"r": {"color": "#555", "weight": 1, "dashArray": "4 4", "fill": False, "opacity": 0.8}}
        tips = [popups.tooltip_html(r.get("name"), _precision_label(r)) for _, r in parks[sel].iterrows()]
        return self.layer(G_PARKS, "parks_rings", "Sai số vị trí / position uncertainty", rings, ["r"] * len(rings), st, tips,
                          highlight=False, z=Z_ORDER.get("parks", 8) - 0.1)

    # ----------------------------------------------------------------- transport

    # road corridors, railways and stations: maps/registry.py

    # ----------------------------------------------------------------- urban, population, water

    def population(self, population):
        if population is None:
            return
        if isinstance(population, (str, Path)):
            from geo.io.raster import read_raster

            population = read_raster(population)
        array, profile = population
        uri, bounds = population_png(array, profile)
        lay = self.add(G_URBAN, ImageLayer(uri, bounds, "Dân số, lưới 1 km / population, 1 km grid", "population",
                                           opacity=0.75, show=False), "population")
        pal = style.PALETTES["ylorrd"]
        self.legends.append(Legend("Dân số / population (người/ô 1 km, per 1 km cell)",
                                   class_swatches(POP_BREAKS, pal, lambda v: style.fmt_number(v)), [lay],
                                   note="WorldPop 2020 (CC BY 4.0), hiệu chỉnh theo điều tra 2019 / rescaled to the 2019 census"))

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


def _same_point(parks, index) -> list[str]:
    """["cùng điểm / same point: A, B"] when other parks share this park's position (commune-level points), else []."""
    geom = parks.geometry
    here = geom.loc[index]
    if here is None or here.is_empty or here.geom_type != "Point":
        return []
    others = [str(n) for i, n, g in zip(parks.index, parks["name"], geom)
              if i != index and g is not None and g.geom_type == "Point" and g.distance(here) < 1e-6]
    return [f"cùng điểm / same point: {', '.join(others)}"] if others else []


def _precision_label(row) -> str:
    """"vị trí cấp xã ±2.5 km / commune-level position ±2.5 km" (or the class) for a park's tooltip."""
    precision = row.get("position_precision") if hasattr(row, "get") else None
    if not isinstance(precision, str) or not precision:
        return ""
    err = pd.to_numeric(row.get("position_error_m"), errors="coerce")
    size = f" ±{err / 1000:.1f} km" if pd.notna(err) and err > 0 else ""
    from layers.park_positions import COMMUNE_LEVEL

    if precision in COMMUNE_LEVEL:
        return f"vị trí cấp xã / commune-level position{size} ({precision})"
    return f"vị trí / position: {precision}{size}"


def provenance(summary: dict | None) -> dict:
    """Labels of the data actually used, from the build summary: ``osm`` ("OSM 2018" from the dates in the
    water/railway sources; "OSM" when no date is given) and ``census_year`` ("2019"; "" when not given)."""
    import re

    layers = (summary or {}).get("layers", {})
    text = " ".join(str(layers.get(k, {}).get("source") or "") for k in ("water", "railways"))
    years = re.findall(r"OpenStreetMap (\d{4})-\d{2}-\d{2}|OSM (\d{4})", text)
    year = next((a or b for a, b in years), None)
    census = str(layers.get("urban_areas", {}).get("census_date") or layers.get("district_population", {}).get("census_date") or "")
    return {"osm": f"OSM {year}" if year else "OSM", "census_year": census[:4]}


def _districts(L: dict):
    d = L.get("district_population")
    if has_features(d):
        return d
    return L.get("districts")


def _default_title(layers: dict) -> str:
    prov = layers.get("province")
    name = None
    if has_features(prov) and "name_vi" in prov:
        name = style.fmt_text(prov["name_vi"].iloc[0])
    return f"{name or 'Bắc Giang'} — bản đồ quy hoạch / planning map"


def _title_box(title: str, subtitle: str | None, home: str | None, links) -> str:
    parts = [f"<h1>{escape(title)}</h1>"]
    if subtitle:
        parts.append(f"<p>{escape(subtitle)}</p>")
    nav = []
    if home:
        nav.append(f'<a href="{escape(home, quote=True)}">← Trang chủ / home</a>')
    for label, href in links or []:
        nav.append(f'<a href="{escape(href, quote=True)}">{escape(label)}</a>')
    if nav:
        parts.append("<p>" + " · ".join(nav) + "</p>")
    return "".join(parts)
