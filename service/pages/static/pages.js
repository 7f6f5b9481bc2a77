/* territoires — the pages' small helpers, none needed to use them (every form works without script):
   suggestions under a search box (an HTML fragment rendered by the server, /recherche/suggestions), "tout cocher" in the
   coverage builder, permalinks and embed codes selected on focus. */
(function () {
  "use strict";

  function suggest(input) {
    var list = document.getElementById(input.getAttribute("data-suggest"));
    var fill = input.hasAttribute("data-fill"), timer = null, seq = 0;
    var hidden = null;
    if (fill) {  // the builder's territory: the code chosen goes in a hidden field, the name stays in the box
      hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "within";
      input.form.appendChild(hidden);
    }
    function close() { list.hidden = true; list.innerHTML = ""; }
    function load() {
      var q = input.value.trim(), mine = ++seq;
      if (!q) { close(); return; }
      var params = { q: q, pour: fill ? "territoire" : "page" }, date = input.form.querySelector("input[name=date]");
      if (date && date.value) { params.date = date.value; }  // the page's date: the pages suggested keep it
      var url = "/recherche/suggestions?" + new URLSearchParams(params);
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : ""; }).then(function (html) {
        if (mine !== seq) { return; }
        list.innerHTML = html;  // rendered and escaped by the server
        list.hidden = !html.trim();
      });
    }
    input.addEventListener("input", function () {
      if (hidden) { hidden.value = ""; }
      clearTimeout(timer);
      timer = setTimeout(load, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("a, button");
        if (first) { e.preventDefault(); first.focus(); }
      } else if (e.key === "Escape") { close(); }
    });
    list.addEventListener("keydown", function (e) {
      var items = Array.prototype.slice.call(list.querySelectorAll("a, button")), i = items.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && i < items.length - 1) { e.preventDefault(); items[i + 1].focus(); }
      else if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? items[i - 1] : input).focus(); }
      else if (e.key === "Escape") { close(); input.focus(); }
    });
    list.addEventListener("click", function (e) {
      var button = e.target.closest("button[data-within]");
      if (!button) { return; }
      e.preventDefault();
      input.value = button.getAttribute("data-name");
      hidden.value = button.getAttribute("data-within");
      close();
      input.focus();
    });
    document.addEventListener("click", function (e) { if (!list.contains(e.target) && e.target !== input) { close(); } });
  }

  function tickAll(box) {
    var group = box.getAttribute("data-group"), form = box.form;
    function members() { return Array.prototype.slice.call(form.querySelectorAll('input[data-in="' + group + '"]:not(:disabled)')); }
    function sync() {
      var on = members().filter(function (m) { return m.checked; }).length;
      box.checked = on > 0 && on === members().length;
      box.indeterminate = on > 0 && on < members().length;
    }
    box.addEventListener("change", function () { members().forEach(function (m) { m.checked = box.checked; }); });
    members().forEach(function (m) { m.addEventListener("change", sync); });
    sync();
    box.closest("p").hidden = false;  // it works with this script only
  }

  document.querySelectorAll("input[data-suggest]").forEach(suggest);
  document.querySelectorAll("input[data-group]").forEach(tickAll);
  document.querySelectorAll("input.permalink, textarea.embed").forEach(function (el) {
    el.addEventListener("focus", function () { el.select(); });
  });
})();
