"""Shared fixtures: every test runs on the real data mirror, and fails loudly when it is missing."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo.config import Settings
from geo.model import Model, load_model

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def _mirror() -> Path:
    value = os.environ.get("TERRITOIRES_MIRROR")
    if not value:
        pytest.exit("TERRITOIRES_MIRROR is not set: the tests run on the real data mirror (make test sets it to ../shared/data)", returncode=1)
    path = Path(value).resolve()
    if not (path / "cog").is_dir() or not (path / "boundaries").is_dir():
        pytest.exit(f"TERRITOIRES_MIRROR={value} is not a data mirror (no cog/ and boundaries/ inside)", returncode=1)
    return path


@pytest.fixture(scope="session")
def mirror() -> Path:
    return _mirror()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache shared by the session (set TERRITOIRES_TEST_CACHE to reuse builds across runs)."""
    fixed = os.environ.get("TERRITOIRES_TEST_CACHE")
    return Path(fixed) if fixed else tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def settings(mirror: Path, cache_dir: Path) -> Settings:
    return Settings(mirror=mirror, cache=cache_dir, scope="occitanie")


@pytest.fixture(scope="session")
def france_settings(mirror: Path, cache_dir: Path) -> Settings:
    return Settings(mirror=mirror, cache=cache_dir, scope="france")


@pytest.fixture(scope="session")
def model(settings: Settings) -> Model:
    """The Occitanie model built from the mirror."""
    return load_model(settings)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def client(settings: Settings):
    """A TestClient on the service, built once per session from the mirror (the app loads its model at start-up)."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client
