"""Bytes and time of the first full load of /maps/scales, side by side with geopandas explore().

Both sides in the same run, on the same Occitanie communes, gzip on both sides:

- territoires: the service under uvicorn; headless Chromium (offline) loads /maps/scales once and every
  request it makes is recorded; bytes = gzip-encoded bodies of the page and of its data requests (the vector
  tiles /tiles/…pbf, including the empty 204 ones, and any /api call; the JS/CSS assets, the same kind of
  files explore() pulls from CDNs, are reported apart). Warm time = the page and the same data requests
  replayed over HTTP, one after the other, once the caches are filled.
- explore(): ``communes.explore()`` rendered to HTML (everything inlined), gzip level 9 as the service;
  time = explore() + render, without the compression.
- tile encode time: each tile the page asked for, encoded again in this process (layers prepared first).

``--scope france`` loads the national map instead (no explore() side: it would inline 34,868 communes) and
prints the first-load bytes and the largest single response.

    TERRITOIRES_MIRROR=../shared/data .venv/bin/python bench/map_bytes.py [--runs 7] [--scope france]
"""
from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import browser_page, serve_app  # noqa: E402

from geo.config import Settings  # noqa: E402
from geo.model import load_model  # noqa: E402
from geo.tiles import TileSet  # noqa: E402

TILE = re.compile(r"/tiles/([\w,]+)/(\d+)/(\d+)/(\d+)\.pbf")


def first_load(base_url: str) -> tuple[list[tuple[str, int, int]], int, int, int]:
    """(url, status, encoded bytes) of the page and its data requests, bytes of static assets, commune features
    drawn (paths or on canvas), distinct communes drawn."""
    data: list[tuple[str, int, int]] = []
    assets = 0
    with browser_page() as session:
        page = session.page
        responses = []
        page.on("response", lambda response: responses.append(response))
        page.goto(base_url + "/maps/scales")
        page.wait_for_selector("html[data-territoires=ready]", timeout=300_000)
        paths = page.evaluate("territoires.pages[0].featureCount('commune')")
        communes = len(page.evaluate("territoires.pages[0].codes('commune')"))
        for response in responses:
            size = response.request.sizes()["responseBodySize"]
            path = urlsplit(response.url).path
            if path.startswith(("/assets/", "/maps/static/")):
                assets += size
            else:
                data.append((response.url, response.status, size))
        if session.blocked:
            raise RuntimeError(f"the page tried to leave the machine: {session.blocked}")
    return data, assets, paths, communes


def replay(urls: list[str], runs: int) -> list[float]:
    """Seconds to fetch every URL in turn (gzip accepted), for each run."""
    times = []
    with httpx.Client(headers={"Accept-Encoding": "gzip"}) as client:
        for _ in range(runs):
            start = time.perf_counter()
            for url in urls:
                client.get(url).raise_for_status()
            times.append(time.perf_counter() - start)
    return times


def encode_times(settings: Settings, urls: list[str]) -> list[tuple[str, float, int]]:
    """(levels, seconds, bytes) of encoding each requested tile again, the layers prepared beforehand."""
    tiles = TileSet.of(load_model(settings))
    wanted = [(tuple(m.group(1).split(",")), *map(int, m.groups()[1:])) for u in urls if (m := TILE.search(u))]
    for levels, z, x, y in wanted:  # prepare the simplified layers and their trees
        tiles.encode_layers(levels, z, x, y)
    out = []
    for levels, z, x, y in wanted:
        start = time.perf_counter()
        data = tiles.encode_layers(levels, z, x, y)
        out.append((",".join(levels), time.perf_counter() - start, len(data)))
    return out


def layer_weights(settings: Settings, urls: list[str]) -> dict[str, int]:
    """Gzip bytes of each scale's layer in the tiles at ``urls``, encoded alone."""
    tiles = TileSet.of(load_model(settings))
    out: dict[str, int] = {}
    for url in urls:
        m = TILE.search(url)
        z, x, y = map(int, m.groups()[1:])
        for level in m.group(1).split(","):
            data = tiles.encode_layers((level,), z, x, y)
            out[level] = out.get(level, 0) + (len(gzip.compress(data, 9)) if data else 0)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def explore(settings: Settings, runs: int) -> tuple[int, int, list[float]]:
    """(raw bytes, gzip bytes, seconds per run) of explore() on the communes."""
    communes = load_model(settings).scales["commune"]
    times, html = [], ""
    for _ in range(runs + 1):  # the first run warms imports and caches; it is not counted
        start = time.perf_counter()
        html = communes.explore().get_root().render()
        times.append(time.perf_counter() - start)
    raw = html.encode()
    return len(raw), len(gzip.compress(raw, compresslevel=9)), times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each side (medians are printed)")
    parser.add_argument("--scope", choices=("occitanie", "france"), default=None, help="scope served (default: the environment's)")
    args = parser.parse_args()
    # the replays are a benchmark, not abuse: the per-client rate limit is off, as in the other benchmarks
    env = {"TERRITOIRES_RATE_LIMIT": "0", **({"TERRITOIRES_SCOPE": args.scope} if args.scope else {})}
    settings = Settings.from_env(scope=args.scope)

    with serve_app("service.app:create_app", env) as base_url:
        requests, assets, paths, communes = first_load(base_url)
        urls = [u for u, _, _ in requests]
        ours = replay(urls, args.runs * 3)
    our_bytes = sum(size for _, _, size in requests)
    tiles = [(u, st, size) for u, st, size in requests if TILE.search(u)]
    largest = max(requests, key=lambda r: r[2])

    print(f"territoires /maps/scales ({settings.scope}), first full load: {len(requests)} requests (page + data), "
          f"{our_bytes:,} bytes gzip (+ {assets:,} bytes of JS/CSS assets), {paths:,} commune features drawn, "
          f"{communes:,} distinct communes")
    by_level: dict[str, list[int]] = {}
    for u, _st, size in tiles:
        by_level.setdefault(TILE.search(u).group(1), []).append(size)
    print(f"  {sum(1 for _ in tiles)} tile requests, {sum(1 for _, st, _ in tiles if st == 204)} of them empty (204)")
    for level, sizes in sorted(by_level.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {sum(sizes):>9,}  /tiles/{level}/…  ({len(sizes)} tiles, largest {max(sizes):,})")
    if tiles:  # what each scale weighs inside the tiles (each layer alone, gzip)
        weights = layer_weights(settings, [u for u, _, _ in tiles])
        print("  by scale, each layer gzip alone: " + ", ".join(f"{lv} {n:,}" for lv, n in weights.items()))
    for u, _st, size in requests:
        if not TILE.search(u):
            print(f"  {size:>9,}  {urlsplit(u).path}{'?' + urlsplit(u).query if urlsplit(u).query else ''}")
    print(f"largest single response: {largest[2]:,} bytes gzip  {urlsplit(largest[0]).path}")
    ours_s = statistics.median(ours)
    print(f"warm time to the responses, median: territoires {ours_s * 1000:.1f} ms ({len(ours)} runs)")

    encoded = encode_times(settings, urls)
    full = [t for _, t, n in encoded if n]
    if full:
        print(f"tile encode time (warm layers), median {statistics.median(full) * 1000:.1f} ms, max {max(full) * 1000:.1f} ms "
              f"over {len(full)} non-empty tiles")

    if settings.scope != "occitanie":
        return
    raw, gz, explore_times = explore(settings, args.runs)
    explore_s = statistics.median(explore_times)
    print(f"explore(): one page of {raw:,} bytes, {gz:,} bytes gzip; {explore_s * 1000:.0f} ms median ({len(explore_times)} runs)")
    print(f"bytes ratio territoires / explore(): 1/{gz / our_bytes:.1f}   (target ≤ 1/25, issue 15)")
    print(f"time ratio explore() / territoires: {explore_s / ours_s:.0f}× faster   (target ≥ 40×)")


if __name__ == "__main__":
    main()
