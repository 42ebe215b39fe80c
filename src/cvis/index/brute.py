"""Brute-force PDQ index: the reference every faster index is tested against."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cvis.index.hamming import to_words
from cvis.index.ids import to_ids


class BruteForcePdqIndex:
    """Correct first: compares every query with every stored hash."""

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.int64)
        self._words = np.zeros((0, 4), dtype=np.uint64)

    def __len__(self) -> int:
        return int(self._ids.size)

    def add(self, ids: Sequence[int] | np.ndarray, hashes: np.ndarray) -> None:
        self._ids = np.concatenate([self._ids, to_ids(ids)])
        self._words = np.concatenate([self._words, to_words(hashes)])

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        keep = ~np.isin(self._ids, to_ids(ids))
        self._ids, self._words = self._ids[keep], self._words[keep]

    def search(self, queries: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        results: list[list[tuple[int, int]]] = []
        for q in to_words(queries):
            dist = np.bitwise_count(self._words ^ q).sum(axis=1)
            hits = np.nonzero(dist <= threshold)[0]
            results.append([(int(self._ids[i]), int(dist[i])) for i in hits])
        return results
