"""The interactive terminal review: one item at a time, its evidence, then a decision."""

from __future__ import annotations

import typer
from sqlalchemy.orm import Session

from cvis.cases.review import ReviewEntry, categorise_item, decide_match, review_queue
from cvis.cli import render

HELP = ("[c]onfirm all matches, [r]eject all, [0-4] set category, [n]ote, [t]ag, "
        "[s]kip, [q]uit")


def _decide(session: Session, entry: ReviewEntry, verdict: str, actor: str) -> None:
    for match in entry.matches:
        decide_match(session, match.match_id, verdict, reviewer=actor)


def _handle(session: Session, entry: ReviewEntry, answer: str, actor: str) -> bool:
    """Apply one answer; True when the examiner is done with this item."""
    if answer == "c":
        _decide(session, entry, "confirmed", actor)
    elif answer == "r":
        _decide(session, entry, "rejected", actor)
    elif answer in {"0", "1", "2", "3", "4"}:
        categorise_item(session, entry.item_id, reviewer=actor, category=int(answer))
        return False
    elif answer == "n":
        categorise_item(session, entry.item_id, reviewer=actor, notes=typer.prompt("note"))
        return False
    elif answer == "t":
        tags = [t.strip() for t in typer.prompt("tags (comma-separated)").split(",")]
        categorise_item(session, entry.item_id, reviewer=actor, tags=[t for t in tags if t])
        return False
    elif answer != "s":
        render.note(HELP)
        return False
    return True


def run_interactive_review(session: Session, case: str, actor: str, *, unmatched: bool) -> None:
    queue = review_queue(session, case, unmatched=unmatched)
    render.note(f"{len(queue)} item(s) to review in case {case}. {HELP}")
    for n, entry in enumerate(queue, start=1):
        render.review_entry(entry, n, len(queue))
        while True:
            answer = typer.prompt("decision", default="s").strip().lower()
            if answer == "q":
                session.commit()
                return
            if _handle(session, entry, answer, actor):
                break
        session.flush()
