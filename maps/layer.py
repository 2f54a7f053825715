"""One map layer, declared once (:class:`MapLayer`), and the one mechanism that draws every layer (:func:`draw`).

A :class:`MapLayer` says everything the maps need to know about one layer:
where its data comes from (a layer of ``OUT/layers.gpkg``, an analysis, a
layer of another output file such as ``sites.gpkg``, or the population
raster), how each feature is classed and styled, its legend, tooltip and
popup fields, the name it is found by in the search box, the columns the
published site may carry (the publish allow-list), the licence key it
inherits, and the published pages that show it. The entries themselves live
in :mod:`maps.context_layers`, :mod:`maps.park_layers`,
:mod:`maps.analysis_layers` and :mod:`maps.scenario_layers`;
:mod:`maps.registry` lists them in drawing order.

:func:`draw` draws one entry on a :class:`maps.builder.MapBuilder` — the
planner map, every published page and both maps of the scenario page go
through it. A layer whose drawing is more than "one feature, one symbol" (an
image of a grid, one layer per origin or per destination) names a
``painter``; the entry still gives its source, allow-list, licence and pages.

Every text of a feature (tooltip, popup) is built in Vietnamese and in
English (:mod:`maps.lang`); the page shows the language the reader chose.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from html import escape
from typing import Callable

from maps import lang, popups, style

#: Groups of the layer control (labels Vietnamese / English); the region's ``map.transport_group`` replaces G_TRANSPORT.
G_BOUNDARIES = "Ranh giới / Boundaries"
G_DISTRICTS = "Huyện, tô màu theo / Districts coloured by"
G_PARKS = "Khu, cụm công nghiệp / Industrial parks"
G_TRANSPORT = "Giao thông, logistics / Transport, logistics"
G_URBAN = "Đô thị, dân số / Towns, population"
G_ACCESS = "Thời gian đến / Travel time to"
G_ISOCHRONES = "Vùng đẳng thời / Isochrones"
G_ANALYSIS = "Phân tích / Analysis"
#: The light base map drawn from the project's own layers (a base layer of the control, not an overlay).
G_BASEMAP = "basemap"
#: Groups in the layer control, in order; radio groups (one layer at a time).
GROUP_ORDER = (G_BOUNDARIES, G_DISTRICTS, G_PARKS, G_TRANSPORT, G_URBAN, G_ACCESS, G_ISOCHRONES, G_ANALYSIS)
EXCLUSIVE = (G_DISTRICTS, G_ACCESS, G_ISOCHRONES)

SOURCES = ("analyses", "layers", "raster")


@dataclass(frozen=True)
class MapLayer:
    """One map layer, declared once (validated on creation).

    key : the layer's name everywhere: in the planner's ``analyses`` (or ``layers``) dict, in
        ``bgplan.layers[key]`` on the page, in the publish allow-list and in licences.json.
    title : bilingual name in the layer control (the feature count is appended).
    styles : style key → Leaflet path options (``radius`` for points); keys used only by the legend are fine.
    classify : feature row → style key (a key of ``styles``); default: the first style.
    legend : (style key, bilingual label) rows, in order; only rows whose key is present are shown.
    legend_title, legend_note : the legend's title and its note (sources, caveats); the note may name the
        provenance of the data actually used (``{osm}``: "OSM 2018", ``{census_year}``), or be a function
        ``(frame, context) → note``.
    popup_title : column, or row → text, heading each popup.
    fields : the popup rows (:class:`maps.popups.Field`); absent columns are left out. Or ``(frame, context) →
        fields`` when the rows depend on the data (the park popups with the access columns joined).
    tooltip : row → one-line detail under the title in the hover tooltip (None: title only).
    search : column, or row → name, under which the search box finds a feature (None: not searched).
    publish : columns the published site may carry (names or shell patterns).
    licence : key of ``layers_summary.json`` → ``licences`` this layer inherits (None: a derived product).
    source : "analyses" (default), "layers" or "raster": which input of :func:`maps.planner.planner_map` holds it.
    read : (file in OUT, layer in the file) it is read from by :func:`maps.planner.read_analyses`.
    pages : published pages (files) that draw it.
    needs : columns without which the layer is not drawn.
    z : stacking order on the canvas (higher on top).
    swatch : symbol of the legend rows ("circle", "line" or "fill").
    show : on when the page opens (unless the page lists the layers it opens with).
    prepare : ``(frame, context) → frame`` before anything else (joins, e.g. the access report into the parks).
    where : row → bool: only these features (several entries drawing one frame, e.g. KCN and CCN).
    radius : row → circle radius (px), e.g. area-true park circles (default: the style's ``radius``).
    painter : ``(build, frame, context) → layer(s)`` drawing the layer itself (an image of a grid, one layer per
        origin) instead of the generic vector drawing.
    as_points : draw areas as circles (or labels) at a point inside each.
    labels : the title is a permanent map label (decluttered); the popup still opens on click.
    basemap : part of the light base map (drawn under everything, switched with the base map, no popups).
    highlight : outline a feature under the mouse.
    popups : give each feature a popup (title and ``fields``).
    configure : ``(entry, context) → entry``: the entry adapted to the region's ``map:`` settings and the build
        summary (a :class:`MapContext`), applied by :func:`draw`; region facts stay in the region YAML.
    legend_class : feature row → the key (or keys) of its legend rows (default: its style key).
    data : keys of the planner's dict the layer is drawn from, the first with features winning (default: ``key``).
    tooltip_title : column, or row → text, heading the hover tooltip (default: ``popup_title``).
    legend_styles : style key → the legend swatch's style, where it differs from the features' style.
    stage : "areas" (drawn first, with the areas) or "top" (default: drawn after).
    legend_always : legend rows shown even when no feature has them.
    legend_with : key (or keys, the first drawn wins) of the entry whose legend section this layer's rows join
        (one section for railways and stations); when none is drawn, this layer opens the section itself.
    shared_popups : store each popup once per page (:class:`maps.elements.SharedTexts`), for popups that other
        layers show too (the park popups on the access layers).
    """

    key: str
    title: str | tuple
    styles: dict
    legend: tuple = ()
    legend_title: str | tuple = ""
    legend_note: str | Callable | None = None
    classify: Callable | None = None
    popup_title: Callable | str = "name"
    fields: tuple | Callable = ()
    tooltip: Callable | None = None
    search: Callable | str | None = None
    publish: tuple = ()
    licence: str | None = None
    source: str = "analyses"
    read: tuple | None = None
    pages: tuple = ()
    needs: tuple = ()
    group: str = G_ANALYSIS
    z: float = 12.5
    swatch: str = "fill"
    show: bool = True
    prepare: Callable | None = None
    where: Callable | None = None
    radius: Callable | None = None
    painter: Callable | None = None
    as_points: bool = False
    labels: bool = False
    basemap: bool = False
    highlight: bool = True
    popups: bool = True
    configure: Callable | None = None
    legend_with: str | tuple | None = None
    legend_class: Callable | None = None
    legend_always: tuple = ()
    stage: str = "top"
    data: tuple = ()
    tooltip_title: Callable | str | None = None
    legend_styles: dict | None = None
    shared_popups: bool = False

    def __post_init__(self):
        if not self.key or not self.key.replace("_", "").isalnum():
            raise ValueError(f"map layer key must be a plain identifier, not {self.key!r}")
        if not self.styles:
            raise ValueError(f"map layer {self.key!r} needs at least one style")
        if self.source not in SOURCES:
            raise ValueError(f"map layer {self.key!r}: source must be one of {SOURCES}, not {self.source!r}")
        unknown = [k for k, _ in self.legend if k not in self.styles]
        if unknown:
            raise ValueError(f"map layer {self.key!r}: legend row for unknown style {unknown[0]!r}")
        if self.read is not None and len(self.read) != 2:
            raise ValueError(f"map layer {self.key!r}: read must be (file, layer)")
        if self.as_points and self.swatch != "circle":
            raise ValueError(f"map layer {self.key!r}: as_points needs swatch 'circle'")
        unknown = [k for k in self.legend_always if k not in self.styles]
        if unknown:
            raise ValueError(f"map layer {self.key!r}: legend_always names unknown style {unknown[0]!r}")
        if self.stage not in ("areas", "top"):
            raise ValueError(f"map layer {self.key!r}: stage must be 'areas' or 'top', not {self.stage!r}")
        if self.swatch not in ("circle", "line", "fill"):
            raise ValueError(f"map layer {self.key!r}: swatch must be circle, line or fill")
        if self.source == "raster" and self.painter is None:
            raise ValueError(f"map layer {self.key!r}: a raster needs a painter")

    def style_key(self, row) -> str:
        """The style key of one feature (first style when no ``classify`` or an unknown key)."""
        first = next(iter(self.styles))
        if self.classify is None:
            return first
        key = self.classify(row)
        return key if key in self.styles else first

    def title_of(self, row) -> str:
        """The popup/tooltip heading of one feature."""
        value = self.popup_title(row) if callable(self.popup_title) else row.get(self.popup_title)
        return style.fmt_text(value)

    def tooltip_title_of(self, row) -> str:
        """The hover tooltip's heading of one feature."""
        if self.tooltip_title is None:
            return self.title_of(row)
        value = self.tooltip_title(row) if callable(self.tooltip_title) else row.get(self.tooltip_title)
        return style.fmt_text(value)

    def search_of(self, row) -> str | None:
        """The name the search box finds a feature by (None: not searched)."""
        if self.search is None:
            return None
        value = self.search(row) if callable(self.search) else row.get(self.search)
        return None if style.is_missing(value) else style.fmt_text(value)

    def frame_of(self, frames: dict):
        """The frame this layer is drawn from: the first of ``data`` (default ``key``) with features, else None
        (a raster: whatever the dict holds)."""
        from maps.elements import has_features

        for name in self.data or (self.key,):
            if self.source == "raster" and frames.get(name) is not None:
                return frames[name]
            if has_features(frames.get(name)):
                return frames[name]
        return None

    def usable(self, frame) -> bool:
        """True when ``frame`` has features and every column of ``needs``."""
        from maps.elements import has_features

        if self.source == "raster":
            return frame is not None
        return has_features(frame) and all(c in frame.columns for c in self.needs)

    def fields_for(self, frame, context) -> tuple:
        """The popup rows for ``frame``."""
        return tuple(self.fields(frame, context)) if callable(self.fields) else tuple(self.fields)


@dataclass(frozen=True)
class MapContext:
    """What an entry may adapt to, and what every entry of one map shares.

    map_config : the region's ``map:`` section (``transport_group``, ``rail_legend_title``, ``highlight_station`` …).
    summary : the build summary (layers_summary.json), e.g. ``layers.corridors.not_found``.
    district_view : the district layer shown first ("density", "urban" or "outline").
    layers, analyses : every frame of the map (an entry may join another, e.g. the access report into the parks).
    names : access target key → (Vietnamese, English) name (:func:`maps.labels.target_names`).
    on : shell patterns of the layer keys on when the page opens (None: each entry's ``show``); off : keys off.
    options : the page's options for painters (``access_layers``, ``explorer_open`` …).
    cache : frames prepared once and shared by several entries (the parks with the access report joined).
    """

    map_config: dict
    summary: dict
    district_view: str = "outline"
    layers: dict = field(default_factory=dict)
    analyses: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    on: tuple | None = None
    off: tuple = ()
    options: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.map_config, dict) or not isinstance(self.summary, dict):
            raise TypeError("MapContext needs a map_config dict and a summary dict")

    def is_on(self, key: str, default: bool) -> bool:
        """Whether layer ``key`` is on when the page opens."""
        if any(fnmatch.fnmatchcase(key, p) for p in self.off):
            return False
        if self.on is None:
            return default
        return any(fnmatch.fnmatchcase(key, p) for p in self.on)

    @property
    def provenance(self) -> dict:
        """Labels of the data actually used (:func:`provenance`)."""
        return provenance(self.summary)


def provenance(summary: dict | None) -> dict:
    """Labels of the data actually used, from the build summary: ``osm`` ("OSM 2018" from the dates in the
    water/railway sources; "OSM" when no date is given) and ``census_year`` ("2019"; "" when not given).

    >>> provenance({"layers": {"water": {"source": "OpenStreetMap 2018-01-03 (Geofabrik)"}}})["osm"]
    'OSM 2018'
    """
    import re

    layers = (summary or {}).get("layers", {})
    text = " ".join(str(layers.get(k, {}).get("source") or "") for k in ("water", "railways"))
    years = re.findall(r"OpenStreetMap (\d{4})-\d{2}-\d{2}|OSM (\d{4})", text)
    year = next((a or b for a, b in years), None)
    census = str(layers.get("urban_areas", {}).get("census_date") or layers.get("district_population", {}).get("census_date") or "")
    return {"osm": f"OSM {year}" if year else "OSM", "census_year": census[:4]}


# --------------------------------------------------------------------------- drawing

def draw(build, entry: MapLayer, frame, context: MapContext | None = None):
    """Draw ``frame`` as ``entry`` on the builder ``build`` (:class:`maps.builder.MapBuilder`); the layer (or the
    painter's layers) or None when there is nothing to draw."""
    context = context or getattr(build, "context", None) or MapContext({}, {})
    if not entry.usable(frame):
        return None
    if entry.configure is not None:
        entry = entry.configure(entry, context)
    if entry.painter is not None:
        return entry.painter(build, frame, context)
    if entry.prepare is not None:
        frame = entry.prepare(frame, context)
    if entry.where is not None:
        frame = frame[[bool(entry.where(r)) for r in popups.rows_of(frame)]]
    if not len(frame):
        return None
    if entry.as_points:
        frame = frame.set_geometry(frame.geometry.representative_point())
    rows = popups.rows_of(frame)
    keys = [entry.style_key(r) for r in rows]
    tips, pops = feature_texts(build, entry, frame, rows, context)
    radii = None
    if entry.swatch == "circle":
        radii = ([entry.radius(r) for r in rows] if entry.radius is not None
                 else [float(entry.styles[k].get("radius", 6)) for k in keys])
    names = [entry.search_of(r) for r in rows] if entry.search is not None else None
    lay = build.layer(entry.group, entry.key, entry.title, frame, keys, entry.styles, tips, pops, radii,
                      show=context.is_on(entry.key, entry.show), z=entry.z, labels=entry.labels,
                      highlight=entry.highlight and not entry.basemap, names=names, basemap=entry.basemap)
    add_legend(build, entry, frame, rows, keys, lay, context)
    return lay


def feature_texts(build, entry: MapLayer, frame, rows, context) -> tuple[list, list | None]:
    """Tooltips and popups of the features, each built in both languages (:func:`maps.lang.pairs`)."""
    if entry.labels:
        tips = lang.pairs(lambda: [escape(entry.title_of(r)) for r in rows])
    elif entry.basemap and entry.tooltip is None:
        tips = None
    else:
        tips = lang.pairs(lambda: [popups.tooltip_html(entry.tooltip_title_of(r), entry.tooltip(r) if entry.tooltip else None)
                                   for r in rows])
    pops = None
    if entry.popups and not entry.basemap:
        fields = entry.fields_for(frame, context)
        titles = lang.both(lambda: [entry.title_of(r) for r in rows])
        pops = lang.pairs(lambda: popups.feature_popups(frame.assign(_title=titles[lang.LANGS.index(lang.current())]),
                                                        "_title", fields), tag="div")
        if entry.shared_popups and getattr(build, "shared", None) is not None:
            pops = [build.shared.index(p) for p in pops]
    return tips, pops


def add_legend(build, entry: MapLayer, frame, rows, keys, lay, context) -> None:
    """The entry's legend rows (present classes, plus ``legend_always``), in its own section or the one it joins."""
    from maps.legend import Legend, Swatch

    if entry.legend_class is None:
        present = set(keys)
    else:
        present = set()
        for r in rows:
            got = entry.legend_class(r)
            present |= set(got) if isinstance(got, (tuple, list, set)) else {got}
    present |= set(entry.legend_always)
    shown = {**entry.styles, **(entry.legend_styles or {})}
    swatches = [Swatch(label, swatch_kind(entry, k), shown[k]) for k, label in entry.legend if k in present]
    if not swatches:
        return
    sections = build.legend_of                 # legend sections of the drawn entries, by key
    owners = (entry.legend_with,) if isinstance(entry.legend_with, str) else (entry.legend_with or ())
    joined = next((sections[k] for k in owners if k in sections), None)
    if joined is not None:
        have = {(repr(sw.label), sw.kind) for sw in joined.swatches}
        joined.swatches.extend(sw for sw in swatches if (repr(sw.label), sw.kind) not in have)
        joined.layers.append(lay)
    else:
        note = entry.legend_note
        if callable(note):
            note = note(frame, context)
        elif note:
            note = note.format(**context.provenance)
        joined = Legend(entry.legend_title or entry.title, swatches, [lay], note=note)
        build.legends.append(joined)
    sections[entry.key] = joined


def swatch_kind(entry: MapLayer, key: str) -> str:
    """The legend symbol of one style: the entry's; "fill" for an area style among lines (water areas) or among
    circles (a style without ``radius``: built-up areas among town points)."""
    st = entry.styles[key]
    if (entry.swatch == "line" and "fillColor" in st) or (entry.swatch == "circle" and "radius" not in st):
        return "fill"
    return entry.swatch
