"""The deployment's imported member lists, kept in its data directory (``TERRITOIRES_DATA_DIR``) as numbered versions.

One source of truth: every process of a deployment (`territoires refresh`, `serve` and its workers, the admin page)
reads the member list in service from here, never from a variable of its own::

    <data dir>/members/
        current.json              {"version": 3}: the version in service (0, or no file: no imported member)
        .lock                     one writer of versions at a time (flock)
        versions/000003/
            record.json           who published it, when, from which file (sha256), what it changed
            members.json          every imported member, by scheme (JSON, read back field by field: data only)
            fichier.xlsx          the uploaded file as received (provenance; never opened again as anything but bytes)

A version is written whole (a temporary directory renamed), put in service by geo/versions.py only once the catalogue
built with it is valid, and never changed afterwards but for its record's state. The ``keep_versions`` newest versions
are kept (with their files), and the one in service always.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from geo.cachefiles import cache_error, locked, new_directory, write_atomic
from geo.config import Settings
from geo.errors import CacheError, NotFound, Problem
from geo.schemes import Member
from geo.snapshot import SnapshotError, decode_members, encode_members

CURRENT, LOCK, VERSIONS = "current.json", ".lock", "versions"
PENDING, PUBLISHED = "en attente", "publiée"
PENDING_STALE_S = 3600  # a version left pending by a killed process is swept after an hour


@dataclass(frozen=True)
class Upload:
    """A member-list file as received: its name (text only, shown escaped) and its bytes."""

    name: str
    data: bytes
    kind: str  # "csv" or "xlsx"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class UnknownVersion(NotFound):
    """A member-list version the data directory does not hold (never published, or pruned)."""


def root(settings: Settings) -> Path:
    return settings.data_dir / "members"


def _dir(settings: Settings, number: int) -> Path:
    return root(settings) / VERSIONS / f"{number:06d}"


def in_service(settings: Settings) -> int:
    """The number of the member-list version in service; 0 when none was ever published."""
    try:
        value = json.loads((root(settings) / CURRENT).read_bytes()).get("version")
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, AttributeError) as exc:
        raise CacheError(Problem(str(root(settings) / CURRENT), None, f"the member list in service cannot be read ({exc})",
                                 "roll back to a version listed by `territoires versions` (`territoires rollback N`)")) from None
    if not isinstance(value, int) or value < 0:
        raise CacheError(Problem(str(root(settings) / CURRENT), None, f"names no version ({value!r})",
                                 "roll back to a version listed by `territoires versions` (`territoires rollback N`)"))
    return value


def content(settings: Settings, number: int) -> dict[str, tuple[Member, ...]]:
    """The imported members of a version, by scheme id (version 0: none); checked against the sha256 its record keeps."""
    if number == 0:
        return {}
    path = _dir(settings, number) / "members.json"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnknownVersion(f"La version {number} des listes de membres n'existe pas (jamais publiée, ou supprimée au-delà "
                             f"des {settings.keep_versions} versions gardées).") from None
    except OSError as exc:
        raise cache_error(exc, f"read the member list of version {number}", path) from exc
    expected = record(settings, number).get("members_sha256")
    if hashlib.sha256(data).hexdigest() != expected:
        raise CacheError(Problem(str(path), None, f"the member list of version {number} was changed after it was written",
                                 "roll back to another version (`territoires rollback N`), and find out what else writes into the data directory"))
    try:
        return decode_members(data)
    except SnapshotError as exc:
        raise CacheError(Problem(str(path), None, f"the member list of version {number} cannot be read ({exc})",
                                 "roll back to another version (`territoires rollback N`)")) from None


def record(settings: Settings, number: int) -> dict:
    """What a version's record says (who, when, which file, what changed)."""
    path = _dir(settings, number) / "record.json"
    try:
        value = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UnknownVersion(f"La version {number} des listes de membres n'existe pas.") from None
    except (OSError, ValueError) as exc:
        raise CacheError(Problem(str(path), None, f"the record of version {number} cannot be read ({exc})", "remove the directory")) from None
    if not isinstance(value, dict) or value.get("version") != number:
        raise CacheError(Problem(str(path), None, f"is not the record of version {number}", "remove the directory"))
    return value


def history(settings: Settings) -> list[dict]:
    """The published versions kept, newest first, each record with ``in_service``."""
    current = in_service(settings)
    out = []
    for number in reversed(_numbers(settings)):
        with suppress(UnknownVersion, CacheError):
            r = record(settings, number)
            if r.get("state") == PUBLISHED:
                out.append({**r, "in_service": number == current})
    return out


def upload_path(settings: Settings, number: int) -> Path | None:
    """The file a version was published from (None for a rollback, which has none of its own)."""
    stored = (record(settings, number).get("file") or {}).get("stored")
    return _dir(settings, number) / stored if stored else None


def _numbers(settings: Settings) -> list[int]:
    try:
        names = os.listdir(root(settings) / VERSIONS)
    except FileNotFoundError:
        return []
    return sorted(int(n) for n in names if n.isdigit())


@contextmanager
def writing(settings: Settings) -> Iterator[None]:
    """Hold the data directory's writer lock: one new version at a time, across processes."""
    directory = root(settings)
    try:
        (directory / VERSIONS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cache_error(exc, "create the member-list directory", directory) from exc
    with locked(directory / LOCK):
        yield


def add_version(settings: Settings, members: dict[str, tuple[Member, ...]], *, by: str, action: str, schemes: list[str],
                changes: dict, upload: Upload | None = None, restores: int | None = None) -> int:
    """Write a new version (pending: not in service) and return its number; call under :func:`writing`."""
    number = max([*_numbers(settings), in_service(settings)], default=0) + 1
    data = encode_members(members)
    rec = {"version": number, "state": PENDING, "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           "by": by, "action": action, "restores": restores, "schemes": schemes, "changes": changes,
           "members_sha256": hashlib.sha256(data).hexdigest(), "members": sum(len(v) for v in members.values()), "file": None}
    target = _dir(settings, number)
    try:
        with new_directory(target) as tmp:
            if upload is not None:
                stored = f"fichier.{upload.kind}"
                (tmp / stored).write_bytes(upload.data)
                os.chmod(tmp / stored, 0o444)  # provenance: read only, never executed
                rec["file"] = {"name": upload.name, "sha256": upload.sha256, "bytes": len(upload.data), "stored": stored}
            (tmp / "members.json").write_bytes(data)
            (tmp / "record.json").write_bytes(json.dumps(rec, ensure_ascii=False, indent=1).encode())
    except OSError as exc:
        raise cache_error(exc, f"write version {number} of the member lists", target) from exc
    return number


def mark_published(settings: Settings, number: int, data_version: str) -> None:
    """Record that a version went into service, with the data version it made."""
    path = _dir(settings, number) / "record.json"
    try:
        write_atomic(path, json.dumps({**record(settings, number), "state": PUBLISHED, "data_version": data_version},
                                      ensure_ascii=False, indent=1).encode())
    except OSError as exc:
        raise cache_error(exc, f"record the publication of version {number}", path) from exc


def drop_version(settings: Settings, number: int) -> None:
    """Remove a version that did not go into service (its catalogue was invalid, or writing failed)."""
    shutil.rmtree(_dir(settings, number), ignore_errors=True)


def set_in_service(settings: Settings, number: int) -> None:
    """Name the version in service (geo/versions.py, under its lock, right before switching the data pointer)."""
    path = root(settings) / CURRENT
    try:
        write_atomic(path, json.dumps({"version": number}).encode())
    except OSError as exc:
        raise cache_error(exc, f"put member-list version {number} in service", path) from exc


def prune(settings: Settings) -> list[int]:
    """Remove published versions beyond the ``keep_versions`` newest (never the one in service) and pending versions a
    killed process left more than an hour ago; returns the numbers removed. Call under :func:`writing`."""
    current = in_service(settings)
    numbers = _numbers(settings)
    removed = []
    for number in numbers:
        state = None
        with suppress(UnknownVersion, CacheError):
            state = record(settings, number).get("state")
        stale = state != PUBLISHED and _age(_dir(settings, number)) > PENDING_STALE_S
        if number != current and (stale or (state == PUBLISHED and number not in _kept(settings, numbers))):
            drop_version(settings, number)
            removed.append(number)
    return removed


def _kept(settings: Settings, numbers: list[int]) -> set[int]:
    published = [n for n in numbers if _published(settings, n)]
    return set(published[-settings.keep_versions:])


def _published(settings: Settings, number: int) -> bool:
    with suppress(UnknownVersion, CacheError):
        return record(settings, number).get("state") == PUBLISHED
    return False


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0
