"""A lead's history and the audit record, written in the caller's unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cvis.audit.chain import append_records
from cvis.audit.log import Actor as AuditActor
from cvis.audit.log import AuditEntry, entry_fields
from cvis.policy import Actor
from cvis.store.models import utcnow
from cvis.tips.models import Lead, LeadEvent

COMPONENT = "tips"
ANONYMOUS = "anonymous"


def who(actor: Actor) -> str:
    return f"{actor.name} (as {actor.claimed})" if actor.claimed else actor.name


def event(session: Session, lead: Lead, actor: str, step: str, reason: str = "",
          at: datetime | None = None, **detail: Any) -> LeadEvent:
    """One step in the lead's life: who, when, what and why."""
    row = LeadEvent(lead_id=lead.id, at=at or utcnow(), actor=actor, step=step, reason=reason,
                    detail=detail)
    session.add(row)
    return row


def audit(session: Session, actor: Actor | None, event_name: str, obj: str, *,
          purpose: str = "", outcome: str = "success", detail: str = "",
          client: str = "") -> None:
    """An audit record in the same transaction as the change it describes.

    ``actor`` None is the anonymous public: no name, no agency, no address.
    """
    who_acted = (AuditActor(who(actor), actor.agency, client) if actor is not None
                 else AuditActor(ANONYMOUS, "", ""))
    entry = AuditEntry(COMPONENT, event_name, who_acted, outcome, obj,
                       purpose or (actor.purpose if actor else ""), detail)
    append_records(session, [(entry_fields(entry), utcnow())])
