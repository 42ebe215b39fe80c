"""Match hashes against the enabled hash sets: indexes give candidate ids, the store the facts.

The indexes hold only (id, hash); everything a person needs to judge a candidate
(set, media id, category, series, identified status) is read from the store for
the hits alone, so the matcher's memory grows with the hash count, not the metadata.
Indexes are cached as files beside the database (cvis.identify.index_cache) and
rebuilt from the store when its hashes changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashsets.feedback import suppressed_signal_ids
from cvis.identify.index_cache import MatchIndexes, load_indexes
from cvis.index import hex_to_array
from cvis.signals import CRYPTO_SIGNALS
from cvis.signals.pdq import PdqSignal
from cvis.signals.quality import allow_match
from cvis.store.models import HashSet, KnownMedia, KnownSignal


@dataclass(frozen=True)
class MatchResult:
    """One candidate match, with the evidence a person needs to confirm it."""

    set: str
    media_id: str
    signal: str
    distance: int
    category: int | None
    series: str | None
    victim_identified: bool | None
    known_media_pk: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["known_media_pk"]
        return data


@dataclass(frozen=True)
class Query:
    """A hash to look up; for PDQ, the picture's quality and contrast-normalised quality."""

    signal: str
    value: str
    quality: int | None = None
    contrast_quality: int | None = None


class UnknownSetError(LookupError):
    pass


def _set_threshold(hash_set: HashSet, signal: str) -> int:
    default = PdqSignal.default_threshold if signal == "pdq" else 0
    return int((hash_set.thresholds or {}).get(signal, default))


def _pdq_allowed(query: Query, distance: int, threshold: int) -> bool:
    """cvis's quality policy (cvis.signals.quality); unknown quality is taken at its word."""
    quality = 100 if query.quality is None else query.quality
    return allow_match(quality, None, distance, query_contrast_quality=query.contrast_quality,
                       threshold=threshold, query_hash=query.value)


Hits = list[list[tuple[int, int]]]


class Matcher:
    """Indexes over the known signals of the chosen sets, built from the store."""

    def __init__(
        self, session: Session, set_names: Sequence[str] | None = None,
        index_dir: Path | None = None,
    ) -> None:
        self._session = session
        self._sets = self._choose_sets(set_names)
        self._indexes: MatchIndexes = load_indexes(session, list(self._sets), index_dir)
        self._suppressed = suppressed_signal_ids(session, self._sets)
        self._max_pdq_threshold = max(
            (_set_threshold(s, "pdq") for s in self._sets.values()), default=0
        )

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
        """Candidates for each query, nearest first."""
        hits: Hits = [[] for _ in queries]
        self._match_crypto(queries, hits)
        self._match_pdq(queries, hits)
        return self._describe(queries, self._without_suppressed(hits))

    def _without_suppressed(self, hits: Hits) -> Hits:
        """Drop known hashes an examiner marked false positive for their set."""
        if not self._suppressed:
            return hits
        return [[h for h in pairs if h[0] not in self._suppressed] for pairs in hits]

    def _match_crypto(self, queries: Sequence[Query], hits: Hits) -> None:
        positions = [i for i, q in enumerate(queries) if q.signal in CRYPTO_SIGNALS]
        if not positions:
            return
        found_queries, found_ids = self._indexes.crypto.lookup_batch(
            [bytes.fromhex(queries[i].value) for i in positions]
        )
        for q, signal_id in zip(found_queries.tolist(), found_ids.tolist(), strict=True):
            hits[positions[q]].append((signal_id, 0))

    def _match_pdq(self, queries: Sequence[Query], hits: Hits) -> None:
        positions = [
            i for i, q in enumerate(queries)
            if q.signal == "pdq" and _pdq_allowed(q, 0, self._max_pdq_threshold)
        ]
        if not positions or not len(self._indexes.pdq):
            return
        found = self._indexes.pdq.search_batch(
            hex_to_array([queries[i].value for i in positions]), self._max_pdq_threshold
        )
        for q, signal_id, distance in zip(
            found.queries.tolist(), found.ids.tolist(), found.distances.tolist(), strict=True
        ):
            hits[positions[q]].append((signal_id, distance))

    def _describe(self, queries: Sequence[Query], hits: Hits) -> list[list[MatchResult]]:
        facts = self._facts({signal_id for pairs in hits for signal_id, _ in pairs})
        results: list[list[MatchResult]] = []
        for query, pairs in zip(queries, hits, strict=True):
            if not pairs:  # most queries of a batch: no work, no sort
                results.append([])
                continue
            found = []
            for signal_id, distance in pairs:
                if signal_id not in facts:
                    continue  # removed from the store since the index was built
                media, hash_set = facts[signal_id]
                threshold = _set_threshold(hash_set, query.signal)
                if query.signal == "pdq":
                    if not _pdq_allowed(query, distance, threshold):
                        continue
                elif distance > threshold:
                    continue
                found.append(_result(media, hash_set, query.signal, distance))
            results.append(sorted(found, key=lambda m: (m.distance, m.set, m.media_id)))
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


def _result(media: KnownMedia, hash_set: HashSet, signal: str, distance: int) -> MatchResult:
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

