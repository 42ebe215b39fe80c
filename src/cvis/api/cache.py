"""A small time-limited cache: answers that may be a couple of seconds old (who a token is,
which sets an agency sees) without a database round trip on every lookup.

One thread computes an expired key while the others asking for it wait for its answer: at
16 concurrent lookups an expiry used to start 16 identical queries per process at once, and
the slowest of them (a scan of every known hash) stalled the service for seconds."""

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
        self._computing: dict[K, threading.Lock] = {}
        self._lock = threading.Lock()
        self._renewing: set[K] = set()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value if fresh, else ``compute()`` by one thread at a time per key
        (errors are never cached). A value is never served longer than ``seconds`` after
        its computation began, so a revoked token stops working within that time."""
        if self._seconds <= 0:
            return compute()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            flight = self._computing.setdefault(key, threading.Lock())
        with flight:
            now = time.monotonic()
            with self._lock:
                hit = self._entries.get(key)
            if hit is not None and hit[0] > now:  # computed while this thread waited
                return hit[1]
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            self._store(key, now, value)
            with self._lock:
                self._computing.pop(key, None)
            return value

    def peek(self, key: K, renew: Callable[[], V] | None = None) -> V | None:
        """The cached value if fresh, else None: the hot path's question, which computes
        nothing on its own thread and leaves a miss to the slow path's ``get``.

        With ``renew``, a value past half its lifetime is recomputed on a background thread
        (one per key) while this one is still served, so a key in steady use is rarely
        found expired; a failed recomputation drops the entry (the next caller takes the
        slow path and meets the error itself). Nothing is served past its lifetime."""
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is None or hit[0] <= now:
            return None
        if renew is not None and hit[0] - now < self._seconds / 2:
            with self._lock:
                starting = key not in self._renewing
                self._renewing.add(key)
            if starting:
                threading.Thread(target=self._renew, args=(key, renew), daemon=True).start()
        return hit[1]

    def _renew(self, key: K, compute: Callable[[], V]) -> None:
        try:
            with self._lock:
                flight = self._computing.setdefault(key, threading.Lock())
            with flight:
                started = time.monotonic()
                try:
                    value = compute()
                except Exception:
                    self.forget(key)
                    return
                self._store(key, started, value)
        finally:
            with self._lock:
                self._computing.pop(key, None)
                self._renewing.discard(key)

    def _store(self, key: K, started: float, value: V) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (started + self._seconds, value)

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
