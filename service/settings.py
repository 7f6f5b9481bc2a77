"""Map settings: the base tile layers a map may use (URLs from the environment), "none" by default (nothing is asked
of another machine), and the bounds on what one GeoJSON layer response may hold (so a national scope never sends
every commune at once)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

TILE_CHOICES = ("none", "osm", "ign", "ign-ortho")
#: The French name of "none" in the layer control.
NO_TILES_LABEL = "Aucun (hors ligne)"


@dataclass(frozen=True)
class TileLayer:
    """A base layer: XYZ URL template, attribution, label shown in the French UI."""

    url: str
    attribution: str
    label: str
    max_zoom: int = 19


def _default_tiles() -> dict[str, TileLayer]:
    return {
        "osm": TileLayer(
            os.environ.get("TERRITOIRES_TILES_OSM", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            '&copy; <a href="https://www.openstreetmap.org/copyright">contributeurs OpenStreetMap</a>',
            "OpenStreetMap",
        ),
        "ign": TileLayer(
            os.environ.get(
                "TERRITOIRES_TILES_IGN",
                "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2"
                "&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
            ),
            '&copy; <a href="https://www.ign.fr/">IGN</a> Plan IGN v2',
            "Plan IGN v2",
        ),
        "ign-ortho": TileLayer(
            os.environ.get(
                "TERRITOIRES_TILES_IGN_ORTHO",
                "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=ORTHOIMAGERY.ORTHOPHOTOS"
                "&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/jpeg&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
            ),
            '&copy; <a href="https://www.ign.fr/">IGN</a> orthophotographies',
            "Photographies aériennes (IGN)",
        ),
    }


@dataclass(frozen=True)
class MapSettings:
    """Base layers by choice name; "none" draws no tiles, so a map needs no network.

    ``max_features``: territories one /api/territories response may hold (TERRITOIRES_MAX_FEATURES);
    ``max_bbox_deg2``: largest bbox, in square degrees, for communes (TERRITOIRES_MAX_BBOX_DEG2);
    ``tiles_base_url``: where the versions' tile archives are served from (TERRITOIRES_TILES_BASE_URL, a static host
    or a CDN holding ``territoires-<scope>-<version>-t<format>.pmtiles``; empty: the pages read /tiles).
    """

    tiles: dict[str, TileLayer] = field(default_factory=_default_tiles)
    default_tiles: str = "none"
    max_features: int = field(default_factory=lambda: int(os.environ.get("TERRITOIRES_MAX_FEATURES", 5000)))
    max_bbox_deg2: float = field(default_factory=lambda: float(os.environ.get("TERRITOIRES_MAX_BBOX_DEG2", 40)))
    tiles_base_url: str = field(default_factory=lambda: os.environ.get("TERRITOIRES_TILES_BASE_URL", "").rstrip("/"))
