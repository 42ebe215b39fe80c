"""Build a version of a set from media: ``cvis sets import-media MANIFEST.csv --name NAME``.

The manifest has ``media_id,file`` and optionally ``category,series,victim_identified``
(other columns are ignored); ``file`` is relative to the manifest. Every signal cvis knows
is computed from each file (digests, PDQ and the viewer's PDQ where it differs, every
registered picture signal); a video's frame hashes (one a second, as Meta's vpdq samples)
are stored as one vPDQ value of one media item, each frame looked up as a PDQ. The media are
read, hashed and dropped: nothing of them but hashes reaches the store.

A media item may hold several values of one signal (a video's frames, the viewer's PDQ
beside the reference's, keypoints); the version writer stores the first of each signal,
and the rest are written here beside it, replaced whole on every import.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cvis.digests import file_sha256
from cvis.hashing import HashRecord, hash_item
from cvis.hashsets.records import KnownRecord, RecordError, parse_bool, parse_category
from cvis.hashsets.service import ImportRejected, ImportReport, _import_batches
from cvis.hashsets.staging import BATCH_RECORDS, stage_records
from cvis.media.folders import file_item
from cvis.media.sniff import SNIFF_BYTES, sniff
from cvis.signals import SIGNAL_TYPES, normalize, stored_rows
from cvis.signals.vpdq import checked_frame, frames_value
from cvis.store.models import HashSet, KnownMedia, KnownSignal

REQUIRED = ("media_id", "file")
OPTIONAL = ("category", "series", "victim_identified")
FORMAT_NAME = "media"


class ManifestError(ValueError):
    """The manifest itself is unusable (missing columns, unreadable): nothing imported."""


@dataclass
class HashedMedia:
    """One manifest row, hashed: the record the writer stores and the further values."""

    record: KnownRecord
    more: list[tuple[str, str]] = field(default_factory=list)  # (signal, value) beyond the first


@dataclass
class MediaImportReport(ImportReport):
    pictures: int = 0
    videos: int = 0
    values: int = 0  # signal values stored, all signals together


def read_manifest(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each row; the header must name ``media_id`` and ``file``."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            missing = [c for c in REQUIRED if c not in columns]
            if missing:
                raise ManifestError(f"{path}: the manifest has no {', '.join(missing)} column "
                                    f"(columns: media_id,file[,category,series,victim_identified])")
            for row in reader:
                clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                if any(clean.values()):
                    yield reader.line_num, clean
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc}") from None


def _values(record: HashRecord) -> list[tuple[str, str]]:
    """Every (signal, value) of one hashed picture, the reported one of each signal first."""
    found = [(name, value) for name in ("md5", "sha1", "sha256")
             if (value := getattr(record, name))]
    if record.pdq and record.pdq != "0" * 64:
        found.append(("pdq", record.pdq))
    for variant in record.pdq_variants:
        if variant.kind in ("viewer", "frame"):
            if variant.quality >= 50 and variant.hash != "0" * 64:  # vPDQ drops the rest
                found.append(("pdq", variant.hash))
    found += [(name, value) for name, values in record.signals.items()
              for value in SIGNAL_TYPES[name].known_values(values)]
    unique = list(dict.fromkeys(found))
    return [(name, normalize(name, value)) for name, value in unique]


def _video_values(record: HashRecord) -> list[tuple[str, str]]:
    """A video's digests and its frames as one vPDQ value (every frame, as vpdq writes them;
    the index looks up those of quality 50 or more)."""
    found = [(name, value) for name in ("md5", "sha1", "sha256")
             if (value := getattr(record, name))]
    frames = [checked_frame(v.hash, v.quality, timestamp, v.frame)
              for v in record.pdq_variants if (timestamp := _own_frame_time(v.kind)) is not None]
    return [*found, ("vpdq", frames_value(frames))]


def _own_frame_time(kind: str) -> float | None:
    """The time of a video's own frame ("frame@12.0s"); None for the mirrored or trimmed
    hashes of it that a scan also looks up ("frame@12.0s/flipx") and for pictures."""
    if not kind.startswith("frame@") or "/" in kind:
        return None
    return float(kind.removeprefix("frame@").removesuffix("s"))


def hash_row(base: Path, line: int, row: dict[str, str]) -> HashedMedia | RecordError:
    """The record for one manifest row, or why it cannot be one."""
    media_id, name = row.get("media_id", ""), row.get("file", "")
    if not media_id or not name:
        return RecordError(line, "media_id and file are required")
    path = base / name
    if not path.is_file():
        return RecordError(line, f"no such file: {name}")
    try:
        category = parse_category(row.get("category") or None)
        identified = parse_bool(row.get("victim_identified") or None)
    except ValueError as exc:
        return RecordError(line, str(exc))
    with path.open("rb") as stream:
        content = sniff(stream.read(SNIFF_BYTES))
    if content.kind not in ("image", "video"):
        what = "unrecognised data" if content.format == "unknown" else content.format
        return RecordError(line, f"{name}: not a picture or video (content is {what})")
    hashed = hash_item(file_item(path))
    if hashed.error:
        return RecordError(line, f"{name}: {hashed.error}")
    video = any(v.kind.startswith("frame@") for v in hashed.pdq_variants) and not hashed.pdq
    values = _video_values(hashed) if video else _values(hashed)
    first: dict[str, str] = {}
    more = []
    for signal, value in values:
        if signal in first:
            more.append((signal, value))
        else:
            first[signal] = value
    extra = {"source": "media", "kind": "video" if video else "picture"}
    record = KnownRecord(media_id=media_id, signals=first, category=category,
                         series=row.get("series") or None, victim_identified=identified,
                         extra=extra)
    return HashedMedia(record, more)


def import_media(
    session: Session, manifest: Path, *, name: str, skip_bad: bool = False,
    on_progress: Callable[[int, int, bool], None] | None = None,
) -> MediaImportReport:
    """Hash every file the manifest names and import the result as a new version of ``name``
    (all or nothing unless ``skip_bad``), in the caller's transaction."""
    hashed: list[HashedMedia] = []
    problems: list[RecordError] = []
    for line, row in read_manifest(manifest):
        result = hash_row(manifest.parent, line, row)
        if isinstance(result, RecordError):
            problems.append(result)
        else:
            hashed.append(result)
    if problems and not skip_bad:
        raise ImportRejected(problems, len(problems))
    items: list[KnownRecord | RecordError] = [*problems, *(h.record for h in hashed)]
    base = _import_batches(
        session, stage_records(items, BATCH_RECORDS), name=name, format_name=FORMAT_NAME,
        skip_bad=True, source_file=str(manifest), source_sha256=lambda: file_sha256(manifest),
        on_progress=on_progress,
    )
    report = MediaImportReport(**vars(base))
    _store_more_values(session, report, hashed)
    kinds = [h.record.extra["kind"] for h in hashed]
    report.pictures, report.videos = kinds.count("picture"), kinds.count("video")
    report.values = sum(len(h.record.signals) + len(h.more) for h in hashed)
    return report


def _store_more_values(session: Session, report: ImportReport, hashed: list[HashedMedia]) -> None:
    """Replace each item's further values (beyond the first of each signal) with these."""
    set_id = session.scalar(select(HashSet.id).where(HashSet.name == report.set_name))
    if set_id is None:
        return
    pks = dict(session.execute(
        select(KnownMedia.media_id, KnownMedia.id).where(KnownMedia.set_id == set_id)
    ).all())
    for item in hashed:
        pk = pks.get(item.record.media_id)
        if pk is None:
            continue
        kept, seen, stale = set(stored_rows(item.record.signals)), set(), []
        for row in session.execute(
            select(KnownSignal.id, KnownSignal.signal_type, KnownSignal.value)
            .where(KnownSignal.media_pk == pk).order_by(KnownSignal.id)
        ):
            key = (row.signal_type, row.value)
            if key not in kept or key in seen:  # an earlier import's further values
                stale.append(row.id)
            seen.add(key)
        if stale:
            session.execute(delete(KnownSignal).where(KnownSignal.id.in_(stale)))
        session.add_all(KnownSignal(media_pk=pk, signal_type=s, value=v) for s, v in item.more)
    session.flush()
