"""GET /tiles/{level}/{z}/{x}/{y}.pbf: Mapbox Vector Tiles of the scales (geo.tiles), for the map pages.

A tile may hold several scales, one MVT layer each (``/tiles/commune,epci,departement/…``): the map pages
fetch every scale of a view in one request per tile and draw each from its own layer, so a view costs one
request per tile rather than one per tile and scale.

Besides the scales, a tile may hold the boundaries of the nested scales (``edge``: each once, with the scales it
bounds, for the maps to draw them side by side) and the place names (``label``).

The tiles of the scales map (:data:`geo.pyramid.SCALES_TILES`, no focus) down to the zoom the version's tile
archive holds (geo/archive.py, written by ``territoires tiles`` when the version is published) are read from that
archive, already encoded and compressed: nothing is encoded on the request path for them. Other tiles are encoded
once per (data version, levels, tile, focus) and kept gzip-compressed in the app's tile
memo (``app.state.tiles``, bounded in bytes by TERRITOIRES_TILE_CACHE_MB); each carries an ETag naming the data
version and the tile, so a revalidation costs a 304, and may be kept by browsers and proxies for ``MAX_AGE`` seconds
(the map pages add ``v=<data version>`` to their tile URLs, so a new version is fetched anew). A tile with nothing in
it — outside the data, or communes below their first zoom — is 204 No Content.
"""
from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from geo.model import Model
from geo.pyramid import SCALES_TILES, TileSpec, tileset
from geo.territory import Territory
from geo.tiles import MAX_ZOOM, TILE_FORMAT, TILE_LAYERS
from service.deps import HolderDep, ModelDep, TilesDep, WithinDep
from service.errors import BadRequest
from service.geojson import API_FORMAT, Payload, _matches
from service.schemas import examples, json_error

MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE = 3600


def parse_levels(text: str) -> tuple[str, ...]:
    """Levels from 'commune' or 'commune,epci,…' (each known, once); BadRequest in French otherwise."""
    levels = tuple(t.strip() for t in text.split(","))
    unknown = [t for t in levels if t not in TILE_LAYERS]
    if unknown or not levels or len(set(levels)) != len(levels):
        raise BadRequest(f"Requête invalide : le paramètre « level » doit nommer une ou plusieurs échelles parmi "
                         f"{', '.join(TILE_LAYERS)}, séparées par des virgules et sans doublon (reçu « {text} »).")
    return levels


router = APIRouter(prefix="/tiles", tags=["tuiles"], responses={
    304: {"description": "La tuile n'a pas changé (If-None-Match)"},
    404: json_error("Territoire de « within » inconnu (message en français)"),
    422: json_error("Échelle inconnue, zoom hors de 0 … 18, x ou y hors de 0 … 2^z − 1 (message en français)")})


def tile_etag(model: Model, levels: str, z: int, x: int, y: int, within: Territory | None) -> str:
    """Weak ETag naming the data version, the formats, the tile and (hashed) the focus."""
    focus = "-" + hashlib.sha256(within.key.encode()).hexdigest()[:12] if within else ""
    return f'W/"{model.version}-{API_FORMAT}.{TILE_FORMAT}-{levels}-{z}-{x}-{y}{focus}"'


def focus_codes(levels: tuple[str, ...], within: Territory) -> dict[str, frozenset[str]]:
    """The territories of each scale a focus keeps: those of the levels asked for, and for the doll boundaries and the
    place names every scale they draw or name."""
    wanted = set(levels) - {"edge", "label"}
    if "edge" in levels:
        wanted |= {"epci", "departement", "region", "grouping"}
    if "label" in levels:
        wanted |= {"commune", "epci", "grouping", "quartier"}
    return {lv: within.codes(lv) for lv in wanted}


@router.get("/{level}/{z}/{x}/{y}.pbf", summary="Tuile vectorielle d'une ou plusieurs couches (Mapbox Vector Tile)",
            response_class=Response,
            responses={200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "Une couche par échelle, nommée d'après elle ; propriétés code, nom (communes : "
                                            "code en identifiant d'entité aux zooms 7 – 9, code, nom et epci à partir du zoom 10). "
                                            "« edge » : les limites des échelles emboîtées, chacune une fois, avec « m » le masque "
                                            "des échelles qu'elle borde ; « label » : les noms de lieux (nom, kind, rank)."},
                       204: {"description": "Tuile vide : hors des données, ou communes en dessous du zoom 7"}})
def tile(request: Request, model: ModelDep, tiles: TilesDep, within: WithinDep, holder: HolderDep,
         level: Annotated[str, Path(max_length=80, openapi_examples=examples(communes_limites_noms="commune,edge,label"),
                                    description="Couche (commune, quartier, epci, departement, region, grouping, edge, "
                                                "label), ou plusieurs séparées par des virgules")],
         z: Annotated[int, Path(ge=0, le=MAX_ZOOM, description="Zoom (tuiles de 256 pixels, Web Mercator)",
                                openapi_examples=examples(toulouse=8))],
         x: Annotated[int, Path(ge=0, le=2**MAX_ZOOM - 1, description="Colonne, de 0 à 2^z − 1", openapi_examples=examples(toulouse=129))],
         y: Annotated[int, Path(ge=0, le=2**MAX_ZOOM - 1, description="Ligne, de 0 à 2^z − 1 (depuis le nord)",
                                openapi_examples=examples(toulouse=93))],
         v: Annotated[str | None, Query(max_length=80, description="Version des données (pour le cache des navigateurs ; "
                                                                    "sans effet sur le contenu)")] = None) -> Response:
    """Les territoires d'une ou plusieurs échelles dans une tuile (une couche MVT par échelle), simplifiés pour le zoom
    (environ 4 pixels jusqu'au zoom 9,
    1 pixel au-delà, géométrie complète à partir du zoom 15) ; `within` ne garde que ceux qui partagent une commune
    avec ce territoire. Les communes ne sont servies qu'à partir du zoom 7 : aux petites échelles, les EPCI,
    départements et régions portent la vue ; les quartiers à partir du zoom 11."""
    levels = parse_levels(level)
    if x >= 2**z or y >= 2**z:
        raise BadRequest(f"Requête invalide : au zoom {z}, x et y vont de 0 à {2**z - 1} (reçu x = {x}, y = {y}).")
    tag = tile_etag(model, ",".join(levels), z, x, y, within)
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={MAX_AGE}", "Vary": "Accept-Encoding"}
    if _matches(request, tag):
        return Response(status_code=304, headers=headers)
    key = (model.version, levels, z, x, y, within.key if within else "")
    archive = holder.archive(model) if within is None and TileSpec(levels) == SCALES_TILES else None
    if archive is not None and z <= archive.max_zoom:
        gz = archive.get(z, x, y)
        payload = Payload.of_gzip(gz) if gz else Payload(b"", b"")
    else:
        payload = tiles.get(key, lambda: Payload.of(tileset(model).encode_layers(
            levels, z, x, y, focus_codes(levels, within) if within else None)))
    if not payload.raw:
        return Response(status_code=204, headers=headers)
    return payload.response(request, model, media_type=MVT, headers=headers)
