"""The drawing surface of one map: layers, control groups, legend sections and the base maps.

:func:`maps.layer.draw` draws every registered layer on a :class:`MapBuilder`;
the builder only keeps what was drawn — the layer control's groups (the light
base map's layers apart), the legend sections of :class:`maps.legend.LegendPanel`,
and ``registry`` (key → folium element, exposed as ``m.bgplan_layers``).
It holds no knowledge of any layer: a new layer is a registry entry, not a
builder method. A live editor can reuse it to draw its own layers on a map.
"""

from __future__ import annotations

import folium

from maps.elements import DataLayer, feature_collection
from maps.layer import EXCLUSIVE, G_TRANSPORT, MapContext


class MapBuilder:
    """Adds layers, legend sections and control groups to the folium map ``m``.

    shared : a :class:`maps.elements.SharedTexts` of the page (popups shown by several layers are stored once).
    """

    def __init__(self, m: folium.Map, context: MapContext, shared=None):
        self.m = m
        self.context = context
        self.shared = shared
        self.groups: dict[str, list] = {}
        self.base: list = []                   # layers of the light base map (switched together)
        self.legends: list = []
        self.legend_of: dict = {}              # legend section of each drawn entry (maps.layer.add_legend)
        self.registry: dict = {}
        self.explorer = None                   # the suitability explorer, when drawn (its sites join it)
        self.transport_group = context.map_config.get("transport_group") or G_TRANSPORT

    def add(self, group: str, layer, key: str, basemap: bool = False):
        """Add a folium layer under ``key``: to the base map's layers (``basemap``) or to ``group`` of the control."""
        layer.add_to(self.m)
        (self.base if basemap else self.groups.setdefault(group, [])).append(layer)
        self.registry[key] = layer
        return layer

    def layer(self, group, key, name, gdf, keys, styles, tooltips=None, popups_=None, radii=None,
              show=True, labels=False, highlight=True, z=5.0, names=None, basemap=False, search=True):
        """A :class:`maps.elements.DataLayer` of ``gdf`` (one style key, tooltip, popup, radius, search name per
        feature), added under ``key``; the control shows ``name`` with the feature count."""
        data = feature_collection(gdf.geometry.values, list(keys),
                                  None if tooltips is None else list(tooltips),
                                  None if popups_ is None else list(popups_),
                                  None if radii is None else list(radii),
                                  decimals=4 if basemap else 5,        # the base map to ~10 m, the planning layers to ~1 m
                                  names=None if names is None else list(names))
        label = name
        if not labels and not basemap:
            label = _with_count(name, len(data["features"]))
        layer = DataLayer(data, styles, label, key, show=show and not basemap, labels=labels, highlight=highlight, z=z,
                          base_label=basemap and labels, exclusive=group in EXCLUSIVE,
                          title=name if (names is not None or group in EXCLUSIVE) else None)
        return self.add(group, layer, key, basemap=basemap)

    def none_choice(self, group: str, key: str, show: bool):
        """The "none" choice of a radio group (an empty layer, not listed on its own)."""
        return self.add(group, folium.FeatureGroup(name="Không / none", show=show, control=False), key)


def _with_count(name, count: int):
    """"title (n)" — a bilingual literal or a (vi, en) pair."""
    if isinstance(name, tuple):
        return tuple(f"{n} ({count})" for n in name)
    from maps.lang import split

    pair = split(name)
    return (f"{pair[0]} ({count})", f"{pair[1]} ({count})") if pair else f"{name} ({count})"
