"""The planners' pages (French, server-rendered with Jinja2): home and search, a territory and its poupées russes, a
scheme, the coverage builder, the sources; the side panel of the maps and the fiche territoire PDF.

Pages are rendered once per data version, URL and date (the date parsed: no ``date=`` and today's are one page) and
kept gzip-compressed with the other responses (their ETag is the data version's); /sources, which shows the worker's
state and the published member lists, is rendered on each request.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo import memberstore, wording
from geo.errors import NotFound
from geo.fiche import fiche_pdf
from geo.kinds import GROUPS, KINDS
from geo.mapspec import coverage_title, fr_date
from geo.memo import Memo
from geo.model import Model
from geo.reconcile import RULE_LABELS
from geo.search import SCHEME
from geo.sources import codes_source, geometry_source
from geo.territory import Territory
from geo.versions import read_pointer
from service import schemas
from service.deps import MAX_SCHEMES, DateDep, ModelDep, ResponsesDep, SchemeDep, scheme_ids
from service.geojson import Payload, cached_payload, not_modified
from service.links import dated
from service.memberfiles import public_versions
from service.pages import views
from service.state import ModelHolder
from service.staticfiles import CompressedStaticFiles
from service.templating import render

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/pages/static"
HTML = "text/html; charset=utf-8"
SEARCH_LIMIT = 20

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse,
                   responses={**schemas.NOT_MODIFIED, 404: schemas.html_error("Territoire ou dispositif inconnu (page d'erreur en français)"),
                              422: schemas.html_error("Paramètre invalide (page d'erreur en français)")})
Code = Annotated[str, PathParam(max_length=100, description="Code d'un territoire (INSEE, QP…, SIREN, département, région) ou "
                                                            "identifiant de groupement ; « region:76 » lève l'ambiguïté",
                                openapi_examples=schemas.examples(commune="31149", epci="243100518", groupement="dialogue-metropolitain"))]


def _cached(request: Request, model: Model, responses: Memo[Payload], build: Callable[[], bytes], media_type: str = HTML,
            headers: dict | None = None, at: dt.date | None = None) -> Response:
    """A page (or file) built once per data version, URL and parsed date, kept compressed; 304 when the client has this
    version."""
    if (cached := not_modified(request, model)) is not None:
        return cached
    params = tuple(sorted((k, v) for k, v in request.query_params.multi_items() if k != "date"))
    key = (model.version, "page", request.url.path, at.isoformat() if at else "", _asked(request) is not None, params)
    return cached_payload(responses, key, build).response(request, model, media_type=media_type, headers=headers)


def _asked(request: Request) -> str | None:
    """The date the request gave (``date=``, already checked by the date dependency), None without one."""
    value = request.query_params.get("date")
    return value if value and value.strip() else None


def asked_date(request: Request, at: dt.date) -> dt.date | None:
    """The page's date when the request asked one (links and maps keep it), None when it is today by default."""
    return at if _asked(request) is not None else None


def page(template: str, model: Model, **context: object) -> bytes:
    context.setdefault("asked", None)
    context.setdefault("dating", None)
    return render(f"pages/{template}", site=views.site(model), **context).encode()


async def _territory(model: Model, code: str) -> Territory:
    return await run_in_threadpool(model.territory, code)


@router.get("/", summary="Accueil : ce que le service couvre, la recherche et le catalogue des dispositifs")
def home(request: Request, model: ModelDep, responses: ResponsesDep) -> Response:
    return _cached(request, model, responses, lambda: page("home.html", model, title="Accueil", nav="accueil", **views.home(model)))


def _what(model: Model, level: str, kind: str | None) -> str:
    """How a search result says what it is: 'commune', 'programme national'…"""
    if level == SCHEME:
        return f"dispositif · {KINDS[kind].label}" if kind in KINDS else "dispositif"
    if level == "grouping":
        return "groupement d'EPCI · dispositif"
    return wording.level_name(level)


@router.get("/recherche", summary="Chercher un territoire (nom, code INSEE ou SIREN) ou un dispositif (nom)")
def search(request: Request, model: ModelDep, at: DateDep,
           q: Annotated[str, Query(max_length=100, description="Texte cherché")] = "") -> Response:
    hits = model.search.search(q, None, SEARCH_LIMIT) if q.strip() else []
    rows = [(h, views.hit_link(h), _what(model, h.level, h.kind)) for h in hits]
    body = page("search.html", model, title=f"Recherche : {q}", nav="", query=q, hits=rows, asked=asked_date(request, at))
    return HTMLResponse(body)


@router.get("/recherche/suggestions", summary="Suggestions sous un champ de recherche (fragment HTML)")
def suggestions(request: Request, model: ModelDep, at: DateDep,
                q: Annotated[str, Query(max_length=100, description="Texte tapé")] = "",
                pour: Annotated[Literal["page", "territoire"], Query(description="page : liens vers les pages ; territoire : "
                                                                               "territoires à choisir")] = "page") -> Response:
    choose = pour == "territoire"
    hits = [h for h in model.search.search(q, None, 8) if not (choose and h.level == SCHEME)] if q.strip() else []
    rows = [(h, views.hit_link(h), _what(model, h.level, h.kind)) for h in hits]
    params = [model.territory(f"{h.level}:{h.code}").param for h in hits] if choose else []
    return HTMLResponse(render("pages/suggestions.html", hits=rows, choose=choose, params=params, asked=asked_date(request, at)))


@router.get("/territoires/{code}", summary="Un territoire : poupées russes, carte, dispositifs qui le couvrent, membres")
async def territory(request: Request, model: ModelDep, responses: ResponsesDep, code: Code, at: DateDep) -> Response:
    t = await _territory(model, code)
    asked = asked_date(request, at)

    def build() -> bytes:
        view = views.territory(model, t, at, asked)
        when = {"date": asked.isoformat()} if asked else {}
        map_query = urlencode({"focus": view["focus"], "select": t.param, **when, "embed": "1"})
        full = urlencode({"focus": view["focus"], "select": t.param, **when})
        href = views.territory_href(t.level, t.code)
        return page("territory.html", model, title=t.nom, nav="", map_query=map_query, full_map_query=full, asked=asked,
                    dating=views.Dating(at, asked, href), coverage_query=urlencode({"within": t.param, **when}), **view)

    return await run_in_threadpool(_cached, request, model, responses, build, at=at)


@router.get("/territoires/{code}/panneau", summary="Le panneau d'un territoire sur les cartes (fragment HTML)")
async def panel(request: Request, model: ModelDep, responses: ResponsesDep, code: Code, at: DateDep) -> Response:
    t = await _territory(model, code)
    asked = asked_date(request, at)
    build = lambda: render("pages/panel.html", href=views.territory_href(t.level, t.code), asked=asked,  # noqa: E731
                           at=at, **views.panel(model, t, at)).encode()
    return await run_in_threadpool(_cached, request, model, responses, build, at=at)


@router.get("/territoires/{code}/fiche.pdf", summary="La fiche territoire (PDF A4, vectoriel)", response_class=Response,
            responses={200: {"description": "La fiche", "content": {"application/pdf": {"schema": schemas.BINARY}}},
                       404: schemas.json_error("Territoire inconnu (message en français)"),
                       422: schemas.json_error("Paramètre invalide (message en français)")})
async def fiche(request: Request, model: ModelDep, responses: ResponsesDep, code: Code) -> Response:
    t = await _territory(model, code)
    filename = f"fiche-{''.join(ch if ch.isalnum() or ch == '-' else '_' for ch in t.code)}.pdf"
    published = _published(model)
    return await run_in_threadpool(_cached, request, model, responses,
                                   lambda: fiche_pdf(model, t, published.date() if published else None), "application/pdf",
                                   {"Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/dispositifs/{scheme_id}", summary="Un dispositif : carte, membres, lacunes, téléchargements, intégration")
def scheme(request: Request, model: ModelDep, responses: ResponsesDep, s: SchemeDep, at: DateDep,
           tri: Annotated[str, Query(max_length=20, description="Colonne de tri des membres")] = "nom",
           ordre: Annotated[str, Query(max_length=5, description="asc ou desc")] = "asc") -> Response:
    base = str(request.base_url).rstrip("/")
    asked = asked_date(request, at)
    embed = (f'<iframe src="{base}{dated(f"/maps/schemes/{s.id}?embed=1", asked)}" width="100%" height="480" style="border:0" '
             f'loading="lazy" title="{s.name}"></iframe>')

    def build() -> bytes:
        view = views.scheme(model, s, tri, ordre == "desc", at, asked)
        keep = tuple((k, v) for k, v in (("tri", tri), ("ordre", ordre)) if request.query_params.get(k))
        return page("scheme.html", model, title=s.name, nav="", embed=embed, group=GROUPS[KINDS[s.kind].group], asked=asked,
                    dating=views.Dating(at, asked, f"/dispositifs/{s.id}", keep), **view)

    return _cached(request, model, responses, build, at=at)


def _within(model: Model, within: str | None, text: str | None) -> tuple[Territory | None, str | None]:
    """The territory of the builder: a code (``within``), else the text typed (a code, else the best territory found
    by name); with the message to show when the text names nothing."""
    if within and within.strip():
        return model.territory(within), None
    if not text or not text.strip():
        return None, None
    try:
        return model.territory(text), None
    except NotFound:
        hits = [h for h in model.search.search(text, None, 5) if h.level != SCHEME]
        if not hits:
            return None, f"Aucun territoire ne s'appelle « {text.strip()} » : la couverture est montrée sur tout le périmètre."
        return model.territory(f"{hits[0].level}:{hits[0].code}"), None


@router.get("/couverture", summary="Construire une carte de couverture : dispositifs cochés, territoire, superpositions, lacunes",
            responses={303: {"description": "Le formulaire envoyé (s=, territoire=) : vers le lien permanent (schemes=, within=)"}})
def coverage(request: Request, model: ModelDep, responses: ResponsesDep, at: DateDep,
             schemes: Annotated[str | None, Query(max_length=800, description="Dispositifs cochés (identifiants séparés par des virgules)")] = None,
             within: Annotated[str | None, Query(max_length=60, description="Territoire (code ou identifiant)")] = None,
             s: Annotated[list[str] | None, Query(max_length=MAX_SCHEMES, description="Dispositif coché (formulaire ; répétable)")] = None,
             territoire: Annotated[str | None, Query(max_length=100, description="Territoire tapé (formulaire)")] = None) -> Response:
    if s is not None or territoire is not None:  # a submitted form: answer at the permalink
        chosen = list(dict.fromkeys(i for i in [*(schemes.split(",") if schemes else []), *(s or [])] if i.strip()))
        if chosen:
            scheme_ids(model, ",".join(chosen))  # each known (404 naming it), not too many (422)
        t, message = _within(model, within, territoire)
        query = {**({"schemes": ",".join(chosen)} if chosen else {}), **({"within": t.param} if t else {}),
                 **({"date": at.isoformat()} if _asked(request) else {}), **({"introuvable": territoire} if message else {})}
        return RedirectResponse("/couverture" + (f"?{urlencode(query)}" if query else ""), status_code=303)
    missing = request.query_params.get("introuvable")
    asked = asked_date(request, at)
    ids = scheme_ids(model, schemes) if schemes else []  # validated before any 304
    t = model.territory(within) if within and within.strip() else None

    def build() -> bytes:
        view = views.coverage(model, ids, t, at, asked) if ids else None
        keep = tuple((k, v) for k, v in (("schemes", ",".join(ids)), ("within", t.param if t else "")) if v)
        names = [model.catalogue.schemes[i].name for i in ids]
        scope = ", ".join(model.scales["region"]["nom"].astype(str))
        title = (coverage_title(names) + (f" — {t.nom}" if t else "")) if ids else "Couverture"
        base = str(request.base_url).rstrip("/")
        return page("coverage.html", model, title=title, nav="couverture", catalogue=views.catalogue_groups(model), chosen=set(ids),
                    asked=asked, dating=views.Dating(at, asked, "/couverture", keep),
                    within=t, territory_text=t.nom if t else "", scope_name=scope, result=view,
                    permalink=f"{base}/couverture?{view['query']}" if view else "", overlap_names=views.OVERLAP_NAMES,
                    message=(f"Aucun territoire ne s'appelle « {missing} » : la couverture est montrée sur tout le périmètre."
                             if missing else None))

    return _cached(request, model, responses, build, at=at)


@router.get("/sources", summary="Sources et provenance : jeux de données, version en service, rapprochement des millésimes")
def sources_page(request: Request, model: ModelDep) -> Response:
    holder: ModelHolder = request.app.state.holder
    published = _published(model)
    report = model.territories.reconciliation
    body = page("sources.html", model, title="Sources et provenance", nav="sources", version=model.version,
                published=_when(published.timestamp()) if published else None,
                loaded=_when(holder.loaded_at) if holder.loaded_at else "—", last_error=holder.last_error,
                groups=views.source_groups(), report=report, rule_names=RULE_LABELS, commune_names=model.names("commune"),
                versions=views.version_rows(model, public_versions(memberstore.history(holder.settings))),
                member_version=memberstore.in_service(holder.settings))
    return HTMLResponse(body)


def _published(model: Model) -> dt.datetime | None:
    """When the data version in service was published (its pointer says so), if the pointer still names it."""
    pointer = read_pointer(model.settings)
    if pointer and pointer.get("version") == model.version and isinstance(pointer.get("published_ns"), int):
        return dt.datetime.fromtimestamp(pointer["published_ns"] / 1e9, dt.UTC)
    return None


def _when(epoch: float) -> str:
    """'12 mars 2026 à 14 h 05 (UTC)'."""
    at = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return f"{fr_date(at.date())} à {at.hour} h {at.minute:02d} (UTC)"


def error_page(status: int, message: str) -> str:
    """The French HTML page of an error on a page or a map."""
    title = {404: "Introuvable", 422: "Demande impossible", 503: "Service momentanément indisponible"}.get(status, f"Erreur {status}")
    site = {"version": "—", "geometry": geometry_source().label, "codes": codes_source().label}
    return render("pages/error.html", asked=None, dating=None, site=site, title=title, message=message, nav="")


def mount_pages(app: FastAPI) -> None:
    """The pages' routes and their style sheet and script."""
    app.mount(STATIC_URL, CompressedStaticFiles(directory=STATIC_DIR), name="pages-static")
    app.include_router(router)


__all__ = ["mount_pages", "error_page"]
