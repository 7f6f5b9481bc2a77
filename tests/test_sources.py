"""Dataset catalogue and loader: mirror reads, checksums, errors that name the fix."""
from __future__ import annotations

from pathlib import Path

import pytest

import geo.sources
from geo.config import Settings
from geo.errors import SourceError
from geo.sources import catalogue, fetch, sha256_of


def test_every_declared_dataset_is_in_the_mirror_with_its_checksum(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(geo.sources, "download", lambda *a, **k: pytest.fail("the network was touched with a mirror set"))
    datasets = list(catalogue().values())
    assert len([d for d in datasets if d.group == "communes"]) == 101
    for ds in datasets:
        path = fetch(ds, settings)
        assert path.is_file() and sha256_of(path) == ds.sha256


def test_every_downloadable_dataset_has_an_official_address():
    for ds in catalogue().values():
        if ds.mirror_only:
            assert ds.provenance and ds.provenance.startswith(("https://github.com/anct-carto/", "https://github.com/ToulouseDataViz/")), ds.id
        else:
            assert ds.url and ds.url.startswith("https://"), ds.id
            assert ds.file.rsplit("/", 1)[-1].split("-")[0] in ds.url or ds.group == "communes", ds.id


def test_mirror_only_dataset_without_mirror_says_how_to_fix(tmp_path: Path):
    ds = catalogue()["acv-2025"]
    with pytest.raises(SourceError, match="TERRITOIRES_MIRROR"):
        fetch(ds, Settings(mirror=None, cache=tmp_path))
