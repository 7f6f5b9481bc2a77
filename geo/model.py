"""The model every map, export and API answer reads from: territories + schemes + coverage + lookup."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import quartiers
from geo.catalogue import Catalogue, load_catalogue
from geo.config import Settings
from geo.coverage import Coverage, coverage_table
from geo.lookup import Locator
from geo.memo import Memo
from geo.scales import build_groupings
from geo.schemes import Scheme
from geo.search import SearchIndex
from geo.simplify import SimplifiedScales
from geo.sources import codes_source
from geo.territories import Territories, load_territories
from geo.territory import Territory, TerritoryIndex, territory_index

NOT_IN_COMMUNE = "not in any commune"
#: Territories kept resolved per model (request texts: bounded, since clients choose them).
RESOLVED_MAX = 1024
#: Structures derived on demand per model (export layers, serialised layers, indexes): their keys are few and fixed.
DERIVED_MAX = 256


def _iso(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


@dataclass(frozen=True, eq=False)
class Model:
    """Everything loaded for one data version; immutable, so it can be swapped whole on refresh."""

    settings: Settings
    territories: Territories
    catalogue: Catalogue
    scales: dict[str, gpd.GeoDataFrame]
    coverage: Coverage
    version: str
    #: Territories resolved from text, by the text.
    resolved: Memo[Territory] = field(default_factory=lambda: Memo(RESOLVED_MAX), repr=False)
    #: What routes, exports and maps derive from this data version, by key (e.g. ("export-layer", "communes")).
    derived: Memo = field(default_factory=lambda: Memo(DERIVED_MAX), repr=False)

    @cached_property
    def _territories(self) -> TerritoryIndex:
        groupings = {g.id: (g.name, frozenset(g.codes)) for g in self.catalogue.groupings}
        return territory_index(self.scales, groupings, self.territories.cog, self.territories.scope, codes_source().label)

    def territory(self, text: str) -> Territory:
        """The territory ``text`` names ('level:code' or a bare code), resolved once per model;
        :class:`geo.territory.UnknownTerritory` (French, naming a merged commune's successor) otherwise."""
        return self.resolved.get(text.strip(), lambda: self._territories.resolve(text))

    def names(self, level: str) -> dict[str, str]:
        """Official names of a level's codes, in scope or not (groupings: the scheme's name)."""
        if level == "grouping":
            return {s.id: s.name for s in self.catalogue.schemes.values()}
        if level == "quartier":
            return dict(zip(self.scales["quartier"]["code"], self.scales["quartier"]["nom"]))
        table = {"commune": self.territories.cog.communes, "epci": self.territories.cog.epci,
                 "departement": self.territories.cog.departements, "region": self.territories.cog.regions}[level]
        return dict(zip(table["code"], table["nom"]))

    def scheme(self, scheme_id: str) -> Scheme:
        """A scheme by id; :class:`geo.catalogue.UnknownScheme` (French, listing the ids) otherwise."""
        return self.catalogue.get(scheme_id)

    def warm(self) -> Model:
        """Build now what the first requests would otherwise pay for: the lookup grid, the search index, the stack
        tables, the territory index, the quartiers' index (a worker calls it before it takes requests); returns the model."""
        _ = self.locator, self.search, self._stack_parts, self._territories
        if not self.scales["quartier"].empty:
            _ = self.scales["quartier"].sindex
        return self

    @cached_property
    def locator(self) -> Locator:
        return Locator(self.scales["commune"].geometry.values)

    @cached_property
    def search(self) -> SearchIndex:
        """Name and code search over every scale, built on first use."""
        return SearchIndex(self.scales)

    @cached_property
    def simplified(self) -> SimplifiedScales:
        """Scales simplified for display, computed once per (level, tolerance)."""
        return SimplifiedScales(self.scales)

    @cached_property
    def _stack_parts(self) -> tuple[dict[str, dict], dict[str, dict[str, str]], dict[str, list[dict]], dict[str, str]]:
        """Per-commune records, territory names, covering schemes per commune and grouping names, built once
        so that a stack is assembled from dictionaries (sub-millisecond) rather than DataFrame queries."""
        communes = self.scales["commune"].drop(columns="geometry")
        info = {r["code"]: r for r in communes.to_dict("records")}
        names = {level: dict(zip(self.scales[level]["code"], self.scales[level]["nom"].astype(str)))
                 for level in ("epci", "departement", "region")}
        meta = {s.id: (s.name, s.kind) for s in self.catalogue.schemes.values()}
        table = self.coverage.table[self.coverage.table["commune"].isin(info.keys())].copy()
        table["name"] = table["scheme"].map(lambda i: meta[i][0])
        table["kind"] = table["scheme"].map(lambda i: meta[i][1])
        table = table.sort_values(["commune", "kind", "scheme", "via"])
        rows: dict[str, list[dict]] = {}
        for r in table.itertuples(index=False):
            rows.setdefault(r.commune, []).append(
                {"id": r.scheme, "name": r.name, "kind": r.kind, "via": r.via, "role": None if pd.isna(r.role) else r.role,
                 "start": _iso(r.start), "end": _iso(r.end), "start_basis": r.start_basis, "end_basis": r.end_basis})
        groupings = {g.id: g.name for g in self.catalogue.groupings}
        return info, names, rows, groupings

    def stack(self, commune: str) -> dict:
        """The whole stack over a commune: EPCI, département, région, groupings and every covering scheme."""
        info, names, rows, groupings = self._stack_parts
        if commune not in info:
            self.territory(f"commune:{commune}")  # raises UnknownTerritory naming a merged commune's successor
        c = info[commune]
        schemes = rows.get(commune, [])

        def named(level: str) -> dict | None:
            code = c[level]
            return None if code is None or pd.isna(code) else {"code": code, "nom": names[level].get(code)}

        return {
            "commune": {"code": commune, "nom": c["nom"], "population": int(c["population"]), "area_km2": round(float(c["area_km2"]), 3)},
            "epci": named("epci"),
            "departement": named("departement"),
            "region": named("region"),
            "groupings": [{"id": g, "name": groupings[g]} for g in sorted({s["id"] for s in schemes} & groupings.keys())],
            "schemes": [dict(s) for s in schemes],
        }

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> pd.Series:
        """Commune code for each point (None outside every commune)."""
        idx = self.locator.locate(lon, lat)
        return pd.Series(np.where(idx >= 0, self._codes[np.maximum(idx, 0)], None), dtype=object)

    @cached_property
    def _codes(self) -> np.ndarray:
        return self.scales["commune"]["code"].to_numpy(dtype=object)

    def quartiers_at(self, lon: float, lat: float) -> list[dict]:
        """The quartiers (QPV of the 2015 generation) holding a point, each with its generation and period."""
        scale = self.scales["quartier"]
        found = quartiers.locate(scale, lon, lat)
        if not len(found):  # most points: no frame to slice
            return []
        return [{"code": r["code"], "nom": r["nom"], "commune": r["commune"], "generation": r["generation"],
                 "start": _iso(r["start"]), "end": _iso(r["end"])}
                for r in scale.iloc[found].drop(columns="geometry").to_dict("records")]

    def lookup(self, lon: float, lat: float) -> dict:
        """The stack at a point (with the quartiers holding it), or an explicit 'not in any commune' answer."""
        idx = self.locator.locate(np.array([lon]), np.array([lat]))[0]
        code = self._codes[idx] if idx >= 0 else None
        if code is None:
            return {"lon": lon, "lat": lat, "commune": None, "epci": None, "departement": None, "region": None,
                    "groupings": [], "schemes": [], "quartiers": [], "message": NOT_IN_COMMUNE}
        return {"lon": lon, "lat": lat, **self.stack(code), "quartiers": self.quartiers_at(lon, lat)}


def catalogue_digest(catalogue: Catalogue) -> str:
    """A short digest of every scheme's content."""
    payload = [(s.id, s.name, s.start, s.end, s.generation, s.succeeds, [(m.code, m.role, m.start, m.end) for m in s.members])
               for s in sorted(catalogue.schemes.values(), key=lambda s: s.id)]
    return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()[:12]


def assemble(settings: Settings, territories: Territories, catalogue: Catalogue) -> Model:
    """Join loaded territories and schemes into a model."""
    scales = dict(territories.scales)
    scales["grouping"] = build_groupings(scales["epci"], catalogue.groupings)
    table = coverage_table(catalogue, territories.cog)
    coverage = Coverage(table, scales, catalogue)
    return Model(settings, territories, catalogue, scales, coverage, f"{territories.version}-{catalogue_digest(catalogue)}")


def load_model(settings: Settings, keep_going: bool = False, rebuild: bool = False, progress: bool = False) -> Model:
    """Load (or build) territories, then the scheme catalogue, then coverage."""
    territories = load_territories(settings, rebuild=rebuild, progress=progress)
    catalogue = load_catalogue(territories.cog, settings, keep_going=keep_going)
    return assemble(settings, territories, catalogue)
