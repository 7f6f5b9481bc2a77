"""Data versions in service: a validated territories build plus a catalogue snapshot, switched atomically.

``publish`` builds (or reuses) the territories, loads and validates every scheme, writes a catalogue
snapshot (JSON, geo/snapshot.py) and only then replaces the pointer file ``builds/<scope>-<sources>.current``,
which records the snapshot's sha256. Workers load what the pointer names, so several workers share one
build on disk, and a refresh that fails at any step (bad file, checksum mismatch, interrupted download, full
disk) leaves the previous version in service.

Each version may have its vector tiles pre-encoded in a PMTiles archive beside its build (``builds/territoires-
<scope>-<version>-t<format>.pmtiles``, geo/archive.py): :func:`publish_tiles` writes it (``territoires tiles``, run by
``serve`` and ``refresh``), workers serve the tiles it holds from it, and it is pruned with its version.

Two lock files in ``builds/`` make publishers and readers safe against each other, across processes:
``.publish.lock`` lets one publisher at a time build, write and prune (so no publisher prunes the build
another is about to name), and ``.versions.lock`` is held shared by readers while they read what a pointer
names and exclusively by a publisher while it switches a pointer and prunes (so nothing is pruned under a
reader).

The member lists imported into the deployment's data directory (geo/memberstore.py) are part of a version: the pointer
records the member-list version it was built with, and a pointer whose member list is no longer the one in service
is not served (a new version is published first), so `territoires refresh`, `serve` and the admin page always agree.
:func:`publish_members` and :func:`rollback` put a new member list in service in one step, as a new version.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

from boundaries import SOURCES
from geo import memberstore
from geo.archive import archive_name, archive_pattern, build_archive
from geo.cachefiles import cache_error, locked, sweep_stale, write_atomic
from geo.catalogue import Catalogue, load_catalogue
from geo.config import Settings
from geo.errors import CacheError, InputError, Problem
from geo.memberlists import changes, summary
from geo.memberstore import Upload
from geo.model import Model, assemble
from geo.schemes import Member
from geo.snapshot import SnapshotError, decode_catalogue, encode_catalogue
from geo.territories import BUILD_FILES, Territories, build_key, build_stamp, ensure_build, load_saved

POINTER_KEYS = ("territories", "catalogue", "catalogue_sha256", "version")
PUBLISH_LOCK, VERSIONS_LOCK = ".publish.lock", ".versions.lock"
REFRESH = "run `territoires refresh` to publish a new version"


def builds_dir(settings: Settings) -> Path:
    return settings.cache / "builds"


def pointer_path(settings: Settings) -> Path:
    """The pointer file of a deployment: one per scope, scheme directory and data directory (where its member lists
    live), never per process: every process of the deployment reads and writes the same one."""
    sources = json.dumps([str(settings.schemes.resolve()), str(settings.data_dir.resolve())])
    return builds_dir(settings) / f"{settings.scope}-{hashlib.sha256(sources.encode()).hexdigest()[:8]}.current"


def _valid(pointer: object, scope: str) -> bool:
    """A pointer this code wrote: every key, and names of entries of the builds directory of its scope (no path)."""
    return (isinstance(pointer, dict) and all(isinstance(pointer.get(k), str) for k in POINTER_KEYS)
            and all(Path(pointer[k]).name == pointer[k] and pointer[k].startswith(f"{scope}-") for k in ("territories", "catalogue")))


def read_pointer(settings: Settings) -> dict | None:
    """The pointer of this deployment, or None when there is none or it is not one this code wrote (an older
    format, a truncated or edited file): publishing writes a new one over it."""
    try:
        pointer = json.loads(pointer_path(settings).read_bytes())
    except (OSError, ValueError):
        return None
    return pointer if _valid(pointer, settings.scope) else None


def inputs_digest(settings: Settings) -> str:
    """The scheme files and the sources declaration a catalogue is built from: a version built from other ones is not
    the one to serve (an edited scheme file is published by the next `serve` or `refresh`, never ignored)."""
    digest = hashlib.sha256()
    for path in [*sorted(settings.schemes.glob("*.yaml")), SOURCES]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def current_pointer(settings: Settings) -> dict | None:
    """The pointer, if the version it names was built from the declared inputs with this code's build format, and
    with the member list in service in the data directory."""
    pointer = read_pointer(settings)
    if pointer is None or not pointer["territories"].startswith(f"{settings.scope}-{build_key(settings)}-"):
        return None
    if pointer.get("members", 0) != memberstore.in_service(settings):
        return None
    return pointer


def publish(settings: Settings, rebuild: bool = False, progress: bool = False, members: int | None = None) -> dict:
    """Build and validate a new version, then put it in service. Raises (and changes nothing) on failure.

    ``members``: the member-list version to build it with and put in service with it (default: the one in service)."""
    root = builds_dir(settings)
    with ExitStack() as stack:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise cache_error(exc, "create the builds directory", root) from exc
        stack.enter_context(locked(root / PUBLISH_LOCK))  # one publisher at a time, from build to prune
        number = memberstore.in_service(settings) if members is None else members
        imported = memberstore.content(settings, number)
        build = ensure_build(settings, rebuild=rebuild, progress=progress)
        territories = load_saved(build)
        catalogue = load_catalogue(territories.cog, settings, imported=(number, imported))  # strict: any scheme error aborts
        model = assemble(settings, territories, catalogue)
        data = encode_catalogue(catalogue)
        snapshot = root / f"{settings.scope}-catalogue-{model.version}-{time.time_ns()}.json"
        pointer = {"territories": build.name, "catalogue": snapshot.name, "catalogue_sha256": hashlib.sha256(data).hexdigest(),
                   "version": model.version, "published_ns": time.time_ns(), "members": number, "inputs": inputs_digest(settings)}
        try:
            write_atomic(snapshot, data)
        except OSError as exc:
            raise cache_error(exc, f"write the catalogue snapshot of version {model.version}", snapshot) from exc
        target = pointer_path(settings)
        try:
            with locked(root / VERSIONS_LOCK):  # no reader between reading a pointer and what it names
                if number != memberstore.in_service(settings):
                    memberstore.set_in_service(settings, number)
                try:
                    write_atomic(target, json.dumps(pointer).encode())
                except OSError as exc:
                    raise cache_error(exc, f"put version {model.version} in service", target) from exc
                _prune(settings)
        except CacheError:
            snapshot.unlink(missing_ok=True)  # named by no pointer
            raise
    return pointer


def publish_members(settings: Settings, members: dict[str, tuple[Member, ...]], by: str, upload: Upload | None = None) -> dict:
    """Put a new member list in service as a new version: ``members`` replaces the imported members of each scheme it
    names (an empty tuple empties one). Validated with the whole catalogue first: on any problem nothing changes.
    Returns the version's record."""
    with memberstore.writing(settings):
        before = memberstore.content(settings, memberstore.in_service(settings))
        after = {k: v for k, v in ({**before, **members}).items() if v}
        found = summary(changes(before, {s: after.get(s, ()) for s in members}))
        return _publish_version(settings, after, by=by, action="import", schemes=list(members), changes=found, upload=upload)


def rollback(settings: Settings, number: int, by: str) -> dict:
    """Put the member list of an earlier version back in service, in one step, as a new version that restores it
    (history stays linear: the rollback itself can be rolled back). Returns the new version's record."""
    with memberstore.writing(settings):
        current = memberstore.in_service(settings)
        if number != 0:
            memberstore.record(settings, number)  # UnknownVersion (French) for a version never published or pruned
        before, after = memberstore.content(settings, current), memberstore.content(settings, number)
        schemes = list(dict.fromkeys([*before, *after]))
        found = summary(changes(before, {s: after.get(s, ()) for s in schemes}))
        return _publish_version(settings, after, by=by, action="rollback", schemes=schemes, changes=found, restores=number)


def _publish_version(settings: Settings, members: dict[str, tuple[Member, ...]], **record: object) -> dict:
    """Write a member-list version, publish a data version built with it, then record it as published (under the
    data directory's writer lock)."""
    number = memberstore.add_version(settings, members, **record)  # type: ignore[arg-type]
    try:
        pointer = publish(settings, members=number)
    except BaseException:
        memberstore.drop_version(settings, number)  # never in service: the previous version stays
        raise
    memberstore.mark_published(settings, number, pointer["version"])
    memberstore.prune(settings)
    return memberstore.record(settings, number)


def archive_path(settings: Settings, version: str) -> Path:
    """Where the tile archive of a version of this scope is kept (it may not be written yet)."""
    return builds_dir(settings) / archive_name(settings.scope, version)


def publish_tiles(settings: Settings, max_zoom: int) -> tuple[Path, int | None]:
    """Write the tile archive of the version in service up to ``max_zoom`` unless it is there already;
    (its path, the number of tiles written or None when it was there)."""
    pointer = check_published(settings)
    path = archive_path(settings, pointer["version"])
    if path.is_file():
        return path, None
    model = assemble(settings, *read_published(settings))
    try:
        return path, build_archive(model, path, max_zoom)
    except OSError as exc:
        raise cache_error(exc, f"write the tile archive of version {pointer['version']}", path) from exc


def check_published(settings: Settings) -> dict:
    """The pointer in service, after checking without loading it that what it names is there and intact
    (every build file, the snapshot's checksum and format); CacheError naming what is wrong otherwise."""
    root = builds_dir(settings)
    with locked(root / VERSIONS_LOCK, shared=True):
        pointer = _pointer_in_service(settings)
        build = root / pointer["territories"]
        missing = [name for name in BUILD_FILES if not (build / name).is_file()]
        if missing:
            what = "does not exist" if not build.is_dir() else f"lacks {', '.join(missing)}"
            raise CacheError(Problem(str(build), None, f"the build of version {pointer['version']} {what}", REFRESH))
        _read_snapshot(root, pointer)
    return pointer


def read_published(settings: Settings, loaded: Territories | None = None) -> tuple[Territories, Catalogue]:
    """Read the territories and the catalogue of the version in service (under the readers' lock, so that no
    publisher prunes them meanwhile); CacheError if the pointer names something missing, damaged or altered.
    ``loaded``: territories already in memory, reused when the pointer names the very build they were read from, its
    files unchanged (a new member list or scheme edit changes the catalogue only: the switch reads the snapshot alone)."""
    root = builds_dir(settings)
    with locked(root / VERSIONS_LOCK, shared=True):
        pointer = _pointer_in_service(settings)
        build = root / pointer["territories"]
        same = loaded is not None and bool(loaded.stamp) and loaded.stamp == build_stamp(build)
        return (loaded if same else load_saved(build)), _read_snapshot(root, pointer)


def starting_pointer(settings: Settings, progress: bool = False) -> tuple[dict, InputError | None]:
    """The version to serve when a service starts: the one in service if it was built from the scheme files as they are
    now; else one published from them; if they do not validate, the one in service still, with the problems (no
    edited scheme file is ignored silently, and a broken one never stops a service that has a version to serve)."""
    pointer = current_pointer(settings)
    if pointer is not None and pointer.get("inputs") == inputs_digest(settings):
        return pointer, None
    try:
        return publish(settings, progress=progress), None
    except InputError as exc:
        if pointer is None:
            raise
        return pointer, exc


def load_published(settings: Settings, loaded: Territories | None = None, starting: bool = False) -> Model:
    """The model of the version in service (publishing one first if there is none, or if the inputs, the build format
    or the member list in service changed since; when ``starting``, also if the scheme files changed — a running
    service takes edited scheme files with ``territoires refresh``)."""
    if starting:
        starting_pointer(settings)
    elif current_pointer(settings) is None:
        publish(settings)
    return assemble(settings, *read_published(settings, loaded))


def _pointer_in_service(settings: Settings) -> dict:
    pointer = current_pointer(settings)
    if pointer is None:  # another process published from other inputs (or removed the pointer) since
        raise CacheError(Problem(str(pointer_path(settings)), None, "no version of these inputs is published", REFRESH))
    return pointer


def _read_snapshot(root: Path, pointer: dict) -> Catalogue:
    """The catalogue snapshot a pointer names, verified against the checksum the pointer records."""
    path = root / pointer["catalogue"]
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise CacheError(Problem(str(path), None, f"the catalogue snapshot of version {pointer['version']} does not exist", REFRESH)) from exc
    except OSError as exc:
        raise cache_error(exc, f"read the catalogue snapshot of version {pointer['version']}", path) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != pointer["catalogue_sha256"]:
        raise CacheError(Problem(str(path), None, f"the catalogue snapshot was changed after it was published (sha256 {actual}, "
                                 f"the pointer records {pointer['catalogue_sha256']}); nothing was loaded from it",
                                 f"{REFRESH}, and find out what else writes into the cache"))
    try:
        return decode_catalogue(data)
    except SnapshotError as exc:
        raise CacheError(Problem(str(path), None, f"the catalogue snapshot cannot be read ({exc})", REFRESH)) from exc


def _prune(settings: Settings, spare: int = 2) -> None:
    """Remove old builds, snapshots and tile archives of this scope, keeping every one a pointer in the cache names (other
    deployments, scheme dirs or member lists, share it) and the ``spare`` newest others; and the temporary
    entries killed processes left. Called with both locks held: no publisher is between writing a build and
    naming it, and no reader is reading."""
    root = builds_dir(settings)
    named: set[str] = set()
    for other in root.glob("*.current"):
        try:
            pointer = json.loads(other.read_bytes())
            named |= {pointer["territories"], pointer["catalogue"], archive_path(settings, pointer["version"]).name}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    snapshots = [p for p in root.glob(f"{settings.scope}-catalogue-*") if p.is_file() and p.name not in named]
    builds = [p for p in root.glob(f"{settings.scope}-*") if p.is_dir() and p.name not in named]
    archives = [p for p in root.glob(archive_pattern(settings.scope)) if p.is_file() and p.name not in named]
    for group in (snapshots, builds, archives):
        for path in sorted(group, key=_mtime, reverse=True)[spare:]:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    sweep_stale(root)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile (a `territoires data --rebuild` does not take the publishers' lock)
        return 0.0
