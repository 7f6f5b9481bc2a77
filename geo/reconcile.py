"""Vintage reconciliation: commune polygons of the geometry vintage re-keyed to the codes vintage and dissolved.

The vintages are those declared in boundaries/sources.yaml (today polygons of 2018, codes of 2026).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import geopandas as gpd
import pandas as pd

from geo.cog import Cog
from geo.frames import isin

#: The re-keying rules (geo/cog.py ``links``) as the pages name them.
RULE_LABELS = {"chefLieu-deleguee": "par la commune déléguée (chef-lieu)", "chefLieu-associee": "par la commune associée (chef-lieu)",
               "anciensCodes": "par les anciens codes de la commune nouvelle"}


@dataclass
class ReconciliationReport:
    """How every polygon of the geometry vintage found its commune of the codes vintage."""

    geometry_vintage: str  # the vintages as declared in boundaries/sources.yaml
    codes_vintage: str
    polygons_in: int
    direct: int
    rekeyed: dict[str, int]  # rule → count
    dissolved_into: int  # communes (codes vintage) built from more than one polygon (geometry vintage)
    communes_out: int
    unplaced: list[str] = field(default_factory=list)
    rekeyed_codes: list[tuple[str, str, str]] = field(default_factory=list)  # (old code, new code, rule)
    without_polygon: list[str] = field(default_factory=list)  # communes (codes vintage) in scope with no polygon

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """Human-readable report."""
        total = sum(self.rekeyed.values())
        old, new = self.geometry_vintage, self.codes_vintage
        rows = [
            (f"{old} polygons in", f"{self.polygons_in:,}"),
            ("matched directly", f"{self.direct:,}"),
            ("re-keyed", f"{total:,}"),
            *[(f"  by {rule}", f"{n:,}") for rule, n in sorted(self.rekeyed.items())],
            ("dissolved into", f"{self.dissolved_into:,} communes (from several {old} polygons)"),
            (f"{new} communes out", f"{self.communes_out:,}"),
            (f"unplaced {old} codes", f"{len(self.unplaced):,}" + (f" ({', '.join(self.unplaced)})" if self.unplaced else "")),
        ]
        width = max(len(label) for label, _ in rows) + 2
        out = [f"{label + ':':<{width}}{value}" for label, value in rows]
        if self.without_polygon:
            out.append(f"{new} communes with no polygon: {len(self.without_polygon)} ({', '.join(self.without_polygon[:20])})")
        return out


def reconcile(polygons: gpd.GeoDataFrame, cog: Cog, geometry_vintage: str, codes_vintage: str) -> tuple[gpd.GeoDataFrame, ReconciliationReport]:
    """Attach each polygon (geometry vintage) to its commune (codes vintage) and dissolve by the new code.

    Rules, in order: the code is a commune-actuelle of the codes vintage; else the chefLieu of its commune déléguée or
    associée record; else the commune-actuelle listing it in anciensCodes. Unplaced polygons are dropped
    and named in the report. Returns communes with code, nom (codes vintage), departement, region, population.
    """
    actual = cog.communes["code"]
    link = cog.links.set_index("code")
    code = polygons["code"].astype(str)
    is_direct = isin(code, actual)
    new_code = code.where(is_direct, code.map(link["parent"]))
    rule = pd.Series("direct", index=code.index).where(is_direct, code.map(link["rule"]))
    placed = new_code.notna() & isin(new_code, actual)

    keyed = polygons.loc[placed, ["geometry"]].assign(code=new_code[placed].to_numpy())
    dup = keyed["code"].duplicated(keep=False)
    single = keyed[~dup]
    merged = keyed[dup].dissolve(by="code", as_index=False) if dup.any() else keyed.iloc[0:0]
    communes = gpd.GeoDataFrame(pd.concat([single, merged], ignore_index=True), crs=polygons.crs)
    communes = communes.merge(cog.communes, on="code", how="left").sort_values("code", ignore_index=True)
    communes = communes[["code", "nom", "departement", "region", "population", "geometry"]]

    rekeyed_mask = placed & ~is_direct
    deps = set(communes["departement"].dropna())
    in_scope = cog.communes[isin(cog.communes["departement"], deps) & (cog.communes["zone"] != "com")]
    report = ReconciliationReport(
        geometry_vintage=geometry_vintage,
        codes_vintage=codes_vintage,
        polygons_in=len(polygons),
        direct=int(is_direct.sum()),
        rekeyed={str(k): int(v) for k, v in rule[rekeyed_mask].value_counts().items()},
        dissolved_into=int(keyed.loc[dup, "code"].nunique()),
        communes_out=len(communes),
        unplaced=sorted(code[~placed]),
        rekeyed_codes=sorted(zip(code[rekeyed_mask], new_code[rekeyed_mask], rule[rekeyed_mask])),
        without_polygon=sorted(set(in_scope["code"]) - set(communes["code"])),
    )
    return communes, report
