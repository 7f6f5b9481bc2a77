"""The quartier scale: priority neighbourhoods (QPV) of the 2015 generation, below the commune.

Read through the boundary reader (CRS check, make_valid, report). A quartier lies in the communes that hold
at least ``MIN_SHARE`` of its area (Lambert-93, on the build's commune polygons): slivers along a commune limit,
due to the simplified boundaries, do not count, and a quartier astride two communes lies in both.
"""
from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.config import Settings
from geo.readers import ReadReport, read_boundaries
from geo.scales import LAMBERT_93
from geo.sources import catalogue, fetch

DATASET = "qpv-2015-occitanie"
#: A quartier lies in a commune holding at least this share of its area.
MIN_SHARE = 0.02
#: The generation the quartier polygons belong to, and its period (sources in boundaries/schemes/SOURCES.md).
GENERATION = "2015"
START, END = dt.date(2015, 1, 1), dt.date(2023, 12, 31)
COLUMNS = ["code", "nom", "level", "commune", "communes", "epci", "departement", "region", "generation", "start", "end",
           "population", "area_km2", "geometry"]


def empty_scale() -> gpd.GeoDataFrame:
    """A quartier scale with no quartier (the dataset is not available)."""
    return gpd.GeoDataFrame(columns=COLUMNS, geometry="geometry", crs="EPSG:4326")


def empty_links() -> pd.DataFrame:
    return pd.DataFrame({"quartier": pd.Series(dtype=str), "commune": pd.Series(dtype=str), "share": pd.Series(dtype=float)})


def quartier_communes(quartiers: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, min_share: float = MIN_SHARE) -> pd.DataFrame:
    """(quartier, commune, share) for every commune holding at least ``min_share`` of a quartier's area."""
    q = quartiers.geometry.to_crs(LAMBERT_93).values
    c = communes.geometry.to_crs(LAMBERT_93).values
    qi, ci = shapely.STRtree(c).query(q, predicate="intersects")
    share = shapely.area(shapely.intersection(q[qi], c[ci])) / shapely.area(q[qi])
    links = pd.DataFrame({"quartier": quartiers["code"].to_numpy()[qi], "commune": communes["code"].to_numpy()[ci], "share": share})
    return links[links["share"] >= min_share].sort_values(["quartier", "share"], ascending=[True, False], ignore_index=True)


def build_quartiers(raw: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The quartier scale (code, nom, main commune and all its communes, parents, period, area) and its commune links.

    ``raw`` has the columns code, nom, commune (the main commune's INSEE code) and geometry."""
    q = raw[raw["commune"].isin(communes["code"])].reset_index(drop=True)  # in scope: its main commune is
    links = quartier_communes(q, communes)
    parents = communes.set_index("code")[["epci", "departement", "region"]]
    q = q.join(parents, on="commune")
    q["communes"] = q["code"].map(links.groupby("quartier")["commune"].agg(";".join)).fillna(q["commune"])
    q["level"] = "quartier"
    q["generation"], q["start"], q["end"] = GENERATION, START, END
    q["population"] = pd.array([pd.NA] * len(q), dtype="Int64")  # the source gives no population
    q["area_km2"] = q.geometry.to_crs(LAMBERT_93).area.to_numpy() / 1e6
    scale = gpd.GeoDataFrame(q[COLUMNS], geometry="geometry", crs=communes.crs).sort_values("code", ignore_index=True)
    for col in ("code", "nom", "commune", "communes", "epci", "departement", "region", "generation"):
        scale[col] = scale[col].astype("string")
    return scale, links[links["quartier"].isin(scale["code"])].reset_index(drop=True)


def load_quartiers(settings: Settings, report: ReadReport, communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read the QPV 2015 polygons (mirror or download) into the quartier scale and its commune links."""
    dataset = catalogue()[DATASET]  # its `columns` map the model's code, nom, commune to the file's
    return build_quartiers(read_boundaries(fetch(dataset, settings), report, columns=dataset.columns), communes)


def locate(tree: shapely.STRtree, lon: float, lat: float) -> np.ndarray:
    """Row positions of the quartiers containing a point (none, or one: quartiers of one generation do not overlap), from
    the tree of the quartier scale's geometries."""
    return tree.query(shapely.Point(lon, lat), predicate="intersects")
