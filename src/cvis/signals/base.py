"""The small interface every signal type implements (after python-threatexchange's SignalType).

A signal type is a name, the media it applies to, a validator that is the one gate
values pass before storage or an index, a distance, a default match threshold and
examples for the shared plug-in test. Computing a signal from media is separate.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

if TYPE_CHECKING:
    from cvis.index.signal_index import SignalIndexType


class InvalidSignalValue(ValueError):
    """A hash value that is not of its signal type's form."""


class MatchQuery(Protocol):
    """What a signal type may consider when judging a candidate (``identify.matcher.Query``)."""

    @property
    def signal(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def quality(self) -> int | None: ...

    @property
    def contrast_quality(self) -> int | None: ...


class SignalType(ABC):
    """One kind of hash: md5, sha1, sha256, pdq, ... (PhotoDNA would be a plug-in).

    ``index`` names the index class the matcher builds for it (None: the exact index);
    ``default_threshold`` and ``max_threshold`` bound the distance a set may accept.
    """

    name: ClassVar[str]
    media_kinds: ClassVar[frozenset[str]]  # "image", "video", "file"
    default_threshold: ClassVar[int] = 0
    max_threshold: ClassVar[int] = 0
    examples: ClassVar[tuple[str, ...]] = ()
    index: ClassVar[Any] = None  # a SignalIndexType; None: ExactIndex

    @classmethod
    def index_type(cls) -> SignalIndexType:
        from cvis.index.signal_index import ExactIndex

        return cls.index or ExactIndex

    @classmethod
    def query_values(cls, values: list[str]) -> list[str]:
        """The values of one item to look up (one each by default; a keypoint signal looks
        up all of an item's keypoints together)."""
        return values

    @classmethod
    def known_values(cls, values: list[str]) -> list[str]:
        """The values a set built from media keeps for one item (all by default)."""
        return values

    @classmethod
    def stored_values(cls, value: str) -> list[str]:
        """The rows one value is kept as in the store (one; vPDQ keeps a row per frame)."""
        return [value]

    @classmethod
    def from_stored(cls, values: Sequence[str]) -> str:
        """The value again from its stored rows, in order (the inverse of stored_values)."""
        return values[0]

    @classmethod
    def index_name(cls) -> str:
        """The index this type's rows are looked up in (``index_entry``'s signal)."""
        return cls.name

    @classmethod
    def index_entry(cls, stored: str) -> tuple[str, str] | None:
        """The (signal, value) a stored row is looked up as; None: not looked up. A vPDQ
        frame is looked up as a PDQ."""
        return cls.name, stored

    @classmethod
    def allows(cls, query: MatchQuery, distance: int, threshold: int) -> bool:
        """Whether a candidate ``distance`` away counts as a match at a set's ``threshold``."""
        return distance <= threshold

    @classmethod
    def verdict_key(cls, query: MatchQuery) -> Hashable:
        """All that ``allows`` reads of a query besides distance and threshold: queries with
        equal keys get equal verdicts, so a batch asks ``allows`` once per key, distance and
        set rather than once per hit. A type that overrides ``allows`` and not this one is
        asked for every distinct query."""
        if cls.allows.__func__ is SignalType.allows.__func__:  # type: ignore[attr-defined]
            return None
        return (query.value, query.quality, query.contrast_quality)

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


class PictureSignal(ABC):
    """Capability: a signal computed from a decoded picture (what the viewer shows).

    A signal type that also subclasses this is computed for every picture cvis hashes
    (scans and ``sets import-media``) and looked up like any other.
    """

    @classmethod
    @abstractmethod
    def from_pixels(cls, pixels: np.ndarray) -> list[str]:
        """Values (normalised) for an H x W x 3 (or H x W grey) uint8 picture; [] if none."""
