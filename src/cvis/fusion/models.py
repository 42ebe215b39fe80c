"""Tables for intelligence fusion: subjects and their facts, merges, queues, shares, detainers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cvis.store.models import Base, utcnow

TZ = DateTime(timezone=True)


class Subject(Base):
    """A person as the programme knows them; facts hang off it, merges point at the survivor."""

    __tablename__ = "fusion_subjects"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(40), unique=True)
    agency: Mapped[str] = mapped_column(String(200), default="")
    office: Mapped[str] = mapped_column(String(100), default="")
    merged_into: Mapped[int | None] = mapped_column(
        ForeignKey("fusion_subjects.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class Fact(Base):
    """One thing a source said about a subject; never overwritten, only retracted."""

    __tablename__ = "fusion_facts"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_pk: Mapped[int] = mapped_column(ForeignKey("fusion_subjects.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(60))
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"v": ...}
    source_kind: Mapped[str] = mapped_column(String(30))
    source_ref: Mapped[str] = mapped_column(String(300))
    observed_at: Mapped[datetime] = mapped_column(TZ)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    recorded_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    retracted_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    retraction: Mapped[str] = mapped_column(Text, default="")


class Merge(Base):
    """A proposal that two subjects are one person; a person confirms, and can undo."""

    __tablename__ = "fusion_merges"
    id: Mapped[int] = mapped_column(primary_key=True)
    kept_pk: Mapped[int] = mapped_column(ForeignKey("fusion_subjects.id", ondelete="CASCADE"))
    merged_pk: Mapped[int] = mapped_column(ForeignKey("fusion_subjects.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    proposed_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    undone_by: Mapped[str] = mapped_column(String(200), default="")
    undone_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)


class Assignment(Base):
    """A target in an office's (or a fugitive team's) work queue, and its outcome."""

    __tablename__ = "fusion_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_pk: Mapped[int] = mapped_column(ForeignKey("fusion_subjects.id", ondelete="CASCADE"),
                                            index=True)
    office: Mapped[str] = mapped_column(String(100))
    team: Mapped[str] = mapped_column(String(100), default="")
    assignee: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    outcome: Mapped[str] = mapped_column(String(30), default="")
    link_key: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)


class Share(Base):
    """A subject, case or target list shared with a partner agency, with the rights it holds."""

    __tablename__ = "fusion_shares"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(100), index=True)
    partner: Mapped[str] = mapped_column(String(200))
    rights: Mapped[list[str]] = mapped_column(default=list)
    purpose: Mapped[str] = mapped_column(Text, default="")
    shared_by: Mapped[str] = mapped_column(String(200))
    shared_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    revoked_by: Mapped[str] = mapped_column(String(200), default="")


class Detainer(Base):
    """A detainer request for an inmate due for release: drafted, signed, then tracked."""

    __tablename__ = "fusion_detainers"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_pk: Mapped[int] = mapped_column(ForeignKey("fusion_subjects.id", ondelete="CASCADE"))
    link_key: Mapped[str] = mapped_column(String(100), unique=True)
    release_date: Mapped[date] = mapped_column(Date)
    facility: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(30), default="draft")
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    drafted_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    signed_by: Mapped[str] = mapped_column(String(200), default="")
    signed_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class MonthReport(Base):
    """A monthly protocol's summary (counts, changes, outcomes, top targets) for the pages."""

    __tablename__ = "fusion_months"
    __table_args__ = (UniqueConstraint("agency", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    agency: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_by: Mapped[str] = mapped_column(String(200), default="")
    run_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
