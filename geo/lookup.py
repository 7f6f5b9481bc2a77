"""Point lookup: which commune contains each (lon, lat), through a two-level grid over the commune polygons.

Build (once per model): every ring is rasterised onto a fine grid; the cells it passes through are *edge cells*,
each keeping its candidate polygons. Every other cell lies wholly inside the same polygons (or outside all), found
by an even-odd scanline fill at the cell centres. Fine cells are stored in BLOCK × BLOCK blocks, only where a
block holds an edge cell; any other coarse cell holds its answer itself. Lookup: two array reads per point, and
an exact test (prepared polygons, ``shapely.intersects_xy``) only for the points in edge cells.

A point on a boundary, touching several polygons, gets the lowest index among them (the communes are sorted by
code: the smallest code), exactly as brute force ``np.flatnonzero(shapely.intersects(geometries, point))[0]``.
"""
from __future__ import annotations

import numpy as np
import shapely

SHIFT = 4
BLOCK = 1 << SHIFT  # fine cells per block side
CELLS_PER_POLYGON = 64  # the default fine cell: an average polygon in 64 to 256 cells (a power of two) …
MAX_CELLS = 2_000_000  # … and at most this many cells inside polygons, to bound the grid's memory
CHUNK = 200_000  # vertices + filled cells built at a time, to bound the build's memory
PAD = 1e-6  # slack of the rasterised rings, in cell units (float error is below 1e-10 cell)
OUTSIDE = np.iinfo(np.int32).max  # a cell inside no polygon, while building (the lowest index wins)


def default_cell(areas: np.ndarray) -> float:
    """A power of two of the coordinate unit: an average polygon covers CELLS_PER_POLYGON to 4× cells, unless
    the polygons would cover more than MAX_CELLS cells (Occitanie: 1/256 of a degree; France: 1/128)."""
    total = float(np.nansum(areas))
    if total <= 0:
        return 1.0
    per_polygon = np.floor(np.log2(np.sqrt(total / len(areas) / CELLS_PER_POLYGON)))
    return float(2.0 ** max(per_polygon, np.ceil(np.log2(np.sqrt(total / MAX_CELLS)))))


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a plain sort: numpy's hash-based unique is several times slower on these keys)."""
    values = np.sort(values)
    return values[np.append(True, values[1:] != values[:-1])] if len(values) else values


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted keys: the distinct keys, and where each one's run starts (with the end appended)."""
    starts = np.flatnonzero(np.append(True, keys[1:] != keys[:-1])) if len(keys) else np.zeros(0, dtype=np.int64)
    return keys[starts], np.append(starts, len(keys)).astype(np.int32)


def _spread(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For integer ranges [lo, hi] (empty when hi < lo): the range's index and the value, for every value."""
    count = np.maximum(hi - lo + 1, 0)
    which = np.repeat(np.arange(len(lo)), count)
    return which, lo[which] + np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)


def _segments(geometries: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every ring segment of every polygon: start x, y, end x, y, and the polygon's index (ascending)."""
    parts, owner = shapely.get_parts(geometries, return_index=True)
    rings, part = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = np.flatnonzero(ring[1:] == ring[:-1])
    return xy[same, 0], xy[same, 1], xy[same + 1, 0], xy[same + 1, 1], owner[part[ring[same]]]


def _edge_cells(xa, ya, xb, yb) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segment, column, row) of every cell a segment passes through, in cell units (a superset near corners).

    The column range of a segment comes from its ends through the same arithmetic as a looked-up point, which is
    monotonic: every point of the segment falls in one of these cells. Within a column, the segment's row range
    is widened by PAD (more on steep segments) and bounded by the rows of its ends.
    """
    xlo, xhi, ylo, yhi = np.minimum(xa, xb), np.maximum(xa, xb), np.minimum(ya, yb), np.maximum(ya, yb)
    c0, c1 = np.floor(xlo).astype(np.int64), np.floor(xhi).astype(np.int64)
    r0, r1 = np.floor(ylo).astype(np.int64), np.floor(yhi).astype(np.int64)
    seg, col = _spread(c0, c1)
    dx, dy = xb - xa, yb - ya
    slope = np.divide(dy, dx, out=np.zeros_like(dy), where=dx != 0)[seg]
    left, right = np.maximum(col, xlo[seg]), np.minimum(col + 1, xhi[seg])
    y_left, y_right = ya[seg] + (left - xa[seg]) * slope, ya[seg] + (right - xa[seg]) * slope
    pad = PAD * (1 + np.abs(slope))
    lo = np.maximum(np.floor(np.minimum(y_left, y_right) - pad).astype(np.int64), r0[seg])
    hi = np.minimum(np.floor(np.maximum(y_left, y_right) + pad).astype(np.int64), r1[seg])
    one = np.flatnonzero((c0 == c1)[seg])  # a segment within one column (a vertical one too) spans its rows
    lo[one], hi[one] = r0[seg[one]], r1[seg[one]]
    which, row = _spread(lo, hi)
    return seg[which], col[which], row


def _centre_cells(xa, ya, xb, yb, owner) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(polygon, column, row) of every cell whose centre is inside the polygon, by an even-odd scanline fill.

    Row j's centre line y = j + 0.5 crosses a segment when its lower end <= j + 0.5 < its upper end: decided
    per vertex, so every ring crosses each line an even number of times and crossings pair up in order.
    """
    seg, row = _spread(np.ceil(np.minimum(ya, yb) - 0.5).astype(np.int64), np.ceil(np.maximum(ya, yb) - 0.5).astype(np.int64) - 1)
    x = xa[seg] + (row + 0.5 - ya[seg]) * (xb[seg] - xa[seg]) / (yb[seg] - ya[seg])
    order = np.lexsort((x, row, owner[seg]))
    x, row, polygon = x[order], row[order][0::2], owner[seg][order][0::2]
    which, col = _spread(np.ceil(x[0::2] - 0.5).astype(np.int64), np.ceil(x[1::2] - 0.5).astype(np.int64) - 1)
    return polygon[which], col, row[which]


class Locator:
    """Two-level grid over polygons (here communes, WGS 84): which polygon holds each point."""

    def __init__(self, geometries: np.ndarray, cell: float | None = None):
        self.geometries = np.asarray(geometries, dtype=object)
        shapely.prepare(self.geometries)
        n = len(self.geometries)
        areas = np.nan_to_num(shapely.area(self.geometries))
        self.cell = float(cell) if cell else default_cell(areas)
        bounds = shapely.total_bounds(self.geometries) if n else np.full(4, np.nan)
        xmin, ymin, xmax, ymax = bounds if np.isfinite(bounds).all() else (0.0, 0.0, 0.0, 0.0)
        self.x0, self.y0 = xmin - self.cell, ymin - self.cell  # a margin: no ring on the first row or column
        self.ncx = int((xmax - self.x0) / self.cell) // BLOCK + 1
        self.ncy = int((ymax - self.y0) / self.cell) // BLOCK + 1
        self.nx, self.ny = self.ncx * BLOCK, self.ncy * BLOCK
        if self.nx * self.ny * max(n, 1) >= 2**62:
            raise ValueError(f"a cell of {self.cell} is too small for polygons spanning {xmax - xmin} × {ymax - ymin}")
        # polygons in chunks of about CHUNK vertices and filled cells, to bound the build's memory
        weight = shapely.get_num_coordinates(self.geometries) + areas / self.cell**2
        cuts = np.append(np.flatnonzero(np.diff(np.cumsum(weight) // CHUNK, prepend=-1)), n)
        chunks = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:])]

        pairs = self._ring_pairs(chunks)
        edges, self.starts = _groups(pairs // n)
        self.candidates = (pairs % n).astype(np.int32)  # per edge cell, ascending
        del pairs
        self._allocate(edges)
        held = np.concatenate([np.zeros(0, dtype=np.int64), *(self._fill(chunk) for chunk in chunks)])
        if len(held):  # polygons overlap: add the polygons holding an edge cell whole
            edge = np.repeat(np.arange(len(edges)), np.diff(self.starts))
            pairs = _unique(np.concatenate([edge * n + self.candidates, held]))
            self.starts = np.searchsorted(pairs // n, np.arange(len(edges) + 1)).astype(np.int32)
            self.candidates = (pairs % n).astype(np.int32)
        self.coarse[self.coarse == OUTSIDE] = -1
        self.blocks[self.blocks == OUTSIDE] = -1

    def _allocate(self, edges: np.ndarray) -> None:
        """The coarse grid, and a block for each coarse cell holding an edge cell, with the edge cells marked."""
        row, col = edges // self.nx, edges % self.nx
        self.coarse = np.full(self.ncx * self.ncy, OUTSIDE, dtype=np.int32)
        mixed = _unique(self._coarse_index(row, col))
        self.coarse[mixed] = -2 - np.arange(len(mixed))
        self.blocks = np.full(len(mixed) * BLOCK * BLOCK, OUTSIDE, dtype=np.int32)
        self.blocks[self._block_index(row, col)] = -2 - np.arange(len(edges))

    def _segments(self, chunk: slice) -> tuple[np.ndarray, ...]:
        """The ring segments of a chunk of polygons, in cell units (the same arithmetic as locate())."""
        xa, ya, xb, yb, owner = _segments(self.geometries[chunk])
        return ((xa - self.x0) / self.cell, (ya - self.y0) / self.cell, (xb - self.x0) / self.cell, (yb - self.y0) / self.cell,
                owner + chunk.start)

    def _ring_pairs(self, chunks: list[slice]) -> np.ndarray:
        """(cell key) × n + polygon for every cell a polygon's ring passes through, sorted."""
        pairs = [np.zeros(0, dtype=np.int64)]
        for chunk in chunks:
            xa, ya, xb, yb, owner = self._segments(chunk)
            seg, col, row = _edge_cells(xa, ya, xb, yb)
            pairs.append(_unique((row * self.nx + col) * len(self.geometries) + owner[seg]))
        return _unique(np.concatenate(pairs))

    def _fill(self, chunk: slice) -> np.ndarray:
        """Write the lowest polygon holding each cell centre into the grid, outside the edge cells; return the
        (edge cell) × n + polygon pairs of edge cells whose centre a polygon holds but none of its rings crosses:
        it holds them whole (where polygons overlap)."""
        polygon, col, row = _centre_cells(*self._segments(chunk))
        where = self._coarse_index(row, col)
        whole = self.coarse[where] >= 0  # a coarse cell without edge cells
        np.minimum.at(self.coarse, where[whole], polygon[whole].astype(np.int32))
        polygon, col, row = polygon[~whole], col[~whole], row[~whole]
        slot = self._block_index(row, col)
        at_edge = self.blocks[slot] <= -2
        np.minimum.at(self.blocks, slot[~at_edge], polygon[~at_edge].astype(np.int32))
        edge, polygon = -2 - self.blocks[slot[at_edge]].astype(np.int64), polygon[at_edge]
        start, count = self.starts[edge], self.starts[edge + 1] - self.starts[edge]
        crossing = np.zeros(len(edge), dtype=bool)
        for rank in range(count.max(initial=0)):
            crossing |= (count > rank) & (self.candidates[np.minimum(start + rank, len(self.candidates) - 1)] == polygon)
        return edge[~crossing] * len(self.geometries) + polygon[~crossing]

    def _coarse_index(self, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        return (row >> SHIFT) * self.ncx + (col >> SHIFT)

    def _block_index(self, row: np.ndarray, col: np.ndarray, coarse: np.ndarray | None = None) -> np.ndarray:
        """Index in self.blocks of fine cells in blocks (their coarse values when the caller has them)."""
        coarse = self.coarse[self._coarse_index(row, col)] if coarse is None else coarse
        return ((-2 - coarse.astype(np.int64)) << (2 * SHIFT)) + ((row & (BLOCK - 1)) << SHIFT) + (col & (BLOCK - 1))

    @property
    def nbytes(self) -> int:
        """Memory held by the grid's arrays."""
        return self.coarse.nbytes + self.blocks.nbytes + self.candidates.nbytes + self.starts.nbytes

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the polygon containing each point, or -1 when none does (NaN or infinite coordinates: -1)."""
        x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        fx, fy = (x - self.x0) / self.cell, (y - self.y0) / self.cell
        out = np.full(len(x), -1, dtype=np.int64)
        pts = np.flatnonzero((fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny))  # NaN compares false
        col, row = fx[pts].astype(np.int64), fy[pts].astype(np.int64)
        value = self.coarse[self._coarse_index(row, col)].astype(np.int64)
        fine = np.flatnonzero(value <= -2)
        value[fine] = self.blocks[self._block_index(row[fine], col[fine], value[fine])]
        out[pts] = np.maximum(value, -1)
        edge = np.flatnonzero(value <= -2)
        pts, edge = pts[edge], -2 - value[edge]
        start, count = self.starts[edge], self.starts[edge + 1] - self.starts[edge]
        rank = 0
        while len(pts):  # the candidates in index order: the first that holds the point wins
            polygon = self.candidates[start + rank]
            hit = shapely.intersects_xy(self.geometries[polygon], x[pts], y[pts])
            out[pts[hit]] = polygon[hit]
            rank += 1
            left = ~hit & (count > rank)
            pts, start, count = pts[left], start[left], count[left]
        return out
