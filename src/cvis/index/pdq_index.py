"""Exact Hamming range search over PDQ hashes, fast, incremental and persistent.

Contract (kept by every implementation): ``search`` returns, for each query, every
stored entry within ``threshold`` bits, with its distance: exact, never an
approximate miss. Entries are identified by caller-chosen int64 ids.

Structure (a small log-structured merge tree): immutable multi-index-hashing
``Segment``s, a small brute-force ``delta`` that takes adds at once, and a per-segment
``dead`` mask that takes removes at once. Full deltas freeze into segments; small
segments of similar size merge; ``compact()`` rewrites everything into one segment.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from cvis.index.hamming import brute_force, hex_to_array, to_words
from cvis.index.ids import member, to_ids
from cvis.index.pdq_files import PdqParts, load_pdq, save_pdq
from cvis.index.segment import Segment, build_segment
from cvis.index.storage import IndexCorrupt

__all__ = ["Matches", "PdqIndex", "hex_to_array"]

DELTA_LIMIT = 1024
AUTO_MERGE_LIMIT = 1 << 18
QUERY_CHUNK = 256


@dataclass(frozen=True)
class Matches:
    """Flat batch result: hit ``k`` is stored entry ``ids[k]`` at ``distances[k]`` bits from
    query number ``queries[k]``; sorted by query, then distance, then id."""

    queries: np.ndarray  # int64
    ids: np.ndarray  # int64
    distances: np.ndarray  # int32

    def __len__(self) -> int:
        return int(self.ids.size)

    def per_query(self, count: int) -> list[list[tuple[int, int]]]:
        """The same hits as one list of (id, distance) per query."""
        out: list[list[tuple[int, int]]] = [[] for _ in range(count)]
        for q, i, d in zip(self.queries.tolist(), self.ids.tolist(), self.distances.tolist(),
                           strict=True):
            out[q].append((i, d))
        return out


@dataclass(frozen=True)
class _State:
    """One consistent view for readers: writers build a new one and swap it in whole."""

    segments: tuple[Segment, ...] = ()
    dead: tuple[np.ndarray, ...] = ()  # bool per segment row; set in place by remove
    delta_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    delta_words: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.uint64))


class PdqIndex:
    """Exact PDQ range search; adds and removes take effect immediately.

    Searches may run in any number of threads while one writer adds or removes: each
    search reads one immutable snapshot. Writers are serialised by a lock.
    """

    def __init__(self, workers: int | None = None) -> None:
        self._state = _State()
        self._write = threading.Lock()
        self.workers = workers or os.cpu_count() or 1
        self.generation: int | None = None  # as saved or loaded

    def __len__(self) -> int:
        st = self._state
        live = sum(len(s) - int(d.sum()) for s, d in zip(st.segments, st.dead, strict=True))
        return live + int(st.delta_ids.size)

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self._state.segments

    @property
    def dead(self) -> tuple[np.ndarray, ...]:
        return self._state.dead

    @property
    def delta_ids(self) -> np.ndarray:
        return self._state.delta_ids

    @property
    def delta_words(self) -> np.ndarray:
        return self._state.delta_words

    @classmethod
    def build(cls, ids: Sequence[int] | np.ndarray, hashes: np.ndarray) -> PdqIndex:
        """A compact index of one segment: the fast way to load a whole hash set."""
        index = cls()
        index.restore([build_segment(to_ids(ids), to_words(hashes))])
        return index

    def restore(self, segments: list[Segment], dead: list[np.ndarray] | None = None,
                delta: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Replace the whole content (used by build and load)."""
        dead = dead or [np.zeros(len(s), dtype=bool) for s in segments]
        state = _State(tuple(segments), tuple(dead))
        if delta is not None:
            state = replace(state, delta_ids=delta[0], delta_words=delta[1])
        self._state = state

    def add(self, ids: Sequence[int] | np.ndarray, hashes: np.ndarray) -> None:
        """Matchable on return. Large batches become a segment; small ones go to the delta."""
        ids_, words = to_ids(ids), to_words(hashes)
        if ids_.size != words.shape[0]:
            raise ValueError("ids and hashes differ in length")
        with self._write:
            st = self._state
            if ids_.size >= DELTA_LIMIT:
                st = _with_segment(st, build_segment(ids_, words))
            else:
                st = replace(st, delta_ids=np.concatenate([st.delta_ids, ids_]),
                             delta_words=np.concatenate([st.delta_words, words]))
                if st.delta_ids.size >= DELTA_LIMIT:
                    st = _with_segment(_State(st.segments, st.dead),
                                       build_segment(st.delta_ids, st.delta_words))
            self._state = _merge_small(st)

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        """Unmatchable on return; the rows are dropped for good at the next merge."""
        gone = np.unique(to_ids(ids))
        if gone.size == 0:
            return
        with self._write:
            st = self._state
            for segment, dead in zip(st.segments, st.dead, strict=True):
                dead |= member(segment.ids, gone)
            keep = ~member(st.delta_ids, gone)
            st = replace(st, delta_ids=st.delta_ids[keep], delta_words=st.delta_words[keep])
            self._state = _merge_small(st)

    def search(self, queries: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        """For each query, every (id, distance) within threshold (reference-compatible)."""
        qwords = to_words(queries)
        return self.search_batch(qwords, threshold).per_query(qwords.shape[0])

    def search_batch(self, queries: np.ndarray, threshold: int) -> Matches:
        """Every hit as flat arrays; query chunks run on all cores (numpy releases the GIL)."""
        qwords, st = to_words(queries), self._state
        starts = range(0, qwords.shape[0], QUERY_CHUNK)
        chunks = [(s, qwords[s : s + QUERY_CHUNK]) for s in starts]
        if self.workers > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                parts = list(pool.map(lambda c: _search_chunk(st, c[0], c[1], threshold),
                                      chunks))
        else:
            parts = [_search_chunk(st, s, q, threshold) for s, q in chunks]
        return _concat(parts)  # chunks cover consecutive queries: already in order

    def compact(self) -> None:
        """Rewrite all live entries into one segment: frees removed rows, fastest searches."""
        with self._write:
            ids, words = _live(self._state)
            self._state = _with_segment(_State(), build_segment(ids, words)) if ids.size \
                else _State()

    def entries(self) -> tuple[np.ndarray, np.ndarray]:
        """All live (ids, (n, 32) uint8 hashes)."""
        ids, words = _live(self._state)
        return ids, words.view(np.uint8).reshape(-1, 32)

    def save(self, directory: str | Path, generation: int) -> None:
        """Write a new version of the index files; see docs/index.md for the format."""
        with self._write:
            st = self._state
            save_pdq(PdqParts(list(st.segments), list(st.dead), st.delta_ids, st.delta_words,
                              len(self)), Path(directory), generation)
            self.generation = generation

    @classmethod
    def load(
        cls, directory: str | Path, generation: int | None = None, verify: bool = True
    ) -> PdqIndex:
        """Memory-map saved files; raises IndexCorrupt, or IndexStale when ``generation``
        is given and differs from the saved one: rebuild from the database then."""
        parts = load_pdq(Path(directory), generation, verify)
        index = cls()
        index.restore(parts.segments, parts.dead, (parts.delta_ids, parts.delta_words))
        if len(index) != parts.count:
            raise IndexCorrupt(f"{directory}: {len(index)} live entries, manifest says "
                               f"{parts.count}")
        index.generation = parts.generation
        return index


def _search_chunk(st: _State, start: int, qwords: np.ndarray, threshold: int) -> Matches:
    queries, ids, dists = [], [], []
    for segment, dead in zip(st.segments, st.dead, strict=True):
        q, rows, d = segment.search(qwords, threshold)
        live = ~dead[rows]
        queries.append(q[live])
        ids.append(segment.ids[rows[live]])
        dists.append(d[live])
    if st.delta_ids.size:
        q, rows, d = brute_force(st.delta_words, qwords, threshold)
        queries.append(q)
        ids.append(st.delta_ids[rows])
        dists.append(d)
    if not queries:
        return _no_matches()
    hits = Matches(np.concatenate(queries) + start, np.concatenate(ids), np.concatenate(dists))
    return merge_matches([hits])  # sorted here, in parallel, not after all chunks


def _with_segment(st: _State, segment: Segment) -> _State:
    return replace(st, segments=(*st.segments, segment),
                   dead=(*st.dead, np.zeros(len(segment), dtype=bool)))


def _merge_small(st: _State) -> _State:
    """Drop emptied segments; merge the newest while similar in size and small
    (binary-counter policy: O(log n) segments, each row rewritten O(log n) times)."""
    pairs = [(s, d) for s, d in zip(st.segments, st.dead, strict=True) if not d.all()]
    while len(pairs) >= 2:
        (a, da), (b, db) = pairs[-2], pairs[-1]
        if len(a) > 2 * len(b) or len(a) + len(b) > AUTO_MERGE_LIMIT:
            break
        ids, words = _live_rows([a, b], [da, db])
        merged = build_segment(ids, words)
        pairs[-2:] = [(merged, np.zeros(len(merged), dtype=bool))]
    return replace(st, segments=tuple(p[0] for p in pairs), dead=tuple(p[1] for p in pairs))


def _live(st: _State) -> tuple[np.ndarray, np.ndarray]:
    ids, words = _live_rows(list(st.segments), list(st.dead))
    return np.concatenate([ids, st.delta_ids]), np.concatenate([words, st.delta_words])


def _live_rows(segments: list[Segment], dead: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    ids = [s.ids[~d] for s, d in zip(segments, dead, strict=True)]
    words = [s.words[~d] for s, d in zip(segments, dead, strict=True)]
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 4), dtype=np.uint64)
    return np.concatenate(ids), np.concatenate(words)


def merge_matches(parts: list[Matches]) -> Matches:
    """One Matches sorted by (query, distance, id) from those of query chunks or shards."""
    if not parts:
        return _no_matches()
    q = np.concatenate([p.queries for p in parts])
    i = np.concatenate([p.ids for p in parts])
    d = np.concatenate([p.distances for p in parts])
    order = np.lexsort((i, q * 257 + d))
    return Matches(q[order], i[order], d[order])


def _concat(parts: list[Matches]) -> Matches:
    if not parts:
        return _no_matches()
    return Matches(*(np.concatenate(col) for col in
                     zip(*((p.queries, p.ids, p.distances) for p in parts), strict=True)))


def _no_matches() -> Matches:
    return Matches(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
