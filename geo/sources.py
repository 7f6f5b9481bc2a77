"""The dataset catalogue (boundaries/sources.yaml) and the loader: mirror directory or checked download."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pooch
import yaml

from boundaries import SOURCES
from geo.config import Settings
from geo.errors import SourceError


@dataclass(frozen=True)
class Dataset:
    """One declared dataset: where it lives upstream and in the mirror, and its checksum."""

    id: str
    group: str
    file: str
    sha256: str
    url: str | None = None
    mirror_only: bool = False
    provenance: str | None = None
    title: str | None = None
    licence: str | None = None
    vintage: str | None = None
    as_of: str | None = None
    departement: str | None = None


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Dataset]:
    """Every declared dataset by id, with its group's title, vintage and licence filled in."""
    spec = yaml.safe_load(SOURCES.read_text(encoding="utf-8"))
    groups = spec["groups"]
    out: dict[str, Dataset] = {}
    for ds_id, entry in spec["datasets"].items():
        group = groups[entry["group"]]
        merged = {k: group.get(k) for k in ("title", "licence", "vintage", "provenance")} | entry
        merged["as_of"] = str(merged["as_of"]) if merged.get("as_of") else None
        out[ds_id] = Dataset(id=ds_id, **merged)
    return out


def commune_datasets(departements: tuple[str, ...] | None) -> list[Dataset]:
    """Commune boundary datasets for the given départements (all when None)."""
    found = [d for d in catalogue().values() if d.group == "communes"]
    if departements is None:
        return found
    return [d for d in found if d.departement in departements]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(dataset: Dataset, settings: Settings, progress: bool = False) -> Path:
    """Local path of a dataset, checked against its sha256.

    With a mirror, the file is read from ``mirror/<file>`` and the network is never touched.
    Without one, the file is downloaded once into the cache (pooch: progress bar, checksum).
    """
    if settings.mirror is not None:
        path = settings.mirror / dataset.file
        if not path.is_file():
            raise SourceError(
                f"dataset {dataset.id}: file not found at {path} (expected sha256 {dataset.sha256}). "
                f"Fix: point TERRITOIRES_MIRROR (or --mirror) at a directory laid out like the reference "
                f"mirror, holding {dataset.file}."
            )
        actual = sha256_of(path)
        if actual != dataset.sha256:
            raise SourceError(
                f"dataset {dataset.id}: checksum mismatch for {path}: expected sha256 {dataset.sha256}, "
                f"got {actual}. Fix: restore the original file"
                + (f" from {dataset.url}" if dataset.url else "")
                + ", or declare the new version's sha256 in boundaries/sources.yaml."
            )
        return path
    if dataset.mirror_only or not dataset.url:
        raise SourceError(
            f"dataset {dataset.id} ({dataset.file}) was converted from {dataset.provenance} and is only read "
            f"from a mirror (expected sha256 {dataset.sha256}). Fix: set TERRITOIRES_MIRROR to a mirror "
            f"directory holding {dataset.file}."
        )
    target = settings.cache / "downloads"
    try:
        return Path(
            pooch.retrieve(
                dataset.url,
                known_hash=f"sha256:{dataset.sha256}",
                fname=dataset.file.replace("/", "__"),
                path=target,
                progressbar=progress,
            )
        )
    except Exception as exc:  # network errors, checksum errors: one message with the fix
        raise SourceError(
            f"dataset {dataset.id}: download from {dataset.url} into {target} failed ({exc}); "
            f"expected sha256 {dataset.sha256}. Fix: check the network, or set TERRITOIRES_MIRROR to a "
            f"mirror directory holding {dataset.file}."
        ) from exc
