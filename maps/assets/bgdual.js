/* bgplan dual map (MIT, this project): a scenario before/after on two maps side by side.
 *
 * Pan and zoom of each map follow the other (no plugin); the mouse position
 * is echoed as a ring on the other map. The parks of both maps are coloured
 * by the target chosen in the page bar, on one colour scale with one legend.
 * Every text arrives already escaped from Python (maps/dualmap.py); this file
 * only places it. Needs bgplan.js (bgplan.dataLayer). Nothing is fetched.
 */
(function () {
  'use strict';
  var bg = window.bgplan = window.bgplan || {};
  bg.maps = bg.maps || {};

  /* Keep the layer registry of the map built so far as bgplan.maps[name], and start an empty one for the next map. */
  bg.dualStash = function (name, map) {
    bg.maps[name] = {map: map, layers: bg.layers};
    bg.layers = {};
    bg.loaded = false;
  };

  /* Each map follows the other's centre and zoom ('move' fires while dragging, during pan animations
     and at the end of a zoom). Leaflet pans by whole pixels, so the centres agree to within a pixel.
     The flag stops the echo of the follower's own 'move'. */
  bg.syncMaps = function (a, b) {
    var busy = false;
    function follow(src, dst) {
      return function () {
        if (busy) { return; }
        busy = true;
        try { dst.setView(src.getCenter(), src.getZoom(), {animate: false}); } finally { busy = false; }
      };
    }
    function echo(src, dst) {
      var ring = L.marker([0, 0], {icon: L.divIcon({className: 'bg-ghost', iconSize: [18, 18]}),
                                   interactive: false, keyboard: false});
      src.on('mousemove', function (e) { ring.setLatLng(e.latlng); if (!dst.hasLayer(ring)) { ring.addTo(dst); } });
      src.on('mouseout', function () { dst.removeLayer(ring); });
    }
    a.on('move', follow(a, b));
    b.on('move', follow(b, a));
    echo(a, b);
    echo(b, a);
    follow(a, b)();
  };

  /* The parks of the scenario on both maps, the target selector and the shared legend.
     data: {features: [{geometry, properties: {k: [[key before, key after] per target], t: [tooltip per target],
            p: popup index, r: radius}}], popups: [html], styles: {key: path options}, targets: [{legend: html}],
            initial: target index, z: stacking rank}
     spec: {select: id of the <select>, legend: id of the legend box}. */
  bg.scenarioDual = function (before, after, data, spec) {
    bg.maps.after = {map: after, layers: bg.layers};
    var base = bg.texts.length;
    bg.texts = bg.texts.concat(data.popups);
    var current = data.initial;

    function build(map, side) {
      var features = data.features.map(function (f) {
        var p = f.properties;
        return {type: 'Feature', geometry: f.geometry,
                properties: {k: p.k[current][side], t: p.t[current], p: base + p.p, r: p.r, ks: p.k, ts: p.t}};
      });
      var layer = bg.dataLayer({type: 'FeatureCollection', features: features},
                               {styles: data.styles, z: data.z, highlight: true});
      // mark the popup's rows when its content is set, before Leaflet measures it and pans the map to show it
      layer.eachLayer(function (sub) {
        var popup = sub.getPopup();
        if (popup) { popup.on('contentupdate', function () { mark(popup.getElement()); }); }
      });
      layer.addTo(map);
      return layer;
    }
    var layers = [build(before, 0), build(after, 1)];
    bg.maps.before.layers.scenario_before = layers[0];
    bg.maps.after.layers.scenario_after = layers[1];

    /* Highlight the selected target's row of the open popups and repeat it on top (tbody.bg-now), by copying nodes. */
    function mark(root) {
      Array.prototype.forEach.call(root.querySelectorAll('tr[data-t]'), function (tr) {
        tr.classList.toggle('bg-sel', tr.getAttribute('data-t') === String(current));
      });
      Array.prototype.forEach.call(root.querySelectorAll('tbody.bg-now'), function (now) {
        while (now.firstChild) { now.removeChild(now.firstChild); }
        var row = now.parentNode.querySelector('tr[data-t="' + current + '"]');
        if (row) {
          var copy = row.cloneNode(true);
          copy.removeAttribute('data-t');
          copy.className = 'bg-sel bg-now-row';
          now.appendChild(copy);
        }
      });
    }

    var select = document.getElementById(spec.select);
    var legend = document.getElementById(spec.legend);
    function choose(i) {
      i = Number(i);
      if (!data.targets[i]) { return; }
      current = i;
      layers.forEach(function (layer, side) {
        layer.eachLayer(function (sub) {
          var p = sub.feature.properties;
          p.k = p.ks[i][side];
          p.t = p.ts[i];
          sub.setStyle(data.styles[p.k] || data.styles.u);
          if (sub.getTooltip()) { sub.setTooltipContent(p.t); }
        });
      });
      if (legend) { legend.innerHTML = data.targets[i].legend; }
      if (select && select.value !== String(i)) { select.value = String(i); }
      layers.forEach(function (layer) {             // open popups: content set again, marked, laid out
        layer.eachLayer(function (sub) { if (sub.isPopupOpen && sub.isPopupOpen()) { sub.getPopup().update(); } });
      });
    }
    if (select) { select.addEventListener('change', function () { choose(select.value); }); }
    choose(current);

    bg.syncMaps(before, after);
    if (bg.lang && bg.lang() === 'en') { bg.setLang('en'); }     // the selector's names in the reader's language
    bg.dual = {choose: choose, current: function () { return current; }, layers: layers};
    window.bgDualReady = true;
  };
})();
