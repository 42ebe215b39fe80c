"""The one interface the matcher and the index cache use for every signal type's index.

A signal type names its index class (``SignalType.index``); an index is built from the
store's (signal id, value, media) rows, answers range queries with (id, distance) pairs,
and saves to / loads from versioned files beside the database. Three built-in kinds:

- ``ExactIndex``: equality (crypto digests; any exact plug-in signal);
- ``Pdq256Index``: exact Hamming range search over 256-bit hashes (PDQ), multi-index hashing;
- ``HammingIndex``: brute-force Hamming range search over hashes of any fixed bit width,
  enough for small or plug-in signals (a 64-bit average hash, say).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np

from cvis.index.crypto_index import CryptoIndex
from cvis.index.hamming import hex_to_array
from cvis.index.pdq_index import Matches, PdqIndex
from cvis.index.storage import IndexCorrupt, read_version, write_version

Hits = list[list[tuple[int, int]]]


class SignalIndex(Protocol):
    """What every signal index offers (ids are the store's known-signal ids)."""

    def __len__(self) -> int: ...

    def search(self, values: Sequence[str], threshold: int) -> Hits:
        """For each query value, every (id, distance) within ``threshold``."""
        ...

    def save(self, directory: Path, generation: int) -> None: ...


def search_columns(index: SignalIndex, values: Sequence[str], threshold: int) -> Matches:
    """The hits as columns (query number, id, distance), sorted by query then distance then id.

    The built-in indexes answer in columns directly (``search_columns``); a plug-in index
    that offers only ``search`` is converted here, so the matcher has one shape to read.
    """
    direct = getattr(index, "search_columns", None)
    if direct is not None:
        found: Matches = direct(values, threshold)
        return found
    return matches_of(index.search(values, threshold))


def matches_of(hits: Hits) -> Matches:
    """Per-query (id, distance) lists as one sorted Matches."""
    sizes = [len(pairs) for pairs in hits]
    flat = [pair for pairs in hits for pair in pairs]
    q = np.repeat(np.arange(len(hits), dtype=np.int64), sizes)
    ids = np.fromiter((i for i, _ in flat), dtype=np.int64, count=len(flat))
    d = np.fromiter((d for _, d in flat), dtype=np.int32, count=len(flat))
    order = np.lexsort((ids, d, q))
    return Matches(q[order], ids[order], d[order])


class SignalIndexType(Protocol):
    """The class side: build from store rows, load from files."""

    def build(
        self, ids: Sequence[int], values: Sequence[str], media: Sequence[int]
    ) -> SignalIndex: ...

    def load(self, directory: Path, generation: int) -> SignalIndex: ...


def _as_bytes(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:  # a plug-in's exact value need not be hex (base64, say)
        return value.encode()


class ExactIndex:
    """Equality lookups: distance is always 0."""

    def __init__(self, inner: CryptoIndex | None = None) -> None:
        self._inner = inner or CryptoIndex()

    def __len__(self) -> int:
        return len(self._inner)

    @classmethod
    def build(cls, ids: Sequence[int], values: Sequence[str], media: Sequence[int]) -> ExactIndex:
        index = cls()
        if ids:
            index._inner.add(list(ids), [_as_bytes(v) for v in values])
        return index

    def search(self, values: Sequence[str], threshold: int) -> Hits:
        hits: Hits = [[] for _ in values]
        if not values or not len(self._inner):
            return hits
        queries, ids = self._inner.lookup_batch([_as_bytes(v) for v in values])
        for q, signal_id in zip(queries.tolist(), ids.tolist(), strict=True):
            hits[q].append((signal_id, 0))
        return hits

    def search_columns(self, values: Sequence[str], threshold: int) -> Matches:
        if not values or not len(self._inner):
            return matches_of([])
        queries, ids = self._inner.lookup_batch([_as_bytes(v) for v in values])
        q, i = np.asarray(queries, dtype=np.int64), np.asarray(ids, dtype=np.int64)
        return Matches(q, i, np.zeros(q.size, dtype=np.int32))  # already by query, then id

    def search_digests(self, digests: np.ndarray) -> Matches:
        """``search_columns`` of digests given as (n, width) uint8 rows (hex already decoded)."""
        if not digests.shape[0] or not len(self._inner):
            return matches_of([])
        q, i = self._inner.lookup_rows(digests)
        return Matches(q, i, np.zeros(q.size, dtype=np.int32))

    def save(self, directory: Path, generation: int) -> None:
        self._inner.save(directory, generation)

    @classmethod
    def load(cls, directory: Path, generation: int) -> ExactIndex:
        return cls(CryptoIndex.load(directory, generation))


class Pdq256Index:
    """Exact Hamming range search over 256-bit hex hashes (``PdqIndex``)."""

    def __init__(self, inner: PdqIndex) -> None:
        self._inner = inner

    def __len__(self) -> int:
        return len(self._inner)

    @classmethod
    def build(cls, ids: Sequence[int], values: Sequence[str], media: Sequence[int]) -> Pdq256Index:
        return cls(PdqIndex.build(list(ids), hex_to_array(list(values))))

    def search(self, values: Sequence[str], threshold: int) -> Hits:
        if not values or not len(self._inner):
            return [[] for _ in values]
        found = self._inner.search_batch(hex_to_array(list(values)), threshold)
        return found.per_query(len(values))

    def search_columns(self, values: Sequence[str], threshold: int) -> Matches:
        if not values or not len(self._inner):
            return matches_of([])
        return self._inner.search_batch(hex_to_array(list(values)), threshold)

    def save(self, directory: Path, generation: int) -> None:
        self._inner.save(directory, generation)

    @classmethod
    def load(cls, directory: Path, generation: int) -> Pdq256Index:
        return cls(PdqIndex.load(directory, generation))


class HammingIndex:
    """Brute-force Hamming range search over equal-width hex hashes of any width."""

    KIND: ClassVar[str] = "cvis-hamming-index"
    BLOCK: ClassVar[int] = 1 << 22  # bytes compared per step: bounds the temporary arrays

    def __init__(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        self.ids, self.hashes = ids, hashes  # int64 (n,), uint8 (n, width)

    def __len__(self) -> int:
        return int(self.ids.size)

    @classmethod
    def build(cls, ids: Sequence[int], values: Sequence[str], media: Sequence[int]) -> HammingIndex:
        hashes = _hex_rows(values)
        return cls(np.asarray(list(ids), dtype=np.int64), hashes)

    def search(self, values: Sequence[str], threshold: int) -> Hits:
        hits: Hits = [[] for _ in values]
        if not values or not len(self):
            return hits
        width = self.hashes.shape[1]
        for q, value in enumerate(values):
            query = _hex_rows([value])
            if query.shape[1] != width:
                continue  # another width cannot be near
            step = max(1, self.BLOCK // width)
            for start in range(0, len(self), step):
                block = self.hashes[start : start + step]
                dist = np.bitwise_count(block ^ query).sum(axis=1, dtype=np.int32)
                for row in np.flatnonzero(dist <= threshold).tolist():
                    hits[q].append((int(self.ids[start + row]), int(dist[row])))
            hits[q].sort(key=lambda pair: (pair[1], pair[0]))
        return hits

    def save(self, directory: Path, generation: int) -> None:
        write_version(Path(directory), self.KIND, generation,
                      {"ids": self.ids, "hashes": self.hashes}, {"count": len(self)})

    @classmethod
    def load(cls, directory: Path, generation: int) -> HammingIndex:
        meta, arrays = read_version(Path(directory), cls.KIND, generation, True)
        try:
            index = cls(np.asarray(arrays["ids"]), np.asarray(arrays["hashes"]))
        except KeyError as exc:
            raise IndexCorrupt(f"{directory}: missing array {exc}") from exc
        if len(index) != meta["count"] or index.hashes.shape[0] != len(index):
            raise IndexCorrupt(f"{directory}: arrays disagree with the manifest")
        return index


def _hex_rows(values: Sequence[str]) -> np.ndarray:
    if not values:
        return np.zeros((0, 0), dtype=np.uint8)
    rows = [bytes.fromhex(v) for v in values]
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("a Hamming index holds hashes of one width")
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, width).copy()
