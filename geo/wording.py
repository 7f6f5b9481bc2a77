"""How a person reads the model's facts, in French: numbers, areas, periods of a membership, the path of a coverage,
the name of a level. The pages (service/pages) and the fiche territoire (geo/fiche.py) write them with these
functions; dates are written by geo/periods.py, a scheme's period by geo/mapspec.py.
"""
from __future__ import annotations

import datetime as dt

from geo.kinds import kind_label
from geo.mapspec import fr_date
from geo.periods import Basis
from geo.territory import LEVEL_NAMES

NARROW_SPACE = "\u202f"  # between thousands, as French typography writes them


def number(value: float | int | None, decimals: int = 0) -> str:
    """'40 882', '21,1'; an unknown value is '—'."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}".replace(",", NARROW_SPACE).replace(".", ",")
    return text


def percent(value: float | None) -> str:
    """'37,5 %' (a narrow no-break space before the sign); an unknown value is '—'."""
    return "—" if value is None else f"{number(value, 1)}{NARROW_SPACE}%"


def inhabitants(value: int | None) -> str:
    """'40 882 habitants', '1 habitant', or 'population non renseignée' where the source gives none."""
    if value is None:
        return "population non renseignée"
    return f"{number(value)} habitant{'s' if value > 1 else ''}"


def area(km2: float | None) -> str:
    """'21,1 km²' (one decimal below 100 km², none above)."""
    if km2 is None:
        return "—"
    return f"{number(km2, 1 if km2 < 100 else 0)} km²"


def level_name(level: str, plural: bool = False) -> str:
    """'commune', 'EPCI', 'quartier', 'département', 'région', 'groupement' (or their plural)."""
    return LEVEL_NAMES[level][1 if plural else 0]


def upper_first(text: str) -> str:
    """The text with its first letter capitalised, the others kept ('EPCI', not 'Epci')."""
    return text[:1].upper() + text[1:]


def doll_name(level: str, kind: str | None = None) -> str:
    """What a doll is: its level, or for a grouping what kind of scheme it is ('réseau', 'partenariat')."""
    return kind_label(kind) if level == "grouping" and kind else level_name(level)


def _iso(value: str | dt.date | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def membership_period(start: str | dt.date | None, end: str | dt.date | None, start_basis: str | None = None,
                      end_basis: str | None = None) -> str:
    """The period of a membership in words: 'du 1er janvier 2015 au 31 décembre 2020', 'depuis le 1er juillet 2023',
    'jusqu'au …', 'non daté'; a bound that is the member's own date (not its scheme's) is said so."""
    start, end = _iso(start), _iso(end)

    def own(basis: str | None) -> str:
        return " (date propre au membre)" if basis == str(Basis.MEMBER) else ""

    if start and end:
        return f"du {fr_date(start)}{own(start_basis)} au {fr_date(end)}{own(end_basis)}"
    if start:
        return f"depuis le {fr_date(start)}{own(start_basis)}"
    if end:
        return f"jusqu'au {fr_date(end)}{own(end_basis)}"
    return "non daté"


def path_words(path: dict) -> str:
    """The path of a coverage (geo/coverage.py, structured by ``Model.path``) in words: 'la commune est membre', 'ses 5
    communes membres : …', 'par le quartier prioritaire En Jacca', 'par Toulouse Métropole, membre du réseau Dialogue
    métropolitain de Toulouse'."""

    def member_of(ref: dict) -> str:
        return f", membre du {kind_label(ref['kind'])} {ref['name']}"

    level, nom = path["level"], path.get("nom") or path["code"]
    if level == "commune" and len(path.get("members") or ()) > 1:
        names = path["members"]
        text = f"ses {len(names)} communes membres : " + ", ".join(names[:5]) + (f" et {len(names) - 5} autres" if len(names) > 5 else "")
    elif level == "commune":
        text = "la commune est membre"
    elif level == "quartier":
        text = f"par le quartier prioritaire {nom}"
    else:
        text = f"par {nom}"
    if path.get("grouping"):
        text += member_of(path["grouping"])
    if path.get("network"):
        text += member_of(path["network"]) + " (le club en compte tous les membres)"
    return text
