"""Coverage: which schemes cover which communes, directly or through an EPCI, a grouping or a network.

All answers come from one long table with a row per (commune, scheme, path), built once by joins.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import pandas as pd

from geo.catalogue import Catalogue
from geo.cog import Cog
from geo.schemes import Member
from geo.territory import Territory

#: The path of a coverage row, structured: the level and code of the member through which the scheme covers the
#: commune (the commune itself, a quartier of it, its EPCI), the grouping that EPCI stands for when the scheme's member
#: is a grouping, and the network whose members a club counts as its own. Pages and commands write it in words.
PATH_COLUMNS = ["via_level", "via_code", "via_grouping", "via_network"]
COLUMNS = ["commune", "scheme", "role", "start", "end", "start_basis", "end_basis", *PATH_COLUMNS]


def _members_table(catalogue: Catalogue) -> pd.DataFrame:
    """One row per membership, with its period and the basis of each bound (geo/periods.py)."""
    rows = [(s.id, s.member_scale, m.code, m.role, p.start, p.end, str(p.start_basis), str(p.end_basis))
            for s in catalogue.schemes.values() for m in s.members for p in (s.period_of(m),)]
    return pd.DataFrame(rows, columns=["scheme", "scale", "code", "role", "start", "end", "start_basis", "end_basis"])


def coverage_table(catalogue: Catalogue, cog: Cog) -> pd.DataFrame:
    """Rows (commune, scheme, role, start, end, start_basis, end_basis, via_level, via_code, via_grouping, via_network)
    for every scheme, whatever its member scale.

    start/end are the membership's period (the member's own dates, else its scheme's); *_basis says which
    (membre, dispositif, non daté). A quartier member covers the communes holding part of it (geo/quartiers.py).
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
                                                    via_network=scheme.parent)],
                              ignore_index=True)
    return table


@dataclass
class Coverage:
    """Coverage queries over the commune scale in scope."""

    table: pd.DataFrame
    scales: dict[str, gpd.GeoDataFrame]
    catalogue: Catalogue

    @cached_property
    def _communes(self) -> pd.DataFrame:
        return self.scales["commune"].drop(columns="geometry").set_index("code")

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
