"""Undo for the review screen: each decision keeps what it replaced, per browser session.

The stack is kept in the store (``web_undo``), written in the same transaction as the
decision it can undo, so undo works after a restart and whichever worker serves the
next request; an undone step is marked, never reused (two workers racing to undo the
same step: one wins). Restoring goes through the review services (``decide_match``,
``undo_match``, ``undo_item``), so the case history records every undo like any other
change. A verdict never changed a hash set, so undoing one has nothing to lift there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cvis.cases.review import categorise_item, decide_match, undo_item, undo_match
from cvis.store.models import ItemReview, Match, MatchReview, utcnow
from cvis.web.models import UndoStep

DEPTH = 50


@dataclass(frozen=True)
class Undo:
    """One decision as it was before: the item's match verdicts and its categorisation."""

    case: str
    item_id: int
    label: str
    verdicts: dict[int, tuple[str, str] | None]  # match id -> (verdict, note) before, or none
    review: tuple[int | None, str, list[str]] | None  # (category, notes, tags) before, or none


def snapshot(session: Session, case: str, item_id: int, label: str) -> Undo:
    verdicts: dict[int, tuple[str, str] | None] = {
        match_id: None for match_id in session.scalars(select(Match.id).where(
            Match.item_id == item_id))
    }
    for review in session.scalars(select(MatchReview).where(
            MatchReview.match_id.in_(list(verdicts)))):
        verdicts[review.match_id] = (review.verdict, review.note)
    row = session.scalar(select(ItemReview).where(ItemReview.item_id == item_id))
    before = (row.category, row.notes, list(row.tags)) if row else None
    return Undo(case, item_id, label, verdicts, before)


def restore(session: Session, undo: Undo, reviewer: str) -> None:
    for match_id, before in undo.verdicts.items():
        current = session.scalar(select(MatchReview).where(MatchReview.match_id == match_id))
        now = (current.verdict, current.note) if current else None
        if now == before:
            continue
        if before is not None:
            decide_match(session, match_id, before[0], reviewer=reviewer, note=before[1],
                         case=undo.case)
        elif current is not None:
            undo_match(session, match_id, reviewer=reviewer, note="undone on the review page",
                       case=undo.case)
    _restore_review(session, undo, reviewer)


def _restore_review(session: Session, undo: Undo, reviewer: str) -> None:
    row = session.scalar(select(ItemReview).where(ItemReview.item_id == undo.item_id))
    if row is None:
        return
    if undo.review is None:
        undo_item(session, undo.item_id, reviewer=reviewer, case=undo.case)
        return
    category, notes, tags = undo.review
    if (row.category, row.notes, list(row.tags)) != (category, notes, tags):
        categorise_item(session, undo.item_id, reviewer=reviewer, category=category,
                        notes=notes, tags=tags, case=undo.case)


def _encode(undo: Undo) -> dict[str, Any]:
    return {"verdicts": [[m, *(v or ())] for m, v in undo.verdicts.items()],
            "review": list(undo.review) if undo.review is not None else None}


def _decode(row: UndoStep) -> Undo:
    verdicts = {int(v[0]): (str(v[1]), str(v[2])) if len(v) == 3 else None
                for v in row.before.get("verdicts", [])}
    review = row.before.get("review")
    before = (review[0], review[1], list(review[2])) if review is not None else None
    return Undo(row.case_number, row.item_id, row.label, verdicts, before)


def push(session: Session, session_id: int | None, undo: Undo) -> None:
    """Remember a decision's before-state (in the decision's own transaction); a browser
    session keeps its last DEPTH."""
    session.add(UndoStep(session_id=session_id or 0, case_number=undo.case, item_id=undo.item_id,
                         label=undo.label[:500], before=_encode(undo)))
    session.flush()
    kept = select(UndoStep.id).where(UndoStep.session_id == (session_id or 0)).order_by(
        UndoStep.id.desc()).limit(DEPTH).scalar_subquery()
    oldest = session.scalar(select(UndoStep.id).where(UndoStep.id.in_(kept)).order_by(
        UndoStep.id).limit(1))
    if oldest is not None:
        session.execute(delete(UndoStep).where(UndoStep.session_id == (session_id or 0),
                                               UndoStep.id < oldest))


def _newest(session: Session, session_id: int | None, case: str) -> UndoStep | None:
    return session.scalar(select(UndoStep).where(
        UndoStep.session_id == (session_id or 0), UndoStep.case_number == case,
        UndoStep.undone_at.is_(None)).order_by(UndoStep.id.desc()).limit(1))


def peek(session: Session, session_id: int | None, case: str) -> Undo | None:
    """The decision an undo would take back now, if any."""
    row = _newest(session, session_id, case)
    return _decode(row) if row is not None else None


def pop(session: Session, session_id: int | None, case: str) -> Undo | None:
    """Take the newest decision of this session in this case off the stack (marked undone
    only if no other request took it first)."""
    while (row := _newest(session, session_id, case)) is not None:
        taken = session.execute(update(UndoStep).where(
            UndoStep.id == row.id, UndoStep.undone_at.is_(None)).values(undone_at=utcnow()))
        if getattr(taken, "rowcount", 1) == 1:
            return _decode(row)
        session.expire(row)
    return None
