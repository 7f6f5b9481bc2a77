"""GET /maps/schemes/{id}: a scheme's members highlighted over faded context; links between network members."""
from __future__ import annotations

import html

import folium

from geo import mapspec
from geo.kinds import KINDS, kind_label
from geo.mapspec import SCHEME
from geo.model import Model
from geo.schemes import Scheme
from service.maps.base import View, leaflet_style, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def scheme_page(model: Model, view: View, settings: MapSettings, s: Scheme) -> str:
    """The scheme map: members at their own scale, context faded, period, source and as-of date in the legend."""
    scale, members = model.catalogue.members(s)
    codes = [c for c, *_ in members]
    named = scale  # the members' own scale names them in the legend
    if scale == "quartier":  # quartiers are not in the map tiles yet: draw the communes that hold them
        scale, codes = "commune", list(model.coverage.scheme_communes(s.id))
    in_scope = sorted(set(codes) & set(model.scales[scale]["code"]))
    bounds = territory_bounds(model, scale, in_scope) or scope_bounds(model)
    m = new_map(view, settings, bounds, s.name)

    layers: list[dict] = []
    tree_children: list[dict] = []

    def add(layer: dict, label: str) -> None:
        fg = folium.FeatureGroup(name=label, control=False).add_to(m)
        layers.append({**layer, "group": fg.get_name()})
        tree_children.append({"label": html.escape(label), "layer": fg})

    member = leaflet_style(mapspec.scheme_symbols({x.id: x.kind for x in model.catalogue.schemes.values()})[s.id])
    other = leaflet_style(SCHEME.symbols["others"])
    items = [{"label": f"{mapspec.MEMBER_LABELS[named]} ({len(in_scope)} dans le périmètre)", **member},
             {"label": mapspec.layer_label("others", SCHEME.name, named), **other}]
    # in the specification's order; the web map draws the members and the others as one layer of the members' scale
    for layer in SCHEME.layers:
        label = mapspec.layer_label(layer, SCHEME.name, named)
        if layer == "members":
            add({"id": "members", "level": scale, "style": other, "members": in_scope, "memberStyle": member,
                 "popup": scale == "commune", "className": f"t-{scale}"}, label)
        elif layer == "links" and s.kind in KINDS and KINDS[s.kind].links:
            link = leaflet_style(SCHEME.symbols["links"])
            add({"id": "links", "url": f"/api/schemes/{s.id}/links", "style": link, "className": "t-link"}, label)
            items.append({"label": label, **link})
        elif layer in ("departement", "region"):
            add({"id": layer, "level": layer, "style": leaflet_style(SCHEME.symbols[layer]), "className": f"t-{layer}"}, label)

    summary = model.coverage.summary(s.id)
    source = s.source or {}
    notes = [
        f"{kind_label(s.kind).capitalize()}, {mapspec.period_text(s.start, s.end)}.",
        f"Couvre {_n(summary['communes'])} communes, {_n(summary['population'])} habitants, "
        f"{_n(round(summary['area_km2']))} km² dans le périmètre.",
        f"Source : {source.get('title', 'non renseignée')}" + (f" ({source['publisher']})" if source.get("publisher") else "") + ".",
        f"À jour au {mapspec.fr_date(s.as_of)}." if s.as_of else "Date de mise à jour non renseignée.",
    ]
    if len(in_scope) < len(codes):
        notes.append(f"{len(codes) - len(in_scope)} membre(s) hors du périmètre servi.")
    legend = {"title": s.name, "items": items, "notes": notes,
              "links": [{"href": source["url"], "text": "Voir la source"}] if source.get("url") else [],
              "json": f"/api/schemes/{s.id}"}
    tree = {"label": html.escape(s.name), "children": tree_children}
    return render(model, m, view, bounds, {"title": s.name, "layers": layers, "legend": legend}, tree, settings=settings)
