"""The web application's one table: each examiner's wellbeing settings (created by 0005_web)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
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
