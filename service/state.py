"""The loaded model held by the app, swapped whole on refresh so a request never sees half a version."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from geo.config import Settings
from geo.model import Model, load_model


@dataclass
class ModelHolder:
    """Holds the current model; :meth:`refresh` builds a new one and swaps it in only on success."""

    settings: Settings
    model: Model | None = None
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self) -> Model:
        self.model = load_model(self.settings)
        return self.model

    def refresh(self, rebuild: bool = False) -> bool:
        """Build a new model; keep serving the previous one (and record why) if that fails."""
        with self._lock:
            try:
                fresh = load_model(self.settings, rebuild=rebuild)
            except Exception as exc:  # any failure keeps the previous version served
                self.last_error = f"{type(exc).__name__}: {exc}"
                return False
            self.model, self.last_error = fresh, None
            return True
