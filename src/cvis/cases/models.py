"""Casework tables: folder manifests for custody, and which process runs a scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cvis.store.models import Base, utcnow


class EvidenceManifest(Base):
    """A folder's files when it was first scanned: relative path, size and sha256 each.

    A folder has no container hash; this list (and the sha256 of its canonical text)
    is what `cvis evidence verify` recomputes and compares.
    """

    __tablename__ = "evidence_manifests"
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    total_size: Mapped[int] = mapped_column(BigInteger, default=0)
    files: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ScanLease(Base):
    """The process running a scan and when it last stored work: a killed scan is told apart
    from a running one (and shown `interrupted`, not `running` forever)."""

    __tablename__ = "scan_leases"
    scan_id: Mapped[int] = mapped_column(
        ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True
    )
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
