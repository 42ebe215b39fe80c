"""Compact integer and flag arrays for index segments: row numbers in just as many bits as
the segment needs (24 at 10 M rows, 27 at 100 M) and one bit per removal flag.

A table of row numbers is the index's main cost beyond the hashes themselves; packing it
at ``ceil(log2(rows))`` bits instead of 32 saves a quarter or more of it.
"""

from __future__ import annotations

import numpy as np

_CHUNK = 1 << 22  # values packed at a time (a multiple of 64: chunks start on a word)


def row_bits(rows: int) -> int:
    """Bits that hold every row number of a segment of ``rows`` rows."""
    return max(1, (rows - 1).bit_length())


def packed_words(count: int, bits: int) -> int:
    """uint64 words that hold ``count`` values of ``bits`` bits, plus one for reads past
    the last value (a read always takes two neighbouring words)."""
    return (count * bits + 63) // 64 + 1


def pack_into(out: np.ndarray, values: np.ndarray, bits: int, first: int = 0) -> None:
    """Write ``values`` (< 2**bits, ``first`` a multiple of 64) at value positions
    ``first...`` of ``out``, whose bits there must be clear."""
    if first % 64:
        raise ValueError("pack_into starts on a multiple of 64 values")
    for start in range(0, values.size, _CHUNK):
        part = np.asarray(values[start : start + _CHUNK]).astype(np.uint64)
        pos = np.arange(part.size, dtype=np.uint64) * np.uint64(bits)
        shift = pos & np.uint64(63)
        word = (pos >> np.uint64(6)).astype(np.int64) + (first + start) * bits // 64
        low = part << shift
        # Values do not overlap, so OR-ing all that start in a word is one reduceat.
        begins = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
        out[word[begins]] |= np.bitwise_or.reduceat(low, begins)
        spill = np.flatnonzero(shift + np.uint64(bits) > np.uint64(64))
        if spill.size:  # the high part of a value that crosses into the next word
            high = part[spill] >> (np.uint64(64) - shift[spill])
            out[word[spill] + 1] |= high


def pack(values: np.ndarray, bits: int) -> np.ndarray:
    out = np.zeros(packed_words(values.size, bits), dtype=np.uint64)
    pack_into(out, values, bits)
    return out


def unpack_at(packed: np.ndarray, bits: int, index: np.ndarray) -> np.ndarray:
    """Values number ``index`` (int64 array) of a packed array, as int64."""
    word = index * bits
    shift = (word & 63).astype(np.uint64)
    word >>= 6
    low = np.take(packed, word)
    word += 1
    high = np.take(packed, word)
    low >>= shift
    # (x << 1) << (63 - s) is x << (64 - s) without the undefined shift by 64 when s == 0
    high <<= np.uint64(1)
    np.subtract(np.uint64(63), shift, out=shift)
    high <<= shift
    low |= high
    low &= np.uint64((1 << bits) - 1)
    return low.view(np.int64)


def unpack(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    out = np.empty(count, dtype=np.int64)
    for start in range(0, count, _CHUNK):
        stop = min(count, start + _CHUNK)
        out[start:stop] = unpack_at(packed, bits, np.arange(start, stop, dtype=np.int64))
    return out


# Removal flags: bit r % 8 of byte r // 8 (little bit order), set in place by removals.

def no_flags(rows: int) -> np.ndarray:
    return np.zeros((rows + 7) // 8, dtype=np.uint8)


def flags_of(mask: np.ndarray) -> np.ndarray:
    return np.packbits(mask, bitorder="little")


def flag_at(flags: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Flag of each row (bool)."""
    return ((np.take(flags, rows >> 3) >> (rows & 7).astype(np.uint8)) & 1).astype(bool)


def flag_mask(flags: np.ndarray, rows: int) -> np.ndarray:
    return np.unpackbits(flags, count=rows, bitorder="little").astype(bool)


def flag_count(flags: np.ndarray) -> int:
    return int(np.bitwise_count(flags).sum(dtype=np.int64))
