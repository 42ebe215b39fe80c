"""Exact lookup of cryptographic digests, held as fixed-width bytes rather than strings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence


class CryptoIndex:
    """Digest -> ids of stored entries with that digest."""

    def __init__(self) -> None:
        self._by_digest: dict[bytes, list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_digest.values())

    def add(self, ids: Sequence[int], digests: Sequence[bytes]) -> None:
        for entry_id, digest in zip(ids, digests, strict=True):
            self._by_digest[digest].append(int(entry_id))

    def remove(self, ids: Iterable[int]) -> None:
        gone = set(ids)
        for digest in list(self._by_digest):
            kept = [i for i in self._by_digest[digest] if i not in gone]
            if kept:
                self._by_digest[digest] = kept
            else:
                del self._by_digest[digest]

    def lookup(self, digests: Sequence[bytes]) -> list[list[int]]:
        return [list(self._by_digest.get(d, ())) for d in digests]
