"""The JSON API: lookup, commune stacks, search, schemes, overlaps, coverage counts and GeoJSON layers."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from geo.links import member_links
from geo.model import Model
from geo.schemes import Scheme
from geo.search import SCHEME
from geo.territory import LEVEL_NAMES, LEVELS, TERRITORY_LEVELS
from service import schemas
from service.deps import CommuneDep, LimitsDep, MapSettingsDep, ModelDep, ResponsesDep, SchemeDep, SchemeId, SchemesDep, WithinDep
from service.errors import BadRequest
from service.geojson import GEOJSON, bbox_area, cached_json, collection, not_modified, parse_bbox, selection_mask, snap_tolerance

Level = Literal[LEVELS]
SearchLevel = Literal[(*TERRITORY_LEVELS, SCHEME)]
ERRORS = {**schemas.NOT_MODIFIED, 404: schemas.json_error("Code ou identifiant inconnu (message en français)"),
          422: schemas.json_error("Paramètre invalide (message en français)")}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _summary(model: Model, scheme: Scheme) -> dict:
    _, members = model.catalogue.members(scheme)
    return {"id": scheme.id, "name": scheme.name, "kind": scheme.kind, "member_scale": scheme.member_scale,
            "start": _iso(scheme.start), "end": _iso(scheme.end), "members": len(members),
            "coverage": model.coverage.summary(scheme.id)}


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


@router.get("/lookup", response_model=schemas.Lookup, summary="Tout ce qui couvre un point")
async def lookup(request: Request, model: ModelDep,
           lon: Annotated[float, Query(ge=-180, le=180, description="Longitude WGS 84 (degrés)", openapi_examples=schemas.examples(toulouse=1.4442))],
           lat: Annotated[float, Query(ge=-90, le=90, description="Latitude WGS 84 (degrés)", openapi_examples=schemas.examples(toulouse=43.6047))]
           ) -> Response:
    """La commune qui contient le point et toute sa pile (comme `territoires lookup --json`)."""
    # async: an indexed point query and dictionary reads (~50 µs), cheaper than a thread-pool hop
    return cached_json(request, model, lambda: model.lookup(lon, lat), memo=False)


@router.get("/communes/{code}", response_model=schemas.Stack, summary="Tout ce qui couvre une commune")
def commune(request: Request, model: ModelDep, commune: CommuneDep) -> Response:
    """EPCI, département, région, groupements et chaque dispositif couvrant la commune (comme `territoires coverage --json`)."""
    return cached_json(request, model, lambda: model.stack(commune.code))


@router.get("/search", response_model=list[schemas.Hit], summary="Chercher un territoire ou un dispositif")
def search(request: Request, model: ModelDep, limits: LimitsDep,
           q: Annotated[str, Query(min_length=1, description="Nom (sans accents ni tirets, « St » = « Saint ») ou code INSEE / SIREN ; "
                                   "au plus TERRITOIRES_MAX_SEARCH_LENGTH caractères (100 par défaut)",
                                   openapi_examples=schemas.examples(nom="Labège", code="31555"))],
           level: Annotated[SearchLevel | None, Query(description="Limiter à une échelle, ou aux dispositifs (scheme)")] = None,
           limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    """Territoires (par nom ou code) et dispositifs (par nom), classés : code exact, puis nom exact, début du nom, mot du
    nom, puis population (couverte, pour un dispositif)."""
    if len(q) > limits.max_search_length:
        raise BadRequest(f"Requête invalide : le paramètre « q » doit contenir au plus {limits.max_search_length} caractères.")
    if not q.strip():
        raise BadRequest("Requête invalide : le paramètre « q » ne contient que des espaces.")
    return cached_json(request, model, lambda: [h.as_dict() for h in model.search.search(q, level, limit)])


@router.get("/schemes", response_model=list[schemas.SchemeSummary], summary="Les dispositifs")
def schemes(request: Request, model: ModelDep) -> Response:
    """Chaque dispositif avec sa période et ce qu'il couvre dans le périmètre."""
    return cached_json(request, model, lambda: [_summary(model, s) for s in model.catalogue.schemes.values()])


@router.get("/schemes/{scheme_id}", response_model=schemas.SchemeDetail, summary="Un dispositif")
def scheme(request: Request, model: ModelDep, s: SchemeDep) -> Response:
    """Membres, communes couvertes, population et surface couvertes, période et source."""
    def build() -> dict:
        scale, members = model.catalogue.members(s)
        names = model.names(scale)
        in_scope = set(model.scales[scale]["code"])
        return {**_summary(model, s), "owner": s.owner, "parent": s.parent, "source": s.source, "as_of": _iso(s.as_of),
                "notes": s.notes, "member_scale": scale,
                "members": [{"code": c, "nom": names.get(c), "role": r, "start": _iso(a), "end": _iso(b), "in_scope": c in in_scope}
                            for c, r, a, b in members],
                "communes": list(model.coverage.scheme_communes(s.id))}
    return cached_json(request, model, build)


@router.get("/schemes/{a}/overlap/{b}", response_model=schemas.Overlap, summary="Recouvrement de deux dispositifs")
def overlap(request: Request, model: ModelDep, a: SchemeId, b: SchemeId, within: WithinDep) -> Response:
    """Communes couvertes par les deux, par un seul, avec leurs populations."""
    for scheme_id in (a, b):
        model.scheme(scheme_id)  # a 404 naming an unknown one
    return cached_json(request, model, lambda: {"a": a, "b": b, "within": within.param if within else None,
                                                **model.coverage.overlap(a, b, within)})


@router.get("/schemes/{scheme_id}/links", summary="Liens d'un réseau (GeoJSON)", response_class=Response,
            responses={200: {"content": {GEOJSON: {"schema": schemas.inline_schema(schemas.FeatureCollection)}},
                             "description": "FeatureCollection de LineString (propriétés from, to, from_nom, to_nom)"}})
def links(request: Request, model: ModelDep, s: SchemeDep) -> Response:
    """Pour un réseau ou un partenariat, une ligne du membre pilote (ou porteur, ou premier) vers chaque autre membre."""
    return cached_json(request, model, lambda: member_links(model, s), media_type=GEOJSON)


@router.get("/coverage", response_model=schemas.CoverageCount, summary="Combien de dispositifs couvrent chaque commune")
def coverage(request: Request, model: ModelDep, ids: SchemesDep, within: WithinDep) -> Response:
    """Pour chaque commune, les dispositifs choisis qui la couvrent ; les lacunes (aucun) à part."""
    def build() -> dict:
        matrix = model.coverage.matrix(ids, within)
        counts = matrix.sum(axis=1)
        names = {i: model.catalogue.schemes[i].name for i in ids}
        covering = {c: [i for i in ids if row[i]] for c, row in matrix[counts > 0].iterrows()}
        return {"schemes": [{"id": i, "name": names[i]} for i in ids], "within": within.param if within else None, "communes": covering,
                "gaps": list(matrix.index[counts == 0]), "counts": {str(k): int(v) for k, v in counts.value_counts().sort_index().items()}}
    return cached_json(request, model, build)


@router.get("/territories/{level}", summary="Les territoires d'une échelle (GeoJSON)", response_class=Response,
            responses={200: {"content": {GEOJSON: {"schema": schemas.inline_schema(schemas.Layer)}},
                             "description": "FeatureCollection (code, nom), coordonnées arrondies à 1e-5°"}})
def territories(request: Request, model: ModelDep, responses: ResponsesDep, limits: MapSettingsDep,
                level: Annotated[Level, Path(description="Échelle")], within: WithinDep,
                simplify: Annotated[float, Query(ge=0, le=100_000, description="Tolérance de simplification en mètres "
                                                 "(ramenée à la valeur proposée juste en dessous ; 0 = géométrie complète)")] = 0,
                bbox: Annotated[str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat ; pour les communes, "
                                                  "au plus TERRITOIRES_MAX_BBOX_DEG2 degrés carrés (40 par défaut)")] = None) -> Response:
    """Polygones simplifiés en préservant la topologie (les communes voisines gardent leur limite commune).

    Une réponse contient au plus TERRITOIRES_MAX_FEATURES territoires (5 000 par défaut) : à l'échelle de la
    France, les communes se demandent dans un territoire (`within`) ou une emprise (`bbox`), ou en tuiles
    vectorielles (/tiles/commune/{z}/{x}/{y}.pbf)."""
    if (cached := not_modified(request, model)) is not None:
        return cached
    try:
        box = parse_bbox(bbox) if bbox else None
    except ValueError as exc:
        raise BadRequest(f"Requête invalide : {exc}.") from None
    if box is not None and level == "commune" and bbox_area(box) > limits.max_bbox_deg2:
        raise BadRequest(f"Requête invalide : bbox de {bbox_area(box):.4g} degrés carrés, au plus {limits.max_bbox_deg2:g} pour les "
                         "communes. Resserrez la bbox, ou donnez within= (un département, un EPCI…).")
    tolerance = snap_tolerance(simplify)
    codes = within.codes(level) if within else None
    table = model.scales[level]
    selected = int(selection_mask(table["code"].to_numpy(dtype=object), table.geometry.bounds.to_numpy(), codes, box).sum())
    if selected > limits.max_features:
        raise BadRequest(f"Requête invalide : {_n(selected)} {LEVEL_NAMES[level][1]} dans une seule réponse, au plus "
                         f"{_n(limits.max_features)}. Restreignez avec within= (un département, un EPCI…) ou "
                         f"bbox=minlon,minlat,maxlon,maxlat, ou utilisez les tuiles vectorielles /tiles/{level}/{{z}}/{{x}}/{{y}}.pbf.")
    payload = collection(responses, model, level, tolerance, codes, box, key=within.key if within else "")
    return payload.response(request, model, headers={"X-Simplify-Tolerance": str(tolerance)})
