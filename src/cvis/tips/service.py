"""What the edges (CLI, API) call: leads seen and changed through the policy, audited.

Every function takes the acting person, asks ``policy.require`` for the lead, writes
the change and its audit record in the caller's transaction, and returns plain dicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import TIPS_READ, TIPS_WRITE
from cvis.policy import Actor, NotVisible, Resource
from cvis.tips import deadlines, leads
from cvis.tips.history import audit, event, who
from cvis.tips.models import Lead, LeadCandidate, LeadDeadline, LeadEvent, Tip, TipMessage
from cvis.tips.routing import known_office, national_desk
from cvis.tips.triage import TIERS


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def lead_resource(lead: Lead, national: str, kind: str = "lead") -> Resource:
    return Resource(kind, lead.id, lead.office,
                    {"national": national, "forwarded_to": lead.forwarded_to})


def visible_lead(session: Session, actor: Actor, lead_id: int, right: str = TIPS_READ) -> Lead:
    """The lead, if the policy lets this actor see it; else 'no such lead' (NotVisible)."""
    lead = session.get(Lead, lead_id) if 0 < lead_id < 2**31 else None
    if lead is None:
        raise leads.NoSuchLead(f"no such lead {lead_id}")
    try:
        policy.require(actor, right, lead_resource(lead, national_desk(session)))
    except NotVisible:
        audit(session, actor, "lead.read", f"lead:{lead_id}", outcome="failure",
              detail="not visible")
        raise leads.NoSuchLead(f"no such lead {lead_id}") from None
    return lead


def tip_ids(session: Session, lead_id: int) -> list[int]:
    return list(session.scalars(select(Tip.id).where(Tip.lead_id == lead_id).order_by(Tip.id)))


def lead_row(session: Session, lead: Lead) -> dict[str, Any]:
    """The `cvis lead list` line (design.md contract)."""
    return {"lead_id": lead.id, "tier": lead.tier, "score": lead.score,
            "factors": [{"name": f["name"], "points": f["points"]} for f in lead.factors],
            "office": lead.office, "status": lead.status, "tip_ids": tip_ids(session, lead.id)}


def iter_leads(session: Session, actor: Actor, *, office: str | None = None,
               tier: str | None = None, status: str | None = None,
               overdue_at: datetime | None = None) -> Iterator[Lead]:
    """Leads this actor may see, most urgent first, then oldest."""
    if tier and tier not in TIERS:
        raise leads.LeadError(f"tier must be one of {', '.join(TIERS)}")
    stmt = select(Lead).order_by(Lead.id)
    if office:
        stmt = stmt.where(Lead.office == office)
    if tier:
        stmt = stmt.where(Lead.tier == tier)
    if status:
        stmt = stmt.where(Lead.status == status)
    if overdue_at is not None:
        late = select(LeadDeadline.lead_id).where(LeadDeadline.done_at.is_(None),
                                                  LeadDeadline.due_at <= overdue_at)
        stmt = stmt.where(Lead.id.in_(late))
    national = national_desk(session)
    found = [lead for lead in session.scalars(stmt)
             if policy.decide(actor, TIPS_READ, lead_resource(lead, national)).allowed]
    audit(session, actor, "lead.list", f"office:{office or '*'} tier:{tier or '*'}",
          detail=f"{len(found)} lead(s)")
    rank = {t: i for i, t in enumerate(TIERS)}
    yield from sorted(found, key=lambda lead: (rank.get(lead.tier, 9), lead.id))


def list_leads(session: Session, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
    return [lead_row(session, lead) for lead in iter_leads(session, actor, **filters)]


def _tip_view(tip: Tip) -> dict[str, Any]:
    return {"tip_id": tip.id, "receipt": tip.receipt, "channel": tip.channel,
            "received_at": tip.received_at.isoformat(), "anonymous": tip.anonymous,
            "narrative": tip.narrative, "location": tip.location, "subject": tip.subject,
            "urls": tip.urls, "accounts": tip.accounts, "hashes": tip.hashes,
            "matches": tip.matches, "details": tip.details, "contact": tip.contact,
            "tier": tip.tier, "score": tip.score, "factors": tip.factors}


def show_lead(session: Session, actor: Actor, lead_id: int) -> dict[str, Any]:
    """Everything about a lead a person needs: tips, factors with evidence, history."""
    lead = visible_lead(session, actor, lead_id)
    audit(session, actor, "lead.read", f"lead:{lead.id}")
    tips = session.scalars(select(Tip).where(Tip.lead_id == lead.id).order_by(Tip.id))
    events = session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead.id)
                             .order_by(LeadEvent.at, LeadEvent.id))
    candidates = session.scalars(select(LeadCandidate).where(
        (LeadCandidate.lead_id == lead.id) | (LeadCandidate.other_lead_id == lead.id)))
    dues = session.scalars(select(LeadDeadline).where(LeadDeadline.lead_id == lead.id))
    return lead_row(session, lead) | {
        "factors": lead.factors, "tier_override": lead.tier_override,
        "override_reason": lead.override_reason, "assignee": lead.assignee,
        "forwarded_to": lead.forwarded_to, "outcome": lead.outcome,
        "created_at": lead.created_at.isoformat(),
        "tips": [_tip_view(t) for t in tips],
        "history": [{"at": e.at.isoformat(), "actor": e.actor, "step": e.step,
                     "reason": e.reason, "detail": e.detail} for e in events],
        "candidates": [{"candidate_id": c.id, "leads": [c.lead_id, c.other_lead_id],
                        "basis": c.basis, "status": c.status} for c in candidates],
        "deadlines": [{"kind": d.kind, "due_at": deadlines.aware(d.due_at).isoformat(),
                       "done": d.done_at is not None, "escalated": d.escalated_at is not None}
                      for d in dues],
    }


def take_step(session: Session, actor: Actor, lead_id: int, step: str, reason: str, *,
              assignee: str = "", outcome: str = "", now: datetime | None = None
              ) -> dict[str, Any]:
    """assign (to a person) → accept → action → close (with an outcome); who, when, why."""
    lead = visible_lead(session, actor, lead_id, TIPS_WRITE)
    now = _now(now)
    step = {"assign": "assigned", "accept": "accepted", "action": "actioned",
            "close": "closed"}.get(step, step)
    if step == "assigned":
        if not assignee.strip():
            raise leads.LeadError("say to whom the lead is assigned")
        lead.assignee = assignee.strip()
    if step == "closed":
        if not outcome.strip():
            raise leads.LeadError("a closed lead needs its outcome")
        lead.outcome = outcome.strip()
    leads.move(session, lead, step, who(actor), reason, now,
               **({"assignee": lead.assignee} if step == "assigned" else {}),
               **({"outcome": lead.outcome} if step == "closed" else {}))
    audit(session, actor, f"lead.{step}", f"lead:{lead.id}", detail=reason)
    return lead_row(session, lead)


def change_tier(session: Session, actor: Actor, lead_id: int, tier: str | None, reason: str,
                now: datetime | None = None) -> dict[str, Any]:
    lead = visible_lead(session, actor, lead_id, TIPS_WRITE)
    leads.set_tier(session, lead, tier, who(actor), reason, _now(now))
    audit(session, actor, "lead.tier", f"lead:{lead.id}", detail=f"{lead.tier}: {reason}")
    return lead_row(session, lead)


def reroute(session: Session, actor: Actor, lead_id: int, office: str, reason: str,
            now: datetime | None = None) -> dict[str, Any]:
    """A person sends the lead to another office (which must exist), with a reason."""
    lead = visible_lead(session, actor, lead_id, TIPS_WRITE)
    if not known_office(session, office):
        raise leads.LeadError(f"no such office {office!r}")
    if not reason.strip():
        raise leads.LeadError("a reason is required to re-route a lead")
    before, lead.office = lead.office, office
    event(session, lead, who(actor), "re-routed", reason, at=_now(now), before=before,
          after=office)
    audit(session, actor, "lead.reroute", f"lead:{lead.id}", detail=f"{before} -> {office}")
    return lead_row(session, lead)


def forward(session: Session, actor: Actor, lead_id: int, agency: str, reason: str,
            now: datetime | None = None) -> dict[str, Any]:
    """Forward the lead to another agency, which may then read it."""
    lead = visible_lead(session, actor, lead_id, TIPS_WRITE)
    if not agency.strip() or not reason.strip():
        raise leads.LeadError("forwarding needs the agency and a reason")
    lead.forwarded_to = agency.strip()
    event(session, lead, who(actor), "forwarded", reason, at=_now(now), to=lead.forwarded_to)
    audit(session, actor, "lead.forward", f"lead:{lead.id}", detail=f"to {lead.forwarded_to}")
    return lead_row(session, lead)


def decide_candidate(session: Session, actor: Actor, candidate_id: int, confirm: bool,
                     reason: str, now: datetime | None = None) -> dict[str, Any]:
    """A person confirms (the leads merge) or rejects a resemblance between two leads."""
    candidate = session.get(LeadCandidate, candidate_id) if 0 < candidate_id < 2**31 else None
    if candidate is None:
        raise leads.LeadError(f"no open candidate {candidate_id}")
    for lead_id in (candidate.lead_id, candidate.other_lead_id):
        visible_lead(session, actor, lead_id, TIPS_WRITE)
    leads.decide_candidate(session, candidate_id, confirm, who(actor), reason, _now(now))
    audit(session, actor, "lead.candidate", f"candidate:{candidate_id}",
          detail=("confirmed" if confirm else "rejected") + f": {reason}")
    return {"candidate_id": candidate_id, "status": candidate.status}


def tip_lead(session: Session, actor: Actor, tip_id: int, right: str = TIPS_READ) -> Tip:
    tip = session.get(Tip, tip_id) if 0 < tip_id < 2**31 else None
    if tip is None:
        raise leads.NoSuchLead(f"no such tip {tip_id}")
    lead = session.get_one(Lead, tip.lead_id)
    try:
        policy.require(actor, right, lead_resource(lead, national_desk(session), "tip"))
    except NotVisible:
        raise leads.NoSuchLead(f"no such tip {tip_id}") from None
    return tip


def message_rows(session: Session, tip_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(TipMessage).where(TipMessage.tip_id == tip_id)
                           .order_by(TipMessage.at, TipMessage.id))
    return [{"at": m.at.isoformat(), "direction": m.direction, "author": m.author,
             "body": m.body} for m in rows]
