/* gigacov map runtime: draws the data layers of a gigacov coverage map.
 *
 * Needs Leaflet 1.9 and nothing else. The page carries its data as JSON
 * (<script id="gigacov-data">, built by gigacov/maps/build.py); gigacov.build() fills the
 * folium FeatureGroups with it. Everything shown from user data is HTML-escaped: tooltips and
 * popups of areas arrive escaped from Python, site popups are escaped here (esc()).
 *
 * Sites are clustered on a screen grid at every view change: only the clusters and the sites in
 * view are drawn (clusters as small DOM icons, single sites as canvas circles), so a map with tens
 * of thousands of sites creates no DOM marker per site.
 *
 * The test hooks live on window.gigacov: layers (key -> layer in the layer control), drawn(key)
 * (features drawn now), siteStats, ready.
 */
(function () {
  "use strict";

  var G = (window.gigacov = window.gigacov || {});
  G.layers = {};
  G.inner = {};
  G.siteStats = {};
  G.ready = false;

  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(v) {
    if (v === null || v === undefined) return "";
    return String(v).replace(/[&<>"']/g, function (c) { return ESC[c]; });
  }
  G.esc = esc;

  // Popups: wide enough for their tables, kept clear of the title bar when auto-panned.
  var POPUP = { minWidth: 260, maxWidth: 420, autoPanPaddingTopLeft: [60, 90], autoPanPaddingBottomRight: [60, 40] };

  function fmt(v, digits, unit) {
    if (v === null || v === undefined) return "–";
    return (digits === undefined ? String(v) : Number(v).toFixed(digits)) + (unit || "");
  }

  // ---------------------------------------------------------------------------------------
  // Areas: counties / cities by status, villages, gaps
  // ---------------------------------------------------------------------------------------

  function buildUnits(map, data, groups) {
    (data.units || []).forEach(function (u) {
      var fc = data.geoms[u.level];
      var colours = data.statusColours;
      var layer = L.geoJSON(fc, {
        style: function (f) {
          var st = f.properties.st[u.std] || "no_data";
          return { color: "#333333", weight: u.level === "city" ? 2.5 : 1.2, opacity: 0.9,
                   fillColor: colours[st] || colours.no_data, fillOpacity: u.level === "city" ? 0.12 : 0.25 };
        },
        onEachFeature: function (f, l) {
          l.bindTooltip(f.properties.tip[u.std], { sticky: true, className: "gc-tooltip" });
          l.bindPopup(f.properties.pop[u.std], POPUP);
        }
      });
      layer.addTo(groups[u.key]);
      G.inner[u.key] = layer;
    });
  }

  function buildVillages(map, data, groups) {
    var v = data.villages;
    if (!v) return;
    var modes = [
      { key: "villages_5g", colour: function (p) { return v.reachColours[p.r === null ? "null" : String(p.r)]; } },
      { key: "villages_fibre", colour: function (p) { return p.f === null ? v.reachColours["null"] : v.fibreColours[p.f]; } }
    ];
    modes.forEach(function (mode) {
      var layer = L.geoJSON(v.fc, {
        style: function (f) {
          return { color: "#555555", weight: 0.6, opacity: 0.8, fillColor: mode.colour(f.properties), fillOpacity: 0.4 };
        },
        onEachFeature: function (f, l) { l.bindTooltip(f.properties.tip, { sticky: true, className: "gc-tooltip" }); }
      });
      mode.layer = layer;
      G.inner[mode.key] = layer;
    });
    function gate() {
      var show = !v.gate || map.getZoom() >= v.minZoom;
      modes.forEach(function (mode) {
        var group = groups[mode.key];
        if (show && !group.hasLayer(mode.layer)) group.addLayer(mode.layer);
        else if (!show && group.hasLayer(mode.layer)) group.removeLayer(mode.layer);
      });
      G.villagesShown = show;
      var notes = document.querySelectorAll(".gc-zoom-note");
      for (var i = 0; i < notes.length; i++) notes[i].style.display = show ? "none" : "block";
    }
    map.on("zoomend", gate);
    G.gateVillages = gate;
    gate();
  }

  function buildGaps(map, data, groups) {
    if (!data.gaps) return;
    var layer = L.geoJSON(data.gaps, {
      style: function () { return { color: data.gapColour, weight: 1.5, dashArray: "4 3", fillColor: data.gapColour, fillOpacity: 0.3 }; },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.tip, { sticky: true, className: "gc-tooltip" }); }
    });
    layer.addTo(groups.gaps);
    G.inner.gaps = layer;
  }

  // ---------------------------------------------------------------------------------------
  // Field check: samples coloured by error, disputed H3 hexagons
  // ---------------------------------------------------------------------------------------

  function buildFieldSamples(map, data, groups) {
    var s = data.fieldSamples;
    if (!s || !groups.field_samples) return;
    var renderer = L.canvas({ padding: 0.5 });
    var layer = L.layerGroup();
    for (var i = 0; i < s.lat.length; i++) {
      var err = s.pred[i] - s.meas[i];
      var tip = '<div class="gc-tip"><b>Field sample</b><table class="gc-table">' +
        "<tr><td>measured RSRP</td><td>" + fmt(s.meas[i], 1, " dBm") + "</td></tr>" +
        "<tr><td>predicted RSRP</td><td>" + fmt(s.pred[i], 1, " dBm") + "</td></tr>" +
        "<tr><td>error (pred. − meas.)</td><td>" + (err > 0 ? "+" : "") + err.toFixed(1) + " dB</td></tr>" +
        "<tr><td>clutter</td><td>" + esc(s.clutter[i]) + "</td></tr></table></div>";
      L.circleMarker([s.lat[i], s.lon[i]], {
        renderer: renderer, radius: 3, stroke: false, fillOpacity: 0.85, fillColor: s.colours[s.cls[i]]
      }).bindTooltip(tip, { className: "gc-tooltip" }).addTo(layer);
    }
    layer.addTo(groups.field_samples);
    G.inner.field_samples = layer;
  }

  function buildDisputed(map, data, groups) {
    if (!data.disputed || !groups.disputed) return;
    var colours = data.disputeColours;
    var layer = L.geoJSON(data.disputed, {
      style: function (f) {
        var d = f.properties.d;
        return d ? { color: colours[d], weight: 1.5, fillColor: colours[d], fillOpacity: 0.45 }
                 : { color: colours[""], weight: 0.8, fill: true, fillOpacity: 0.0 };
      },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.tip, { sticky: true, className: "gc-tooltip" }); }
    });
    layer.addTo(groups.disputed);
    G.inner.disputed = layer;
  }

  // ---------------------------------------------------------------------------------------
  // Points: key places, roads, recommended sites
  // ---------------------------------------------------------------------------------------

  function stateName(r) { return r === null || r === undefined ? "nodata" : (r ? "ok" : "no"); }

  function buildKeyPlaces(map, data, groups) {
    var kp = data.keyPlaces;
    if (!kp || !groups.key_places) return;
    var group = groups.key_places;
    var areas = L.geoJSON(kp.areas, {
      style: function (f) {
        var c = f.properties.r === null ? data.statusColours.no_data : (f.properties.r ? data.statusColours.pass : data.statusColours.fail);
        return { color: c, weight: 2, dashArray: "5 4", fillColor: c, fillOpacity: 0.12 };
      },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.tip, { sticky: true, className: "gc-tooltip" }); }
    });
    areas.addTo(group);
    var markers = L.layerGroup();
    kp.points.forEach(function (p) {
      var letter = data.keyPlaceSymbols[p[2]] || data.keyPlaceSymbols.other;
      var icon = L.divIcon({
        className: "gc-kp-icon",
        html: '<div class="gc-kp gc-kp-' + stateName(p[3]) + '">' + esc(letter) + "</div>",
        iconSize: [22, 22], iconAnchor: [11, 11]
      });
      L.marker([p[0], p[1]], { icon: icon, keyboard: false })
        .bindTooltip(p[4], { className: "gc-tooltip", direction: "top", offset: [0, -10] })
        .addTo(markers);
    });
    markers.addTo(group);
    G.inner.key_places = markers;
  }

  function buildRoads(map, data, groups) {
    if (!data.roads || !groups.roads) return;
    var all = L.featureGroup();
    data.roads.forEach(function (road) {
      var one = L.featureGroup();
      road.pieces.forEach(function (piece) {
        L.polyline(piece[1], { color: data.roadColours[String(piece[0])], weight: 5, opacity: 0.95, lineCap: "butt" }).addTo(one);
      });
      one.bindTooltip(road.tip, { sticky: true, className: "gc-tooltip" });
      one.addTo(all);
    });
    all.addTo(groups.roads);
    G.inner.roads = all;
  }

  function buildRecommended(map, data, groups) {
    if (!data.recommended || !groups.recommended) return;
    var markers = L.layerGroup();
    data.recommended.forEach(function (p) {
      var icon = L.divIcon({ className: "gc-rec-icon", html: '<div class="gc-rec">★</div>', iconSize: [24, 24], iconAnchor: [12, 12] });
      L.marker([p[0], p[1]], { icon: icon, keyboard: false }).bindPopup(p[2], POPUP).addTo(markers);
    });
    markers.addTo(groups.recommended);
    G.inner.recommended = markers;
    // Hundreds of stars in one county hide the map at city scale: draw them small until zoom 11.
    function sizeStars() { map.getContainer().classList.toggle("gc-far", map.getZoom() < 11); }
    map.on("zoomend", sizeStars);
    sizeStars();
  }

  // ---------------------------------------------------------------------------------------
  // Sites: screen-grid clustering, popups built on demand
  // ---------------------------------------------------------------------------------------

  function sitePopup(sites, offsets, i) {
    var c = sites.cells, start = offsets[i], n = c.n[i];
    var out = ['<div class="gc-pop"><b>Site ' + esc(sites.id[i]) + "</b>"];
    if (sites.name[i]) out.push(" " + esc(sites.name[i]));
    out.push('<div class="gc-muted">' + n + (n === 1 ? " cell" : " cells") + " · " +
             Number(sites.lat[i]).toFixed(5) + ", " + Number(sites.lon[i]).toFixed(5) + "</div>");
    out.push('<table class="gc-table"><tr><th>cell</th><th>tech</th><th>MHz</th><th>BW</th>' +
             "<th>azimuth</th><th>height</th><th>tilt</th><th>operator</th></tr>");
    for (var k = start; k < start + n; k++) {
      var cid = sites.cid_suffix ? sites.id[i] + c.cid[k] : c.cid[k];
      out.push("<tr><td>" + esc(cid) + "</td><td>" + esc(c.tech[k]) + "G</td><td>" + esc(fmt(c.f[k])) +
               "</td><td>" + esc(fmt(c.bw[k])) + "</td><td>" + (c.az[k] === null ? "omni" : esc(fmt(c.az[k], undefined, "°"))) +
               "</td><td>" + esc(fmt(c.h[k], undefined, " m")) + "</td><td>" + esc(fmt(c.tilt[k], undefined, "°")) +
               "</td><td>" + esc(sites.ops[c.op[k]]) + "</td></tr>");
    }
    out.push("</table></div>");
    return out.join("");
  }

  function SiteClusters(map, group, sites, offsets, spec, renderer) {
    var crs = map.options.crs;
    var idx = [];
    for (var i = 0; i < sites.kind.length; i++) if (sites.kind[i] === spec.kind) idx.push(i);
    var n = idx.length;
    var xs = new Float64Array(n), ys = new Float64Array(n);
    for (var j = 0; j < n; j++) {
      var p = crs.latLngToPoint(L.latLng(sites.lat[idx[j]], sites.lon[idx[j]]), 0);
      xs[j] = p.x; ys[j] = p.y;
    }
    var CELL = 60, PAD = 80, SINGLE_ZOOM = sites.single_zoom || 13;
    var stats = (G.siteStats[spec.key] = { sites: n, clusters: 0, singles: 0, redraws: 0, lastMs: 0 });

    function openSite(i, latlng) {
      L.popup(L.extend({}, POPUP, { maxWidth: 520 })).setLatLng(latlng).setContent(sitePopup(sites, offsets, i)).openOn(map);
    }

    function redraw() {
      if (!map.hasLayer(group)) return;
      var t0 = performance.now();
      group.clearLayers();
      var z = map.getZoom(), s = Math.pow(2, z);
      var pb = map.getPixelBounds();
      var x0 = pb.min.x - PAD, y0 = pb.min.y - PAD, x1 = pb.max.x + PAD, y1 = pb.max.y + PAD;
      var bins = new Map(), singles = [], clusters = 0;
      for (var j = 0; j < n; j++) {
        var px = xs[j] * s, py = ys[j] * s;
        if (px < x0 || px > x1 || py < y0 || py > y1) continue;
        if (z >= SINGLE_ZOOM) { singles.push(j); continue; }
        var key = Math.floor(px / CELL) * 4194304 + Math.floor(py / CELL);
        var b = bins.get(key);
        if (b === undefined) { b = { n: 0, sx: 0, sy: 0, j: j }; bins.set(key, b); }
        b.n++; b.sx += px; b.sy += py;
      }
      bins.forEach(function (b) {
        if (b.n === 1) { singles.push(b.j); return; }
        clusters++;
        var ll = crs.pointToLatLng(L.point(b.sx / b.n, b.sy / b.n), z);
        var size = b.n < 10 ? 26 : (b.n < 100 ? 32 : (b.n < 1000 ? 38 : 44));
        var icon = L.divIcon({
          className: "gc-cluster gc-cluster-" + spec.key,
          html: '<div style="background:' + spec.colour + '"><span>' + b.n + "</span></div>",
          iconSize: [size, size]
        });
        L.marker(ll, { icon: icon, keyboard: false, title: b.n + " sites" })
          .on("click", function () { map.setView(ll, Math.min(z + 2, SINGLE_ZOOM)); })
          .addTo(group);
      });
      singles.forEach(function (j) {
        var i = idx[j];
        var ll = L.latLng(sites.lat[i], sites.lon[i]);
        L.circleMarker(ll, { renderer: renderer, radius: 5, color: "#ffffff", weight: 1, fillColor: spec.colour, fillOpacity: 0.95 })
          .on("click", function () { openSite(i, ll); })
          .addTo(group);
      });
      stats.clusters = clusters; stats.singles = singles.length; stats.redraws++;
      stats.lastMs = performance.now() - t0;
    }

    group.on("add", redraw);
    group.on("remove", function () { group.clearLayers(); });
    map.on("moveend", redraw);
    this.redraw = redraw;
    this.openSite = function (i) { openSite(i, L.latLng(sites.lat[i], sites.lon[i])); };
    redraw();
  }

  function buildSites(map, data, groups) {
    var sites = data.sites;
    if (!sites) return;
    var offsets = new Int32Array(sites.cells.n.length);
    for (var i = 1; i < offsets.length; i++) offsets[i] = offsets[i - 1] + sites.cells.n[i - 1];
    var renderer = L.canvas({ padding: 0.2 });
    G.sites = {};
    G.sitePopup = function (i) { return sitePopup(sites, offsets, i); };
    sites.layers.forEach(function (spec) {
      G.sites[spec.key] = new SiteClusters(map, groups[spec.key], sites, offsets, spec, renderer);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Legend (a section per coloured layer, shown while the layer is on) and opacity slider
  // ---------------------------------------------------------------------------------------

  function swatch(item) {
    var colour = esc(item[0]), shape = item[2];
    if (shape === "box") return '<i class="gc-sw" style="background:' + colour + '"></i>';
    if (shape === "hollow") return '<i class="gc-sw gc-sw-hollow"></i>';
    if (shape === "line") return '<i class="gc-sw gc-sw-line" style="background:' + colour + '"></i>';
    if (shape === "circle") return '<i class="gc-sw gc-sw-circle" style="background:' + colour + '"></i>';
    if (shape === "hatch") return '<i class="gc-sw gc-sw-hatch" style="border-color:' + colour + ";color:" + colour + '"></i>';
    if (shape === "star") return '<i class="gc-sw gc-sw-star" style="color:' + colour + '">★</i>';
    return "";
  }

  function buildLegend(map, data, groups) {
    var control = L.control({ position: "bottomright" });
    var sections = [];
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "gc-legend leaflet-bar");
      // A header that folds the legend away (folded from the start on a small screen).
      var head = L.DomUtil.create("button", "gc-legend-toggle", div);
      head.type = "button";
      var body = L.DomUtil.create("div", "gc-legend-body", div);
      function fold(folded) {
        div.classList.toggle("gc-legend-folded", folded);
        head.setAttribute("aria-expanded", folded ? "false" : "true");
        head.textContent = (folded ? "▸ " : "▾ ") + "图例 / legend";
      }
      head.addEventListener("click", function () { fold(!div.classList.contains("gc-legend-folded")); });
      fold(window.innerWidth < 700);
      G.foldLegend = fold;
      (data.legend || []).forEach(function (sec, n) {
        var el = L.DomUtil.create("div", "gc-legend-section", body);
        el.setAttribute("data-keys", sec.keys.join(" "));
        var parts = ['<div class="gc-legend-title">' + esc(sec.title) + "</div>"];
        sec.items.forEach(function (item) {
          parts.push('<div class="gc-legend-item">' + swatch(item) + "<span>" + esc(item[1]) + "</span></div>");
        });
        if (sec.note) parts.push('<div class="gc-legend-note' + (sec.zoomNote ? " gc-zoom-note" : "") + '">' + esc(sec.note) + "</div>");
        el.innerHTML = parts.join("");
        if (sec.slider) {
          var row = L.DomUtil.create("label", "gc-opacity", el);
          row.innerHTML = "<span>opacity</span>";
          var input = L.DomUtil.create("input", "gc-opacity-input", row);
          input.type = "range"; input.min = "0"; input.max = "100"; input.step = "5";
          input.value = String(Math.round(data.opacity * 100));
          input.addEventListener("input", function () {
            var v = Number(input.value) / 100;
            (data.rasters || []).forEach(function (r) { if (groups[r.key]) groups[r.key].setOpacity(v); });
            var all = document.querySelectorAll(".gc-opacity-input");
            for (var k = 0; k < all.length; k++) if (all[k] !== input) all[k].value = input.value;
            G.opacity = v;
          });
        }
        sections.push({ el: el, keys: sec.keys });
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(map);
    function update() {
      sections.forEach(function (s) {
        var on = s.keys.some(function (k) { return groups[k] && map.hasLayer(groups[k]); });
        s.el.style.display = on ? "block" : "none";
      });
    }
    Object.keys(groups).forEach(function (k) {
      groups[k].on("add remove", function () { setTimeout(update, 0); });
    });
    update();
    G.legend = control;
  }

  // ---------------------------------------------------------------------------------------

  G.drawn = function (key) {
    var group = G.layers[key];
    if (!group || !G.map.hasLayer(group)) return 0;
    if (G.sites && G.sites[key]) return G.siteStats[key].clusters + G.siteStats[key].singles;
    var inner = G.inner[key];
    if (!inner) return 0;
    if (inner.getLayers && group.hasLayer(inner)) return inner.getLayers().length;
    return 0;
  };

  // Total features of a layer (drawn or not), by key.
  G.featureCount = function (key) {
    if (G.sites && G.sites[key]) return G.siteStats[key].sites;
    var inner = G.inner[key];
    return inner && inner.getLayers ? inner.getLayers().length : 0;
  };

  // Key of a layer from its name in the layer control ("中文 / English", or either part).
  G.keyOf = function (name) {
    var names = G.data.layerNames || {};
    for (var k in names) {
      var full = names[k], cut = full.indexOf(" / ");
      if (full === name || (cut >= 0 && (full.slice(cut + 3) === name || full.slice(0, cut) === name))) return k;
    }
    return null;
  };

  // Basemap tiles need a network; where they cannot be loaded the overlays stay on the plain
  // background, and the title bar says why the background is empty.
  function watchTiles(map) {
    G.tileErrors = 0;
    map.eachLayer(function (layer) {
      if (!(layer instanceof L.TileLayer)) return;
      layer.on("tileerror", function () {
        G.tileErrors += 1;
        if (G.tileErrors > 1) return;
        var sub = document.querySelector(".gc-title-sub");
        if (!sub) return;
        var span = document.createElement("span");
        span.className = "gc-tiles-note";
        span.textContent = " · 底图瓦片无法加载（无网络）basemap tiles unavailable (no network)";
        sub.appendChild(span);
      });
    });
  }

  G.build = function (map, data, groups) {
    G.map = map;
    watchTiles(map);
    G.data = data;
    G.opacity = data.opacity;
    Object.keys(groups).forEach(function (k) { G.layers[k] = groups[k]; });
    if (data.bounds) map.fitBounds(data.bounds, { animate: false, padding: [10, 10] });
    buildUnits(map, data, groups);
    buildVillages(map, data, groups);
    buildGaps(map, data, groups);
    buildRoads(map, data, groups);
    buildKeyPlaces(map, data, groups);
    buildRecommended(map, data, groups);
    buildDisputed(map, data, groups);
    buildFieldSamples(map, data, groups);
    buildSites(map, data, groups);
    buildLegend(map, data, groups);
    if (G.gateVillages) G.gateVillages();
    G.readyAt = performance.now();
    G.ready = true;
  };
})();
