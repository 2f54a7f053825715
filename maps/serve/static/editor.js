/* bgplan live scenario editor (MIT, this project).
 *
 * Sketch roads (polylines) and interchanges (circle markers) with Leaflet-Geoman on the planner map, give each road a
 * class or a design speed, POST them to /api/scenario and show the answer: parks coloured by minutes saved, the
 * minutes-saved grid, the largest gains, where each end joined the network; isochrones before/after from a point
 * (/api/isochrones); "save as scenario" downloads the GeoJSON that `plan.py scenario FILE` reads.
 *
 * Text from the server or the user is only ever set as textContent (never HTML), tooltips included (DOM nodes).
 * Test hooks: window.bgServe (sketch, evaluate(), isochrone(lat, lon), result, scenarioText()), window.bgServeReady.
 */
(function () {
  'use strict';

  var CLASSES = [0.05, 0.5, 1, 2, 5, 10];            // minutes saved: class breaks
  var COLOURS = ['#deebf7', '#9ecae1', '#6baed6', '#3182bd', '#08519c', '#08306b'];
  var NO_GAIN = '#bdbdbd';
  var ROAD_STYLE = {expressway: {color: '#c2185b', weight: 5}, national: {color: '#e65100', weight: 4},
                    provincial: {color: '#f9a825', weight: 4}};
  var cfg, map, sketch, layers = {}, state = {result: null, count: 0, points: 0};

  function byId(id) { return document.getElementById(id); }

  function make(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function colour(saved) {
    if (saved === null || saved === undefined) { return null; }
    if (saved < CLASSES[0]) { return NO_GAIN; }
    for (var i = CLASSES.length - 1; i >= 0; i--) { if (saved >= CLASSES[i]) { return COLOURS[i]; } }
    return NO_GAIN;
  }

  function fmt(value, digits) {
    return (value === null || value === undefined) ? '—' : Number(value).toFixed(digits === undefined ? 1 : digits);
  }

  function targetLabel(key) {
    var t = (state.result && state.result.targets || cfg.targets).filter(function (x) { return x.key === key; })[0];
    return t ? (t.name_vi || t.key) : key;
  }

  function status(text, isError, id) {
    var node = byId(id || 'bg-serve-status');
    node.textContent = text;
    node.className = 'bg-serve-status' + (isError ? ' bg-error' : '');
  }

  // ------------------------------------------------------------------ the sketch
  function styleFor(roadClass) { return ROAD_STYLE[roadClass] || {color: '#6a1b9a', weight: 3}; }

  function register(layer, shape) {
    if (shape === 'Line') {
      state.count += 1;
      var speed = byId('bg-serve-speed').value;
      layer.feature = {type: 'Feature', properties: {
        name: byId('bg-serve-name').value.trim() || ('Đường phác thảo ' + state.count),
        road_class: byId('bg-serve-class').value,
        design_speed_kmh: speed === '' ? null : Number(speed)}};
      layer.setStyle(Object.assign({dashArray: '8 6', opacity: 0.95}, styleFor(layer.feature.properties.road_class)));
    } else if (shape === 'CircleMarker') {
      state.points += 1;
      layer.feature = {type: 'Feature', properties: {name: 'Nút giao ' + state.points, role: 'interchange'}};
      layer.setStyle({color: '#000', fillColor: '#fff', fillOpacity: 1, weight: 2});
      if (layer.setRadius) { layer.setRadius(6); }
    }
    if (layer.feature) { layer.bindTooltip(make('span', layer.feature.properties.name)); }
    listRoads();
  }

  function roadsOf() {
    var out = [];
    sketch.eachLayer(function (layer) { if (layer instanceof L.Polyline && !(layer instanceof L.Polygon)) { out.push(layer); } });
    return out;
  }

  function featureCollection() {
    var features = [];
    sketch.eachLayer(function (layer) {
      if (!layer.feature) { return; }
      var geo = layer.toGeoJSON(6);
      geo.properties = Object.assign({}, layer.feature.properties);
      features.push(geo);
    });
    return {type: 'FeatureCollection', features: features};
  }

  function listRoads() {
    var box = byId('bg-serve-roads');
    box.textContent = '';
    roadsOf().forEach(function (layer) {
      var p = layer.feature.properties;
      var row = make('div', null, 'bg-serve-road');
      var name = make('input');
      name.type = 'text'; name.value = p.name; name.maxLength = 200;
      name.addEventListener('change', function () { p.name = name.value.trim() || p.name; layer.setTooltipContent(make('span', p.name)); });
      var select = classSelect(p.road_class);
      select.addEventListener('change', function () {
        p.road_class = select.value;
        layer.setStyle(styleFor(p.road_class));
      });
      var speed = make('input');
      speed.type = 'number'; speed.min = 5; speed.max = 130; speed.step = 5; speed.placeholder = 'km/h';
      speed.value = p.design_speed_kmh === null ? '' : p.design_speed_kmh;
      speed.addEventListener('change', function () { p.design_speed_kmh = speed.value === '' ? null : Number(speed.value); });
      var remove = make('button', '×');
      remove.type = 'button'; remove.title = 'Xoá / remove';
      remove.addEventListener('click', function () { sketch.removeLayer(layer); listRoads(); });
      [name, select, speed, remove].forEach(function (n) { row.appendChild(n); });
      box.appendChild(row);
    });
  }

  function classSelect(selected) {
    var select = make('select');
    cfg.road_classes.forEach(function (c) {
      var option = make('option', c.key + ' (' + fmt(c.design_speed_kmh, 0) + ' km/h)');
      option.value = c.key;
      if (c.key === selected) { option.selected = true; }
      select.appendChild(option);
    });
    return select;
  }

  // ------------------------------------------------------------------ evaluate
  function post(url, body) {
    return fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error(data.error || ('HTTP ' + response.status)); }
          return data;
        });
      });
  }

  function evaluate() {
    var fc = featureCollection();
    if (!roadsOf().length) { status('Chưa có đường nào / draw a road first', true); return Promise.resolve(null); }
    status('Đang tính… / evaluating…');
    var started = performance.now();
    return post('/api/scenario', fc).then(function (result) {
      state.result = result;
      show(result);
      status('Xong / done in ' + Math.round(performance.now() - started) + ' ms (server ' + fmt(result.elapsed_ms, 0) + ' ms)');
      return result;
    }).catch(function (error) { status(error.message, true); state.result = null; return null; });
  }

  function saved(row, key) {
    if (key === '*') { return row.minutes_saved_max; }
    var change = row['minutes_to_' + key + '_change'];
    return (change === null || change === undefined) ? null : Math.max(-change, 0);
  }

  function show(result) {
    byId('bg-serve-result').hidden = false;
    var select = byId('bg-serve-target');
    var current = select.value || '*';
    select.textContent = '';
    var any = make('option', 'Lớn nhất / largest saving, any target');
    any.value = '*';
    select.appendChild(any);
    result.targets.filter(function (t) { return !t.new; }).forEach(function (t) {
      var option = make('option', (t.name_vi || t.key) + ' / ' + (t.name_en || ''));
      option.value = t.key;
      select.appendChild(option);
    });
    select.value = Array.prototype.some.call(select.options, function (o) { return o.value === current; }) ? current : '*';
    var summary = byId('bg-serve-summary');
    summary.textContent = '';
    result.summary.lines.forEach(function (line) { summary.appendChild(make('li', line)); });
    var gains = byId('bg-serve-gains').tBodies[0];
    gains.textContent = '';
    result.summary.largest_gains.slice(0, 15).forEach(function (g) {
      var tr = make('tr');
      tr.appendChild(make('td', g.name));
      tr.appendChild(make('td', targetLabel(g.target)));
      tr.appendChild(make('td', fmt(g.before), 'bg-num'));
      tr.appendChild(make('td', fmt(g.after), 'bg-num'));
      tr.appendChild(make('td', '−' + fmt(g.saved), 'bg-num'));
      gains.appendChild(tr);
    });
    if (!result.summary.largest_gains.length) {
      var none = make('tr');
      var cell = make('td', 'Không khu nào nhanh hơn 0,5 phút / no park gains half a minute');
      cell.colSpan = 5;
      none.appendChild(cell);
      gains.appendChild(none);
    }
    var ends = byId('bg-serve-ends').tBodies[0];
    ends.textContent = '';
    result.roads.forEach(function (r) {
      r.ends.forEach(function (e) {
        var tr = make('tr');
        tr.appendChild(make('td', r.name));
        tr.appendChild(make('td', e.end));
        tr.appendChild(make('td', e.joins));
        ends.appendChild(tr);
      });
    });
    byId('bg-serve-note').textContent = (result.network_note || '') + ' ' + (result.communes_note || '');
    paint();
  }

  function paint() {
    var result = state.result;
    if (!result) { return; }
    var key = byId('bg-serve-target').value || '*';
    ['parks', 'grid', 'entries'].forEach(function (k) { if (layers[k]) { map.removeLayer(layers[k]); } });
    var renderer = L.canvas({padding: 0.2});
    layers.grid = L.layerGroup();
    if (result.grid) {
      var dx = result.grid.cell_deg[0] / 2, dy = result.grid.cell_deg[1] / 2;
      var column = key === '*' ? -1 : result.grid.keys.indexOf(key);
      result.grid.cells.forEach(function (c) {
        var values = c.slice(3).filter(function (v) { return v !== null; });
        var value = column < 0 ? (values.length ? Math.max.apply(null, values) : null) : c[3 + column];
        var fill = colour(value);
        if (!fill || fill === NO_GAIN) { return; }
        L.rectangle([[c[1] - dy, c[0] - dx], [c[1] + dy, c[0] + dx]],
                     {renderer: renderer, stroke: false, fillColor: fill, fillOpacity: 0.55, interactive: false})
          .addTo(layers.grid);
      });
    }
    layers.parks = L.layerGroup();
    result.parks.concat(result.communes || []).forEach(function (p, i) {
      var isPark = i < result.parks.length;
      var value = saved(p, key);
      var fill = colour(value);
      var marker = L.circleMarker([p.lat, p.lon], {renderer: renderer, radius: isPark ? 7 : 4, weight: 1, color: '#333',
        fillColor: fill || '#ffffff', fillOpacity: fill ? 0.95 : 0.3});
      marker.bindTooltip(make('span', p.name + ': ' + (value === null ? 'không rõ / unknown' : '−' + fmt(value) + ' phút / min')));
      marker.addTo(layers.parks);
    });
    layers.entries = L.layerGroup();
    (result.entries || []).forEach(function (e) {
      L.circleMarker([e.lat, e.lon], {radius: 5, color: '#000', weight: 2, fillColor: e.kind === 'interchange' ? '#000' : '#fff',
        fillOpacity: 1}).bindTooltip(make('span', e.kind + ': ' + fmt(e.link_m, 0) + ' m → ' + e.joins)).addTo(layers.entries);
    });
    layers.grid.addTo(map);
    layers.parks.addTo(map);
    layers.entries.addTo(map);
    legend();
  }

  function legend() {
    var box = byId('bg-serve-legend');
    box.textContent = '';
    box.appendChild(make('div', 'Phút tiết kiệm / minutes saved (khu: tròn, lưới 1 km: ô / parks: circles, 1-km grid: cells)'));
    var labels = ['< 0.05 (không đổi / no change)', '0.05–0.5', '0.5–1', '1–2', '2–5', '5–10', '≥ 10'];
    [NO_GAIN].concat(COLOURS).forEach(function (c, i) {
      var row = make('div', null, 'bg-row');
      var swatch = make('span', null, 'bg-swatch');
      swatch.style.background = c;
      row.appendChild(swatch);
      row.appendChild(make('span', labels[i]));
      box.appendChild(row);
    });
  }

  // ------------------------------------------------------------------ isochrones
  function isochrone(lat, lon) {
    var minutes = Number(byId('bg-serve-minutes').value);
    var fc = featureCollection();
    status('Đang tính… / computing…', false, 'bg-serve-iso');
    if (layers.origin) { map.removeLayer(layers.origin); }
    layers.origin = L.circleMarker([lat, lon], {radius: 6, color: '#d50000', weight: 3, fillOpacity: 0}).addTo(map);
    return post('/api/isochrones', {scenario: roadsOf().length ? fc : null, origin: [lon, lat], minutes: [minutes]})
      .then(function (result) {
        ['isoBefore', 'isoAfter'].forEach(function (k) { if (layers[k]) { map.removeLayer(layers[k]); } });
        layers.isoBefore = L.geoJSON(result.before, {style: {color: '#e65100', weight: 2, fill: false, dashArray: '5 4'}}).addTo(map);
        if (result.after) {
          layers.isoAfter = L.geoJSON(result.after, {style: {color: '#1565c0', weight: 1, fillOpacity: 0.2}}).addTo(map);
        }
        var area = function (fc) { return fc && fc.features.length ? fmt(fc.features[0].properties.area_km2, 0) : '—'; };
        status(minutes + ' phút / min: trước / before ' + area(result.before) + ' km²' +
               (result.after ? ', sau / after ' + area(result.after) + ' km²' : ''), false, 'bg-serve-iso');
        state.isochrones = result;
        return result;
      })
      .catch(function (error) { status(error.message, true, 'bg-serve-iso'); return null; });
  }

  // ------------------------------------------------------------------ save
  function scenarioText() {
    var fc = state.result && state.result.scenario ? state.result.scenario : featureCollection();
    return JSON.stringify(fc, null, 1);
  }

  function save() {
    if (!roadsOf().length) { status('Chưa có đường nào / draw a road first', true); return; }
    var blob = new Blob([scenarioText()], {type: 'application/geo+json'});
    var link = make('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'bgplan-sketch.geojson';
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    status('Đã lưu / saved bgplan-sketch.geojson: python scripts/plan.py scenario bgplan-sketch.geojson --out out');
  }

  function layerCounts() {          // features of each answer layer on the map (tests)
    var out = {};
    Object.keys(layers).forEach(function (k) {
      var layer = layers[k];
      out[k] = !map.hasLayer(layer) ? 0 : (layer.getLayers ? layer.getLayers().length : 1);
    });
    return out;
  }

  // ------------------------------------------------------------------ start
  function start() {
    if (!window.bgReady || !window.bgMap || !window.L || !L.PM) { setTimeout(start, 50); return; }
    map = window.bgMap;
    cfg = JSON.parse(byId('bg-serve-config').textContent);
    document.body.classList.add('bg-serve-on');
    map.invalidateSize();
    sketch = L.featureGroup().addTo(map);
    map.pm.setGlobalOptions({layerGroup: sketch, snappable: true, snapDistance: 15});
    map.pm.addControls({position: 'topleft', drawMarker: false, drawCircleMarker: true, drawPolyline: true,
      drawRectangle: false, drawPolygon: false, drawCircle: false, drawText: false, cutPolygon: false,
      rotateMode: false, editMode: true, dragMode: true, removalMode: true});
    map.on('pm:create', function (e) { register(e.layer, e.shape); });
    map.on('pm:remove', listRoads);
    var select = byId('bg-serve-class');
    classSelect('expressway').childNodes.forEach(function (o) { select.appendChild(o.cloneNode(true)); });
    select.value = 'expressway';
    byId('bg-serve-evaluate').addEventListener('click', evaluate);
    byId('bg-serve-save').addEventListener('click', save);
    byId('bg-serve-clear').addEventListener('click', function () {
      sketch.clearLayers(); listRoads(); state.result = null; byId('bg-serve-result').hidden = true;
      ['parks', 'grid', 'entries', 'isoBefore', 'isoAfter', 'origin'].forEach(function (k) { if (layers[k]) { map.removeLayer(layers[k]); } });
    });
    byId('bg-serve-target').addEventListener('change', paint);
    byId('bg-serve-origin').addEventListener('click', function () {
      status('Bấm vào bản đồ / click the map', false, 'bg-serve-iso');
      map.once('click', function (e) { isochrone(e.latlng.lat, e.latlng.lng); });
    });
    byId('bg-serve-note').textContent = cfg.network_note || '';
    window.bgServe = {sketch: sketch, evaluate: evaluate, isochrone: isochrone, featureCollection: featureCollection,
                      scenarioText: scenarioText, config: cfg, layerCounts: layerCounts, get result() { return state.result; }};
    window.bgServeReady = true;
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
}());
