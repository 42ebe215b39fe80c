"""A sharded index answers exactly as one index does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvis.index import IndexCorrupt, IndexStale, PdqIndex, ShardedPdqIndex
from tests.index_data import queries_near, structured_hashes


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shards=st.integers(1, 5),
       kind=st.sampled_from(["random", "clustered", "low", "mixed"]))
def test_shards_equal_unsharded(seed: int, shards: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    data = structured_hashes(1500, rng, kind)
    ids = rng.integers(-(10**12), 10**12, 1500)
    one, many = PdqIndex.build(ids, data), ShardedPdqIndex.build(shards, ids, data)
    extra = structured_hashes(30, rng, kind)
    for index in (one, many):
        index.add(np.arange(30) + 10**13, extra)
        index.remove(ids[::5])
    queries = queries_near(data, 50, rng)
    assert len(one) == len(many)
    a, b = one.search_batch(queries, 31), many.search_batch(queries, 31)
    assert all(np.array_equal(x, y) for x, y in
               ((a.queries, b.queries), (a.ids, b.ids), (a.distances, b.distances)))


def test_sharded_round_trip_and_mismatch(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    data = structured_hashes(3000, rng, "mixed")
    index = ShardedPdqIndex.build(3, np.arange(3000), data)
    index.save(tmp_path, generation=2)
    loaded = ShardedPdqIndex.load(tmp_path, generation=2)
    assert loaded.search(data[:40], 31) == index.search(data[:40], 31)
    with pytest.raises(IndexStale):
        ShardedPdqIndex.load(tmp_path, generation=3)
    index.shards[1].save(tmp_path / "shard-001", generation=7)  # one shard out of step
    with pytest.raises(IndexStale):
        ShardedPdqIndex.load(tmp_path)
    (tmp_path / "shard-001" / "MANIFEST.json").unlink()
    with pytest.raises(IndexCorrupt):
        ShardedPdqIndex.load(tmp_path)
