"""The JSON API: lookup, batch location, commune stacks, search, schemes, overlaps, coverage counts and GeoJSON layers."""
from __future__ import annotations

import datetime as dt
import io
import json
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from geo.changes import Changes, rows
from geo.links import member_links
from geo.model import Model, dated
from geo.periods import in_force, status_text
from geo.pointfiles import PointTable, from_csv, from_records, joined, locate_table
from geo.schemes import Member, Scheme
from geo.search import SCHEME
from geo.sources import perimeters
from geo.spreadsheet import write_csv
from geo.territory import LEVEL_NAMES, LEVELS, TERRITORY_LEVELS, Territory
from service import schemas
from service.deps import (
    ChangesDep,
    ClubsApartDep,
    CommuneDep,
    DateDep,
    LimitsDep,
    MapSettingsDep,
    ModelDep,
    ResponsesDep,
    SchemeDep,
    SchemeId,
    SchemesDep,
    SomeSchemesDep,
    WithinDep,
)
from service.errors import BadRequest, TooLarge, UnsupportedMedia
from service.geojson import GEOJSON, bbox_area, cached_json, collection, not_modified, parse_bbox, selection_mask, snap_tolerance
from service.limits import Limits

Level = Literal[LEVELS]
SearchLevel = Literal[(*TERRITORY_LEVELS, SCHEME)]
ERRORS = {**schemas.NOT_MODIFIED, 404: schemas.json_error("Code ou identifiant inconnu (message en français)"),
          422: schemas.json_error("Paramètre invalide (message en français)")}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _member_source(member: Member | None) -> dict | None:
    """A membership's own source ({title, url}); None when the scheme's source applies."""
    return {"title": member.source.title, "url": member.source.url} if member is not None and member.source else None


def _key(at: dt.date, within: Territory | None = None, *rest: object) -> tuple:
    """A response's cache key from its parsed parameters (the date, the territory's 'level:code'), not the raw query."""
    return (at.isoformat(), within.key if within else "", *rest)


def _summary(model: Model, scheme: Scheme, at: dt.date) -> dict:
    """A scheme at a date: its period and whether it is in force, its members then, what it covers then."""
    _, members = model.catalogue.members(scheme)
    return {"id": scheme.id, "name": scheme.name, "kind": scheme.kind, "member_scale": scheme.member_scale,
            "start": _iso(scheme.start), "end": _iso(scheme.end), "generation": scheme.generation, "succeeds": list(scheme.succeeds),
            "in_force": in_force(scheme.start, scheme.end, at), "status": status_text(scheme.start, scheme.end, at),
            "members": len(members), "members_in_force": sum(in_force(a, b, at) for _, _, a, b in members),
            "coverage": model.coverage.on(at).summary(scheme.id)}


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


@router.get("/lookup", response_model=schemas.Lookup, summary="Tout ce qui couvre un point")
async def lookup(request: Request, model: ModelDep, at: DateDep,
           lon: Annotated[float, Query(ge=-180, le=180, description="Longitude WGS 84 (degrés)", openapi_examples=schemas.examples(toulouse=1.4442))],
           lat: Annotated[float, Query(ge=-90, le=90, description="Latitude WGS 84 (degrés)", openapi_examples=schemas.examples(toulouse=43.6047))]
           ) -> Response:
    """La commune qui contient le point et toute sa pile à la date (comme `territoires lookup --json`) : les dispositifs
    en vigueur d'abord, puis ceux terminés ou à venir, marqués comme tels."""
    # async: an indexed point query and dictionary reads (~50 µs), cheaper than a thread-pool hop
    return cached_json(request, model, lambda: model.lookup(lon, lat, at), memo=False)


CSV = "text/csv"
LOCATE_EXAMPLE = [{"site": "Capitole", "lon": 1.4442, "lat": 43.6047}, {"site": "Lourdes", "lon": -0.046, "lat": 43.095}]
LOCATE_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}, "example": LOCATE_EXAMPLE},
    CSV: {"schema": {"type": "string"}, "example": "site;lon;lat\nCapitole;1,4442;43,6047\nLourdes;-0,046;43,095\n"}}}
LOCATED = {200: {"description": "Les mêmes lignes, dans le même ordre, avec les colonnes ajoutées ; en CSV pour un CSV",
                 "content": {"application/json": {"schema": {"type": "object", "required": ["date", "schemes", "placed", "unplaced", "rows"],
                                                             "properties": {"date": {"type": "string", "format": "date"},
                                                                            "schemes": {"type": "array", "items": {"type": "object"}},
                                                                            "placed": {"type": "integer"},
                                                                            "unplaced": {"type": "object"},
                                                                            "rows": {"type": "array", "items": {"type": "object"}}}}},
                             CSV: {"schema": {"type": "string"}}}},
            413: schemas.json_error("Trop de lignes ou un corps trop lourd : le message renvoie à la commande territoires locate"),
            415: schemas.json_error("Ni JSON ni CSV (message en français)")}


async def _body(request: Request, limit: int) -> bytes:
    """The request body, read until it exceeds ``limit`` bytes (then 413: a client cannot make the service hold more)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit=limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(rows: int | None = None, limit: int | None = None, max_rows: int | None = None) -> TooLarge:
    what = f"{_n(rows)} lignes, au plus {_n(max_rows)} par requête" if rows is not None else f"corps de plus de {_n(limit)} octets"
    return TooLarge(f"Trop gros pour l'API : {what}. Pour un fichier plus grand, utilisez la commande "
                    "« territoires locate FICHIER -o SORTIE » (CSV, GeoPackage ou GeoParquet, sans limite de taille ; voir le README).")


def _table(body: bytes, csv: bool, crs: int) -> PointTable:
    if csv:
        return from_csv(body, crs, name="CSV")
    try:
        records = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest("JSON illisible : le corps doit être un tableau d'objets, par exemple [{\"lon\": 1.44, \"lat\": 43.6}].") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BadRequest("Le corps JSON doit être un tableau d'objets (un par ligne), avec lon et lat, x et y, ou code.")
    return from_records(records, crs)


def _located(model: Model, limits: Limits, body: bytes, csv: bool, date: dt.date | None, crs: int) -> Response:
    table = _table(body, csv, crs)
    if len(table.frame) > limits.max_locate_rows:
        raise _too_large(rows=len(table.frame), max_rows=limits.max_locate_rows)
    located = locate_table(model, table, date)
    frame = joined(table, located)
    if csv:
        out = io.BytesIO()
        write_csv(frame, out)
        return Response(out.getvalue(), media_type=f"{CSV}; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="localisation.csv"'})
    names = {s: model.catalogue.schemes[s].name for s in located.schemes}
    return JSONResponse({"date": located.date.isoformat(), "schemes": [{"id": s, "name": n} for s, n in names.items()],
                         "placed": located.placed, "unplaced": located.reasons(),
                         "rows": json.loads(frame.to_json(orient="records", force_ascii=False, date_format="iso"))})


@router.post("/locate", summary="Localiser un lot de points ou de codes", response_class=Response, responses=LOCATED,
             openapi_extra={"requestBody": LOCATE_BODY})
async def locate(request: Request, model: ModelDep, limits: LimitsDep,
                 date: Annotated[dt.date | None, Query(description="Dispositifs en vigueur à cette date (AAAA-MM-JJ ; "
                                                       "par défaut aujourd'hui)", openapi_examples=schemas.examples(juin_2024="2024-06-01"))] = None,
                 crs: Annotated[int, Query(ge=1024, le=999_999, description="Code EPSG des coordonnées : 4326 lit lon/lat, un autre "
                                           "(2154, Lambert-93) lit x/y", openapi_examples=schemas.examples(wgs84=4326, lambert93=2154))] = 4326,
                 ) -> Response:
    """Comme `territoires locate` : un tableau JSON d'objets, ou un CSV (`;` ou `,`, UTF-8), avec des colonnes lon/lat
    (x/y avec `crs`) ou code ; au plus TERRITOIRES_MAX_LOCATE_ROWS lignes (10 000 par défaut) et
    TERRITOIRES_MAX_LOCATE_MB Mo (4 par défaut), au-delà une 413 renvoie à la commande. Les mêmes lignes reviennent dans
    le même ordre avec commune, EPCI, département, région, groupements, dispositifs en vigueur et `motif` pour une
    ligne non placée ; en CSV pour un CSV (`;`, UTF-8 avec BOM, cellules neutralisées contre les formules)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/json", CSV):
        raise UnsupportedMedia(f"Type de contenu « {media or 'absent'} » non pris en charge : envoyez application/json "
                               "(un tableau d'objets) ou text/csv.")
    body = await _body(request, int(limits.max_locate_mb * 1_000_000))
    return await run_in_threadpool(_located, model, limits, body, media == CSV, date, crs)


@router.get("/communes/{code}", response_model=schemas.Stack, summary="Tout ce qui couvre une commune")
def commune(request: Request, model: ModelDep, commune: CommuneDep, at: DateDep) -> Response:
    """EPCI, département, région, groupements et chaque dispositif couvrant la commune à la date (comme
    `territoires coverage --json`) : en vigueur d'abord, puis terminés ou à venir, marqués comme tels."""
    return cached_json(request, model, lambda: model.stack(commune.code, at), key=_key(at, commune))


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
def schemes(request: Request, model: ModelDep, at: DateDep) -> Response:
    """Chaque dispositif avec sa période, s'il est en vigueur à la date, et ce qu'il couvre dans le périmètre ce jour-là."""
    return cached_json(request, model, lambda: [_summary(model, s, at) for s in model.catalogue.schemes.values()], key=_key(at))


@router.get("/schemes/{scheme_id}", response_model=schemas.SchemeDetail, summary="Un dispositif")
def scheme(request: Request, model: ModelDep, s: SchemeDep, at: DateDep) -> Response:
    """Membres (chacun marqué en vigueur, terminé ou à venir à la date), communes couvertes ce jour-là, population et
    surface couvertes, période et source."""
    def build() -> dict:
        scale, members = model.catalogue.members(s)
        names = model.names(scale)
        in_scope = set(model.scales[scale]["code"])
        own = {m.code: m for m in s.members} if model.catalogue.member_source(s) is s else {}
        rows = [{"code": c, "nom": names.get(c), "role": r, "start": _iso(a), "end": _iso(b), "in_scope": c in in_scope,
                 "note": own[c].note if c in own else None, "source": _member_source(own.get(c))}
                for c, r, a, b in members]
        return {**_summary(model, s, at), "owner": s.owner, "parent": s.parent, "source": s.source, "as_of": _iso(s.as_of),
                "notes": s.notes, "member_scale": scale, "members": dated(rows, at),
                "communes": list(model.coverage.on(at).scheme_communes(s.id)), **model.dating(at)}
    return cached_json(request, model, build, key=_key(at, None, s.id))


@router.get("/schemes/{a}/overlap/{b}", response_model=schemas.Overlap, summary="Recouvrement de deux dispositifs")
def overlap(request: Request, model: ModelDep, a: SchemeId, b: SchemeId, within: WithinDep, at: DateDep) -> Response:
    """Communes couvertes par les deux à la date, par un seul, avec leurs populations."""
    for scheme_id in (a, b):
        model.scheme(scheme_id)  # a 404 naming an unknown one
    return cached_json(request, model, lambda: {"a": a, "b": b, "within": within.param if within else None,
                                                **model.coverage.on(at).overlap(a, b, within), **model.dating(at)},
                       key=_key(at, within, a, b))


@router.get("/schemes/{scheme_id}/links", summary="Liens d'un réseau (GeoJSON)", response_class=Response,
            responses={200: {"content": {GEOJSON: {"schema": schemas.inline_schema(schemas.FeatureCollection)}},
                             "description": "FeatureCollection de LineString (propriétés from, to, from_nom, to_nom)"}})
def links(request: Request, model: ModelDep, s: SchemeDep) -> Response:
    """Pour un réseau ou un partenariat, une ligne du membre pilote (ou porteur, ou premier) vers chaque autre membre."""
    return cached_json(request, model, lambda: member_links(model, s), media_type=GEOJSON)


@router.get("/coverage", response_model=schemas.CoverageCount, summary="Combien de dispositifs couvrent chaque commune")
def coverage(request: Request, model: ModelDep, ids: SchemesDep, within: WithinDep, at: DateDep, clubs_apart: ClubsApartDep) -> Response:
    """Pour chaque commune, les dispositifs choisis qui la couvrent à la date ; les lacunes (aucun) à part.

    Les générations d'un programme (ACV 2018 puis 2023, PVD 2021 puis 2024) comptent pour un, de même qu'un réseau et
    ses clubs (sauf `clubs=apart`) : `count` donne ce nombre par commune couverte, `counts` le nombre de communes par
    nombre de dispositifs."""
    def build() -> dict:
        cov = model.coverage.on(at)
        matrix = cov.matrix(ids, within)
        counts = cov.counts(ids, within, clubs_apart)
        names = {i: model.catalogue.schemes[i].name for i in ids}
        covered = matrix[counts > 0]
        columns = np.array(ids, dtype=object)
        covering = {c: columns[row.astype(bool)].tolist() for c, row in zip(covered.index, covered.to_numpy())}
        return {"schemes": [{"id": i, "name": names[i]} for i in ids], "within": within.param if within else None, "communes": covering,
                "count": {c: int(n) for c, n in counts[counts > 0].items()}, "gaps": list(matrix.index[counts == 0]),
                "counts": {str(k): int(v) for k, v in counts.value_counts().sort_index().items()},
                "clubs": "apart" if clubs_apart else "ensemble", **model.dating(at)}
    return cached_json(request, model, build, key=_key(at, within, tuple(ids), clubs_apart))


def changes_json(model: Model, result: Changes) -> dict:
    """What changed, as the API answers it: the summary per class, each changed commune with the schemes it gained, lost
    and had replaced (ids and names), the unchanged communes' codes."""
    names = {i: s.name for i, s in model.catalogue.schemes.items()}

    def named(ids: tuple[str, ...]) -> list[dict]:
        return [{"id": i, "name": names[i]} for i in ids]

    table = result.table
    changed = table[table["status"] != "unchanged"]
    return {"from": result.start.isoformat(), "to": result.end.isoformat(), "within": result.within.param if result.within else None,
            "perimeters": perimeters(), "summary": result.summary(),
            "communes": [{"code": r.code, "nom": r.nom, "status": r.status, "gained": named(r.gained), "lost": named(r.lost),
                          "replaced": [{"from": named(a), "to": named(b)} for a, b in r.replaced], "before": int(r.before),
                          "after": int(r.after)} for r in changed.itertuples(index=False)],
            "unchanged": table.loc[table["status"] == "unchanged", "code"].tolist()}


@router.get("/changes", response_model=schemas.ChangesAnswer, summary="Ce qui a changé entre deux dates")
def changes(request: Request, model: ModelDep, result: ChangesDep) -> Response:
    """Pour chaque commune (de `within`, sinon de tout le périmètre), les dispositifs gagnés et perdus entre `from` et
    `to` ; une génération remplacée par la suivante (ACV 2018 → ACV 2023-2026, QPV 2015 → QPV 2024) est listée à part,
    ni gain ni perte. Les périmètres restent ceux de 2026 aux deux dates."""
    key = (result.start.isoformat(), result.end.isoformat(), result.within.key if result.within else "")
    return cached_json(request, model, lambda: changes_json(model, result), key=key)


@router.get("/changes.csv", summary="Ce qui a changé entre deux dates (CSV pour tableur)", response_class=Response,
            responses={200: {"description": "Une ligne par commune : « ; », UTF-8 avec BOM, cellules protégées contre les formules",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def changes_csv(model: ModelDep, result: ChangesDep) -> Response:
    """Le même tableau en CSV : code, commune, changement, gagnés, perdus, remplacés, nombre de dispositifs aux deux dates."""
    buffer = io.BytesIO()
    write_csv(rows(result, {i: s.name for i, s in model.catalogue.schemes.items()}), buffer)
    where = f"-{result.within.code}" if result.within else ""
    name = f"changements-{result.start.isoformat()}-{result.end.isoformat()}{where}.csv"
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/typology", response_model=schemas.TypologyAnswer, summary="Couverture par classe de typologie")
def typology(request: Request, model: ModelDep, within: WithinDep, at: DateDep, ids: SomeSchemesDep, clubs_apart: ClubsApartDep) -> Response:
    """La couverture d'un territoire à la date, ventilée par classe de chaque grille (densité, centralités, ruralités,
    zone de montagne) : par classe, les communes, celles couvertes par au moins un des dispositifs choisis (tous par
    défaut) et la part couverte ; avec `schemes`, les communes de chaque dispositif par classe."""
    def build() -> dict:
        return {"within": within.param if within else None, "schemes": ids, "grids": model.by_typology(at, within, ids, clubs_apart),
                **model.dating(at)}
    return cached_json(request, model, build, key=_key(at, within, tuple(ids or ()), clubs_apart))


@router.get("/territories/{level}", summary="Les territoires d'une échelle (GeoJSON)", response_class=Response,
            responses={200: {"content": {GEOJSON: {"schema": schemas.inline_schema(schemas.Layer)}},
                             "description": "FeatureCollection (code, nom), coordonnées arrondies à 1e-5°"}})
def territories(request: Request, model: ModelDep, responses: ResponsesDep, limits: MapSettingsDep,
                level: Annotated[Level, Path(description="Échelle")], within: WithinDep, at: DateDep,
                simplify: Annotated[float, Query(ge=0, le=100_000, description="Tolérance de simplification en mètres "
                                                 "(ramenée à la valeur proposée juste en dessous ; 0 = géométrie complète)")] = 0,
                bbox: Annotated[str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat ; pour les communes, "
                                                  "au plus TERRITOIRES_MAX_BBOX_DEG2 degrés carrés (40 par défaut)")] = None) -> Response:
    """Polygones simplifiés en préservant la topologie (les communes voisines gardent leur limite commune). Les
    périmètres sont ceux de 2026 à toute date ; `date` ne retient que les groupements en vigueur ce jour-là.

    Une réponse contient au plus TERRITOIRES_MAX_FEATURES territoires (5 000 par défaut) : à l'échelle de la
    France, les communes se demandent dans un territoire (`within`) ou une emprise (`bbox`), ou en tuiles
    vectorielles (/tiles/commune/{z}/{x}/{y}.pbf)."""
    try:
        box = parse_bbox(bbox) if bbox else None
    except ValueError as exc:
        raise BadRequest(f"Requête invalide : {exc}.") from None
    if box is not None and level == "commune" and bbox_area(box) > limits.max_bbox_deg2:
        raise BadRequest(f"Requête invalide : bbox de {bbox_area(box):.4g} degrés carrés, au plus {limits.max_bbox_deg2:g} pour les "
                         "communes. Resserrez la bbox, ou donnez within= (un département, un EPCI…).")
    tolerance = snap_tolerance(simplify)
    codes = within.codes(level) if within else None
    key = within.key if within else ""
    if level == "grouping":  # a grouping is a scheme: those in force at the date (the others' outlines are not drawn)
        current = frozenset(g.id for g in model.catalogue.groupings if in_force(g.start, g.end, at))
        codes, key = (current if codes is None else codes & current), f"{key}@{at.isoformat()}"
    table = model.scales[level]
    selected = int(selection_mask(table["code"].to_numpy(dtype=object), table.geometry.bounds.to_numpy(), codes, box).sum())
    if selected > limits.max_features:
        raise BadRequest(f"Requête invalide : {_n(selected)} {LEVEL_NAMES[level][1]} dans une seule réponse, au plus "
                         f"{_n(limits.max_features)}. Restreignez avec within= (un département, un EPCI…) ou "
                         f"bbox=minlon,minlat,maxlon,maxlat, ou utilisez les tuiles vectorielles /tiles/{level}/{{z}}/{{x}}/{{y}}.pbf.")
    if (cached := not_modified(request, model)) is not None:  # after every parameter is checked: a bad one is never a 304
        return cached
    payload = collection(responses, model, level, tolerance, codes, box, key=key)
    return payload.response(request, model, headers={"X-Simplify-Tolerance": str(tolerance)})
