"""The web application's tables: each examiner's wellbeing settings (created by 0005_web)
and the review screen's undo steps (0006_web2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cvis.store.models import Base, utcnow


class WellbeingSettings(Base):
    """How review screens protect one examiner: blur, greyscale, breaks, a daily cap."""

    __tablename__ = "web_wellbeing"
    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(String(200), unique=True)
    blur: Mapped[bool] = mapped_column(Boolean, default=True)
    greyscale: Mapped[bool] = mapped_column(Boolean, default=True)
    break_minutes: Mapped[int] = mapped_column(Integer, default=20)
    daily_cap: Mapped[int] = mapped_column(Integer, default=300)
    last_break_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)


class UndoStep(Base):
    """A review decision's before-state, so its browser session can take it back (see
    cvis.web.undo); ``undone_at`` once it was."""

    __tablename__ = "web_undo"
    __table_args__ = (Index("ix_web_undo_session_case", "session_id", "case_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(Integer)
    case_number: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(500), default="")
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
