"""Undo for the review screen: each decision keeps what it replaced, per browser session.

The stack lives in the serving process (a restart forgets it; with several
workers, undo works within the worker that took the decision). Restoring goes
through the review services (``decide_match``, ``undo_match``, ``undo_item``), so the
case history records every undo like any other change. A verdict never changed a
hash set, so undoing one has nothing to lift there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.cases.review import categorise_item, decide_match, undo_item, undo_match
from cvis.store.models import ItemReview, Match, MatchReview

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
