"""The API's own table: who runs each server-side scan, and its heartbeat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cvis.store.models import Base


class ApiScanJob(Base):
    """A scan the API runs on a worker thread; a stale heartbeat means the worker died."""

    __tablename__ = "api_scan_jobs"
    scan_id: Mapped[int] = mapped_column(
        ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True
    )
    agency: Mapped[str] = mapped_column(String(200), default="")
    submitted_by: Mapped[str] = mapped_column(String(200), default="")
    worker: Mapped[str] = mapped_column(String(300), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
