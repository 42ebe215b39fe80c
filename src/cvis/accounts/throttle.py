"""A per-address limit on logon attempts: a sliding window kept in the server process."""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_PER_WINDOW = 20
WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 100_000


class AddressThrottle:
    """At most ``limit`` attempts per address per ``window`` seconds (thread-safe)."""

    def __init__(self, limit: int = MAX_PER_WINDOW, window: float = WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str, now: float | None = None) -> bool:
        """Count an attempt from ``address``; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._seen) >= MAX_ADDRESSES:
                self._seen.clear()
            times = self._seen.setdefault(address, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True
