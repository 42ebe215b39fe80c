"""The small interface each hash-list format implements: detect, read, write."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import ClassVar, TextIO

from cvis.hashsets.records import KnownRecord, RecordError


class HashListFormat(ABC):
    name: ClassVar[str]
    description: ClassVar[str]

    @classmethod
    @abstractmethod
    def sniff(cls, head: str) -> bool:
        """True when the first few kilobytes look like this format."""

    @abstractmethod
    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        """Records in file order; a malformed one yields a RecordError and reading goes on."""

    @abstractmethod
    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        """Write records so that reading them back gives the same records."""
