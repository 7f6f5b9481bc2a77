"""Search territories by name or code: accent-, case- and hyphen-insensitive, "St"/"Saint" alike.

The index holds one row per territory of every scale (commune, EPCI, département, région, grouping)
with its normalised name, bounding box and population; it is built once per model.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

LEVELS = ("commune", "epci", "departement", "region", "grouping")
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
    """One search result."""

    level: str
    code: str
    nom: str
    bbox: tuple[float, float, float, float]
    population: int

    def as_dict(self) -> dict:
        return {"level": self.level, "code": self.code, "nom": self.nom, "bbox": list(self.bbox), "population": self.population}


class SearchIndex:
    """Names and codes of every territory, ranked: exact code, exact name, name prefix, word prefix; then population."""

    def __init__(self, scales: dict[str, gpd.GeoDataFrame]):
        rows = []
        for level in LEVELS:
            gdf = scales[level]
            bounds = np.round(gdf.geometry.bounds.to_numpy(), 5)
            population = gdf["population"].fillna(0).astype("int64").to_numpy()
            for code, nom, box, pop in zip(gdf["code"], gdf["nom"], bounds, population):
                rows.append((level, str(code), str(nom), normalise(str(nom)), tuple(float(v) for v in box), int(pop)))
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def search(self, query: str, level: str | None = None, limit: int = 10) -> list[Hit]:
        """Territories whose code starts with ``query`` or whose name contains it at a word start."""
        code_q = query.strip().upper()
        name_q = normalise(query)
        if not code_q and not name_q:
            return []
        ranked = []
        for lvl, code, nom, norm, box, pop in self._rows:
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
            elif code_q and code.startswith(code_q):
                rank = 4
            else:
                continue
            ranked.append((rank, -pop, nom, lvl, code, box))
        ranked.sort()
        return [Hit(lvl, code, nom, box, -neg_pop) for _, neg_pop, nom, lvl, code, box in ranked[:limit]]
