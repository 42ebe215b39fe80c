"""Custody of evidence in an object store: a prefix's manifest, read where the objects live.

A prefix has no container hash, like a folder: its manifest is every object's key (relative
to the prefix), size and sha256, in key order, with the same canonical digest as a folder's
(a prefix uploaded from a folder has the folder's manifest sha256). Beside each entry goes
what the store says of the object (ETag, version id, last modified): recorded for the court
and shown when it moves, but never taken for the digest (an ETag is not a content hash for
multipart or encrypted uploads, and the store's own word is what custody must not rely on).

Objects are read through pyarrow.fs in memory, chunk by chunk, several at a time (each read
is a round trip); nothing is copied to disk or the store. Credentials come from the reading
process's environment, as for a scan (`cvis.media.objects`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cvis.media.objects import ObjectStoreError, list_objects, object_digest, safe_uri

OBJECTS_IN_FLIGHT = 16  # (each read up to DIGEST_READ, 4 MiB: at most 64 MiB held)
UNREADABLE = "unreadable: "  # an entry's digest when the object could not be read


@dataclass(frozen=True)
class ObjectEntry:
    """One object: key relative to the prefix, size and sha256 as read, the store's facts."""

    key: str
    size: int
    sha256: str
    store: dict[str, str]

    def as_row(self) -> list[Any]:
        return [self.key, self.size, self.sha256, self.store]

    @property
    def unreadable(self) -> bool:
        return self.sha256.startswith(UNREADABLE)

    @classmethod
    def from_row(cls, row: list[Any]) -> ObjectEntry:
        return cls(str(row[0]), int(row[1]), str(row[2]), dict(row[3] if len(row) > 3 else {}))


@dataclass(frozen=True)
class ObjectManifest:
    """What is at a URI: one object (``kind`` "object") or every object under a prefix."""

    kind: str
    entries: list[ObjectEntry]


def object_manifest(uri: str) -> ObjectManifest | None:
    """The manifest of what is at ``uri`` now; None when nothing is there. ObjectStoreError
    when the store cannot be listed. An object that cannot be read is entered with
    ``unreadable: why`` for its digest (and size 0), so custody says so instead of failing."""
    items = list(list_objects(uri))
    if len(items) == 1 and items[0].error:
        if items[0].error == "not found":
            return None
        raise ObjectStoreError(items[0].error)
    uri = safe_uri(uri).rstrip("/")
    single = len(items) == 1 and items[0].name == uri
    base = uri.rpartition("/")[0] + "/" if single else uri + "/"
    with ThreadPoolExecutor(OBJECTS_IN_FLIGHT) as pool:
        read = list(pool.map(_read, [item.name for item in items]))
    entries = [ObjectEntry(item.name.removeprefix(base), size, digest, facts)
               for item, (size, digest, facts) in zip(items, read, strict=True)]
    return ObjectManifest("object" if single else "prefix", entries)


def _read(uri: str) -> tuple[int, str, dict[str, str]]:
    try:
        return object_digest(uri)
    except (OSError, ValueError) as exc:
        return 0, f"{UNREADABLE}{exc}"[:500], {}


def store_changes(recorded: list[ObjectEntry], current: list[ObjectEntry]) -> list[str]:
    """Each object still there whose store facts moved (a new version, rewritten in place),
    in words; the recorded version id is how a versioned bucket gives back the bytes seized."""
    before = {e.key: e for e in recorded}
    notes = []
    for entry in current:
        old = before.get(entry.key)
        if old is None:
            continue
        moved = [f"{name} {old.store.get(name)}, now {entry.store.get(name)}"
                 for name in sorted(old.store.keys() | entry.store.keys())
                 if old.store.get(name) != entry.store.get(name)]
        same = "same bytes; " if (old.size, old.sha256) == (entry.size, entry.sha256) else ""
        if moved:
            notes.append(f"store: {entry.key} ({same}{'; '.join(moved)})")
    return notes
