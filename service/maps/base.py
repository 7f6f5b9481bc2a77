"""What every map page shares: the view parameters, the Folium map with its base layers, and rendering.

A page holds no polygons: it carries a JSON configuration (layers as vector tile URLs, styles, legend)
that service/maps/static/layers.js turns into Leaflet.VectorGrid layers drawing /tiles (SVG paths): the scales'
polygons, the doll boundaries laid side by side (one layer per doll, drawn from the tiles' ``edge`` layer) and the
place names (labels.js, from the tiles' ``label`` layer, written as DOM text).
"""
from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

import folium
from branca.element import Element
from fastapi import Depends, Query
from folium.plugins import StripePattern
from folium.template import Template

from geo import mapspec
from geo.archive import archive_name
from geo.kinds import KINDS
from geo.mapspec import HOVER_EXTRA_PX, Symbol
from geo.model import Model
from geo.periods import EARLIEST, LATEST
from geo.pyramid import SCALES_TILES, TileSpec
from geo.sources import situation
from geo.territory import Territory
from geo.tiles import WHOLE_PAD_PX, min_zoom, whole_below
from service.assets import render_offline
from service.deps import get_date
from service.maps.controls import Territoires, add_controls
from service.settings import NO_TILES_LABEL, MapSettings

Bounds = tuple[tuple[float, float], tuple[float, float]]  # ((south, west), (north, east))
#: folium's viewport forbids zooming the page (an accessibility failure): the page template's own viewport replaces it.
FOLIUM_VIEWPORT = re.compile(r'<meta name="viewport" content="width=device-width,\s*initial-scale=1.0, maximum-scale=1.0, user-scalable=no" />')
#: The page around a map: French, with a viewport for phones, and the map's script inside the body (branca's own
#: template has no language and puts it after the body).
PAGE_TEMPLATE = Template(
    "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "    {{this.header.render(**kwargs)}}\n</head>\n<body>\n"
    "    {{this.html.render(**kwargs)}}\n<script>\n    {{this.script.render(**kwargs)}}\n</script>\n</body>\n</html>\n")
MAX_ZOOM = 18
TILE_PIXELS = 256
BaseMap = Literal["none", "osm", "ign", "ign-ortho"]
#: Of folium's own assets, those the map pages use.
KEPT_ASSETS = frozenset({"leaflet", "leaflet_css"})


@dataclass(frozen=True)
class View:
    """Query parameters every map takes: base layer, embedding, the view a permalink reproduces, the selection, the date."""

    tiles: BaseMap | None = None
    embed: bool = False
    lat: float | None = None
    lon: float | None = None
    z: int | None = None
    select: str | None = None
    at: dt.date | None = None  # the situation shown (``date=``, parsed by the one date dependency; today by default)
    downloads: tuple = ()  # what the map offers to download (service/downloads.py), set by its route

    @classmethod
    def query(cls, at: Annotated[dt.date, Depends(get_date)],
              tiles: Annotated[BaseMap | None, Query(description="Fond de carte (none : aucun, hors ligne ; osm ; ign : Plan "
                                                                 "IGN v2 ; ign-ortho : photographies aériennes)")] = None,
              embed: Annotated[bool, Query(description="1 : version sans habillage pour une iframe")] = False,
              lat: Annotated[float | None, Query(ge=-90, le=90, description="Centre de la vue (permalien)")] = None,
              lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
              z: Annotated[int | None, Query(ge=0, le=MAX_ZOOM, description="Niveau de zoom (permalien)")] = None,
              select: Annotated[str | None, Query(max_length=60, description="Territoire mis en évidence (code ou identifiant)",
                                                  )] = None) -> View:
        return cls(tiles, embed, lat, lon, z, select or None, at)

    @property
    def day(self) -> dt.date:
        """The date shown (today when the view was built without one)."""
        return self.at or dt.date.today()


def date_range(text: str, interval: tuple[dt.date, dt.date] | None = None) -> dict:
    """What the date control of a page needs: the dates it accepts, the note it shows, the two dates of an interval."""
    out = {"min": EARLIEST.isoformat(), "max": LATEST.isoformat(), "text": text}
    return out | ({"from": interval[0].isoformat(), "to": interval[1].isoformat()} if interval else {})


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
    """Give every style with a ``hatch`` its Leaflet.pattern (one per hatch and fill), named in ``pattern``: opaque
    stripes over the fill at its opacity (layers.js then paints the pattern whole), so that the hatches of
    superposed layers show through each other."""
    if isinstance(value, list):
        for item in value:
            _add_patterns(m, item, made)
    elif isinstance(value, dict):
        if isinstance(value.get("hatch"), dict) and value.get("fillColor"):
            h = value["hatch"]
            key = (h["angle"], h["weight"], h["space"], h["color"], value["fillColor"], value.get("fillOpacity", 1.0))
            if key not in made:
                period = seamless_period(h["angle"], h["weight"] + h["space"])
                made[key] = StripePattern(angle=h["angle"], weight=h["weight"], space_weight=round(period - h["weight"], 4),
                                          color=h["color"], space_color=value["fillColor"], opacity=1.0,
                                          space_opacity=value.get("fillOpacity", 1.0), height=round(period, 4)).add_to(m).get_name()
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
    """A Folium map at the permalink's view or fitted to ``bounds``; its base layers are added by :func:`render`."""
    permalink = view.lat is not None and view.lon is not None and view.z is not None
    m = folium.Map(location=[view.lat, view.lon] if permalink else None, zoom_start=view.z if permalink else 6,
                   tiles=None, max_zoom=MAX_ZOOM)
    # folium's defaults for markers and popups (jQuery, Bootstrap's script, awesome-markers, icon fonts) serve
    # nothing on these pages and hold up their first paint: Leaflet and Bootstrap's style sheet (the typography) stay
    m.default_js = [r for r in m.default_js if r[0] in KEPT_ASSETS]
    m.default_css = [r for r in m.default_css if r[0] in KEPT_ASSETS]
    if not permalink:
        m.fit_bounds([list(bounds[0]), list(bounds[1])])
    root = m.get_root()
    root._template = PAGE_TEMPLATE
    root.header.add_child(Element(f"<title>{html.escape(title)}</title>"), name="title")
    return m


def base_layers(m: folium.Map, view: View, settings: MapSettings) -> tuple[dict, dict[str, str]]:
    """Every base layer of the settings, in the layer control (French names); only the chosen one ("none" by default:
    no request leaves the machine) is on the map, the others are fetched once chosen. Also each layer's name in the
    page → its ``tiles=`` key (the page keeps the choice in its address)."""
    chosen = view.tiles or settings.default_tiles
    none = folium.FeatureGroup(name=NO_TILES_LABEL, overlay=False, control=False, show=chosen == "none").add_to(m)
    children, keys = [{"label": html.escape(NO_TILES_LABEL), "layer": none}], {none.get_name(): "none"}
    for key, layer in settings.tiles.items():
        tile = folium.TileLayer(layer.url, attr=layer.attribution, name=layer.label, max_zoom=MAX_ZOOM, max_native_zoom=layer.max_zoom,
                                overlay=False, control=False, show=chosen == key).add_to(m)
        children.append({"label": html.escape(layer.label), "layer": tile})
        keys[tile.get_name()] = key
    return {"label": mapspec.LEGEND["basemaps"], "children": children}, keys


def tile_url(model: Model, levels: str, within: str | None) -> str:
    """URL template of vector tiles holding ``levels`` ('commune,edge,label'); the data version in it lets browsers
    keep tiles until it changes."""
    query = urlencode({"v": model.version, **({"within": within} if within else {})})
    return f"/tiles/{levels}/{{z}}/{{x}}/{{y}}.pbf?{query}"


def layer_bounds(model: Model, level: str, within: Territory | None, codes: list[str] | None) -> Bounds | None:
    """Bounds of what a layer draws (its scale, inside ``within``, among ``codes``), so no tile is asked for outside."""
    table = model.scales[level]
    keep = set(table["code"]) if not within else set(within.codes(level))
    if codes:
        keep &= set(codes)
    return territory_bounds(model, level, sorted(keep))


def doll_layers(model: Model, keys: dict[str, Symbol]) -> list[dict]:
    """Layers drawing the boundaries of some dolls (key → symbol: 'region', 'grouping:<id>'…) side by side, from the
    tiles' ``edge`` layer: each with its bit in the tiles' masks (geo/dolls.py)."""
    bits = {key: i for i, key in enumerate(model.dolls.keys)}
    out = []
    for key, sym in keys.items():
        level, _, code = key.partition(":")
        out.append({"id": key, "level": "edge", "doll": level, "bit": bits[key],
                    "codes": [code] if code else None, "style": leaflet_style(sym), "className": f"t-{level}"})
    return out


def selection(model: Model, select: str | None) -> dict | None:
    """The territory a page opens selected (``?select=``): its level and code (a French 404 when unknown)."""
    if not select:
        return None
    territory = model.territory(select)
    return {"level": territory.level, "code": territory.code}


def label_classes() -> dict:
    """How the page writes each class of place names (font, colour, halo, movable), from the specification."""
    return {k: {"font": mapspec.label_font(c), "color": c.colour, "halo": c.halo_px, "haloColor": mapspec.PAPER, "movable": c.movable}
            for k, c in mapspec.LABEL_CLASSES.items()}


def script_json(value: object) -> str:
    """JSON safe inside a <script> element (no '<', '>' or '&' that could close it)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def archive_url(model: Model, settings: MapSettings, levels: list[str], focus: str | None) -> str | None:
    """The URL of the version's tile archive on the configured static host, for a layer whose tiles it holds (the
    scales map's, no focus), or None (the layer reads /tiles)."""
    if not settings.tiles_base_url or focus or TileSpec(tuple(levels)) != SCALES_TILES:
        return None
    return f"{settings.tiles_base_url}/{archive_name(model.territories.scope, model.version)}"


def render(model: Model, m: folium.Map, view: View, settings: MapSettings, bounds: Bounds, config: dict, tree: dict | None,
           within: Territory | None = None) -> str:
    """Attach the base layers, the layer tree, the controls and the configuration; render with local assets only.

    Every layer of a scale, of doll boundaries (``level`` 'edge') or of place names ('label'), with no ``url``, is
    drawn from vector tiles, from its first zoom on; layers with the same focus (``within``: the page's territory,
    named by ``within.param`` in their config) share one tile URL holding all their levels (one request per tile,
    each layer drawing its own).
    With a tiles base URL in the ``settings``, layers whose tiles the version's archive holds read them from there
    (``archive``) down to its deepest zoom.
    """
    tiled = [layer for layer in config["layers"] if "level" in layer and "url" not in layer]
    levels: dict[str | None, list[str]] = {}
    for layer in tiled:
        levels.setdefault(layer.get("within"), [])
        if layer["level"] not in levels[layer.get("within")]:
            levels[layer.get("within")].append(layer["level"])
    for layer in tiled:
        focus = layer.get("within")
        drawn = layer.get("doll", layer["level"])
        bounds_of = "commune" if drawn == "label" else drawn
        layer.update(tiles=tile_url(model, ",".join(levels[focus]), focus), minZoom=layer.get("minZoom", min_zoom(drawn)),
                     wholeBelow=whole_below(drawn), wholePad=WHOLE_PAD_PX,
                     tileBounds=layer_bounds(model, bounds_of, within if focus else None,
                                             layer.get("codes") if drawn != "label" else None))
        if (archive := archive_url(model, settings, levels[focus], focus)) is not None:
            layer["archive"] = archive
    _add_patterns(m, [config["layers"], config.get("classes", [])], {})
    basemaps, basemap_keys = base_layers(m, view, settings)
    dating = {"date": view.day.isoformat(), "dates": date_range(situation(view.day))}  # a page showing two dates sets its own
    if "dates" not in config:
        config["legend"] = {**config["legend"], "notes": [situation(view.day), *config["legend"].get("notes", [])]}
    config = {"api": "/api", "embed": view.embed, "bounds": bounds, "maxZoom": MAX_ZOOM, "hoverExtra": HOVER_EXTRA_PX,
              "kinds": {k.id: k.label for k in KINDS.values()},
              "basemapFill": mapspec.BASEMAP_FILL_FACTOR, "dollGap": mapspec.DOLL_GAP_PX, "labelClasses": label_classes(),
              "labelPadding": mapspec.LABEL_PADDING_PX, "labelShifts": mapspec.LABEL_SHIFTS,
              "selection": {"halo": leaflet_style(mapspec.SELECTION_HALO), "line": leaflet_style(mapspec.SELECTION)},
              "select": selection(model, view.select), "permalink": view.lat is not None and view.lon is not None and view.z is not None,
              "downloads": [d.as_dict() for d in view.downloads], "basemaps": basemap_keys, **dating, **config}
    add_controls(m, tree, basemaps, embed=view.embed)
    Territoires(script_json(config), archive=any("archive" in layer for layer in config["layers"])).add_to(m)
    return FOLIUM_VIEWPORT.sub("", render_offline(m), count=1)
