"""The tip line's tables: tips (one per submission), leads (one per subject), their history.

Tips hold what a tipster wrote (descriptions, URLs, hashes), never pictures. An
anonymous tip holds nothing that identifies its sender: no contact, no address of
origin, only the argon2 hash of the passphrase that lets the sender read replies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cvis.store.models import Base, utcnow


class Lead(Base):
    """Everything known about one subject (person, account or URL), with every tip attached."""

    __tablename__ = "tip_leads"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    tier: Mapped[str] = mapped_column(String(20), default="URGENT")
    score: Mapped[int] = mapped_column(Integer, default=0)
    factors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tier_override: Mapped[str | None] = mapped_column(String(20))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    office: Mapped[str] = mapped_column(String(100), default="", index=True)
    forwarded_to: Mapped[str] = mapped_column(String(200), default="")
    assignee: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    actioned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Tip(Base):
    """One submission on one channel, as received (text is stored as given, escaped on output)."""

    __tablename__ = "tips"
    id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200), default="")  # partner name, never an address
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    narrative: Mapped[str] = mapped_column(Text)
    location: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    accounts: Mapped[list[str]] = mapped_column(JSON, default=list)
    hashes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    contact: Mapped[str] = mapped_column(Text, default="")
    passphrase_hash: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[str] = mapped_column(String(20), default="URGENT")
    factors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    matches: Mapped[list[Any]] = mapped_column(JSON, default=list)
    lead_id: Mapped[int] = mapped_column(ForeignKey("tip_leads.id"), index=True)


class LeadKey(Base):
    """What makes two tips one lead: a subject's exact name+DOB, an account, a URL."""

    __tablename__ = "tip_lead_keys"
    __table_args__ = (Index("ix_tip_lead_keys_value", "kind", "value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("tip_leads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(500))


class LeadEvent(Base):
    """One step in a lead's life: who, when, what and why."""

    __tablename__ = "tip_lead_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("tip_leads.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    step: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LeadCandidate(Base):
    """A looser resemblance between two leads' subjects: a person confirms or rejects it."""

    __tablename__ = "tip_lead_candidates"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("tip_leads.id", ondelete="CASCADE"), index=True)
    other_lead_id: Mapped[int] = mapped_column(ForeignKey("tip_leads.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LeadDeadline(Base):
    """The durable due-table the deadline scheduler polls: a reminder, then an escalation."""

    __tablename__ = "tip_lead_deadlines"
    __table_args__ = (Index("ix_tip_deadlines_open", "done_at", "remind_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("tip_leads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "acknowledge" | "action"
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remind_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TipMessage(Base):
    """A question from an investigator to a tipster, or the tipster's answer."""

    __tablename__ = "tip_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    direction: Mapped[str] = mapped_column(String(20))  # "to_tipster" | "from_tipster"
    author: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
