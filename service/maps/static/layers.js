/* territoires — map pages: the scales drawn from vector tiles (/tiles, Leaflet.VectorGrid, SVG paths) with a
   level of detail per zoom, tooltips, a commune's whole stack in a popup, and the legend.
   Every text that comes from data is written through esc() or as DOM text (textContent), never as raw HTML. */
var territoires = (function () {
  "use strict";

  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  var LEVELS = { commune: "Commune", epci: "EPCI", departement: "Département", region: "Région", grouping: "Groupement" };

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
  function via(text) {
    if (text === "direct") { return "directe"; }
    return String(text).replace(/^via EPCI /, "par l'EPCI ").replace(" (all network members)", " (tous les membres du réseau)");
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
             '<br><small class="t-via">' + esc(via(x.via)) + "</small></td><td>" + esc(x.role || "") + "</td><td>" +
             esc(period(x.start, x.end)) + "</td></tr>";
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
      if (item.hatch) {
        var w = item.hatch.weight, s = item.hatch.space;
        css += "background-image:repeating-linear-gradient(" + item.hatch.angle + "deg," + esc(item.hatch.color) + " 0 " +
               w + "px,transparent " + w + "px " + (w + s) + "px);";
      }
    }
    return '<span class="t-key' + (item.fill ? " t-key-fill" : "") + '" style="' + css + '"></span>';
  }

  function legendHtml(legend, open) {
    var h = "<details" + (open ? " open" : "") + "><summary>" + esc(legend.title) + "</summary><ul>";
    legend.items.forEach(function (item) { h += "<li>" + swatch(item) + esc(item.label) + "</li>"; });
    h += "</ul>";
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

  /* Vector tiles fetched and decoded once per URL: a page's scales share one tile holding a layer per scale,
     and each scale's grid draws its own layer only; a bounded number of decoded tiles is kept. */
  var tiles = new Map(), MAX_TILES = 600;
  var Grid = L.VectorGrid.Protobuf.extend({
    _getVectorTilePromise: function (coords) {
      var key = L.Util.template(this._url, { x: coords.x, y: coords.y, z: coords.z }), name = this.options.dataLayer;
      var load = tiles.get(key), grid = this;
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
        var own = { layers: {} };
        if (tile.layers[name]) { own.layers[name] = name === "commune" ? withCodes(tile.layers[name]) : tile.layers[name]; }
        return own;
      });
    }
  });

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

  /* At zooms 7 – 9 a commune's code comes as the MVT feature id (geo/tiles.py feature_id): give it back as a
     property, so that styles, tooltips and popups read props.code at every zoom. */
  function featureCode(id) {
    if (id >= 2000000) { return "2B" + String(id - 2000000).padStart(3, "0"); }
    if (id >= 1000000) { return "2A" + String(id - 1000000).padStart(3, "0"); }
    return String(id).padStart(5, "0");
  }
  function withCodes(layer) {
    (layer.features || []).forEach(function (f) {
      if (f.properties.code === undefined && f.id !== undefined) {
        f.properties.code = featureCode(f.id);
      }
    });
    return layer;
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
    this.tip = L.tooltip({ direction: "top", offset: [0, -8], opacity: 0.95, className: "t-tip" });
    this.hovered = null;
    this.layers = cfg.layers.map(function (lc, i) {
      return { cfg: lc, index: i, group: window[lc.group], grid: null, geo: null,
               members: lc.members ? new Set(lc.members) : null, codes: lc.codes ? new Set(lc.codes) : null };
    });
  }

  Page.prototype.count = function (n) {
    return n === 0 ? null : this.cfg.classes.reduce(function (found, c) { return n >= c.count ? c : found; }, null);
  };

  /* A style of the configuration with its pattern (named in "pattern") as Leaflet.pattern's object. */
  function withPattern(st) {
    if (!st.pattern || !window[st.pattern]) { return st; }
    return L.extend({}, st, { fillPattern: window[st.pattern] });
  }

  /* The style of a territory in a layer, or [] when the layer does not draw it. */
  Page.prototype.style = function (layer, props) {
    var lc = layer.cfg, code = props && props.code, st = lc.style;
    if (layer.codes && code !== undefined && !layer.codes.has(code)) { return []; }  // (merged outlines have no code)
    if (lc.gaps) {
      if (!this.coverage || !this.coverage.gapSet.has(code)) { return []; }
    } else if (layer.members) {
      st = layer.members.has(code) ? lc.memberStyle : lc.style;
    } else if (lc.coverage && this.coverage) {
      var cls = this.count((this.coverage.communes[code] || []).length);
      if (cls) { st = cls.style; }
    }
    return withPattern(L.extend({ className: lc.className }, st));
  };

  /* A commune's whole stack, fetched once (the hover tooltip and the popup share it). */
  Page.prototype.stack = function (code) {
    var stacks = this.stacks;
    if (!stacks[code]) {
      stacks[code] = fetchJSON(this.cfg.api + "/communes/" + encodeURIComponent(code));
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
    if (!props.nom && lc.level === "commune") {  // the low-zoom tiles carry the code only
      page.stack(props.code).then(function (s) { name.textContent = s.commune.nom; }, function () { name.textContent = "?"; });
    }
    if (lc.coverage && page.coverage) {
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

  /* A layer of a scale drawn from vector tiles: SVG paths, hover tooltip and highlight, popup on communes. */
  Page.prototype.grid = function (layer) {
    var page = this, map = page.map, lc = layer.cfg, styles = {};
    styles[lc.level] = function (props) { return page.style(layer, props); };
    var grid = new Grid(lc.tiles, {
      dataLayer: lc.level,
      bounds: lc.tileBounds ? L.latLngBounds(lc.tileBounds) : undefined,
      rendererFactory: L.svg.tile,
      vectorTileLayerStyles: styles,
      interactive: true,
      getFeatureId: function (f) { return f.properties.code; },
      minZoom: lc.minZoom,
      maxZoom: page.cfg.maxZoom,
      zIndex: 10 + layer.index,
      archive: lc.archive,
      fetchOptions: { credentials: "same-origin" }
    });
    grid.on("mouseover", function (e) {
      var props = e.layer.properties;
      if (props.code === undefined) { return; }  // merged outlines (zooms 7 – 9): the communes carry the interaction
      if (page.hovered) { page.hovered.grid.resetFeatureStyle(page.hovered.code); }
      page.hovered = { grid: grid, code: props.code };
      grid.setFeatureStyle(props.code, function (p) {
        var st = page.style(layer, p);
        return Array.isArray(st) ? st : L.extend({}, st, { weight: (st.weight || 1) + page.cfg.hoverExtra });
      });
      page.tip.setLatLng(e.latlng).setContent(page.tooltip(layer, props));
      if (!map.hasLayer(page.tip)) { page.tip.openOn(map); }
    });
    grid.on("mousemove", function (e) { page.tip.setLatLng(e.latlng); });
    grid.on("mouseout", function (e) {
      var code = e.layer.properties.code;
      if (code === undefined) { return; }
      grid.resetFeatureStyle(code);
      if (page.hovered && page.hovered.grid === grid && page.hovered.code === code) { page.hovered = null; }
      map.closeTooltip(page.tip);
    });
    if (lc.popup) {
      grid.on("click", function (e) { page.popup(e.latlng, e.layer.properties.code); });
    }
    return grid;
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

  /* Resolves once the layer's tiles in view are drawn (at once when it is hidden or below its first zoom). */
  function loaded(page, layer) {
    var grid = layer.grid, map = page.map;
    return new Promise(function (resolve) {
      if (!map.hasLayer(layer.group) || map.getZoom() < (grid.options.minZoom || 0)) { resolve(); return; }
      grid.once("load", function () { resolve(); });
    });
  }

  /* Feature pieces drawn by a layer in the loaded tiles (a territory cut by tile edges counts once per tile). */
  Page.prototype.featureCount = function (id) {
    var layer = this.layers.filter(function (l) { return l.cfg.id === id; })[0];
    if (!layer) { return 0; }
    if (layer.geo) { return layer.geo.getLayers().length; }
    var n = 0, vt = layer.grid ? layer.grid._vectorTiles : {};
    Object.keys(vt).forEach(function (k) { n += Object.keys(vt[k]._features).length; });
    return n;
  };

  /* Distinct codes drawn by a layer in the loaded tiles. */
  Page.prototype.codes = function (id) {
    var layer = this.layers.filter(function (l) { return l.cfg.id === id; })[0], seen = new Set();
    var vt = layer && layer.grid ? layer.grid._vectorTiles : {};
    Object.keys(vt).forEach(function (k) { Object.keys(vt[k]._features).forEach(function (c) { seen.add(c); }); });
    return Array.from(seen).sort();
  };

  Page.prototype.start = function () {
    var page = this, map = page.map;
    // The map's own zoom range: otherwise Leaflet derives it from the layers' and, the commune layer (from z7)
    // being added first, would zoom a national view in to z7.
    map.setMinZoom(0);
    map.setMaxZoom(page.cfg.maxZoom);
    L.control.scale({ imperial: false }).addTo(map);
    new Legend(page.cfg.legend, !page.cfg.embed).addTo(map);
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
        layer.grid = page.grid(layer);
        var done = loaded(page, layer);
        layer.group.addLayer(layer.grid);
        return done;
      }));
    }).then(function () {
      document.documentElement.setAttribute("data-territoires", "ready");
      performance.mark("territoires-ready");  // the first tiles drawn: what bench/first_visit.py times
    });
    return page;
  };

  return {
    esc: esc,
    pages: [],
    init: function (map, cfg) {
      var page = new Page(map, cfg);
      this.pages.push(page);
      if (this.addControls) { this.addControls(page); }
      return page.start();
    }
  };
})();
