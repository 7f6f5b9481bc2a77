"""Benchmark the territory model: build time and peak memory (cold and warm), the lookup index, and point lookups.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.build_and_lookup
[--runs 3] [--points 1000000] [--lookup-runs 5] [--only builds|index|lookups]

Each build runs in a fresh child process so its peak RSS is its own. Baselines, run in the same process
tree: a naive build (geopandas.read_file + unary dissolve of every scale); for the lookup index, the former
plain STRtree; for lookups, geopandas.sjoin and the plain STRtree on the same points in the same process, and
brute-force shapely for agreement (random points and points within 1 m of a boundary).
"""
from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer


def _build(kind: str, scope: str, cache: str, queue: mp.Queue) -> None:
    from geo.config import Settings
    from geo.model import load_model
    from geo.territories import load_territories

    settings = Settings.from_env(cache=cache, scope=scope)
    t0 = time.perf_counter()
    if kind == "naive":
        import geopandas as gpd
        import pandas as pd

        from geo.cog import load_cog
        from geo.sources import commune_datasets, fetch
        cog = load_cog(settings)
        com = pd.concat([gpd.read_file(fetch(d, settings)) for d in commune_datasets(settings.departements)])
        com = com.merge(cog.epci_members, left_on="code", right_on="commune", how="left")
        com["departement"] = com["code"].str[:2]
        for key in ("epci", "departement"):
            com[[key, "geometry"]].dissolve(by=key, method="unary")
    elif kind == "model":
        load_model(settings)
    else:
        load_territories(settings)
    queue.put((time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def measure(kind: str, scope: str, cache: str, target: Callable = _build) -> tuple:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(kind, scope, cache, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def bench_builds(runs: int) -> None:
    print(f"== build every scale (median of {runs} runs; peak RSS of the building process)")
    for scope in ("occitanie", "france"):
        cold, warm, naive = [], [], []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as cache:
                cold.append(measure("territories", scope, cache))
                warm.append(measure("territories", scope, cache))
                naive.append(measure("naive", scope, cache))
        for label, values in (("cold (mirror → scales + GeoParquet)", cold), ("warm (GeoParquet cache)", warm),
                              ("baseline: read_file + unary dissolve", naive)):
            t = statistics.median(v[0] for v in values)
            m = statistics.median(v[1] for v in values)
            print(f"{scope:9} {label:38} {t:7.2f} s  peak {m:7.0f} MiB")
        nt = statistics.median(v[0] for v in naive)
        print(f"{scope:9} ratios: baseline/cold {nt / statistics.median(v[0] for v in cold):.1f}x, "
              f"baseline/warm {nt / statistics.median(v[0] for v in warm):.1f}x")


class PlainSTRtree:
    """The former Locator (baseline): one STRtree query over the full polygons, the first hit per point."""

    def __init__(self, geometries: np.ndarray):
        self.geometries = np.asarray(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        point, polygon = self.tree.query(shapely.points(lon, lat), predicate="intersects")
        out = np.full(len(lon), -1, dtype=np.int64)
        first = np.unique(point, return_index=True)[1]  # pairs are sorted by point
        out[point[first]] = polygon[first]
        return out


def sjoin_locate(communes: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """geopandas.sjoin (baseline): the same work as locate, from coordinates to a polygon index per point."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=communes.crs)
    joined = gpd.sjoin(points, communes[["geometry"]].reset_index(drop=True), how="left", predicate="intersects")
    first = joined[~joined.index.duplicated()]["index_right"]
    return first.fillna(-1).to_numpy(dtype=np.int64)


def random_points(bounds: np.ndarray, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """n points drawn uniformly in a bounding box (lon, lat)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def boundary_points(communes: gpd.GeoDataFrame, n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """n points within 1 m of a commune boundary: a third are ring vertices (exactly on it), a third are drawn
    along the boundaries in Lambert-93, and a third are drawn there and moved 0.5 m in a random direction."""
    rng = np.random.default_rng(seed)
    vertices = shapely.get_coordinates(communes.geometry.values)
    on_ring = vertices[rng.choice(len(vertices), n // 3, replace=False)]
    rings = np.asarray(communes.geometry.to_crs(2154).boundary.values)
    k = n - len(on_ring)
    along = shapely.get_coordinates(shapely.line_interpolate_point(rings[rng.integers(0, len(rings), k)],
                                                                   rng.uniform(0, 1, k), normalized=True))
    angle = rng.uniform(0, 2 * np.pi, k // 2)
    along[: k // 2] += 0.5 * np.column_stack([np.cos(angle), np.sin(angle)])
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(along[:, 0], along[:, 1])
    return np.concatenate([on_ring[:, 0], lon]), np.concatenate([on_ring[:, 1], lat])


def brute_force(geometries: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the lowest index of the polygons it touches (-1: none) and how many it touches: every
    polygon whose bounding box holds the point is tested with shapely.intersects_xy, on unprepared copies."""
    geometries = shapely.from_wkb(shapely.to_wkb(np.asarray(geometries, dtype=object)))
    bounds = shapely.bounds(geometries)
    first, count = np.full(len(lon), len(geometries), dtype=np.int64), np.zeros(len(lon), dtype=np.int64)
    for s in range(0, len(lon), 500):
        x, y = lon[s:s + 500, None], lat[s:s + 500, None]
        point, polygon = np.nonzero((bounds[:, 0] <= x) & (x <= bounds[:, 2]) & (bounds[:, 1] <= y) & (y <= bounds[:, 3]))
        hit = shapely.intersects_xy(geometries[polygon], lon[s + point], lat[s + point])
        point, polygon = s + point[hit], polygon[hit]
        np.add.at(count, point, 1)
        np.minimum.at(first, point, polygon)
    return np.where(count > 0, first, -1), count


def _index(kind: str, scope: str, cache: str, queue: mp.Queue) -> None:
    """Build one lookup index over the communes of a scope; time, arrays held, extra peak and held RSS."""
    from geo.config import Settings
    from geo.lookup import Locator
    from geo.territories import load_territories

    geometries = load_territories(Settings.from_env(cache=cache, scope=scope)).scales["commune"].geometry.values
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to the current RSS
    before = _status_mib("VmRSS")
    t0 = time.perf_counter()
    index = Locator(geometries) if kind == "grid" else PlainSTRtree(geometries)
    elapsed = time.perf_counter() - t0
    detail = (f"cell 1/{1 / index.cell:.0f} of a degree, {len(index.starts) - 1:,} edge cells, {len(index.blocks) >> 8:,} blocks, "
              f"arrays {index.nbytes / 2**20:.1f} MiB") if kind == "grid" else ""
    queue.put((elapsed, _status_mib("VmHWM") - before, _status_mib("VmRSS") - before, len(geometries), detail))


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def bench_index(runs: int, cache: str) -> None:
    print(f"== lookup index build over the communes (median of {runs} runs, each in a fresh process; RSS beyond the loaded territories)")
    for scope in ("occitanie", "france"):
        for kind, label in (("grid", "grid (Locator)"), ("strtree", "baseline: plain STRtree")):
            values = [measure(kind, scope, cache, target=_index) for _ in range(runs)]
            t, peak, held = (statistics.median(v[i] for v in values) for i in range(3))
            print(f"{scope:9} {label:24} {t:6.2f} s  peak +{peak:5.0f} MiB  held +{held:5.0f} MiB  "
                  f"({values[0][3]:,} communes{'; ' + values[0][4] if values[0][4] else ''})")


def bench_lookup(n_points: int, sample: int, runs: int, cache: str) -> None:
    from geo.config import Settings
    from geo.lookup import Locator
    from geo.territories import load_territories

    com = load_territories(Settings.from_env(cache=cache, scope="occitanie")).scales["commune"]
    geometries = com.geometry.values
    lon, lat = random_points(com.total_bounds, n_points)
    grid, plain = Locator(geometries), PlainSTRtree(geometries)
    methods = {"grid": grid.locate, "strtree": plain.locate, "sjoin": lambda x, y: sjoin_locate(com, x, y)}
    answers = {name: run(lon, lat) for name, run in methods.items()}  # a first pass, untimed: polygons get their indexes
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(runs):
        for name, run in methods.items():
            t0 = time.perf_counter()
            run(lon, lat)
            times[name].append(time.perf_counter() - t0)
    rate = {name: n_points / statistics.median(t) for name, t in times.items()}
    print(f"== lookups, {n_points:,} random points in Occitanie's bounding box ({(answers['grid'] >= 0).mean():.1%} inside a commune), "
          f"median of {runs} runs")
    for name, label in (("grid", "territoires Locator (grid)"), ("strtree", "baseline: plain STRtree (former Locator)"),
                        ("sjoin", "baseline: geopandas.sjoin")):
        print(f"{label:42} {rate[name]:12,.0f} points/s  (median {n_points / rate[name]:.3f} s)")
    print(f"ratios: grid/sjoin {rate['grid'] / rate['sjoin']:.1f}x, grid/STRtree {rate['grid'] / rate['strtree']:.1f}x, "
          f"STRtree/sjoin {rate['strtree'] / rate['sjoin']:.1f}x")
    for name in ("strtree", "sjoin"):
        print(f"same commune as {name} on {(answers['grid'] == answers[name]).sum():,}/{n_points:,} points")
    single = {}
    for name, index in (("grid", grid), ("strtree", plain)):  # the API's case: one point per call
        calls = []
        for i in range(2000):
            x, y = lon[i:i + 1], lat[i:i + 1]
            t0 = time.perf_counter()
            index.locate(x, y)
            calls.append(time.perf_counter() - t0)
        single[name] = statistics.median(calls) * 1e6
    print(f"one point per call (the API's case), median of 2,000 calls: grid {single['grid']:.1f} µs, plain STRtree {single['strtree']:.1f} µs")
    print("agreement with brute-force shapely (the lowest index, i.e. the smallest code, among the communes a point touches):")
    near = boundary_points(com, sample)
    for label, (x, y) in ((f"{sample:,} of the random points", (lon[:sample], lat[:sample])),
                          (f"{sample:,} points within 1 m of a boundary", near)):
        expected, touching = brute_force(geometries, x, y)
        agree = (grid.locate(x, y) == expected).sum()
        print(f"  {label:42} {agree:,}/{len(x):,} ({agree / len(x):.2%}); {(touching > 1).sum():,} touch several communes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--lookup-runs", type=int, default=5)
    parser.add_argument("--only", choices=("builds", "index", "lookups"), help="one part of the benchmark")
    args = parser.parse_args()
    if args.only in (None, "builds"):
        bench_builds(args.runs)
    if args.only in (None, "index", "lookups"):
        with tempfile.TemporaryDirectory() as cache:
            if args.only != "lookups":
                bench_index(args.runs, cache)
            if args.only != "index":
                bench_lookup(args.points, args.sample, args.lookup_runs, cache)


if __name__ == "__main__":
    main()
