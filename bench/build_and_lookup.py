"""Benchmark the territory model: build time and peak memory (cold and warm), and point lookups.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.build_and_lookup [--runs 3] [--points 1000000]

Each build runs in a fresh child process so its peak RSS is its own. Baselines, run in the same process
tree: a naive build (geopandas.read_file + unary dissolve of every scale) and geopandas.sjoin for lookups.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import tempfile
import time


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


def measure(kind: str, scope: str, cache: str) -> tuple[float, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_build, args=(kind, scope, cache, queue))
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


def bench_lookup(n_points: int, sample: int) -> None:
    import geopandas as gpd
    import numpy as np
    import shapely

    from geo.config import Settings
    from geo.model import load_model

    with tempfile.TemporaryDirectory() as cache:
        model = load_model(Settings.from_env(cache=cache, scope="occitanie"))
        com = model.scales["commune"]
        rng = np.random.default_rng(1)
        x0, y0, x1, y1 = com.total_bounds
        lon, lat = rng.uniform(x0, x1, n_points), rng.uniform(y0, y1, n_points)
        model.locate(lon[:10], lat[:10])  # build the index
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            codes = model.locate(lon, lat)
            times.append(time.perf_counter() - t0)
        ours = statistics.median(times)
        t0 = time.perf_counter()  # same work as locate: from coordinates to a commune per point
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
        gpd.sjoin(pts, com[["code", "geometry"]], how="left", predicate="intersects")
        base = time.perf_counter() - t0
        print(f"== lookups, {n_points:,} random points in Occitanie's bounding box ({codes.notna().mean():.1%} inside a commune)")
        print(f"territoires locate: {n_points / ours:,.0f} points/s (median {ours:.2f} s); "
              f"baseline geopandas.sjoin: {n_points / base:,.0f} points/s; ratio {base / ours:.1f}x")
        idx = rng.choice(n_points, sample, replace=False)
        geoms, all_codes = com.geometry.values, com["code"].to_numpy()
        agree = 0
        for i in idx:
            hits = all_codes[shapely.intersects(geoms, shapely.Point(lon[i], lat[i]))]
            agree += (codes[i] is None and len(hits) == 0) or (codes[i] in hits)
        print(f"agreement with brute-force shapely on {sample:,} points: {agree:,}/{sample:,} ({agree / sample:.2%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=10_000)
    args = parser.parse_args()
    bench_builds(args.runs)
    bench_lookup(args.points, args.sample)


if __name__ == "__main__":
    main()
