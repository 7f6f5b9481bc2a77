"""Static maps for reports: GET /static/{map}.{png|svg|pdf} (server-side matplotlib, no browser)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from geo.coverage import UnknownTerritory
from geo.model import Model
from geo.render import RENDER_FORMATS, RenderError, render_bytes
from service.deps import get_model

router = APIRouter(prefix="/static", tags=["static maps"])


@router.get("/{name}", summary="A map as PNG, SVG or PDF: scales, coverage or scheme-<id>")
def static_map(
    name: str,
    within: str | None = Query(None, description="Zoom on a territory: commune, EPCI, grouping, département or région code."),
    size: str = Query("a4", description="a4 (landscape), a4-portrait or WIDTHxHEIGHT in pixels."),
    model: Model = Depends(get_model),
) -> Response:
    """`scales.png`, `coverage.pdf?within=31`, `scheme-dialogue-metropolitain.svg?size=1600x1200`…"""
    map_name, _, fmt = name.rpartition(".")
    try:
        body = render_bytes(model, map_name, fmt, within, size)
    except (RenderError, UnknownTerritory) as exc:
        raise HTTPException(422, str(exc)) from None
    filename = f"{map_name}.{fmt}"  # map_name was validated against the known maps
    return Response(body, media_type=RENDER_FORMATS[fmt], headers={"Content-Disposition": f'inline; filename="{filename}"'})
