"""Expensive requests against one worker of `territoires serve`: a burst of concurrent large static maps, and bundle
GeoPackages asked with a junk parameter that changes on every request.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.expensive [--concurrent 16]

Prints, for a burst of identical maps and one of maps of distinct sizes: each request's status and latency
(median and max of the 200s, and how many were turned away with 503), and the worker's resident memory before, at
its peak during, and a few seconds after the burst; for the bundle: the time of each request with a new junk value
(a rebuild each time if the cache is keyed on the raw query string, a memo hit otherwise). One worker, loopback
only, rate limit off.
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.server import running_service


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler:
    """The peak resident memory of a process, sampled every 50 ms while in use."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed_get(base: str, path: str, timeout: float = 300) -> tuple[int, float]:
    t0 = time.perf_counter()
    try:
        status = httpx.get(base + path, timeout=timeout).status_code
    except httpx.HTTPError:
        status = 0
    return status, time.perf_counter() - t0


def burst(base: str, pid: int, paths: list[str], label: str) -> None:
    before = rss_mib(pid)
    with Sampler(pid) as sampler, ThreadPoolExecutor(len(paths)) as pool:
        t0 = time.perf_counter()
        results = list(pool.map(lambda p: timed_get(base, p), paths))
        wall = time.perf_counter() - t0
    time.sleep(3)
    after = rss_mib(pid)
    ok = [t for s, t in results if s == 200]
    statuses = {s: sum(1 for r in results if r[0] == s) for s in sorted({s for s, _ in results})}
    print(f"{len(paths)} concurrent GET {label}: statuses {statuses}, wall {wall:.1f} s")
    if ok:
        print(f"  200s: median {statistics.median(ok):.2f} s, max {max(ok):.2f} s")
    turned = [t for s, t in results if s == 503]
    if turned:
        print(f"  503s: median {statistics.median(turned) * 1000:.0f} ms")
    print(f"  worker RSS: before {before:.0f} MiB, peak during {sampler.peak:.0f} MiB, 3 s after {after:.0f} MiB")


def junk_bundle(base: str, pid: int, runs: int) -> None:
    times = []
    before = rss_mib(pid)
    for n in range(runs):
        status, seconds = timed_get(base, f"/export/bundle.gpkg?layers=communes,epci&junk={n}")
        assert status == 200, status
        times.append(seconds)
    print(f"/export/bundle.gpkg?layers=communes,epci&junk=N, {runs} values of N: first {times[0]:.2f} s, "
          f"then median {statistics.median(times[1:]) * 1000:.0f} ms; worker RSS {before:.0f} → {rss_mib(pid):.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--size", default="3000x3000", help="WIDTHxHEIGHT (the distinct burst adds 10 px of width per request)")
    parser.add_argument("--junk", type=int, default=6)
    args = parser.parse_args()
    with running_service(1, {"TERRITOIRES_RATE_LIMIT": "0"}, args=("--no-access-log",)) as (base, proc):
        httpx.get(base + "/static/scales.png?size=400x300", timeout=120)  # warm the layers the renders share
        junk_bundle(base, proc.pid, args.junk)
        w, h = (int(v) for v in args.size.split("x"))
        burst(base, proc.pid, [f"/static/scales.png?size={args.size}"] * args.concurrent, f"/static/scales.png?size={args.size}")
        burst(base, proc.pid, [f"/static/coverage.png?size={w - 10 * i}x{h}" for i in range(args.concurrent)],
              f"/static/coverage.png?size=…x{h}, {args.concurrent} sizes")


if __name__ == "__main__":
    main()
