"""Static maps for reports: GET /static/{map}.{png|svg|pdf} (server-side matplotlib, no browser).

A map is rendered once per data version and normalised parameters (the map, the format, the territory resolved,
the size in inches and dots per inch: `a4` and `1754x1240`… are keys of their own, a parameter the route does not
take is no key at all) and kept in the app's bounded response memo; rendering takes one of the worker's slots for
expensive work (service/heavy.py: 503 with Retry-After when they are all taken). Sizes are bounded
(geo/render.py: at most 4000 pixels a side and 9 million pixels).
"""
from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from geo.render import MAX_AREA, MAX_PIXELS, RENDER_FORMATS, check_format, coverage_ids, parse_size
from service import schemas
from service.deps import DateDep, HeavyDep, ModelDep, ResponsesDep, WithinDep
from service.geojson import Payload, not_modified
from service.maps.kinds import MAP_HELP, MAP_NAMES, resolve_map, static_bytes

router = APIRouter(prefix="/static", tags=["static maps"], responses={
    **schemas.NOT_MODIFIED, 404: schemas.json_error("Territoire inconnu (message en français)"),
    422: schemas.json_error("Carte, format ou taille inconnus (le message nomme les valeurs acceptées)"),
    503: schemas.busy()})


@router.get("/{name}", summary=f"A map as PNG, SVG or PDF: {MAP_NAMES}", response_class=Response,
            responses={200: {"description": "The map", "content": {t: {"schema": schemas.BINARY} for t in RENDER_FORMATS.values()}}})
def static_map(
    request: Request, model: ModelDep, responses: ResponsesDep, heavy: HeavyDep, within: WithinDep, at: DateDep,
    name: str = Path(description=f"<map>.<{'|'.join(RENDER_FORMATS)}>: {MAP_HELP}",
                     openapi_examples={"scheme": {"value": "scheme-dialogue-metropolitain.svg"}}),
    size: str = Query("a4", max_length=20, description=f"a4 (landscape), a4-portrait or WIDTHxHEIGHT in pixels (at most {MAX_PIXELS} "
                      f"a side and {MAX_AREA:,} pixels)."),
    schemes: str | None = Query(None, max_length=800, description="Coverage map: the scheme ids, separated by commas "
                                "(every scheme by default); up to 4, a texture each."),
) -> Response:
    """`scales.png`, `coverage.pdf?within=31&date=2016-06-01`, `coverage.pdf?schemes=petites-villes-de-demain,action-coeur-de-ville`,
    `scheme-dialogue-metropolitain.svg?size=1600x1200`…

    The coverage and scheme maps show the situation at the date (today by default), on the 2026 boundaries."""
    map_name, _, fmt = name.rpartition(".")
    kind, _ = resolve_map(model, map_name)
    check_format(fmt)
    ids = tuple(coverage_ids(model, schemes)) if kind.spec.of_schemes else ()
    dims = parse_size(size)
    if (cached := not_modified(request, model)) is not None:
        return cached
    key = (model.version, "static", map_name, fmt, within.key if within else "", at.isoformat(), ids, dims)
    payload = responses.get(key, lambda: heavy.run(lambda: Payload.of(static_bytes(model, map_name, fmt, within, size, ",".join(ids) or None, at),
                                                                      compress=fmt != "png")))
    filename = f"{map_name}.{fmt}"  # map_name was validated against the known maps
    return payload.response(request, model, media_type=RENDER_FORMATS[fmt], headers={"Content-Disposition": f'inline; filename="{filename}"'})
