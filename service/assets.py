"""Serve the JS/CSS that folium loads from CDNs from this machine instead.

folium elements list their browser resources as ``(name, url)`` pairs in
``default_js`` / ``default_css``, with CDN URLs.  The npm packages pinned in
``service/static/package-lock.json`` provide the same files; ``service/vendor.py``
copies those the pages load into ``service/static/assets`` (package data, so a
wheel carries them), keeping each package's layout so that fonts and images
referenced by the CSS resolve.  :data:`MANIFEST` maps each resource name to its
path there, :func:`localize` rewrites an element tree to ``/assets/<path>`` and
:func:`mount_assets` serves that directory at ``/assets``.

Call :func:`localize` (or :func:`render_offline`) after the map is complete:
elements added afterwards keep their CDN URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from branca.element import Element

from geo.errors import TerritoiresError
from service.staticfiles import CompressedStaticFiles
from service.vendor import ASSETS_DIR, MANIFEST, missing_files

if TYPE_CHECKING:
    from fastapi import FastAPI

URL_PREFIX = "/assets"
FIX = ("in a checkout, run `make assets` (npm ci, then python3 service/vendor.py); "
       "otherwise reinstall territoires from a wheel, which carries them")


class AssetsMissing(TerritoiresError):
    """The prepared JS/CSS directory is absent or incomplete; the message names it and the fix."""


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


def check_assets(directory: Path = ASSETS_DIR) -> Path:
    """``directory`` if it holds every file the pages load; :class:`AssetsMissing` (one line, with the fix) otherwise."""
    if not directory.is_dir():
        raise AssetsMissing(f"front-end assets not installed: {directory} is missing. Fix: {FIX}.")
    missing = missing_files(directory)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise AssetsMissing(f"front-end assets incomplete in {directory}: {shown} missing. Fix: {FIX}.")
    return directory


def mount_assets(app: FastAPI, directory: Path = ASSETS_DIR) -> None:
    """Serve ``directory`` (the prepared JS/CSS, see service/vendor.py) at ``/assets``; AssetsMissing if incomplete."""
    app.mount(URL_PREFIX, CompressedStaticFiles(directory=check_assets(directory)), name="assets")
