"""The JSON API: lookup, commune stacks, search, schemes, overlaps, coverage counts and GeoJSON layers."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from geo.coverage import UnknownTerritory
from geo.model import Model
from geo.schemes import Scheme
from service import schemas
from service.deps import get_layers, get_map_settings, get_model
from service.errors import BadRequest, unknown_scheme, unknown_territory
from service.geojson import GEOJSON, LayerCache, bbox_area, cached_json, not_modified, parse_bbox, selection_mask, snap_tolerance
from service.limits import LIMITS
from service.settings import MapSettings

Level = Literal["commune", "epci", "departement", "region", "grouping"]
MAX_SCHEMES = 8
ERRORS = {**schemas.NOT_MODIFIED, 404: schemas.json_error("Code ou identifiant inconnu (message en français)"),
          422: schemas.json_error("Paramètre invalide (message en français)")}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)
ModelDep = Annotated[Model, Depends(get_model)]
Within = Annotated[str | None, Query(max_length=60, description="Code d'un territoire (INSEE, SIREN, département, région) "
                                                                "ou identifiant de groupement ; 'niveau:code' lève l'ambiguïté",
                                     openapi_examples=schemas.examples(departement="31", epci="243100518"))]
SchemeId = Annotated[str, Path(max_length=100, description="Identifiant d'un dispositif (voir /api/schemes)",
                               openapi_examples=schemas.examples(reseau="dialogue-metropolitain", programme="petites-villes-de-demain"))]


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def resolve(model: Model, territory: str) -> tuple[str, str]:
    """(level, code) of a territory, or the French 404 naming it."""
    try:
        return model.coverage.resolve(territory)
    except UnknownTerritory:
        raise unknown_territory(model, territory) from None


def scheme_or_404(model: Model, scheme_id: str) -> Scheme:
    if scheme_id not in model.catalogue.schemes:
        raise unknown_scheme(scheme_id)
    return model.catalogue.schemes[scheme_id]


def member_codes(model: Model, scheme: Scheme) -> tuple[str, list[tuple[str, str | None, dt.date | None, dt.date | None]]]:
    """(member scale, members) of a scheme; a club of 'all the network's members' lists its parent's."""
    if scheme.all_parent_members and scheme.parent in model.catalogue.schemes:
        parent = model.catalogue.schemes[scheme.parent]
        return parent.member_scale, [(m.code, None, scheme.start, scheme.end) for m in parent.members]
    return scheme.member_scale, [(m.code, m.role, m.start or scheme.start, m.end or scheme.end) for m in scheme.members]


def codes_within(model: Model, level: str, within: str) -> frozenset[str]:
    """Codes of the territories of ``level`` that share at least one commune with ``within``.

    Below the territory's own scale that is what lies inside it; above, what contains it.
    """
    resolve(model, within)
    communes = model.coverage.communes_within(within)
    table = model.scales["commune"].set_index("code").loc[communes]
    if level == "commune":
        return frozenset(communes)
    if level in ("epci", "departement", "region"):
        return frozenset(table[level].dropna().astype(str))
    epcis = set(table["epci"].dropna())
    grp = model.scales["grouping"]
    return frozenset(c for c, members in zip(grp["code"], grp["epci"]) if epcis & set(str(members).split(";")))


def _names(model: Model, scale: str) -> pd.Series:
    if scale == "grouping":
        return pd.Series({s.id: s.name for s in model.catalogue.schemes.values()})
    if scale == "quartier":
        return model.scales["quartier"].set_index("code")["nom"]
    table = model.territories.cog.communes if scale == "commune" else model.territories.cog.epci
    return table.set_index("code")["nom"]


def _summary(model: Model, scheme: Scheme) -> dict:
    _, members = member_codes(model, scheme)
    return {"id": scheme.id, "name": scheme.name, "kind": scheme.kind, "member_scale": scheme.member_scale,
            "start": _iso(scheme.start), "end": _iso(scheme.end), "members": len(members),
            "coverage": model.coverage.summary(scheme.id)}


@router.get("/lookup", response_model=schemas.Lookup, summary="Tout ce qui couvre un point")
async def lookup(request: Request, model: ModelDep,
           lon: Annotated[float, Query(ge=-180, le=180, description="Longitude WGS 84 (degrés)", openapi_examples=schemas.examples(toulouse=1.4442))],
           lat: Annotated[float, Query(ge=-90, le=90, description="Latitude WGS 84 (degrés)", openapi_examples=schemas.examples(toulouse=43.6047))]
           ) -> Response:
    """La commune qui contient le point et toute sa pile (comme `territoires lookup --json`)."""
    # async: an indexed point query and dictionary reads (~50 µs), cheaper than a thread-pool hop
    return cached_json(request, model, lambda: model.lookup(lon, lat), memo=False)


@router.get("/communes/{code}", response_model=schemas.Stack, summary="Tout ce qui couvre une commune")
def commune(request: Request, model: ModelDep, code: Annotated[str, Path(max_length=10, description="Code INSEE 2026",
                                                                           openapi_examples=schemas.examples(toulouse="31555"))]) -> Response:
    """EPCI, département, région, groupements et chaque dispositif couvrant la commune (comme `territoires coverage --json`)."""
    _, code = resolve(model, f"commune:{code}")
    return cached_json(request, model, lambda: model.stack(code))


@router.get("/search", response_model=list[schemas.Hit], summary="Chercher un territoire")
def search(request: Request, model: ModelDep,
           q: Annotated[str, Query(min_length=1, max_length=LIMITS.max_search_length,
                                   description="Nom (sans accents ni tirets, « St » = « Saint ») ou code INSEE / SIREN",
                                   openapi_examples=schemas.examples(nom="Labège", code="31555"))],
           level: Annotated[Level | None, Query(description="Limiter à une échelle")] = None,
           limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    """Résultats classés : code exact, puis début du nom, puis population."""
    if not q.strip():
        raise BadRequest("Requête invalide : le paramètre « q » ne contient que des espaces.")
    return cached_json(request, model, lambda: [h.as_dict() for h in model.search.search(q, level, limit)])


@router.get("/schemes", response_model=list[schemas.SchemeSummary], summary="Les dispositifs")
def schemes(request: Request, model: ModelDep) -> Response:
    """Chaque dispositif avec sa période et ce qu'il couvre dans le périmètre."""
    return cached_json(request, model, lambda: [_summary(model, s) for s in model.catalogue.schemes.values()])


@router.get("/schemes/{scheme_id}", response_model=schemas.SchemeDetail, summary="Un dispositif")
def scheme(request: Request, model: ModelDep, scheme_id: SchemeId) -> Response:
    """Membres, communes couvertes, population et surface couvertes, période et source."""
    s = scheme_or_404(model, scheme_id)

    def build() -> dict:
        scale, members = member_codes(model, s)
        names = _names(model, scale)
        in_scope = set(model.scales[scale]["code"])
        return {**_summary(model, s), "owner": s.owner, "parent": s.parent, "source": s.source, "as_of": _iso(s.as_of),
                "notes": s.notes, "member_scale": scale,
                "members": [{"code": c, "nom": names.get(c), "role": r, "start": _iso(a), "end": _iso(b), "in_scope": c in in_scope}
                            for c, r, a, b in members],
                "communes": list(model.coverage.scheme_communes(s.id))}
    return cached_json(request, model, build)


@router.get("/schemes/{a}/overlap/{b}", response_model=schemas.Overlap, summary="Recouvrement de deux dispositifs")
def overlap(request: Request, model: ModelDep, a: SchemeId, b: SchemeId,
            within: Within = None) -> Response:
    """Communes couvertes par les deux, par un seul, avec leurs populations."""
    scheme_or_404(model, a), scheme_or_404(model, b)
    within = within or None  # 'within=' (empty) is no focus, as for every other route
    if within:
        resolve(model, within)
    return cached_json(request, model, lambda: {"a": a, "b": b, "within": within, **model.coverage.overlap(a, b, within)})


@router.get("/schemes/{scheme_id}/links", summary="Liens d'un réseau (GeoJSON)", response_class=Response,
            responses={200: {"content": {GEOJSON: {"schema": schemas.inline_schema(schemas.FeatureCollection)}},
                             "description": "FeatureCollection de LineString (propriétés from, to, from_nom, to_nom)"}})
def links(request: Request, model: ModelDep, scheme_id: SchemeId) -> Response:
    """Pour un réseau ou un partenariat, une ligne du membre pilote (ou porteur, ou premier) vers chaque autre membre."""
    s = scheme_or_404(model, scheme_id)

    def build() -> dict:
        if s.kind not in ("network", "partnership"):
            return {"type": "FeatureCollection", "features": []}
        scale, members = member_codes(model, s)
        table = model.scales[scale].set_index("code")
        placed = [(c, r) for c, r, _, _ in members if c in table.index]
        hub = next((c for c, r in placed if r and "pilot" in r.lower()), s.owner if s.owner in table.index else None)
        hub = hub or (placed[0][0] if placed else None)
        points = table.geometry.representative_point()
        features = [{"type": "Feature", "properties": {"from": hub, "to": c, "from_nom": table.at[hub, "nom"], "to_nom": table.at[c, "nom"]},
                     "geometry": {"type": "LineString", "coordinates": [[round(p.x, 5), round(p.y, 5)] for p in (points[hub], points[c])]}}
                    for c, _ in placed if c != hub]
        return {"type": "FeatureCollection", "features": features}
    return cached_json(request, model, build, media_type=GEOJSON)


@router.get("/coverage", response_model=schemas.CoverageCount, summary="Combien de dispositifs couvrent chaque commune")
def coverage(request: Request, model: ModelDep,
             schemes: Annotated[str, Query(min_length=1, max_length=800, description="Identifiants séparés par des virgules",
                                           openapi_examples=schemas.examples(deux="petites-villes-de-demain,villages-d-avenir"))],
             within: Within = None) -> Response:
    """Pour chaque commune, les dispositifs choisis qui la couvrent ; les lacunes (aucun) à part."""
    ids = parse_schemes(model, schemes)
    within = within or None  # 'within=' (empty) is no focus, as for every other route
    if within:
        resolve(model, within)

    def build() -> dict:
        matrix = model.coverage.matrix(ids, within)
        counts = matrix.sum(axis=1)
        names = {i: model.catalogue.schemes[i].name for i in ids}
        covering = {c: [i for i in ids if row[i]] for c, row in matrix[counts > 0].iterrows()}
        return {"schemes": [{"id": i, "name": names[i]} for i in ids], "within": within, "communes": covering,
                "gaps": list(matrix.index[counts == 0]), "counts": {str(k): int(v) for k, v in counts.value_counts().sort_index().items()}}
    return cached_json(request, model, build)


def parse_schemes(model: Model, text: str) -> list[str]:
    """Scheme ids from 'a,b,c': each known, at most MAX_SCHEMES, no duplicates."""
    ids = list(dict.fromkeys(i.strip() for i in text.split(",") if i.strip()))
    if not ids:
        raise BadRequest("Requête invalide : le paramètre « schemes » ne nomme aucun dispositif.")
    if len(ids) > MAX_SCHEMES:
        raise BadRequest(f"Requête invalide : au plus {MAX_SCHEMES} dispositifs à la fois ({len(ids)} donnés).")
    for i in ids:
        scheme_or_404(model, i)
    return ids


LEVEL_PLURALS = {"commune": "communes", "epci": "EPCI", "departement": "départements", "region": "régions", "grouping": "groupements"}


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


@router.get("/territories/{level}", summary="Les territoires d'une échelle (GeoJSON)", response_class=Response,
            responses={200: {"content": {GEOJSON: {"schema": schemas.inline_schema(schemas.Layer)}},
                             "description": "FeatureCollection (code, nom), coordonnées arrondies à 1e-5°"}})
def territories(request: Request, model: ModelDep, layers: Annotated[LayerCache, Depends(get_layers)],
                limits: Annotated[MapSettings, Depends(get_map_settings)],
                level: Annotated[Level, Path(description="Échelle")], within: Within = None,
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
    if within:
        resolve(model, within)
    codes = (lambda: codes_within(model, level, within)) if within else None
    table = model.scales[level]
    selected = int(selection_mask(table["code"].to_numpy(dtype=object), table.geometry.bounds.to_numpy(),
                                  codes() if codes else None, box).sum())
    if selected > limits.max_features:
        raise BadRequest(f"Requête invalide : {_n(selected)} {LEVEL_PLURALS[level]} dans une seule réponse, au plus "
                         f"{_n(limits.max_features)}. Restreignez avec within= (un département, un EPCI…) ou "
                         f"bbox=minlon,minlat,maxlon,maxlat, ou utilisez les tuiles vectorielles /tiles/{level}/{{z}}/{{x}}/{{y}}.pbf.")
    payload = layers.collection(model, level, tolerance, codes, box, key=within or "")
    return payload.response(request, model, headers={"X-Simplify-Tolerance": str(tolerance)})
