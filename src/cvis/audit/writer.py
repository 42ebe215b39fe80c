"""Group commit for busy servers: many requests' audit records in one short transaction.

A request still waits until its record is committed and a signed checkpoint covers it (no
access goes unrecorded), but a thousand lookups a second cost a few dozen transactions,
not a thousand.

Two things kept the batches small and the requests waiting (measured with py-spy on two
workers at 16 connections): the workers' writers met on SQLite's write lock, where the
loser sleeps in SQLite's busy handler (steps of 10-100 ms) long after the lock is free;
and each batch waited for its checkpoint's fsync before the next could start. So on a
SQLite file the writers of all processes take turns by an OS file lock (a waiter wakes
the moment it is released), and the checkpoint is written by a second thread while the
next batch is committed: one checkpoint line, for the newest head, covers every batch
committed meanwhile, and releases their requests.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from cvis.audit.chain import append_records
from cvis.audit.checkpoints import write_checkpoint
from cvis.audit.keys import load_key
from cvis.audit.log import AuditEntry, entry_fields
from cvis.store.db import Store
from cvis.store.models import utcnow

MAX_BATCH = 1000
T = TypeVar("T")
WAIT_SECONDS = 30.0


class AuditUnavailable(RuntimeError):
    """The record could not be committed: the caller must not report success."""


@dataclass
class _Pending:
    fields: dict[str, str]
    at: datetime
    done: threading.Event | None = field(default_factory=threading.Event)
    error: Exception | None = None
    # An event-loop waiter (write_async): its loop and the future the signer settles.
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None


def _lock_path(store: Store) -> Path | None:
    """The file the writers of every process on a SQLite database take turns by."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + "-auditlock")


class AuditWriter:
    """One daemon thread per process drains the queue into the chain; a second signs the
    checkpoints and answers the waiting requests."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._key = load_key(store.settings)
        # SimpleQueue: put and get in C (a Queue's condition variable cost each request a
        # Python lock round and a notify)
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._committed: queue.SimpleQueue[tuple[list[_Pending], tuple[int, str]]] = \
            queue.SimpleQueue()
        path = _lock_path(store)
        self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None
        self._thread = threading.Thread(target=self._run, name="cvis-audit", daemon=True)
        self._thread.start()
        self._signer = threading.Thread(target=self._sign, name="cvis-audit-sign", daemon=True)
        self._signer.start()

    def write(self, entry: AuditEntry) -> None:
        """Block until the record is committed; raise AuditUnavailable if it was not."""
        done = threading.Event()
        pending = _Pending(entry_fields(entry), utcnow(), done)
        self._queue.put(pending)
        if not done.wait(WAIT_SECONDS):
            raise AuditUnavailable("the audit log did not answer in time")
        if pending.error is not None:
            raise AuditUnavailable(f"the audit log could not be written: {pending.error}")

    async def write_async(self, entry: AuditEntry) -> None:
        """``write`` for a coroutine: the record joins the same group commit, and this
        returns once it is committed and covered by a signed checkpoint (so a request is
        answered only after its record is durable), without holding a thread meanwhile."""
        loop = asyncio.get_running_loop()
        pending = _Pending(entry_fields(entry), utcnow(), None, None, loop, loop.create_future())
        self._queue.put(pending)
        assert pending.future is not None
        try:
            await asyncio.wait_for(pending.future, WAIT_SECONDS)
        except TimeoutError:
            raise AuditUnavailable("the audit log did not answer in time") from None
        if pending.error is not None:
            raise AuditUnavailable(f"the audit log could not be written: {pending.error}")

    def _run(self) -> None:
        while True:
            batch = _drain(self._queue)  # waits for a record
            self._flush(batch)

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Exclusive among this database's writers in every process (SQLite files only)."""
        if self._lock_fd is None:
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _flush(self, batch: list[_Pending]) -> None:
        try:
            with self._turn(), self._store.engine.begin() as connection:
                head = append_records(connection, [(p.fields, p.at) for p in batch], self._key)
        except Exception as exc:  # reported to every waiting request, never swallowed
            _answer(batch, exc)
            return
        self._committed.put((batch, head))

    def _sign(self) -> None:
        """One signed checkpoint for the newest head committed, then answer its requests."""
        while True:
            committed = _drain(self._committed)
            waiting = [p for batch, _ in committed for p in batch]
            try:
                write_checkpoint(self._store.settings, self._key, *committed[-1][1])
            except Exception as exc:
                _answer(waiting, exc)
            else:
                _answer(waiting, None)


def _drain(source: queue.SimpleQueue[T]) -> list[T]:
    """The next item (waiting for it) and whatever else is queued, up to MAX_BATCH."""
    items = [source.get()]
    while len(items) < MAX_BATCH:
        try:
            items.append(source.get_nowait())
        except queue.Empty:
            break
    return items


def _answer(waiting: list[_Pending], error: Exception | None) -> None:
    """Release the waiters: threads one by one, each event loop once for all of its own."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for p in waiting:
        p.error = error
        if p.done is not None:
            p.done.set()
        if p.loop is not None and p.future is not None:
            by_loop.setdefault(p.loop, []).append(p.future)
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, futures)
        except RuntimeError:  # that loop has closed: nobody is waiting any more
            pass


def _settle(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a waiter that gave up (timeout) has cancelled its own
            future.set_result(None)
