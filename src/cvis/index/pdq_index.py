"""Hamming range search over PDQ hashes.

Contract (kept by every implementation): ``search`` returns, for each query, every
stored entry within ``threshold`` bits, with its distance: exact, never an
approximate miss. Entries are identified by caller-chosen int64 ids.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

HASH_BYTES = 32


def hex_to_array(hashes: Sequence[str]) -> np.ndarray:
    """PDQ hex strings -> (n, 32) uint8 array."""
    if not hashes:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    raw = bytes.fromhex("".join(hashes))
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


class PdqIndex:
    """Brute-force reference implementation: correct first."""

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.int64)
        self._words = np.zeros((0, 4), dtype=np.uint64)

    def __len__(self) -> int:
        return int(self._ids.size)

    def add(self, ids: Sequence[int] | np.ndarray, hashes: np.ndarray) -> None:
        words = np.ascontiguousarray(hashes, dtype=np.uint8).view(np.uint64).reshape(-1, 4)
        self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])
        self._words = np.concatenate([self._words, words])

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        keep = ~np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        self._ids, self._words = self._ids[keep], self._words[keep]

    def search(self, queries: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        qwords = np.ascontiguousarray(queries, dtype=np.uint8).view(np.uint64).reshape(-1, 4)
        results: list[list[tuple[int, int]]] = []
        for q in qwords:
            dist = np.bitwise_count(self._words ^ q).sum(axis=1)
            hits = np.nonzero(dist <= threshold)[0]
            results.append([(int(self._ids[i]), int(dist[i])) for i in hits])
        return results
