"""Match hashes against the enabled hash sets: indexes give candidate ids, the store the facts.

The indexes hold only (id, hash); everything a person needs to judge a candidate
(set, media id, category, series, identified status) is read from the store for
the hits alone, so the matcher's memory grows with the hash count, not the metadata.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashsets.feedback import suppressed_signal_ids
from cvis.index import CryptoIndex, PdqIndex, hex_to_array
from cvis.signals import CRYPTO_SIGNALS
from cvis.signals.pdq import PDQ_MIN_QUALITY, PdqSignal
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
    signal: str
    value: str
    quality: int | None = None


class UnknownSetError(LookupError):
    pass


def _set_threshold(hash_set: HashSet, signal: str) -> int:
    default = PdqSignal.default_threshold if signal == "pdq" else 0
    return int((hash_set.thresholds or {}).get(signal, default))


class Matcher:
    """Indexes over the known signals of the chosen sets, built from the store."""

    def __init__(self, session: Session, set_names: Sequence[str] | None = None) -> None:
        self._session = session
        self._sets = self._choose_sets(set_names)
        self._crypto = {name: CryptoIndex() for name in CRYPTO_SIGNALS}
        self._pdq = PdqIndex()
        self._load()
        self._suppressed = suppressed_signal_ids(session, self._sets)

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

    def _load(self) -> None:
        rows = self._session.execute(
            select(KnownSignal.id, KnownSignal.signal_type, KnownSignal.value)
            .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
            .where(KnownMedia.set_id.in_(list(self._sets)))
        )
        by_type: dict[str, tuple[list[int], list[str]]] = defaultdict(lambda: ([], []))
        for signal_id, signal_type, value in rows:
            ids, values = by_type[signal_type]
            ids.append(signal_id)
            values.append(value)
        for name, index in self._crypto.items():
            ids, values = by_type.get(name, ([], []))
            index.add(ids, [bytes.fromhex(v) for v in values])
        pdq_ids, pdq_values = by_type.get("pdq", ([], []))
        self._pdq.add(pdq_ids, hex_to_array(pdq_values))
        self._max_pdq_threshold = max(
            (_set_threshold(s, "pdq") for s in self._sets.values()), default=0
        )

    def match(self, queries: Sequence[Query]) -> list[list[MatchResult]]:
        """Candidates for each query, nearest first."""
        hits: list[list[tuple[int, int]]] = [[] for _ in queries]
        self._match_crypto(queries, hits)
        self._match_pdq(queries, hits)
        return self._describe(queries, self._without_suppressed(hits))

    def _without_suppressed(self, hits: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
        """Drop known hashes an examiner marked false positive for their set."""
        if not self._suppressed:
            return hits
        return [[h for h in pairs if h[0] not in self._suppressed] for pairs in hits]

    def _match_crypto(self, queries: Sequence[Query], hits: list[list[tuple[int, int]]]) -> None:
        for name, index in self._crypto.items():
            positions = [i for i, q in enumerate(queries) if q.signal == name]
            found = index.lookup([bytes.fromhex(queries[i].value) for i in positions])
            for i, ids in zip(positions, found, strict=True):
                hits[i].extend((signal_id, 0) for signal_id in ids)

    def _match_pdq(self, queries: Sequence[Query], hits: list[list[tuple[int, int]]]) -> None:
        positions = [
            i
            for i, q in enumerate(queries)
            if q.signal == "pdq" and (q.quality is None or q.quality >= PDQ_MIN_QUALITY)
        ]
        if not positions or not len(self._pdq):
            return
        found = self._pdq.search(
            hex_to_array([queries[i].value for i in positions]), self._max_pdq_threshold
        )
        for i, pairs in zip(positions, found, strict=True):
            hits[i].extend(pairs)

    def _describe(
        self, queries: Sequence[Query], hits: list[list[tuple[int, int]]]
    ) -> list[list[MatchResult]]:
        facts = self._facts({signal_id for pairs in hits for signal_id, _ in pairs})
        results: list[list[MatchResult]] = []
        for query, pairs in zip(queries, hits, strict=True):
            found = []
            for signal_id, distance in pairs:
                media, hash_set = facts[signal_id]
                if distance <= _set_threshold(hash_set, query.signal):
                    found.append(_result(media, hash_set, query.signal, distance))
            results.append(sorted(found, key=lambda m: (m.distance, m.set, m.media_id)))
        return results

    def _facts(self, signal_ids: Iterable[int]) -> dict[int, tuple[KnownMedia, HashSet]]:
        ids = list(signal_ids)
        facts: dict[int, tuple[KnownMedia, HashSet]] = {}
        for start in range(0, len(ids), 900):
            rows = self._session.execute(
                select(KnownSignal.id, KnownMedia)
                .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
                .where(KnownSignal.id.in_(ids[start : start + 900]))
            )
            for signal_id, media in rows:
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
