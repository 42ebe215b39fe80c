"""Generators of PDQ-like test data for the index tests (benign: random bits, no imagery)."""

from __future__ import annotations

import numpy as np


def flip(rows: np.ndarray, max_bits: int, rng: np.random.Generator) -> np.ndarray:
    """Each row with up to 0..max_bits random bits flipped (vectorised)."""
    n = rows.shape[0]
    counts = rng.integers(0, max_bits + 1, n)
    pos = rng.integers(0, 256, (n, max_bits))
    use = np.arange(max_bits) < counts[:, None]
    mask = np.zeros((n, 256), dtype=bool)
    mask[np.nonzero(use)[0], pos[use]] = True
    return rows ^ np.packbits(mask, axis=1)


def structured_hashes(n: int, rng: np.random.Generator, kind: str) -> np.ndarray:
    """``random``; ``clustered`` (near-duplicates around a few centres); ``low`` (zeros,
    ones, sparse bits, repeated bytes: the crowded buckets of real sets); ``mixed``."""
    if kind == "random":
        return rng.integers(0, 256, (n, 32), dtype=np.uint8)
    if kind == "clustered":
        centres = rng.integers(0, 256, (max(1, n // 20), 32), dtype=np.uint8)
        return flip(centres[rng.integers(0, centres.shape[0], n)], 40, rng)
    if kind == "low":
        bases = np.array([[0] * 32, [255] * 32, [0x0F] * 32, [0xAA, 0x55] * 16], dtype=np.uint8)
        return flip(bases[rng.integers(0, 4, n)], 20, rng)
    parts = [structured_hashes(n // 3 + 1, rng, k) for k in ("random", "clustered", "low")]
    return np.concatenate(parts)[rng.permutation(3 * (n // 3 + 1))[:n]]


def queries_near(data: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Half near stored hashes (0..40 bits away), half random."""
    near = flip(data[rng.integers(0, data.shape[0], n - n // 2)], 40, rng) if len(data) else \
        rng.integers(0, 256, (n - n // 2, 32), dtype=np.uint8)
    return np.concatenate([near, rng.integers(0, 256, (n // 2, 32), dtype=np.uint8)])


def as_sets(results: list[list[tuple[int, int]]]) -> list[set[tuple[int, int]]]:
    return [set(r) for r in results]
