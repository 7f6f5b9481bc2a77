"""Test helpers: a temporary data mirror that differs from the real one in a few files, and a temporary
build cache seeded with the session's build (so a test can publish versions without rebuilding)."""
from __future__ import annotations

import shutil
from pathlib import Path

from geo.config import Settings
from geo.territories import ensure_build


def partial_mirror(src: Path, dst: Path, replace: dict[str, bytes | None]) -> Path:
    """A mirror at ``dst`` made of symlinks into ``src``, except the files named in ``replace`` (paths
    relative to the mirror): written with the given bytes, or left out when the value is None."""
    wanted = {Path(rel): data for rel, data in replace.items()}

    def build(src_dir: Path, dst_dir: Path, prefix: Path) -> None:
        dst_dir.mkdir(parents=True, exist_ok=True)
        for child in src_dir.iterdir():
            rel = prefix / child.name
            if rel in wanted:
                if wanted[rel] is not None:
                    (dst_dir / child.name).write_bytes(wanted[rel])
            elif any(rel in w.parents for w in wanted):
                build(child, dst_dir / child.name, rel)
            else:
                (dst_dir / child.name).symlink_to(child)

    build(src, dst, Path())
    return dst


def corrupted(mirror: Path, rel: str) -> bytes:
    """The bytes of a mirror file with one byte changed (its sha256 no longer matches)."""
    data = bytearray((mirror / rel).read_bytes())
    data[len(data) // 2] ^= 0x01
    return bytes(data)


def seeded_cache(settings: Settings, cache: Path) -> Path:
    """A fresh cache directory holding a copy of the session's territories build (no pointer, no snapshot)."""
    build = ensure_build(settings)
    shutil.copytree(build, cache / "builds" / build.name)
    return cache
