"""The loaded model held by the app, swapped whole when a new data version is published."""
from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from geo.archive import TileArchive
from geo.config import Settings
from geo.model import Model
from geo.versions import archive_path, load_published, pointer_path


def _freeze() -> None:
    """Move the loaded model's millions of objects out of the garbage collector's sight: a full collection
    would otherwise walk them all and pause requests for a tenth of a second. Unfrozen first, so that the
    cycles of a model just replaced are collected rather than kept forever."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@dataclass
class ModelHolder:
    """Holds the current model; follows the published version and never serves half of one.

    :meth:`maybe_reload` (called on requests) looks at the version pointer at most every
    ``interval`` seconds and reloads in a background thread when it changed; until the new
    model is ready, and if loading it fails, the previous model keeps serving.
    """

    settings: Settings
    interval: float = 1.0
    model: Model | None = None
    last_error: str | None = None
    loaded_at: float | None = None  # when this worker loaded the model it serves (seconds since the epoch)
    _seen: int | None = None
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: Called with each model loaded, before it serves (the app renders its first page into its memo).
    on_load: list[Callable[[Model], None]] = field(default_factory=list)
    _archive: TileArchive | None = None
    _archive_checked: float = 0.0

    def _stamp(self) -> int | None:
        path = pointer_path(self.settings)
        return path.stat().st_mtime_ns if path.exists() else None

    def load(self) -> Model:
        """Load the published version (publishing one first if there is none)."""
        stamp = self._stamp()
        self.model = load_published(self.settings, starting=True).warm()  # edited scheme files are published at start
        self.loaded_at = time.time()
        self._seen = stamp or self._stamp()
        self._open_archive(self.model)
        self._loaded(self.model)
        _freeze()
        return self.model

    def reload(self) -> bool:
        """Load the published version; keep the previous model (and record why) on failure."""
        with self._lock:
            stamp = self._stamp()
            try:
                fresh = load_published(self.settings, self.model.territories if self.model is not None else None).warm()
            except Exception as exc:  # any failure keeps the previous version served
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._seen = stamp
                return False
            self._open_archive(fresh)
            self._loaded(fresh)
            self.model, self.last_error, self._seen, self.loaded_at = fresh, None, stamp, time.time()
            _freeze()
            return True

    def _loaded(self, model: Model) -> None:
        for hook in self.on_load:
            try:
                hook(model)
            except Exception as exc:  # a warm-up that fails is done on the first request instead, which reports it
                self.last_error = f"warm-up: {type(exc).__name__}: {exc}"

    def _open_archive(self, model: Model) -> None:
        path = archive_path(self.settings, model.version)
        self._archive_checked = time.monotonic()
        try:
            self._archive = TileArchive(path) if path.is_file() else None
        except Exception:  # unreadable or damaged: its tiles are encoded on demand, as without one
            self._archive = None

    def archive(self, model: Model) -> TileArchive | None:
        """The tile archive of ``model``'s version (geo/archive.py), opened when it appears (looked for at most every
        ``interval`` seconds: ``territoires tiles`` may still be writing it), or None."""
        if self._archive is not None and self._archive.info.get("version") == model.version:
            return self._archive
        now = time.monotonic()
        if model is self.model and now - self._archive_checked >= self.interval:
            self._open_archive(model)
            if self._archive is not None and self._archive.info.get("version") == model.version:
                return self._archive
        return None

    def watch(self, stop: threading.Event, every: float = 0.2) -> threading.Thread:
        """Look at the pointer every ``every`` seconds in a background thread, and load a newly published version
        as soon as it appears (an idle worker is ready before its next request): a publication is served by every
        worker about one reload after it (0.5 to 1 s for Occitanie)."""
        def loop() -> None:
            while not stop.wait(every):
                if self._stamp() != self._seen and not self._lock.locked():
                    self.reload()
        thread = threading.Thread(target=loop, name="territoires-watch", daemon=True)
        thread.start()
        return thread

    def maybe_reload(self) -> None:
        """Start a background reload if the published version changed since the last look."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return
        self._checked = now
        if self._stamp() != self._seen and not self._lock.locked():
            threading.Thread(target=self.reload, daemon=True).start()
