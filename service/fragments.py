"""HTML components the pages embed, each also served alone under /fragments (French): a territory's timeline, a
scheme's members over time, a territory's coverage by typology class.

The pages (``/territoires/{code}``, ``/dispositifs/{id}``, ``/couverture``) call the builders (service/timeline.py,
service/typology_chart.py) directly; these routes serve the same HTML for pages that fetch it, kept per data version
and parsed parameters like every answer.
"""
from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from geo.model import Model
from service import schemas
from service.deps import ClubsApartDep, DateDep, ModelDep, ResponsesDep, SchemeDep, SomeSchemesDep, TerritoryDep, WithinDep
from service.geojson import cached_payload, not_modified
from service.timeline import scheme_timeline, territory_timeline
from service.typology_chart import typology_chart

router = APIRouter(prefix="/fragments", tags=["composants"], default_response_class=HTMLResponse,
                   responses={**schemas.NOT_MODIFIED, 404: schemas.html_error("Territoire ou dispositif inconnu (en français)"),
                              422: schemas.html_error("Paramètre invalide (en français)")})
HTML = "text/html; charset=utf-8"


def fragment(request: Request, model: Model, responses, key: tuple, build: Callable[[], str]) -> Response:
    """An HTML fragment with the data version's ETag, kept gzip-compressed under its parsed parameters."""
    if (cached := not_modified(request, model)) is not None:
        return cached
    return cached_payload(responses, (model.version, "fragment", request.url.path, *key), lambda: build().encode()).response(
        request, model, media_type=HTML)


@router.get("/chronologie/territoire/{code}", summary="Chronologie des dispositifs d'un territoire")
def territory_chronology(request: Request, model: ModelDep, responses: ResponsesDep, territory: TerritoryDep, at: DateDep) -> Response:
    """Chaque dispositif qui a couvert le territoire, en barres sur un axe 2010 – 2030 (aujourd'hui marqué), et le même
    contenu en tableau, avec le statut de chacun à la date."""
    return fragment(request, model, responses, (territory.key, at.isoformat()), lambda: territory_timeline(model, territory, at))


@router.get("/chronologie/dispositif/{scheme_id}", summary="Les membres d'un dispositif au fil du temps")
def scheme_chronology(request: Request, model: ModelDep, responses: ResponsesDep, s: SchemeDep, at: DateDep) -> Response:
    """Le nombre de membres en vigueur de 2010 à 2030, une barre par membre (jusqu'à 40) et le tableau des membres avec
    leur période et leur statut à la date."""
    return fragment(request, model, responses, (s.id, at.isoformat()), lambda: scheme_timeline(model, s, at))


@router.get("/typologie", summary="Couverture par classe de typologie (graphique et tableau)")
def typology(request: Request, model: ModelDep, responses: ResponsesDep, within: WithinDep, at: DateDep, ids: SomeSchemesDep,
             clubs_apart: ClubsApartDep) -> Response:
    """Pour chaque grille (densité, centralités, ruralités, zone de montagne), la part des communes de chaque classe
    couvertes à la date par les dispositifs choisis (tous par défaut), en barres avec leur texte et en tableau."""
    key = (within.key if within else "", at.isoformat(), tuple(ids or ()), clubs_apart)
    return fragment(request, model, responses, key, lambda: typology_chart(model, within, at, ids, clubs_apart))
