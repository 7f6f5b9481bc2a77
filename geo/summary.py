"""What covers a territory, scheme by scheme: how many of its communes, through which paths, with which roles and
periods. The territory page, the maps' side panel and the fiche territoire list these (their words: geo/wording.py)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from geo.completeness import Completeness, completeness
from geo.coverage import PATH_COLUMNS
from geo.kinds import GROUPS, KINDS
from geo.model import Model
from geo.periods import Status, french_date, status_at
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
    sources: tuple[dict, ...] = ()  # the memberships' own sources (imported rows'), when they have one: {title, url}
    in_force: bool = True  # at the date asked (always, without one)
    status: str = ""  # at the date asked: 'en vigueur', 'terminé le …', 'à partir du …', 'non daté'
    communes_at: int | None = None  # of its communes, those covered at the date asked


def status_of(periods: list[dict], covered_at: int, at: dt.date) -> tuple[bool, str]:
    """Whether a scheme covering a territory through memberships of these periods is in force at ``at`` (some of its
    communes covered then), and how a table says so: 'en vigueur' ('non daté' when no membership has a date), else
    'à partir du …' (the first period to come) or 'terminé le …' (the last period ended)."""
    if covered_at:
        undated = all(p["start"] is None and p["end"] is None for p in periods)
        return True, "non daté" if undated else "en vigueur"
    coming = [p["start"] for p in periods if status_at(p["start"], p["end"], at) is Status.NOT_STARTED]
    if coming:
        return False, f"à partir du {french_date(min(coming))}"
    return False, f"terminé le {french_date(max(p['end'] for p in periods if p['end'] is not None))}"


def coverings(model: Model, territory: Territory, at: dt.date | None = None) -> list[Covering]:
    """Every scheme covering some of a territory's communes (for a quartier, through it or a scale holding it), in the
    kinds' order then by name; at a date, each marked in force or not (its status), those in force first."""
    rows = model.coverage.over(territory)
    now = model.coverage.on(at).over(territory).groupby("scheme")["commune"].nunique() if at is not None else None
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
        spans = [{"start": r.start, "end": r.end, "start_basis": r.start_basis, "end_basis": r.end_basis} for r in periods.itertuples()]
        dating: dict = {}
        if now is not None:
            covered = int(now.get(scheme_id, 0))
            force, status = status_of(spans, covered, at)
            dating = {"in_force": force, "status": status, "communes_at": covered}
        own = part[["source_title", "source_url"]].dropna(how="all").drop_duplicates()
        dating["sources"] = tuple({"title": None if pd.isna(t) else t, "url": None if pd.isna(u) else u}
                                  for t, u in own.itertuples(index=False))
        out.append(Covering(scheme, int(part["commune"].nunique()), structured, sorted(part["role"].dropna().unique().tolist()),
                            spans, completeness(model.catalogue, scheme), **dating))
    return sorted(out, key=lambda c: (not c.in_force, group_rank(c.scheme), c.scheme.name.lower()))
