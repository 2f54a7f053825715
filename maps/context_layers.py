"""The context layers of every map (entries of :mod:`maps.registry`): boundaries, districts, transport, towns, the
population grid, and the light base map drawn from the same data (water, main roads, place names).

Each entry is a :class:`maps.layer.MapLayer`; :data:`ENTRIES` lists them in drawing order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from geo.text import fold
from maps import style
from maps.lang import tr
from maps.layer import G_BOUNDARIES, G_DISTRICTS, G_TRANSPORT, G_URBAN, MapContext, MapLayer
from maps.popups import Field

ENTRIES: list[MapLayer] = []


def add(entry: MapLayer) -> MapLayer:
    ENTRIES.append(entry)
    return entry


# --------------------------------------------------------------------------- the light base map

def _water_kind(row) -> str:
    return str(row.get("kind")) if str(row.get("kind")) in style.WATER else "waterway"


#: Colours of the light base map (drawn under everything, muted so the planning layers stand out).
BASE_WATER = "#9cc3e6"
BASE_ROAD = "#c9c3b8"

#: The base map leaves out the smallest water features (the download keeps every one).
MIN_WATERWAY_KM = 0.5
MIN_WATER_HA = 1.0


def _visible_water(row) -> bool:
    if _water_kind(row) == "water_area":
        return style.is_missing(row.get("area_ha")) or float(row.get("area_ha")) >= MIN_WATER_HA
    return style.is_missing(row.get("length_km")) or float(row.get("length_km")) >= MIN_WATERWAY_KM


add(MapLayer(
    key="water", title="Sông, hồ / rivers, water", source="layers", basemap=True, stage="areas", where=_visible_water,
    styles={"waterway": {"color": BASE_WATER, "weight": 1.1, "opacity": 0.9},
            "water_area": {"color": BASE_WATER, "weight": 0.5, "fillColor": "#b9d6f0", "fillOpacity": 0.9}},
    classify=_water_kind, swatch="line",
    legend=(("waterway", style.WATER["waterway"]["label"]), ("water_area", style.WATER["water_area"]["label"])),
    legend_title="Nền: sông, hồ / base map: water",
    legend_note=(f"{{osm}}, không có tên; sông, suối từ {MIN_WATERWAY_KM:g} km, mặt nước từ {MIN_WATER_HA:g} ha".replace(".", ",")
                 + f" / {{osm}}, no names; streams from {MIN_WATERWAY_KM:g} km, water areas from {MIN_WATER_HA:g} ha"),
    popup_title=lambda r: tr(style.WATER[_water_kind(r)]["label"]),
    publish=("kind", "length_km", "area_ha"), licence="water", z=0.5))


add(MapLayer(
    key="base_roads", title="Nền: đường chính / base map: main roads", source="layers", basemap=True, data=("corridors",),
    styles={"r": {"color": BASE_ROAD, "weight": 3.2, "opacity": 0.9}}, swatch="line",
    popup_title=lambda r: r.get("name_vi") if "name_vi" in r else r.get("corridor_id"), popups=False, z=0.6))

add(MapLayer(
    key="base_places", title="Nền: địa danh / base map: place names", source="layers", basemap=True, data=("urban_areas",),
    where=lambda r: str(r.get("place_class")) in ("city", "town", "national_capital"), as_points=True, labels=True,
    styles={"l": {"radius": 0, "opacity": 0, "fillOpacity": 0, "interactive": False}}, swatch="circle",
    popup_title="name", popups=False, z=0.7))


# --------------------------------------------------------------------------- boundaries

PROVINCE_STYLE = {"color": "#222", "weight": 3, "fill": False, "opacity": 0.9}
DISTRICT_LINE = {"color": "#555", "weight": 1}

add(MapLayer(
    key="neighbours", title="Tỉnh lân cận / neighbouring provinces", source="layers", group=G_BOUNDARIES,
    styles={"n": {"color": "#888", "weight": 1, "fillColor": "#bbbbbb", "fillOpacity": 0.25}},
    popup_title="name_vi", tooltip=lambda r: tr("Tỉnh lân cận / neighbouring province"), popups=False, highlight=False,
    publish=("name_vi",), licence="neighbours", z=0))

add(MapLayer(
    key="province", title="Tỉnh / province", source="layers", group=G_BOUNDARIES,
    styles={"p": PROVINCE_STYLE, "d": DISTRICT_LINE}, swatch="line",
    legend=(("p", "Tỉnh / province"), ("d", "Huyện / district")), legend_always=("d",),
    legend_title="Ranh giới / boundaries",
    popup_title=lambda r: r.get("name_vi") if not style.is_missing(r.get("name_vi")) else tr("Tỉnh / province"),
    fields=(Field("area_km2", "Diện tích / area", lambda v: style.fmt_number(v, 0, "km²")),
            Field("merged_from", "Gồm / merged from"), Field("source", "Nguồn / source")),
    highlight=False, z=5))

DISTRICT_SOURCES = ("district_population", "districts")      # the census-joined districts, else the bare ones

add(MapLayer(
    key="district_names", title="Tên huyện / district names", source="layers", group=G_BOUNDARIES, data=DISTRICT_SOURCES,
    needs=("district",), as_points=True, labels=True, swatch="circle", popups=False, highlight=False,
    styles={"l": {"radius": 0, "opacity": 0, "fillOpacity": 0, "interactive": False}},
    popup_title="district", z=20))


# --------------------------------------------------------------------------- districts: coloured by density, by urban share, or outlines

DENSITY_BREAKS = [250, 500, 1000, 2000]            # persons per km²
URBAN_SHARE_BREAKS = [0.05, 0.10, 0.20, 0.40]
CENSUS_NOTE = "Điều tra dân số 2019 (GSO) / census 2019 (GSO)"

DISTRICT_FIELDS = (
    Field("type_vi", "Loại / type"),
    Field("province_vi", "Tỉnh (trước 2025) / province (pre-2025)"),
    Field("area_km2", "Diện tích / area", lambda v: style.fmt_number(v, 1, "km²")),
    Field("total", "Dân số 2019 / population 2019", style.fmt_people),
    Field("density_per_km2", "Mật độ / density", style.fmt_density),
    Field("urban_share", "Tỷ lệ dân số đô thị / urban share", lambda v: style.fmt_pct(v, 1)),
    Field("worldpop_raw", "WorldPop 2020 (chưa hiệu chỉnh) / WorldPop 2020 (raw)", style.fmt_people),
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
            tooltip=lambda r: f"{tr(tip)}: {fmt_value(column)(r.get(column))}", fields=DISTRICT_FIELDS,
            configure=lambda e, c: replace(e, show=c.district_view == view), stage="areas", z=1)


def fmt_value(column: str) -> Callable:
    """The tooltip format of a district column (density in persons per km², urban share in %)."""
    return style.fmt_density if column == "density_per_km2" else (lambda v: style.fmt_pct(v, 1))


add(DistrictMap(
    "districts_density", "Mật độ dân số 2019 / population density 2019",
    "Mật độ dân số 2019 (người/km²) / population density 2019 (persons/km²)", "density_per_km2",
    tuple(DENSITY_BREAKS), tuple(style.PALETTES["purples"]), lambda v: style.fmt_number(v), "Mật độ / density",
    "density").entry())
add(DistrictMap(
    "districts_urban", "Tỷ lệ dân số đô thị 2019 / urban share 2019", "Tỷ lệ dân số đô thị 2019 / urban share 2019",
    "urban_share", tuple(URBAN_SHARE_BREAKS), tuple(style.PALETTES["oranges"]), lambda v: style.fmt_pct(v),
    "Tỷ lệ đô thị / urban share", "urban").entry())
add(MapLayer(
    key="districts_outline", title="Chỉ ranh giới huyện / outlines only", source="layers", group=G_DISTRICTS,
    data=DISTRICT_SOURCES, styles={"o": {"color": "#555", "weight": 1, "fill": False}},
    popup_title=lambda r: r.get("name_full_vi") or r.get("district"), tooltip_title="district", fields=DISTRICT_FIELDS,
    search=lambda r: r.get("name_full_vi") or r.get("district"),
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


def corridor_status(row) -> str:
    """"existing" or "planned" ("existing" when the layer does not say: today's network has the road)."""
    return "planned" if str(row.get("status")) == "planned" else "existing"


def _corridor_key(row) -> str:
    key = f"{road_class(row)}|{corridor_status(row)}"
    return key if key in _CORRIDOR_STYLES else "*"


def _corridor_legend(row):
    rows = (f"{road_class(row)}|existing",)
    return rows + (("planned",) if corridor_status(row) == "planned" else ())


def _corridor_not_found(entry: MapLayer, context: MapContext) -> MapLayer:
    """The corridor legend's note naming the corridors of the region that were not found on the network."""
    missing = [n.get("name_vi") or n.get("corridor_id") for n in
               context.summary.get("layers", {}).get("corridors", {}).get("not_found", [])]
    if not missing:
        return entry
    listed = ", ".join(str(x).replace("{", "{{").replace("}", "}}").replace(" / ", " – ") for x in missing)
    return replace(entry, legend_note=entry.legend_note + f"; không tìm thấy: {listed} / not found: {listed}")


STATUS_LABELS = {"existing": "hiện có / existing", "planned": "quy hoạch / planned"}
METHOD_LABELS = {"opened_road": "đường mở sau 2018 (layers/roads/) / opened since 2018 (layers/roads/)",
                 "map_matched": "khớp với mạng đường / map-matched", "waypoints": "theo các điểm có nguồn / sourced waypoints",
                 "map_matched, waypoints": "khớp với mạng đường và các điểm có nguồn / map-matched and sourced waypoints"}

add(MapLayer(
    key="corridors", title="Hành lang giao thông / road corridors", source="layers", group=G_TRANSPORT,
    styles=_CORRIDOR_STYLES, classify=_corridor_key, swatch="line",
    legend=tuple((f"{k}|existing", v["label"]) for k, v in style.ROAD_CLASSES.items())
    + (("planned", "Quy hoạch (nét đứt) / planned (dashed)"),),
    legend_class=_corridor_legend,
    legend_note="Khớp với mạng đường {osm} và đường mở sau 2018 / matched on the {osm} road network and the roads opened "
                "since 2018", configure=_corridor_not_found,
    popup_title=lambda r: r.get("name_vi") if "name_vi" in r else r.get("corridor_id"),
    search=lambda r: r.get("name_vi") if "name_vi" in r else r.get("corridor_id"),
    tooltip=lambda r: f"{tr(STATUS_LABELS[corridor_status(r)])}, {style.fmt_km(r.get('length_km'))}",
    fields=(Field("name_en", "Tên tiếng Anh / English name"),
            Field("road_class", "Cấp đường / road class",
                  lambda v: style.unknown() if style.is_missing(v) else tr(style.ROAD_CLASSES[road_class({"road_class": v})]["label"])),
            Field("status", "Hiện trạng / status", lambda v: tr(STATUS_LABELS.get(str(v), STATUS_LABELS["existing"]))),
            Field("length_km", "Chiều dài / length", style.fmt_km),
            Field("reference_length_km", "Chiều dài tham chiếu / reference length", style.fmt_km),
            Field("matched_share", "Tỷ lệ khớp / matched share", lambda v: style.fmt_pct(v, 0)),
            Field("design_speed_kmh", "Tốc độ thiết kế / design speed", lambda v: style.fmt_number(v, 0, "km/h")),
            Field("method", "Cách xác định / method", lambda v: tr(METHOD_LABELS.get(str(v), style.fmt_text(v)))),
            Field("alignment", "Hướng tuyến / alignment",
                  lambda v: tr("chỉ định (gần đúng) / indicative") if str(v) == "indicative" else style.fmt_text(v)),
            Field("note", "Ghi chú / note"),
            Field("source", "Nguồn / source")),
    publish=("corridor_id", "name_vi", "name_en", "road_class", "status", "length_km", "design_speed_kmh", "alignment"),
    licence="corridors", z=6))


# --------------------------------------------------------------------------- railways and stations (one legend section)

RAIL_LEGEND_TITLE = "Đường sắt, ga / railways, stations"      # the region's map.rail_legend_title replaces it
RAILWAY = "Đường sắt / railway"


def _rail_legend(entry: MapLayer, context: MapContext) -> MapLayer:
    """The railway entry with the region's legend title (``map.rail_legend_title``)."""
    return replace(entry, legend_title=context.map_config.get("rail_legend_title") or RAIL_LEGEND_TITLE)


def _railway_lines(frame, context):
    """One feature per named line (the layer has a piece per OSM way): fewer popups, the same drawing."""
    keys = [c for c in ("name", "name_en", "name_source") if c in frame]
    if not keys:
        return frame
    sums = [c for c in ("length_km", "length_in_region_km") if c in frame]
    parts = frame.assign(**{c: frame[c].fillna("") for c in keys})
    merged = parts.dissolve(by=keys, aggfunc={c: "sum" for c in sums} if sums else "first", as_index=False)
    for c in keys:
        merged[c] = merged[c].replace("", None)
    return merged


add(MapLayer(
    key="railways", title="Đường sắt / railways", source="layers", group=G_TRANSPORT, prepare=_railway_lines,
    styles={"r": {"color": "#2b2b2b", "weight": 2.5, "opacity": 0.9, "dashArray": "10 3"}},
    swatch="line", legend=(("r", RAILWAY),), legend_title=RAIL_LEGEND_TITLE, configure=_rail_legend,
    legend_styles={"r": {"color": "#2b2b2b", "weight": 2.5, "dashArray": "10 3"}},
    popup_title=lambda r: tr(RAILWAY) if style.is_missing(r.get("name")) else r.get("name"),
    tooltip=lambda r: tr(RAILWAY),
    fields=(Field("name_en", "Tên tiếng Anh / English name"),
            Field("length_km", "Chiều dài / length", style.fmt_km),
            Field("length_in_region_km", "Trong tỉnh / in the province", style.fmt_km),
            Field("name_source", "Nguồn tên / name source")),
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


add(MapLayer(
    key="stations", title="Ga, cảng cạn / stations, dry ports", source="layers", group=G_TRANSPORT,
    styles={**{k: {"radius": v["radius"], "fillColor": v["color"], "color": "#ffffff", "weight": 1.5, "fillOpacity": 1}
               for k, v in style.STATION_KINDS.items()},
            "hub": {"radius": 9, "fillColor": "#c62828", "color": "#ffffff", "weight": 2, "fillOpacity": 1}},
    classify=station_kind, swatch="circle", configure=_hub_station, legend_with="railways",
    legend=tuple((k, v["label"]) for k, v in style.STATION_KINDS.items()), legend_title=RAIL_LEGEND_TITLE,
    popup_title="name", search="name", tooltip=lambda r: tr(style.STATION_KINDS[station_kind(r)]["label"]),
    fields=(Field("kind", "Loại / kind", lambda v: tr(style.STATION_KINDS.get(str(v), {}).get("label", style.fmt_text(v)))),
            Field("name_en", "Tên tiếng Anh / English name"),
            Field("rail_distance_m", "Cách đường sắt / distance to the railway", lambda v: style.fmt_number(v, 0, "m")),
            Field("osm_id", "OSM id"),
            Field("source", "Nguồn / source")),
    publish=("kind", "name", "name_en"), licence="stations", z=10))


# --------------------------------------------------------------------------- towns, population

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


def _place_search(row) -> str | None:
    """A place is found by its name and by its commune's (the 2025 communes are not a layer of every region)."""
    name, commune = row.get("name"), row.get("commune")
    if style.is_missing(name):
        return None
    if style.is_missing(commune) or fold(str(commune)) in fold(str(name)):
        return str(name)
    return f"{name} ({commune})"


add(MapLayer(
    key="urban_areas", title="Đô thị / towns and places", source="layers", group=G_URBAN,
    styles=_urban_styles(), classify=_urban_class, swatch="circle",
    legend=tuple((k, v["label"]) for k, v in style.URBAN_CLASSES.items()),
    legend_note="Vị trí {osm}, dân số điều tra {census_year} / {osm} places, census {census_year} population",
    popup_title="name", search=_place_search,
    fields=(Field("place_class", "Loại (OSM) / class (OSM)"),
            Field("programme_town", "Đô thị trong chương trình / programme town"),
            Field("district", "Huyện / district"),
            Field("commune", "Xã, phường, thị trấn / commune"),
            Field("commune_population", "Dân số xã, phường 2019 / commune population 2019", style.fmt_people),
            Field("district_population", "Dân số huyện 2019 / district population 2019", style.fmt_people),
            Field("district_urban_share", "Tỷ lệ đô thị của huyện / district urban share", lambda v: style.fmt_pct(v, 1)),
            Field("area_ha", "Diện tích / area", style.fmt_ha),
            Field("note", "Ghi chú / note")),
    tooltip=lambda r: (None if style.is_missing(r.get("commune_population"))
                       else f"{tr('Dân số xã 2019 / commune population 2019')}: {style.fmt_people(r.get('commune_population'))}"),
    publish=("kind", "name", "place_class", "district", "commune", "commune_population", "programme_town",
             "is_programme_town", "area_ha"),
    licence="urban_areas", z=9))


add(MapLayer(
    key="communes", title="Xã, phường 2025 / 2025 communes", source="analyses", group=G_URBAN, read=("communes.gpkg", "communes"),
    styles={"c": {"radius": 4, "fillColor": "#ffffff", "color": "#6a3d9a", "weight": 2, "fillOpacity": 1}}, swatch="circle",
    legend=(("c", "Xã, phường 2025 (điểm) / 2025 commune (point)"),), show=False,
    popup_title="name_vi", search="name_vi",
    fields=(Field("code", "Mã / code"), Field("population", "Dân số 2019 / population 2019", style.fmt_people),
            Field("urban_share", "Tỷ lệ đô thị / urban share", lambda v: style.fmt_pct(v, 1)),
            Field("former_districts", "Huyện cũ / former districts"),
            Field("access_method", "Cách tính tiếp cận / access computed by")),
    publish=("code", "name_vi", "population", "urban_share", "former_districts"), licence="communes", z=9.5))


def _destination_name(row):
    """The destination's name in the language texts are built in (``name_en`` in English when given)."""
    from maps.lang import current

    english = row.get("name_en") if "name_en" in row else None
    if current() == "en" and not style.is_missing(english):
        return english
    return row.get("name_vi") if "name_vi" in row else row.get("name")


add(MapLayer(
    key="destinations", title="Điểm đến chính / key destinations", source="layers", group=G_TRANSPORT,
    styles={"d": {"radius": 6, "fillColor": style.DESTINATION_COLOR, "color": "#ffffff", "weight": 2, "fillOpacity": 1}},
    swatch="circle", labels=True,           # the name is a permanent label; the popup still opens on click
    popup_title=lambda r: _destination_name(r),
    search=lambda r: r.get("name_vi") if "name_vi" in r else r.get("name"),
    fields=(Field("kind", "Loại / kind"),
            Field("source", "Nguồn / source"), Field("note", "Ghi chú / note")),
    publish=("key", "name_vi", "name_en", "kind"), licence="destinations", z=11))


def _paint_population(build, population, context):
    from maps.images import POP_BREAKS, population_png
    from maps.legend import Legend, class_swatches
    from maps.elements import ImageLayer

    if isinstance(population, (str, bytes)) or hasattr(population, "__fspath__"):
        from geo.io.raster import read_raster

        population = read_raster(population)
    array, profile = population
    uri, bounds = population_png(array, profile)
    lay = build.add(G_URBAN, ImageLayer(uri, bounds, "Dân số, lưới 1 km / population, 1 km grid", "population",
                                        opacity=0.75, show=context.is_on("population", False)), "population")
    build.legends.append(Legend("Dân số (người/ô 1 km) / population (persons per 1 km cell)",
                                class_swatches(POP_BREAKS, style.PALETTES["ylorrd"], lambda v: style.fmt_number(v)), [lay],
                                note="WorldPop 2020 (CC BY 4.0), hiệu chỉnh theo điều tra 2019 / WorldPop 2020 (CC BY 4.0), "
                                     "rescaled to the 2019 census"))
    return lay


add(MapLayer(key="population", title="Dân số, lưới 1 km / population, 1 km grid", source="raster", group=G_URBAN,
             styles={"image": {}}, painter=_paint_population, show=False))
