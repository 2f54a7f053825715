"""Leaflet elements for folium maps: safe data layers, image overlay, grouped layer control, setup.

Why not ``folium.GeoJson``: its tooltips and popups insert property values
into ``innerHTML`` unescaped, and it embeds every column. :class:`DataLayer`
embeds only what is drawn — rounded geometry, a style key, a radius, and the
tooltip/popup HTML built (and escaped) by :mod:`maps.popups` — with the
style table stored once per layer. The JSON is made safe for a ``<script>``
block by :func:`safe_json` (``<``, ``>``, ``&`` escaped), so a name such as
``</script><script>…`` cannot end the script early.

Elements render small calls into ``maps/assets/bgplan.js``; their large data (features, popups, the explorer's
grid) go into the page after templating (:class:`Page`, :func:`inline`).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
from branca.element import Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from maps.geometry import geojson_geometries
from maps.lang import text_html, tr


def safe_json(value) -> str:
    """JSON for embedding inside a ``<script>``: ``<``, ``>``, ``&`` and line separators escaped.

    >>> safe_json("</script><b>")
    '"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"'
    >>> safe_json({"a": "Bắc Giang"})
    '{"a":"Bắc Giang"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class Page(Figure):
    """The HTML page of a map (the root of its folium elements) that puts the elements' large data in after templating.

    branca renders an element by compiling the text its macro produced as a Jinja template once more
    (``MacroElement.render`` wraps it in ``Element(text)``): about 40 ms per MB of inline data, for nothing. Here an
    element's data stand in the text as a short mark (:func:`inline`) until :meth:`render` has the page, then the
    marks are replaced by the data — the same page, and data are never read as a template ("{{ x }}" in a name stays
    as written). Make one the root of a map with ``Page().add_child(m)``.
    """

    _MARK = re.compile(r"<bgplan-inline-(\d+)>")     # "<" is escaped in every JSON of safe_json: no data can match

    def __init__(self):
        super().__init__()
        self._inlined: list[str] = []

    def inline(self, text: str) -> str:
        """A mark standing for ``text`` until the page is rendered."""
        self._inlined.append(text)
        return f"<bgplan-inline-{len(self._inlined) - 1}>"

    def render(self, **kwargs) -> str:
        self._inlined = []
        html = super().render(**kwargs)
        inlined, self._inlined = self._inlined, []
        return self._MARK.sub(lambda mark: inlined[int(mark.group(1))], html)


def inline(element, text: str) -> str:
    """``text`` (large data of ``element``'s script) as a mark of its :class:`Page`, put in after templating; the text
    itself when the element's root is another figure."""
    root = element.get_root()
    return root.inline(text) if isinstance(root, Page) else text


def has_features(gdf) -> bool:
    """True for a GeoDataFrame with at least one row."""
    import geopandas as gpd

    return isinstance(gdf, gpd.GeoDataFrame) and len(gdf) > 0


def feature_collection(geometries, keys, tooltips=None, popups=None, radii=None, decimals: int = 5,
                       names=None) -> dict:
    """A GeoJSON FeatureCollection with coordinates rounded to ``decimals`` (5 ≈ 1 m).

    Properties per feature: ``k`` style key, ``t`` tooltip HTML, ``p`` popup
    HTML (or the index of a :class:`SharedTexts` text), ``r`` radius (px),
    ``n`` the name the search box finds it by. Empty geometries are dropped.

    >>> from shapely.geometry import Point
    >>> fc = feature_collection([Point(106.123456789, 21.2)], ["a"], ["<b>x</b>"])
    >>> fc["features"][0]["geometry"]["coordinates"], fc["features"][0]["properties"]
    ([106.12346, 21.2], {'k': 'a', 't': '<b>x</b>'})
    """
    geoms = np.asarray(list(geometries), dtype=object)
    kept = [i for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    features = []
    for i, geometry in zip(kept, geojson_geometries(geoms[kept], decimals)):
        props = {"k": str(keys[i])}
        if tooltips is not None and tooltips[i]:
            props["t"] = tooltips[i]
        if popups is not None and popups[i] is not None and popups[i] != "":
            props["p"] = popups[i]
        if radii is not None and radii[i] is not None and math.isfinite(float(radii[i])):
            props["r"] = float(radii[i])
        if names is not None and names[i]:
            props["n"] = names[i]
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


class DataLayer(Layer):
    """A GeoJSON layer drawn by ``bgplan.dataLayer``.

    Parameters
    ----------
    data : FeatureCollection from :func:`feature_collection`.
    styles : style key → Leaflet path options (``"*"`` = default).
    name : label in the layer control (escaped there).
    key : id under which the page exposes the layer as ``bgplan.layers[key]``.
    labels : tooltips shown permanently as map labels.
    highlight : thicken the outline on hover.
    z : stacking rank on the shared canvas (higher drawn on top), kept when layers are switched.
    base_label : labels of the light base map (smaller, grey, the first to give way to other labels).
    exclusive : one layer of a radio group (the search box opens its popups without switching it on).
    title : the layer's name (shown beside a search result).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = bgplan.dataLayer({% if this.data_ref %}{{ this.data_ref }}.bgData{% else %}{{ this.data_json }}{% endif %}, {{ this.spec_json }});
        bgplan.layers[{{ this.key_json }}] = {{ this.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, data: dict, styles: dict, name, key: str, show: bool = True,
                 labels: bool = False, highlight: bool = True, z: float = 0, base_label: bool = False,
                 exclusive: bool = False, title=None):
        super().__init__(name=name, overlay=True, control=False, show=show)
        self._name = "DataLayer"
        self.data = data
        self.styles = styles
        self.key = key
        self.labels = labels
        self.highlight = highlight
        self.z = z
        self.base_label = base_label
        self.exclusive = exclusive
        self.title = title
        self.data_ref = None        # the name of a layer of the page with the same data (drawn from it, not repeated)

    @property
    def feature_count(self) -> int:
        return len(self.data["features"])

    @property
    def data_json(self) -> str:
        return inline(self, safe_json(self.data))

    @property
    def spec_json(self) -> str:
        spec = {"styles": self.styles, "labels": self.labels, "highlight": self.highlight, "z": self.z}
        if self.base_label:
            spec["labelClass"] = "bg-label bg-base-label"
        if self.exclusive:
            spec["exclusive"] = True        # one of a radio group: the search box does not switch it on
        if self.title:
            spec["title"] = text_html(self.title)
        return safe_json(spec)

    @property
    def key_json(self) -> str:
        return safe_json(self.key)


class SharedTexts(MacroElement):
    """Popup texts used by several layers, stored once per page as ``bgplan.texts`` (features refer to them by index).

    Add it to the map before the layers; :meth:`index` registers a text.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        bgplan.texts = {{ this.texts_json }};
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "SharedTexts"
        self.texts: list[str] = []
        self._seen: dict[str, int] = {}

    def index(self, text: str) -> int:
        if text not in self._seen:
            self._seen[text] = len(self.texts)
            self.texts.append(text)
        return self._seen[text]

    @property
    def texts_json(self) -> str:
        return inline(self, safe_json(self.texts))


class ImageLayer(Layer):
    """An image overlay (``url`` may be a data URI) over ``bounds`` [[south, west], [north, east]].

    Drawn in its own pane below the vector canvas, so points and lines stay on top.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.imageOverlay({{ this.url_json }}, {{ this.bounds_json }},
            {opacity: {{ this.opacity }}, interactive: false, className: "bg-pixelated",
             pane: bgplan.lowPane({{ this._parent.get_name() }}, "bgRaster", 350)});
        bgplan.layers[{{ this.key_json }}] = {{ this.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, url: str, bounds, name: str, key: str, opacity: float = 0.7, show: bool = False):
        super().__init__(name=name, overlay=True, control=False, show=show)
        self._name = "ImageLayer"
        self.url = url
        self.bounds = [[float(bounds[0][0]), float(bounds[0][1])], [float(bounds[1][0]), float(bounds[1][1])]]
        self.key = key
        self.opacity = float(opacity)

    @property
    def url_json(self) -> str:
        return safe_json(self.url)

    @property
    def bounds_json(self) -> str:
        return safe_json(self.bounds)

    @property
    def key_json(self) -> str:
        return safe_json(self.key)


class GroupedLayers(MacroElement):
    """Layer control with named groups (leaflet-groupedlayercontrol, vendored).

    base : list of (label, layer) radio choices; layer None = an empty layer ("no base map").
    groups : group label → list of layers (each labelled by its ``layer_name``).
    exclusive : group labels shown as radio buttons (one layer at a time).
    Labels are bilingual literals or (vi, en) pairs, shown in the page's language; escaped (the plugin inserts
    them as HTML).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_empty = L.layerGroup();
        var {{ this.get_name() }} = L.control.groupedLayers(
            { {% for label, layer in this.base -%}
                {{ label }}: {{ layer.get_name() if layer else this.get_name() ~ "_empty" }}{% if not loop.last %}, {% endif %}
              {%- endfor %} },
            { {% for group, layers in this.groups -%}
                {{ group }}: { {% for label, layer in layers -%}
                    {{ label }}: {{ layer.get_name() }}{% if not loop.last %}, {% endif %}
                  {%- endfor %} }{% if not loop.last %}, {% endif %}
              {%- endfor %} },
            {{ this.options_json }}
        ).addTo({{ this._parent.get_name() }});
        bgplan.layerControl({{ this._parent.get_name() }}, {{ this.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, base, groups: dict, exclusive=(), collapsed: bool = False):
        super().__init__()
        self._name = "GroupedLayers"
        self.base = [(_label(label), layer) for label, layer in base]
        self.groups = [(_label(g), [(_label(layer.layer_name), layer) for layer in layers])
                       for g, layers in groups.items() if layers]
        exclusive = [text_html(g) for g in exclusive]
        self.options_json = safe_json({"exclusiveGroups": exclusive, "collapsed": collapsed,
                                       "position": "topright", "groupCheckboxes": False})


def _label(text) -> str:
    return safe_json(text_html(text))


class BaseMap(Layer):
    """The light base map: layers drawn from the project's own data (water, main roads, place names) switched
    together as one base layer of the control; on when the page opens, so no page waits for tiles."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup([{% for l in this.layers %}{{ l.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}]);
        bgplan.layers["basemap"] = {{ this.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, layers, name, show: bool = True):
        super().__init__(name=name, overlay=False, control=False, show=show)
        self._name = "BaseMap"
        self.layers = list(layers)


#: Shown beside the attribution while the online base map is on: its tiles are the page's only third-party
#: requests (the light base map drawn from the project's own layers is the default, and needs none).
TILE_NOTICE = "nền tải từ bên thứ ba / base map from a third party: tile.openstreetmap.org"


class MapSetup(MacroElement):
    """Attribution (shown with or without tiles), full-screen button, ``window.bgMap``; a title box.

    ``bounds`` [[south, west], [north, east]]: initial view (the region), set without animation.
    ``title_html``: the title box (already escaped HTML).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        bgplan.setup({{ this._parent.get_name() }}, {{ this.attribution_json }}, {{ this.fullscreen_json }}, {{ this.bounds_json }},
                     {{ this.tile_notice_json }});
        {% if this.title_html %}bgplan.box({{ this._parent.get_name() }}, {{ this.title_html }}, "topleft", "bg-box");{% endif %}
        {% endmacro %}
    """)

    def __init__(self, attribution_html: str, title_html: str | None = None, bounds=None):
        super().__init__()
        self._name = "MapSetup"
        self.bounds_json = safe_json(bounds)
        self.attribution_json = safe_json(attribution_html)
        self.tile_notice_json = safe_json({"text": TILE_NOTICE, "html": text_html(TILE_NOTICE)})
        self.fullscreen_json = safe_json([tr("Toàn màn hình / full screen", "vi"), tr("Thoát toàn màn hình / exit full screen", "vi")])
        self.title_html = safe_json(title_html) if title_html else ""


class MapTools(MacroElement):
    """The page's tools: search box (``#map-search``), measure, print layout, language toggle, the far
    destinations as labelled arrows at the edge, and the legend panel (``#legend-panel``).

    ``options``: JSON-able settings read by ``bgplan.tools`` (texts already escaped HTML).
    ``legends``: :class:`maps.legend.Legend` sections, each bound to its layers.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        bgplan.legendPanel({{ this._parent.get_name() }}, [{% for lg in this.legends %}
            {html: {{ lg.html_json }}, layers: [{% for l in lg.layers %}{{ l.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}]}{% if not loop.last %},{% endif %}{% endfor %}
        ], {{ this.panel_json }});
        bgplan.tools({{ this._parent.get_name() }}, {{ this.options_json }});
        {% endmacro %}
    """)

    def __init__(self, options: dict, legends=(), panel: dict | None = None):
        super().__init__()
        self._name = "MapTools"
        self.options_json = safe_json(options)
        self.legends = list(legends)
        self.panel_json = safe_json(panel or {})


class SwitchWhenAdded(MacroElement):
    """When ``trigger`` is switched on, the ``off`` layers on the map are replaced by ``on``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        bgplan.switchWhenAdded({{ this._parent.get_name() }}, {{ this.trigger.get_name() }},
            [{% for l in this.off %}{{ l.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}],
            {{ this.on.get_name() if this.on else "null" }});
        {% endmacro %}
    """)

    def __init__(self, trigger, off, on=None):
        super().__init__()
        self._name = "SwitchWhenAdded"
        self.trigger = trigger
        self.off = list(off)
        self.on = on


class Ready(MacroElement):
    """Marks the end of the map script: ``window.bgReady`` = ms since navigation start."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        bgplan.ready({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "Ready"


def stable_ids(root) -> None:
    """Replace folium's random element ids by a counter, so the same input gives the same HTML."""
    counter = 0

    def walk(element):
        nonlocal counter
        for child in list(element._children.values()):
            counter += 1
            child._id = f"{counter:05d}"
            walk(child)

    root._id = "00000"
    walk(root)
