"""PdqIndex returns exactly what brute force returns, on random and crowded data."""

from __future__ import annotations

from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvis.index import BruteForcePdqIndex, PdqIndex
from cvis.index.plan import OFFSETS_FLOOR_BYTES, Layout, choose_layout, flip_masks
from cvis.index.segment import build_segment
from tests.index_data import queries_near, structured_hashes

KINDS = st.sampled_from(["random", "clustered", "low", "mixed"])
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def canon(results: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    return [sorted(r) for r in results]


@FAST
@given(seed=st.integers(0, 2**32 - 1), kind=KINDS, n=st.integers(0, 3000),
       threshold=st.sampled_from([0, 1, 8, 31, 32, 45]))
def test_built_index_equals_brute_force(seed: int, kind: str, n: int, threshold: int) -> None:
    rng = np.random.default_rng(seed)
    data = structured_hashes(n, rng, kind)
    ids = rng.permutation(10 * n + 1)[:n].astype(np.int64) - 5 * n
    queries = queries_near(data, 40, rng)
    ref = BruteForcePdqIndex()
    ref.add(ids, data)
    assert canon(PdqIndex.build(ids, data).search(queries, threshold)) == canon(
        ref.search(queries, threshold))


@FAST
@given(seed=st.integers(0, 2**32 - 1), kind=KINDS, tables=st.integers(1, 32),
       key_bits=st.integers(1, 16), threshold=st.integers(0, 40))
def test_any_layout_is_exact(seed: int, kind: str, tables: int, key_bits: int,
                             threshold: int) -> None:
    """The pigeonhole argument holds for every table count and key width."""
    key_bits = min(key_bits, 256 // tables)
    rng = np.random.default_rng(seed)
    data = structured_hashes(500, rng, kind)
    ids = np.arange(500, dtype=np.int64)
    words = data.view(np.uint64).reshape(-1, 4)
    segment = build_segment(ids, words, Layout(tables, key_bits))
    queries = queries_near(data, 30, rng).view(np.uint64).reshape(-1, 4)
    q, rows, d = segment.search(queries, threshold)
    ref = BruteForcePdqIndex()
    ref.add(ids, data)
    got: list[list[tuple[int, int]]] = [[] for _ in range(30)]
    for qi, r, di in zip(q.tolist(), rows.tolist(), d.tolist(), strict=True):
        got[qi].append((int(segment.ids_at(np.array([r]))[0]), di))
    assert canon(got) == canon(ref.search(queries.view(np.uint8).reshape(-1, 32), threshold))


OPS = st.lists(st.tuples(st.sampled_from(["add", "add", "remove", "search", "compact"]),
                         st.integers(1, 700)), min_size=1, max_size=12)


@FAST
@given(seed=st.integers(0, 2**32 - 1), kind=KINDS, ops=OPS)
def test_interleaved_adds_and_removes_equal_brute_force(seed: int, kind: str,
                                                       ops: list[tuple[str, int]]) -> None:
    rng = np.random.default_rng(seed)
    index, ref, next_id = PdqIndex(workers=2), BruteForcePdqIndex(), 0
    # Small limits so a few hundred hashes already make deltas, segments and merges.
    with mock.patch("cvis.index.pdq_index.DELTA_LIMIT", 64), \
            mock.patch("cvis.index.segment.SCAN_BELOW", 100), \
            mock.patch("cvis.index.pdq_index.AUTO_MERGE_LIMIT", 1200), \
            mock.patch("cvis.index.pdq_index.QUERY_CHUNK", 16):
        for op, size in ops:
            if op == "add":
                data = structured_hashes(size, rng, kind)
                ids = np.arange(next_id, next_id + size)
                next_id += size
                index.add(ids, data)
                ref.add(ids, data)
            elif op == "remove" and next_id:
                gone = rng.integers(0, next_id, size)
                index.remove(gone)
                ref.remove(gone)
            elif op == "compact":
                index.compact()
            stored = ref._words.view(np.uint8).reshape(-1, 32)
            queries = queries_near(stored, 20, rng)
            assert len(index) == len(ref)
            assert canon(index.search(queries, 31)) == canon(ref.search(queries, 31))


def test_search_batch_is_sorted_flat_arrays() -> None:
    rng = np.random.default_rng(1)
    data = structured_hashes(2000, rng, "clustered")
    index = PdqIndex.build(np.arange(2000), data)
    m = index.search_batch(data[:50], 31)
    assert m.queries.dtype == np.int64 and m.ids.dtype == np.int64
    assert np.all(np.diff(m.queries) >= 0)
    assert m.per_query(50) == index.search(data[:50], 31)
    assert all((i, 0) in hits for i, hits in enumerate(m.per_query(50)))


def test_new_hash_matchable_and_removed_unmatchable_at_once() -> None:
    rng = np.random.default_rng(2)
    index = PdqIndex.build(np.arange(5000), structured_hashes(5000, rng, "random"))
    new = structured_hashes(1, rng, "random")
    index.add([99_999], new)
    assert (99_999, 0) in index.search(new, 31)[0]
    index.remove([99_999, 3])
    assert index.search(new, 31) == [[]]
    assert len(index) == 4999


def test_removed_rows_are_freed() -> None:
    """Deletes don't leak: merges and compaction drop the rows for good."""
    rng = np.random.default_rng(3)
    index = PdqIndex()
    for k in range(20):
        index.add(np.arange(k * 1000, k * 1000 + 1000), structured_hashes(1000, rng, "random"))
        index.remove(np.arange(k * 1000, k * 1000 + 1000))
    assert len(index) == 0
    assert sum(len(s) for s in index.segments) + index.delta_ids.size <= 2000
    index.compact()
    assert index.segments == () and index.delta_ids.size == 0


def test_layout_choice_and_masks() -> None:
    assert flip_masks(4, 1).tolist() == [0, 1, 2, 4, 8]
    for n in (10**4, 10**6, 10**7, 10**8):
        layout = choose_layout(n)
        assert sum(r + 1 for r in layout.radii(31)) >= 32
        assert layout.tables * layout.key_bits <= 256
    assert Layout(11, 23).radii(5) == [0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1]


def test_key_width_spends_a_fixed_budget_on_small_sets_and_a_byte_a_hash_on_large() -> None:
    """At 2 M hashes the keys are as wide as log2(n) (fewer candidates a query, offsets
    within the fixed budget); at 10 M and 100 M the offsets stay near a byte a hash a table."""
    def offsets(layout: Layout) -> int:
        return layout.tables * 4 << layout.key_bits

    small = choose_layout(2_000_000)
    assert small.key_bits == 21 and offsets(small) <= OFFSETS_FLOOR_BYTES
    for n in (10**7, 10**8):
        layout = choose_layout(n)
        assert 4 << layout.key_bits <= n and layout.key_bits < small.key_bits + 3
    assert choose_layout(10**4).tables * 4 << choose_layout(10**4).key_bits < 2 << 20


def test_searches_run_while_a_writer_adds_and_removes() -> None:
    """Readers see a consistent snapshot: every stable entry is always found."""
    import threading

    rng = np.random.default_rng(9)
    stable = structured_hashes(3000, rng, "random")
    index = PdqIndex.build(np.arange(3000), stable)
    stop, errors = threading.Event(), []

    def writer() -> None:
        k = 10_000
        while not stop.is_set():
            index.add(np.arange(k, k + 300), structured_hashes(300, rng, "random"))
            index.remove(np.arange(k - 300, k))
            k += 300

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(30):
            hits = index.search(stable[:100], 0)
            errors += [i for i in range(100) if (i, 0) not in hits[i]]
    finally:
        stop.set()
        thread.join()
    assert errors == []


def test_radius_edges_are_exact_in_every_table() -> None:
    """A hash exactly ``threshold`` bits away, spread so that only one table's substring is
    within that table's probe radius, is found (by that table); one bit more and it is not."""
    rng = np.random.default_rng(11)
    data = structured_hashes(4000, rng, "random")
    ids = np.arange(4000, dtype=np.int64) + 10**12  # far from zero: stored as offsets
    for layout, threshold in ((Layout(12, 21), 31), (Layout(16, 16), 31), (Layout(5, 9), 20)):
        segment = build_segment(ids, data.view(np.uint64).reshape(-1, 4), layout)
        radii = layout.radii(threshold)
        queries, extra = [], []
        for catcher in range(layout.tables):
            if radii[catcher] < 0:
                continue
            bits = np.zeros(256, dtype=bool)
            for table, radius in enumerate(radii):
                flips = radius if table == catcher else radius + 1
                if flips > 0:
                    start = table * layout.key_bits
                    bits[start + rng.choice(layout.key_bits, flips, replace=False)] = True
            row = int(rng.integers(0, 4000))
            query = data[row] ^ np.packbits(bits, bitorder="little")
            queries.append((row, query))
            beyond = bits.copy()  # one more bit, outside every probed substring if possible
            beyond[int(np.flatnonzero(~beyond)[-1])] = True
            extra.append((row, data[row] ^ np.packbits(beyond, bitorder="little")))
        for (row, query), (_, far) in zip(queries, extra, strict=True):
            words = np.stack([query, far]).view(np.uint64).reshape(-1, 4)
            q, rows, d = segment.search(words, threshold)
            found = segment.ids_at(rows) - 10**12  # stored rows are in table-0 order
            assert (0, row, threshold) in set(zip(q.tolist(), found.tolist(), d.tolist(),
                                                  strict=True))
            assert row not in found[q == 1].tolist()


def test_wide_and_negative_ids_round_trip() -> None:
    """Ids spanning 2**32 or more are kept as int64; narrower spans as 32-bit offsets."""
    rng = np.random.default_rng(12)
    data = structured_hashes(3000, rng, "mixed")
    for ids in (np.arange(3000) * (2**40) - 2**62, np.arange(3000) - 2**40,
                np.arange(3000)[::-1] * 1_400_000 + 5):  # span just under 2**32
        index = PdqIndex.build(ids, data)
        segment = index.segments[0]
        assert segment.id_codes.dtype == (np.int64 if np.ptp(ids) >= 2**32 else np.uint32)
        got = index.search(data[:20], 0)
        assert all((int(ids[i]), 0) in got[i] for i in range(20))
        ref = BruteForcePdqIndex()
        ref.add(ids, data)
        assert canon(index.search(data[:20], 31)) == canon(ref.search(data[:20], 31))


def test_index_memory_per_hash() -> None:
    """Issue 17: a million hashes take under 80 bytes each (117 before: int64 ids, uint32
    row numbers, a byte per removal flag, 4 bytes of offsets per hash per table)."""
    rng = np.random.default_rng(13)
    n = 1_000_000
    index = PdqIndex.build(np.arange(n), rng.integers(0, 256, (n, 32), dtype=np.uint8))
    segment, dead = index.segments[0], index.dead[0]
    # besides the key offsets, which a set this small may spend up to a fixed budget on
    offsets = segment.offsets.nbytes
    assert offsets <= OFFSETS_FLOOR_BYTES + 4 * segment.layout.tables
    assert (segment.nbytes - offsets + dead.nbytes) / n < 64
    assert segment.id_codes.dtype == np.uint32 and dead.nbytes == n // 8
