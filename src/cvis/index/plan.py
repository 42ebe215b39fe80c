"""How a segment splits 256 bits into substrings, and how far a query probes each one.

Multi-index hashing rests on the pigeonhole principle: if two hashes differ in at most
``t`` bits and the bits are cut into ``m`` disjoint substrings, then some substring ``i``
differs in at most ``r_i`` bits whenever ``sum(r_i + 1) >= t + 1``. Probing every key
within ``r_i`` of the query's substring in every table therefore finds every hash within
``t``: the search is exact, never approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

from cvis.index.hamming import HASH_BITS, word_column

DESIGN_THRESHOLD = 31
MAX_KEY_BITS = 24
MIN_KEY_BITS = 4
# Keys this many bits narrower than log2(n): 2**bits offsets of 4 bytes are <= 1 byte/hash.
OFFSET_SLACK_BITS = 2
# ...except that the offsets of all tables together may always take this much: a set of a
# few million hashes gets keys up to ceil(log2(n)) bits wide (fewer candidates a query) for
# a fixed cost that is small beside the process; at 10 M and beyond the byte-a-hash rule
# is the wider one, so large indexes stay as lean as before.
OFFSETS_FLOOR_BYTES = 128 << 20
# Beyond this many probe keys per query a table scan is cheaper than probing.
MAX_PROBES_PER_QUERY = 40_000
# Relative costs (from measurement) of one probed key and one verified candidate.
PROBE_COST = 1.0
CANDIDATE_COST = 2.5


@dataclass(frozen=True)
class Layout:
    """``tables`` contiguous substrings of ``key_bits`` bits each, starting at bit 0."""

    tables: int
    key_bits: int

    def radii(self, threshold: int) -> list[int]:
        """Per-table probe radius for a query threshold (-1: table not probed)."""
        need = threshold + 1
        base, extra = divmod(need, self.tables)
        return [base if i < extra else base - 1 for i in range(self.tables)]

    def probes(self, threshold: int) -> int:
        return sum(probe_count(self.key_bits, r) for r in self.radii(threshold))


def probe_count(bits: int, radius: int) -> int:
    return sum(comb(bits, k) for k in range(radius + 1)) if radius >= 0 else 0


def choose_layout(n: int, threshold: int = DESIGN_THRESHOLD) -> Layout:
    """The layout with the least expected work per query on ``n`` uniform hashes.

    Key width is capped so that a table's offset array (2**bits entries of 4 bytes) takes
    at most about one byte per hash (about four hashes a key), or, when that is wider, so
    that all tables' offsets fit in ``OFFSETS_FLOOR_BYTES``. Wider keys would be faster on
    random queries but cost up to four bytes per hash per table (issue 17).
    """
    best: tuple[float, Layout] | None = None
    for tables in range(1, HASH_BITS // MIN_KEY_BITS + 1):
        bits = min(key_bits_cap(n, tables), HASH_BITS // tables)
        layout = Layout(tables, bits)
        probes = layout.probes(threshold)
        if probes > MAX_PROBES_PER_QUERY:
            continue
        cost = probes * PROBE_COST + probes * n / 2**bits * CANDIDATE_COST
        if best is None or cost < best[0]:
            best = (cost, layout)
    assert best is not None
    return best[1]


def key_bits_cap(n: int, tables: int) -> int:
    """The widest key ``choose_layout`` allows for ``n`` hashes in ``tables`` tables."""
    log2 = np.log2(max(n, 2))
    lean = int(log2) - OFFSET_SLACK_BITS
    floor = min(int(np.ceil(log2)), int(np.log2(OFFSETS_FLOOR_BYTES / (4 * tables))))
    return max(MIN_KEY_BITS, min(MAX_KEY_BITS, max(lean, floor)))


@lru_cache(maxsize=256)
def flip_masks(bits: int, radius: int) -> np.ndarray:
    """Every ``bits``-wide XOR mask with at most ``radius`` bits set, as uint64."""
    masks = [0]
    for k in range(1, radius + 1):
        for positions in combinations(range(bits), k):
            masks.append(sum(1 << p for p in positions))
    out = np.array(masks, dtype=np.uint64)
    out.setflags(write=False)
    return out


def substring(words: np.ndarray, table: int, bits: int) -> np.ndarray:
    """Key of substring ``table`` (bits [table*bits, (table+1)*bits)) of each row, as int64
    (bit k of a hash is bit k % 64 of its little-endian word k // 64). ``words`` is (n, 4)
    or a segment's halves, (2, n, 2): words 0-1 of every row, then words 2-3."""
    start = table * bits
    word, shift = divmod(start, 64)
    mask = np.uint64((1 << bits) - 1)
    key = word_column(words, word) >> np.uint64(shift)  # a new array, worked on in place:
    if shift + bits > 64:                      # one temporary of n words at most (100 M rows)
        key |= word_column(words, word + 1) << np.uint64(64 - shift)
    key &= mask
    return key.view(np.int64)
