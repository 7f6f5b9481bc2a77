"""Benchmark batch location: `territoires locate` on a CSV of random points in Occitanie.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.locate [--points 1000000] [--runs 3]

Prints, for the whole command run as a process (read the CSV, load the model, locate, write the CSV): rows per
second and peak RSS (median of the runs), and the split in-process (read, locate, write). Baselines in the same
process: geopandas.sjoin of all the points with the communes (the commune columns only), and one `model.lookup` per
row, the way a script calling the existing point lookup would do it, on a sample.
Correctness on a sample of 10,000 rows of the output, against brute force: every commune polygon tested against
every point with shapely, the commune's EPCI, département and région from the code tables, and the schemes from
the coverage table filtered by date with plain Python. The output is read back by pandas with codes as text.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.config import Settings
from geo.locate import OUTSIDE, REASON, locate_points
from geo.model import load_model
from geo.pointfiles import from_csv, joined
from geo.spreadsheet import write_csv

BIN = Path(sys.executable).parent / "territoires"
DATE = dt.date(2024, 6, 1)


def random_points(model, n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points drawn uniformly in Occitanie (in its bounding box, kept when inside the région's polygon)."""
    rng = np.random.default_rng(seed)
    region = model.scales["region"].geometry.iloc[0]
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        x, y = rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)
        inside = shapely.contains_xy(region, x, y)
        lon, lat = np.concatenate([lon, x[inside]]), np.concatenate([lat, y[inside]])
    return lon[:n], lat[:n]


def write_input(path: Path, lon: np.ndarray, lat: np.ndarray) -> None:
    ids = pd.Series(np.arange(len(lon))).map("S{:07d}".format)
    pd.DataFrame({"site": ids, "lon": np.round(lon, 6), "lat": np.round(lat, 6)}).to_csv(path, index=False)


def run_cli(src: Path, out: Path, env: dict) -> tuple[float, float, dict]:
    """(seconds, peak RSS MiB, JSON summary) of `territoires locate` as a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run([str(BIN), "locate", str(src), "-o", str(out), "--date", DATE.isoformat(), "--json"],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"territoires locate failed: {done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:  # ru_maxrss of children is the largest so far: a smaller later run does not show
        peak = before
    return elapsed, peak / 1024, json.loads(done.stdout)


def brute_force(model, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The commune code of each point by testing every commune polygon (prepared) against all the points."""
    com = model.scales["commune"]
    codes = np.full(len(lon), None, dtype=object)
    geoms = com.geometry.values
    shapely.prepare(geoms)
    for code, geom in zip(com["code"], geoms):
        inside = shapely.intersects_xy(geom, lon, lat)
        codes[inside & (codes == None)] = code  # noqa: E711 (element-wise on an object array)
    return codes


def expected_schemes(model, code: str) -> set[str]:
    """Schemes covering a commune with a membership in force on DATE, row by row in plain Python."""
    rows = model.coverage.table[model.coverage.table["commune"] == code]
    keep = set()
    for scheme, start, end in zip(rows["scheme"], rows["start"], rows["end"]):
        start = None if pd.isna(start) else pd.Timestamp(start).date()
        end = None if pd.isna(end) else pd.Timestamp(end).date()
        if (start is None or start <= DATE) and (end is None or DATE <= end):
            keep.add(scheme)
    return keep


def check_sample(model, out: Path, lon: np.ndarray, lat: np.ndarray, sample: int) -> None:
    frame = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(frame) == len(lon) and (frame["site"] == pd.Series(np.arange(len(lon))).map("S{:07d}".format)).all(), "row order"
    zero = frame["commune_code"].str.startswith("0")
    print(f"pandas read_csv(dtype=str): {len(frame):,} rows; commune codes as text, {int(zero.sum()):,} keep a leading zero "
          f"(e.g. {frame.loc[zero, 'commune_code'].iloc[0] if zero.any() else '—'}); départements: "
          f"{', '.join(sorted(frame['departement_code'][frame['departement_code'] != ''].unique()))}")
    rng = np.random.default_rng(11)
    rows = np.sort(rng.choice(len(lon), size=min(sample, len(lon)), replace=False))
    got = frame.iloc[rows]
    t0 = time.perf_counter()
    truth = brute_force(model, lon[rows], lat[rows])
    brute = time.perf_counter() - t0
    com = model.scales["commune"].set_index("code")
    agree = disagree = 0
    schemes_checked = 0
    scheme_cols = [c for c in frame.columns if c in model.catalogue.schemes]
    for code, (_, row) in zip(truth, got.iterrows()):
        if code is None:
            ok = row["commune_code"] == "" and row[REASON] == OUTSIDE
        else:
            c = com.loc[code]
            ok = (row["commune_code"] == code and row["epci_code"] == (c["epci"] or "") and row["departement_code"] == c["departement"]
                  and row["region_code"] == c["region"])
            flagged, expected = {s for s in scheme_cols if row[s] == "1"}, expected_schemes(model, code)
            ok = ok and flagged == expected and int(row["nb_dispositifs"]) == len(expected)
            schemes_checked += 1
        agree += ok
        disagree += not ok
    print(f"agreement with brute force on {len(rows):,} sampled rows: {agree:,}/{len(rows):,} (commune, EPCI, département, région; "
          f"schemes in force on {DATE} for the {schemes_checked:,} placed) — brute force took {brute:.1f} s")
    if disagree:
        sys.exit(f"{disagree} rows disagree")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--baseline-rows", type=int, default=10_000)
    args = parser.parse_args()
    settings = Settings.from_env(scope="occitanie")
    model = load_model(settings)  # also warms the build cache the command reads
    lon, lat = random_points(model, args.points)
    env = os.environ | {"TERRITOIRES_SCOPE": "occitanie"}
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "points.csv", Path(tmp) / "located.csv"
        write_input(src, lon, lat)
        print(f"input: {args.points:,} random points in Occitanie, {src.stat().st_size:,} bytes (CSV, ',')")

        runs = [run_cli(src, out, env) for _ in range(args.runs)]
        seconds = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        summary = runs[-1][2]
        print(f"territoires locate (process, model from the build cache), median of {args.runs}: {seconds:.2f} s, "
              f"{args.points / seconds:,.0f} rows/s, peak RSS {peak:,.0f} MiB; output {summary['bytes']:,} bytes; "
              f"{summary['placed']:,} placed, unplaced {summary['unplaced']}; {len(summary['schemes'])} schemes in force on {DATE}")

        t0 = time.perf_counter()
        table = from_csv(src)
        t1 = time.perf_counter()
        located = locate_points(model, table.lon, table.lat, DATE)
        t2 = time.perf_counter()
        write_csv(joined(table, located), Path(tmp) / "again.csv")
        t3 = time.perf_counter()
        print(f"in process: read {t1 - t0:.2f} s, locate {t2 - t1:.2f} s ({args.points / (t2 - t1):,.0f} rows/s), write {t3 - t2:.2f} s")

        t0 = time.perf_counter()
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
        communes = model.scales["commune"][["code", "nom", "epci", "departement", "region", "geometry"]]
        gpd.sjoin(points, communes, how="left", predicate="intersects")
        sjoin = time.perf_counter() - t0
        print(f"baseline: geopandas.sjoin of the points with the communes (commune columns only, no schemes): {sjoin:.2f} s, "
              f"{args.points / sjoin:,.0f} rows/s; the locate step is {sjoin / (t2 - t1):.1f}x faster with every column")

        n = min(args.baseline_rows, args.points)
        t0 = time.perf_counter()
        for x, y in zip(lon[:n], lat[:n]):
            model.lookup(float(x), float(y))
        per_row = n / (time.perf_counter() - t0)
        print(f"baseline: one model.lookup per row on {n:,} rows: {per_row:,.0f} rows/s; "
              f"locate (whole command) is {args.points / seconds / per_row:.1f}x faster, the locate step alone "
              f"{args.points / (t2 - t1) / per_row:.0f}x")

        check_sample(model, out, lon, lat, args.sample)


if __name__ == "__main__":
    main()
