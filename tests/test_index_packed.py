"""Bit-packed row numbers and removal flags read back exactly what was written."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cvis.index.packed import (
    flag_at,
    flag_count,
    flag_mask,
    flags_of,
    pack,
    pack_into,
    packed_words,
    row_bits,
    unpack,
    unpack_at,
)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), bits=st.integers(1, 32), count=st.integers(0, 3000))
def test_pack_round_trip(seed: int, bits: int, count: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 1 << bits, count, dtype=np.int64)
    if count:
        values[-1] = (1 << bits) - 1  # every bit of the last value, next to the end
    packed = pack(values, bits)
    assert packed.size == packed_words(count, bits)
    assert np.array_equal(unpack(packed, bits, count), values)
    if count:
        index = rng.integers(0, count, 500)
        assert np.array_equal(unpack_at(packed, bits, index), values[index])


def test_pack_in_parts_and_row_bits() -> None:
    values = np.arange(1000, dtype=np.int64) * 7919 % 1024
    whole = pack(values, 10)
    parts = np.zeros_like(whole)
    pack_into(parts, values[:640], 10)
    pack_into(parts, values[640:], 10, first=640)
    assert np.array_equal(parts, whole)
    assert [row_bits(n) for n in (1, 2, 3, 2**24, 2**24 + 1, 10**8)] == [1, 1, 2, 24, 25, 27]


def test_flags() -> None:
    rng = np.random.default_rng(3)
    mask = rng.random(1001) < 0.2
    flags = flags_of(mask)
    assert flags.nbytes == 126
    assert np.array_equal(flag_mask(flags, 1001), mask)
    assert np.array_equal(flag_at(flags, np.arange(1001)), mask)
    assert flag_count(flags) == int(mask.sum())
