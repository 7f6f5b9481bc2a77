"""Zonings published as one dissolved polygon (no commune codes): each commune's share of area inside.

The share is computed once per build, on whole arrays (STRtree pairs, intersection areas in Lambert-93); the
rule that turns a share into a membership lives with the programme (geo/programmes.py).
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.config import Settings
from geo.readers import ReadReport, read_boundaries
from geo.scales import LAMBERT_93
from geo.sources import catalogue, fetch

#: Datasets read as one zoning polygon each.
ZONINGS = ("zrr-2019",)


def empty_shares() -> pd.DataFrame:
    """No zoning (the datasets are not available)."""
    return pd.DataFrame({"zone": pd.Series(dtype=str), "commune": pd.Series(dtype=str), "share": pd.Series(dtype=float)})


def commune_shares(zone: shapely.Geometry, communes: gpd.GeoDataFrame) -> pd.Series:
    """Share of each commune's area (0 to 1) inside a zone, indexed by commune code (both in the communes' CRS)."""
    parts = gpd.GeoSeries(shapely.get_parts(zone), crs=communes.crs).to_crs(LAMBERT_93).values
    geoms = communes.geometry.to_crs(LAMBERT_93).values
    ci, pi = shapely.STRtree(parts).query(geoms, predicate="intersects")
    inside = pd.Series(shapely.area(shapely.intersection(geoms[ci], parts[pi]))).groupby(ci).sum()
    area = pd.Series(shapely.area(geoms))
    return (inside.reindex(area.index, fill_value=0.0) / area).clip(upper=1.0).set_axis(communes["code"].to_numpy())


def zone_shares(settings: Settings, report: ReadReport, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """(zone, commune, share) for every declared zoning and every commune with a part inside."""
    frames = []
    for dataset in ZONINGS:
        gdf = read_boundaries(fetch(catalogue()[dataset], settings), report, columns={"code": "id", "nom": "lib"})
        zone = shapely.union_all(gdf.geometry.values)
        share = commune_shares(zone, communes)
        share = share[share > 0]
        frames.append(pd.DataFrame({"zone": dataset, "commune": share.index, "share": share.to_numpy()}))
    return pd.concat(frames, ignore_index=True)
