"""The installed wheel, as a user runs it: `territoires serve` and `territoires map` from a virtualenv outside the checkout.

Run by .ci/wheel with that virtualenv's Python, from a temporary directory: the service must come from
site-packages (never from the checkout), serve the scales map that headless Chromium draws with every
request off this machine refused, and a missing asset file must give one error line, not a traceback.
Exits non-zero, saying what failed, on the first failure.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # browser.py only: no project module there
from browser import browser_page, free_port  # noqa: E402

BIN = Path(sys.executable).parent / "territoires"
#: What the scales map cannot draw without (the rest of its /assets requests must answer 200 too).
NEEDED_ASSETS = ("leaflet/dist/leaflet.js", "leaflet/dist/leaflet.css", "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
                 "leaflet.control.layers.tree/L.Control.Layers.Tree.js")
LABELS = ("Région Occitanie", "Départements", "EPCI (intercommunalités)", "Communes")


def fail(message: str) -> None:
    sys.exit(f"wheel check FAILED: {message}")


def installed_assets() -> Path:
    """The prepared assets of the installed package, which must live in this virtualenv's site-packages."""
    import service
    from service.vendor import ASSETS_DIR

    if not Path(service.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()):
        fail(f"service is imported from {service.__file__}, not from the virtualenv {sys.prefix}")
    return ASSETS_DIR


def serve(env: dict[str, str], mirror: Path) -> tuple[subprocess.Popen, str]:
    """`territoires serve --json` on a free port; (process, base URL) once /healthz answers."""
    port = free_port()
    proc = subprocess.Popen([str(BIN), "serve", "--json", "--port", str(port), "--mirror", str(mirror)], env=env,
                            stdout=subprocess.PIPE, stderr=tempfile.TemporaryFile(), text=True, start_new_session=True)
    line = json.loads(proc.stdout.readline() or "null") or fail(f"territoires serve printed no JSON line (exit {proc.poll()})")
    base = line["url"]
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            fail(f"territoires serve did not answer /healthz (exit {proc.returncode})")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def check_map(base: str, screenshot: Path) -> int:
    """The scales map drawn in Chromium from the installed assets; the number of communes drawn (on canvas at a région's
    view)."""
    with browser_page() as s:
        page, statuses = s.page, {}
        page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
        page.goto(base + "/maps/scales")
        page.wait_for_selector("html[data-territoires=ready]", timeout=120_000)
        communes = page.evaluate("territoires.pages[0].featureCount('commune')")
        tree = page.locator(".leaflet-control-layers").inner_text()
        page.screenshot(path=str(screenshot))
        assets = {u: st for u, st in statuses.items() if "/assets/" in u}
    if s.blocked:
        fail(f"the page asked for addresses off this machine: {s.blocked}")
    if s.console_errors or s.page_errors:
        fail(f"the page logged errors: {s.console_errors + s.page_errors}")
    missing_assets = [a for a in NEEDED_ASSETS if not any(u.endswith("/assets/" + a) for u in assets)]
    if missing_assets or any(st != 200 for st in assets.values()):
        fail(f"assets not all served (the page needs {missing_assets or 'every one'}): {assets}")
    if communes < 4000:
        fail(f"{communes} communes drawn, expected every Occitanie commune (>= 4000)")
    missing = [label for label in LABELS if label not in tree]
    if missing:
        fail(f"layer tree lacks {missing}")
    print(f"{len(assets)} asset files served from the wheel: {', '.join(sorted(u.split('/assets/', 1)[1] for u in assets))}")
    return communes


def one_line_error(args: list[str], env: dict[str, str], must_name: str) -> str:
    """Run a command that must fail with exactly one 'error: …' line naming ``must_name`` and no traceback."""
    done = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=300)
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    if done.returncode != 1 or len(lines) != 1 or not lines[0].startswith("error:") or must_name not in lines[0] \
            or "Traceback" in done.stderr:
        fail(f"`territoires {' '.join(args)}` should fail with one error line naming {must_name}; "
             f"got exit {done.returncode}, stderr:\n{done.stderr}")
    return lines[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, required=True)
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--wheel", type=Path, required=True)
    args = parser.parse_args()
    assets = installed_assets()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TERRITOIRES_", "PYTHONPATH"))}
    env["TERRITOIRES_CACHE"] = str(Path.cwd() / "cache")

    names = zipfile.ZipFile(args.wheel).namelist()
    shipped = [n for n in names if "/static/assets/" in n]
    unpacked = sum(i.file_size for i in zipfile.ZipFile(args.wheel).infolist() if "/static/assets/" in i.filename)
    print(f"wheel {args.wheel.name}: {args.wheel.stat().st_size:,} bytes, {len(names)} files, {len(shipped)} asset files "
          f"({unpacked:,} bytes unpacked)")
    packages: dict[str, int] = {}
    for name in shipped:
        rest = name.split("/static/assets/", 1)[1].split("/")
        key = "/".join(rest[:2]) if rest[0].startswith("@") else rest[0]
        packages[key] = packages.get(key, 0) + 1
    print("assets per package: " + ", ".join(f"{k} {v}" for k, v in sorted(packages.items())))

    args.artifacts.mkdir(exist_ok=True)
    proc, base = serve(env, args.mirror.resolve())
    try:
        communes = check_map(base, args.artifacts / "wheel-maps-scales.png")
    finally:
        stop(proc)
    print(f"map from the wheel: {communes} communes drawn, no request off the machine, "
          f"screenshot {args.artifacts / 'wheel-maps-scales.png'}")

    html = Path.cwd() / "scales.html"
    done = subprocess.run([str(BIN), "map", "scales", "-o", str(html), "--mirror", str(args.mirror.resolve())],
                          env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or "/assets/" in html.read_text(encoding="utf-8"):
        fail(f"territoires map from the wheel: exit {done.returncode}\n{done.stderr}")
    print(f"territoires map: {html.stat().st_size:,} bytes, assets inlined")

    leaflet = assets / "leaflet" / "dist" / "leaflet.js"
    leaflet.rename(leaflet.with_suffix(".moved"))  # this virtualenv is thrown away after the check
    try:
        for command in (["serve", "--port", str(free_port())], ["map", "scales", "-o", str(html)]):
            print(f"territoires {command[0]} without leaflet.js: {one_line_error(command, env, 'leaflet/dist/leaflet.js')}")
    finally:
        leaflet.with_suffix(".moved").rename(leaflet)
    print("wheel check passed")


if __name__ == "__main__":
    main()
