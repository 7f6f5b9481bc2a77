"""A territory named by a request or a command (``within=``, ``focus=``, a code in a path), resolved once.

Written 'level:code' or as a bare code: a commune (5 characters), a quartier (QP…), an EPCI (9 digits), a grouping
id, a département, then a région (write 'region:76' where a région's code is also a département's). The resolver
answers a :class:`Territory` (its level, code, name, communes, and the territories of every level it shares a
commune with), or one French error naming what was asked — and, for a merged commune, the commune it became.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.cog import Cog
from geo.errors import NotFound

#: The scales drawn as layers (tiles, GeoJSON), in the order of the layer lists.
LEVELS = ("commune", "quartier", "epci", "departement", "region", "grouping")
#: The levels a territory may be: the scales and the quartiers (QPV), each known by its communes.
TERRITORY_LEVELS = ("commune", "quartier", "epci", "departement", "region", "grouping")
#: French names of the levels: singular, plural.
LEVEL_NAMES: dict[str, tuple[str, str]] = {"commune": ("commune", "communes"), "quartier": ("quartier", "quartiers"),
                                           "epci": ("EPCI", "EPCI"), "departement": ("département", "départements"),
                                           "region": ("région", "régions"), "grouping": ("groupement", "groupements")}
#: Which level a bare code is looked up in first.
BARE_ORDER = ("commune", "quartier", "epci", "grouping", "departement", "region")


class UnknownTerritory(NotFound):
    """A territory that is not served; the message (French) names it, and a merged commune's successor."""


@dataclass(frozen=True)
class Territory:
    """A resolved territory: what routes, maps and exports need of it, computed once."""

    level: str
    code: str
    nom: str
    param: str  # the shortest text naming it again: its code, or 'level:code' where the bare code names another
    communes: tuple[str, ...] = field(repr=False)  # its communes in scope, in table order
    _codes: Mapping[str, frozenset[str]] = field(repr=False, compare=False)

    @property
    def key(self) -> str:
        """'level:code', the same however it was written (for cache keys)."""
        return f"{self.level}:{self.code}"

    @property
    def label(self) -> str:
        """Its name and official code, as a title shows it (a grouping, whose id is no official code: its name)."""
        return self.nom if self.level == "grouping" else f"{self.nom} ({self.code})"

    def codes(self, level: str) -> frozenset[str]:
        """Codes of the territories of ``level`` sharing a commune with it: below its level those inside it, above it
        those containing it."""
        return self._codes[level]


@dataclass(frozen=True, eq=False)
class TerritoryIndex:
    """What resolving needs, built once per model from its scales, its groupings and the official codes."""

    communes: Mapping[str, np.ndarray]  # per commune in scope (object arrays, None where none): code, epci, departement, region
    names: Mapping[str, Mapping[str, str]]  # level → code → name, for the territories in scope
    groupings: Mapping[str, frozenset[str]]  # grouping id → its member EPCI
    quartiers: Mapping[str, np.ndarray]  # the quartier → commune links, as object arrays "quartier" and "commune"
    cog: Cog
    scope: str
    vintage: str  # the label of the official codes' vintage (boundaries/sources.yaml)

    def resolve(self, text: str) -> Territory:
        """The territory ``text`` names; :class:`UnknownTerritory` in French otherwise."""
        level, sep, code = text.partition(":")
        level, code = (level.strip(), code.strip()) if sep else ("", text.strip())
        if level and level not in TERRITORY_LEVELS:
            raise UnknownTerritory(f"Échelle inconnue « {level} » dans « {text} » : écrivez {', '.join(TERRITORY_LEVELS[:-1])} ou "
                                   f"{TERRITORY_LEVELS[-1]} avant le code, ou le code seul.")
        found = (level if code in self.names[level] else None) if level else self._bare(code)
        if found is None:
            raise UnknownTerritory(self._unknown(text.strip(), level, code))
        return self._territory(found, code)

    def _bare(self, code: str) -> str | None:
        return next((lv for lv in BARE_ORDER if code in self.names[lv]), None)

    def _territory(self, level: str, code: str) -> Territory:
        com, links = self.communes, self.quartiers
        if level == "grouping":
            mask = np.isin(com["epci"], list(self.groupings[code]))
        elif level == "quartier":
            mask = np.isin(com["code"], links["commune"][links["quartier"] == code])
        else:
            mask = com["code" if level == "commune" else level] == code
        inside = {column: values[mask].tolist() for column, values in com.items()}
        codes = {"commune": frozenset(inside["code"]),
                 **{lv: frozenset(inside[lv]) - {None} for lv in ("epci", "departement", "region")}}
        codes["grouping"] = frozenset(g for g, members in self.groupings.items() if not members.isdisjoint(codes["epci"]))
        codes["quartier"] = frozenset(links["quartier"][np.isin(links["commune"], inside["code"])].tolist())
        param = code if self._bare(code) == level else f"{level}:{code}"
        return Territory(level, code, self.names[level][code], param, tuple(inside["code"]), codes)

    def _unknown(self, text: str, level: str, code: str) -> str:
        """Why ``text`` names no territory in scope, in French."""
        cog, scope = self.cog, self.scope.capitalize()
        if level in ("", "commune") and len(code) == 5:
            parent = cog.successor(code)
            if parent is not None:
                nom = cog.communes.set_index("code")["nom"].get(parent, "?")
                return f"La commune {code} n'existe plus : elle a fusionné dans la commune {parent} ({nom}) au {self.vintage}."
            if code in cog.commune_codes:
                return f"La commune {code} est hors du périmètre servi ({scope})."
            return f"{code} n'est pas un code de commune du {self.vintage}."
        for lv, table, article in (("epci", cog.epci, "L'EPCI"), ("departement", cog.departements, "Le département"),
                                   ("region", cog.regions, "La région")):
            if level in ("", lv) and code in set(table["code"]):
                nom = table.set_index("code")["nom"].get(code)
                return f"{article} {code} ({nom}) est hors du périmètre servi ({scope})."
        return (f"Territoire inconnu : « {text} ». Donnez un code INSEE de commune, un code de quartier (QP…), un SIREN d'EPCI, "
                "un code de département ou de région, ou l'identifiant d'un groupement.")


def territory_index(scales: Mapping[str, pd.DataFrame], groupings: Mapping[str, tuple[str, frozenset[str]]], cog: Cog,
                    scope: str, vintage: str) -> TerritoryIndex:
    """The index of a model: ``scales`` by level (code, nom; communes also epci, departement, region; quartiers when the
    model has them, placed in their communes by ``cog.quartier_communes``), ``groupings`` as id → (name, member EPCI)."""
    com = scales["commune"]
    communes = {"code": com["code"].astype(str).to_numpy(dtype=object),
                **{lv: np.where(com[lv].notna(), com[lv].astype(str), None).astype(object) for lv in ("epci", "departement", "region")}}
    names = {lv: dict(zip(scales[lv]["code"].astype(str), scales[lv]["nom"].astype(str)))
             for lv in TERRITORY_LEVELS if lv in scales and lv != "grouping"}
    names.setdefault("quartier", {})
    names["grouping"] = {g: name for g, (name, _) in groupings.items()}
    links = cog.quartier_communes
    quartiers = {c: links[c].astype(str).to_numpy(dtype=object) for c in ("quartier", "commune")}
    return TerritoryIndex(communes, names, {g: members for g, (_, members) in groupings.items()}, quartiers, cog, scope, vintage)
