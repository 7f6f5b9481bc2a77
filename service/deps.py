"""Request dependencies shared by every router: the current model, the app's settings and caches (from the app
state, no module globals), and the parameters that name something in the data — a territory (``within=``,
``focus=``, a commune code in a path), a scheme, a list of schemes — each parsed and resolved once per request
(territories once per model: they are memoised on it).

They are ``async``: each is a few attribute reads or a memo hit, and FastAPI would run a plain ``def`` in the
thread pool; resolving a territory not seen yet (a few milliseconds, more for the model's first) runs in the thread
pool, off the event loop.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from geo.changes import Changes, changes
from geo.memo import Memo
from geo.model import Model
from geo.periods import EARLIEST, LATEST, check_interval, parse_date
from geo.schemes import Scheme
from geo.territory import Territory
from service.errors import BadRequest
from service.geojson import Payload
from service.heavy import HeavyWork
from service.limits import Limits
from service.schemas import examples
from service.settings import MapSettings
from service.state import ModelHolder

#: At most this many schemes in one ``schemes=`` list: every programme at once is a planner's question ("which communes
#: does no programme cover?", 17 programmes today); a coverage answer costs a join and a crosstab, linear in the schemes.
MAX_SCHEMES = 32
TERRITORY_DOC = ("Code d'un territoire (INSEE, SIREN, département, région) ou identifiant de groupement ; "
                 "'niveau:code' lève l'ambiguïté ; vide : tout le périmètre")


async def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


#: The scope key naming the model a worker's own warm-up request is answered with (service/warmup.py), before it serves.
WARM_MODEL = "territoires.model"


async def get_model(request: Request) -> Model:
    """The model serving this request (the holder follows newly published data versions); a warm-up request of the
    worker itself names a model not in service yet."""
    if (model := request.scope.get(WARM_MODEL)) is not None:
        return model
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


async def get_heavy(request: Request) -> HeavyWork:
    """The worker's slots for expensive work (static maps, export files): ``heavy.run(build)``, 503 when all are taken."""
    return request.app.state.heavy


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


async def get_territory(model: ModelDep, code: Annotated[str, Path(max_length=60, description=TERRITORY_DOC,
                                                                    openapi_examples=examples(commune="31149", departement="31"))]) -> Territory:
    """The territory of a code in the path (any level: commune, quartier, EPCI, groupement, département, région)."""
    return await _territory(model, code)


SchemeId = Annotated[str, Path(max_length=100, description="Identifiant d'un dispositif (voir /api/schemes)",
                               openapi_examples=examples(reseau="dialogue-metropolitain", programme="petites-villes-de-demain"))]


async def get_scheme(model: ModelDep, scheme_id: SchemeId) -> Scheme:
    """The scheme of an id in the path."""
    return model.scheme(scheme_id)


def scheme_ids(model: Model, schemes: str) -> list[str]:
    """Scheme ids from 'a,b,c': each known, at most :data:`MAX_SCHEMES`, no duplicates."""
    ids = list(dict.fromkeys(i.strip() for i in schemes.split(",") if i.strip()))
    if not ids:
        raise BadRequest("Requête invalide : le paramètre « schemes » ne nomme aucun dispositif.")
    if len(ids) > MAX_SCHEMES:
        raise BadRequest(f"Requête invalide : au plus {MAX_SCHEMES} dispositifs à la fois ({len(ids)} donnés).")
    for i in ids:
        model.scheme(i)
    return ids


async def get_schemes(model: ModelDep, schemes: Annotated[str, Query(
        min_length=1, max_length=800, description="Identifiants séparés par des virgules",
        openapi_examples=examples(deux="petites-villes-de-demain,villages-d-avenir"))]) -> list[str]:
    """Scheme ids from 'a,b,c' (:func:`scheme_ids`)."""
    return scheme_ids(model, schemes)


DATE_DOC = (f"Date de la situation, AAAA-MM-JJ, du {EARLIEST.isoformat()} au {LATEST.isoformat()} (par défaut : aujourd'hui) : "
            "ne comptent que les dispositifs en vigueur ce jour-là ; les périmètres restent ceux de 2026")


async def get_date(date: Annotated[str | None, Query(max_length=40, description=DATE_DOC,
                                                     openapi_examples=examples(avant="2016-06-01", apres="2025-06-01"))] = None) -> dt.date:
    """The date of ``date=`` (today when absent); a French 422 for an impossible date or one outside 1990-2100."""
    return parse_date(date)


def _interval(start: str | None, end: str | None, names: tuple[str, str]) -> tuple[dt.date, dt.date]:
    """Two dates by the one date rule (the second today when absent); a French 422 when the first is after the second."""
    if start is None or not start.strip():
        raise BadRequest(f"Requête invalide : le paramètre « {names[0]} » est obligatoire (la première date, AAAA-MM-JJ).")
    first, second = parse_date(start, names[0]), parse_date(end, names[1])
    check_interval(first, second, names)
    return first, second


async def get_interval(start: Annotated[str | None, Query(alias="from", max_length=40, description="Première date, AAAA-MM-JJ",
                                                          openapi_examples=examples(debut="2016-01-01"))] = None,
                       end: Annotated[str | None, Query(alias="to", max_length=40, description="Seconde date, AAAA-MM-JJ (par défaut : "
                                                        "aujourd'hui)", openapi_examples=examples(fin="2026-01-01"))] = None
                       ) -> tuple[dt.date, dt.date]:
    """The interval of ``from=`` and ``to=`` (the API's names)."""
    return _interval(start, end, ("from", "to"))


async def get_periode(start: Annotated[str | None, Query(alias="du", max_length=40, description="Première date, AAAA-MM-JJ")] = None,
                      end: Annotated[str | None, Query(alias="au", max_length=40, description="Seconde date, AAAA-MM-JJ (par défaut : "
                                                       "aujourd'hui)")] = None) -> tuple[dt.date, dt.date]:
    """The interval of ``du=`` and ``au=`` (the pages' French names)."""
    return _interval(start, end, ("du", "au"))


async def get_clubs(clubs: Annotated[Literal["ensemble", "apart"], Query(
        description="ensemble (défaut) : un réseau et ses clubs comptent pour un dispositif ; apart : chaque club compte")]
                    = "ensemble") -> bool:
    """Whether coverage counts count a network's clubs apart (``clubs=apart``)."""
    return clubs == "apart"


def _changes(model: Model, interval: tuple[dt.date, dt.date], within: Territory | None) -> Changes:
    """What changed in a territory between two dates, kept per model for the last few (dates, territory) asked."""
    start, end = interval
    return model.dated.get(("changes", start, end, within.key if within else ""), lambda: changes(model.coverage, start, end, within))


async def get_changes(model: ModelDep, interval: Annotated[tuple[dt.date, dt.date], Depends(get_interval)],
                      within: Annotated[Territory | None, Depends(get_within)]) -> Changes:
    """What changed between ``from=`` and ``to=`` inside ``within=``."""
    return await run_in_threadpool(_changes, model, interval, within)


async def get_changements(model: ModelDep, interval: Annotated[tuple[dt.date, dt.date], Depends(get_periode)],
                          within: Annotated[Territory | None, Depends(get_within)]) -> Changes:
    """What changed between ``du=`` and ``au=`` inside ``within=`` (the French page's names)."""
    return await run_in_threadpool(_changes, model, interval, within)


async def get_some_schemes(model: ModelDep, schemes: Annotated[str | None, Query(
        max_length=800, description="Identifiants séparés par des virgules (au plus 8) ; absent : tous les dispositifs",
        openapi_examples=examples(deux="petites-villes-de-demain,action-coeur-de-ville"))] = None) -> list[str] | None:
    """Scheme ids from 'a,b,c' as :func:`get_schemes` reads them, or None (every scheme) when absent."""
    return None if schemes is None or not schemes.strip() else await get_schemes(model, schemes)


LimitsDep = Annotated[Limits, Depends(get_limits)]
ResponsesDep = Annotated[Memo[Payload], Depends(get_responses)]
TilesDep = Annotated[Memo[Payload], Depends(get_tiles)]
HeavyDep = Annotated[HeavyWork, Depends(get_heavy)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
MapSettingsDep = Annotated[MapSettings, Depends(get_map_settings)]
WithinDep = Annotated[Territory | None, Depends(get_within)]
FocusDep = Annotated[Territory | None, Depends(get_focus)]
CommuneDep = Annotated[Territory, Depends(get_commune)]
TerritoryDep = Annotated[Territory, Depends(get_territory)]
SchemeDep = Annotated[Scheme, Depends(get_scheme)]
SchemesDep = Annotated[list[str], Depends(get_schemes)]
SomeSchemesDep = Annotated[list[str] | None, Depends(get_some_schemes)]
DateDep = Annotated[dt.date, Depends(get_date)]
IntervalDep = Annotated[tuple[dt.date, dt.date], Depends(get_interval)]
PeriodeDep = Annotated[tuple[dt.date, dt.date], Depends(get_periode)]
ChangesDep = Annotated[Changes, Depends(get_changes)]
ChangementsDep = Annotated[Changes, Depends(get_changements)]
ClubsApartDep = Annotated[bool, Depends(get_clubs)]
