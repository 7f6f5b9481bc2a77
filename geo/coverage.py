"""Coverage: which schemes cover which communes, directly or through an EPCI, a grouping or a network.

All answers come from one long table with a row per (commune, scheme, path), built once by joins. A coverage
*at a date* (:meth:`Coverage.on`) keeps the rows in force at that date (geo/periods.py), so every count, overlap
and gap it answers is the situation at that date; the territories stay the 2026 ones.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.catalogue import Catalogue
from geo.cog import Cog
from geo.memo import Memo
from geo.schemes import Member
from geo.territory import Territory

#: Coverages at a date kept per model (dates are chosen by requests: bounded; each holds its rows, ~12 MB in Occitanie).
DATED_MAX = 8

#: The path of a coverage row, structured: the level and code of the member through which the scheme covers the
#: commune (the commune itself, a quartier of it, its EPCI), the grouping that EPCI stands for when the scheme's member
#: is a grouping, and the network whose members a club counts as its own. Pages and commands write it in words.
PATH_COLUMNS = ["via_level", "via_code", "via_grouping", "via_network"]
COLUMNS = ["commune", "scheme", "role", "start", "end", "start_basis", "end_basis", "source_title", "source_url", *PATH_COLUMNS]


def _members_table(catalogue: Catalogue) -> pd.DataFrame:
    """One row per membership, with its period, the basis of each bound (geo/periods.py) and its own source (an
    imported row's title and address; empty when the scheme's source applies)."""
    rows = [(s.id, s.member_scale, m.code, m.role, p.start, p.end, str(p.start_basis), str(p.end_basis),
             m.source.title if m.source else None, m.source.url if m.source else None)
            for s in catalogue.schemes.values() for m in s.members for p in (s.period_of(m),)]
    return pd.DataFrame(rows, columns=["scheme", "scale", "code", "role", "start", "end", "start_basis", "end_basis",
                                       "source_title", "source_url"])


def coverage_table(catalogue: Catalogue, cog: Cog) -> pd.DataFrame:
    """Rows (commune, scheme, role, start, end, start_basis, end_basis, source_title, source_url, via_level, via_code,
    via_grouping, via_network) for every scheme, whatever its member scale.

    start/end are the membership's period (the member's own dates, else its scheme's); *_basis says which
    (membre, dispositif, non daté); source_* is the membership's own source (else the scheme's applies). A quartier
    member covers the communes holding part of it (geo/quartiers.py).
    """
    members = _members_table(catalogue)
    epci_members = cog.epci_members.rename(columns={"epci": "code"})

    direct = members[members["scale"] == "commune"].rename(columns={"code": "commune"})
    direct = direct.assign(via_level="commune", via_code=direct["commune"], via_grouping=None)
    by_quartier = members[members["scale"] == "quartier"].merge(
        cog.quartier_communes[["quartier", "commune"]], left_on="code", right_on="quartier")
    by_quartier = by_quartier.assign(via_level="quartier", via_code=by_quartier["code"], via_grouping=None)
    by_epci = members[members["scale"] == "epci"].merge(epci_members, on="code")
    by_epci = by_epci.assign(via_level="epci", via_code=by_epci["code"], via_grouping=None)
    groupings = members[members["scale"] == "epci"].rename(columns={"scheme": "grouping", "code": "epci"})[["grouping", "epci"]]
    by_grp = members[members["scale"] == "grouping"].merge(groupings, left_on="code", right_on="grouping")
    by_grp = by_grp.merge(epci_members, left_on="epci", right_on="code", suffixes=("", "_e"))
    by_grp = by_grp.assign(via_level="epci", via_code=by_grp["epci"], via_grouping=by_grp["grouping"])
    table = pd.concat([t.assign(via_network=None)[COLUMNS] for t in (direct, by_quartier, by_epci, by_grp)], ignore_index=True)

    for scheme in catalogue.schemes.values():  # clubs covering all the members of their network
        if scheme.all_parent_members and scheme.parent in catalogue.schemes:
            parent = table[table["scheme"] == scheme.parent]
            period = scheme.period_of(Member(code=""))
            table = pd.concat([table, parent.assign(scheme=scheme.id, role=None, start=period.start, end=period.end,
                                                    start_basis=str(period.start_basis), end_basis=str(period.end_basis),
                                                    source_title=None, source_url=None, via_network=scheme.parent)],
                              ignore_index=True)
    return table


def _days(values: pd.Series, missing: int) -> np.ndarray:
    """Dates as days since 1970 (int64), ``missing`` where there is none (an open bound)."""
    stamps = pd.to_datetime(values.astype(object))
    days = stamps.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return np.where(stamps.isna().to_numpy(), missing, days)


@dataclass
class Coverage:
    """Coverage queries over the commune scale in scope: every membership, or those in force at a date (``at``)."""

    table: pd.DataFrame
    scales: dict[str, gpd.GeoDataFrame]
    catalogue: Catalogue
    at: dt.date | None = None
    _dated: Memo[Coverage] = field(default_factory=lambda: Memo(DATED_MAX), repr=False)

    @cached_property
    def _communes(self) -> pd.DataFrame:
        return self.scales["commune"].drop(columns="geometry").set_index("code")

    @cached_property
    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's start and end as days (open bounds at the extremes), for masks over the whole table."""
        info = np.iinfo(np.int64)
        return _days(self.table["start"], info.min), _days(self.table["end"], info.max)

    def in_force(self, at: dt.date) -> np.ndarray:
        """Which rows of the table are in force at ``at`` (both bounds included; geo/periods.py's rule, vectorised)."""
        day = (np.datetime64(at, "D") - np.datetime64(0, "D")).astype(np.int64)
        start, end = self._bounds
        return (start <= day) & (end >= day)

    def on(self, at: dt.date) -> Coverage:
        """This coverage at a date: only the memberships in force then (kept per date)."""
        def build() -> Coverage:
            dated = Coverage(self.table[self.in_force(at)].reset_index(drop=True), self.scales, self.catalogue, at)
            dated.__dict__["_communes"] = self._communes  # the communes do not change with the date
            return dated
        return self._dated.get(at, build)

    def counts(self, ids: list[str] | None = None, within: Territory | None = None, clubs_apart: bool = False) -> pd.Series:
        """Per commune, how many of the schemes ``ids`` cover it, counting a programme's generations as one and,
        unless ``clubs_apart``, a network with its clubs as one (:meth:`Catalogue.families`)."""
        matrix = self.matrix(ids, within)
        family = self.catalogue.families(clubs_apart)
        if matrix.empty:
            return pd.Series(0, index=matrix.index, dtype="int64")
        return matrix.T.groupby([family[i] for i in matrix.columns]).max().sum(axis=0).astype("int64")

    def _base(self, within: Territory | None) -> pd.Index:
        return self._communes.index if within is None else pd.Index(within.communes)

    def over(self, territory: Territory) -> pd.DataFrame:
        """The rows over a territory's communes; for a quartier, only the paths through it or through a scale that holds
        it (its commune, its EPCI…), not those through another quartier of the same commune."""
        rows = self.table[self.table["commune"].isin(territory.communes)]
        if territory.level == "quartier":
            rows = rows[(rows["via_level"] != "quartier") | (rows["via_code"] == territory.code)]
        return rows

    def scheme_communes(self, scheme_id: str, within: Territory | None = None) -> pd.Index:
        """Communes in scope (optionally inside a territory) covered by a scheme."""
        self.catalogue.get(scheme_id)
        covered = pd.Index(self.table.loc[self.table["scheme"] == scheme_id, "commune"].unique())
        return self._base(within).intersection(covered)

    def summary(self, scheme_id: str, within: Territory | None = None) -> dict:
        """Communes, population and area covered by a scheme in scope."""
        codes = self.scheme_communes(scheme_id, within)
        com = self._communes.loc[codes]
        return {"communes": len(codes), "population": int(com["population"].sum()), "area_km2": round(float(com["area_km2"].sum()), 2)}

    def matrix(self, schemes: list[str] | None = None, within: Territory | None = None) -> pd.DataFrame:
        """Commune × scheme matrix of 0/1, for communes in scope (optionally inside a territory)."""
        ids = schemes or list(self.catalogue.schemes)
        for i in ids:
            self.catalogue.get(i)
        base = self._base(within)
        rows = self.table[self.table["scheme"].isin(ids) & self.table["commune"].isin(base)].drop_duplicates(["commune", "scheme"])
        out = pd.crosstab(rows["commune"], rows["scheme"]).reindex(index=base, columns=ids, fill_value=0)
        return out.astype("int8")

    def overlap(self, a: str, b: str, within: Territory | None = None) -> dict:
        """Communes covered by both schemes, by only one, with populations."""
        ca, cb = self.scheme_communes(a, within), self.scheme_communes(b, within)
        pop = self._communes["population"]
        both = ca.intersection(cb)
        return {
            "both": {"communes": list(both), "population": int(pop.loc[both].sum())},
            "only_a": {"communes": len(ca.difference(cb)), "population": int(pop.loc[ca.difference(cb)].sum())},
            "only_b": {"communes": len(cb.difference(ca)), "population": int(pop.loc[cb.difference(ca)].sum())},
        }

    def gaps(self, scheme_id: str, within: Territory) -> pd.Index:
        """Communes of a territory that a scheme does not cover."""
        return self._base(within).difference(self.scheme_communes(scheme_id))


def combinations(matrix: pd.DataFrame) -> list[tuple[tuple[str, ...], int]]:
    """Which schemes overlap where: each combination of the matrix's schemes (columns, in their order) covering some
    communes, with how many, the largest first; the gaps (no scheme) are not a combination."""
    if matrix.empty or not len(matrix.columns):
        return []
    ids = list(matrix.columns)
    keys = matrix.to_numpy().astype(bool)
    covered = keys.any(axis=1)
    rows, counts = np.unique(keys[covered], axis=0, return_counts=True)
    out = [(tuple(i for i, on in zip(ids, row) if on), int(n)) for row, n in zip(rows, counts)]
    return sorted(out, key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
