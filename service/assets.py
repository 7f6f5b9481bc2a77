"""Serve the JS/CSS that folium loads from CDNs from this machine instead.

folium elements list their browser resources as ``(name, url)`` pairs in
``default_js`` / ``default_css``, with CDN URLs.  The npm packages pinned in
``service/static/package.json`` (installed by ``make assets``, i.e.
``npm ci --prefix service/static``) provide the same files; :data:`MANIFEST`
maps each resource name to its path under ``service/static/node_modules``,
:func:`localize` rewrites an element tree to ``/assets/<path>`` and
:func:`mount_assets` serves that directory at ``/assets``.  Fonts and images
referenced by the CSS resolve because each package's layout is served as is.

Call :func:`localize` (or :func:`render_offline`) after the map is complete:
elements added afterwards keep their CDN URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from branca.element import Element

if TYPE_CHECKING:
    from fastapi import FastAPI

STATIC_DIR: Path = Path(__file__).resolve().parent / "static"
NODE_MODULES: Path = STATIC_DIR / "node_modules"
URL_PREFIX = "/assets"
FIX = "run `make assets` (npm ci --prefix service/static)"

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
}

_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_REMOTE_TAG = re.compile(
    r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?((?:[a-z][a-z0-9+.-]*:)?//[^"'\s>]+)""",
    re.IGNORECASE,
)


class MissingAssetError(KeyError):
    """A folium resource has no local copy in :data:`MANIFEST`."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


def asset_url(name: str) -> str:
    """Local URL of the folium resource ``name``; :class:`MissingAssetError` if unknown."""
    try:
        return f"{URL_PREFIX}/{MANIFEST[name]}"
    except KeyError:
        raise MissingAssetError(
            f"folium resource {name!r} has no local copy: add its npm package to "
            "service/static/package.json and an entry to MANIFEST in service/assets.py"
        ) from None


def _walk(element: Element) -> Iterator[Element]:
    """Every element reachable from ``element`` and from its root figure, once."""
    seen: set[int] = set()
    stack: list[Element] = [element, element.get_root()]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        yield el
        stack.extend(getattr(el, "_children", {}).values())
        for part in ("header", "html", "script"):  # Figure's own sub-elements
            sub = getattr(el, part, None)
            if isinstance(sub, Element):
                stack.append(sub)


def _localized(links: list[tuple[str, str]], owner: Element) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if name in MANIFEST:
            out.append((name, asset_url(name)))
        elif _REMOTE.match(url):
            raise MissingAssetError(
                f"folium resource {name!r} ({url}) of {type(owner).__name__} has no local "
                "copy: add its npm package to service/static/package.json and an entry "
                "to MANIFEST in service/assets.py"
            )
        else:  # already local (relative or /path)
            out.append((name, url))
    return out


def localize(element: Element) -> None:
    """Point every default_js/default_css entry of the tree at ``/assets``.

    Walks ``element``, its root figure and all their children.  Only instance
    attributes are set; folium's class-level lists stay untouched.  Raises
    :class:`MissingAssetError` naming any remote resource not in the manifest.
    """
    for el in _walk(element):
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if links:
                setattr(el, attr, _localized(list(links), el))


def render_offline(element: Element) -> str:
    """Localize the tree of ``element`` and render its root figure to HTML.

    Raises :class:`MissingAssetError` if a ``<script src>`` or ``<link href>``
    to another host remains (e.g. one added by hand rather than through
    default_js/default_css).
    """
    localize(element)
    html = element.get_root().render()
    remote = sorted(set(_REMOTE_TAG.findall(html)))
    if remote:
        raise MissingAssetError(f"rendered page still loads remote resources: {remote}")
    return html


def missing_files(directory: Path = NODE_MODULES) -> list[str]:
    """Manifest paths absent from ``directory``."""
    return [p for p in MANIFEST.values() if not (directory / p).is_file()]


def mount_assets(app: FastAPI, directory: Path = NODE_MODULES) -> None:
    """Serve ``directory`` (the installed npm packages) at ``/assets``.

    Raises RuntimeError naming the fix if the packages are not installed or
    lack a file of the manifest.
    """
    from fastapi.staticfiles import StaticFiles

    if not directory.is_dir():
        raise RuntimeError(f"front-end assets not installed: {directory} is missing; {FIX}")
    missing = missing_files(directory)
    if missing:
        raise RuntimeError(f"front-end assets incomplete in {directory}, missing {missing}; {FIX}")
    app.mount(URL_PREFIX, StaticFiles(directory=directory), name="assets")
