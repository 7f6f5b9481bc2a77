"""Bounded, thread-safe caches with build-on-miss (cachetools' LRU), owned by a model or by the app.

One mechanism for every cache of the project: a :class:`Memo` is bounded by a number of entries or, with
``getsizeof``, by bytes; the least recently used entry goes first. Values are built outside the lock, so a slow
build never holds up hits on other keys (two threads missing the same key may both build it; the first kept wins).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import cachetools

V = TypeVar("V")


class Memo(Generic[V]):
    """At most ``maxsize`` entries (or bytes, as measured by ``getsizeof``), least recently used dropped first."""

    def __init__(self, maxsize: int, getsizeof: Callable[[V], int] | None = None):
        self._cache: cachetools.LRUCache = cachetools.LRUCache(maxsize, getsizeof)
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value kept under ``key``, built by ``build()`` on a miss (a value larger than the whole memo is not kept)."""
        with self._lock:
            try:
                return self._cache[key]
            except KeyError:
                pass
        value = build()
        with self._lock:
            try:
                return self._cache.setdefault(key, value)
            except ValueError:  # larger than maxsize
                return value

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
