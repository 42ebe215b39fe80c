"""Cases: open, list, show, close; every change is recorded with who and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cvis.store.models import Case, CaseEvent, DeconflictionNotice, Evidence, Scan, utcnow


class CaseError(ValueError):
    """A case request that cannot be honoured (unknown, duplicate, closed)."""


class UnknownCase(CaseError, LookupError):
    """No case has the number given (an input error, not a failure)."""


@dataclass(frozen=True)
class CaseSummary:
    number: str
    title: str
    agency: str
    status: str
    scans: int
    created_at: datetime


@dataclass
class CaseDetail:
    summary: CaseSummary
    examiners: list[str]
    contact: str
    notes: str
    scans: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)


def record_event(
    session: Session, case: Case, actor: str, action: str, **detail: Any
) -> None:
    session.add(CaseEvent(case_id=case.id, actor=actor, action=action, detail=detail))


def get_case(session: Session, number: str) -> Case:
    case = session.scalar(select(Case).where(Case.number == number.strip()))
    if case is None:
        raise UnknownCase(f"no case numbered {number!r}")
    return case


def get_or_create_case(session: Session, number: str, actor: str = "cvis") -> Case:
    """Scans name a case by number; the first scan of a new number opens it."""
    number = number.strip()
    if not number:
        raise CaseError("a case number cannot be empty")
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        case = Case(number=number, examiners=[])
        session.add(case)
        session.flush()
        record_event(session, case, actor, "opened", by="scan")
    elif case.status == "closed":
        raise CaseError(f"case {number} is closed; reopen it before scanning")
    return case


def new_case(
    session: Session, number: str, *, actor: str, agency: str = "", title: str = "",
    examiners: list[str] | None = None, contact: str = "", notes: str = "",
) -> Case:
    number = number.strip()
    if not number:
        raise CaseError("a case number cannot be empty")
    if session.scalar(select(Case.id).where(Case.number == number)) is not None:
        raise CaseError(f"case {number} already exists")
    case = Case(number=number, agency=agency, title=title, examiners=examiners or [actor],
                contact=contact, notes=notes)
    session.add(case)
    session.flush()
    record_event(session, case, actor, "opened", agency=agency, title=title)
    return case


def close_case(session: Session, number: str, *, actor: str, reason: str = "") -> Case:
    case = get_case(session, number)
    if case.status == "closed":
        raise CaseError(f"case {number} is already closed")
    case.status, case.closed_at = "closed", utcnow()
    record_event(session, case, actor, "closed", reason=reason)
    return case


def reopen_case(session: Session, number: str, *, actor: str, reason: str = "") -> Case:
    """A closed case opened again (new evidence, an appeal); the history keeps both."""
    case = get_case(session, number)
    if case.status != "closed":
        raise CaseError(f"case {number} is not closed")
    case.status, case.closed_at = "open", None
    record_event(session, case, actor, "reopened", reason=reason)
    return case


def list_cases(session: Session) -> list[CaseSummary]:
    _mark_interrupted(session, None)
    scans = dict(
        session.execute(select(Scan.case_id, func.count()).group_by(Scan.case_id)).all()
    )
    return [
        CaseSummary(c.number, c.title, c.agency, c.status, scans.get(c.id, 0), c.created_at)
        for c in session.scalars(select(Case).order_by(Case.number))
    ]


def _mark_interrupted(session: Session, case_id: int | None) -> None:
    from cvis.cases.scan_state import mark_interrupted  # it records events through this module

    mark_interrupted(session, case_id)


def show_case(session: Session, number: str) -> CaseDetail:
    case = get_case(session, number)
    _mark_interrupted(session, case.id)
    scans = session.scalars(select(Scan).where(Scan.case_id == case.id).order_by(Scan.id))
    evidence = session.scalars(
        select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)
    )
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    )
    notices = session.execute(
        select(DeconflictionNotice, Case)
        .join(Case, Case.id == DeconflictionNotice.other_case_id)
        .where(DeconflictionNotice.case_id == case.id)
        .order_by(DeconflictionNotice.id)
    )
    summary = CaseSummary(case.number, case.title, case.agency, case.status,
                          0, case.created_at)
    detail = CaseDetail(summary, list(case.examiners), case.contact, case.notes)
    detail.scans = [
        {"id": s.id, "status": s.status, "items": s.item_count, "matches": s.match_count,
         "errors": s.error_count, "started_at": s.started_at, "finished_at": s.finished_at}
        for s in scans
    ]
    detail.evidence = [
        {"source": e.source_path, "kind": e.kind, "size": e.size, "sha256": e.sha256,
         "acquired_by": e.acquired_by, "acquired_at": e.acquired_at}
        for e in evidence
    ]
    detail.events = [
        {"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail} for e in events
    ]
    detail.notices = [
        {"other_case": other.number, "other_agency": other.agency, "contact": other.contact,
         "basis": n.basis, "shared": n.shared}
        for n, other in notices
    ]
    detail.summary = CaseSummary(case.number, case.title, case.agency, case.status,
                                 len(detail.scans), case.created_at)
    return detail
