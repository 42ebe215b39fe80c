"""Group commit for busy servers: many requests' audit records in one short transaction.

A request still waits until its record is committed (no access goes unrecorded),
but a thousand lookups a second cost a few dozen transactions, not a thousand.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime

from cvis.audit.chain import append_records
from cvis.audit.checkpoints import write_checkpoint
from cvis.audit.keys import load_key
from cvis.audit.log import AuditEntry, entry_fields
from cvis.store.db import Store
from cvis.store.models import utcnow

MAX_BATCH = 1000
WAIT_SECONDS = 30.0


class AuditUnavailable(RuntimeError):
    """The record could not be committed: the caller must not report success."""


@dataclass
class _Pending:
    fields: dict[str, str]
    at: datetime
    done: threading.Event = field(default_factory=threading.Event)
    error: Exception | None = None


class AuditWriter:
    """One daemon thread per process drains the queue into the chain."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._key = load_key(store.settings)
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="cvis-audit", daemon=True)
        self._thread.start()

    def write(self, entry: AuditEntry) -> None:
        """Block until the record is committed; raise AuditUnavailable if it was not."""
        pending = _Pending(entry_fields(entry), utcnow())
        self._queue.put(pending)
        if not pending.done.wait(WAIT_SECONDS):
            raise AuditUnavailable("the audit log did not answer in time")
        if pending.error is not None:
            raise AuditUnavailable(f"the audit log could not be written: {pending.error}")

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._flush(batch)

    def _flush(self, batch: list[_Pending]) -> None:
        try:
            with self._store.session() as session:
                head = append_records(session, [(p.fields, p.at) for p in batch], self._key)
            write_checkpoint(self._store.settings, self._key, *head)
        except Exception as exc:  # reported to every waiting request, never swallowed
            for p in batch:
                p.error = exc
        for p in batch:
            p.done.set()
