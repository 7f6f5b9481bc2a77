"""What each page shows, built from the model: plain dictionaries and dataclasses the templates write out.

Nothing here is HTML (the components of service/timeline.py and service/typology_chart.py come as HTML already
escaped); the French words are written by the templates with the filters of service/templating.py (geo/wording.py).
Scheme ids never reach a page's text: they are only in links.

Every page but the home page is shown at a date (``at``: today by default): what is in force then is counted, what is
not is listed and marked ('terminé le 31 décembre 2020'); ``asked`` is the date when the request gave one, which the
page's links and maps keep (service/links.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pandas as pd
from markupsafe import Markup

from geo.chain import Chain, chain, edge
from geo.completeness import CLASSES, Completeness, completeness
from geo.kinds import KindGroup, by_group, kind_label
from geo.mapspec import period_text
from geo.model import Model
from geo.periods import french_date, in_force, status_text
from geo.programmes import programme_loaders
from geo.schemes import Member, Scheme
from geo.search import SCHEME, Hit, normalise
from geo.sources import catalogue as datasets
from geo.sources import codes_source, geometry_source, sources
from geo.summary import coverings
from geo.territory import Territory
from service import downloads as offers
from service.downloads import Download
from service.links import dated, territory_href
from service.maps.base import situation
from service.timeline import scheme_timeline, territory_timeline
from service.typology_chart import typology_chart

#: How many communes an overlap lists by name, and how many gaps the table lists, before the CSV takes over.
OVERLAP_NAMES = 12
GAPS_SHOWN = 400


def site(model: Model) -> dict:
    """What every page's header and footer show."""
    return {"version": model.version, "geometry": geometry_source().label, "codes": codes_source().label}


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


def downloads(t: Territory, asked: dt.date | None = None) -> list[Download]:
    """What a territory page offers to download: its fiche, its communes for a GIS, the coverage of its communes by every
    scheme, the map of its scales (these three at the date asked; the fiche is today's)."""
    within = {"within": t.param}
    return ([Download("Fiche territoire (PDF, A4)", f"{territory_href(t.level, t.code)}/fiche.pdf")]
            + keeping_date([Download("Couverture de ses communes par chaque dispositif, CSV (tableur)", f"/export/coverage.csv?{urlencode(within)}")]
                      + offers.layer("communes", "Ses communes", within) + offers.static_map("scales", within), asked))


def keeping_date(items: list[Download], asked: dt.date | None) -> list[Download]:
    """Downloads keeping the date a page was asked at."""
    return [Download(d.label, dated(d.href, asked)) for d in items]


def map_focus(model: Model, c: Chain) -> str:
    """The territory the page's map is focused on: the outermost doll of the chain below the région (so the map shows
    the chain), or the territory itself."""
    dolls = [d for d in c.dolls if d.level != "region"] or list(c.dolls)
    return model.territory(f"{dolls[0].level}:{dolls[0].code}").param


#: What changed is shown from this day (the first of the contrats de ville's generation in the data) to the date shown.
CHANGES_FROM = dt.date(2016, 1, 1)


def changes_href(t: Territory | None, at: dt.date, asked: dt.date | None) -> str:
    """The what-changed page of a territory since :data:`CHANGES_FROM`, to the date asked (today without one)."""
    query = {"du": CHANGES_FROM.isoformat(), **({"au": at.isoformat()} if asked and at > CHANGES_FROM else {}),
             **({"within": t.param} if t else {})}
    return "/changements?" + urlencode(query)


def territory(model: Model, t: Territory, at: dt.date, asked: dt.date | None = None) -> dict:
    """The territory page at a date: the poupées russes, the map, the schemes over it (those in force first, the others
    marked), what it holds, its timeline and typology, the downloads."""
    c = chain(model, t)
    title, held = members(model, t)
    covers = coverings(model, t, at)
    return {"t": t, "chain": c, "doll": c.territory, "coverings": covers, "in_force": sum(x.in_force for x in covers),
            "members_title": title, "members": held, "colours": [edge(model, d) for d in c.dolls],
            "href": territory_href(t.level, t.code),
            "downloads": downloads(t, asked), "focus": map_focus(model, c),
            "scheme": model.catalogue.schemes.get(t.code) if t.level == "grouping" else None,
            "timeline": Markup(territory_timeline(model, t, at)),
            "typology": Markup(typology_chart(model, t, at)) if len(t.communes) > 1 else None,
            "changes": changes_href(t, at, asked)}


def panel(model: Model, t: Territory, at: dt.date) -> dict:
    """The side panel of a map: the territory's chain and the schemes over it at a date, shorter than its page."""
    c = chain(model, t)
    return {"t": t, "chain": c, "doll": c.territory, "coverings": coverings(model, t, at)}


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
    in_force: bool  # at the date shown
    status: str  # at the date shown: 'en vigueur', 'terminé le …', 'à partir du …', 'non daté'
    source: dict | None  # the membership's own source (an imported row's: {title, url}); None: the scheme's

    def __getitem__(self, key: str) -> object:  # the templates' membership filter reads rows by key
        return getattr(self, key)


def member_rows(model: Model, s: Scheme, sort: str, descending: bool, at: dt.date) -> list[MemberRow]:
    """A scheme's members (its network's, for a club of all of them) with their status at ``at``, sorted by a column of
    :data:`MEMBER_SORTS`."""
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
                              None if pop is None or pd.isna(pop) else int(pop), m.code in population,
                              in_force(p.start, p.end, at), status_text(p.start, p.end, at),
                              {"title": m.source.title, "url": m.source.url} if own and m.source else None))
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


def member_templates(s: Scheme) -> list[Download]:
    """The member-list templates of a scheme whose members a planner may import (service/memberfiles.py): none for a
    programme (loaded from the national files) or a club counted with all its network's members."""
    if s.id in programme_loaders() or s.all_parent_members:
        return []
    return [Download("Modèle de liste de membres, classeur XLSX", f"/dispositifs/{s.id}/modele.xlsx"),
            Download("Modèle de liste de membres, CSV (tableur)", f"/dispositifs/{s.id}/modele.csv")]


def scheme(model: Model, s: Scheme, sort: str, descending: bool, at: dt.date, asked: dt.date | None = None) -> dict:
    """The scheme page at a date: facts (what it covers then), map, members marked in force or not, gaps, timeline,
    downloads, member-list templates, embed code."""
    rows = member_rows(model, s, sort, descending, at)
    summary = model.coverage.on(at).summary(s.id)
    return {"s": s, "card": scheme_card(model, s), "rows": rows, "summary": summary, "gaps": gap_notes(model, s, rows),
            "in_force": sum(r.in_force for r in rows if r.in_scope), "status": status_text(s.start, s.end, at),
            "timeline": Markup(scheme_timeline(model, s, at)), "templates": member_templates(s),
            "map": dated(f"/maps/schemes/{s.id}?embed=1", asked), "full_map": dated(f"/maps/schemes/{s.id}", asked),
            "downloads": keeping_date(offers.scheme(s), asked), "sorts": MEMBER_SORTS, "sort": sort if sort in MEMBER_SORTS else "nom",
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


def coverage(model: Model, ids: list[str], within: Territory | None, at: dt.date, asked: dt.date | None = None) -> dict:
    """The coverage builder's results at a date for the chosen schemes over a territory (the whole scope without one):
    only the memberships in force that day count."""
    matrix = model.coverage.on(at).matrix(ids, within)
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
    per_scheme = [(s, int(matrix[s.id].sum()), status_text(s.start, s.end, at)) for s in schemes]
    by_count = [(int(k), int(v)) for k, v in counts.value_counts().sort_index().items()]
    query = {"schemes": ",".join(ids), **({"within": within.param} if within else {}), **({"date": asked.isoformat()} if asked else {})}
    return {"matrix": matrix, "total": len(matrix), "per_scheme": per_scheme, "by_count": by_count, "gaps": gaps, "gap_count": len(gap_codes),
            "overlaps": overlaps, "query": urlencode(query), "downloads": keeping_date(offers.coverage(ids, within), asked),
            "map": "/maps/coverage?" + urlencode({**query, "embed": "1"}), "full_map": "/maps/coverage?" + urlencode(query),
            "typology": Markup(typology_chart(model, within, at, ids))}


# --- the date of a page -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dating:
    """The date a page shows, for the header's date form: the day, the date the request asked (None: today by default),
    where the form sends and the other parameters it keeps."""

    at: dt.date
    asked: dt.date | None
    action: str
    keep: tuple[tuple[str, str], ...] = ()

    @property
    def situation(self) -> str:
        """'Situation au 1er juin 2016 — périmètres 2026' (the maps' words)."""
        return situation(self.at)

    @property
    def today(self) -> str:
        """The same page today (without a date)."""
        return self.action + (f"?{urlencode(self.keep)}" if self.keep else "")

    @property
    def label(self) -> str:
        """'1er juin 2016' or 'aujourd'hui, 30 novembre 2026'."""
        return french_date(self.at) if self.asked else f"aujourd'hui, {french_date(self.at)}"


# --- sources -----------------------------------------------------------------------------------------------------


def source_groups() -> list[tuple[object, list[object]]]:
    """Every declared dataset under its group (boundaries/sources.yaml)."""
    groups = sources().groups
    out: dict[str, list] = {g: [] for g in groups}
    for d in datasets().values():
        out[d.group].append(d)
    return [(groups[g], items) for g, items in out.items() if items]


# --- published member lists ----------------------------------------------------------------------------------------

#: Member-list versions are dated as their publishers read the time.
PARIS = ZoneInfo("Europe/Paris")
CHANGE_WORDS = (("added", "ajouté", "ajoutés"), ("removed", "retiré", "retirés"), ("changed", "modifié", "modifiés"))


@dataclass(frozen=True)
class VersionRow:
    """A published version of the member lists as /sources lists it (geo/memberstore.py's record, public fields only)."""

    number: int
    when: str
    by: str
    origin: str  # the file it was published from, or the version it restores
    sha256: str | None
    changes: list[str]
    in_service: bool


def version_rows(model: Model, records: list[dict]) -> list[VersionRow]:
    """Each published version, newest first: when (French, Paris time), who, from which file, what changed per scheme."""
    out = []
    for r in records:
        when = dt.datetime.fromisoformat(r["published_at"]).astimezone(PARIS)
        changes = []
        for sid, c in (r.get("changes") or {}).items():
            name = model.catalogue.schemes[sid].name if sid in model.catalogue.schemes else "un dispositif retiré du catalogue"
            parts = [f"{len(c[k])} {one if len(c[k]) == 1 else many}" for k, one, many in CHANGE_WORDS if c.get(k)]
            changes.append(f"{name} : {', '.join(parts) or 'aucun changement'}")
        file = r.get("file") or {}
        origin = (f"retour à la version {r['restores']}" if r.get("restores") is not None
                  else f"fichier « {file['name']} »" if file.get("name") else "—")
        out.append(VersionRow(int(r["version"]), f"{french_date(when.date())} à {when:%H h %M}", str(r.get("by") or "—"), origin,
                              file.get("sha256"), changes, bool(r.get("in_service"))))
    return out
