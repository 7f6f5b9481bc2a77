"""Bounded, thread-safe caches with build-on-miss (cachetools' LRU), owned by a model or by the app.

One mechanism for every cache of the project: a :class:`Memo` is bounded by a number of entries or, with
``getsizeof``, by bytes; the least recently used entry goes first. Values are built outside the lock, so a slow
build never holds up hits on other keys, and once per key at a time: threads missing a key that is being built wait
for that build and share its value (a burst of identical requests costs one build), and build again themselves only
if it failed.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import cachetools

V = TypeVar("V")


class _Flight:
    """A build in progress: the threads waiting for it, and its value once done."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value: object = None


class Memo(Generic[V]):
    """At most ``maxsize`` entries (or bytes, as measured by ``getsizeof``), least recently used dropped first."""

    def __init__(self, maxsize: int, getsizeof: Callable[[V], int] | None = None):
        self._cache: cachetools.LRUCache = cachetools.LRUCache(maxsize, getsizeof)
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value kept under ``key``, built by ``build()`` on a miss (a value larger than the whole memo is served
        to the threads that waited for it, not kept)."""
        while True:
            with self._lock:
                try:
                    return self._cache[key]
                except KeyError:
                    pass
                flight = self._flights.get(key)
                owner = flight is None
                if owner:
                    flight = self._flights[key] = _Flight()
            if owner:
                return self._build(key, build, flight)
            flight.done.wait()
            if flight.ok:
                return flight.value  # type: ignore[return-value]
            # the build failed: try again (this thread may build it, or fail the same way on its own)

    def _build(self, key: Hashable, build: Callable[[], V], flight: _Flight) -> V:
        try:
            value = build()
            with self._lock:
                try:
                    self._cache[key] = value
                except ValueError:  # larger than maxsize
                    pass
            flight.value, flight.ok = value, True
            return value
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def __len__(self) -> int:
        return len(self._cache)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._cache

    @property
    def size(self) -> int:
        """What the entries weigh (their number, or their bytes with ``getsizeof``)."""
        return int(self._cache.currsize)

    @property
    def maxsize(self) -> int:
        return int(self._cache.maxsize)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
