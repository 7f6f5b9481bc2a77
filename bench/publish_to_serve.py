"""Time from publishing a member list to every worker serving it, under load, against `territoires serve --workers 2`.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.publish_to_serve [--cycles 3]

A Python load loop (threads on loopback, httpx) asks `/healthz` (data version and worker pid), a commune's stack and
the scheme's API without pause; meanwhile the member list of contrats-territoriaux-occitanie (ten 2026 EPCI of
Occitanie, a fixture of this benchmark, never catalogue data) is published and rolled back in turn, as
`territoires members import` and `territoires rollback` do. For each publication: the time from `publish_members`
returning (the pointer switched) to the last answer of the old version from any worker, i.e. until every worker serves
the new one; and the failed requests (anything but 200) over the whole run. Its own cache and data directory.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.server import running_service
from geo.config import Settings
from geo.memberlists import read_member_list
from geo.memberstore import Upload
from geo.territories import ensure_build
from geo.versions import publish, publish_members, rollback

SCHEME = "contrats-territoriaux-occitanie"
EPCI = ("243100518", "243400017", "243000643", "200027183", "248100737", "200035715", "200069300", "200066926", "200068641",
        "243100633")
PATHS = ("/healthz", "/api/communes/31555", f"/api/schemes/{SCHEME}")


def fixture_csv() -> bytes:
    rows = "".join(f"{c};{SCHEME};signataire;15/03/2022;31/12/2027;Fixture de bench/publish_to_serve.py;\r\n" for c in EPCI)
    return ("code;dispositif;role;debut;fin;source;note\r\n" + rows).encode()


class Load:
    """Threads asking the service without pause; every answer of /healthz kept as (time received, version, pid)."""

    def __init__(self, url: str, threads: int):
        self.url, self.stop = url, threading.Event()
        self.seen: list[tuple[float, str, int]] = []
        self.requests = self.failures = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]

    def run(self, i: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            n = i
            while not self.stop.is_set():
                path = PATHS[n % len(PATHS)]
                n += 1
                try:
                    response = client.get(path)
                    ok = response.status_code == 200
                    data = response.json() if ok and path == "/healthz" else None
                except httpx.HTTPError:
                    ok, data = False, None
                with self.lock:
                    self.requests += 1
                    self.failures += not ok
                    if data is not None:
                        self.seen.append((time.monotonic(), data["version"], data["pid"]))

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=3, help="publications (each followed by a rollback)")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    base = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="publish-bench-") as tmp:
        root = Path(tmp)
        build = ensure_build(base)
        (root / "cache" / "builds").mkdir(parents=True)
        shutil.copytree(build, root / "cache" / "builds" / build.name)
        s = Settings(mirror=base.mirror, cache=root / "cache", data_dir=root / "data")
        publish(s)
        members = read_member_list(fixture_csv(), "bench.csv").by_scheme()
        env = {"TERRITOIRES_CACHE": str(s.cache), "TERRITOIRES_DATA_DIR": str(s.data_dir), "TERRITOIRES_RATE_LIMIT": "0"}
        delays, publishes = [], []
        with running_service(2, env, args=("--no-access-log",)) as (url, _), Load(url, args.threads) as load:
            time.sleep(5)  # warm: both workers answering
            for cycle in range(args.cycles * 2):
                old = httpx.get(url + "/healthz").json()["version"]
                started = time.monotonic()
                if cycle % 2 == 0:
                    record = publish_members(s, members, "bench", Upload("bench.csv", fixture_csv(), "csv"))
                else:
                    record = rollback(s, 0, "bench")
                switched = time.monotonic()
                publishes.append(switched - started)
                time.sleep(4)
                with load.lock:
                    after = [(t, v, pid) for t, v, pid in load.seen if t > switched]
                last_old = max((t for t, v, _ in after if v == old), default=switched)
                pids = {pid for t, v, pid in after if t > last_old and v == record["data_version"]}
                delays.append(last_old - switched)
                print(f"version {record['version']} ({record['action']}): publish {publishes[-1]:.2f} s, every worker serving it "
                      f"{delays[-1]:.2f} s later (workers answering the new version: {len(pids)})", flush=True)
                time.sleep(1)
            total, failed = load.requests, load.failures
        print(f"publish-to-serve, {len(delays)} publications: median {statistics.median(delays):.2f} s, max {max(delays):.2f} s; "
              f"publication itself median {statistics.median(publishes):.2f} s")
        print(f"load: {total:,} requests, {failed} failed")


if __name__ == "__main__":
    main()
