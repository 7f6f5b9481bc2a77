"""Point lookup: which commune contains each (lon, lat), through an STRtree, vectorised for many points."""
from __future__ import annotations

import numpy as np
import shapely
from shapely import STRtree


class Locator:
    """Spatial index over commune polygons (WGS 84)."""

    def __init__(self, geometries: np.ndarray):
        self.geometries = geometries
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the polygon containing each point, or -1 when none does (boundary points: the first hit)."""
        points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        point_idx, geom_idx = self.tree.query(points, predicate="intersects")
        out = np.full(len(points), -1, dtype=np.int64)
        first = np.unique(point_idx, return_index=True)[1]  # pairs are sorted by point index
        out[point_idx[first]] = geom_idx[first]
        return out
