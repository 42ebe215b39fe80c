"""Media items: what evidence yields, one per file (or archive member), named per the contract."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

Opener = Callable[[], BinaryIO]


@dataclass(frozen=True)
class MediaItem:
    """A readable thing found in evidence. ``error`` is set when it cannot even be opened."""

    name: str
    size: int | None
    opener: Opener | None = None
    error: str | None = None

    def open(self) -> BinaryIO:
        if self.opener is None:
            raise OSError(self.error or f"{self.name} cannot be opened")
        return self.opener()
