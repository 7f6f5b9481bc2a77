"""Place names for the maps: one point per commune, EPCI, grouping and quartier, with its label class, the zooms at
which it is shown and its priority (geo/mapspec.py holds the rule); the web map (through the tiles) and the static
maps place them with the same greedy pass: by priority, a label that would overlap one already placed is left out.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import mapspec

#: The scale a label class names (a focus keeps the labels of its territories).
CLASS_LEVELS = {"capitale": "commune", "prefecture": "commune", "commune": "commune", "epci": "epci",
                "grouping": "grouping", "quartier": "quartier"}
COLUMNS = ["kind", "level", "code", "nom", "population", "min_zoom", "max_zoom", "rank", "geometry"]


def _inside_point(geoms: np.ndarray) -> np.ndarray:
    """The centroid where it lies inside, else a point on the surface."""
    centroids = shapely.centroid(geoms)
    inside = shapely.contains(geoms, centroids)
    return np.where(inside, centroids, shapely.point_on_surface(geoms))


def _own_areas(groupings: gpd.GeoDataFrame) -> np.ndarray:
    """Each grouping without the groupings inside it (their EPCI a strict subset of its own), so that nested groupings
    are named in different places; the whole grouping where nothing is left."""
    members = [frozenset(str(e).split(";")) for e in groupings["epci"]]
    geoms = groupings.geometry.to_numpy()
    out = []
    for i, own in enumerate(members):
        inner = [geoms[j] for j, other in enumerate(members) if j != i and other < own]
        rest = shapely.difference(geoms[i], shapely.union_all(inner)) if inner else geoms[i]
        out.append(geoms[i] if shapely.is_empty(rest) or shapely.area(rest) == 0 else rest)
    return np.array(out, dtype=object)


def label_points(scales: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Every place name of the scales, by priority (``rank`` 0 first): kind (label class), level, code, nom,
    population, min_zoom, max_zoom, point (WGS 84)."""
    frames = []
    communes = scales["commune"]
    capitals = set(scales["region"].get("cheflieu", pd.Series(dtype=str)).dropna().astype(str))
    prefectures = set(scales["departement"].get("cheflieu", pd.Series(dtype=str)).dropna().astype(str))
    codes = communes["code"].astype(str)
    kinds = np.where(codes.isin(capitals), "capitale", np.where(codes.isin(prefectures), "prefecture", "commune"))
    population = communes["population"].fillna(0).astype("int64").to_numpy()
    by_population = np.array([mapspec.commune_label_zoom(int(p)) for p in population], dtype=np.int64)
    floors = np.array([mapspec.LABEL_CLASSES[k].min_zoom for k in kinds], dtype=np.int64)
    frames.append(pd.DataFrame({"kind": kinds, "code": codes, "nom": communes["nom"].astype(str), "population": population,
                                "min_zoom": np.where(kinds == "commune", by_population, np.minimum(floors, by_population)),
                                "geometry": _inside_point(communes.geometry.to_numpy())}))

    def areas(kind: str, level: str, points: Callable[[gpd.GeoDataFrame], np.ndarray]) -> None:
        table = scales.get(level)
        if table is None or table.empty:
            return
        cls = mapspec.LABEL_CLASSES[kind]
        pop = table["population"] if "population" in table else pd.Series(0, index=table.index)
        frames.append(pd.DataFrame({"kind": kind, "code": table["code"].astype(str), "nom": table["nom"].astype(str),
                                    "population": pd.to_numeric(pop, errors="coerce").fillna(0).astype("int64").to_numpy(),
                                    "min_zoom": cls.min_zoom, "geometry": points(table)}))

    areas("grouping", "grouping", lambda t: _inside_point(_own_areas(t)))
    areas("epci", "epci", lambda t: _inside_point(t.geometry.to_numpy()))
    areas("quartier", "quartier", lambda t: shapely.point_on_surface(t.geometry.to_numpy()))
    table = pd.concat(frames, ignore_index=True)
    table["level"] = table["kind"].map(CLASS_LEVELS)
    table["max_zoom"] = table["kind"].map({k: c.max_zoom for k, c in mapspec.LABEL_CLASSES.items()}).astype("int64")
    order = {k: i for i, k in enumerate(mapspec.LABEL_CLASSES)}
    table["_order"] = table["kind"].map(order)
    table = table.sort_values(["min_zoom", "_order", "population", "nom"], ascending=[True, True, False, True], ignore_index=True)
    table["rank"] = np.arange(len(table), dtype=np.int64)
    return gpd.GeoDataFrame(table[COLUMNS], geometry="geometry", crs=communes.crs)


def shown_at(labels: gpd.GeoDataFrame, zoom: float) -> gpd.GeoDataFrame:
    """The labels shown at ``zoom``."""
    return labels[(labels["min_zoom"] <= zoom) & (labels["max_zoom"] >= zoom)]


Box = tuple[float, float, float, float]


def place(boxes: Iterable[list[Box]], padding: float = mapspec.LABEL_PADDING_PX) -> list[int | None]:
    """The greedy collision pass, labels given by priority, each with the boxes (x0, y0, x1, y1, in pixels) it may
    take in turn: the first box that overlaps no label already placed (grown by ``padding``), or None."""
    placed: list[Box] = []
    out: list[int | None] = []
    for options in boxes:
        choice = None
        for i, (x0, y0, x1, y1) in enumerate(options):
            if not any(x0 < b[2] + padding and b[0] - padding < x1 and y0 < b[3] + padding and b[1] - padding < y1 for b in placed):
                choice = i
                placed.append((x0, y0, x1, y1))
                break
        out.append(choice)
    return out
