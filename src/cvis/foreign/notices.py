"""Notices to foreign governments: drafted from the record, confirmed by an officer, signed,
delivered by SMTP with retries, tracked; complaints reviewed by a deadline and wrong notices
corrected at once, with a letter to the person.

A notice carries identity and conviction data and no recommended action.
"""

from __future__ import annotations

import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cvis import policy
from cvis.audit import Actor as AuditActor
from cvis.audit import AuditEntry, audited, record_event
from cvis.foreign import documents as docs
from cvis.foreign.models import (
    Complaint,
    Delivery,
    Determination,
    Notice,
    ScreenedTraveller,
    Screening,
)
from cvis.fusion import subjects as subj
from cvis.fusion.common import audit_actor, aware, now
from cvis.policy import Actor, Resource
from cvis.store.db import Store

IDENTITY = (("given_names", "Given names"), ("family_name", "Family name"),
            ("aliases", "Aliases"), ("dob", "Date of birth"), ("sex", "Sex"),
            ("nationality", "Nationality"), ("passport_number", "Passport"))
CONVICTION = (("offence", "Offence"), ("conviction_date", "Convicted on"),
              ("offence_against_child", "Offence against a child"),
              ("contact_offence", "Contact offence"), ("jurisdiction", "Jurisdiction"))
COMPLAINT_DAYS = 15  # a complaint is answered within this many days


class NoticeError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    retries: int = 3
    backoff_s: float = 1.0
    timeout_s: float = 10.0


def _resource(notice: Notice) -> Resource:
    return Resource("notice", notice.id, notice.agency)


def _get(session: Session, actor: Actor, notice_id: int, right: str) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise policy.NotVisible(policy.Decision.deny("no such notice", hide=True), right,
                                Resource("notice", notice_id))
    policy.require(actor, right, _resource(notice))
    return notice


def _record_of(session: Session, registry_id: str, traveller: dict[str, Any]) -> dict[str, Any]:
    """Identity and conviction data: the subject's registry facts, else the manifest's."""
    record = {k: v for k, v in traveller.items() if v}
    try:
        subject = subj.get_subject(session, subj.subject_key(registry_id))
    except subj.SubjectError:
        return record
    for fact in subj.facts_of(session, subject):
        if fact.source_kind == "registry" and fact.value not in (None, ""):
            record[fact.name] = fact.value
    return record


def _body(kind: str, record: dict[str, Any], country: str, registry_id: str,
          departure: datetime | None) -> dict[str, Any]:
    return {"kind": kind, "country": country, "registry_id": registry_id,
            "departure_at": departure.isoformat() if departure else "",
            "identity": [[label, str(record[k])] for k, label in IDENTITY if record.get(k)],
            "convictions": [[label, _yes(record[k])] for k, label in CONVICTION
                            if record.get(k) not in (None, "", False)]}


def _yes(value: Any) -> str:
    return "yes" if value is True else str(value)


def draft_traveller_notice(store: Store, actor: Actor, determination_id: int) -> int:
    """A notice from an analyst's covered determination, to the destination country."""
    with audited(store, "foreign", "notice.draft", f"determination:{determination_id}",
                 actor=audit_actor(actor), purpose=actor.purpose) as note, \
            store.session() as session:
        det = session.get(Determination, determination_id)
        if det is None:
            raise NoticeError(f"no such determination {determination_id}")
        if not (det.covered and det.notify):
            raise NoticeError("only a covered traveller the analyst chose to notify gets one")
        traveller = session.get(ScreenedTraveller, det.traveller_id)
        assert traveller is not None
        screening = session.get(Screening, traveller.screening_id)
        assert screening is not None
        policy.require(actor, "foreign:write", Resource("screening", screening.id,
                                                        screening.agency))
        departure = aware(traveller.departure_at)
        body = _body("traveller", _record_of(session, det.registry_id, traveller.fields),
                     traveller.destination, det.registry_id, departure)
        notice_id = _new(session, actor, body, "traveller", traveller.destination,
                         det.registry_id, departure, determination_id=det.id)
        note.object = f"notice:{notice_id}"
        return notice_id


def draft_removal_notice(store: Store, actor: Actor, registry_id: str, country: str,
                         departure: datetime | None) -> int:
    """A removal notice drafted from the subject's record."""
    with audited(store, "foreign", "notice.draft", f"removal:{registry_id}",
                 actor=audit_actor(actor), purpose=actor.purpose) as note, \
            store.session() as session:
        policy.require(actor, "foreign:write", Resource("notice", agency=actor.agency))
        body = _body("removal", _record_of(session, registry_id, {}), country.upper(),
                     registry_id, departure)
        notice_id = _new(session, actor, body, "removal", country.upper(), registry_id,
                         departure)
        note.object = f"notice:{notice_id}"
        return notice_id


def _new(session: Session, actor: Actor, body: dict[str, Any], kind: str, country: str,
         registry_id: str, departure: datetime | None, **extra: Any) -> int:
    channel = docs.channel_for(country)
    notice = Notice(kind=kind, registry_id=registry_id, subject_ref=subj.subject_key(
        registry_id), country=country, channel=channel.kind, address=channel.address,
        language=channel.language, body=body, agency=actor.agency, departure_at=departure,
        drafted_by=actor.name, **extra)
    session.add(notice)
    session.flush()
    return notice.id


def confirm(store: Store, officer: Actor, notice_id: int) -> None:
    """An officer confirms the draft; it is signed then (Ed25519) and frozen."""
    with audited(store, "foreign", "notice.confirm", f"notice:{notice_id}",
                 actor=audit_actor(officer), purpose=officer.purpose), \
            store.session() as session:
        notice = _get(session, officer, notice_id, "foreign:confirm")
        if notice.status != "draft":
            raise NoticeError(f"notice {notice_id} is {notice.status}, not a draft")
        body = {**notice.body, "reference": f"N-{notice.id}",
                "language": notice.language, "confirmed_by": officer.name}
        notice.body = body
        notice.signature, notice.key_id = docs.sign(body, store.settings.home)
        notice.status, notice.confirmed_by, notice.confirmed_at = "confirmed", officer.name, now()


def text_of(notice: Notice, corrects: Notice | None = None, reason: str = "") -> str:
    body = notice.body
    return docs.render("notice", notice.language, {
        "kind": notice.kind, "reference": f"N-{notice.id}", "country": notice.country,
        "date": docs.local_date(aware(notice.confirmed_at or notice.drafted_at).date(),
                                notice.language),
        "departure": docs.local_date(aware(notice.departure_at), notice.language)
        if notice.departure_at else "",
        "identity": body.get("identity", []), "convictions": body.get("convictions", []),
        "corrects": f"N-{corrects.id}" if corrects else "",
        "corrects_date": docs.local_date(aware(corrects.drafted_at).date(), notice.language)
        if corrects else "", "reason": reason or body.get("reason", "")})


def files_for(store: Store, notice: Notice, folder: Path, text: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pdf = docs.pdf(text, folder / f"N-{notice.id}.pdf", f"N-{notice.id}")
    signed = folder / f"N-{notice.id}.json"
    import json

    signed.write_text(json.dumps(docs.signed_document(notice.body, notice.signature,
                                                      notice.key_id, store.settings.home),
                                 indent=2, ensure_ascii=False), encoding="utf-8")
    return {"pdf": pdf, "json": signed}


def send(store: Store, actor: Actor, notice_id: int, smtp: SmtpSettings,
         folder: Path | None = None) -> bool:
    """Deliver a confirmed notice by SMTP, retrying; every attempt kept and audited."""
    with store.session() as session:
        notice = _get(session, actor, notice_id, "foreign:write")
        if notice.status not in ("confirmed", "failed"):
            raise NoticeError(f"notice {notice_id} is {notice.status}: confirm it first")
        corrects = session.get(Notice, notice.corrects_id) if notice.corrects_id else None
        text = text_of(notice, corrects)
        files = files_for(store, notice, folder or store.settings.home / "notices", text)
        message = _message(notice, smtp.sender, text, files)
    for attempt in range(1, smtp.retries + 1):
        outcome, detail = _deliver(message, smtp)
        with store.session() as session:
            session.add(Delivery(notice_id=notice_id, attempt=attempt, outcome=outcome,
                                 detail=detail))
            if outcome == "sent":
                row = session.get(Notice, notice_id)
                assert row is not None
                row.status, row.sent_at = "sent", now()
            elif attempt == smtp.retries:
                row = session.get(Notice, notice_id)
                assert row is not None
                row.status = "failed"
        record_event(store, AuditEntry("foreign", "notice.send", audit_actor(actor), outcome
                                       if outcome == "sent" else "failure",
                                       f"notice:{notice_id} attempt:{attempt}",
                                       actor.purpose, detail))
        if outcome == "sent":
            return True
        time.sleep(smtp.backoff_s * attempt)
    return False


def _message(notice: Notice, sender: str, text: str, files: dict[str, Path]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, notice.address
    msg["Subject"] = f"{notice.body.get('kind', notice.kind)} notice N-{notice.id}"
    msg.set_content(text)
    msg.add_attachment(files["pdf"].read_bytes(), maintype="application", subtype="pdf",
                       filename=files["pdf"].name)
    msg.add_attachment(files["json"].read_bytes(), maintype="application", subtype="json",
                       filename=files["json"].name)
    return msg


def _deliver(message: EmailMessage, smtp: SmtpSettings) -> tuple[str, str]:
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        return "failed", f"{type(exc).__name__}: {exc}"
    return "sent", f"accepted by {smtp.host}:{smtp.port}"


def mark(store: Store, actor: Actor, notice_id: int, event: str) -> None:
    """The country acknowledged receipt, or answered."""
    if event not in ("received", "answered"):
        raise NoticeError("event is received or answered")
    with audited(store, "foreign", f"notice.{event}", f"notice:{notice_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        notice = _get(session, actor, notice_id, "foreign:write")
        setattr(notice, f"{event}_at", now())


# ---------------------------------------------------------------------- complaints


def file_complaint(store: Store, complainant: str, statement: str, *, notice_id: int | None,
                   contact: str = "", language: str = "en", channel: str = "portal",
                   received: datetime | None = None, by: AuditActor | None = None) -> int:
    """A complaint in (the portal's form, a letter): it gets a review deadline. ``by`` is
    who the audit names (the portal files as the public)."""
    at = received or now()
    with audited(store, "foreign", "complaint.file", f"notice:{notice_id}",
                 purpose="redress", actor=by) as note, store.session() as session:
        row = Complaint(notice_id=notice_id, channel=channel, complainant=complainant,
                        contact=contact, language=language, statement=statement,
                        received_at=at, due_at=at + timedelta(days=COMPLAINT_DAYS))
        session.add(row)
        session.flush()
        note.object = f"complaint:{row.id}"
        return row.id


def review_complaint(store: Store, officer: Actor, complaint_id: int, *, upheld: bool,
                     explanation: str, prevention: str = "", smtp: SmtpSettings | None = None,
                     folder: Path | None = None) -> dict[str, Any]:
    """Decide a complaint. Upheld: a correction to the country at once, the records fixed,
    a letter to the person with the explanation, and a prevention action recorded."""
    if upheld and not prevention.strip():
        raise NoticeError("an upheld complaint records the action that prevents a recurrence")
    with audited(store, "foreign", "complaint.review", f"complaint:{complaint_id}",
                 actor=audit_actor(officer), purpose="redress") as note, \
            store.session() as session:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None or complaint.notice_id is None:
            raise NoticeError(f"no such complaint {complaint_id} about a notice")
        wrong = _get(session, officer, complaint.notice_id, "foreign:confirm")  # then state
        if complaint.status != "open":
            raise NoticeError(f"complaint {complaint_id} is {complaint.status}")
        complaint.status = "upheld" if upheld else "dismissed"
        complaint.reviewer, complaint.decided_at = officer.name, now()
        complaint.explanation, complaint.prevention = explanation, prevention
        correction_id = _correct(session, store, officer, wrong, explanation) if upheld else None
        complaint.correction_id = correction_id
        note.detail = complaint.status
    if correction_id is not None and smtp is not None:
        send(store, officer, correction_id, smtp, folder)
    return _letter(store, officer, complaint_id, folder)


def _correct(session: Session, store: Store, officer: Actor, wrong: Notice,
             reason: str) -> int:
    """The correction notice (signed at once) and the fix in every record."""
    body = {"kind": "correction", "country": wrong.country, "corrects": f"N-{wrong.id}",
            "reason": reason, "registry_id": wrong.registry_id}
    correction = Notice(kind="correction", registry_id=wrong.registry_id,
                        subject_ref=wrong.subject_ref, corrects_id=wrong.id,
                        country=wrong.country, channel=wrong.channel, address=wrong.address,
                        language=wrong.language, body=body, agency=wrong.agency,
                        drafted_by=officer.name)
    session.add(correction)
    session.flush()
    correction.body = {**body, "reference": f"N-{correction.id}", "confirmed_by": officer.name}
    correction.signature, correction.key_id = docs.sign(correction.body, store.settings.home)
    correction.status, correction.confirmed_by = "confirmed", officer.name
    correction.confirmed_at = now()
    wrong.status, wrong.corrected_at = "corrected", now()
    if wrong.determination_id is not None:  # the screening record: no longer covered
        det = session.get(Determination, wrong.determination_id)
        assert det is not None
        session.add(Determination(traveller_id=det.traveller_id, registry_id=det.registry_id,
                                  covered=False, basis=f"corrected after complaint: {reason}",
                                  notify=False, no_notice_reason="notice found wrong",
                                  analyst=officer.name))
    try:
        subject = subj.get_subject(session, wrong.subject_ref)
        subj.add_fact(session, subject, subj.FactIn(
            "notice_corrected", f"N-{wrong.id}", "analyst", f"correction:N-{correction.id}",
            now(), 1.0), officer.name)
    except subj.SubjectError:
        pass
    return correction.id


def _letter(store: Store, officer: Actor, complaint_id: int, folder: Path | None
            ) -> dict[str, Any]:
    with store.session() as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None and complaint.notice_id is not None
        notice = session.get(Notice, complaint.notice_id)
        assert notice is not None
        lang = complaint.language
        text = docs.render("letter", lang, {
            "date": docs.local_date(now().date(), lang), "name": complaint.complainant,
            "received": docs.local_date(aware(complaint.received_at).date(), lang),
            "complaint_id": complaint.id, "country": notice.country,
            "notice_date": docs.local_date(aware(notice.sent_at or notice.drafted_at).date(),
                                           lang),
            "upheld": complaint.status == "upheld", "explanation": complaint.explanation,
            "corrected": docs.local_date(now().date(), lang), "prevention": complaint.prevention,
            "signer": officer.name})
        out = (folder or store.settings.home / "letters")
        out.mkdir(parents=True, exist_ok=True)
        path = docs.pdf(text, out / f"C-{complaint.id}-letter.pdf", f"C-{complaint.id}")
        complaint.letter = {"path": str(path), "language": lang, "text": text,
                            "written_at": now().isoformat()}
        return dict(complaint.letter)


def list_notices(store: Store, actor: Actor, status: str | None = None) -> list[dict[str, Any]]:
    """Every notice the actor may see, with where it stands (sent, received, answered,
    before departure, corrected)."""
    from sqlalchemy import select

    with audited(store, "foreign", "notice.list", f"status:{status or '*'}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        stmt = select(Notice).order_by(Notice.id)
        if status:
            stmt = stmt.where(Notice.status == status)
        rows = []
        for n in session.scalars(stmt):
            if not policy.decide(actor, "foreign:read", _resource(n)).allowed:
                continue
            before = (aware(n.sent_at) < aware(n.departure_at)
                      if n.sent_at and n.departure_at else None)
            rows.append({"notice_id": n.id, "kind": n.kind, "country": n.country,
                         "channel": n.channel, "language": n.language, "status": n.status,
                         "registry_id": n.registry_id, "corrects": n.corrects_id,
                         "sent_at": _iso(n.sent_at), "received_at": _iso(n.received_at),
                         "answered_at": _iso(n.answered_at),
                         "departure_at": _iso(n.departure_at), "before_departure": before})
        return rows


def _iso(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value else None
