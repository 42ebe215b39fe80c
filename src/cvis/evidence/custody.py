"""Chain of custody: what was scanned, its hash when first seen, and whether it still matches.

A court asks whether the evidence the examiner hashed is the evidence that was
seized. Each source is recorded once per case with its size and the sha256 of
the whole container (an E01 also with whether its own stored MD5 verifies);
``verify_evidence`` re-hashes it later and says whether it changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.media.folders import PEEK_BYTES, looks_like_disk
from cvis.media.sniff import sniff
from cvis.signals.crypto import CHUNK_SIZE
from cvis.store.models import Evidence, utcnow

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Verification:
    evidence_id: int
    source_path: str
    recorded_sha256: str | None
    current_sha256: str | None
    unchanged: bool
    reason: str


def evidence_kind(path: Path) -> str:
    """folder, file, zip, tar, 7z, gzip..., e01 or raw, from content."""
    if path.is_dir():
        return "folder"
    with path.open("rb") as f:
        head = f.read(PEEK_BYTES)
    found = sniff(head)
    if found.kind in ("archive", "disk"):
        return found.format
    return "raw" if found.format == "unknown" and looks_like_disk(head) else "file"


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def e01_stored_hash(path: Path) -> tuple[str | None, bool | None]:
    """The MD5 the E01 stores for its media, and whether the media still hashes to it."""
    from cvis.media.disks import open_ewf

    with ExitStack() as stack:
        handle = open_ewf(str(path), stack)
        stored = handle.get_hash_value("MD5")
        if not stored:
            return None, None
        digest, left = hashlib.md5(), handle.get_media_size()
        handle.seek(0)
        while left > 0:
            chunk = handle.read(min(CHUNK_SIZE, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        return stored.lower(), digest.hexdigest() == stored.lower()


def register_evidence(
    session: Session, case_id: int, path: Path, acquired_by: str = "",
    acquired_at: datetime | None = None,
) -> Evidence:
    """The case's record of this source, created (and hashed) the first time it is scanned."""
    source = str(path.resolve())
    found = session.scalar(
        select(Evidence).where(Evidence.case_id == case_id, Evidence.source_path == source)
    )
    if found is not None:
        return found
    kind = evidence_kind(path)
    evidence = Evidence(case_id=case_id, source_path=source, kind=kind,
                        acquired_by=acquired_by, acquired_at=acquired_at or utcnow())
    if kind != "folder":
        evidence.size, evidence.sha256 = path.stat().st_size, file_sha256(path)
    if kind == "e01":
        evidence.stored_md5, evidence.stored_hash_ok = e01_stored_hash(path)
    session.add(evidence)
    session.flush()
    return evidence


def verify_evidence(session: Session, evidence_id: int) -> Verification:
    """Re-hash the source and compare with the sha256 recorded when it was first scanned."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise LookupError(f"no evidence {evidence_id}")
    path = Path(evidence.source_path)
    current, reason = None, ""
    if evidence.sha256 is None:
        reason = "a folder has no container hash; its items' hashes are in the scans"
    elif not path.is_file():
        reason = "the source is gone or not a file"
    else:
        current = file_sha256(path)
        reason = "unchanged" if current == evidence.sha256 else "CHANGED since it was recorded"
    unchanged = current is not None and current == evidence.sha256
    evidence.verified_at, evidence.verified_ok = utcnow(), unchanged
    return Verification(evidence.id, evidence.source_path, evidence.sha256, current,
                        unchanged, reason)


def case_evidence(session: Session, case_id: int) -> list[Evidence]:
    return list(session.scalars(select(Evidence).where(Evidence.case_id == case_id)
                                .order_by(Evidence.id)))
