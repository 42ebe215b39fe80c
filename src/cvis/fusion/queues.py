"""Work queues per field office and fugitive team, detainer tracking, the 30-day list.

Outcomes: located, arrested, detainer lodged, removed, not found, wrong person. "Wrong
person" retracts what the link said about the subject and returns the link to review
(a person looks at it again; nothing is decided by the outcome alone).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select

from cvis import policy
from cvis.audit import audited
from cvis.fusion import subjects as subj
from cvis.fusion.common import audit_actor, now
from cvis.fusion.models import Assignment, Detainer, Share
from cvis.fusion.service import (
    Target,
    not_found,
    rank_targets,
    subject_resource,
    visible_subject,
)
from cvis.fusion.targets import load_config
from cvis.policy import Actor
from cvis.store.db import Store

OUTCOMES = ("located", "arrested", "detainer_lodged", "removed", "not_found", "wrong_person")
HIGH_PRIORITY_TIERS = ("critical", "high")  # the 30-day list
DETAINER_STATES = ("draft", "signed", "lodged", "honoured", "declined", "released_before_action")

#: Returns a link to the linkage review queue: (state_dir, link_key, reason) -> None.
Reopen = Callable[[Path, str, str], None]


class QueueError(ValueError):
    pass


def assign(store: Store, actor: Actor, subject_id: str, office: str, team: str = "",
           assignee: str = "", link_key: str = "") -> int:
    with audited(store, "fusion", "queue.assign", f"subject:{subject_id} office:{office}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        subject = visible_subject(session, actor, subject_id, "fusion:write", "assignment")
        row = Assignment(subject_pk=subject.id, office=office, team=team, assignee=assignee,
                         link_key=link_key, created_by=actor.name)
        session.add(row)
        session.flush()
        return row.id


def accept(store: Store, actor: Actor, assignment_id: int) -> None:
    with audited(store, "fusion", "queue.accept", f"assignment:{assignment_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        row = _assignment(session, actor, assignment_id)
        if row.status != "assigned":
            raise QueueError(f"assignment {assignment_id} is {row.status}")
        row.status, row.accepted_at = "accepted", now()
        row.assignee = row.assignee or actor.name


def _assignment(session: object, actor: Actor, assignment_id: int) -> Assignment:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    row = session.get(Assignment, assignment_id)
    if row is None:
        raise not_found("assignment", assignment_id, "fusion:write")
    subject = session.get(subj.Subject, row.subject_pk)
    assert subject is not None
    policy.require(actor, "fusion:write", subject_resource(session, subject, "assignment"))
    return row


def record_outcome(store: Store, actor: Actor, assignment_id: int, outcome: str, note: str = "",
                   *, state_dir: Path | None = None, reopen: Reopen | None = None) -> str:
    """Close the assignment with its outcome; "wrong_person" sends the link back to review."""
    if outcome not in OUTCOMES:
        raise QueueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    with audited(store, "fusion", f"queue.outcome.{outcome}", f"assignment:{assignment_id}",
                 actor=audit_actor(actor), purpose=actor.purpose) as audit_note, \
            store.session() as session:
        row = _assignment(session, actor, assignment_id)
        if row.status == "closed":
            raise QueueError(f"assignment {assignment_id} is already closed")
        row.status, row.outcome, row.note, row.closed_at = "closed", outcome, note, now()
        if outcome != "wrong_person":
            return "closed"
        if not row.link_key:
            raise QueueError("a wrong-person outcome names the link it came from")
        subject = session.get(subj.Subject, row.subject_pk)
        assert subject is not None
        retracted = _retract_link(session, subject, row.link_key, note)
        audit_note.detail = f"{retracted} facts retracted; link {row.link_key} back to review"
    if state_dir is not None:
        (reopen or reopen_link)(state_dir, row.link_key, note or "wrong person")
    return "returned to review"


def _retract_link(session: object, subject: subj.Subject, link_ref: str, note: str) -> int:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    return subj.retract_facts(session, subject, "link", link_ref, f"wrong person: {note}")


def reopen_link(state_dir: Path, link_ref: str, reason: str) -> None:
    """The linkage's public reopen: `link_ref` is "index:record_id"."""
    from cvis.linkage import service as linkage

    index, _, record = link_ref.partition(":")
    linkage.reopen(state_dir, index, record, reason)


def queue(store: Store, actor: Actor, office: str | None = None) -> list[Assignment]:
    with audited(store, "fusion", "queue.read", f"office:{office or '*'}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        stmt = select(Assignment).where(Assignment.status != "closed")
        if office:
            stmt = stmt.where(Assignment.office == office)
        rows = []
        for row in session.scalars(stmt.order_by(Assignment.id)):
            subject = session.get(subj.Subject, row.subject_pk)
            assert subject is not None
            if policy.decide(actor, "fusion:read",
                             subject_resource(session, subject, "assignment")).allowed:
                rows.append(row)
        return rows


def set_detainer(store: Store, actor: Actor, detainer_id: int, status: str) -> None:
    """Sign a draft (an officer), then track it: lodged, honoured, declined, released."""
    if status not in DETAINER_STATES[1:]:
        raise QueueError(f"status must be one of {', '.join(DETAINER_STATES[1:])}")
    with audited(store, "fusion", f"detainer.{status}", f"detainer:{detainer_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        row = session.get(Detainer, detainer_id)
        if row is None:
            raise not_found("detainer", detainer_id, "foreign:confirm")
        subject = session.get(subj.Subject, row.subject_pk)
        assert subject is not None
        policy.require(actor, "foreign:confirm", subject_resource(session, subject, "detainer"))
        if status == "signed":
            if row.status != "draft":
                raise QueueError(f"detainer {detainer_id} is {row.status}, not a draft")
            row.signed_by, row.signed_at = actor.name, now()
        elif row.status == "draft":
            raise QueueError("an unsigned draft cannot be lodged or tracked")
        row.status, row.updated_at = status, now()


def share_high_priority(store: Store, actor: Actor, partners: list[str], today: date,
                        purpose: str, tiers: tuple[str, ...] = HIGH_PRIORITY_TIERS
                        ) -> list[Target]:
    """The 30-day high-priority list: shared (read only) with each partner, each share audited."""
    config = load_config()
    with store.session() as session:  # only what the actor holds may be passed on
        listed = [t for t in rank_targets(session, actor, config, today) if t.tier in tiers
                  and policy.decide(actor, "fusion:write", subject_resource(
                      session, subj.get_subject(session, t.subject_id))).allowed]
    for target in listed:
        for partner in partners:
            with audited(store, "fusion", "target.share", f"subject:{target.subject_id} "
                         f"partner:{partner}", actor=audit_actor(actor), purpose=purpose), \
                    store.session() as session:
                session.add(Share(kind="subject", ref=target.subject_id, partner=partner,
                                  rights=["fusion:read"], purpose=purpose,
                                  shared_by=actor.name))
    return listed
