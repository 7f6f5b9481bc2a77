"""A data version's vector tiles in one PMTiles archive (v3): written from geo/pyramid.py, read back by tile.

The archive holds the tiles of one tile set (:data:`geo.pyramid.SCALES_TILES`) for every zoom up to its maximum,
gzip-compressed as the specification allows (``tile_compression`` gzip, so a static host serves them as they are
and the browser's ``pmtiles`` reader inflates them); empty tiles are left out, so a tile of a zoom the archive
covers that is not in it is empty. The metadata names the data version, the scope, the tile set and the
zooms, and lists the vector layers as TileJSON does.

:class:`TileArchive` reads one with ``os.pread`` on an open file: no tile is held in memory, and the page cache
is shared by every worker reading the same file.
"""
from __future__ import annotations

import gzip
import json
import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pmtiles.tile import Compression, Entry, TileType, deserialize_directory, deserialize_header, tileid_to_zxy, zxy_to_tileid
from pmtiles.writer import Writer

from geo.cachefiles import temporary_sibling
from geo.model import Model
from geo.pyramid import SCALES_TILES, TileSpec, encode_tiles
from geo.tiles import TILE_FORMAT, min_zoom, properties

HEADER_BYTES = 127


#: Zoom of the map's first view of each scope (the archive's centre).
CENTRE_ZOOM = {"occitanie": 7, "france": 6}


def archive_name(scope: str, version: str) -> str:
    """The file name of a version's archive: the data version and the tiles' format in it, so that a new version (or
    tiles cut another way) is a new URL."""
    return f"territoires-{scope}-{version}-t{TILE_FORMAT}.pmtiles"


def archive_pattern(scope: str) -> str:
    """A glob of every archive of ``scope``, whatever its version and tiles' format."""
    return f"territoires-{scope}-*.pmtiles"


def metadata(spec: TileSpec, version: str, scope: str, max_zoom: int) -> dict:
    """The archive's JSON metadata: TileJSON's vector_layers plus what the service checks before serving from it."""
    layers = [{"id": level, "minzoom": min_zoom(level), "maxzoom": max_zoom,
               "fields": {name: "String" for name in properties(level, max_zoom)}} for level in spec.levels]
    return {"name": f"territoires {scope}", "format": "pbf", "vector_layers": layers,
            "territoires": {"version": version, "scope": scope, "tiles": spec.key, "max_zoom": max_zoom}}


def write_archive(path: Path, tiles: Iterable[tuple[int, int, int, bytes]], meta: dict,
                  bounds: tuple[float, float, float, float], centre_zoom: int) -> int:
    """Write gzip-compressed MVT tiles (z, x, y, data), given zoom by zoom, into a PMTiles archive at ``path``;
    returns the number of tiles written. Tiles are put in tile-id order within each zoom (a clustered archive)."""
    count = 0
    west, south, east, north = bounds
    with path.open("wb") as fh:
        writer = Writer(fh)
        zoom: list[tuple[int, bytes]] = []

        def flush() -> None:
            for tile_id, data in sorted(zoom):
                writer.write_tile(tile_id, data)
            zoom.clear()

        last_z = -1
        for z, x, y, data in tiles:
            if z != last_z:
                flush()
                last_z = z
            zoom.append((zxy_to_tileid(z, x, y), data))
            count += 1
        flush()
        if not count:
            raise ValueError("no tile to write: the scope is empty")
        header = {"tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
                  "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7),
                  "max_lon_e7": int(east * 1e7), "max_lat_e7": int(north * 1e7),
                  "center_zoom": centre_zoom, "center_lon_e7": int((west + east) / 2 * 1e7),
                  "center_lat_e7": int((south + north) / 2 * 1e7)}
        writer.finalize(header, meta)
    return count


def build_archive(model: Model, path: Path, max_zoom: int, spec: TileSpec = SCALES_TILES, jobs: int = 1) -> int:
    """Encode every tile of ``spec`` in the model's scope up to ``max_zoom`` into the archive ``path`` (written
    beside it and renamed into place, so a reader never sees half of one) with ``jobs`` processes; returns the number
    of tiles."""
    scope = model.territories.scope
    bounds = tuple(float(v) for v in model.scales["departement"].total_bounds)
    tmp = temporary_sibling(path)
    try:
        count = write_archive(tmp, encode_tiles(model, spec, max_zoom, jobs=jobs), metadata(spec, model.version, scope, max_zoom),
                              bounds, min(CENTRE_ZOOM.get(scope, 6), max_zoom))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


@dataclass(frozen=True)
class _Location:
    offset: int
    length: int


class TileArchive:
    """A PMTiles archive open for reading tiles by (z, x, y); thread-safe (positional reads on one descriptor), its
    directory held as a dictionary of tile ids."""

    def __init__(self, path: Path):
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)
        try:
            self.header = deserialize_header(self._read(0, HEADER_BYTES))
            h = self.header
            raw = self._read(h["metadata_offset"], h["metadata_length"])
            self.metadata: dict = json.loads(gzip.decompress(raw) if h["internal_compression"] == Compression.GZIP else raw)
            self._tiles: dict[int, _Location] = {}
            self._walk(h["root_offset"], h["root_length"])
        except Exception:
            os.close(self._fd)
            raise
        self._closer = weakref.finalize(self, os.close, self._fd)  # closed with the model that holds it

    def _read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def _walk(self, offset: int, length: int) -> None:
        entries: list[Entry] = deserialize_directory(self._read(offset, length))
        for e in entries:
            if e.run_length == 0:  # a leaf directory
                self._walk(self.header["leaf_directory_offset"] + e.offset, e.length)
            else:
                for i in range(e.run_length):
                    self._tiles[e.tile_id + i] = _Location(self.header["tile_data_offset"] + e.offset, e.length)

    @property
    def info(self) -> dict:
        """What the service checks: version, scope, tile set key, max zoom."""
        return self.metadata.get("territoires", {})

    @property
    def max_zoom(self) -> int:
        return int(self.info.get("max_zoom", self.header["max_zoom"]))

    def __len__(self) -> int:
        return len(self._tiles)

    def locations(self) -> list[tuple[tuple[int, int, int], int, int]]:
        """((z, x, y), offset in the file, length) of every tile, in tile-id order."""
        return [(tileid_to_zxy(tid), loc.offset, loc.length) for tid, loc in sorted(self._tiles.items())]

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The gzip-compressed tile (z, x, y), or None when it is empty (not in the archive)."""
        where = self._tiles.get(zxy_to_tileid(z, x, y))
        return None if where is None else self._read(where.offset, where.length)

    def close(self) -> None:
        self._closer()
