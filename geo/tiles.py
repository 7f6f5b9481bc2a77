"""Mapbox Vector Tiles of the scales, one tile (level, z, x, y) at a time, with a level of detail per zoom band.

A tile is cut from the scale simplified for its zoom (geo.simplify: coverage-preserving, so neighbouring
communes keep one shared edge) at about one screen pixel, snapped to the offered tolerances:

1. the territories whose box meets the tile (plus a buffer of ``BUFFER_PX`` pixels) are taken from the
   STRtree of the simplified scale;
2. their geometries are projected to Web Mercator tile units and clipped to the buffered tile
   (``shapely.transform`` and ``shapely.clip_by_rect`` on the whole array);
3. snapped to the tile grid (``shapely.set_precision``, which keeps them valid) and oriented as the MVT
   specification wants (``shapely.orient_polygons``); a territory too small to survive the grid is kept as
   a one-unit square at a point inside it, so every territory of the tile is still there to hover;
4. encoded with ``mapbox-vector-tile``: one layer per level, named after it (a tile may hold several levels),
   properties per band.

Zoom bands (tiles of 256 pixels, zoom 0 … ``MAX_ZOOM``), the same for every level so that nested outlines
(commune ⊂ EPCI ⊂ département ⊂ région, groupings) coincide exactly on screen:

==========  ==========================  =======  ==========================================
zoom        tolerance                   extent   properties
==========  ==========================  =======  ==========================================
0 – 6       ~4 px (snapped)             256      code, nom — no commune (empty tile)
7 – 9       ~4 px                       256      code, nom; communes: ``d`` (code), whole
10 – 13     ~1 px                       1024     code, nom; communes: code, nom, epci
14 – 18     ~1 px (as built from z15)   4096     code, nom; communes: code, nom, epci
==========  ==========================  =======  ==========================================

Below zoom 7 the commune layer is empty: France's 34,868 communes never travel together; the EPCI,
départements, régions and groupings carry the view. Zooms 7 – 9 show a whole région's communes at once, so
their tiles are kept small: a tolerance of about 4 pixels (coverage simplification keeps the junctions of
three communes, so the shapes stay recognisable), whole-pixel coordinates, the code only (the name is
one request away, /api/communes/{code}), and each commune **once and whole** (:func:`whole`): in the tile where
its point on surface lies, not clipped, so no commune travels twice and no vertex is added along tile edges (a map
draws these tiles past their edges, by up to ``WHOLE_PAD_PX``; the few communes reaching further, none in Occitanie,
16 of France's at zoom 9, are clipped into each tile they meet as at deeper zooms). The features come in the order
of their :func:`code_number`, and the code as one property ``d``, the difference from the previous feature's number
(the first: its own; :func:`layer_codes` decodes a layer): a few bits where an MVT id would take three bytes. Deeper
tiles hold few communes and carry names. The quartiers (priority neighbourhoods) come from zoom ``mapspec.QUARTIER_ZOOM``.

Two layers are not scales:

- ``edge``: the boundaries of the nested scales (geo/dolls.py), every boundary once, as lines with ``m`` the mask
  of the dolls it bounds (bit ``i`` for ``Dolls.keys[i]``, outermost first) and its inner side on its left as seen
  on the map (y down: the side (dy, −dx)); a map draws each doll's lines side by side from them. One layer instead of a layer per scale: a
  boundary of the EPCI, the département and the région travels once.
- ``label``: the place names shown at the tile's zoom (geo/labels.py) whose point lies in the tile (each in one
  tile): ``nom``, ``kind`` (the label class) and ``rank`` (priority, 0 first).

Coordinates are in tile units with the y axis down (MVT 2.1).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import shapely

from geo import mapspec
from geo.dolls import Dolls, edges
from geo.readers import polygonal
from geo.simplify import SimplifiedScales, tolerance_for_zoom
from geo.territory import LEVELS

TILE_LAYERS = (*LEVELS, "edge", "label")  # the scales (polygons), the doll boundaries and the place names
MAX_ZOOM = 18
TILE_PIXELS = 256
#: Pixels of data kept around a tile, so that the edges made by clipping (and the outlines drawn along them,
#: up to half their width plus the hover highlight) stay out of sight: thin commune lines need less, the doll
#: lines laid side by side more.
BUFFER_PX = {"commune": 2, "edge": 10}
DEFAULT_BUFFER_PX = 4
#: Bump when the content of a tile changes for the same data (bands, properties), so caches refetch.
TILE_FORMAT = "5"
POLYGONAL = (int(shapely.GeometryType.POLYGON), int(shapely.GeometryType.MULTIPOLYGON))


@dataclass(frozen=True)
class Band:
    """How tiles are cut from ``min_zoom`` on (until the next band): tolerance in screen pixels, extent."""

    min_zoom: int
    pixels: float
    extent: int


#: Bands by increasing min_zoom, shared by every level.
BANDS: tuple[Band, ...] = (Band(0, 4.0, 256), Band(10, 1.0, 1024), Band(14, 1.0, 4096))
#: First zoom at which a level has features (0 when not listed).
MIN_ZOOM: dict[str, int] = {"commune": 7, "quartier": mapspec.QUARTIER_ZOOM}
#: Zoom from which commune tiles carry the name and the EPCI besides the code (below it, from the commune layer's
#: first zoom: each commune whole, once, its code as a difference ``d``).
NAMES_ZOOM = 10
#: How far past its tile (screen pixels) a whole commune may reach; one reaching further is clipped into every tile.
WHOLE_PAD_PX = 64


def band(z: int) -> Band:
    """The band of zoom ``z``."""
    return [b for b in BANDS if z >= b.min_zoom][-1]


_CORSICA = {"2A": 1_000_000, "2B": 2_000_000}


def code_number(code: str) -> int:
    """A commune code as a number (whole-commune tiles order and difference them): the number itself, Corsica (2A,
    2B) offset past every other code."""
    return _CORSICA[code[:2]] + int(code[2:]) if code[:2] in _CORSICA else int(code)


def number_code(number: int) -> str:
    """The commune code of a number (inverse of :func:`code_number`)."""
    for prefix, offset in sorted(_CORSICA.items(), key=lambda kv: -kv[1]):
        if number >= offset:
            return f"{prefix}{number - offset:03d}"
    return f"{number:05d}"


def layer_codes(features: list[dict]) -> list[str]:
    """The commune codes of a decoded whole-commune layer's features (their ``d``, summed in order)."""
    return [number_code(int(n)) for n in np.cumsum([f["properties"]["d"] for f in features])]


def whole_below(level: str) -> int:
    """The zoom below which tiles of ``level`` hold each territory once and whole (communes: NAMES_ZOOM; others: 0)."""
    return NAMES_ZOOM if level == "commune" else 0


def whole(level: str, z: int) -> bool:
    """Whether tiles of ``level`` at zoom ``z`` hold each territory once and whole."""
    return z < whole_below(level)


def min_zoom(level: str) -> int:
    """The first zoom at which ``level`` has features."""
    return MIN_ZOOM.get(level, 0)


def properties(level: str, z: int) -> tuple[str, ...]:
    """The properties tiles of ``level`` carry at zoom ``z``."""
    if level == "commune":
        return ("code", "nom", "epci") if z >= NAMES_ZOOM else ("d",)  # below: the code as a difference
    return ("code", "nom")


def tolerance(z: int) -> int:
    """Simplification tolerance (metres, one of the offered values) of tiles at zoom ``z``."""
    return tolerance_for_zoom(z, band(z).pixels)


def _lon_to_x(lon: np.ndarray, z: int) -> np.ndarray:
    return (np.asarray(lon) + 180.0) / 360.0 * 2**z


def _lat_to_y(lat: np.ndarray, z: int) -> np.ndarray:
    lat = np.clip(np.asarray(lat, dtype=float), -85.0511287798, 85.0511287798)
    return (1.0 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2.0 * 2**z


def _x_to_lon(x: float, z: int) -> float:
    return x / 2**z * 360.0 - 180.0


def _y_to_lat(y: float, z: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y / 2**z))))


def tile_bounds(z: int, x: int, y: int, buffer: float = 0.0) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of tile (z, x, y), widened by ``buffer`` tiles on each side."""
    return (_x_to_lon(x - buffer, z), _y_to_lat(y + 1 + buffer, z), _x_to_lon(x + 1 + buffer, z), _y_to_lat(y - buffer, z))


def tiles_covering(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    """Every tile (z, x, y) that meets ``bounds`` = (west, south, east, north) in degrees."""
    w, s, e, n = bounds
    n_tiles = 2**z
    x0, x1 = (int(np.clip(np.floor(_lon_to_x(v, z)), 0, n_tiles - 1)) for v in (w, e))
    y0, y1 = (int(np.clip(np.floor(_lat_to_y(v, z)), 0, n_tiles - 1)) for v in (n, s))
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


@dataclass(frozen=True)
class _Prepared:
    """One scale at one tolerance, ready to cut: geometries, their STRtree and the property columns."""

    geometries: np.ndarray
    tree: shapely.STRtree
    codes: np.ndarray
    columns: dict[str, np.ndarray]
    anchors: np.ndarray  # (n × 2) lon, lat of each territory's point on surface: the tile that holds it whole


class TileSet:
    """Vector tiles of a model's scales, doll boundaries and place names (thread-safe; prepared layers are kept per
    level and tolerance)."""

    def __init__(self, simplified: SimplifiedScales, dolls: Dolls | None = None, labels: gpd.GeoDataFrame | None = None):
        self._simplified = simplified
        self._dolls = dolls  # without them, tiles have no doll boundaries
        self._labels = labels  # nor place names
        self._label_xy = shapely.get_coordinates(labels.geometry.to_numpy()) if labels is not None else None
        self._prepared: dict[tuple[str, int], _Prepared] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, model) -> TileSet:  # noqa: ANN001 (geo.model imports this module's users)
        """The tiles of a model."""
        return cls(model.simplified, model.dolls, model.labels)

    def _prepare(self, level: str, tolerance_m: int) -> _Prepared:
        key = (level, tolerance_m)
        with self._lock:
            if key in self._prepared:
                return self._prepared[key]
        # built outside the lock: tiles of layers already prepared keep being served meanwhile
        gdf: gpd.GeoDataFrame = self._simplified.get(level, tolerance_m)
        geometries = gdf.geometry.to_numpy()
        columns = {c: gdf[c].astype(str).to_numpy(dtype=object) for c in ("code", "nom") if c in gdf}
        if level == "commune":
            columns["epci"] = gdf["epci"].where(gdf["epci"].notna(), "").astype(str).to_numpy(dtype=object)
        held_whole = any(whole(level, z) and tolerance(z) == tolerance_m for z in range(MAX_ZOOM + 1))
        anchors = shapely.get_coordinates(shapely.point_on_surface(geometries)) if held_whole else np.empty((0, 2))
        prepared = _Prepared(geometries, shapely.STRtree(geometries), columns["code"], columns, anchors)
        with self._lock:
            return self._prepared.setdefault(key, prepared)

    @staticmethod
    def _to_tile(z: int, x: int, y: int, extent: int):  # noqa: ANN205
        def to_tile(coords: np.ndarray) -> np.ndarray:
            return np.column_stack(((_lon_to_x(coords[:, 0], z) - x) * extent, (_lat_to_y(coords[:, 1], z) - y) * extent))
        return to_tile

    @staticmethod
    def _reach(geometries: np.ndarray, ax: np.ndarray, ay: np.ndarray, z: int) -> np.ndarray:
        """How far (in tiles) each of ``geometries`` reaches past its tile (ax, ay) at zoom ``z``."""
        bounds = shapely.bounds(geometries)
        return np.maximum.reduce([ax - _lon_to_x(bounds[:, 0], z), _lon_to_x(bounds[:, 2], z) - ax - 1,
                                  ay - _lat_to_y(bounds[:, 3], z), _lat_to_y(bounds[:, 1], z) - ay - 1, np.zeros(len(ax))])

    def features(self, level: str, z: int, x: int, y: int, codes: frozenset[str] | None = None) -> tuple[Band, np.ndarray, np.ndarray] | None:
        """(band, positions, geometries in tile units) of the territories of a scale in a tile; None if it has none."""
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        if not valid_tile(z, x, y):
            raise ValueError(f"no tile {z}/{x}/{y}")
        if z < min_zoom(level):
            return None
        b = band(z)
        layer = self._prepare(level, tolerance(z))
        buffer = BUFFER_PX.get(level, DEFAULT_BUFFER_PX) / TILE_PIXELS
        idx = np.sort(layer.tree.query(shapely.box(*tile_bounds(z, x, y, buffer))))
        if codes is not None and len(idx):
            idx = idx[np.isin(layer.codes[idx], list(codes))]
        cut = np.ones(len(idx), dtype=bool)  # clipped to the tile, else whole
        if whole(level, z) and len(idx):  # each territory in the one tile where its point on surface lies, but the largest
            ax, ay = np.floor(_lon_to_x(layer.anchors[idx, 0], z)), np.floor(_lat_to_y(layer.anchors[idx, 1], z))
            cut = self._reach(layer.geometries[idx], ax, ay, z) > WHOLE_PAD_PX / TILE_PIXELS
            keep = cut | ((ax == x) & (ay == y))
            idx, cut = idx[keep], cut[keep]
        if not len(idx):
            return None

        extent = b.extent
        edge = buffer * extent
        clipped = shapely.transform(layer.geometries[idx], self._to_tile(z, x, y, extent))
        clipped[cut] = shapely.clip_by_rect(clipped[cut], -edge, -edge, extent + edge, extent + edge)
        present = ~shapely.is_empty(clipped)
        idx, clipped = idx[present], clipped[present]
        if not len(idx):
            return None
        snapped = shapely.set_precision(clipped, 1.0)
        lost = shapely.is_empty(snapped) | (shapely.area(snapped) == 0)
        if lost.any():  # smaller than the grid: a one-unit square where the territory is
            xy = np.floor(shapely.get_coordinates(shapely.point_on_surface(clipped[lost])))
            snapped[lost] = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 1, xy[:, 1] + 1)
        mixed = ~np.isin(shapely.get_type_id(snapped), POLYGONAL)  # rare: a collection after clipping; keep its polygons
        if mixed.any():
            snapped[mixed] = polygonal(snapped[mixed])
        return b, idx, shapely.orient_polygons(snapped)

    def edges(self, z: int, x: int, y: int, codes: dict[str, frozenset[str]] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """(masks, lines in tile units) of the doll boundaries in a tile (geo/dolls.py), or None. With ``codes`` (per
        level, a focus), a doll's boundary is kept where it bounds one of its kept territories."""
        if not valid_tile(z, x, y):
            raise ValueError(f"no tile {z}/{x}/{y}")
        if self._dolls is None:
            return None
        communes = self._prepare("commune", tolerance(z))
        buffer = BUFFER_PX["edge"] / TILE_PIXELS
        idx = np.sort(communes.tree.query(shapely.box(*tile_bounds(z, x, y, buffer))))
        if not len(idx):
            return None
        keep = self._dolls.keep(codes) if codes is not None else None
        found = edges(communes.geometries[idx], idx, self._dolls, keep)
        if not len(found.lines):
            return None
        extent = band(z).extent
        edge = buffer * extent
        lines = shapely.clip_by_rect(shapely.transform(found.lines, self._to_tile(z, x, y, extent)),
                                     -edge, -edge, extent + edge, extent + edge)
        lines = shapely.set_precision(lines, 1.0)
        present = ~shapely.is_empty(lines) & (shapely.length(lines) > 0)
        if not present.any():
            return None
        return found.masks[present], lines[present]

    def labels(self, z: int, x: int, y: int, codes: dict[str, frozenset[str]] | None = None) -> dict | None:
        """The MVT layer of the place names shown at zoom ``z`` whose point lies in the tile, or None."""
        if not valid_tile(z, x, y):
            raise ValueError(f"no tile {z}/{x}/{y}")
        if self._labels is None:
            return None
        west, south, east, north = tile_bounds(z, x, y)
        lon, lat = self._label_xy[:, 0], self._label_xy[:, 1]
        table = self._labels
        take = ((table["min_zoom"].to_numpy() <= z) & (table["max_zoom"].to_numpy() >= z)
                & (lon >= west) & (lon < east) & (lat > south) & (lat <= north))
        if codes is not None:
            levels = table["level"].to_numpy()
            for level in np.unique(levels[take]):
                here = take & (levels == level)
                take[here] = np.isin(table["code"].to_numpy()[here], list(codes.get(level, ())))
        idx = np.flatnonzero(take)
        if not len(idx):
            return None
        extent = band(z).extent
        xy = np.floor(self._to_tile(z, x, y, extent)(self._label_xy[idx])).astype(int)
        rows = table.iloc[idx]
        return {"name": "label", "features": [{"geometry": shapely.Point(px, py), "properties": {"nom": n, "kind": k, "rank": int(r)}}
                                              for (px, py), n, k, r in zip(xy, rows["nom"], rows["kind"], rows["rank"])]}

    def layer(self, level: str, z: int, x: int, y: int, codes: dict[str, frozenset[str]] | None = None) -> dict | None:
        """The MVT layer (for mapbox_vector_tile.encode) of ``level`` in one tile, or None if nothing of it is there.
        ``codes`` keeps, per level, only those territories (a focus)."""
        if level == "label":
            return self.labels(z, x, y, codes)
        if level == "edge":
            found = self.edges(z, x, y, codes)
            return None if found is None else {"name": "edge", "features": [{"geometry": g, "properties": {"m": int(m)}}
                                                                           for m, g in zip(*found)]}
        found = self.features(level, z, x, y, None if codes is None else codes.get(level))
        if found is None:
            return None
        _, idx, geometries = found
        prepared = self._prepare(level, tolerance(z))
        if whole(level, z):  # in the order of their numbers, each code as the difference from the previous one
            numbers = np.fromiter((code_number(c) for c in prepared.codes[idx]), dtype=np.int64, count=len(idx))
            order = np.argsort(numbers)
            return {"name": level, "features": [{"geometry": geometries[i], "properties": {"d": int(d)}}
                                                for i, d in zip(order, np.diff(numbers[order], prepend=0))]}
        columns = [(name, prepared.columns[name][idx]) for name in properties(level, z)]
        return {"name": level, "features": [{"geometry": geometry, "properties": {name: values[i] for name, values in columns}}
                                            for i, geometry in enumerate(geometries)]}

    def encode_layers(self, levels: tuple[str, ...], z: int, x: int, y: int,
                      codes: dict[str, frozenset[str]] | None = None) -> bytes:
        """One tile holding a layer per level (named after it; a level with nothing there is left out),
        or b"" when none of them has anything in it. ``codes`` keeps, per level, only those territories."""
        for level in levels:
            if level not in TILE_LAYERS:
                raise ValueError(f"unknown level {level!r}")
        layers = [layer for level in levels if (layer := self.layer(level, z, x, y, codes)) is not None]
        if not layers:
            return b""
        return mapbox_vector_tile.encode(layers, default_options={"extents": band(z).extent, "y_coord_down": True,
                                                                  "check_winding_order": False})

    def encode(self, level: str, z: int, x: int, y: int, codes: frozenset[str] | None = None) -> bytes:
        """The MVT of one tile (one layer named ``level``), or b"" when nothing of ``level`` is in it.

        ``codes`` keeps only those territories (e.g. the communes inside a focused territory).
        """
        return self.encode_layers((level,), z, x, y, None if codes is None else {level: codes})
