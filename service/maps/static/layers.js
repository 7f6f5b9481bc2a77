/* territoires — map pages: layers loaded from the JSON API and simplified for the zoom shown,
   tooltips, a commune's whole stack in a popup, and the legend.
   Every text that comes from data is written through esc() (or textContent), never as raw HTML. */
var territoires = (function () {
  "use strict";

  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  var KINDS = { epci: "EPCI", grouping: "groupement", network: "réseau", club: "club", partnership: "partenariat",
                contract: "contrat", programme: "programme" };
  var LEVELS = { commune: "Commune", epci: "EPCI", departement: "Département", region: "Région", grouping: "Groupement" };
  var shared = {};  // whole-layer responses, fetched once per URL (several layers may read one)

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

  function getShared(url) {
    if (!shared[url]) {
      shared[url] = fetchJSON(url);
      shared[url].catch(function () { delete shared[url]; });
    }
    return shared[url];
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

  function stackHtml(s) {
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
        h += "<tr><td>" + esc(x.name) + ' <small class="t-kind">' + esc(KINDS[x.kind] || x.kind) + "</small>" +
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

  function swatch(item) {
    var css = "border:" + Math.max(1, Math.min(item.weight || 1, 5)) + "px " + (item.dashArray ? "dashed " : "solid ") +
              esc(item.color || "#000") + ";";
    if (item.fill) {
      css += "background:" + esc(item.fillColor || "#fff") + ";opacity:" + Math.max(0.35, item.fillOpacity || 0) + ";";
      if (item.hatch) {
        var w = item.hatch.weight, s = item.hatch.space_weight;
        css += "background-image:repeating-linear-gradient(" + (90 - item.hatch.angle) + "deg," + esc(item.hatch.color) + " 0 " +
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

  /* One map page: its layers (each in a folium FeatureGroup), the coverage counts, the legend. */
  function Page(map, cfg) {
    this.map = map;
    this.cfg = cfg;
    this.coverage = null;
    this.layers = cfg.layers.map(function (lc) {
      return { cfg: lc, group: window[lc.group], geo: null, state: null, seq: 0,
               members: lc.members ? new Set(lc.members) : null, codes: lc.codes ? new Set(lc.codes) : null };
    });
  }

  Page.prototype.tolerance = function () {
    var t = this.cfg.tolerances;
    return t[Math.max(0, Math.min(this.map.getZoom(), t.length - 1))];
  };

  /* What a layer should hold at the current view: whole at the overview, a padded bounding box deeper in. */
  Page.prototype.wanted = function () {
    var z = this.map.getZoom(), tol = this.tolerance();
    if (z <= this.fullZoom) { return { tol: tol, bbox: null }; }
    var b = this.map.getBounds().pad(0.5), step = 180 / Math.pow(2, z);
    var fl = function (v) { return Math.floor(v / step) * step; }, ce = function (v) { return Math.ceil(v / step) * step; };
    return { tol: tol, bbox: [Math.max(-180, fl(b.getWest())), Math.max(-90, fl(b.getSouth())),
                              Math.min(180, ce(b.getEast())), Math.min(90, ce(b.getNorth()))].map(function (v) { return +v.toFixed(5); }) };
  };

  function covers(bbox, bounds) {
    return !bbox || (bbox[0] <= bounds.getWest() && bbox[1] <= bounds.getSouth() && bbox[2] >= bounds.getEast() && bbox[3] >= bounds.getNorth());
  }

  Page.prototype.url = function (layer, want) {
    if (layer.cfg.url) { return layer.cfg.url; }
    var p = new URLSearchParams({ simplify: String(want.tol) });
    if (layer.cfg.within) { p.set("within", layer.cfg.within); }
    if (want.bbox) { p.set("bbox", want.bbox.join(",")); }
    return this.cfg.api + "/territories/" + layer.cfg.level + "?" + p.toString();
  };

  Page.prototype.count = function (n) {
    return n === 0 ? null : this.cfg.classes.reduce(function (found, c) { return n >= c.count ? c : found; }, null);
  };

  Page.prototype.style = function (layer, feature) {
    var lc = layer.cfg, code = feature.properties && feature.properties.code;
    if (layer.members) { return layer.members.has(code) ? lc.memberStyle : lc.style; }
    if (lc.coverage && this.coverage) {
      var cls = this.count((this.coverage.communes[code] || []).length);
      if (!cls) { return lc.style; }
      var st = L.extend({}, lc.style, { fillColor: cls.fillColor, fillOpacity: 0.9 });
      if (cls.pattern && window[cls.pattern]) { st.fillPattern = window[cls.pattern]; }
      return st;
    }
    return lc.style;
  };

  Page.prototype.keep = function (layer, feature) {
    var code = feature.properties && feature.properties.code;
    if (layer.codes) { return layer.codes.has(code); }
    if (layer.cfg.gaps) { return !!this.coverage && this.coverage.gapSet.has(code); }
    return true;
  };

  Page.prototype.tooltip = function (layer, feature) {
    var p = feature.properties || {};
    if (layer.cfg.url) { return esc(p.from_nom) + " ↔ " + esc(p.to_nom); }
    var h = "<b>" + esc(p.nom) + "</b> <small>" + esc(LEVELS[layer.cfg.level] || "") + " " + esc(p.code) + "</small>";
    if (layer.cfg.coverage && this.coverage) {
      var ids = this.coverage.communes[p.code] || [], names = this.coverage.names;
      h += "<br>" + (ids.length ? "Couverte par " + ids.length + " : " + ids.map(function (i) { return esc(names[i]); }).join(", ")
                                : "Couverte par aucun des dispositifs choisis");
    }
    if (layer.cfg.popup) { h += '<br><small class="t-hint">Cliquez pour tout ce qui la couvre</small>'; }
    return h;
  };

  Page.prototype.bind = function (layer, feature, leaf) {
    var page = this;
    leaf.bindTooltip(function () { return page.tooltip(layer, feature); }, { sticky: true, direction: "top", opacity: 0.95 });
    leaf.on("mouseover", function () { leaf.setStyle({ weight: (page.style(layer, feature).weight || 1) + 2 }); });
    leaf.on("mouseout", function () { layer.geo.resetStyle(leaf); });
    if (layer.cfg.popup) {
      leaf.bindPopup("Chargement…", { maxWidth: 420, minWidth: 260, className: "t-popup" });
      leaf.on("popupopen", function (e) {
        fetchJSON(page.cfg.api + "/communes/" + encodeURIComponent(feature.properties.code)).then(function (stack) {
          e.popup.setContent(stackHtml(stack));
        }).catch(function (err) {
          e.popup.setContent(esc("Erreur : " + err.message));
        });
      });
    }
  };

  Page.prototype.refresh = function (layer) {
    var page = this;
    if (!layer.group || !page.map.hasLayer(layer.group)) { return Promise.resolve(); }
    var want = page.wanted();
    if (layer.state && (layer.cfg.url || (layer.state.tol === want.tol && covers(layer.state.bbox, page.map.getBounds())))) {
      return Promise.resolve();
    }
    var url = page.url(layer, want), seq = ++layer.seq;
    var load = want.bbox ? fetchJSON(url) : getShared(url);
    return load.then(function (data) {
      if (seq !== layer.seq) { return; }
      layer.geo.clearLayers();
      layer.geo.addData(data);
      layer.state = want;
      layer.group.fire("territoires:loaded");
    }).catch(function (err) {
      console.warn("territoires: " + url + " : " + err.message);
    });
  };

  Page.prototype.refreshAll = function () {
    var page = this;
    return Promise.all(page.layers.map(function (l) { return page.refresh(l); }));
  };

  Page.prototype.featureCount = function (id) {
    var layer = this.layers.filter(function (l) { return l.cfg.id === id; })[0];
    return layer ? layer.geo.getLayers().length : 0;
  };

  Page.prototype.start = function () {
    var page = this, map = page.map;
    page.fullZoom = (page.cfg.bounds ? map.getBoundsZoom(L.latLngBounds(page.cfg.bounds)) : map.getZoom()) + 1;
    page.layers.forEach(function (layer) {
      layer.geo = L.geoJSON(null, {
        className: layer.cfg.className,
        style: function (f) { return page.style(layer, f); },
        filter: function (f) { return page.keep(layer, f); },
        onEachFeature: function (f, leaf) { page.bind(layer, f, leaf); }
      });
      layer.group.addLayer(layer.geo);
    });
    L.control.scale({ imperial: false }).addTo(map);
    new Legend(page.cfg.legend, !page.cfg.embed).addTo(map);
    var counts = page.cfg.coverage ? fetchJSON(page.cfg.coverage).then(function (c) {
      c.gapSet = new Set(c.gaps);
      c.names = {};
      c.schemes.forEach(function (s) { c.names[s.id] = s.name; });
      page.coverage = c;
    }) : Promise.resolve();
    page.ready = counts.then(function () { return page.refreshAll(); }).then(function () {
      document.documentElement.setAttribute("data-territoires", "ready");
    });
    map.on("moveend", function () { page.refreshAll(); });
    map.on("layeradd", function (e) {
      page.layers.forEach(function (l) { if (l.group === e.layer) { page.refresh(l); } });
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
