"""One place per map layer: a declarative entry read by the planner map and by the published site.

A :class:`MapLayer` says everything the maps need to know about one layer:
where its data comes from (a layer of ``OUT/layers.gpkg``, an analysis, or a
layer of another output file such as ``sites.gpkg``), how each feature is
classed and styled, its legend, tooltip and popup fields, the columns the
published site may carry (the publish allow-list), the licence key it
inherits, and the published pages that show it. Adding a layer is one
:func:`register` call (or one entry in :data:`LAYERS`):

* :func:`maps.planner.planner_map` draws every registered layer whose data it
  is given (:func:`draw`), with its legend and popups;
* :func:`maps.planner.read_analyses` reads it from ``read`` (file, layer);
* :func:`maps.publish.publish_site` cuts it to ``publish`` columns, takes its
  licence from ``licence`` and puts it on the pages named in ``pages``.

>>> entry = get("site_verdicts")
>>> entry.group, "eligible" in entry.publish
('Phân tích / Analysis', True)
>>> verdict_class("true"), verdict_class(False), verdict_class(None), verdict_class("unknown")
('eligible', 'fails', 'unknown', 'unknown')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html import escape
from typing import Callable

from geo.text import fold
from maps import popups, style
from maps.popups import Field

#: Groups of the layer control (labels Vietnamese / English); the region's ``map.transport_group`` replaces G_TRANSPORT.
G_BOUNDARIES = "Ranh giới / Boundaries"
G_TRANSPORT = "Giao thông, logistics / Transport, logistics"
G_URBAN = "Đô thị, dân số, nước / Urban, population, water"
G_ANALYSIS = "Phân tích / Analysis"


@dataclass(frozen=True)
class MapLayer:
    """One map layer, declared once (validated on creation).

    key : the layer's name everywhere: in the planner's ``analyses`` (or ``layers``) dict, in
        ``bgplan.layers[key]`` on the page, in the publish allow-list and in licences.json.
    title : bilingual name in the layer control (the feature count is appended).
    styles : style key → Leaflet path options (``radius`` for points).
    classify : feature row → style key (a key of ``styles``); default: the first style.
    legend : (style key, bilingual label) rows, in order; only rows whose key is present are shown.
    legend_title, legend_note : the legend's title and its note (sources, caveats).
    popup_title : column, or row → text, heading each popup.
    fields : the popup rows (:class:`maps.popups.Field`); absent columns are left out.
    tooltip : row → one-line detail under the title in the hover tooltip (None: title only).
    publish : columns the published site may carry (names or shell patterns).
    licence : key of ``layers_summary.json`` → ``licences`` this layer inherits (None: a derived product).
    source : "analyses" (default) or "layers": which dict of :func:`maps.planner.planner_map` holds it.
    read : (file in OUT, layer in the file) it is read from by :func:`maps.planner.read_analyses`.
    pages : published pages (files) that draw it.
    needs : columns without which the layer is not drawn.
    z : stacking order on the canvas (higher on top; see ``maps.planner.Z_ORDER``).
    swatch : symbol of the legend rows ("circle", "line" or "fill").
    derive : (column, row → value) pairs computed before drawing, for popup rows that read several columns.
    painter : ``(build, frame) → layer`` drawing the layer itself (e.g. an image of a grid) instead of the
        generic vector drawing; the entry still gives its source, allow-list, licence and pages.
    as_points : draw areas as circles at a point inside each (``swatch`` "circle").
    labels : the title is a permanent map label (decluttered); the popup still opens on click.
    highlight : outline a feature under the mouse.
    popups : give each feature a popup (title and ``fields``).
    configure : ``(entry, context) → entry``: the entry adapted to the region's ``map:`` settings and the build
        summary (a :class:`MapContext`: a legend title, a highlighted feature, features not found), applied by
        :func:`draw`; region facts stay in the region YAML.
    legend_class : feature row → the key of its legend row (default: its style key), when several styles share
        one row (a road class drawn solid or dashed).
    data : keys of the planner's dict the layer is drawn from, the first with features winning (default: ``key``),
        e.g. the district choropleths from ``district_population`` or else ``districts``.
    tooltip_title : column, or row → text, heading the hover tooltip (default: ``popup_title``).
    legend_styles : style key → the legend swatch's style, where it differs from the features' style.
    stage : "areas" (drawn with the areas, below parks and transport, below parks and transport, their legend among the first) or
        "top" (default: drawn after every other layer).
    legend_always : legend rows shown even when no feature has them (a "dashed = planned" key).
    legend_with : key of the entry whose legend box this layer's rows join (one box for railways and stations);
        when that layer is absent, this layer opens the box itself.
    ``legend_note`` may name the provenance of the data actually used: ``{osm}`` ("OSM 2018"), ``{census_year}``.
    """

    key: str
    title: str
    styles: dict
    legend: tuple = ()
    legend_title: str = ""
    legend_note: str | None = None
    classify: Callable | None = None
    popup_title: Callable | str = "name"
    fields: tuple = ()
    tooltip: Callable | None = None
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
    derive: tuple = ()
    painter: Callable | None = None
    as_points: bool = False
    labels: bool = False
    highlight: bool = True
    popups: bool = True
    configure: Callable | None = None
    legend_with: str | None = None
    legend_class: Callable | None = None
    legend_always: tuple = ()
    stage: str = "top"
    data: tuple = ()
    tooltip_title: Callable | str | None = None
    legend_styles: dict | None = None

    def __post_init__(self):
        if not self.key or not self.key.replace("_", "").isalnum():
            raise ValueError(f"map layer key must be a plain identifier, not {self.key!r}")
        if not self.styles:
            raise ValueError(f"map layer {self.key!r} needs at least one style")
        if self.source not in ("analyses", "layers"):
            raise ValueError(f"map layer {self.key!r}: source must be 'analyses' or 'layers', not {self.source!r}")
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

    def frame_of(self, frames: dict):
        """The frame this layer is drawn from: the first of ``data`` (default ``key``) with features, else None."""
        from maps.elements import has_features

        for name in self.data or (self.key,):
            if has_features(frames.get(name)):
                return frames[name]
        return None

    def usable(self, frame) -> bool:
        """True when ``frame`` has features and every column of ``needs``."""
        from maps.elements import has_features

        return has_features(frame) and all(c in frame.columns for c in self.needs)


@dataclass(frozen=True)
class MapContext:
    """What a :attr:`MapLayer.configure` may adapt an entry to.

    map_config : the region's ``map:`` section (``transport_group``, ``rail_legend_title``, ``highlight_station`` …).
    summary : the build summary (layers_summary.json), e.g. ``layers.corridors.not_found``.
    """

    map_config: dict
    summary: dict
    district_view: str = "density"

    def __post_init__(self):
        if not isinstance(self.map_config, dict) or not isinstance(self.summary, dict):
            raise TypeError("MapContext needs a map_config dict and a summary dict")


#: Every registered layer by key, in drawing order.
LAYERS: dict[str, MapLayer] = {}


def register(entry: MapLayer, replace: bool = False) -> MapLayer:
    """Add ``entry`` to :data:`LAYERS` (an existing key is an error unless ``replace``); returns it."""
    if entry.key in LAYERS and not replace:
        raise ValueError(f"map layer {entry.key!r} is already registered")
    LAYERS[entry.key] = entry
    return entry


def unregister(key: str) -> None:
    """Remove a registered layer (tests, plug-ins)."""
    LAYERS.pop(key, None)


def get(key: str) -> MapLayer:
    return LAYERS[key]


def entries(source: str | None = None, stage: str | None = None) -> list[MapLayer]:
    """The registered layers (of one ``source`` and ``stage`` when given), in drawing order."""
    return [e for e in LAYERS.values() if (source is None or e.source == source) and (stage is None or e.stage == stage)]


def allow_list(source: str) -> dict[str, list[str]]:
    """Publish allow-list of the registered layers of ``source``: key → columns."""
    return {e.key: list(e.publish) for e in entries(source) if e.publish}


def licence_keys() -> dict[str, str]:
    """Registered key → the licence key it inherits."""
    return {e.key: e.licence for e in LAYERS.values() if e.licence}


def page_layers(page_file: str) -> list[str]:
    """Keys of the registered layers drawn on a published page."""
    return [e.key for e in LAYERS.values() if page_file in e.pages]


def draw(build, entry: MapLayer, frame) -> object | None:
    """Draw ``frame`` as ``entry`` with the planner's builder (``build.layer``, ``build.legends``); the layer or None."""
    from maps.legend import Legend, Swatch

    if not entry.usable(frame):
        return None
    if entry.configure is not None:
        entry = entry.configure(entry, MapContext(getattr(build, "map_config", None) or {},
                                                  getattr(build, "summary", None) or {},
                                                  getattr(build, "district_view", "density")))
    if entry.painter is not None:
        return entry.painter(build, frame)
    if entry.as_points:
        frame = frame.set_geometry(frame.geometry.representative_point())
    if entry.derive:
        frame = frame.assign(**{c: [fn(r) for _, r in frame.iterrows()] for c, fn in entry.derive})
    keys = [entry.style_key(r) for _, r in frame.iterrows()]
    titles = [entry.title_of(r) for _, r in frame.iterrows()]
    if entry.labels:
        tips = [escape(t) for t in titles]
    else:
        tips = [popups.tooltip_html(entry.tooltip_title_of(r), entry.tooltip(r) if entry.tooltip else None)
                for _, r in frame.iterrows()]
    pops = popups.feature_popups(frame.assign(_title=titles), "_title", entry.fields) if entry.popups else None
    radii = None
    if entry.swatch == "circle":
        radii = [float(entry.styles[k].get("radius", 6)) for k in keys]
    # G_TRANSPORT is renamed by the builder (the region's map.transport_group)
    lay = build.layer(entry.group, entry.key, entry.title, frame, keys, entry.styles, tips, pops, radii,
                      show=entry.show, z=entry.z, labels=entry.labels, highlight=entry.highlight)
    present = set(keys) if entry.legend_class is None else {entry.legend_class(r) for _, r in frame.iterrows()}
    present |= set(entry.legend_always)
    shown = {**entry.styles, **(entry.legend_styles or {})}
    rows = [Swatch(label, _swatch_kind(entry, k), shown[k]) for k, label in entry.legend if k in present]
    if rows:
        boxes = getattr(build, "legend_of", {})     # legend boxes of the drawn entries, by key
        joined = boxes.get(entry.legend_with) if entry.legend_with else None
        if joined is not None:
            joined.swatches.extend(rows)
            joined.layers.append(lay)
        else:
            note = entry.legend_note.format(**getattr(build, "provenance", {})) if entry.legend_note else None
            joined = Legend(entry.legend_title or entry.title, rows, [lay], note=note, open=False)
            build.legends.append(joined)
        boxes[entry.key] = joined
    return lay


def _swatch_kind(entry: MapLayer, key: str) -> str:
    """The legend symbol of one style: the entry's; "fill" for an area style among lines (water areas) or among
    circles (a style without ``radius``: built-up areas among town points)."""
    st = entry.styles[key]
    if (entry.swatch == "line" and "fillColor" in st) or (entry.swatch == "circle" and "radius" not in st):
        return "fill"
    return entry.swatch


# --------------------------------------------------------------------------- the registered layers: context

register(MapLayer(
    key="neighbours", title="Tỉnh lân cận / neighbouring provinces", source="layers", group=G_BOUNDARIES,
    styles={"n": {"color": "#888", "weight": 1, "fillColor": "#bbbbbb", "fillOpacity": 0.25}},
    popup_title="name_vi", tooltip=lambda r: "Tỉnh lân cận / neighbouring province", popups=False, highlight=False,
    publish=("name_vi",), licence="neighbours", z=0))


# --------------------------------------------------------------------------- districts: coloured by density, by urban share, or outlines

G_DISTRICTS = "Huyện, tô màu theo / Districts coloured by"
DENSITY_BREAKS = [250, 500, 1000, 2000]            # persons per km²
URBAN_SHARE_BREAKS = [0.05, 0.10, 0.20, 0.40]
CENSUS_NOTE = "Điều tra dân số 2019 (GSO) / census 2019"
DISTRICT_SOURCES = ("district_population", "districts")      # the census-joined districts, else the bare ones

DISTRICT_FIELDS = (
    Field("type_vi", "Loại / type"),
    Field("province_vi", "Tỉnh (trước 2025) / province (pre-2025)"),
    Field("area_km2", "Diện tích / area", lambda v: style.fmt_number(v, 1, "km²")),
    Field("total", "Dân số 2019 / population 2019", style.fmt_people),
    Field("density_per_km2", "Mật độ / density", style.fmt_density),
    Field("urban_share", "Tỷ lệ dân số đô thị / urban share", lambda v: style.fmt_pct(v, 1)),
    Field("worldpop_raw", "WorldPop 2020 (chưa hiệu chỉnh / raw)", style.fmt_people),
    Field("census_date", "Ngày điều tra / census date"),
    Field("note", "Ghi chú / note"),
)


@dataclass(frozen=True)
class DistrictMap:
    """One district choropleth: the entry ``key`` and ``title``, the legend title, the ``column`` classed at
    ``breaks`` (ascending) with ``palette`` (one colour per class), ``fmt`` of the legend's break values,
    ``tip`` (label of the value in the tooltip) and the page's ``district_view`` that shows it first."""

    key: str
    title: str
    legend_title: str
    column: str
    breaks: tuple
    palette: tuple
    fmt: Callable
    tip: str
    view: str

    def __post_init__(self):
        if list(self.breaks) != sorted(self.breaks) or len(self.palette) != len(self.breaks) + 1:
            raise ValueError(f"district map {self.key!r}: breaks must ascend, with one colour more than breaks")

    def entry(self) -> MapLayer:
        """The registry entry: every class and unknown in the legend (as :func:`maps.legend.class_swatches`)."""
        from maps.legend import class_swatches

        breaks, palette = list(self.breaks), list(self.palette)
        _, styles = style.choropleth([], breaks, palette)
        swatches = class_swatches(breaks, palette, self.fmt)
        keys = [str(i) for i in range(len(breaks) + 1)] + ["u"]
        column, tip, view = self.column, self.tip, self.view
        return MapLayer(
            key=self.key, title=self.title, source="layers", group=G_DISTRICTS, data=DISTRICT_SOURCES, styles=styles,
            classify=lambda r: style.choropleth([r.get(column)], breaks, palette)[0][0],
            legend=tuple((k, sw.label) for k, sw in zip(keys, swatches)), legend_always=tuple(keys),
            legend_styles={k: sw.style for k, sw in zip(keys, swatches)},
            legend_title=self.legend_title, legend_note=CENSUS_NOTE,
            popup_title=lambda r: r.get("name_full_vi") or r.get("district"), tooltip_title="district",
            tooltip=lambda r: f"{tip}: {fmt_value(column)(r.get(column))}", fields=DISTRICT_FIELDS,
            configure=lambda e, c: replace(e, show=c.district_view == view), stage="areas", z=1)


def fmt_value(column: str) -> Callable:
    """The tooltip format of a district column (density in persons per km², urban share in %)."""
    return style.fmt_density if column == "density_per_km2" else (lambda v: style.fmt_pct(v, 1))


register(DistrictMap(
    "districts_density", "Mật độ dân số 2019 / population density 2019",
    "Mật độ dân số / population density 2019 (người/km²)", "density_per_km2", tuple(DENSITY_BREAKS),
    tuple(style.PALETTES["purples"]), lambda v: style.fmt_number(v), "Mật độ / density", "density").entry())
register(DistrictMap(
    "districts_urban", "Tỷ lệ dân số đô thị 2019 / urban share 2019", "Tỷ lệ dân số đô thị 2019 / urban share 2019",
    "urban_share", tuple(URBAN_SHARE_BREAKS), tuple(style.PALETTES["oranges"]), lambda v: style.fmt_pct(v),
    "Tỷ lệ đô thị / urban share", "urban").entry())
register(MapLayer(
    key="districts_outline", title="Chỉ ranh giới huyện / outlines only", source="layers", group=G_DISTRICTS,
    data=DISTRICT_SOURCES, styles={"o": {"color": "#555", "weight": 1, "fillColor": "#ffffff", "fillOpacity": 0.05}},
    popup_title=lambda r: r.get("name_full_vi") or r.get("district"), tooltip_title="district", fields=DISTRICT_FIELDS,
    configure=lambda e, c: replace(e, show=c.district_view not in ("density", "urban")), stage="areas", z=1))


# --------------------------------------------------------------------------- road corridors

def road_class(row) -> str:
    """Road class of a corridor (a key of ``style.ROAD_CLASSES``; "other" when missing or unknown).

    >>> road_class({"road_class": "national"}), road_class({"road_class": None}), road_class({})
    ('national', 'other', 'other')
    """
    value = str(row.get("road_class"))
    return value if value in style.ROAD_CLASSES else "other"


def _corridor_styles() -> dict:
    out = {}
    for k, v in style.ROAD_CLASSES.items():
        out[f"{k}|existing"] = {"color": v["color"], "weight": v["weight"], "opacity": 0.9}
        out[f"{k}|planned"] = {"color": v["color"], "weight": v["weight"], "opacity": 0.9, "dashArray": style.PLANNED_DASH}
    out["*"] = out["other|existing"]              # an unknown status: drawn as "other" (as before the registry)
    out["planned"] = {**out["other|planned"], "color": "#333"}       # the legend's "dashed = planned" key
    return out


_CORRIDOR_STYLES = _corridor_styles()


def _corridor_key(row) -> str:
    status = str(row.get("status")) if "status" in row else "existing"
    key = f"{road_class(row)}|{status}"
    return key if key in _CORRIDOR_STYLES else "*"


def _corridor_not_found(entry: MapLayer, context: MapContext) -> MapLayer:
    """The corridor legend's note naming the corridors of the region that were not found on the network."""
    missing = [n.get("name_vi") or n.get("corridor_id") for n in
               context.summary.get("layers", {}).get("corridors", {}).get("not_found", [])]
    if not missing:
        return entry
    return replace(entry, legend_note=entry.legend_note + "; không tìm thấy / not found: "
                   + ", ".join(str(x).replace("{", "{{").replace("}", "}}") for x in missing))


register(MapLayer(
    key="corridors", title="Hành lang giao thông / road corridors", source="layers", group=G_TRANSPORT,
    styles=_CORRIDOR_STYLES, classify=_corridor_key, swatch="line",
    legend=tuple((f"{k}|existing", v["label"]) for k, v in style.ROAD_CLASSES.items())
    + (("planned", "Quy hoạch (nét đứt) / planned (dashed)"),),
    legend_class=lambda r: f"{road_class(r)}|existing", legend_always=("planned",),
    legend_note="Khớp với mạng đường {osm} / matched on the {osm} road network", configure=_corridor_not_found,
    popup_title=lambda r: r.get("name_vi") if "name_vi" in r else r.get("corridor_id"),
    tooltip=lambda r: style.fmt_km(r.get("length_km")),
    fields=(Field("name_en", "Tên tiếng Anh / English name"),
            Field("road_class", "Cấp đường / road class",
                  lambda v: style.UNKNOWN if style.is_missing(v) else style.ROAD_CLASSES[road_class({"road_class": v})]["label"]),
            Field("status", "Hiện trạng / status",
                  lambda v: {"existing": "hiện có / existing", "planned": "quy hoạch / planned"}.get(str(v), style.fmt_text(v))),
            Field("length_km", "Chiều dài / length", style.fmt_km),
            Field("reference_length_km", "Chiều dài tham chiếu / reference length", style.fmt_km),
            Field("matched_share", "Tỷ lệ khớp / matched share", lambda v: style.fmt_pct(v, 0)),
            Field("design_speed_kmh", "Tốc độ thiết kế / design speed", lambda v: style.fmt_number(v, 0, "km/h")),
            Field("method", "Phương pháp / method"),
            Field("note", "Ghi chú / note"),
            Field("source", "Nguồn / source")),
    publish=("corridor_id", "name_vi", "name_en", "road_class", "status", "length_km", "design_speed_kmh"),
    licence="corridors", z=6))


# --------------------------------------------------------------------------- railways and stations (one legend box)

RAIL_LEGEND_TITLE = "Đường sắt, ga / railways, stations"      # the region's map.rail_legend_title replaces it
RAILWAY = "Đường sắt / railway"


def _rail_legend(entry: MapLayer, context: MapContext) -> MapLayer:
    """The railway entry with the region's legend title (``map.rail_legend_title``)."""
    return replace(entry, legend_title=context.map_config.get("rail_legend_title") or RAIL_LEGEND_TITLE)


register(MapLayer(
    key="railways", title="Đường sắt / railways", source="layers", group=G_TRANSPORT,
    styles={"r": {"color": "#2b2b2b", "weight": 2.5, "opacity": 0.9, "dashArray": "10 3"}},
    swatch="line", legend=(("r", RAILWAY),), legend_title=RAIL_LEGEND_TITLE, configure=_rail_legend,
    legend_styles={"r": {"color": "#2b2b2b", "weight": 2.5, "dashArray": "10 3"}},
    popup_title=lambda r: RAILWAY if style.is_missing(r.get("name")) else r.get("name"),
    tooltip=lambda r: RAILWAY,
    fields=(Field("name_en", "Tên tiếng Anh / English name"),
            Field("length_km", "Chiều dài / length", style.fmt_km),
            Field("length_in_region_km", "Trong tỉnh / in the province", style.fmt_km),
            Field("name_source", "Nguồn tên / name source"),
            Field("osm_id", "OSM id")),
    publish=("name", "name_en", "length_km", "length_in_region_km"), licence="railways", z=7))


def station_kind(row) -> str:
    """Kind of a station (a key of ``style.STATION_KINDS``; "rail_station" when missing or unknown).

    >>> station_kind({"kind": "dry_port"}), station_kind({"kind": None}), station_kind({})
    ('dry_port', 'rail_station', 'rail_station')
    """
    kind = str(row.get("kind"))
    return kind if kind in style.STATION_KINDS else "rail_station"


def _hub_station(entry: MapLayer, context: MapContext) -> MapLayer:
    """The station entry with the region's hub (``map.highlight_station``: ``names``, ``label``) drawn larger, first
    in the legend, and the region's legend title."""
    hub = context.map_config.get("highlight_station") or {}
    names = {fold(str(n)) for n in hub.get("names", [])}
    return replace(entry, legend_title=context.map_config.get("rail_legend_title") or RAIL_LEGEND_TITLE,
                   classify=lambda r: "hub" if fold(str(r.get("name"))) in names else station_kind(r),
                   legend=(("hub", hub.get("label") or "Ga đầu mối / hub station"),) + entry.legend)


register(MapLayer(
    key="stations", title="Ga, cảng cạn / stations, dry ports", source="layers", group=G_TRANSPORT,
    styles={**{k: {"radius": v["radius"], "fillColor": v["color"], "color": "#ffffff", "weight": 1.5, "fillOpacity": 1}
               for k, v in style.STATION_KINDS.items()},
            "hub": {"radius": 9, "fillColor": "#c62828", "color": "#ffffff", "weight": 2, "fillOpacity": 1}},
    classify=station_kind, swatch="circle", configure=_hub_station, legend_with="railways",
    legend=tuple((k, v["label"]) for k, v in style.STATION_KINDS.items()), legend_title=RAIL_LEGEND_TITLE,
    popup_title="name", tooltip=lambda r: style.STATION_KINDS[station_kind(r)]["label"],
    fields=(Field("kind", "Loại / kind", lambda v: style.STATION_KINDS.get(str(v), {}).get("label", style.fmt_text(v))),
            Field("name_en", "Tên tiếng Anh / English name"),
            Field("rail_distance_m", "Cách đường sắt / distance to the railway", lambda v: style.fmt_number(v, 0, "m")),
            Field("osm_id", "OSM id"),
            Field("source", "Nguồn / source")),
    publish=("kind", "name", "name_en"), licence="stations", z=10))


def _water_kind(row) -> str:
    return str(row.get("kind")) if str(row.get("kind")) in style.WATER else "waterway"


register(MapLayer(
    key="water", title="Sông, hồ / rivers, water", source="layers", group=G_URBAN,
    styles={"waterway": {"color": style.WATER["waterway"]["color"], "weight": 1.2, "opacity": 0.8},
            "water_area": {"color": style.WATER["water_area"]["color"], "weight": 0.5, "fillColor": "#7fb2ec",
                           "fillOpacity": 0.6}},
    classify=_water_kind, swatch="line",
    legend=(("waterway", style.WATER["waterway"]["label"]), ("water_area", style.WATER["water_area"]["label"])),
    legend_title="Sông, hồ / water", legend_note="{osm}, không có tên / no names",
    popup_title=lambda r: style.WATER[_water_kind(r)]["label"],
    tooltip=lambda r: style.fmt_km(r.get("length_km")) if _water_kind(r) == "waterway" else style.fmt_ha(r.get("area_ha")),
    popups=False, highlight=False,
    publish=("kind", "length_km", "area_ha"), licence="water", z=4))

def _urban_class(row) -> str:
    if row.get("kind") == "builtup_area":
        return "builtup"
    if row.get("is_programme_town") is True or str(row.get("is_programme_town")).lower() in ("true", "1"):
        return "programme"
    cls = str(row.get("place_class"))
    return {"national_capital": "city"}.get(cls, cls if cls in style.URBAN_CLASSES else "town")


def _urban_styles() -> dict:
    out = {k: {"radius": v["radius"], "fillColor": v["color"], "color": "#7f0000", "weight": 1, "fillOpacity": 0.9}
           for k, v in style.URBAN_CLASSES.items() if k != "builtup"}
    out["builtup"] = {"color": "#b2182b", "weight": 1, "fillColor": "#d6604d", "fillOpacity": 0.35}
    return out


register(MapLayer(
    key="urban_areas", title="Đô thị / urban areas", source="layers", group=G_URBAN,
    styles=_urban_styles(), classify=_urban_class, swatch="circle",
    legend=tuple((k, v["label"]) for k, v in style.URBAN_CLASSES.items()),
    legend_note="Vị trí {osm}, dân số điều tra {census_year} / {osm} places, census {census_year} population",
    popup_title="name",
    fields=(Field("place_class", "Loại (OSM) / class (OSM)"),
            Field("programme_town", "Đô thị trong chương trình / programme town"),
            Field("district", "Huyện / district"),
            Field("commune", "Xã, phường, thị trấn / commune"),
            Field("commune_population", "Dân số xã/phường 2019 / commune population 2019", style.fmt_people),
            Field("district_population", "Dân số huyện 2019 / district population 2019", style.fmt_people),
            Field("district_urban_share", "Tỷ lệ đô thị của huyện / district urban share", lambda v: style.fmt_pct(v, 1)),
            Field("area_ha", "Diện tích / area", style.fmt_ha),
            Field("note", "Ghi chú / note")),
    tooltip=lambda r: (None if style.is_missing(r.get("commune_population"))
                       else f"Dân số 2019 / population 2019: {style.fmt_people(r.get('commune_population'))}"),
    publish=("kind", "name", "place_class", "district", "commune", "commune_population", "programme_town",
             "is_programme_town", "area_ha"),
    licence="urban_areas", z=9))


register(MapLayer(
    key="destinations", title="Điểm đến chính / key destinations", source="layers", group=G_TRANSPORT,
    styles={"d": {"radius": 6, "fillColor": style.DESTINATION_COLOR, "color": "#ffffff", "weight": 2, "fillOpacity": 1}},
    swatch="circle", labels=True,           # the name is a permanent label; the popup still opens on click
    popup_title=lambda r: r.get("name_vi") if "name_vi" in r else r.get("name"),
    fields=(Field("name_en", "Tên tiếng Anh / English name"), Field("kind", "Loại / kind"),
            Field("source", "Nguồn / source"), Field("note", "Ghi chú / note")),
    publish=("key", "name_vi", "name_en", "kind"), licence="destinations", z=11))


# --------------------------------------------------------------------------- the registered layers: analyses

def verdict_class(value) -> str:
    """Legal verdict of a site: "eligible", "fails" or "unknown" (missing or anything else is unknown, never a pass).

    Reads the ``verdict`` column's words too ("ineligible" → "fails").
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


VERDICT_LABELS = {"eligible": "đủ điều kiện / eligible (every rule known and passed)",
                  "fails": "không đạt / fails a rule (ineligible)",
                  "unknown": "chưa xác định / unknown (facts missing)"}


def _verdict_of(row) -> str:
    """The site's verdict class: the ``verdict`` column when there is one (sites since the three-valued verdict), else
    ``eligible``."""
    value = row.get("verdict")
    return verdict_class(row.get("eligible") if style.is_missing(value) else value)


def site_criteria(row) -> str:
    """Each scored criterion of a site as "name: mean value → mean score" (columns ``s_<name>`` and ``<name>``)."""
    parts = []
    for key in row:
        if not str(key).startswith("s_") or style.is_missing(row.get(key)):
            continue
        name = str(key)[2:]
        value = row.get(name)
        shown = "" if style.is_missing(value) else f"{float(value):,.1f} → "
        parts.append(f"{name}: {shown}{float(row[key]):.2f}")
    return " • ".join(parts) or "—"


def site_setting(row) -> str:
    """Parcel, shape and what lies next to the site (metres from its edge)."""
    def m(key):
        v = row.get(key)
        return "?" if style.is_missing(v) else f"{float(v):,.0f} m"

    parcel = row.get("parcel")
    text = "" if style.is_missing(parcel) else f"thửa / parcel {int(float(parcel))}"
    if not style.is_missing(row.get("parcel_area_ha")):
        text += f" ({float(row['parcel_area_ha']):,.0f} ha)"
    if not style.is_missing(row.get("compactness")):
        text += f"; độ gọn / compactness {float(row['compactness']):.2f}, rộng tối thiểu / min width {m('min_width_m')}"
    text += (f"; QL/ĐT/cao tốc / corridor road {m('m_to_corridor_road')}; đường sắt / railway {m('m_to_railway')}; "
             f"khu dân cư / settlement {m('m_to_settlement')}")
    if not style.is_missing(row.get("nearest_settlement")):
        source = row.get("settlement_source")
        text += f" ({style.fmt_text(row.get('nearest_settlement'))}" + ("" if style.is_missing(source) else
                                                                       f", {style.fmt_text(source)}") + ")"
    return text


def _verdict_text(value) -> str:
    return VERDICT_LABELS[verdict_class(value)]


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
    return style.UNKNOWN if style.is_missing(value) else f"#{int(float(value))}"


def _site_title(row) -> str:
    rank = row.get("site", row.get("rank"))
    head = f"Địa điểm / site #{int(float(rank))}" if not style.is_missing(rank) else "Địa điểm / site"
    return head + (f" — {style.fmt_text(row.get('district'))}" if not style.is_missing(row.get("district")) else "")


def rank_range(row) -> str:
    """"#3 (#2–#6)": the base rank with the 5–95 % range over the Monte Carlo runs; "lost in x %" when it vanishes."""
    base = row.get("site")
    lo, mid, hi = row.get("rank_p05"), row.get("rank_median"), row.get("rank_p95")
    text = _rank(base)
    if not (style.is_missing(lo) or style.is_missing(hi)):
        text += f" (#{int(float(lo))}–#{int(float(hi))}, 5–95 %)"
    elif style.is_missing(hi) and not style.is_missing(lo):
        text += f" (#{int(float(lo))} – mất / lost, 5–95 %)"
    if not style.is_missing(mid):
        text += f"; trung vị / median #{int(float(mid))}"
    return text


_VERDICT_STYLES = {
    "eligible": {"color": "#1a9850", "weight": 3.5, "fillColor": "#1a9850", "fillOpacity": 0.15, "opacity": 1},
    "fails": {"color": "#d73027", "weight": 3.5, "fillColor": "#d73027", "fillOpacity": 0.15, "opacity": 1,
              "dashArray": "6 4"},
    "unknown": {"color": "#6b6b6b", "weight": 3, "fillColor": "#bdbdbd", "fillOpacity": 0.15, "opacity": 1,
                "dashArray": "2 4"},
}

register(MapLayer(
    key="site_verdicts",
    title="Điều kiện pháp lý của địa điểm / legal verdict of the sites",
    read=("sites.gpkg", "sites"),
    needs=("eligible",),
    classify=_verdict_of,
    styles=_VERDICT_STYLES,
    legend=tuple((k, VERDICT_LABELS[k]) for k in ("eligible", "fails", "unknown")),
    legend_title="Địa điểm theo trọng số của hồ sơ: điều kiện pháp lý / sites at the profile's weights: legal verdict",
    legend_note="Quy tắc trong layers/rules/ (điều, ngày ban hành); chưa xác định = thiếu dữ liệu, không phải đạt / "
                "rules in layers/rules/ (article, date); unknown = facts missing, never a pass",
    popup_title=_site_title,
    fields=(
        Field("eligible", "Điều kiện pháp lý / legal verdict", _verdict_text),
        Field("rule_failures", "Không đạt / fails", _listing),
        Field("rules_unknown", "Chưa xác định được / could not be decided", _listing),
        Field("missing_facts", "Cần bổ sung / what to give", _listing),
        Field("preconditions_met", "Điều kiện tiên quyết / preconditions met", style.fmt_yes_no),
        Field("area_ha", "Diện tích / area", style.fmt_ha),
        Field("score_mean", "Điểm trung bình / mean score", lambda v: style.fmt_number(v, 3)),
        Field("_criteria", "Tiêu chí: giá trị → điểm / criteria: value → score", str),
        Field("_setting", "Thửa đất và lân cận / parcel and surroundings", str),
        Field("district", "Huyện / district"),
    ),
    derive=(("_criteria", site_criteria), ("_setting", site_setting)),
    tooltip=lambda r: VERDICT_LABELS[_verdict_of(r)],
    publish=("site", "area_ha", "score_mean", "district", "eligible", "verdict", "verdict_reasons", "missing_facts",
             "preconditions_met", "rule_failures", "rules_unknown", "parcel", "parcel_area_ha", "compactness",
             "min_width_m", "m_to_corridor_road", "m_to_railway", "m_to_settlement", "nearest_settlement",
             "settlement_source", "s_*",
             "minutes_to_*", "people_within_*", "km_to_*", "slope_deg"),
    licence="candidates",
    pages=("suitability.html",),
    z=12.2,
))

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


register(MapLayer(
    key="sensitivity_sites",
    title="Thứ hạng địa điểm khi đổi trọng số / site ranks under other weightings",
    read=("sensitivity.gpkg", "sites"),
    needs=("site",),
    classify=_rank_class,
    styles=_RANK_STYLES,
    swatch="circle",
    as_points=True,
    legend=(("firm", "ở lại top ≥ 90 % lần chạy / in the top in ≥ 90 % of runs"),
            ("shaky", "thứ hạng dao động / rank moves"),
            ("lost", "mất ≥ 25 % lần chạy / lost in ≥ 25 % of runs")),
    legend_title="Độ vững của thứ hạng (Monte Carlo) / how firm the ranks are (Monte Carlo)",
    legend_note="plan.py sensitivity: trọng số ngẫu nhiên quanh hồ sơ / random weightings around the profile",
    popup_title=_site_title,
    fields=(
        Field("_rank_range", "Thứ hạng (khoảng 5–95 %) / rank (5–95 % range)", str),
        Field("p_rank_1", "Xếp thứ nhất / ranked first", lambda v: style.fmt_pct(v, 0)),
        Field("p_top_n", "Trong danh sách / in the list", lambda v: style.fmt_pct(v, 0)),
        Field("p_lost", "Biến mất / lost", lambda v: style.fmt_pct(v, 0)),
        Field("area_ha", "Diện tích / area", style.fmt_ha),
    ),
    derive=(("_rank_range", rank_range),),
    tooltip=rank_range,
    publish=("site", "district", "area_ha", "p_rank_1", "p_top_n", "p_lost", "rank_p05", "rank_median", "rank_p95"),
    licence="candidates",
    pages=("suitability.html",),
    z=12.4,
))


def _paint_isochrones(build, frame):
    from maps.isochrones_layer import paint_isochrones

    return paint_isochrones(build, frame)


register(MapLayer(
    key="isochrones",
    title="Vùng đẳng thời / isochrones",
    read=("isochrones.gpkg", "isochrones"),
    styles={"classed": {}},
    painter=_paint_isochrones,            # one layer per origin, classes from the minutes present: maps/isochrones_layer.py
    stage="areas",
    publish=("origin", "minutes", "population"),
    pages=("access.html",),
))


def _paint_probability(build, frame):
    from maps.sensitivity_layer import add_probability_layer

    return add_probability_layer(build, frame)


register(MapLayer(
    key="sensitivity",
    title="Xác suất phù hợp / probability suitable",
    read=("sensitivity.gpkg", "cells"),
    needs=("p_suitable",),
    styles={"image": {}},
    painter=_paint_probability,          # a classed image (62,000 cells): maps/sensitivity_layer.py
    publish=("p_suitable",),
    licence="candidates",
    pages=("suitability.html",),
))
