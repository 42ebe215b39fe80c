"""A small time-limited cache: answers that may be a couple of seconds old (who a token is,
which sets an agency sees) without a database round trip on every lookup."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
MAX_ENTRIES = 10_000


class TtlCache(Generic[K, V]):
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value if fresh, else ``compute()`` (errors are never cached)."""
        if self._seconds <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self._seconds, value)
        return value

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
