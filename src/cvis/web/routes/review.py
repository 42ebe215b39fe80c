"""Review: a grid and a one-at-a-time view of a case's items; decisions by form or keyboard.

Every action is a plain form post (it works without JavaScript: post, then
back to the page); with htmx the response is the item's card alone. The
decisions go through the review services in cvis.cases.review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy.orm import Session

from cvis.accounts.roles import CASES_READ, CASES_WRITE
from cvis.cases.review import ReviewEntry, ReviewError, categorise_item, decide_match, review_queue
from cvis.web import undo as undo_steps
from cvis.web.render import is_htmx, page, see_other
from cvis.web.routes.common import NoSuch, ServicesDep, load_case, touch
from cvis.web.session import FormUserDep, UserDep, WebUser, session_started
from cvis.web.thumbnails import LAST_STEP, STEPS
from cvis.web.undo import restore, snapshot
from cvis.web.wellbeing import exposure, preferences

router = APIRouter()
GRID_PAGE = 50  # cards a grid page holds; j past the last one opens the next page


@dataclass(frozen=True)
class View:
    """Where the examiner is: grid or one at a time, which queue, which item."""

    number: str
    mode: str = "grid"
    queue: str = "matched"
    pending: bool = False
    index: int = 0

    def url(self, **changes: object) -> str:
        fields = {"view": self.mode, "queue": self.queue, "pending": int(self.pending),
                  "i": self.index} | changes
        return f"/cases/{self.number}/review?{urlencode(fields)}"


def _entries(session: Session, view: View) -> list[ReviewEntry]:
    return review_queue(session, view.number, include_decided=not view.pending,
                        unmatched=view.queue == "unmatched")


def _wellbeing(request: Request, services: ServicesDep, user: WebUser) -> dict[str, Any]:
    started = session_started(services, user)
    with services.store.session() as session:
        prefs = preferences(session, user.name)
        seen = exposure(session, user.name, user.session_id, started, prefs)
    return {"prefs": prefs, "exposure": seen}


@router.get("/cases/{number}/review")
def review_page(
    request: Request, services: ServicesDep, user: UserDep, number: str,
    view: Annotated[str, Query(pattern="^(grid|one)$")] = "grid",
    queue: Annotated[str, Query(pattern="^(matched|unmatched)$")] = "matched",
    pending: Annotated[int, Query(ge=0, le=1)] = 0,
    i: Annotated[int, Query(ge=0)] = 0,
    step: Annotated[int, Query(ge=0, le=LAST_STEP)] = 0,
    error: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    touch(request, f"case:{number} review", "web.review", purpose=f"case {number}")
    with services.store.session() as session:
        case = load_case(session, user, number, CASES_READ)
        state = View(case.number, view, queue, bool(pending), i)
        entries = _entries(session, state)
        last = undo_steps.peek(session, user.session_id, case.number)
    index = min(i, max(0, len(entries) - 1))
    if view == "grid":
        index -= index % GRID_PAGE
    state = View(state.number, view, queue, bool(pending), index)
    size = 1 if view == "one" else GRID_PAGE
    shown, first = entries[index:index + size], index
    return page(request, "review.html", user, title=f"Review {case.number}", case=case,
                view=state, entries=shown, first=first, total=len(entries), size=size,
                steps=STEPS,
                step=step, error=error, may_decide=user.may(CASES_WRITE),
                undo=last,
                **_wellbeing(request, services, user))


def _card(
    request: Request, services: ServicesDep, user: WebUser, view: View, item_id: int,
    step: int, error: str = "",
) -> Response:
    with services.store.session() as session:
        entries = _entries(session, View(view.number, view.mode, view.queue, False))
    position = next((n for n, e in enumerate(entries) if e.item_id == item_id), None)
    if position is None:
        raise NoSuch("That item is not in this case.")
    return page(request, "review.html", user, title="Review", block="card", partial=True,
                entry=entries[position], position=position, view=view, steps=STEPS,
                step=step, error=error, may_decide=user.may(CASES_WRITE), case=None,
                **_wellbeing(request, services, user))


@router.get("/cases/{number}/review/items/{item_id}")
def review_card(
    request: Request, services: ServicesDep, user: UserDep, number: str, item_id: int,
    view: Annotated[str, Query(pattern="^(grid|one)$")] = "grid",
    queue: Annotated[str, Query(pattern="^(matched|unmatched)$")] = "matched",
    step: Annotated[int, Query(ge=0, le=LAST_STEP)] = 0,
) -> Response:
    """One item's card (htmx: the reveal buttons swap it for a less protected one)."""
    touch(request, f"case:{number} item:{item_id}", "web.review.item", purpose=f"case {number}")
    with services.store.session() as session:
        case = load_case(session, user, number, CASES_READ)
    return _card(request, services, user, View(case.number, view, queue), item_id, step)


def _apply(
    session: Session, user: WebUser, entry: ReviewEntry, action: str, *, reason: str,
    category: int | None, note: str, tag: str,
) -> None:
    if action == "confirm":
        for match in entry.matches:
            if match.verdict != "confirmed":
                decide_match(session, match.match_id, "confirmed", reviewer=user.name)
    elif action == "reject":
        if not reason.strip():
            raise ReviewError("Say why you reject this match (for example: a different "
                              "picture), then press Reject again.")
        for match in entry.matches:
            decide_match(session, match.match_id, "rejected", reviewer=user.name,
                         note=reason.strip())
    elif action == "category":
        if category is None:
            raise ReviewError("Choose a category from 0 to 4.")
        categorise_item(session, entry.item_id, reviewer=user.name, category=category)
    elif action == "note":
        categorise_item(session, entry.item_id, reviewer=user.name, notes=note.strip())
    elif action == "tag":
        tags = [t.strip() for t in tag.split(",") if t.strip()]
        if not tags:
            raise ReviewError("Type a tag to add, then press Add tag.")
        categorise_item(session, entry.item_id, reviewer=user.name,
                        tags=sorted(set(entry.tags) | set(tags)))


@router.post("/cases/{number}/review/items/{item_id}")
def review_action(
    request: Request, services: ServicesDep, user: FormUserDep, number: str, item_id: int,
    action: Annotated[str, Form(pattern="^(confirm|reject|category|note|tag)$")],
    reason: Annotated[str, Form(max_length=1000)] = "",
    category: Annotated[int | None, Form(ge=0, le=4)] = None,
    note: Annotated[str, Form(max_length=4000)] = "",
    tag: Annotated[str, Form(max_length=200)] = "",
    view: Annotated[str, Form(pattern="^(grid|one)$")] = "grid",
    queue: Annotated[str, Form(pattern="^(matched|unmatched)$")] = "matched",
    pending: Annotated[int, Form(ge=0, le=1)] = 0,
    i: Annotated[int, Form(ge=0)] = 0,
    step: Annotated[int, Form(ge=0, le=LAST_STEP)] = 0,
) -> Response:
    touch(request, f"case:{number} item:{item_id} {action}", f"web.review.{action}",
          purpose=f"case {number}")
    state = View(number, view, queue, bool(pending), i)
    error = ""
    with services.store.session() as session:
        case = load_case(session, user, number, CASES_WRITE)
        entry = next((e for e in _entries(session, View(case.number, view, queue))
                      if e.item_id == item_id), None)
        if entry is None:
            raise NoSuch("That item is not in this case.")
        before = snapshot(session, case.number, item_id, f"{action} on {entry.path}")
        try:
            # Each check in _apply comes before its first write: a refusal changes nothing.
            _apply(session, user, entry, action, reason=reason, category=category, note=note,
                   tag=tag)
            undo_steps.push(session, user.session_id, before)
        except ReviewError as exc:
            request.state.audit_outcome = "failure"
            error = str(exc)
    if is_htmx(request):
        return _card(request, services, user, state, item_id, step, error)
    target = state.url(error=error) if error else state.url()
    return see_other(f"{target}#item-{item_id}")


@router.post("/cases/{number}/review/undo")
def review_undo(
    request: Request, services: ServicesDep, user: FormUserDep, number: str,
    view: Annotated[str, Form(pattern="^(grid|one)$")] = "grid",
    queue: Annotated[str, Form(pattern="^(matched|unmatched)$")] = "matched",
    pending: Annotated[int, Form(ge=0, le=1)] = 0,
    i: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    touch(request, f"case:{number} undo", "web.review.undo", purpose=f"case {number}")
    state = View(number, view, queue, bool(pending), i)
    with services.store.session() as session:
        case = load_case(session, user, number, CASES_WRITE)
        undo = undo_steps.pop(session, user.session_id, case.number)
        if undo is not None:
            restore(session, undo, user.name)
            touch(request, f"case:{number} item:{undo.item_id} undo {undo.label}")
    if undo is None:
        return see_other(state.url(error="There is nothing to undo."))
    if is_htmx(request):
        response = _card(request, services, user, state, undo.item_id, 0)
        response.headers["HX-Retarget"] = f"#item-{undo.item_id}"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return see_other(f"{state.url()}#item-{undo.item_id}")


@router.get("/review/exposure")
def exposure_status(request: Request, services: ServicesDep, user: UserDep) -> Response:
    """The exposure counter alone (refreshed after a revealed picture loads)."""
    touch(request, f"exposure:{user.name}", "web.exposure")
    return page(request, "review.html", user, title="Exposure", block="exposure", partial=True,
                **_wellbeing(request, services, user))
