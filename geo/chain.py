"""The poupées russes of a territory: the chain of scales that contain it, from the région down to it.

A doll contains another when it holds all of that one's communes (and is larger, or of a higher level when they hold
the same communes). The dolls holding a territory are not one chain in general: the Partenariat Toulouse – Montpellier
holds Toulouse Métropole but not the Agglomération toulousaine, which the Dialogue métropolitain does not hold whole
either. So the chain is the longest sequence of cooperation scales (EPCI, groupings) and région each containing the
next — between chains as long, the one whose groupings come first in the kinds' order (geo/kinds.py: groupements,
then réseaux, then partenariats) — and every other doll holding the territory, the département among them (the
administrative branch: commune ⊂ département ⊂ région), is shown **beside** the chain: in the smallest doll of the
chain that contains it, with the largest doll of the chain it holds.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo import mapspec
from geo.kinds import GROUPS, KINDS
from geo.model import Model
from geo.territory import Territory

#: Levels from the innermost to the outermost: between two dolls holding the same communes, the higher level contains.
RANK = {"quartier": 0, "commune": 1, "epci": 2, "grouping": 3, "departement": 4, "region": 5}


@dataclass(frozen=True)
class Doll:
    """One territory of a chain: level, code, name, population (None where the source gives none), area, communes, and
    for a grouping the kind of its scheme (a réseau, a partenariat…)."""

    level: str
    code: str
    nom: str
    population: int | None
    area_km2: float
    communes: frozenset[str]
    kind: str | None = None

    def contains(self, other: Doll) -> bool:
        """Whether this doll holds all of ``other``'s communes and is the larger (or, holding the same, of a higher level)."""
        return other.communes <= self.communes and (len(self.communes) > len(other.communes) or RANK[self.level] > RANK[other.level])


@dataclass(frozen=True)
class Beside:
    """A doll holding the territory but off the chain: where it sits (a doll of the chain) and the largest doll of the
    chain it holds."""

    doll: Doll
    within: Doll | None
    holds: Doll


@dataclass(frozen=True)
class Chain:
    """The chain, outermost first (the territory last), and the dolls beside it."""

    dolls: tuple[Doll, ...]
    beside: tuple[Beside, ...]

    @property
    def territory(self) -> Doll:
        return self.dolls[-1]

    def beside_in(self, doll: Doll | None) -> list[Beside]:
        """The dolls beside the chain that sit in ``doll`` (None: outside every doll of the chain)."""
        return [b for b in self.beside if b.within == doll]


def edge(model: Model, d: Doll) -> str:
    """The outline colour a doll is drawn with: its scale's line in the map specification (a grouping: its own outline,
    a quartier: a commune's), so the page, the fiche and the maps agree."""
    if d.level == "grouping":
        return mapspec.grouping_symbols(g.id for g in model.catalogue.groupings)[d.code].edge
    return mapspec.SCALE_LINES.get(d.level, mapspec.SCALE_LINES["commune"]).edge


def doll(model: Model, territory: Territory) -> Doll:
    """A territory as a doll, with its population and area from its scale."""
    table = model.scales[territory.level]
    row = table.loc[table["code"] == territory.code].iloc[0]
    population = row.get("population")
    population = None if population is None or pd.isna(population) else int(population)
    kind = model.catalogue.schemes[territory.code].kind if territory.level == "grouping" else None
    return Doll(territory.level, territory.code, territory.nom, population, float(row["area_km2"]), frozenset(territory.communes), kind)


def containers(model: Model, territory: Territory) -> list[Doll]:
    """Every territory of a scale at or above the territory's that holds all its communes."""
    own = doll(model, territory)
    found = []
    for level in RANK:
        if RANK[level] < RANK[territory.level]:
            continue
        for code in sorted(territory.codes(level)):
            if (level, code) == (territory.level, territory.code):
                continue
            candidate = doll(model, model.territory(f"{level}:{code}"))
            if candidate.contains(own):
                found.append(candidate)
    return found


def _group_rank(model: Model, d: Doll) -> int:
    """The position of a grouping's kind group in the kinds' order (0 for the other levels)."""
    if d.level != "grouping":
        return 0
    return list(GROUPS).index(KINDS[model.catalogue.schemes[d.code].kind].group)


def chain(model: Model, territory: Territory) -> Chain:
    """The poupées russes of a territory (see the module's rule)."""
    own = doll(model, territory)
    found = containers(model, territory)
    nodes = sorted((d for d in found if d.level != "departement"), key=lambda d: (len(d.communes), RANK[d.level], d.code), reverse=True)
    # best[i]: the best chain from the outermost doll down to nodes[i], scored by (length, groupings' kinds first in order)
    best: list[tuple[tuple[int, int], list[Doll]]] = []
    for i, node in enumerate(nodes):
        above = [best[j] for j in range(i) if nodes[j].contains(node)]
        score, path = max(above, key=lambda b: b[0]) if above else ((0, 0), [])
        best.append(((score[0] + 1, score[1] - _group_rank(model, node)), path + [node]))
    dolls = max(best, key=lambda b: b[0])[1] + [own] if best else [own]
    on_chain = set(dolls)
    beside = []
    for node in sorted(found, key=lambda d: (-len(d.communes), d.code)):
        if node in on_chain:
            continue
        within = [d for d in dolls if d.contains(node)]
        holds = [d for d in dolls if node.contains(d)]
        beside.append(Beside(node, within[-1] if within else None, holds[0]))
    return Chain(tuple(dolls), tuple(beside))
