"""An immutable multi-index-hashing segment: hashes plus one sorted table per substring.

Rows are stored in table 0's key order, so table 0 needs no permutation; every other
table is a CSR structure: ``offsets[key] .. offsets[key + 1]`` slices ``perm``, which
holds row numbers. Memory per hash: 32 (hash) + 8 (id) + 4 per extra table, plus the
offset arrays, which the layout keeps no bigger than 4 bytes per hash per table.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from cvis.index.hamming import brute_force, distances
from cvis.index.plan import MAX_PROBES_PER_QUERY, Layout, choose_layout, flip_masks, substring

Hits = tuple[np.ndarray, np.ndarray, np.ndarray]  # query number, row, distance
# Segments smaller than this are scanned: building tables would cost more than it saves.
SCAN_BELOW = 2048


@dataclass(frozen=True)
class Segment:
    """Immutable. ``ids``/``words`` are in table-0 order; arrays may be memory-mapped."""

    layout: Layout
    ids: np.ndarray  # (n,) int64
    words: np.ndarray  # (n, 4) uint64
    offsets: np.ndarray  # (tables, 2**key_bits + 1) uint32; (0, 1) when scanned
    perm: np.ndarray  # (tables - 1, n) uint32; (0, n) when scanned

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def indexed(self) -> bool:
        return self.offsets.shape[0] > 0

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.ids, self.words, self.offsets, self.perm))

    def search(self, qwords: np.ndarray, threshold: int) -> Hits:
        """Every (query, row, distance) with distance <= threshold, each pair once."""
        if len(self) == 0 or qwords.shape[0] == 0:
            return _empty()
        if not self.indexed or self.layout.probes(threshold) > MAX_PROBES_PER_QUERY:
            return brute_force(self.words, qwords, threshold)
        radii = self.layout.radii(threshold)
        parts = [self._probe_table(t, radii, qwords, threshold) for t in range(len(radii))]
        return tuple(np.concatenate(col) for col in zip(*parts, strict=True))  # type: ignore

    def _probe_table(self, table: int, radii: list[int], qwords: np.ndarray,
                     threshold: int) -> Hits:
        bits, radius = self.layout.key_bits, radii[table]
        if radius < 0:
            return _empty()
        masks = flip_masks(bits, radius).astype(np.int64)
        keys = substring(qwords, table, bits)[:, None] ^ masks[None, :]
        offsets = self.offsets[table]
        starts = np.take(offsets, keys).astype(np.int64).ravel()
        counts = np.take(offsets[1:], keys).ravel() - starts
        nonzero = np.flatnonzero(counts)
        if nonzero.size == 0:
            return _empty()
        starts, counts = starts[nonzero], counts[nonzero]
        ends = np.cumsum(counts)
        slots = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(starts - ends + counts, counts)
        query = np.repeat(nonzero // masks.size, counts)
        rows = slots if table == 0 else np.take(self.perm[table - 1], slots).astype(np.int64)
        found, asked = np.take(self.words, rows, axis=0), np.take(qwords, query, axis=0)
        dist = distances(found, asked)
        keep = np.flatnonzero(dist <= threshold)
        keep = keep[~_seen_earlier(found[keep], asked[keep], table, radii, bits)]
        return query[keep], rows[keep], dist[keep]


def build_segment(ids: np.ndarray, words: np.ndarray, layout: Layout | None = None) -> Segment:
    """Sort rows by table 0's key and build a CSR table for every other substring."""
    n = int(ids.shape[0])
    if n < SCAN_BELOW and layout is None:
        return Segment(
            Layout(1, 1),
            ids.copy(),
            words.copy(),
            np.zeros((0, 1), dtype=np.uint32),
            np.zeros((0, n), dtype=np.uint32),
        )
    layout = layout or choose_layout(n)
    order = np.argsort(substring(words, 0, layout.key_bits))
    ids, words = ids[order], words[order]
    size = 1 << layout.key_bits
    offsets = np.empty((layout.tables, size + 1), dtype=np.uint32)
    perm = np.empty((layout.tables - 1, n), dtype=np.uint32)

    def fill(table: int) -> None:
        keys = substring(words, table, layout.key_bits)
        offsets[table, 0] = 0
        np.cumsum(np.bincount(keys, minlength=size), out=offsets[table, 1:])
        if table > 0:  # any order within a bucket will do: the default sort is fastest
            perm[table - 1] = np.argsort(keys)

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # sorting releases the GIL
        list(pool.map(fill, range(layout.tables)))
    return Segment(layout, ids, words, offsets, perm)


def _seen_earlier(found: np.ndarray, asked: np.ndarray, table: int, radii: list[int],
                  bits: int) -> np.ndarray:
    """Hits an earlier table also reports (its substring is within that table's radius):
    each (query, row) pair is then reported once, by the first table that can see it."""
    seen = np.zeros(found.shape[0], dtype=bool)
    left = np.arange(found.shape[0])  # hits not yet known to be seen
    diff = found ^ asked
    for earlier in range(table):
        if radii[earlier] < 0 or left.size == 0:
            continue
        near = np.bitwise_count(substring(diff, earlier, bits)) <= radii[earlier]
        seen[left[near]] = True
        left, diff = left[~near], diff[~near]
    return seen


def _empty() -> Hits:
    return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
