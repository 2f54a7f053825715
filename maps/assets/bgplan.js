/* bgplan map helpers (MIT, this project): data layers, the legend panel, search, measure, print, language, test hooks.
 *
 * Every text from data arrives already escaped from Python (maps/popups.py, maps/lang.py); this file only places
 * it, or writes its own texts with textContent. Nothing is fetched from the network. Texts come in both languages
 * (<span class="bg-vi">, <span class="bg-en">); bgplan.css shows the page's language (html.bg-lang-en).
 */
(function () {
  'use strict';
  var bg = window.bgplan = window.bgplan || {};
  bg.layers = bg.layers || {};
  bg.texts = bg.texts || [];
  bg.searchProviders = bg.searchProviders || [];

  /* ------------------------------------------------------------------ two languages */

  var LANG_KEY = 'bgplan-lang';
  bg.lang = function () { return document.documentElement.classList.contains('bg-lang-en') ? 'en' : 'vi'; };
  bg.setLang = function (lang) {
    var root = document.documentElement;
    root.classList.toggle('bg-lang-en', lang === 'en');
    root.lang = lang === 'en' ? 'en' : 'vi';
    try { window.localStorage.setItem(LANG_KEY, lang); } catch (e) { /* file:// without storage: the toggle still works */ }
    document.querySelectorAll('[data-vi][data-en]').forEach(function (el) {
      var text = el.getAttribute('data-' + bg.lang());
      if (el.tagName === 'OPTGROUP') { el.label = text; } else if (el.tagName === 'INPUT') { el.placeholder = text; }
      else { el.textContent = text; }
    });
    if (window.bgMap) { window.bgMap.fire('bgplan:lang', {lang: lang}); }
    if (bg.maps) { Object.keys(bg.maps).forEach(function (k) { if (bg.maps[k].map !== window.bgMap) { bg.maps[k].map.fire('bgplan:lang'); } }); }
  };
  (function initLang() {
    var saved = null;
    try { saved = window.localStorage.getItem(LANG_KEY); } catch (e) { saved = null; }
    if (saved === 'en') { document.documentElement.classList.add('bg-lang-en'); document.documentElement.lang = 'en'; }
  })();

  /* An element with a text in both languages (our own UI texts). */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function bi(tag, cls, vi, en) {
    var e = el(tag, cls);
    e.appendChild(el('span', 'bg-vi', vi));
    e.appendChild(el('span', 'bg-en', en));
    return e;
  }
  bg.el = el;
  bg.bi = bi;

  /* Numbers in the format of each language (the same as maps/style.py). */
  bg.num = function (v, digits, lang) {
    if (v === null || v === undefined || v !== v) { return lang === 'en' ? 'unknown' : 'không rõ'; }
    return Number(v).toLocaleString(lang === 'en' ? 'en-GB' : 'vi-VN',
                                    {minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0});
  };
  /* A number with a unit, as two spans: numText(1234.5, 1, ['phút', 'min']) */
  bg.numSpan = function (v, digits, unit) {
    var f = document.createDocumentFragment();
    ['vi', 'en'].forEach(function (lang, i) {
      var u = unit ? (typeof unit === 'string' ? unit : unit[i]) : '';
      f.appendChild(el('span', 'bg-' + lang, bg.num(v, digits, lang) + (u && v === v && v !== null ? ' ' + u : '')));
    });
    return f;
  };

  /* ------------------------------------------------------------------ data layers */

  /* A GeoJSON layer whose style comes from spec.styles[feature.properties.k].
     Properties: k (style key), r (circle radius, px), t (tooltip HTML), p (popup HTML, or an index into bgplan.texts),
     n (the name the search box finds it by). */
  bg.dataLayer = function (data, spec) {
    var styles = spec.styles || {};
    var layer;
    function styleOf(feature) {
      var s = styles[feature.properties.k] || styles['*'] || {};
      var f = layer ? layer._bgOpacity : 1;
      if (f === undefined || f === 1) { return s; }
      var out = L.extend({}, s);
      out.opacity = (s.opacity === undefined ? 1 : s.opacity) * f;
      out.fillOpacity = (s.fillOpacity === undefined ? 0.2 : s.fillOpacity) * f;
      return out;
    }
    layer = L.geoJSON(data, {
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
            sub.bindTooltip(p.t, {permanent: true, direction: 'center', className: spec.labelClass || 'bg-label',
                                  interactive: false});
          } else {
            sub.bindTooltip(p.t, {sticky: true, className: 'bg-tip'});
          }
        }
        // a number refers to a popup shared by several layers (bgplan.texts), stored once per page
        var pop = (typeof p.p === 'number') ? bg.texts[p.p] : p.p;
        if (pop) { sub.bindPopup(pop, {maxWidth: 380, maxHeight: 340, className: 'bg-popup', autoPanPadding: [20, 20]}); }
        // an outline without fill (the province, district outlines) is hit on its line only, as it is drawn: a click
        // inside it reaches what lies below (a grid cell, the map); Leaflet's canvas would take the whole interior
        if (sub instanceof L.Polygon && styleOf(feature).fill === false) {
          sub._containsPoint = function (pt) { return L.Polyline.prototype._containsPoint.call(this, pt, true); };
        }
        if (spec.highlight && sub.setStyle) {
          // the weight of the feature's current style key (a page may restyle features, e.g. the scenario dual map)
          sub.on('mouseover', function () { sub.setStyle({weight: (styleOf(feature).weight || 1) + 2}); });
          sub.on('mouseout', function () { sub.setStyle({weight: styleOf(feature).weight || 1}); });
        }
      }
    });
    layer.bgData = data;
    layer._bgZ = spec.z || 0;
    layer._bgExclusive = !!spec.exclusive;
    layer._bgTitle = spec.title || '';
    layer._bgOpacity = 1;
    layer.setOpacityFactor = function (f) {
      layer._bgOpacity = f;
      layer.eachLayer(function (sub) {
        if (sub.setStyle && sub.feature) {
          var s = styleOf(sub.feature);
          sub.setStyle({opacity: s.opacity, fillOpacity: s.fillOpacity});
        }
        var tip = sub.getTooltip && sub.getTooltip();
        if (tip && tip.getElement && tip.getElement()) { tip.getElement().style.opacity = f; }
      });
    };
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

  /* A fixed box (title, notes) in a map corner; on phones it folds to its first line (tap to unfold). */
  bg.box = function (map, html, position, className) {
    var control = L.control({position: position || 'topleft'});
    control.onAdd = function () {
      var div = L.DomUtil.create('div', className || 'bg-box');
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      var h = div.querySelector('h1');
      if (h) { h.addEventListener('click', function () { div.classList.toggle('bg-open'); }); }
      return div;
    };
    return control.addTo(map);
  };

  /* Attribution (visible with or without tiles), zoom and full screen, handles for tests; the first view is the region. */
  bg.setup = function (map, attribution, fullscreen, bounds, tileNotice) {
    if (bounds) {
      map._bgHome = L.latLngBounds(bounds);
      map.fitBounds(bounds, {animate: false, maxZoom: 13, padding: [8, 8]});
    }
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution(attribution);
    if (tileNotice) {           // the online base map's notice, only while its tiles are on
      map.on('layeradd', function (e) { if (e.layer instanceof L.TileLayer) { map.attributionControl.addAttribution(tileNotice.html); } });
      map.on('layerremove', function (e) { if (e.layer instanceof L.TileLayer) { map.attributionControl.removeAttribution(tileNotice.html); } });
    }
    // zoom and full screen on the right, under the layer button: the left column is for the title and search
    if (map.zoomControl) { map.zoomControl.setPosition('topright'); }
    if (fullscreen && L.control.fullscreen) {
      L.control.fullscreen({position: 'topright', title: fullscreen[0], titleCancel: fullscreen[1]}).addTo(map);
    }
    window.bgMap = map;
    // on a narrow map the attribution runs the full width: the scale bar goes above it
    function lift() {
      var c = map.getContainer(), a = c.querySelector('.leaflet-control-attribution'), left = c.querySelector('.leaflet-bottom.leaflet-left');
      if (!a || !left) { return; }
      left.style.bottom = '';
      var ra = a.getBoundingClientRect(), rl = left.getBoundingClientRect();
      if (ra.left < rl.right && rl.bottom > ra.top) { left.style.bottom = (ra.height + 2) + 'px'; }
    }
    map.on('resize', lift);
    map.whenReady(function () { setTimeout(lift, 0); });
  };

  /* The layer control: a tap opens it on touch screens; it closes again when the map is tapped. */
  bg.layerControl = function (map, control) {
    map._bgLayerControl = control;
    var c = control.getContainer();
    c.setAttribute('title', 'Lớp bản đồ / layers');
    var link = c.querySelector('.leaflet-control-layers-toggle');
    if (link) { link.setAttribute('aria-label', 'Lớp bản đồ / layers'); }
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
     order they were added — the base map's place names last — and hide a label whose box overlaps one already
     shown (it comes back on zoom). */
  bg.declutter = function (map) {
    var shown = [];
    var all = Array.prototype.slice.call(map.getContainer().querySelectorAll('.leaflet-tooltip.bg-label'));
    all.forEach(function (e) { e.style.visibility = ''; e.classList.remove('bg-hidden'); });
    all.sort(function (a, b) { return a.classList.contains('bg-base-label') - b.classList.contains('bg-base-label'); });
    var box = map.getContainer().getBoundingClientRect();
    all.forEach(function (e) {
      var r = e.getBoundingClientRect();
      if (!r.width && !r.height) { return; }
      if (r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom) {   // cut by the edge
        e.style.visibility = 'hidden'; e.classList.add('bg-hidden'); return;
      }
      var hit = shown.some(function (s) { return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom; });
      if (hit) { e.style.visibility = 'hidden'; e.classList.add('bg-hidden'); } else { shown.push(r); }
    });
  };
  function watchLabels(map) {
    var queued = false;
    function later() {
      if (queued) { return; }
      queued = true;
      setTimeout(function () { queued = false; bg.declutter(map); }, 0);
    }
    map.on('zoomend moveend layeradd layerremove resize bgplan:lang', later);
    bg.declutter(map);
  }

  function narrow() { return window.innerWidth < 700 || window.innerHeight < 520; }
  bg.narrow = narrow;

  /* ------------------------------------------------------------------ the legend panel */

  /* One panel (#legend-panel) for the page: a section per legend, shown while one of its layers is on the map
     (any map of the page), each with an opacity slider for its layers; folded on phones when the page opens. */
  bg.legendPanel = function (map, sections, panel) {
    panel = panel || {};
    var control = L.control({position: 'bottomright'});
    var box = el('div', 'bg-legend-panel');
    box.id = 'legend-panel';
    var head = el('button', 'bg-lp-head');
    head.type = 'button';
    head.setAttribute('aria-expanded', 'true');
    head.appendChild(bi('span', 'bg-lp-title', 'Chú giải', 'Legend'));
    head.appendChild(el('span', 'bg-lp-arrow', '▾'));
    var body = el('div', 'bg-lp-body');
    var empty = bi('div', 'bg-lp-empty', 'Không có lớp nào đang bật', 'No layer is on');
    body.appendChild(empty);
    box.appendChild(head);
    box.appendChild(body);
    var made = sections.map(function (s, i) {
      var sec = el('section', 'bg-lg-section');
      sec.innerHTML = s.html;
      if (i === 0 && panel.dual) {             // the scenario page: the parks' shared scale, set by bgdual.js
        var holder = el('div', 'bg-dual-legend');
        holder.id = panel.dual;
        sec.appendChild(holder);
      }
      var fadable = s.layers.filter(function (l) { return l.setOpacityFactor || l.setOpacity; });
      if (fadable.length) {
        var row = el('label', 'bg-opacity');
        row.appendChild(bi('span', null, 'Độ đậm', 'Opacity'));
        var input = el('input');
        input.type = 'range'; input.min = '0.1'; input.max = '1'; input.step = '0.05'; input.value = '1';
        input.setAttribute('aria-label', 'opacity');
        input.addEventListener('input', function () {
          var f = +input.value;
          fadable.forEach(function (l) {
            if (l.setOpacityFactor) { l.setOpacityFactor(f); }
            else { if (l._bgBaseOpacity === undefined) { l._bgBaseOpacity = l.options.opacity; } l.setOpacity(l._bgBaseOpacity * f); }
          });
        });
        row.appendChild(input);
        sec.appendChild(row);
      }
      // a section shared by a radio group (one layer at a time: access per target, isochrones per origin) names the
      // layer shown under its title
      var now = null;
      if (s.layers.length > 1 && s.layers.every(function (l) { return l._bgExclusive && l._bgTitle; })) {
        now = el('div', 'bg-lg-now');
        var title = sec.querySelector('.bg-lg-title');
        sec.insertBefore(now, title ? title.nextSibling : sec.firstChild);
      }
      body.appendChild(sec);
      return {el: sec, layers: s.layers, now: now};
    });
    function sync() {
      var any = false;
      made.forEach(function (m) {
        var on = !m.layers.length || m.layers.some(function (l) { return !!l._map; });
        m.el.hidden = !on;
        any = any || on;
        if (m.now) {
          var shown = m.layers.filter(function (l) { return !!l._map; })[0];
          m.now.innerHTML = shown ? shown._bgTitle : '';
        }
      });
      empty.hidden = any;
      fit();
    }
    /* the panel never reaches the controls of the top right corner, nor hides the attribution below it */
    function fit() {
      var c = map.getContainer(), top = c.querySelector('.leaflet-top.leaflet-right'), rect = c.getBoundingClientRect();
      var used = 0;
      if (top) { Array.prototype.forEach.call(top.children, function (k) { if (k.offsetParent) { used = Math.max(used, k.getBoundingClientRect().bottom - rect.top); } }); }
      var attribution = c.querySelector('.leaflet-control-attribution');
      var below = attribution ? attribution.getBoundingClientRect().height + 12 : 24;
      box.style.maxHeight = Math.max(44, rect.height - used - below - 10) + 'px';
    }
    map.on('resize', fit);
    function setOpen(open) {
      box.classList.toggle('bg-closed', !open);
      head.setAttribute('aria-expanded', open ? 'true' : 'false');
    }
    head.addEventListener('click', function () { setOpen(box.classList.contains('bg-closed')); });
    control.onAdd = function () {
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    made.forEach(function (m) { m.layers.forEach(function (l) { l.on('add remove', function () { setTimeout(sync, 0); }); }); });
    setOpen(!narrow());
    sync();
    setTimeout(fit, 0);
    bg.legend = {control: control, sync: sync, open: setOpen, element: box};
    return control;
  };

  /* ------------------------------------------------------------------ tools */

  var ICONS = {
    measure: '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path d="M3 17 17 3l4 4L7 21z" fill="none" stroke="#333" stroke-width="1.8"/><path d="M7 13l2 2M10 10l2 2M13 7l2 2" stroke="#333" stroke-width="1.6"/></svg>',
    print: '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path d="M6 9V3h12v6M6 18H4v-7h16v7h-2M7 14h10v7H7z" fill="none" stroke="#333" stroke-width="1.8"/></svg>',
    north: '<svg viewBox="0 0 40 56" width="30" height="42" aria-hidden="true"><polygon points="20,4 32,44 20,36 8,44" fill="#222"/><polygon points="20,4 20,36 8,44" fill="#fff" stroke="#222" stroke-width="1.5"/><text x="20" y="55" text-anchor="middle" font-size="13" font-family="sans-serif" font-weight="700">N</text></svg>'
  };

  /* The toolbar (language, measure, print), the search box and the far destinations. */
  bg.tools = function (map, options) {
    options = options || {};
    var bar = L.control({position: 'topright'});
    var box = el('div', 'bg-toolbar leaflet-bar');
    var langBtn = el('button', 'bg-tool bg-lang-toggle');
    langBtn.type = 'button';
    langBtn.appendChild(el('span', 'bg-vi', 'EN'));
    langBtn.appendChild(el('span', 'bg-en', 'VI'));
    langBtn.title = 'Tiếng Việt / English';
    langBtn.setAttribute('aria-label', 'Tiếng Việt / English');
    langBtn.addEventListener('click', function () { bg.setLang(bg.lang() === 'en' ? 'vi' : 'en'); });
    box.appendChild(langBtn);
    if (options.measure) { box.appendChild(toolButton('bg-measure-btn', ICONS.measure, 'Đo khoảng cách, diện tích / measure distance, area', function () { bg.measure.toggle(); })); }
    if (options.print) { box.appendChild(toolButton('bg-print-btn', ICONS.print, 'Bố cục in, PDF, PNG / print layout, PDF, PNG', function () { bg.print.open(); })); }
    bar.onAdd = function () { L.DomEvent.disableClickPropagation(box); return box; };
    bar.addTo(map);
    if (options.search) { search(map); }
    if (options.measure) { bg.measure = measure(map); }
    if (options.print) { bg.print = printLayout(map, options.print); }
    if (options.far) { farArrows(map, options.far); }
    map.on('bgplan:lang', function () {
      map.eachLayer(function (l) { if (l.isPopupOpen && l.isPopupOpen()) { l.getPopup().update(); } });
      if (map._popup && map._popup.isOpen && map._popup.isOpen()) { map._popup.update(); }
    });
  };

  function toolButton(cls, icon, title, onClick) {
    var b = el('button', 'bg-tool ' + cls);
    b.type = 'button';
    b.innerHTML = icon;
    b.title = title;
    b.setAttribute('aria-label', title);
    b.addEventListener('click', onClick);
    return b;
  }

  /* ------------------------------------------------------------------ search */

  function fold(s) {
    return String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
  }
  bg.fold = fold;

  /* Every searchable feature of the page's layers: {name, folded, layer, sub, key}. */
  function index() {
    var items = [];
    Object.keys(bg.layers).forEach(function (key, order) {
      var layer = bg.layers[key];
      if (!layer || !layer.eachLayer) { return; }
      layer.eachLayer(function (sub) {
        var n = sub.feature && sub.feature.properties.n;
        if (n) { items.push({name: n, folded: fold(n), layer: layer, sub: sub, key: key, order: order}); }
      });
    });
    bg.searchProviders.forEach(function (fn) { fn().forEach(function (it) { it.folded = fold(it.name); items.push(it); }); });
    return items;
  }

  /* Items matching the query, best first: the whole name, then a whole word, then the start of a word, then anywhere. */
  bg.find = function (query, items) {
    var q = fold(query).trim();
    if (!q) { return []; }
    var words = q.split(/\s+/);
    var out = [];
    (items || index()).forEach(function (it) {
      if (!words.every(function (w) { return it.folded.indexOf(w) >= 0; })) { return; }
      var tokens = it.folded.split(/[^a-z0-9#]+/);
      var rank = it.folded === q ? 0 : words.every(function (w) { return tokens.indexOf(w) >= 0; }) ? 1 :
        words.every(function (w) { return tokens.some(function (t) { return t.indexOf(w) === 0; }); }) ? 2 : 3;
      out.push({item: it, rank: rank});
    });
    out.sort(function (a, b) {
      return (a.rank - b.rank) || ((a.item.priority || 5) - (b.item.priority || 5)) ||
        (a.item.name.length - b.item.name.length) || (a.item.order - b.item.order);
    });
    var seen = {};
    return out.map(function (o) { return o.item; }).filter(function (it) {
      var ll = it.sub && it.sub.getLatLng ? it.sub.getLatLng() : null;
      var id = it.folded + (ll ? ll.lat.toFixed(4) + ',' + ll.lng.toFixed(4) : it.key);
      if (seen[id]) { return false; }
      seen[id] = true;
      return true;
    });
  };

  /* Show a found feature: its layer switched on (unless it belongs to a radio group), the map on it, its popup open. */
  bg.openFound = function (map, it) {
    if (it.open) { return it.open(); }
    var sub = it.sub, standalone = false;
    if (it.layer && !map.hasLayer(it.layer)) {
      if (it.layer._bgExclusive) { standalone = true; } else { map.addLayer(it.layer); }   // a radio group stays as chosen
    }
    var where = sub.getLatLng ? sub.getLatLng() : sub.getBounds().getCenter();
    if (sub.getLatLng) { map.setView(where, Math.max(map.getZoom(), 12), {animate: false}); }
    else { map.fitBounds(sub.getBounds(), {maxZoom: 12, animate: false}); }
    if (standalone && sub.getPopup && sub.getPopup()) {
      L.popup({className: 'bg-popup', maxWidth: 380, maxHeight: 340}).setLatLng(where).setContent(sub.getPopup().getContent()).openOn(map);
    } else if (sub.getPopup && sub.getPopup()) { sub.openPopup(where); }
    else if (sub.getTooltip && sub.getTooltip()) {
      L.popup({className: 'bg-popup'}).setLatLng(where).setContent('<div class="bg-pop"><h4>' + sub.getTooltip().getContent() + '</h4></div>').openOn(map);
    }
  };

  function search(map) {
    var control = L.control({position: 'topleft'});
    var box = el('div', 'bg-search');
    var input = el('input');
    input.id = 'map-search';
    input.type = 'search';
    input.autocomplete = 'off';
    input.setAttribute('data-vi', 'Tìm khu, xã, địa danh, ga, địa điểm…');
    input.setAttribute('data-en', 'Find a park, commune, place, station, site…');
    input.placeholder = input.getAttribute('data-' + bg.lang());
    input.setAttribute('aria-label', 'Tìm kiếm / search');
    var list = el('ul', 'bg-search-results');
    list.setAttribute('role', 'listbox');
    box.appendChild(input);
    box.appendChild(list);
    var items = null, found = [];
    function show() {
      items = items || index();
      found = bg.find(input.value, items).slice(0, 8);
      list.textContent = '';
      found.forEach(function (it) {
        var li = el('li', null);
        li.setAttribute('role', 'option');
        li.innerHTML = '';
        li.appendChild(el('span', 'bg-sr-name', it.name));
        if (it.layer && it.layer._bgTitle) { var k = el('span', 'bg-sr-kind'); k.innerHTML = it.layer._bgTitle; li.appendChild(k); }
        li.addEventListener('click', function () { choose(it); });
        list.appendChild(li);
      });
      if (input.value.trim() && !found.length) { list.appendChild(bi('li', 'bg-sr-none', 'Không tìm thấy', 'Nothing found')); }
    }
    function choose(it) {
      list.textContent = '';
      input.blur();
      bg.openFound(map, it);
    }
    input.addEventListener('input', show);
    input.addEventListener('focus', function () { items = null; });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') {
        e.preventDefault();
        items = items || index();
        var hits = bg.find(input.value, items);
        if (hits.length) { choose(hits[0]); }
      } else if (e.key === 'Escape') { list.textContent = ''; input.value = ''; }
    });
    control.onAdd = function () {
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    var title = map.getContainer().querySelector('.leaflet-top.leaflet-left .bg-box');
    if (title && title.parentNode === box.parentNode) { title.parentNode.insertBefore(box, title.nextSibling); }
    bg.search = {input: input, find: function (q) { return bg.find(q, index()); }};
  }

  /* ------------------------------------------------------------------ measure: distance and area */

  var R = 6378137;
  /* Area of a polygon on the sphere (m²), as Leaflet.draw's geodesicArea. */
  bg.geodesicArea = function (latlngs) {
    var area = 0, n = latlngs.length, rad = Math.PI / 180;
    if (n < 3) { return 0; }
    for (var i = 0; i < n; i++) {
      var p1 = latlngs[i], p2 = latlngs[(i + 1) % n];
      area += ((p2.lng - p1.lng) * rad) * (2 + Math.sin(p1.lat * rad) + Math.sin(p2.lat * rad));
    }
    return Math.abs(area * R * R / 2);
  };

  function measure(map) {
    var panel = L.control({position: 'topright'});
    var box = el('div', 'bg-measure');
    box.hidden = true;
    var modes = el('div', 'bg-m-modes');
    var distBtn = bi('button', 'bg-m-dist bg-on', 'Khoảng cách', 'Distance');
    var areaBtn = bi('button', 'bg-m-area', 'Diện tích', 'Area');
    distBtn.type = areaBtn.type = 'button';
    modes.appendChild(distBtn);
    modes.appendChild(areaBtn);
    var out = el('div', 'bg-m-result');
    out.id = 'measure-result';
    var help = bi('div', 'bg-m-help', 'Bấm lên bản đồ để thêm điểm; bấm đúp hoặc "Xong" để kết thúc',
                  'Click the map to add points; double-click or "Done" to finish');
    var actions = el('div', 'bg-m-actions');
    var done = bi('button', 'bg-m-done', 'Xong', 'Done');
    var clear = bi('button', 'bg-m-clear', 'Xoá', 'Clear');
    var close = bi('button', 'bg-m-close', 'Đóng', 'Close');
    done.type = clear.type = close.type = 'button';
    [done, clear, close].forEach(function (b) { actions.appendChild(b); });
    [modes, out, help, actions].forEach(function (c) { box.appendChild(c); });
    panel.onAdd = function () { L.DomEvent.disableClickPropagation(box); return box; };
    panel.addTo(map);
    var state = {on: false, mode: 'distance', points: [], finished: false};
    var group = L.layerGroup().addTo(map), line = null;
    function draw() {
      group.clearLayers();
      var pts = state.points;
      if (!pts.length) { out.textContent = ''; return; }
      var style = {color: '#d7191c', weight: 3, dashArray: state.finished ? null : '6 4', fill: state.mode === 'area',
                   fillOpacity: 0.15, interactive: false};
      line = (state.mode === 'area' && pts.length > 2 ? L.polygon(pts, style) : L.polyline(pts, style)).addTo(group);
      pts.forEach(function (p) { L.circleMarker(p, {radius: 4, color: '#d7191c', fillColor: '#fff', fillOpacity: 1, weight: 2, interactive: false}).addTo(group); });
      result();
    }
    function result() {
      var pts = state.points, d = 0;
      for (var i = 1; i < pts.length; i++) { d += map.distance(pts[i - 1], pts[i]); }
      out.textContent = '';
      if (state.mode === 'area') {
        var a = bg.geodesicArea(pts);
        state.area_m2 = a;
        out.appendChild(bi('span', 'bg-m-label', 'Diện tích: ', 'Area: '));
        out.appendChild(bg.numSpan(a / 1e4, a < 1e6 ? 1 : 0, 'ha'));
        out.appendChild(el('span', null, ' ('));
        out.appendChild(bg.numSpan(a / 1e6, 2, 'km²'));
        out.appendChild(el('span', null, '); '));
        d += pts.length > 2 ? map.distance(pts[pts.length - 1], pts[0]) : 0;
        out.appendChild(bi('span', 'bg-m-label', 'chu vi ', 'perimeter '));
      } else {
        out.appendChild(bi('span', 'bg-m-label', 'Khoảng cách: ', 'Distance: '));
      }
      state.distance_m = d;
      out.appendChild(d < 1000 ? bg.numSpan(d, 0, 'm') : bg.numSpan(d / 1000, 2, 'km'));
    }
    function setMode(mode) {
      state.mode = mode;
      distBtn.classList.toggle('bg-on', mode === 'distance');
      areaBtn.classList.toggle('bg-on', mode === 'area');
      draw();
    }
    function onClick(e) {
      if (!state.on) { return; }
      if (state.finished) { state.points = []; state.finished = false; }
      state.points.push(e.latlng);
      draw();
    }
    function finish() { state.finished = true; draw(); }
    function refit() { if (bg.legend) { bg.legend.sync(); } }      // the legend panel makes room for this box
    function start(mode) {
      state.on = true;
      box.hidden = false;
      setTimeout(refit, 0);
      map.getContainer().classList.add('bg-measuring');
      map.closePopup();
      map.doubleClickZoom.disable();
      if (mode) { setMode(mode); }
    }
    function stop() {
      state.on = false;
      box.hidden = true;
      setTimeout(refit, 0);
      state.points = [];
      state.finished = false;
      group.clearLayers();
      map.getContainer().classList.remove('bg-measuring');
      map.doubleClickZoom.enable();
    }
    map.on('click', onClick);
    map.on('dblclick', function () { if (state.on) { finish(); } });
    map.on('popupopen', function (e) { if (state.on) { map.closePopup(e.popup); } });
    distBtn.addEventListener('click', function () { setMode('distance'); });
    areaBtn.addEventListener('click', function () { setMode('area'); });
    done.addEventListener('click', finish);
    clear.addEventListener('click', function () { state.points = []; state.finished = false; draw(); });
    close.addEventListener('click', stop);
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && state.on) { stop(); } });
    return {start: start, stop: stop, toggle: function () { if (state.on) { stop(); } else { start(); } },
            add: function (latlng) { onClick({latlng: L.latLng(latlng)}); }, finish: finish, state: state, setMode: setMode};
  }

  /* ------------------------------------------------------------------ far destinations: labelled arrows at the edge */

  /* Destinations outside the view are shown as an arrow at the map's edge pointing at them, with their name and
     distance; a click takes the map there. The first view fits the region, not the far ports and borders. */
  function farArrows(map, key) {
    var layer = bg.layers[key];
    if (!layer || !layer.eachLayer) { return; }
    var holder = el('div', 'bg-far');
    map.getContainer().appendChild(holder);
    var targets = [];
    layer.eachLayer(function (sub) {
      if (sub.getLatLng) { targets.push({at: sub.getLatLng(), html: sub.getTooltip() ? sub.getTooltip().getContent() : '', sub: sub}); }
    });
    function update() {
      holder.textContent = '';
      if (!map.hasLayer(layer)) { return; }
      var size = map.getSize(), c = size.divideBy(2), inset = 26;
      var bounds = map.getBounds().pad(-0.06), centre = map.getCenter();
      targets.forEach(function (t) {
        var tip = t.sub.getTooltip && t.sub.getTooltip(), label = tip && tip.getElement && tip.getElement();
        if (label) { label.classList.toggle('bg-far-hidden', !bounds.contains(t.at)); }
        if (bounds.contains(t.at)) { return; }
        var p = map.latLngToContainerPoint(t.at), dx = p.x - c.x, dy = p.y - c.y;
        var sx = dx ? (c.x - inset) / Math.abs(dx) : Infinity, sy = dy ? (c.y - inset * 2.4) / Math.abs(dy) : Infinity;
        var s = Math.min(sx, sy), x = c.x + dx * s, y = c.y + dy * s;
        var angle = Math.atan2(dy, dx) * 180 / Math.PI;
        var a = el('button', 'bg-far-arrow');
        a.type = 'button';
        a.style.left = x + 'px';
        a.style.top = y + 'px';
        var arrow = el('span', 'bg-far-head', '➤');
        arrow.style.transform = 'rotate(' + angle.toFixed(0) + 'deg)';
        var label = el('span', 'bg-far-label');
        label.innerHTML = t.html;
        label.appendChild(document.createTextNode(' '));
        label.appendChild(bg.numSpan(map.distance(centre, t.at) / 1000, 0, 'km'));
        a.appendChild(arrow);
        a.appendChild(label);
        a.classList.add(x > c.x ? 'bg-far-right' : 'bg-far-left');
        if (y > c.y + c.y * 0.6) { a.classList.add('bg-far-bottom'); }
        a.addEventListener('click', function (e) {
          L.DomEvent.stop(e);
          map.fitBounds(map.getBounds().extend(t.at), {maxZoom: 13, animate: false});
        });
        L.DomEvent.disableClickPropagation(a);
        holder.appendChild(a);
      });
      bg.farCount = holder.children.length;
    }
    map.on('moveend zoomend resize layeradd layerremove', update);
    update();
  }

  /* ------------------------------------------------------------------ print layout: A4/A3, landscape/portrait, PDF, PNG */

  var PAPER_MM = {A4: [297, 210], A3: [420, 297]};       // landscape width, height

  function printLayout(map, spec) {
    var root = el('div', 'bg-print');
    root.id = 'print-layout';
    root.hidden = true;
    var controls = el('div', 'bg-print-bar');
    function select(cls, options) {
      var s = el('select', cls);
      options.forEach(function (o) { var opt = el('option', null, o[1]); opt.value = o[0]; s.appendChild(opt); });
      return s;
    }
    var paper = select('bg-print-paper', [['A4', 'A4'], ['A3', 'A3']]);
    var orient = select('bg-print-orient', [['landscape', 'ngang / landscape'], ['portrait', 'dọc / portrait']]);
    var pdf = bi('button', 'bg-print-pdf', 'In / PDF', 'Print / PDF');
    var png = bi('button', 'bg-print-png', 'Lưu PNG', 'Save PNG');
    var close = bi('button', 'bg-print-close', 'Đóng', 'Close');
    pdf.type = png.type = close.type = 'button';
    var status = el('span', 'bg-print-status');
    [bi('span', null, 'Khổ giấy ', 'Paper '), paper, orient, pdf, png, close, status].forEach(function (c) { controls.appendChild(c); });
    var stage = el('div', 'bg-print-stage');
    var sheet = el('div', 'bg-sheet');
    var title = el('header', 'bg-sheet-title');
    var h = el('h1');
    h.innerHTML = spec.title || '';
    h.contentEditable = 'true';
    title.appendChild(h);
    var body = el('div', 'bg-sheet-body');
    var mapBox = el('div', 'bg-sheet-map');
    var side = el('aside', 'bg-sheet-side');
    body.appendChild(mapBox);
    body.appendChild(side);
    var foot = el('footer', 'bg-sheet-foot');
    sheet.appendChild(title);
    sheet.appendChild(body);
    sheet.appendChild(foot);
    stage.appendChild(sheet);
    root.appendChild(controls);
    root.appendChild(stage);
    document.body.appendChild(root);
    var pageStyle = el('style');
    document.head.appendChild(pageStyle);
    var home = null, view = null;

    function sizePx() {
      var mm = PAPER_MM[paper.value], land = orient.value === 'landscape';
      var w = land ? mm[0] : mm[1], hgt = land ? mm[1] : mm[0];
      return {w: Math.round(w * 96 / 25.4), h: Math.round(hgt * 96 / 25.4), wmm: w, hmm: hgt};
    }
    function fill() {
      side.textContent = '';
      var lg = el('div', 'bg-sheet-legend');
      lg.appendChild(bi('h2', null, 'Chú giải', 'Legend'));
      var sections = document.querySelectorAll('#legend-panel .bg-lg-section');
      var n = 0;
      sections.forEach(function (s) {
        if (s.hidden) { return; }
        var copy = s.cloneNode(true);
        copy.removeAttribute('id');
        copy.querySelectorAll('.bg-opacity, [id]').forEach(function (x) { if (x.classList.contains('bg-opacity')) { x.remove(); } else { x.removeAttribute('id'); } });
        lg.appendChild(copy);
        n++;
      });
      if (!n) { lg.appendChild(el('div', null, '—')); }
      side.appendChild(lg);
      var north = el('div', 'bg-sheet-north');
      north.innerHTML = ICONS.north;
      side.appendChild(north);
      foot.textContent = '';
      var today = new Date().toISOString().slice(0, 10);
      var date = el('div', 'bg-sheet-date');
      date.appendChild(bi('span', null, 'Ngày in: ', 'Printed: '));
      date.appendChild(el('span', null, today + ' · '));
      date.appendChild(bi('span', null, 'dữ liệu tạo ngày: ', 'data generated: '));
      date.appendChild(el('span', null, spec.generated || ''));
      foot.appendChild(date);
      var src = el('div', 'bg-sheet-sources');
      src.appendChild(bi('b', null, 'Nguồn và giấy phép: ', 'Sources and licences: '));
      var list = el('span');
      list.innerHTML = (spec.sources || []).join(' · ');
      src.appendChild(list);
      foot.appendChild(src);
    }
    function layout() {
      var s = sizePx();
      sheet.style.width = s.w + 'px';
      sheet.style.height = s.h + 'px';
      sheet.classList.toggle('bg-portrait', orient.value === 'portrait');
      var availW = window.innerWidth - 16, availH = window.innerHeight - controls.offsetHeight - 16;
      var k = Math.min(1, availW / s.w, availH / s.h);
      sheet.style.transform = 'scale(' + k + ')';
      stage.style.width = (s.w * k) + 'px';
      stage.style.height = (s.h * k) + 'px';
      pageStyle.textContent = '@page { size: ' + paper.value + ' ' + orient.value + '; margin: 0; } ' +
        '@media print { .bg-sheet { width: ' + s.wmm + 'mm !important; height: ' + s.hmm + 'mm !important; } }';
      map.invalidateSize({animate: false});
      if (view) { map.fitBounds(view, {animate: false}); }
      bg.print.scale = k;
    }
    function open() {
      if (!root.hidden) { return; }
      view = map.getBounds();
      var c = map.getContainer();
      home = {parent: c.parentNode, next: c.nextSibling};
      root.hidden = false;
      document.documentElement.classList.add('bg-printing');
      mapBox.appendChild(c);
      fill();
      layout();
      status.textContent = '';
      map.fire('bgplan:print', {open: true});
    }
    function shut() {
      if (root.hidden) { return; }
      var c = map.getContainer();
      home.parent.insertBefore(c, home.next);
      root.hidden = true;
      document.documentElement.classList.remove('bg-printing');
      map.invalidateSize({animate: false});
      if (view) { map.fitBounds(view, {animate: false}); }
      map.fire('bgplan:print', {open: false});
    }
    function toPng() {
      if (!window.htmlToImage) { return Promise.reject(new Error('html-to-image is not loaded')); }
      var s = sizePx();
      status.textContent = '…';
      return window.htmlToImage.toPng(sheet, {width: s.w, height: s.h, pixelRatio: 2, skipFonts: true, cacheBust: false,
                                              style: {transform: 'none'}}).then(function (url) {
        bg.print.lastPng = url;
        var a = el('a');
        a.href = url;
        a.download = 'bgplan-' + new Date().toISOString().slice(0, 10) + '-' + paper.value + '-' + orient.value + '.png';
        document.body.appendChild(a);
        if (!bg.print.noDownload) { a.click(); }
        a.remove();
        status.textContent = '';
        return url;
      }).catch(function (e) {
        status.textContent = (bg.lang() === 'en' ? 'PNG failed (online base map tiles cannot be copied): ' :
                              'Không lưu được PNG (nền trực tuyến không sao chép được): ') + e;
        throw e;
      });
    }
    paper.addEventListener('change', layout);
    orient.addEventListener('change', layout);
    pdf.addEventListener('click', function () { window.print(); });
    png.addEventListener('click', function () { toPng().catch(function () {}); });
    close.addEventListener('click', shut);
    window.addEventListener('resize', function () { if (!root.hidden) { layout(); } });
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && !root.hidden) { shut(); } });
    return {open: function (paperSize, orientation) {
              if (paperSize) { paper.value = paperSize; }
              if (orientation) { orient.value = orientation; }
              open();
              if (paperSize || orientation) { layout(); }
            }, close: shut, png: toPng, element: root, sheet: sheet, layout: layout};
  }

  bg.ready = function (map) {
    watchLabels(map);
    bg.restack(map);
    bg.loaded = true;
    window.bgReady = (window.performance && performance.now) ? performance.now() : 0;
    map.fire('bgplan:ready');
  };
})();
