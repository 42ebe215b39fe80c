"""What a person on the desk looks at: queues by office and tier with their deadlines, and a
lead with everything the page needs to act on it.

Both go through ``service`` (the policy decides which leads are seen; the reads are
audited there); this module only gathers the deadlines and orders the queue so the lead
whose deadline comes first (or has passed) is at the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import TIPS_WRITE
from cvis.offices.models import Office
from cvis.policy import Actor
from cvis.tips import leads, service
from cvis.tips.deadlines import aware
from cvis.tips.models import Lead, LeadDeadline, Tip
from cvis.tips.routing import national_desk
from cvis.tips.triage import RANK

STEP_NAMES = {"assigned": "assign", "accepted": "accept", "actioned": "action"}


@dataclass(frozen=True)
class QueueRow:
    """One lead in a queue: its tier, office, status and the deadlines still open."""

    lead_id: int
    tier: str
    score: int
    office: str
    status: str
    assignee: str
    tips: int
    created_at: datetime
    acknowledge_by: datetime | None
    act_by: datetime | None
    overdue: tuple[str, ...]  # the open deadlines that have passed ("acknowledge", "action")

    @property
    def next_due(self) -> datetime | None:
        due = [d for d in (self.acknowledge_by, self.act_by) if d is not None]
        return min(due) if due else None


def _open_deadlines(session: Session, lead_ids: list[int]) -> dict[int, dict[str, datetime]]:
    found: dict[int, dict[str, datetime]] = {}
    if not lead_ids:
        return found
    rows = session.execute(select(LeadDeadline.lead_id, LeadDeadline.kind, LeadDeadline.due_at)
                           .where(LeadDeadline.lead_id.in_(lead_ids),
                                  LeadDeadline.done_at.is_(None)))
    for lead_id, kind, due in rows:
        found.setdefault(lead_id, {})[kind] = aware(due)
    return found


def _tip_counts(session: Session, lead_ids: list[int]) -> dict[int, int]:
    if not lead_ids:
        return {}
    rows = session.execute(select(Tip.lead_id, func.count()).where(Tip.lead_id.in_(lead_ids))
                           .group_by(Tip.lead_id))
    return {lead_id: count for lead_id, count in rows}


def _urgency(row: QueueRow) -> tuple[bool, bool, datetime, int, int]:
    """Overdue first, then the deadline that comes first, then the higher tier."""
    far = datetime.max.replace(tzinfo=UTC)
    return (not row.overdue, row.next_due is None, row.next_due or far, -RANK.get(row.tier, 0),
            row.lead_id)


def queue(session: Session, actor: Actor, *, office: str | None = None,
          tier: str | None = None, status: str | None = None, overdue_only: bool = False,
          include_closed: bool = False, now: datetime | None = None) -> list[QueueRow]:
    """The leads this actor may see, with their open deadlines, most urgent first."""
    now = now or datetime.now(UTC)
    found = [lead for lead in service.iter_leads(
        session, actor, office=office or None, tier=tier or None, status=status or None,
        overdue_at=now if overdue_only else None)
        if include_closed or status == "closed" or lead.status != "closed"]
    ids = [lead.id for lead in found]
    dues, counts = _open_deadlines(session, ids), _tip_counts(session, ids)
    rows = []
    for lead in found:
        due = dues.get(lead.id, {})
        rows.append(QueueRow(
            lead.id, lead.tier, lead.score, lead.office, lead.status, lead.assignee,
            counts.get(lead.id, 0), aware(lead.created_at), due.get("acknowledge"),
            due.get("action"), tuple(k for k in ("acknowledge", "action")
                                     if k in due and due[k] <= now)))
    return sorted(rows, key=_urgency)


def offices(session: Session) -> list[tuple[str, str]]:
    """(office id, name) of every office, for the filters and the re-route choice."""
    return [(o, n) for o, n in session.execute(select(Office.office_id, Office.name)
                                               .order_by(Office.office_id))]


def lead_page(session: Session, actor: Actor, lead_id: int,
              now: datetime | None = None) -> dict[str, Any]:
    """``service.show_lead`` (the policy asked, the read audited) with what a page adds: each
    anonymous tip's questions and answers, the steps open now, which deadlines passed, and
    whether the policy lets this actor change the lead."""
    now = now or datetime.now(UTC)
    lead = service.show_lead(session, actor, lead_id)
    row = session.get_one(Lead, lead_id)
    lead["may_write"] = policy.decide(actor, TIPS_WRITE, service.lead_resource(
        row, national_desk(session))).allowed  # a forwarded-to agency reads, no more
    for tip in lead["tips"]:
        tip["messages"] = service.message_rows(session, tip["tip_id"]) if tip["anonymous"] \
            else []
    lead["next_steps"] = [STEP_NAMES.get(s, s) for s in leads.NEXT.get(lead["status"], ())
                          if s != "triaged"]
    for due in lead["deadlines"]:
        due["overdue"] = not due["done"] and datetime.fromisoformat(due["due_at"]) <= now
    return lead
