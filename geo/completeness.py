"""How complete a scheme's member list is, derived from the catalogue: one rule, written once, read by the pages.

- **membres non publics** — no member is known: neither in the scheme's file, nor in an imported member list, nor
  through its network (a club of "all its network's members" whose network lists none);
- **liste partielle** — members are known, but the list is not the whole of it: the scheme's file says so
  (``partial: true``, its notes saying what is missing), or the members are its network's (a club whose own list is not
  public, counted with every member of its network);
- **liste sourcée** — otherwise: every member comes from the source the scheme cites.
"""
from __future__ import annotations

from dataclasses import dataclass

from geo.catalogue import Catalogue
from geo.schemes import Scheme


@dataclass(frozen=True)
class Completeness:
    """A class of member list: its id, the French badge a page shows, and why a scheme is in it."""

    id: str
    label: str
    rule: str


SOURCED = Completeness("sourcee", "liste sourcée", "chaque membre vient de la source citée")
PARTIAL = Completeness("partielle", "liste partielle", "des membres sont connus, mais pas tous : le fichier du dispositif le dit "
                       "(ses notes disent ce qui manque), ou les membres sont ceux de son réseau (un club dont la liste "
                       "n'est pas publique)")
NOT_PUBLIC = Completeness("non-publics", "membres non publics : importez un CSV", "aucun membre connu : ni le fichier du dispositif, "
                          "ni une liste importée, ni son réseau n'en donnent")
#: Every class, in the order a legend lists them.
CLASSES = (SOURCED, PARTIAL, NOT_PUBLIC)


def completeness(catalogue: Catalogue, scheme: Scheme) -> Completeness:
    """The class of a scheme's member list (see the module's rule)."""
    source = catalogue.member_source(scheme)
    if not source.members:
        return NOT_PUBLIC
    if scheme.partial or source is not scheme:
        return PARTIAL
    return SOURCED
