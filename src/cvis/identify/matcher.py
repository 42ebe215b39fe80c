"""Match hashes against the enabled hash sets: indexes give candidate ids, the store the facts.

The indexes hold only (id, hash); everything a person needs to judge a candidate
(set, media id, category, series, identified status) is read from the store for
the hits alone, so the matcher's memory grows with the hash count, not the metadata.
Indexes are cached as files beside the database (cvis.identify.index_cache) and
rebuilt from the store when its hashes changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashsets.errors import UnknownSet
from cvis.hashsets.feedback import suppressed_signal_ids
from cvis.identify.index_cache import MatchIndexes, load_indexes
from cvis.index.signal_index import ExactIndex, search_columns
from cvis.signals import SIGNAL_TYPES
from cvis.signals.base import SignalType
from cvis.store.models import HashSet, KnownMedia

if TYPE_CHECKING:
    from cvis.hashing import HashRecord


@dataclass(frozen=True)
class MatchResult:
    """One candidate match, with the evidence a person needs to confirm it.

    The match fields of the contract (``cvis scan``/``lookup`` JSON, the API) are
    declared here once: ``MATCH_FIELDS``.
    """

    set: str
    media_id: str
    signal: str
    distance: int
    category: int | None
    series: str | None
    victim_identified: bool | None
    known_media_pk: int
    video: dict[str, Any] | None = None  # a video match's figures (vpdq): percentages, ranges

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["known_media_pk"], data["video"]
        data.update(self.video or {})
        return data


MATCH_FIELDS = tuple(f.name for f in fields(MatchResult) if f.name not in ("known_media_pk",
                                                                           "video"))


@dataclass(frozen=True)
class Query:
    """A hash to look up; for PDQ, the picture's quality and contrast-normalised quality."""

    signal: str
    value: str
    quality: int | None = None
    contrast_quality: int | None = None


def set_threshold(hash_set: HashSet, signal: str) -> int:
    """The set's threshold for a signal, else the signal type's default."""
    default = SIGNAL_TYPES[signal].default_threshold if signal in SIGNAL_TYPES else 0
    return int((hash_set.thresholds or {}).get(signal, default))


def record_queries(record: HashRecord) -> list[Query]:
    """Everything to look up for one hashed item: digests, PDQ and its variants (each with
    its own quality), and every other signal computed from the picture."""
    queries = [
        Query(name, value)
        for name in ("md5", "sha1", "sha256")
        if (value := getattr(record, name)) is not None
    ]
    if record.pdq is not None:
        queries.append(Query("pdq", record.pdq, record.pdq_quality, record.pdq_contrast_quality))
    queries.extend(
        Query("pdq", v.hash, v.quality, v.contrast_quality) for v in record.pdq_variants
    )
    for name, values in record.signals.items():
        if name in SIGNAL_TYPES:
            queries.extend(Query(name, v) for v in SIGNAL_TYPES[name].query_values(values))
    return queries


class Matcher:
    """Indexes over the known signals of the chosen sets, built from the store.

    Hits travel as columns (query, known id, distance) from the index to the caller;
    facts are read once per known media item of a batch (``KnownFacts``) and joined to
    the hits as row numbers, so a batch of a million hits costs a few array operations,
    not a million objects (``match_columns``; ``match`` builds objects for small callers).
    """

    def __init__(
        self, session: Session, set_names: Sequence[str] | None = None,
        index_dir: Path | None = None, facts_connect: Callable[[], Any] | None = None,
    ) -> None:
        """``facts_connect``: where each batch's facts are read instead of the session, a
        pooled DBAPI connection of the same database (``Engine.raw_connection``), one
        statement and closed (a service's matcher: SQLAlchemy's execution and the session's
        transaction cost several times the query for a single lookup)."""
        self._session = session
        self._connect = facts_connect
        self.session = session  # the read view matches are judged in (video matching reads it)
        self._sets = self._choose_sets(set_names)
        self._indexes: MatchIndexes = load_indexes(session, list(self._sets), index_dir)
        self._suppressed = np.fromiter(suppressed_signal_ids(session, self._sets), np.int64)
        # Counted once: an index's len() walks its removal flags (a millisecond at 1M), and
        # the indexes do not change while this matcher lives.
        self._filled = frozenset(name for name, index in self._indexes.by_signal.items()
                                 if len(index))
        # Per known video, its frames common to many unrelated known media (video matching
        # works it out once per matcher; cvis.identify.video_match).
        self.common_frames: dict[int, frozenset[int]] = {}

    def hash_set(self, name: str) -> HashSet | None:
        """One of the chosen sets, by name (its settings: thresholds)."""
        return next((s for s in self._sets.values() if s.name == name), None)

    def signals(self) -> frozenset[str]:
        """The signals the chosen sets hold: a scan computes no others."""
        return self._filled

    def _choose_sets(self, names: Sequence[str] | None) -> dict[int, HashSet]:
        query = select(HashSet)
        if names:
            query = query.where(HashSet.name.in_(names))
        else:
            query = query.where(HashSet.enabled.is_(True))
        sets = {s.id: s for s in self._session.scalars(query)}
        missing = set(names or ()) - {s.name for s in sets.values()}
        if missing:
            raise UnknownSet(f"no hash set named {', '.join(sorted(missing))}")
        return sets

    def match(self, queries: Sequence[Query]) -> list[list[MatchResult]]:
        """Candidates for each query, nearest first (then by set and media id)."""
        found = self.match_columns(queries)
        facts = found.facts
        results: list[list[MatchResult]] = [[] for _ in queries]
        for q, row, distance in zip(found.queries.tolist(), found.rows.tolist(),
                                    found.distances.tolist(), strict=True):
            results[q].append(MatchResult(
                set=facts.set_name[row], media_id=facts.media_id[row],
                signal=queries[q].signal, distance=distance, category=facts.category[row],
                series=facts.series[row], victim_identified=facts.victim_identified[row],
                known_media_pk=facts.pk[row],
            ))
        return results

    def match_columns(self, queries: Sequence[Query]) -> MatchColumns:
        """Every match of the batch as columns, one per (query, known media item) at its
        nearest distance; each registered signal type is searched in the index it names,
        at the largest threshold any chosen set allows for it, then judged per set."""
        parts = [self._search_signal(signal, queries)
                 for signal in sorted({q.signal for q in queries})]
        q = np.concatenate([p[0] for p in parts] + [np.zeros(0, np.int64)])
        ids = np.concatenate([p[1] for p in parts] + [np.zeros(0, np.int64)])
        d = np.concatenate([p[2] for p in parts] + [np.zeros(0, np.int32)])
        facts, q, rows, d = self._known_hits(q, ids, d)
        keep = self._allowed(queries, facts, q, rows, d)
        return _nearest_per_media(q[keep], facts.media_row[rows[keep]], d[keep], facts)

    def match_digests(self, signal: str, digests: np.ndarray) -> MatchColumns | None:
        """``match_columns`` of ``Query(signal, hex)`` for each row of ``digests`` ((n, width)
        uint8, the decoded hex), without a Query per row: the index's sorted search straight
        from the array, each hit judged per set with a mask. None when the signal's type or
        index is not the plain exact kind this holds for (the caller builds queries)."""
        index, signal_type = self._indexes.get(signal), SIGNAL_TYPES.get(signal)
        if signal_type is None or not _plain_exact(signal_type):
            return None
        if index is not None and not isinstance(index, ExactIndex):
            return None
        empty = np.zeros(0, np.int64)
        widest = max((set_threshold(s, signal) for s in self._sets.values()), default=0)
        if index is None or signal not in self._filled or widest < 0:
            q, ids = empty, empty
        else:
            found = index.search_digests(digests)
            q, ids = found.queries, found.ids
        facts, q, rows, d = self._known_hits(q, ids, np.zeros(q.size, np.int32))
        # ``allows`` of the base type: distance (always 0 here) within the set's threshold
        thresholds = np.array([set_threshold(s, signal) for s in facts.sets] or [0], np.int64)
        keep = thresholds[facts.signal_set[rows]] >= 0 if q.size else np.zeros(0, dtype=bool)
        return _nearest_per_media(q[keep], facts.media_row[rows[keep]], d[keep], facts)

    def _known_hits(self, q: np.ndarray, ids: np.ndarray, d: np.ndarray
                    ) -> tuple[KnownFacts, np.ndarray, np.ndarray, np.ndarray]:
        """The hits' facts, less hashes an examiner marked false positive and signals removed
        from the store since the index was built: (facts, queries, fact rows, distances)."""
        if self._suppressed.size:
            keep = ~np.isin(ids, self._suppressed)
            q, ids, d = q[keep], ids[keep], d[keep]
        facts, rows = self._facts(ids)
        keep = rows >= 0
        return facts, q[keep], rows[keep], d[keep]

    def _search_signal(
        self, signal: str, queries: Sequence[Query]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
        index, signal_type = self._indexes.get(signal), SIGNAL_TYPES.get(signal)
        if index is None or signal_type is None or signal not in self._filled:
            return empty
        widest = max((set_threshold(s, signal) for s in self._sets.values()), default=0)
        positions = np.fromiter(
            (i for i, q in enumerate(queries)
             if q.signal == signal and signal_type.allows(q, 0, widest)), np.int64)
        if not positions.size:
            return empty
        found = search_columns(index, [queries[i].value for i in positions.tolist()], widest)
        return positions[found.queries], found.ids, found.distances

    def _allowed(self, queries: Sequence[Query], facts: KnownFacts, q: np.ndarray,
                 rows: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Each hit judged by its signal type at its set's threshold; asked once per distinct
        (verdict key, distance, set), which a batch holds far fewer of than hits."""
        if not q.size:
            return np.zeros(0, dtype=bool)
        kinds: dict[tuple[str, Any], int] = {}
        examples: list[Query] = []
        kind_of_query = np.empty(len(queries), dtype=np.int64)
        for n, query in enumerate(queries):
            key = (query.signal, SIGNAL_TYPES[query.signal].verdict_key(query))
            kind = kinds.setdefault(key, len(kinds))
            if kind == len(examples):
                examples.append(query)
            kind_of_query[n] = kind
        width, nsets = int(d.max()) + 1, len(facts.sets)
        key = (kind_of_query[q] * width + d) * nsets + facts.signal_set[rows]
        present = np.zeros(len(examples) * width * nsets, dtype=bool)
        present[key] = True
        verdicts = np.zeros(present.size, dtype=bool)
        for k in np.flatnonzero(present).tolist():
            kind, rest = divmod(k, width * nsets)
            distance, set_pos = divmod(rest, nsets)
            query, hash_set = examples[kind], facts.sets[set_pos]
            verdicts[k] = SIGNAL_TYPES[query.signal].allows(
                query, distance, set_threshold(hash_set, query.signal))
        allowed: np.ndarray = verdicts[key]
        return allowed

    def _read_facts(self, sqlite: bool, ids: np.ndarray) -> list[Any]:
        if self._connect is not None:
            return _read_facts_on(self._connect(), sqlite, ids)
        return list(self._session.connection().exec_driver_sql(
            _FACTS[sqlite], (_id_list(sqlite, ids),)).fetchall())

    def _facts(self, ids: np.ndarray) -> tuple[KnownFacts, np.ndarray]:
        """The known media items these signal ids belong to (chosen sets only), and for
        each id its row in ``KnownFacts.signal_*`` (-1: no longer in the store)."""
        wanted = _distinct(ids)
        if not wanted.size:  # no hits (most lookups): nothing to read
            return KnownFacts.of([], self._sets), np.zeros(0, dtype=np.int64)
        sqlite = self._session.get_bind().dialect.name == "sqlite"
        # The driver's rows as they come: SQLAlchemy's per-row result processing cost more
        # than the query; SQLite's booleans (0/1) are turned into bools here.
        rows: list[tuple[Any, ...]] = [tuple(r) for r in self._read_facts(sqlite, wanted)]
        if sqlite:
            rows = [r[:6] + (None if r[6] is None else bool(r[6]),) for r in rows]
        facts = KnownFacts.of(rows, self._sets)
        return facts, _positions(facts.signal_ids, ids)


_FACT_COLUMNS = ("SELECT s.id, m.id, m.set_id, m.media_id, m.category, m.series, "
                 "m.victim_identified FROM known_signals s "
                 "JOIN known_media m ON m.id = s.media_pk ")
_FACTS = {  # one bound value for the whole id list: nothing to compile or chunk per id
    True: _FACT_COLUMNS + "WHERE s.id IN (SELECT value FROM json_each(?))",  # SQLite
    False: _FACT_COLUMNS + "WHERE s.id = ANY(%s)",  # PostgreSQL: an int8 array
}


def _read_facts_on(connection: Any, sqlite: bool, ids: np.ndarray) -> list[Any]:
    """The facts rows of ``ids``, read on a DBAPI connection, which is closed (returned to
    its pool, which ends the read transaction)."""
    try:
        cursor = connection.cursor()
        cursor.execute(_FACTS[sqlite], (_id_list(sqlite, ids),))
        return list(cursor.fetchall())
    finally:
        connection.close()


def _plain_exact(signal_type: type[SignalType]) -> bool:
    """An exact signal type whose verdict is the base one (distance within threshold)."""
    return bool(signal_type.is_exact()) and (
        signal_type.allows.__func__ is SignalType.allows.__func__)  # type: ignore[attr-defined]


# Ids spread over at most this many times their count are placed by a table, else sorted:
# a table as wide as the id space costs more than sorting a handful (a single lookup's).
_DENSE = 16


def _positions(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """For each of ``ids`` its position in ``sorted_ids`` (distinct, ascending), else -1."""
    if not sorted_ids.size:
        return np.full(ids.size, -1, dtype=np.int64)
    low, high = int(ids.min()), int(ids.max())
    if low >= 0 and high - low <= _DENSE * ids.size + 4096:  # dense: a table, no search
        table = np.full(high - low + 1, -1, dtype=np.int64)
        inside = (sorted_ids >= low) & (sorted_ids <= high)
        table[sorted_ids[inside] - low] = np.flatnonzero(inside)
        found: np.ndarray = table[ids - low]
        return found
    at = np.searchsorted(sorted_ids, ids)
    at[at >= sorted_ids.size] = 0
    return np.where(sorted_ids[at] == ids, at, -1)


def _distinct(ids: np.ndarray) -> np.ndarray:
    """Sorted distinct ids: a bitmap when they are dense (store ids are), else a sort."""
    if ids.size == 0:
        return ids
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high - low > _DENSE * ids.size + 4096:
        return np.unique(ids)
    seen = np.zeros(high - low + 1, dtype=bool)
    seen[ids - low] = True
    return np.flatnonzero(seen) + low


def _id_list(sqlite: bool, ids: np.ndarray) -> Any:
    """The id list as the one bound value: JSON text for json_each, an array for ANY."""
    if sqlite:
        return orjson.dumps(ids.tolist()).decode()
    return ids.tolist()


@dataclass(frozen=True)
class KnownFacts:
    """The known media items one batch hit, one row each, ordered by (set name, media id):
    a row's number is its rank in a query's match order. ``signal_*`` map the batch's
    known-signal ids (sorted) to their media row and set."""

    pk: list[int]
    set_name: list[str]
    media_id: list[str]
    category: list[int | None]
    series: list[str | None]
    victim_identified: list[bool | None]
    signal_ids: np.ndarray
    media_row: np.ndarray  # per signal id: its media item's row
    signal_set: np.ndarray  # per signal id: its set's position in ``sets``
    sets: list[HashSet]

    @classmethod
    def of(cls, rows: list[tuple[Any, ...]], chosen: dict[int, HashSet]) -> KnownFacts:
        """From (signal id, media pk, set id, media id, category, series, identified) rows;
        ordered with array sorts, not Python sorts of tuples."""
        sets = list(chosen.values())
        set_pos = {s.id: n for n, s in enumerate(sets)}
        rows = [r for r in rows if r[2] in chosen]
        n = len(rows)
        signal_ids = np.fromiter((r[0] for r in rows), np.int64, n)
        media_pks = np.fromiter((r[1] for r in rows), np.int64, n)
        signal_set = np.fromiter((set_pos[r[2]] for r in rows), np.int64, n)
        by_id = np.argsort(signal_ids, kind="stable")
        signal_ids, media_pks, signal_set = signal_ids[by_id], media_pks[by_id], signal_set[by_id]
        pks, first = np.unique(media_pks, return_index=True)  # one row per media item
        media = [rows[i] for i in by_id[first].tolist()]
        names = {s.id: s.name for s in sets}  # read once: ORM attributes cost per access
        name_rank = {sid: rank for rank, sid in enumerate(sorted(names, key=names.__getitem__))}
        ranks = np.fromiter((name_rank[m[2]] for m in media), np.int64, len(media))
        media_ids = np.array([m[3] for m in media] or [""])[: len(media)]
        order = np.lexsort((pks, media_ids, ranks))  # (set name, media id, pk)
        media = [media[i] for i in order.tolist()]
        row_of_pk = np.empty(len(media), dtype=np.int64)
        row_of_pk[order] = np.arange(len(media))
        return cls(
            pk=[m[1] for m in media], set_name=[names[m[2]] for m in media],
            media_id=[m[3] for m in media], category=[m[4] for m in media],
            series=[m[5] for m in media], victim_identified=[m[6] for m in media],
            signal_ids=signal_ids,
            media_row=row_of_pk[np.searchsorted(pks, media_pks)] if n else media_pks,
            signal_set=signal_set,
            sets=sets,
        )


@dataclass(frozen=True)
class MatchColumns:
    """A batch's matches: match k is ``facts`` row ``rows[k]``, ``distances[k]`` from query
    ``queries[k]``; sorted by query, then distance, set name and media id."""

    queries: np.ndarray  # int64
    rows: np.ndarray  # int64
    distances: np.ndarray  # int32
    facts: KnownFacts


def _nearest_per_media(q: np.ndarray, rows: np.ndarray, d: np.ndarray,
                       facts: KnownFacts) -> MatchColumns:
    """A media item with several values matched: its nearest only; then in match order."""
    if np.unique(facts.media_row).size < facts.media_row.size:  # some item has two values
        order = np.lexsort((d, rows, q))
        q, rows, d = q[order], rows[order], d[order]
        first = np.ones(q.size, dtype=bool)
        first[1:] = (q[1:] != q[:-1]) | (rows[1:] != rows[:-1])
        q, rows, d = q[first], rows[first], d[first]
    width, count = int(d.max(initial=0)) + 1, max(1, len(facts.pk))
    order = np.argsort((q * width + d) * count + rows)  # (query, distance, set, media id)
    return MatchColumns(q[order], rows[order], d[order].astype(np.int32), facts)


def describe_match(
    media: KnownMedia, hash_set: HashSet, signal: str, distance: int
) -> MatchResult:
    """The one place a stored known media item becomes the contract's match fields."""
    return MatchResult(
        set=hash_set.name,
        media_id=media.media_id,
        signal=signal,
        distance=distance,
        category=media.category,
        series=media.series,
        victim_identified=media.victim_identified,
        known_media_pk=media.id,
    )

