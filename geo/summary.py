"""What covers a territory, scheme by scheme: how many of its communes, through which paths, with which roles and
periods. The territory page, the maps' side panel and the fiche territoire list these (their words: geo/wording.py)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.completeness import Completeness, completeness
from geo.coverage import PATH_COLUMNS
from geo.kinds import GROUPS, KINDS
from geo.model import Model
from geo.schemes import Scheme
from geo.territory import Territory


def group_rank(scheme: Scheme) -> int:
    """The position of a scheme's kind group in the order pages list them (geo/kinds.py)."""
    return list(GROUPS).index(KINDS[scheme.kind].group)


@dataclass(frozen=True)
class Covering:
    """A scheme over a territory: communes of the territory it covers, its paths (structured, with the communes each
    covers; the communes that are members themselves as one path listing them in ``members``), the members' roles, and
    the distinct periods of the memberships (start, end and their bases)."""

    scheme: Scheme
    communes: int
    paths: list[tuple[dict, int]]
    roles: list[str]
    periods: list[dict]
    badge: Completeness


def coverings(model: Model, territory: Territory) -> list[Covering]:
    """Every scheme covering some of a territory's communes (for a quartier, through it or a scale holding it), in the
    kinds' order then by name."""
    rows = model.coverage.over(territory)
    out = []
    for scheme_id, part in rows.groupby("scheme", sort=False):
        scheme = model.catalogue.schemes[scheme_id]
        paths = part.groupby(PATH_COLUMNS, dropna=False, sort=True)["commune"].nunique()
        structured = [(model.path(*(None if pd.isna(v) else v for v in key)), int(n)) for key, n in paths.items()]
        direct = [p for p, _ in structured if p["level"] == "commune"]
        if len(direct) > 1:  # several of its communes are members themselves: one path naming them
            merged = {**direct[0], "code": None, "nom": None, "members": sorted(p["nom"] or p["code"] for p in direct)}
            structured = [(merged, len(direct))] + [(p, n) for p, n in structured if p["level"] != "commune"]
        periods = part.drop_duplicates(["start", "end", "start_basis", "end_basis"]).sort_values("start", na_position="first")
        out.append(Covering(scheme, int(part["commune"].nunique()), structured, sorted(part["role"].dropna().unique().tolist()),
                            [{"start": r.start, "end": r.end, "start_basis": r.start_basis, "end_basis": r.end_basis}
                             for r in periods.itertuples()], completeness(model.catalogue, scheme)))
    return sorted(out, key=lambda c: (group_rank(c.scheme), c.scheme.name.lower()))
