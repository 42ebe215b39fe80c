"""An immutable multi-index-hashing segment: hashes plus one sorted table per substring.

Rows are stored in table 0's key order, so table 0 needs no row numbers; every other
table is a CSR structure: ``offsets[key] .. offsets[key + 1]`` slices that table's row
numbers, bit-packed at ``row_bits`` bits (24 at 10 M rows). Ids are kept as 32-bit
offsets from the smallest id when they span less than 2**32. Memory per hash: 32 (hash)
+ 4 (id) + row_bits / 8 per extra table + the offset arrays (4 bytes a key).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from cvis.index.hamming import brute_force
from cvis.index.ids import member
from cvis.index.packed import pack_into, packed_words, row_bits
from cvis.index.plan import (
    MAX_PROBES_PER_QUERY,
    Layout,
    choose_layout,
    flip_masks,
    probe_count,
    substring,
)

Hits = tuple[np.ndarray, np.ndarray, np.ndarray]  # query number, row, distance
# Segments smaller than this are scanned: building tables would cost more than it saves.
SCAN_BELOW = 2048
_CHUNK = 1 << 22
PARALLEL_BUILD_ROWS = 1 << 25


@dataclass(frozen=True)
class Segment:
    """Immutable. ``id_codes``/``halves`` are in table-0 order; arrays may be memory-mapped.

    The hashes are kept as two halves, words 0-1 of every row and then words 2-3: a
    candidate is first checked on its first half, 16 bytes, and most are rejected there
    (random hashes differ in ~64 of those 128 bits), so verification touches half the
    memory (at 2M hashes, 20,000 queries: 5.6 CPU-s instead of 7.3)."""

    layout: Layout
    id_codes: np.ndarray  # (n,) uint32 (id - id_base), or int64 ids when they span >= 2**32
    id_base: int
    halves: np.ndarray  # (2, n, 2) uint64
    offsets: np.ndarray  # (tables, 2**key_bits + 1) uint32; (0, 1) when scanned
    perm: np.ndarray  # (tables - 1, packed_words(n, row_bits(n))) uint64; (0, 1) when scanned

    def __len__(self) -> int:
        return int(self.halves.shape[1])

    @property
    def words(self) -> np.ndarray:
        """The hashes as (n, 4) words (a new array: for merges and compaction)."""
        return np.concatenate([self.halves[0], self.halves[1]], axis=1)

    @property
    def indexed(self) -> bool:
        return self.offsets.shape[0] > 0

    @property
    def row_bits(self) -> int:
        return row_bits(len(self))

    @property
    def ids(self) -> np.ndarray:
        """Every id, int64 (a new array)."""
        return self.ids_at(np.arange(len(self)))

    def ids_at(self, rows: np.ndarray) -> np.ndarray:
        found = np.take(self.id_codes, rows).astype(np.int64)
        if self.id_base:
            found += self.id_base
        return found

    def holds(self, ids: np.ndarray) -> np.ndarray:
        """Per row, whether its id is in ``ids`` (sorted int64), compared in the stored
        32-bit form: no int64 copy of every id (800 MB at 100 M rows)."""
        if self.id_codes.dtype == np.int64:
            return member(self.id_codes, ids)
        codes = ids - self.id_base
        codes = codes[(codes >= 0) & (codes < 1 << 32)].astype(np.uint32)
        return member(self.id_codes, codes)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.id_codes, self.halves, self.offsets, self.perm))

    def search(self, qwords: np.ndarray, threshold: int) -> Hits:
        """Every (query, row, distance) with distance <= threshold, each pair once."""
        if len(self) == 0 or qwords.shape[0] == 0:
            return _empty()
        if not self.indexed or self.layout.probes(threshold) > MAX_PROBES_PER_QUERY:
            return brute_force(self.halves, qwords, threshold)
        radii = self.layout.radii(threshold)
        widest = max(radii)
        if widest < 0:
            return _empty()
        masks = flip_masks(self.layout.key_bits, widest)
        counts = np.array([probe_count(self.layout.key_bits, r) for r in radii], np.int64)
        # numba (~0.2 s to import) is loaded by the first search, not by commands that hash
        from cvis.index.kernel import probe_segment

        return probe_segment(np.asarray(self.halves[0]), np.asarray(self.halves[1]),
                             np.asarray(self.offsets),
                             np.asarray(self.perm), self.row_bits, self.layout.key_bits,
                             np.array(radii, np.int64), masks, counts,
                             np.ascontiguousarray(qwords), threshold)


def build_segment(ids: np.ndarray, words: np.ndarray, layout: Layout | None = None) -> Segment:
    """Sort rows by table 0's key and build a CSR table for every other substring.

    Temporary memory is about 8 bytes a row per table built at once (one per core)."""
    n = int(ids.shape[0])
    codes, base = _id_codes(ids)
    if n < SCAN_BELOW and layout is None:
        return Segment(Layout(1, 1), codes.copy(), base, halves_of(words),
                       np.zeros((0, 1), dtype=np.uint32), np.zeros((0, 1), dtype=np.uint64))
    layout = layout or choose_layout(n)
    bits, rbits = layout.key_bits, row_bits(n)
    size = 1 << bits
    offsets = np.empty((layout.tables, size + 1), dtype=np.uint32)
    order = _table(words, 0, bits, rbits, offsets[0])
    sorted_codes = np.empty_like(codes)
    halves = np.empty((2, n, 2), dtype=np.uint64)
    for start in range(0, n, _CHUNK):
        part = order[start : start + _CHUNK]
        sorted_codes[start : start + part.size] = np.take(codes, part)
        rows = np.take(words, part, axis=0)
        halves[0, start : start + part.size] = rows[:, :2]
        halves[1, start : start + part.size] = rows[:, 2:]
        del rows
    del order, codes
    perm = np.zeros((layout.tables - 1, packed_words(n, rbits)), dtype=np.uint64)

    def fill(table: int) -> None:
        rows = _table(halves, table, bits, rbits, offsets[table])
        pack_into(perm[table - 1], rows, rbits)

    # Sorting releases the GIL: one table per core, or one at a time when the 8-16 bytes a
    # row each needs meanwhile would count (100 M rows: 1.6 GB a table).
    workers = 1 if n > PARALLEL_BUILD_ROWS else os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fill, range(1, layout.tables)))
    return Segment(layout, sorted_codes, base, halves, offsets, perm)


def halves_of(words: np.ndarray) -> np.ndarray:
    """(n, 4) words as a segment's (2, n, 2) halves."""
    words = np.asarray(words, dtype=np.uint64).reshape(-1, 4)
    return np.ascontiguousarray(np.stack([words[:, :2], words[:, 2:]]))


def _id_codes(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Ids as uint32 offsets from the smallest when they fit, else as they are (int64)."""
    if ids.size == 0:
        return np.zeros(0, dtype=np.uint32), 0
    low, high = int(ids.min()), int(ids.max())
    if high - low < 1 << 32:
        return (ids - low).astype(np.uint32), low
    return ids.astype(np.int64), 0


def _table(words: np.ndarray, table: int, bits: int, rbits: int, offsets: np.ndarray
           ) -> np.ndarray:
    """Rows in order of their key of ``table`` (int64), and the table's offsets (filled in).

    Sorts key and row packed in one uint64 (``bits + rbits <= 64``): a plain sort,
    faster and lighter than an argsort."""
    packed = substring(words, table, bits).view(np.uint64)  # a new array: sorted in place
    n = packed.shape[0]
    offsets[0] = 0
    np.cumsum(np.bincount(packed.view(np.int64), minlength=1 << bits), out=offsets[1:])
    packed <<= np.uint64(rbits)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        packed[start:stop] |= np.arange(start, stop, dtype=np.uint64)
    packed.sort()
    packed &= np.uint64((1 << rbits) - 1)
    return packed.view(np.int64)


def _empty() -> Hits:
    return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
