/* territoires — the side panel of every map: the territory selected (a click on the map, a search result, a link)
   with its poupées russes and the schemes over it, as the server writes them (/territoires/{code}/panneau, escaped
   there), instead of a popup under the layer control. The map's own highlight of the selection is drawn by layers.js
   (territoires.select, "territoires:select"); the panel follows it, and opens by itself where there is none. */
(function (T) {
  "use strict";

  function Panel(page) {
    var self = this, map = page.map;
    this.page = page;
    this.code = null;
    this.seq = 0;
    var aside = this.el = L.DomUtil.create("aside", "t-panel", map.getContainer());
    aside.setAttribute("aria-label", "Territoire sélectionné");
    aside.hidden = true;
    var close = L.DomUtil.create("button", "t-panel-close", aside);
    close.type = "button";
    close.textContent = "Fermer";
    close.setAttribute("aria-label", "Fermer le panneau du territoire");
    this.body = L.DomUtil.create("div", "t-panel-content", aside);
    this.body.setAttribute("aria-live", "polite");
    L.DomEvent.disableClickPropagation(aside);
    L.DomEvent.disableScrollPropagation(aside);
    L.DomEvent.on(close, "click", function () { self.close(true); });
    L.DomEvent.on(aside, "keydown", function (e) { if (e.key === "Escape") { self.close(true); } });
  }

  /* Show a territory's panel (by its code); ``focus`` moves the keyboard focus into it (from the search). */
  Panel.prototype.open = function (code, focus) {
    var self = this, mine = ++this.seq;
    if (!code) { this.close(false); return Promise.resolve(); }
    if (code === this.code && !this.el.hidden) {
      if (focus) { this.focus(); }
      return Promise.resolve();
    }
    this.code = code;
    this.back = document.activeElement;
    this.el.hidden = false;
    this.page.map.getContainer().classList.add("t-panel-open");
    this.page.map.fire("territoires:panel", { open: true, code: code });
    this.body.textContent = "Chargement…";
    var day = this.page.cfg.date ? "?date=" + encodeURIComponent(this.page.cfg.date) : "";  // the stack at the map's date
    return fetch("/territoires/" + encodeURIComponent(code) + "/panneau" + day, { credentials: "same-origin" }).then(function (r) {
      return r.text().then(function (text) { return { ok: r.ok, text: text }; });
    }).then(function (answer) {
      if (mine !== self.seq) { return; }
      if (answer.ok) {
        self.body.innerHTML = answer.text;  // a fragment the server rendered, every text escaped
      } else {
        self.body.textContent = "Ce territoire n'a pas pu être chargé.";
      }
      document.documentElement.setAttribute("data-panel", code);
      if (focus) { self.focus(); }
    });
  };

  Panel.prototype.focus = function () {
    var title = this.el.querySelector(".t-panel-title");
    if (title) { title.focus(); }
  };

  Panel.prototype.close = function (returnFocus) {
    this.seq++;
    this.code = null;
    this.el.hidden = true;
    this.page.map.getContainer().classList.remove("t-panel-open");
    this.page.map.fire("territoires:panel", { open: false });
    document.documentElement.removeAttribute("data-panel");
    if (returnFocus && this.back && this.back.focus) { this.back.focus(); }
  };

  /* Select a territory from a search result or a table: the map highlights it where it can, the panel opens. */
  function choose(page, hit, focus) {
    if (page.select) { page.select(hit.code, hit.level, false); }
    return page.panel.open(hit.code, focus);
  }

  var previous = T.addControls;
  T.addControls = function (page) {
    page.panel = new Panel(page);
    page.choose = function (hit, focus) { return choose(page, hit, focus); };
    page.popup = function (latlng, code) { page.panel.open(code, false); };  // a click: the panel, not a popup
    document.addEventListener("territoires:select", function (e) {
      if (e.detail) { page.panel.open(e.detail.code, false); }
    });
    if (previous) { previous(page); }
  };
})(territoires);
