"""The model every map, export and API answer reads from: territories + schemes + coverage + lookup."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import quartiers
from geo.catalogue import Catalogue, load_catalogue
from geo.config import Settings
from geo.coverage import Coverage, coverage_table
from geo.dolls import Dolls
from geo.errors import SourceError
from geo.heap import release
from geo.labels import label_points
from geo.lookup import Locator
from geo.memo import Memo
from geo.periods import Basis, in_force, status_text
from geo.scales import build_groupings
from geo.schemes import Scheme
from geo.search import SchemeEntry, SearchIndex
from geo.simplify import SimplifiedScales
from geo.sources import catalogue, codes_source, perimeters
from geo.territories import Territories, load_territories
from geo.territory import Territory, TerritoryIndex, territory_index
from geo.typology import GRIDS, breakdown, read_grids

NOT_IN_COMMUNE = "not in any commune"
#: Territories kept resolved per model (request texts: bounded, since clients choose them).
RESOLVED_MAX = 1024
#: Structures derived on demand per model (export layers, serialised layers, indexes): their keys are few and fixed.
DERIVED_MAX = 256
#: Batch-location tables kept per model, by date (clients choose the dates: bounded, a table per date is one row per commune).
LOCATED_MAX = 8
#: Structures derived at a date (export layers at a date): dates are chosen by requests, so few are kept.
DATED_MAX = 16


def _iso(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _source(title: object, url: object) -> dict | None:
    """A membership's own source as the API gives it ({title, url}), None when the scheme's source applies."""
    title, url = (None if v is None or pd.isna(v) else str(v) for v in (title, url))
    return {"title": title, "url": url} if title or url else None


def _day(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def dated(rows: list[dict], at: dt.date) -> list[dict]:
    """Rows with a period (ISO ``start``/``end``) marked at a date: ``in_force`` and ``status`` ('en vigueur',
    'terminé le 31 décembre 2020', 'à partir du 1er janvier 2024', 'non daté'); those in force first."""
    out = []
    for row in rows:
        start, end = _day(row["start"]), _day(row["end"])
        out.append({**row, "in_force": in_force(start, end, at), "status": status_text(start, end, at)})
    return sorted(out, key=lambda r: not r["in_force"])


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
    #: What batch location adds for each commune, by date (geo/locate.py).
    located: Memo = field(default_factory=lambda: Memo(LOCATED_MAX), repr=False)
    #: What is derived at a date (e.g. ("export-layer", "coverage", date)), the last few dates asked.
    dated: Memo = field(default_factory=lambda: Memo(DATED_MAX), repr=False)

    @cached_property
    def _territories(self) -> TerritoryIndex:
        groupings = {g.id: (g.name, frozenset(g.codes)) for g in self.catalogue.groupings}
        return territory_index(self.scales, groupings, self.territories.cog, self.territories.scope, codes_source().label)

    def territory(self, text: str) -> Territory:
        """The territory ``text`` names ('level:code' or a bare code), resolved once per model;
        :class:`geo.territory.UnknownTerritory` (French, naming a merged commune's successor) otherwise."""
        return self.resolved.get(text.strip(), lambda: self._territories.resolve(text))

    @cached_property
    def typology(self) -> pd.DataFrame:
        """Each commune's class in every typology grid (density, centrality, rurality, montagne), indexed by code; read
        from the declared datasets on first use (:class:`geo.errors.SourceError` when they cannot be)."""
        return read_grids(self.settings, pd.Index(self.scales["commune"]["code"]))

    def by_typology(self, at: dt.date, within: Territory | None = None, ids: list[str] | None = None,
                    clubs_apart: bool = False) -> list[dict]:
        """Coverage at a date broken down by the classes of each typology grid: per class, the communes (and population)
        of the territory, those covered by at least one of the schemes ``ids`` (all when None) and the share; with
        ``ids``, the communes each scheme covers in each class."""
        coverage = self.coverage.on(at)
        counts = coverage.counts(ids, within, clubs_apart)
        population = self.scales["commune"].set_index("code")["population"].reindex(counts.index)
        classes = self.typology.reindex(counts.index)
        matrix = coverage.matrix(ids, within) if ids else None
        out = []
        for grid in GRIDS:
            rows = breakdown(classes[grid.id], population, counts, grid)
            if matrix is not None:
                per = matrix.groupby(classes[grid.id].to_numpy()).sum()
                for row in rows:
                    row["schemes"] = {i: int(per.loc[row["class"], i]) for i in ids}
            dataset = catalogue()[grid.dataset]
            out.append({"id": grid.id, "title": grid.title, "source": {"title": dataset.title, "vintage": dataset.vintage,
                                                                       "url": dataset.provenance}, "classes": rows})
        return out

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
        _ = self.locator, self.search, self._stack_parts, self._territories, self._quartier_tree
        try:
            _ = self._classes  # reads the typology grids: 0.6 s, on the first lookup's path otherwise
        except SourceError:
            pass
        release()  # what reading and building freed goes back to the system (about 40 MiB for France)
        return self

    @cached_property
    def locator(self) -> Locator:
        return Locator(self.scales["commune"].geometry.values)

    @cached_property
    def search(self) -> SearchIndex:
        """Name and code search over every scale and the schemes that are not territories themselves (an EPCI's own
        scheme, a grouping), built on first use."""
        communes = self.scales["commune"]
        bounds = pd.DataFrame(communes.geometry.bounds.to_numpy(), index=communes["code"], columns=["x0", "y0", "x1", "y1"])
        bounds["population"] = communes["population"].fillna(0).to_numpy()
        covered = self.coverage.table[["scheme", "commune"]].drop_duplicates().join(bounds, on="commune", how="inner")
        per = covered.groupby("scheme").agg(x0=("x0", "min"), y0=("y0", "min"), x1=("x1", "max"), y1=("y1", "max"),
                                            population=("population", "sum"))
        entries = []
        for s in self.catalogue.schemes.values():
            if s.scale or s.kind == "epci":
                continue
            row = per.loc[s.id] if s.id in per.index else None
            box = None if row is None else tuple(round(float(row[k]), 5) for k in ("x0", "y0", "x1", "y1"))
            entries.append(SchemeEntry(s.id, s.name, s.kind, box, 0 if row is None else int(row["population"])))
        return SearchIndex(self.scales, entries)

    @cached_property
    def simplified(self) -> SimplifiedScales:
        """Scales simplified for display, computed once per (level, tolerance)."""
        return SimplifiedScales(self.scales)

    @cached_property
    def dolls(self) -> Dolls:
        """The doll lines of the scales and what each commune belongs to (maps draw coinciding boundaries side by side)."""
        return Dolls.of(self.scales)

    @cached_property
    def labels(self) -> gpd.GeoDataFrame:
        """Every place name of the maps with its zooms and priority."""
        return label_points(self.scales)

    @cached_property
    def _level_names(self) -> dict[str, dict[str, str]]:
        """Names of the territories in scope, by level and code."""
        return {level: dict(zip(self.scales[level]["code"], self.scales[level]["nom"].astype(str)))
                for level in ("commune", "quartier", "epci", "departement", "region")}

    @cached_property
    def _stack_parts(self) -> tuple[dict[str, dict], dict[str, dict[str, str]], dict[str, list[dict]], dict[str, str]]:
        """Per-commune records, territory names, covering schemes per commune and grouping names, built once
        so that a stack is assembled from dictionaries (sub-millisecond) rather than DataFrame queries."""
        communes = self.scales["commune"].drop(columns="geometry")
        info = {r["code"]: r for r in communes.to_dict("records")}
        names = self._level_names
        meta = {s.id: (s.name, s.kind) for s in self.catalogue.schemes.values()}
        table = self.coverage.table[self.coverage.table["commune"].isin(info.keys())].copy()
        table["name"] = table["scheme"].map(lambda i: meta[i][0])
        table["kind"] = table["scheme"].map(lambda i: meta[i][1])
        table = table.sort_values(["commune", "kind", "scheme", "via_level", "via_code"])
        sources = self._date_sources
        # one record per distinct row but for the commune (every commune of a member shares it; never mutated: stacks copy)
        group = table.groupby([c for c in table.columns if c != "commune"], dropna=False, sort=False).ngroup().to_numpy()
        _, first = np.unique(group, return_index=True)
        records = [{"id": r.scheme, "name": r.name, "kind": r.kind, "path": self.path(r.via_level, r.via_code, r.via_grouping, r.via_network),
                    "role": None if pd.isna(r.role) else r.role,
                    "start": _iso(r.start), "end": _iso(r.end), "start_basis": r.start_basis, "end_basis": r.end_basis,
                    "source": _source(r.source_title, r.source_url),
                    "date_source": " ".join(sources[r.scheme][b] for b in dict.fromkeys((r.start_basis, r.end_basis))
                                            if sources[r.scheme].get(b)) or None}
                   for r in table.iloc[first].itertuples(index=False)]
        rows: dict[str, list[dict]] = {}
        for commune, g in zip(table["commune"].to_numpy(), group):
            rows.setdefault(commune, []).append(records[g])
        groupings = {g.id: g.name for g in self.catalogue.groupings}
        return info, names, rows, groupings

    @cached_property
    def _date_sources(self) -> dict[str, dict[str, str]]:
        """Per scheme, where the dates of a membership come from, by basis: its period's source (``dispositif``) and the
        column of the source file giving members their own dates (``membre``)."""
        out = {}
        for s in self.catalogue.schemes.values():
            own = next((m.period_source for m in s.members if m.period_source), None)
            out[s.id] = {str(Basis.SCHEME): f"Période du dispositif : {s.period_source}" if s.period_source else "",
                         str(Basis.MEMBER): f"Date propre au membre : {own}." if own else ""}
        return out

    def path(self, level: str, code: str, grouping: str | None = None, network: str | None = None) -> dict:
        """A coverage path (geo/coverage.py PATH_COLUMNS), structured and named: the member it goes through (level,
        code, name), and the grouping and network that member stands for, if any (``None`` otherwise)."""
        def scheme(scheme_id: str | None) -> dict | None:
            if scheme_id is None or pd.isna(scheme_id):
                return None
            scheme = self.catalogue.schemes[scheme_id]
            return {"id": scheme_id, "name": scheme.name, "kind": scheme.kind}

        return {"level": level, "code": code, "nom": self._level_names[level].get(code),
                "grouping": scheme(grouping), "network": scheme(network)}

    def stack(self, commune: str, at: dt.date | None = None) -> dict:
        """The whole stack over a commune: EPCI, département, région, groupings and every covering scheme; at a date,
        each scheme marked in force or not (those in force first) and only the groupings in force."""
        info, names, rows, groupings = self._stack_parts
        if commune not in info:
            self.territory(f"commune:{commune}")  # raises UnknownTerritory naming a merged commune's successor
        c = info[commune]
        schemes = rows.get(commune, []) if at is None else dated(rows.get(commune, []), at)
        current = {s["id"] for s in schemes if s.get("in_force", True)}

        def named(level: str) -> dict | None:
            code = c[level]
            return None if code is None or pd.isna(code) else {"code": code, "nom": names[level].get(code)}

        return {
            "commune": {"code": commune, "nom": c["nom"], "population": int(c["population"]), "area_km2": round(float(c["area_km2"]), 3)},
            "epci": named("epci"),
            "departement": named("departement"),
            "region": named("region"),
            "groupings": [{"id": g, "name": groupings[g]} for g in sorted(current & groupings.keys())],
            "schemes": [dict(s) for s in schemes],
            "typology": self.classes_of(commune),
            **self.dating(at),
        }

    def classes_of(self, commune: str) -> dict[str, str] | None:
        """A commune's class in each typology grid, or None when the grids cannot be read (no mirror: said in README)."""
        try:
            return dict(self._classes[commune])
        except SourceError:
            return None

    @cached_property
    def _classes(self) -> dict[str, dict[str, str]]:
        """Each commune's classes as a dictionary, by code: what a lookup reads (a row through pandas took half of it)."""
        return self.typology.to_dict("index")

    @cached_property
    def _quartier_tree(self) -> shapely.STRtree:
        """The quartiers' index, held as the tree itself (geopandas' ``sindex`` costs more to reach than to query)."""
        return shapely.STRtree(self.scales["quartier"].geometry.to_numpy())

    def dating(self, at: dt.date | None) -> dict:
        """What a dated answer says of its date: the date, and that the boundaries are the 2026 ones at every date."""
        return {} if at is None else {"date": at.isoformat(), "perimeters": perimeters()}

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> pd.Series:
        """Commune code for each point (None outside every commune)."""
        idx = self.locator.locate(lon, lat)
        return pd.Series(np.where(idx >= 0, self._codes[np.maximum(idx, 0)], None), dtype=object)

    @cached_property
    def _codes(self) -> np.ndarray:
        return self.scales["commune"]["code"].to_numpy(dtype=object)

    def quartiers_at(self, lon: float, lat: float, at: dt.date | None = None) -> list[dict]:
        """The quartiers (QPV of the 2015 generation) holding a point, each with its generation and period (and, at a
        date, whether it is in force then)."""
        scale = self.scales["quartier"]
        found = quartiers.locate(self._quartier_tree, lon, lat)
        if not len(found):  # most points: no frame to slice
            return []
        rows = [{"code": r["code"], "nom": r["nom"], "commune": r["commune"], "generation": r["generation"],
                 "start": _iso(r["start"]), "end": _iso(r["end"])}
                for r in scale.iloc[found].drop(columns="geometry").to_dict("records")]
        return rows if at is None else dated(rows, at)

    def lookup(self, lon: float, lat: float, at: dt.date | None = None) -> dict:
        """The stack at a point (with the quartiers holding it), or an explicit 'not in any commune' answer."""
        idx = self.locator.locate(np.array([lon]), np.array([lat]))[0]
        code = self._codes[idx] if idx >= 0 else None
        if code is None:
            return {"lon": lon, "lat": lat, "commune": None, "epci": None, "departement": None, "region": None,
                    "groupings": [], "schemes": [], "quartiers": [], "message": NOT_IN_COMMUNE, **self.dating(at)}
        return {"lon": lon, "lat": lat, **self.stack(code, at), "quartiers": self.quartiers_at(lon, lat, at)}


def catalogue_digest(catalogue: Catalogue) -> str:
    """A short digest of every scheme's content, as far as any answer shows it: members and periods, and the sources,
    dates and notes the pages print (a corrected note is a new data version, so no page is served stale)."""
    payload = [(s.id, s.name, s.kind, s.member_scale, s.start, s.end, s.generation, s.succeeds, s.source, s.as_of, s.notes,
                s.period_source, s.partial, [(m.code, m.name, m.role, m.start, m.end, m.note, m.source.title if m.source else None,
                 m.source.url if m.source else None) for m in s.members])
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
