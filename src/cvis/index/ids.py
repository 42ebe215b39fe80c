"""Caller-chosen int64 entry ids, and fast membership tests over them."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# Up to this many ids, one equality pass each beats a binary search per value.
_PASSES = 8


def to_ids(ids: Iterable[int] | np.ndarray) -> np.ndarray:
    if not isinstance(ids, np.ndarray):
        ids = np.fromiter(ids, dtype=np.int64)
    return np.ascontiguousarray(ids.astype(np.int64, copy=False).reshape(-1))


def member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_set)`` without sorting ``values`` (a 10M-row segment):
    a few equality passes for a few ids, else O(n log k) binary search."""
    if values.size == 0 or sorted_set.size == 0:
        return np.zeros(values.size, dtype=bool)
    if sorted_set.size <= _PASSES:
        hit = values == sorted_set[0]
        for v in sorted_set[1:]:
            hit |= values == v
        return hit
    pos = np.minimum(np.searchsorted(sorted_set, values), sorted_set.size - 1)
    return np.asarray(sorted_set[pos] == values)
