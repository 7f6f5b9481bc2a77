"""The download path, as a user without a mirror takes it: the mirror's files served over HTTP on loopback at their
upstream paths (TERRITOIRES_TEST_UPSTREAM, test-only), `territoires data` run from an empty cache as a process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from geo.config import OCCITANIE, Settings
from geo.download import TEST_UPSTREAM
from geo.errors import SourceError
from geo.programmes import PROGRAMMES
from geo.sources import Dataset, catalogue, code_dataset, commune_datasets, fetch, sha256_of

BIN = Path(sys.executable).parent / "territoires"


@dataclass
class Upstream:
    """What the loopback server serves: mirror files by upstream path, some corrupted or missing; what was asked."""

    files: dict[str, Path]
    corrupt: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    requests: Counter = field(default_factory=Counter)
    bytes_sent: int = 0
    base: str = ""


def _path(ds: Dataset) -> str:
    return urlsplit(ds.url).path


@contextmanager
def serve_upstream(mirror: Path) -> Iterator[Upstream]:
    """A threaded http.server on 127.0.0.1 serving every downloadable dataset of the mirror at its upstream path."""
    state = Upstream({_path(d): mirror / d.file for d in catalogue().values() if d.url and not d.mirror_only})
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            with lock:
                state.requests[self.path] += 1
            if self.path not in state.files or self.path in state.missing:
                self.send_error(404)
                return
            body = bytearray(state.files[self.path].read_bytes())
            if self.path in state.corrupt:
                body[len(body) // 2] ^= 0x01
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with lock:
                state.bytes_sent += len(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_data(cache: Path, upstream: Upstream, *args: str, command: str = "data") -> subprocess.CompletedProcess:
    """`territoires data` with no mirror, the given cache, and the upstream addresses rewritten to the loopback server."""
    env = {k: v for k, v in os.environ.items() if k != "TERRITOIRES_MIRROR"}
    env |= {"TERRITOIRES_CACHE": str(cache), TEST_UPSTREAM: upstream.base, "TERRITOIRES_SCOPE": "occitanie", "COLUMNS": "120"}
    return subprocess.run([str(BIN), command, *args], capture_output=True, text=True, env=env, timeout=900)


def _occitanie() -> list[Dataset]:
    return [code_dataset(t) for t in ("communes", "epci", "departements", "regions")] + commune_datasets(OCCITANIE)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_data_downloads_checks_and_builds_from_an_empty_cache(mirror: Path, tmp_path: Path, artifacts: Path):
    wanted = _occitanie()
    with serve_upstream(mirror) as upstream:
        start = time.perf_counter()
        cold = run_data(tmp_path, upstream)
        elapsed = time.perf_counter() - start
        assert cold.returncode == 0, cold.stderr
        assert "tqdm" not in cold.stderr and "Traceback" not in cold.stderr
        assert all(ds.id in cold.stderr for ds in wanted), cold.stderr  # one progress line per download, on stderr
        assert "COG 2018 polygons in:" in cold.stdout and "4,485" in cold.stdout
        assert upstream.requests == Counter({_path(ds): 1 for ds in wanted})  # every file once, nothing else
        downloaded = sorted((tmp_path / "downloads").iterdir())
        assert [p.name for p in downloaded] == sorted(ds.file.replace("/", "__") for ds in wanted)
        by_name = {ds.file.replace("/", "__"): ds for ds in wanted}
        assert all(sha256_of(p) == by_name[p.name].sha256 for p in downloaded)
        total = sum(p.stat().st_size for p in downloaded)
        assert upstream.bytes_sent == total
        (artifacts / "loopback-download.txt").write_text(
            f"territoires data, Occitanie, empty cache, loopback: {len(downloaded)} files, {total:,} bytes, {elapsed:.1f} s "
            "(download, sha256, build and report, one process)\n", encoding="utf-8")

        warm = run_data(tmp_path, upstream, "--json")  # the cache is used: no request
        assert warm.returncode == 0, warm.stderr
        assert sum(upstream.requests.values()) == len(wanted)
    rep = json.loads(warm.stdout)["reconciliation"]
    assert (rep["polygons_in"], rep["communes_out"], rep["unplaced"]) == (4485, 4446, [])

    # the programme files are read from a mirror only: without one, data and check name each programme left out, one line each
    programmes = [p for p in PROGRAMMES if catalogue()[p.dataset].mirror_only]
    assert programmes and json.loads(warm.stdout)["not_loaded"].keys() == {p.id for p in programmes}
    lines = [line for line in cold.stdout.splitlines() if " not loaded: " in line]
    assert [line.split()[1] for line in lines] == [p.id for p in programmes]
    assert all(line.endswith("Fix: set TERRITOIRES_MIRROR to a mirror holding it.") for line in lines)
    with serve_upstream(mirror) as upstream:
        check = run_data(tmp_path, upstream, command="check")
    assert check.returncode == 0, check.stderr
    for p in programmes:
        assert f"programme {p.id} ({p.name}) not loaded: its file {catalogue()[p.dataset].file} was converted from" in check.stdout
    assert "scheme conseils-citoyens-contrat-de-ville not loaded: its members are quartiers" in check.stdout
    assert f"{len(programmes) + 1} not loaded" in check.stdout.splitlines()[0]


def test_a_corrupt_download_is_one_line_naming_dataset_address_and_fix(mirror: Path, tmp_path: Path, artifacts: Path):
    ds = catalogue()["communes-31"]
    with serve_upstream(mirror) as upstream:
        upstream.corrupt.add(_path(ds))
        out = run_data(tmp_path, upstream)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    [line] = _errors(out.stderr)
    url = upstream.base + _path(ds)
    assert line.startswith(f"error: dataset communes-31: the file downloaded from {url} has sha256 ")
    assert f"not the declared {ds.sha256}" in line and "Fix: run the command again" in line and "TERRITOIRES_MIRROR" in line
    assert not any(p.name.startswith(("communes-31", ".")) or "communes-31" in p.name for p in (tmp_path / "downloads").iterdir())
    (artifacts / "loopback-download-errors.txt").write_text(line + "\n", encoding="utf-8")


def test_a_404_is_one_line_naming_dataset_address_and_fix(mirror: Path, tmp_path: Path, artifacts: Path):
    ds = code_dataset("epci")
    with serve_upstream(mirror) as upstream:
        upstream.missing.add(_path(ds))
        out = run_data(tmp_path, upstream)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    [line] = _errors(out.stderr)
    assert line == (f"error: dataset {ds.id}: {upstream.base + _path(ds)} answered HTTP 404 Not Found. Fix: the file is no longer at "
                    f"this address: declare its new url (and sha256) in boundaries/sources.yaml, or set TERRITOIRES_MIRROR to a "
                    f"mirror directory holding {ds.file}.")
    with (artifacts / "loopback-download-errors.txt").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def test_an_unreachable_host_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ds = code_dataset("regions")
    with serve_upstream(tmp_path) as upstream:
        base = upstream.base
    monkeypatch.setenv(TEST_UPSTREAM, base)  # the server is gone: connection refused
    with pytest.raises(SourceError) as exc:
        fetch(ds, Settings(mirror=None, cache=tmp_path / "cache"))
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"dataset {ds.id}: cannot download {base}{_path(ds)} (ConnectionError)")
    assert "Fix: check the network" in text and "TERRITOIRES_MIRROR" in text
