"""GET /maps/coverage: how many of the chosen schemes cover each commune, overlaps hatched, gaps apart."""
from __future__ import annotations

import html
from urllib.parse import urlencode

import folium

from geo import mapspec
from geo.mapspec import COVERAGE, COVERAGE_CLASSES
from geo.model import Model
from geo.territory import Territory
from service.maps.base import View, leaflet_style, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings


def coverage_page(model: Model, view: View, settings: MapSettings, ids: list[str], within: Territory | None) -> str:
    """The coverage choropleth of the schemes ``ids`` over the communes of ``within`` (the whole scope by default)."""
    bounds = scope_bounds(model)
    if within:
        bounds = territory_bounds(model, within.level, [within.code]) or bounds
    names = [model.catalogue.schemes[i].name for i in ids]
    title = mapspec.coverage_title(names)
    m = new_map(view, settings, bounds, title)

    layers: list[dict] = []
    children: list[dict] = []

    def add(layer: dict, label: str) -> None:
        fg = folium.FeatureGroup(name=label, control=False).add_to(m)
        layers.append({"within": within.param if within else None, **layer, "group": fg.get_name()})
        children.append({"label": html.escape(label), "layer": fg})

    styles = {layer: leaflet_style(sym) for layer, sym in COVERAGE.symbols.items()}
    for layer in COVERAGE.layers:  # the specification's order, the outermost on top
        label = mapspec.layer_label(layer, COVERAGE.name)
        if layer in ("coverage", "gaps"):
            add({"id": layer, "level": "commune", "style": styles[layer], layer: True, "popup": True,
                 "className": "t-commune" if layer == "coverage" else "t-gap"}, label)
        else:
            add({"id": layer, "level": layer, "style": styles[layer], "className": f"t-{layer}"}, label)

    matrix = model.coverage.matrix(ids, within)
    counts = matrix.sum(axis=1)
    top = COVERAGE_CLASSES[-1].count
    items = [{"label": mapspec.count_legend(0, int((counts == 0).sum())), **styles["gaps"]}]
    classes = [{"count": c.count, "style": leaflet_style(c.symbol)} for c in COVERAGE_CLASSES]
    for cls in classes[: len(ids)]:
        n = int((counts >= cls["count"]).sum() if cls["count"] == top else (counts == cls["count"]).sum())
        items.append({"label": mapspec.count_legend(cls["count"], n, open_ended=cls["count"] == top and len(ids) > top), **cls["style"]})
    query = {"schemes": ",".join(ids), **({"within": within.param} if within else {})}
    legend = {"title": mapspec.LEGEND["coverage-title"], "items": items,
              "notes": [f"{n} ({i})" for i, n in zip(ids, names)] + [mapspec.LEGEND["overlaps"]],
              "json": "/api/coverage?" + urlencode(query)}
    config = {"title": title, "layers": layers, "legend": legend, "coverage": "/api/coverage?" + urlencode(query), "classes": classes}
    tree = {"label": mapspec.LEGEND["coverage-tree"], "children": children}
    return render(model, m, view, bounds, config, tree, within, settings=settings)
