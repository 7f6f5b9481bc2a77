"""GET /maps/scales: every scale on one map, nested in a layer tree, each with its own line weight and colour."""
from __future__ import annotations

import html

import folium

from geo.model import Model
from geo.sources import vintage_note
from service.api import codes_within, resolve
from service.maps.base import Bounds, View, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings

#: Line style per scale, from the outermost doll to the innermost.
STYLES = {
    "region": {"color": "#222222", "weight": 4.5, "fill": False},
    "departement": {"color": "#6a3d9a", "weight": 3, "fill": False},
    "grouping": [{"color": "#d7191c", "weight": 3.5, "dashArray": "10 6", "fill": False},
                 {"color": "#f07c00", "weight": 3, "dashArray": "6 4", "fill": False},
                 {"color": "#0571b0", "weight": 3, "dashArray": "2 5", "fill": False}],
    "epci": {"color": "#1a9641", "weight": 1.6, "fill": False},
    "commune": {"color": "#8c8c8c", "weight": 0.5, "fill": True, "fillColor": "#ffffff", "fillOpacity": 0.05},
}
HINT = "Survolez un territoire pour son nom et son code ; cliquez sur une commune pour tout ce qui la couvre."


def _swatch(style: dict, label: str) -> str:
    dash = "dashed" if style.get("dashArray") else "solid"
    return (f'<span class="t-swatch" style="border-top: {max(2, style["weight"]):.0f}px {dash} {style["color"]}"></span>'
            f"{html.escape(label)}")


def _groupings(model: Model, focus: str | None) -> list[tuple[str, str, frozenset[str]]]:
    """(code, name, member EPCI) of the groupings to show, largest first."""
    grp = model.scales["grouping"]
    keep = codes_within(model, "grouping", focus) if focus else frozenset(grp["code"])
    rows = [(c, str(n), frozenset(str(e).split(";")), p) for c, n, e, p in zip(grp["code"], grp["nom"], grp["epci"], grp["population"])
            if c in keep]
    return [(c, n, e) for c, n, e, _ in sorted(rows, key=lambda r: (-len(r[2]), -r[3]))]


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


def scales_page(model: Model, view: View, settings: MapSettings, focus: str | None) -> str:
    """The nested-scales map, optionally focused on a territory: what is inside it and the scales above it."""
    bounds: Bounds = scope_bounds(model)
    title = "Échelles territoriales"
    if focus:
        level, code = resolve(model, focus)
        bounds = territory_bounds(model, level, [code]) or bounds
        nom = model.scales[level].set_index("code")["nom"].get(code, code)
        title = f"Échelles territoriales — {nom}"
    m = new_map(view, settings, bounds, title)

    layers: list[dict] = []
    legend: list[dict] = []

    def add(level: str, label: str, style: dict, codes: list[str] | None = None) -> folium.FeatureGroup:
        fg = folium.FeatureGroup(name=label, control=False).add_to(m)
        layers.append({"id": f"{level}:{codes[0]}" if codes else level, "level": level, "group": fg.get_name(), "within": focus,
                       "codes": codes, "style": style, "popup": level == "commune", "className": f"t-{level}"})
        legend.append({"label": label, **style})
        return fg

    region_label = ("Région " + " / ".join(model.scales["region"]["nom"].astype(str)) if model.territories.scope == "occitanie"
                    else "Régions")
    # Feature groups are drawn in the order they are added: the innermost doll first, the région on top.
    fg_com = add("commune", "Communes", STYLES["commune"])
    fg_epci = add("epci", "EPCI (intercommunalités)", STYLES["epci"])
    nodes = [(c, n, e, STYLES["grouping"][i % len(STYLES["grouping"])]) for i, (c, n, e) in enumerate(_groupings(model, focus))]
    nodes = [(c, n, e, s, add("grouping", n, s, [c])) for c, n, e, s in reversed(nodes)][::-1]
    fg_dep = add("departement", "Départements", STYLES["departement"])
    fg_region = add("region", region_label, STYLES["region"])
    legend.reverse()

    tree = {"label": "Échelles", "selectAllCheckbox": "Tout afficher ou masquer", "children": [
        {"label": _swatch(STYLES["region"], region_label), "layer": fg_region,
         "children": [{"label": _swatch(STYLES["departement"], "Départements"), "layer": fg_dep}]},
        *([{"label": "Groupements d'EPCI", "selectAllCheckbox": True, "children": _grouping_tree(nodes)}] if nodes else []),
        {"label": _swatch(STYLES["epci"], "EPCI (intercommunalités)"), "layer": fg_epci,
         "children": [{"label": _swatch(STYLES["commune"], "Communes"), "layer": fg_com}]},
    ]}
    # at zooms 7 – 9 the communes carry hover and click: the other scales come as outlines (half the bytes)
    config = {"title": title, "layers": layers, "outlines": ["epci", "departement", "region", "grouping"],
              "legend": {"title": title, "items": legend, "notes": [HINT, vintage_note()]}}
    return render(model, m, view, bounds, config, tree)
