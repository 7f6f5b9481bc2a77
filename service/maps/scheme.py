"""GET /maps/schemes/{id}: a scheme's members highlighted over faded context; links between network members."""
from __future__ import annotations

import html

import folium

from geo.model import Model
from service.api import member_codes, scheme_or_404
from service.maps.base import KIND_LABELS, View, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings

CONTEXT = {"region": {"color": "#8a8a8a", "weight": 2.5, "fill": False}, "departement": {"color": "#aaaaaa", "weight": 1.5, "fill": False}}
MEMBER = {"color": "#b2182b", "weight": 1.5, "fill": True, "fillColor": "#ef8a62", "fillOpacity": 0.55}
OTHER = {"color": "#c8c8c8", "weight": 0.4, "fill": True, "fillColor": "#ffffff", "fillOpacity": 0.25}
LINK = {"color": "#2c2c7c", "weight": 3, "dashArray": "8 6", "opacity": 0.9}
SCALE_LABELS = {"commune": "Communes", "epci": "EPCI", "grouping": "Groupements"}
OTHER_LABELS = {"commune": "Autres communes", "epci": "Autres EPCI", "grouping": "Autres groupements"}


def _fr_date(value: object) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _period(start: object, end: object) -> str:
    if start and end:
        return f"du {_fr_date(start)} au {_fr_date(end)}"
    if start:
        return f"depuis le {_fr_date(start)}"
    return f"jusqu'au {_fr_date(end)}" if end else "période non renseignée"


def scheme_page(model: Model, view: View, settings: MapSettings, scheme_id: str) -> str:
    """The scheme map: members at their own scale, context faded, period, source and as-of date in the legend."""
    s = scheme_or_404(model, scheme_id)
    scale, members = member_codes(model, s)
    codes = [c for c, *_ in members]
    label = f"{SCALE_LABELS.get(scale, '')} membres"
    if scale == "quartier":  # quartiers are not in the map tiles yet: draw the communes that hold them
        scale, codes, label = "commune", list(model.coverage.scheme_communes(s.id)), "Communes des quartiers membres"
    in_scope = sorted(set(codes) & set(model.scales[scale]["code"]))
    bounds = territory_bounds(model, scale, in_scope) or scope_bounds(model)
    m = new_map(view, settings, bounds, s.name)

    layers: list[dict] = []
    tree_children: list[dict] = []

    def add(layer: dict, label: str) -> None:
        fg = folium.FeatureGroup(name=label, control=False).add_to(m)
        layers.append({**layer, "group": fg.get_name()})
        tree_children.append({"label": html.escape(label), "layer": fg})

    add({"id": "members", "level": scale, "style": OTHER, "members": in_scope, "memberStyle": MEMBER,
         "popup": scale == "commune", "className": f"t-{scale}"}, label)
    add({"id": "region", "level": "region", "style": CONTEXT["region"], "className": "t-region"}, "Région (contexte)")
    add({"id": "departement", "level": "departement", "style": CONTEXT["departement"], "className": "t-departement"},
        "Départements (contexte)")
    items = [{"label": f"{label} ({len(in_scope)} dans le périmètre)", **MEMBER},
             {"label": OTHER_LABELS[scale], **OTHER}]
    if s.kind in ("network", "partnership"):
        add({"id": "links", "url": f"/api/schemes/{s.id}/links", "style": LINK, "className": "t-link"}, "Liens entre membres")
        items.append({"label": "Liens entre membres", **LINK})

    summary = model.coverage.summary(s.id)
    source = s.source or {}
    notes = [
        f"{KIND_LABELS.get(s.kind, s.kind).capitalize()}, {_period(s.start, s.end)}.",
        f"Couvre {_n(summary['communes'])} communes, {_n(summary['population'])} habitants, "
        f"{_n(round(summary['area_km2']))} km² dans le périmètre.",
        f"Source : {source.get('title', 'non renseignée')}" + (f" ({source['publisher']})" if source.get("publisher") else "") + ".",
        f"À jour au {_fr_date(s.as_of)}." if s.as_of else "Date de mise à jour non renseignée.",
    ]
    if len(in_scope) < len(codes):
        notes.append(f"{len(codes) - len(in_scope)} membre(s) hors du périmètre servi.")
    legend = {"title": s.name, "items": items, "notes": notes,
              "links": [{"href": source["url"], "text": "Voir la source"}] if source.get("url") else [],
              "json": f"/api/schemes/{s.id}"}
    tree = {"label": html.escape(s.name), "children": tree_children}
    return render(model, m, view, bounds, {"title": s.name, "layers": layers, "legend": legend}, tree)
