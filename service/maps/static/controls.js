/* territoires — controls every map shares: search box (territories by name or INSEE / SIREN code, schemes by name,
   through /api/search; a territory found is selected on the map and opens its panel, a scheme its page), permalink
   (the address bar always reproduces the view and the selection), downloads of the layers shown and the static map,
   share / embed panel, and in an iframe (embed=1) a link back to the full map. Leaflet's own controls speak French;
   the layer tree starts folded on narrow screens. Every control is a button or a link: reachable by Tab. */
(function (T) {
  "use strict";
  var esc = T.esc;
  var LEVELS = { commune: "commune", quartier: "quartier prioritaire", epci: "EPCI", departement: "département", region: "région",
                 grouping: "groupement", scheme: "dispositif" };
  var NARROW = 700;  // pixels: below, the layer tree starts folded

  /* The layer controls of each map, as they are added (folium adds the layer tree without naming it). */
  var layerControls = [], addLayers = L.Control.Layers.prototype.onAdd;
  L.Control.Layers.prototype.onAdd = function (map) {
    layerControls.push({ control: this, map: map });
    return addLayers.call(this, map);
  };

  function viewUrl(map, embed) {
    var url = new URL(window.location.href), c = map.getCenter(), page = T.pages[0];
    if (page && page.selected) { url.searchParams.set("select", page.selected.code); } else { url.searchParams.delete("select"); }
    url.searchParams.set("lat", c.lat.toFixed(5));
    url.searchParams.set("lon", c.lng.toFixed(5));
    url.searchParams.set("z", String(map.getZoom()));
    if (embed) { url.searchParams.set("embed", "1"); } else { url.searchParams.delete("embed"); }
    return url;
  }

  var Search = L.Control.extend({
    options: { position: "topleft" },
    initialize: function (page) { this.page = page; this.hits = []; this.timer = null; this.seq = 0; },
    onAdd: function (map) {
      var self = this, div = L.DomUtil.create("div", "t-search");
      var input = self.input = L.DomUtil.create("input", "", div);
      input.type = "search";
      input.placeholder = "Territoire ou dispositif";
      input.setAttribute("aria-label", "Rechercher un territoire (nom, code INSEE ou SIREN) ou un dispositif (nom)");
      self.list = L.DomUtil.create("ul", "t-results", div);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      L.DomEvent.on(input, "input", function () {
        clearTimeout(self.timer);
        self.timer = setTimeout(function () { self.query(input.value); }, 150);
      });
      L.DomEvent.on(input, "keydown", function (e) {
        if (e.key === "Enter") {
          e.preventDefault();
          clearTimeout(self.timer);
          self.query(input.value).then(function () { if (self.hits.length) { self.choose(self.hits[0], true); } });
        } else if (e.key === "ArrowDown") {
          var first = self.list.querySelector("button");
          if (first) { e.preventDefault(); first.focus(); }
        } else if (e.key === "Escape") { self.show([]); }
      });
      self.map = map;
      return div;
    },
    query: function (text) {
      var self = this, seq = ++self.seq, q = text.trim();
      if (!q || q.length > 100) { self.show([]); return Promise.resolve(); }
      return fetch(self.page.cfg.api + "/search?" + new URLSearchParams({ q: q, limit: "8" })).then(function (r) {
        return r.ok ? r.json() : [];
      }).then(function (hits) { if (seq === self.seq) { self.show(hits, true); } });
    },
    show: function (hits, answered) {
      var self = this;
      self.hits = hits;
      self.list.innerHTML = "";
      hits.forEach(function (hit) {
        var li = L.DomUtil.create("li", "", self.list), button = L.DomUtil.create("button", "", li);
        button.type = "button";
        button.appendChild(document.createTextNode(hit.nom + " "));  // names as DOM text, never as HTML
        L.DomUtil.create("small", "", button).textContent = (LEVELS[hit.level] || hit.level) +
          (hit.level === "scheme" ? "" : " " + hit.code);
        L.DomEvent.on(button, "click", function () { self.choose(hit, true); });
        L.DomEvent.on(button, "keydown", function (e) {
          var items = Array.prototype.slice.call(self.list.querySelectorAll("button")), i = items.indexOf(button);
          if (e.key === "ArrowDown" && i < items.length - 1) { e.preventDefault(); items[i + 1].focus(); }
          else if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? items[i - 1] : self.input).focus(); }
          else if (e.key === "Escape") { self.show([]); self.input.focus(); }
        });
      });
      if (answered && !hits.length) {
        L.DomUtil.create("li", "t-empty", self.list).textContent = "Aucun territoire trouvé";
      }
    },
    choose: function (hit, focus) {
      if (hit.level === "scheme") {  // a scheme: its page
        window.top.location.href = "/dispositifs/" + encodeURIComponent(hit.code);
        return;
      }
      var b = hit.bbox;
      this.input.value = hit.nom;
      this.show([]);
      this.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: 13, animate: false });
      if (this.page.choose) { this.page.choose(hit, focus); } else { this.page.select(hit.code, hit.level, false); }
    }
  });

  /* A button opening a small panel of links or fields, closed by Escape or a second press. */
  function dropdown(div, label, title, panelClass) {
    var button = L.DomUtil.create("button", "t-button", div);
    button.type = "button";
    button.title = title;
    button.textContent = label;
    button.setAttribute("aria-expanded", "false");
    var panel = L.DomUtil.create("div", panelClass, div);
    panel.hidden = true;
    function toggle(open) {
      panel.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
    }
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    L.DomEvent.on(button, "click", function (e) { L.DomEvent.preventDefault(e); toggle(panel.hidden); });
    L.DomEvent.on(div, "keydown", function (e) { if (e.key === "Escape") { toggle(false); button.focus(); } });
    return { button: button, panel: panel, toggle: toggle };
  }

  var Downloads = L.Control.extend({
    options: { position: "topleft" },
    initialize: function (page) { this.page = page; },
    onAdd: function () {
      var div = L.DomUtil.create("div", "t-downloads leaflet-bar");
      var d = dropdown(div, "Télécharger", "Télécharger les couches de la carte et la carte en image", "t-downloads-panel");
      var list = L.DomUtil.create("ul", "", d.panel);
      this.page.cfg.downloads.forEach(function (item) {
        var a = L.DomUtil.create("a", "", L.DomUtil.create("li", "", list));
        a.href = item.href;
        a.textContent = item.label;
        a.setAttribute("download", "");
      });
      return div;
    }
  });
  var Share = L.Control.extend({
    options: { position: "topleft" },
    initialize: function (page) { this.page = page; },
    onAdd: function (map) {
      var div = L.DomUtil.create("div", "t-share leaflet-bar");
      var d = dropdown(div, "Partager", "Lien permanent et code d'intégration", "t-share-panel"), panel = d.panel;
      panel.innerHTML = '<label>Lien vers cette vue<input readonly class="t-permalink"></label>' +
                        '<label>Intégrer dans une page<textarea readonly rows="3" class="t-iframe"></textarea></label>';
      var link = panel.querySelector(".t-permalink"), code = panel.querySelector(".t-iframe");
      function fill() {
        link.value = viewUrl(map, false).toString();
        code.value = '<iframe src="' + esc(viewUrl(map, true).toString()) + '" width="100%" height="480" style="border:0" ' +
                     'loading="lazy" title="' + esc(document.title) + '"></iframe>';
      }
      L.DomEvent.on(d.button, "click", function () { if (!panel.hidden) { fill(); link.select(); } });
      map.on("moveend", function () { if (!panel.hidden) { fill(); } });
      return div;
    }
  });

  /* The legend's height bounded by the room left under the layer tree above it (both on the right of the map). */
  function fitLegend(map, tree) {
    var legend = map.getContainer().querySelector(".leaflet-bottom.leaflet-right .t-legend");
    if (!legend) { return; }
    var room = legend.getBoundingClientRect().bottom - tree.getBoundingClientRect().bottom - 10;
    legend.style.maxHeight = Math.max(80, Math.min(room, window.innerHeight * 0.6)) + "px";
  }

  /* Leaflet's own words in French: zoom buttons, attribution prefix, the folded layer tree's button; the layer tree
     and the legend folded on narrow screens (the tree opens with its button, and folds again on a click on the map). */
  function french(map) {
    if (map.getContainer().clientWidth < NARROW) {
      setTimeout(function () {  // once the page has drawn its legend
        map.getContainer().querySelectorAll(".t-legend details[open]").forEach(function (d) { d.open = false; });
      }, 0);
    }
    if (map.zoomControl) {  // (kept, not replaced: the fullscreen button lives in its bar)
      [[".leaflet-control-zoom-in", "Zoom avant"], [".leaflet-control-zoom-out", "Zoom arrière"]].forEach(function (b) {
        var button = map.zoomControl.getContainer().querySelector(b[0]);
        if (button) { button.title = b[1]; button.setAttribute("aria-label", b[1]); }
      });
    }
    if (map.attributionControl) {
      map.attributionControl.setPrefix(T.leafletPrefix);
    }
    layerControls.forEach(function (entry) {
      var control = entry.control, container = control.getContainer();
      if (entry.map !== map || !container) { return; }
      var toggle = container.querySelector(".leaflet-control-layers-toggle");
      if (toggle) {
        toggle.title = "Couches de la carte";
        toggle.setAttribute("aria-label", "Couches de la carte");
      }
      map.on("click", control.collapse, control);  // a click on the map folds the tree (its button opens it again)
      L.DomEvent.on(container, "keydown", function (e) {
        if (e.key === "Escape") { control.collapse(); if (toggle) { toggle.focus(); } }
      });
      if (map.getContainer().clientWidth < NARROW) { control.collapse(); }
      map.on("territoires:panel", function (e) { if (e.open) { control.collapse(); } });  // the side panel takes the right
      // the legend (bottom right) stops below the tree (top right) and scrolls, rather than lying over its foot
      var fit = function () { setTimeout(function () { fitLegend(map, container); }, 0); };
      fit();
      map.on("resize click territoires:panel", fit);
      L.DomEvent.on(container, "click mouseenter mouseleave keydown", fit);
    });
  }

  var FullMap = L.Control.extend({
    options: { position: "topright" },
    onAdd: function (map) {
      var a = L.DomUtil.create("a", "t-fullmap");
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = "Ouvrir la carte complète ↗";
      function fill() { a.href = viewUrl(map, false).toString(); }
      fill();
      map.on("moveend", fill);
      return a;
    }
  });

  T.addControls = function (page) {
    var map = page.map;
    french(map);
    if (page.cfg.embed) {
      new FullMap().addTo(map);
      document.documentElement.classList.add("t-embed");
    } else {
      new Search(page).addTo(map);
      if (page.cfg.downloads && page.cfg.downloads.length) { new Downloads(page).addTo(map); }
      new Share(page).addTo(map);
    }
    map.on("moveend territoires:select", function () {
      window.history.replaceState(null, "", viewUrl(map, page.cfg.embed).toString());
    });
    // the base map chosen goes into the address bar too, so a permalink and a page asked at another date keep it
    map.on("baselayerchange", function (e) {
      var url = viewUrl(map, page.cfg.embed), keys = page.cfg.basemaps || {};
      Object.keys(keys).forEach(function (name) { if (window[name] === e.layer) { url.searchParams.set("tiles", keys[name]); } });
      window.history.replaceState(null, "", url.toString());
    });
  };
})(territoires);
