"""Response models of the JSON API (field names as in the core: nom, population, area_km2, start, end…)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Dated(BaseModel):
    """What an answer at a date says of its date."""

    date: str | None = Field(None, description="La date de la situation (AAAA-MM-JJ)")
    perimeters: str | None = Field(None, description="Les périmètres montrés à toute date : « périmètres 2026 »")


class Marked(BaseModel):
    """A membership marked at the date of the answer."""

    in_force: bool | None = Field(None, description="En vigueur à la date de la situation")
    status: str | None = Field(None, description="« en vigueur », « terminé le … », « à partir du … » ou « non daté »")


class Named(BaseModel):
    code: str
    nom: str | None


class Commune(BaseModel):
    code: str
    nom: str
    population: int
    area_km2: float


class Grouping(BaseModel):
    id: str
    name: str


class MemberSource(BaseModel):
    title: str | None = Field(description="Titre de la source de cette adhésion")
    url: str | None = Field(description="Adresse de la source de cette adhésion")



class SchemeRef(BaseModel):
    id: str = Field(description="Identifiant du dispositif")
    name: str
    kind: str = Field(description="Genre du dispositif (geo/kinds.py)")


class CoveragePath(BaseModel):
    """Par où le dispositif couvre la commune."""

    level: Literal["commune", "quartier", "epci"] = Field(description="Échelle du membre par lequel passe la couverture : la commune "
                                                                      "elle-même, un de ses quartiers, son EPCI")
    code: str = Field(description="Code de ce membre (INSEE, QP…, SIREN)")
    nom: str | None = Field(description="Nom de ce membre")
    grouping: SchemeRef | None = Field(description="Le groupement membre du dispositif dont cet EPCI fait partie, s'il y a lieu")
    network: SchemeRef | None = Field(description="Le réseau dont le club compte tous les membres, s'il y a lieu")


class Covering(Marked):
    id: str = Field(description="Identifiant du dispositif")
    name: str
    kind: str
    path: CoveragePath = Field(description="Chemin de la couverture : la commune, un quartier, un EPCI, un groupement, un réseau")
    role: str | None
    start: str | None
    end: str | None
    start_basis: str | None = Field(None, description="Source de la date de début : membre, dispositif ou non daté")
    end_basis: str | None = Field(None, description="Source de la date de fin : membre, dispositif ou non daté")
    source: MemberSource | None = Field(None, description="Source propre de l'adhésion (liste importée) ; absente : celle du dispositif")
    date_source: str | None = Field(None, description="D'où viennent ces dates : la source de la période du dispositif, la "
                                                      "colonne du fichier source donnant la date propre du membre")


class Quartier(Marked):
    code: str = Field(description="Code du quartier prioritaire (génération 2015)")
    nom: str
    commune: str = Field(description="Code INSEE de la commune principale du quartier")
    generation: str
    start: str | None
    end: str | None


class Stack(Dated):
    """Tout ce qui couvre une commune : EPCI, département, région, groupements, dispositifs."""

    typology: dict[str, str] | None = Field(None, description="Classe de la commune dans chaque grille (densité, centralité, "
                                                              "ruralité, montagne) ; absente sans miroir des données")
    commune: Commune | None
    epci: Named | None
    departement: Named | None
    region: Named | None
    groupings: list[Grouping]
    schemes: list[Covering]


class Lookup(Stack):
    lon: float
    lat: float
    quartiers: list[Quartier] = Field([], description="Quartiers prioritaires (génération 2015) qui contiennent le point")
    message: str | None = Field(None, description="Présent quand le point n'est dans aucune commune")


class Hit(BaseModel):
    level: str = Field(description="Échelle du territoire, ou « scheme » pour un dispositif")
    code: str = Field(description="Code du territoire, ou identifiant du dispositif")
    nom: str
    bbox: list[float] | None = Field(description="minlon, minlat, maxlon, maxlat (d'un dispositif : des communes qu'il couvre ; "
                                                 "aucune s'il n'en couvre pas)")
    population: int = Field(description="Population du territoire, ou des communes couvertes par le dispositif")
    kind: str | None = Field(None, description="Genre du dispositif (geo/kinds.py) ; vide pour un territoire")


class Coverage(BaseModel):
    communes: int
    population: int
    area_km2: float


class SchemeBase(BaseModel):
    id: str
    name: str
    kind: str
    member_scale: str
    start: str | None
    end: str | None


class SchemeSummary(SchemeBase, Marked):
    generation: str | None = Field(None, description="La génération du programme (2018-2022, liste 2024…)")
    succeeds: list[str] = Field([], description="Les dispositifs (générations antérieures) qu'il remplace")
    members: int
    members_in_force: int = Field(description="Membres en vigueur à la date")
    coverage: Coverage = Field(description="Ce qu'il couvre dans le périmètre à la date")


class Member(Marked):
    code: str
    nom: str | None
    role: str | None
    start: str | None
    end: str | None
    in_scope: bool = Field(description="Le membre est dans le périmètre servi")
    note: str | None = None
    source: MemberSource | None = Field(None, description="Source propre de l'adhésion (liste importée) ; absente : celle du dispositif")


class SchemeDetail(SchemeSummary, Dated):
    owner: str | None
    parent: str | None
    source: dict
    as_of: str | None
    notes: str | None
    members: list[Member]  # type: ignore[assignment]
    communes: list[str] = Field(description="Communes du périmètre couvertes à la date (codes INSEE)")


class Part(BaseModel):
    communes: int
    population: int


class Both(BaseModel):
    communes: list[str]
    population: int


class Overlap(Dated):
    a: str
    b: str
    within: str | None
    both: Both
    only_a: Part
    only_b: Part


class CoverageCount(Dated):
    schemes: list[Grouping]
    within: str | None
    communes: dict[str, list[str]] = Field(description="Pour chaque commune couverte, les dispositifs choisis qui la couvrent")
    count: dict[str, int] = Field({}, description="Pour chaque commune couverte, le nombre de dispositifs compté (les générations "
                                                  "d'un programme pour un, un réseau et ses clubs pour un sauf clubs=apart)")
    gaps: list[str] = Field(description="Communes couvertes par aucun des dispositifs choisis")
    counts: dict[str, int] = Field(description="Nombre de communes par nombre de dispositifs")
    clubs: str = Field("ensemble", description="ensemble ou apart")


class ClassCount(BaseModel):
    communes: int
    population: int


class ChangedCommune(BaseModel):
    code: str
    nom: str
    status: Literal["gained", "lost", "both", "unchanged"]
    gained: list[Grouping] = Field(description="Dispositifs en vigueur à la seconde date et pas à la première")
    lost: list[Grouping] = Field(description="Dispositifs en vigueur à la première date et plus à la seconde")
    replaced: list[dict] = Field(description="Générations remplacées par la suivante : {from: [...], to: [...]}")
    before: int = Field(description="Dispositifs en vigueur à la première date (les générations d'un programme pour un)")
    after: int = Field(description="Dispositifs en vigueur à la seconde date")


class ChangesAnswer(BaseModel):
    from_: str = Field(alias="from")
    to: str
    within: str | None
    perimeters: str
    summary: dict[str, ClassCount] = Field(description="Par classe (gained, lost, both, unchanged) : communes et population")
    communes: list[ChangedCommune] = Field(description="Les communes qui ont changé")
    unchanged: list[str] = Field(description="Codes des communes inchangées")


class TypologyClass(BaseModel):
    class_: str = Field(alias="class")
    communes: int
    covered: int = Field(description="Communes couvertes par au moins un des dispositifs")
    share: float = Field(description="Part des communes couvertes (%)")
    population: int
    covered_population: int
    schemes: dict[str, int] | None = Field(None, description="Communes couvertes par chaque dispositif choisi")


class TypologyGrid(BaseModel):
    id: str
    title: str
    source: dict
    classes: list[TypologyClass]


class TypologyAnswer(Dated):
    within: str | None
    schemes: list[str] | None = Field(description="Les dispositifs comptés (tous quand absent)")
    grids: list[TypologyGrid]


class Error(BaseModel):
    """Every error answer of the JSON API, the tiles, the exports and the OGC API: one sentence naming the fix."""

    detail: str = Field(description="Le problème et la correction (en français pour l'API, les cartes et les tuiles)")


class Feature(BaseModel):
    type: Literal["Feature"]
    id: str | int | None = None
    geometry: dict | None
    properties: dict | None


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Feature]


class Layer(FeatureCollection):
    """A scale as GeoJSON, simplified at ``simplify_m`` metres."""

    simplify_m: int


class Link(BaseModel):
    href: str
    rel: str
    type: str
    title: str | None = None


class OgcLanding(BaseModel):
    title: str
    description: str
    links: list[Link]


class OgcConformance(BaseModel):
    conformsTo: list[str]
    links: list[Link] = []


class OgcCollection(BaseModel):
    id: str
    title: str
    description: str
    itemType: str
    crs: list[str]
    storageCrs: str
    links: list[Link]
    extent: dict | None = None


class OgcCollections(BaseModel):
    links: list[Link]
    collections: list[OgcCollection]


class OgcItems(FeatureCollection):
    numberMatched: int
    numberReturned: int
    links: list[Link]


class OgcItem(Feature):
    links: list[Link]


def inline_schema(model: type[BaseModel]) -> dict:
    """The model's JSON schema with its nested models written in place (no $ref), for a response content that
    FastAPI does not derive from a response_model (several media types, or not JSON)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: object) -> object:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: resolve(v) for k, v in node.items()}
        return [resolve(v) for v in node] if isinstance(node, list) else node
    return resolve(schema)


BINARY = {"type": "string", "format": "binary"}
HTML = {"text/html": {"schema": {"type": "string"}}}


def json_error(description: str) -> dict:
    """An error response documented as the JSON ``{"detail": "…"}`` it is."""
    return {"description": description, "content": {"application/json": {"schema": inline_schema(Error)}}}


def html_error(description: str) -> dict:
    """An error response of the map pages: a small HTML page."""
    return {"description": description, "content": HTML}


def busy() -> dict:
    """The 503 of expensive work when every slot of the worker is taken (service/heavy.py)."""
    return {**json_error("Service occupé : trop de cartes ou de fichiers en préparation ; réessayez après Retry-After secondes"),
            "headers": {"Retry-After": {"description": "Secondes à attendre", "schema": {"type": "integer"}}}}


NOT_MODIFIED = {304: {"description": "Inchangé depuis la version des données de l'ETag envoyé (If-None-Match)"}}


def examples(**values: object) -> dict:
    """OpenAPI examples of a parameter (name → value): shown in /docs and called by the schema tests."""
    return {name: {"value": value} for name, value in values.items()}
