"""Every vector tile of a scope up to a zoom, encoded once: what a PMTiles archive holds (geo/archive.py).

A *tile set* is what one tile URL of the map pages holds: some levels, one MVT layer each (geo/tiles.py).
:data:`SCALES_TILES` is the one the scales map asks for (communes, quartiers, the doll boundaries of the scales above
them, the place names), the tile set the archive holds.

The tiles of a zoom are those whose buffered box meets a département of the scope (the union of every scale),
found with one STRtree query per zoom; each is encoded by :meth:`geo.tiles.TileSet.encode_layers`, the code
behind ``/tiles``, and an empty one is left out.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
import zopfli.gzip

from geo.mapspec import SCALES
from geo.model import Model
from geo.tiles import BUFFER_PX, DEFAULT_BUFFER_PX, TILE_PIXELS, TileSet, band, tile_bounds, tiles_covering


@dataclass(frozen=True)
class TileSpec:
    """The levels one tile holds, in drawing order."""

    levels: tuple[str, ...]

    @property
    def key(self) -> str:
        """'commune,quartier,edge,label': names the tile set in ETags and archive metadata."""
        return ",".join(self.levels)


#: The scales map: its communes and quartiers, the boundaries of the scales above them as doll lines ('edge'), the
#: place names ('label'), in the order of the specification's layers (service/maps/scales.py asks for exactly these).
SCALES_TILES = TileSpec((*dict.fromkeys(lv if lv in ("commune", "quartier") else "edge" for lv in SCALES.layers), "label"))


def tileset(model: Model) -> TileSet:
    """The model's vector tiles (prepared layers are kept in it); one per model."""
    return model.derived.get(("tileset",), lambda: TileSet.of(model))


def scope_tiles(model: Model, z: int) -> list[tuple[int, int, int]]:
    """The tiles (z, x, y) of zoom ``z`` that may hold something of the scope, in no particular order."""
    depts = model.scales["departement"].geometry.to_numpy()
    candidates = sorted({t for bounds in shapely.bounds(depts) for t in tiles_covering(tuple(bounds), z)})
    # a margin past the tile's buffer: simplified outlines may stray from the built ones by about a pixel or two
    margin = (max(DEFAULT_BUFFER_PX, *BUFFER_PX.values()) + 2 * band(z).pixels + 1) / TILE_PIXELS
    boxes = shapely.box(*np.array([tile_bounds(*t, margin) for t in candidates]).T)
    hit = np.unique(shapely.STRtree(depts).query(boxes, predicate="intersects")[0])
    return [candidates[i] for i in hit]


def encode_tiles(model: Model, spec: TileSpec, max_zoom: int, min_zoom: int = 0, jobs: int = 1) -> Iterator[tuple[int, int, int, bytes]]:
    """(z, x, y, gzip-compressed MVT) of every non-empty tile of ``spec`` in the scope, zoom by zoom; with ``jobs`` > 1,
    encoded by that many forked processes (each zoom's simplified layers prepared first, shared by the forks)."""
    tiles = tileset(model)
    if jobs <= 1:
        for z in range(min_zoom, max_zoom + 1):
            for _, x, y in scope_tiles(model, z):
                if data := _encoded(tiles, spec, z, x, y):
                    yield z, x, y, data
        return
    zooms = {z: scope_tiles(model, z) for z in range(min_zoom, max_zoom + 1)}
    for found in zooms.values():  # the first tile of each zoom prepares its layers, before the fork
        if found:
            _encoded(tiles, spec, *found[0])
    global _JOB
    _JOB = (tiles, spec)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for found in zooms.values():
                for (z, x, y), data in zip(found, pool.imap(_encode_job, found, chunksize=4)):
                    if data:
                        yield z, x, y, data
    finally:
        _JOB = None


def _encoded(tiles: TileSet, spec: TileSpec, z: int, x: int, y: int) -> bytes:
    """A tile's MVT, gzip-compressed by zopfli: a standard gzip stream a few per cent smaller than zlib's best, worth
    its time once per version (tiles encoded on demand keep zlib)."""
    data = tiles.encode_layers(spec.levels, z, x, y)
    return zopfli.gzip.compress(data) if data else b""


#: What the forked encoders read (set in the parent before the fork).
_JOB: tuple[TileSet, TileSpec] | None = None


def _encode_job(tile: tuple[int, int, int]) -> bytes:
    tiles, spec = _JOB
    return _encoded(tiles, spec, *tile)
