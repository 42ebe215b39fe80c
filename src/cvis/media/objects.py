"""Evidence in an object store (``s3://bucket/prefix/``), listed and read where it lives.

pyarrow.fs does the listing and the reading: it is already a cvis dependency (and
Spark's), its files are seekable (archives inside the store open like local ones) and
ranged reads fetch only what a reader asks for. Nothing is written anywhere: an object
is read into the hashing process's memory, as a local file is, and dropped.

Credentials and the endpoint come from the standard chain of the process that reads
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE`` and
``~/.aws/credentials``, an instance role; ``AWS_ENDPOINT_URL`` for an S3-compatible
store): on Spark, each executor's own environment. cvis never sees, logs or stores
them; a URI that carries credentials in it is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any, BinaryIO

from cvis.media.items import MediaItem
from cvis.media.ranged import RangedFile

SCHEMES = ("s3", "gs")  # pyarrow.fs's object stores; s3 covers S3-compatible servers
# What decides which store a URI reaches (never a secret), part of the cache key
_ENDPOINT_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_REGION",
                 "AWS_DEFAULT_REGION")
_filesystems: dict[tuple[str, ...], Any] = {}
# What the store says of an object (pyarrow's metadata names, S3 and GCS), kept beside the digest
_STORE_FACTS = {"etag": "etag", "versionid": "version_id", "generation": "version_id",
                "last-modified": "last_modified", "updated": "last_modified"}
DIGEST_READ = 4 << 20  # each read of an object is a ranged GET: fewer, larger ones
DIGEST_TRIES = 3
# Containers (disk images, archives) are read in ranges, the last few kept: TSK and libewf
# ask for a few bytes here and there, and each ask would otherwise be a round trip. A read
# that follows the last fetches twice as much as it did, up to READ_MOST (a file read
# through); one elsewhere fetches READ_LEAST (an E01 opens by a few reads per segment)
READ_LEAST = 64 << 10
READ_MOST = 1 << 20
CACHE_BYTES = 4 << 20  # at most held per container, whatever its size and segments


class ObjectStoreError(ValueError):
    """The URI cannot be used: no bucket, credentials in it, or a store that is unreachable."""


def is_uri(text: str) -> bool:
    """Whether ``text`` names an object-store location rather than a local path."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


def _parts(uri: str) -> tuple[str, str, str]:
    """Scheme, bucket, key, taken literally: a key may hold ``?``, ``#`` or ``%``."""
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    return scheme.lower(), bucket, key


def check_uri(uri: str) -> None:
    """ObjectStoreError (saying why, without the URI) unless the URI names a bucket and
    carries no credentials."""
    _, bucket, _ = _parts(uri)
    if "@" in bucket or ":" in bucket:
        raise ObjectStoreError("credentials in a URI are refused; give them "
                               "through the environment or ~/.aws (they are never stored)")
    if not bucket:
        raise ObjectStoreError("no bucket named")


def check_key(uri: str) -> None:
    """ObjectStoreError unless every segment of the key is a plain name: no ``.`` or ``..``
    (a store or SDK may fold them, reaching another prefix), no empty segment, backslash or
    control character. A trailing ``/`` (a prefix) is allowed."""
    key = _parts(uri)[2]
    segments = key.removesuffix("/").split("/") if key else []
    if any(s in ("", ".", "..") for s in segments):
        raise ObjectStoreError("a key with an empty, '.' or '..' segment is refused")
    if "\\" in key or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise ObjectStoreError("a key with a backslash or a control character is refused")


def within_root(uri: str, root: str) -> bool:
    """Whether ``uri`` lies under the allowed ``root``: the same scheme (case-insensitive, as
    URI schemes are), the same bucket exactly, and a key that is the root's key or continues
    it after a ``/`` (``s3://ev/case-1`` holds ``s3://ev/case-1/a.jpg``, not ``case-10/``).
    Bucket and key compare exactly, code point for code point, as the store does."""
    scheme, bucket, key = _parts(uri)
    root_scheme, root_bucket, root_key = _parts(root)
    root_key = root_key.rstrip("/")
    return (scheme == root_scheme and bucket == root_bucket
            and (not root_key or key.rstrip("/") == root_key or key.startswith(root_key + "/")))


def safe_uri(uri: str) -> str:
    """The URI fit to print: anything before the bucket name (credentials) dropped."""
    scheme, bucket, key = _parts(uri)
    return f"{scheme}://{bucket.rpartition('@')[2]}/{key}"


def _split(uri: str) -> tuple[Any, str]:
    """The filesystem for the URI's bucket (one per process and store) and the object path."""
    check_uri(uri)
    scheme, bucket, key = _parts(uri)
    cache_key = (scheme, bucket, *(os.environ.get(name, "") for name in _ENDPOINT_ENV))
    if cache_key not in _filesystems:
        from pyarrow.fs import FileSystem

        _filesystems[cache_key] = FileSystem.from_uri(f"{scheme}://{bucket}/")[0]
    return _filesystems[cache_key], f"{bucket}/{key}".rstrip("/")


def open_object(uri: str) -> BinaryIO:
    """The object's bytes, read on demand (seekable), never copied to disk."""
    filesystem, path = _split(uri)
    stream: BinaryIO = filesystem.open_input_file(path)
    return stream


class ReadCache:
    """The ranges last read from one or more objects (an E01's segments share one), so the
    memory a container holds stays bounded however large it is and however many objects."""

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self._limit, self.held = limit, 0
        self._ranges: OrderedDict[tuple[int, int], bytes] = OrderedDict()

    def find(self, source: Any, offset: int) -> tuple[int, bytes] | None:
        """(start, bytes) of a kept range of ``source`` that holds ``offset``."""
        for (owner, start), data in self._ranges.items():
            if owner == id(source) and start <= offset < start + len(data):
                self._ranges.move_to_end((owner, start))
                return start, data
        return None

    def fetch(self, source: Any, start: int, size: int) -> bytes:
        """One ranged read, kept; the oldest ranges dropped past the limit."""
        data: bytes = source.read_at(size, start)
        self.held += len(data) - len(self._ranges.pop((id(source), start), b""))
        self._ranges[(id(source), start)] = data
        while self.held > self._limit and len(self._ranges) > 1:
            self.held -= len(self._ranges.popitem(last=False)[1])
        return data


class ObjectFile(RangedFile):
    """An object as a seekable file, read in place in ranged reads (`ReadCache`); ``name`` is
    its URI, so a container can find what lies beside it (E01 segments)."""

    def __init__(self, uri: str, cache: ReadCache | None = None) -> None:
        super().__init__()
        self.name = uri
        native: Any = open_object(uri)  # pyarrow's file: size() and read_at()
        self._object, self._size, self._pos = native, int(native.size()), 0
        self.cache = cache or ReadCache()
        self._fetched_to, self._window = -1, READ_LEAST

    def _read_range(self, pos: int, want: int) -> bytes:
        if want >= READ_MOST:  # a long read goes straight through, not through the cache
            data: bytes = self._object.read_at(want, pos)
            return data
        return self._cached(pos, want)

    def _cached(self, offset: int, size: int) -> bytes:
        parts, end = [], offset + size
        while offset < end:
            start, data = self.cache.find(self._object, offset) or self._fetch(offset)
            piece = data[offset - start: end - start]
            if not piece:
                break
            parts.append(piece)
            offset += len(piece)
        return b"".join(parts)

    def _fetch(self, offset: int) -> tuple[int, bytes]:
        """Read ahead from ``offset``: more each time reads follow on, little when they jump."""
        following = offset == self._fetched_to
        self._window = min(READ_MOST, 2 * self._window) if following else READ_LEAST
        start = offset if following else offset - offset % READ_LEAST
        data = self.cache.fetch(self._object, start, self._window)
        self._fetched_to = start + len(data)
        return start, data

    def close(self) -> None:
        if not self.closed:
            self._object.close()
        super().close()


class SegmentMissing(OSError):
    """An E01 set in a store lacks a segment between its first and its last."""


_SEGMENT = re.compile(r"^[E-Ze-z](\d\d|[A-Za-z]{2})$")


def segment_number(extension: str) -> int | None:
    """The EWF segment number of a file extension: E01..E99, then EAA..EZZ, FAA..."""
    if not _SEGMENT.match(extension):
        return None
    head, tail = extension[0].upper(), extension[1:].upper()
    if tail.isdigit():
        return int(tail) if head == "E" and tail != "00" else None
    return 100 + ((ord(head) - 69) * 26 + ord(tail[0]) - 65) * 26 + ord(tail[1]) - 65


def segment_uris(uri: str) -> list[str]:
    """The URIs of an E01's segment set, in order, found beside it in the store (``uri``, the
    first, named ``.E01``; any other name is a set of one); SegmentMissing naming the first
    segment missing from the run (a last one missing shows when the media is read)."""
    from pyarrow.fs import FileSelector, FileType

    scheme = _parts(uri)[0]
    filesystem, path = _split(uri)
    folder, _, name = path.rpartition("/")
    stem, _, own = name.rpartition(".")
    if segment_number(own) != 1:  # renamed (card.bin): its own segments cannot be told
        return [uri]
    found: dict[int, str] = {1: uri}
    for info in filesystem.get_file_info(FileSelector(folder, recursive=False)):
        base, _, extension = info.base_name.rpartition(".")
        number = segment_number(extension)
        if info.type == FileType.File and base == stem and number is not None:
            found.setdefault(number, f"{scheme}://{info.path}")
    if max((n for n in found if n < 100), default=0) < 99:  # EAA.. follow E99 only
        found = {n: u for n, u in found.items() if n < 100}
    for expected in range(1, len(found) + 1):
        if expected not in found:
            raise SegmentMissing(f"E01 segment set incomplete: segment {expected} of {stem} "
                                 "missing")
    return [found[n] for n in sorted(found)]


def exists(uri: str) -> bool:
    """Whether the URI names an object or a non-empty prefix; ObjectStoreError when the
    store cannot be asked."""
    from pyarrow.fs import FileType

    try:
        filesystem, path = _split(uri)
        return bool(filesystem.get_file_info(path).type != FileType.NotFound)
    except ObjectStoreError:
        raise
    except (OSError, ValueError) as exc:
        raise ObjectStoreError(f"the store could not be asked: {exc}") from None


def list_objects(uri: str) -> Iterator[MediaItem]:
    """One media item per object at the URI (an object, or every object under a prefix, in
    key order), named by its URI; an opener that reads it from wherever it is hashed."""
    from pyarrow.fs import FileSelector, FileType

    scheme = _parts(uri)[0]
    try:
        filesystem, path = _split(uri)
        info = filesystem.get_file_info(path)
        if info.type == FileType.Directory or (info.type == FileType.NotFound and
                                               uri.endswith("/")):
            found = filesystem.get_file_info(FileSelector(path, recursive=True,
                                                          allow_not_found=True))
        else:
            found = [info]
    except (OSError, ValueError) as exc:
        yield MediaItem(safe_uri(uri), None, error=f"unreadable: object store: {exc}")
        return
    files = sorted((f for f in found if f.type == FileType.File), key=lambda f: f.path)
    if not files:
        yield MediaItem(safe_uri(uri), None, error="not found")
    for entry in files:
        name = f"{scheme}://{entry.path}"
        yield MediaItem(name, entry.size, opener=partial(open_object, name))


def store_facts(metadata: Mapping[Any, Any] | None) -> dict[str, str]:
    """ETag, version id and last-modified as the store reported them (kept, not trusted)."""
    facts = {}
    for name, value in (metadata or {}).items():
        text = name.decode() if isinstance(name, bytes) else str(name)
        if (fact := _STORE_FACTS.get(text.lower())) is not None:
            facts[fact] = value.decode() if isinstance(value, bytes) else str(value)
    return facts


def object_digest(uri: str) -> tuple[int, str, dict[str, str]]:
    """The object's size and sha256, read where it lives (in memory, chunk by chunk; nothing
    written), and what the store said of it (`store_facts`). Each chunk is its own ranged GET,
    so the store is asked again after the last: an object rewritten while it was read is
    read again (twice at most), else OSError, never a digest of two versions' bytes."""
    for _ in range(DIGEST_TRIES):
        digest, size = hashlib.sha256(), 0
        with open_object(uri) as stream:
            facts = store_facts(stream.metadata())  # type: ignore[attr-defined]
            while chunk := stream.read(DIGEST_READ):
                digest.update(chunk)
                size += len(chunk)
        with open_object(uri) as again:
            if store_facts(again.metadata()) == facts:  # type: ignore[attr-defined]
                return size, digest.hexdigest(), facts
    raise OSError("the object changed each time it was read")
