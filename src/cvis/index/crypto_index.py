"""Exact lookup of cryptographic digests (md5, sha1, sha256) at 100-million scale.

Per digest width, digests are held as sorted columns of uint64 words (zero-padded to a
multiple of 8 bytes) beside int64 ids: 24 bytes per md5, 32 per sha1 or sha256 (plus a
removal flag), against hundreds for a dict of bytes. Lookups are one vectorised binary
search on the first word, then a check of the others. Adds go to a small sorted delta that
is merged in linear time once it reaches 1/64 of the table; removes set a flag at once and
are dropped at the next merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from cvis.index.ids import member, to_ids
from cvis.index.storage import IndexCorrupt, read_version, write_version

KIND = "cvis-crypto-index"
MIN_DELTA = 1 << 16


class SortedDigests:
    """Digests of one width: sorted main table + sorted delta, both (words, ids, dead)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.nwords = -(-width // 8)
        self.words = np.zeros((self.nwords, 0), dtype=np.uint64)  # column-major: words[0] sorted
        self.ids = np.zeros(0, dtype=np.int64)
        self.dead = np.zeros(0, dtype=bool)
        self.ndead = 0  # flags set in ``dead``: kept live, len() is asked on every search
        self.delta = (np.zeros((self.nwords, 0), dtype=np.uint64), np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.ids.size - self.ndead + self.delta[1].size)

    def to_words(self, digests: Sequence[bytes] | np.ndarray) -> np.ndarray:
        """(nwords, k) uint64 columns of zero-padded digests."""
        if isinstance(digests, np.ndarray):  # (k, width) uint8 rows
            padded = np.zeros((digests.shape[0], self.nwords * 8), dtype=np.uint8)
            padded[:, : self.width] = digests
            return padded.view(np.uint64).T.copy()
        pad = bytes(self.nwords * 8 - self.width)
        raw = b"".join(d + pad for d in digests)
        return np.frombuffer(raw, dtype=np.uint64).reshape(-1, self.nwords).T.copy()

    def add(self, ids: np.ndarray, words: np.ndarray) -> None:
        dwords, dids = self.delta
        self.delta = _sorted(np.concatenate([dwords, words], axis=1), np.concatenate([dids, ids]))
        if self.delta[1].size >= max(MIN_DELTA, self.ids.size // 64):
            self.merge()

    def remove(self, gone: np.ndarray) -> None:
        self.dead |= member(self.ids, gone)
        self.ndead = int(np.count_nonzero(self.dead))
        dwords, dids = self.delta
        keep = ~member(dids, gone)
        self.delta = (dwords[:, keep], dids[keep])

    def merge(self) -> None:
        """Fold the delta in and drop removed rows: linear time, no re-sort of the table."""
        live = ~self.dead
        words, ids = self.words[:, live], self.ids[live]
        dwords, dids = self.delta
        at = np.searchsorted(words[0], dwords[0])
        self.words = np.insert(words, at, dwords, axis=1)
        self.ids = np.insert(ids, at, dids)
        self.dead = np.zeros(self.ids.size, dtype=bool)
        self.ndead = 0
        self.delta = (dwords[:, :0], dids[:0])

    def lookup(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query number, id) of every stored entry equal to each query."""
        q1, i1 = _find(self.words, self.ids, words, self.dead if self.ndead else None)
        q2, i2 = _find(*self.delta, words, None)
        return np.concatenate([q1, q2]), np.concatenate([i1, i2])


class CryptoIndex:
    """Digest -> ids of stored entries with that digest; any mix of digest widths."""

    def __init__(self) -> None:
        self.tables: dict[int, SortedDigests] = {}
        self.generation: int | None = None

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables.values())

    def add(self, ids: Sequence[int] | np.ndarray,
            digests: Sequence[bytes] | np.ndarray) -> None:
        """Digests as bytes, or for bulk loads an (n, width) uint8 array."""
        ids_ = to_ids(ids)
        if ids_.size != len(digests):
            raise ValueError("ids and digests differ in length")
        if isinstance(digests, np.ndarray):
            table = self.tables.setdefault(digests.shape[1], SortedDigests(digests.shape[1]))
            table.add(ids_, table.to_words(digests))
            return
        for width, rows in _by_width(digests).items():
            table = self.tables.setdefault(width, SortedDigests(width))
            table.add(ids_[rows], table.to_words([digests[i] for i in rows]))

    def remove(self, ids: Iterable[int] | np.ndarray) -> None:
        gone = np.unique(to_ids(ids))
        for table in self.tables.values():
            table.remove(gone)

    def lookup(self, digests: Sequence[bytes]) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in digests]
        queries, ids = self.lookup_batch(digests)
        for q, i in zip(queries.tolist(), ids.tolist(), strict=True):
            out[q].append(i)
        return out

    def lookup_batch(self, digests: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Flat (query number, id) arrays, sorted by query then id."""
        qs, ids = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for width, rows in _by_width(digests).items():
            if width in self.tables:
                table = self.tables[width]
                q, i = table.lookup(table.to_words([digests[k] for k in rows]))
                qs.append(rows[q])
                ids.append(i)
        q, i = np.concatenate(qs), np.concatenate(ids)
        order = np.lexsort((i, q))
        return q[order], i[order]

    def lookup_rows(self, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``lookup_batch`` for digests of one width given as (n, width) uint8 rows: no
        bytes objects on the way (the service's compact batch body)."""
        table = self.tables.get(digests.shape[1])
        if table is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        q, i = table.lookup(table.to_words(digests))
        order = np.lexsort((i, q))
        return q[order], i[order]

    def compact(self) -> None:
        for table in self.tables.values():
            table.merge()

    def save(self, directory: str | Path, generation: int) -> None:
        """Merge, then write versioned files (format in docs/index.md)."""
        self.compact()
        arrays: dict[str, np.ndarray] = {}
        for width, table in self.tables.items():
            arrays[f"w{width}.words"] = table.words
            arrays[f"w{width}.ids"] = table.ids
        write_version(Path(directory), KIND, generation, arrays,
                      {"widths": sorted(self.tables), "count": len(self)})
        self.generation = generation

    @classmethod
    def load(cls, directory: str | Path, generation: int | None = None,
             verify: bool = True) -> CryptoIndex:
        """Memory-map saved files; IndexCorrupt / IndexStale / IndexMissing as PdqIndex.load."""
        meta, arrays = read_version(Path(directory), KIND, generation, verify)
        index = cls()
        try:
            for width in meta["widths"]:
                table = SortedDigests(int(width))
                table.words, table.ids = arrays[f"w{width}.words"], arrays[f"w{width}.ids"]
                table.dead = np.zeros(table.ids.size, dtype=bool)
                if table.words.shape != (table.nwords, table.ids.size):
                    raise IndexCorrupt(f"{directory}: width {width} arrays disagree")
                index.tables[int(width)] = table
        except KeyError as exc:
            raise IndexCorrupt(f"{directory}: missing array {exc}") from exc
        if len(index) != meta["count"]:
            raise IndexCorrupt(f"{directory}: {len(index)} entries, manifest says {meta['count']}")
        index.generation = meta["generation"]
        return index


def _by_width(digests: Sequence[bytes]) -> dict[int, np.ndarray]:
    widths = np.fromiter((len(d) for d in digests), dtype=np.int64, count=len(digests))
    return {int(w): np.flatnonzero(widths == w) for w in np.unique(widths)}


def _sorted(words: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(words[0], kind="stable")
    return words[:, order], ids[order]


def _find(
    words: np.ndarray, ids: np.ndarray, qwords: np.ndarray, dead: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    # Sorted needles walk the table in order: several times faster than random probes.
    order = np.argsort(qwords[0])
    lo, counts = np.empty(order.size, np.int64), np.empty(order.size, np.int64)
    lo[order] = np.searchsorted(words[0], qwords[0][order], side="left")
    counts[order] = np.searchsorted(words[0], qwords[0][order], side="right") - lo[order]
    query = np.repeat(np.arange(counts.size), counts)
    ends = np.cumsum(counts)
    rows = np.arange(int(ends[-1]) if ends.size else 0) + np.repeat(lo - ends + counts, counts)
    same = np.ones(rows.size, dtype=bool)
    for w in range(1, words.shape[0]):
        same &= np.take(words[w], rows) == np.take(qwords[w], query)
    if dead is not None:
        same &= ~np.take(dead, rows)
    return query[same], np.take(ids, rows[same])
