"""What every map page shares: the view parameters, the Folium map with its base layer, and rendering.

A page holds no polygons: it carries a JSON configuration (layers as API URLs, styles, legend) that
service/maps/static/territoires.js turns into Leaflet layers loaded from the JSON API.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Annotated, Literal

import folium
from branca.element import Element
from fastapi import Query

from geo.model import Model
from service.assets import render_offline
from service.geojson import tolerance_for_zoom
from service.maps.controls import Territoires, add_controls
from service.settings import MapSettings

Bounds = tuple[tuple[float, float], tuple[float, float]]  # ((south, west), (north, east))
MAX_ZOOM = 18
#: Pixels per simplification tolerance: the layers of a view are simplified at about this many pixels.
TOLERANCE_PIXELS = 4.0
KIND_LABELS = {"epci": "EPCI", "grouping": "groupement", "network": "réseau", "club": "club", "partnership": "partenariat",
               "contract": "contrat", "programme": "programme"}


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
              z: Annotated[int | None, Query(ge=0, le=MAX_ZOOM, description="Niveau de zoom (permalien)")] = None) -> "View":
        return cls(tiles, embed, lat, lon, z)


def scope_bounds(model: Model) -> Bounds:
    x0, y0, x1, y1 = model.scales["region"].total_bounds if model.territories.scope == "occitanie" else model.scales["commune"].total_bounds
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
    if tiles != "none":
        layer = settings.tiles[tiles]
        folium.TileLayer(layer.url, attr=layer.attribution, name=layer.label, max_zoom=layer.max_zoom, control=False).add_to(m)
    if not permalink:
        m.fit_bounds([list(bounds[0]), list(bounds[1])])
    head = m.get_root().header
    head.add_child(Element(f"<title>{html.escape(title)}</title>"), name="title")
    return m


def tolerances() -> list[int]:
    """Simplification tolerance (metres) for each zoom level 0 … MAX_ZOOM."""
    return [tolerance_for_zoom(z, TOLERANCE_PIXELS) for z in range(MAX_ZOOM + 1)]


def script_json(value: object) -> str:
    """JSON safe inside a <script> element (no '<', '>' or '&' that could close it)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def render(m: folium.Map, view: View, bounds: Bounds, config: dict, tree: dict | None) -> str:
    """Attach the layer tree, the controls and the configuration; render with local assets only."""
    config = {"api": "/api", "tolerances": tolerances(), "embed": view.embed, "bounds": bounds, **config}
    add_controls(m, tree, embed=view.embed)
    Territoires(script_json(config)).add_to(m)
    return render_offline(m)
