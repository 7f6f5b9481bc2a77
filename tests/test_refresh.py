"""Refreshing the data in service on the real data: a failed refresh (corrupt source, bad scheme file) leaves the
published version in service; a good edit publishes a new version, and a ModelHolder following the pointer
switches to it, and keeps it when a later version cannot be loaded.

Each test gets its own cache (seeded with the session's build) and its own copy of the scheme catalogue.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from datamirror import corrupted, partial_mirror, seeded_cache

from boundaries import SCHEMES_DIR
from geo.config import Settings
from geo.errors import InputError, SourceError
from geo.sources import catalogue as datasets
from geo.versions import load_published, pointer_path, publish, read_pointer
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
