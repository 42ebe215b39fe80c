"""Media items: what evidence yields, one per file (or archive member), named per the contract.

Items cross to worker processes, so an item's opener is a picklable
``functools.partial`` over a module-level function and plain values (a path, a
member locator), never an open file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

Opener = Callable[[], BinaryIO]


@dataclass(frozen=True)
class MediaItem:
    """A readable thing found in evidence.

    ``error`` with no opener: it cannot be read at all. ``error`` with an
    opener: it is read and crypto-hashed, and the error still stands (a corrupt
    archive). ``flags`` are facts an examiner should see (deleted, renamed).
    """

    name: str
    size: int | None
    opener: Opener | None = None
    error: str | None = None
    flags: tuple[str, ...] = ()

    def open(self) -> BinaryIO:
        if self.opener is None:
            raise OSError(self.error or f"{self.name} cannot be opened")
        return self.opener()
