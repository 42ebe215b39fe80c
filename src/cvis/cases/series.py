"""New material: group the case's categorised, unmatched pictures into candidate series.

Near-duplicates (PDQ within ``max_distance``) are linked and the connected groups
become candidate series, which an examiner exports (hashes and metadata only)
for submission to the national centre.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cvis.cases.review import review_queue
from cvis.cases.service import get_case, record_event
from cvis.hashsets.formats import get_format
from cvis.hashsets.records import KnownRecord
from cvis.index import hex_to_array
from cvis.signals.pdq import PDQ_MIN_QUALITY
from cvis.store.models import CandidateSeries, Case, ScanItem

DEFAULT_SERIES_DISTANCE = 31


class SeriesError(LookupError):
    pass


def _components(hashes: np.ndarray, max_distance: int) -> list[list[int]]:
    """Connected groups of near-duplicates (union-find over all pairs; cases are small)."""
    parent = list(range(len(hashes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    words = hashes.view(np.uint64).reshape(-1, 4)
    for i in range(len(words)):
        distances = np.bitwise_count(words[i + 1 :] ^ words[i]).sum(axis=1)
        for j in np.nonzero(distances <= max_distance)[0]:
            parent[root(i + 1 + int(j))] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(words)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def build_candidate_series(
    session: Session, number: str, *, actor: str, max_distance: int = DEFAULT_SERIES_DISTANCE
) -> list[CandidateSeries]:
    """Regroup the case's candidate series from its current categorisations."""
    case = get_case(session, number)
    entries = [
        e for e in review_queue(session, number, unmatched=True)
        if e.category is not None and e.category > 0 and e.pdq
        and (e.pdq_quality or 0) >= PDQ_MIN_QUALITY
    ]
    groups = (_components(hex_to_array([e.pdq or "" for e in entries]), max_distance)
              if entries else [])
    wanted = [(f"{case.number}-NEW-{n:03d}", [entries[i].item_id for i in group])
              for n, group in enumerate(groups, start=1)]
    existing = list_candidate_series(session, number)
    if [(s.label, list(s.item_ids)) for s in existing] == wanted:
        return existing  # nothing changed: listing them again is not an event in the case
    session.execute(delete(CandidateSeries).where(CandidateSeries.case_id == case.id))
    created = [CandidateSeries(case_id=case.id, label=label, item_ids=ids)
               for label, ids in wanted]
    session.add_all(created)
    session.flush()
    record_event(session, case, actor, "candidate series built", count=len(created),
                 max_distance=max_distance)
    return created


def list_candidate_series(session: Session, number: str) -> list[CandidateSeries]:
    case = get_case(session, number)
    return list(
        session.scalars(
            select(CandidateSeries)
            .where(CandidateSeries.case_id == case.id)
            .order_by(CandidateSeries.label)
        )
    )


def _series_records(session: Session, series: CandidateSeries) -> Iterator[KnownRecord]:
    categories = {
        e.item_id: e.category
        for e in review_queue(session, get_case_number(session, series), unmatched=True)
    }
    items = session.scalars(
        select(ScanItem).where(ScanItem.id.in_(series.item_ids)).order_by(ScanItem.sha256)
    )
    for item in items:
        signals = {
            name: value
            for name in ("md5", "sha1", "sha256", "pdq")
            if (value := getattr(item, name))
        }
        yield KnownRecord(
            media_id=f"{series.label}-{item.sha256[:12] if item.sha256 else item.id}",
            signals=signals,
            category=categories.get(item.id),
            series=series.label,
            extra={"MediaSize": item.size} if item.size is not None else {},
        )


def get_case_number(session: Session, series: CandidateSeries) -> str:
    return session.get_one(Case, series.case_id).number


def export_candidate_series(
    session: Session, number: str, label: str, format_name: str, stream: TextIO, *, actor: str
) -> int:
    """Write one candidate series (hashes and metadata only); returns the record count."""
    series = next((s for s in list_candidate_series(session, number) if s.label == label), None)
    if series is None:
        raise SeriesError(f"no candidate series {label!r} in case {number}")
    records = list(_series_records(session, series))
    get_format(format_name).write(records, stream)
    record_event(session, get_case(session, number), actor, "candidate series exported",
                 label=label, format=format_name, records=len(records))
    return len(records)
