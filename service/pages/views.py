"""What each page shows, built from the model: plain dictionaries and dataclasses the templates write out.

Nothing here is HTML; the French words are written by the templates with the filters of service/pages/templating.py
(geo/wording.py). Scheme ids never reach a page's text: they are only in links.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd

from geo.chain import Chain, chain, edge
from geo.completeness import CLASSES, Completeness, completeness
from geo.kinds import KindGroup, by_group, kind_label
from geo.mapspec import period_text
from geo.model import Model
from geo.schemes import Member, Scheme
from geo.search import SCHEME, Hit, normalise
from geo.sources import catalogue as datasets
from geo.sources import codes_source, geometry_source, sources
from geo.summary import coverings
from geo.territory import Territory
from service import downloads as offers
from service.downloads import Download

#: How many communes an overlap lists by name, and how many gaps the table lists, before the CSV takes over.
OVERLAP_NAMES = 12
GAPS_SHOWN = 400


# --- home ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeCard:
    """A scheme as the catalogue lists it."""

    scheme: Scheme
    members: int
    in_scope: int  # members in the scope served
    member_scale: str
    communes: int
    population: int
    badge: Completeness

    @property
    def period(self) -> str:
        return period_text(self.scheme.start, self.scheme.end)


def scheme_card(model: Model, s: Scheme) -> SchemeCard:
    scale, members = model.catalogue.members(s)
    summary = model.coverage.summary(s.id)
    served = set(model.scales[scale]["code"]) if scale in model.scales else set()
    return SchemeCard(s, len(members), sum(c in served for c, *_ in members), scale, summary["communes"], summary["population"],
                      completeness(model.catalogue, s))


def catalogue_groups(model: Model) -> list[tuple[KindGroup, list[SchemeCard]]]:
    """Every scheme under its kind group (geo/kinds.py), in the groups' order, by name within a group."""
    schemes = list(model.catalogue.schemes.values())
    out = []
    for group, kinds in by_group([s.kind for s in schemes]).items():
        ids = {k.id for k in kinds}
        cards = [scheme_card(model, s) for s in sorted(schemes, key=lambda s: s.name.lower()) if s.kind in ids]
        out.append((group, cards))
    return out


def home(model: Model) -> dict:
    """The home page: scope, figures, vintages and the catalogue."""
    scales = model.scales
    regions = list(scales["region"]["nom"].astype(str))
    return {
        "regions": regions, "departements": len(scales["departement"]), "communes": len(scales["commune"]),
        "epci": len(scales["epci"]), "quartiers": len(scales["quartier"]), "schemes": len(model.catalogue.schemes),
        "groupings": [(g.id, g.name) for g in sorted(model.catalogue.groupings, key=lambda g: g.name)],
        "geometry": geometry_source().label, "codes": codes_source().label,
        "catalogue": catalogue_groups(model), "classes": CLASSES,
    }


# --- search ------------------------------------------------------------------------------------------------------


def territory_href(level: str, code: str) -> str:
    """The page of a territory: its code (a région's written 'region:…', which a département's code could shadow)."""
    return f"/territoires/{'region:' if level == 'region' else ''}{code}"


def hit_link(hit: Hit) -> str:
    """Where a search result leads: a scheme's page (a grouping's too: its page shows its members), or a territory's."""
    if hit.level in (SCHEME, "grouping"):
        return f"/dispositifs/{hit.code}"
    return territory_href(hit.level, hit.code)


# --- territory ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A territory listed in a table: level, code, name, population, area, and its page."""

    level: str
    code: str
    nom: str
    population: int | None
    area_km2: float | None
    extra: str = ""

    @property
    def href(self) -> str:
        return territory_href(self.level, self.code)


def _rows(model: Model, level: str, codes: list[str] | set[str] | frozenset[str], extra: dict[str, str] | None = None) -> list[Row]:
    table = model.scales[level]
    part = table[table["code"].isin(list(codes))]
    part = part.iloc[sorted(range(len(part)), key=lambda i: normalise(str(part["nom"].iloc[i])))]
    return [Row(level, c, str(n), None if pd.isna(p) else int(p), None if pd.isna(a) else float(a), (extra or {}).get(c, ""))
            for c, n, p, a in zip(part["code"], part["nom"], part["population"], part["area_km2"])]


def members(model: Model, t: Territory) -> tuple[str, list[Row]]:
    """What a territory holds, as a table: an EPCI's communes, a grouping's EPCI, a département's EPCI, a région's
    départements, a commune's quartiers; with the title of that table."""
    if t.level == "epci":
        return "Communes membres", _rows(model, "commune", t.codes("commune"))
    if t.level == "grouping":
        scheme = model.catalogue.schemes[t.code]
        roles = {m.code: m.role or "" for m in scheme.members}
        return "EPCI membres", _rows(model, "epci", [m.code for m in scheme.members], roles)
    if t.level == "departement":
        epci = model.scales["epci"]
        inside = epci[epci["departements"].astype(str).str.split(";").map(lambda ds: t.code in ds)]["code"]
        return "EPCI du département", _rows(model, "epci", set(inside))
    if t.level == "region":
        return "Départements", _rows(model, "departement", t.codes("departement"))
    if t.level == "commune":
        return "Quartiers prioritaires (périmètres 2015) dans la commune", _rows(model, "quartier", t.codes("quartier"))
    return "Communes du quartier", _rows(model, "commune", t.communes)


def downloads(t: Territory) -> list[Download]:
    """What a territory page offers to download: its fiche, its communes for a GIS, the coverage of its communes by every
    scheme, the map of its scales."""
    within = {"within": t.param}
    return ([Download("Fiche territoire (PDF, A4)", f"{territory_href(t.level, t.code)}/fiche.pdf"),
             Download("Couverture de ses communes par chaque dispositif, CSV (tableur)", f"/export/coverage.csv?{urlencode(within)}")]
            + offers.layer("communes", "Ses communes", within) + offers.static_map("scales", within))


def map_focus(model: Model, c: Chain) -> str:
    """The territory the page's map is focused on: the outermost doll of the chain below the région (so the map shows
    the chain), or the territory itself."""
    dolls = [d for d in c.dolls if d.level != "region"] or list(c.dolls)
    return model.territory(f"{dolls[0].level}:{dolls[0].code}").param


def territory(model: Model, t: Territory) -> dict:
    """The territory page: the poupées russes, the map, the schemes over it, what it holds, the downloads."""
    c = chain(model, t)
    title, held = members(model, t)
    return {"t": t, "chain": c, "doll": c.territory, "coverings": coverings(model, t), "members_title": title, "members": held,
            "colours": [edge(model, d) for d in c.dolls],
            "href": territory_href(t.level, t.code),
            "downloads": downloads(t), "focus": map_focus(model, c),
            "scheme": model.catalogue.schemes.get(t.code) if t.level == "grouping" else None}


def panel(model: Model, t: Territory) -> dict:
    """The side panel of a map: the territory's chain and the schemes over it, shorter than its page."""
    c = chain(model, t)
    return {"t": t, "chain": c, "doll": c.territory, "coverings": coverings(model, t)}


# --- scheme ------------------------------------------------------------------------------------------------------

#: The member table's columns: query value, header; sortable by each.
MEMBER_SORTS = {"nom": "Nom", "code": "Code", "echelle": "Échelle", "role": "Rôle", "debut": "Période", "population": "Population"}


@dataclass(frozen=True)
class MemberRow:
    """A member of a scheme as its page lists it."""

    code: str
    nom: str
    level: str
    role: str | None
    start: dt.date | None
    end: dt.date | None
    start_basis: str
    end_basis: str
    note: str | None
    population: int | None
    in_scope: bool

    def __getitem__(self, key: str) -> object:  # the templates' membership filter reads rows by key
        return getattr(self, key)


def member_rows(model: Model, s: Scheme, sort: str, descending: bool) -> list[MemberRow]:
    """A scheme's members (its network's, for a club of all of them), sorted by a column of :data:`MEMBER_SORTS`."""
    source = model.catalogue.member_source(s)
    own = source is s
    scale = source.member_scale
    names = model.names(scale)
    table = model.scales[scale]
    population = dict(zip(table["code"], table["population"]))
    rows = []
    for m in source.members:
        p = s.period_of(m if own else Member(code=m.code))
        pop = population.get(m.code)
        rows.append(MemberRow(m.code, names.get(m.code) or m.name or m.code, scale, m.role if own else None, p.start, p.end,
                              str(p.start_basis), str(p.end_basis), m.note if own else None,
                              None if pop is None or pd.isna(pop) else int(pop), m.code in population))
    keys = {"nom": lambda r: r.nom.lower(), "code": lambda r: r.code, "echelle": lambda r: r.level, "role": lambda r: (r.role or "").lower(),
            "debut": lambda r: (r.start or dt.date.min, r.end or dt.date.max), "population": lambda r: r.population or 0}
    return sorted(rows, key=keys.get(sort, keys["nom"]), reverse=descending)


def gap_notes(model: Model, s: Scheme, rows: list[MemberRow]) -> list[str]:
    """What the member list lacks, in French, derived from the catalogue (the scheme's own notes come after)."""
    notes = []
    badge = completeness(model.catalogue, s)
    source = model.catalogue.member_source(s)
    if badge.id == "non-publics":
        notes.append("Aucun membre n'est connu : la liste n'est pas publique dans les sources trouvées. Une liste de membres "
                     "peut être importée (fichier CSV) ; elle s'affichera ici avec sa source.")
    elif source is not s:
        notes.append(f"La liste propre de ce club n'est pas publique : il est compté avec tous les membres du {kind_label(source.kind)} "
                     f"{source.name}, ce qui peut différer de ses vrais participants.")
    elif s.partial:
        notes.append("Liste partielle : seuls les membres cités par la source sont déclarés ; les autres restent à importer.")
    outside = sum(not r.in_scope for r in rows)
    if outside:
        plural = "s" if outside > 1 else ""
        notes.append(f"{outside} membre{plural} hors du périmètre servi ({model.territories.scope.capitalize()}) : listé{plural} "
                     "ci-dessous, sans carte ni chiffres.")
    undated = sum(r.start_basis == "non daté" for r in rows)
    if rows and undated == len(rows):
        notes.append("Aucune date de début n'est donnée par les sources : les adhésions sont « non datées » et comptées sur toute "
                     "la période du dispositif.")
    return notes


def scheme(model: Model, s: Scheme, sort: str, descending: bool) -> dict:
    """The scheme page: facts, map, members, gaps, downloads, embed code."""
    rows = member_rows(model, s, sort, descending)
    summary = model.coverage.summary(s.id)
    return {"s": s, "card": scheme_card(model, s), "rows": rows, "summary": summary, "gaps": gap_notes(model, s, rows),
            "downloads": offers.scheme(s), "sorts": MEMBER_SORTS, "sort": sort if sort in MEMBER_SORTS else "nom",
            "descending": descending, "network": model.catalogue.member_source(s) if s.all_parent_members else None,
            "succeeds": [model.catalogue.schemes[i] for i in s.succeeds if i in model.catalogue.schemes],
            "succeeded_by": [x for x in model.catalogue.schemes.values() if s.id in x.succeeds]}


# --- coverage builder ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    """Communes covered by exactly a combination of the chosen schemes (two or more)."""

    schemes: list[Scheme]
    communes: list[Row]


def combinations(matrix: pd.DataFrame) -> list[tuple[tuple[str, ...], list[str]]]:
    """Each combination of two or more of the matrix's schemes covering some communes exactly, with those communes, the
    most communes first."""
    if matrix.empty:
        return []
    keys = matrix.astype(bool).apply(lambda r: tuple(c for c, on in r.items() if on), axis=1)
    groups = keys[keys.map(len) >= 2].groupby(keys).groups
    out = [(combo, sorted(map(str, codes))) for combo, codes in groups.items()]
    return sorted(out, key=lambda kv: (-len(kv[1]), kv[0]))


def coverage(model: Model, ids: list[str], within: Territory | None) -> dict:
    """The coverage builder's results for the chosen schemes over a territory (the whole scope without one)."""
    matrix = model.coverage.matrix(ids, within)
    counts = matrix.sum(axis=1)
    schemes = [model.catalogue.schemes[i] for i in ids]
    com = model.scales["commune"].set_index("code")
    epci = model.names("epci")
    gap_codes = sorted(matrix.index[counts == 0], key=lambda c: normalise(str(com.at[c, "nom"])))
    gaps = [Row("commune", c, str(com.at[c, "nom"]), int(com.at[c, "population"]), float(com.at[c, "area_km2"]),
                epci.get(com.at[c, "epci"], "") if not pd.isna(com.at[c, "epci"]) else "")
            for c in gap_codes[:GAPS_SHOWN]]
    overlaps = []
    for combo, codes in combinations(matrix):
        overlaps.append(Overlap([model.catalogue.schemes[i] for i in combo], _rows(model, "commune", codes)))
    per_scheme = [(s, int(matrix[s.id].sum())) for s in schemes]
    by_count = [(int(k), int(v)) for k, v in counts.value_counts().sort_index().items()]
    query = {"schemes": ",".join(ids), **({"within": within.param} if within else {})}
    return {"matrix": matrix, "total": len(matrix), "per_scheme": per_scheme, "by_count": by_count, "gaps": gaps, "gap_count": len(gap_codes),
            "overlaps": overlaps, "query": urlencode(query), "downloads": offers.coverage(ids, within),
            "map": "/maps/coverage?" + urlencode({**query, "embed": "1"}), "full_map": "/maps/coverage?" + urlencode(query)}


# --- sources -----------------------------------------------------------------------------------------------------


def source_groups() -> list[tuple[object, list[object]]]:
    """Every declared dataset under its group (boundaries/sources.yaml)."""
    groups = sources().groups
    out: dict[str, list] = {g: [] for g in groups}
    for d in datasets().values():
        out[d.group].append(d)
    return [(groups[g], items) for g, items in out.items() if items]
