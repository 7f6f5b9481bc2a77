"""Start-up time and memory of the service at national scale: cold (empty cache, from the mirror) and warm.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.startup [--scope france] [--runs 3]

Cold = `territoires serve` with an empty cache until /healthz answers (sources checked, scales built,
catalogue validated, version published, worker loaded). Warm = the same with the cache kept, once the version's tile
archive is written (as `serve` does in the background and `refresh` before it returns). Memory = peak
resident set (VmHWM) of the worker after a map page, its tiles at two zooms, lookups and searches.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.server import running_service, worker_pids
from geo.config import Settings
from geo.pyramid import SCALES_TILES
from geo.versions import publish_tiles


def exercise(base: str) -> None:
    """A user's first minutes: the scales map, tiles around Toulouse and Paris, lookups, search, a layer."""
    with httpx.Client(base_url=base, timeout=120) as c:
        c.get("/maps/scales")
        levels = ",".join(SCALES_TILES.levels)  # what the page asks
        for z, x, y in ((6, 32, 23), (7, 64, 46), (8, 128, 93), (8, 129, 93), (9, 259, 187), (8, 129, 88), (9, 259, 176)):
            c.get(f"/tiles/{levels}/{z}/{x}/{y}.pbf")
        for lon, lat in ((1.4442, 43.6047), (2.35, 48.85), (5.37, 43.30), (-1.55, 47.22)):
            c.get("/api/lookup", params={"lon": lon, "lat": lat})
        for q in ("toulouse", "st etienne", "paris"):
            c.get("/api/search", params={"q": q})
        c.get("/api/territories/epci", params={"within": "31"})


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def once(scope: str, cache: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    with running_service(1, {"TERRITOIRES_CACHE": cache, "TERRITOIRES_SCOPE": scope, "TERRITOIRES_RATE_LIMIT": "0"}, timeout=300) as (base, master):
        elapsed = time.perf_counter() - t0
        exercise(base)
        return elapsed, peak_rss_mib((worker_pids(master) or [master.pid])[0])  # one worker runs in the master


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scope", default="france")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm, tiles = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(once(args.scope, cache))
            start = time.perf_counter()  # what `serve` started in the background, and `refresh` does: the tile archive
            publish_tiles(Settings.from_env(scope=args.scope, cache=cache), Settings.from_env().tiles_max_zoom)
            tiles.append(time.perf_counter() - start)
            warm.append(once(args.scope, cache))
    for label, values in (("cold start (empty cache, from the mirror)", cold), ("warm start (prepared build)", warm)):
        print(f"{args.scope}: {label:42} {statistics.median(v[0] for v in values):6.2f} s to /healthz; "
              f"worker peak RSS after use {statistics.median(v[1] for v in values):6.0f} MiB (median of {args.runs})")
    print(f"{args.scope}: tile archive written after the cold start in {statistics.median(tiles):.1f} s (median; the warm "
          f"start serves the map's tiles from it)")
    print(f"{args.scope}: ratio cold/warm {statistics.median(v[0] for v in cold) / statistics.median(v[0] for v in warm):.1f}x")


if __name__ == "__main__":
    main()
