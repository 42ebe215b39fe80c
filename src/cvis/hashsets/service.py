"""Hash-set services: import a list as a new version, list sets, export a set."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TextIO

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from cvis.hashsets.formats import detect_format, get_format
from cvis.hashsets.records import KnownRecord, RecordError
from cvis.store.models import HashSet, KnownMedia, KnownSignal, SetVersion

BATCH = 2000
MAX_REPORTED_ERRORS = 1000
MEDIA_FIELDS = (
    "category",
    "series",
    "victim_identified",
    "offender_identified",
    "distributed",
    "tags",
    "extra",
)


class ImportRejected(ValueError):
    """The list had malformed records and --skip-bad was not given: nothing was imported."""

    def __init__(self, errors: list[RecordError], total: int) -> None:
        self.errors, self.total = errors, total
        shown = "\n".join(f"  {e}" for e in errors[:20])
        more = f"\n  ... and {total - 20} more" if total > 20 else ""
        super().__init__(f"{total} malformed record(s); nothing imported:\n{shown}{more}")


@dataclass
class ImportReport:
    set_name: str
    version: int
    format: str
    added: int = 0
    updated: int = 0
    removed: int = 0
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


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def get_or_create_set(session: Session, name: str) -> HashSet:
    hash_set = session.scalar(select(HashSet).where(HashSet.name == name))
    if hash_set is None:
        hash_set = HashSet(name=name, thresholds={})
        session.add(hash_set)
        session.flush()
    return hash_set


def _batches(records: Iterator[KnownRecord], size: int) -> Iterator[list[KnownRecord]]:
    while batch := list(islice(records, size)):
        yield batch


class _VersionWriter:
    """Applies records to one set inside the caller's transaction, batch by batch."""

    def __init__(self, session: Session, hash_set: HashSet, report: ImportReport) -> None:
        self.session, self.hash_set, self.report = session, hash_set, report

    def apply(self, batch: list[KnownRecord]) -> None:
        latest = {r.media_id: r for r in batch}  # the last record for a media id wins
        existing = dict(
            self.session.execute(
                select(KnownMedia.media_id, KnownMedia.id).where(
                    KnownMedia.set_id == self.hash_set.id, KnownMedia.media_id.in_(list(latest))
                )
            ).all()
        )
        gone = [existing[m] for m, r in latest.items() if r.deleted and m in existing]
        changed = {existing[m]: r for m, r in latest.items() if not r.deleted and m in existing}
        new = [r for m, r in latest.items() if not r.deleted and m not in existing]
        self._remove(gone)
        self._update(changed)
        self._add(new)

    def _remove(self, media_pks: list[int]) -> None:
        if media_pks:
            self.session.execute(delete(KnownSignal).where(KnownSignal.media_pk.in_(media_pks)))
            self.session.execute(delete(KnownMedia).where(KnownMedia.id.in_(media_pks)))
            self.report.removed += len(media_pks)

    def _update(self, changed: dict[int, KnownRecord]) -> None:
        if not changed:
            return
        self.session.execute(
            update(KnownMedia),
            [{"id": pk, **{f: getattr(r, f) for f in MEDIA_FIELDS}} for pk, r in changed.items()],
        )
        self.session.execute(delete(KnownSignal).where(KnownSignal.media_pk.in_(list(changed))))
        self._insert_signals(changed)
        self.report.updated += len(changed)

    def _add(self, records: list[KnownRecord]) -> None:
        if not records:
            return
        rows = [
            {"set_id": self.hash_set.id, "media_id": r.media_id}
            | {f: getattr(r, f) for f in MEDIA_FIELDS}
            for r in records
        ]
        self.session.execute(insert(KnownMedia), rows)
        pks = dict(
            self.session.execute(
                select(KnownMedia.media_id, KnownMedia.id).where(
                    KnownMedia.set_id == self.hash_set.id,
                    KnownMedia.media_id.in_([r.media_id for r in records]),
                )
            ).all()
        )
        self._insert_signals({pks[r.media_id]: r for r in records})
        self.report.added += len(records)

    def _insert_signals(self, by_pk: dict[int, KnownRecord]) -> None:
        rows = [
            {"media_pk": pk, "signal_type": name, "value": value}
            for pk, record in by_pk.items()
            for name, value in record.signals.items()
        ]
        if rows:
            self.session.execute(insert(KnownSignal), rows)


def _good_records(
    items: Iterator[KnownRecord | RecordError], report: ImportReport
) -> Iterator[KnownRecord]:
    for item in items:
        if isinstance(item, RecordError):
            report.error_count += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append(item)
        else:
            yield item


def import_stream(
    session: Session,
    stream: TextIO,
    *,
    name: str,
    format_name: str = "auto",
    skip_bad: bool = False,
    source_file: str = "",
    source_sha256: str = "",
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a hash list as a new version of set ``name``: all or nothing unless skip_bad."""
    if format_name == "auto":
        head = stream.read(8192)
        stream.seek(0)
        fmt = detect_format(head)
    else:
        fmt = get_format(format_name)
    hash_set = get_or_create_set(session, name)
    number = (
        session.scalar(select(func.max(SetVersion.number)).where(SetVersion.set_id == hash_set.id))
        or 0
    ) + 1
    report = ImportReport(name, number, fmt.name)
    writer = _VersionWriter(session, hash_set, report)
    for batch in _batches(_good_records(fmt.read(stream), report), BATCH):
        writer.apply(batch)
        if on_progress:
            on_progress(len(batch))
    if report.error_count and not skip_bad:
        raise ImportRejected(report.errors, report.error_count)
    session.add(
        SetVersion(
            set_id=hash_set.id,
            number=number,
            format=fmt.name,
            source_file=source_file,
            source_sha256=source_sha256,
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            skipped=report.error_count,
        )
    )
    return report


def import_file(
    session: Session, path: Path, *, name: str, format_name: str = "auto", skip_bad: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    with path.open("r", encoding="utf-8-sig", newline="") as stream:
        return import_stream(
            session, stream, name=name, format_name=format_name, skip_bad=skip_bad,
            source_file=str(path), source_sha256=_file_sha256(path), on_progress=on_progress,
        )


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


class UnknownSet(LookupError):
    pass


def iter_set_records(session: Session, name: str) -> Iterator[KnownRecord]:
    hash_set = session.scalar(select(HashSet).where(HashSet.name == name))
    if hash_set is None:
        raise UnknownSet(f"no hash set named {name!r}")
    media_rows = session.scalars(
        select(KnownMedia).where(KnownMedia.set_id == hash_set.id).order_by(KnownMedia.media_id)
    )
    for media in media_rows:
        yield KnownRecord(
            media_id=media.media_id,
            signals={s.signal_type: s.value for s in media.signals},
            **{f: getattr(media, f) for f in MEDIA_FIELDS},
        )


def export_set(session: Session, name: str, format_name: str, stream: TextIO) -> None:
    get_format(format_name).write(iter_set_records(session, name), stream)
