"""Expensive work, limited per worker: a static map, an export file, a bundle (and a fiche PDF) is built by at most
``TERRITOIRES_MAX_HEAVY`` requests at once in a worker; one more is answered 503 with ``Retry-After`` and a French
message at once, instead of queueing until every request times out and the worker's memory is that of all of them.

Only the building is limited: an answer already in the response memo is served without a slot, and identical
requests arriving together share one build (geo/memo.py). When the last build running ends, the memory its
threads freed is handed back to the system (glibc keeps freed arenas otherwise: a burst of renders left a worker at
3 GB).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable
from typing import TypeVar

from geo.errors import TerritoiresError

T = TypeVar("T")
#: Seconds a client is asked to wait before trying again.
RETRY_AFTER = 5


class Busy(TerritoiresError):
    """Every slot for expensive work is taken; answered 503 with Retry-After."""

    status = 503

    def __init__(self, slots: int, retry_after: int = RETRY_AFTER):
        self.retry_after = retry_after
        super().__init__(f"Service occupé : {slots} cartes ou fichiers sont déjà en préparation sur ce processus. "
                         f"Réessayez dans {retry_after} secondes.")


def _malloc_trim() -> Callable[[], None]:
    """glibc's malloc_trim(0) (hands freed heap memory back to the system); nothing elsewhere."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    return (lambda: trim(0)) if trim is not None else (lambda: None)


_trim = _malloc_trim()


class HeavyWork:
    """At most ``slots`` expensive builds at once (per worker); :class:`Busy` for one more."""

    def __init__(self, slots: int, retry_after: int = RETRY_AFTER):
        self.slots, self.retry_after = slots, retry_after
        self._lock = threading.Lock()
        self.running = 0

    def run(self, build: Callable[[], T]) -> T:
        """``build()`` in a free slot; Busy (503) at once when there is none."""
        with self._lock:
            if self.running >= self.slots:
                raise Busy(self.slots, self.retry_after)
            self.running += 1
        try:
            return build()
        finally:
            with self._lock:
                self.running -= 1
                idle = self.running == 0
            if idle:  # what the builds left (a figure's reference cycles) is freed, then handed back
                gc.collect()
                _trim()
