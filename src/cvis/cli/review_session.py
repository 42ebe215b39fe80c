"""The interactive terminal review: one item at a time, its evidence, then a decision."""

from __future__ import annotations

from collections import Counter

import typer
from sqlalchemy.orm import Session

from cvis.cases.review import ReviewEntry, categorise_item, decide_match, review_queue
from cvis.cli import render

HELP = ("[c]onfirm all matches, [r]eject all, [0-4] set category, [n]ote, [t]ag, "
        "[s]kip, [q]uit")


def _decide(session: Session, case: str, entry: ReviewEntry, verdict: str, actor: str) -> str:
    for match in entry.matches:
        decide_match(session, match.match_id, verdict, reviewer=actor, case=case)
    ids = ", ".join(str(m.match_id) for m in entry.matches)
    return f"{verdict} match(es) {ids}" if entry.matches else "no matches to decide"


def _categorise(session: Session, case: str, entry: ReviewEntry, answer: str, actor: str) -> str:
    if answer == "n":
        categorise_item(session, entry.item_id, reviewer=actor, notes=typer.prompt("note"),
                        case=case)
        return "note saved"
    if answer == "t":
        tags = [t.strip() for t in typer.prompt("tags (comma-separated)").split(",")]
        categorise_item(session, entry.item_id, reviewer=actor, tags=[t for t in tags if t],
                        case=case)
        return "tags saved"
    categorise_item(session, entry.item_id, reviewer=actor, category=int(answer), case=case)
    return f"category {answer}"


def _handle(session: Session, case: str, entry: ReviewEntry, answer: str, actor: str,
            done: Counter[str]) -> bool:
    """Apply one answer, acknowledge it; True when the examiner is done with this item."""
    if answer in ("c", "r"):
        verdict = "confirmed" if answer == "c" else "rejected"
        render.note(f"item {entry.item_id}: {_decide(session, case, entry, verdict, actor)}")
        done[verdict] += len(entry.matches)
        return True
    if answer in {"0", "1", "2", "3", "4", "n", "t"}:
        render.note(f"item {entry.item_id}: {_categorise(session, case, entry, answer, actor)}")
        done["categorised" if answer.isdigit() else "annotated"] += 1
        return False
    if answer == "s":
        done["skipped"] += 1
        return True
    render.note(HELP)
    return False


def run_interactive_review(session: Session, case: str, actor: str, *, unmatched: bool) -> None:
    queue = review_queue(session, case, unmatched=unmatched)
    render.note(f"{len(queue)} item(s) to review in case {case}. {HELP}")
    done: Counter[str] = Counter()
    seen = 0
    for n, entry in enumerate(queue, start=1):
        render.review_entry(entry, n, len(queue))
        seen = n
        answer = ""
        while answer != "q":
            answer = typer.prompt("decision", default="s").strip().lower()
            if answer != "q" and _handle(session, case, entry, answer, actor, done):
                break
        session.flush()
        if answer == "q":
            break
    session.commit()
    render.review_summary(case, seen, len(queue), done)
