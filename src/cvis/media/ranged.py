"""A seekable, read-only file over something that reads a range at a time."""

from __future__ import annotations

import io
from typing import Any


class RangedFile(io.RawIOBase):
    """Seek, tell and size kept here; a subclass says how ``want`` bytes at ``pos`` are read
    (``_read_range``). ``get_size`` is what libewf's file-object interface asks for."""

    _size: int
    _pos: int

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def get_size(self) -> int:
        return self._size

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        data = self._read_range(self._pos, want)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _read_range(self, pos: int, want: int) -> bytes:
        raise NotImplementedError
