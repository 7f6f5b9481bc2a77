"""Static maps for reports: GET /static/{map}.{png|svg|pdf} (server-side matplotlib, no browser)."""
from __future__ import annotations

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from geo.render import RENDER_FORMATS
from service import schemas
from service.deps import ModelDep, WithinDep
from service.maps.kinds import MAP_HELP, MAP_NAMES, static_bytes

router = APIRouter(prefix="/static", tags=["static maps"], responses={
    404: schemas.json_error("Territoire inconnu (message en français)"),
    422: schemas.json_error("Carte, format ou taille inconnus (le message nomme les valeurs acceptées)")})


@router.get("/{name}", summary=f"A map as PNG, SVG or PDF: {MAP_NAMES}", response_class=Response,
            responses={200: {"description": "The map", "content": {t: {"schema": schemas.BINARY} for t in RENDER_FORMATS.values()}}})
def static_map(
    model: ModelDep, within: WithinDep,
    name: str = Path(description=f"<map>.<{'|'.join(RENDER_FORMATS)}>: {MAP_HELP}",
                     openapi_examples={"scheme": {"value": "scheme-dialogue-metropolitain.svg"}}),
    size: str = Query("a4", description="a4 (landscape), a4-portrait or WIDTHxHEIGHT in pixels."),
    schemes: str | None = Query(None, max_length=800, description="Coverage map: the scheme ids, separated by commas "
                                "(every scheme by default); up to 4, a texture each."),
) -> Response:
    """`scales.png`, `coverage.pdf?within=31&schemes=petites-villes-de-demain,action-coeur-de-ville`,
    `scheme-dialogue-metropolitain.svg?size=1600x1200`…"""
    map_name, _, fmt = name.rpartition(".")
    body = static_bytes(model, map_name, fmt, within, size, schemes)
    filename = f"{map_name}.{fmt}"  # map_name was validated against the known maps
    return Response(body, media_type=RENDER_FORMATS[fmt], headers={"Content-Disposition": f'inline; filename="{filename}"'})
