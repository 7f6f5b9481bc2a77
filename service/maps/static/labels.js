/* territoires — place names on the map pages: the tiles' "label" layer (geo/labels.py: each name with its class and
   priority, in the tile holding its point) gathered over the tiles in view and placed by one greedy pass, the most
   important first, a name that would overlap one already placed left out (an area's name may first move up or
   down); written as DOM text in their own pane, above the layers, so screen readers, search and tests read them. */
(function (T) {
  "use strict";
  var measure = document.createElement("canvas").getContext("2d"), widths = new Map();

  function textWidth(font, text) {
    var key = font + "|" + text;
    if (!widths.has(key)) {
      measure.font = font;
      widths.set(key, measure.measureText(text).width);
    }
    return widths.get(key);
  }

  function halo(px, colour) {
    var r = px / 1.5, shadows = [];
    [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]].forEach(function (d) {
      shadows.push(d[0] * r + "px " + d[1] * r + "px " + r + "px " + colour);
    });
    return shadows.join(",");
  }

  /* Lay out place names (items: latlng, nom, kind, rank) in a pane: the most important first, a name that would
     overlap one already placed (or lie out of view) left out; an area's name may first move up or down. */
  function layout(map, pane, items, cfg) {
    pane.textContent = "";
    var size = map.getSize(), origin = map.containerPointToLayerPoint([0, 0]);
    var placed = [], pad = cfg.labelPadding, fragment = document.createDocumentFragment();
    items.slice().sort(function (a, b) { return a.rank - b.rank; }).forEach(function (item) {
      var cls = cfg.labelClasses[item.kind] || cfg.labelClasses.commune;
      var p = map.latLngToLayerPoint(item.latlng), w = textWidth(cls.font, item.nom), h = parseFloat(cls.font.match(/([\d.]+)px/)[1]) * 1.25;
      var shifts = cls.movable ? cfg.labelShifts : [[0, 0]];
      for (var i = 0; i < shifts.length; i++) {
        var x0 = p.x - w / 2 + shifts[i][0] * h, y0 = p.y - h / 2 + shifts[i][1] * h, x1 = x0 + w, y1 = y0 + h;
        if (x1 < origin.x || y1 < origin.y || x0 > origin.x + size.x || y0 > origin.y + size.y) { return; }  // out of view
        var free = placed.every(function (b) { return x0 >= b[2] + pad || b[0] >= x1 + pad || y0 >= b[3] + pad || b[1] >= y1 + pad; });
        if (free) {
          placed.push([x0, y0, x1, y1]);
          var div = document.createElement("div");
          div.className = "t-label t-label-" + item.kind;
          div.textContent = item.nom;
          div.style.font = cls.font;
          div.style.color = cls.color;
          div.style.textShadow = halo(cls.halo, cls.haloColor);
          L.DomUtil.setPosition(div, L.point(x0, y0));
          fragment.appendChild(div);
          return;
        }
      }
    });
    pane.appendChild(fragment);
  }

  function labelPane(map) {
    var pane = map.getPane("t-labels") || map.createPane("t-labels");
    pane.style.zIndex = 460;
    pane.style.pointerEvents = "none";
    map.on("zoomstart", function () { pane.style.display = "none"; });
    return pane;
  }

  /* The place-name layer of a page: a grid that draws nothing itself, keeps the names of its loaded tiles and lays
     them out in the "t-labels" pane. */
  T.Page.prototype.labels = function (layer) {
    var page = this, map = page.map, cfg = page.cfg, store = {}, frame = null, kinds = new Set(layer.cfg.kinds);
    var groupings = layer.cfg.groupings ? new Set(layer.cfg.groupings) : null;  // those in force at the page's date
    var pane = labelPane(map);

    function draw() {
      frame = null;
      if (!map.hasLayer(layer.group)) { pane.textContent = ""; return; }
      var z = grid._tileZoom, items = [];
      Object.keys(store).forEach(function (k) { if (store[k].z === z) { items = items.concat(store[k].items); } });
      layout(map, pane, items, cfg);
    }
    function later() { if (!frame) { frame = L.Util.requestAnimFrame(draw); } }

    var grid = new T.Grid(layer.cfg.tiles, {
      dataLayer: "label",
      bounds: layer.cfg.tileBounds ? L.latLngBounds(layer.cfg.tileBounds) : undefined,
      minZoom: layer.cfg.minZoom,
      maxZoom: cfg.maxZoom,
      fetchOptions: { credentials: "same-origin" }
    });
    grid.createTile = function (coords, done) {
      var key = this._tileCoordsToKey(coords), div = document.createElement("div");
      this._getVectorTilePromise(coords).then(function (tile) {
        var names = tile.layers.label, items = [];
        if (names) {
          var scale = 256 / names.extent;
          names.features.forEach(function (f) {
            if (!kinds.has(f.properties.kind)) { return; }
            if (groupings && f.properties.kind === "grouping" && !groupings.has(f.properties.nom)) { return; }
            var xy = f.geometry[0][0], point = L.point(coords.x * 256 + xy.x * scale, coords.y * 256 + xy.y * scale);
            items.push({ latlng: map.unproject(point, coords.z), nom: f.properties.nom, kind: f.properties.kind, rank: f.properties.rank });
          });
        }
        store[key] = { z: coords.z, items: items };
        later();
        done(null, div);
      });
      return div;
    };
    grid.on("tileunload", function (e) { delete store[this._tileCoordsToKey(e.coords)]; later(); });
    grid.on("remove", function () { pane.textContent = ""; });
    grid.on("add", later);
    map.on("zoomend moveend resize", function () { pane.style.display = ""; later(); });
    return grid;
  };

  /* Place names of a map with no tiles (the standalone HTML map): every name with the zooms it is shown at,
     rows [lat, lon, nom, kind, rank, min zoom, max zoom]. */
  T.staticLabels = function (map, rows, cfg) {
    var pane = labelPane(map), items = rows.map(function (r) {
      return { latlng: L.latLng(r[0], r[1]), nom: r[2], kind: r[3], rank: r[4], min: r[5], max: r[6] };
    });
    function draw() {
      var z = Math.round(map.getZoom());
      pane.style.display = "";
      layout(map, pane, items.filter(function (i) { return i.min <= z && z <= i.max; }), cfg);
    }
    map.on("zoomend moveend resize", draw);
    draw();
  };
})(territoires);
