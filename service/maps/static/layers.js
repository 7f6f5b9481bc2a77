/* territoires — map pages: the scales drawn from vector tiles (/tiles, Leaflet.VectorGrid, SVG paths) with a
   level of detail per zoom, the doll boundaries laid side by side where they coincide, tooltips, a commune's whole
   stack in a popup, the selected territory outlined above the layers, the legend, base maps.
   Every text that comes from data is written through esc() or as DOM text (textContent), never as raw HTML. */
var territoires = (function () {
  "use strict";

  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  var LEVELS = { commune: "Commune", quartier: "Quartier prioritaire", epci: "EPCI", departement: "Département", region: "Région",
                 grouping: "Groupement" };

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) { return ENTITIES[c]; });
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (r.ok) { return r.json(); }
      return r.json().catch(function () { return {}; }).then(function (body) {
        throw new Error(typeof body.detail === "string" ? body.detail : "HTTP " + r.status);
      });
    });
  }

  function number(n) { return Number(n).toLocaleString("fr-FR"); }
  function frDate(iso) { return iso ? iso.split("-").reverse().join("/") : ""; }
  function period(start, end) {
    if (start && end) { return frDate(start) + " → " + frDate(end); }
    if (start) { return "depuis le " + frDate(start); }
    return end ? "jusqu'au " + frDate(end) : "—";
  }
  /* A coverage path (the API's structured path) in words: "directe", "par Toulouse Métropole, membre de …". */
  function via(path) {
    if (!path || path.level === "commune") { return "directe"; }
    var text = "par " + (path.nom || path.code);
    if (path.grouping) { text += ", membre de " + path.grouping.name; }
    if (path.network) { text += " (tous les membres de " + path.network.name + ")"; }
    return text;
  }
  function safeHref(href) { return /^(https?:\/\/|\/)/i.test(String(href)) ? String(href) : "#"; }

  /* kinds: scheme kind → French label, from the page configuration (geo/kinds.py). */
  function stackHtml(s, kinds) {
    var c = s.commune;
    var h = '<div class="t-stack"><h3>' + esc(c.nom) + " <small>" + esc(c.code) + "</small></h3>";
    h += "<p>" + number(c.population) + " habitants · " + number(c.area_km2) + " km²</p><dl>";
    [["EPCI", s.epci], ["Département", s.departement], ["Région", s.region]].forEach(function (row) {
      if (row[1]) { h += "<dt>" + row[0] + "</dt><dd>" + esc(row[1].nom) + " <small>" + esc(row[1].code) + "</small></dd>"; }
    });
    if (s.groupings.length) {
      h += "<dt>Groupements</dt><dd>" + s.groupings.map(function (g) { return esc(g.name); }).join(" ; ") + "</dd>";
    }
    h += "</dl><h4>Dispositifs (" + s.schemes.length + ")</h4>";
    if (s.schemes.length) {
      h += "<table><thead><tr><th>Dispositif</th><th>Rôle</th><th>Période</th></tr></thead><tbody>";
      s.schemes.forEach(function (x) {
        h += "<tr><td>" + esc(x.name) + ' <small class="t-kind">' + esc(kinds[x.kind] || x.kind) + "</small>" +
             '<br><small class="t-via">' + esc(via(x.path)) + "</small></td><td>" + esc(x.role || "") + "</td><td>" +
             esc(period(x.start, x.end)) + (x.status && !x.in_force ? '<br><small class="t-status">' + esc(x.status) + "</small>" : "") +
             "</td></tr>";
      });
      h += "</tbody></table>";
    } else {
      h += "<p>Aucun dispositif connu.</p>";
    }
    var code = encodeURIComponent(c.code);
    h += '<p class="t-links"><a href="/api/communes/' + code + '" target="_blank" rel="noopener">JSON</a> · ' +
         '<a href="/maps/scales?focus=' + code + '" target="_top">Carte centrée sur la commune</a></p></div>';
    return h;
  }

  /* A legend key drawn from a style of the page's configuration (the map specification's colours, never
     colours of its own); a hatch is drawn as the map draws it (Leaflet.pattern's angle). */
  function swatch(item) {
    var css = "border:" + Math.max(1, Math.min(item.weight || 1, 5)) + "px " + (item.dashArray ? "dashed " : "solid ") +
              esc(item.color) + ";";
    if (item.fill) {
      css += "background:" + esc(item.fillColor) + ";opacity:" + Math.max(0.35, item.fillOpacity || 0) + ";";
      var hatches = item.hatches || (item.hatch ? [item.hatch] : []);
      if (hatches.length) {
        css += "background-image:" + hatches.map(function (h) {
          return "repeating-linear-gradient(" + h.angle + "deg," + esc(h.color) + " 0 " + h.weight + "px,transparent " +
                 h.weight + "px " + (h.weight + h.space) + "px)";
        }).join(",") + ";";
      }
    }
    return '<span class="t-key' + (item.fill ? " t-key-fill" : "") + '" style="' + css + '"></span>';
  }

  function itemsHtml(items) {
    return "<ul>" + items.map(function (item) {
      return "<li>" + (item.color || item.fillColor ? swatch(item) : "") + esc(item.label) + "</li>";
    }).join("") + "</ul>";
  }

  function legendHtml(legend, open) {
    var h = "<details" + (open ? " open" : "") + "><summary>" + esc(legend.title) + "</summary>";
    if (legend.items.length) { h += itemsHtml(legend.items); }
    (legend.sections || []).forEach(function (section) {
      h += '<p class="t-section">' + esc(section.title) + "</p>" + itemsHtml(section.items);
    });
    (legend.notes || []).forEach(function (note) { h += '<p class="t-note">' + esc(note) + "</p>"; });
    var links = (legend.links || []).slice();
    if (legend.json) { links.push({ href: legend.json, text: "Données (JSON)" }); }
    if (links.length) {
      h += '<p class="t-note">' + links.map(function (l) {
        return '<a href="' + esc(safeHref(l.href)) + '" target="_blank" rel="noopener">' + esc(l.text) + "</a>";
      }).join(" · ") + "</p>";
    }
    return h + "</details>";
  }

  var Legend = L.Control.extend({
    options: { position: "bottomright" },
    initialize: function (legend, open, options) { this.legend = legend; this.open = open; L.setOptions(this, options); },
    onAdd: function () {
      var div = L.DomUtil.create("div", "t-legend");
      div.innerHTML = legendHtml(this.legend, this.open);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });

  /* Vector tiles fetched and decoded once per URL: a page's layers share one tile holding a layer per level,
     and each grid draws its own layer only (the doll boundaries: its doll's, laid side by side); a bounded number of
     decoded tiles is kept. */
  var tiles = new Map(), MAX_TILES = 600;
  var Grid = L.VectorGrid.Protobuf.extend({
    _getVectorTilePromise: function (coords) {
      var key = L.Util.template(this._url, { x: coords.x, y: coords.y, z: coords.z }), name = this.options.dataLayer;
      var load = tiles.get(key), own = this.options.own, grid = this;
      if (load) {
        tiles.delete(key);
      } else {
        load = archiveTile(grid, coords).then(function (tile) {
          return tile || L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(grid, coords);
        }).catch(function (err) {
          tiles.delete(key);
          console.warn("territoires: " + key + " : " + err.message);
          return { layers: {} };
        });
      }
      tiles.set(key, load);
      if (tiles.size > MAX_TILES) { tiles.delete(tiles.keys().next().value); }
      return load.then(function (tile) {
        var out = { layers: {} }, layer = tile.layers[name];
        if (layer) { out.layers[name] = own ? own(layer, coords) : layer; }
        return out;
      });
    }
  });

  /* The territories of tiles that hold each of them whole (below the layer's "wholeBelow"), drawn on canvas: a tile
     is one canvas padded by "wholePad" pixels for the territories reaching past it, its features drawn as paths of
     their style (one fill and one stroke per style), and found under the pointer by their rings. No Leaflet layer per
     feature: a région's thousands of communes cost more as objects than as drawing. The same hover and click as the
     vector grid (setFeatureStyle, resetFeatureStyle); tiles come from the page's shared tile cache. */
  var CanvasGrid = L.GridLayer.extend({
    initialize: function (page, layer, source, options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this._page = page;
      this._layer = layer;
      this._source = source;  // a Grid, not on the map: it loads and decodes the tiles
      this._drawn = {};
      this._override = null;
    },
    createTile: function (coords, done) {
      var grid = this, pad = this._layer.cfg.wholePad, size = this.getTileSize(), key = this._tileCoordsToKey(coords);
      var canvas = document.createElement("canvas");
      canvas.width = size.x + 2 * pad;
      canvas.height = size.y + 2 * pad;
      this._source._getVectorTilePromise(coords).then(function (tile) {
        if (!grid._tiles[key]) { return; }  // removed meanwhile (the view moved on)
        var data = tile.layers[grid._layer.cfg.level], scale = data ? size.x / data.extent : 1;
        var features = (data ? data.features : []).map(function (f) { return shape(f, scale); });
        grid._drawn[key] = { canvas: canvas, features: features, pad: pad, coords: coords };
        grid._paint(key);
        done(null, canvas);
      });
      return canvas;
    },
    _initTile: function (tile) {  // the canvas covers its margins too
      L.GridLayer.prototype._initTile.call(this, tile);
      var pad = this._layer.cfg.wholePad, size = this.getTileSize();
      tile.style.width = size.x + 2 * pad + "px";
      tile.style.height = size.y + 2 * pad + "px";
      tile.style.marginLeft = tile.style.marginTop = -pad + "px";
    },
    _removeTile: function (key) {
      delete this._drawn[key];
      L.GridLayer.prototype._removeTile.call(this, key);
    },
    _paint: function (key) {
      var d = this._drawn[key], ctx = d.canvas.getContext("2d"), page = this._page, layer = this._layer;
      var override = this._override, batches = new Map(), last = null;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, d.canvas.width, d.canvas.height);
      ctx.setTransform(1, 0, 0, 1, d.pad, d.pad);
      d.features.forEach(function (f) {
        var over = override && f.properties.code === override.code;
        var st = over ? override.style(layer, f.properties, d.coords.z) : page.style(layer, f.properties, d.coords.z);
        if (Array.isArray(st)) { return; }  // not drawn
        var look = [st.color, st.weight, st.opacity, st.fill, st.fillColor, st.fillOpacity].join("|");
        var batch = over ? (last = last || { style: st, path: new Path2D() }) : batches.get(look);
        if (!batch) { batches.set(look, batch = { style: st, path: new Path2D() }); }
        batch.path.addPath(f.path);
      });
      if (last) { batches.set("hovered", last); }  // drawn on top
      batches.forEach(function (b) {
        var st = b.style, color = st.color || L.Path.prototype.options.color;
        ctx.lineJoin = ctx.lineCap = "round";
        if (st.fill !== false) {
          ctx.globalAlpha = st.fillOpacity === undefined ? 0.2 : st.fillOpacity;
          ctx.fillStyle = st.fillColor || color;
          ctx.fill(b.path);
        }
        if (st.stroke !== false && st.weight !== 0) {
          ctx.globalAlpha = st.opacity === undefined ? 1 : st.opacity;
          ctx.lineWidth = st.weight === undefined ? 3 : st.weight;
          ctx.strokeStyle = color;
          ctx.stroke(b.path);
        }
      });
    },
    _repaint: function (code) {
      var grid = this;
      Object.keys(this._drawn).forEach(function (key) {
        if (grid._drawn[key].features.some(function (f) { return f.properties.code === code; })) { grid._paint(key); }
      });
    },
    setFeatureStyle: function (code, style) {
      this._override = { code: code, style: function (layer, props, z) { return style(props, z); } };
      this._repaint(code);
    },
    resetFeatureStyle: function (code) {
      if (this._override && this._override.code === code) { this._override = null; }
      this._repaint(code);
    },
    /* The properties of the feature under a point, or null: looked for in every tile around it (a territory drawn
       by one tile reaches over its neighbours), by its rings (even-odd, as the MVT rings are). */
    hit: function (latlng) {
      var grid = this, size = this.getTileSize(), found = null;
      if (this._tileZoom === undefined) { return null; }
      var point = this._map.project(latlng, this._tileZoom);
      Object.keys(this._drawn).forEach(function (key) {
        var d = grid._drawn[key], x = point.x - d.coords.x * size.x, y = point.y - d.coords.y * size.y;
        if (d.coords.z !== grid._tileZoom || x < -d.pad || y < -d.pad || x > size.x + d.pad || y > size.y + d.pad) { return; }
        d.features.forEach(function (f) {
          if (x >= f.box[0] && x <= f.box[2] && y >= f.box[1] && y <= f.box[3] && inside(f.rings, x, y)) { found = f.properties; }
        });
      });
      return found;
    },
    features: function () {
      var drawn = this._drawn;
      return Object.keys(drawn).reduce(function (all, key) { return all.concat(drawn[key].features); }, []);
    }
  });

  /* A decoded polygon feature in tile pixels: its rings, box and path. */
  function shape(f, scale) {
    var path = new Path2D(), box = [Infinity, Infinity, -Infinity, -Infinity];
    var rings = f.geometry.map(function (ring) {
      var xy = ring.map(function (pt, i) {
        var x = pt.x * scale, y = pt.y * scale;
        if (i) { path.lineTo(x, y); } else { path.moveTo(x, y); }
        box[0] = Math.min(box[0], x); box[1] = Math.min(box[1], y); box[2] = Math.max(box[2], x); box[3] = Math.max(box[3], y);
        return [x, y];
      });
      path.closePath();
      return xy;
    });
    return { properties: f.properties, rings: rings, box: box, path: path };
  }

  function inside(rings, x, y) {
    var odd = false;
    rings.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], b = ring[j];
        if ((a[1] > y) !== (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) { odd = !odd; }
      }
    });
    return odd;
  }

  /* A tile from the version's PMTiles archive on a static host or CDN (the layer's "archive" URL), decoded by
     VectorGrid's own reader from an object URL; null (read /tiles) without an archive or past its deepest zoom. */
  var archives = {};
  function archiveTile(grid, coords) {
    var url = grid.options.archive;
    if (!url || !window.pmtiles) { return Promise.resolve(null); }
    var archive = archives[url] || (archives[url] = new pmtiles.PMTiles(url));
    return archive.getHeader().then(function (header) {
      if (coords.z > header.maxZoom) { return null; }
      return archive.getZxy(coords.z, coords.x, coords.y).then(function (tile) {
        if (!tile) { return { layers: {} }; }  // an empty tile is not in the archive
        var blob = URL.createObjectURL(new Blob([tile.data]));
        var local = Object.create(grid, { _url: { value: blob } });
        return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(local, coords).finally(function () {
          URL.revokeObjectURL(blob);
        });
      });
    }).catch(function (err) {  // the static host cannot be read: the service's /tiles still can
      console.warn("territoires: " + url + " : " + err.message);
      return null;
    });
  }

  /* At zooms 7 – 9 the communes come in the order of their number (geo/tiles.py code_number), each with the difference
     d from the previous one: give the code back as a property, so that styles, tooltips and popups read props.code
     at every zoom. */
  function numberCode(n) {
    if (n >= 2000000) { return "2B" + String(n - 2000000).padStart(3, "0"); }
    if (n >= 1000000) { return "2A" + String(n - 1000000).padStart(3, "0"); }
    return String(n).padStart(5, "0");
  }
  function withCodes(layer) {
    var number = 0;
    (layer.features || []).forEach(function (f) {
      if (f.properties.code === undefined && f.properties.d !== undefined) {
        number += f.properties.d;
        f.properties.code = numberCode(number);
      }
    });
    return layer;
  }

  /* Where the boundaries of several dolls coincide, their lines are laid side by side, centred on the boundary, the
     outermost doll outside: the offsets (pixels towards the inner side) of lines of these weights, outermost first.
     The same rule as geo/mapspec.py doll_offsets. */
  function dollOffsets(weights, gap) {
    var total = weights.reduce(function (a, w) { return a + w; }, 0) + gap * (weights.length - 1), at = -total / 2;
    return weights.map(function (w) { var o = at + w / 2; at += w + gap; return o; });
  }

  /* A line moved sideways by d (in its own units) to its left as seen on the map (y down: the side (dy, -dx)),
     mitred at its vertices. */
  function offsetLine(points, d) {
    var n = points.length, nx = [], ny = [], out = [], i;
    if (n < 2 || d === 0) { return points; }
    for (i = 0; i < n - 1; i++) {
      var dx = points[i + 1].x - points[i].x, dy = points[i + 1].y - points[i].y, len = Math.sqrt(dx * dx + dy * dy) || 1;
      nx.push(dy / len);
      ny.push(-dx / len);
    }
    var closed = points[0].x === points[n - 1].x && points[0].y === points[n - 1].y;
    for (i = 0; i < n; i++) {
      var a = i > 0 ? i - 1 : (closed ? n - 2 : 0), b = i < n - 1 ? i : (closed ? 0 : n - 2);
      var sx = nx[a] + nx[b], sy = ny[a] + ny[b], k = Math.max(1 + nx[a] * nx[b] + ny[a] * ny[b], 0.25);
      out.push({ x: points[i].x + sx / k * d, y: points[i].y + sy / k * d });
    }
    return out;
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  /* One map page: its layers (each in a folium FeatureGroup), the coverage counts, the legend. */
  function Page(map, cfg) {
    this.map = map;
    this.cfg = cfg;
    this.coverage = null;
    this.stacks = {};
    this.basemap = false;
    this.selection = null;
    this.selected = null;
    this.tip = L.tooltip({ direction: "top", offset: [0, -8], opacity: 0.95, className: "t-tip" });
    this.hovered = null;
    this.layers = cfg.layers.map(function (lc, i) {
      return { cfg: lc, index: i, group: window[lc.group], grid: null, geo: null,
               members: lc.members ? new Set(lc.members) : null, codes: lc.codes ? new Set(lc.codes) : null };
    });
    this.dolls = this.layers.filter(function (l) { return l.cfg.level === "edge"; });
  }

  Page.prototype.count = function (n) {
    return n === 0 ? null : this.cfg.classes.reduce(function (found, c) { return n >= c.count ? c : found; }, null);
  };

  /* A style of the configuration, more transparent over a base map, with its pattern (named in "pattern") as
     Leaflet.pattern's object: the pattern holds the fill's opacity, so the path paints it whole. */
  Page.prototype.finish = function (st) {
    var out = L.extend({}, st), fade = this.basemap ? this.cfg.basemapFill : 1;
    if (st.pattern && window[st.pattern]) {
      out.fillPattern = window[st.pattern];
      out.fillOpacity = fade;
    } else if (st.fill) {
      out.fillOpacity = (st.fillOpacity === undefined ? 0.2 : st.fillOpacity) * fade;
    }
    return out;
  };

  /* The style of a territory in a layer at zoom z, or [] when the layer does not draw it. */
  Page.prototype.style = function (layer, props, z) {
    var lc = layer.cfg, code = props && props.code, st = lc.style;
    if (layer.codes && code !== undefined && !layer.codes.has(code)) { return []; }
    if (lc.gaps) {
      if (!this.coverage || !this.coverage.gapSet.has(code)) { return []; }
    } else if (lc.scheme) {
      if (!this.coverage || (this.coverage.communes[code] || []).indexOf(lc.scheme) < 0) { return []; }
    } else if (layer.members) {
      var until = lc.membersUntil === undefined ? Infinity : lc.membersUntil;
      st = layer.members.has(code) && z <= until ? lc.memberStyle : lc.style;
    } else if (lc.coverage && this.coverage) {
      var cls = this.count(this.coverage.count ? this.coverage.count[code] || 0 : (this.coverage.communes[code] || []).length);
      if (cls) { st = cls.style; }
    }
    return this.finish(L.extend({ className: lc.className }, st));
  };

  /* The dolls drawn now (their layers on the map), as a mask of their bits. */
  Page.prototype.shownDolls = function () {
    var map = this.map;
    return this.dolls.reduce(function (m, l) { return map.hasLayer(l.group) ? m | (1 << l.cfg.bit) : m; }, 0);
  };

  /* A doll's lines in a tile: the boundaries whose mask holds its bit, each moved to its place among the dolls drawn
     along it (geo/dolls.py: a boundary's inner side is on its left as seen on the map); as one feature, so one path
     per tile (the lines are not interactive, and hundreds of paths cost the browser more than their points). */
  Page.prototype.dollLines = function (layer, edges) {
    var page = this, bit = layer.cfg.bit, shown = page.shownDolls() | (1 << bit), units = edges.extent / 256, at = {};
    var weights = {};
    page.dolls.forEach(function (l) { weights[l.cfg.bit] = l.cfg.style.weight; });
    var lines = [];
    edges.features.forEach(function (f) {
      var m = f.properties.m;
      if (!(m & (1 << bit))) { return; }
      var drawn = m & shown;
      if (at[drawn] === undefined) {
        var bits = [];
        for (var b = 0; b < 31; b++) { if ((drawn & (1 << b)) && weights[b] !== undefined) { bits.push(b); } }
        at[drawn] = dollOffsets(bits.map(function (b) { return weights[b]; }), page.cfg.dollGap)[bits.indexOf(bit)] || 0;
      }
      var d = at[drawn] * units;
      f.geometry.forEach(function (line) { lines.push(offsetLine(line, d)); });
    });
    var features = lines.length ? [{ type: 2, properties: {}, geometry: lines }] : [];
    return { extent: edges.extent, features: features, length: features.length };
  };

  /* A commune's whole stack, fetched once (the hover tooltip and the popup share it). */
  Page.prototype.stack = function (code) {
    var stacks = this.stacks;
    if (!stacks[code]) {
      stacks[code] = fetchJSON(this.cfg.api + "/communes/" + encodeURIComponent(code) + (this.cfg.date ? "?date=" + this.cfg.date : ""));
      stacks[code].catch(function () { delete stacks[code]; });
    }
    return stacks[code];
  };

  /* The tooltip of a territory, built as DOM text (never HTML from data). */
  Page.prototype.tooltip = function (layer, props) {
    var page = this, lc = layer.cfg, div = el("div"), name = el("b", props.nom || "…");
    if (lc.url) {
      div.appendChild(el("span", props.from_nom + " ↔ " + props.to_nom));
      return div;
    }
    div.appendChild(name);
    div.appendChild(document.createTextNode(" "));
    div.appendChild(el("small", (LEVELS[lc.level] || "") + " " + props.code));
    if (lc.level === "commune") {  // the low-zoom tiles carry the code only; the EPCI is named from the stack
      var epci = el("small", "", "t-hint");
      div.appendChild(el("br"));
      div.appendChild(epci);
      page.stack(props.code).then(function (s) {
        name.textContent = s.commune.nom;
        epci.textContent = s.epci ? s.epci.nom : "";
      }, function () { name.textContent = props.nom || "?"; });
    }
    if ((lc.coverage || lc.scheme || lc.gaps) && page.coverage) {
      var ids = page.coverage.communes[props.code] || [], names = page.coverage.names;
      div.appendChild(el("br"));
      div.appendChild(document.createTextNode(ids.length ? "Couverte par " + ids.length + " : " +
        ids.map(function (i) { return names[i]; }).join(", ") : "Couverte par aucun des dispositifs choisis"));
    }
    if (lc.popup) {
      div.appendChild(el("br"));
      div.appendChild(el("small", "Cliquez pour tout ce qui la couvre", "t-hint"));
    }
    return div;
  };

  Page.prototype.popup = function (latlng, code) {
    var popup = L.popup({ maxWidth: 420, minWidth: 260, className: "t-popup" }).setLatLng(latlng).setContent("Chargement…");
    var kinds = this.cfg.kinds;
    popup.openOn(this.map);
    this.stack(code).then(function (stack) {
      popup.setContent(stackHtml(stack, kinds));
    }).catch(function (err) {
      popup.setContent(esc("Erreur : " + err.message));
    });
  };

  /* A layer drawn from vector tiles: a scale's polygons (SVG paths, hover tooltip and highlight, popup and selection
     on communes) or a doll's boundaries (lines laid side by side, not interactive). Tiles holding territories whole are
     drawn past their edges: SVG paths overflowing their tile, or (a layer with "canvas", the scales map's thousands of
     communes) a CanvasGrid ("layer.canvas") below "wholeBelow", whose territory under the pointer the map finds. */
  Page.prototype.grid = function (layer) {
    var page = this, map = page.map, lc = layer.cfg, styles = {}, doll = lc.level === "edge";
    styles[lc.level] = doll ? function () { return page.finish(L.extend({ className: lc.className }, lc.style)); }
                            : function (props, z) { return page.style(layer, props, z); };
    var grid = new Grid(lc.tiles, {
      dataLayer: lc.level,
      own: doll ? function (edges) { return page.dollLines(layer, edges); } : (lc.level === "commune" ? withCodes : null),
      bounds: lc.tileBounds ? L.latLngBounds(lc.tileBounds) : undefined,
      rendererFactory: function (coords, size, options) {  // tiles of whole territories are drawn past their edges
        var tile = L.svg.tile(coords, size, options);
        if (coords.z < lc.wholeBelow) { tile.getContainer().style.overflow = "visible"; }
        return tile;
      },
      vectorTileLayerStyles: styles,
      interactive: !doll,
      getFeatureId: doll ? undefined : function (f) { return f.properties.code; },
      minZoom: lc.canvas ? Math.max(lc.minZoom, lc.wholeBelow) : lc.minZoom,
      maxZoom: page.cfg.maxZoom,
      zIndex: 10 + layer.index,
      archive: lc.archive,
      fetchOptions: { credentials: "same-origin" }
    });
    if (doll) { return grid; }
    function over(g, props, latlng) {
      if (props.code === undefined) { return; }
      if (page.hovered) { page.hovered.grid.resetFeatureStyle(page.hovered.code); }
      page.hovered = { grid: g, code: props.code };
      g.setFeatureStyle(props.code, function (p, z) {
        var st = page.style(layer, p, z);
        return Array.isArray(st) ? st : L.extend({}, st, { weight: (st.weight || 1) + page.cfg.hoverExtra });
      });
      page.tip.setLatLng(latlng).setContent(page.tooltip(layer, props));
      if (!map.hasLayer(page.tip)) { page.tip.openOn(map); }
    }
    function out(g, code) {
      if (code === undefined) { return; }
      g.resetFeatureStyle(code);
      if (page.hovered && page.hovered.grid === g && page.hovered.code === code) { page.hovered = null; }
      map.closeTooltip(page.tip);
    }
    function click(code, latlng) {
      page.popup(latlng, code);
      page.select(code, "commune", false);
    }
    grid.on("mouseover", function (e) { over(grid, e.layer.properties, e.latlng); });
    grid.on("mousemove", function (e) { page.tip.setLatLng(e.latlng); });
    grid.on("mouseout", function (e) { out(grid, e.layer.properties.code); });
    if (lc.popup) { grid.on("click", function (e) { click(e.layer.properties.code, e.latlng); }); }
    if (!lc.canvas) { return grid; }
    // below "wholeBelow", the same territories on canvas (the vector grid takes over from there)
    var canvas = layer.canvas = new CanvasGrid(page, layer, grid, {
      bounds: grid.options.bounds, minZoom: lc.minZoom, maxZoom: lc.wholeBelow - 1, zIndex: 10 + layer.index });
    var under = null;
    function leave() {
      if (under) { out(canvas, under.code); }
      under = null;
      map.getContainer().classList.remove("t-pointer");
    }
    map.on("mousemove", function (e) {
      if (!map.hasLayer(canvas)) { return; }
      var hit = canvas.hit(e.latlng);
      if (hit !== under) {
        leave();
        under = hit;
        if (hit) { over(canvas, hit, e.latlng); }
      } else if (hit) {
        page.tip.setLatLng(e.latlng);
      }
      map.getContainer().classList.toggle("t-pointer", !!hit);
    });
    map.on("mouseout zoomstart", leave);
    if (lc.popup) {
      map.on("click", function (e) {
        var hit = map.hasLayer(canvas) && canvas.hit(e.latlng);
        if (hit) { click(hit.code, e.latlng); }
      });
    }
    return grid;
  };

  /* Redraw the grids that depend on the base map or on which dolls are shown. */
  Page.prototype.redraw = function (dollsOnly) {
    var map = this.map;
    this.layers.forEach(function (l) {
      if (l.grid && map.hasLayer(l.group) && (!dollsOnly || l.cfg.level === "edge")) { l.grid.redraw(); }
      if (l.canvas && map.hasLayer(l.group) && !dollsOnly) { l.canvas.redraw(); }
    });
  };

  /* A small GeoJSON layer from the API (the links between a network's members). */
  Page.prototype.geojson = function (layer) {
    var page = this, geo = L.geoJSON(null, {
      className: layer.cfg.className,
      style: function () { return layer.cfg.style; },
      onEachFeature: function (f, leaf) {
        leaf.bindTooltip(function () { return page.tooltip(layer, f.properties || {}); }, { sticky: true, direction: "top", opacity: 0.95 });
      }
    });
    return fetchJSON(layer.cfg.url).then(function (data) { geo.addData(data); }).catch(function (err) {
      console.warn("territoires: " + layer.cfg.url + " : " + err.message);
    }).then(function () { return geo; });
  };

  /* The metres one pixel spans at the map's zoom and centre (for the simplification of a selection). */
  function metresPerPixel(map) {
    return 156543.03 * Math.cos(map.getCenter().lat * Math.PI / 180) / Math.pow(2, map.getZoom());
  }

  /* Select a territory: outline it above every layer (the "t-selection" pane), fit the view to it if asked, and tell
     the page ("territoires:select" on the document and the map, detail {code, level, nom}; null clears it).
     The level is found by a search when not given. */
  Page.prototype.select = function (code, level, fit) {
    var page = this, map = page.map, api = page.cfg.api, seq = (page.selectSeq = (page.selectSeq || 0) + 1);
    function announce(detail) {
      page.selected = detail;
      document.documentElement.setAttribute("data-selected", detail ? detail.code : "");
      map.fire("territoires:select", { detail: detail });
      document.dispatchEvent(new CustomEvent("territoires:select", { detail: detail }));
      return detail;
    }
    if (page.selection) { map.removeLayer(page.selection); page.selection = null; }
    if (!code) { return Promise.resolve(announce(null)); }
    var found = level ? Promise.resolve({ code: code, level: level }) :
      fetchJSON(api + "/search?" + new URLSearchParams({ q: code, limit: "20" })).then(function (hits) {
        var hit = hits.filter(function (h) { return h.code === code; })[0];
        if (!hit) { throw new Error("territoire inconnu : " + code); }
        return hit;
      });
    return found.then(function (hit) {
      var query = new URLSearchParams({ within: hit.level === "quartier" ? "quartier:" + hit.code : hit.code,
                                        simplify: String(Math.round(metresPerPixel(map))) });
      return fetchJSON(api + "/territories/" + hit.level + "?" + query).then(function (data) {
        if (seq !== page.selectSeq) { return page.selected; }
        var feature = data.features.filter(function (f) { return f.properties.code === hit.code; })[0];
        if (!feature) { throw new Error("territoire hors de la carte : " + hit.code); }
        var sel = page.cfg.selection, group = L.layerGroup();
        [sel.halo, sel.line].forEach(function (st) {
          L.geoJSON(feature, { pane: "t-selection", interactive: false, style: function () {
            return L.extend({ className: "t-selected", fill: false }, st);
          } }).addTo(group);
        });
        page.selection = group.addTo(map);
        if (fit) { map.fitBounds(L.geoJSON(feature).getBounds(), { maxZoom: 13, animate: false }); }
        return announce({ code: hit.code, level: hit.level, nom: feature.properties.nom });
      });
    }).catch(function (err) {
      console.warn("territoires: sélection " + code + " : " + err.message);
      return null;
    });
  };

  /* Resolves once the layer's tiles in view are drawn (at once when it has none to load: hidden, below its first
     zoom, or out of its bounds); called right after the layer is added. */
  function loaded(page, layer) {
    var map = page.map;
    return Promise.all([layer.grid, layer.canvas].map(function (grid) {
      return new Promise(function (resolve) {
        if (!grid || !map.hasLayer(layer.group) || !grid._loading) { resolve(); return; }
        grid.once("load", function () { resolve(); });
      });
    }));
  }

  /* Feature pieces drawn by a layer in the loaded tiles (a territory cut by tile edges counts once per tile). */
  Page.prototype.featureCount = function (id) {
    var layer = this.layers.filter(function (l) { return l.cfg.id === id; })[0];
    if (!layer) { return 0; }
    if (layer.geo) { return layer.geo.getLayers().length; }
    var n = layer.canvas ? layer.canvas.features().length : 0, vt = (layer.grid && layer.grid._vectorTiles) || {};
    Object.keys(vt).forEach(function (k) { n += Object.keys(vt[k]._features).length; });
    return n;
  };

  /* Distinct codes drawn by a layer in the loaded tiles. */
  Page.prototype.codes = function (id) {
    var layer = this.layers.filter(function (l) { return l.cfg.id === id; })[0], seen = new Set();
    var vt = (layer && layer.grid && layer.grid._vectorTiles) || {};
    Object.keys(vt).forEach(function (k) { Object.keys(vt[k]._features).forEach(function (c) { seen.add(c); }); });
    if (layer && layer.canvas) { layer.canvas.features().forEach(function (f) { seen.add(f.properties.code); }); }
    return Array.from(seen).sort();
  };

  Page.prototype.start = function () {
    var page = this, map = page.map;
    // The map's own zoom range: otherwise Leaflet derives it from the layers' and, the commune layer (from z7)
    // being added first, would zoom a national view in to z7.
    map.setMinZoom(0);
    map.setMaxZoom(page.cfg.maxZoom);
    map.createPane("t-selection").style.zIndex = 450;
    L.control.scale({ imperial: false }).addTo(map);
    new Legend(page.cfg.legend, !page.cfg.embed).addTo(map);
    map.eachLayer(function (l) { if (l instanceof L.TileLayer) { page.basemap = true; } });
    map.on("baselayerchange", function (e) {
      page.basemap = e.layer instanceof L.TileLayer;
      page.redraw(false);
    });
    map.on("overlayadd overlayremove", function (e) {
      if (page.dolls.some(function (l) { return l.group === e.layer; })) { page.redraw(true); }
    });
    var counts = page.cfg.coverage ? fetchJSON(page.cfg.coverage).then(function (c) {
      c.gapSet = new Set(c.gaps);
      c.names = {};
      c.schemes.forEach(function (s) { c.names[s.id] = s.name; });
      page.coverage = c;
    }) : Promise.resolve();
    page.ready = counts.catch(function (err) {
      console.warn("territoires: " + page.cfg.coverage + " : " + err.message);
    }).then(function () {
      return Promise.all(page.layers.map(function (layer) {
        if (layer.cfg.url) {
          return page.geojson(layer).then(function (geo) { layer.geo = geo; layer.group.addLayer(geo); });
        }
        layer.grid = layer.cfg.level === "label" ? page.labels(layer) : page.grid(layer);
        layer.group.addLayer(layer.grid);
        if (layer.canvas) { layer.group.addLayer(layer.canvas); }
        return loaded(page, layer);
      }));
    }).then(function () {
      return page.cfg.select ? page.select(page.cfg.select.code, page.cfg.select.level, !page.cfg.permalink) : null;
    }).then(function () {
      document.documentElement.setAttribute("data-territoires", "ready");
      performance.mark("territoires-ready");  // the first tiles drawn: what bench/first_visit.py times
    });
    return page;
  };

  /* The attribution's prefix on every map: Leaflet named in French, without its flag. */
  var LEAFLET_PREFIX = '<a href="https://leafletjs.com" title="Bibliothèque de cartes Leaflet">Leaflet</a>';

  /* A map with no tiles (the standalone HTML map, folium GeoJSON layers): each doll's lines moved to their place
     (the offset in pixels each feature carries, "o", computed by geo/render.py doll_lines) whenever the map is
     drawn, and patterned fills given their Leaflet.pattern. */
  function standalone(map, cfg) {
    (cfg.dolls || []).forEach(function (name) {
      window[name].eachLayer(function (line) {
        var d = line.feature.properties.o;
        line._project = function () {
          L.Polyline.prototype._project.call(this);
          this._rings = this._rings.map(function (ring) {
            return offsetLine(ring, d).map(function (p) { return L.point(p.x, p.y); });
          });
        };
        line.redraw();
      });
    });
    (cfg.patterns || []).forEach(function (p) {
      window[p.layer].setStyle({ fillPattern: window[p.pattern], fillOpacity: 1 });
    });
    L.control.scale({ imperial: false }).addTo(map);  // metres only, as the web maps
    if (map.attributionControl) {
      map.attributionControl.setPrefix(LEAFLET_PREFIX);
    }
  }

  return {
    esc: esc,
    Grid: Grid,
    Page: Page,
    dollOffsets: dollOffsets,
    standalone: standalone,
    leafletPrefix: LEAFLET_PREFIX,
    pages: [],
    init: function (map, cfg) {
      var page = new Page(map, cfg), T = this;
      this.pages.push(page);
      page.start();
      // the controls are built while the first tiles are on their way: the layers ask for them first
      if (T.addControls) { setTimeout(function () { T.addControls(page); }, 0); }
      return page;
    },
    /* Select a territory on the page's map (by its code; the level is found if not given): it is outlined above
       every layer and the view fits it; "territoires:select" is dispatched on the document. null clears it. */
    select: function (code, level) {
      return this.pages.length ? this.pages[0].select(code, level, true) : Promise.resolve(null);
    }
  };
})();
