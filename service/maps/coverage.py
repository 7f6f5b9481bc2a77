"""GET /maps/coverage: how many of the chosen schemes cover each commune, overlaps hatched, gaps apart."""
from __future__ import annotations

import html
import math
from urllib.parse import urlencode

import folium
from folium.plugins import StripePattern

from geo.model import Model
from service.api import parse_schemes, resolve
from service.maps.base import View, new_map, render, scope_bounds, territory_bounds
from service.settings import MapSettings

#: Fill per number of covering schemes (the last one for that many or more); from 2 on, hatched as well.
CLASSES = [
    {"count": 1, "fillColor": "#c7e9b4"},
    {"count": 2, "fillColor": "#7fcdbb", "hatch": {"angle": 45, "weight": 2, "space_weight": 5}},
    {"count": 3, "fillColor": "#41b6c4", "hatch": {"angle": -45, "weight": 3, "space_weight": 3}},
    {"count": 4, "fillColor": "#2c7fb8", "hatch": {"angle": 0, "weight": 3, "space_weight": 2}},
]
STRIPE = "#08306b"
COMMUNE = {"color": "#7a7a7a", "weight": 0.5, "fill": True, "fillColor": "#ffffff", "fillOpacity": 0.75}
GAP = {"color": "#d7191c", "weight": 2, "fill": True, "fillColor": "#fddbc7", "fillOpacity": 0.6}
CONTEXT = {"region": {"color": "#333333", "weight": 3, "fill": False}, "departement": {"color": "#6a3d9a", "weight": 1.8, "fill": False}}
TILE_PIXELS = 256


def seamless_period(angle: float, period: float) -> float:
    """The stripe period nearest ``period`` that repeats exactly across 256-pixel tiles at ``angle`` (0, ±45, 90°).

    Each vector tile is its own SVG, so a pattern restarts at every tile corner; stripes whose period divides
    the tile's width along their normal meet the next tile's stripes without a seam.
    """
    a = math.radians(angle)
    step = TILE_PIXELS * max(abs(math.cos(a)), abs(math.sin(a)))
    return step / max(1, round(step / period))


def coverage_page(model: Model, view: View, settings: MapSettings, schemes: str, within: str | None) -> str:
    """The coverage choropleth over the communes of ``within`` (the whole scope by default)."""
    ids = parse_schemes(model, schemes)
    within = within or None  # 'within=' (empty) is the whole scope
    bounds = scope_bounds(model)
    if within:
        level, code = resolve(model, within)
        bounds = territory_bounds(model, level, [code]) or bounds
    names = [model.catalogue.schemes[i].name for i in ids]
    title = "Couverture : " + ", ".join(names)
    m = new_map(view, settings, bounds, title)

    patterns = {}
    for cls in CLASSES:
        if "hatch" in cls:
            h = cls["hatch"]
            period = seamless_period(h["angle"], h["weight"] + h["space_weight"])
            pattern = StripePattern(angle=h["angle"], weight=h["weight"], space_weight=round(period - h["weight"], 4), color=STRIPE,
                                    space_color=cls["fillColor"], opacity=0.9, space_opacity=1.0, height=round(period, 4)).add_to(m)
            patterns[str(cls["count"])] = pattern.get_name()

    layers: list[dict] = []
    children: list[dict] = []

    def add(layer: dict, label: str) -> None:
        fg = folium.FeatureGroup(name=label, control=False).add_to(m)
        layers.append({"within": within, **layer, "group": fg.get_name()})
        children.append({"label": html.escape(label), "layer": fg})

    add({"id": "coverage", "level": "commune", "style": COMMUNE, "coverage": True, "popup": True, "className": "t-commune"},
        "Nombre de dispositifs par commune")
    add({"id": "gaps", "level": "commune", "style": GAP, "gaps": True, "popup": True, "className": "t-gap"},
        "Lacunes : communes couvertes par aucun")
    add({"id": "departement", "level": "departement", "style": CONTEXT["departement"], "className": "t-departement"}, "Départements")
    add({"id": "region", "level": "region", "style": CONTEXT["region"], "className": "t-region"}, "Région")

    matrix = model.coverage.matrix(ids, within)
    counts = matrix.sum(axis=1)
    top = CLASSES[-1]["count"]
    items = [{"label": f"Aucun (lacune) : {int((counts == 0).sum())} communes", **GAP}]
    for cls in CLASSES[: len(ids)]:
        n = int((counts >= cls["count"]).sum() if cls["count"] == top else (counts == cls["count"]).sum())
        plus = " ou plus" if cls["count"] == top and len(ids) > top else ""
        items.append({"label": f"{cls['count']}{plus} dispositif{'s' if cls['count'] > 1 else ''} : {n} communes",
                      "color": COMMUNE["color"], "weight": 1, "fill": True, "fillColor": cls["fillColor"],
                      "fillOpacity": 1, "hatch": {"color": STRIPE, **cls["hatch"]} if "hatch" in cls else None})
    query = {"schemes": ",".join(ids), **({"within": within} if within else {})}
    legend = {"title": "Couverture par les dispositifs choisis", "items": items,
              "notes": [f"{n} ({i})" for i, n in zip(ids, names)]
              + ["Les chevauchements sont hachurés : le motif change avec le nombre de dispositifs."],
              "json": "/api/coverage?" + urlencode(query)}
    config = {"title": title, "layers": layers, "legend": legend, "coverage": "/api/coverage?" + urlencode(query),
              "classes": [{"count": c["count"], "fillColor": c["fillColor"], "pattern": patterns.get(str(c["count"]))} for c in CLASSES]}
    tree = {"label": "Couverture", "children": children}
    return render(model, m, view, bounds, config, tree)
