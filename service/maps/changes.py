"""GET /maps/changes: what changed between two dates, each commune by class (gained, lost, both, unchanged)."""
from __future__ import annotations

import html
from urllib.parse import urlencode

import folium

from geo import mapspec
from geo.changes import Changes
from geo.mapspec import CHANGES
from geo.model import Model
from geo.periods import french_date
from geo.sources import perimeters
from service.maps.base import View, date_range, leaflet_style, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings

REPLACED = "Une génération remplacée par la suivante (ACV 2018 → ACV 2023-2026, QPV 2015 → QPV 2024) n'est ni un gain ni une perte."


def interval_text(result: Changes) -> str:
    """'Du 1er janvier 2016 au 1er janvier 2026 — périmètres 2026'."""
    return f"Du {french_date(result.start)} au {french_date(result.end)} — {perimeters()}"


def changes_page(model: Model, view: View, settings: MapSettings, result: Changes) -> str:
    """The map of what changed in the communes of ``result.within`` (the whole scope by default)."""
    within = result.within
    bounds = (territory_bounds(model, within.level, [within.code]) if within else None) or scope_bounds(model)
    title = f"{CHANGES.title} — {within.nom}" if within else CHANGES.title
    m = new_map(view, settings, bounds, title)
    layers: list[dict] = []
    children: list[dict] = []
    summary = result.summary()
    items = []
    for layer in CHANGES.layers:  # the specification's order, the outermost on top
        style = leaflet_style(CHANGES.symbols[layer])
        if layer in mapspec.CHANGE_LABELS:
            label = mapspec.change_legend(layer, summary[layer]["communes"])
            codes = result.codes(layer)
            entry = {"id": layer, "level": "commune", "codes": codes, "style": style, "popup": True, "className": "t-commune"}
            items.append({"label": label, **style})
        else:
            label = mapspec.SCALE_LABELS[layer]
            entry = {"id": layer, "level": layer, "style": style, "className": f"t-{layer}"}
        fg = folium.FeatureGroup(name=label, control=False).add_to(m)
        layers.append({"within": within.param if within else None, **entry, "group": fg.get_name()})
        children.append({"label": html.escape(label), "layer": fg})
    names = folium.FeatureGroup(name=mapspec.LEGEND["labels"], control=False).add_to(m)
    layers.append({"within": within.param if within else None, "id": "labels", "level": "label", "style": {},
                   "kinds": list(CHANGES.labels), "group": names.get_name()})
    children.append({"label": html.escape(mapspec.LEGEND["labels"]), "layer": names})
    query = {"from": result.start.isoformat(), "to": result.end.isoformat(), **({"within": within.param} if within else {})}
    legend = {"title": title, "items": items, "notes": [interval_text(result), REPLACED,
                                                        "Cliquez sur une commune pour tout ce qui la couvre à la seconde date."],
              "json": "/api/changes?" + urlencode(query)}
    config = {"title": title, "layers": layers, "legend": legend, "date": result.end.isoformat(),
              "dates": date_range(interval_text(result), (result.start, result.end))}
    return render(model, m, view, settings, bounds, config, {"label": CHANGES.title, "children": children}, within)
