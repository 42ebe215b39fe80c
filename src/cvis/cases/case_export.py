"""A case's media as hash-list records (for a VICS case export): hashes and metadata only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from sqlalchemy.orm import Session

from cvis.cases.review import ReviewEntry, review_queue
from cvis.hashsets.formats import get_format
from cvis.hashsets.records import KnownRecord


def _best_known(entry: ReviewEntry) -> tuple[int | None, str | None, bool | None]:
    """Category, series and identified flag from the nearest match an examiner did not reject."""
    for match in entry.matches:
        if match.verdict != "rejected":
            return match.category, match.series, match.victim_identified
    return None, None, None


def _one_per_file(entries: list[ReviewEntry]) -> list[ReviewEntry]:
    """A file several scans saw is one record: the copy an examiner worked on, else the first."""
    by_path: dict[str, list[ReviewEntry]] = {}
    for entry in sorted(entries, key=lambda e: (e.path, e.item_id)):
        by_path.setdefault(entry.path, []).append(entry)
    return [
        max(copies, key=lambda e: (any(m.verdict for m in e.matches) or e.category is not None,
                                   -e.item_id))
        for copies in by_path.values()
    ]


def case_records(session: Session, number: str) -> Iterator[KnownRecord]:
    """Every hashed file of the case once, categorised by the examiner or by its match."""
    entries = review_queue(session, number, include_decided=True)
    entries += review_queue(session, number, unmatched=True)
    for n, entry in enumerate(_one_per_file(entries), start=1):
        if not entry.md5:
            continue
        category, series, identified = _best_known(entry)
        yield KnownRecord(
            media_id=str(n),
            signals={k: v for k, v in (("md5", entry.md5), ("sha1", entry.sha1),
                                       ("sha256", entry.sha256),
                                       ("pdq", entry.pdq)) if v},
            category=entry.category if entry.category is not None else category,
            series=series,
            victim_identified=identified,
            tags=entry.tags,
            extra={"FilePath": entry.path},
        )


def export_case(session: Session, number: str, format_name: str, stream: TextIO) -> int:
    records = list(case_records(session, number))
    get_format(format_name).write(records, stream)
    return len(records)
