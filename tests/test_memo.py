"""The one cache mechanism (geo/memo.py): bounded by entries or bytes, least recently used first, built once per key."""
from __future__ import annotations

import threading

from geo.memo import Memo


def test_bounded_by_entries_least_recently_used_first() -> None:
    memo: Memo[str] = Memo(2)
    memo.get("a", lambda: "A")
    memo.get("b", lambda: "B")
    assert memo.get("a", lambda: "other") == "A"  # a hit, and now the most recent
    memo.get("c", lambda: "C")
    assert "a" in memo and "c" in memo and "b" not in memo and len(memo) == 2


def test_bounded_by_bytes_and_a_value_too_large_is_served_not_kept() -> None:
    memo: Memo[bytes] = Memo(10, getsizeof=len)
    memo.get(1, lambda: b"12345")
    memo.get(2, lambda: b"123456")
    assert memo.size == 6 and 1 not in memo  # 5 + 6 bytes > 10: the older went
    assert memo.get(3, lambda: b"x" * 11) == b"x" * 11 and 3 not in memo and memo.size == 6


def test_hits_from_threads_get_the_kept_value() -> None:
    memo: Memo[object] = Memo(8)
    built: list[int] = []
    results: list[object] = []

    def build() -> object:
        built.append(1)
        return object()

    first = memo.get("k", build)
    threads = [threading.Thread(target=lambda: results.append(memo.get("k", build))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and all(r is first for r in results)
    memo.clear()
    assert len(memo) == 0 and memo.get("k", build) is not first
