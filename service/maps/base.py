"""What every map page shares: the view parameters, the Folium map with its base layer, and rendering.

A page holds no polygons: it carries a JSON configuration (layers as vector tile URLs, styles, legend)
that service/maps/static/layers.js turns into Leaflet.VectorGrid layers drawing /tiles (SVG paths).
"""
from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

import folium
from branca.element import Element
from fastapi import Query
from folium.plugins import StripePattern

from geo.archive import archive_name
from geo.kinds import KINDS
from geo.mapspec import HOVER_EXTRA_PX, Symbol
from geo.model import Model
from geo.pyramid import SCALES_TILES, TileSpec
from geo.territory import Territory
from geo.tiles import min_zoom
from service.assets import render_offline
from service.maps.controls import Territoires, add_controls
from service.settings import MapSettings

Bounds = tuple[tuple[float, float], tuple[float, float]]  # ((south, west), (north, east))
MAX_ZOOM = 18
TILE_PIXELS = 256
#: Of folium's own assets, those the map pages use.
KEPT_ASSETS = frozenset({"leaflet", "leaflet_css", "bootstrap_css"})


@dataclass(frozen=True)
class View:
    """Query parameters every map takes: base layer, embedding, and the view a permalink reproduces."""

    tiles: Literal["none", "osm", "ign"] | None = None
    embed: bool = False
    lat: float | None = None
    lon: float | None = None
    z: int | None = None

    @classmethod
    def query(cls,
              tiles: Annotated[Literal["none", "osm", "ign"] | None, Query(description="Fond de carte (none : aucun, hors ligne)")] = None,
              embed: Annotated[bool, Query(description="1 : version sans habillage pour une iframe")] = False,
              lat: Annotated[float | None, Query(ge=-90, le=90, description="Centre de la vue (permalien)")] = None,
              lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
              z: Annotated[int | None, Query(ge=0, le=MAX_ZOOM, description="Niveau de zoom (permalien)")] = None) -> View:
        return cls(tiles, embed, lat, lon, z)


def leaflet_style(symbol: Symbol) -> dict:
    """A symbol of the map specification as Leaflet path options; its pattern as ``hatch`` (Leaflet.pattern's
    angle: clockwise rotation of horizontal stripes), which :func:`render` turns into a pattern on the map."""
    style: dict = {"color": symbol.edge, "weight": symbol.weight, "fill": symbol.fill is not None}
    if symbol.opacity != 1:
        style["opacity"] = symbol.opacity
    if symbol.dash:
        style["dashArray"] = " ".join(f"{v:g}" for v in symbol.dash)
    if symbol.fill:
        style.update(fillColor=symbol.fill, fillOpacity=symbol.fill_opacity)
    if symbol.pattern:
        p = symbol.pattern
        style["hatch"] = {"angle": -p.angle, "weight": p.weight, "space": p.spacing, "color": p.colour}
    return style


def seamless_period(angle: float, period: float) -> float:
    """The stripe period nearest ``period`` that repeats exactly across 256-pixel tiles at ``angle`` (0, ±45, 90°).

    Each vector tile is its own SVG, so a pattern restarts at every tile corner; stripes whose period divides
    the tile's width along their normal meet the next tile's stripes without a seam.
    """
    a = math.radians(angle)
    step = TILE_PIXELS * max(abs(math.cos(a)), abs(math.sin(a)))
    return step / max(1, round(step / period))


def _add_patterns(m: folium.Map, value: object, made: dict) -> None:
    """Give every style with a ``hatch`` its Leaflet.pattern (one per hatch and fill), named in ``pattern``."""
    if isinstance(value, list):
        for item in value:
            _add_patterns(m, item, made)
    elif isinstance(value, dict):
        if isinstance(value.get("hatch"), dict) and value.get("fillColor"):
            h = value["hatch"]
            key = (h["angle"], h["weight"], h["space"], h["color"], value["fillColor"])
            if key not in made:
                period = seamless_period(h["angle"], h["weight"] + h["space"])
                made[key] = StripePattern(angle=h["angle"], weight=h["weight"], space_weight=round(period - h["weight"], 4),
                                          color=h["color"], space_color=value["fillColor"], opacity=1.0, space_opacity=1.0,
                                          height=round(period, 4)).add_to(m).get_name()
            value["pattern"] = made[key]
        for item in value.values():
            _add_patterns(m, item, made)


def scope_bounds(model: Model) -> Bounds:
    """The initial view: the région, or for France the metropolitan départements (the overseas ones are a search away)."""
    if model.territories.scope == "occitanie":
        x0, y0, x1, y1 = model.scales["region"].total_bounds
    else:
        communes = model.scales["commune"]
        x0, y0, x1, y1 = communes[~communes["departement"].astype(str).str.startswith("97")].total_bounds
    return (float(y0), float(x0)), (float(y1), float(x1))


def territory_bounds(model: Model, level: str, codes: list[str]) -> Bounds | None:
    """Bounds of some territories of a scale, or None if none is in scope."""
    gdf = model.scales[level]
    part = gdf[gdf["code"].isin(codes)]
    if part.empty:
        return None
    x0, y0, x1, y1 = part.total_bounds
    return (float(y0), float(x0)), (float(y1), float(x1))


def new_map(view: View, settings: MapSettings, bounds: Bounds, title: str) -> folium.Map:
    """A Folium map on the chosen base layer, at the permalink's view or fitted to ``bounds``."""
    tiles = view.tiles or settings.default_tiles
    permalink = view.lat is not None and view.lon is not None and view.z is not None
    m = folium.Map(location=[view.lat, view.lon] if permalink else None, zoom_start=view.z if permalink else 6,
                   tiles=None, max_zoom=MAX_ZOOM)
    # folium's defaults for markers and popups (jQuery, Bootstrap's script, awesome-markers, icon fonts) serve
    # nothing on these pages and hold up their first paint: Leaflet and Bootstrap's style sheet (the typography) stay
    m.default_js = [r for r in m.default_js if r[0] in KEPT_ASSETS]
    m.default_css = [r for r in m.default_css if r[0] in KEPT_ASSETS]
    if tiles != "none":
        layer = settings.tiles[tiles]
        folium.TileLayer(layer.url, attr=layer.attribution, name=layer.label, max_zoom=layer.max_zoom, control=False).add_to(m)
    if not permalink:
        m.fit_bounds([list(bounds[0]), list(bounds[1])])
    head = m.get_root().header
    head.add_child(Element(f"<title>{html.escape(title)}</title>"), name="title")
    return m


def tile_url(model: Model, levels: str, within: str | None, outlines: list[str] | None = None) -> str:
    """URL template of vector tiles holding ``levels`` ('commune,epci,…'), ``outlines`` of them drawn as lines where
    communes carry the interaction; the data version in it lets browsers keep tiles until it changes."""
    query = urlencode({"v": model.version, **({"within": within} if within else {}),
                       **({"outlines": ",".join(outlines)} if outlines else {})})
    return f"/tiles/{levels}/{{z}}/{{x}}/{{y}}.pbf?{query}"


def layer_bounds(model: Model, level: str, within: Territory | None, codes: list[str] | None) -> Bounds | None:
    """Bounds of what a layer draws (its scale, inside ``within``, among ``codes``), so no tile is asked for outside."""
    table = model.scales[level]
    keep = set(table["code"]) if not within else set(within.codes(level))
    if codes:
        keep &= set(codes)
    return territory_bounds(model, level, sorted(keep))


def script_json(value: object) -> str:
    """JSON safe inside a <script> element (no '<', '>' or '&' that could close it)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def archive_url(model: Model, settings: MapSettings | None, levels: list[str], outlines: list[str], focus: str | None) -> str | None:
    """The URL of the version's tile archive on the configured static host, for a layer whose tiles it holds (the
    scales map's, no focus), or None (the layer reads /tiles)."""
    if not settings or not settings.tiles_base_url or focus or TileSpec(tuple(levels), frozenset(outlines)) != SCALES_TILES:
        return None
    return f"{settings.tiles_base_url}/{archive_name(model.territories.scope, model.version)}"


def render(model: Model, m: folium.Map, view: View, bounds: Bounds, config: dict, tree: dict | None,
           within: Territory | None = None, settings: MapSettings | None = None) -> str:
    """Attach the layer tree, the controls and the configuration; render with local assets only.

    Every layer of a scale (``level``, no ``url``) is drawn from vector tiles, from its first zoom on; layers with
    the same focus (``within``: the page's territory, named by ``within.param`` in their config) share one tile URL
    holding all their scales (one request per tile, each layer drawing its own). With a tiles base URL in the
    ``settings``, layers whose tiles the version's archive holds read them from there (``archive``) down to its
    deepest zoom.
    """
    tiled = [layer for layer in config["layers"] if "level" in layer and "url" not in layer]
    levels: dict[str | None, list[str]] = {}
    for layer in tiled:
        levels.setdefault(layer.get("within"), [])
        if layer["level"] not in levels[layer.get("within")]:
            levels[layer.get("within")].append(layer["level"])
    for layer in tiled:
        focus = layer.get("within")
        outlines = [lv for lv in config.get("outlines", []) if lv in levels[focus]]
        layer.update(tiles=tile_url(model, ",".join(levels[focus]), focus, outlines), minZoom=min_zoom(layer["level"]),
                     tileBounds=layer_bounds(model, layer["level"], within if focus else None, layer.get("codes")))
        if (archive := archive_url(model, settings, levels[focus], outlines, focus)) is not None:
            layer["archive"] = archive
    _add_patterns(m, [config["layers"], config.get("classes", [])], {})
    config = {"api": "/api", "embed": view.embed, "bounds": bounds, "maxZoom": MAX_ZOOM, "hoverExtra": HOVER_EXTRA_PX,
              "kinds": {k.id: k.label for k in KINDS.values()}, **config}
    add_controls(m, tree, embed=view.embed)
    Territoires(script_json(config), archive=any("archive" in layer for layer in config["layers"])).add_to(m)
    return render_offline(m)
