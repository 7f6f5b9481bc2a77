"""GET /tiles/{level}/{z}/{x}/{y}.pbf: Mapbox Vector Tiles of the scales (geo.tiles), for the map pages.

A tile may hold several scales, one MVT layer each (``/tiles/commune,epci,departement/…``): the map pages
fetch every scale of a view in one request per tile and draw each from its own layer, so a view costs one
request per tile rather than one per tile and scale.

Tiles are encoded once per (data version, levels, tile, focus) and kept gzip-compressed in a bounded LRU;
each carries an ETag naming the data version and the tile, so a revalidation costs a 304, and may be
kept by browsers and proxies for ``MAX_AGE`` seconds (the map pages add ``v=<data version>`` to their
tile URLs, so a new version is fetched anew). A tile with nothing in it — outside the data, or communes
below their first zoom — is 204 No Content.
"""
from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from geo.model import Model
from geo.tiles import LEVELS, MAX_ZOOM, TILE_FORMAT, TileSet
from service.api import Within, codes_within, resolve
from service.deps import get_model
from service.errors import BadRequest
from service.geojson import API_FORMAT, Payload, _matches
from service.schemas import examples, json_error

MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE = 3600
MAX_BYTES = 64 * 2**20  # encoded tiles kept in memory (plain + gzip), per process



def parse_levels(text: str) -> tuple[str, ...]:
    """Levels from 'commune' or 'commune,epci,…' (each known, once); BadRequest in French otherwise."""
    levels = tuple(t.strip() for t in text.split(","))
    unknown = [t for t in levels if t not in LEVELS]
    if unknown or not levels or len(set(levels)) != len(levels):
        raise BadRequest(f"Requête invalide : le paramètre « level » doit nommer une ou plusieurs échelles parmi "
                         f"{', '.join(LEVELS)}, séparées par des virgules et sans doublon (reçu « {text} »).")
    return levels


class TileCache:
    """Tile sets per model (dropped with the model) and recently encoded tiles of the current version (LRU by bytes)."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self._sets: weakref.WeakKeyDictionary[Model, TileSet] = weakref.WeakKeyDictionary()
        self._tiles: OrderedDict[tuple, Payload] = OrderedDict()
        self._version: str | None = None
        self._bytes = 0
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def tileset(self, model: Model) -> TileSet:
        with self._lock:
            if model not in self._sets:
                self._sets[model] = TileSet(model.simplified)
            return self._sets[model]

    def get(self, model: Model, key: tuple, encode: Callable[[], bytes]) -> Payload:
        """The tile cached under ``key`` for this model's version, encoded (and compressed) on first use."""
        with self._lock:
            if self._version != model.version:  # a new data version: the old tiles are never asked for again
                self._tiles.clear()
                self._bytes, self._version = 0, model.version
            if key in self._tiles:
                self._tiles.move_to_end(key)
                return self._tiles[key]
        payload = Payload.of(encode())
        size = len(payload.raw) + len(payload.gz)
        with self._lock:
            if self._version == model.version and key not in self._tiles:
                self._tiles[key] = payload
                self._bytes += size
                while self._bytes > self.max_bytes and self._tiles:
                    _, old = self._tiles.popitem(last=False)
                    self._bytes -= len(old.raw) + len(old.gz)
        return payload

    def __len__(self) -> int:
        return len(self._tiles)

    @property
    def bytes(self) -> int:
        return self._bytes


_CACHE_LOCK = threading.Lock()


def get_tiles(request: Request) -> TileCache:
    """The app's tile cache, created on first use."""
    state = request.app.state
    with _CACHE_LOCK:
        if getattr(state, "tiles", None) is None:
            state.tiles = TileCache()
        return state.tiles


router = APIRouter(prefix="/tiles", tags=["tuiles"], responses={
    304: {"description": "La tuile n'a pas changé (If-None-Match)"},
    404: json_error("Territoire de « within » inconnu (message en français)"),
    422: json_error("Échelle inconnue, zoom hors de 0 … 18, x ou y hors de 0 … 2^z − 1 (message en français)")})


def tile_etag(model: Model, levels: str, z: int, x: int, y: int, within: str | None, outlines: str = "") -> str:
    """Weak ETag naming the data version, the formats, the tile, (hashed: any text may come in) the focus, the outlines."""
    focus = "-" + hashlib.sha256(within.encode()).hexdigest()[:12] if within else ""
    return f'W/"{model.version}-{API_FORMAT}.{TILE_FORMAT}-{levels}-{z}-{x}-{y}{focus}-o{outlines}"'


@router.get("/{level}/{z}/{x}/{y}.pbf", summary="Tuile vectorielle d'une ou plusieurs échelles (Mapbox Vector Tile)",
            response_class=Response,
            responses={200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "Une couche par échelle, nommée d'après elle ; propriétés code, nom (communes : "
                                            "code en identifiant d'entité aux zooms 7 – 9, code, nom et epci à partir du zoom 10)"},
                       204: {"description": "Tuile vide : hors des données, ou communes en dessous du zoom 7"}})
def tile(request: Request, model: Annotated[Model, Depends(get_model)], tiles: Annotated[TileCache, Depends(get_tiles)],
         level: Annotated[str, Path(max_length=60, openapi_examples=examples(communes_epci="commune,epci"),
                                    description="Échelle (commune, epci, departement, region, grouping), "
                                                                "ou plusieurs séparées par des virgules")],
         z: Annotated[int, Path(ge=0, le=MAX_ZOOM, description="Zoom (tuiles de 256 pixels, Web Mercator)",
                                openapi_examples=examples(toulouse=8))],
         x: Annotated[int, Path(ge=0, le=2**MAX_ZOOM - 1, description="Colonne, de 0 à 2^z − 1", openapi_examples=examples(toulouse=129))],
         y: Annotated[int, Path(ge=0, le=2**MAX_ZOOM - 1, description="Ligne, de 0 à 2^z − 1 (depuis le nord)",
                                openapi_examples=examples(toulouse=93))],
         within: Within = None,
         outlines: Annotated[str | None, Query(max_length=60, description="Échelles servies en contours (lignes, chaque limite "
                                               "commune une seule fois ; groupements : un contour chacun) aux zooms 7 – 9, "
                                               "où les communes portent l'interaction")] = None,
         v: Annotated[str | None, Query(max_length=80, description="Version des données (pour le cache des navigateurs ; "
                                                                    "sans effet sur le contenu)")] = None) -> Response:
    """Les territoires d'une ou plusieurs échelles dans une tuile (une couche MVT par échelle), simplifiés pour le zoom
    (environ 4 pixels jusqu'au zoom 9,
    1 pixel au-delà, géométrie complète à partir du zoom 15) ; `within` ne garde que ceux qui partagent une commune
    avec ce territoire. Les communes ne sont servies qu'à partir du zoom 7 : aux petites échelles, les EPCI,
    départements et régions portent la vue."""
    levels = parse_levels(level)
    drawn = frozenset(parse_levels(outlines)) if outlines else frozenset()
    if x >= 2**z or y >= 2**z:
        raise BadRequest(f"Requête invalide : au zoom {z}, x et y vont de 0 à {2**z - 1} (reçu x = {x}, y = {y}).")
    tag = tile_etag(model, ",".join(levels), z, x, y, within, ",".join(sorted(drawn)))
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={MAX_AGE}", "Vary": "Accept-Encoding"}
    if _matches(request, tag):
        return Response(status_code=304, headers=headers)
    if within:
        resolve(model, within)
    tileset = tiles.tileset(model)
    payload = tiles.get(model, (levels, z, x, y, within or "", drawn), lambda: tileset.encode_layers(
        levels, z, x, y, {lv: codes_within(model, lv, within) for lv in levels} if within else None, drawn))
    if not payload.raw:
        return Response(status_code=204, headers=headers)
    return payload.response(request, model, media_type=MVT, headers=headers)
