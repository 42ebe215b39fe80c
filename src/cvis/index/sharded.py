"""PDQ index split into N shards by id, queried together and merged.

In-process here. A deployment that outgrows one machine runs each shard (or group of
shards) in its own process or host, each loading only its ``shard-NNN`` folder, and a
front end that fans a query batch out and merges results the way ``search_batch`` does:
the merge is a concatenation, since shards hold disjoint ids (see docs/index.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cvis.index.hamming import to_words
from cvis.index.ids import to_ids
from cvis.index.pdq_index import Matches, PdqIndex, merge_matches
from cvis.index.storage import IndexCorrupt, IndexMissing, read_version, write_version

KIND = "cvis-pdq-shards"


def shard_of(ids: np.ndarray, shards: int) -> np.ndarray:
    """Shard number of each id: a stable function of the id alone (ids never move)."""
    return np.mod(ids, shards)


class ShardedPdqIndex:
    """Same search/add/remove contract as PdqIndex, over ``len(shards)`` PdqIndexes."""

    def __init__(self, shards: int | list[PdqIndex]) -> None:
        self.shards = [PdqIndex() for _ in range(shards)] if isinstance(shards, int) else shards
        self.generation: int | None = None

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    @classmethod
    def build(cls, shards: int, ids: Sequence[int] | np.ndarray,
              hashes: np.ndarray) -> ShardedPdqIndex:
        ids_, words = to_ids(ids), to_words(hashes)
        where = shard_of(ids_, shards)
        return cls([PdqIndex.build(ids_[where == k], words[where == k]) for k in range(shards)])

    def add(self, ids: Sequence[int] | np.ndarray, hashes: np.ndarray) -> None:
        ids_, words = to_ids(ids), to_words(hashes)
        where = shard_of(ids_, len(self.shards))
        for k, shard in enumerate(self.shards):
            if np.any(where == k):
                shard.add(ids_[where == k], words[where == k])

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        ids_ = to_ids(ids)
        where = shard_of(ids_, len(self.shards))
        for k, shard in enumerate(self.shards):
            shard.remove(ids_[where == k])

    def search(self, queries: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        qwords = to_words(queries)
        return self.search_batch(qwords, threshold).per_query(qwords.shape[0])

    def search_batch(self, queries: np.ndarray, threshold: int) -> Matches:
        qwords = to_words(queries)
        return merge_matches([s.search_batch(qwords, threshold) for s in self.shards])

    def compact(self) -> None:
        for shard in self.shards:
            shard.compact()

    def save(self, directory: str | Path, generation: int) -> None:
        """Each shard in ``shard-NNN/`` (a PdqIndex directory), then the top manifest."""
        root = Path(directory)
        for k, shard in enumerate(self.shards):
            shard.save(root / f"shard-{k:03d}", generation)
        write_version(root, KIND, generation, {}, {"shards": len(self.shards)})
        self.generation = generation

    @classmethod
    def load(cls, directory: str | Path, generation: int | None = None,
             verify: bool = True) -> ShardedPdqIndex:
        root = Path(directory)
        meta, _ = read_version(root, KIND, generation, verify)
        count, saved = int(meta["shards"]), int(meta["generation"])
        try:  # every shard must be of the generation the top manifest names
            shards = [PdqIndex.load(root / f"shard-{k:03d}", saved, verify) for k in range(count)]
        except IndexMissing as exc:
            raise IndexCorrupt(f"{root}: a shard is missing: {exc}") from exc
        index = cls(shards)
        index.generation = saved
        return index
