"""The multi-index probe-and-verify loop, compiled (numba): the index's inner loop.

In numpy every probe is a gather of arrays and every candidate a row of temporaries; per
query that cost is paid once per table and per probe, and it dominated both a single
service lookup and a 20,000-query `cvis lookup` (issue 17). Compiled, a candidate costs a
few instructions: four popcounts, and the check that no earlier table could see it (each
(query, row) pair is reported once, by the first table whose radius covers it).

Compiled on first use and cached beside this file (or in ``NUMBA_CACHE_DIR``); the GIL is
released, so query chunks run on all cores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

_GROW = 2


@intrinsic
def _ctpop(typingctx, value):
    """Set bits of a uint64: LLVM's ctpop, one instruction on any x86-64 since 2008."""
    signature = types.uint64(types.uint64)

    def codegen(context, builder, sig, args):
        return builder.ctpop(args[0])

    return signature, codegen


_popcount: Callable[[np.uint64], np.uint64] = _ctpop  # type: ignore[assignment]


@njit(inline="always")
def _key(w0: np.uint64, w1: np.uint64, w2: np.uint64, w3: np.uint64, table: int,
         bits: int) -> np.uint64:
    """Substring ``table`` (bits [table*bits, (table+1)*bits)) of a hash's four words."""
    start = table * bits
    word = start >> 6
    shift = np.uint64(start & 63)
    if word == 0:
        low, high = w0, w1
    elif word == 1:
        low, high = w1, w2
    elif word == 2:
        low, high = w2, w3
    else:
        low, high = w3, np.uint64(0)
    key = low >> shift
    if (start & 63) + bits > 64:
        key |= high << (np.uint64(64) - shift)
    return key & ((np.uint64(1) << np.uint64(bits)) - np.uint64(1))


@njit(nogil=True, cache=True)
def probe_segment(first: np.ndarray, second: np.ndarray, offsets: np.ndarray, perm: np.ndarray,
                  row_bits: int, key_bits: int, radii: np.ndarray, masks: np.ndarray,
                  mask_counts: np.ndarray, qwords: np.ndarray, threshold: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (query, row, distance) within ``threshold``, each pair once, grouped by query;
    ``first`` and ``second`` are the rows' hash halves (words 0-1 and 2-3), (n, 2) each.

    ``masks`` holds the XOR masks of the widest radius, fewest bits first, so a table of
    radius r probes the first ``mask_counts[t]`` of them. (Prefetching candidates' hashes
    in batches was measured slower: 10.3 against 6.9 CPU-s at 2 M hashes, 20,000 queries;
    an LLVM prefetch of the bucket bounds 4-32 probes ahead gained nothing measurable on a
    Xeon with AVX-512: 2.8-2.9 CPU-s either way, one thread, 2026-12-01.)
    """
    tables = radii.shape[0]
    capacity = 1024
    out_q = np.empty(capacity, np.int64)
    out_r = np.empty(capacity, np.int64)
    out_d = np.empty(capacity, np.int32)
    found = 0
    row_mask = (np.uint64(1) << np.uint64(row_bits)) - np.uint64(1)
    for q in range(qwords.shape[0]):
        q0, q1, q2, q3 = qwords[q, 0], qwords[q, 1], qwords[q, 2], qwords[q, 3]
        for t in range(tables):
            key = _key(q0, q1, q2, q3, t, key_bits)
            table_offsets = offsets[t]
            for m in range(mask_counts[t]):
                probe = np.int64(key ^ masks[m])
                start = np.int64(table_offsets[probe])
                stop = np.int64(table_offsets[probe + 1])
                for slot in range(start, stop):
                    if t == 0:
                        row = np.int64(slot)
                    else:
                        bit = slot * row_bits
                        word = bit >> 6
                        shift = np.uint64(bit & 63)
                        value = perm[t - 1, word] >> shift
                        if (bit & 63) + row_bits > 64:
                            value |= perm[t - 1, word + 1] << (np.uint64(64) - shift)
                        row = np.int64(value & row_mask)
                    d0 = first[row, 0] ^ q0
                    d1 = first[row, 1] ^ q1
                    distance = np.int64(_popcount(d0) + _popcount(d1))
                    if distance > threshold:  # most candidates: the other half not read
                        continue
                    d2 = second[row, 0] ^ q2
                    d3 = second[row, 1] ^ q3
                    distance += np.int64(_popcount(d2) + _popcount(d3))
                    if distance > threshold or _seen_earlier(d0, d1, d2, d3, t, key_bits,
                                                             radii):
                        continue
                    if found == capacity:
                        capacity *= _GROW
                        out_q = _grown(out_q, capacity)
                        out_r = _grown(out_r, capacity)
                        out_d = _grown(out_d, capacity)
                    out_q[found] = q
                    out_r[found] = row
                    out_d[found] = distance
                    found += 1
    return out_q[:found].copy(), out_r[:found].copy(), out_d[:found].copy()


@njit(inline="always")
def _seen_earlier(d0: np.uint64, d1: np.uint64, d2: np.uint64, d3: np.uint64, table: int,
                  key_bits: int, radii: np.ndarray) -> bool:
    """Whether an earlier table also reports this hit (its substring of the difference is
    within that table's radius): each (query, row) pair is reported by the first only."""
    for earlier in range(table):
        if radii[earlier] >= 0 and np.int64(
                _popcount(_key(d0, d1, d2, d3, earlier, key_bits))) <= radii[earlier]:
            return True
    return False


@njit(nogil=True, cache=True)
def _grown(values: np.ndarray, capacity: int) -> np.ndarray:
    bigger = np.empty(capacity, values.dtype)
    bigger[: values.shape[0]] = values
    return bigger


def warm_up() -> None:
    """Compile ``probe_segment`` (or load it from numba's cache) for both kinds of arrays a
    search meets, saved (read-only, memory-mapped) and built in memory, so that a served
    worker's first PDQ lookup does not wait seconds for the compiler."""
    masks = np.zeros(1, np.uint64)
    masks.setflags(write=False)  # as plan.flip_masks hands them out
    for writable in (True, False):
        first, second = np.zeros((1, 2), np.uint64), np.zeros((1, 2), np.uint64)
        offsets, perm = np.zeros((1, 3), np.uint32), np.zeros((0, 1), np.uint64)
        for array in (first, second, offsets, perm):
            array.setflags(write=writable)
        probe_segment(first, second, offsets, perm, 1, 1, np.zeros(1, np.int64), masks,
                      np.ones(1, np.int64), np.zeros((1, 4), np.uint64), 0)
