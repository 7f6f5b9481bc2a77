"""Settings: where data comes from (mirror or download cache) and which territory is in scope."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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
    members: user-provided member CSV files (code, scheme, role, start, end).
    tiles_max_zoom: the deepest zoom pre-encoded into a version's tile archive (geo/archive.py).
    """

    mirror: Path | None = None
    cache: Path = field(default_factory=lambda: Path(pooch.os_cache("territoires")))
    scope: str = "occitanie"
    schemes: Path = SCHEMES_DIR
    members: tuple[Path, ...] = ()
    tiles_max_zoom: int = 9

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"unknown scope {self.scope!r}: use one of {', '.join(SCOPES)} (--scope or TERRITOIRES_SCOPE)")
        if not 0 <= self.tiles_max_zoom <= MAX_TILE_ZOOM:
            raise ValueError(f"the tiles' max zoom (TERRITOIRES_TILES_MAX_ZOOM, --maxzoom) is a whole number from 0 to {MAX_TILE_ZOOM}")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from TERRITOIRES_MIRROR, TERRITOIRES_CACHE, TERRITOIRES_SCOPE, TERRITOIRES_SCHEMES, TERRITOIRES_MEMBERS
        and TERRITOIRES_TILES_MAX_ZOOM, then overrides."""
        values: dict[str, object] = {}
        if mirror := os.environ.get("TERRITOIRES_MIRROR"):
            values["mirror"] = Path(mirror).resolve()
        if cache := os.environ.get("TERRITOIRES_CACHE"):
            values["cache"] = Path(cache).resolve()
        if scope := os.environ.get("TERRITOIRES_SCOPE"):
            values["scope"] = scope
        if schemes := os.environ.get("TERRITOIRES_SCHEMES"):
            values["schemes"] = Path(schemes)
        if members := os.environ.get("TERRITOIRES_MEMBERS"):
            values["members"] = tuple(Path(p) for p in members.split(os.pathsep) if p)
        if zoom := os.environ.get("TERRITOIRES_TILES_MAX_ZOOM"):
            values["tiles_max_zoom"] = int(zoom) if zoom.strip().isdigit() else -1
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("mirror", "cache", "schemes"):
            if isinstance(values.get(key), str):
                values[key] = Path(values[key]).resolve()
        return cls(**values)  # type: ignore[arg-type]

    @property
    def departements(self) -> tuple[str, ...] | None:
        """Départements in scope, or None for all of France."""
        return OCCITANIE if self.scope == "occitanie" else None
