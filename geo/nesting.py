"""Nesting check: each grouping holds whole EPCI, each EPCI whole communes, each région whole départements.

Membership tables say what should nest; geometry proves it: every contained unit's representative point
lies inside its container and the container's area equals the sum of its parts' areas.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely

AREA_TOLERANCE = 1e-6  # relative difference allowed between a container and the sum of its parts


@dataclass
class Nesting:
    """Result of checking one container."""

    level: str
    code: str
    nom: str
    contains: str
    parts: int
    ok: bool
    exceptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _inside(parts: gpd.GeoDataFrame, container: shapely.Geometry) -> pd.Series:
    """Whether each part's representative point lies in the container."""
    return pd.Series(shapely.within(parts.geometry.representative_point().values, container), index=parts.index)


def _area_ok(container_area: float, parts_area: float) -> bool:
    return abs(container_area - parts_area) <= AREA_TOLERANCE * max(container_area, 1e-9)


def check_epci(scales: dict[str, gpd.GeoDataFrame], codes: list[str] | None = None) -> list[Nesting]:
    """Each EPCI (all, or ``codes``) is made of whole communes, all inside it."""
    com, epci = scales["commune"], scales["epci"]
    if codes is not None:
        epci = epci[epci["code"].isin(codes)]
        com = com[com["epci"].isin(codes)]
    geom = epci.set_index("code").geometry
    pts_ok = shapely.within(com.geometry.representative_point().values, geom.reindex(com["epci"]).values)
    outside = com[~pts_ok].groupby("epci")["code"].agg(list)
    parts = com.groupby("epci").agg(n=("code", "size"), area=("area_km2", "sum"))
    out = []
    for row in epci.itertuples():
        exceptions = [f"commune {c} lies outside its EPCI" for c in outside.get(row.code, [])]
        if row.partial:
            exceptions.append(f"only {row.communes} of its {row.communes_total} communes are in scope")
        if not _area_ok(row.area_km2, parts.loc[row.code, "area"]):
            exceptions.append("area differs from the sum of its communes")
        out.append(Nesting("epci", row.code, row.nom, "commune", int(parts.loc[row.code, "n"]), not exceptions, exceptions))
    return out


def check_grouping(scales: dict[str, gpd.GeoDataFrame], code: str) -> Nesting:
    """A grouping is made of whole EPCI (all their communes in scope), each inside it."""
    grp = scales["grouping"].set_index("code").loc[code]
    members = grp["epci"].split(";")
    epci = scales["epci"][scales["epci"]["code"].isin(members)]
    exceptions = [f"EPCI {m} is not in scope" for m in members if m not in set(epci["code"])]
    exceptions += [f"EPCI {c} ({n}) has only {k} of {t} communes in scope"
                   for c, n, k, t in epci.loc[epci["partial"], ["code", "nom", "communes", "communes_total"]].itertuples(index=False)]
    outside = epci.loc[~_inside(epci, grp.geometry), "code"]
    exceptions += [f"EPCI {c} lies outside the grouping" for c in outside]
    if not _area_ok(grp["area_km2"], epci["area_km2"].sum()):
        exceptions.append("area differs from the sum of its EPCI")
    epci_checks = check_epci(scales, members)
    exceptions += [f"EPCI {n.code}: {e}" for n in epci_checks for e in n.exceptions]
    return Nesting("grouping", code, grp["nom"], "epci", len(members), not exceptions, exceptions)


def check_region(scales: dict[str, gpd.GeoDataFrame], code: str) -> Nesting:
    """A région is made of whole départements and whole communes; groupings inside it are whole.

    EPCI that straddle the région's boundary are legal in France: they are listed as notes.
    """
    reg = scales["region"].set_index("code").loc[code]
    com, dep = scales["commune"], scales["departement"]
    deps = dep[dep["region"] == code]
    com_in = com[com["departement"].isin(deps["code"])]
    exceptions = [f"commune {c} of département {d} is in région {r}"
                  for c, d, r in com_in.loc[com_in["region"] != code, ["code", "departement", "region"]].itertuples(index=False)]
    exceptions += [f"département {c} lies outside the région" for c in deps.loc[~_inside(deps, reg.geometry), "code"]]
    exceptions += [f"commune {c} lies outside the région" for c in com_in.loc[~_inside(com_in, reg.geometry), "code"]]
    if not _area_ok(reg["area_km2"], deps["area_km2"].sum()):
        exceptions.append("area differs from the sum of its départements")
    grp = scales["grouping"]
    inside = grp[grp["regions"] == code]
    notes = [f"grouping {g} is wholly inside" for g in inside["code"]]
    epci = scales["epci"]
    straddling = epci[epci["regions"].str.contains(code) & (epci["partial"] | epci["regions"].str.contains(";"))]
    notes += [f"EPCI {c} ({n}) straddles the boundary: {k} of {t} communes inside"
              for c, n, k, t in straddling[["code", "nom", "communes", "communes_total"]].itertuples(index=False)]
    return Nesting("region", code, reg["nom"], "departement", len(deps), not exceptions, exceptions, notes)


def check_all(scales: dict[str, gpd.GeoDataFrame]) -> list[Nesting]:
    """Every EPCI (summarised), every grouping and every région in scope.

    EPCI cut by the scope boundary and communes that belong to no EPCI (the four single-commune
    islands the law exempts) are named as notes, not failures.
    """
    epci = check_epci(scales)
    failed = [n for n in epci if not n.ok and not (len(n.exceptions) == 1 and n.exceptions[0].startswith("only "))]
    orphans = scales["commune"][scales["commune"]["epci"].isna()]
    notes = [f"EPCI {n.code} ({n.nom}): {n.exceptions[-1]}" for n in epci if not n.ok and n not in failed]
    notes += [f"commune {c} ({n}) belongs to no EPCI" for c, n in orphans[["code", "nom"]].itertuples(index=False)]
    summary = Nesting("epci", "*", "every EPCI", "commune", len(epci), not failed,
                      [f"EPCI {n.code}: {e}" for n in failed for e in n.exceptions], notes)
    results = [summary]
    results += [check_grouping(scales, c) for c in scales["grouping"]["code"]]
    results += [check_region(scales, c) for c in scales["region"]["code"]]
    return results
