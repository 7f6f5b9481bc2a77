"""Search territories by name or code, and schemes by name: accent-, case- and hyphen-insensitive, "St"/"Saint" alike.

The index holds one row per territory of every scale (commune, quartier, EPCI, département, région, grouping) and
one per scheme that is not already a territory (level ``scheme``), with its normalised name, bounding box (of the
communes it covers, for a scheme; none when it covers none) and population (covered, for a scheme); it is built once
per model.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

LEVELS = ("commune", "quartier", "epci", "departement", "region", "grouping")
#: The level of a scheme's row (its id is the hit's code).
SCHEME = "scheme"
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
_SEPARATORS = re.compile(r"[\s\-‐‑–—'’`´.,/()«»\"]+")


def normalise(text: str) -> str:
    """Lowercase, accents stripped, hyphens/apostrophes as spaces, 'st'/'ste' spelled 'saint'/'sainte'."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = _SEPARATORS.sub(" ", text).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


@dataclass(frozen=True)
class Hit:
    """One search result: a territory, or a scheme (level ``scheme``, its id as code, its kind)."""

    level: str
    code: str
    nom: str
    bbox: tuple[float, float, float, float] | None
    population: int
    kind: str | None = None

    def as_dict(self) -> dict:
        return {"level": self.level, "code": self.code, "nom": self.nom, "bbox": list(self.bbox) if self.bbox else None,
                "population": self.population, "kind": self.kind}


@dataclass(frozen=True)
class SchemeEntry:
    """What the index holds of a scheme: id, name, kind, the bounds of the communes it covers, their population."""

    id: str
    name: str
    kind: str
    bbox: tuple[float, float, float, float] | None
    population: int


class SearchIndex:
    """Names and codes of every territory, ranked: exact code, exact name, name prefix, word prefix; then population."""

    def __init__(self, scales: dict[str, gpd.GeoDataFrame], schemes: list[SchemeEntry] = ()):
        rows = []
        for level in LEVELS:
            if level not in scales:  # no quartier scale without a mirror
                continue
            gdf = scales[level]
            bounds = np.round(gdf.geometry.bounds.to_numpy(), 5)
            population = gdf["population"].fillna(0).astype("int64").to_numpy()
            for code, nom, box, pop in zip(gdf["code"], gdf["nom"], bounds, population):
                rows.append((level, str(code), str(nom), normalise(str(nom)), tuple(float(v) for v in box), int(pop), None))
        for e in schemes:
            rows.append((SCHEME, e.id, e.name, normalise(e.name), e.bbox, e.population, e.kind))
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def search(self, query: str, level: str | None = None, limit: int = 10) -> list[Hit]:
        """Territories whose code starts with ``query`` or whose name contains it at a word start, and schemes whose
        name does (``level``: only that level, ``scheme`` for schemes)."""
        code_q = query.strip().upper()
        name_q = normalise(query)
        if not code_q and not name_q:
            return []
        ranked = []
        for lvl, code, nom, norm, box, pop, kind in self._rows:
            if level is not None and lvl != level:
                continue
            if code == code_q:
                rank = 0
            elif name_q and norm == name_q:
                rank = 1
            elif name_q and norm.startswith(name_q):
                rank = 2
            elif name_q and f" {name_q}" in f" {norm}":
                rank = 3
            elif code_q and code.startswith(code_q) and lvl != SCHEME:
                rank = 4
            else:
                continue
            ranked.append((rank, -pop, nom, lvl, code, box, kind))
        ranked.sort(key=lambda r: r[:5])
        return [Hit(lvl, code, nom, box, -neg_pop, kind) for _, neg_pop, nom, lvl, code, box, kind in ranked[:limit]]
