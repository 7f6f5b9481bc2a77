"""The map pages (French UI): nested scales, one scheme, coverage of several schemes.

Pages are rendered once per (data version, URL) and kept gzip-compressed; they carry the data
version's ETag like the API, so a revalidation costs a 304.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo.memo import Memo
from geo.model import Model
from service import downloads as offers
from service.deps import ChangesDep, FocusDep, MapSettingsDep, ModelDep, ResponsesDep, SchemeDep, WithinDep, scheme_ids
from service.geojson import Payload, cached_payload, declared_query, not_modified
from service.maps.base import View
from service.maps.changes import changes_page
from service.maps.controls import mount_map_static
from service.maps.kinds import MAP_KINDS
from service.schemas import NOT_MODIFIED, examples, html_error

router = APIRouter(prefix="/maps", tags=["cartes"], default_response_class=HTMLResponse,
                   responses={**NOT_MODIFIED, 404: html_error("Territoire ou dispositif inconnu (page d'erreur en français)"),
                              422: html_error("Paramètre invalide (page d'erreur en français)")})
ViewDep = Annotated[View, Depends(View.query)]


def _key(model: Model, path: str, view: View, params: tuple[tuple[str, str], ...]) -> tuple:
    """A page's key in the response memo: data version, path, the date parsed (not as written), the route's parameters."""
    return model.version, "page", path, view.day.isoformat(), params


def _page(request: Request, model: Model, responses: Memo[Payload], build: Callable[[], str], view: View) -> Response:
    if (cached := not_modified(request, model)) is not None:
        return cached
    key = _key(model, request.url.path, view, tuple((k, v) for k, v in declared_query(request) if k != "date"))
    return cached_payload(responses, key, lambda: build().encode()).response(request, model, media_type="text/html; charset=utf-8")


@router.get("/scales", summary="Carte des échelles imbriquées")
def scales(request: Request, model: ModelDep, responses: ResponsesDep, settings: MapSettingsDep, view: ViewDep,
           focus: FocusDep) -> Response:
    """Communes, EPCI, départements, groupements et région ; `focus` montre ce qui est dedans et les échelles au-dessus."""
    view = replace(view, downloads=tuple(offers.scales(focus)))
    return _page(request, model, responses, lambda: MAP_KINDS["scales"].page(model, view, settings, focus), view)


@router.get("/schemes/{scheme_id}", summary="Carte d'un dispositif")
def scheme(request: Request, model: ModelDep, responses: ResponsesDep, settings: MapSettingsDep, view: ViewDep,
           s: SchemeDep) -> Response:
    """Les membres du dispositif sur fond estompé ; période, source et date de mise à jour en légende."""
    view = replace(view, downloads=tuple(offers.scheme(s)))
    return _page(request, model, responses, lambda: MAP_KINDS["scheme"].page(model, view, settings, s), view)


@router.get("/coverage", summary="Carte de couverture", responses={307: {"description": "Sans dispositif choisi : vers le "
                                                                                 "constructeur de couverture (/couverture)"}})
def coverage(request: Request, model: ModelDep, responses: ResponsesDep, settings: MapSettingsDep, view: ViewDep, within: WithinDep,
             schemes: Annotated[str | None, Query(max_length=800, description="Identifiants séparés par des virgules ; sans : le "
                                                  "constructeur de couverture", openapi_examples=examples(
                                                      deux="petites-villes-de-demain,villages-d-avenir"))] = None) -> Response:
    """Nombre de dispositifs choisis couvrant chaque commune, chevauchements hachurés, lacunes à part. Sans dispositif
    choisi, la page renvoie au constructeur de couverture, où on les coche."""
    if not schemes:
        return RedirectResponse("/couverture" + (f"?{urlencode({'within': within.param})}" if within else ""), status_code=307)
    ids = scheme_ids(model, schemes)
    view = replace(view, downloads=tuple(offers.coverage(ids, within)))
    return _page(request, model, responses, lambda: MAP_KINDS["coverage"].page(model, view, settings, ids, within), view)


@router.get("/changes", summary="Carte de ce qui a changé entre deux dates")
def changes(request: Request, model: ModelDep, responses: ResponsesDep, settings: MapSettingsDep, view: ViewDep,
            result: ChangesDep) -> Response:
    """Chaque commune selon ce qu'elle a gagné ou perdu entre `from` et `to` : gagné, perdu, les deux, inchangée."""
    return _page(request, model, responses, lambda: changes_page(model, view, settings, result), view)


__all__ = ["router", "mount_map_static"]
