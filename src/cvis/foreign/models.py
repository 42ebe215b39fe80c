"""Tables for work with foreign governments: screenings, determinations, notices, redress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cvis.store.models import Base, utcnow

TZ = DateTime(timezone=True)


class Screening(Base):
    """One manifest (or inbound request) screened against the registry."""

    __tablename__ = "travel_screenings"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="manifest")  # manifest | inbound
    manifest_sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(1000), default="")
    registry_sha256: Mapped[str] = mapped_column(String(64), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")
    screened_by: Mapped[str] = mapped_column(String(200))
    screened_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    travellers: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)


class ScreenedTraveller(Base):
    """A traveller as the manifest gave them, with the candidates the linkage proposed."""

    __tablename__ = "travel_travellers"
    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("travel_screenings.id",
                                                         ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    departure_at: Mapped[datetime] = mapped_column(TZ)
    departure_zone: Mapped[str] = mapped_column(String(64), default="")
    destination: Mapped[str] = mapped_column(String(10), default="")
    flight: Mapped[str] = mapped_column(String(20), default="")
    hours_before: Mapped[float] = mapped_column(Float, default=0.0)
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Determination(Base):
    """An analyst's answer on one candidate: covered or not, on what basis, notify or not."""

    __tablename__ = "travel_determinations"
    id: Mapped[int] = mapped_column(primary_key=True)
    traveller_id: Mapped[int] = mapped_column(ForeignKey("travel_travellers.id",
                                                         ondelete="CASCADE"), index=True)
    registry_id: Mapped[str] = mapped_column(String(100))
    covered: Mapped[bool] = mapped_column()
    basis: Mapped[str] = mapped_column(Text)
    notify: Mapped[bool] = mapped_column(default=False)
    no_notice_reason: Mapped[str] = mapped_column(Text, default="")
    analyst: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class Notice(Base):
    """A notice to a foreign government (removal or traveller), and its life."""

    __tablename__ = "foreign_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # removal | traveller | correction
    registry_id: Mapped[str] = mapped_column(String(100), default="")
    subject_ref: Mapped[str] = mapped_column(String(100), default="")
    determination_id: Mapped[int | None] = mapped_column(
        ForeignKey("travel_determinations.id", ondelete="SET NULL"), nullable=True)
    corrects_id: Mapped[int | None] = mapped_column(
        ForeignKey("foreign_notices.id", ondelete="SET NULL"), nullable=True)
    country: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(320), default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signature: Mapped[str] = mapped_column(Text, default="")
    key_id: Mapped[str] = mapped_column(String(64), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")
    departure_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    drafted_by: Mapped[str] = mapped_column(String(200))
    drafted_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    confirmed_by: Mapped[str] = mapped_column(String(200), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    corrected_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)


class Delivery(Base):
    """One attempt to deliver a notice (every attempt kept and audited)."""

    __tablename__ = "foreign_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("foreign_notices.id", ondelete="CASCADE"),
                                           index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")


class Complaint(Base):
    """A complaint about a notice, its review by a deadline, and the redress it led to."""

    __tablename__ = "foreign_complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("foreign_notices.id", ondelete="SET NULL"), nullable=True)
    channel: Mapped[str] = mapped_column(String(20), default="portal")
    complainant: Mapped[str] = mapped_column(String(300))
    contact: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    statement: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(TZ)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|upheld|dismissed
    reviewer: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    explanation: Mapped[str] = mapped_column(Text, default="")
    prevention: Mapped[str] = mapped_column(Text, default="")
    correction_id: Mapped[int | None] = mapped_column(
        ForeignKey("foreign_notices.id", ondelete="SET NULL"), nullable=True)
    letter: Mapped[dict[str, Any]] = mapped_column(default=dict)


class InboundRequest(Base):
    """A foreign government's question about a named traveller, answered after approval."""

    __tablename__ = "foreign_inbound"
    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    traveller: Mapped[dict[str, Any]] = mapped_column(default=dict)
    screening_id: Mapped[int | None] = mapped_column(
        ForeignKey("travel_screenings.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    approver: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    answer: Mapped[dict[str, Any]] = mapped_column(default=dict)
