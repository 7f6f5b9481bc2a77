"""Refreshing the data in service on the real data: a failed refresh (corrupt source, bad scheme file) leaves the
published version in service; a good edit publishes a new version, and a ModelHolder following the pointer
switches to it, and keeps it when a later version cannot be loaded.

Each test gets its own cache (seeded with the session's build) and its own copy of the scheme catalogue.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from datamirror import corrupted, partial_mirror, seeded_cache

from bench.server import running_service
from boundaries import SCHEMES_DIR
from geo.cachefiles import locked
from geo.config import Settings
from geo.errors import InputError, SourceError
from geo.snapshot import decode_catalogue, encode_catalogue
from geo.sources import catalogue as datasets
from geo.versions import (
    PUBLISH_LOCK,
    VERSIONS_LOCK,
    builds_dir,
    check_published,
    load_published,
    pointer_path,
    publish,
    read_pointer,
    starting_pointer,
)
from service.state import ModelHolder

#: A scheme written by these tests only (it is not catalogue data): one real 2026 commune, Toulouse.
TEST_SCHEME = """\
id: test-fixture-toulouse
name: Test fixture (tests/test_refresh.py) — Toulouse only
kind: contract
member_scale: commune
members:
  - {code: "31555", role: test}
source: {title: test fixture written by tests/test_refresh.py, url: "https://example.org/test-fixture"}
as_of: 2024-01-01
notes: Written by the test suite into a temporary copy of boundaries/schemes; never part of the catalogue.
"""
BAD_SCHEME = TEST_SCHEME.replace("test-fixture-toulouse", "test-fixture-bad").replace('"31555"', '"30157"')


@pytest.fixture()
def deployment(settings: Settings, tmp_path: Path) -> tuple[Settings, dict]:
    """A deployment with its own cache and scheme directory, and the version it has in service."""
    schemes = tmp_path / "schemes"
    shutil.copytree(SCHEMES_DIR, schemes, ignore=shutil.ignore_patterns("*.md"))
    s = Settings(mirror=settings.mirror, cache=seeded_cache(settings, tmp_path / "cache"), schemes=schemes)
    return s, publish(s)


def _in_service(s: Settings, pointer: dict) -> None:
    """The pointer still names ``pointer``'s version, and loading what it names gives that version."""
    assert read_pointer(s) == pointer
    model = load_published(s)
    assert model.version == pointer["version"]
    assert "test-fixture-toulouse" not in model.catalogue.schemes and "dialogue-metropolitain" in model.catalogue.schemes


def test_corrupt_source_on_rebuild_keeps_the_version_in_service(deployment: tuple[Settings, dict], mirror: Path, tmp_path: Path):
    s, before = deployment
    builds = sorted(p.name for p in (s.cache / "builds").iterdir())
    ds = datasets()["communes-31"]
    bad = replace(s, mirror=partial_mirror(mirror, tmp_path / "mirror", {ds.file: corrupted(mirror, ds.file)}))
    with pytest.raises(SourceError) as exc:
        publish(bad, rebuild=True)
    assert "communes-31" in str(exc.value) and ds.sha256 in str(exc.value) and "Fix: restore the original file" in str(exc.value)
    _in_service(s, before)
    assert sorted(p.name for p in (s.cache / "builds").iterdir()) == builds  # no half build, no new snapshot


def test_bad_scheme_file_keeps_the_version_in_service(deployment: tuple[Settings, dict]):
    s, before = deployment
    (s.schemes / "test-fixture-bad.yaml").write_text(BAD_SCHEME, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        publish(s)
    assert [p.code for p in exc.value.problems] == ["30157"] and "30052" in exc.value.problems[0].fix
    _in_service(s, before)


def test_good_edit_publishes_a_new_version(deployment: tuple[Settings, dict]):
    s, before = deployment
    (s.schemes / "test-fixture-toulouse.yaml").write_text(TEST_SCHEME, encoding="utf-8")
    after = publish(s)
    assert after["version"] != before["version"] and read_pointer(s) == after
    model = load_published(s)
    assert model.version == after["version"]
    scheme = model.catalogue.get("test-fixture-toulouse")
    assert scheme.codes == ["31555"]
    assert any(r["id"] == "test-fixture-toulouse" and r["role"] == "test" for r in model.stack("31555")["schemes"])
    assert not any(r["id"] == "test-fixture-toulouse" for r in model.stack("31069")["schemes"])  # Blagnac is not listed


def test_a_starting_service_publishes_edited_scheme_files_and_keeps_serving_through_a_broken_one(deployment: tuple[Settings, dict]):
    """`serve` (and a worker starting) never ignores an edited scheme file, and a broken one never stops it."""
    s, before = deployment
    assert starting_pointer(s) == (before, None)  # nothing changed: the version in service, nothing published
    (s.schemes / "test-fixture-toulouse.yaml").write_text(TEST_SCHEME, encoding="utf-8")
    edited, problems = starting_pointer(s)
    assert problems is None and edited["version"] != before["version"] and read_pointer(s) == edited
    assert "test-fixture-toulouse" in load_published(s, starting=True).catalogue.schemes
    (s.schemes / "test-fixture-bad.yaml").write_text(BAD_SCHEME, encoding="utf-8")
    kept, problems = starting_pointer(s)
    assert kept == edited and read_pointer(s) == edited and [p.code for p in problems.problems] == ["30157"]
    assert load_published(s, starting=True).version == edited["version"]


def _wait(condition, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_model_holder_follows_the_pointer_and_keeps_its_model_when_loading_fails(deployment: tuple[Settings, dict]):
    s, before = deployment
    holder = ModelHolder(s, interval=0.0)
    assert holder.load().version == before["version"]

    (s.schemes / "test-fixture-toulouse.yaml").write_text(TEST_SCHEME, encoding="utf-8")
    after = publish(s)
    assert holder.model.version == before["version"]  # nothing changes until the holder looks at the pointer

    def switched() -> bool:
        holder.maybe_reload()
        return holder.model.version == after["version"]
    assert _wait(switched), holder.last_error
    assert holder.last_error is None and "test-fixture-toulouse" in holder.model.catalogue.schemes
    current = holder.model

    # a pointer naming a snapshot that does not exist (deleted by hand, lost disk): the holder keeps its model
    root = pointer_path(s).parent
    broken = after | {"catalogue": "occitanie-catalogue-deleted.json", "version": "deleted", "published_ns": time.time_ns()}
    assert not (root / broken["catalogue"]).exists()
    pointer_path(s).write_text(json.dumps(broken), encoding="utf-8")

    def failed() -> bool:
        holder.maybe_reload()
        return holder.last_error is not None
    assert _wait(failed)
    assert holder.last_error.startswith(f"CacheError: {root / broken['catalogue']}: the catalogue snapshot of version deleted does not exist")
    assert holder.last_error.endswith("— fix: run `territoires refresh` to publish a new version")
    assert holder.model is current and holder.model.version == after["version"]


def test_publishing_another_deployment_in_the_same_cache_keeps_this_version(deployment: tuple[Settings, dict], tmp_path: Path):
    """Pruning old versions spares every version a pointer in the cache names (several scheme dirs share one cache)."""
    s, before = deployment
    other_schemes = tmp_path / "other-schemes"
    shutil.copytree(s.schemes, other_schemes)
    other = replace(s, schemes=other_schemes)
    assert pointer_path(other) != pointer_path(s)
    for i in range(4):  # each publish makes a new snapshot; older ones of the other deployment get pruned
        (other_schemes / "test-fixture-toulouse.yaml").write_text(TEST_SCHEME.replace("role: test", f"role: test-{i}"), encoding="utf-8")
        publish(other)
    _in_service(s, before)


def test_a_version_built_from_other_inputs_is_not_served(settings, tmp_path, monkeypatch):
    """After the inputs or the build format change, the old pointer is not loaded: a new version is published."""
    import geo.territories
    from geo.versions import current_pointer, load_published, publish

    s = Settings(mirror=settings.mirror, cache=seeded_cache(settings, tmp_path / "cache"), scope=settings.scope)
    old = publish(s)
    assert current_pointer(s) == old
    monkeypatch.setattr(geo.territories, "BUILD_FORMAT", geo.territories.BUILD_FORMAT + 1)
    assert current_pointer(s) is None
    model = load_published(s)
    assert model.territories.version != old["version"].split("-")[0] and current_pointer(s) is not None


# --- publication and pruning against each other (several refreshes, readers) -----------------------------------

BIN = Path(sys.executable).parent / "territoires"


def test_concurrent_refreshes_leave_every_pointer_naming_an_existing_version_and_serve_starts(settings: Settings, tmp_path: Path):
    """Four `territoires refresh --rebuild` at once on one cache, for two deployments (scheme directories): before
    the publication lock, one pointer in two named a build another process had just pruned, and all exited 0."""
    cache = seeded_cache(settings, tmp_path / "cache")
    deployments = []
    for i in range(2):
        shutil.copytree(SCHEMES_DIR, tmp_path / f"schemes-{i}", ignore=shutil.ignore_patterns("*.md"))
        deployments.append(Settings(mirror=settings.mirror, cache=cache, schemes=tmp_path / f"schemes-{i}"))
    base = {k: v for k, v in os.environ.items() if not k.startswith("TERRITOIRES_")} | {
        "TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(cache), "TERRITOIRES_RATE_LIMIT": "0"}
    procs = [subprocess.Popen([str(BIN), "refresh", "--rebuild", "--json"], env=base | {"TERRITOIRES_SCHEMES": str(d.schemes)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for d in deployments * 2]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err[-500:] for _, err in outs]
    assert all("Traceback" not in out + err for out, err in outs)
    for d in deployments:  # each pointer names a complete build and a snapshot matching its checksum
        pointer = check_published(d)
        assert pointer in [json.loads(out) for out, _ in outs]
        assert load_published(d).version == pointer["version"]
    assert not list((cache / "builds").glob(".tmp-*"))
    with running_service(2, base | {"TERRITOIRES_SCHEMES": str(deployments[1].schemes)}) as (url, _):
        assert httpx.get(url + "/healthz").json()["version"] == read_pointer(deployments[1])["version"]


def _in_thread(target, *args) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(target(*args)), daemon=True)
    thread.start()
    return thread, result


def test_a_publisher_waits_for_the_one_in_progress(deployment: tuple[Settings, dict]):
    """While another process publishes (holds the publication lock, e.g. between writing its build and naming
    it), a second publisher neither builds, prunes nor switches the pointer."""
    s, before = deployment
    with locked(builds_dir(s) / PUBLISH_LOCK):
        thread, result = _in_thread(publish, s)
        thread.join(timeout=3)
        assert thread.is_alive() and read_pointer(s) == before
    thread.join(timeout=300)
    assert result and read_pointer(s) == result[0] != before


def test_nothing_is_pruned_while_a_reader_reads_a_version(deployment: tuple[Settings, dict]):
    """A worker reading what a pointer names holds the readers' lock: a publisher builds meanwhile, but switches
    the pointer and prunes only once the reader is done."""
    s, before = deployment
    (s.schemes / "test-fixture-toulouse.yaml").write_text(TEST_SCHEME, encoding="utf-8")
    snapshots = set(builds_dir(s).glob("*.json"))
    with locked(builds_dir(s) / VERSIONS_LOCK, shared=True):
        thread, result = _in_thread(publish, s)
        assert _wait(lambda: set(builds_dir(s).glob("*.json")) - snapshots, timeout=300)  # built, validated, snapshot written
        thread.join(timeout=1)
        assert thread.is_alive() and read_pointer(s) == before
        assert (builds_dir(s) / before["territories"]).is_dir() and (builds_dir(s) / before["catalogue"]).is_file()
    thread.join(timeout=300)
    assert result and read_pointer(s) == result[0] and result[0]["version"] != before["version"]


# --- what is published: data, not code, readable by the service's user --------------------------------------------

def test_snapshot_is_json_that_reads_back_the_same_catalogue(deployment: tuple[Settings, dict], model):
    s, pointer = deployment
    data = (builds_dir(s) / pointer["catalogue"]).read_bytes()
    assert pointer["catalogue"].endswith(".json") and data.startswith(b'{"format":1,')
    assert hashlib.sha256(data).hexdigest() == pointer["catalogue_sha256"]
    assert decode_catalogue(data) == load_published(s).catalogue
    assert decode_catalogue(encode_catalogue(model.catalogue)) == model.catalogue  # with every programme


@pytest.mark.parametrize("umask, dirs, files", [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)])
def test_published_files_follow_the_umask(settings: Settings, tmp_path: Path, umask: int, dirs: int, files: int):
    """Another user of the machine (the service's) can read what `territoires refresh` publishes when the umask says so."""
    s = Settings(mirror=settings.mirror, cache=tmp_path / "cache")
    old = os.umask(umask)
    try:
        pointer = publish(s, rebuild=True)
    finally:
        os.umask(old)
    root = builds_dir(s)
    published = [root / pointer["territories"], *(root / pointer["territories"]).iterdir(), root / pointer["catalogue"],
                 pointer_path(s), root / PUBLISH_LOCK, root / VERSIONS_LOCK]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in published}
    assert modes == {p.name: dirs if p.is_dir() else files for p in published}
