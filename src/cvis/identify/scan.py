"""The scan pipeline: evidence -> media items -> hashes (worker processes) -> matches -> store.

A scan of a case is opened, claimed and deconflicted by `cvis.cases.scanning`; this
module knows nothing of cases beyond the number a request names.

Results are committed in batches keyed by (scan, path), so a scan stopped at any
moment resumes where it was, never hashing a stored item again, never storing one twice.
"""

from __future__ import annotations

import os
import platform
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cvis.hashing import HashingLimits, HashRecord
from cvis.hashsets.contacts import SeriesBook
from cvis.identify.hashpool import DEFAULT_TIME_LIMIT, hash_items
from cvis.identify.matcher import Matcher, MatchResult, record_queries
from cvis.identify.video_match import as_video_matches
from cvis.media.folders import EvidencePath, iter_media, whole_file
from cvis.media.items import MediaItem
from cvis.media.limits import IntakeLimits
from cvis.store.db import Store
from cvis.store.models import Case, HashSet, KnownMedia, Match, Scan, ScanItem, utcnow

COMMIT_EVERY = 200
COMMIT_SECONDS = 1.0  # a kill loses at most this much finished work


@dataclass(frozen=True)
class ScanRequest:
    case: str
    paths: Sequence[EvidencePath]  # folders, files, object-store URIs (s3://bucket/prefix/)
    sets: list[str] | None = None
    workers: int = 0  # 0: all cores
    restart: bool = False
    resume_scan_id: int | None = None
    intake: IntakeLimits = field(default_factory=IntakeLimits)
    hashing: HashingLimits = field(default_factory=HashingLimits)
    time_limit: float = DEFAULT_TIME_LIMIT
    acquired_by: str = ""
    engine: str = "local"  # "local": worker processes here; "spark": Spark's executors

    def recorded_settings(self) -> dict[str, Any]:
        """What a court needs to reproduce the scan."""
        return {
            "sets": self.sets, "workers": self.workers, "time_limit": self.time_limit,
            "engine": self.engine,
            "intake": self.intake.to_dict(), "hashing": vars(self.hashing).copy(),
            "python": platform.python_version(),
        }


@dataclass
class ScanSummary:
    scan_id: int
    case: str
    items: int = 0
    matched_items: int = 0
    matches_by_set: Counter[str] = field(default_factory=Counter)
    matches_by_category: Counter[str] = field(default_factory=Counter)
    identified_victim_items: int = 0
    errors_by_reason: Counter[str] = field(default_factory=Counter)
    flags_by_reason: Counter[str] = field(default_factory=Counter)

    def count(self, row: dict[str, Any]) -> None:
        """Add one JSONL row (see ``iter_scan_results``)."""
        self.items += 1
        if row["error"]:
            self.errors_by_reason[_error_reason(row["error"])] += 1
        for flag in row["flags"]:
            self.flags_by_reason[_error_reason(flag)] += 1
        matches = row["matches"]
        if matches:
            self.matched_items += 1
            self.identified_victim_items += any(m["victim_identified"] for m in matches)
        for m in matches:
            self.matches_by_set[m["set"]] += 1
        for category in {m["category"] for m in matches}:
            self.matches_by_category[str(category)] += 1


class ScanProgress:
    """What the pipeline reports as it goes; the CLI draws it, tests may count it."""

    def start(self, items: int, size: int) -> None:
        """Totals still to do, known before hashing starts."""

    def advance(self, items: int, size: int) -> None:
        """Items (and their bytes) finished."""


ProgressFn = Callable[[int], None]
Heartbeat = Callable[[Session, int], None]
# A local file the scan read whole -> (size, sha256): the folder manifests' digests
WholeFileDigests = dict[str, tuple[int, str]]


def match_records(matcher: Matcher, records: list[HashRecord]) -> list[list[MatchResult]]:
    """All candidates for each item (its variants too), the nearest per (set, media, signal);
    the queries of every record searched in one batch: a scan's items cost one index search
    per commit, not one each (the per-search costs dwarf the per-query ones)."""
    queries = [record_queries(record) for record in records]
    found = matcher.match([q for per_record in queries for q in per_record])
    out, start = [], 0
    for record, asked in zip(records, queries, strict=True):
        hits = sorted(
            (m for per_query in found[start:start + len(asked)] for m in per_query),
            key=lambda m: (m.distance, m.set, m.media_id, m.signal),
        )
        start += len(asked)
        unique: dict[tuple[str, str, str], MatchResult] = {}
        for m in hits:
            unique.setdefault((m.set, m.media_id, m.signal), m)
        out.append(as_video_matches(matcher, record, list(unique.values())))
    return out


def _error_reason(error: str) -> str:
    return error.split(":", 1)[0]


def _store_batch(
    session: Session, scan_id: int, batch: list[tuple[HashRecord, list[MatchResult]]]
) -> None:
    """Core inserts (no ORM object per row): the items with their new ids, then the matches."""
    ids = session.scalars(
        insert(ScanItem).returning(ScanItem.id, sort_by_parameter_order=True),
        [{"scan_id": scan_id, **record.to_dict()} for record, _ in batch],
    ).all()
    matches = [
        {"item_id": item_id, "known_media_id": m.known_media_pk, "signal_type": m.signal,
         "distance": m.distance, "video": m.video}
        for item_id, (_, found) in zip(ids, batch, strict=True)
        for m in found
    ]
    if matches:
        session.execute(insert(Match), matches)


def _count(request: ScanRequest, done: set[str]) -> tuple[int, int]:
    """Items and bytes still to hash: a listing pass, so the bar can show an ETA."""
    items = size = 0
    for item in iter_media(request.paths, request.intake):
        if item.name not in done:  # bytes that will be read, not what a bomb claims
            readable = item.opener is not None and item.error is None
            items, size = items + 1, size + ((item.size or 0) if readable else 0)
    return items, size


def hash_and_match(
    store: Store, request: ScanRequest, scan_id: int, done: set[str],
    progress: ScanProgress | ProgressFn | None, heartbeat: Heartbeat | None = None,
    digested: WholeFileDigests | None = None,
) -> None:
    """Hash and match every item of the request not in ``done``, stored under ``scan_id``.

    One read session spans the scan, so every item is matched against the same
    view of the hash sets; results are written in short transactions, every
    ``COMMIT_EVERY`` items or ``COMMIT_SECONDS``, whichever comes first, each
    calling ``heartbeat`` (the case workflow's lease) in the same transaction.
    ``digested`` collects the size and sha256 of every local file hashed whole (the
    custody manifest's entries, so that no file is read twice).
    """
    if isinstance(progress, ScanProgress):
        report: ScanProgress = progress
        report.start(*_count(request, done))  # a second listing pass: only for a bar to show
    else:
        report = _Adapter(progress)
    workers = request.workers or os.cpu_count() or 1
    pending: Iterator[MediaItem] = (item for item in iter_media(request.paths, request.intake)
                                    if item.name not in done)
    whole: dict[str, str] = {}  # item name -> the file it reads whole, until its record is back
    if digested is not None:
        pending = _noting_whole_files(pending, whole)
    last_commit = time.monotonic()
    with store.session() as read_session, _Committer() as committer:
        matcher = Matcher(read_session, request.sets, store.settings.index_dir)
        if request.hashing.picture_signals is None:  # only what the chosen sets can match
            request = replace(request, hashing=replace(request.hashing,
                                                       picture_signals=matcher.signals()))

        def commit(records: list[HashRecord]) -> None:
            _commit_batch(store, scan_id, _matched(matcher, records, report), heartbeat)

        hashed: list[HashRecord] = []
        for record in _hash_records(request, pending, workers):
            # An item that could not be decoded still has its digests: exact lists match it.
            hashed.append(record)
            if digested is not None and (file := whole.pop(record.path, None)) is not None:
                if record.sha256 is not None and record.size is not None:
                    digested[file] = (record.size, record.sha256)
            if len(hashed) >= COMMIT_EVERY or time.monotonic() - last_commit > COMMIT_SECONDS:
                committer.submit(commit, hashed)
                hashed, last_commit = [], time.monotonic()
        committer.submit(commit, hashed)


def _noting_whole_files(items: Iterator[MediaItem],
                        whole: dict[str, str]) -> Iterator[MediaItem]:
    for item in items:
        if (file := whole_file(item)) is not None:
            whole[item.name] = file
        yield item


class _Committer:
    """Matches and stores batches on one thread beside the hashing loop, one batch at a time
    in order: while a batch is matched and written, the loop keeps answering the workers
    (whose next item waits on it), instead of leaving them idle for the commit."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="cvis-scan-commit")
        self._last: Future[None] | None = None

    def submit(self, commit: Callable[[list[HashRecord]], None],
               records: list[HashRecord]) -> None:
        self.wait()  # at most one batch in flight: memory bounded, batches stored in order
        self._last = self._pool.submit(commit, records)

    def wait(self) -> None:
        if self._last is not None:
            last, self._last = self._last, None
            last.result()  # a failed commit stops the scan here, as it did inline

    def __enter__(self) -> _Committer:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            self._pool.shutdown(wait=True)


def _matched(
    matcher: Matcher, records: list[HashRecord], report: ScanProgress
) -> list[tuple[HashRecord, list[MatchResult]]]:
    batch = list(zip(records, match_records(matcher, records), strict=True)) if records else []
    for record in records:
        report.advance(1, (record.size or 0) if record.md5 else 0)
    return batch


ENGINES = ("local", "spark")


def _hash_records(
    request: ScanRequest, pending: Iterator[MediaItem], workers: int
) -> Iterator[HashRecord]:
    """The engine hashes; matching and storing stay here, so both engines give one result."""
    if request.engine == "spark":
        from cvis.identify.spark_engine import spark_hash_items

        return spark_hash_items(pending, request.hashing, request.time_limit)
    return hash_items(pending, workers, request.hashing, request.time_limit)


class _Adapter(ScanProgress):
    def __init__(self, advance: ProgressFn | None) -> None:
        self._advance = advance

    def advance(self, items: int, size: int) -> None:
        if self._advance:
            self._advance(items)


def _commit_batch(
    store: Store, scan_id: int, batch: list[tuple[HashRecord, list[MatchResult]]],
    heartbeat: Heartbeat | None,
) -> None:
    if batch:
        with store.session() as session:
            _store_batch(session, scan_id, batch)
            if heartbeat is not None:
                heartbeat(session, scan_id)


def finish_scan(session: Session, scan_id: int) -> None:
    """The scan's counts from its stored items; it is complete."""
    scan = session.get_one(Scan, scan_id)
    scan.item_count = session.scalar(
        select(func.count()).select_from(ScanItem).where(ScanItem.scan_id == scan_id)
    ) or 0
    scan.error_count = session.scalar(
        select(func.count())
        .select_from(ScanItem)
        .where(ScanItem.scan_id == scan_id, ScanItem.error.is_not(None))
    ) or 0
    scan.match_count = session.scalar(
        select(func.count())
        .select_from(Match)
        .join(ScanItem, ScanItem.id == Match.item_id)
        .where(ScanItem.scan_id == scan_id)
    ) or 0
    scan.status, scan.finished_at = "completed", utcnow()


def _item_matches(session: Session, item_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = session.execute(
        select(Match, KnownMedia, HashSet)
        .join(KnownMedia, KnownMedia.id == Match.known_media_id)
        .join(HashSet, HashSet.id == KnownMedia.set_id)
        .where(Match.item_id.in_(item_ids))
        .order_by(Match.item_id, Match.distance, HashSet.name, KnownMedia.media_id)
    )
    by_item: dict[int, list[dict[str, Any]]] = {}
    book = SeriesBook(session)  # identified status from the series when the media has none
    for match, media, hash_set in rows:
        by_item.setdefault(match.item_id, []).append(
            {
                "set": hash_set.name,
                "media_id": media.media_id,
                "signal": match.signal_type,
                "distance": match.distance,
                "category": media.category,
                "series": media.series,
                "victim_identified": book.identification(media).victim_identified,
                **(match.video or {}),
            }
        )
    return by_item


_ITEM_COLUMNS = (ScanItem.id, ScanItem.path, ScanItem.size, ScanItem.md5, ScanItem.sha1,
                 ScanItem.sha256, ScanItem.pdq, ScanItem.pdq_quality, ScanItem.error,
                 ScanItem.flags)


def iter_scan_results(session: Session, scan_id: int) -> Iterator[dict[str, Any]]:
    """Every stored item of a scan once, in path order, with its matches (the JSONL rows)."""
    last_path = ""
    while True:
        items = session.execute(
            select(*_ITEM_COLUMNS)
            .where(ScanItem.scan_id == scan_id, ScanItem.path > last_path)
            .order_by(ScanItem.path)
            .limit(500)
        ).all()
        if not items:
            return
        matches = _item_matches(session, [i.id for i in items])
        for item in items:
            yield {"path": item.path, "size": item.size, "md5": item.md5, "sha1": item.sha1,
                   "sha256": item.sha256, "pdq": item.pdq, "pdq_quality": item.pdq_quality,
                   "error": item.error, "flags": list(item.flags or []),
                   "matches": matches.get(item.id, [])}
        last_path = items[-1].path


def summarize_scan(session: Session, scan_id: int) -> ScanSummary:
    summary, rows = counted_scan_results(session, scan_id)
    for _ in rows:
        pass
    return summary


def counted_scan_results(
    session: Session, scan_id: int
) -> tuple[ScanSummary, Iterator[dict[str, Any]]]:
    """The JSONL rows, each counted into the summary as it passes: one read of the results
    gives both (the summary is complete once the rows are used up)."""
    scan = session.get_one(Scan, scan_id)
    case = session.get_one(Case, scan.case_id)
    summary = ScanSummary(scan_id=scan_id, case=case.number)

    def rows() -> Iterator[dict[str, Any]]:
        for row in iter_scan_results(session, scan_id):
            summary.count(row)
            yield row

    return summary, rows()
