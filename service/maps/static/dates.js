/* territoires — the date control of every map: a date field and a year slider (2010 – 2030), in French, usable with
   the keyboard; "Afficher" redraws the map as it stood that day (the page is asked again with date=, keeping the
   view), and the address bar always holds the date, so a permalink keeps it. A map of two dates (what changed)
   gets two fields, "du" and "au" (from= and to=). */
(function (T) {
  "use strict";

  function withDates(values) {
    var url = new URL(window.location.href);
    Object.keys(values).forEach(function (k) { url.searchParams.set(k, values[k]); });
    return url;
  }

  function dateField(form, text, value, dates) {
    var label = L.DomUtil.create("label", "", form);
    label.textContent = text + " ";
    var field = L.DomUtil.create("input", "t-date-field", label);
    field.type = "date";
    field.required = true;
    field.min = dates.min;
    field.max = dates.max;
    field.value = value;
    return field;
  }

  /* Two dates (a map of what changed between them): "du" and "au". */
  var IntervalControl = L.Control.extend({
    options: { position: "topleft" },
    initialize: function (page) { this.page = page; },
    onAdd: function () {
      var dates = this.page.cfg.dates;
      var form = L.DomUtil.create("form", "t-date leaflet-bar");
      form.setAttribute("aria-label", "Les deux dates comparées");
      var first = dateField(form, "Du", dates.from, dates), second = dateField(form, "Au", dates.to, dates);
      var button = L.DomUtil.create("button", "", form);
      button.type = "submit";
      button.textContent = "Comparer";
      L.DomUtil.create("small", "t-date-note", form).textContent = dates.text;
      L.DomEvent.disableClickPropagation(form);
      L.DomEvent.on(form, "submit", function (e) {
        L.DomEvent.preventDefault(e);
        if (!first.checkValidity()) { first.reportValidity(); return; }
        if (!second.checkValidity()) { second.reportValidity(); return; }
        window.location.assign(withDates({ from: first.value, to: second.value }).toString());
      });
      return form;
    }
  });

  /* The same day and month in another year (29 February becomes the 28th in a common year). */
  function inYear(day, year) {
    var parts = day.split("-"), month = Number(parts[1]), date = Number(parts[2]);
    var last = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return String(year).padStart(4, "0") + "-" + parts[1] + "-" + String(Math.min(date, last)).padStart(2, "0");
  }

  var DateControl = L.Control.extend({
    options: { position: "topleft" },
    initialize: function (page) { this.page = page; },
    onAdd: function () {
      var cfg = this.page.cfg, dates = cfg.dates;
      var form = L.DomUtil.create("form", "t-date leaflet-bar");
      form.setAttribute("aria-label", "Date de la situation affichée");
      var field = dateField(form, "Situation au", cfg.date, dates);
      var year = Number(cfg.date.slice(0, 4));
      var sliderLabel = L.DomUtil.create("label", "t-date-year", form);
      sliderLabel.textContent = "Année ";
      var slider = L.DomUtil.create("input", "", sliderLabel);
      slider.type = "range";
      slider.min = "2010";
      slider.max = "2030";
      slider.step = "1";
      slider.value = String(Math.min(2030, Math.max(2010, year)));
      slider.setAttribute("aria-valuetext", String(year));
      var shown = L.DomUtil.create("output", "", sliderLabel);
      shown.textContent = String(year);
      var button = L.DomUtil.create("button", "", form);
      button.type = "submit";
      button.textContent = "Afficher";
      var note = L.DomUtil.create("small", "t-date-note", form);
      note.textContent = dates.text;
      L.DomEvent.disableClickPropagation(form);
      L.DomEvent.disableScrollPropagation(form);
      L.DomEvent.on(slider, "input", function () {
        var day = inYear(field.value || cfg.date, Number(slider.value));
        field.value = day;
        shown.textContent = slider.value;
        slider.setAttribute("aria-valuetext", slider.value);
      });
      L.DomEvent.on(field, "input", function () {
        if (field.value) {
          slider.value = field.value.slice(0, 4);
          shown.textContent = field.value.slice(0, 4);
        }
      });
      L.DomEvent.on(form, "submit", function (e) {
        L.DomEvent.preventDefault(e);
        if (!field.checkValidity()) { field.reportValidity(); return; }
        window.location.assign(withDates({ date: field.value }).toString());
      });
      return form;
    }
  });

  var addControls = T.addControls;
  T.addControls = function (page) {
    if (addControls) { addControls(page); }
    var dates = page.cfg.dates;
    if (!dates) { return; }
    if (dates.from) {  // two dates: the page that embeds this map has its own fields
      if (!page.cfg.embed) { new IntervalControl(page).addTo(page.map); }
      window.history.replaceState(null, "", withDates({ from: dates.from, to: dates.to }).toString());
      return;
    }
    new DateControl(page).addTo(page.map);
    // the date shown is in the address bar, so that the permalink (and the share panel) keeps it
    window.history.replaceState(null, "", withDates({ date: page.cfg.date }).toString());
  };
})(territoires);
