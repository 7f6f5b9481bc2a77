"""Loaders turning the ANCT / CGET programme files into schemes, one scheme per generation.

Each programme states its generation, its period and the source of that period (texts cited in
boundaries/schemes/SOURCES.md); a member carries its own date where the file gives one (a signature date),
with the column it comes from. Members are placed in the 2026 codes in one of four ways:

- codes: INSEE codes, EPCI SIRENs or commune SIRENs (a merged commune is re-keyed to the commune it merged into,
  and the member's note says so; in a commune-scale list, an EPCI member stands for its 2026 communes);
- names: a name matching exactly one 2026 EPCI name once normalised (geo/names.py), nothing guessed;
- zone: a dissolved polygon, a commune being in when at least half of its area is inside (geo/zonings.py);
- quartier codes of the 2015 generation (geo/quartiers.py).

What cannot be placed is dropped and named in a warning (``territoires check`` lists them).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.cog import Cog
from geo.config import Settings
from geo.frames import isin
from geo.names import match_epci, normalise
from geo.periods import parse_french_date
from geo.schemes import Member, Scheme
from geo.sources import Dataset, catalogue, fetch

KIND = "programme"
#: A commune is in a zoning drawn as one polygon when at least this share of its area is inside.
ZONE_MIN_SHARE = 0.5

# Sources of the periods (full references in boundaries/schemes/SOURCES.md).
ACV_2018 = ("Liste des 222 villes annoncée le 27 mars 2018 (agpb.com, « 222 villes éligibles au plan de revitalisation "
            "des centres-villes »). Fin le 31 décembre 2022 : le programme « devait s'achever » en 2022 (Banque des "
            "Territoires, 30 novembre 2021) et sa seconde phase couvre 2023-2026 (Weka, instruction du 24 mai 2023).")
ACV_2023 = ("Seconde phase « pour la période 2023-2026 » (Weka, « Une circulaire ministérielle précise les modalités "
            "d'Action cœur de ville 2023-2026 », instruction du 24 mai 2023).")
PVD = ("Programme « lancé le 1er octobre 2020 », « jusqu'à 2026 » (ANCT, page Petites villes de demain) ; « sur six ans "
       "(2020-2026) » (citoyensterritoires.fr).")
QPV_2015 = ("Périmètres fixés par le décret n° 2014-1750 du 30 décembre 2014, « à compter du 1er janvier 2015 » (data.gouv.fr, "
            "ancien périmètre QPV) ; remplacés le 1er janvier 2024 par le décret du 28 décembre 2023 (Union régionale HLM "
            "Hauts-de-France, janvier 2024 : « la période 2015 - 2023 », cite-ressources.org).")
QPV_2024 = ("Décret du 28 décembre 2023, « entré en vigueur le 1er janvier 2024 » (Union régionale HLM Hauts-de-France, "
            "janvier 2024) ; aucune date de fin dans les sources.")
CV = "Période des contrats de ville 2015-2020 telle que l'intitule la couche source (cv.topojson, CGET, mise à jour 10/2018)."
TI = "Période 2023-2027 déclarée avec la liste de la seconde génération (liste-ti-com2023) ; non vérifiée dans un texte."
AM = ("Plan Avenir Montagnes « lancé le 27 mai 2021 » (préfecture du Puy-de-Dôme, 14 novembre 2022 ; cohesion-territoires.gouv.fr, "
      "publié le 27/05/2021) ; aucune date de fin dans les sources.")
AMM = ("AMI Avenir Montagnes Mobilités lancé « le 23 septembre » 2021 (La Gazette des communes, septembre 2021) ; lauréats "
       "annoncés en mars et le 21 octobre 2022 (France Mobilités) ; aucune date de fin dans les sources.")
ZRR = ("Classement constaté par l'arrêté du 16 mars 2017, qui « prend effet au 1er juillet 2017 » (JORF n° 0075 du 29 mars 2017, "
       "idcite.com) ; la couche est mise à jour en 08/2019 ; aucune date de fin dans les sources.")
CR = ("Contrats de ruralité « actée[s] par le comité interministériel aux ruralités du 20 mai 2016 » (Sénat, rapport "
      "n° 673, 2018-2019) ; « 476 contrats de ruralité ont été conclus pour la période 2016-2020 » (Banque des Territoires).")
CTE = ("Négociation du premier contrat lancée à Arras le 11 janvier 2018 (journal-enr.org, « Les CTE sur les rails ») ; les 61 "
       "lauréats de la seconde vague ont été dévoilés le 9 juillet 2019 (Banque des Territoires) ; aucune date de fin.")


@dataclass(frozen=True)
class Programme:
    """How to read one programme file: its dataset, generation, period and how members are placed."""

    dataset: str
    id: str
    name: str
    member_scale: str
    codes: str  # column with member codes (';' or ','-separated lists allowed), or names for placement "names"
    placement: str = "codes"  # codes | names | zone
    role: str | None = None  # column giving each member's role (e.g. its territory's name)
    start: str | None = None  # column giving each member's start date
    start_parser: Callable[[pd.DataFrame], pd.Series] | None = None  # member start dates from the row (None: ISO column)
    reads: tuple[str, ...] = ()  # other columns the start parser reads
    note: str | None = None  # column copied into each member's note
    period: tuple[str | None, str | None] = (None, None)
    period_source: str | None = None
    generation: str | None = None
    succeeds: tuple[str, ...] = ()
    notes: str | None = None
    publisher: str = "ANCT"


def _acv_2018_dates(table: pd.DataFrame) -> pd.Series:
    """DATE_SIGN where the row's labels agree (NOM_COM names the row's commune libgeo), else no date.

    In some rows of this layer the block NOM_COM … DATE_SIGN is shifted against the codes (e.g. Montauban's row
    carries NOM_COM « Montbéliard »): their date may be another town's, so it is not used.
    """
    aligned = [normalise(lib) in normalise(nom) for lib, nom in zip(table["libgeo"], table["NOM_COM"])]
    dates = table["DATE_SIGN"].map(parse_french_date)
    return dates.where(pd.Series(aligned, index=table.index), None)


def _signature_dates(table: pd.DataFrame) -> pd.Series:
    return table["info1"].map(parse_french_date)


def _cte_dates(table: pd.DataFrame) -> pd.Series:
    """Phase 2 territories: the day their selection was announced (9 July 2019); phase 1: no single date."""
    phase2 = table["info1"].str.contains("phase 2", na=False)
    return pd.Series([dt.date(2019, 7, 9) if p else None for p in phase2], index=table.index, dtype=object)


PROGRAMMES = (
    Programme("acv-2018", "action-coeur-de-ville-2018", "Action Cœur de Ville (2018-2022)", "commune", "insee_com",
              role="libgeo", start="DATE_SIGN", start_parser=_acv_2018_dates, reads=("libgeo", "NOM_COM"), period=("2018-03-27", "2022-12-31"),
              period_source=ACV_2018, generation="2018-2022",
              notes="Première génération : communes de la couche « Carte interactive 20180810 » (ACV, octobre 2018). "
                    "Début d'un membre : la date de signature de sa convention (DATE_SIGN) quand la ligne est cohérente ; "
                    "sinon non daté, compté sur la période de la génération. Les binômes (JUMELAGE) n'ont qu'une ligne."),
    Programme("acv-2025", "action-coeur-de-ville", "Action Cœur de Ville (2023-2026)", "commune", "insee_com", role="id_acv",
              period=("2023-01-01", "2026-12-31"), period_source=ACV_2023, generation="2023-2026",
              succeeds=("action-coeur-de-ville-2018",),
              notes="Seconde génération (ACV 2) : liste d'avril 2025 ; les binômes partagent un id_acv, donné comme rôle. "
                    "Aucune date propre aux membres dans la source."),
    Programme("pvd-2021", "petites-villes-de-demain-2021", "Petites villes de demain (liste de janvier 2021)", "commune",
              "insee_com", role="id_pvd", period=("2020-10-01", "2026-12-31"), period_source=PVD, generation="liste 2021",
              notes="Première liste des communes retenues (carte interactive, janvier 2021) ; la colonne date_signature y est "
                    "vide : membres non datés, comptés sur la période du programme. La source ne dit pas quand la liste 2024 "
                    "l'a remplacée : les deux listes couvrent la même période."),
    Programme("pvd-2024", "petites-villes-de-demain", "Petites villes de demain (liste 2024)", "commune", "insee_com",
              role="id_pvd", start="date_signature", period=("2020-10-01", "2026-12-31"), period_source=PVD,
              generation="liste 2024", succeeds=("petites-villes-de-demain-2021",),
              notes="Liste d'août 2024 (liste-pvd-com2023-20240807). Début d'un membre : la date de signature de sa "
                    "convention (date_signature) ; sans date, non daté."),
    Programme("villages-avenir-2024", "villages-d-avenir", "Villages d'avenir", "commune", "codes_membres", role="id_va",
              notes="Liste de septembre 2024. Période du programme non trouvée dans les sources : non daté."),
    Programme("qpv-2015-occitanie", "quartiers-prioritaires-2015", "Quartiers prioritaires de la politique de la ville (2015-2023)",
              "quartier", "code_qp", period=("2015-01-01", "2023-12-31"), period_source=QPV_2015, generation="2015",
              publisher="CGET (contours QPV), via ToulouseDataViz Hackaviz 2021",
              notes="Périmètres des quartiers de la génération 2015, pour l'Occitanie seulement (les autres régions ne sont pas "
                    "dans les données). Un quartier couvre les communes qui portent au moins 2 % de sa surface."),
    Programme("qpv-communes-2024-points", "quartiers-prioritaires-2024", "Quartiers prioritaires de la politique de la ville (2024)",
              "commune", "insee_com", note="code_qp", period=("2024-01-01", None), period_source=QPV_2024, generation="2024",
              succeeds=("quartiers-prioritaires-2015", "contrats-de-ville-2015-2020"),
              notes="À l'échelle de la commune : les données ne donnent que les communes qui ont au moins un QPV de la "
                    "génération 2024, pas les périmètres des quartiers. La note de chaque membre liste ses codes de QPV."),
    Programme("territoires-industrie-2024", "territoires-d-industrie", "Territoires d'industrie (2023-2027)", "epci",
              "codes_membres", role="lib_territoire", period=("2023-01-01", "2027-12-31"), period_source=TI, generation="2023-2027",
              notes="Rôle d'un membre : le nom de son territoire d'industrie."),
    Programme("contrats-ville-2018", "contrats-de-ville-2015-2020", "Contrats de ville 2015-2020", "epci", "siren_epci_2015",
              role="id", period=("2015-01-01", "2020-12-31"), period_source=CV, generation="2015-2020",
              notes="EPCI porteurs de 2015 ; un EPCI qui n'existe plus en 2026 est écarté et signalé."),
    Programme("territoires-engagement", "territoires-d-engagement", "Territoires d'engagement", "commune", "siren_groupement",
              role="id_tec", notes="Communes (code INSEE) et EPCI (SIREN) membres ; un EPCI vaut pour ses communes de 2026. "
                                   "Période du programme non trouvée dans les sources : non daté."),
    Programme("avenir-montagnes-ingenierie", "avenir-montagnes-ingenierie", "Avenir Montagnes Ingénierie", "commune",
              "siren_groupement", role="lib_ami", period=("2021-05-27", None), period_source=AM,
              notes="Membres donnés par SIREN : communes et EPCI (un EPCI vaut pour ses communes de 2026) ; aucune date "
                    "propre aux membres."),
    Programme("avenir-montagnes-mobilites", "avenir-montagnes-mobilites", "Avenir Montagnes Mobilités", "commune",
              "siren_groupement", role="id_amm", period=("2021-09-23", None), period_source=AMM,
              notes="Membres donnés par SIREN : communes et EPCI (un EPCI vaut pour ses communes de 2026) ; lauréats en deux "
                    "vagues (2022) que la source ne distingue pas."),
    Programme("grille-montagne", "zone-de-montagne", "Zone de montagne (massifs)", "commune", "insee_com",
              role="niveau_montagne",
              notes="Communes classées en zone de montagne, avec leur massif comme rôle (grille de l'Observatoire des "
                    "territoires, mars 2026). Zonage permanent : les dates de classement ne sont pas dans la source."),
    Programme("zrr-2019", "zones-de-revitalisation-rurale-2019", "Zones de revitalisation rurale (classement 2017-2019)",
              "commune", "share", placement="zone", period=("2017-07-01", None), period_source=ZRR, generation="2017",
              notes="La source est un seul polygone, sans code commune : une commune est classée quand au moins la moitié "
                    "de sa surface est dans la zone (la note de chaque membre donne sa part). Les DROM de la couche sont des "
                    "encarts aux coordonnées fictives : leurs communes ne sont pas placées."),
    Programme("contrats-ruralite-2019", "contrats-de-ruralite", "Contrats de ruralité (2016-2020)", "epci", "lib",
              placement="names", role="id", start="info1", start_parser=_signature_dates, period=("2016-05-20", "2020-12-31"),
              period_source=CR, generation="2016-2020",
              notes="La source ne donne que des noms : un contrat est placé quand son nom, normalisé, est celui d'un seul "
                    "EPCI de 2026 (périmètre 2026). Les contrats de PETR et les noms sans correspondance ne sont pas placés. "
                    "Début d'un membre : la date de signature de la source."),
    Programme("cte-2019", "contrats-de-transition-ecologique", "Contrats de transition écologique (2018-2019)", "epci", "lib",
              placement="names", role="id", start="info1", start_parser=_cte_dates, period=("2018-01-11", None),
              period_source=CTE, generation="2018-2019",
              notes="La source ne donne que des noms : un contrat est placé quand son nom, normalisé, est celui d'un seul "
                    "EPCI de 2026 (périmètre 2026) ; les autres ne sont pas placés. Début d'un membre de la phase 2 : "
                    "l'annonce des lauréats (9 juillet 2019) ; phase 1 : non daté."),
)


def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """The member columns of a CSV file or of a GeoJSON file's feature properties, as text."""
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, usecols=columns)
    features = json.loads(path.read_bytes())["features"]
    props = pd.DataFrame.from_records([f["properties"] for f in features], columns=columns)
    return props.astype("string").fillna("").astype(object)


def _explode_codes(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per code of a ';' or ','-separated list."""
    table = table.assign(_code=table[column].str.replace(",", ";").str.split(";")).explode("_code")
    table["_code"] = table["_code"].str.strip()
    return table[table["_code"].fillna("") != ""]


def _place_codes(long: pd.DataFrame, scale: str, cog: Cog) -> pd.DataFrame:
    """Codes re-keyed to 2026: merged communes to their successor, commune SIRENs to INSEE codes, EPCI to their communes."""
    long = long.assign(_note="")
    if scale == "epci":
        return long
    parent = cog.links.set_index("code")["parent"]
    merged = ~isin(long["_code"], cog.communes["code"]) & isin(long["_code"], parent.index)
    long.loc[merged, "_note"] = long.loc[merged, "_code"].map(lambda c: f"code source {c} fusionné dans {parent[c]}")
    long.loc[merged, "_code"] = long.loc[merged, "_code"].map(parent)
    if scale != "commune":
        return long
    by_siren = long["_code"].map(cog.commune_of_siren)
    long.loc[by_siren.notna(), "_code"] = by_siren[by_siren.notna()]
    epci = isin(long["_code"], cog.epci["code"])
    if epci.any():  # an EPCI in a commune list stands for its 2026 communes
        names = cog.epci.set_index("code")["nom"]
        expanded = long[epci].merge(cog.epci_members, left_on="_code", right_on="epci")
        expanded["_note"] = "au titre de l'EPCI " + expanded["epci"] + " (" + expanded["epci"].map(names) + ")"
        expanded["_code"] = expanded["commune"]
        long = pd.concat([long[~epci], expanded[long.columns]], ignore_index=True)
    return long


def _place_names(table: pd.DataFrame, column: str, cog: Cog) -> tuple[pd.DataFrame, list[str]]:
    """Rows whose name matches one 2026 EPCI name; the others are returned as reasons."""
    found = table[column].map(lambda name: match_epci(name, cog.epci))
    codes = found.map(lambda r: r[0])
    table = table.assign(_code=codes, _note=found.map(lambda r: r[1]))
    unplaced = [f"« {name.strip()} » ({why})" for name, (code, why) in zip(table[column], found) if code is None]
    return table[codes.notna()], unplaced


def _place_zone(dataset: str, cog: Cog) -> pd.DataFrame:
    """Communes with at least ZONE_MIN_SHARE of their area inside the zoning, with their share."""
    shares = cog.zone_shares[cog.zone_shares["zone"] == dataset]
    inside = shares[shares["share"] >= ZONE_MIN_SHARE]
    return pd.DataFrame({"_code": inside["commune"].to_numpy(), "_row": None,
                         "_note": [f"{s:.0%} de sa surface dans la zone".replace("%", " %") for s in inside["share"]]})


def load_programme(prog: Programme, cog: Cog, settings: Settings) -> tuple[Scheme, list[str]]:
    """Read one programme file into a scheme (one generation); warnings name what could not be placed."""
    ds: Dataset = catalogue()[prog.dataset]
    path = fetch(ds, settings)
    warnings: list[str] = []
    if prog.placement == "zone":
        long = _place_zone(prog.dataset, cog)
    else:
        table = _read_table(path, list(dict.fromkeys(c for c in (prog.codes, prog.role, prog.start, prog.note, *prog.reads) if c)))
        table["_row"] = range(2, len(table) + 2)  # row 1 is the header (CSV) / first feature is row 2
        if prog.start_parser is not None:
            table["_start"] = prog.start_parser(table)
        elif prog.start:
            table["_start"] = table[prog.start].map(lambda s: dt.date.fromisoformat(s) if s else None)
        if prog.placement == "names":
            long, unplaced = _place_names(table, prog.codes, cog)
            warnings += [f"{path}: {prog.name}: {u} not placed" for u in unplaced]
        else:
            long = _place_codes(_explode_codes(table, prog.codes), prog.member_scale, cog)
    known = {"commune": cog.communes["code"], "epci": cog.epci["code"], "quartier": pd.Series(sorted(cog.quartier_codes))}
    unknown = ~isin(long["_code"], known[prog.member_scale])
    for code, row in zip(long.loc[unknown, "_code"], long.loc[unknown, "_row"]):
        warnings.append(f"{path}, row {row}: {code} is not a 2026 {prog.member_scale} code; member dropped")
    long = long[~unknown]
    if prog.placement == "names":  # two contracts placed on one EPCI: the first is kept, the others named
        for code, row, name in long.loc[long["_code"].duplicated(), ["_code", "_row", prog.codes]].itertuples(index=False):
            warnings.append(f"{path}, row {row}: « {name.strip()} » matches EPCI {code}, already placed from an earlier row; not placed")
    long = long.drop_duplicates("_code")

    def col(name: str | None) -> pd.Series:
        return long[name].fillna("") if name and name in long else pd.Series("", index=long.index)

    notes = (col(prog.note).str.replace(", ", ";") + " " + long["_note"].fillna("")).str.strip()
    starts = long["_start"] if "_start" in long else pd.Series(None, index=long.index, dtype=object)
    own_source = f"{prog.start} ({ds.file})" if prog.start else None
    start, end = (dt.date.fromisoformat(d) if d else None for d in prog.period)
    outside = starts.map(lambda d: isinstance(d, dt.date) and ((start is not None and d < start) or (end is not None and d > end)))
    for code, row, day in zip(long.loc[outside, "_code"], long.loc[outside, "_row"], starts[outside]):
        # a source date outside the programme's own period is not used (never one date preferred to another by guess):
        # the member takes the programme's period, and the conflict is named
        warnings.append(f"{path}, row {row}: member {code}: {prog.start} {day} lies outside the programme's period "
                        f"({start or 'open'} – {end or 'open'}); the programme's period is used")
    starts = starts.where(~outside, None)
    members = tuple(
        Member(code=c, role=r or None, start=s if isinstance(s, dt.date) else None, note=n or None,
               line=int(i) if pd.notna(i) else None, period_source=own_source if isinstance(s, dt.date) else None)
        for c, r, s, n, i in zip(long["_code"], col(prog.role), starts, notes, long["_row"])
    )
    scheme = Scheme(
        id=prog.id, name=prog.name, kind=KIND, member_scale=prog.member_scale, members=members, file=str(path),
        start=start, end=end, owner=None, source={"title": ds.title, "url": ds.provenance, "publisher": prog.publisher},
        as_of=dt.date.fromisoformat(ds.as_of) if ds.as_of else None, notes=prog.notes,
        period_source=prog.period_source, generation=prog.generation, succeeds=prog.succeeds,
    )
    return scheme, warnings


def unavailable(settings: Settings) -> dict[str, str]:
    """Programmes these settings cannot load, by id, each with the reason in one line: their file is read from a mirror
    only (it was converted from its upstream form; no upstream address gives it as is) and no mirror is set."""
    if settings.mirror is not None:
        return {}
    datasets = catalogue()
    return {p.id: f"programme {p.id} ({p.name}) not loaded: its file {datasets[p.dataset].file} was converted from "
                  f"{datasets[p.dataset].provenance} and is read from a mirror only. Fix: set TERRITOIRES_MIRROR to a mirror holding it."
            for p in PROGRAMMES if datasets[p.dataset].mirror_only or not datasets[p.dataset].url}


def programme_loaders() -> dict[str, Callable[[Cog, Settings], tuple[Scheme, list[str]]]]:
    """One loader per programme id."""
    return {p.id: (lambda cog, settings, p=p: load_programme(p, cog, settings)) for p in PROGRAMMES}
