"""The model every map, export and API answer reads from: territories + schemes + coverage + lookup."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.catalogue import Catalogue, load_catalogue
from geo.config import Settings
from geo.coverage import Coverage, coverage_table
from geo.lookup import Locator
from geo.scales import build_groupings
from geo.search import SearchIndex
from geo.simplify import SimplifiedScales
from geo.territories import Territories, load_territories

NOT_IN_COMMUNE = "not in any commune"


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
    def _communes(self) -> pd.DataFrame:
        return self.scales["commune"].drop(columns="geometry").set_index("code")

    def _named(self, level: str, code: str | None) -> dict | None:
        if code is None or pd.isna(code):
            return None
        table = self.scales[level].set_index("code")
        nom = table["nom"].get(code)
        return {"code": code, "nom": None if nom is None else str(nom)}

    def stack(self, commune: str) -> dict:
        """The whole stack over a commune: EPCI, département, région, groupings and every covering scheme."""
        rows = self.coverage.covering(commune)
        c = self._communes.loc[commune]
        groups = {g.id: g for g in self.catalogue.groupings}
        schemes = [
            {"id": r.scheme, "name": r.name, "kind": r.kind, "via": r.via, "role": None if pd.isna(r.role) else r.role,
             "start": _iso(r.start), "end": _iso(r.end)}
            for r in rows.itertuples()
        ]
        return {
            "commune": {"code": commune, "nom": c["nom"], "population": int(c["population"]), "area_km2": round(float(c["area_km2"]), 3)},
            "epci": self._named("epci", c["epci"]),
            "departement": self._named("departement", c["departement"]),
            "region": self._named("region", c["region"]),
            "groupings": [{"id": g, "name": groups[g].name} for g in sorted(set(rows["scheme"]) & set(groups))],
            "schemes": schemes,
        }

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> pd.Series:
        """Commune code for each point (None outside every commune)."""
        idx = self.locator.locate(lon, lat)
        codes = self.scales["commune"]["code"].to_numpy(dtype=object)
        return pd.Series(np.where(idx >= 0, codes[np.maximum(idx, 0)], None), dtype=object)

    def lookup(self, lon: float, lat: float) -> dict:
        """The stack at a point, or an explicit 'not in any commune' answer."""
        code = self.locate(np.array([lon]), np.array([lat]))[0]
        if code is None:
            return {"lon": lon, "lat": lat, "commune": None, "epci": None, "departement": None, "region": None,
                    "groupings": [], "schemes": [], "message": NOT_IN_COMMUNE}
        return {"lon": lon, "lat": lat, **self.stack(code)}


def catalogue_digest(catalogue: Catalogue) -> str:
    """A short digest of every scheme's content."""
    payload = [(s.id, s.name, s.start, s.end, [(m.code, m.role, m.start, m.end) for m in s.members])
               for s in sorted(catalogue.schemes.values(), key=lambda s: s.id)]
    return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()[:12]


def assemble(settings: Settings, territories: Territories, catalogue: Catalogue) -> Model:
    """Join loaded territories and schemes into a model."""
    scales = dict(territories.scales)
    scales["grouping"] = build_groupings(scales["epci"], catalogue.groupings)
    table = coverage_table(catalogue, territories.cog)
    coverage = Coverage(table, scales, catalogue, territories.cog)
    return Model(settings, territories, catalogue, scales, coverage, f"{territories.version}-{catalogue_digest(catalogue)}")


def load_model(settings: Settings, keep_going: bool = False, rebuild: bool = False, progress: bool = False) -> Model:
    """Load (or build) territories, then the scheme catalogue, then coverage."""
    territories = load_territories(settings, rebuild=rebuild, progress=progress)
    catalogue = load_catalogue(territories.cog, settings, keep_going=keep_going)
    return assemble(settings, territories, catalogue)
