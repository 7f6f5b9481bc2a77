"""GET /maps/coverage: the chosen schemes superposed, one texture each (their hatches cross where they overlap), with
which schemes overlap where; the number of schemes per commune as a choropleth; gaps as a light fill."""
from __future__ import annotations

import datetime as dt
import html
from urllib.parse import urlencode

import folium

from geo import mapspec
from geo.coverage import combinations
from geo.mapspec import COVERAGE, COVERAGE_CLASSES
from geo.model import Model
from geo.territory import Territory
from service.maps.base import View, doll_layers, leaflet_style, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings

#: Combinations named in the legend (the others are summed on one line).
MAX_COMBINATIONS = 8


def legend_sections(model: Model, ids: list[str], within: Territory | None, styles: dict[str, dict], at: dt.date) -> list[dict]:
    """The legend's sections at a date: the textures of the schemes, which schemes overlap where (communes per
    combination, its swatch the textures crossed), the number of schemes per commune (a programme's generations, a
    network and its clubs counted as one)."""
    names = {i: model.catalogue.schemes[i].name for i in ids}
    coverage = model.coverage.on(at)
    matrix = coverage.matrix(ids, within)
    counts = coverage.counts(ids, within)
    schemes = [{"label": mapspec.scheme_legend(names[i], int(matrix[i].sum())), **styles[i]} for i in ids]
    combos = combinations(matrix)
    overlaps = [{"label": mapspec.combination_label([names[i] for i in combo], n), **styles[combo[0]],
                 "hatches": [styles[i]["hatch"] for i in combo]} for combo, n in combos[:MAX_COMBINATIONS]]
    if len(combos) > MAX_COMBINATIONS:
        overlaps.append({"label": mapspec.LEGEND["other-combinations"].format(sum(n for _, n in combos[MAX_COMBINATIONS:]))})
    gaps = leaflet_style(mapspec.GAP)
    overlaps.append({"label": mapspec.count_legend(0, int((counts == 0).sum())), **gaps})
    top = COVERAGE_CLASSES[-1].count
    classes = []
    for c in COVERAGE_CLASSES[: len(ids)]:
        n = int((counts >= c.count).sum() if c.count == top else (counts == c.count).sum())
        classes.append({"label": mapspec.count_legend(c.count, n, open_ended=c.count == top and len(ids) > top), **leaflet_style(c.symbol)})
    return [{"title": mapspec.LEGEND["schemes"], "items": schemes},
            {"title": mapspec.LEGEND["combinations"], "items": overlaps},
            {"title": mapspec.LEGEND["coverage"], "items": classes}]


def coverage_page(model: Model, view: View, settings: MapSettings, ids: list[str], within: Territory | None) -> str:
    """The chosen schemes ``ids`` superposed over the communes of ``within`` (the whole scope by default)."""
    bounds = scope_bounds(model)
    if within:
        bounds = territory_bounds(model, within.level, [within.code]) or bounds
    names = [model.catalogue.schemes[i].name for i in ids]
    title = mapspec.coverage_title(names)
    m = new_map(view, settings, bounds, title)
    textures_first = len(ids) <= mapspec.OVERLAY_MAX

    layers: list[dict] = []
    children: list[dict] = []

    def add(layer: dict, label: str, show: bool = True) -> folium.FeatureGroup:
        fg = folium.FeatureGroup(name=label, control=False, show=show).add_to(m)
        layers.append({"within": within.param if within else None, **layer, "group": fg.get_name()})
        children.append({"label": html.escape(label), "layer": fg})
        return fg

    overlay = {i: leaflet_style(sym) for i, sym in mapspec.overlay_symbols(ids, {s.id: s.kind for s in model.catalogue.schemes.values()}).items()}
    styles = {layer: leaflet_style(sym) for layer, sym in COVERAGE.symbols.items()}
    for layer in COVERAGE.layers:  # the specification's order, the outermost on top
        label = mapspec.layer_label(layer, COVERAGE.name)
        if layer == "coverage":
            add({"id": layer, "level": "commune", "style": styles[layer], "coverage": True, "popup": True, "className": "t-commune"},
                label, show=not textures_first)
        elif layer == "gaps":
            add({"id": layer, "level": "commune", "style": styles[layer], "gaps": True, "popup": True, "className": "t-gap"}, label)
        elif layer == "schemes":
            for i, name in zip(ids, names):
                add({"id": f"scheme:{i}", "level": "commune", "style": overlay[i], "scheme": i, "popup": True,
                     "className": "t-scheme"}, name, show=textures_first)
        else:
            add(doll_layers(model, {layer: COVERAGE.symbols[layer]})[0], label)
    add({"id": "labels", "level": "label", "style": {}, "kinds": list(COVERAGE.labels)}, mapspec.LEGEND["labels"])

    query = {"schemes": ",".join(ids), **({"within": within.param} if within else {}), "date": view.day.isoformat()}
    sections = legend_sections(model, ids, within, overlay, view.day)
    legend = {"title": mapspec.LEGEND["coverage-title"], "items": [], "sections": sections,
              "notes": [mapspec.LEGEND["textures"], mapspec.LEGEND["overlaps"]], "json": "/api/coverage?" + urlencode(query)}
    classes = [{"count": c.count, "style": leaflet_style(c.symbol)} for c in COVERAGE_CLASSES]
    config = {"title": title, "layers": layers, "legend": legend, "coverage": "/api/coverage?" + urlencode(query), "classes": classes}
    tree = {"label": mapspec.LEGEND["coverage-tree"], "children": children}
    return render(model, m, view, settings, bounds, config, tree, within)
