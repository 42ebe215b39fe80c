"""Hash-set services: import a list as a new version, list, show, configure, export, diff."""

from __future__ import annotations

import csv
import difflib
import gc
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cvis.digests import file_sha256
from cvis.hashsets.errors import UnknownSet
from cvis.hashsets.formats import HashListFormat, detect_format, get_format
from cvis.hashsets.history import Change, iter_records_at, iter_version_changes
from cvis.hashsets.reader_process import open_list, plugin_signal_paths, read_in_process
from cvis.hashsets.records import KnownRecord, RecordError, check_columns
from cvis.hashsets.staging import BATCH_RECORDS, MAX_REPORTED_ERRORS, StagedBatch, stage_records
from cvis.hashsets.writer import VersionWriter
from cvis.store.models import HashSet, KnownMedia, KnownSignal, SetVersion

BATCH = BATCH_RECORDS
# Below this a second process costs more to start than it saves.
READER_PROCESS_MIN_BYTES = 16 * 1024 * 1024
SET_SETTINGS = ("description", "source", "agency", "enabled", "thresholds")
# Called after each batch with the records read so far, the bytes of the file read so far
# (0 when reading a stream that cannot tell) and False; then once with True when reading is
# done and the import's last steps (index rebuilds, the caller's commit) follow.
ProgressCallback = Callable[[int, int, bool], None]


class ImportRejected(ValueError):
    """The list had malformed records and --skip-bad was not given: nothing was imported."""

    def __init__(self, errors: list[RecordError], total: int) -> None:
        self.errors, self.total = errors, total
        shown = "\n".join(f"  {e}" for e in errors[:20])
        more = f"\n  ... and {total - 20} more" if total > 20 else ""
        super().__init__(f"{total} malformed record(s); nothing imported:\n{shown}{more}")


class InvalidSetting(ValueError):
    """A set setting outside what the signal or the set allows (an input error)."""


# The widest PDQ distance a set may match at: 63 of 256 bits. Unrelated pictures lie near 128
# bits apart, so beyond this a set starts matching everything; Meta's threshold is 31.
PDQ_MAX_THRESHOLD = 63


class UnknownVersion(LookupError):
    pass


@dataclass
class ImportReport:
    set_name: str
    version: int
    format: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[RecordError] = field(default_factory=list)
    error_count: int = 0


@dataclass(frozen=True)
class SetSummary:
    name: str
    agency: str
    enabled: bool
    media: int
    signals: dict[str, int]
    versions: int


@dataclass(frozen=True)
class VersionSummary:
    number: int
    format: str
    source_file: str
    source_sha256: str
    added: int
    updated: int
    removed: int
    skipped: int
    imported_at: datetime


def get_or_create_set(session: Session, name: str, agency: str = "") -> HashSet:
    """The set of that name; a new one gets a checked name and belongs to ``agency`` (private
    to it until shared; with no agency, on a single-agency store, it is open)."""
    from cvis.hashsets.access import create_owned_set
    from cvis.policy.inputs import check_name

    hash_set = session.scalar(select(HashSet).where(HashSet.name == name))
    if hash_set is None:
        hash_set = create_owned_set(session, check_name(name, "a set name"), agency)
    return hash_set


def get_set(session: Session, name: str) -> HashSet:
    hash_set = session.scalar(select(HashSet).where(HashSet.name == name))
    if hash_set is None:
        raise UnknownSet(f"no hash set named {name!r}")
    return hash_set


def configure_set(session: Session, name: str, **settings: Any) -> HashSet:
    """Set a set's provenance and match settings; None leaves as is.

    ``create`` makes a new set of that name; without it an unknown name is an error (a
    mistyped name must not open an empty set). Thresholds are checked per signal.
    """
    create = bool(settings.pop("create", True))
    unknown = set(settings) - set(SET_SETTINGS)
    if unknown:
        raise TypeError(f"not a set setting: {', '.join(sorted(unknown))}")
    if settings.get("thresholds") is not None:
        settings["thresholds"] = check_thresholds(settings["thresholds"])
    hash_set = (get_or_create_set(session, name, settings.get("agency") or "") if create
                else get_set(session, name))
    for key, value in settings.items():
        if value is not None:
            setattr(hash_set, key, dict(value) if key == "thresholds" else value)
    return hash_set


def threshold_range(signal: str) -> range:
    """The distances a set may match a signal at: exact hashes only at 0; the video
    thresholds (``vpdq_query``, ``vpdq_compared``) are percentages."""
    from cvis.signals import SIGNAL_TYPES, get_signal_type
    from cvis.signals.base import InvalidSignalValue
    from cvis.signals.vpdq import VIDEO_THRESHOLDS

    if signal in VIDEO_THRESHOLDS:
        return range(0, 101)

    try:
        signal_type = get_signal_type(signal)
    except InvalidSignalValue as exc:
        close = difflib.get_close_matches(signal.lower(), [*SIGNAL_TYPES, *VIDEO_THRESHOLDS],
                                          n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidSetting(f"{exc}{hint}") from None
    if signal_type.is_exact():
        return range(0, 1)
    return range(0, int(getattr(signal_type, "max_threshold", PDQ_MAX_THRESHOLD)) + 1)


def check_thresholds(thresholds: dict[str, Any]) -> dict[str, int]:
    """Each SIGNAL=DISTANCE names a known signal and a distance within its range."""
    checked = {}
    for signal, distance in thresholds.items():
        allowed = threshold_range(signal)
        if not isinstance(distance, int) or distance not in allowed:
            raise InvalidSetting(
                f"threshold for {signal} must be {allowed.start}-{allowed.stop - 1}, "
                f"not {distance!r}")
        checked[signal] = distance
    return checked


def _choose_format(stream: TextIO, format_name: str) -> HashListFormat:
    if format_name != "auto":
        fmt = get_format(format_name)
    else:
        head = stream.read(8192)
        stream.seek(0)
        fmt = detect_format(head)
    _check_header(fmt, stream)
    return fmt


def _check_header(fmt: HashListFormat, stream: TextIO) -> None:
    """A format with named columns has its header checked before any record is read."""
    columns = getattr(fmt, "columns", None)
    if not columns:
        return
    first = stream.readline()
    stream.seek(0)
    header = next(csv.reader([first]), [])
    check_columns(header, columns)


def import_stream(
    session: Session,
    stream: TextIO,
    *,
    name: str,
    format_name: str = "auto",
    skip_bad: bool = False,
    source_file: str = "",
    source_sha256: str = "",
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a hash list as a new version of set ``name``: all or nothing unless skip_bad.

    Runs in the caller's transaction, so a failure leaves no half-applied version.
    """
    fmt = _choose_format(stream, format_name)
    batches = stage_records(fmt.read(stream), BATCH)
    return _import_batches(session, batches, name=name, format_name=fmt.name,
                           skip_bad=skip_bad, source_file=source_file,
                           source_sha256=lambda: source_sha256, on_progress=on_progress)


def import_file(
    session: Session, path: Path, *, name: str, format_name: str = "auto", skip_bad: bool = False,
    on_progress: ProgressCallback | None = None,
    reader_process: bool | None = None,
) -> ImportReport:
    """Import a file; a big one is parsed by a second process while this one writes.

    ``reader_process`` forces the choice (None: by file size and core count).
    """
    with open_list(path) as (stream, position):
        fmt = _choose_format(stream, format_name)
        if reader_process is None:
            reader_process = (path.stat().st_size >= READER_PROCESS_MIN_BYTES
                              and (os.cpu_count() or 1) > 1
                              and plugin_signal_paths() is not None)
        batches = (read_in_process(path, fmt.name, BATCH) if reader_process
                   else stage_records(fmt.read(stream), BATCH, position))
        with _hashing_in_background(path) as sha256:
            return _import_batches(session, batches, name=name, format_name=fmt.name,
                                   skip_bad=skip_bad, source_file=str(path),
                                   source_sha256=sha256, on_progress=on_progress)


@contextmanager
def _hashing_in_background(path: Path) -> Iterator[Callable[[], str]]:
    """The file's SHA-256, computed in a thread (hashlib releases the GIL) beside the import."""
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(file_sha256(path)), daemon=True)
    worker.start()

    def digest() -> str:
        worker.join()
        if not result:
            raise OSError(f"could not read {path} to compute its SHA-256")
        return result[0]

    try:
        yield digest
    finally:
        worker.join()


def _collector_paused(batches: Iterator[StagedBatch]) -> Iterator[StagedBatch]:
    """Batches with the cyclic garbage collector off: batches hold no cycles, and collection
    passes over their millions of short-lived objects cost a large share of an import."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield from batches
    finally:
        if was_enabled:
            gc.enable()


def _import_batches(
    session: Session,
    batches: Iterator[StagedBatch],
    *,
    name: str,
    format_name: str,
    skip_bad: bool,
    source_file: str,
    source_sha256: Callable[[], str],
    on_progress: ProgressCallback | None,
) -> ImportReport:
    hash_set = get_or_create_set(session, name)
    number = (
        session.scalar(select(func.max(SetVersion.number)).where(SetVersion.set_id == hash_set.id))
        or 0
    ) + 1
    version = SetVersion(set_id=hash_set.id, number=number, format=format_name,
                         source_file=source_file, source_sha256="")
    session.add(version)
    session.flush()
    fresh = session.scalar(select(KnownMedia.id).where(KnownMedia.set_id == hash_set.id).limit(1))
    writer = VersionWriter(session, hash_set.id, version.id, fresh is None)
    report = ImportReport(name, number, format_name)
    consumed = position = 0
    for batch in _collector_paused(batches):
        report.error_count += batch.error_count
        report.errors.extend(batch.errors[:MAX_REPORTED_ERRORS - len(report.errors)])
        if report.error_count and not skip_bad:
            continue  # read on, so the rejection lists every malformed record
        writer.apply(batch)
        consumed += batch.consumed
        position = batch.position
        if on_progress:
            on_progress(consumed, position, False)
    if report.error_count and not skip_bad:
        raise ImportRejected(report.errors, report.error_count)
    if on_progress:
        on_progress(consumed, position, True)
    writer.finish()
    counts = writer.counts
    report.added, report.updated, report.removed, report.unchanged = (
        counts.added, counts.updated, counts.removed, counts.unchanged)
    version.added, version.updated, version.removed = counts.added, counts.updated, counts.removed
    version.skipped = report.error_count
    version.source_sha256 = source_sha256()
    return report


def list_sets(session: Session) -> list[SetSummary]:
    counts: dict[int, dict[str, int]] = {}
    for set_id, signal_type, count in session.execute(
        select(KnownMedia.set_id, KnownSignal.signal_type, func.count())
        .join(KnownSignal, KnownSignal.media_pk == KnownMedia.id)
        .group_by(KnownMedia.set_id, KnownSignal.signal_type)
    ):
        counts.setdefault(set_id, {})[signal_type] = count
    media = dict(
        session.execute(
            select(KnownMedia.set_id, func.count()).group_by(KnownMedia.set_id)
        ).all()
    )
    versions = dict(
        session.execute(
            select(SetVersion.set_id, func.count()).group_by(SetVersion.set_id)
        ).all()
    )
    return [
        SetSummary(s.name, s.agency, s.enabled, media.get(s.id, 0), counts.get(s.id, {}),
                   versions.get(s.id, 0))
        for s in session.scalars(select(HashSet).order_by(HashSet.name))
    ]


def list_versions(session: Session, name: str) -> list[VersionSummary]:
    hash_set = get_set(session, name)
    return [
        VersionSummary(v.number, v.format, v.source_file, v.source_sha256, v.added, v.updated,
                       v.removed, v.skipped, v.imported_at)
        for v in session.scalars(
            select(SetVersion).where(SetVersion.set_id == hash_set.id).order_by(SetVersion.number)
        )
    ]


def latest_version(session: Session, set_id: int) -> int:
    return session.scalar(
        select(func.max(SetVersion.number)).where(SetVersion.set_id == set_id)
    ) or 0


def _check_version(session: Session, hash_set: HashSet, number: int | None) -> None:
    if number is not None and not 0 <= number <= latest_version(session, hash_set.id):
        raise UnknownVersion(f"set {hash_set.name!r} has no version {number}")


def iter_set_records(
    session: Session, name: str, version: int | None = None
) -> Iterator[KnownRecord]:
    """The set's records now, or as they were after version ``version``."""
    hash_set = get_set(session, name)
    _check_version(session, hash_set, version)
    return iter_records_at(session, hash_set.id, version)


def export_set(
    session: Session, name: str, format_name: str, stream: TextIO, version: int | None = None
) -> None:
    fmt = get_format(format_name)
    fmt.write(iter_set_records(session, name, version), stream)


def diff_versions(session: Session, name: str, first: int, last: int) -> Iterator[Change]:
    """Net changes from version ``first`` to ``last`` (items added, updated, removed)."""
    hash_set = get_set(session, name)
    for number in (first, last):
        _check_version(session, hash_set, number)
    if first > last:
        raise UnknownVersion(f"version {first} comes after {last}")
    return iter_version_changes(session, hash_set.id, first + 1, last)
