"""GET /maps/scales: every scale on one map, nested in a layer tree, each with its own line weight and colour; where
boundaries coincide the dolls are drawn side by side; place names, and the quartiers from the zoom they are legible."""
from __future__ import annotations

import datetime as dt
import html

import folium

from geo import mapspec
from geo.mapspec import SCALES
from geo.model import Model
from geo.render import groupings_shown
from geo.sources import vintage_note
from geo.territory import Territory
from service.maps.base import Bounds, View, doll_layers, leaflet_style, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings


def _swatch(style: dict, label: str) -> str:
    dash = "dashed" if style.get("dashArray") else "solid"
    return (f'<span class="t-swatch" style="border-top: {max(2, style["weight"]):.0f}px {dash} {style["color"]}"></span>'
            f"{html.escape(label)}")


def _groupings(model: Model, focus: Territory | None, at: dt.date) -> list[tuple[str, str, frozenset[str]]]:
    """(code, name, member EPCI) of the groupings to show (those in force at ``at``), the innermost doll first."""
    grp = model.scales["grouping"]
    keep = groupings_shown(model, focus, at)
    rows = {c: (str(n), frozenset(str(e).split(";")), p) for c, n, e, p in zip(grp["code"], grp["nom"], grp["epci"], grp["population"])
            if c in keep}
    order = mapspec.doll_order({c: (len(e), p) for c, (_, e, p) in rows.items()})
    return [(c, rows[c][0], rows[c][1]) for c in order]


def _grouping_tree(nodes: list[tuple[str, str, frozenset[str], dict, folium.FeatureGroup]]) -> list[dict]:
    """Groupings nested where one's EPCI are all in another's (the smallest such parent)."""
    children: dict[str, list[dict]] = {code: [] for code, *_ in nodes}
    roots: list[dict] = []
    entries = {code: {"label": _swatch(style, name), "layer": fg} for code, name, _, style, fg in nodes}
    for code, _, epci, _, _ in nodes:
        parents = [(len(e), c) for c, _, e, _, _ in nodes if c != code and epci < e]
        (children[min(parents)[1]] if parents else roots).append(entries[code])
    for code, entry in entries.items():
        if children[code]:
            entry["children"] = children[code]
    return roots


def scales_page(model: Model, view: View, settings: MapSettings, focus: Territory | None) -> str:
    """The nested-scales map, optionally focused on a territory: what is inside it and the scales above it."""
    bounds: Bounds = scope_bounds(model)
    title = SCALES.title
    if focus:
        bounds = territory_bounds(model, focus.level, [focus.code]) or bounds
        title = f"{SCALES.title} — {focus.nom}"
    m = new_map(view, settings, bounds, title)

    layers: list[dict] = []
    legend: list[dict] = []

    def add(layer: dict, label: str, legend_item: bool = True) -> folium.FeatureGroup:
        fg = folium.FeatureGroup(name=label, control=False).add_to(m)
        layers.append({**layer, "group": fg.get_name(), "within": focus.param if focus else None})
        if legend_item:
            legend.append({"label": label, **layer["style"]})
        return fg

    labels = {**mapspec.SCALE_LABELS, "region": mapspec.region_label(list(model.scales["region"]["nom"].astype(str)))}
    styles = {level: leaflet_style(sym) for level, sym in SCALES.symbols.items()}
    symbols = mapspec.grouping_symbols(g.id for g in model.catalogue.groupings)
    groups: dict[str, folium.FeatureGroup] = {}
    nodes = []
    # Feature groups are drawn in the order they are added: the specification's, the outermost doll on top; the
    # boundaries of the scales above the communes come from the tiles' doll boundaries, laid side by side.
    for level in SCALES.layers:
        if level == "grouping":
            shown = _groupings(model, focus, view.day)
            dolls = doll_layers(model, {f"grouping:{c}": symbols[c] for c, _, _ in shown})
            nodes = [(c, n, e, d["style"], add(d, n)) for (c, n, e), d in zip(shown, dolls)][::-1]
        elif level in ("commune", "quartier"):
            # a région's thousands of communes on canvas where tiles hold them whole (paths would cost the browser more)
            groups[level] = add({"id": level, "level": level, "style": styles[level], "popup": level == "commune",
                                 "canvas": level == "commune", "className": f"t-{level}"}, labels[level])
        else:
            groups[level] = add(doll_layers(model, {level: SCALES.symbols[level]})[0], labels[level])
    legend.reverse()
    # the tiles name every grouping: the page keeps the names of those in force at its date
    names = add({"id": "labels", "level": "label", "style": {}, "kinds": list(SCALES.labels), "groupings": [n for _, n, *_ in nodes]},
                mapspec.LEGEND["labels"], legend_item=False)

    tree = {"label": mapspec.LEGEND["scales-tree"], "selectAllCheckbox": mapspec.LEGEND["show-all"], "children": [
        {"label": _swatch(styles["region"], labels["region"]), "layer": groups["region"],
         "children": [{"label": _swatch(styles["departement"], labels["departement"]), "layer": groups["departement"]}]},
        *([{"label": labels["grouping"], "selectAllCheckbox": True, "children": _grouping_tree(nodes)}] if nodes else []),
        {"label": _swatch(styles["epci"], labels["epci"]), "layer": groups["epci"],
         "children": [{"label": _swatch(styles["commune"], labels["commune"]), "layer": groups["commune"],
                       "children": [{"label": _swatch(styles["quartier"], labels["quartier"]), "layer": groups["quartier"]}]}]},
        {"label": html.escape(mapspec.LEGEND["labels"]), "layer": names},
    ]}
    notes = [mapspec.LEGEND["dolls"], mapspec.QUARTIER_NOTE.format(mapspec.QUARTIER_ZOOM), mapspec.LEGEND["hint"], vintage_note()]
    config = {"title": title, "layers": layers, "legend": {"title": title, "items": legend, "notes": notes}}
    return render(model, m, view, settings, bounds, config, tree, focus)
