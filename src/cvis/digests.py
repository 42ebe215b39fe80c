"""The SHA-256 of a file or an upload: one helper for every record of "which bytes was this".

Evidence custody, hash-list versions, feeds, media manifests, registry runs and uploads
all record the digest of what they read; they read it here, in chunks (never the whole
file in memory), with an optional progress callback for large evidence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

CHUNK_SIZE = 1 << 20

Progress = Callable[[int], None]


def stream_sha256(stream: IO[bytes], progress: Progress | None = None) -> str:
    """The hex SHA-256 of what is left to read in ``stream``; ``progress`` gets each chunk's
    length."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
        digest.update(chunk)
        if progress:
            progress(len(chunk))
    return digest.hexdigest()


def file_sha256(path: Path | str, progress: Progress | None = None) -> str:
    """The hex SHA-256 of a file's bytes."""
    with open(path, "rb") as stream:
        return stream_sha256(stream, progress)
