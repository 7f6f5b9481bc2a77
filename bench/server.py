"""Run `territoires serve` in a child process on a free loopback port, for benchmarks and fault tests."""
from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "territoires"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _soft_nofile(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@contextmanager
def running_service(workers: int, env: dict[str, str], timeout: float = 180, args: tuple[str, ...] = (),
                    nofile: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start the service with N workers on 127.0.0.1 (with ``nofile``, that soft limit on open files, as systemd and
    most shells give); yield (base URL, master process); stop it after."""
    port = free_port()
    log = tempfile.TemporaryFile()  # a file, not a pipe: an undrained pipe would block the workers' logging
    proc = subprocess.Popen([str(BIN), "serve", "--workers", str(workers), "--port", str(port), *args],
                            env=os.environ | env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=(lambda: _soft_nofile(nofile)) if nofile else None)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"service exited: {log.read().decode(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("service did not answer /healthz in time")
            time.sleep(0.3)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def worker_pids(master: subprocess.Popen) -> list[int]:
    """PIDs of the uvicorn worker processes (children of the master)."""
    out = subprocess.run(["pgrep", "-P", str(master.pid), "-f", "spawn_main"], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]  # multiprocessing's resource tracker, also a child, is not a worker
