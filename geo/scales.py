"""Nested scales ("Russian dolls") built by dissolve from the 2026 communes.

commune ⊂ EPCI ⊂ grouping, and commune ⊂ département ⊂ région. Every scale is a GeoDataFrame in
WGS 84 with code, nom, level, parent codes, population and area_km2 (computed in Lambert-93, or the
official projected CRS of each overseas département).
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.cog import Cog
from geo.schemes import Scheme

LEVELS = ("commune", "epci", "departement", "region", "grouping")
#: Projected CRS for areas: Lambert-93 for metropolitan France, the official UTM CRS overseas.
AREA_CRS = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
LAMBERT_93 = 2154


def area_km2(gdf: gpd.GeoDataFrame, departement: pd.Series) -> pd.Series:
    """Areas in km², each geometry projected to the CRS of its département (never in degrees)."""
    crs = departement.map(AREA_CRS).fillna(LAMBERT_93).astype(int)
    out = pd.Series(0.0, index=gdf.index)
    for epsg, idx in crs.groupby(crs).groups.items():
        out[idx] = gdf.geometry.loc[idx].to_crs(epsg).area / 1e6
    return out


def _dissolve(gdf: gpd.GeoDataFrame, by: str) -> gpd.GeoDataFrame:
    """Union of adjacent polygons per key; the boundaries are a snapped coverage, so coverage union applies."""
    return gdf[[by, "geometry"]].dissolve(by=by, method="coverage", as_index=False)


def _joined(values: pd.Series) -> str:
    return ";".join(sorted(set(values.dropna())))


def build_scales(communes: gpd.GeoDataFrame, cog: Cog, groupings: list[Scheme]) -> dict[str, gpd.GeoDataFrame]:
    """Every scale from the reconciled communes, the official code tables and the grouping schemes."""
    epci_of = cog.epci_members.drop_duplicates("commune").set_index("commune")["epci"]
    com = communes.copy()
    com["level"] = "commune"
    com["epci"] = com["code"].map(epci_of).astype("string")
    com["area_km2"] = area_km2(com, com["departement"])

    # EPCI: geometry of the member communes in scope; population from the EPCI file
    in_scope = com.dropna(subset=["epci"])
    epci = _dissolve(in_scope, "epci").rename(columns={"epci": "code"})
    stats = in_scope.groupby("epci").agg(
        departements=("departement", _joined), regions=("region", _joined),
        area_km2=("area_km2", "sum"), communes=("code", "size"),
    )
    total = cog.epci_members.groupby("epci").size()
    epci = epci.merge(cog.epci, on="code", how="left").join(stats, on="code")
    epci["communes_total"] = epci["code"].map(total).astype("int64")
    epci["partial"] = epci["communes"] < epci["communes_total"]
    epci["level"] = "epci"

    dep = _dissolve(com, "departement").rename(columns={"departement": "code"})
    dep_stats = com.groupby("departement").agg(population=("population", "sum"), area_km2=("area_km2", "sum"))
    dep = dep.merge(cog.departements, on="code", how="left").join(dep_stats, on="code")
    dep["level"] = "departement"

    reg = _dissolve(com, "region").rename(columns={"region": "code"})
    reg_stats = com.groupby("region").agg(population=("population", "sum"), area_km2=("area_km2", "sum"))
    reg = reg.merge(cog.regions, on="code", how="left").join(reg_stats, on="code")
    reg["level"] = "region"

    grp = build_groupings(epci, groupings)

    def tidy(gdf: gpd.GeoDataFrame, cols: list[str]) -> gpd.GeoDataFrame:
        out = gpd.GeoDataFrame(gdf[["code", "nom", "level", *cols, "population", "area_km2", "geometry"]], crs=communes.crs)
        return out.sort_values("code", ignore_index=True)

    return {
        "commune": tidy(com, ["epci", "departement", "region"]),
        "epci": tidy(epci, ["type", "departements", "regions", "communes", "communes_total", "partial"]),
        "departement": tidy(dep, ["region", "cheflieu"]),
        "region": tidy(reg, ["cheflieu"]),
        "grouping": tidy(grp, ["kind", "epci", "departements", "regions"]),
    }


def build_groupings(epci: gpd.GeoDataFrame, groupings: list[Scheme]) -> gpd.GeoDataFrame:
    """Named groupings of EPCI (schemes declared with ``scale: true``), dissolved from their EPCI."""
    rows = pd.DataFrame(
        [(g.id, g.name, g.kind, m.code) for g in groupings for m in g.members],
        columns=["grouping", "nom", "kind", "epci"],
    )
    parts = epci[["code", "departements", "regions", "population", "area_km2", "geometry"]].merge(
        rows, left_on="code", right_on="epci", how="inner"
    )
    if parts.empty:
        return gpd.GeoDataFrame(columns=["code", "nom", "level", "kind", "epci", "departements", "regions",
                                         "population", "area_km2", "geometry"], geometry="geometry", crs=epci.crs)
    geom = _dissolve(gpd.GeoDataFrame(parts, crs=epci.crs), "grouping")
    stats = parts.groupby("grouping").agg(
        nom=("nom", "first"), kind=("kind", "first"), epci=("epci", _joined),
        departements=("departements", lambda s: _joined(s.str.split(";").explode())),
        regions=("regions", lambda s: _joined(s.str.split(";").explode())),
        population=("population", "sum"), area_km2=("area_km2", "sum"),
    )
    out = geom.join(stats, on="grouping").rename(columns={"grouping": "code"})
    out["level"] = "grouping"
    return out
