"""The front-end files the map pages load, and their preparation as package data.

:data:`MANIFEST` maps each folium resource name to its file in the npm packages pinned by
``service/static/package-lock.json``. :func:`prepare` copies those files, the fonts and images their
stylesheets point at (``url(...)``), Leaflet's default marker images and each package's licence from
``service/static/node_modules`` into ``service/static/assets`` (the package layout kept, so relative
references resolve), with ``manifest.json`` recording the lock's sha256 and every file copied. That
directory is what the service serves at ``/assets`` and what the wheel ships; the sdist carries it too,
so a wheel builds from the sdist with no Node.

Standard library only: ``setup.py`` loads this file at build time, before any dependency is installed.
``python3 service/vendor.py`` prepares the directory (``make assets`` runs it after ``npm ci``).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
NODE_MODULES = STATIC_DIR / "node_modules"
ASSETS_DIR = STATIC_DIR / "assets"
LOCK = STATIC_DIR / "package-lock.json"
STAMP = "manifest.json"
NPM_CI = "npm ci --prefix service/static"

# folium resource name -> file under node_modules.  Versions are those folium
# 0.20 references; where npm lacks the exact one the nearest is pinned (see
# service/static/package.json).  jsDelivr serves *.min.* made on the fly for
# leaflet.fullscreen and leaflet.control.layers.tree; the packages ship only
# the unminified files, which are mapped instead.
MANIFEST: dict[str, str] = {
    # folium.Map (folium.folium._default_js / _default_css)
    "leaflet": "leaflet/dist/leaflet.js",
    "jquery": "jquery/dist/jquery.min.js",
    "bootstrap": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "awesome_markers": "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "bootstrap_css": "bootstrap/dist/css/bootstrap.min.css",
    # Bootstrap 3 glyphicons only (fonts in ../fonts), as folium's CDN file.
    "glyphicons_css": "glyphicons-only-bootstrap/css/bootstrap.min.css",
    "awesome_markers_font_css": "@fortawesome/fontawesome-free/css/all.min.css",
    "awesome_markers_css": "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    # Written by this project (service/static/vendor/folium-awesome-rotate).
    "awesome_rotate_css": "folium-awesome-rotate/leaflet.awesome.rotate.min.css",
    # folium.plugins.Fullscreen
    "Control.Fullscreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    # folium.plugins.TreeLayerControl
    "L.Control.Layers.Tree.min.js": "leaflet.control.layers.tree/L.Control.Layers.Tree.js",
    "L.Control.Layers.Tree.min.css": "leaflet.control.layers.tree/L.Control.Layers.Tree.css",
    # folium.plugins.StripePattern / CirclePattern
    "pattern": "leaflet.pattern/dist/leaflet.pattern.js",
    # The map pages' vector tiles (service/maps/controls.py), with pbf and vector-tile bundled in.
    "leaflet.vectorgrid": "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
    # The PMTiles archive reader, for tiles from TERRITOIRES_TILES_BASE_URL (service/maps/static/layers.js).
    "pmtiles": "pmtiles/dist/pmtiles.js",
    # The API documentation pages (service/docs.py): Swagger UI at /docs, ReDoc at /redoc.
    "swagger_ui_js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger_ui_css": "swagger-ui-dist/swagger-ui.css",
    "swagger_ui_favicon": "swagger-ui-dist/favicon-32x32.png",
    "redoc_js": "redoc/bundles/redoc.standalone.js",
}
#: Files leaflet.js asks for by name beside the marker-icon.png its stylesheet points at (L.Icon.Default).
SCRIPT_REFERENCES = ("leaflet/dist/images/marker-icon-2x.png", "leaflet/dist/images/marker-shadow.png")

_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+?)['\"]?\s*\)")
_LICENCE = re.compile(r"^licen[cs]e(\.(txt|md))?$", re.IGNORECASE)


class PrepareError(RuntimeError):
    """The assets cannot be prepared; the message names the fix."""


def package_of(path: str) -> str:
    """npm package name of a path under node_modules ('@scope/name/…' or 'name/…')."""
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]


def css_references(css: Path, root: Path) -> list[str]:
    """Files (relative to ``root``) a stylesheet points at with url(...): fonts and images, data URIs left out."""
    found = []
    for ref in _CSS_URL.findall(css.read_text(encoding="utf-8")):
        if ref.startswith(("data:", "#")):
            continue
        target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
        found.append(target.relative_to(root.resolve()).as_posix())
    return list(dict.fromkeys(found))


def lock_digest(lock: Path = LOCK) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def _check_versions(node_modules: Path, lock: Path, packages: list[str]) -> None:
    """Each package used is installed at the version of the lock."""
    locked = json.loads(lock.read_text(encoding="utf-8"))["packages"]
    for name in packages:
        want = locked.get(f"node_modules/{name}", {}).get("version")
        meta = node_modules / name / "package.json"
        have = json.loads(meta.read_text(encoding="utf-8")).get("version") if meta.is_file() else None
        if want is None or have != want:
            raise PrepareError(f"{node_modules / name} is {have or 'missing'}, {lock.name} pins {want}. Fix: run {NPM_CI} (make assets).")


def wanted_files(node_modules: Path = NODE_MODULES) -> list[str]:
    """Every file the pages load: the manifest, what its stylesheets point at, leaflet's icons, each package's licence."""
    files = list(MANIFEST.values())
    for path in MANIFEST.values():
        if path.endswith(".css") and (node_modules / path).is_file():
            files += css_references(node_modules / path, node_modules)
    files += SCRIPT_REFERENCES
    for name in dict.fromkeys(package_of(p) for p in MANIFEST.values()):
        files += sorted(f"{name}/{f.name}" for f in (node_modules / name).iterdir() if _LICENCE.match(f.name))
    return list(dict.fromkeys(files))


def prepare(node_modules: Path = NODE_MODULES, dest: Path = ASSETS_DIR, lock: Path = LOCK) -> dict:
    """Copy the files the pages load from ``node_modules`` into ``dest`` (replaced whole) and write its manifest."""
    if not node_modules.is_dir():
        raise PrepareError(f"{node_modules} is missing. Fix: run {NPM_CI} (make assets).")
    _check_versions(node_modules, lock, list(dict.fromkeys(package_of(p) for p in MANIFEST.values())))
    files = wanted_files(node_modules)
    missing = [f for f in files if not (node_modules / f).is_file()]
    if missing:
        raise PrepareError(f"missing in {node_modules}: {', '.join(missing)}. Fix: run {NPM_CI} (make assets).")
    staging = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    record: dict[str, dict] = {}
    for rel in files:
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / rel, target)
        record[rel] = {"bytes": target.stat().st_size, "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
    stamp = {"lock_sha256": lock_digest(lock), "resources": MANIFEST, "files": record}
    (staging / STAMP).write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return stamp


def read_stamp(dest: Path = ASSETS_DIR) -> dict | None:
    """The manifest of a prepared directory, or None."""
    path = dest / STAMP
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def missing_files(dest: Path = ASSETS_DIR) -> list[str]:
    """Files the pages load that ``dest`` lacks (every manifest path when it was never prepared)."""
    stamp = read_stamp(dest)
    wanted = list(stamp["files"]) if stamp else list(MANIFEST.values())
    return [p for p in dict.fromkeys([*MANIFEST.values(), *wanted]) if not (dest / p).is_file()]


def ensure(static: Path = STATIC_DIR) -> str:
    """Prepared assets that match the lock, at build time: kept if they do (an sdist), else copied from
    node_modules, running ``npm ci`` first when node_modules is absent. Returns what was done."""
    node_modules, dest, lock = static / "node_modules", static / "assets", static / "package-lock.json"
    stamp = read_stamp(dest)
    if not node_modules.is_dir():
        if stamp and stamp.get("lock_sha256") == lock_digest(lock) and not missing_files(dest):
            return "kept"
        npm = shutil.which("npm")
        if npm is None:
            raise PrepareError(f"{dest} is not prepared for {lock.name} and npm is not installed. Fix: install Node.js (npm), "
                               "or install territoires from a wheel or an sdist, which carry the assets.")
        subprocess.run([npm, "ci", "--prefix", str(static), "--no-audit", "--no-fund", "--ignore-scripts"], check=True)
    prepare(node_modules, dest, lock)
    return "prepared"


def main() -> None:
    """`python3 service/vendor.py`: prepare service/static/assets from node_modules; one line on failure."""
    try:
        stamp = prepare()
    except (PrepareError, OSError) as exc:
        sys.exit(f"error: {exc}")
    size = sum(f["bytes"] for f in stamp["files"].values())
    print(f"prepared {len(stamp['files'])} files, {size:,} bytes, in {ASSETS_DIR}")


if __name__ == "__main__":
    main()
