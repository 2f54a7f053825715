/* bgplan map helpers (MIT, this project): data layers, legends bound to layers, test hooks.
 *
 * Every text shown here arrives already escaped from Python (maps/popups.py);
 * this file only places it. Nothing is fetched from the network.
 */
(function () {
  'use strict';
  var bg = window.bgplan = window.bgplan || {};
  bg.layers = bg.layers || {};
  bg.texts = bg.texts || [];

  /* A GeoJSON layer whose style comes from spec.styles[feature.properties.k].
     Properties: k (style key), r (circle radius, px), t (tooltip HTML), p (popup HTML, or an index into bgplan.texts). */
  bg.dataLayer = function (data, spec) {
    var styles = spec.styles || {};
    function styleOf(feature) {
      return styles[feature.properties.k] || styles['*'] || {};
    }
    var layer = L.geoJSON(data, {
      style: styleOf,
      pointToLayer: function (feature, latlng) {
        var s = L.extend({}, styleOf(feature));
        if (feature.properties.r !== undefined && feature.properties.r !== null) { s.radius = feature.properties.r; }
        return L.circleMarker(latlng, s);
      },
      onEachFeature: function (feature, sub) {
        var p = feature.properties;
        if (p.t) {
          if (spec.labels) {
            sub.bindTooltip(p.t, {permanent: true, direction: 'center', className: 'bg-label', interactive: false});
          } else {
            sub.bindTooltip(p.t, {sticky: true, className: 'bg-tip'});
          }
        }
        // a number refers to a popup shared by several layers (bgplan.texts), stored once per page
        var pop = (typeof p.p === 'number') ? bg.texts[p.p] : p.p;
        if (pop) { sub.bindPopup(pop, {maxWidth: 380, maxHeight: 340, className: 'bg-popup'}); }
        if (spec.highlight && sub.setStyle) {
          // the weight of the feature's current style key (a page may restyle features, e.g. the scenario dual map)
          sub.on('mouseover', function () { sub.setStyle({weight: (styleOf(feature).weight || 1) + 2}); });
          sub.on('mouseout', function () { sub.setStyle({weight: styleOf(feature).weight || 1}); });
        }
      }
    });
    layer._bgZ = spec.z || 0;
    layer.on('add', function () { if (bg.loaded && layer._map) { bg.restack(layer._map); } });
    return layer;
  };

  /* One canvas draws in the order layers were added, and a layer switched on again lands on top.
     Restore the intended stacking (spec.z: areas low, lines, then points) after every change.
     The layers are taken from the map itself, so a page with several maps restacks each one. */
  bg.restack = function (map) {
    var on = [];
    map.eachLayer(function (l) { if (l._bgZ !== undefined && l.bringToFront) { on.push(l); } });
    on.sort(function (a, b) { return a._bgZ - b._bgZ; });
    on.forEach(function (l) { l.bringToFront(); });
  };

  /* A legend box shown only while one of its layers is on the map (always, when it has none). */
  bg.legend = function (map, html, layers, position) {
    var control = L.control({position: position || 'bottomright'});
    control.onAdd = function () {
      var div = L.DomUtil.create('div', 'bg-legend');
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(map);
    function sync() {
      var on = !layers.length || layers.some(function (l) { return map.hasLayer(l); });
      control.getContainer().style.display = on ? '' : 'none';
    }
    layers.forEach(function (l) { l.on('add remove', sync); });
    sync();
    return control;
  };

  /* A fixed box (title, notes) in a map corner. */
  bg.box = function (map, html, position, className) {
    var control = L.control({position: position || 'topleft'});
    control.onAdd = function () {
      var div = L.DomUtil.create('div', className || 'bg-box');
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    return control.addTo(map);
  };

  /* Attribution (visible with or without tiles), full screen button, handles for tests. */
  bg.setup = function (map, attribution, fullscreen, bounds) {
    if (bounds) { map.fitBounds(bounds, {animate: false, maxZoom: 13}); }
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution(attribution);
    // zoom and full screen on the right, under the layer button: the left column is for the title and panels
    if (map.zoomControl) { map.zoomControl.setPosition('topright'); }
    if (fullscreen && L.control.fullscreen) {
      L.control.fullscreen({position: 'topright', title: fullscreen[0], titleCancel: fullscreen[1]}).addTo(map);
    }
    window.bgMap = map;
  };

  /* When `trigger` is switched on, replace the layers of `off` that are on the map by `on`
     (e.g. the population grid, drawn below the vector canvas, needs unfilled districts to be seen). */
  bg.switchWhenAdded = function (map, trigger, off, on) {
    trigger.on('add', function () {
      var any = off.filter(function (l) { return map.hasLayer(l); });
      if (!any.length) { return; }
      any.forEach(function (l) { map.removeLayer(l); });
      if (on && !map.hasLayer(on)) { map.addLayer(on); }
    });
  };

  /* A map pane below the vector canvas (overlayPane, z-index 400) for non-interactive images. */
  bg.lowPane = function (map, name, zIndex) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = zIndex; }
    return name;
  };

  /* Permanent name labels must not cover one another: after every view or layer change, show them in the
     order they were added and hide a label whose box overlaps one already shown (it comes back on zoom). */
  bg.declutter = function (map) {
    var shown = [];
    var labels = map.getContainer().querySelectorAll('.leaflet-tooltip.bg-label');
    Array.prototype.forEach.call(labels, function (el) { el.style.visibility = ''; el.classList.remove('bg-hidden'); });
    Array.prototype.forEach.call(labels, function (el) {
      var r = el.getBoundingClientRect();
      if (!r.width && !r.height) { return; }
      var hit = shown.some(function (s) { return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom; });
      if (hit) { el.style.visibility = 'hidden'; el.classList.add('bg-hidden'); } else { shown.push(r); }
    });
  };
  function watchLabels(map) {
    var queued = false;
    function later() {
      if (queued) { return; }
      queued = true;
      setTimeout(function () { queued = false; bg.declutter(map); }, 0);
    }
    map.on('zoomend moveend layeradd layerremove resize', later);
    bg.declutter(map);
  }

  bg.ready = function (map) {
    watchLabels(map);
    bg.restack(map);
    bg.loaded = true;
    window.bgReady = (window.performance && performance.now) ? performance.now() : 0;
    map.fire('bgplan:ready');
  };
})();
