/* bgplan suitability explorer (MIT, this project): move the criterion weights, re-score the grid, re-rank the sites.
 *
 * Reproduces geo/siting/suitability.py (plan_criteria, combine) and geo/siting/sites.py (threshold_of, seed_order, grow_sites,
 * split_zones, carve, locate, site_mode, shortlist) on the data packed by maps/explorer.py. Every rule (weights,
 * min_known_weight, min_coverage, top_share or min_score, min_area_ha, max_area_ha, radius_factor, min_spacing_km,
 * max_per_district, top_n …) comes from that data; the parcels (land between barriers) too.
 * Text from the data is placed with textContent only. Nothing is fetched from the network.
 */
(function () {
  'use strict';
  var bg = window.bgplan = window.bgplan || {};

  /* base64 → bytes → zlib inflate (DecompressionStream, built into the browser) → ArrayBuffer */
  function inflate(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
    return new Response(stream).arrayBuffer();
  }

  /* Decode the packed arrays once: typed arrays on `d`. */
  function decode(p) {
    var names = p.criteria, jobs = [inflate(p.rows), inflate(p.cols), inflate(p.flags), inflate(p.district),
                                    inflate(p.image.cells), inflate(p.parcel), p.excluded_codes ? inflate(p.excluded_codes) : null];
    names.forEach(function (n) { jobs.push(inflate(p.components[n])); });
    return Promise.all(jobs).then(function (buf) {
      var d = {n: p.n, nrows: p.nrows, ncols: p.ncols, rules: p.rules, criteria: names, districts: p.districts,
               noDistrict: p.no_district, breaks: p.breaks, palette: p.palette, image: p.image};
      var rows = new Uint16Array(buf[0]), cols = new Uint16Array(buf[1]);
      d.flags = new Uint8Array(buf[2]);
      d.district = new Uint8Array(buf[3]);
      var parcel = new Int32Array(buf[5]);
      d.excludedBy = buf[6] ? new Uint8Array(buf[6]) : null;
      var delta = new Int32Array(buf[4]), pix = new Int32Array(delta.length), acc = 0;
      for (var i = 0; i < delta.length; i++) { acc += delta[i]; pix[i] = acc; }
      d.pixels = pix;
      d.dense = new Int32Array(p.n);                 // cell → row * ncols + col
      for (i = 0; i < p.n; i++) { d.dense[i] = rows[i] * p.ncols + cols[i]; }
      d.parcel = new Int32Array(p.nrows * p.ncols);  // parcel of every dense cell (0 = none)
      for (i = 0; i < p.n; i++) { d.parcel[d.dense[i]] = parcel[i]; }
      d.components = {};
      d.coverage = {};
      names.forEach(function (n, k) {
        var codes = new Uint16Array(buf[7 + k]), c = new Float64Array(p.n), known = 0;
        for (var j = 0; j < p.n; j++) {
          if (codes[j] === p.unknown) { c[j] = NaN; } else { c[j] = codes[j] / p.qmax; known++; }
        }
        d.components[n] = c;
        d.coverage[n] = p.n ? known / p.n : 0;       // share of the region's cells where the criterion is known
      });
      return d;
    });
  }

  /* numpy.quantile(values, q) with the default 'linear' method (values sorted ascending). */
  function quantileLinear(sorted, q) {
    var n = sorted.length;
    if (!n) { return Infinity; }
    var virt = q * (n - 1), prev = Math.floor(virt), next = Math.min(prev + 1, n - 1), t = virt - prev;
    var a = sorted[prev], b = sorted[next], diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
  }

  /* 4-connected components of `on` (Uint8Array, nrows × ncols) numbered 1… in raster order (as scipy.ndimage.label). */
  function label(on, nrows, ncols, out, stack) {
    out.fill(0);
    var count = 0, size = nrows * ncols;
    for (var s = 0; s < size; s++) {
      if (!on[s] || out[s]) { continue; }
      count++;
      var top = 0;
      stack[top++] = s;
      out[s] = count;
      while (top) {
        var k = stack[--top], r = (k / ncols) | 0, c = k - r * ncols;
        if (c > 0 && on[k - 1] && !out[k - 1]) { out[k - 1] = count; stack[top++] = k - 1; }
        if (c < ncols - 1 && on[k + 1] && !out[k + 1]) { out[k + 1] = count; stack[top++] = k + 1; }
        if (r > 0 && on[k - ncols] && !out[k - ncols]) { out[k - ncols] = count; stack[top++] = k - ncols; }
        if (r < nrows - 1 && on[k + ncols] && !out[k + ncols]) { out[k + ncols] = count; stack[top++] = k + ncols; }
      }
    }
    return count;
  }

  /* geo/siting/sites.py _bisect(): index groups of ≤ maxCells cells by recursive halving across the longer side. */
  function bisect(rows, cols, maxCells) {
    var all = [], out = [], stack;
    for (var j = 0; j < rows.length; j++) { all.push(j); }
    stack = [all];
    while (stack.length) {
      var idx = stack.pop(), n = idx.length;
      if (n <= maxCells) { out.push(idx); continue; }
      var k = Math.ceil(n / maxCells), rmin = Infinity, rmax = -Infinity, cmin = Infinity, cmax = -Infinity;
      idx.forEach(function (q) {
        rmin = Math.min(rmin, rows[q]); rmax = Math.max(rmax, rows[q]); cmin = Math.min(cmin, cols[q]); cmax = Math.max(cmax, cols[q]);
      });
      var byRow = (rmax - rmin) >= (cmax - cmin);
      var order = idx.slice().sort(byRow ? function (a, b) { return (rows[a] - rows[b]) || (cols[a] - cols[b]); }
                                         : function (a, b) { return (cols[a] - cols[b]) || (rows[a] - rows[b]); });
      var cut = Math.floor(Math.floor((k + 1) / 2) * n / k);
      stack.push(order.slice(0, cut), order.slice(cut));
    }
    return out;
  }

  /* geo/siting/sites.py split_zones(): zones above maxCells split into compact parts, each part's pieces a site. */
  function splitZones(on, nrows, ncols, maxCells, lab, stack) {
    var size = nrows * ncols, m = label(on, nrows, ncols, lab, stack), zoneCells = [], z, k;
    for (z = 0; z <= m; z++) { zoneCells.push([]); }
    for (k = 0; k < size; k++) { if (lab[k]) { zoneCells[lab[k]].push(k); } }
    var out = new Int32Array(size), mark = new Int32Array(size), next = 1;
    for (z = 1; z <= m; z++) {
      var cells = zoneCells[z];
      if (cells.length <= maxCells) { cells.forEach(function (q) { out[q] = next; }); next++; continue; }
      var rows = cells.map(function (q) { return (q / ncols) | 0; }), cols = cells.map(function (q, j) { return q - rows[j] * ncols; });
      bisect(rows, cols, maxCells).forEach(function (group) {
        var members = group.map(function (j) { return cells[j]; }).sort(function (a, b) { return a - b; });
        members.forEach(function (q) { mark[q] = z; });
        members.forEach(function (q0) {                       // side-connected pieces, raster order
          if (out[q0]) { return; }
          var top = 0;
          stack[top++] = q0; out[q0] = next;
          while (top) {
            var q = stack[--top], r = (q / ncols) | 0, c = q - r * ncols;
            [c > 0 ? q - 1 : -1, c < ncols - 1 ? q + 1 : -1, r > 0 ? q - ncols : -1, r < nrows - 1 ? q + ncols : -1].forEach(function (nb) {
              if (nb >= 0 && mark[nb] === z && !out[nb]) { out[nb] = next; stack[top++] = nb; }
            });
          }
          next++;
        });
        members.forEach(function (q) { mark[q] = 0; });
      });
    }
    lab.set(out);
    return next - 1;
  }

  /* Score, suitable cells, sites and ranking for `weights` (criterion → raw weight ≥ 0). */
  /* geo/siting/sites.py disc_offsets(): offsets within the growth disc, nearest first (ties: row, then column). */
  function discOffsets(maxCells, factor) {
    var radius = factor * Math.sqrt(Math.max(maxCells, 1) / Math.PI) + 1.0, r = Math.ceil(radius), out = [];
    for (var dr = -r; dr <= r; dr++) {
      for (var dc = -r; dc <= r; dc++) { var d2 = dr * dr + dc * dc; if (d2 <= radius * radius) { out.push([dr, dc, d2]); } }
    }
    out.sort(function (a, b) { return (a[2] - b[2]) || (a[0] - b[0]) || (a[1] - b[1]); });
    return {dr: Int32Array.from(out, function (o) { return o[0]; }), dc: Int32Array.from(out, function (o) { return o[1]; }),
            d: Float64Array.from(out, function (o) { return Math.sqrt(o[2]); })};
  }

  /* geo/siting/sites.py seed_order(): suitable cells by the summed score of a window around them (summed-area table). */
  function seedOrder(dense, on, nrows, ncols, w) {
    var W = ncols + 1, T = new Float64Array((nrows + 1) * W), A = new Float64Array(ncols), r, c;
    for (r = 0; r < nrows; r++) {            // column sums, then row sums (numpy: cumsum axis 0, then axis 1)
      var acc = 0;
      for (c = 0; c < ncols; c++) {
        var k = r * ncols + c, x = on[k] && dense[k] === dense[k] ? dense[k] : 0.0;
        A[c] = A[c] + x;
        acc = acc + A[c];
        T[(r + 1) * W + c + 1] = acc;
      }
    }
    var idx = [], sup = new Float64Array(nrows * ncols), h = w >> 1;
    for (r = 0; r < nrows; r++) {
      var r0 = Math.min(Math.max(r - h, 0), nrows), r1 = Math.min(Math.max(r - h + w, 0), nrows);
      for (c = 0; c < ncols; c++) {
        var q = r * ncols + c;
        if (!on[q]) { continue; }
        var c0 = Math.min(Math.max(c - h, 0), ncols), c1 = Math.min(Math.max(c - h + w, 0), ncols);
        sup[q] = (T[r1 * W + c1] - T[r0 * W + c1]) - (T[r1 * W + c0] - T[r0 * W + c0]);
        idx.push(q);
      }
    }
    idx.sort(function (a, b) { return (sup[b] - sup[a]) || (dense[b] - dense[a]) || (a - b); });
    return idx;
  }

  /* geo/siting/sites.py grow_sites(): compact sites grown inside parcels, labels 1… in the order grown. */
  function growSites(dense, on, parcel, nrows, ncols, R, lab) {
    var size = nrows * ncols, i, count = 0;
    for (i = 0; i < size; i++) { if (on[i] && !parcel[i]) { on[i] = 0; } if (on[i]) { count++; } lab[i] = 0; }
    var hasMax = R.max_area_ha !== null && R.max_area_ha !== undefined;
    var maxCells = Math.max(hasMax ? Math.floor(R.max_area_ha / R.cell_ha + 1e-9) : count, 1);
    var minCells = Math.max(1, Math.ceil(R.min_area_ha / R.cell_ha - 1e-9));
    var off = discOffsets(maxCells, R.radius_factor), members = new Int32Array(maxCells), site = 0;
    var width = Math.max(1, Math.ceil((R.min_width_m || 0) / R.cell_m - 1e-9));
    var seeds = seedOrder(dense, on, nrows, ncols, Math.max(1, Math.round(Math.sqrt(maxCells))));
    for (var j = 0; j < seeds.length; j++) {
      var s = seeds[j];
      if (lab[s] !== 0 || !on[s]) { continue; }
      var r0 = (s / ncols) | 0, c0 = s - r0 * ncols, p = parcel[s], n = 0, last = 0.0;
      for (var k = 0; k < off.dr.length; k++) {
        if (off.d[k] > last + 1.5) { break; }
        var r = r0 + off.dr[k], c = c0 + off.dc[k];
        if (r < 0 || r >= nrows || c < 0 || c >= ncols) { continue; }
        var q = r * ncols + c;
        if (lab[q] !== 0 || !on[q] || parcel[q] !== p) { continue; }
        if (k > 0 && !((r > 0 && lab[q - ncols] === -1) || (r < nrows - 1 && lab[q + ncols] === -1) ||
                       (c > 0 && lab[q - 1] === -1) || (c < ncols - 1 && lab[q + 1] === -1))) { continue; }
        lab[q] = -1;
        members[n++] = q;
        last = off.d[k];
        if (n === maxCells) { break; }
      }
      var keep = n >= minCells && wideEnough(members, n, lab, nrows, ncols, width);
      if (keep) { site++; }
      for (var m = 0; m < n; m++) { lab[members[m]] = keep ? site : 0; }
    }
    return site;
  }

  /* geo/siting/sites.py _wide_enough(): at least 90 % of the cells being grown (-1) lie in width × width squares of them. */
  function wideEnough(members, n, lab, nrows, ncols, width) {
    if (width <= 1) { return true; }
    var covered = {}, count = 0;
    for (var j = 0; j < n; j++) {
      var i = members[j], r0 = (i / ncols) | 0, c0 = i - r0 * ncols, full = true;
      if (r0 + width > nrows || c0 + width > ncols) { continue; }
      for (var a = 0; a < width && full; a++) {
        for (var b = 0; b < width; b++) { if (lab[(r0 + a) * ncols + c0 + b] !== -1) { full = false; break; } }
      }
      if (full) { for (a = 0; a < width; a++) { for (b = 0; b < width; b++) { covered[(r0 + a) * ncols + c0 + b] = 1; } } }
    }
    for (j = 0; j < n; j++) { if (covered[members[j]]) { count++; } }
    return 10 * count >= 9 * n;
  }

  /* geo/siting/sites.py shortlist(): down the ranking, skip a site closer than the spacing (edge to edge) to one taken or
     whose district is full; `sites` ranked, each with label, district. Returns the chosen, in order. */
  function shortlist(sites, lab, nrows, ncols, R) {
    var cellM = R.cell_m, spacing = (R.min_spacing_km || 0) * 1000, reach = spacing / cellM + 1, byLabel = {};
    sites.forEach(function (s) { s.edge = []; byLabel[s.label] = s; });
    for (var r = 0; r < nrows; r++) {
      for (var c = 0; c < ncols; c++) {
        var q = r * ncols + c, l = lab[q];
        if (l <= 0 || !byLabel[l]) { continue; }
        if (r === 0 || c === 0 || r === nrows - 1 || c === ncols - 1 || lab[q - 1] !== l || lab[q + 1] !== l ||
            lab[q - ncols] !== l || lab[q + ncols] !== l) { byLabel[l].edge.push(r, c); }
      }
    }
    var chosen = [], perDistrict = {}, wanted = R.district_filter || [];
    for (var j = 0; j < sites.length && chosen.length < R.top_n; j++) {
      var s = sites[j];
      if (wanted.length && wanted.indexOf(s.district) < 0) { continue; }
      if (R.max_per_district && s.district !== null && (perDistrict[s.district] || 0) >= R.max_per_district) { continue; }
      var e = s.edge, box = boxOf(e), near = false;
      if (spacing > 0) {
        for (var k = 0; k < chosen.length && !near; k++) {
          var o = chosen[k], b = o.box;
          if (b[0] - box[1] > reach || box[0] - b[1] > reach || b[2] - box[3] > reach || box[2] - b[3] > reach) { continue; }
          var best = Infinity;
          for (var a = 0; a < e.length; a += 2) {
            for (var z = 0; z < o.edge.length; z += 2) {
              var dr = Math.max(Math.abs(e[a] - o.edge[z]) - 1, 0), dc = Math.max(Math.abs(e[a + 1] - o.edge[z + 1]) - 1, 0);
              var v = dr * dr + dc * dc;
              if (v < best) { best = v; }
            }
          }
          if (Math.sqrt(best) * cellM < spacing) { near = true; }
        }
      }
      if (near) { continue; }
      s.box = box;
      chosen.push(s);
      if (s.district !== null) { perDistrict[s.district] = (perDistrict[s.district] || 0) + 1; }
    }
    return chosen;
  }

  /* The run's own explanation of a site (sites_summary.json "shortlist": verdict, parcel, distances, criteria) when the
     browser grew the same site (same best cell and area): weights moved away from the profile's show none. */
  function detailsOf(R, s, ncols) {
    var list = R.sites || [];
    for (var j = 0; j < list.length; j++) {
      var x = list[j];
      if (x.cell_row * ncols + x.cell_col === s.best && Math.abs(x.area_ha - s.area_ha) < 1e-6) { return x; }
    }
    return null;
  }

  function boxOf(e) {
    var b = [Infinity, -Infinity, Infinity, -Infinity];
    for (var a = 0; a < e.length; a += 2) {
      b[0] = Math.min(b[0], e[a]); b[1] = Math.max(b[1], e[a]); b[2] = Math.min(b[2], e[a + 1]); b[3] = Math.max(b[3], e[a + 1]);
    }
    return b;
  }

  function compute(d, weights) {
    var t0 = performance.now(), R = d.rules, n = d.n, names = d.criteria;
    var used = [], dropped = {};
    names.forEach(function (name) {
      var cov = d.coverage[name], w = +weights[name];
      if (cov === 0) { dropped[name] = 'none'; }
      else if (cov < R.min_coverage) { dropped[name] = 'partial'; }
      else if (w > 0) { used.push(name); }
    });
    var total = 0;
    used.forEach(function (name) { total += +weights[name]; });
    var res = {weightsUsed: {}, dropped: dropped, sites: [], found: 0, suitable: 0, eligible: 0, threshold: null};
    if (!(total > 0)) { res.error = 'no-weight'; res.ms = performance.now() - t0; return res; }
    used.forEach(function (name) { res.weightsUsed[name] = +weights[name] / total; });

    // combine(): weighted mean of the known components
    var num = new Float64Array(n), den = new Float64Array(n), score = new Float64Array(n);
    used.forEach(function (name) {
      var c = d.components[name], w = res.weightsUsed[name];
      for (var i = 0; i < n; i++) { var v = c[i]; if (v === v) { num[i] += v * w; den[i] += w; } }
    });
    var minKnown = R.min_known_weight - 1e-12, elig = [], wanted = R.district_filter || [], inDistrict = new Uint8Array(n);
    for (var i = 0; i < n; i++) {           // with a district filter, only that district's cells are eligible
      inDistrict[i] = !wanted.length || (d.district[i] !== d.noDistrict && wanted.indexOf(d.districts[d.district[i]]) >= 0) ? 1 : 0;
      score[i] = (den[i] >= minKnown && den[i] > 0) ? num[i] / den[i] : NaN;
      if (!(d.flags[i] & 1) && inDistrict[i] && score[i] === score[i]) { elig.push(score[i]); }
    }
    res.score = score;
    res.eligible = elig.length;
    var threshold;
    if (R.min_score !== null && R.min_score !== undefined) { threshold = R.min_score; }
    else { threshold = quantileLinear(Float64Array.from(elig).sort(), 1.0 - R.top_share); }
    res.threshold = threshold;

    // suitable cells on the dense grid
    var size = d.nrows * d.ncols, dense = new Float64Array(size).fill(NaN), on = new Uint8Array(size);
    for (i = 0; i < n; i++) {
      var k = d.dense[i];
      dense[k] = score[i];
      if (!(d.flags[i] & 1) && inDistrict[i] && score[i] === score[i] && score[i] >= threshold) { on[k] = 1; res.suitable++; }
    }
    var lab = d._lab || (d._lab = new Int32Array(size)), stack = d._stack || (d._stack = new Int32Array(size));

    var hasMax = R.max_area_ha !== null && R.max_area_ha !== undefined, nl;
    if (R.split === 'grow') {
      nl = growSites(dense, on, d.parcel, d.nrows, d.ncols, R, lab);
    }
    else if (hasMax && R.split === 'parts') {
      // split_zones(): every zone above max_area_ha split into legal-size sites
      nl = splitZones(on, d.nrows, d.ncols, Math.max(1, Math.floor(R.max_area_ha / R.cell_ha + 1e-9)), lab, stack);
    }
    // carve(): areas above max_area_ha cut to their best core(s)
    else if (hasMax) {
      var maxCells = Math.max(1, Math.floor(R.max_area_ha / R.cell_ha + 1e-9));
      for (var round = 0; round < R.max_rounds; round++) {
        var m = label(on, d.nrows, d.ncols, lab, stack), counts = new Int32Array(m + 1), big = false;
        for (k = 0; k < size; k++) { counts[lab[k]]++; }
        for (var z = 1; z <= m; z++) { if (counts[z] > maxCells) { big = true; break; } }
        if (!big) { break; }
        var zones = {};
        for (k = 0; k < size; k++) {
          var zl = lab[k];
          if (zl && counts[zl] > maxCells) { (zones[zl] || (zones[zl] = [])).push(k); }
        }
        Object.keys(zones).forEach(function (key) {
          var cells = zones[key];                                    // raster order; stable sort, worst first
          cells.sort(function (a, b) { return (dense[a] - dense[b]) || (a - b); });
          var drop = Math.max(1, Math.floor(R.drop_share * cells.length));
          for (var j = 0; j < drop; j++) { on[cells[j]] = 0; }
        });
      }
    }

    // locate(): sites ≥ min_area_ha, ranked by mean score then area
    if (nl === undefined) { nl = label(on, d.nrows, d.ncols, lab, stack); }
    var cnt = new Int32Array(nl + 1), sum = new Float64Array(nl + 1), best = new Int32Array(nl + 1).fill(-1);
    for (k = 0; k < size; k++) {
      var l = lab[k];
      if (!l) { continue; }
      cnt[l]++;
      sum[l] += dense[k];
      if (best[l] < 0 || dense[k] > dense[best[l]]) { best[l] = k; }
    }
    var sites = [];
    for (l = 1; l <= nl; l++) {
      var area = cnt[l] * R.cell_ha;
      if (area >= R.min_area_ha - 1e-9) { sites.push({label: l, cells: cnt[l], area_ha: area, score_mean: sum[l] / cnt[l], best: best[l]}); }
    }
    sites.sort(function (a, b) { return (b.score_mean - a.score_mean) || (b.area_ha - a.area_ha) || (a.label - b.label); });
    res.found = sites.length;
    // site_mode(): district holding most of each site's cells (lowest code on ties)
    var nd = d.districts.length, votes = new Int32Array((nl + 1) * (nd || 1));
    for (i = 0; i < n; i++) {
      var lb = lab[d.dense[i]];
      if (lb > 0 && d.district[i] !== d.noDistrict) { votes[lb * nd + d.district[i]]++; }
    }
    sites.forEach(function (s) {
      var bestCode = -1, bestVotes = 0;
      for (var c = 0; c < nd; c++) { if (votes[s.label * nd + c] > bestVotes) { bestVotes = votes[s.label * nd + c]; bestCode = c; } }
      s.district = bestCode >= 0 ? d.districts[bestCode] : null;
    });
    sites = R.split === 'grow' ? shortlist(sites, lab, d.nrows, d.ncols, R) : sites.slice(0, R.top_n);
    var rankOf = new Int32Array(nl + 1);
    sites.forEach(function (s, j) { s.rank = j + 1; rankOf[s.label] = j + 1; });
    var site = new Int32Array(n), sums = {}, counts = {};
    used.forEach(function (name) { sums[name] = new Float64Array(sites.length + 1); counts[name] = new Int32Array(sites.length + 1); });
    for (i = 0; i < n; i++) {
      var rk = rankOf[lab[d.dense[i]]];
      site[i] = rk;
      if (!rk) { continue; }
      used.forEach(function (name) { var v = d.components[name][i]; if (v === v) { sums[name][rk] += v; counts[name][rk]++; } });
    }
    sites.forEach(function (s) {
      s.scores = {};                       // mean component score of each weighted criterion over the site's cells
      used.forEach(function (name) { s.scores[name] = counts[name][s.rank] ? sums[name][s.rank] / counts[name][s.rank] : NaN; });
      s.parcel = d.parcel[s.best];
      s.details = detailsOf(R, s, d.ncols);
      delete s.label; delete s.edge; delete s.box;
    });
    res.site = site;                  // rank of the site each cell belongs to (0 = none)
    res.sites = sites;
    res.ms = performance.now() - t0;
    return res;
  }

  function rgba(hex, alpha) {
    return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16), alpha];
  }

  /* The grid image: score classes, excluded cells grey, site edges black. */
  function draw(d, res, ctx, img) {
    var W = d.image.width, H = d.image.height, px = d.pixels, data = img.data, colours = d.palette.map(function (c) { return rgba(c, 170); });
    var grey = [150, 150, 150, 70], edge = [0, 0, 0, 255], score = res.score, site = res.site, breaks = d.breaks;
    for (var p = 0; p < W * H; p++) {
      var cell = px[p], o = p * 4, col = null;
      if (cell >= 0 && score) {
        var s = site[cell];
        if (s) {
          var x = p % W, y = (p / W) | 0;
          var nb = [x > 0 ? px[p - 1] : -1, x < W - 1 ? px[p + 1] : -1, y > 0 ? px[p - W] : -1, y < H - 1 ? px[p + W] : -1];
          for (var j = 0; j < 4; j++) { if (nb[j] < 0 || site[nb[j]] !== s) { col = edge; break; } }
        }
        if (!col) {
          var v = score[cell];
          if (v === v) { var c = 0; while (c < breaks.length && v >= breaks[c]) { c++; } col = colours[c]; }
          if (d.flags[cell] & 1) { col = grey; }
        }
      }
      if (col) { data[o] = col[0]; data[o + 1] = col[1]; data[o + 2] = col[2]; data[o + 3] = col[3]; }
      else { data[o + 3] = 0; }
    }
    ctx.putImageData(img, 0, 0);
  }

  /* Centre (lat, lng) of every cell from the pixels it covers (image rows are Web Mercator spaced). */
  function cellCentres(d) {
    var W = d.image.width, H = d.image.height, b = d.image.bounds, n = d.n;
    var sx = new Float64Array(n), sy = new Float64Array(n), c = new Int32Array(n);
    for (var p = 0; p < W * H; p++) {
      var cell = d.pixels[p];
      if (cell >= 0) { sx[cell] += p % W + 0.5; sy[cell] += ((p / W) | 0) + 0.5; c[cell]++; }
    }
    function merc(lat) { return Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360)); }
    var yN = merc(b[1][0]), yS = merc(b[0][0]);
    return function (cell) {
      if (!c[cell]) { return null; }
      var lng = b[0][1] + (sx[cell] / c[cell]) / W * (b[1][1] - b[0][1]);
      var y = yN + (sy[cell] / c[cell]) / H * (yS - yN);
      return [(2 * Math.atan(Math.exp(y)) - Math.PI / 2) * 180 / Math.PI, lng];
    };
  }

  var CanvasOverlay = L.ImageOverlay.extend({
    _initImage: function () {
      var el = this._image = this._url;
      L.DomUtil.addClass(el, 'leaflet-image-layer');
      if (this._zoomAnimated) { L.DomUtil.addClass(el, 'leaflet-zoom-animated'); }
      if (this.options.className) { L.DomUtil.addClass(el, this.options.className); }
      el.onselectstart = L.Util.falseFn;
      el.onmousemove = L.Util.falseFn;
      if (this.options.zIndex !== undefined && this.options.zIndex !== null) { this._updateZIndex(); }
    }
  });

  var el = bg.el, bi = bg.bi;

  /* A number in both languages with the criterion's unit ([vi, en, digits]). */
  function num(v, digits, unit) { return bg.numSpan(v, digits, unit); }
  function append(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var x = arguments[i];
      parent.appendChild(typeof x === 'string' ? document.createTextNode(x) : x);
    }
    return parent;
  }
  function label(R, n) { var l = R.labels[n]; return Array.isArray(l) ? bi('span', null, l[0], l[1]) : el('span', null, l || n); }

  /* The explorer on `map`: returns the grid layer (for the layer control); `.sites` is the site marker layer. */
  bg.explorer = function (map, payload, options) {
    options = options || {};
    var canvas = document.createElement('canvas');
    canvas.width = payload.image.width;
    canvas.height = payload.image.height;
    var layer = new CanvasOverlay(canvas, payload.image.bounds, {opacity: 0.85, interactive: false, className: 'bg-pixelated',
                                                                 pane: bg.lowPane(map, 'bgRaster', 350)});
    var sites = layer.sites = L.layerGroup();
    var api = window.bgExplorer = {ready: false, payload: payload};
    var R = payload.rules, defaults = R.weights, current = L.extend({}, defaults), units = payload.units || {};

    // ---- the panel: sliders, status, ranked list, reset, YAML; shown while the grid is on, folded on phones
    var panel = L.control({position: options.position || 'topleft'});
    var box = el('div', 'bg-explorer'), det = el('details'), sum = bi('summary', null, 'Trọng số tiêu chí', 'Criterion weights');
    det.open = !!options.open && !bg.narrow();
    det.appendChild(sum);
    var inner = el('div', 'bg-ex-body');
    det.appendChild(inner);
    if (R.profile) { inner.appendChild(append(bi('div', 'bg-ex-note', 'Hồ sơ: ', 'Profile: '), R.profile)); }
    // the result first (status line, ranked sites), then the weights that make it
    var status = bi('div', 'bg-ex-status', 'Đang tải…', 'Loading…');
    inner.appendChild(status);
    var list = el('ol', 'bg-ex-list');
    list.id = 'site-list';
    inner.appendChild(list);
    var maxW = 0;
    payload.criteria.forEach(function (n) { maxW = Math.max(maxW, +defaults[n]); });
    // slider range: the smallest of 1, 2, 5 × 10^k at least twice the largest weight
    var top = 1;
    if (maxW > 0) {
      var p10 = Math.pow(10, Math.floor(Math.log10(2 * maxW)));
      top = [1, 2, 5, 10].map(function (f) { return f * p10; }).filter(function (v) { return v >= 2 * maxW - 1e-12; })[0];
    }
    var sliders = {}, outputs = {};
    payload.criteria.forEach(function (n) {
      var row = el('label', 'bg-ex-row'), name = append(el('span', 'bg-ex-name'), label(R, n));
      var input = el('input');
      input.type = 'range';
      input.name = 'weight-' + n;
      input.min = '0';
      input.max = String(top);
      input.step = String(top / 100);
      input.value = String(defaults[n]);
      var out = el('output', 'bg-ex-val');
      row.appendChild(name);
      row.appendChild(input);
      row.appendChild(out);
      inner.appendChild(row);
      sliders[n] = input;
      outputs[n] = out;
      input.addEventListener('input', function () { current[n] = +input.value; schedule(); });
    });
    var buttons = el('div', 'bg-ex-buttons'), reset = bi('button', null, 'Đặt lại', 'Reset'), copy = bi('button', null, 'Sao chép YAML', 'Copy YAML');
    reset.type = copy.type = 'button';
    reset.className = 'bg-ex-reset';
    copy.className = 'bg-ex-copy';
    buttons.appendChild(reset);
    buttons.appendChild(copy);
    inner.appendChild(buttons);
    var yaml = el('textarea', 'bg-ex-yaml');
    yaml.readOnly = true;
    yaml.rows = 4;
    inner.appendChild(yaml);
    box.appendChild(det);
    panel.onAdd = function () {
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    panel.addTo(map);
    function showPanel() { box.style.display = map.hasLayer(layer) ? '' : 'none'; }
    layer.on('add remove', function () { setTimeout(showPanel, 0); });
    map.whenReady(showPanel);
    setTimeout(showPanel, 0);

    reset.addEventListener('click', function () {
      payload.criteria.forEach(function (n) { current[n] = +defaults[n]; sliders[n].value = String(defaults[n]); });
      schedule();
    });
    copy.addEventListener('click', function () {
      yaml.select();
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(yaml.value).catch(function () {}); }
      else { try { document.execCommand('copy'); } catch (e) { /* the text stays selected for the user */ } }
    });

    var data = null, img = null, ctx = canvas.getContext('2d'), centreOf = null, pending = false;
    function schedule() {
      if (!data || pending) { return; }
      pending = true;
      requestAnimationFrame(function () { pending = false; update(); });
    }

    function yamlOf(res) {
      var lines = ['# ' + (R.profile || 'profile') + ': weights set in the explorer', 'criteria:'];
      payload.criteria.forEach(function (n) { lines.push('  ' + n + ':', '    weight: ' + (+current[n])); });
      return lines.join('\n');
    }

    function siteTitle(s) {
      var h = append(bi('span', null, 'Địa điểm #', 'Site #'), String(s.rank));
      return s.district ? append(el('span'), h, ' — ' + s.district) : h;
    }

    function update() {
      var t0 = performance.now();
      var res = compute(data, current);
      draw(data, res, ctx, img);
      payload.criteria.forEach(function (n) {
        var share = res.weightsUsed[n], why = res.dropped[n];
        outputs[n].textContent = '';
        if (why) { outputs[n].appendChild(bi('span', null, 'không tính', 'not scored')); }
        else { append(outputs[n], num(current[n], 2), ' (', num(100 * (share || 0), 0), ' %)'); }
        // a criterion known on too few cells cannot be weighted (geo/siting/suitability.py: plan_criteria)
        outputs[n].parentNode.title = why ? (why === 'none' ? 'không có dữ liệu / no data' : 'chỉ biết trên / known on ' +
          bg.num(100 * data.coverage[n], 1, 'vi') + ' % ô / of the cells (< ' + bg.num(100 * R.min_coverage, 0, 'vi') + ' %)') : '';
        sliders[n].disabled = !!why;
      });
      list.textContent = '';
      sites.clearLayers();
      status.textContent = '';
      if (res.error) {
        status.appendChild(bi('span', null, 'Mọi trọng số bằng 0: không có điểm', 'Every weight is 0: no score'));
      } else {
        append(status, num(res.suitable, 0), bi('span', null, ' ô phù hợp (', ' suitable cells ('));
        if (R.min_score !== null && R.min_score !== undefined) { append(status, bi('span', null, 'điểm ≥ ', 'score ≥ '), num(R.min_score, 2)); }
        else { append(status, num(100 * R.top_share, 0), bi('span', null, ' % tốt nhất trong ', ' % best of '), num(res.eligible, 0)); }
        append(status, bi('span', null, ', ngưỡng ', ', threshold '), num(res.threshold, 3), '); ', num(res.found, 0),
               bi('span', null, ' địa điểm ≥ ', ' sites ≥ '), num(R.min_area_ha, 0, 'ha'));
        res.sites.forEach(function (s) {
          var li = append(el('li'), '#' + s.rank + ' · ', num(s.area_ha, 0, 'ha'), ' · ',
                          s.district ? s.district : bi('span', null, 'không rõ', 'unknown'), ' · ',
                          bi('span', null, 'điểm ', 'score '), num(s.score_mean, 3));
          li.appendChild(explain(s, 'bg-ex-why'));
          li.dataset.rank = s.rank;
          li.dataset.area = s.area_ha;
          li.dataset.district = s.district || '';
          li.dataset.score = s.score_mean;
          var at = centreOf(bestCell(s));
          if (at) {
            var mk = L.circleMarker(at, {radius: 9, fillColor: '#ffd400', color: '#000', weight: 2, fillOpacity: 1});
            mk.bindTooltip(String(s.rank), {permanent: true, direction: 'center', className: 'bg-rank', interactive: false});
            var pop = el('div', 'bg-pop');
            pop.appendChild(append(el('h4'), siteTitle(s)));
            pop.appendChild(append(el('div'), num(s.area_ha, 1, 'ha'), ' · ', s.district || bi('span', null, 'không rõ', 'unknown'),
                                   ' · ', bi('span', null, 'điểm ', 'score '), num(s.score_mean, 3)));
            pop.appendChild(explain(s, null));
            mk.bindPopup(pop, {className: 'bg-popup', maxWidth: 380, maxHeight: 340});
            mk._bgSite = s;
            sites.addLayer(mk);
            li.addEventListener('click', function () { map.setView(at, Math.max(map.getZoom(), 12)); mk.openPopup(); });
          }
          list.appendChild(li);
        });
      }
      yaml.value = yamlOf(res);
      api.result = res;
      api.ms = res.ms;
      api.drawMs = performance.now() - t0;
      api.updates = (api.updates || 0) + 1;
      map.fire('bgplan:explorer', {result: res});
    }

    // a site's explanation: each criterion's value (from the run) and score, the parcel, distances, verdict with reasons
    var VERDICT = {eligible: ['đủ điều kiện', 'eligible'], ineligible: ['không đạt', 'ineligible'], unknown: ['chưa xác định', 'unknown']};
    function explain(s, cls) {
      var box = el('div', cls), x = s.details, table = el('table', 'bg-ex-criteria');
      Object.keys(s.scores).forEach(function (n) {
        var v = x && x.criteria && x.criteria[n] ? x.criteria[n].value : null, u = units[n] || ['', '', 2];
        var tr = el('tr'), th = append(el('th'), label(R, n)), td = el('td');
        if (v !== null && v !== undefined) { append(td, num(v, u[2], [u[0], u[1]]), ' → '); }
        append(td, num(s.scores[n], 2));
        tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
      });
      box.appendChild(append(bi('div', 'bg-ex-sub', 'Tiêu chí: giá trị → điểm (0–1)', 'Criteria: value → score (0–1)')));
      box.appendChild(table);
      box.appendChild(append(el('div'), bi('span', null, 'thửa ', 'parcel '), String(s.parcel),
                             x && x.parcel_area_ha ? append(el('span'), ' (', num(x.parcel_area_ha, 0, 'ha'), ')') : ''));
      if (x) {
        box.appendChild(append(el('div'), bi('span', null, 'đường QL, ĐT, cao tốc ', 'corridor road '), num(x.m_to_corridor_road, 0, 'm'),
                               ' · ', bi('span', null, 'đường sắt ', 'railway '), num(x.m_to_railway, 0, 'm'), ' · ',
                               bi('span', null, 'khu dân cư ', 'settlement '), num(x.m_to_settlement, 0, 'm'),
                               ' (' + (x.nearest_settlement || '—') + (x.settlement_source ? ', ' + x.settlement_source : '') + ')'));
        var words = VERDICT[x.verdict] || [x.verdict, x.verdict];
        var v = append(el('div', 'bg-ex-verdict'), bi('b', null, words[0], words[1]), ': ' + (x.verdict_reasons || ''));
        v.dataset.verdict = x.verdict;
        box.appendChild(v);
      } else {
        box.appendChild(bi('div', null, 'trọng số khác hồ sơ: chưa xét pháp lý', 'weights differ from the profile: no legal verdict'));
      }
      return box;
    }

    // a click on a cell of the grid: its score at the current weights and the score of each criterion
    function cellAt(latlng) {
      var b = payload.image.bounds, W = payload.image.width, H = payload.image.height;
      function merc(lat) { return Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360)); }
      var x = Math.floor((latlng.lng - b[0][1]) / (b[1][1] - b[0][1]) * W);
      var y = Math.floor((merc(b[1][0]) - merc(latlng.lat)) / (merc(b[1][0]) - merc(b[0][0])) * H);
      if (x < 0 || y < 0 || x >= W || y >= H) { return -1; }
      return data.pixels[y * W + x];
    }
    api.cellAt = function (lat, lng) { return data ? cellAt(L.latLng(lat, lng)) : -1; };
    function cellPopup(cell) {
      var res = api.result, pop = el('div', 'bg-pop bg-cell'), t = el('table');
      pop.appendChild(bi('h4', null, 'Ô lưới', 'Grid cell'));
      function row(th, td) { t.appendChild(append(el('tr'), append(el('th'), th), append(el('td'), td))); }
      var score = res && res.score ? res.score[cell] : NaN;
      row(bi('span', null, 'Điểm phù hợp (0–1)', 'Suitability score (0–1)'), score === score ? num(score, 3) : bi('span', null, 'không rõ', 'unknown'));
      if (data.flags[cell] & 1) {
        var why = payload.excluded_by ? payload.excluded_by[data.excludedBy[cell]] : null;
        row(bi('span', null, 'Bị loại', 'Excluded'), why ? el('span', null, why) : bi('span', null, 'có', 'yes'));
      }
      payload.criteria.forEach(function (n) {
        var v = data.components[n][cell], share = res && res.weightsUsed[n];
        var td = append(el('span'), v === v ? num(v, 2) : bi('span', null, 'không rõ', 'unknown'));
        if (share) { append(td, ' (', bi('span', null, 'trọng số ', 'weight '), num(100 * share, 0), ' %)'); }
        row(label(R, n), td);
      });
      if (data.district[cell] !== data.noDistrict) { row(bi('span', null, 'Huyện', 'District'), data.districts[data.district[cell]]); }
      var p = data.parcel[data.dense[cell]];
      if (p) { row(bi('span', null, 'Thửa', 'Parcel'), String(p)); }
      var rk = res && res.site ? res.site[cell] : 0;
      if (rk) { row(bi('span', null, 'Địa điểm', 'Site'), '#' + rk); }
      pop.appendChild(t);
      pop.appendChild(bi('div', 'bg-sub', 'Điểm từng tiêu chí 0–1 (1 = tốt nhất)', 'score of each criterion 0–1 (1 = best)'));
      return pop;
    }
    map.on('click', function (e) {
      if (!data || !map.hasLayer(layer) || map.getContainer().classList.contains('bg-measuring')) { return; }
      var cell = cellAt(e.latlng);
      if (cell < 0) { return; }
      L.popup({className: 'bg-popup', maxWidth: 360}).setLatLng(e.latlng).setContent(cellPopup(cell)).openOn(map);
    });

    // the ranked sites in the search box
    bg.searchProviders.push(function () {
      var out = [];
      sites.eachLayer(function (mk) {
        var s = mk._bgSite;
        out.push({name: 'Địa điểm #' + s.rank + (s.district ? ' — ' + s.district : '') + ' / site #' + s.rank, priority: 4,
                  open: function () { if (!map.hasLayer(sites)) { map.addLayer(sites); } map.setView(mk.getLatLng(), Math.max(map.getZoom(), 12)); mk.openPopup(); }});
      });
      return out;
    });

    // best cell (grid row of the frame) of a site, from its dense index
    var denseToCell = null;
    function bestCell(s) {
      if (!denseToCell) {
        denseToCell = new Int32Array(data.nrows * data.ncols).fill(-1);
        for (var i = 0; i < data.n; i++) { denseToCell[data.dense[i]] = i; }
      }
      return denseToCell[s.best];
    }

    decode(payload).then(function (d) {
      data = d;
      img = ctx.createImageData(canvas.width, canvas.height);
      centreOf = cellCentres(d);
      api.data = d;
      api.compute = function (weights) { return compute(d, L.extend({}, current, weights || {})); };
      api.setWeights = function (weights) {
        Object.keys(weights).forEach(function (n) { current[n] = +weights[n]; if (sliders[n]) { sliders[n].value = String(weights[n]); } });
        update();
        return api.result;
      };
      update();
      api.ready = true;
    }).catch(function (e) {
      status.textContent = 'Không đọc được dữ liệu / could not read the data: ' + e;
      api.error = String(e);
    });
    return layer;
  };
  bg.explorerCompute = compute;
})();
