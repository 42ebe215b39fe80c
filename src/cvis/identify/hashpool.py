"""Hash media items on supervised worker processes: time limits, crashes, one decode per content.

A worker takes a batch of items at a time. It reads and digests each, telling the
supervisor each sha256 as it goes, then decodes the pictures the supervisor gives
it: only those whose content no other item of the scan has (identical files are
decoded once; every path still gets its own record). The answers arrive while the
worker digests the rest of its batch, and the next batch while it decodes, so a
worker waits on the supervisor at most once a batch, not twice an item. A worker
that runs past the per-item time limit, or dies in a decoder, is killed and
replaced; its item is reported with the reason, the rest of its batches go to the
replacement, and the scan goes on. Records come back in input order, with bounded memory.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cvis.hashing import (
    Digested,
    HashingLimits,
    HashRecord,
    PdqAlternative,
    decode_item,
    digest_item,
)
from cvis.identify.forkserver import fork_server_context
from cvis.media.items import MediaItem
from cvis.signals import picture_signals_paths, register_by_path

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

log = logging.getLogger(__name__)
DEFAULT_TIME_LIMIT = 120.0  # seconds per item to decode, after it has been read
READ_RATE_FLOOR = 5 * 1024 * 1024  # bytes/s a read may take before it counts as hung
REORDER_WINDOW = 256  # records held back waiting for a slow earlier item
DECODED_MEMORY = 500_000  # distinct contents remembered per scan
BATCH_ITEMS = 8  # items a worker takes at once: one wait on the supervisor per batch
BATCH_BYTES = 64 * 1024 * 1024  # ...fewer when they are large (a batch's pictures are held)


@dataclass
class PoolSettings:
    workers: int = 1
    limits: HashingLimits = field(default_factory=HashingLimits)
    time_limit: float = DEFAULT_TIME_LIMIT


@dataclass(frozen=True)
class Outcome:
    """What decoding one content gave: copied to every item with the same sha256."""

    pdq: str | None
    quality: int | None
    error: str | None
    contrast_quality: int | None
    variants: tuple[PdqAlternative, ...]
    signals: dict[str, list[str]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()  # facts about the content found while decoding (truncated...)


def _outcome(record: HashRecord, flags_before: int) -> Outcome:
    return Outcome(record.pdq, record.pdq_quality, record.error, record.pdq_contrast_quality,
                   tuple(record.pdq_variants), dict(record.signals),
                   tuple(record.flags[flags_before:]))


def _apply(record: HashRecord, outcome: Outcome) -> None:
    record.pdq, record.pdq_quality = outcome.pdq, outcome.quality
    record.pdq_contrast_quality = outcome.contrast_quality
    record.pdq_variants = list(outcome.variants)
    record.signals = dict(outcome.signals)
    record.flags.extend(f for f in outcome.flags if f not in record.flags)
    record.error = record.error or outcome.error


def _worker_main(conn: Connection, limits: HashingLimits, plugins: list[str]) -> None:
    """Runs in the worker process until the supervisor closes the pipe."""
    register_by_path(plugins)  # the supervisor's plug-in signal types, computed here too
    conn.send(("ready", None))  # imports are done: time limits start counting now
    while True:
        try:
            batch = conn.recv()
            _hash_batch(conn, batch, limits)
        except (EOFError, OSError):
            return


def _hash_batch(conn: Connection, batch: list[tuple[int, MediaItem]],
                limits: HashingLimits) -> None:
    """Digest every item (each digest sent at once), then decode those the supervisor gives
    this worker; its answers are read in the same order, by then long sent."""
    to_decode: list[tuple[int, MediaItem, Digested]] = []
    for index, item in batch:
        try:
            digested = digest_item(item, limits)
        except Exception:  # a bug must cost one item, not the scan
            conn.send(("done", index, _internal_error(item)))
            continue
        if digested.needs_decoding:
            conn.send(("digest", index, digested.record))  # the supervisor keeps it from here
            to_decode.append((index, item, digested))
        else:
            conn.send(("done", index, digested.record))
    for index, item, digested in to_decode:
        record = digested.record
        if conn.recv():
            try:
                decode_item(item, digested, limits)
            except Exception:
                record = _internal_error(item)
        conn.send(("done", index, record))


def _internal_error(item: MediaItem) -> HashRecord:
    log.exception("hashing %s failed", item.name)
    return HashRecord(item.name, item.size, error="internal error: cvis could not hash this item")


@dataclass
class _Task:
    index: int
    item: MediaItem
    record: HashRecord | None = None  # known after the digest step
    decodes: bool = False


class _Worker:
    def __init__(self, ctx: Any, limits: HashingLimits) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main,
                                   args=(child, limits, picture_signals_paths()), daemon=True)
        self.process.start()
        child.close()
        # Batches handed over, oldest first; a task leaves its batch when it is done.
        self.batches: deque[list[_Task]] = deque()
        self.since = 0.0  # when the worker last answered (or was given work while idle)

    @property
    def busy(self) -> bool:
        return bool(self.batches)

    def current(self) -> tuple[_Task, bool]:
        """The task the worker is on, and whether it is still reading (items are digested
        in batch order, then decoded in batch order)."""
        batch = self.batches[0]
        reading = next((t for t in batch if t.record is None), None)
        return (reading, True) if reading is not None else (batch[0], False)

    def find(self, index: int) -> _Task:
        return next(t for batch in self.batches for t in batch if t.index == index)

    def drop(self, task: _Task) -> None:
        batch = next(b for b in self.batches if task in b)
        batch.remove(task)
        while self.batches and not self.batches[0]:
            self.batches.popleft()

    def reading_done(self) -> bool:
        """Every item handed over has been digested: time to hand over the next batch."""
        return all(t.record is not None for batch in self.batches for t in batch)

    def wait_ready(self) -> None:
        if not self.conn.poll(120) or self.conn.recv()[0] != "ready":
            raise RuntimeError("a hashing worker process did not start")

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class HashPool:
    """The supervisor: hands out items, enforces time limits, shares decode results."""

    def __init__(self, settings: PoolSettings) -> None:
        self.settings = settings
        self._ctx = fork_server_context()
        count = max(1, settings.workers)
        self._workers = [_Worker(self._ctx, settings.limits) for _ in range(count)]
        for worker in self._workers:
            worker.wait_ready()
        self._done: dict[int, HashRecord] = {}
        self._decoded: OrderedDict[str, Outcome] = OrderedDict()
        self._claimed: dict[str, _Task] = {}
        self._waiting: dict[str, list[_Task]] = {}
        self.decodes = 0  # pictures actually decoded (identical content counts once)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx, self.settings.limits)
        worker.wait_ready()
        return worker

    def close(self) -> None:
        for worker in self._workers:
            worker.stop(kill=worker.busy)

    def _deadline(self, worker: _Worker) -> float:
        task, reading = worker.current()
        allowance = self.settings.time_limit
        if reading:
            allowance += (task.item.size or 0) / READ_RATE_FLOOR
        return worker.since + allowance

    def run(self, items: Iterable[MediaItem]) -> Iterator[HashRecord]:
        source = enumerate(items)
        next_out, exhausted = 0, False
        while True:
            exhausted = exhausted or self._dispatch(source)
            while next_out in self._done:
                yield self._done.pop(next_out)
                next_out += 1
            busy = [w for w in self._workers if w.busy]
            if exhausted and not busy and not self._waiting:
                return
            self._collect(busy)

    def _dispatch(self, source: Iterator[tuple[int, MediaItem]]) -> bool:
        """Hand a batch to each worker that has digested all it holds; True once the source
        is used up."""
        for worker in self._workers:
            if not worker.reading_done():
                continue
            held = len(self._done) + sum(len(w) for w in self._waiting.values())
            if held >= REORDER_WINDOW:
                return False
            batch = self._next_batch(source)
            if not batch:
                return True
            self._hand_over(worker, batch)
        return False

    def _next_batch(self, source: Iterator[tuple[int, MediaItem]]) -> list[_Task]:
        batch: list[_Task] = []
        size = 0
        while len(batch) < BATCH_ITEMS and size < BATCH_BYTES:
            entry = next(source, None)
            if entry is None:
                break
            batch.append(_Task(*entry))
            size += entry[1].size or 0
        return batch

    def _hand_over(self, worker: _Worker, batch: list[_Task]) -> None:
        if not worker.busy:
            worker.since = time.monotonic()
        worker.batches.append(batch)
        try:
            worker.conn.send([(t.index, t.item) for t in batch])
        except OSError:  # the worker died; its replacement takes its batches
            self._replace(worker, None)

    def _collect(self, busy: list[_Worker]) -> None:
        if not busy:
            return
        from multiprocessing.connection import wait

        soonest = min(self._deadline(w) for w in busy)
        ready = wait([w.conn for w in busy], timeout=max(0.0, soonest - time.monotonic()))
        for worker in busy:
            if worker.conn in ready:
                self._receive(worker)
            elif worker.busy and time.monotonic() > self._deadline(worker):
                self._replace(worker, f"time limit: no result within {self._limit_text()}")

    def _limit_text(self) -> str:
        return f"{self.settings.time_limit:g} s"

    def _receive(self, worker: _Worker) -> None:
        try:
            kind, index, record = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            self._replace(worker, f"decoder crashed: worker process died (exit code {code})")
            return
        worker.since = time.monotonic()
        task = worker.find(index)
        if kind == "digest":
            task.record = record
            try:
                worker.conn.send(self._claim(task, record.sha256))
            except OSError:
                self._replace(worker, "decoder crashed: worker process died")
        else:
            worker.drop(task)
            self._finish(task, record)

    def _claim(self, task: _Task, sha256: str) -> bool:
        """True when this task should decode; otherwise it will copy another's result."""
        if sha256 in self._decoded or sha256 in self._claimed:
            return False
        self._claimed[sha256], task.decodes = task, True
        self.decodes += 1
        return True

    def _finish(self, task: _Task, record: HashRecord) -> None:
        sha = record.sha256
        if sha is not None and task.decodes:
            self._claimed.pop(sha, None)
            before = len(task.record.flags) if task.record is not None else len(record.flags)
            self._remember(sha, _outcome(record, before))
            for other in self._waiting.pop(sha, []):
                self._settle(other)
        elif task.record is not None and sha is not None and not task.decodes:
            task.record = record
            if sha in self._decoded:
                self._settle(task)
            elif sha in self._claimed:
                self._waiting.setdefault(sha, []).append(task)
            else:  # the shared result was forgotten (memory bound): report what we have
                self._done[task.index] = record
            return
        self._done[task.index] = record

    def _settle(self, task: _Task) -> None:
        assert task.record is not None and task.record.sha256 is not None
        _apply(task.record, self._decoded[task.record.sha256])
        self._done[task.index] = task.record

    def _remember(self, sha256: str, outcome: Outcome) -> None:
        self._decoded[sha256] = outcome
        while len(self._decoded) > DECODED_MEMORY:
            self._decoded.popitem(last=False)

    def _replace(self, worker: _Worker, reason: str | None) -> None:
        """Kill a hung or dead worker and start a fresh one; report its current item with the
        reason, and hand the fresh one the rest of its batches, to read again.

        With no reason the items had not reached the worker, so the fresh one takes all.
        """
        current = worker.current()[0] if reason is not None else None
        left = [t for batch in worker.batches for t in batch if t is not current]
        worker.batches.clear()
        worker.stop(kill=True)
        fresh = self._workers[self._workers.index(worker)] = self._spawn()
        for task in left:  # read again from the start: a claim this worker held is let go
            if task.decodes and task.record is not None and task.record.sha256 is not None:
                if self._claimed.get(task.record.sha256) is task:
                    del self._claimed[task.record.sha256]
                    self.decodes -= 1
            task.record, task.decodes = None, False
        if left:
            self._hand_over(fresh, left)
        if current is None:
            return
        item = current.item
        record = current.record or HashRecord(item.name, item.size, flags=list(item.flags))
        if current.record is not None and current.record.sha256 is not None:
            # Read and digested: the digests still match exact-hash lists; say what stopped.
            record.flags.append(f"{reason} (digests kept; frames or pixels not hashed)")
        record.error = reason
        self._finish(current, record)


def available_cores() -> int:
    """Cores this process may run on (``taskset``, cgroup cpusets), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


def hash_items(
    items: Iterable[MediaItem],
    workers: int,
    limits: HashingLimits | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    *,
    in_process: bool = False,
) -> Iterator[HashRecord]:
    """Records for items, in input order, hashed on ``workers`` supervised processes.

    ``in_process=True`` with one worker hashes here, with no pool to start (see
    ``hash_in_process``): for `cvis hash` on one core, where a worker process would cost
    more than the pictures.
    """
    settings = PoolSettings(workers, limits or HashingLimits(), time_limit)
    if in_process and workers <= 1:
        yield from hash_in_process(items, settings)
        return
    pool = HashPool(settings)
    try:
        yield from pool.run(items)
    finally:
        pool.close()


class _TimeLimit(BaseException):
    """Not an Exception: the decoders' own ``except Exception`` must not swallow it."""


def hash_in_process(items: Iterable[MediaItem], settings: PoolSettings) -> Iterator[HashRecord]:
    """The pool's answers without a pool: one decode per content, the time limit enforced by
    a timer signal (in the main thread; elsewhere none). What this cannot do is survive a
    decoder that kills the process: the command stops there, its audit record says started."""
    decoded: OrderedDict[str, Outcome] = OrderedDict()
    for item in items:
        reading = settings.time_limit + (item.size or 0) / READ_RATE_FLOOR
        try:
            with _time_limit(reading):
                digested = digest_item(item, settings.limits)
        except _TimeLimit:
            reason = f"time limit: no result within {settings.time_limit:g} s"
            yield HashRecord(item.name, item.size, error=reason, flags=list(item.flags))
            continue
        try:
            record = digested.record
            if digested.needs_decoding and record.sha256 is not None:
                outcome = decoded.get(record.sha256)
                if outcome is None:
                    outcome = _decode_here(item, digested, settings)
                    decoded[record.sha256] = outcome
                    if len(decoded) > DECODED_MEMORY:
                        decoded.popitem(last=False)
                _apply(record, outcome)
        except Exception:  # a bug must cost one item, not the command
            log.exception("hashing %s failed", item.name)
            record = HashRecord(item.name, item.size,
                                error="internal error: cvis could not hash this item")
        yield record


def _decode_here(item: MediaItem, digested: Digested, settings: PoolSettings) -> Outcome:
    record = digested.record
    flags_before = len(record.flags)
    probe = HashRecord(record.path, record.size, flags=list(record.flags))
    try:
        with _time_limit(settings.time_limit):
            decode_item(item, Digested(probe, digested.picture, digested.video), settings.limits)
    except _TimeLimit:
        reason = f"time limit: no result within {settings.time_limit:g} s"
        probe = HashRecord(record.path, record.size, flags=list(record.flags))
        probe.flags.append(f"{reason} (digests kept; frames or pixels not hashed)")
        probe.error = reason
    return _outcome(probe, flags_before)


class _time_limit:
    """SIGALRM after ``seconds`` raises _TimeLimit in the decoding code (main thread only)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> None:
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, self._expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)

    @staticmethod
    def _expire(signum: int, frame: object) -> None:
        raise _TimeLimit
