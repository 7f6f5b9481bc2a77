"""The dataset catalogue (boundaries/sources.yaml) and the loader: mirror directory or checked download."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

import yaml

from boundaries import SOURCES
from geo.config import Settings
from geo.download import download, sha256_of
from geo.errors import SourceError
from geo.periods import french_date

MODEL_COLUMNS = {"code": "code", "nom": "nom"}  # the model's column → the file's column, unless declared


@dataclass(frozen=True)
class Group:
    """What a group's datasets share: role in the build, vintage and how it is named, licence, columns."""

    id: str
    title: str | None = None
    role: str | None = None
    label: str | None = None
    vintage: str | None = None
    licence: str | None = None
    provenance: str | None = None
    columns: dict[str, str] = field(default_factory=lambda: dict(MODEL_COLUMNS), hash=False)


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
    table: str | None = None
    columns: dict[str, str] = field(default_factory=lambda: dict(MODEL_COLUMNS), hash=False)


@dataclass(frozen=True)
class Sources:
    """A parsed sources file: groups and datasets by id."""

    groups: dict[str, Group]
    datasets: dict[str, Dataset]

    def role(self, role: str) -> Group:
        """The one group declared with this role (``geometry`` or ``codes``)."""
        found = [g for g in self.groups.values() if g.role == role]
        if len(found) != 1:
            raise SourceError(f"boundaries/sources.yaml: {len(found)} groups have role {role!r} "
                              f"({', '.join(g.id for g in found) or 'none'}). Fix: give exactly one group `role: {role}`.")
        return found[0]


def read_sources(path: Path) -> Sources:
    """Parse a sources file; each dataset inherits its group's title, vintage, licence, provenance and columns."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    for kind, cls in (("groups", Group), ("datasets", Dataset)):
        known = {f.name for f in fields(cls)}
        for key, entry in spec[kind].items():
            if unknown := set(entry) - known:
                raise SourceError(f"{path}: {kind[:-1]} {key} has unknown field(s) {', '.join(sorted(unknown))}. "
                                  f"Fix: use only {', '.join(sorted(known - {'id'}))}.")
    groups = {gid: Group(id=gid, **entry) for gid, entry in spec["groups"].items()}
    datasets: dict[str, Dataset] = {}
    for ds_id, entry in spec["datasets"].items():
        group = groups[entry["group"]]
        inherited = {k: getattr(group, k) for k in ("title", "licence", "vintage", "provenance", "columns")}
        merged = inherited | entry
        merged["as_of"] = str(merged["as_of"]) if merged.get("as_of") else None
        datasets[ds_id] = Dataset(id=ds_id, **merged)
    return Sources(groups, datasets)


@lru_cache(maxsize=1)
def sources() -> Sources:
    """The project's declared sources (boundaries/sources.yaml)."""
    return read_sources(SOURCES)


def catalogue() -> dict[str, Dataset]:
    """Every declared dataset by id, with its group's title, vintage, licence and columns filled in."""
    return sources().datasets


def geometry_source() -> Group:
    """The group whose commune polygons every scale is built from."""
    return sources().role("geometry")


def codes_source() -> Group:
    """The group holding the official code tables."""
    return sources().role("codes")


def commune_datasets(departements: tuple[str, ...] | None) -> list[Dataset]:
    """Commune boundary datasets of the geometry vintage for the given départements (all when None)."""
    group = geometry_source().id
    found = [d for d in catalogue().values() if d.group == group]
    if departements is None:
        return found
    return [d for d in found if d.departement in departements]


def code_dataset(table: str) -> Dataset:
    """The dataset of one official code table (communes, epci, departements, regions) in the codes vintage."""
    group = codes_source().id
    found = [d for d in catalogue().values() if d.group == group and d.table == table]
    if len(found) != 1:
        raise SourceError(f"boundaries/sources.yaml: group {group} declares {len(found)} datasets with table {table!r}. "
                          f"Fix: declare exactly one.")
    return found[0]


def perimeters() -> str:
    """'périmètres 2026': the one composition of communes and EPCI every date is shown with (the codes' vintage)."""
    label = codes_source().vintage or codes_source().label or ""
    year = "".join(ch for ch in label if ch.isdigit())[-4:]
    return f"périmètres {year}" if year else f"périmètres {label}"


def situation(at: dt.date) -> str:
    """The note every dated map shows: 'Situation au 1er juin 2016 — périmètres 2026'."""
    return f"Situation au {french_date(at)} — {perimeters()}"


def vintage_note() -> str:
    """The maps' note on vintages, in French: whose boundaries, which codes."""
    return f"Limites {geometry_source().label}, codes {codes_source().label}."


def fetch(dataset: Dataset, settings: Settings, progress: bool = False) -> Path:
    """Local path of a dataset, checked against its sha256.

    With a mirror, the file is read from ``mirror/<file>`` and the network is never touched.
    Without one, the file is downloaded once into the cache and checked (geo/download.py).
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
    return download(dataset, settings.cache / "downloads", progress)
