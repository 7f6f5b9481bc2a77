/* territoires — controls every map shares: search box (by name or INSEE / SIREN code, through
   /api/search; the territory found is selected), permalink (the address bar always reproduces the view and the
   selection), share / embed panel, and in an iframe (embed=1) a link back to the full map. */
(function (T) {
  "use strict";
  var esc = T.esc;
  var LEVELS = { commune: "commune", epci: "EPCI", departement: "département", region: "région", grouping: "groupement" };

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
      input.placeholder = "Nom ou code INSEE / SIREN";
      input.setAttribute("aria-label", "Rechercher un territoire par nom ou code INSEE / SIREN");
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
          self.query(input.value).then(function () { if (self.hits.length) { self.choose(self.hits[0]); } });
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
        var li = L.DomUtil.create("li", "", self.list);
        li.appendChild(document.createTextNode(hit.nom + " "));  // names as DOM text, never as HTML
        L.DomUtil.create("small", "", li).textContent = (LEVELS[hit.level] || hit.level) + " " + hit.code;
        L.DomEvent.on(li, "click", function () { self.choose(hit); });
      });
      if (answered && !hits.length) {
        L.DomUtil.create("li", "t-empty", self.list).textContent = "Aucun territoire trouvé";
      }
    },
    choose: function (hit) {
      var b = hit.bbox;
      this.input.value = hit.nom;
      this.show([]);
      this.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: 13, animate: false });
      this.page.select(hit.code, hit.level, false);
    }
  });

  var Share = L.Control.extend({
    options: { position: "topleft" },
    initialize: function (page) { this.page = page; },
    onAdd: function (map) {
      var div = L.DomUtil.create("div", "t-share leaflet-bar");
      var button = L.DomUtil.create("a", "t-share-button", div);
      button.href = "#";
      button.title = "Lien permanent et intégration";
      button.setAttribute("role", "button");
      button.textContent = "Partager";
      var panel = L.DomUtil.create("div", "t-share-panel", div);
      panel.hidden = true;
      panel.innerHTML = '<label>Lien vers cette vue<input readonly class="t-permalink"></label>' +
                        '<label>Intégrer dans une page<textarea readonly rows="3" class="t-iframe"></textarea></label>';
      var link = panel.querySelector(".t-permalink"), code = panel.querySelector(".t-iframe");
      function fill() {
        link.value = viewUrl(map, false).toString();
        code.value = '<iframe src="' + esc(viewUrl(map, true).toString()) + '" width="100%" height="480" style="border:0" ' +
                     'loading="lazy" title="' + esc(document.title) + '"></iframe>';
      }
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.preventDefault(e);
        panel.hidden = !panel.hidden;
        if (!panel.hidden) { fill(); link.select(); }
      });
      map.on("moveend", function () { if (!panel.hidden) { fill(); } });
      return div;
    }
  });

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
    if (page.cfg.embed) {
      new FullMap().addTo(map);
      document.documentElement.classList.add("t-embed");
    } else {
      new Search(page).addTo(map);
      new Share(page).addTo(map);
    }
    map.on("moveend territoires:select", function () {
      window.history.replaceState(null, "", viewUrl(map, page.cfg.embed).toString());
    });
  };
})(territoires);
