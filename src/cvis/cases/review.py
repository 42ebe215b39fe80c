"""Review: the queue of candidate matches with their evidence, and the examiner's decisions.

Matches and scan items stay exactly as the scan found them; verdicts and
categorisations are separate rows, so the record of what the machine said and
what a person decided are never mixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cvis.cases.service import get_case, record_event
from cvis.hashsets.contacts import SeriesBook
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


class NotInCase(ReviewError, LookupError):
    """An id the examiner typed that is not the named case's (an input error)."""


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
    # a video match (signal vpdq): query/compared percentages and matching time ranges
    video: dict[str, Any] | None = None


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
    book = SeriesBook(session)  # identified status from the series when the media has none
    for match, media, hash_set, review in rows:
        found.setdefault(match.item_id, []).append(
            MatchEvidence(
                match.id, hash_set.name, media.media_id, match.signal_type, match.distance,
                media.category, media.series, book.identification(media).victim_identified,
                review.verdict if review else None,
                review.reviewer if review else None,
                review.reviewed_at if review else None,
                dict(match.video) if match.video else None,
            )
        )
    return found


def _open_case(session: Session, number: str | None, *, match_id: int | None = None,
               item_id: int | None = None) -> Case:
    """The case named (or, when none is named, the one the match or item belongs to); open."""
    if number is not None:
        case = get_case(session, number)
    else:
        case = _owning_case(session, match_id, item_id)
    if case.status == "closed":
        raise ReviewError(f"case {case.number} is closed; `cvis case reopen {case.number}` first")
    return case


def _match_in_case(session: Session, case: Case, match_id: int) -> Match:
    """The match, only when it was found by one of this case's scans."""
    match = session.scalar(
        select(Match)
        .join(ScanItem, ScanItem.id == Match.item_id)
        .join(Scan, Scan.id == ScanItem.scan_id)
        .where(Match.id == match_id, Scan.case_id == case.id)
    )
    if match is None:
        raise NotInCase(f"case {case.number} has no match {match_id}")
    return match


def _item_in_case(session: Session, case: Case, item_id: int) -> ScanItem:
    item = session.scalar(
        select(ScanItem)
        .join(Scan, Scan.id == ScanItem.scan_id)
        .where(ScanItem.id == item_id, Scan.case_id == case.id)
    )
    if item is None:
        raise NotInCase(f"case {case.number} has no item {item_id}")
    return item


def _owning_case(session: Session, match_id: int | None, item_id: int | None) -> Case:
    query = select(Case).join(Scan, Scan.case_id == Case.id).join(
        ScanItem, ScanItem.scan_id == Scan.id)
    if match_id is not None:
        query = query.join(Match, Match.item_id == ScanItem.id).where(Match.id == match_id)
    else:
        query = query.where(ScanItem.id == item_id)
    case = session.scalar(query)
    if case is None:
        what = f"match {match_id}" if match_id is not None else f"item {item_id}"
        raise ReviewError(f"no {what}")
    return case


def check_matches(session: Session, number: str, match_ids: list[int]) -> None:
    """Every id belongs to the case, or nothing is decided (repeated --match all apply)."""
    case = get_case(session, number)
    for match_id in match_ids:
        _match_in_case(session, case, match_id)


def decide_match(
    session: Session, match_id: int, verdict: str, *, reviewer: str, note: str = "",
    case: str | None = None,
) -> MatchReview:
    """Confirm or reject one of the case's candidates; a later decision replaces an earlier one.

    The verdict is the case's and the examiner's alone: it never changes a hash set (the
    set owner decides suppressions, through `cvis sets feedback`). The case history keeps
    every decision with the one it replaced. ``case``, when given (the CLI always gives
    it), must be the match's case: an id of another case is refused (NotInCase).
    """
    if verdict not in VERDICTS:
        raise ReviewError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    owner = _open_case(session, case, match_id=match_id)
    _match_in_case(session, owner, match_id)
    review = session.scalar(select(MatchReview).where(MatchReview.match_id == match_id))
    previous = _verdict_of(review)
    if review is None:
        review = MatchReview(match_id=match_id, verdict=verdict, reviewer=reviewer, note=note)
        session.add(review)
    else:
        review.verdict, review.reviewer, review.note = verdict, reviewer, note
        review.reviewed_at = utcnow()
    session.flush()
    record_event(session, owner, reviewer, f"match {verdict}", match_id=match_id,
                 previous=previous, note=note)
    return review


def undo_match(session: Session, match_id: int, *, reviewer: str, note: str = "",
               case: str | None = None) -> dict[str, str] | None:
    """Withdraw the verdict on a match: it is pending again; the history keeps what it was."""
    owner = _open_case(session, case, match_id=match_id)
    _match_in_case(session, owner, match_id)
    review = session.scalar(select(MatchReview).where(MatchReview.match_id == match_id))
    if review is None:
        raise ReviewError(f"match {match_id} has no decision to undo")
    previous = _verdict_of(review)
    session.delete(review)
    session.flush()
    record_event(session, owner, reviewer, "match decision undone", match_id=match_id,
                 previous=previous, note=note)
    return previous


def _verdict_of(review: MatchReview | None) -> dict[str, str] | None:
    if review is None:
        return None
    return {"verdict": review.verdict, "reviewer": review.reviewer,
            "reviewed_at": review.reviewed_at.isoformat() if review.reviewed_at else "",
            "note": review.note}


def undo_item(session: Session, item_id: int, *, reviewer: str,
              case: str | None = None) -> None:
    """Withdraw an item's categorisation, notes and tags; the history keeps what they were."""
    owner = _open_case(session, case, item_id=item_id)
    _item_in_case(session, owner, item_id)
    review = session.scalar(select(ItemReview).where(ItemReview.item_id == item_id))
    if review is None:
        raise ReviewError(f"item {item_id} has no categorisation to undo")
    previous = {"category": review.category, "notes": review.notes, "tags": review.tags,
                "reviewer": review.reviewer}
    session.delete(review)
    session.flush()
    record_event(session, owner, reviewer, "item categorisation undone", item_id=item_id,
                 previous=previous)


def categorise_item(
    session: Session, item_id: int, *, reviewer: str, category: int | None = None,
    notes: str | None = None, tags: list[str] | None = None, case: str | None = None,
) -> ItemReview:
    """Set or correct an item's category, notes and tags (matched or not); ``case``, when
    given, must be the item's case."""
    if category is not None and category not in CATEGORY_RANGE:
        raise ReviewError(f"category must be 0-4 (Project VIC), not {category}")
    owner = _open_case(session, case, item_id=item_id)
    _item_in_case(session, owner, item_id)
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
    record_event(session, owner, reviewer, "item categorised", item_id=item_id,
                 category=review.category, tags=review.tags)
    return review
