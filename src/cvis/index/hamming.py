"""256-bit hashes as four uint64 words, and Hamming distances between them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

HASH_BYTES = 32
HASH_WORDS = 4
HASH_BITS = 256


def hex_to_array(hashes: Sequence[str]) -> np.ndarray:
    """PDQ hex strings -> (n, 32) uint8 array."""
    if not hashes:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    raw = bytes.fromhex("".join(hashes))
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def to_words(hashes: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 hashes (or (n, 4) uint64 words) -> contiguous (n, 4) uint64 words."""
    arr = np.asarray(hashes)
    if arr.dtype == np.uint64:
        return np.ascontiguousarray(arr.reshape(-1, HASH_WORDS))
    raw = np.ascontiguousarray(arr, dtype=np.uint8).reshape(-1, HASH_BYTES)
    return raw.view(np.uint64).reshape(-1, HASH_WORDS)


def distances(rows: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Row-wise Hamming distance of two equal-length (k, 4) word arrays, as int32."""
    bits = np.bitwise_count(rows ^ queries)  # uint8, at most 64 per word
    # Pairs fit in uint8 (<= 128); the total (<= 256) does not.
    return np.add(bits[:, 0] + bits[:, 1], bits[:, 2] + bits[:, 3], dtype=np.int32)


def word_column(words: np.ndarray, word: int) -> np.ndarray:
    """Word ``word`` of every row, from (n, 4) words or a segment's (2, n, 2) halves (a
    view): words 0-1 of every row, then words 2-3."""
    if words.ndim == 3:
        return words[word >> 1][:, word & 1]
    return words[:, word]


def brute_force(
    words: np.ndarray, qwords: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (query, row, distance) within threshold, by exhaustive comparison.

    Used for small delta segments and very large thresholds, where it is the fastest exact way.
    ``words`` is (n, 4), or a segment's (2, n, 2) halves.
    """
    qs, rows, dists = [], [], []
    columns = [word_column(words, w) for w in range(HASH_WORDS)]
    block = max(1, 4_000_000 // max(1, columns[0].shape[0]))
    for start in range(0, qwords.shape[0], block):
        q = qwords[start : start + block]
        d = np.bitwise_count(columns[0][None, :] ^ q[:, None, 0]).astype(np.int32)
        for w in range(1, HASH_WORDS):
            d += np.bitwise_count(columns[w][None, :] ^ q[:, None, w])
        qi, ri = np.nonzero(d <= threshold)
        qs.append(qi + start)
        rows.append(ri)
        dists.append(d[qi, ri])
    return _cat(qs, np.int64), _cat(rows, np.int64), _cat(dists, np.int32)


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=dtype)
    return np.concatenate(parts).astype(dtype, copy=False)
