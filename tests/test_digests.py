"""One file-digest helper: what custody, hash-list versions, feeds and uploads record."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from cvis.digests import CHUNK_SIZE, file_sha256, stream_sha256


def test_file_and_stream_digests_are_sha256_read_in_chunks(tmp_path: Path) -> None:
    body = bytes(range(256)) * (CHUNK_SIZE // 256 * 2 + 3)  # more than two chunks
    path = tmp_path / "evidence.bin"
    path.write_bytes(body)
    seen: list[int] = []
    assert file_sha256(path, seen.append) == hashlib.sha256(body).hexdigest()
    assert sum(seen) == len(body) and len(seen) == 3
    stream = io.BytesIO(body)
    stream.read(10)  # what is left to read, from where the stream stands
    assert stream_sha256(stream) == hashlib.sha256(body[10:]).hexdigest()
    assert file_sha256(str(path)) == file_sha256(path)
