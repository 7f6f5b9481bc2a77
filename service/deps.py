"""Request dependencies shared by every router: the current model, the app's settings and caches (from the app
state, no module globals), and the parameters that name something in the data — a territory (``within=``,
``focus=``, a commune code in a path), a scheme, a list of schemes — each parsed and resolved once per request
(territories once per model: they are memoised on it).

They are ``async``: each is a few attribute reads or a memo hit, and FastAPI would run a plain ``def`` in the
thread pool; resolving a territory not seen yet (a few milliseconds, more for the model's first) runs in the thread
pool, off the event loop.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from geo.memo import Memo
from geo.model import Model
from geo.schemes import Scheme
from geo.territory import Territory
from service.errors import BadRequest
from service.geojson import Payload
from service.limits import Limits
from service.schemas import examples
from service.settings import MapSettings
from service.state import ModelHolder

#: At most this many schemes in one ``schemes=`` list.
MAX_SCHEMES = 8
TERRITORY_DOC = ("Code d'un territoire (INSEE, SIREN, département, région) ou identifiant de groupement ; "
                 "'niveau:code' lève l'ambiguïté ; vide : tout le périmètre")


async def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


async def get_model(request: Request) -> Model:
    """The model serving this request (the holder follows newly published data versions)."""
    holder: ModelHolder = request.app.state.holder
    holder.maybe_reload()
    return holder.model


async def get_map_settings(request: Request) -> MapSettings:
    return request.app.state.map_settings


async def get_limits(request: Request) -> Limits:
    """Bounds on what one request may ask for (read from the environment when the app was created)."""
    return request.app.state.limits


async def get_responses(request: Request) -> Memo[Payload]:
    """Recent response bodies (JSON, pages, exports), gzip-compressed, bounded in bytes."""
    return request.app.state.responses


async def get_tiles(request: Request) -> Memo[Payload]:
    """Recently encoded vector tiles, gzip-compressed, bounded in bytes."""
    return request.app.state.tiles


ModelDep = Annotated[Model, Depends(get_model)]


async def _territory(model: Model, text: str | None) -> Territory | None:
    """The territory ``text`` names; none when absent or empty (the whole scope)."""
    if not text or not text.strip():
        return None
    if text.strip() in model.resolved:
        return model.territory(text)
    return await run_in_threadpool(model.territory, text)


async def get_within(model: ModelDep, within: Annotated[str | None, Query(
        max_length=60, description=TERRITORY_DOC, openapi_examples=examples(departement="31", epci="243100518"))] = None
                     ) -> Territory | None:
    """The territory of ``within=``: restricts an answer, a tile, a map or an export to it."""
    return await _territory(model, within)


async def get_focus(model: ModelDep, focus: Annotated[str | None, Query(
        max_length=60, description=TERRITORY_DOC, openapi_examples=examples(epci="243100518", groupement="dialogue-metropolitain"))
                                                     ] = None) -> Territory | None:
    """The territory of ``focus=``: what a map centres on."""
    return await _territory(model, focus)


async def get_commune(model: ModelDep, code: Annotated[str, Path(max_length=10, description="Code INSEE 2026",
                                                                 openapi_examples=examples(toulouse="31555"))]) -> Territory:
    """The commune of a code in the path (a merged commune's answer names the commune it became)."""
    return await _territory(model, f"commune:{code}")


SchemeId = Annotated[str, Path(max_length=100, description="Identifiant d'un dispositif (voir /api/schemes)",
                               openapi_examples=examples(reseau="dialogue-metropolitain", programme="petites-villes-de-demain"))]


async def get_scheme(model: ModelDep, scheme_id: SchemeId) -> Scheme:
    """The scheme of an id in the path."""
    return model.scheme(scheme_id)


async def get_schemes(model: ModelDep, schemes: Annotated[str, Query(
        min_length=1, max_length=800, description="Identifiants séparés par des virgules",
        openapi_examples=examples(deux="petites-villes-de-demain,villages-d-avenir"))]) -> list[str]:
    """Scheme ids from 'a,b,c': each known, at most :data:`MAX_SCHEMES`, no duplicates."""
    ids = list(dict.fromkeys(i.strip() for i in schemes.split(",") if i.strip()))
    if not ids:
        raise BadRequest("Requête invalide : le paramètre « schemes » ne nomme aucun dispositif.")
    if len(ids) > MAX_SCHEMES:
        raise BadRequest(f"Requête invalide : au plus {MAX_SCHEMES} dispositifs à la fois ({len(ids)} donnés).")
    for i in ids:
        model.scheme(i)
    return ids


LimitsDep = Annotated[Limits, Depends(get_limits)]
ResponsesDep = Annotated[Memo[Payload], Depends(get_responses)]
TilesDep = Annotated[Memo[Payload], Depends(get_tiles)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
MapSettingsDep = Annotated[MapSettings, Depends(get_map_settings)]
WithinDep = Annotated[Territory | None, Depends(get_within)]
FocusDep = Annotated[Territory | None, Depends(get_focus)]
CommuneDep = Annotated[Territory, Depends(get_commune)]
SchemeDep = Annotated[Scheme, Depends(get_scheme)]
SchemesDep = Annotated[list[str], Depends(get_schemes)]
