"""Settings: where data comes from (mirror or download cache) and which territory is in scope."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
import pooch

from boundaries import SCHEMES_DIR

#: Départements of Région Occitanie (INSEE code 76), the default scope.
OCCITANIE = ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82")
SCOPES = ("occitanie", "france")
#: The deepest zoom of the vector tiles (geo/tiles.py MAX_ZOOM, kept here so that settings import no geometry code).
MAX_TILE_ZOOM = 18


@dataclass(frozen=True)
class Settings:
    """Data settings, read from the environment by :func:`from_env`.

    mirror: a directory laid out like the reference mirror; when set, nothing touches the network.
    cache: where downloads and prepared builds are kept.
    scope: "occitanie" (default) or "france".
    schemes: the directory of scheme files (default boundaries/schemes).
    data_dir: the deployment's own data, which no public file holds: the imported member lists and their published
        versions (TERRITOIRES_DATA_DIR; default the user data directory, e.g. ~/.local/share/territoires).
    keep_versions: how many member-list versions the data directory keeps, each one a rollback can return to
        (TERRITOIRES_KEEP_VERSIONS, 50; the version in service is always kept).
    legacy_members: what TERRITOIRES_MEMBERS names, which is no longer read (the catalogue refuses to load while it
        is set, naming `territoires members import`).
    tiles_max_zoom: the deepest zoom pre-encoded into a version's tile archive (geo/archive.py).
    """

    mirror: Path | None = None
    cache: Path = field(default_factory=lambda: Path(pooch.os_cache("territoires")))
    scope: str = "occitanie"
    schemes: Path = SCHEMES_DIR
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("territoires")))
    keep_versions: int = 50
    legacy_members: tuple[str, ...] = ()
    tiles_max_zoom: int = 9

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"unknown scope {self.scope!r}: use one of {', '.join(SCOPES)} (--scope or TERRITOIRES_SCOPE)")
        if self.keep_versions < 1:
            raise ValueError(f"TERRITOIRES_KEEP_VERSIONS is {self.keep_versions}: keep at least 1 version")
        if not 0 <= self.tiles_max_zoom <= MAX_TILE_ZOOM:
            raise ValueError(f"the tiles' max zoom (TERRITOIRES_TILES_MAX_ZOOM, --maxzoom) is a whole number from 0 to {MAX_TILE_ZOOM}")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from TERRITOIRES_MIRROR, _CACHE, _SCOPE, _SCHEMES, _DATA_DIR, _KEEP_VERSIONS and _TILES_MAX_ZOOM, then
        overrides."""
        values: dict[str, object] = {}
        if mirror := os.environ.get("TERRITOIRES_MIRROR"):
            values["mirror"] = Path(mirror).resolve()
        if cache := os.environ.get("TERRITOIRES_CACHE"):
            values["cache"] = Path(cache).resolve()
        if scope := os.environ.get("TERRITOIRES_SCOPE"):
            values["scope"] = scope
        if schemes := os.environ.get("TERRITOIRES_SCHEMES"):
            values["schemes"] = Path(schemes)
        if data_dir := os.environ.get("TERRITOIRES_DATA_DIR"):
            values["data_dir"] = Path(data_dir).resolve()
        if keep := os.environ.get("TERRITOIRES_KEEP_VERSIONS"):
            try:
                values["keep_versions"] = int(keep)
            except ValueError:
                raise ValueError(f"TERRITOIRES_KEEP_VERSIONS is {keep!r}: write a whole number of versions (50 by default)") from None
        if members := os.environ.get("TERRITOIRES_MEMBERS"):
            values["legacy_members"] = tuple(p for p in members.split(os.pathsep) if p)
        if zoom := os.environ.get("TERRITOIRES_TILES_MAX_ZOOM"):
            values["tiles_max_zoom"] = int(zoom) if zoom.strip().isdigit() else -1
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("mirror", "cache", "schemes", "data_dir"):
            if isinstance(values.get(key), str):
                values[key] = Path(values[key]).resolve()
        return cls(**values)  # type: ignore[arg-type]

    @property
    def departements(self) -> tuple[str, ...] | None:
        """Départements in scope, or None for all of France."""
        return OCCITANIE if self.scope == "occitanie" else None
