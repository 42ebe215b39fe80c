"""The service's short-lived cache: one computation per expired key however many requests
ask at once, errors never cached, nothing served past its lifetime."""

from __future__ import annotations

import threading
import time

import pytest

from cvis.api.cache import TtlCache


def test_concurrent_misses_compute_once() -> None:
    cache: TtlCache[str, int] = TtlCache(60)
    calls: list[int] = []
    start = threading.Barrier(16)

    def compute() -> int:
        calls.append(1)
        time.sleep(0.05)  # a slow query: the other threads arrive while it runs
        return 42

    def ask(out: list[int]) -> None:
        start.wait()
        out.append(cache.get("agency", compute))

    answers: list[int] = []
    threads = [threading.Thread(target=ask, args=(answers,)) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [42] * 16
    assert len(calls) == 1


def test_errors_are_not_cached_and_values_expire() -> None:
    cache: TtlCache[str, int] = TtlCache(0.05)

    def fail() -> int:
        raise LookupError("revoked")

    with pytest.raises(LookupError):
        cache.get("token", fail)
    assert cache.get("token", lambda: 1) == 1
    assert cache.get("token", lambda: 2) == 1, "fresh: served from the cache"
    time.sleep(0.06)
    assert cache.get("token", lambda: 3) == 3, "expired: computed again"
    cache.forget("token")
    assert cache.get("token", lambda: 4) == 4
