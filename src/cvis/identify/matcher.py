"""Match hashes against the enabled hash sets: indexes give candidate ids, the store the facts.

The indexes hold only (id, hash); everything a person needs to judge a candidate
(set, media id, category, series, identified status) is read from the store for
the hits alone, so the matcher's memory grows with the hash count, not the metadata.
Indexes are cached as files beside the database (cvis.identify.index_cache) and
rebuilt from the store when its hashes changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashsets.feedback import suppressed_signal_ids
from cvis.identify.index_cache import MatchIndexes, load_indexes
from cvis.signals import SIGNAL_TYPES
from cvis.store.models import HashSet, KnownMedia, KnownSignal

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


class UnknownSetError(LookupError):
    pass


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


Hits = list[list[tuple[int, int]]]


class Matcher:
    """Indexes over the known signals of the chosen sets, built from the store."""

    def __init__(
        self, session: Session, set_names: Sequence[str] | None = None,
        index_dir: Path | None = None,
    ) -> None:
        self._session = session
        self.session = session  # the read view matches are judged in (video matching reads it)
        self._sets = self._choose_sets(set_names)
        self._indexes: MatchIndexes = load_indexes(session, list(self._sets), index_dir)
        self._suppressed = suppressed_signal_ids(session, self._sets)
        # Per known video, its frames common to many unrelated known media (video matching
        # works it out once per matcher; cvis.identify.video_match).
        self.common_frames: dict[int, frozenset[int]] = {}

    def hash_set(self, name: str) -> HashSet | None:
        """One of the chosen sets, by name (its settings: thresholds)."""
        return next((s for s in self._sets.values() if s.name == name), None)

    def signals(self) -> frozenset[str]:
        """The signals the chosen sets hold: a scan computes no others."""
        return frozenset(name for name, index in self._indexes.by_signal.items() if len(index))

    def _choose_sets(self, names: Sequence[str] | None) -> dict[int, HashSet]:
        query = select(HashSet)
        if names:
            query = query.where(HashSet.name.in_(names))
        else:
            query = query.where(HashSet.enabled.is_(True))
        sets = {s.id: s for s in self._session.scalars(query)}
        missing = set(names or ()) - {s.name for s in sets.values()}
        if missing:
            raise UnknownSetError(f"no hash set named {', '.join(sorted(missing))}")
        return sets

    def match(self, queries: Sequence[Query]) -> list[list[MatchResult]]:
        """Candidates for each query, nearest first; each registered signal type is searched
        in the index it names, at the largest threshold any chosen set allows for it."""
        hits: Hits = [[] for _ in queries]
        for signal in sorted({q.signal for q in queries}):
            self._match_signal(signal, queries, hits)
        return self._describe(queries, self._without_suppressed(hits))

    def _without_suppressed(self, hits: Hits) -> Hits:
        """Drop known hashes an examiner marked false positive for their set."""
        if not self._suppressed:
            return hits
        return [[h for h in pairs if h[0] not in self._suppressed] for pairs in hits]

    def _match_signal(self, signal: str, queries: Sequence[Query], hits: Hits) -> None:
        index, signal_type = self._indexes.get(signal), SIGNAL_TYPES.get(signal)
        if index is None or signal_type is None or not len(index):
            return
        widest = max((set_threshold(s, signal) for s in self._sets.values()), default=0)
        positions = [
            i for i, q in enumerate(queries)
            if q.signal == signal and signal_type.allows(q, 0, widest)
        ]
        if not positions:
            return
        found = index.search([queries[i].value for i in positions], widest)
        for position, pairs in zip(positions, found, strict=True):
            hits[position].extend(pairs)

    def _describe(self, queries: Sequence[Query], hits: Hits) -> list[list[MatchResult]]:
        facts = self._facts({signal_id for pairs in hits for signal_id, _ in pairs})
        results: list[list[MatchResult]] = []
        for query, pairs in zip(queries, hits, strict=True):
            if not pairs:  # most queries of a batch: no work, no sort
                results.append([])
                continue
            signal_type = SIGNAL_TYPES[query.signal]
            found: dict[int, MatchResult] = {}
            for signal_id, distance in pairs:
                if signal_id not in facts:
                    continue  # removed from the store since the index was built
                media, hash_set = facts[signal_id]
                threshold = set_threshold(hash_set, query.signal)
                if not signal_type.allows(query, distance, threshold):
                    continue
                known = found.get(media.id)  # a media item with several values: the nearest
                if known is None or distance < known.distance:
                    found[media.id] = describe_match(media, hash_set, query.signal, distance)
            results.append(sorted(found.values(), key=lambda m: (m.distance, m.set, m.media_id)))
        return results

    def _facts(self, signal_ids: Iterable[int]) -> dict[int, tuple[KnownMedia, HashSet]]:
        ids = sorted(signal_ids)
        facts: dict[int, tuple[KnownMedia, HashSet]] = {}
        for start in range(0, len(ids), 900):
            rows = self._session.execute(
                select(KnownSignal.id, KnownMedia)
                .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
                .where(KnownSignal.id.in_(ids[start : start + 900]))
            )
            for signal_id, media in rows:
                if media.set_id in self._sets:
                    facts[signal_id] = (media, self._sets[media.set_id])
        return facts


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

