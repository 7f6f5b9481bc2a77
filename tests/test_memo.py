"""The one cache mechanism (geo/memo.py): bounded by entries or bytes, least recently used first, built once per key."""
from __future__ import annotations

import threading
import time

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


def test_a_burst_of_misses_on_one_key_builds_it_once_and_shares_it() -> None:
    memo: Memo[object] = Memo(8)
    started, release = threading.Event(), threading.Event()
    built: list[int] = []

    def slow() -> object:
        built.append(1)
        started.set()
        release.wait(5)
        return object()

    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("k", slow))) for _ in range(16)]
    for t in threads:
        t.start()
    assert started.wait(5)
    release.set()
    for t in threads:
        t.join()
    assert len(built) == 1 and len(results) == 16 and all(r is results[0] for r in results)


def test_waiters_for_a_failed_build_build_again_and_a_value_too_large_is_shared_not_kept() -> None:
    memo: Memo[bytes] = Memo(4, getsizeof=len)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def fails_first() -> bytes:
        calls.append(1)
        if len(calls) == 1:
            started.set()
            release.wait(5)
            raise RuntimeError("busy")
        time.sleep(0.3)  # long enough for every waiter of the failed build to find this one
        return b"too large for the memo"

    outcomes: list[object] = []

    def ask() -> None:
        try:
            outcomes.append(memo.get("k", fails_first))
        except RuntimeError as exc:
            outcomes.append(exc)

    first = threading.Thread(target=ask)
    first.start()
    assert started.wait(5)
    others = [threading.Thread(target=ask) for _ in range(4)]
    for t in others:
        t.start()
    time.sleep(0.3)  # the others are waiting for the first build
    release.set()
    for t in [first, *others]:
        t.join()
    assert sum(isinstance(o, RuntimeError) for o in outcomes) == 1  # only the thread whose build failed sees it
    assert outcomes.count(b"too large for the memo") == 4 and len(calls) == 2 and "k" not in memo
