"""GET /maps/schemes/{id}: a scheme's members highlighted over faded context; links between network members; a
scheme of quartiers draws its quartiers from the zoom they are legible, and the communes that hold them below it."""
from __future__ import annotations

import html

import folium

from geo import mapspec
from geo.kinds import KINDS, kind_label
from geo.mapspec import SCHEME
from geo.model import Model
from geo.periods import in_force
from geo.schemes import Scheme, member_sources
from service.maps.base import View, doll_layers, leaflet_style, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def scheme_page(model: Model, view: View, settings: MapSettings, s: Scheme) -> str:
    """The scheme map at the view's date: its members in force then at their own scale, context faded, period, source
    and as-of date in the legend."""
    scale, members = model.catalogue.members(s)
    coverage = model.coverage.on(view.day)
    codes = [c for c, _, start, end in members if in_force(start, end, view.day)]
    in_scope = sorted(set(codes) & set(model.scales[scale]["code"]))
    holders = sorted(coverage.scheme_communes(s.id)) if scale == "quartier" else []
    # framed on the members in force, else (none then) on every member
    bounds = (territory_bounds(model, scale, in_scope) if scale != "quartier" else territory_bounds(model, "commune", holders)) \
        or territory_bounds(model, scale, [c for c, *_ in members]) or scope_bounds(model)
    m = new_map(view, settings, bounds, s.name)

    layers: list[dict] = []
    tree_children: list[dict] = []

    def add(layer: dict, label: str) -> None:
        fg = folium.FeatureGroup(name=label, control=False).add_to(m)
        layers.append({**layer, "group": fg.get_name()})
        tree_children.append({"label": html.escape(label), "layer": fg})

    member = leaflet_style(mapspec.scheme_symbols({x.id: x.kind for x in model.catalogue.schemes.values()})[s.id])
    other = leaflet_style(SCHEME.symbols["others"])
    items = [{"label": f"{mapspec.MEMBER_LABELS[scale]} ({len(in_scope)} dans le périmètre)", **member}]
    if scale == "quartier":
        items.append({"label": mapspec.QUARTIER_COMMUNES_LABEL.format(mapspec.QUARTIER_ZOOM - 1), **member,
                      "fillOpacity": member.get("fillOpacity", 0) / 2})
    items.append({"label": mapspec.layer_label("others", SCHEME.name, scale), **other})
    # in the specification's order; the web map draws the members and the others as one layer of the members' scale
    for layer in SCHEME.layers:
        label = mapspec.layer_label(layer, SCHEME.name, scale)
        if layer == "members" and scale == "quartier":  # the communes that hold them, until the quartiers show
            add({"id": "holders", "level": "commune", "style": other, "members": holders, "memberStyle": member,
                 "membersUntil": mapspec.QUARTIER_ZOOM - 1, "popup": True, "className": "t-commune"},
                mapspec.layer_label("others", SCHEME.name, scale))
            add({"id": "members", "level": "quartier", "style": other, "members": in_scope, "memberStyle": member,
                 "className": "t-quartier"}, label)
        elif layer == "members":
            add({"id": "members", "level": scale, "style": other, "members": in_scope, "memberStyle": member,
                 "popup": scale == "commune", "className": f"t-{scale}"}, label)
        elif layer == "links" and s.kind in KINDS and KINDS[s.kind].links:
            link = leaflet_style(SCHEME.symbols["links"])
            add({"id": "links", "url": f"/api/schemes/{s.id}/links", "style": link, "className": "t-link"}, label)
            items.append({"label": label, **link})
        elif layer in ("departement", "region"):
            add(doll_layers(model, {layer: SCHEME.symbols[layer]})[0], label)
    add({"id": "labels", "level": "label", "style": {}, "kinds": list(SCHEME.labels)}, mapspec.LEGEND["labels"])

    summary = coverage.summary(s.id)
    source = s.source or {}
    notes = [
        f"{kind_label(s.kind).capitalize()}, {mapspec.period_text(s.start, s.end)}.",
        f"Couvre {_n(summary['communes'])} communes, {_n(summary['population'])} habitants, "
        f"{_n(round(summary['area_km2']))} km² dans le périmètre.",
        f"Source : {source.get('title', 'non renseignée')}" + (f" ({source['publisher']})" if source.get("publisher") else "") + ".",
        f"À jour au {mapspec.fr_date(s.as_of)}." if s.as_of else "Date de mise à jour non renseignée.",
    ]
    if scale == "quartier":
        notes.append(mapspec.QUARTIER_NOTE.format(mapspec.QUARTIER_ZOOM))
    if len(in_scope) < len(codes):
        notes.append(f"{len(codes) - len(in_scope)} membre(s) hors du périmètre servi.")
    if len(codes) < len(members):
        notes.append(f"{len(members) - len(codes)} membre(s) non en vigueur à cette date (terminés ou à venir) : non surlignés.")
    own = member_sources(model.catalogue.member_source(s) if s.all_parent_members else s)
    notes += [f"Source de {n} membre{'s' if n > 1 else ''} : {label}." for label, _, n in own]
    links = [{"href": source["url"], "text": "Voir la source"}] if source.get("url") else []
    links += [{"href": url, "text": f"Source : {label}"} for label, url, _ in own if url]
    legend = {"title": s.name, "items": items, "notes": notes, "links": links, "json": f"/api/schemes/{s.id}"}
    tree = {"label": html.escape(s.name), "children": tree_children}
    return render(model, m, view, settings, bounds, {"title": s.name, "layers": layers, "legend": legend}, tree)
