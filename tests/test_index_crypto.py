"""CryptoIndex answers exactly as a dict of digest -> ids does."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cvis.index import CryptoIndex

WIDTHS = st.sampled_from([16, 20, 32])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ops=st.lists(
    st.tuples(st.sampled_from(["add", "add", "remove", "compact"]), st.integers(1, 300)),
    min_size=1, max_size=10))
def test_crypto_index_equals_dict(seed: int, ops: list[tuple[str, int]]) -> None:
    rng = np.random.default_rng(seed)
    index, ref, next_id = CryptoIndex(), defaultdict(list), 0
    pool = [rng.bytes(int(w)) for w in rng.choice([16, 20, 32], 400)]
    # Digests sharing their first 8 bytes exercise the check of the other words.
    pool += [pool[0][:8] + rng.bytes(8) for _ in range(20)]
    with mock.patch("cvis.index.crypto_index.MIN_DELTA", 50):
        for op, size in ops:
            if op == "add":
                chosen = [pool[i] for i in rng.integers(0, len(pool), size)]
                ids = list(range(next_id, next_id + size))
                next_id += size
                index.add(ids, chosen)
                for i, d in zip(ids, chosen, strict=True):
                    ref[d].append(i)
            elif op == "remove":
                gone = set(rng.integers(0, next_id + 1, size).tolist())
                index.remove(gone)
                ref = defaultdict(list, {d: [i for i in v if i not in gone] for d, v in
                                         ref.items()})
            else:
                index.compact()
            queries = pool + [rng.bytes(20)]
            assert index.lookup(queries) == [sorted(ref.get(d, [])) for d in queries]
            assert len(index) == sum(len(v) for v in ref.values())


def test_lookup_batch_arrays() -> None:
    index = CryptoIndex()
    digests = [hashlib.sha256(str(i).encode()).digest() for i in range(1000)]
    index.add(np.arange(1000) * 2, digests)
    q, ids = index.lookup_batch([digests[10], b"\0" * 32, digests[3]])
    assert q.tolist() == [0, 2] and ids.tolist() == [20, 6]
