"""Hash media items on worker processes, results in input order, memory bounded."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from cvis.hashing import HashRecord, hash_item
from cvis.media.items import MediaItem

IN_FLIGHT_PER_WORKER = 8


def hash_items(items: Iterable[MediaItem], workers: int) -> Iterator[HashRecord]:
    """One worker hashes in-process (no start-up cost); more fan out to processes.

    Only a few items per worker are in flight at once (Executor.map would submit
    the whole evidence tree up front).
    """
    if workers <= 1:
        yield from (hash_item(item) for item in items)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        in_flight: deque[Future[HashRecord]] = deque()
        for item in items:
            in_flight.append(pool.submit(hash_item, item))
            if len(in_flight) >= workers * IN_FLIGHT_PER_WORKER:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
