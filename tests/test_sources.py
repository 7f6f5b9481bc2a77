"""Dataset catalogue and loader: mirror reads, checksums, errors that name the fix."""
from __future__ import annotations

import shutil
from pathlib import Path

import pooch
import pytest

from geo.config import Settings
from geo.errors import SourceError
from geo.sources import catalogue, fetch, sha256_of


def test_every_declared_dataset_is_in_the_mirror_with_its_checksum(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pooch, "retrieve", lambda *a, **k: pytest.fail("the network was touched with a mirror set"))
    datasets = list(catalogue().values())
    assert len([d for d in datasets if d.group == "communes"]) == 101
    for ds in datasets:
        path = fetch(ds, settings)
        assert path.is_file() and sha256_of(path) == ds.sha256


def test_every_downloadable_dataset_has_an_official_address():
    for ds in catalogue().values():
        if ds.mirror_only:
            assert ds.provenance and ds.provenance.startswith("https://github.com/anct-carto/"), ds.id
        else:
            assert ds.url and ds.url.startswith("https://"), ds.id
            assert ds.file.rsplit("/", 1)[-1].split("-")[0] in ds.url or ds.group == "communes", ds.id


def _copy_mirror(src: Path, dst: Path, dataset_file: str) -> Path:
    target = dst / dataset_file
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / dataset_file, target)
    return target


def test_mirror_only_dataset_without_mirror_says_how_to_fix(tmp_path: Path):
    ds = catalogue()["acv-2025"]
    with pytest.raises(SourceError, match="TERRITOIRES_MIRROR"):
        fetch(ds, Settings(mirror=None, cache=tmp_path))


def test_download_failure_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("no route to host")
    monkeypatch.setattr(pooch, "retrieve", refuse)
    ds = catalogue()["cog-epci"]
    with pytest.raises(SourceError) as exc:
        fetch(ds, Settings(mirror=None, cache=tmp_path))
    assert ds.url in str(exc.value) and ds.sha256 in str(exc.value) and "no route to host" in str(exc.value)


def test_download_goes_through_pooch_with_the_declared_checksum(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch):
    ds = catalogue()["cog-regions"]
    calls = {}

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.update(url=url, known_hash=known_hash)
        return str(_copy_mirror(mirror, Path(path), ds.file))
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    assert fetch(ds, Settings(mirror=None, cache=tmp_path)).is_file()
    assert calls == {"url": ds.url, "known_hash": f"sha256:{ds.sha256}"}
