"""Load run on loopback: mixed traffic and lookups alone against `territoires serve --workers 2`, with wrk.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.load [--seconds 60] [--workers 2] [--repeat N]

wrk (Debian package, installed by `make test`/`make bench`) sends the requests; it stops by itself after
the given duration. Only 127.0.0.1 is targeted. The per-client rate limit is turned off for the run
(it is a backstop against abuse, not what is measured here), and so is the access log (a proxy logs).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from bench.server import running_service

LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end
"""


def lookup_paths(n: int) -> list[str]:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(0.0, 4.8, n), rng.uniform(42.4, 44.9, n)  # Occitanie's bounding box
    return [f"/api/lookup?lon={x:.5f}&lat={y:.5f}" for x, y in zip(lon, lat)]


def mixed_paths() -> list[str]:
    searches = ["/api/search?q=" + q for q in ("toulouse", "labege", "st%20gaudens", "albi", "31555", "243100518", "montpellier")]
    coverage = "schemes=petites-villes-de-demain,villages-d-avenir&within=31"
    maps = ["/maps/scales", "/maps/schemes/dialogue-metropolitain", f"/maps/coverage?{coverage}"]
    planners = ["/", "/territoires/31555", "/territoires/243100518", "/territoires/31555/panneau", "/dispositifs/petites-villes-de-demain",
                "/dispositifs/dialogue-metropolitain", f"/couverture?{coverage}", "/recherche?q=toulouse"]  # the planners' pages
    pages = [p for pair in zip(maps * 3, planners) for p in pair]  # a map page, a planner's page, in turn
    levels = "commune,quartier,edge,label"  # what /maps/scales asks for
    tiles = [f"/tiles/{levels}/8/{x}/{y}.pbf" for x in (127, 128, 129, 130) for y in (92, 93, 94)]
    layers = ["/api/territories/epci", "/api/territories/departement", "/api/schemes", "/api/schemes/dialogue-metropolitain",
              "/api/communes/31555", "/api/schemes/petites-villes-de-demain/overlap/villages-d-avenir", *tiles]
    exports = ["/export/epci.geojson", "/export/grouping-dialogue-metropolitain.csv", "/ogc/collections/epci/items?limit=50"]
    out = []
    lookups = lookup_paths(400)
    # per 400 lookups: 160 searches, 60 layer data (tiles, GeoJSON, JSON), 40 pages (maps and planners' in turn), 20 exports
    for i in range(400):
        out.append(lookups[i])
        if i % 5 < 2:
            out.append(searches[i % len(searches)])
        if i % 20 < 3:
            out.append(layers[(i * 7) % len(layers)])
        if i % 10 == 0:
            out.append(pages[(i // 10) % len(pages)])
        if i % 20 == 7:
            out.append(exports[i % len(exports)])
    return out


def run_wrk(base: str, paths: list[str], seconds: int, connections: int, lua: str | None = None) -> dict:
    """wrk sending ``paths`` in turn (or what the ``lua`` script's request function makes); its figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua or LUA % ",".join(f'"{p}"' for p in paths))
        script = fh.name
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, base],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    Path(script).unlink()

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": ms("50"), "p99_ms": ms("99"),
        "errors": (int(errors.group(1)) if errors else 0) + (sum(map(int, sock.groups())) if sock else 0),
        "non_2xx": int(errors.group(1)) if errors else 0, "timeouts": int(sock.group(4)) if sock else 0,  # wrk: over 2 s
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each traffic (in turn); the medians are printed last")
    args = parser.parse_args()
    env = {"TERRITOIRES_RATE_LIMIT": "0"}
    runs: dict[str, list[dict]] = {"mixed traffic": [], "lookups alone": []}
    with running_service(args.workers, env, args=("--no-access-log",)) as (base, _):
        run_wrk(base, mixed_paths(), 5, args.connections)  # warm every cache once
        for _ in range(args.repeat):
            for label, paths in (("mixed traffic", mixed_paths()), ("lookups alone", lookup_paths(2000))):
                r = run_wrk(base, paths, args.seconds, args.connections) | {"load": os.getloadavg()[0]}
                runs[label].append(r)
                print(f"{label:14} {args.workers} workers, {args.seconds} s, {args.connections} connections: "
                      f"{r['rps']:,.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                      f"{r['requests']:,} requests, {r['errors']} errors ({r['non_2xx']} non-2xx/3xx, {r['timeouts']} over wrk's 2 s "
                      f"timeout); load average {r['load']:.2f}", flush=True)
    if args.repeat > 1:
        for label, rs in runs.items():
            med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms", "load")}
            print(f"{label:14} median of {len(rs)}: {med['rps']:,.0f} req/s, p50 {med['p50_ms']:.1f} ms, p99 {med['p99_ms']:.1f} ms, "
                  f"{sum(r['errors'] for r in rs)} errors in all; load average {med['load']:.2f}")

if __name__ == "__main__":
    main()
