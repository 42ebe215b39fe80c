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
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvis.index.hamming import brute_force, hex_to_array, to_words
from cvis.index.ids import member, to_ids
from cvis.index.segment import Segment, build_segment

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


class PdqIndex:
    """Exact PDQ range search; adds and removes take effect immediately."""

    def __init__(self, workers: int | None = None) -> None:
        self.segments: list[Segment] = []
        self.dead: list[np.ndarray] = []  # bool per segment row
        self.delta_ids = np.zeros(0, dtype=np.int64)
        self.delta_words = np.zeros((0, 4), dtype=np.uint64)
        self.workers = workers or os.cpu_count() or 1
        self.generation: int | None = None  # as saved or loaded

    def __len__(self) -> int:
        live = sum(len(s) - int(d.sum()) for s, d in zip(self.segments, self.dead, strict=True))
        return live + int(self.delta_ids.size)

    @classmethod
    def build(cls, ids: Sequence[int] | np.ndarray, hashes: np.ndarray) -> PdqIndex:
        """A compact index of one segment: the fast way to load a whole hash set."""
        index = cls()
        index._append_segment(build_segment(to_ids(ids), to_words(hashes)))
        return index

    def add(self, ids: Sequence[int] | np.ndarray, hashes: np.ndarray) -> None:
        """Matchable on return. Large batches become a segment; small ones go to the delta."""
        ids_, words = to_ids(ids), to_words(hashes)
        if ids_.size != words.shape[0]:
            raise ValueError("ids and hashes differ in length")
        if ids_.size >= DELTA_LIMIT:
            self._append_segment(build_segment(ids_, words))
            self._merge_small()
            return
        self.delta_ids = np.concatenate([self.delta_ids, ids_])
        self.delta_words = np.concatenate([self.delta_words, words])
        if self.delta_ids.size >= DELTA_LIMIT:
            self._freeze_delta()

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        """Unmatchable on return; the rows are dropped for good at the next merge."""
        gone = np.unique(to_ids(ids))
        if gone.size == 0:
            return
        keep = ~member(self.delta_ids, gone)
        self.delta_ids, self.delta_words = self.delta_ids[keep], self.delta_words[keep]
        for segment, dead in zip(self.segments, self.dead, strict=True):
            dead |= member(segment.ids, gone)
        self._merge_small()

    def search(self, queries: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        """For each query, every (id, distance) within threshold (reference-compatible)."""
        qwords = to_words(queries)
        return self.search_batch(qwords, threshold).per_query(qwords.shape[0])

    def search_batch(self, queries: np.ndarray, threshold: int) -> Matches:
        """Every hit as flat arrays; query chunks run on all cores (numpy releases the GIL)."""
        qwords = to_words(queries)
        starts = range(0, qwords.shape[0], QUERY_CHUNK)
        chunks = [(s, qwords[s : s + QUERY_CHUNK]) for s in starts]
        if self.workers > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                parts = list(pool.map(lambda c: self._search_chunk(c[0], c[1], threshold), chunks))
        else:
            parts = [self._search_chunk(s, q, threshold) for s, q in chunks]
        return _concat(parts)  # chunks cover consecutive queries: already in order

    def compact(self) -> None:
        """Rewrite all live entries into one segment: frees removed rows, fastest searches."""
        ids, words = self._live()
        self.segments, self.dead = [], []
        self.delta_ids = np.zeros(0, dtype=np.int64)
        self.delta_words = np.zeros((0, 4), dtype=np.uint64)
        if ids.size:
            self._append_segment(build_segment(ids, words))

    def entries(self) -> tuple[np.ndarray, np.ndarray]:
        """All live (ids, (n, 32) uint8 hashes)."""
        ids, words = self._live()
        return ids, words.view(np.uint8).reshape(-1, 32)

    def save(self, directory: str | Path, generation: int) -> None:
        """Write a new version of the index files; see docs/index.md for the format."""
        from cvis.index.pdq_files import save_pdq

        save_pdq(self, Path(directory), generation)
        self.generation = generation

    @classmethod
    def load(
        cls, directory: str | Path, generation: int | None = None, verify: bool = True
    ) -> PdqIndex:
        """Memory-map saved files; raises IndexCorrupt, or IndexStale when ``generation``
        is given and differs from the saved one: rebuild from the database then."""
        from cvis.index.pdq_files import load_pdq

        return load_pdq(cls(), Path(directory), generation, verify)

    # -- internals ---------------------------------------------------------------------

    def _search_chunk(self, start: int, qwords: np.ndarray, threshold: int) -> Matches:
        queries, ids, dists = [], [], []
        for segment, dead in zip(self.segments, self.dead, strict=True):
            q, rows, d = segment.search(qwords, threshold)
            live = ~dead[rows]
            queries.append(q[live])
            ids.append(segment.ids[rows[live]])
            dists.append(d[live])
        if self.delta_ids.size:
            q, rows, d = brute_force(self.delta_words, qwords, threshold)
            queries.append(q)
            ids.append(self.delta_ids[rows])
            dists.append(d)
        if not queries:
            return _no_matches()
        hits = Matches(np.concatenate(queries) + start, np.concatenate(ids), np.concatenate(dists))
        return merge_matches([hits])  # sorted here, in parallel, not after all chunks

    def _append_segment(self, segment: Segment, dead: np.ndarray | None = None) -> None:
        self.segments.append(segment)
        self.dead.append(np.zeros(len(segment), dtype=bool) if dead is None else dead)

    def _freeze_delta(self) -> None:
        segment = build_segment(self.delta_ids, self.delta_words)
        self.delta_ids = np.zeros(0, dtype=np.int64)
        self.delta_words = np.zeros((0, 4), dtype=np.uint64)
        self._append_segment(segment)
        self._merge_small()

    def _merge_small(self) -> None:
        """Merge the newest segments while similar in size and small (binary-counter
        policy: O(log n) segments, each row rewritten O(log n) times); drop emptied ones."""
        self._drop_empty()
        while len(self.segments) >= 2:
            a, b = self.segments[-2], self.segments[-1]
            if len(a) > 2 * len(b) or len(a) + len(b) > AUTO_MERGE_LIMIT:
                break
            ids, words = _live_rows([a, b], self.dead[-2:])
            del self.segments[-2:], self.dead[-2:]
            if ids.size:
                self._append_segment(build_segment(ids, words))

    def _drop_empty(self) -> None:
        pairs = [(s, d) for s, d in zip(self.segments, self.dead, strict=True) if not d.all()]
        self.segments = [s for s, _ in pairs]
        self.dead = [d for _, d in pairs]

    def _live(self) -> tuple[np.ndarray, np.ndarray]:
        ids, words = _live_rows(self.segments, self.dead)
        return np.concatenate([ids, self.delta_ids]), np.concatenate([words, self.delta_words])


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
