"""Kinds of scheme: one table read by the scheme files' validation, the maps, the API and the pages.

Each kind has its French label (singular and plural), the group the home page lists it under, and whether its
members are drawn linked to their pilot. Adding a kind is one line here (and the scheme files that use it).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindGroup:
    """A heading under which kinds of scheme are listed together."""

    id: str
    label: str


@dataclass(frozen=True)
class Kind:
    """A kind of scheme: its id (as written in scheme files), French labels, group, and whether members are linked."""

    id: str
    label: str
    plural: str
    group: str
    links: bool = False  # a network or partnership: a line from the pilot to each other member


#: Groups in the order a page lists them.
GROUPS: dict[str, KindGroup] = {g.id: g for g in (
    KindGroup("intercommunalites", "Intercommunalités et groupements"),
    KindGroup("reseaux", "Réseaux et clubs"),
    KindGroup("partenariats", "Partenariats"),
    KindGroup("contrats", "Contrats"),
    KindGroup("programmes", "Programmes nationaux"),
)}

#: Every kind a scheme file may declare (``kind:``), by id.
KINDS: dict[str, Kind] = {k.id: k for k in (
    Kind("epci", "EPCI", "EPCI", "intercommunalites"),
    Kind("grouping", "groupement", "groupements", "intercommunalites"),
    Kind("network", "réseau", "réseaux", "reseaux", links=True),
    Kind("club", "club", "clubs", "reseaux"),
    Kind("partnership", "partenariat", "partenariats", "partenariats", links=True),
    Kind("contract", "contrat", "contrats", "contrats"),
    Kind("programme", "programme national", "programmes nationaux", "programmes"),
)}


def kind_label(kind: str) -> str:
    """The French label of a kind (its id if unknown, which validation never lets through)."""
    return KINDS[kind].label if kind in KINDS else kind


def by_group(kinds: list[str] | None = None) -> dict[KindGroup, list[Kind]]:
    """The kinds (all, or those named) under their groups, both in table order; empty groups left out."""
    wanted = set(KINDS) if kinds is None else set(kinds)
    out: dict[KindGroup, list[Kind]] = {}
    for group in GROUPS.values():
        members = [k for k in KINDS.values() if k.group == group.id and k.id in wanted]
        if members:
            out[group] = members
    return out
