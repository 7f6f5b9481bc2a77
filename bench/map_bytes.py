"""Bytes and time of the first full load of /maps/scales, side by side with geopandas explore().

Both sides in the same run, on the same Occitanie communes, gzip on both sides:

- territoires: the service under uvicorn; headless Chromium (offline) loads /maps/scales once and every
  request it makes is recorded; bytes = gzip-encoded bodies of the page and of its data requests (the
  JS/CSS assets, the same kind of files explore() pulls from CDNs, are reported apart). Warm time = the
  page and the same data requests replayed over HTTP, one after the other, once the caches are filled.
- explore(): ``communes.explore()`` rendered to HTML (everything inlined), gzip level 9 as the service;
  time = explore() + render, without the compression.

    TERRITOIRES_MIRROR=../shared/data .venv/bin/python bench/map_bytes.py [--runs 7]
"""
from __future__ import annotations

import argparse
import gzip
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


def first_load(base_url: str) -> tuple[list[tuple[str, int]], int, int]:
    """(url, encoded bytes) of the page and its data requests, bytes of static assets, commune paths drawn."""
    data: list[tuple[str, int]] = []
    assets = 0
    with browser_page() as session:
        page = session.page
        responses = []
        page.on("response", lambda response: responses.append(response))
        page.goto(base_url + "/maps/scales")
        page.wait_for_selector("html[data-territoires=ready]", timeout=120_000)
        paths = page.locator("path.t-commune").count()
        for response in responses:
            size = response.request.sizes()["responseBodySize"]
            path = urlsplit(response.url).path
            if path.startswith(("/assets/", "/maps/static/")):
                assets += size
            else:
                data.append((response.url, size))
        if session.blocked:
            raise RuntimeError(f"the page tried to leave the machine: {session.blocked}")
    return data, assets, paths


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


def explore(runs: int) -> tuple[int, int, list[float]]:
    """(raw bytes, gzip bytes, seconds per run) of explore() on the Occitanie communes."""
    communes = load_model(Settings.from_env()).scales["commune"]
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
    args = parser.parse_args()

    with serve_app("service.app:create_app") as base_url:
        requests, assets, paths = first_load(base_url)
        urls = [u for u, _ in requests]
        ours = replay(urls, args.runs * 3)
    our_bytes = sum(size for _, size in requests)
    raw, gz, explore_times = explore(args.runs)

    ours_s, explore_s = statistics.median(ours), statistics.median(explore_times)
    print(f"territoires /maps/scales, first full load: {len(requests)} requests (page + data), {our_bytes:,} bytes gzip "
          f"(+ {assets:,} bytes of JS/CSS assets), {paths:,} commune paths drawn")
    for url, size in requests:
        print(f"  {size:>9,}  {urlsplit(url).path}?{urlsplit(url).query}")
    print(f"explore(): one page of {raw:,} bytes, {gz:,} bytes gzip")
    print(f"warm time to the responses, median: territoires {ours_s * 1000:.1f} ms ({len(ours)} runs), "
          f"explore() {explore_s * 1000:.0f} ms ({len(explore_times)} runs)")
    print(f"bytes ratio territoires / explore(): 1/{gz / our_bytes:.1f}   (target ≤ 1/20)")
    print(f"time ratio explore() / territoires: {explore_s / ours_s:.0f}× faster   (target ≥ 40×)")


if __name__ == "__main__":
    main()
