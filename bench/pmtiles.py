"""Tiles with no Python on the path: the version's PMTiles archive served by a plain static server (nginx) on loopback.

Run from the repository root:
    TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.pmtiles [--scope france] [--maxzoom 9] [--seconds 30]

1. writes the archive of the version in service (`territoires tiles --pmtiles`): tiles, bytes, seconds;
2. serves it with nginx (one worker process) and sends byte-range requests for its tiles with wrk (every tile of
   the archive, shuffled; the requests the browser's ``pmtiles`` reader makes for tiles once it holds the directory);
3. baseline, in the same run: the same tiles from the service's ``/tiles`` on 2 uvicorn workers (gzip, warm).
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from bench.load import run_wrk
from bench.server import running_service
from bench.static_host import static_host
from geo.archive import TileArchive, archive_name, build_archive
from geo.config import Settings
from geo.pyramid import SCALES_TILES
from geo.versions import load_published

RANGES_LUA = """
local ranges = {%s}
local i = 0
request = function()
  i = i %% #ranges + 1
  return wrk.format("GET", "%s", {["Range"] = ranges[i]})
end
"""


def tile_ranges(archive: TileArchive) -> list[tuple[tuple[int, int, int], str]]:
    """((z, x, y), 'bytes=a-b') of every tile of the archive."""
    return [(zxy, f"bytes={offset}-{offset + length - 1}") for zxy, offset, length in archive.locations()]


def wrk_ranges(base: str, path: str, ranges: list[str], seconds: int, connections: int) -> dict:
    """wrk sending GET ``path`` with each Range header in turn."""
    return run_wrk(base, [], seconds, connections, lua=RANGES_LUA % (",".join(f'"{r}"' for r in ranges), path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scope", default=None, choices=("occitanie", "france"))
    parser.add_argument("--maxzoom", type=int, default=None, help="deepest zoom of the archive (default: TERRITOIRES_TILES_MAX_ZOOM, 9)")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    settings = Settings.from_env(scope=args.scope, tiles_max_zoom=args.maxzoom)
    model = load_published(settings)

    with tempfile.TemporaryDirectory(prefix="territoires-pmtiles-") as tmp:
        path = Path(tmp) / archive_name(settings.scope, model.version)
        start = time.perf_counter()
        count = build_archive(model, path, settings.tiles_max_zoom)
        took = time.perf_counter() - start
        print(f"{settings.scope}: archive of zooms 0-{settings.tiles_max_zoom}: {count:,} tiles, {path.stat().st_size:,} bytes, "
              f"written in {took:.1f} s")
        archive = TileArchive(path)
        ranges = tile_ranges(archive)
        random.Random(7).shuffle(ranges)
        sizes = sorted(length for _, _, length in archive.locations())
        print(f"  tile sizes (gzip): median {sizes[len(sizes) // 2]:,} bytes, largest {sizes[-1]:,}")

        with static_host(Path(tmp)) as base:
            wrk_ranges(base, "/" + path.name, [r for _, r in ranges], 3, args.connections)  # warm
            r = wrk_ranges(base, "/" + path.name, [r for _, r in ranges], args.seconds, args.connections)
        print(f"  nginx (1 worker), byte ranges of the archive, {args.seconds} s, {args.connections} connections: "
              f"{r['rps']:,.0f} tile requests/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, {r['errors']} errors")

        levels = ",".join(SCALES_TILES.levels)
        urls = [f"/tiles/{levels}/{z}/{x}/{y}.pbf?v={model.version}" for (z, x, y), _ in ranges]
        env = {"TERRITOIRES_RATE_LIMIT": "0", "TERRITOIRES_SCOPE": settings.scope, "TERRITOIRES_TILES_MAX_ZOOM": str(settings.tiles_max_zoom)}
        if os.environ.get("TERRITOIRES_CACHE"):
            env["TERRITOIRES_CACHE"] = os.environ["TERRITOIRES_CACHE"]
        with running_service(2, env, args=("--no-access-log",), timeout=600) as (base, _):
            run_wrk(base, urls, 5, args.connections)  # warm
            b = run_wrk(base, urls, args.seconds, args.connections)
        print(f"  baseline, the service's /tiles (2 workers), same tiles: {b['rps']:,.0f} req/s, p50 {b['p50_ms']:.2f} ms, "
              f"p99 {b['p99_ms']:.2f} ms, {b['errors']} errors")
        print(f"  ratio static / service: {r['rps'] / b['rps']:.1f}x the requests per second, p99 {b['p99_ms'] / r['p99_ms']:.1f}x lower")
        archive.close()


if __name__ == "__main__":
    main()
