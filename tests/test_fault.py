"""Faults under load: a worker killed mid-load, a source file corrupted mid-refresh; the service keeps
answering and serves the previous data. Runs `territoires serve --workers 2` on loopback, bounded in time."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.server import running_service, worker_pids
from geo.config import Settings
from tests.datamirror import corrupted, partial_mirror, seeded_cache

BIN = Path(sys.executable).parent / "territoires"
LOOKUP = "/api/lookup?lon=1.4442&lat=43.6047"


class Load:
    """A few client threads sending lookups until stopped; every outcome is recorded with its time."""

    def __init__(self, base: str, threads: int = 4):
        self.base, self.outcomes, self.stop = base, [], threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=5) as client:
            while not self.stop.is_set():
                try:
                    ok = client.get(LOOKUP).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.outcomes.append((time.monotonic(), ok))

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)

    def since(self, t0: float) -> list[bool]:
        return [ok for t, ok in self.outcomes if t >= t0]


def test_killing_a_worker_mid_load_keeps_the_service_answering(settings: Settings, tmp_path: Path):
    cache = seeded_cache(settings, tmp_path / "cache")
    env = {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(cache), "TERRITOIRES_RATE_LIMIT": "0"}
    with running_service(2, env) as (base, master):
        pids = worker_pids(master)
        assert len(pids) == 2
        with Load(base) as load:
            time.sleep(2)
            os.kill(pids[0], signal.SIGKILL)
            killed_at = time.monotonic()
            time.sleep(4)
        after = load.since(killed_at + 1.0)  # in-flight requests of the killed worker may fail; nothing after
        assert len(after) > 20 and all(after)
        assert sum(ok for _, ok in load.outcomes) / len(load.outcomes) > 0.95
        deadline = time.monotonic() + 30
        while len(worker_pids(master)) < 2 and time.monotonic() < deadline:  # the supervisor restarts it
            time.sleep(0.5)
        assert len(worker_pids(master)) == 2 and httpx.get(base + LOOKUP).status_code == 200


def test_corrupt_source_mid_refresh_keeps_the_previous_version_served(settings: Settings, tmp_path: Path):
    rel = "boundaries/france-geojson-2018/communes/communes-31.geojson"
    # a real copy of the file to corrupt (the rest are symlinks): the shared mirror itself is never written
    mirror = partial_mirror(settings.mirror, tmp_path / "mirror", {rel: (settings.mirror / rel).read_bytes()})
    assert not (mirror / rel).is_symlink() and not (mirror / rel).resolve().is_relative_to(settings.mirror.resolve())
    cache = seeded_cache(settings, tmp_path / "cache")
    env = {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache), "TERRITOIRES_RATE_LIMIT": "0"}
    with running_service(2, env) as (base, _):
        before = httpx.get(base + "/healthz").json()["version"]
        (mirror / rel).write_bytes(corrupted(settings.mirror, rel))
        with Load(base) as load:
            started = time.monotonic()
            refresh = subprocess.run([str(BIN), "refresh", "--rebuild"], capture_output=True, text=True,
                                     env=os.environ | env, timeout=300)
            time.sleep(2)
        assert refresh.returncode == 1
        assert "checksum mismatch" in refresh.stderr and before in refresh.stderr and "Traceback" not in refresh.stderr
        during = load.since(started)
        assert len(during) > 20 and all(during)
        for _ in range(4):  # every worker still serves the previous version
            health = httpx.get(base + "/healthz").json()
            assert health["version"] == before
        assert httpx.get(base + LOOKUP).json()["commune"]["code"] == "31555"
