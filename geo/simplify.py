"""Scales simplified for display: the communes as a coverage (shared edges stay shared, no slivers),
every other scale dissolved from those simplified communes so the nested scales keep fitting inside
each other; coordinates rounded to 1e-5° (about 1 m). Computed once per (level, tolerance).
"""
from __future__ import annotations

import math
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.heap import release

METRES_PER_DEGREE = 111_320.0
DECIMALS = 5
#: Simplification tolerances offered, in metres (about one screen pixel at zoom 14 … 5); 0 = as built.
TOLERANCES_M = (0, 7, 14, 28, 55, 111, 222, 443, 887, 1774, 3548)
#: Communes at a coarser tolerance than this one are simplified from the communes simplified at it (a coverage again,
#: with a ninth of the vertices of France's as built): a région's or the nation's views cost one simplification of
#: the full coverage (about 240 MiB while it runs, for France) instead of one per tolerance.
CASCADE_FROM_M = 887


def snap_tolerance(metres: float) -> int:
    """The largest offered tolerance not above ``metres`` (so a layer is cached per offered value)."""
    return max(t for t in TOLERANCES_M if t <= metres)


def tolerance_for_zoom(zoom: int, pixels: float = 1.0, latitude: float = 43.6) -> int:
    """A tolerance of about ``pixels`` screen pixels (256-pixel tiles) at a web-map zoom level, snapped."""
    metres_per_pixel = 156_543.03 * math.cos(math.radians(latitude)) / 2**zoom
    return snap_tolerance(pixels * metres_per_pixel * 1.02)  # the offered values are rounded


def _round(geoms: np.ndarray) -> np.ndarray:
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, DECIMALS))
    return shapely.remove_repeated_points(rounded)


def _parts(scales: dict[str, gpd.GeoDataFrame], level: str) -> list[np.ndarray]:
    """For each territory of ``level`` (in table order), the positions of its communes."""
    communes = scales["commune"]
    if level == "grouping":
        by_epci = pd.Series(np.arange(len(communes))).groupby(communes["epci"].to_numpy()).agg(list)
        return [np.array([i for e in str(epcis).split(";") for i in by_epci.get(e, [])], dtype=np.int64)
                for epcis in scales["grouping"]["epci"]]
    positions = pd.Series(np.arange(len(communes))).groupby(communes[level].to_numpy()).agg(list)
    return [np.array(positions.get(code, []), dtype=np.int64) for code in scales[level]["code"]]


class SimplifiedScales:
    """Simplified copies of a model's scales, keyed by (level, tolerance in metres); thread-safe."""

    def __init__(self, scales: dict[str, gpd.GeoDataFrame]):
        self._scales = scales
        self._communes: dict[float, np.ndarray] = {}
        self._cache: dict[tuple[str, float], gpd.GeoDataFrame] = {}
        self._lock = threading.RLock()

    def _simplified_communes(self, tolerance_m: float) -> np.ndarray:
        if tolerance_m not in self._communes:
            geoms = (self._simplified_communes(CASCADE_FROM_M) if tolerance_m > CASCADE_FROM_M
                     else self._scales["commune"].geometry.to_numpy())
            if tolerance_m > 0:
                geoms = shapely.coverage_simplify(geoms, tolerance_m / METRES_PER_DEGREE)
                release()
            self._communes[tolerance_m] = geoms
        return self._communes[tolerance_m]

    def get(self, level: str, tolerance_m: float) -> gpd.GeoDataFrame:
        """The scale ``level`` with geometries simplified at ``tolerance_m`` (0: as built) and rounded."""
        key = (level, float(tolerance_m))
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._build(level, float(tolerance_m))
            return self._cache[key]

    def _build(self, level: str, tolerance_m: float) -> gpd.GeoDataFrame:
        base = self._scales[level]
        if tolerance_m == 0:
            geoms = base.geometry.to_numpy()
        elif level == "commune":
            geoms = self._simplified_communes(tolerance_m)
        elif level == "quartier":  # not made of communes: each simplified alone
            geoms = shapely.simplify(base.geometry.to_numpy(), tolerance_m / METRES_PER_DEGREE, preserve_topology=True)
        else:
            communes = self._simplified_communes(tolerance_m)
            geoms = np.array([shapely.coverage_union_all(communes[idx]) for idx in _parts(self._scales, level)], dtype=object)
        return base.set_geometry(_round(geoms), crs=base.crs)
