"""The map pages (French UI): nested scales, one scheme, coverage of several schemes.

Pages are rendered once per (data version, URL) and kept gzip-compressed; they carry the data
version's ETag like the API, so a revalidation costs a 304.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from geo.model import Model
from service.api import SchemeId
from service.deps import get_layers, get_map_settings, get_model
from service.geojson import LayerCache, not_modified
from service.maps.base import View
from service.maps.controls import mount_map_static
from service.maps.kinds import MAP_KINDS
from service.schemas import NOT_MODIFIED, examples, html_error
from service.settings import MapSettings

router = APIRouter(prefix="/maps", tags=["cartes"], default_response_class=HTMLResponse,
                   responses={**NOT_MODIFIED, 404: html_error("Territoire ou dispositif inconnu (page d'erreur en français)"),
                              422: html_error("Paramètre invalide (page d'erreur en français)")})
ModelDep = Annotated[Model, Depends(get_model)]
LayersDep = Annotated[LayerCache, Depends(get_layers)]
SettingsDep = Annotated[MapSettings, Depends(get_map_settings)]
ViewDep = Annotated[View, Depends(View.query)]


def _page(request: Request, model: Model, layers: LayerCache, build: Callable[[], str]) -> Response:
    if (cached := not_modified(request, model)) is not None:
        return cached
    key = (model.version, "page", request.url.path, tuple(sorted(request.query_params.multi_items())))
    return layers.memo(key, lambda: build().encode()).response(request, model, media_type="text/html; charset=utf-8")


@router.get("/scales", summary="Carte des échelles imbriquées")
def scales(request: Request, model: ModelDep, layers: LayersDep, settings: SettingsDep, view: ViewDep,
           focus: Annotated[str | None, Query(max_length=60, description="Code d'un territoire ou identifiant de groupement",
                                              openapi_examples=examples(epci="243100518", groupement="dialogue-metropolitain"))] = None
           ) -> Response:
    """Communes, EPCI, départements, groupements et région ; `focus` montre ce qui est dedans et les échelles au-dessus."""
    return _page(request, model, layers, lambda: MAP_KINDS["scales"].page(model, view, settings, focus))


@router.get("/schemes/{scheme_id}", summary="Carte d'un dispositif")
def scheme(request: Request, model: ModelDep, layers: LayersDep, settings: SettingsDep, view: ViewDep,
           scheme_id: SchemeId) -> Response:
    """Les membres du dispositif sur fond estompé ; période, source et date de mise à jour en légende."""
    return _page(request, model, layers, lambda: MAP_KINDS["scheme"].page(model, view, settings, scheme_id))


@router.get("/coverage", summary="Carte de couverture")
def coverage(request: Request, model: ModelDep, layers: LayersDep, settings: SettingsDep, view: ViewDep,
             schemes: Annotated[str, Query(min_length=1, max_length=800, description="Identifiants séparés par des virgules",
                                           openapi_examples=examples(deux="petites-villes-de-demain,villages-d-avenir"))],
             within: Annotated[str | None, Query(max_length=60, description="Code d'un territoire",
                                                 openapi_examples=examples(departement="31"))] = None) -> Response:
    """Nombre de dispositifs choisis couvrant chaque commune, chevauchements hachurés, lacunes à part."""
    return _page(request, model, layers, lambda: MAP_KINDS["coverage"].page(model, view, settings, schemes, within))


__all__ = ["router", "mount_map_static"]
