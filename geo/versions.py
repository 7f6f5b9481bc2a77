"""Data versions in service: a validated territories build plus a catalogue snapshot, switched atomically.

``publish`` builds (or reuses) the territories, loads and validates every scheme, writes a catalogue
snapshot and only then replaces the pointer file ``builds/<scope>-<sources>.current``. Workers load what the
pointer names, so several workers share one build on disk, and a refresh that fails at any step (bad
file, checksum mismatch, interrupted download) leaves the previous version in service.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path

from geo.catalogue import load_catalogue
from geo.config import Settings
from geo.model import Model, assemble
from geo.territories import build_key, ensure_build, load_saved


def pointer_path(settings: Settings) -> Path:
    """The pointer file of a deployment: one per scope and set of scheme/member sources."""
    sources = json.dumps([str(settings.schemes.resolve()), [str(p.resolve()) for p in settings.members]])
    return settings.cache / "builds" / f"{settings.scope}-{hashlib.sha256(sources.encode()).hexdigest()[:8]}.current"


def read_pointer(settings: Settings) -> dict | None:
    path = pointer_path(settings)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def publish(settings: Settings, rebuild: bool = False, progress: bool = False) -> dict:
    """Build and validate a new version, then put it in service. Raises (and changes nothing) on failure."""
    build = ensure_build(settings, rebuild=rebuild, progress=progress)
    territories = load_saved(build)
    catalogue = load_catalogue(territories.cog, settings)  # strict: any scheme error aborts the refresh
    model = assemble(settings, territories, catalogue)
    snapshot = build.parent / f"{settings.scope}-catalogue-{model.version}-{time.time_ns()}.pkl"
    _write_atomic(snapshot, pickle.dumps(catalogue))
    pointer = {"territories": build.name, "catalogue": snapshot.name, "version": model.version, "published_ns": time.time_ns()}
    _write_atomic(pointer_path(settings), json.dumps(pointer).encode())
    _prune(settings, pointer)
    return pointer


def current_pointer(settings: Settings) -> dict | None:
    """The pointer, if the version it names was built from the declared inputs with this code's build format."""
    pointer = read_pointer(settings)
    if pointer is None or not pointer["territories"].startswith(f"{settings.scope}-{build_key(settings)}-"):
        return None
    return pointer


def load_published(settings: Settings) -> Model:
    """The model of the version in service (publishing one first if there is none, or if the inputs or the
    build format changed since; edited scheme files go into service with ``territoires refresh``)."""
    pointer = current_pointer(settings) or publish(settings)
    root = pointer_path(settings).parent
    territories = load_saved(root / pointer["territories"])
    catalogue = pickle.loads((root / pointer["catalogue"]).read_bytes())
    return assemble(settings, territories, catalogue)


def _prune(settings: Settings, pointer: dict, spare: int = 2) -> None:
    """Remove old builds and snapshots of this scope, keeping the current ones and the ``spare`` newest others."""
    root = pointer_path(settings).parent
    current = {pointer["territories"], pointer["catalogue"]}
    for other in root.glob("*.current"):  # other deployments (scheme dirs, member lists) sharing this cache
        try:
            named = json.loads(other.read_text(encoding="utf-8"))
            current |= {named["territories"], named["catalogue"]}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    snapshots = [p for p in root.glob(f"{settings.scope}-catalogue-*.pkl") if p.name not in current]
    builds = [p for p in root.glob(f"{settings.scope}-*") if p.is_dir() and p.name not in current]
    for group in (snapshots, builds):
        for path in sorted(group, key=lambda p: p.stat().st_mtime, reverse=True)[spare:]:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
