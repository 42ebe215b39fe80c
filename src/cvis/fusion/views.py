"""Read models for the analyst pages: a subject's whole record, queues with their subjects,
detainers with the facts they rest on, the monthly reports. Each function asks the policy
about every subject it shows and writes an audit record, like the rest of the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.audit import audited
from cvis.fusion import service
from cvis.fusion import subjects as subj
from cvis.fusion.common import audit_actor, aware
from cvis.fusion.models import Assignment, Detainer, Merge, MonthReport, Share, Subject
from cvis.fusion.shares import ShareView, share_view, shares_of, subject_resource
from cvis.fusion.targets import load_config, score_facts
from cvis.policy import Actor, Resource
from cvis.store.db import Store

#: Facts an immigration detainer draws on besides the custody record.
REMOVAL_FACTS = ("removable", "removal_country", "nationality", "citizenship")


@dataclass(frozen=True)
class MergeView:
    merge_id: int
    kept: str
    merged: str
    status: str
    evidence: dict[str, Any]
    proposed_at: datetime
    decided_by: str
    undone_by: str


@dataclass(frozen=True)
class AssignmentView:
    assignment_id: int
    subject_id: str
    office: str
    team: str
    assignee: str
    status: str
    outcome: str
    link_key: str
    note: str
    created_at: datetime


@dataclass(frozen=True)
class SubjectRecord:
    """Everything the subject page shows."""

    subject: service.SubjectView
    score: Any  # targets.Score
    merges: list[MergeView]
    assignments: list[AssignmentView]
    shares: list[ShareView]
    may_write: bool


@dataclass(frozen=True)
class DetainerView:
    detainer_id: int
    subject_id: str
    office: str
    link_key: str
    release_date: date
    days_left: int
    facility: str
    status: str
    body: dict[str, Any]
    removal: list[subj.FactView]
    signed_by: str
    signed_at: datetime | None


def _audit(store: Store, actor: Actor, event: str, obj: str) -> Any:
    return audited(store, "fusion", event, obj, actor=audit_actor(actor), purpose=actor.purpose)


def _merges(session: Session, subject: Subject) -> list[MergeView]:
    ids = [s.id for s in subj.members(session, subject)]
    rows = session.scalars(select(Merge).where(
        Merge.kept_pk.in_(ids) | Merge.merged_pk.in_(ids)).order_by(Merge.id))
    names = {s.id: s.subject_id for s in session.scalars(select(Subject))}
    return [MergeView(m.id, names.get(m.kept_pk, "?"), names.get(m.merged_pk, "?"), m.status,
                      m.evidence, aware(m.proposed_at), m.decided_by, m.undone_by)
            for m in rows]


def _assignment(row: Assignment, subject_id: str) -> AssignmentView:
    return AssignmentView(row.id, subject_id, row.office, row.team, row.assignee, row.status,
                          row.outcome, row.link_key, row.note, aware(row.created_at))


def subject_record(store: Store, actor: Actor, subject_id: str, today: date) -> SubjectRecord:
    """The subject with its facts (conflicts side by side), score, merges, queue entries
    and, for those who may change it, its shares."""
    with _audit(store, actor, "subject.read", f"subject:{subject_id}"), \
            store.session() as session:
        subject = service.visible_subject(session, actor, subject_id, "fusion:read")
        facts = subj.facts_of(session, subject)
        view = service.SubjectView(subject.subject_id, subject.office, subject.agency, facts,
                                   subj.conflicts(facts),
                                   [m.subject_id for m in subj.members(session, subject)])
        rows = session.scalars(select(Assignment).where(Assignment.subject_pk == subject.id)
                               .order_by(Assignment.id))
        may_write = policy.decide(actor, "fusion:write",
                                  subject_resource(session, subject)).allowed
        shares = [share_view(s) for s in session.scalars(select(Share).where(
            Share.kind == "subject", Share.ref == subject_id).order_by(Share.id))]
        return SubjectRecord(view, score_facts(facts, load_config(), today),
                             _merges(session, subject),
                             [_assignment(r, subject_id) for r in rows],
                             shares if may_write else [], may_write)


def queue_rows(store: Store, actor: Actor, office: str | None = None
               ) -> tuple[list[AssignmentView], list[AssignmentView]]:
    """Open and closed assignments the actor may see, by office then age."""
    with _audit(store, actor, "queue.read", f"office:{office or '*'}"), \
            store.session() as session:
        stmt = select(Assignment, Subject).join(Subject, Subject.id == Assignment.subject_pk)
        if office:
            stmt = stmt.where(Assignment.office == office)
        opened: list[AssignmentView] = []
        closed: list[AssignmentView] = []
        for row, subject in session.execute(stmt.order_by(Assignment.office, Assignment.id)):
            if service.visible(session, actor, subject, "fusion:read", "assignment"):
                (closed if row.status == "closed" else opened).append(
                    _assignment(row, subject.subject_id))
        return opened, closed


def offices_seen(store: Store, actor: Actor) -> list[str]:
    """Offices of the subjects and assignments the actor may see (for the filters)."""
    with store.session() as session:
        found = {s.office for s in subj.active_subjects(session)
                 if s.office and service.visible(session, actor, s, "fusion:read")}
        found |= {a for (a,) in session.execute(select(Assignment.office).distinct()) if a}
    return sorted(found)


def _detainer(session: Session, row: Detainer, subject: Subject, today: date) -> DetainerView:
    facts = [f for f in subj.facts_of(session, subject) if f.name in REMOVAL_FACTS]
    release = row.release_date
    return DetainerView(row.id, subject.subject_id, subject.office, row.link_key, release,
                        (release - today).days, row.facility, row.status, row.body, facts,
                        row.signed_by, aware(row.signed_at) if row.signed_at else None)


def detainers(store: Store, actor: Actor, today: date) -> list[DetainerView]:
    """Inmates due for release (linked records with a release date) and their detainers."""
    with _audit(store, actor, "detainer.list", "detainers"), store.session() as session:
        rows = session.execute(select(Detainer, Subject).join(
            Subject, Subject.id == Detainer.subject_pk).order_by(Detainer.release_date,
                                                                 Detainer.id))
        return [_detainer(session, d, s, today) for d, s in rows
                if service.visible(session, actor, s, "fusion:read", "detainer")]


def detainer(store: Store, actor: Actor, detainer_id: int, today: date) -> DetainerView:
    with _audit(store, actor, "detainer.read", f"detainer:{detainer_id}"), \
            store.session() as session:
        row = session.get(Detainer, detainer_id)
        subject = session.get(Subject, row.subject_pk) if row else None
        resource = (subject_resource(session, subject, "detainer") if subject
                    else Resource("detainer", detainer_id))
        if row is None or subject is None:
            raise policy.NotVisible(policy.Decision.deny("no such detainer", hide=True),
                                    "fusion:read", resource)
        policy.require(actor, "fusion:read", resource)
        return _detainer(session, row, subject, today)


def _month_resource(row: MonthReport) -> Resource:
    return Resource("fusion_month", row.period, row.agency)


def _months(session: Session, actor: Actor) -> list[MonthReport]:
    rows = session.scalars(select(MonthReport).order_by(MonthReport.period.desc()))
    return [r for r in rows if policy.decide(actor, "fusion:read", _month_resource(r)).allowed]


def month_reports(store: Store, actor: Actor) -> list[tuple[str, datetime, str]]:
    """(period, run at, run by) of the months the actor's agency ran, newest first."""
    with _audit(store, actor, "month.list", "months"), store.session() as session:
        return [(r.period, aware(r.run_at), r.run_by) for r in _months(session, actor)]


def month_report(store: Store, actor: Actor, period: str
                 ) -> tuple[dict[str, Any], list[tuple[str, datetime, str]]]:
    """One month's summary (counts, changes, outcomes, the top of its list), and the
    (period, run at, run by) of every month the actor may read."""
    with _audit(store, actor, "month.read", f"period:{period}"), store.session() as session:
        months = _months(session, actor)
        listed = [(r.period, aware(r.run_at), r.run_by) for r in months]
        for row in months:
            if row.period == period:
                return dict(row.summary), listed
    raise policy.NotVisible(policy.Decision.deny("no such month", hide=True), "fusion:read",
                            Resource("fusion_month", period))


def high_priority_shares(store: Store, actor: Actor, subject_ids: list[str]
                         ) -> dict[str, dict[str, list[str]]]:
    """Subject -> partner -> rights, for the live shares of the listed subjects."""
    with store.session() as session:
        return {sid: shares_of(session, "subject", sid) for sid in subject_ids}


def month_pdf_bytes(summary: dict[str, Any]) -> bytes:
    """The month's PDF (counts, plots, the top of the list), drawn again from its summary."""
    import tempfile
    from pathlib import Path

    from cvis.fusion.report import month_pdf

    top = [service.Target(t["subject_id"], t["rank"], t["tier"], t["score"], t["factors"],
                          t.get("office", ""), t.get("sources", []),
                          t.get("weights_version", "")) for t in summary.get("top", [])]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "month.pdf"
        month_pdf(summary, top, path)
        return path.read_bytes()
