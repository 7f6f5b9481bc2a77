"""Benchmark the Occitanie bundle GeoPackage: every export layer in one file, with QGIS styles and provenance.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.export_bundle [--runs 5] [--crs 4326]

Prints the median time of several runs, split into building the layers (first run: from the model; later
runs: from the per-model cache, as the service does) and writing the file, and the file's size.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from geo.config import Settings
from geo.exports import build_layer, layer_specs, write
from geo.model import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--crs", type=int, default=4326)
    args = parser.parse_args()
    model = load_model(Settings.from_env(scope="occitanie"))
    ids = list(layer_specs(model))
    cold_build, build, write_times, sizes = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            model.derived.clear()  # every run builds its layers from the model
            t0 = time.perf_counter()
            layers = [build_layer(model, i) for i in ids]
            t1 = time.perf_counter()
            cached = [build_layer(model, i) for i in ids]
            t2 = time.perf_counter()
            path = Path(tmp) / f"bundle-{run}.gpkg"
            write(cached, "gpkg", path, crs=args.crs)
            t3 = time.perf_counter()
            cold_build.append(t1 - t0)
            build.append(t2 - t1)
            write_times.append(t3 - t2)
            sizes.append(path.stat().st_size)
    features = sum(len(x.frame) for x in layers)
    print(f"Occitanie bundle.gpkg: {len(ids)} layers, {features:,} features, EPSG:{args.crs}, {args.runs} runs")
    print(f"  build layers from the model: median {statistics.median(cold_build):.3f} s")
    print(f"  layers from the cache:       median {statistics.median(build) * 1000:.1f} ms")
    print(f"  write GeoPackage:            median {statistics.median(write_times):.3f} s "
          f"(min {min(write_times):.3f}, max {max(write_times):.3f})")
    print(f"  export total (cold):         median {statistics.median(c + w for c, w in zip(cold_build, write_times)):.3f} s")
    print(f"  file size:                   {statistics.median(sizes) / 1e6:.1f} MB ({int(statistics.median(sizes)):,} bytes)")


if __name__ == "__main__":
    main()
