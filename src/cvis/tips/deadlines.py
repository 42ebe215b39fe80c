"""Acknowledge-by and act-by deadlines per tier, kept in a durable due-table.

Each deadline row has a reminder time and a due time; ``run_due`` (called by the
scheduler, or by a test with a fake clock) sends the reminder to the office and,
once the deadline passes, escalates to the duty supervisor, each exactly once. The
rows live in the database beside the lead, written in the same transaction, so a
restart loses nothing and a second scheduler process cannot send twice (a row is
claimed by an UPDATE ... WHERE reminded_at IS NULL before the mail goes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cvis.tips.history import event
from cvis.tips.models import Lead, LeadDeadline

WINDOWS: dict[str, tuple[timedelta, timedelta]] = {  # tier -> (acknowledge, act)
    "IMMEDIATE": (timedelta(minutes=15), timedelta(hours=4)),
    "URGENT": (timedelta(hours=2), timedelta(hours=24)),
    "STANDARD": (timedelta(hours=24), timedelta(days=7)),
    "MONITOR": (timedelta(days=7), timedelta(days=30)),
}
REMIND_AT = 2 / 3  # of the window: a reminder while there is still time to act
SCHEDULER = "cvis-deadlines"


def aware(at: datetime) -> datetime:
    """SQLite hands back naive UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def schedule(session: Session, lead: Lead, now: datetime, new: bool = False) -> None:
    """(Re)write the lead's open deadlines from its tier and status; PAUSED and closed have none.

    Deadlines count from the lead's creation: raising the tier can make one due at once.
    ``new``: the lead was just made and has no deadline yet (nothing to look up or remove).
    """
    if not new:
        session.execute(delete(LeadDeadline).where(LeadDeadline.lead_id == lead.id,
                                                   LeadDeadline.done_at.is_(None),
                                                   LeadDeadline.escalated_at.is_(None)))
    windows = WINDOWS.get(lead.tier)
    if windows is None or lead.status == "closed":
        return
    start = aware(lead.created_at)
    for kind, window, done in (("acknowledge", windows[0], lead.acknowledged_at),
                               ("action", windows[1], lead.actioned_at)):
        if done is None and (new or not _escalated(session, lead.id, kind)):
            session.add(LeadDeadline(lead_id=lead.id, kind=kind, due_at=start + window,
                                     remind_at=start + window * REMIND_AT))


def _escalated(session: Session, lead_id: int, kind: str) -> bool:
    return session.scalar(select(LeadDeadline.id).where(
        LeadDeadline.lead_id == lead_id, LeadDeadline.kind == kind,
        LeadDeadline.done_at.is_(None))) is not None


def complete(session: Session, lead_id: int, kind: str | None, now: datetime) -> None:
    """The step was done: its deadline (or, with kind None, every deadline) is met."""
    stmt = update(LeadDeadline).where(LeadDeadline.lead_id == lead_id,
                                      LeadDeadline.done_at.is_(None))
    if kind:
        stmt = stmt.where(LeadDeadline.kind == kind)
    session.execute(stmt.values(done_at=now))


@dataclass(frozen=True)
class Notice:
    """A reminder or an escalation to send: to whom, about which lead, and what it says."""

    kind: str  # "reminder" | "escalation"
    lead_id: int
    office: str
    tier: str
    deadline: str
    due_at: datetime
    to: str

    @property
    def subject(self) -> str:
        verb = "overdue" if self.kind == "escalation" else "due soon"
        return f"[cvis tips] {self.tier} lead {self.lead_id}: {self.deadline} {verb}"

    @property
    def body(self) -> str:
        return (f"Lead {self.lead_id} ({self.tier}, office {self.office or 'unrouted'}) must be "
                f"{'acknowledged' if self.deadline == 'acknowledge' else 'actioned'} by "
                f"{self.due_at.isoformat()}.\n"
                + ("This deadline has passed; it is escalated to the duty supervisor.\n"
                   if self.kind == "escalation" else "")
                + "Open it with: cvis lead show " + str(self.lead_id) + "\n")


Send = Callable[[Notice], None]
Recipient = Callable[[Session, Lead, str], str]


def run_due(session: Session, now: datetime, send: Send, recipient: Recipient) -> list[Notice]:
    """Send what is due at ``now``: reminders, then escalations, each at most once."""
    sent: list[Notice] = []
    for column, kind in ((LeadDeadline.remind_at, "reminder"),
                         (LeadDeadline.due_at, "escalation")):
        mark = LeadDeadline.reminded_at if kind == "reminder" else LeadDeadline.escalated_at
        rows = session.scalars(select(LeadDeadline).where(
            LeadDeadline.done_at.is_(None), mark.is_(None), column <= now).order_by(column))
        for row in list(rows):
            claimed = session.execute(update(LeadDeadline).where(
                LeadDeadline.id == row.id, mark.is_(None)).values({mark: now}))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another scheduler took it
            lead = session.get_one(Lead, row.lead_id)
            notice = Notice(kind, lead.id, lead.office, lead.tier, row.kind,
                            aware(row.due_at), recipient(session, lead, kind))
            send(notice)
            event(session, lead, SCHEDULER, "escalated" if kind == "escalation" else "reminded",
                  f"{row.kind} deadline {aware(row.due_at).isoformat()}", at=now, to=notice.to)
            sent.append(notice)
    return sent


def overdue(session: Session, now: datetime) -> list[LeadDeadline]:
    return list(session.scalars(select(LeadDeadline).where(
        LeadDeadline.done_at.is_(None), LeadDeadline.due_at <= now).order_by(LeadDeadline.due_at)))
