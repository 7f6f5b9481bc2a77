"""The map pages (French UI): nested scales, one scheme, coverage of several schemes.

Pages are rendered once per (data version, URL) and kept gzip-compressed; they carry the data
version's ETag like the API, so a revalidation costs a 304.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from geo.memo import Memo
from geo.model import Model
from service.deps import FocusDep, MapSettingsDep, ModelDep, ResponsesDep, SchemeDep, SchemesDep, WithinDep
from service.geojson import Payload, cached_payload, not_modified
from service.maps.base import View
from service.maps.controls import mount_map_static
from service.maps.kinds import MAP_KINDS
from service.schemas import NOT_MODIFIED, html_error
from service.settings import MapSettings

router = APIRouter(prefix="/maps", tags=["cartes"], default_response_class=HTMLResponse,
                   responses={**NOT_MODIFIED, 404: html_error("Territoire ou dispositif inconnu (page d'erreur en français)"),
                              422: html_error("Paramètre invalide (page d'erreur en français)")})
ViewDep = Annotated[View, Depends(View.query)]


def _key(model: Model, path: str, params: list[tuple[str, str]]) -> tuple:
    """A page's key in the response memo: data version, path, sorted query."""
    return model.version, "page", path, tuple(sorted(params))


def _page(request: Request, model: Model, responses: Memo[Payload], build: Callable[[], str]) -> Response:
    if (cached := not_modified(request, model)) is not None:
        return cached
    key = _key(model, request.url.path, request.query_params.multi_items())
    return cached_payload(responses, key, lambda: build().encode()).response(request, model, media_type="text/html; charset=utf-8")


def warm_pages(model: Model, responses: Memo[Payload], settings: MapSettings) -> None:
    """Render the map page a first visitor opens (/maps/scales, no parameter) into the response memo, so that the
    first visitor after a start or a new version does not wait for it (nor for the templates' compilation)."""
    cached_payload(responses, _key(model, "/maps/scales", []), lambda: MAP_KINDS["scales"].page(model, View(), settings, None).encode())


@router.get("/scales", summary="Carte des échelles imbriquées")
def scales(request: Request, model: ModelDep, responses: ResponsesDep, settings: MapSettingsDep, view: ViewDep,
           focus: FocusDep) -> Response:
    """Communes, EPCI, départements, groupements et région ; `focus` montre ce qui est dedans et les échelles au-dessus."""
    return _page(request, model, responses, lambda: MAP_KINDS["scales"].page(model, view, settings, focus))


@router.get("/schemes/{scheme_id}", summary="Carte d'un dispositif")
def scheme(request: Request, model: ModelDep, responses: ResponsesDep, settings: MapSettingsDep, view: ViewDep,
           s: SchemeDep) -> Response:
    """Les membres du dispositif sur fond estompé ; période, source et date de mise à jour en légende."""
    return _page(request, model, responses, lambda: MAP_KINDS["scheme"].page(model, view, settings, s))


@router.get("/coverage", summary="Carte de couverture")
def coverage(request: Request, model: ModelDep, responses: ResponsesDep, settings: MapSettingsDep, view: ViewDep,
             ids: SchemesDep, within: WithinDep) -> Response:
    """Nombre de dispositifs choisis couvrant chaque commune, chevauchements hachurés, lacunes à part."""
    return _page(request, model, responses, lambda: MAP_KINDS["coverage"].page(model, view, settings, ids, within))


__all__ = ["router", "mount_map_static", "warm_pages"]
