"""The change preview's map: an inline SVG of the members a new list adds, changes or removes, over the départements
and the région in scope (Lambert-93), drawn with the map specification's symbols; each shape says what it is."""
from __future__ import annotations

import html

import geopandas as gpd
import numpy as np
import shapely

from geo.mapspec import CONTEXT, MEMBER_CHANGE_LABELS, MEMBER_CHANGE_SYMBOLS, Symbol
from geo.memberlists import Change
from geo.model import Model

WIDTH = 640  # SVG user units (CSS pixels at 100 %)
IDS = {"ajouté": "ajoute", "modifié": "modifie", "retiré": "retire"}  # ASCII names of the statuses, for ids and classes
TOLERANCE_M = 400  # simplification of the drawn shapes


def _path(geometry: shapely.Geometry, x0: float, y1: float, scale: float) -> str:
    """SVG path data of a (multi)polygon, projected to the viewBox (y down)."""
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)
            px, py = (xy[:, 0] - x0) * scale, (y1 - xy[:, 1]) * scale
            parts.append("M" + " L".join(f"{a:.1f} {b:.1f}" for a, b in zip(px, py)) + "Z")
    return "".join(parts)


def _style(symbol: Symbol, pattern_id: str | None = None) -> str:
    fill = f"url(#{pattern_id})" if pattern_id else (symbol.fill or "none")
    dash = f' stroke-dasharray="{" ".join(f"{d:g}" for d in symbol.dash)}"' if symbol.dash else ""
    return (f'fill="{fill}" fill-opacity="{symbol.fill_opacity if symbol.fill else 0:g}" stroke="{symbol.edge}" '
            f'stroke-width="{symbol.weight:g}"{dash}')


def change_map(model: Model, found: list[Change], scales: dict[str, str], names: dict[str, dict[str, str]]) -> str:
    """The SVG of the changes (``scales``: each scheme's member scale; ``names``: names by scale and code)."""
    context = model.scales["departement"].to_crs(2154)
    x0, y0, x1, y1 = context.total_bounds
    scale = WIDTH / (x1 - x0)
    height = (y1 - y0) * scale
    defs, shapes = [], []
    for status, symbol in MEMBER_CHANGE_SYMBOLS.items():
        if symbol.pattern:
            p = symbol.pattern
            defs.append(f'<pattern id="motif-{IDS[status]}" patternUnits="userSpaceOnUse" width="{p.period:g}" height="{p.period:g}" '
                        f'patternTransform="rotate({-p.angle})"><rect width="{p.period:g}" height="{p.period:g}" fill="{symbol.fill}" '
                        f'fill-opacity="{symbol.fill_opacity:g}"/><line x1="0" y1="0" x2="0" y2="{p.period:g}" stroke="{p.colour}" '
                        f'stroke-width="{p.weight:g}"/></pattern>')
    for status in MEMBER_CHANGE_SYMBOLS:
        subset = [c for c in found if c.status == status]
        for level in sorted({scales[c.scheme] for c in subset}):
            level_scale = "commune" if level == "quartier" else level
            frame = model.scales[level_scale]
            codes = [c.code for c in subset if scales[c.scheme] == level]
            if level == "quartier":  # quartiers are drawn as the communes holding them
                table = model.territories.cog.quartier_communes
                codes = list(table.loc[table["quartier"].isin(codes), "commune"])
            chosen = gpd.GeoDataFrame(frame[frame["code"].isin(codes)], crs=frame.crs).to_crs(2154)
            chosen = chosen.set_geometry(shapely.simplify(chosen.geometry.values, TOLERANCE_M, preserve_topology=True))
            symbol = MEMBER_CHANGE_SYMBOLS[status]
            style = _style(symbol, f"motif-{IDS[status]}" if symbol.pattern else None)
            for code, geometry in zip(chosen["code"], chosen.geometry):
                label = f"{names.get(level_scale, {}).get(code, code)} ({code}) : {status}"
                shapes.append(f'<path class="changement {IDS[status]}" data-code="{html.escape(code)}" {style} '
                              f'd="{_path(geometry, x0, y1, scale)}"><title>{html.escape(label)}</title></path>')
    outline = shapely.simplify(context.geometry.values, TOLERANCE_M, preserve_topology=True)
    dep = CONTEXT["departement"]
    background = [f'<path fill="none" stroke="{dep.edge}" stroke-width="{dep.weight:g}" d="{_path(g, x0, y1, scale)}"/>' for g in outline]
    counts = (f"{MEMBER_CHANGE_LABELS[s].lower()} {sum(c.status == s for c in found)}" for s in MEMBER_CHANGE_SYMBOLS)
    title = "Carte des changements : " + ", ".join(counts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-labelledby="carte-titre" '
            f'class="carte"><title id="carte-titre">{html.escape(title)}</title><defs>{"".join(defs)}</defs>'
            f'<g class="fond">{"".join(background)}</g><g class="changements">{"".join(shapes)}</g></svg>')


def legend_items() -> list[dict]:
    """The legend of the change map: label and a small SVG swatch style per status."""
    return [{"status": IDS[s], "label": MEMBER_CHANGE_LABELS[s], "style": _style(sym, f"motif-{IDS[s]}" if sym.pattern else None)}
            for s, sym in MEMBER_CHANGE_SYMBOLS.items()]
