"""Vintage reconciliation: 2018 commune polygons re-keyed to 2026 commune codes and dissolved."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import geopandas as gpd
import pandas as pd

from geo.cog import Cog
from geo.frames import isin


@dataclass
class ReconciliationReport:
    """How every 2018 polygon found its 2026 commune."""

    polygons_in: int
    direct: int
    rekeyed: dict[str, int]  # rule → count
    dissolved_into: int  # 2026 communes built from more than one 2018 polygon
    communes_out: int
    unplaced: list[str] = field(default_factory=list)
    rekeyed_codes: list[tuple[str, str, str]] = field(default_factory=list)  # (2018 code, 2026 code, rule)
    without_polygon: list[str] = field(default_factory=list)  # 2026 communes in scope with no polygon

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """Human-readable report."""
        total = sum(self.rekeyed.values())
        out = [
            f"2018 polygons in:          {self.polygons_in:,}",
            f"matched directly:          {self.direct:,}",
            f"re-keyed:                  {total:,}",
            *[f"  by {rule:<22} {n:,}" for rule, n in sorted(self.rekeyed.items())],
            f"dissolved into:            {self.dissolved_into:,} communes (from several 2018 polygons)",
            f"2026 communes out:         {self.communes_out:,}",
            f"unplaced 2018 codes:       {len(self.unplaced):,}" + (f" ({', '.join(self.unplaced)})" if self.unplaced else ""),
        ]
        if self.without_polygon:
            out.append(f"2026 communes with no polygon: {len(self.without_polygon)} ({', '.join(self.without_polygon[:20])})")
        return out


def reconcile(polygons: gpd.GeoDataFrame, cog: Cog) -> tuple[gpd.GeoDataFrame, ReconciliationReport]:
    """Attach each 2018 polygon to its 2026 commune and dissolve by the 2026 code.

    Rules, in order: the code is a 2026 commune-actuelle; else the chefLieu of its commune déléguée or
    associée record; else the commune-actuelle listing it in anciensCodes. Unplaced polygons are dropped
    and named in the report. Returns communes with code, nom (2026), departement, region, population.
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
