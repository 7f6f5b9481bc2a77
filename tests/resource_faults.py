"""A real full disk and a real read-only cache for tests, in a private mount namespace (`unshare -rm`: no root
needed where user namespaces are enabled, and nothing outside the test's process sees the mounts).

:func:`run_in_namespace` copies a cache onto a small tmpfs (``full``) or bind-mounts it read-only
(``readonly``), then runs this module inside the namespace: ``territoires refresh`` there, then the version
in service loaded by a reader, reported as JSON (the mounts vanish with the namespace).
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "territoires"


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_in_namespace(mode: str, cache: Path, env: dict[str, str], *refresh_args: str) -> dict:
    """Run ``territoires refresh REFRESH_ARGS`` on ``cache`` made full (a tmpfs with 1 MiB to spare) or read-only."""
    if mode == "full":
        mount = (f"mount -t tmpfs -o size={_size(cache) + 2**20} tmpfs {shlex.quote(str(cache))}.mnt && "
                 f"cp -a {shlex.quote(str(cache))}/. {shlex.quote(str(cache))}.mnt/")
        target = Path(f"{cache}.mnt")
        target.mkdir()
    else:
        mount = f"mount --bind {shlex.quote(str(cache))} {shlex.quote(str(cache))} && mount -o remount,bind,ro {shlex.quote(str(cache))}"
        target = cache
    script = f"{mount} && exec {shlex.quote(sys.executable)} -m tests.resource_faults {shlex.quote(str(target))} {' '.join(refresh_args)}"
    out = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=600,
                         env=env | {"TERRITOIRES_CACHE": str(target)}, cwd=Path(__file__).resolve().parent.parent)
    if out.returncode != 0:
        raise RuntimeError(f"the namespace could not be set up (unshare -rm, mount): {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def main(cache: Path, *refresh_args: str) -> None:
    """Inside the namespace: refresh, then report what the cache holds and what a reader loads."""
    from geo.config import Settings
    from geo.versions import load_published, read_pointer

    refresh = subprocess.run([str(BIN), "refresh", *refresh_args], capture_output=True, text=True, env=os.environ)
    settings = Settings.from_env()
    try:
        served = load_published(settings).version
    except Exception as exc:  # reported, and the test fails on it
        served = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"returncode": refresh.returncode, "stdout": refresh.stdout, "stderr": refresh.stderr,
                      "entries": sorted(p.name for p in (cache / "builds").iterdir()), "pointer": read_pointer(settings),
                      "served": served}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), *sys.argv[2:])
