"""What the analyst pages show of foreign work: hits awaiting a determination, a traveller
beside the registrant, notices with their deliveries, inbound requests, the complaints queue.

Every read asks the policy (``foreign:read`` on the screening, notice, request or
complaint, by agency) and is audited; the pages hold no rule of their own. A complaint
from the public portal names no notice, so it belongs to no agency until a reviewer ties
it to one of their agency's notices (``attach_notice``); until then every holder of
``foreign:read`` sees it in the queue (`cvis.foreign.access`).
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import FOREIGN_READ, FOREIGN_WRITE
from cvis.audit import audited
from cvis.foreign import notices
from cvis.foreign.models import (
    Complaint,
    Delivery,
    Determination,
    InboundRequest,
    Notice,
    ScreenedTraveller,
    Screening,
)
from cvis.fusion.common import audit_actor, aware, now
from cvis.policy import Actor, Resource
from cvis.store.db import Store

SIDE_BY_SIDE = ("given_names", "family_name", "aliases", "dob", "sex", "nationality",
                "passport_number")


def _hidden(kind: str, ident: object) -> policy.NotVisible:
    return policy.NotVisible(policy.Decision.deny(f"no such {kind}", hide=True), FOREIGN_READ,
                             Resource(kind, str(ident)))


def _screening_of(session: Session, traveller: ScreenedTraveller) -> Screening:
    screening = session.get(Screening, traveller.screening_id)
    assert screening is not None
    return screening


def _complaint_resource(session: Session, complaint: Complaint) -> Resource:
    notice = session.get(Notice, complaint.notice_id) if complaint.notice_id else None
    return Resource("complaint", complaint.id, notice.agency if notice else "")


def _inbound_resource(session: Session, request: InboundRequest) -> Resource:
    screening = session.get(Screening, request.screening_id) if request.screening_id else None
    return Resource("inbound", request.id, screening.agency if screening else "")


def _allowed(actor: Actor, resource: Resource, right: str = FOREIGN_READ) -> bool:
    return policy.decide(actor, right, resource).allowed


# ---------------------------------------------------------------------- screening hits


def pending_hits(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """Travellers with candidates and no determination yet, the soonest departure first."""
    with audited(store, "foreign", "travel.queue", "hits", actor=audit_actor(actor),
                 purpose=actor.purpose), store.session() as session:
        decided = set(session.scalars(select(Determination.traveller_id)))
        rows = []
        for t in session.scalars(select(ScreenedTraveller).order_by(
                ScreenedTraveller.departure_at)):
            if not t.candidates or t.id in decided:
                continue
            screening = _screening_of(session, t)
            if not _allowed(actor, Resource("screening", screening.id, screening.agency)):
                continue
            rows.append({"traveller_id": t.id, "name": _name(t.fields),
                         "destination": t.destination, "flight": t.flight,
                         "departure_at": aware(t.departure_at),
                         "hours_left": round((aware(t.departure_at) - now()).total_seconds()
                                             / 3600, 1),
                         "candidates": len(t.candidates), "kind": screening.kind,
                         "best": max(c["match_probability"] for c in t.candidates)})
        return rows


def _name(fields: dict[str, Any]) -> str:
    return " ".join(str(fields.get(k, "")) for k in ("given_names", "family_name")).strip()


def traveller_view(store: Store, actor: Actor, traveller_id: int) -> dict[str, Any]:
    """The traveller as the manifest gave them beside each candidate registrant's record
    (the facts a notice would carry), with the linkage's evidence and past determinations."""
    with audited(store, "foreign", "travel.read", f"traveller:{traveller_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        t = session.get(ScreenedTraveller, traveller_id)
        if t is None:
            raise _hidden("traveller", traveller_id)
        screening = _screening_of(session, t)
        policy.require(actor, FOREIGN_READ, Resource("screening", screening.id,
                                                     screening.agency))
        candidates = []
        for c in t.candidates:
            record = notices._record_of(session, c["registry_id"], {})
            candidates.append({**c, "rows": [(k, t.fields.get(k, ""), record.get(k, ""))
                                             for k in SIDE_BY_SIDE],
                               "convictions": [(label, record.get(k)) for k, label in
                                               notices.CONVICTION if record.get(k)],
                               "on_record": bool(record)})
        dets = session.scalars(select(Determination).where(
            Determination.traveller_id == t.id).order_by(Determination.id))
        determinations = [{"id": d.id, "registry_id": d.registry_id, "covered": d.covered,
                           "basis": d.basis, "notify": d.notify,
                           "no_notice_reason": d.no_notice_reason, "analyst": d.analyst,
                           "decided_at": aware(d.decided_at),
                           "notice_id": session.scalar(select(Notice.id).where(
                               Notice.determination_id == d.id))} for d in dets]
        return {"traveller_id": t.id, "fields": t.fields, "name": _name(t.fields),
                "destination": t.destination, "flight": t.flight,
                "departure_at": aware(t.departure_at), "zone": t.departure_zone,
                "hours_before": round(t.hours_before, 1), "screening_id": screening.id,
                "source": screening.kind, "candidates": candidates,
                "determinations": determinations}


# ---------------------------------------------------------------------- notices


def notice_view(store: Store, actor: Actor, notice_id: int) -> dict[str, Any]:
    """A notice, its life (drafted, confirmed, sent, received, answered) and every delivery."""
    with audited(store, "foreign", "notice.read", f"notice:{notice_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        n = notices._get(session, actor, notice_id, FOREIGN_READ)
        deliveries = [{"attempt": d.attempt, "at": aware(d.at), "outcome": d.outcome,
                       "detail": d.detail} for d in session.scalars(
            select(Delivery).where(Delivery.notice_id == n.id).order_by(Delivery.id))]
        corrected_by = session.scalar(select(Notice.id).where(Notice.corrects_id == n.id))
        before = (aware(n.sent_at) < aware(n.departure_at)
                  if n.sent_at and n.departure_at else None)
        return {"id": n.id, "kind": n.kind, "country": n.country, "channel": n.channel,
                "address": n.address, "language": n.language, "status": n.status,
                "registry_id": n.registry_id, "body": n.body, "key_id": n.key_id,
                "drafted_by": n.drafted_by, "drafted_at": aware(n.drafted_at),
                "confirmed_by": n.confirmed_by, "confirmed_at": _at(n.confirmed_at),
                "sent_at": _at(n.sent_at), "received_at": _at(n.received_at),
                "answered_at": _at(n.answered_at), "departure_at": _at(n.departure_at),
                "corrected_at": _at(n.corrected_at), "corrects": n.corrects_id,
                "corrected_by": corrected_by, "before_departure": before,
                "deliveries": deliveries,
                "text": notices.text_of(n, session.get(Notice, n.corrects_id)
                                        if n.corrects_id else None)}


def _at(value: datetime | None) -> datetime | None:
    return aware(value) if value else None


def notice_file(store: Store, actor: Actor, notice_id: int, fmt: str) -> bytes:
    """The notice as people read it (PDF) or as machines do (signed JSON); only a confirmed
    (signed) notice has the JSON."""
    with audited(store, "foreign", f"notice.download.{fmt}", f"notice:{notice_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        n = notices._get(session, actor, notice_id, FOREIGN_READ)
        if fmt == "json" and not n.signature:
            raise notices.NoticeError("a draft is not signed yet: confirm it first")
        corrects = session.get(Notice, n.corrects_id) if n.corrects_id else None
        with tempfile.TemporaryDirectory() as folder:
            if fmt == "pdf":
                from cvis.foreign import documents as docs

                return docs.pdf(notices.text_of(n, corrects), Path(folder) / "n.pdf",
                                f"N-{n.id}").read_bytes()
            files = notices.files_for(store, n, Path(folder), notices.text_of(n, corrects))
            return files["json"].read_bytes()


# ---------------------------------------------------------------------- inbound requests


def inbound_list(store: Store, actor: Actor) -> list[dict[str, Any]]:
    with audited(store, "foreign", "inbound.list", "inbound", actor=audit_actor(actor),
                 purpose=actor.purpose), store.session() as session:
        rows = []
        for r in session.scalars(select(InboundRequest).order_by(InboundRequest.id.desc())):
            if not _allowed(actor, _inbound_resource(session, r)):
                continue
            rows.append({"id": r.id, "country": r.country, "reference": r.reference,
                         "received_at": aware(r.received_at), "status": r.status,
                         "name": _name(r.traveller), "approver": r.approver})
        return sorted(rows, key=lambda r: r["status"] != "pending")


def inbound_view(store: Store, actor: Actor, request_id: int) -> dict[str, Any]:
    with audited(store, "foreign", "inbound.read", f"inbound:{request_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        r = session.get(InboundRequest, request_id)
        if r is None:
            raise _hidden("inbound", request_id)
        policy.require(actor, FOREIGN_READ, _inbound_resource(session, r))
        traveller = session.scalar(select(ScreenedTraveller).where(
            ScreenedTraveller.screening_id == r.screening_id))
        return {"id": r.id, "country": r.country, "reference": r.reference,
                "received_at": aware(r.received_at), "traveller": r.traveller,
                "status": r.status, "approver": r.approver, "decided_at": _at(r.decided_at),
                "answer": r.answer, "candidates": traveller.candidates if traveller else [],
                "traveller_id": traveller.id if traveller else None}


# ---------------------------------------------------------------------- complaints


def complaint_queue(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """Open complaints first, the overdue before the rest, each by its deadline; then the
    decided ones, newest first."""
    at = now()
    with audited(store, "foreign", "complaint.queue", "complaints", actor=audit_actor(actor),
                 purpose="redress"), store.session() as session:
        rows: list[dict[str, Any]] = []
        for c in session.scalars(select(Complaint)):
            if not _allowed(actor, _complaint_resource(session, c)):
                continue
            due = aware(c.due_at)
            rows.append({"id": c.id, "status": c.status, "complainant": c.complainant,
                         "received_at": aware(c.received_at), "due_at": due,
                         "overdue": c.status == "open" and due < at,
                         "days_left": (due - at).days, "notice_id": c.notice_id,
                         "channel": c.channel})
    open_ = sorted((r for r in rows if r["status"] == "open"),
                   key=lambda r: (not r["overdue"], r["due_at"]))
    done = sorted((r for r in rows if r["status"] != "open"),
                  key=lambda r: r["received_at"], reverse=True)
    return open_ + done


def complaint_view(store: Store, actor: Actor, complaint_id: int) -> dict[str, Any]:
    with audited(store, "foreign", "complaint.read", f"complaint:{complaint_id}",
                 actor=audit_actor(actor), purpose="redress"), store.session() as session:
        c = session.get(Complaint, complaint_id)
        if c is None:
            raise _hidden("complaint", complaint_id)
        policy.require(actor, FOREIGN_READ, _complaint_resource(session, c))
        due = aware(c.due_at)
        return {"id": c.id, "status": c.status, "complainant": c.complainant,
                "contact": c.contact, "language": c.language, "statement": c.statement,
                "channel": c.channel, "received_at": aware(c.received_at), "due_at": due,
                "overdue": c.status == "open" and due < now(), "notice_id": c.notice_id,
                "reviewer": c.reviewer, "decided_at": _at(c.decided_at),
                "explanation": c.explanation, "prevention": c.prevention,
                "correction_id": c.correction_id, "letter": c.letter}


def attach_notice(store: Store, actor: Actor, complaint_id: int, notice_id: int) -> None:
    """Tie a complaint (from the portal: no notice named) to the notice it is about; the
    reviewer must hold ``foreign:write`` on that notice, and the complaint then is its
    agency's."""
    with audited(store, "foreign", "complaint.attach", f"complaint:{complaint_id}",
                 actor=audit_actor(actor), purpose="redress") as note, \
            store.session() as session:
        c = session.get(Complaint, complaint_id)
        if c is None:
            raise _hidden("complaint", complaint_id)
        policy.require(actor, FOREIGN_WRITE, _complaint_resource(session, c))
        if c.status != "open":
            raise notices.NoticeError(f"complaint {complaint_id} is {c.status}")
        notices._get(session, actor, notice_id, FOREIGN_WRITE)
        c.notice_id = notice_id
        note.detail = f"notice:{notice_id}"


def letter_file(store: Store, actor: Actor, complaint_id: int) -> bytes:
    view = complaint_view(store, actor, complaint_id)
    path = Path(str(view["letter"].get("path", "")))
    if not view["letter"] or not path.is_file():
        raise LookupError(f"complaint {complaint_id} has no letter yet")
    return path.read_bytes()


def smtp_from_env() -> notices.SmtpSettings | None:
    """Where the web application sends notices through (``CVIS_SMTP_HOST``, ``_PORT``,
    ``CVIS_NOTICE_FROM``); None where no relay is set (notices then go out from the CLI)."""
    import os

    host = os.environ.get("CVIS_SMTP_HOST", "")
    if not host:
        return None
    return notices.SmtpSettings(host, int(os.environ.get("CVIS_SMTP_PORT", "25")),
                                os.environ.get("CVIS_NOTICE_FROM", "notices@localhost"),
                                retries=int(os.environ.get("CVIS_SMTP_RETRIES", "3")))
