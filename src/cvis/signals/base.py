"""The small interface every signal type implements (after python-threatexchange's SignalType).

A signal type is a name, the media it applies to, a validator that is the one gate
values pass before storage or an index, a distance, a default match threshold and
examples for the shared plug-in test. Computing a signal from media is separate.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar


class InvalidSignalValue(ValueError):
    """A hash value that is not of its signal type's form."""


class SignalType(ABC):
    """One kind of hash: md5, sha1, sha256, pdq, ... (PhotoDNA would be a plug-in)."""

    name: ClassVar[str]
    media_kinds: ClassVar[frozenset[str]]  # "image", "video", "file"
    default_threshold: ClassVar[int] = 0
    examples: ClassVar[tuple[str, ...]] = ()

    @classmethod
    @abstractmethod
    def validate(cls, value: str) -> str:
        """Return the normalised value or raise InvalidSignalValue."""

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        """0 when equal; exact signals know no other distance."""
        return 0 if a == b else 1

    @classmethod
    def is_exact(cls) -> bool:
        return cls.default_threshold == 0
