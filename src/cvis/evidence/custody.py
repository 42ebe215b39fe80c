"""Chain of custody: what was scanned, its hash when first seen, and whether it still matches.

A court asks whether the evidence the examiner hashed is the evidence that was
seized. Each source is recorded once per case with its size and the sha256 of
the whole container (an E01 also with whether its own stored MD5 verifies);
``verify_evidence`` re-hashes it later and says whether it changed.

A folder has no container hash: its manifest (every file's relative path, size and
sha256, in path order) is recorded instead, with the sha256 of the manifest, and
verification recomputes it and names every file added, removed or changed. A scan
records its folders' manifests when it completes, from the digests it computed itself
(`record_folder_manifest`), so each file is read once; only what it did not hash whole
is read for the manifest.

Objects in a store (``s3://bucket/prefix/``, or one object) are recorded the same way, read
where they live: a prefix by its manifest of keys, an object also by its own size and sha256,
each entry with what the store says of it (`cvis.evidence.objects`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.cases.models import EvidenceManifest
from cvis.digests import file_sha256
from cvis.evidence.objects import UNREADABLE, ObjectEntry, object_manifest, store_changes
from cvis.media.folders import PEEK_BYTES, EvidencePath, looks_like_disk
from cvis.media.objects import ObjectStoreError, is_uri, open_object, safe_uri
from cvis.media.sniff import sniff
from cvis.signals.crypto import CHUNK_SIZE
from cvis.store.models import Evidence, utcnow


@dataclass(frozen=True)
class Verification:
    evidence_id: int
    source_path: str
    recorded_sha256: str | None
    current_sha256: str | None
    unchanged: bool
    reason: str
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the store says moved (not trusted)


# Kinds recorded by a manifest (the evidence's own sha256 is the manifest's); an "object" in a
# store has both its own sha256 and a one-entry manifest carrying what the store says of it
MANIFEST_KINDS = ("folder", "prefix")
OBJECT_KINDS = ("prefix", "object")
ManifestEntry = tuple[str, int, str]  # relative path, size, sha256 (a link: "link:" + target)
# What a scan read of a file, whole: its path as the walk names it -> (size, sha256)
KnownDigests = Mapping[str, tuple[int, str]]


def folder_manifest(folder: Path, known: KnownDigests | None = None) -> list[ManifestEntry]:
    """Every file under the folder, in path order; links are recorded, never followed.

    ``known``: digests already computed (by the scan), by ``str(folder / relative)``; a file
    among them is not read again.
    """
    known = known or {}
    entries: list[ManifestEntry] = []
    files_to_hash: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in [*files, *(d for d in dirs if Path(root, d).is_symlink())]:
            path = Path(root, name)
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                entries.append((relative, 0, "link:" + os.readlink(path)))
            elif path.is_file():
                if (found := known.get(str(path))) is not None:
                    entries.append((relative, *found))
                else:
                    files_to_hash.append((relative, path))
    # hashlib releases the GIL: every core digests (a scan's workers are done by now)
    with ThreadPoolExecutor(_cores()) as pool:
        digests = pool.map(lambda p: (p.stat().st_size, file_sha256(p)),
                           [path for _, path in files_to_hash])
        for (relative, _), (size, digest) in zip(files_to_hash, digests, strict=True):
            entries.append((relative, size, digest))
    return sorted(entries)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


def manifest_sha256(entries: list[ManifestEntry]) -> str:
    """The digest of the manifest's canonical text: one JSON array per line."""
    text = "".join(json.dumps(list(e), ensure_ascii=False) + "\n" for e in entries)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compare_manifests(recorded: list[ManifestEntry], current: list[ManifestEntry]) -> list[str]:
    """Each difference in words: added, removed, changed (size and sha256 before and now)."""
    before = {path: (size, digest) for path, size, digest in recorded}
    now = {path: (size, digest) for path, size, digest in current}
    changes = [f"added: {p} ({now[p][0]} bytes, sha256 {now[p][1]})"
               for p in sorted(now.keys() - before.keys())]
    changes += [f"removed: {p} (was {before[p][0]} bytes, sha256 {before[p][1]})"
                for p in sorted(before.keys() - now.keys())]
    changes += [f"changed: {p} (sha256 {before[p][1]}, now {now[p][1]})"
                for p in sorted(before.keys() & now.keys()) if before[p] != now[p]]
    return changes


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


def e01_stored_hash(path: EvidencePath) -> tuple[str | None, bool | None]:
    """The MD5 the E01 stores for its media, and whether the media still hashes to it; an E01
    in a store is read where it is, with the segments beside it."""
    from cvis.media.disks import open_ewf, open_ewf_object

    with ExitStack() as stack:
        source = str(path)
        handle = open_ewf_object(source, stack) if is_uri(source) else open_ewf(source, stack)
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
    session: Session, case_id: int, path: EvidencePath, acquired_by: str = "",
    acquired_at: datetime | None = None,
) -> Evidence | None:
    """The case's record of this source, created (and hashed) the first time it is scanned;
    None for a URI where nothing is (the scan reports it not found). A folder's manifest is
    recorded by `record_folder_manifest` as its scan completes, from the digests it computed.
    """
    if is_uri(str(path)):
        return _register_objects(session, case_id, str(path), acquired_by, acquired_at)
    path = Path(path)
    source = str(path.resolve())
    found = _recorded(session, case_id, source)
    if found is not None:
        return found
    kind = evidence_kind(path)
    evidence = Evidence(case_id=case_id, source_path=source, kind=kind,
                        acquired_by=acquired_by, acquired_at=acquired_at or utcnow())
    if kind != "folder":
        evidence.size, evidence.sha256 = path.stat().st_size, file_sha256(path)
    if kind == "e01":
        evidence.stored_md5, evidence.stored_hash_ok = _e01_check(path)
    session.add(evidence)
    session.flush()
    return evidence


def record_folder_manifest(
    session: Session, case_id: int, folder: Path, known: KnownDigests
) -> None:
    """The manifest of a registered folder, from the digests its scan
    computed (``known``, see `folder_manifest`); a file it did not read whole is read here.
    Recorded once: a manifest already recorded (by an earlier scan) stands."""
    evidence = _recorded(session, case_id, str(folder.resolve()))
    if evidence is None or evidence.kind != "folder":
        return
    if session.get(EvidenceManifest, evidence.id) is None:
        _add_manifest(session, evidence.id, folder_manifest(folder, known), None)


def _recorded(session: Session, case_id: int, source: str) -> Evidence | None:
    return session.scalar(
        select(Evidence).where(Evidence.case_id == case_id, Evidence.source_path == source)
    )


def _add_manifest(session: Session, evidence_id: int, entries: list[ManifestEntry],
                  rows: list[list[Any]] | None) -> None:
    """The manifest's digest covers ``entries``; ``rows`` (default: the entries) is what is
    kept, an object's entry with the store's facts beside it."""
    session.add(EvidenceManifest(
        evidence_id=evidence_id, sha256=manifest_sha256(entries), file_count=len(entries),
        total_size=sum(size for _, size, _ in entries),
        files=rows if rows is not None else [list(e) for e in entries]))
    session.flush()


def _register_objects(session: Session, case_id: int, uri: str, acquired_by: str,
                      acquired_at: datetime | None) -> Evidence | None:
    """A prefix (or one object) in a store: every object read where it is and entered in
    the manifest; ObjectStoreError when the store cannot be listed."""
    source = safe_uri(uri)
    found = _recorded(session, case_id, source)
    if found is not None:
        return found
    manifest = object_manifest(uri)
    if manifest is None:
        return None
    evidence = Evidence(case_id=case_id, source_path=source, kind=manifest.kind,
                        acquired_by=acquired_by, acquired_at=acquired_at or utcnow())
    if manifest.kind == "object":
        evidence.size, evidence.sha256 = manifest.entries[0].size, manifest.entries[0].sha256
        if _is_e01_object(uri):
            evidence.stored_md5, evidence.stored_hash_ok = _e01_check(uri)
    session.add(evidence)
    session.flush()
    _add_manifest(session, evidence.id, _content(manifest.entries),
                  [e.as_row() for e in manifest.entries])
    return evidence


def _is_e01_object(uri: str) -> bool:
    try:
        with open_object(uri) as stream:
            return sniff(stream.read(PEEK_BYTES)).format == "e01"
    except OSError:
        return False  # the manifest already says the object could not be read


def _e01_check(source: EvidencePath) -> tuple[str | None, bool | None]:
    """`e01_stored_hash`, where a set that cannot be opened (a segment missing) does not
    verify (False) and the scan goes on to flag it."""
    try:
        return e01_stored_hash(source)
    except OSError:
        return None, False


def _content(entries: list[ObjectEntry]) -> list[ManifestEntry]:
    return [(e.key, e.size, e.sha256) for e in entries]


def verify_evidence(session: Session, evidence_id: int) -> Verification:
    """Re-hash the source and compare with the sha256 recorded when it was first scanned."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise LookupError(f"no evidence {evidence_id}")
    if evidence.kind in OBJECT_KINDS:
        return _verify_objects(session, evidence)
    path = Path(evidence.source_path)
    if evidence.kind == "folder":
        return _verify_folder(session, evidence, path)
    current, reason = None, ""
    if evidence.sha256 is None:
        reason = "no hash was recorded for this source"
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


def _verify_folder(session: Session, evidence: Evidence, path: Path) -> Verification:
    """Recompute the folder's manifest and compare it, file by file, with the recorded one."""
    manifest = session.get(EvidenceManifest, evidence.id)
    current: str | None = None
    changes: list[str] = []
    if manifest is None:
        reason = ("no manifest was recorded for this folder (its first scan has not completed: "
                  "resume it; or it was scanned before cvis kept them)")
    elif not path.is_dir():
        reason = "the folder is gone or not a folder"
    else:
        entries = folder_manifest(path)
        current = manifest_sha256(entries)
        recorded = [(str(p), int(n), str(d)) for p, n, d in manifest.files]
        changes = compare_manifests(recorded, entries)
        reason = ("unchanged" if current == manifest.sha256 and not changes else
                  f"CHANGED since it was recorded: {len(changes)} difference(s)")
    recorded_sha = manifest.sha256 if manifest else None
    unchanged = current is not None and current == recorded_sha and not changes
    evidence.verified_at, evidence.verified_ok = utcnow(), unchanged
    return Verification(evidence.id, evidence.source_path, recorded_sha, current, unchanged,
                        reason, changes)


def _verify_objects(session: Session, evidence: Evidence) -> Verification:
    """List and read the prefix (or object) again and compare it, object by object, with the
    recorded manifest; what the store says (versions, ETags) is reported, never decisive."""
    manifest = session.get(EvidenceManifest, evidence.id)
    if manifest is None:
        return _objects_result(evidence, None, None, "no manifest was recorded for this source")
    recorded = [ObjectEntry.from_row(row) for row in manifest.files]
    try:
        now = object_manifest(evidence.source_path)
    except ObjectStoreError as exc:
        return _objects_result(evidence, manifest.sha256, None,
                               f"the store could not be read: {exc}")
    entries = now.entries if now is not None else []
    changes = compare_manifests(_content(recorded), _content(entries))
    current: str | None = manifest_sha256(_content(entries))
    recorded_sha: str | None = manifest.sha256
    if evidence.kind == "object":  # the object's own digest, as for a file
        recorded_sha = evidence.sha256
        current = next((e.sha256 for e in entries if recorded and e.key == recorded[0].key),
                       None)
    reason = ("unchanged" if not changes and current == recorded_sha else
              f"CHANGED since it was recorded: {len(changes)} difference(s)")
    unread = [e for e in entries if e.unreadable]
    if unread:  # never "unchanged" for bytes not read, even if they were not read before
        reason, current = f"NOT VERIFIED: {len(unread)} object(s) could not be read", None
        before = {e.key: (e.size, e.sha256) for e in recorded}
        changes += [f"still unreadable: {e.key} ({e.sha256.removeprefix(UNREADABLE)})"
                    for e in unread if before.get(e.key) == (e.size, e.sha256)]
    return _objects_result(evidence, recorded_sha, current, reason, changes,
                           store_changes(recorded, entries))


def _objects_result(evidence: Evidence, recorded: str | None, current: str | None,
                    reason: str, changes: list[str] | None = None,
                    notes: list[str] | None = None) -> Verification:
    unchanged = current is not None and current == recorded and not changes
    evidence.verified_at, evidence.verified_ok = utcnow(), unchanged
    return Verification(evidence.id, evidence.source_path, recorded, current, unchanged,
                        reason, changes or [], notes or [])


def manifest_of(session: Session, evidence_id: int) -> EvidenceManifest | None:
    return session.get(EvidenceManifest, evidence_id)
