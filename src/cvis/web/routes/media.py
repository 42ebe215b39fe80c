"""Thumbnails for review: made on request, protected on the server, every reveal audited."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.accounts.roles import CASES_READ
from cvis.audit.log import Actor as AuditActor
from cvis.audit.log import AuditEntry, record_event
from cvis.store.models import (
    AuditRecord,
    Case,
    ItemReview,
    KnownMedia,
    Match,
    Scan,
    ScanItem,
    utcnow,
)
from cvis.web import thumbnails
from cvis.web.routes.common import NoSuch, ServicesDep, load_case, require_right, touch
from cvis.web.session import UserDep, WebUser, session_started
from cvis.web.wellbeing import (
    REVEAL_EVENT,
    SEVERE,
    Preferences,
    counts_as_severe,
    exposure,
    preferences,
    reveal_detail,
)

router = APIRouter()


def item_category(session: Session, item_id: int) -> int | None:
    """The examiner's category if given, else the most severe category of its matches."""
    given = session.scalar(select(ItemReview.category).where(ItemReview.item_id == item_id))
    if given is not None:
        return given
    known = {c for c in session.scalars(
        select(KnownMedia.category).join(Match, Match.known_media_id == KnownMedia.id)
        .where(Match.item_id == item_id)) if c is not None}
    severe = sorted(known & set(SEVERE))
    return severe[0] if severe else (min(known) if known else None)


def _revealed_today(session: Session, user: str, obj: str) -> bool:
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return session.scalar(select(AuditRecord.id).where(
        AuditRecord.event == REVEAL_EVENT, AuditRecord.user == user, AuditRecord.object == obj,
        AuditRecord.at >= midnight, AuditRecord.outcome == "success").limit(1)) is not None


def _inside_roots(path: str, roots: tuple[Path, ...]) -> bool:
    if not roots:
        return True
    resolved = Path(path).resolve()
    return any(resolved.is_relative_to(root) for root in roots)


def _image(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="image/jpeg",
                    headers={"Cache-Control": "no-store"})


@router.get("/media/{item_id}")
def thumbnail(
    request: Request, services: ServicesDep, user: UserDep, item_id: int,
    step: Annotated[int, Query(ge=0, le=thumbnails.LAST_STEP)] = 0,
) -> Response:
    return _protected(request, services, user, item_id, step, thumbnails.render)


@router.get("/media/{item_id}/frame")
def video_frame(
    request: Request, services: ServicesDep, user: UserDep, item_id: int,
    at: Annotated[float, Query(ge=0, le=86_400)] = 0.0,
    step: Annotated[int, Query(ge=0, le=thumbnails.LAST_STEP)] = 0,
) -> Response:
    """One keyframe of a video item at ``at`` seconds (a matching range's strip): decoded from
    the evidence on request, protected and audited like a thumbnail, never stored."""
    return _protected(request, services, user, item_id, step,
                      lambda path, shown: thumbnails.render_frame(path, at, shown))


def _protected(
    request: Request, services: ServicesDep, user: UserDep, item_id: int, step: int,
    render: Callable[[str, thumbnails.Step], bytes],
) -> Response:
    obj = f"item:{item_id}"
    touch(request, obj, "web.thumbnail")
    require_right(user, CASES_READ, "case")
    with services.store.session() as session:
        item = session.get(ScanItem, item_id)
        if item is None:
            raise NoSuch("There is no such item.")
        case = _case_of(session, user, item)
        prefs = preferences(session, user.name)
        shown = thumbnails.effective_step(step, prefs)
        category = item_category(session, item_id)
        path = item.path
        if thumbnails.is_reveal(shown):
            refusal = _cap_refusal(services, session, user, obj, category, prefs)
            if refusal:
                request.state.audit_outcome = "denied"
                return _image(thumbnails.placeholder(refusal), 403)
    if not _inside_roots(path, services.settings.evidence_roots):
        return _image(thumbnails.placeholder("no preview: outside the evidence roots"), 404)
    if thumbnails.is_reveal(shown):
        # Written before the pixels leave: no reveal goes unrecorded.
        record_event(services.store, AuditEntry(
            "web", REVEAL_EVENT,
            AuditActor(user.name, user.principal.agency,
                       request.client.host if request.client else ""),
            "success", obj, f"case {case}", reveal_detail(category, shown.number,
                                                          user.session_id)))
        touch(request, obj, "web.thumbnail.revealed")
    try:
        return _image(render(path, shown))
    except thumbnails.NoPreview as exc:
        return _image(thumbnails.placeholder(str(exc)), 404)


def _case_of(session: Session, user: WebUser, item: ScanItem) -> str:
    scan = session.get(Scan, item.scan_id)
    case = session.get(Case, scan.case_id) if scan else None
    if case is None:
        raise NoSuch("There is no such item.")
    try:
        return load_case(session, user, case.number, CASES_READ).number
    except NoSuch:
        raise NoSuch("There is no such item.") from None


def _cap_refusal(
    services: ServicesDep, session: Session, user: WebUser, obj: str, category: int | None,
    prefs: Preferences,
) -> str:
    """Why a reveal is refused today (the cap on category 1-2 items), or ""."""
    if not counts_as_severe(category) or _revealed_today(session, user.name, obj):
        return ""
    seen = exposure(session, user.name, user.session_id, session_started(services, user), prefs)
    return "daily limit reached: see your settings" if seen.cap_reached else ""
