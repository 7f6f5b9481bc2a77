"""Response models of the JSON API (field names as in the core: nom, population, area_km2, start, end…)."""
from __future__ import annotations

from pydantic import BaseModel, Field


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


class Covering(BaseModel):
    id: str = Field(description="Identifiant du dispositif")
    name: str
    kind: str
    via: str = Field(description="Chemin de la couverture : direct, via un EPCI, un groupement ou un réseau")
    role: str | None
    start: str | None
    end: str | None


class Stack(BaseModel):
    """Tout ce qui couvre une commune : EPCI, département, région, groupements, dispositifs."""

    commune: Commune | None
    epci: Named | None
    departement: Named | None
    region: Named | None
    groupings: list[Grouping]
    schemes: list[Covering]


class Lookup(Stack):
    lon: float
    lat: float
    message: str | None = Field(None, description="Présent quand le point n'est dans aucune commune")


class Hit(BaseModel):
    level: str
    code: str
    nom: str
    bbox: list[float] = Field(description="minlon, minlat, maxlon, maxlat")
    population: int


class Coverage(BaseModel):
    communes: int
    population: int
    area_km2: float


class SchemeSummary(BaseModel):
    id: str
    name: str
    kind: str
    member_scale: str
    start: str | None
    end: str | None
    members: int
    coverage: Coverage


class Member(BaseModel):
    code: str
    nom: str | None
    role: str | None
    start: str | None
    end: str | None
    in_scope: bool = Field(description="Le membre est dans le périmètre servi")


class SchemeDetail(BaseModel):
    id: str
    name: str
    kind: str
    member_scale: str
    start: str | None
    end: str | None
    owner: str | None
    parent: str | None
    source: dict
    as_of: str | None
    notes: str | None
    members: list[Member]
    communes: list[str] = Field(description="Communes du périmètre couvertes (codes INSEE)")
    coverage: Coverage


class Part(BaseModel):
    communes: int
    population: int


class Both(BaseModel):
    communes: list[str]
    population: int


class Overlap(BaseModel):
    a: str
    b: str
    within: str | None
    both: Both
    only_a: Part
    only_b: Part


class CoverageCount(BaseModel):
    schemes: list[Grouping]
    within: str | None
    communes: dict[str, list[str]] = Field(description="Pour chaque commune couverte, les dispositifs choisis qui la couvrent")
    gaps: list[str] = Field(description="Communes couvertes par aucun des dispositifs choisis")
    counts: dict[str, int] = Field(description="Nombre de communes par nombre de dispositifs")
