"""Undo for the review screen: each decision keeps what it replaced, per browser session.

The stack lives in the serving process (a restart forgets it; with several
workers, undo works within the worker that took the decision). Restoring goes
through the review services where they can express it; withdrawing a first
verdict or category (there is no service for "undecided") is done here and
recorded in the case history like any other change; withdrawing a rejection also
withdraws the suppression it made for the case's agency (a curator's suppression for
every agency is the curator's to lift). The feedback rows stay: they are history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cvis.cases.review import decide_match
from cvis.cases.service import get_case, record_event
from cvis.hashsets.feedback import AgencySuppression
from cvis.store.models import ItemReview, KnownMedia, KnownSignal, Match, MatchReview

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
            decide_match(session, match_id, before[0], reviewer=reviewer, note=before[1])
        elif current is not None:
            _withdraw_verdict(session, undo.case, current, reviewer)
    _restore_review(session, undo, reviewer)


def _withdraw_verdict(session: Session, number: str, review: MatchReview, reviewer: str) -> None:
    case = get_case(session, number)
    if review.verdict == "rejected" and case.agency:  # the agency's own suppression goes too
        found = session.execute(
            select(KnownMedia.set_id, KnownSignal.signal_type, KnownSignal.value)
            .join(Match, Match.known_media_id == KnownMedia.id)
            .join(KnownSignal, KnownSignal.media_pk == KnownMedia.id)
            .where(Match.id == review.match_id, KnownSignal.signal_type == Match.signal_type)
        ).first()
        if found is not None:
            set_id, signal_type, value = found
            session.execute(delete(AgencySuppression).where(
                AgencySuppression.set_id == set_id, AgencySuppression.agency == case.agency,
                AgencySuppression.signal_type == signal_type, AgencySuppression.value == value))
    session.delete(review)
    record_event(session, case, reviewer, "match verdict withdrawn", match_id=review.match_id,
                 previous=review.verdict)


def _restore_review(session: Session, undo: Undo, reviewer: str) -> None:
    row = session.scalar(select(ItemReview).where(ItemReview.item_id == undo.item_id))
    if row is None:
        return
    category, notes, tags = undo.review or (None, "", [])
    if (row.category, row.notes, list(row.tags)) == (category, notes, tags):
        return
    row.category, row.notes, row.tags, row.reviewer = category, notes, tags, reviewer
    record_event(session, get_case(session, undo.case), reviewer, "item categorisation undone",
                 item_id=undo.item_id, category=category, tags=tags)


class UndoStacks:
    """The last decisions of each browser session, newest last."""

    def __init__(self) -> None:
        self._stacks: dict[int, list[Undo]] = defaultdict(list)

    def push(self, session_id: int | None, undo: Undo) -> None:
        stack = self._stacks[session_id or 0]
        stack.append(undo)
        del stack[:-DEPTH]

    def pop(self, session_id: int | None, case: str) -> Undo | None:
        stack = self._stacks[session_id or 0]
        for index in range(len(stack) - 1, -1, -1):
            if stack[index].case == case:
                return stack.pop(index)
        return None

    def peek(self, session_id: int | None, case: str) -> Undo | None:
        return next((u for u in reversed(self._stacks[session_id or 0]) if u.case == case), None)
