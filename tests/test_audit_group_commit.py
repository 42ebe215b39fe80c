"""Concurrent requests' audit records are committed together, every one of them, and the
chain holds: the writer thread is held on its first transaction until every other
request has queued its record, so the rest must go in one transaction."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from cvis.audit.log import Actor, AuditEntry, verify_log
from cvis.audit.writer import AuditWriter
from cvis.store.db import Store
from cvis.store.models import AuditRecord

REQUESTS = 40


def test_concurrent_records_are_committed_together_and_chained(store: Store) -> None:
    writer = AuditWriter(store)
    real_flush, batches = writer._flush, []

    def held_flush(batch: list) -> None:  # type: ignore[type-arg]
        batches.append(len(batch))
        deadline = time.monotonic() + 30
        while writer._queue.qsize() < REQUESTS - sum(batches) and time.monotonic() < deadline:
            time.sleep(0.01)
        real_flush(batch)

    writer._flush = held_flush  # type: ignore[method-assign]
    with store.session() as session:
        before = session.scalar(select(func.count(AuditRecord.seq)))

    def request(n: int) -> None:
        writer.write(AuditEntry("api", "GET /api/v1/lookup", Actor("u", "A", "127.0.0.1"),
                                "success", f"md5:{n:032x}"))

    threads = [threading.Thread(target=request, args=(n,)) for n in range(REQUESTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # the first (one record, or all if they queued before the writer woke), then the rest
    assert sum(batches) == REQUESTS and len(batches) <= 2
    with store.session() as session:
        objects = set(session.scalars(select(AuditRecord.object).where(
            AuditRecord.seq > 0).order_by(AuditRecord.seq)).all()[before:])
    assert objects == {f"md5:{n:032x}" for n in range(REQUESTS)}
    report = verify_log(store)
    assert report.intact, report.problem
