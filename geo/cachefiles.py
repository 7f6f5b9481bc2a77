"""Writing into the build cache: files and directories that appear whole or not at all and follow the umask,
locks between the processes that publish and read versions, and one clear error for a full, read-only or
mangled cache.

Temporary entries are named ``.tmp-*`` (never matched by the patterns of builds and snapshots); a failed
write removes its own, and :func:`sweep_stale` removes those a killed process left behind.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from geo.errors import CacheError, Problem

TMP_PREFIX = ".tmp-"
STALE_AFTER_S = 3600  # no build or snapshot takes an hour to write: an older temporary entry is debris
_ERRNO_IN_TEXT = re.compile(r"errno (\d+)", re.IGNORECASE)  # pyarrow puts the errno in the message only


def _errno(exc: OSError) -> int | None:
    if exc.errno is not None:
        return exc.errno
    found = _ERRNO_IN_TEXT.search(str(exc))
    return int(found.group(1)) if found else None


def cache_error(exc: OSError, action: str, path: Path) -> CacheError:
    """One clear error for a failed read or write in the cache: where, what happened, and the fix."""
    where = path  # what the caller was writing or reading (exc.filename may name a temporary file already removed)
    code = _errno(exc)
    reason = os.strerror(code) if code is not None else str(exc)
    fix = {
        errno.ENOSPC: f"free space on the disk holding {path}, or set TERRITOIRES_CACHE to a directory on another disk",
        errno.EDQUOT: f"free space in this user's disk quota, or set TERRITOIRES_CACHE to a directory on another disk ({path})",
        errno.EROFS: "the cache is on a read-only file system: set TERRITOIRES_CACHE to a writable directory, "
                     "or publish from a machine that can write it (`territoires refresh`)",
        errno.EACCES: f"make {where} writable by this user, or set TERRITOIRES_CACHE to a directory it can write",
        errno.EPERM: f"make {where} writable by this user, or set TERRITOIRES_CACHE to a directory it can write",
        errno.EISDIR: f"a directory stands where a file is expected: remove {where}",
        errno.ENOTDIR: f"a file stands where a directory is expected: remove or rename the file on the way to {where}",
        errno.EEXIST: f"a file stands where a directory is expected: remove or rename {where}",
    }.get(code, f"check {where} (disk, permissions), or set TERRITOIRES_CACHE to another directory")
    return CacheError(Problem(str(where), None, f"cannot {action}: {reason}", fix))


def temporary_sibling(path: Path) -> Path:
    """A temporary name beside ``path`` (swept by :func:`sweep_stale` if its writer dies)."""
    return path.with_name(f"{TMP_PREFIX}{secrets.token_hex(6)}-{path.name}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a temporary sibling renamed over it), with the umask's permissions."""
    tmp = temporary_sibling(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666 & ~umask, unlike mkstemp's 0o600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


@contextmanager
def new_directory(target: Path) -> Iterator[Path]:
    """A temporary sibling directory, renamed to ``target`` when the block succeeds and removed when it fails;
    created with the umask's permissions (unlike mkdtemp's 0o700), so other users of the cache can read it."""
    tmp = temporary_sibling(target)
    os.mkdir(tmp, 0o777)
    try:
        yield tmp
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def locked(path: Path, shared: bool = False) -> Iterator[None]:
    """Hold an flock on ``path`` for the block: exclusive for a writer (the file is created if needed), shared
    for a reader. A reader that can neither open nor create the lock file (a read-only cache, no publisher has
    run in it yet) reads without it; a writer gets a CacheError there, as its writes would."""
    fd = None
    try:
        fd = os.open(path, os.O_RDONLY) if shared and path.exists() else os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        if not shared:
            raise cache_error(exc, f"take the lock {path.name}", path) from exc
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def sweep_stale(directory: Path, now: float | None = None) -> None:
    """Remove the temporary entries (``.tmp-*``) that a killed process left behind more than an hour ago."""
    limit = (time.time() if now is None else now) - STALE_AFTER_S
    for entry in directory.glob(f"{TMP_PREFIX}*"):
        with suppress(OSError):
            if entry.lstat().st_mtime < limit:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
