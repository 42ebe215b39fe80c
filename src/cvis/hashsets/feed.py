"""Sync between instances: a set's versions published as a feed, pulled with a checkpoint.

A feed is a directory (or the same layout over HTTP): ``feed.json`` lists the versions,
and each version is a JSON-lines file of what it changed, tombstones included. Published
version files never change, so a puller verifies each against the sha256 in ``feed.json``.
Each pulled version is applied and checkpointed in one transaction: a crash loses at most
the version in flight, and the next pull resumes after the last one applied.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.digests import file_sha256
from cvis.hashsets.formats.jsonl import JsonLinesFormat
from cvis.hashsets.history import iter_version_changes
from cvis.hashsets.records import KnownRecord
from cvis.hashsets.service import configure_set, get_set, import_stream, list_versions
from cvis.store.db import Store
from cvis.store.models import SyncCheckpoint, utcnow

FEED_KIND = "cvis-hashset-feed"
FEED_VERSION = 1
FEED_FILE = "feed.json"


class FeedError(ValueError):
    """The feed is unreadable, of another kind, or a version file fails its checksum."""


@dataclass
class PullReport:
    set_name: str
    source: str
    applied: list[int] = field(default_factory=list)
    up_to: int = 0


def version_records(session: Session, name: str, number: int) -> Iterator[KnownRecord]:
    """What version ``number`` did: each touched item as it then became, or its tombstone."""
    hash_set = get_set(session, name)
    for change in iter_version_changes(session, hash_set.id, number, number):
        yield change.after or KnownRecord(media_id=change.media_id, deleted=True)


def feed_document(session: Session, name: str, files: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The feed's index (what an HTTP API serves as JSON); ``files`` gives each version's
    path and sha256."""
    hash_set = get_set(session, name)
    return {
        "feed": FEED_KIND,
        "feed_version": FEED_VERSION,
        "set": hash_set.name,
        "agency": hash_set.agency,
        "source": hash_set.source,
        "description": hash_set.description,
        "thresholds": hash_set.thresholds,
        "versions": [
            {"number": v.number, "added": v.added, "updated": v.updated, "removed": v.removed,
             "imported_at": v.imported_at.isoformat(), **files[v.number]}
            for v in list_versions(session, name) if v.number in files
        ],
    }


def publish_feed(session: Session, name: str, directory: Path) -> dict[str, Any]:
    """Write the set's versions not yet in ``directory`` and rewrite its feed.json."""
    folder = directory / "versions"
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[int, dict[str, Any]] = {}
    for version in list_versions(session, name):
        path = folder / f"{version.number:06d}.jsonl"
        if not path.exists():
            _write_atomically(path, partial(JsonLinesFormat().write,
                                            version_records(session, name, version.number)))
        files[version.number] = {"path": f"versions/{path.name}", "sha256": file_sha256(path)}
    document = feed_document(session, name, files)
    _write_atomically(directory / FEED_FILE, lambda s: json.dump(document, s, indent=1))
    return document


def pull_feed(
    store: Store, source: str, *, name: str | None = None,
    on_version: Callable[[int], None] | None = None,
) -> PullReport:
    """Apply the feed's versions after the checkpoint, each in its own transaction."""
    feed_url = _feed_url(source)
    document = _read_document(feed_url)
    local = name or str(document["set"])
    report = PullReport(local, feed_url)
    with store.session() as session:
        report.up_to = _checkpoint(session, local, feed_url).last_version
    for entry in sorted(document["versions"], key=lambda v: int(v["number"])):
        number = int(entry["number"])
        if number <= report.up_to:
            continue
        with _fetch(urllib.parse.urljoin(feed_url, entry["path"]), entry["sha256"]) as stream:
            with store.session() as session:
                configure_set(session, local, **{k: document.get(k) for k in
                                                 ("agency", "source", "description")})
                import_stream(session, stream, name=local, format_name="jsonl",
                              source_file=f"{feed_url}#{number}", source_sha256=entry["sha256"])
                checkpoint = _checkpoint(session, local, feed_url)
                checkpoint.last_version, checkpoint.updated_at = number, utcnow()
        report.applied.append(number)
        report.up_to = number
        if on_version:
            on_version(number)
    return report


def _checkpoint(session: Session, name: str, feed_url: str) -> SyncCheckpoint:
    hash_set = configure_set(session, name)
    row = session.scalar(select(SyncCheckpoint).where(
        SyncCheckpoint.set_id == hash_set.id, SyncCheckpoint.source == feed_url))
    if row is None:
        row = SyncCheckpoint(set_id=hash_set.id, source=feed_url, last_version=0)
        session.add(row)
        session.flush()
    return row


def _feed_url(source: str) -> str:
    if "://" in source:
        return source if source.endswith(".json") else source.rstrip("/") + "/" + FEED_FILE
    path = Path(source).resolve()
    return (path / FEED_FILE if path.is_dir() else path).as_uri()


def _read_document(feed_url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(feed_url, timeout=60) as response:  # noqa: S310 - file/http
            document = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise FeedError(f"cannot read feed {feed_url}: {exc}") from None
    if not isinstance(document, dict) or document.get("feed") != FEED_KIND:
        raise FeedError(f"{feed_url} is not a cvis hash-set feed")
    if int(document.get("feed_version", 0)) > FEED_VERSION:
        raise FeedError(f"{feed_url} is a newer feed version than this cvis reads")
    return document


class _fetch:
    """A version file downloaded to a temporary file and checked before anything is applied."""

    def __init__(self, url: str, sha256: str) -> None:
        self.url, self.sha256 = url, sha256
        self._file: IO[bytes] | None = None

    def __enter__(self) -> io.TextIOWrapper:
        self._file = tempfile.TemporaryFile()
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(self.url, timeout=60) as response:  # noqa: S310
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    self._file.write(chunk)
        except OSError as exc:
            raise FeedError(f"cannot fetch {self.url}: {exc}") from None
        if digest.hexdigest() != self.sha256:
            raise FeedError(f"{self.url} does not match its sha256 in the feed")
        self._file.seek(0)
        return io.TextIOWrapper(self._file, encoding="utf-8", newline="")

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()


def _write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", encoding="utf-8", newline="") as stream:
        write(stream)
    tmp.replace(path)
