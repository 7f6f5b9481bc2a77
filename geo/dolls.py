"""The nested scales' boundaries, each once, with the dolls it bounds: so that the maps draw every doll side by side
where boundaries coincide (Toulouse Métropole inside the agglomeration inside the Dialogue métropolitain …).

The communes are a coverage: every boundary between two communes is a segment of both rings. Each segment is kept
once, with the *mask* of the dolls whose boundary it is (bit ``i`` for ``Dolls.keys[i]``, outermost first: the
région, the départements, the groupings from the outermost in, the EPCI): the bit of a scale is set where the
communes on its two sides lie in different territories of that scale (for a grouping: one side is a member, the
other is not; beyond the scope there is no commune). Every piece runs with its *inner side on its left* (y up): the
side inside more groupings, else the side inside the scope; so a renderer lays the lines of a piece side by side
from its right (the outermost doll) to its left (the innermost, :func:`geo.mapspec.doll_offsets`) and the outermost
scale is drawn outside. Pieces keep the communes' own vertices, so shared edges stay exact (no slivers).

A neighbour's vertex in the middle of a segment (a T-junction of the source coverage) splits that segment, so both
sides still pair up.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import mapspec

#: Distance under which a vertex lies on a segment (degrees: the boundaries are rounded to 1e-5°).
ON_SEGMENT_DEG = 1e-6


@dataclass(frozen=True)
class Dolls:
    """The doll lines of a model's scales, outermost first, and what each commune belongs to.

    ``keys``: 'region', 'departement', 'grouping:<id>' (outermost first), 'epci'; ``units``: (communes × keys) the
    territory of each commune per key, a position in ``names[key]`` (a grouping: 1 for a member, else 0; no
    territory: -1), in the order of the commune table; ``depth``: how many dolls hold each commune (inside the
    scope: 1, plus one per grouping).
    """

    keys: tuple[str, ...]
    names: tuple[np.ndarray, ...]
    units: np.ndarray
    depth: np.ndarray

    @classmethod
    def of(cls, scales: dict[str, gpd.GeoDataFrame]) -> Dolls:
        """The dolls of a model's scales (its commune table's order)."""
        communes = scales["commune"]
        grp = scales["grouping"]
        sizes = {c: (len(str(e).split(";")), p) for c, e, p in zip(grp["code"], grp["epci"], grp["population"])}
        keys = mapspec.doll_keys(mapspec.doll_order(sizes)[::-1])  # groupings outermost first
        epci = communes["epci"].astype(object).where(communes["epci"].notna(), None).to_numpy()
        columns, names = [], []
        for key in keys:
            level, _, code = key.partition(":")
            if code:
                members = set(str(grp.loc[grp["code"] == code, "epci"].iloc[0]).split(";"))
                columns.append(np.fromiter((e in members for e in epci), dtype=np.int32, count=len(epci)))
                names.append(np.array([code], dtype=object))
            else:
                units, uniques = pd.factorize(communes[level].astype(object).where(communes[level].notna(), None))
                columns.append(units.astype(np.int32))
                names.append(np.asarray(uniques, dtype=object))
        units = np.column_stack(columns) if columns else np.zeros((len(communes), 0), dtype=np.int32)
        grouping_cols = [i for i, k in enumerate(keys) if k.startswith("grouping:")]
        depth = 1 + units[:, grouping_cols].sum(axis=1)
        return cls(keys, tuple(names), units, depth.astype(np.int64))

    def outside(self) -> np.ndarray:
        """What lies beyond the scope, per key: no territory (-1), not in the grouping (0)."""
        return np.array([0 if k.startswith("grouping:") else -1 for k in self.keys], dtype=np.int32)

    def keep(self, codes: dict[str, frozenset[str]]) -> np.ndarray:
        """(communes × keys) whether a commune's territory of each key is among ``codes`` (per level; a level not
        given keeps everything): with a focus, a boundary is drawn for a key where it bounds a kept territory."""
        out = np.ones(self.units.shape, dtype=bool)
        for i, key in enumerate(self.keys):
            level, _, code = key.partition(":")
            if level not in codes:
                continue
            if code:
                out[:, i] = (self.units[:, i] == 1) & (code in codes[level])
            else:
                kept = np.isin(self.names[i], list(codes[level]))
                out[:, i] = (self.units[:, i] >= 0) & kept[np.maximum(self.units[:, i], 0)]
        return out


def _segments(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, owner) of every ring segment of ``polygons`` oriented so that the polygon is on the left."""
    parts, owner = shapely.get_parts(shapely.orient_polygons(polygons), return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    s = np.flatnonzero(ring[:-1] == ring[1:])
    return coords[s], coords[s + 1], owner[ring_part[ring[s]]]


def _points(xy: np.ndarray) -> np.ndarray:
    """One int64 per point: its coordinates to 1e-7 degree (about a centimetre), x above y (both in range in degrees)."""
    q = np.round((xy + (180.0, 90.0)) * 1e7).astype(np.int64)
    return (q[:, 0] << 31) | q[:, 1]


def _pair(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each segment, the index of the other segment with the same two ends, or -1."""
    a, b = _points(starts), _points(ends)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((hi, lo))
    same = (lo[order[1:]] == lo[order[:-1]]) & (hi[order[1:]] == hi[order[:-1]])
    twin = np.full(len(starts), -1, dtype=np.int64)
    first, second = order[:-1][same], order[1:][same]
    twin[first], twin[second] = second, first
    return twin


def _split_t_junctions(starts: np.ndarray, ends: np.ndarray, owner: np.ndarray, order: np.ndarray,
                       lonely: np.ndarray, tolerance: float) -> tuple[np.ndarray, ...]:
    """Split the ``lonely`` (unpaired) segments at the ends of other lonely segments lying on them (a T-junction:
    one side has a vertex the other lacks); the pieces keep their segment's place in ring ``order``."""
    if len(lonely) < 2:
        return starts, ends, owner, order
    lines = shapely.linestrings(np.stack((starts[lonely], ends[lonely]), axis=1))
    points = np.unique(np.concatenate((starts[lonely], ends[lonely])), axis=0)
    p, s = shapely.STRtree(lines).query(shapely.points(points), predicate="dwithin", distance=tolerance)
    a, b = starts[lonely[s]], ends[lonely[s]]
    inner = ~(np.all(points[p] == a, axis=1) | np.all(points[p] == b, axis=1))
    p, s = p[inner], s[inner]
    if not len(p):
        return starts, ends, owner, order
    d = b[inner] - a[inner]
    t = np.einsum("ij,ij->i", points[p] - a[inner], d) / np.einsum("ij,ij->i", d, d)
    cut = (t > 0) & (t < 1)
    p, s, t = p[cut], s[cut], t[cut]
    by = np.lexsort((t, s))
    p, s, t = p[by], s[by], t[by]
    split = lonely[np.unique(s)]
    # every split segment becomes its start, the points on it in order, its end
    seg = np.concatenate((lonely[s], split))
    pos = np.concatenate((t, np.ones(len(split))))
    pts = np.concatenate((points[p], ends[split]))
    by = np.lexsort((pos, seg))
    seg, pts = seg[by], pts[by]
    first = np.r_[True, seg[1:] != seg[:-1]]
    prev = np.where(first[:, None], starts[seg], np.roll(pts, 1, axis=0))
    sub = np.arange(len(seg)) - np.maximum.accumulate(np.where(first, np.arange(len(seg)), 0))
    keep = np.ones(len(starts), dtype=bool)
    keep[split] = False
    starts = np.concatenate((starts[keep], prev))
    ends = np.concatenate((ends[keep], pts))
    owner = np.concatenate((owner[keep], owner[seg]))
    # ring order: a piece takes its segment's place, then its rank along it
    order = np.concatenate((order[keep].astype(float), order[seg] + sub / (sub.max() + 2)))
    return starts, ends, owner, order


@dataclass(frozen=True)
class Edges:
    """Boundary pieces (LineStrings, inner side on the left) and the mask of the dolls each bounds."""

    lines: np.ndarray
    masks: np.ndarray


def edges(polygons: np.ndarray, rows: np.ndarray, dolls: Dolls, keep: np.ndarray | None = None,
          tolerance: float = ON_SEGMENT_DEG) -> Edges:
    """The doll boundaries among the commune ``polygons`` (rows ``rows`` of the commune table, y up): one piece per
    run of a ring bounding the same dolls, kept on its inner side. ``keep`` (communes × keys): a key is drawn on
    a piece only where it bounds a kept territory on either side. A boundary piece of no doll is left out."""
    starts, ends, owner = _segments(polygons)
    owner = np.asarray(rows)[owner]
    order = np.arange(len(starts), dtype=float)
    twin = _pair(starts, ends)
    lonely = np.flatnonzero(twin < 0)
    if len(lonely):
        starts, ends, owner, order = _split_t_junctions(starts, ends, owner, order, lonely, tolerance)
        by = np.argsort(order, kind="stable")
        starts, ends, owner = starts[by], ends[by], owner[by]
        twin = _pair(starts, ends)
    right = np.where(twin >= 0, owner[np.maximum(twin, 0)], -1)
    left_units = dolls.units[owner]
    right_units = np.where((right >= 0)[:, None], dolls.units[np.maximum(right, 0)], dolls.outside()[None, :])
    differs = left_units != right_units
    if keep is not None:
        differs &= keep[owner] | np.where((right >= 0)[:, None], keep[np.maximum(right, 0)], False)
    masks = (differs.astype(np.int64) << np.arange(len(dolls.keys), dtype=np.int64)).sum(axis=1)
    left_depth = dolls.depth[owner]
    right_depth = np.where(right >= 0, dolls.depth[np.maximum(right, 0)], 0)
    # at equal depth, the side of the smaller territory id of the outermost doll bounded, so that the copies kept along
    # a boundary between two territories all run the same way (and merge into one line)
    first, at = np.argmax(differs, axis=1), np.arange(len(owner))
    tie = left_units[at, first] < right_units[at, first]
    kept = (masks != 0) & ((left_depth > right_depth) | ((left_depth == right_depth) & tie))
    if not kept.any():
        return Edges(np.empty(0, dtype=object), np.empty(0, dtype=np.int64))
    idx = np.flatnonzero(kept)
    # a run: consecutive kept segments of one ring, end to start, with one mask
    joined = np.r_[False, (idx[1:] == idx[:-1] + 1) & (masks[idx[1:]] == masks[idx[:-1]])
                   & np.all(starts[idx[1:]] == ends[idx[:-1]], axis=1)]
    run = np.cumsum(~joined) - 1
    last = np.r_[run[1:] != run[:-1], True]
    coords = np.concatenate((starts[idx], ends[idx[last]]))
    runs = np.concatenate((run, run[last]))
    rank = np.concatenate((np.arange(len(idx)) * 2, np.flatnonzero(last) * 2 + 1))
    by = np.lexsort((rank, runs))
    lines = shapely.linestrings(coords[by], indices=runs[by])
    return _merge(lines, masks[idx[~joined]])


def _merge(lines: np.ndarray, masks: np.ndarray) -> Edges:
    """Pieces of one mask joined end to start (a boundary runs along several communes' rings)."""
    out_lines, out_masks = [], []
    for mask in np.unique(masks):
        merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(lines[masks == mask]), directed=True))
        out_lines.append(merged)
        out_masks.append(np.full(len(merged), mask, dtype=np.int64))
    return Edges(np.concatenate(out_lines), np.concatenate(out_masks))
