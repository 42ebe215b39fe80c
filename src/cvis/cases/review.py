"""Review: the queue of candidate matches with their evidence, and the examiner's decisions.

Matches and scan items stay exactly as the scan found them; verdicts and
categorisations are separate rows, so the record of what the machine said and
what a person decided are never mixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cvis.cases.service import get_case, record_event
from cvis.hashsets.feedback import record_feedback
from cvis.store.models import (
    Case,
    HashSet,
    ItemReview,
    KnownMedia,
    Match,
    MatchReview,
    Scan,
    ScanItem,
    utcnow,
)

VERDICTS = ("confirmed", "rejected")
CATEGORY_RANGE = range(0, 5)  # Project VIC 0-4


class ReviewError(ValueError):
    pass


@dataclass(frozen=True)
class MatchEvidence:
    match_id: int
    set: str
    media_id: str
    signal: str
    distance: int
    category: int | None
    series: str | None
    victim_identified: bool | None
    verdict: str | None
    reviewer: str | None
    reviewed_at: datetime | None


@dataclass
class ReviewEntry:
    item_id: int
    path: str
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    matches: list[MatchEvidence] = field(default_factory=list)
    category: int | None = None
    notes: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return any(m.verdict is None for m in self.matches)


# An examiner's verdict is the hash set's feedback: a rejection is a false positive,
# which puts the known hash on that set's suppression list.
FEEDBACK_VERDICT = {"confirmed": "confirmed", "rejected": "false_positive"}


def _case_items(case: Case) -> Select[ScanItem]:
    return (
        select(ScanItem)
        .join(Scan, Scan.id == ScanItem.scan_id)
        .where(Scan.case_id == case.id)
        .order_by(ScanItem.path, ScanItem.id)
    )


def review_queue(
    session: Session, number: str, *, include_decided: bool = False, unmatched: bool = False
) -> list[ReviewEntry]:
    """Matched items (or, with ``unmatched``, items without matches) and their evidence."""
    case = get_case(session, number)
    items = list(session.scalars(_case_items(case)))
    evidence = _match_evidence(session, [i.id for i in items])
    reviews = {
        r.item_id: r
        for r in session.scalars(
            select(ItemReview).where(ItemReview.item_id.in_([i.id for i in items]))
        )
    }
    entries = []
    for item in items:
        matches = evidence.get(item.id, [])
        if unmatched == bool(matches) or (unmatched and item.error):
            continue
        review = reviews.get(item.id)
        entry = ReviewEntry(item.id, item.path, item.md5, item.sha1, item.sha256, item.pdq,
                            item.pdq_quality, matches)
        if review:
            entry.category, entry.notes, entry.tags = review.category, review.notes, review.tags
        if include_decided or unmatched or entry.pending:
            entries.append(entry)
    return entries


def _match_evidence(session: Session, item_ids: list[int]) -> dict[int, list[MatchEvidence]]:
    rows = session.execute(
        select(Match, KnownMedia, HashSet, MatchReview)
        .join(KnownMedia, KnownMedia.id == Match.known_media_id)
        .join(HashSet, HashSet.id == KnownMedia.set_id)
        .outerjoin(MatchReview, MatchReview.match_id == Match.id)
        .where(Match.item_id.in_(item_ids))
        .order_by(Match.item_id, Match.distance, HashSet.name, KnownMedia.media_id)
    )
    found: dict[int, list[MatchEvidence]] = {}
    for match, media, hash_set, review in rows:
        found.setdefault(match.item_id, []).append(
            MatchEvidence(
                match.id, hash_set.name, media.media_id, match.signal_type, match.distance,
                media.category, media.series, media.victim_identified,
                review.verdict if review else None,
                review.reviewer if review else None,
                review.reviewed_at if review else None,
            )
        )
    return found


def _case_of_match(session: Session, match: Match) -> Case:
    return session.scalars(
        select(Case)
        .join(Scan, Scan.case_id == Case.id)
        .join(ScanItem, ScanItem.scan_id == Scan.id)
        .where(ScanItem.id == match.item_id)
    ).one()


def decide_match(
    session: Session, match_id: int, verdict: str, *, reviewer: str, note: str = ""
) -> MatchReview:
    """Confirm or reject one candidate; a later decision replaces an earlier one."""
    if verdict not in VERDICTS:
        raise ReviewError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    match = session.get(Match, match_id)
    if match is None:
        raise ReviewError(f"no match {match_id}")
    case = _case_of_match(session, match)
    if case.status == "closed":
        raise ReviewError(f"case {case.number} is closed")
    review = session.scalar(select(MatchReview).where(MatchReview.match_id == match_id))
    previous = review.verdict if review else None
    if review is None:
        review = MatchReview(match_id=match_id, verdict=verdict, reviewer=reviewer, note=note)
        session.add(review)
    else:
        review.verdict, review.reviewer, review.note = verdict, reviewer, note
        review.reviewed_at = utcnow()
    session.flush()
    record_event(session, case, reviewer, f"match {verdict}", match_id=match_id,
                 previous=previous, note=note)
    record_feedback(session, match_id, FEEDBACK_VERDICT[verdict], examiner=reviewer,
                    agency=case.agency, note=note)
    return review


def categorise_item(
    session: Session, item_id: int, *, reviewer: str, category: int | None = None,
    notes: str | None = None, tags: list[str] | None = None,
) -> ItemReview:
    """Set or correct an item's category, notes and tags (matched or not)."""
    if category is not None and category not in CATEGORY_RANGE:
        raise ReviewError(f"category must be 0-4 (Project VIC), not {category}")
    item = session.get(ScanItem, item_id)
    if item is None:
        raise ReviewError(f"no item {item_id}")
    case = session.scalars(
        select(Case).join(Scan, Scan.case_id == Case.id).where(Scan.id == item.scan_id)
    ).one()
    if case.status == "closed":
        raise ReviewError(f"case {case.number} is closed")
    review = session.scalar(select(ItemReview).where(ItemReview.item_id == item_id))
    if review is None:
        review = ItemReview(item_id=item_id, reviewer=reviewer, tags=[])
        session.add(review)
    if category is not None:
        review.category = category
    if notes is not None:
        review.notes = notes
    if tags is not None:
        review.tags = sorted(set(tags))
    review.reviewer, review.reviewed_at = reviewer, utcnow()
    session.flush()
    record_event(session, case, reviewer, "item categorised", item_id=item_id,
                 category=review.category, tags=review.tags)
    return review
