"""Time from navigation to the drawn map of /maps/scales in headless Chromium, a fresh browser context each visit:
the first visitor after a start of the service, and warm visits after it; with the version's tile archive (tiles
pre-encoded when the version was published) and, as the baseline in the same run, without it (tiles encoded on
demand, as before).

Run from the repository root:
    TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.first_visit [--scope occitanie --scope france] [--runs 5]

The time is the page's ``territoires-ready`` performance mark (set when every layer's first tiles are drawn),
counted from the navigation's start. The service is one uvicorn worker started afresh for each side; its start
(loading the model) is not counted, only what the first visitor waits for once /healthz answers.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import CHROMIUM_ARGS, require_chromium, serve_app  # noqa: E402

from geo.config import Settings  # noqa: E402
from geo.versions import current_pointer, publish, publish_tiles  # noqa: E402


@contextmanager
def hidden(path: Path) -> Iterator[None]:
    """``path`` moved aside meanwhile (the baseline: a version without its archive)."""
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)
    try:
        yield
    finally:
        aside.rename(path)


def visits(base: str, runs: int) -> list[float]:
    """Seconds to the drawn map of each visit, each in a fresh browser context (no cache, no cookie)."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(require_chromium()), args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
                page = context.new_page()
                hosts: set[str | None] = set()
                page.on("request", lambda r, seen=hosts: seen.add(urlsplit(r.url).hostname))
                page.goto(base + "/maps/scales")
                page.wait_for_selector("html[data-territoires=ready]", timeout=300_000)
                out.append(page.evaluate("performance.getEntriesByName('territoires-ready')[0].startTime") / 1000)
                if hosts - {"127.0.0.1", None}:
                    raise RuntimeError(f"the page left the machine: {hosts}")
                context.close()
        finally:
            browser.close()
    return out


def side(settings: Settings, runs: int) -> tuple[float, float, float, float]:
    """(first visit after a start, median, first and third quartiles of the warm visits after it), seconds."""
    env = {"TERRITOIRES_SCOPE": settings.scope, "TERRITOIRES_CACHE": str(settings.cache), "TERRITOIRES_RATE_LIMIT": "0"}
    with serve_app("service.app:create_app", env, timeout_s=600) as base:
        first = visits(base, 1)[0]
        warm = visits(base, runs)
    q1, _, q3 = statistics.quantiles(warm, n=4)
    return first, statistics.median(warm), q1, q3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scope", action="append", choices=("occitanie", "france"), help="scopes (default: both)")
    parser.add_argument("--runs", type=int, default=15, help="warm visits (their median is printed, with its quartiles: "
                                                               "a visit varies by ±50 ms on a shared machine)")
    args = parser.parse_args()
    for scope in args.scope or ["occitanie", "france"]:
        settings = Settings.from_env(scope=scope)
        if current_pointer(settings) is None:
            publish(settings)
        path, _ = publish_tiles(settings, settings.tiles_max_zoom)
        with hidden(path):
            before = side(settings, args.runs)
        after = side(settings, args.runs)
        print(f"{scope}: /maps/scales drawn, first visitor after a start / warm (median of {args.runs}, quartiles "
              f"{after[2]:.2f} – {after[3]:.2f} s): "
              f"{after[0]:.2f} s / {after[1]:.2f} s with the tile archive (zooms 0-{settings.tiles_max_zoom}); "
              f"{before[0]:.2f} s / {before[1]:.2f} s without it (tiles encoded on demand): "
              f"{before[0] / after[0]:.1f}x / {before[1] / after[1]:.1f}x faster")


if __name__ == "__main__":
    main()
